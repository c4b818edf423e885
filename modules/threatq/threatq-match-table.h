/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An open-addressing hash table of pointers (linear probing, at most half
 * full, tombstones for removals) that one writer changes while any number of
 * readers probe it without a lock.
 *
 * The writer stores a slot with one atomic pointer store, after the item is
 * complete; a removal stores a tombstone, so probe chains stay intact.  When
 * an insert would fill more than half the slots, the table is rebuilt into
 * new slots, published with one atomic store; the old slots are handed back
 * to the caller, who frees them once no reader can use them (RCU).  Items
 * with equal keys each take a slot: a probe visits them all.
 *
 * The table knows items only by the hash the caller gives; it never frees
 * an item.  Writer functions: one thread at a time.  Readers: any thread,
 * inside the caller's read section.
 */
#ifndef THREATQ_MATCH_TABLE_H_INCLUDED
#define THREATQ_MATCH_TABLE_H_INCLUDED

#include <glib.h>

typedef struct _ThreatqMatchSlots
{
  gsize mask;              /* capacity - 1; capacity a power of two */
  guint32 *hashes;         /* with_hashes: each slot's hash (after slots[]), so a probe skips other keys unread */
  gpointer slots[];
} ThreatqMatchSlots;

typedef guint32 (*ThreatqMatchHashFunc)(gconstpointer item);

typedef struct _ThreatqMatchTable
{
  ThreatqMatchSlots *slots;    /* read with threatq_match_table_slots() */
  ThreatqMatchHashFunc hash_of;
  gboolean with_hashes;
  gsize live;
  gsize used;                  /* live + tombstones */
} ThreatqMatchTable;

typedef struct _ThreatqMatchProbe
{
  const ThreatqMatchSlots *slots;
  gsize index;
  gsize visited;
  guint32 hash;
} ThreatqMatchProbe;

/*
 * with_hashes: 4 more bytes a slot buy probes that read no item of another
 * key, and rebuilds that read no item at all; for the tables lookups walk.
 */
void threatq_match_table_init(ThreatqMatchTable *self, ThreatqMatchHashFunc hash_of, gboolean with_hashes);
/* frees the slots, not the items; no reader may be left */
void threatq_match_table_clear(ThreatqMatchTable *self);

/* *retired: the slots replaced by a rebuild (free with g_free once unused), else NULL */
void threatq_match_table_insert(ThreatqMatchTable *self, gpointer item, ThreatqMatchSlots **retired);
/* rebuilds for count items now rather than in steps as they come (a bulk load); *retired as above */
void threatq_match_table_reserve(ThreatqMatchTable *self, gsize count, ThreatqMatchSlots **retired);
gboolean threatq_match_table_remove(ThreatqMatchTable *self, gconstpointer item);

/* the table's bytes (slots), for memory accounting */
gsize threatq_match_table_size(const ThreatqMatchTable *self);

/* reader side */
static inline const ThreatqMatchSlots *
threatq_match_table_slots(const ThreatqMatchTable *self)
{
  return __atomic_load_n(&self->slots, __ATOMIC_ACQUIRE);
}
void threatq_match_probe_init(ThreatqMatchProbe *probe, const ThreatqMatchSlots *slots, guint32 hash);
/* the next item of the probe chain (not a tombstone; with hashes, of the probe's hash), NULL at the chain's end */
gpointer threatq_match_probe_next(ThreatqMatchProbe *probe);

/* every item in slot order; writer side (or with no writer) */
gpointer threatq_match_slots_item(const ThreatqMatchSlots *slots, gsize index);

#endif
