"""Shared fixture for the end-to-end tests: real servers, real clients.

A `Gate` is one running SFTP service on 127.0.0.1 (port 0: the port it got
is read from its log), in one of
three flavours (the "backend"):

  memory    build/bin/sftpgate in front of sftpgate-memory-backend
  localfs   build/bin/sftpgate in front of sftpgate-localfs-backend
  openssh   Debian's sshd + internal-sftp, configured to behave like the
            others (same users, roots, read-only user). A development
            reference only: it lets the client tests be checked against a
            known-good server. Selected with SFTPGATE_E2E_REFERENCE=openssh.

Every Gate has the same users (see USERS): "alice" and "bob" confined to
/alice and /bob, "reader" read-only in /shared, and "admin" who sees the
whole store. Each has a password and an ed25519 key of their own.

Test modules subclass `GateTestCase` and call `parametrize(globals(), Cls)`
so each client test runs once per backend. One Gate serves a whole class;
tests use names of their own (`self.name("x")`) so they do not collide.
When a test fails, the server logs written during that test are printed.

Environment:
  SFTPGATE_BIN_DIR        directory holding sftpgate and the backends
                          (default: build/bin next to this checkout)
  SFTPGATE_E2E_REFERENCE  "openssh" to run against the OpenSSH reference
  SFTPGATE_E2E_BACKENDS   comma list of the backends to run (default
                          memory,localfs; also e.g. node-memory)
  SFTPGATE_E2E_KEEP       "1" keeps the temp dirs for inspection
  SFTPGATE_E2E_GATE_ARGS  extra sftpgate flags (debugging), e.g.
                          "--event_loop_threads=1"
"""

import ctypes
import dataclasses
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
from process_stop import stop_processes  # noqa: E402 (tests/process_stop.py)
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
REFERENCE = os.environ.get("SFTPGATE_E2E_REFERENCE", "")
KEEP = os.environ.get("SFTPGATE_E2E_KEEP") == "1"
GATE_ARGS = os.environ.get("SFTPGATE_E2E_GATE_ARGS", "")
START_TIMEOUT = 30.0
CLIENT_TIMEOUT = 120.0

# Where the reference sshd sees the data dir (bind-mounted in a private
# mount namespace: ChrootDirectory refuses paths under the world-writable
# /tmp, and the mount is invisible outside sshd's namespace).
REF_MOUNT = "/mnt"


@dataclasses.dataclass
class User:
    name: str
    password: str
    root: str = "/"  # root inside the store; "/" means the whole store
    read_only: bool = False
    key: str = ""  # private key path, filled in by Gate

    @property
    def pubkey(self):
        with open(self.key + ".pub") as f:
            return f.read().strip()


USERS = (
    User("alice", "alice-pw-Ek3", root="/alice"),
    User("bob", "bob-pw-9xQ", root="/bob"),
    User("reader", "reader-pw-77", root="/shared", read_only=True),
    User("admin", "admin-pw-z1"),
)

# What every Gate holds before the tests start, as the admin sees it.
SEED_DIRS = ("/alice", "/bob", "/shared", "/shared/docs")
SEED_FILES = {
    "/bob/secret.txt": b"bob's secret\n",
    "/shared/readme.txt": b"shared, read only\n",
    "/shared/docs/guide.txt": b"a guide\n" * 100,
}


def has_statfs(backend):
    """Whether `backend` claims StatFs (the Node sample does not; see
    docs/conformance.md)."""
    return backend != "node-memory"


def backends():
    """The backends to run the tests against."""
    if REFERENCE:
        if REFERENCE != "openssh":
            raise ValueError(f"unknown SFTPGATE_E2E_REFERENCE={REFERENCE}")
        return ["openssh"]
    names = ["memory", "localfs"]
    only = os.environ.get("SFTPGATE_E2E_BACKENDS")
    if only:
        # Also the samples in other languages, by their launcher's name
        # (bin/sftpgate-NAME-backend), e.g. "node-memory".
        names = only.split(",")
    return names


