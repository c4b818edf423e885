# SPDX-License-Identifier: GPL-2.0-or-later
"""ThreatQ indicators through syslog-ng's python-fetcher() (syslog-ng 3.38).

The baseline of bench/run.sh: what a syslog-ng user would write today
instead of the threatq() C module, with the Python standard library only
(urllib.request + json).  It makes the same requests as threatq()
(OAuth2 client credentials, GET /api/indicators/query/hash/<collection> with
cursorMark paging sorted by updated_at, pages of 1,000) and maps each
indicator to the same ECS document (MESSAGE = compact JSON, keys sorted, the
same fields as threatq()'s mapper) plus the same fields as name-value pairs.

Configuration (a global python {} block is needed for syslogng.Persist on 3.38):

    python { };                      # or any global python code
    source s_py {
      python-fetcher(
        class("threatq_python_fetcher.ThreatQFetcher")
        options("url" => "https://threatq.example.com" "collection" => "..."
                "client_id" => "..." "client_secret" => "..."
                "page_size" => "1000" "poll_interval" => "60")
        fetch-no-data-delay(60)      # the poll interval once drained
      );
    };

(with the directory of this file on PYTHONPATH).

Delivery: every message carries a bookmark (its page number).  A
BatchedAckTracker reports acknowledged bookmarks in batches; the cursor kept
in syslogng.Persist moves to a page's nextCursorMark once every message of
that page and of all the pages before it has been acknowledged -- the same
at-least-once rule as threatq().  (ConsecutiveAckTracker would be the natural
choice, but on 3.38 its callback deadlocks against the GIL.)
"""

import base64
import collections
import datetime
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

from syslogng import BatchedAckTracker, LogFetcher, LogMessage, Logger, Persist

logger = Logger()

DEFAULT_FIELDS = "*,sources,attributes,attributes.name,attributes.value"
EPOCH = datetime.datetime(1970, 1, 1)
UTC = datetime.timezone.utc

# ThreatQ type -> (threat.indicator.type, how, field)
TYPE_RULES = {
    "IP Address": ("ipv4-addr", "ip", "threat.indicator.ip"),
    "IPv6 Address": ("ipv6-addr", "ip", "threat.indicator.ip"),
    "CIDR Block": (None, "cidr", None),
    "FQDN": ("domain-name", "field", "threat.indicator.url.domain"),
    "URL": ("url", "url", None),
    "URL Path": ("url", "field", "threat.indicator.url.path"),
    "Email Address": ("email-addr", "field", "threat.indicator.email.address"),
    "MD5": ("file", "hash", "threat.indicator.file.hash.md5"),
    "SHA-1": ("file", "hash", "threat.indicator.file.hash.sha1"),
    "SHA-256": ("file", "hash", "threat.indicator.file.hash.sha256"),
    "SHA-384": ("file", "hash", "threat.indicator.file.hash.sha384"),
    "SHA-512": ("file", "hash", "threat.indicator.file.hash.sha512"),
    "Filename": ("file", "field", "threat.indicator.file.name"),
    "File Path": ("file", "field", "threat.indicator.file.path"),
    "Mutex": ("mutex", "none", None),
    "Registry Key": ("windows-registry-key", "field", "threat.indicator.registry.key"),
    "ASN": ("autonomous-system", "asn", None),
    "MAC Address": ("mac-addr", "none", None),
    "Username": ("user-account", "none", None),
    "x509 Serial": ("x509-certificate", "field", "threat.indicator.x509.serial_number"),
    "x509 Subject": ("x509-certificate", "field",
                     "threat.indicator.x509.subject.distinguished_name"),
    "User-agent": ("software", "none", None),
}
TLP = {"WHITE", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}
DATE_FIELDS = ("created_at", "updated_at", "published_at", "touched_at", "expires_at",
               "expired_at", "expires_calculated_at")


# --------------------------------------------------------------------------- mapping

