#!/usr/bin/env bash
# base.sh - `make base` / `make new-base`: snapshot the file system of this validated node (the
# guide's "perfect environment") into base.tar.gz in the images folder (IMAGE_DEPLOY_DIR/staging,
# else IMAGE_DEPLOY_DIR/current). Excludes /proc, /sys, /dev, /run, /tmp, Docker's storage, the
# shared file system (its mount point, REMOTE_DIR, IMAGE_DEPLOY_DIR, SCRIPT_DEPLOY_DIR),
# ONTAP_FOLDERS, and the credentials of this host: BASE_EXCLUDES below (password hashes, SSH host
# keys, munge and Kerberos keys, TLS private keys, /root, /etc/xspot, directory-service caches,
# cloud-init's copy of the userdata) plus XSPOT_BASE_EXCLUDES (conf/runtime.env, from
# containers.baseSnapshotExcludes; tar --exclude patterns, * and ? allowed). The snapshot goes onto
# shared storage, so it is written with umask 077 (the archive 0600) into a folder made 0700.
# The archive is written under a temporary name and renamed when complete.
# Idempotent: `base` keeps an existing archive; `new-base` (--new) replaces it.
# Usage: base.sh [--new] [--into DIR]   (DIR: images folder, as a host path)
# Log: /var/log/xspot-cdk/base.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log base "$@"
umask 077

# Credential paths never copied into an image (docs/security.md#the-base-snapshot): tar --exclude
# patterns, quoted so that the shell does not expand them against this host's files.
BASE_EXCLUDES=(
  '/etc/shadow*' '/etc/gshadow*' /etc/security/opasswd
  '/etc/ssh/ssh_host_*'
  '/etc/munge/*.key' /etc/slurm/slurmdbd.conf '/etc/slurm/jwt*.key'
  /etc/krb5.keytab '/etc/*.keytab' /var/kerberos
  /etc/pki/tls/private /etc/ssl/private /etc/docker/key.json
  /etc/sssd /var/lib/sss
  /etc/xspot /etc/xspot-cdk /root
  /var/lib/cloud
)

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
chmod 0700 "$dir"
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
read -r -a site_excludes <<<"$XSPOT_BASE_EXCLUDES"
for f in "${BASE_EXCLUDES[@]}" ${site_excludes[@]+"${site_excludes[@]}"}; do excludes+=(--exclude=".$f"); done

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
chmod 0600 "$tmp"
mv -f "$tmp" "$archive"
log "base snapshot ${archive#"$R"} written (mode 0600 in a 0700 folder; ${#BASE_EXCLUDES[@]} credential paths and ${#site_excludes[@]} site paths excluded)"
