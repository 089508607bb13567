"""Per-user roots hold: alice (root /alice) cannot reach bob's tree (/bob)
through any SFTP operation, on every backend.

Every case is one attempt by alice, generated from the tables below:

- SPELLINGS: ways to name a place outside her root. Lexical ones
  ("/../bob/x", "../bob/x", "a/../../bob/x", the backend's real disk
  path) and symlinks she creates inside her own tree first (to "/../bob",
  "../../bob/secret.txt", "/bob" (which is *her* /bob: absolute targets
  are in her view), "..", chains of links, links inside subdirectories).
- OPS: what she does with it: stat, lstat, read, list, readlink, realpath,
  statvfs; write (truncate, append, in place, exclusive), remove, rmdir,
  mkdir, chmod, truncate, utime, lsetstat, rename and posix-rename into and
  out of the place, hardlink into and out of it, symlink into it.

For each attempt: the operation fails, or if it succeeds it touched only
her own tree: the whole store outside /alice is unchanged afterwards (on
disk for localfs: names, types, modes, sizes, link counts, inodes, mtimes,
contents, link targets; for memory through the admin's and bob's own
sessions). Nothing she gets back (data, listings, link targets, realpath
answers, error messages) holds a name or byte that only bob's tree has, nor
the backend's disk path she did not type. Read-only attempts are repeated
with a name that does not exist in bob's tree: both answers must be the
same (else existence would leak).

More tables: handles of bob's session forged in alice's (READ, WRITE,
FSTAT, FSETSTAT, CLOSE, READDIR, fstatvfs, fsync, copy-data); alice's own
open handles (reads, uploads, copy-data) after she swaps a directory on
their path for a link out of her root; operations on her root itself
(remove, rename away, rename onto, link onto); "~bob" in expand-path and
home-directory; a decoy /bob of her own (plain climbs must land there).
Plus her listings of "/", "..", "/../.."; two bounded races (her and bob's
sessions interleaved; a directory flipping to a link while she uses paths
through it).

Variants: the memory and the localfs backend with roots from sftpgate's
users file, and the localfs backend with roots from delegated
authentication (--auth grpc: with the sample Python authenticator, plus
roots it gives that sftpgate must normalize or refuse); the delegated ones
are skipped with a message when sftpgate or the sample lack it.

A case that fails because of a real server or backend bug is marked in
KNOWN_BUGS (unittest.expectedFailure) naming the bug, so it stays visible
without breaking CI.
"""

import concurrent.futures
import dataclasses
import functools
import os
import posixpath
import shutil
import stat
import sys
import threading
import unittest

import paramiko

import isolation_fixture as fx
from isolation_fixture import harness

ALICE_DATA = b"alice was here\n"
DECOY_DATA = b"alice's own decoy\n"
# What only bob's tree holds: his file contents and hidden names. None of
# it may ever reach alice.
BOB_ONLY = ("bobonly", "bob's secret")
# Bob's tree on top of the harness seed (/bob/secret.txt), as the admin
# (who sees the whole store) creates it.
BOB_DIRS = ("/bob/dir", "/bob/emptydir")
BOB_FILES = {
    "/bob/dir/bobonly-inner.txt": (b"bobonly inner\n", 0o644),
    "/bob/bobonly-hidden.txt": (b"bobonly hidden\n", 0o600),
}
BOB_LINKS = {"/bob/bob-link": "secret.txt"}

# What an attempt aims at: store-relative path of something in bob's tree,
# and one that does not exist (None: no existence check for that kind).
TARGETS = {
    "file": ("bob/secret.txt", "bob/nosuch.txt"),
    "dir": ("bob/dir", "bob/nodir"),
    "emptydir": ("bob/emptydir", None),
    "link": ("bob/bob-link", "bob/nolink"),
    "root": ("bob", "nobody"),
    "new": ("bob/planted", None),
}

# Backends whose store is a directory (compared and reset on disk).
DISK_BACKENDS = ("localfs", "openssh")

# Races: rounds per worker, and a cap on their wall-clock time.
RACE_ROUNDS = 150
RACE_SECONDS = 30

# Bugs found by this suite, by test method name (without the class) or
# (backend, method name), with the reason. Each makes exactly that case an
# expected failure.
KNOWN_BUGS = {}


# ----- spellings -----

@dataclasses.dataclass(frozen=True)
class Spelling:
    """A way to name store path R from alice's session. `path`, link paths
    and link targets are templates: {R} the store-relative target
    ("bob/secret.txt"), {p} the attempt's unique prefix, {data} the store's
    directory on disk. `dirs` are created, then `links` (link path,
    target) in order, in alice's own tree. `climb`: a plain lexical climb,
    which must land on the same path in her own tree ("/../bob" is her
    "/bob")."""
    name: str
    path: str
    links: tuple = ()
    dirs: tuple = ()
    climb: bool = False

    def uses_data(self):
        texts = [self.path] + [t for _, t in self.links]
        return any("{data}" in t for t in texts)

    def prepare(self, sftp, fields):
        for d in self.dirs:
            sftp.mkdir(d.format(**fields))
        for link, target in self.links:
            sftp.symlink(target.format(**fields), link.format(**fields))
        return self.path.format(**fields)


def _link(name, target, path="/{p}", dirs=()):
    return Spelling(name, path, links=(("/{p}", target),), dirs=dirs)


