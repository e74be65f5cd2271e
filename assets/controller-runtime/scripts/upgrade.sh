#!/usr/bin/env bash
# upgrade.sh - `make upgrade`: the guide's in-place controller upgrade. Refuses while X-Spot
# containers run on this node (drain it first: bin/drain.sh --no-lifecycle) unless --force
# (make upgrade FORCE=1); then installs the packages at the versions env.cfg now names (upgrading
# or downgrading; controller.sh), installs the configuration (install-config.sh), and restarts
# X-Spot when packages changed. Next, as the guide: make sync-config-preview, make sync-config,
# make deploy, systemctl restart post-docker; then make check promote-images.
# Usage: upgrade.sh [--force]
# Log: /var/log/xspot-cdk/upgrade.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log upgrade "$@"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) die "usage: upgrade.sh [--force]" ;;
esac

load_checked_config
n="$(running_containers)"
if [ "$n" -gt 0 ]; then
  if [ "$force" = 0 ]; then
    die "$n X-Spot container(s) are running: drain this node first (bin/drain.sh --no-lifecycle) or force it (make upgrade FORCE=1)"
  fi
  warn "$n container(s) are running; upgrading anyway (--force)"
fi

before="$(missing_packages "$XSPOT_RPM_VERSION" "$CLI_WRAPPER_VERSION" "$XSPOT_PLATFORM" "$XSPOT_GUEST_KERNEL")"
"$BASH" "$XSPOT_SCRIPTS/controller.sh" # packages, then install-config and the post-docker unit
if [ -n "$before" ]; then
  log "packages changed: restarting X-Spot"
  xspot restart
else
  log "packages were already at the configured versions"
fi
log "done; next, as the guide's upgrade: make sync-config-preview, make sync-config, make deploy, then systemctl restart post-docker (it builds the images for this release into a new folder when IMAGE_DEPLOY_DIR has none yet; make image-folder base build-image beforehand does the same by hand, make rebuild-image after a Dockerfile change), then make check promote-images"
