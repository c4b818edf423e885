# SPDX-License-Identifier: GPL-2.0-or-later
"""The threatq() source's side of threatq-match() (issue 15, point 3 and the reload of
point 4): which indicators go into the set (match-statuses(), match-min-score(), expiry),
updates and status changes applied as pages are read, match-max-size() and the counters,
and a reload that keeps the set without reading the collection again.

A file() source follows in.log; each line is one value, threatq-match(fields("$MESSAGE"))
looks it up in the set of s_tq, and the destination writes "<value> <indicator id>" (the id
empty on a miss).  The indicators are made by hand with dates relative to now, so that
expiry is under the test's control.  The set is known to be fed when the match_entries
counter says so (a page is applied to the set before its messages are posted).
"""

import calendar
import subprocess
import time

import syslogng
from conftest import COLLECTION
from syslogng import base_source_opts, read_lines, threatq_source, SYSLOG_NG_CTL

TIME_FMT = "%Y-%m-%d %H:%M:%S"


def _fmt(epoch):
    return time.strftime(TIME_FMT, time.gmtime(epoch))


class Clock:
    """updated_at values that keep increasing, so that each update lands after the cursor."""

    def __init__(self):
        self.t = int(time.time()) - 3600

    def next(self):
        self.t += 1
        return _fmt(self.t)


def indicator(clock, ind_id, tname, value, status="Active", score=5, expires_in=None):
    ind = {
        "id": ind_id, "class": "network", "value": value,
        "type_id": 99, "type": {"id": 99, "name": tname},
        "status_id": 1, "status": {"id": 1, "name": status},
        "created_at": _fmt(time.time() - 86400), "updated_at": clock.next(),
        "touched_at": _fmt(time.time()), "adversaries": [], "attributes": [],
        "sources": [{"id": ind_id, "name": "Feed A", "tlp_name": "AMBER"}],
    }
    if score is not None:
        ind["score"] = score
    if expires_in is not None:
        ind["expires_at"] = _fmt(time.time() + expires_in)
    return ind


def match_config(emu, out_dir, **match_opts):
    opts = base_source_opts(emu, COLLECTION, **match_opts)
    return syslogng.VERSION_LINE + """
options { stats-freq(0); time-reopen(1); };
source s_tq { %s; };
log { source(s_tq); destination { file("%s/tq.ndjson" template("$MESSAGE\\n")); }; };
source s_in { file("%s/in.log" follow-freq(0.05) flags(no-parse)); };
parser p_tq { threatq-match(source(s_tq) fields("$MESSAGE")); };
log { source(s_in); parser(p_tq);
      destination { file("%s/out.log" template("$MESSAGE ${threat.enrichments.indicator.id}\\n")); }; };
""" % (threatq_source(**opts), out_dir, out_dir, out_dir)


class Prober:
    """Sends one value at a time through the parser and returns the id it hit ('' on a miss)."""

    def __init__(self, sng):
        self.sng = sng
        self.inp = sng.dir / "in.log"
        self.out = sng.dir / "out.log"
        self.inp.touch()

    def hit(self, value):
        before = len(read_lines(self.out))
        with open(self.inp, "a") as f:
            f.write(value + "\n")
        self.sng.wait_for(lambda: len(read_lines(self.out)) > before, timeout=20,
                          message="the probe %r through the parser" % value)
        line = read_lines(self.out)[before]
        got_value, _, hit = line.partition(" ")
        assert got_value == value, line
        return hit.strip()


def counters(sng):
    return {r["Type"]: r["Number"] for r in sng.stats() if r.get("SourceName") == "src.threatq"}


def wait_counter(sng, name, value, timeout=30):
    sng.wait_for(lambda: counters(sng).get(name) == value, timeout=timeout,
                 message="%s == %s (now %s)" % (name, value, counters(sng).get(name)))


