/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-set: exact keys, CIDR longest prefix, parent domains,
 * expiry, replace/remove, best hit, the size bound, and lookups racing updates.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "threatq-match-set.h"

#define NOW G_GINT64_CONSTANT(1700000000)
#define MAX_HITS 8

static ThreatqMatchSet *set;

static void
_setup(void)
{
  set = threatq_match_set_new(0);
}

static void
_teardown(void)
{
  threatq_match_set_free(set);
}

TestSuite(match_set, .init = _setup, .fini = _teardown);

static ThreatqMatchIndicator
_indicator(gint64 id, const gchar *type, const gchar *value)
{
  ThreatqMatchIndicator indicator =
  {
    .id = id, .type = type, .type_length = -1, .value = value, .value_length = -1,
    .expires_at = THREATQ_MATCH_NEVER, .updated_at = NOW - 100,
  };
  return indicator;
}

static ThreatqMatchInsertResult
_add(gint64 id, const gchar *type, const gchar *value)
{
  ThreatqMatchIndicator indicator = _indicator(id, type, value);
  return threatq_match_set_insert(set, &indicator);
}

/* the ids of the hits of a log value, sorted, as "1,2"; "" for none; "-" when the value has no shape */
static gchar *
_hits(ThreatqMatchSet *s, const gchar *log_value, gint64 now, gboolean parents)
{
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[MAX_HITS];
  GString *out = g_string_new(NULL);

  if (!threatq_match_value_classify(log_value, strlen(log_value), &value))
    {
      g_string_free(out, TRUE);
      return g_strdup("-");
    }
  guint token = threatq_match_set_read_begin(s);
  gsize count = threatq_match_set_lookup(s, &value.key, now, parents, hits, MAX_HITS);
  gint64 ids[MAX_HITS];
  for (gsize i = 0; i < count; i++)
    ids[i] = hits[i]->id;
  threatq_match_set_read_end(s, token);

  for (gsize i = 0; i < count; i++)
    for (gsize j = i + 1; j < count; j++)
      if (ids[j] < ids[i])
        {
          gint64 t = ids[i];
          ids[i] = ids[j];
          ids[j] = t;
        }
  for (gsize i = 0; i < count; i++)
    g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i ? "," : "", ids[i]);
  return g_string_free(out, FALSE);
}

#define assert_hits(log_value, expected) assert_hits_at(log_value, NOW, FALSE, expected)
#define assert_hits_at(log_value, now, parents, expected) \
  do { \
    gchar *got_ = _hits(set, log_value, now, parents); \
    cr_assert_str_eq(got_, expected, "lookup of '%s'", log_value); \
    g_free(got_); \
  } while (0)

