"""Malformed SFTP over a real SSH channel, against the real front end.

sftpgate + the memory backend run as processes (tests/e2e harness). Each
test opens raw "sftp" subsystem channels (raw_sftp.py) and sends broken or
abusive input; it asserts the exact answer: a STATUS with the right code
for the request's id, or a clean end of the channel. Throughout, a second
session (SessionWorker, user bob) does real put/stat/get in a loop: it must
never fail and must keep making progress, and the sftpgate process must
stay alive.

Run: SFTPGATE_BIN_DIR=build/bin /usr/bin/python3 -m unittest -v test_protocol
"""

import os
import socket
import threading
import time
import unittest

from hostile_gate import HOST, GateTestCase, HostileGate, SessionWorker
from raw_sftp import (ATTRS, CLOSE, DATA, EXTENDED, FSETSTAT, FSTAT,
                      FX_BAD_MESSAGE, FX_EOF, FX_FAILURE, FX_NO_SUCH_FILE,
                      FX_OK, FX_OP_UNSUPPORTED, FXF_CREAT, FXF_READ,
                      FXF_TRUNC, FXF_WRITE, HANDLE, INIT, MKDIR, NAME,
                      NO_ATTRS, OPEN, OPENDIR, READ, READDIR, REALPATH,
                      RENAME, SETSTAT, STAT, STATUS, WRITE, RawSftp, packet,
                      request, string, u32, u64)

# The front end's limits (server/sftp/sftp_session.h, SftpLimits).
MAX_PACKET = 256 * 1024 + 1024
MAX_READ = 255 * 1024


