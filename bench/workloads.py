"""The measured workloads. Each `run` returns, per server and round, one
number or a dict {metric: number} when a row measures several things.

Throughput rows are MiB/s (higher is better); the listing and small-file
rows are seconds (lower is better); memory is KiB or MiB (lower is
better). The client is always OpenSSH's `sftp`. Optional methods, called
unmeasured around each run: prepare(server), cleanup(server).
"""

import hashlib
import os
import selectors
import shutil
import subprocess
import time

import servers

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


def batch_args(server):
    """`sftp -b -` for `server`: commands come from stdin."""
    args = server.sftp_args()
    return args[:1] + ["-b", "-"] + args[1:]


def start_batch(server, commands, **popen):
    """Starts one sftp session running `commands`; returns the Popen."""
    proc = subprocess.Popen(batch_args(server), stdin=subprocess.PIPE,
                            **popen)
    proc.stdin.write(("\n".join(commands) + "\n").encode())
    proc.stdin.close()
    return proc


def batch(server, commands, timeout=600):
    """Runs `commands` in one sftp session; returns elapsed seconds."""
    start = time.monotonic()
    result = subprocess.run(batch_args(server),
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
        if not os.path.exists(self.src):  # (the SDK row reuses it)
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
            procs.append(start_batch(server, cmds, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE))
        for p in procs:
            if p.wait(timeout=900) != 0:
                raise RuntimeError(f"{server.name}: parallel sftp failed: "
                                   f"{p.stderr.read()[-2000:]!r}")
        elapsed = time.monotonic() - start
        for i in range(self.sessions):
            os.unlink(os.path.join(self.local_dir, f"par-down-{i}"))
        return 2 * self.sessions * self.size / MIB / elapsed

    def cleanup(self, server):
        """Removes the uploaded files (not measured), so that the servers'
        storage (tmpfs, memory backend) stays small."""
        batch(server, [f"rm {remote(server, f'par-{i}')}"
                       for i in range(self.sessions)])


def make_small_files(path, count, size):
    """A local directory of `count` random files of `size` bytes (kept if
    it exists: rows of the same count share it); returns their names."""
    names = [f"f{i:06d}" for i in range(count)]
    if not os.path.isdir(path):
        os.makedirs(path)
        for name in names:
            with open(os.path.join(path, name), "wb") as f:
                f.write(os.urandom(size))
    return names


class SmallFiles:
    """`count` files of `size` bytes uploaded with one `put -r`, login
    included. Seconds."""

    def __init__(self, local_dir, count, size):
        self.dir = os.path.join(local_dir, f"small-src-{count}")
        make_small_files(self.dir, count, size)
        self.round = 0

    def run(self, server):
        self.round += 1
        target = remote(server, f"small-{self.round}")
        return batch(server, [f"put -r {self.dir} {target}"])


def fresh_front_end(server):
    """Restarts sftpgate's front end (a no-op for OpenSSH, whose sessions
    are fresh processes anyway) and logs in once, so the measured run
    finds its backend channel connected: what follows is the run's own
    memory, not heap earlier rows left resident."""
    server.restart_front_end()
    batch(server, ["pwd"])


class UploadedOnce:
    """Base for rows that read a tree uploaded once per server beforehand,
    unmeasured."""

    def __init__(self, local_dir, remote_name):
        self.local_dir, self.remote_name = local_dir, remote_name
        self.uploaded = set()  # server objects

    def prepare(self, server):
        if server not in self.uploaded:
            batch(server, [f"put -r {self.local_dir} "
                           f"{remote(server, self.remote_name)}"], timeout=3600)
            self.uploaded.add(server)


class SmallDownloads(UploadedOnce):
    """`count` files of `size` bytes downloaded by one `get` each, in one
    session, login included (as the upload row): the per-request cost of
    small reads (open, stat, read, close per file). Seconds; every byte is
    compared with the source."""

    def __init__(self, local_dir, count, size):
        super().__init__(os.path.join(local_dir, f"small-src-{count}"),
                         f"small-down-{count}")
        self.names = make_small_files(self.local_dir, count, size)
        self.dst = self.local_dir + ".down"

    def run(self, server):
        os.makedirs(self.dst)
        base = remote(server, self.remote_name)
        secs = batch(server, [f"get {base}/{n} {self.dst}/{n}"
                              for n in self.names])
        for n in self.names:
            with open(os.path.join(self.local_dir, n), "rb") as a, \
                    open(os.path.join(self.dst, n), "rb") as b:
                if a.read() != b.read():
                    raise RuntimeError(f"{server.name}: {n} differs")
        shutil.rmtree(self.dst)
        return secs


class Listing(UploadedOnce):
    """`ls -l` of a directory holding `count` entries: seconds ("s"), and
    the peak memory growth while it runs ("MiB", see servers.PeakGrowth:
    sftpgate's front end, restarted before each run; OpenSSH's sshd and
    sftp-server processes): a listing must stream, not grow with the
    directory."""

    def __init__(self, local_dir, count):
        super().__init__(os.path.join(local_dir, f"many-{count}"),
                         f"many-{count}")
        os.makedirs(self.local_dir, exist_ok=True)
        for i in range(count):
            open(os.path.join(self.local_dir, f"entry-{i:06d}"), "wb").close()
        self.count = count

    def prepare(self, server):
        super().prepare(server)
        fresh_front_end(server)

    def run(self, server):
        target = remote(server, self.remote_name)
        with servers.PeakGrowth(server) as peak:
            start = time.monotonic()
            result = subprocess.run(batch_args(server),
                                    input=f"ls -l {target}\n", text=True,
                                    capture_output=True, timeout=1200)
            elapsed = time.monotonic() - start
        lines = [l for l in result.stdout.splitlines() if "entry-" in l]
        if result.returncode != 0 or len(lines) != self.count:
            raise RuntimeError(f"{server.name}: listing gave {len(lines)} "
                               f"entries: {result.stderr[-500:]}")
        return {"s": elapsed, "MiB": peak.kib / 1024}


def command_times(procs, timeout=1800):
    """Seconds each batch command of each sftp in `procs` took.

    `sftp -b` echoes each command ("sftp> put ...") as it starts it, and
    sets its stdout to line buffering, so the echo leaves the moment the
    previous command finished: a command's time runs from its echo to the
    next echo (or to the end of the output, for the last one). This costs
    the client nothing (no extra process or command between files, as
    `!date` would) and keeps OpenSSH's own client, unlike paramiko, whose
    Python packet handling would be the bottleneck. The harness reads all
    outputs in one loop, so its wake-up delay (well under a millisecond to
    a few on a busy machine) is added to every time, for every server
    alike. Raises if an sftp fails."""
    sel = selectors.DefaultSelector()
    state = {}  # fd -> [proc, unfinished line, last echo time, other output]
    for p in procs:
        sel.register(p.stdout, selectors.EVENT_READ)
        state[p.stdout.fileno()] = [p, b"", None, b""]
    times = []
    deadline = time.monotonic() + timeout
    while sel.get_map():
        if time.monotonic() > deadline:
            raise RuntimeError("sftp sessions did not finish")
        for key, _ in sel.select(timeout=1.0):
            st = state[key.fd]
            data = os.read(key.fd, 65536)
            now = time.monotonic()
            if not data:
                sel.unregister(key.fileobj)
                if st[2] is not None:
                    times.append(now - st[2])
                continue
            *lines, st[1] = (st[1] + data).split(b"\n")
            for line in lines:
                if line.startswith(b"sftp> "):
                    if st[2] is not None:
                        times.append(now - st[2])
                    st[2] = now
                else:
                    st[3] += line + b"\n"
    for p, _, _, other in state.values():
        if p.wait() != 0:
            raise RuntimeError(f"sftp failed: {other[-2000:]!r}")
    return times


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)]


