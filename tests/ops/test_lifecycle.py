"""Signals with real clients: SIGHUP reloads the users file and the host
key without dropping sessions (an upload in progress survives it); SIGTERM
drains: transfers in progress finish, then every session is closed
cleanly; the drain timeout or a second signal end it sooner (unfinished
uploads are aborted, never published)."""

import io
import os
import signal
import subprocess
import threading
import unittest

import paramiko

from ops_harness import HOST, OpsTestCase, backend_size, wait_until

OLD_PASSWORD = "alice-Old-Secret"
NEW_PASSWORD = "alice-New-Secret"
SIZE = 2 * 1024 * 1024  # paramiko writes 32 KiB requests: 64 slow chunks
PAYLOAD = bytes(range(251)) * (SIZE // 251) + bytes(SIZE % 251)


class Upload(threading.Thread):
    """Uploads PAYLOAD to `path` with paramiko in the background."""

    def __init__(self, sftp, path):
        super().__init__(daemon=True)
        self.sftp, self.path, self.error = sftp, path, None

    def run(self):
        try:
            self.sftp.putfo(io.BytesIO(PAYLOAD), self.path, confirm=False)
        except Exception as error:  # pylint: disable=broad-except
            self.error = error


class LifecycleTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", OLD_PASSWORD)

    def start(self, write_delay, extra=()):
        self.backend = self.start_test_backend(
            extra=["--write_delay_ms=%d" % (write_delay * 1000)])
        self.backend_log = self.processes[-1]
        self.start_gate(self.backend, extra)

    def start_upload(self, path):
        upload = Upload(self.sftp("alice"), path)
        upload.start()
        # Wait until the backend is receiving it.
        self.assertTrue(self.backend_log.wait_for_log("slow write %s" % path),
                        self.backend_log.log())
        return upload

    def test_sighup_reloads_users_and_host_key_without_dropping_sessions(self):
        self.start(write_delay=0.05)
        first = self.sftp("alice")
        upload = self.start_upload("/slow-upload.bin")
        # New users file (alice's password changes, bob appears) and a new
        # host key, then SIGHUP in the middle of the upload.
        self.users["alice"]["password"] = NEW_PASSWORD
        self.add_user("bob", "bob-Secret")
        self.write_users(path=self.path("users.new"))
        os.replace(self.path("users.new"), self.path("users.toml"))
        new_key = self.make_key("host_new")
        os.replace(new_key, self.path("host_key"))
        self.gate.send_signal(signal.SIGHUP)
        self.assertTrue(self.gate.wait_for_log(r"users_reloaded .*users=2"))
        self.assertTrue(self.gate.wait_for_log(r"host_key_reloaded "))
        # The upload finishes intact; the other open session still works.
        upload.join(60)
        self.assertFalse(upload.is_alive())
        self.assertIsNone(upload.error)
        with first.open("/slow-upload.bin") as f:
            self.assertEqual(f.read(), PAYLOAD)
        self.assertEqual(first.listdir("/"), ["slow-upload.bin"])
        # New logins use the new file ...
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("alice", password=OLD_PASSWORD)
        self.login("alice", password=NEW_PASSWORD)
        transport = self.login("bob")
        # ... and see the new host key.
        with open(new_key + ".pub") as f:
            self.assertEqual(transport.get_remote_server_key().get_base64(),
                             f.read().split()[1])
        # A broken users file is refused; the previous one stays in force.
        with open(self.path("users.toml"), "w") as f:
            f.write("[[user]]\nname = \"bob\"\npassword_hash = \"NotAHash-xyzzy\"\n")
        self.gate.send_signal(signal.SIGHUP)
        self.assertTrue(self.gate.wait_for_log(
            r"error reload_failed path=%s" % self.path("users.toml")))
        self.login("bob")
        self.assertNotIn("NotAHash-xyzzy", self.gate.log())

    def test_sigterm_lets_transfers_finish_then_closes_sessions(self):
        self.start(write_delay=0.05, extra=["--shutdown-grace-seconds=60"])
        # An idle OpenSSH connection (ssh -N: no channel, so the client
        # reports the server's disconnect message instead of leaving when
        # its last channel closes).
        idle = subprocess.Popen(
            ["sshpass", "-p", OLD_PASSWORD, "ssh", "-N",
             "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-p", str(self.port),
             "alice@" + HOST], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(idle.kill)
        self.assertTrue(self.gate.wait_for_log(r"auth .*result=ok .*OpenSSH"))
        upload = self.start_upload("/slow-upload.bin")
        self.gate.send_signal(signal.SIGTERM)
        self.assertTrue(self.gate.wait_for_log(r"draining connections=2"))
        # No new connections; the idle session is closed at once, and its
        # client is told why.
        with self.assertRaises(OSError):
            self.transport()
        _, stderr = idle.communicate(timeout=20)
        self.assertIn(b"Received disconnect from 127.0.0.1 port %d:11: "
                      b"server shutting down" % self.port, stderr)
        # The upload goes on to the end, then its session is closed too and
        # the server exits well within the grace.
        upload.join(60)
        self.assertIsNone(upload.error)
        self.assertEqual(self.gate.proc.wait(30), 0)
        self.assertEqual(backend_size(self.backend, "/slow-upload.bin"), SIZE)
        log = self.gate.log()
        self.assertEqual(log.count('reason="server shutting down"'), 2, log)

    def test_drain_timeout_aborts_unfinished_uploads(self):
        # 64 chunks at 0.2 s: far longer than the 2 s grace.
        self.start(write_delay=0.2, extra=["--shutdown-grace-seconds=2"])
        upload = self.start_upload("/slow-upload.bin")
        self.gate.send_signal(signal.SIGTERM)
        self.assertEqual(self.gate.proc.wait(30), 0)
        upload.join(30)
        self.assertIsNotNone(upload.error)
        self.assertIsNone(backend_size(self.backend, "/slow-upload.bin"))

    def test_second_signal_ends_the_drain(self):
        self.start(write_delay=0.2, extra=["--shutdown-grace-seconds=60"])
        upload = self.start_upload("/slow-upload.bin")
        self.gate.send_signal(signal.SIGTERM)
        self.assertTrue(self.gate.wait_for_log(r"draining connections=1"))
        self.gate.send_signal(signal.SIGINT)
        self.assertEqual(self.gate.proc.wait(30), 0)
        upload.join(30)
        self.assertIsNotNone(upload.error)
        self.assertIsNone(backend_size(self.backend, "/slow-upload.bin"))


if __name__ == "__main__":
    unittest.main()
