/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-stats.h"
#include "stats/stats-registry.h"
#include "stats/stats-cluster-single.h"

/* the counter names of `syslog-ng-ctl stats` (the legacy names on 4.x) */
static const gchar *stat_names[THREATQ_STAT_MAX] =
{
  [THREATQ_STAT_PAGES] = "pages",
  [THREATQ_STAT_INDICATORS] = "indicators",
  [THREATQ_STAT_HTTP_ERRORS] = "http_errors",
  [THREATQ_STAT_AUTH_FAILURES] = "auth_failures",
  [THREATQ_STAT_MALFORMED_PAGES] = "malformed_pages",
  [THREATQ_STAT_MALFORMED_ITEMS] = "malformed_items",
  [THREATQ_STAT_LAST_SYNC] = "last_sync",
  [THREATQ_STAT_UNPAIRED_ATTRIBUTES] = "unpaired_attributes",
  [THREATQ_STAT_MATCH_ENTRIES] = "match_entries",
  [THREATQ_STAT_MATCH_REFUSED_FULL] = "match_refused_full",
  [THREATQ_STAT_MATCH_SKIPPED] = "match_skipped",
};

/* the labelled metrics of 4.x (`syslog-ng-ctl stats prometheus` adds "syslogng_") */
static const gchar *metric_names[THREATQ_STAT_MAX] =
{
  [THREATQ_STAT_PAGES] = "threatq_pages_total",
  [THREATQ_STAT_INDICATORS] = "threatq_indicators_total",
  [THREATQ_STAT_HTTP_ERRORS] = "threatq_http_errors_total",
  [THREATQ_STAT_AUTH_FAILURES] = "threatq_auth_failures_total",
  [THREATQ_STAT_MALFORMED_PAGES] = "threatq_malformed_pages_total",
  [THREATQ_STAT_MALFORMED_ITEMS] = "threatq_malformed_items_total",
  [THREATQ_STAT_LAST_SYNC] = "threatq_last_sync_timestamp",
  [THREATQ_STAT_UNPAIRED_ATTRIBUTES] = "threatq_unpaired_attributes_total",
  [THREATQ_STAT_MATCH_ENTRIES] = "threatq_match_entries",
  [THREATQ_STAT_MATCH_REFUSED_FULL] = "threatq_match_refused_full_total",
  [THREATQ_STAT_MATCH_SKIPPED] = "threatq_match_skipped_total",
};

void
threatq_stats_register(ThreatqStats *self, guint16 stats_source, const ThreatqStatsLabels *labels)
{
  gchar instance[1024];

  self->id = g_strdup(labels->driver_id);
  self->url = g_strdup(labels->url);
  self->collection = g_strdup(labels->collection);
  self->persist_name = g_strdup(labels->persist_name);
  self->instance = g_strdup(threatq_compat_format_stats_instance(labels, instance, sizeof(instance)));

  ThreatqStatsLabels owned = { self->id, self->url, self->collection, self->persist_name };
  stats_lock();
  for (gint i = 0; i < THREATQ_STAT_MAX; i++)
    {
      threatq_compat_stats_key_set(&self->keys[i], self->labels[i], &owned, stats_source, self->instance,
                                   metric_names[i], stat_names[i]);
      stats_register_counter(0, &self->keys[i], SC_TYPE_SINGLE_VALUE, &self->counters[i]);
    }
  stats_unlock();
}

void
threatq_stats_unregister(ThreatqStats *self)
{
  if (!self->id)
    return;

  stats_lock();
  for (gint i = 0; i < THREATQ_STAT_MAX; i++)
    stats_unregister_counter(&self->keys[i], SC_TYPE_SINGLE_VALUE, &self->counters[i]);
  stats_unlock();
  g_clear_pointer(&self->id, g_free);
  g_clear_pointer(&self->url, g_free);
  g_clear_pointer(&self->collection, g_free);
  g_clear_pointer(&self->persist_name, g_free);
  g_clear_pointer(&self->instance, g_free);
}
