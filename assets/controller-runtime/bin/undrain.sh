#!/usr/bin/env bash
# undrain.sh - put a controller drained with `drain.sh --no-lifecycle` back into service:
# `scheduler-join.sh` when XSPOT_SCHEDULER (conf/runtime.env) names a scheduler (it reopens a node
# that an earlier leave closed, and registers it again if it was removed), else
# XSPOT_UNDRAIN_COMMAND (a site command). Nothing to do when neither is set.
# Usage: undrain.sh
# Log: /var/log/xspot-cdk/drain.log
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
XSPOT_STEP=undrain
with_log drain "$@"

load_config
if [ "${XSPOT_SCHEDULER:-none}" != none ]; then
  log "resuming: scheduler-join.sh ($XSPOT_SCHEDULER)"
  "$BASH" "$XSPOT_SCRIPTS/scheduler-join.sh" || die "scheduler-join.sh failed"
  log "done"
  exit 0
fi
if [ -z "$XSPOT_UNDRAIN_COMMAND" ]; then
  log "no XSPOT_UNDRAIN_COMMAND configured: nothing to do"
  exit 0
fi
log "resuming: $XSPOT_UNDRAIN_COMMAND"
bash -c "$XSPOT_UNDRAIN_COMMAND" || die "undrain command failed"
log "done"