SPELLINGS = (
    # Lexical: the front end must keep ".." at alice's "/".
    Spelling("abs", "/{R}", climb=True),
    Spelling("abs-climb", "/../{R}", climb=True),
    Spelling("abs-climb-many", "/../../../../../../{R}", climb=True),
    Spelling("abs-climb-long", "/.." * 3000 + "/{R}", climb=True),
    Spelling("rel-climb", "../{R}", climb=True),
    Spelling("rel-sub-climb", "a/../../{R}", climb=True),
    Spelling("dot-climb", "./../{R}", climb=True),
    Spelling("slashes-climb", "//..//.//{R}", climb=True),
    Spelling("host-path", "{data}/{R}"),
    Spelling("host-path-climb", "../../../../../../../..{data}/{R}"),
    Spelling("nul-cut", "/../{R}\0/x"),  # a C string would end at the NUL
    Spelling("nul-climb", "/x\0/../../{R}"),
    Spelling("fullwidth-dots", "/\uff0e\uff0e/{R}"),  # NFKC makes ".."
    # A link to a directory above alice's root, then a path through it.
    _link("dirlink-abs-climb", "/..", path="/{p}/{R}"),
    _link("dirlink-rel-climb", "..", path="/{p}/{R}"),
    _link("dirlink-host", "{data}", path="/{p}/{R}"),
    Spelling("dirlink-deep-climb", "/{p}/l/{R}", dirs=("/{p}",),
             links=(("/{p}/l", "../.."),)),
    Spelling("dirlink-self-climb", "/{p}/{R}", dirs=("/{p}-d",),
             links=(("/{p}-d/self", "."), ("/{p}", "{p}-d/self/../.."))),
    # A link that names the target itself.
    _link("link-abs-climb", "/../{R}"),
    _link("link-rel-climb", "../{R}"),
    _link("link-rel-climb2", "../../{R}"),
    _link("link-dots", "../../../../../../../../{R}"),
    _link("link-trailing-dot", "../{R}/."),
    _link("link-slashes", "..//.//{R}"),
    _link("link-abs-own", "/{R}"),  # alice's own /bob/...: must not exist
    _link("link-host", "{data}/{R}"),
    Spelling("link-deep-rel-climb", "/{p}/l", dirs=("/{p}",),
             links=(("/{p}/l", "../../{R}"),)),
    # Chains of links.
    Spelling("chain", "/{p}-3", links=(("/{p}-1", "/../{R}"),
                                       ("/{p}-2", "{p}-1"),
                                       ("/{p}-3", "/{p}-2"))),
    Spelling("chain-top-climb", "/{p}", links=(("/{p}-top", "/"),
                                               ("/{p}", "{p}-top/../{R}"))),
    Spelling("chain-up", "/{p}", links=(("/{p}-up", ".."),
                                        ("/{p}", "{p}-up/{R}"))),
    Spelling("chain-deep", "/{p}", dirs=("/{p}-d",),
             links=(("/{p}-d/up", "../.."), ("/{p}", "{p}-d/up/{R}"))),
)

# ----- operations -----

class Own:
    """Alice's side of one attempt: her session and names of her own,
    all starting with the attempt's unique prefix."""

    def __init__(self, sftp, prefix):
        self.sftp = sftp
        self.prefix = prefix

    def name(self, suffix):
        return f"/{self.prefix}-{suffix}"

    def file(self, suffix):
        path = self.name(suffix)
        fx.write_file(self.sftp, path, "wb", ALICE_DATA)
        return path

    def look(self, path):
        """What alice now finds at her own `path`: bytes of a file, names
        in a directory, or None."""
        try:
            attrs = self.sftp.lstat(path)
            if stat.S_ISDIR(attrs.st_mode):
                return self.sftp.listdir(path)
            if stat.S_ISLNK(attrs.st_mode):
                return self.sftp.readlink(path)
            with self.sftp.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError):
            return None


@dataclasses.dataclass(frozen=True)
class Op:
    """One operation: run(own, path, prepared) does it on `path` and
    returns what the client got; prepare(own), outside the measured
    attempt, makes alice's own objects it needs. `read` ops change
    nothing, so they are also compared against a missing name."""
    name: str
    kinds: tuple
    run: object
    prepare: object = None
    read: bool = False


def _read(own, path, _):
    with own.sftp.open(path, "rb") as f:
        return f.read()


def _realpath(own, path, _):
    answer = own.sftp.normalize(path)
    if not fx.is_view_path(answer):
        raise AssertionError(f"REALPATH {path!r} answered {answer!r}, "
                             "which is not a path in the session's view")
    return answer


def _writer(mode):
    return lambda own, path, _: fx.write_file(own.sftp, path, mode,
                                              ALICE_DATA)


def _source(own):
    return own.file("src")


def _dest(own):
    return own.name("dst")


def _out(move):
    """An op moving `path` to alice's own name: returns what landed there."""
    def run(own, path, dest):
        move(own.sftp, path, dest)
        return own.look(dest)
    return run


def _posix_rename(sftp, old, new):
    sftp.posix_rename(old, new)


READ_OPS = (
    Op("stat", ("file", "dir", "root"), lambda o, p, _: o.sftp.stat(p),
       read=True),
    Op("lstat", ("file", "link"), lambda o, p, _: o.sftp.lstat(p), read=True),
    Op("read", ("file", "link"), _read, read=True),
    Op("listdir", ("root", "dir"), lambda o, p, _: o.sftp.listdir_attr(p),
       read=True),
    Op("readlink", ("link",), lambda o, p, _: o.sftp.readlink(p), read=True),
    Op("realpath", ("file", "root"), _realpath, read=True),
    Op("statvfs", ("root", "file"), lambda o, p, _: fx.statvfs(o.sftp, p),
       read=True),
)

