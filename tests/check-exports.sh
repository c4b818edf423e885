#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# One of the TESTS of `make check`: the module exports only its two entry points
# (module_info and threatq_module_init); everything else is hidden.
set -eu
top_builddir=${abs_top_builddir:-${1:-.}}
so="$top_builddir/modules/threatq/.libs/libthreatq.so"
[ -f "$so" ] || { echo "FAIL: $so is missing: build first"; exit 99; }

# (__odr_asan.* are AddressSanitizer's ODR indicators in a --enable-sanitizers build.)
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^__odr_asan' | sort | tr '\n' ' ')
if [ "$exports" != "module_info threatq_module_init " ]; then
  echo "FAIL: $so exports: $exports (expected: module_info threatq_module_init)"; exit 1
fi
echo "ok: $so exports only module_info and threatq_module_init"
