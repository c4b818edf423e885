# SPDX-License-Identifier: GPL-2.0-or-later
"""MESSAGE and the name-value pairs carry the same document (docs/fields.md).

The same messages are rendered both ways through a real syslog-ng and the emulator: `$MESSAGE`
(the compact ECS JSON) and the name-value pairs, as `$(format-json --scope nv-pairs)` and as a
typed `$(format-json --pair NAME=CAST(${NAME}) ...)`.  Every field of MESSAGE must have a
name-value pair with the same value (numbers equal as numbers, lists equal element by element,
strings equal), and no name-value pair under threat.* / threatq.* / event.* / related.* /
ecs.* / error.* / tags / @timestamp may be missing from MESSAGE.

syslog-ng 3.38 facts this relies on (checked against 3.38.1):
* format-json ignores the type hints of values, so numbers and lists need explicit casts:
  `int64(...)`, `list(...)` (a list cast gives a real JSON array).
* a cast of an empty value (a field that one message lacks) fails; with the global
  `on-error(fallback-to-string)` it becomes "" instead of emptying the whole template.
  Presence is therefore taken from the untyped `--scope nv-pairs` rendering.
* format-json's arguments cannot hold non-ASCII bytes ("Invalid byte sequence in conversion
  input" at config load), so lists whose names are not ASCII (attributes such as `größe`) are
  rendered with `$(list-count ...)` and `$(url-encode $(list-nth I ...))` instead and compared
  element by element.

The typed template is built from the field names and JSON types that a first run finds in
MESSAGE; the second run (same indicators, fresh persist file) writes the four renderings of
each message on one line, so they are certainly the same message.
"""

import json
import re
import urllib.parse

import pytest

import syslogng
from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION, require_module
from syslogng import base_source_opts, read_lines, threatq_source
from threatq_emulator import ThreatQEmulator

GENERATED = 60
TAGS = ["forwarded", "threatq-threat"]
PREFIXES = ("threat.", "threatq.", "event.", "related.", "ecs.", "error.")
EXACT = ("tags", "@timestamp")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.@/-]+$")
PAIRS_PER_CALL = 30  # a template function takes at most 64 arguments in 3.38


def in_scope(name):
    return name.startswith(PREFIXES) or name in EXACT


def flatten(doc, prefix=""):
    out = {}
    for k, v in doc.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


# ---------------------------------------------------------------------------
# indicators: the emulator's generated ones (every type it knows) plus hand-made ones for the
# rest of the indicator types of docs/fields.md and for values that stress the list format and JSON escaping

def _base(ind_id, tname, value, minute):
    t = "2023-02-01 10:%02d:00" % minute
    return {
        "id": ind_id, "class": "network", "value": value, "score": 5,
        "hash": "%032x" % ind_id, "type_id": 99, "type": {"id": 99, "name": tname},
        "status_id": 1, "status": {"id": 1, "name": "Active"},
        "created_at": "2023-01-01 00:00:00", "published_at": "2023-01-01 00:00:00",
        "updated_at": t, "touched_at": t, "adversaries": [],
        "sources": [{"id": 1, "name": "AlienVault OTX", "tlp_name": "GREEN"}],
        "attributes": [{"id": 1, "name": "Severity", "value": "High"}],
    }


