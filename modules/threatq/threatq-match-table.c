/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-table.h"

#define MIN_CAPACITY 16

static const gchar tombstone_mark;
#define TOMBSTONE ((gpointer) &tombstone_mark)

static ThreatqMatchSlots *
_slots_new(gsize capacity)
{
  ThreatqMatchSlots *slots = g_malloc0(sizeof(ThreatqMatchSlots) + capacity * sizeof(gpointer));
  slots->mask = capacity - 1;
  return slots;
}

void
threatq_match_table_init(ThreatqMatchTable *self, ThreatqMatchHashFunc hash_of)
{
  self->slots = _slots_new(MIN_CAPACITY);
  self->hash_of = hash_of;
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
  return sizeof(ThreatqMatchSlots) + (self->slots->mask + 1) * sizeof(gpointer);
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

/* the new slots are filled before they are published, so no atomics inside */
static ThreatqMatchSlots *
_rebuild(ThreatqMatchTable *self)
{
  gsize capacity = MIN_CAPACITY;
  while (capacity < (self->live + 1) * 2)
    capacity *= 2;

  ThreatqMatchSlots *old = self->slots;
  ThreatqMatchSlots *slots = _slots_new(capacity);
  for (gsize i = 0; i <= old->mask; i++)
    {
      gpointer item = old->slots[i];
      if (item && item != TOMBSTONE)
        slots->slots[_free_slot(slots, self->hash_of(item))] = item;
    }
  __atomic_store_n(&self->slots, slots, __ATOMIC_RELEASE);
  self->used = self->live;
  return old;
}

void
threatq_match_table_insert(ThreatqMatchTable *self, gpointer item, ThreatqMatchSlots **retired)
{
  *retired = NULL;
  if ((self->used + 1) * 2 > self->slots->mask + 1)
    *retired = _rebuild(self);

  ThreatqMatchSlots *slots = self->slots;
  gsize index = _free_slot(slots, self->hash_of(item));
  if (!slots->slots[index])
    self->used++;
  self->live++;
  __atomic_store_n(&slots->slots[index], item, __ATOMIC_RELEASE);
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

const ThreatqMatchSlots *
threatq_match_table_slots(const ThreatqMatchTable *self)
{
  return __atomic_load_n(&self->slots, __ATOMIC_ACQUIRE);
}

void
threatq_match_probe_init(ThreatqMatchProbe *probe, const ThreatqMatchSlots *slots, guint32 hash)
{
  probe->slots = slots;
  probe->index = hash & slots->mask;
  probe->visited = 0;
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
      gpointer item = __atomic_load_n(&slots->slots[probe->index], __ATOMIC_ACQUIRE);
      if (!item)
        return NULL;
      probe->index = (probe->index + 1) & slots->mask;
      probe->visited++;
      if (item != TOMBSTONE)
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
