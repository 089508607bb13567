#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<name>/).

The seeds are committed; rerun this after changing it:
    /usr/bin/python3 tests/fuzz/make_corpus.py
Files it did not write (e.g. crash inputs added as regressions, named
regression-*) are left alone.

sftp_packet seeds are a control byte (see sftp_packet_fuzzer.cc) followed
by a client byte stream; sftp_attrs seeds are wire ATTRS or a serialized
sftpgate.v1.Attributes; users_file seeds are TOML; paths seeds are
"ROOT\\nPATH" or a path.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- SFTP v3 encoding -----------------------------------------------------

INIT = 1  # 2 is VERSION, the reply
OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT = range(3, 11)
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME = range(11, 19)
READLINK, SYMLINK, EXTENDED = 19, 20, 200
SIZE, UIDGID, PERMS, ACMODTIME, EXT = 1, 2, 4, 8, 0x80000000


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(v):
    v = v.encode() if isinstance(v, str) else v
    return u32(len(v)) + v


def attrs(size=None, ids=None, perms=None, times=None, ext=()):
    flags, body = 0, b""
    if size is not None:
        flags |= SIZE
        body += u64(size)
    if ids is not None:
        flags |= UIDGID
        body += u32(ids[0]) + u32(ids[1])
    if perms is not None:
        flags |= PERMS
        body += u32(perms)
    if times is not None:
        flags |= ACMODTIME
        body += u32(times[0]) + u32(times[1])
    if ext:
        flags |= EXT
        body += u32(len(ext)) + b"".join(s(k) + s(v) for k, v in ext)
    return u32(flags) + body


def packet(ptype, body):
    return u32(len(body) + 1) + bytes([ptype]) + body


def req(ptype, rid, *fields):
    return packet(ptype, u32(rid) + b"".join(fields))


def ext(rid, name, *fields):
    return req(EXTENDED, rid, s(name), *fields)


INIT_V3 = packet(INIT, u32(3))
WRITE_FLAGS = 0x02 | 0x08 | 0x10  # WRITE | CREAT | TRUNC

SFTP_PACKET = {
    "init": b"\x00" + INIT_V3,
    "upload": b"\x04" + INIT_V3
    + req(OPEN, 1, s("/up/a.txt"), u32(WRITE_FLAGS), attrs(perms=0o644))
    + req(WRITE, 2, s("h1"), u64(0), s(b"hello world\n" * 8))
    + req(WRITE, 3, s("h1"), u64(96), s(b"tail"))
    + req(CLOSE, 4, s("h1")),
    "download": b"\x09" + INIT_V3
    + req(OPEN, 1, s("a.txt"), u32(1), attrs())
    + req(READ, 2, s("h1"), u64(0), u32(32768))
    + req(READ, 3, s("h1"), u64(1 << 40), u32(0x80000000))
    + req(FSTAT, 4, s("h1")) + req(CLOSE, 5, s("h1")),
    "listing": b"\x11" + INIT_V3
    + req(OPENDIR, 1, s("/docs/../docs/./"))
    + req(READDIR, 2, s("d1")) + req(READDIR, 3, s("d1"))
    + req(CLOSE, 4, s("d1")),
    "paths": b"\x00" + INIT_V3
    + req(STAT, 1, s("../../etc/passwd")) + req(LSTAT, 2, s("a//b/./c/.."))
    + req(REALPATH, 3, s(".")) + req(REALPATH, 4, s(""))
    + req(REMOVE, 5, s("/x")) + req(RMDIR, 6, s("/d"))
    + req(MKDIR, 7, s("/d"), attrs(perms=0o755))
    + req(RENAME, 8, s("/a"), s("/b")) + req(READLINK, 9, s("/l"))
    + req(SYMLINK, 10, s("../target"), s("/link")),
    "setstat": b"\x00" + INIT_V3
    + req(SETSTAT, 1, s("/f"), attrs(size=10, ids=(1000, 1000), perms=0o600,
                                     times=(1700000000, 1700000001),
                                     ext=[("a@b", "c"), ("d@e", "")]))
    + req(FSETSTAT, 2, s("h"), attrs(times=(0, 0xffffffff))),
    "extended": b"\x05" + INIT_V3
    + ext(1, "posix-rename@openssh.com", s("/a"), s("/b"))
    + ext(2, "statvfs@openssh.com", s("/"))
    + ext(3, "fstatvfs@openssh.com", s("h1"))
    + ext(4, "hardlink@openssh.com", s("/a"), s("/c"))
    + ext(5, "fsync@openssh.com", s("h1"))
    + ext(6, "lsetstat@openssh.com", s("/l"), attrs(perms=0o700))
    + ext(7, "limits@openssh.com")
    + ext(8, "expand-path@openssh.com", s("~/x/../y"))
    + ext(9, "copy-data", s("h1"), u64(0), u64(0), s("h2"), u64(4096))
    + ext(10, "home-directory", s("alice"))
    + ext(11, "no-such@example.com", s("x")),
    "nul_in_name": b"\x00" + INIT_V3 + req(STAT, 1, s(b"/a\x00b"))
    + req(OPEN, 2, s(b"/x\x00/../../etc"), u32(1), attrs()),
    "unknown_types": b"\x00" + INIT_V3 + req(0, 1) + req(99, 2, s("x"))
    + req(255, 3) + req(101, 4, u32(0)) + req(INIT, 5),
    "truncated_string": b"\x00" + INIT_V3
    + packet(STAT, u32(1) + u32(1000) + b"/short"),
    "truncated_attrs": b"\x00" + INIT_V3
    + packet(SETSTAT, u32(1) + s("/f") + u32(SIZE | UIDGID) + b"\x00\x00"),
    "length_zero": b"\x00" + INIT_V3 + u32(0),
    "length_one": b"\x01" + INIT_V3 + u32(1) + b"\x03",
    "length_max": b"\x02" + INIT_V3 + u32(0xffffffff) + b"\x03" * 16,
    "half_packet": b"\x0c" + INIT_V3 + u32(100) + b"\x11" + u32(7),
}