WRITE_OPS = (
    Op("write-trunc", ("file", "new"), _writer("wb")),
    Op("append", ("file",), _writer("ab")),
    Op("write-in-place", ("file",), _writer("r+b")),
    Op("create-excl", ("new",), _writer("xb")),
    Op("remove", ("file", "link"), lambda o, p, _: o.sftp.remove(p)),
    Op("rmdir", ("emptydir",), lambda o, p, _: o.sftp.rmdir(p)),
    Op("mkdir", ("new",), lambda o, p, _: o.sftp.mkdir(p)),
    Op("chmod", ("file", "dir"), lambda o, p, _: o.sftp.chmod(p, 0o777)),
    Op("truncate", ("file",), lambda o, p, _: o.sftp.truncate(p, 0)),
    Op("utime", ("file",), lambda o, p, _: o.sftp.utime(p, (1000, 1000))),
    Op("lsetstat", ("file", "link"),
       lambda o, p, _: fx.lsetstat(o.sftp, p, 0o777)),
    Op("rename-in", ("new",), lambda o, p, src: o.sftp.rename(src, p),
       prepare=_source),
    Op("posix-rename-in", ("file", "new"),
       lambda o, p, src: o.sftp.posix_rename(src, p), prepare=_source),
    Op("rename-out", ("file", "dir"),
       _out(lambda s, p, d: s.rename(p, d)), prepare=_dest),
    Op("posix-rename-out", ("file",), _out(_posix_rename), prepare=_dest),
    Op("hardlink-out", ("file",), _out(fx.hardlink), prepare=_dest),
    Op("hardlink-in", ("new",), lambda o, p, src: fx.hardlink(o.sftp, src, p),
       prepare=_source),
    Op("symlink-in", ("new",), lambda o, p, _: o.sftp.symlink("anywhere", p)),
)

# Handles of bob's session that alice names in her own (she has none of
# her own open, except the one copy-data needs): run(sftp, bob's handles,
# alice's own handle or None).
FORGED_HANDLE_OPS = {
    "read": lambda s, h, _: fx.raw_read(s, h["file"]),
    "write": lambda s, h, _: fx.raw_write(s, h["upload"], ALICE_DATA),
    "fstat": lambda s, h, _: fx.raw_fstat(s, h["file"]),
    "fsetstat-mode": lambda s, h, _: fx.raw_fsetstat(s, h["file"], mode=0o777),
    "fsetstat-size": lambda s, h, _: fx.raw_fsetstat(s, h["upload"], size=0),
    "close": lambda s, h, _: fx.raw_close(s, h["file"]),
    "close-upload": lambda s, h, _: fx.raw_close(s, h["upload"]),
    "readdir": lambda s, h, _: fx.raw_readdir(s, h["dir"]),
    "fstatvfs": lambda s, h, _: fx.fstatvfs(s, h["file"]),
    "fsync": lambda s, h, _: fx.fsync(s, h["upload"]),
    "copy-data-from-bob": lambda s, h, own: fx.copy_data(
        s, h["file"], own),
    "copy-data-to-bob": lambda s, h, own: fx.copy_data(s, own, h["upload"]),
}
OWN_HANDLE_MODE = {"copy-data-from-bob": "wb", "copy-data-to-bob": "rb"}

# Alice opens handles under /{p}, then swaps /{p} for a link to one of
# these: operations on her handles must not follow the new link out.
SWAP_TARGETS = {
    "rel-climb": "../bob", "abs-climb": "/../bob", "abs-own": "/bob",
    "parent": "..", "abs-parent": "/..", "host": "{data}/bob",
}
SWAP_OPS = {
    "read": lambda s, h: fx.raw_read(s, h["file"]),
    "fstat": lambda s, h: fx.raw_fstat(s, h["file"]),
    "fsetstat-mode": lambda s, h: fx.raw_fsetstat(s, h["file"], mode=0o777),
    "fsetstat-size": lambda s, h: fx.raw_fsetstat(s, h["file"], size=0),
    "write-close": lambda s, h: (fx.raw_write(s, h["file"], ALICE_DATA),
                                 fx.raw_close(s, h.pop("file"))),
    "create-close": lambda s, h: (fx.raw_write(s, h["new"], ALICE_DATA),
                                  fx.raw_close(s, h.pop("new"))),
    "create-fsetstat-close": lambda s, h: (
        fx.raw_fsetstat(s, h["new"], mode=0o600),
        fx.raw_close(s, h.pop("new"))),
    "fstatvfs": lambda s, h: fx.fstatvfs(s, h["file"]),
    "fsync": lambda s, h: fx.fsync(s, h["file"]),
    "readdir": lambda s, h: fx.raw_readdir(s, h["dir"]),
    # Copies into her upload outside the swapped directory.
    "copy-data": lambda s, h: fx.copy_data(s, h["file"], h["out"]),
}


def _own_dir(own):
    path = own.name("empty")
    own.sftp.mkdir(path)
    return path


def _own_file(own):
    return own.file("f")


