# SPDX-License-Identifier: GPL-2.0-or-later
"""threatq() with the rest of the syslog-ng ecosystem: the threatq SCL
(elasticsearch-threatq(), t_threatq_ecs), the example configurations, and a
real PostgreSQL server through sql().

Runs against this checkout (module from THREATQ_MODULE_DIR or
modules/threatq/.libs, SCL from scl/threatq/, examples from examples/) or,
with THREATQ_INSTALLED=1, against the installed syslog-ng-mod-threatq package
(no --module-path, the SCL through scl.conf alone, the examples from
/usr/share/doc/syslog-ng-mod-threatq/examples/); tests/package-check.sh does
the latter.
"""

import base64
import json
import re

import pytest

import syslogng
from ecosystem_helpers import (INSTALLED_EXAMPLES, REPO_EXAMPLES, BulkReceiver, PostgresCluster,
                               expected_indicator_type, iso_ms, require_file,
                               require_syslog_ng_module, scl_includes, with_repo_scl)

EXAMPLES = ["threatq-to-elasticsearch.conf", "threatq-to-ndjson.conf",
            "threatq-to-postgresql.conf"]


@pytest.fixture
def bulk_receiver():
    r = BulkReceiver().start()
    yield r
    r.stop()


def require_http():
    require_syslog_ng_module("http", "syslog-ng-mod-http")


def require_sql():
    require_syslog_ng_module("afsql", "syslog-ng-mod-sql")
    require_file("/usr/lib/x86_64-linux-gnu/dbd/libdbdpgsql.so", "libdbd-pgsql")


def example_text(name):
    if syslogng.installed_mode():
        path = INSTALLED_EXAMPLES / name
        require_file(path, "syslog-ng-mod-threatq (its examples)")
    else:
        path = REPO_EXAMPLES / name
    return path.read_text()


def instantiate_example(name, defines, extra=""):
    """The example configuration with its `@define name "..."` site settings
    replaced, able to see the SCL, plus extra configuration text."""
    text = example_text(name)
    for key, value in defines.items():
        pattern = re.compile(r'^@define %s "[^"\n]*"' % re.escape(key), re.M)
        text, n = pattern.subn(lambda m: '@define %s %s' % (key, json.dumps(value)), text)
        assert n == 1, "%s: expected one '@define %s' line, found %d" % (name, key, n)
    return with_repo_scl(text) + "\n" + extra


def threatq_defines(emulator):
    return {"threatq_url": emulator.url, "threatq_collection": emulator.collections()[0],
            "threatq_client_id": emulator.client_id,
            "threatq_client_secret": emulator.client_secret}


def ecs_file_log_path(out_file, source="s_threatq"):
    """A second log path writing every document with the SCL's t_threatq_ecs template."""
    return 'log { source(%s); destination { file("%s" template(t_threatq_ecs)); }; };\n' % (
        source, out_file)


def assert_bulk_matches(items, documents, index, ids):
    """items: BulkReceiver.bulk_items(); documents: the ndjson lines ($MESSAGE)
    in delivery order; ids: the expected _id of each, in order."""
    assert len(items) == len(documents) == len(ids), (len(items), len(documents), len(ids))
    for (action, doc_text, _), line, want_id in zip(items, documents, ids):
        assert action == {"index": {"_index": index, "_id": want_id}}, action
        assert doc_text == line, "the _bulk document is not the ECS MESSAGE"
        json.loads(doc_text)


# ---------------------------------------------------------------------------
# the SCL


