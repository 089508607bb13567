"""The directory tree inside one transaction: lookups, walks, locks, links.

Locking protocol (READ COMMITTED; every write path follows it):
- Adding or removing an entry of directory D happens with D's inode row
  locked FOR UPDATE, and the entry looked up again under that lock (what
  the unlocked walk saw may have changed meanwhile).
- Removing directory X locks X too (with its parent, in id order), so no
  entry can be added to X while it is found empty and deleted; a creator
  that locks X after that finds no row and starts over.
- Renames first take one database-wide advisory lock: only renames move
  directories, so while one runs the tree's ancestry is stable and the
  "not beneath itself" check needs no more locks.
Lock sets are taken in id order; a deadlock or a lost race surfaces as a
retryable error or Retry, and db.Pool.transaction() runs the whole
operation again.

Thread safety: a Tree wraps one cursor and belongs to the one thread that
runs the transaction.
"""

import collections
import time

from sftpgate_sdk import BackendError, StatusCode, pb
from sftpgate_sdk.paths import path_components
from sftpgate_sdk.resolve import Entry, walk

from .db import Retry
from .schema import LOCK_CLASS, RENAME_LOCK, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG

__all__ = ["Inode", "Tree"]

Inode = collections.namedtuple(
    "Inode", "id mode uid gid size atime mtime nlink target")

_COLUMNS = "i.id, i.mode, i.uid, i.gid, i.size, i.atime, i.mtime, i.nlink, i.target"


def is_dir(inode):
    return inode.mode & S_IFMT == S_IFDIR


def is_link(inode):
    return inode.mode & S_IFMT == S_IFLNK


def attributes_of(inode):
    return pb.Attributes(size=inode.size, uid=inode.uid, gid=inode.gid, mode=inode.mode,
                         atime=inode.atime, mtime=inode.mtime,
                         nlink=2 if is_dir(inode) else inode.nlink)


def _entry(inode):
    return Entry(inode, is_dir=is_dir(inode),
                 link_target=inode.target if is_link(inode) else None)


class Tree:
    """Tree operations on cursor `cur`; `top` is the top inode's id."""

    def __init__(self, cur, top):
        self.cur = cur
        self.top = top
        self.now = int(time.time())

    # ---- Reading. ----

    def inode(self, inode_id, lock=False):
        """The inode row, or None; FOR UPDATE when `lock`."""
        self.cur.execute("SELECT %s FROM sftpgate_inodes i WHERE i.id = %%s%s"
                         % (_COLUMNS, " FOR UPDATE" if lock else ""), (inode_id,))
        row = self.cur.fetchone()
        return Inode(*row) if row else None

    def child(self, parent_id, name):
        """The inode named `name` in directory `parent_id`, or None."""
        self.cur.execute(
            "SELECT %s FROM sftpgate_dirents d JOIN sftpgate_inodes i ON i.id = d.inode "
            "WHERE d.parent = %%s AND d.name = %%s" % _COLUMNS, (parent_id, name))
        row = self.cur.fetchone()
        return Inode(*row) if row else None

    def has_children(self, dir_id):
        self.cur.execute("SELECT 1 FROM sftpgate_dirents WHERE parent = %s LIMIT 1",
                         (dir_id,))
        return self.cur.fetchone() is not None

    def root(self, session):
        """The session's root directory, created (mkdir -p) if missing."""
        node = self.inode(self.top)
        for name in path_components(session.root):
            child = self.child(node.id, name)
            if child is None:
                self.lock(node.id)
                child = self.child(node.id, name)
                if child is None:
                    child = self.inode(self.create(node.id, name, S_IFDIR | 0o755))
            if not is_dir(child):
                raise BackendError(StatusCode.FAILED_PRECONDITION,
                                   "session root is not a directory")
            node = child
        return node

    def walk(self, session, path, follow):
        """sftpgate_sdk.resolve.walk from the session's root; entry handles
        are Inode rows."""
        return walk(self.root(session), path,
                    lambda directory, name: _maybe_entry(self.child(directory.id, name)),
                    follow_final=follow)

    def existing(self, session, path, follow):
        found = self.walk(session, path, follow)
        if found.entry is None:
            raise BackendError(StatusCode.NOT_FOUND, "no such file or directory")
        return found

    # ---- Locking. ----

    def lock(self, *inode_ids):
        """Locks the inode rows FOR UPDATE in id order; returns {id: Inode}.
        Raises Retry if one vanished since it was looked up."""
        locked = {}
        for inode_id in sorted(set(inode_ids)):
            inode = self.inode(inode_id, lock=True)
            if inode is None:
                raise Retry()
            locked[inode_id] = inode
        return locked

    def lock_renames(self):
        self.cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, RENAME_LOCK))

    # ---- Writing (callers hold the locks the protocol asks for). ----

    def create(self, parent_id, name, mode, target=None, inode_id=None):
        """Adds entry `name` to `parent_id` for a new inode of `mode` (or for
        the existing unlinked `inode_id`); touches the parent. Returns the
        inode id."""
        if inode_id is None:
            self.cur.execute(
                "INSERT INTO sftpgate_inodes (mode, atime, mtime, target) "
                "VALUES (%s, %s, %s, %s) RETURNING id", (mode, self.now, self.now, target))
            inode_id = self.cur.fetchone()[0]
        self.cur.execute("INSERT INTO sftpgate_dirents (parent, name, inode) VALUES (%s, %s, %s)",
                         (parent_id, name, inode_id))
        self.touch(parent_id)
        return inode_id

    def new_file(self, permissions):
        """An inode for a regular file that no entry names yet (a staging
        upload)."""
        self.cur.execute(
            "INSERT INTO sftpgate_inodes (mode, atime, mtime) VALUES (%s, %s, %s) RETURNING id",
            (S_IFREG | permissions, self.now, self.now))
        return self.cur.fetchone()[0]

    def unlink(self, parent_id, name, inode):
        """Removes entry `name` of `parent_id`, which names `inode`; frees
        the inode (and its chunks) when no name is left."""
        self.cur.execute("DELETE FROM sftpgate_dirents WHERE parent = %s AND name = %s",
                         (parent_id, name))
        self.release(inode)
        self.touch(parent_id)

    def release(self, inode):
        """Drops one link of `inode`, deleting it when none is left."""
        if inode.nlink <= 1 or is_dir(inode):
            self.cur.execute("DELETE FROM sftpgate_inodes WHERE id = %s", (inode.id,))
        else:
            self.cur.execute("UPDATE sftpgate_inodes SET nlink = nlink - 1 WHERE id = %s",
                             (inode.id,))

    def relink(self, parent_id, name, inode_id):
        """Points existing entry `name` of `parent_id` at `inode_id`."""
        self.cur.execute("UPDATE sftpgate_dirents SET inode = %s WHERE parent = %s AND name = %s",
                         (inode_id, parent_id, name))
        self.touch(parent_id)

    def move(self, from_parent, from_name, to_parent, to_name):
        self.cur.execute(
            "UPDATE sftpgate_dirents SET parent = %s, name = %s WHERE parent = %s AND name = %s",
            (to_parent, to_name, from_parent, from_name))
        self.touch(from_parent)
        self.touch(to_parent)

    def touch(self, inode_id):
        self.cur.execute("UPDATE sftpgate_inodes SET mtime = %s WHERE id = %s",
                         (self.now, inode_id))


def _maybe_entry(inode):
    return _entry(inode) if inode is not None else None
