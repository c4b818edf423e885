# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile or broken pages (issue 10, the page half): what a server puts in a
page body must not crash, freeze or bloat syslog-ng.

Every case runs a real syslog-ng with threatq() and a second, ordinary log
path (hostile_helpers.SecondPath), serves the hostile content from the
emulator, and asserts:
  - syslog-ng is alive and the second path delivers each line within ~1 s,
  - peak RSS (VmHWM) under a bound stated in the case,
  - syslog-ng's own log output under a bound stated in the case,
  - where the server behaves afterwards, every ordinary indicator delivered,
  - a stop (SIGTERM) within 2 s.
The bounds are documented in docs/limits.md with before/after figures.

THREATQ_HOSTILE_REPORT=<file> appends each case's figures (JSON lines) to
<file> before the assertions run, so the same cases can be measured against
another build.
"""

import json
import os
import subprocess
import time

from conftest import COLLECTION
from hostile_helpers import LogMeter, SecondPath, peak_rss_kb, timed_stop, RSS_SCALE, STOP_LIMIT
from syslogng import SYSLOG_NG_CTL, TIMEOUT_SCALE, base_source_opts, make_config, read_json_lines, dig
from threatq_emulator import fmt_time
from tls_helpers import threatq_counters

MiB = 1024
ORDINARY = 50               # well-behaved indicators served besides the hostile content
BASE_TIME = 1_600_000_000   # updated_at of the hostile indicators: before the ordinary ones


# ---------------------------------------------------------------------------
# building hostile content

def _indicator(ind_id, **extra):
    ind = {"id": ind_id, "value": "hostile-%d.example" % ind_id, "type": {"name": "FQDN"},
           "updated_at": fmt_time(BASE_TIME + ind_id), "created_at": fmt_time(BASE_TIME)}
    ind.update(extra)
    return ind


def _attributes(names, value="x"):
    return [{"name": n, "value": value} for n in names]


def _worst_order_names(count, prefix="name"):
    # each name sorts before every name added earlier
    return ["%s %08d" % (prefix, count - i) for i in range(count)]


def _page_body(data_json, cursor="*"):
    """A page as bytes around data given as JSON bytes."""
    return b'{"total":1,"data":' + data_json + b',"nextCursorMark":"' + cursor.encode() + b'"}'


# ---------------------------------------------------------------------------
# running a case

class Case:
    def __init__(self, name, emulator_factory, syslog_ng, **opts):
        self.name = name
        self.emu = emulator_factory(indicators=ORDINARY)
        self.syslog_ng = syslog_ng
        self.out = syslog_ng.dir / "out.ndjson"
        self.second = SecondPath(syslog_ng.dir)
        self.opts = base_source_opts(self.emu, COLLECTION, **opts)
        self.figures = {"case": name, "module": os.environ.get("THREATQ_MODULE_DIR", "")}

    def start(self):
        # from before the start: a hostile page can be answered before start() returns
        self.log = LogMeter(self.syslog_ng)
        self.syslog_ng.start(make_config(self.opts, self.out, extra=self.second.config()))
        self.started = time.monotonic()
        return self

    def documents(self):
        return read_json_lines(self.out)

    def wait_for_documents(self, count, timeout=60):
        self.syslog_ng.wait_for(lambda: len(self.documents()) >= count, timeout=timeout * TIMEOUT_SCALE,
                                message="%d documents" % count)
        self.figures["seconds_to_deliver"] = round(time.monotonic() - self.started, 2)

    def wait_for_counter(self, name, value, timeout=60):
        self.syslog_ng.wait_for(lambda: threatq_counters(self.syslog_ng).get(name, 0) >= value,
                                timeout=timeout * TIMEOUT_SCALE, message="%s >= %d" % (name, value))

    def _measure_and_stop(self):
        self.figures["peak_rss_kb"] = peak_rss_kb(self.syslog_ng)
        self.figures["log_bytes"] = self.log.bytes()
        took, rc = timed_stop(self.syslog_ng)
        self.figures["stop_seconds"] = round(took, 2)
        self.figures["exit_code"] = rc
        _record(self.figures)
        return took, rc

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        # a case that failed on the way is measured all the same (figures of another build)
        if kind is not None and self.syslog_ng.running():
            self.figures["failed"] = str(value)[:200]
            self._measure_and_stop()
        return False

    def finish(self, rss_bound_kb, log_bound, stop_bound=STOP_LIMIT):
        """Measure, record, then assert the bounds every case shares."""
        self.syslog_ng.check_alive()
        took, rc = self._measure_and_stop()
        # the bounds are for a plain syslog-ng; under ASan or valgrind the tool's memory counts too
        assert self.figures["peak_rss_kb"] < rss_bound_kb * RSS_SCALE, self.figures
        assert self.figures["log_bytes"] < log_bound, (self.figures, self.log.text(3000))
        assert took < stop_bound * TIMEOUT_SCALE, self.figures
        assert rc == 0, self.figures

    def assert_ordinary_delivered(self):
        ids = {dig(d, "threatq.id", None) for d in self.documents()}
        # the emulator numbers its own indicators from 100,000; the hostile ones are below
        expected = {i["id"] for i in self.emu.indicators(COLLECTION) if i["id"] >= 100_000}
        missing = expected - ids
        assert not missing, "%d indicators not delivered, e.g. %s" % (len(missing), sorted(missing)[:5])


def _record(figures):
    path = os.environ.get("THREATQ_HOSTILE_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(figures) + "\n")


def _errors(document):
    return dig(document, "error.message", [])


def _by_id(case, ind_id):
    for d in case.documents():
        if dig(d, "threatq.id", None) == ind_id:
            return d
    raise AssertionError("indicator %s not delivered" % ind_id)


# ---------------------------------------------------------------------------
# the cases

def test_many_attribute_names_in_the_worst_order(emulator_factory, syslog_ng):
    """40,000 distinct attribute names, each sorting before the ones before it
    (before: 12 s to stop with 40,000).  The first 10,000 are kept and said so."""
    with Case("attribute names, worst order (40,000)", emulator_factory, syslog_ng) as case:
        case.emu.add_raw_indicators([_indicator(1, attributes=_attributes(_worst_order_names(40_000)))], COLLECTION)
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 1)
        case.second.assert_delivered()
        hostile = _by_id(case, 1)
        assert len(dig(hostile, "threatq.attributes")) == 10_000
        assert any("attributes: only the first 10000 kept, 30000 more left out" in e for e in _errors(hostile))
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=200 * MiB, log_bound=4096)


def test_many_sources_in_the_worst_order(emulator_factory, syslog_ng):
    """40,000 distinct sources with a TLP each: provider and marking lists stay free of repeats without a
    quadratic scan."""
    with Case("sources, worst order (40,000)", emulator_factory, syslog_ng) as case:
        sources = [{"name": "source %08d" % (40_000 - i), "tlp_name": "AMBER"} for i in range(40_000)]
        case.emu.add_raw_indicators([_indicator(1, sources=sources)], COLLECTION)
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 1)
        case.second.assert_delivered()
        hostile = _by_id(case, 1)
        assert len(dig(hostile, "threat.indicator.provider")) == 10_000
        assert dig(hostile, "threat.indicator.marking.tlp") == ["AMBER"]
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=200 * MiB, log_bound=4096)


def test_a_huge_string_value_is_cut(emulator_factory, syslog_ng):
    """A 20 MB description: cut to 64 KiB, and error.message says so."""
    with Case("one 20 MB string value", emulator_factory, syslog_ng, preserve_original=True) as case:
        case.emu.add_raw_indicators([_indicator(1, description="d" * (20 << 20))], COLLECTION)
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 1)
        case.second.assert_delivered()
        hostile = _by_id(case, 1)
        assert len(dig(hostile, "threat.indicator.description")) == 65536
        assert len(dig(hostile, "event.original")) <= 1 << 20
        assert any("string values were cut to 65536 bytes" in e for e in _errors(hostile))
        assert any("event.original: the indicator's" in e for e in _errors(hostile))
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=250 * MiB, log_bound=4096)


def test_a_page_of_invalid_bytes_with_preserve_original(emulator_factory, syslog_ng):
    """A 20 MB page with one URL value of invalid bytes, preserve-original(yes)
    (before: a 1 GB GString, 1.3 GB peak)."""
    with Case("20 MB URL of invalid bytes, preserve-original(yes)", emulator_factory, syslog_ng,
              preserve_original=True) as case:
        indicator = (b'[{"id":1,"type":{"name":"URL"},"updated_at":"2020-09-13 12:26:41","value":"'
                     + b"\xff" * (20 << 20) + b'"}]')
        case.emu.add_fault("page", body=_page_body(indicator))
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 1)
        case.second.assert_delivered()
        hostile = _by_id(case, 1)
        assert dig(hostile, "threatq.indicator_value") == "\ufffd"
        assert len(dig(hostile, "event.original").encode()) <= 1 << 20
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=250 * MiB, log_bound=4096)


def test_deep_nesting_refuses_the_page(emulator_factory, syslog_ng):
    """A million nested arrays in an indicator: a malformed page (counted,
    logged once per retry), then the collection goes on."""
    with Case("1,000,000 nested arrays", emulator_factory, syslog_ng) as case:
        depth = 1_000_000
        indicator = b'[{"id":1,"value":"v","deep":' + b"[" * depth + b"]" * depth + b"}]"
        case.emu.add_fault("page", body=_page_body(indicator))
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY)
        case.second.assert_delivered()
        counters = threatq_counters(syslog_ng)
        assert counters["malformed_pages"] == 1, counters
        assert "nested deeper than 64 levels" in case.log.text()
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=150 * MiB, log_bound=4096)


def test_numbers_past_int64_are_errors_not_wrapped(emulator_factory, syslog_ng):
    """ids, scores and AS numbers of 2^64 and more (before: id 2^64 became 0)."""
    with Case("numbers past int64", emulator_factory, syslog_ng) as case:
        data = ('[{"id":18446744073709551616,"score":18446744073709551617,"type":{"name":"ASN"},'
                '"value":"AS18446744073709551616","updated_at":"2020-09-13 12:26:41"}]')
        case.emu.add_fault("page", body=_page_body(data.encode()))
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 1)
        case.second.assert_delivered()
        hostile = [d for d in case.documents() if dig(d, "threatq.indicator_value", "").startswith("AS1844")]
        assert len(hostile) == 1
        assert dig(hostile[0], "threatq.id", None) is None
        assert dig(hostile[0], "threatq.score", None) is None
        assert dig(hostile[0], "threat.indicator.as.number", None) is None
        errors = " | ".join(_errors(hostile[0]))
        for field in ("threatq.id", "threatq.score", "threat.indicator.as.number"):
            assert field in errors, errors
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=120 * MiB, log_bound=4096)


def test_distinct_attribute_names_do_not_grow_the_registry(emulator_factory, syslog_ng):
    """560,000 distinct attribute names over 56 indicators (before: +100 MB
    resident that never goes away).  1,000 become name-value pairs; the rest
    stay in MESSAGE, are counted, and logged once."""
    with Case("560,000 distinct attribute names", emulator_factory, syslog_ng) as case:
        hostile = [_indicator(i + 1, attributes=_attributes(["n%d-%05d" % (i, j) for j in range(10_000)]))
                   for i in range(56)]
        case.emu.add_raw_indicators(hostile, COLLECTION)
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 56, timeout=120)
        case.second.assert_delivered()
        case.wait_for_counter("unpaired_attributes", 560_000 - 1000)
        counters = threatq_counters(syslog_ng)
        # the ordinary indicators' attribute names take some of the 1,000 slots first
        assert 560_000 - 1000 <= counters["unpaired_attributes"] < 560_000, counters
        # every name is in MESSAGE
        assert sum(len(dig(_by_id(case, i + 1), "threatq.attributes")) for i in range(56)) == 560_000
        assert case.log.text().count("more distinct attribute names than syslog-ng keeps") == 1
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=400 * MiB, log_bound=4096)


def test_attribute_names_over_255_bytes(emulator_factory, syslog_ng):
    """Names no name-value pair can have, in 200 indicators: left out of the
    document and said in error.message, and never a log line per message."""
    with Case("attribute names over 255 bytes (200 indicators)", emulator_factory, syslog_ng) as case:
        hostile = [_indicator(i + 1, attributes=_attributes(["L%d-" % i + "x" * 300, "ok name"]))
                   for i in range(200)]
        case.emu.add_raw_indicators(hostile, COLLECTION)
        case.start()
        with case.second.feeding():
            case.wait_for_documents(ORDINARY + 200)
        case.second.assert_delivered()
        first = _by_id(case, 1)
        assert dig(first, "threatq.attributes.ok_name") == ["x"]
        assert any("1 attributes left out" in e for e in _errors(first))
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=120 * MiB, log_bound=4096)


def _worst_page(indicators=100):
    """Indicators of 10,000 attributes each (the most kept), their names in the
    order that made the field sort quadratic: 30 MB that take seconds to map
    even now (before: 2.6 s per indicator)."""
    names = json.dumps(_attributes(_worst_order_names(10_000, "a")), separators=(",", ":")).encode()
    parts = [b'{"id":%d,"value":"v","updated_at":"2020-09-13 12:26:41","attributes":' % (i + 1) + names + b"}"
             for i in range(indicators)]
    return _page_body(b"[" + b",".join(parts) + b"]")


def _wait_until_served(case):
    """The hostile page was answered: the reader is parsing it."""
    case.syslog_ng.wait_for(lambda: any(r.get("fault") for r in case.emu.requests()), timeout=30,
                            message="the hostile page to be served")
    time.sleep(0.5)
    case.figures["documents_before"] = len(case.documents())


def test_stop_in_the_middle_of_the_worst_page(emulator_factory, syslog_ng):
    """SIGTERM while the reader maps a page that takes seconds."""
    with Case("stop during a page of 100 x 10,000 worst-order names", emulator_factory, syslog_ng) as case:
        case.emu.add_fault("page", body=_worst_page())
        case.start()
        with case.second.feeding():
            _wait_until_served(case)
            case.second.send()
        case.second.assert_delivered()
        case.finish(rss_bound_kb=1024 * MiB, log_bound=4096)


def test_reload_in_the_middle_of_the_worst_page(emulator_factory, syslog_ng):
    """syslog-ng-ctl reload while the reader maps the same page: the reload
    finishes within 2 s, and the collection goes on under the new config."""
    with Case("reload during a page of 100 x 10,000 worst-order names", emulator_factory, syslog_ng) as case:
        case.emu.add_fault("page", body=_worst_page())
        case.start()
        syslog_ng.write_config(make_config(dict(case.opts, user_agent="threatq-after-reload"), case.out,
                                           extra=case.second.config()))
        with case.second.feeding():
            _wait_until_served(case)
            t0 = time.monotonic()
            p = subprocess.run([SYSLOG_NG_CTL, "reload", "-c", str(syslog_ng.ctl)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30 * TIMEOUT_SCALE)
            case.figures["reload_seconds"] = round(time.monotonic() - t0, 2)
            assert p.returncode == 0, p.stdout
            assert case.figures["reload_seconds"] < STOP_LIMIT * TIMEOUT_SCALE, case.figures
            syslog_ng.wait_for(lambda: any(r["headers"].get("user-agent") == "threatq-after-reload"
                                           for r in case.emu.requests()),
                               timeout=10, message="a request of the new config")
            case.wait_for_documents(ORDINARY)
        case.second.assert_delivered()
        case.assert_ordinary_delivered()
        case.finish(rss_bound_kb=1024 * MiB, log_bound=4096)
