# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS (spec section 1, the http()-style TLS options): the emulator serves HTTPS
with a throwaway CA; certificate verification, ca-file()/ca-dir(), the same
options inside tls(...), client certificates, peer-verify(no), cipher-suite()."""

import re

import pytest

from conftest import COLLECTION
from syslogng import Raw, base_source_opts, make_config, read_lines
from tls_helpers import check_delivery, check_running, make_pki, openssl_available

N = 25
PAGE = 10


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not openssl_available():
        pytest.fail("the openssl command is needed for the TLS tests", pytrace=False)
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def https_emulator(emulator_factory, pki):
    def make(client_ca=False, **kwargs):
        return emulator_factory(indicators=N, tls_cert=str(pki.server_cert),
                                tls_key=str(pki.server_key),
                                tls_client_ca=str(pki.ca_cert) if client_ca else None,
                                **kwargs)
    return make


def tls_block(**opts):
    """Raw text for tls(...): tls_block(ca_file=..., peer_verify=True)."""
    parts = []
    for k, v in opts.items():
        if isinstance(v, bool):
            v = "yes" if v else "no"
        else:
            v = '"%s"' % v
        parts.append("%s(%s)" % (k.replace("_", "-"), v))
    return Raw(" ".join(parts))


def sync_all(syslog_ng, emu, **opts):
    """Start with the options, wait for every indicator, check delivery."""
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=PAGE, **opts), out))
    syslog_ng.wait_for(lambda: len(read_lines(out)) >= N, timeout=15, message="all indicators")
    counters = check_running(syslog_ng)
    check_delivery(emu, out, max_duplicates=0)
    assert counters["indicators"] == N, counters
    assert counters["http_errors"] == 0, counters
    syslog_ng.stop()
    assert emu.tls_errors() == []
    return out


def failing_lines(syslog_ng):
    return [ln for ln in syslog_ng.output().splitlines() if "threatq: ThreatQ request failed" in ln]


def refused(syslog_ng, emu, error_pattern, **opts):
    """Start with the options; the requests must fail at the TLS level with a
    log line naming the URL and matching error_pattern; nothing is delivered
    and syslog-ng keeps running.  Returns the first failure line."""
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(emu, COLLECTION, page_size=PAGE, **opts), out))
    syslog_ng.wait_for(lambda: len(failing_lines(syslog_ng)) >= 2, timeout=15,
                       message="two failed attempts in the log (the retry included)")
    counters = check_running(syslog_ng)
    assert counters["http_errors"] >= 2, counters
    assert counters["indicators"] == 0 and counters["pages"] == 0, counters
    assert read_lines(out) == []
    # no HTTP request ever got through the handshake
    assert emu.requests() == [], [(r["kind"], r["status"]) for r in emu.requests()]
    line = failing_lines(syslog_ng)[0]
    assert emu.url in line, line
    assert re.search(error_pattern, line), line
    syslog_ng.stop()
    return line


# -- (a) verification on by default, no CA that knows the server ----------

# curl's words: "SSL certificate problem: unable to get local issuer certificate" (libcurl
# 7.88 and 8.14: Debian 12 and 13, which verify inside the handshake and send an alert), or
# "SSL certificate OpenSSL verify result: unable to get local issuer certificate (20)"
# (libcurl 8.23: Debian unstable, which checks the result after the handshake and closes)
CERTIFICATE_PROBLEM = r"SSL certificate (problem|OpenSSL verify result)"


@pytest.mark.parametrize("opts", [
    {},
    {"peer_verify": True},
    {"tls": tls_block(peer_verify=True)},
], ids=["default", "peer-verify-yes", "tls-peer-verify-yes"])
def test_unknown_ca_is_refused(https_emulator, syslog_ng, opts):
    emu = https_emulator()
    line = refused(syslog_ng, emu, CERTIFICATE_PROBLEM + r": (unable to get local issuer|"
                                   r"self-signed certificate)", **opts)
    print("logged:", line)
    assert emu.requests() == [], "a request got past TLS: %r" % emu.requests()
    if "SSL certificate problem" in line:
        # this libcurl verifies inside the handshake: the server sees the client's alert
        assert any("unknown ca" in e["error"].lower() for e in emu.tls_errors()), emu.tls_errors()


def test_ca_file_of_another_ca_is_refused(https_emulator, syslog_ng, pki):
    emu = https_emulator()
    refused(syslog_ng, emu, CERTIFICATE_PROBLEM, ca_file=str(pki.other_ca_cert))
    assert emu.requests() == [], "a request got past TLS: %r" % emu.requests()


# -- (b) the right CA ---------------------------------------------------------

@pytest.mark.parametrize("where", ["inline-ca-file", "tls-ca-file", "inline-ca-dir",
                                   "tls-ca-dir", "tls-all-verify-options", "localhost-name"])
def test_ca_verifies_server(https_emulator, syslog_ng, pki, where):
    emu = https_emulator()
    opts = {
        "inline-ca-file": dict(ca_file=str(pki.ca_cert)),
        "tls-ca-file": dict(tls=tls_block(ca_file=pki.ca_cert)),
        "inline-ca-dir": dict(ca_dir=str(pki.ca_dir)),
        "tls-ca-dir": dict(tls=tls_block(ca_dir=pki.ca_dir)),
        "tls-all-verify-options": dict(tls=tls_block(
            ca_file=pki.ca_cert, peer_verify=True, use_system_cert_store=False,
            cipher_suite="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")),
        # the name in the URL is checked against the subjectAltName (DNS:localhost)
        "localhost-name": dict(ca_file=str(pki.ca_cert),
                               url=emu.url.replace("127.0.0.1", "localhost")),
    }[where]
    sync_all(syslog_ng, emu, **opts)


def test_name_mismatch_is_refused(emulator_factory, syslog_ng, pki, tmp_path):
    """A certificate for another name, from the trusted CA: host verification fails."""
    from tls_helpers import _leaf, Pki  # noqa: F401 (reuse the CA of the module's PKI)
    other = Pki(pki.dir)
    _leaf(pki.dir, other, "wrongname", "wrong.example", [
        "basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth",
        "subjectAltName=DNS:wrong.example"])
    emu = emulator_factory(indicators=N, tls_cert=str(pki.dir / "wrongname.pem"),
                           tls_key=str(pki.dir / "wrongname.key"))
    line = refused(syslog_ng, emu, r"(?i)certificate|subject name|does not match",
                   ca_file=str(pki.ca_cert))
    print("logged:", line)


def test_bad_cipher_suite_is_reported(https_emulator, syslog_ng, pki):
    """cipher-suite() reaches libcurl: a list with no usable cipher fails, logged."""
    emu = https_emulator()
    out = syslog_ng.dir / "out.ndjson"
    syslog_ng.start(make_config(base_source_opts(
        emu, COLLECTION, page_size=PAGE,
        tls=tls_block(ca_file=pki.ca_cert, cipher_suite="NO-SUCH-CIPHER")), out))
    syslog_ng.wait_for(lambda: failing_lines(syslog_ng), timeout=15, message="a failure")
    line = failing_lines(syslog_ng)[0]
    assert re.search(r"(?i)cipher", line), line
    check_running(syslog_ng)
    assert read_lines(out) == []
    syslog_ng.stop()


# -- (c) the server requires a client certificate ----------------------------

def test_client_certificate_required_but_missing(https_emulator, syslog_ng, pki):
    emu = https_emulator(client_ca=True)
    # with TLS 1.3 the server rejects the missing certificate after the client
    # has finished its side of the handshake: curl reports either the alert
    # ("tlsv13 alert certificate required") or the closed connection
    # ("Failed sending data to the peer"), whichever it meets first
    line = refused(syslog_ng, emu, r"(?i)certificate required|alert|SSL|"
                                   r"Failed (sending|receiving) data|Recv failure|Send failure",
                   ca_file=str(pki.ca_cert))
    print("logged:", line)
    assert any("did not return a certificate" in e["error"] for e in emu.tls_errors()), \
        emu.tls_errors()


@pytest.mark.parametrize("where", ["inline", "tls"])
def test_client_certificate_presented(https_emulator, syslog_ng, pki, where):
    emu = https_emulator(client_ca=True)
    if where == "inline":
        opts = dict(ca_file=str(pki.ca_cert), cert_file=str(pki.client_cert),
                    key_file=str(pki.client_key))
    else:
        opts = dict(tls=tls_block(ca_file=pki.ca_cert, cert_file=pki.client_cert,
                                  key_file=pki.client_key, peer_verify=True))
    sync_all(syslog_ng, emu, **opts)


# -- (d) peer-verify(no) ------------------------------------------------------

@pytest.mark.parametrize("where", ["inline", "tls"])
def test_peer_verify_no_needs_no_ca(https_emulator, syslog_ng, where):
    emu = https_emulator()
    opts = dict(peer_verify=False) if where == "inline" \
        else dict(tls=tls_block(peer_verify=False))
    sync_all(syslog_ng, emu, **opts)
