#!/usr/bin/env bash
# install-hooks.sh - boot step `install-hooks`: install the scheduler hooks and launchers this
# deployment rendered (conf/sched-wrapper/ of this release) into XSPOT_SCHED_INSTALL_DIR
# (/usr/libexec/xspot-cdk/scheduler): the local, root-owned paths the rendered scheduler config
# names (Grid Engine starter_method and jsv_url, LSF JOB_STARTER, the sbatch/bsub links).
# What root or the scheduler runs never comes from shared storage: on a controller the source is
# this release, whose archive the userdata verified against the launch template's checksum; the
# copy `deploy` publishes under SCRIPT_DEPLOY_DIR is for reading only.
# Every file is copied to a private staging directory and checked there against SHA256SUMS (in
# the same verified bundle). A file whose checksum differs, a file SHA256SUMS does not list, a
# listed file that is missing, or anything that is not a regular file is refused, named, and
# nothing is installed. Directories are created root-owned 0755; a directory on the way that is
# not root's or is writable by others is refused. Files keep the rendered mode (0755 for
# executables, else 0644), with SHA256SUMS beside them; files of an earlier release that are no
# longer rendered are removed.
# Idempotent: unchanged files are left alone.
# On a host that is not a controller (slurmctld, qmaster or LSF master host, submit host), with a
# copy of this script from the operator's machine:
#   install-hooks.sh --from DIR --sums-sha256 HEX [--into DIR]
# installs from DIR (e.g. the rendered files, or the published copy) only when its SHA256SUMS has
# the checksum HEX that `xspot-cdk scheduler render` printed.
# Usage: install-hooks.sh [--from DIR --sums-sha256 HEX] [--into DIR]
# Log: /var/log/xspot-cdk/install-hooks.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log install-hooks "$@"
umask 022

from=""
pin=""
into=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:?--from needs a directory}" && shift ;;
    --sums-sha256) pin="${2:?--sums-sha256 needs a checksum}" && shift ;;
    --into) into="${2:?--into needs a directory}" && shift ;;
    *) die "usage: install-hooks.sh [--from DIR --sums-sha256 HEX] [--into DIR]" ;;
  esac
  shift
done

if [ -n "$from" ]; then
  [[ $pin =~ ^[0-9a-f]{64}$ ]] || die "--sums-sha256: '$pin' is not allowed: must be the 64 hex digits \`xspot-cdk scheduler render\` printed for SHA256SUMS"
  src="$(strip_slash "$from")"
  dest="${into:-/usr/libexec/xspot-cdk/scheduler}"
else
  load_checked_config
  src="$XSPOT_CONF/sched-wrapper"
  dest="${into:-$XSPOT_SCHED_INSTALL_DIR}"
  if [ ! -d "$src" ]; then
    log "no scheduler hooks in this release (scheduler.type none): nothing to install"
    exit 0
  fi
fi
[[ $dest =~ $RE_PATH ]] || die "install dir '$dest' is not allowed: must be an absolute path of letters, digits and . _ + @ -"
dest="$R$dest"
if [ ! -d "$src" ] || [ -L "$src" ]; then die "$src: not a directory"; fi

# Stage a private copy first: the checks and the install read the same bytes.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
if [ ! -f "$src/SHA256SUMS" ] || [ -L "$src/SHA256SUMS" ]; then
  die "$src/SHA256SUMS: missing or not a regular file: refusing to install unverified hooks"
fi
cp -- "$src/SHA256SUMS" "$stage/SHA256SUMS"
if [ -n "$pin" ]; then
  got="$(sha256sum "$stage/SHA256SUMS" | cut -d' ' -f1)"
  [ "$got" = "$pin" ] || die "$src/SHA256SUMS: checksum $got is not the pinned $pin: refusing to install"
fi

