# SPDX-License-Identifier: GPL-2.0-or-later
"""Driver options seen end to end: token-url(), fields(), preserve-original(),
tags(), feed-name(), persist-name(), ioc-expiration-duration()."""

import calendar
import json
import time

from conftest import COLLECTION
from syslogng import Raw, base_source_opts, dig, make_config, read_json_lines, read_lines


def test_preserve_original_tags_feed_name_token_url(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=15, token_path="/oauth2/token")
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, token_url=emu.url + "/oauth2/token",
                            preserve_original=True, feed_name="Acme TI",
                            tags=Raw('"forwarded", "threatq-threat"'),
                            ioc_expiration_duration="12h")
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 15, timeout=30, message="indicators")
    docs = read_json_lines(out)
    syslog_ng.stop()

    tok = emu.requests("token")
    assert len(tok) == 1 and tok[0]["path"] == "/oauth2/token" and tok[0]["status"] == 200
    served = {i["id"]: i for i in emu.indicators(COLLECTION)}
    assert len(docs) == 15
    for doc in docs:
        ind = served[dig(doc, "threatq.id")]
        assert dig(doc, "threat.feed.name") == "Acme TI"
        assert doc.get("tags") == ["preserve_original_event", "forwarded", "threatq-threat"]
        original = dig(doc, "event.original")
        assert isinstance(original, str)
        assert json.loads(original) == ind  # the raw indicator as served (all fields)
        t = calendar.timegm(time.strptime(ind["updated_at"], "%Y-%m-%d %H:%M:%S")) + 12 * 3600
        if "expired_at" not in ind and "expires_at" not in ind \
                and ind["status"]["name"] != "Expired":
            assert dig(doc, "threatq.ioc_expired_at") == \
                time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def test_fields_option(emulator_factory, syslog_ng):
    emu = emulator_factory(indicators=10)
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, fields="*"), out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 10, timeout=30, message="indicators")
    docs = read_json_lines(out)
    syslog_ng.stop()
    pages = emu.requests("page")
    assert pages and all(p["query"]["fields"] == "*" for p in pages)
    # ThreatQ 6.12+ leaves sources and attributes out unless asked for: tolerated
    for doc in docs:
        assert dig(doc, "threatq.attributes", None) is None
        assert dig(doc, "threat.indicator.provider", None) is None
        assert dig(doc, "threatq.indicator_value")


def test_persist_name_keeps_cursor_across_config_changes(emulator_factory, syslog_ng):
    """With an explicit persist-name(), the cursor survives a change of url()
    (here: localhost instead of 127.0.0.1) and nothing is fetched again."""
    emu = emulator_factory(indicators=12)
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, persist_name="tq-main")
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= 12, timeout=30, message="first run")
    syslog_ng.wait_for(lambda: any(r["response"] and r["response"]["items"] == 0
                                   for r in emu.requests("page")), timeout=10,
                       message="end of the first sync")
    syslog_ng.stop()
    n = len(emu.requests("page"))

    opts["url"] = emu.url.replace("127.0.0.1", "localhost")
    syslog_ng.start(make_config(opts, out))
    syslog_ng.wait_for(lambda: len(emu.requests("page")) > n, timeout=15,
                       message="a page request from the second run")
    syslog_ng.stop()
    assert emu.requests("page")[n]["query"]["cursorMark"] != "*"
    assert len(read_lines(out)) == 12
