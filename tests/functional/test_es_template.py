# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped Elasticsearch index template (scl/threatq/elasticsearch-template.json) maps
every field of every document the module produces, with a type that accepts its value.

The documents come from a real syslog-ng with threatq() (MESSAGE, as written by a file
destination): every line of the conformance corpora (conformance_data.corpora(), run the way
test_conformance.py runs them, plus the seed example event) and the emulator's full indicator
set (its generated indicators of every type it knows, plus test_nv_pairs.handmade(): every
other type of contract §4, error.message, attributes with odd names, numeric-string scores),
all with preserve-original(yes) so event.original is covered.

es_mapping.py models how Elasticsearch resolves a field (properties, object, nested,
flattened, dynamic templates, dynamic true/false/strict) and which values a type accepts;
the negative tests below feed it deliberately wrong template fragments and real documents to
show that it does reject what Elasticsearch would reject.
"""

import copy
import json
import re
from collections import Counter, defaultdict

import pytest

import conformance_data as cd
import es_mapping
import syslogng
from conftest import COLLECTION
from test_conformance import run_lines
from test_nv_pairs import handmade
from threatq_emulator import ThreatQEmulator

TEMPLATE_PATH = syslogng.REPO / "scl" / "threatq" / "elasticsearch-template.json"
FIELDS_HEADER = syslogng.REPO / "modules" / "threatq" / "threatq-ecs-fields.h"
GENERATED = 300  # every type the emulator knows, many times over
TAGS = ["forwarded", "threatq-threat"]


def template():
    return json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# documents from a real syslog-ng

def emulator_documents(workdir):
    """The emulator's generated indicators plus the hand-made ones, served as one page."""
    emu = ThreatQEmulator(seed=14)
    emu.add_collection(COLLECTION)
    emu.add_indicators(GENERATED, collection=COLLECTION)
    emu.add_raw_indicators(handmade(), collection=COLLECTION)
    lines = [json.dumps(i, ensure_ascii=False) for i in emu.indicators(COLLECTION)]
    return run_lines(workdir, lines, True, TAGS)


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """{source name: [document]}"""
    missing = cd.missing_reason()
    if missing:
        pytest.fail(missing, pytrace=False)
    out = {"emulator": emulator_documents(tmp_path_factory.mktemp("emu"))}
    seen = set()
    for corpus in cd.corpora():
        opts = corpus.source_opts
        key = (str(corpus.log), opts["preserve_original"], tuple(opts["tags"]))
        if key in seen:
            continue
        seen.add(key)
        lines = cd.read_log_lines(corpus.log)
        out[corpus.name] = run_lines(tmp_path_factory.mktemp("corpus"), lines,
                                     opts["preserve_original"], opts["tags"])
    seed = cd.seed_example()["event"]["original"]
    out["seed"] = run_lines(tmp_path_factory.mktemp("seed"), [seed], True, TAGS)
    return out


def all_leaves(mapper, documents):
    return [(source, n, leaf) for source, docs in documents.items()
            for n, doc in enumerate(docs, 1) for leaf in mapper.leaves(doc)]


def problems(leaves):
    """Leaves that the template does not map or whose value its type refuses."""
    bad = []
    for source, n, leaf in leaves:
        if leaf.problem is not None:
            bad.append("%s doc %d: %s = %r: %s" % (source, n, leaf.path, leaf.value, leaf.problem))
        elif leaf.how in ("guessed", "not_indexed"):
            bad.append("%s doc %d: %s = %r is not mapped by the template (%s)"
                       % (source, n, leaf.path, leaf.value, leaf.how))
    return bad


# ---------------------------------------------------------------------------
# the shipped template against the documents