# Operations on alice's root itself (or on its parent, "/.." being "/"):
# none may reach the store's directory holding her root.
ROOT_OPS = (
    Op("rmdir", (), lambda o, _, __: o.sftp.rmdir("/")),
    Op("rmdir-dot", (), lambda o, _, __: o.sftp.rmdir(".")),
    Op("rmdir-parent", (), lambda o, _, __: o.sftp.rmdir("/..")),
    Op("remove", (), lambda o, _, __: o.sftp.remove("/")),
    Op("rename-away", (), lambda o, _, dst: o.sftp.rename("/", dst),
       prepare=_dest),
    Op("posix-rename-away", (), lambda o, _, dst: o.sftp.posix_rename("/", dst),
       prepare=_dest),
    Op("rename-parent-away", (),
       lambda o, _, dst: o.sftp.posix_rename("/..", dst), prepare=_dest),
    Op("rename-dir-onto", (), lambda o, _, src: o.sftp.rename(src, "/"),
       prepare=_own_dir),
    Op("posix-rename-dir-onto", (),
       lambda o, _, src: o.sftp.posix_rename(src, "/"), prepare=_own_dir),
    Op("posix-rename-dir-onto-parent", (),
       lambda o, _, src: o.sftp.posix_rename(src, "/.."), prepare=_own_dir),
    Op("posix-rename-file-onto", (),
       lambda o, _, src: o.sftp.posix_rename(src, "/"), prepare=_own_file),
    Op("hardlink-onto", (), lambda o, _, src: fx.hardlink(o.sftp, src, "/"),
       prepare=_own_file),
    Op("symlink-at", (), lambda o, _, __: o.sftp.symlink("x", "/")),
    Op("mkdir", (), lambda o, _, __: o.sftp.mkdir("/")),
    Op("write", (), lambda o, _, __: fx.write_file(o.sftp, "/", "wb",
                                                   ALICE_DATA)),
    Op("truncate", (), lambda o, _, __: o.sftp.truncate("/", 0)),
    Op("lsetstat-parent", (), lambda o, _, __: fx.lsetstat(o.sftp, "/..",
                                                           0o755)),
)

# Requests that take another user's name: (request, argument template);
# {u} is "bob", then NO_SUCH_USER: the answers must not differ.
NO_SUCH_USER = "nosuchuser7"
NAME_PROBES = {
    "expand-path-home": (fx.expand_path, "~{u}"),
    "expand-path-file": (fx.expand_path, "~{u}/secret.txt"),
    "expand-path-climb": (fx.expand_path, "~/../{u}/secret.txt"),
    "expand-path-climb-user": (fx.expand_path, "~alice/../../{u}"),
    "home-directory": (fx.home_directory, "{u}"),
}


# ----- the test case -----

TRACE = os.environ.get("SFTPGATE_ISOLATION_TRACE", "")


def trace(test, what, outcome):
    """Appends one attempt's outcome to $SFTPGATE_ISOLATION_TRACE, if set
    (to see what each backend answered)."""
    if TRACE:
        with open(TRACE, "a") as f:
            f.write(f"{test.BACKEND}\t{test._testMethodName}\t{what}\t"
                    f"{outcome}\n")


def _quietly_close(session):
    """Closes a harness paramiko session that may already be dead."""
    try:
        session.__exit__(None, None, None)
    except (OSError, EOFError, paramiko.SSHException):
        pass


