"""--run-as: started as root, sftpgate binds its port, reads its keys and
users file, then switches to an unprivileged user for good."""

import os
import pwd
import subprocess
import unittest

from ops_harness import OpsTestCase

PASSWORD = "alice-Secret-42"


def proc_ids(pid):
    """{"Uid": [...], "Gid": [...], "Groups": [...]} from /proc/PID/status."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(v) for v in value.split()]
    return ids


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class RunAsTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", PASSWORD)
        self.nobody = pwd.getpwnam("nobody")

    def test_drops_to_the_user_and_sessions_still_work(self):
        # A TCP backend: the unprivileged server cannot enter the private
        # temporary directory where unix sockets would live.
        backend = self.start_memory_backend(tcp=True)
        self.start_gate(backend, ["--run-as=nobody"])
        self.assertIn("privileges_dropped user=nobody uid=%d gid=%d" %
                      (self.nobody.pw_uid, self.nobody.pw_gid), self.gate.log())
        ids = proc_ids(self.gate.pid)
        self.assertEqual(ids["Uid"], [self.nobody.pw_uid] * 4)
        self.assertEqual(ids["Gid"], [self.nobody.pw_gid] * 4)
        self.assertEqual(ids["Groups"], [self.nobody.pw_gid])
        # The host key was generated before the switch: root's, 0600.
        key = os.stat(self.path("host_key"))
        self.assertEqual((key.st_uid, key.st_mode & 0o777), (0, 0o600))
        # Sessions work: upload and read back through the backend.
        sftp = self.sftp("alice")
        with sftp.open("/hello.txt", "w") as f:
            f.write(b"hello from nobody")
        with sftp.open("/hello.txt") as f:
            self.assertEqual(f.read(), b"hello from nobody")
        self.assertEqual(self.gate.stop(), 0)

    def test_unknown_or_root_user_is_refused(self):
        backend = self.start_memory_backend(tcp=True)
        self.write_users()
        for user, message in (("no-such-user-xyz", 'no user "no-such-user-xyz"'),
                              ("root", "name an unprivileged user"),
                              ("0", "name an unprivileged user")):
            with self.subTest(user=user):
                result = subprocess.run(
                    self.gate_args(backend, ["--run-as=" + user]),
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)


if __name__ == "__main__":
    unittest.main()
