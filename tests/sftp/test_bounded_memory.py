"""Bounded front-end memory: a 2 GiB upload through a slow backend.

OpenSSH's sftp client uploads a 2 GiB (sparse, so free to read) file to
sftpgate, whose backend (sftpgate-slow-sink-backend) sleeps before taking
each chunk: the client is faster than the backend, so the front end must
hold the client back through the SSH window instead of buffering. While
the upload runs, the front end's resident set (VmRSS) is sampled from
/proc; at the end its peak (VmHWM, which no sampling gap can miss) must be
under BOUND_MIB, and the backend must have committed all 2 GiB.

The bound follows from the per-session caps (listed in bench/analysis.md,
"Memory bounds", and docs/benchmarks.md): an 8 MiB write-behind queue per
upload within the session's 16 MiB transfer budget, 4 MiB of queued
output, at most 128 requests in flight, the 1.25 MB SSH channel window,
plus the process's fixed cost (~20-25 MiB: gRPC, libssh, threads).

Environment: SFTPGATE_BIN_DIR (the build's bin/, with sftpgate and
sftpgate-slow-sink-backend).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests", "e2e"))
from harness import (BACKEND_LISTENING, GATE_LISTENING,  # noqa: E402
                     wait_for_log)  # (tests/e2e)
from proc_status import status_kib  # noqa: E402 (tests/, put on the path by harness)

BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", "")
SIZE = 2 << 30
BOUND_MIB = 128
WRITE_DELAY_US = 2000  # ~125 MiB/s at 255 KiB chunks: the backend is slow


class BoundedMemoryTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BIN_DIR, "set SFTPGATE_BIN_DIR")
        self.work = tempfile.mkdtemp(prefix="sftpgate-memtest-")
        self.procs = []
        self.logs = {}

    def tearDown(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def start(self, name, args, listening):
        """Starts `name`; returns (proc, the match of `listening` in its
        log: where it listens, port 0 resolved)."""
        log = open(os.path.join(self.work, f"{name}.log"), "w")
        self.logs[name] = log.name
        proc = subprocess.Popen(args, stderr=log)
        self.procs.append(proc)
        return proc, wait_for_log(log.name, listening, proc, name)

    def dump_logs(self):
        for name, path in self.logs.items():
            with open(path) as f:
                sys.stderr.write(f"--- {name} log (tail)\n{f.read()[-3000:]}\n")

    def test_upload_2gib_through_slow_backend(self):
        key = os.path.join(self.work, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        key], check=True)
        with open(key + ".pub") as f:
            pubkey = f.read().strip()
        users = os.path.join(self.work, "users.toml")
        with open(users, "w") as f:
            f.write(f'[[user]]\nname = "mem"\nauthorized_keys = ["{pubkey}"]\n')

        _, backend = self.start("backend", [
            os.path.join(BIN_DIR, "sftpgate-slow-sink-backend"),
            "--listen", "127.0.0.1:0",
            "--write_delay_us", str(WRITE_DELAY_US)], BACKEND_LISTENING)
        gate, listening = self.start("sftpgate", [
            os.path.join(BIN_DIR, "sftpgate"),
            "--listen", "127.0.0.1:0",
            "--backend", backend.group(1),
            "--host-key", os.path.join(self.work, "host_key"),
            "--users", users], GATE_LISTENING)
        port = int(listening.group(1))

        source = os.path.join(self.work, "big.bin")
        with open(source, "wb") as f:
            f.truncate(SIZE)  # sparse: no disk, no memory

        idle_kib = status_kib(gate.pid, "VmRSS")
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    samples.append(status_kib(gate.pid, "VmRSS"))
                except (OSError, KeyError):
                    return
                stop.wait(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.monotonic()
        try:
            result = subprocess.run(
                ["sftp", "-q", "-b", "-", "-P", str(port), "-i", key,
                 "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                 "mem@127.0.0.1"],
                input=f"put {source} /big.bin\nls -l /big.bin\n", text=True,
                capture_output=True, timeout=900)
        finally:
            stop.set()
            sampler.join()
        elapsed = time.monotonic() - start
        peak_kib = status_kib(gate.pid, "VmHWM")
        print(f"\nupload of {SIZE >> 20} MiB took {elapsed:.1f} s "
              f"({SIZE / 2**20 / elapsed:.0f} MiB/s); front end VmRSS: idle "
              f"{idle_kib // 1024} MiB, sampled max "
              f"{max(samples, default=0) // 1024} MiB over {len(samples)} "
              f"samples, peak (VmHWM) {peak_kib // 1024} MiB; bound "
              f"{BOUND_MIB} MiB", flush=True)
        if result.returncode != 0:
            self.dump_logs()
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        # The backend committed every byte (ls -l shows its size).
        self.assertTrue(re.search(rf"\s{SIZE}\s", result.stdout),
                        result.stdout[-2000:])
        self.assertGreater(len(samples), 10)
        self.assertLess(max(samples) // 1024, BOUND_MIB)
        self.assertLess(peak_kib // 1024, BOUND_MIB)


if __name__ == "__main__":
    unittest.main()