class ProtocolTest(GateTestCase):
    """One gate and one background worker for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.gate = HostileGate("memory")
        cls.addClassCleanup(cls.gate.cleanup)
        cls.gate.start()
        cls.worker = SessionWorker(cls.gate)
        cls.worker.start()
        cls.addClassCleanup(cls.worker.stop)
        if not cls.worker.wait_progress(1):
            raise AssertionError("worker did not start: "
                                 f"{cls.worker.errors}\n{cls.gate.log_tail()}")

    def setUp(self):
        super().setUp()
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            try:
                s.close()
            except Exception:  # pylint: disable=broad-except
                pass
        ok = self.worker.wait_progress(2)
        alive = self.gate.gate_proc().poll() is None
        if not ok or not alive:
            self.fail(f"after {self.id()}: worker ok={ok} "
                      f"errors={self.worker.errors} sftpgate alive={alive}\n"
                      f"{self.gate.log_tail(self._log_start)}")

    # ----- helpers -----

    def raw(self, init=True, user="alice"):
        u = self.gate.user(user)
        s = RawSftp(HOST, self.gate.port, u.name, u.password)
        self.sessions.append(s)
        if init:
            s.init()
        return s

    def assertStatus(self, reply, code, rid=None):
        self.assertIsNotNone(reply, "channel closed instead of a STATUS")
        self.assertEqual(reply.type, STATUS, f"expected STATUS, got {reply!r}")
        self.assertEqual(reply.status, code, repr(reply))
        if rid is not None:
            self.assertEqual(reply.id, rid)

    def assertClosed(self, s, why):
        replies = s.wait_closed(timeout=30)
        self.assertEqual(replies, [], f"{why}: replies before the close")

    def assertStillServes(self, s):
        """The session answers a valid request."""
        reply = s.call(STAT, string("/"))
        self.assertEqual(reply.type, ATTRS, repr(reply))

    def upload(self, s, path, data):
        reply = s.call(OPEN, string(path), u32(FXF_WRITE | FXF_CREAT |
                                               FXF_TRUNC), NO_ATTRS)
        handle = reply.handle
        for off in range(0, len(data), 200 * 1024):
            self.assertStatus(s.call(WRITE, string(handle), u64(off),
                                     string(data[off:off + 200 * 1024])),
                              FX_OK)
        self.assertStatus(s.call(CLOSE, string(handle)), FX_OK)

    # ----- cases -----

    def test_truncated_fields(self):
        s = self.raw()
        h = self.raw().call(OPENDIR, string("/")).handle
        cases = {
            "STAT without path": request(STAT, 11),
            "STAT, half a length": request(STAT, 12, b"\x00\x00"),
            "OPEN without pflags": request(OPEN, 13, string("/t")),
            "OPEN without attrs": request(OPEN, 14, string("/t"),
                                          u32(FXF_READ)),
            "OPEN, attrs without size": request(OPEN, 15, string("/t"),
                                                u32(FXF_READ), u32(1)),
            "READ without length": request(READ, 16, string(h), u64(0)),
            "READ, half an offset": request(READ, 17, string(h), b"\0" * 4),
            "WRITE without data": request(WRITE, 18, string(h), u64(0)),
            "SETSTAT without attrs": request(SETSTAT, 19, string("/")),
            "RENAME without target": request(RENAME, 20, string("/a")),
            "EXTENDED without name": request(EXTENDED, 21),
            "posix-rename, one path": request(
                EXTENDED, 22, string("posix-rename@openssh.com"),
                string("/a")),
            "copy-data, no offsets": request(
                EXTENDED, 23, string("copy-data"), string(h)),
        }
        for what, data in cases.items():
            with self.subTest(what):
                s.send(data)
                reply = s.read_packet()
                self.assertStatus(reply, FX_BAD_MESSAGE)
                self.assertEqual(reply.id, int.from_bytes(data[5:9], "big"))
        self.assertStillServes(s)

    def test_packet_length_zero_one_and_max(self):
        for length, why in ((0, "length 0"), (1, "length 1"),
                            (4, "length 4 (no room for an id)"),
                            (MAX_PACKET + 1, "one byte over the limit"),
                            (0xFFFFFFFF, "length 2^32-1")):
            with self.subTest(why):
                s = self.raw()
                s.send(u32(length) + bytes([STAT]) + b"\0" * 16)
                self.assertClosed(s, why)
        with self.subTest("length 0 before INIT"):
            s = self.raw(init=False)
            s.send(u32(0))
            self.assertClosed(s, "length 0 before INIT")

    def test_largest_packet_is_accepted(self):
        # Exactly the limit: a WRITE of the largest size is served.
        s = self.raw()
        handle = s.call(OPEN, string("/max.bin"), u32(FXF_WRITE | FXF_CREAT |
                                                      FXF_TRUNC),
                        NO_ATTRS).handle
        overhead = 1 + 4 + 4 + len(handle) + 8 + 4
        data = os.urandom(MAX_PACKET - overhead)
        self.assertStatus(s.call(WRITE, string(handle), u64(0), string(data)),
                          FX_OK)
        self.assertStatus(s.call(CLOSE, string(handle)), FX_OK)

    def test_strings_longer_than_packet(self):
        s = self.raw()
        cases = {
            "path length 1000 in 20 bytes": packet(
                STAT, u32(31) + u32(1000) + b"/short"),
            "path length 2^32-1": packet(
                STAT, u32(32) + u32(0xFFFFFFFF) + b"/x"),
            "handle longer than packet": packet(
                READ, u32(33) + u32(64) + b"h" * 8),
            "WRITE data longer than packet": packet(
                WRITE, u32(34) + string("h") + u64(0) + u32(1 << 20) + b"d"),
            "attrs extension count 2^32-1": packet(
                MKDIR, u32(35) + string("/d") + u32(0x80000000) +
                u32(0xFFFFFFFF) + string("a")),
            "extension name length 2^31": packet(
                EXTENDED, u32(36) + u32(1 << 31) + b"posix"),
        }
        for what, data in cases.items():
            with self.subTest(what):
                s.send(data)
                reply = s.read_packet()
                self.assertStatus(reply, FX_BAD_MESSAGE)
                self.assertEqual(reply.id, int.from_bytes(data[5:9], "big"))
        self.assertStillServes(s)

    def test_unknown_and_reserved_types(self):
        s = self.raw()
        # 0 and 21..100 are unassigned; 2 (VERSION), 101..105 (replies),
        # 200-range replies and 255 are not requests a server serves.
        for ptype in (0, 2, 21, 99, 100, 101, 102, 103, 104, 105, 199, 201,
                      202, 255):
            with self.subTest(type=ptype):
                rid = 1000 + ptype
                s.send(request(ptype, rid, string("junk"), u64(7)))
                self.assertStatus(s.read_packet(), FX_OP_UNSUPPORTED, rid)
        with self.subTest("unknown extension"):
            self.assertStatus(s.call_extended("nope@example.com", string("x")),
                              FX_OP_UNSUPPORTED)
        with self.subTest("type only (5 bytes)"):
            s.send(packet(99, u32(77)))
            self.assertStatus(s.read_packet(), FX_OP_UNSUPPORTED, 77)
        self.assertStillServes(s)

    def test_init_twice(self):
        s = self.raw()
        s.send(packet(INIT, u32(3)))
        self.assertClosed(s, "second INIT")

    def test_requests_before_init(self):
        for ptype, body in ((STAT, string("/")), (OPEN, string("/x")),
                            (99, b"")):
            with self.subTest(type=ptype):
                s = self.raw(init=False)
                s.send(request(ptype, 1, body))
                self.assertClosed(s, f"type {ptype} before INIT")

    def test_bogus_and_closed_handles(self):
        s = self.raw()
        for handle in (b"", b"nope", b"\0" * 4, b"h" * 10000):
            for what, fields in (
                    ("READ", (READ, string(handle), u64(0), u32(10))),
                    ("WRITE", (WRITE, string(handle), u64(0), string("x"))),
                    ("FSTAT", (FSTAT, string(handle))),
                    ("FSETSTAT", (FSETSTAT, string(handle), NO_ATTRS)),
                    ("READDIR", (READDIR, string(handle))),
                    ("CLOSE", (CLOSE, string(handle)))):
                with self.subTest(what, handle=handle[:8]):
                    reply = s.call(*fields)
                    self.assertStatus(reply, FX_FAILURE)
                    self.assertIn("handle", reply.message)
        # A handle that was valid and is closed.
        self.upload(s, "/closed.txt", b"some bytes")
        handle = s.call(OPEN, string("/closed.txt"), u32(FXF_READ),
                        NO_ATTRS).handle
        self.assertStatus(s.call(CLOSE, string(handle)), FX_OK)
        for what, fields in (
                ("READ", (READ, string(handle), u64(0), u32(10))),
                ("FSTAT", (FSTAT, string(handle))),
                ("CLOSE again", (CLOSE, string(handle)))):
            with self.subTest(what, handle="closed"):
                self.assertStatus(s.call(*fields), FX_FAILURE)
        # A directory handle used as a file handle and back.
        dh = s.call(OPENDIR, string("/")).handle
        fh = s.call(OPEN, string("/closed.txt"), u32(FXF_READ),
                    NO_ATTRS).handle
        with self.subTest("READ on a directory handle"):
            self.assertStatus(s.call(READ, string(dh), u64(0), u32(10)),
                              FX_FAILURE)
        with self.subTest("READDIR on a file handle"):
            self.assertStatus(s.call(READDIR, string(fh)), FX_FAILURE)
        self.assertStillServes(s)

    def test_handle_exhaustion(self):
        # 300 OPENDIRs pipelined: the first 256 (--max_handles) get handles,
        # the rest FAILURE; closing them frees the slots again.
        s = self.raw()
        s.send(b"".join(request(OPENDIR, 5000 + i, string("/"))
                        for i in range(300)))
        replies = [s.read_packet() for _ in range(300)]
        handles = [r.handle for r in replies if r.type == HANDLE]
        refused = [r for r in replies if r.type == STATUS]
        self.assertEqual(len(handles), 256)
        self.assertEqual(len(refused), 44)
        for r in refused:
            self.assertEqual(r.status, FX_FAILURE, repr(r))
        self.assertEqual(len(set(handles)), 256, "handles are not unique")
        for h in handles:
            self.assertStatus(s.call(CLOSE, string(h)), FX_OK)
        self.assertEqual(s.call(OPENDIR, string("/")).type, HANDLE)

    def test_channel_limit(self):
        # More sftp channels on one connection than --max_channels_per_session
        # (10): the extra ones are refused; the open ones keep working.
        s = self.raw()
        channels = []
        refused = 0
        for _ in range(12):
            try:
                ch = s.transport.open_session(timeout=30)
                ch.invoke_subsystem("sftp")
                channels.append(ch)
            except Exception:  # pylint: disable=broad-except
                refused += 1
        self.assertEqual((1 + len(channels), refused), (10, 3))
        self.assertStillServes(s)
        for ch in channels:
            ch.close()

    def test_read_length_2_31(self):
        s = self.raw()
        data = os.urandom(1 << 20)
        self.upload(s, "/big-read.bin", data)
        handle = s.call(OPEN, string("/big-read.bin"), u32(FXF_READ),
                        NO_ATTRS).handle
        for length in (1 << 31, 0xFFFFFFFF):
            with self.subTest(length=length):
                reply = s.call(READ, string(handle), u64(0), u32(length))
                self.assertEqual(reply.type, DATA, repr(reply))
                got = reply.data
                self.assertGreater(len(got), 0)
                self.assertLessEqual(len(got), MAX_READ)
                self.assertEqual(got, data[:len(got)])
        with self.subTest("offset 2^63, length 2^31"):
            self.assertStatus(s.call(READ, string(handle), u64(1 << 63),
                                     u32(1 << 31)), FX_EOF)
        with self.subTest("length 0"):
            reply = s.call(READ, string(handle), u64(0), u32(0))
            # Nothing asked, nothing sent: an empty DATA or EOF, not a hang.
            self.assertIn(reply.type, (DATA, STATUS), repr(reply))
            if reply.type == DATA:
                self.assertEqual(reply.data, b"")
        self.assertStatus(s.call(CLOSE, string(handle)), FX_OK)

    def test_names_with_nul(self):
        s = self.raw()
        self.assertStatus(s.call(STAT, string(b"/a\0b")), FX_BAD_MESSAGE)
        self.assertStatus(
            s.call(OPEN, string(b"/nul\0/../../evil"),
                   u32(FXF_WRITE | FXF_CREAT | FXF_TRUNC), NO_ATTRS),
            FX_BAD_MESSAGE)
        self.assertStatus(s.call(MKDIR, string(b"/dir\0x"), NO_ATTRS),
                          FX_BAD_MESSAGE)
        self.assertStatus(s.call(RENAME, string("/closed-nul"),
                                 string(b"/to\0")), FX_BAD_MESSAGE)
        self.assertStatus(s.call(REALPATH, string(b"\0")), FX_BAD_MESSAGE)
        # Nothing was created under the part before the NUL.
        for path in ("/nul", "/dir", "/evil", "/to"):
            with self.subTest(path=path):
                self.assertStatus(s.call(STAT, string(path)), FX_NO_SUCH_FILE)
        self.assertStillServes(s)

    def test_100000_pipelined_requests(self):
        s = self.raw()
        total = 100_000
        seen = bytearray(total)
        problems = []

        def read_replies():
            try:
                for _ in range(total):
                    reply = s.read_packet(timeout=120)
                    if reply is None:
                        problems.append("channel closed")
                        return
                    rid = reply.id
                    want = ATTRS if rid % 2 == 0 else NAME
                    if not 0 <= rid < total or seen[rid] or reply.type != want:
                        problems.append(f"unexpected {reply!r}")
                        return
                    seen[rid] = 1
            except Exception as e:  # pylint: disable=broad-except
                problems.append(repr(e))

        reader = threading.Thread(target=read_replies)
        reader.start()
        stat = string("/")
        batch = []
        for rid in range(total):
            if rid % 2 == 0:
                batch.append(request(STAT, rid, stat))
            else:
                batch.append(request(REALPATH, rid, string("./a/../b")))
            if len(batch) == 1000:
                s.send(b"".join(batch))
                batch = []
        reader.join(timeout=600)
        self.assertFalse(reader.is_alive(), "replies stopped coming")
        self.assertEqual(problems, [])
        self.assertEqual(sum(seen), total)
        self.assertStillServes(s)

    def test_client_that_never_reads(self):
        # 300,000 pipelined 255 KiB READs (10 MB of requests, 75 GB of
        # replies) from a client that reads nothing: sftpgate must stop
        # reading the channel (SSH window backpressure) instead of
        # buffering, and keep serving others. Bounded memory, not speed, is
        # asserted.
        s = self.raw()
        self.upload(s, "/never-read.bin", os.urandom(1 << 20))
        handle = s.call(OPEN, string("/never-read.bin"), u32(FXF_READ),
                        NO_ATTRS).handle
        rss_before = self.rss_mib()
        count = 300_000
        flood = b"".join(request(READ, i, string(handle),
                                 u64((i * MAX_READ) % (1 << 20)),
                                 u32(MAX_READ)) for i in range(count))
        sent = []

        def send():
            try:
                s.send(flood)
                sent.append("all")
            except Exception as e:  # pylint: disable=broad-except
                sent.append(repr(e))  # unblocked by the abort below

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        # sftpgate stops reading: it grants no more SSH window, and the
        # sender blocks with the window at 0 (the flood is far larger than
        # any window). Had it read everything, the sender would have ended.
        deadline = time.monotonic() + 120
        while sender.is_alive() and s.channel.out_window_size > 0:
            self.assertLess(time.monotonic(), deadline,
                            "the SSH window never closed")
            time.sleep(0.05)
        self.assertTrue(sender.is_alive(), f"sender ended: {sent}")
        # Others are still served meanwhile, and the window stays shut.
        self.assertTrue(self.worker.wait_progress(3), self.worker.errors)
        self.assertTrue(sender.is_alive(), f"sender ended: {sent}")
        self.assertEqual(s.channel.out_window_size, 0)
        self.assertStillServes(self.raw())
        grown = self.rss_mib() - rss_before
        print(f"\n[hostile] never-reading client: sftpgate RSS "
              f"{rss_before} MiB -> +{grown} MiB")
        self.assertLess(grown, 256, f"sftpgate grew by {grown} MiB")
        s.abort()
        sender.join(timeout=30)

    def rss_mib(self):
        with open(f"/proc/{self.gate.gate_proc().pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        raise AssertionError("no VmRSS")

    def test_slowloris_half_packet(self):
        s = self.raw()
        whole = request(STAT, 4242, string("/"))
        s.send(whole[:7])  # the length, the type and half of the id
        # While it waits, everything else is served: the worker (checked
        # here and in tearDown) and a new session.
        other = self.raw()
        self.assertStillServes(other)
        self.assertTrue(self.worker.wait_progress(3), self.worker.errors)
        self.assertTrue(s.is_open(), "a half packet ended the session")
        # The rest completes the request.
        s.send(whole[7:])
        reply = s.read_packet()
        self.assertEqual((reply.type, reply.id), (ATTRS, 4242), repr(reply))
        # A half packet abandoned by a vanishing client.
        t = self.raw()
        t.send(whole[:5])
        t.abort()
        self.assertStillServes(other)

    def test_slowloris_ssh_banner(self):
        # A TCP client that never finishes its SSH banner must not stop
        # anyone else from logging in and working.
        stalled = []
        for _ in range(5):
            c = socket.create_connection((HOST, self.gate.port), timeout=10)
            c.sendall(b"SSH-2.0-slow")
            stalled.append(c)
        try:
            self.assertStillServes(self.raw())
            self.assertTrue(self.worker.wait_progress(2), self.worker.errors)
        finally:
            for c in stalled:
                c.close()

    def test_connection_churn(self):
        # Short connections from 3 clients at once (log in, INIT, STAT,
        # close): every one must work. Logins, key exchanges and teardowns
        # of different connections overlap on the same event loops.
        failures = []

        def churn(n):
            u = self.gate.user("alice")
            for i in range(n):
                try:
                    with RawSftp(HOST, self.gate.port, u.name,
                                 u.password) as s:
                        s.init()
                        if s.call(STAT, string("/")).type != ATTRS:
                            failures.append(f"#{i}: STAT failed")
                except Exception as e:  # pylint: disable=broad-except
                    failures.append(f"#{i}: {e!r}")

        threads = [threading.Thread(target=churn, args=(60,))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        self.assertEqual(failures, [], f"{len(failures)} of 180 connections "
                         "failed")

    def test_transfers_during_connection_churn(self):
        # Large transfers of one user while others log in and out: the
        # transfers must complete intact.
        data = os.urandom(32 << 20)
        stop = threading.Event()

        def churn():
            u = self.gate.user("alice")
            while not stop.is_set():
                try:
                    with RawSftp(HOST, self.gate.port, u.name,
                                 u.password) as s:
                        s.init()
                except Exception:  # pylint: disable=broad-except
                    pass  # test_connection_churn covers these

        threads = [threading.Thread(target=churn) for _ in range(3)]
        for t in threads:
            t.start()
        results = []
        try:
            for i in range(3):
                try:
                    with self.gate.paramiko("bob") as sftp:
                        with sftp.open(f"/churn-{i}.bin", "wb") as f:
                            f.set_pipelined(True)
                            f.write(data)
                        with sftp.open(f"/churn-{i}.bin", "rb") as f:
                            f.prefetch()
                            got = f.read()
                    results.append("ok" if got == data else "corrupt")
                except Exception as e:  # pylint: disable=broad-except
                    results.append(repr(e))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=120)
        self.assertEqual(results, ["ok"] * 3)

    def test_abrupt_disconnect_mid_stream(self):
        # Requests in flight, then a TCP reset: the session's calls are
        # cancelled; the front end and other sessions carry on.
        for _ in range(3):
            s = self.raw()
            s.send(b"".join(request(STAT, i, string("/")) for i in range(500)))
            s.send(request(OPEN, 999, string("/abrupt.bin"),
                           u32(FXF_WRITE | FXF_CREAT), NO_ATTRS))
            s.abort()
        self.assertStillServes(self.raw())


if __name__ == "__main__":
    unittest.main()
