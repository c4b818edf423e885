# SPDX-License-Identifier: GPL-2.0-or-later
"""Self-tests of the ThreatQ emulator (no syslog-ng involved)."""

import base64
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION
from threatq_emulator import DEFAULT_FIELDS, ThreatQEmulator, decode_cursor

HERE = Path(__file__).resolve().parent


def http(method, url, headers=None, body=None, timeout=10):
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=body.encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def basic(cid=CLIENT_ID, sec=CLIENT_SECRET):
    return "Basic " + base64.b64encode(("%s:%s" % (cid, sec)).encode()).decode()


def get_token(emu):
    st, _, body = http("POST", emu.url + "/api/token",
                       {"Content-Type": "application/x-www-form-urlencoded",
                        "Authorization": basic()}, "grant_type=client_credentials")
    assert st == 200, body
    return json.loads(body)


def page(emu, token, cursor="*", limit=1000, fields=DEFAULT_FIELDS, collection=COLLECTION,
         auth_scheme="Bearer", accept="application/json"):
    q = {"cursorMark": cursor, "limit": limit, "sort": "updated_at"}
    if fields is not None:
        q["fields"] = fields
    url = "%s/api/indicators/query/hash/%s?%s" % (emu.url, collection,
                                                  urllib.parse.urlencode(q))
    return http("GET", url, {"Authorization": "%s %s" % (auth_scheme, token),
                             "Accept": accept})


def drain(emu, token, limit):
    cursor, seen, pages = "*", [], 0
    while True:
        st, _, body = page(emu, token, cursor, limit)
        assert st == 200, body
        doc = json.loads(body)
        pages += 1
        if not doc["data"]:
            assert doc["nextCursorMark"] == cursor
            return seen, pages, cursor
        seen += [i["id"] for i in doc["data"]]
        cursor = doc["nextCursorMark"]


def test_token_endpoint(emulator):
    tok = get_token(emulator)
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600 and tok["access_token"]
    url = emulator.url + "/api/token"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert http("POST", url, dict(form, Authorization=basic(sec="bad")),
                "grant_type=client_credentials")[0] == 401
    assert http("POST", url, form, "grant_type=client_credentials")[0] == 401
    assert http("POST", url, {"Content-Type": "application/json", "Authorization": basic()},
                "grant_type=client_credentials")[0] == 400
    assert http("POST", url, dict(form, Authorization=basic()), "grant_type=password")[0] == 400
    assert http("GET", url)[0] == 405
    r = emulator.requests("token")
    assert [x["status"] for x in r] == [200, 401, 401, 400, 400, 405]
    assert r[0]["body"] == "grant_type=client_credentials"
    assert r[0]["headers"]["authorization"] == basic()


def test_paging_cursor_semantics(emulator_factory):
    emu = emulator_factory(indicators=250)
    tok = get_token(emu)["access_token"]
    ids, pages, last = drain(emu, tok, 100)
    expected = [i["id"] for i in emu.indicators(COLLECTION)]
    assert ids == expected and len(set(ids)) == 250
    assert pages == 4  # 100, 100, 50, empty
    # ordered by (updated_at, id), with ties on updated_at
    inds = emu.indicators(COLLECTION)
    keys = [(i["updated_at"], i["id"]) for i in inds]
    assert keys == sorted(keys)
    assert len({i["updated_at"] for i in inds}) < len(inds)
    # tailing: an update comes back after the saved cursor, nothing else
    upd = emu.update_indicator(expected[10], COLLECTION)
    assert upd["updated_at"] > inds[-1]["updated_at"]
    st, _, body = page(emu, tok, last, 100)
    doc = json.loads(body)
    assert [i["id"] for i in doc["data"]] == [expected[10]]
    assert doc["total"] == 250 and doc["limit"] == 100
    # new indicators come after too
    new = emu.add_indicators(3, COLLECTION)
    st, _, body = page(emu, tok, doc["nextCursorMark"], 100)
    assert [i["id"] for i in json.loads(body)["data"]] == [i["id"] for i in new]
    # the page log
    pr = emu.requests("page")
    assert pr[0]["query"]["cursorMark"] == "*"
    for a, b in zip(pr, pr[1:]):
        if a["response"]["items"]:
            assert b["query"]["cursorMark"] == a["response"]["nextCursorMark"]


