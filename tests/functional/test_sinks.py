# SPDX-License-Identifier: GPL-2.0-or-later
"""The sinks of docs/sinks.md, each against a stand-in started by the test on 127.0.0.1:

* elasticsearch-threatq(install-template(yes)): the index template is PUT (by
  scl/threatq/threatq-es-template, run as a hook-commands() setup command) before the first
  _bulk request; nothing is PUT without the option; a refused PUT keeps the destination (and
  syslog-ng) from starting, so no document reaches an index without its mapping;
* splunk-hec-threatq() against a HEC stand-in: every indicator once, the envelope fields,
  valid batches, 503 answers retried without loss under flow control;
* examples/threatq-to-kafka.conf and examples/threatq-to-splunk.conf pass --syntax-only;
  the Splunk example also runs against the HEC stand-in.

Like test_ecosystem.py, runs against this checkout (or with THREATQ_INSTALLED=1 against the
installed package: the script and template from /usr/share/syslog-ng-mod-threatq/).
"""

import calendar
import json
import subprocess
import time
from pathlib import Path

import pytest

import syslogng
from ecosystem_helpers import (HEC_PATH, BulkReceiver, HecReceiver, require_file,
                               require_syslog_ng_module, scl_includes, split_hec_events,
                               with_repo_scl)
from test_ecosystem import (ecs_file_log_path, example_text, instantiate_example,
                            threatq_defines)

REPO_SCL_DIR = syslogng.REPO / "scl" / "threatq"
INSTALLED_DATA = Path("/usr/share/syslog-ng-mod-threatq")
TOKEN = "11111111-2222-3333-4444-555555555555"


def data_file(name):
    """The template or the helper script: installed copy or this checkout's."""
    if syslogng.installed_mode():
        path = INSTALLED_DATA / name
        require_file(path, "syslog-ng-mod-threatq")
        return path
    return REPO_SCL_DIR / name


def template_args():
    """Arguments pointing elasticsearch-threatq() at the template and script to use (the
    defaults are the installed paths)."""
    if syslogng.installed_mode():
        return ""
    return 'template-file("%s") template-script("%s")' % (
        data_file("elasticsearch-template.json"), data_file("threatq-es-template"))


def require_http():
    require_syslog_ng_module("http", "syslog-ng-mod-http")


@pytest.fixture
def bulk_receiver():
    r = BulkReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def hec():
    r = HecReceiver(TOKEN).start()
    yield r
    r.stop()


def es_config(emu, receiver, out, es_options):
    source = syslogng.threatq_source(**syslogng.base_source_opts(emu, emu.collections()[0],
                                                                 page_size=10))
    return syslogng.VERSION_LINE + """
%s
options { stats-freq(0); time-reopen(1); };
source s_threatq { %s; };
destination d_es {
  elasticsearch-threatq(url("%s/_bulk") batch-lines(10) batch-timeout(100) workers(2) %s);
};
log { source(s_threatq); destination(d_es); flags(flow-control); };
%s""" % (scl_includes(), source, receiver.url, es_options, ecs_file_log_path(out))


# ---------------------------------------------------------------------------
# Elasticsearch: the index template in one step


@pytest.mark.parametrize("index", [None, "threatq-iocs"])
def test_template_is_put_before_the_first_bulk_request(emulator_factory, syslog_ng,
                                                       bulk_receiver, tmp_path, index):
    require_http()
    emu = emulator_factory(indicators=30)
    out = tmp_path / "ecs.ndjson"
    opts = "install-template(yes) " + template_args()
    if index:
        opts += ' index("%s")' % index
    syslog_ng.start(es_config(emu, bulk_receiver, out, opts))
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 30, timeout=30,
                       message="30 documents")
    reqs = bulk_receiver.requests()
    puts = [n for n, r in enumerate(reqs) if r["method"] == "PUT"]
    posts = [n for n, r in enumerate(reqs) if r["method"] == "POST"]
    assert puts == [0], [(r["method"], r["path"]) for r in reqs]
    assert posts and min(posts) > 0
    put = reqs[0]
    assert put["path"] == "/_index_template/syslog-ng-threatq"
    assert put["headers"]["content-type"] == "application/json"
    assert put["status"] == 200
    sent = json.loads(put["body"])
    shipped = json.loads(data_file("elasticsearch-template.json").read_text())
    want_index = index or "logs-ti_threatq.threat"
    assert sent["index_patterns"] == [want_index]
    shipped["index_patterns"] = [want_index]
    assert sent == shipped, "the PUT body is not the shipped template"
    assert {a["index"]["_index"] for a, _, _ in bulk_receiver.bulk_items()} == {want_index}
    assert syslog_ng.stop() == 0


