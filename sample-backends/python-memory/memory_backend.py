#!/usr/bin/python3
"""An in-memory sftpgate backend written with the Python SDK.

A complete example: directories, files, sizes, modes, times, renames,
symlinks, hard links, realpath, statvfs, lsetstat, random-offset writes and
whole-file digests (check-file, md5sum over exec), each session confined beneath its Session.root (created on first use).
Everything lives in one process and is lost when it exits.

    PYTHONPATH=backend-sdk/python:BUILD/python \
        /usr/bin/python3 sample-backends/python-memory/memory_backend.py \
        --listen 127.0.0.1:7000

Thread safety: one lock guards the whole tree; readers copy slices under
it, writers stage uploads privately and publish them under it.
"""

import hashlib
import logging
import threading
import time

import sftpgate_sdk as sdk
from sftpgate_sdk import BackendError, StatusCode, pb
from sftpgate_sdk.resolve import Entry, walk

_FLAGS = pb.WriteHeader


class _Inode:
    """A file, directory or symlink. Directories map name -> _Inode."""

    __slots__ = ("kind", "mode", "uid", "gid", "atime", "mtime", "nlink", "data",
                 "children", "target")

    def __init__(self, kind, permissions, uid=0, gid=0, target=None):
        now = int(time.time())
        self.kind = kind
        self.mode = kind | (permissions & 0o7777)
        self.uid, self.gid = uid, gid
        self.atime = self.mtime = now
        self.nlink = 1
        self.data = bytearray() if kind == sdk.S_IFREG else None
        self.children = {} if kind == sdk.S_IFDIR else None
        self.target = target

    def attributes(self):
        if self.kind == sdk.S_IFREG:
            size = len(self.data)
        elif self.kind == sdk.S_IFLNK:
            size = len(self.target.encode())
        else:
            size = 0
        nlink = self.nlink + (len([c for c in self.children.values()
                                   if c.kind == sdk.S_IFDIR]) + 1
                              if self.children is not None else 0)
        return pb.Attributes(size=size, uid=self.uid, gid=self.gid, mode=self.mode,
                             atime=self.atime, mtime=self.mtime, nlink=nlink)

    def touch(self):
        self.mtime = int(time.time())


def _lookup(directory, name):
    child = directory.children.get(name)
    if child is None:
        return None
    return Entry(child, is_dir=child.kind == sdk.S_IFDIR,
                 link_target=child.target if child.kind == sdk.S_IFLNK else None)


def _permissions(attributes, default):
    return attributes.mode & 0o7777 if attributes.HasField("mode") else default


def _apply(inode, attributes):
    """SetStat on one inode; size only for regular files."""
    if attributes.HasField("size"):
        if inode.kind != sdk.S_IFREG:
            raise BackendError(StatusCode.INVALID_ARGUMENT, "size applies to files only")
        size = attributes.size
        if size < len(inode.data):
            del inode.data[size:]
        else:
            inode.data.extend(bytes(size - len(inode.data)))
        inode.touch()
    if attributes.HasField("mode"):
        inode.mode = inode.kind | (attributes.mode & 0o7777)
    if attributes.HasField("uid"):
        inode.uid = attributes.uid
    if attributes.HasField("gid"):
        inode.gid = attributes.gid
    if attributes.HasField("atime"):
        inode.atime = attributes.atime
    if attributes.HasField("mtime"):
        inode.mtime = attributes.mtime


