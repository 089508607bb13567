"""Two sftpgate front ends behind HAProxy, configured from the shipped
example packaging/haproxy/sftpgate.cfg (addresses and check interval
rewritten for the test).

Asserted: the example is a valid HAProxy configuration; clients going
through the balancer reach both front ends and always see the same host
key (the front ends share the key file); draining one front end (HAProxy
"state drain", then SIGTERM with shutdown_grace_seconds) lets its open
sessions go on working while new sessions all go to the other, and it
exits by itself, cleanly, once its last session ends.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

import replica_gate
from replica_gate import HOST, REPO, harness

EXAMPLE = os.path.join(REPO, "packaging", "haproxy", "sftpgate.cfg")
GRACE_SECONDS = 120  # the drain ends by itself long before this
SESSIONS = 4
USER = "alice"


class TwoFrontEndsGate(harness.Gate):
    """The e2e Gate (localfs backend, one sftpgate), plus a second sftpgate
    with the same arguments (same host key file, users, backend) on a
    port of its own (both bind port 0)."""

    def __init__(self):
        super().__init__(replica_gate.BACKEND)
        self.gate_argv = None
        self.ports = []

    def _spawn(self, name, args, pass_fds=()):
        if name == "sftpgate":
            args = args + ["--shutdown-grace-seconds", str(GRACE_SECONDS)]
            self.gate_argv = args
        return super()._spawn(name, args, pass_fds)

    def start(self):
        super().start()
        _, listening = self._start_listening("sftpgate-2", self.gate_argv,
                                             harness.GATE_LISTENING)
        self.ports = [self.port, int(listening.group(1))]

    def front_end(self, i):
        name = "sftpgate" if i == 0 else "sftpgate-2"
        for n, proc, log in self.procs:
            if n == name:
                return proc, log
        raise KeyError(name)

    def logins(self, i):
        """Successful logins logged by front end i so far."""
        with open(self.front_end(i)[1]) as f:
            return sum(1 for line in f
                       if " auth " in line and "result=ok" in line)


def balancer_config(example, bind, servers, stats_socket):
    """The example with our addresses (`bind`: HAProxy's listen address),
    a stats socket and a fast check."""
    out = []
    for line in example.splitlines():
        stripped = line.strip()
        if stripped.startswith(("log /dev/log", "stats socket")):
            continue  # no syslog here; our own admin socket below
        if stripped.startswith("bind :22"):
            line = f"    bind {bind}"
        elif stripped.startswith("server gate"):
            if servers:
                out += [f"    server gate{i + 1} {HOST}:{port} check"
                        for i, port in enumerate(servers)]
                servers = []
            continue
        elif stripped.startswith("maxconn"):
            line = "    maxconn 1000"  # (a container's fd limit may be low)
        elif stripped.startswith("default-server"):
            line = re.sub(r"\binter \S+", "inter 300ms", line)
        elif stripped == "global":
            out += [line, f"    stats socket {stats_socket} level admin"]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


class FrontEndsBehindHaproxyTest(unittest.TestCase):

    def setUp(self):
        self.haproxy = shutil.which("haproxy")
        if self.haproxy is None:
            # a failure, not a skip: scripts/setup installs it
            self.fail("haproxy is not installed (scripts/setup installs it)")
        self.gate = TwoFrontEndsGate()
        self.addCleanup(self.gate.cleanup)
        self.gate.start()

    def haproxy_command(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.stats_socket)
            s.sendall(command.encode() + b"\n")
            return b"".join(iter(lambda: s.recv(65536), b"")).decode()

    def server_states(self):
        """{server name: status} from HAProxy's stats (UP, DOWN, DRAIN...)."""
        rows = self.haproxy_command("show stat").splitlines()
        header = rows[0].lstrip("# ").split(",")
        states = {}
        for row in rows[1:]:
            fields = dict(zip(header, row.split(",")))
            if fields.get("pxname") == "sftpgate" and \
                    fields.get("svname", "").startswith("gate"):
                states[fields["svname"]] = fields["status"]
        return states

    def wait(self, what, condition, seconds=60):
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"{what}: not within {seconds}s\n"
                          f"{self.gate.log_tail(max_lines=40)}")
            time.sleep(0.1)

    def start_haproxy(self):
        with open(EXAMPLE) as f:
            example = f.read()
        checked = subprocess.run([self.haproxy, "-c", "-f", EXAMPLE],
                                 capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0,
                         f"the shipped example is invalid:\n{checked.stderr}")
        self.stats_socket = os.path.join(self.gate.tmp, "haproxy.sock")
        # HAProxy listens on a socket bound here to port 0 and inherited
        # ("fd@N"): the port is known without picking one beforehand.
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind((HOST, 0))
        lb_port = listener.getsockname()[1]
        config = os.path.join(self.gate.tmp, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(balancer_config(example, f"fd@{listener.fileno()}",
                                    self.gate.ports, self.stats_socket))
        self.gate._spawn("haproxy", [self.haproxy, "-db", "-f", config],
                         pass_fds=(listener.fileno(),))
        self.wait("haproxy to see both front ends up",
                  lambda: os.path.exists(self.stats_socket) and
                  self.server_states() == {"gate1": "UP", "gate2": "UP"})
        # From now on the Gate's clients go through the balancer.
        self.gate.port = lb_port

    def open_sessions(self, n):
        sessions = [self.gate.paramiko(USER) for _ in range(n)]
        for s in sessions:
            self.addCleanup(s.__exit__)
        return sessions

    def use(self, session, name):
        data = os.urandom(64 * 1024)
        with session.sftp.open(name, "wb") as f:
            f.write(data)
        with session.sftp.open(name, "rb") as f:
            self.assertEqual(f.read(), data)
        session.sftp.remove(name)

    def test_shared_host_key_and_drain(self):
        self.start_haproxy()
        held = self.open_sessions(SESSIONS)

        # Both front ends serve (leastconn spreads concurrent sessions) and
        # every client saw the one shared host key.
        self.assertEqual([self.gate.logins(i) > 0 for i in range(2)],
                         [True, True], "both front ends got sessions")
        host_key = subprocess.run(
            ["ssh-keygen", "-y", "-f", os.path.join(self.gate.tmp,
                                                    "host_key")],
            capture_output=True, text=True, check=True).stdout.split()[1]
        seen = {s.client.get_transport().get_remote_server_key().get_base64()
                for s in held}
        self.assertEqual(seen, {host_key})

        # Drain front end 1: first in the balancer, then SIGTERM.
        self.assertEqual(self.haproxy_command(
            "set server sftpgate/gate1 state drain").strip(), "")
        gate1, _ = self.gate.front_end(0)
        gate1.send_signal(signal.SIGTERM)
        logins_before = self.gate.logins(0)

        # Its open sessions go on; new sessions all go to front end 2.
        for i, s in enumerate(held):
            self.use(s, f"/held-{i}")
        fresh = self.open_sessions(SESSIONS)
        for i, s in enumerate(fresh):
            self.use(s, f"/fresh-{i}")
        self.assertEqual(self.gate.logins(0), logins_before,
                         "a new session went to the draining front end")
        self.assertIsNone(gate1.poll(), "front end 1 left before its "
                          "sessions ended")

        # Its last session ends: it exits cleanly, long before the grace.
        for s in held:
            s.__exit__(None, None, None)
        try:
            self.assertEqual(gate1.wait(timeout=GRACE_SECONDS / 2), 0)
        except subprocess.TimeoutExpired:
            self.fail("front end 1 did not exit after its last session")
        for i, s in enumerate(fresh):
            self.use(s, f"/after-{i}")


if __name__ == "__main__":
    unittest.main()
