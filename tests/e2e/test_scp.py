"""OpenSSH scp in both directions: over SFTP (the default since 9.0) and,
in LegacyScpTest, over the legacy SCP protocol (`scp -O`, which runs
`scp -t`/`scp -f` over exec)."""

import os
import subprocess
import unittest

import harness


class ScpTest(harness.GateTestCase):

    SCP_FLAGS = ()  # extra scp flags for every transfer ("-O": legacy)

    def scp(self, user, *paths, **kwargs):
        return self.gate.scp(user, *self.SCP_FLAGS, *paths, **kwargs)

    def mkdir(self, path, user="alice"):
        self.gate.sftp_batch(user, [f"mkdir {path}"])

    def test_upload_download_by_checksum(self):
        d = self.name("dir")
        self.mkdir(d)
        big = self.local_file("big.bin", harness.BIG)
        empty = self.local_file("empty.bin", b"")
        self.scp("alice", big, empty, f":{d}/")
        self.scp("alice", f":{d}/big.bin", self.local_path("big.back"))
        self.scp("alice", f":{d}/empty.bin", self.local_path("empty.back"))
        self.assertSameFile(self.local_path("big.back"), harness.BIG)
        self.assertSameFile(self.local_path("empty.back"), b"")

    def test_password_auth(self):
        src = self.local_file("f.bin", harness.BIG[:1 << 20])
        self.scp("alice", src, f":{self.name('f.bin')}", auth="password")
        self.scp("alice", f":{self.name('f.bin')}",
                      self.local_path("f.back"), auth="password")
        self.assertSameFile(self.local_path("f.back"), src)

    def test_recursive_tree_both_ways(self):
        tree = self.local_path("tree")
        self.local_file("tree/a.txt", b"a\n")
        self.local_file("tree/empty", b"")
        self.local_file("tree/sub/b.bin", harness.BIG[:777777])
        self.local_file("tree/sub/deeper/c.txt", b"c" * 10000)
        os.makedirs(os.path.join(tree, "emptydir"))
        d = self.name("dir")
        self.mkdir(d)
        self.scp("alice", tree, f":{d}/", recursive=True)
        back = self.local_path("back")
        os.makedirs(back)
        self.scp("alice", f":{d}/tree", back, recursive=True)
        self.assertEqual(harness.tree_digest(os.path.join(back, "tree")),
                         harness.tree_digest(tree))

    def test_preserve_times_and_modes(self):
        src = self.local_file("p.txt", b"preserved\n", mode=0o640)
        os.utime(src, (1_000_000_000, 1_100_000_000))
        remote = f":{self.name('p.txt')}"
        self.scp("alice", "-p", src, remote)
        back = self.local_path("p.back")
        self.scp("alice", "-p", remote, back)
        self.assertSameFile(back, b"preserved\n")
        st = os.stat(back)
        self.assertEqual(int(st.st_mtime), 1_100_000_000)
        self.assertEqual(st.st_mode & 0o777, 0o640)

    def test_missing_remote_file(self):
        proc = self.scp("alice", f":{self.name('nope')}",
                             self.local_path("x"), check=False)
        self.assertFails(proc, "No such file or directory")
        self.assertFalse(os.path.exists(self.local_path("x")))

    def test_read_only_user_cannot_upload(self):
        src = self.local_file("f.txt", b"x")
        proc = self.scp("reader", src, ":new.txt", check=False)
        self.assertFails(proc, "Permission denied")
        self.scp("reader", ":readme.txt", self.local_path("r"))
        self.assertSameFile(self.local_path("r"), b"shared, read only\n")

    def test_user_root_confines_paths(self):
        proc = self.scp("alice", ":/../bob/secret.txt",
                             self.local_path("s"), check=False)
        self.assertFails(proc, "No such file or directory")
        self.assertFalse(os.path.exists(self.local_path("s")))

    def test_wrong_password_fails(self):
        args, env = self.gate.openssh_client("scp", "alice", "password",
                                             password="wrong")
        src = self.local_file("f.txt", b"x")
        proc = harness.run(args + list(self.SCP_FLAGS) + [src, f"alice@{harness.HOST}:f.txt"],
                           env=env, check=False)
        self.assertNotEqual(proc.returncode, 0, harness.describe(proc))


