#!/usr/bin/python3
"""sftpgate storage backend on PostgreSQL.

    pg_backend.py --listen 127.0.0.1:7000 --dsn "host=/run/postgresql dbname=sftpgate"

Creates its tables on first start (schema in sftpgate_pg/schema.py). Needs
the Python SDK and the generated stubs on PYTHONPATH (the launcher
BUILD/bin/sftpgate-postgres-backend sets it) and Debian's python3-psycopg2.
"""

import logging
import sys

import sftpgate_sdk as sdk
from sftpgate_pg import PostgresBackend


def main():
    parser = sdk.cli.ArgumentParser(description="sftpgate backend on PostgreSQL")
    parser.add_argument("--listen", default="127.0.0.1:7000",
                        help="host:port (port 0: any free port) or unix:/path")
    parser.add_argument("--dsn", required=True,
                        help="libpq connection string, e.g. 'host=/tmp port=5432 dbname=x'")
    parser.add_argument("--pool-size", type=int, default=32,
                        help="most database connections (each open upload holds one)")
    parser.add_argument("--workers", type=int, default=64,
                        help="worker threads (calls and open streams at once)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        backend = PostgresBackend(args.dsn, pool_size=args.pool_size)
    except (sdk.BackendError, RuntimeError) as exc:
        print("postgres backend: cannot start: %s" % exc, file=sys.stderr)
        return 1
    sdk.serve(backend, listen=args.listen, max_workers=args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
