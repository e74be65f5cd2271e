#!/usr/bin/env bash
# sync-config.sh - `make sync-config-preview` / `make sync-config`: compare the working
# configuration in /etc/xspot (config.toml, dockerWrapper.toml, log_upload.env and the site's
# hook scripts) with this release's conf/ (the rendered bundle).
#   --preview  print the differences (also saved to /var/log/xspot-cdk/sync-config.diff); changes
#              nothing; always exits 0.
#   (none)     copy the differing /etc/xspot files back into this release's conf/. Refused for a
#              published release under SCRIPT_DEPLOY_DIR (published releases are immutable).
# The deployment config is the source of truth: port what the diff shows into it and redeploy
# (a changed rendered file is a new release version).
# Usage: sync-config.sh [--preview]
# Log: /var/log/xspot-cdk/sync-config.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log sync-config "$@"

preview=0
case "${1:-}" in
  --preview) preview=1 ;;
  "") ;;
  *) die "usage: sync-config.sh [--preview]" ;;
esac

load_checked_config
difffile="$LOG_DIR/sync-config.diff"
: >"$difffile"
differs=0
while read -r src dst _mode; do
  if [ ! -f "$dst" ]; then
    log "${dst#"$R"} is not installed (run make install-config)"
    continue
  fi
  if ! cmp -s "$XSPOT_CONF/$src" "$dst"; then
    differs=$((differs + 1))
    diff -u --label "conf/$src" --label "${dst#"$R"}" "$XSPOT_CONF/$src" "$dst" >>"$difffile" || true
    if [ "$preview" = 0 ]; then
      case "$XSPOT_HOME/" in
        "$R$SCRIPT_DEPLOY_DIR"/*) die "this release is published in $SCRIPT_DEPLOY_DIR and is immutable: run make sync-config from /opt/xspot-cdk/current" ;;
      esac
      cp -p "$dst" "$XSPOT_CONF/$src"
      log "conf/$src <- ${dst#"$R"}"
    fi
  fi
done < <(config_pairs)

if [ "$differs" -eq 0 ]; then
  log "/etc/xspot matches conf/"
  exit 0
fi
cat "$difffile"
if [ "$preview" = 1 ]; then
  log "$differs file(s) differ (saved in ${difffile#"$R"}); make sync-config copies them into conf/"
else
  log "$differs file(s) copied into conf/; port them into the deployment config (the diff is in ${difffile#"$R"})"
fi
