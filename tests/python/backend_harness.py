"""Process plumbing shared by the polyglot backend tests (tests/python,
tests/node, tests/postgres): start a backend, wait until it listens, run
the conformance suite against it, stop everything whatever happens.

Every child gets SIGKILL if the test runner dies (ctest timeout), lives in
its own process group, and logs to a file that is printed when a step
fails. A Stack stops what was started, in reverse order, on success,
failure or SIGTERM.

Environment:
  SFTPGATE_BIN_DIR    where sftpgate, sftpgate-conformance and the backend
                      launchers are (default: build/bin of this checkout)
  SFTPGATE_TEST_KEEP  "1" keeps temp dirs (logs) for inspection
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from process_stop import stop_process  # noqa: E402 (tests/process_stop.py)

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
KEEP = os.environ.get("SFTPGATE_TEST_KEEP") == "1"
START_TIMEOUT = 60.0

_LISTENING = re.compile(rb"listening on (\S+)")
# sftpgate's "listening" event (text or JSON log); group 1 is the port.
GATE_LISTENING = re.compile(rb'(?: listening address=\S+ port=|"event":'
                            rb'"listening","address":"[^"]*","port":")(\d+)')


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def binary(name):
    """Path of a built program; a clear failure (never a skip) if missing."""
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise SystemExit("FAIL: %s is not built (SFTPGATE_BIN_DIR=%s); build the "
                         "project first" % (path, BIN_DIR))
    return path


def _die_with_parent():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Process:
    """One child process logging to `log_path`."""

    def __init__(self, name, args, log_path, env=None, cwd=None, stop_signal=signal.SIGTERM):
        self.name = name
        self.log_path = log_path
        self.stop_signal = stop_signal
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log_path, "ab") as out:
            self.popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                          start_new_session=True,
                                          preexec_fn=_die_with_parent)

    def log_text(self, max_lines=80):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-max_lines:])

    def wait_listening(self, timeout=START_TIMEOUT):
        """Waits for "listening on ADDR" in the log; returns ADDR."""
        return self.wait_log(_LISTENING, timeout).group(1).decode()

    def wait_log(self, regex, timeout=START_TIMEOUT):
        """Waits until the log matches `regex` (bytes); returns the match.
        Servers bind port 0 and say where they listen: the port is learnt
        from the log, never picked beforehand."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                found = regex.search(f.read())
            if found:
                return found
            if self.popen.poll() is not None:
                raise RuntimeError("%s exited with %s before logging %r:\n%s"
                                   % (self.name, self.popen.returncode,
                                      regex.pattern, self.log_text()))
            time.sleep(0.05)
        raise RuntimeError("%s did not log %r within %.0fs:\n%s"
                           % (self.name, regex.pattern, timeout, self.log_text()))

    def stop(self, timeout=15.0):
        """Stops the process group gently, then by force. Returns the exit
        status of the main process."""
        if stop_process(self.popen, self.stop_signal, timeout,
                        group=True) is None:
            log("%s did not stop in %.0fs: killed" % (self.name, timeout))
        return self.popen.returncode


class Stack:
    """Temp dir + started processes, torn down in reverse on exit.

    Use as a context manager; SIGTERM/SIGINT during the test unwind it too.
    """

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.tmp, 0o755)
        self._cleanups = []
        self.processes = []

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _raise_exit)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and exc_type is not SystemExit:
            self.dump_logs()
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception as error:  # pylint: disable=broad-except
                log("cleanup failed: %r" % error)
        if KEEP:
            log("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def defer(self, fn):
        self._cleanups.append(fn)

    def spawn(self, name, args, env=None, cwd=None, stop_signal=signal.SIGTERM):
        process = Process(name, args, os.path.join(self.tmp, name + ".log"), env=env, cwd=cwd,
                          stop_signal=stop_signal)
        self.processes.append(process)
        self.defer(process.stop)
        return process

    def dump_logs(self):
        for process in self.processes:
            print("----- %s log (last lines) -----\n%s" % (process.name, process.log_text()),
                  flush=True)


def run_part(suite, parts, argv):
    """The main() of a runner whose ctest entries each run one part:
    `argv` is [PROGRAM, PART]; parts maps a part's name to a function
    taking the Stack and returning whether the part passed. Prints the
    logs of the stack's processes when it failed. Returns the exit status
    (0 passed, 1 failed, 2 usage)."""
    if len(argv) != 2 or argv[1] not in parts:
        print("usage: %s {%s}" % (os.path.basename(argv[0]), "|".join(parts)),
              file=sys.stderr)
        return 2
    with Stack("sftpgate-%s-%s-" % (suite, argv[1])) as stack:
        ok = parts[argv[1]](stack)
        if not ok:
            stack.dump_logs()
    log("%s %s: %s" % (suite, argv[1], "PASSED" if ok else "FAILED"))
    return 0 if ok else 1


def _raise_exit(signum, _frame):
    raise SystemExit("interrupted by signal %d" % signum)


def run(args, timeout=600, input_text=None, env=None, cwd=None):
    """Runs a command to completion; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(args, input=input_text, capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd,
                          stdin=None if input_text is not None else subprocess.DEVNULL)


def run_conformance(backend_args, extra_args=()):
    """Runs the conformance suite against a backend started by the
    conformance helper's runner (backend-sdk/conformance/run_against.sh), which
    picks the port: `backend_args` may use its {addr}/{port} placeholders.
    Prints the report. Returns (ok, {check name: PASS/FAIL/SKIP})."""
    suite = binary("sftpgate-conformance")
    runner = os.path.join(REPO, "backend-sdk", "conformance", "run_against.sh")
    log("conformance suite against: %s" % " ".join(backend_args))
    proc = run([runner, suite] + list(extra_args) + ["--"] + list(backend_args), timeout=1200)
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    sys.stdout.flush()
    results = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(PASS|FAIL|SKIP) ([^\s:]+)", line)
        if match:
            results[match.group(2)] = match.group(1)
    return proc.returncode == 0 and bool(results), results


def python_env():
    """Environment for running SDK-based Python code from the source tree:
    the SDK and the generated stubs (BUILD/python) on PYTHONPATH."""
    build = os.path.dirname(BIN_DIR)
    paths = [os.path.join(REPO, "backend-sdk", "python"), os.path.join(build, "python")]
    if not os.path.exists(os.path.join(build, "python", "sftpgate", "v1", "backend_pb2.py")):
        raise SystemExit("FAIL: generated Python stubs missing in %s/python; build the "
                         "project first" % build)
    return {"PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}

