# SPDX-License-Identifier: GPL-2.0-or-later
"""The threatq-match() set lives as long as the data (issue 15, point 4): it survives a clean
restart, a kill -9 (while pages are being read, and after) and a reload without reading the
collection again, matching works right after start or reload before any page is read, and
afterwards the set gives what a full re-read gives.  A deleted or damaged match-state-file()
with a stored cursor leads to one read from the start, with a warning; a torn tail (what a
kill -9 during a write leaves) is cut and the rest used.  The file format is in
docs/match-persistence.md.

Matching is observed from outside: a file() source follows in.log; each line is "<batch tag>
<value>", threatq-match() looks up the value (the line after the tag), and the destination
writes "<batch tag> <value> <indicator id>" (the id empty on a miss).  A batch tag per probe
keeps lines that a restarted file() source reads again apart.  "Before any page is read" is
made certain by the emulator's gate: it answers no page request until released.
"""

import hashlib
import itertools
import struct
import zlib

import pytest

import syslogng
from conftest import COLLECTION
from syslogng import base_source_opts, read_lines, threatq_source
from test_match_feed import Clock, indicator, counters, wait_counter, ctl

PAGE = 50
TAG_WIDTH = 7          # "B00001 "


def persist_config(emu, out_dir, **source_opts):
    opts = base_source_opts(emu, COLLECTION, page_size=PAGE, **source_opts)
    return syslogng.VERSION_LINE + """
options { stats-freq(0); time-reopen(1); };
source s_tq { %s; };
log { source(s_tq); destination { file("%s/tq.ndjson" template("$MESSAGE\\n")); }; };
source s_in { file("%s/in.log" follow-freq(0.05) flags(no-parse)); };
parser p_tq { threatq-match(source(s_tq) fields("$(substr ${MESSAGE} %d)") parent-domains(yes)); };
log { source(s_in); parser(p_tq);
      destination { file("%s/out.log" template("$MESSAGE ${threat.enrichments.indicator.id}\\n")); }; };
""" % (threatq_source(**opts), out_dir, out_dir, TAG_WIDTH, out_dir)


_batches = itertools.count(1)


def probe_all(sng, values):
    """{value: id hit ('' on a miss)} for every value, in one batch through the parser."""
    tag = "B%05d" % next(_batches)
    inp, out = sng.dir / "in.log", sng.dir / "out.log"
    with open(inp, "a") as f:
        for v in values:
            f.write("%s %s\n" % (tag, v))

    def mine():
        return [line for line in read_lines(out) if line.startswith(tag + " ")]
    sng.wait_for(lambda: len(mine()) >= len(values), timeout=60,
                 message="%d probes of batch %s through the parser" % (len(values), tag))
    got = {}
    for line in mine():
        _, value, hit = (line + " ").split(" ", 2)
        got[value] = hit.strip()
    assert set(got) == set(values)
    return got


