"""PostgresBackend: the sftpgate Backend over the tables of schema.py.

Every operation is one transaction (db.Pool.transaction, retried on
conflicts) that walks the session's path from its root (created on first
use) and follows the locking protocol of tree.py. Uploads are one
transaction each (files.ChunkWriter). Symlinks, realpath and lsetstat are
served; hard links and statvfs are not (UNIMPLEMENTED, and Describe says
so).

Thread safety: safe for concurrent calls from many sessions and from many
backend processes sharing one database.
"""

import time

from sftpgate_sdk import Backend, BackendError, StatusCode, pb

from .db import Pool, Retry
from .files import ChunkReader, ChunkWriter
from .schema import CHUNK_SIZE, S_IFDIR, S_IFLNK, ensure_schema
from .tree import Inode, Tree, attributes_of, is_dir, is_link

__all__ = ["PostgresBackend"]


class PostgresBackend(Backend):
    """Serves the tree stored in the database at `dsn`."""

    def __init__(self, dsn, pool_size=32):
        self.pool = Pool(dsn, size=pool_size)
        self.top = self.pool.transaction(lambda cur: ensure_schema(cur, int(time.time())))

    def name(self):
        return "postgres-python 1.0"

    def _run(self, fn):
        """fn(Tree) in one transaction, retried on conflicts."""
        return self.pool.transaction(lambda cur: fn(Tree(cur, self.top)))

    # ---- Metadata. ----

    def stat(self, session, path, follow_symlinks):
        return self._run(lambda t: attributes_of(
            t.existing(session, path, follow_symlinks).entry.handle))

    def make_dir(self, session, path, attributes):
        permissions = attributes.mode & 0o7777 if attributes.HasField("mode") else 0o755
        self._run(lambda t: _create(t, session, path, S_IFDIR | permissions))

    def symlink(self, session, link_path, target):
        self._run(lambda t: _create(t, session, link_path, S_IFLNK | 0o777, target))

    def read_link(self, session, path):
        def read(t):
            inode = t.existing(session, path, False).entry.handle
            if not is_link(inode):
                raise BackendError(StatusCode.INVALID_ARGUMENT, "not a symbolic link")
            return inode.target
        return self._run(read)

    def real_path(self, session, path):
        return self._run(lambda t: t.walk(session, path, True).path)

    def remove_dir(self, session, path):
        def remove(t):
            found = t.existing(session, path, False)
            if found.parent is None:
                raise BackendError(StatusCode.PERMISSION_DENIED, "cannot remove the root")
            if not is_dir(found.entry.handle):
                raise BackendError(StatusCode.FAILED_PRECONDITION, "not a directory")
            t.lock(found.parent.id, found.entry.handle.id)
            inode = _same(t.child(found.parent.id, found.name), found.entry.handle)
            if t.has_children(inode.id):
                raise BackendError(StatusCode.FAILED_PRECONDITION, "directory not empty")
            t.unlink(found.parent.id, found.name, inode)
        self._run(remove)

    def remove(self, session, path):
        def remove(t):
            found = t.existing(session, path, False)
            if is_dir(found.entry.handle):
                raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
            t.lock(found.parent.id)
            inode = _same(t.child(found.parent.id, found.name), found.entry.handle)
            t.unlink(found.parent.id, found.name, inode)
        self._run(remove)

    def rename(self, session, from_path, to_path, overwrite):
        def rename(t):
            t.lock_renames()
            source = t.existing(session, from_path, False)
            target = t.walk(session, to_path, False)
            if source.parent is None or target.parent is None:
                raise BackendError(StatusCode.PERMISSION_DENIED, "cannot move the root")
            moving = source.entry.handle
            replaced = target.entry.handle if target.entry is not None else None
            lock_ids = [source.parent.id, target.parent.id]
            if replaced is not None and is_dir(replaced):
                lock_ids.append(replaced.id)  # Its emptiness must hold.
            t.lock(*lock_ids)
            moving = _same(t.child(source.parent.id, source.name), moving)
            now_there = t.child(target.parent.id, target.name)
            if (now_there is None) != (replaced is None) or (
                    replaced is not None and now_there.id != replaced.id):
                raise Retry()  # Changed since the walk: walk again.
            if replaced is not None:
                if replaced.id == moving.id:
                    return  # The same object under both names: no-op.
                if not overwrite:
                    raise BackendError(StatusCode.ALREADY_EXISTS, "target exists")
                _check_replace(t, moving, replaced)
            if is_dir(moving) and target.path.startswith(source.path + "/"):
                raise BackendError(StatusCode.INVALID_ARGUMENT,
                                   "cannot move a directory beneath itself")
            if replaced is not None:
                t.unlink(target.parent.id, target.name, replaced)
            t.move(source.parent.id, source.name, target.parent.id, target.name)
        self._run(rename)

    def set_stat(self, session, path, attributes):
        self._run(lambda t: _set_stat(t, session, path, attributes, True))

    def set_stat_no_follow(self, session, path, attributes):
        self._run(lambda t: _set_stat(t, session, path, attributes, False))

    def list_dir(self, session, path):
        return self.list_dir_after(session, path, "")

    def list_dir_after(self, session, path, start_after):
        # A server-side cursor streams the rows; the transaction (and its
        # connection) lives as long as the listing does.
        with self.pool.connection() as conn:
            try:
                with conn.cursor() as cur:
                    directory = Tree(cur, self.top).existing(session, path, True).entry.handle
                if not is_dir(directory):
                    raise BackendError(StatusCode.FAILED_PRECONDITION, "not a directory")
                with conn.cursor(name="sftpgate_list") as rows:
                    rows.itersize = 512
                    rows.execute(
                        "SELECT d.name, i.id, i.mode, i.uid, i.gid, i.size, i.atime, i.mtime, "
                        "i.nlink, i.target FROM sftpgate_dirents d "
                        "JOIN sftpgate_inodes i ON i.id = d.inode WHERE d.parent = %s "
                        # The contract's order, bytes of the name ("C"
                        # collation, not the database's locale): the front
                        # end resumes a broken listing after the last name.
                        "AND d.name > %s COLLATE \"C\" ORDER BY d.name COLLATE \"C\"",
                        (directory.id, start_after))
                    for row in rows:
                        yield pb.DirEntry(name=row[0], attributes=attributes_of(Inode(*row[1:])))
            finally:
                conn.rollback()

    # ---- Data. ----

    def open_read(self, session, path, offset):
        def open_(t):
            inode = t.existing(session, path, True).entry.handle
            if is_dir(inode):
                raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
            return inode.id
        return ChunkReader(self.pool, self._run(open_), offset)

    def open_write(self, session, header):
        # Create a missing session root in a short transaction of its own,
        # not in the upload's long one (it would hold the parent's lock).
        self._run(lambda t: t.root(session))
        return ChunkWriter(self, session, header)