# Every request type and extension the session serves, with typical
# fields (handles "1" and "2" are what the session's first OPENs return).
ALL_ATT = attrs(size=10, ids=(1000, 1000), perms=0o100600,
                times=(1700000000, 1700000001), ext=[("a@b", "c")])
REQUESTS = {
    "open": (OPEN, s("/f"), u32(WRITE_FLAGS), attrs(perms=0o644)),
    "close": (CLOSE, s("1")),
    "read": (READ, s("1"), u64(0), u32(32768)),
    "write": (WRITE, s("1"), u64(0), s(b"data" * 16)),
    "lstat": (LSTAT, s("/l")),
    "fstat": (FSTAT, s("1")),
    "setstat": (SETSTAT, s("/f"), ALL_ATT),
    "fsetstat": (FSETSTAT, s("1"), attrs(size=0)),
    "opendir": (OPENDIR, s("/")),
    "readdir": (READDIR, s("1")),
    "remove": (REMOVE, s("/f")),
    "mkdir": (MKDIR, s("/d"), attrs(perms=0o755)),
    "rmdir": (RMDIR, s("/d")),
    "realpath": (REALPATH, s("a/../b")),
    "stat": (STAT, s("/f")),
    "rename": (RENAME, s("/f"), s("/g")),
    "readlink": (READLINK, s("/l")),
    "symlink": (SYMLINK, s("../t"), s("/l")),
}
EXTENSIONS = {
    "posix-rename@openssh.com": (s("/a"), s("/b")),
    "statvfs@openssh.com": (s("/"),),
    "fstatvfs@openssh.com": (s("1"),),
    "hardlink@openssh.com": (s("/a"), s("/c")),
    "fsync@openssh.com": (s("1"),),
    "lsetstat@openssh.com": (s("/l"), attrs(perms=0o700)),
    "limits@openssh.com": (),
    "expand-path@openssh.com": (s("~/x"),),
    "copy-data": (s("1"), u64(0), u64(0), s("2"), u64(0)),
    "home-directory": (s("alice"),),
}


