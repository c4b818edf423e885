#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Where configuration (c) of compare.sh spends syslog-ng's CPU: threatq-match()'s share of the
# process, and the share of its parts (issue 15, point 6).  perf samples by time (cpu-clock, so
# it works without a PMU, as on this VM) with DWARF call graphs; shares are of all samples of
# the syslog-ng process while it passes the lines, kernel included.
#
#   bench/match/profile.sh [--indicators N] [--lines L]   (defaults 1,000,000; about 1.5 minutes)
#
# It runs `compare.sh --only c --repeat 1` to make the inputs, the state file and (c)'s
# configuration, then starts that configuration once more, pinned to CPU 1, under perf.  The
# threatq() source's emulator is gone by then: the source logs that it cannot connect, which
# does not touch the measured path (the set comes from match-state-file() at start).
# Needs: perf (Debian's linux-perf), and what compare.sh needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v perf >/dev/null || { echo "profile.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
n=1000000 l=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --indicators) n=$2; shift 2 ;;
    --lines) l=$2; shift 2 ;;
    *) echo "usage: profile.sh [--indicators N] [--lines L]" >&2; exit 2 ;;
  esac
done
w=$(mktemp -d /dev/shm/threatq-match-profile-XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$w"' EXIT
python3 "$here/compare.py" --only c --repeat 1 --indicators "$n" --lines "$l" --workdir "$w" >"$w/compare.txt" 2>&1 ||
  { cat "$w/compare.txt" >&2; exit 1; }
grep -E '^\(c\) threatq-match\(\) #1|^\(c\) sync' "$w/compare.txt" || true

# the measured start again: a fresh persist file (the input from its start) and the state file
# as the sync left it
d=$w/profiled
mkdir -p "$d"
sed -e "s|$w/c-1/out|$d/out|" "$w/c-1/syslog-ng.conf" >"$d/syslog-ng.conf"
cp "$w/threatq-s_tq.match.after-sync" "$w/threatq-s_tq.match"
module_dir=${THREATQ_MODULE_DIR:-$here/../../modules/threatq/.libs}
taskset -c 1 syslog-ng -F --no-caps -f "$d/syslog-ng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl" \
  --module-path="$(pkg-config --variable=moduledir syslog-ng):$module_dir" >"$d/syslog-ng.log" 2>&1 &
pid=$!
lines() { [ -f "$d/out" ] && wc -l <"$d/out" || echo 0; }
for _ in $(seq 600); do [ "$(lines)" -gt 0 ] && break; sleep 0.1; done
perf record --call-graph dwarf,16384 -F 1000 -o "$d/perf.data" -p "$pid" >"$d/perf.log" 2>&1 &
perf_pid=$!
until [ "$(lines)" -ge $((l * 9 / 10)) ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
kill -INT "$perf_pid"
wait "$perf_pid" || true
kill "$pid"
wait "$pid" || true

perf report -i "$d/perf.data" --children --sort sym -g none 2>/dev/null >"$d/report.txt" || true
grep -q '%' "$d/report.txt" || { echo "profile.sh: perf recorded nothing:" >&2; cat "$d/perf.log" >&2; exit 1; }
share() {  # share SYMBOL-REGEX: the first matching line's children (inclusive) share
  awk -v re="$1" '$1 ~ /%$/ && $4 ~ re { print $1; found = 1; exit } END { if (!found) print "-" }' "$d/report.txt"
}
echo
echo "syslog-ng (c), $(grep -m1 -o '[0-9]* samples' "$d/perf.log" || echo "?"), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')):"
match=$(share '^_match$') lookup=$(share '^threatq_match_set_lookup$')
classify=$(share '^threatq_match_value_classify$') output=$(share '^threatq_match_output_write$')
printf '  %-58s %s\n' \
  "threatq-match()'s work a message (_match, inclusive)" "$match" \
  "  its look-ups (threatq_match_set_lookup)" "$lookup" \
  "    of which the filter test, where its one read waits" "$(share '^threatq_match_filter_may_contain')" \
  "  the classifier (threatq_match_value_classify)" "$classify" \
  "  a hit's output (threatq_match_output_write)" "$output" \
  "for scale: kv-parser() (log_parser_process_message)" "$(share '^log_parser_process_message$')" \
  "for scale: mktime()'s tzset, a stat() of /etc/localtime" "$(share '^__tzset$')"
# perf's DWARF unwinding can lose a caller's frame in some samples: then _match() comes out
# smaller than its own parts, and the run is better repeated than believed
awk -v m="$match" -v l="$lookup" -v c="$classify" -v o="$output" \
  'BEGIN { if (m + 0 < l + c + o - 0.05)
             printf "  (unwinding lost frames: _match %s is less than its parts, %.2f%%; run it again)\n", m, l + c + o }'
