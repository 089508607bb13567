"""Hosting a Backend as a gRPC service (the twin of the C++ SDK's server.h).

    backend = MyBackend(...)
    sftpgate_sdk.serve(backend, listen="127.0.0.1:7000")  # until SIGTERM

The host serves sftpgate.v1.Backend and grpc.health.v1.Health on a thread
pool: each call, and each open stream (a read-ahead, an upload, a listing),
holds one worker for its duration, so size `max_workers` for the streams
the front end keeps open at once.
"""

import concurrent.futures
import os
import signal
import sys
import threading
import time

import grpc

from .health import HealthServicer
from .proto import health_pb_grpc, pb_grpc
from .servicer import BackendServicer

__all__ = ["ServeOptions", "BackendServer", "start_server", "serve",
           "mutual_tls_server_credentials", "add_port",
           "add_listener_arguments", "listener_options", "serve_service"]

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
    tls_cert, tls_key, tls_client_ca:
                          mutual TLS (PEM file paths): the host's
                          certificate and key, and the CA that callers'
                          certificates must chain to; a caller without such
                          a certificate gets no call through. All three or
                          none; none serves plaintext (only safe on unix:).
    unix_socket_mode:     permissions of a unix socket the host creates:
                          0o600 (this user only), or 0o660 (and its group).
    """

    def __init__(self, listen_address="127.0.0.1:7000", preferred_chunk_size=256 * 1024,
                 max_chunk_size=1024 * 1024, list_batch_size=512, max_workers=64,
                 shutdown_grace=2.0, tls_cert="", tls_key="", tls_client_ca="",
                 unix_socket_mode=0o600):
        self.listen_address = listen_address
        self.preferred_chunk_size = preferred_chunk_size
        self.max_chunk_size = max_chunk_size
        self.list_batch_size = list_batch_size
        self.max_workers = max_workers
        self.shutdown_grace = shutdown_grace
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.tls_client_ca = tls_client_ca
        self.unix_socket_mode = unix_socket_mode


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
        port = add_port(server, options.listen_address, options.tls_cert,
                        options.tls_key, options.tls_client_ca,
                        options.unix_socket_mode)
    except RuntimeError:
        executor.shutdown(wait=False)
        raise
    server.start()
    return BackendServer(server, executor, health, port)


def _read_pem(path, setting, block):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise ValueError("%s: cannot read %r: %s" % (setting, path,
                                                    error.strerror))
    if b"-----BEGIN " not in data or block.encode() not in data:
        raise ValueError("%s: %r holds no PEM %s block" % (setting, path, block))
    return data


def mutual_tls_server_credentials(cert, key, client_ca):
    """Server credentials requiring a client certificate that chains to
    `client_ca` (PEM file paths); None when all three are empty. Raises
    ValueError naming the setting for a partial set or an unreadable or
    non-PEM file."""
    if not (cert or key or client_ca):
        return None
    if not (cert and key and client_ca):
        raise ValueError("mutual TLS needs all of --tls-cert, --tls-key and "
                         "--tls-client-ca (some are missing)")
    return grpc.ssl_server_credentials(
        [(_read_pem(key, "--tls-key", "PRIVATE KEY"),
          _read_pem(cert, "--tls-cert", "CERTIFICATE"))],
        root_certificates=_read_pem(client_ca, "--tls-client-ca", "CERTIFICATE"),
        require_client_auth=True)


def add_port(server, listen_address, tls_cert="", tls_key="", tls_client_ca="",
             unix_socket_mode=0o600):
    """Binds `server` (a grpc.server, not started) to `listen_address`:
    with mutual TLS when the three PEM paths are given (see
    mutual_tls_server_credentials), plaintext otherwise; a unix socket is
    created with `unix_socket_mode` (0o600 or 0o660). Returns the TCP port
    (0 for a unix socket); raises RuntimeError if it cannot bind, ValueError
    for bad TLS files or mode."""
    if unix_socket_mode & ~0o770:
        raise ValueError("the unix socket mode may grant the owner and group "
                         "only (e.g. 0600, 0660)")
    credentials = mutual_tls_server_credentials(tls_cert, tls_key,
                                                tls_client_ca)
    unix = listen_address.startswith("unix:")
    # gRPC creates the socket file while binding: with this umask it is
    # never reachable by others, not even for a moment.
    previous_umask = os.umask(0o777 & ~unix_socket_mode)
    try:
        if credentials is None:
            port = server.add_insecure_port(listen_address)
        else:
            port = server.add_secure_port(listen_address, credentials)
    except RuntimeError:
        port = 0
    finally:
        os.umask(previous_umask)
    if port == 0 and not unix:
        raise RuntimeError("cannot listen on %s" % listen_address)
    if unix:
        os.chmod(listen_address[len("unix:"):], unix_socket_mode)
        return 0
    return port


def add_listener_arguments(parser):
    """Adds --tls-cert, --tls-key, --tls-client-ca and --socket-mode to an
    argparse parser (the flags of every Python host; see add_port)."""
    parser.add_argument("--tls-cert", default="",
                        help="mutual TLS: this service's certificate (PEM); "
                        "with --tls-key and --tls-client-ca, callers without "
                        "a certificate from that CA get nothing")
    parser.add_argument("--tls-key", default="",
                        help="mutual TLS: the private key (PEM)")
    parser.add_argument("--tls-client-ca", default="",
                        help="mutual TLS: the CA (PEM) callers' certificates "
                        "must chain to")
    parser.add_argument("--socket-mode", default="0600",
                        type=lambda text: int(text, 8),
                        help="permissions of a unix socket, octal: 0600 "
                        "(this user) or 0660 (and its group); default 0600")


def listener_options(args):
    """The add_port()/ServeOptions keyword arguments from parsed
    add_listener_arguments() flags."""
    return {"tls_cert": args.tls_cert, "tls_key": args.tls_key,
            "tls_client_ca": args.tls_client_ca,
            "unix_socket_mode": args.socket_mode}


def serve_service(server, listen_address, name, on_hup=None, grace=2.0,
                  **listener_kwargs):
    """Runs any gRPC service host (an authenticator, an events consumer)
    the way the backend hosts run: binds `server` (a grpc.server with its
    servicers added, not started) with add_port(**listener_kwargs), prints
    "listening on ADDR" to stderr (the real port when ADDR asked for port
    0), serves until SIGTERM or SIGINT, then stops within `grace` seconds.
    SIGHUP calls `on_hup` when given. Call it from the main thread; a bind
    or TLS error ends the program with one line naming `name`."""
    try:
        port = add_port(server, listen_address, **listener_kwargs)
    except (RuntimeError, ValueError) as error:
        raise SystemExit("%s: %s" % (name, error))
    server.start()
    print("listening on " + _bound_address(listen_address, port),
          file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if on_hup is not None:
        signal.signal(signal.SIGHUP, lambda *_: on_hup())
    stop.wait()
    server.stop(grace=grace).wait()


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
