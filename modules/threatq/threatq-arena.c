/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-arena.h"

#include <string.h>

/* below glibc's mmap threshold, so blocks are recycled by the heap, not the kernel */
#define BLOCK_SIZE (64 * 1024)

typedef struct _Block
{
  struct _Block *next;
  gsize used;
  gsize size;
} Block;

G_STATIC_ASSERT(sizeof(Block) % 8 == 0);

struct _ThreatqArena
{
  gint ref_count;
  Block *blocks;          /* the head is the one being filled */
};

ThreatqArena *
threatq_arena_new(void)
{
  ThreatqArena *self = g_new0(ThreatqArena, 1);
  self->ref_count = 1;
  return self;
}

ThreatqArena *
threatq_arena_ref(ThreatqArena *self)
{
  g_atomic_int_inc(&self->ref_count);
  return self;
}

void
threatq_arena_unref(ThreatqArena *self)
{
  if (!self || !g_atomic_int_dec_and_test(&self->ref_count))
    return;
  for (Block *block = self->blocks, *next; block; block = next)
    {
      next = block->next;
      g_free(block);
    }
  g_free(self);
}

gpointer
threatq_arena_alloc(ThreatqArena *self, gsize size)
{
  Block *block = self->blocks;

  size = (size + 7) & ~(gsize) 7;
  if (G_LIKELY(block && block->size - block->used >= size))
    {
      gpointer p = (gchar *) (block + 1) + block->used;
      block->used += size;
      return p;
    }

  gsize block_size = MAX(BLOCK_SIZE, size);
  Block *fresh = g_malloc(sizeof(Block) + block_size);
  fresh->size = block_size;
  fresh->used = size;
  if (block && size > BLOCK_SIZE / 4)
    {
      /* a big one gets a block of its own; keep filling the current one */
      fresh->next = block->next;
      block->next = fresh;
    }
  else
    {
      fresh->next = block;
      self->blocks = fresh;
    }
  return fresh + 1;
}

gchar *
threatq_arena_strndup(ThreatqArena *self, const gchar *text, gsize length)
{
  gchar *copy = threatq_arena_alloc(self, length + 1);
  memcpy(copy, text, length);
  copy[length] = '\0';
  return copy;
}
