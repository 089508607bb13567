"""Per-user quotas with OpenSSH sftp and paramiko against the real binary,
on the memory and localfs backends (C++ SDK) and python-memory (Python
SDK), all of which report Usage: an upload that would pass the byte or
file quota fails with "quota exceeded" and nothing of it is committed;
`df` shows the quota as the size and the usage as used; two sessions of
one user uploading at once cannot together pass the quota; refusals are
counted in /metrics. On node-memory (no Usage) a user with a quota is
logged as unenforceable at login and cannot upload; a user without one
can. A quota from the delegated authenticator is enforced the same way."""

import os
import re
import subprocess
import time
import unittest
import urllib.request

import paramiko

from ops_harness import BIN_DIR, HOST, OpsTestCase, Process

KIB = 1024
QUOTA_BYTES = 1024 * KIB
QUOTA_FILES = 3
LOCALFS_BACKEND = os.path.join(BIN_DIR, "sftpgate-localfs-backend")
PYTHON_BACKEND = os.path.join(BIN_DIR, "sftpgate-python-memory-backend")
NODE_BACKEND = os.path.join(BIN_DIR, "sftpgate-node-memory-backend")
AUTHENTICATOR = os.path.join(BIN_DIR, "sftpgate-python-authenticator")
NO_USAGE = "quota exceeded (the backend reports no usage)"


def metric(body, name, **labels):
    """The value of one sample of /metrics text (0 when absent)."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in body.splitlines():
        m = re.match(r"^(\w+)(?:\{([^}]*)\})? (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted((m.group(2) or "").split(",")))
            if got == want:
                return float(m.group(3))
    return 0.0


class QuotaHarness(OpsTestCase):
    """Starting backends and sftpgate (with /metrics) for quota tests."""

    def start_backend(self, kind):
        """A backend of `kind` (memory, localfs, python, node) on a unix
        socket, with /alice and /bob in its store; returns its target."""
        if kind == "memory":
            return self.start_memory_backend()
        sock = self.path(kind + ".sock")
        if kind == "localfs":
            store = self.path("store")
            os.makedirs(os.path.join(store, "alice"))
            os.makedirs(os.path.join(store, "bob"))
            argv = [LOCALFS_BACKEND, "--root=" + store]
        else:
            argv = [{"python": PYTHON_BACKEND, "node": NODE_BACKEND}[kind]]
            if not os.path.exists(argv[0]):
                self.fail("%s is not built" % argv[0])
        process = Process(argv + ["--listen=unix:" + sock],
                          self.path(kind + ".log"))
        self.processes.append(process)
        self.assertTrue(process.wait_for_log("listening"), process.log())
        return "unix:" + sock

    def start_gate_with_metrics(self, backend, extra=()):
        self.start_gate(backend, ["--metrics-listen=127.0.0.1:0"] + list(extra))
        match = self.gate.wait_for_log(r"metrics_endpoint address=127\.0\.0\.1 "
                                       r"port=(\d+)")
        self.assertIsNotNone(match, self.gate.log())
        self.metrics_url = "http://127.0.0.1:%s/metrics" % match.group(1)

    def refusals(self, kind):
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            body = response.read().decode()
        return metric(body, "sftpgate_quota_exceeded_total", kind=kind)

    def local(self, name, size):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def listing(self, user="alice", **login):
        """{name: size} of the regular files in `user`'s "/" (paramiko)."""
        client = self.sftp(user, **login)
        try:
            return {a.filename: a.st_size for a in client.listdir_attr("/")
                    if a.longname.startswith("-")}
        finally:
            client.close()


