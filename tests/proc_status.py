"""Reading a process's /proc/PID/status, one way for every test and the
benchmark (memory bounds are checked and measured from these fields)."""


def status_kib(pid, field):
    """A `VmRSS:`-style field of /proc/PID/status, in KiB. Raises KeyError
    naming the field and the process when the kernel does not report it
    (e.g. a process that already exited into a zombie)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"no {field} in /proc/{pid}/status")
