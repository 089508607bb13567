"""rclone's sftp backend (Go's x/crypto/ssh + pkg/sftp) over the gate."""

import os
import unittest

import harness


class RcloneTest(harness.GateTestCase):

    def remote(self, user="alice", auth="password", password=None):
        """An on-the-fly rclone remote (connection string) for `user`."""
        u = self.gate.user(user)
        opts = [f"host={harness.HOST}", f"port={self.gate.port}",
                f"user={u.name}",
                # the gate runs no commands: no md5sum/sha1sum/df over ssh
                "shell_type=none", "md5sum_command=none",
                "sha1sum_command=none"]
        if auth == "password":
            obscured = harness.run(
                ["rclone", "obscure", "-"],
                input=u.password if password is None else password
            ).stdout.strip()
            opts.append(f"pass={obscured}")
        else:
            assert not set(u.key) & set(",:\"'"), u.key
            opts.append(f"key_file={u.key}")
        return ":sftp," + ",".join(opts) + ":"

    def rclone(self, *args, check=True):
        home = os.path.join(self.gate.tmp, "home")
        os.makedirs(home, exist_ok=True)
        return harness.run(
            ["rclone", "--config", "/dev/null", "--retries", "1",
             "--low-level-retries", "1", "--contimeout", "60s",
             "--timeout", "120s"] + list(args),
            env={"HOME": home, "XDG_CACHE_HOME": os.path.join(home, "cache")},
            cwd=self.local, check=check)

    def make_tree(self):
        tree = self.local_path("tree")
        self.local_file("tree/a.txt", b"a\n")
        self.local_file("tree/empty", b"")
        self.local_file("tree/big.bin", harness.BIG)
        self.local_file("tree/sub/b.bin", harness.BIG[:654321])
        self.local_file("tree/sub/deeper/c.txt", b"c" * 10000)
        return tree

    def test_copy_up_check_lsl_copy_down(self):
        tree = self.make_tree()
        r = self.remote() + self.name("tree")
        self.rclone("copy", tree, r)
        self.rclone("check", "--download", tree, r)
        listing = {}
        for line in self.rclone("lsl", r).stdout.splitlines():
            size, _date, _time, path = line.split(None, 3)
            listing[path] = int(size)
        self.assertEqual(listing, {
            "a.txt": 2, "empty": 0, "big.bin": len(harness.BIG),
            "sub/b.bin": 654321, "sub/deeper/c.txt": 10000})
        back = self.local_path("back")
        self.rclone("copy", r, back)
        self.assertEqual(harness.tree_digest(back), harness.tree_digest(tree))
        # a changed remote file makes check fail
        self.rclone("copyto", self.local_file("x", b"different"),
                    r + "/a.txt")
        proc = self.rclone("check", "--download", tree, r, check=False)
        self.assertFails(proc, "1 differences found")

    def test_key_auth(self):
        src = self.local_file("k.txt", b"by key\n")
        r = self.remote("bob", auth="key")
        self.rclone("copyto", src, r + self.name("k.txt"))
        self.assertEqual(self.rclone("cat", r + self.name("k.txt")).stdout,
                         "by key\n")
        self.assertIn("secret.txt", self.rclone("lsf", r).stdout.split())

    def test_mkdir_move_delete_rmdirs(self):
        r = self.remote() + self.name("dir")
        self.rclone("mkdir", r + "/made/deep")
        self.rclone("copyto", self.local_file("f", b"f\n"), r + "/made/f.txt")
        self.rclone("moveto", r + "/made/f.txt", r + "/made/g.txt")
        self.assertEqual(self.rclone("lsf", "-R", r).stdout.split(),
                         ["made/", "made/deep/", "made/g.txt"])
        self.rclone("delete", r + "/made/g.txt")
        self.rclone("rmdirs", r)
        proc = self.rclone("lsf", r, check=False)
        self.assertFails(proc, "directory not found")

    def test_about_uses_statvfs(self):
        out = self.rclone("about", self.remote()).stdout
        self.assertRegex(out, r"Total:\s+\d")
        self.assertRegex(out, r"Free:\s+\d")

    def test_missing_file(self):
        proc = self.rclone("cat", self.remote() + self.name("nope"),
                           check=False)
        self.assertFails(proc, "not found", "file does not exist")
        proc = self.rclone("copy", self.remote() + self.name("nodir"),
                           self.local_path("x"), check=False)
        self.assertFails(proc, "directory not found")

    def test_read_only_user(self):
        r = self.remote("reader")
        self.assertEqual(self.rclone("cat", r + "readme.txt").stdout,
                         "shared, read only\n")
        proc = self.rclone("copyto", self.local_file("f", b"x"),
                           r + "new.txt", check=False)
        self.assertFails(proc, "permission denied")
        proc = self.rclone("mkdir", r + "d", check=False)
        self.assertFails(proc, "permission denied")
        proc = self.rclone("delete", r + "readme.txt", check=False)
        self.assertFails(proc, "permission denied")
        self.assertEqual(self.gate.admin_read("/shared/readme.txt"),
                         b"shared, read only\n")

    def test_wrong_password(self):
        proc = self.rclone("lsf", self.remote(password="wrong"), check=False)
        self.assertFails(proc, "unable to authenticate")

    def test_user_root(self):
        self.rclone("mkdir", self.remote() + self.name("dir"))
        top = self.rclone("lsf", self.remote() + "/..").stdout.split()
        self.assertIn(self.name("dir") + "/", top)
        self.assertNotIn("bob/", top)
        proc = self.rclone("cat", self.remote() + "/../bob/secret.txt",
                           check=False)
        self.assertFails(proc, "not found", "file does not exist")


harness.parametrize(globals(), RcloneTest)

if __name__ == "__main__":
    unittest.main()