def _same(now, seen):
    """`now` (looked up under lock) if it is still the inode `seen` (looked
    up before locking); otherwise the walk is stale: start over."""
    if now is None or now.id != seen.id:
        raise Retry()
    return now


def _create(t, session, path, mode, target=None):
    found = t.walk(session, path, False)
    if found.entry is not None:
        raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
    t.lock(found.parent.id)
    if t.child(found.parent.id, found.name) is not None:
        raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
    t.create(found.parent.id, found.name, mode, target)


def _check_replace(t, moving, replaced):
    """rename(2)'s rules for replacing an existing target."""
    if is_dir(replaced):
        if not is_dir(moving):
            raise BackendError(StatusCode.FAILED_PRECONDITION, "target is a directory")
        if t.has_children(replaced.id):
            raise BackendError(StatusCode.FAILED_PRECONDITION, "directory not empty")
    elif is_dir(moving):
        raise BackendError(StatusCode.FAILED_PRECONDITION, "target is not a directory")


def _set_stat(t, session, path, attributes, follow):
    inode = t.existing(session, path, follow).entry.handle
    inode = t.lock(inode.id)[inode.id]
    changes = {}
    for field in ("mode", "uid", "gid", "atime", "mtime"):
        if attributes.HasField(field):
            changes[field] = getattr(attributes, field)
    if "mode" in changes:
        changes["mode"] = (inode.mode & ~0o7777) | (changes["mode"] & 0o7777)
    if attributes.HasField("size"):
        if is_dir(inode) or is_link(inode):
            raise BackendError(StatusCode.INVALID_ARGUMENT, "size applies to files only")
        _truncate(t, inode.id, attributes.size)
        changes["size"] = attributes.size
        changes.setdefault("mtime", t.now)
    if changes:
        fields = sorted(changes)
        t.cur.execute("UPDATE sftpgate_inodes SET %s WHERE id = %%s"
                      % ", ".join("%s = %%s" % f for f in fields),
                      [changes[f] for f in fields] + [inode.id])


def _truncate(t, inode_id, size):
    """Drops the bytes at and after `size` (extending needs nothing: missing
    bytes read as zeros)."""
    last, keep = divmod(size, CHUNK_SIZE)
    if keep == 0:  # `size` ends on a chunk boundary: chunk `last` goes too.
        t.cur.execute("DELETE FROM sftpgate_chunks WHERE inode = %s AND idx >= %s",
                      (inode_id, last))
        return
    t.cur.execute("DELETE FROM sftpgate_chunks WHERE inode = %s AND idx > %s", (inode_id, last))
    t.cur.execute("UPDATE sftpgate_chunks SET data = substring(data FROM 1 FOR %s) "
                  "WHERE inode = %s AND idx = %s AND length(data) > %s",
                  (keep, inode_id, last, keep))
