#!/usr/bin/env bash
# log-sync.sh - copy this controller's logs to S3 (the guide's "S3 Sync" appendix, run by
# xspot-log-sync.timer and, as the final flush, by bin/drain.sh and a failed bin/bootstrap.sh):
#   each file under LOG_PATH (from /etc/xspot/config/log_upload.env, default /var/log/xspot)
#     -> s3://$XSPOT_LOG_BUCKET/$XSPOT_LOG_PREFIX/<day>/<instance-id>/<path under LOG_PATH>
#   /var/log/xspot-cdk (this runtime's own logs)
#     -> s3://$XSPOT_LOG_BUCKET/$XSPOT_LOG_PREFIX/xspot-cdk/<instance-id>/
# with `aws s3 sync` (never --delete: objects stay after the instance is gone).
#
# <day> is the UTC date (YYYY-MM-DD) of the file's first timestamp: the first complete line among
# its first 5 (and its first 64 KiB) that starts with one, in the grammar of the cost tool
# (lib/cost/log-format.ts parseTimestamp). The cost report's Athena table is partitioned by it.
# A file with no such line goes under `undated/` instead (in no partition; `cost -l` still lists it);
# one whose first timestamped line has no newline yet waits for the next run.
# A dated file keeps its key while that line is the same: the key is recorded against the line's
# hash in /var/lib/xspot-cdk/log-sync.keys, so a rotated copy (xspot.log -> xspot.log.1, or
# logrotate's copytruncate) is synced to the key its content already has instead of a second one
# (the cost tool would count the same lines twice), and the file that starts anew gets a new key
# (the old content stays in S3). Two different files whose day and name would give the same key
# get the hash's first 8 characters appended to the second one's name.
#
# The files are staged as symlinks in a private directory (mktemp -d, 0700) and
# `aws s3 sync --follow-symlinks` (AWS CLI v1 and v2) reads their targets, one sync per day. LOG_PATH is X-Spot's, root-owned; still, a symlink under it is staged only when it
# resolves to a regular file under LOG_PATH, pointing at that resolved file: anything else is
# skipped with a log line.
# Does nothing when XSPOT_LOG_BUCKET is empty.
# Usage: log-sync.sh
# Log: /var/log/xspot-cdk/log-sync.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log log-sync "$@"

KEYS_FILE="$R/var/lib/xspot-cdk/log-sync.keys"
UNDATED=undated
HEAD_LINES=5
HEAD_BYTES=65536

# civil_day DAYS: the YYYY-MM-DD of DAYS since 1970-01-01 (H. Hinnant's civil_from_days).
civil_day() {
  local z=$(($1 + 719468)) era doe yoe y doy mp d m
  era=$(((z >= 0 ? z : z - 146096) / 146097))
  doe=$((z - era * 146097))
  yoe=$(((doe - doe / 1460 + doe / 36524 - doe / 146096) / 365))
  y=$((yoe + era * 400))
  doy=$((doe - (365 * yoe + yoe / 4 - yoe / 100)))
  mp=$(((5 * doy + 2) / 153))
  d=$((doy - (153 * mp + 2) / 5 + 1))
  m=$((mp < 10 ? mp + 3 : mp - 9))
  [ "$m" -le 2 ] && y=$((y + 1))
  printf '%04d-%02d-%02d' "$y" "$m" "$d"
}

