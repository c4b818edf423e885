/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The threatq() source's side of threatq-match(): its match-*() options, the
 * set it feeds from every page when a parser wants it, the hand-over of the
 * live set across a reload, and the counters (docs/match-source.md).
 *
 * Lifecycle and threads (one per source, owned by the driver):
 *   - options: the configuration parser;
 *   - init/deinit: the main thread, while no message flows (syslog-ng stops
 *     the workers while it applies a configuration);
 *   - start: the fetcher thread, before it starts the reader thread: every
 *     pipe of the configuration has been initialised by then, so every
 *     parser has said whether it wants the set.  Decides whether pages are
 *     fed and which cursor the reader starts from;
 *   - page_hook: the reader thread, for every page before it is handed over.
 * A source that no parser names does one atomic load per (re)start and
 * nothing per page or per indicator.
 */
#ifndef THREATQ_MATCH_SOURCE_H_INCLUDED
#define THREATQ_MATCH_SOURCE_H_INCLUDED

#include "threatq-reader.h"
#include "threatq-stats.h"
#include "cfg.h"

typedef struct _ThreatqMatchSource ThreatqMatchSource;

ThreatqMatchSource *threatq_match_source_new(void);
void threatq_match_source_free(ThreatqMatchSource *self);

/* options; the grammar checks the ranges, these say what is wrong otherwise */
gboolean threatq_match_source_set_statuses(ThreatqMatchSource *self, GList *statuses, GError **error);
void threatq_match_source_set_min_score(ThreatqMatchSource *self, gdouble min_score);
void threatq_match_source_set_max_size(ThreatqMatchSource *self, gsize max_size);
void threatq_match_source_set_state_file(ThreatqMatchSource *self, const gchar *path);

typedef struct _ThreatqMatchSourceContext
{
  const gchar *source_name;     /* the source statement's name: what threatq-match(source(...)) names */
  const gchar *driver_id;
  const gchar *persist_name;    /* read during init only (it may be a static buffer) */
  const gchar *url;
  const gchar *collection;
  gint64 ioc_expiration;
  ThreatqStats *stats;
} ThreatqMatchSourceContext;

/* takes over the set a reload handed over, when it was built with the same options; the strings are borrowed until deinit */
gboolean threatq_match_source_init(ThreatqMatchSource *self, GlobalConfig *cfg, const ThreatqMatchSourceContext *context);
/* hands the set over to the next configuration */
void threatq_match_source_deinit(ThreatqMatchSource *self, GlobalConfig *cfg);

/*
 * Fetcher thread, before the reader starts: builds (or drops) the set,
 * installs the page hook in reader_options, and returns the cursor to start
 * from: stored_cursor, or THREATQ_CURSOR_START (the start of the collection) when a set must
 * be rebuilt although a cursor is stored.  A new reference.
 */
GRefString *threatq_match_source_start(ThreatqMatchSource *self, ThreatqReaderOptions *reader_options,
                                       GRefString *stored_cursor);

#endif
