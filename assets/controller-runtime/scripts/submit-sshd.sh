#!/usr/bin/env bash
# submit-sshd.sh - boot step `submit-sshd`: the controller's submission sshd, through which jobs
# submit further jobs from inside their X-Spot containers (docs/security.md, "Submissions from
# inside containers"). It runs beside the site's sshd, which it does not change, on its own port
# with the config `xspot-cdk scheduler render` wrote (submit-sshd_config: only the per-job keys
# the scheduler's root job hook mints, each forced to the submit forward). With a scheduler
# configured:
#   - the account xspot-akc (system, no home, nologin) that sshd runs the key lookup as;
#   - an ed25519 host key in /etc/xspot-cdk/submit-sshd/ (root, 0600; generated once, kept);
#   - the config from XSPOT_SCHED_INSTALL_DIR/<scheduler>/submit-sshd_config (installed by
#     install-hooks from the verified release) copied to /etc/xspot-cdk/submit-sshd/sshd_config
#     and checked with `sshd -t` (OpenSSH 7.8 or later: SetEnv);
#   - /etc/xspot-cdk/submit.env created empty (root, 0644) when missing: the site's image may
#     ship it with the scheduler variables the hooks and the forward need (SLURM_CONF, SGE_ROOT,
#     LSF_ENVDIR, PATH, ...), one NAME=VALUE a line;
#   - xspot-submit-sshd.service installed, enabled and started (restarted when the config changed).
# Scheduler none, or a render without submit-sshd_config: nothing, logged.
# Usage: submit-sshd.sh
# Log: /var/log/xspot-cdk/submit-sshd.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=submit-sshd
with_log submit-sshd "$@"

AKC_USER=xspot-akc
UNIT=xspot-submit-sshd.service

load_checked_config
scheduler="${XSPOT_SCHEDULER:-none}"
case "$scheduler" in
  slurm | gridengine | lsf) ;;
  none | '')
    log "no scheduler configured: no submission sshd"
    exit 0
    ;;
  *)
    # the value is checked, with one line naming it, by scheduler-join
    warn "XSPOT_SCHEDULER='$scheduler' is not slurm, gridengine or lsf: no submission sshd"
    exit 0
    ;;
esac
src="$R$XSPOT_SCHED_INSTALL_DIR/$scheduler/submit-sshd_config"
if [ ! -f "$src" ] || [ -L "$src" ]; then
  warn "no ${src#"$R"} installed (render the scheduler hooks again): submissions from inside containers are off"
  exit 0
fi

if ! getent passwd "$AKC_USER" >/dev/null; then
  nologin=/sbin/nologin
  [ -x /usr/sbin/nologin ] && nologin=/usr/sbin/nologin
  useradd --system --no-create-home --home-dir / --shell "$nologin" "$AKC_USER"
  log "created the account $AKC_USER (sshd's key lookup)"
fi

dir="$R/etc/xspot-cdk/submit-sshd"
mkdir -p "$dir"
chmod 0755 "$dir"
key="$dir/ssh_host_ed25519_key"
if [ ! -e "$key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "xspot-submit@$(hostname -s)" -f "$key"
  log "generated the host key ${key#"$R"}"
fi
if [ -e "$key" ]; then chmod 0600 "$key"; fi

changed=0
if install_if_changed "$src" "$dir/sshd_config" 0644; then changed=1; fi
sshd -t -f "${dir#"$R"}/sshd_config" ||
  die "sshd -t rejects ${dir#"$R"}/sshd_config (the submission sshd needs OpenSSH 7.8 or later)"

envfile="$R/etc/xspot-cdk/submit.env"
if [ ! -e "$envfile" ]; then
  printf '# scheduler variables for the submit hooks and forward (NAME=VALUE, root-owned)\n' >"$envfile"
  chmod 0644 "$envfile"
  log "created ${envfile#"$R"} (add SLURM_CONF, SGE_ROOT, LSF_ENVDIR, PATH, ... when not the defaults)"
fi

install_unit "$UNIT"
daemon_reload_if_changed
enable_unit "$UNIT"
if [ "$changed" = 1 ] && systemctl is-active --quiet "$UNIT" 2>/dev/null; then
  systemctl restart "$UNIT"
else
  start_unit "$UNIT"
fi
log "the submission sshd runs ($UNIT)"
