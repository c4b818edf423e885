#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds bench/match/bench_match_set.c against the threatq-match sources (-O2,
# no sanitizers) and runs it: insert time, peak RSS, lookups/s with 1% hits.
#
#   bench/match/run.sh [INDICATORS=1000000] [SECONDS=3] [READERS=2] [reserve]
#   bench/match/run.sh snapshot [INDICATORS=1000000]
# The second builds bench_match_snapshot.c instead: it writes the snapshot file of the set, then
# loads it in a fresh process (write, compaction and load times, file size, VmHWM).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/modules/threatq
out=${BENCH_BUILD_DIR:-${TMPDIR:-/tmp}/threatq-bench-match}
cc=${CC:-gcc}
mkdir -p "$out"
if [ "${1:-}" = snapshot ]; then
  n=${2:-1000000}
  # shellcheck disable=SC2046
  "$cc" -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$src" -I"$here" $(pkg-config --cflags glib-2.0) \
    -o "$out/bench_match_snapshot" "$here/bench_match_snapshot.c" \
    "$src/threatq-match-value.c" "$src/threatq-match-rcu.c" "$src/threatq-match-table.c" "$src/threatq-match-filter.c" "$src/threatq-match-set.c" \
    "$src/threatq-match-snapshot.c" "$src/threatq-match-snapshot-format.c" $(pkg-config --libs glib-2.0) -lm
  echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$out/bench_match_snapshot" write "$n" "$out/bench.match"
  status=0
  "$out/bench_match_snapshot" load "$n" "$out/bench.match" || status=$?
  rm -f "$out/bench.match"
  exit "$status"
fi
# shellcheck disable=SC2046
"$cc" -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$src" $(pkg-config --cflags glib-2.0) \
  -o "$out/bench_match_set" "$here/bench_match_set.c" \
  "$src/threatq-match-value.c" "$src/threatq-match-rcu.c" "$src/threatq-match-table.c" "$src/threatq-match-filter.c" "$src/threatq-match-set.c" \
  $(pkg-config --libs glib-2.0) -lm
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$out/bench_match_set" "$@"
