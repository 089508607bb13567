"""Machinery of the isolation suite (test_isolation.py).

- Gates come from the e2e harness (tests/e2e/harness.py: users alice in
  /alice and bob in /bob, seed data, logs). `DelegatedGate` is the same
  service with alice and bob unknown to sftpgate's users file: the sample
  Authenticator (sample-backends/authenticator-python, `--auth grpc:`)
  accepts them and hands out their roots.
- Snapshots of everything outside one user's tree: on disk for localfs
  (names, types, modes, sizes, link counts, inodes, mtimes, contents, link
  targets), over SFTP (admin's and bob's own sessions) for memory.
- The SFTP requests paramiko lacks (statvfs, hardlink, lsetstat,
  expand-path, home-directory, copy-data, raw handle operations).
- `Outcome`: what one attempt gave the client, success or error, in a form
  that can be compared and searched for leaked names.

Not thread-safe: one test runner thread drives everything.
"""

import dataclasses
import os
import posixpath
import re
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness  # noqa: E402  pylint: disable=wrong-import-position
import paramiko  # noqa: E402  pylint: disable=wrong-import-position
from paramiko.py3compat import long as int64  # noqa: E402
from paramiko import sftp as sftp_wire  # noqa: E402

AUTHENTICATOR_SOURCE = os.path.join(harness.REPO, "sample-backends",
                                    "authenticator-python", "authenticator.py")
AUTHENTICATOR_BIN = os.path.join(harness.BIN_DIR,
                                 "sftpgate-python-authenticator")


# ----- the delegated-authentication gate -----

def delegated_auth_unavailable():
    """Why the delegated variant cannot run here ("" when it can): the
    front end has no --auth flag, or no sample authenticator exists."""
    gate_bin = os.path.join(harness.BIN_DIR, "sftpgate")
    try:
        help_text = subprocess.run([gate_bin, "--help"], capture_output=True,
                                   text=True, timeout=60)
    except OSError as error:
        return f"cannot run {gate_bin} --help: {error}"
    if not re.search(r"--auth[\s=(]", help_text.stdout + help_text.stderr):
        return "sftpgate --help lists no --auth flag (no delegated auth)"
    if not os.path.exists(AUTHENTICATOR_SOURCE):
        return f"no sample authenticator at {AUTHENTICATOR_SOURCE}"
    return ""


class DelegatedGate(harness.Gate):
    """A harness Gate whose users in DELEGATED are absent from sftpgate's
    users file; a sample Authenticator process knows them (same passwords,
    keys and roots) and sftpgate runs with --auth grpc:ITS_ADDRESS. So the
    roots of those sessions come from authentication attributes."""

    DELEGATED = ("alice", "bob")
    # Further users the authenticator accepts with alice's key, each given
    # a root sftpgate must normalize ("//alice/./" is /alice) or refuse.
    ODD_ROOTS = {"carol": "//alice/./", "mallory": "/alice/../bob",
                 "trent": "alice"}

    def __init__(self, backend):
        super().__init__(backend)
        self.auth_target = None

    @property
    def authenticator_log(self):
        return os.path.join(self.tmp, "authenticator.log")

    def _start_sftpgate(self):
        if not os.access(AUTHENTICATOR_BIN, os.X_OK):
            # The source exists (checked before), so this is a build
            # problem, not a missing feature: fail.
            raise RuntimeError(f"{AUTHENTICATOR_BIN} is not built")
        users = os.path.join(self.tmp, "auth-users.toml")
        with open(users, "w") as f:
            f.write(self._authenticator_toml())
        _, listening = self._start_listening("authenticator", [
            AUTHENTICATOR_BIN, "--listen", f"{harness.HOST}:0",
            "--users", users])
        self.auth_target = listening.group(1)
        super()._start_sftpgate()

    def _spawn(self, name, args):
        if name == "sftpgate":
            args = args + [f"--auth=grpc:{self.auth_target}"]
        return super()._spawn(name, args)

    def _users_toml(self, gate_bin):
        # Only the users sftpgate decides itself (the admin, the reader).
        everyone = self.users
        self.users = {n: u for n, u in everyone.items()
                      if n not in self.DELEGATED}
        try:
            return super()._users_toml(gate_bin)
        finally:
            self.users = everyone

    def _authenticator_toml(self):
        out = []
        for name in self.DELEGATED:
            user = self.users[name]
            hashed = harness.run([AUTHENTICATOR_BIN, "--hash-password"],
                                 input=user.password + "\n").stdout.strip()
            out += ["[[user]]", f'name = "{name}"',
                    f'password_pbkdf2 = "{hashed}"',
                    f'authorized_keys = ["{user.pubkey}"]',
                    f'root = "{user.root}"', ""]
        for name, root in self.ODD_ROOTS.items():
            out += ["[[user]]", f'name = "{name}"',
                    f'authorized_keys = ["{self.users["alice"].pubkey}"]',
                    f'root = "{root}"', ""]
        return "\n".join(out)


