"""docs/operations.md's "Running by hand" runs as written.

The block marked `<!-- running-by-hand: server -->` runs unchanged under
`bash -eu -o pipefail`, the way a newcomer pastes it: from a folder whose
`build/` is the build under test (a symlink, so the block's
`$PWD/build/bin` is that build and nothing is installed), with
`SFTPGATE_DIR` (the documented folder variable) set to a fresh scratch
folder, `SFTPGATE_PORT` (the documented port variable) set to 0 so
sftpgate binds a free port and logs it, `HOME` pointing into the scratch
folder, and the password on stdin for `sftpgate hash-password`. Then the
login line (`<!-- running-by-hand: login -->`) runs with OpenSSH sftp, its
documented port 2222 replaced by the logged one and non-interactive
options added, and a file put there must land where the doc says.

Also: every `build/bin/NAME` the README and operations.md mention exists.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests"))
from process_stop import stop_process  # noqa: E402 (tests/process_stop.py)
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
OPERATIONS = os.path.join(REPO, "docs", "operations.md")
README = os.path.join(REPO, "README.md")
PASSWORD = "first-hour-Pw7"
DOCUMENTED_PORT = "2222"
START_TIMEOUT = 60.0


def marked_block(text, marker):
    """The first ```sh block after `<!-- running-by-hand: MARKER -->`."""
    m = re.search(r"<!-- running-by-hand: " + re.escape(marker) +
                  r" -->\s*```sh\n(.*?)```", text, re.S)
    if m is None:
        raise AssertionError(f"operations.md has no sh block marked "
                             f"running-by-hand: {marker}")
    return m.group(1)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class RunningByHandTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sftpgate-by-hand-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        # The "source tree" the newcomer stands in: only build/ is needed.
        self.top = os.path.join(self.tmp, "src")
        os.makedirs(self.top)
        os.symlink(os.path.dirname(os.path.abspath(BIN_DIR)),
                   os.path.join(self.top, "build"))
        if os.path.basename(os.path.abspath(BIN_DIR)) != "bin":
            raise AssertionError(f"SFTPGATE_BIN_DIR={BIN_DIR} is not a "
                                 "build tree's bin/ folder")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.dir = os.path.join(self.tmp, "try")  # not created: the doc does
        self.log = os.path.join(self.tmp, "block.log")

    def start_block(self, block):
        script = os.path.join(self.tmp, "block.sh")
        with open(script, "w") as f:
            f.write(block)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": self.home, "SFTPGATE_DIR": self.dir,
               "SFTPGATE_PORT": "0", "LANG": "C.UTF-8"}
        with open(self.log, "wb") as out:
            proc = subprocess.Popen(
                ["bash", "-eu", "-o", "pipefail", script], cwd=self.top,
                env=env, stdin=subprocess.PIPE, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop, proc)
        proc.stdin.write((PASSWORD + "\n").encode())
        proc.stdin.close()
        return proc

    def stop(self, proc):
        # The block's shell, its background backend and sftpgate share
        # the session's process group.
        stop_process(proc, timeout=20, group=True)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def listening_port(self, proc):
        def port():
            if proc.poll() is not None:
                raise AssertionError(
                    f"the block exited with {proc.returncode} before "
                    f"sftpgate listened; its output:\n{self.log_text()}")
            m = re.search(r"\blistening\b.*\bport=(\d+)", self.log_text())
            return m and m.group(1)
        return wait_for(port, START_TIMEOUT, "sftpgate's listening line")

    def test_block_runs_and_alice_logs_in(self):
        with open(OPERATIONS) as f:
            doc = f.read()
        proc = self.start_block(marked_block(doc, "server"))
        port = self.listening_port(proc)

        login = marked_block(doc, "login").strip().splitlines()
        self.assertEqual(len(login), 1, login)
        argv = shlex.split(login[0])
        self.assertEqual(argv[0], "sftp")
        self.assertIn(DOCUMENTED_PORT, argv, "the login line's port")
        argv[argv.index(DOCUMENTED_PORT)] = port
        known_hosts = os.path.join(self.tmp, "known_hosts")
        # BatchMode=no before sftp's own -b (the first value wins), so
        # sshpass can answer the password prompt.
        argv[1:1] = ["-F", "/dev/null", "-o", "BatchMode=no", "-b", "-",
                     "-o", "StrictHostKeyChecking=accept-new",
                     "-o", f"UserKnownHostsFile={known_hosts}",
                     "-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=password",
                     "-o", "NumberOfPasswordPrompts=1"]
        local = os.path.join(self.tmp, "hello.txt")
        with open(local, "w") as f:
            f.write("hello from the first hour\n")
        result = subprocess.run(
            ["sshpass", "-e"] + argv, input=f"put {local} hello.txt\nls -l\n",
            env=dict(os.environ, SSHPASS=PASSWORD), capture_output=True,
            text=True, timeout=120)
        self.assertEqual(result.returncode, 0,
                         f"{shlex.join(result.args)}\n{result.stdout}\n"
                         f"{result.stderr}\nserver output:\n"
                         f"{self.log_text()}")
        self.assertRegex(result.stdout, r"alice +alice .* hello\.txt")

        # Where the doc says alice's files land, and the generated key.
        stored = os.path.join(self.dir, "store", "alice", "hello.txt")
        with open(stored) as f:
            self.assertEqual(f.read(), "hello from the first hour\n")
        key = os.stat(os.path.join(self.dir, "host_key"))
        self.assertEqual(key.st_mode & 0o777, 0o600)

    def test_built_binaries_the_docs_name_exist(self):
        named = set()
        for path in (README, OPERATIONS):
            with open(path) as f:
                named.update(re.findall(r"build/bin/([\w.-]+)", f.read()))
        self.assertIn("sftpgate", named)
        missing = sorted(n for n in named
                         if not os.access(os.path.join(BIN_DIR, n), os.X_OK))
        self.assertEqual(missing, [], f"named in the docs, not in {BIN_DIR}")


if __name__ == "__main__":
    unittest.main()