class Concurrent:
    """`sessions` sftp sessions at once, each uploading `files` files of
    `size` bytes, then downloading them: how sharing the server between
    many sessions scales. Metrics: aggregate MiB/s over both directions,
    login included ("MiB/s"); the 99th percentile of the per-file times
    (see command_times) over all sessions ("p99 ms"); the peak memory
    growth while it runs ("MiB", servers.PeakGrowth). Downloads are checked
    by size (the bulk row checks bytes)."""

    def __init__(self, local_dir, sessions, files, size):
        self.sessions, self.files, self.size = sessions, files, size
        self.local_dir = local_dir
        self.srcs = []
        for k in range(files):
            self.srcs.append(os.path.join(local_dir, f"conc-src-{size}-{k}"))
            if not os.path.exists(self.srcs[-1]):
                make_file(self.srcs[-1], size)
        self.dst = os.path.join(local_dir, "conc-down")

    def prepare(self, server):
        fresh_front_end(server)

    def run(self, server):
        os.makedirs(self.dst)
        procs = []
        try:
            with servers.PeakGrowth(server) as peak:
                start = time.monotonic()
                for i in range(self.sessions):
                    names = [remote(server, f"conc-{i}-{k}")
                             for k in range(self.files)]
                    cmds = ([f"put {src} {n}" for src, n in zip(self.srcs, names)] +
                            [f"get {n} {self.dst}/{i}-{k}"
                             for k, n in enumerate(names)])
                    procs.append(start_batch(server, cmds, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT))
                times = command_times(procs)
                elapsed = time.monotonic() - start
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.stdout.close()
        sizes = [os.path.getsize(os.path.join(self.dst, f))
                 for f in os.listdir(self.dst)]
        if sizes != [self.size] * (self.sessions * self.files):
            raise RuntimeError(f"{server.name}: downloads incomplete")
        shutil.rmtree(self.dst)
        return {"MiB/s": 2 * self.sessions * self.files * self.size / MIB / elapsed,
                "p99 ms": percentile(times, 99) * 1000,
                "MiB": peak.kib / 1024}

    def cleanup(self, server):
        """Removes the uploads (unmeasured), keeping the servers' storage
        small."""
        batch(server, [f"rm {remote(server, 'conc-*')}"])


