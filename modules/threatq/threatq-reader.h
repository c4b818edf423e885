/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The page reader: a thread of its own that requests, parses and maps the
 * next page while the fetcher thread posts the current one.  It also owns
 * the paging rhythm: back-off after failures, Retry-After, poll-interval().
 */
#ifndef THREATQ_READER_H_INCLUDED
#define THREATQ_READER_H_INCLUDED

#include "threatq-client.h"
#include "threatq-mapper.h"
#include "threatq-stats.h"

typedef struct _ThreatqReaderPage ThreatqReaderPage;

/*
 * Reader thread: sees every accepted page (documents and cursors) before the
 * fetcher can take it.  The documents are read-only here; they belong to the page.
 */
typedef void (*ThreatqReaderPageHook)(ThreatqReaderPage *page, gpointer user_data);

typedef struct _ThreatqReaderOptions
{
  const ThreatqMapperOptions *mapper_options;
  ThreatqStats *stats;
  const gchar *driver_id;
  const gchar *collection;
  gdouble poll_interval;        /* seconds */
  gint64 max_backoff;           /* milliseconds */
  /* NULL: none; may change between threatq_reader_join() and threatq_reader_start() only */
  ThreatqReaderPageHook page_hook;
  gpointer page_hook_data;
} ThreatqReaderOptions;

struct _ThreatqReaderPage
{
  GQueue documents;             /* ThreatqDocument *, may be empty */
  GQueue spent;                 /* documents handed out, freed by the reader thread */
  GRefString *cursor;           /* the cursor that returned the page */
  GRefString *next_cursor;      /* where the page ends */
};

void threatq_reader_page_free(ThreatqReaderPage *page);

typedef struct _ThreatqReader ThreatqReader;

/* Borrows client and options, which must outlive the reader. */
ThreatqReader *threatq_reader_new(ThreatqClient *client, const ThreatqReaderOptions *options);
void threatq_reader_free(ThreatqReader *self);

/* Main thread, before the worker starts (driver init): forgets an earlier stop request. */
void threatq_reader_reset(ThreatqReader *self);

/* Worker thread: starts the reader thread, paging from cursor, unless a stop was asked since the reset. */
void threatq_reader_start(ThreatqReader *self, GRefString *cursor);

/*
 * The next page, waiting for it; NULL once the reader is stopping.  finished
 * (or NULL) is the previous page, given back: its documents were allocated by
 * the reader thread, and freeing them there, not here, saves malloc's
 * cross-thread path.
 */
ThreatqReaderPage *threatq_reader_take(ThreatqReader *self, ThreatqReaderPage *finished);

/* Any thread: aborts the request in progress and wakes every wait. */
void threatq_reader_request_stop(ThreatqReader *self);

/* Waits for the thread to end and drops a page not taken yet. */
void threatq_reader_join(ThreatqReader *self);

#endif
