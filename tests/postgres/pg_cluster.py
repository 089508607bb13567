"""A throwaway PostgreSQL cluster for tests.

initdb into a fresh directory under the test's temp dir, then the
postmaster as a direct child of the test (so it dies with it, even on
SIGKILL) on a unix socket only (no TCP port), in the same temp dir. As root
everything runs as the `postgres` user (initdb refuses root); otherwise as
the current user. Stopped with a fast shutdown when the Stack unwinds.
"""

import glob
import os
import pwd
import re
import shutil
import signal
import time

import psycopg2

import backend_harness as h

DB_NAME = "sftpgate"


def _bin_dir():
    """The newest installed server's bin dir; a clear failure if none."""
    def version(path):
        return [int(x) for x in re.findall(r"\d+", path.split("/")[-3])]
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=version)
    if not candidates:
        raise SystemExit(
            "FAIL: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/"
            "postgres). Install them with scripts/setup (Debian package `postgresql`).")
    return os.path.dirname(candidates[-1])


def _as_postgres():
    """Command prefix that runs a program as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise SystemExit("FAIL: running as root but there is no `postgres` user to own "
                         "the test cluster (install the `postgresql` package)") from None
    # setpriv execs in place (no fork), and --pdeathsig survives the uid
    # change, so the postmaster still dies with the test.
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
            "--pdeathsig=KILL", "--"]


def start(stack):
    """Starts a cluster with database DB_NAME; returns its libpq DSN."""
    bin_dir = _bin_dir()
    prefix = _as_postgres()
    home = os.path.join(stack.tmp, "pg")
    os.mkdir(home, 0o700)
    if prefix:
        shutil.chown(home, "postgres", "postgres")
    data = os.path.join(home, "data")
    h.log("initdb (%s)" % bin_dir)
    proc = h.run(prefix + [os.path.join(bin_dir, "initdb"), "-D", data, "-A", "trust",
                           "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
                 timeout=300)
    if proc.returncode != 0:
        raise RuntimeError("initdb failed:\n%s%s" % (proc.stdout, proc.stderr))
    # A unix socket only (in `home`), no TCP port that another test could
    # take first; the "port" just names the socket file.
    server = stack.spawn("postgres", prefix + [
        os.path.join(bin_dir, "postgres"), "-D", data, "-p", "5432", "-k", home,
        "-c", "listen_addresses=", "-c", "fsync=off",
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=200"], stop_signal=signal.SIGINT)  # SIGINT: fast shutdown.
    base = "host=%s port=5432 user=postgres" % home
    _wait_ready(server, base + " dbname=postgres")
    conn = psycopg2.connect(base + " dbname=postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE %s ENCODING 'UTF8' TEMPLATE template0" % DB_NAME)
    finally:
        conn.close()
    h.log("postgres ready on %s" % home)
    return "%s dbname=%s" % (base, DB_NAME)


def _wait_ready(server, dsn, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        if server.popen.poll() is not None:
            raise RuntimeError("postgres exited with %s:\n%s"
                               % (server.popen.returncode, server.log_text()))
        try:
            psycopg2.connect(dsn, connect_timeout=2).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError("postgres not ready in %.0fs:\n%s"
                                   % (timeout, server.log_text())) from None
            time.sleep(0.1)
