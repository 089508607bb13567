"""PROXY protocol (v1 and v2) on the SSH listener, with a real HAProxy
(send-proxy-v2 and send-proxy) in front of the real binary, and raw
sockets sending malformed, truncated and oversized headers.

HAProxy listens on 127.0.0.1 and connects to sftpgate from 127.0.0.1, the
only allowed proxy source; clients connect to HAProxy from other loopback
addresses (127.0.0.5, ...), so the address sftpgate logs, bans and sends
to the backend tells the real client from the balancer."""

import os
import re
import socket
import struct
import subprocess
import time
import unittest

import paramiko

from ops_harness import HOST, OpsTestCase, Process, wait_until

PASSWORD = "alice-Proxy-42"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(command=1, family=0x11, source=("203.0.113.9", 40001),
              destination=("127.0.0.1", 22), extra=b"", length=None):
    """A PROXY v2 header (PROXY over TCP4 by default)."""
    body = b""
    if family == 0x11:
        body = (socket.inet_aton(source[0]) + socket.inet_aton(destination[0])
                + struct.pack(">HH", source[1], destination[1]))
    elif family == 0x21:
        body = (socket.inet_pton(socket.AF_INET6, source[0]) +
                socket.inet_pton(socket.AF_INET6, destination[0]) +
                struct.pack(">HH", source[1], destination[1]))
    body += extra
    return (V2_SIGNATURE + bytes([0x20 | command, family]) +
            struct.pack(">H", len(body) if length is None else length) + body)


class ProxyProtocolTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", PASSWORD)

    def start(self, sources="127.0.0.1/32", extra=()):
        return self.start_gate(self.start_memory_backend(), [
            "--proxy-protocol=required",
            "--proxy-protocol-sources=" + sources,
            "--proxy-protocol-timeout-ms=1500",
            "--metrics-listen=127.0.0.1:0"] + list(extra))

    def start_haproxy(self):
        """HAProxy with two TCP frontends: v2 (with health checks that send
        a LOCAL header) and v1. Returns (v2 port, v1 port)."""
        # HAProxy listens on sockets bound here to port 0 and inherited
        # ("fd@N"): the ports are known without picking them beforehand.
        listeners = []
        for _ in range(2):
            listener = socket.socket()
            self.addCleanup(listener.close)
            listener.bind((HOST, 0))
            listeners.append(listener)
        ports = tuple(l.getsockname()[1] for l in listeners)
        config = self.path("haproxy.cfg")
        with open(config, "w") as f:
            f.write("\n".join([
                "global", "  maxconn 100",
                "defaults", "  mode tcp", "  timeout connect 5s",
                "  timeout client 60s", "  timeout server 60s",
                "frontend v2", "  bind fd@%d" % listeners[0].fileno(),
                "  default_backend gate_v2",
                "frontend v1", "  bind fd@%d" % listeners[1].fileno(),
                "  default_backend gate_v1",
                "backend gate_v2",
                "  server gate 127.0.0.1:%d send-proxy-v2 check "
                "check-send-proxy inter 300" % self.port,
                "backend gate_v1",
                "  server gate 127.0.0.1:%d send-proxy" % self.port, ""]))
        process = Process(["haproxy", "-db", "-f", config],
                          self.path("haproxy.log"),
                          pass_fds=[l.fileno() for l in listeners])
        self.processes.append(process)

        def listening():
            for port in ports:
                try:
                    socket.create_connection((HOST, port), timeout=1).close()
                except OSError:
                    return False
            return True

        self.assertTrue(wait_until(listening, timeout=20), process.log())
        return ports

    def connect(self, port=None, source=None):
        return socket.create_connection(
            (HOST, port or self.port), timeout=10,
            source_address=(source, 0) if source else None)

    def login_over(self, sock, password=PASSWORD):
        transport = paramiko.Transport(sock)
        self.clients.append(transport)
        transport.start_client(timeout=10)
        transport.auth_password("alice", password)
        return transport

    def metric(self, result):
        import urllib.request  # pylint: disable=import-outside-toplevel
        port = self.gate.wait_for_log(
            r"metrics_endpoint address=127\.0\.0\.1 port=(\d+)").group(1)
        with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port,
                                    timeout=10) as response:
            body = response.read().decode()
        match = re.search(r'^sftpgate_proxy_headers_total\{result="%s"\} (\d+)$'
                          % result, body, re.M)
        self.assertIsNotNone(match, body)
        return int(match.group(1))

    def assert_dropped(self, result, send=b"", source=None):
        """A connection (from `source`) that sends `send` is closed by the
        server without a byte of SSH (no banner), counted as `result`."""
        before = self.metric(result)
        sock = self.connect(source=source)
        try:
            sock.sendall(send)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at once (untrusted source)
        sock.settimeout(10)
        received = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            pass
        sock.close()
        self.assertEqual(received, b"")
        self.assertTrue(wait_until(lambda: self.metric(result) > before),
                        self.gate.log())

    # ---- real HAProxy ----

    def test_haproxy_v2_and_v1_carry_the_client_address(self):
        self.start()
        v2_port, v1_port = self.start_haproxy()
        for port, source in ((v2_port, "127.0.0.5"), (v1_port, "127.0.0.6")):
            transport = self.login_over(self.connect(port, source))
            sftp = paramiko.SFTPClient.from_transport(transport)
            with sftp.open("/from-%s" % source, "wb") as f:
                f.write(b"x")
            self.assertTrue(self.gate.wait_for_log(
                r"auth .*user=alice remote=%s:\d+ .*result=ok" %
                re.escape(source)), self.gate.log())
        self.assertNotRegex(self.gate.log(), r"auth .*remote=127\.0\.0\.1:")
        # HAProxy's v2 health checks send LOCAL: accepted.
        self.assertTrue(wait_until(lambda: self.metric("local") > 0),
                        self.gate.log())

    def test_bans_hit_the_real_client_not_the_balancer(self):
        self.start(extra=["--auth-max-failures=3", "--auth-ban-seconds=120",
                          "--auth-ban-delay-ms=10"])
        v2_port, _ = self.start_haproxy()
        for _ in range(3):
            # A penalty is counted when a connection ends unauthenticated.
            sock = self.connect(v2_port, "127.0.0.7")
            with self.assertRaises(paramiko.AuthenticationException):
                self.login_over(sock, password="wrong")
            self.clients.pop().close()
        self.assertTrue(self.gate.wait_for_log(
            r"auth_ban address=127\.0\.0\.7/32 "), self.gate.log())
        # The banned client is refused; another one behind the same
        # balancer still gets in.
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            self.login_over(self.connect(v2_port, "127.0.0.7"))
        self.login_over(self.connect(v2_port, "127.0.0.8"))

    # ---- raw headers ----

    def test_v2_v1_and_local_headers_from_an_allowed_proxy(self):
        self.start()
        sock = self.connect()
        sock.sendall(v2_header(source=("203.0.113.9", 40001)))
        self.login_over(sock)
        self.assertTrue(self.gate.wait_for_log(
            r"auth .*remote=203\.0\.113\.9:40001 "), self.gate.log())
        sock = self.connect()
        sock.sendall(v2_header(family=0x21, source=("2001:db8::7", 40002),
                               destination=("2001:db8::1", 22),
                               extra=b"\x04\x00\x02id"))  # a TLV, ignored
        self.login_over(sock)
        self.assertTrue(self.gate.wait_for_log(
            r"auth .*remote=\[2001:db8::7\]:40002 "), self.gate.log())
        sock = self.connect()
        sock.sendall(b"PROXY TCP4 198.51.100.4 127.0.0.1 40003 22\r\n")
        self.login_over(sock)
        self.assertTrue(self.gate.wait_for_log(
            r"auth .*remote=198\.51\.100\.4:40003 "), self.gate.log())
        # LOCAL (a balancer's health check) and v1 UNKNOWN: the
        # connection's own address.
        for header in (v2_header(command=0, family=0), b"PROXY UNKNOWN\r\n"):
            sock = self.connect()
            sock.sendall(header)
            self.login_over(sock)
        self.assertTrue(self.gate.wait_for_log(
            r"auth .*remote=127\.0\.0\.1:\d+ ", count=2), self.gate.log())

    def test_bad_headers_are_dropped_before_the_banner(self):
        self.start()
        cases = [
            ("no header", b"SSH-2.0-OpenSSH_9.2\r\n"),
            ("v1 bad port", b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 22\r\n"),
            ("v1 bad address", b"PROXY TCP4 1.2.3 5.6.7.8 1 22\r\n"),
            ("v1 leading zero", b"PROXY TCP4 1.2.3.04 5.6.7.8 1 22\r\n"),
            ("v1 unknown protocol", b"PROXY UDP4 1.2.3.4 5.6.7.8 1 22\r\n"),
            ("v1 no CRLF in 107 bytes", b"PROXY TCP4 " + b"1" * 120),
            ("v1 bare LF", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 22\nSSH-2.0-x\r\n"),
            ("v2 version 1", v2_header()[:12] + b"\x11" + v2_header()[13:]),
            ("v2 command 2", v2_header(command=2)),
            ("v2 UDP", v2_header(family=0x12)),
            ("v2 short address block", v2_header(length=4)[:20]),
            ("v2 oversized", v2_header(length=5000)),
        ]
        for name, data in cases:
            with self.subTest(name):
                self.assert_dropped("bad_header", data)
        self.assertTrue(self.gate.wait_for_log("proxy_header_rejected"))

    def test_truncated_or_silent_header_times_out(self):
        self.start()
        started = time.monotonic()
        self.assert_dropped("timeout", v2_header()[:20])
        self.assert_dropped("timeout", b"PROXY TCP4 1.2.3.4 ")
        self.assert_dropped("timeout")
        # Three times the 1.5 s deadline, one after the other.
        self.assertLess(time.monotonic() - started, 15)
        # The server still serves proper connections.
        sock = self.connect()
        sock.sendall(v2_header())
        self.login_over(sock)

    def test_headers_from_anyone_else_are_dropped(self):
        self.start(sources="127.0.0.1/32")
        self.assert_dropped("untrusted_source", v2_header(),
                            source="127.0.0.9")
        self.assertTrue(self.gate.wait_for_log(
            r"proxy_header_rejected remote=127\.0\.0\.9:\d+ "
            r"result=untrusted_source"), self.gate.log())

    def test_off_by_default(self):
        # Without the setting a header is just a broken SSH banner.
        self.start_gate(self.start_memory_backend())
        sock = self.connect()
        sock.sendall(v2_header())
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            self.login_over(sock)
        self.login("alice")


if __name__ == "__main__":
    unittest.main()