def test_template_with_several_urls(emulator_factory, syslog_ng, bulk_receiver, tmp_path):
    """url() with two URLs, the first one down and the second with a query string: the
    template still goes to the one that answers, before any document."""
    require_http()
    emu = emulator_factory(indicators=10)
    source = syslogng.threatq_source(**syslogng.base_source_opts(emu, emu.collections()[0]))
    config = syslogng.VERSION_LINE + """
%s
options { stats-freq(0); time-reopen(1); };
source s_threatq { %s; };
destination d_es {
  elasticsearch-threatq(url("http://127.0.0.1:9/_bulk" "%s/_bulk?refresh=false&timeout=1m")
                        install-template(yes) batch-timeout(100) %s);
};
log { source(s_threatq); destination(d_es); flags(flow-control); };
""" % (scl_includes(), source, bulk_receiver.url, template_args())
    syslog_ng.start(config)
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 10, timeout=60,
                       message="10 documents")
    reqs = bulk_receiver.requests()
    assert [r["method"] for r in reqs][0] == "PUT"
    assert reqs[0]["path"] == "/_index_template/syslog-ng-threatq"
    assert {r["path"] for r in reqs[1:]} == {"/_bulk?refresh=false&timeout=1m"}
    assert syslog_ng.stop() == 0


def test_no_template_without_the_option(emulator_factory, syslog_ng, bulk_receiver, tmp_path):
    require_http()
    emu = emulator_factory(indicators=5)
    syslog_ng.start(es_config(emu, bulk_receiver, tmp_path / "ecs.ndjson", template_args()))
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 5, timeout=30,
                       message="5 documents")
    assert {r["method"] for r in bulk_receiver.requests()} == {"POST"}
    assert syslog_ng.stop() == 0


def test_refused_template_keeps_documents_out(emulator_factory, syslog_ng, bulk_receiver,
                                              tmp_path):
    """Elasticsearch refuses the template (400): the destination does not start, syslog-ng
    reports why and exits, and no document is sent to an index that would get guessed
    types."""
    require_http()
    bulk_receiver.put_status = 400
    emu = emulator_factory(indicators=5)
    with pytest.raises(syslogng.SyslogNgError):
        syslog_ng.start(es_config(emu, bulk_receiver, tmp_path / "ecs.ndjson",
                                  "install-template(yes) " + template_args()))
    out = syslog_ng.output()
    assert "Hook command returned with failure" in out, out[-3000:]
    assert "threatq-es-template: PUT" in out and "failed" in out, out[-3000:]
    assert [r["method"] for r in bulk_receiver.requests()] == ["PUT"]


def test_template_credentials_come_from_a_curl_config(emulator_factory, syslog_ng,
                                                      bulk_receiver, tmp_path):
    """template-curl-config(): the PUT authenticates with what the file says, and the
    secret is on no command line syslog-ng logs."""
    require_http()
    curlrc = tmp_path / "es.curlrc"
    curlrc.write_text('user = "elastic:s3cr3t-pw"\n')
    emu = emulator_factory(indicators=3)
    opts = 'install-template(yes) template-curl-config("%s") template-name("tq-test") ' \
           'user("elastic") password("s3cr3t-pw") %s' % (curlrc, template_args())
    syslog_ng.start(es_config(emu, bulk_receiver, tmp_path / "ecs.ndjson", opts))
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 3, timeout=30,
                       message="3 documents")
    put = bulk_receiver.requests()[0]
    assert put["method"] == "PUT" and put["path"] == "/_index_template/tq-test"
    assert put["headers"]["authorization"] == "Basic ZWxhc3RpYzpzM2NyM3QtcHc="
    assert syslog_ng.stop() == 0


def test_helper_script_by_hand(bulk_receiver, tmp_path):
    """threatq-es-template as a user runs it: base URL or _bulk URL, --print, bad input."""
    script = str(data_file("threatq-es-template"))
    run = lambda *a: subprocess.run([script, *a], stdout=subprocess.PIPE,  # noqa: E731
                                    stderr=subprocess.PIPE, timeout=60)
    p = run("--file", str(data_file("elasticsearch-template.json")), bulk_receiver.url)
    assert p.returncode == 0, p.stderr
    p = run("--file", str(data_file("elasticsearch-template.json")), "--name", "x",
            "--index-pattern", "tq-*", bulk_receiver.url + "/_bulk?refresh=false")
    assert p.returncode == 0, p.stderr
    reqs = bulk_receiver.requests()
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("PUT", "/_index_template/syslog-ng-threatq"), ("PUT", "/_index_template/x")]
    assert json.loads(reqs[1]["body"])["index_patterns"] == ["tq-*"]
    p = run("--file", str(data_file("elasticsearch-template.json")), "--print")
    assert p.returncode == 0 and json.loads(p.stdout) == json.loads(
        data_file("elasticsearch-template.json").read_text())
    for bad in (["--index-pattern", 'a"b', bulk_receiver.url], ["--name", "A B", "u"], []):
        p = run("--file", str(data_file("elasticsearch-template.json")), *bad)
        assert p.returncode == 2, (bad, p.stderr)
    # several URLs (as url() may list them): the first one that acknowledges gets it
    p = run("--file", str(data_file("elasticsearch-template.json")), "--retries", "0",
            "http://127.0.0.1:9/_bulk", bulk_receiver.url + "/_bulk")
    assert p.returncode == 0, p.stderr
    assert b"127.0.0.1:9/_index_template/syslog-ng-threatq failed" in p.stderr
    bulk_receiver.put_status = 400
    p = run("--file", str(data_file("elasticsearch-template.json")), bulk_receiver.url)
    assert p.returncode != 0 and b"failed" in p.stderr
    assert len(bulk_receiver.requests()) == 4


