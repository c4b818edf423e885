#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a synthetic but realistic ThreatQ indicator page for the JSON parser benchmark.

Shape follows the ThreatQ /api/indicators response as seen in the elastic
ti_threatq test fixtures: {"total", "data": [indicator...], "nextCursorMark", "limit"}.
Output is deterministic (fixed seed) so figures are comparable between runs.

usage: make_page.py OUT.json [N_INDICATORS]
"""
import hashlib
import json
import random
import sys
import time

SEED = 20240611

TYPES = [  # (type_id, name, class, weight)
    (15, "IP Address", "network", 40),
    (11, "FQDN", "network", 20),
    (20, "URL", "network", 15),
    (14, "MD5", "host", 8),
    (16, "SHA-1", "host", 4),
    (17, "SHA-256", "host", 8),
    (9, "Email Address", "network", 3),
    (12, "Filename", "host", 2),
]
STATUSES = [
    (1, "Active", "Poses a threat and is being exported to detection tools."),
    (2, "Expired", "No longer poses a serious threat."),
    (3, "Indirect", "Associated to an active indicator or event (i.e. pDNS)."),
    (4, "Review", "Requires further analysis."),
    (5, "Whitelisted", "Poses NO risk and should never be deployed."),
]
SOURCES = [  # (source_id, name, source_type)
    (12, "AlienVault OTX", "connectors"),
    (37, "www.dan.me.uk Tor Node List", "connectors"),
    (41, "Abuse.ch URLhaus", "connectors"),
    (8, "Emerging Threats \"Compromised\" IPs", "connectors"),
    (3, "Analyst", "users"),
    (55, "CIRCL MISP Feed", "connectors"),
]
TLPS = [(1, "RED"), (2, "AMBER"), (3, "GREEN"), (4, "WHITE")]
# Descriptions deliberately include escaped quotes, non-ASCII UTF-8 and a newline,
# so parsers have to do real string unescaping/UTF-8 validation work.
DESCRIPTIONS = [
    "Malicious Host",
    "C2 beacon seen in \"Operation Ghost\" campaign",
    "Phishing kit hosting Microsoft 365 lure – credential harvester",
    "Дроппер банковского трояна (Emotet épisode №4)",
    "恶意软件分发站点; reported by CERT 🚨",
    "Tor exit relay\nflags: \"ERDV\", bandwidth ≥ 10 MB/s",
]
ATTR_NAMES = [
    (3, "Description"), (4, "Country"), (5, "City"), (6, "AlienVault Revision"),
    (7, "AlienVault Threat Level"), (8, "AlienVault Reliability"), (9, "Router Port"),
    (10, "Flags"), (11, "Contact"), (12, "Malware Family"), (13, "Confidence"),
]
COUNTRIES = [("US", "Ashburn"), ("MP", "Saipan"), ("DE", "Frankfurt am Main"),
             ("RU", "Москва"), ("BR", "São Paulo"), ("NL", "Amsterdam")]
FAMILIES = ["Emotet", "QakBot", "Cobalt Strike", "AgentTesla", "IcedID", "RedLine"]


def ts(rng, base=1600000000, span=90 * 86400):
    t = base + rng.randrange(span)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def value_for(rng, tname, i):
    h = hashlib.sha256(f"{SEED}-{i}".encode()).hexdigest()
    if tname == "IP Address":
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    if tname == "FQDN":
        return f"{h[:10]}.{rng.choice(['example-cdn.net', 'login-secure.co', 'updates.xyz'])}"
    if tname == "URL":
        return f"http://{h[:8]}.{rng.choice(['ru', 'top', 'com'])}/wp-content/{h[8:20]}/index.php?id={i}"
    if tname == "MD5":
        return h[:32]
    if tname == "SHA-1":
        return h[:40]
    if tname == "SHA-256":
        return h
    if tname == "Email Address":
        return f"billing-{h[:6]}@{rng.choice(['mailinator.com', 'proton.me'])}"
    return f"invoice_{h[:6]}.pdf.exe"


def attr_value(rng, name):
    if name == "Description":
        return rng.choice(DESCRIPTIONS)
    if name in ("Country", "City"):
        c = rng.choice(COUNTRIES)
        return c[0] if name == "Country" else c[1]
    if name == "Malware Family":
        return rng.choice(FAMILIES)
    if name == "Contact":
        return "email:abuse[]example.org url:https://relay.example.org proof:uri-rsa"
    if name == "Flags":
        return rng.choice(["ERDV", "FGRSDV", "RV"])
    return str(rng.randrange(0, 10000 if name == "Router Port" else 10))


def indicator(rng, i, ids):
    ind_id = 100000 + i
    type_id, tname, tclass, _ = rng.choices(TYPES, weights=[t[3] for t in TYPES])[0]
    st_id, st_name, st_desc = rng.choice(STATUSES)
    created = ts(rng)
    attrs = []
    # 3-8 attributes, skewed low like the fixtures
    for aid, aname in rng.sample(ATTR_NAMES, rng.choices(range(3, 9), weights=[12, 4, 2, 1, 1, 1])[0]):
        ids["attr"] += 1
        attrs.append({"attribute_id": aid, "created_at": created, "id": ids["attr"],
                      "indicator_id": ind_id, "name": aname,
                      "touched_at": ts(rng), "updated_at": ts(rng),
                      "value": attr_value(rng, aname)})
    sources = []
    for sid, sname, stype in rng.sample(SOURCES, rng.choices([1, 2, 3], weights=[10, 2, 1])[0]):
        ids["src"] += 1
        tlp_id, tlp_name = rng.choice(TLPS)
        sources.append({"created_at": created, "creator_source_id": sid, "id": ids["src"],
                        "indicator_id": ind_id, "indicator_status_id": st_id,
                        "indicator_type_id": type_id, "name": sname,
                        "published_at": created, "reference_id": rng.randrange(1, 500),
                        "source_id": sid, "source_type": stype, "tlp_id": tlp_id,
                        "tlp_name": tlp_name, "updated_at": ts(rng)})
    return {
        "adversaries": [],
        "attributes": attrs,
        "class": tclass,
        "created_at": created,
        "expires_calculated_at": ts(rng),
        "hash": hashlib.md5(f"{ind_id}".encode()).hexdigest(),
        "id": ind_id,
        "published_at": created,
        "score": rng.randrange(0, 11),
        "sources": sources,
        "status": {"description": st_desc, "id": st_id, "name": st_name},
        "status_id": st_id,
        "touched_at": ts(rng),
        "type": {"class": tclass, "id": type_id, "name": tname},
        "type_id": type_id,
        "updated_at": ts(rng),
        "value": value_for(rng, tname, i),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "page.json"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(SEED)
    ids = {"attr": 4890000, "src": 3690000}
    page = {"total": 48213, "data": [indicator(rng, i, ids) for i in range(n)],
            "nextCursorMark": "AoJ4" + hashlib.sha1(str(SEED).encode()).hexdigest() + "=",
            "limit": n}
    # compact, raw UTF-8: what the ThreatQ API actually sends on the wire
    body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(out, "wb") as f:
        f.write(body)
    print(f"wrote {out}: {len(body)} bytes, {n} indicators, "
          f"{len(body) / n:.0f} bytes/indicator avg")


if __name__ == "__main__":
    main()
