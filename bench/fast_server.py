#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fast ThreatQ API server for the benchmark (Python 3 standard library only).

tests/emulator/threatq_emulator.py is built for tests: it keeps every indicator
in memory, sorts the whole collection on every page request and logs every
request, so a page costs O(N) and 1,000,000 indicators would take hours.  This
server answers the same two calls the threatq() source makes:

  POST /api/token                                   OAuth2 client_credentials
  GET  /api/indicators/query/hash/<collection>?cursorMark=&fields=&limit=&sort=updated_at

with the same cursor semantics (an opaque base64 cursorMark holding the
(updated_at, id) of the last item of a page; "*" is the start; the items
strictly after the cursor are returned; an exhausted collection answers
"data": [] and echoes the cursorMark).  Cursors are produced with the
emulator's own encode_cursor(), so they contain '+', '/' and '='.

Indicators are generated lazily and deterministically: a pool of POOL
realistic indicators is made once with the emulator's IndicatorFactory (same
shapes: several attributes and sources, adversaries, descriptions, all the
indicator types) and pre-rendered as compact JSON templates.  Indicator i of
the collection is template i % POOL with its own id (ID0 + i, also in the
attributes' and sources' indicator_id) and its own updated_at (BASE + i
seconds), so ids and cursor positions are unique and strictly increasing and
nothing but the pool and the last few rendered pages is ever in memory.

Pages are rendered once and kept (the last few) in memory; once a page has
been sent the next one is rendered ahead in a background thread, so a request
is normally answered from memory (page_misses in /_bench/stats counts the
ones that were not).

With --match-mix the values follow bench/match/indicators.py instead (the mixed types
of the threatq-match() comparison, bench/match/compare.sh): indicator i has that
module's indicator(i) value and score(i), status Active and an expires_at far ahead,
and the rest (attributes, sources, description) from a small pool per type.

GET /_bench/stats returns counters (first/last page request time, pages,
bytes, tokens, page_seconds: time from reading a page request to having
written the whole answer, i.e. how long the client waited on pages) for the benchmark driver; POST /_bench/reset zeroes them.

usage: fast_server.py --indicators N [--port 0] [--port-file F] [--match-mix [wide|few]]
                      [--collection bench] [--client-id id] [--client-secret secret]
