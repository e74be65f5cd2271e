#!/usr/bin/env bash
# build-image.sh - `make build-image` / `make rebuild-image`: for each image of IMAGE_NAME_LIST
# (or the names given), docker build conf/images/<name without tag>/docker_build_path/ on top of
# the base snapshot (imported as xspot-base:<folder>, passed as --build-arg BASE_IMAGE=...), then
# `docker save` it to <images folder>/<name>.tar with its image id in <name>.tar.id. The images
# folder is IMAGE_DEPLOY_DIR/staging, else IMAGE_DEPLOY_DIR/current. Takes the base snapshot
# first when there is none.
# The folder's key (lib.sh images_key) must be this release's: images of another release or
# Dockerfile are never mixed into it (build-image refuses; rebuild-image rebuilds them all).
# Idempotent: `build-image` skips images already saved; `rebuild-image` (--rebuild) rebuilds.
# Usage: build-image.sh [--rebuild] [--into DIR] [IMAGE...]
# Log: /var/log/xspot-cdk/build-image.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log build-image "$@"

rebuild=0
into=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) rebuild=1 ;;
    --into)
      into="${2:?--into needs a directory}"
      shift
      ;;
    -*) die "usage: build-image.sh [--rebuild] [--into DIR] [IMAGE...]" ;;
    *) names+=("$1") ;;
  esac
  shift
done

load_checked_config
if [ "${#names[@]}" -eq 0 ]; then names=("${IMAGE_NAME_LIST[@]}"); fi
for name in "${names[@]}"; do
  case " ${IMAGE_NAME_LIST[*]} " in *" $name "*) ;; *) die "$name is not in IMAGE_NAME_LIST (${IMAGE_NAME_LIST[*]})" ;; esac
done

dir="${into:-$(images_build_dir)}"
mkdir -p "$dir"
key="$(images_key)"
have="$(folder_key "$dir")"
if [ -n "$have" ] && [ "$have" != "$key" ]; then
  if [ "$rebuild" = 0 ] || [ "${#names[@]}" -ne "${#IMAGE_NAME_LIST[@]}" ]; then
    die "${dir#"$R"} holds images built for another release or Dockerfile (key $have; this release: $key): start a new folder with 'make image-folder' (the guide's upgrade steps), or rebuild every image in it with 'make rebuild-image'"
  fi
  log "${dir#"$R"} was built for key $have: rebuilding every image for $key"
fi
base="$dir/base.tar.gz"
if [ ! -f "$base" ]; then
  log "no base snapshot in ${dir#"$R"} yet: taking it first"
  "$BASH" "$XSPOT_SCRIPTS/base.sh" --into "$dir"
fi
base_tag="xspot-base:$(basename "$dir")"

for name in "${names[@]}"; do
  archive="$dir/$(archive_name "$name")"
  if [ -f "$archive" ] && [ -s "$archive.id" ] && [ "$rebuild" = 0 ]; then
    log "$name: already built (${archive#"$R"}); make rebuild-image rebuilds it"
    continue
  fi
  ctx="$XSPOT_CONF/images/${name%%:*}/docker_build_path"
  [ -f "$ctx/Dockerfile" ] || die "$name: no Dockerfile in ${ctx#"$R"}"
  if ! docker image inspect "$base_tag" >/dev/null 2>&1; then
    log "importing the base snapshot as $base_tag"
    trusted_paths "$dir" "$base"
    docker import "$base" "$base_tag"
  fi
  log "$name: docker build from ${ctx#"$R"}"
  docker build --build-arg "BASE_IMAGE=$base_tag" -t "$name" "$ctx"
  id="$(docker image inspect -f '{{.Id}}' "$name")"
  docker save -o "$archive.tmp.$$" "$name"
  mv -f "$archive.tmp.$$" "$archive"
  printf '%s\n' "$id" >"$archive.id"
  log "$name: saved ${archive#"$R"} ($id)"
done
if images_complete "$dir"; then printf '%s\n' "$key" >"$dir/$IMAGE_KEY_FILE"; fi
log "done"
