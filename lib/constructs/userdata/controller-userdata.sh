#!/bin/bash
# Controller userdata: the first thing a new X-Spot controller runs (as root, once, from cloud-init).
# Rendered by lib/constructs/controller-fleet-userdata.ts: each @@...@@ placeholder is replaced at
# synth time by an allow-listed value or a CloudFormation reference. Contract: docs/controller-contract.md.
#
# The order of these steps is an API (test/controller-fleet asserts it):
#   1. trap       any failure before the bootstrap starts prints XSPOT-BOOTSTRAP-FAILED to the console,
#                 tags the instance xspot:bootstrap-failed-step=userdata:<step>, counts one
#                 BootstrapFailures data point, sends the CloudFormation creation signal FAILURE
#                 naming the step and ABANDONs the launch lifecycle action, so a bad launch fails
#                 in minutes rather than at the hook's heartbeat timeout;
#   2. deploy-env /etc/xspot-cdk/deploy.env, the values only known at deploy time;
#   3. tools      unzip and the AWS CLI, installed when the image lacks them;
#   4. download   the runtime and config zips from the CDK asset bucket;
#   5. checksum   their SHA-256 against the values baked in below;
#   6. unpack     into /opt/xspot-cdk/releases/<RUNTIME_VERSION>/ (the config bundle into conf/);
#   7. bootstrap  bin/bootstrap.sh, which owns the lifecycle action from then on; this script exits
#                 with its status and counts a BootstrapFailures data point when it fails.
# Arguments: none. Log: /var/log/xspot-cdk/userdata.log (also on the console through cloud-init).
# Test knobs (unset on a controller): XSPOT_ROOT prefixes every system path, XSPOT_IMDS_ENDPOINT
# replaces the instance metadata endpoint, XSPOT_RETRY_SECONDS is the base retry delay.
set -euo pipefail
umask 022
export PATH="${PATH:+${PATH}:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

readonly REGION='@@REGION@@'
readonly ASG_NAME='@@ASG_NAME@@'
readonly LAUNCH_HOOK='@@LAUNCH_HOOK@@'
readonly METRIC_NAMESPACE='@@METRIC_NAMESPACE@@'
readonly RELEASE_DIR='@@RELEASE_DIR@@'
readonly RUNTIME_URL='@@RUNTIME_URL@@'
readonly RUNTIME_SHA256='@@RUNTIME_SHA256@@'
readonly CONFIG_URL='@@CONFIG_URL@@'
readonly CONFIG_SHA256='@@CONFIG_SHA256@@'
readonly CFN_STACK='@@CFN_STACK@@'
readonly CFN_RESOURCE='@@CFN_RESOURCE@@'
readonly AWSCLI_VERSION='@@AWSCLI_VERSION@@'
readonly AWSCLI_SHA256='@@AWSCLI_SHA256@@'
readonly FAILED_TAG='xspot:bootstrap-failed-step'

readonly R="${XSPOT_ROOT:-}"
readonly IMDS="${XSPOT_IMDS_ENDPOINT:-http://169.254.169.254}"
readonly RETRY_SECONDS="${XSPOT_RETRY_SECONDS:-5}"
readonly DEPLOY_ENV="${R}/etc/xspot-cdk/deploy.env"
readonly LOG_DIR="${R}/var/log/xspot-cdk"
readonly RELEASE="${R}${RELEASE_DIR}"

step=start
handed_off=0
work=''

mkdir -p "$LOG_DIR"
exec > >(tee -a "$LOG_DIR/userdata.log") 2>&1

log() {
  printf '%s xspot-userdata[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$step" "$*"
}

# Reads one instance metadata item through IMDSv2 (the launch template requires tokens).
# shellcheck disable=SC2317 # reached from the EXIT trap
imds() {
  local token
  token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "${IMDS}/latest/api/token") || return 1
  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: ${token}" "${IMDS}/latest/meta-data/$1"
}

# Runs an AWS CLI command, up to five attempts over about a minute (throttling, a network that is
# not ready yet, an instance profile whose new policy IAM has not propagated yet).
aws_retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if aws --region "$REGION" "$@"; then
      return 0
    fi
    if [ "$attempt" -lt 5 ]; then
      sleep $((attempt * RETRY_SECONDS))
    fi
  done
  return 1
}

# One BootstrapFailures data point: the fleet's alarm (and an instance refresh's rollback) watch it.
count_failure() {
  aws_retry cloudwatch put-metric-data --namespace "$METRIC_NAMESPACE" --metric-name BootstrapFailures \
    --dimensions "AutoScalingGroupName=${ASG_NAME}" --value 1 --unit Count ||
    log "could not record the BootstrapFailures data point"
}

# A failure before the bootstrap took over: say so on the console, tag, count, abandon the launch.
# shellcheck disable=SC2317 # reached from the EXIT trap
report_failure() {
  local failed="userdata:${step}" iid
  log "FAILED at step ${failed}"
  echo "XSPOT-BOOTSTRAP-FAILED step=${failed}" >&2
  if [ -w "${R}/dev/console" ]; then
    echo "XSPOT-BOOTSTRAP-FAILED step=${failed}" >"${R}/dev/console" || true
  fi
  if ! command -v aws >/dev/null 2>&1; then
    log "no AWS CLI: the launch lifecycle hook's heartbeat timeout will abandon this instance"
    return 0
  fi
  if ! iid=$(imds instance-id); then
    log "cannot read the instance id: the launch lifecycle hook's heartbeat timeout will abandon this instance"
    return 0
  fi
  aws_retry ec2 create-tags --resources "$iid" --tags "Key=${FAILED_TAG},Value=${failed}" ||
    log "could not tag ${iid}"
  count_failure
  if [ -n "$CFN_STACK" ] && [ -n "$CFN_RESOURCE" ]; then
    # Refused (ValidationError) unless CloudFormation is creating the group: only logged.
    aws --region "$REGION" cloudformation signal-resource --stack-name "$CFN_STACK" \
      --logical-resource-id "$CFN_RESOURCE" --unique-id "${iid}:failed-step:${failed}" --status FAILURE ||
      log "creation signal FAILURE not taken (the stack is not creating the group)"
  fi
  if [ -n "$LAUNCH_HOOK" ]; then
    aws_retry autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON --instance-id "$iid" \
      --lifecycle-hook-name "$LAUNCH_HOOK" --auto-scaling-group-name "$ASG_NAME" ||
      log "could not abandon the launch lifecycle action"
  fi
}

