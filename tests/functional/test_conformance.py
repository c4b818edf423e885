# SPDX-License-Identifier: GPL-2.0-or-later
"""Conformance with the reference corpora in tests/conformance/ (see its README.md).

* the seed example event (tests/conformance/seed/ti_threatq-README.md): every field but the
  agent-only ones, exactly, and event.original byte for byte;
* filebeat-threatq-legacy/: threat.indicator.*, threatq.attributes.*, threatq.status,
  threatq.indicator_value, threatq.*_at, @timestamp (and tags);
* elastic-ti_threatq/ (1.32 verbatim) and its derived-v1.33plus/ expectations:
  threat.indicator.*, related.*, event.kind/category/type, @timestamp (and tags,
  event.original).

One pytest case per corpus line.  Where this module deliberately differs from a corpus
(docs/differences.md), the difference is a row of conformance_data.py's tables (field, corpus
value, our value, reason); the case checks that the corpus holds the stated value and that our
output holds ours.  Nothing is skipped; missing corpora are a failure.

Each .log runs through ONE syslog-ng: the emulator serves the corpus lines, byte for byte and in
order, as the `data` of one page (so event.original is the line exactly and lines sharing an
id, like 338 in the no-preserve file, stay apart); output line i must be input line i (its
threatq.id is checked).
"""

import fnmatch
import json

import pytest

import conformance_data as cd
import syslogng
from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION, require_module
from syslogng import Raw, base_source_opts, make_config, read_json_lines, read_lines
from threatq_emulator import ThreatQEmulator, encode_cursor

MISSING = cd.missing_reason()


def page_body(lines):
    """A ThreatQ page whose data[] elements are exactly the given JSON texts, and whose
    nextCursorMark points past the last of them (the following request gets data [])."""
    inds = [json.loads(line) for line in lines]
    last = max(inds, key=lambda i: (i["updated_at"], int(i["id"])))
    return '{"total":%d,"data":[%s],"nextCursorMark":"%s","limit":1000}' % (
        len(lines), ",".join(lines), encode_cursor(last["updated_at"], last["id"]))


