#!/usr/bin/env bash
# scheduler-state.sh - print this controller's scheduler membership as one line (read by
# `xspot-cdk fleet status` through SSM Run Command):
#   XSPOT-SCHEDULER scheduler=<slurm|gridengine|lsf|none> node=<name> state=<registered|draining|down|missing|unknown> jobs=<n>
# `unknown` means the scheduler's commands failed (e.g. the controller daemon is unreachable).
# Usage: scheduler-state.sh
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scheduler-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/scheduler-lib.sh"

load_config 2>/dev/null
sched_load
state=none
jobs=0
if [ "$XSPOT_SCHEDULER" != none ]; then
  state="$(sched_call membership 2>/dev/null)" || state=unknown
  [ -n "$state" ] || state=unknown
  jobs="$(sched_call running_jobs 2>/dev/null)" || jobs=0
fi
echo "XSPOT-SCHEDULER scheduler=$XSPOT_SCHEDULER node=$XSPOT_SCHED_NODE_NAME state=$state jobs=$jobs"
