#!/usr/bin/env bash
# post-docker.sh - ExecStart of post-docker.service ("Post Docker Configuration"): load each
# image of IMAGE_NAME_LIST into the local Docker from the images folder built for this release
# (lib.sh images_key: package versions + image names + docker_build_path contents) and print the
# guide's lines: `post-docker.sh: Building of container <name>: SUCCESS!` per image, then
# `post-docker.sh: Finished.`. The folder is IMAGE_DEPLOY_DIR/current when its key matches, else
# the newest complete folder with the key (a rollback finds its old images there). When there is
# none, the images are built here (base snapshot of this node + each Dockerfile) into a new dated
# folder, under a lock so that one controller of the fleet builds them: always on an upgrade (the
# current folder was built for another key - this controller is the canary) and, when there are
# no images at all, only with XSPOT_BUILD_MISSING_IMAGES=1. The folder loaded is recorded in
# /var/lib/xspot-cdk/images-folder; the boot step `promote-images` makes it current only after
# this controller passed `xspot check -f`.
# The images root, the folder and each archive and id file must be owned by root and writable by
# root alone (lib.sh trusted_paths); anything else is refused, naming the path.
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
key="$(images_key)"

if folder="$(images_folder_for_key "$key")"; then
  log "images for this release (key $key): ${IMAGE_DEPLOY_DIR}/$folder"
else
  if [ -L "$root/current" ]; then
    log "the current images ($(readlink "$root/current"), key '$(folder_key "$root/$(readlink "$root/current")")') were built for another release or Dockerfile (this one: key $key): building new ones on this controller"
  elif [ "$XSPOT_BUILD_MISSING_IMAGES" != 1 ]; then
    for name in "${IMAGE_NAME_LIST[@]}"; do
      echo "post-docker.sh: Building of container $name: FAILED! (no images in ${IMAGE_DEPLOY_DIR})"
    done
    die "images missing from $IMAGE_DEPLOY_DIR: run 'make base build-image deploy' on one controller, or set XSPOT_BUILD_MISSING_IMAGES=1"
  fi
  lock_images
  # another controller may have built them while this one waited for the lock
  if ! folder="$(images_folder_for_key "$key")"; then
    folder="$(new_image_folder_name)"
    mkdir -p "$root/$folder"
    printf '%s\n' "$key" >"$root/$folder/$IMAGE_KEY_FILE"
    log "building the images into ${IMAGE_DEPLOY_DIR}/$folder"
    "$BASH" "$XSPOT_SCRIPTS/build-image.sh" --into "$root/$folder"
  fi
  flock -u 8
fi
current="$root/$folder"
mkdir -p "$(dirname "$LOADED_IMAGES_FILE")"
printf '%s\n' "$folder" >"$LOADED_IMAGES_FILE"

trusted_paths "$root" "$current"
for name in "${IMAGE_NAME_LIST[@]}"; do
  archive="$current/$(archive_name "$name")"
  trusted_paths "$archive" "$archive.id"
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