class ServiceCase(harness.GateTestCase):
    """One service (BACKEND, GATE) per class, bob's tree filled in, and
    what the cases need to watch the store outside alice's tree and what
    alice sees. No cases of its own."""

    GATE = harness.Gate
    SKIP = ""

    @classmethod
    def setUpClass(cls):
        # As GateTestCase.setUpClass, with a Gate class of our choice.
        super(harness.GateTestCase, cls).setUpClass()
        if cls.SKIP:
            raise unittest.SkipTest(cls.SKIP)
        cls.gate = cls.GATE(cls.BACKEND)
        cls.addClassCleanup(cls.gate.cleanup)
        cls._sessions = {}
        cls.addClassCleanup(cls._close_sessions)
        try:
            cls.gate.start()
            cls._populate_outside()
        except BaseException:
            sys.stderr.write(f"\n[isolation] {cls.__name__}: start failed; "
                             f"logs:\n{cls.gate.log_tail()}\n")
            raise
        cls.alice_root = cls.gate.user("alice").root
        cls.baseline = cls._outside()

    # ----- sessions -----

    @classmethod
    def sftp(cls, user, slot=""):
        """The class's session of `user` named `slot` (key login), opened
        on first use and reconnected if lost. Sessions stay open until the
        class ends: hundreds of cases share a handful of logins, which keeps
        the suite fast. (Connections coming and going beside busy ones are
        tested in tests/hostile test_connection_churn and tests/ssh.)"""
        session = cls._sessions.get((user, slot))
        transport = session and session.client.get_transport()
        if transport is None or not transport.is_active():
            if session is not None:
                _quietly_close(session)
            session = cls.gate.paramiko(user, auth="key")
            cls._sessions[(user, slot)] = session
        return session.sftp

    @classmethod
    def _close_sessions(cls):
        for session in cls._sessions.values():
            _quietly_close(session)
        cls._sessions = {}

    # ----- the store outside alice's tree -----

    @classmethod
    def _populate_outside(cls):
        admin = cls.sftp("admin")
        for d in BOB_DIRS:
            admin.mkdir(d, 0o755)
        for path, (data, mode) in BOB_FILES.items():
            fx.write_file(admin, path, "wb", data)
            admin.chmod(path, mode)
        for path, target in BOB_LINKS.items():
            admin.symlink(target, path)

    @classmethod
    def _outside(cls):
        """Everything outside alice's tree, as compared after each attempt."""
        if cls.BACKEND in DISK_BACKENDS:
            data = cls.gate.data
            return fx.disk_tree(data, skip=data + cls.alice_root)
        state = {("admin", k): v for k, v in fx.sftp_tree(
            cls.sftp("admin"), "/", skip={cls.alice_root}).items()}
        state.update({("bob", k): v for k, v in fx.sftp_tree(
            cls.sftp("bob"), "/").items()})
        return state

    @classmethod
    def _reset_outside(cls):
        """Puts the store outside alice's tree back as it was at the start
        (after a case changed it), then takes a new baseline."""
        # Bob's session may hold handles and uploads in the old tree.
        for key in [k for k in cls._sessions if k[0] == "bob"]:
            _quietly_close(cls._sessions.pop(key))
        admin = cls.sftp("admin")
        if cls.BACKEND in DISK_BACKENDS:
            # On disk, hidden upload files and all.
            for name in os.listdir(cls.gate.data):
                path = os.path.join(cls.gate.data, name)
                if path == cls.gate.data + cls.alice_root:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        else:
            for name in admin.listdir("/"):
                if "/" + name != cls.alice_root:
                    cls._remove_tree(admin, "/" + name)
        for d in harness.SEED_DIRS:
            if d != cls.alice_root:
                admin.mkdir(d, 0o755)
        for path, data in harness.SEED_FILES.items():
            fx.write_file(admin, path, "wb", data)
        cls._populate_outside()
        cls.baseline = cls._outside()

    @classmethod
    def _remove_tree(cls, sftp, path):
        attrs = sftp.lstat(path)
        if stat.S_ISDIR(attrs.st_mode):
            for name in sftp.listdir(path):
                cls._remove_tree(sftp, posixpath.join(path, name))
            sftp.rmdir(path)
        else:
            sftp.remove(path)

    def assertOutsideUnchanged(self, what):
        now = self._outside()
        before = type(self).baseline
        if now == before:
            return
        lines = []
        for key in sorted(set(before) | set(now), key=str):
            if before.get(key) != now.get(key):
                lines.append(f"  {key}: {before.get(key)} -> {now.get(key)}")
        type(self)._reset_outside()
        self.fail(f"{what} changed the store outside alice's tree:\n" +
                  "\n".join(lines))

    # ----- what alice sees -----

    def assertNoLeak(self, outcome, what, typed_data=False):
        """Nothing of bob's tree, nor the store's disk path (unless alice
        typed it), nor the backend's own name for her root, in `outcome`."""
        seen = outcome.text()
        forbidden = list(BOB_ONLY) + [self.alice_root + "/"]
        if not typed_data:
            forbidden.append(self.gate.data)
        for needle in forbidden:
            self.assertNotIn(needle, seen,
                             f"{what}: alice saw {needle!r} in {outcome}")

    def replacements(self, fields):
        return [(self.gate.data, "<data>"), (fields["p"], "<p>"),
                (fields["R"], "<R>")]



