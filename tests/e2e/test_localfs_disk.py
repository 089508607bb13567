"""The localfs backend against what only a directory on disk holds: names
that are not UTF-8 (put there by other programs), and files that the
backend's user may not write (the backend run as `nobody`). OpenSSH sftp
and paramiko through sftpgate; the files are set up and checked on disk."""

import grp
import os
import pwd
import unittest

import harness

# A Latin-1 name: not UTF-8, so it cannot travel in the contract.
LATIN1 = b"lat\xe9.txt"


def ls_names(stdout):
    """Base names printed by `sftp -b` for `ls -1 DIR` (command echo
    lines left out)."""
    return sorted(os.path.basename(line.strip())
                  for line in stdout.splitlines()
                  if line.strip() and not line.startswith("sftp> "))


def backend_log(gate):
    with open(os.path.join(gate.tmp, "localfs-backend.log"), "rb") as f:
        return f.read()


@unittest.skipIf(harness.REFERENCE, "localfs only")
class NonUtf8NamesTest(harness.GateTestCase):
    BACKEND = "localfs"

    def make_dir(self, *names):
        """A directory in alice's root holding empty files `names` (bytes);
        returns its name in her view."""
        d = self.name("dir")
        disk = os.path.join(self.gate.data.encode(), b"alice", d.encode())
        os.makedirs(disk)
        for n in names:
            with open(os.path.join(disk, n), "wb"):
                pass
        return d

    def test_ls_lists_every_valid_name(self):
        # Sorted, the bad name falls in the third batch of 512 entries:
        # sent as is, that whole batch was lost (1,024 names listed).
        good = [f"f{i:04d}" for i in range(1500)] + ["ok.txt"]
        d = self.make_dir(LATIN1, *(n.encode() for n in good))
        since = self.gate.log_offsets()
        proc = self.gate.sftp_batch("alice", [f"ls -1 {d}"])
        self.assertEqual(ls_names(proc.stdout), sorted(good))
        # The operator learns which directory, without the raw bytes.
        log = backend_log(self.gate)[since.get(
            os.path.join(self.gate.tmp, "localfs-backend.log"), 0):]
        self.assertIn(f'list "/{d}"'.encode(), log)
        self.assertIn(b"skipped 1 entry", log)
        self.assertIn(b"lat\\xe9.txt", log)
        self.assertNotIn(LATIN1, log)

    def test_only_a_bad_name_beside_a_good_one(self):
        d = self.make_dir(LATIN1, b"ok.txt")
        proc = self.gate.sftp_batch("alice", [f"ls -1 {d}"])
        self.assertEqual(ls_names(proc.stdout), ["ok.txt"])
        with self.gate.paramiko("alice") as sftp:
            self.assertEqual(sftp.listdir(d), ["ok.txt"])
            self.assertEqual([a.filename for a in sftp.listdir_attr(d)],
                             ["ok.txt"])


NOBODY = pwd.getpwnam("nobody")
NOGROUP = grp.getgrnam("nogroup").gr_gid
USERS = grp.getgrnam("users").gr_gid


class NobodyGate(harness.Gate):
    """A Gate whose localfs backend runs as nobody (group nogroup, and
    `users` besides), over a store nobody owns."""

    def _spawn(self, name, args, pass_fds=()):
        if name == "localfs-backend":
            os.chown(self.data, NOBODY.pw_uid, NOGROUP)
            # setpriv execs in place; --pdeathsig because changing uid
            # clears the parent-death signal the harness set.
            args = ["setpriv", f"--reuid={NOBODY.pw_uid}",
                    f"--regid={NOGROUP}", f"--groups={USERS}",
                    "--pdeathsig=KILL", "--"] + list(args)
        return super()._spawn(name, args, pass_fds)


@unittest.skipIf(harness.REFERENCE, "localfs only")
@unittest.skipUnless(os.geteuid() == 0, "needs root to run the backend as nobody")
class BackendAsNobodyTest(harness.GateTestCase):
    """Uploads over existing files obey the file's permissions as open(2)
    for writing would (the localfs backend replaces files by renaming a
    new one over them, which only the directory's permissions govern)."""

    BACKEND = "localfs"
    GATE_CLASS = NobodyGate

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The seeded tree (created as root) becomes nobody's.
        for top, dirs, files in os.walk(cls.gate.data):
            for n in [top] + [os.path.join(top, x) for x in dirs + files]:
                os.chown(n, NOBODY.pw_uid, NOGROUP)

    def disk_file(self, name, data, uid, gid, mode):
        path = os.path.join(self.gate.data, "alice", name)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return path

    def state(self, path):
        st = os.stat(path)
        with open(path, "rb") as f:
            return (f.read(), st.st_uid, st.st_gid, st.st_mode & 0o7777,
                    st.st_ino)

    def alice_dir(self):
        return sorted(os.listdir(os.path.join(self.gate.data, "alice")))

    def test_put_over_files_nobody_may_not_write_is_refused(self):
        src = self.local_file("x", b"new contents\n")
        files = {
            "rootfile": self.disk_file(self.name("rootfile"), b"root's\n",
                                       0, 0, 0o600),
            "ro444": self.disk_file(self.name("ro444"), b"read only\n",
                                    NOBODY.pw_uid, NOGROUP, 0o444),
        }
        before = {n: self.state(p) for n, p in files.items()}
        listing = self.alice_dir()
        for n, path in files.items():
            with self.subTest(file=n):
                remote = os.path.basename(path)
                self.assertFails(self.gate.sftp_batch(
                    "alice", [f"put {src} {remote}"], check=False),
                    "permission denied")
                # reput / append: in place, refused the same
                self.assertFails(self.gate.sftp_batch(
                    "alice", [f"reput {src} {remote}"], check=False),
                    "permission denied")
                # paramiko 2.12 ignores an error at CLOSE, where the front
                # end reports a refused upload: only the disk can tell.
                with self.gate.paramiko("alice") as sftp:
                    for mode in ("wb", "ab", "r+b"):
                        with sftp.open(remote, mode) as f:
                            f.write(b"over")
                self.assertEqual(self.state(path), before[n])
        self.assertEqual(self.alice_dir(), listing)  # no leftovers

    def test_replacing_keeps_mode_and_group(self):
        """A file nobody may write is replaced as an in-place write would
        leave it, as far as nobody may: its mode, and its group (one
        nobody belongs to) even when the owner cannot be kept."""
        src = self.local_file("x", b"new contents\n")
        for owner, mode in ((NOBODY.pw_uid, 0o640), (0, 0o664)):
            with self.subTest(owner=owner):
                path = self.disk_file(self.name(f"shared-{owner}"), b"old\n",
                                      owner, USERS, mode)
                remote = os.path.basename(path)
                self.gate.sftp_batch("alice", [f"put {src} {remote}"])
                data, uid, gid, got_mode, _ = self.state(path)
                # Root's file becomes nobody's: only root can give it away.
                self.assertEqual(
                    (data, uid, gid, got_mode),
                    (b"new contents\n", NOBODY.pw_uid, USERS, mode))
        # A new file is created as before.
        self.gate.sftp_batch("alice", [f"put {src} {self.name('new')}"])
        self.assertEqual(
            self.state(os.path.join(self.gate.data, "alice",
                                    self.name("new")))[:2],
            (b"new contents\n", NOBODY.pw_uid))


if __name__ == "__main__":
    unittest.main()