def test_cursor_requires_url_encoding(emulator_factory):
    emu = emulator_factory(indicators=5)
    tok = get_token(emu)["access_token"]
    st, _, body = page(emu, tok, "*", 2)
    cur = json.loads(body)["nextCursorMark"]
    assert "+" in cur and "/" in cur and cur.endswith("=")
    decode_cursor(cur)
    raw = "%s/api/indicators/query/hash/%s?cursorMark=%s&limit=2&sort=updated_at" % (
        emu.url, COLLECTION, cur)
    st, _, _ = http("GET", raw, {"Authorization": "Bearer " + tok, "Accept": "application/json"})
    assert st == 400


def test_page_rejections(emulator_factory):
    emu = emulator_factory(indicators=5)
    tok = get_token(emu)["access_token"]
    assert page(emu, tok, auth_scheme="bearer")[0] == 401
    assert page(emu, "nope")[0] == 401
    assert page(emu, tok, accept="text/html")[0] == 406
    assert page(emu, tok, limit=0)[0] == 400
    assert page(emu, tok, limit=1001)[0] == 400
    assert page(emu, tok, cursor="garbage!")[0] == 400
    assert page(emu, tok, collection="unknown")[0] == 404
    assert page(emu, tok)[0] == 200


def test_token_expiry(emulator_factory):
    emu = emulator_factory(indicators=5, token_expires_in=1)
    tok = get_token(emu)
    assert tok["expires_in"] == 1
    assert page(emu, tok["access_token"])[0] == 200
    time.sleep(1.1)
    assert page(emu, tok["access_token"])[0] == 401
    tok2 = get_token(emu)["access_token"]
    assert page(emu, tok2)[0] == 200
    emu.expire_tokens()
    assert page(emu, tok2)[0] == 401


def test_fields_projection(emulator_factory):
    emu = emulator_factory(indicators=20)
    tok = get_token(emu)["access_token"]
    full = json.loads(page(emu, tok)[2])["data"]
    assert all("sources" in i and "attributes" in i for i in full)
    assert all(2 <= len(i["attributes"]) and 1 <= len(i["sources"]) <= 3 for i in full)
    bare = json.loads(page(emu, tok, fields=None)[2])["data"]
    assert all("sources" not in i and "attributes" not in i for i in bare)
    assert all("value" in i and "type" in i for i in bare)
    names = json.loads(page(emu, tok, fields="*,attributes.name,attributes.value")[2])["data"]
    assert all(set(a) == {"name", "value"} for i in names for a in i["attributes"])
    size = len(json.dumps(full)) / len(full)
    assert 700 < size < 3000, size
    types = {i["type"]["name"] for i in full}
    assert {"IP Address", "IPv6 Address", "FQDN", "URL", "Email Address", "MD5", "SHA-1",
            "SHA-256", "CIDR Block", "ASN", "Filename"} <= types


def test_empty_data_quirk(emulator_factory):
    emu = emulator_factory(indicators=3, empty_data_as_object=True)
    tok = get_token(emu)["access_token"]
    doc = json.loads(page(emu, tok)[2])
    doc2 = json.loads(page(emu, tok, doc["nextCursorMark"])[2])
    assert doc2["data"] == {} and doc2["nextCursorMark"] == doc["nextCursorMark"]


def test_deterministic_seed():
    a = ThreatQEmulator(seed=7)
    b = ThreatQEmulator(seed=7)
    for e in (a, b):
        e.add_collection("x")
        e.add_indicators(30)
    assert a.indicators() == b.indicators()


def _shapes(indicators):
    """Which of the real-data shapes the indicators have."""
    shapes = set()
    for ind in indicators:
        if ind["type"]["name"] == "URL" and "://" not in ind["value"]:
            shapes.add("schemeless url")
        if isinstance(ind["score"], dict):
            shapes.add("score object")
        elif isinstance(ind["score"], float) or isinstance(ind["score"], str) and "." in ind["score"]:
            shapes.add("non-integer score")
    return shapes


