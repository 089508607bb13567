"""Raw SFTP v3 over a real SSH channel, for sending malformed protocol.

`RawSftp` logs in with paramiko's Transport, opens the "sftp" subsystem and
then writes whatever bytes a test gives it; it decodes the server's reply
packets itself. Encoding helpers (`u32`, `string`, `request`, ...) build
valid or deliberately broken packets.

Thread safety: a RawSftp may be used by two threads at once only as one
sender (send/request) and one reader (read_packet); nothing else is shared.
"""

import socket
import struct
import threading
import time

import paramiko

# Packet types (draft-ietf-secsh-filexfer-02).
INIT, VERSION, OPEN, CLOSE, READ, WRITE = 1, 2, 3, 4, 5, 6
LSTAT, FSTAT, SETSTAT, FSETSTAT, OPENDIR, READDIR = 7, 8, 9, 10, 11, 12
REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME = 13, 14, 15, 16, 17, 18
READLINK, SYMLINK = 19, 20
STATUS, HANDLE, DATA, NAME, ATTRS = 101, 102, 103, 104, 105
EXTENDED, EXTENDED_REPLY = 200, 201

# Status codes.
FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED = 0, 1, 2, 3
FX_FAILURE, FX_BAD_MESSAGE, FX_OP_UNSUPPORTED = 4, 5, 8

# OPEN pflags.
FXF_READ, FXF_WRITE, FXF_CREAT, FXF_TRUNC = 0x1, 0x2, 0x8, 0x10

ATTR_SIZE, ATTR_PERMISSIONS, ATTR_EXTENDED = 0x1, 0x4, 0x80000000


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def string(v):
    v = v.encode() if isinstance(v, str) else v
    return u32(len(v)) + v


NO_ATTRS = u32(0)


def packet(ptype, body=b""):
    """A framed packet: uint32 length, type byte, body."""
    return u32(len(body) + 1) + bytes([ptype]) + body


def request(ptype, rid, *fields):
    return packet(ptype, u32(rid) + b"".join(fields))


def extended(rid, name, *fields):
    return request(EXTENDED, rid, string(name), *fields)


class Reply:
    """One reply packet: type, request id (None for VERSION) and the bytes
    after the id."""

    def __init__(self, raw):
        self.type = raw[0]
        if self.type == VERSION:
            self.id, self.body = None, raw[1:]
        else:
            self.id = struct.unpack(">I", raw[1:5])[0]
            self.body = raw[5:]

    def _string(self, at):
        n = struct.unpack(">I", self.body[at:at + 4])[0]
        return self.body[at + 4:at + 4 + n], at + 4 + n

    @property
    def status(self):
        assert self.type == STATUS, f"expected STATUS, got {self!r}"
        return struct.unpack(">I", self.body[:4])[0]

    @property
    def message(self):
        assert self.type == STATUS, f"expected STATUS, got {self!r}"
        return self._string(4)[0].decode(errors="replace")

    @property
    def handle(self):
        assert self.type == HANDLE, f"expected HANDLE, got {self!r}"
        return self._string(0)[0]

    @property
    def data(self):
        assert self.type == DATA, f"expected DATA, got {self!r}"
        return self._string(0)[0]

    def __repr__(self):
        extra = ""
        if self.type == STATUS:
            extra = f" status={self.status} {self.message!r}"
        return f"<Reply type={self.type} id={self.id}{extra} {len(self.body)}B>"


class RawSftp:
    """One SSH connection with one raw "sftp" subsystem channel."""

    def __init__(self, host, port, user, password, timeout=60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.transport = paramiko.Transport(self.sock)
        self.transport.banner_timeout = timeout
        self.transport.auth_timeout = timeout
        self.transport.connect(username=user, password=password)
        self._open_channel(timeout)

    def _open_channel(self, timeout):
        self.channel = self.transport.open_session(timeout=timeout)
        self.channel.invoke_subsystem("sftp")
        self.channel.settimeout(timeout)
        self._buffer = b""
        self._next_id = 1
        self._id_lock = threading.Lock()

    def open_channel(self, timeout=60.0):
        """Another "sftp" channel on the same SSH connection: a RawSftp
        sharing this one's transport (closing either closes both)."""
        other = RawSftp.__new__(RawSftp)
        other.sock = self.sock
        other.transport = self.transport
        other._open_channel(timeout)  # pylint: disable=protected-access
        return other

    # ----- writing -----

    def send(self, data):
        self.channel.sendall(data)

    def next_id(self):
        with self._id_lock:
            rid = self._next_id
            self._next_id += 1
            return rid

    def init(self):
        """Sends INIT (version 3) and returns the VERSION reply."""
        self.send(packet(INIT, u32(3)))
        reply = self.read_packet()
        assert reply is not None and reply.type == VERSION, reply
        return reply

    def call(self, ptype, *fields, timeout=60.0):
        """Sends one request with a fresh id; returns its reply (which must
        be the next packet)."""
        rid = self.next_id()
        self.send(request(ptype, rid, *fields))
        reply = self.read_packet(timeout)
        assert reply is not None, f"channel closed instead of answering {ptype}"
        assert reply.id == rid, f"reply {reply!r} is not for request {rid}"
        return reply

    def call_extended(self, name, *fields):
        return self.call(EXTENDED, string(name), *fields)

    # ----- reading -----

    def _fill(self, n, deadline):
        """Reads until the buffer holds n bytes; False on EOF."""
        while len(self._buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from the server")
            self.channel.settimeout(left)
            try:
                chunk = self.channel.recv(1 << 20)
            except socket.timeout as e:
                raise TimeoutError("no reply from the server") from e
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def read_packet(self, timeout=60.0):
        """The next reply, or None when the server closed the channel."""
        deadline = time.monotonic() + timeout
        if not self._fill(4, deadline):
            return None
        length = struct.unpack(">I", self._buffer[:4])[0]
        if not self._fill(4 + length, deadline):
            return None
        raw = self._buffer[4:4 + length]
        self._buffer = self._buffer[4 + length:]
        return Reply(raw)

    def wait_closed(self, timeout=30.0):
        """Waits for the server to end the channel. Returns the replies that
        came first (a list, usually empty); raises TimeoutError if the
        channel stays open."""
        replies = []
        while True:
            reply = self.read_packet(timeout)
            if reply is None:
                return replies
            replies.append(reply)

    def is_open(self):
        return (self.transport.is_active() and not self.channel.closed
                and not self.channel.eof_received)

    def close(self):
        try:
            self.channel.close()
        finally:
            self.transport.close()

    def abort(self):
        """Drops the TCP connection with a reset, as a crashed client."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
