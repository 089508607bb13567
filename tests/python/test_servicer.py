"""Tests of the Python SDK's servicer and host over a real gRPC channel.

A scripted Backend records what the servicer hands it; the tests call the
service through a real channel on a free 127.0.0.1 port and check what the
SDK itself is responsible for: request validation, error mapping, Describe
from overrides, batching, chunking, commit on half-close, abort on
cancellation or error, health, and a clean SIGTERM shutdown of serve().
"""

import hashlib
import signal
import socket
import threading
import unittest

import grpc
from google.protobuf.message import Message

import sftpgate_sdk as sdk
from sftpgate_sdk import BackendError, StatusCode, pb
from sftpgate_sdk.proto import health_pb, health_pb_grpc, pb_grpc

import backend_harness as h

FILE_SIZE = 1 << 20
PATTERN = bytes(i % 251 for i in range(FILE_SIZE))
BIG_DIR_ENTRIES = 1300


class _Reader(sdk.FileReader):
    def __init__(self, log, offset):
        self._log, self._offset = log, offset

    def read(self, max_bytes):
        data = PATTERN[self._offset:self._offset + max_bytes]
        self._offset += len(data)
        return data

    def close(self):
        self._log.append("reader closed")


class _Writer(sdk.FileWriter):
    def __init__(self, backend):
        self.backend = backend
        self.writes = []
        self.size = 0

    def write(self, offset, data):
        if data == b"fail":
            raise BackendError(StatusCode.RESOURCE_EXHAUSTED, "disk full")
        self.writes.append((offset, bytes(data)))
        self.size = max(self.size, offset + len(data))
        self.backend.chunk_seen.set()

    def commit(self):
        self.backend.record("commit")
        return self.size

    def abort(self):
        self.backend.record("abort")


class ScriptedBackend(sdk.Backend):
    """Answers from the path; records what happens to uploads."""

    def __init__(self):
        self.events = []
        self.sessions = []
        self.writers = []
        self.done = threading.Condition()
        self.chunk_seen = threading.Event()
        self.list_closed = threading.Event()

    def record(self, event):
        with self.done:
            self.events.append(event)
            self.done.notify_all()

    def wait_event(self, event, timeout=10):
        with self.done:
            return self.done.wait_for(lambda: event in self.events, timeout)

    def name(self):
        return "scripted 0"

    def stat(self, session, path, follow_symlinks):
        self.sessions.append(session)
        if path == "/missing":
            raise BackendError(StatusCode.NOT_FOUND, "no such file")
        if path == "/oserror":
            raise FileExistsError(17, "File exists", "/secret/backend/path")
        if path == "/bug":
            raise RuntimeError("secret internals")
        return pb.Attributes(size=1, mode=sdk.S_IFREG | 0o644)

    def make_dir(self, session, path, attributes):
        self.record("mkdir " + path)

    def list_dir(self, session, path):
        try:
            for i in range(BIG_DIR_ENTRIES if path == "/big" else 3):
                yield pb.DirEntry(name="e%d" % i, attributes=pb.Attributes(size=i))
                if path == "/endless" and i == 2:
                    while True:  # Until the client goes away.
                        yield pb.DirEntry(name="x" * 200)
        finally:
            self.list_closed.set()

    def open_read(self, session, path, offset):
        return _Reader(self.events, offset)

    def open_write(self, session, header):
        if header.path == "/exists":
            raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
        writer = _Writer(self)
        self.writers.append(writer)
        return writer

    # Optional operations: only symlinks (both halves) and realpath.
    def symlink(self, session, link_path, target):
        pass

    def read_link(self, session, path):
        return "target"

    def real_path(self, session, path):
        return path


class RandomWriteBackend(ScriptedBackend):
    def accepts_random_writes(self):
        return True


