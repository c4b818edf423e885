# SPDX-License-Identifier: GPL-2.0-or-later
"""The name-value pairs as ONE JSON document, next to MESSAGE, on the syslog-ng under test.

Every message is written as `$MESSAGE<TAB>$(format-json --scope none --key threatq.* ...)`,
the documented way to rebuild the ECS document from the name-value pairs (docs/
syslog-ng-versions.md), with the `@version:` of the running syslog-ng:

* syslog-ng 4.x (typed values): the two documents are equal, value for value and type for
  type (integers are JSON integers, lists JSON arrays, strings strings), nothing more and
  nothing less;
* syslog-ng 3.38 (format-json ignores types): the same keys, and every value is a string:
  scalars are the text of MESSAGE's value (typed output needs casts, see test_nv_pairs.py).

Inputs: every line of the conformance corpora (through conformance_data.py) and the emulator's
generated indicators plus test_nv_pairs.py's hand-made ones (every indicator type, list and
escaping stress).
"""

import json

import pytest

import conformance_data as cd
import syslogng
from conftest import CLIENT_ID, CLIENT_SECRET, COLLECTION, require_module
from syslogng import Raw, base_source_opts, read_lines, threatq_source
from test_conformance import page_body
from test_nv_pairs import handmade
from threatq_emulator import ThreatQEmulator

KEYS = ["threatq.*", "threat.*", "event.*", "related.*", "ecs.*", "error.*", "tags",
        "@timestamp"]
NV_DOCUMENT = "$(format-json --scope none %s)" % " ".join("--key %s" % k for k in KEYS)


def config(emu, out, preserve_original, tags):
    tag_opt = Raw(", ".join(json.dumps(t) for t in tags)) if tags else None
    opts = base_source_opts(emu, COLLECTION, preserve_original=preserve_original, tags=tag_opt)
    return syslogng.VERSION_LINE + """
options { stats-freq(0); time-reopen(1); };
source s_tq { %s; };
destination d_out { file("%s" template("$MESSAGE\\t%s\\n")); };
log { source(s_tq); destination(d_out); };
""" % (threatq_source(**opts), out, NV_DOCUMENT)


def render(workdir, emu, count, preserve_original=True, tags=()):
    """[(MESSAGE document, name-value document)] of `count` messages."""
    require_module()
    sng = syslogng.SyslogNg(workdir)
    out = workdir / "out.txt"
    try:
        sng.start(config(emu, out, preserve_original, tags))
        sng.wait_for(lambda: len(read_lines(out)) >= count, timeout=30,
                     message="%d messages" % count)
        sng.stop()
    except BaseException:
        print(sng.output())
        raise
    finally:
        sng.cleanup()
    pairs = []
    for line in read_lines(out):
        message, nv = line.split("\t")
        pairs.append((json.loads(message), json.loads(nv)))
    assert len(pairs) == count
    return pairs


def typed_differences(got, want, path=""):
    """Where got and want differ in a value or in a JSON type (True is not 1, 1 is not 1.0)."""
    if type(got) is not type(want):
        return ["%s: name-value %r (%s), MESSAGE %r (%s)"
                % (path or "/", got, type(got).__name__, want, type(want).__name__)]
    if isinstance(want, dict):
        out = []
        for k in sorted(set(got) | set(want)):
            p = path + "." + k if path else k
            if k not in got:
                out.append("%s: missing from the name-value document" % p)
            elif k not in want:
                out.append("%s: not in MESSAGE (name-value %r)" % (p, got[k]))
            else:
                out.extend(typed_differences(got[k], want[k], p))
        return out
    if isinstance(want, list):
        if len(got) != len(want):
            return ["%s: name-value %r, MESSAGE %r" % (path, got, want)]
        return [d for i, (g, w) in enumerate(zip(got, want))
                for d in typed_differences(g, w, "%s[%d]" % (path, i))]
    return [] if got == want else ["%s: name-value %r, MESSAGE %r" % (path, got, want)]


def untyped_differences(got, want):
    """3.38: same keys; every value a string, scalars the text of MESSAGE's value."""
    flat_got, flat_want = cd.flatten(got), cd.flatten(want)
    out = []
    if set(flat_got) != set(flat_want):
        out.append("keys differ: only name-value %s, only MESSAGE %s"
                   % (sorted(set(flat_got) - set(flat_want)),
                      sorted(set(flat_want) - set(flat_got))))
    for k, w in flat_want.items():
        g = flat_got.get(k)
        if not isinstance(g, str):
            out.append("%s: name-value %r is not a string" % (k, g))
        elif not isinstance(w, list) and g != (w if isinstance(w, str) else json.dumps(w)):
            out.append("%s: name-value %r, MESSAGE %r" % (k, g, w))
    return out


def check(pairs):
    problems = []
    for message, nv in pairs:
        found = (typed_differences(nv, message) if syslogng.TYPED_VALUES
                 else untyped_differences(nv, message))
        problems.extend("id %s %s" % (message.get("threatq", {}).get("id"), p) for p in found)
    assert not problems, "\n".join(problems[:40])


def _started_emulator():
    emu = ThreatQEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=11)
    emu.add_collection(COLLECTION)
    return emu


def test_emulator_indicators(tmp_path):
    emu = _started_emulator()
    emu.add_indicators(60, collection=COLLECTION)
    emu.add_raw_indicators(handmade(), collection=COLLECTION)
    emu.start()
    try:
        pairs = render(tmp_path, emu, len(emu.indicators(COLLECTION)),
                       tags=["forwarded", "threatq-threat"])
    finally:
        emu.stop()
    check(pairs)
    # the comparison covered integers and lists, not only strings
    kinds = {type(v) for m, _ in pairs for v in cd.flatten(m).values()}
    assert {int, list, str} <= kinds, kinds


def _corpus_logs():
    if cd.missing_reason():
        return [pytest.param(None, None, id="conformance-corpora-missing")]
    seen = {}
    for corpus in cd.corpora():
        seen.setdefault(corpus.log, corpus)
    return [pytest.param(c.log, c.source_opts, id=c.log.name) for c in seen.values()]


@pytest.mark.parametrize("log,source_opts", _corpus_logs())
def test_conformance_corpus(tmp_path, log, source_opts):
    if log is None:
        pytest.fail(cd.missing_reason(), pytrace=False)
    lines = cd.read_log_lines(log)
    emu = _started_emulator()
    emu.add_fault(kind="page", body=page_body(lines))
    emu.start()
    try:
        pairs = render(tmp_path, emu, len(lines), **source_opts)
    finally:
        emu.stop()
    check(pairs)
