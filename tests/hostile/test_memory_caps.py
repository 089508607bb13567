"""No client can grow the front end's memory past the documented caps.

Each test attacks a fresh sftpgate (with the instrumented Python backend,
sequential-only like an object store) from custom clients built on
paramiko's Transport (raw_sftp.py), while a second user's session
(SessionWorker) does put/stat/get in a loop and must keep working. The
front end's peak resident set (VmHWM) over the attack, less its resident
set before it, must stay within the worst case docs/operations.md
("Memory") states for the attacking connection, computed below from the
same settings, plus ALLOCATOR_SLACK_MIB.

The attacks:
  - WRITEs ahead of the next offset, held for a sequential-only backend,
    on 16 handles (each up to the 16 MiB reorder window);
  - READs on 8 channels of one connection whose replies are never read
    (and on 2 such connections under a process-wide budget: the
    process's bound);
  - WRITEs sent while their file commits (fsync@openssh.com on a backend
    slow to commit), on 8 channels;
  - WRITEs pipelined to a backend that stalls, on 8 channels;
  - files opened for reading and never read, 256 handles on each of 8
    channels (each may hold OPEN's first chunk, no more);
  - data sent past the SSH channel window (paramiko's window accounting
    forged), which must end the connection.

Run: SFTPGATE_BIN_DIR=build/bin SFTPGATE_PYTHONPATH=... \
     /usr/bin/python3 -m unittest -v test_memory_caps
"""

import os
import re
import threading
import time
import unittest
import urllib.request

from hostile_gate import HOST, INSTRUMENTED, HostileGate, SessionWorker
from raw_sftp import (CLOSE, DATA, EXTENDED, FX_FAILURE, FX_OK, FXF_CREAT,
                      FXF_READ, FXF_TRUNC, FXF_WRITE, NO_ATTRS, OPEN, READ,
                      STATUS, WRITE, RawSftp, request, string, u32, u64)
from proc_status import status_kib  # tests/, on the path via hostile_gate's harness

MIB = 1 << 20
# The settings of the gate under attack, and the limits docs/operations.md
# ("Memory") states for them.
TRANSFER_BUFFER_MIB = 4  # --transfer_buffer_mb
TOTAL_BUFFER_MIB = 8  # --transfer_buffer_total_mb of *_process_wide tests
MAX_READ = 255 * 1024  # largest READ reply payload (SftpLimits)
READ_REPLY = MAX_READ + 13
MAX_PACKET = 256 * 1024 + 1024
TRANSFER_MESSAGE = 1 * MIB  # what a transfer may hold past the budget
QUEUED_OUTPUT = 4 * MIB  # per channel: queued + promised replies
CONNECTION_OUTPUT = 8 * MIB  # per connection
# What libssh may hold for a channel whose client honours the window
# (WINDOWBASE + WINDOWLIMIT of libssh 0.10.6), once there and once drained
# into the front end, plus one partial SFTP packet.
CHANNEL_INPUT = 2 * (1280000 + 640000) + MAX_PACKET
# A file handle opened for reading and never read: OPEN's first chunk
# (32 KiB, docs/operations.md) and the handle's own state and finished Read
# call (measured: 67 KiB in all), at most 256 per channel (--max_handles).
OPEN_HANDLE = 96 * 1024
MAX_HANDLES = 256
# Free memory the allocator may keep between transfers (docs/operations.md:
# malloc arenas, process_tuning.h), and gRPC/libssh per-connection state.
ALLOCATOR_SLACK_MIB = 24


def connection_worst_case(channels, transfers_per_channel=1):
    """docs/operations.md's worst case for one connection with `channels`
    SFTP channels, in bytes."""
    per_channel = (TRANSFER_BUFFER_MIB * MIB
                   + transfers_per_channel * TRANSFER_MESSAGE + CHANNEL_INPUT)
    output = min(channels * (QUEUED_OUTPUT + READ_REPLY),
                 CONNECTION_OUTPUT + channels * READ_REPLY)
    return channels * per_channel + output


