/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-filter.h"

#define BLOCK_WORDS 8
#define BLOCK_BITS (BLOCK_WORDS * 64)
#define BITS_PER_KEY 10
#define CACHE_LINE 64

struct _ThreatqMatchFilter
{
  guint64 *blocks;              /* BLOCK_WORDS words a block, aligned to a cache line */
  gsize block_count;
  gsize capacity;
  gsize added;
  gsize size;
};

ThreatqMatchFilter *
threatq_match_filter_new(gsize capacity)
{
  gsize block_count = MAX((capacity * BITS_PER_KEY + BLOCK_BITS - 1) / BLOCK_BITS, 1);
  gsize bytes = block_count * BLOCK_WORDS * sizeof(guint64);
  gsize header = (sizeof(ThreatqMatchFilter) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
  /* one g_malloc: the set retires an old filter with the table slots it frees with g_free() */
  ThreatqMatchFilter *self = g_malloc0(header + bytes + CACHE_LINE);
  guintptr start = ((guintptr) self + header + CACHE_LINE - 1) & ~(guintptr) (CACHE_LINE - 1);

  self->blocks = (guint64 *) start;
  self->block_count = block_count;
  self->capacity = capacity;
  self->size = header + bytes + CACHE_LINE;
  return self;
}

/* the block from the hash's value (multiply-shift: any block count), the bits from its mix */
static const guint64 *
_block(const ThreatqMatchFilter *self, guint32 hash)
{
  return self->blocks + (((guint64) hash * self->block_count) >> 32) * BLOCK_WORDS;
}

static guint64
_bits(guint32 hash)
{
  guint64 h = (guint64) hash * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
  return h ^ (h >> 29);
}

void
threatq_match_filter_add(ThreatqMatchFilter *self, guint32 hash)
{
  guint64 *block = (guint64 *) _block(self, hash);
  guint64 bits = _bits(hash);

  for (guint i = 0; i < BLOCK_WORDS; i++)
    __atomic_fetch_or(&block[i], G_GUINT64_CONSTANT(1) << ((bits >> (6 * i)) & 63), __ATOMIC_RELAXED);
  self->added++;
}

/* the bit of word i the hash asks for that the block lacks (0 when set) */
static inline guint64
_lacks(const guint64 *block, guint64 bits, guint i)
{
  return ~__atomic_load_n(&block[i], __ATOMIC_RELAXED) & (G_GUINT64_CONSTANT(1) << ((bits >> (6 * i)) & 63));
}

/*
 * Written out, without an early exit: the eight words are one cache line, and
 * a branch a word (taken about half of the time on a miss) cost more than the
 * loads it saved (bench/match/run.sh: 2.53 against 3.0 million lookups a CPU-second).
 */
gboolean
threatq_match_filter_may_contain(const ThreatqMatchFilter *self, guint32 hash)
{
  const guint64 *block = _block(self, hash);
  guint64 bits = _bits(hash);

  return (_lacks(block, bits, 0) | _lacks(block, bits, 1) | _lacks(block, bits, 2) | _lacks(block, bits, 3)
          | _lacks(block, bits, 4) | _lacks(block, bits, 5) | _lacks(block, bits, 6) | _lacks(block, bits, 7)) == 0;
}

gsize
threatq_match_filter_added(const ThreatqMatchFilter *self)
{
  return self->added;
}

gsize
threatq_match_filter_capacity(const ThreatqMatchFilter *self)
{
  return self->capacity;
}

gsize
threatq_match_filter_size(const ThreatqMatchFilter *self)
{
  return self->size;
}