def _text(value):
    """A scalar as text; None for absent, null, "" and containers."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return text or None


def _name(value):
    """type / status: an object with a name, or a plain string."""
    return _text(value.get("name")) if isinstance(value, dict) else _text(value)


def _parse_date(text):
    """ThreatQ date ('2023-01-02 03:04:05', also ISO with T, .fff, Z) -> naive UTC datetime."""
    if text is None or len(text) < 19 or text[10] not in " T":
        return None
    try:
        dt = datetime.datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    except ValueError:
        return None
    if dt.tzinfo is not None:
        return None
    return dt


def _iso(dt):
    return dt.isoformat(timespec="milliseconds") + "Z"


def _integer(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value, 10) if isinstance(value, str) and value.strip() == value else None
    except ValueError:
        return None


def _confidence(score):
    if score is None:
        return "Not Specified"
    if score == 0:
        return "None"
    if 1 <= score <= 4:
        return "Low"
    if 5 <= score <= 7:
        return "Medium"
    if 8 <= score <= 10:
        return "High"
    return "Not Specified"


def _tlp(name):
    if name is None:
        return None
    up = name.upper()
    if up.startswith("TLP:"):
        up = up[4:].lstrip(" ")
    return up if up in TLP else None


def _map_url(fields, value):
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.netloc:
        fields["threat.indicator.url.full"] = value
        fields["threat.indicator.url.original"] = value
        return
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("["):
        host = host[:host.find("]") + 1]
    else:
        host = host.partition(":")[0]
    if host:
        fields["threat.indicator.url.domain"] = host
    last = parts.path.rpartition("/")[2]
    if "." in last and not last.endswith("."):
        fields["threat.indicator.url.extension"] = last.rpartition(".")[2]
    if parts.fragment:
        fields["threat.indicator.url.fragment"] = parts.fragment
    fields["threat.indicator.url.original"] = value
    if parts.path:
        fields["threat.indicator.url.path"] = parts.path
    if port is not None:
        fields["threat.indicator.url.port"] = port
    if parts.query:
        fields["threat.indicator.url.query"] = parts.query
    fields["threat.indicator.url.scheme"] = parts.scheme


def map_indicator(ind, received, options):
    """One ThreatQ indicator (a dict) -> (flat {dotted ECS name: value}, timestamp)."""
    f = {}
    errors = []
    dates = {}
    for key in DATE_FIELDS:
        text = _text(ind.get(key))
        if text is not None:
            dt = _parse_date(text)
            if dt is None:
                errors.append("threatq.%s: cannot parse date '%s'" % (key, text[:80]))
            else:
                dates[key] = dt
    ind_id = _integer(ind.get("id"))
    score_raw = ind.get("score")
    score = _integer(score_raw)
    if score_raw not in (None, "") and score is None:
        errors.append("threatq.score: not an integer '%s'" % str(score_raw)[:80])
    type_name = _name(ind.get("type"))
    value = _text(ind.get("value"))
    ind_hash = _text(ind.get("hash"))
    status = _name(ind.get("status"))
    kind, how, field = TYPE_RULES.get(type_name, (None, None, None))
    sources = [s for s in (ind.get("sources") or []) if isinstance(s, dict)]

    updated = dates.get("updated_at")
    timestamp = updated if updated is not None else received
    f["@timestamp"] = _iso(timestamp)
    f["ecs.version"] = "8.3.0"
    f["event.category"] = "threat"
    f["event.created"] = _iso(received)
    f["event.dataset"] = "ti_threatq.threat"
    f["event.kind"] = "enrichment"
    f["event.module"] = "ti_threatq"
    f["event.type"] = "indicator"

    related_hash = [ind_hash] if ind_hash else []
    if value and how == "hash" and value not in related_hash:
        related_hash.append(value)
    if related_hash:
        f["related.hash"] = related_hash
    if value and how == "ip":
        f["related.ip"] = [value]
    if options["tags"]:
        f["tags"] = list(options["tags"])

    f["threat.feed.name"] = options["feed_name"]
    if value and how in ("field", "ip", "hash"):
        f[field] = value
    elif value and how == "url":
        _map_url(f, value)
    elif value and how == "asn":
        digits = value[2:] if value[:2].upper() == "AS" else value
        if digits.isdigit() and int(digits) <= 0xFFFFFFFF:
            f["threat.indicator.as.number"] = int(digits)
        else:
            errors.append("threat.indicator.as.number: not an AS number '%s'" % value[:80])
    if score_raw not in (None, ""):
        f["threat.indicator.confidence"] = _confidence(score)
    description = _text(ind.get("description"))
    if description:
        f["threat.indicator.description"] = description
    if "created_at" in dates:
        f["threat.indicator.first_seen"] = _iso(dates["created_at"])
    if "touched_at" in dates:
        f["threat.indicator.last_seen"] = _iso(dates["touched_at"])
    tlp = []
    for s in sources:
        t = _tlp(_text(s.get("tlp_name")))
        if t and t not in tlp:
            tlp.append(t)
    if tlp:
        f["threat.indicator.marking.tlp"] = tlp
    if updated is not None:
        f["threat.indicator.modified_at"] = _iso(updated)
    providers = []
    for s in sources:
        n = _text(s.get("name"))
        if n and n not in providers:
            providers.append(n)
    if providers:
        f["threat.indicator.provider"] = providers
    if how == "cidr":
        f["threat.indicator.type"] = "ipv6-addr" if value and ":" in value else "ipv4-addr"
    elif kind:
        f["threat.indicator.type"] = kind

    adversaries = [_name(a) for a in (ind.get("adversaries") or []) if isinstance(a, dict)]
    adversaries = [a for a in adversaries if a]
    if adversaries:
        f["threatq.adversaries"] = adversaries
    for a in ind.get("attributes") or []:
        if not isinstance(a, dict):
            continue
        n, v = _text(a.get("name")), _text(a.get("value"))
        if n and v:
            key = "threatq.attributes." + n.lower().replace(" ", "_").replace(".", "_")
            f.setdefault(key, []).append(v)
    klass = _text(ind.get("class"))
    if klass:
        f["threatq.class"] = klass
    for key in ("created_at", "expired_at", "expires_at", "expires_calculated_at"):
        if key in dates:
            f["threatq." + key] = _iso(dates[key])
    if ind_hash:
        f["threatq.hash"] = ind_hash
    if ind_id is not None:
        f["threatq.id"] = ind_id
    if value:
        f["threatq.indicator_value"] = value
    if "expired_at" in dates:
        f["threatq.ioc_expiration_reason"] = "Expiration set by ThreatQ from expired_at field"
        f["threatq.ioc_expired_at"] = _iso(dates["expired_at"])
    elif "expires_at" in dates:
        f["threatq.ioc_expiration_reason"] = "Expiration set by ThreatQ from expires_at field"
        f["threatq.ioc_expired_at"] = _iso(dates["expires_at"])
    elif updated is not None and status == "Expired":
        f["threatq.ioc_expiration_reason"] = "Expiration set because threatq.status is Expired"
        f["threatq.ioc_expired_at"] = _iso(updated)
    elif updated is not None:
        f["threatq.ioc_expiration_reason"] = "Expiration set from ioc-expiration-duration"
        f["threatq.ioc_expired_at"] = _iso(updated + options["ioc_expiration"])
    if "published_at" in dates:
        f["threatq.published_at"] = _iso(dates["published_at"])
    if score is not None:
        f["threatq.score"] = score
    if status:
        f["threatq.status"] = status
    if "touched_at" in dates:
        f["threatq.touched_at"] = _iso(dates["touched_at"])
    if type_name:
        f["threatq.type"] = type_name
    if "updated_at" in dates:
        f["threatq.updated_at"] = _iso(updated)
    if errors:
        f["error.message"] = errors
    return f, timestamp


def nest(flat):
    doc = {}
    for dotted, value in flat.items():
        cur = doc
        parts = dotted.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = value
    return doc


def _duration(text):
    """'90d' / '12h' / '30m' -> timedelta"""
    unit = {"d": 86400, "h": 3600, "m": 60}[text[-1]]
    return datetime.timedelta(seconds=int(text[:-1]) * unit)


# --------------------------------------------------------------------------- fetcher

class ThreatQFetcher(LogFetcher):
    """python-fetcher(class("threatq_python_fetcher.ThreatQFetcher") options(...))"""

    def init(self, options):
        try:
            self.url = options["url"].rstrip("/")
            self.collection = options["collection"]
            self.client_id = options["client_id"]
            self.client_secret = options["client_secret"]
        except KeyError as e:
            logger.error("threatq-python: option %s is mandatory" % e)
            return False
        self.token_url = options.get("token_url") or self.url + "/api/token"
        self.page_size = int(options.get("page_size", "1000"))
        self.fields = options.get("fields", DEFAULT_FIELDS)
        self.timeout = float(options.get("timeout", "30"))
        self.set_nv_pairs = options.get("name_value_pairs", "yes") == "yes"
        self.map_options = {
            "feed_name": options.get("feed_name", "ThreatQuotient"),
            "tags": [t for t in options.get("tags", "").split(",") if t],
            "ioc_expiration": _duration(options.get("ioc_expiration_duration", "90d")),
        }
        persist_name = options.get("persist_name") or \
            "threatq-python(%s,%s)" % (self.url, self.collection)
        self.persist = Persist(persist_name, defaults={"cursor": "*"})
        self.cursor = self.persist["cursor"]   # where the next request starts
        self.token = None
        self.token_expiry = EPOCH
        self.items = collections.deque()       # (indicator, page number) of the current page
        self.page_no = 0
        self.received = None
        # page number -> [unacked messages, nextCursorMark]; guarded by ack_lock
        self.ack_lock = threading.Lock()
        self.pending = collections.OrderedDict()
        self.ack_tracker = BatchedAckTracker(timeout=200, batch_size=1000,
                                             batched_ack_callback=self._acked)
        return True

    # -- HTTP
    def _request(self, req):
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def _get_token(self):
        basic = base64.b64encode(("%s:%s" % (self.client_id, self.client_secret)).encode()).decode()
        req = urllib.request.Request(
            self.token_url, data=b"grant_type=client_credentials", method="POST",
            headers={"Authorization": "Basic " + basic, "Accept": "application/json",
                     "Content-Type": "application/x-www-form-urlencoded"})
        answer = self._request(req)
        self.token = answer["access_token"]
        lifetime = int(answer.get("expires_in", 3600))
        self.token_expiry = datetime.datetime.utcnow() + \
            datetime.timedelta(seconds=max(lifetime - 60, lifetime * 3 // 4))

    def _get_page(self):
        if self.token is None or datetime.datetime.utcnow() >= self.token_expiry:
            self._get_token()
        query = urllib.parse.urlencode({"cursorMark": self.cursor, "fields": self.fields,
                                        "limit": self.page_size, "sort": "updated_at"})
        url = "%s/api/indicators/query/hash/%s?%s" % (
            self.url, urllib.parse.quote(self.collection, safe=""), query)
        for attempt in (1, 2):
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + self.token,
                                                       "Accept": "application/json"})
            try:
                return self._request(req)
            except urllib.error.HTTPError as e:
                if e.code != 401 or attempt == 2:
                    raise
                self._get_token()

    def open(self):
        try:
            self._get_token()
        except (OSError, ValueError, KeyError) as e:
            logger.error("threatq-python: token request failed: %s" % e)
            return False
        return True

    def close(self):
        pass

    def request_exit(self):
        pass

    # -- acknowledgements (called from another thread)
    def _acked(self, bookmarks):
        with self.ack_lock:
            for page in bookmarks:
                self.pending[page][0] -= 1
            while self.pending:
                page, (left, next_cursor) = next(iter(self.pending.items()))
                if left:
                    break
                self.pending.popitem(last=False)
                self.persist["cursor"] = next_cursor

    # -- fetching
    def fetch(self):
        if not self.items:
            try:
                page = self._get_page()
            except (OSError, ValueError, KeyError) as e:
                logger.error("threatq-python: page request failed: %s" % e)
                return LogFetcher.FETCH_ERROR, None
            data = page.get("data") if isinstance(page, dict) else None
            next_cursor = page.get("nextCursorMark") if isinstance(page, dict) else None
            if not data or not isinstance(data, list) or next_cursor == self.cursor:
                return LogFetcher.FETCH_NO_DATA, None     # drained: poll again later
            self.page_no += 1
            with self.ack_lock:
                self.pending[self.page_no] = [len(data), next_cursor]
            self.cursor = next_cursor
            self.received = datetime.datetime.utcnow()
            self.items.extend((ind, self.page_no) for ind in data)

        ind, page_no = self.items.popleft()
        if not isinstance(ind, dict):
            flat, ts = {"error.message": ["data element is not an object"]}, self.received
        else:
            flat, ts = map_indicator(ind, self.received, self.map_options)
        msg = LogMessage(json.dumps(nest(flat), sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False))
        if self.set_nv_pairs:
            for key, value in flat.items():
                if isinstance(value, list):
                    value = ",".join(value)
                elif not isinstance(value, str):
                    value = str(value)
                msg[key] = value
        msg.set_timestamp(ts.replace(tzinfo=UTC))
        msg.set_bookmark(page_no)
        return LogFetcher.FETCH_SUCCESS, msg
