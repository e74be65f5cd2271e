#!/usr/bin/env bash
# scheduler-lib.sh - scheduler membership of this controller (docs/scheduler.md, "Membership").
# Sourced by scheduler-join.sh, scheduler-leave.sh, scheduler-state.sh and bin/drain.sh after
# lib.sh and load_config; never run.
#
# Values (conf/runtime.env, rendered by xspot-cdk; the environment wins, for tests):
#   XSPOT_SCHEDULER            slurm | gridengine | lsf | none ('' = none: nothing joins)
#   XSPOT_SCHED_NODE_NAME      this controller's name in the scheduler (default: hostname -s)
#   XSPOT_SCHED_NODE_ADDR      Slurm: NodeAddr of the dynamic node (default: first of hostname -I)
#   XSPOT_SCHED_SLOTS          job launchers this controller runs at once, across all X-Spot queues
#   XSPOT_SCHED_LAUNCHER_CPUS  CPUs the scheduler reserves for one launcher (Slurm; default 1)
#   XSPOT_SCHED_LAUNCHER_MEMORY_MB  memory reserved for one launcher (Slurm; default 50)
#   XSPOT_SCHED_FEATURE        Slurm: node feature the X-Spot nodeset selects (default xspot)
#   XSPOT_SCHED_QUEUES         X-Spot queues, space separated (Grid Engine: closed on drain)
#   XSPOT_GE_HOSTGROUP         Grid Engine: the X-Spot host group (default @xspot)
#   XSPOT_SCHED_JOIN_SECONDS   how long join waits for the node to register (default 120)
#   XSPOT_SCHED_START          how join starts the execution daemon: systemd (default) | direct
#   XSPOT_SLURM_INCLUDE        Slurm: the directory holding slurm/spank.h (default /usr/include)
#   XSPOT_SLURM_GUARD_DIR      Slurm: where the step guard is installed (default
#                              /usr/libexec/xspot-cdk/slurm, under the root prefix)

SCHED_REASON='xspot-cdk: controller leaving'
RE_SCHED_NAME='^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'
RE_SCHED_ADDR='^[0-9A-Fa-f.:]{2,45}$'
RE_SCHED_QUEUE='^[A-Za-z][A-Za-z0-9_.-]{0,31}$'
RE_SCHED_GROUP='^@[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'

