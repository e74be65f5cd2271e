#!/bin/bash
# Stand-in for exorun in the scheduler tests: prints its arguments (one <arg> each) on a line
# starting EXORUN-ARGS, copies the command's file (the saved job script) to
# $STANDIN_RECORD_DIR/<basename> when that variable is set, then runs the command after "--".
# Arguments: run -c N -m GB -i IMAGE -- COMMAND [ARGS...]
set -euo pipefail
printf 'EXORUN-ARGS'
printf ' <%s>' "$@"
printf '\n'
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ "$#" -gt 1 ] || { echo "stand-in exorun: no command after --" >&2; exit 2; }
shift
if [ -n "${STANDIN_RECORD_DIR:-}" ] && [ -f "$1" ]; then
  cp "$1" "${STANDIN_RECORD_DIR}/$(basename "$1")"
fi
exec "$@"
