# SPDX-License-Identifier: GPL-2.0-or-later
"""Indicators captured from real ThreatQ instances (public connector test suites, see
tests/conformance/threatq-connectors/PROVENANCE.md) through a real syslog-ng: every field of
each document but event.created equals the hand-written expectation in expected.json.

They carry the shapes the earlier corpora lack: a URL value without a scheme
(linkprotect.cudasvc.com/url, split into url.domain and url.path), and - in
derived-scores.ndjson, the same indicators with only their score replaced - a score object
whose manual_score overrides a two-decimal generated_score, a non-integer score, and a score
object with nothing usable in it.

Everything is in the repository: nothing outside it is read.
"""

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conformance_data import flatten
from test_conformance import run_lines
from threatq_emulator import ThreatQEmulator

CORPUS = Path(__file__).resolve().parents[1] / "conformance" / "threatq-connectors"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(k for k in EXPECTED if not k.startswith("_"))


def read_lines(name):
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            lines = read_lines(name)
            cache[name] = run_lines(tmp_path_factory.mktemp("real"), lines, False, [])
        return cache[name]

    return get


def _cases():
    return [pytest.param(name, i, id="%s:line%d" % (name, i + 1))
            for name in FILES for i in range(len(EXPECTED[name]))]


def _typed(value):
    """JSON type and value: 7 and 7.0 differ, as an integer and a non-integer number do."""
    return type(value).__name__, value


@pytest.mark.parametrize("name,index", _cases())
def test_real_indicator(runs, name, index):
    docs = runs(name)
    got = flatten(docs[index])
    want = EXPECTED[name][index]
    assert got.pop("event.created", None), "event.created missing"
    diffs = ["  %s: got %r, want %r" % (k, got.get(k, "<absent>"), want.get(k, "<absent>"))
             for k in sorted(set(got) | set(want))
             if k not in got or k not in want or _typed(got[k]) != _typed(want[k])]
    assert not diffs, "%s line %d:\n%s" % (name, index + 1, "\n".join(diffs))


def test_every_line_has_an_expectation():
    for name in FILES:
        assert len(read_lines(name)) == len(EXPECTED[name]), name
    assert {p.name for p in CORPUS.glob("*.ndjson")} == set(FILES)


def test_derived_file_is_what_derive_writes():
    """derived-scores.ndjson is the captured lines with only the score replaced."""
    result = subprocess.run([sys.executable, str(CORPUS / "derive.py"), "--check"])
    assert result.returncode == 0, "derived-scores.ndjson differs from what derive.py writes"
    captured = {json.loads(line)["id"]: json.loads(line) for line in read_lines("stix-shifter-threat_q.ndjson")}
    for line in read_lines("derived-scores.ndjson"):
        derived = json.loads(line)
        original = captured[derived["id"]]
        assert {k: v for k, v in derived.items() if k != "score"} == \
            {k: v for k, v in original.items() if k != "score"}
        assert derived["score"] != original["score"]


# ---------------------------------------------------------------------------
# many more of the shapes: the emulator's real_data_shapes option

NUMERIC = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def _number(v):
    """The contract's reading of a score value: a number or a numeric string, else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        v = repr(v)
    if not isinstance(v, str) or not NUMERIC.match(v):
        return None
    d = Decimal(v)
    return int(d) if d == d.to_integral_value() else float(d)


def _expected_score(score):
    if isinstance(score, dict):
        manual = _number(score.get("manual_score"))
        return manual if manual is not None else _number(score.get("generated_score"))
    return _number(score)


def _confidence(score):
    if not isinstance(score, int):
        return "Not Specified"
    for low, high, name in ((0, 0, "None"), (1, 4, "Low"), (5, 7, "Medium"), (8, 10, "High")):
        if low <= score <= high:
            return name
    return "Not Specified"


def test_emulator_real_data_shapes(tmp_path):
    emu = ThreatQEmulator(seed=5, real_data_shapes=True)
    emu.add_collection("x")
    emu.add_indicators(300, collection="x", types=["URL", "IP Address", "FQDN"])
    inds = emu.indicators("x")
    docs = run_lines(tmp_path, [json.dumps(i) for i in inds], False, [])
    seen = set()
    for ind, doc in zip(inds, docs):
        flat = flatten(doc)
        assert flat["threatq.id"] == ind["id"]
        want = _expected_score(ind["score"])
        assert flat.get("threatq.score") == want and type(flat.get("threatq.score")) is type(want), \
            (ind["score"], flat.get("threatq.score"))
        assert flat["threat.indicator.confidence"] == _confidence(want), (ind["score"], flat)
        seen.add("object" if isinstance(ind["score"], dict) else type(want).__name__)
        if ind["type"]["name"] == "URL":
            schemeless = "://" not in ind["value"]
            assert flat["threat.indicator.url.original"] == ind["value"]
            assert ("threat.indicator.url.scheme" in flat) is not schemeless, flat
            assert ("threat.indicator.url.full" in flat) is schemeless, flat
            assert ind["value"].split("://")[-1].startswith(flat["threat.indicator.url.domain"])
            seen.add("schemeless" if schemeless else "absolute")
    assert seen >= {"object", "float", "int", "schemeless", "absolute"}, seen
