# SPDX-License-Identifier: GPL-2.0-or-later
"""Sync behaviour of threatq() against the emulator: token and paging exchange,
exactly-once delivery, the `data: {}` quirk, tailing updates, crash resume."""

import base64
import collections
import urllib.parse

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION
from syslogng import DEFAULT_FIELDS, base_source_opts, make_config, read_json_lines

N_BIG = 2500


def out_ids(path):
    return [int(d["threatq"]["id"]) for d in read_json_lines(path)]


def id_count_at_least(path, n):
    return lambda: len(read_json_lines(path)) >= n


def page_requests_after_drain(emu, min_empty=1):
    """Predicate: the emulator answered at least `min_empty` empty pages."""
    def pred():
        return sum(1 for r in emu.requests("page")
                   if r["response"] is not None and r["response"]["items"] == 0) >= min_empty
    return pred


def check_token_request(req):
    assert req["method"] == "POST"
    assert req["path"] == "/api/token"
    assert req["raw_query"] == ""
    ctype = req["headers"].get("content-type", "")
    assert ctype.split(";")[0].strip() == "application/x-www-form-urlencoded", ctype
    expected_basic = "Basic " + base64.b64encode(
        ("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
    assert req["headers"].get("authorization") == expected_basic
    assert urllib.parse.parse_qs(req["body"], keep_blank_values=True) == \
        {"grant_type": ["client_credentials"]}, req["body"]
    assert req["status"] == 200


def check_page_exchange(emu, page_size, expected_items):
    """The request log: one token POST first, then page GETs chained by cursor."""
    reqs = emu.requests()
    kinds = [r["kind"] for r in reqs]
    assert "other" not in kinds, [(r["method"], r["path"]) for r in reqs if r["kind"] == "other"]
    assert kinds[0] == "token", kinds[:5]
    tokens = [r for r in reqs if r["kind"] == "token"]
    assert len(tokens) == 1, "expected one token request for the whole sync, got %d" % len(
        tokens)
    check_token_request(tokens[0])
    issued = emu.issued_tokens()
    assert len(issued) == 1

    pages = [r for r in reqs if r["kind"] == "page"]
    assert pages, "no page request"
    for i, p in enumerate(pages):
        where = "page request #%d" % (i + 1)
        assert p["method"] == "GET", where
        assert p["path"] == "/api/indicators/query/hash/" + COLLECTION, where
        assert p["headers"].get("accept") == "application/json", where
        assert p["headers"].get("authorization") == "Bearer " + issued[0], where
        q = p["query_multi"]
        assert sorted(q) == ["cursorMark", "fields", "limit", "sort"], (where, p["raw_query"])
        assert all(len(v) == 1 for v in q.values()), (where, p["raw_query"])
        assert p["query"]["fields"] == DEFAULT_FIELDS, where
        assert p["query"]["limit"] == str(page_size), where
        assert p["query"]["sort"] == "updated_at", where
        assert p["status"] == 200, (where, p["status"])
    assert pages[0]["query"]["cursorMark"] == "*"
    for i in range(1, len(pages)):
        prev, cur = pages[i - 1], pages[i]
        assert cur["query"]["cursorMark"] == prev["response"]["nextCursorMark"], \
            "page request #%d did not send the previous nextCursorMark" % (i + 1)
    # paging goes on until an empty page, and the first cycle has the expected shape
    items = [p["response"]["items"] for p in pages]
    first_cycle = items[: items.index(0) + 1] if 0 in items else items
    assert first_cycle == expected_items, items
    return pages


@pytest.mark.parametrize("empty_as_object", [False, True], ids=["data-list", "data-object"])
def test_full_sync_exactly_once(emulator_factory, syslog_ng, empty_as_object):
    emu = emulator_factory(indicators=N_BIG, empty_data_as_object=empty_as_object)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION), out))

    syslog_ng.wait_for(id_count_at_least(out, N_BIG), timeout=60, message="all indicators")
    # one more poll cycle after the drain: nothing more may arrive
    syslog_ng.wait_for(page_requests_after_drain(emu, 2), timeout=15,
                       message="a second (empty) poll after the drain")
    ids = out_ids(out)
    syslog_ng.stop()

    expected = [i["id"] for i in emu.indicators(COLLECTION)]
    dup = {k: v for k, v in collections.Counter(ids).items() if v > 1}
    assert not dup, "delivered more than once: %s" % list(dup.items())[:10]
    assert set(ids) == set(expected)
    assert ids == expected, "messages are not in cursor order"
    pages = check_page_exchange(emu, 1000, [1000, 1000, 500, 0])
    # the later poll resumes from the last cursor, not from '*'
    assert pages[4]["query"]["cursorMark"] == pages[3]["query"]["cursorMark"] != "*"