def run_lines(workdir, lines, preserve_original, tags):
    """Run the raw indicator texts through syslog-ng + threatq(); returns the documents."""
    require_module()
    emu = ThreatQEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    emu.add_collection(COLLECTION)
    emu.add_fault(kind="page", body=page_body(lines))  # the first page, verbatim
    emu.start()
    sng = syslogng.SyslogNg(workdir)
    out = workdir / "out.ndjson"
    tag_opt = Raw(", ".join(json.dumps(t) for t in tags)) if tags else None
    opts = base_source_opts(emu, COLLECTION, preserve_original=preserve_original, tags=tag_opt)
    try:
        sng.start(make_config(opts, out))
        sng.wait_for(lambda: len(read_lines(out)) >= len(lines), timeout=30,
                     message="%d documents" % len(lines))
        # the page after ours is empty: the cycle is over, nothing more can come
        emu.wait_for_requests(lambda reqs: sum(1 for r in reqs if r.get("kind") == "page"
                                               and r.get("status") == 200) >= 2,
                                 timeout=10 * getattr(syslogng, "TIMEOUT_SCALE", 1))
        sng.stop()
        docs = read_json_lines(out)
    except BaseException:
        print(sng.output())
        raise
    finally:
        sng.cleanup()
        emu.stop()
    assert len(docs) == len(lines), "%d lines in, %d documents out" % (len(lines), len(docs))
    return docs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Documents per .log file, computed on first use (one syslog-ng per .log)."""
    cache = {}

    def get(log, preserve_original, tags):
        key = (str(log), preserve_original, tuple(tags))
        if key not in cache:
            lines = cd.read_log_lines(log)
            d = tmp_path_factory.mktemp("conf")
            cache[key] = (lines, run_lines(d, lines, preserve_original, tags))
        return cache[key]

    return get


def _diff(got, want):
    lines = []
    for k in sorted(set(got) | set(want)):
        g, w = got.get(k, cd.ABSENT), want.get(k, cd.ABSENT)
        if type(g) is not type(w) or g != w:
            lines.append("  %s: got %r, want %r" % (k, g, w))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# cases: one per corpus line

def _cases():
    if MISSING:
        return [pytest.param(None, None, id="conformance-corpora-missing")]
    out = []
    for corpus in cd.corpora():
        n = len(cd.read_log_lines(corpus.log))
        lines = cd.read_log_lines(corpus.log)
        for i in range(1, n + 1):
            ind_id = json.loads(lines[i - 1])["id"]
            out.append(pytest.param(corpus, i, id="%s:line%d:id%s" % (corpus.name, i, ind_id)))
    return out


@pytest.mark.parametrize("corpus,lineno", _cases())
def test_corpus_line(runs, corpus, lineno):
    if corpus is None:
        pytest.fail(MISSING, pytrace=False)
    lines, docs = runs(corpus.log, corpus.source_opts["preserve_original"],
                       corpus.source_opts["tags"])
    expected_docs = cd.read_expected(corpus.expected)
    ind = json.loads(lines[lineno - 1])
    doc = docs[lineno - 1]
    assert doc["threatq"]["id"] == ind["id"], \
        "output %d is indicator %r, not %r: order changed" % (lineno, doc["threatq"]["id"],
                                                             ind["id"])
    expected_doc = expected_docs[lineno - 1] if lineno <= len(expected_docs) else None
    if expected_doc is None:
        assert lineno in corpus.no_expectation, \
            "%s has no expected document for line %d" % (corpus.name, lineno)
    else:
        # the corpus's own pairing of line and expectation
        exp_id = cd.flatten(expected_doc).get("threatq.id")
        if exp_id is not None:
            assert int(exp_id) == ind["id"]
        if "log.offset" in expected_doc:  # Filebeat: the byte offset of the line
            raw = cd.read_log_lines(corpus.log)
            assert expected_doc["log.offset"] == sum(len(x.encode()) + 1
                                                     for x in raw[:lineno - 1])
    want, stale = cd.expectation(corpus, lineno, ind, expected_doc)
    assert not stale, "deviation table out of date for %s line %d:\n%s" % (
        corpus.name, lineno, "\n".join("  %s: %s" % (d.field, why) for d, why in stale))
    got = cd.select(cd.flatten(doc), corpus.compare)
    assert got == want and not _diff(got, want), \
        "%s line %d (id %s) differs from the expectation:\n%s" % (
            corpus.name, lineno, ind["id"], _diff(got, want))


def test_deviation_table_rows_all_apply():
    """Every row of the deviation tables names lines that exist in its corpus."""
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    for corpus in cd.corpora():
        n = len(cd.read_log_lines(corpus.log))
        for d in corpus.deviations:
            if d.lines != cd.ALL:
                assert all(1 <= i <= n for i in d.lines), (corpus.name, d)
        assert set(corpus.no_expectation) <= set(range(1, n + 1))
        assert len(cd.read_expected(corpus.expected)) + len(corpus.no_expectation) == n, \
            corpus.name


# ---------------------------------------------------------------------------
# the seed example event

SEED_TAGS = ["forwarded", "threatq-threat"]


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    example = cd.seed_example()
    original = example["event"]["original"]
    docs = run_lines(tmp_path_factory.mktemp("seed"), [original], True, SEED_TAGS)
    return example, docs[0]


def _seed_fields(example):
    flat = cd.flatten(example)
    return {k: v for k, v in flat.items()
            if not any(fnmatch.fnmatchcase(k, p) for p in cd.SEED_AGENT_ONLY)}


def test_seed_example_field_for_field(seed_run):
    example, doc = seed_run
    want = _seed_fields(example)
    got = cd.flatten(doc)
    assert want, "the seed example has no fields"
    diffs = _diff({k: got.get(k, cd.ABSENT) for k in want}, want)
    assert not diffs, "seed example fields differ:\n" + diffs


def test_seed_event_original_is_the_seed_string(seed_run):
    example, doc = seed_run
    assert doc["event"]["original"] == example["event"]["original"]


def test_seed_only_agent_fields_left_out(seed_run):
    """The fields we do not produce are exactly the agent-only ones (docs/differences.md)."""
    example, doc = seed_run
    got = cd.flatten(doc)
    not_made = sorted(k for k in cd.flatten(example) if k not in got)
    assert not_made, "expected the agent-only fields to be absent"
    assert all(any(fnmatch.fnmatchcase(k, p) for p in cd.SEED_AGENT_ONLY) for k in not_made), \
        not_made