class MemoryBackend(sdk.Backend):
    """The whole tree in memory, under one lock."""

    CAPACITY = 1 << 34  # What statvfs reports; nothing enforces it.

    def __init__(self):
        self._lock = threading.Lock()
        self._top = _Inode(sdk.S_IFDIR, 0o755)

    def name(self):
        return "python-memory 1.0"

    def accepts_random_writes(self):
        return True

    # ---- Resolution (callers hold the lock). ----

    def _root(self, session):
        """The session's root directory, created (mkdir -p) if missing."""
        node = self._top
        for name in sdk.paths.path_components(session.root):
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = _Inode(sdk.S_IFDIR, 0o755)
            elif child.kind != sdk.S_IFDIR:
                raise BackendError(StatusCode.FAILED_PRECONDITION,
                                   "session root is not a directory")
            node = child
        return node

    def _walk(self, session, path, follow):
        return walk(self._root(session), path, _lookup, follow_final=follow)

    def _existing(self, session, path, follow):
        found = self._walk(session, path, follow)
        if found.entry is None:
            raise BackendError(StatusCode.NOT_FOUND, "no such file or directory")
        return found

    def _file(self, session, path):
        inode = self._existing(session, path, True).entry.handle
        if inode.kind == sdk.S_IFDIR:
            raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
        return inode

    def _create(self, session, path, inode):
        """Links new `inode` at `path`; ALREADY_EXISTS if taken."""
        found = self._walk(session, path, False)
        if found.entry is not None:
            raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
        found.parent.children[found.name] = inode
        found.parent.touch()

    # ---- Metadata. ----

    def stat(self, session, path, follow_symlinks):
        with self._lock:
            return self._existing(session, path, follow_symlinks).entry.handle.attributes()

    def make_dir(self, session, path, attributes):
        with self._lock:
            self._create(session, path,
                         _Inode(sdk.S_IFDIR, _permissions(attributes, 0o755)))

    def remove_dir(self, session, path):
        with self._lock:
            found = self._existing(session, path, False)
            if found.parent is None:
                raise BackendError(StatusCode.PERMISSION_DENIED, "cannot remove the root")
            inode = found.entry.handle
            if inode.kind != sdk.S_IFDIR:
                raise BackendError(StatusCode.FAILED_PRECONDITION, "not a directory")
            if inode.children:
                raise BackendError(StatusCode.FAILED_PRECONDITION, "directory not empty")
            del found.parent.children[found.name]
            found.parent.touch()

    def remove(self, session, path):
        with self._lock:
            found = self._existing(session, path, False)
            inode = found.entry.handle
            if inode.kind == sdk.S_IFDIR:
                raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
            del found.parent.children[found.name]
            inode.nlink -= 1
            found.parent.touch()

    def rename(self, session, from_path, to_path, overwrite):
        with self._lock:
            source = self._existing(session, from_path, False)
            target = self._walk(session, to_path, False)
            if source.parent is None or target.parent is None:
                raise BackendError(StatusCode.PERMISSION_DENIED, "cannot move the root")
            moving = source.entry.handle
            if target.entry is not None:
                if target.entry.handle is moving:
                    return  # Same object (same path or hard links): no-op.
                if not overwrite:
                    raise BackendError(StatusCode.ALREADY_EXISTS, "target exists")
                _check_replace(moving, target.entry.handle)
            if moving.kind == sdk.S_IFDIR and target.path.startswith(source.path + "/"):
                raise BackendError(StatusCode.INVALID_ARGUMENT,
                                   "cannot move a directory beneath itself")
            del source.parent.children[source.name]
            replaced = target.parent.children.get(target.name)
            if replaced is not None:
                replaced.nlink -= 1
            target.parent.children[target.name] = moving
            source.parent.touch()
            target.parent.touch()

    def set_stat(self, session, path, attributes):
        with self._lock:
            _apply(self._existing(session, path, True).entry.handle, attributes)

    def set_stat_no_follow(self, session, path, attributes):
        with self._lock:
            _apply(self._existing(session, path, False).entry.handle, attributes)

    def list_dir(self, session, path):
        return self.list_dir_after(session, path, "")

    def list_dir_after(self, session, path, start_after):
        # Names in code point order (= the UTF-8 byte order the contract
        # asks for), from a snapshot taken under the lock.
        with self._lock:
            directory = self._existing(session, path, True).entry.handle
            if directory.kind != sdk.S_IFDIR:
                raise BackendError(StatusCode.FAILED_PRECONDITION, "not a directory")
            entries = [pb.DirEntry(name=name, attributes=child.attributes())
                       for name, child in sorted(directory.children.items())
                       if name > start_after]
        yield from entries

    # ---- Optional operations. ----

    def symlink(self, session, link_path, target):
        with self._lock:
            self._create(session, link_path, _Inode(sdk.S_IFLNK, 0o777, target=target))

    def read_link(self, session, path):
        with self._lock:
            inode = self._existing(session, path, False).entry.handle
            if inode.kind != sdk.S_IFLNK:
                raise BackendError(StatusCode.INVALID_ARGUMENT, "not a symbolic link")
            return inode.target

    def link(self, session, existing_path, new_path):
        with self._lock:
            inode = self._existing(session, existing_path, False).entry.handle
            if inode.kind == sdk.S_IFDIR:
                raise BackendError(StatusCode.FAILED_PRECONDITION,
                                   "cannot hard-link a directory")
            self._create(session, new_path, inode)
            inode.nlink += 1

    def real_path(self, session, path):
        with self._lock:
            return self._walk(session, path, True).path

    def stat_fs(self, session, path):
        with self._lock:
            self._existing(session, path, True)
            used = _bytes_used(self._top)
        block = 4096
        free = max(self.CAPACITY - used, 0) // block
        return pb.StatFsResponse(block_size=block, fragment_size=block,
                                 blocks=self.CAPACITY // block, blocks_free=free,
                                 blocks_available=free, files=1 << 20,
                                 files_free=1 << 20, files_available=1 << 20,
                                 max_name_length=255)

    def usage(self, session):
        with self._lock:
            files, size = _files_beneath(self._root(session))
        return pb.UsageResponse(bytes=size, files=files)

    _DIGESTS = {pb.HASH_MD5: "md5", pb.HASH_SHA1: "sha1", pb.HASH_SHA256: "sha256",
                pb.HASH_SHA512: "sha512"}

    def hash_algorithms(self):
        return tuple(self._DIGESTS)

    def hash(self, session, path, algorithm, offset, length, block_size):
        # Whole files only: the front end hashes ranges and blocks itself.
        with self._lock:
            inode = self._file(session, path)
            if offset != 0 or block_size != 0 or 0 < length < len(inode.data):
                raise BackendError(StatusCode.UNIMPLEMENTED, "whole files only")
            data = bytes(inode.data)  # Hashed outside the lock.
        return [hashlib.new(self._DIGESTS[algorithm], data).digest()]

    # ---- Data. ----

    def open_read(self, session, path, offset):
        with self._lock:
            return _Reader(self._lock, self._file(session, path), offset)

    def open_write(self, session, header):
        with self._lock:
            found = self._walk(session, header.path, True)
            if found.entry is None:
                if not header.flags & _FLAGS.FLAG_CREATE:
                    raise BackendError(StatusCode.NOT_FOUND, "no such file")
                initial = b""
            else:
                if header.flags & _FLAGS.FLAG_EXCLUSIVE:
                    raise BackendError(StatusCode.ALREADY_EXISTS, "file exists")
                inode = found.entry.handle
                if inode.kind == sdk.S_IFDIR:
                    raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
                truncate = header.flags & _FLAGS.FLAG_TRUNCATE
                initial = b"" if truncate else bytes(inode.data)
            return _Writer(self, session, header, found.path, initial)

    def _publish(self, session, header, path, data):
        """Makes an upload visible at canonical `path`; returns its size."""
        with self._lock:
            found = self._walk(session, path, True)
            if found.entry is None:
                inode = _Inode(sdk.S_IFREG, _permissions(header.attributes, 0o644))
                found.parent.children[found.name] = inode
                found.parent.touch()
            else:
                inode = found.entry.handle
                if inode.kind == sdk.S_IFDIR:
                    raise BackendError(StatusCode.FAILED_PRECONDITION, "is a directory")
            inode.data = data
            inode.touch()
            return len(data)


