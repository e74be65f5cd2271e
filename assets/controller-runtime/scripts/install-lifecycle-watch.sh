#!/usr/bin/env bash
# install-lifecycle-watch.sh - boot step `lifecycle-watch`: point /opt/xspot-cdk/current at this
# release and install, enable and start xspot-lifecycle-watch.service, which runs bin/drain.sh
# when IMDS reports the Auto Scaling target lifecycle state `Terminated`. Runs first, so that
# even an instance whose bootstrap fails later is drained and released promptly.
# Usage: install-lifecycle-watch.sh
# Log: /var/log/xspot-cdk/lifecycle-watch.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=lifecycle-watch
with_log lifecycle-watch "$@"

load_checked_config
link_current
install_unit xspot-lifecycle-watch.service
daemon_reload_if_changed
enable_unit xspot-lifecycle-watch.service
start_unit xspot-lifecycle-watch.service
log "xspot-lifecycle-watch is running"
