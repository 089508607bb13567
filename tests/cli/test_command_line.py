"""Every sftpgate program takes its command line alike.

For each program: `--help` prints its own flags, each with its default,
and exits 0; a flag name is accepted with '-' or '_' (shown by a value the
program then rejects in its own words, naming the flag, and by a start that
succeeds); an unknown flag exits 2 and points at a --help that works.
The programs are run from the build tree as users run them.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
TIMEOUT = 60


def run(binary, *args, stdin=subprocess.DEVNULL):
    # COLUMNS: argparse's help then puts each flag on one line.
    return subprocess.run([os.path.join(BIN_DIR, binary), *args],
                          stdin=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT,
                          env=dict(os.environ, COLUMNS="1000"))


def help_defaults(text):
    """{flag: default} of a C++/Node program's --help."""
    return dict(re.findall(r"^  --([\w-]+) \(default: (.*)\)$", text, re.M))


class HelpTest(unittest.TestCase):
    """--help: exit 0, the program's own flags with defaults, on stdout."""

    maxDiff = None

    def check_help(self, binary, expected):
        proc = run(binary, "--help")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("No flags matched", proc.stdout)
        shown = help_defaults(proc.stdout)
        for flag, default in expected.items():
            self.assertIn(flag, shown, f"{binary} --help:\n{proc.stdout}")
            if default is not None:
                self.assertEqual(shown[flag], default, f"{binary} --{flag}")
        return shown

    def test_front_end(self):
        shown = self.check_help("sftpgate", {
            "listen": '"127.0.0.1:2222"', "backend": '""', "users": '""',
            "host-key": '""', "run-as": '""', "max-sessions": "1000",
            "config": '""', "tenant-backend": "none"})
        # Only its own flags: not Abseil's, not the backends'.
        self.assertNotIn("flagfile", shown)
        self.assertNotIn("chunk-size", shown)

    def test_cpp_backends(self):
        common = {"listen": '""', "threads": "0", "chunk-size": "262144",
                  "max-chunk-size": "1048576", "list-batch-size": "512",
                  "shutdown-grace-ms": "2000"}
        shown = self.check_help("sftpgate-localfs-backend",
                                dict(common, root='""'))
        self.assertNotIn("capacity", shown)
        self.check_help("sftpgate-memory-backend",
                        dict(common, capacity="1073741824",
                             **{"max-inodes": "1048576"}))

    def test_every_built_cpp_sdk_backend(self):
        # Whatever C++ backends this build has (the s3 one needs extra
        # packages; test backends too): the SDK's flags, defaults, exit 0.
        found = []
        for name in sorted(os.listdir(BIN_DIR)):
            path = os.path.join(BIN_DIR, name)
            if not re.fullmatch(r"sftpgate-[\w-]+-backend", name):
                continue
            with open(path, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue  # a launcher script (Node, Python)
            found.append(name)
            with self.subTest(binary=name):
                self.check_help(name, {"listen": '""', "chunk-size": "262144",
                                       "shutdown-grace-ms": "2000"})
        self.assertIn("sftpgate-localfs-backend", found)
        self.assertIn("sftpgate-memory-backend", found)

    def test_conformance(self):
        self.check_help("sftpgate-conformance", {
            "target": '""', "root": '"/"', "timeout-ms": "10000",
            "check-timeout-ms": "300000", "list": "false", "filter": '""'})

    def test_node_backend(self):
        self.check_help("sftpgate-node-memory-backend",
                        {"listen": '"127.0.0.1:7000"', "proto": None})

    def test_python_programs(self):
        for binary, flags in (
                ("sftpgate-python-memory-backend",
                 ("--listen", "--workers")),
                ("sftpgate-postgres-backend",
                 ("--listen", "--dsn", "--pool-size", "--workers")),
                ("sftpgate-python-authenticator",
                 ("--listen", "--users", "--workers"))):
            with self.subTest(binary=binary):
                proc = run(binary, "--help")
                self.assertEqual(proc.returncode, 0, proc.stderr)
                for flag in flags:
                    # A long flag's help may start on the next line.
                    self.assertRegex(proc.stdout, r"(?m)^  " + re.escape(flag)
                                     + r"\b.*(\n {8,}.*)?\(default: [^)]*\)$")

    def test_help_wins_over_mistakes_elsewhere(self):
        for binary, args in (
                ("sftpgate", ["--config", "/nonexistent.toml", "--bogus"]),
                ("sftpgate-memory-backend", ["--bogus", "extra"])):
            with self.subTest(binary=binary):
                proc = run(binary, *args, "--help")
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn("--listen (default: ", proc.stdout)

    def test_version(self):
        proc = run("sftpgate", "--version")
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"^sftpgate \d+\.\d+\.\d+\n$")
        proc = run("sftpgate-memory-backend", "--version")
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"^sftpgate-memory-backend \d+\.")


