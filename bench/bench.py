"""sftpgate vs OpenSSH sftp-server, side by side in one run.

Run through bench/run (it builds first). Rounds are interleaved: every
workload runs on OpenSSH, then on each sftpgate configuration, then again,
so drift on the machine hits all servers alike. The table shows medians
and the ratio sftpgate/OpenSSH, oriented so that >= 1.0 is "as good or
better" for speed rows; for time and memory rows the raw ratio is shown
and lower is better.
"""

import argparse
import datetime
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402
import workloads  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = workloads.MIB


ROW_KEYS = ("bulk", "parallel", "small", "small_down", "concurrent",
            "listing", "idle", "sdk", "s3")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int,
                   help="interleaved rounds (default 5, or 2 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, to check the harness (not for docs)")
    p.add_argument("--no-docs", action="store_true",
                   help="print the table without rewriting docs/benchmarks.md")
    p.add_argument("--no-growth", action="store_true",
                   help="run the concurrent, idle and listing rows at their "
                        "largest size only, without the cost-growth tables "
                        "(for A/B runs; --ab implies it)")
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"),
                   help="where sftpgate and the backends are (default: "
                        "build/bin, which bench/run builds)")
    p.add_argument("--ab", metavar="BIN_DIR",
                   help="same-run A/B: also run the memory backend with the "
                        "sftpgate and backend of BIN_DIR (another build), "
                        "as the column 'sftpgate B (memory)'; rows as usual. "
                        "Implies --no-docs")
    p.add_argument("--s3-store-delay-ms", type=int, default=0,
                   help="the s3 row reaches its store through a proxy that "
                        "delays each direction by this much (default 0)")
    p.add_argument("--only", default="",
                   help="comma-separated row keys to run (" +
                        ",".join(ROW_KEYS) + ")")
    args = p.parse_args()
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    unknown = set(filter(None, args.only.split(","))) - set(ROW_KEYS)
    if unknown:
        p.error(f"unknown rows: {','.join(sorted(unknown))}")
    return args


def sizes(quick, growth):
    """Workload sizes. The concurrent, idle and listing rows run at each of
    their sizes for the cost-growth tables (the main table shows the
    largest), or at the largest only without `growth`."""
    if quick:
        out = dict(bulk=32 * MIB, parallel=8 * MIB, small=200,
                   concurrent=[2, 4], concurrent_files=4, idle=[5, 20],
                   listing=[300, 1000])
    else:
        out = dict(bulk=1024 * MIB, parallel=256 * MIB, small=2000,
                   concurrent=[10, 30, 100], concurrent_files=20,
                   idle=[200, 1000, 2000], listing=[10000, 30000, 100000])
    if not growth:
        for key in ("concurrent", "idle", "listing"):
            out[key] = out[key][-1:]
    return out


class Job:
    """One workload, run once per server and round. `fn(server)` returns a
    number, or {metric: number} (results keep each metric); `fresh` jobs
    get newly started servers every round (see main)."""

    def __init__(self, key, label, fn, fresh=False):
        self.key, self.label, self.fn, self.fresh = key, label, fn, fresh
        self.workload = getattr(fn, "__self__", None)


class Row:
    """One line of a results table: `metric` of `job` (None: the job's
    number), ratio gate/OpenSSH per round. `ref_metric` names OpenSSH's
    counterpart where it differs (idle: "server" vs "front end")."""

    def __init__(self, job, unit, hib, metric=None, label=None, key=None,
                 ref_metric=None):
        self.job, self.unit, self.hib, self.metric = job, unit, hib, metric
        self.label = label or job.label
        self.key = key or job.key
        self.ref_metric = ref_metric or metric


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}, {ssh}, loopback, "
            f"files on tmpfs (/dev/shm), cipher {servers.CIPHER}")


