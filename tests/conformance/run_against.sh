#!/usr/bin/env bash
# Starts a backend on a free 127.0.0.1 port, waits until it listens, runs
# the conformance suite against it, stops it, and exits with the suite's
# status. Any backend, in any language, can be proved this way.
#
# Usage:
#   run_against.sh SUITE [SUITE_ARGS...] -- BACKEND_COMMAND [ARGS...]
#
# In BACKEND_COMMAND these placeholders are replaced:
#   {port}    the chosen free port
#   {addr}    127.0.0.1:{port}
#   {tmpdir}  a fresh empty directory, removed afterwards (e.g. a root for
#             a filesystem backend)
# SUITE_ARGS go to sftpgate-conformance (e.g. --filter '^write\.'); the
# script adds --target itself.
#
# Examples:
#   run_against.sh build/bin/sftpgate-conformance -- \
#       build/bin/sftpgate-memory-backend --listen {addr}
#   run_against.sh build/bin/sftpgate-conformance --filter symlinks -- \
#       build/bin/sftpgate-localfs-backend --root {tmpdir} --listen {addr}
#   run_against.sh build/bin/sftpgate-conformance -- \
#       /usr/bin/python3 my_backend.py --port {port}
#
# Environment:
#   STARTUP_TIMEOUT  seconds to wait for the backend to listen (default 30)
#   BACKEND_LOG      file for the backend's stdout/stderr (default: a temp
#                    file, printed when the suite fails)
set -uo pipefail

usage() {
  sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 3 ]] || usage
suite=$1
shift
suite_args=()
while [[ $# -gt 0 && $1 != "--" ]]; do
  suite_args+=("$1")
  shift
done
[[ $# -ge 2 && $1 == "--" ]] || usage
shift

startup_timeout=${STARTUP_TIMEOUT:-30}
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/conformance-backend.XXXXXX")
log=${BACKEND_LOG:-$tmpdir.log}
backend_pid=""

cleanup() {
  if [[ -n $backend_pid ]] && kill -0 "$backend_pid" 2>/dev/null; then
    kill -TERM "$backend_pid" 2>/dev/null
    # Give it a moment to shut down cleanly, then insist.
    for _ in $(seq 50); do
      kill -0 "$backend_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$backend_pid" 2>/dev/null
    wait "$backend_pid" 2>/dev/null
  fi
  rm -rf "$tmpdir"
  [[ -n ${BACKEND_LOG:-} ]] || rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts the backend on a fresh port; returns 1 if it exits before it
# listens (e.g. someone took the port in between) or never listens.
start_backend() {
  port=$(free_port) || return 1
  local cmd=()
  for arg in "$@"; do
    arg=${arg//\{port\}/$port}
    arg=${arg//\{addr\}/127.0.0.1:$port}
    arg=${arg//\{tmpdir\}/$tmpdir}
    cmd+=("$arg")
  done
  echo "run_against: starting ${cmd[*]}" >&2
  "${cmd[@]}" >"$log" 2>&1 &
  backend_pid=$!
  local deadline=$((SECONDS + startup_timeout))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$backend_pid" 2>/dev/null; then
      wait "$backend_pid" 2>/dev/null
      backend_pid=""
      return 1
    fi
    listening "$port" && return 0
    sleep 0.1
  done
  echo "run_against: backend did not listen on port $port within ${startup_timeout}s" >&2
  return 1
}

started=0
for _ in 1 2 3; do
  if start_backend "$@"; then
    started=1
    break
  fi
  [[ -n $backend_pid ]] && break  # still running but not listening
done
if [[ $started -ne 1 ]]; then
  echo "run_against: the backend did not start; its output:" >&2
  cat "$log" >&2
  exit 1
fi

"$suite" --target "127.0.0.1:$port" "${suite_args[@]}"
status=$?
if ! kill -0 "$backend_pid" 2>/dev/null; then
  echo "run_against: the backend exited during the run" >&2
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "run_against: backend output (last 50 lines):" >&2
  tail -n 50 "$log" >&2
fi
exit $status
