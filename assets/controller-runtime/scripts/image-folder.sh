#!/usr/bin/env bash
# image-folder.sh - `make image-folder`: establish a new dated images folder
# IMAGE_DEPLOY_DIR/<YYYYmmdd-HHMMSS> and point IMAGE_DEPLOY_DIR/staging at it; `make base` and
# `make build-image` then write there, and `make deploy` switches IMAGE_DEPLOY_DIR/current to it
# once it holds every image. Controllers keep loading `current` meanwhile.
# The folder records the key of what its images are built from (lib.sh images_key).
# Idempotent: an empty staging folder is reused instead of making another.
# Usage: image-folder.sh
# Log: /var/log/xspot-cdk/image-folder.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log image-folder "$@"

load_checked_config
root="$(images_root)"
mkdir -p "$root"
if [ -L "$root/staging" ] && [ -d "$root/$(readlink "$root/staging")" ] &&
  ! find "$root/$(readlink "$root/staging")" -mindepth 1 -maxdepth 1 ! -name "$IMAGE_KEY_FILE" | grep -q .; then
  log "staging folder $(readlink "$root/staging") is still empty: using it"
  images_key >"$root/$(readlink "$root/staging")/$IMAGE_KEY_FILE"
  exit 0
fi
d="$(new_image_folder_name)"
mkdir -p "$root/$d"
images_key >"$root/$d/$IMAGE_KEY_FILE"
link_atomic "$d" "$root/staging"
log "new images folder $IMAGE_DEPLOY_DIR/$d (staging); next: make base build-image deploy"
