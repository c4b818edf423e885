# SPDX-License-Identifier: GPL-2.0-or-later
"""threatq-match(): a real syslog-ng matches log fields against the indicators of a threatq()
source served by the emulator (issue 15, points 1, 2 and 7).

Log lines are JSON objects appended to a file that a file() source follows; json-parser()
puts their members under log.*, threatq-match() matches fields("${log.src}" ...), and a
file() destination writes every message as format-json of log.*, threat.*, threatq.*, the
tags and MESSAGE.  The indicators are made by hand (add_raw_indicators) so that every kind
has a known value; the source's own documents (s_tq -> a second file) say when the set is
loaded (a page is applied to the set before its messages are posted) and give the mapper's
values that the enrichment must repeat.
"""

import json
import subprocess
import time

import pytest

import syslogng
from conftest import COLLECTION
from threatq_emulator import ThreatQEmulator, fmt_time

SECOND_COLLECTION = "second-coll"

FIELDS = ["${log.src}", "${log.dst}", "${log.url}", "${log.host}", "${log.mail}", "${log.hash}",
          "$(lowercase ${log.caps})"]

MD5 = "0cc175b9c0f1b6a831c399e269772661"
SHA1 = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
SHA256 = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
SHA384 = ("54a59b9f22b0b80880d8427e548b7c23abd873486e1f035dce9cd697e85175033caa88e6d57bc35e"
          "fae0b5afd3145f31")
SHA512 = ("1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f5302860c652bf08d56"
          "0252aa5e74210546f369fbbbce8c12cfc7957b2652fe9a75")
OTHER_SHA256 = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"


# updated an hour ago: the mapper's threatq.ioc_expired_at (updated_at + 90 days) is ahead
UPDATED = int(time.time()) - 3600


def _time(minute):
    return fmt_time(UPDATED + 60 * minute)


def indicator(ind_id, tname, value, score=5, status="Active", description=None,
              source=("CrowdStrike Falcon Intelligence", "AMBER"), minute=0):
    ind = {
        "id": ind_id, "class": "network", "value": value, "score": score,
        "hash": "%032x" % ind_id, "type_id": 99, "type": {"id": 99, "name": tname},
        "status_id": 1, "status": {"id": 1, "name": status},
        "created_at": "2023-06-07 08:09:10", "published_at": "2023-06-07 08:09:10",
        "updated_at": _time(minute), "touched_at": "2024-04-05 06:07:08", "adversaries": [],
        "sources": [{"id": ind_id, "name": source[0], "tlp_name": source[1]}],
        "attributes": [],
    }
    if description is not None:
        ind["description"] = description
    return ind


# id -> indicator; each case below names the id it must hit
INDICATORS = [
    indicator(1001, "IP Address", "198.51.100.7", score=8, description="C2 server"),
    indicator(1002, "IPv6 Address", "2001:db8::7", score=6),
    indicator(1003, "CIDR Block", "203.0.113.0/24", score=4),
    indicator(1004, "CIDR Block", "203.0.0.0/16", score=3),
    indicator(1005, "FQDN", "evil.example.com", score=7),
    indicator(1006, "URL", "http://bad.example.org/path?q=1", score=7),
    indicator(1007, "Email Address", "phish@example.net", score=6),
    indicator(1008, "MD5", MD5, score=9, source=("Abuse.ch MalwareBazaar", "CLEAR")),
    indicator(1009, "SHA-1", SHA1, score=5),
    indicator(1010, "SHA-256", SHA256.upper(), score=5),
    indicator(1011, "SHA-384", SHA384, score=5),
    indicator(1012, "SHA-512", SHA512, score=5),
    # not Active: not in the set
    indicator(1013, "SHA-256", OTHER_SHA256, score=10, status="Review"),
]

