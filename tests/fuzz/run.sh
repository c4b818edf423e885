#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the fuzz targets with clang's libFuzzer + ASan + UBSan and run each for a
# bounded time from its seed corpus: fuzz_page.c (page parser and mapper, seeds in
# corpus/), fuzz_token.c (token response, cursor record, HTTP policy, corpus-token/),
# fuzz_match_value.c (the threatq-match value classifier, corpus-match/), fuzz_match_snapshot.c
# (the threatq-match snapshot file's load, corpus-snapshot/), fuzz_json_events.c (the
# JSON fast path against yajl, corpus-json/ and corpus/).
#
#   tests/fuzz/run.sh [SECONDS]   (per target, default 60; 0 = only replay the corpora)
#
# fuzz_json_events gets half of SECONDS (at least 1): it is a differential
# check of one file, and fuzz_page already drives the fast path through the mapper.
#
# Environment: FUZZ_BUILD_DIR (default <repo>/_build-fuzz), CLANG (default clang),
# FUZZ_JOBS (parallel fuzzing processes, default 1), FUZZ_ARGS (extra libFuzzer flags),
# FUZZ_CFLAGS (extra compiler flags, e.g. -DFUZZ_SKIP_UTF8_CHECKS while such a bug is open).
# Exit status: 0 = no finding; non-zero = a crash, leak, UBSan report, timeout or
# contract check (the reproducer is copied to $FUZZ_BUILD_DIR/artifacts/ and its
# path printed: keep it as tests/fuzz/corpus/crash-<what> once the bug is fixed).
# The seed corpora are never written to: new inputs go to $FUZZ_BUILD_DIR/corpus-<target>.
#
# Slow and memory-hungry inputs fail like crashes (issue 10): one input may take
# at most FUZZ_TIMEOUT seconds (default 5), the process at most FUZZ_RSS_MB of
# resident memory (default 1024) and one allocation at most FUZZ_MALLOC_MB
# (default 256).  Inputs are at most FUZZ_MAX_LEN bytes (default 131072), which
# covers the ~100 KB hostile-* seeds; the bounds they reach are in docs/limits.md.
set -eu
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/_build-fuzz}
cc=${CLANG:-clang}
jobs=${FUZZ_JOBS:-1}
limits="-timeout=${FUZZ_TIMEOUT:-5} -rss_limit_mb=${FUZZ_RSS_MB:-1024} -malloc_limit_mb=${FUZZ_MALLOC_MB:-256}"
max_len=${FUZZ_MAX_LEN:-131072}

command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev)"; exit 2; }
rm -rf "$build/artifacts"
mkdir -p "$build/artifacts"

src=$top/modules/threatq
# build NAME SOURCE... : one libFuzzer + ASan + UBSan binary in $build/NAME
build() {
  name=$1; shift
  # shellcheck disable=SC2046
  "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -Wall -Wno-unused-parameter ${FUZZ_CFLAGS:-} \
    -I"$src" $(pkg-config --cflags glib-2.0 yajl) \
    -o "$build/$name" "$here/$name.c" "$@" $(pkg-config --libs glib-2.0 yajl)
  echo "fuzz: built $build/$name"
}
build fuzz_page "$src/threatq-mapper.c" "$src/threatq-mapper-indicator.c" "$src/threatq-arena.c" \
  "$src/threatq-document.c" "$src/threatq-json-events.c" "$src/threatq-mapper-dates.c" "$src/threatq-number.c" \
  "$src/threatq-url.c"
build fuzz_token "$src/threatq-token.c" "$src/threatq-http-policy.c" "$src/threatq-cursor-record.c" \
  "$src/threatq-number.c"
build fuzz_match_value "$src/threatq-match-value.c"
build fuzz_match_snapshot "$src/threatq-match-snapshot.c" "$src/threatq-match-snapshot-format.c" \
  "$src/threatq-match-set.c" "$src/threatq-match-table.c" "$src/threatq-match-filter.c" "$src/threatq-match-rcu.c" "$src/threatq-match-value.c"
build fuzz_json_events "$src/threatq-json-events.c"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$build/fuzz.log
: >"$log"
# fuzz NAME SEEDS [DICT [MORE_SEEDS]]: replay (SECONDS=0) or fuzz NAME from the seeds for
# $fuzz_time seconds if set (it is reset here), else SECONDS
fuzz() {
  name=$1; seeds=$here/$2; dict=${3:+-dict=$here/$3}; more=${4:+$here/$4}
  time=${fuzz_time:-$seconds}; fuzz_time=
  mkdir -p "$build/corpus-$name"
  echo "== $name" >>"$log"
  if [ "$seconds" = 0 ]; then
    # shellcheck disable=SC2086
    "$build/$name" -runs=0 $limits -max_len="$max_len" $dict \
      -artifact_prefix="$build/artifacts/" "$seeds" $more >>"$log" 2>&1
  else
    # shellcheck disable=SC2046,SC2086
    "$build/$name" -max_total_time="$time" $limits -max_len="$max_len" $dict \
      -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
      $([ "$jobs" -gt 1 ] && echo "-jobs=$jobs -workers=$jobs") ${FUZZ_ARGS:-} \
      "$build/corpus-$name" "$seeds" $more >>"$log" 2>&1
  fi
}
set +e
rc=0
fuzz_time=
fuzz fuzz_page corpus page.dict || rc=$?
fuzz fuzz_token corpus-token || rc=$?
fuzz fuzz_match_value corpus-match || rc=$?
fuzz fuzz_match_snapshot corpus-snapshot || rc=$?
fuzz_time=$(( seconds > 1 ? seconds / 2 : seconds ))
fuzz fuzz_json_events corpus-json page.dict corpus || rc=$?
set -e
# with -jobs, each job logs to fuzz-N.log in the current directory
for f in fuzz-[0-9]*.log; do [ -f "$f" ] && { cat "$f" >>"$log"; rm -f "$f"; }; done

runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
# (with -jobs the parent repeats its jobs' final stats: count each once)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | sort -u | awk '{s+=$1} END {print s+0}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
corpus_n=$(find "$build"/corpus-fuzz_* -type f | wc -l)
if [ "$rc" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|fuzz_[a-z_]*: check failed|^SUMMARY:|ALARM: working on the last Unit|out-of-memory \(' "$log"; then
  echo "fuzz: FAILED (exit $rc) after ${runs:-$execs executions}"
  grep -nE 'ERROR|runtime error|check failed|SUMMARY|Test unit written|ALARM|out-of-memory|^    #[0-9]' "$log" | head -60
  ls -l "$build/artifacts" 2>/dev/null
  echo "fuzz: full log: $log"
  [ "$rc" -ne 0 ] && exit "$rc"
  exit 1
fi
echo "fuzz: ok: ${runs:-$execs executions} ($execs executions, $cov, $corpus_n new corpus files in $build/corpus-fuzz_*), no findings"
