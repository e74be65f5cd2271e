#!/usr/bin/env bash
# imds-guard.sh - boot step `imds-guard`: restrict the instance metadata service (169.254.169.254,
# and fd00:ec2::254 when the kernel has IPv6) on this controller to root and the accounts named
# in XSPOT_IMDS_USERS (conf/runtime.env, from controllers.imdsUsers). Job launchers run on the
# controller as the submitting user; without this rule any of them could read the controller
# role's credentials. Owner-match rules in a chain XSPOT-IMDS that the first rule of OUTPUT sends
# the metadata address to: ACCEPT for each allowed uid, then REJECT (TCP reset, else ICMP) for
# everyone else (docs/security.md).
#
# The step resolves the user names (after mount-remote, so directory users resolve), saves the
# uids in /etc/xspot-cdk/imds-guard.uids and installs + enables xspot-imds-guard.service, which
# runs `imds-guard.sh --rules-only` at every later boot before the network and the scheduler
# daemons come up: --rules-only applies root plus the saved uids and looks up no names (a
# directory service is not up that early). Without a saved file it allows root only.
# Fails closed: a user that does not resolve is left out (so denied), and the step then fails.
# Idempotent: an up-to-date chain is left alone (checked with -C); a different one is built under
# a new name and swapped in, so there is no moment without the REJECT rule; the OUTPUT jump is
# kept first and single.
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

CHAIN=XSPOT-IMDS
UIDS_FILE="$R/etc/xspot-cdk/imds-guard.uids"

uids=(0)
unresolved=()
add_uid() {
  case " ${uids[*]} " in *" $1 "*) ;; *) uids+=("$1") ;; esac
}

if [ "$rules_only" = 1 ]; then
  if [ -r "$UIDS_FILE" ]; then
    while read -r uid; do
      [ -n "$uid" ] || continue
      if [[ $uid =~ $RE_INT ]]; then add_uid "$uid"; else warn "$UIDS_FILE: '$uid' is not a uid: left out"; fi
    done <"$UIDS_FILE"
  else
    warn "no $UIDS_FILE: instance metadata for root only"
  fi
else
  load_checked_config
  read -r -a names <<<"$XSPOT_IMDS_USERS"
  for u in ${names[@]+"${names[@]}"}; do
    if uid="$(id -u -- "$u" 2>/dev/null)"; then add_uid "$uid"; else unresolved+=("$u"); fi
  done
  printf '%s\n' "${uids[@]}" | write_if_changed "$UIDS_FILE" 0644 || true
fi

# first_rule IPT CHAIN: the first "-A CHAIN ..." line of `IPT -S CHAIN` (empty when none).
first_rule() { "$1" -w -S "$2" | grep -m1 "^-A $2 " || true; }

# guard IPT DEST: make the first rule of OUTPUT send DEST to an up-to-date $CHAIN.
guard() {
  local ipt="$1" dest="$2" rules=() r ok=1 n want nums i
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
  # Exactly one jump, and it comes first (a rule inserted before it could ACCEPT the traffic).
  want="-A OUTPUT -d $dest -j $CHAIN"
  if [ "$(first_rule "$ipt" OUTPUT)" != "$want" ]; then
    "$ipt" -w -I OUTPUT 1 -d "$dest" -j "$CHAIN"
    log "$ipt: OUTPUT rule 1 sends $dest to $CHAIN"
  fi
  nums="$("$ipt" -w -S OUTPUT | grep '^-A OUTPUT ' | grep -nxF -- "$want" | cut -d: -f1 | sort -rn)" || true
  for i in $nums; do
    if [ "$i" -gt 1 ]; then
      "$ipt" -w -D OUTPUT "$i"
      log "$ipt: removed a second jump to $CHAIN (OUTPUT rule $i)"
    fi
  done
}

if ! command -v iptables >/dev/null 2>&1 || ! command -v ip6tables >/dev/null 2>&1; then
  ensure_packages iptables
fi
guard iptables 169.254.169.254/32
# The IPv6 endpoint answers only on instances with IPv6 metadata enabled; guard it wherever the
# kernel has IPv6, so that turning it on later does not open it.
if [ -e /proc/net/if_inet6 ]; then
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
