#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Instructions the whole syslog-ng process executes to deliver N indicators with threatq()
# -> file(), counted by valgrind's callgrind: repeatable on a noisy VM, where the rates of
# bench/run.sh swing by 10-20% between runs.  Compares builds of the module:
#
#   bench/callgrind.sh [--n N] DIR [DIR ...]      (DIR holds libthreatq.so; default N 20,000)
#
# Prints the total per build and each one's ratio to the first.  Needs valgrind, python3,
# syslog-ng 3.38 (other releases: set SYSLOG_NG_MODULE_DIR and SYSLOG_NG_VERSION).
set -eu
n=20000
[ "${1:-}" = --n ] && { n=$2; shift 2; }
[ $# -ge 1 ] || { sed -n 3,10p "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
sysmod=${SYSLOG_NG_MODULE_DIR:-$(pkg-config --variable=moduledir syslog-ng 2>/dev/null || echo /usr/lib/syslog-ng/3.38)}
version=${SYSLOG_NG_VERSION:-$(syslog-ng --version | sed -n 's/^Config version: *//p')}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

run_one() { # DIR TAG -> prints the instruction total
  local mod=$1 w=$work/$2
  mkdir -p "$w"; : >"$w/out.ndjson"
  python3 "$here/fast_server.py" --indicators "$n" --port-file "$w/port" --prerender 1000 >"$w/server.log" 2>&1 &
  local spid=$!
  for _ in $(seq 100); do [ -s "$w/port" ] && break; sleep 0.1; done
  cat >"$w/syslog-ng.conf" <<CONF
@version: $version
options { stats-freq(0); time-reopen(1); };
source s_in {
  threatq(url("http://127.0.0.1:$(cat "$w/port")") collection("bench") client-id("id") client-secret("secret")
          page-size(1000) poll-interval(3600) log-iw-size(10000));
};
destination d_out { file("$w/out.ndjson" template("\$MESSAGE\n")); };
log { source(s_in); destination(d_out); };
CONF
  valgrind --tool=callgrind --callgrind-out-file="$w/cg.out" syslog-ng -F --no-caps -f "$w/syslog-ng.conf" \
    -R "$w/persist" -p "$w/pid" -c "$w/ctl" --module-path="$sysmod:$mod" >"$w/syslog-ng.log" 2>&1 &
  local vpid=$!
  for _ in $(seq 2400); do
    [ "$(wc -l <"$w/out.ndjson")" -ge "$n" ] && break
    kill -0 "$vpid" 2>/dev/null || break
    sleep 0.5
  done
  kill -TERM "$vpid" 2>/dev/null; wait "$vpid" || true
  kill "$spid"; wait "$spid" 2>/dev/null || true
  local lines; lines=$(wc -l <"$w/out.ndjson")
  [ "$lines" -eq "$n" ] || { echo "callgrind: $mod wrote $lines of $n lines" >&2; tail "$w/syslog-ng.log" >&2; exit 1; }
  sed -n 's/^summary: *//p' "$w/cg.out"
}

first=""; i=0
for dir in "$@"; do
  i=$((i + 1))
  ir=$(run_one "$(cd "$dir" && pwd)" "b$i")
  [ -n "$first" ] || first=$ir
  awk -v d="$dir" -v ir="$ir" -v f="$first" -v n="$n" \
    'BEGIN { printf "%-50s %14.0f instructions, %8.0f per indicator, %.4f x the first\n", d, ir, ir / n, ir / f }'
done