class IsolationTest(ServiceCase):
    """Alice attacks (the generated cases call the check_ methods); bob's
    tree and the rest of the store are watched."""

    # ----- the cases -----

    def check_attempt(self, spelling, op, kind):
        """Alice does `op` on `kind` in bob's tree named by `spelling`."""
        sftp = self.sftp("alice")
        existing, missing = TARGETS[kind]
        prefix = f"{op.name}-{kind}-{spelling.name}"
        answers = []
        runs = [(existing, prefix)]
        if op.read and missing is not None:
            runs.append((missing, prefix + "-m"))
        for target, p in runs:
            fields = {"R": target, "p": p, "data": self.gate.data}
            path = spelling.prepare(sftp, fields)
            own = Own(sftp, p)
            prepared = op.prepare(own) if op.prepare else None
            outcome = fx.capture(lambda: op.run(own, path, prepared))  # pylint: disable=cell-var-from-loop
            what = f"{op.name} {path!r} (aiming at /{target})"
            trace(self, what, outcome)
            self.assertNoLeak(outcome, what, typed_data=spelling.uses_data())
            self.assertOutsideUnchanged(f"{what} -> {outcome}")
            answers.append((outcome, fields, what))
        if len(answers) == 2:
            (a, fa, wa), (b, fb, wb) = answers
            self.assertEqual(
                a.comparable(self.replacements(fa)),
                b.comparable(self.replacements(fb)),
                f"existence leaks: {wa} -> {a}\nbut {wb} -> {b}")

    def check_forged_handle(self, name):
        """Alice names handles of bob's open file, upload and directory."""
        bob = self.sftp("bob")
        # Bob's handle ids are past any that alice's fresh session will have.
        for _ in range(8):
            bob.open("/secret.txt", "rb").close()
        upload = bob.open("/upload.txt", "wb")
        upload.write(b"bobonly upload\n")
        upload.flush()
        handles = {"file": fx.open_handle(bob, "/secret.txt", "rb"),
                   "upload": fx.detach_handle(upload),
                   "dir": fx.raw_opendir(bob, "/")}
        # A WRITE is answered before the backend has it; fsync waits for
        # its commit, so the store stays still unless alice moves it.
        fx.fsync(bob, handles["upload"])
        type(self).baseline = self._outside()  # bob's own doing so far
        alice = self.sftp("alice", "forger")  # no handles of her own open
        own_path = f"/forged-{name}"
        own_handle = None
        if name in OWN_HANDLE_MODE:
            fx.write_file(alice, own_path, "wb", ALICE_DATA)
            own_handle = fx.open_handle(alice, own_path, OWN_HANDLE_MODE[name])
            self.assertNotIn(own_handle, handles.values())
        outcome = fx.capture(
            lambda: FORGED_HANDLE_OPS[name](alice, handles, own_handle))
        self.assertNoLeak(outcome, f"forged {name}")
        self.assertFalse(outcome.ok, f"alice's {name} on bob's handle "
                                     f"succeeded: {outcome}")
        self.assertOutsideUnchanged(f"forged {name}: {outcome}")
        if own_handle is not None:
            fx.raw_close(alice, own_handle)
            got = fx.Outcome(value=Own(alice, "").look(own_path))
            self.assertNoLeak(got, f"forged {name}: alice's own file")
        # Bob's handles still work and hold only his data.
        self.assertEqual(fx.raw_read(bob, handles["file"]),
                         harness.SEED_FILES["/bob/secret.txt"])
        self.assertIn("secret.txt",
                      [n for n, _ in fx.raw_readdir(bob, handles["dir"])])
        for handle in handles.values():
            fx.raw_close(bob, handle)
        with bob.open("/upload.txt", "rb") as f:
            self.assertEqual(f.read(), b"bobonly upload\n")
        bob.remove("/upload.txt")
        type(self).baseline = self._outside()

    def check_swapped_handle(self, target_name, op_name):
        """Alice's own handles under /{p}, then /{p} becomes a link."""
        sftp = self.sftp("alice")
        p = f"swap-{target_name}-{op_name}"
        sftp.mkdir(f"/{p}")
        fx.write_file(sftp, f"/{p}/secret.txt", "wb", ALICE_DATA)
        # Every handle is closed after the swap (a new file is created on
        # its CLOSE): each case also checks where those commits land.
        handles = {"file": fx.open_handle(sftp, f"/{p}/secret.txt", "r+b"),
                   "new": fx.open_handle(sftp, f"/{p}/planted", "wb"),
                   "out": fx.open_handle(sftp, f"/{p}-out", "wb"),
                   "dir": fx.raw_opendir(sftp, f"/{p}")}
        sftp.rename(f"/{p}", f"/{p}-old")
        target = SWAP_TARGETS[target_name].format(data=self.gate.data)
        sftp.symlink(target, f"/{p}")
        outcome = fx.capture(lambda: SWAP_OPS[op_name](sftp, handles))
        what = f"{op_name} on a handle under /{p} -> {target!r}"
        self.assertNoLeak(outcome, what, typed_data="{data}" in
                          SWAP_TARGETS[target_name])
        for handle in handles.values():
            closed = fx.capture(lambda: fx.raw_close(sftp, handle))  # pylint: disable=cell-var-from-loop
            self.assertNoLeak(closed, what + " (close)")
        landed = fx.Outcome(value=Own(sftp, p).look(f"/{p}-out"))
        self.assertNoLeak(landed, what + f": /{p}-out holds")
        self.assertOutsideUnchanged(f"{what}: {outcome}")

    def check_root_op(self, op):
        """Alice operates on her root itself."""
        sftp = self.sftp("alice")
        own = Own(sftp, f"root-{op.name}")
        prepared = op.prepare(own) if op.prepare else None
        outcome = fx.capture(lambda: op.run(own, "/", prepared))
        trace(self, f"{op.name} on the root", outcome)
        self.assertNoLeak(outcome, f"{op.name} on the root")
        self.assertOutsideUnchanged(f"{op.name} on the root: {outcome}")
        # Her root is still there and still hers; a refused move left its
        # source in place.
        names = self.sftp("alice").listdir("/")
        self.assertNotIn("bob", names)
        if op.prepare in (_own_dir, _own_file) and not outcome.ok:
            self.assertIn(posixpath.basename(prepared), names,
                          f"{op.name} on the root: {outcome}")

    def check_name_probe(self, name):
        request, template = NAME_PROBES[name]
        sftp = self.sftp("alice")
        answers = []
        for user in ("bob", NO_SUCH_USER):
            arg = template.format(u=user)
            outcome = fx.capture(lambda: request(sftp, arg))  # pylint: disable=cell-var-from-loop
            self.assertNoLeak(outcome, f"{name} {arg!r}")
            if outcome.ok:
                self.assertTrue(all(fx.is_view_path(v) for v in outcome.value),
                                f"{name} {arg!r}: {outcome}")
            answers.append((outcome.comparable([(user, "<u>")]), arg, outcome))
        (a, arg_a, out_a), (b, arg_b, out_b) = answers
        self.assertEqual(a, b, f"{name}: {arg_a!r} -> {out_a} but "
                               f"{arg_b!r} -> {out_b}")
        self.assertOutsideUnchanged(name)

    def check_decoy(self, spelling):
        """With a /bob of her own, alice's climbing paths land in it."""
        sftp = self.sftp("alice")
        # "a" exists too, for servers that resolve "a/.." on disk.
        for d in ("/bob", "/a"):
            sftp.mkdir(d)
            self.addCleanup(self._remove_tree, sftp, d)
        fx.write_file(sftp, "/bob/secret.txt", "wb", DECOY_DATA)
        p = f"decoy-{spelling.name}"
        fields = {"R": "bob/secret.txt", "p": p, "data": self.gate.data}
        path = spelling.prepare(sftp, fields)
        got = fx.capture(lambda: _read(Own(sftp, p), path, None))
        self.assertNoLeak(got, f"read {path!r}", spelling.uses_data())
        if spelling.climb:
            self.assertEqual(got.value, DECOY_DATA,
                             f"read {path!r}: {got}")
        elif got.ok:
            self.assertEqual(got.value, DECOY_DATA, f"read {path!r}")
        wrote = fx.capture(lambda: fx.write_file(sftp, path, "wb", ALICE_DATA))
        self.assertNoLeak(wrote, f"write {path!r}", spelling.uses_data())
        self.assertOutsideUnchanged(f"write {path!r}: {wrote}")

    # ----- races (bounded by rounds and by RACE_SECONDS) -----

    def run_workers(self, workers):
        """Runs each worker(stop) in a thread of its own until all return;
        `stop` is set when the first returns or RACE_SECONDS pass. Returns
        the problems they reported (each worker returns a list)."""
        stop = threading.Event()
        timer = threading.Timer(RACE_SECONDS, stop.set)
        timer.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
                futures = [pool.submit(w, stop) for w in workers]
                problems = []
                for future in concurrent.futures.as_completed(futures):
                    stop.set()
                    problems += future.result()
        finally:
            timer.cancel()
        return problems

    def test_race_sessions_do_not_mix(self):
        # Alice's and bob's requests interleave in the front end and the
        # backend; each answer must be the asker's own.
        mine = "/race-mine.txt"
        fx.write_file(self.sftp("alice"), mine, "wb", ALICE_DATA)
        bob_data = harness.SEED_FILES["/bob/secret.txt"]

        def alice(stop, sftp=None):
            problems = []
            for _ in range(RACE_ROUNDS):
                if stop.is_set():
                    break
                theirs = fx.capture(lambda: _read(Own(sftp, ""), "/secret.txt",
                                                  None))
                own = fx.capture(lambda: _read(Own(sftp, ""), mine, None))
                if theirs.ok or own.value != ALICE_DATA:
                    problems.append(f"alice: /secret.txt -> {theirs}, "
                                    f"{mine} -> {own}")
            return problems

        def bob(stop, sftp=None):
            problems = []
            for _ in range(RACE_ROUNDS):
                if stop.is_set():
                    break
                own = fx.capture(lambda: _read(Own(sftp, ""), "/secret.txt",
                                               None))
                theirs = fx.capture(lambda: sftp.stat(mine))
                if own.value != bob_data or theirs.ok:
                    problems.append(f"bob: /secret.txt -> {own}, "
                                    f"{mine} -> {theirs}")
            return problems

        workers = [functools.partial(alice, sftp=self.sftp("alice", f"race{i}"))
                   for i in range(2)]
        workers += [functools.partial(bob, sftp=self.sftp("bob", f"race{i}"))
                    for i in range(2)]
        self.assertEqual(self.run_workers(workers), [])
        self.assertOutsideUnchanged("concurrent sessions")

    def test_race_directory_swapped_for_link(self):
        # /race/d flips between alice's directory and her link out of her
        # root while other sessions of hers use paths through it.
        sftp = self.sftp("alice")
        sftp.mkdir("/race")
        sftp.mkdir("/race/d")
        fx.write_file(sftp, "/race/d/secret.txt", "wb", ALICE_DATA)
        sftp.symlink("../../bob", "/race/evil")
        allowed_names = {"secret.txt", "new.txt"}

        def swapper(stop, sftp=None):
            for _ in range(RACE_ROUNDS):
                if stop.is_set():
                    break
                for old, new in (("/race/d", "/race/hold"),
                                 ("/race/evil", "/race/d"),
                                 ("/race/d", "/race/evil"),
                                 ("/race/hold", "/race/d")):
                    sftp.rename(old, new)
            return []

        def user(stop, sftp=None):
            problems = []
            while not stop.is_set():
                for outcome in (
                        fx.capture(lambda: _read(Own(sftp, ""),
                                                 "/race/d/secret.txt", None)),
                        fx.capture(lambda: sftp.listdir("/race/d")),
                        fx.capture(lambda: fx.write_file(
                            sftp, "/race/d/new.txt", "wb", ALICE_DATA))):
                    text = outcome.text()
                    if any(t in text for t in BOB_ONLY):
                        problems.append(str(outcome))
                    if outcome.ok and isinstance(outcome.value, bytes) and (
                            outcome.value != ALICE_DATA):
                        problems.append(str(outcome))
                    if outcome.ok and isinstance(outcome.value, list) and (
                            not set(outcome.value) <= allowed_names):
                        problems.append(str(outcome))
            return problems

        workers = [functools.partial(swapper, sftp=self.sftp("alice", "race0"))]
        workers += [functools.partial(user, sftp=self.sftp("alice", f"race{i}"))
                    for i in (1, 2)]
        self.assertEqual(self.run_workers(workers), [])
        self.assertOutsideUnchanged("directory swapped for a link")

    # ----- plain cases -----

    def test_listings_show_only_alice_tree(self):
        sftp = self.sftp("alice")
        own = sorted(sftp.listdir("/"))
        for path in (".", "", "..", "/..", "../..", "/../..", "//.."):
            names = fx.capture(lambda: sorted(sftp.listdir(path)))  # pylint: disable=cell-var-from-loop
            self.assertNoLeak(names, f"listdir {path!r}")
            if names.ok:  # "" may be refused (OpenSSH does)
                self.assertEqual(names.value, own, f"listdir {path!r}")
        for top in ("alice", "bob", "shared"):
            self.assertNotIn(top, own)

    def test_bob_sees_his_tree(self):
        # The fixture itself: bob's session sees what the admin put there.
        names = set(self.sftp("bob").listdir("/"))
        self.assertEqual(names, {"secret.txt", "dir", "emptydir", "bob-link",
                                 "bobonly-hidden.txt"})


