"""Shared fixture for the operations tests: the real sftpgate binary in
front of real backends, driven by real clients (paramiko, OpenSSH).

An `OpsTestCase` gets a fresh temporary directory per test. Helpers start
backends (the C++ memory backend, or tests/ops/ops_test_backend.py: the
Python SDK's memory backend with slow paths), write a users file, start
sftpgate with extra flags and read its log.

Environment (set by CMake for ctest):
  SFTPGATE_BIN_DIR      directory with sftpgate and the backends
  SFTPGATE_PYTHONPATH   the Python SDK and the generated stubs
  SFTPGATE_OPS_KEEP     "1" keeps the temporary directories
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import logging

import paramiko

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
SDK_PATH = os.environ.get(
    "SFTPGATE_PYTHONPATH",
    os.path.join(REPO, "backend-sdk", "python") + ":" +
    os.path.join(os.path.dirname(BIN_DIR), "python"))
for entry in reversed(SDK_PATH.split(":")):
    if entry and entry not in sys.path:
        sys.path.insert(0, entry)
sys.path.insert(0, os.path.join(REPO, "tests"))
import grpc  # pylint: disable=wrong-import-position
from process_stop import stop_process  # pylint: disable=wrong-import-position
from sftpgate.v1 import backend_pb2, backend_pb2_grpc  # pylint: disable=wrong-import-position

SFTPGATE = os.path.join(BIN_DIR, "sftpgate")
MEMORY_BACKEND = os.path.join(BIN_DIR, "sftpgate-memory-backend")
TEST_BACKEND = os.path.join(BIN_DIR, "sftpgate-ops-test-backend")
KEEP = os.environ.get("SFTPGATE_OPS_KEEP") == "1"
HOST = "127.0.0.1"
# Refused connections are expected in these tests; paramiko would log a
# traceback for each.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def backend_size(target, path):
    """The size of `path` (seen from the backend's top, root "/") on the
    backend at `target`, asked directly over gRPC; None if it does not
    exist."""
    with grpc.insecure_channel(target) as channel:
        stub = backend_pb2_grpc.BackendStub(channel)
        request = backend_pb2.StatRequest(
            session=backend_pb2.Session(session_id="check", user="check",
                                        root="/"),
            path=path, follow_symlinks=True)
        try:
            return stub.Stat(request, timeout=10).attributes.size
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise


def wait_until(predicate, timeout=20.0, interval=0.05):
    """Polls `predicate` until it returns something true; returns it (or
    the last false value after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Process:
    """A background process whose stderr (and stdout) go to a log file."""

    def __init__(self, argv, log_path, env=None, **popen_args):
        self.argv = argv
        self.log_path = log_path
        self._log_file = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log_file,
                                     stderr=self._log_file, env=env,
                                     **popen_args)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for_log(self, pattern, timeout=20.0, count=1):
        """Waits until `pattern` (a regex) matches `count` times in the log;
        returns the last match or None."""
        regex = re.compile(pattern)

        def found():
            matches = list(regex.finditer(self.log()))
            return matches[count - 1] if len(matches) >= count else None

        return wait_until(found, timeout)

    def running(self):
        return self.proc.poll() is None

    def send_signal(self, signum):
        if self.running():
            self.proc.send_signal(signum)

    def stop(self, signum=signal.SIGTERM, timeout=20.0):
        """Sends `signum` and waits; returns the exit code (None if it had
        to be killed)."""
        try:
            return stop_process(self.proc, signum, timeout)
        finally:
            self._log_file.close()

    def kill(self):
        if self.running():
            self.proc.kill()
        self.proc.wait()
        self._log_file.close()


class OpsTestCase(unittest.TestCase):
    """Base class: a temp dir, processes stopped at teardown, helpers."""

    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sftpgate_ops_")
        self.processes = []
        self.clients = []
        self.users = {}  # name -> dict(password=, key=, root=, ...)
        self.gate = None
        self.port = None

    def tearDown(self):
        for client in self.clients:
            try:
                client.close()
            except Exception:  # pylint: disable=broad-except
                pass
        for process in reversed(self.processes):
            if process.running():
                process.stop(timeout=10)
        if self._failed() or KEEP:
            for process in self.processes:
                sys.stderr.write("---- %s\n%s\n" % (process.log_path,
                                                     process.log()[-6000:]))
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _failed(self):
        result = getattr(self._outcome, "result", None)
        problems = getattr(result, "failures", []) + getattr(result, "errors", [])
        return any(test is self for test, _ in problems)

    def path(self, name):
        return os.path.join(self.dir, name)

    # ---- Backends. ----

    def start_memory_backend(self, name="backend", tcp=False):
        """The C++ memory backend on a unix socket (or a TCP port on
        127.0.0.1); returns its target."""
        listen = "127.0.0.1:0" if tcp else "unix:" + self.path(name + ".sock")
        process = Process([MEMORY_BACKEND, "--listen=" + listen],
                          self.path(name + ".log"))
        self.processes.append(process)
        match = process.wait_for_log(r"listening on (\S+)")
        self.assertTrue(match, process.log())
        return match.group(1)

    def start_test_backend(self, name="backend", extra=()):
        """tests/ops/ops_test_backend.cc (slow paths); returns its target."""
        sock = self.path(name + ".sock")
        process = Process([TEST_BACKEND, "--listen=unix:" + sock] +
                          list(extra), self.path(name + ".log"))
        self.processes.append(process)
        self.assertTrue(process.wait_for_log("listening"), process.log())
        return "unix:" + sock

    # ---- Users. ----

    @staticmethod
    def hash_password(password):
        result = subprocess.run([SFTPGATE, "hash-password"], input=password +
                                "\n", capture_output=True, text=True,
                                check=True, timeout=30)
        return result.stdout.strip()

    def make_key(self, name):
        """A fresh ed25519 key pair; returns the private key's path."""
        path = self.path(name + "_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                        name, "-f", path], check=True, timeout=30)
        return path

    def add_user(self, name, password=None, key=False, root="/",
                 tenant=None, read_only=False, extra=None):
        """`extra`: further users-file keys (integers), e.g. quotas."""
        user = {"password": password, "root": root, "tenant": tenant,
                "read_only": read_only, "key": None, "extra": extra or {}}
        if key:
            user["key"] = self.make_key(name)
        self.users[name] = user
        return user

    def users_toml(self, names=None):
        lines = []
        for name in names or self.users:
            user = self.users[name]
            lines += ["[[user]]", 'name = "%s"' % name]
            if user["password"] is not None:
                lines.append('password_hash = "%s"' %
                             self.hash_password(user["password"]))
            if user["key"]:
                with open(user["key"] + ".pub") as f:
                    lines.append('authorized_keys = ["%s"]' % f.read().strip())
            lines.append('root = "%s"' % user["root"])
            if user["tenant"]:
                lines.append('tenant = "%s"' % user["tenant"])
            if user["read_only"]:
                lines.append("read_only = true")
            for key, value in user.get("extra", {}).items():
                lines.append("%s = %d" % (key, value))
            lines.append("")
        return "\n".join(lines)

    def write_users(self, path=None, names=None):
        path = path or self.path("users.toml")
        with open(path, "w") as f:
            f.write(self.users_toml(names))
        return path

    # ---- sftpgate. ----

    def gate_args(self, backend, extra=()):
        return [SFTPGATE, "--listen=%s:0" % HOST, "--backend=" + backend,
                "--host-key=" + self.path("host_key"),
                "--users=" + self.path("users.toml"),
                "--event-loop-threads=2"] + list(extra)

    def start_gate(self, backend, extra=(), argv=None, wait=True, **popen):
        """Starts sftpgate; returns its port (read from the log)."""
        if not os.path.exists(self.path("users.toml")):
            self.write_users()
        argv = argv or self.gate_args(backend, extra)
        starts = sum(1 for p in self.processes if p.argv[0] == argv[0])
        log = "sftpgate.log" if starts == 0 else "sftpgate-%d.log" % starts
        self.gate = Process(argv, self.path(log), **popen)
        self.processes.append(self.gate)
        if not wait:
            return None
        # Text or JSON log.
        match = self.gate.wait_for_log(
            r'(?: listening address=\S+ port=|"event":"listening",'
            r'"address":"[^"]*","port":")(\d+)')
        self.assertIsNotNone(match, self.gate.log())
        self.assertTrue(self.gate.wait_for_log(r' started |"event":"started"'),
                        self.gate.log())
        self.port = int(match.group(1))
        return self.port

    # ---- Clients. ----

    def transport(self, source=None, port=None, timeout=10.0):
        """A started paramiko Transport (not authenticated), optionally from
        source address `source`."""
        sock = socket.create_connection(
            (HOST, port or self.port), timeout=timeout,
            source_address=(source, 0) if source else None)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = timeout
        transport.auth_timeout = timeout
        self.clients.append(transport)
        transport.start_client(timeout=timeout)
        return transport

    def login(self, user, password=None, key=None, source=None, port=None):
        """An authenticated Transport as `user` (the user's own password or
        key unless given); raises paramiko's exception on failure."""
        transport = self.transport(source=source, port=port)
        info = self.users.get(user, {})
        if key is None and password is None:
            password = info.get("password")
            if password is None:
                key = info.get("key")
        if key:
            transport.auth_publickey(
                user, paramiko.Ed25519Key.from_private_key_file(key))
        else:
            transport.auth_password(user, password)
        return transport

    def sftp(self, user, **login_args):
        transport = self.login(user, **login_args)
        client = paramiko.SFTPClient.from_transport(transport)
        self.clients.append(client)
        return client


class RawSftp:
    """A minimal SFTP v3 client over a paramiko channel, for tests that
    need requests in flight without waiting for their replies."""

    FXP_INIT, FXP_VERSION, FXP_OPEN, FXP_STAT = 1, 2, 3, 17
    FXP_STATUS, FXP_HANDLE, FXP_ATTRS = 101, 102, 105

    def __init__(self, transport, timeout=30.0):
        self.channel = transport.open_session(timeout=timeout)
        self.channel.settimeout(timeout)
        self.channel.invoke_subsystem("sftp")
        self._send(struct.pack(">BI", self.FXP_INIT, 3))
        kind, _ = self._receive()
        assert kind == self.FXP_VERSION, kind

    def _send(self, body):
        self.channel.sendall(struct.pack(">I", len(body)) + body)

    def _read_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.channel.recv(n - len(data))
            if not chunk:
                raise EOFError("channel closed")
            data += chunk
        return data

    def _receive(self):
        (length,) = struct.unpack(">I", self._read_exactly(4))
        body = self._read_exactly(length)
        return body[0], body[1:]

    def send_stat(self, request_id, path):
        data = path.encode()
        self._send(struct.pack(">BII", self.FXP_STAT, request_id, len(data)) +
                   data)

    def receive(self):
        """The next reply as (type, request id, rest of the body)."""
        kind, body = self._receive()
        (request_id,) = struct.unpack(">I", body[:4])
        return kind, request_id, body[4:]

    def close(self):
        self.channel.close()
