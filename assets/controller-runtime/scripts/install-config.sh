#!/usr/bin/env bash
# install-config.sh - boot step `install-config`: install the rendered config.toml,
# dockerWrapper.toml and log_upload.env into /etc/xspot/config and, of startup.sh and
# job_{startup,cleanup}_{user,root}.sh, the ones the site's config names into /etc/xspot/scripts
# (copies of conf/; nothing is templated here). A hook the site does not name is the one the X-Spot
# packages install (the guide's startup.sh creates the job's user and groups in the container):
# it is never overwritten by a default. When a site hook replaces a vendor one, the vendor's is
# kept in /etc/xspot/scripts/.vendor/ and put back once the config stops naming a site file. When anything changed, reload exorun (`exorun config`); when config.toml or
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
for f in "${HOOK_SCRIPTS[@]}"; do
  dst="$ETC_XSPOT/scripts/$f"
  if [ -f "$XSPOT_CONF/scripts/$f" ]; then
    # the site's hook: keep the vendor's aside the first time it is replaced
    if [ -f "$dst" ] && [ ! -f "$VENDOR_HOOKS_DIR/$f" ] && ! cmp -s "$XSPOT_CONF/scripts/$f" "$dst"; then
      mkdir -p "$VENDOR_HOOKS_DIR"
      chmod 0700 "$VENDOR_HOOKS_DIR"
      cp -p "$dst" "$VENDOR_HOOKS_DIR/$f"
      log "scripts/$f: the site's hook replaces the installed one (kept in ${VENDOR_HOOKS_DIR#"$R"}/$f)"
    fi
  elif [ -f "$VENDOR_HOOKS_DIR/$f" ]; then
    mv -f "$VENDOR_HOOKS_DIR/$f" "$dst"
    changed=1
    log "scripts/$f: the config names no site hook any more: the X-Spot packages' one is back"
  elif [ ! -f "$dst" ]; then
    warn "${dst#"$R"} is missing: dockerWrapper.toml names it, the X-Spot packages did not install it and the config names no site file (containers.scripts)"
  fi
done
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
