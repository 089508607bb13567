"""Checksums without downloading: rclone's md5sum/sha1sum over exec (with
rclone's own defaults: it detects the shell and the hash commands
itself), md5sum/sha1sum/sha256sum output byte-for-byte as GNU coreutils
prints it, paramiko's SFTPFile.check (the check-file extension), and the
per-connection hash limit."""

import hashlib
import os
import re
import shlex
import subprocess
import unittest

import harness

# Names that exercise coreutils' escaping of output lines (backslash,
# newline, carriage return) and of diagnostics (quotes, spaces, ':').
ODD_NAMES = ("plain.txt", "a b.txt", "it's.txt", "back\\slash",
             "new\nline", "cr\rname", "caf\u00e9", "x:y", "-dash")


class ChecksumTest(harness.GateTestCase):

    # ----- helpers -----

    def ssh(self, command, user="alice", stdin=b""):
        u = self.gate.user(user)
        return subprocess.run(
            ["ssh"] + self.gate.ssh_options(u) +
            ["-p", str(self.gate.port), f"{u.name}@{self.gate.host}", command],
            input=stdin, capture_output=True, timeout=harness.CLIENT_TIMEOUT)

    def upload(self, files, user="alice"):
        """{remote path: bytes} written over SFTP (paramiko)."""
        with self.gate.paramiko(user) as sftp:
            for path, data in files.items():
                parts = path.strip("/").split("/")
                for i in range(1, len(parts)):
                    try:
                        sftp.mkdir("/".join(parts[:i]))
                    except OSError:
                        pass  # exists
                with sftp.open(path, "wb") as f:
                    f.write(data)

    def rclone_config(self):
        """A config file with one remote, as `rclone config` writes it:
        no shell_type, md5sum_command or sha1sum_command (rclone detects
        and saves them itself)."""
        u = self.gate.user("alice")
        obscured = harness.run(["rclone", "obscure", "-"],
                               input=u.password).stdout.strip()
        path = os.path.join(self.local, "rclone.conf")
        with open(path, "w") as f:
            f.write(f"[gate]\ntype = sftp\nhost = {self.gate.host}\n"
                    f"port = {self.gate.port}\nuser = alice\n"
                    f"pass = {obscured}\n")
        return path

    def rclone(self, config, *args, check=True):
        home = os.path.join(self.local, "home")
        os.makedirs(home, exist_ok=True)
        return harness.run(
            ["rclone", "--config", config, "--retries", "1",
             "--low-level-retries", "1", "--contimeout", "60s",
             "--timeout", "120s"] + list(args),
            env={"HOME": home, "XDG_CACHE_HOME": os.path.join(home, "cache")},
            cwd=self.local, check=check)

    # ----- rclone -----

    def test_rclone_md5sum_sha1sum_and_check_with_defaults(self):
        tree = self.local_path("tree")
        files = {"a.txt": b"a\n", "empty": b"", "big.bin": harness.BIG,
                 "sub/it's a \\ file": b"odd\n", "sub/caf\u00e9 x": b"cafe"}
        for rel, data in files.items():
            self.local_file("tree/" + rel, data)
        config = self.rclone_config()
        remote = f"gate:{self.name('tree')}"
        self.rclone(config, "copy", tree, remote)
        # One object first: rclone 1.60 detects the hash commands on the
        # first hash it needs (and saves them in the config); with several
        # objects at once its detection races with itself.
        self.rclone(config, "md5sum", f"{remote}/a.txt")
        with open(config) as f:
            saved = f.read()
        self.assertIn("shell_type = unix", saved)
        self.assertIn("md5sum_command = md5sum", saved)
        for tool, algorithm in (("md5sum", hashlib.md5),
                                ("sha1sum", hashlib.sha1)):
            out = self.rclone(config, tool, remote).stdout
            got = {}
            for line in out.splitlines():
                digest, path = line.split("  ", 1)
                got[path] = digest
            self.assertEqual(got, {rel: algorithm(data).hexdigest()
                                   for rel, data in files.items()}, tool)
        check = self.rclone(config, "check", tree, remote)
        said = check.stdout + check.stderr
        self.assertIn("0 differences found", said)
        self.assertIn(f"{len(files)} matching files", said)
        self.assertNotIn("hash", said.lower().replace("matching", ""))
        # Same size, other bytes: only a hash can tell.
        self.upload({f"/{self.name('tree')}/a.txt": b"b\n"})
        check = self.rclone(config, "check", tree, remote, check=False)
        self.assertNotEqual(check.returncode, 0, harness.describe(check))
        self.assertIn("1 differences found", check.stdout + check.stderr)
        self.assertIn("command=md5sum", self.gate.log_tail())

    # ----- coreutils compatibility -----

    def test_output_is_byte_for_byte_coreutils(self):
        d = self.name("odd")
        files = {f"{d}/{n}": n.encode() * 3 for n in ODD_NAMES}
        self.upload({"/" + p: data for p, data in files.items()})
        self.upload({f"/{d}/dir/inner": b"i"})
        for p, data in files.items():
            self.local_file(p, data)
        os.makedirs(os.path.join(self.local, d, "dir"))
        operands = [f"{d}/{n}" for n in ODD_NAMES] + [
            f"{d}/missing", f"{d}/dir", f"{d}/it's missing", "/../bob/x"]
        for tool in ("md5sum", "sha1sum", "sha256sum"):
            line = " ".join([tool, "--"] + [shlex.quote(o) for o in operands])
            ours = self.ssh(line)
            # The session's "/" is alice's root: run coreutils from the
            # local copy with the same relative names.
            local_operands = [o if not o.startswith("/") else "." + o
                              for o in operands]
            theirs = subprocess.run([tool, "--"] + local_operands,
                                    cwd=self.local, capture_output=True)
            self.assertEqual(ours.returncode, 1, ours)
            self.assertEqual(ours.returncode, theirs.returncode)
            self.assertEqual(ours.stdout, theirs.stdout, tool)
            self.assertEqual(
                ours.stderr,
                theirs.stderr.replace(b"./../bob/x", b"/../bob/x"), tool)

    def test_standard_input_and_dash(self):
        data = os.urandom(300000)
        for command in ("md5sum", "sha256sum -", "sha1sum --"):
            ours = self.ssh(command, stdin=data)
            theirs = subprocess.run(shlex.split(command), input=data,
                                    capture_output=True)
            self.assertEqual((ours.returncode, ours.stdout, ours.stderr),
                             (0, theirs.stdout, b""), command)

    def test_read_only_user_and_root_confinement(self):
        ok = self.ssh("sha1sum readme.txt", user="reader")
        self.assertEqual(ok.stdout, hashlib.sha1(
            b"shared, read only\n").hexdigest().encode() + b"  readme.txt\n")
        escape = self.ssh("md5sum /../bob/secret.txt")
        self.assertEqual(escape.returncode, 1)
        self.assertEqual(escape.stderr, b"md5sum: /../bob/secret.txt: "
                                        b"No such file or directory\n")

    def test_commands_off_the_list_are_refused(self):
        for command in ("md5sum a; id", "md5sum $(id)", "sha512sum a",
                        "md5sum -c sums", "ls"):
            proc = self.ssh(command)
            self.assertEqual(proc.returncode, 255, (command, proc))
            self.assertIn(b"exec request failed", proc.stderr)

    # ----- SFTP check-file -----

    def test_paramiko_check_equals_hashlib(self):
        data = harness.BIG[:3 * 1024 * 1024 + 777]
        path = self.name("c.bin")
        self.upload({path: data})
        with self.gate.paramiko("alice") as sftp:
            with sftp.open(path, "rb") as f:
                for name in ("md5", "sha1", "sha256", "sha512"):
                    h = getattr(hashlib, name)
                    self.assertEqual(f.check(name), h(data).digest(), name)
                    self.assertEqual(f.check(name, 1000, 5000),
                                     h(data[1000:6000]).digest(), name)
                    self.assertEqual(f.check(name, 2 * 1024 * 1024),
                                     h(data[2 * 1024 * 1024:]).digest())
                block = 1024 * 1024
                self.assertEqual(
                    f.check("sha1", 0, 0, block),
                    b"".join(hashlib.sha1(data[i:i + block]).digest()
                             for i in range(0, len(data), block)))
                self.assertEqual(
                    f.check("md5", 10, 1000, 256),
                    b"".join(hashlib.md5(data[i:min(i + 256, 1010)]).digest()
                             for i in range(10, 1010, 256)))
                # The first algorithm of the list the server knows wins.
                self.assertEqual(f.check("crc32,sha256"),
                                 hashlib.sha256(data).digest())
                with self.assertRaises(IOError):
                    f.check("md5", 0, 0, 100)  # block size below 256
                with self.assertRaises(IOError):
                    f.check("crc32")

    def test_extensions_advertised(self):
        args, env = self.gate.openssh_client("sftp", "alice", "key")
        proc = harness.run(args + ["-vvv", "-b", "-", f"alice@{self.gate.bracketed_host}"],
                           input="pwd\n", env=env)
        # OpenSSH 9.2 names the extensions it knows "supported" and the
        # others "unrecognised"; both were in the server's VERSION.
        supported = set(re.findall(
            r'(?:Server supports extension|Unrecognised server extension) '
            r'"([^"]+)"', proc.stderr))
        self.assertTrue({"check-file-name", "check-file-handle"} <= supported,
                        supported)