# What a backend (C++/Python SDK, Node, authenticator) prints once bound:
# "listening on ADDRESS", the real port when it was asked for port 0.
BACKEND_LISTENING = r"listening on (\S+)"
# What sftpgate logs once bound (text or JSON log); group 1 is the port.
GATE_LISTENING = (r'(?: listening address=\S+ port=|"event":"listening",'
                  r'"address":"[^"]*","port":")(\d+)')


def wait_for_log(log_path, pattern, proc, name, start=0,
                 timeout=START_TIMEOUT, detail=lambda: ""):
    """Waits until the log at `log_path` (read from offset `start`)
    matches `pattern`; returns the match. Fails (with `detail()` appended,
    e.g. a log tail) if `proc` exits first or time runs out.

    Servers the tests start bind port 0 (or a unix socket) and say where
    they listen: the port is learnt, never picked beforehand (a port picked
    free can be taken by another test before the server binds it)."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        # Read the whole tail each time: a line may arrive in pieces.
        if os.path.exists(log_path):
            with open(log_path, "rb") as f:
                f.seek(start)
                match = regex.search(f.read().decode(errors="replace"))
            if match:
                return match
        if proc.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {proc.returncode} before "
                f"logging /{pattern}/\n{detail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not log /{pattern}/ within "
                               f"{timeout}s\n{detail()}")
        time.sleep(0.05)


def port_of(address):
    """The port of "host:port" or "[v6]:port"."""
    return int(address.rsplit(":", 1)[1])


def sha256(data_or_path):
    if isinstance(data_or_path, bytes):
        return hashlib.sha256(data_or_path).hexdigest()
    h = hashlib.sha256()
    with open(data_or_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_digest(top):
    """{relative path: sha256 or "dir"} of a local tree, for comparisons."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        for d in dirnames:
            out[os.path.normpath(os.path.join(rel, d))] = "dir"
        for f in filenames:
            out[os.path.normpath(os.path.join(rel, f))] = sha256(
                os.path.join(dirpath, f))
    return out


