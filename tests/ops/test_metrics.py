"""--metrics-listen: /metrics (Prometheus text) and /healthz, scraped while
real sessions work: the numbers move."""

import re
import signal
import time
import unittest
import urllib.error
import urllib.request

import paramiko

from ops_harness import OpsTestCase, wait_until

PASSWORD = "alice-Secret-42"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def parse(text):
    """{'name{labels}': value} of a Prometheus text exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, "not a sample line: %r" % line
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


class MetricsTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", PASSWORD)

    def start(self, extra=()):
        backend = self.start_memory_backend()
        self.start_gate(backend, ["--metrics-listen=127.0.0.1:0"] + list(extra))
        match = self.gate.wait_for_log(r"metrics_endpoint address=127\.0\.0\.1 "
                                       r"port=(\d+)")
        self.assertIsNotNone(match, self.gate.log())
        self.metrics_url = "http://127.0.0.1:%s" % match.group(1)
        return backend

    def get(self, path):
        try:
            with urllib.request.urlopen(self.metrics_url + path,
                                        timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def scrape(self):
        status, body = self.get("/metrics")
        self.assertEqual(status, 200)
        return parse(body)

    def test_numbers_move_while_a_session_works(self):
        backend = self.start()
        before = self.scrape()
        self.assertEqual(before['sftpgate_sessions_open'], 0)
        self.assertEqual(before['sftpgate_auth_attempts_total'
                                '{method="password",result="ok"}'], 0)
        # A failed attempt, then a session that uploads and downloads 1 MiB.
        failed = self.transport()
        with self.assertRaises(paramiko.AuthenticationException):
            failed.auth_password("alice", "wrong")
        failed.close()
        self.assertTrue(wait_until(
            lambda: self.scrape()["sftpgate_connections_open"] == 0, 10))
        sftp = self.sftp("alice")
        payload = bytes(range(256)) * 4096
        with sftp.open("/one-mib", "w") as f:
            f.write(payload)
        with sftp.open("/one-mib") as f:
            self.assertEqual(f.read(), payload)
        # A download's read-ahead is counted while its handle is open, and
        # given back when it closes.
        self.assertEqual(self.scrape()["sftpgate_transfer_buffer_bytes"], 0)
        with sftp.open("/one-mib") as f:
            self.assertEqual(f.read(32768), payload[:32768])
            self.assertTrue(wait_until(
                lambda: self.scrape()["sftpgate_transfer_buffer_bytes"] > 0,
                10))
        self.assertTrue(wait_until(
            lambda: self.scrape()["sftpgate_transfer_buffer_bytes"] == 0, 10))
        during = self.scrape()
        self.assertEqual(during["sftpgate_sessions_open"], 1)
        self.assertEqual(during["sftpgate_sessions_total"], 1)
        self.assertEqual(during["sftpgate_connections_open"], 1)
        self.assertEqual(during["sftpgate_connections_total"], 2)
        self.assertEqual(during['sftpgate_auth_attempts_total'
                                '{method="password",result="ok"}'], 1)
        self.assertEqual(during['sftpgate_auth_attempts_total'
                                '{method="password",result="fail"}'], 1)
        self.assertGreaterEqual(
            during['sftpgate_channel_bytes_total{direction="in"}'], len(payload))
        self.assertGreaterEqual(
            during['sftpgate_channel_bytes_total{direction="out"}'], len(payload))
        # The backend's channel is up.
        up = 'sftpgate_backend_up{target="%s"}' % backend
        self.assertTrue(wait_until(lambda: self.scrape().get(up) == 1, 10))
        # The session ends: the gauge comes back down.
        sftp.close()
        self.clients[-2].close()  # its transport
        self.assertTrue(wait_until(
            lambda: self.scrape()["sftpgate_sessions_open"] == 0, 10))

    def test_backend_health_per_target(self):
        # A tenant route to a backend that is not running.
        dead = "unix:" + self.path("nobody-listens.sock")
        backend = self.start(["--tenant-backend=t=" + dead])
        up = 'sftpgate_backend_up{target="%s"}'
        self.assertTrue(wait_until(
            lambda: self.scrape().get(up % backend) == 1, 10),
            self.get("/metrics")[1])
        samples = self.scrape()
        self.assertEqual(samples[up % dead], 0)
        # 3: TRANSIENT_FAILURE (or 1: still connecting).
        self.assertIn(samples['sftpgate_backend_state{target="%s"}' % dead],
                      (1, 3))

    def test_healthz_reports_draining(self):
        self.start(["--shutdown-grace-seconds=30"])
        self.assertEqual(self.get("/healthz"), (200, "ok\n"))
        transport = self.login("alice")
        self.gate.send_signal(signal.SIGTERM)
        self.assertTrue(self.gate.wait_for_log("draining connections=1"))
        self.assertEqual(self.get("/healthz")[0], 503)
        # /metrics still answers while draining.
        self.assertEqual(self.scrape()["sftpgate_sessions_open"], 1)
        transport.close()
        self.assertEqual(self.gate.proc.wait(30), 0)


if __name__ == "__main__":
    unittest.main()
