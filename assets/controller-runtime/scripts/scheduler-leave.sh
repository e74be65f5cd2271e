#!/usr/bin/env bash
# scheduler-leave.sh - take this controller out of the scheduler (docs/scheduler.md, "Membership").
#   close    stop new jobs coming here (Slurm: state=drain; Grid Engine: qmod -d on each X-Spot
#            queue instance; LSF: badmin hclose);
#   wait     wait until no job runs here or the timeout passes;
#   remove   remove the node (Slurm: stop slurmd, scontrol delete; Grid Engine: out of the host
#            group, qconf -de; LSF: nothing, a closed dynamic host goes when its daemons stop);
#   all      close, wait, remove (the default).
# bin/drain.sh runs close, then waits for jobs and containers with lifecycle heartbeats, then
# remove. A node with jobs still running after the timeout is closed but not removed.
# Usage: scheduler-leave.sh [close|wait|remove|all] [--timeout SECONDS]
# Log: /var/log/xspot-cdk/scheduler-leave.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scheduler-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/scheduler-lib.sh"
with_log scheduler-leave "$@"

action=all
timeout=""
while [ $# -gt 0 ]; do
  case "$1" in
    close | wait | remove | all) action="$1" ;;
    --timeout)
      timeout="${2:-}"
      shift
      ;;
    *) die "usage: scheduler-leave.sh [close|wait|remove|all] [--timeout SECONDS]" ;;
  esac
  shift
done

load_config
sched_load
timeout="${timeout:-$XSPOT_DRAIN_TIMEOUT_SECONDS}"
[[ $timeout =~ $RE_INT ]] || die "--timeout must be a whole number of seconds, got '$timeout'"
if [ "$XSPOT_SCHEDULER" = none ]; then
  log "no scheduler configured (XSPOT_SCHEDULER=none): nothing to leave"
  exit 0
fi

wait_jobs() {
  local n waited start=$SECONDS
  while :; do
    waited=$((SECONDS - start))
    n="$(sched_call running_jobs)"
    if [ "$n" -eq 0 ]; then
      log "no job runs on $XSPOT_SCHED_NODE_NAME"
      return 0
    fi
    if [ "$waited" -ge "$timeout" ]; then
      warn "$n job(s) still run on $XSPOT_SCHED_NODE_NAME after ${waited}s (timeout ${timeout}s)"
      return 1
    fi
    log "$n job(s) run on $XSPOT_SCHED_NODE_NAME; waiting (${waited}s of ${timeout}s)"
    sleep "$POLL_SECONDS"
  done
}

case "$action" in
  close)
    log "closing $XSPOT_SCHED_NODE_NAME to new jobs"
    sched_call close
    ;;
  wait) wait_jobs ;;
  remove) sched_call remove ;;
  all)
    log "closing $XSPOT_SCHED_NODE_NAME to new jobs"
    sched_call close
    if wait_jobs; then
      sched_call remove
    else
      warn "$XSPOT_SCHED_NODE_NAME stays closed but registered: its jobs did not finish"
      exit 2
    fi
    ;;
esac
