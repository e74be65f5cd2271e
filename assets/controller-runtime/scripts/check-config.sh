#!/usr/bin/env bash
# check-config.sh - `make check-config`: load deploy.env, conf/env.cfg and conf/runtime.env and
# report every value that is not allowed (each step runs the same check before it acts).
# Usage: check-config.sh
# Log: /var/log/xspot-cdk/check-config.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log check-config "$@"

load_checked_config
log "OK: release $XSPOT_RUNTIME_VERSION, REMOTE_DIR=$REMOTE_DIR, images: ${IMAGE_NAME_LIST[*]}," \
  "xspot $XSPOT_RPM_VERSION, CLI wrapper $CLI_WRAPPER_VERSION, platform $XSPOT_PLATFORM," \
  "$MAX_CONTAINERS containers x $CONTAINER_FS_SIZE"
