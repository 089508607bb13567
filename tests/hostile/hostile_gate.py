"""Fixture of the hostile tests, built on the e2e harness (tests/e2e).

`HostileGate` is the e2e `Gate` (sftpgate on port 0 + a backend on a unix socket, users
alice/bob/reader/admin) with three additions: extra sftpgate flags, the
instrumented Python backend (instrumented_backend.py) as a backend, and
killing/restarting the backend on the same address while sftpgate runs.

`SessionWorker` is the "second session": a thread doing real put/stat/get
through paramiko's SFTPClient in a loop, recording every failure, so a test
can assert that an abusive session never disturbed anyone else.
"""

import hashlib
import os
import signal
import sys
import threading
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402  (the e2e fixture, owned by tests/e2e)
from harness import HOST  # noqa: E402,F401

INSTRUMENTED = "instrumented"


class HostileGate(harness.Gate):
    """A Gate whose sftpgate gets `gate_flags`, whose backend can be
    SIGKILLed and restarted at the same address, and which can run the
    instrumented Python backend (backend="instrumented")."""

    def __init__(self, backend, gate_flags=(), backend_flags=()):
        # The instrumented backend takes the place of the Python SDK's
        # example backend, whose launcher the harness checks for.
        self.real_backend = backend
        super().__init__("python-memory" if backend == INSTRUMENTED
                         else backend)
        self.gate_flags = list(gate_flags)
        self.backend_flags = list(backend_flags)
        self.backend_args = None
        self.events = os.path.join(self.tmp, "backend-events.log")

    def _spawn(self, name, args):
        if name == "sftpgate":
            args = args + self.gate_flags
        elif name.endswith("-backend"):
            if self.real_backend == INSTRUMENTED:
                pythonpath = ":".join(
                    [os.environ.get("SFTPGATE_PYTHONPATH", ""),
                     os.path.join(REPO, "sample-backends", "python-memory")])
                args = ["env", f"PYTHONPATH={pythonpath}", "/usr/bin/python3",
                        os.path.join(HERE, "instrumented_backend.py"),
                        "--events", self.events] + args[1:]
            args = args + self.backend_flags
            self.backend_args = (name, args)
        return super()._spawn(name, args)

    # ----- processes -----

    def proc(self, name):
        """The live Popen named `name` (last started)."""
        for n, proc, _ in reversed(self.procs):
            if n == name:
                return proc
        raise KeyError(name)

    def gate_proc(self):
        return self.proc("sftpgate")

    def backend_proc(self):
        return self.proc(self.backend_args[0])

    def backend_listen(self, name):
        # A unix socket: the restarted backend binds the same address (a
        # TCP port, once free, could be taken by another test meanwhile).
        return "unix:" + os.path.join(self.tmp, name + ".sock")

    def kill_backend(self):
        """SIGKILLs the backend (its whole process group) and waits."""
        proc = self.backend_proc()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def restart_backend(self):
        """Starts the backend again with the same arguments (same address)
        and waits until it listens."""
        name, args = self.backend_args
        self._start_listening(name, args, spawn=super()._spawn)

    def events_lines(self):
        """Lines the instrumented backend wrote (open_write/commit/abort)."""
        if not os.path.exists(self.events):
            return []
        with open(self.events) as f:
            return f.read().splitlines()


class GateTestCase(unittest.TestCase):
    """A test case against the class's `gate` (a HostileGate) that prints
    the gate's log written during a test when that test fails."""

    def setUp(self):
        self._log_start = self.gate.log_offsets()

    def run(self, result=None):
        result = result or self.defaultTestResult()
        bad = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > bad:
            print(f"\n[hostile] {self.id()} failed; logs:\n"
                  f"{self.gate.log_tail(getattr(self, '_log_start', None))}")
        return out


class SessionWorker(threading.Thread):
    """Another user's session that must keep working throughout: uploads a
    small file, stats it and downloads it again, over and over, checking
    the bytes. Every failure is recorded (never raised in the thread)."""

    def __init__(self, gate, user="bob"):
        super().__init__(daemon=True, name=f"worker-{user}")
        self.gate = gate
        self.user = user
        self.iterations = 0
        self.errors = []
        self._stop_event = threading.Event()
        self._progress = threading.Condition()

    def run(self):
        try:
            with self.gate.paramiko(self.user) as sftp:
                sftp.get_channel().settimeout(60)
                n = 0
                while not self._stop_event.is_set():
                    n += 1
                    data = hashlib.sha256(str(n).encode()).digest() * (
                        1 + n % 300)
                    path = f"/worker-{n % 4}.bin"
                    with sftp.open(path, "wb") as f:
                        f.write(data)
                    if sftp.stat(path).st_size != len(data):
                        raise AssertionError(f"{path}: wrong size after put")
                    with sftp.open(path, "rb") as f:
                        got = f.read()
                    if got != data:
                        raise AssertionError(f"{path}: wrong bytes after get")
                    with self._progress:
                        self.iterations += 1
                        self._progress.notify_all()
        except BaseException:  # recorded for the test thread
            self.errors.append(traceback.format_exc())
            with self._progress:
                self._progress.notify_all()

    def wait_progress(self, iterations=1, timeout=60.0):
        """Waits until `iterations` more rounds completed; False on timeout
        or when the worker failed."""
        deadline = time.monotonic() + timeout
        with self._progress:
            target = self.iterations + iterations
            while self.iterations < target and not self.errors:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(left)
            return not self.errors

    def stop(self):
        self._stop_event.set()
        self.join(timeout=60)
