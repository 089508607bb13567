"""Hosting a Backend as a gRPC service (the twin of the C++ SDK's server.h).

    backend = MyBackend(...)
    sftpgate_sdk.serve(backend, listen="127.0.0.1:7000")  # until SIGTERM

The host serves sftpgate.v1.Backend and grpc.health.v1.Health on a thread
pool: each call, and each open stream (a read-ahead, an upload, a listing),
holds one worker for its duration, so size `max_workers` for the streams
the front end keeps open at once.
"""

import concurrent.futures
import signal
import sys
import threading
import time

import grpc

from .health import HealthServicer
from .proto import health_pb_grpc, pb_grpc
from .servicer import BackendServicer

__all__ = ["ServeOptions", "BackendServer", "start_server", "serve"]

_MESSAGE_OVERHEAD = 64 * 1024  # Room for the fields around a chunk's bytes.
# How long shutdown() reports NOT_SERVING before it stops taking calls
# (within the grace period): health watchers hear of it well within this.
NOT_SERVING_LEAD_SECONDS = 0.3


class ServeOptions:
    """How to host a backend. Every field may be passed to the constructor.

    listen_address:       "host:port" (port 0 picks a free one) or
                          "unix:/path".
    preferred_chunk_size: ReadChunk payload bytes when a Read does not ask
                          for a size; reported by Describe.
    max_chunk_size:       the largest chunk sent or accepted.
    list_batch_size:      entries per ListDirResponse.
    max_workers:          worker threads (calls + open streams at once).
    shutdown_grace:       seconds in-flight calls get to finish on
                          shutdown before they are cancelled (uploads then
                          abort).
    """

    def __init__(self, listen_address="127.0.0.1:7000", preferred_chunk_size=256 * 1024,
                 max_chunk_size=1024 * 1024, list_batch_size=512, max_workers=64,
                 shutdown_grace=2.0):
        self.listen_address = listen_address
        self.preferred_chunk_size = preferred_chunk_size
        self.max_chunk_size = max_chunk_size
        self.list_batch_size = list_batch_size
        self.max_workers = max_workers
        self.shutdown_grace = shutdown_grace


class BackendServer:
    """A running backend service. Thread-safe; built by start_server()."""

    def __init__(self, server, executor, health, port):
        self._server = server
        self._executor = executor
        self._health = health
        self._port = port
        self._lock = threading.Lock()
        self._stopping = False
        self._stopped = threading.Event()

    @property
    def port(self):
        """The TCP port bound (useful with port 0); 0 for unix sockets."""
        return self._port

    def wait(self, timeout=None):
        """Blocks until shutdown() has finished; True if it has."""
        return self._stopped.wait(timeout)

    def shutdown(self, grace=None):
        """Reports NOT_SERVING, goes on taking calls for up to 0.3 s (so
        health-checking clients such as the front end move new calls
        elsewhere first), stops accepting calls, lets in-flight calls run
        until `grace` seconds after the start, cancels the rest (uploads
        abort) and returns once every handler has returned. Idempotent."""
        with self._lock:
            first = not self._stopping
            self._stopping = True
        if not first:
            self._stopped.wait()
            return
        self._health.set_all_not_serving()
        lead = min(grace or 0, NOT_SERVING_LEAD_SECONDS)
        if lead > 0:
            # A call reaching a server already stopping is cancelled, not
            # refused; a cancelled upload cannot be retried elsewhere.
            time.sleep(lead)
        self._server.stop(None if grace is None else grace - lead).wait()
        self._health.close()
        # Handlers of cancelled calls are still unwinding (aborting
        # uploads); wait for them so nothing runs after we return.
        self._executor.shutdown(wait=True)
        self._stopped.set()


def start_server(backend, options=None, capabilities=None):
    """Starts serving `backend` and returns a BackendServer at once.

    `capabilities` defaults to what the backend's class overrides
    (backend.capabilities_of). Raises RuntimeError if the address cannot be
    bound.
    """
    options = options or ServeOptions()
    message_limit = options.max_chunk_size + _MESSAGE_OVERHEAD
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=options.max_workers, thread_name_prefix="sftpgate-backend")
    server = grpc.server(executor, options=[
        ("grpc.max_receive_message_length", message_limit),
        ("grpc.max_send_message_length", message_limit),
        # Without this gRPC binds a port another process holds.
        ("grpc.so_reuseport", 0),
    ])
    pb_grpc.add_BackendServicer_to_server(
        BackendServicer(backend, preferred_chunk_size=options.preferred_chunk_size,
                        max_chunk_size=options.max_chunk_size,
                        list_batch_size=options.list_batch_size,
                        capabilities=capabilities), server)
    health = HealthServicer()
    health_pb_grpc.add_HealthServicer_to_server(health, server)
    try:
        port = server.add_insecure_port(options.listen_address)
    except RuntimeError:
        port = 0
    if port == 0 and not options.listen_address.startswith("unix:"):
        executor.shutdown(wait=False)
        raise RuntimeError("cannot listen on %s" % options.listen_address)
    server.start()
    if options.listen_address.startswith("unix:"):
        port = 0
    return BackendServer(server, executor, health, port)


def _bound_address(listen_address, port):
    if listen_address.startswith("unix:"):
        return listen_address
    host = listen_address.rsplit(":", 1)[0]
    return "%s:%d" % (host, port)


def serve(backend, listen="127.0.0.1:7000", max_workers=64, options=None,
          capabilities=None):
    """Serves `backend` until SIGINT or SIGTERM, then shuts down cleanly.

    Prints "listening on ADDR" to stderr once bound (with the real port when
    `listen` asked for port 0). Call it from the main thread (it installs
    signal handlers). `options` (ServeOptions) overrides `listen` and
    `max_workers` when given. Returns after a clean shutdown; raises
    RuntimeError if the address cannot be bound.
    """
    if options is None:
        options = ServeOptions(listen_address=listen, max_workers=max_workers)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = start_server(backend, options, capabilities)
        print("listening on %s" % _bound_address(options.listen_address, server.port),
              file=sys.stderr, flush=True)
        while not stop.wait(timeout=1.0):
            pass
        server.shutdown(options.shutdown_grace)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