class LegacyScpTest(ScpTest):
    """The same cases with `scp -O`, plus what only the SCP protocol has."""

    SCP_FLAGS = ("-O",)

    def ssh(self, user, command, check=False):
        u = self.gate.user(user)
        return subprocess.run(
            ["ssh"] + self.gate.ssh_options(u) +
            ["-p", str(self.gate.port), f"{u.name}@{self.gate.host}", command],
            stdin=subprocess.DEVNULL, capture_output=True,
            timeout=harness.CLIENT_TIMEOUT, check=check)

    def test_directory_modes_and_times_preserved_both_ways(self):
        tree = self.local_path("t")
        self.local_file("t/x.sh", b"#!/bin/sh\n", mode=0o751)
        self.local_file("t/d/y", b"y" * 5000, mode=0o600)
        os.chmod(os.path.join(tree, "d"), 0o710)
        os.utime(os.path.join(tree, "d", "y"), (1_200_000_000, 1_300_000_000))
        os.utime(os.path.join(tree, "d"), (1_200_000_000, 1_250_000_000))
        remote = f":{self.name('t')}"
        self.scp("alice", "-p", tree, remote, recursive=True)
        back = self.local_path("back")
        self.scp("alice", "-p", remote, back, recursive=True)
        self.assertEqual(harness.tree_digest(back), harness.tree_digest(tree))
        for rel, mode in (("x.sh", 0o751), ("d", 0o710), ("d/y", 0o600)):
            self.assertEqual(os.stat(os.path.join(back, rel)).st_mode & 0o777,
                             mode, rel)
        self.assertEqual(int(os.stat(os.path.join(back, "d/y")).st_mtime),
                         1_300_000_000)
        self.assertEqual(int(os.stat(os.path.join(back, "d")).st_mtime),
                         1_250_000_000)

    def test_error_on_one_file_the_others_still_go(self):
        # The target already holds a directory where the second file goes:
        # that file fails (reported by the protocol), the others arrive.
        d = self.name("dir")
        self.mkdir(d)
        self.mkdir(f"{d}/b.txt")
        files = [self.local_file(n, n.encode()) for n in ("a.txt", "b.txt",
                                                           "c.txt")]
        proc = self.scp("alice", *files, f":{d}/", check=False)
        self.assertNotEqual(proc.returncode, 0, harness.describe(proc))
        self.assertIn("b.txt", proc.stderr)
        for n in ("a.txt", "c.txt"):
            self.scp("alice", f":{d}/{n}", self.local_path(n + ".back"))
            self.assertSameFile(self.local_path(n + ".back"), n.encode())

    def test_download_of_a_directory_needs_r(self):
        d = self.name("dir")
        self.mkdir(d)
        proc = self.scp("alice", f":{d}", self.local_path("x"), check=False)
        self.assertFails(proc, "not a regular file")

    def test_nothing_else_runs_over_exec(self):
        for command in ("ls", "sh -c id", "md5sum x; id", "scp -t /x | id",
                        "cat /etc/passwd"):
            proc = self.ssh("alice", command)
            self.assertEqual(proc.returncode, 255, (command, proc))
            self.assertIn(b"exec request failed", proc.stderr, command)


class ExecDisabledTest(harness.GateTestCase):
    """With exec_commands off, legacy scp and md5sum are refused with a
    message the user can act on, and SFTP (sftp, scp without -O) works."""

    GATE_ARGS = ("--exec_commands=false",)
    MESSAGE = "exec commands (legacy scp -O, md5sum, ...) are disabled"

    def test_legacy_scp_and_md5sum_refused_sftp_works(self):
        src = self.local_file("f.txt", b"over sftp\n")
        proc = self.gate.scp("alice", "-O", src, f":{self.name('legacy')}",
                             check=False)
        self.assertFails(proc, self.MESSAGE)
        u = self.gate.user("alice")
        md5 = subprocess.run(
            ["ssh"] + self.gate.ssh_options(u) +
            ["-p", str(self.gate.port), f"alice@{self.gate.host}",
             "md5sum " + self.name("legacy")],
            stdin=subprocess.DEVNULL, capture_output=True,
            timeout=harness.CLIENT_TIMEOUT)
        self.assertEqual(md5.returncode, 1, md5)
        self.assertEqual(md5.stdout, b"")
        self.assertIn(self.MESSAGE.encode(), md5.stderr)
        self.assertIn('reason="exec_commands is off"', self.gate.log_tail())
        # Nothing of the legacy upload reached the backend; SFTP works.
        self.assertIsNone(self.gate.admin_read(f"/alice/{self.name('legacy')}"))
        self.gate.scp("alice", src, f":{self.name('sftp')}")
        self.gate.scp("alice", f":{self.name('sftp')}", self.local_path("back"))
        self.assertSameFile(self.local_path("back"), b"over sftp\n")


class ScpIdleTest(harness.GateTestCase):
    """An `scp -t` waiting for its client is idle, not a request in flight:
    the idle timeout closes it (draining uses the same count)."""

    GATE_ARGS = ("--idle_timeout_seconds=2",)

    def test_idle_scp_sink_is_closed_by_the_idle_timeout(self):
        u = self.gate.user("alice")
        d = self.name("dir")
        self.gate.sftp_batch("alice", [f"mkdir {d}"])
        start = self.gate.log_offsets()
        # The sink acknowledges the start (one \0), then waits for a record
        # the client never sends (its stdin stays open and empty).
        proc = subprocess.Popen(
            ["ssh"] + self.gate.ssh_options(u) +
            ["-p", str(self.gate.port), f"alice@{self.gate.host}",
             f"scp -t {d}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            self.assertEqual(proc.stdout.read(1), b"\0")
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()
            proc.stderr.close()
        self.gate.wait_for_gate_log(r"session_end .*idle timeout", since=start)


harness.parametrize(globals(), ScpTest)
harness.parametrize(globals(), LegacyScpTest)
harness.parametrize(globals(), ExecDisabledTest)
harness.parametrize(globals(), ScpIdleTest)

if __name__ == "__main__":
    unittest.main()
