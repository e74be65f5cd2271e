#!/usr/bin/env bash
# Creates or removes a second "host" for the membership tests: a network namespace NAME joined to
# this machine by a veth pair, this side HOST_ADDR/24 and the namespace side NS_ADDR/24. Commands
# run in it with `nsenter --net=/var/run/netns/NAME` (the mount namespace stays shared, so cgroups,
# munge's socket and the test's files are visible; `ip netns exec` would remount /sys).
# Usage: netns-host.sh up NAME HOST_ADDR NS_ADDR
#        netns-host.sh down NAME
# Needs root and iproute2.
set -euo pipefail

die() { echo "netns-host: $*" >&2; exit 1; }
[[ ${2:-} =~ ^[a-z0-9]{1,10}$ ]] || die "NAME must be 1-10 lowercase letters and digits"
name="$2"

case "${1:-}" in
  up)
    [ $# -eq 4 ] || die "usage: $0 up NAME HOST_ADDR NS_ADDR"
    ip netns add "$name"
    ip link add "${name}h" type veth peer name "${name}c"
    ip link set "${name}c" netns "$name"
    ip addr add "$3/24" dev "${name}h"
    ip link set "${name}h" up
    ip -n "$name" addr add "$4/24" dev "${name}c"
    ip -n "$name" link set "${name}c" up
    ip -n "$name" link set lo up
    ;;
  down)
    ip link del "${name}h" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
    ;;
  *) die "usage: $0 up|down NAME ..." ;;
esac
