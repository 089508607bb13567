"""OpenSSH scp (which speaks SFTP since 9.0) in both directions."""

import os
import unittest

import harness


class ScpTest(harness.GateTestCase):

    def mkdir(self, path, user="alice"):
        self.gate.sftp_batch(user, [f"mkdir {path}"])

    def test_upload_download_by_checksum(self):
        d = self.name("dir")
        self.mkdir(d)
        big = self.local_file("big.bin", harness.BIG)
        empty = self.local_file("empty.bin", b"")
        self.gate.scp("alice", big, empty, f":{d}/")
        self.gate.scp("alice", f":{d}/big.bin", self.local_path("big.back"))
        self.gate.scp("alice", f":{d}/empty.bin", self.local_path("empty.back"))
        self.assertSameFile(self.local_path("big.back"), harness.BIG)
        self.assertSameFile(self.local_path("empty.back"), b"")

    def test_password_auth(self):
        src = self.local_file("f.bin", harness.BIG[:1 << 20])
        self.gate.scp("alice", src, f":{self.name('f.bin')}", auth="password")
        self.gate.scp("alice", f":{self.name('f.bin')}",
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
        self.gate.scp("alice", tree, f":{d}/", recursive=True)
        back = self.local_path("back")
        os.makedirs(back)
        self.gate.scp("alice", f":{d}/tree", back, recursive=True)
        self.assertEqual(harness.tree_digest(os.path.join(back, "tree")),
                         harness.tree_digest(tree))

    def test_preserve_times_and_modes(self):
        src = self.local_file("p.txt", b"preserved\n", mode=0o640)
        os.utime(src, (1_000_000_000, 1_100_000_000))
        remote = f":{self.name('p.txt')}"
        self.gate.scp("alice", "-p", src, remote)
        back = self.local_path("p.back")
        self.gate.scp("alice", "-p", remote, back)
        self.assertSameFile(back, b"preserved\n")
        st = os.stat(back)
        self.assertEqual(int(st.st_mtime), 1_100_000_000)
        self.assertEqual(st.st_mode & 0o777, 0o640)

    def test_missing_remote_file(self):
        proc = self.gate.scp("alice", f":{self.name('nope')}",
                             self.local_path("x"), check=False)
        self.assertFails(proc, "No such file or directory")
        self.assertFalse(os.path.exists(self.local_path("x")))

    def test_read_only_user_cannot_upload(self):
        src = self.local_file("f.txt", b"x")
        proc = self.gate.scp("reader", src, ":new.txt", check=False)
        self.assertFails(proc, "Permission denied")
        self.gate.scp("reader", ":readme.txt", self.local_path("r"))
        self.assertSameFile(self.local_path("r"), b"shared, read only\n")

    def test_user_root_confines_paths(self):
        proc = self.gate.scp("alice", ":/../bob/secret.txt",
                             self.local_path("s"), check=False)
        self.assertFails(proc, "No such file or directory")
        self.assertFalse(os.path.exists(self.local_path("s")))

    def test_wrong_password_fails(self):
        args, env = self.gate.openssh_client("scp", "alice", "password",
                                             password="wrong")
        src = self.local_file("f.txt", b"x")
        proc = harness.run(args + [src, f"alice@{harness.HOST}:f.txt"],
                           env=env, check=False)
        self.assertNotEqual(proc.returncode, 0, harness.describe(proc))


harness.parametrize(globals(), ScpTest)

if __name__ == "__main__":
    unittest.main()
