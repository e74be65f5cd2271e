#!/usr/bin/env bash
# check.sh - boot step `check`: the guide's validation, `xspot check -f`; fails when it reports
# an error. This is the controller's health check: bin/bootstrap.sh lets the instance go
# InService only after it passes.
# Usage: check.sh
# Log: /var/log/xspot-cdk/check.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log check "$@"

load_checked_config
if ! xspot check -f; then
  die "xspot check -f failed"
fi
log "xspot check -f passed"
