#!/usr/bin/env bash
# imds-guard.sh - boot step `imds-guard`: restrict the instance metadata service (169.254.169.254,
# and fd00:ec2::254 where ip6tables exists) on this controller to root and the accounts named in
# XSPOT_IMDS_USERS (conf/runtime.env, from controllers.imdsUsers). Job launchers run on the
# controller as the submitting user; without this rule any of them could read the controller
# role's credentials. Owner-match rules in a chain XSPOT-IMDS that OUTPUT jumps to for the
# metadata address: ACCEPT for each allowed uid, then REJECT (TCP reset, else ICMP) for everyone
# else. Installs and enables xspot-imds-guard.service so the rules are back at every reboot before
# the scheduler daemons start (--rules-only is what that unit runs).
# Fails closed: a user that does not resolve is left out (so denied), and the step then fails.
# Idempotent: an up-to-date chain is left alone (checked with -C); a different one is built under
# a new name and swapped in, so there is no moment without the REJECT rule.
# Usage: imds-guard.sh [--rules-only]
# Log: /var/log/xspot-cdk/imds-guard.log
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
XSPOT_STEP=imds-guard
with_log imds-guard "$@"

rules_only=0
case "${1:-}" in
  --rules-only) rules_only=1 ;;
  "") ;;
  *) die "usage: imds-guard.sh [--rules-only]" ;;
esac

load_checked_config
CHAIN=XSPOT-IMDS

uids=(0)
unresolved=()
for u in $XSPOT_IMDS_USERS; do
  if uid="$(id -u -- "$u" 2>/dev/null)"; then
    case " ${uids[*]} " in *" $uid "*) ;; *) uids+=("$uid") ;; esac
  else
    unresolved+=("$u")
  fi
done

# guard IPTABLES DEST: make OUTPUT send DEST to an up-to-date $CHAIN.
guard() {
  local ipt="$1" dest="$2" rules=() r ok=1 n
  for r in "${uids[@]}"; do rules+=("-m owner --uid-owner $r -j ACCEPT"); done
  rules+=("-p tcp -j REJECT --reject-with tcp-reset" "-j REJECT")
  if "$ipt" -w -S "$CHAIN" >/dev/null 2>&1; then
    n="$("$ipt" -w -S "$CHAIN" | grep -c '^-A')" || true
    [ "$n" -eq "${#rules[@]}" ] || ok=0
    for r in "${rules[@]}"; do
      # shellcheck disable=SC2086 # a rule is words
      "$ipt" -w -C "$CHAIN" $r 2>/dev/null || ok=0
    done
  else
    ok=0
  fi
  if [ "$ok" = 0 ]; then
    "$ipt" -w -N "$CHAIN-NEW" 2>/dev/null || "$ipt" -w -F "$CHAIN-NEW"
    for r in "${rules[@]}"; do
      # shellcheck disable=SC2086
      "$ipt" -w -A "$CHAIN-NEW" $r
    done
    "$ipt" -w -I OUTPUT 1 -d "$dest" -j "$CHAIN-NEW"
    if "$ipt" -w -S "$CHAIN" >/dev/null 2>&1; then
      while "$ipt" -w -C OUTPUT -d "$dest" -j "$CHAIN" 2>/dev/null; do
        "$ipt" -w -D OUTPUT -d "$dest" -j "$CHAIN"
      done
      "$ipt" -w -F "$CHAIN"
      "$ipt" -w -X "$CHAIN"
    fi
    "$ipt" -w -E "$CHAIN-NEW" "$CHAIN"
    log "$ipt: $dest only for uid ${uids[*]}"
  fi
  "$ipt" -w -C OUTPUT -d "$dest" -j "$CHAIN" 2>/dev/null || "$ipt" -w -I OUTPUT 1 -d "$dest" -j "$CHAIN"
}

if ! command -v iptables >/dev/null 2>&1; then ensure_packages iptables; fi
guard iptables 169.254.169.254/32
if command -v ip6tables >/dev/null 2>&1; then
  guard ip6tables fd00:ec2::254/128
fi
log "instance metadata: allowed for uid ${uids[*]}, rejected for every other user"

if [ "$rules_only" = 0 ]; then
  link_current
  install_unit xspot-imds-guard.service
  daemon_reload_if_changed
  enable_unit xspot-imds-guard.service
fi
if [ "${#unresolved[@]}" -gt 0 ]; then
  die "XSPOT_IMDS_USERS: no such user on this host: ${unresolved[*]} (controllers.imdsUsers in the config; they stay denied)"
fi
