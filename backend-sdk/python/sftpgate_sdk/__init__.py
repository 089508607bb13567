"""sftpgate backend SDK for Python.

Write a storage backend for sftpgate by subclassing Backend and serving it:

    import sftpgate_sdk as sdk

    class MyBackend(sdk.Backend):
        def stat(self, session, path, follow_symlinks): ...
        ...

    sdk.serve(MyBackend(), listen="127.0.0.1:7000")

The messages (Session, Attributes, DirEntry, WriteHeader, ...) are the
generated protobuf classes of proto/sftpgate/v1/backend.proto, as
sftpgate_sdk.pb. See docs/backend-guide.md.
"""

from . import cli, paths, resolve
from .backend import Backend, Capabilities, FileReader, FileWriter, capabilities_of
from .errors import BackendError, StatusCode
from .proto import pb
from .server import (BackendServer, ServeOptions, add_listener_arguments, add_port,
                     listener_options, serve, start_server)
from .servicer import BackendServicer

# File type bits of Attributes.mode (POSIX S_IFMT values).
S_IFMT = 0o170000
S_IFREG = 0o100000
S_IFDIR = 0o040000
S_IFLNK = 0o120000

__all__ = [
    "Backend", "BackendError", "BackendServer", "BackendServicer", "Capabilities",
    "FileReader", "FileWriter", "ServeOptions", "StatusCode", "capabilities_of", "paths",
    "resolve",
    "pb", "serve", "start_server", "S_IFMT", "S_IFREG", "S_IFDIR", "S_IFLNK",
]
