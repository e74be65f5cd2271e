#!/usr/bin/env bash
# install-log-sync.sh - boot step `log-sync`: install xspot-log-sync.service (runs log-sync.sh)
# and xspot-log-sync.timer, with the period XSPOT_LOG_SYNC_MINUTES from deploy.env set through the
# drop-in xspot-log-sync.timer.d/period.conf (OnUnitActiveSec=<N>min); enable and start the timer.
# With XSPOT_LOG_BUCKET empty, the timer is stopped and disabled instead.
# Idempotent: unit files are written only when they differ.
# Usage: install-log-sync.sh
# Log: /var/log/xspot-cdk/log-sync.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=log-sync
with_log log-sync "$@"

load_checked_config
if [ -z "$XSPOT_LOG_BUCKET" ]; then
  if systemctl is-enabled --quiet xspot-log-sync.timer 2>/dev/null; then
    systemctl disable --now xspot-log-sync.timer
  fi
  log "XSPOT_LOG_BUCKET is empty: S3 log sync is off"
  exit 0
fi
[ "$XSPOT_LOG_SYNC_MINUTES" -ge 1 ] || die "XSPOT_LOG_SYNC_MINUTES must be at least 1"

link_current
install_unit xspot-log-sync.service
install_unit xspot-log-sync.timer
if write_if_changed "$UNIT_DIR/xspot-log-sync.timer.d/period.conf" 0644 <<EOT; then
# Installed by xspot-cdk from XSPOT_LOG_SYNC_MINUTES in /etc/xspot-cdk/deploy.env.
[Timer]
OnUnitActiveSec=
OnUnitActiveSec=${XSPOT_LOG_SYNC_MINUTES}min
EOT
  UNITS_CHANGED=1
  # a running timer keeps its old schedule until restarted
  if systemctl is-active --quiet xspot-log-sync.timer 2>/dev/null; then
    systemctl daemon-reload
    UNITS_CHANGED=0
    systemctl restart xspot-log-sync.timer
  fi
fi
daemon_reload_if_changed
enable_unit xspot-log-sync.timer
start_unit xspot-log-sync.timer
log "logs sync to s3://$XSPOT_LOG_BUCKET/${XSPOT_LOG_PREFIX:+$XSPOT_LOG_PREFIX/}<instance-id>/ every $XSPOT_LOG_SYNC_MINUTES minutes"