def handmade():
    specs = [
        ("URL", "https://Example.COM:8443/a/b/file.tar.gz?q=1&r=a,b#frag"),
        ("URL", "http://203.0.113.7/x"),
        ("URL", "89.160.20.156:8080/maf.html"),          # no scheme, starts with a host: split
        ("URL", "linkprotect.cudasvc.com/url"),          # the same, a name
        ("URL", "[2001:db8::1]:8080"),                   # an IPv6 host and a port, no path
        ("URL", "localhost/x"),                          # not a host: url.full, url.original
        ("URL Path", "/wp-admin/x.php"),
        ("ASN", "AS13335"),
        ("ASN", "64512"),
        ("ASN", "ASxyz"),                                 # not a number: error.message
        ("CIDR Block", "198.51.100.0/24"),
        ("CIDR Block", "2001:db8::/32"),
        ("IP Address", "192.0.2.10"),
        ("IPv6 Address", "2001:db8::1"),
        ("FQDN", "bücher.example"),
        ("Email Address", "o'brien+x@example.org"),
        ("MD5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("SHA-384", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebf"
                    "e76f65fbd51ad2f14898b95b"),
        ("SHA-512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c"
                    "5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        ("Filename", "invoice, final \"v2\".pdf"),
        ("File Path", "C:\\Users\\Public\\evil.exe"),
        ("Mutex", "Global\\{mtx-1}"),
        ("Registry Key", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"),
        ("MAC Address", "00:11:22:33:44:55"),
        ("Username", "administrator"),
        ("x509 Serial", "0a:1b:2c:3d"),
        ("x509 Subject", "CN=evil.example, O=\"Bad, Inc.\", C=US"),
        ("User-agent", "Mozilla/5.0 (X11; Linux x86_64) \u00e9t\u00e9"),
        ("String", "something else"),                    # any other type
    ]
    out = []
    for n, (tname, value) in enumerate(specs):
        out.append(_base(900001 + n, tname, value, n))
    # list-format and escaping stress, repeated and non-ASCII attribute names
    ind = _base(900100, "IP Address", "198.51.100.77", 40)
    ind["description"] = "line one\nline two\t\"quoted\" back\\slash, comma 'single' \u2603"
    ind["score"] = "7"                                    # a numeric string
    ind["adversaries"] = [{"id": 1, "name": "APT28"}, {"id": 2, "name": "Fancy, Bear"},
                          {"id": 3, "name": "Ня \"quoted\""}]
    ind["sources"] = [
        {"id": 1, "name": "Source, One", "tlp_name": "tlp:amber+strict"},
        {"id": 2, "name": "Source \"Two\"", "tlp_name": "TLP:CLEAR"},
        {"id": 3, "name": "Source, One", "tlp_name": "bogus"},
        {"id": 4, "name": "Quelle Ü", "tlp_name": "red"},
    ]
    ind["attributes"] = [
        {"name": "Router Port", "value": "80"},
        {"name": "Router Port", "value": "443"},
        {"name": "Severity", "value": "High"},
        {"name": "Router Port", "value": "80"},           # repeated value kept
        {"name": "Größe", "value": "groß, sehr \"groß\""},
        {"name": "Ärger", "value": "eins"},
        {"name": "ÄRGER", "value": "zwei\\drei"},          # same name after lower-casing
        {"name": "Contact", "value": "a,b,c"},
        {"name": "Contact", "value": "'x' \"y\" \\z"},
        {"name": "Contact", "value": ""},                 # empty: left out
        {"name": "Contact", "value": None},               # null: left out
        {"name": "Numeric", "value": 9000},               # a JSON number: as a string
        {"name": "dotted.name here", "value": "d"},
        {"name": "slash/and-dash", "value": "s"},
        {"name": "Emoji", "value": "\U0001F600 ok"},
    ]
    out.append(ind)
    bad = _base(900101, "FQDN", "bad-dates.example", 41)
    bad["published_at"] = "yesterday"                     # error.message, field left out
    bad["score"] = "high"                                 # error.message, Not Specified
    bad["expires_at"] = "2023-03-01 00:00:00"
    out.append(bad)
    expired = _base(900102, "IP Address", "192.0.2.99", 42)
    expired["status"] = {"id": 2, "name": "Expired"}
    expired["expired_at"] = "2023-02-01 10:42:00"
    expired["expires_calculated_at"] = "2023-02-11 10:42:00"
    out.append(expired)
    # scores as real ThreatQ data has them: an object, a non-integer
    for n, score in enumerate([{"generated_score": "0.00", "manual_score": "7", "indicator_id": 3},
                               {"generated_score": "3.50", "manual_score": None},
                               {"manual_score": None},
                               7.5, "7.5", "8.00"]):
        ind = _base(900110 + n, "IP Address", "192.0.2.%d" % (110 + n), 43 + n)
        ind["score"] = score
        out.append(ind)
    return out


# the confidence and threatq.score each of those scores gives (contract §3)
SCORES = {900110: ("Medium", 7), 900111: ("Not Specified", 3.5), 900112: ("Not Specified", None),
          900113: ("Not Specified", 7.5), 900114: ("Not Specified", 7.5), 900115: ("High", 8)}


# ---------------------------------------------------------------------------
# rendering

def config(emu, out_file, template):
    opts = base_source_opts(emu, COLLECTION, preserve_original=True,
                            tags=syslogng.Raw(", ".join(json.dumps(t) for t in TAGS)))
    return syslogng.VERSION_LINE + """
options { stats-freq(0); time-reopen(1); on-error(fallback-to-string); };
source s_tq { %s; };
destination d_out { file("%s" template("%s\\n")); };
log { source(s_tq); destination(d_out); };
""" % (threatq_source(**opts), out_file, template.replace("\\", "\\\\").replace('"', '\\"'))


CASTS = {list: "list", int: "int64", float: "double", bool: "boolean"}


def typed_templates(fields):
    """fields: {name: (python type, max list length)} -> ([typed format-json templates],
    [(name, max list length)] that go through the list functions instead)."""
    pairs, by_function = [], []
    for name, (ptype, maxlen) in sorted(fields.items()):
        if not SAFE_NAME.match(name):
            assert ptype is list, "non-ASCII name %r that is not a list" % name
            by_function.append((name, maxlen))
            continue
        cast = CASTS.get(ptype)
        value = "${%s}" % name
        pairs.append("--pair %s=%s" % (name, "%s(%s)" % (cast, value) if cast else value))
    calls = ["$(format-json %s)" % " ".join(pairs[i:i + PAIRS_PER_CALL])
             for i in range(0, len(pairs), PAIRS_PER_CALL)]
    return calls, by_function


def list_columns(by_function):
    cols = []
    for name, maxlen in by_function:
        cols.append("$(list-count ${%s})" % name)
        cols.extend("$(url-encode $(list-nth %d ${%s}))" % (i, name) for i in range(maxlen))
    return cols


def run_syslog_ng(workdir, emu, template, count):
    sng = syslogng.SyslogNg(workdir)
    out = workdir / "out.txt"
    try:
        sng.start(config(emu, out, template))
        sng.wait_for(lambda: len(read_lines(out)) >= count, timeout=30,
                     message="%d messages" % count)
        sng.stop()
        return read_lines(out), sng.output()
    except BaseException:
        print(sng.output())
        raise
    finally:
        sng.cleanup()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    require_module()
    emu = ThreatQEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=11)
    emu.add_collection(COLLECTION)
    emu.add_indicators(GENERATED, collection=COLLECTION)
    extra = handmade()
    emu.add_raw_indicators(extra, collection=COLLECTION)
    emu.start()
    inputs = {i["id"]: i for i in emu.indicators(COLLECTION)}
    total = len(inputs)
    try:
        # run 1: what fields and JSON types does MESSAGE have?
        lines, _ = run_syslog_ng(tmp_path_factory.mktemp("nv1"), emu, "$MESSAGE", total)
        fields = {}
        for line in lines:
            for name, value in flatten(json.loads(line)).items():
                ptype, maxlen = fields.get(name, (type(value), 0))
                if {ptype, type(value)} == {int, float}:
                    ptype = float             # threatq.score: 7 in one MESSAGE, 7.5 in another
                assert ptype is type(value) or ptype is float and type(value) is int, \
                    "%s is %s in one MESSAGE, %s in another" % (
                        name, ptype.__name__, type(value).__name__)
                fields[name] = (ptype, max(maxlen, len(value) if ptype is list else 0))
        typed, by_function = typed_templates(fields)
        # run 2: MESSAGE, untyped nv-pairs, typed nv-pairs, list-function columns
        template = "\t".join(["$MESSAGE", "$(format-json --scope nv-pairs)"] + typed
                             + list_columns(by_function))
        lines, log = run_syslog_ng(tmp_path_factory.mktemp("nv2"), emu, template, total)
    finally:
        emu.stop()
    messages = []
    for line in lines:
        cols = line.split("\t")
        message, untyped = json.loads(cols[0]), json.loads(cols[1])
        typed_doc = {}
        for c in cols[2:2 + len(typed)]:
            typed_doc.update(flatten(json.loads(c)))
        by_list = {}
        rest = cols[2 + len(typed):]
        for name, maxlen in by_function:
            n, elems, rest = int(rest[0]), rest[1:1 + maxlen], rest[1 + maxlen:]
            if n:
                by_list[name] = [urllib.parse.unquote(e) for e in elems[:n]]
        assert not rest
        messages.append({"message": flatten(message), "untyped": flatten(untyped),
                         "typed": flatten(typed_doc), "by_list": by_list})
    return {"inputs": inputs, "handmade": {i["id"] for i in extra}, "messages": messages,
            "fields": fields, "by_function": by_function, "log": log}