# Backends whose Hash call (Describe.hash_algorithms) answers whole-file
# digests; the others make the front end read and hash the file.
BACKENDS_WITH_HASH = {"memory", "python-memory"}


class HashLimitTest(harness.GateTestCase):
    """hash_limit_mb bounds what one connection may have the front end
    read for hashing."""

    GATE_ARGS = ("--hash_limit_mb=1",)

    def test_limit_per_connection(self):
        data = os.urandom(700 * 1024)
        with self.gate.paramiko("alice") as sftp:
            for n in ("a", "b"):
                with sftp.open(self.name(n), "wb") as f:
                    f.write(data)
            with sftp.open(self.name("a"), "rb") as f:
                # A range: no backend keeps digests of those, so the front
                # end reads it, 1.4 MiB in all.
                self.assertEqual(f.check("md5", 1),
                                 hashlib.md5(data[1:]).digest())
                with self.assertRaisesRegex(IOError, "hash limit"):
                    f.check("md5", 1)
        # A new connection has its own budget; md5sum over exec shares it
        # with nothing else. Whole files cost nothing where the backend
        # keeps their digests.
        u = self.gate.user("alice")
        proc = subprocess.run(
            ["ssh"] + self.gate.ssh_options(u) +
            ["-p", str(self.gate.port), f"alice@{self.gate.host}",
             f"md5sum {self.name('a')} {self.name('b')}"],
            capture_output=True, stdin=subprocess.DEVNULL,
            timeout=harness.CLIENT_TIMEOUT)
        line = lambda n: (hashlib.md5(data).hexdigest() +
                          f"  {self.name(n)}\n").encode()
        if self.BACKEND in BACKENDS_WITH_HASH:
            self.assertEqual((proc.returncode, proc.stdout, proc.stderr),
                             (0, line("a") + line("b"), b""))
            return
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, line("a"))
        self.assertEqual(proc.stderr, f"md5sum: {self.name('b')}: hash limit "
                         f"reached for this session\n".encode())


