#!/usr/bin/env bash
# build-image.sh - `make build-image` / `make rebuild-image`: for each image of IMAGE_NAME_LIST
# (or the names given), docker build conf/images/<name without tag>/docker_build_path/ on top of
# the base snapshot (imported as xspot-base:<folder>, passed as --build-arg BASE_IMAGE=...), then
# `docker save` it to <images folder>/<name>.tar with its image id in <name>.tar.id. The images
# folder is IMAGE_DEPLOY_DIR/staging, else IMAGE_DEPLOY_DIR/current. Takes the base snapshot
# first when there is none.
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
log "done"
