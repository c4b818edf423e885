#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The functional end-to-end case under valgrind memcheck:
# tests/functional/test_sync.py::test_full_sync_exactly_once (2,500 indicators
# through token, paging, mapping and delivery, then SIGTERM), with syslog-ng
# started through THREATQ_SYSLOG_NG_WRAPPER (see tests/functional/syslogng.py).
#
#   tests/valgrind.sh [PYTEST_SELECTOR...]     (default: the test above, both variants)
#
# Uses the module of a normal (non-sanitizer) build: THREATQ_MODULE_DIR, default
# <repo>/modules/threatq/.libs (built with make if missing and the tree is configured).
# Fails when the test fails, when any valgrind log lacks "ERROR SUMMARY: 0 errors"
# (leaks of kind "definite" count as errors), or when any reported stack involves
# threatq code.  tests/valgrind.supp holds suppressions for syslog-ng's, glib's and
# ivykis's own reports only: a threatq frame in it is refused.
# Environment: VALGRIND_DIR (logs; default <repo>/_build-valgrind), THREATQ_TEST_TIMEOUT_SCALE (default 6).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
logs=${VALGRIND_DIR:-$top/_build-valgrind}
supp=$top/tests/valgrind.supp
py=${PYTEST_PYTHON:-/usr/bin/python3}

command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (apt-get install valgrind)"; exit 2; }
if grep -v '^#' "$supp" | grep -qi threatq; then
  echo "valgrind: $supp mentions threatq: module frames must never be suppressed"; exit 1
fi

moddir=${THREATQ_MODULE_DIR:-$top/modules/threatq/.libs}
if [ ! -f "$moddir/libthreatq.so" ] && [ -z "${THREATQ_MODULE_DIR:-}" ] && [ -f "$top/Makefile" ]; then
  make -C "$top" -j2 >/dev/null
fi
[ -f "$moddir/libthreatq.so" ] || { echo "valgrind: $moddir/libthreatq.so missing: build first"; exit 2; }
if ldd "$moddir/libthreatq.so" | grep -q libasan; then
  echo "valgrind: $moddir/libthreatq.so is an ASan build; valgrind needs a normal build"; exit 2
fi

rm -rf "$logs"
mkdir -p "$logs"
export THREATQ_MODULE_DIR="$moddir"
export THREATQ_SYSLOG_NG_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --num-callers=40 \
--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
--suppressions=$supp --gen-suppressions=all --log-file=$logs/vg.%p.log"
export THREATQ_TEST_TIMEOUT_SCALE=${THREATQ_TEST_TIMEOUT_SCALE:-6}
export G_SLICE=always-malloc G_DEBUG=gc-friendly

if [ $# -eq 0 ]; then
  set -- "$top/tests/functional/test_sync.py::test_full_sync_exactly_once"
fi
start=$(date +%s)
set +e
(cd "$top" && "$py" -m pytest -q -p no:cacheprovider "$@") >"$logs/pytest.out" 2>&1
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
tail -1 "$logs/pytest.out"

nlogs=0; bad=0; errors=0; module=0
for f in "$logs"/vg.*.log; do
  [ -f "$f" ] || continue
  nlogs=$((nlogs + 1))
  n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
  if [ -z "$n" ]; then
    echo "valgrind: $f has no ERROR SUMMARY (syslog-ng did not exit normally)"; bad=$((bad + 1))
  elif [ "$n" -ne 0 ]; then
    errors=$((errors + n)); bad=$((bad + 1))
  fi
  if grep -q 'threatq' "$f" && grep -E '^==[0-9]+== +(at|by) ' "$f" | grep -q threatq; then
    module=$((module + 1))
  fi
done
if [ "$bad" -gt 0 ] || [ "$module" -gt 0 ]; then
  for f in "$logs"/vg.*.log; do
    if ! grep -q 'ERROR SUMMARY: 0 errors' "$f" || grep -E '^==[0-9]+== +(at|by) ' "$f" | grep -q threatq; then
      echo "===== $f"
      grep -vE '^==[0-9]+== (Memcheck,|Copyright|Using Valgrind|Command:|Parent PID:)|^==[0-9]+== *$' "$f" | head -80
    fi
  done
fi
echo "valgrind: pytest exit $rc in ${elapsed}s; syslog-ng runs: $nlogs, memcheck errors: $errors, runs with threatq frames in a report: $module (logs: $logs)"
if [ "$rc" -ne 0 ]; then
  tail -60 "$logs/pytest.out"
  echo "valgrind: FAILED (pytest)"; exit 1
fi
[ "$nlogs" -gt 0 ] || { echo "valgrind: FAILED (no valgrind log: was syslog-ng started under valgrind?)"; exit 1; }
[ "$bad" -eq 0 ] && [ "$module" -eq 0 ] || { echo "valgrind: FAILED"; exit 1; }
echo "valgrind: ok"
