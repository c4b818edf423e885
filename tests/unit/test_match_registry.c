/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-registry: one entry per source name whoever asks first, the
 * set and the wants shared through it, the last unref removing it, and
 * acquire/unref racing from several threads.
 */
#include <criterion/criterion.h>

#include "threatq-match-registry.h"

static ThreatqMatchIndicator
_indicator(gint64 id, const gchar *value)
{
  ThreatqMatchIndicator indicator =
  {
    .id = id, .type = "IP Address", .type_length = -1, .value = value, .value_length = -1,
    .expires_at = THREATQ_MATCH_NEVER,
  };
  return indicator;
}

static gsize
_entries(ThreatqMatchSet *set)
{
  ThreatqMatchSetStats stats;

  threatq_match_set_get_stats(set, &stats);
  return stats.entries;
}

Test(match_registry, parser_first_then_source_share_one_entry)
{
  ThreatqMatchShared *parser_side = threatq_match_registry_acquire("s_tq");
  cr_assert_null(threatq_match_shared_get_set(parser_side), "no set before the source attaches one");
  cr_assert_not(threatq_match_shared_is_wanted(parser_side));
  threatq_match_shared_want(parser_side);

  ThreatqMatchShared *source_side = threatq_match_registry_acquire("s_tq");
  cr_assert_eq(source_side, parser_side);
  cr_assert(threatq_match_shared_is_wanted(source_side));
  cr_assert_str_eq(threatq_match_shared_get_name(source_side), "s_tq");

  ThreatqMatchSet *set = threatq_match_set_new(0);
  ThreatqMatchIndicator indicator = _indicator(1, "192.0.2.1");
  threatq_match_set_insert(set, &indicator);
  threatq_match_shared_attach_set(source_side, set);
  cr_assert_eq(threatq_match_shared_get_set(parser_side), set);
  cr_assert_eq(_entries(threatq_match_shared_get_set(parser_side)), 1);

  threatq_match_shared_unref(source_side);
  cr_assert_eq(threatq_match_shared_get_set(parser_side), set, "the parser's reference keeps entry and set");
  threatq_match_shared_unref(parser_side);
}

Test(match_registry, names_are_separate)
{
  ThreatqMatchShared *a = threatq_match_registry_acquire("s_a");
  ThreatqMatchShared *b = threatq_match_registry_acquire("s_b");

  cr_assert_neq(a, b);
  threatq_match_shared_want(a);
  cr_assert_not(threatq_match_shared_is_wanted(b));
  threatq_match_shared_attach_set(a, threatq_match_set_new(0));
  cr_assert_null(threatq_match_shared_get_set(b));

  threatq_match_shared_unref(a);
  threatq_match_shared_unref(b);
}

Test(match_registry, last_unref_removes_the_entry)
{
  ThreatqMatchShared *first = threatq_match_registry_acquire("s_gone");
  threatq_match_shared_want(first);
  threatq_match_shared_attach_set(first, threatq_match_set_new(0));
  ThreatqMatchShared *second = threatq_match_shared_ref(first);
  threatq_match_shared_unref(first);
  cr_assert(threatq_match_shared_is_wanted(second), "one reference left: the entry is alive");
  threatq_match_shared_unref(second);

  ThreatqMatchShared *fresh = threatq_match_registry_acquire("s_gone");
  cr_assert_not(threatq_match_shared_is_wanted(fresh), "a new entry, not the freed one");
  cr_assert_null(threatq_match_shared_get_set(fresh));
  threatq_match_shared_unref(fresh);
  threatq_match_shared_unref(NULL);
}

Test(match_registry, take_detach_and_forget_wants)
{
  ThreatqMatchShared *shared = threatq_match_registry_acquire("s_take");
  ThreatqMatchSet *set = threatq_match_set_new(0);

  threatq_match_shared_attach_set(shared, set);
  threatq_match_shared_attach_set(shared, set);
  cr_assert_eq(threatq_match_shared_get_set(shared), set, "attaching the same set again keeps it");
  cr_assert_eq(threatq_match_shared_take_set(shared), set);
  cr_assert_null(threatq_match_shared_get_set(shared));
  cr_assert_null(threatq_match_shared_take_set(shared));
  threatq_match_set_free(set);

  threatq_match_shared_attach_set(shared, threatq_match_set_new(0));
  threatq_match_shared_attach_set(shared, threatq_match_set_new(0));  /* frees the first: no leak under valgrind/ASan */

  threatq_match_shared_want(shared);
  threatq_match_shared_forget_wants(shared);
  cr_assert_not(threatq_match_shared_is_wanted(shared));
  threatq_match_shared_unref(shared);
}

Test(match_registry, one_source_feeds_an_entry)
{
  ThreatqMatchShared *shared = threatq_match_registry_acquire("s_claim");
  gint first, second;

  cr_assert(threatq_match_shared_claim(shared, &first));
  cr_assert(threatq_match_shared_claim(shared, &first), "the owner again");
  cr_assert_not(threatq_match_shared_claim(shared, &second), "a second driver of the same source statement");
  threatq_match_shared_release(shared, &second);
  cr_assert_not(threatq_match_shared_claim(shared, &second), "only the owner releases");
  threatq_match_shared_release(shared, &first);
  cr_assert(threatq_match_shared_claim(shared, &second));
  threatq_match_shared_unref(shared);
}

#define RACE_THREADS 4
#define RACE_ROUNDS 20000

static gpointer
_acquire_release(gpointer data)
{
  ThreatqMatchShared *keeper = data;

  for (gint i = 0; i < RACE_ROUNDS; i++)
    {
      ThreatqMatchShared *mine = threatq_match_registry_acquire(i % 2 ? "s_race" : "s_race_other");
      if (i % 2)
        cr_assert_eq(mine, keeper);
      threatq_match_shared_want(mine);
      threatq_match_shared_unref(mine);
    }
  return NULL;
}

Test(match_registry, acquire_and_unref_race)
{
  ThreatqMatchShared *keeper = threatq_match_registry_acquire("s_race");
  GThread *threads[RACE_THREADS];

  for (gint i = 0; i < RACE_THREADS; i++)
    threads[i] = g_thread_new("registry", _acquire_release, keeper);
  for (gint i = 0; i < RACE_THREADS; i++)
    g_thread_join(threads[i]);

  cr_assert(threatq_match_shared_is_wanted(keeper));
  threatq_match_shared_unref(keeper);
  ThreatqMatchShared *other = threatq_match_registry_acquire("s_race_other");
  cr_assert_not(threatq_match_shared_is_wanted(other), "every reference of the other name was dropped");
  threatq_match_shared_unref(other);
}
