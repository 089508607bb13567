"""The servers the benchmark compares, each started on a free loopback port.

Every server is driven by the same OpenSSH `sftp` client with the same key
and cipher; only the server side differs:

  OpenSshServer      Debian's sshd with the standard sftp-server, files on
                     a tmpfs directory.
  SftpgateServer     build/bin/sftpgate in front of a backend process
                     (memory, or localfs on the same tmpfs).
"""

import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "tests"))
from process_stop import stop_processes  # noqa: E402 (tests/process_stop.py)
from proc_status import status_kib  # noqa: E402 (tests/proc_status.py)

CIPHER = "aes128-gcm@openssh.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def descendants(*pids):
    """All live descendant pids of `pids` (one scan of /proc, however many:
    OpenSSH holds three processes per session, 6,000 at 2,000 sessions)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    out, todo = set(), list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def with_descendants(pids):
    """`pids` and all their live descendants."""
    return set(pids) | descendants(*pids)


def pss_kib(pids):
    """Sum of proportional set sizes: shared pages are split, not counted
    once per process, so forking servers are measured fairly."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class PeakGrowth:
    """Context manager: how far the memory of the processes that serve
    sessions rose above where it was on entry, at its peak, in KiB (.kib).

    sftpgate: the front end's VmHWM, reset to its VmRSS on entry through
    /proc/PID/clear_refs ("5"), so the peak is exact. OpenSSH forks per
    session, and a process's peak dies with it: the PSS of sshd and all its
    descendants is sampled instead (shared pages split, as in the idle row),
    every MIN_INTERVAL seconds, or ten times as long as a sample took when
    there are many processes, so sampling holds the harness to about a
    tenth of a core while OpenSSH runs; a spike shorter than the interval
    can be missed.
    """

    MIN_INTERVAL = 0.05

    def __init__(self, server):
        self.server, self.kib = server, None
        self._pid = server.peak_pid()
        self._stop = threading.Event()
        self._thread = None

    def _pss(self):
        roots = [p for pids in self.server.memory_pids().values() for p in pids]
        return pss_kib(with_descendants(roots))

    def _sample(self):
        interval = self.MIN_INTERVAL
        while not self._stop.wait(interval):
            start = time.monotonic()
            self._peak = max(self._peak, self._pss())
            interval = max(self.MIN_INTERVAL, 10 * (time.monotonic() - start))

    def __enter__(self):
        if self._pid:
            with open(f"/proc/{self._pid}/clear_refs", "w") as f:
                f.write("5")
            self._base = status_kib(self._pid, "VmRSS")
        else:
            self._base = self._peak = self._pss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._pid:
            self.kib = status_kib(self._pid, "VmHWM") - self._base
        else:
            self._stop.set()
            self._thread.join()
            self.kib = max(self._peak, self._pss()) - self._base
        return False


def cpu_seconds(pids):
    """User + system CPU seconds of `pids`, including their reaped
    children (so sshd's exited per-session processes count)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


class Server:
    """Base: a running server plus how the client reaches it."""

    name = "?"
    user = "bench"

    def __init__(self, workdir, client_key):
        self.workdir = workdir
        self.client_key = client_key
        self.port = free_port()
        self.procs = []

    def remote_dir(self):
        """Directory the benchmark may use, as the client names it."""
        raise NotImplementedError

    def sftp_args(self):
        return [
            "sftp", "-q", "-P", str(self.port), "-i", self.client_key,
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"Ciphers={CIPHER}", "-o", "Compression=no",
            f"{self.user}@127.0.0.1",
        ]

    def memory_pids(self):
        """{role: [pids]} whose memory is charged to the server."""
        raise NotImplementedError

    def cpu_seconds(self, since=None):
        """{role: CPU seconds} used by the server's processes so far, or
        since an earlier reading."""
        time.sleep(0.2)  # let per-session processes exit and be reaped
        now = {}
        for role, pids in self.memory_pids().items():
            # Only the roots' own children are reaped into their counts;
            # live descendants are added separately.
            now[role] = cpu_seconds(with_descendants(pids))
        if since is None:
            return now
        return {role: now[role] - since.get(role, 0.0) for role in now}

    def peak_pid(self):
        """The process whose VmHWM PeakGrowth reads, or None to sample."""
        return None

    def restart_front_end(self):
        """Gives the next run a freshly started session-serving process,
        where there is a long-lived one (see SftpgateServer)."""

    def stop(self):
        stop_processes(self.procs)


class OpenSshServer(Server):
    name = "OpenSSH"
    user = "root"

    def __init__(self, workdir, client_key, data_dir):
        super().__init__(workdir, client_key)
        self.data_dir = data_dir
        host_key = os.path.join(workdir, "sshd_host_key")
        if not os.path.exists(host_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", host_key], check=True)
        config = os.path.join(workdir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile none
AuthorizedKeysFile {client_key}.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 1000
MaxSessions 10
LogLevel ERROR
# sshd starts sftp-server through root's shell (bash -c), and bash run by
# sshd reads ~/.bashrc unless it is a nested shell; this machine's runs
# pyenv's set-up, about 0.5 s of CPU per login that is no part of OpenSSH.
# SHLVL=1 makes bash count itself nested, so it skips the file.
SetEnv SHLVL=1
Ciphers {CIPHER},aes256-gcm@openssh.com,chacha20-poly1305@openssh.com
Subsystem sftp /usr/lib/openssh/sftp-server
""")
        os.makedirs("/run/sshd", exist_ok=True)
        self.procs.append(subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", config],
            stderr=open(os.path.join(workdir, "sshd.log"), "w")))
        wait_for_port(self.port, self.procs[0])

    def remote_dir(self):
        return self.data_dir

    def memory_pids(self):
        # (Its per-session processes are found afresh at each reading.)
        return {"server": [self.procs[0].pid]}


