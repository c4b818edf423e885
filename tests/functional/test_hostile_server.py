# SPDX-License-Identifier: GPL-2.0-or-later
"""A hostile or broken server on the network side (issue 10): the token
response, the cursor, response headers, redirects, page size, slow answers.

Every case runs a real syslog-ng with threatq() against the emulator, which
answers once with the hostile response and then behaves.  Each asserts:
syslog-ng stays alive, a second ordinary log path keeps delivering each line
within about a second, peak RSS (VmHWM) and syslog-ng's own log output stay
under the stated bounds, every indicator arrives once the server behaves
(where it does), and SIGTERM finishes within 2 s.

THREATQ_HOSTILE_REPORT=<file> appends one JSON line per case with the
measurements (taken before the assertions, so a failing build is measured too).
"""

import json
import os
import time

import pytest

from conftest import COLLECTION
from hostile_helpers import (RSS_SCALE, STOP_LIMIT, LogMeter, SecondPath, peak_rss_kb, timed_stop)
from syslogng import TIMEOUT_SCALE, base_source_opts, make_config, read_json_lines

N = 30                      # indicators; pages of 10
MIB = 1024
RSS_BOUND_KB = 32 * MIB     # syslog-ng with threatq() runs at about 15 MiB
LOG_BOUND = 16 * 1024       # bytes of syslog-ng's own output for a whole case (about 1.2 KB measured)


def _delivered_ids(out):
    try:
        return {int(d["threatq"]["id"]) for d in read_json_lines(out)}
    except AssertionError:
        return set()


