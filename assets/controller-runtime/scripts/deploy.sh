#!/usr/bin/env bash
# deploy.sh - `make deploy` (boot step `deploy`): publish this release - Makefile, bin/, scripts/,
# systemd/, conf/, and conf/sched-wrapper/ as tools/sched-wrapper/ (the guide's
# ${SCRIPT_DEPLOY_DIR}/latest/tools/sched-wrapper/) - to SCRIPT_DEPLOY_DIR/<XSPOT_RUNTIME_VERSION>
# and switch SCRIPT_DEPLOY_DIR/latest to it with an atomic rename. A published version is
# immutable: it is copied under a temporary name and renamed into place, so controllers that
# deploy at the same time never see a half-written release. Then, as the guide's deploy
# "finalizes the validated image": when IMAGE_DEPLOY_DIR/staging holds every image of
# IMAGE_NAME_LIST, IMAGE_DEPLOY_DIR/current is switched to it.
# Idempotent: an already published version is left as it is; links are switched only if needed.
# Refuses when this release's conf/ differs from the published copy (make sync-config changed it):
# publishing nothing while saying "done" would leave every other controller on the old files.
# Usage: deploy.sh
# Log: /var/log/xspot-cdk/deploy.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log deploy "$@"

load_checked_config

MARKER=.xspot-cdk-release
version="$XSPOT_RUNTIME_VERSION"
base="$R$SCRIPT_DEPLOY_DIR"
dest="$base/$version"
mkdir -p "$base"

if [ -f "$dest/$MARKER" ]; then
  if [ "$XSPOT_HOME" != "$dest" ] && [ -d "$dest/conf" ] && ! diff -rq "$XSPOT_CONF" "$dest/conf" >"$LOG_DIR/deploy.conf.diff" 2>&1; then
    die "this release's conf/ differs from the published $SCRIPT_DEPLOY_DIR/$version/conf (make sync-config copied /etc/xspot changes into it; the files: ${LOG_DIR#"$R"}/deploy.conf.diff): a published release is immutable and every controller boots from the deployment config, so nothing would reach the other controllers. Port the changes (${LOG_DIR#"$R"}/sync-config.diff) into the deployment config, then cdk deploy and xspot-cdk fleet upgrade; or undo them here: cp -a $SCRIPT_DEPLOY_DIR/$version/conf/. ${XSPOT_CONF#"$R"}/ && make install-config"
  fi
  log "release $version is already published in $SCRIPT_DEPLOY_DIR"
else
  tmp="$base/.$version.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for part in Makefile bin scripts systemd conf; do
    [ -e "$XSPOT_HOME/$part" ] || die "release is incomplete: $XSPOT_HOME/$part is missing"
    cp -a "$XSPOT_HOME/$part" "$tmp/"
  done
  if [ -d "$XSPOT_CONF/sched-wrapper" ]; then
    mkdir -p "$tmp/tools"
    cp -a "$XSPOT_CONF/sched-wrapper" "$tmp/tools/sched-wrapper"
  fi
  printf '%s\n' "$version" >"$tmp/$MARKER"
  if mv -T "$tmp" "$dest" 2>/dev/null; then
    log "published release $version to $SCRIPT_DEPLOY_DIR/$version"
  else
    rm -rf "$tmp"
    [ -f "$dest/$MARKER" ] || die "could not publish $SCRIPT_DEPLOY_DIR/$version (exists but is not a complete release)"
    log "release $version was published by another controller meanwhile"
  fi
fi
link_atomic "$version" "$base/latest"

# Promote staged images (make image-folder / base / build-image) once they are complete.
images="$(images_root)"
if [ -L "$images/staging" ]; then
  staged="$(readlink "$images/staging")"
  if [ "$(folder_key "$images/$staged")" != "$(images_key)" ]; then
    warn "images: staging ($staged) was made for another release or Dockerfile than this one: run make image-folder base build-image again, then make deploy"
  elif images_complete "$images/$staged"; then
    link_atomic "$staged" "$images/current"
    rm -f "$images/staging"
    log "images: $staged is now current"
  else
    warn "images: staging ($staged) does not hold every image of IMAGE_NAME_LIST yet: run make build-image, then make deploy"
  fi
fi
log "done"
