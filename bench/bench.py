#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end benchmark of the threatq() source (issue #6).  Run it as bench/run.sh.

For one run on one machine it prints:
  * threatq():        indicators/s from a ThreatQ API server on 127.0.0.1 serving N
                      realistic indicators in pages of 1,000, through threatq() into
                      file(template("$MESSAGE\\n"));
  * ceiling:          syslog-ng's own rate for the same N MESSAGE lines (the threatq()
                      run's output) read by a file() source (flags(no-parse)) and written
                      by the same destination;
  * python-fetcher(): the same pull and ECS mapping written in Python (standard
                      library only; bench/python/threatq_python_fetcher.py);
  * peak RSS (VmHWM) of syslog-ng through threatq() for N = 100,000 and 1,000,000.

Clock: starts when syslog-ng is launched (so startup, the token request and the
first page are included) and stops when the output file holds N lines: it is
polled every 100 ms (counting newlines in what was appended), and the end is
the file's mtime once it holds N lines (the instant of the last write).  The rate from the first
page request to the end is printed too.  CPU is syslog-ng's utime+stime
(/proc/<pid>/stat) at the moment the N-th line was seen; VmHWM from
/proc/<pid>/status at the same moment.

Targets are printed, never asserted; the exit code is 0 when every run worked.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SYSLOG_NG = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"


