"""Backend faults, against the real front end and real backends.

- A backend SIGKILLed mid-download and mid-upload (localfs backend): the
  client gets an error, no partial upload becomes visible (on disk or in a
  listing), sftpgate survives, and once a backend listens on the same
  address again new operations succeed without restarting sftpgate.
- A backend slower than sftpgate's deadline (--call_timeout_ms): stat,
  listing, read and write give an error, not a hang, over SFTP and over
  legacy scp (exec).
- A client that vanishes mid-upload (TCP reset from paramiko, or OpenSSH's
  sftp killed with SIGKILL): the backend's upload stream is cancelled and
  aborted (seen in the instrumented backend's event log), never committed;
  with localfs, no file appears.

Run: SFTPGATE_BIN_DIR=build/bin SFTPGATE_PYTHONPATH=... \\
     /usr/bin/python3 -m unittest -v test_backend_faults
"""

import os
import signal
import socket
import struct
import subprocess
import time
import unittest

from hostile_gate import (HOST, INSTRUMENTED, GateTestCase, HostileGate,
                          SessionWorker)
import harness  # noqa: E402  (tests/e2e, on the path through hostile_gate)
from raw_sftp import (CLOSE, FX_OK, FXF_CREAT, FXF_TRUNC, FXF_WRITE, NO_ATTRS,
                      OPEN, WRITE, RawSftp, string, u32, u64)

MIB = 1 << 20
# How long a test waits for something that must happen (recovery, an
# abort to be logged, an error to arrive); never a speed assertion.
PATIENCE = 60.0
CALL_TIMEOUT_MS = 3000


