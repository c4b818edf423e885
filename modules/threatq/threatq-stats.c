/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-stats.h"
#include "stats/stats-cluster-single.h"

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
};

void
threatq_stats_register(ThreatqStats *self, guint16 stats_source, const gchar *id, const gchar *instance)
{
  self->id = g_strdup(id);
  self->instance = g_strdup(instance);
  stats_lock();
  for (gint i = 0; i < THREATQ_STAT_MAX; i++)
    {
      stats_cluster_single_key_set_with_name(&self->keys[i], SCS_SOURCE | stats_source, self->id, self->instance,
                                             stat_names[i]);
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
  g_clear_pointer(&self->instance, g_free);
}
