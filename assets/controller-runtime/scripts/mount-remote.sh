#!/usr/bin/env bash
# mount-remote.sh - boot step `mount-remote`: mount the shared file system that holds REMOTE_DIR
# (XSPOT_STORAGE_TYPE from deploy.env: efs with TLS and IAM authorization through amazon-efs-utils, nfs, ontap (NFS) or
# lustre), keep it in /etc/fstab, create REMOTE_DIR, IMAGE_DEPLOY_DIR and SCRIPT_DEPLOY_DIR, then
# do the preparation env.cfg's toggles ask for (LUSTRE_NEEDED, AUTOFS_NEEDED, SSSD_NEEDED,
# LDAPS_NEEDED, ONTAP_NEEDED with ONTAP_FOLDERS). Idempotent: mounts only what is not mounted,
# installs only missing packages, touches fstab only when its entry differs.
# Usage: mount-remote.sh
# Log: /var/log/xspot-cdk/mount-remote.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log mount-remote "$@"

load_checked_config
require XSPOT_STORAGE_TYPE XSPOT_STORAGE_SOURCE XSPOT_STORAGE_MOUNT_POINT

mp="$XSPOT_STORAGE_MOUNT_POINT"
opts="$XSPOT_STORAGE_MOUNT_OPTIONS"
case "$XSPOT_STORAGE_TYPE" in
  efs)
    pkgs=(amazon-efs-utils)
    fstype=efs
    src="$XSPOT_STORAGE_SOURCE:/"
    # EFS is always mounted with TLS (encryption in transit) and IAM authorization: the
    # file-system policy grants the client actions to the controller role only, so a mount
    # without `iam` is anonymous and refused ("access denied by server"). Both lead the options.
    rest=()
    IFS=, read -ra given <<<"${opts:-_netdev}"
    for o in ${given[@]+"${given[@]}"}; do
      case "$o" in tls | iam | '') ;; *) rest+=("$o") ;; esac
    done
    opts=tls,iam
    for o in ${rest[@]+"${rest[@]}"}; do opts="$opts,$o"; done
    ;;
  nfs | ontap)
    pkgs=(nfs-utils)
    fstype=nfs
    src="$XSPOT_STORAGE_SOURCE"
    opts="${opts:-nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev}"
    ;;
  lustre)
    pkgs=(lustre-client)
    fstype=lustre
    src="$XSPOT_STORAGE_SOURCE"
    opts="${opts:-relatime,flock,_netdev}"
    ;;
esac

ensure_packages "${pkgs[@]}"
mkdir -p "$R$mp"
fstab_ensure "$mp" "$src $mp $fstype $opts 0 0"
if mountpoint -q "$R$mp"; then
  log "$mp is already mounted"
else
  log "mounting $src on $mp ($fstype, $opts)"
  mount -t "$fstype" -o "$opts" "$src" "$R$mp"
fi
mountpoint -q "$R$mp" || die "$mp is not a mount point after mounting $src"
mkdir -p "$R$REMOTE_DIR" "$R$IMAGE_DEPLOY_DIR" "$R$SCRIPT_DEPLOY_DIR"
log "REMOTE_DIR $REMOTE_DIR is on $src"

# --- the guide's optional preparations ------------------------------------------------------
if [ "$LUSTRE_NEEDED" = 1 ]; then
  log "LUSTRE_NEEDED: Lustre client"
  ensure_packages lustre-client
fi
if [ "$AUTOFS_NEEDED" = 1 ]; then
  log "AUTOFS_NEEDED: autofs (maps come from the controller image or the directory service)"
  ensure_packages autofs
  enable_unit autofs.service
  start_unit autofs.service
fi
if [ "$SSSD_NEEDED" = 1 ]; then
  log "SSSD_NEEDED: sssd"
  ensure_packages sssd
  if [ -f "$R/etc/sssd/sssd.conf" ]; then
    enable_unit sssd.service
    start_unit sssd.service
  else
    warn "SSSD_NEEDED=1 but /etc/sssd/sssd.conf is missing: sssd is installed but not started (bake the site's sssd.conf into the controller image)"
  fi
fi
if [ "$LDAPS_NEEDED" = 1 ]; then
  log "LDAPS_NEEDED: LDAP client tools and CA bundle"
  ensure_packages openldap-clients ca-certificates
  if ! grep -qs '^URI[[:space:]].*ldaps://' "$R/etc/openldap/ldap.conf"; then
    warn "LDAPS_NEEDED=1 but /etc/openldap/ldap.conf has no ldaps:// URI"
  fi
fi
if [ "$ONTAP_NEEDED" = 1 ]; then
  log "ONTAP_NEEDED: NFS client; checking ONTAP_FOLDERS"
  ensure_packages nfs-utils
  for f in ${ONTAP_FOLDERS[@]+"${ONTAP_FOLDERS[@]}"}; do
    # With autofs, looking at the folder triggers its mount.
    if [ -d "$R$f" ]; then
      log "ONTAP folder $f is present"
    else
      warn "ONTAP folder $f is not present: containers will not see it (mount it through autofs or the controller image)"
    fi
  done
fi
log "done"
