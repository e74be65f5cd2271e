#!/usr/bin/env bash
# install-config.sh - boot step `install-config`: install the rendered config.toml,
# dockerWrapper.toml and log_upload.env into /etc/xspot/config and the site's startup.sh and
# job_{startup,cleanup}_{user,root}.sh into /etc/xspot/scripts (copies of conf/; nothing is
# templated here). When anything changed, reload exorun (`exorun config`); when config.toml or
# log_upload.env changed, also `xspot restart` - unless containers are running (then it says so).
# Idempotent: files are compared first; an unchanged set reloads nothing.
# Usage: install-config.sh
# Log: /var/log/xspot-cdk/install-config.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log install-config "$@"

load_checked_config

changed=0
restart=0
while read -r src dst mode; do
  [ -f "$XSPOT_CONF/$src" ] || die "missing $XSPOT_CONF/$src in the config bundle"
  if install_if_changed "$XSPOT_CONF/$src" "$dst" "$mode"; then
    changed=1
    case "$src" in config.toml | log_upload.env) restart=1 ;; esac
  fi
done < <(config_pairs)

if [ "$changed" = 0 ]; then
  log "/etc/xspot is up to date"
  exit 0
fi
if [ "$restart" = 1 ]; then
  n="$(running_containers)"
  if [ "$n" -eq 0 ]; then
    xspot restart
  else
    warn "config.toml/log_upload.env changed but $n containers are running: run 'xspot restart' once the node is drained"
  fi
fi
exorun config
log "exorun configuration reloaded"
