"""The interface a storage backend implements in Python.

This mirrors the C++ SDK (backend-sdk/cpp/include/sftpgate/backend.h)
method for method, in snake_case. Serve an implementation with
sftpgate_sdk.serve(); the front end reaches it over gRPC.

Paths: every path handed to a Backend method is absolute and normalized
("/", "/a/b") and in the *session's view*: "/" means session.root inside the
backend (the servicer refuses other paths with INVALID_ARGUMENT before
calling you). An implementation must confine every path, and every symlink it
follows, beneath that root (see sftpgate_sdk.paths) and raise
BackendError(PERMISSION_DENIED) when a path would leave it.

Messages: `session` is a sftpgate.v1.Session, attributes are
sftpgate.v1.Attributes, listings yield sftpgate.v1.DirEntry, stat_fs
returns a sftpgate.v1.StatFsResponse, open_write gets a WriteHeader. They
are the generated protobuf classes, available as sftpgate_sdk.pb.

Errors: raise BackendError(grpc.StatusCode.X, "message"); see errors.py.

Thread safety: the servicer calls a Backend from many threads at once, for
many sessions, so every Backend method must be safe to call concurrently.
A FileReader or FileWriter is used by one thread at a time (never
concurrently) but not always the same thread.
"""

from .errors import BackendError, StatusCode

__all__ = ["Backend", "FileReader", "FileWriter", "Capabilities", "capabilities_of"]


def _unimplemented(what):
    raise BackendError(StatusCode.UNIMPLEMENTED, "%s is not supported" % what)


class FileReader:
    """Reads one file sequentially from the offset given to open_read."""

    def read(self, max_bytes):
        """Returns the next bytes of the file, at most `max_bytes` (> 0).

        Returns b"" at end of file; fewer bytes than asked do not mean end of
        file. Raises BackendError if the file cannot be read (the stream then
        ends with that status).
        """
        raise NotImplementedError

    def close(self):
        """Releases what the reader holds. Called exactly once, when the
        stream ends for any reason (EOF, error, cancellation)."""


class FileWriter:
    """Receives one upload. Bytes written are not visible to anyone until
    commit() succeeds. If the upload does not end in a successful commit
    (client vanished, stream cancelled, write failed), abort() is called and
    the upload must leave no trace."""

    def write(self, offset, data):
        """Writes `data` (bytes) at `offset`.

        Offsets are strictly sequential unless the backend's
        accepts_random_writes() is True, in which case they may come in any
        order and leave holes (read back as zeros). Raise BackendError (e.g.
        RESOURCE_EXHAUSTED when out of space) to fail the upload.
        """
        raise NotImplementedError

    def commit(self):
        """Makes the upload visible atomically; returns the file's size.

        Called at most once, after the last write. If it raises, the upload
        must be discarded as if aborted (abort() is not called afterwards)
        and the status reaches the client.
        """
        raise NotImplementedError

    def abort(self):
        """Discards the upload. Called at most once, instead of commit().
        Must not raise; must leave the path as it was before the upload."""
        raise NotImplementedError


