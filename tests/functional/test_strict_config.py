# SPDX-License-Identifier: GPL-2.0-or-later
"""Strict configuration (issue 10): url() and token-url() only
https://host[:port][/path] or http:// to a loopback literal or localhost, no
user info, query or fragment; poll-interval() at least 1 s; max-page-size()
within [64 KiB, 1 GiB]; collection() at most 255 characters.  Each refusal
names the option and the problem, never the secret.  Checked with
`syslog-ng --syntax-only`, plus one run for fetch-no-data-delay()."""

import re

import pytest

from conftest import COLLECTION
from syslogng import base_source_opts, make_config, option_named
from test_grammar import check  # noqa: F401  (the --syntax-only fixture, shared)

SECRET = "pa55-w0rd-s3cret"
REQUIRED = {
    "url": "https://threatq.example.com",
    "collection": "abc123",
    "client_id": "my-client",
    "client_secret": "my-secret",
}


BAD_URLS = {
    "loopback-lookalike-host": ("http://127.evil.example/", "https"),
    "localhost-suffix": ("http://localhost.evil.example/", "https"),
    "public-ip-http": ("http://192.0.2.10/", "https"),
    "ipv6-not-loopback": ("http://[2001:db8::1]/", "https"),
    "userinfo": ("https://admin:%s@threatq.example.com/" % SECRET, "user information"),
    "userinfo-http-loopback": ("http://admin:%s@127.0.0.1:8443" % SECRET, "user information"),
    "user-only": ("https://%s@threatq.example.com" % SECRET, "user information"),
    "query": ("https://threatq.example.com/?token=%s" % SECRET, "query"),
    "fragment": ("https://threatq.example.com/#%s" % SECRET, "fragment"),
    "empty-fragment": ("https://threatq.example.com/#", "fragment"),
    "ftp": ("ftp://threatq.example.com/", "https"),
    "relative": ("threatq.example.com/api", "absolute"),
    "no-host": ("https:///api", "absolute"),
    "no-host-at-all": ("https://", "absolute"),
    "too-long": ("https://threatq.example.com/" + "a" * 1100, "1023"),
}


@pytest.mark.parametrize("option", ["url", "token_url"])
@pytest.mark.parametrize("case", sorted(BAD_URLS))
def test_bad_url_is_refused_without_echoing_it(check, option, case):
    value, problem = BAD_URLS[case]
    assert check(REQUIRED)[0] == 0
    rc, out, conf_name = check(dict(REQUIRED, **{option: value}))
    assert rc != 0, "%s(%r) was accepted:\n%s" % (option, value, out)
    assert option_named(out, option.replace("_", "-")), out
    assert problem in out, "the error does not say %r:\n%s" % (problem, out)
    assert re.search(re.escape(conf_name) + r":\d+", out), "no file:line in:\n" + out
    # syslog-ng itself echoes the config line around the error; our message must not add the secret.
    assert sum(line.count(SECRET) for line in out.splitlines() if "threatq()" in line) == 0, out


GOOD_URLS = [
    "https://threatq.example.com",
    "https://threatq.example.com:8443/",
    "https://threatq.example.com/some/prefix/",
    "https://[2001:db8::1]:8443",
    "http://127.0.0.1:8080",
    "http://127.1.2.3/",
    "http://localhost:8080",
    "http://LOCALHOST",
    "http://[::1]:8080/tq",
]


@pytest.mark.parametrize("value", GOOD_URLS)
def test_good_url_passes(check, value):
    rc, out, _ = check(dict(REQUIRED, url=value, token_url=value + "/api/token"))
    assert rc == 0, out


@pytest.mark.parametrize("option,value,problem", [
    ("poll_interval", 0.0001, "at least 1 second"),
    ("poll_interval", 0.999, "at least 1 second"),
    ("max_page_size", 1000, "between"),
    ("max_page_size", 1024 ** 3 + 1, "between"),
    ("collection", "c" * 256, "at most 255"),
])
def test_out_of_range_value_is_refused(check, option, value, problem):
    rc, out, conf_name = check(dict(REQUIRED, **{option: value}))
    assert rc != 0, "%s(%r) was accepted:\n%s" % (option, value, out)
    assert option_named(out, option.replace("_", "-")), out
    assert problem in out, out
    assert re.search(re.escape(conf_name) + r":\d+", out), "no file:line in:\n" + out


@pytest.mark.parametrize("option,value", [
    ("poll_interval", 1), ("poll_interval", 3600.5),
    ("max_page_size", 65536), ("max_page_size", 1024 ** 3),
    ("collection", "c" * 255),
])
def test_values_at_the_bounds_pass(check, option, value):
    rc, out, _ = check(dict(REQUIRED, **{option: value}))
    assert rc == 0, out


def test_fetch_no_data_delay_zero_polls_once_a_second(emulator_factory, syslog_ng):
    """fetch-no-data-delay(0) as the poll interval busy-looped the server: now
    raised to 1 s with a warning naming the option."""
    emu = emulator_factory(indicators=3)
    out = syslog_ng.dir / "out.ndjson"
    opts = base_source_opts(emu, COLLECTION, poll_interval=None, fetch_no_data_delay=0)
    syslog_ng.start(make_config(opts, out))
    # the first page holds the 3 indicators; the polls after it come poll-interval apart
    syslog_ng.wait_for(lambda: len(emu.requests("page")) >= 5, timeout=20, message="four polls")
    syslog_ng.stop()
    times = [r["time"] for r in emu.requests("page")[1:5]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.9, "polls %s s apart with fetch-no-data-delay(0)" % [round(g, 3) for g in gaps]
    assert option_named(syslog_ng.output(), "fetch-no-data-delay"), syslog_ng.output()