def test_small_page_size_and_custom_fields(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=25)
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, page_size=10)
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(id_count_at_least(out, 25), timeout=30, message="all indicators")
    syslog_ng.wait_for(page_requests_after_drain(emu), timeout=10, message="empty page")
    assert sorted(out_ids(out)) == sorted(i["id"] for i in emu.indicators(COLLECTION))
    processed = [r["Number"] for r in syslog_ng.stats()
                 if r["SourceName"] == "source" and r["SourceId"] == "s_tq"
                 and r["Type"] == "processed"]
    assert processed == [25], syslog_ng.stats_raw()
    syslog_ng.stop()
    check_page_exchange(emu, 10, [10, 10, 5, 0])


def test_updated_indicator_is_delivered_again(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=60)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=25), out))
    syslog_ng.wait_for(id_count_at_least(out, 60), timeout=30, message="first sync")
    syslog_ng.wait_for(page_requests_after_drain(emu), timeout=10, message="end of first sync")
    before = emu.indicators(COLLECTION)
    target = before[17]["id"]
    upd = emu.update_indicator(target, COLLECTION)
    assert upd["updated_at"] > before[-1]["updated_at"]
    n_pages = len(emu.requests("page"))

    syslog_ng.wait_for(id_count_at_least(out, 61), timeout=15,
                       message="the updated indicator (poll-interval 1)")
    # let one more poll happen after the one that returned it
    syslog_ng.wait_for(lambda: len(emu.requests("page")) >= n_pages + 2, timeout=15,
                       message="a later poll")
    docs = read_json_lines(out)
    syslog_ng.stop()

    counts = collections.Counter(int(d["threatq"]["id"]) for d in docs)
    assert counts[target] == 2
    assert {k for k, v in counts.items() if v != 1} == {target}
    assert len(docs) == 61
    last = docs[-1]
    assert int(last["threatq"]["id"]) == target
    iso = upd["updated_at"].replace(" ", "T") + ".000Z"
    assert last["@timestamp"] == iso
    assert last["threatq"]["updated_at"] == iso
    assert last["threatq"]["score"] == upd["score"]
    # the poll that brought it back used the stored cursor, not '*'
    later = emu.requests("page")[n_pages:]
    hit = [r for r in later if r["response"] and target in r["response"]["ids"]]
    assert len(hit) == 1 and hit[0]["query"]["cursorMark"] != "*"
    assert len(emu.requests("token")) == 1


def test_sigkill_mid_sync_resumes(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N_BIG)
    out = syslog_ng.dir / "out.ndjson"
    conf = make_config(base_source_opts(emu, COLLECTION), out)

    emu.hold_pages_after(2)  # pages 1 and 2 are served; the 3rd request blocks
    syslog_ng.start(conf)
    assert emu.wait_for_held(30), "the 3rd page request never came"
    syslog_ng.wait_for(id_count_at_least(out, 2000), timeout=30,
                       message="the first two pages in the output")
    first_run = out_ids(out)
    syslog_ng.kill()
    emu.release()

    syslog_ng.start(conf)
    syslog_ng.wait_for(lambda: set(out_ids(out)) >= {i["id"] for i in emu.indicators()},
                       timeout=60, message="every indicator after the restart")
    syslog_ng.wait_for(page_requests_after_drain(emu), timeout=15, message="the drain")
    ids = out_ids(out)
    syslog_ng.stop()

    assert len(first_run) == 2000 and len(set(first_run)) == 2000
    expected = {i["id"] for i in emu.indicators(COLLECTION)}
    assert set(ids) == expected
    dups = len(ids) - len(set(ids))
    assert dups <= 1000, "%d duplicates after the crash (at most one page allowed)" % dups
    tokens = emu.issued_tokens()
    assert len(tokens) == 2
    second = [r for r in emu.requests("page")
              if r["headers"].get("authorization") == "Bearer " + tokens[1]]
    # the restarted instance resumed from the persisted cursor (at least page 1 acked)
    assert second and second[0]["query"]["cursorMark"] != "*", \
        "restart after kill -9 started again from cursorMark=*"
