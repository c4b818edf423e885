# SPDX-License-Identifier: GPL-2.0-or-later
"""The conformance corpora (tests/conformance/, see its README.md) and the table of
places where this module deliberately differs from them (docs/differences.md explains each).

Used by test_conformance.py.  The corpora are part of the repository and are read, never
changed.

A deviation says, for one field of one corpus (all lines or some): what the corpus has,
what our mapping (docs/fields.md) produces instead, and why.  The test checks both halves:
that the corpus really holds the stated value (so the table cannot go stale silently), and
that our output holds our value.
"""

import fnmatch
import json
import re
from collections import namedtuple
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


CORPORA = REPO / "tests" / "conformance"
SEED = CORPORA / "seed" / "ti_threatq-README.md"


def missing_reason():
    """None when the corpora are there, else a message saying what is missing."""
    need = [CORPORA / "README.md", SEED,
            CORPORA / "elastic-ti_threatq" / "test-threatq-sample-ndjson.log",
            CORPORA / "filebeat-threatq-legacy" / "threatq_sample.ndjson.log"]
    absent = [str(p) for p in need if not p.exists()]
    if not absent:
        return None
    return "the conformance corpora are missing from the source tree: %s" % ", ".join(absent)


# ---------------------------------------------------------------------------
# values

class _Absent:
    def __repr__(self):
        return "<absent>"


ABSENT = _Absent()


def iso(threatq_date):
    """'2020-11-15 00:00:02' -> '2020-11-15T00:00:02.000Z' (docs/fields.md)."""
    return threatq_date.replace(" ", "T") + ".000Z"


class Rule:
    """Our value computed from the indicator (the input line), e.g. a date."""

    def __init__(self, text, fn):
        self.text, self.fn = text, fn

    def __call__(self, ind):
        return self.fn(ind)

    def __repr__(self):
        return self.text


def iso_of(field):
    return Rule("%s as ISO 8601 (docs/fields.md)" % field, lambda ind: iso(ind[field]))


def flatten(doc, prefix=""):
    """Nested (or already dotted) document -> {dotted name: leaf}; lists are leaves."""
    out = {}
    for k, v in doc.items():
        name = prefix + k
        if isinstance(v, dict) and v:
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def select(flat, patterns):
    """The fields whose dotted name matches one of the glob patterns."""
    return {k: v for k, v in flat.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}


# ---------------------------------------------------------------------------
# files

def read_log_lines(path):
    """One raw indicator per line; the corpora may lack the final newline."""
    text = Path(path).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


def read_expected(path):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data["expected"] if isinstance(data, dict) else data


def seed_example():
    """The example event of the seed README (the ```json block after 'An example event')."""
    text = SEED.read_text(encoding="utf-8")
    m = re.search(r"An example event for `threat`.*?```json\n(.*?)\n```", text, re.S)
    if not m:
        raise AssertionError("no example event found in %s" % SEED)
    return json.loads(m.group(1))


# Fields of the seed example that the Elastic agent adds itself (docs/differences.md).
SEED_AGENT_ONLY = ["agent.*", "elastic_agent.*", "data_stream.*", "input.type",
                   "event.agent_id_status", "event.ingested", "event.created"]


# ---------------------------------------------------------------------------
# corpora

Corpus = namedtuple("Corpus", "name log expected source_opts compare deviations no_expectation")
Deviation = namedtuple("Deviation", "field lines corpus contract reason")
ALL = "all"

# what each corpus is compared on (conformance/README.md); the fields after the README's
# list are ones the corpus also pins and our configuration reproduces (tags, event.original)
ELASTIC_COMPARE = ["threat.indicator.*", "related.*", "event.kind", "event.category",
                   "event.type", "@timestamp", "tags", "event.original"]
FILEBEAT_COMPARE = ["threat.indicator.*", "threatq.attributes.*", "threatq.status",
                    "threatq.indicator_value", "threatq.*_at", "@timestamp", "tags"]

# --- deviations shared by every ti_threatq corpus line -------------------------------
_ELASTIC_ALL = [
    Deviation("event.category", ALL, ["threat"], "threat",
              "docs/fields.md: a string, as in the seed example (1.32 writes a one-element "
              "list; the value is the same)"),
    Deviation("event.type", ALL, ["indicator"], "indicator",
              "docs/fields.md: a string, as in the seed example (1.32 writes a one-element "
              "list; the value is the same)"),
    Deviation("threat.indicator.first_seen", ALL, ABSENT, iso_of("created_at"),
              "docs/fields.md maps created_at to first_seen; the ti_threatq pipeline sets none"),
    Deviation("threat.indicator.last_seen", ALL, ABSENT, iso_of("touched_at"),
              "docs/fields.md maps touched_at to last_seen; the ti_threatq pipeline sets none"),
    Deviation("threat.indicator.modified_at", ALL, ABSENT, iso_of("updated_at"),
              "docs/fields.md maps updated_at to modified_at; the ti_threatq pipeline sets none"),
]

