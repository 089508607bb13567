"""PostgreSQL connections: a blocking pool and transactions with retry.

psycopg2's own pools raise when empty; a backend under load should wait a
little for a connection instead, then answer UNAVAILABLE. Transactions run
at READ COMMITTED with explicit row locks (see backend.py); the races that
locking cannot order away (two creators of one name, a deadlock between
lock sets) surface as errors that a retry resolves, so transaction()
retries them.

Thread safety: Pool and transaction() are safe from any thread; one
connection is used by one thread at a time.
"""

import contextlib
import queue
import random
import threading
import time

import psycopg2
import psycopg2.errors

from sftpgate_sdk import BackendError, StatusCode

__all__ = ["Pool", "Retry", "RETRYABLE"]

# Conflicts with a concurrent transaction; running again gives the right
# answer (e.g. ALREADY_EXISTS once the other creator has committed).
RETRYABLE = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.UniqueViolation,
    psycopg2.errors.ForeignKeyViolation,
)


class Retry(Exception):
    """Raised inside a transaction when what it locked no longer matches
    what it looked up unlocked: roll back and start over."""


class Pool:
    """Up to `size` connections to `dsn`, opened on demand."""

    def __init__(self, dsn, size=32, acquire_timeout=30.0):
        self._dsn = dsn
        self._idle = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._acquire_timeout = acquire_timeout

    def _open(self):
        try:
            conn = psycopg2.connect(self._dsn)
        except psycopg2.OperationalError as exc:
            raise BackendError(StatusCode.UNAVAILABLE, "database unavailable") from exc
        conn.set_session(isolation_level="READ COMMITTED", autocommit=False)
        return conn

    @contextlib.contextmanager
    def connection(self):
        """Yields a connection with no transaction open; on exit the
        connection goes back to the pool (closed instead if it broke or a
        transaction was left open)."""
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise BackendError(StatusCode.UNAVAILABLE, "database busy: no free connection")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._open()
            yield conn
        except BaseException:
            if conn is not None:
                _discard(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                if conn.closed or conn.status != psycopg2.extensions.STATUS_READY:
                    _discard(conn)
                else:
                    self._idle.put(conn)
            self._slots.release()

    def transaction(self, fn, retries=8):
        """Runs fn(cursor) in one transaction and commits; returns its
        result. Retries on RETRYABLE errors and Retry with jittered backoff;
        a lost connection becomes UNAVAILABLE."""
        for attempt in range(retries + 1):
            try:
                with self.connection() as conn:
                    try:
                        with conn.cursor() as cur:
                            result = fn(cur)
                        conn.commit()
                        return result
                    except BaseException:
                        if not conn.closed:
                            conn.rollback()
                        raise
            except RETRYABLE + (Retry,):
                if attempt == retries:
                    raise BackendError(StatusCode.ABORTED,
                                       "too much contention, try again") from None
                time.sleep(random.uniform(0, 0.005 * (2 ** attempt)))
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                raise BackendError(StatusCode.UNAVAILABLE, "database unavailable") from exc
        raise AssertionError("unreachable")


def _discard(conn):
    try:
        conn.close()
    except psycopg2.Error:
        pass
