/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-registry.h"

struct _ThreatqMatchShared
{
  gint ref_cnt;                 /* under registry_lock: acquire must not revive an entry being freed */
  gchar *source_name;
  ThreatqMatchSet *set;         /* atomic */
  gint wanted;                  /* atomic */
  gconstpointer owner;          /* under registry_lock: the source that feeds it */
};

static GMutex registry_lock;
static GHashTable *registry;    /* source name (owned by the entry) -> ThreatqMatchShared *, not owning */

ThreatqMatchShared *
threatq_match_registry_acquire(const gchar *source_name)
{
  g_return_val_if_fail(source_name != NULL, NULL);

  g_mutex_lock(&registry_lock);
  if (!registry)
    registry = g_hash_table_new(g_str_hash, g_str_equal);

  ThreatqMatchShared *self = g_hash_table_lookup(registry, source_name);
  if (self)
    {
      self->ref_cnt++;
    }
  else
    {
      self = g_new0(ThreatqMatchShared, 1);
      self->ref_cnt = 1;
      self->source_name = g_strdup(source_name);
      g_hash_table_insert(registry, self->source_name, self);
    }
  g_mutex_unlock(&registry_lock);
  return self;
}

ThreatqMatchShared *
threatq_match_shared_ref(ThreatqMatchShared *self)
{
  g_mutex_lock(&registry_lock);
  g_assert(self->ref_cnt > 0);
  self->ref_cnt++;
  g_mutex_unlock(&registry_lock);
  return self;
}

static void
_shared_free(ThreatqMatchShared *self)
{
  ThreatqMatchSet *set = g_atomic_pointer_get(&self->set);

  if (set)
    threatq_match_set_free(set);
  g_free(self->source_name);
  g_free(self);
}

void
threatq_match_shared_unref(ThreatqMatchShared *self)
{
  if (!self)
    return;

  g_mutex_lock(&registry_lock);
  g_assert(self->ref_cnt > 0);
  gboolean last = (--self->ref_cnt == 0);
  if (last)
    {
      g_hash_table_remove(registry, self->source_name);
      if (g_hash_table_size(registry) == 0)
        g_clear_pointer(&registry, g_hash_table_unref);
    }
  g_mutex_unlock(&registry_lock);

  /* out of the lock: freeing a large set takes a while, and nobody can reach this entry any more */
  if (last)
    _shared_free(self);
}

ThreatqMatchSet *
threatq_match_shared_get_set(ThreatqMatchShared *self)
{
  return g_atomic_pointer_get(&self->set);
}

void
threatq_match_shared_attach_set(ThreatqMatchShared *self, ThreatqMatchSet *set)
{
  ThreatqMatchSet *old = g_atomic_pointer_exchange(&self->set, set);

  if (old && old != set)
    threatq_match_set_free(old);
}

ThreatqMatchSet *
threatq_match_shared_take_set(ThreatqMatchShared *self)
{
  return g_atomic_pointer_exchange(&self->set, NULL);
}

void
threatq_match_shared_want(ThreatqMatchShared *self)
{
  g_atomic_int_set(&self->wanted, TRUE);
}

gboolean
threatq_match_shared_is_wanted(ThreatqMatchShared *self)
{
  return g_atomic_int_get(&self->wanted);
}

void
threatq_match_shared_forget_wants(ThreatqMatchShared *self)
{
  g_atomic_int_set(&self->wanted, FALSE);
}

gboolean
threatq_match_shared_claim(ThreatqMatchShared *self, gconstpointer owner)
{
  g_mutex_lock(&registry_lock);
  gboolean claimed = !self->owner || self->owner == owner;
  if (claimed)
    self->owner = owner;
  g_mutex_unlock(&registry_lock);
  return claimed;
}

void
threatq_match_shared_release(ThreatqMatchShared *self, gconstpointer owner)
{
  g_mutex_lock(&registry_lock);
  if (self->owner == owner)
    self->owner = NULL;
  g_mutex_unlock(&registry_lock);
}

const gchar *
threatq_match_shared_get_name(ThreatqMatchShared *self)
{
  return self->source_name;
}
