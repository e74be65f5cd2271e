#!/usr/bin/env bash
# drain.sh - take this controller out of service without losing work or logs. Run by
# xspot-lifecycle-watch when the Auto Scaling target lifecycle state is `Terminated` (terminate
# lifecycle hook), and by `xspot-cdk fleet drain` (with --no-lifecycle) through SSM Run Command.
#   1. stops the scheduler sending jobs here: `scheduler-leave.sh close` when XSPOT_SCHEDULER
#      (conf/runtime.env) names one, else XSPOT_DRAIN_COMMAND (a site command, run by bash -c);
#      a failure is logged, not fatal;
#   2. waits until no X-Spot container runs (docker ps, filtered by XSPOT_CONTAINER_FILTER) or
#      the timeout passes, with a terminate-hook heartbeat every XSPOT_HEARTBEAT_SECONDS;
#   3. leaving for good (not --no-lifecycle): waits for the scheduler's jobs here within what is
#      left of the timeout, then removes the node (`scheduler-leave.sh wait`, `remove`); a node
#      whose jobs did not finish stays closed but registered;
#   4. final log sync to S3 (scripts/log-sync.sh);
#   5. complete-lifecycle-action CONTINUE on XSPOT_TERMINATE_HOOK (skipped with --no-lifecycle
#      or an empty hook name).
# Usage: drain.sh [--no-lifecycle] [--timeout SECONDS]   (default XSPOT_DRAIN_TIMEOUT_SECONDS)
# Log: /var/log/xspot-cdk/drain.log
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
XSPOT_STEP=drain
with_log drain "$@"

lifecycle=1
timeout=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-lifecycle) lifecycle=0 ;;
    --timeout)
      timeout="${2:?--timeout needs a number of seconds}"
      shift
      ;;
    *) die "usage: drain.sh [--no-lifecycle] [--timeout SECONDS]" ;;
  esac
  shift
done

# Draining must always end the lifecycle action: read the config, but do not stop on it.
load_config
if [ -n "$timeout" ] && ! [[ $timeout =~ $RE_INT ]]; then
  die "--timeout must be a whole number of seconds, got '$timeout'"
fi
timeout="${timeout:-$XSPOT_DRAIN_TIMEOUT_SECONDS}"
if ! [[ $timeout =~ $RE_INT ]]; then
  warn "XSPOT_DRAIN_TIMEOUT_SECONDS='$timeout' is not a number: waiting up to 3600s"
  timeout=3600
fi
if ! [[ $XSPOT_HEARTBEAT_SECONDS =~ $RE_INT ]]; then XSPOT_HEARTBEAT_SECONDS=300; fi
hook="$XSPOT_TERMINATE_HOOK"
if [ "$lifecycle" = 0 ]; then hook=""; fi
if [ -n "$hook" ]; then instance_id >/dev/null 2>&1 || warn "instance id unavailable from IMDS"; fi

scheduler="${XSPOT_SCHEDULER:-none}"
leave() { "$BASH" "$XSPOT_SCRIPTS/scheduler-leave.sh" "$@"; }
if [ "$scheduler" != none ]; then
  log "stopping new work: closing this controller in $scheduler"
  leave close || warn "scheduler-leave.sh close failed (exit $?): continuing"
elif [ -n "$XSPOT_DRAIN_COMMAND" ]; then
  log "stopping new work: $XSPOT_DRAIN_COMMAND"
  bash -c "$XSPOT_DRAIN_COMMAND" || warn "drain command failed (exit $?): continuing"
else
  log "no XSPOT_DRAIN_COMMAND configured: the scheduler is not told"
fi

start=$SECONDS
last_beat=$SECONDS
while :; do
  n="$(running_containers)"
  if [ "$n" -eq 0 ]; then
    log "no X-Spot containers running"
    break
  fi
  waited=$((SECONDS - start))
  if [ "$waited" -ge "$timeout" ]; then
    warn "$n container(s) still running after ${waited}s (timeout ${timeout}s): going on"
    break
  fi
  log "$n container(s) running; waiting (${waited}s of ${timeout}s)"
  if [ -n "$hook" ] && [ $((SECONDS - last_beat)) -ge "$XSPOT_HEARTBEAT_SECONDS" ]; then
    lifecycle_heartbeat "$hook"
    last_beat=$SECONDS
  fi
  sleep "$POLL_SECONDS"
done

if [ "$scheduler" != none ] && [ "$lifecycle" = 1 ]; then
  left=$((timeout - (SECONDS - start)))
  if [ "$left" -lt 0 ]; then left=0; fi
  if leave wait --timeout "$left"; then
    leave remove || warn "scheduler-leave.sh remove failed (exit $?): the node may linger in $scheduler"
  else
    warn "jobs still run here: the node stays closed but registered in $scheduler"
  fi
fi

log "final log sync"
"$BASH" "$XSPOT_SCRIPTS/log-sync.sh" || warn "final log sync failed"

if [ -n "$hook" ]; then
  lifecycle_complete "$hook" CONTINUE
else
  log "drained (no lifecycle action to complete)"
fi