def test_elasticsearch_threatq_bulk_payload_and_upsert_by_id(emulator_factory, syslog_ng,
                                                             bulk_receiver, tmp_path):
    """elasticsearch-threatq() with its defaults: one action line per indicator
    (_index logs-ti_threatq.threat, _id = threatq.id) followed by the ECS document
    equal to MESSAGE; an updated indicator is sent again under the same _id."""
    require_http()
    emu = emulator_factory(indicators=25)
    indicators = emu.indicators()
    out = tmp_path / "ecs.ndjson"
    source = syslogng.threatq_source(**syslogng.base_source_opts(
        emu, emu.collections()[0], page_size=10, poll_interval=1))
    config = syslogng.VERSION_LINE + """
%s
options { stats-freq(0); time-reopen(1); };
source s_threatq { %s; };
destination d_es {
  elasticsearch-threatq(url("%s/_bulk") batch-lines(10) batch-timeout(100) workers(1));
};
log { source(s_threatq); destination(d_es); flags(flow-control); };
%s""" % (scl_includes(), source, bulk_receiver.url, ecs_file_log_path(out))
    syslog_ng.start(config)

    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 25
                       and len(syslogng.read_lines(out)) >= 25,
                       timeout=30, message="25 documents in _bulk requests and in the file")
    for req in bulk_receiver.requests():
        assert req["path"] == "/_bulk"
        assert req["headers"].get("content-type") == "application/x-ndjson"
        assert len(req["body"].split("\n")) // 2 <= 10, "batch-lines(10) not honoured"

    items = bulk_receiver.bulk_items()
    lines = syslogng.read_lines(out)
    assert_bulk_matches(items, lines, "logs-ti_threatq.threat",
                        [str(i["id"]) for i in indicators])
    for (action, doc_text, _), ind in zip(items, indicators):
        doc = json.loads(doc_text)
        assert doc["threatq"]["id"] == ind["id"]
        assert doc["threatq"]["indicator_value"] == ind["value"]
        assert doc["ecs"]["version"] == "8.3.0"
        assert doc["@timestamp"] == iso_ms(ind["updated_at"])

    # ThreatQ updates one indicator: the next poll sends it again, same _id,
    # so Elasticsearch replaces the document.
    updated = emu.update_indicator(indicators[3]["id"])
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 26
                       and len(syslogng.read_lines(out)) >= 26,
                       timeout=30, message="the updated indicator in a _bulk request")
    items = bulk_receiver.bulk_items()
    lines = syslogng.read_lines(out)
    assert_bulk_matches(items, lines, "logs-ti_threatq.threat",
                        [str(i["id"]) for i in indicators] + [str(updated["id"])])
    doc = json.loads(items[-1][1])
    assert doc["threatq"]["updated_at"] == iso_ms(updated["updated_at"])
    assert doc["threatq"]["score"] == updated["score"]
    assert syslog_ng.stop() == 0


def test_elasticsearch_threatq_arguments_and_pass_through(emulator_factory, syslog_ng,
                                                          bulk_receiver, tmp_path):
    """index(), custom_id(), template() and headers() are the block's own
    arguments; user()/password() go through __VARARGS__ to http()."""
    require_http()
    emu = emulator_factory(indicators=5)
    indicators = emu.indicators()
    source = syslogng.threatq_source(**syslogng.base_source_opts(emu, emu.collections()[0]))
    config = syslogng.VERSION_LINE + """
%s
source s_threatq { %s; };
destination d_es {
  elasticsearch_threatq(
    url("%s/_bulk")
    index("threatq-iocs")
    custom_id("tq-${threatq.id}")
    template("$(format-json --scope none id=int64(${threatq.id}) value=${threatq.indicator_value})")
    headers("Content-Type: application/x-ndjson" "X-Threatq-Test: yes")
    batch_lines(100) batch_timeout(200)
    user("elastic") password("s3cr3t")
  );
};
log { source(s_threatq); destination(d_es); flags(flow-control); };
""" % (scl_includes(), source, bulk_receiver.url)
    syslog_ng.start(config)
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 5, timeout=30,
                       message="5 documents")
    # workers(4), the default: batches may arrive in any order.
    items = sorted(bulk_receiver.bulk_items(), key=lambda item: json.loads(item[1])["id"])
    assert len(items) == 5
    for (action, doc_text, _), ind in zip(items, sorted(indicators, key=lambda i: i["id"])):
        assert action == {"index": {"_index": "threatq-iocs", "_id": "tq-%d" % ind["id"]}}
        assert json.loads(doc_text) == {"id": ind["id"], "value": ind["value"]}
    for req in bulk_receiver.requests():
        assert req["headers"].get("x-threatq-test") == "yes"
        assert req["headers"].get("content-type") == "application/x-ndjson"
        assert req["headers"].get("authorization") == \
            "Basic " + base64.b64encode(b"elastic:s3cr3t").decode()
    assert syslog_ng.stop() == 0


