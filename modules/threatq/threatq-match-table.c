/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-table.h"

#define MIN_CAPACITY 16

static const gchar tombstone_mark;
#define TOMBSTONE ((gpointer) &tombstone_mark)

static ThreatqMatchSlots *
_slots_new(gsize capacity, gboolean with_hashes)
{
  gsize size = sizeof(ThreatqMatchSlots) + capacity * sizeof(gpointer);
  ThreatqMatchSlots *slots = g_malloc0(size + (with_hashes ? capacity * sizeof(guint32) : 0));

  slots->mask = capacity - 1;
  slots->hashes = with_hashes ? (guint32 *) ((gchar *) slots + size) : NULL;
  return slots;
}

void
threatq_match_table_init(ThreatqMatchTable *self, ThreatqMatchHashFunc hash_of, gboolean with_hashes)
{
  self->slots = _slots_new(MIN_CAPACITY, with_hashes);
  self->hash_of = hash_of;
  self->with_hashes = with_hashes;
  self->live = 0;
  self->used = 0;
}

void
threatq_match_table_clear(ThreatqMatchTable *self)
{
  g_free(self->slots);
  self->slots = NULL;
  self->live = self->used = 0;
}

gsize
threatq_match_table_size(const ThreatqMatchTable *self)
{
  return sizeof(ThreatqMatchSlots) + (self->slots->mask + 1) * (sizeof(gpointer) + (self->with_hashes ? 4 : 0));
}

/* the first free or tombstone slot of hash's chain (the table is never full) */
static gsize
_free_slot(ThreatqMatchSlots *slots, guint32 hash)
{
  gsize index = hash & slots->mask;
  while (slots->slots[index] && slots->slots[index] != TOMBSTONE)
    index = (index + 1) & slots->mask;
  return index;
}

/* with hashes, 0 marks a free slot: a hash of 0 is kept as 1 (the caller compares keys anyway) */
static guint32
_stored_hash(guint32 hash)
{
  return hash ? hash : 1;
}

/*
 * With hashes a probe reads the hashes alone (4 bytes a slot, 16 slots a
 * cache line) and the item only where the hash is its own: the item is
 * published first and the hash after it, so a reader that sees the hash
 * sees the item.  Without, the item is all there is.
 */
static void
_fill(ThreatqMatchSlots *slots, gsize index, gpointer item, guint32 hash)
{
  __atomic_store_n(&slots->slots[index], item, __ATOMIC_RELEASE);
  if (slots->hashes)
    __atomic_store_n(&slots->hashes[index], _stored_hash(hash), __ATOMIC_RELEASE);
}

/* the new slots are complete before they are published */
static ThreatqMatchSlots *
_rebuild(ThreatqMatchTable *self, gsize count)
{
  gsize capacity = MIN_CAPACITY;
  while (capacity < (count + 1) * 2)
    capacity *= 2;

  ThreatqMatchSlots *old = self->slots;
  ThreatqMatchSlots *slots = _slots_new(capacity, self->with_hashes);
  for (gsize i = 0; i <= old->mask; i++)
    {
      gpointer item = old->slots[i];
      if (!item || item == TOMBSTONE)
        continue;
      guint32 hash = old->hashes && old->hashes[i] != 1 ? old->hashes[i] : self->hash_of(item);
      _fill(slots, _free_slot(slots, hash), item, hash);
    }
  __atomic_store_n(&self->slots, slots, __ATOMIC_RELEASE);
  self->used = self->live;
  return old;
}

void
threatq_match_table_reserve(ThreatqMatchTable *self, gsize count, ThreatqMatchSlots **retired)
{
  *retired = NULL;
  if ((MAX(count, self->live) + 1) * 2 > self->slots->mask + 1)
    *retired = _rebuild(self, MAX(count, self->live));
}

void
threatq_match_table_insert(ThreatqMatchTable *self, gpointer item, ThreatqMatchSlots **retired)
{
  *retired = NULL;
  if ((self->used + 1) * 2 > self->slots->mask + 1)
    *retired = _rebuild(self, self->live + 1);

  ThreatqMatchSlots *slots = self->slots;
  guint32 hash = self->hash_of(item);
  gsize index = _free_slot(slots, hash);
  if (!slots->slots[index])
    self->used++;
  self->live++;
  _fill(slots, index, item, hash);
}

gboolean
threatq_match_table_remove(ThreatqMatchTable *self, gconstpointer item)
{
  ThreatqMatchSlots *slots = self->slots;

  for (gsize index = self->hash_of(item) & slots->mask; slots->slots[index]; index = (index + 1) & slots->mask)
    if (slots->slots[index] == item)
      {
        __atomic_store_n(&slots->slots[index], TOMBSTONE, __ATOMIC_RELEASE);
        self->live--;
        return TRUE;
      }
  return FALSE;
}

void
threatq_match_probe_init(ThreatqMatchProbe *probe, const ThreatqMatchSlots *slots, guint32 hash)
{
  probe->slots = slots;
  probe->index = hash & slots->mask;
  probe->visited = 0;
  probe->hash = _stored_hash(hash);
}

/*
 * A reader may see a slot turn from NULL to an item behind its back (the
 * chain then ends a little later) but never the reverse: slots only become
 * NULL in a rebuild, which writes new slots.  The visited bound is a guard.
 */
gpointer
threatq_match_probe_next(ThreatqMatchProbe *probe)
{
  const ThreatqMatchSlots *slots = probe->slots;

  while (probe->visited <= slots->mask)
    {
      gsize index = probe->index;
      gpointer item = NULL;
      if (slots->hashes)
        {
          guint32 hash = __atomic_load_n(&slots->hashes[index], __ATOMIC_ACQUIRE);
          if (!hash)
            return NULL;
          /* the hash may be older than the item (a reused slot): the caller compares keys */
          if (hash == probe->hash)
            item = __atomic_load_n(&slots->slots[index], __ATOMIC_ACQUIRE);
        }
      else if (!(item = __atomic_load_n(&slots->slots[index], __ATOMIC_ACQUIRE)))
        return NULL;
      probe->index = (index + 1) & slots->mask;
      probe->visited++;
      if (item && item != TOMBSTONE)
        return item;
    }
  return NULL;
}

gpointer
threatq_match_slots_item(const ThreatqMatchSlots *slots, gsize index)
{
  gpointer item = slots->slots[index];
  return item == TOMBSTONE ? NULL : item;
}
