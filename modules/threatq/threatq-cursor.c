/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-cursor.h"
#include "persistable-state-header.h"
#include "messages.h"

#include <string.h>

#define THREATQ_CURSOR_STATE_VERSION 1
/* ThreatQ's cursors are short Solr cursor marks; this leaves room for far longer ones. */
#define THREATQ_CURSOR_MAX_LENGTH 1024

typedef struct _ThreatqCursorState
{
  PersistableStateHeader header;
  guint32 length;
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH];
} ThreatqCursorState;

typedef struct _ThreatqBookmarkData
{
  PersistEntryHandle handle;
  GRefString *cursor;
} ThreatqBookmarkData;

G_STATIC_ASSERT(sizeof(ThreatqBookmarkData) <= sizeof(BookmarkContainer));

static gboolean
_has_known_layout(PersistState *state, PersistEntryHandle handle, gsize size)
{
  if (size < sizeof(ThreatqCursorState))
    return FALSE;

  ThreatqCursorState *stored = persist_state_map_entry(state, handle);
  gboolean known = stored->header.version == THREATQ_CURSOR_STATE_VERSION && stored->length < THREATQ_CURSOR_MAX_LENGTH;
  persist_state_unmap_entry(state, handle);
  return known;
}

gboolean
threatq_cursor_store_open(ThreatqCursorStore *self, PersistState *state, const gchar *persist_name)
{
  gsize size = 0;
  guint8 entry_format = 0;

  self->state = state;
  self->handle = persist_state_lookup_entry(state, persist_name, &size, &entry_format);
  if (self->handle && _has_known_layout(state, self->handle, size))
    return TRUE;
  if (self->handle)
    msg_warning("threatq: the stored cursor has an unknown layout, starting the collection from the beginning",
                evt_tag_str("persist_name", persist_name));

  self->handle = persist_state_alloc_entry(state, persist_name, sizeof(ThreatqCursorState));
  if (!self->handle)
    return FALSE;

  ThreatqCursorState *stored = persist_state_map_entry(state, self->handle);
  memset(stored, 0, sizeof(*stored));
  stored->header.version = THREATQ_CURSOR_STATE_VERSION;
  persist_state_unmap_entry(state, self->handle);
  return TRUE;
}

GRefString *
threatq_cursor_store_load(ThreatqCursorStore *self)
{
  ThreatqCursorState *stored = persist_state_map_entry(self->state, self->handle);
  GRefString *cursor;

  if (stored->length > 0 && stored->length < THREATQ_CURSOR_MAX_LENGTH)
    {
      gchar *copy = g_strndup(stored->cursor, stored->length);
      cursor = g_ref_string_new(copy);
      g_free(copy);
    }
  else
    cursor = g_ref_string_new(THREATQ_CURSOR_START);
  persist_state_unmap_entry(self->state, self->handle);
  return cursor;
}

/* The tracker gives the bookmark the live persist state, which outlives this driver on reload. */
static void
_save(PersistState *state, ThreatqBookmarkData *data)
{
  gsize length = strlen(data->cursor);

  if (length >= THREATQ_CURSOR_MAX_LENGTH)
    {
      msg_error("threatq: cursor too long to store, keeping the previous one",
                evt_tag_int("length", length));
      return;
    }

  ThreatqCursorState *stored = persist_state_map_entry(state, data->handle);
  memcpy(stored->cursor, data->cursor, length);
  stored->cursor[length] = '\0';
  stored->length = length;
  persist_state_unmap_entry(state, data->handle);
}

static void
_bookmark_save(Bookmark *bookmark)
{
  _save(bookmark->persist_state, (ThreatqBookmarkData *) &bookmark->container);
}

static void
_bookmark_destroy(Bookmark *bookmark)
{
  ThreatqBookmarkData *data = (ThreatqBookmarkData *) &bookmark->container;
  g_clear_pointer(&data->cursor, g_ref_string_release);
}

void
threatq_cursor_fill_bookmark(Bookmark *bookmark, ThreatqCursorStore *store, GRefString *cursor)
{
  ThreatqBookmarkData *data = (ThreatqBookmarkData *) &bookmark->container;

  data->handle = store->handle;
  data->cursor = g_ref_string_acquire(cursor);
  bookmark->save = _bookmark_save;
  bookmark->destroy = _bookmark_destroy;
}
