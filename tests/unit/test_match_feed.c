/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-feed: the indicator fields read from a mapped document, the
 * filter (statuses, minimum score, expiry) as a table, and a page applied to
 * a set: insert, replace, removal by status, skipped types, a full set.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "threatq-mapper.h"
#include "threatq-match-feed.h"

/* 2026-01-01 00:00:00 UTC */
#define NOW G_GINT64_CONSTANT(1767225600)

static ThreatqMapperOptions options;

static void
_setup(void)
{
  memset(&options, 0, sizeof(options));
  options.feed_name = "ThreatQuotient";
  options.ioc_expiration_seconds = 90 * 86400;
}

TestSuite(match_feed, .init = _setup);

static ThreatqDocument *
_map(const gchar *json)
{
  GError *error = NULL;
  ThreatqDocument *document = threatq_mapper_map_json(json, strlen(json), &options, NOW * 1000000, &error);

  cr_assert_not_null(document, "not mapped: %s", error ? error->message : "?");
  return document;
}

/* an indicator updated at NOW - 1 day, that expires_at when given (else 90 days after updated_at) */
static gchar *
_indicator(gint64 id, const gchar *type, const gchar *value, const gchar *status, const gchar *score,
           const gchar *expires_at)
{
  return g_strdup_printf("{\"id\":%" G_GINT64_FORMAT ",\"value\":\"%s\",\"type\":{\"name\":\"%s\"},"
                         "\"status\":{\"name\":\"%s\"}%s%s,\"updated_at\":\"2025-12-31 00:00:00\""
                         "%s%s%s}",
                         id, value, type, status, score ? ",\"score\":" : "", score ? score : "",
                         expires_at ? ",\"expires_at\":\"" : "", expires_at ? expires_at : "",
                         expires_at ? "\"" : "");
}

static void
_read(const gchar *json, ThreatqMatchFeedItem *item, ThreatqDocument **document)
{
  *document = _map(json);
  cr_assert(threatq_match_feed_read(*document, item));
}

Test(match_feed, reads_the_indicator_fields_of_a_document)
{
  const gchar *json =
    "{\"id\":42,\"value\":\"198.51.100.7\",\"type\":{\"name\":\"IP Address\"},\"status\":{\"name\":\"Active\"},"
    "\"score\":7,\"description\":\"seen\",\"created_at\":\"2025-01-02 03:04:05\","
    "\"touched_at\":\"2025-12-30 00:00:00\",\"updated_at\":\"2025-12-31 00:00:00\","
    "\"expires_at\":\"2026-02-01 00:00:00\","
    "\"sources\":[{\"name\":\"P1\",\"tlp_name\":\"GREEN\"},{\"name\":\"P2\",\"tlp_name\":\"RED\"},"
    "{\"name\":\"P3\",\"tlp_name\":\"AMBER\"}]}";
  ThreatqMatchFeedItem item = { .providers = g_ptr_array_new() };
  ThreatqDocument *document;

  _read(json, &item, &document);
  ThreatqMatchIndicator *indicator = &item.indicator;
  cr_assert_eq(indicator->id, 42);
  cr_assert_eq(indicator->type_length, (gssize) strlen("IP Address"));
  cr_assert(strncmp(indicator->type, "IP Address", indicator->type_length) == 0);
  cr_assert(strncmp(indicator->value, "198.51.100.7", indicator->value_length) == 0);
  cr_assert_str_eq(item.status, "Active");
  cr_assert(indicator->has_score);
  cr_assert_float_eq(indicator->score, 7.0, 1e-9);
  cr_assert_str_eq(indicator->confidence, "Medium");
  cr_assert_str_eq(indicator->tlp, "RED", "the strictest TLP of the sources");
  cr_assert_str_eq(indicator->description, "seen");
  cr_assert_str_eq(indicator->providers[0], "P1");
  cr_assert_str_eq(indicator->providers[2], "P3");
  cr_assert_null(indicator->providers[3]);
  cr_assert_eq(indicator->first_seen, 1735787045);   /* 2025-01-02 03:04:05 */
  cr_assert_eq(indicator->last_seen, NOW - 2 * 86400);
  cr_assert_eq(indicator->updated_at, NOW - 86400);
  cr_assert_eq(indicator->expires_at, NOW + 31 * 86400);
  threatq_document_free(document);
  g_ptr_array_free(item.providers, TRUE);
}

