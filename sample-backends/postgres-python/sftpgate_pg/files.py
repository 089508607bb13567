"""Streaming file contents in and out of chunk rows.

ChunkReader fetches only the rows one read() needs, on a pooled connection
held for that query alone, so an idle read stream holds no connection and
no file is ever loaded whole.

ChunkWriter owns one connection and one transaction for the whole upload:
it builds a staging inode (a copy of the old contents' rows unless
truncating, then the new bytes, one chunk buffered at a time) that no entry
names, and commit() links it in place of the old file in that same
transaction. Abort, a failed commit, a lost connection or a crash all end
in a rollback: nothing of the upload is ever visible.

Thread safety: a reader or writer is used by one thread at a time.
"""

import contextlib
import io
import struct

import psycopg2

from sftpgate_sdk import BackendError, FileReader, FileWriter, StatusCode, pb

from .db import RETRYABLE, Retry
from .schema import CHUNK_SIZE
from .tree import Tree, is_dir

__all__ = ["ChunkReader", "ChunkWriter"]

_FLAGS = pb.WriteHeader
_PUBLISH_ATTEMPTS = 8


def _zeros(n):
    return bytes(n)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)


def _copy_chunk(cur, inode_id, idx, data):
    """Inserts one chunk row with COPY in binary format: the bytes travel
    as they are, where an INSERT would send (and the server parse) them as
    hex text, three times slower."""
    row = io.BytesIO()
    row.write(_COPY_HEADER)
    # One tuple of 3 fields: bigint inode, bigint idx, bytea data.
    row.write(struct.pack("!hiqiqi", 3, 8, inode_id, 8, idx, len(data)))
    row.write(data)
    row.write(_COPY_TRAILER)
    row.seek(0)
    cur.copy_expert("COPY sftpgate_chunks (inode, idx, data) FROM STDIN WITH (FORMAT binary)",
                    row)


class ChunkReader(FileReader):
    """Reads inode `inode_id` from `offset`."""

    def __init__(self, pool, inode_id, offset):
        self._pool = pool
        self._inode = inode_id
        self._offset = offset

    def read(self, max_bytes):
        def fetch(cur):
            cur.execute("SELECT size FROM sftpgate_inodes WHERE id = %s", (self._inode,))
            row = cur.fetchone()
            if row is None:
                raise BackendError(StatusCode.NOT_FOUND, "file was removed while reading")
            end = min(row[0], self._offset + max_bytes)
            if end <= self._offset:
                return b""
            first, last = self._offset // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
            cur.execute("SELECT idx, data FROM sftpgate_chunks WHERE inode = %s "
                        "AND idx BETWEEN %s AND %s", (self._inode, first, last))
            rows = dict(cur.fetchall())
            pieces = []
            position = self._offset
            while position < end:
                idx, within = divmod(position, CHUNK_SIZE)
                take = min(CHUNK_SIZE - within, end - position)
                data = rows.get(idx, b"")[within:within + take]
                pieces.append(data)
                if len(data) < take:  # A hole, or past the end of a short row.
                    pieces.append(_zeros(take - len(data)))
                position += take
            return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)

        data = self._pool.transaction(fetch)
        self._offset += len(data)
        return data


