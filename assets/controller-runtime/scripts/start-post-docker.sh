#!/usr/bin/env bash
# start-post-docker.sh - boot step `post-docker`: install and enable post-docker.service (runs
# post-docker.sh from /opt/xspot-cdk/current at every boot, after docker), then start it and wait
# for it - the guide's `systemctl start post-docker`, which can take 15 minutes; bin/bootstrap.sh
# sends lifecycle heartbeats meanwhile. Fails when the unit fails.
# Idempotent: the unit is rewritten only when it differs; starting an already started oneshot
# unit does nothing (use `systemctl restart post-docker` to reload images).
# --install-only: install and enable the unit without starting it (`make controller` does this, so
# that the guide's `make controller; systemctl start post-docker` works).
# Usage: start-post-docker.sh [--install-only]
# Log: /var/log/xspot-cdk/post-docker.log; the unit itself: journalctl -u post-docker
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=post-docker
with_log post-docker "$@"

install_only=0
case "${1:-}" in
  --install-only) install_only=1 ;;
  "") ;;
  *) die "usage: start-post-docker.sh [--install-only]" ;;
esac

load_checked_config
link_current
install_unit post-docker.service
daemon_reload_if_changed
enable_unit post-docker.service
if [ "$install_only" = 1 ]; then
  log "post-docker.service installed and enabled (systemctl start post-docker loads the images)"
  exit 0
fi
log "systemctl start post-docker (waits until every image is loaded)"
if ! systemctl start post-docker.service; then
  die "post-docker.service failed: journalctl -u post-docker"
fi
log "post-docker.service finished"