# sched_load: defaults and allow-list checks of the values above (dies on a bad value).
sched_load() {
  XSPOT_SCHEDULER="${XSPOT_SCHEDULER:-none}"
  XSPOT_SCHED_NODE_NAME="${XSPOT_SCHED_NODE_NAME:-$(hostname -s)}"
  XSPOT_SCHED_SLOTS="${XSPOT_SCHED_SLOTS:-50}"
  XSPOT_SCHED_LAUNCHER_CPUS="${XSPOT_SCHED_LAUNCHER_CPUS:-1}"
  XSPOT_SCHED_LAUNCHER_MEMORY_MB="${XSPOT_SCHED_LAUNCHER_MEMORY_MB:-50}"
  XSPOT_SCHED_FEATURE="${XSPOT_SCHED_FEATURE:-xspot}"
  XSPOT_SCHED_QUEUES="${XSPOT_SCHED_QUEUES:-xspot}"
  XSPOT_GE_HOSTGROUP="${XSPOT_GE_HOSTGROUP:-@xspot}"
  XSPOT_SCHED_JOIN_SECONDS="${XSPOT_SCHED_JOIN_SECONDS:-120}"
  XSPOT_SCHED_START="${XSPOT_SCHED_START:-systemd}"
  case "$XSPOT_SCHEDULER" in slurm | gridengine | lsf | none) ;; *)
    die "XSPOT_SCHEDULER='$XSPOT_SCHEDULER' is not allowed: must be slurm, gridengine, lsf or none" ;;
  esac
  [[ $XSPOT_SCHED_NODE_NAME =~ $RE_SCHED_NAME ]] ||
    die "XSPOT_SCHED_NODE_NAME='$XSPOT_SCHED_NODE_NAME' is not allowed: must be a host name of letters, digits and . _ -"
  local f
  for f in XSPOT_SCHED_SLOTS XSPOT_SCHED_LAUNCHER_CPUS XSPOT_SCHED_LAUNCHER_MEMORY_MB XSPOT_SCHED_JOIN_SECONDS; do
    if ! [[ ${!f} =~ $RE_INT ]] || [ "${!f}" -lt 1 ]; then
      die "$f='${!f}' is not allowed: must be a whole number >= 1"
    fi
  done
  [ "$XSPOT_SCHED_SLOTS" -le 80 ] || die "XSPOT_SCHED_SLOTS='$XSPOT_SCHED_SLOTS' is not allowed: must be at most 80 (the guide's limit per controller)"
  [[ $XSPOT_SCHED_FEATURE =~ $RE_SCHED_NAME ]] || die "XSPOT_SCHED_FEATURE='$XSPOT_SCHED_FEATURE' is not allowed: must be letters, digits and . _ -"
  for f in $XSPOT_SCHED_QUEUES; do
    [[ $f =~ $RE_SCHED_QUEUE ]] || die "XSPOT_SCHED_QUEUES: '$f' is not allowed: must be a queue name of letters, digits and _ . -"
  done
  [[ $XSPOT_GE_HOSTGROUP =~ $RE_SCHED_GROUP ]] || die "XSPOT_GE_HOSTGROUP='$XSPOT_GE_HOSTGROUP' is not allowed: must be @ and a name"
  case "$XSPOT_SCHED_START" in systemd | direct) ;; *)
    die "XSPOT_SCHED_START='$XSPOT_SCHED_START' is not allowed: must be systemd or direct" ;;
  esac
  XSPOT_SLURM_INCLUDE="${XSPOT_SLURM_INCLUDE:-/usr/include}"
  XSPOT_SLURM_GUARD_DIR="${XSPOT_SLURM_GUARD_DIR:-/usr/libexec/xspot-cdk/slurm}"
  for f in XSPOT_SLURM_INCLUDE XSPOT_SLURM_GUARD_DIR; do
    [[ ${!f} =~ $RE_PATH ]] || die "$f='${!f}' is not allowed: must be an absolute path of letters, digits and . _ + @ -"
  done
  if [ "$XSPOT_SCHEDULER" = slurm ]; then
    XSPOT_SCHED_NODE_ADDR="${XSPOT_SCHED_NODE_ADDR:-$(hostname -I 2>/dev/null | awk '{print $1}')}"
    [[ $XSPOT_SCHED_NODE_ADDR =~ $RE_SCHED_ADDR ]] ||
      die "XSPOT_SCHED_NODE_ADDR='$XSPOT_SCHED_NODE_ADDR' is not allowed: must be an IP address"
  fi
}

# ---------------------------------------------------------------------------------------------
# Slurm: a dynamic node (slurmd -Z). Its CPUs are job slots: slots x launcher CPUs, so that
# cons_tres never places more than XSPOT_SCHED_SLOTS launchers here, whatever the partition.

slurm_node_conf() {
  printf 'CPUs=%s RealMemory=%s Feature=%s NodeAddr=%s' \
    $((XSPOT_SCHED_SLOTS * XSPOT_SCHED_LAUNCHER_CPUS)) \
    $((XSPOT_SCHED_SLOTS * XSPOT_SCHED_LAUNCHER_MEMORY_MB)) \
    "$XSPOT_SCHED_FEATURE" "$XSPOT_SCHED_NODE_ADDR"
}

