"""Stopping child processes, one way for every test harness and the
benchmark: a polite signal, a bounded wait, then SIGKILL.

With group=True the signals go to the process's group (processes started
with start_new_session=True, e.g. a shell with its background jobs), and
whatever is left of the group after the wait is killed too.
"""

import os
import signal
import subprocess


def _send(proc, signum, group):
    try:
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_processes(procs, signum=signal.SIGTERM, timeout=10.0, group=False):
    """Sends `signum` to every process of `procs` still running (last
    started first), then waits up to `timeout` seconds for each; one that
    has not exited by then is killed. Returns the exit statuses in the
    order of `procs` (None for a process that had to be killed)."""
    procs = list(procs)
    for proc in reversed(procs):
        if proc.poll() is None:
            _send(proc, signum, group)
    codes = {}
    for proc in reversed(procs):
        try:
            codes[id(proc)] = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _send(proc, signal.SIGKILL, group)
            proc.wait()
            codes[id(proc)] = None
        if group:
            _send(proc, signal.SIGKILL, True)  # stragglers in the group
    return [codes[id(proc)] for proc in procs]


def stop_process(proc, signum=signal.SIGTERM, timeout=10.0, group=False):
    """stop_processes for one process: its exit status, or None if it had
    to be killed."""
    return stop_processes([proc], signum, timeout, group)[0]
