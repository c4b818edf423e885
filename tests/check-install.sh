#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make installcheck`: what `make install` left behind.  Arguments: the module dir
# and the SCL dir as installed, $(DESTDIR) included.
set -eu
moduledir=$1
sclthreatqdir=$2
fail() { echo "FAIL: $*"; exit 1; }

[ -f "$moduledir/libthreatq.so" ] || fail "make install did not put libthreatq.so into $moduledir"
[ ! -e "$moduledir/libthreatq.la" ] || fail "make install left libthreatq.la in $moduledir"
[ -f "$sclthreatqdir/threatq.conf" ] || fail "make install did not put threatq.conf into $sclthreatqdir"
echo "ok: libthreatq.so (and no .la) in $moduledir, threatq.conf in $sclthreatqdir"
