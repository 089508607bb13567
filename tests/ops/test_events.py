"""Event notifications (--events) with the real binary, real clients
(paramiko) and the sample consumer (sample-backends/events-python), which
writes every event it receives as one JSON line.

What must hold: every committed upload gives exactly one UPLOAD event and
an aborted one none; a download closed by the client gives one DOWNLOAD,
a failed or abandoned one none; a consumer that is down for 5 s and comes back (same
unix socket) loses nothing within the queue bound; past the bound events
are dropped, counted in sftpgate_events_dropped_total and logged."""

import collections
import json
import os
import re
import signal
import subprocess
import time
import unittest
import urllib.request

from ops_harness import BIN_DIR, HOST, OpsTestCase, Process, wait_until

CONSUMER = os.path.join(BIN_DIR, "sftpgate-events-consumer")
PASSWORD = "alice-Events-42"


class EventsTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", PASSWORD, root="/")
        self.socket = self.path("events.sock")
        self.output = self.path("events.jsonl")
        self.consumer = None
        self.consumers = 0

    # ---- helpers ----

    def start_consumer(self):
        """The sample consumer on self.socket (the same path every time, as
        a restarted consumer would be)."""
        self.consumers += 1
        self.consumer = Process(
            [CONSUMER, "--listen=unix:" + self.socket,
             "--output=" + self.output],
            self.path("consumer-%d.log" % self.consumers))
        self.processes.append(self.consumer)
        self.assertTrue(self.consumer.wait_for_log("listening on"),
                        self.consumer.log())

    def start(self, extra=()):
        self.start_consumer()
        return self.start_gate(
            self.start_memory_backend(),
            ["--events=grpc:unix:" + self.socket,
             "--metrics-listen=127.0.0.1:0"] + list(extra))

    def events(self):
        if not os.path.exists(self.output):
            return []
        with open(self.output, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def wait_for_events(self, predicate, timeout=30):
        """Polls the consumer's output until predicate(events) holds."""
        ok = wait_until(lambda: predicate(self.events()), timeout=timeout)
        self.assertTrue(ok, "events never matched; got:\n" +
                        "\n".join(map(json.dumps, self.events())))
        return self.events()

    def logged_out(self, session_id):
        """Predicate: the LOGOUT of `session_id` has arrived (events come
        in order, so everything of that session came before it)."""
        return lambda events: any(
            e["kind"] == "EVENT_KIND_LOGOUT" and
            e["session"]["sessionId"] == session_id for e in events)

    def metric(self, name):
        match = self.gate.wait_for_log(
            r"metrics_endpoint address=127\.0\.0\.1 port=(\d+)")
        self.assertIsNotNone(match, self.gate.log())
        with urllib.request.urlopen("http://127.0.0.1:%s/metrics" %
                                    match.group(1), timeout=10) as response:
            body = response.read().decode()
        found = re.search(r"^%s (\d+)$" % name, body, re.M)
        self.assertIsNotNone(found, body)
        return int(found.group(1))

    def session_id(self):
        """Id of the newest session in the log."""
        ids = re.findall(r"session_start session=(\S+)", self.gate.log())
        self.assertTrue(ids, self.gate.log())
        return ids[-1]

    def upload(self, sftp, path, size):
        data = os.urandom(size)
        with sftp.open(path, "wb") as f:
            f.write(data)
        return data

    def uploads(self, events):
        return [e for e in events if e["kind"] == "EVENT_KIND_UPLOAD"]

    # ---- tests ----

    def scp_legacy(self, user, *args):
        """OpenSSH `scp -O` (the SCP protocol over exec) as `user`."""
        proc = subprocess.run(
            ["scp", "-O", "-q", "-F", "/dev/null", "-P", str(self.port),
             "-i", self.users[user]["key"], "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
             "-o", "IdentitiesOnly=yes"] + list(args),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc)

    def test_legacy_scp_gives_the_events_and_metrics_sftp_gives(self):
        self.add_user("carol", key=True)
        self.start()
        tree = self.path("tree")
        os.makedirs(os.path.join(tree, "sub"))
        sizes = {"/tree/a.bin": 100000, "/tree/sub/b.bin": 3000}
        for path, size in sizes.items():
            with open(self.path(path.lstrip("/")), "wb") as f:
                f.write(os.urandom(size))
        self.scp_legacy("carol", "-r", tree, "carol@%s:/" % HOST)
        self.scp_legacy("carol", "carol@%s:/tree/a.bin" % HOST,
                        self.path("a.back"))
        with open(self.path("a.back"), "rb") as back, \
                open(self.path("tree/a.bin"), "rb") as sent:
            self.assertEqual(back.read(), sent.read())
        events = self.wait_for_events(lambda ev: sum(
            e["kind"] == "EVENT_KIND_LOGOUT" for e in ev) == 2)
        ours = [e for e in events if e["session"]["user"] == "carol"]
        uploads = self.uploads(ours)
        self.assertEqual({e["path"]: int(e["size"]) for e in uploads}, sizes)
        self.assertEqual(len(uploads), 2, uploads)
        self.assertEqual(sorted(e["path"] for e in ours
                                if e["kind"] == "EVENT_KIND_MKDIR"),
                         ["/tree", "/tree/sub"])
        downloads = [e for e in ours if e["kind"] == "EVENT_KIND_DOWNLOAD"]
        self.assertEqual([(e["path"], int(e["size"])) for e in downloads],
                         [("/tree/a.bin", 100000)])
        for op, count in (("scp-upload", 2), ("scp-download", 1),
                          ("scp-mkdir", 2)):
            self.assertEqual(self.metric(re.escape(
                'sftpgate_operations_total{op="%s",status="ok"}' % op)),
                count, op)

    def test_each_committed_upload_gives_one_event_aborted_ones_none(self):
        self.start()
        sftp = self.sftp("alice")
        session = self.session_id()
        committed = {}
        for i in range(12):
            path = "/up-%02d.bin" % i
            committed[path] = len(self.upload(sftp, path, 1000 * i + 1))
        sftp.mkdir("/dir")
        sftp.rename("/up-00.bin", "/dir/moved.bin")
        sftp.remove("/up-01.bin")
        with sftp.open("/up-02.bin", "rb") as f:
            f.read()
        sftp.remove("/dir/moved.bin")
        sftp.rmdir("/dir")
        # A failed operation gives no event.
        with self.assertRaises(IOError):
            sftp.remove("/no-such-file")
        sftp.get_channel().get_transport().close()  # logout

        # Uploads abandoned mid-way (the connection drops before CLOSE).
        aborter = self.sftp("alice")
        aborted_session = self.session_id()
        open_files = []  # referenced: paramiko closes a collected file
        for i in range(3):
            f = aborter.open("/aborted-%d.bin" % i, "wb")
            f.write(os.urandom(300000))
            f.flush()
            open_files.append(f)
        aborter.get_channel().get_transport().close()

        events = self.wait_for_events(
            lambda ev: self.logged_out(session)(ev) and
            self.logged_out(aborted_session)(ev))
        uploads = self.uploads(events)
        counts = collections.Counter(e["path"] for e in uploads)
        self.assertEqual(dict(counts), {p: 1 for p in committed}, uploads)
        for e in uploads:
            self.assertEqual(int(e.get("size", 0)), committed[e["path"]], e)
            self.assertEqual(e["session"]["user"], "alice")
            self.assertRegex(e["session"]["remoteAddress"],
                             r"^127\.0\.0\.1:\d+$")
        self.assertFalse([e for e in events if "aborted" in e.get("path", "")])
        kinds = collections.Counter(e["kind"] for e in events)
        self.assertEqual(kinds["EVENT_KIND_LOGIN"], 2)
        self.assertEqual(kinds["EVENT_KIND_LOGOUT"], 2)
        by_kind = {e["kind"]: e for e in events}
        self.assertEqual(by_kind["EVENT_KIND_RENAME"]["path"], "/up-00.bin")
        self.assertEqual(by_kind["EVENT_KIND_RENAME"]["targetPath"],
                         "/dir/moved.bin")
        self.assertEqual(kinds["EVENT_KIND_REMOVE"], 2)  # the failed one: none
        self.assertEqual(by_kind["EVENT_KIND_MKDIR"]["path"], "/dir")
        self.assertEqual(by_kind["EVENT_KIND_RMDIR"]["path"], "/dir")
        self.assertEqual(by_kind["EVENT_KIND_DOWNLOAD"]["path"], "/up-02.bin")
        self.assertEqual(int(by_kind["EVENT_KIND_DOWNLOAD"]["size"]),
                         committed["/up-02.bin"])
        # Ids are unique (the consumer deduplicates on them).
        ids = [e["eventId"] for e in events]
        self.assertEqual(len(ids), len(set(ids)))

    def test_only_downloads_closed_without_error_give_events(self):
        """As the `transfer` log line: a download whose READ failed (its
        backend died) or that the client abandoned gives no DOWNLOAD; one
        the client closed gives one, with the bytes sent."""
        self.start(["--call-timeout-ms=3000"])
        backend = [p for p in self.processes
                   if p.argv[0].endswith("sftpgate-memory-backend")][0]
        sftp = self.sftp("alice")
        session = self.session_id()
        size = 16 * 1024 * 1024
        self.upload(sftp, "/f.bin", size)
        with sftp.open("/f.bin", "rb") as f:
            self.assertEqual(len(f.read()), size)

        abandoner = self.sftp("alice")
        abandoned_session = self.session_id()
        abandoned = abandoner.open("/f.bin", "rb")  # referenced until gone
        abandoned.read(1024 * 1024)
        abandoner.get_channel().get_transport().sock.close()

        failing = sftp.open("/f.bin", "rb")
        failing.read(1024 * 1024)
        backend.kill()
        with self.assertRaises(IOError):
            while failing.read(1024 * 1024):
                pass
        failing.close()
        sftp.get_channel().get_transport().close()

        events = self.wait_for_events(
            lambda ev: self.logged_out(session)(ev) and
            self.logged_out(abandoned_session)(ev))
        downloads = [e for e in events if e["kind"] == "EVENT_KIND_DOWNLOAD"]
        self.assertEqual(len(downloads), 1, downloads)
        self.assertEqual(int(downloads[0]["size"]), size)
        del abandoned

    def test_consumer_down_for_5s_then_back_loses_nothing(self):
        self.start()
        sftp = self.sftp("alice")
        committed = []
        for i in range(3):
            self.upload(sftp, "/before-%d" % i, 100)
            committed.append("/before-%d" % i)
        self.wait_for_events(lambda ev: len(self.uploads(ev)) == 3)
        # Down: uploads go on, as fast as ever, for 5 s.
        self.consumer.stop(signal.SIGKILL)
        down_until = time.monotonic() + 5
        i = 0
        while time.monotonic() < down_until:
            started = time.monotonic()
            self.upload(sftp, "/during-%d" % i, 1000)
            # The client is not slowed by the missing consumer.
            self.assertLess(time.monotonic() - started, 2.0)
            committed.append("/during-%d" % i)
            i += 1
        self.assertGreater(i, 10)
        self.assertTrue(self.gate.wait_for_log("events_publish_failed"))
        # Back on the same socket path.
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.start_consumer()
        self.upload(sftp, "/after", 10)
        committed.append("/after")
        events = self.wait_for_events(
            lambda ev: len(self.uploads(ev)) >= len(committed))
        counts = collections.Counter(e["path"] for e in self.uploads(events))
        self.assertEqual(dict(counts), {p: 1 for p in committed})
        self.assertTrue(self.gate.wait_for_log("events_publish_resumed"))
        self.assertEqual(self.metric("sftpgate_events_dropped_total"), 0)
        self.assertNotIn("events_dropped", self.gate.log())

    def test_past_the_bound_events_are_dropped_counted_and_logged(self):
        self.start(["--events-queue-size=5"])
        sftp = self.sftp("alice")
        self.wait_for_events(
            lambda ev: any(e["kind"] == "EVENT_KIND_LOGIN" for e in ev))
        self.consumer.stop(signal.SIGKILL)
        for i in range(12):
            self.upload(sftp, "/f-%d" % i, 10)
        self.assertTrue(self.gate.wait_for_log(
            r"events_dropped .*queue_size=5"), self.gate.log())
        # Dropped: the 7 uploads past the 5 queued; logged once per spell.
        self.assertEqual(self.metric("sftpgate_events_dropped_total"), 7)
        self.assertEqual(self.gate.log().count("events_dropped "), 1)
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.start_consumer()
        events = self.wait_for_events(lambda ev: len(self.uploads(ev)) == 5)
        self.assertEqual([e["path"] for e in self.uploads(events)],
                         ["/f-%d" % i for i in range(5)])
        self.assertTrue(self.gate.wait_for_log(r"events_drop_ended dropped=7"))


if __name__ == "__main__":
    unittest.main()