class Backend:
    """The storage interface.

    The mandatory operations raise NotImplementedError here and must be
    overridden. The optional ones (symlink, read_link, link, real_path,
    stat_fs, set_stat_no_follow, usage) answer UNIMPLEMENTED unless
    overridden, and
    Describe reports exactly those a subclass overrides
    (capabilities_of()).
    """

    def name(self):
        """A short name and version for logs, e.g. "memory 1.0"."""
        return type(self).__name__

    def stat(self, session, path, follow_symlinks):
        """Returns the Attributes of `path`; with `follow_symlinks` False a
        final symlink is described itself (LSTAT). The mode must carry the
        file type bits. NOT_FOUND if `path` does not exist."""
        raise NotImplementedError

    def make_dir(self, session, path, attributes):
        """Creates directory `path` with the permission bits of
        attributes.mode (0755 when unset). NOT_FOUND if the parent is
        missing; ALREADY_EXISTS if `path` exists."""
        raise NotImplementedError

    def remove_dir(self, session, path):
        """Removes the empty directory `path`. NOT_FOUND if missing;
        FAILED_PRECONDITION if not empty or not a directory;
        PERMISSION_DENIED for "/"."""
        raise NotImplementedError

    def remove(self, session, path):
        """Removes the file or symlink `path` (never its target). NOT_FOUND
        if missing; FAILED_PRECONDITION for a directory."""
        raise NotImplementedError

    def rename(self, session, from_path, to_path, overwrite):
        """Moves `from_path` (file, symlink or whole directory tree) to
        `to_path`. NOT_FOUND if `from_path` or the parent of `to_path` is
        missing. When `to_path` exists: ALREADY_EXISTS unless `overwrite`;
        with `overwrite`, replaces it as rename(2) does
        (FAILED_PRECONDITION for a non-empty directory or a file/directory
        mismatch). INVALID_ARGUMENT when moving a directory beneath itself.
        from == to succeeds and changes nothing."""
        raise NotImplementedError

    def set_stat(self, session, path, attributes):
        """Changes the attributes set in `attributes`: mode (permission
        bits), uid/gid, atime/mtime, size (truncate or extend with zeros). A
        final symlink is followed. NOT_FOUND if missing."""
        raise NotImplementedError

    def list_dir(self, session, path):
        """Yields a DirEntry (name + LSTAT attributes) for every entry of
        directory `path`, without "." and "..". NOT_FOUND if missing;
        FAILED_PRECONDITION if not a directory.

        Write it as a generator. The servicer batches entries into messages
        and closes the generator (GeneratorExit at the yield) when the
        client goes away. Errors must be raised before the first entry
        where possible. Entries come in ascending order of name (code
        point order, which is the byte order of their UTF-8 the contract
        asks for), so that a broken listing can be resumed after the last
        name received (list_dir_after)."""
        raise NotImplementedError

    def list_dir_after(self, session, path, start_after):
        """list_dir resumed: only the entries whose name sorts after
        `start_after` (which need not exist). Serves
        ListDirRequest.start_after. This default runs list_dir and passes on
        the names after `start_after`, exact because list_dir lists in name
        order; override it to seek there instead."""
        entries = iter(self.list_dir(session, path))
        try:
            for entry in entries:
                if entry.name > start_after:
                    yield entry
        finally:
            close = getattr(entries, "close", None)
            if close is not None:
                close()

    def open_read(self, session, path, offset):
        """Returns a FileReader positioned at byte `offset` (which may be
        past EOF: the reader then returns b"" at once). NOT_FOUND if
        missing; FAILED_PRECONDITION if a directory."""
        raise NotImplementedError

    def open_write(self, session, header):
        """Begins an upload described by `header` (a WriteHeader: path,
        flags, attributes for a new file) and returns a FileWriter.

        Errors the header alone decides are raised here: NOT_FOUND (missing
        without FLAG_CREATE, or missing parent), ALREADY_EXISTS
        (FLAG_EXCLUSIVE), FAILED_PRECONDITION (a directory),
        PERMISSION_DENIED (read-only session). Without FLAG_TRUNCATE the
        committed file starts from the existing contents."""
        raise NotImplementedError

    def accepts_random_writes(self):
        """True when writers accept chunks at any offset, in any order; the
        front end otherwise sends strictly sequential chunks."""
        return False

    # ---- Optional operations: UNIMPLEMENTED unless overridden. ----

    def symlink(self, session, link_path, target):
        """Creates a symlink at `link_path` containing `target` verbatim.
        ALREADY_EXISTS if `link_path` exists."""
        _unimplemented("symlink")

    def read_link(self, session, path):
        """Returns the stored target (str) of symlink `path`. NOT_FOUND if
        missing; INVALID_ARGUMENT if `path` is not a symlink."""
        _unimplemented("readlink")

    def link(self, session, existing_path, new_path):
        """Makes `new_path` another name of file `existing_path`. NOT_FOUND
        if missing; ALREADY_EXISTS if `new_path` exists;
        FAILED_PRECONDITION for a directory."""
        _unimplemented("hard links")

    def real_path(self, session, path):
        """Returns `path` (str) with every symlink resolved, in the
        session's view. The last component need not exist."""
        _unimplemented("realpath")

    def stat_fs(self, session, path):
        """Returns a StatFsResponse with statvfs(3)-style figures for the
        filesystem holding `path`."""
        _unimplemented("statvfs")

    def set_stat_no_follow(self, session, path, attributes):
        """set_stat on a symlink itself (lsetstat@openssh.com)."""
        _unimplemented("lsetstat")

    def usage(self, session):
        """Returns a UsageResponse: the total size (bytes) and the number
        (files) of the regular files beneath the session's root, for
        per-user quotas. Uploads in progress are not counted. Without it,
        the front end refuses uploads of users with a quota."""
        _unimplemented("usage")

    def hash_algorithms(self):
        """The digest algorithms (pb.HashAlgorithm values, e.g.
        pb.HASH_SHA256) that `hash` serves, as Describe reports them. Only
        read when `hash` is overridden; empty (the default): `hash` is never
        called."""
        return ()

    def hash(self, session, path, algorithm, offset, length, block_size):
        """Returns digests (a list of bytes objects) of `path`'s bytes that
        the backend can give without the front end reading the file
        (stored at upload, kept with the contents, computed where the data
        lives): one per `block_size` bytes of the range that starts at
        `offset` and spans `length` bytes (0: to end of file; a range past
        end of file is cut there), the last block possibly shorter; exactly
        one when `block_size` is 0 (for an empty range, the digest of no
        bytes). Called only for an `algorithm` hash_algorithms lists, and
        only after a stat of the same path. Raise
        BackendError(StatusCode.UNIMPLEMENTED) for a request it cannot
        answer cheaply (a range, blocks, no stored digest): the front end
        then reads and hashes the file itself. NOT_FOUND if missing;
        FAILED_PRECONDITION if not a regular file."""
        _unimplemented("hash")


