"""Backend replicas: one replica stopped and restarted under load.

Three sftpgate-localfs-backend replicas serve one shared directory; sftpgate
balances over them (`--backend unix:a,b,c`: round_robin, client-side health
checking, retries of the read-only calls on UNAVAILABLE). Twenty client
sessions (paramiko) loop over put/rename/stat/listdir/get/realpath/
readlink/remove (session_worker.py) while the test:

  A. waits until every replica has served downloads (all are in rotation),
     then pauses downloads of a big file and uploads half-way in one more
     session (held_transfer.py) until at least one of each has its stream
     on the replica about to die and one of each on another replica;
  B. stops one replica (SIGKILL: a crash; SIGTERM: a clean stop, as in a
     rolling restart), finishes the paused transfers, and lets the
     sessions run on the other two;
  C. restarts it on the same socket and waits until it serves downloads
     again, then measures that it takes a fair share of them.

Asserted: operations that change nothing (stat, listdir, realpath,
readlink: retried by gRPC; get: the front end resumes a broken Read
stream on another replica) never fail, and the paused download on the
killed replica completes intact; no operation hangs, no session is
dropped, no answer is wrong; what does fail (uploads, renames, removes in
flight on the killed replica) fails with an SFTP error naming the backend
as unavailable, only around the kill; an upload that failed left no
partial file; transfers on the other replicas complete intact; every
session keeps working afterwards. Phases end on conditions, not fixed speeds; each
has a generous deadline so the test always ends.
"""

import collections
import contextlib
import os
import signal
import sys
import threading
import time
import unittest

import held_transfer
import replica_gate
import session_worker
from session_worker import OK, RETRYABLE, SFTP_ERROR

SESSIONS = 20
REPLICAS = 3
VICTIM = 1  # which replica is killed and restarted
USER = "alice"  # all sessions log in as alice (root /alice of the store)

# A replica "serves downloads" once it has read this much file data.
MIN_READ = 256 * 1024
# Least time the sessions run in each phase (the phases also wait for
# conditions, see the module doc).
PHASE_MIN_SECONDS = 4.0
# Most time any phase may wait for its condition.
PHASE_DEADLINE_SECONDS = 90.0
# Operations that start this long after the kill must not fail: by then
# the front end's channel has seen the replica's connection close.
SETTLE_SECONDS = 2.0
# After the restarted replica is seen serving, the window over which its
# share of downloads is measured (file data read by all replicas together:
# an amount of work, not a time, so a slow machine measures the same), and
# the least share relative to the busiest other replica (round robin gives
# each about the same).
SHARE_WINDOW_BYTES = 32 * MIN_READ
MIN_SHARE = 0.2
# A client request unanswered this long counts as a hang (the front end's
# own backend call deadline, 30 s by default, must have fired before).
HANG_SECONDS = 60.0
# The paused downloads read this file: big enough that the front end's
# read-ahead (a few MiB) and gRPC's flow-control windows cannot hold it.
# (Measured: the localfs replica had read 8.25 MiB ahead of a paused client;
# gRPC's BDP probing may grow the stream window on a busy channel, so keep
# a wide margin.)
BIG_FILE_BYTES = 32 * 1024 * 1024
UPLOAD_BYTES = 2 * 1024 * 1024
# Most paused transfers of each kind started to get one on the victim and
# one elsewhere (the sessions' calls interleave with the paused session's,
# so where round robin sends each is close to random).
MAX_HELD = 40


