#!/usr/bin/env bash
# lib.sh - shared functions of the controller runtime. Sourced by every script, never run.
#
# Provides:
#   * root-prefixed system paths (XSPOT_ROOT: empty on a controller, a scratch directory in tests;
#     every /etc, /var, /opt, /dev path and every path from the config is read through it);
#   * config loading (deploy.env, conf/env.cfg, conf/runtime.env) and validation (check-config);
#   * logging: with_log NAME re-runs the calling script with its output appended to
#     /var/log/xspot-cdk/NAME.log (and still on stdout);
#   * IMDSv2, Auto Scaling lifecycle and tagging helpers (best effort, never fatal);
#   * idempotent file, symlink, systemd-unit and package helpers.
# Written for bash 4.2 (EL7): no namerefs, no ${x@Q}, empty arrays expanded as ${a[@]+"${a[@]}"}.
#
# Knobs read from the process environment (tests and debugging only; never rendered):
#   XSPOT_ROOT            root prefix (default: empty)
#   XSPOT_POLL_SECONDS    drain poll interval (default 30)
#   XSPOT_WATCH_SECONDS   lifecycle-watch poll interval (default 5)
#   XSPOT_RETRY_SECONDS   pause between lifecycle-call retries (default 5)
#   XSPOT_IMDS_ENDPOINT   instance metadata endpoint (default http://169.254.169.254)

# shellcheck disable=SC2034 # the paths and knobs below are used by the scripts sourcing this file
XSPOT_ROOT="${XSPOT_ROOT:-}"
XSPOT_ROOT="${XSPOT_ROOT%/}"
R="$XSPOT_ROOT"

# The release dir this script belongs to (bin/, scripts/, systemd/, conf/).
XSPOT_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
XSPOT_CONF="$XSPOT_HOME/conf"
XSPOT_SCRIPTS="$XSPOT_HOME/scripts"

DEPLOY_ENV="$R/etc/xspot-cdk/deploy.env"
LOG_DIR="$R/var/log/xspot-cdk"
OPT_DIR="$R/opt/xspot-cdk"
UNIT_DIR="$R/etc/systemd/system"
ETC_XSPOT="$R/etc/xspot"
FSTAB="$R/etc/fstab"
REPO_FILE="$R/etc/yum.repos.d/xspot-cdk.repo"
REPO_KEY_PATH="$R/etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk"
DOCKER_DIR="$R/var/lib/docker"
CONSOLE="$R/dev/console"
IMDS="${XSPOT_IMDS_ENDPOINT:-http://169.254.169.254}"
POLL_SECONDS="${XSPOT_POLL_SECONDS:-30}"
WATCH_SECONDS="${XSPOT_WATCH_SECONDS:-5}"
RETRY_SECONDS="${XSPOT_RETRY_SECONDS:-5}"

# log prefix: the script name; scripts that are a boot step under another name set it after sourcing
XSPOT_STEP="$(basename "$0" .sh)"

# ---------------------------------------------------------------------------------------------
# logging

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$XSPOT_STEP" "$*"; }
warn() { log "WARNING: $*" >&2; }
die() {
  log "ERROR: $*" >&2
  exit 1
}

