/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef THREATQ_MATCH_FILTER_H_INCLUDED
#define THREATQ_MATCH_FILTER_H_INCLUDED

#include <glib.h>

/*
 * A negative filter in front of the set's key tables: a split-block Bloom
 * filter (one 64-byte block a key, one bit in each of its eight words) over
 * the entries' 32-bit key hashes.  "No" means no entry has this hash; "maybe"
 * sends the lookup to the table.  A miss - nearly every log value - then
 * reads one cache line of a filter of about 10 bits an entry instead of a
 * slot of the big hash array.
 *
 * Two hashes a key: `place` chooses the block, `hash` the bits in it.  Most
 * keys use their own hash for both; the set places every prefix length of an
 * address by a coarser region of it (threatq-match-set.c), so that a lookup
 * that walks 17 prefix lengths reads two cache lines here, not 17.
 *
 * Threads: one writer (the set's, under its lock) adds keys with atomic ORs
 * and never clears a bit; readers test without a lock.  A removed key keeps
 * its bits until the set builds a new filter (threatq_match_filter_new() and
 * _add() on the writer's side, then an atomic publish), which a reader sees
 * complete.  The writer adds a key BEFORE it links the entry, so a reader
 * that can see the entry sees its bits: never a false "no".
 *
 * Beside the blocks: marks, a direct-indexed array of
 * THREATQ_MATCH_FILTER_MARKS bits (16 KiB) with the same rules (set before
 * a link, cleared only by a new filter).  The set marks the /8 or /16 of
 * every address block, so that an address in a /16 without blocks skips the
 * region blocks above for a load from a table small enough to stay in cache.
 */
typedef struct _ThreatqMatchFilter ThreatqMatchFilter;

/* room for capacity keys at about 10 bits each; one allocation, freed with g_free() */
ThreatqMatchFilter *threatq_match_filter_new(gsize capacity);
void threatq_match_filter_add(ThreatqMatchFilter *self, guint32 place, guint32 hash);
/* the same bits, not counted against the capacity: a mark that many keys share (a region's) */
void threatq_match_filter_set(ThreatqMatchFilter *self, guint32 place, guint32 hash);
/* index < THREATQ_MATCH_FILTER_MARKS */
void threatq_match_filter_mark(ThreatqMatchFilter *self, guint32 index);

/* writer side: keys added since creation (removals do not count down), and what it was sized for */
gsize threatq_match_filter_added(const ThreatqMatchFilter *self);
gsize threatq_match_filter_capacity(const ThreatqMatchFilter *self);
gsize threatq_match_filter_size(const ThreatqMatchFilter *self);

/* the readers' side, inline: a lookup asks once a present prefix length; fields private */
#define THREATQ_MATCH_FILTER_BLOCK_WORDS 8
#define THREATQ_MATCH_FILTER_MARKS (256 + 2 * 65536)

struct _ThreatqMatchFilter
{
  guint64 *blocks;              /* THREATQ_MATCH_FILTER_BLOCK_WORDS words a block, aligned to a cache line */
  guint64 *marks;               /* THREATQ_MATCH_FILTER_MARKS bits, after the blocks */
  gsize block_count;
  gsize capacity;
  gsize added;
  gsize size;
};

/* the block from the place's value (multiply-shift: any block count), the bits from the hash's mix */
static inline const guint64 *
threatq_match_filter_block_(const ThreatqMatchFilter *self, guint32 place)
{
  return self->blocks + (((guint64) place * self->block_count) >> 32) * THREATQ_MATCH_FILTER_BLOCK_WORDS;
}

static inline guint64
threatq_match_filter_bits_(guint32 hash)
{
  guint64 h = (guint64) hash * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
  return h ^ (h >> 29);
}

/* a lookup that will ask for several places reads their blocks at once (their misses overlap) */
static inline void
threatq_match_filter_prefetch(const ThreatqMatchFilter *self, guint32 place)
{
  __builtin_prefetch(threatq_match_filter_block_(self, place));
}

/* whether the mark at index (< THREATQ_MATCH_FILTER_MARKS) is set */
static inline gboolean
threatq_match_filter_marked(const ThreatqMatchFilter *self, guint32 index)
{
  return (__atomic_load_n(&self->marks[index / 64], __ATOMIC_RELAXED) >> (index % 64)) & 1;
}

/* 1 when word i of the block has the bit the hash asks of it */
static inline guint64
threatq_match_filter_has_(const guint64 *block, guint64 bits, guint i)
{
  return (__atomic_load_n(&block[i], __ATOMIC_RELAXED) >> ((bits >> (6 * i)) & 63)) & 1;
}

/*
 * Written out, without an early exit: the eight words are one cache line, and
 * a branch a word (taken about half of the time on a miss) cost more than the
 * loads it saved (bench/match/run.sh: 2.53 against 3.0 million lookups a CPU-second).
 * A word's bit is shifted down, not its mask up and inverted: without BMI2
 * (baseline x86-64) that is five instructions a word instead of nine.
 */
static inline gboolean
threatq_match_filter_may_contain(const ThreatqMatchFilter *self, guint32 place, guint32 hash)
{
  const guint64 *block = threatq_match_filter_block_(self, place);
  guint64 bits = threatq_match_filter_bits_(hash);

  guint64 has = threatq_match_filter_has_(block, bits, 0) & threatq_match_filter_has_(block, bits, 1);

  has &= threatq_match_filter_has_(block, bits, 2) & threatq_match_filter_has_(block, bits, 3);
  has &= threatq_match_filter_has_(block, bits, 4) & threatq_match_filter_has_(block, bits, 5);
  has &= threatq_match_filter_has_(block, bits, 6) & threatq_match_filter_has_(block, bits, 7);
  return has != 0;
}

#endif
