#!/usr/bin/env bash
# log-sync.sh - copy this controller's logs to S3 (the guide's "S3 Sync" appendix, run by
# xspot-log-sync.timer and, as the final flush, by bin/drain.sh and a failed bin/bootstrap.sh):
#   LOG_PATH (from /etc/xspot/config/log_upload.env, default /var/log/xspot)
#     -> s3://$XSPOT_LOG_BUCKET/$XSPOT_LOG_PREFIX/<instance-id>/
#   /var/log/xspot-cdk (this runtime's own logs)
#     -> s3://$XSPOT_LOG_BUCKET/$XSPOT_LOG_PREFIX/xspot-cdk/<instance-id>/
# with `aws s3 sync` (never --delete: objects stay after the instance is gone).
# Does nothing when XSPOT_LOG_BUCKET is empty.
# Usage: log-sync.sh
# Log: /var/log/xspot-cdk/log-sync.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log log-sync "$@"

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
rc=0
if [ -d "$R$log_path" ]; then
  aws s3 sync "$R$log_path" "s3://$XSPOT_LOG_BUCKET/$prefix$iid/" --region "$AWS_REGION" --only-show-errors || rc=$?
  [ "$rc" -eq 0 ] && log "synced $log_path to s3://$XSPOT_LOG_BUCKET/$prefix$iid/"
else
  log "$log_path does not exist yet: nothing to sync"
fi
aws s3 sync "$LOG_DIR" "s3://$XSPOT_LOG_BUCKET/${prefix}xspot-cdk/$iid/" --region "$AWS_REGION" --only-show-errors || rc=$?
[ "$rc" -eq 0 ] || die "aws s3 sync failed (exit $rc)"
