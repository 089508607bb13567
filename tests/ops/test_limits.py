"""Connection limits of the sftpgate binary, with real clients: sessions
per user, idle timeout, failed-authentication bans per source address,
and the per-channel SFTP limits (open handles, requests in flight)."""

import re
import struct
import time
import unittest

import paramiko

from ops_harness import OpsTestCase, RawSftp, wait_until

PASSWORD = "alice-Secret-42"


class LimitsTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", PASSWORD)
        self.add_user("bob", "bob-Secret-42")

    def test_max_sessions_per_user(self):
        self.start_gate(self.start_memory_backend(),
                        ["--max-sessions-per-user=2"])
        first = self.login("alice")
        second = self.login("alice")
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("alice")
        self.assertTrue(self.gate.wait_for_log(
            r"session_rejected .*user=alice .*"
            r"reason=\"max_sessions_per_user reached\""))
        # Other users are not affected; the open sessions still work.
        self.login("bob")
        sftp = paramiko.SFTPClient.from_transport(second)
        self.assertEqual(sftp.listdir("/"), [])
        # A slot comes back when a session ends.
        first.close()
        self.assertTrue(self.gate.wait_for_log(r"session_end .*user=alice"))
        self.login("alice")

    def test_idle_session_is_closed_but_not_while_a_request_is_in_flight(self):
        self.start_gate(self.start_test_backend(),
                        ["--idle-timeout-seconds=2"])
        # A STAT that takes 4 s (twice the idle timeout): no traffic meanwhile,
        # but a request in flight keeps the session open until it is answered.
        raw = RawSftp(self.login("alice"))
        started = time.monotonic()
        raw.send_stat(7, "/slow-4")
        kind, request_id, _ = raw.receive()
        self.assertEqual((kind, request_id), (RawSftp.FXP_ATTRS, 7))
        self.assertGreaterEqual(time.monotonic() - started, 3.5)
        # Then nothing happens: the session is closed as idle.
        self.assertTrue(self.gate.wait_for_log(
            r"session_end .*user=alice .*reason=\"idle timeout\"", timeout=15))
        with self.assertRaises((EOFError, OSError)):
            raw.send_stat(8, "/")
            raw.receive()

    def test_sessions_that_keep_working_are_not_idle(self):
        self.start_gate(self.start_memory_backend(),
                        ["--idle-timeout-seconds=2"])
        sftp = self.sftp("alice")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            sftp.listdir("/")
            time.sleep(0.5)
        self.assertNotIn("idle timeout", self.gate.log())

    def test_failed_logins_ban_the_source_address_only(self):
        # 200 wrong passwords from 127.0.0.1, three per connection: each
        # connection that ends unauthenticated is one penalty; after 5 the
        # address is banned, the rest are refused without checking
        # anything, the ban is logged once, and alice still logs in from
        # 127.0.0.2.
        self.start_gate(self.start_memory_backend(),
                        ["--auth-max-failures=5", "--auth-ban-seconds=120",
                         "--auth-ban-delay-ms=20", "--max-auth-tries=3"])
        attempts, refused_connections = 0, 0
        deadline = time.monotonic() + 90
        while attempts < 200 and time.monotonic() < deadline:
            try:
                transport = self.transport(source="127.0.0.1", timeout=5)
            except (paramiko.SSHException, EOFError, OSError):
                attempts += 1
                refused_connections += 1
                continue
            while attempts < 200 and transport.is_active():
                attempts += 1
                try:
                    transport.auth_password("alice", "wrong-%d" % attempts)
                except paramiko.AuthenticationException:
                    pass
                except (paramiko.SSHException, EOFError, OSError):
                    break
            transport.close()
            self.clients.remove(transport)
        self.assertEqual(attempts, 200, "the loop ran out of time")
        log = self.gate.log()
        self.assertEqual(log.count("auth_ban "), 1, log)
        self.assertIn("auth_ban address=127.0.0.1/32 failures=5 "
                      "window_seconds=60 ban_seconds=120", log)
        # Only the attempts of the five penalized connections (and of a
        # sixth that started before the fifth ended) were checked.
        checked = len(re.findall(r"remote=127\.0\.0\.1:\d+ "
                                 r"method=password result=fail", log))
        self.assertGreaterEqual(checked, 15)
        self.assertLessEqual(checked, 18)
        self.assertGreater(refused_connections, 150)
        # The right password from the banned address does not help ...
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            self.login("alice", source="127.0.0.1")
        # ... but from another address it works, SFTP included.
        sftp = self.sftp("alice", source="127.0.0.2")
        self.assertEqual(sftp.listdir("/"), [])
        self.assertTrue(self.gate.wait_for_log(
            r"auth .*user=alice remote=127\.0\.0\.2:\d+ method=password "
            r"result=ok"))

    def test_ban_expires(self):
        self.start_gate(self.start_memory_backend(),
                        ["--auth-max-failures=3", "--auth-ban-seconds=4",
                         "--auth-ban-delay-ms=10"])
        # Before the ban starts: the earliest it may end is 4 s after this.
        started = time.monotonic()
        for attempt in range(3):
            transport = self.transport()
            with self.assertRaises(paramiko.AuthenticationException):
                transport.auth_password("alice", "wrong-%d" % attempt)
            transport.close()
        self.assertTrue(self.gate.wait_for_log(r"auth_ban address=127\.0\.0\.1"))
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            self.login("alice")

        def logs_in():
            try:
                self.login("alice")
                return True
            except (paramiko.SSHException, EOFError, OSError):
                return False
        # Refused logins do not extend the ban: polling ends it on time.
        self.assertTrue(wait_until(logs_in, timeout=30, interval=0.2),
                        self.gate.log())
        self.assertGreaterEqual(time.monotonic() - started, 4.0)

    def test_max_handles_setting(self):
        self.start_gate(self.start_memory_backend(), ["--max-handles=2"])
        sftp = self.sftp("alice")
        first = sftp.open("/a", "w")
        second = sftp.open("/b", "w")
        with self.assertRaises(IOError):
            sftp.open("/c", "w")
        first.close()
        sftp.open("/c", "w").close()
        second.close()

    def test_max_in_flight_setting(self):
        # Eight slow STATs sent at once: the backend sees at most
        # max_in_flight of them at a time.
        for limit, expected_peak in ((2, 2), (128, 8)):
            with self.subTest(limit=limit):
                backend = self.start_test_backend("backend%d" % limit)
                self.start_gate(backend, ["--max-in-flight=%d" % limit])
                raw = RawSftp(self.login("alice"))
                for request_id in range(8):
                    raw.send_stat(request_id, "/slow-0.5")
                replies = sorted(raw.receive()[1] for _ in range(8))
                self.assertEqual(replies, list(range(8)))
                raw.send_stat(100, "/peak")
                kind, _, body = raw.receive()
                self.assertEqual(kind, RawSftp.FXP_ATTRS)
                flags, size = struct.unpack(">IQ", body[:12])
                self.assertTrue(flags & 1)
                self.assertEqual(size, expected_peak)
                self.gate.stop()


if __name__ == "__main__":
    unittest.main()