class ReplyReader(threading.Thread):
    """Collects the replies of one RawSftp channel until it ends."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.s = s
        self.replies = []
        self.start()

    def run(self):
        try:
            while True:
                reply = self.s.read_packet(timeout=600)
                if reply is None:
                    return
                self.replies.append(reply)
        except Exception:  # pylint: disable=broad-except
            return  # the test closed the connection


def process_worst_case(connections, channels, total_mib):
    """docs/operations.md's worst case for the process with `connections`
    connections of `channels` channels, one transfer each, under
    --transfer_buffer_total_mb `total_mib`, in bytes."""
    n = connections * channels
    transfers = min(n * TRANSFER_BUFFER_MIB, total_mib) * MIB \
        + n * TRANSFER_MESSAGE
    output = min(channels * (QUEUED_OUTPUT + READ_REPLY),
                 CONNECTION_OUTPUT + channels * READ_REPLY)
    return transfers + connections * (channels * CHANNEL_INPUT + output)


class MemoryCapsTest(unittest.TestCase):
    """A fresh gate per test: what one attack leaves in the allocator must
    not hide the next one's growth."""

    def setUp(self):
        flags = ["--transfer_buffer_mb", str(TRANSFER_BUFFER_MIB),
                 "--metrics_listen", "127.0.0.1:0"]
        if self._testMethodName.endswith("_process_wide"):
            flags += ["--transfer_buffer_total_mb", str(TOTAL_BUFFER_MIB)]
        self.gate = HostileGate(
            INSTRUMENTED, gate_flags=flags,
            backend_flags=["--sequential", "--delay", "20"])
        self.addCleanup(self.gate.cleanup)
        self.gate.start()
        self.metrics_port = int(self.gate.wait_for_gate_log(
            r"metrics_endpoint address=\S+ port=(\d+)").group(1))
        self.worker = SessionWorker(self.gate)
        self.worker.start()
        self.addCleanup(self.worker.stop)
        self.assertTrue(self.worker.wait_progress(3),
                        f"worker: {self.worker.errors}")
        self.sessions = []
        self.addCleanup(self.close_sessions)
        self.pid = self.gate.gate_proc().pid

    def close_sessions(self):
        for s in self.sessions:
            try:
                s.close()
            except Exception:  # pylint: disable=broad-except
                pass

    def connect(self, channels=1):
        """One connection as alice with `channels` initialized channels."""
        u = self.gate.user("alice")
        first = RawSftp(HOST, self.gate.port, u.name, u.password)
        self.sessions.append(first)
        chans = [first] + [first.open_channel() for _ in range(channels - 1)]
        for c in chans:
            c.init()
        return chans

    def in_flight(self):
        with urllib.request.urlopen(
                f"http://127.0.0.1:{self.metrics_port}/metrics",
                timeout=10) as r:
            text = r.read().decode()
        return int(float(re.search(r"^sftpgate_requests_in_flight (\S+)$",
                                   text, re.M).group(1)))

    def wait_for(self, what, condition, timeout=120):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, f"never: {what}")
            time.sleep(0.05)

    def assertWithin(self, base_kib, worst_case, attack):
        """The peak since the attack began stays within `worst_case` plus
        the allocator's slack; the worker keeps going."""
        self.assertTrue(self.worker.wait_progress(2),
                        f"worker: {self.worker.errors}")
        self.assertIsNone(self.gate.gate_proc().poll(), "sftpgate died")
        grown_mib = (status_kib(self.pid, "VmHWM") - base_kib) / 1024
        bound_mib = worst_case / MIB + ALLOCATOR_SLACK_MIB
        print(f"\n[memory] {attack}: front end grew {grown_mib:.0f} MiB "
              f"(bound {bound_mib:.0f} MiB: documented worst case "
              f"{worst_case / MIB:.0f} + slack {ALLOCATOR_SLACK_MIB})",
              flush=True)
        self.assertLess(grown_mib, bound_mib, f"{attack}\n"
                        f"{self.gate.log_tail(max_lines=40)}")

    def open_file(self, s, path, flags):
        reply = s.call(OPEN, string(path), u32(flags), NO_ATTRS)
        self.assertEqual(reply.type, 102, repr(reply))  # HANDLE
        return reply.handle

    # ----- attacks -----

    def test_out_of_order_writes_for_sequential_backend(self):
        # 16 handles, each sent every 255 KiB block of its first 16 MiB but
        # the first: the backend takes only sequential writes, so the front
        # end would hold them all back waiting for offset 0 (16 x 16 MiB).
        (s,) = self.connect()
        handles = [self.open_file(s, f"/ooo-{i}.bin",
                                  FXF_WRITE | FXF_CREAT | FXF_TRUNC)
                   for i in range(16)]
        block = os.urandom(MAX_READ)
        per_handle = 16 * MIB // MAX_READ - 1
        base = status_kib(self.pid, "VmRSS")
        replies = {}

        def read_replies():
            while len(replies) < 16 * per_handle:
                reply = s.read_packet(timeout=120)
                if reply is None:
                    return
                replies[reply.id] = reply

        reader = threading.Thread(target=read_replies, daemon=True)
        reader.start()
        rid = 1000
        for h in handles:
            batch = []
            for n in range(1, per_handle + 1):
                batch.append(request(WRITE, rid, string(h), u64(n * MAX_READ),
                                     string(block)))
                rid += 1
            s.send(b"".join(batch))
        reader.join(timeout=300)
        self.assertFalse(reader.is_alive(), "replies stopped coming")
        self.assertEqual(len(replies), 16 * per_handle)
        self.assertWithin(base, connection_worst_case(1),
                          "16 handles of out-of-order WRITEs")
        refused = [r for r in replies.values() if r.type == STATUS
                   and r.status == FX_FAILURE]
        self.assertTrue(refused, "every out-of-order WRITE was held")
        self.assertIn("transfer memory", refused[0].message)
        # The session still works, and a sequential upload succeeds.
        h = self.open_file(s, "/after.bin", FXF_WRITE | FXF_CREAT | FXF_TRUNC)
        reply = s.call(WRITE, string(h), u64(0), string(block))
        self.assertEqual((reply.type, reply.status), (STATUS, FX_OK))
        reply = s.call(CLOSE, string(h))
        self.assertEqual((reply.type, reply.status), (STATUS, FX_OK))

    def upload(self, s, path, size):
        """Writes `size` random bytes to `path` in READ-sized WRITEs."""
        h = self.open_file(s, path, FXF_WRITE | FXF_CREAT | FXF_TRUNC)
        data = os.urandom(size)
        for off in range(0, len(data), MAX_READ):
            reply = s.call(WRITE, string(h), u64(off),
                           string(data[off:off + MAX_READ]))
            self.assertEqual(reply.status, FX_OK, repr(reply))
        self.assertEqual(s.call(CLOSE, string(h)).status, FX_OK)

    def flood_reads(self, chans, count):
        """Opens /never-read.bin on each channel and sends `count` 255 KiB
        READs on each, reading no reply."""
        first = chans[0]
        self.upload(first, "/never-read.bin", 4 * MIB)
        handles = [self.open_file(c, "/never-read.bin", FXF_READ)
                   for c in chans]
        for c, h in zip(chans, handles):
            c.send(b"".join(
                request(READ, i, string(h), u64((i * MAX_READ) % (4 * MIB)),
                        u32(MAX_READ)) for i in range(count)))

    def wait_until_stalled(self, chans):
        """Until a channel's client window is full (the front end served
        READs as far as the client lets it send) and nothing is being
        served any more (the worker has at most one request in flight):
        what the front end holds for the never-reading client is then at
        its largest."""
        window = chans[0].transport.default_window_size
        self.wait_for(
            "the front end fills a channel's window, then stops serving",
            lambda: max(len(c.channel.in_buffer) for c in chans)
            >= window - 64 * 1024 and self.in_flight() <= 2)

    def test_reading_handles_never_read_on_eight_channels(self):
        # Each OPEN for reading starts the handle's Read call; a read-ahead
        # that ran on without a READ held megabytes per handle (3 GB for
        # one connection of 10 channels before OPEN read one chunk only).
        chans = self.connect(channels=8)
        first = chans[0]
        self.upload(first, "/opened.bin", 4 * MIB)
        base = status_kib(self.pid, "VmRSS")
        for c in chans:
            c.send(b"".join(request(OPEN, i, string("/opened.bin"),
                                    u32(FXF_READ), NO_ATTRS)
                            for i in range(MAX_HANDLES)))
        for c in chans:
            for _ in range(MAX_HANDLES):
                reply = c.read_packet(timeout=120)
                self.assertIsNotNone(reply, "OPEN replies stopped coming")
                self.assertEqual(reply.type, 102, repr(reply))  # HANDLE
        time.sleep(2)  # time for read-aheads to run, were they to
        self.assertWithin(
            base, connection_worst_case(8) + 8 * MAX_HANDLES * OPEN_HANDLE,
            "8 channels x 256 reading handles never read")

    def test_replies_never_read_on_eight_channels(self):
        chans = self.connect(channels=8)
        base = status_kib(self.pid, "VmRSS")
        self.flood_reads(chans, 400)  # 100 MiB of replies per channel
        self.wait_until_stalled(chans)
        self.assertWithin(base, connection_worst_case(8),
                          "8 channels never reading READ replies")
        # The attacking connection's channels are stalled, not broken.
        self.assertTrue(all(c.is_open() for c in chans))

    def test_replies_never_read_process_wide(self):
        # The same from 2 connections of 8 channels, under an 8 MiB
        # process-wide transfer budget: the process's bound holds.
        chans = self.connect(channels=8) + self.connect(channels=8)
        base = status_kib(self.pid, "VmRSS")
        self.flood_reads(chans, 400)
        self.wait_until_stalled(chans)
        self.assertWithin(base, process_worst_case(2, 8, TOTAL_BUFFER_MIB),
                          "2 connections x 8 channels never reading READ "
                          "replies, process-wide budget")

    def test_writes_held_during_commit(self):
        # On each of 8 channels: a file whose commit takes 20 s, an fsync
        # (a commit) and then 120 WRITEs of 255 KiB, which must wait for it.
        chans = self.connect(channels=8)
        block = os.urandom(MAX_READ)
        handles = []
        for n, c in enumerate(chans):
            h = self.open_file(c, f"/slowcommit-{n}.bin",
                               FXF_WRITE | FXF_CREAT | FXF_TRUNC)
            self.assertEqual(c.call(WRITE, string(h), u64(0),
                                    string(b"x")).status, FX_OK)
            handles.append(h)
        readers = [ReplyReader(c) for c in chans]
        base = status_kib(self.pid, "VmRSS")
        writes = 120
        for c, h in zip(chans, handles):
            batch = [request(EXTENDED, 1, string("fsync@openssh.com"),
                             string(h))]
            batch += [request(WRITE, 2 + i, string(h),
                              u64(1 + i * MAX_READ), string(block))
                      for i in range(writes)]
            c.send(b"".join(batch))
        # Every request has reached the front end once each is either
        # answered or in flight (the commits take 20 s, so the fsyncs and
        # what waits for them are still in flight).
        total = len(chans) * (1 + writes)
        self.wait_for("the front end takes every request in",
                      lambda: self.in_flight() + sum(
                          len(r.replies) for r in readers) >= total)
        self.assertWithin(base, connection_worst_case(8),
                          "8 channels writing during a commit")
        refused = [r for reader in readers for r in reader.replies
                   if r.type == STATUS and r.status == FX_FAILURE]
        self.assertTrue(refused, "every WRITE during the commit was held")
        self.assertIn("being committed", refused[0].message)

    def test_writes_to_a_stalled_backend(self):
        # On each of 8 channels, 120 pipelined WRITEs of 255 KiB to a file
        # whose backend takes 20 s per chunk: write-behind must stop at the
        # budget (the channel stops reading) instead of queueing them all.
        base = self.stalled_writes(channels=8)
        self.assertWithin(base, connection_worst_case(8),
                          "8 channels writing to a stalled backend")

    def stalled_writes(self, channels):
        """Sends 120 WRITEs of 255 KiB on each of `channels` channels of
        one connection to slowwrite files, waits until the front end takes
        no more; returns VmRSS before."""
        chans = self.connect(channels=channels)
        block = os.urandom(MAX_READ)
        handles = [self.open_file(c, f"/slowwrite-{n}.bin",
                                  FXF_WRITE | FXF_CREAT | FXF_TRUNC)
                   for n, c in enumerate(chans)]
        readers = [ReplyReader(c) for c in chans]
        base = status_kib(self.pid, "VmRSS")
        writes = 120
        senders = []
        for c, h in zip(chans, handles):
            flood = b"".join(request(WRITE, 1 + i, string(h),
                                     u64(i * MAX_READ), string(block))
                             for i in range(writes))
            sender = threading.Thread(
                target=lambda c=c, f=flood: self.send_quietly(c, f),
                daemon=True)
            sender.start()
            senders.append(sender)
        total = len(chans) * writes

        def stalled():
            # Each channel either stopped being read (its sender waits on
            # a closed window), or every request reached the front end.
            if all(t.is_alive() and c.channel.out_window_size == 0
                   for t, c in zip(senders, chans)):
                return True
            return (not any(t.is_alive() for t in senders)
                    and self.in_flight() + sum(
                        len(r.replies) for r in readers) >= total)

        self.wait_for("the front end stops taking WRITEs or takes all",
                      stalled)
        return base

    def test_data_past_the_window_ends_the_connection(self):
        (s,) = self.connect()
        # First the front end must stop reading the channel: READ replies
        # nobody reads, until the SSH window closes on a flood larger than
        # it (the channel is paused; libssh holds what comes next).
        h = self.open_file(s, "/never-read.bin",
                           FXF_WRITE | FXF_CREAT | FXF_TRUNC)
        self.assertEqual(s.call(WRITE, string(h), u64(0),
                                string(os.urandom(MAX_READ))).status, FX_OK)
        self.assertEqual(s.call(CLOSE, string(h)).status, FX_OK)
        h = self.open_file(s, "/never-read.bin", FXF_READ)
        base = status_kib(self.pid, "VmRSS")
        flood = b"".join(request(READ, i, string(h), u64(0), u32(MAX_READ))
                         for i in range(100_000))
        sender = threading.Thread(target=lambda: self.send_quietly(s, flood),
                                  daemon=True)
        sender.start()
        self.wait_for("the SSH window closes",
                      lambda: s.channel.out_window_size == 0
                      and sender.is_alive())
        # Now ignore the window: paramiko sends whatever it is given, in
        # packets of the largest size the server accepts.
        chan = s.channel
        with chan.lock:
            chan._wait_for_send_window = (  # pylint: disable=protected-access
                lambda size: min(size, chan.out_max_packet_size - 64))
            chan.out_buffer_cv.notify_all()
        junk = bytes(1 * MIB)
        sent = 0
        try:
            while sent < 256 * MIB and s.transport.is_active():
                chan.sendall(junk)
                sent += len(junk)
        except (OSError, EOFError):
            pass  # the server ended the connection
        print(f"\n[memory] sent {sent >> 20} MiB past the window", flush=True)
        self.assertWithin(base, connection_worst_case(1),
                          "data past the SSH window")
        self.wait_for("the front end ends the connection",
                      lambda: not s.transport.is_active(), timeout=60)
        self.gate.wait_for_gate_log(r"channel_window_overrun")
        self.assertLess(sent, 64 * MIB)

    @staticmethod
    def send_quietly(s, data):
        try:
            s.send(data)
        except Exception:  # pylint: disable=broad-except
            pass  # unblocked by the connection's end


if __name__ == "__main__":
    unittest.main()