def _check_replace(moving, replaced):
    """rename(2)'s rules for replacing an existing target."""
    if replaced.kind == sdk.S_IFDIR:
        if moving.kind != sdk.S_IFDIR:
            raise BackendError(StatusCode.FAILED_PRECONDITION, "target is a directory")
        if replaced.children:
            raise BackendError(StatusCode.FAILED_PRECONDITION, "directory not empty")
    elif moving.kind == sdk.S_IFDIR:
        raise BackendError(StatusCode.FAILED_PRECONDITION, "target is not a directory")


def _bytes_used(node):
    if node.kind == sdk.S_IFREG:
        return len(node.data)
    if node.kind == sdk.S_IFDIR:
        return sum(_bytes_used(child) for child in node.children.values())
    return 0


def _files_beneath(node):
    """(number, total size) of the regular files beneath directory `node`,
    a hard-linked file once per name (as the C++ memory backend counts)."""
    files = size = 0
    for child in node.children.values():
        if child.kind == sdk.S_IFREG:
            files, size = files + 1, size + len(child.data)
        elif child.kind == sdk.S_IFDIR:
            more_files, more_size = _files_beneath(child)
            files, size = files + more_files, size + more_size
    return files, size


class _Reader(sdk.FileReader):
    """Reads an inode's current bytes; keeps working after an unlink."""

    def __init__(self, lock, inode, offset):
        self._lock, self._inode, self._offset = lock, inode, offset

    def read(self, max_bytes):
        with self._lock:
            data = bytes(self._inode.data[self._offset:self._offset + max_bytes])
        self._offset += len(data)
        return data


class _Writer(sdk.FileWriter):
    """Stages an upload in a private buffer; commit publishes it."""

    def __init__(self, backend, session, header, path, initial):
        self._backend, self._session, self._header = backend, session, header
        self._path = path
        self._data = bytearray(initial)
        self._append = bool(header.flags & _FLAGS.FLAG_APPEND)

    def write(self, offset, data):
        if self._append:
            self._data += data
            return
        end = offset + len(data)
        if end > len(self._data):
            self._data.extend(bytes(end - len(self._data)))
        self._data[offset:end] = data

    def commit(self):
        return self._backend._publish(self._session, self._header, self._path, self._data)

    def abort(self):
        self._data = None


def main():
    parser = sdk.cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:7000",
                        help="host:port (port 0: any free port) or unix:/path")
    parser.add_argument("--workers", type=int, default=64,
                        help="worker threads (calls and open streams at once)")
    sdk.add_listener_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    sdk.serve(MemoryBackend(), options=sdk.ServeOptions(
        listen_address=args.listen, max_workers=args.workers,
        **sdk.listener_options(args)))


if __name__ == "__main__":
    main()