class ServicerTestBase(unittest.TestCase):
    backend_class = ScriptedBackend

    def setUp(self):
        self.backend = self.backend_class()
        options = sdk.ServeOptions(listen_address="%s:0" % h.HOST, list_batch_size=512,
                                   preferred_chunk_size=256 * 1024,
                                   max_chunk_size=512 * 1024, shutdown_grace=0.5,
                                   max_workers=8)
        self.server = sdk.start_server(self.backend, options)
        self.channel = grpc.insecure_channel("%s:%d" % (h.HOST, self.server.port))
        self.stub = pb_grpc.BackendStub(self.channel)
        self.session = pb.Session(session_id="s1", user="u", root="/")

    def tearDown(self):
        self.channel.close()
        self.server.shutdown()

    def assert_status(self, code, call, *args):
        with self.assertRaises(grpc.RpcError) as ctx:
            result = call(*args)
            if not isinstance(result, Message):
                list(result)  # A server stream: its status comes at the end.
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        return ctx.exception.details()

    def upload(self, path, chunks, flags=pb.WriteHeader.FLAG_CREATE, session=None):
        def messages():
            yield pb.WriteRequest(session=session or self.session,
                                  header=pb.WriteHeader(path=path, flags=flags))
            for offset, data in chunks:
                yield pb.WriteRequest(chunk=pb.WriteChunk(offset=offset, data=data))
            yield pb.WriteRequest(commit=pb.WriteCommit())
        return self.stub.Write(messages(), timeout=10)


class DescribeAndErrorsTest(ServicerTestBase):
    def test_describe_reports_overridden_optionals(self):
        d = self.stub.Describe(pb.DescribeRequest(session=self.session))
        self.assertEqual(d.name, "scripted 0")
        self.assertTrue(d.symlinks)
        self.assertTrue(d.real_path)
        self.assertFalse(d.hard_links)
        self.assertFalse(d.stat_fs)
        self.assertFalse(d.set_stat_no_follow)
        self.assertFalse(d.random_write)
        self.assertEqual(d.preferred_chunk_size, 256 * 1024)
        self.assertEqual(d.max_chunk_size, 512 * 1024)
        self.assertEqual(d.max_list_batch, 512)
        self.assertEqual(list(d.hash_algorithms), [])

    def test_capabilities_follow_subclasses(self):
        class WithLinks(RandomWriteBackend):
            def link(self, session, existing_path, new_path):
                pass
        caps = sdk.capabilities_of(WithLinks())
        self.assertTrue(caps.hard_links and caps.symlinks and caps.real_path)
        self.assertFalse(caps.stat_fs)
        self.assertFalse(sdk.capabilities_of(sdk.Backend()).symlinks)

    def test_not_overridden_optional_is_unimplemented(self):
        self.assert_status(StatusCode.UNIMPLEMENTED, self.stub.Link,
                           pb.LinkRequest(session=self.session, existing_path="/a",
                                          new_path="/b"))
        self.assert_status(StatusCode.UNIMPLEMENTED, self.stub.StatFs,
                           pb.StatFsRequest(session=self.session, path="/"))
        self.assert_status(StatusCode.UNIMPLEMENTED, self.stub.Hash,
                           pb.HashRequest(session=self.session, path="/a",
                                          algorithm=pb.HASH_MD5))

    def test_errors_map_to_statuses(self):
        stat = lambda path: self.stub.Stat(pb.StatRequest(session=self.session, path=path))
        self.assertEqual(self.assert_status(StatusCode.NOT_FOUND, stat, "/missing"),
                         "no such file")
        details = self.assert_status(StatusCode.ALREADY_EXISTS, stat, "/oserror")
        self.assertNotIn("/secret", details)  # OSError filenames stay inside.
        details = self.assert_status(StatusCode.INTERNAL, stat, "/bug")
        self.assertNotIn("secret", details)  # Bugs are not described to clients.

    def test_paths_and_sessions_are_checked(self):
        stat = lambda request: self.stub.Stat(request)
        for bad in ("", "a", "/a/../b", "/a/", "//a", "/a\0b"):
            self.assert_status(StatusCode.INVALID_ARGUMENT, stat,
                               pb.StatRequest(session=self.session, path=bad))
        self.assert_status(StatusCode.INVALID_ARGUMENT, stat, pb.StatRequest(path="/a"))
        self.assert_status(StatusCode.INVALID_ARGUMENT, stat, pb.StatRequest(
            session=pb.Session(root="home/u"), path="/a"))
        self.assert_status(StatusCode.INVALID_ARGUMENT, self.stub.Symlink, pb.SymlinkRequest(
            session=self.session, link_path="/l", target=""))

    def test_empty_root_reads_slash(self):
        self.stub.Stat(pb.StatRequest(session=pb.Session(user="u"), path="/x"))
        self.assertEqual(self.backend.sessions[-1].root, "/")
        self.assertEqual(self.backend.sessions[-1].user, "u")

    def test_read_only_session_cannot_modify(self):
        read_only = pb.Session(session_id="ro", root="/", read_only=True)
        self.stub.Stat(pb.StatRequest(session=read_only, path="/x"))
        self.assert_status(StatusCode.PERMISSION_DENIED, self.stub.MakeDir,
                           pb.MakeDirRequest(session=read_only, path="/d"))
        self.assert_status(StatusCode.PERMISSION_DENIED, self.upload, "/f", [], 1, read_only)
        self.assertEqual(self.backend.events, [])

    def test_health(self):
        health = health_pb_grpc.HealthStub(self.channel)
        for service in ("", "sftpgate.v1.Backend"):
            reply = health.Check(health_pb.HealthCheckRequest(service=service))
            self.assertEqual(reply.status, health_pb.HealthCheckResponse.SERVING)
        self.assert_status(StatusCode.NOT_FOUND, health.Check,
                           health_pb.HealthCheckRequest(service="nope"))


