/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Feeding a threatq-match() set from mapped pages: which indicators of a
 * page go in (the source's match-statuses() and match-min-score(), and not
 * yet expired), which are removed, and the indicator fields the set keeps,
 * read from the mapped document (docs/fields.md) rather than from the JSON
 * again.
 *
 * Pure: mapped documents in, set updates out; no syslog-ng types, so it is
 * unit-tested alone.  Threads: the one that applies pages (the source's
 * reader thread); the filter is read-only once built.
 */
#ifndef THREATQ_MATCH_FEED_H_INCLUDED
#define THREATQ_MATCH_FEED_H_INCLUDED

#include "threatq-document.h"
#include "threatq-match-set.h"

#define THREATQ_MATCH_DEFAULT_MAX_SIZE 2000000
/* 2,000,000 entries is about 300 MB; a hundred times that is no collector's memory */
#define THREATQ_MATCH_MAX_MAX_SIZE 200000000
#define THREATQ_MATCH_MAX_SCORE 10.0

typedef struct _ThreatqMatchFilter
{
  gchar **statuses;             /* NULL-terminated; a status passes when equal to one, ignoring ASCII case */
  gboolean has_min_score;
  gdouble min_score;            /* with has_min_score: an indicator without a score does not pass */
} ThreatqMatchFilter;

/* the options that decide what the set holds, as text: part of a snapshot's identity */
gchar *threatq_match_filter_fingerprint(const ThreatqMatchFilter *self, gsize max_size, gint64 ioc_expiration);

/* the indicator fields of one mapped document; the strings point into it */
typedef struct _ThreatqMatchFeedItem
{
  ThreatqMatchIndicator indicator;
  gboolean has_id;
  const gchar *status;          /* NULL when absent */
  GPtrArray *providers;         /* scratch, owned by the caller: NULL-terminated for indicator.providers */
} ThreatqMatchFeedItem;

/* FALSE when the document has no threatq.id (nothing to key an update on) */
gboolean threatq_match_feed_read(const ThreatqDocument *document, ThreatqMatchFeedItem *item);

/* in the set at now: status and score pass the filter and expires_at is after now */
gboolean threatq_match_filter_passes(const ThreatqMatchFilter *self, const ThreatqMatchFeedItem *item, gint64 now);

typedef struct _ThreatqMatchFeedCounts
{
  gsize inserted;               /* new ids and replacements */
  gsize removed;                /* ids that left the set (status, score, expiry) */
  gsize refused_full;
  gsize skipped;                /* types and values that cannot match */
} ThreatqMatchFeedCounts;

/*
 * What was done with one document, for a journal of the changes (the
 * snapshot): id, and whether the set now holds it (inserted or replaced) or
 * not (removed, skipped, filtered out).  A refusal (set full) changes nothing
 * and is not reported.
 */
typedef void (*ThreatqMatchFeedChanged)(gint64 id, gboolean present, gpointer user_data);

/* applies the documents (ThreatqDocument *) in order; changed may be NULL */
void threatq_match_feed_apply(const ThreatqMatchFilter *filter, ThreatqMatchSet *set, GQueue *documents, gint64 now,
                              ThreatqMatchFeedChanged changed, gpointer user_data, ThreatqMatchFeedCounts *counts);

#endif
