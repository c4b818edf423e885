# SPDX-License-Identifier: GPL-2.0-or-later
"""The ECS document in MESSAGE, the name-value pairs and the message timestamp,
compared with the indicators the emulator served (one syslog-ng run per module)."""

import calendar
import ipaddress
import time
import urllib.parse

import pytest

import syslogng
from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION, require_module
from syslogng import base_source_opts, dig, make_config, read_json_lines, read_lines
from threatq_emulator import ThreatQEmulator

N = 120

# nv-pairs written to a tab-separated side file, in this order
NV_FIELDS = ["threatq.id", "threat.indicator.type", "threatq.indicator_value",
             "threatq.status", "threatq.type", "threat.feed.name", "event.kind",
             "event.category", "event.type", "event.dataset", "event.module", "ecs.version",
             "@timestamp", "threat.indicator.ip", "threat.indicator.url.domain",
             "threat.indicator.url.original", "threat.indicator.email.address",
             "threat.indicator.file.hash.md5", "threat.indicator.file.hash.sha1",
             "threat.indicator.file.hash.sha256", "threatq.updated_at"]
MACROS = ["ISODATE", "UNIXTIME"]

# type.name -> (threat.indicator.type, value field under threat.indicator or None)
TYPE_MAP = {
    "IP Address": ("ipv4-addr", "ip"),
    "IPv6 Address": ("ipv6-addr", "ip"),
    "FQDN": ("domain-name", "url.domain"),
    "URL": ("url", "url.original"),
    "Email Address": ("email-addr", "email.address"),
    "MD5": ("file", "file.hash.md5"),
    "SHA-1": ("file", "file.hash.sha1"),
    "SHA-256": ("file", "file.hash.sha256"),
    "Filename": ("file", "file.name"),
}
MAIN_TYPES = ["IP Address", "IPv6 Address", "FQDN", "URL", "Email Address", "MD5", "SHA-1",
              "SHA-256"]


def iso(ts):
    return ts.replace(" ", "T") + ".000Z"


def epoch(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%d %H:%M:%S"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    require_module()
    emu = ThreatQEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=42)
    emu.add_collection(COLLECTION)
    emu.add_indicators(N, collection=COLLECTION)
    emu.start()
    d = tmp_path_factory.mktemp("doc")
    sng = syslogng.SyslogNg(d)
    out, nv = d / "out.ndjson", d / "nv.tsv"
    tpl = "\\t".join("${%s}" % f for f in NV_FIELDS + MACROS) + "\\n"
    extra = """
destination d_nv { file("%s" template("%s") time-zone("UTC") ts-format(iso) frac-digits(0)); };
log { source(s_tq); destination(d_nv); };
""" % (nv, tpl)
    try:
        sng.start(make_config(base_source_opts(emu, COLLECTION, page_size=50), out, extra))
        sng.wait_for(lambda: len(read_lines(out)) >= N and len(read_lines(nv)) >= N,
                     timeout=30, message="all indicators in both files")
        docs = read_json_lines(out)
        nv_rows = [dict(zip(NV_FIELDS + MACROS, line.split("\t"))) for line in read_lines(nv)]
        sng.stop()
    except BaseException:
        print(sng.output())
        sng.cleanup()
        raise
    finally:
        emu.stop()
    by_id = {}
    for doc in docs:
        by_id.setdefault(int(dig(doc, "threatq.id")), doc)
    return {"indicators": {i["id"]: i for i in emu.indicators(COLLECTION)},
            "docs": docs, "by_id": by_id, "nv": nv_rows, "log": sng.output()}


def test_one_document_per_indicator(run):
    assert len(run["docs"]) == N
    assert set(run["by_id"]) == set(run["indicators"])
    assert len(run["nv"]) == N