# slurm_node_field KEY -> the value of KEY in `scontrol -o show node` (the last key on the line,
# Reason, may contain spaces: it runs to the end of the line), or '' when the node is unknown.
slurm_node_field() {
  local out
  out="$(scontrol -o show node "$XSPOT_SCHED_NODE_NAME" 2>/dev/null)" || return 0
  case "$1" in
    Reason) printf '%s\n' "$out" | sed -n 's/.* Reason=\(.*\) \[[^]]*\]$/\1/p; t; s/.* Reason=\(.*\)$/\1/p' | head -n1 ;;
    *) printf '%s\n' "$out" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1 ;;
  esac
}

# slurm_node_state -> the node's state (e.g. IDLE, MIXED+DRAIN, IDLE*), or '' when unknown to slurmctld
slurm_node_state() { slurm_node_field State; }

slurm_running_jobs() {
  squeue -h -w "$XSPOT_SCHED_NODE_NAME" -t RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null | grep -c . || true
}

# slurm_pidfile: slurmd's pid file for this node (SlurmdPidFile, %n expanded).
slurm_pidfile() {
  local conf="${SLURM_CONF:-/etc/slurm/slurm.conf}" pidfile
  pidfile="$(sed -n 's/^[[:space:]]*SlurmdPidFile[[:space:]]*=[[:space:]]*//Ip' "$conf" 2>/dev/null | tail -n1)"
  pidfile="${pidfile:-/var/run/slurmd.pid}"
  printf '%s\n' "${pidfile//%n/$XSPOT_SCHED_NODE_NAME}"
}

# slurm_daemon_running: true when this host's slurmd runs (systemd unit active, or the pid in
# its pid file is alive).
slurm_daemon_running() {
  if [ "$XSPOT_SCHED_START" = systemd ]; then
    systemctl is-active --quiet slurmd
    return
  fi
  local pid
  pid="$(cat "$(slurm_pidfile)" 2>/dev/null || true)"
  [[ $pid =~ $RE_INT ]] && kill -0 "$pid" 2>/dev/null
}

# slurm_start_daemon: start slurmd as this dynamic node. Under systemd a drop-in replaces the
# unit's ExecStart, so the node keeps its options across restarts of the daemon and of the
# machine (systemd would split a --conf value kept in /etc/sysconfig/slurmd at its spaces).
slurm_start_daemon() {
  local conf dropin bin
  conf="$(slurm_node_conf)"
  if [ "$XSPOT_SCHED_START" = systemd ]; then
    bin="$(command -v slurmd)" || die "slurmd is not installed: the compute-node image must carry it (docs/scheduler.md)"
    dropin="$R/etc/systemd/system/slurmd.service.d/xspot-dynamic-node.conf"
    mkdir -p "$(dirname "$dropin")"
    printf '# xspot-cdk: this controller is a Slurm dynamic node (scheduler-join.sh)\n[Service]\nType=simple\nExecStart=\nExecStart=%s -D -s -Z -N %s --conf "%s"\n' \
      "$bin" "$XSPOT_SCHED_NODE_NAME" "$conf" | write_if_changed "$dropin" 644 || true
    systemctl daemon-reload
    systemctl enable slurmd >/dev/null 2>&1 || warn "could not enable slurmd.service"
    systemctl restart slurmd
  else
    slurmd -Z -N "$XSPOT_SCHED_NODE_NAME" --conf "$conf" || die "slurmd -Z did not start (exit $?); see the slurmd log"
  fi
}

# ---------------------------------------------------------------------------------------------
# Slurm: the step guard (slurm/xspot_step_guard.c of this release, a SPANK plugin). A job step
# started into a running job (`srun --jobid=<id> [--overlap]`) never passes job_submit.lua; on a
# controller slurmstepd refuses every step but the batch step and the extern step with it
# (docs/scheduler.md, "Job steps on a controller"). Built at each join against the site's own
# Slurm headers (a SPANK plugin must match slurmd's major.minor version), installed root-owned
# with the plugstack.conf fragment that lists it as `required`. The site's plugstack.conf (one
# line, also harmless on nodes without the fragment) must include that fragment; the join
# refuses a controller whose slurmd would not load the guard. Nothing is edited outside
# XSPOT_SLURM_GUARD_DIR: plugstack.conf is often shared by every node.