class Feed:
    """A collection of every matched kind, some indicators inactive or expired, and the probe
    value that each one should (or should not) hit, to build the expected result from."""

    KINDS = ("IP Address", "CIDR Block", "FQDN", "URL", "Email Address", "MD5", "SHA-256")

    def __init__(self, emu, count):
        self.emu = emu
        self.clock = Clock()
        self.items = {}                  # id -> (probe value, active)
        emu.add_raw_indicators([self.make(i) for i in range(1, count + 1)], collection=COLLECTION)

    def make(self, i, status=None):
        """Indicator i (again: a new version, updated after every other one)."""
        kind = self.KINDS[i % len(self.KINDS)]
        value, probe = self._value(kind, i)
        status = status or ("Review" if i % 10 == 0 else "Active")
        expires_in = -60 if i % 13 == 0 else None
        self.items[i] = (probe, status == "Active" and expires_in is None)
        return indicator(self.clock, i, kind, value, status=status, expires_in=expires_in)

    @staticmethod
    def _value(kind, i):
        if kind == "IP Address":
            return "10.%d.%d.1" % (i // 256, i % 256), "10.%d.%d.1" % (i // 256, i % 256)
        if kind == "CIDR Block":
            return "172.16.%d.0/24" % (i % 256), "172.16.%d.9" % (i % 256)
        if kind == "FQDN":
            return "host%d.example" % i, "www.host%d.example" % i if i % 2 else "host%d.example" % i
        if kind == "URL":
            return "http://site%d.example/p?q=%d" % (i, i), "HTTP://Site%d.example:80/p?q=%d" % (i, i)
        if kind == "Email Address":
            return "user%d@mail.example" % i, "User%d@Mail.Example" % i
        digest = (hashlib.md5 if kind == "MD5" else hashlib.sha256)(b"%d" % i).hexdigest()
        return digest, digest.upper()

    def update(self, i, status=None):
        self.emu.add_raw_indicators([self.make(i, status=status)], collection=COLLECTION)

    def probes(self):
        return [p for p, _ in self.items.values()] + ["10.250.250.250", "miss.example"]

    def expected(self, ids=None):
        want = {"10.250.250.250": "", "miss.example": ""}
        for i, (probe, active) in self.items.items():
            want[probe] = str(i) if active and (ids is None or i in ids) else ""
        return want

    def active_count(self):
        return sum(1 for _, active in self.items.values() if active)


def applied(sng, feed, i):
    """Indicator i's probe gives what the feed says now (and the entry count agrees)."""
    probe = feed.items[i][0]
    return (counters(sng).get("match_entries") == feed.active_count()
            and probe_all(sng, [probe]) == {probe: feed.expected()[probe]})


def synced(sng, feed):
    wait_counter(sng, "match_entries", feed.active_count(), timeout=60)
    sng.wait_for(lambda: counters(sng).get("last_sync", 0) > 0, timeout=60, message="a complete sync")


def page_requests_since(emu, mark):
    return emu.requests("page")[mark:]


def cursor_marks(requests):
    return [r["query"]["cursorMark"] for r in requests]


def state_file(sng):
    files = sorted(sng.dir.glob("threatq-*.match"))
    assert len(files) == 1, files
    return files[0]


def fresh_instance_agrees(syslog_ng_factory, emu, feed, got):
    """A second syslog-ng with an empty state reads the whole collection: same hits."""
    fresh = syslog_ng_factory("fresh")
    fresh.start(persist_config(emu, fresh.dir))
    synced(fresh, feed)
    reread = probe_all(fresh, feed.probes())
    fresh.stop()
    assert got == reread
    return reread


def synced_instance(emulator_factory, syslog_ng_factory, count):
    """An emulator with a Feed of count indicators and a syslog-ng whose set holds them all."""
    emu = emulator_factory()
    feed = Feed(emu, count)
    sng = syslog_ng_factory()
    sng.start(persist_config(emu, sng.dir))
    synced(sng, feed)
    return emu, feed, sng


def start_held(sng, emu):
    """Starts sng with no page answered until emu.release(); returns the page-request mark."""
    mark = len(emu.requests("page"))
    emu.hold_pages_after(0)
    sng.start()
    return mark


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_restart_resumes_the_set_before_any_page_is_read(emulator_factory, syslog_ng_factory, how):
    emu, feed, sng = synced_instance(emulator_factory, syslog_ng_factory, 300)
    assert probe_all(sng, feed.probes()) == feed.expected()

    sng.stop() if how == "stop" else sng.kill()
    mark = start_held(sng, emu)
    # no page is answered: the set can only come from match-state-file()
    assert probe_all(sng, feed.probes()) == feed.expected()
    assert counters(sng)["match_entries"] == feed.active_count()
    assert "indicator set loaded from match-state-file()" in sng.output()
    assert "*" not in cursor_marks(page_requests_since(emu, mark))

    emu.release()
    feed.update(5001)
    feed.update(1, "Review")          # a status change removes it
    feed.update(10, "Active")         # was Review: goes in
    sng.wait_for(lambda: applied(sng, feed, 5001), timeout=60, message="the pages after the restart applied")
    got = probe_all(sng, feed.probes())
    assert got == feed.expected()
    assert "*" not in cursor_marks(page_requests_since(emu, mark)), "read again from the start"
    assert "reading the collection from the start again" not in sng.output()
    sng.stop()
    fresh_instance_agrees(syslog_ng_factory, emu, feed, got)


def test_kill_9_while_pages_are_read(emulator_factory, syslog_ng_factory):
    emu = emulator_factory()
    feed = Feed(emu, 12 * PAGE)
    sng = syslog_ng_factory()
    out = sng.dir / "tq.ndjson"
    emu.hold_pages_after(4)
    sng.start(persist_config(emu, sng.dir))
    assert emu.wait_for_held(30)
    sng.wait_for(lambda: len(read_lines(out)) >= 4 * PAGE, timeout=30, message="four pages delivered")
    sng.kill()
    emu.release()

    # the four pages read before the kill are in the set at once
    mark = start_held(sng, emu)
    first_four = {i for i in range(1, 4 * PAGE + 1)}
    assert probe_all(sng, feed.probes()) == feed.expected(first_four)
    emu.release()
    # the entries only grow here: reaching the whole count means every page was applied
    synced(sng, feed)
    got = probe_all(sng, feed.probes())
    assert got == feed.expected()
    marks = cursor_marks(page_requests_since(emu, mark))
    assert marks and "*" not in marks, marks
    sng.stop()
    fresh_instance_agrees(syslog_ng_factory, emu, feed, got)


def test_reload_keeps_the_set_and_its_file(emulator_factory, syslog_ng_factory):
    emu, feed, sng = synced_instance(emulator_factory, syslog_ng_factory, 200)

    mark = len(emu.requests("page"))
    emu.hold_pages_after(0)
    p = ctl(sng, "reload")
    assert p.returncode == 0, p.stdout
    assert probe_all(sng, feed.probes()) == feed.expected()
    emu.release()
    # pages after the reload go into the set and into the file handed over with it
    feed.update(7001)
    feed.update(2, "Review")
    sng.wait_for(lambda: applied(sng, feed, 7001), timeout=60, message="the pages after the reload applied")
    sng.stop()

    start_held(sng, emu)
    got = probe_all(sng, feed.probes())
    assert got == feed.expected()
    emu.release()
    assert "*" not in cursor_marks(page_requests_since(emu, mark))
    sng.stop()
    fresh_instance_agrees(syslog_ng_factory, emu, feed, got)


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def _append_torn_page(path):
    # what a write cut short by kill -9 leaves: a sound page header (docs/match-persistence.md)
    # announcing 400 bytes, and the first 30 of them
    header = b"P" + struct.pack("<II", 8, 400)
    with open(path, "ab") as f:
        f.write(header + struct.pack("<I", zlib.crc32(header)) + b"E\x50\x00\x00\x00" + b"\x07" * 12)


@pytest.mark.parametrize("damage", ["deleted", "corrupted", "torn"])
def test_damaged_state_file(emulator_factory, syslog_ng_factory, damage):
    emu, feed, sng = synced_instance(emulator_factory, syslog_ng_factory, 200)
    sng.stop()
    path = state_file(sng)
    {"deleted": lambda p: p.unlink(), "corrupted": _flip_middle_byte, "torn": _append_torn_page}[damage](path)

    mark = len(emu.requests("page"))
    sng.start()
    synced(sng, feed)
    got = probe_all(sng, feed.probes())
    assert got == feed.expected()
    log = sng.output()
    marks = cursor_marks(page_requests_since(emu, mark))
    if damage == "torn":
        assert "was cut at its last complete page" in log
        assert "torn page" in log
        assert "*" not in marks, marks
        assert "reading the collection from the start again" not in log
    else:
        # one read from the start, then on from where it got
        assert marks[0] == "*" and marks.count("*") == 1, marks
        assert "reading the collection from the start again" in log
        if damage == "corrupted":
            assert "match-state-file() cannot be used" in log and "not used" in log
    # the file written since is whole again: the next restart resumes from it
    sng.stop()
    mark = start_held(sng, emu)
    assert probe_all(sng, feed.probes()) == feed.expected()
    emu.release()
    assert "*" not in cursor_marks(page_requests_since(emu, mark))
    sng.stop()
    if damage != "torn":
        fresh_instance_agrees(syslog_ng_factory, emu, feed, got)


def test_state_file_stays_bounded_by_compaction(emulator_factory, syslog_ng_factory):
    """Updates of the same indicators grow the file; compaction keeps it near the live size."""
    emu, feed, sng = synced_instance(emulator_factory, syslog_ng_factory, 1000)
    path = state_file(sng)
    first = path.stat().st_size
    sizes = []
    for rnd in range(10):
        emu.add_raw_indicators([feed.make(i) for i in range(1, 1001)], collection=COLLECTION)
        sng.wait_for(lambda: len(read_lines(sng.dir / "tq.ndjson")) >= 1000 * (rnd + 2), timeout=60,
                     message="update round %d delivered" % rnd)
        sizes.append(path.stat().st_size)
    # without compaction the file would end near 11 x its first size
    assert any(b < a for a, b in zip(sizes, sizes[1:])), (first, sizes)
    assert max(sizes) < 6 * first, (first, sizes)
    assert probe_all(sng, feed.probes()) == feed.expected()
    sng.stop()
