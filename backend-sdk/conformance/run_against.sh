#!/usr/bin/env bash
# Starts a backend on 127.0.0.1 port 0, reads the address it got from its
# output ("listening on ADDRESS", as the SDKs print once bound), runs the
# conformance suite against it, stops it, and exits with the suite's
# status. Any backend, in any language, can be proved this way.
#
# Usage:
#   run_against.sh SUITE [SUITE_ARGS...] -- BACKEND_COMMAND [ARGS...]
#
# In BACKEND_COMMAND these placeholders are replaced:
#   {port}    0 (the backend binds a port of the kernel's choosing)
#   {addr}    127.0.0.1:0
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
#   STARTUP_TIMEOUT  seconds to wait for the backend's "listening on"
#                    line (default 30)
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

# Starts the backend on port 0 and reads the address it got from its
# "listening on ADDRESS" line (what the SDKs print once bound): no port is
# picked beforehand, so none can be taken by another process meanwhile.
start_backend() {
  local cmd=()
  for arg in "$@"; do
    arg=${arg//\{port\}/0}
    arg=${arg//\{addr\}/127.0.0.1:0}
    arg=${arg//\{tmpdir\}/$tmpdir}
    cmd+=("$arg")
  done
  echo "run_against: starting ${cmd[*]}" >&2
  "${cmd[@]}" >"$log" 2>&1 &
  backend_pid=$!
  local deadline=$((SECONDS + startup_timeout))
  while ((SECONDS < deadline)); do
    target=$(sed -n 's/^.*listening on \([^ ]*\).*$/\1/p' "$log" | head -n 1)
    [[ -n $target ]] && return 0
    if ! kill -0 "$backend_pid" 2>/dev/null; then
      wait "$backend_pid" 2>/dev/null
      echo "run_against: the backend exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run_against: the backend did not print 'listening on ADDRESS'" \
    "within ${startup_timeout}s" >&2
  return 1
}

if ! start_backend "$@"; then
  echo "run_against: the backend did not start; its output:" >&2
  cat "$log" >&2
  exit 1
fi

"$suite" --target "$target" "${suite_args[@]}"
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
