#!/usr/bin/env bash
# lifecycle-watch.sh - ExecStart of xspot-lifecycle-watch.service: poll IMDSv2
# latest/meta-data/autoscaling/target-lifecycle-state every XSPOT_WATCH_SECONDS (default 5) and,
# when it reads `Terminated`, run bin/drain.sh (which completes the terminate lifecycle action),
# then exit with drain.sh's status.
# Usage: lifecycle-watch.sh
# Log: /var/log/xspot-cdk/lifecycle-watch.log (and the journal)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=lifecycle-watch
with_log lifecycle-watch "$@"

load_config
log "watching the target lifecycle state"
last=""
while :; do
  state="$(imds_get autoscaling/target-lifecycle-state 2>/dev/null)" || state=""
  if [ "$state" != "$last" ]; then
    log "target lifecycle state: ${state:-unavailable}"
    last="$state"
  fi
  if [ "$state" = Terminated ]; then
    rc=0
    "$BASH" "$XSPOT_HOME/bin/drain.sh" || rc=$?
    exit "$rc"
  fi
  sleep "$WATCH_SECONDS"
done
