/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-rcu.h"

#define STRIPES 16
#define CACHE_LINE 64

/* one cache line each: the struct is allocated cache-line aligned */
typedef struct
{
  gint count[2];
  gchar padding[CACHE_LINE - 2 * sizeof(gint)];
} Stripe;

struct _ThreatqMatchRcu
{
  Stripe stripes[STRIPES];
  gint phase;
};

ThreatqMatchRcu *
threatq_match_rcu_new(void)
{
  ThreatqMatchRcu *self = g_aligned_alloc0(1, sizeof(ThreatqMatchRcu), CACHE_LINE);
  return self;
}

void
threatq_match_rcu_free(ThreatqMatchRcu *self)
{
  g_aligned_free(self);
}

/*
 * A reader's stripe from its stack address: threads have their own stacks,
 * so they mostly count on lines of their own, with no thread-local variable
 * (in a module, each access to one is a call to __tls_get_addr(), which perf
 * showed on every log line).  The stripe travels in the token: a thread that
 * lands on another stripe next time is still counted right.
 */
static guint
_stripe_of_this_thread(void)
{
  guint64 page = (guint64) (guintptr) __builtin_frame_address(0) >> 16;

  return (guint) ((page * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)) >> 60) % STRIPES;
}

/*
 * Sequentially consistent atomics: the increment must be ordered before the
 * reader's loads of the structure, and the writer's unlinking store before
 * its phase flip and its reading of the counters.
 */
guint
threatq_match_rcu_read_lock(ThreatqMatchRcu *self)
{
  guint stripe = _stripe_of_this_thread();
  guint phase = (guint) __atomic_load_n(&self->phase, __ATOMIC_SEQ_CST);

  __atomic_fetch_add(&self->stripes[stripe].count[phase], 1, __ATOMIC_SEQ_CST);
  return stripe << 1 | phase;
}

void
threatq_match_rcu_read_unlock(ThreatqMatchRcu *self, guint token)
{
  __atomic_fetch_sub(&self->stripes[token >> 1].count[token & 1], 1, __ATOMIC_RELEASE);
}

static gboolean
_phase_drained(ThreatqMatchRcu *self, guint phase)
{
  for (guint i = 0; i < STRIPES; i++)
    if (__atomic_load_n(&self->stripes[i].count[phase], __ATOMIC_SEQ_CST) != 0)
      return FALSE;
  return TRUE;
}

static void
_flip_and_wait(ThreatqMatchRcu *self)
{
  guint old_phase = (guint) __atomic_load_n(&self->phase, __ATOMIC_SEQ_CST);

  __atomic_store_n(&self->phase, (gint) (old_phase ^ 1), __ATOMIC_SEQ_CST);
  for (guint spins = 0; !_phase_drained(self, old_phase); spins++)
    {
      /* readers hold a section for microseconds: yield first, then sleep */
      if (spins < 100)
        g_thread_yield();
      else
        g_usleep(50);
    }
}

void
threatq_match_rcu_synchronize(ThreatqMatchRcu *self)
{
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  _flip_and_wait(self);
  _flip_and_wait(self);
}
