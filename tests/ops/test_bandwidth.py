"""Per-user bandwidth limits with OpenSSH sftp against the real binary: a
32 MiB transfer at 4 MiB/s takes 8 s +- 15 % in each direction (also
with legacy `scp -O`), and an unlimited user transferring beside it is not
slowed."""

import hashlib
import os
import subprocess
import time
import unittest

from ops_harness import HOST, OpsTestCase

SIZE = 32 * 1024 * 1024
RATE_KIB = 4096  # 4 MiB/s
EXPECTED = SIZE / (RATE_KIB * 1024)  # 8 s


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class BandwidthTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("slow", key=True,
                      extra={"upload_kib_per_second": RATE_KIB,
                             "download_kib_per_second": RATE_KIB})
        self.add_user("fast", key=True)
        self.start_gate(self.start_memory_backend())
        self.data = self.path("data.bin")
        with open(self.data, "wb") as f:
            f.write(os.urandom(SIZE))

    def sftp(self, user, command):
        """Starts OpenSSH sftp running one batch command as `user`."""
        args = ["sftp", "-q", "-F", "/dev/null", "-P", str(self.port),
                "-i", self.users[user]["key"],
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-b", "-", "%s@%s" % (user, HOST)]
        process = subprocess.Popen(args, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        process.stdin.write(command + "\n")
        process.stdin.close()
        return process

    def timed(self, process):
        """Waits for `process` (callers time it) and checks it succeeded."""
        output = process.stdout.read()
        code = process.wait(timeout=120)
        self.assertEqual(code, 0, output)

    def transfer_beside(self, slow_command, fast_commands):
        """Runs `slow_command` as the limited user and, while it runs, the
        `fast_commands` in turn (each at most twice: a machine this small
        has no CPU to spare for more) as the unlimited one. Returns
        (slow seconds, {fast command: [seconds of each complete run]})."""
        started = time.monotonic()
        slow = self.sftp("slow", slow_command)
        fast_times = {command: [] for command in fast_commands}
        turn = 0
        while slow.poll() is None and turn < 2 * len(fast_commands):
            command = fast_commands[turn % len(fast_commands)]
            turn += 1
            fast_started = time.monotonic()
            self.timed(self.sftp("fast", command))
            if slow.poll() is None:  # only runs entirely beside it count
                fast_times[command].append(time.monotonic() - fast_started)
        self.timed(slow)
        return time.monotonic() - started, fast_times

    def assert_about_8s(self, seconds, what):
        self.assertGreaterEqual(seconds, EXPECTED * 0.85, what)
        self.assertLessEqual(seconds, EXPECTED * 1.15, what)

    def alone(self, commands):
        """{command: best of two runs} of the unlimited user, alone."""
        best = {}
        for command in commands:
            times = []
            for _ in range(2):
                started = time.monotonic()
                self.timed(self.sftp("fast", command))
                times.append(time.monotonic() - started)
            best[command] = min(times)
        return best

    def assert_not_slowed(self, fast_times, alone):
        """Beside the limited transfer, the unlimited user moved 32 MiB (its
        best run: the machine is shared, one run can be unlucky) about as
        fast as alone, and in any case at over twice the limit."""
        for command, times in fast_times.items():
            self.assertTrue(times, "no %r ran beside the limited transfer: "
                            "it was not limited" % command)
            self.assertLess(min(times), EXPECTED / 2, fast_times)
            self.assertLessEqual(min(times), 2 * alone[command] + 0.5,
                                 (fast_times, alone))

    def test_upload_then_download_at_4_mib_per_second(self):
        self.timed(self.sftp("fast", "put %s /seed.bin" % self.data))
        fast = ["put %s /fast.bin" % self.data,
                "get /seed.bin %s" % self.path("fast-get.bin")]
        alone = self.alone(fast)
        up_seconds, up_beside = self.transfer_beside(
            "put %s /slow.bin" % self.data, fast)
        down_seconds, down_beside = self.transfer_beside(
            "get /slow.bin %s" % self.path("slow-get.bin"), fast)
        print("limited: upload %.2f s, download %.2f s; unlimited alone: %s; "
              "beside: %s, %s" % (up_seconds, down_seconds, alone, up_beside,
                                  down_beside))
        self.assert_about_8s(up_seconds, "limited upload")
        self.assert_about_8s(down_seconds, "limited download")
        self.assert_not_slowed(up_beside, alone)
        self.assert_not_slowed(down_beside, alone)
        want = digest(self.data)
        for name in ("slow-get.bin", "fast-get.bin"):
            self.assertEqual(digest(self.path(name)), want, name)

    def test_legacy_scp_at_4_mib_per_second(self):
        """scp -O (the SCP protocol over exec) goes through the same
        limits."""
        def scp(source, target):
            started = time.monotonic()
            proc = subprocess.run(
                ["scp", "-O", "-q", "-F", "/dev/null", "-P", str(self.port),
                 "-i", self.users["slow"]["key"],
                 "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                 "-o", "IdentitiesOnly=yes", source, target],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc)
            return time.monotonic() - started
        remote = "slow@%s:/scp.bin" % HOST
        up_seconds = scp(self.data, remote)
        down_seconds = scp(remote, self.path("scp-get.bin"))
        print("scp -O limited: upload %.2f s, download %.2f s" %
              (up_seconds, down_seconds))
        self.assert_about_8s(up_seconds, "limited scp -O upload")
        self.assert_about_8s(down_seconds, "limited scp -O download")
        self.assertEqual(digest(self.path("scp-get.bin")), digest(self.data))


if __name__ == "__main__":
    unittest.main()
