# SPDX-License-Identifier: GPL-2.0-or-later
"""Faults (spec section 2.5 and 2.6): token lifetime, 401, 5xx, 429, bad JSON,
slow server at shutdown, secrets in logs."""

import base64
import collections
import time

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION
from syslogng import base_source_opts, make_config, read_json_lines, read_lines


def ids_of(path):
    return [int(d["threatq"]["id"]) for d in read_json_lines(path)]


def assert_exactly_once(emu, path):
    ids = ids_of(path)
    dup = [k for k, v in collections.Counter(ids).items() if v > 1]
    assert not dup, "delivered twice: %s" % dup[:10]
    assert set(ids) == {i["id"] for i in emu.indicators(COLLECTION)}


def drained(emu):
    return lambda: any(r["response"] and r["response"]["items"] == 0
                       for r in emu.requests("page"))


def test_token_renewed_before_expiry(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=5, token_expires_in=2)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION), out))
    syslog_ng.wait_for(lambda: len(emu.issued_tokens()) >= 2, timeout=20,
                       message="a second token (expires_in=2, poll-interval 1)")
    syslog_ng.wait_for(lambda: len(emu.requests("page")) >= 4, timeout=20, message="polls")
    syslog_ng.stop()
    pages = emu.requests("page")
    assert [p["status"] for p in pages if p["status"] != 200] == [], \
        "page requests answered non-200 (token used past expires_in?)"
    assert_exactly_once(emu, out)


def test_401_gets_new_token_and_retries_same_cursor(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=30)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=10), out))
    syslog_ng.wait_for(drained(emu), timeout=30, message="first sync")
    emu.expire_tokens()
    emu.add_indicators(5, COLLECTION)
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 35, timeout=20,
                       message="indicators added after the token was revoked")
    syslog_ng.stop()
    reqs = emu.requests()
    i401 = next(i for i, r in enumerate(reqs) if r["kind"] == "page" and r["status"] == 401)
    after = reqs[i401 + 1:]
    assert after[0]["kind"] == "token" and after[0]["status"] == 200, \
        [(r["kind"], r["status"]) for r in after[:3]]
    assert after[1]["kind"] == "page"
    assert after[1]["query"]["cursorMark"] == reqs[i401]["query"]["cursorMark"]
    assert after[1]["headers"]["authorization"] == "Bearer " + emu.issued_tokens()[-1]
    assert_exactly_once(emu, out)


@pytest.mark.parametrize("fault", [
    dict(status=500),
    dict(status=503, body="<html>Service Unavailable</html>"),
    dict(truncate=True),
    dict(body='{"total": 3, "data": "not a list"}'),
    dict(body="not json at all"),
    dict(drop=True),
], ids=["500", "503-html", "truncated-json", "bad-shape", "not-json", "connection-drop"])
def test_page_fault_is_retried_with_same_cursor(emulator_factory, syslog_ng, fault):
    emu = emulator_factory(indicators=30)
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=10), out))
    assert emu.wait_for_held(20)
    emu.add_fault("page", **fault)  # hits the second page request
    emu.release()
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 30, timeout=40,
                       message="all indicators despite the fault")
    syslog_ng.check_alive()
    syslog_ng.stop()
    pages = emu.requests("page")
    bad = next(i for i, p in enumerate(pages) if p["fault"])
    assert bad == 1
    assert pages[bad + 1]["query"]["cursorMark"] == pages[bad]["query"]["cursorMark"], \
        "the cursor moved past a failed page"
    assert_exactly_once(emu, out)


def test_429_honours_retry_after(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=20)
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=10), out))
    assert emu.wait_for_held(20)
    emu.add_fault("page", status=429, headers={"Retry-After": "3"})
    emu.release()
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 20, timeout=30, message="all")
    syslog_ng.stop()
    pages = emu.requests("page")
    i = next(i for i, p in enumerate(pages) if p["status"] == 429)
    gap = pages[i + 1]["time"] - pages[i]["time"]
    assert gap >= 2.8, "retried %.2fs after a 429 with Retry-After: 3" % gap
    assert pages[i + 1]["query"]["cursorMark"] == pages[i]["query"]["cursorMark"]
    assert_exactly_once(emu, out)


def test_token_endpoint_failure_backs_off_and_recovers(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=10)
    emu.add_fault("token", status=500, count=2)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION), out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 10, timeout=40, message="all")
    syslog_ng.stop()
    tok = emu.requests("token")
    assert [t["status"] for t in tok[:3]] == [500, 500, 200]
    gaps = [b["time"] - a["time"] for a, b in zip(tok, tok[1:3])]
    assert all(g >= 0.2 for g in gaps), "no back-off between token attempts: %s" % gaps
    assert_exactly_once(emu, out)


def test_bad_credentials_do_not_crash(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=5)
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, client_secret="wrong-secret-value")
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(emu.requests("token")) >= 2, timeout=30,
                       message="token retries")
    syslog_ng.check_alive()
    assert emu.requests("page") == []
    syslog_ng.stop()
    assert "wrong-secret-value" not in syslog_ng.output()


def test_shutdown_not_held_up_by_slow_server(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=30)
    out = syslog_ng.dir / "out.ndjson"
    emu.hold_pages_after(1)
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=10,
                                                 timeout=30), out))
    assert emu.wait_for_held(20)
    t0 = time.monotonic()
    rc = syslog_ng.stop(timeout=15)
    took = time.monotonic() - t0
    emu.release()
    assert took < 3.0, "SIGTERM took %.1fs while a page request was in flight" % took
    assert rc == 0


def test_secrets_never_logged_at_any_verbosity(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=15, token_expires_in=2)
    emu.add_fault("page", status=401)
    emu.add_fault("page", status=500)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=5), out),
                    extra_args=("-d", "-v", "-t"))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 15, timeout=40, message="all")
    syslog_ng.wait_for(lambda: len(emu.issued_tokens()) >= 3, timeout=20,
                       message="several tokens")
    syslog_ng.stop()
    log = syslog_ng.output()
    assert "threatq" in log.lower()  # debug output was actually produced
    secrets = [CLIENT_SECRET,
               base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()]
    secrets += emu.issued_tokens()
    leaked = [s for s in secrets if s in log]
    assert not leaked, "secrets in syslog-ng's output: %s" % leaked
