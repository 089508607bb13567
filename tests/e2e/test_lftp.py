"""lftp's sftp:// (which runs OpenSSH's ssh underneath) over the gate."""

import os
import shlex
import unittest

import harness


class LftpTest(harness.GateTestCase):

    def lftp(self, commands, user="alice", auth="password", password=None,
             check=True):
        """Runs lftp with `commands` as `user`; the first failing command
        ends it with exit 1 (cmd:fail-exit)."""
        u = self.gate.user(user)
        ssh = ["ssh", "-a", "-x"] + self.gate.ssh_options(u, auth)
        if auth == "password":
            login = f"{u.name},{u.password if password is None else password}"
        else:
            login = f"{u.name},"  # empty password: ssh authenticates by key
        script = "; ".join([
            "set cmd:fail-exit yes", "set sftp:auto-confirm yes",
            "set net:max-retries 1", "set net:timeout 60",
            "set net:reconnect-interval-base 1", "set xfer:clobber yes",
            f"set sftp:connect-program {shlex.quote(shlex.join(ssh))}",
            f"open -u {shlex.quote(login)} "
            f"sftp://{harness.HOST}:{self.gate.port}"] + commands)
        home = os.path.join(self.gate.tmp, "home")
        os.makedirs(home, exist_ok=True)
        # HOME keeps lftp's history and bookmarks out of the real one
        return harness.run(["lftp", "-c", script], env={"HOME": home},
                           cwd=self.local, check=check)

    def test_put_get_by_checksum(self):
        d = self.name("dir")
        big = self.local_file("big.bin", harness.BIG)
        empty = self.local_file("empty.bin", b"")
        self.lftp([f"mkdir {d}", f"cd {d}", f"put {big} -o big.bin",
                   f"put {empty} -o empty.bin", "get big.bin -o big.back",
                   "get empty.bin -o empty.back"])
        self.assertSameFile(self.local_path("big.back"), harness.BIG)
        self.assertSameFile(self.local_path("empty.back"), b"")

    def test_key_auth(self):
        src = self.local_file("k.txt", b"by key\n")
        self.lftp([f"put {src} -o {self.name('k.txt')}",
                   f"get {self.name('k.txt')} -o k.back"], auth="key")
        self.assertSameFile(self.local_path("k.back"), b"by key\n")

    def test_listings_and_metadata_operations(self):
        d = self.name("dir")
        a = self.local_file("a.txt", b"a" * 4321)
        e = self.local_file("e.txt", b"")
        out = self.lftp([f"mkdir {d}", f"cd {d}", f"put {a} -o a.txt",
                         f"put {e} -o e.txt", "mkdir sub", "chmod 600 a.txt",
                         "chmod 700 sub", "mv e.txt sub/moved.txt",
                         "echo @@", "ls", "echo @@", "cls -l",
                         "echo @@", "cls -1 sub"]).stdout
        _, ls, cls, sub = out.split("@@")
        # `ls` shows the server's long names, `cls -l` lftp's rendering of
        # the attributes; both must show what was done.
        expected = {"a.txt": ("-rw-------", 4321), "sub": ("drwx------", None)}
        for listing in (ls, cls):
            got = harness.parse_ls_long(listing)
            self.assertEqual(set(got), set(expected), listing)
            self.assertEqual(got["a.txt"], expected["a.txt"], listing)
            self.assertEqual(got["sub"][0], "drwx------", listing)
        self.assertEqual(sub.split(), ["sub/moved.txt"])
        out = self.lftp([f"cd {d}", "rm sub/moved.txt", "rmdir sub",
                         "rm a.txt", "echo @@", "cls -1"]).stdout
        self.assertEqual(out.split("@@")[1].split(), [])

    def test_mirror_tree_both_ways(self):
        tree = self.local_path("tree")
        self.local_file("tree/a.txt", b"a\n")
        self.local_file("tree/empty", b"")
        self.local_file("tree/sub/b.bin", harness.BIG[:1_500_000])
        self.local_file("tree/sub/deeper/c.txt", b"c" * 5000)
        os.makedirs(os.path.join(tree, "emptydir"))
        d = self.name("tree")
        back = self.local_path("back")
        self.lftp([f"mirror -R {tree} {d}", f"mirror {d} {back}"])
        self.assertEqual(harness.tree_digest(back), harness.tree_digest(tree))

    def test_missing_file(self):
        proc = self.lftp([f"get {self.name('nope')} -o x"], check=False)
        self.assertFails(proc, "No such file")

    def test_read_only_user(self):
        src = self.local_file("f.txt", b"x")
        self.lftp(["get readme.txt -o r"], user="reader")
        self.assertSameFile(self.local_path("r"), b"shared, read only\n")
        for cmd in (f"put {src} -o new.txt", "mkdir d", "rm readme.txt",
                    "mv readme.txt x.txt", "chmod 600 readme.txt"):
            with self.subTest(cmd=cmd):
                proc = self.lftp([cmd], user="reader", check=False)
                self.assertFails(proc, "Permission denied")
        self.assertEqual(self.gate.admin_read("/shared/readme.txt"),
                         b"shared, read only\n")

    def test_rmdir_of_non_empty_directory(self):
        d = self.name("dir")
        src = self.local_file("f.txt", b"x")
        self.lftp([f"mkdir {d}", f"put {src} -o {d}/f.txt"])
        proc = self.lftp([f"rmdir {d}"], check=False)
        # lftp prints the server's message: OpenSSH says "Failure"; a more
        # precise "directory not empty" is better still.
        self.assertFails(proc, "Failure", "not empty")

    def test_wrong_password(self):
        proc = self.lftp(["ls"], password="wrong", check=False)
        self.assertFails(proc, "Login failed", "Login incorrect",
                         "Permission denied")

    def test_user_root(self):
        d = self.name("dir")
        out = self.lftp([f"mkdir {d}", "cd /..", "echo @@", "cls -1",
                         "cd ../..", "echo @@", "cls -1"]).stdout
        _, first, second = out.split("@@")
        for listing in (first, second):
            names = [n.rstrip("/") for n in listing.split()]
            self.assertIn(d, names)
            self.assertNotIn("bob", names)
            self.assertNotIn("alice", names)
        proc = self.lftp(["get /../bob/secret.txt -o s"], check=False)
        self.assertFails(proc, "No such file")
        self.assertFalse(os.path.exists(self.local_path("s")))


harness.parametrize(globals(), LftpTest)

if __name__ == "__main__":
    unittest.main()
