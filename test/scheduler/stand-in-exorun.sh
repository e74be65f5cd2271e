#!/bin/bash -p
# Stand-in for exorun in the scheduler tests: prints its arguments (one <arg> each) on a line
# starting EXORUN-ARGS, appends the same line with the job id to $STANDIN_LOG when that is set,
# copies the command's file (the saved job script) to $STANDIN_RECORD_DIR/<basename> when that
# variable is set, then runs the command after "--" with STANDIN_INSIDE_EXORUN=inside, so a
# test's payload can tell whether it ran through exorun or natively.
# Arguments: run -c N -m GB -i IMAGE -- COMMAND [ARGS...]
set -euo pipefail
line="EXORUN-ARGS$(printf ' <%s>' "$@")"
printf '%s\n' "${line}"
if [ -n "${STANDIN_LOG:-}" ]; then
  printf 'JOB<%s> %s\n' "${SLURM_JOB_ID:-${JOB_ID:-${LSB_JOBID:-?}}}" "${line}" >>"${STANDIN_LOG}"
fi
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ "$#" -gt 1 ] || { echo "stand-in exorun: no command after --" >&2; exit 2; }
shift
if [ -n "${STANDIN_RECORD_DIR:-}" ] && [ -f "$1" ]; then
  cp "$1" "${STANDIN_RECORD_DIR}/$(basename "$1")"
fi
export STANDIN_INSIDE_EXORUN=inside
exec "$@"
