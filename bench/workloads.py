"""The measured workloads. Each returns one number per server and round.

Throughput rows are MiB/s (higher is better); the listing and small-file
rows are seconds (lower is better); the idle-session row is KiB of memory
per session (lower is better). The client is always OpenSSH's `sftp`.
"""

import hashlib
import os
import subprocess
import time

MIB = 1024 * 1024


def make_file(path, size):
    """Writes `size` pseudo-random bytes (incompressible, cheap to make)."""
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(block[i % 251:] + block[:i % 251])
        f.write(block[: size % MIB])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def batch(server, commands, timeout=600):
    """Runs `commands` in one sftp session; returns elapsed seconds."""
    start = time.monotonic()
    result = subprocess.run(server.sftp_args()[:1] + ["-b", "-"] +
                            server.sftp_args()[1:],
                            input="\n".join(commands) + "\n", text=True,
                            capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise RuntimeError(f"{server.name}: sftp failed: {result.stderr[-2000:]}")
    return elapsed


def remote(server, name):
    base = server.remote_dir().rstrip("/")
    return f"{base}/{name}"


class Bulk:
    """One large upload, then its download, in one session each."""

    def __init__(self, local_dir, size):
        self.size = size
        self.src = os.path.join(local_dir, f"bulk-{size}")
        self.dst = self.src + ".down"
        make_file(self.src, size)
        self.digest = sha256(self.src)

    def upload(self, server):
        return self.size / MIB / batch(server, [f"put {self.src} {remote(server, 'bulk')}"])

    def download(self, server):
        secs = batch(server, [f"get {remote(server, 'bulk')} {self.dst}"])
        if sha256(self.dst) != self.digest:
            raise RuntimeError(f"{server.name}: downloaded bytes differ")
        os.unlink(self.dst)
        return self.size / MIB / secs


class Parallel:
    """N sessions at once, each uploading then downloading its own file.
    Result: aggregate MiB/s over both directions."""

    def __init__(self, local_dir, sessions, size):
        self.sessions, self.size = sessions, size
        self.src = os.path.join(local_dir, f"par-{size}")
        make_file(self.src, size)
        self.local_dir = local_dir

    def run(self, server):
        start = time.monotonic()
        procs = []
        for i in range(self.sessions):
            dst = os.path.join(self.local_dir, f"par-down-{i}")
            cmds = [f"put {self.src} {remote(server, f'par-{i}')}",
                    f"get {remote(server, f'par-{i}')} {dst}"]
            procs.append(subprocess.Popen(
                server.sftp_args()[:1] + ["-b", "-"] + server.sftp_args()[1:],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True))
            procs[-1].stdin.write("\n".join(cmds) + "\n")
            procs[-1].stdin.close()
        for p in procs:
            if p.wait(timeout=900) != 0:
                raise RuntimeError(f"{server.name}: parallel sftp failed: "
                                   f"{p.stderr.read()[-2000:]}")
        elapsed = time.monotonic() - start
        for i in range(self.sessions):
            os.unlink(os.path.join(self.local_dir, f"par-down-{i}"))
        return 2 * self.sessions * self.size / MIB / elapsed

    def cleanup(self, server):
        """Removes the uploaded files (not measured), so that the servers'
        storage (tmpfs, memory backend) stays small."""
        batch(server, [f"rm {remote(server, f'par-{i}')}"
                       for i in range(self.sessions)])


class SmallFiles:
    """`count` files of `size` bytes uploaded with one `put -r`. Seconds."""

    def __init__(self, local_dir, count, size):
        self.dir = os.path.join(local_dir, "small")
        os.makedirs(self.dir, exist_ok=True)
        for i in range(count):
            with open(os.path.join(self.dir, f"f{i:05d}"), "wb") as f:
                f.write(os.urandom(size))
        self.round = 0

    def run(self, server):
        self.round += 1
        target = remote(server, f"small-{self.round}")
        return batch(server, [f"put -r {self.dir} {target}"])


class Listing:
    """`ls -l` of a directory holding `count` entries. Seconds."""

    def __init__(self, local_dir, count):
        self.dir = os.path.join(local_dir, "many")
        os.makedirs(self.dir, exist_ok=True)
        for i in range(count):
            open(os.path.join(self.dir, f"entry-{i:06d}"), "wb").close()
        self.count = count
        self.prepared = set()

    def prepare(self, server):
        """Uploads the directory once per server (not measured)."""
        if server.name not in self.prepared:
            batch(server, [f"put -r {self.dir} {remote(server, 'many')}"],
                  timeout=1200)
            self.prepared.add(server.name)

    def run(self, server):
        target = remote(server, "many")
        self.prepare(server)
        start = time.monotonic()
        result = subprocess.run(
            server.sftp_args()[:1] + ["-b", "-"] + server.sftp_args()[1:],
            input=f"ls -l {target}\n", text=True, capture_output=True,
            timeout=600)
        elapsed = time.monotonic() - start
        lines = [l for l in result.stdout.splitlines() if "entry-" in l]
        if result.returncode != 0 or len(lines) != self.count:
            raise RuntimeError(f"{server.name}: listing gave {len(lines)} "
                               f"entries: {result.stderr[-500:]}")
        return elapsed


class IdleSessions:
    """`count` authenticated, idle sftp sessions held open at once; the
    server side's memory growth per session, KiB (PSS)."""

    def __init__(self, count):
        self.count = count

    # Logins in flight at once: the row measures held sessions, not a
    # login storm.
    LOGIN_BATCH = 10

    def run(self, server):
        before = {role: _pss(pids) for role, pids in server.memory_pids().items()}
        procs = []
        try:
            for start in range(0, self.count, self.LOGIN_BATCH):
                batch_ = []
                for _ in range(min(self.LOGIN_BATCH, self.count - start)):
                    p = subprocess.Popen(
                        server.sftp_args()[:1] + ["-b", "-"] +
                        server.sftp_args()[1:],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
                    p.stdin.write("pwd\n")
                    p.stdin.flush()
                    batch_.append(p)
                    procs.append(p)
                for p in batch_:  # answered pwd: authenticated and serving
                    while "Remote working directory" not in p.stdout.readline():
                        if p.poll() is not None:
                            raise RuntimeError(
                                f"{server.name}: idle session {len(procs)} "
                                f"died: {p.stderr.read()[-500:]}")
            time.sleep(1.0)
            after = {role: _pss(pids) for role, pids in server.memory_pids().items()}
        finally:
            for p in procs:
                p.stdin.close()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except Exception:
                    p.kill()
        return {role: (after[role] - before[role]) / self.count for role in after}


def _pss(pids):
    from servers import pss_kib, descendants
    # Forking servers grow new processes: re-read descendants each time.
    all_pids = set(pids)
    for pid in pids:
        all_pids.update(descendants(pid))
    return pss_kib(all_pids)