def _id(m):
    return m["message"].get("threatq.id")


def test_one_message_per_indicator(rendered):
    assert sorted(_id(m) for m in rendered["messages"]) == sorted(rendered["inputs"])


def _same(got, value):
    """Equal, and of the same JSON type; an integer and a float are both JSON numbers."""
    numbers = (int, float)
    if type(value) in numbers and type(got) in numbers:
        return got == value
    return type(got) is type(value) and got == value


def test_every_message_field_has_an_equal_name_value_pair(rendered):
    problems = []
    for m in rendered["messages"]:
        for name, value in m["message"].items():
            if name in m["by_list"] or not SAFE_NAME.match(name):
                got = m["by_list"].get(name, "<no name-value pair>")
            else:
                got = m["typed"].get(name, "<not rendered>")
                if got == "" and value != "":
                    got = "<empty name-value pair>"
            if not _same(got, value):
                problems.append("id %s %s: MESSAGE %r, name-value pair %r"
                                % (_id(m), name, value, got))
    assert not problems, "\n".join(problems[:40])


def test_no_name_value_pair_is_missing_from_message(rendered):
    problems = []
    for m in rendered["messages"]:
        nv = {k for k in m["untyped"] if in_scope(k)}
        msg = set(m["message"])
        for k in sorted(nv - msg):
            problems.append("id %s: name-value pair %s = %r is not in MESSAGE"
                            % (_id(m), k, m["untyped"][k]))
        for k in sorted(msg - nv):
            problems.append("id %s: MESSAGE field %s has no name-value pair" % (_id(m), k))
    assert not problems, "\n".join(problems[:40])