def ctl(sng, *args):
    return subprocess.run([SYSLOG_NG_CTL, *args, "-c", str(sng.ctl)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=30)


def test_statuses_min_score_and_counters(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([
        indicator(clock, 1, "IP Address", "198.51.100.1", status="Active", score=8),
        indicator(clock, 2, "IP Address", "198.51.100.2", status="Active", score=3),
        indicator(clock, 3, "IP Address", "198.51.100.3", status="Review", score=9),
        indicator(clock, 4, "IP Address", "198.51.100.4", status="Whitelisted", score=9),
        indicator(clock, 5, "FQDN", "noscore.example", status="Active", score=None),
        indicator(clock, 6, "String", "just a string", status="Active", score=9),
        indicator(clock, 7, "MD5", "0cc175b9c0f1b6a831c399e269772661", status="active", score=5),
        indicator(clock, 8, "IP Address", "198.51.100.8", status="Active", score=9, expires_in=-60),
    ], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir, match_statuses=["Active", "Review"],
                                 match_min_score=5))
    syslog_ng.wait_for(lambda: len(read_lines(syslog_ng.dir / "tq.ndjson")) == 8,
                       message="the 8 indicators posted")
    got = counters(syslog_ng)
    # in: 1 (score 8), 3 (Review), 7 (score 5 = the minimum, status in another case);
    # out: 2 (score 3), 4 (status), 5 (no score under a minimum), 8 (already expired);
    # skipped: 6 (a type that cannot match)
    assert (got["match_entries"], got["match_skipped"], got["match_refused_full"]) == (3, 1, 0), got
    if syslogng.TYPED_VALUES:
        # 4.x: the same numbers as labelled metrics, like the source's other counters
        text = syslog_ng.stats_raw("prometheus")
        for metric, value in (("syslogng_threatq_match_entries", 3),
                              ("syslogng_threatq_match_skipped_total", 1),
                              ("syslogng_threatq_match_refused_full_total", 0)):
            lines = [line for line in text.splitlines()
                     if line.startswith(metric + "{") and 'id="s_tq#0"' in line
                     and 'collection="%s"' % COLLECTION in line]
            assert len(lines) == 1 and float(lines[0].rsplit(" ", 1)[1]) == value, (metric, text)
    probe = Prober(syslog_ng)
    assert probe.hit("198.51.100.1") == "1"
    assert probe.hit("198.51.100.2") == ""
    assert probe.hit("198.51.100.3") == "3"
    assert probe.hit("198.51.100.4") == ""
    assert probe.hit("noscore.example") == ""
    assert probe.hit("0CC175B9C0F1B6A831C399E269772661") == "7"
    assert probe.hit("198.51.100.8") == ""
    syslog_ng.stop()


def test_default_statuses_take_active_only_and_every_score(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([
        indicator(clock, 1, "FQDN", "active.example", score=None),
        indicator(clock, 2, "FQDN", "zero.example", score=0),
        indicator(clock, 3, "FQDN", "review.example", status="Review"),
    ], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir))
    wait_counter(syslog_ng, "match_entries", 2)
    probe = Prober(syslog_ng)
    assert [probe.hit(v) for v in ("active.example", "zero.example", "review.example")] == ["1", "2", ""]
    syslog_ng.stop()


def test_expiry_status_change_and_update_while_running(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    expiring = indicator(clock, 11, "IP Address", "192.0.2.11", expires_in=6)
    emu.add_raw_indicators([
        expiring,
        indicator(clock, 12, "IP Address", "192.0.2.12"),
        indicator(clock, 13, "URL", "http://old.example/a"),
    ], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir))
    wait_counter(syslog_ng, "match_entries", 3)
    probe = Prober(syslog_ng)
    assert probe.hit("192.0.2.11") == "11", "before its ioc_expired_at"
    assert probe.hit("http://OLD.example:80/a") == "13"

    # a status change removes, an update that moves the value replaces
    pages_before = len(emu.requests("page"))
    emu.add_raw_indicators([
        indicator(clock, 12, "IP Address", "192.0.2.12", status="Expired"),
        indicator(clock, 13, "URL", "http://new.example/b"),
    ], collection=COLLECTION)
    syslog_ng.wait_for(lambda: len(read_lines(syslog_ng.dir / "tq.ndjson")) == 5,
                       message="the two updates posted")
    assert probe.hit("192.0.2.12") == ""
    assert probe.hit("http://old.example/a") == ""
    assert probe.hit("http://new.example/b") == "13"
    assert counters(syslog_ng)["match_entries"] == 2  # 11 (expiring) and 13

    # 11 passes its ioc_expired_at while syslog-ng runs: no update needed
    deadline = calendar.timegm(time.strptime(expiring["expires_at"], TIME_FMT))
    syslog_ng.wait_for(lambda: time.time() > deadline + 1, timeout=30, message="expiry")
    assert probe.hit("192.0.2.11") == ""
    served = [i for r in emu.requests("page")[pages_before:]
              for i in r.get("response", {}).get("ids", [])]
    assert 11 not in served, "11 was not sent again: it stopped matching by its date alone"
    syslog_ng.stop()


def test_max_size_refuses_new_indicators_and_counts_them(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([indicator(clock, i, "IP Address", "203.0.113.%d" % i)
                            for i in range(1, 6)], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir, match_max_size=2))
    wait_counter(syslog_ng, "match_refused_full", 3)
    got = counters(syslog_ng)
    assert (got["match_entries"], got["match_skipped"]) == (2, 0), got
    probe = Prober(syslog_ng)
    assert [probe.hit("203.0.113.%d" % i) for i in range(1, 6)] == ["1", "2", "", "", ""]
    # an update of an indicator in the set still goes in when the set is full
    emu.add_raw_indicators([indicator(clock, 2, "IP Address", "203.0.113.22")], collection=COLLECTION)
    syslog_ng.wait_for(lambda: probe.hit("203.0.113.22") == "2", timeout=20, message="the update")
    assert counters(syslog_ng)["match_refused_full"] == 3
    assert "raise match-max-size()" in syslog_ng.output()
    syslog_ng.stop()


def test_reload_keeps_the_set_without_reading_again(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([indicator(clock, i, "FQDN", "host%d.example" % i)
                            for i in range(1, 1201)], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir))
    wait_counter(syslog_ng, "match_entries", 1200)
    syslog_ng.wait_for(lambda: counters(syslog_ng).get("last_sync", 0) > 0, message="first sync")
    probe = Prober(syslog_ng)
    assert probe.hit("host7.example") == "7"

    # no page is answered after the reload until released: the set must come from the old config
    first_request_after = len(emu.requests("page"))
    emu.hold_pages_after(0)
    p = ctl(syslog_ng, "reload")
    assert p.returncode == 0, p.stdout
    assert probe.hit("host1200.example") == "1200"
    assert probe.hit("host1.example") == "1"
    assert counters(syslog_ng)["match_entries"] == 1200
    emu.release()
    emu.add_raw_indicators([indicator(clock, 5000, "FQDN", "late.example")], collection=COLLECTION)
    syslog_ng.wait_for(lambda: probe.hit("late.example") == "5000", timeout=30,
                       message="pages read after the reload feed the same set")
    after = emu.requests("page")[first_request_after:]
    assert after and all(r["query"]["cursorMark"] != "*" for r in after), \
        [r["query"]["cursorMark"] for r in after]
    assert "reading the collection from the start again" not in syslog_ng.output()
    syslog_ng.stop()


def test_reload_with_other_match_options_rebuilds_from_the_start(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([
        indicator(clock, 1, "FQDN", "low.example", score=2),
        indicator(clock, 2, "FQDN", "high.example", score=9),
    ], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir))
    wait_counter(syslog_ng, "match_entries", 2)
    first_request_after = len(emu.requests("page"))
    syslog_ng.write_config(match_config(emu, syslog_ng.dir, match_min_score=5))
    assert ctl(syslog_ng, "reload").returncode == 0
    wait_counter(syslog_ng, "match_entries", 1)
    probe = Prober(syslog_ng)
    assert [probe.hit("low.example"), probe.hit("high.example")] == ["", "2"]
    after = emu.requests("page")[first_request_after:]
    assert after[0]["query"]["cursorMark"] == "*"
    assert "the indicator set is rebuilt" in syslog_ng.output()
    syslog_ng.stop()


def test_a_source_without_parser_builds_no_set(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([indicator(clock, i, "FQDN", "h%d.example" % i) for i in range(1, 11)],
                           collection=COLLECTION)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(syslogng.make_config(base_source_opts(emu, COLLECTION), out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) == 10 and counters(syslog_ng).get("last_sync", 0) > 0,
                       message="the sync")
    got = counters(syslog_ng)
    assert (got["match_entries"], got["match_skipped"], got["match_refused_full"]) == (0, 0, 0), got
    syslog_ng.stop()


def _state_files(sng):
    return sorted(sng.dir.glob("threatq-*.match"))


def _sync_and_stop(emulator_factory, sng, prefix, count):
    """count FQDN indicators <prefix><id>.example, one full sync with the parser, stopped."""
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([indicator(clock, i, "FQDN", "%s%d.example" % (prefix, i))
                            for i in range(1, count + 1)], collection=COLLECTION)
    sng.start(match_config(emu, sng.dir))
    wait_counter(sng, "match_entries", count)
    sng.wait_for(lambda: counters(sng).get("last_sync", 0) > 0, message="first sync")
    sng.stop()
    return emu


def test_restart_resumes_the_set_from_the_state_file(emulator_factory, syslog_ng):
    """The default match-state-file() sits next to the persist file; a restart loads it and pages
    on from the stored cursor (m-snapshot's test_match_persist.py covers kill -9 and damage)."""
    emu = _sync_and_stop(emulator_factory, syslog_ng, "r", 1500)
    assert len(_state_files(syslog_ng)) == 1, list(syslog_ng.dir.iterdir())

    first_request_after = len(emu.requests("page"))
    emu.hold_pages_after(0)
    syslog_ng.start()
    wait_counter(syslog_ng, "match_entries", 1500)
    probe = Prober(syslog_ng)
    assert probe.hit("r1500.example") == "1500", "matched before any page is answered"
    emu.release()
    syslog_ng.wait_for(lambda: len(emu.requests("page")) > first_request_after, message="paging")
    after = emu.requests("page")[first_request_after:]
    assert all(r["query"]["cursorMark"] != "*" for r in after)
    assert "reading the collection from the start again" not in syslog_ng.output()
    syslog_ng.stop()


def test_restart_without_state_file_reads_the_collection_again(emulator_factory, syslog_ng):
    emu = _sync_and_stop(emulator_factory, syslog_ng, "g", 20)
    for path in _state_files(syslog_ng):
        path.unlink()

    first_request_after = len(emu.requests("page"))
    syslog_ng.start()
    wait_counter(syslog_ng, "match_entries", 20)
    assert Prober(syslog_ng).hit("g20.example") == "20"
    after = emu.requests("page")[first_request_after:]
    assert after[0]["query"]["cursorMark"] == "*", "the stored cursor alone cannot rebuild the set"
    assert "reading the collection from the start again" in syslog_ng.output()
    syslog_ng.stop()


def test_a_source_whose_parser_is_removed_drops_set_and_state_file(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_raw_indicators([indicator(clock, 1, "FQDN", "gone.example")], collection=COLLECTION)
    syslog_ng.start(match_config(emu, syslog_ng.dir))
    wait_counter(syslog_ng, "match_entries", 1)
    out = syslog_ng.dir / "plain.ndjson"
    syslog_ng.write_config(syslogng.make_config(base_source_opts(emu, COLLECTION), out))
    assert ctl(syslog_ng, "reload").returncode == 0
    wait_counter(syslog_ng, "match_entries", 0)
    syslog_ng.wait_for(lambda: not _state_files(syslog_ng), message="the stale state file removed")
    syslog_ng.stop()


def test_two_sources_feed_separate_sets(emulator_factory, syslog_ng):
    clock = Clock()
    emu = emulator_factory()
    emu.add_collection("second")
    emu.add_raw_indicators([indicator(clock, 1, "IP Address", "10.1.1.1")], collection=COLLECTION)
    emu.add_raw_indicators([indicator(clock, 2, "IP Address", "10.2.2.2"),
                            indicator(clock, 3, "IP Address", "10.2.2.3")], collection="second")
    d = syslog_ng.dir
    config = syslogng.VERSION_LINE + """
options { stats-freq(0); time-reopen(1); };
source s_a { %s; };
source s_b { %s; };
log { source(s_a); source(s_b); destination { file("%s/tq.ndjson" template("$MESSAGE\\n")); }; };
source s_in { file("%s/in.log" follow-freq(0.05) flags(no-parse)); };
parser p_a { threatq-match(source(s_a) fields("$MESSAGE") tag("hit_a")); };
parser p_b { threatq-match(source(s_b) fields("$MESSAGE") tag("hit_b")); };
log { source(s_in); parser(p_a); parser(p_b);
      destination { file("%s/out.log" template("$MESSAGE ${threat.enrichments.indicator.id}/$TAGS\\n")); }; };
""" % (threatq_source(**base_source_opts(emu, COLLECTION)),
       threatq_source(**base_source_opts(emu, "second")), d, d, d)
    syslog_ng.start(config)
    syslog_ng.wait_for(lambda: sorted(r["Number"] for r in syslog_ng.stats()
                                      if r.get("Type") == "match_entries") == [1, 2],
                       message="both sets fed")
    probe = Prober(syslog_ng)
    for value, want_id, want_tag, other_tag in (("10.1.1.1", "1", "hit_a", "hit_b"),
                                                ("10.2.2.3", "3", "hit_b", "hit_a")):
        hit_id, _, tags = probe.hit(value).partition("/")
        assert hit_id == want_id and want_tag in tags.split(",") and other_tag not in tags, (value, tags)
    assert probe.hit("10.9.9.9").startswith("/")
    syslog_ng.stop()