# ----- snapshots -----

def disk_tree(top, skip):
    """{path relative to `top`: state} for `top` and everything beneath it
    except the subtree at absolute path `skip`. A state is (file type,
    permission bits, size, link count, inode, mtime in ns, sha256 of a
    file's bytes or a link's target). Nothing is followed."""
    out = {}

    def visit(path):
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            extra = harness.sha256(path)
        elif stat.S_ISLNK(st.st_mode):
            extra = os.readlink(path)
        else:
            extra = ""
        out[os.path.relpath(path, top)] = (
            stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size,
            st.st_nlink, st.st_ino, st.st_mtime_ns, extra)
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path)):
                child = os.path.join(path, name)
                if child != skip:
                    visit(child)

    visit(top)
    return out


def sftp_tree(sftp, top="/", skip=()):
    """{path: state} of `top` and everything beneath it as `sftp`'s session
    sees it, except the subtrees in `skip`. A state is (mode, size, uid,
    gid, mtime, the listing's long name (it shows the link count), sha256
    of a file's bytes or a link's target)."""
    out = {}

    def visit(path, attrs):
        if stat.S_ISREG(attrs.st_mode):
            with sftp.open(path, "rb") as f:
                extra = harness.sha256(f.read())
        elif stat.S_ISLNK(attrs.st_mode):
            extra = sftp.readlink(path)
        else:
            extra = ""
        out[path] = (attrs.st_mode, attrs.st_size, attrs.st_uid,
                     attrs.st_gid, attrs.st_mtime,
                     getattr(attrs, "longname", None), extra)
        if stat.S_ISDIR(attrs.st_mode):
            for child in sorted(sftp.listdir_attr(path),
                                key=lambda a: a.filename):
                child_path = posixpath.join(path, child.filename)
                if child_path not in skip:
                    visit(child_path, child)

    visit(top, sftp.lstat(top))
    return out


# ----- requests paramiko lacks -----

def extended(sftp, name, *fields):
    """SSH_FXP_EXTENDED `name` with `fields` (str/bytes: strings, int:
    uint32, int64(...): uint64, SFTPAttributes); returns paramiko's
    (type, message) of the reply. An error status raises as paramiko does
    (IOError, EOFError)."""
    return sftp._request(sftp_wire.CMD_EXTENDED, name, *fields)  # pylint: disable=protected-access


def statvfs(sftp, path):
    _, msg = extended(sftp, "statvfs@openssh.com", path)
    return tuple(msg.get_int64() for _ in range(11))


def fstatvfs(sftp, handle):
    _, msg = extended(sftp, "fstatvfs@openssh.com", handle)
    return tuple(msg.get_int64() for _ in range(11))


def hardlink(sftp, existing, new):
    extended(sftp, "hardlink@openssh.com", existing, new)


def lsetstat(sftp, path, mode):
    attrs = paramiko.SFTPAttributes()
    attrs.st_mode = mode
    extended(sftp, "lsetstat@openssh.com", path, attrs)


def _name_reply(reply):
    _, msg = reply
    count = msg.get_int()
    return [msg.get_text() for _ in range(count)][:1]


def expand_path(sftp, path):
    return _name_reply(extended(sftp, "expand-path@openssh.com", path))


def home_directory(sftp, user):
    return _name_reply(extended(sftp, "home-directory", user))


def copy_data(sftp, read_handle, write_handle, length=0):
    extended(sftp, "copy-data", read_handle, int64(0), int64(length),
             write_handle, int64(0))


def raw(sftp, ptype, *fields):
    """Any request; returns (type, message) of the reply."""
    return sftp._request(ptype, *fields)  # pylint: disable=protected-access


def raw_read(sftp, handle, length=4096):
    _, msg = raw(sftp, sftp_wire.CMD_READ, handle, int64(0), length)
    return msg.get_string()


