#!/usr/bin/env bash
# post-docker.sh - ExecStart of post-docker.service ("Post Docker Configuration"): load each
# image of IMAGE_NAME_LIST from IMAGE_DEPLOY_DIR/current/<name>.tar into the local Docker and
# print the guide's lines: `post-docker.sh: Building of container <name>: SUCCESS!` per image,
# then `post-docker.sh: Finished.`. When an archive is missing and XSPOT_BUILD_MISSING_IMAGES=1
# (conf/runtime.env), it is built here first (base snapshot of this node + the image's
# Dockerfile), under a lock so that one controller of the fleet builds it.
# Idempotent: an image whose id already matches <name>.tar.id is not loaded again.
# Usage: post-docker.sh
# Log: /var/log/xspot-cdk/post-docker.log (and the journal: journalctl -u post-docker)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=post-docker
with_log post-docker "$@"

load_checked_config
root="$(images_root)"

need_build=0
if [ -L "$root/current" ]; then
  current="$root/$(readlink "$root/current")"
  images_complete "$current" || need_build=1
else
  need_build=1
fi
if [ "$need_build" = 1 ]; then
  if [ "$XSPOT_BUILD_MISSING_IMAGES" != 1 ]; then
    for name in "${IMAGE_NAME_LIST[@]}"; do
      if [ ! -L "$root/current" ] || [ ! -f "$current/$(archive_name "$name")" ]; then
        echo "post-docker.sh: Building of container $name: FAILED! (no ${IMAGE_DEPLOY_DIR}/current/$(archive_name "$name"))"
      fi
    done
    die "images missing from $IMAGE_DEPLOY_DIR/current: run 'make base build-image deploy' on one controller, or set XSPOT_BUILD_MISSING_IMAGES=1"
  fi
  lock_images
  if [ ! -L "$root/current" ]; then
    d="$(new_image_folder_name)"
    mkdir -p "$root/$d"
    link_atomic "$d" "$root/current"
  fi
  current="$root/$(readlink "$root/current")"
  # another controller may have built them while this one waited for the lock
  if ! images_complete "$current"; then
    log "building the missing images into ${current#"$R"}"
    "$BASH" "$XSPOT_SCRIPTS/build-image.sh" --into "$current"
  fi
  flock -u 8
fi

for name in "${IMAGE_NAME_LIST[@]}"; do
  archive="$current/$(archive_name "$name")"
  want="$(cat "$archive.id")"
  have="$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null)" || have=""
  if [ "$have" = "$want" ]; then
    log "$name is loaded ($want)"
  else
    log "loading $name from ${archive#"$R"}"
    if ! docker load -i "$archive"; then
      echo "post-docker.sh: Building of container $name: FAILED!"
      die "docker load -i ${archive#"$R"} failed"
    fi
    have="$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null)" || have=""
    if [ "$have" != "$want" ]; then
      echo "post-docker.sh: Building of container $name: FAILED!"
      die "$name: loaded image id '$have' is not the saved one '$want'"
    fi
  fi
  echo "post-docker.sh: Building of container $name: SUCCESS!"
done
echo "post-docker.sh: Finished."