def test_common_fields(run):
    for ind_id, ind in run["indicators"].items():
        doc = run["by_id"][ind_id]
        ctx = "indicator %d" % ind_id
        assert doc["@timestamp"] == iso(ind["updated_at"]), ctx
        assert dig(doc, "ecs.version") == "8.3.0", ctx
        assert dig(doc, "event.kind") == "enrichment", ctx
        assert dig(doc, "event.category") == "threat", ctx
        assert dig(doc, "event.type") == "indicator", ctx
        assert dig(doc, "event.dataset") == "ti_threatq.threat", ctx
        assert dig(doc, "event.module") == "ti_threatq", ctx
        assert dig(doc, "threat.feed.name") == "ThreatQuotient", ctx
        assert dig(doc, "threatq.id") == ind_id and isinstance(dig(doc, "threatq.id"), int), ctx
        assert dig(doc, "threatq.indicator_value") == ind["value"], ctx
        assert dig(doc, "threatq.status") == ind["status"]["name"], ctx
        assert dig(doc, "threatq.type") == ind["type"]["name"], ctx
        assert dig(doc, "threatq.class") == ind["class"], ctx
        assert dig(doc, "threatq.hash") == ind["hash"], ctx
        assert dig(doc, "threatq.score") == ind["score"], ctx
        for f in ("created_at", "updated_at", "published_at", "touched_at",
                  "expires_calculated_at", "expires_at", "expired_at"):
            if f in ind:
                assert dig(doc, "threatq." + f) == iso(ind[f]), (ctx, f)
            else:
                assert dig(doc, "threatq." + f, None) is None, (ctx, f)
        assert dig(doc, "threat.indicator.first_seen") == iso(ind["created_at"]), ctx
        assert dig(doc, "threat.indicator.last_seen") == iso(ind["touched_at"]), ctx
        assert dig(doc, "threat.indicator.modified_at") == iso(ind["updated_at"]), ctx
        assert "event.original" not in doc and dig(doc, "event.original", None) is None, ctx
        assert "error" not in doc, (ctx, doc.get("error"))


@pytest.mark.parametrize("tname", MAIN_TYPES + ["Filename"])
def test_indicator_type_and_value_field(run, tname):
    inds = [i for i in run["indicators"].values() if i["type"]["name"] == tname]
    assert inds, "the emulator produced no %s indicator" % tname
    ecs_type, field = TYPE_MAP[tname]
    for ind in inds:
        doc = run["by_id"][ind["id"]]
        ctx = "%s indicator %d" % (tname, ind["id"])
        assert dig(doc, "threat.indicator.type") == ecs_type, ctx
        assert dig(doc, "threat.indicator." + field) == ind["value"], ctx
        related_ip = dig(doc, "related.ip", None)
        related_hash = dig(doc, "related.hash", None)
        if tname in ("IP Address", "IPv6 Address"):
            assert related_ip == [ind["value"]], ctx
        else:
            assert related_ip is None, ctx
        expected_hash = [ind["hash"]]
        if tname in ("MD5", "SHA-1", "SHA-256") and ind["value"] != ind["hash"]:
            expected_hash.append(ind["value"])
        assert related_hash == expected_hash, ctx


def test_url_parts(run):
    inds = [i for i in run["indicators"].values() if i["type"]["name"] == "URL"]
    assert inds
    for ind in inds:
        u = urllib.parse.urlsplit(ind["value"])
        url = dig(run["by_id"][ind["id"]], "threat.indicator.url")
        ctx = ind["value"]
        assert url["original"] == ind["value"], ctx
        assert url.get("scheme") == u.scheme, ctx
        assert url.get("domain") == u.hostname, ctx
        assert url.get("port") == u.port, ctx  # a number, absent when not in the URL
        assert url.get("path") == u.path, ctx
        assert url.get("query") == (u.query or None), ctx
        assert url.get("fragment") == (u.fragment or None), ctx
        last = u.path.rsplit("/", 1)[-1]
        ext = last.rsplit(".", 1)[1] if "." in last else None
        assert url.get("extension") == ext, ctx
        assert "full" not in url, ctx


