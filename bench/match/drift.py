#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""How the speed of each CPU wanders (bench/README.md, "compare.sh --together").

One busy loop pinned to each CPU, all at once, counts its rounds in slices of SLICE seconds
for SECONDS seconds; printed: each CPU's coefficient of variation from slice to slice, over
windows as long as one start of compare.sh (WINDOW seconds), and the correlation of the CPUs'
slices.  A high variation over windows with a low correlation is why starts taken in turns
disagree, and why compare.sh --together runs the two configurations on one CPU at once.

    python3 bench/match/drift.py [SECONDS [SLICE [WINDOW]]]      default 60 0.2 6
"""

import multiprocessing
import os
import statistics
import sys
import time


def _spin(cpu, seconds, slice_s, out):
    os.sched_setaffinity(0, {cpu})
    counts = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        stop, rounds = time.monotonic() + slice_s, 0
        while time.monotonic() < stop:
            x = 0
            for i in range(2000):
                x += i * i
            rounds += 1
        counts.append(rounds)
    out.put((cpu, counts))


def _cv(values):
    return statistics.stdev(values) / statistics.mean(values) if len(values) > 1 else 0.0


def _correlation(x, y):
    mx, my = statistics.mean(x), statistics.mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx, syy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    return sxy / (sxx * syy) ** 0.5 if sxx and syy else 0.0


def main(argv):
    seconds = float(argv[0]) if argv else 60.0
    slice_s = float(argv[1]) if len(argv) > 1 else 0.2
    window = float(argv[2]) if len(argv) > 2 else 6.0
    cpus = sorted(os.sched_getaffinity(0))
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_spin, args=(c, seconds, slice_s, out)) for c in cpus]
    for p in procs:
        p.start()
    series = dict(out.get() for _ in procs)
    for p in procs:
        p.join()
    per_window = max(1, int(window / slice_s))
    print("busy loop on each of CPUs %s at once, %.0f s in slices of %.2f s" % (cpus, seconds, slice_s))
    for cpu in cpus:
        s = series[cpu]
        windows = [sum(s[i:i + per_window]) for i in range(0, len(s) - per_window + 1, per_window)]
        print("  CPU %d: %d slices, variation slice to slice %.3f, over %.0f s windows %.3f"
              % (cpu, len(s), _cv(s), window, _cv(windows)))
    if len(cpus) > 1:
        n = min(len(series[c]) for c in cpus[:2])
        print("  correlation of CPU %d and CPU %d, slice by slice: %.2f"
              % (cpus[0], cpus[1], _correlation(series[cpus[0]][:n], series[cpus[1]][:n])))


if __name__ == "__main__":
    main(sys.argv[1:])
