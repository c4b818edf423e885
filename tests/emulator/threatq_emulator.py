#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small ThreatQuotient REST API emulator for tests and the demo.

Python 3 standard library only.  It implements the two calls the threatq()
source driver makes (see docs/behaviour.md):

  POST /api/token                                  OAuth2 client_credentials
  GET  /api/indicators/query/hash/<collection>     Solr-like cursorMark paging

plus a control API under /_emulator/ for the command-line mode.

Importable::

    from threatq_emulator import ThreatQEmulator
    emu = ThreatQEmulator(client_id="id", client_secret="secret", seed=1)
    emu.add_collection("abc")
    emu.add_indicators(2500, collection="abc")
    emu.start()                 # binds 127.0.0.1, port 0 = a free port
    print(emu.url)              # http://127.0.0.1:PORT
    ...
    emu.requests()              # the request log (list of dicts)
    emu.stop()

Command line::

    python3 threatq_emulator.py --port 0 --collection demo --indicators 50 \
        --client-id X --client-secret Y [--port-file F] [--seed N] [--real-data-shapes]

prints the base URL on stdout and serves until SIGTERM / SIGINT.  With
``real_data_shapes=True`` (``--real-data-shapes``) some generated URLs have no
scheme and some scores are objects or non-integers, as in real ThreatQ data.

Cursor semantics
----------------
Indicators of a collection are ordered by (updated_at, id).  cursorMark ``*``
is the start; any other cursorMark is an opaque base64 string encoding the
(updated_at, id) of the last item of the page that returned it.  A request
returns the items strictly after the cursor, at most ``limit`` of them.
``nextCursorMark`` is the cursor of the last item returned, or the cursorMark
that was sent when no item is returned.  Cursors always contain ``+``, ``/``
and ``=`` so that a client that does not URL-encode its parameters fails
(a ``+`` read back as a space makes the cursor invalid: answered with 400).

Request log
-----------
Every request (except the /_emulator/ control calls) is recorded as a dict::

    {"seq": n, "method": "GET", "path": "/api/...", "query": {name: last value},
     "query_multi": {name: [values]}, "raw_query": "...",
     "headers": {lower-cased name: value}, "header_list": [[name, value], ...],
     "body": "...", "time": <time.time()>, "status": <status answered>,
     "fault": <fault dict applied or None>, "kind": "token"|"page"|"other",
     "response": None, or for a page answered normally with 200:
                 {"items": n, "total": n, "nextCursorMark": "...", "ids": [...]}}

Timing and faults
-----------------
* ``hold_pages_after(k)``: the next k page requests are answered normally;
  the ones after block until ``release()`` (or ``timeout`` seconds).
  ``wait_for_held()`` waits until a request is blocked at the gate.
* ``add_fault(...)``: a queue of one-shot faults, each applied to the next
  matching request ("page", "token" or "any"): a status code (with optional
  headers such as Retry-After and a body), a delay, a truncated JSON body, a
  custom body, a dropped connection, or a connection dropped in the middle of
  the body (``drop_mid_body``).