# with_log NAME "$@": run the calling script again with stdout+stderr appended to
# $LOG_DIR/NAME.log and echoed; returns the script's exit status. No-op inside that run.
with_log() {
  local name="$1" file rc=0
  shift
  file="$LOG_DIR/$name.log"
  if [ "${XSPOT_LOG_FILE:-}" = "$file" ]; then
    return 0
  fi
  mkdir -p "$LOG_DIR"
  XSPOT_LOG_FILE="$file" "$BASH" "$0" "$@" 2>&1 | tee -a "$file" || rc=$?
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# config

# load_config: source deploy.env (when present), conf/env.cfg and conf/runtime.env, fill in
# defaults and strip trailing slashes. Does not validate (see check_config).
load_config() {
  if [ -r "$DEPLOY_ENV" ]; then
    # shellcheck source=/dev/null
    . "$DEPLOY_ENV"
  fi
  # A missing env.cfg is reported by check_config (every value is then empty); drain.sh goes on.
  if [ -r "$XSPOT_CONF/env.cfg" ]; then
    # shellcheck source=/dev/null
    . "$XSPOT_CONF/env.cfg"
  else
    warn "missing $XSPOT_CONF/env.cfg: the release has no rendered config bundle"
  fi
  if [ -r "$XSPOT_CONF/runtime.env" ]; then
    # shellcheck source=/dev/null
    . "$XSPOT_CONF/runtime.env"
  fi

  # deploy.env (docs/controller-contract.md)
  XSPOT_DEPLOYMENT="${XSPOT_DEPLOYMENT:-xspot}"
  AWS_REGION="${AWS_REGION:-}"
  XSPOT_ASG_NAME="${XSPOT_ASG_NAME:-}"
  XSPOT_LAUNCH_HOOK="${XSPOT_LAUNCH_HOOK:-}"
  XSPOT_TERMINATE_HOOK="${XSPOT_TERMINATE_HOOK:-}"
  XSPOT_LOG_BUCKET="${XSPOT_LOG_BUCKET:-}"
  XSPOT_LOG_PREFIX="${XSPOT_LOG_PREFIX-xspot}"
  XSPOT_RUNTIME_VERSION="${XSPOT_RUNTIME_VERSION:-$(basename "$XSPOT_HOME")}"
  XSPOT_RELEASE_DIR="${XSPOT_RELEASE_DIR:-}"
  XSPOT_STORAGE_TYPE="${XSPOT_STORAGE_TYPE:-}"
  XSPOT_STORAGE_SOURCE="${XSPOT_STORAGE_SOURCE:-}"
  XSPOT_STORAGE_MOUNT_POINT="${XSPOT_STORAGE_MOUNT_POINT:-}"
  XSPOT_STORAGE_MOUNT_OPTIONS="${XSPOT_STORAGE_MOUNT_OPTIONS:-}"
  XSPOT_HEARTBEAT_SECONDS="${XSPOT_HEARTBEAT_SECONDS:-300}"
  XSPOT_DRAIN_TIMEOUT_SECONDS="${XSPOT_DRAIN_TIMEOUT_SECONDS:-3600}"
  XSPOT_LOG_SYNC_MINUTES="${XSPOT_LOG_SYNC_MINUTES:-60}"
  XSPOT_CFN_STACK="${XSPOT_CFN_STACK:-}"
  XSPOT_CFN_RESOURCE="${XSPOT_CFN_RESOURCE:-}"
  XSPOT_BOOTSTRAP_TIMEOUT_SECONDS="${XSPOT_BOOTSTRAP_TIMEOUT_SECONDS:-0}"

  # env.cfg (the guide's file)
  REMOTE_DIR="${REMOTE_DIR:-}"
  CONTAINER_FS_SIZE="${CONTAINER_FS_SIZE:-}"
  IMAGE_DEPLOY_DIR="${IMAGE_DEPLOY_DIR:-${REMOTE_DIR}/images}"
  SCRIPT_DEPLOY_DIR="${SCRIPT_DEPLOY_DIR:-${REMOTE_DIR}/scripts}"
  LUSTRE_NEEDED="${LUSTRE_NEEDED:-0}"
  AUTOFS_NEEDED="${AUTOFS_NEEDED:-0}"
  LDAPS_NEEDED="${LDAPS_NEEDED:-0}"
  SSSD_NEEDED="${SSSD_NEEDED:-0}"
  ONTAP_NEEDED="${ONTAP_NEEDED:-0}"
  if ! declare -p ONTAP_FOLDERS >/dev/null 2>&1; then ONTAP_FOLDERS=(); fi
  if ! declare -p IMAGE_NAME_LIST >/dev/null 2>&1; then IMAGE_NAME_LIST=(); fi
  XSPOT_RPM_VERSION="${XSPOT_RPM_VERSION:-}"
  XSPOT_PLATFORM="${XSPOT_PLATFORM:-}"
  XSPOT_KERNEL="${XSPOT_KERNEL:-}"
  XSPOT_GUEST_KERNEL="${XSPOT_GUEST_KERNEL:-}"
  CLI_WRAPPER_VERSION="${CLI_WRAPPER_VERSION:-}"
  IS_SYSTEMD="${IS_SYSTEMD:-yes}"

  # runtime.env (docs/controller-contract.md)
  XSPOT_REPO_URL="${XSPOT_REPO_URL:-}"
  XSPOT_REPO_GPGKEY="${XSPOT_REPO_GPGKEY:-}"
  XSPOT_REPO_GPGCHECK_METADATA="${XSPOT_REPO_GPGCHECK_METADATA:-0}"
  XSPOT_DOCKER_PACKAGE="${XSPOT_DOCKER_PACKAGE:-docker}"
  XSPOT_DOCKER_DISK="${XSPOT_DOCKER_DISK:-instance-store}"
  MAX_CONTAINERS="${MAX_CONTAINERS:-}"
  MAX_WORKERS="${MAX_WORKERS:-${MAX_CONTAINERS}}"
  XSPOT_CONTAINER_FILTER="${XSPOT_CONTAINER_FILTER:-}"
  XSPOT_DRAIN_COMMAND="${XSPOT_DRAIN_COMMAND:-}"
  XSPOT_UNDRAIN_COMMAND="${XSPOT_UNDRAIN_COMMAND:-}"
  XSPOT_BUILD_MISSING_IMAGES="${XSPOT_BUILD_MISSING_IMAGES:-0}"
  XSPOT_IMDS_USERS="${XSPOT_IMDS_USERS:-}"
  XSPOT_BASE_EXCLUDES="${XSPOT_BASE_EXCLUDES:-}"
  XSPOT_SCHED_INSTALL_DIR="${XSPOT_SCHED_INSTALL_DIR:-/usr/libexec/xspot-cdk/scheduler}"

  # The guide: trailing slashes in dir names are stripped.
  REMOTE_DIR="$(strip_slash "$REMOTE_DIR")"
  IMAGE_DEPLOY_DIR="$(strip_slash "$IMAGE_DEPLOY_DIR")"
  SCRIPT_DEPLOY_DIR="$(strip_slash "$SCRIPT_DEPLOY_DIR")"
  XSPOT_STORAGE_MOUNT_POINT="$(strip_slash "$XSPOT_STORAGE_MOUNT_POINT")"
}

strip_slash() {
  local v="$1"
  while [ "${#v}" -gt 1 ] && [ "${v%/}" != "$v" ]; do v="${v%/}"; done
  printf '%s' "$v"
}

RE_PATH='^/[A-Za-z0-9._+@-]+(/[A-Za-z0-9._+@-]+)*$'
RE_PKG='^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$'
RE_IMAGE='^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$'
RE_SIZE='^[1-9][0-9]{0,5}[MGT]$'
RE_INT='^[0-9]{1,9}$'
RE_FLAG='^[01]$'
RE_HTTPS_URL='^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/+-]*)?$'
# An ASCII-armored PGP public key, whole file (lib/config/package-signing.ts ARMORED_KEY_PATTERN).
RE_ARMORED_KEY="^-----BEGIN PGP PUBLIC KEY BLOCK-----"$'\n'"([A-Za-z][A-Za-z0-9-]{0,31}: [A-Za-z0-9 ._:/()@+,<>-]{0,200}"$'\n'")*"$'\n'"([A-Za-z0-9+/]{1,128}={0,2}"$'\n'")+(=[A-Za-z0-9+/]{4}"$'\n'")?-----END PGP PUBLIC KEY BLOCK-----"$'\n'"$"
REPO_KEY_FILE_NAME='repo-gpg-key.asc'
RE_NAME='^[A-Za-z0-9._:/@+=-]{0,255}$'
RE_BUCKET='^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$'
RE_PREFIX='^([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)?$'
RE_REGION='^([a-z]{2}(-[a-z]+)+-[0-9])?$'
RE_OPTS='^[A-Za-z0-9_=.,:-]{0,256}$'
RE_USER='^[a-z_][a-z0-9_-]{0,31}$'
RE_EXCLUDE='^/[A-Za-z0-9._+@*?-]+(/[A-Za-z0-9._+@*?-]+)*$'
RE_VERSION='^[A-Za-z0-9._-]{1,128}$'

CONFIG_ERRORS=0
bad() {
  log "check-config: $1='$2' is not allowed: must be $3" >&2
  CONFIG_ERRORS=$((CONFIG_ERRORS + 1))
}
expect() { # expect NAME VALUE REGEX DESCRIPTION
  [[ $2 =~ $3 ]] || bad "$1" "$2" "$4"
}
# expect_path NAME VALUE DESCRIPTION: an absolute path with no "." or ".." component.
expect_path() {
  case "/$2/" in
    */./* | */../*) bad "$1" "$2" "$3 (no . or .. components)" ;;
    *) expect "$1" "$2" "$RE_PATH" "$3" ;;
  esac
}

# check_config: validate every loaded value against its allow-list (the TypeScript side
# validated them already; this is the guide's "configuration is checked at each step").
check_config() {
  local img f excl
  CONFIG_ERRORS=0
  expect_path REMOTE_DIR "$REMOTE_DIR" 'an absolute path of letters, digits and . _ + @ -'
  expect_path IMAGE_DEPLOY_DIR "$IMAGE_DEPLOY_DIR" 'an absolute path'
  expect_path SCRIPT_DEPLOY_DIR "$SCRIPT_DEPLOY_DIR" 'an absolute path'
  expect CONTAINER_FS_SIZE "$CONTAINER_FS_SIZE" "$RE_SIZE" 'a size such as 50G (a whole number followed by M, G or T)'
  for f in LUSTRE_NEEDED AUTOFS_NEEDED LDAPS_NEEDED SSSD_NEEDED ONTAP_NEEDED XSPOT_BUILD_MISSING_IMAGES; do
    expect "$f" "${!f}" "$RE_FLAG" '0 or 1'
  done
  for f in XSPOT_RPM_VERSION XSPOT_PLATFORM XSPOT_KERNEL XSPOT_GUEST_KERNEL CLI_WRAPPER_VERSION XSPOT_DOCKER_PACKAGE; do
    expect "$f" "${!f}" "$RE_PKG" 'a package name-version of letters, digits and . _ + ~ -'
  done
  [ "${#IMAGE_NAME_LIST[@]}" -gt 0 ] || bad IMAGE_NAME_LIST '' 'at least one image name'
  for img in ${IMAGE_NAME_LIST[@]+"${IMAGE_NAME_LIST[@]}"}; do
    expect IMAGE_NAME_LIST "$img" "$RE_IMAGE" 'docker image names such as docker-base or team/app:1.2'
  done
  for f in ${ONTAP_FOLDERS[@]+"${ONTAP_FOLDERS[@]}"}; do
    expect_path ONTAP_FOLDERS "$f" 'absolute paths'
  done
  if [ "$ONTAP_NEEDED" = 1 ] && [ "${#ONTAP_FOLDERS[@]}" -eq 0 ]; then
    bad ONTAP_FOLDERS '' 'the ONTAP folders the containers need when ONTAP_NEEDED=1'
  fi
  [ "$IS_SYSTEMD" != no ] || bad IS_SYSTEMD "$IS_SYSTEMD" 'yes: this runtime ships systemd units only'
  expect XSPOT_REPO_URL "$XSPOT_REPO_URL" "$RE_HTTPS_URL" 'an https:// URL of the X-Spot yum repository (conf/runtime.env; http:// is refused)'
  check_repo_key
  case "$XSPOT_DOCKER_DISK" in instance-store | ebs) ;; *) bad XSPOT_DOCKER_DISK "$XSPOT_DOCKER_DISK" 'instance-store or ebs' ;; esac
  read -r -a excl <<<"$XSPOT_IMDS_USERS"
  for f in ${excl[@]+"${excl[@]}"}; do
    expect XSPOT_IMDS_USERS "$f" "$RE_USER" 'space-separated POSIX user names (lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters; conf/runtime.env)'
  done
  read -r -a excl <<<"$XSPOT_BASE_EXCLUDES"
  for f in ${excl[@]+"${excl[@]}"}; do
    case "/$f/" in
      */./* | */../*) bad XSPOT_BASE_EXCLUDES "$f" 'absolute paths without . or .. components' ;;
      *) expect XSPOT_BASE_EXCLUDES "$f" "$RE_EXCLUDE" 'space-separated absolute paths of letters, digits and . _ + @ - with * and ? wildcards (conf/runtime.env)' ;;
    esac
  done
  expect_path XSPOT_SCHED_INSTALL_DIR "$XSPOT_SCHED_INSTALL_DIR" 'a local absolute path (conf/runtime.env)'
  expect MAX_CONTAINERS "$MAX_CONTAINERS" "$RE_INT" 'a whole number (conf/runtime.env)'
  expect MAX_WORKERS "$MAX_WORKERS" "$RE_INT" 'a whole number (conf/runtime.env)'
  if [[ $MAX_CONTAINERS =~ $RE_INT ]] && [[ $MAX_WORKERS =~ $RE_INT ]]; then
    if [ "$MAX_CONTAINERS" -lt 1 ]; then bad MAX_CONTAINERS "$MAX_CONTAINERS" 'at least 1'; fi
    if [ "$MAX_WORKERS" -lt 1 ]; then bad MAX_WORKERS "$MAX_WORKERS" 'at least 1'; fi
    if [ $((MAX_CONTAINERS + 2 * MAX_WORKERS)) -gt 245 ]; then
      bad MAX_CONTAINERS "$MAX_CONTAINERS" "such that MAX_CONTAINERS + 2 x MAX_WORKERS ($MAX_WORKERS) <= 245 (the guide's capacity equation)"
    fi
  fi
  # deploy.env
  expect AWS_REGION "$AWS_REGION" "$RE_REGION" 'an AWS region such as us-east-1'
  for f in XSPOT_ASG_NAME XSPOT_LAUNCH_HOOK XSPOT_TERMINATE_HOOK XSPOT_DEPLOYMENT; do
    expect "$f" "${!f}" "$RE_NAME" 'letters, digits and . _ : / @ + = -'
  done
  expect XSPOT_LOG_BUCKET "$XSPOT_LOG_BUCKET" "$RE_BUCKET" "an S3 bucket name or ''"
  expect XSPOT_CFN_STACK "$XSPOT_CFN_STACK" '^([A-Za-z][A-Za-z0-9-]{0,127})?$' "a CloudFormation stack name or ''"
  expect XSPOT_CFN_RESOURCE "$XSPOT_CFN_RESOURCE" '^([A-Za-z0-9]{1,255})?$' "a logical resource id or ''"
  expect XSPOT_LOG_PREFIX "$XSPOT_LOG_PREFIX" "$RE_PREFIX" 'a key prefix without leading or trailing /'
  expect XSPOT_RUNTIME_VERSION "$XSPOT_RUNTIME_VERSION" "$RE_VERSION" 'letters, digits and . _ -'
  for f in XSPOT_HEARTBEAT_SECONDS XSPOT_DRAIN_TIMEOUT_SECONDS XSPOT_LOG_SYNC_MINUTES XSPOT_BOOTSTRAP_TIMEOUT_SECONDS; do
    expect "$f" "${!f}" "$RE_INT" 'a whole number'
  done
  if [ -n "$XSPOT_STORAGE_TYPE" ]; then
    case "$XSPOT_STORAGE_TYPE" in
      efs) expect XSPOT_STORAGE_SOURCE "$XSPOT_STORAGE_SOURCE" '^fs-[0-9a-f]{8,17}$' 'an EFS file system id' ;;
      nfs | ontap) expect XSPOT_STORAGE_SOURCE "$XSPOT_STORAGE_SOURCE" '^[A-Za-z0-9.-]+:/[A-Za-z0-9._+@/-]*$' 'server:/export' ;;
      lustre) expect XSPOT_STORAGE_SOURCE "$XSPOT_STORAGE_SOURCE" '^[A-Za-z0-9.-]+@tcp:/[A-Za-z0-9]{1,16}$' 'dns@tcp:/mountname' ;;
      *) bad XSPOT_STORAGE_TYPE "$XSPOT_STORAGE_TYPE" 'efs, nfs, lustre or ontap' ;;
    esac
    expect_path XSPOT_STORAGE_MOUNT_POINT "$XSPOT_STORAGE_MOUNT_POINT" 'an absolute path'
    expect XSPOT_STORAGE_MOUNT_OPTIONS "$XSPOT_STORAGE_MOUNT_OPTIONS" "$RE_OPTS" 'comma-separated mount options'
    case "$REMOTE_DIR/" in
      "$XSPOT_STORAGE_MOUNT_POINT"/*) ;;
      *) bad REMOTE_DIR "$REMOTE_DIR" "below the shared file system's mount point $XSPOT_STORAGE_MOUNT_POINT" ;;
    esac
  fi
  [ "$CONFIG_ERRORS" -eq 0 ] || die "check-config: $CONFIG_ERRORS error(s) in $XSPOT_CONF/env.cfg, $XSPOT_CONF/runtime.env or $DEPLOY_ENV"
}

# check_repo_key: XSPOT_REPO_GPGKEY is the vendor key's https URL, `file` (the armored key in
# conf/repo-gpg-key.asc) or `none` (rendered only when the config acknowledged unsigned-packages).
check_repo_key() {
  local key_file="$XSPOT_CONF/$REPO_KEY_FILE_NAME" text
  expect XSPOT_REPO_GPGCHECK_METADATA "$XSPOT_REPO_GPGCHECK_METADATA" "$RE_FLAG" '0 or 1'
  case "$XSPOT_REPO_GPGKEY" in
    none)
      [ "$XSPOT_REPO_GPGCHECK_METADATA" != 1 ] || bad XSPOT_REPO_GPGCHECK_METADATA 1 'signed metadata needs a key: 0 when XSPOT_REPO_GPGKEY=none'
      ;;
    file)
      text=''
      if [ -f "$key_file" ]; then IFS= read -r -d '' text <"$key_file" || true; fi
      if [ -z "$text" ] || [ "${#text}" -gt 65536 ]; then
        bad XSPOT_REPO_GPGKEY file "the armored key in $key_file (at most 64 KiB)"
      elif ! [[ $text =~ $RE_ARMORED_KEY ]]; then
        bad "$REPO_KEY_FILE_NAME" "$key_file" 'an ASCII-armored PGP public key block'
      fi
      ;;
    *) expect XSPOT_REPO_GPGKEY "$XSPOT_REPO_GPGKEY" "$RE_HTTPS_URL" "the vendor key's https:// URL, file ($REPO_KEY_FILE_NAME) or none (unsigned-packages acknowledged)" ;;
  esac
}

load_checked_config() {
  load_config
  check_config
}

# require NAME...: fail unless each variable is non-empty.
require() {
  local v
  for v in "$@"; do
    [ -n "${!v:-}" ] || die "$v is not set (expected in $DEPLOY_ENV or $XSPOT_CONF/runtime.env)"
  done
}

# size_bytes 50G -> 50000000000 (decimal units, as the config validator computes them).
size_bytes() {
  local n="${1%?}"
  case "$1" in
    *M) echo $((n * 1000000)) ;;
    *G) echo $((n * 1000000000)) ;;
    *T) echo $((n * 1000000000000)) ;;
    *) die "size_bytes: '$1' is not a size" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# instance metadata (IMDSv2) and Auto Scaling

imds_get() { # imds_get PATH -> value on stdout; non-zero when unavailable
  local token
  token="$(curl -sS -f --connect-timeout 2 --max-time 5 -X PUT "$IMDS/latest/api/token" \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')" || return 1
  curl -sS -f --connect-timeout 2 --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}

INSTANCE_ID=""
instance_id() {
  if [ -z "$INSTANCE_ID" ]; then
    INSTANCE_ID="$(imds_get instance-id)" || {
      INSTANCE_ID=""
      return 1
    }
  fi
  printf '%s' "$INSTANCE_ID"
}

# lifecycle_complete HOOK RESULT: end this instance's lifecycle action (3 tries; never fatal).
lifecycle_complete() {
  local hook="$1" result="$2" iid try
  if [ -z "$hook" ] || [ -z "$XSPOT_ASG_NAME" ]; then
    log "no lifecycle hook configured: skipping complete-lifecycle-action $result"
    return 0
  fi
  iid="$(instance_id)" || {
    warn "instance id unavailable: cannot complete lifecycle action $result"
    return 0
  }
  for try in 1 2 3; do
    if aws autoscaling complete-lifecycle-action --region "$AWS_REGION" \
      --auto-scaling-group-name "$XSPOT_ASG_NAME" --lifecycle-hook-name "$hook" \
      --instance-id "$iid" --lifecycle-action-result "$result"; then
      log "lifecycle action $hook: $result"
      return 0
    fi
    warn "complete-lifecycle-action $result failed (try $try of 3)"
    sleep "$RETRY_SECONDS"
  done
  return 0
}

# cfn_signal STATUS [STEP]: tell CloudFormation whether this controller's boot passed (SUCCESS)
# or failed at STEP (FAILURE), for the Auto Scaling group's creation policy: `cdk deploy` of a new
# stack waits for these. The unique id is the instance id, with the failed step appended for a
# failure, so the stack event names the step. CloudFormation only accepts signals while it
# creates the group; later boots (scale-out, refresh) get a ValidationError, logged and ignored.
# 3 tries; never fatal.
cfn_signal() {
  local status="$1" step="${2:-}" iid uid out try
  if [ -z "$XSPOT_CFN_STACK" ] || [ -z "$XSPOT_CFN_RESOURCE" ]; then
    log "no creation policy configured: skipping signal-resource $status"
    return 0
  fi
  iid="$(instance_id)" || {
    warn "instance id unavailable: cannot send the creation signal $status"
    return 0
  }
  uid="$iid"
  if [ -n "$step" ]; then uid="$iid:failed-step:$step"; fi
  uid="${uid:0:64}"
  for try in 1 2 3; do
    if out="$(aws cloudformation signal-resource --region "$AWS_REGION" --stack-name "$XSPOT_CFN_STACK" \
      --logical-resource-id "$XSPOT_CFN_RESOURCE" --unique-id "$uid" --status "$status" 2>&1)"; then
      log "creation signal $status sent to $XSPOT_CFN_STACK/$XSPOT_CFN_RESOURCE ($uid)"
      return 0
    fi
    if [[ $out == *ValidationError* ]]; then
      log "creation signal $status not taken: $XSPOT_CFN_STACK is not creating the group (a later boot)"
      return 0
    fi
    warn "signal-resource $status failed (try $try of 3): $out"
    sleep "$RETRY_SECONDS"
  done
  return 0
}

# lifecycle_heartbeat HOOK: extend the lifecycle action's timeout (never fatal).
lifecycle_heartbeat() {
  local hook="$1" iid
  [ -n "$hook" ] && [ -n "$XSPOT_ASG_NAME" ] || return 0
  iid="$(instance_id)" || return 0
  aws autoscaling record-lifecycle-action-heartbeat --region "$AWS_REGION" \
    --auto-scaling-group-name "$XSPOT_ASG_NAME" --lifecycle-hook-name "$hook" \
    --instance-id "$iid" >/dev/null || warn "record-lifecycle-action-heartbeat failed"
}

tag_instance() { # tag_instance KEY VALUE (never fatal)
  local iid
  iid="$(instance_id)" || {
    warn "instance id unavailable: cannot tag $1=$2"
    return 0
  }
  aws ec2 create-tags --region "$AWS_REGION" --resources "$iid" --tags "Key=$1,Value=$2" ||
    warn "create-tags $1=$2 failed"
}

# running_containers: number of running X-Spot containers (docker ps, filtered by
# XSPOT_CONTAINER_FILTER when set). 0 when docker is absent or not answering.
running_containers() {
  local out
  if ! command -v docker >/dev/null 2>&1; then
    echo 0
    return 0
  fi
  if [ -n "$XSPOT_CONTAINER_FILTER" ]; then
    out="$(docker ps -q --filter "$XSPOT_CONTAINER_FILTER" 2>/dev/null)" || out="!"
  else
    out="$(docker ps -q 2>/dev/null)" || out="!"
  fi
  if [ "$out" = "!" ]; then
    warn "docker ps failed: counting no running containers"
    echo 0
    return 0
  fi
  printf '%s\n' "$out" | grep -c . || true
}

# ---------------------------------------------------------------------------------------------
# idempotent file helpers

# install_if_changed SRC DST MODE: copy SRC to DST when the content differs (logs the diff).
# Returns 0 when DST was written, 1 when it was already up to date.
install_if_changed() {
  local src="$1" dst="$2" mode="$3"
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
    return 1
  fi
  mkdir -p "$(dirname "$dst")"
  if [ -f "$dst" ]; then
    log "updating ${dst#"$R"}:"
    diff -u "$dst" "$src" || true
  else
    log "installing ${dst#"$R"}"
  fi
  install -m "$mode" "$src" "$dst"
  return 0
}

# write_if_changed DST MODE < content: like install_if_changed, content from stdin.
write_if_changed() {
  local dst="$1" mode="$2" tmp rc=0
  tmp="$(mktemp)"
  cat >"$tmp"
  install_if_changed "$tmp" "$dst" "$mode" || rc=$?
  rm -f "$tmp"
  return "$rc"
}

# link_atomic TARGET LINK: point LINK at TARGET with an atomic rename (no-op when it already does).
link_atomic() {
  local target="$1" link="$2" tmp
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    return 0
  fi
  tmp="$(dirname "$link")/.$(basename "$link").tmp.$$"
  ln -sfn "$target" "$tmp"
  mv -Tf "$tmp" "$link"
  log "${link#"$R"} -> $target"
}

# link_current: /opt/xspot-cdk/current -> this release (the path the systemd units run from).
link_current() {
  local target
  case "$XSPOT_HOME" in
    "$OPT_DIR"/*) target="${XSPOT_HOME#"$OPT_DIR"/}" ;;
    *) target="${XSPOT_HOME#"$R"}" ;;
  esac
  mkdir -p "$OPT_DIR"
  link_atomic "$target" "$OPT_DIR/current"
}

# fstab_ensure MOUNTPOINT LINE: make LINE the one fstab entry for MOUNTPOINT.
fstab_ensure() {
  local mp="$1" line="$2" tmp
  touch "$FSTAB"
  if grep -qxF -- "$line" "$FSTAB" &&
    [ "$(awk -v mp="$mp" '$1 !~ /^#/ && $2 == mp' "$FSTAB" | wc -l)" -eq 1 ]; then
    return 0
  fi
  tmp="$(mktemp)"
  awk -v mp="$mp" '$1 ~ /^#/ || $2 != mp' "$FSTAB" >"$tmp"
  printf '%s\n' "$line" >>"$tmp"
  cat "$tmp" >"$FSTAB"
  rm -f "$tmp"
  log "fstab: $line"
}

# ---------------------------------------------------------------------------------------------
# systemd and packages

UNITS_CHANGED=0
# install_unit NAME: copy systemd/NAME into /etc/systemd/system when it differs.
install_unit() {
  if install_if_changed "$XSPOT_HOME/systemd/$1" "$UNIT_DIR/$1" 0644; then
    UNITS_CHANGED=1
  fi
}
daemon_reload_if_changed() {
  if [ "$UNITS_CHANGED" = 1 ]; then
    systemctl daemon-reload
    UNITS_CHANGED=0
  fi
}
enable_unit() {
  systemctl is-enabled --quiet "$1" 2>/dev/null || systemctl enable "$1"
}
start_unit() {
  systemctl is-active --quiet "$1" 2>/dev/null || systemctl start "$1"
}

# missing_packages SPEC...: print the specs `rpm -q` does not find installed.
missing_packages() {
  local p
  for p in "$@"; do
    rpm -q --quiet "$p" >/dev/null 2>&1 || printf '%s\n' "$p"
  done
}

# ensure_packages SPEC...: yum install what is missing, then verify with rpm -q.
ensure_packages() {
  local missing
  missing="$(missing_packages "$@")"
  [ -n "$missing" ] || return 0
  # shellcheck disable=SC2086 # one package spec per word, allow-listed
  yum -y --setopt=skip_missing_names_on_install=False install $missing
  missing="$(missing_packages "$@")"
  [ -z "$missing" ] || die "packages still missing after yum install: $(echo "$missing" | tr '\n' ' ')"
}

# ---------------------------------------------------------------------------------------------
# images under IMAGE_DEPLOY_DIR:
#   <dated folder>/base.tar.gz, <image>.tar, <image>.tar.id ; current -> dated ; staging -> dated

images_root() { printf '%s' "$R$IMAGE_DEPLOY_DIR"; }
archive_name() { printf '%s.tar' "$(printf '%s' "$1" | tr ':/' '__')"; }
new_image_folder_name() { date -u +%Y%m%d-%H%M%S; }

# images_complete DIR: every image of IMAGE_NAME_LIST has an archive and an id in DIR.
images_complete() {
  local img a
  for img in "${IMAGE_NAME_LIST[@]}"; do
    a="$1/$(archive_name "$img")"
    [ -f "$a" ] && [ -s "$a.id" ] || return 1
  done
}

# The hook scripts dockerWrapper.toml names. The X-Spot packages install their own; the bundle
# carries one only when the site's config names its own file (containers.scripts).
HOOK_SCRIPTS=(startup.sh job_startup_user.sh job_startup_root.sh job_cleanup_user.sh job_cleanup_root.sh)
# Where install-config keeps the vendor's hook while the site's replaces it.
VENDOR_HOOKS_DIR="$ETC_XSPOT/scripts/.vendor"

# config_pairs: "SOURCE-IN-CONF INSTALLED-PATH MODE" for every file install-config manages: the
# three rendered files, and the hook scripts the bundle carries.
config_pairs() {
  local f
  for f in config.toml dockerWrapper.toml log_upload.env; do
    printf '%s %s %s\n' "$f" "$ETC_XSPOT/config/$f" 0644
  done
  for f in "${HOOK_SCRIPTS[@]}"; do
    [ -f "$XSPOT_CONF/scripts/$f" ] || continue
    printf '%s %s %s\n' "scripts/$f" "$ETC_XSPOT/scripts/$f" 0755
  done
}

# Images are keyed by what they are built from: the X-Spot package versions, IMAGE_NAME_LIST
# and every file of each image's docker_build_path (names, modes, contents). A folder records its
# key in .image-key; a release with other packages or a changed Dockerfile has another key, so
# its controllers never load images built for another one (the guide: a new release needs
# `make image-folder base build-image`, a changed Dockerfile `make rebuild-image`).
IMAGE_KEY_FILE=.image-key
images_key() {
  local img ctx
  {
    printf 'rpm=%s\ncli=%s\nplatform=%s\nkernel=%s\nguest=%s\n' "$XSPOT_RPM_VERSION" \
      "$CLI_WRAPPER_VERSION" "$XSPOT_PLATFORM" "$XSPOT_KERNEL" "$XSPOT_GUEST_KERNEL"
    for img in "${IMAGE_NAME_LIST[@]}"; do
      printf 'image=%s\n' "$img"
      ctx="$XSPOT_CONF/images/${img%%:*}/docker_build_path"
      [ -d "$ctx" ] || continue
      (cd "$ctx" && find . -type f -printf '%p %m\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    done
  } | sha256sum | cut -c1-16
}

# folder_key DIR: the key recorded in an images folder ('' when none).
folder_key() { cat "$1/$IMAGE_KEY_FILE" 2>/dev/null || true; }

# images_folder_for_key KEY: the name of a complete images folder built for KEY - current when it
# is one, else the newest. Non-zero when there is none.
images_folder_for_key() {
  local root d
  root="$(images_root)"
  if [ -L "$root/current" ]; then
    d="$(readlink "$root/current")"
    if [ "$(folder_key "$root/$d")" = "$1" ] && images_complete "$root/$d"; then
      printf '%s' "$d"
      return 0
    fi
  fi
  [ -d "$root" ] || return 1
  while IFS= read -r -d '' d; do
    d="${d##*/}"
    if [ "$(folder_key "$root/$d")" = "$1" ] && images_complete "$root/$d"; then
      printf '%s' "$d"
      return 0
    fi
  done < <(find "$root" -mindepth 1 -maxdepth 1 -type d -print0 | LC_ALL=C sort -rz)
  return 1
}

