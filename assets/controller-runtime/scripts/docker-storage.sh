#!/usr/bin/env bash
# docker-storage.sh - boot step `docker-storage`: put Docker's storage (/var/lib/docker) on the
# controller's local disk. Finds the instance-store NVMe devices (lsblk model "Amazon EC2 NVMe
# Instance Storage"; with XSPOT_DOCKER_DISK=ebs in conf/runtime.env, the unpartitioned, unmounted
# EBS data volume instead), refuses with a clear message when CONTAINER_FS_SIZE x MAX_CONTAINERS
# does not fit, formats it as XFS (ftype=1, mounted with pquota so per-container size limits
# work) - several instance-store devices are striped into one LVM volume first - mounts it on
# /var/lib/docker, and keeps it in /etc/fstab and a docker.service drop-in (RequiresMountsFor).
# Idempotent: never reformats a disk that already has a file system, mounts only when unmounted.
# Usage: docker-storage.sh
# Log: /var/log/xspot-cdk/docker-storage.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log docker-storage "$@"

load_checked_config

INSTANCE_STORE_MODEL="Amazon EC2 NVMe Instance Storage"
EBS_MODEL="Amazon Elastic Block Store"
VG=xspot-docker
LV=docker
MOUNT_OPTS="noatime,pquota"

trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$1"; }

# Candidate disks: "NAME SIZE MOUNTPOINT" per line.
devices=()
total=0
mounted_on=""
re='NAME="([^"]*)" TYPE="([^"]*)" MODEL="([^"]*)" SIZE="([0-9]*)" MOUNTPOINT="([^"]*)"'
while IFS= read -r line; do
  [[ $line =~ $re ]] || continue
  name="${BASH_REMATCH[1]}" type="${BASH_REMATCH[2]}" size="${BASH_REMATCH[4]}" mnt="${BASH_REMATCH[5]}"
  model="$(trim "${BASH_REMATCH[3]}")"
  [ "$type" = disk ] || continue
  case "$XSPOT_DOCKER_DISK" in
    instance-store) [ "$model" = "$INSTANCE_STORE_MODEL" ] || continue ;;
    ebs)
      [ "$model" = "$EBS_MODEL" ] || [ -z "$model" ] || continue
      # the data volume: no partitions, not mounted anywhere but on /var/lib/docker
      [ "$(lsblk -n -o NAME "/dev/$name" | wc -l)" -eq 1 ] || continue
      [ -z "$mnt" ] || [ "$mnt" = "$DOCKER_DIR" ] || continue
      ;;
  esac
  devices+=("/dev/$name")
  total=$((total + size))
  if [ -n "$mnt" ]; then mounted_on="$mounted_on /dev/$name:$mnt"; fi
done < <(lsblk -d -b -n -P -o NAME,TYPE,MODEL,SIZE,MOUNTPOINT)

if [ "${#devices[@]}" -eq 0 ]; then
  if [ "$XSPOT_DOCKER_DISK" = ebs ]; then
    die "no unpartitioned, unmounted EBS data volume found for Docker's storage (XSPOT_DOCKER_DISK=ebs)"
  fi
  die "no instance-store NVMe device (model \"$INSTANCE_STORE_MODEL\") found for Docker's storage: use an instance type with local NVMe storage (a \"d\" type such as m5d.xlarge) or an EBS docker volume"
fi
log "docker disk(s): ${devices[*]} ($total bytes)"

# The guide: root file system usage of all containers cannot exceed docker's disk.
per="$(size_bytes "$CONTAINER_FS_SIZE")"
need=$((per * MAX_CONTAINERS))
if [ "$need" -gt "$total" ]; then
  die "CONTAINER_FS_SIZE=$CONTAINER_FS_SIZE x MAX_CONTAINERS=$MAX_CONTAINERS = $need bytes does not fit Docker's disk (${devices[*]}: $total bytes): at most $((total / per)) containers of $CONTAINER_FS_SIZE fit; lower MAX_CONTAINERS or CONTAINER_FS_SIZE, or use a larger instance type"
fi
log "capacity: $MAX_CONTAINERS x $CONTAINER_FS_SIZE = $need of $total bytes"

# The block device that carries the file system.
if [ "${#devices[@]}" -eq 1 ]; then
  ensure_packages xfsprogs
  target="${devices[0]}"
else
  ensure_packages xfsprogs lvm2
  target="/dev/$VG/$LV"
  if vgs "$VG" >/dev/null 2>&1; then
    log "LVM volume group $VG exists"
  else
    log "striping ${#devices[@]} devices into LVM volume $VG/$LV"
    pvcreate -y "${devices[@]}"
    vgcreate "$VG" "${devices[@]}"
    lvcreate -y -l 100%FREE -i "${#devices[@]}" -n "$LV" "$VG"
  fi
fi

if mountpoint -q "$DOCKER_DIR"; then
  if [ "${#devices[@]}" -eq 1 ] && [ "$mounted_on" != " ${devices[0]}:$DOCKER_DIR" ]; then
    die "/var/lib/docker is mounted from another device than ${devices[0]}"
  fi
  log "/var/lib/docker is already mounted"
else
  if [ -n "$mounted_on" ]; then
    die "refusing to use${mounted_on}: mounted elsewhere (unmount it, or free the device for Docker)"
  fi
  fstype="$(blkid -o value -s TYPE "$target" 2>/dev/null)" || fstype=""
  case "$fstype" in
    "")
      log "formatting $target as XFS"
      mkfs.xfs -n ftype=1 -L xspot-docker "$target"
      ;;
    xfs) log "$target already has an XFS file system: keeping it" ;;
    *) die "$target has a $fstype file system: refusing to reformat it (wipe it by hand if it may be erased)" ;;
  esac
  if systemctl is-active --quiet docker.service 2>/dev/null; then
    log "stopping docker to move its storage (existing local images are hidden, as the guide warns)"
    systemctl stop docker.service
  fi
  mkdir -p "$DOCKER_DIR"
  mount -t xfs -o "$MOUNT_OPTS" "$target" "$DOCKER_DIR"
  log "mounted $target on /var/lib/docker"
fi

uuid="$(blkid -o value -s UUID "$target" 2>/dev/null)" || uuid=""
[ -n "$uuid" ] || die "no file system UUID on $target"
fstab_ensure /var/lib/docker "UUID=$uuid /var/lib/docker xfs defaults,nofail,$MOUNT_OPTS 0 2"
if install_if_changed "$XSPOT_HOME/systemd/docker.service.d/xspot-storage.conf" \
  "$UNIT_DIR/docker.service.d/xspot-storage.conf" 0644; then
  UNITS_CHANGED=1
fi
daemon_reload_if_changed
log "done"