class DelegatedIsolationTest(IsolationTest):
    """Roots from the sample Authenticator (--auth grpc:)."""

    GATE = fx.DelegatedGate

    def test_roots_came_from_the_authenticator(self):
        self.sftp("alice")
        self.sftp("bob")
        with open(self.gate.authenticator_log) as f:
            log = f.read()
        for user in ("alice", "bob"):
            self.assertRegex(log, f"accepted user={user} ")


class DelegatedRootsTest(ServiceCase):
    """Roots from the Authenticator that are not normalized. A service of
    its own: these cases end connections, which sftpgate currently lets
    disturb other connections (see ServiceCase.sftp)."""

    GATE = fx.DelegatedGate

    def authenticator_log(self):
        with open(self.gate.authenticator_log) as f:
            return f.read()

    def login_with_alice_key(self, name):
        user = dataclasses.replace(self.gate.user("alice"), name=name)
        return self.gate.paramiko(user, auth="key")

    def test_odd_root_is_normalized(self):
        # carol's root is "//alice/./": alice's tree, and no way out of it.
        fx.write_file(self.sftp("alice"), "/alice-file", "wb", ALICE_DATA)
        alice_names = sorted(self.sftp("alice").listdir("/"))
        with self.login_with_alice_key("carol") as carol:
            self.assertEqual(sorted(carol.listdir("/")), alice_names)
            for path in ("/../bob/secret.txt", "../../bob/secret.txt"):
                got = fx.capture(lambda: _read(Own(carol, ""), path, None))  # pylint: disable=cell-var-from-loop
                self.assertFalse(got.ok, f"carol read {path}: {got}")
                self.assertNoLeak(got, f"carol read {path}")
        self.assertOutsideUnchanged("carol's session")

    def test_climbing_or_relative_root_is_refused(self):
        for name in ("mallory", "trent"):
            with self.assertRaises(paramiko.AuthenticationException,
                                   msg=f"{name} got in"):
                self.login_with_alice_key(name).__exit__(None, None, None)
            # The authenticator said yes: the refusal is sftpgate's.
            self.assertRegex(self.authenticator_log(), f"accepted user={name} ")


