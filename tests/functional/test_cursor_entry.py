# SPDX-License-Identifier: GPL-2.0-or-later
"""The cursor's persist entry (issue 10): it records its collection, so a
reload or restart that changes collection() under a fixed persist-name()
starts the new collection from the beginning with a warning instead of
reusing the other collection's cursor; and it survives a SIGKILL."""

import collections

from syslogng import base_source_opts, make_config, read_json_lines, read_lines


def _drained(emu, collection):
    return lambda: any(r["response"] and r["response"]["items"] == 0
                       and r["path"].endswith("/" + collection) for r in emu.requests("page"))


def test_collection_change_under_fixed_persist_name_starts_from_the_beginning(emulator_factory,
                                                                               syslog_ng):
    emu = emulator_factory(indicators=12, collection="coll-a")
    emu.add_collection("coll-b")
    emu.add_indicators(8, collection="coll-b")
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, "coll-a", persist_name="tq-fixed", page_size=5)
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(_drained(emu, "coll-a"), timeout=30, message="coll-a drained")
    syslog_ng.stop()
    assert len(read_lines(out)) == 12

    n = len(emu.requests("page"))
    opts["collection"] = "coll-b"
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 20, timeout=30, message="coll-b's 8")
    syslog_ng.stop()
    first_b = emu.requests("page")[n]
    assert first_b["path"].endswith("/coll-b")
    assert first_b["query"]["cursorMark"] == "*", "coll-b started from coll-a's cursor"
    ids_b = {int(d["threatq"]["id"]) for d in read_json_lines(out)[12:]}
    assert ids_b == {i["id"] for i in emu.indicators("coll-b")}
    log = syslog_ng.output()
    assert "belongs to another collection" in log and "coll-a" in log, log[-3000:]


def test_cursor_survives_sigkill_and_same_collection_resumes(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=20, collection="coll-a")
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, "coll-a", persist_name="tq-fixed", page_size=5)
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(_drained(emu, "coll-a"), timeout=30, message="drained")
    syslog_ng.kill()
    n = len(emu.requests("page"))
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(emu.requests("page")) > n, timeout=15, message="a poll")
    syslog_ng.stop()
    assert emu.requests("page")[n]["query"]["cursorMark"] != "*"
    ids = [int(d["threatq"]["id"]) for d in read_json_lines(out)]
    # at-least-once: the kill may lose acknowledgements of the last page, never the first pages
    assert set(ids) == {i["id"] for i in emu.indicators("coll-a")}
    assert max(collections.Counter(ids).values()) <= 2
    assert "belongs to another collection" not in syslog_ng.output()
