#!/usr/bin/env bash
# Starts or stops a single-node Slurm cluster (munged, slurmctld, slurmd) on localhost for
# the scheduler tests and the sbatch benchmark. Everything lives under DIR; nothing touches
# /etc or systemd, and the daemons are stopped by the pids recorded in DIR.
#
# Usage: slurm-cluster.sh start DIR [EXTRA_SLURM_CONF_LINE...]
#          writes DIR/slurm.conf (plus any extra lines), starts the daemons, waits until the
#          node is idle, and prints `SLURM_CONF=DIR/slurm.conf`.
#        slurm-cluster.sh stop DIR
#          stops the daemons started by `start DIR` (by pid) and waits for them to exit.
# Needs root (SlurmUser=root) and the Debian packages munge, slurmctld, slurmd, slurm-client.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return 0
    fi
  done
  die "no free TCP port found"
}

stop_pidfile() {
  local pidfile="$1" pid
  [ -s "${pidfile}" ] || return 0
  pid="$(cat "${pidfile}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill "${pid}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  rm -f "${pidfile}"
}

start() {
  local dir="$1"
  shift
  [ "$(id -u)" -eq 0 ] || die "must run as root (SlurmUser=root)"
  for bin in munged mungekey slurmctld slurmd sinfo; do
    command -v "${bin}" >/dev/null || die "${bin} not found (install munge, slurmctld, slurmd, slurm-client)"
  done
  mkdir -p "${dir}/munge" "${dir}/munge-key" "${dir}/state" "${dir}/spool" "${dir}/log"
  chmod 755 "${dir}/munge"
  chmod 700 "${dir}/munge-key"
  local host ctld_port slurmd_port
  host="$(hostname -s)"
  ctld_port="$(free_port)"
  slurmd_port="$(free_port)"
  [ "${slurmd_port}" != "${ctld_port}" ] || slurmd_port=$((ctld_port + 1))

  [ -s "${dir}/munge-key/munge.key" ] || mungekey --create --keyfile="${dir}/munge-key/munge.key" --force >/dev/null
  chmod 600 "${dir}/munge-key/munge.key"
  munged --force \
    --socket="${dir}/munge/munge.socket" \
    --key-file="${dir}/munge-key/munge.key" \
    --pid-file="${dir}/munge/munged.pid" \
    --log-file="${dir}/log/munged.log" \
    --seed-file="${dir}/munge/munged.seed"

  cat >"${dir}/slurm.conf" <<CONF
# Single-node test cluster written by slurm-cluster.sh
ClusterName=xspottest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge/munge.socket
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool/slurmd
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
SlurmdParameters=config_overrides
MaxJobCount=100000
MinJobAge=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=${host} NodeAddr=127.0.0.1 CPUs=16 RealMemory=65536 State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
  local line
  for line in "$@"; do
    printf '%s\n' "${line}" >>"${dir}/slurm.conf"
  done
  export SLURM_CONF="${dir}/slurm.conf"

  slurmctld -f "${SLURM_CONF}" -i
  slurmd -f "${SLURM_CONF}" -N "${host}"

  local state="" pidfile
  for _ in $(seq 1 100); do
    for pidfile in "${dir}/slurmctld.pid" "${dir}/slurmd.pid"; do
      sleep 0.1
      if [ ! -s "${pidfile}" ] || ! kill -0 "$(cat "${pidfile}")" 2>/dev/null; then
        sleep 0.5
        if [ ! -s "${pidfile}" ] || ! kill -0 "$(cat "${pidfile}")" 2>/dev/null; then
          stop "${dir}"
          die "$(basename "${pidfile}" .pid) exited during start-up: $(tail -n 3 "${dir}/log/$(basename "${pidfile}" .pid).log" | tr '\n' ' ')"
        fi
      fi
    done
    state="$(timeout 5 sinfo -h -n "${host}" -o '%T' 2>/dev/null | head -n1 || true)"
    case "${state}" in
      idle | mixed | allocated) break ;;
    esac
    sleep 0.2
  done
  case "${state}" in
    idle | mixed | allocated) ;;
    *) die "node ${host} did not become idle (state '${state}'); see ${dir}/log" ;;
  esac
  echo "SLURM_CONF=${SLURM_CONF}"
}

stop() {
  local dir="$1"
  stop_pidfile "${dir}/slurmd.pid"
  stop_pidfile "${dir}/slurmctld.pid"
  stop_pidfile "${dir}/munge/munged.pid"
}

case "${1:-}" in
  start) [ $# -ge 2 ] || die "usage: $0 start DIR [EXTRA_CONF_LINE...]"; shift; start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