# (name, log members, id of the best hit or None, the field it hits, the ECS value field and value)
CASES = [
    ("ipv4-hit", {"src": "198.51.100.7"}, 1001, "${log.src}", ("ip", "198.51.100.7")),
    ("ipv4-miss", {"src": "198.51.100.8"}, None, None, None),
    ("ipv6-hit", {"dst": "2001:DB8:0:0::7"}, 1002, "${log.dst}", ("ip", "2001:db8::7")),
    ("ipv6-miss", {"dst": "2001:db8::8"}, None, None, None),
    # longest prefix: the /24 over the /16
    ("cidr-longest", {"dst": "203.0.113.9"}, 1003, "${log.dst}", None),
    ("cidr-shorter", {"dst": "203.0.7.1"}, 1004, "${log.dst}", None),
    ("cidr-miss", {"dst": "203.1.0.1"}, None, None, None),
    ("fqdn-hit", {"host": "EVIL.Example.com."}, 1005, "${log.host}",
     ("url.domain", "evil.example.com")),
    ("fqdn-parent-off", {"host": "www.evil.example.com"}, None, None, None),
    ("fqdn-miss", {"host": "good.example.com"}, None, None, None),
    ("url-hit", {"url": "HTTP://Bad.Example.ORG:80/path?q=1#top"}, 1006, "${log.url}",
     ("url.full", "http://bad.example.org/path?q=1")),
    ("url-miss", {"url": "http://bad.example.org/path?q=2"}, None, None, None),
    ("email-hit", {"mail": "Phish@Example.NET"}, 1007, "${log.mail}",
     ("email.address", "phish@example.net")),
    ("email-miss", {"mail": "other@example.net"}, None, None, None),
    ("md5-hit", {"hash": MD5.upper()}, 1008, "${log.hash}", ("file.hash.md5", MD5)),
    ("md5-miss", {"hash": "0" * 32}, None, None, None),
    ("sha1-hit", {"hash": SHA1.upper()}, 1009, "${log.hash}", ("file.hash.sha1", SHA1)),
    ("sha1-miss", {"hash": "1" * 40}, None, None, None),
    ("sha256-hit", {"hash": SHA256}, 1010, "${log.hash}", ("file.hash.sha256", SHA256)),
    ("sha256-not-active", {"hash": OTHER_SHA256}, None, None, None),
    ("sha384-hit", {"hash": SHA384.upper()}, 1011, "${log.hash}", ("file.hash.sha384", SHA384)),
    ("sha384-miss", {"hash": "2" * 96}, None, None, None),
    ("sha512-hit", {"hash": SHA512}, 1012, "${log.hash}", ("file.hash.sha512", SHA512)),
    ("sha512-miss", {"hash": "3" * 128}, None, None, None),
    ("no-shape", {"src": "not a value", "url": "bad.example.org/path?q=1"}, None, None, None),
    # two hits in one line: the best (score 9, the MD5) first
    ("two-hits", {"src": "198.51.100.7", "hash": MD5}, 1008, "${log.hash}",
     ("file.hash.md5", MD5)),
]


# lines beside CASES: a field that is a template, not one value (it is formatted, not read in place)
FORMATTED = ("formatted-field-hit", {"caps": "EVIL.EXAMPLE.COM"}, 1005)


def out_template():
    return ('$(format-json --key log.* --key threat.* --key threatq.* --pair tags=$TAGS '
            '--pair msg=$MESSAGE)\\n')


def parser_text(name, source, tag=None, parent_domains=None, hits_field=None):
    opts = ['source(%s)' % source, 'fields(%s)' % " ".join(json.dumps(f) for f in FIELDS)]
    if tag is not None:
        opts.append('tag("%s")' % tag)
    if parent_domains is not None:
        opts.append('parent-domains(%s)' % ("yes" if parent_domains else "no"))
    if hits_field is not None:
        opts.append('hits-field("%s")' % hits_field)
    return "parser %s { threatq-match(%s); };" % (name, " ".join(opts))