class HashingBackend(ScriptedBackend):
    """Serves SHA-256 (and lists MD5 but cannot give it) of a path's name;
    records the arguments of each call."""

    def hash_algorithms(self):
        return (pb.HASH_SHA256, pb.HASH_MD5)

    def hash(self, session, path, algorithm, offset, length, block_size):
        self.record(("hash", path, algorithm, offset, length, block_size))
        if path == "/bad":
            return ["not bytes"]
        if algorithm == pb.HASH_MD5:
            raise BackendError(StatusCode.UNIMPLEMENTED, "no stored md5")
        return [hashlib.sha256(path.encode()).digest()] * max(1, block_size)


class HashTest(ServicerTestBase):
    backend_class = HashingBackend

    def hash(self, path, algorithm, **kwargs):
        return self.stub.Hash(pb.HashRequest(session=self.session, path=path,
                                             algorithm=algorithm, **kwargs), timeout=10)

    def test_describe_lists_the_algorithms(self):
        d = self.stub.Describe(pb.DescribeRequest(session=self.session))
        self.assertEqual(list(d.hash_algorithms), [pb.HASH_SHA256, pb.HASH_MD5])

    def test_digests_and_arguments_pass_through(self):
        reply = self.hash("/f", pb.HASH_SHA256, offset=5, length=7, block_size=2)
        self.assertEqual(list(reply.digests), [hashlib.sha256(b"/f").digest()] * 2)
        self.assertEqual(self.backend.events,
                         [("hash", "/f", pb.HASH_SHA256, 5, 7, 2)])

    def test_declined_and_unlisted_algorithms_are_unimplemented(self):
        self.assert_status(StatusCode.UNIMPLEMENTED, self.hash, "/f", pb.HASH_MD5)
        # Not listed: refused before the backend sees it.
        self.assert_status(StatusCode.UNIMPLEMENTED, self.hash, "/f", pb.HASH_SHA1)
        self.assertEqual([e[2] for e in self.backend.events], [pb.HASH_MD5])

    def test_requests_are_checked_and_bugs_are_internal(self):
        self.assert_status(StatusCode.INVALID_ARGUMENT, self.hash, "/a/../b",
                           pb.HASH_SHA256)
        self.assert_status(StatusCode.INTERNAL, self.hash, "/bad", pb.HASH_SHA256)


