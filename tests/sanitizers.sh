#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The unit and functional suites under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   tests/sanitizers.sh
#
# Builds the module out of tree with `configure --enable-sanitizers --enable-werror`
# in $ASAN_BUILD_DIR (default <repo>/_build-asan) and runs `make check` there: the
# Criterion unit tests (ASan-linked binaries, leak checking on), tests/check-exports.sh
# and the pytest functional suite against that build's libthreatq.so.  syslog-ng
# itself is not instrumented, so the functional harness starts it with gcc's ASan
# runtime (and tests/asan_preload_shim.c) in LD_PRELOAD (THREATQ_SYSLOG_NG_ENV, see
# tests/functional/syslogng.py);
# leak checking is off there (syslog-ng's own exit-time leaks are not ours; the
# module's leaks are checked by the unit tests, the fuzzer and tests/valgrind.sh).
#
# Every ASan/UBSan report goes to $ASAN_BUILD_DIR/reports/; the script fails when
# any test fails or when that directory holds any report, and prints them.
# Environment: ASAN_BUILD_DIR, PYTEST_ADDOPTS (e.g. "-k sync"), MAKE_JOBS (default 2).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$top/_build-asan}
jobs=${MAKE_JOBS:-2}
cc=${CC:-gcc}

libasan=$(readlink -f "$("$cc" -print-file-name=libasan.so)")
[ -f "$libasan" ] || { echo "sanitizers: no libasan.so from $cc"; exit 2; }

[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
mkdir -p "$build"
if [ -f "$top/config.status" ]; then
  # The tree is configured in place, and automake refuses a VPATH build of a
  # configured source dir: build from a pristine copy of it (sources and the
  # autotools outputs, modification times kept so that make stays incremental).
  srcdir=$build/src
  builddir=$build/build
  rm -rf "$srcdir"
  mkdir -p "$srcdir" "$builddir"
  (
    cd "$top"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -co --exclude-standard
    else
      find . -path ./.git -prune -o -path './_build-*' -prune -o -type f -print
    fi
    ls -d configure Makefile.in aclocal.m4 build-aux m4
  ) | grep -v '^_build-' | (cd "$top" && tar -cf - -T -) | tar -xpf - -C "$srcdir"
else
  srcdir=$top
  builddir=$build
fi

cd "$builddir"
if [ ! -f Makefile ]; then
  echo "sanitizers: configuring in $builddir (srcdir $srcdir)"
  "$srcdir/configure" --enable-sanitizers --enable-werror >configure.out 2>&1 \
    || { tail -40 configure.out; exit 1; }
fi
grep -q -- '-fsanitize=address,undefined' Makefile || { echo "sanitizers: Makefile lacks -fsanitize"; exit 1; }
echo "sanitizers: building in $builddir"
make -j"$jobs" >make.out 2>&1 || { tail -60 make.out; exit 1; }
ldd modules/threatq/.libs/libthreatq.so | grep -q libasan || { echo "sanitizers: module not ASan-linked"; exit 1; }

# gcc's libasan in LD_PRELOAD deadlocks syslog-ng at start-up without this
# (see tests/asan_preload_shim.c).
shim=$build/asan-preload-shim.so
"$cc" -shared -fPIC -O2 -Wall -Wno-unused-parameter -o "$shim" "$top/tests/asan_preload_shim.c"

reports=$build/reports
rm -rf "$reports"
mkdir -p "$reports"
# The unit tests (and anything else instrumented) read these.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$reports/asan"
# (UBSan in an ASan build ignores log_path: its reports go to stderr, found below.)
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
# syslog-ng (uninstrumented, loading the instrumented module): the runtime first.
export THREATQ_SYSLOG_NG_ENV="LD_PRELOAD=$libasan:$shim ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0:log_path=$reports/asan"
export THREATQ_TEST_TIMEOUT_SCALE=${THREATQ_TEST_TIMEOUT_SCALE:-2}
export G_SLICE=always-malloc G_DEBUG=gc-friendly

# Keep every test's syslog-ng output where it can be searched for reports
# (under /tmp: the control sockets' paths must stay short).
pytest_tmp=$(mktemp -d /tmp/threatq-asan-pytest.XXXXXX)
export PYTEST_ADDOPTS="--basetemp=$pytest_tmp ${PYTEST_ADDOPTS:-}"

start=$(date +%s)
set +e
make check >check.out 2>&1
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))

grep -E '^(PASS|FAIL|XPASS|XFAIL|SKIP|ERROR):|^# (TOTAL|PASS|FAIL|ERROR)' check.out || true
# ASan reports: files in $reports; UBSan reports: "runtime error:" lines on the
# tests' logs (automake's tests/**/*.log) and on syslog-ng's (its logs under $pytest_tmp).
grep -rh -A12 --include='*.log' 'runtime error:' tests "$pytest_tmp" 2>/dev/null >"$reports/ubsan.txt" || true
grep -rl 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer' "$pytest_tmp" 2>/dev/null \
  | while read -r f; do cp "$f" "$reports/asan-in-$(echo "$f" | tr / _)"; done
asan_n=$(find "$reports" -type f -name 'asan*' | wc -l)
ubsan_n=$(grep -o 'runtime error:.*' "$reports/ubsan.txt" | sort -u | wc -l)  # distinct ones
[ "$ubsan_n" -gt 0 ] || rm -f "$reports/ubsan.txt"
nreports=$((asan_n + ubsan_n))
if [ "$nreports" -gt 0 ]; then
  for f in "$reports"/*; do echo "===== $f"; head -80 "$f"; done
else
  rm -rf "$pytest_tmp"
fi
echo "sanitizers: make check exit $rc in ${elapsed}s; ASan/LSan reports: $asan_n, UBSan reports: $ubsan_n (in $reports)"
if [ "$rc" -ne 0 ]; then
  tail -80 check.out
  echo "sanitizers: FAILED (make check; full output: $builddir/check.out)"
  exit 1
fi
[ "$nreports" -eq 0 ] || { echo "sanitizers: FAILED ($nreports reports)"; exit 1; }
echo "sanitizers: ok"
