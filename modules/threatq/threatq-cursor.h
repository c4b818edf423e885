/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The paging cursor in syslog-ng's persist file, and the bookmarks that move
 * it only once destinations have acknowledged the messages.
 */
#ifndef THREATQ_CURSOR_H_INCLUDED
#define THREATQ_CURSOR_H_INCLUDED

#include "syslog-ng.h"
#include "persist-state.h"
#include "ack-tracker/bookmark.h"

#define THREATQ_CURSOR_START "*"

typedef struct _ThreatqCursorStore
{
  PersistState *state;
  PersistEntryHandle handle;
  const gchar *driver_id;         /* borrowed from the driver, for log lines */
} ThreatqCursorStore;

/*
 * Finds or creates the entry; FALSE when the persist file cannot hold it.  An
 * entry written for another collection (persist-name() kept, collection()
 * changed) is emptied with a warning: that collection starts from the beginning.
 * A version 1 entry (older threatq()) is upgraded, keeping its cursor.
 */
gboolean threatq_cursor_store_open(ThreatqCursorStore *self, PersistState *state, const gchar *driver_id,
                                   const gchar *persist_name, const gchar *collection, const gchar *url);

/* The stored cursor, or "*" when none was ever stored (or no slot is intact).  Free with g_ref_string_release(). */
GRefString *threatq_cursor_store_load(ThreatqCursorStore *self);

/* When the message holding this bookmark is acknowledged, cursor becomes the stored one. */
void threatq_cursor_fill_bookmark(Bookmark *bookmark, ThreatqCursorStore *store, GRefString *cursor);

#endif