class IdleSessions:
    """`count` authenticated, idle sftp sessions held open at once: the
    server side's memory growth per session, KiB of PSS per role (OpenSSH:
    "server"; sftpgate: "front end", "backend"), and "login s", the wall
    time until all of them were logged in, LOGIN_BATCH at a time."""

    def __init__(self, count):
        self.count = count

    # Logins in flight at once: the row measures held sessions, not a
    # login storm.
    LOGIN_BATCH = 10

    def run(self, server):
        before = {role: _pss(pids) for role, pids in server.memory_pids().items()}
        procs = []
        try:
            start = time.monotonic()
            for first in range(0, self.count, self.LOGIN_BATCH):
                batch_ = []
                for _ in range(min(self.LOGIN_BATCH, self.count - first)):
                    # (stderr joins stdout: two descriptors per session in
                    # the harness, not three; 2,000 sessions stay well
                    # within the open-file limit bench.py raises.)
                    p = subprocess.Popen(batch_args(server),
                                         stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True)
                    p.stdin.write("pwd\n")
                    p.stdin.flush()
                    batch_.append(p)
                    procs.append(p)
                for p in batch_:  # answered pwd: authenticated and serving
                    while "Remote working directory" not in p.stdout.readline():
                        if p.poll() is not None:
                            raise RuntimeError(
                                f"{server.name}: idle session {len(procs)} "
                                f"died: {p.stdout.read()[-500:]}")
            login = time.monotonic() - start
            time.sleep(1.0)
            after = {role: _pss(pids) for role, pids in server.memory_pids().items()}
        finally:
            for p in procs:
                p.stdin.close()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                p.stdout.close()
        out = {role: (after[role] - before[role]) / self.count for role in after}
        out["login s"] = login
        return out


def _pss(pids):
    # Forking servers grow new processes: re-read descendants each time.
    return servers.pss_kib(servers.with_descendants(pids))
