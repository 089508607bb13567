#!/usr/bin/python3
"""The Python SDK's in-memory example backend, instrumented for the
hostile tests:

- every upload's fate is appended to --events, one line each:
  "open_write ROOT PATH", "write ROOT PATH OFFSET LENGTH" (first and every
  64th chunk), "commit ROOT PATH SIZE", "abort ROOT PATH";
- a backend slower than the front end's deadline, chosen by the last
  component of the path: "slowstat*" sleeps --delay seconds in stat and
  listings, "slowread*" before each chunk read, "slowwrite*" before each
  chunk written, "slowcommit*" before committing;
- with --sequential, a backend that takes only sequential writes
  (Describe.random_write false), as object stores do.

Run with the SDK and its generated stubs on PYTHONPATH, plus
sample-backends/python-memory (for memory_backend):
    instrumented_backend.py --listen 127.0.0.1:PORT --events FILE
"""

import argparse
import logging
import posixpath
import threading
import time

import sftpgate_sdk as sdk
from memory_backend import MemoryBackend


class EventLog:
    """Appends lines to a file; thread-safe, flushed per line."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._file = open(path, "a", buffering=1)  # pylint: disable=consider-using-with

    def write(self, *fields):
        with self._lock:
            self._file.write(" ".join(str(f) for f in fields) + "\n")


def _is_slow(path, what):
    return posixpath.basename(path).startswith("slow" + what)


class _RecordingWriter(sdk.FileWriter):
    def __init__(self, inner, events, where, delay, commit_delay):
        self._inner = inner
        self._events = events
        self._where = where
        self._delay = delay
        self._commit_delay = commit_delay
        self._chunks = 0

    def write(self, offset, data):
        time.sleep(self._delay)
        if self._chunks % 64 == 0:
            self._events.write("write", *self._where, offset, len(data))
        self._chunks += 1
        self._inner.write(offset, data)

    def commit(self):
        time.sleep(self._commit_delay)
        size = self._inner.commit()
        self._events.write("commit", *self._where, size)
        return size

    def abort(self):
        self._events.write("abort", *self._where)
        self._inner.abort()


class _SlowReader(sdk.FileReader):
    def __init__(self, inner, delay):
        self._inner = inner
        self._delay = delay

    def read(self, max_bytes):
        time.sleep(self._delay)
        return self._inner.read(max_bytes)

    def close(self):
        self._inner.close()


class InstrumentedBackend(MemoryBackend):
    """MemoryBackend + the event log and the slow paths described above."""

    def __init__(self, events, delay, sequential):
        super().__init__()
        self._events = events
        self._delay = delay
        self._sequential = sequential

    def accepts_random_writes(self):
        return not self._sequential

    def _delay_for(self, path, what):
        return self._delay if _is_slow(path, what) else 0

    def stat(self, session, path, follow_symlinks):
        time.sleep(self._delay_for(path, "stat"))
        return super().stat(session, path, follow_symlinks)

    def list_dir(self, session, path):
        time.sleep(self._delay_for(path, "stat"))
        return super().list_dir(session, path)

    def open_read(self, session, path, offset):
        return _SlowReader(super().open_read(session, path, offset),
                           self._delay_for(path, "read"))

    def open_write(self, session, header):
        where = (session.root or "/", header.path)
        self._events.write("open_write", *where)
        return _RecordingWriter(super().open_write(session, header),
                                self._events, where,
                                self._delay_for(header.path, "write"),
                                self._delay_for(header.path, "commit"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--delay", type=float, default=30.0)
    parser.add_argument("--sequential", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s")
    backend = InstrumentedBackend(EventLog(args.events), args.delay,
                                  args.sequential)
    sdk.serve(backend, listen=args.listen)


if __name__ == "__main__":
    main()
