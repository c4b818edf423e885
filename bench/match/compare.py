#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""threatq-match() against add-contextual-data() and no matching (issue 15, point 6).
Run it as bench/match/compare.sh; see bench/README.md.

One run, on one input of L BSD-syslog lines ("<134>Nov 30 12:00:37 fw02 app[1037]:
action=allow proto=tcp src=10.0.0.37 obs=<value> bytes=77 seq=37"; 1 in 100 carries the
value of an indicator in obs=, read by kv-parser() from $MESSAGE in every configuration)
and N indicators (bench/match/indicators.py):

  (a) file() -> kv-parser() -> file()
  (b) file() -> kv-parser() -> add-contextual-data(selector("${kv.obs}")) -> file(),
      with a CSV of the N indicators ("value,id,<ThreatQ id>", one row each)
  (c) file() -> kv-parser() -> threatq-match(fields("${kv.obs}")) -> file(), the set being
      that of a threatq() source of the same configuration which has read the N indicators
      from bench/fast_server.py --match-mix in an earlier start (the sync), so that each
      measured start loads the set from its snapshot.

The three take turns (a, b, c, a, b, c, ...), as bench/ab.sh does.  For each start:
launch -> first line in the output (the load time shows here: add-contextual-data()
reads its CSV, threatq() its snapshot, before a line goes through), launch -> L lines,
the rate from the first line to the last, syslog-ng's CPU and VmHWM.  Every output
line starts with the id a hit wrote ("<id>|<the log line>"), and every line is checked
against the id that each configuration must report.  Without a state file after the sync,
(c) runs live: each start reads the indicators, then its input appears (live_c()).

Exit code 0 when every start wrote exactly L lines, every hit was right and (c) ran.
"""

import argparse
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)
sys.path.insert(0, HERE)
import bench as common      # noqa: E402  bench/bench.py: syslog-ng, module dirs, /proc readers, ApiServer
import fast_server          # noqa: E402  ID0: the id of indicator 0
import indicators as mix    # noqa: E402  the indicators and log values

IW_SIZE = 10000
FETCH_LIMIT = 1000
PAGE_SIZE = 1000
FIELD = "${kv.obs}"
CONFIGS = ("a", "b", "c")
LABELS = {"a": "(a) no matching", "b": "(b) add-contextual-data()", "c": "(c) threatq-match()"}
MARKS = {"a": "${hit.id}", "b": "${hit.id}", "c": "${threat.enrichments.indicator.id}"}


class Skip(Exception):
    """(c) cannot run with this build: the reason is reported, (a) and (b) still are."""


class NoSnapshot(Exception):
    """The sync left no snapshot: (c) runs live (live_c())."""


# --------------------------------------------------------------------------- input

def write_inputs(workdir, n, lines):
    """The log lines and the add-contextual-data() CSV; returns their paths."""
    log_path = os.path.join(workdir, "input.log")
    csv_path = os.path.join(workdir, "indicators.csv")
    with open(log_path, "w") as f:
        chunk = []
        for j in range(lines):
            value = mix.hit_value(mix.hit_indicator(j, n)) if mix.is_hit_line(j) \
                else mix.miss_value(j)
            chunk.append("<134>Nov 30 12:%02d:%02d fw%02d app[%d]: action=allow proto=tcp "
                         "src=10.%d.%d.%d obs=%s bytes=%d seq=%d\n"
                         % (j // 60 % 60, j % 60, j % 7, 1000 + j % 97, (j >> 16) & 255,
                            (j >> 8) & 255, j & 255, value, 40 + j % 1400, j))
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    with open(csv_path, "w") as f:
        chunk = []
        for i in range(n):
            chunk.append("%s,id,%d\n" % (mix.indicator(i)[1], fast_server.ID0 + i))
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return log_path, csv_path


def expected_ids(n, lines):
    """{config: {line number: id}} that each configuration must write; no other line is tagged.
    (b) matches exact strings, so a line holding an address inside a CIDR block is no hit there."""
    ref = mix.Expected(n)
    exp = {"a": {}, "b": {}, "c": {}}
    for j in range(lines):
        if not mix.is_hit_line(j):
            continue
        k = mix.hit_indicator(j, n)
        exp["c"][j] = fast_server.ID0 + ref.best(k)
        if mix.indicator(k)[0] != "CIDR Block":
            exp["b"][j] = fast_server.ID0 + k
    return exp


# --------------------------------------------------------------------------- configs

def config(kind, paths, out, server=None, sync=False, log_path=None):
    text = common.HEADER + """
