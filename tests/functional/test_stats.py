# SPDX-License-Identifier: GPL-2.0-or-later
"""The per-source counters in `syslog-ng-ctl stats`, read after runs whose
numbers are known in advance; on syslog-ng 4.x also as labelled metrics in
`syslog-ng-ctl stats prometheus`."""

import json
import re
import time

import syslogng
from conftest import COLLECTION
from syslogng import base_source_opts, make_config, read_lines
from tls_helpers import threatq_counters
from threatq_emulator import encode_cursor


def test_counters_after_a_clean_sync(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=2500)
    out = syslog_ng.dir / "out.ndjson"
    started = int(time.time())
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=1000), out))
    syslog_ng.wait_for(lambda: threatq_counters(syslog_ng).get("last_sync", 0) > 0,
                       message="the first sync to complete")
    counters = threatq_counters(syslog_ng)
    assert len(read_lines(out)) == 2500
    # three pages of data and the empty page that ends the cycle
    assert counters["pages"] == 4, counters
    assert counters["indicators"] == 2500, counters
    assert counters["processed"] == 2500, counters
    for name in ("http_errors", "auth_failures", "malformed_pages", "malformed_items"):
        assert counters[name] == 0, (name, counters)
    assert started <= counters["last_sync"] <= int(time.time()), counters
    syslog_ng.stop()


def test_counters_count_failures_and_skipped_items(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=3)
    good = emu.indicators(COLLECTION)
    last = good[-1]
    # a first page with two elements that are not objects, then a page that is not JSON
    emu.add_fault("page", body=json.dumps({
        "total": 5, "data": good + ["not an object", 42], "limit": 1000,
        "nextCursorMark": encode_cursor(last["updated_at"], last["id"])}))
    emu.add_fault("page", body="<html>502 Bad Gateway</html>")
    emu.add_fault("page", status=500)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION), out))
    syslog_ng.wait_for(lambda: threatq_counters(syslog_ng).get("last_sync", 0) > 0, timeout=20,
                       message="the sync to complete after the faults")
    counters = threatq_counters(syslog_ng)
    assert len(read_lines(out)) == 3
    assert counters["indicators"] == 3, counters
    assert counters["malformed_items"] == 2, counters
    assert counters["malformed_pages"] == 1, counters
    assert counters["http_errors"] == 1, counters
    assert counters["auth_failures"] == 0, counters
    syslog_ng.stop()


def test_auth_failures_are_counted(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=3)
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, client_secret="wrong")
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: threatq_counters(syslog_ng).get("auth_failures", 0) >= 2,
                       message="two refused token requests")
    counters = threatq_counters(syslog_ng)
    assert counters["http_errors"] >= counters["auth_failures"] >= 2, counters
    assert counters["indicators"] == 0 and counters["pages"] == 0, counters
    assert read_lines(out) == []
    syslog_ng.stop()


COUNTERS = ("pages", "indicators", "http_errors", "auth_failures", "malformed_pages",
            "malformed_items", "last_sync", "unpaired_attributes")
METRICS = {name: "syslogng_threatq_%s_total" % name for name in COUNTERS}
METRICS["last_sync"] = "syslogng_threatq_last_sync_timestamp"
PROMETHEUS_LINE = re.compile(r"^(\w+)\{(.*)\} (\S+)$")
PROMETHEUS_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def prometheus_metrics(sng):
    """[(name, {label: value}, number)] of `syslog-ng-ctl stats prometheus`."""
    out = []
    for line in sng.stats_raw("prometheus").splitlines():
        m = PROMETHEUS_LINE.match(line)
        if m:
            out.append((m.group(1), dict(PROMETHEUS_LABEL.findall(m.group(2))),
                        int(float(m.group(3)))))
    return out


def test_counters_name_the_source_url_and_collection(emulator_factory, syslog_ng):
    """Two threatq() sources (one with persist-name()): every counter of each one, with the
    exact numbers of a clean sync, under the source's id, URL and collection: the legacy
    rows on every release, and on 4.x the labelled syslogng_threatq_* metrics."""
    emu = emulator_factory(indicators=1500)
    emu.add_collection("second")
    emu.add_indicators(700, collection="second")
    out = syslog_ng.dir / "out.ndjson"
    second = syslogng.threatq_source(**base_source_opts(emu, "second", persist_name="tq-two"))
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION), out, extra="""
source s_two { %s; };
log { source(s_two); destination(d_out); };
""" % second))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 2200 and all(
        r["Number"] > 0 for r in syslog_ng.stats()
        if r.get("SourceName") == "src.threatq" and r.get("Type") == "last_sync") and sum(
        1 for r in syslog_ng.stats() if r.get("Type") == "last_sync") == 2,
        message="both sources to finish their first sync")
    want = {("s_tq#0", "threatq,%s,%s" % (emu.url, COLLECTION)):
            dict(pages=3, indicators=1500, url=emu.url, collection=COLLECTION),
            ("s_two#0", "threatq,tq-two"):
            dict(pages=2, indicators=700, url=emu.url, collection="second",
                 persist_name="tq-two")}
    rows = [r for r in syslog_ng.stats() if r.get("SourceName") == "src.threatq"]
    for (sid, instance), w in want.items():
        got = {r["Type"]: r["Number"] for r in rows
               if r["SourceId"] == sid and r["SourceInstance"] == instance}
        assert set(COUNTERS) <= set(got), (sid, instance, rows)
        assert got["pages"] == w["pages"] and got["indicators"] == w["indicators"], got
        assert all(got[n] == 0 for n in COUNTERS[2:6]), got
        assert got["last_sync"] > 0 and got["unpaired_attributes"] == 0, got
        if not syslogng.TYPED_VALUES:
            continue
        # 4.x: the same numbers as labelled metrics
        labels = dict(id=sid, url=w["url"], collection=w["collection"])
        if "persist_name" in w:
            labels["persist_name"] = w["persist_name"]
        metrics = {name: value for name, lab, value in prometheus_metrics(syslog_ng)
                   if lab == labels}
        for counter in COUNTERS:
            assert metrics.get(METRICS[counter]) == got[counter], (
                counter, labels, metrics, syslog_ng.stats_raw("prometheus"))
    syslog_ng.stop()