def wait_for(predicate, timeout=PATIENCE, interval=0.1):
    """Polls `predicate` until it returns a true value; returns it, or
    None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


class GateCase(GateTestCase):
    """A HostileGate per class (BACKEND, GATE_FLAGS), logs on failure."""

    BACKEND = None
    GATE_FLAGS = ()

    @classmethod
    def setUpClass(cls):
        cls.gate = HostileGate(cls.BACKEND, gate_flags=cls.GATE_FLAGS)
        cls.addClassCleanup(cls.gate.cleanup)
        cls.gate.start()

    def assertGateAlive(self):
        self.assertIsNone(self.gate.gate_proc().poll(), "sftpgate exited")

    def sftp(self, user="alice"):
        s = self.gate.paramiko(user)
        s.sftp.get_channel().settimeout(PATIENCE)
        return s


class KillBackendTest(GateCase):
    BACKEND = "localfs"
    GATE_FLAGS = ("--call_timeout_ms", str(CALL_TIMEOUT_MS))

    def user_dir(self, user="alice"):
        return self.gate.data + self.gate.user(user).root

    def recover(self):
        """Restarts the backend; returns seconds until a new session's
        stat succeeded (sftpgate not restarted)."""
        self.gate.restart_backend()
        start = time.monotonic()

        def stat_ok():
            try:
                with self.sftp() as sftp:
                    sftp.stat("/")
                    return True
            except Exception:  # pylint: disable=broad-except
                return False

        self.assertTrue(wait_for(stat_ok, interval=0.2),
                        "no operation succeeded after the backend restart")
        return time.monotonic() - start

    def assertFailsWhileDown(self):
        """With the backend gone, a new operation fails (not hangs)."""
        start = time.monotonic()
        with self.sftp() as sftp:
            with self.assertRaises(IOError):
                sftp.stat("/")
        self.assertLess(time.monotonic() - start, PATIENCE)

    def test_kill_mid_download(self):
        data = os.urandom(64 * MIB)
        with open(os.path.join(self.user_dir(), "big-down.bin"), "wb") as f:
            f.write(data)
        got = 0
        with self.sftp() as sftp:
            with self.assertRaises(IOError) as failure:
                with sftp.open("/big-down.bin", "rb") as f:
                    while True:
                        chunk = f.read(MIB)
                        if not chunk:
                            break
                        self.assertEqual(chunk, data[got:got + len(chunk)])
                        got += len(chunk)
                        if got == 4 * MIB:
                            self.gate.kill_backend()
        self.assertGreaterEqual(got, 4 * MIB, "download failed before the "
                                f"backend was killed: {failure.exception!r}")
        self.assertLess(got, len(data), "download completed from a dead "
                        "backend")
        print(f"\n[hostile] download: {got / MIB:.1f} MiB then "
              f"{failure.exception!r}")
        self.assertGateAlive()
        self.assertFailsWhileDown()
        took = self.recover()
        print(f"[hostile] download: recovered {took:.2f}s after restart")
        with self.sftp() as sftp:
            with sftp.open("/big-down.bin", "rb") as f:
                self.assertEqual(f.read(), data)
        self.assertGateAlive()

    def test_kill_mid_upload(self):
        chunk = os.urandom(MIB)
        written = 0
        with self.sftp() as sftp:
            with self.assertRaises(IOError) as failure:
                with sftp.open("/big-up.bin", "wb") as f:
                    for i in range(256):
                        f.write(chunk)
                        written += len(chunk)
                        if i == 8:
                            self.gate.kill_backend()
            print(f"\n[hostile] upload: {written / MIB:.0f} MiB written, "
                  f"then {failure.exception!r}")
        self.assertGateAlive()
        on_disk = sorted(os.listdir(self.user_dir()))
        self.assertNotIn("big-up.bin", on_disk)
        temps = [n for n in on_disk if n.startswith(".sftpgate-tmp-")]
        print(f"[hostile] upload: temp files left on disk by the killed "
              f"backend: {temps}")
        self.assertFailsWhileDown()
        took = self.recover()
        print(f"[hostile] upload: recovered {took:.2f}s after restart")
        with self.sftp() as sftp:
            listing = sftp.listdir("/")
            self.assertNotIn("big-up.bin", listing)
            self.assertEqual([n for n in listing if n.startswith(".sftpgate")],
                             [], "temp files visible to a listing")
            with self.assertRaises(FileNotFoundError):
                sftp.stat("/big-up.bin")
            # Uploads work again.
            with sftp.open("/big-up.bin", "wb") as f:
                f.write(chunk * 3)
            self.assertEqual(sftp.stat("/big-up.bin").st_size, 3 * MIB)
        with open(os.path.join(self.user_dir(), "big-up.bin"), "rb") as f:
            self.assertEqual(f.read(), chunk * 3)
        self.assertGateAlive()

    def test_other_session_survives_kill(self):
        # A session opened before the kill keeps its SSH connection and
        # works again after the restart (its SFTP channel is not dropped).
        with self.sftp("bob") as sftp:
            sftp.stat("/")
            self.gate.kill_backend()
            with self.assertRaises(IOError):
                sftp.listdir("/")
            self.recover()
            self.assertTrue(wait_for(lambda: sftp.listdir("/") is not None))
            with sftp.open("/after-restart.txt", "wb") as f:
                f.write(b"ok")
            self.assertEqual(sftp.stat("/after-restart.txt").st_size, 2)
        self.assertGateAlive()


class SlowBackendTest(GateCase):
    """The instrumented backend sleeps SLOW_SECONDS in stat and listings of
    "slowstat*", per chunk read of "slowread*" and per chunk written to
    "slowwrite*"; sftpgate's deadline is CALL_TIMEOUT_MS."""

    BACKEND = INSTRUMENTED
    GATE_FLAGS = ("--call_timeout_ms", str(CALL_TIMEOUT_MS))
    SLOW_SECONDS = 30.0

    def assertErrorBeforeBackend(self, what, fn):
        """fn() raises IOError, well before the backend would answer."""
        start = time.monotonic()
        with self.assertRaises(IOError) as failure:
            fn()
        took = time.monotonic() - start
        self.assertLess(took, self.SLOW_SECONDS - 5,
                        "the error waited for the slow backend")
        print(f"\n[hostile] slow {what}: {failure.exception!r} after "
              f"{took:.2f}s")

    def test_slow_calls_time_out(self):
        worker = SessionWorker(self.gate)
        worker.start()
        self.addCleanup(worker.stop)
        with self.sftp() as sftp:
            # Written under other names: OPEN stats its path first.
            for name in ("slowstat-file", "slowread-file"):
                with sftp.open("/seed.bin", "wb") as f:
                    f.write(b"x" * MIB)
                sftp.rename("/seed.bin", "/" + name)
            sftp.mkdir("/slowstat-dir")

            def read():
                with sftp.open("/slowread-file", "rb") as f:
                    f.read(1000)

            def write():
                # Raw SFTP: paramiko's SFTPFile.close() ignores a failed
                # CLOSE, and CLOSE is where a commit's failure is reported.
                alice = self.gate.user("alice")
                with RawSftp(HOST, self.gate.port, alice.name,
                             alice.password) as raw:
                    raw.init()
                    handle = raw.call(OPEN, string("/slowwrite-file"),
                                      u32(FXF_WRITE | FXF_CREAT | FXF_TRUNC),
                                      NO_ATTRS).handle
                    for i in range(4):
                        reply = raw.call(WRITE, string(handle),
                                         u64(i * 200 * 1024),
                                         string(b"y" * 200 * 1024))
                        if reply.status != FX_OK:
                            raise IOError(reply.message)
                    reply = raw.call(CLOSE, string(handle))
                    if reply.status != FX_OK:
                        raise IOError(reply.message)

            for what, fn in (
                    ("stat", lambda: sftp.stat("/slowstat-file")),
                    ("listdir", lambda: sftp.listdir("/slowstat-dir")),
                    ("read", read), ("write", write)):
                with self.subTest(what):
                    self.assertErrorBeforeBackend(what, fn)
            # The same session and other sessions were served meanwhile.
            self.assertTrue(worker.wait_progress(2), worker.errors)
            sftp.stat("/")
            with self.assertRaises(FileNotFoundError):
                sftp.stat("/slowwrite-file")
        # The timed-out upload is aborted once the backend wakes up.
        aborted = wait_for(lambda: [
            l for l in self.gate.events_lines()
            if l.startswith("abort") and l.endswith(" /slowwrite-file")])
        self.assertTrue(aborted, self.gate.events_lines())
        self.assertFalse([l for l in self.gate.events_lines()
                          if l.startswith("commit")
                          and " /slowwrite-file" in l])
        self.assertEqual(worker.errors, [])
        self.assertGateAlive()

    def test_slow_scp_transfers_time_out(self):
        """Legacy scp (-O, over exec) has no per-request deadline either:
        an upload into a backend that stops taking chunks, and a download
        whose chunks stop coming, end with scp's error well before the
        backend would answer, and the upload is never committed."""
        with self.sftp() as sftp:
            with sftp.open("/seed.bin", "wb") as f:
                f.write(b"x" * MIB)
            sftp.rename("/seed.bin", "/slowread-scp")
        local = os.path.join(self.gate.tmp, "scp-upload.bin")
        with open(local, "wb") as f:
            f.write(os.urandom(4 * MIB))
        alice = self.gate.user("alice")
        args, env = self.gate.openssh_client("scp", alice, "key")
        remote = f"{alice.name}@{self.gate.bracketed_host}:"
        for what, paths in (
                ("upload", [local, remote + "/slowwrite-scp"]),
                ("download", [remote + "/slowread-scp",
                              os.path.join(self.gate.tmp, "scp-down.bin")])):
            with self.subTest(what):
                start = time.monotonic()
                proc = harness.run(args + ["-O"] + paths, env=env,
                                   check=False)
                took = time.monotonic() - start
                self.assertNotEqual(proc.returncode, 0, harness.describe(proc))
                self.assertRegex(proc.stderr, "backend timed out")
                self.assertLess(took, self.SLOW_SECONDS - 5,
                                "scp waited for the slow backend")
                print(f"\n[hostile] slow scp {what}: {proc.stderr.strip()!r} "
                      f"after {took:.2f}s")
        aborted = wait_for(lambda: [
            l for l in self.gate.events_lines()
            if l.startswith("abort") and l.endswith(" /slowwrite-scp")])
        self.assertTrue(aborted, self.gate.events_lines())
        self.assertFalse([l for l in self.gate.events_lines()
                          if l.startswith("commit") and " /slowwrite-scp" in l])
        self.assertGateAlive()