# ---------------------------------------------------------------------------
# Splunk HEC


def hec_config(emu, hec, out, hec_options, source_opts=None):
    source = syslogng.threatq_source(**syslogng.base_source_opts(
        emu, emu.collections()[0], **(source_opts or {})))
    return syslogng.VERSION_LINE + """
%s
options { stats-freq(0); time-reopen(1); };
source s_threatq { %s; };
destination d_hec {
  splunk-hec-threatq(url("%s%s") token("%s") %s);
};
log { source(s_threatq); destination(d_hec); flags(flow-control); };
%s""" % (scl_includes(), source, hec.url, HEC_PATH, TOKEN, hec_options,
         ecs_file_log_path(out))


def epoch(threatq_time):
    return calendar.timegm(time.strptime(threatq_time, "%Y-%m-%d %H:%M:%S"))


def check_hec_events(hec, indicators, documents, envelope):
    """Every indicator exactly once, with the envelope fields and its ECS document."""
    events = [e for _, e in hec.accepted()]
    ids = [e["fields"]["threatq_id"] for e in events]
    assert sorted(ids) == sorted(str(i["id"]) for i in indicators), "not every indicator once"
    by_id = {str(d["threatq"]["id"]): d for d in documents}
    updated = {str(i["id"]): i["updated_at"] for i in indicators}
    for e in events:
        tid = e["fields"]["threatq_id"]
        assert e["event"] == by_id[tid], "the event is not the ECS document"
        assert e["time"] == epoch(updated[tid]), (e["time"], updated[tid])
        assert set(e) == {"time", "event", "fields"} | set(envelope), sorted(e)
        for k, v in envelope.items():
            assert e[k] == v, (k, e[k], v)
        assert e["fields"] == {"threatq_id": tid}


def test_hec_one_event_per_indicator(emulator_factory, syslog_ng, hec, tmp_path):
    require_http()
    emu = emulator_factory(indicators=45)
    indicators = emu.indicators()
    out = tmp_path / "ecs.ndjson"
    syslog_ng.start(hec_config(emu, hec, out, 'index("threat_intel") host("tq-host") '
                               'source("threatq-prod") batch-lines(10) batch-timeout(100)'))
    syslog_ng.wait_for(lambda: len(hec.accepted()) >= 45
                       and len(syslogng.read_lines(out)) >= 45,
                       timeout=30, message="45 HEC events")
    assert syslog_ng.stop() == 0
    reqs = hec.requests()
    assert all(r["status"] == 200 for r in reqs), [r["status"] for r in reqs]
    for r in reqs:
        assert r["headers"]["authorization"] == "Splunk " + TOKEN
        assert r["headers"]["content-type"] == "application/json"
        n = len(split_hec_events(r["body"]))
        assert 1 <= n <= 10, "batch-lines(10) not honoured: %d" % n
    assert any(len(split_hec_events(r["body"])) > 1 for r in reqs), "no request was batched"
    check_hec_events(hec, indicators, syslogng.read_json_lines(out),
                     {"index": "threat_intel", "host": "tq-host", "source": "threatq-prod",
                      "sourcetype": "threatq:indicator"})
    # time carries the milliseconds of updated_at (the message timestamp); syslog-ng 4.x's
    # format-json writes a whole double without them (1672628705, not 1672628705.000)
    stamp = b'"time":%d,' if syslogng.TYPED_VALUES else b'"time":%d.000,'
    bodies = "".join(r["body"] for r in reqs).encode()
    assert all(stamp % epoch(i["updated_at"]) in bodies for i in indicators), bodies[:300]


def test_hec_defaults_leave_index_out(emulator_factory, syslog_ng, hec, tmp_path):
    require_http()
    emu = emulator_factory(indicators=5)
    out = tmp_path / "ecs.ndjson"
    syslog_ng.start(hec_config(emu, hec, out, "batch-timeout(100)"))
    syslog_ng.wait_for(lambda: len(hec.accepted()) >= 5, timeout=30, message="5 HEC events")
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(out)) >= 5, timeout=10,
                       message="the ndjson copy")
    assert syslog_ng.stop() == 0
    host = {e["host"] for _, e in hec.accepted()}
    assert len(host) == 1 and host != {""}
    check_hec_events(hec, emu.indicators(), syslogng.read_json_lines(out),
                     {"host": host.pop(), "source": "threatq",
                      "sourcetype": "threatq:indicator"})


