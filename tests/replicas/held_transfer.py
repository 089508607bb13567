"""Transfers paused half-way with their backend stream open, so a test
knows which replica serves each one when it kills a replica.

A `HeldDownload` opens a big file and reads its first block: the front
end's read-ahead stream then stays open on one replica, held back by flow
control. A `HeldUpload` opens a new file and writes a first block: the
front end's write stream then stays open on one replica, which holds the
upload's hidden temporary file. Which replica it is shows in
/proc/PID/fd of the replicas (ReplicaGate.open_paths), as the one file
descriptor that appeared there.

`finish(to_end)` goes on with the transfer and returns (outcome, detail)
with the outcomes of session_worker. A download reads on to the end, or
with to_end=False one more block (enough to show its stream still serves;
reading 16 MiB through paramiko is slow); one that failed is resumed at
the same offset once (the front end starts a fresh stream on the next
READ) and `resumed` tells whether that worked with the right bytes. An
upload always writes the rest and closes, checking CLOSE's status.

Thread safety: main thread only.
"""

import os
import time

from session_worker import OK, CheckFailed, classify, close_checked

BLOCK = 256 * 1024
# The localfs backend writes uploads to an anonymous O_TMPFILE beside the
# target until commit (sample-backends/localfs/upload_staging.h): in
# /proc/PID/fd it reads "DIR/#INODE (deleted)"; on a filesystem without
# O_TMPFILE, a named file with this prefix.
TEMP_PREFIX = ".sftpgate-tmp-"


def is_upload_file(path, directory):
    """True when `path` (an open file of a localfs replica) is an upload
    in progress in `directory`."""
    name = os.path.basename(path)
    return os.path.dirname(path) == directory and (
        name.startswith(TEMP_PREFIX) or
        (name.startswith("#") and name.endswith(" (deleted)")))
FIND_SECONDS = 20.0


class HeldDownload:
    kind = "get"

    def __init__(self, sftp, path, content):
        self.sftp = sftp
        self.path = path
        self.content = content
        self.replica = None
        self.resumed = None
        self.file = sftp.open(path, "rb")
        first = self.file.read(BLOCK)
        if first != content[:BLOCK]:
            raise CheckFailed(f"{path}: first block differs")
        self.offset = len(first)

    def abandon(self):
        self.file.close()

    def finish(self, to_end=True):
        failure = None
        end = len(self.content) if to_end else self.offset + BLOCK
        while self.offset < end:
            try:
                block = self.file.read(BLOCK)
            except Exception as e:  # pylint: disable=broad-except
                if failure is not None:  # the resumed read failed too
                    self.resumed = False
                    return failure
                failure = classify(e)
                self.file.seek(self.offset)
                continue
            if block != self.content[self.offset:self.offset + len(block)]:
                return classify(CheckFailed(f"{self.path}: bytes at "
                                            f"{self.offset} differ"))
            if not block:
                return classify(CheckFailed(f"{self.path}: early EOF at "
                                            f"{self.offset}"))
            self.offset += len(block)
        self.file.close()  # (a read-only handle: nothing to commit)
        if failure is not None:
            self.resumed = True
            return failure
        return OK, ""


class HeldUpload:
    kind = "put"

    def __init__(self, sftp, path, content):
        self.sftp = sftp
        self.path = path
        self.content = content
        self.replica = None
        self.resumed = None
        self.file = sftp.open(path, "wb")
        self.file.write(content[:BLOCK])

    def abandon(self):
        self.file.close()

    def finish(self, to_end=True):
        del to_end  # an upload always completes
        try:
            self.file.write(self.content[BLOCK:])
            close_checked(self.file)
        except Exception as e:  # pylint: disable=broad-except
            return classify(e)
        return OK, ""


def locate(gate, start, matches):
    """Starts a transfer with `start()` and returns it with `.replica` set
    to the replica whose open files matching `matches(path)` grew by one.
    Fails if none did within FIND_SECONDS (the stream ended or never
    started)."""
    before = {i: sum(map(matches, gate.open_paths(i)))
              for i in range(gate.count)}
    transfer = start()
    deadline = time.monotonic() + FIND_SECONDS
    while time.monotonic() < deadline:
        grew = [i for i in range(gate.count)
                if sum(map(matches, gate.open_paths(i))) > before[i]]
        if len(grew) == 1:
            transfer.replica = grew[0]
            transfer.opens_before = before[grew[0]]
            return transfer
        if len(grew) > 1:
            raise RuntimeError(f"{transfer.path}: files opened on "
                               f"replicas {grew} at once")
        time.sleep(0.05)
    raise RuntimeError(f"{transfer.path}: no replica holds it open")


def abandon(gate, transfer, matches):
    """Abandons a transfer `locate` returned and waits until its replica
    has closed the file: the close is asynchronous, and a count taken
    before it would hide the next transfer opening the same file there."""
    transfer.abandon()
    deadline = time.monotonic() + FIND_SECONDS
    while (sum(map(matches, gate.open_paths(transfer.replica))) >
           transfer.opens_before):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{transfer.path}: replica {transfer.replica} "
                               f"kept it open after it was abandoned")
        time.sleep(0.05)
