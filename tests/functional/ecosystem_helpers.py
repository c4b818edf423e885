# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for tests/functional/test_ecosystem.py: the threatq() source with
other parts of the syslog-ng ecosystem (the threatq SCL, elasticsearch-http(),
sql() with a real PostgreSQL server).

Nothing here skips: a missing package is reported as a test failure that names
the Debian package to install (tests/install-deps.sh installs all of them).
"""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import syslogng

REPO = syslogng.REPO
REPO_SCL = REPO / "scl" / "threatq" / "threatq.conf"
SYSTEM_SCL_DIR = Path("/usr/share/syslog-ng/include/scl")
INSTALLED_SCL = SYSTEM_SCL_DIR / "threatq" / "threatq.conf"
INSTALLED_EXAMPLES = Path("/usr/share/doc/syslog-ng-mod-threatq/examples")
REPO_EXAMPLES = REPO / "examples"


def require(condition, what, package):
    if not condition:
        pytest.fail("%s is missing: install the Debian package %s (tests/install-deps.sh)"
                    % (what, package), pytrace=False)


def require_file(path, package):
    require(Path(path).exists(), str(path), package)


def require_syslog_ng_module(name, package):
    require_file(Path(syslogng.SYSTEM_MODULE_DIR) / ("lib%s.so" % name), package)


# ---------------------------------------------------------------------------
# configuration

def scl_includes():
    """The @include lines that make the threatq SCL available.

    Installed package: scl.conf reads /usr/share/syslog-ng/include/scl/*/*.conf,
    threatq/threatq.conf among them.  Source tree: scl.conf, then this
    checkout's scl/threatq/threatq.conf explicitly (including it twice would
    define its blocks twice, so a system-wide copy must not be installed then).
    """
    # 3.38 ships it in /etc/syslog-ng, 4.x in its include path (/usr/share/syslog-ng/include)
    require_file(syslogng.SCL_CONF, "syslog-ng-core")
    require_file(SYSTEM_SCL_DIR / "elasticsearch" / "elastic-http.conf", "syslog-ng-scl")
    if syslogng.installed_mode():
        require_file(INSTALLED_SCL, "syslog-ng-mod-threatq (tests/package-check.sh installs it)")
        return '@include "scl.conf"\n'
    if INSTALLED_SCL.exists():
        pytest.fail("%s exists (syslog-ng-mod-threatq is installed) and would clash with this "
                    "checkout's SCL; remove the package or run with THREATQ_INSTALLED=1"
                    % INSTALLED_SCL, pytrace=False)
    return '@include "scl.conf"\n@include "%s"\n' % REPO_SCL


def with_repo_scl(config_text):
    """A configuration that includes scl.conf, made to see this checkout's SCL
    too (source-tree mode only)."""
    if syslogng.installed_mode():
        return config_text
    marker = '@include "scl.conf"'
    assert marker in config_text, "the configuration does not include scl.conf"
    return config_text.replace(marker, scl_includes().rstrip("\n"), 1)


# ---------------------------------------------------------------------------
# an Elasticsearch _bulk endpoint stand-in

class RecordingReceiver:
    """HTTP server on 127.0.0.1 (port 0) that records every POST and PUT request
    and answers what answer() returns; subclasses model one service."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = {"method": self.command, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body.decode("utf-8")}
                with receiver._lock:
                    status, answer = receiver.answer(request)
                    request["status"] = status
                    receiver._requests.append(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, request):
        """(status, JSON answer) for a request; called with the lock held."""
        raise NotImplementedError

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def requests(self):
        with self._lock:
            return [dict(r) for r in self._requests]


class BulkReceiver(RecordingReceiver):
    """Answers each POST like Elasticsearch's _bulk API does when all items
    succeeded, and each PUT (an index template) with put_status (default 200,
    acknowledged)."""

    def __init__(self):
        super().__init__()
        self.put_status = 200

    def answer(self, request):
        if request["method"] == "PUT":
            if self.put_status == 200:
                return 200, {"acknowledged": True}
            return self.put_status, {"error": {"type": "test"}, "status": self.put_status}
        items = max(0, request["body"].count("\n") // 2)
        return 200, {"took": 1, "errors": False, "items": [{"index": {"status": 200}}] * items}

    def bulk_items(self):
        """[(action dict, document text, request index)] over every request, in
        order.  Raises AssertionError if a body is not action/document pairs."""
        items = []
        for n, req in enumerate(self.requests()):
            if req["method"] != "POST":
                continue
            body = req["body"]
            assert body.endswith("\n"), "request %d: _bulk body must end with a newline: %r" % (
                n, body[-200:])
            lines = body[:-1].split("\n")
            assert len(lines) % 2 == 0, "request %d: odd number of lines (%d)" % (n, len(lines))
            for i in range(0, len(lines), 2):
                items.append((json.loads(lines[i]), lines[i + 1], n))
        return items


# ---------------------------------------------------------------------------
# a Splunk HTTP Event Collector stand-in

HEC_PATH = "/services/collector/event"


def split_hec_events(body):
    """The JSON objects of a HEC /event body: objects one after another, whitespace
    between them allowed (what HEC accepts).  Raises ValueError naming the first
    bad event (0-based), as HEC answers 400 with invalid-event-number."""
    decoder = json.JSONDecoder()
    events, i = [], 0
    while True:
        while i < len(body) and body[i] in " \t\r\n":
            i += 1
        if i == len(body):
            break
        try:
            obj, i = decoder.raw_decode(body, i)
        except ValueError as e:
            raise ValueError("event %d: %s" % (len(events), e))
        if not isinstance(obj, dict) or "event" not in obj:
            raise ValueError("event %d: not an object with an \"event\" key" % len(events))
        events.append(obj)
    if not events:
        raise ValueError("no data")
    return events


class HecReceiver(RecordingReceiver):
    """Answers like Splunk's HEC: 200 {"text":"Success","code":0} for a body of valid
    events sent to /services/collector/event with "Authorization: Splunk <token>";
    401/403 for a missing/wrong token, 400 for invalid data, 404 for another path.
    fail_next(n, status) makes the next n event requests fail with status (503: HEC
    busy); their events are not accepted."""

    def __init__(self, token):
        super().__init__()
        self.token = token
        self._failures = []
        self._accepted = []  # (request number, event)

    def fail_next(self, n, status=503):
        with self._lock:
            self._failures.extend([status] * n)

    def answer(self, request):
        if request["path"].split("?")[0] != HEC_PATH or request["method"] != "POST":
            return 404, {"text": "The requested URL was not found on this server.", "code": 404}
        auth = request["headers"].get("authorization")
        if auth is None:
            return 401, {"text": "Token is required", "code": 2}
        if auth != "Splunk " + self.token:
            return 403, {"text": "Invalid token", "code": 4}
        if self._failures:
            return self._failures.pop(0), {"text": "Server is busy", "code": 9}
        try:
            events = split_hec_events(request["body"])
        except ValueError as e:
            return 400, {"text": "Invalid data format (%s)" % e, "code": 6}
        n = len(self._requests)
        self._accepted.extend((n, e) for e in events)
        return 200, {"text": "Success", "code": 0}

    def accepted(self):
        """[(request number, event dict)] of every accepted event, in arrival order."""
        with self._lock:
            return list(self._accepted)


# ---------------------------------------------------------------------------
# a throwaway PostgreSQL cluster

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    require(found, "PostgreSQL server (initdb, pg_ctl)", "postgresql")
    return Path(found[-1]).parent


class PostgresCluster:
    """initdb + pg_ctl into a temporary directory, listening on 127.0.0.1 on a
    free port and on a Unix socket in that directory, trust authentication.
    As root, the server runs as the `postgres` user (initdb refuses root)."""

    def __init__(self):
        self.bindir = postgres_bindir()
        require(shutil.which("psql") or (self.bindir / "psql").exists(), "psql",
                "postgresql-client")
        self.run_as = None
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root but there is no `postgres` user to run the "
                            "PostgreSQL server as: install the Debian package postgresql",
                            pytrace=False)
        # As root the server runs as `postgres`, which must reach this directory:
        # /tmp, not a TMPDIR that may sit below a private home.
        self.dir = Path(tempfile.mkdtemp(prefix="threatq-pg-",
                                         dir="/tmp" if self.run_as is not None else None))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        self.port = _free_port()
        self.user = "postgres"
        self.started = False
        if self.run_as is not None:
            os.chown(self.dir, self.run_as.pw_uid, self.run_as.pw_gid)
        os.chmod(self.dir, 0o755)

    def _run(self, cmd, check=True, timeout=120):
        kwargs = {}
        if self.run_as is not None:
            kwargs = dict(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        env = dict(os.environ, LC_ALL="C", LANG="C")
        if self.run_as is not None:
            env["HOME"] = str(self.dir)
        p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           cwd=str(self.dir), timeout=timeout, **kwargs)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise AssertionError("%s failed (rc=%d):\n%s%s" % (
                " ".join(map(str, cmd)), p.returncode, out, self.server_log()))
        return out

    def start(self):
        self._run([self.bindir / "initdb", "-D", self.data, "-U", self.user, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        opts = "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off " \
               "-c synchronous_commit=off -c full_page_writes=off" % (self.port, self.dir)
        self._run([self.bindir / "pg_ctl", "-D", self.data, "-l", self.logfile, "-o", opts,
                   "-w", "-t", "60", "start"])
        self.started = True
        return self

    def stop(self):
        if self.started:
            self._run([self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                      check=False)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def server_log(self):
        try:
            return "\n--- postgres log ---\n" + self.logfile.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def psql(self, sql, database="postgres"):
        """Run one SQL command; returns rows as lists of strings (tab-separated
        unaligned output; NULL is printed as \\N)."""
        psql = shutil.which("psql") or str(self.bindir / "psql")
        out = self._run([psql, "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1",
                         "-A", "-t", "-F", "\t", "-P", "null=\\N", "-c", sql])
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def wait_for_count(self, database, table, n, timeout=60.0, alive=None):
        def count():
            exists = self.psql("SELECT to_regclass('%s') IS NOT NULL" % table, database)
            if exists != [["t"]]:
                return None
            c = int(self.psql("SELECT count(*) FROM %s" % table, database)[0][0])
            return c if c >= n else None

        return syslogng.wait_for(count, timeout=timeout, interval=0.2, alive=alive,
                                 message="%d rows in %s" % (n, table))


# ---------------------------------------------------------------------------
# expectations from the emulator's indicators (docs/fields.md, indicator types)

TYPE_MAP = {
    "IP Address": "ipv4-addr", "IPv6 Address": "ipv6-addr", "FQDN": "domain-name",
    "URL": "url", "URL Path": "url", "Email Address": "email-addr",
    "MD5": "file", "SHA-1": "file", "SHA-256": "file", "SHA-384": "file", "SHA-512": "file",
    "Filename": "file", "File Path": "file", "Mutex": "mutex",
    "Registry Key": "windows-registry-key", "ASN": "autonomous-system",
    "MAC Address": "mac-addr", "Username": "user-account",
    "x509 Serial": "x509-certificate", "x509 Subject": "x509-certificate",
    "User-agent": "software",
}


def expected_indicator_type(indicator):
    """threat.indicator.type for an emulator indicator, None when not set."""
    name = indicator["type"]["name"]
    if name == "CIDR Block":
        return "ipv6-addr" if ":" in indicator["value"] else "ipv4-addr"
    return TYPE_MAP.get(name)


def iso_ms(threatq_time):
    """'2021-10-01 18:36:03' -> '2021-10-01T18:36:03.000Z'"""
    return threatq_time.replace(" ", "T") + ".000Z"
