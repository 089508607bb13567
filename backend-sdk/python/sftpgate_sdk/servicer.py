"""Adapts a Backend to the sftpgate.v1.Backend gRPC service.

What the servicer does so that backends need not (as the C++ host does):
- refuses a request without a session, a path that is not absolute and
  normalized or holds a NUL, a session root that is not normalized, and an
  empty symlink target (INVALID_ARGUMENT); an empty root reads "/";
- refuses modifying calls from a read-only session (PERMISSION_DENIED);
- batches listings, chunks reads (honoring offset, length and chunk_size),
  checks that uploads arrive in order unless the backend takes random
  writes, commits an upload on its commit message and aborts it otherwise;
- answers Describe from the optional methods the backend overrides (and
  the digest algorithms of `hash`), and answers UNIMPLEMENTED for a digest
  algorithm it did not list;
- turns BackendError / OSError into statuses, and any other exception into
  INTERNAL with a generic message (details go to the log only).

Thread safety: one servicer serves many concurrent calls; it keeps no
per-call state outside the handler frames.
"""

import functools
import logging

import grpc

from .backend import capabilities_of
from .errors import BackendError, StatusCode, status_of
from .paths import is_normalized_path
from .proto import pb, pb_grpc

__all__ = ["BackendServicer"]

_LOG = logging.getLogger("sftpgate_sdk")

_FLAG_APPEND = pb.WriteHeader.FLAG_APPEND


def _abort(context, exc):
    """Ends the call with the status `exc` stands for. Never returns."""
    status = status_of(exc)
    if status is None:
        # A bug in the backend: log it with its traceback, tell the client
        # nothing about it.
        _LOG.error("backend raised %s", type(exc).__name__, exc_info=exc)
        status = (StatusCode.INTERNAL, "internal backend error")
    context.abort(status[0], status[1])


def _handled(method):
    """Wraps a unary handler: exceptions become statuses."""

    @functools.wraps(method)
    def handler(self, request, context):
        try:
            return method(self, request, context)
        except Exception as exc:  # pylint: disable=broad-except
            _abort(context, exc)

    return handler


def _session_of(request):
    """The request's session, checked; an empty root reads "/"."""
    if not request.HasField("session"):
        raise BackendError(StatusCode.INVALID_ARGUMENT, "request has no session")
    session = request.session
    if not session.root:
        defaulted = pb.Session()
        defaulted.CopyFrom(session)
        defaulted.root = "/"
        return defaulted
    if not is_normalized_path(session.root):
        raise BackendError(StatusCode.INVALID_ARGUMENT, "session root is not normalized")
    return session


def _path(path):
    """`path`, checked: absolute, normalized, no NUL."""
    if "\0" in path:
        raise BackendError(StatusCode.INVALID_ARGUMENT, "path contains a NUL byte")
    if not is_normalized_path(path):
        raise BackendError(StatusCode.INVALID_ARGUMENT, "path is not absolute and normalized")
    return path


def _writable(session):
    if session.read_only:
        raise BackendError(StatusCode.PERMISSION_DENIED, "read-only session")
    return session