def request_variants():
    """{name: packet bytes}: each request and extension valid, and near
    valid: its last field cut short, a string length past the packet's
    end, extra bytes after the fields, and the packet length one short."""
    bodies = {}
    for name, (ptype, *fields) in REQUESTS.items():
        bodies[name] = (ptype, u32(7), list(fields))
    for name, fields in EXTENSIONS.items():
        bodies["ext-" + name.split("@")[0]] = (
            EXTENDED, u32(7), [s(name)] + list(fields))
    out = {}
    for name, (ptype, rid, fields) in bodies.items():
        whole = b"".join(fields)
        out["valid-" + name] = packet(ptype, rid + whole)
        if whole:
            out["cut-" + name] = packet(ptype, rid + whole[:-1])
            out["trailing-" + name] = packet(ptype, rid + whole + b"\x00" * 3)
            # The first string field (name or path) claims more bytes
            # than the packet holds.
            out["overlong-" + name] = packet(
                ptype, rid + u32(0x7fffffff) + whole[4:])
            short = packet(ptype, rid + whole)
            out["short-" + name] = u32(len(short) - 5) + short[4:]
    return out


# Sequences a session actually serves (sftp_session target): open, use and
# close handles, so the handlers behind OPEN/OPENDIR run too.
SESSION = {
    "upload": INIT_V3
    + req(OPEN, 1, s("/up.txt"), u32(WRITE_FLAGS), attrs(perms=0o644))
    + req(WRITE, 2, s("1"), u64(0), s(b"hello world\n" * 8))
    + req(WRITE, 3, s("1"), u64(96), s(b"tail"))
    + ext(4, "fsync@openssh.com", s("1"))
    + req(FSTAT, 5, s("1")) + req(CLOSE, 6, s("1")),
    "download": INIT_V3
    + req(OPEN, 1, s("/file"), u32(1), attrs())
    + req(READ, 2, s("1"), u64(0), u32(32768))
    + req(READ, 3, s("1"), u64(1 << 40), u32(0x80000000))
    + req(CLOSE, 4, s("1")),
    "listing": INIT_V3 + req(OPENDIR, 1, s("/"))
    + req(READDIR, 2, s("1")) + req(READDIR, 3, s("1"))
    + req(CLOSE, 4, s("1")),
    "copy": INIT_V3 + req(OPEN, 1, s("/file"), u32(1), attrs())
    + req(OPEN, 2, s("/copy"), u32(WRITE_FLAGS), attrs())
    + ext(3, "copy-data", s("1"), u64(0), u64(0), s("2"), u64(0))
    + req(CLOSE, 4, s("1")) + req(CLOSE, 5, s("2")),
    "tree": INIT_V3 + req(MKDIR, 1, s("/d"), attrs(perms=0o755))
    + req(SYMLINK, 2, s("d"), s("/l")) + req(READLINK, 3, s("/l"))
    + ext(4, "lsetstat@openssh.com", s("/l"), attrs(times=(1, 2)))
    + ext(5, "posix-rename@openssh.com", s("/d"), s("/e"))
    + req(RMDIR, 6, s("/e")) + req(REMOVE, 7, s("/l")),
    "unopened_handles": INIT_V3 + req(READ, 1, s("9"), u64(0), u32(10))
    + req(CLOSE, 2, s("")) + req(WRITE, 3, s("x" * 300), u64(0), s("y")),
    "no_init": req(STAT, 1, s("/")),
    "double_init": INIT_V3 + INIT_V3 + req(STAT, 1, s("/")),
}


def session_seeds():
    """The sftp_session corpus: each request alone after INIT, and the
    sequences above."""
    out = {name: INIT_V3 + data for name, data in request_variants().items()}
    out.update(SESSION)
    return out


# --- sftpgate.v1.Attributes (protobuf wire format) -------------------------


def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b, v = v & 0x7F, v >> 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def pb_int(field, v):
    return varint(field << 3) + varint(v)


def pb_str(field, v):
    return varint(field << 3 | 2) + varint(len(v)) + v


SFTP_ATTRS = {
    "wire_empty": attrs(),
    "wire_all": attrs(size=123456789, ids=(0, 65534), perms=0o100644,
                      times=(1, 2), ext=[("x@y", "z")]),
    "wire_truncated": attrs(size=5)[:7],
    "wire_huge_ext_count": u32(EXT) + u32(0xffffffff) + s("a"),
    "wire_unknown_flags": u32(0x7ffffff0),
    "pb_file": pb_int(1, 4096) + pb_int(2, 1000) + pb_int(3, 1000)
    + pb_str(4, b"alice") + pb_str(5, b"staff") + pb_int(6, 0o100644)
    + pb_int(7, 1700000000) + pb_int(8, 1700000000) + pb_int(9, 1),
    "pb_dir_old": pb_int(6, 0o40755) + pb_int(8, 0) + pb_int(9, 3),
    "pb_negative_times": pb_int(7, -5) + pb_int(8, -(1 << 62))
    + pb_int(6, 0o120777),
    "pb_huge_times": pb_int(8, (1 << 63) - 1) + pb_int(1, (1 << 64) - 1)
    + pb_int(6, 0xffffffff),
    "pb_setuid": pb_int(6, 0o107777) + pb_int(2, 5),
}

