#!/usr/bin/env bash
# Starts or stops a single-host Grid Engine cell (sge_qmaster + sge_execd) on localhost for
# the scheduler tests. The cell lives under DIR (its own SGE_ROOT made of links to the
# Debian install, its own spool and ports); nothing under /etc or /var is changed, and the
# daemons are stopped by the pids they wrote in DIR.
#
# Usage: gridengine-cluster.sh start DIR
#          creates the cell, starts both daemons, adds the `smp` PE and the queue `all.q`,
#          waits until the exec host reports load, and prints the environment to use
#          (SGE_ROOT, SGE_CELL, SGE_QMASTER_PORT, SGE_EXECD_PORT) as KEY=value lines.
#        gridengine-cluster.sh stop DIR
# Needs root and the Debian packages gridengine-master, gridengine-exec, gridengine-client.
set -euo pipefail

die() { echo "gridengine-cluster: $*" >&2; exit 1; }

GE_BIN=/usr/lib/gridengine
GE_SHARE=/usr/share/gridengine

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

stop_pid() {
  local pid="$1"
  [ -n "${pid}" ] || return 0
  kill -0 "${pid}" 2>/dev/null || return 0
  kill "${pid}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "${pid}" 2>/dev/null || true
}

# write_queue NAME HOSTLIST SLOTS: a complete queue definition for `qconf -Aq`.
write_queue() {
  cat <<CONF
qname                 $1
hostlist              $2
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               smp
rerun                 FALSE
slots                 $3
tmpdir                /tmp
shell                 /bin/bash
prolog                NONE
epilog                NONE
shell_start_mode      unix_behavior
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
CONF
}

start() {
  local dir="$1"
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  [ -x "${GE_BIN}/sge_qmaster" ] || die "Grid Engine not found in ${GE_BIN} (install gridengine-master, gridengine-exec, gridengine-client)"

  local host root cell=xspot
  host="$(hostname)"
  root="${dir}/root"
  mkdir -p "${root}/${cell}/common" "${dir}/qmaster" "${dir}/execd" "${dir}/templates/hosts" "${dir}/templates/exec"
  local sub
  for sub in bin lib util utilbin; do
    ln -sfn "/var/lib/gridengine/${sub}" "${root}/${sub}"
  done

  export SGE_ROOT="${root}" SGE_CELL="${cell}"
  SGE_QMASTER_PORT="$(free_port)"
  SGE_EXECD_PORT="$(free_port)"
  [ "${SGE_EXECD_PORT}" != "${SGE_QMASTER_PORT}" ] || SGE_EXECD_PORT=$((SGE_QMASTER_PORT + 1))
  export SGE_QMASTER_PORT SGE_EXECD_PORT

  cat >"${root}/${cell}/common/bootstrap" <<CONF
admin_user              none
default_domain          none
ignore_fqdn             true
spooling_method         classic
spooling_lib            libspoolc
spooling_params         ${root}/${cell}/common;${dir}/qmaster
binary_path             ${GE_BIN}
qmaster_spool_dir       ${dir}/qmaster
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
CONF
  echo "${host}" >"${root}/${cell}/common/act_qmaster"
  # When the host name resolves to a loopback address that resolves back to another name
  # (127.0.0.1 -> localhost), Grid Engine sees two hosts: make them one.
  local addr back
  addr="$(getent hosts "${host}" | awk '{print $1; exit}')"
  back="$(getent hosts "${addr:-127.0.0.1}" | awk '{print $2; exit}')"
  if [ -n "${back}" ] && [ "${back}" != "${host}" ]; then
    echo "${host} ${back}" >"${root}/${cell}/common/host_aliases"
  fi

  sed -e "s|^execd_spool_dir .*|execd_spool_dir        ${dir}/execd|" \
    -e 's|^min_uid .*|min_uid                0|' \
    -e 's|^min_gid .*|min_gid                0|' \
    -e 's|^load_report_time .*|load_report_time       00:00:05|' \
    -e 's|^mailer .*|mailer                 /bin/true|' \
    "${GE_SHARE}/default-configuration" >"${dir}/templates/global-conf"
  printf 'hostname %s\n' "${host}" >"${dir}/templates/hosts/${host}"
  printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
    "${host}" >"${dir}/templates/exec/${host}"

  "${GE_BIN}/spooldefaults" configuration "${dir}/templates/global-conf" >/dev/null
  "${GE_BIN}/spooldefaults" complexes "${GE_SHARE}/util/resources/centry" >/dev/null
  "${GE_BIN}/spooldefaults" usersets "${GE_SHARE}/util/resources/usersets" >/dev/null
  "${GE_BIN}/spooldefaults" managers root >/dev/null
  "${GE_BIN}/spooldefaults" adminhosts "${dir}/templates/hosts" >/dev/null
  "${GE_BIN}/spooldefaults" submithosts "${dir}/templates/hosts" >/dev/null
  "${GE_BIN}/spooldefaults" exechosts "${dir}/templates/exec" >/dev/null

  "${GE_BIN}/sge_qmaster"
  local ok=""
  for _ in $(seq 1 100); do
    if "${GE_BIN}/qconf" -sh >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  [ -n "${ok}" ] || die "sge_qmaster did not answer; see ${dir}/qmaster/messages"

  "${GE_BIN}/sge_execd"

  cat >"${dir}/templates/smp.pe" <<CONF
pe_name            smp
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    \$pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
CONF
  "${GE_BIN}/qconf" -Ap "${dir}/templates/smp.pe" >/dev/null
  # Schedule every second so tests do not wait for the default interval.
  "${GE_BIN}/qconf" -ssconf | sed -e 's|^schedule_interval .*|schedule_interval 0:0:1|' \
    -e 's|^flush_submit_sec .*|flush_submit_sec 1|' -e 's|^flush_finish_sec .*|flush_finish_sec 1|' \
    >"${dir}/templates/sched.conf"
  "${GE_BIN}/qconf" -Msconf "${dir}/templates/sched.conf" >/dev/null
  # all.q: the site's ordinary queue (jobs there must be left alone by the X-Spot hooks).
  write_queue all.q "${host}" 16 >"${dir}/templates/all.q"
  "${GE_BIN}/qconf" -Aq "${dir}/templates/all.q" >/dev/null

  ok=""
  for _ in $(seq 1 150); do
    if "${GE_BIN}/qhost" -h "${host}" 2>/dev/null | awk -v h="${host}" '$1 == h && $4 != "-" {found=1} END {exit !found}'; then
      ok=1
      break
    fi
    sleep 0.2
  done
  [ -n "${ok}" ] || die "execution host ${host} did not report load; see ${dir}/execd"
  printf 'SGE_ROOT=%s\nSGE_CELL=%s\nSGE_QMASTER_PORT=%s\nSGE_EXECD_PORT=%s\n' \
    "${SGE_ROOT}" "${SGE_CELL}" "${SGE_QMASTER_PORT}" "${SGE_EXECD_PORT}"
}

stop() {
  local dir="$1" f
  for f in "${dir}"/execd/*/execd.pid; do
    [ -s "${f}" ] && stop_pid "$(cat "${f}")"
  done
  [ -s "${dir}/qmaster/qmaster.pid" ] && stop_pid "$(cat "${dir}/qmaster/qmaster.pid")"
  return 0
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