_PROVIDER_132 = ("1.32 took the provider from sources[].provider; docs/fields.md (like "
                 "ti_threatq >= 1.33, PR elastic/integrations#13137) takes sources[].name")
_SCORE_15 = ("score 15 is outside ThreatQ's 0-10 scale: docs/fields.md maps any other "
             "value to 'Not Specified'; the pipeline leaves confidence out")
_TLP_PREFIX = ("docs/fields.md accepts a 'TLP:' prefix (TLP:WHITE -> WHITE); the pipeline only "
               "takes the bare names, so it drops TLP:WHITE")
_URL_ORIGINAL = ("docs/fields.md: url.original is always the value as given; a value that does "
                 "not parse also goes to url.full (the pipeline sets only url.full)")
_URL_HOST_FIRST = ("contract §4: a URL without a scheme that starts with a host (here an IPv4 "
                   "address and a port) is split like an absolute URL; uri_parts fails on it, so "
                   "the pipeline sets none of the parts")

SAMPLE_132 = _ELASTIC_ALL + [
    Deviation("threat.indicator.provider", (1, 2, 3, 4, 5, 7, 8, 9, 10), ABSENT,
              ["AlienVault OTX"], _PROVIDER_132 + " (these sources have no 'provider')"),
    Deviation("threat.indicator.provider", (6,), ["testprovider"], ["AlienVault OTX"],
              _PROVIDER_132),
]
SAMPLE_133 = list(_ELASTIC_ALL)

NO_PRESERVE_COMMON = [
    Deviation("threat.indicator.confidence", (4,), ABSENT, "Not Specified", _SCORE_15),
    Deviation("threat.indicator.marking.tlp", (4,), ABSENT, ["WHITE"], _TLP_PREFIX),
    Deviation("threat.indicator.url.original", (5,), ABSENT, "89.160.20.156:8080/maf.html",
              _URL_ORIGINAL),
    Deviation("threat.indicator.url.domain", (5,), ABSENT, "89.160.20.156", _URL_HOST_FIRST),
    Deviation("threat.indicator.url.port", (5,), ABSENT, 8080, _URL_HOST_FIRST),
    Deviation("threat.indicator.url.path", (5,), ABSENT, "/maf.html", _URL_HOST_FIRST),
    Deviation("threat.indicator.url.extension", (5,), ABSENT, "html", _URL_HOST_FIRST),
]
NO_PRESERVE_132 = _ELASTIC_ALL + NO_PRESERVE_COMMON + [
    Deviation("threat.indicator.provider", (1, 2, 3, 5), ABSENT, ["AlienVault OTX"],
              _PROVIDER_132 + " (these sources have no 'provider')"),
    Deviation("threat.indicator.provider", (4,), ["Provider Example"], ["Source Example"],
              _PROVIDER_132),
]
NO_PRESERVE_133 = _ELASTIC_ALL + NO_PRESERVE_COMMON

# --- Filebeat threatintel/threatq ---------------------------------------------------------
_FB_ADDED = "docs/fields.md sets it; that Filebeat version did not"
FILEBEAT = [
    Deviation("threat.indicator.confidence", ALL, "Low", "Low",
              "Filebeat used a 0-100 scale (score 4 -> Low); our 0-10 scale gives "
              "1-4 -> Low: the same value by coincidence"),
    Deviation("threat.indicator.first_seen", ALL, ABSENT, iso_of("created_at"), _FB_ADDED),
    Deviation("threat.indicator.last_seen", ALL, ABSENT, iso_of("touched_at"), _FB_ADDED),
    Deviation("threat.indicator.modified_at", ALL, ABSENT, iso_of("updated_at"), _FB_ADDED),
    Deviation("threat.indicator.provider", ALL, ABSENT, ["AlienVault OTX"],
              "docs/fields.md: distinct sources[].name; Filebeat read sources[].provider (absent)"),
    Deviation("threatq.expired_at", ALL, ABSENT, iso_of("expired_at"), _FB_ADDED),
    Deviation("threatq.touched_at", ALL, ABSENT, iso_of("touched_at"), _FB_ADDED),
    Deviation("threatq.updated_at", ALL, ABSENT, iso_of("updated_at"), _FB_ADDED),
    Deviation("threatq.ioc_expired_at", ALL, ABSENT, iso_of("expired_at"),
              "docs/fields.md: expired_at -> ioc_expired_at (IOC expiry did not exist in Filebeat)"),
]

