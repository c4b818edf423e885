/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-cursor.h"
#include "threatq-cursor-record.h"
#include "persistable-state-header.h"
#include "messages.h"

#include <string.h>

/* version 1: one length and one buffer, written separately (could be read torn) */
#define THREATQ_CURSOR_STATE_V1 1
#define THREATQ_CURSOR_V1_MAX_LENGTH 1024
/* version 2: the collection it belongs to, two checksummed slots (threatq-cursor-record.h) */
#define THREATQ_CURSOR_STATE_VERSION 2

typedef struct _ThreatqCursorStateV1
{
  PersistableStateHeader header;
  guint32 length;
  gchar cursor[THREATQ_CURSOR_V1_MAX_LENGTH];
} ThreatqCursorStateV1;

typedef struct _ThreatqCursorState
{
  PersistableStateHeader header;
  ThreatqCursorRecord record;
} ThreatqCursorState;

typedef struct _ThreatqBookmarkData
{
  PersistEntryHandle handle;
  GRefString *cursor;
} ThreatqBookmarkData;

G_STATIC_ASSERT(sizeof(ThreatqBookmarkData) <= sizeof(BookmarkContainer));

/* the entry's layout version, 0 when it is too small for the one it claims */
static guint8
_stored_version(PersistState *state, PersistEntryHandle handle, gsize size)
{
  if (size < sizeof(PersistableStateHeader))
    return 0;
  PersistableStateHeader *header = persist_state_map_entry(state, handle);
  guint8 version = header->version;
  persist_state_unmap_entry(state, handle);

  if (version == THREATQ_CURSOR_STATE_VERSION && size >= sizeof(ThreatqCursorState))
    return version;
  if (version == THREATQ_CURSOR_STATE_V1 && size >= sizeof(ThreatqCursorStateV1))
    return version;
  return 0;
}

/* the cursor of a version 1 entry, if it is one we would accept from the server now */
static gchar *
_read_v1(PersistState *state, PersistEntryHandle handle)
{
  ThreatqCursorStateV1 *stored = persist_state_map_entry(state, handle);
  gchar problem[128];
  gchar *cursor = NULL;

  if (stored->length < THREATQ_CURSOR_V1_MAX_LENGTH
      && threatq_cursor_is_valid(stored->cursor, stored->length, problem, sizeof(problem)))
    cursor = g_strndup(stored->cursor, stored->length);
  persist_state_unmap_entry(state, handle);
  return cursor;
}

static gboolean
_create(ThreatqCursorStore *self, const gchar *persist_name, const gchar *collection, const gchar *url,
        const gchar *cursor)
{
  self->handle = persist_state_alloc_entry(self->state, persist_name, sizeof(ThreatqCursorState));
  if (!self->handle)
    return FALSE;

  ThreatqCursorState *stored = persist_state_map_entry(self->state, self->handle);
  memset(stored, 0, sizeof(*stored));
  stored->header.version = THREATQ_CURSOR_STATE_VERSION;
  threatq_cursor_record_init(&stored->record, collection, url);
  if (cursor)
    threatq_cursor_record_write(&stored->record, cursor, strlen(cursor));
  persist_state_unmap_entry(self->state, self->handle);
  return TRUE;
}

/* a version 2 entry: kept if it is this collection's, else emptied with a warning */
static void
_claim(ThreatqCursorStore *self, const gchar *persist_name, const gchar *collection, const gchar *url)
{
  ThreatqCursorState *stored = persist_state_map_entry(self->state, self->handle);

  if (!threatq_cursor_record_belongs_to(&stored->record, collection))
    {
      gchar *other = g_strndup(stored->record.collection, THREATQ_CURSOR_COLLECTION_MAX);
      msg_warning("threatq: the stored cursor belongs to another collection, starting this one from the beginning",
                  evt_tag_str("driver", self->driver_id), evt_tag_str("persist_name", persist_name), evt_tag_str("stored_collection", other),
                  evt_tag_str("collection", collection));
      g_free(other);
      threatq_cursor_record_init(&stored->record, collection, url);
    }
  persist_state_unmap_entry(self->state, self->handle);
}

gboolean
threatq_cursor_store_open(ThreatqCursorStore *self, PersistState *state, const gchar *driver_id,
                          const gchar *persist_name, const gchar *collection, const gchar *url)
{
  gsize size = 0;
  guint8 entry_format = 0;

  self->state = state;
  self->driver_id = driver_id;
  self->handle = persist_state_lookup_entry(state, persist_name, &size, &entry_format);
  guint8 version = self->handle ? _stored_version(state, self->handle, size) : 0;

  if (version == THREATQ_CURSOR_STATE_VERSION)
    {
      _claim(self, persist_name, collection, url);
      return TRUE;
    }
  if (version == THREATQ_CURSOR_STATE_V1)
    {
      /* written by an older threatq(): its persist name was the identity */
      gchar *cursor = _read_v1(state, self->handle);
      gboolean created = _create(self, persist_name, collection, url, cursor);
      msg_info("threatq: upgraded the stored cursor to the checksummed layout",
               evt_tag_str("driver", self->driver_id), evt_tag_str("persist_name", persist_name), evt_tag_str("collection", collection));
      g_free(cursor);
      return created;
    }
  if (self->handle)
    msg_warning("threatq: the stored cursor has an unknown layout, starting the collection from the beginning",
                evt_tag_str("driver", self->driver_id), evt_tag_str("persist_name", persist_name));
  return _create(self, persist_name, collection, url, NULL);
}

GRefString *
threatq_cursor_store_load(ThreatqCursorStore *self)
{
  ThreatqCursorState *stored = persist_state_map_entry(self->state, self->handle);
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH + 1];
  gboolean found = threatq_cursor_record_read(&stored->record, cursor);

  persist_state_unmap_entry(self->state, self->handle);
  return g_ref_string_new(found ? cursor : THREATQ_CURSOR_START);
}

/* The tracker gives the bookmark the live persist state, which outlives this driver on reload. */
static void
_save(PersistState *state, ThreatqBookmarkData *data)
{
  ThreatqCursorState *stored = persist_state_map_entry(state, data->handle);
  gboolean written = threatq_cursor_record_write(&stored->record, data->cursor, strlen(data->cursor));
  persist_state_unmap_entry(state, data->handle);

  /* the reader only uses cursors that pass the same check: this is a bug, not the server.
   * No driver tag: the bookmark may outlive its driver across a reload. */
  if (!written)
    msg_error("threatq: cursor cannot be stored, keeping the previous one",
              evt_tag_int("length", strlen(data->cursor)));
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