# slurm_guard_dir_check DIR: DIR and every directory above it (to the root prefix) root's and not
# writable by group or others (sticky directories such as /tmp excepted).
slurm_guard_dir_check() {
  local d="$1" owner mode
  while :; do
    owner="$(stat -c %u "$d")"
    mode="$(stat -c %a "$d")"
    [ "$owner" = 0 ] || die "${d#"$R"}: owned by uid $owner, not root: refusing to install the Slurm step guard below it"
    if [ $((8#$mode & 8#022)) -ne 0 ] && [ $((8#$mode & 8#1000)) -eq 0 ]; then
      die "${d#"$R"}: mode $mode is writable by group or others: refusing to install the Slurm step guard below it"
    fi
    if [ "$d" = "${R:-/}" ] || [ "$d" = / ]; then break; fi
    d="$(dirname "$d")"
  done
}

# slurm_plugstack_file -> the plugstack.conf this host's slurmd reads (PlugStackConfig of
# slurm.conf, else plugstack.conf next to slurm.conf).
slurm_plugstack_file() {
  local conf="${SLURM_CONF:-/etc/slurm/slurm.conf}" ps
  [ -f "$conf" ] || die "no slurm.conf at $conf: the controller must read its plugstack.conf locally (configless Slurm serves it from slurmctld, docs/scheduler.md); this controller does not join"
  ps="$(sed -n 's/^[[:space:]]*PlugStackConfig[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/Ip' "$conf" | tail -n1)"
  printf '%s\n' "${ps:-$(dirname "$conf")/plugstack.conf}"
}

# slurm_header_version FILE -> major.minor (e.g. 22.05) of SLURM_VERSION_NUMBER in slurm_version.h
slurm_header_version() {
  local hex n
  hex="$(sed -n 's/^#define[[:space:]]*SLURM_VERSION_NUMBER[[:space:]]*0x\([0-9A-Fa-f]\{6\}\).*/\1/p' "$1" 2>/dev/null | head -n1)"
  [ -n "$hex" ] || return 0
  n=$((16#$hex))
  printf '%d.%02d\n' $((n >> 16 & 255)) $((n >> 8 & 255))
}

slurm_step_guard() {
  local src="$XSPOT_HOME/slurm/xspot_step_guard.c" inc="$XSPOT_SLURM_INCLUDE" dir="$R$XSPOT_SLURM_GUARD_DIR"
  local so fragment v_headers v_slurmd tmp ps
  so="$dir/xspot_step_guard.so"
  fragment="$dir/plugstack.conf"
  [ -f "$src" ] || die "$src is missing from this release"
  [ -f "$inc/slurm/spank.h" ] ||
    die "cannot build the Slurm step guard: $inc/slurm/spank.h is missing (install Slurm's headers, slurm-devel or libslurm-dev, of the slurmd version in the controller image): this controller does not join"
  command -v cc >/dev/null ||
    die "cannot build the Slurm step guard: no C compiler (cc) in the controller image: this controller does not join"
  v_headers="$(slurm_header_version "$inc/slurm/slurm_version.h")"
  v_slurmd="$(slurmd -V 2>/dev/null | sed -n 's/^slurm[^0-9]*\([0-9]*\.[0-9]*\)\..*/\1/p' | head -n1)"
  [ -n "$v_slurmd" ] || die "cannot tell the slurmd version (slurmd -V): this controller does not join"
  [ "$v_headers" = "$v_slurmd" ] ||
    die "the Slurm headers in $inc are version '${v_headers:-unknown}', slurmd is $v_slurmd: the step guard must be built against slurmd's own version; this controller does not join"

  mkdir -p "$dir"
  slurm_guard_dir_check "$dir"
  tmp="$(mktemp -d)"
  if ! cc -shared -fPIC -O2 -Wall -Werror -I"$inc" -o "$tmp/xspot_step_guard.so" "$src" >"$tmp/cc.log" 2>&1; then
    log "cc: $(tr '\n' ' ' <"$tmp/cc.log")"
    rm -rf "$tmp"
    die "building the Slurm step guard failed (see the cc output above): this controller does not join"
  fi
  install_if_changed "$tmp/xspot_step_guard.so" "$so" 0755 >/dev/null || true
  rm -rf "$tmp"
  chown 0:0 "$so"
  chmod 0755 "$so"
  printf '# xspot-cdk: the step guard of this X-Spot controller (scheduler-join.sh)\nrequired %s\n' "$so" |
    write_if_changed "$fragment" 644 || true
  chown 0:0 "$fragment"

  ps="$(slurm_plugstack_file)"
  if ! awk -v f="$fragment" -v s="$so" '{ sub(/#.*/, "") } ($1 == "include" && $2 == f) || ($1 == "required" && $2 == s) { found = 1 } END { exit !found }' "$ps" 2>/dev/null; then
    die "$ps does not include the step guard: add the line 'include $fragment' to the site's plugstack.conf (docs/scheduler.md, \"Job steps on a controller\"); without it any user with a job here could run commands on this controller with srun --jobid: this controller does not join"
  fi
  log "Slurm step guard: $so ($v_slurmd), required through $ps"
}

slurm_join() {
  local state
  slurm_step_guard
  state="$(slurm_node_state)"
  # slurmctld notices a dead slurmd only after SlurmdTimeout: the local daemon decides.
  if slurm_daemon_running; then
    log "Slurm node $XSPOT_SCHED_NODE_NAME: slurmd runs here (slurmctld state '${state:-unknown}')"
  else
    case "$state" in
      '') log "registering Slurm dynamic node $XSPOT_SCHED_NODE_NAME ($(slurm_node_conf))" ;;
      *) log "Slurm node $XSPOT_SCHED_NODE_NAME is known (state $state) but slurmd does not run here: starting it" ;;
    esac
    slurm_start_daemon
  fi
  local waited=0
  while :; do
    state="$(slurm_node_state)"
    case "$state" in
      *DRAIN*)
        # Only our own drain (an earlier leave) is undone; a site admin's drain stays.
        if [ "$(slurm_node_field Reason)" = "$SCHED_REASON" ]; then
          log "node $XSPOT_SCHED_NODE_NAME was drained by an earlier leave (state $state): resuming it"
          scontrol update nodename="$XSPOT_SCHED_NODE_NAME" state=resume
        else
          log "Slurm node $XSPOT_SCHED_NODE_NAME is drained by the site (reason '$(slurm_node_field Reason)'): left drained"
          return 0
        fi
        ;;
      IDLE | MIXED | ALLOCATED | IDLE+* | MIXED+* | ALLOCATED+*)
        case "$state" in *'*'* | *DOWN* | *NOT_RESPONDING*) ;; *)
          log "Slurm node $XSPOT_SCHED_NODE_NAME is in service (state $state)"
          return 0
          ;;
        esac
        ;;
    esac
    [ "$waited" -lt "$XSPOT_SCHED_JOIN_SECONDS" ] ||
      die "Slurm node $XSPOT_SCHED_NODE_NAME did not register within ${XSPOT_SCHED_JOIN_SECONDS}s (state '${state}')"
    sleep 1
    waited=$((waited + 1))
  done
}