class SftpgateServer(Server):
    def __init__(self, workdir, client_key, bin_dir, backend, data_dir=None,
                 tag=""):
        super().__init__(workdir, client_key)
        # `tag` tells apart two builds serving the same backend (A/B).
        self.name = f"sftpgate{tag} ({backend})"
        logs = f"{backend}{tag.strip()}"
        backend_port = free_port()
        listen = f"127.0.0.1:{backend_port}"
        if backend == "memory":
            # Room for the largest set the workloads keep at once (the
            # 1 GiB bulk file twice while it is replaced, plus the parallel
            # files); the default capacity is 1 GiB.
            args = [os.path.join(bin_dir, "sftpgate-memory-backend"),
                    "--listen", listen, "--capacity", str(4 << 30)]
        elif backend == "python-memory":
            # The Python SDK's sample (bench.py's SDK row).
            args = [os.path.join(bin_dir, "sftpgate-python-memory-backend"),
                    "--listen", listen]
        else:
            args = [os.path.join(bin_dir, "sftpgate-localfs-backend"),
                    "--root", data_dir, "--listen", listen]
        log = open(os.path.join(workdir, f"backend-{logs}.log"), "w")
        self.procs.append(subprocess.Popen(args, stderr=log))
        wait_for_port(backend_port, self.procs[-1])

        with open(client_key + ".pub") as f:
            pubkey = f.read().strip()
        users = os.path.join(workdir, f"users-{logs}.toml")
        with open(users, "w") as f:
            f.write(f'[[user]]\nname = "{self.user}"\n'
                    f'authorized_keys = ["{pubkey}"]\n')
        self.front_end_log = os.path.join(workdir, f"sftpgate-{logs}.log")
        self.front_end_args = [
            os.path.join(bin_dir, "sftpgate"),
            "--listen", f"127.0.0.1:{self.port}", "--backend", listen,
            "--host-key", os.path.join(workdir, "sftpgate_host_key"),
            "--users", users, "--log-level", "warning",
            # Room for the idle row's 2,000 sessions (the default is 1,000),
            # and one user may hold them all.
            "--max-sessions", "5000", "--max-sessions-per-user", "0",
            # Every benchmark client comes from 127.0.0.1 and the concurrent
            # row starts up to 100 logins at once: no cap on logins in
            # flight (defaults 100 in total, 10 per source) and no bans.
            "--max-startups", "0", "--max-startups-per-source", "0",
            "--auth-max-failures", "0"]
        self._start_front_end()

    def _start_front_end(self):
        with open(self.front_end_log, "a") as log:
            self.procs.append(subprocess.Popen(self.front_end_args, stderr=log))
        wait_for_port(self.port, self.procs[-1])

    def peak_pid(self):
        return self.procs[1].pid

    def restart_front_end(self):
        """The front end holds no state the backend does not: restarting it
        keeps the files and drops the heap earlier rows left resident (the
        arenas keep up to 16 MiB free each, see process_tuning.h), so a
        memory peak measured next is the run's own."""
        stop_processes(self.procs[1:])
        del self.procs[1:]
        self._start_front_end()

    def remote_dir(self):
        return "/"

    def memory_pids(self):
        return {"front end": [self.procs[1].pid],
                "backend": [self.procs[0].pid]}
