"""IPv6 end to end: sftpgate and its backend listen on ::1 (port 0 each),
sftpgate reaches the backend at [::1]:PORT, and OpenSSH sftp, scp and
paramiko connect to [::1]."""

import socket
import unittest

import harness

IPV6_HOST = "::1"


def ipv6_loopback_missing():
    """Why ::1 cannot be used here, or "" (a machine without IPv6: an
    environment skip, which fails a CI run unless allow-listed)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind((IPV6_HOST, 0))
    except OSError as error:
        return f"no IPv6 loopback: {error}"
    return ""


class Ipv6Test(harness.GateTestCase):
    GATE_HOST = IPV6_HOST

    @classmethod
    def setUpClass(cls):
        missing = ipv6_loopback_missing()
        if missing:
            raise unittest.SkipTest(missing)
        super().setUpClass()

    def test_servers_listen_and_talk_over_ipv6(self):
        self.assertRegex(self.gate.backend_target, r"^\[::1\]:\d+$")
        self.gate.wait_for_gate_log(r"listening address=::1 port=\d+")

    def test_openssh_sftp_and_scp(self):
        d = self.name("dir")
        src = self.local_file("f.bin", harness.BIG[:700000])
        offsets = self.gate.log_offsets()
        self.gate.sftp_batch("alice", [f"mkdir {d}", f"put {src} {d}/f.bin",
                                       f"get {d}/f.bin f.back"],
                             cwd=self.local)
        self.assertSameFile(self.local_path("f.back"), src)
        # The client came from ::1, as sftpgate saw it.
        self.gate.wait_for_gate_log(r"session_start .*remote=\[::1\]:\d+",
                                    offsets)
        self.gate.scp("alice", f":{d}/f.bin", self.local_path("scp.back"))
        self.assertSameFile(self.local_path("scp.back"), src)

    def test_paramiko(self):
        with self.gate.paramiko("bob") as sftp:
            self.assertEqual(sftp.open("secret.txt").read(), b"bob's secret\n")
            self.assertEqual(sftp.get_channel().getpeername()[0], IPV6_HOST)


harness.parametrize(globals(), Ipv6Test)

if __name__ == "__main__":
    unittest.main()
