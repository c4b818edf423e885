/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The paging cursor as checked and as laid out in the persist entry; pure
 * code (no syslog-ng), unit-tested in tests/unit/test_cursor_record.c.
 *
 * A cursor from the server is used only if threatq_cursor_is_valid(): at most
 * THREATQ_CURSOR_MAX_LENGTH bytes of visible ASCII.  Such a cursor always fits
 * the entry, so a cursor that was used can always be persisted.
 *
 * The record says which collection it belongs to, and holds two slots, each
 * with a sequence number and a checksum: a write goes to the older slot, so a
 * crash in the middle of one leaves the other, complete, to be read.
 * The caller serialises access (syslog-ng maps the entry for one thread at a time).
 */
#ifndef THREATQ_CURSOR_RECORD_H_INCLUDED
#define THREATQ_CURSOR_RECORD_H_INCLUDED

#include <glib.h>

/* Solr cursor marks are base64 of the sort values: tens of bytes.  16x room. */
#define THREATQ_CURSOR_MAX_LENGTH 1024
/* collection() and url() longer than these are refused by the configuration */
#define THREATQ_CURSOR_COLLECTION_MAX 255
#define THREATQ_CURSOR_URL_MAX 1023

typedef struct _ThreatqCursorSlot
{
  guint32 sequence;           /* 0: never written; the valid slot with the higher one is current */
  guint32 length;
  guint32 checksum;           /* over sequence, length and cursor */
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH];
} ThreatqCursorSlot;

typedef struct _ThreatqCursorRecord
{
  gchar collection[THREATQ_CURSOR_COLLECTION_MAX + 1]; /* NUL-terminated: whose cursor this is */
  gchar url[THREATQ_CURSOR_URL_MAX + 1];               /* NUL-terminated: for the log only */
  ThreatqCursorSlot slots[2];
} ThreatqCursorRecord;

/* FALSE with the reason (no cursor text in it) when the server's cursor cannot be used. */
gboolean threatq_cursor_is_valid(const gchar *cursor, gsize length, gchar *problem, gsize problem_size);

/* An empty record (no cursor) for collection at url. */
void threatq_cursor_record_init(ThreatqCursorRecord *self, const gchar *collection, const gchar *url);

/* The record was written for this collection. */
gboolean threatq_cursor_record_belongs_to(const ThreatqCursorRecord *self, const gchar *collection);

/* The current cursor (NUL-terminated, into cursor[THREATQ_CURSOR_MAX_LENGTH + 1]); FALSE when none is intact. */
gboolean threatq_cursor_record_read(const ThreatqCursorRecord *self, gchar *cursor);

/* Makes cursor the current one; FALSE (record unchanged) when it is not valid. */
gboolean threatq_cursor_record_write(ThreatqCursorRecord *self, const gchar *cursor, gsize length);

#endif
