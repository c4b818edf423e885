# SPDX-License-Identifier: GPL-2.0-or-later
"""Resilience (issue #4; spec section 2 items 4-6): every fault case of the issue
with the same delivery checks afterwards -- every indicator delivered (by
threatq.id), at most one page twice, syslog-ng alive and `syslog-ng-ctl stats`
answering -- plus flow control against a stalled destination, stop/reload
while a request hangs, and secrets at -d -v -t.

Run with -s to see the measured figures (duplicates, back-off gaps, stop and
reload times)."""

import base64
import fcntl
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION
from syslogng import (SYSLOG_NG_CTL, VERSION_LINE, base_source_opts, make_config, read_lines,
                      threatq_source)
from tls_helpers import check_delivery, check_running, out_ids, threatq_counters

N = 30
PAGE = 10
F_SETPIPE_SZ = 1031


def pages_in_time_order(emu):
    """Page requests in arrival order (a slow answer is logged when it is sent,
    so the log's own order can put it after its retry)."""
    return sorted(emu.requests("page"), key=lambda r: r["time"])


def report(name, **figures):
    print("[resilience] %s: %s" % (name, ", ".join("%s=%s" % kv for kv in figures.items())))


def run_with_fault_on_second_page(emu, syslog_ng, inject, faults=1, **opts):
    """Serve page 1, hold page 2, inject the fault(s), release; wait for every
    indicator (and for the emulator to have logged `faults` faulted requests).
    Returns (counters, duplicates, page requests in time order)."""
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=PAGE, **opts), out))
    assert emu.wait_for_held(15), "the second page request never came"
    inject(emu)
    emu.release()
    syslog_ng.wait_for(lambda: set(out_ids(out)) >= {i["id"] for i in emu.indicators()},
                       timeout=15, message="every indicator despite the fault")
    emu.wait_for_requests(lambda reqs: sum(1 for r in reqs if r["fault"]) >= faults, 10)
    counters = check_running(syslog_ng)
    _, dups = check_delivery(emu, out, max_duplicates=PAGE)
    syslog_ng.stop()
    return counters, dups, pages_in_time_order(emu)


def assert_same_cursor_retried(pages, n_faulted=1):
    """The faulted request(s) and the request after them use the same cursor."""
    i = next(i for i, p in enumerate(pages) if p["fault"] or p["status"] != 200)
    window = pages[i:i + n_faulted + 1]
    assert len(window) == n_faulted + 1, "no retry after the fault"
    assert len({p["query"]["cursorMark"] for p in window}) == 1, \
        "the cursor moved past a failed page: %s" % [(p["status"], p["query"]["cursorMark"])
                                                     for p in window]
    assert window[-1]["status"] == 200 and window[-1]["fault"] is None
    return i


# ---------------------------------------------------------------------------
# fault cases

# name -> (inject(emu), expected counter increments, min seconds before the retry)
PAGE_FAULTS = {
    "429-retry-after": (lambda e: e.add_fault("page", status=429, headers={"Retry-After": "2"}),
                        {"http_errors": 1, "malformed_pages": 0}, 1.9),
    "truncated-json": (lambda e: e.add_fault("page", truncate=True),
                       {"http_errors": 0, "malformed_pages": 1}, 0.4),
    "data-is-a-string": (lambda e: e.add_fault(
        "page", body='{"total": 30, "data": "oops", "nextCursorMark": "AoE=", "limit": 10}'),
        {"http_errors": 0, "malformed_pages": 1}, 0.4),
    "dropped-mid-body": (lambda e: e.add_fault("page", drop_mid_body=True),
                         {"http_errors": 1, "malformed_pages": 0}, 0.4),
}


