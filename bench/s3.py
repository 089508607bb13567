"""The S3 row: 1 GiB up and down through sftpgate -> sftpgate-s3-backend ->
a throwaway Swift (s3api), against the same bytes moved by awscli straight
to the same Swift, interleaved in the same run (bench.py --only s3).

The store is tests/s3/swift_store.py's single-node Swift; both paths
verify the bytes by SHA-256 after each download.
"""

import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "python"), os.path.join(ROOT, "tests", "s3")]

import backend_harness  # noqa: E402
import latency_proxy  # noqa: E402
import run_s3_test  # noqa: E402
import swift_store  # noqa: E402
import workloads  # noqa: E402

BUCKET = "bench"
TARGET = 0.8  # sftpgate's speed / the direct client's, both directions


def _timed(args, env=None, cwd=None):
    full = dict(os.environ)
    full.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=full, cwd=cwd,
                          timeout=3600, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (args[0], (proc.stdout + proc.stderr)[-2000:]))
    return elapsed


def run(rounds, size, bin_dir, local_dir, delay_ms=0):
    """Returns the markdown table of the S3 row (medians over `rounds`).
    With `delay_ms`, both clients reach the store through a proxy that
    delays each direction by that much (latency_proxy.py): a store across
    a network rather than on the same machine."""
    os.environ["SFTPGATE_BIN_DIR"] = bin_dir
    src = os.path.join(local_dir, "s3-bulk")
    workloads.make_file(src, size)
    digest = workloads.sha256(src)
    down = src + ".down"
    with backend_harness.Stack("sftpgate-bench-s3-") as stack:
        store = swift_store.start(stack)
        store.create_bucket(BUCKET)
        endpoint = store.endpoint
        if delay_ms:
            host, port = endpoint.split("//")[1].rsplit(":", 1)
            proxy = latency_proxy.LatencyProxy((host, int(port)), delay_ms)
            stack.defer(proxy.stop)
            endpoint = "http://127.0.0.1:%d" % proxy.port
        proc = stack.spawn("s3-backend", [
            backend_harness.binary("sftpgate-s3-backend"), "--endpoint", endpoint,
            "--bucket", BUCKET, "--prefix", "gate/", "--listen", "127.0.0.1:0",
            "--replica_id", "bench"], env=store.env())
        gate = run_s3_test.Sftpgate(stack, proc.wait_listening())
        aws_env = dict(store.env(), AWS_DEFAULT_REGION=swift_store.REGION,
                       HOME=stack.tmp, AWS_CONFIG_FILE="/dev/null")
        aws = ["aws", "--endpoint-url", endpoint, "s3", "cp", "--only-show-errors"]
        direct = "s3://%s/direct/bulk" % BUCKET
        results = {"up": ([], []), "down": ([], [])}  # (direct, gate) MiB/s
        mib = size / 2**20
        for rnd in range(rounds):
            t = _timed(aws + [src, direct], env=aws_env)
            results["up"][0].append(mib / t)
            t = _timed(aws + [direct, down], env=aws_env)
            results["down"][0].append(mib / t)
            if workloads.sha256(down) != digest:
                raise RuntimeError("awscli download differs")
            os.remove(down)
            start = time.monotonic()
            if gate.sftp(["put %s bulk" % src]).returncode != 0:
                raise RuntimeError("sftp put failed")
            results["up"][1].append(mib / (time.monotonic() - start))
            start = time.monotonic()
            if gate.sftp(["get bulk %s" % down]).returncode != 0:
                raise RuntimeError("sftp get failed")
            results["down"][1].append(mib / (time.monotonic() - start))
            if workloads.sha256(down) != digest:
                raise RuntimeError("sftpgate download differs")
            os.remove(down)
            print("round %d s3: awscli up %.1f down %.1f MiB/s; sftpgate up %.1f down %.1f "
                  "MiB/s" % (rnd + 1, results["up"][0][-1], results["down"][0][-1],
                             results["up"][1][-1], results["down"][1][-1]), flush=True)
    os.remove(src)
    where = " %d ms away each way" % delay_ms if delay_ms else ""
    lines = ["| workload (S3 backend on Swift%s) | unit | awscli direct | sftpgate (s3) | "
             "ratio [range] | target | met |" % where, "|---|---|---|---|---|---|---|"]
    for direction, label in (("up", "upload"), ("down", "download")):
        ref, got = results[direction]
        ratios = [g / r for g, r in zip(got, ref)]
        mid = statistics.median(ratios)
        lines.append("| %s %d MiB, 1 session | MiB/s (higher better) | %.1f | %.1f | "
                     "%.2f [%.2f-%.2f] | >= %.2f | %s |" % (
                         label, size >> 20, statistics.median(ref), statistics.median(got),
                         mid, min(ratios), max(ratios), TARGET,
                         "yes" if mid >= TARGET else "**no**"))
    return "\n".join(lines)