class VanishingClientTest(GateCase):
    """A client that disappears mid-upload: the backend stream is
    cancelled and the upload aborted (instrumented backend's log)."""

    BACKEND = INSTRUMENTED

    def events_for(self, path):
        return [l.split()[0] for l in self.gate.events_lines()
                if l.split()[2:3] == [path]]

    def wait_events(self, path, *kinds):
        return wait_for(lambda: all(k in self.events_for(path)
                                    for k in kinds))

    def test_paramiko_socket_reset_mid_upload(self):
        alice = self.gate.user("alice")
        raw = RawSftp(HOST, self.gate.port, alice.name, alice.password)
        raw.init()
        handle = raw.call(OPEN, string("/vanish-raw.bin"),
                          u32(FXF_WRITE | FXF_CREAT | FXF_TRUNC),
                          NO_ATTRS).handle
        chunk = os.urandom(200 * 1024)
        for i in range(20):
            reply = raw.call(WRITE, string(handle), u64(i * len(chunk)),
                             string(chunk))
            self.assertEqual(reply.status, FX_OK)
        self.assertTrue(self.wait_events("/vanish-raw.bin", "write"),
                        self.gate.events_lines())
        raw.abort()  # TCP reset, no CLOSE
        self.assertTrue(self.wait_events("/vanish-raw.bin", "abort"),
                        f"no abort logged: {self.gate.events_lines()}")
        self.assertNotIn("commit", self.events_for("/vanish-raw.bin"))
        with self.sftp() as sftp:
            with self.assertRaises(FileNotFoundError):
                sftp.stat("/vanish-raw.bin")
        self.assertGateAlive()

    def test_openssh_sftp_killed_mid_upload(self):
        local = os.path.join(self.gate.tmp, "vanish-local.bin")
        with open(local, "wb") as f:
            f.write(os.urandom(256 * MIB))
        args, env = self.gate.openssh_client("sftp", "alice", "key")
        args += ["-b", "-", f"alice@{HOST}"]
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env={**os.environ, **env},
            start_new_session=True)
        try:
            proc.stdin.write(f"put {local} /vanish-ssh.bin\n".encode())
            proc.stdin.close()
            self.assertTrue(self.wait_events("/vanish-ssh.bin", "write"),
                            f"upload did not start: "
                            f"{self.gate.events_lines()}")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.assertTrue(self.wait_events("/vanish-ssh.bin", "abort"),
                        f"no abort logged: {self.gate.events_lines()}")
        self.assertNotIn("commit", self.events_for("/vanish-ssh.bin"))
        with self.sftp() as sftp:
            with self.assertRaises(FileNotFoundError):
                sftp.stat("/vanish-ssh.bin")
        self.assertGateAlive()