def config(emu, workdir, parsers, sources=(("s_tq", COLLECTION),), routes=None):
    """sources: (name, collection) of threatq() sources, each written to <name>.ndjson;
    parsers: parser statements; routes: the log statement of the log lines."""
    # stats level 1: 4.x counts what each parser passes (test_parser_counts_what_it_passes)
    text = [syslogng.VERSION_LINE,
            "options { stats-freq(0); time-reopen(1); %s };"
            % ("stats(level(1));" if syslogng.VERSION >= (4, 0) else "stats-level(1);")]
    for name, collection in sources:
        text.append("source %s { %s; };" % (name, syslogng.threatq_source(
            **syslogng.base_source_opts(emu, collection))))
        text.append('log { source(%s); destination { file("%s" template("$MESSAGE\\n")); }; };'
                    % (name, workdir / ("%s.ndjson" % name)))
    text.append('source s_in { file("%s" follow-freq(0.1) flags(no-parse)); };'
                % (workdir / "in.log"))
    text.extend(parsers)
    text.append('destination d_all { file("%s" template("%s")); };' % (workdir / "all.ndjson",
                                                                       out_template()))
    text.append('destination d_hits { file("%s" template("%s")); };' % (workdir / "hits.ndjson",
                                                                        out_template()))
    text.append(routes or """log { source(s_in); parser { json-parser(prefix("log.")); };
      parser(p_tq); destination(d_all);
      log { filter { tags("threatq_match"); }; destination(d_hits); };
    };""")
    return "\n".join(text) + "\n"


def wait_loaded(syslog_ng, workdir, source, count):
    """The source wrote count documents: the set holds what they carry."""
    return syslog_ng.wait_for(lambda: len(syslogng.read_lines(workdir / ("%s.ndjson" % source)))
                              >= count, timeout=60, message="%d documents of %s" % (count, source))


def send(syslog_ng, workdir, lines, out="all.ndjson"):
    """Appends the log lines and returns the output documents, one per line, in order."""
    path = workdir / "in.log"
    before = len(syslogng.read_lines(workdir / out))
    with open(path, "a") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(workdir / out)) >= before + len(lines),
                       timeout=60, message="%d output lines" % len(lines))
    return syslogng.read_json_lines(workdir / out)[before:]


def as_list(value):
    """A list value: a JSON array on 4.x, syslog-ng's comma-separated list text on 3.38."""
    if isinstance(value, list):
        return value
    return [item.strip('"') for item in value.split(",")] if value else []


def as_json(value):
    """The hits-field: JSON on 4.x (typed), a string holding it on 3.38."""
    return value if isinstance(value, (list, dict)) else json.loads(value)


def documents_by_id(workdir, source="s_tq"):
    return {int(syslogng.dig(d, "threatq.id")): d
            for d in syslogng.read_json_lines(workdir / ("%s.ndjson" % source))}


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    """One syslog-ng, every case sent once: {case name: output document} plus the source's
    documents and the routed hits."""
    ok, why = syslogng.module_available()
    if not ok:
        pytest.fail("threatq module not available: " + why, pytrace=False)
    workdir = tmp_path_factory.mktemp("match")
    emu = ThreatQEmulator(client_id="id", client_secret="secret", seed=3)
    emu.add_collection(COLLECTION)
    emu.add_raw_indicators(INDICATORS, collection=COLLECTION)
    emu.start()
    s = syslogng.SyslogNg(workdir / "sng")
    try:
        s.start(config(emu, workdir, [parser_text("p_tq", "s_tq")]))
        wait_loaded(s, workdir, "s_tq", len(INDICATORS))
        lines = [dict(members, case=name) for name, members, *_ in CASES + [FORMATTED]]
        docs = send(s, workdir, lines)
        s.wait_for(lambda: len(syslogng.read_lines(workdir / "hits.ndjson"))
                   >= sum(1 for c in CASES + [FORMATTED] if c[2] is not None), timeout=30,
                   message="routed hits")
        result = {
            "docs": {syslogng.dig(d, "log.case"): d for d in docs},
            "sent": {line["case"]: line for line in lines},
            "source": documents_by_id(workdir),
            "hits": syslogng.read_json_lines(workdir / "hits.ndjson"),
            "parser_stats": [r for r in s.stats() if r.get("SourceName") == "parser"],
            "exit": s.stop(),
        }
    except Exception:
        print(s.output_tail(200))
        raise
    finally:
        s.cleanup()
        emu.stop()
    return result


