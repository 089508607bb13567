"""The error type backends raise, and how other exceptions map to statuses.

A backend method fails by raising BackendError(code, message). The code is
sent to the front end as the gRPC status code and mapped to an SFTP status
by the table in proto/sftpgate/v1/backend.proto (NOT_FOUND -> "No such
file", ALREADY_EXISTS / FAILED_PRECONDITION -> "Failure" with the message,
...). Messages reach the client: keep them short and free of secrets.

For convenience the servicer also maps OSError by errno (a backend that
wraps a real filesystem can let FileNotFoundError etc. through). Any other
exception becomes INTERNAL with a generic message; its details go to the
log, never to the client.
"""

import errno

from grpc import StatusCode

__all__ = ["BackendError", "StatusCode", "status_of"]


class BackendError(Exception):
    """A failure with a gRPC status code and a client-visible message."""

    def __init__(self, code, message=""):
        if not isinstance(code, StatusCode) or code is StatusCode.OK:
            raise ValueError("BackendError needs a non-OK grpc.StatusCode")
        super().__init__(message or code.name)
        self.code = code
        self.message = message or code.name.lower().replace("_", " ")

    def __repr__(self):
        return "BackendError(%s, %r)" % (self.code.name, self.message)


_ERRNO_CODES = {
    errno.ENOENT: StatusCode.NOT_FOUND,
    errno.EACCES: StatusCode.PERMISSION_DENIED,
    errno.EPERM: StatusCode.PERMISSION_DENIED,
    errno.EROFS: StatusCode.PERMISSION_DENIED,
    errno.EEXIST: StatusCode.ALREADY_EXISTS,
    errno.ENOTEMPTY: StatusCode.FAILED_PRECONDITION,
    errno.ENOTDIR: StatusCode.FAILED_PRECONDITION,
    errno.EISDIR: StatusCode.FAILED_PRECONDITION,
    errno.ELOOP: StatusCode.FAILED_PRECONDITION,
    errno.EXDEV: StatusCode.FAILED_PRECONDITION,
    errno.EINVAL: StatusCode.INVALID_ARGUMENT,
    errno.ENAMETOOLONG: StatusCode.INVALID_ARGUMENT,
    errno.ENOSPC: StatusCode.RESOURCE_EXHAUSTED,
    errno.EDQUOT: StatusCode.RESOURCE_EXHAUSTED,
    errno.EFBIG: StatusCode.RESOURCE_EXHAUSTED,
    errno.ENOSYS: StatusCode.UNIMPLEMENTED,
    errno.EOPNOTSUPP: StatusCode.UNIMPLEMENTED,
}


def status_of(exc):
    """Returns (grpc.StatusCode, client-visible message) for an exception,
    or None when it is not one a backend reports on purpose (a bug)."""
    if isinstance(exc, BackendError):
        return exc.code, exc.message
    if isinstance(exc, OSError) and exc.errno in _ERRNO_CODES:
        # strerror only: the filename may be a backend-side path.
        return _ERRNO_CODES[exc.errno], exc.strerror or _ERRNO_CODES[exc.errno].name
    return None
