"""A client session doing a bounded loop of small SFTP work in a thread,
recording the outcome and timing of every operation.

One iteration, in the session's own directory:

    put      upload a small random file as up-N.part   (Write stream)
    rename   up-N.part -> f-N                          (Rename)
    stat     f-N, size checked                         (Stat)
    listdir  the directory, f-N must be listed         (ListDir)
    get      f-N, bytes checked                        (Stat + Read stream)
    realpath the directory                             (RealPath)
    readlink the session's symlink                     (ReadLink)
    remove   the previous iteration's f-(N-1)          (Remove)

After a failed operation the rest of the iteration is skipped (it depends
on what failed) and the next iteration starts with new names.

Thread safety: a worker's thread owns its SFTP session; the main thread
reads `ops`, `failed_puts` and `error` only after `join()`.
"""

import dataclasses
import os
import random
import threading
import time

import paramiko
from paramiko.sftp import CMD_CLOSE

# Operations that change nothing, so a replica going away must never fail
# them: gRPC retries the unary calls on UNAVAILABLE, and the front end
# itself resumes a Read or ListDir stream that broke part-way.
RETRYABLE = ("stat", "listdir", "realpath", "readlink", "get")
TRANSFERS = ("put", "get")
MODIFYING = ("rename", "remove")

# How an operation ended.
OK = "ok"
SFTP_ERROR = "sftp-error"  # the server answered with an SFTP status
HANG = "hang"  # no answer within the channel timeout
DROPPED = "dropped"  # the SSH connection or channel went away
WRONG = "wrong"  # answered OK with wrong data


@dataclasses.dataclass
class Op:
    session: int
    name: str
    start: float  # time.monotonic()
    end: float
    outcome: str
    detail: str = ""


class CheckFailed(Exception):
    """The server said OK but the result is wrong."""


def close_checked(f):
    """Closes paramiko SFTPFile `f`, raising IOError if the server answers
    CLOSE with an error.

    paramiko (2.12) ignores an error status on CLOSE, assuming the
    connection went away; but the CLOSE of an upload carries the backend's
    commit status (a write stream on a replica that died fails there), so
    an upload is only known to be stored once its CLOSE said OK.
    """
    f.flush()
    if f.pipelined:
        f.sftp._finish_responses(f)  # pylint: disable=protected-access
    f._closed = True  # pylint: disable=protected-access
    f.sftp._request(CMD_CLOSE, f.handle)  # pylint: disable=protected-access


def classify(exc):
    """(outcome, detail) of an exception raised by an SFTP operation."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, CheckFailed):
        return WRONG, detail
    if isinstance(exc, TimeoutError):  # socket.timeout
        return HANG, detail
    if isinstance(exc, (paramiko.SSHException, EOFError, ConnectionError)):
        return DROPPED, detail
    # paramiko raises IOError (OSError, or an errno subclass of it) for an
    # SFTP status other than OK.
    if isinstance(exc, OSError):
        return SFTP_ERROR, detail
    return DROPPED, detail


class SessionWorker(threading.Thread):
    """Runs iterations on `sftp` in `directory` until `stop` is set."""

    def __init__(self, index, sftp, directory, stop, rng_seed=None):
        super().__init__(name=f"session-{index}", daemon=True)
        self.index = index
        self.sftp = sftp
        self.dir = directory
        self.link = f"{directory}/link"
        self.stop = stop
        self.rng = random.Random(rng_seed if rng_seed is not None else index)
        self.ops = []
        # (remote path, payload) of every upload that failed: it must end
        # up absent or complete, never partial.
        self.failed_puts = []
        self.error = None  # an unexpected exception that ended the thread

    def prepare(self):
        """Creates the directory and the symlink readlink checks."""
        self.sftp.mkdir(self.dir)
        self.sftp.symlink("f-0", self.link)

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                self._iteration(n)
        except BaseException as e:  # pylint: disable=broad-except
            self.error = e

    def _iteration(self, n):
        payload = self.rng.randbytes(self.rng.randint(8 << 10, 48 << 10))
        part, final = f"{self.dir}/up-{n}.part", f"{self.dir}/f-{n}"

        def put():
            f = self.sftp.open(part, "wb")
            try:
                f.set_pipelined(True)
                f.write(payload)
            except BaseException:
                f.close()
                raise
            close_checked(f)

        def stat():
            size = self.sftp.stat(final).st_size
            if size != len(payload):
                raise CheckFailed(f"stat {final}: size {size}, "
                                  f"expected {len(payload)}")

        def listdir():
            names = self.sftp.listdir(self.dir)
            if f"f-{n}" not in names:
                raise CheckFailed(f"listdir {self.dir}: f-{n} missing")

        def get():
            with self.sftp.open(final, "rb") as f:
                data = f.read()
            if data != payload:
                raise CheckFailed(f"get {final}: {len(data)} bytes differ "
                                  f"from the {len(payload)} put")

        def realpath():
            if self.sftp.normalize(self.dir) != self.dir:
                raise CheckFailed(f"realpath {self.dir} changed it")

        def readlink():
            if self.sftp.readlink(self.link) != "f-0":
                raise CheckFailed(f"readlink {self.link}")

        steps = [("put", put),
                 ("rename", lambda: self.sftp.rename(part, final)),
                 ("stat", stat), ("listdir", listdir), ("get", get),
                 ("realpath", realpath), ("readlink", readlink)]
        if n > 1:
            steps.append(("remove",
                          lambda: self._remove_quietly(f"{self.dir}/f-{n-1}")))
        for name, step in steps:
            if self.stop.is_set():
                return
            if not self._record(name, step):
                if name == "put":
                    self.failed_puts.append((part, payload))
                return

    def _remove_quietly(self, path):
        # The previous rename may have failed (its file never existed).
        try:
            self.sftp.remove(path)
        except FileNotFoundError:
            pass

    def _record(self, name, step):
        start = time.monotonic()
        try:
            step()
            outcome, detail = OK, ""
        except Exception as e:  # pylint: disable=broad-except
            outcome, detail = classify(e)
        self.ops.append(Op(self.index, name, start, time.monotonic(), outcome,
                           detail))
        if outcome in (HANG, DROPPED):
            # The session is unusable: end the thread; the test reports it.
            raise RuntimeError(f"session {self.index}: {name}: {detail}")
        return outcome == OK
