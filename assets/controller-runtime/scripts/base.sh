#!/usr/bin/env bash
# base.sh - `make base` / `make new-base`: snapshot the file system of this validated node (the
# guide's "perfect environment") into base.tar.gz in the images folder (IMAGE_DEPLOY_DIR/staging,
# else IMAGE_DEPLOY_DIR/current). Excludes /proc, /sys, /dev, /run, /tmp, Docker's storage, the
# shared file system (its mount point, REMOTE_DIR, IMAGE_DEPLOY_DIR, SCRIPT_DEPLOY_DIR) and
# ONTAP_FOLDERS. The archive is written under a temporary name and renamed when complete.
# Idempotent: `base` keeps an existing archive; `new-base` (--new) replaces it.
# Usage: base.sh [--new] [--into DIR]   (DIR: images folder, as a host path)
# Log: /var/log/xspot-cdk/base.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log base "$@"

new=0
into=""
while [ $# -gt 0 ]; do
  case "$1" in
    --new) new=1 ;;
    --into)
      into="${2:?--into needs a directory}"
      shift
      ;;
    *) die "usage: base.sh [--new] [--into DIR]" ;;
  esac
  shift
done

load_checked_config
dir="${into:-$(images_build_dir)}"
mkdir -p "$dir"
archive="$dir/base.tar.gz"
if [ -f "$archive" ] && [ "$new" = 0 ]; then
  log "base snapshot ${archive#"$R"} exists (make new-base replaces it)"
  exit 0
fi

excludes=(--exclude=./proc --exclude=./sys --exclude=./dev --exclude=./run --exclude=./tmp
  --exclude=./var/lib/docker --exclude=".$REMOTE_DIR" --exclude=".$IMAGE_DEPLOY_DIR"
  --exclude=".$SCRIPT_DEPLOY_DIR")
if [ -n "$XSPOT_STORAGE_MOUNT_POINT" ]; then excludes+=(--exclude=".$XSPOT_STORAGE_MOUNT_POINT"); fi
for f in ${ONTAP_FOLDERS[@]+"${ONTAP_FOLDERS[@]}"}; do excludes+=(--exclude=".$f"); done

tmp="$archive.tmp.$$"
log "snapshotting / into ${archive#"$R"} (this can take 15 minutes)"
rc=0
tar --create --gzip --file "$tmp" --numeric-owner --preserve-permissions --xattrs --acls --selinux \
  --directory "$R/" "${excludes[@]}" . || rc=$?
# GNU tar exits 1 when files changed while being read: a live system, not an error.
if [ "$rc" -gt 1 ]; then
  rm -f "$tmp"
  die "tar failed (exit $rc)"
fi
[ "$rc" -eq 0 ] || warn "some files changed while they were archived"
mv -f "$tmp" "$archive"
log "base snapshot ${archive#"$R"} written"
