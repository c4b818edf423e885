/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-enrichment: one hit as an ECS threat.enrichments[] object
 * (what hits-field() holds), table-driven over every kind of ECS value
 * field, absent values, escaping, and the dates as the mapper writes them.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-match-enrichment.h"

#define NOW G_GINT64_CONSTANT(1700000000)

/* text in arrays, not pointers: Criterion hands a parameter to a test in another process; "" is absent */
typedef struct
{
  gchar type[16];
  gchar value[80];
  gchar log_value[80];
  gchar confidence[8];
  gchar tlp[8];
  gchar description[32];
  gchar providers[2][16];
  gint64 first_seen;
  gint64 last_seen;
  gchar field[32];
  gchar expected[512];
} RenderCase;

static const gchar *
_or_null(const gchar *text)
{
  return text[0] ? text : NULL;
}

static const RenderCase render_cases[] =
{
  {
    "IP Address", "198.51.100.7", "198.51.100.7", "High", "AMBER", "C2 server", { "OTX", "CrowdStrike" },
    1686125350, 1712297228, "${SOURCEIP}",
    "{\"indicator\":{\"type\":\"ipv4-addr\",\"ip\":\"198.51.100.7\",\"id\":7,\"confidence\":\"High\","
    "\"provider\":[\"OTX\",\"CrowdStrike\"],\"marking\":{\"tlp\":[\"AMBER\"]},"
    "\"first_seen\":\"2023-06-07T08:09:10.000Z\",\"last_seen\":\"2024-04-05T06:07:08.000Z\","
    "\"description\":\"C2 server\"},"
    "\"matched\":{\"atomic\":\"198.51.100.7\",\"field\":\"${SOURCEIP}\",\"type\":\"indicator_match_rule\"}}"
  },
  /* a block shorter than an address: no ECS field holds it; nothing optional */
  {
    "CIDR Block", "203.0.113.0/24", "203.0.113.9", "", "", "", { "" }, 0, 0, "$DESTIP",
    "{\"indicator\":{\"type\":\"ipv4-addr\",\"id\":7},"
    "\"matched\":{\"atomic\":\"203.0.113.9\",\"field\":\"$DESTIP\",\"type\":\"indicator_match_rule\"}}"
  },
  {
    "IPv6 Address", "2001:DB8::7", "[2001:db8:0::7]", "", "", "", { "" }, 0, 0, "f",
    "{\"indicator\":{\"type\":\"ipv6-addr\",\"ip\":\"2001:db8::7\",\"id\":7},"
    "\"matched\":{\"atomic\":\"[2001:db8:0::7]\",\"field\":\"f\",\"type\":\"indicator_match_rule\"}}"
  },
  /* a dotted ECS field nests */
  {
    "SHA-256", "CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB",
    "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "", "", "", { "" }, 0, 0, "h",
    "{\"indicator\":{\"type\":\"file\",\"file\":{\"hash\":{\"sha256\":"
    "\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\"}},\"id\":7},"
    "\"matched\":{\"atomic\":\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\","
    "\"field\":\"h\",\"type\":\"indicator_match_rule\"}}"
  },
  {
    "MD5", "0cc175b9c0f1b6a831c399e269772661", "0CC175B9C0F1B6A831C399E269772661", "", "", "", { "" },
    0, 0, "h",
    "{\"indicator\":{\"type\":\"file\",\"file\":{\"hash\":{\"md5\":\"0cc175b9c0f1b6a831c399e269772661\"}},"
    "\"id\":7},\"matched\":{\"atomic\":\"0CC175B9C0F1B6A831C399E269772661\",\"field\":\"h\","
    "\"type\":\"indicator_match_rule\"}}"
  },
  {
    "URL", "HTTP://Bad.Example.org:80/p?q=1", "http://bad.example.org/p?q=1", "", "", "", { "" }, 0, 0, "u",
    "{\"indicator\":{\"type\":\"url\",\"url\":{\"full\":\"http://bad.example.org/p?q=1\"},\"id\":7},"
    "\"matched\":{\"atomic\":\"http://bad.example.org/p?q=1\",\"field\":\"u\",\"type\":\"indicator_match_rule\"}}"
  },
  {
    "Email Address", "Phish@Example.net", "phish@example.net", "", "", "", { "" }, 0, 0, "m",
    "{\"indicator\":{\"type\":\"email-addr\",\"email\":{\"address\":\"phish@example.net\"},\"id\":7},"
    "\"matched\":{\"atomic\":\"phish@example.net\",\"field\":\"m\",\"type\":\"indicator_match_rule\"}}"
  },
  /* escaping: the description, the log value and the template as written */
  {
    "FQDN", "evil.example.com", "Evil.Example.com.", "", "CLEAR", "a \"quoted\"\nline\\", { "x\"y" }, 0, 0,
    "$(lowercase \"${host}\")",
    "{\"indicator\":{\"type\":\"domain-name\",\"url\":{\"domain\":\"evil.example.com\"},\"id\":7,"
    "\"provider\":[\"x\\\"y\"],\"marking\":{\"tlp\":[\"CLEAR\"]},\"description\":\"a \\\"quoted\\\"\\nline\\\\\"},"
    "\"matched\":{\"atomic\":\"Evil.Example.com.\",\"field\":\"$(lowercase \\\"${host}\\\")\","
    "\"type\":\"indicator_match_rule\"}}"
  },
};