@pytest.mark.parametrize("case", list(PAGE_FAULTS))
def test_page_fault(emulator_factory, syslog_ng, case):
    inject, expect, min_gap = PAGE_FAULTS[case]
    emu = emulator_factory(indicators=N)
    counters, dups, pages = run_with_fault_on_second_page(emu, syslog_ng, inject)
    i = assert_same_cursor_retried(pages)
    gap = pages[i + 1]["time"] - pages[i]["time"]
    report(case, duplicates=dups, lost=0, retry_after_s="%.2f" % gap, counters=counters)
    assert gap >= min_gap, "retried after %.2fs" % gap
    for name, value in expect.items():
        assert counters[name] == value, (name, counters)
    assert counters["indicators"] == N, counters
    assert counters["pages"] >= N // PAGE, counters


def test_three_500s_in_a_row_back_off_exponentially(emulator_factory, syslog_ng):
    """Three 500s on the same page: retried with the same cursor after 0.5-1 s,
    1-2 s, 2-4 s (1 s doubling, jitter down to half, capped by time-reopen(4))."""
    emu = emulator_factory(indicators=N)
    counters, dups, pages = run_with_fault_on_second_page(
        emu, syslog_ng, lambda e: e.add_fault("page", status=500, count=3), faults=3,
        time_reopen=4)
    i = assert_same_cursor_retried(pages, n_faulted=3)
    assert [p["status"] for p in pages[i:i + 4]] == [500, 500, 500, 200]
    gaps = [b["time"] - a["time"] for a, b in zip(pages[i:i + 3], pages[i + 1:i + 4])]
    report("three-500s", duplicates=dups, lost=0, gaps_s=["%.2f" % g for g in gaps],
           counters=counters)
    for g, (lo, hi) in zip(gaps, [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0)]):
        assert lo - 0.05 <= g <= hi + 0.5, "back-off gaps %s" % gaps
    assert counters["http_errors"] == 3 and counters["malformed_pages"] == 0, counters
    assert counters["indicators"] == N


def test_server_slower_than_timeout(emulator_factory, syslog_ng):
    """timeout(1), the page is answered after 2.5 s: the request is abandoned,
    counted, retried with the same cursor; nothing lost."""
    emu = emulator_factory(indicators=N)
    counters, dups, pages = run_with_fault_on_second_page(
        emu, syslog_ng, lambda e: e.add_fault("page", delay=2.5), timeout=1)
    i = assert_same_cursor_retried(pages)
    gap = pages[i + 1]["time"] - pages[i]["time"]
    report("slower-than-timeout", duplicates=dups, lost=0, retry_after_s="%.2f" % gap,
           counters=counters)
    assert 1.0 + 0.4 <= gap < 2.5, "the retry came %.2fs after the slow request" % gap
    assert counters["http_errors"] == 1, counters
    assert "timed out" in syslog_ng.output().lower() or "timeout" in syslog_ng.output().lower()


def test_token_expires_mid_sync(emulator_factory, syslog_ng):
    """Every token is revoked while page 2 is in flight: the 401 gets a new
    token and the same cursor is retried at once (no back-off)."""
    emu = emulator_factory(indicators=N)
    counters, dups, pages = run_with_fault_on_second_page(emu, syslog_ng,
                                                          lambda e: e.expire_tokens(), faults=0)
    reqs = sorted(emu.requests(), key=lambda r: r["time"])
    i401 = next(i for i, r in enumerate(reqs) if r["status"] == 401)
    nxt = reqs[i401 + 1:i401 + 3]
    assert [(r["kind"], r["status"]) for r in nxt] == [("token", 200), ("page", 200)]
    assert nxt[1]["query"]["cursorMark"] == reqs[i401]["query"]["cursorMark"]
    assert nxt[1]["headers"]["authorization"] == "Bearer " + emu.issued_tokens()[-1]
    gap = nxt[1]["time"] - reqs[i401]["time"]
    report("token-expiry-mid-sync", duplicates=dups, lost=0, retry_after_s="%.2f" % gap,
           counters=counters)
    assert gap < 0.5
    assert len(emu.issued_tokens()) == 2
    # a 401 cured by the one retry is not an error
    assert counters["auth_failures"] == 0 and counters["http_errors"] == 0, counters


