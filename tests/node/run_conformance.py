#!/usr/bin/python3
"""ctest node_memory_conformance: sample-backends/node-memory (Node.js,
@grpc/grpc-js) passes the conformance suite. Installs its pinned npm
dependencies with `npm ci` first when node_modules is missing."""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import backend_harness as h  # noqa: E402

BACKEND_DIR = os.path.join(h.REPO, "sample-backends", "node-memory")


def ensure_dependencies():
    if os.path.isdir(os.path.join(BACKEND_DIR, "node_modules")):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("FAIL: npm not found; install nodejs and npm (scripts/setup)")
    h.log("npm ci in %s" % BACKEND_DIR)
    proc = h.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BACKEND_DIR, timeout=600)
    if proc.returncode != 0:
        raise SystemExit("FAIL: npm ci failed:\n%s%s" % (proc.stdout, proc.stderr))


if __name__ == "__main__":
    ensure_dependencies()
    sys.exit(h.conformance_main("node-memory-backend",
                                [h.binary("sftpgate-node-memory-backend")]))
