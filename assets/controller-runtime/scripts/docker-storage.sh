#!/usr/bin/env bash
# docker-storage.sh - boot step `docker-storage`: put Docker's storage (/var/lib/docker) on the
# controller's local disk and make CONTAINER_FS_SIZE the hard per-container limit the guide says it
# is. Finds the instance-store NVMe devices (lsblk model "Amazon EC2 NVMe Instance Storage"; with
# XSPOT_DOCKER_DISK=ebs in conf/runtime.env, the unpartitioned, unmounted EBS data volume
# instead), formats it as XFS (ftype=1, mounted with pquota) - several instance-store devices are
# striped into one LVM volume first - mounts it on /var/lib/docker, and keeps it in /etc/fstab and
# a docker.service drop-in (RequiresMountsFor). Then writes /etc/docker/daemon.json with the
# overlay2 storage driver and `overlay2.size=CONTAINER_FS_SIZE` (XFS project quotas enforce it:
# a container that writes more gets "no space left on device"). A daemon.json the site wrote
# itself is never overwritten: it must already carry these settings, or the step fails saying
# what to add. When MAX_CONTAINERS x CONTAINER_FS_SIZE exceeds the disk, the step warns with the
# over-commit ratio (the guide: disk is about expected usage; the limit per container still holds,
# but containers that all fill up at once fill the disk and their writes fail).
# Idempotent: never reformats a disk that already has a file system, mounts only when unmounted,
# rewrites daemon.json only when it changes (restarting a running docker then).
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

# docker_daemon_config: the overlay2 driver with CONTAINER_FS_SIZE as each container's size limit.
DAEMON_JSON="$R/etc/docker/daemon.json"
DAEMON_JSON_MARK="$R/var/lib/xspot-cdk/daemon.json.sha256"
docker_daemon_config() {
  local want tmp
  tmp="$(mktemp)"
  printf '{\n  "storage-driver": "overlay2",\n  "storage-opts": ["overlay2.size=%s"]\n}\n' "$CONTAINER_FS_SIZE" >"$tmp"
  want="$(sha256sum "$tmp" | cut -d' ' -f1)"
  if [ -f "$DAEMON_JSON" ] && ! cmp -s "$tmp" "$DAEMON_JSON"; then
    # ours when it is what this step wrote last time; the site's otherwise
    if [ ! -f "$DAEMON_JSON_MARK" ] || [ "$(sha256sum "$DAEMON_JSON" | cut -d' ' -f1)" != "$(cat "$DAEMON_JSON_MARK")" ]; then
      rm -f "$tmp"
      if tr -d ' \n\t' <"$DAEMON_JSON" | grep -q '"storage-driver":"overlay2"' &&
        tr -d ' \n\t' <"$DAEMON_JSON" | grep -qF "\"overlay2.size=$CONTAINER_FS_SIZE\""; then
        log "${DAEMON_JSON#"$R"} (the site's) already sets overlay2 with overlay2.size=$CONTAINER_FS_SIZE"
        return 0
      fi
      die "${DAEMON_JSON#"$R"} was written by the site, not by xspot-cdk: add \"storage-driver\": \"overlay2\" and \"storage-opts\": [\"overlay2.size=$CONTAINER_FS_SIZE\"] to it (CONTAINER_FS_SIZE is the guide's hard per-container limit), or remove it"
    fi
  fi
  if install_if_changed "$tmp" "$DAEMON_JSON" 0644; then
    mkdir -p "$(dirname "$DAEMON_JSON_MARK")"
    printf '%s\n' "$want" >"$DAEMON_JSON_MARK"
    if systemctl is-active --quiet docker.service 2>/dev/null; then
      log "restarting docker for the new storage limit"
      systemctl restart docker.service
    fi
  fi
  rm -f "$tmp"
}

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

# The guide: the metadata equation is the hard limit (check-config); disk is about expected usage.
per="$(size_bytes "$CONTAINER_FS_SIZE")"
need=$((per * MAX_CONTAINERS))
if [ "$need" -gt "$total" ]; then
  ratio="$(awk -v n="$need" -v t="$total" 'BEGIN { printf "%.2f", n / t }')"
  warn "disk over-commit ${ratio}x: MAX_CONTAINERS=$MAX_CONTAINERS x CONTAINER_FS_SIZE=$CONTAINER_FS_SIZE = $need bytes on Docker's disk of $total bytes (${devices[*]}); each container is still limited to $CONTAINER_FS_SIZE, but if containers together write more than the disk holds, their writes fail with 'no space left on device' (at most $((total / per)) containers can fill $CONTAINER_FS_SIZE at once)"
else
  log "capacity: $MAX_CONTAINERS x $CONTAINER_FS_SIZE = $need of $total bytes"
fi

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
docker_daemon_config
log "done"