def test_elasticsearch_threatq_url_is_mandatory(syslog_ng, tmp_path):
    require_http()
    config = syslogng.VERSION_LINE + """
%s
destination d_es { elasticsearch-threatq(index("x")); };
log { source { internal(); }; destination(d_es); };
""" % scl_includes()
    rc, out = syslog_ng.syntax_only(config, conf_path=tmp_path / "nourl.conf")
    assert rc != 0, out
    assert "Mandatory parameter" in out and "url" in out, out


def test_scl_is_read_through_scl_conf_alone(syslog_ng, tmp_path):
    """Installed package: `@include "scl.conf"` is all a configuration needs.
    Source tree: the same with this checkout's SCL included after scl.conf."""
    require_http()
    config = syslogng.VERSION_LINE + """
%s
destination d_es { elasticsearch-threatq(url("http://127.0.0.1:9/_bulk")); };
destination d_file { file("%s" template(t_threatq_ecs)); };
log { source { internal(); }; destination(d_es); destination(d_file); };
""" % (scl_includes(), tmp_path / "x.ndjson")
    rc, out = syslog_ng.syntax_only(config, conf_path=tmp_path / "scl.conf.test")
    assert rc == 0, out


# ---------------------------------------------------------------------------
# the examples


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_parses(name, syslog_ng, tmp_path):
    """Each example, exactly as shipped, passes syslog-ng --syntax-only."""
    require_http()
    require_sql()
    text = example_text(name)
    # the package's copies carry the series it was built for (debian/rules)
    series = syslogng.SERIES if syslogng.installed_mode() else "3.38"
    assert text.startswith("@version: %s\n" % series)
    assert '@include "scl.conf"' in text
    rc, out = syslog_ng.syntax_only(with_repo_scl(text), conf_path=tmp_path / name)
    assert rc == 0, out


def test_example_elasticsearch_end_to_end(emulator_factory, syslog_ng, bulk_receiver, tmp_path):
    """examples/threatq-to-elasticsearch.conf with only its site settings changed."""
    require_http()
    emu = emulator_factory(indicators=30)
    indicators = emu.indicators()
    out = tmp_path / "ecs.ndjson"
    defines = threatq_defines(emu)
    defines.update(es_url=bulk_receiver.url + "/_bulk", es_user="elastic", es_password="pw")
    syslog_ng.start(instantiate_example("threatq-to-elasticsearch.conf", defines,
                                        ecs_file_log_path(out)))
    syslog_ng.wait_for(lambda: len(bulk_receiver.bulk_items()) >= 30
                       and len(syslogng.read_lines(out)) >= 30,
                       timeout=30, message="30 documents")
    # workers(2): batches may arrive in any order; compare by _id.
    items = bulk_receiver.bulk_items()
    docs = {json.loads(line)["threatq"]["id"]: line for line in syslogng.read_lines(out)}
    assert len(items) == len(docs) == 30
    assert sorted(int(a["index"]["_id"]) for a, _, _ in items) == \
        sorted(i["id"] for i in indicators)
    for action, doc_text, _ in items:
        assert action["index"]["_index"] == "logs-ti_threatq.threat"
        assert set(action["index"]) == {"_index", "_id"}
        assert doc_text == docs[int(action["index"]["_id"])]
    for req in bulk_receiver.requests():
        assert req["headers"].get("authorization") == \
            "Basic " + base64.b64encode(b"elastic:pw").decode()
    assert syslog_ng.stop() == 0


