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
 * Threads: one writer (the set's, under its lock) adds keys with atomic ORs
 * and never clears a bit; readers test without a lock.  A removed key keeps
 * its bits until the set builds a new filter (threatq_match_filter_new() and
 * _add() on the writer's side, then an atomic publish), which a reader sees
 * complete.  The writer adds a key BEFORE it links the entry, so a reader
 * that can see the entry sees its bits: never a false "no".
 */
typedef struct _ThreatqMatchFilter ThreatqMatchFilter;

/* room for capacity keys at about 10 bits each; one allocation, freed with g_free() */
ThreatqMatchFilter *threatq_match_filter_new(gsize capacity);
void threatq_match_filter_add(ThreatqMatchFilter *self, guint32 hash);
gboolean threatq_match_filter_may_contain(const ThreatqMatchFilter *self, guint32 hash);

/* writer side: keys added since creation (removals do not count down), and what it was sized for */
gsize threatq_match_filter_added(const ThreatqMatchFilter *self);
gsize threatq_match_filter_capacity(const ThreatqMatchFilter *self);
gsize threatq_match_filter_size(const ThreatqMatchFilter *self);

#endif