RE_SUMS_LINE='^[0-9a-f]{64}  ([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)$'
listed=()
while IFS= read -r line || [ -n "$line" ]; do
  [[ $line =~ $RE_SUMS_LINE ]] || die "$src/SHA256SUMS: line '$line' is not '<sha256>  <relative path>'"
  rel="${BASH_REMATCH[1]}"
  case "/$rel/" in */./* | */../*) die "$src/SHA256SUMS: path '$rel' is not allowed" ;; esac
  f="$src/$rel"
  if [ ! -f "$f" ] || [ -L "$f" ]; then
    die "$rel: listed in SHA256SUMS but missing or not a regular file in $src: refusing to install"
  fi
  mkdir -p "$stage/files/$(dirname "$rel")"
  cp -- "$f" "$stage/files/$rel"
  if [ -x "$f" ]; then chmod 0755 "$stage/files/$rel"; else chmod 0644 "$stage/files/$rel"; fi
  listed+=("$rel")
done <"$stage/SHA256SUMS"
[ "${#listed[@]}" -gt 0 ] || die "$src/SHA256SUMS lists no file"
if ! out="$(cd "$stage/files" && sha256sum --quiet --strict -c "$stage/SHA256SUMS" 2>&1)"; then
  die "checksum mismatch in $src (refusing to install anything): $(printf '%s' "$out" | grep -v '^sha256sum: WARNING' | tr '\n' ' ')"
fi
while IFS= read -r -d '' f; do
  rel="${f#"$src"/}"
  [ "$rel" = SHA256SUMS ] && continue
  case " ${listed[*]} " in *" $rel "*) ;; *) die "$rel: in $src but not listed in SHA256SUMS: refusing to install" ;; esac
done < <(find "$src" -mindepth 1 ! -type d -print0)

# Each directory from the root prefix down to the install dir: root's, not writable by others.
check_dir() {
  local d="$1" owner mode
  owner="$(stat -c %u "$d")"
  mode="$(stat -c %a "$d")"
  [ "$owner" = 0 ] || die "${d#"$R"}: owned by uid $owner, not root: refusing to install hooks below it"
  if [ $((8#$mode & 8#022)) -ne 0 ] && [ $((8#$mode & 8#1000)) -eq 0 ]; then
    die "${d#"$R"}: mode $mode is writable by group or others: refusing to install hooks below it"
  fi
}
mkdir -p "$dest"
d="$dest"
while :; do
  check_dir "$d"
  if [ "$d" = "${R:-/}" ] || [ "$d" = / ]; then break; fi
  d="$(dirname "$d")"
  case "$d/" in "$R"/*) ;; *) break ;; esac
done
chown 0:0 "$dest"
chmod 0755 "$dest"

changed=0
for rel in "${listed[@]}"; do
  mkdir -p "$dest/$(dirname "$rel")"
  chown 0:0 "$dest/$(dirname "$rel")"
  chmod 0755 "$dest/$(dirname "$rel")"
  mode="$(stat -c %a "$stage/files/$rel")"
  if install_if_changed "$stage/files/$rel" "$dest/$rel" "$mode"; then changed=1; fi
  chown 0:0 "$dest/$rel"
  chmod "$mode" "$dest/$rel"
done
if install_if_changed "$stage/SHA256SUMS" "$dest/SHA256SUMS" 0644; then changed=1; fi
chown 0:0 "$dest/SHA256SUMS"
while IFS= read -r -d '' f; do
  rel="${f#"$dest"/}"
  case " SHA256SUMS ${listed[*]} " in *" $rel "*) ;; *)
    rm -f -- "$f"
    log "removed ${f#"$R"} (not in this release)"
    changed=1
    ;;
  esac
done < <(find "$dest" -mindepth 1 ! -type d -print0)
if [ "$changed" = 1 ]; then
  log "installed ${#listed[@]} verified files into ${dest#"$R"}"
else
  log "${dest#"$R"} is up to date (${#listed[@]} verified files)"
fi