def tags(doc):
    """The message's tags but syslog-ng's own .source.<name>."""
    return {t for t in as_list(doc["tags"]) if t and not t.startswith(".source.")}


def enrichment(doc):
    return syslogng.dig(doc, "threat.enrichments", default=None)


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is not None], ids=lambda c: c[0])
def test_hit_enriches_with_best_indicator(matched, case):
    name, members, ind_id, field, value_field = case
    doc = matched["docs"][name]
    source_doc = matched["source"][ind_id]
    e = enrichment(doc)
    assert e is not None, doc
    assert int(e["indicator"]["id"]) == ind_id
    # the log's own value as it was, the template as written
    sent_value = members[field[len("${log."):-1]]
    assert e["matched"] == {"atomic": sent_value, "field": field, "type": "indicator_match_rule"}
    ind = e["indicator"]
    # what the source's own document says of that indicator, repeated
    for key in ("type", "confidence", "first_seen", "last_seen"):
        assert ind[key] == syslogng.dig(source_doc, "threat.indicator." + key), key
    assert as_list(ind["provider"]) == as_list(syslogng.dig(source_doc, "threat.indicator.provider"))
    assert as_list(ind["marking"]["tlp"]) == as_list(
        syslogng.dig(source_doc, "threat.indicator.marking.tlp"))
    if value_field:
        assert syslogng.dig(ind, value_field[0]) == value_field[1]
    assert tags(doc) == {"threatq_match"}


def test_formatted_field(matched):
    """A field that is a template: matched.atomic is what the template gave, not the log's value."""
    name, members, ind_id = FORMATTED
    e = enrichment(matched["docs"][name])
    assert e is not None, matched["docs"][name]
    assert int(e["indicator"]["id"]) == ind_id
    assert e["matched"] == {"atomic": members["caps"].lower(), "field": "$(lowercase ${log.caps})",
                            "type": "indicator_match_rule"}


def test_enrichment_values(matched):
    """The values themselves, once, not only their agreement with the mapper."""
    ind = enrichment(matched["docs"]["ipv4-hit"])["indicator"]
    assert ind["type"] == "ipv4-addr"
    assert ind["ip"] == "198.51.100.7"
    assert ind["confidence"] == "High"               # score 8
    assert ind["description"] == "C2 server"
    assert ind["first_seen"] == "2023-06-07T08:09:10.000Z"
    assert ind["last_seen"] == "2024-04-05T06:07:08.000Z"
    assert as_list(ind["provider"]) == ["CrowdStrike Falcon Intelligence"]
    assert as_list(ind["marking"]["tlp"]) == ["AMBER"]
    cidr = enrichment(matched["docs"]["cidr-longest"])["indicator"]
    assert cidr["type"] == "ipv4-addr" and "ip" not in cidr     # no ECS field holds a block
    md5 = enrichment(matched["docs"]["md5-hit"])["indicator"]
    assert md5["type"] == "file" and as_list(md5["marking"]["tlp"]) == ["CLEAR"]
    if syslogng.TYPED_VALUES:
        assert isinstance(ind["id"], int)


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is None], ids=lambda c: c[0])
def test_miss_leaves_line_untouched(matched, case):
    name = case[0]
    doc = matched["docs"][name]
    assert "threat" not in doc and "threatq" not in doc, doc
    assert tags(doc) == set()
    assert json.loads(doc["msg"]) == matched["sent"][name]
    assert doc["log"] == {k: v for k, v in matched["sent"][name].items()}


