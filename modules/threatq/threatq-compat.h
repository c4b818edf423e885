/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one place that knows which syslog-ng the module is built against.
 *
 * Supported: the 3.38 series (Debian 12) and 4.6 and later (one fetcher
 * worker in workers[], format_stats_key(), labelled metrics; tested with 4.8
 * and 4.12).  Everything else in the module calls these functions and never
 * looks at VERSION_VALUE_CURRENT itself.
 */
#ifndef THREATQ_COMPAT_H_INCLUDED
#define THREATQ_COMPAT_H_INCLUDED

#include "syslog-ng.h"
#include "versioning.h"
#include "logthrsource/logthrsourcedrv.h"
#include "stats/stats-cluster.h"
#include "cfg.h"
#include "parser/parser-expr.h"

#define THREATQ_SYSLOG_NG_4 (VERSION_VALUE_CURRENT >= 0x0406)

#if !THREATQ_SYSLOG_NG_4 && VERSION_VALUE_CURRENT != VERSION_VALUE_3_38
#error "threatq() builds against syslog-ng 3.38.x or 4.6 and later"
#endif

/* 4.0 merged INT32 and INT64 into one integer type */
#if THREATQ_SYSLOG_NG_4
#define THREATQ_LM_VT_INTEGER LM_VT_INTEGER
#else
#define THREATQ_LM_VT_INTEGER LM_VT_INT64
#endif

/* a metric label; 3.38 has none (its keys are component, id, instance, name) */
#if THREATQ_SYSLOG_NG_4
typedef StatsClusterLabel ThreatqCompatLabel;
#else
typedef struct { const gchar *name; const gchar *value; } ThreatqCompatLabel;
#endif

/* What names one threatq() source in its metrics; the strings belong to the driver. */
typedef struct _ThreatqStatsLabels
{
  const gchar *driver_id;
  const gchar *url;
  const gchar *collection;
  const gchar *persist_name;    /* NULL unless persist-name() was given */
} ThreatqStatsLabels;

typedef void (*ThreatqStatsLabelsFunc)(LogThreadedSourceDriver *s, ThreatqStatsLabels *labels);

/*
 * The labels of the source's own counters (processed, ...): on 3.38 the
 * instance "threatq,<url>,<collection>" (or "threatq,<persist-name>"), on 4.x
 * the same as legacy labels plus url/collection labels for prometheus.
 * labels_func is the same for every threatq() source (one per module).
 */
void threatq_compat_set_stats_labels(LogThreadedSourceDriver *s, ThreatqStatsLabelsFunc labels_func);

/* The legacy stats instance: what `syslog-ng-ctl stats` shows as SourceInstance. */
const gchar *threatq_compat_format_stats_instance(const ThreatqStatsLabels *labels, gchar *buf, gsize size);

/* The source (window, ack tracker) that the fetcher posts through; fetcher thread only. */
LogSource *threatq_compat_worker(LogThreadedSourceDriver *s);
void threatq_compat_post(LogThreadedSourceDriver *s, LogMessage *msg);

/*
 * One of our own counters: on 3.38 a legacy key (SCS_SOURCE|stats_source, id,
 * instance, name); on 4.x the metric "threatq_<name>" with the labels id, url,
 * collection (and persist_name), aliased to the same legacy key.  label_storage
 * must hold THREATQ_COMPAT_MAX_LABELS and outlive the key, as must the strings.
 */
#define THREATQ_COMPAT_MAX_LABELS 4
void threatq_compat_stats_key_set(StatsClusterKey *key, ThreatqCompatLabel *label_storage,
                                  const ThreatqStatsLabels *labels, guint16 stats_source,
                                  const gchar *instance, const gchar *metric_name, const gchar *name);

/* A LogParser clone gets what every parser has (its template; on 4.x also its name). */
void threatq_compat_parser_clone_settings(LogParser *self, LogParser *cloned);

/* what LogParser's own queue counts for a message it passes on (4.x: processed; 3.38: nothing) */
static inline void
threatq_compat_parser_processed(LogParser *self)
{
#if THREATQ_SYSLOG_NG_4
  stats_counter_inc(self->processed_messages);
#endif
}

/*
 * Batches (4.x): the queue behind the source takes the messages a thread
 * posts a batch at a time, and wakes its consumer once a batch.  By default
 * a threaded source closes a batch after every message, which woke the
 * destination (and the main loop) once an indicator.  threatq() closes them
 * itself: after the burst a fetch() posts (up to the window), and at the
 * start of the next fetch() for the one message fetch() returns, which the
 * framework posts after it.  That message waits in an open batch until then;
 * the rest of the window is closed, so acknowledgements come and wake the
 * fetcher.  With a window of one message nothing else would be in flight,
 * so there the default stays.
 * 3.38 has no batches: both are no-ops there.  close_batch: fetcher thread.
 */
/* after the driver's init (the worker and its window exist), before the workers start */
void threatq_compat_batches_init(LogThreadedSourceDriver *s);
void threatq_compat_close_batch(LogThreadedSourceDriver *s);

/* cfg_persist_config_add(): 3.38 has a force argument (FALSE here: a duplicate name is an error and value is destroyed) */
void threatq_compat_persist_config_add(GlobalConfig *cfg, const gchar *name, gpointer value, GDestroyNotify destroy);

#endif