Test(match_set, exact_keys_of_every_kind)
{
  cr_assert_eq(_add(1, "IP Address", "192.0.2.1"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(2, "IPv6 Address", "2001:db8::1"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(3, "MD5", "d41d8cd98f00b204e9800998ecf8427e"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(4, "SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(5, "Email Address", "phish@evil.example.com"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(6, "URL", "http://evil.example.com/login"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(7, "FQDN", "evil.example.com"), THREATQ_MATCH_INSERTED);

  assert_hits("192.0.2.1", "1");
  assert_hits("::ffff:192.0.2.1", "1");
  assert_hits("192.0.2.2", "");
  assert_hits("2001:DB8::1", "2");
  assert_hits("2001:db8::2", "");
  assert_hits("D41D8CD98F00B204E9800998ECF8427E", "3");
  assert_hits("d41d8cd98f00b204e9800998ecf8427f", "");
  assert_hits("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "4");
  assert_hits("Phish@Evil.Example.com", "5");
  assert_hits("other@evil.example.com", "");
  assert_hits("HTTP://EVIL.example.com:80/login", "6");
  assert_hits("http://evil.example.com/Login", "");
  assert_hits("https://evil.example.com/login", "");
  assert_hits("Evil.Example.com.", "7");
  assert_hits("www.evil.example.com", "");
  assert_hits("no shape at all", "-");
}

/* real ThreatQ data often gives a URL without its scheme: it stands for http and https alike */
Test(match_set, schemeless_url_indicator)
{
  _add(1, "URL", "evil.example.net:8080/a/b.php?x=1");
  _add(2, "URL", "https://evil.example.net:8080/a/b.php?x=1");
  _add(3, "URL", "evil.example.net/c");

  assert_hits("http://evil.example.net:8080/a/b.php?x=1", "1");
  assert_hits("HTTPS://evil.example.net:8080/a/b.php?x=1", "1,2");
  assert_hits("https://evil.example.net/c", "3");
  assert_hits("http://evil.example.net:80/c#x", "3");
  assert_hits("ftp://evil.example.net/c", "");
  assert_hits("evil.example.net/c", "-");
}

Test(match_set, cidr_longest_prefix_wins)
{
  _add(8, "CIDR Block", "10.0.0.0/8");
  _add(16, "CIDR Block", "10.1.0.0/16");
  _add(24, "CIDR Block", "10.1.2.0/24");
  _add(32, "IP Address", "10.1.2.3");
  _add(33, "CIDR Block", "10.1.2.3/32");
  _add(128, "CIDR Block", "2001:db8::/32");
  _add(129, "CIDR Block", "2001:db8:1::/48");
  _add(130, "CIDR Block", "::/0");

  assert_hits("10.1.2.3", "32,33");
  assert_hits("10.1.2.4", "24");
  assert_hits("10.1.3.4", "16");
  assert_hits("10.2.3.4", "8");
  assert_hits("11.2.3.4", "");
  assert_hits("::ffff:10.1.3.4", "16");
  assert_hits("2001:db8:1::5", "129");
  assert_hits("2001:db8:2::5", "128");
  assert_hits("2001:db9::5", "130");

  /* without the /24, 10.1.2.4 falls back to the /16 */
  cr_assert(threatq_match_set_remove(set, 24));
  assert_hits("10.1.2.4", "16");
  cr_assert(threatq_match_set_remove(set, 16));
  cr_assert(threatq_match_set_remove(set, 8));
  assert_hits("10.1.2.4", "");
  assert_hits("10.1.2.3", "32,33");
}

/*
 * A lookup of an address skips the walk of prefix lengths when no region of
 * lengths that its marks leave open holds one: the set keeps which regions
 * hold a length, and one length going must not clear a region that another
 * still holds (IPv4 /16 to /23 and IPv6 /32 to /47 are one region each).
 */
Test(match_set, a_region_keeps_its_other_lengths)
{
  _add(16, "CIDR Block", "10.1.0.0/16");
  _add(23, "CIDR Block", "10.1.2.0/23");
  _add(32, "CIDR Block", "2001:db8::/32");
  _add(40, "CIDR Block", "2001:db8:100::/40");

  assert_hits("10.1.3.4", "23");
  assert_hits("2001:db8:1ff::1", "40");
  cr_assert(threatq_match_set_remove(set, 23));
  cr_assert(threatq_match_set_remove(set, 40));
  assert_hits("10.1.3.4", "16");
  assert_hits("2001:db8:1ff::1", "32");
  cr_assert(threatq_match_set_remove(set, 16));
  cr_assert(threatq_match_set_remove(set, 32));
  assert_hits("10.1.3.4", "");
  assert_hits("2001:db8:1ff::1", "");
  /* and a length that comes back opens its region again */
  _add(17, "CIDR Block", "10.1.0.0/17");
  assert_hits("10.1.3.4", "17");
}

Test(match_set, expired_prefix_falls_back_to_a_shorter_one)
{
  ThreatqMatchIndicator narrow = _indicator(24, "CIDR Block", "10.1.2.0/24");
  narrow.expires_at = NOW;
  threatq_match_set_insert(set, &narrow);
  _add(8, "CIDR Block", "10.0.0.0/8");

  assert_hits_at("10.1.2.4", NOW - 1, FALSE, "24");
  assert_hits_at("10.1.2.4", NOW, FALSE, "8");
}

Test(match_set, parent_domains)
{
  _add(1, "FQDN", "example.com");
  _add(2, "FQDN", "b.example.com");

  assert_hits_at("a.b.example.com", NOW, FALSE, "");
  assert_hits_at("a.b.example.com", NOW, TRUE, "2");
  assert_hits_at("A.C.Example.COM.", NOW, TRUE, "1");
  assert_hits_at("b.example.com", NOW, TRUE, "2");
  assert_hits_at("example.org", NOW, TRUE, "");
  /* a parent walk stops at a name, never at a part of a label */
  assert_hits_at("xample.com", NOW, TRUE, "");
  assert_hits_at("notexample.com", NOW, TRUE, "");
}

Test(match_set, expiry_needs_no_update)
{
  ThreatqMatchIndicator indicator = _indicator(1, "FQDN", "evil.example.com");
  indicator.expires_at = NOW + 60;
  cr_assert_eq(threatq_match_set_insert(set, &indicator), THREATQ_MATCH_INSERTED);

  assert_hits_at("evil.example.com", NOW + 59, FALSE, "1");
  assert_hits_at("evil.example.com", NOW + 60, FALSE, "");
  cr_assert_eq(threatq_match_set_purge_expired(set, NOW), 0);
  cr_assert_eq(threatq_match_set_purge_expired(set, NOW + 60), 1);
  assert_hits_at("evil.example.com", NOW, FALSE, "");
}

/* THREATQ_MATCH_SET_CLOCK: the lookup reads the real clock (the parser passes it) */
Test(match_set, expiry_by_the_clock)
{
  gint64 clock_now = (gint64) time(NULL);
  ThreatqMatchIndicator ahead = _indicator(1, "FQDN", "ahead.example.com");
  ThreatqMatchIndicator passed = _indicator(2, "FQDN", "passed.example.com");
  ThreatqMatchIndicator cidr_passed = _indicator(3, "CIDR Block", "192.0.2.0/24");
  ahead.expires_at = clock_now + 3600;
  passed.expires_at = clock_now - 1;
  cidr_passed.expires_at = clock_now - 1;
  cr_assert_eq(threatq_match_set_insert(set, &ahead), THREATQ_MATCH_INSERTED);
  cr_assert_eq(threatq_match_set_insert(set, &passed), THREATQ_MATCH_INSERTED);
  cr_assert_eq(threatq_match_set_insert(set, &cidr_passed), THREATQ_MATCH_INSERTED);
  _add(4, "CIDR Block", "192.0.0.0/16");

  assert_hits_at("ahead.example.com", THREATQ_MATCH_SET_CLOCK, FALSE, "1");
  assert_hits_at("passed.example.com", THREATQ_MATCH_SET_CLOCK, FALSE, "");
  assert_hits_at("192.0.2.9", THREATQ_MATCH_SET_CLOCK, FALSE, "4");
  /* a time given is used as it is */
  assert_hits_at("passed.example.com", clock_now - 2, FALSE, "2");
  assert_hits_at("192.0.2.9", clock_now - 2, FALSE, "3");
}

Test(match_set, update_replaces_and_status_change_removes)
{
  ThreatqMatchSetStats stats;

  cr_assert_eq(_add(1, "FQDN", "old.example.com"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(1, "FQDN", "new.example.com"), THREATQ_MATCH_REPLACED);
  assert_hits("old.example.com", "");
  assert_hits("new.example.com", "1");
  threatq_match_set_get_stats(set, &stats);
  cr_assert_eq(stats.entries, 1);

  /* an update whose value cannot match removes what was there */
  cr_assert_eq(_add(1, "FQDN", "192.0.2.1"), THREATQ_MATCH_SKIPPED);
  assert_hits("new.example.com", "");
  cr_assert_eq(_add(1, "FQDN", "new.example.com"), THREATQ_MATCH_INSERTED);

  cr_assert(threatq_match_set_remove(set, 1));
  cr_assert_not(threatq_match_set_remove(set, 1));
  assert_hits("new.example.com", "");
  threatq_match_set_get_stats(set, &stats);
  cr_assert_eq(stats.entries, 0);
  cr_assert_eq(stats.skipped, 1);
}

Test(match_set, every_indicator_of_a_key_is_a_hit_and_the_best_is_picked)
{
  const struct
  {
    gint64 id;
    gboolean has_score;
    gdouble score;
    gint64 updated_at;
  } rows[] =
  {
    { 1, FALSE, 0, NOW },
    { 2, TRUE, 7.5, NOW - 5 },
    { 3, TRUE, 7.5, NOW - 1 },
    { 4, TRUE, 3, NOW },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
    {
      ThreatqMatchIndicator indicator = _indicator(rows[i].id, "IP Address", "192.0.2.1");
      indicator.has_score = rows[i].has_score;
      indicator.score = rows[i].score;
      indicator.updated_at = rows[i].updated_at;
      threatq_match_set_insert(set, &indicator);
    }
  assert_hits("192.0.2.1", "1,2,3,4");

  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[MAX_HITS];
  threatq_match_value_classify("192.0.2.1", 9, &value);
  guint token = threatq_match_set_read_begin(set);
  gsize count = threatq_match_set_lookup(set, &value.key, NOW, FALSE, hits, MAX_HITS);
  cr_assert_eq(count, 4);
  cr_assert_eq(threatq_match_best_hit(hits, count)->id, 3);
  cr_assert_eq(threatq_match_set_lookup(set, &value.key, NOW, FALSE, hits, 2), 2);
  threatq_match_set_read_end(set, token);
  cr_assert_null(threatq_match_best_hit(hits, 0));

  /* no score loses to any score; equal times go to the higher id */
  const ThreatqMatchEntry a = { .id = 1, .score = NAN, .updated_at = NOW };
  const ThreatqMatchEntry b = { .id = 2, .score = 0, .updated_at = NOW - 1 };
  const ThreatqMatchEntry c = { .id = 3, .score = 0, .updated_at = NOW - 1 };
  const ThreatqMatchEntry *pair[] = { &a, &b, &c };
  cr_assert_eq(threatq_match_best_hit(pair, 3)->id, 3);
}

Test(match_set, entry_carries_the_enrichment)
{
  const gchar *providers[] = { "Feed A", "", "Feed B", NULL };
  ThreatqMatchIndicator indicator = _indicator(42, "SHA-256",
                                               "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  indicator.has_score = TRUE;
  indicator.score = 8.5;
  indicator.confidence = "High";
  indicator.tlp = "AMBER";
  indicator.description = "dropper";
  indicator.providers = providers;
  indicator.first_seen = 1000;
  indicator.last_seen = 2000;
  threatq_match_set_insert(set, &indicator);
  /* a second entry shares the strings */
  indicator.id = 43;
  indicator.value = "d41d8cd98f00b204e9800998ecf8427e";
  indicator.type = "MD5";
  threatq_match_set_insert(set, &indicator);

  ThreatqMatchValue value;
  const ThreatqMatchEntry *hit;
  threatq_match_value_classify(indicator.value, strlen(indicator.value), &value);
  guint token = threatq_match_set_read_begin(set);
  cr_assert_eq(threatq_match_set_lookup(set, &value.key, NOW, FALSE, &hit, 1), 1);
  cr_assert_eq(hit->id, 43);
  cr_assert_float_eq(hit->score, 8.5, 1e-6);
  cr_assert_str_eq(threatq_match_entry_confidence(hit), "High");
  cr_assert_str_eq(threatq_match_entry_tlp(hit), "AMBER");
  cr_assert_str_eq(hit->description, "dropper");
  cr_assert_eq(hit->first_seen, 1000);
  cr_assert_eq(hit->last_seen, 2000);
  cr_assert_str_eq(threatq_match_type_name(hit->type_index), "MD5");
  const gchar *first = threatq_match_entry_next_provider(hit, NULL);
  cr_assert_str_eq(first, "Feed A");
  const gchar *second = threatq_match_entry_next_provider(hit, first);
  cr_assert_str_eq(second, "Feed B");
  cr_assert_null(threatq_match_entry_next_provider(hit, second));

  /* the plain indicator of _indicator() has none of them */
  const ThreatqMatchEntry *bare;
  _add(44, "FQDN", "bare.example.com");
  ThreatqMatchValue bare_value;
  threatq_match_value_classify("bare.example.com", 16, &bare_value);
  cr_assert_eq(threatq_match_set_lookup(set, &bare_value.key, NOW, FALSE, &bare, 1), 1);
  cr_assert_null(threatq_match_entry_confidence(bare));
  cr_assert_null(threatq_match_entry_tlp(bare));
  cr_assert_null(threatq_match_entry_next_provider(bare, NULL));
  cr_assert_null(bare->description);
  cr_assert(isnan(bare->score));

  ThreatqMatchKey key;
  GString *text = g_string_new(NULL);
  threatq_match_entry_key(hit, &key);
  threatq_match_key_format(&key, text);
  cr_assert_str_eq(text->str, "d41d8cd98f00b204e9800998ecf8427e");
  cr_assert_str_eq(threatq_match_key_ecs_field(&key), "file.hash.md5");
  threatq_match_set_read_end(set, token);
  g_string_free(text, TRUE);
}

Test(match_set, maximum_size)
{
  ThreatqMatchSet *small = threatq_match_set_new(2);
  ThreatqMatchIndicator indicator = _indicator(1, "FQDN", "a.example.com");
  ThreatqMatchSetStats stats;

  cr_assert_eq(threatq_match_set_insert(small, &indicator), THREATQ_MATCH_INSERTED);
  indicator.id = 2;
  cr_assert_eq(threatq_match_set_insert(small, &indicator), THREATQ_MATCH_INSERTED);
  indicator.id = 3;
  cr_assert_eq(threatq_match_set_insert(small, &indicator), THREATQ_MATCH_REFUSED_FULL);
  /* an update of a present id still goes in */
  indicator.id = 2;
  indicator.value = "b.example.com";
  cr_assert_eq(threatq_match_set_insert(small, &indicator), THREATQ_MATCH_REPLACED);
  threatq_match_set_get_stats(small, &stats);
  cr_assert_eq(stats.entries, 2);
  cr_assert_eq(stats.refused_full, 1);
  cr_assert_gt(stats.bytes, 0);

  gchar *got = _hits(small, "b.example.com", NOW, FALSE);
  cr_assert_str_eq(got, "2");
  g_free(got);
  cr_assert(threatq_match_set_remove(small, 1));
  indicator.id = 3;
  cr_assert_eq(threatq_match_set_insert(small, &indicator), THREATQ_MATCH_INSERTED);
  threatq_match_set_free(small);
}

Test(match_set, growth_keeps_every_entry)
{
  gchar value[32];

  for (gint i = 0; i < 5000; i++)
    {
      g_snprintf(value, sizeof(value), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
      cr_assert_eq(_add(i, "IP Address", value), THREATQ_MATCH_INSERTED);
      /* a bulk load's reservation in the middle, and one smaller than what is there */
      if (i == 1000)
        threatq_match_set_reserve(set, 4000);
      if (i == 4500)
        threatq_match_set_reserve(set, 10);
    }
  for (gint i = 0; i < 5000; i += 2)
    cr_assert(threatq_match_set_remove(set, i));
  for (gint i = 0; i < 5000; i++)
    {
      g_snprintf(value, sizeof(value), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
      gchar *expected = i % 2 ? g_strdup_printf("%d", i) : g_strdup("");
      assert_hits(value, expected);
      g_free(expected);
    }
}

/* ---- lookups racing updates ------------------------------------------- */

typedef struct
{
  gint stop;
  gint misses;
  gint lookups;
} Race;

static gpointer
_reader(gpointer data)
{
  Race *race = data;
  ThreatqMatchValue stable, flapping;
  const ThreatqMatchEntry *hits[MAX_HITS];

  threatq_match_value_classify("stable.example.com", 18, &stable);
  threatq_match_value_classify("10.9.9.9", 8, &flapping);
  while (!g_atomic_int_get(&race->stop))
    {
      guint token = threatq_match_set_read_begin(set);
      gsize a = threatq_match_set_lookup(set, &stable.key, NOW, FALSE, hits, MAX_HITS);
      gsize b = threatq_match_set_lookup(set, &flapping.key, NOW, FALSE, hits, MAX_HITS);
      /* touch what was found: ASan reports a use after free */
      for (gsize i = 0; i < b; i++)
        cr_assert_eq(hits[i]->id, 2);
      threatq_match_set_read_end(set, token);
      if (a != 1 || b == 0)
        g_atomic_int_inc(&race->misses);
      g_atomic_int_inc(&race->lookups);
    }
  return NULL;
}

Test(match_set, lookups_race_updates)
{
  Race race = { 0 };
  gchar value[32];

  _add(1, "FQDN", "stable.example.com");
  _add(2, "CIDR Block", "10.9.0.0/16");
  GThread *readers[2] = { g_thread_new("r1", _reader, &race), g_thread_new("r2", _reader, &race) };

  /* id 2 flaps between prefixes that all hold 10.9.9.9; others come and go (and grow the table) */
  for (gint round = 0; round < 20000; round++)
    {
      _add(2, "CIDR Block", round % 2 ? "10.9.9.0/24" : "10.9.0.0/16");
      g_snprintf(value, sizeof(value), "172.16.%d.%d", (round >> 8) & 255, round & 255);
      _add(100 + round, "IP Address", value);
      if (round % 3 == 0)
        threatq_match_set_remove(set, 100 + round / 2);
    }
  g_atomic_int_set(&race.stop, 1);
  g_thread_join(readers[0]);
  g_thread_join(readers[1]);
  cr_assert_gt(race.lookups, 0);
  cr_assert_eq(race.misses, 0, "%d of %d lookups missed an indicator that was there all along", race.misses,
               race.lookups);
}

/*
 * The negative filter in front of the tables must never say "no" for a key a
 * reader can know is there: the writer publishes a count after each insert,
 * readers look up keys below it while inserts grow (and rebuild) the filter.
 */
typedef struct
{
  gint stop;
  gint published;
  gint misses;
  gint lookups;
} Growth;

static void
_growth_value(gint i, gchar *value, gsize size)
{
  if (i % 2)
    g_snprintf(value, size, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  else
    g_snprintf(value, size, "host-%d.example.org", i);
}

static gpointer
_growth_reader(gpointer data)
{
  Growth *growth = data;
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[MAX_HITS];
  gchar text[64];

  while (!g_atomic_int_get(&growth->stop))
    {
      gint published = g_atomic_int_get(&growth->published);
      if (published == 0)
        continue;
      gint i = g_random_int_range(0, published);
      _growth_value(i, text, sizeof(text));
      cr_assert(threatq_match_value_classify(text, strlen(text), &value));
      guint token = threatq_match_set_read_begin(set);
      if (threatq_match_set_lookup(set, &value.key, NOW, FALSE, hits, MAX_HITS) != 1)
        g_atomic_int_inc(&growth->misses);
      threatq_match_set_read_end(set, token);
      g_atomic_int_inc(&growth->lookups);
    }
  return NULL;
}

Test(match_set, filter_has_no_false_negative_while_growing)
{
  Growth growth = { 0 };
  gchar value[64];
  GThread *readers[2] = { g_thread_new("r1", _growth_reader, &growth), g_thread_new("r2", _growth_reader, &growth) };

  for (gint i = 0; i < 60000; i++)
    {
      _growth_value(i, value, sizeof(value));
      cr_assert_eq(_add(i + 1, i % 2 ? "IP Address" : "FQDN", value), THREATQ_MATCH_INSERTED);
      g_atomic_int_set(&growth.published, i + 1);
      /* removals leave bits set until a rebuild, which must keep all that is there */
      if (i % 3 == 0)
        {
          g_snprintf(value, sizeof(value), "192.168.%d.%d", (i >> 8) & 255, i & 255);
          _add(1000000 + i, "IP Address", value);
          threatq_match_set_remove(set, 1000000 + i);
        }
    }
  /* on a loaded machine the readers may start after the last insert: let them look first */
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (g_atomic_int_get(&growth.lookups) < 1000 && g_get_monotonic_time() < deadline)
    g_usleep(1000);
  g_atomic_int_set(&growth.stop, 1);
  g_thread_join(readers[0]);
  g_thread_join(readers[1]);
  cr_assert_gt(growth.lookups, 0);
  cr_assert_eq(growth.misses, 0, "%d of %d lookups missed an inserted key", growth.misses, growth.lookups);
}

/* ---- against a model ---------------------------------------------------- */

/* what the set should hold: id -> key and expiry, looked up by brute force */
typedef struct
{
  ThreatqMatchValue value;
  gint64 expires_at;
} ModelEntry;

static const gchar *model_values[][2] =
{
  { "IP Address", "10.0.0.1" }, { "IP Address", "10.0.1.1" }, { "CIDR Block", "10.0.0.0/24" },
  { "CIDR Block", "10.0.0.0/16" }, { "CIDR Block", "10.0.0.0/8" }, { "CIDR Block", "10.0.0.0/30" },
  { "CIDR Block", "0.0.0.0/0" }, { "IPv6 Address", "2001:db8::1" }, { "CIDR Block", "2001:db8::/64" },
  { "CIDR Block", "2001:db8::/32" }, { "FQDN", "example.com" }, { "FQDN", "b.example.com" },
  { "FQDN", "a.b.example.com" }, { "URL", "http://x.example.com/a" }, { "URL", "x.example.com/a" },
  { "URL", "https://x.example.com/a" }, { "Email Address", "p@x.example.com" },
  { "MD5", "d41d8cd98f00b204e9800998ecf8427e" },
};
static const gchar *model_lookups[] =
{
  "10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.2.1", "10.1.0.1", "11.0.0.1", "::ffff:10.0.0.1", "2001:db8::1",
  "2001:db8::2", "2001:db8:1::1", "2001:db9::1", "a.b.example.com", "c.b.example.com", "b.example.com",
  "z.example.com", "example.org", "http://x.example.com/a", "https://x.example.com/a", "ftp://x.example.com/a",
  "p@x.example.com", "D41D8CD98F00B204E9800998ECF8427E",
};

static gboolean
_model_key_matches(const ThreatqMatchKey *entry, const ThreatqMatchKey *probe)
{
  return entry->kind == probe->kind && entry->prefix_len == probe->prefix_len && entry->length == probe->length
         && memcmp(entry->bytes, probe->bytes, probe->length) == 0;
}

/* the live ids of exactly this key, appended to ids */
static void
_model_probe(GHashTable *model, const ThreatqMatchKey *key, gint64 now, GArray *ids)
{
  GHashTableIter iter;
  gpointer id, data;

  g_hash_table_iter_init(&iter, model);
  while (g_hash_table_iter_next(&iter, &id, &data))
    {
      ModelEntry *entry = data;
      if (entry->expires_at > now && _model_key_matches(&entry->value.key, key))
        g_array_append_val(ids, *(gint64 *) id);
    }
}

static void
_model_lookup(GHashTable *model, const ThreatqMatchKey *key, gint64 now, gboolean parents, GArray *ids)
{
  guint bits = threatq_match_kind_address_bits(key->kind);
  guint8 masked[16];
  ThreatqMatchKey probe = *key;

  if (bits)
    {
      probe.bytes = masked;
      for (gint length = (gint) key->prefix_len; length >= 0 && ids->len == 0; length--)
        {
          memcpy(masked, key->bytes, key->length);
          for (guint bit = (guint) length; bit < bits; bit++)
            masked[bit / 8] &= (guint8) ~(0x80u >> (bit % 8));
          probe.prefix_len = (guint) length;
          _model_probe(model, &probe, now, ids);
        }
      return;
    }
  _model_probe(model, key, now, ids);
  if (key->kind == THREATQ_MATCH_KIND_URL && threatq_match_key_schemeless(key, &probe))
    _model_probe(model, &probe, now, ids);
  while (key->kind == THREATQ_MATCH_KIND_HOSTNAME && parents && ids->len == 0)
    {
      const guint8 *dot = memchr(probe.bytes, '.', probe.length);
      if (!dot)
        break;
      probe.length -= (gsize) (dot + 1 - probe.bytes);
      probe.bytes = dot + 1;
      _model_probe(model, &probe, now, ids);
    }
}

static gint
_compare_ids(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static void
_model_check(GHashTable *model, const gchar *log_value, gboolean parents, guint step)
{
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[64];
  GArray *expected = g_array_new(FALSE, FALSE, sizeof(gint64));
  GArray *got = g_array_new(FALSE, FALSE, sizeof(gint64));

  cr_assert(threatq_match_value_classify(log_value, strlen(log_value), &value));
  _model_lookup(model, &value.key, NOW, parents, expected);
  guint token = threatq_match_set_read_begin(set);
  gsize count = threatq_match_set_lookup(set, &value.key, NOW, parents, hits, G_N_ELEMENTS(hits));
  for (gsize i = 0; i < count; i++)
    g_array_append_val(got, hits[i]->id);
  threatq_match_set_read_end(set, token);

  g_array_sort(expected, _compare_ids);
  g_array_sort(got, _compare_ids);
  cr_assert_eq(got->len, expected->len, "step %u, '%s' (parents %d): %u hits, expected %u", step, log_value,
               parents, got->len, expected->len);
  if (got->len)
    cr_assert_arr_eq(got->data, expected->data, got->len * sizeof(gint64), "step %u, '%s'", step, log_value);
  g_array_free(expected, TRUE);
  g_array_free(got, TRUE);
}

/* random inserts, updates, removals and expiries; every lookup agrees with brute force */
Test(match_set, agrees_with_a_model)
{
  GHashTable *model = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  GRand *rand = g_rand_new_with_seed(15);
  const gint64 expiries[] = { THREATQ_MATCH_NEVER, NOW, NOW + 1, NOW - 1 };

  for (guint step = 0; step < 4000; step++)
    {
      gint64 id = g_rand_int_range(rand, 1, 40);
      if (g_rand_int_range(rand, 0, 5) == 0)
        {
          cr_assert_eq(threatq_match_set_remove(set, id), g_hash_table_remove(model, &id));
        }
      else
        {
          guint pick = (guint) g_rand_int_range(rand, 0, G_N_ELEMENTS(model_values));
          ThreatqMatchIndicator indicator = _indicator(id, model_values[pick][0], model_values[pick][1]);
          indicator.expires_at = expiries[g_rand_int_range(rand, 0, G_N_ELEMENTS(expiries))];
          ModelEntry *entry = g_new(ModelEntry, 1);
          cr_assert(threatq_match_value_from_indicator(indicator.type, strlen(indicator.type), indicator.value,
                                                       strlen(indicator.value), &entry->value, NULL));
          entry->value.key.bytes = entry->value.buffer;
          entry->expires_at = indicator.expires_at;
          gint64 *key = g_new(gint64, 1);
          *key = id;
          g_hash_table_replace(model, key, entry);
          cr_assert_neq(threatq_match_set_insert(set, &indicator), THREATQ_MATCH_REFUSED_FULL);
        }
      for (guint k = 0; k < 3; k++)
        _model_check(model, model_lookups[g_rand_int_range(rand, 0, G_N_ELEMENTS(model_lookups))],
                     g_rand_boolean(rand), step);
    }
  ThreatqMatchSetStats stats;
  threatq_match_set_get_stats(set, &stats);
  cr_assert_eq(stats.entries, g_hash_table_size(model));
  g_rand_free(rand);
  g_hash_table_destroy(model);
}

/*
 * Brute force against the walk over prefix lengths: random CIDR blocks of
 * every length, crowded into one /8 (IPv4) or /32 (IPv6) so that their
 * filter regions fill, and random addresses there; each lookup must give
 * the one block with the longest prefix holding the address, or none.
 */
typedef struct
{
  guint8 net[16];
  guint prefix_len;
  gint64 id;
} Block;

static gboolean
_block_holds(const Block *block, const guint8 *address)
{
  for (guint bit = 0; bit < block->prefix_len; bit++)
    if ((block->net[bit / 8] ^ address[bit / 8]) & (0x80u >> (bit % 8)))
      return FALSE;
  return TRUE;
}

/* the first `fixed` bytes of 10/8 or 2001:db8::/32, the next two below top, the others below 16 */
static void
_random_in(GRand *rand, guint8 *bytes, gsize length, gsize fixed, gint top)
{
  static const guint8 base[16] = { 0x20, 0x01, 0x0d, 0xb8 };

  for (gsize i = 0; i < length; i++)
    bytes[i] = i < fixed ? (length == 4 ? 10 : base[i]) : (guint8) g_rand_int_range(rand, 0, i < fixed + 2 ? top : 16);
}

/* count random blocks (their first free bytes below block_top), then addresses (below address_top) */
static void
_check_family(gsize length, gsize fixed, guint count, gint block_top, gint address_top)
{
  GRand *rand = g_rand_new_with_seed(length);
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GArray *blocks = g_array_new(FALSE, FALSE, sizeof(Block));
  gchar text[INET6_ADDRSTRLEN + 8];

  for (gint64 id = (gint64) length * 100000; blocks->len < count; id++)
    {
      Block block = { .prefix_len = (guint) g_rand_int_range(rand, (gint) fixed * 8, (gint) length * 8 + 1), .id = id };
      _random_in(rand, block.net, length, fixed, block_top);
      for (guint bit = block.prefix_len; bit < length * 8; bit++)
        block.net[bit / 8] &= (guint8) ~(0x80u >> (bit % 8));
      inet_ntop(length == 4 ? AF_INET : AF_INET6, block.net, text, sizeof(text));
      gchar *cidr = g_strdup_printf("%s/%u", text, block.prefix_len);
      if (g_hash_table_contains(seen, cidr))
        {
          g_free(cidr);
          continue;
        }
      g_hash_table_add(seen, cidr);
      cr_assert_eq(_add(id, "CIDR Block", cidr), THREATQ_MATCH_INSERTED, "%s", cidr);
      g_array_append_val(blocks, block);
    }
  for (guint round = 0; round < 3000; round++)
    {
      guint8 address[16];
      const Block *best = NULL;
      _random_in(rand, address, length, fixed, address_top);
      if (round % 2)
        {
          /* inside a block, so that long prefixes are hit too */
          const Block *inside = &g_array_index(blocks, Block, g_rand_int_range(rand, 0, (gint32) blocks->len));
          for (guint bit = 0; bit < inside->prefix_len; bit++)
            address[bit / 8] = (guint8) ((address[bit / 8] & ~(0x80u >> (bit % 8))) | (inside->net[bit / 8] & (0x80u >> (bit % 8))));
        }
      for (guint i = 0; i < blocks->len; i++)
        {
          const Block *block = &g_array_index(blocks, Block, i);
          if (_block_holds(block, address) && (!best || block->prefix_len > best->prefix_len))
            best = block;
        }
      inet_ntop(length == 4 ? AF_INET : AF_INET6, address, text, sizeof(text));
      gchar *expected = best ? g_strdup_printf("%" G_GINT64_FORMAT, best->id) : g_strdup("");
      assert_hits(text, expected);
      g_free(expected);
    }
  g_array_free(blocks, TRUE);
  g_hash_table_destroy(seen);
  g_rand_free(rand);
}

Test(match_set, crowded_prefixes_of_every_length)
{
  _check_family(4, 1, 3000, 16, 16);
  _check_family(16, 4, 3000, 16, 16);
}

/*
 * The marks (threatq-match-filter.h): blocks of every length from /0 in a
 * few /8s and /16s, addresses in more of them, so that most lookups start in
 * a /8 or /16 whose mark is clear and still must find the short blocks
 * around it.  A mark set at the wrong index, or tested for the wrong
 * lengths, gives a shorter block or none.
 */
Test(match_set, ipv4_prefixes_in_unmarked_regions)
{
  _check_family(4, 0, 400, 3, 5);
}

Test(match_set, ipv6_prefixes_in_unmarked_regions)
{
  _check_family(16, 0, 400, 3, 5);
}

Test(match_set, few_prefixes_in_unmarked_regions)
{
  _check_family(4, 0, 12, 3, 5);
}

/* one block alone in its /8 or /16: only its own mark lets a lookup there reach it */
Test(match_set, a_lone_block_is_found_through_its_mark)
{
  cr_assert_eq(_add(1, "CIDR Block", "10.0.0.0/15"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(2, "CIDR Block", "11.2.0.0/16"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(3, "CIDR Block", "12.128.0.0/9"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(4, "CIDR Block", "13.7.7.0/31"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(5, "CIDR Block", "2001:db8::/17"), THREATQ_MATCH_INSERTED);
  cr_assert_eq(_add(6, "CIDR Block", "2002::/15"), THREATQ_MATCH_INSERTED);
  assert_hits("10.1.2.3", "1");
  assert_hits("10.2.0.1", "");
  assert_hits("11.2.250.1", "2");
  assert_hits("11.3.0.1", "");
  assert_hits("12.200.0.1", "3");
  assert_hits("12.1.0.1", "");
  assert_hits("13.7.7.1", "4");
  assert_hits("13.7.7.2", "");
  assert_hits("2001:db8:7fff::1", "5");
  assert_hits("2001:8000::1", "");
  assert_hits("2003:1::1", "6");
  assert_hits("2004::1", "");
}