def _report(entry):
    path = os.environ.get("THREATQ_HOSTILE_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Case:
    """One hostile case: start, let the fault happen, measure, then assert."""

    def __init__(self, emu, syslog_ng, name, **source_opts):
        self.emu = emu
        self.sng = syslog_ng
        self.name = name
        self.out = syslog_ng.dir / "out.ndjson"
        self.second = SecondPath(syslog_ng.dir)
        self.opts = base_source_opts(emu, COLLECTION, page_size=10, **source_opts)
        self.m = {"case": name}

    def run(self, settle, expect_all=True, stop_while=None):
        """Start syslog-ng (the faults are already queued), wait until settle()
        is true or every indicator arrived, stop it, record the figures."""
        want = {i["id"] for i in self.emu.indicators(COLLECTION)}
        log = LogMeter(self.sng)
        t0 = time.monotonic()
        self.sng.start(make_config(self.opts, self.out, extra=self.second.config()))
        alive = True
        try:
            with self.second.feeding():
                deadline = time.monotonic() + 20 * TIMEOUT_SCALE
                while time.monotonic() < deadline:
                    self.sng.check_alive()
                    if settle() and (not expect_all or _delivered_ids(self.out) >= want):
                        break
                    time.sleep(0.1)
            # the second path is checked while syslog-ng still runs: lines sent after a stop are lost by design
            self._check_second_path()
            if stop_while is not None:
                stop_while()
            self.sng.check_alive()
            self.m["peak_rss_kb"] = peak_rss_kb(self.sng)
            self.m["stop_s"], self.m["rc"] = timed_stop(self.sng, timeout=30)
        except AssertionError as e:       # SyslogNgError: it died
            alive = False
            self.m["died"] = str(e).splitlines()[0]
            self.m.setdefault("second_path_ok", "not checked: syslog-ng died")
        self.m.update(alive=alive, seconds=round(time.monotonic() - t0, 2),
                      log_bytes=log.bytes(),
                      delivered=len(_delivered_ids(self.out) & want), of=len(want))
        self.second.close()
        _report(self.m)
        self._assert(expect_all, want, log)

    def _check_second_path(self):
        try:
            self.m["second_path_max_latency_s"] = round(self.second.assert_delivered(), 3)
            self.m["second_path_ok"] = True
        except AssertionError as e:
            self.m["second_path_ok"] = str(e)

    def _assert(self, expect_all, want, log):
        m = self.m
        assert m["alive"], "syslog-ng died: %s" % m.get("died")
        assert m["stop_s"] < STOP_LIMIT * TIMEOUT_SCALE, "stop took %.2fs" % m["stop_s"]
        assert m["rc"] == 0
        assert m["peak_rss_kb"] < self.rss_bound * RSS_SCALE, "peak RSS %d KiB" % m["peak_rss_kb"]
        assert m["log_bytes"] < self.log_bound, "log %d bytes:\n%s" % (m["log_bytes"], log.text(3000))
        assert m["second_path_ok"] is True, m["second_path_ok"]
        if expect_all:
            assert m["delivered"] == len(want), "%d of %d indicators" % (m["delivered"], len(want))

    rss_bound = RSS_BOUND_KB
    log_bound = LOG_BOUND


def _saw_fault(emu, kind):
    return lambda: any(r["fault"] for r in emu.requests(kind))


def _served_after_fault(emu, kind):
    """The faulty answer was given, and a later request of the kind was answered 200."""
    def check():
        reqs = emu.requests(kind)
        i = next((k for k, r in enumerate(reqs) if r["fault"]), None)
        return i is not None and any(r["status"] == 200 for r in reqs[i + 1:])
    return check


def _seconds_after(condition, seconds):
    """True once condition() has been true for `seconds`."""
    since = []

    def check():
        if not since and condition():
            since.append(time.monotonic())
        return bool(since) and time.monotonic() - since[0] >= seconds
    return check


def _page_with(emu, cursor):
    """A page holding the collection's first indicator, ending at `cursor`."""
    first = emu.indicators(COLLECTION)[0]
    return json.dumps({"total": N, "data": [first], "nextCursorMark": "CURSOR", "limit": 10}) \
        .replace('"CURSOR"', json.dumps(cursor))


# ---------------------------------------------------------------------------
# token endpoint

def _deep(depth):
    return '{"access_token":"x","a":' + "[" * depth + "]" * depth + "}"


TOKEN_BODIES = {
    # crashed syslog-ng (yajl_tree_free recursion) before: now over the 64 KiB bound
    "token-deep-nesting-2MB": lambda: _deep(10 ** 6),
    # the same shape within 64 KiB: refused by the depth bound (16)
    "token-deep-nesting-60KB": lambda: _deep(30000),
    "token-huge-20MB": lambda: '{"access_token":"x","pad":"' + "a" * (20 << 20) + '"}',
    "token-not-json": lambda: "<html>" + "x" * 5000 + "</html>",
    "token-not-a-string": lambda: '{"access_token":{"a":[1,2,3]},"expires_in":3600}',
    "token-bad-chars": lambda: '{"access_token":"abc def\\"","expires_in":3600}',
}


@pytest.mark.parametrize("name", sorted(TOKEN_BODIES))
def test_bad_token_response_is_a_retried_failure(emulator_factory, syslog_ng, name):
    emu = emulator_factory(indicators=N)
    emu.add_fault("token", status=200, body=TOKEN_BODIES[name]())
    case = Case(emu, syslog_ng, name)
    case.run(_served_after_fault(emu, "token"))


def test_token_with_crlf_is_not_sent_as_headers(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N)
    emu.add_fault("token", status=200,
                  body='{"access_token":"abc\\r\\nX-Injected: yes","expires_in":3600}')
    case = Case(emu, syslog_ng, "token-crlf")
    case.run(_served_after_fault(emu, "token"))
    for r in emu.requests():
        assert "x-injected" not in r["headers"], "header injected through the token: %r" % r
        assert "abc" not in r["headers"].get("authorization", "").split()[-1:]


def test_huge_expires_in_keeps_one_token(emulator_factory, syslog_ng):
    """expires_in = 2^63 - 1 overflowed the refresh time before; now clamped to
    a day: the one token serves every page request of the run."""
    emu = emulator_factory(indicators=N, token_expires_in=2 ** 63 - 1)
    case = Case(emu, syslog_ng, "token-huge-expires-in")
    case.run(lambda: len(emu.requests("page")) >= 6)
    case.m["tokens"] = len(emu.issued_tokens())
    assert len(emu.issued_tokens()) == 1, "%d tokens for %d page requests" % (
        len(emu.issued_tokens()), len(emu.requests("page")))


def test_token_redirect_is_not_followed(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N)
    emu.add_fault("token", status=302, body="", headers={"Location": "http://127.0.0.2:9/steal"})
    case = Case(emu, syslog_ng, "token-redirect")
    case.run(_served_after_fault(emu, "token"))
    tok = emu.requests("token")
    assert tok[0]["status"] == 302 and tok[1]["status"] == 200


def test_stop_while_the_token_request_hangs(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N)
    emu.add_fault("token", delay=25)
    case = Case(emu, syslog_ng, "token-hangs")
    # the emulator records the request only once it answers: give it 2 s to be in flight
    case.run(_seconds_after(lambda: True, 2.0), expect_all=False)


# ---------------------------------------------------------------------------
# cursor

CURSORS = {
    # a 9 MB URL before: CURLOPT_URL refused silently, 100 MB of log in 12 s
    "cursor-3MB": lambda: "A" * (3 << 20),
    "cursor-1025B": lambda: "A" * 1025,
    "cursor-crlf": lambda: "abc\r\nX-Injected: yes",
    "cursor-space": lambda: "abc def",
    "cursor-non-ascii": lambda: "abc\u00e9",
}


@pytest.mark.parametrize("name", sorted(CURSORS))
def test_unusable_cursor_is_a_retried_failure(emulator_factory, syslog_ng, name):
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", status=200, body=_page_with(emu, CURSORS[name]()))
    case = Case(emu, syslog_ng, name)
    case.run(_served_after_fault(emu, "page"))
    pages = emu.requests("page")
    assert all(len(p["raw_query"]) < 4096 for p in pages), "a request carried the bad cursor"
    assert "nextCursorMark" in syslog_ng.output(), "the refusal does not say what was wrong"


# ---------------------------------------------------------------------------
# headers, status, size

def test_huge_headers_are_a_retried_failure(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", headers={"X-Pad-%d" % i: "a" * 1000 for i in range(100)})
    case = Case(emu, syslog_ng, "page-headers-100KB")
    case.run(_served_after_fault(emu, "page"))


RETRY_AFTERS = {
    "retry-after-garbage-60KB": "x" * 60000,
    "retry-after-negative": "-5",
    "retry-after-not-a-date": "Sun, 99 Foo 1994 99:99:99 GMT",
}


@pytest.mark.parametrize("name", sorted(RETRY_AFTERS))
def test_garbage_retry_after_backs_off(emulator_factory, syslog_ng, name):
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", status=429, headers={"Retry-After": RETRY_AFTERS[name]})
    case = Case(emu, syslog_ng, name)
    case.run(_served_after_fault(emu, "page"))


def test_retry_after_zero_does_not_loop(emulator_factory, syslog_ng):
    """429 with Retry-After: 0, five times: the retries still keep the back-off
    (0.5 s at least), so the log and the server see a bounded rate."""
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", status=429, headers={"Retry-After": "0"}, count=5)
    case = Case(emu, syslog_ng, "retry-after-0-x5")
    case.run(_served_after_fault(emu, "page"))
    times = [r["time"] for r in emu.requests("page")[:6]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.45, "retries %s s apart" % [round(g, 2) for g in gaps]


def test_huge_retry_after_is_capped_and_stop_is_fast(emulator_factory, syslog_ng):
    """Retry-After of 10^22 seconds: waited for at most an hour, and the wait
    does not hold a stop up."""
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", status=429, headers={"Retry-After": "9" * 22})
    case = Case(emu, syslog_ng, "retry-after-10^22")
    case.run(_seconds_after(_saw_fault(emu, "page"), 1.0), expect_all=False)


def test_page_redirect_is_not_followed(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=N)
    emu.add_fault("page", status=307, body="", headers={"Location": "http://127.0.0.2:9/steal"})
    case = Case(emu, syslog_ng, "page-redirect")
    case.run(_served_after_fault(emu, "page"))


def test_page_body_over_the_bound(emulator_factory, syslog_ng):
    """40 MB page: refused at max-page-size() (32 MiB by default); the
    emulator declares Content-Length, so nothing of it is read."""
    emu = emulator_factory(indicators=N)
    pad = '{"total":30,"data":[],"nextCursorMark":"*","pad":"' + "a" * (40 << 20) + '"}'
    emu.add_fault("page", status=200, body=pad)
    case = Case(emu, syslog_ng, "page-body-40MB")
    case.run(_served_after_fault(emu, "page"))


def test_reload_while_the_token_request_hangs(emulator_factory, syslog_ng):
    """syslog-ng-ctl reload while the token request hangs: the reload returns
    within 2 s and the new configuration's source asks for a token again."""
    import subprocess
    from syslogng import SYSLOG_NG_CTL
    emu = emulator_factory(indicators=N)
    emu.add_fault("token", delay=25)
    case = Case(emu, syslog_ng, "token-hangs-reload")

    def reload():
        t0 = time.monotonic()
        p = subprocess.run([SYSLOG_NG_CTL, "reload", "-c", str(syslog_ng.ctl)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        case.m["reload_s"] = round(time.monotonic() - t0, 3)
        assert p.returncode == 0, p.stdout
        # the hanging request still counts as one (it answers after 25 s); a second arrives
        syslog_ng.wait_for(lambda: len(emu.requests("token")) >= 1 and _delivered_ids(case.out)
                           >= {i["id"] for i in emu.indicators(COLLECTION)}, timeout=20,
                           message="every indicator after the reload")
    case.run(_seconds_after(lambda: True, 2.0), expect_all=False, stop_while=reload)
    assert case.m["reload_s"] < STOP_LIMIT * TIMEOUT_SCALE, "reload took %.2fs" % case.m["reload_s"]
    assert case.m["delivered"] == N



def test_gzip_bomb_page_is_cut_at_the_bound(emulator_factory, syslog_ng):
    """A 100 KB gzip body that inflates to 100 MB: libcurl inflates it, and the
    bound counts inflated bytes, so reading stops at max-page-size() (32 MiB).
    Peak RSS may grow by up to that much: the case's bound is 32 MiB above the
    others'."""
    import gzip
    emu = emulator_factory(indicators=N)
    bomb = gzip.compress(b'{"total":30,"data":[],"pad":"' + b"a" * (100 << 20) + b'"}', 9)
    emu.add_fault("page", status=200, body=bomb, headers={"Content-Encoding": "gzip"})
    case = Case(emu, syslog_ng, "page-gzip-bomb-100MB")
    case.rss_bound = RSS_BOUND_KB + 32 * MIB
    case.run(_served_after_fault(emu, "page"))
    assert "larger than 33554432 bytes" in syslog_ng.output()
