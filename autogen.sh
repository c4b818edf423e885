#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Debian's lex-rules.am cannot be included from /usr/share (automake only inlines
# in-tree fragments), so copy it into the tree first.
set -e
cd "$(dirname "$0")"
tools=$(pkg-config --variable=toolsdir syslog-ng)
mkdir -p build-aux m4
cp "$tools/lex-rules.am" build-aux/syslog-ng-lex-rules.am
autoreconf -fi