def test_real_data_shapes_only_on_request():
    """real_data_shapes adds URLs without a scheme, score objects and non-integer scores; the
    default output has none of them, and the option changes nothing else (the same seed gives
    the same indicators but for those values and scores)."""
    plain, real = ThreatQEmulator(seed=7), ThreatQEmulator(seed=7, real_data_shapes=True)
    for e in (plain, real):
        e.add_collection("x")
        e.add_indicators(200, types=["URL", "IP Address"])
    assert _shapes(plain.indicators()) == set()
    assert all(isinstance(i["score"], int) for i in plain.indicators())
    assert _shapes(real.indicators()) == {"schemeless url", "score object", "non-integer score"}
    strip = ("value", "score")
    assert [{k: v for k, v in i.items() if k not in strip} for i in plain.indicators()] == \
        [{k: v for k, v in i.items() if k not in strip} for i in real.indicators()]
    # an update of a reshaped score still works
    ind = next(i for i in real.indicators() if isinstance(i["score"], dict))
    assert real.update_indicator(ind["id"])["score"] == 0


def test_gate(emulator_factory):
    emu = emulator_factory(indicators=30)
    tok = get_token(emu)["access_token"]
    emu.hold_pages_after(1)
    assert page(emu, tok, limit=10)[0] == 200
    result = {}
    t = threading.Thread(target=lambda: result.update(r=page(emu, tok, limit=10)))
    t.start()
    assert emu.wait_for_held(5)
    time.sleep(0.2)
    assert "r" not in result and emu.held_count() == 1
    emu.release()
    t.join(5)
    assert result["r"][0] == 200 and emu.held_count() == 0
    assert page(emu, tok, limit=10)[0] == 200  # gate disarmed


def test_faults(emulator_factory):
    emu = emulator_factory(indicators=5)
    tok = get_token(emu)["access_token"]
    emu.add_fault("page", status=429, headers={"Retry-After": "3"})
    emu.add_fault("page", status=500)
    emu.add_fault("page", truncate=True)
    emu.add_fault("page", body="<html>oops</html>")
    emu.add_fault("page", delay=0.5)
    st, h, _ = page(emu, tok)
    assert st == 429 and h["Retry-After"] == "3"
    assert page(emu, tok)[0] == 500
    st, _, body = page(emu, tok)
    assert st == 200
    with pytest.raises(ValueError):
        json.loads(body)
    assert page(emu, tok)[2] == "<html>oops</html>"
    t0 = time.monotonic()
    assert page(emu, tok)[0] == 200
    assert time.monotonic() - t0 >= 0.5
    emu.add_fault("token", drop=True)
    with pytest.raises(Exception):
        get_token(emu)
    assert [r["status"] for r in emu.requests("page")] == [429, 500, 200, 200, 200]


def test_cli_mode(tmp_path):
    port_file = tmp_path / "port"
    p = subprocess.Popen([sys.executable, str(HERE.parent / "emulator" / "threatq_emulator.py"),
                          "--port", "0", "--collection", "demo", "--indicators", "12",
                          "--client-id", "X", "--client-secret", "Y",
                          "--port-file", str(port_file)],
                         stdout=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert port_file.read_text().strip() == url.rsplit(":", 1)[1]
        st, _, body = http("POST", url + "/api/token",
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Authorization": basic("X", "Y")}, "grant_type=client_credentials")
        assert st == 200
        tok = json.loads(body)["access_token"]
        st, _, body = http("GET", url + "/api/indicators/query/hash/demo?cursorMark=*&limit=100"
                           "&sort=updated_at", {"Authorization": "Bearer " + tok,
                                                "Accept": "application/json"})
        assert len(json.loads(body)["data"]) == 12
        st, _, body = http("POST", url + "/_emulator/indicators?count=3", body="")
        assert st == 200 and len(json.loads(body)["ids"]) == 3
        first = json.loads(http("GET", url + "/_emulator/indicators")[2])[0]
        st, _, body = http("POST", url + "/_emulator/update?id=%d" % first["id"], body="")
        assert st == 200 and json.loads(body)["updated_at"] > first["updated_at"]
        reqs = json.loads(http("GET", url + "/_emulator/requests")[2])
        assert [r["kind"] for r in reqs] == ["token", "page"]
    finally:
        p.terminate()
        assert p.wait(10) == 0