# days_from_civil Y M D: days since 1970-01-01.
days_from_civil() {
  local y=$1 m=$2 d=$3 era yoe doy doe
  [ "$m" -le 2 ] && y=$((y - 1))
  era=$(((y >= 0 ? y : y - 399) / 400))
  yoe=$((y - era * 400))
  doy=$(((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1))
  doe=$((yoe * 365 + yoe / 4 - yoe / 100 + doy))
  printf '%s' $((era * 146097 + doe - 719468))
}

RE_TS='^(\[|time=")?([0-9]{4})([-/])([0-9]{2})([-/])([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(.*)$'
RE_FRACTION='^[.,][0-9]+(.*)$'
RE_ZONE='^([+-])([0-9]{2}):?([0-9]{2})'

# line_day LINE: the UTC day of the timestamp LINE starts with (parseTimestamp's grammar and
# checks); fails when it does not start with one.
line_day() {
  local line="$1" y mo d hh mi ss rest sign=+ oh=0 om=0 dim minutes
  [[ $line =~ $RE_TS ]] || return 1
  [ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[5]}" ] || return 1
  y=$((10#${BASH_REMATCH[2]})) mo=$((10#${BASH_REMATCH[4]})) d=$((10#${BASH_REMATCH[6]}))
  hh=$((10#${BASH_REMATCH[7]})) mi=$((10#${BASH_REMATCH[8]})) ss=$((10#${BASH_REMATCH[9]}))
  rest="${BASH_REMATCH[10]}"
  if [[ $rest =~ $RE_FRACTION ]]; then
    rest="${BASH_REMATCH[1]}"
  elif [[ $rest == [.,]* ]]; then
    return 1
  fi
  if [[ $rest == [+-]* ]]; then
    [[ $rest =~ $RE_ZONE ]] || return 1
    sign="${BASH_REMATCH[1]}" oh=$((10#${BASH_REMATCH[2]})) om=$((10#${BASH_REMATCH[3]}))
    [ "$oh" -le 23 ] && [ "$om" -le 59 ] || return 1
  fi
  [ "$mo" -ge 1 ] && [ "$mo" -le 12 ] && [ "$d" -ge 1 ] || return 1
  [ "$hh" -le 23 ] && [ "$mi" -le 59 ] && [ "$ss" -le 60 ] || return 1
  if [ "$mo" -eq 2 ]; then
    dim=$(((y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28))
  else
    dim=$((30 + (mo + mo / 8) % 2))
  fi
  [ "$d" -le "$dim" ] || return 1
  minutes=$(($(days_from_civil "$y" "$mo" "$d") * 1440 + hh * 60 + mi - ${sign}1 * (oh * 60 + om)))
  civil_day $(((minutes >= 0 ? minutes : minutes - 1439) / 1440))
}

# first_stamp FILE: "<day> <sha256 of the line>" of FILE's first timestamped complete line among its
# first HEAD_LINES (and HEAD_BYTES). Fails with 1 when there is none, with 2 when the file is still
# being written within them (no timestamped line yet and an incomplete one after fewer than
# HEAD_LINES): it is synced once that line is complete, so no object holds just a line's start.
first_stamp() {
  local line="" n=0 day
  while IFS= read -r line; do
    n=$((n + 1))
    if day="$(line_day "$line")"; then
      printf '%s %s' "$day" "$(printf '%s\n' "$line" | sha256sum | cut -c1-64)"
      return 0
    fi
    line=""
    [ "$n" -lt "$HEAD_LINES" ] || return 1
  done < <(head -c "$HEAD_BYTES" -- "$1")
  if [ -n "$line" ] && [ "$(stat -c %s -- "$1")" -le "$HEAD_BYTES" ] && line_day "$line" >/dev/null; then
    return 2
  fi
  return 1
}

load_checked_config
if [ -z "$XSPOT_LOG_BUCKET" ]; then
  log "XSPOT_LOG_BUCKET is empty: S3 log sync is off"
  exit 0
fi

log_path=/var/log/xspot
for env in "$ETC_XSPOT/config/log_upload.env" "$XSPOT_CONF/log_upload.env"; do
  if [ -r "$env" ]; then
    v="$(sed -n -e 's/^[[:space:]]*LOG_PATH=//p' "$env" | tail -n 1 | tr -d "\"'")"
    if [ -n "$v" ]; then log_path="$(strip_slash "$v")"; fi
    break
  fi
done
[[ $log_path =~ $RE_PATH ]] || die "LOG_PATH='$log_path' in log_upload.env is not an absolute path"

iid="$(instance_id)" || die "instance id unavailable from IMDS"
prefix="${XSPOT_LOG_PREFIX:+$XSPOT_LOG_PREFIX/}"

stage="$(mktemp -d "${TMPDIR:-/tmp}/xspot-log-sync.XXXXXX")"
chmod 0700 "$stage"
trap 'rm -rf -- "$stage"' EXIT

# The keys recorded so far: line hash -> "<day>/<path>", and the keys taken.
declare -A key_of=() taken=()
if [ -f "$KEYS_FILE" ]; then
  while read -r h k; do
    [ -n "$k" ] || continue
    key_of[$h]="$k"
    taken[$k]=1
  done <"$KEYS_FILE"
fi
declare -A staged_size=()
new_keys=()

# stage_file REAL REL: links REAL at its key (REL is its path under LOG_PATH).
stage_file() {
  local real="$1" rel="$2" stamp day h key size st=0
  stamp="$(first_stamp "$real")" || st=$?
  if [ "$st" -eq 2 ]; then
    log "not yet: $log_path/$rel (its first line is still being written)"
    return 0
  elif [ "$st" -eq 0 ]; then
    day="${stamp%% *}" h="${stamp#* }"
    key="${key_of[$h]:-}"
    if [ -z "$key" ]; then
      key="$day/$rel"
      [ -z "${taken[$key]:-}" ] || key="$key.${h:0:8}"
      key_of[$h]="$key"
      taken[$key]=1
      new_keys+=("$h $key")
    fi
  else
    key="$UNDATED/$rel"
  fi
  # Two files with the same first line (a rotated copy and its original): the larger one wins.
  size="$(stat -c %s -- "$real")"
  if [ -n "${staged_size[$key]:-}" ] && [ "${staged_size[$key]}" -ge "$size" ]; then return 0; fi
  staged_size[$key]="$size"
  day="${key%%/*}"
  mkdir -p -- "$stage/$day/$iid/$(dirname -- "${key#*/}")"
  ln -sfn -- "$real" "$stage/$day/$iid/${key#*/}"
}

rc=0
if [ -d "$R$log_path" ]; then
  base="$(readlink -f -- "$R$log_path")"
  while IFS= read -r -d '' f; do
    rel="${f#"$base"/}"
    if [[ $rel == *$'\n'* ]]; then
      log "skipping a file under $log_path with a newline in its name"
      continue
    fi
    if [ -L "$f" ]; then
      target="$(readlink -f -- "$f" || true)"
      if [ -z "$target" ] || [[ $target != "$base"/* ]] || [ ! -f "$target" ] || [ -L "$target" ]; then
        log "skipping $log_path/$rel: a symlink to $(readlink -- "$f" || true), not a file under $log_path"
        continue
      fi
      stage_file "$target" "$rel"
    elif [ -s "$f" ]; then
      stage_file "$f" "$rel"
    fi
  done < <(find "$base" -mindepth 1 \( -type f -o -type l \) -print0 | sort -z)
  if [ "${#new_keys[@]}" -gt 0 ]; then
    mkdir -p -- "$(dirname -- "$KEYS_FILE")"
    (umask 077 && printf '%s\n' "${new_keys[@]}" >>"$KEYS_FILE")
  fi
  for d in "$stage"/*/; do
    [ -d "$d" ] || continue
    day="$(basename -- "$d")"
    aws s3 sync "$stage/$day/$iid" "s3://$XSPOT_LOG_BUCKET/$prefix$day/$iid/" --follow-symlinks \
      --region "$AWS_REGION" --only-show-errors || rc=$?
  done
  [ "$rc" -eq 0 ] && log "synced $log_path to s3://$XSPOT_LOG_BUCKET/$prefix<day>/$iid/"
else
  log "$log_path does not exist yet: nothing to sync"
fi
aws s3 sync "$LOG_DIR" "s3://$XSPOT_LOG_BUCKET/${prefix}xspot-cdk/$iid/" --region "$AWS_REGION" --only-show-errors || rc=$?
[ "$rc" -eq 0 ] || die "aws s3 sync failed (exit $rc)"
