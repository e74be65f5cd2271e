#!/usr/bin/env bash
# scheduler-join.sh - boot step `scheduler-join`: make this controller a member of the site's
# scheduler (XSPOT_SCHEDULER in conf/runtime.env; docs/scheduler.md, "Membership"). Runs after
# `check` (xspot check -f passed) and before the launch lifecycle action completes.
#   slurm       start slurmd as a dynamic node (slurmd -Z, CPUs = slots x launcher CPUs,
#               Feature=xspot) and wait until slurmctld lists it in service;
#   gridengine  add the execution host (complex_values slots=N) to the X-Spot host group,
#               enable its queue instances, start the execution daemon;
#   lsf         start the LSF daemons (a dynamic host) and open the host.
# Idempotent: a node that is already in service is left alone (a second run changes nothing);
# a node drained by an earlier leave is resumed.
# Usage: scheduler-join.sh
# Log: /var/log/xspot-cdk/scheduler-join.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scheduler-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/scheduler-lib.sh"
with_log scheduler-join "$@"

load_config
sched_load
if [ "$XSPOT_SCHEDULER" = none ]; then
  log "no scheduler configured (XSPOT_SCHEDULER=none): nothing to join"
  exit 0
fi
sched_call join