ParameterizedTestParameters(match_enrichment, render)
{
  return cr_make_param_array(RenderCase, render_cases, G_N_ELEMENTS(render_cases));
}

ParameterizedTest(const RenderCase *c, match_enrichment, render)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  const gchar *providers[] = { _or_null(c->providers[0]), _or_null(c->providers[1]), NULL };
  ThreatqMatchIndicator indicator =
  {
    .id = 7, .type = c->type, .type_length = -1, .value = c->value, .value_length = -1,
    .confidence = _or_null(c->confidence), .tlp = _or_null(c->tlp), .description = _or_null(c->description),
    .providers = providers[0] ? providers : NULL,
    .expires_at = THREATQ_MATCH_NEVER, .updated_at = NOW - 100,
    .first_seen = c->first_seen, .last_seen = c->last_seen,
  };
  cr_assert_eq(threatq_match_set_insert(set, &indicator), THREATQ_MATCH_INSERTED, "%s", c->value);

  ThreatqMatchValue value;
  const ThreatqMatchEntry *hit;
  cr_assert(threatq_match_value_classify(c->log_value, strlen(c->log_value), &value));
  guint token = threatq_match_set_read_begin(set);
  cr_assert_eq(threatq_match_set_lookup(set, &value.key, NOW, FALSE, &hit, 1), 1, "%s", c->log_value);

  GString *out = g_string_new("");
  GString *scratch = g_string_new("left over");
  ThreatqMatchOrigin origin = { .field = c->field, .atomic = c->log_value, .atomic_length = strlen(c->log_value) };
  threatq_match_enrichment_render(out, hit, &origin, scratch);
  threatq_match_set_read_end(set, token);

  cr_assert_str_eq(out->str, c->expected);
  g_string_free(out, TRUE);
  g_string_free(scratch, TRUE);
  threatq_match_set_free(set);
}

Test(match_enrichment, format_time)
{
  gchar date[THREATQ_DATE_BUFFER_SIZE];

  cr_assert_eq(threatq_match_enrichment_format_time(0, date), 0);
  cr_assert_str_eq(date, "");
  cr_assert_eq(threatq_match_enrichment_format_time(1686125350, date), 24);
  cr_assert_str_eq(date, "2023-06-07T08:09:10.000Z");
  /* the last second 32 bits hold */
  threatq_match_enrichment_format_time(G_MAXUINT32 - 1, date);
  cr_assert_str_eq(date, "2106-02-07T06:28:14.000Z");
}

/* as printf() writes it, at every number of digits, both signs and both ends of the range */
Test(match_enrichment, format_id)
{
  gint64 ids[] = { 0, 1, -1, 9, 10, -10, 99, 100, 4294967295, 4294967296, G_MAXINT64, G_MININT64, G_MININT64 + 1 };
  gchar id[THREATQ_MATCH_ID_BUFFER_SIZE];
  gchar expected[THREATQ_MATCH_ID_BUFFER_SIZE];

  for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
    {
      gint length = g_snprintf(expected, sizeof(expected), "%" G_GINT64_FORMAT, ids[i]);
      cr_assert_eq(threatq_match_enrichment_format_id(ids[i], id), (gsize) length, "id %" G_GINT64_FORMAT, ids[i]);
      cr_assert_str_eq(id, expected);
    }
  for (gint64 power = 1; power <= G_MAXINT64 / 10; power *= 10)
    for (gint64 delta = -1; delta <= 1; delta++)
      {
        g_snprintf(expected, sizeof(expected), "%" G_GINT64_FORMAT, power + delta);
        threatq_match_enrichment_format_id(power + delta, id);
        cr_assert_str_eq(id, expected);
      }
}