# shellcheck disable=SC2317 # the EXIT trap
on_exit() {
  local rc=$?
  if [ -n "$work" ]; then
    rm -rf "$work" || true
  fi
  if [ "$rc" -ne 0 ] && [ "$handed_off" -eq 0 ]; then
    report_failure || true
  fi
  exit "$rc"
}
trap on_exit EXIT

# --- 2. deploy.env -------------------------------------------------------------------------------
step=deploy-env
install -d -m 0755 "${R}/etc/xspot-cdk"
cat >"${DEPLOY_ENV}.tmp" <<'XSPOT_DEPLOY_ENV'
@@DEPLOY_ENV@@
XSPOT_DEPLOY_ENV
chmod 0644 "${DEPLOY_ENV}.tmp"
mv -f "${DEPLOY_ENV}.tmp" "$DEPLOY_ENV"
log "wrote ${DEPLOY_ENV}"

# --- 3. tools ------------------------------------------------------------------------------------
step=tools
if ! command -v unzip >/dev/null 2>&1; then
  yum -y -q install unzip
fi
# The guide asks for AWS CLI v2. Nothing unverified is installed: a download is pinned by release
# and SHA-256 (controllers.awsCli); without a pin, the image's aws or yum's awscli.
if ! aws --version 2>&1 | grep -q '^aws-cli/2\.'; then
  if [ -n "$AWSCLI_VERSION" ]; then
    cli_zip="awscli-exe-linux-$(uname -m)-${AWSCLI_VERSION}.zip"
    log "installing AWS CLI ${AWSCLI_VERSION} (${cli_zip}), pinned by SHA-256"
    cli_dir=$(mktemp -d)
    curl -fsS --proto '=https' --tlsv1.2 -m 600 -o "${cli_dir}/awscliv2.zip" "https://awscli.amazonaws.com/${cli_zip}"
    cli_sha=$(sha256sum "${cli_dir}/awscliv2.zip" | cut -d' ' -f1)
    if [ "$cli_sha" != "$AWSCLI_SHA256" ]; then
      log "${cli_zip}: SHA-256 is ${cli_sha}, expected ${AWSCLI_SHA256} (controllers.awsCli.sha256); not installed"
      exit 1
    fi
    unzip -q "${cli_dir}/awscliv2.zip" -d "$cli_dir"
    "${cli_dir}/aws/install" --update
    rm -rf "$cli_dir"
  elif command -v aws >/dev/null 2>&1 || yum -y -q install awscli; then
    log "warning: $(aws --version 2>&1 | head -n1) is not the AWS CLI v2 the guide asks for (log sync); pin a v2 release with controllers.awsCli"
  else
    log "no aws command: the image has none and its yum repositories no awscli; install AWS CLI v2 in the controller image, or pin a release with controllers.awsCli (version and sha256)"
    exit 1
  fi
fi
command -v aws >/dev/null 2>&1

# --- 4. download ---------------------------------------------------------------------------------
step=download
mkdir -p "${R}/var/tmp"
work=$(mktemp -d "${R}/var/tmp/xspot-userdata.XXXXXX")
aws_retry s3 cp --only-show-errors "$RUNTIME_URL" "${work}/runtime.zip"
aws_retry s3 cp --only-show-errors "$CONFIG_URL" "${work}/config.zip"

# --- 5. checksum ---------------------------------------------------------------------------------
step=checksum
verify_sha256() {
  local actual
  actual=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$actual" != "$2" ]; then
    log "$(basename "$1"): SHA-256 is ${actual}, expected $2"
    return 1
  fi
}
verify_sha256 "${work}/runtime.zip" "$RUNTIME_SHA256"
verify_sha256 "${work}/config.zip" "$CONFIG_SHA256"

# --- 6. unpack -----------------------------------------------------------------------------------
step=unpack
if [ -d "$RELEASE" ]; then
  log "${RELEASE_DIR} is already unpacked"
else
  staging="${RELEASE}.partial"
  rm -rf "$staging"
  mkdir -p "${staging}/conf"
  unzip -q "${work}/runtime.zip" -d "$staging"
  unzip -q -o "${work}/config.zip" -d "${staging}/conf"
  mv "$staging" "$RELEASE"
  log "unpacked ${RELEASE_DIR}"
fi
rm -rf "$work"
work=''

# --- 7. bootstrap --------------------------------------------------------------------------------
step=bootstrap
if [ ! -f "${RELEASE}/bin/bootstrap.sh" ]; then
  log "${RELEASE_DIR}/bin/bootstrap.sh is missing from the runtime"
  exit 1
fi
handed_off=1
log "running ${RELEASE_DIR}/bin/bootstrap.sh"
rc=0
bash "${RELEASE}/bin/bootstrap.sh" || rc=$?
if [ "$rc" -ne 0 ]; then
  log "bin/bootstrap.sh failed with status ${rc}"
  count_failure
fi
exit "$rc"