class BackendHashTest(harness.GateTestCase):
    """The front end takes the backend's Hash answer when Describe lists
    the algorithm, and reads and hashes the file itself otherwise. With
    hash_limit_mb = 0 it may read nothing for hashing, so a digest that
    arrives can only be the backend's."""

    GATE_ARGS = ("--hash_limit_mb=0",)

    def test_backend_digest_used_when_offered(self):
        data = os.urandom(300000)
        path = self.name("h.bin")
        with self.gate.paramiko("alice") as sftp:
            with sftp.open(path, "wb") as f:
                f.write(data)
        u = self.gate.user("alice")
        start = self.gate.log_offsets()
        for tool in ("md5sum", "sha1sum", "sha256sum"):
            proc = subprocess.run(
                ["ssh"] + self.gate.ssh_options(u) +
                ["-p", str(self.gate.port), f"alice@{self.gate.host}",
                 f"{tool} {path}"],
                capture_output=True, stdin=subprocess.DEVNULL,
                timeout=harness.CLIENT_TIMEOUT)
            if self.BACKEND in BACKENDS_WITH_HASH:
                want = getattr(hashlib, tool[:-3])(data).hexdigest()
                self.assertEqual((proc.returncode, proc.stdout, proc.stderr),
                                 (0, f"{want}  {path}\n".encode(), b""), tool)
            else:
                self.assertEqual(proc.returncode, 1, proc)
                self.assertEqual(proc.stderr, f"{tool}: {path}: hash limit "
                                 f"reached for this session\n".encode())
        with self.gate.paramiko("alice") as sftp:
            with sftp.open(path, "rb") as f:
                if self.BACKEND in BACKENDS_WITH_HASH:
                    self.assertEqual(f.check("sha512"),
                                     hashlib.sha512(data).digest())
                # A range: the backend declines, the front end may not read.
                with self.assertRaisesRegex(IOError, "hash limit"):
                    f.check("md5", 10)
        if self.BACKEND in BACKENDS_WITH_HASH:
            self.gate.wait_for_gate_log(
                r"checksum .*command=sha256sum .*result=ok bytes_read=0",
                since=start)


harness.parametrize(globals(), ChecksumTest)
harness.parametrize(globals(), HashLimitTest)
harness.parametrize(globals(), BackendHashTest)

if __name__ == "__main__":
    unittest.main()
