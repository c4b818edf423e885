#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end benchmark of the threatq() source (issue #6): threatq() rate, syslog-ng's own
# ceiling in the same run, a python-fetcher() baseline and peak RSS at 100k / 1M indicators.
#
#   bench/run.sh [N]          full run (default N = 100,000; RSS at 100,000 and 1,000,000)
#   bench/run.sh --small      CI: N = 5,000, well under a minute; exits 0 when every run worked
#   bench/run.sh --help       all options (--python-n, --rss-n, --profile, --wait-load, ...)
#
# Needs: the built module (modules/threatq/.libs/libthreatq.so), syslog-ng 3.38 or 4.x, python3;
# syslog-ng-mod-python for the python-fetcher() baseline (skipped without it);
# linux-perf for --profile.  See bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