# Line 10 (id 347) of the Filebeat log has no expected document: Filebeat's log input does not
# emit an unterminated last line (filebeat-threatq-legacy/PROVENANCE.md).  Its expectation is
# therefore written out here from docs/fields.md, for the same fields as the other lines.
FILEBEAT_LINE10 = {
    "@timestamp": "2020-11-15T00:00:02.000Z",
    "tags": ["forwarded", "threatintel-threatq"],
    "threat.indicator.confidence": "Low",
    "threat.indicator.first_seen": "2020-09-11T14:35:51.000Z",
    "threat.indicator.ip": "69.162.74.166",
    "threat.indicator.last_seen": "2021-06-07T19:47:27.000Z",
    "threat.indicator.modified_at": "2020-11-15T00:00:02.000Z",
    "threat.indicator.provider": ["AlienVault OTX"],
    "threat.indicator.type": "ipv4-addr",
    "threatq.attributes.alienvault_reliability": ["4"],
    "threatq.attributes.alienvault_revision": ["3"],
    "threatq.attributes.alienvault_threat_level": ["2"],
    "threatq.attributes.city": ["Dallas"],
    "threatq.attributes.country": ["US"],
    "threatq.attributes.description": ["Malicious Host"],
    "threatq.created_at": "2020-09-11T14:35:51.000Z",
    "threatq.expired_at": "2020-11-15T00:00:02.000Z",
    "threatq.expires_calculated_at": "2020-10-15T14:40:03.000Z",
    "threatq.indicator_value": "69.162.74.166",
    "threatq.ioc_expired_at": "2020-11-15T00:00:02.000Z",
    "threatq.published_at": "2020-09-11T14:35:51.000Z",
    "threatq.status": "Expired",
    "threatq.touched_at": "2021-06-07T19:47:27.000Z",
    "threatq.updated_at": "2020-11-15T00:00:02.000Z",
}


def corpora():
    """The corpora, in test order.  Corpora sharing a .log are run once (one syslog-ng)."""
    c = CORPORA
    ti = c / "elastic-ti_threatq"
    fb = c / "filebeat-threatq-legacy"
    ti_opts = dict(preserve_original=True, tags=["preserve_duplicate_custom_fields"])
    fb_opts = dict(preserve_original=False, tags=["forwarded", "threatintel-threatq"])
    return [
        Corpus("filebeat-legacy", fb / "threatq_sample.ndjson.log",
               fb / "threatq_sample.ndjson.log-expected.json", fb_opts, FILEBEAT_COMPARE,
               FILEBEAT, {10: FILEBEAT_LINE10}),
        Corpus("ti_threatq-1.32-sample", ti / "test-threatq-sample-ndjson.log",
               ti / "test-threatq-sample-ndjson.log-expected.json", ti_opts, ELASTIC_COMPARE,
               SAMPLE_132, {}),
        Corpus("ti_threatq-1.33plus-sample", ti / "test-threatq-sample-ndjson.log",
               ti / "derived-v1.33plus" / "test-threatq-sample-ndjson.log-expected.json",
               ti_opts, ELASTIC_COMPARE, SAMPLE_133, {}),
        Corpus("ti_threatq-1.32-no-preserve", ti / "test-threatq-no-preserve-ndjson.log",
               ti / "test-threatq-no-preserve-ndjson.log-expected.json", ti_opts,
               ELASTIC_COMPARE, NO_PRESERVE_132, {}),
        Corpus("ti_threatq-1.33plus-no-preserve", ti / "test-threatq-no-preserve-ndjson.log",
               ti / "derived-v1.33plus" / "test-threatq-no-preserve-ndjson.log-expected.json",
               ti_opts, ELASTIC_COMPARE, NO_PRESERVE_133, {}),
    ]


def deviations_for(corpus, lineno):
    return [d for d in corpus.deviations if d.lines == ALL or lineno in d.lines]


def expectation(corpus, lineno, indicator, expected_doc):
    """(expected fields after the deviations, list of (deviation, problem) where the corpus
    does not hold what the table says)."""
    if expected_doc is None:
        return dict(corpus.no_expectation[lineno]), []
    want = select(flatten(expected_doc), corpus.compare)
    stale = []
    for d in deviations_for(corpus, lineno):
        have = want.get(d.field, ABSENT)
        if have != d.corpus and not (have is ABSENT and d.corpus is ABSENT):
            stale.append((d, "corpus has %r, the table says %r" % (have, d.corpus)))
        value = d.contract(indicator) if isinstance(d.contract, Rule) else d.contract
        if value is ABSENT:
            want.pop(d.field, None)
        else:
            want[d.field] = value
    return want, stale