class StreamsTest(ServicerTestBase):
    def test_listing_is_batched(self):
        batches = list(self.stub.ListDir(pb.ListDirRequest(session=self.session, path="/big")))
        self.assertEqual([len(b.entries) for b in batches], [512, 512, 276])
        names = [e.name for b in batches for e in b.entries]
        self.assertEqual(names, ["e%d" % i for i in range(BIG_DIR_ENTRIES)])

    def test_cancelled_listing_closes_the_generator(self):
        stream = self.stub.ListDir(pb.ListDirRequest(session=self.session, path="/endless"))
        next(stream)
        stream.cancel()
        self.assertTrue(self.backend.list_closed.wait(10))

    def read(self, **fields):
        chunks = list(self.stub.Read(pb.ReadRequest(session=self.session, path="/f", **fields)))
        offset = fields.get("offset", 0)
        for chunk in chunks:  # Contiguous, each at its stated offset.
            self.assertEqual(chunk.offset, offset)
            self.assertEqual(chunk.data, PATTERN[offset:offset + len(chunk.data)])
            offset += len(chunk.data)
        return [len(c.data) for c in chunks]

    def test_read_honors_offset_length_and_chunk_size(self):
        self.assertEqual(self.read(offset=10, length=250000, chunk_size=100000),
                         [100000, 100000, 50000])
        self.assertIn("reader closed", self.backend.events)

    def test_read_defaults_and_clamps(self):
        self.assertEqual(self.read(), [256 * 1024] * 4)  # preferred size, to EOF
        self.assertEqual(self.read(chunk_size=4 << 20), [512 * 1024] * 2)  # max
        self.assertEqual(self.read(offset=FILE_SIZE - 5, length=100), [5])
        self.assertEqual(self.read(offset=FILE_SIZE + 10), [])

    def test_write_commits_on_half_close(self):
        reply = self.upload("/f", [(0, b"abc"), (3, b"defg")])
        self.assertEqual(reply.committed_size, 7)
        self.assertEqual(self.backend.writers[0].writes, [(0, b"abc"), (3, b"defg")])
        self.assertEqual(self.backend.events, ["commit"])

    def test_header_only_upload_commits(self):
        self.assertEqual(self.upload("/empty", []).committed_size, 0)
        self.assertEqual(self.backend.events, ["commit"])

    def test_open_error_reaches_client(self):
        self.assert_status(StatusCode.ALREADY_EXISTS, self.upload, "/exists", [(0, b"x")])

    def test_out_of_order_write_aborts(self):
        details = self.assert_status(StatusCode.INVALID_ARGUMENT, self.upload, "/f",
                                     [(0, b"abc"), (10, b"x")])
        self.assertIn("sequential", details)
        self.assertTrue(self.backend.wait_event("abort"))
        self.assertNotIn("commit", self.backend.events)

    def test_write_error_aborts(self):
        self.assert_status(StatusCode.RESOURCE_EXHAUSTED, self.upload, "/f",
                           [(0, b"ok"), (2, b"fail")])
        self.assertTrue(self.backend.wait_event("abort"))
        self.assertNotIn("commit", self.backend.events)

    def test_missing_header_is_invalid(self):
        def messages():
            yield pb.WriteRequest(session=self.session,
                                  chunk=pb.WriteChunk(offset=0, data=b"x"))
        self.assert_status(StatusCode.INVALID_ARGUMENT, self.stub.Write, messages())

    def test_half_close_without_commit_aborts(self):
        def messages():
            yield pb.WriteRequest(session=self.session,
                                  header=pb.WriteHeader(path="/f", flags=1))
            yield pb.WriteRequest(chunk=pb.WriteChunk(offset=0, data=b"x"))
        self.assert_status(StatusCode.ABORTED, self.stub.Write, messages())
        self.assertIn("abort", self.backend.events)
        self.assertNotIn("commit", self.backend.events)

    def test_cancelled_upload_aborts(self):
        # grpc may end the request stream before it reports the
        # cancellation; before the SDK waited for it, about a third of
        # these cancellations were committed. Repeat to catch that race.
        for attempt in range(50):
            del self.backend.events[:]
            self.backend.chunk_seen.clear()
            release = threading.Event()

            def messages():
                yield pb.WriteRequest(session=self.session,
                                      header=pb.WriteHeader(path="/f", flags=1))
                yield pb.WriteRequest(chunk=pb.WriteChunk(offset=0, data=b"partial"))
                release.wait(10)

            future = self.stub.Write.future(messages())
            self.assertTrue(self.backend.chunk_seen.wait(10))
            future.cancel()
            release.set()
            self.assertTrue(self.backend.wait_event("abort"), "attempt %d" % attempt)
            self.assertNotIn("commit", self.backend.events, "attempt %d" % attempt)


