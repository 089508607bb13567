"""Protocol corner cases over real SSH channels, against the real front end
and the C++ memory backend (tests/e2e harness), with a raw SFTP client
(raw_sftp.py) so that the exact packets and their timing are the test's:

- OPENDIR followed at once by CLOSE (pipelined before the OPENDIR reply,
  and sent the moment the reply arrives), 150 pairs each way: every
  request id gets exactly one reply, and afterwards nothing is left in
  flight and no backend ListDir stream stays open (/metrics);
- a READ at end of file on a handle whose file another session has
  appended to since gets the new bytes, not an EOF remembered from before.

Run: SFTPGATE_BIN_DIR=build/bin /usr/bin/python3 -m unittest -v \
    test_corner_cases
"""

import collections
import re
import time
import unittest
import urllib.request

from hostile_gate import HOST, GateTestCase, HostileGate
from raw_sftp import (CLOSE, DATA, FX_EOF, FX_OK, FXF_READ, HANDLE, NAME,
                      OPEN, OPENDIR, READ, READDIR, REALPATH, STATUS, RawSftp,
                      request, string, u32, u64, NO_ATTRS)

PAIRS = 150
# Low enough that requests leaked in flight would stop the session.
MAX_IN_FLIGHT = 32
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$")


def wait_until(predicate, timeout=30.0):
    """Polls `predicate` until it is true or `timeout` passed; its last
    value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.02)


class CornerCasesTest(GateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.gate = HostileGate("memory", gate_flags=[
            "--metrics-listen=127.0.0.1:0",
            f"--max-in-flight={MAX_IN_FLIGHT}"])
        cls.addClassCleanup(cls.gate.cleanup)
        cls.gate.start()
        match = cls.gate.wait_for_gate_log(
            r"metrics_endpoint address=127\.0\.0\.1 port=(\d+)")
        cls.metrics_url = f"http://127.0.0.1:{match.group(1)}/metrics"

    def setUp(self):
        super().setUp()
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            s.transport.close()

    def raw(self, user="alice"):
        u = self.gate.user(user)
        s = RawSftp(HOST, self.gate.port, u.name, u.password)
        self.sessions.append(s)
        s.init()
        return s

    def metric(self, series):
        with urllib.request.urlopen(self.metrics_url, timeout=10) as r:
            text = r.read().decode()
        for line in text.splitlines():
            match = SAMPLE.match(line)
            if match and match.group(1) == series:
                return float(match.group(2))
        return 0.0

    def read_replies(self, s, counts, until):
        """Reads replies into `counts` (id -> how many) until `until()`."""
        while not until():
            reply = s.read_packet(timeout=30)
            self.assertIsNotNone(reply, "channel closed")
            counts[reply.id] += 1
            yield reply

    def test_opendir_then_close_is_always_answered(self):
        with self.gate.paramiko("alice") as sftp:
            sftp.mkdir("/listed")
            for name in ("a", "b", "c"):
                with sftp.open(f"/listed/{name}", "wb") as f:
                    f.write(name.encode())
        s = self.raw()
        counts = collections.Counter()
        # Handles are a per-session counter from 1; a pipelining client
        # names the handle before it is told.
        batch = b""
        for k in range(PAIRS):
            batch += request(OPENDIR, 2 * k + 1, string("/listed"))
            batch += request(CLOSE, 2 * k + 2, string(str(k + 1)))
        s.send(batch)
        first = set(range(1, 2 * PAIRS + 1))
        for reply in self.read_replies(s, counts,
                                       lambda: first <= set(counts)):
            if reply.type == STATUS and reply.id % 2 == 0:
                self.assertEqual(reply.status, FX_OK, repr(reply))
            elif reply.id % 2 == 1:
                self.assertEqual(reply.type, HANDLE, repr(reply))

        # Then each CLOSE sent the moment its OPENDIR's reply arrives,
        # while the other OPENDIRs are still in flight.
        base = 2 * PAIRS
        s.send(b"".join(request(OPENDIR, base + 1 + k, string("/listed"))
                        for k in range(PAIRS)))
        second = set(range(base + 1, base + 2 * PAIRS + 1))
        for reply in self.read_replies(s, counts,
                                       lambda: second <= set(counts)):
            if reply.id <= base + PAIRS:
                self.assertEqual(reply.type, HANDLE, repr(reply))
                s.send(request(CLOSE, reply.id + PAIRS,
                               string(reply.handle)))
            else:
                self.assertEqual(reply.status, FX_OK, repr(reply))

        # Nothing answered twice: a last request's reply comes next.
        last = base + 2 * PAIRS + 1
        s.send(request(REALPATH, last, string(".")))
        list(self.read_replies(s, counts, lambda: last in counts))
        self.assertEqual({i: n for i, n in counts.items() if n != 1}, {})
        self.assertEqual(len(counts), last)

        # Nothing left in flight, no listing left open at the backend.
        self.assertEqual(wait_until(
            lambda: self.metric("sftpgate_requests_in_flight") == 0), True)
        self.assertEqual(wait_until(lambda: self.metric(
            'sftpgate_backend_streams_open{method="ListDir"}') == 0), True)
        # The session still works at its tight in-flight limit.
        s._next_id = last + 1  # pylint: disable=protected-access
        opened = s.call(OPENDIR, string("/listed"))
        self.assertEqual(opened.type, HANDLE, repr(opened))
        listed = s.call(READDIR, string(opened.handle))
        self.assertEqual(listed.type, NAME, repr(listed))
        self.assertEqual(s.call(READDIR, string(opened.handle)).status,
                         FX_EOF)
        self.assertEqual(s.call(CLOSE, string(opened.handle)).status, FX_OK)

    def test_read_at_eof_sees_what_another_session_appended(self):
        first, more = b"a" * 1000, b"b" * 300
        with self.gate.paramiko("alice") as writer:
            with writer.open("/grows.bin", "wb") as f:
                f.write(first)
            reader = self.raw()
            opened = reader.call(OPEN, string("/grows.bin"), u32(FXF_READ),
                                 NO_ATTRS)
            self.assertEqual(opened.type, HANDLE, repr(opened))
            h = string(opened.handle)
            got = reader.call(READ, h, u64(0), u32(4096))
            self.assertEqual((got.type, got.data), (DATA, first))
            at_end = reader.call(READ, h, u64(len(first)), u32(4096))
            self.assertEqual((at_end.type, at_end.status), (STATUS, FX_EOF))
            # The other session appends and closes (committed).
            with writer.open("/grows.bin", "ab") as f:
                f.write(more)
            grown = reader.call(READ, h, u64(len(first)), u32(4096))
            self.assertEqual(grown.type, DATA, repr(grown))
            self.assertEqual(grown.data, more)
            end = reader.call(READ, h, u64(len(first) + len(more)),
                              u32(4096))
            self.assertEqual((end.type, end.status), (STATUS, FX_EOF))
            self.assertEqual(reader.call(CLOSE, h).status, FX_OK)


if __name__ == "__main__":
    unittest.main()
