#!/usr/bin/env bash
# bootstrap.sh - bring a controller from launch to InService (docs/controller-contract.md). Run by
# the launch template's userdata after it unpacked the runtime and config bundle into
# /opt/xspot-cdk/releases/<version>/. Runs these steps in order, each a Makefile target and each
# idempotent (so a second run changes nothing):
#   check-config lifecycle-watch mount-remote docker-storage controller imds-guard install-hooks submit-sshd
#   install-config deploy post-docker log-sync check promote-images scheduler-join
# (scheduler-join: the controller becomes a member of the site's scheduler once xspot check -f
# passed, before the launch lifecycle action completes; docs/scheduler.md, "Membership".)
# Sends a launch lifecycle heartbeat every XSPOT_HEARTBEAT_SECONDS meanwhile. On success:
# complete-lifecycle-action CONTINUE, then the CloudFormation creation signal SUCCESS. When step S
# fails: tag the instance xspot:bootstrap-failed-step=S, print `XSPOT-BOOTSTRAP-FAILED step=S` to
# the console, send the creation signal FAILURE naming S, flush the logs to S3,
# complete-lifecycle-action ABANDON, exit 1. An exit outside a step signals FAILURE too. With XSPOT_BOOTSTRAP_TIMEOUT_SECONDS > 0
# the whole bootstrap has that budget: a step still running when it is spent is stopped and
# fails (heartbeats would otherwise keep a hung boot pending indefinitely). With
# XSPOT_LAUNCH_HOOK empty (a hand-run bootstrap), no lifecycle call is made.
# Usage: bootstrap.sh
# Log: /var/log/xspot-cdk/bootstrap.log (each step also in /var/log/xspot-cdk/<step>.log)
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
XSPOT_STEP=bootstrap
with_log bootstrap "$@"

STEPS=(check-config lifecycle-watch mount-remote docker-storage controller imds-guard install-hooks submit-sshd install-config deploy post-docker log-sync check promote-images scheduler-join)

step_script() {
  case "$1" in
    lifecycle-watch) echo install-lifecycle-watch.sh ;;
    post-docker) echo start-post-docker.sh ;;
    log-sync) echo install-log-sync.sh ;;
    *) echo "$1.sh" ;;
  esac
}

load_config
exec 9>>"$LOG_DIR/.bootstrap.lock"
flock -n 9 || die "another bootstrap is running"
instance_id >/dev/null 2>&1 || warn "instance id unavailable from IMDS"

HB_PID=""
SLEEP_PID=""
heartbeat_loop() {
  trap 'if [ -n "$SLEEP_PID" ]; then kill "$SLEEP_PID" 2>/dev/null || true; fi; exit 0' TERM
  while :; do
    sleep "$XSPOT_HEARTBEAT_SECONDS" >/dev/null 2>&1 9>&- &
    SLEEP_PID=$!
    wait "$SLEEP_PID" || true
    log "lifecycle heartbeat"
    lifecycle_heartbeat "$XSPOT_LAUNCH_HOOK"
  done
}
start_heartbeats() {
  if [ -n "$XSPOT_LAUNCH_HOOK" ] && [ -n "$XSPOT_ASG_NAME" ]; then
    heartbeat_loop 9>&- &
    HB_PID=$!
  fi
}
stop_heartbeats() {
  if [ -n "$HB_PID" ]; then
    kill "$HB_PID" 2>/dev/null || true
    wait "$HB_PID" 2>/dev/null || true
    HB_PID=""
  fi
}

SIGNALLED=0
fail() {
  local step="$1" rc="$2"
  log "step $step: FAILED (exit $rc); details in /var/log/xspot-cdk/$step.log"
  stop_heartbeats
  tag_instance xspot:bootstrap-failed-step "$step"
  if [ -w "$CONSOLE" ]; then
    echo "XSPOT-BOOTSTRAP-FAILED step=$step" >>"$CONSOLE" || true
  fi
  echo "XSPOT-BOOTSTRAP-FAILED step=$step" >&2
  SIGNALLED=1
  cfn_signal FAILURE "$step"
  "$BASH" "$XSPOT_SCRIPTS/log-sync.sh" || warn "final log sync failed"
  lifecycle_complete "$XSPOT_LAUNCH_HOOK" ABANDON
  exit 1
}
on_exit() {
  local rc=$?
  stop_heartbeats
  if [ "$rc" -ne 0 ] && [ "$SIGNALLED" -eq 0 ]; then
    SIGNALLED=1
    cfn_signal FAILURE bootstrap
  fi
}
trap on_exit EXIT

# Time left for the rest of the bootstrap: the budget minus a minute for the failure report.
budget="$XSPOT_BOOTSTRAP_TIMEOUT_SECONDS"
if ! [[ $budget =~ $RE_INT ]]; then budget=0; fi
if [ "$budget" -gt 120 ]; then budget=$((budget - 60)); fi
remaining() { echo $((budget - SECONDS)); }

log "bootstrap of release $XSPOT_RUNTIME_VERSION: ${STEPS[*]}"
# the steps run install-config and post-docker themselves: `controller` leaves them to them
export XSPOT_IN_BOOTSTRAP=1
start_heartbeats
for step in "${STEPS[@]}"; do
  log "step $step: start"
  rc=0
  if [ "$budget" -gt 0 ]; then
    left="$(remaining)"
    if [ "$left" -le 0 ]; then
      log "step $step: no time left of the ${XSPOT_BOOTSTRAP_TIMEOUT_SECONDS}s bootstrap budget"
      fail "$step" 124
    fi
    timeout --kill-after=30 "$left" "$BASH" "$XSPOT_SCRIPTS/$(step_script "$step")" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      log "step $step: timed out (bootstrap budget ${XSPOT_BOOTSTRAP_TIMEOUT_SECONDS}s spent)"
    fi
  else
    "$BASH" "$XSPOT_SCRIPTS/$(step_script "$step")" || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then fail "$step" "$rc"; fi
  log "step $step: ok"
done
stop_heartbeats
log "all steps passed: the controller is ready"
lifecycle_complete "$XSPOT_LAUNCH_HOOK" CONTINUE
SIGNALLED=1
cfn_signal SUCCESS
