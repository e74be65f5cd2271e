#!/usr/bin/env bash
# image-folder.sh - `make image-folder`: establish a new dated images folder
# IMAGE_DEPLOY_DIR/<YYYYmmdd-HHMMSS> and point IMAGE_DEPLOY_DIR/staging at it; `make base` and
# `make build-image` then write there, and `make deploy` switches IMAGE_DEPLOY_DIR/current to it
# once it holds every image. Controllers keep loading `current` meanwhile.
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
if [ -L "$root/staging" ] && [ -z "$(ls -A "$root/$(readlink "$root/staging")" 2>/dev/null)" ]; then
  log "staging folder $(readlink "$root/staging") is still empty: using it"
  exit 0
fi
d="$(new_image_folder_name)"
mkdir -p "$root/$d"
link_atomic "$d" "$root/staging"
log "new images folder $IMAGE_DEPLOY_DIR/$d (staging); next: make base build-image deploy"