# ----- generating the cases -----

def _method_name(*parts):
    return "test_" + "__".join(p.replace("-", "_") for p in parts)


def _add(methods, name, fn):
    assert name not in methods, name
    methods[name] = fn


def _generated_methods():
    methods = {}
    for op in READ_OPS + WRITE_OPS:
        for kind in op.kinds:
            for spelling in SPELLINGS:
                _add(methods, _method_name(op.name, kind, spelling.name),
                     lambda self, s=spelling, o=op, k=kind:
                     self.check_attempt(s, o, k))
    for name in FORGED_HANDLE_OPS:
        _add(methods, _method_name("forged_handle", name),
             lambda self, n=name: self.check_forged_handle(n))
    for target in SWAP_TARGETS:
        for op_name in SWAP_OPS:
            _add(methods, _method_name("swapped_handle", target, op_name),
                 lambda self, t=target, o=op_name:
                 self.check_swapped_handle(t, o))
    for op in ROOT_OPS:
        _add(methods, _method_name("root", op.name),
             lambda self, o=op: self.check_root_op(o))
    for name in NAME_PROBES:
        _add(methods, _method_name("probe", name),
             lambda self, n=name: self.check_name_probe(n))
    for spelling in SPELLINGS:
        _add(methods, _method_name("decoy", spelling.name),
             lambda self, s=spelling: self.check_decoy(s))
    return methods


def _variants(bases):
    """(class name, base class, backend, skip reason, generated cases?) of
    each variant."""
    out = [(f"IsolationTest_{b}", bases["IsolationTest"], b, "", True)
           for b in harness.backends()]
    if "localfs" in harness.backends():
        skip = fx.delegated_auth_unavailable()
        out.append(("DelegatedIsolationTest_localfs",
                    bases["DelegatedIsolationTest"], "localfs", skip, True))
        out.append(("DelegatedRootsTest_localfs", bases["DelegatedRootsTest"],
                    "localfs", skip, False))
    return out


def _build(module_globals):
    """Replaces the base classes by one class per variant, with every
    generated case (KNOWN_BUGS ones as expected failures) where asked."""
    bases = {name: module_globals.pop(name) for name in (
        "IsolationTest", "DelegatedIsolationTest", "DelegatedRootsTest")}
    generated = _generated_methods()
    for name, base, backend, skip, with_cases in _variants(bases):
        methods = {}
        for method, fn in generated.items() if with_cases else ():
            reason = KNOWN_BUGS.get((backend, method)) or KNOWN_BUGS.get(method)
            methods[method] = unittest.expectedFailure(fn) if reason else fn
        module_globals[name] = type(name, (base,), dict(
            methods, BACKEND=backend, SKIP=skip,
            __module__=__name__, __qualname__=name))


_build(globals())

if __name__ == "__main__":
    unittest.main()