def test_every_field_of_every_document_is_mapped_and_accepted(documents):
    mapper = es_mapping.Mapper(template())
    leaves = all_leaves(mapper, documents)
    bad = problems(leaves)
    assert not bad, "%d problems, first ones:\n%s" % (len(bad), "\n".join(bad[:40]))

    # what the run covered: every source produced documents, and the fields that matter
    # were really seen with their types (so the check above was not vacuous)
    assert all(documents.values()), {k: len(v) for k, v in documents.items()}
    seen = defaultdict(Counter)
    for _, _, leaf in leaves:
        seen[leaf.path][(leaf.how, leaf.mapping.get("type") if leaf.mapping else None)] += 1
    want = {
        "@timestamp": "date", "event.created": "date", "threat.indicator.ip": "ip",
        "related.ip": "ip", "threat.indicator.as.number": "long",
        "threat.indicator.url.port": "long", "threatq.id": "long", "threatq.score": "float",
        "threatq.updated_at": "date", "threatq.ioc_expired_at": "date",
        "threat.indicator.first_seen": "date", "threat.indicator.url.original": "wildcard",
        "event.dataset": "constant_keyword", "event.module": "constant_keyword",
        "threat.indicator.type": "keyword", "tags": "keyword", "error.message":
        "match_only_text", "event.original": "keyword",
    }
    for path, typ in want.items():
        assert any(t == typ for (_, t) in seen[path]), (path, dict(seen[path]))
    attrs = [p for p in seen if p.startswith("threatq.attributes.")]
    assert len(attrs) >= 10 and all(
        {h for h, _ in seen[p]} == {"flattened"} for p in attrs), attrs
    assert any(not re.match(r"^[a-z_]+$", p.split(".", 2)[2]) for p in attrs), \
        "no attribute with an unusual name was seen"
    original = seen["event.original"]
    assert set(original) == {("properties,index:false", "keyword")}, original


def test_event_original_is_stored_not_indexed(documents):
    """ECS: event.original is kept in _source, neither indexed nor in doc values."""
    m = es_mapping.lookup(template(), "event.original")
    assert m == {"type": "keyword", "index": False, "doc_values": False}
    n = sum(1 for docs in documents.values() for d in docs if "original" in d.get("event", {}))
    assert n >= GENERATED, n


def test_every_field_the_module_can_emit_is_mapped_explicitly():
    """The module's field table (threatq-ecs-fields.h) names every field it can set; each
    has an explicit mapping (not a dynamic guess), with the type the ECS table gives."""
    names = re.findall(r'F\(\s*\w+\s*,\s*"([^"]+)"\s*\)', FIELDS_HEADER.read_text())
    assert len(names) >= 50, names
    t = template()
    missing = [n for n in names if es_mapping.lookup(t, n) is None]
    assert not missing, missing
    ecs = {  # ECS's field reference (ecs_flat.yml), for the fields with a non-keyword type
        "@timestamp": "date", "event.created": "date", "related.ip": "ip",
        "threat.indicator.ip": "ip", "threat.indicator.as.number": "long",
        "threat.indicator.url.port": "long", "threat.indicator.first_seen": "date",
        "threat.indicator.last_seen": "date", "threat.indicator.modified_at": "date",
        "threat.indicator.url.original": "wildcard", "threat.indicator.url.full": "wildcard",
        "threat.indicator.url.path": "wildcard", "error.message": "match_only_text",
    }
    for name in names:
        want = ecs.get(name)
        if name.startswith("threatq.") or name in ("event.dataset", "event.module"):
            continue
        got = es_mapping.lookup(t, name)["type"]
        assert got == (want or "keyword"), (name, got, want)
    for name in names:
        if re.match(r"threatq\.\w+_at$", name):
            assert es_mapping.lookup(t, name)["type"] == "date", name
    assert es_mapping.lookup(t, "threatq.attributes")["type"] == "flattened"


def test_template_is_a_composable_index_template():
    t = template()
    assert set(t) <= {"index_patterns", "template", "composed_of", "priority", "version",
                      "_meta", "data_stream", "allow_auto_create"}
    assert t["index_patterns"] == ["logs-ti_threatq.threat"]
    assert "data_stream" not in t, "documents are upserted by _id: a regular index"
    assert t["priority"] > 200, "must win over Elastic's own logs-* templates"
    mappings = t["template"]["mappings"]
    assert mappings["date_detection"] is False
    # the helper script rewrites index_patterns on this one line
    assert TEMPLATE_PATH.read_text().count('"index_patterns": ["logs-ti_threatq.threat"],') == 1


# Mapping parameters Elasticsearch accepts per field type (the ones this template may use):
# a misspelt or misplaced parameter is a PUT error.
PARAMETERS = {
    "keyword": {"type", "ignore_above", "index", "doc_values", "fields"},
    "constant_keyword": {"type", "value"},
    "wildcard": {"type", "ignore_above", "fields"},
    "match_only_text": {"type"},
    "text": {"type", "fields"},
    "date": {"type", "format"},
    "ip": {"type"},
    "long": {"type"},
    "float": {"type"},
    "boolean": {"type"},
    "geo_point": {"type"},
    "flattened": {"type", "ignore_above", "depth_limit"},
    "object": {"type", "properties", "dynamic"},
    "nested": {"type", "properties"},
}


