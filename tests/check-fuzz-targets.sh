#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fuzz/run.sh still builds and runs every fuzz target (tests/fuzz/fuzz_*.c) on its seed
# corpus, the threatq-match value classifier (fuzz_match_value.c, corpus-match/) among them.
#
# run.sh is run for real (replay mode, SECONDS=0), but with a stand-in for clang: each
# "binary" it builds only records how it was called.  So this needs no clang and takes about
# a second, and it fails when an edit of run.sh stops building or running a target, or
# points a target at a missing or empty corpus.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
fuzz=$top/tests/fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
calls=$work/calls
: >"$calls"

# the stand-in compiler: at -o PATH, a script that appends "run NAME ARGS" to $calls
cat >"$work/cc" <<'EOF'
#!/bin/sh
out=
sources=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    *.c) sources="$sources $1" ;;
  esac
  shift
done
name=${out##*/}
echo "build $name:$sources" >>"$CHECK_FUZZ_CALLS"
printf '#!/bin/sh\necho "run %s $*" >>"%s"\n' "$name" "$CHECK_FUZZ_CALLS" >"$out"
chmod +x "$out"
EOF
chmod +x "$work/cc"

if ! CHECK_FUZZ_CALLS=$calls CLANG=$work/cc FUZZ_BUILD_DIR=$work/build \
     sh "$fuzz/run.sh" 0 >"$work/out" 2>&1; then
  cat "$work/out"
  echo "check-fuzz-targets: tests/fuzz/run.sh 0 failed with the stand-in compiler"
  exit 1
fi

fail=0
# target NAME CORPUS SOURCE...: NAME was built from tests/fuzz/NAME.c and SOURCEs, and run on CORPUS
target() {
  name=$1; corpus=$2; shift 2
  line=$(grep "^build $name:" "$calls" || true)
  case $line in
    *" $fuzz/$name.c"*) ;;
    *) echo "check-fuzz-targets: run.sh does not build $name from tests/fuzz/$name.c"; fail=1 ;;
  esac
  for src in "$@"; do
    case $line in
      *"/modules/threatq/$src"*) ;;
      *) echo "check-fuzz-targets: $name is not built with modules/threatq/$src"; fail=1 ;;
    esac
  done
  if ! grep -q "^run $name .* $fuzz/$corpus\$" "$calls"; then
    echo "check-fuzz-targets: run.sh does not run $name on tests/fuzz/$corpus"
    fail=1
  fi
  if [ -n "$corpus" ] && [ -z "$(ls -A "$fuzz/$corpus" 2>/dev/null)" ]; then
    echo "check-fuzz-targets: tests/fuzz/$corpus is missing or empty"
    fail=1
  fi
}

# the classifier, by name, with the source it fuzzes
target fuzz_match_value corpus-match threatq-match-value.c
# and every other target in tests/fuzz is built and run on some corpus
for c in "$fuzz"/fuzz_*.c; do
  name=$(basename "$c" .c)
  grep -q "^build $name:.* $c" "$calls" || { echo "check-fuzz-targets: run.sh does not build $name"; fail=1; }
  grep -q "^run $name .* $fuzz/corpus[a-z-]*\$" "$calls" || { echo "check-fuzz-targets: run.sh does not run $name on a corpus"; fail=1; }
done

if [ "$fail" -ne 0 ]; then
  echo "calls seen:"
  cat "$calls"
  exit 1
fi
echo "check-fuzz-targets: ok: $(grep -c '^run ' "$calls") targets built and replayed on their corpora by tests/fuzz/run.sh"
