#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regenerate the seed corpus of tests/fuzz (page bodies for fuzz_page).

Realistic pages come from the emulator's IndicatorFactory (deterministic seeds);
the edge cases are written out by hand.  Files are named after what they hold;
run.sh never writes into this directory (new inputs go to a scratch copy).
Crash reproducers found later are kept here too, as crash-*: do not delete them.

    python3 tests/fuzz/make_corpus.py
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "emulator"))
from threatq_emulator import IndicatorFactory, TYPE_ORDER, encode_cursor  # noqa: E402

CORPUS = HERE / "corpus"
T0 = 1649669255  # 2022-04-11


def page(items, total=None, cursor="auto", **extra):
    body = {"total": len(items) if total is None else total, "data": items}
    if cursor == "auto":
        cursor = encode_cursor(items[-1]["updated_at"], items[-1]["id"]) if items else "*"
    if cursor is not None:
        body["nextCursorMark"] = cursor
    body.update(extra)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def hostile():
    """Small reproducers of the hostile-page cases (issue 10; docs/limits.md).
    The full-size cases are built by tests/functional/test_hostile_pages.py.
    fuzz_page.c checks every MESSAGE with yajl_tree, whose objects grow one key
    at a time: 1,000 attribute names take under a second with the sanitizers."""
    out = {}
    wrap = b'{"total":1,"data":[%s],"nextCursorMark":"c"}'
    worst = b",".join(b'{"name":"n%05d","value":"x"}' % (1000 - i) for i in range(1000))
    out["hostile-attribute-names-worst-order.json"] = wrap % (b'{"value":"v","attributes":[' + worst + b"]}")
    sources = b",".join(b'{"name":"s%05d","tlp_name":"RED"}' % (2500 - i) for i in range(2500))
    out["hostile-sources-worst-order.json"] = wrap % (b'{"value":"v","sources":[' + sources + b"]}")
    out["hostile-long-value.json"] = wrap % (b'{"value":"' + b"\xc3\xa9" * 40000 + b'"}')
    out["hostile-invalid-bytes-url.json"] = wrap % (
        b'{"type":{"name":"URL"},"value":"' + b"\xff" * 90000 + b'"}')
    out["hostile-deep-nesting.json"] = wrap % (b'{"value":"v","x":' + b"[" * 40000 + b"]" * 40000 + b"}")
    out["hostile-int64-overflow.json"] = wrap % (
        b'{"id":18446744073709551616,"score":-9223372036854775809,"type":{"name":"ASN"},'
        b'"value":"AS18446744073709551617","total":99999999999999999999}')
    names = b",".join(b'{"name":"%s%d","value":"v"}' % (b"N" * 300, i) for i in range(3)) \
        + b',{"name":"tab\\there","value":"v"}'
    out["hostile-attribute-names-unusable.json"] = wrap % (b'{"value":"v","attributes":[' + names + b"]}")
    out["hostile-many-empty-indicators.json"] = wrap % b",".join([b"{}"] * 1001)
    return out