def test_hec_503_is_retried_without_loss(emulator_factory, syslog_ng, hec, tmp_path):
    """HEC busy: the first three requests get 503; every indicator still arrives once
    (flow control holds the source meanwhile), nothing is dropped."""
    require_http()
    emu = emulator_factory(indicators=60)
    out = tmp_path / "ecs.ndjson"
    hec.fail_next(3, 503)
    syslog_ng.start(hec_config(emu, hec, out, "batch-lines(20) batch-timeout(100) workers(1)",
                               dict(page_size=20)))
    syslog_ng.wait_for(lambda: len(hec.accepted()) >= 60, timeout=60, message="60 HEC events")
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(out)) >= 60, timeout=10,
                       message="the ndjson copy")

    def all_written():
        c = {r["Type"]: r["Number"] for r in syslog_ng.stats()
             if r["SourceName"] == "dst.http" and r["SourceId"].startswith("d_hec")}
        return c if c.get("written") == 60 else None

    counters = syslog_ng.wait_for(all_written, timeout=10,
                                  message="written=60 in the http() counters")
    assert counters.get("dropped") == 0 and counters.get("queued") == 0, counters
    assert syslog_ng.stop() == 0
    statuses = [r["status"] for r in hec.requests()]
    assert statuses[:3] == [503, 503, 503] and statuses.count(503) == 3, statuses
    rejected = [e["fields"]["threatq_id"] for r in hec.requests() if r["status"] == 503
                for e in split_hec_events(r["body"])]
    assert rejected, "the 503 requests carried no events"
    check_hec_events(hec, emu.indicators(), syslogng.read_json_lines(out),
                     {"host": hec.accepted()[0][1]["host"], "source": "threatq",
                      "sourcetype": "threatq:indicator"})


def test_hec_token_and_url_are_mandatory(syslog_ng, tmp_path):
    require_http()
    for args in ('url("http://127.0.0.1:9%s")' % HEC_PATH, 'token("x")'):
        config = syslogng.VERSION_LINE + """
%s
destination d { splunk-hec-threatq(%s); };
log { source { internal(); }; destination(d); };
""" % (scl_includes(), args)
        rc, out = syslog_ng.syntax_only(config, conf_path=tmp_path / "hec.conf")
        assert rc != 0 and "Mandatory parameter" in out, out


# ---------------------------------------------------------------------------
# the examples


@pytest.mark.parametrize("name,module,package", [
    ("threatq-to-kafka.conf", "kafka", "syslog-ng-mod-rdkafka"),
    ("threatq-to-splunk.conf", "http", "syslog-ng-mod-http"),
])
def test_example_parses(name, module, package, syslog_ng, tmp_path):
    """Each example, exactly as shipped, passes syslog-ng --syntax-only."""
    require_syslog_ng_module(module, package)
    text = example_text(name)
    # the package's copies carry the series it was built for (debian/rules)
    series = syslogng.SERIES if syslogng.installed_mode() else "3.38"
    assert text.startswith("@version: %s\n" % series)
    rc, out = syslog_ng.syntax_only(with_repo_scl(text), conf_path=tmp_path / name)
    assert rc == 0, out


def test_kafka_example_keys_records_by_indicator_id():
    text = example_text("threatq-to-kafka.conf")
    assert 'key("${threatq.id}")' in text
    assert 'message("$MESSAGE")' in text
    assert "flags(flow-control)" in text


def test_example_splunk_end_to_end(emulator_factory, syslog_ng, hec, tmp_path):
    """examples/threatq-to-splunk.conf with only its site settings changed."""
    require_http()
    emu = emulator_factory(indicators=30)
    out = tmp_path / "ecs.ndjson"
    defines = threatq_defines(emu)
    defines.update(hec_url=hec.url + HEC_PATH, hec_token=TOKEN, hec_index="threat_intel")
    syslog_ng.start(instantiate_example("threatq-to-splunk.conf", defines,
                                        ecs_file_log_path(out)))
    syslog_ng.wait_for(lambda: len(hec.accepted()) >= 30
                       and len(syslogng.read_lines(out)) >= 30,
                       timeout=60, message="30 HEC events")
    assert syslog_ng.stop() == 0
    check_hec_events(hec, emu.indicators(), syslogng.read_json_lines(out),
                     {"index": "threat_intel", "host": hec.accepted()[0][1]["host"],
                      "source": "threatq", "sourcetype": "threatq:indicator"})