"""

import argparse
import base64
import binascii
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "emulator"))
import threatq_emulator as emu  # noqa: E402  (IndicatorFactory, cursors, time format)

POOL = 10007            # prime, so templates do not line up with pages
ID0 = 1000000
BASE = emu.BASE_TIME    # 2023-01-02 03:04:05 UTC
ID_MARK = 987654321987  # placeholder values that cannot occur in generated data
UPDATED_MARK = "@@UPDATED_AT@@"
VALUE_MARK = "@@VALUE@@"
SCORE_MARK = 876543219876
MIX_POOL = 13           # templates per type with --match-mix
MIX_EXPIRES_AT = "2099-12-31 00:00:00"


def _build_templates(seed):
    """POOL %-format templates with %(id)d and %(upd)s slots."""
    factory = emu.IndicatorFactory(seed)
    templates = []
    sizes = 0
    for _ in range(POOL):
        ind = factory.make(BASE)
        ind["id"] = ID_MARK
        ind["updated_at"] = UPDATED_MARK
        for sub in ind.get("attributes", []) + ind.get("sources", []):
            if "indicator_id" in sub:
                sub["indicator_id"] = ID_MARK
        text = json.dumps(ind, separators=(",", ":"))
        sizes += len(text.encode("utf-8"))
        text = text.replace("%", "%%")
        text = text.replace(str(ID_MARK), "%(id)d").replace(UPDATED_MARK, "%(upd)s")
        templates.append(text)
    return templates


def _build_mix_templates(seed, types):
    """{type name: MIX_POOL templates} with %(id)d, %(upd)s, %(value)s and %(score)d slots,
    every indicator Active and not expiring (--match-mix)."""
    factory = emu.IndicatorFactory(seed)
    active = next(s for s in emu.STATUSES if s["name"] == "Active")
    templates = {}
    for tname in types:
        for _ in range(MIX_POOL):
            ind = factory.make(BASE, tname)
            ind.update(id=ID_MARK, updated_at=UPDATED_MARK, value=VALUE_MARK, score=SCORE_MARK,
                       status=dict(active), status_id=active["id"], expires_at=MIX_EXPIRES_AT)
            ind.pop("expired_at", None)
            for sub in ind.get("attributes", []) + ind.get("sources", []):
                if "indicator_id" in sub:
                    sub["indicator_id"] = ID_MARK
                if "indicator_status_id" in sub:
                    sub["indicator_status_id"] = active["id"]
            text = json.dumps(ind, separators=(",", ":")).replace("%", "%%")
            text = text.replace(str(ID_MARK), "%(id)d").replace(UPDATED_MARK, "%(upd)s")
            text = text.replace('"%s"' % VALUE_MARK, "%(value)s").replace(str(SCORE_MARK), "%(score)d")
            templates.setdefault(tname, []).append(text)
    return templates


def _load_mix(prefixes):
    sys.path.insert(0, os.path.join(HERE, "match"))
    import indicators  # noqa: E402  (bench/match/indicators.py)
    indicators.use_prefixes(prefixes)
    return indicators


class Collection:
    def __init__(self, n, seed, match_mix=None):
        self.n = n
        self.mix = _load_mix(match_mix) if match_mix else None
        if self.mix:
            self.mix_templates = _build_mix_templates(seed, sorted(set(emu.TYPES) & set(
                self.mix.indicator(i)[0] for i in range(100))))
            self.templates = [t for ts in self.mix_templates.values() for t in ts]
        else:
            self.templates = _build_templates(seed)
        self._lock = threading.Lock()
        self._pages = {}           # (start, limit) -> bytes
        self._order = []
        self._rendering = set()
        self.lookups = 0
        self.misses = 0      # pages not rendered ahead in time
        self.keep_all = False

    @staticmethod
    def updated_at(i):
        return emu.fmt_time(BASE + i)

    def position_after(self, mark):
        """Index of the first item after cursorMark (ValueError if invalid)."""
        pos = emu.decode_cursor(mark)
        if pos is None:
            return 0
        epoch, ind_id = pos
        i = ind_id - ID0
        if i < 0 or i >= self.n or epoch != BASE + i:
            raise ValueError("cursorMark does not point at an item of this collection")
        return i + 1

    def render(self, start, limit, mark):
        end = min(self.n, start + limit)
        if self.mix:
            items = [self._mix_item(i) for i in range(start, end)]
        else:
            tmpl = self.templates
            pool = len(tmpl)
            items = [tmpl[i % pool] % {"id": ID0 + i, "upd": emu.fmt_time(BASE + i)}
                     for i in range(start, end)]
        if end > start:
            nxt = emu.encode_cursor(self.updated_at(end - 1), ID0 + end - 1)
        else:
            nxt = mark
        body = '{"total":%d,"data":[%s],"nextCursorMark":%s,"limit":%d}' % (
            self.n, ",".join(items), json.dumps(nxt), limit)
        return body.encode("utf-8")

    def _mix_item(self, i):
        tname, value = self.mix.indicator(i)
        tmpl = self.mix_templates[tname]
        return tmpl[i % len(tmpl)] % {"id": ID0 + i, "upd": emu.fmt_time(BASE + i),
                                      "value": json.dumps(value), "score": self.mix.score(i)}

    def _store(self, key, body):
        with self._lock:
            if key not in self._pages:
                self._pages[key] = body
                self._order.append(key)
                while len(self._order) > 4 and not self.keep_all:
                    self._pages.pop(self._order.pop(0), None)
            self._rendering.discard(key)

    def page(self, start, limit, mark):
        key = (start, limit)
        with self._lock:
            body = self._pages.get(key)
        self.lookups += 1
        if body is None:
            self.misses += 1
            body = self.render(start, limit, mark)
            self._store(key, body)
        return body

    def prerender(self, limit):
        """Render every page before the clock starts: a real ThreatQ server runs on
        another machine, so its CPU should not compete with syslog-ng's here."""
        self.keep_all = True
        for start in range(0, self.n + 1, limit):
            mark = "*" if start == 0 else emu.encode_cursor(self.updated_at(start - 1), ID0 + start - 1)
            self._store((start, limit), self.render(start, limit, mark))

    def prefetch(self, start, limit):
        """Render the page starting at `start` in the background (called once the
        previous page has been written, so that rendering does not hold the GIL
        while that page is being sent)."""
        if start >= self.n:
            return
        key = (start, limit)
        with self._lock:
            if key in self._pages or key in self._rendering:
                return
            self._rendering.add(key)
        mark = emu.encode_cursor(self.updated_at(start - 1), ID0 + start - 1)
        threading.Thread(target=lambda: self._store(key, self.render(start, limit, mark)),
                         daemon=True).start()


