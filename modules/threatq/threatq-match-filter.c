/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-filter.h"

#define BLOCK_BITS (THREATQ_MATCH_FILTER_BLOCK_WORDS * 64)
#define BITS_PER_KEY 10
#define CACHE_LINE 64

ThreatqMatchFilter *
threatq_match_filter_new(gsize capacity)
{
  gsize block_count = MAX((capacity * BITS_PER_KEY + BLOCK_BITS - 1) / BLOCK_BITS, 1);
  gsize block_bytes = block_count * THREATQ_MATCH_FILTER_BLOCK_WORDS * sizeof(guint64);
  gsize bytes = block_bytes + THREATQ_MATCH_FILTER_MARKS / 8;
  gsize header = (sizeof(ThreatqMatchFilter) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
  /* one g_malloc: the set retires an old filter with the table slots it frees with g_free() */
  ThreatqMatchFilter *self = g_malloc0(header + bytes + CACHE_LINE);
  guintptr start = ((guintptr) self + header + CACHE_LINE - 1) & ~(guintptr) (CACHE_LINE - 1);

  self->blocks = (guint64 *) start;
  self->marks = (guint64 *) (start + block_bytes);
  self->block_count = block_count;
  self->capacity = capacity;
  self->size = header + bytes + CACHE_LINE;
  return self;
}

void
threatq_match_filter_set(ThreatqMatchFilter *self, guint32 place, guint32 hash)
{
  guint64 *block = (guint64 *) threatq_match_filter_block_(self, place);
  guint64 bits = threatq_match_filter_bits_(hash);

  for (guint i = 0; i < THREATQ_MATCH_FILTER_BLOCK_WORDS; i++)
    __atomic_fetch_or(&block[i], G_GUINT64_CONSTANT(1) << ((bits >> (6 * i)) & 63), __ATOMIC_RELAXED);
}

void
threatq_match_filter_mark(ThreatqMatchFilter *self, guint32 index)
{
  g_assert(index < THREATQ_MATCH_FILTER_MARKS);
  __atomic_fetch_or(&self->marks[index / 64], G_GUINT64_CONSTANT(1) << (index % 64), __ATOMIC_RELAXED);
}

void
threatq_match_filter_add(ThreatqMatchFilter *self, guint32 place, guint32 hash)
{
  threatq_match_filter_set(self, place, hash);
  self->added++;
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
