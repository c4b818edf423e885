/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-compat.h"
#include "stats/stats-cluster-single.h"

#if THREATQ_SYSLOG_NG_4
#include "stats/stats-cluster-key-builder.h"
#endif

/* the same function for every threatq() source: the driver vfuncs carry no user data */
static ThreatqStatsLabelsFunc stats_labels_func;

const gchar *
threatq_compat_format_stats_instance(const ThreatqStatsLabels *labels, gchar *buf, gsize size)
{
  if (labels->persist_name)
    g_snprintf(buf, size, "threatq,%s", labels->persist_name);
  else
    g_snprintf(buf, size, "threatq,%s,%s", labels->url, labels->collection);
  return buf;
}

#if THREATQ_SYSLOG_NG_4

static void
_format_stats_key(LogThreadedSourceDriver *s, StatsClusterKeyBuilder *kb)
{
  ThreatqStatsLabels labels;

  stats_labels_func(s, &labels);
  /* the legacy labels make the same SourceInstance as on 3.38 */
  stats_cluster_key_builder_add_legacy_label(kb, stats_cluster_label("driver", "threatq"));
  if (labels.persist_name)
    {
      stats_cluster_key_builder_add_legacy_label(kb, stats_cluster_label("persist_name", labels.persist_name));
      stats_cluster_key_builder_add_label(kb, stats_cluster_label("url", labels.url));
      stats_cluster_key_builder_add_label(kb, stats_cluster_label("collection", labels.collection));
    }
  else
    {
      stats_cluster_key_builder_add_legacy_label(kb, stats_cluster_label("url", labels.url));
      stats_cluster_key_builder_add_legacy_label(kb, stats_cluster_label("collection", labels.collection));
    }
}

void
threatq_compat_set_stats_labels(LogThreadedSourceDriver *s, ThreatqStatsLabelsFunc labels_func)
{
  stats_labels_func = labels_func;
  s->format_stats_key = _format_stats_key;
}

LogSource *
threatq_compat_worker(LogThreadedSourceDriver *s)
{
  /* the fetcher driver runs exactly one worker */
  return &s->workers[0]->super;
}

void
threatq_compat_post(LogThreadedSourceDriver *s, LogMessage *msg)
{
  log_threaded_source_worker_post(s->workers[0], msg);
}

void
threatq_compat_batches_init(LogThreadedSourceDriver *s)
{
  s->auto_close_batches = window_size_counter_get(&threatq_compat_worker(s)->window_size, NULL) < 2;
}

void
threatq_compat_close_batch(LogThreadedSourceDriver *s)
{
  if (!s->auto_close_batches)
    log_threaded_source_worker_close_batch(s->workers[0]);
}

void
threatq_compat_stats_key_set(StatsClusterKey *key, ThreatqCompatLabel *label_storage,
                             const ThreatqStatsLabels *labels, guint16 stats_source,
                             const gchar *instance, const gchar *metric_name, const gchar *name)
{
  gsize count = 0;

  label_storage[count++] = stats_cluster_label("id", labels->driver_id ? : "");
  label_storage[count++] = stats_cluster_label("url", labels->url);
  label_storage[count++] = stats_cluster_label("collection", labels->collection);
  if (labels->persist_name)
    label_storage[count++] = stats_cluster_label("persist_name", labels->persist_name);
  stats_cluster_single_key_set(key, metric_name, label_storage, count);
  stats_cluster_single_key_add_legacy_alias_with_name(key, SCS_SOURCE | stats_source, labels->driver_id, instance,
                                                      name);
}

#else /* 3.38 */

static const gchar *
_format_stats_instance(LogThreadedSourceDriver *s)
{
  static gchar instance[1024];
  ThreatqStatsLabels labels;

  stats_labels_func(s, &labels);
  return threatq_compat_format_stats_instance(&labels, instance, sizeof(instance));
}

void
threatq_compat_set_stats_labels(LogThreadedSourceDriver *s, ThreatqStatsLabelsFunc labels_func)
{
  stats_labels_func = labels_func;
  s->format_stats_instance = _format_stats_instance;
}

LogSource *
threatq_compat_worker(LogThreadedSourceDriver *s)
{
  return &s->worker->super;
}

void
threatq_compat_post(LogThreadedSourceDriver *s, LogMessage *msg)
{
  log_threaded_source_post(s, msg);
}

void
threatq_compat_batches_init(LogThreadedSourceDriver *s)
{
}

void
threatq_compat_close_batch(LogThreadedSourceDriver *s)
{
}

void
threatq_compat_stats_key_set(StatsClusterKey *key, ThreatqCompatLabel *label_storage,
                             const ThreatqStatsLabels *labels, guint16 stats_source,
                             const gchar *instance, const gchar *metric_name, const gchar *name)
{
  stats_cluster_single_key_set_with_name(key, SCS_SOURCE | stats_source, labels->driver_id, instance, name);
}

#endif

void
threatq_compat_parser_clone_settings(LogParser *self, LogParser *cloned)
{
#if THREATQ_SYSLOG_NG_4
  log_parser_clone_settings(self, cloned);
#else
  log_parser_set_template(cloned, log_template_ref(self->template));
#endif
}

void
threatq_compat_persist_config_add(GlobalConfig *cfg, const gchar *name, gpointer value, GDestroyNotify destroy)
{
#if THREATQ_SYSLOG_NG_4
  cfg_persist_config_add(cfg, name, value, destroy);
#else
  cfg_persist_config_add(cfg, name, value, destroy, FALSE);
#endif
}
