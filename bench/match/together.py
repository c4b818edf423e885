# SPDX-License-Identifier: GPL-2.0-or-later
"""(a) and (c) in the same time window on one CPU: compare.sh --together SLICE (issue 15, point 6).

Starts taken in turns (compare.py's main run) meet a different speed of the CPU each: on this
2-vCPU VM a busy loop's speed, averaged over 6 s (one start), varies by about 10 % from one 6 s
to the next (bench/match/drift.py), so one start's rate swings as much and the start-by-start
ratio needs hundreds of pairs.  Here each pair runs (a) and (c) at once, both pinned to the same
CPU, and both read their input from the same moment:

  SLICE > 0   they take turns of SLICE seconds (SIGSTOP / SIGCONT): each has the CPU and its
              caches to itself for a slice, as a lone syslog-ng does, and both see the same
              wandering of the CPU's speed;
  SLICE = 0   both run and the kernel shares the CPU between them every few milliseconds: the
              steadiest ratio, but the two share the CPU's caches, which costs (c) more than
              (a) (its set does not stay in cache), so it is a lower bound.

The figure of a pair is lines per CPU-second of (c) over that of (a), counted between the
samples where both have written 5 % and neither more than 95 % of the lines.  syslog-ng passes
these lines at 100 % of one CPU (compare.py's CPU column), so this is the ratio of their
throughputs.  Every pair's (c) output is checked for the right hits like any start.
"""

import os
import signal
import statistics
import time

import compare as cmp

READY_TIMEOUT = 120
SAMPLE = 0.01
WINDOW = (0.05, 0.95)


def _start(d, conf_text, cpu):
    """syslog-ng pinned to one CPU."""
    return cmp.start_syslog_ng(d, conf_text, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))


def _wait_ready(dirs, procs):
    """Both are up: their control sockets exist and (c) has loaded its set."""
    t0 = time.monotonic()
    while not (all(os.path.exists(os.path.join(dirs[k], "ctl")) for k in dirs)
               and cmp.snapshot_load_seconds(os.path.join(dirs["c"], "syslog-ng.log")) is not None):
        for kind, (proc, log) in procs.items():
            if proc.poll() is not None:
                raise cmp.common.BenchError("together: (%s) exited (rc=%s) before its input; see %s"
                                            % (kind, proc.returncode, log.name))
        if time.monotonic() - t0 > READY_TIMEOUT:
            raise cmp.common.BenchError("together: not ready after %d s; see %s"
                                        % (READY_TIMEOUT, dirs["c"]))
        time.sleep(SAMPLE)


class _Turns:
    """Who runs: with slice_s > 0 one of the two at a time, in turns; else both."""

    def __init__(self, procs, slice_s):
        self.procs, self.slice_s = procs, slice_s
        self.running = "a"
        self.switched = time.monotonic()
        self.switches = 0
        if slice_s:
            procs["c"][0].send_signal(signal.SIGSTOP)

    def due(self):
        return self.slice_s and time.monotonic() - self.switched >= self.slice_s

    def switch(self):
        other = "c" if self.running == "a" else "a"
        self.procs[self.running][0].send_signal(signal.SIGSTOP)
        self.procs[other][0].send_signal(signal.SIGCONT)
        self.running, self.switched = other, time.monotonic()
        self.switches += 1

    def end(self):
        if self.slice_s:
            for proc, _ in self.procs.values():
                proc.send_signal(signal.SIGCONT)
            self.slice_s = 0


def _sample(watches, procs):
    """{kind: (lines written, CPU seconds)} of both, now."""
    return {kind: (watches[kind].poll(), cmp.common.proc_cpu(procs[kind][0].pid)) for kind in ("a", "c")}


def _run_pair(watches, procs, slice_s, lines, timeout):
    """Samples (lines written, CPU seconds) of both until both wrote every line."""
    turns = _Turns(procs, slice_s)
    samples = []
    t0 = time.monotonic()
    try:
        while True:
            sample = _sample(watches, procs)
            samples.append(sample)
            if turns.due():
                turns.switch()
            done = [sample[k][0] for k in ("a", "c")]
            if max(done) > WINDOW[1] * lines:
                turns.end()
            if min(done) >= lines:
                return samples, turns.switches
            for kind, (proc, log) in procs.items():
                if proc.poll() is not None:
                    raise cmp.common.BenchError("together: (%s) exited (rc=%s); see %s"
                                                % (kind, proc.returncode, log.name))
            if time.monotonic() - t0 > timeout:
                raise cmp.common.BenchError("together: not done after %.0f s" % timeout)
            time.sleep(SAMPLE)
    finally:
        turns.end()


