#!/usr/bin/env bash
# undrain.sh - put a controller drained with `drain.sh --no-lifecycle` back into service: runs
# XSPOT_UNDRAIN_COMMAND from conf/runtime.env (e.g. scontrol update nodename=$(hostname -s)
# state=resume). Nothing to do when it is empty.
# Usage: undrain.sh
# Log: /var/log/xspot-cdk/drain.log
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
XSPOT_STEP=undrain
with_log drain "$@"

load_config
if [ -z "$XSPOT_UNDRAIN_COMMAND" ]; then
  log "no XSPOT_UNDRAIN_COMMAND configured: nothing to do"
  exit 0
fi
log "resuming: $XSPOT_UNDRAIN_COMMAND"
bash -c "$XSPOT_UNDRAIN_COMMAND" || die "undrain command failed"
log "done"
