#!/bin/sh
# ctest fixture: installs sample-backends/node-memory's pinned npm
# dependencies (package-lock.json) with `npm ci` when node_modules is
# missing. Usage: npm_ci_if_missing.sh BACKEND_DIR
set -eu
dir=$1
if [ -d "$dir/node_modules" ]; then
  echo "node_modules present in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "FAIL: npm not found (scripts/setup installs it)" >&2; exit 1; }
cd "$dir"
exec npm ci --no-audit --no-fund
