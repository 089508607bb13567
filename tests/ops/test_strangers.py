"""Strangers cannot exhaust connections, and bans never lock out an honest
owner: unauthenticated connections are capped per source network and in
total (max_startups, max_startups_per_source), a connection pays at most one
penalty towards a ban whatever it tried, public-key probes and an
authenticator outage pay none, and the number of banned networks is a
metric."""

import os
import re
import resource
import socket
import stat
import subprocess
import time
import unittest
import urllib.request

import paramiko

from ops_harness import HOST, OpsTestCase, wait_until


def idle_socket(port, source):
    """A connected TCP socket from `source` that never speaks, in
    non-blocking mode (for closed_by_peer)."""
    sock = socket.create_connection((HOST, port), timeout=10,
                                    source_address=(source, 0))
    sock.setblocking(False)
    return sock


def closed_by_peer(sock):
    """True when the server closed `sock` (EOF or reset), without
    blocking; data the server sent (its SSH banner) is drained."""
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


class StrangersTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.add_user("alice", "alice-pw", key=True)
        self.idle = []

    def tearDown(self):
        for sock in self.idle:
            sock.close()
        super().tearDown()

    def test_idle_sockets_from_one_address_do_not_lock_out_another(self):
        # Before: each idle socket held a session slot for the 120 s login
        # grace, so 20 of them locked everyone out at --max-sessions=20.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        self.start_gate(self.start_memory_backend(), ["--max-sessions=20"])
        for _ in range(1000):
            self.idle.append(idle_socket(self.port, "127.0.0.2"))
        # Every socket past the per-source limit is closed at once; the
        # rest stay open, unauthenticated, for the login grace.
        closed = wait_until(
            lambda: sum(closed_by_peer(s) for s in self.idle) >= 990,
            timeout=60)
        self.assertTrue(closed, "the server kept more than 10 idle sockets")
        still_open = [s for s in self.idle if not closed_by_peer(s)]
        self.assertEqual(len(still_open), 10)
        # A real login from another address goes through, SFTP included.
        sftp = self.sftp("alice", source="127.0.0.1")
        sftp.mkdir("/in")
        self.assertEqual(sftp.listdir("/"), ["in"])
        # The refusals were counted, not logged line by line (at the
        # default level).
        self.assertNotIn("max_startups_per_source reached", self.gate.log())

    def test_total_unauthenticated_limit(self):
        self.start_gate(self.start_memory_backend(),
                        ["--max-startups=5", "--max-startups-per-source=0"])
        for source in ["127.0.0.%d" % i for i in range(2, 12)]:
            self.idle.append(idle_socket(self.port, source))
        self.assertTrue(wait_until(
            lambda: sum(closed_by_peer(s) for s in self.idle) == 5))
        # Logging in gives the slot back: with the five taken, a new
        # client is turned away; once one idle socket goes, it gets in.
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            self.login("alice", source="127.0.0.1")
        for sock in self.idle:
            sock.close()
        self.idle = []
        self.assertTrue(wait_until(self._can_log_in, timeout=20))

    def _can_log_in(self):
        try:
            self.login("alice", source="127.0.0.1")
            return True
        except (paramiko.SSHException, EOFError, OSError):
            return False

    # ---- Bans. ----

    def _askpass(self, passwords):
        """An SSH_ASKPASS program answering each prompt with the next of
        `passwords` (a counter file keeps its place across runs)."""
        counter = self.path("askpass.count")
        with open(counter, "w") as f:
            f.write("0")
        script = self.path("askpass.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    "n=$(cat %s)\n"
                    "echo $((n + 1)) > %s\n" % (counter, counter))
            for i, password in enumerate(passwords):
                f.write('[ "$n" = %d ] && { echo "%s"; exit 0; }\n' %
                        (i, password))
            f.write("exit 1\n")
        os.chmod(script, stat.S_IRWXU)
        return script, counter

    def test_openssh_user_with_several_keys_and_five_typos_is_not_banned(self):
        # The user's client offers three keys the server does not know
        # (answered "not this key"), then asks for the password: five
        # typos reach the server before the right password, over two
        # connections. Even with a limit of five failures that is one
        # penalty (the connection that ended unauthenticated), not a ban;
        # before, each typo counted and the fifth banned the owner, whose
        # right password was then refused.
        self.start_gate(self.start_memory_backend(),
                        ["--auth-max-failures=5"])
        keys = [self.make_key("other%d" % i) for i in range(3)]
        # Per connection OpenSSH asks three times (keyboard-interactive),
        # then once more for "password", which the server never sees: the
        # three key offers and three typos used up max_auth_tries (6).
        answers = ["typo-1", "typo-2", "typo-3", "typo-unsent",
                   "typo-4", "typo-5", "alice-pw"]
        askpass, counter = self._askpass(answers)
        env = dict(os.environ, SSH_ASKPASS=askpass,
                   SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        argv = ["sftp", "-P", str(self.port), "-F", "/dev/null",
                "-o", "BatchMode=no", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
        for key in keys:
            argv += ["-i", key]
        argv += ["-b", "-", "alice@" + HOST]
        runs = []
        for _ in range(6):
            result = subprocess.run(argv, input="mkdir /made\n", env=env,
                                    capture_output=True, text=True,
                                    timeout=60)
            runs.append(result)
            if result.returncode == 0:
                break
        with open(counter) as f:
            prompts = int(f.read())
        self.assertEqual(runs[-1].returncode, 0,
                         "runs: %r" % [(r.returncode, r.stderr) for r in runs])
        self.assertEqual(prompts, len(answers))
        log = self.gate.log()
        self.assertEqual(len(re.findall(
            r"method=(?:keyboard-interactive|password) result=fail", log)), 5)
        self.assertNotIn("auth_ban", log)
        # Every key was offered and refused, and none of it banned anyone:
        # the owner's own key still gets in from the same address.
        self.assertGreaterEqual(
            len(re.findall(r"method=publickey result=fail", log)), 3)
        self.login("alice", key=self.users["alice"]["key"])

    def test_one_penalty_per_connection_and_the_ban_is_logged_once(self):
        self.start_gate(self.start_memory_backend(),
                        ["--auth-max-failures=3", "--auth-ban-seconds=120",
                         "--auth-ban-delay-ms=10", "--max-auth-tries=5",
                         "--metrics-listen=127.0.0.1:0"])
        metrics_port = int(self.gate.wait_for_log(
            r"metrics_endpoint address=\S+ port=(\d+)").group(1))
        # Two connections with four wrong passwords each: two penalties,
        # no ban (before: eight failures, banned at the third).
        for _ in range(2):
            transport = self.transport()
            for attempt in range(4):
                with self.assertRaises(paramiko.AuthenticationException):
                    transport.auth_password("alice", "wrong-%d" % attempt)
            transport.close()
        self.assertTrue(self.gate.wait_for_log(
            r"session_end .*remote=127\.0\.0\.1:\d+ reason=", count=2))
        self.login("alice")
        # A third failed connection bans 127.0.0.1/32, logged once with
        # its duration; the gauge counts one banned network.
        transport = self.transport()
        with self.assertRaises(paramiko.AuthenticationException):
            transport.auth_password("alice", "wrong")
        transport.close()
        self.assertTrue(self.gate.wait_for_log(
            r"auth_ban address=127\.0\.0\.1/32 failures=3 "
            r"window_seconds=60 ban_seconds=120"))
        for _ in range(3):
            with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
                self.login("alice")
        self.assertEqual(self.gate.log().count("auth_ban "), 1)
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % metrics_port,
                timeout=10) as response:
            text = response.read().decode()
        self.assertIn("sftpgate_auth_banned_sources 1", text)
        # Another address is not affected.
        self.login("alice", source="127.0.0.2")

    def test_exempt_networks_are_never_banned(self):
        self.start_gate(self.start_memory_backend(),
                        ["--auth-max-failures=1",
                         "--auth-exempt-networks=127.0.0.0/24"])
        for _ in range(3):
            transport = self.transport()
            with self.assertRaises(paramiko.AuthenticationException):
                transport.auth_password("alice", "wrong")
            transport.close()
        self.assertTrue(self.gate.wait_for_log(
            r"session_end .*remote=127\.0\.0\.1:\d+ reason=", count=3))
        self.login("alice")
        self.assertNotIn("auth_ban", self.gate.log())

    def test_authenticator_outage_does_not_count_towards_a_ban(self):
        # The delegated authenticator is down: its users' attempts fail,
        # but that is not their fault (before: each one counted, and the
        # local user alice was then banned too).
        self.start_gate(self.start_memory_backend(),
                        ["--auth=grpc:unix:" + self.path("no-auth.sock"),
                         "--auth-timeout-ms=500", "--auth-max-failures=2"])
        for _ in range(4):
            transport = self.transport()
            with self.assertRaises(paramiko.AuthenticationException):
                transport.auth_password("remote-user", "pw")
            transport.close()
        self.assertTrue(self.gate.wait_for_log(
            r"session_end .*remote=127\.0\.0\.1:\d+ reason=", count=4))
        self.assertIn("authenticator unavailable", self.gate.log())
        self.login("alice")
        self.assertNotIn("auth_ban", self.gate.log())


if __name__ == "__main__":
    unittest.main()