def _window_rates(samples, lines):
    """Lines per CPU-second of (a) and (c) between the first and last sample of the window."""
    inside = [s for s in samples
              if min(s["a"][0], s["c"][0]) >= WINDOW[0] * lines
              and max(s["a"][0], s["c"][0]) <= WINDOW[1] * lines]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    rate = {}
    for kind in ("a", "c"):
        lines_in, cpu = last[kind][0] - first[kind][0], last[kind][1] - first[kind][1]
        if lines_in <= 0 or cpu <= 0:
            return None
        rate[kind] = (lines_in, cpu)
    return rate


def _prepare(workdir, paths, server, rep):
    dirs = {"a": os.path.join(workdir, "a-t%d" % rep), "c": cmp.restore_c(workdir, paths, "t%d" % rep)}
    os.makedirs(dirs["a"], exist_ok=True)
    server.reset()
    confs = {}
    for kind, d in dirs.items():
        for name in ("out", "input.log"):
            if os.path.exists(os.path.join(d, name)):
                os.unlink(os.path.join(d, name))
        confs[kind] = cmp.config(kind, paths, os.path.join(d, "out"), server,
                                 log_path=os.path.join(d, "input.log"))
    return dirs, confs


def pair(workdir, paths, server, rep, slice_s, lines, expected):
    """One pair on CPU rep % CPUs: the figures, and the (c) hits checked."""
    cpu = rep % os.cpu_count()
    dirs, confs = _prepare(workdir, paths, server, rep)
    procs, watches = {}, {}
    try:
        for kind in (("a", "c") if rep % 2 else ("c", "a")):
            procs[kind] = _start(dirs[kind], confs[kind], cpu)
            watches[kind] = cmp.Watch(os.path.join(dirs[kind], "out"))
        _wait_ready(dirs, procs)
        for kind in dirs:
            os.link(paths["log"], os.path.join(dirs[kind], "input.log"))
        samples, switches = _run_pair(watches, procs, slice_s, lines, 120 + lines / 1000)
    finally:
        for kind in procs:
            cmp.stop_syslog_ng(*procs[kind])
            watches[kind].close()
    hits = {k: cmp.check_hits(os.path.join(dirs[k], "out"), expected[k])[1:3] + (len(expected[k]),)
            for k in dirs}
    for kind in dirs:
        os.unlink(os.path.join(dirs[kind], "out"))
    rate = _window_rates(samples, lines)
    # hits: (right, wrong or missing, expected) of each
    return {"cpu": cpu, "rate": rate, "switches": switches, "hits": hits,
            "ratio": None if not rate else (rate["c"][0] / rate["c"][1]) / (rate["a"][0] / rate["a"][1])}


def run(workdir, paths, server, pairs, slice_s, lines, expected):
    """pairs pairs, printed as they come; returns (the summary line for the report, every hit right)."""
    how = ("taking turns of %.2f s" % slice_s) if slice_s else "sharing the CPU (the kernel's time slices)"
    print("\n(a) and (c) together, both pinned to one CPU, %s; %d pairs:" % (how, pairs))
    ratios, right = [], True
    for rep in range(1, pairs + 1):
        r = pair(workdir, paths, server, rep, slice_s, lines, expected)
        bad = r["hits"]["c"][1] + r["hits"]["a"][1]
        right = right and not bad
        if r["ratio"] is not None:
            ratios.append(r["ratio"])
        print("  pair #%d, CPU %d: %s; %d turns; (c) hits %d/%d right%s (load %s)" % (
            rep, r["cpu"],
            "no window (too few samples)" if not r["rate"] else
            "(a) %d lines in %.2f CPU-s, (c) %d in %.2f: %.3f x" % (
                r["rate"]["a"] + r["rate"]["c"] + (r["ratio"],)),
            r["switches"], r["hits"]["c"][0], r["hits"]["c"][2], "" if not bad else ", %d WRONG" % bad,
            cmp.common.loadavg()))
    low, high = cmp.pair_interval(ratios)
    summary = ("  (c) >= 0.95 x (a) together (%s), lines per CPU-second: median of %d pairs %s, "
               "95%% interval %s  %s" % (
                   how, len(ratios), "-" if not ratios else "%.3f" % statistics.median(ratios),
                   "-" if low is None else "%.3f-%.3f" % (low, high), cmp.verdict(low, high)))
    return summary, right