slurm_close() {
  scontrol update nodename="$XSPOT_SCHED_NODE_NAME" state=drain reason="$SCHED_REASON"
}

# slurm_stop_direct: stop a slurmd started with XSPOT_SCHED_START=direct, by its pid file.
slurm_stop_direct() {
  local pidfile pid
  pidfile="$(slurm_pidfile)"
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [[ $pid =~ $RE_INT ]] && kill "$pid" 2>/dev/null; then
    local _
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.2
    done
    warn "slurmd (pid $pid) still runs after 10s"
  else
    warn "no running slurmd found by $pidfile"
  fi
}

slurm_remove() {
  if [ -z "$(slurm_node_state)" ]; then
    log "Slurm node $XSPOT_SCHED_NODE_NAME is not registered: nothing to remove"
    return 0
  fi
  if [ "$XSPOT_SCHED_START" = systemd ]; then
    systemctl disable --now slurmd >/dev/null 2>&1 || warn "could not stop slurmd.service"
  else
    slurm_stop_direct
  fi
  scontrol delete nodename="$XSPOT_SCHED_NODE_NAME"
  log "Slurm node $XSPOT_SCHED_NODE_NAME removed"
}

# registered | draining | missing
slurm_membership() {
  local state
  state="$(slurm_node_state)"
  case "$state" in
    '') echo missing ;;
    *DRAIN*) echo draining ;;
    *'*'* | DOWN*) echo down ;;
    *) echo registered ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Grid Engine: an execution host in the X-Spot host group whose host-level `slots` complex
