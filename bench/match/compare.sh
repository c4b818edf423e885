#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# threatq-match() against add-contextual-data() and no matching, in one run (issue 15, point 6):
# N indicators (mixed types, CIDR blocks included) and L log lines of which 1 in 100 carries an
# indicator's value, through file() -> kv-parser() -> [nothing | add-contextual-data() |
# threatq-match()] -> file(); rate, VmHWM, load time and the hits of each, side by side.
#
#   bench/match/compare.sh              N = L = 1,000,000, 3 starts of each (about 1.5 minutes)
#   bench/match/compare.sh --small      N = L = 100,000 (CI; about 15 s)
#   bench/match/compare.sh --together 0.25 --pairs 20
#                                       then 20 pairs of (a) and (c) at once on one CPU, taking
#                                       turns of 0.25 s: the steady ratio (bench/match/together.py)
#   bench/match/compare.sh --help       --indicators, --lines, --repeat, --only, --workdir ...
#
# Needs: syslog-ng with syslog-ng-mod-add-contextual-data, python3, and for (c) the built
# module (modules/threatq/.libs, or THREATQ_MODULE_DIR).  See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/compare.py" "$@"
