"""Per-user quotas with OpenSSH sftp against the real binary, on the
memory and the localfs backend (both report Usage): an upload that would
pass the byte or file quota fails with "quota exceeded" and nothing of it
is committed; `df` shows the quota as the size and the usage as used."""

import os
import re
import subprocess
import unittest

import paramiko

from ops_harness import BIN_DIR, HOST, OpsTestCase, Process

KIB = 1024
QUOTA_BYTES = 1024 * KIB
QUOTA_FILES = 3
LOCALFS_BACKEND = os.path.join(BIN_DIR, "sftpgate-localfs-backend")


class QuotaTestBase(OpsTestCase):
    BACKEND = None

    def setUp(self):
        super().setUp()
        self.add_user("alice", "alice-Quota-42", key=True, root="/alice",
                      extra={"quota_bytes": QUOTA_BYTES,
                             "quota_files": QUOTA_FILES})
        self.add_user("bob", "bob-Quota-42", key=True, root="/bob")
        if self.BACKEND == "localfs":
            store = self.path("store")
            os.makedirs(os.path.join(store, "alice"))
            os.makedirs(os.path.join(store, "bob"))
            sock = self.path("localfs.sock")
            process = Process([LOCALFS_BACKEND, "--root=" + store,
                               "--listen=unix:" + sock],
                              self.path("localfs.log"))
            self.processes.append(process)
            self.assertTrue(process.wait_for_log("listening"), process.log())
            backend = "unix:" + sock
        else:
            backend = self.start_memory_backend()
        self.start_gate(backend)

    def local(self, name, size):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def sftp(self, user, *commands, check=True):
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
        _, output = self.sftp("alice", "df %s /" % flag)
        lines = [l for l in output.splitlines() if re.match(r"^\s*\d", l)]
        self.assertEqual(len(lines), 1, output)
        return [int(n) for n in re.findall(r"\d+", lines[0])]

    def listing(self):
        _, output = self.sftp("alice", "ls -l /")
        sizes = {}
        for line in output.splitlines():
            fields = line.split()
            if len(fields) >= 9 and fields[0].startswith("-"):
                sizes[fields[-1].rsplit("/", 1)[-1]] = int(fields[4])
        return sizes

    def test_byte_and_file_quotas_with_openssh_sftp(self):
        a = self.local("a.bin", 600 * KIB)
        self.sftp("alice", "put %s /a.bin" % a)
        # df: size = quota, used = usage (KiB), files = quota_files.
        size, used, avail = self.df()[:3]
        self.assertEqual((size, used, avail), (1024, 600, 424))
        # 600 KiB more would pass 1 MiB: refused, nothing committed.
        b = self.local("b.bin", 600 * KIB)
        code, output = self.sftp("alice", "put %s /b.bin" % b, check=False)
        self.assertNotEqual(code, 0, output)
        self.assertEqual(self.listing(), {"a.bin": 600 * KIB})
        # The message is the server's ("quota exceeded"), as paramiko shows.
        transport = self.login("alice")
        client = paramiko.SFTPClient.from_transport(transport)
        with self.assertRaisesRegex(IOError, "quota exceeded"):
            with client.open("/b.bin", "wb") as f:
                f.write(os.urandom(600 * KIB))
        self.assertEqual(self.listing(), {"a.bin": 600 * KIB})
        self.assertTrue(self.gate.wait_for_log(
            r"quota_exceeded .*user=alice .*kind=bytes"))
        # Replacing a file counts its new size, not both: 900 KiB fits.
        c = self.local("c.bin", 900 * KIB)
        self.sftp("alice", "put %s /a.bin" % c)
        self.assertEqual(self.listing(), {"a.bin": 900 * KIB})
        self.sftp("alice", "put %s /a.bin" % a)  # back to 600 KiB
        # Files: 3 at most.
        small = self.local("small.bin", 10 * KIB)
        self.sftp("alice", "put %s /s1.bin" % small,
                  "put %s /s2.bin" % small)
        code, output = self.sftp("alice", "put %s /s3.bin" % small,
                                 check=False)
        self.assertNotEqual(code, 0, output)
        self.assertEqual(set(self.listing()), {"a.bin", "s1.bin", "s2.bin"})
        inodes, inodes_used, inodes_free = self.df("-i")[:3]
        self.assertEqual((inodes, inodes_used, inodes_free), (3, 3, 0))
        size, used, avail = self.df()[:3]
        self.assertEqual((size, used, avail), (1024, 620, 404))
        # Removing frees room.
        self.sftp("alice", "rm /s2.bin", "put %s /s3.bin" % small)
        # Another user has no quota.
        self.sftp("bob", "put %s /b.bin" % b, "put %s /c.bin" % c)


class QuotaMemoryTest(QuotaTestBase):
    BACKEND = "memory"


class QuotaLocalFsTest(QuotaTestBase):
    BACKEND = "localfs"


del QuotaTestBase

if __name__ == "__main__":
    unittest.main()