class BackendServicer(pb_grpc.BackendServicer):
    """Serves `backend` (an sftpgate_sdk.Backend) over gRPC."""

    def __init__(self, backend, preferred_chunk_size=256 * 1024,
                 max_chunk_size=1024 * 1024, list_batch_size=512, capabilities=None):
        if not 0 < preferred_chunk_size <= max_chunk_size:
            raise ValueError("need 0 < preferred_chunk_size <= max_chunk_size")
        if list_batch_size <= 0:
            raise ValueError("list_batch_size must be positive")
        self._backend = backend
        self._preferred_chunk = preferred_chunk_size
        self._max_chunk = max_chunk_size
        self._list_batch = list_batch_size
        self._caps = capabilities or capabilities_of(backend)
        # Read once, as the capabilities are: what Describe promised is
        # what Hash serves.
        self._hash_algorithms = (tuple(backend.hash_algorithms()) if self._caps.hash
                                 else ())

    # ---- Unary operations. ----

    @_handled
    def Describe(self, request, context):
        caps = self._caps
        return pb.DescribeResponse(
            name=self._backend.name(),
            symlinks=caps.symlinks,
            hard_links=caps.hard_links,
            stat_fs=caps.stat_fs,
            real_path=caps.real_path,
            random_write=bool(self._backend.accepts_random_writes()),
            set_stat_no_follow=caps.set_stat_no_follow,
            usage=caps.usage,
            preferred_chunk_size=self._preferred_chunk,
            max_chunk_size=self._max_chunk,
            max_list_batch=self._list_batch,
            hash_algorithms=self._hash_algorithms)

    @_handled
    def Stat(self, request, context):
        attributes = self._backend.stat(_session_of(request), _path(request.path),
                                        request.follow_symlinks)
        return pb.StatResponse(attributes=attributes)

    @_handled
    def MakeDir(self, request, context):
        self._backend.make_dir(_writable(_session_of(request)), _path(request.path),
                               request.attributes)
        return pb.MakeDirResponse()

    @_handled
    def RemoveDir(self, request, context):
        self._backend.remove_dir(_writable(_session_of(request)), _path(request.path))
        return pb.RemoveDirResponse()

    @_handled
    def Remove(self, request, context):
        self._backend.remove(_writable(_session_of(request)), _path(request.path))
        return pb.RemoveResponse()

    @_handled
    def Rename(self, request, context):
        # `from` is a Python keyword: read the field with getattr.
        self._backend.rename(_writable(_session_of(request)),
                             _path(getattr(request, "from")), _path(request.to),
                             request.overwrite)
        return pb.RenameResponse()

    @_handled
    def SetStat(self, request, context):
        session = _writable(_session_of(request))
        path = _path(request.path)
        if request.follow_symlinks:
            self._backend.set_stat(session, path, request.attributes)
        else:
            self._backend.set_stat_no_follow(session, path, request.attributes)
        return pb.SetStatResponse()

    @_handled
    def Symlink(self, request, context):
        if not request.target:
            raise BackendError(StatusCode.INVALID_ARGUMENT, "symlink target is empty")
        if "\0" in request.target:
            raise BackendError(StatusCode.INVALID_ARGUMENT,
                               "symlink target contains a NUL byte")
        # The target is stored verbatim: it is confined when followed.
        self._backend.symlink(_writable(_session_of(request)), _path(request.link_path),
                              request.target)
        return pb.SymlinkResponse()

    @_handled
    def ReadLink(self, request, context):
        target = self._backend.read_link(_session_of(request), _path(request.path))
        return pb.ReadLinkResponse(target=target)

    @_handled
    def Link(self, request, context):
        self._backend.link(_writable(_session_of(request)), _path(request.existing_path),
                           _path(request.new_path))
        return pb.LinkResponse()

    @_handled
    def RealPath(self, request, context):
        path = self._backend.real_path(_session_of(request), _path(request.path))
        return pb.RealPathResponse(path=path)

    @_handled
    def StatFs(self, request, context):
        return self._backend.stat_fs(_session_of(request), _path(request.path))

    @_handled
    def Usage(self, request, context):
        return self._backend.usage(_session_of(request))

    @_handled
    def Hash(self, request, context):
        session, path = _session_of(request), _path(request.path)
        if request.algorithm not in self._hash_algorithms:
            # The front end then hashes the file itself.
            raise BackendError(StatusCode.UNIMPLEMENTED, "digest algorithm not served")
        digests = self._backend.hash(session, path, request.algorithm, request.offset,
                                     request.length, request.block_size)
        return pb.HashResponse(digests=list(digests))

    # ---- Streaming operations. ----

    def ListDir(self, request, context):
        entries = None
        try:
            session, path = _session_of(request), _path(request.path)
            if request.start_after:
                entries = iter(self._backend.list_dir_after(session, path,
                                                            request.start_after))
            else:
                entries = iter(self._backend.list_dir(session, path))
            batch, batch_bytes = [], 0
            for entry in entries:
                batch.append(entry)
                # Also flush by size, so long names stay far from the
                # message size limit.
                batch_bytes += entry.ByteSize()
                if len(batch) >= self._list_batch or batch_bytes >= self._preferred_chunk:
                    yield pb.ListDirResponse(entries=batch)
                    batch, batch_bytes = [], 0
            if batch:
                yield pb.ListDirResponse(entries=batch)
        except Exception as exc:  # pylint: disable=broad-except
            _abort(context, exc)
        finally:
            # Closing the backend's generator runs its cleanup now, not at
            # garbage collection (GeneratorExit when the client went away).
            close = getattr(entries, "close", None)
            if close is not None:
                close()

    def Read(self, request, context):
        chunk = max(1, min(request.chunk_size or self._preferred_chunk, self._max_chunk))
        remaining = request.length or None  # None: up to end of file.
        offset = request.offset
        reader = None
        try:
            reader = self._backend.open_read(_session_of(request), _path(request.path),
                                             offset)
            while remaining is None or remaining > 0:
                want = chunk if remaining is None else min(chunk, remaining)
                data = reader.read(want)
                if not data:
                    break
                if len(data) > want:
                    raise RuntimeError("FileReader.read returned more than asked")
                yield pb.ReadChunk(offset=offset, data=data)
                offset += len(data)
                if remaining is not None:
                    remaining -= len(data)
        except Exception as exc:  # pylint: disable=broad-except
            _abort(context, exc)
        finally:
            if reader is not None:
                reader.close()

    def Write(self, request_iterator, context):
        writer = None
        try:
            first = next(request_iterator, None)
            if first is None or first.WhichOneof("kind") != "header":
                raise BackendError(StatusCode.INVALID_ARGUMENT,
                                   "the first write message must carry the header")
            session = _writable(_session_of(first))
            _path(first.header.path)
            writer = self._backend.open_write(session, first.header)
            if not self._receive_chunks(request_iterator, writer, first.header):
                # The stream ended without the commit message: cancelled or
                # cut off (gRPC may end the iterator before it reports the
                # cancel, so the end alone never commits). Discard.
                _abort_quietly(writer)
                writer = None
                if not context.is_active():
                    return pb.WriteResponse()  # never delivered
                raise BackendError(StatusCode.ABORTED,
                                   "upload ended without a commit")
            committing, writer = writer, None  # commit() replaces abort().
            return pb.WriteResponse(committed_size=committing.commit())
        except grpc.RpcError as exc:
            # Raised by the request iterator when the call was cancelled
            # (client gone, deadline, shutdown): no status to send, just
            # discard the upload. Re-raising that very error is quiet.
            _abort_quietly(writer)
            if context.is_active():  # Not a cancellation: the backend's own.
                _abort(context, exc)
            raise
        except Exception as exc:  # pylint: disable=broad-except
            _abort_quietly(writer)
            _abort(context, exc)

    def _receive_chunks(self, request_iterator, writer, header):
        """Feeds every chunk to `writer`, enforcing order when needed.
        Returns True when the stream ended with the commit message."""
        sequential = not self._backend.accepts_random_writes() and not (
            header.flags & _FLAG_APPEND)
        expected = header.offset
        committed = False
        for request in request_iterator:
            kind = request.WhichOneof("kind")
            if committed:
                raise BackendError(StatusCode.INVALID_ARGUMENT,
                                   "write message after commit")
            if kind == "commit":
                committed = True
                continue
            if kind != "chunk":
                raise BackendError(StatusCode.INVALID_ARGUMENT,
                                   "only the first write message may carry a header")
            chunk = request.chunk
            if sequential and chunk.offset != expected:
                raise BackendError(
                    StatusCode.INVALID_ARGUMENT,
                    "write at offset %d, expected %d: this backend takes sequential "
                    "writes only" % (chunk.offset, expected))
            if chunk.data:
                writer.write(chunk.offset, chunk.data)
            expected = chunk.offset + len(chunk.data)
        return committed


def _abort_quietly(writer):
    if writer is None:
        return
    try:
        writer.abort()
    except Exception:  # pylint: disable=broad-except
        _LOG.exception("FileWriter.abort raised (it must not)")