def test_sigkill_and_restart_mid_sync(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=5 * PAGE)
    out = syslog_ng.dir / "out.ndjson"
    conf = make_config(base_source_opts(emu, COLLECTION, page_size=PAGE), out)
    emu.hold_pages_after(2)
    syslog_ng.start(conf)
    assert emu.wait_for_held(15)
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 2 * PAGE, timeout=10,
                       message="two pages written")
    syslog_ng.kill()
    emu.release()
    syslog_ng.start(conf)
    syslog_ng.wait_for(lambda: set(out_ids(out)) >= {i["id"] for i in emu.indicators()},
                       timeout=15, message="every indicator after the restart")
    check_running(syslog_ng)
    _, dups = check_delivery(emu, out, max_duplicates=PAGE)
    syslog_ng.stop()
    tokens = emu.issued_tokens()
    second = [r for r in pages_in_time_order(emu)
              if r["headers"].get("authorization") == "Bearer " + tokens[-1]]
    assert second[0]["query"]["cursorMark"] != "*", "restarted from the beginning"
    report("sigkill-restart", duplicates=dups, lost=0)


# ---------------------------------------------------------------------------
# flow control

class FifoReader:
    """The read end of a FIFO, opened before syslog-ng, with the pipe buffer
    shrunk to one page so that a stalled reader stalls the writer quickly."""

    def __init__(self, path):
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, F_SETPIPE_SZ, 4096)
        self.data = bytearray()
        self._stop = threading.Event()
        self._thread = None

    def start_reading(self):
        def loop():
            while not self._stop.is_set():
                try:
                    chunk = os.read(self.fd, 65536)
                except BlockingIOError:
                    time.sleep(0.01)
                    continue
                if chunk:
                    self.data += chunk
                else:
                    time.sleep(0.01)
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def ids(self):
        import json
        text = bytes(self.data).decode("utf-8", "replace")
        lines = text.split("\n")[:-1]
        return [int(json.loads(ln)["threatq"]["id"]) for ln in lines]

    def close(self):
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        os.close(self.fd)


@pytest.mark.parametrize("iw", [1, 2, 3, 100])
def test_every_window_size_delivers_the_whole_collection(emulator_factory, syslog_ng, iw):
    """Bursts fill the window; on 4.x the source closes its own batches, and a
    window whose messages all waited in an open batch would never be
    acknowledged: the sync would stop at the first full window."""
    n = 250
    emu = emulator_factory(indicators=n)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=7, log_iw_size=iw), out))
    syslog_ng.wait_for(lambda: threatq_counters(syslog_ng).get("last_sync", 0) > 0, timeout=60,
                       message="the first sync to complete with log-iw-size(%d)" % iw)
    ids = out_ids(out)
    assert len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids)))
    assert threatq_counters(syslog_ng)["processed"] == n
    syslog_ng.stop()


