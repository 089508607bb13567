"""Fixture of the replica tests, built on the e2e harness (tests/e2e).

`ReplicaGate` is the e2e `Gate` with the localfs backend, except that the
one backend becomes `count` sftpgate-localfs-backend replicas serving the
SAME directory, each on its own unix socket, and sftpgate is started with
`--backend unix:/path/replica-0.sock,/path/replica-1.sock,...` so its
channel balances over them. A replica can be SIGKILLed and restarted on its
socket while the rest run, and `read_bytes()` tells how much file data a replica has read from
disk (the localfs backend reads file contents with pread(2), which
/proc/PID/io counts in rchar; gRPC's socket I/O uses recvmsg/sendmsg, which
it does not), so a test can see which replicas serve downloads.

Not thread-safe: used by the test's main thread only.
"""

import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402  (the e2e fixture, owned by tests/e2e)
from harness import HOST  # noqa: E402,F401

BACKEND = "localfs"


class ReplicaGate(harness.Gate):
    """sftpgate in front of `count` localfs replicas over one directory."""

    def __init__(self, count=3, gate_flags=()):
        super().__init__(BACKEND)
        self.count = count
        self.gate_flags = list(gate_flags)
        self.replica_args = []  # argv of replica i (same socket on restart)

    # The harness starts one backend, then sftpgate pointing at it: here
    # that one backend becomes `count` replicas, each on its own unix
    # socket (a restarted replica binds the same address, which no other
    # test can take meanwhile), and sftpgate's target names them all.
    def _start_backend(self, name, args):
        for i in range(self.count):
            argv = list(args)
            argv[argv.index("--listen") + 1] = "unix:" + os.path.join(
                self.tmp, self.replica_name(i) + ".sock")
            self.replica_args.append(argv)
            super()._start_backend(self.replica_name(i), argv)
        return self.backend_target()

    def _spawn(self, name, args):
        if name == "sftpgate":
            args = list(args) + self.gate_flags
        return super()._spawn(name, args)

    @staticmethod
    def replica_name(i):
        return f"replica-{i}"

    def backend_target(self):
        """The gRPC target naming every replica (unix: address list)."""
        paths = [argv[argv.index("--listen") + 1][len("unix:"):]
                 for argv in self.replica_args]
        return "unix:" + ",".join(paths)

    # ----- processes -----

    def proc(self, name):
        """The Popen last started as `name`."""
        for n, proc, _ in reversed(self.procs):
            if n == name:
                return proc
        raise KeyError(name)

    def replica(self, i):
        return self.proc(self.replica_name(i))

    def gate_proc(self):
        return self.proc("sftpgate")

    def stop_replica(self, i, sig=signal.SIGKILL):
        """Sends `sig` to replica i and reaps it. SIGKILL: no goodbye;
        SIGTERM: the SDK host reports NOT_SERVING, cancels the calls in
        flight and exits."""
        proc = self.replica(i)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def restart_replica(self, i):
        """Starts replica i again with its old command line (same socket)
        and waits until it listens."""
        proc, _ = self._start_listening(self.replica_name(i),
                                        self.replica_args[i])
        return proc

    def open_paths(self, i):
        """Paths of the files replica i has open now (fds that vanish while
        being listed are skipped)."""
        fd_dir = f"/proc/{self.replica(i).pid}/fd"
        paths = []
        for fd in os.listdir(fd_dir):
            try:
                paths.append(os.readlink(os.path.join(fd_dir, fd)))
            except FileNotFoundError:
                pass
        return paths

    def read_bytes(self, i):
        """Bytes replica i has read with read(2)/pread(2) since it started
        (rchar of /proc/PID/io): file data served to downloads."""
        with open(f"/proc/{self.replica(i).pid}/io") as f:
            for line in f:
                key, value = line.split(":")
                if key == "rchar":
                    return int(value)
        raise RuntimeError("no rchar in /proc/PID/io")