class ShutdownTest(ServicerTestBase):
    def test_shutdown_aborts_uploads_in_flight(self):
        release = threading.Event()

        def messages():
            yield pb.WriteRequest(session=self.session,
                                  header=pb.WriteHeader(path="/f", flags=1))
            yield pb.WriteRequest(chunk=pb.WriteChunk(offset=0, data=b"partial"))
            release.wait(10)

        future = self.stub.Write.future(messages())
        self.assertTrue(self.backend.chunk_seen.wait(10))
        self.server.shutdown(grace=0.2)
        release.set()
        # shutdown() returns after every handler has: the abort has run.
        self.assertIn("abort", self.backend.events)
        self.assertNotIn("commit", self.backend.events)
        with self.assertRaises(grpc.RpcError):
            future.result(timeout=10)

    def test_health_reports_not_serving_once_stopping(self):
        health = health_pb_grpc.HealthStub(self.channel)
        watch = health.Watch(health_pb.HealthCheckRequest(service=""))
        self.assertEqual(next(watch).status, health_pb.HealthCheckResponse.SERVING)
        stopper = threading.Thread(target=self.server.shutdown, kwargs={"grace": 1.0})
        stopper.start()
        statuses = []
        try:
            for reply in watch:
                statuses.append(reply.status)
        except grpc.RpcError:
            pass  # The stream ends when the server stops.
        stopper.join(10)
        self.assertEqual(statuses, [health_pb.HealthCheckResponse.NOT_SERVING])


class RandomWritesTest(ServicerTestBase):
    backend_class = RandomWriteBackend

    def test_any_order_accepted(self):
        reply = self.upload("/f", [(10, b"x"), (0, b"abc")])
        self.assertEqual(reply.committed_size, 11)
        d = self.stub.Describe(pb.DescribeRequest(session=self.session))
        self.assertTrue(d.random_write)


class ServeProcessTest(unittest.TestCase):
    def test_sigterm_shuts_down_cleanly(self):
        launcher = h.binary("sftpgate-python-memory-backend")
        with h.Stack("sftpgate-pysdk-") as stack:
            proc = stack.spawn("backend", [launcher, "--listen", "%s:0" % h.HOST])
            address = proc.wait_listening()
            with grpc.insecure_channel(address) as channel:
                health = health_pb_grpc.HealthStub(channel)
                self.assertEqual(health.Check(health_pb.HealthCheckRequest()).status,
                                 health_pb.HealthCheckResponse.SERVING)
            proc.popen.send_signal(signal.SIGTERM)
            self.assertEqual(proc.popen.wait(timeout=20), 0, proc.log_text())

    def test_bind_failure_is_reported(self):
        with socket_holder() as port:
            with self.assertRaises(RuntimeError):
                sdk.start_server(sdk.Backend(), sdk.ServeOptions(
                    listen_address="%s:%d" % (h.HOST, port)))


class socket_holder:
    """Holds a listening TCP port for the duration of a with block."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind((h.HOST, 0))
        self.sock.listen()
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


if __name__ == "__main__":
    unittest.main()