class QuotaTestBase(QuotaHarness):
    BACKEND = None

    def setUp(self):
        super().setUp()
        self.add_user("alice", "alice-Quota-42", key=True, root="/alice",
                      extra={"quota_bytes": QUOTA_BYTES,
                             "quota_files": QUOTA_FILES})
        self.add_user("bob", "bob-Quota-42", key=True, root="/bob")
        self.start_gate_with_metrics(self.start_backend(self.BACKEND))

    def openssh(self, user, *commands, check=True):
        """OpenSSH sftp in batch mode; returns (exit code, output)."""
        args = ["sftp", "-F", "/dev/null", "-P", str(self.port),
                "-i", self.users[user]["key"],
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-b", "-", "%s@%s" % (user, HOST)]
        result = subprocess.run(args, input="\n".join(commands) + "\n",
                                capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        if check:
            self.assertEqual(result.returncode, 0, output)
        return result.returncode, output

    def df(self, flag=""):
        """OpenSSH sftp's df for alice: the numbers of its one line."""
        _, output = self.openssh("alice", "df %s /" % flag)
        lines = [l for l in output.splitlines() if re.match(r"^\s*\d", l)]
        self.assertEqual(len(lines), 1, output)
        return [int(n) for n in re.findall(r"\d+", lines[0])]

    def test_byte_and_file_quotas_with_openssh_sftp(self):
        a = self.local("a.bin", 600 * KIB)
        self.openssh("alice", "put %s /a.bin" % a)
        # df: size = quota, used = usage (KiB), files = quota_files.
        size, used, avail = self.df()[:3]
        self.assertEqual((size, used, avail), (1024, 600, 424))
        # 600 KiB more would pass 1 MiB: refused, nothing committed.
        b = self.local("b.bin", 600 * KIB)
        code, output = self.openssh("alice", "put %s /b.bin" % b, check=False)
        self.assertNotEqual(code, 0, output)
        self.assertEqual(self.listing(), {"a.bin": 600 * KIB})
        # The message is the server's ("quota exceeded"), as paramiko shows.
        client = self.sftp("alice")
        with self.assertRaisesRegex(IOError, "quota exceeded"):
            with client.open("/b.bin", "wb") as f:
                f.write(os.urandom(600 * KIB))
        self.assertEqual(self.listing(), {"a.bin": 600 * KIB})
        self.assertTrue(self.gate.wait_for_log(
            r"quota_exceeded .*user=alice .*kind=bytes"))
        self.assertEqual(self.refusals("bytes"), 2)
        # Replacing a file counts its new size, not both: 900 KiB fits.
        c = self.local("c.bin", 900 * KIB)
        self.openssh("alice", "put %s /a.bin" % c)
        self.assertEqual(self.listing(), {"a.bin": 900 * KIB})
        self.openssh("alice", "put %s /a.bin" % a)  # back to 600 KiB
        # Files: 3 at most.
        small = self.local("small.bin", 10 * KIB)
        self.openssh("alice", "put %s /s1.bin" % small,
                     "put %s /s2.bin" % small)
        code, output = self.openssh("alice", "put %s /s3.bin" % small,
                                    check=False)
        self.assertNotEqual(code, 0, output)
        self.assertEqual(set(self.listing()), {"a.bin", "s1.bin", "s2.bin"})
        self.assertEqual(self.refusals("files"), 1)
        inodes, inodes_used, inodes_free = self.df("-i")[:3]
        self.assertEqual((inodes, inodes_used, inodes_free), (3, 3, 0))
        size, used, avail = self.df()[:3]
        self.assertEqual((size, used, avail), (1024, 620, 404))
        # Removing frees room.
        self.openssh("alice", "rm /s2.bin", "put %s /s3.bin" % small)
        # Another user has no quota.
        self.openssh("bob", "put %s /b.bin" % b, "put %s /c.bin" % c)

    def test_two_sessions_cannot_pass_the_quota_together(self):
        """Two connections of alice upload 768 KiB each at the same time
        (one 32 KiB WRITE each in turn, each answered before the next):
        each alone fits the 1 MiB quota, both together do not. The WRITE
        that would take the two past 1 MiB fails, that upload commits
        nothing, and the other one completes."""
        chunk = os.urandom(32 * KIB)
        rounds = 768 * KIB // len(chunk)
        clients = [self.sftp("alice"), self.sftp("alice")]
        files = [clients[0].open("/one.bin", "wb"),
                 clients[1].open("/two.bin", "wb")]
        written = [0, 0]
        failed = [None, None]
        for _ in range(rounds):
            for i, f in enumerate(files):
                if failed[i] is not None:
                    continue
                try:
                    f.write(chunk)
                    written[i] += len(chunk)
                except IOError as error:
                    failed[i] = error
        for i, f in enumerate(files):
            try:
                f.close()
            except IOError as error:
                failed[i] = failed[i] or error
        # Together they reached exactly the quota (16 rounds of 2 x 32 KiB),
        # then the next WRITE, the first session's, was refused.
        self.assertRegex(str(failed[0]), "quota exceeded")
        self.assertEqual(written[0], QUOTA_BYTES // 2)
        self.assertIsNone(failed[1])
        self.assertEqual(written[1], 768 * KIB)
        self.assertEqual(self.listing(), {"two.bin": 768 * KIB})
        self.assertEqual(self.refusals("bytes"), 1)
        # The refused upload's room went back at once: 256 KiB fit now,
        # 257 do not.
        client = self.sftp("alice")
        with client.open("/three.bin", "wb") as f:
            f.write(os.urandom(256 * KIB))
        with self.assertRaisesRegex(IOError, "quota exceeded"):
            with client.open("/four.bin", "wb") as f:
                f.write(os.urandom(1 * KIB))
        self.assertEqual(self.listing(), {"two.bin": 768 * KIB,
                                          "three.bin": 256 * KIB})

    def test_growing_a_file_by_setstat_is_held_to_the_quota(self):
        """A truncate upwards (paramiko: SETSTAT by path, FSETSTAT on a
        handle open for reading and writing) reserves the growth like a WRITE: past the
        quota it is refused and the file keeps its size; up to the quota,
        and any shrinking, is served."""
        client = self.sftp("alice")
        with client.open("/a.bin", "wb") as f:
            f.write(os.urandom(512 * KIB))
        with self.assertRaisesRegex(IOError, "quota exceeded"):
            client.truncate("/a.bin", 2 * QUOTA_BYTES)
        self.assertEqual(client.stat("/a.bin").st_size, 512 * KIB)
        client.truncate("/a.bin", QUOTA_BYTES)  # exactly the quota fits
        self.assertEqual(client.stat("/a.bin").st_size, QUOTA_BYTES)
        with client.open("/a.bin", "r+b") as f:
            with self.assertRaisesRegex(IOError, "quota exceeded"):
                f.truncate(QUOTA_BYTES + 1)
            f.truncate(100 * KIB)  # the refusal left the handle usable
        self.assertEqual(self.listing(), {"a.bin": 100 * KIB})
        self.assertEqual(self.refusals("bytes"), 2)
        self.assertTrue(self.gate.wait_for_log(
            r"quota_exceeded .*user=alice .*path=/a\.bin .*kind=bytes"))


class QuotaMemoryTest(QuotaTestBase):
    BACKEND = "memory"


class QuotaLocalFsTest(QuotaTestBase):
    BACKEND = "localfs"


class QuotaPythonSdkTest(QuotaTestBase):
    BACKEND = "python"


del QuotaTestBase


class QuotaWithoutUsageTest(QuotaHarness):
    """node-memory answers Describe with usage = false."""

    def test_a_quota_the_backend_cannot_support_is_logged_and_refused(self):
        self.add_user("alice", "alice-Quota-42", root="/alice",
                      extra={"quota_bytes": QUOTA_BYTES})
        self.add_user("bob", "bob-Quota-42", root="/bob")
        self.start_gate_with_metrics(self.start_backend("node"))
        client = self.sftp("alice")
        self.assertTrue(self.gate.wait_for_log(
            r"warning quota_unenforceable .*user=alice .*backend=\"node-memory"),
            self.gate.log())
        with self.assertRaisesRegex(IOError, re.escape(NO_USAGE)):
            client.open("/a.bin", "wb")
        self.assertEqual(self.refusals("no_usage"), 1)
        # The refusal names the quota that could not be enforced.
        self.assertRegex(self.gate.log(),
                         r"quota_exceeded .*user=alice .*kind=no_usage "
                         r"quota=%d\b" % QUOTA_BYTES)
        self.assertEqual(self.listing(), {})
        # Without a quota: uploads as usual, and nothing logged.
        bob = self.sftp("bob")
        with bob.open("/b.bin", "wb") as f:
            f.write(b"x" * KIB)
        self.assertEqual(self.listing("bob"), {"b.bin": KIB})
        self.assertNotRegex(self.gate.log(), r"quota_unenforceable .*user=bob")


class QuotaDescribeRetryTest(QuotaHarness):
    """A session that starts while its backend is down (restarting) cannot
    learn at once whether the backend reports usage. It must neither
    refuse the user's uploads for the quota for the rest of the session
    nor log the quota as unenforceable: it asks Describe again when an
    upload needs the answer (at most about once a second), and until an
    answer arrives such requests fail as the backend does."""

    def test_a_session_started_while_the_backend_was_down_recovers(self):
        self.add_user("alice", "alice-Quota-42",
                      extra={"quota_bytes": QUOTA_BYTES})
        sock = self.path("memory.sock")
        self.start_gate_with_metrics("unix:" + sock)  # no backend yet
        client = self.sftp("alice")
        self.assertTrue(self.gate.wait_for_log(
            r"warning backend_describe_failed .*user=alice"), self.gate.log())
        # Down: the upload fails as the backend does, not for the quota.
        with self.assertRaisesRegex(IOError, "backend unavailable") as refused:
            client.open("/early.bin", "wb")
        self.assertNotIn("quota", str(refused.exception))

        backend = Process([os.path.join(BIN_DIR, "sftpgate-memory-backend"),
                           "--listen=unix:" + sock], self.path("memory.log"))
        self.processes.append(backend)
        self.assertTrue(backend.wait_for_log("listening"), backend.log())
        # The front end's channel reconnects after its backoff (~1 s).
        deadline = time.monotonic() + 20
        while True:
            try:
                with client.open("/a.bin", "wb") as f:
                    f.write(b"x" * (100 * KIB))
                break
            except IOError as e:
                self.assertNotIn("quota", str(e))
                self.assertLess(time.monotonic(), deadline, str(e))
                time.sleep(0.5)
        self.assertEqual(client.stat("/a.bin").st_size, 100 * KIB)
        # The same session now enforces the quota itself.
        with self.assertRaisesRegex(IOError, "quota exceeded$"):
            with client.open("/b.bin", "wb") as f:
                f.write(b"y" * QUOTA_BYTES)
        # statvfs (an extension that needs the backend's answer; paramiko
        # has no call for it) shows it: f_frsize * f_blocks.
        kind, reply = client._request(  # pylint: disable=protected-access
            paramiko.sftp.CMD_EXTENDED, "statvfs@openssh.com", "/")
        self.assertEqual(kind, paramiko.sftp.CMD_EXTENDED_REPLY)
        _, frsize, blocks = (reply.get_int64() for _ in range(3))
        self.assertEqual(frsize * blocks, QUOTA_BYTES)
        log = self.gate.log()
        self.assertNotIn("quota_unenforceable", log)
        self.assertNotRegex(log, r"quota_exceeded .*kind=no_usage")
        self.assertEqual(self.refusals("no_usage"), 0)


class QuotaFromAuthenticatorTest(QuotaHarness):
    """The delegated authenticator's quota_bytes / quota_files."""

    def test_authenticator_quota_is_enforced(self):
        password = "carol-Quota-42"
        hashed = subprocess.run(
            [AUTHENTICATOR, "--hash-password"], input=password + "\n",
            capture_output=True, text=True, check=True,
            timeout=60).stdout.strip()
        with open(self.path("auth-users.toml"), "w") as f:
            f.write("\n".join([
                "[[user]]", 'name = "carol"', 'root = "/carol"',
                'password_pbkdf2 = "%s"' % hashed,
                "quota_bytes = %d" % (100 * KIB), "quota_files = 1", ""]))
        sock = self.path("auth.sock")
        authenticator = Process([AUTHENTICATOR, "--listen=unix:" + sock,
                                 "--users=" + self.path("auth-users.toml")],
                                self.path("authenticator.log"))
        self.processes.append(authenticator)
        self.assertTrue(authenticator.wait_for_log("listening"),
                        authenticator.log())
        self.add_user("bob", "bob-Quota-42", root="/bob")  # a local user
        self.write_users()
        self.start_gate_with_metrics(self.start_backend("memory"),
                                     ["--auth=grpc:unix:" + sock])
        client = self.sftp("carol", password=password)
        with self.assertRaisesRegex(IOError, "quota exceeded"):
            with client.open("/big.bin", "wb") as f:
                f.write(os.urandom(101 * KIB))
        with client.open("/fits.bin", "wb") as f:
            f.write(os.urandom(100 * KIB))
        with self.assertRaisesRegex(IOError, r"quota exceeded \(files\)"):
            client.open("/second.bin", "wb")
        self.assertEqual(self.listing("carol", password=password),
                         {"fits.bin": 100 * KIB})
        self.assertEqual(self.refusals("bytes"), 1)
        self.assertEqual(self.refusals("files"), 1)

if __name__ == "__main__":
    unittest.main()