Test(match_feed, absent_fields_stay_unknown)
{
  ThreatqMatchFeedItem item = { .providers = g_ptr_array_new() };
  ThreatqDocument *document = _map("{\"id\":5,\"value\":\"x.example\",\"type\":{\"name\":\"FQDN\"}}");

  cr_assert(threatq_match_feed_read(document, &item));
  cr_assert_null(item.status);
  cr_assert_not(item.indicator.has_score);
  cr_assert_null(item.indicator.tlp);
  cr_assert_null(item.indicator.providers);
  cr_assert_eq(item.indicator.expires_at, THREATQ_MATCH_NEVER, "no updated_at: the mapper gives no expiry");
  threatq_document_free(document);

  document = _map("{\"value\":\"x.example\",\"type\":{\"name\":\"FQDN\"}}");
  cr_assert_not(threatq_match_feed_read(document, &item), "no id: nothing to key an update on");
  threatq_document_free(document);
  g_ptr_array_free(item.providers, TRUE);
}

typedef struct
{
  const gchar *statuses;        /* comma-separated */
  const gchar *min_score;       /* NULL: none */
  const gchar *status;
  const gchar *score;           /* JSON, NULL: none */
  const gchar *expires_at;
  gboolean passes;
} FilterCase;

Test(match_feed, filter_table)
{
  static const FilterCase cases[] =
  {
    { "Active", NULL, "Active", "3", NULL, TRUE },
    { "Active", NULL, "active", "3", NULL, TRUE },              /* ASCII case ignored */
    { "Active", NULL, "Review", "3", NULL, FALSE },
    { "Active,Review", NULL, "Review", NULL, NULL, TRUE },
    { "Active", NULL, "Active", NULL, NULL, TRUE },             /* no minimum: no score passes */
    { "Active", "5", "Active", NULL, NULL, FALSE },             /* a minimum: no score fails */
    { "Active", "5", "Active", "4", NULL, FALSE },
    { "Active", "5", "Active", "5", NULL, TRUE },               /* the minimum itself passes */
    { "Active", "5", "Active", "\"4.99\"", NULL, FALSE },
    { "Active", "4.5", "Active", "4.5", NULL, TRUE },
    { "Active", "0", "Active", "0", NULL, TRUE },
    { "Active", NULL, "Active", "9", "2025-12-31 23:59:59", FALSE },  /* already expired */
    { "Active", NULL, "Active", "9", "2026-01-01 00:00:00", FALSE },  /* expiring now: no hit any more */
    { "Active", NULL, "Active", "9", "2026-01-01 00:00:01", TRUE },
  };
  ThreatqMatchFeedItem item = { .providers = g_ptr_array_new() };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    {
      const FilterCase *c = &cases[i];
      ThreatqMatchFilter filter = { .statuses = g_strsplit(c->statuses, ",", -1) };
      if (c->min_score)
        {
          filter.has_min_score = TRUE;
          filter.min_score = g_ascii_strtod(c->min_score, NULL);
        }
      gchar *json = _indicator(1, "FQDN", "a.example", c->status, c->score, c->expires_at);
      ThreatqDocument *document;
      _read(json, &item, &document);
      cr_assert_eq(threatq_match_filter_passes(&filter, &item, NOW), c->passes, "case %u: %s", i, json);
      threatq_document_free(document);
      g_free(json);
      g_strfreev(filter.statuses);
    }
  g_ptr_array_free(item.providers, TRUE);
}

Test(match_feed, fingerprint_names_every_option_that_changes_the_set)
{
  gchar *statuses[] = { "Active", "Review", NULL };
  ThreatqMatchFilter filter = { .statuses = statuses };
  gchar *plain = threatq_match_filter_fingerprint(&filter, 100, 60);

  cr_assert_str_eq(plain, "statuses=active,review;max-size=100;ioc-expiration=60");
  filter.has_min_score = TRUE;
  filter.min_score = 2.5;
  gchar *scored = threatq_match_filter_fingerprint(&filter, 100, 60);
  cr_assert_str_eq(scored, "statuses=active,review;min-score=2.5;max-size=100;ioc-expiration=60");
  g_free(plain);
  g_free(scored);
}

/* the page applied, and the journal of changes */

static GString *journal;

static void
_changed(gint64 id, gboolean present, gpointer user_data)
{
  cr_assert_eq(user_data, journal);
  g_string_append_printf(journal, "%s%" G_GINT64_FORMAT " ", present ? "+" : "-", id);
}

static void
_apply(ThreatqMatchSet *set, const ThreatqMatchFilter *filter, GPtrArray *jsons, ThreatqMatchFeedCounts *counts)
{
  GQueue documents = G_QUEUE_INIT;

  for (guint i = 0; i < jsons->len; i++)
    g_queue_push_tail(&documents, _map(jsons->pdata[i]));
  g_string_truncate(journal, 0);
  threatq_match_feed_apply(filter, set, &documents, NOW, _changed, journal, counts);
  g_queue_clear_full(&documents, (GDestroyNotify) threatq_document_free);
  g_ptr_array_set_size(jsons, 0);
}