class ReplicaFailoverTest(unittest.TestCase):
    """One replica stopped with SIGNAL and restarted (subclasses below)."""

    SIGNAL = None
    # SFTP error texts an operation that failed at the stop may carry.
    STOP_ERRORS = ("backend unavailable",)

    def setUp(self):
        self.gate = replica_gate.ReplicaGate(REPLICAS)
        self.addCleanup(self.gate.cleanup)
        try:
            self.gate.start()
        except BaseException:
            sys.stderr.write(f"\n[replicas] start failed; logs:\n"
                             f"{self.gate.log_tail()}\n")
            raise
        self.stop = threading.Event()
        self.workers = []

    def print_logs_on_failure(self, test):
        """Runs `test`; if it raises, prints the server logs first (the
        cleanups delete them)."""
        try:
            test()
        except BaseException:
            sys.stderr.write(f"\n[replicas] server logs:\n"
                             f"{self.gate.log_tail(max_lines=60)}\n")
            raise

    # ----- helpers -----

    def read_all(self):
        """{replica: bytes read}, for the replicas now alive."""
        return {i: self.gate.read_bytes(i) for i in range(REPLICAS)
                if self.gate.replica(i).poll() is None}

    def wait_for(self, what, condition, min_seconds=0.0):
        """Lets the sessions run until `condition()` holds and at least
        `min_seconds` have passed; fails after PHASE_DEADLINE_SECONDS or
        if a session died."""
        start = time.monotonic()
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= min_seconds and condition():
                return
            dead = [w for w in self.workers if not w.is_alive()]
            if dead:
                self.fail(f"while waiting for {what}: session "
                          f"{dead[0].index} ended: {dead[0].error!r}")
            if elapsed > PHASE_DEADLINE_SECONDS:
                self.fail(f"{what}: not within {PHASE_DEADLINE_SECONDS}s")
            time.sleep(0.2)

    def ok_ops_since(self, t, name=None):
        """{session: count} of successful operations started after t.
        (Reads lists other threads append to: a snapshot is enough.)"""
        counts = collections.Counter()
        for w in self.workers:
            for op in list(w.ops):
                if op.start > t and op.outcome == OK and (
                        name is None or op.name == name):
                    counts[w.index] += 1
        return counts

    def every_session_did(self, name, since):
        return lambda: len(self.ok_ops_since(since, name)) == SESSIONS

    # ----- the test -----

    def test_stop_and_restart_one_replica(self):
        self.print_logs_on_failure(self.stop_and_restart_one_replica)

    def stop_and_restart_one_replica(self):
        with contextlib.ExitStack() as stack:
            for i in range(SESSIONS):
                sftp = stack.enter_context(self.gate.paramiko(USER))
                sftp.get_channel().settimeout(HANG_SECONDS)
                worker = session_worker.SessionWorker(i, sftp, f"/s{i:02d}",
                                                      self.stop)
                worker.prepare()
                self.workers.append(worker)
            stack.callback(self.join_workers)
            held_sftp = stack.enter_context(self.gate.paramiko(USER))
            held_sftp.get_channel().settimeout(HANG_SECONDS)
            for w in self.workers:
                w.start()

            # A: every replica serves downloads.
            base = self.read_all()
            self.wait_for(
                "every replica to serve downloads",
                lambda: all(v - base[i] >= MIN_READ
                            for i, v in self.read_all().items()),
                PHASE_MIN_SECONDS)
            held_from = time.monotonic()
            held = self.hold_transfers(held_sftp)
            print(f"[replicas] paused {len(held)} transfers in "
                  f"{time.monotonic() - held_from:.1f}s", file=sys.stderr)

            # B: one replica dies; the others carry on.
            killed_at = time.monotonic()
            self.gate.stop_replica(VICTIM, self.SIGNAL)
            settled = killed_at + SETTLE_SECONDS
            held_results = [(t, t.finish(to_end=t.replica == VICTIM))
                            for t in held]
            print(f"[replicas] finished them in "
                  f"{time.monotonic() - killed_at:.1f}s", file=sys.stderr)
            self.wait_for("every session to complete a get on two replicas",
                          self.every_session_did("get", settled),
                          PHASE_MIN_SECONDS)

            # C: it comes back on the same port and takes traffic again.
            restarted_at = time.monotonic()
            self.gate.restart_replica(VICTIM)
            self.wait_for(
                "the restarted replica to serve downloads",
                lambda: self.gate.read_bytes(VICTIM) >= MIN_READ)
            window_start = self.read_all()
            self.wait_for(
                "the replicas to serve the share window's downloads",
                lambda: sum(self.read_all().values())
                - sum(window_start.values()) >= SHARE_WINDOW_BYTES)
            window_end = self.read_all()
            self.wait_for("every session to complete a get after the restart",
                          self.every_session_did("get", restarted_at))
            self.stop.set()
        # (the ExitStack joined the workers and closed the sessions)

        self.check_results(killed_at, settled, restarted_at,
                           {i: window_end[i] - window_start[i]
                            for i in window_end})
        self.check_held(held_results)

    def hold_transfers(self, sftp):
        """Paused transfers: a download and an upload with their stream on
        VICTIM, and one of each on another replica. Transfers that land
        where one of their kind is already held are abandoned."""
        big = os.urandom(BIG_FILE_BYTES)
        user_dir = os.path.join(self.gate.data, USER)
        big_local = os.path.join(user_dir, "big.bin")
        with open(big_local, "wb") as f:
            f.write(big)
        payload = os.urandom(UPLOAD_BYTES)

        def is_temp(path):
            return held_transfer.is_upload_file(path, user_dir)

        starts = {
            "get": (lambda k: held_transfer.HeldDownload(
                sftp, "/big.bin", big), lambda p: p == big_local),
            "put": (lambda k: held_transfer.HeldUpload(
                sftp, f"/held-{k}", payload), is_temp),
        }
        held = []
        for kind, (start, matches) in starts.items():
            placed = {}  # on VICTIM? -> transfer
            landed = []
            for k in range(MAX_HELD):
                if len(placed) == 2:
                    break
                t = held_transfer.locate(
                    self.gate, lambda k=k, start=start: start(k), matches)
                landed.append(t.replica)
                if (t.replica == VICTIM) in placed:
                    held_transfer.abandon(self.gate, t, matches)
                    # One more call moves round robin on by one, in case
                    # nothing else calls in between: each start makes the
                    # same number of calls and would land on the same
                    # replica again.
                    sftp.stat("/")
                else:
                    placed[t.replica == VICTIM] = t
            else:
                self.fail(f"{MAX_HELD} paused {kind}s did not land both on "
                          f"replica {VICTIM} and elsewhere: {landed}")
            held += placed.values()
        return held

    def check_held(self, results):
        lines = ["[replicas] paused transfers finished after the kill:"]
        lines += [f"  {t.kind} {t.path} on replica {t.replica}: {outcome} "
                  f"{detail} (resumed: {t.resumed})"
                  for t, (outcome, detail) in results]
        report = "\n".join(lines)
        print(report, file=sys.stderr)
        user_dir = os.path.join(self.gate.data, USER)
        for t, (outcome, detail) in results:
            local = os.path.join(user_dir, t.path.lstrip("/"))
            what = f"{t.kind} {t.path} on replica {t.replica}\n{report}"
            if t.replica != VICTIM or t.kind == "get":
                # A download whose stream broke is read on from where it
                # stopped on a live replica (finish() checks the bytes).
                self.assertEqual(outcome, OK, what)
            else:
                # An upload's data died with the replica: it must fail,
                # cleanly, and publish nothing.
                self.assertEqual(outcome, SFTP_ERROR, what)
                self.assertTrue(self.stop_error(detail), what)
            if t.kind == "put":
                if outcome == OK:
                    with open(local, "rb") as f:
                        self.assertEqual(f.read(), t.content, what)
                else:
                    self.assertFalse(os.path.exists(local),
                                     "failed upload published\n" + what)

    def join_workers(self):
        self.stop.set()
        for w in self.workers:
            w.join(timeout=HANG_SECONDS + 30)
        stuck = [w.index for w in self.workers if w.is_alive()]
        self.assertEqual(stuck, [], "sessions that did not stop")

    def check_results(self, killed_at, settled, restarted_at, share):
        ops = [op for w in self.workers for op in w.ops]
        report = self.summary(ops, killed_at, restarted_at, share)
        print(report, file=sys.stderr)

        errors = {w.index: repr(w.error) for w in self.workers if w.error}
        self.assertEqual(errors, {}, "sessions that hung or were dropped\n"
                         + report)
        self.assertIsNone(self.gate.gate_proc().poll(), "sftpgate exited")

        failed = [op for op in ops if op.outcome != OK]
        # Read-only operations are retried on another replica.
        self.assertEqual([op for op in failed if op.name in RETRYABLE], [],
                         "retryable operations failed\n" + report)
        # Whatever failed was answered with an SFTP error saying the
        # backend is unavailable (not a timeout, not wrong data) ...
        self.assertEqual(
            [op for op in failed if op.outcome != SFTP_ERROR
             or not self.stop_error(op.detail)], [],
            "failures other than a clean 'backend unavailable'\n" + report)
        # ... and was in flight when the replica died: each session has one
        # request outstanding at a time, and nothing fails once settled.
        self.assertEqual(
            [op for op in failed
             if not (op.start < settled and op.end >= killed_at)], [],
            "failures away from the kill\n" + report)
        self.assertLessEqual(len(failed), SESSIONS, report)

        # An upload that failed is absent or complete, never partial.
        for w in self.workers:
            for path, payload in w.failed_puts:
                local = os.path.join(self.gate.data, USER + path)
                if os.path.exists(local):
                    with open(local, "rb") as f:
                        self.assertEqual(f.read(), payload,
                                         f"{path}: partial upload visible")

        # Every session kept working after the kill and after the restart.
        for since, what in ((settled, "the kill"),
                            (restarted_at, "the restart")):
            done = self.ok_ops_since(since)
            self.assertEqual(
                sorted(done), list(range(SESSIONS)),
                f"sessions without a successful operation after {what}")

        # The restarted replica is back in the rotation with a fair share.
        busiest = max(v for i, v in share.items() if i != VICTIM)
        self.assertGreaterEqual(
            share[VICTIM], MIN_SHARE * busiest,
            f"restarted replica's share of downloads: {share}\n" + report)

    def stop_error(self, detail):
        return any(e in detail.lower() for e in self.STOP_ERRORS)

    @staticmethod
    def summary(ops, killed_at, restarted_at, share):
        """Counts of operations per phase, name and outcome, and failures."""
        def phase(op):
            if op.start < killed_at:
                return "before kill"
            return "replica down" if op.start < restarted_at else "restarted"
        counts = collections.Counter((phase(op), op.name, op.outcome)
                                     for op in ops)
        lines = ["[replicas] operations (phase, name, outcome: count):"]
        lines += [f"  {p:13s} {n:9s} {o:10s} {c}"
                  for (p, n, o), c in sorted(counts.items())]
        failed = [op for op in ops if op.outcome != OK]
        lines.append(f"[replicas] {len(ops)} operations, {len(failed)} failed")
        for op in failed:
            lines.append(
                f"  session {op.session} {op.name}: started "
                f"{op.start - killed_at:+.3f}s from the kill, took "
                f"{op.end - op.start:.3f}s: {op.outcome}: {op.detail}")
        lines.append(f"[replicas] file bytes read per replica in the "
                     f"share window ({SHARE_WINDOW_BYTES} bytes in all) "
                     f"after the restarted one came back: {share}")
        return "\n".join(lines)


class SigkillTest(ReplicaFailoverTest):
    SIGNAL = signal.SIGKILL


class SigtermTest(ReplicaFailoverTest):
    """A clean stop, as in a rolling restart of the replicas: the SDK host
    stops taking calls, lets those in flight finish for its grace period
    (--shutdown_grace_ms), then cancels the rest (the paused transfers).
    A cancelled upload fails; a cancelled download is read on elsewhere."""
    SIGNAL = signal.SIGTERM
    STOP_ERRORS = ("backend unavailable", "cancelled")


del ReplicaFailoverTest  # (run only through its subclasses)

if __name__ == "__main__":
    unittest.main()
