#!/usr/bin/python3
"""The Python SDK's memory backend with slow paths, for the ops tests.

  - STAT of a file named "slow-S" (any directory) first sleeps S seconds
    (a float), so a test can keep requests in flight for as long as it
    likes. Concurrent slow STATs of one session are counted: STAT of
    "/peak" answers with size = the most that were ever in progress at
    once.
  - Uploads to a file whose name starts with "slow" sleep --write-delay
    seconds per written chunk, so a transfer lasts a while.
Everything else behaves as the memory backend.
"""

import argparse
import logging
import re
import threading
import time

import memory_backend
import sftpgate_sdk as sdk
from sftpgate_sdk import pb

_SLOW_STAT = re.compile(r"(^|/)slow-([0-9.]+)$")


class SlowBackend(memory_backend.MemoryBackend):
    def __init__(self, write_delay):
        super().__init__()
        self._write_delay = write_delay
        self._count_lock = threading.Lock()
        self._running = 0
        self._peak = 0

    def stat(self, session, path, follow_symlinks):
        if path == "/peak":
            with self._count_lock:
                return pb.Attributes(size=self._peak, mode=sdk.S_IFREG | 0o644)
        slow = _SLOW_STAT.search(path)
        if slow is None:
            return super().stat(session, path, follow_symlinks)
        with self._count_lock:
            self._running += 1
            self._peak = max(self._peak, self._running)
        try:
            time.sleep(float(slow.group(2)))
        finally:
            with self._count_lock:
                self._running -= 1
        return pb.Attributes(size=0, mode=sdk.S_IFREG | 0o644)

    def open_write(self, session, header):
        writer = super().open_write(session, header)
        if not path_name(header.path).startswith("slow"):
            return writer
        return _SlowWriter(writer, self._write_delay)


def path_name(path):
    return path.rsplit("/", 1)[-1]


class _SlowWriter(sdk.FileWriter):
    def __init__(self, inner, delay):
        self._inner, self._delay = inner, delay

    def write(self, offset, data):
        time.sleep(self._delay)
        self._inner.write(offset, data)

    def commit(self):
        return self._inner.commit()

    def abort(self):
        self._inner.abort()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--write-delay", type=float, default=0.02)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    sdk.serve(SlowBackend(args.write_delay), listen=args.listen, max_workers=64)


if __name__ == "__main__":
    main()
