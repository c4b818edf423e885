#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue #4 item 6, memory safety, in one command (CI runs it after `make check`):
#   1. tests/sanitizers.sh   unit + functional suites against an ASan/UBSan build
#   2. tests/valgrind.sh     the end-to-end sync under valgrind memcheck
#   3. tests/fuzz/run.sh N   libFuzzer on the page parser + mapper, N seconds (default 60)
#
#   tests/memory-checks.sh [FUZZ_SECONDS]
#
# Runs all three even when one fails, prints a summary, exits non-zero if any failed.
# Needs: gcc's libasan/libubsan (build-essential), clang + libclang-rt-14-dev, valgrind.
# valgrind.sh uses the in-tree build (modules/threatq/.libs), as left by `make`.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${1:-60}
out=${MEMORY_CHECKS_DIR:-$top/_build-memory-checks}
mkdir -p "$out"

summary=""
failed=0
step() {
  name=$1; shift
  echo "=== memory checks: $name: $*"
  t0=$(date +%s)
  "$@" >"$out/$name.log" 2>&1
  rc=$?
  t=$(( $(date +%s) - t0 ))
  # each script ends with its own verdict and figures: show them
  grep -E "^($name|fuzz|sanitizers|valgrind):|^# (TOTAL|PASS|FAIL|ERROR)|[0-9]+ passed|[0-9]+ failed" "$out/$name.log" | tail -8
  if [ "$rc" -eq 0 ]; then
    verdict="ok"
  else
    verdict="FAILED (exit $rc, log $out/$name.log)"; failed=$((failed + 1))
    tail -60 "$out/$name.log"
  fi
  line=$(grep -E "^($name|fuzz|sanitizers|valgrind): (ok|make check|pytest exit|FAILED)" "$out/$name.log" | head -1)
  summary="$summary
  $name: $verdict in ${t}s${line:+ -- $line}"
}

step sanitizers sh "$top/tests/sanitizers.sh"
step valgrind sh "$top/tests/valgrind.sh"
step fuzz sh "$top/tests/fuzz/run.sh" "$fuzz_seconds"

echo "=== memory checks summary:$summary"
echo "memory-checks: $((3 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