def _syslog_ng_version():
    """(series "4.8", module directory) of the syslog-ng under test, from its --version."""
    out = subprocess.run([SYSLOG_NG, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode()
    info = dict(re.findall(r"^([\w-]+): *(.*)$", out, re.M))
    series = ".".join(info.get("Installer-Version", "3.38").split(".")[:2])
    return series, info.get("Module-Directory", "/usr/lib/syslog-ng/" + series)


SYSLOG_NG_SERIES, _MODULE_DIRECTORY = _syslog_ng_version()
SYSTEM_MODULE_DIR = os.environ.get("SYSLOG_NG_MODULE_DIR") or _MODULE_DIRECTORY
MODULE_DIR = os.environ.get("THREATQ_MODULE_DIR", os.path.join(REPO, "modules", "threatq", ".libs"))
PY_FETCHER_DIR = os.path.join(HERE, "python")
CLK_TCK = os.sysconf("SC_CLK_TCK")
POLL = 0.1
PAGE_SIZE = 1000
# The same flow-control window for every source.  threatq() takes one bookmark
# per message (consecutive ack tracker); file() also reads log-fetch-limit()
# lines per poll.
IW_SIZE = 10000
FETCH_LIMIT = 1000


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- helpers

def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def proc_cpu(pid):
    """utime+stime of a process in seconds, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_status(pid, key):
    """A kB value of /proc/<pid>/status (VmHWM, VmRSS) in MB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class LineCounter:
    """Counts newlines appended to a file, reading only what is new."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = 0
        self.f = None

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return self.lines
        while True:
            chunk = self.f.read(8 << 20)
            if not chunk:
                break
            self.offset += len(chunk)
            self.lines += chunk.count(b"\n")
            self.seen(chunk)
        return self.lines

    def seen(self, chunk):
        """Called with every chunk read (bench/match/compare.py looks into them)."""

    def close(self):
        if self.f:
            self.f.close()


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class ApiServer:
    """bench/fast_server.py in its own process."""

    # Up to this many indicators every page is rendered before the clock starts, so the
    # server (which stands in for a remote ThreatQ) costs syslog-ng no CPU during the run.
    PRERENDER_MAX = 200000

    def __init__(self, workdir, n, extra_args=()):
        self.n = n
        self.port_file = os.path.join(workdir, "server-%d.port" % n)
        self.log = open(os.path.join(workdir, "server-%d.log" % n), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fast_server.py"), "--indicators", str(n),
             "--port-file", self.port_file]
            + (["--prerender", str(PAGE_SIZE)] if n <= self.PRERENDER_MAX else [])
            + list(extra_args),
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("the API server did not start (see %s)" % self.log.name)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def stats(self):
        return http_json(self.url + "/_bench/stats")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/_bench/reset", data=b"",
                                                      method="POST"), timeout=10).read()

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --------------------------------------------------------------------------- configs

HEADER = "@version: " + SYSLOG_NG_SERIES + """
options { stats-freq(0); time-reopen(1); };
"""

DESTINATION = """destination d_out { file("%s" template("$MESSAGE\\n")); };
log { source(s_in); destination(d_out); };
"""


def threatq_config(server, out):
    return HEADER + """
source s_in {
  threatq(url("%s") collection("bench") client-id("id") client-secret("secret")
          page-size(%d) poll-interval(3600) log-iw-size(%d));
};
""" % (server.url, PAGE_SIZE, IW_SIZE) + DESTINATION % out


# follow-freq(0.01): syslog-ng 4.12 (not 3.38 or 4.8) reads a followed file in bursts
# between follow-freq() ticks even when the file holds more, so follow-freq(1) reads only
# ~22,000 lines/s there (measured, bench/README.md); a 10 ms tick gives the same rate as
# follow-freq(1) on 3.38 and 4.8, and the full rate on 4.12: one method on every release.
CEILING_FOLLOW_FREQ = "0.01"


def ceiling_config(infile, out):
    return HEADER + """
source s_in {
  file("%s" flags(no-parse) follow-freq(%s) log-iw-size(%d) log-fetch-limit(%d));
};
""" % (infile, CEILING_FOLLOW_FREQ, IW_SIZE, FETCH_LIMIT) + DESTINATION % out


def python_config(server, out):
    return HEADER + """
python { };   # a global python block: syslogng.Persist needs it on 3.38 (harmless on 4.x)

source s_in {
  python-fetcher(
    class("threatq_python_fetcher.ThreatQFetcher")
    options("url" => "%s" "collection" => "bench" "client_id" => "id"
            "client_secret" => "secret" "page_size" => "%d")
    fetch-no-data-delay(3600) log-iw-size(%d));
};
""" % (server.url, PAGE_SIZE, IW_SIZE) + DESTINATION % out


# --------------------------------------------------------------------------- one run

def run_syslog_ng(workdir, name, config, n, timeout, server=None, env=None, wrap=None):
    """Start syslog-ng, wait for n lines in its output; returns a result dict.
    wrap: a command prefix (perf record ... --); syslog-ng's pid then comes from its pidfile."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "out.ndjson")
    conf = os.path.join(d, "syslog-ng.conf")
    pidfile = os.path.join(d, "pid")
    with open(conf, "w") as f:
        f.write(config(out))
    cmd = [SYSLOG_NG, "-F", "--no-caps", "-f", conf, "-R", os.path.join(d, "persist"),
           "-p", pidfile, "-c", os.path.join(d, "ctl"),
           "--module-path=%s:%s" % (SYSTEM_MODULE_DIR, MODULE_DIR), "-e"]
    log = open(os.path.join(d, "syslog-ng.log"), "wb")
    counter = LineCounter(out)
    if server:
        server.reset()
    server_cpu0 = server.cpu() if server else None
    wall0 = time.time()
    t0 = time.monotonic()
    proc = subprocess.Popen((wrap or []) + cmd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, cwd=d)
    pid = proc.pid if not wrap else None
    result = {"name": name, "n": n, "out": out, "dir": d}
    try:
        while True:
            if pid is None and os.path.exists(pidfile):
                with open(pidfile) as f:
                    text = f.read().strip()
                pid = int(text) if text.isdigit() else None
            lines = counter.poll()
            if lines >= n:
                # the instant of the last write, not the poll that saw it
                t1 = os.stat(out).st_mtime_ns / 1e9 - wall0 + t0
                break
            if proc.poll() is not None:
                raise BenchError("%s: syslog-ng exited (rc=%s) after %d of %d lines; see %s"
                                 % (name, proc.returncode, lines, n, log.name))
            if time.monotonic() - t0 > timeout:
                raise BenchError("%s: only %d of %d lines after %.0f s; see %s"
                                 % (name, lines, n, timeout, log.name))
            time.sleep(POLL)
        result["cpu"] = proc_cpu(pid)
        result["hwm_mb"] = proc_status(pid, "VmHWM")
        result["rss_mb"] = proc_status(pid, "VmRSS")
        result["seconds"] = t1 - t0
        result["rate"] = n / result["seconds"]
        if server:
            st = server.stats()
            result["server_cpu"] = server.cpu() - server_cpu0
            if st.get("first_page_time"):
                first = st["first_page_time"] - wall0
                result["first_request_s"] = first
                result["rate_from_first"] = n / max(1e-9, result["seconds"] - first)
            result["server_pages"] = st["pages"]
            result["server_items"] = st["items"]
            result["server_bytes"] = st["bytes"]
            result["server_errors"] = st["errors"]
            result["page_seconds"] = st["page_seconds"]
        # nothing more may come: the source is drained (or, for file(), at EOF)
        time.sleep(0.5)
        result["lines"] = counter.poll()
        result["bytes"] = counter.offset
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        elif proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        counter.close()
    if result["lines"] != n:
        raise BenchError("%s: %d lines written, expected exactly %d" % (name, result["lines"], n))
    return result


# --------------------------------------------------------------------------- checks

def compare_documents(c_out, py_out, limit):
    """The python-fetcher documents against threatq()'s (event.created left out)."""
    diffs = 0
    first = None
    with open(c_out, "rb") as a, open(py_out, "rb") as b:
        for i in range(limit):
            la, lb = a.readline(), b.readline()
            if not la or not lb:
                break
            da, db = json.loads(la), json.loads(lb)
            for doc in (da, db):
                doc.get("event", {}).pop("created", None)
            if da != db:
                diffs += 1
                if first is None:
                    keys = sorted(set(_flatten(da).items()) ^ set(_flatten(db).items()))
                    first = "line %d: %s" % (i + 1, keys[:6])
    return diffs, first


def _flatten(doc, prefix=""):
    out = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            out.update(_flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = json.dumps(v)
    return out


def wait_for_load(limit, max_wait):
    deadline = time.monotonic() + max_wait
    while True:
        one = float(loadavg().split()[0])
        if one < limit:
            return
        if time.monotonic() > deadline:
            print("# load %s still >= %.2f after %.0f s; measuring anyway" % (loadavg(), limit,
                                                                              max_wait), flush=True)
            return
        print("# waiting for the 1-minute load (%s) to drop below %.2f ..." % (loadavg(), limit),
              flush=True)
        time.sleep(30)


# --------------------------------------------------------------------------- profile

def perf_wrap(path):
    """perf record with DWARF call graphs on every thread of syslog-ng (cpu-clock: this
    VM has no hardware counters)."""
    return ["perf", "record", "-q", "-e", "cpu-clock", "-F", "997", "--call-graph", "dwarf,16384",
            "-o", path, "--"]


# --------------------------------------------------------------------------- main

def fmt_rate(r):
    return "{:,.0f}".format(r)


def main(argv=None):
    global IW_SIZE, FETCH_LIMIT
    p = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.split("\n")[0])
    p.add_argument("n", nargs="?", type=int, default=100000,
                   help="indicators for the rate runs (default 100,000)")
    p.add_argument("--small", action="store_true",
                   help="CI mode: N = 5,000 everywhere, RSS only at N and 4 N (< 1 minute)")
    p.add_argument("--python-n", type=int, help="indicators for python-fetcher() (default N)")
    p.add_argument("--rss-n", default=None,
                   help="comma-separated N for the peak-RSS runs (default 100000,1000000)")
    p.add_argument("--skip-python", action="store_true")
    p.add_argument("--skip-rss", action="store_true")
    p.add_argument("--profile", metavar="PERF_DATA",
                   help="also perf-record syslog-ng during an extra threatq() run of N")
    p.add_argument("--wait-load", type=float, metavar="LOAD",
                   help="first wait (up to 15 min) until the 1-minute load is below LOAD")
    p.add_argument("--repeat", type=int, default=None,
                   help="threatq() and ceiling runs each (median reported; default 3, --small 1)")
    p.add_argument("--iw-size", type=int, default=IW_SIZE,
                   help="log-iw-size() of every source (default %d)" % IW_SIZE)
    p.add_argument("--workdir", help="keep the run's files here (default: a temporary dir, removed)")
    a = p.parse_args(argv)

    IW_SIZE = a.iw_size
    FETCH_LIMIT = min(FETCH_LIMIT, IW_SIZE)
    n = 5000 if a.small else a.n
    if a.repeat is None:
        a.repeat = 1 if a.small else 3
    py_n = a.python_n or n
    if a.rss_n:
        rss_ns = [int(x) for x in a.rss_n.split(",") if x]
    elif a.small:
        rss_ns = [n, 4 * n]
    else:
        rss_ns = [100000, 1000000]
    if a.skip_rss:
        rss_ns = []

    if not os.path.exists(os.path.join(MODULE_DIR, "libthreatq.so")):
        print("bench: %s/libthreatq.so is missing: build it first (./autogen.sh && ./configure "
              "&& make)" % MODULE_DIR, file=sys.stderr)
        return 2
    have_python = any(f.startswith("libmod-python") for f in os.listdir(SYSTEM_MODULE_DIR))

    if a.profile:
        try:
            subprocess.run(["perf", "stat", "-e", "cpu-clock", "true"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            print("bench: --profile needs a working `perf` (apt-get install linux-perf; "
                  "kernel.perf_event_paranoid <= 1 or root)", file=sys.stderr)
            return 2

    if a.wait_load is not None:
        wait_for_load(a.wait_load, 15 * 60)

    workdir = a.workdir or tempfile.mkdtemp(prefix="threatq-bench-")
    os.makedirs(workdir, exist_ok=True)
    servers = {}
    results = {}
    started = time.monotonic()

    def server(count):
        if count not in servers:
            servers[count] = ApiServer(workdir, count)
        return servers[count]

    def timeout_for(count, min_rate):
        return 30 + count / min_rate

    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print("threatq() benchmark  %s  host %s, %d CPUs (%s), kernel %s"
          % (time.strftime("%Y-%m-%d %H:%M:%S"), platform.node(), os.cpu_count(), cpu,
             platform.release()))
    print("syslog-ng %s, module %s/libthreatq.so" % (
        subprocess.run([SYSLOG_NG, "-V"], stdout=subprocess.PIPE, text=True)
        .stdout.split("\n")[0].split()[-1], os.path.relpath(MODULE_DIR, REPO)))
    print("load average at start: %s" % loadavg())
    print("N = %d (python-fetcher %d), pages of %d, log-iw-size(%d) on every source, "
          "destination file(template(\"$MESSAGE\\n\"))" % (n, py_n, PAGE_SIZE, IW_SIZE))
    print("clock: syslog-ng launch -> N lines in the output file (polled every %d ms; end = "
          "the file's mtime then)" % (POLL * 1000))
    sys.stdout.flush()

    ok = True
    try:
        srv = server(n)
        infile = os.path.join(workdir, "ceiling-input.ndjson")
        # threatq() and ceiling runs take turns, so that a slower spell of the
        # machine (a VM shares its host) weighs on both alike
        for i in range(a.repeat):
            r = run_syslog_ng(workdir, "threatq-%d" % (i + 1), lambda o: threatq_config(srv, o),
                              n, timeout_for(n, 2000), server=srv)
            r["in_bytes_per_ind"] = r["server_bytes"] / max(1, r["server_items"])
            results.setdefault("threatq", []).append(r)
            if i == 0:
                os.replace(r["out"], infile)      # the ceiling's input: the same N lines
            else:
                os.unlink(r["out"])

            r = run_syslog_ng(workdir, "ceiling-%d" % (i + 1),
                              lambda o: ceiling_config(infile, o), n, timeout_for(n, 2000))
            results.setdefault("ceiling", []).append(r)
            os.unlink(r["out"])

        if a.skip_python:
            pass
        elif not have_python:
            print("python-fetcher: SKIPPED, syslog-ng-mod-python is not installed "
                  "(apt-get install syslog-ng-mod-python)")
        else:
            psrv = server(py_n)
            env = dict(os.environ, PYTHONPATH=PY_FETCHER_DIR)
            r = run_syslog_ng(workdir, "python", lambda o: python_config(psrv, o),
                              py_n, timeout_for(py_n, 300), server=psrv, env=env)
            diffs, first = compare_documents(infile, r["out"], min(n, py_n))
            r["doc_diffs"] = (diffs, first, min(n, py_n))
            results["python"] = [r]
            os.unlink(r["out"])

        if a.profile:
            r = run_syslog_ng(workdir, "profile", lambda o: threatq_config(srv, o), n,
                              timeout_for(n, 1000), server=srv, wrap=perf_wrap(a.profile))
            results["profile"] = [r]
            os.unlink(r["out"])

        for count in rss_ns:
            if count == n:
                continue            # the threatq() rate runs above measured it
            for c in list(servers):
                if c != count:
                    servers.pop(c).stop()
            rsrv = server(count)
            r = run_syslog_ng(workdir, "rss-%d" % count, lambda o: threatq_config(rsrv, o),
                              count, timeout_for(count, 2000), server=rsrv)
            results["rss-%d" % count] = [r]
            os.unlink(r["out"])
    except BenchError as e:
        print("FAILED: %s" % e)
        ok = False
    finally:
        for s in servers.values():
            s.stop()

    report(results, n, rss_ns)
    if a.profile and "profile" in results:
        print_profile(a.profile, results["profile"][0])
    print("load average at end: %s; wall time of the benchmark %.0f s"
          % (loadavg(), time.monotonic() - started))
    if a.workdir:
        print("files kept in %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def print_profile(perf_data, r):
    sys.path.insert(0, HERE)
    import perf_summary
    print()
    print("profile of the threatq() run under perf (%s; %d indicators in %.2f s):"
          % (perf_data, r["n"], r["seconds"]))
    total = r["cpu"] + r["server_cpu"]
    print("CPU: syslog-ng %.2f s (%.0f%%), API server (separate process) %.2f s (%.0f%%) "
          "of the %.2f s both used" % (r["cpu"], 100 * r["cpu"] / total, r["server_cpu"],
                                       100 * r["server_cpu"] / total, total))
    perf_summary.summarise(perf_data, top=15, n=r["n"])
    sys.stdout.flush()


def median_run(runs):
    """The run with the median rate (the lower middle one for an even count)."""
    ok = sorted((r for r in runs or [] if "rate" in r), key=lambda r: r["rate"])
    return ok[(len(ok) - 1) // 2] if ok else None


def report(results, n, rss_ns):
    print()
    print("%-30s %9s %8s %10s %15s %9s %10s" % ("run", "N", "seconds", "ind/s",
                                                "syslog-ng CPU", "VmHWM", "server CPU"))
    order = [("threatq", "threatq() -> file"), ("ceiling", "ceiling: file() -> file"),
             ("python", "python-fetcher() -> file"), ("profile", "threatq() under perf")]
    order += [("rss-%d" % c, "threatq() -> file, RSS run") for c in rss_ns if c != n]
    for key, label in order:
        runs = results.get(key) or []
        for i, r in enumerate(runs):
            if "rate" not in r:
                continue
            tag = (" #%d" % (i + 1)) if len(runs) > 1 else ""
            print("%-30s %9d %8.2f %10s %8.2f s %4.0f%% %6.1f MB %10s" % (
                label + tag, r["n"], r["seconds"], fmt_rate(r["rate"]), r["cpu"],
                100 * r["cpu"] / r["seconds"], r["hwm_mb"],
                ("%.2f s" % r["server_cpu"]) if "server_cpu" in r else "-"))
    t = median_run(results.get("threatq"))
    c = median_run(results.get("ceiling"))
    py = median_run(results.get("python"))
    print()
    if t:
        print("threatq() (median run): first page request %.2f s after launch, %s ind/s from "
              "then on; %d pages, %.0f B of JSON per indicator in, %.0f B per line out"
              % (t.get("first_request_s", float("nan")), fmt_rate(t.get("rate_from_first", 0)),
                 t["server_pages"], t["in_bytes_per_ind"], t["bytes"] / t["n"]))
        print("threatq(): syslog-ng CPU %.1f us per indicator; the server spent %.2f s of the "
              "%.2f s answering pages (request read -> answer written)"
              % (1e6 * t["cpu"] / t["n"], t["page_seconds"], t["seconds"]))
    if py:
        print("python-fetcher(): first page request %.2f s after launch, %s ind/s from then on; "
              "syslog-ng CPU %.1f us per indicator"
              % (py.get("first_request_s", float("nan")), fmt_rate(py.get("rate_from_first", 0)),
                 1e6 * py["cpu"] / py["n"]))
        diffs, first, compared = py["doc_diffs"]
        print("python-fetcher(): %d of %d documents differ from threatq()'s (event.created "
              "ignored)%s" % (diffs, compared, ("; first: " + first) if first else ""))
    print()
    print("targets (reported, not asserted; rates are the median runs):")
    if t and c:
        ratio = t["rate"] / c["rate"]
        print("  end-to-end >= 0.5 x ceiling:       %s / %s = %.2f x  %s"
              % (fmt_rate(t["rate"]), fmt_rate(c["rate"]), ratio,
                 "MET" if ratio >= 0.5 else "MISSED (%.0f%% short of 0.5 x)"
                 % (100 * (0.5 - ratio) / 0.5)))
        pairs = [tr["rate"] / cr["rate"] for tr, cr in zip(results.get("threatq") or [],
                                                             results.get("ceiling") or [])
                 if "rate" in tr and "rate" in cr]
        if len(pairs) > 1:
            print("    run by run (threatq() #i / ceiling #i, run back to back): %s; lowest %.2f x"
                  % (", ".join("%.2f" % p for p in pairs), min(pairs)))
    if t and py:
        ratio = t["rate"] / py["rate"]
        print("  end-to-end >= 10 x python-fetcher: %s / %s = %.1f x  %s"
              % (fmt_rate(t["rate"]), fmt_rate(py["rate"]), ratio,
                 "MET" if ratio >= 10 else "MISSED (%.0f%% short of 10 x)"
                 % (100 * (10 - ratio) / 10)))
    if len(rss_ns) >= 2:
        def hwm(count):
            runs = results.get("threatq") if count == n else results.get("rss-%d" % count)
            vals = [r["hwm_mb"] for r in runs or [] if r.get("hwm_mb") is not None]
            return max(vals) if vals else None
        lo, hi = hwm(rss_ns[0]), hwm(rss_ns[-1])
        if lo is not None and hi is not None:
            growth = hi - lo
            print("  VmHWM growth %s -> %s < 20 MB: %.1f MB -> %.1f MB = %+.1f MB  %s"
                  % (fmt_rate(rss_ns[0]), fmt_rate(rss_ns[-1]), lo, hi, growth,
                     "MET" if growth < 20 else "MISSED (by %.1f MB)" % (growth - 20)))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