class VanishingClientLocalFsTest(GateCase):
    """The same with localfs: nothing appears on disk, no temp file stays."""

    BACKEND = "localfs"

    def uploads_open(self, user_dir):
        """Files the backend holds open for uploads into `user_dir`: an
        anonymous O_TMPFILE reads "DIR/#INODE (deleted)" in /proc/PID/fd."""
        fd_dir = "/proc/%d/fd" % self.gate.backend_proc().pid
        paths = []
        for fd in os.listdir(fd_dir):
            try:
                paths.append(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                continue
        return [p for p in paths if os.path.dirname(p) == user_dir and
                os.path.basename(p).startswith("#")]

    def test_socket_reset_mid_upload(self):
        user_dir = self.gate.data + self.gate.user("alice").root
        session = self.sftp()
        f = session.sftp.open("/vanish.bin", "wb")
        for _ in range(10):
            f.write(os.urandom(MIB))
        self.assertTrue(wait_for(lambda: self.uploads_open(user_dir)),
                        "no upload in progress")
        # TCP reset: no CLOSE, no channel close, no SSH disconnect.
        sock = session.client.get_transport().sock
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        sock.close()
        session.client.close()
        left = wait_for(lambda: not self.uploads_open(user_dir) and not [
            n for n in os.listdir(user_dir)
            if n.startswith(".sftpgate-tmp-") or n == "vanish.bin"])
        self.assertTrue(left, f"left on disk: {os.listdir(user_dir)}, "
                        f"open: {self.uploads_open(user_dir)}")
        self.assertGateAlive()


if __name__ == "__main__":
    unittest.main()