def raw_write(sftp, handle, data):
    raw(sftp, sftp_wire.CMD_WRITE, handle, int64(0), data)


def raw_fstat(sftp, handle):
    _, msg = raw(sftp, sftp_wire.CMD_FSTAT, handle)
    return paramiko.SFTPAttributes._from_msg(msg)  # pylint: disable=protected-access


def raw_fsetstat(sftp, handle, mode=None, size=None):
    attrs = paramiko.SFTPAttributes()
    if mode is not None:
        attrs.st_mode = mode
    if size is not None:
        attrs.st_size = size
    raw(sftp, sftp_wire.CMD_FSETSTAT, handle, attrs)


def raw_close(sftp, handle):
    raw(sftp, sftp_wire.CMD_CLOSE, handle)


def raw_opendir(sftp, path):
    _, msg = raw(sftp, sftp_wire.CMD_OPENDIR, path)
    return msg.get_binary()


def raw_readdir(sftp, handle):
    """One READDIR batch: [(name, long name)]; [] at end of directory."""
    try:
        _, msg = raw(sftp, sftp_wire.CMD_READDIR, handle)
    except EOFError:
        return []
    out = []
    for _ in range(msg.get_int()):
        name, longname = msg.get_text(), msg.get_text()
        paramiko.SFTPAttributes._from_msg(msg)  # pylint: disable=protected-access
        out.append((name, longname))
    return out


def fsync(sftp, handle):
    extended(sftp, "fsync@openssh.com", handle)


def detach_handle(f):
    """The raw handle of paramiko SFTPFile `f`, which paramiko will no
    longer close (not even when `f` is garbage): the caller closes it."""
    f._closed = True  # pylint: disable=protected-access
    return f.handle


def open_handle(sftp, path, mode):
    """OPEN through paramiko; returns the raw handle (see detach_handle)."""
    return detach_handle(sftp.open(path, mode))


def write_file(sftp, path, mode, data):
    """Opens `path` with paramiko's `mode`, writes `data` at offset 0 and
    closes with a CLOSE whose status is reported (paramiko's own close
    swallows it, but an upload's commit result comes back there)."""
    f = sftp.open(path, mode)
    try:
        f.write(data)
        f.flush()
    finally:
        raw_close(sftp, detach_handle(f))


# ----- outcomes -----

@dataclasses.dataclass
class Outcome:
    """What an operation gave the client: `error` is None on success (then
    `value` holds what it returned) or the exception's class name, with
    its errno (paramiko maps NO_SUCH_FILE to ENOENT and PERMISSION_DENIED
    to EACCES) and the server's message."""
    error: object = None
    errno: object = None
    message: str = ""
    value: object = None

    @property
    def ok(self):
        return self.error is None

    def text(self):
        """Everything the client saw, as one searchable string."""
        return self.message + "\n" + flatten(self.value)

    def comparable(self, replacements):
        """(error, errno, message) with each (old, new) of `replacements`
        applied to the message in order, for comparing two attempts that
        differ only in the names they used."""
        message = self.message
        for old, new in replacements:
            if old:
                message = message.replace(old, new)
        return (self.error, self.errno, message)

    def __str__(self):
        if self.ok:
            return f"success: {flatten(self.value)[:300]!r}"
        return f"{self.error} errno={self.errno} {self.message!r}"


def capture(fn):
    """Runs fn() and returns its Outcome. SFTP errors become outcomes; a
    lost connection (paramiko.SSHException) propagates: it is a failure."""
    try:
        return Outcome(value=fn())
    except (OSError, EOFError, paramiko.SFTPError) as error:
        message = getattr(error, "strerror", None) or " ".join(
            str(a) for a in error.args)
        return Outcome(error=type(error).__name__,
                       errno=getattr(error, "errno", None), message=message)


def flatten(value):
    """A result as text: bytes as latin-1, attributes with their long
    name, sequences joined."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, paramiko.SFTPAttributes):
        return " ".join([str(getattr(value, "filename", "")),
                         str(getattr(value, "longname", "")), str(value)])
    if isinstance(value, (list, tuple, set)):
        return "\n".join(flatten(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(flatten(k) + " " + flatten(v)
                         for k, v in value.items())
    return str(value)


def is_view_path(path):
    """True for an absolute, normalized path with no "..": what REALPATH
    may answer in a session's view."""
    return (path.startswith("/") and posixpath.normpath(path) == path
            and ".." not in path.split("/") and not path.startswith("//"))
