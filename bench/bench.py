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


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true",
                   help="small sizes, to check the harness (not for docs)")
    p.add_argument("--no-docs", action="store_true",
                   help="print the table without rewriting docs/benchmarks.md")
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"),
                   help="where sftpgate and the backends are (default: "
                        "build/bin, which bench/run builds)")
    p.add_argument("--ab", metavar="BIN_DIR",
                   help="same-run A/B: also run the memory backend with the "
                        "sftpgate and backend of BIN_DIR (another build), "
                        "as the column 'sftpgate B (memory)'; rows as usual. "
                        "Implies --no-docs")
    p.add_argument("--only", default="",
                   help="comma-separated row keys to run (bulk,parallel,"
                        "small,listing,idle,s3)")
    return p.parse_args()


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
    bulk_size = 64 * MIB if args.quick else 1024 * MIB
    par_size = 16 * MIB if args.quick else 256 * MIB
    small_count = 200 if args.quick else 2000
    list_count = 1000 if args.quick else 10000
    idle_count = 20 if args.quick else 200

    work = tempfile.mkdtemp(prefix="sftpgate-bench-")
    shm = tempfile.mkdtemp(prefix="sftpgate-bench-", dir="/dev/shm")
    local = os.path.join(shm, "local")
    os.makedirs(local)
    key = os.path.join(work, "client_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                   check=True)
    bin_dir = os.path.abspath(args.bin_dir)

    started = []
    try:
        # (The S3 row runs servers of its own.)
        if not only or only - {"s3"}:
            started += start_servers(work, key, shm, bin_dir, "", args.ab)
        rows = []  # (key, label, unit, higher_is_better, fn)
        if want("bulk"):
            bulk = workloads.Bulk(local, bulk_size)
            label = f"{bulk_size // MIB} MiB"
            rows += [("bulk", f"upload {label}, 1 session", "MiB/s", True, bulk.upload),
                     ("bulk", f"download {label}, 1 session", "MiB/s", True, bulk.download)]
        if want("parallel"):
            par = workloads.Parallel(local, 4, par_size)
            rows.append(("parallel", f"4 sessions x {par_size // MIB} MiB up+down",
                         "MiB/s", True, par.run))
        if want("small"):
            small = workloads.SmallFiles(local, small_count, 4096)
            rows.append(("small", f"{small_count} files x 4 KiB upload", "s",
                         False, small.run))
        if want("listing"):
            listing = workloads.Listing(local, list_count)
            rows.append(("listing", f"ls -l of {list_count} entries", "s", False,
                         listing.run))
        results = {}  # (label, server name) -> [values]
        cpu = {}  # (label, server name) -> [{role: CPU seconds}]
        for rnd in range(args.rounds):
            for key_, label, unit, hib, fn in rows:
                workload = getattr(fn, "__self__", None)
                for server in started:
                    # Optional, unmeasured set-up and clean-up steps.
                    if hasattr(workload, "prepare"):
                        workload.prepare(server)
                    before = server.cpu_seconds()
                    value = fn(server)
                    used = server.cpu_seconds(since=before)
                    if hasattr(workload, "cleanup"):
                        workload.cleanup(server)
                    results.setdefault((label, server.name), []).append(value)
                    cpu.setdefault((label, server.name), []).append(used)
                    print(f"round {rnd + 1} {label:38} {server.name:20} "
                          f"{value:10.2f} {unit}   server CPU "
                          f"{sum(used.values()):6.2f} s", flush=True)
        idle = None
        if want("idle"):
            # Fresh servers each round: after transfers, freed heap would be
            # reused by the idle sessions and hide their cost.
            for server in started:
                server.stop()
            idle = workloads.IdleSessions(idle_count)
            for rnd in range(args.rounds):
                fresh = start_servers(work, key, shm, bin_dir, f"idle{rnd}-",
                                      args.ab)
                try:
                    for server in fresh:
                        value = idle.run(server)
                        for role, kib in value.items():
                            results.setdefault((f"idle:{role}", server.name),
                                               []).append(kib)
                        print(f"round {rnd + 1} idle {idle_count} sessions "
                              f"{server.name:20} {value}", flush=True)
                finally:
                    for server in fresh:
                        server.stop()
        table = ""
        if rows or idle:
            table = render(rows, results, started, idle_count if idle else 0)
        if rows:
            table += "\n\n" + render_cpu(rows, cpu, started)
        if want("s3"):
            for server in started:
                server.stop()
            import s3  # pylint: disable=import-outside-toplevel
            table = "\n\n".join(filter(None, [
                table, s3.run(args.rounds, bulk_size, bin_dir, local)]))
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


# The targets, as bounds on the ratio sftpgate/OpenSSH of each row
# (per backend where they differ): (bound, ">=" or "<=").
TARGETS = {
    ("bulk", "memory"): (1.0, ">="), ("bulk", "localfs"): (0.9, ">="),
    ("parallel", None): (1.0, ">="),
    # Small files at >= 0.8x OpenSSH's speed: time ratio <= 1 / 0.8.
    ("small", None): (1.25, "<="),
    ("listing", None): (1.0, "<="),
}
# Front-end memory per idle session, absolute (KiB).
IDLE_TARGET_KIB = 256


def target_for(key, gate):
    backend = gate.split("(")[-1].rstrip(")")
    return TARGETS.get((key, backend)) or TARGETS.get((key, None))


def column(gate):
    """'sftpgate (memory)' -> 'memory', 'sftpgate B (memory)' -> 'B memory'."""
    return gate.split("sftpgate", 1)[1].replace("(", "").replace(")", "").strip()


def paired_ratios(results, label, ref, gate):
    """Per-round ratios gate/ref: each round's servers ran back to back,
    so drift in the machine's speed cancels out."""
    return [g / r if r else float("nan")
            for g, r in zip(results[(label, gate)], results[(label, ref)])]


def render(rows, results, started, idle_count):
    ref = started[0].name
    gates = [s.name for s in started[1:]]
    short = [column(g) for g in gates]
    head = (["workload", "unit", ref] + gates +
            [f"ratio ({g}) [range]" for g in short] + ["target", "met"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    for key, label, unit, hib, _fn in rows:
        cells = [label, unit + (" (higher better)" if hib else
                                " (lower better)"),
                 f"{statistics.median(results[(label, ref)]):.2f}"]
        cells += [f"{statistics.median(results[(label, g)]):.2f}"
                  for g in gates]
        met = []
        for g in gates:
            ratios = paired_ratios(results, label, ref, g)
            mid = statistics.median(ratios)
            cells.append(f"{mid:.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")
            bound, op = target_for(key, g)
            met.append(mid >= bound if op == ">=" else mid <= bound)
        bounds = [target_for(key, g) for g in gates]
        if len(set(bounds)) == 1:
            cells.append(f"{bounds[0][1]} {bounds[0][0]:.2f}")
        else:
            cells.append(", ".join(f"{op} {b:.2f} ({name})" for (b, op), name
                                   in zip(bounds, short)))
        cells.append(" / ".join("yes" if m else "**no**" for m in met))
        lines.append("| " + " | ".join(cells) + " |")
    if idle_count:
        # OpenSSH has one number (its per-session processes); sftpgate has
        # the front end and the backend separately.
        base = statistics.median(results[("idle:server", ref)])
        for role in ("front end", "backend"):
            cells = [f"idle session memory, {role} ({idle_count} sessions)",
                     "KiB/session (lower better)", f"{base:.0f}"]
            meds = [statistics.median(results[(f"idle:{role}", g)])
                    for g in gates]
            # (PSS growth can measure a hair below zero: show it as 0.)
            meds = [max(m, 0.0) for m in meds]
            cells += [f"{m:.0f}" for m in meds]
            cells += [f"{m / base:.3f}" for m in meds]
            if role == "front end":
                cells += [f"<= {IDLE_TARGET_KIB} KiB",
                          " / ".join("yes" if m <= IDLE_TARGET_KIB
                                     else "**no**" for m in meds)]
            else:
                cells += ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_cpu(rows, cpu, started):
    """CPU seconds the server side spent per run (user + system, all of
    its processes): what each row costs regardless of how busy the machine
    was. sftpgate cells show front end + backend."""
    ref = started[0].name
    gates = [s.name for s in started[1:]]
    head = ["workload (server CPU seconds per run)", ref] + gates + \
        [f"ratio ({column(g)})" for g in gates]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def median_roles(label, name):
        runs = cpu[(label, name)]
        return {role: statistics.median(r[role] for r in runs)
                for role in runs[0]}

    for _, label, _unit, _hib, _fn in rows:
        base = sum(median_roles(label, ref).values())
        cells = [label, f"{base:.2f}"]
        totals = []
        for g in gates:
            roles = median_roles(label, g)
            totals.append(sum(roles.values()))
            cells.append(f"{totals[-1]:.2f} ({roles['front end']:.2f} + "
                         f"{roles['backend']:.2f})")
        cells += [f"{(t / base if base else float('nan')):.2f}" for t in totals]
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
- Servers: OpenSSH sshd (Debian, standard `sftp-server`, files on tmpfs);
  sftpgate front end + memory backend; sftpgate front end + localfs backend
  on the same tmpfs. Each backend is a separate process reached over gRPC
  on loopback TCP.
- Rounds: {args.rounds}, interleaved (OpenSSH, sftpgate memory, sftpgate
  localfs, OpenSSH, ...); each cell is the median.
- Ratios are sftpgate / OpenSSH, computed per round (each round runs the
  servers back to back, so drift in the machine's speed cancels) and shown
  as the median with the range over the rounds in brackets. For MiB/s rows
  >= 1.0 means sftpgate is as fast or faster; for seconds and KiB rows
  lower is better, so <= 1.0 means sftpgate is as good or better. The
  target column holds the goals set for the project (small files: at least
  0.8x OpenSSH's speed, i.e. a time ratio <= 1.25). Idle-session memory is the growth
  of proportional set size (PSS) per authenticated idle session: for
  OpenSSH all its per-session processes, for sftpgate the front-end
  process and, separately, the backend process.

{table}
""")
        analysis = os.path.join(ROOT, "bench", "analysis.md")
        if os.path.exists(analysis):
            with open(analysis) as a:
                f.write("\n" + a.read())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