def test_hits_array_best_first(matched):
    doc = matched["docs"]["two-hits"]
    hits = as_json(syslogng.dig(doc, "threatq.match.hits"))
    assert [h["indicator"]["id"] for h in hits] == [1008, 1001]
    assert [h["matched"]["field"] for h in hits] == ["${log.hash}", "${log.src}"]
    assert hits[0]["matched"]["atomic"] == MD5
    assert hits[1]["indicator"]["ip"] == "198.51.100.7"
    assert hits[1]["indicator"]["description"] == "C2 server"
    assert hits[0]["indicator"]["file"]["hash"]["md5"] == MD5
    # the single fields are the best hit's
    assert int(enrichment(doc)["indicator"]["id"]) == 1008
    one = as_json(syslogng.dig(matched["docs"]["url-hit"], "threatq.match.hits"))
    assert len(one) == 1 and one[0]["indicator"]["url"]["full"] == "http://bad.example.org/path?q=1"


def test_filter_on_tag_routes_hits(matched):
    routed = sorted(syslogng.dig(d, "log.case") for d in matched["hits"])
    assert routed == sorted(c[0] for c in CASES + [FORMATTED] if c[2] is not None)


def test_parser_counts_what_it_passes(matched):
    """The parser passes messages on by its own queue (not LogParser's): on 4.x it still counts
    each as LogParser does (parsed_events_total, result processed); 3.38's parsers count none."""
    processed = [r for r in matched["parser_stats"]
                 if r.get("SourceId", "").startswith("p_tq") and r.get("Type") == "processed"]
    if syslogng.VERSION >= (4, 0):
        assert [r["Number"] for r in processed] == [len(CASES) + 1], matched["parser_stats"]
    else:
        assert processed == [], matched["parser_stats"]


def test_clean_exit(matched):
    assert matched["exit"] == 0


# ---------------------------------------------------------------------------
# configurations of their own

def _start(emulator_factory, syslog_ng, indicators, parsers, **kwargs):
    emu = emulator_factory()
    emu.add_raw_indicators(indicators, collection=COLLECTION)
    workdir = syslog_ng.dir
    syslog_ng.start(config(emu, workdir, parsers, **kwargs))
    return emu, workdir


def test_parent_domains(emulator_factory, syslog_ng):
    _, workdir = _start(emulator_factory, syslog_ng, INDICATORS,
                        [parser_text("p_tq", "s_tq", parent_domains=True, tag="parent",
                                     hits_field="log.my_hits")],
                        routes="""log { source(s_in); parser { json-parser(prefix("log.")); };
                                  parser(p_tq); destination(d_all); };""")
    wait_loaded(syslog_ng, workdir, "s_tq", len(INDICATORS))
    docs = send(syslog_ng, workdir, [{"host": "a.www.Evil.example.com"},
                                     {"host": "evil.example.com.other"},
                                     {"host": "example.com"}])
    e = enrichment(docs[0])
    assert int(e["indicator"]["id"]) == 1005
    assert e["matched"]["atomic"] == "a.www.Evil.example.com"
    assert e["indicator"]["url"]["domain"] == "evil.example.com"
    assert tags(docs[0]) == {"parent"}
    assert len(as_json(syslogng.dig(docs[0], "log.my_hits"))) == 1
    assert "threatq" not in docs[0]                      # hits-field() moved the array
    for doc in docs[1:]:                                 # a parent never hits its child
        assert "threat" not in doc and tags(doc) == set()
    assert syslog_ng.stop() == 0


def test_two_sources_separate_sets(emulator_factory, syslog_ng):
    emu = emulator_factory()
    emu.add_collection(SECOND_COLLECTION)
    emu.add_raw_indicators([indicator(2001, "IP Address", "192.0.2.1")], collection=COLLECTION)
    emu.add_raw_indicators([indicator(3001, "IP Address", "192.0.2.2")],
                           collection=SECOND_COLLECTION)
    workdir = syslog_ng.dir
    syslog_ng.start(config(
        emu, workdir,
        [parser_text("p_one", "s_one", tag="one"), parser_text("p_two", "s_two", tag="two")],
        sources=(("s_one", COLLECTION), ("s_two", SECOND_COLLECTION)),
        routes="""log { source(s_in); parser { json-parser(prefix("log.")); };
                  parser(p_one); parser(p_two); destination(d_all); };"""))
    wait_loaded(syslog_ng, workdir, "s_one", 1)
    wait_loaded(syslog_ng, workdir, "s_two", 1)
    docs = send(syslog_ng, workdir, [{"src": "192.0.2.1"}, {"src": "192.0.2.2"},
                                     {"src": "192.0.2.3"}])
    assert tags(docs[0]) == {"one"} and int(enrichment(docs[0])["indicator"]["id"]) == 2001
    assert tags(docs[1]) == {"two"} and int(enrichment(docs[1])["indicator"]["id"]) == 3001
    assert tags(docs[2]) == set() and "threat" not in docs[2]
    assert syslog_ng.stop() == 0


