/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-cursor-record.h"

#include <string.h>

gboolean
threatq_cursor_is_valid(const gchar *cursor, gsize length, gchar *problem, gsize problem_size)
{
  if (length == 0)
    {
      g_strlcpy(problem, "nextCursorMark is empty", problem_size);
      return FALSE;
    }
  if (length > THREATQ_CURSOR_MAX_LENGTH)
    {
      g_snprintf(problem, problem_size, "nextCursorMark is %" G_GSIZE_FORMAT " bytes long, more than %d",
                 length, THREATQ_CURSOR_MAX_LENGTH);
      return FALSE;
    }
  for (gsize i = 0; i < length; i++)
    if (cursor[i] <= ' ' || cursor[i] > '~')
      {
        g_snprintf(problem, problem_size, "nextCursorMark has a byte that is not visible ASCII (0x%02x at %"
                   G_GSIZE_FORMAT ")", (guint) (guchar) cursor[i], i);
        return FALSE;
      }
  return TRUE;
}

/* FNV-1a, 32 bits: detects a torn slot, not an adversary (the persist file is ours) */
static guint32
_fnv1a(guint32 hash, const void *data, gsize length)
{
  const guchar *bytes = data;
  for (gsize i = 0; i < length; i++)
    hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

static guint32
_slot_checksum(const ThreatqCursorSlot *slot)
{
  guint32 hash = _fnv1a(2166136261u, &slot->sequence, sizeof(slot->sequence));
  hash = _fnv1a(hash, &slot->length, sizeof(slot->length));
  return _fnv1a(hash, slot->cursor, MIN(slot->length, THREATQ_CURSOR_MAX_LENGTH));
}

static gboolean
_slot_intact(const ThreatqCursorSlot *slot)
{
  return slot->sequence != 0 && slot->length > 0 && slot->length <= THREATQ_CURSOR_MAX_LENGTH
         && slot->checksum == _slot_checksum(slot);
}

/* index of the current slot, -1 when neither is intact; sequence numbers compare modulo 2^32 */
static gint
_current_slot(const ThreatqCursorRecord *self)
{
  gboolean intact0 = _slot_intact(&self->slots[0]);
  gboolean intact1 = _slot_intact(&self->slots[1]);

  if (intact0 && intact1)
    return (gint32) (self->slots[1].sequence - self->slots[0].sequence) > 0 ? 1 : 0;
  return intact0 ? 0 : intact1 ? 1 : -1;
}

void
threatq_cursor_record_init(ThreatqCursorRecord *self, const gchar *collection, const gchar *url)
{
  memset(self, 0, sizeof(*self));
  g_strlcpy(self->collection, collection, sizeof(self->collection));
  g_strlcpy(self->url, url, sizeof(self->url));
}

gboolean
threatq_cursor_record_belongs_to(const ThreatqCursorRecord *self, const gchar *collection)
{
  return strnlen(self->collection, sizeof(self->collection)) < sizeof(self->collection)
         && strcmp(self->collection, collection) == 0;
}

gboolean
threatq_cursor_record_read(const ThreatqCursorRecord *self, gchar *cursor)
{
  gint current = _current_slot(self);

  if (current < 0)
    return FALSE;
  const ThreatqCursorSlot *slot = &self->slots[current];
  memcpy(cursor, slot->cursor, slot->length);
  cursor[slot->length] = '\0';
  return TRUE;
}

gboolean
threatq_cursor_record_write(ThreatqCursorRecord *self, const gchar *cursor, gsize length)
{
  gchar problem[128];

  if (!threatq_cursor_is_valid(cursor, length, problem, sizeof(problem)))
    return FALSE;

  gint current = _current_slot(self);
  guint32 sequence = current < 0 ? 1 : self->slots[current].sequence + 1;
  ThreatqCursorSlot *target = &self->slots[current == 0 ? 1 : 0];

  if (sequence == 0)
    sequence = 1;
  /* the current slot is not touched: if this write is torn, it stays the one read */
  target->sequence = 0;
  target->length = (guint32) length;
  memcpy(target->cursor, cursor, length);
  target->sequence = sequence;
  target->checksum = _slot_checksum(target);
  return TRUE;
}
