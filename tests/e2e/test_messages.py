"""Messages a person can act on, against the memory and localfs backends.

- The SFTP status message (which paramiko and lftp show; OpenSSH's sftp
  prints only the status code's name) says what went wrong: "read-only"
  for a read-only session's refusal, that the name exists for MKDIR of an
  existing name, that the directory is not empty for RMDIR.
- OpenSSH `sftp ls -l` shows owner and group names the user recognises
  (their own user name, as the backends name no owner), not the numeric id
  of the backend's process: in the long names of a directory listing, and
  through users-groups-by-id@openssh.com when sftp formats a line itself.
- The front end's `auth` log line tells an unknown user, a wrong password
  and a key not authorized apart in `reason`; the client only ever learns
  that authentication failed.
"""

import os
import re
import time

import harness
from harness import GateTestCase, parametrize, parse_ls_long, run


class MessagesTest(GateTestCase):

    def paramiko_error(self, user, action):
        """The str() of the IOError `action(sftp)` raises as `user`."""
        with self.gate.paramiko(user) as sftp:
            with self.assertRaises(IOError) as caught:
                action(sftp)
        return str(caught.exception)

    def test_read_only_refusal_says_read_only(self):
        local = self.local_file("r.txt", b"data")
        for action in (lambda s: s.put(local, "/" + self.name("r.txt")),
                       lambda s: s.mkdir("/" + self.name("d")),
                       lambda s: s.remove("/readme.txt")):
            message = self.paramiko_error("reader", action)
            self.assertIn("read-only", message)
        # OpenSSH's sftp shows the code's name only, but refuses too.
        proc = self.gate.sftp_batch("reader", [f"put {local} /x.txt"],
                                    check=False)
        self.assertFails(proc, "Permission denied")

    def test_mkdir_on_an_existing_name_says_so(self):
        name = "/" + self.name("exists")
        with self.gate.paramiko("alice") as sftp:
            sftp.mkdir(name)
            with sftp.open(name + "/file", "wb") as f:
                f.write(b"x")
        message = self.paramiko_error("alice", lambda s: s.mkdir(name))
        self.assertRegex(message.lower(), r"\bexists\b")
        message = self.paramiko_error("alice",
                                      lambda s: s.mkdir(name + "/file"))
        self.assertRegex(message.lower(), r"\bexists\b")

    def test_rmdir_of_a_non_empty_directory_says_so(self):
        name = "/" + self.name("full")
        with self.gate.paramiko("alice") as sftp:
            sftp.mkdir(name)
            with sftp.open(name + "/file", "wb") as f:
                f.write(b"x")
        message = self.paramiko_error("alice", lambda s: s.rmdir(name))
        self.assertIn("not empty", message.lower())
        with self.gate.paramiko("alice") as sftp:  # still there
            self.assertEqual(sftp.listdir(name), ["file"])

    def test_ls_l_shows_the_users_name(self):
        local = self.local_file("mine.txt", b"mine\n")
        name = self.name("mine.txt")
        proc = self.gate.sftp_batch("alice", [f"put {local} /{name}",
                                              "mkdir /" + self.name("dir"),
                                              "ls -l /"])
        listed = [line.split() for line in proc.stdout.splitlines()
                  if re.match(r"[-d][-rwx]{9} ", line)
                  and os.path.basename(line.split()[-1])
                  in (name, self.name("dir"))]
        self.assertEqual(len(listed), 2, proc.stdout)
        for fields in listed:
            self.assertEqual(fields[2:4], ["alice", "alice"], proc.stdout)
        self.assertIn(name, parse_ls_long(proc.stdout))
        # `ls -l` of a path (not a directory) has OpenSSH format the line
        # itself, with names from users-groups-by-id@openssh.com.
        proc = self.gate.sftp_batch("alice", [f"ls -l /{name}"])
        single = [line.split() for line in proc.stdout.splitlines()
                  if re.match(r"-[-rwx]{9} ", line)]
        self.assertEqual(len(single), 1, proc.stdout)
        self.assertEqual(single[0][2:4], ["alice", "alice"], proc.stdout)
        listed += single
        # The backend process's account never shows as a number.
        self.assertNotIn(f" {os.getuid()} ", " ".join(
            " ".join(fields) for fields in listed))

    def auth_lines_since(self, offsets, count):
        """The first `count` failed `auth` lines logged after `offsets`
        (polled: the line is written as the verdict is sent)."""
        deadline = time.monotonic() + 30
        while True:
            lines = [line for line in
                     self.gate.log_tail(offsets, 10000).splitlines()
                     if re.search(r"\bauth\b.*\bresult=fail\b", line)]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def test_auth_log_reason_tells_failures_apart(self):
        import paramiko  # pylint: disable=import-outside-toplevel
        other_key = os.path.join(self.local, "other")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other_key])
        cases = (
            ("nobody", dict(password="whatever"), r'reason="unknown user"'),
            ("alice", dict(password="not-alices-password"),
             r'reason="wrong password"'),
            ("alice", dict(key_filename=other_key),
             r"reason=\"key not in the user's authorized_keys\""),
        )
        for user, credentials, expected in cases:
            with self.subTest(user=user, expected=expected):
                offsets = self.gate.log_offsets()
                client = paramiko.SSHClient()
                client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
                try:
                    with self.assertRaises(
                            paramiko.AuthenticationException) as caught:
                        client.connect(harness.HOST, port=self.gate.port,
                                       username=user, allow_agent=False,
                                       look_for_keys=False, timeout=60,
                                       **credentials)
                finally:
                    client.close()
                # The client learns nothing more than "failed".
                self.assertNotRegex(str(caught.exception),
                                    r"unknown|wrong|authorized_keys")
                lines = self.auth_lines_since(offsets, 1)
                self.assertTrue(lines, self.gate.log_tail(offsets))
                self.assertRegex(lines[0], rf"\buser={user}\b")
                self.assertRegex(lines[0], expected)


parametrize(globals(), MessagesTest)
