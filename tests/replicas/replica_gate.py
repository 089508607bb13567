"""Fixture of the replica tests, built on the e2e harness (tests/e2e).

`ReplicaGate` is the e2e `Gate` with the localfs backend, except that the
one backend becomes `count` sftpgate-localfs-backend replicas serving the
SAME directory, each on its own free port, and sftpgate is started with
`--backend ipv4:127.0.0.1:p1,127.0.0.1:p2,...` so its channel balances over
them. A replica can be SIGKILLed and restarted on its port while the rest
run, and `read_bytes()` tells how much file data a replica has read from
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
        self.replica_args = []  # argv of replica i (same port on restart)

    # The harness starts one backend, then sftpgate pointing at it. Hooking
    # its spawns keeps its users, keys, seeding and logs: the first backend
    # spawn becomes replica 0 and brings up the others beside it, and
    # sftpgate gets the list of all of them as its target.
    def _spawn(self, name, args):
        if name == f"{BACKEND}-backend" and not self.replica_args:
            first = self._spawn_replica(args)
            for _ in range(1, self.count):
                port = harness.free_port()
                argv = list(args)
                argv[argv.index("--listen") + 1] = f"{HOST}:{port}"
                self._wait_port(port, self._spawn_replica(argv),
                                self.replica_name(len(self.replica_args) - 1))
            return first
        if name == "sftpgate":
            args = list(args)
            args[args.index("--backend") + 1] = self.backend_target()
            args += self.gate_flags
        return super()._spawn(name, args)

    def _spawn_replica(self, argv):
        self.replica_args.append(argv)
        return super()._spawn(self.replica_name(len(self.replica_args) - 1),
                              argv)

    @staticmethod
    def replica_name(i):
        return f"replica-{i}"

    def replica_port(self, i):
        argv = self.replica_args[i]
        return int(argv[argv.index("--listen") + 1].rsplit(":", 1)[1])

    def backend_target(self):
        """The gRPC target naming every replica (ipv4: address list)."""
        return "ipv4:" + ",".join(f"{HOST}:{self.replica_port(i)}"
                                  for i in range(len(self.replica_args)))

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
        """Starts replica i again with its old command line (same port) and
        waits until it listens."""
        proc = super()._spawn(self.replica_name(i), self.replica_args[i])
        self._wait_port(self.replica_port(i), proc, self.replica_name(i))
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
