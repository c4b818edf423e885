# SPDX-License-Identifier: GPL-2.0-or-later
"""Throwaway PKI for the TLS tests: a CA, a server certificate for
127.0.0.1 / localhost (subjectAltName) and a client certificate, made with the
openssl command line in a temp dir."""

import shutil
import subprocess
from pathlib import Path


class Pki:
    def __init__(self, root):
        self.dir = Path(root)
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        self.ca_dir = self.dir / "ca.d"          # hashed directory for ca-dir()
        self.server_cert = self.dir / "server.pem"
        self.server_key = self.dir / "server.key"
        self.client_cert = self.dir / "client.pem"
        self.client_key = self.dir / "client.key"
        self.other_ca_cert = self.dir / "other-ca.pem"   # a CA that signed nothing here
        self.other_ca_key = self.dir / "other-ca.key"


def openssl_available():
    return shutil.which("openssl") is not None


def _openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=str(cwd), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args),
                                                       p.stdout.decode(errors="replace")))
    return p.stdout.decode(errors="replace")


def _ca(d, key, cert, cn):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
             "-subj", "/CN=%s" % cn, "-keyout", str(key), "-out", str(cert),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d, pki, name, cn, ext_lines):
    key, csr, cert = d / (name + ".key"), d / (name + ".csr"), d / (name + ".pem")
    ext = d / (name + ".ext")
    ext.write_text("\n".join(ext_lines) + "\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", "/CN=%s" % cn,
             "-keyout", str(key), "-out", str(csr), cwd=d)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(pki.ca_cert), "-CAkey",
             str(pki.ca_key), "-CAcreateserial", "-days", "2", "-sha256",
             "-extfile", str(ext), "-out", str(cert), cwd=d)


def make_pki(root):
    """Create the CA, server and client certificates under root; returns a Pki."""
    pki = Pki(root)
    d = pki.dir
    d.mkdir(parents=True, exist_ok=True)
    _ca(d, pki.ca_key, pki.ca_cert, "threatq-test-ca")
    _ca(d, pki.other_ca_key, pki.other_ca_cert, "unrelated-test-ca")
    _leaf(d, pki, "server", "localhost", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ])
    _leaf(d, pki, "client", "syslog-ng-threatq-client", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=clientAuth",
    ])
    pki.ca_dir.mkdir(exist_ok=True)
    shutil.copy(pki.ca_cert, pki.ca_dir / "ca.pem")
    _openssl("rehash", str(pki.ca_dir), cwd=d)
    return pki


# ---------------------------------------------------------------------------
# checks shared by test_tls.py and test_resilience.py

def out_ids(path):
    """threatq.id of every document in the output file, in order."""
    import syslogng
    return [int(d["threatq"]["id"]) for d in syslogng.read_json_lines(path)]


def check_delivery(emu, out, max_duplicates, collection="abc123"):
    """Every indicator of the collection is in `out` (by threatq.id), nothing
    else is, and at most `max_duplicates` documents are repeats (one page).
    Returns (lost, duplicates) for reporting."""
    ids = out_ids(out)
    expected = {i["id"] for i in emu.indicators(collection)}
    lost = expected - set(ids)
    extra = set(ids) - expected
    dups = len(ids) - len(set(ids))
    assert not lost, "%d indicators lost, e.g. %s" % (len(lost), sorted(lost)[:10])
    assert not extra, "unknown ids delivered: %s" % sorted(extra)[:10]
    assert dups <= max_duplicates, \
        "%d duplicate documents (at most one page, %d, allowed)" % (dups, max_duplicates)
    return len(lost), dups


def threatq_counters(sng):
    """{counter name: value} of the src.threatq rows of `syslog-ng-ctl stats`."""
    return {r["Type"]: r["Number"] for r in sng.stats() if r.get("SourceName") == "src.threatq"}


def check_running(sng):
    """syslog-ng is alive and `syslog-ng-ctl stats` answers with the threatq
    counters; returns them."""
    sng.check_alive()
    counters = threatq_counters(sng)
    assert "indicators" in counters and "http_errors" in counters, sng.stats_raw()
    return counters