class Capabilities:
    """Which optional operations a backend serves (reported by Describe)."""

    __slots__ = ("symlinks", "hard_links", "stat_fs", "real_path", "set_stat_no_follow",
                 "usage", "hash")

    def __init__(self, symlinks=False, hard_links=False, stat_fs=False, real_path=False,
                 set_stat_no_follow=False, usage=False, hash=False):  # pylint: disable=redefined-builtin
        self.symlinks = symlinks
        self.hard_links = hard_links
        self.stat_fs = stat_fs
        self.real_path = real_path
        self.set_stat_no_follow = set_stat_no_follow
        self.usage = usage
        self.hash = hash

    def __repr__(self):
        return "Capabilities(%s)" % ", ".join(
            "%s=%s" % (name, getattr(self, name)) for name in self.__slots__)


def _overrides(backend, method):
    """True when the class of `backend` (or a class between it and Backend)
    defines `method` itself, i.e. does not inherit Backend's default."""
    return getattr(type(backend), method) is not getattr(Backend, method)


def capabilities_of(backend):
    """Detects the optional methods `backend`'s class overrides. Symlinks
    need both symlink and read_link."""
    return Capabilities(
        symlinks=_overrides(backend, "symlink") and _overrides(backend, "read_link"),
        hard_links=_overrides(backend, "link"),
        stat_fs=_overrides(backend, "stat_fs"),
        real_path=_overrides(backend, "real_path"),
        set_stat_no_follow=_overrides(backend, "set_stat_no_follow"),
        usage=_overrides(backend, "usage"),
        hash=_overrides(backend, "hash"),
    )