def test_message_fields_are_all_in_scope(rendered):
    """MESSAGE holds only the ECS/threatq fields (nothing like HOST or SOURCE)."""
    for m in rendered["messages"]:
        assert all(in_scope(k) for k in m["message"]), sorted(m["message"])


def test_untyped_pairs_are_the_text_of_the_values(rendered):
    """Strings are the same text, numbers their decimal text (what any template sees);
    on syslog-ng 4.x format-json keeps the types, so numbers stay numbers."""
    problems = []
    for m in rendered["messages"]:
        for name, value in m["message"].items():
            if isinstance(value, list):
                continue
            want = value if syslogng.TYPED_VALUES else str(value)
            if m["untyped"].get(name) != want:
                problems.append("id %s %s: MESSAGE %r, ${%s} %r"
                                % (_id(m), name, value, name, m["untyped"].get(name)))
    assert not problems, "\n".join(problems[:40])


def test_the_variety_was_there(rendered):
    """The comparison above covered every kind of field docs/fields.md lists."""
    fields = rendered["fields"]
    for name, ptype in [("threatq.id", int), ("threatq.score", float),
                        ("threat.indicator.as.number", int),
                        ("threat.indicator.url.port", int), ("tags", list),
                        ("related.ip", list), ("related.hash", list), ("error.message", list),
                        ("threatq.adversaries", list), ("threat.indicator.provider", list),
                        ("threat.indicator.marking.tlp", list), ("event.original", str),
                        ("threat.indicator.url.full", str),
                        ("threat.indicator.x509.subject.distinguished_name", str),
                        ("threat.indicator.registry.key", str),
                        ("threat.indicator.file.hash.sha384", str),
                        ("threat.indicator.file.hash.sha512", str),
                        ("threat.indicator.file.path", str), ("threatq.attributes.größe", list),
                        ("threatq.attributes.ärger", list),
                        ("threatq.attributes.router_port", list)]:
        assert name in fields and fields[name][0] is ptype, (name, fields.get(name))
    assert any(n for n, _ in rendered["by_function"]), "no non-ASCII list field"
    types = {m["message"].get("threat.indicator.type") for m in rendered["messages"]}
    assert types >= {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file",
                     "mutex", "windows-registry-key", "autonomous-system", "mac-addr",
                     "user-account", "x509-certificate", "software"}, types


