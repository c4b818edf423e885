#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Baseline: CPython json.loads (C accelerator) on the same page, same walk as the C DOMs.

usage: python_json.py PAGE.json
"""
import json
import resource
import sys
import time

MIN_SECONDS = 2.0


def parse(raw):
    doc = json.loads(raw)  # bytes in, like the C parsers (includes UTF-8 decode)
    n = 0
    for ind in doc["data"]:
        ind["value"], ind["type"]["name"]
        n += 1
    return doc, n


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    doc, n = parse(raw)  # warm-up; keep the tree alive to measure its peak RSS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    del doc
    iters = 0
    t0 = time.perf_counter()
    while True:
        parse(raw)
        iters += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= MIN_SECONDS:
            break
    print(f"{'python3 json.loads (' + sys.version.split()[0] + ')':<44} "
          f"{len(raw) * iters / elapsed / 1e6:9.1f} {n * iters / elapsed:14.0f} {rss:16d}")


if __name__ == "__main__":
    main()
