# SPDX-License-Identifier: GPL-2.0-or-later
"""Configuration grammar, checked with `syslog-ng --syntax-only`."""

import re

import pytest

import syslogng
from syslogng import Raw, hide_path, option_named, threatq_source

REQUIRED = {
    "url": "https://threatq.example.com",
    "collection": "abc123",
    "client_id": "my-client",
    "client_secret": "my-secret",
}

FULL = dict(REQUIRED,
            token_url="https://threatq.example.com/api/token",
            poll_interval=30,
            page_size=500,
            fields=syslogng.DEFAULT_FIELDS,
            timeout=20,
            user_agent="tests/1.0",
            persist_name="tq-test",
            preserve_original=True,
            feed_name="My Feed",
            ioc_expiration_duration="30d",
            tags=Raw('"forwarded", "threatq-threat"'),
            log_iw_size=2000)


def conf(source_opts):
    # the destination is not needed for a syntax check, but keep the config realistic
    return syslogng.VERSION_LINE + """
source s_tq {
  %s;
};
destination d_null { file("/dev/null"); };
log { source(s_tq); destination(d_null); };
""" % threatq_source(**source_opts)


@pytest.fixture
def check(syslog_ng_factory, tmp_path_factory):
    # a neutral directory name, so option names cannot match the path
    d = tmp_path_factory.mktemp("cfg")
    s = syslog_ng_factory(name="syntax", workdir=d)

    def run(opts):
        rc, out = s.syntax_only(conf(opts))
        return rc, hide_path(out, d), s.conf_path.name
    return run


def test_full_valid_config_passes(check):
    rc, out, _ = check(FULL)
    assert rc == 0, out


def test_minimal_valid_config_passes(check):
    rc, out, _ = check(REQUIRED)
    assert rc == 0, out


def test_tls_block_and_inline_tls_options(check):
    rc, out, _ = check(dict(REQUIRED, tls=Raw('peer-verify(no) cipher-suite("HIGH")'),
                            use_system_cert_store=True))
    assert rc == 0, out


@pytest.mark.parametrize("missing", ["url", "collection", "client_id", "client_secret"])
def test_missing_required_option_fails(check, missing):
    assert check(REQUIRED)[0] == 0  # the module loads and the rest is valid
    opts = {k: v for k, v in REQUIRED.items() if k != missing}
    rc, out, conf_name = check(opts)
    assert rc != 0, "config without %s() was accepted:\n%s" % (missing, out)
    option = missing.replace("_", "-")
    assert option_named(out, option), "error output does not name %s():\n%s" % (option, out)
    assert re.search(re.escape(conf_name) + r":\d+", out), "no file:line in:\n" + out


@pytest.mark.parametrize("option,value", [
    ("page_size", -5),
    ("page_size", 0),
    ("page_size", 1001),
    ("ioc_expiration_duration", "5x"),
    ("ioc_expiration_duration", "d"),
    ("poll_interval", -1),
], ids=["page-size-neg", "page-size-0", "page-size-1001", "ioc-5x", "ioc-no-number",
        "poll-interval-neg"])
def test_bad_value_fails(check, option, value):
    assert check(REQUIRED)[0] == 0
    rc, out, conf_name = check(dict(REQUIRED, **{option: value}))
    assert rc != 0, "%s(%r) was accepted:\n%s" % (option, value, out)
    assert re.search(re.escape(conf_name) + r":\d+", out), "no file:line in:\n" + out


@pytest.mark.parametrize("option,value", [
    ("page_size", -5),
    ("ioc_expiration_duration", "5x"),
])
def test_bad_value_error_names_option_or_value(check, option, value):
    rc, out, _ = check(dict(REQUIRED, **{option: value}))
    assert rc != 0
    # syslog-ng's own parser errors quote the offending token; the module's name the option
    assert option_named(out, option.replace("_", "-")) or str(value) in out, out


@pytest.mark.parametrize("value", ["90d", "12h", "30m"])
def test_good_durations_pass(check, value):
    rc, out, _ = check(dict(REQUIRED, ioc_expiration_duration=value))
    assert rc == 0, out