/* the ids the set matches for a log value, as "1,2", "" for none */
static gchar *
_hits(ThreatqMatchSet *set, const gchar *log_value)
{
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[8];
  GString *out = g_string_new(NULL);

  cr_assert(threatq_match_value_classify(log_value, strlen(log_value), &value));
  guint token = threatq_match_set_read_begin(set);
  gsize count = threatq_match_set_lookup(set, &value.key, NOW, FALSE, hits, G_N_ELEMENTS(hits));
  for (gsize i = 0; i < count; i++)
    g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i ? "," : "", hits[i]->id);
  threatq_match_set_read_end(set, token);
  return g_string_free(out, FALSE);
}

#define ASSERT_HITS(set, value, expected) \
  do { gchar *got = _hits(set, value); cr_assert_str_eq(got, expected, "%s", value); g_free(got); } while (0)

Test(match_feed, pages_insert_replace_remove_skip_and_refuse)
{
  gchar *statuses[] = { "Active", NULL };
  ThreatqMatchFilter filter = { .statuses = statuses };
  ThreatqMatchSet *set = threatq_match_set_new(3);
  GPtrArray *jsons = g_ptr_array_new_with_free_func(g_free);
  ThreatqMatchFeedCounts counts;
  journal = g_string_new(NULL);

  g_ptr_array_add(jsons, _indicator(1, "IP Address", "192.0.2.1", "Active", "5", NULL));
  g_ptr_array_add(jsons, _indicator(2, "FQDN", "bad.example", "Active", NULL, NULL));
  g_ptr_array_add(jsons, _indicator(3, "IP Address", "192.0.2.3", "Review", "9", NULL));
  g_ptr_array_add(jsons, _indicator(4, "String", "anything", "Active", NULL, NULL));
  _apply(set, &filter, jsons, &counts);
  cr_assert_str_eq(journal->str, "+1 +2 -3 -4 ");
  cr_assert_eq(counts.inserted, 2);
  cr_assert_eq(counts.removed, 0);
  cr_assert_eq(counts.skipped, 1);
  ASSERT_HITS(set, "192.0.2.1", "1");
  ASSERT_HITS(set, "192.0.2.3", "");

  /* an update moves the value; a status change removes; a new id beyond max_size is refused */
  g_ptr_array_add(jsons, _indicator(1, "IP Address", "192.0.2.9", "Active", "5", NULL));
  g_ptr_array_add(jsons, _indicator(2, "FQDN", "bad.example", "Whitelisted", NULL, NULL));
  g_ptr_array_add(jsons, _indicator(5, "MD5", "d41d8cd98f00b204e9800998ecf8427e", "Active", NULL, NULL));
  g_ptr_array_add(jsons, _indicator(6, "FQDN", "six.example", "Active", NULL, NULL));
  g_ptr_array_add(jsons, _indicator(7, "FQDN", "seven.example", "Active", NULL, NULL));
  _apply(set, &filter, jsons, &counts);
  cr_assert_str_eq(journal->str, "+1 -2 +5 +6 ", "a refusal changes nothing and is not journalled");
  cr_assert_eq(counts.inserted, 3);
  cr_assert_eq(counts.removed, 1);
  cr_assert_eq(counts.refused_full, 1);
  ASSERT_HITS(set, "192.0.2.1", "");
  ASSERT_HITS(set, "192.0.2.9", "1");
  ASSERT_HITS(set, "bad.example", "");
  ASSERT_HITS(set, "seven.example", "");

  /* the writer's view of an id, for the snapshot journal: the replaced entry of 1 holds the new value */
  const ThreatqMatchEntry *entry = threatq_match_set_find_id(set, 1);
  cr_assert_not_null(entry);
  cr_assert_eq(entry->id, 1);
  ThreatqMatchKey key;
  GString *text = g_string_new(NULL);
  threatq_match_entry_key(entry, &key);
  threatq_match_key_format(&key, text);
  cr_assert_str_eq(text->str, "192.0.2.9");
  g_string_free(text, TRUE);
  cr_assert_null(threatq_match_set_find_id(set, 2));

  ThreatqMatchSetStats stats;
  threatq_match_set_get_stats(set, &stats);
  cr_assert_eq(stats.entries, 3);
  cr_assert_eq(stats.refused_full, 1);
  cr_assert_eq(stats.skipped, 1);

  g_ptr_array_free(jsons, TRUE);
  g_string_free(journal, TRUE);
  threatq_match_set_free(set);
}