source s_in {
  file("%s" follow-freq(%s) log-iw-size(%d) log-fetch-limit(%d));
};
parser p_kv { kv-parser(prefix("kv.")); };
destination d_out { file("%s" template("%s|$MESSAGE\\n")); };
""" % (paths["empty"] if sync else log_path or paths["log"], common.CEILING_FOLLOW_FREQ, IW_SIZE,
       FETCH_LIMIT, out, MARKS[kind])
    match = ""
    if kind == "b":
        text += """parser p_match {
  add-contextual-data(selector("%s") database("%s") prefix("hit."));
};
""" % (FIELD, paths["csv"])
        match = " parser(p_match);"
    elif kind == "c":
        text += """source s_tq {
  threatq(url("%s") collection("bench") client-id("id") client-secret("secret")
          page-size(%d) poll-interval(3600) log-iw-size(%d)
          match-state-file("%s"));
};
destination d_tq { file("%s" template("x\\n")); };
log { source(s_tq); destination(d_tq); };
parser p_match { threatq-match(source(s_tq) fields("%s")); };
""" % (server.url, PAGE_SIZE, IW_SIZE, paths["state"], paths["tq_out"], FIELD)
        match = " parser(p_match);"
    return text + "log { source(s_in); parser(p_kv);%s destination(d_out); };\n" % match


def syntax_check(conf_path):
    """None when syslog-ng accepts the configuration, else its complaint."""
    r = subprocess.run([common.SYSLOG_NG, "--syntax-only", "-f", conf_path,
                        "--module-path=%s:%s" % (common.SYSTEM_MODULE_DIR, common.MODULE_DIR)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode == 0:
        return None
    lines = [l.strip() for l in r.stdout.splitlines() if l.strip()]
    return [l for l in lines if "rror" in l][:2] or lines[:2] or ["exit code %d" % r.returncode]


# --------------------------------------------------------------------------- one start

class Watch(common.LineCounter):
    """Counts the lines appended to the output and notes whether a line with an id (a hit)
    has come."""

    def __init__(self, path):
        super().__init__(path)
        self.first_hit_seen = False
        self.tail = b"\n"

    def seen(self, chunk):
        if not self.first_hit_seen:
            self.first_hit_seen = re.search(rb"\n[0-9]", self.tail + chunk) is not None
        self.tail = chunk[-1:]


def start_syslog_ng(d, conf_text, preexec_fn=None):
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "syslog-ng.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    cmd = [common.SYSLOG_NG, "-F", "--no-caps", "-f", conf, "-R", os.path.join(d, "persist"),
           "-p", os.path.join(d, "pid"), "-c", os.path.join(d, "ctl"),
           "--module-path=%s:%s" % (common.SYSTEM_MODULE_DIR, common.MODULE_DIR), "-e"]
    log = open(os.path.join(d, "syslog-ng.log"), "ab")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=d, preexec_fn=preexec_fn), log


def stop_syslog_ng(proc, log):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


def measure(d, conf_text, out, lines, timeout, gate=None):
    """Start syslog-ng, wait for `lines` lines in out; the figures of the start.
    gate(proc): called after the launch, returns when the input is to be read; the clock
    then starts anew (the live (c), whose input appears once the sync is done)."""
    if os.path.exists(out):
        os.unlink(out)
    watch = Watch(out)
    wall0 = time.time()
    t0 = time.monotonic()
    proc, log = start_syslog_ng(d, conf_text)
    r = {"dir": d}
    cpu0 = 0.0
    try:
        if gate:
            gate(proc, log)
            wall0 = time.time()
            t0 = time.monotonic()
            cpu0 = common.proc_cpu(proc.pid)
        while True:
            got = watch.poll()
            if got and "first" not in r:
                r["first"] = time.monotonic() - t0
                r["cpu_first"] = common.proc_cpu(proc.pid) - cpu0
            if watch.first_hit_seen and "first_hit" not in r:
                r["first_hit"] = time.monotonic() - t0
            if got >= lines:
                r["end"] = os.stat(out).st_mtime_ns / 1e9 - wall0
                break
            if proc.poll() is not None:
                raise common.BenchError("%s: syslog-ng exited (rc=%s) after %d of %d lines; see "
                                        "%s" % (d, proc.returncode, got, lines, log.name))
            if time.monotonic() - t0 > timeout:
                raise common.BenchError("%s: only %d of %d lines after %.0f s; see %s"
                                        % (d, got, lines, timeout, log.name))
            time.sleep(0.01 if not got else 0.05)
        r["cpu"] = common.proc_cpu(proc.pid) - cpu0
        r["hwm_mb"] = common.proc_status(proc.pid, "VmHWM")
        time.sleep(0.5)             # nothing more may come
        r["lines"] = watch.poll()
    finally:
        stop_syslog_ng(proc, log)
        watch.close()
    r["first"] = min(r["first"], r["end"])
    r["rate"] = lines / max(1e-9, r["end"] - r["first"])
    r["log"] = os.path.join(d, "syslog-ng.log")
    if r["lines"] != lines:
        raise common.BenchError("%s: %d lines written, expected exactly %d" % (d, r["lines"], lines))
    return r


def check_hits(out, expected):
    """(tagged lines, lines whose id is right, wrong or missing lines, first problem)."""
    tagged = right = bad = 0
    first = None
    with open(out, "rb") as f:
        for j, line in enumerate(f):
            mark, _, rest = line.partition(b"|")
            want = expected.get(j)
            if mark:
                tagged += 1
            if want is None and not mark:
                continue
            if want is not None and mark == b"%d" % want and rest.endswith(b" seq=%d\n" % j):
                right += 1
                continue
            bad += 1
            if first is None:
                first = "line %d: id %r, expected %r" % (j, mark.decode(), want)
    missing = len(expected) - right
    return tagged, right, max(bad, missing), first


# --------------------------------------------------------------------------- (c): the sync

def snapshot_log_lines(log_path):
    """What the threatq() source said about its set and state file at start (for the report)."""
    try:
        with open(log_path, errors="replace") as f:
            return [l.strip() for l in f if re.search(r"indicator set|match-state-file|snapshot",
                                                      l, re.I)]
    except OSError:
        return []


def snapshot_load_seconds(log_path):
    """From "threatq: source starting" to "indicator set loaded from match-state-file()": the
    timestamps syslog-ng gives its own messages (-e), both written during init."""
    stamps = {}
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                m = re.match(r"\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] threatq: "
                             r"(source starting|indicator set loaded)", line)
                if m and m.group(2) not in stamps:
                    stamps[m.group(2)] = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) \
                        + float("0" + m.group(1)[19:])
    except OSError:
        return None
    if len(stamps) != 2:
        return None
    return stamps["indicator set loaded"] - stamps["source starting"]


def sync(workdir, paths, server, n, timeout):
    """First start of (c): the threatq() source reads all N indicators (building the set and
    its snapshot); then the persist file and the snapshot are kept as every measured start's
    starting point."""
    d = os.path.join(workdir, "c-sync")
    os.makedirs(d, exist_ok=True)
    conf = config("c", paths, os.path.join(d, "out"), server, sync=True)
    watch = Watch(paths["tq_out"])
    server.reset()
    t0 = time.monotonic()
    proc, log = start_syslog_ng(d, conf)
    try:
        while watch.poll() < n:
            if proc.poll() is not None:
                raise common.BenchError("sync: syslog-ng exited (rc=%s) after %d of %d indicators;"
                                        " see %s" % (proc.returncode, watch.lines, n, log.name))
            if time.monotonic() - t0 > timeout:
                raise common.BenchError("sync: only %d of %d indicators after %.0f s; see %s"
                                        % (watch.lines, n, timeout, log.name))
            time.sleep(0.1)
        seconds = time.monotonic() - t0
        hwm = common.proc_status(proc.pid, "VmHWM")
        time.sleep(1.0)             # the last acknowledgements move the cursor
    finally:
        stop_syslog_ng(proc, log)
        watch.close()
    if not os.path.exists(paths["state"]):
        raise NoSnapshot("the sync wrote no snapshot at %s (not wired in yet?)" % paths["state"])
    shutil.copyfile(os.path.join(d, "persist"), paths["persist0"])
    shutil.copyfile(paths["state"], paths["state0"])
    os.unlink(paths["tq_out"])
    st = server.stats()
    return {"seconds": seconds, "hwm_mb": hwm, "pages": st["pages"], "items": st["items"],
            "snapshot_mb": os.path.getsize(paths["state"]) / 1048576.0,
            "log": os.path.join(d, "syslog-ng.log")}


def live_c(workdir, paths, server, n, rep):
    """(c) without a snapshot: one start reads the N indicators (the set is built), and only
    then does its file() source find its input (a hard link to the log lines).
    Returns (directory, input path, gate)."""
    d = os.path.join(workdir, "c-live-%d" % rep)
    os.makedirs(d, exist_ok=True)
    for path in (paths["state"], paths["tq_out"]):
        if os.path.exists(path):
            os.unlink(path)
    live_in = os.path.join(d, "input.log")

    def gate(proc, log):
        watch = Watch(paths["tq_out"])
        t0 = time.monotonic()
        server.reset()
        try:
            while watch.poll() < n:
                if proc.poll() is not None:
                    raise common.BenchError("live (c): syslog-ng exited (rc=%s) after %d of %d "
                                            "indicators; see %s" % (proc.returncode, watch.lines,
                                                                    n, log.name))
                if time.monotonic() - t0 > 60 + n / 5000:
                    raise common.BenchError("live (c): only %d of %d indicators read; see %s"
                                            % (watch.lines, n, log.name))
                time.sleep(0.1)
        finally:
            watch.close()
        os.link(paths["log"], live_in)
    return d, live_in, gate


def restore_c(workdir, paths, rep):
    """Every measured (c) start begins from the state the sync left: its persist file (the
    threatq() cursor at the end of the collection, no file() position) and its snapshot."""
    d = os.path.join(workdir, "c-%s" % rep)
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(paths["persist0"], os.path.join(d, "persist"))
    shutil.copyfile(paths["state0"], paths["state"])
    if os.path.exists(paths["tq_out"]):
        os.unlink(paths["tq_out"])
    return d


# --------------------------------------------------------------------------- report

def fmt(x, spec="{:,.0f}"):
    return "-" if x is None else spec.format(x)


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def pair_interval(pairs, resamples=2000):
    """A 95 % bootstrap interval of the median of the start-by-start ratios (fixed seed), or
    (None, None) below 3 pairs.  On a shared VM one start's rate swings by 10 % or more, so one
    ratio of medians can land on either side of a 5 % target."""
    if len(pairs) < 3:
        return None, None
    rng = random.Random(15)
    meds = sorted(statistics.median(rng.choice(pairs) for _ in pairs) for _ in range(resamples))
    return meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]


def verdict(low, high, target=0.95):
    """MET or MISSED only when the whole interval is on one side of the target."""
    if low is None:
        return "NOT RESOLVED (fewer than 3 starts)"
    if low >= target:
        return "MET"
    if high < target:
        return "MISSED"
    return "NOT RESOLVED (the interval holds %.2f: more starts narrow it)" % target


def report(results, skipped, hits, n, lines, sync_info):
    print()
    print("%-28s %8s %8s %9s %11s %12s %9s" % ("start", "first", "last", "lines/s",
                                               "CPU", "VmHWM", "first hit"))
    for kind in CONFIGS:
        for i, r in enumerate(results.get(kind, [])):
            print("%-28s %7.2fs %7.2fs %9s %6.2f s %3.0f%% %9.1f MB %8s" % (
                "%s #%d" % (LABELS[kind], i + 1), r["first"], r["end"], fmt(r["rate"]),
                r["cpu"], 100 * r["cpu"] / r["end"], r["hwm_mb"],
                ("%.2fs" % r["first_hit"]) if "first_hit" in r else "-"))
    print()
    print("medians (rate: lines from the first output line to the last / time between them;"
          " CPU/line: syslog-ng's CPU over the same span;\n load time: launch -> first line out,"
          " minus (a)'s):")
    print("%-28s %10s %8s %11s %10s %11s %13s" % ("", "lines/s", "x (a)", "CPU/line", "VmHWM",
                                                   "load time", "hits right"))
    base = med(results.get("a", []), "rate")
    base_first = med(results.get("a", []), "first")
    for kind in CONFIGS:
        runs = results.get(kind, [])
        if not runs:
            print("%-28s %s" % (LABELS[kind], "SKIPPED: " + skipped.get(kind, "not run")))
            continue
        rate, first = med(runs, "rate"), med(runs, "first")
        tagged, right, bad, want = hits[kind]
        cpu = statistics.median(r["cpu"] - r["cpu_first"] for r in runs) / lines * 1e6
        print("%-28s %10s %8s %8.2f us %7.1f MB %11s %13s" % (
            LABELS[kind], fmt(rate), fmt(rate / base if base else None, "{:.3f}"), cpu,
            max(r["hwm_mb"] for r in runs),
            "n/a (live)" if runs[0].get("live") else
            ("%.2f s" % (first - base_first)) if kind != "a" and base_first else "-",
            "%d/%d%s" % (right, want, "" if not bad else " (%d wrong)" % bad)))
    if sync_info:
        print()
        print("(c) sync (first start, not measured against the others): %d indicators in %.1f s "
              "(%s/s), %d pages, VmHWM %.1f MB; snapshot %.1f MB"
              % (sync_info["items"], sync_info["seconds"],
                 fmt(sync_info["items"] / sync_info["seconds"]), sync_info["pages"],
                 sync_info["hwm_mb"] or 0, sync_info["snapshot_mb"]))
    if results.get("c") and results["c"][0].get("live"):
        print("(c) ran live (no snapshot to start from): each start read the %d indicators first,"
              " its clock starts when its input appeared; its VmHWM includes that read" % n)
    reread = [(r["tq_pages"], r["tq_items"]) for r in results.get("c", []) if "tq_pages" in r]
    if reread:
        print("(c) pages / indicators the threatq() source fetched during each measured start: %s%s"
              % (", ".join("%d / %d" % x for x in reread),
                 "" if not any(x[1] for x in reread) else
                 "  (indicators read again: the set did not resume from its state file alone)"))
    loads = [r["set_load"] for r in results.get("c", []) if r.get("set_load") is not None]
    if loads:
        print("(c) the set loaded from match-state-file() in %s s (each start; syslog-ng's own "
              "timestamps: \"source starting\" -> \"indicator set loaded\", both during init)"
              % ", ".join("%.2f" % x for x in loads))
    if results.get("c"):
        said = snapshot_log_lines(results["c"][0]["log"])
        if said:
            print("(c) the first measured start said:")
            for l in said[:6]:
                print("    " + l[:300])
    print()
    print("targets (reported, not asserted):")
    if base and results.get("c"):
        c_rate = med(results["c"], "rate")
        pairs = [c["rate"] / a["rate"] for a, c in zip(results["a"], results["c"])]
        low, high = pair_interval(pairs)
        print("  (c) >= 0.95 x (a):  %s / %s = %.3f x; median of the pairs %.3f, 95%% interval %s  %s"
              % (fmt(c_rate), fmt(base), c_rate / base, statistics.median(pairs),
                 "-" if low is None else "%.3f-%.3f" % (low, high), verdict(low, high)))
        print("    start by start (c #i / a #i, run back to back): %s"
              % ", ".join("%.3f" % p for p in pairs))
    for kind in ("b", "c"):
        if results.get(kind):
            tagged, right, bad, want = hits[kind]
            print("  %s tags %d of %d lines, %d with the right id; expected %d%s  %s"
                  % (LABELS[kind], tagged, lines, right, want,
                     " (exact strings only: the lines holding an address inside a CIDR block"
                     " are no hit)" if kind == "b" else "", "RIGHT" if not bad else "WRONG"))
    if hits.get("a"):
        print("  (a) tags %d lines (expected 0)  %s" % (hits["a"][0],
                                                        "RIGHT" if not hits["a"][2] else "WRONG"))
    sys.stdout.flush()


# --------------------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(prog="bench/match/compare.sh", description=__doc__.split("\n")[0])
    p.add_argument("--indicators", "-n", type=int, default=1000000)
    p.add_argument("--lines", "-l", type=int, default=1000000)
    p.add_argument("--small", action="store_true",
                   help="CI size: 100,000 indicators and 100,000 lines")
    p.add_argument("--repeat", type=int, default=3, help="starts of each configuration (median)")
    p.add_argument("--together", type=float, metavar="SLICE",
                   help="then pairs of (a) and (c) at once on one CPU, taking turns of SLICE seconds "
                   "(0: sharing it); see bench/match/together.py (--small: 0.25)")
    p.add_argument("--pairs", type=int, help="pairs of --together (default 10; --small: 2)")
    p.add_argument("--only", default="abc", help="configurations to run, e.g. ab")
    p.add_argument("--prefixes", choices=sorted(mix.PREFIXES), default="wide",
                   help="CIDR prefix lengths: wide (16 IPv4 + 32 IPv6 lengths, the worst case; "
                   "default) or few (IPv4 /16 /22 /24 /28, IPv6 /48)")
    p.add_argument("--wait-load", type=float, metavar="LOAD",
                   help="first wait (up to 15 min) until the 1-minute load is below LOAD")
    p.add_argument("--workdir", help="keep the run's files here (default: a temporary dir, in /dev/shm when writable)")
    a = p.parse_args(argv)
    n, lines = (100000, 100000) if a.small else (a.indicators, a.lines)
    kinds = [k for k in CONFIGS if k in a.only]
    if a.small and a.together is None and "a" in kinds and "c" in kinds:
        a.together = 0.25
    pairs = a.pairs if a.pairs is not None else 2 if a.small else 10
    if a.together is not None and not ("a" in kinds and "c" in kinds):
        p.error("--together needs (a) and (c): --only must name both")
    mix.use_prefixes(a.prefixes)

    if a.wait_load is not None:
        common.wait_for_load(a.wait_load, 15 * 60)
    # tmpfs when there is one: each start writes 130 MB, and a disk's writeback is not what is measured
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    workdir = a.workdir or tempfile.mkdtemp(prefix="threatq-match-compare-", dir=shm)
    os.makedirs(workdir, exist_ok=True)
    started = time.monotonic()
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print("threatq-match() comparison  %s  host %s, %d CPUs (%s), kernel %s"
          % (time.strftime("%Y-%m-%d %H:%M:%S"), platform.node(), os.cpu_count(), cpu,
             platform.release()))
    print("syslog-ng %s, module %s" % (common.SYSLOG_NG_SERIES, common.MODULE_DIR))
    print("load average at start: %s" % common.loadavg())
    print("N = %d indicators (CIDR prefix lengths: %s), L = %d lines (1 in 100 a hit), %d starts"
          " of each, taking turns; field %s by kv-parser() in every configuration"
          % (n, a.prefixes, lines, a.repeat, FIELD))
    sys.stdout.flush()

    t = time.monotonic()
    paths = {"empty": os.path.join(workdir, "empty.log"),
             "state": os.path.join(workdir, "threatq-s_tq.match"),
             "state0": os.path.join(workdir, "threatq-s_tq.match.after-sync"),
             "persist0": os.path.join(workdir, "persist.after-sync"),
             "tq_out": os.path.join(workdir, "threatq-out")}
    paths["log"], paths["csv"] = write_inputs(workdir, n, lines)
    open(paths["empty"], "w").close()
    expected = expected_ids(n, lines)
    print("inputs written in %.1f s: %s (%.0f MB), %s (%.0f MB)"
          % (time.monotonic() - t, paths["log"], os.path.getsize(paths["log"]) / 1e6,
             paths["csv"], os.path.getsize(paths["csv"]) / 1e6))
    sys.stdout.flush()

    results, skipped, hits = {}, {}, {}
    server = sync_info = None
    c_live = False
    ok = True
    together_summary, together_right = None, True
    try:
        if "c" in kinds:
            try:
                if not os.path.exists(os.path.join(common.MODULE_DIR, "libthreatq.so")):
                    raise Skip("%s/libthreatq.so is missing: build the module first"
                               % common.MODULE_DIR)
                server = common.ApiServer(workdir, n, ["--match-mix", a.prefixes])
                conf = os.path.join(workdir, "c-check.conf")
                with open(conf, "w") as f:
                    f.write(config("c", paths, os.path.join(workdir, "c-check.out"), server))
                complaint = syntax_check(conf)
                if complaint:
                    raise Skip("syslog-ng refuses the (c) configuration: %s" % " / ".join(complaint))
                try:
                    sync_info = sync(workdir, paths, server, n, 60 + n / 5000)
                    print("(c) sync: %d indicators read in %.1f s, snapshot %.1f MB"
                          % (sync_info["items"], sync_info["seconds"], sync_info["snapshot_mb"]))
                except NoSnapshot as e:
                    c_live = True
                    print("(c) %s: each (c) start reads the indicators itself, then its input "
                          "appears; no load time" % e)
            except Skip as e:
                skipped["c"] = str(e)
                kinds.remove("c")
                print("(c) SKIPPED: %s" % e)
            sys.stdout.flush()
        for kind in [k for k in kinds if k != "c"]:
            conf = os.path.join(workdir, "%s-check.conf" % kind)
            with open(conf, "w") as f:
                f.write(config(kind, paths, os.path.join(workdir, "%s-check.out" % kind)))
            complaint = syntax_check(conf)
            if complaint:
                skipped[kind] = "syslog-ng refuses the configuration: %s%s" % (
                    " / ".join(complaint), " (apt-get install syslog-ng-mod-add-contextual-data)"
                    if kind == "b" else "")
                kinds.remove(kind)
                print("%s SKIPPED: %s" % (LABELS[kind], skipped[kind]))
        for rep in range(1, a.repeat + 1):
            for kind in kinds:
                log_path = gate = None
                if kind == "c" and c_live:
                    d, log_path, gate = live_c(workdir, paths, server, n, rep)
                elif kind == "c":
                    d = restore_c(workdir, paths, rep)
                    server.reset()
                else:
                    d = os.path.join(workdir, "%s-%d" % (kind, rep))
                os.makedirs(d, exist_ok=True)
                out = os.path.join(d, "out")
                r = measure(d, config(kind, paths, out, server, log_path=log_path), out, lines,
                            120 + lines / 2000, gate)
                r["live"] = bool(gate)
                if kind == "c" and not gate:
                    r["set_load"] = snapshot_load_seconds(r["log"])
                    st = server.stats()
                    r["tq_pages"], r["tq_items"] = st["pages"], st["items"]
                tagged, right, bad, first = check_hits(out, expected[kind])
                if bad:
                    print("  %s #%d: %d lines wrong, first %s" % (LABELS[kind], rep, bad, first))
                # the worst start of each configuration is reported
                if kind not in hits or bad >= hits[kind][2]:
                    hits[kind] = (tagged, right, bad, len(expected[kind]))
                os.unlink(out)
                results.setdefault(kind, []).append(r)
                print("  %s #%d: first line %.2f s, %d lines at %s/s, VmHWM %.1f MB, "
                      "%d tagged (load %s)" % (LABELS[kind], rep, r["first"], lines,
                                                fmt(r["rate"]), r["hwm_mb"], hits[kind][0],
                                                common.loadavg()))
                sys.stdout.flush()
        if a.together is not None and "c" in kinds and not c_live:
            import together
            together_summary, together_right = together.run(workdir, paths, server, pairs, a.together,
                                                            lines, expected)
    except common.BenchError as e:
        print("FAILED: %s" % e)
        ok = False
    finally:
        if server:
            server.stop()

    report(results, skipped, hits, n, lines, sync_info)
    if together_summary:
        print(together_summary)
    elif a.together is not None:
        print("  together: not run (%s)" % ("(c) ran live: no state file to start from" if c_live
                                           else "(c) skipped or the run failed"))
    print("load average at end: %s; wall time %.0f s" % (common.loadavg(),
                                                          time.monotonic() - started))
    if a.workdir:
        print("files kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    # the exit code: every start worked, every hit is right, and (c) ran unless --only left it out
    wrong = [k for k, h in hits.items() if h[2]] + ["the together pairs"] * (not together_right)
    if wrong or skipped:
        print("exit 1: %s" % "; ".join(["wrong hits in %s" % ", ".join(wrong)] * bool(wrong)
                                       + ["%s skipped" % ", ".join(sorted(skipped))] * bool(skipped)))
    return 0 if ok and not wrong and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