# --- users files -----------------------------------------------------------

KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILWCJTF4JRPgexGMuDETfsFd3Bt9/agu"
       "Uk+IorH4EuOl fuzz@seed")
HASH = ("$6$fuzzsalt$TMAdpzXePxLUFyzhbszyG7PEYcOkSrx8gK/JwqZ/qtZjsDmpAWbYDF"
        "41z.P3owQTu0fV.h8j3SLR5H1R0lr9n/")

USERS_FILE = {
    "good": f'''# two users
[[user]]
name = "alice"
password_hash = "{HASH}"
authorized_keys = ["{KEY}"]
root = "/alice/./home/"
read_only = false

[[user]]
name = "bob"
authorized-keys = ["{KEY}"]
read_only = true
''',
    "password_only": f'[[user]]\nname = "carol"\npassword_hash = \'{HASH}\'\n',
    "duplicate": f'[[user]]\nname = "a"\npassword_hash = "{HASH}"\n'
                 f'[[user]]\nname = "a"\npassword_hash = "{HASH}"\n',
    "dotdot_root": f'[[user]]\nname = "a"\npassword_hash = "{HASH}"\n'
                   'root = "/a/../../etc"\n',
    "relative_root": f'[[user]]\nname = "a"\npassword_hash = "{HASH}"\n'
                     'root = "a"\n',
    "no_credential": '[[user]]\nname = "a"\nroot = "/a"\n',
    "bad_key": '[[user]]\nname = "a"\nauthorized_keys = ["ssh-ed25519 AAAA"]\n',
    "cert_key": '[[user]]\nname = "a"\nauthorized_keys = '
                '["ssh-ed25519-cert-v01@openssh.com AAAA x"]\n',
    "plain_password": '[[user]]\nname = "a"\npassword_hash = "hunter2"\n',
    "unknown_key": f'[[user]]\nname = "a"\npassword_hash = "{HASH}"\nshell = 1\n',
    "wrong_types": '[[user]]\nname = 7\nread_only = "yes"\n'
                   'authorized_keys = "x"\n',
    "user_table": '[user]\nname = "a"\n',
    "top_level_key": 'x = 1\n',
    "syntax_error": '[[user]\nname = "a\n',
    "name_control": '[[user]]\nname = "a\\u0001b"\npassword_hash = "$6$x$y"\n',
    "inline_tables": 'user = [{name = "a", password_hash = "$y$j9T$a$b"}]\n',
    "empty": "",
}

# --- paths -----------------------------------------------------------------

PATHS = {
    "relative": b"a//b/./c/..",
    "climb": b"/../x",
    "root_and_climb": b"/srv/u\n../../etc/passwd",
    "root_slash": b"/\n/a/../../b",
    "dots": b"..../.../. ./..",
    "nul": b"/a\x00/../b",
    "empty": b"",
    "only_slashes": b"////",
    "tilde": b"/home/alice\n~/x/./y/",
    "bad_root": b"relative/root\n/x",
    "deep": b"/" + b"a/../" * 50 + b"b",
}

# --- writing ---------------------------------------------------------------


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def main():
    # Control byte 0: the session's packet limit, whole reads (see
    # sftp_packet_fuzzer.cc).
    write("sftp_packet", {**SFTP_PACKET, **{
        name: b"\x00" + INIT_V3 + data
        for name, data in request_variants().items()}})
    # Control byte 0: a writable session with the default limits; 3:
    # read-only with tight limits (see sftp_session_fuzzer.cc).
    write("sftp_session", {
        **{name: b"\x00" + data for name, data in session_seeds().items()},
        **{"tight-" + name: b"\x03" + data
           for name, data in SESSION.items()}})
    write("sftp_attrs", SFTP_ATTRS)
    write("users_file", USERS_FILE)
    write("paths", PATHS)


if __name__ == "__main__":
    main()