# trusted_paths PATH...: refuse (die) unless each path is owned by the user running the runtime
# (root on a controller) and writable by nobody else. Images on the shared file system are loaded
# into the Docker of every controller as root, so a file another user could have written is never
# loaded (the same rule as sshd's StrictModes).
trusted_paths() {
  local p uid mode me
  me="$(id -u)"
  for p in "$@"; do
    read -r uid mode < <(stat -L -c '%u %a' -- "$p" 2>/dev/null) || die "${p#"$R"} is missing"
    if [ "$uid" != "$me" ] || (((8#$mode & 8#022) != 0)); then
      die "${p#"$R"} is owned by uid $uid with mode $mode: images are loaded only from files and folders owned by root and writable by root alone (fix: chown root ${p#"$R"}; chmod go-w ${p#"$R"}; and check who changed it)"
    fi
  done
}

# Where post-docker records the images folder this controller loaded (promote-images reads it).
LOADED_IMAGES_FILE="$R/var/lib/xspot-cdk/images-folder"

# images_build_dir: the folder base/build-image write to: staging when set (make image-folder),
# else current; with neither, a new dated folder that becomes current.
images_build_dir() {
  local root d
  root="$(images_root)"
  mkdir -p "$root"
  if [ -L "$root/staging" ]; then
    printf '%s/%s' "$root" "$(readlink "$root/staging")"
    return 0
  fi
  if [ ! -L "$root/current" ]; then
    d="$(new_image_folder_name)"
    mkdir -p "$root/$d"
    images_key >"$root/$d/$IMAGE_KEY_FILE"
    link_atomic "$d" "$root/current" >&2
  fi
  printf '%s/%s' "$root" "$(readlink "$root/current")"
}

# lock_images: serialize image builds across controllers (flock on the shared file system).
lock_images() {
  local root
  root="$(images_root)"
  mkdir -p "$root"
  exec 8>>"$root/.build.lock"
  flock 8
}