class SpellingTest(unittest.TestCase):
    """'-' and '_' in flag names, and the exit status of usage errors."""

    def assertUsageError(self, proc, *words):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        for word in words:
            self.assertIn(word, proc.stderr)

    def test_front_end_both_spellings(self):
        for flag in ("--log-format", "--log_format"):
            with self.subTest(flag=flag):
                proc = run("sftpgate", "--backend", "127.0.0.1:1", "--users",
                           "/nonexistent", "--host-key", "/nonexistent",
                           f"{flag}=xml")
                self.assertUsageError(proc, "log_format must be text or json")

    def test_cpp_backends_both_spellings(self):
        for binary in ("sftpgate-localfs-backend", "sftpgate-memory-backend"):
            for chunk, max_chunk in (("--chunk-size", "--max-chunk-size"),
                                     ("--chunk_size", "--max_chunk_size")):
                with self.subTest(binary=binary, flag=chunk):
                    proc = run(binary, "--listen", "127.0.0.1:0", "--root",
                               "/", chunk, "4096", f"{max_chunk}=1024")
                    if binary == "sftpgate-memory-backend":
                        # no --root: the memory backend refuses it by name
                        self.assertUsageError(proc, "unknown flag --root")
                        proc = run(binary, "--listen", "127.0.0.1:0", chunk,
                                   "4096", f"{max_chunk}=1024")
                    self.assertUsageError(
                        proc, "need 0 < --chunk-size <= --max-chunk-size")

    def test_cpp_backend_starts_with_dashed_flags(self):
        with tempfile.TemporaryDirectory() as root:
            proc = subprocess.Popen(
                [os.path.join(BIN_DIR, "sftpgate-localfs-backend"),
                 "--root", root, "--listen", "127.0.0.1:0",
                 "--chunk-size", "65536", "--list-batch-size=64",
                 "--shutdown-grace-ms", "100"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stderr.readline()
                self.assertRegex(line, r"^listening on 127\.0\.0\.1:\d+")
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
                proc.stderr.close()

    def test_cpp_backend_ignores_sighup(self):
        # A SIGHUP meant for the front end (e.g. sent to every sftpgate
        # process) must not kill a backend; SIGTERM still stops it cleanly.
        proc = subprocess.Popen(
            [os.path.join(BIN_DIR, "sftpgate-memory-backend"), "--listen",
             "127.0.0.1:0"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            self.assertRegex(proc.stderr.readline(), r"^listening on ")
            proc.send_signal(signal.SIGHUP)
            self.assertIn("nothing to reload, ignored",
                          proc.stderr.readline())
            self.assertIsNone(proc.poll())
            proc.terminate()
            self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()

    def test_conformance_both_spellings(self):
        for flag in ("--timeout-ms", "--timeout_ms"):
            with self.subTest(flag=flag):
                proc = run("sftpgate-conformance", "--target", "127.0.0.1:1",
                           flag, "0")
                self.assertUsageError(proc, "positive timeouts")

    def test_python_both_spellings(self):
        for flag in ("--pool-size", "--pool_size"):
            with self.subTest(flag=flag):
                proc = run("sftpgate-postgres-backend", "--dsn", "x", flag,
                           "many")
                self.assertUsageError(proc, "--pool-size", "invalid int")

    def test_unknown_flag_exits_2_pointing_at_help(self):
        for binary in ("sftpgate", "sftpgate-localfs-backend",
                       "sftpgate-memory-backend", "sftpgate-conformance",
                       "sftpgate-node-memory-backend",
                       "sftpgate-python-memory-backend"):
            with self.subTest(binary=binary):
                proc = run(binary, "--no-such-flag=1")
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("no-such-flag", proc.stderr.replace("_", "-"))
                if not binary.startswith("sftpgate-python"):
                    self.assertIn(f"{binary} --help", proc.stderr)

    def test_missing_listen_points_at_working_help(self):
        proc = run("sftpgate-memory-backend")
        self.assertUsageError(proc, "--listen is required",
                              "sftpgate-memory-backend --help")


class HostKeyTest(unittest.TestCase):
    """A .pub file given as --host-key is named for what it is."""

    def test_public_key_as_host_key(self):
        with tempfile.TemporaryDirectory() as tmp:
            key = os.path.join(tmp, "id")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", key], check=True, timeout=TIMEOUT)
            users = os.path.join(tmp, "users.toml")
            with open(users, "w") as f, open(key + ".pub") as pub:
                f.write('[[user]]\nname = "a"\nauthorized_keys = ["%s"]\n'
                        % pub.read().strip())
            start = time.monotonic()
            proc = run("sftpgate", "--listen", "127.0.0.1:0", "--backend",
                       "127.0.0.1:1", "--users", users, "--host-key",
                       key + ".pub")
            self.assertLess(time.monotonic() - start, TIMEOUT)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("holds a public key", proc.stderr)
            self.assertNotIn("chmod", proc.stderr)


if __name__ == "__main__":
    unittest.main()