def test_stalled_destination_holds_the_fetcher_back(emulator_factory, syslog_ng):
    iw, page, n = 100, 25, 300
    emu = emulator_factory(indicators=n)
    fifo = FifoReader(syslog_ng.dir / "out.fifo")
    try:
        src = threatq_source(**base_source_opts(emu, COLLECTION, page_size=page,
                                                log_iw_size=iw))
        syslog_ng.start(VERSION_LINE + """
options { stats-freq(0); stats-level(1); time-reopen(1); };
source s_tq { %s; };
destination d_fifo { pipe("%s" template("$MESSAGE\\n")); };
log { source(s_tq); destination(d_fifo); flags(flow-control); };
""" % (src, syslog_ng.dir / "out.fifo"))
        bound = iw // page + 2
        syslog_ng.wait_for(lambda: len(emu.requests("page")) >= iw // page, timeout=10,
                           message="the first pages")
        time.sleep(2.0)  # measuring: with poll-interval(1), an unbounded fetcher would be done
        stalled_pages = len(emu.requests("page"))
        stalled = syslog_ng.stats()
        dropped = [r for r in stalled if r["Type"] == "dropped" and r["Number"]]
        report("stalled-destination", page_requests_while_stalled=stalled_pages, bound=bound)
        assert stalled_pages <= bound, "%d page requests while the destination was stalled" \
                                       % stalled_pages
        assert not dropped, dropped
        fetched = [i for r in emu.requests("page") if r["response"] for i in r["response"]["ids"]]
        assert 0 < len(fetched) < n, "the fetcher read the whole collection into memory"
        check_running(syslog_ng)

        fifo.start_reading()
        syslog_ng.wait_for(lambda: len(fifo.ids()) >= n, timeout=15,
                           message="everything after un-stalling")
        syslog_ng.wait_for(lambda: any(r["response"] and r["response"]["items"] == 0
                                       for r in emu.requests("page")), timeout=10,
                           message="the drain")
        ids = fifo.ids()
        assert sorted(ids) == sorted(i["id"] for i in emu.indicators()), "not exactly once"
        stats = syslog_ng.stats()
        dropped = [r for r in stats if r["Type"] == "dropped" and r["Number"]]
        assert not dropped, dropped
        assert [r["Number"] for r in stats if r["Type"] == "dropped"], syslog_ng.stats_raw()
        assert threatq_counters(syslog_ng)["indicators"] == n
        check_running(syslog_ng)
        syslog_ng.stop()
    finally:
        fifo.close()


# ---------------------------------------------------------------------------
# stop and reload while a request hangs

def ctl(syslog_ng, *args):
    return subprocess.run([SYSLOG_NG_CTL, *args, "-c", str(syslog_ng.ctl)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)


def start_with_hanging_request(emulator_factory, syslog_ng, **opts):
    emu = emulator_factory(indicators=N)
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)  # the second page request never gets an answer
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=PAGE,
                                                 timeout=60, **opts), out))
    assert emu.wait_for_held(15)
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= PAGE, timeout=10, message="page 1")
    time.sleep(0.3)  # measuring: make sure curl is in its idle wait, not just connecting
    return emu, out


def test_stop_while_request_hangs(emulator_factory, syslog_ng):
    emu, out = start_with_hanging_request(emulator_factory, syslog_ng)
    t0 = time.monotonic()
    p = ctl(syslog_ng, "stop")
    t_ctl = time.monotonic() - t0
    syslog_ng.proc.wait(10)
    took = time.monotonic() - t0
    report("stop-while-hanging", ctl_returned_s="%.3f" % t_ctl, process_exited_s="%.3f" % took)
    assert p.returncode == 0, p.stdout
    assert took < 1.5, "syslog-ng-ctl stop took %.2fs with a hanging request" % took
    assert syslog_ng.stop() == 0
    assert emu.held_count() == 1  # the request really was still hanging


def test_reload_while_request_hangs(emulator_factory, syslog_ng):
    emu, out = start_with_hanging_request(emulator_factory, syslog_ng)
    new_conf = make_config(base_source_opts(emu, COLLECTION, page_size=PAGE, timeout=60,
                                            user_agent="threatq-after-reload"), out)
    syslog_ng.write_config(new_conf)
    t0 = time.monotonic()
    p = ctl(syslog_ng, "reload")
    t_ctl = time.monotonic() - t0

    def new_config_runs():
        return any(r["headers"].get("user-agent") == "threatq-after-reload"
                   for r in emu.requests())
    syslog_ng.wait_for(new_config_runs, timeout=10, message="a request of the new config")
    t_new = time.monotonic() - t0
    report("reload-while-hanging", ctl_returned_s="%.3f" % t_ctl,
           new_config_requesting_s="%.3f" % t_new)
    assert p.returncode == 0, p.stdout
    assert t_ctl < 1.5, "syslog-ng-ctl reload took %.2fs" % t_ctl
    assert t_new < 1.5, "the new config started requesting after %.2fs" % t_new

    # and nothing is lost across the reload
    emu.release()
    syslog_ng.wait_for(lambda: set(out_ids(out)) >= {i["id"] for i in emu.indicators()},
                       timeout=15, message="every indicator after the reload")
    check_running(syslog_ng)
    _, dups = check_delivery(emu, out, max_duplicates=PAGE)
    report("reload-while-hanging", duplicates=dups, lost=0)
    syslog_ng.stop()