class ChunkWriter(FileWriter):
    """One upload into a staging inode; see the module docstring."""

    def __init__(self, backend, session, header):
        self._backend = backend
        self._session = session
        self._header = header
        self._append = bool(header.flags & _FLAGS.FLAG_APPEND)
        self._hold = contextlib.ExitStack()
        self._conn = self._hold.enter_context(backend.pool.connection())
        self._cur = self._conn.cursor()
        self._chunk_idx = None  # Index of the chunk in `_chunk`.
        self._chunk = bytearray()
        self._stored = set()  # Indexes of the staging inode's chunk rows.
        try:
            self._size = self._start()
        except BaseException:
            self.abort()
            raise

    def _tree(self):
        return Tree(self._cur, self._backend.top)

    def _start(self):
        """Checks the header, creates the staging inode; returns its size."""
        header = self._header
        tree = self._tree()
        found = tree.walk(self._session, header.path, True)
        existing = found.entry.handle if found.entry is not None else None
        if existing is None and not header.flags & _FLAGS.FLAG_CREATE:
            raise BackendError(StatusCode.NOT_FOUND, "no such file")
        if existing is not None:
            if header.flags & _FLAGS.FLAG_EXCLUSIVE:
                raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
            if is_dir(existing):
                raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
        permissions = (header.attributes.mode & 0o7777
                       if header.attributes.HasField("mode") else 0o644)
        self._staging = tree.new_file(permissions)
        if existing is None or header.flags & _FLAGS.FLAG_TRUNCATE:
            return 0
        # Start from the old contents: copy their rows inside the server.
        self._cur.execute(
            "INSERT INTO sftpgate_chunks (inode, idx, data) "
            "SELECT %s, idx, data FROM sftpgate_chunks WHERE inode = %s RETURNING idx",
            (self._staging, existing.id))
        self._stored = {row[0] for row in self._cur.fetchall()}
        return existing.size

    def write(self, offset, data):
        try:
            if self._append:
                offset = self._size
            position = 0
            while position < len(data):
                idx, within = divmod(offset + position, CHUNK_SIZE)
                if idx != self._chunk_idx:
                    self._flush()
                    self._load(idx)
                take = min(CHUNK_SIZE - within, len(data) - position)
                if len(self._chunk) < within:  # A hole before this write.
                    self._chunk += _zeros(within - len(self._chunk))
                self._chunk[within:within + take] = data[position:position + take]
                position += take
            self._size = max(self._size, offset + len(data))
        except psycopg2.Error as exc:
            raise BackendError(StatusCode.UNAVAILABLE, "database error while writing") from exc

    def _load(self, idx):
        """Makes chunk `idx` current, starting from its stored bytes."""
        self._chunk = bytearray()
        self._chunk_idx = idx
        if idx in self._stored:
            self._cur.execute("SELECT data FROM sftpgate_chunks WHERE inode = %s AND idx = %s",
                              (self._staging, idx))
            self._chunk = bytearray(self._cur.fetchone()[0])

    def _flush(self):
        if self._chunk_idx is None:
            return
        idx, data = self._chunk_idx, self._chunk
        if idx in self._stored:
            self._cur.execute("UPDATE sftpgate_chunks SET data = %s WHERE inode = %s AND idx = %s",
                              (psycopg2.Binary(bytes(data)), self._staging, idx))
        else:
            _copy_chunk(self._cur, self._staging, idx, data)
            self._stored.add(idx)
        self._chunk_idx = None
        self._chunk = bytearray()

    def commit(self):
        try:
            self._flush()
            self._cur.execute("UPDATE sftpgate_inodes SET size = %s WHERE id = %s",
                              (self._size, self._staging))
            self._publish()
            self._conn.commit()
            return self._size
        except BaseException:
            self.abort()
            raise
        finally:
            self._hold.close()

    def _publish(self):
        """Links the staging inode at the header's path (replacing a file
        there), retrying the linking alone from a savepoint on a conflict:
        the uploaded rows are kept."""
        for attempt in range(_PUBLISH_ATTEMPTS):
            self._cur.execute("SAVEPOINT publish")
            try:
                self._link()
                self._cur.execute("RELEASE SAVEPOINT publish")
                return
            except RETRYABLE + (Retry,):
                self._cur.execute("ROLLBACK TO SAVEPOINT publish")
                if attempt == _PUBLISH_ATTEMPTS - 1:
                    raise BackendError(StatusCode.ABORTED, "too much contention, try again")

    def _link(self):
        tree = self._tree()
        found = tree.walk(self._session, self._header.path, True)
        tree.lock(found.parent.id)
        existing = tree.child(found.parent.id, found.name)
        if existing is None:
            tree.create(found.parent.id, found.name, None, inode_id=self._staging)
            return
        if self._header.flags & _FLAGS.FLAG_EXCLUSIVE:
            raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
        if is_dir(existing):
            raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
        if existing.target is not None:
            raise Retry()  # Became a symlink since the walk: walk again.
        # The file keeps its identity's visible attributes: mode and owner.
        self._cur.execute(
            "UPDATE sftpgate_inodes SET mode = %s, uid = %s, gid = %s, mtime = %s "
            "WHERE id = %s", (existing.mode, existing.uid, existing.gid, tree.now,
                              self._staging))
        tree.relink(found.parent.id, found.name, self._staging)
        tree.release(existing)

    def abort(self):
        try:
            if not self._conn.closed:
                self._conn.rollback()
        except psycopg2.Error:
            pass
        finally:
            self._hold.close()