def main():
    CORPUS.mkdir(exist_ok=True)
    out = {}
    f = IndicatorFactory(seed=1)
    # one indicator of every type the emulator knows, two pages
    every = [f.make(T0 + i, tname=t) for i, t in enumerate(TYPE_ORDER)]
    half = len(every) // 2
    out["page-types-1.json"] = page(every[:half], total=len(every), limit=half)
    out["page-types-2.json"] = page(every[half:], total=len(every), limit=half)
    g = IndicatorFactory(seed=7)
    out["page-random-3.json"] = json.dumps(
        {"total": 3, "data": [g.make(T0 + 60 * i) for i in range(3)],
         "nextCursorMark": "AoJ4", "limit": 3}, indent=2).encode()   # pretty-printed
    out["page-fields-subset.json"] = page([
        {"id": 1, "value": "198.51.100.7", "type": {"name": "IP Address"},
         "updated_at": "2022-04-11 09:27:35"},
        {"id": 2, "value": "evil.example", "type": {"name": "FQDN"}}], cursor="AoJ4")
    out["page-empty.json"] = b'{"total":0,"data":[],"nextCursorMark":"*","limit":1000}'
    out["page-data-object.json"] = b'{"total":0,"data":{},"nextCursorMark":"AoJ4MTY0OTY2OTI1NQ=="}'
    out["page-data-null.json"] = b'{"data":null,"total":null,"nextCursorMark":null}'
    out["page-malformed-items.json"] = (
        b'{"data":[1,"s",null,[{"value":"inner"}],{"value":"kept"},true,-2.5,[]],'
        b'"total":"12","meta":{"data":"x","nextCursorMark":"no"}}')
    out["page-unicode.json"] = (
        b'{"data":[{"id":3,"value":"\\ud83d\\ude00 caf\\u00e9 \\u0000 \\"q\\" \\\\ \xc3\xa9\xe2\x82\xac",'
        b'"type":{"name":"URL"},"description":"<p>a\\nb\\tc\\u001f</p>",'
        b'"attributes":[{"name":"\\u00c9t\\u00e9","value":"\\ud800"}]}]}')
    out["page-dates.json"] = (
        b'{"data":[{"id":4,"value":"a","updated_at":"2022-13-45 25:61:61"},'
        b'{"id":5,"value":"b","updated_at":"","created_at":0,"expires_at":"9999-12-31 23:59:59"},'
        b'{"id":6,"value":"c","updated_at":"1970-01-01 00:00:00","touched_at":"2022-04-11T09:27:35Z",'
        b'"expired_at":"0000-00-00 00:00:00","published_at":"2022-02-29 00:00:00"}]}')
    out["page-numbers.json"] = (
        b'{"total":18446744073709551616,"data":[{"id":-9223372036854775808,"value":"n",'
        b'"score":"10","type":{"name":"SHA-256"}},{"id":1e308,"value":"m","score":-1.5e-7},'
        b'{"id":9223372036854775807,"value":"o","score":99999999999999999999}]}')
    out["page-wrong-shapes.json"] = (
        b'{"data":[{"id":{},"value":[],"type":"IP Address","status":"Active",'
        b'"attributes":{"name":"x"},"sources":"s","adversaries":[1,null,{"name":null}],'
        b'"tags":[{"name":"t"},"u"],"score":{"a":1}},{"value":null,"type":{"name":null}}]}')
    out["page-tlp.json"] = (
        b'{"data":[{"id":8,"value":"8.8.8.8","type":{"name":"IP Address"},'
        b'"sources":[{"name":"a","tlp_name":"RED"},{"name":"b","tlp_name":"WHITE"},'
        b'{"name":"c","tlp_name":"AMBER"},{"name":"d","tlp_name":"bogus"}],'
        b'"status":{"name":"Expired"},"expired_at":"2022-04-11 09:27:35"}]}')
    out["page-nested.json"] = b'{"data":[' + b'[' * 64 + b']' * 64 + b',{"value":"deep",' \
        b'"x":' + b'{"a":' * 64 + b'1' + b'}' * 64 + b'}]}'
    out["page-duplicate-keys.json"] = (
        b'{"data":[{"id":9,"value":"a","value":"b","type":{"name":"FQDN"},"type":{"name":"URL"},'
        b'"attributes":[{"name":"Severity","value":"High"},{"name":"Severity","value":"High"}]}],'
        b'"data":[{"value":"second"}],"nextCursorMark":"a","nextCursorMark":"b"}')
    out["page-real-data-shapes.json"] = (
        b'{"data":[{"id":10,"value":"linkprotect.cudasvc.com/url","type":{"name":"URL"},'
        b'"score":{"generated_score":"0.00","manual_score":"7","indicator_id":10}},'
        b'{"id":11,"value":"[2001:db8::1]:8080","type":{"name":"URL"},"score":"7.5"},'
        b'{"id":12,"value":"a.b:65535?q#f","type":{"name":"URL"},'
        b'"score":{"manual_score":{"x":[1]},"generated_score":-0.50}},'
        b'{"id":13,"value":"1.2.3.4:0/x.y","type":{"name":"URL"},"score":"+007.250"}]}')
    out["page-truncated.json"] = page(every[:2])[:700]
    out["page-trailing-garbage.json"] = b'{"data":[{}]} trailing'
    out["page-html.json"] = b'<html><body>502 Bad Gateway</body></html>'
    out["page-bad-utf8.json"] = b'{"data":[{"value":"\xc3\x28 \xed\xa0\x80 \xff"}]}'
    out.update(hostile())
    for name, body in out.items():
        (CORPUS / name).write_bytes(body)
    print("wrote %d seeds to %s" % (len(out), CORPUS))


if __name__ == "__main__":
    main()
