/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-source counters shown by `syslog-ng-ctl stats` (and, on syslog-ng
 * 4.x, as labelled metrics by `syslog-ng-ctl stats prometheus`).
 */
#ifndef THREATQ_STATS_H_INCLUDED
#define THREATQ_STATS_H_INCLUDED

#include "stats/stats-counter.h"
#include "threatq-compat.h"

typedef enum
{
  THREATQ_STAT_PAGES,             /* pages fetched and parsed */
  THREATQ_STAT_INDICATORS,        /* documents of accepted pages, counted by the reader before they are posted */
  THREATQ_STAT_HTTP_ERRORS,       /* failed requests: non-2xx answers, timeouts, connection errors */
  THREATQ_STAT_AUTH_FAILURES,     /* token requests refused, 401s that a new token did not cure */
  THREATQ_STAT_MALFORMED_PAGES,   /* bodies that were not valid JSON or not a page */
  THREATQ_STAT_MALFORMED_ITEMS,   /* elements of data that were not objects */
  THREATQ_STAT_LAST_SYNC,         /* unix time the collection was last drained */
  THREATQ_STAT_UNPAIRED_ATTRIBUTES, /* attribute fields kept in MESSAGE only (THREATQ_MAX_ATTRIBUTE_NAMES) */
  /* threatq-match() (docs/match-source.md): the source's set, 0 while no parser wants it */
  THREATQ_STAT_MATCH_ENTRIES,     /* entries in the set (expired ones until they are purged) */
  THREATQ_STAT_MATCH_REFUSED_FULL, /* new indicators refused because the set held match-max-size() */
  THREATQ_STAT_MATCH_SKIPPED,     /* indicators of a type or value that cannot be matched */
  THREATQ_STAT_MAX,
} ThreatqStat;

typedef struct _ThreatqStats
{
  StatsClusterKey keys[THREATQ_STAT_MAX];
  ThreatqCompatLabel labels[THREATQ_STAT_MAX][THREATQ_COMPAT_MAX_LABELS];
  StatsCounterItem *counters[THREATQ_STAT_MAX];
  /* the keys and labels point here */
  gchar *id;
  gchar *url;
  gchar *collection;
  gchar *persist_name;
  gchar *instance;
} ThreatqStats;

void threatq_stats_register(ThreatqStats *self, guint16 stats_source, const ThreatqStatsLabels *labels);
void threatq_stats_unregister(ThreatqStats *self);

static inline void
threatq_stats_add(ThreatqStats *self, ThreatqStat stat, gsize value)
{
  stats_counter_add(self->counters[stat], value);
}

static inline void
threatq_stats_set(ThreatqStats *self, ThreatqStat stat, gsize value)
{
  stats_counter_set(self->counters[stat], value);
}

#endif
