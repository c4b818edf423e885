#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A/B of two builds of the module in one run, taking turns (A, B, A, B, ...), so that a
# slower spell of this shared VM weighs on both alike:
#
#   bench/ab.sh DIR_A DIR_B [PAIRS] [N]
#
# DIR_A, DIR_B: directories holding libthreatq.so (e.g. <checkout>/modules/threatq/.libs).
# Each turn is one bench/run.sh threatq() run and its same-run file() ceiling at N
# (default 100,000); PAIRS turns each (default 3). Prints every run, then the medians
# of indicators/s, syslog-ng CPU per indicator and the ratio to the ceiling, and B/A.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
a=$(cd "$1" && pwd); b=$(cd "$2" && pwd); pairs=${3:-3}; n=${4:-100000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=1
while [ "$i" -le "$pairs" ]; do
  for side in A B; do
    dir=$a; [ "$side" = B ] && dir=$b
    THREATQ_MODULE_DIR=$dir python3 "$here/bench.py" --skip-python --skip-rss --repeat 1 "$n" \
      >"$out/$side.$i" 2>&1 || { cat "$out/$side.$i"; exit 1; }
    rate=$(awk '/^threatq\(\) -> file/ {gsub(",", "", $6); print $6}' "$out/$side.$i")
    cpu=$(sed -n 's/.*syslog-ng CPU \([0-9.]*\) us per indicator.*/\1/p' "$out/$side.$i")
    ceil=$(awk '/^ceiling: file\(\) -> file/ {gsub(",", "", $7); print $7}' "$out/$side.$i")
    echo "$side run $i: $rate ind/s, $cpu us CPU per indicator, ceiling $ceil ind/s" | tee -a "$out/all"
  done
  i=$((i + 1))
done
python3 - "$out/all" <<'PY'
import re, statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    m = re.match(r"(\w) run \d+: (\d+) ind/s, ([\d.]+) us CPU per indicator, ceiling (\d+)", line)
    if m:
        runs[m[1]].append((int(m[2]), float(m[3]), int(m[4])))
med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v),
           statistics.median(r[0] / r[2] for r in v)) for k, v in runs.items()}
for k in "AB":
    print("%s median: %.0f ind/s, %.1f us CPU per indicator, %.2f x ceiling" % ((k,) + med[k]))
print("B/A: rate %.3f, CPU per indicator %.3f, ratio to ceiling %.3f" % (
    med["B"][0] / med["A"][0], med["B"][1] / med["A"][1], med["B"][2] / med["A"][2]))
PY
