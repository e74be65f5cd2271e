#!/usr/bin/env bash
# controller.sh - `make controller` (boot step `controller`): install the X-Spot controller
# packages at exactly the versions env.cfg names - XSPOT_RPM_VERSION, CLI_WRAPPER_VERSION,
# XSPOT_PLATFORM, XSPOT_GUEST_KERNEL (XSPOT_KERNEL is the worker's kernel: the worker image
# installs it) - from the X-Spot yum repository (XSPOT_REPO_URL in conf/runtime.env), plus Docker
# (XSPOT_DOCKER_PACKAGE, from the OS repositories); verify each with `rpm -q`; enable and start
# docker. A configured version that differs from the installed one is upgraded or downgraded to.
# Then, so that the guide's `make controller; systemctl start post-docker` gives a working
# controller: install-config (X-Spot's configuration in /etc/xspot) and the post-docker unit,
# installed and enabled but not started.
# Idempotent: yum runs only for packages `rpm -q` does not find.
# Usage: controller.sh
# Log: /var/log/xspot-cdk/controller.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
with_log controller "$@"

load_checked_config

# The vendor repository: the one file this runtime writes from values (allow-listed https URLs).
# Packages are checked against the vendor's key (XSPOT_REPO_GPGKEY): its URL, or the armored key
# from the release installed root-owned under /etc/pki/rpm-gpg. `none` (the config acknowledged
# unsigned-packages) is the only way to gpgcheck=0.
case "$XSPOT_REPO_GPGKEY" in
  none)
    warn "the X-Spot repository has no signing key (unsigned-packages acknowledged): packages are installed unchecked"
    gpg="gpgcheck=0"
    ;;
  file)
    install -D -m 0644 "$XSPOT_CONF/$REPO_KEY_FILE_NAME" "$REPO_KEY_PATH"
    rpm --import "$REPO_KEY_PATH"
    gpg="gpgcheck=1
gpgkey=file://${REPO_KEY_PATH#"$R"}"
    ;;
  *) gpg="gpgcheck=1
gpgkey=$XSPOT_REPO_GPGKEY" ;;
esac
if write_if_changed "$REPO_FILE" 0644 <<REPO; then
# Installed by xspot-cdk from conf/runtime.env (XSPOT_REPO_URL, XSPOT_REPO_GPGKEY). Do not edit.
[xspot-cdk]
name=X-Spot controller packages (xspot-cdk)
baseurl=$XSPOT_REPO_URL
enabled=1
sslverify=1
$gpg
repo_gpgcheck=$XSPOT_REPO_GPGCHECK_METADATA
REPO
  yum -y clean expire-cache
fi

packages=("$XSPOT_RPM_VERSION" "$CLI_WRAPPER_VERSION" "$XSPOT_PLATFORM" "$XSPOT_GUEST_KERNEL" "$XSPOT_DOCKER_PACKAGE")
missing="$(missing_packages "${packages[@]}")"
if [ -z "$missing" ]; then
  log "all packages present at the configured versions"
else
  log "installing: $(echo "$missing" | tr '\n' ' ')"
  # shellcheck disable=SC2086 # one allow-listed package spec per word
  yum -y --setopt=skip_missing_names_on_install=False install $missing || true
  missing="$(missing_packages "${packages[@]}")"
  if [ -n "$missing" ]; then
    # installed at a newer version than configured: go back to the configured one
    log "downgrading to: $(echo "$missing" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    yum -y downgrade $missing || true
  fi
fi
missing="$(missing_packages "${packages[@]}")"
[ -z "$missing" ] || die "not installed at the configured version: $(echo "$missing" | tr '\n' ' ')(repository $XSPOT_REPO_URL)"
for p in "${packages[@]}"; do
  log "rpm -q $p: $(rpm -q "$p")"
done

enable_unit docker.service
start_unit docker.service
# The guide's manual path is `make controller` then `systemctl start post-docker`: leave the node
# ready for it - X-Spot's configuration in /etc/xspot and the post-docker unit installed.
# (The boot runs both as steps of their own: XSPOT_IN_BOOTSTRAP=1.)
if [ "${XSPOT_IN_BOOTSTRAP:-}" = 1 ]; then
  log "done"
  exit 0
fi
"$BASH" "$XSPOT_SCRIPTS/install-config.sh"
"$BASH" "$XSPOT_SCRIPTS/start-post-docker.sh" --install-only
log "done; next: systemctl start post-docker (loads the images; journalctl -u post-docker -f)"