TLS
---
``ThreatQEmulator(tls_cert=..., tls_key=..., tls_client_ca=...)`` (or
``ssl_context=``) serves HTTPS instead of HTTP (``url`` then starts with
``https://``).  With ``tls_client_ca`` a client certificate signed by that CA is
required.  The handshake runs in the connection's own thread; failed handshakes
are listed by ``tls_errors()``.  Command line: ``--tls-cert F --tls-key F
[--tls-client-ca F]``.
"""

import argparse
import base64
import binascii
import calendar
import copy
import hashlib
import ipaddress
import json
import os
import random
import secrets
import signal
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_FIELDS = "*,sources,attributes,attributes.name,attributes.value"
TOKEN_PATH = "/api/token"
PAGE_PREFIX = "/api/indicators/query/hash/"
CONTROL_PREFIX = "/_emulator/"

TIME_FMT = "%Y-%m-%d %H:%M:%S"
BASE_TIME = calendar.timegm((2023, 1, 2, 3, 4, 5, 0, 0, 0))

# type name -> (type id, class)
TYPES = {
    "IP Address": (15, "network"),
    "IPv6 Address": (16, "network"),
    "FQDN": (11, "network"),
    "URL": (21, "network"),
    "Email Address": (9, "network"),
    "MD5": (18, "host"),
    "SHA-1": (19, "host"),
    "SHA-256": (20, "host"),
    "CIDR Block": (5, "network"),
    "ASN": (2, "network"),
    "Filename": (12, "host"),
}
# first the eight "main" types: every batch of >= 8 indicators has each of them
TYPE_ORDER = ["IP Address", "IPv6 Address", "FQDN", "URL", "Email Address",
              "MD5", "SHA-1", "SHA-256", "CIDR Block", "ASN", "Filename"]
TYPE_WEIGHTS = [20, 6, 14, 14, 6, 10, 6, 10, 4, 4, 6]

STATUSES = [
    {"id": 1, "name": "Active",
     "description": "Poses a threat and is being exported to detection tools."},
    {"id": 2, "name": "Expired", "description": "No longer poses a serious threat."},
    {"id": 3, "name": "Indirect",
     "description": "Associated to an active indicator or event (i.e. pDNS)."},
    {"id": 4, "name": "Review",
     "description": "Requires further analysis."},
    {"id": 5, "name": "Whitelisted",
     "description": "Poses NO risk and should never be deployed."},
]
STATUS_WEIGHTS = [70, 12, 6, 8, 4]

SOURCES = [
    # name, source_id, source_type, tlp (id, name) or None
    ("AlienVault OTX", 12, "connectors", (3, "GREEN")),
    ("www.dan.me.uk Tor Node List", 14, "connectors", None),
    ("Abuse.ch URLhaus", 17, "connectors", (4, "WHITE")),
    ("Abuse.ch MalwareBazaar", 18, "connectors", (4, "CLEAR")),
    ("CrowdStrike Falcon Intelligence", 21, "connectors", (2, "AMBER")),
    ("Mandiant Threat Intelligence", 23, "connectors", (1, "RED")),
    ("Emerging Threats", 25, "connectors", (3, "TLP:GREEN")),
    ("Analyst Workbench", 2, "users", (2, "amber+strict")),
]

WORDS = ["alpha", "bravo", "cobalt", "delta", "ember", "falcon", "granite",
         "harbor", "indigo", "jasper", "kestrel", "lumen", "magnet", "nimbus",
         "onyx", "pulsar", "quartz", "raven", "sierra", "tango", "umbra",
         "vortex", "willow", "xenon", "yonder", "zephyr", "secure", "update",
         "login", "cdn", "mail", "portal", "invoice", "account", "verify"]
TLDS = ["com", "net", "org", "info", "ru", "xyz", "top", "io", "biz", "cn"]
COUNTRIES = ["US", "RU", "CN", "NL", "DE", "FR", "BR", "IN", "GB", "MP", "KP", "IR"]
CITIES = ["New York", "Saipan", "Amsterdam", "Frankfurt", "Moscow", "Fort Lauderdale",
          "Sao Paulo", "Mumbai", "London", "Singapore"]
MALWARE = ["Emotet", "TrickBot", "QakBot", "Cobalt Strike", "AgentTesla", "Formbook",
           "RedLine Stealer", "IcedID", "Mirai", "njRAT"]
ADVERSARIES = ["APT28", "APT29", "FIN7", "Lazarus Group", "Sandworm Team", "TA505",
               "Wizard Spider"]
EXTENSIONS = ["exe", "dll", "php", "js", "doc", "zip", "html", "ps1"]


def fmt_time(epoch):
    return time.strftime(TIME_FMT, time.gmtime(epoch))


def parse_time(s):
    return calendar.timegm(time.strptime(s, TIME_FMT))


def encode_cursor(updated_at, ind_id):
    """Opaque cursor for the position (updated_at string, id)."""
    raw = b"\xfb\xff\xbe" + struct.pack(">qq", parse_time(updated_at), int(ind_id))
    return base64.b64encode(raw).decode("ascii")


def decode_cursor(mark):
    """(epoch, id) from a cursorMark, or None for '*'.  ValueError if invalid."""
    if mark == "*":
        return None
    try:
        raw = base64.b64decode(mark.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise ValueError("cursorMark is not base64: %s" % e)
    if len(raw) != 19 or raw[:3] != b"\xfb\xff\xbe":
        raise ValueError("cursorMark has an unknown format")
    return struct.unpack(">qq", raw[3:])


class IndicatorFactory:
    """Deterministic generator of realistic ThreatQ indicator objects."""

    def __init__(self, seed=0, real_data_shapes=False):
        self.rng = random.Random(seed)
        self.real_data_shapes = real_data_shapes
        self.shape_rng = random.Random(seed + 1)   # its own: the rest stays as without it
        self.next_id = 100000 + self.rng.randrange(0, 5000)
        self.next_attr_id = 4000000 + self.rng.randrange(0, 100000)
        self.next_src_link_id = 3000000 + self.rng.randrange(0, 100000)
        self.generated = 0

    # --- values per type ---------------------------------------------------
    def _domain(self):
        r = self.rng
        labels = [r.choice(WORDS) + (str(r.randrange(10, 99)) if r.random() < 0.3 else "")]
        if r.random() < 0.5:
            labels.insert(0, r.choice(WORDS))
        return ".".join(labels + [r.choice(TLDS)])

    def _public_ipv4(self):
        r = self.rng
        while True:
            a = ipaddress.IPv4Address(r.getrandbits(32))
            if a.is_global and not a.is_multicast:
                return str(a)

    def _value(self, tname):
        r = self.rng
        if tname == "IP Address":
            return self._public_ipv4()
        if tname == "IPv6 Address":
            prefix = r.choice([0x2001_0db8, 0x2a02_0598, 0x2606_4700, 0x2400_cb00])
            addr = (prefix << 96) | r.getrandbits(64) | (r.getrandbits(16) << 64)
            return str(ipaddress.IPv6Address(addr))
        if tname == "FQDN":
            return self._domain()
        if tname == "URL":
            scheme = r.choice(["http", "https", "https"])
            host = self._domain() if r.random() < 0.8 else self._public_ipv4()
            port = ":%d" % r.choice([8080, 8443, 4444]) if r.random() < 0.2 else ""
            path = "/".join(r.choice(WORDS) for _ in range(r.randrange(1, 4)))
            ext = "." + r.choice(EXTENSIONS) if r.random() < 0.6 else ""
            query = "?id=%d&ref=%s" % (r.randrange(1, 99999), r.choice(WORDS)) \
                if r.random() < 0.4 else ""
            frag = "#" + r.choice(WORDS) if r.random() < 0.1 else ""
            return "%s://%s%s/%s%s%s%s" % (scheme, host, port, path, ext, query, frag)
        if tname == "Email Address":
            return "%s.%s%d@%s" % (r.choice(WORDS), r.choice(WORDS), r.randrange(1, 999),
                                   self._domain())
        if tname == "MD5":
            return "%032x" % r.getrandbits(128)
        if tname == "SHA-1":
            return "%040x" % r.getrandbits(160)
        if tname == "SHA-256":
            return "%064x" % r.getrandbits(256)
        if tname == "CIDR Block":
            if r.random() < 0.8:
                net = ipaddress.IPv4Network((self._public_ipv4(), r.choice([16, 22, 24, 28])),
                                            strict=False)
            else:
                net = ipaddress.IPv6Network(("2001:db8:%x::" % r.getrandbits(16), 48),
                                            strict=False)
            return str(net)
        if tname == "ASN":
            n = r.randrange(1000, 400000)
            return "AS%d" % n if r.random() < 0.5 else str(n)
        if tname == "Filename":
            return "%s_%s_%d.%s" % (r.choice(WORDS), r.choice(WORDS), r.randrange(1, 9999),
                                    r.choice(EXTENSIONS))
        raise ValueError(tname)

    # --- attributes, sources ---------------------------------------------
    def _attr_value(self, name, tname):
        r = self.rng
        if name == "Contact":
            return "email:%s[]protonmail.com url:https://%s proof:uri-rsa hoster:%s" % (
                r.choice(WORDS), self._domain(), self._domain())
        if name == "Router Port":
            return str(r.choice([443, 9001, 9000, 8080, 9030]))
        if name == "Flags":
            return r.choice(["ERDV", "FGRSDV", "ESDV", "GRSDV"])
        if name == "Malware Family":
            return r.choice(MALWARE)
        if name == "Country":
            return r.choice(COUNTRIES)
        if name == "City":
            return r.choice(CITIES)
        if name in ("AlienVault Threat Level", "AlienVault Reliability", "AlienVault Revision"):
            return str(r.randrange(1, 6))
        if name == "Description":
            return r.choice(["Malicious Host", "Scanning Host", "C2 Server", "Spamming",
                             "Phishing site"])
        if name == "Confidence":
            return str(r.randrange(0, 101))
        if name == "Severity":
            return r.choice(["Low", "Medium", "High", "Critical"])
        if name == "Disposition":
            return r.choice(["malicious", "suspicious"])
        return r.choice(WORDS)

    ATTR_NAMES = ["Contact", "Router Port", "Flags", "Malware Family", "Country", "City",
                  "AlienVault Threat Level", "AlienVault Reliability", "AlienVault Revision",
                  "Description", "Confidence", "Severity", "Disposition"]

    def _attributes(self, ind_id, created, updated, tname):
        r = self.rng
        names = r.sample(self.ATTR_NAMES, r.randrange(2, 6))
        if r.random() < 0.15:
            names.append(names[0])  # the same name twice happens in real data
        out = []
        for name in names:
            a_created = created + r.randrange(0, 5)
            a_updated = min(updated, a_created + r.randrange(0, 86400 * 30))
            out.append({
                "id": self.next_attr_id,
                "attribute_id": self.ATTR_NAMES.index(name) + 3,
                "indicator_id": ind_id,
                "name": name,
                "value": self._attr_value(name, tname),
                "created_at": fmt_time(a_created),
                "updated_at": fmt_time(a_updated),
                "touched_at": fmt_time(a_updated),
            })
            self.next_attr_id += 1
        return out

    def _sources(self, ind_id, created, updated, type_id, status_id):
        r = self.rng
        out = []
        for name, source_id, stype, tlp in r.sample(SOURCES, r.randrange(1, 4)):
            s = {
                "id": self.next_src_link_id,
                "indicator_id": ind_id,
                "indicator_status_id": status_id,
                "indicator_type_id": type_id,
                "source_id": source_id,
                "creator_source_id": source_id,
                "reference_id": r.randrange(1, 500),
                "source_type": stype,
                "name": name,
                "published_at": fmt_time(created + 3),
                "created_at": fmt_time(created + 3),
                "updated_at": fmt_time(updated),
            }
            if stype == "connectors":
                s["source_expire_days"] = str(r.choice([30, 60, 90]))
                s["source_score"] = r.randrange(0, 5)
            if tlp is not None:
                s["tlp_id"], s["tlp_name"] = tlp
            out.append(s)
            self.next_src_link_id += 1
        return out

    # --- one indicator ----------------------------------------------------
    def make(self, updated_epoch, tname=None):
        r = self.rng
        if tname is None:
            if self.generated < len(TYPE_ORDER):
                tname = TYPE_ORDER[self.generated]
            else:
                tname = r.choices(TYPE_ORDER, TYPE_WEIGHTS)[0]
        self.generated += 1
        type_id, klass = TYPES[tname]
        status = copy.deepcopy(r.choices(STATUSES, STATUS_WEIGHTS)[0])
        ind_id = self.next_id
        self.next_id += r.randrange(1, 4)
        created = updated_epoch - r.randrange(0, 86400 * 200)
        touched = updated_epoch + r.randrange(0, 86400 * 20)
        value = self._value(tname)
        ind = {
            "id": ind_id,
            "class": klass,
            "value": value,
            "score": r.randrange(0, 11),
            "hash": hashlib.md5(("%s|%s" % (tname, value)).encode()).hexdigest(),
            "type_id": type_id,
            "type": {"id": type_id, "name": tname, "class": klass},
            "status_id": status["id"],
            "status": status,
            "created_at": fmt_time(created),
            "published_at": fmt_time(created),
            "updated_at": fmt_time(updated_epoch),
            "touched_at": fmt_time(touched),
            "expires_calculated_at": fmt_time(updated_epoch + r.randrange(3600, 86400 * 30)),
            "adversaries": [],
        }
        if status["name"] == "Expired":
            ind["expired_at"] = fmt_time(updated_epoch)
        elif r.random() < 0.2:
            ind["expires_at"] = fmt_time(updated_epoch + 86400 * r.randrange(7, 120))
        if r.random() < 0.3:
            ind["description"] = "<p>%s %s observed by %s.</p>" % (
                r.choice(["Suspicious", "Malicious", "Known bad"]), tname, r.choice(WORDS))
        if r.random() < 0.15:
            ind["adversaries"] = [{"id": r.randrange(1, 300), "name": n,
                                   "created_at": fmt_time(created),
                                   "updated_at": fmt_time(created)}
                                  for n in r.sample(ADVERSARIES, r.randrange(1, 3))]
        ind["attributes"] = self._attributes(ind_id, created, updated_epoch, tname)
        ind["sources"] = self._sources(ind_id, created, updated_epoch, type_id, status["id"])
        if self.real_data_shapes:
            self._reshape_as_real_data(ind)
        return ind

    def _reshape_as_real_data(self, ind):
        """Shapes real ThreatQ data has and the default output does not (tests/conformance/
        threatq-connectors/PROVENANCE.md): URL values without a scheme, the score as an object
        {generated_score, manual_score} with a two-decimal generated score, non-integer scores.
        Uses a generator of its own, so everything else is what it is without the option."""
        r = self.shape_rng
        if ind["type"]["name"] == "URL" and r.random() < 0.4:
            ind["value"] = ind["value"].split("://", 1)[1]
        shape = r.random()
        if shape < 0.3:
            manual = r.choice([None, None, str(r.randrange(0, 11)), r.randrange(0, 11)])
            ind["score"] = {"generated_score": "%.2f" % (r.randrange(0, 1001) / 100.0),
                            "manual_score": manual, "indicator_id": ind["id"]}
        elif shape < 0.45:
            score = r.randrange(0, 100) / 10.0
            ind["score"] = score if r.random() < 0.5 else "%.1f" % score


class _Collection:
    def __init__(self, name):
        self.name = name
        self.items = {}  # id -> indicator

    def ordered(self):
        return sorted(self.items.values(),
                      key=lambda i: (parse_time(i["updated_at"]), int(i["id"])))

    def max_updated(self):
        if not self.items:
            return None
        return max(parse_time(i["updated_at"]) for i in self.items.values())


def _project(ind, fields):
    """Apply a ThreatQ `fields` parameter to one indicator (6.12+ behaviour)."""
    if fields is None:
        wanted = ["*"]
    else:
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
    star = "*" in wanted
    out = {}
    for k, v in ind.items():
        if k in ("sources", "attributes"):
            continue
        if star or k in wanted or k == "id":
            out[k] = copy.deepcopy(v)
    if "sources" in ind and ("sources" in wanted or any(w.startswith("sources.") for w in wanted)):
        sub = [w[len("sources."):] for w in wanted if w.startswith("sources.")]
        if "sources" in wanted or not sub:
            out["sources"] = copy.deepcopy(ind["sources"])
        else:
            out["sources"] = [{k: s[k] for k in sub if k in s} for s in ind["sources"]]
    if "attributes" in ind and ("attributes" in wanted
                                or any(w.startswith("attributes.") for w in wanted)):
        sub = [w[len("attributes."):] for w in wanted if w.startswith("attributes.")]
        if "attributes" in wanted or not sub:
            out["attributes"] = copy.deepcopy(ind["attributes"])
        else:
            out["attributes"] = [{k: a[k] for k in sub if k in a} for a in ind["attributes"]]
    return out


class ThreatQEmulator:
    """The emulator.  All public methods are thread-safe."""

    def __init__(self, client_id="id", client_secret="secret", seed=0,
                 token_expires_in=3600, empty_data_as_object=False, host="127.0.0.1",
                 port=0, hold_timeout=60.0, token_path=TOKEN_PATH, ssl_context=None,
                 tls_cert=None, tls_key=None, tls_client_ca=None, real_data_shapes=False):
        self.client_id = client_id
        if ssl_context is None and tls_cert:
            ssl_context = make_server_ssl_context(tls_cert, tls_key, tls_client_ca)
        self.ssl_context = ssl_context
        self._tls_errors = []      # failed TLS handshakes: {"client", "error", "time"}
        self.token_path = token_path
        self.client_secret = client_secret
        self.token_expires_in = token_expires_in
        self.empty_data_as_object = empty_data_as_object
        self.host = host
        self._want_port = port
        self.hold_timeout = hold_timeout

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._factory = IndicatorFactory(seed, real_data_shapes)
        self._collections = {}
        self._tokens = {}          # access token -> expiry (monotonic)
        self._issued = []          # every token issued, in order
        self._requests = []
        self._seq = 0
        self._faults = []          # list of fault dicts
        # page gate
        self._gate_armed = False
        self._gate_allow = 0       # page requests still let through
        self._gate_generation = 0  # bumped by release()
        self._held = 0             # requests blocked right now
        self._page_count = 0
        self._server = None
        self._thread = None

    # ------------------------------------------------------------------ life
    def start(self):
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = _Server((self.host, self._want_port), handler)
        self._server.emulator = self
        self._server.ssl_context = self.ssl_context
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="threatq-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        scheme = "https" if self.ssl_context is not None else "http"
        return "%s://%s:%d" % (scheme, self.host, self.port)

    def tls_errors(self):
        """Failed TLS handshakes so far (dicts: client, error, time)."""
        with self._lock:
            return copy.deepcopy(self._tls_errors)

    def _tls_error(self, client, exc):
        with self._cond:
            self._tls_errors.append({"client": "%s:%s" % client[:2], "error": str(exc),
                                     "time": time.time()})
            self._cond.notify_all()

    # ------------------------------------------------------------------ data
    def add_collection(self, name):
        with self._lock:
            self._collections.setdefault(name, _Collection(name))
        return name

    def _coll(self, collection):
        if collection is None:
            if not self._collections:
                raise KeyError("no collection defined")
            return next(iter(self._collections.values()))
        return self._collections[collection]

    def collections(self):
        with self._lock:
            return list(self._collections)

    def add_indicators(self, n, collection=None, types=None):
        """Generate n indicators, all updated after every existing one.

        Some consecutive indicators share updated_at (the id breaks the tie).
        `types`: optional list of type names to cycle through.
        Returns deep copies of the new indicators."""
        with self._lock:
            coll = self._coll(collection)
            latest = coll.max_updated()
            t = BASE_TIME if latest is None else latest + 1
            new = []
            for i in range(n):
                tname = types[i % len(types)] if types else None
                ind = self._factory.make(t, tname)
                while ind["id"] in coll.items:
                    ind["id"] = self._factory.next_id
                    self._factory.next_id += 1
                coll.items[ind["id"]] = ind
                new.append(copy.deepcopy(ind))
                # 0 s step about a quarter of the time: ties on updated_at
                t += self._factory.rng.choice([0, 1, 7, 60, 3600])
            return new

    def add_raw_indicators(self, indicators, collection=None):
        """Add indicator objects as given (e.g. a conformance corpus)."""
        with self._lock:
            coll = self._coll(collection)
            for ind in indicators:
                coll.items[ind["id"]] = copy.deepcopy(ind)

    def update_indicator(self, ind_id, collection=None):
        """Bump updated_at past every indicator of the collection, change the
        score, touched_at and one attribute.  Returns the new indicator."""
        with self._lock:
            coll = self._coll(collection)
            ind = coll.items[int(ind_id)]
            t = coll.max_updated() + 1
            ind["updated_at"] = fmt_time(t)
            ind["touched_at"] = fmt_time(t)
            try:
                ind["score"] = (int(ind.get("score", 0)) + 1) % 11
            except (TypeError, ValueError):   # a score object or "7.5" (real_data_shapes)
                ind["score"] = 0
            attrs = ind.setdefault("attributes", [])
            for a in attrs:
                if a.get("name") == "Severity":
                    a["value"] = "Critical" if a["value"] != "Critical" else "High"
                    a["updated_at"] = a["touched_at"] = fmt_time(t)
                    break
            else:
                attrs.append({"id": self._factory.next_attr_id, "attribute_id": 14,
                              "indicator_id": ind["id"], "name": "Severity",
                              "value": "Critical", "created_at": fmt_time(t),
                              "updated_at": fmt_time(t), "touched_at": fmt_time(t)})
                self._factory.next_attr_id += 1
            return copy.deepcopy(ind)

    def indicators(self, collection=None):
        """Deep copies of the collection's indicators in cursor order."""
        with self._lock:
            return copy.deepcopy(self._coll(collection).ordered())

    def indicator(self, ind_id, collection=None):
        with self._lock:
            return copy.deepcopy(self._coll(collection).items[int(ind_id)])

    # ---------------------------------------------------------------- tokens
    def issued_tokens(self):
        with self._lock:
            return list(self._issued)

    def expire_tokens(self):
        """Make every issued token invalid (the next page answers 401)."""
        with self._lock:
            self._tokens.clear()

    def _issue_token(self):
        tok = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[tok] = time.monotonic() + self.token_expires_in
            self._issued.append(tok)
        return tok

    def _token_valid(self, tok):
        with self._lock:
            exp = self._tokens.get(tok)
            return exp is not None and time.monotonic() < exp

    # ----------------------------------------------------------- request log
    def requests(self, kind=None):
        """A copy of the request log, optionally only 'token' or 'page' ones."""
        with self._lock:
            reqs = copy.deepcopy(self._requests)
        if kind is not None:
            reqs = [r for r in reqs if r["kind"] == kind]
        return reqs

    def clear_requests(self):
        with self._lock:
            self._requests.clear()

    def wait_for_requests(self, predicate, timeout=10.0):
        """Wait until predicate(request log) is true; returns the log or raises."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                reqs = copy.deepcopy(self._requests)
                if predicate(reqs):
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("emulator: request condition not met in %ss" % timeout)
                self._cond.wait(min(left, 0.2))

    def _record(self, entry):
        with self._cond:
            self._seq += 1
            entry["seq"] = self._seq
            self._requests.append(entry)
            self._cond.notify_all()

    # ------------------------------------------------------------------ gate
    def hold_pages_after(self, k):
        """Let the next k page requests through, then block the following ones
        until release() (or hold_timeout seconds)."""
        with self._cond:
            self._gate_armed = True
            self._gate_allow = int(k)

    def release(self):
        """Unblock held page requests and disarm the gate."""
        with self._cond:
            self._gate_armed = False
            self._gate_generation += 1
            self._cond.notify_all()

    def held_count(self):
        with self._lock:
            return self._held

    def page_request_count(self):
        with self._lock:
            return self._page_count

    def wait_for_held(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._held == 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _page_gate(self):
        with self._cond:
            self._page_count += 1
            if not self._gate_armed:
                return
            if self._gate_allow > 0:
                self._gate_allow -= 1
                return
            gen = self._gate_generation
            self._held += 1
            self._cond.notify_all()
            deadline = time.monotonic() + self.hold_timeout
            try:
                while gen == self._gate_generation:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            finally:
                self._held -= 1
                self._cond.notify_all()

    # ---------------------------------------------------------------- faults
    def add_fault(self, kind="page", status=None, headers=None, body=None, delay=0.0,
                  truncate=False, drop=False, count=1, drop_mid_body=False):
        """Queue a one-shot fault for the next `count` requests of `kind`
        ("page", "token" or "any"):
          status=500 / 429 / 401 ... answered instead (body: JSON error unless `body`)
          headers={"Retry-After": "2"}     extra response headers
          body="..."                       custom body (with status, or 200 if none)
          delay=1.5                        sleep before answering (then as otherwise)
          truncate=True                    normal answer, JSON cut in half
          drop=True                        close the connection without answering
          drop_mid_body=True               send the status line, the headers (with the
                                           full Content-Length) and half of the body,
                                           then close the connection
        """
        f = {"kind": kind, "status": status, "headers": dict(headers or {}), "body": body,
             "delay": float(delay), "truncate": bool(truncate), "drop": bool(drop)}
        if drop_mid_body:
            f["drop_mid_body"] = True
        with self._lock:
            for _ in range(count):
                self._faults.append(dict(f))

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def _take_fault(self, kind):
        with self._lock:
            for i, f in enumerate(self._faults):
                if f["kind"] in (kind, "any"):
                    return self._faults.pop(i)
        return None

    # -------------------------------------------------------------- handlers
    def _handle_token(self, req):
        """-> (status, body object)"""
        if req["method"] != "POST":
            return 405, {"error": "method_not_allowed"}
        ctype = req["headers"].get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request",
                         "error_description": "Content-Type must be "
                                              "application/x-www-form-urlencoded"}
        auth = req["headers"].get("authorization", "")
        if not auth.startswith("Basic "):
            return 401, {"error": "invalid_client",
                         "error_description": "HTTP Basic client authentication required"}
        try:
            cid, _, csec = base64.b64decode(auth[6:].strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return 401, {"error": "invalid_client", "error_description": "bad Basic header"}
        form = urllib.parse.parse_qs(req["body"], keep_blank_values=True)
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant_type must be client_credentials"}
        if cid != self.client_id or csec != self.client_secret:
            return 401, {"error": "invalid_client",
                         "error_description": "Client authentication failed"}
        return 200, {"access_token": self._issue_token(), "token_type": "Bearer",
                     "expires_in": self.token_expires_in,
                     "refresh_token": secrets.token_urlsafe(24)}

    def _handle_page(self, req, collection):
        if req["method"] != "GET":
            return 405, {"error": "method_not_allowed"}
        auth = req["headers"].get("authorization", "")
        if not auth.startswith("Bearer ") or not self._token_valid(auth[7:]):
            return 401, {"error": "invalid_token",
                         "error_description": "The access token is missing, invalid "
                                              "or expired"}
        accept = req["headers"].get("accept", "")
        if "application/json" not in accept:
            return 406, {"error": "Accept must include application/json"}
        q = req["query_multi"]
        for name in ("cursorMark", "limit", "sort"):
            if len(q.get(name, [])) != 1:
                return 400, {"error": "exactly one %s parameter is required" % name}
        if q["sort"][0] != "updated_at":
            return 400, {"error": "this emulator only sorts by updated_at"}
        try:
            limit = int(q["limit"][0])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            return 400, {"error": "limit must be 1..1000"}
        mark = q["cursorMark"][0]
        try:
            pos = decode_cursor(mark)
        except ValueError as e:
            return 400, {"error": "invalid cursorMark", "error_description": str(e)}
        fields = q["fields"][-1] if "fields" in q else None
        with self._lock:
            if collection not in self._collections:
                return 404, {"error": "collection not found"}
            coll = self._collections[collection]
            items = coll.ordered()
            if pos is not None:
                items = [i for i in items
                         if (parse_time(i["updated_at"]), int(i["id"])) > tuple(pos)]
            items = items[:limit]
            total = len(coll.items)
            data = [_project(i, fields) for i in items]
        if items:
            nxt = encode_cursor(items[-1]["updated_at"], items[-1]["id"])
        else:
            nxt = mark
        return 200, {"total": total,
                     "data": data if data or not self.empty_data_as_object else {},
                     "nextCursorMark": nxt, "limit": limit}

    # control API (CLI mode); returns (status, obj)
    def _handle_control(self, req):
        path = req["path"][len(CONTROL_PREFIX):]
        q = req["query"]
        m = req["method"]
        if path == "requests" and m == "GET":
            return 200, self.requests(q.get("kind"))
        if path == "requests" and m == "DELETE":
            self.clear_requests()
            return 200, {}
        if path == "indicators" and m == "GET":
            return 200, self.indicators(q.get("collection"))
        if path == "indicators" and m == "POST":
            new = self.add_indicators(int(q.get("count", "1")), q.get("collection"))
            return 200, {"ids": [i["id"] for i in new]}
        if path == "update" and m == "POST":
            try:
                return 200, self.update_indicator(int(q["id"]), q.get("collection"))
            except (KeyError, ValueError):
                return 404, {"error": "no such indicator"}
        if path == "hold" and m == "POST":
            self.hold_pages_after(int(q.get("after", "0")))
            return 200, {}
        if path == "release" and m == "POST":
            self.release()
            return 200, {}
        if path == "fault" and m == "POST":
            spec = json.loads(req["body"] or "{}")
            self.add_fault(**spec)
            return 200, {}
        if path == "expire-tokens" and m == "POST":
            self.expire_tokens()
            return 200, {}
        if path == "state" and m == "GET":
            with self._lock:
                return 200, {"collections": {n: len(c.items)
                                             for n, c in self._collections.items()},
                             "page_requests": self._page_count, "held": self._held,
                             "tokens_issued": len(self._issued)}
        return 404, {"error": "unknown control call"}


def make_server_ssl_context(cert, key=None, client_ca=None):
    """A server-side SSLContext; with client_ca a client certificate is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    return ctx


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer; with an ssl_context, the TLS handshake runs in the
    connection's thread (a stalled client does not block accept())."""
    daemon_threads = True
    ssl_context = None
    emulator = None

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(10)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as e:
            if self.emulator is not None:
                self.emulator._tls_error(client_address, e)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ThreatQEmulator/1.0"
    emulator = None  # set by ThreatQEmulator.start()

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _dispatch(self):
        emu = self.emulator
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        qm = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = urllib.parse.unquote(parsed.path)
        req = {
            "method": self.command,
            "path": path,
            "raw_path": parsed.path,
            "raw_query": parsed.query,
            "query_multi": qm,
            "query": {k: v[-1] for k, v in qm.items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "header_list": [[k, v] for k, v in self.headers.items()],
            "body": body,
            "time": time.time(),
            "status": None,
            "fault": None,
            "response": None,
        }

        if path.startswith(CONTROL_PREFIX):
            status, obj = emu._handle_control(req)
            self._send(status, json.dumps(obj).encode())
            return

        if path == emu.token_path:
            kind = "token"
        elif path.startswith(PAGE_PREFIX) and len(path) > len(PAGE_PREFIX):
            kind = "page"
        else:
            kind = "other"
        req["kind"] = kind

        if kind == "page":
            emu._page_gate()
        fault = emu._take_fault(kind)
        req["fault"] = fault
        if fault and fault["delay"]:
            time.sleep(fault["delay"])
        if fault and fault["drop"]:
            req["status"] = 0
            emu._record(req)
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return

        if fault and (fault["status"] is not None or fault["body"] is not None):
            status = fault["status"] if fault["status"] is not None else 200
            if fault["body"] is not None:
                payload = fault["body"].encode() if isinstance(fault["body"], str) \
                    else fault["body"]
            else:
                payload = json.dumps({"error": "emulated fault", "status": status}).encode()
            if fault["truncate"]:
                payload = payload[:max(1, len(payload) // 2)]
            req["status"] = status
            emu._record(req)
            self._send(status, payload, fault["headers"], fault.get("drop_mid_body", False))
            return

        if kind == "token":
            status, obj = emu._handle_token(req)
        elif kind == "page":
            status, obj = emu._handle_page(req, path[len(PAGE_PREFIX):])
        else:
            status, obj = 404, {"error": "not found"}
        if kind == "page" and status == 200:
            req["response"] = {"items": len(obj["data"]), "total": obj["total"],
                               "nextCursorMark": obj["nextCursorMark"],
                               "ids": [i["id"] for i in obj["data"]]}
        payload = json.dumps(obj).encode()
        extra = {}
        if fault:
            extra = fault["headers"]
            if fault["truncate"]:
                payload = payload[:max(1, len(payload) // 2)]
        if status == 401 and kind == "page":
            extra = dict(extra)
            extra.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
        req["status"] = status
        emu._record(req)
        self._send(status, payload, extra, bool(fault and fault.get("drop_mid_body")))

    def _send(self, status, payload, headers=None, drop_mid_body=False):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            if drop_mid_body:
                self.wfile.write(payload[:len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


def main(argv=None):
    p = argparse.ArgumentParser(description="ThreatQ REST API emulator (tests and demo)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--collection", action="append", default=None,
                   help="collection id (repeatable); default 'demo'")
    p.add_argument("--indicators", type=int, default=20,
                   help="indicators generated in each collection")
    p.add_argument("--client-id", default="id")
    p.add_argument("--client-secret", default="secret")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--token-expires-in", type=int, default=3600)
    p.add_argument("--empty-data-object", action="store_true",
                   help='answer an exhausted page with "data": {} (Elastic mock quirk)')
    p.add_argument("--token-path", default=TOKEN_PATH, help="token endpoint path")
    p.add_argument("--port-file", help="write the port number to this file once listening")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    p.add_argument("--tls-client-ca", help="require a client certificate signed by this CA")
    p.add_argument("--real-data-shapes", action="store_true",
                   help="also generate URLs without a scheme, score objects and non-integer scores")
    a = p.parse_args(argv)

    emu = ThreatQEmulator(client_id=a.client_id, client_secret=a.client_secret, seed=a.seed,
                          token_expires_in=a.token_expires_in,
                          empty_data_as_object=a.empty_data_object, host=a.host, port=a.port,
                          token_path=a.token_path, tls_cert=a.tls_cert, tls_key=a.tls_key,
                          tls_client_ca=a.tls_client_ca, real_data_shapes=a.real_data_shapes)
    for c in a.collection or ["demo"]:
        emu.add_collection(c)
        emu.add_indicators(a.indicators, collection=c)
    emu.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % emu.port)
        os.replace(tmp, a.port_file)
    print(emu.url, flush=True)
    while not stop.is_set():
        stop.wait(0.5)
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
