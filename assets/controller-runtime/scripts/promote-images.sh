#!/usr/bin/env bash
# promote-images.sh - boot step `promote-images` (after `check`): make the images folder this
# controller loaded (post-docker records it in /var/lib/xspot-cdk/images-folder) the deployment's
# IMAGE_DEPLOY_DIR/current - the guide's "finalize the recently validated image", done only once
# this controller passed `xspot check -f`. On an upgrade the canary builds the new images, loads
# and validates them, and promotes them here; a rollback to the previous release promotes that
# release's folder back the same way. Older folders are kept (remove them by hand when no release
# that used them can come back).
# Idempotent: nothing changes when current already points there.
# Usage: promote-images.sh
# Log: /var/log/xspot-cdk/promote-images.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log promote-images "$@"

load_checked_config
[ -s "$LOADED_IMAGES_FILE" ] || die "no images loaded on this controller (${LOADED_IMAGES_FILE#"$R"} is missing): run the post-docker step first"
folder="$(cat "$LOADED_IMAGES_FILE")"
root="$(images_root)"
if [ "$(folder_key "$root/$folder")" != "$(images_key)" ] || ! images_complete "$root/$folder"; then
  die "$IMAGE_DEPLOY_DIR/$folder is not a complete images folder for this release: restart post-docker first"
fi
if [ -L "$root/current" ] && [ "$(readlink "$root/current")" = "$folder" ]; then
  log "images: $folder is current"
else
  link_atomic "$folder" "$root/current"
  log "images: $folder is now current (validated by xspot check -f on this controller)"
fi