def test_parser_in_two_paths_and_after_reload(emulator_factory, syslog_ng):
    """A named parser used by two log paths (syslog-ng clones it) matches in both, and still
    matches after a reload (the new parser instances want the set the source hands over)."""
    routes = """log { source(s_in); parser { json-parser(prefix("log.")); };
                  parser(p_tq); destination(d_all); };
                log { source(s_in); parser { json-parser(prefix("log.")); };
                  parser(p_tq); destination(d_hits); };"""
    _, workdir = _start(emulator_factory, syslog_ng, INDICATORS, [parser_text("p_tq", "s_tq")],
                        routes=routes)
    wait_loaded(syslog_ng, workdir, "s_tq", len(INDICATORS))
    for round_ in ("before", "after"):
        first = send(syslog_ng, workdir, [{"hash": SHA1, "round": round_}])[0]
        second = syslog_ng.wait_for(
            lambda: [d for d in syslogng.read_json_lines(workdir / "hits.ndjson")
                     if syslogng.dig(d, "log.round", None) == round_],
            message="the line in the second path")[0]
        for doc in (first, second):
            assert int(enrichment(doc)["indicator"]["id"]) == 1009, (round_, doc)
        if round_ == "before":
            reloads = syslog_ng.output().count("Configuration reload finished")
            subprocess.run([syslogng.SYSLOG_NG_CTL, "reload", "-c", str(syslog_ng.ctl)],
                           check=True, stdout=subprocess.PIPE, timeout=30)
            syslog_ng.wait_for(lambda: syslog_ng.output().count("Configuration reload finished")
                               > reloads, message="the reload")
    assert syslog_ng.stop() == 0


@pytest.mark.parametrize("source_stmt, expected", [
    ("", "names no source of this configuration"),
    ('source s_tq { file("/dev/null"); };', "names a source without a threatq() driver"),
], ids=["unknown-source", "not-threatq"])
def test_source_must_be_threatq(syslog_ng, source_stmt, expected):
    conf = "\n".join([
        syslogng.VERSION_LINE, source_stmt,
        'source s_in { file("%s" follow-freq(0.1)); };' % (syslog_ng.dir / "in.log"),
        parser_text("p_tq", "s_tq"),
        'log { source(s_in); parser(p_tq); destination { file("/dev/null"); }; };', ""])
    with pytest.raises(syslogng.SyslogNgError):
        syslog_ng.start(conf)
    out = syslog_ng.output()
    assert expected in out and "threatq-match" in out and "s_tq" in out, out


@pytest.mark.parametrize("options, expected", [
    ('fields("${SOURCEIP}")', "source() option is mandatory"),
    ("source(s_tq)", "fields() option is mandatory"),
    ("source(s_tq) fields(%s)" % " ".join('"$F%d"' % i for i in range(33)), "at most 32 fields"),
    ('source(s_tq) fields("$(no-such-function x)")', "fields()"),
], ids=["no-source", "no-fields", "too-many-fields", "bad-template"])
def test_grammar_errors(syslog_ng, options, expected):
    conf = "\n".join([syslogng.VERSION_LINE, "parser p { threatq-match(%s); };" % options, ""])
    rc, out = syslog_ng.syntax_only(conf)
    assert rc != 0 and expected in out, out
