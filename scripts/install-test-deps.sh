#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (idempotent; skips what is present).
# Usage: bash scripts/install-test-deps.sh
set -euo pipefail

packages=(shellcheck lua5.4
  # scheduler tests: real Slurm (Lua 5.1 is what slurmctld embeds) and Grid Engine, run as root
  munge slurmctld slurmd slurm-client lua5.1 python3
  # the Slurm step guard (a SPANK plugin) is built against Slurm's headers, as on a controller
  gcc libc6-dev libslurm-dev
  gridengine-master gridengine-exec gridengine-client
  # host tests: the metadata firewall (iptables), test hosts in network namespaces (iproute2),
  # setpriv/runuser to act as an unprivileged user (util-linux), a local sshd for the
  # in-container submission path, and a headless browser for the cost report layout
  iptables iproute2 util-linux openssh-server openssh-client chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-test-deps: ok (${#packages[@]} packages present)"

# Python tools the tests use: moto (AWS emulator, server mode) and cfn-lint. They come with the
# machine image; check them here so a missing one fails with one clear line, not deep in a test.
# sqlite3 (Python's standard library) runs the cost --athena query in test/cost/trino-sqlite.py.
for mod in moto cfnlint sqlite3; do
  if ! python3 -c "import ${mod}" 2>/dev/null; then
    echo "install-test-deps: python3 module '${mod}' is missing (pip install ${mod/cfnlint/cfn-lint})" >&2
    exit 1
  fi
done
python3 -c 'import moto.server' 2>/dev/null || { echo "install-test-deps: moto server mode is missing (pip install 'moto[server]')" >&2; exit 1; }
echo "install-test-deps: ok (moto, cfn-lint, sqlite3)"
