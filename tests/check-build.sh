#!/bin/sh
# Build facts the issue asks for: only the two entry points are exported, and
# `make install` puts the module into syslog-ng's module dir.
set -eu
top_builddir=${1:-.}
so="$top_builddir/modules/threatq/.libs/libthreatq.so"

# (__odr_asan.* are AddressSanitizer's ODR indicators in a --enable-sanitizers build.)
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^__odr_asan' | sort | tr '\n' ' ')
if [ "$exports" != "module_info threatq_module_init " ]; then
  echo "FAIL: $so exports: $exports (expected: module_info threatq_module_init)"; exit 1
fi
echo "ok: $so exports only module_info and threatq_module_init"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -C "$top_builddir" -s install DESTDIR="$stage" >/dev/null
moduledir=$(pkg-config --variable=moduledir syslog-ng)
if [ ! -f "$stage$moduledir/libthreatq.so" ] || [ -e "$stage$moduledir/libthreatq.la" ]; then
  echo "FAIL: make install did not leave exactly libthreatq.so in $moduledir"; find "$stage"; exit 1
fi
echo "ok: make install puts libthreatq.so into $moduledir"