class Server:
    def __init__(self, n, collection="bench", client_id="id", client_secret="secret",
                 seed=0, host="127.0.0.1", port=0, match_mix=None):
        self.collection_name = collection
        self.client_id = client_id
        self.client_secret = client_secret
        self.coll = Collection(n, seed, match_mix)
        self.tokens = set()
        self.next_prefetch = None
        self.lock = threading.Lock()
        self.stats = {"pages": 0, "items": 0, "bytes": 0, "tokens": 0, "errors": 0,
                      "page_seconds": 0.0,
                      "first_page_time": None, "last_page_time": None,
                      "template_bytes_avg": sum(len(t) for t in self.coll.templates)
                      / len(self.coll.templates)}
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True

    @property
    def port(self):
        return self.httpd.server_address[1]

    def token(self, headers, body):
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request"}
        auth = headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return 401, {"error": "invalid_client"}
        try:
            cid, _, csec = base64.b64decode(auth[6:].strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return 401, {"error": "invalid_client"}
        if urllib.parse.parse_qs(body).get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type"}
        if (cid, csec) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        tok = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(tok)
            self.stats["tokens"] += 1
        return 200, {"access_token": tok, "token_type": "Bearer", "expires_in": 3600}

    def page(self, collection, headers, query):
        auth = headers.get("authorization", "")
        with self.lock:
            ok = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not ok:
            return 401, {"error": "invalid_token"}
        if "application/json" not in headers.get("accept", ""):
            return 406, {"error": "Accept must include application/json"}
        if collection != self.collection_name:
            return 404, {"error": "collection not found"}
        for name in ("cursorMark", "limit", "sort"):
            if len(query.get(name, [])) != 1:
                return 400, {"error": "exactly one %s parameter is required" % name}
        if query["sort"][0] != "updated_at":
            return 400, {"error": "only sort=updated_at"}
        try:
            limit = int(query["limit"][0])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            return 400, {"error": "limit must be 1..1000"}
        mark = query["cursorMark"][0]
        try:
            start = self.coll.position_after(mark)
        except ValueError as e:
            return 400, {"error": "invalid cursorMark", "error_description": str(e)}
        body = self.coll.page(start, limit, mark)
        self.next_prefetch = (start + limit, limit)
        now = time.time()
        with self.lock:
            st = self.stats
            st["pages"] += 1
            st["items"] += max(0, min(self.coll.n, start + limit) - start)
            st["bytes"] += len(body)
            if st["first_page_time"] is None:
                st["first_page_time"] = now
            st["last_page_time"] = now
        return 200, body

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ThreatQBench/1.0"
    server_state = None

    def log_message(self, fmt, *args):
        pass

    def _dispatch(self):
        srv = self.server_state
        started = time.monotonic()
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.unquote(parsed.path)
        if path == "/api/token" and self.command == "POST":
            status, obj = srv.token(headers, body)
        elif path.startswith(emu.PAGE_PREFIX) and self.command == "GET":
            status, obj = srv.page(path[len(emu.PAGE_PREFIX):], headers,
                                   urllib.parse.parse_qs(parsed.query, keep_blank_values=True))
        elif path == "/_bench/stats":
            with srv.lock:
                status, obj = 200, dict(srv.stats, page_lookups=srv.coll.lookups,
                                        page_misses=srv.coll.misses)
        elif path == "/_bench/reset" and self.command == "POST":
            with srv.lock:
                srv.stats.update(pages=0, items=0, bytes=0, tokens=0, errors=0, page_seconds=0.0,
                                 first_page_time=None, last_page_time=None)
                status, obj = 200, {}
        else:
            status, obj = 404, {"error": "not found"}
        if status != 200:
            with srv.lock:
                srv.stats["errors"] += 1
        payload = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True
        if status == 200 and path.startswith(emu.PAGE_PREFIX):
            with srv.lock:
                srv.stats["page_seconds"] += time.monotonic() - started
                ahead, srv.next_prefetch = srv.next_prefetch, None
            if ahead:
                srv.coll.prefetch(*ahead)

    do_GET = do_POST = _dispatch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--indicators", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--collection", default="bench")
    p.add_argument("--client-id", default="id")
    p.add_argument("--client-secret", default="secret")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prerender", type=int, metavar="PAGE_SIZE", default=0,
                   help="render every page of this size up front (before the port is announced)")
    p.add_argument("--match-mix", nargs="?", const="wide", choices=("wide", "few"),
                   help="values of bench/match/indicators.py, all Active (bench/match/compare.sh);"
                   " its CIDR prefix lengths (default wide)")
    a = p.parse_args(argv)
    srv = Server(a.indicators, a.collection, a.client_id, a.client_secret, a.seed,
                 a.host, a.port, a.match_mix)
    if a.prerender:
        srv.coll.prerender(a.prerender)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print("http://%s:%d" % (a.host, srv.port), flush=True)
    while not stop.is_set():
        stop.wait(0.5)
    srv.httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
