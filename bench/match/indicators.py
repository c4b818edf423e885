# SPDX-License-Identifier: GPL-2.0-or-later
"""The indicators and log values of the threatq-match() comparison (bench/match/compare.sh).

Indicator i (0 <= i < N) has the type mix of bench/match/bench_match_set.c, by i % 100:
40 IPv4, 5 IPv6, 3 IPv4 CIDR (/16 to /31), 2 IPv6 CIDR (/32 to /63), 20 FQDN, 10 URL,
5 e-mail, 5 MD5, 5 SHA-1, 5 SHA-256 (use_prefixes("few"): CIDR blocks of fewer lengths).  The addresses, names, URLs and e-mails are the same
as that generator's; the hashes come from hashlib.  The same i always gives the same
value, so bench/fast_server.py (--match-mix), the add-contextual-data() CSV and the log
lines agree without sharing a file.

Address spaces keep hits and misses apart: IPv4 indicators are in 1-100.x.x.x, IPv4 CIDR
blocks in 101-200.x.x.x, IPv6 CIDR blocks under 2001::/16; miss values use 201-223.x.x.x
and 2002::/16, names and paths that no indicator has, and hashes of other inputs.
"""

import hashlib
import ipaddress

# the prefix lengths of the CIDR blocks: "wide" as bench_match_set.c (16 IPv4 and 32 IPv6
# lengths: an address lookup probes every length present, the worst case), "few" as the
# emulator's IndicatorFactory (IPv4 /16, /22, /24, /28 and IPv6 /48, nearer a real feed)
PREFIXES = {"wide": (tuple(range(16, 32)), tuple(range(32, 64))),
            "few": ((16, 22, 24, 28), (48,))}
_v4_lengths, _v6_lengths = PREFIXES["wide"]


def use_prefixes(name):
    """Selects the CIDR prefix lengths (a key of PREFIXES) for every function below."""
    global _v4_lengths, _v6_lengths
    _v4_lengths, _v6_lengths = PREFIXES[name]


GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
HASHES = (("MD5", hashlib.md5), ("SHA-1", hashlib.sha1), ("SHA-256", hashlib.sha256))


def _h(i):
    return (i * GOLDEN) & MASK64


def indicator(i):
    """(ThreatQ type name, value) of indicator i."""
    h = _h(i)
    slot = i % 100
    if slot < 40:
        return "IP Address", "%d.%d.%d.%d" % (1 + (i >> 24) % 100, (i >> 16) & 255,
                                              (i >> 8) & 255, i & 255)
    if slot < 45:
        return "IPv6 Address", "2001:db8:%x::%x" % (i >> 16, i & 0xFFFF)
    if slot < 48:
        return "CIDR Block", "%d.%d.%d.%d/%d" % (101 + (h >> 56) % 100, (h >> 48) & 255,
                                                 (h >> 40) & 255, (h >> 32) & 255,
                                                 _v4_lengths[(h >> 28) % len(_v4_lengths)])
    if slot < 50:
        return "CIDR Block", "2001:%x:%x:%x::/%d" % (h >> 48, (h >> 32) & 0xFFFF,
                                                     (h >> 16) & 0xFFFF,
                                                     _v6_lengths[(h >> 8) % len(_v6_lengths)])
    if slot < 70:
        return "FQDN", "host%d.bad-%d.example.com" % (i, h >> 50)
    if slot < 80:
        return "URL", "http://site%d.example.net/path/%d/login.php?id=%d" % (
            h >> 48, i, (h >> 40) & 0xFF)
    if slot < 85:
        return "Email Address", "user%d@phish%d.example.org" % (i, h >> 56)
    name, fn = HASHES[(slot - 85) // 5]
    return name, fn(b"indicator %d" % i).hexdigest()


def score(i):
    """The indicator's score (0 to 10): decides the best hit between equal keys."""
    return (i * 7) % 11


def hit_value(i):
    """A value a log line carries that hits indicator i: the value itself, or for a CIDR block
    the first address after its network address."""
    kind, value = indicator(i)
    if kind != "CIDR Block":
        return value
    net = ipaddress.ip_network(value, strict=False)
    return str(net.network_address + 1)


def miss_value(j):
    """A value of the same mix of shapes that no indicator has."""
    h = _h(j + 0x5151)
    slot = j % 100
    if slot < 48 and slot not in range(40, 45):
        return "%d.%d.%d.%d" % (201 + (h >> 56) % 23, (h >> 48) & 255, (h >> 40) & 255,
                                (h >> 32) & 255)
    if slot < 50:
        return "2002:db8:%x::%x" % ((h >> 48), (h >> 32) & 0xFFFF)
    if slot < 70:
        return "www%d.good-%d.example.com" % (j, h >> 50)
    if slot < 80:
        return "https://cdn%d.example.com/assets/%d/app.js?v=%d" % (h >> 54, j, (h >> 40) & 0xFF)
    if slot < 85:
        return "user%d@mail%d.example.org" % (j, h >> 56)
    return HASHES[(slot - 85) // 5][1](b"log %d" % j).hexdigest()


def is_hit_line(j):
    """1 line in 100 carries the value of an indicator."""
    return j % 100 == 37


def hit_indicator(j, n):
    """The indicator that hit line j carries (spread over all of 0..n-1, so over all types)."""
    return (_h(j // 100) >> 16) % n


class Expected:
    """Which indicator id a threatq-match() lookup of hit_value(k) must report: an exact value
    has one indicator; an address is matched against IP indicators and CIDR blocks, the
    longest prefix wins, and between indicators of the same key the highest score, then the
    latest (the highest i: updated_at grows with i) wins (threatq_match_best_hit())."""

    def __init__(self, n):
        self.n = n
        self.prefixes = {}      # (version, prefix length, network int) -> best i
        for i in range(n):
            if 40 <= i % 100 < 50:
                kind, value = indicator(i)
                net = ipaddress.ip_network(value, strict=False)
                key = (net.version, net.prefixlen, int(net.network_address))
                self._keep(key, i)

    def _keep(self, key, i):
        old = self.prefixes.get(key)
        if old is None or (score(i), i) > (score(old), old):
            self.prefixes[key] = i

    def best(self, k):
        """The i of the indicator a lookup of hit_value(k) reports."""
        kind, value = indicator(k)
        if kind not in ("IP Address", "IPv6 Address", "CIDR Block"):
            return k
        addr = ipaddress.ip_address(hit_value(k))
        bits = addr.max_prefixlen
        if kind != "CIDR Block":
            return k                  # a full-length prefix: nothing is longer
        a = int(addr)
        ip = self._ipv6_indicator(a) if addr.version == 6 else None
        if ip is not None:
            return ip                 # an IPv6 indicator's own address: a full-length prefix
        for plen in range(bits, 0, -1):
            found = self.prefixes.get((addr.version, plen, (a >> (bits - plen)) << (bits - plen)))
            if found is not None:
                return found
        return k

    def _ipv6_indicator(self, a):
        """The i of the IPv6 indicator 2001:db8:X::Y at address a, if there is one."""
        if a >> 96 != 0x20010DB8 or (a >> 16) & ((1 << 64) - 1):
            return None
        i = ((a >> 80) & 0xFFFF) << 16 | (a & 0xFFFF)
        return i if i < self.n and 40 <= i % 100 < 45 else None