def test_stress_indicator_lists(rendered):
    """The hand-made indicator whose list elements hold commas, quotes, backslashes and
    non-ASCII: the values themselves (not only MESSAGE == name-value pairs)."""
    m = next(m for m in rendered["messages"] if _id(m) == 900100)
    msg = m["message"]
    assert msg["tags"] == ["preserve_original_event"] + TAGS
    assert msg["threatq.attributes.router_port"] == ["80", "443", "80"]
    assert msg["threatq.attributes.contact"] == ["a,b,c", "'x' \"y\" \\z"]
    assert msg["threatq.attributes.ärger"] == ["eins", "zwei\\drei"]
    assert msg["threatq.attributes.größe"] == ["groß, sehr \"groß\""]
    assert msg["threatq.attributes.numeric"] == ["9000"]
    assert msg["threatq.attributes.dotted_name_here"] == ["d"]
    assert msg["threatq.attributes.slash/and-dash"] == ["s"]
    assert msg["threatq.adversaries"] == ["APT28", "Fancy, Bear", "Ня \"quoted\""]
    assert msg["threat.indicator.provider"] == ["Source, One", "Source \"Two\"", "Quelle Ü"]
    assert msg["threat.indicator.marking.tlp"] == ["AMBER+STRICT", "CLEAR", "RED"]
    assert msg["threatq.score"] == 7 and msg["threat.indicator.confidence"] == "Medium"
    assert msg["threat.indicator.description"] == rendered["inputs"][900100]["description"]
    for name in ("threatq.attributes.ärger", "threatq.attributes.größe"):
        assert m["by_list"][name] == msg[name]
    for name in ("threatq.attributes.contact", "threatq.adversaries",
                 "threat.indicator.provider"):
        assert m["typed"][name] == msg[name]


def test_scores_of_real_data(rendered):
    """A score object counts as its manual_score, else its generated_score; a non-integer is
    kept as a number (MESSAGE and the name-value pair alike), with confidence Not Specified."""
    for ind_id, (confidence, score) in SCORES.items():
        m = next(m for m in rendered["messages"] if _id(m) == ind_id)
        msg = m["message"]
        assert msg["threat.indicator.confidence"] == confidence, (ind_id, msg)
        if score is None:
            assert "threatq.score" not in msg and "threatq.score" not in m["untyped"]
            assert any("threatq.score" in e for e in msg["error.message"]), msg
            continue
        assert msg["threatq.score"] == score and type(msg["threatq.score"]) is type(score), msg
        assert "error.message" not in msg, msg
        # "7.5", "7": the JSON text; syslog-ng 4.x keeps the number
        assert m["untyped"]["threatq.score"] == (score if syslogng.TYPED_VALUES else str(score))
        assert m["typed"]["threatq.score"] == score


def test_schemeless_urls(rendered):
    """A URL value without a scheme that starts with a host is split; one that does not is
    not; url.full and url.original keep the value as given either way."""
    want = {
        "89.160.20.156:8080/maf.html": {"threat.indicator.url.domain": "89.160.20.156",
                                        "threat.indicator.url.port": 8080,
                                        "threat.indicator.url.path": "/maf.html",
                                        "threat.indicator.url.extension": "html"},
        "linkprotect.cudasvc.com/url": {"threat.indicator.url.domain": "linkprotect.cudasvc.com",
                                        "threat.indicator.url.path": "/url"},
        "[2001:db8::1]:8080": {"threat.indicator.url.domain": "[2001:db8::1]",
                               "threat.indicator.url.port": 8080},
        "localhost/x": {},
    }
    for value, parts in want.items():
        m = next(m for m in rendered["messages"]
                 if m["message"].get("threatq.indicator_value") == value)
        url = {k: v for k, v in m["message"].items() if k.startswith("threat.indicator.url.")}
        assert url == dict(parts, **{"threat.indicator.url.full": value,
                                     "threat.indicator.url.original": value}), url


def test_no_casting_errors_logged(rendered):
    """fallback-to-string only ever applied to fields a message did not have (those are
    skipped above); a cast that failed on a present value would show up as a mismatch."""
    assert "Error compiling template" not in rendered["log"]
