/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ThreatQ indicator JSON -> ECS document (docs/fields.md), and the
 * streaming parser of one indicator page.  No syslog-ng I/O in here.
 */
#ifndef THREATQ_MAPPER_H_INCLUDED
#define THREATQ_MAPPER_H_INCLUDED

#include "threatq-document.h"

#define THREATQ_MAPPER_ERROR threatq_mapper_error_quark()
GQuark threatq_mapper_error_quark(void);

typedef enum
{
  THREATQ_MAPPER_ERROR_SYNTAX,      /* the body is not valid JSON */
  THREATQ_MAPPER_ERROR_SHAPE,       /* valid JSON, but not {"data": [...], ...}, or past a page bound */
  THREATQ_MAPPER_ERROR_STOPPED,     /* the stop flag was raised while parsing */
} ThreatqMapperError;

/*
 * Bounds on what one page can make the mapper do (docs/limits.md).  A real
 * page (1,000 indicators of a few KB) is far from each.  An option left at 0
 * takes the default.
 */
#define THREATQ_DEFAULT_MAX_VALUE_LENGTH (64 * 1024)    /* bytes of one string value; longer ones are cut */
#define THREATQ_DEFAULT_MAX_MEMBERS 10000               /* sources, attributes, adversaries per indicator */
#define THREATQ_DEFAULT_MAX_INDICATORS 10000            /* indicators per page; more: the page is refused */
#define THREATQ_MAX_ORIGINAL_LENGTH (1024 * 1024)       /* bytes of event.original; longer: cut */
#define THREATQ_MAX_PAGE_DEPTH 64                       /* nesting of arrays and objects; deeper: refused */
#define THREATQ_MAX_ATTRIBUTE_NAME_LENGTH (THREATQ_MAX_FIELD_NAME_LENGTH - (sizeof(THREATQ_ATTRIBUTE_PREFIX) - 1))

typedef struct _ThreatqMapperOptions
{
  const gchar *feed_name;           /* threat.feed.name */
  gboolean preserve_original;       /* event.original + tag preserve_original_event */
  const gchar *const *tags;         /* NULL-terminated user tags, in the order configured; may be NULL */
  gint64 ioc_expiration_seconds;    /* ioc-expiration-duration() */
  gsize max_value_length;           /* 0: THREATQ_DEFAULT_MAX_VALUE_LENGTH */
  guint max_members;                /* 0: THREATQ_DEFAULT_MAX_MEMBERS */
  guint max_indicators;             /* 0: THREATQ_DEFAULT_MAX_INDICATORS */
} ThreatqMapperOptions;

typedef struct _ThreatqPageSummary
{
  gchar *next_cursor;               /* nextCursorMark, NULL when absent */
  gboolean has_total;
  gint64 total;
  guint documents;                  /* documents emitted */
  guint malformed_items;            /* elements of data that were not objects */
} ThreatqPageSummary;

/* Takes ownership of document. */
typedef void (*ThreatqDocumentFunc)(ThreatqDocument *document, gpointer user_data);

/*
 * Parse one page body as a stream, calling emit once per indicator, in order.
 * received_at is the page's receive time in microseconds since the epoch
 * (event.created, and @timestamp when updated_at is unusable).
 * Returns FALSE with error set when the body is not valid JSON or not the
 * expected shape; documents already emitted for this page must then be discarded by the caller.
 * stop (may be NULL) is read atomically between indicators and every few
 * thousand JSON tokens: once non-zero, the parse ends with THREATQ_MAPPER_ERROR_STOPPED.
 */
gboolean threatq_mapper_parse_page(const gchar *body, gsize length, const ThreatqMapperOptions *options,
                                   gint64 received_at, ThreatqDocumentFunc emit, gpointer user_data,
                                   const gint *stop, ThreatqPageSummary *page, GError **error);
void threatq_page_summary_clear(ThreatqPageSummary *page);

/* Map a single indicator object given as JSON text (the same code path as a page element); json is rendered. */
ThreatqDocument *threatq_mapper_map_json(const gchar *json, gsize length, const ThreatqMapperOptions *options,
                                         gint64 received_at, GError **error);

/* Parse "90d", "12h", "30m" into seconds; FALSE on anything else. */
gboolean threatq_parse_duration(const gchar *text, gint64 *seconds);

#endif