def test_template_uses_valid_mapping_parameters():
    def walk(props, prefix):
        for name, m in props.items():
            t = m.get("type", "object")
            assert t in PARAMETERS, (prefix + name, t)
            assert set(m) <= PARAMETERS[t], (prefix + name, sorted(set(m) - PARAMETERS[t]))
            for sub, sm in m.get("fields", {}).items():
                assert set(sm) <= PARAMETERS[sm["type"]], (prefix + name + "." + sub, sm)
            if "format" in m:
                es_mapping.date_accepts(m, "2021-10-01T18:36:03.000Z")  # every format modelled
            walk(m.get("properties", {}), prefix + name + ".")

    walk(template()["template"]["mappings"]["properties"], "")


# ---------------------------------------------------------------------------
# the validator can fail: wrong templates against the same documents

def _with(t, dotted, mapping):
    t = copy.deepcopy(t)
    node = t["template"]["mappings"]["properties"]
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node[p]["properties"]
    node[parts[-1]] = mapping
    return t


@pytest.mark.parametrize("field,mapping,expect", [
    ("threatq.id", {"type": "ip"}, "ip needs a string"),
    ("threatq.indicator_value", {"type": "ip"}, "not an IP address"),
    ("threatq.id", {"type": "integer"}, None),  # a control: a narrower type that still fits
    ("threatq.id", {"type": "byte"}, "byte out of range"),
    ("threatq.updated_at", {"type": "date", "format": "epoch_millis"}, "does not parse"),
    ("threatq.updated_at", {"type": "date", "format": "yyyy/MM/dd"}, "UnsupportedMapping"),
    ("event.dataset", {"type": "constant_keyword", "value": "ti_misp.threat"},
     "is not the constant"),
    ("threat.indicator.as.number", {"type": "keyword"}, "keyword needs a string"),
    ("threatq.attributes", {"type": "keyword"}, "a keyword field holds an object"),
    ("threatq.attributes", {"type": "object", "dynamic": "strict"}, "dynamic is strict"),
    ("threatq.attributes", {"type": "object", "dynamic": False}, "not mapped"),
    ("tags", {"type": "long"}, "long needs an integer"),
])
def test_validator_rejects_wrong_fragments(documents, field, mapping, expect):
    wrong = _with(template(), field, mapping)
    try:
        bad = problems(all_leaves(es_mapping.Mapper(wrong), {"emulator": documents["emulator"]}))
    except es_mapping.UnsupportedMapping:
        assert expect == "UnsupportedMapping"
        return
    if expect is None:
        assert not bad, bad[:5]
    else:
        assert bad and any(expect in b for b in bad), bad[:5]


def test_validator_rejects_a_non_integer_in_a_long_and_a_bad_score():
    """threatq.score may be non-integer (issue 13): float accepts 7.5, long does not."""
    doc = {"threatq": {"score": 7.5, "id": 2 ** 63}}
    t = template()
    leaves = {l.path: l for l in es_mapping.Mapper(t).leaves(doc)}
    assert leaves["threatq.score"].problem is None
    assert leaves["threatq.id"].problem == "long out of range"
    leaves = {l.path: l for l in es_mapping.Mapper(
        _with(t, "threatq.score", {"type": "long"})).leaves(doc)}
    assert leaves["threatq.score"].problem == "long needs an integer"


@pytest.mark.parametrize("value,ok", [
    ("2021-10-01T18:36:03.000Z", True), ("2021-10-01", True), ("2021-10-01T18:36Z", True),
    ("2021-10-01T18:36:03+02:00", True), ("2021-02-29T00:00:00Z", False),
    ("2021-10-01 18:36:03", False), ("10000-01-01T00:00:00.000Z", False), (1633113363000, True),
    ("yesterday", False), (None, False),
])
def test_date_model(value, ok):
    assert es_mapping.date_accepts({"type": "date"}, value) is ok


def test_dynamic_templates_are_applied_in_order():
    t = {"template": {"mappings": {"dynamic_templates": [
        {"ids": {"path_match": "x.*_id", "match_mapping_type": "string",
                 "mapping": {"type": "ip"}}},
        {"rest": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}},
    ], "properties": {}}}}
    leaves = {l.path: l for l in es_mapping.Mapper(t).leaves(
        {"x": {"a_id": "1.2.3.4", "b_id": "nope", "c": "v", "n": 5}})}
    assert leaves["x.a_id"].how == "dynamic_template:ids" and leaves["x.a_id"].problem is None
    assert leaves["x.b_id"].problem == "not an IP address"
    assert leaves["x.c"].how == "dynamic_template:rest"
    assert leaves["x.n"].how == "guessed"
