"""paramiko's SFTPClient: the Python API surface over the gate."""

import errno
import io
import stat
import unittest

import paramiko

import harness


class ParamikoTest(harness.GateTestCase):

    def setUp(self):
        super().setUp()
        self.session = self.gate.paramiko("alice")
        self.sftp = self.session.__enter__()
        self.addCleanup(self.session.__exit__, None, None, None)
        self.dir = "/" + self.name("dir")
        self.sftp.mkdir(self.dir)

    def write(self, path, data):
        with self.sftp.open(path, "wb") as f:
            f.write(data)

    def read(self, path):
        with self.sftp.open(path, "rb") as f:
            return f.read()

    def assertErrno(self, code, fn, *args):
        with self.assertRaises(IOError) as ctx:
            fn(*args)
        self.assertEqual(ctx.exception.errno, code, repr(ctx.exception))

    def test_put_get_by_checksum(self):
        big = self.local_file("big.bin", harness.BIG)
        empty = self.local_file("empty.bin", b"")
        attrs = self.sftp.put(big, f"{self.dir}/big.bin")
        self.assertEqual(attrs.st_size, len(harness.BIG))
        self.sftp.put(empty, f"{self.dir}/empty.bin")
        self.sftp.get(f"{self.dir}/big.bin", self.local_path("big.back"))
        self.sftp.get(f"{self.dir}/empty.bin", self.local_path("empty.back"))
        self.assertSameFile(self.local_path("big.back"), harness.BIG)
        self.assertSameFile(self.local_path("empty.back"), b"")
        # putfo/getfo stream through file objects
        self.sftp.putfo(io.BytesIO(b"via fo"), f"{self.dir}/fo.txt")
        buf = io.BytesIO()
        self.sftp.getfo(f"{self.dir}/fo.txt", buf)
        self.assertEqual(buf.getvalue(), b"via fo")

    def test_listdir_attr_and_stat(self):
        self.write(f"{self.dir}/a.txt", b"x" * 1234)
        self.write(f"{self.dir}/empty", b"")
        self.sftp.mkdir(f"{self.dir}/sub", 0o750)
        self.sftp.chmod(f"{self.dir}/sub", 0o750)
        self.sftp.chmod(f"{self.dir}/a.txt", 0o600)
        self.sftp.symlink("a.txt", f"{self.dir}/link")
        entries = {a.filename: a for a in self.sftp.listdir_attr(self.dir)}
        self.assertEqual(set(entries), {"a.txt", "empty", "sub", "link"})
        self.assertEqual(sorted(self.sftp.listdir(self.dir)),
                         ["a.txt", "empty", "link", "sub"])
        self.assertEqual(entries["a.txt"].st_size, 1234)
        self.assertEqual(entries["a.txt"].st_mode, stat.S_IFREG | 0o600)
        self.assertEqual(entries["empty"].st_size, 0)
        self.assertEqual(entries["sub"].st_mode, stat.S_IFDIR | 0o750)
        self.assertTrue(stat.S_ISLNK(entries["link"].st_mode))
        # stat follows the link, lstat does not
        st = self.sftp.stat(f"{self.dir}/link")
        self.assertEqual((st.st_mode, st.st_size), (stat.S_IFREG | 0o600, 1234))
        self.assertTrue(stat.S_ISLNK(self.sftp.lstat(f"{self.dir}/link").st_mode))
        self.assertTrue(stat.S_ISDIR(self.sftp.stat("/").st_mode))
        self.assertIsNotNone(entries["a.txt"].st_mtime)

    def test_utime_and_truncate(self):
        path = f"{self.dir}/t.txt"
        self.write(path, b"0123456789")
        self.sftp.utime(path, (1_000_000_000, 1_200_000_000))
        self.assertEqual(self.sftp.stat(path).st_mtime, 1_200_000_000)
        self.sftp.truncate(path, 4)
        self.assertEqual(self.read(path), b"0123")

    def test_rename_and_posix_rename(self):
        a, b, c = (f"{self.dir}/{n}" for n in ("a", "b", "c"))
        self.write(a, b"A")
        self.write(b, b"B")
        # plain SFTP rename refuses to overwrite
        with self.assertRaises(IOError):
            self.sftp.rename(a, b)
        self.assertEqual(self.read(b), b"B")
        self.sftp.rename(a, c)
        self.assertEqual(self.read(c), b"A")
        self.assertErrno(errno.ENOENT, self.sftp.stat, a)
        # posix-rename@openssh.com replaces the target atomically
        self.sftp.posix_rename(c, b)
        self.assertEqual(self.read(b), b"A")
        self.assertErrno(errno.ENOENT, self.sftp.stat, c)
        self.sftp.rename(self.dir, self.dir + "-moved")
        self.assertEqual(self.read(self.dir + "-moved/b"), b"A")
        self.dir += "-moved"

    def test_symlink_readlink(self):
        self.write(f"{self.dir}/target", b"T")
        self.sftp.symlink("target", f"{self.dir}/rel")
        self.sftp.symlink("/does/not/exist", f"{self.dir}/dangling")
        self.assertEqual(self.sftp.readlink(f"{self.dir}/rel"), "target")
        self.assertEqual(self.sftp.readlink(f"{self.dir}/dangling"),
                         "/does/not/exist")
        self.assertEqual(self.read(f"{self.dir}/rel"), b"T")
        self.assertErrno(errno.ENOENT, self.read, f"{self.dir}/dangling")
        # REALPATH: OpenSSH resolves links; lexical normalization (what the
        # gate does when a backend has no RealPath) is also acceptable.
        self.assertIn(self.sftp.normalize(f"{self.dir}/../{self.dir}/rel"),
                      (f"{self.dir}/target", f"{self.dir}/rel"))
        self.assertEqual(self.sftp.normalize("."), "/")
        self.sftp.remove(f"{self.dir}/rel")
        self.assertEqual(self.read(f"{self.dir}/target"), b"T")

    def test_statvfs(self):
        # paramiko has no statvfs(); send statvfs@openssh.com through its
        # generic request path and decode the reply (11 uint64, in order).
        kind, msg = self.sftp._request(  # pylint: disable=protected-access
            paramiko.sftp.CMD_EXTENDED, "statvfs@openssh.com", "/")
        self.assertEqual(kind, paramiko.sftp.CMD_EXTENDED_REPLY)
        (bsize, frsize, blocks, bfree, bavail, files, ffree, favail, _fsid,
         _flag, namemax) = (msg.get_int64() for _ in range(11))
        self.assertGreater(bsize, 0)
        self.assertGreater(frsize, 0)
        self.assertGreater(blocks, 0)
        self.assertLessEqual(bfree, blocks)
        self.assertLessEqual(bavail, bfree)
        self.assertLessEqual(ffree, files)
        self.assertLessEqual(favail, ffree)
        self.assertGreater(namemax, 0)

    def test_seek_and_read(self):
        path = f"{self.dir}/big.bin"
        self.sftp.putfo(io.BytesIO(harness.BIG), path)
        with self.sftp.open(path, "rb") as f:
            for offset, size in ((3_000_000, 100_000), (17, 5), (0, 65536),
                                 (len(harness.BIG) - 10, 100), (4_000_000, 1),
                                 (1_000_000, 2_000_000)):
                f.seek(offset)
                self.assertEqual(f.read(size),
                                 harness.BIG[offset:offset + size],
                                 f"offset {offset} size {size}")
            f.seek(len(harness.BIG) + 5)
            self.assertEqual(f.read(10), b"")
        # random-access writes inside an existing file
        with self.sftp.open(path, "r+b") as f:
            f.seek(1000)
            f.write(b"PATCH")
        expected = harness.BIG[:1000] + b"PATCH" + harness.BIG[1005:]
        with self.sftp.open(path, "rb") as f:
            f.prefetch()
            self.assertEqual(harness.sha256(f.read()), harness.sha256(expected))

    def test_truncate_through_a_handle_is_ordered_with_writes(self):
        # ftruncate(2) semantics: the size changes between the WRITEs
        # before and after it, and the handle sees it (FSTAT).
        path = f"{self.dir}/ft.txt"
        self.write(path, b"0123456789")
        with self.sftp.open(path, "r+") as f:
            f.truncate(2)
            self.assertEqual(f.stat().st_size, 2)
            f.seek(5)
            f.write(b"W")
        self.assertEqual(self.read(path), b"01\0\0\0W")
        with self.sftp.open(path, "w") as f:
            f.write(b"x" * 100)
            f.truncate(10)
            f.seek(100)
            f.write(b"tail!")
            f.truncate(0)
            f.seek(0)
            f.write(b"abc")
        self.assertEqual(self.read(path), b"abc")
        with self.sftp.open(path, "w") as f:
            f.write(b"y" * 100)
            f.truncate(10)
            f.seek(100)
            f.write(b"tail!")
            self.assertEqual(f.stat().st_size, 105)
        self.assertEqual(self.read(path), b"y" * 10 + b"\0" * 90 + b"tail!")

    def test_truncate_needs_a_handle_open_for_writing(self):
        path = f"{self.dir}/ro.txt"
        self.write(path, b"0123456789")
        # OpenSSH answers ftruncate's EINVAL ("Bad message"); the gate says
        # what is wrong.
        refused = OSError if harness.REFERENCE else PermissionError
        with self.sftp.open(path, "r") as f:
            with self.assertRaises(refused):
                f.truncate(2)
        self.assertEqual(self.read(path), b"0123456789")

    def test_a_writer_sees_its_new_file(self):
        path = f"{self.dir}/new.txt"
        with self.sftp.open(path, "w") as f:
            f.write(b"12345")
            attrs = f.stat()
            self.assertTrue(stat.S_ISREG(attrs.st_mode), oct(attrs.st_mode))
            self.assertEqual(attrs.st_size, 5)
        self.assertEqual(self.sftp.stat(path).st_size, 5)

    def test_a_trailing_slash_names_a_directory(self):
        path = f"{self.dir}/f.txt"
        self.write(path, b"x")
        for call in (lambda: self.sftp.remove(path + "/"),
                     lambda: self.sftp.open(path + "/", "r"),
                     lambda: self.sftp.stat(path + "/")):
            with self.assertRaises(OSError):
                call()
        self.assertEqual(self.read(path), b"x")
        self.assertTrue(stat.S_ISDIR(self.sftp.stat(self.dir + "/").st_mode))

    def test_append(self):
        path = f"{self.dir}/log.txt"
        self.write(path, b"one\n")
        with self.sftp.open(path, "ab") as f:
            f.write(b"two\n")
        self.assertEqual(self.read(path), b"one\ntwo\n")

    @unittest.skipIf(harness.REFERENCE, "OpenSSH writes in place")
    def test_aborted_upload_is_not_published(self):
        """A client that disconnects mid-upload leaves the path as it was:
        absent for a new file, old content for a truncated one."""
        self.write(f"{self.dir}/old.txt", b"old content")
        session = self.gate.paramiko("alice")
        sftp = session.__enter__()
        files = []  # keep references: paramiko closes a collected file
        for name in ("new.bin", "old.txt"):
            files.append(sftp.open(f"{self.dir}/{name}", "wb"))
            files[-1].write(harness.BIG[:1 << 20])  # acknowledged
        offsets = self.gate.log_offsets()
        session.client.close()  # disconnect with both files open
        # The gate logs session_end once the session, its handles and
        # their upload streams are gone.
        self.gate.wait_for_gate_log(r"session_end .*user=alice", offsets)
        self.assertErrno(errno.ENOENT, self.sftp.stat, f"{self.dir}/new.bin")
        self.assertEqual(self.read(f"{self.dir}/old.txt"), b"old content")

    def test_errors_have_errno(self):
        self.assertErrno(errno.ENOENT, self.sftp.stat, f"{self.dir}/nope")
        self.assertErrno(errno.ENOENT, self.sftp.open, f"{self.dir}/nope", "rb")
        self.assertErrno(errno.ENOENT, self.sftp.listdir, f"{self.dir}/nope")
        self.assertErrno(errno.ENOENT, self.sftp.remove, f"{self.dir}/nope")
        self.assertErrno(errno.ENOENT, self.sftp.rmdir, f"{self.dir}/nope")
        self.assertErrno(errno.ENOENT, self.sftp.rename, f"{self.dir}/nope",
                         f"{self.dir}/x")
        self.assertErrno(errno.ENOENT, self.sftp.mkdir, f"{self.dir}/no/sub")
        # non-empty rmdir and mkdir over an existing name: generic failure
        self.write(f"{self.dir}/f", b"")
        with self.assertRaises(IOError):
            self.sftp.rmdir(self.dir)
        with self.assertRaises(IOError):
            self.sftp.mkdir(f"{self.dir}/f")
        with self.assertRaises(IOError):
            self.sftp.open(f"{self.dir}/f", "x")

    def test_read_only_user_gets_permission_denied(self):
        with self.gate.paramiko("reader") as ro:
            self.assertEqual(ro.open("readme.txt").read(),
                             b"shared, read only\n")
            for fn, args in ((ro.open, ("new.txt", "wb")),
                             (ro.open, ("readme.txt", "ab")),
                             (ro.mkdir, ("d",)), (ro.remove, ("readme.txt",)),
                             (ro.rmdir, ("docs",)),
                             (ro.rename, ("readme.txt", "x")),
                             (ro.chmod, ("readme.txt", 0o600)),
                             (ro.symlink, ("readme.txt", "l"))):
                with self.subTest(op=fn.__name__, args=args):
                    self.assertErrno(errno.EACCES, fn, *args)
            self.assertEqual(ro.open("readme.txt").read(),
                             b"shared, read only\n")

    def test_user_root(self):
        self.assertEqual(self.sftp.normalize("/.."), "/")
        self.assertIn(self.name("dir"), self.sftp.listdir("/.."))
        self.assertNotIn("bob", self.sftp.listdir("/.."))
        self.assertErrno(errno.ENOENT, self.sftp.stat, "/../bob/secret.txt")
        self.assertErrno(errno.ENOENT, self.sftp.open, "../bob/secret.txt")
        self.sftp.symlink("../../bob/secret.txt", f"{self.dir}/escape")
        with self.assertRaises(IOError):
            self.read(f"{self.dir}/escape")

    def test_names_that_are_not_utf8_get_a_clear_error(self):
        # The contract carries paths as UTF-8 (protobuf strings): a
        # Latin-1 name is refused up front with a message that says why,
        # and the session goes on.
        latin1 = self.dir.encode() + b"/caf\xe9.txt"
        for fn, args in ((self.sftp.stat, (latin1,)),
                         (self.sftp.open, (latin1, "wb")),
                         (self.sftp.mkdir, (latin1,)),
                         (self.sftp.symlink, (b"t\xff", self.dir + "/l"))):
            with self.subTest(fn=fn.__name__):
                with self.assertRaises(IOError) as ctx:
                    fn(*args)
                self.assertIn("not valid UTF-8", str(ctx.exception))
        utf8 = f"{self.dir}/café.txt"
        self.write(utf8, b"ok")
        self.assertEqual(self.read(utf8), b"ok")
        self.assertEqual(self.sftp.listdir(self.dir), ["café.txt"])

    def test_connection_outlives_its_sftp_channel(self):
        """Closing the SFTP channel leaves the SSH connection up until the
        client disconnects, as with sshd: clients that close the channel
        and then the connection (rclone, Go's x/crypto/ssh) fail with "use
        of closed network connection" otherwise. A second channel on the
        same connection works."""
        session = self.gate.paramiko("alice")
        session.sftp.close()
        transport = session.client.get_transport()
        # A global request's reply comes after the server has handled the
        # channel close sent before it (SSH keeps message order): no
        # guessing how long that takes.
        transport.global_request("keepalive@openssh.com", wait=True)
        try:
            self.assertTrue(transport.is_active(),
                            "the server closed the connection when the "
                            "SFTP channel closed")
            again = paramiko.SFTPClient.from_transport(transport)
            self.assertIn(self.name("dir"), again.listdir("/"))
            again.close()
        finally:
            session.client.close()

    def test_key_auth_and_wrong_password(self):
        with self.gate.paramiko("bob", auth="key") as sftp:
            self.assertEqual(sftp.listdir("/"), ["secret.txt"])
        with self.assertRaises(paramiko.AuthenticationException):
            self.gate.paramiko("bob", password="wrong")


harness.parametrize(globals(), ParamikoTest)

if __name__ == "__main__":
    unittest.main()
