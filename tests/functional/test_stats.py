# SPDX-License-Identifier: GPL-2.0-or-later
"""The per-source counters in `syslog-ng-ctl stats`, read after runs whose
numbers are known in advance."""

import json
import time

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