def test_example_ndjson_end_to_end(emulator_factory, syslog_ng, tmp_path):
    """examples/threatq-to-ndjson.conf: every document in indicators.ndjson, and
    the IP indicators in ip-indicators.txt."""
    emu = emulator_factory(indicators=40)
    indicators = emu.indicators()
    logdir = tmp_path / "threatq-logs"
    defines = threatq_defines(emu)
    defines["threatq_log_dir"] = str(logdir)
    syslog_ng.start(instantiate_example("threatq-to-ndjson.conf", defines))
    ecs = logdir / "indicators.ndjson"
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(ecs)) >= 40, timeout=30,
                       message="40 documents in %s" % ecs)
    docs = syslogng.read_json_lines(ecs)
    assert [d["threatq"]["id"] for d in docs] == [i["id"] for i in indicators]

    ip_inds = [i for i in indicators if expected_indicator_type(i) in ("ipv4-addr", "ipv6-addr")]
    assert ip_inds, "the emulator's sample has no IP indicators"
    iplist = logdir / "ip-indicators.txt"
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(iplist)) >= len(ip_inds), timeout=10,
                       message="%d lines in %s" % (len(ip_inds), iplist))
    by_id = {d["threatq"]["id"]: d for d in docs}
    lines = syslogng.read_lines(iplist)
    assert len(lines) == len(ip_inds)
    for line, ind in zip(lines, ip_inds):
        conf = by_id[ind["id"]]["threat"]["indicator"].get("confidence", "Not Specified")
        assert line == "%s %s %d" % (ind["value"], conf, ind["id"])
    assert syslog_ng.stop() == 0


# ---------------------------------------------------------------------------
# a real database


@pytest.fixture
def postgres():
    require_sql()
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_example_postgresql_end_to_end(emulator_factory, syslog_ng, postgres, tmp_path):
    """examples/threatq-to-postgresql.conf against a throwaway PostgreSQL
    cluster: syslog-ng creates the table and inserts one row per indicator;
    the columns hold the values the emulator served and the ECS document."""
    emu = emulator_factory(indicators=60)
    indicators = emu.indicators()
    postgres.psql("CREATE DATABASE threatintel")
    out = tmp_path / "ecs.ndjson"
    defines = threatq_defines(emu)
    defines.update(pg_host="127.0.0.1", pg_port=str(postgres.port), pg_user=postgres.user,
                   pg_password="", pg_database="threatintel")
    syslog_ng.start(instantiate_example("threatq-to-postgresql.conf", defines,
                                        ecs_file_log_path(out)))
    postgres.wait_for_count("threatintel", "threatq_indicators", len(indicators),
                            alive=syslog_ng.check_alive)
    syslog_ng.wait_for(lambda: len(syslogng.read_lines(out)) >= len(indicators), timeout=10,
                       message="the ndjson copy")

    types = dict((r[0], r[1]) for r in postgres.psql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'threatq_indicators'", "threatintel"))
    for column, data_type in [("threatq_id", "bigint"),
                              ("indicator_type", "character varying"),
                              ("indicator_value", "text"),
                              ("updated_at", "timestamp with time zone"),
                              ("document", "jsonb")]:
        assert types.get(column) == data_type, types

    rows = postgres.psql(
        "SELECT threatq_id, indicator_type, indicator_value,"
        " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), document::text"
        " FROM threatq_indicators ORDER BY updated_at, threatq_id", "threatintel")
    assert len(rows) == len(indicators)
    documents = {d["threatq"]["id"]: d for d in syslogng.read_json_lines(out)}
    for row, ind in zip(rows, indicators):
        threatq_id, itype, value, updated_at, document = row
        assert int(threatq_id) == ind["id"]
        want_type = expected_indicator_type(ind)
        assert itype == (want_type if want_type is not None else "\\N"), (row[:4], ind["type"])
        assert value == ind["value"]
        assert updated_at == ind["updated_at"]
        assert json.loads(document) == documents[ind["id"]]

    indexes = postgres.psql("SELECT indexdef FROM pg_indexes WHERE tablename = "
                            "'threatq_indicators'", "threatintel")
    for column in ("threatq_id", "indicator_value", "updated_at"):
        assert any("(%s)" % column in r[0] for r in indexes), indexes
    assert syslog_ng.stop() == 0