# ---------------------------------------------------------------------------
# secrets

def test_secrets_nowhere_at_any_verbosity(emulator_factory, syslog_ng):
    """-d -v -t through token fetches (one failing), a 401 mid-sync, a 500, a
    truncated page and a 401 from the token endpoint: neither the client
    secret nor any access token the emulator issued appears in syslog-ng's
    output, the persist file, the destination file or the stats."""
    emu = emulator_factory(indicators=3 * PAGE, token_expires_in=2)
    emu.add_fault("token", status=500)
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=PAGE), out),
                    extra_args=("-d", "-v", "-t"))
    assert emu.wait_for_held(15)
    emu.expire_tokens()                          # 401 on the held page
    emu.add_fault("page", status=500)
    emu.add_fault("page", truncate=True)
    emu.release()
    syslog_ng.wait_for(lambda: len(set(out_ids(out))) >= 3 * PAGE, timeout=15, message="all")
    emu.add_fault("token", status=401)           # the next renewal fails once
    n_tok = len(emu.requests("token"))
    syslog_ng.wait_for(lambda: len([t for t in emu.requests("token") if t["status"] == 200])
                       >= 4 and len(emu.requests("token")) > n_tok + 1, timeout=15,
                       message="a failed and a successful token renewal")
    check_running(syslog_ng)
    stats = syslog_ng.stats_raw()
    syslog_ng.stop()

    statuses = [(r["kind"], r["status"]) for r in emu.requests()]
    assert ("page", 401) in statuses and ("token", 401) in statuses \
        and ("token", 500) in statuses and ("page", 500) in statuses, statuses
    tokens = set(emu.issued_tokens())
    # also every bearer token actually sent, from the emulator's request log
    tokens |= {r["headers"]["authorization"][7:] for r in emu.requests("page")
               if r["headers"].get("authorization", "").startswith("Bearer ")}
    assert len(tokens) >= 4
    basic = base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
    secrets = [CLIENT_SECRET, basic] + sorted(tokens)

    log = syslog_ng.output()
    assert re.search(r"threatq: .*page received", log), "no debug output at -d -v -t?"
    places = {"stdout/stderr": log.encode(), "persist": syslog_ng.persist.read_bytes(),
              "output": out.read_bytes(), "stats": stats.encode()}
    leaks = [(where, s[:6] + "...") for where, data in places.items() for s in secrets
             if s.encode() in data]
    report("secrets", tokens_checked=len(tokens), places=list(places), leaks=leaks)
    assert not leaks, leaks


def test_failed_reload_reverts_and_keeps_fetching(emulator_factory, syslog_ng):
    """A reload whose new config fails to initialise reverts to the old one;
    the old threatq() source must fetch again (regression: the client's abort
    flag set at deinit was never cleared, every later request was aborted)."""
    import socket
    emu = emulator_factory(indicators=5)
    out = syslog_ng.dir / "out.ndjson"
    conf = make_config(base_source_opts(emu, COLLECTION), out)
    syslog_ng.start(conf)
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 5, timeout=10, message="first sync")
    with socket.socket() as busy:  # the new config cannot bind this port: init fails
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        syslog_ng.write_config(conf + """
source s_busy { network(ip("127.0.0.1") port(%d) transport("tcp")); };
log { source(s_busy); destination(d_out); };
""" % busy.getsockname()[1])
        p = ctl(syslog_ng, "reload")
    assert p.returncode != 0 and b"reverted" in p.stdout, p.stdout
    emu.add_indicators(3, COLLECTION)
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 8, timeout=6,
                       message="indicators added after the reverted reload (poll-interval 1)")
    check_running(syslog_ng)
    check_delivery(emu, out, max_duplicates=0)
    syslog_ng.stop()