def main():
    args = parse_args()
    only = set(filter(None, args.only.split(",")))
    want = lambda key: not only or key in only  # noqa: E731
    size = sizes(args.quick, growth=not (args.no_growth or args.ab))
    raise_open_file_limit()

    work = tempfile.mkdtemp(prefix="sftpgate-bench-")
    shm = tempfile.mkdtemp(prefix="sftpgate-bench-", dir="/dev/shm")
    local = os.path.join(shm, "local")
    os.makedirs(local)
    key = os.path.join(work, "client_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                   check=True)
    bin_dir = os.path.abspath(args.bin_dir)
    starts = iter(range(10**6))  # distinct data directories per server set

    def start():
        return start_servers(work, key, shm, bin_dir, f"s{next(starts)}-",
                             args.ab)

    started = []
    try:
        jobs, rows, growth = plan(want, size, local)
        results = {}  # (job label, metric, server name) -> [values]
        cpu = {}  # (job label, server name) -> [{role: CPU seconds}]
        names = []
        shared = [j for j in jobs if not j.fresh]
        if shared:
            started = start()
            names = [s.name for s in started]
            for rnd in range(args.rounds):
                run_round(rnd, shared, started, results, cpu)
            for server in started:
                server.stop()
        # Fresh servers each round for the idle row: after transfers, freed
        # heap would be reused by the idle sessions and hide their cost.
        for rnd in range(args.rounds):
            for job in (j for j in jobs if j.fresh):
                fresh = start()
                names = [s.name for s in fresh]
                try:
                    run_round(rnd, [job], fresh, results, cpu)
                finally:
                    for server in fresh:
                        server.stop()
        tables = []
        if rows:
            tables.append(render(rows, results, names))
            measured = {row.job for row in rows if not row.job.fresh}
            if measured:
                tables.append(render_cpu([j for j in shared if j in measured],
                                         cpu, names))
        tables += [render_growth(*g, results, names) for g in growth
                   if len(g[2]) > 1]  # (one size: --no-growth)
        if want("sdk"):
            tables.append(run_sdk(args.rounds, size["bulk"], work, key,
                                  bin_dir, local))
        if want("s3"):
            import s3  # pylint: disable=import-outside-toplevel
            tables.append(s3.run(args.rounds, size["bulk"], bin_dir, local,
                                 args.s3_store_delay_ms))
        table = "\n\n".join(tables)
        print()
        print(table)
        if not args.no_docs and not args.quick and not args.ab:
            write_docs(table, args)
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(shm, ignore_errors=True)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)


