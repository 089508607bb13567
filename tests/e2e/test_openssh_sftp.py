"""OpenSSH `sftp -b` against the gate: transfers, listings, metadata
operations and the error messages a user sees."""

import concurrent.futures
import os
import unittest

import harness


def sections(stdout):
    """sftp -b echoes each command as "sftp> cmd": [(cmd, output lines)]."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("sftp> "):
            out.append((line[len("sftp> "):], []))
        elif out:
            out[-1][1].append(line)
    return out


def names(lines):
    """Base names listed by `ls -1`."""
    return sorted(os.path.basename(n) for line in lines for n in line.split())


class OpenSshSftpTest(harness.GateTestCase):

    def batch(self, commands, user="alice", **kw):
        return self.gate.sftp_batch(user, commands, cwd=self.local, **kw)

    def outputs(self, commands, **kw):
        """Runs a batch that must succeed; the output of each command."""
        got = sections(self.batch(commands, **kw).stdout)
        self.assertEqual([c for c, _ in got], commands)
        return ["\n".join(lines) for _, lines in got]

    def test_put_get_roundtrip_by_checksum(self):
        d = self.name("dir")
        big = self.local_file("big.bin", harness.BIG)
        empty = self.local_file("empty.bin", b"")
        small = self.local_file("small.txt", b"hello\n")
        self.batch([f"mkdir {d}", f"put {big} {d}/big.bin",
                    f"put {empty} {d}/empty.bin", f"put {small} {d}/small.txt",
                    f"get {d}/big.bin big.back", f"get {d}/empty.bin empty.back",
                    f"get {d}/small.txt small.back"])
        self.assertSameFile(self.local_path("big.back"), harness.BIG)
        self.assertSameFile(self.local_path("empty.back"), b"")
        self.assertSameFile(self.local_path("small.back"), b"hello\n")

    def test_parallel_sessions(self):
        """Several sessions of two users at once keep their bytes apart."""
        d = self.name("dir")
        users = ["alice", "bob"] * 2
        for user in ("alice", "bob"):
            self.batch([f"mkdir {d}"], user=user)
        srcs = [self.local_file(f"p{i}.bin", bytes([i]) + harness.BIG[i:])
                for i in range(len(users))]
        with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
            list(pool.map(lambda i: self.batch(
                [f"put {srcs[i]} {d}/p{i}.bin", f"get {d}/p{i}.bin p{i}.back"],
                user=users[i]), range(len(users))))
        for i, user in enumerate(users):
            self.assertSameFile(self.local_path(f"p{i}.back"), srcs[i])
            other = "bob" if user == "alice" else "alice"
            self.assertIsNone(self.gate.admin_read(f"/{other}/{d}/p{i}.bin"))
            stored = self.gate.admin_read(f"/{user}/{d}/p{i}.bin")
            self.assertEqual(harness.sha256(stored or b"missing"),
                             harness.sha256(srcs[i]))

    def test_password_auth(self):
        d = self.name("dir")
        src = self.local_file("f.bin", harness.BIG[:300000])
        self.batch([f"mkdir {d}", f"put {src} {d}/f.bin",
                    f"get {d}/f.bin f.back"], auth="password")
        self.assertSameFile(self.local_path("f.back"), src)

    def test_wrong_password_fails(self):
        proc = self.batch(["ls"], auth="password", password="not-the-password",
                          check=False)
        self.assertNotEqual(proc.returncode, 0, harness.describe(proc))
        self.assertNotIn("Connected to", proc.stdout + proc.stderr)

    def test_another_users_key_is_refused(self):
        bob = self.gate.user("bob")
        alice_with_bobs_key = type(bob)(name="alice", password="", key=bob.key)
        proc = self.gate.sftp_batch(alice_with_bobs_key, ["ls"], check=False)
        self.assertFails(proc, "Permission denied")

    def test_reget_and_reput_resume(self):
        d = self.name("dir")
        full = self.local_file("full.bin", harness.BIG)
        half = len(harness.BIG) // 2 + 17
        self.local_file("part.bin", harness.BIG[:half])
        self.local_file("head.bin", harness.BIG[:half])
        self.batch([f"mkdir {d}", f"put {full} {d}/full.bin",
                    # reget: part.bin holds the first half; fetch the rest
                    f"reget {d}/full.bin part.bin",
                    # reput: the remote holds the first half; send the rest
                    f"put head.bin {d}/resumed.bin",
                    f"reput {full} {d}/resumed.bin",
                    f"get {d}/resumed.bin resumed.back"])
        self.assertSameFile(self.local_path("part.bin"), harness.BIG)
        self.assertSameFile(self.local_path("resumed.back"), harness.BIG)

    def test_ls_long_shows_names_sizes_and_modes(self):
        d = self.name("dir")
        a = self.local_file("a.txt", b"x" * 1234, mode=0o644)
        b = self.local_file("b.bin", b"", mode=0o644)
        out = self.outputs([f"mkdir {d}", f"mkdir {d}/sub", f"put {a} {d}/a.txt",
                            f"put {b} {d}/b.bin", f"chmod 600 {d}/a.txt",
                            f"chmod 751 {d}/sub", f"ls -l {d}", f"ls -ln {d}",
                            f"ls -1 {d}"])
        expected = {"a.txt": ("-rw-------", 1234), "b.bin": ("-rw-r--r--", 0),
                    "sub": ("drwxr-x--x", None)}
        # `ls -l` prints the server's long names, `ls -ln` the client's own
        # rendering of the attributes: both must agree with what was done.
        for listing in out[6:8]:
            got = harness.parse_ls_long(listing)
            self.assertEqual(set(got), set(expected), listing)
            for name, (mode, size) in expected.items():
                self.assertEqual(got[name][0], mode, f"{name}\n{listing}")
                if size is not None:
                    self.assertEqual(got[name][1], size, f"{name}\n{listing}")
        self.assertEqual(names([out[8]]), ["a.txt", "b.bin", "sub"])

    def test_mkdir_rename_rm_rmdir(self):
        d = self.name("dir")
        f = self.local_file("f.txt", b"content\n")
        out = self.outputs([f"mkdir {d}", f"mkdir {d}/x", f"put {f} {d}/x/f.txt",
                            f"rename {d}/x/f.txt {d}/x/g.txt",
                            f"rename {d}/x {d}/y", f"ls -1 {d}",
                            f"ls -1 {d}/y", f"get {d}/y/g.txt g.back",
                            f"rm {d}/y/g.txt", f"ls -1 {d}/y", f"rmdir {d}/y",
                            f"ls -1 {d}"])
        self.assertSameFile(self.local_path("g.back"), b"content\n")
        self.assertEqual(names([out[5]]), ["y"])
        self.assertEqual(names([out[6]]), ["g.txt"])
        self.assertEqual(names([out[9]]), [])
        self.assertEqual(names([out[11]]), [])

    def test_symlink_and_hard_link(self):
        d = self.name("dir")
        f = self.local_file("t.txt", b"target data\n")
        out = self.outputs([f"mkdir {d}", f"put {f} {d}/t.txt",
                            f"symlink t.txt {d}/sym", f"ln -s t.txt {d}/sym2",
                            f"ln {d}/t.txt {d}/hard", f"ls -l {d}",
                            f"get {d}/sym sym.back", f"get {d}/sym2 sym2.back",
                            f"get {d}/hard hard.back"])
        got = harness.parse_ls_long(out[5])
        self.assertEqual(set(got), {"t.txt", "sym", "sym2", "hard"}, out[5])
        self.assertEqual(got["sym"][0][0], "l", out[5])
        self.assertEqual(got["sym2"][0][0], "l", out[5])
        self.assertEqual(got["hard"], ("-rw-r--r--", 12), out[5])
        self.assertEqual(got["t.txt"], ("-rw-r--r--", 12), out[5])
        for name in ("sym.back", "sym2.back", "hard.back"):
            self.assertSameFile(self.local_path(name), b"target data\n")

    def test_cp_copies_on_the_server_with_copy_data(self):
        """OpenSSH 9.x `cp` is the copy-data extension: the bytes never
        leave the server."""
        d = self.name("dir")
        src = self.local_file("c.bin", harness.BIG)
        offsets = self.gate.log_offsets()
        self.outputs([f"mkdir {d}", f"put {src} {d}/c.bin",
                      f"cp {d}/c.bin {d}/copy.bin",
                      f"get {d}/copy.bin copy.back"])
        self.assertSameFile(self.local_path("copy.back"), src)
        if self.gate.backend != "openssh":
            self.gate.wait_for_gate_log(
                r"sftp_op .*user=alice op=copy-data .*status=ok", offsets)

    def test_put_with_fsync(self):
        """`put -f` sends fsync@openssh.com on the open handle before
        CLOSE; the upload is then complete and intact."""
        d = self.name("dir")
        src = self.local_file("s.bin", harness.BIG[:400000])
        offsets = self.gate.log_offsets()
        proc = self.batch([f"mkdir {d}", f"put -f {src} {d}/s.bin",
                           f"get {d}/s.bin s.back"])
        self.assertNotIn("fsync", proc.stderr)  # e.g. "not supported"
        self.assertSameFile(self.local_path("s.back"), src)
        if self.gate.backend != "openssh":
            self.gate.wait_for_gate_log(
                r"sftp_op .*user=alice op=fsync@openssh\.com .*status=ok",
                offsets)

    def test_chmod_h_uses_lsetstat(self):
        """`chmod -h` is lsetstat@openssh.com: on a file it sets the mode
        as chmod does; through a symlink it does not reach the target."""
        d = self.name("dir")
        f = self.local_file("m.txt", b"mode\n", mode=0o644)
        offsets = self.gate.log_offsets()
        out = self.outputs([f"mkdir {d}", f"put {f} {d}/m.txt",
                            f"symlink m.txt {d}/link",
                            f"chmod -h 600 {d}/m.txt", f"ls -l {d}"])
        got = harness.parse_ls_long(out[4])
        self.assertEqual(got["m.txt"][0], "-rw-------", out[4])
        self.assertEqual(got["link"][0][0], "l", out[4])
        if self.gate.backend != "openssh":
            self.gate.wait_for_gate_log(
                r"sftp_op .*user=alice op=lsetstat@openssh\.com .*status=ok",
                offsets)

    def test_df(self):
        if not harness.has_statfs(self.gate.backend):
            # Not offered (statvfs@openssh.com is not in VERSION): sftp
            # says so, nothing else breaks.
            proc = self.batch(["df"], check=False)
            self.assertFails(proc, "does not support statvfs")
            return
        out = self.outputs(["df", "df -i", "df -h"])
        numbers = r"\n\s*\d+\s+\d+\s+\d+\s+\d+\s+\d+%"
        self.assertRegex(out[0], r"Size\s+Used\s+Avail\s+\(root\)\s+%Capacity"
                         + numbers)
        self.assertRegex(out[1], r"Inodes\s+Used\s+Avail\s+\(root\)\s+"
                         r"%Capacity" + numbers)
        self.assertRegex(out[2], r"Size\s+Used\s+Avail")

    def test_missing_file(self):
        proc = self.batch([f"get {self.name('nope')} x"], check=False)
        self.assertFails(proc, "not found", "No such file or directory")
        proc = self.batch([f"rm {self.name('nope')}"], check=False)
        self.assertFails(proc, "not found", "No such file or directory")
        proc = self.batch([f"rename {self.name('nope')} b"], check=False)
        self.assertFails(proc, "No such file or directory")

    def test_a_trailing_slash_names_a_directory(self):
        # As on a POSIX server: "put f newdir/" must not create a file named
        # newdir, nor "get f.txt/" read the file.
        d = self.name("dir")
        f = self.local_file("f.txt", b"x")
        self.batch([f"mkdir {d}", f"put {f} {d}/f.txt"])
        proc = self.batch([f"put {f} {d}/newdir/"], check=False)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        proc = self.batch([f"get {d}/f.txt/ back.txt"], check=False)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertFalse(os.path.exists(self.local_path("back.txt")))
        proc = self.batch([f"rm {d}/f.txt/"], check=False)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(self.outputs([f"ls -1 {d}"])[0].split(),
                         [f"{d}/f.txt"])
        # A directory named with a slash is still one.
        self.assertIn("f.txt", self.outputs([f"ls -1 {d}/"])[0])

    def test_rmdir_of_non_empty_directory_fails(self):
        d = self.name("dir")
        f = self.local_file("f.txt", b"x")
        self.batch([f"mkdir {d}", f"put {f} {d}/f.txt"])
        proc = self.batch([f"rmdir {d}"], check=False)
        # OpenSSH 9.2 says: remote rmdir "/path": Failure
        self.assertFails(proc, ": Failure")
        self.assertIn("f.txt", self.batch([f"ls {d}"]).stdout)

    def test_read_only_user(self):
        f = self.local_file("f.txt", b"x")
        out = self.batch(["ls -l", "get readme.txt r.back",
                          "get docs/guide.txt g.back"], user="reader").stdout
        self.assertIn("readme.txt", out)
        self.assertSameFile(self.local_path("r.back"), b"shared, read only\n")
        self.assertSameFile(self.local_path("g.back"), b"a guide\n" * 100)
        for cmd in (f"put {f} new.txt", f"put {f} readme.txt", "mkdir nd",
                    "rm readme.txt", "rename readme.txt moved.txt",
                    "chmod 600 readme.txt", "rmdir docs",
                    "symlink readme.txt l"):
            with self.subTest(cmd=cmd):
                proc = self.batch([cmd], user="reader", check=False)
                self.assertFails(proc, "Permission denied")
        self.assertSameFile(self.local_path("r.back"), b"shared, read only\n")
        self.assertEqual(self.gate.admin_read("/shared/readme.txt"),
                         b"shared, read only\n")
        self.assertIsNone(self.gate.admin_read("/shared/new.txt"))

    def test_user_root_is_slash_and_dotdot_stays_inside(self):
        f = self.local_file("mine.txt", b"alice's\n")
        d = self.name("dir")
        out = self.outputs([f"mkdir {d}", f"put {f} {d}/mine.txt", "pwd",
                            "cd ..", "pwd", "ls -1 /", "ls -1 /..",
                            "ls -1 ../..", f"ls -1 /../{d}"])
        self.assertEqual(out[2].strip(), "Remote working directory: /")
        self.assertEqual(out[4].strip(), "Remote working directory: /")
        for listing in out[5:8]:
            self.assertIn(d, names([listing]), listing)
            self.assertNotIn("bob", names([listing]), listing)
            self.assertNotIn("alice", names([listing]), listing)
        self.assertEqual(names([out[8]]), ["mine.txt"])
        for path in ("/../bob/secret.txt", "../bob/secret.txt",
                     "/bob/secret.txt", "../../../bob/secret.txt"):
            with self.subTest(path=path):
                proc = self.batch([f"get {path} s.back"], check=False)
                self.assertFails(proc, "not found", "No such file or directory")
                self.assertFalse(os.path.exists(self.local_path("s.back")))
        # alice's file is where the admin expects it: under /alice
        self.assertEqual(self.gate.admin_read(f"/alice/{d}/mine.txt"),
                         b"alice's\n")

    def test_symlink_cannot_escape_user_root(self):
        d = self.name("dir")
        self.batch([f"mkdir {d}", f"symlink ../../bob/secret.txt {d}/rel",
                    f"symlink /../bob/secret.txt {d}/abs",
                    f"symlink /bob/secret.txt {d}/abs2"])
        for link in ("rel", "abs", "abs2"):
            with self.subTest(link=link):
                proc = self.batch([f"get {d}/{link} {link}.back"], check=False)
                self.assertNotEqual(proc.returncode, 0, harness.describe(proc))
                if os.path.exists(self.local_path(f"{link}.back")):
                    with open(self.local_path(f"{link}.back"), "rb") as fh:
                        self.assertNotIn(b"secret", fh.read())


harness.parametrize(globals(), OpenSshSftpTest)

if __name__ == "__main__":
    unittest.main()
