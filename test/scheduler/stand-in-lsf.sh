#!/usr/bin/env bash
# Stand-in for the LSF commands the membership scripts call (there is no free LSF build): linked
# as lsf_daemons, badmin, bhosts and bjobs in a directory first on PATH. Every call is appended
# to $LSF_STANDIN_DIR/calls; the host's state lives in $LSF_STANDIN_DIR:
#   joined       exists once `lsf_daemons start` ran (bhosts then lists the host)
#   closed       exists after `badmin hclose` (bhosts says closed_Adm), removed by `badmin hopen`
#   jobs         running jobs `bjobs -r -m HOST` lists, decremented per call
# Output formats follow `bhosts -w` and `bjobs -noheader`.
set -euo pipefail
D="${LSF_STANDIN_DIR:?}"
name="$(basename "$0")"
printf '%s %s\n' "$name" "$*" >>"$D/calls"
case "$name" in
  lsf_daemons) [ "${1:-}" = start ] && touch "$D/joined" ;;
  badmin)
    case "${1:-}" in
      hclose) touch "$D/closed" ;;
      hopen) rm -f "$D/closed" ;;
    esac
    ;;
  bhosts)
    host="${*: -1}"
    [ -f "$D/joined" ] || { echo "$host: No such host" >&2; exit 255; }
    status=ok
    [ -f "$D/closed" ] && status=closed_Adm
    printf 'HOST_NAME          STATUS       JL/U    MAX  NJOBS    RUN  SSUSP  USUSP    RSV\n'
    printf '%-18s %-12s -       3    0      0    0      0      0\n' "$host" "$status"
    ;;
  bjobs)
    n="$(cat "$D/jobs" 2>/dev/null || echo 0)"
    if [ "$n" -gt 0 ]; then
      echo "101     alice   RUN   xspot      submit1     ${*: -2:1}     sleep      Mar  2 12:00"
      echo $((n - 1)) >"$D/jobs"
    fi
    ;;
esac