def test_other_types(run):
    seen = set()
    for ind in run["indicators"].values():
        doc = run["by_id"][ind["id"]]
        tname = ind["type"]["name"]
        ti = dig(doc, "threat.indicator")
        if tname == "CIDR Block":
            fam = ipaddress.ip_network(ind["value"]).version
            assert ti["type"] == ("ipv4-addr" if fam == 4 else "ipv6-addr"), ind["value"]
            assert "ip" not in ti and dig(doc, "related.ip", None) is None
            seen.add(tname)
        elif tname == "ASN":
            assert ti["type"] == "autonomous-system"
            assert dig(doc, "threat.indicator.as.number") == int(ind["value"].lstrip("AS"))
            seen.add(tname)
    assert seen == {"CIDR Block", "ASN"}


def test_enrichment_fields(run):
    tlp_norm = {"WHITE": "WHITE", "CLEAR": "CLEAR", "GREEN": "GREEN", "AMBER": "AMBER",
                "AMBER+STRICT": "AMBER+STRICT", "RED": "RED"}
    for ind in run["indicators"].values():
        doc = run["by_id"][ind["id"]]
        ctx = "indicator %d" % ind["id"]
        s = ind["score"]
        conf = "None" if s == 0 else "Low" if s <= 4 else "Medium" if s <= 7 else "High"
        assert dig(doc, "threat.indicator.confidence") == conf, ctx
        providers = []
        for src in ind["sources"]:
            if src["name"] not in providers:
                providers.append(src["name"])
        assert dig(doc, "threat.indicator.provider") == providers, ctx
        tlps = []
        for src in ind["sources"]:
            t = src.get("tlp_name")
            if t is None:
                continue
            t = t.upper()
            if t.startswith("TLP:"):
                t = t[4:]
            if t in tlp_norm and tlp_norm[t] not in tlps:
                tlps.append(tlp_norm[t])
        assert dig(doc, "threat.indicator.marking.tlp", None) == (tlps or None), ctx
        attrs = {}
        for a in ind["attributes"]:
            key = a["name"].lower().replace(" ", "_").replace(".", "_")
            attrs.setdefault(key, []).append(a["value"])
        assert dig(doc, "threatq.attributes") == attrs, ctx
        if "description" in ind:
            assert dig(doc, "threat.indicator.description") == ind["description"], ctx
        advs = [a["name"] for a in ind["adversaries"]]
        assert dig(doc, "threatq.adversaries", []) == advs, ctx


def test_ioc_expiration(run):
    for ind in run["indicators"].values():
        doc = run["by_id"][ind["id"]]
        ctx = "indicator %d" % ind["id"]
        if "expired_at" in ind:
            at, why = iso(ind["expired_at"]), "Expiration set by ThreatQ from expired_at field"
        elif "expires_at" in ind:
            at, why = iso(ind["expires_at"]), "Expiration set by ThreatQ from expires_at field"
        elif ind["status"]["name"] == "Expired":
            at, why = iso(ind["updated_at"]), "Expiration set because threatq.status is Expired"
        else:
            t = epoch(ind["updated_at"]) + 90 * 86400
            at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
            why = "Expiration set from ioc-expiration-duration"
        assert dig(doc, "threatq.ioc_expired_at") == at, ctx
        assert dig(doc, "threatq.ioc_expiration_reason") == why, ctx


def _str(v):
    if v is None:
        return ""
    return str(v)


def test_name_value_pairs_match_message(run):
    for row in run["nv"]:
        ind_id = int(row["threatq.id"])
        doc = run["by_id"][ind_id]
        for f in NV_FIELDS:
            assert row[f] == _str(dig(doc, f, None)), (ind_id, f)


def test_message_timestamp_is_updated_at(run):
    for row in run["nv"]:
        ind = run["indicators"][int(row["threatq.id"])]
        assert row["ISODATE"] == ind["updated_at"].replace(" ", "T") + "+00:00", ind["id"]
        assert row["UNIXTIME"] == str(epoch(ind["updated_at"])), ind["id"]


def test_no_secret_in_log(run):
    assert CLIENT_SECRET not in run["log"]