def raise_open_file_limit():
    """The idle row holds 2,000 sftp clients (two pipes each here) and the
    servers inherit the limit: take the hard limit as the soft one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def plan(want, size, local):
    """The jobs to run, the main table's rows, and the cost-growth tables
    (title, size name, [(size, job)], [(metric, header, OpenSSH's metric)])
    of the rows `want` selects."""
    jobs, rows, growth = [], [], []
    if want("bulk"):
        bulk = workloads.Bulk(local, size["bulk"])
        label = f"{size['bulk'] // MIB} MiB"
        up = Job("bulk", f"upload {label}, 1 session", bulk.upload)
        down = Job("bulk", f"download {label}, 1 session", bulk.download)
        jobs += [up, down]
        rows += [Row(up, "MiB/s", True), Row(down, "MiB/s", True)]
    if want("parallel"):
        par = workloads.Parallel(local, 4, size["parallel"])
        jobs.append(Job("parallel", f"4 sessions x {size['parallel'] // MIB} "
                        "MiB up+down", par.run))
        rows.append(Row(jobs[-1], "MiB/s", True))
    if want("small"):
        small = workloads.SmallFiles(local, size["small"], 4096)
        jobs.append(Job("small", f"{size['small']} files x 4 KiB upload",
                        small.run))
        rows.append(Row(jobs[-1], "s", False))
    if want("small_down"):
        down = workloads.SmallDownloads(local, size["small"], 4096)
        jobs.append(Job("small_down", f"{size['small']} files x 4 KiB "
                        "download", down.run))
        rows.append(Row(jobs[-1], "s", False))
    if want("concurrent"):
        files = size["concurrent_files"]
        sized = [(n, Job("concurrent", f"{n} sessions x {files} x 1 MiB "
                         "up, then down",
                         workloads.Concurrent(local, n, files, MIB).run))
                 for n in size["concurrent"]]
        top = sized[-1][1]
        rows += [Row(top, "MiB/s", True, "MiB/s",
                     label=f"{top.label}: aggregate"),
                 Row(top, "ms", False, "p99 ms", key="concurrent_p99",
                     label=f"{top.label}: p99 per-file time")]
        growth.append(("Concurrent sessions (each up, then down)", "sessions",
                       sized, [("MiB/s", "aggregate MiB/s", None),
                               ("p99 ms", "p99 per file, ms", None),
                               ("MiB", "peak memory growth, MiB", None)]))
    if want("listing"):
        sized = [(n, Job("listing", f"ls -l of {n} entries",
                         workloads.Listing(local, n).run))
                 for n in size["listing"]]
        top = sized[-1][1]
        rows += [Row(top, "s", False, "s"),
                 Row(top, "MiB", False, "MiB", key="listing_memory",
                     label=f"{top.label}: peak memory growth "
                     "(sftpgate: front end)")]
        growth.append(("Listing (ls -l)", "entries", sized,
                       [("s", "seconds", None),
                        ("MiB", "peak memory growth, MiB", None)]))
    if want("idle"):
        sized = [(n, Job("idle", f"{n} idle sessions",
                         workloads.IdleSessions(n).run, fresh=True))
                 for n in size["idle"]]
        n, top = sized[-1]
        rows += [Row(top, "KiB/session", False, "front end", ref_metric="server",
                     label=f"idle session memory, front end ({n} sessions)"),
                 Row(top, "KiB/session", False, "backend", ref_metric="server",
                     key="idle_backend",
                     label=f"idle session memory, backend ({n} sessions)"),
                 Row(top, "s", False, "login s", key="idle_login",
                     label=f"log in {n} sessions, "
                           f"{workloads.IdleSessions.LOGIN_BATCH} at a time")]
        growth.append(("Idle sessions", "sessions", sized,
                       [("login s", "log in all, s", None),
                        ("front end", "front end KiB/session", "server"),
                        ("backend", "backend KiB/session", "server")]))
    jobs += [job for _, _, sized, _ in growth for _, job in sized]
    return jobs, rows, growth


def run_round(rnd, jobs, servers_, results, cpu):
    """One round: each job on each server, back to back."""
    for job in jobs:
        for server in servers_:
            # Optional, unmeasured set-up and clean-up steps.
            if hasattr(job.workload, "prepare"):
                job.workload.prepare(server)
            before = server.cpu_seconds()
            value = job.fn(server)
            used = server.cpu_seconds(since=before)
            if hasattr(job.workload, "cleanup"):
                job.workload.cleanup(server)
            values = value if isinstance(value, dict) else {None: value}
            for metric, v in values.items():
                results.setdefault((job.label, metric, server.name),
                                   []).append(v)
            cpu.setdefault((job.label, server.name), []).append(used)
            shown = "  ".join(f"{v:.2f}" + (f" {m}" if m else "")
                              for m, v in values.items())
            print(f"round {rnd + 1} {job.label:38} {server.name:20} {shown}"
                  f"   server CPU {sum(used.values()):6.2f} s", flush=True)


def run_sdk(rounds, size, work, key, bin_dir, local):
    """The Python SDK row (informational): the SDK's sample in-memory
    backend behind sftpgate against the C++ memory backend, interleaved,
    the bulk row's upload and download; ratio Python / C++."""
    bulk = workloads.Bulk(local, size)
    label = f"{size // MIB} MiB"
    jobs = [Job("sdk", f"Python SDK backend: upload {label}", bulk.upload),
            Job("sdk", f"Python SDK backend: download {label}",
                bulk.download)]
    started = []
    try:
        started.append(servers.SftpgateServer(work, key, bin_dir, "memory"))
        started.append(servers.SftpgateServer(work, key, bin_dir,
                                              "python-memory"))
        results = {}
        for rnd in range(rounds):
            run_round(rnd, jobs, started, results, {})
        return render([Row(j, "MiB/s", True) for j in jobs], results,
                      [s.name for s in started])
    finally:
        for server in started:
            server.stop()


def start_servers(work, key, shm, bin_dir, prefix, ab_bin_dir=None):
    """OpenSSH, sftpgate + memory backend, sftpgate + localfs backend, each
    with its own (empty) tmpfs directory; with `ab_bin_dir`, also the
    memory backend of that other build (for a same-run A/B)."""
    started = []
    try:
        dirs = {}
        for name in ("openssh", "localfs"):
            dirs[name] = os.path.join(shm, prefix + name)
            os.makedirs(dirs[name])
        started.append(servers.OpenSshServer(work, key, dirs["openssh"]))
        started.append(servers.SftpgateServer(work, key, bin_dir, "memory"))
        started.append(servers.SftpgateServer(work, key, bin_dir, "localfs",
                                              dirs["localfs"]))
        if ab_bin_dir:
            started.append(servers.SftpgateServer(
                work, key, os.path.abspath(ab_bin_dir), "memory", tag=" B"))
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started


# The targets (issue 14), as bounds on the ratio sftpgate/OpenSSH
# of each row's median (per backend where they differ): (bound, ">=" or
# "<="). Rows in ABSOLUTE are bounded in their own unit instead.
TARGETS = {
    ("bulk", None): (1.2, ">="),
    ("parallel", None): (1.2, ">="),
    # Small files faster than OpenSSH: time ratio <= 0.9, both directions.
    ("small", None): (0.9, "<="),
    ("small_down", None): (0.9, "<="),
    ("concurrent", None): (1.2, ">="),  # aggregate MiB/s
    ("concurrent_p99", None): (1.0, "<="),
    ("listing", None): (0.7, "<="),
    ("listing_memory", None): (16, "<="),  # MiB, the front end's growth
    ("idle", None): (32, "<="),  # KiB per session, the front end
    ("idle_login", None): (2.0, "<="),
    # Python SDK backend vs the C++ memory backend (informational).
    ("sdk", None): (0.5, ">="),
}
ABSOLUTE = {"listing_memory", "idle"}
# Server CPU per run, sftpgate (front end + backend) / OpenSSH (sshd +
# sftp-server): at most this.
CPU_TARGETS = {"bulk": 0.8, "small": 1.2, "small_down": 1.2}


def target_for(key, gate):
    backend = gate.split("(")[-1].rstrip(")")
    return TARGETS.get((key, backend)) or TARGETS.get((key, None))


def column(gate):
    """'sftpgate (memory)' -> 'memory', 'sftpgate B (memory)' -> 'B memory'."""
    return gate.split("sftpgate", 1)[1].replace("(", "").replace(")", "").strip()


def paired_ratios(ref_values, gate_values):
    """Per-round ratios gate/ref: each round's servers ran back to back,
    so drift in the machine's speed cancels out."""
    return [g / r if r else float("nan")
            for g, r in zip(gate_values, ref_values)]


def fmt(value):
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def met_cell(values, bound, op):
    return " / ".join("yes" if (v >= bound if op == ">=" else v <= bound)
                      else "**no**" for v in values)


def render(rows, results, names):
    """The main table: medians per server (names[0] is the reference),
    per-round ratios to it with their range, the target and whether each
    column meets it."""
    ref, gates = names[0], names[1:]
    short = [column(g) for g in gates]
    head = (["workload", "unit", ref] + gates +
            [f"ratio ({g}) [range]" for g in short] + ["target", "met"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    for row in rows:
        ref_values = results[(row.job.label, row.ref_metric, ref)]
        # (Memory growth can measure a hair below zero: show it as 0.)
        clamp = lambda v: max(v, 0.0)  # noqa: E731
        cells = [row.label, row.unit + (" (higher better)" if row.hib else
                                        " (lower better)"),
                 fmt(clamp(statistics.median(ref_values)))]
        medians, mid_ratios, ratio_cells = [], [], []
        for g in gates:
            values = [clamp(v) for v in results[(row.job.label, row.metric, g)]]
            medians.append(statistics.median(values))
            ratios = paired_ratios(ref_values, values)
            mid_ratios.append(statistics.median(ratios))
            ratio_cells.append(f"{mid_ratios[-1]:.2f} "
                               f"[{min(ratios):.2f}-{max(ratios):.2f}]")
        cells += [fmt(m) for m in medians] + ratio_cells
        bounds = [target_for(row.key, g) for g in gates]
        if bounds[0] is None:
            cells += ["", ""]
        else:
            checked = medians if row.key in ABSOLUTE else mid_ratios
            unit = f" {row.unit.split('/')[0]}" if row.key in ABSOLUTE else ""
            if len(set(bounds)) == 1:
                cells.append(f"{bounds[0][1]} {bounds[0][0]:g}{unit}")
            else:
                cells.append(", ".join(f"{op} {b:g}{unit} ({name})" for
                                       (b, op), name in zip(bounds, short)))
            cells.append(" / ".join(met_cell([v], *b)
                                    for v, b in zip(checked, bounds)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_cpu(jobs, cpu, names):
    """CPU seconds the server side spent per run (user + system, all of
    its processes): what each row costs regardless of how busy the machine
    was. sftpgate cells show front end + backend."""
    ref, gates = names[0], names[1:]
    head = ["workload (server CPU seconds per run)", ref] + gates + \
        [f"ratio ({column(g)})" for g in gates] + ["target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def median_roles(label, name):
        runs = cpu[(label, name)]
        return {role: statistics.median(r[role] for r in runs)
                for role in runs[0]}

    for job in jobs:
        base = sum(median_roles(job.label, ref).values())
        cells = [job.label, f"{base:.2f}"]
        totals = []
        for g in gates:
            roles = median_roles(job.label, g)
            totals.append(sum(roles.values()))
            cells.append(f"{totals[-1]:.2f} ({roles['front end']:.2f} + "
                         f"{roles['backend']:.2f})")
        ratios = [t / base if base else float("nan") for t in totals]
        cells += [f"{r:.2f}" for r in ratios]
        bound = CPU_TARGETS.get(job.key)
        cells += ([f"<= {bound:g}", met_cell(ratios, bound, "<=")] if bound
                  else ["", ""])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_growth(title, size_name, sized, metrics, results, names):
    """How one row's cost grows with its size: per size, each metric's
    median for every server and the median per-round ratio to OpenSSH."""
    ref, gates = names[0], names[1:]
    head = [size_name]
    for _, header, _ in metrics:
        head += [f"{header}: {ref}"] + [column(g) for g in gates] + \
            [f"ratio ({column(g)})" for g in gates]
    lines = [f"**Cost growth: {title}**", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n, job in sized:
        cells = [f"{n:,}"]
        for metric, _, ref_metric in metrics:
            ref_values = results[(job.label, ref_metric or metric, ref)]
            # (Memory growth can measure a hair below zero: show it as 0.)
            cells.append(fmt(max(statistics.median(ref_values), 0.0)))
            gate_values = [[max(v, 0.0) for v in results[(job.label, metric, g)]]
                           for g in gates]
            cells += [fmt(statistics.median(v)) for v in gate_values]
            cells += [f"{statistics.median(paired_ratios(ref_values, v)):.2f}"
                      for v in gate_values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_docs(table, args):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cmd = "bench/run" + (f" --rounds {args.rounds}" if args.rounds != 5 else "")
    today = datetime.date.today().isoformat()
    with open(path, "w") as f:
        f.write(f"""# Benchmarks

sftpgate against OpenSSH's own `sftp-server`, measured side by side in one
run by `bench/run`. This page is rewritten by that command; the analysis
section at the end is kept by hand in `bench/analysis.md`.

- Command: `{cmd}`
- Date: {today}
- Machine: {machine()}
- Client: OpenSSH `sftp` for every server, same key, cipher and options.
- Servers: OpenSSH sshd (Debian, standard `sftp-server`, files on tmpfs;
  `SetEnv SHLVL=1` so the shell sshd starts `sftp-server` with skips
  root's `~/.bashrc`, which on this machine costs 0.5 s per login);
  sftpgate front end + memory backend; sftpgate front end + localfs backend
  on the same tmpfs. Each backend is a separate process reached over gRPC
  on loopback TCP. The front end's session limits are raised for the
  benchmark (`--max-sessions 5000`, no per-user cap, no cap on logins in
  flight, no bans): every client comes from 127.0.0.1.
- Rounds: {args.rounds}, interleaved (OpenSSH, sftpgate memory, sftpgate
  localfs, OpenSSH, ...); each cell is the median.
- Ratios are sftpgate / OpenSSH, computed per round (each round runs the
  servers back to back, so drift in the machine's speed cancels) and shown
  as the median with the range over the rounds in brackets. For MiB/s rows
  >= 1.0 means sftpgate is as fast or faster; for seconds, ms, KiB and MiB
  rows lower is better. The target column holds the goals of issue 14:
  a bound on the median ratio, or, for the two memory rows with a unit in
  it, on sftpgate's own value; the CPU table's target bounds the ratio of
  server CPU (front end + backend over sshd + `sftp-server`).
- Every row runs whole `sftp` sessions, login included. Small files:
  2,000 x 4 KiB uploaded with one `put -r`, or downloaded with one `get`
  each (uploaded beforehand, unmeasured), in one session.
- Concurrent sessions: N `sftp` sessions started at once, each uploading
  20 files of 1 MiB, then downloading them. Aggregate MiB/s over both
  directions; per-file time from `sftp -b`'s echo of each command (its
  stdout is line-buffered, so an echo marks the end of the command before
  it), p99 over all files of all sessions.
- Memory growth (concurrent and listing rows): for sftpgate the front
  end's peak RSS (VmHWM) above its RSS at the start, the front end
  restarted before each run (the backend keeps the files) and its peak
  reset through `/proc/PID/clear_refs`; for OpenSSH the peak of the summed
  PSS of sshd and all its session processes, sampled every 0.05 s or more
  (sampling takes at most about a tenth of a core). The backend is not
  counted (the memory backend holds the files themselves).
- Idle sessions: fresh servers per round; sessions log in 10 at a time
  and each answers `pwd` before the next ten start; the login row is the
  time until all are in. Memory is the growth of proportional set size
  (PSS) per authenticated idle session: for OpenSSH all its per-session
  processes, for sftpgate the front-end process and, separately, the
  backend process.
- Cost growth: the concurrent, listing and idle rows also run at smaller
  sizes (same rounds, interleaved); the tables after the CPU table show
  medians and median per-round ratios at each size. The main table holds
  the largest.
- Python SDK: the SDK's sample in-memory backend
  (`sample-backends/python-memory`) behind the same front end, the bulk
  upload and download, against the C++ memory backend in the same run;
  the ratio is Python / C++ (informational target >= 0.5).

{table}
""")
        analysis = os.path.join(ROOT, "bench", "analysis.md")
        if os.path.exists(analysis):
            with open(analysis) as a:
                f.write("\n" + a.read())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