# caps launchers across every X-Spot queue. The qconf calls need this host to be an admin host
# (docs/scheduler.md: the controller subnet's hosts are admin hosts, or run the calls elsewhere).

ge_host_exists() { qconf -se "$XSPOT_SCHED_NODE_NAME" >/dev/null 2>&1; }

ge_in_group() {
  qconf -shgrp_resolved "$XSPOT_GE_HOSTGROUP" 2>/dev/null | tr ' ' '\n' | grep -qx "$XSPOT_SCHED_NODE_NAME"
}

ge_running_jobs() {
  local q n=0 c
  for q in $XSPOT_SCHED_QUEUES; do
    c="$(qstat -u '*' -s rs -q "$q@$XSPOT_SCHED_NODE_NAME" 2>/dev/null | awk 'NR > 2' | grep -c . || true)"
    n=$((n + c))
  done
  echo "$n"
}

ge_join() {
  local tmp
  tmp="$(mktemp)"
  if ge_host_exists; then
    if ! qconf -se "$XSPOT_SCHED_NODE_NAME" | grep -Eq "^complex_values[[:space:]].*(^|[ ,])slots=$XSPOT_SCHED_SLOTS(,|$)"; then
      log "setting slots=$XSPOT_SCHED_SLOTS on Grid Engine execution host $XSPOT_SCHED_NODE_NAME"
      qconf -mattr exechost complex_values "slots=$XSPOT_SCHED_SLOTS" "$XSPOT_SCHED_NODE_NAME" >/dev/null
    fi
  else
    log "adding Grid Engine execution host $XSPOT_SCHED_NODE_NAME (slots=$XSPOT_SCHED_SLOTS)"
    printf 'hostname %s\nload_scaling NONE\ncomplex_values slots=%s\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
      "$XSPOT_SCHED_NODE_NAME" "$XSPOT_SCHED_SLOTS" >"$tmp"
    qconf -Ae "$tmp" >/dev/null
  fi
  rm -f "$tmp"
  if ! ge_in_group; then
    log "adding $XSPOT_SCHED_NODE_NAME to host group $XSPOT_GE_HOSTGROUP"
    qconf -aattr hostgroup hostlist "$XSPOT_SCHED_NODE_NAME" "$XSPOT_GE_HOSTGROUP" >/dev/null
  fi
  local q
  for q in $XSPOT_SCHED_QUEUES; do qmod -e "$q@$XSPOT_SCHED_NODE_NAME" >/dev/null 2>&1 || true; done
  if [ "$XSPOT_SCHED_START" = systemd ]; then
    systemctl enable --now sgeexecd >/dev/null 2>&1 || systemctl start sge_execd ||
      warn "could not start the Grid Engine execution daemon"
  fi
  log "Grid Engine host $XSPOT_SCHED_NODE_NAME is in $XSPOT_GE_HOSTGROUP with slots=$XSPOT_SCHED_SLOTS"
}