def parse_ls_long(text):
    """{name: (mode string, size)} from `ls -l`-style lines (OpenSSH sftp,
    lftp); other lines are skipped. "." and ".." are left out."""
    entries = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 9 or not re.match(r"^[-dlcbps][-rwxsStT]{9}", fields[0]):
            continue
        name = " ".join(fields[8:]).split(" -> ")[0]
        name = os.path.basename(name.rstrip("/"))  # lftp marks dirs "d/"
        if name not in (".", ".."):
            entries[name] = (fields[0][:10], int(fields[4]))
    return entries


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test runner dies (e.g. on
    a ctest timeout), so no server outlives its test."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run(args, input=None, env=None, cwd=None, check=True,
        timeout=CLIENT_TIMEOUT):
    """Runs a client command; returns the CompletedProcess (text mode).

    With check=True a non-zero exit raises AssertionError showing the
    command and its output, so a failing test says what the client said.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(args, input=input, env=full_env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=None if input is not None else
                          subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(describe(proc))
    return proc


def describe(proc):
    """Human-readable account of a finished client command."""
    return (f"command: {shlex.join(map(str, proc.args))}\n"
            f"exit: {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


class Gate:
    """One running service (server processes + users + temp dir).

    Not thread-safe; owned by one test class. `stop()` always tears down
    every process it started (whole process groups) and may be called twice.
    """

    def __init__(self, backend, host=HOST, gate_args=()):
        self.backend = backend
        self.host = host  # where every server listens: 127.0.0.1 or ::1
        self.gate_args = list(gate_args)  # extra sftpgate flags
        self.tmp = tempfile.mkdtemp(prefix=f"sftpgate-e2e-{backend}-")
        os.chmod(self.tmp, 0o755)
        self.data = os.path.join(self.tmp, "data")  # store on disk, if any
        self.port = None
        self.procs = []  # (name, Popen, log path)
        self.users = {}
        for u in USERS:
            u = dataclasses.replace(u)
            u.key = os.path.join(self.tmp, "keys", u.name)
            self.users[u.name] = u

    # ----- lifecycle -----

    def start(self):
        os.makedirs(os.path.join(self.tmp, "keys"))
        for u in self.users.values():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                 f"{u.name}@e2e", "-f", u.key])
        if self.backend == "openssh":
            self._start_openssh()
        else:
            self._start_sftpgate()
        self._seed()

    def stop(self):
        stop_processes([proc for _, proc, _ in self.procs], group=True)
        self.procs = []

    def cleanup(self):
        self.stop()
        if not KEEP:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _spawn(self, name, args, pass_fds=()):
        log = os.path.join(self.tmp, f"{name}.log")
        with open(log, "ab") as out:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    pass_fds=pass_fds,
                                    preexec_fn=_die_with_parent)
        self.procs.append((name, proc, log))
        return proc

    def _start_listening(self, name, args, pattern=BACKEND_LISTENING,
                         spawn=None):
        """Spawns `name` with `spawn` (default self._spawn, so subclasses'
        hooks apply) and waits until its log, past what earlier runs of
        `name` wrote, matches `pattern`; returns (proc, match)."""
        log = os.path.join(self.tmp, f"{name}.log")
        start = os.path.getsize(log) if os.path.exists(log) else 0
        proc = (spawn or self._spawn)(name, args)
        match = wait_for_log(log, pattern, proc, name, start=start,
                             detail=self.log_tail)
        return proc, match

    def _start_backend(self, name, args):
        """Starts backend `name` (argv `args`); returns the gRPC target
        sftpgate reaches it at."""
        _, listening = self._start_listening(name, args)
        return listening.group(1)

    def backend_listen(self, name):
        """Where backend `name` listens: port 0 on the Gate's host (the
        harness learns the port). Subclasses whose backends restart use a
        unix socket, so that the address sftpgate knows stays the
        backend's."""
        del name
        return f"{self.bracketed_host}:0"

    def _start_sftpgate(self):
        gate_bin = os.path.join(BIN_DIR, "sftpgate")
        backend_bin = os.path.join(BIN_DIR, f"sftpgate-{self.backend}-backend")
        for b in (gate_bin, backend_bin):
            if not os.access(b, os.X_OK):
                # a failure, not a skip: a missing binary must not pass
                raise RuntimeError(f"{b} is not built (SFTPGATE_BIN_DIR="
                                   f"{BIN_DIR})")
        name = f"{self.backend}-backend"
        args = [backend_bin, "--listen", self.backend_listen(name)]
        if self.backend == "localfs":
            os.makedirs(self.data)
            args[1:1] = ["--root", self.data]
        self.backend_target = self._start_backend(name, args)

        users_file = os.path.join(self.tmp, "users.toml")
        with open(users_file, "w") as f:
            f.write(self._users_toml(gate_bin))
        _, listening = self._start_listening("sftpgate", [
            gate_bin, "--listen", f"{self.bracketed_host}:0",
            "--backend", self.backend_target,
            "--host-key", os.path.join(self.tmp, "host_key"),
            "--users", users_file] + self.gate_args + shlex.split(GATE_ARGS), GATE_LISTENING)
        self.port = int(listening.group(1))

    def _users_toml(self, gate_bin):
        def q(s):  # TOML basic string
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out = []
        for u in self.users.values():
            hashed = run([gate_bin, "hash-password"],
                         input=u.password + "\n").stdout.strip()
            if not hashed.startswith("$"):
                raise RuntimeError(f"hash-password printed {hashed!r}")
            out += ["[[user]]", f"name = {q(u.name)}",
                    f"password_hash = {q(hashed)}",
                    f"authorized_keys = [{q(u.pubkey)}]"]
            if u.root != "/":
                out.append(f"root = {q(u.root)}")
            if u.read_only:
                out.append("read_only = true")
            out.append("")
        return "\n".join(out)

    def _start_openssh(self):
        """sshd in a private mount namespace whose /etc/passwd and
        /etc/shadow list our users (all uid 0, each chrooted to its root),
        so password logins work without touching the machine's accounts."""
        ref = os.path.join(self.tmp, "ref")
        os.makedirs(os.path.join(ref, "authorized_keys"))
        os.makedirs(self.data)
        host_key = os.path.join(ref, "host_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key])
        with open("/etc/passwd") as f:
            passwd = [l for l in f.read().splitlines()
                      if l.split(":")[0] not in self.users]
        shadow = []
        match = []
        for u in self.users.values():
            passwd.append(f"{u.name}:x:0:0:e2e:/:/bin/sh")
            hashed = run(["openssl", "passwd", "-6", "-stdin"],
                         input=u.password + "\n").stdout.strip()
            shadow.append(f"{u.name}:{hashed}:19000:0:99999:7:::")
            with open(os.path.join(ref, "authorized_keys", u.name), "w") as f:
                f.write(u.pubkey + "\n")
            chroot = os.path.normpath(REF_MOUNT + u.root)
            sftp = "internal-sftp -R" if u.read_only else "internal-sftp"
            match += [f"Match User {u.name}", f"  ChrootDirectory {chroot}",
                      f"  ForceCommand {sftp}"]
        for name, lines in (("passwd", passwd), ("shadow", shadow)):
            with open(os.path.join(ref, name), "w") as f:
                f.write("\n".join(lines) + "\n")
        os.chmod(os.path.join(ref, "shadow"), 0o600)
        config = os.path.join(ref, "sshd_config")
        with open(config, "w") as f:
            f.write("\n".join([
                f"HostKey {host_key}", "PidFile none", "UsePAM no",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
                "PermitRootLogin yes", "StrictModes no",
                f"AuthorizedKeysFile {ref}/authorized_keys/%u",
                "Subsystem sftp internal-sftp", "LogLevel VERBOSE",
                "MaxStartups 100", "MaxAuthTries 10"] + match) + "\n")
        script = (f"mount --bind {ref}/passwd /etc/passwd && "
                  f"mount --bind {ref}/shadow /etc/shadow && "
                  f"mount --bind {self.data} {REF_MOUNT} && "
                  f"exec /usr/bin/python3 {HERE}/inetd.py {HOST} "
                  f"/usr/sbin/sshd -i -e -f {config}")
        os.makedirs("/run/sshd", exist_ok=True)
        _, listening = self._start_listening(
            "sshd", ["unshare", "--mount", "--propagation", "private",
                     "/bin/sh", "-c", script])
        self.port = port_of(listening.group(1))

    def _seed(self):
        """Puts SEED_DIRS and SEED_FILES into the store: on disk when the
        store is a directory, else over SFTP as the admin."""
        if self.backend in ("localfs", "openssh"):
            for d in SEED_DIRS:
                os.makedirs(self.data + d, mode=0o755)
            for path, data in SEED_FILES.items():
                with open(self.data + path, "wb") as f:
                    f.write(data)
                os.chmod(self.data + path, 0o644)
            return
        with self.paramiko("admin") as sftp:
            for d in SEED_DIRS:
                sftp.mkdir(d, 0o755)
            for path, data in SEED_FILES.items():
                with sftp.open(path, "wb") as f:
                    f.write(data)

    # ----- logs -----

    def log_offsets(self):
        return {log: os.path.getsize(log) for _, _, log in self.procs
                if os.path.exists(log)}

    def wait_for_gate_log(self, pattern, since=None, timeout=60.0):
        """Waits until sftpgate's log, past the `since` offsets (from
        log_offsets()), matches `pattern`; returns the match."""
        for name, proc, log in reversed(self.procs):
            if name == "sftpgate":
                return wait_for_log(log, pattern, proc, name,
                                    start=(since or {}).get(log, 0),
                                    timeout=timeout, detail=self.log_tail)
        raise KeyError("sftpgate is not running")

    def log_tail(self, since=None, max_lines=200):
        """The server logs (from `since` offsets, if given), last lines."""
        parts = []
        logs = sorted(f for f in os.listdir(self.tmp) if f.endswith(".log"))
        for name in logs:
            path = os.path.join(self.tmp, name)
            with open(path, "rb") as f:
                f.seek((since or {}).get(path, 0))
                lines = f.read().decode(errors="replace").splitlines()
            parts.append(f"----- {name} ({len(lines)} lines"
                         f"{', last ' + str(max_lines) if len(lines) > max_lines else ''})"
                         " -----")
            parts.extend(lines[-max_lines:])
        return "\n".join(parts)

    # ----- how clients reach it -----

    @property
    def bracketed_host(self):
        """The host as addresses and OpenSSH destinations write it
        ("[::1]" for IPv6)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def user(self, name):
        return self.users[name]

    def ssh_options(self, user, auth="key"):
        """OpenSSH client options (sftp/scp/ssh) for `user`, without -P."""
        opts = ["-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=60",
                "-F", "/dev/null"]
        if auth == "key":
            opts += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                     "-o", "PreferredAuthentications=publickey",
                     "-i", user.key]
        else:
            # BatchMode=no must precede sftp's own "-b" (first value wins).
            opts += ["-o", "BatchMode=no", "-o", "IdentitiesOnly=yes",
                     "-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=password,keyboard-interactive",
                     "-o", "NumberOfPasswordPrompts=1"]
        return opts

    def openssh_client(self, tool, user, auth, password=None):
        """argv prefix and env for an OpenSSH tool ("sftp"/"scp"); with
        password auth it runs under sshpass, which reads $SSHPASS."""
        user = self.users[user] if isinstance(user, str) else user
        args = [tool] + self.ssh_options(user, auth) + ["-P", str(self.port)]
        env = {}
        if auth == "password":
            env["SSHPASS"] = user.password if password is None else password
            args = ["sshpass", "-e"] + args
        return args, env

    def sftp_batch(self, user, commands, auth="key", password=None,
                   cwd=None, check=True):
        """Runs OpenSSH `sftp -b -` with `commands` (list of lines) as
        `user`. A failing command ends the batch with a non-zero exit."""
        user = self.users[user] if isinstance(user, str) else user
        args, env = self.openssh_client("sftp", user, auth, password)
        args += ["-b", "-", f"{user.name}@{self.bracketed_host}"]
        return run(args, input="\n".join(commands) + "\n", env=env, cwd=cwd,
                   check=check)

    def scp(self, user, *paths, auth="key", recursive=False, check=True,
            cwd=None):
        """Runs scp; remote paths are written ":path" and get the login."""
        user = self.users[user] if isinstance(user, str) else user
        args, env = self.openssh_client("scp", user, auth)
        if recursive:
            args.append("-r")
        for p in paths:
            args.append(f"{user.name}@{self.bracketed_host}{p}"
                        if p.startswith(":") else p)
        return run(args, env=env, check=check, cwd=cwd)

    def paramiko(self, user, auth="password", password=None):
        """A connected paramiko SFTPClient as `user` (a context manager
        that also closes the transport)."""
        import paramiko  # pylint: disable=import-outside-toplevel
        user = self.users[user] if isinstance(user, str) else user
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        kwargs = dict(hostname=self.host, port=self.port, username=user.name,
                      allow_agent=False, look_for_keys=False, timeout=60,
                      banner_timeout=60, auth_timeout=60)
        if auth == "password":
            kwargs["password"] = user.password if password is None else password
        else:
            kwargs["key_filename"] = user.key
        try:
            client.connect(**kwargs)
            sftp = client.open_sftp()
        except BaseException:
            client.close()
            raise
        sftp.get_channel().settimeout(CLIENT_TIMEOUT)
        return _ParamikoSession(client, sftp)

    # ----- direct access to what the admin sees -----

    def admin_read(self, path):
        """Bytes of `path` (admin's view), or None if it does not exist."""
        with self.paramiko("admin") as sftp:
            try:
                with sftp.open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None


class _ParamikoSession:
    def __init__(self, client, sftp):
        self.client = client
        self.sftp = sftp

    def __enter__(self):
        return self.sftp

    def __exit__(self, *exc):
        self.sftp.close()
        self.client.close()


class GateTestCase(unittest.TestCase):
    """Base of the client tests: a Gate per class (BACKEND set by
    `parametrize`), a temp dir per test, server logs printed on failure."""

    BACKEND = None
    GATE_CLASS = Gate  # or a subclass that starts things its own way
    GATE_HOST = HOST  # where the servers listen and clients connect
    GATE_ARGS = ()  # extra sftpgate flags for this class's Gate
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gate = cls.GATE_CLASS(cls.BACKEND, host=cls.GATE_HOST,
                                  gate_args=cls.GATE_ARGS)
        cls.addClassCleanup(cls.gate.cleanup)
        try:
            cls.gate.start()
        except BaseException:
            sys.stderr.write(f"\n[e2e] {cls.BACKEND}: start failed; logs:\n"
                             f"{cls.gate.log_tail()}\n")
            raise

    def setUp(self):
        super().setUp()
        self.local = tempfile.mkdtemp(prefix="local-", dir=self.gate.tmp)
        self._log_start = self.gate.log_offsets()

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        bad_before = len(result.failures) + len(result.errors)
        out = super().run(result)
        gate = getattr(type(self), "gate", None)
        if gate is not None and (len(result.failures) + len(result.errors)
                                 > bad_before):
            sys.stderr.write(f"\n[e2e] {self.id()} failed; server logs "
                             f"during the test:\n"
                             f"{gate.log_tail(getattr(self, '_log_start', None))}\n")
        return out

    # ----- helpers for tests -----

    def name(self, base):
        """A name unique to this test (tests share a Gate per class)."""
        return f"{self._testMethodName}-{base}"

    def local_file(self, name, data=b"", mode=0o644):
        """Writes a local file under this test's temp dir; returns path."""
        path = os.path.join(self.local, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def local_path(self, name):
        return os.path.join(self.local, name)

    def assertSameFile(self, path, expected):
        """Local file at `path` has exactly the bytes (or same sha256 as the
        file) `expected`."""
        want = sha256(expected) if isinstance(expected, bytes) else sha256(
            expected)
        self.assertTrue(os.path.exists(path), f"{path} was not created")
        self.assertEqual(sha256(path), want, f"content of {path} differs")

    def assertFails(self, proc, *messages):
        """The client exited non-zero and said one of `messages` (compared
        case-insensitively: clients print the server's text as is)."""
        self.assertNotEqual(proc.returncode, 0,
                            "expected failure\n" + describe(proc))
        said = (proc.stdout + proc.stderr).lower()
        self.assertTrue(any(m.lower() in said for m in messages),
                        f"expected one of {messages!r}\n" + describe(proc))


# A random payload of a few MiB, made once per process (bytes compared by
# sha256 in the tests).
BIG = os.urandom(5 * 1024 * 1024 + 12345)


def parametrize(module_globals, cls):
    """Replaces `cls` in a test module by one subclass per backend
    (e.g. OpenSshSftpTest_memory), so unittest runs it once per backend."""
    del module_globals[cls.__name__]
    for backend in backends():
        name = f"{cls.__name__}_{backend}"
        sub = type(name, (cls,), {"BACKEND": backend,
                                  "__module__": cls.__module__,
                                  "__qualname__": name})
        module_globals[name] = sub