ge_close() {
  local q
  for q in $XSPOT_SCHED_QUEUES; do qmod -d "$q@$XSPOT_SCHED_NODE_NAME" >/dev/null; done
}

ge_remove() {
  if ge_in_group; then
    qconf -dattr hostgroup hostlist "$XSPOT_SCHED_NODE_NAME" "$XSPOT_GE_HOSTGROUP" >/dev/null
  fi
  if ge_host_exists; then
    if [ "$XSPOT_SCHED_START" = systemd ]; then qconf -ke "$XSPOT_SCHED_NODE_NAME" >/dev/null 2>&1 || true; fi
    qconf -de "$XSPOT_SCHED_NODE_NAME" >/dev/null
  fi
  log "Grid Engine host $XSPOT_SCHED_NODE_NAME removed from $XSPOT_GE_HOSTGROUP"
}

ge_membership() {
  if ! ge_host_exists || ! ge_in_group; then
    echo missing
    return 0
  fi
  local q
  for q in $XSPOT_SCHED_QUEUES; do
    # qstat -f: queue, type, slots, load, arch, [states]; the arch (lx-amd64) has a d of its own
    if qstat -f -q "$q@$XSPOT_SCHED_NODE_NAME" 2>/dev/null | awk -v h="$q@$XSPOT_SCHED_NODE_NAME" '$1 == h {print $6}' | grep -q d; then
      echo draining
      return 0
    fi
  done
  echo registered
}

# ---------------------------------------------------------------------------------------------
# LSF: a dynamic host (LSF_HOST_ADDR_RANGE in lsf.cluster): starting the daemons joins it.

lsf_join() {
  if [ "$XSPOT_SCHED_START" = systemd ]; then
    log "starting the LSF daemons (lsfd.service)"
    systemctl enable --now lsfd >/dev/null 2>&1 || systemctl start lsfd
  else
    log "starting the LSF daemons (lsf_daemons start)"
    lsf_daemons start
  fi
  local waited=0
  until [ "$(lsf_membership)" != missing ]; do
    [ "$waited" -lt "$XSPOT_SCHED_JOIN_SECONDS" ] ||
      die "LSF host $XSPOT_SCHED_NODE_NAME did not join within ${XSPOT_SCHED_JOIN_SECONDS}s (bhosts does not list it)"
    sleep 1
    waited=$((waited + 1))
  done
  if [ "$(lsf_membership)" = draining ]; then
    log "LSF host $XSPOT_SCHED_NODE_NAME is closed: opening it (badmin hopen)"
    badmin hopen "$XSPOT_SCHED_NODE_NAME"
  fi
  log "LSF host $XSPOT_SCHED_NODE_NAME is $(lsf_membership)"
}
lsf_close() { badmin hclose -C "$SCHED_REASON" "$XSPOT_SCHED_NODE_NAME"; }
lsf_running_jobs() {
  bjobs -u all -r -m "$XSPOT_SCHED_NODE_NAME" -noheader 2>/dev/null | grep -c . || true
}
lsf_remove() { log "LSF removes a closed dynamic host by itself once its daemons stop"; }
lsf_membership() {
  local status
  status="$(bhosts -w "$XSPOT_SCHED_NODE_NAME" 2>/dev/null | awk 'NR == 2 {print $2}')"
  case "$status" in
    '') echo missing ;;
    closed_Adm) echo draining ;;
    unavail | unreach) echo down ;;
    *) echo registered ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# dispatch: sched_<action> for the configured scheduler

sched_call() { # sched_call ACTION
  case "$XSPOT_SCHEDULER" in
    slurm) "slurm_$1" ;;
    gridengine) "ge_$1" ;;
    lsf) "lsf_$1" ;;
    none) [ "$1" != running_jobs ] || echo 0 ;;
  esac
}
