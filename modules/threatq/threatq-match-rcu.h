/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read-copy-update for the threatq-match() set: readers never wait, a
 * writer that unlinked something waits until no reader can still hold it.
 *
 * A reader marks itself in one of two phase counters (spread over stripes,
 * one cache line each, so reader threads do not bounce one line) for as long
 * as it uses what it found; threatq_match_rcu_synchronize() flips the phase
 * twice and each time waits for the counter of the phase it left to drain.
 * Two flips, because a reader that read the phase just before a flip may
 * count itself in the old phase after the writer's first wait looked at it:
 * the second wait catches it.  This is the scheme of SRCU and liburcu's
 * "memb" flavour, without their per-thread registration.
 *
 * Threads: read_lock/read_unlock from any thread, any number at once, and
 * nested; synchronize from one writer at a time (the caller's lock) and never
 * inside a read section of the same thread (it would wait for itself).
 */
#ifndef THREATQ_MATCH_RCU_H_INCLUDED
#define THREATQ_MATCH_RCU_H_INCLUDED

#include <glib.h>

typedef struct _ThreatqMatchRcu ThreatqMatchRcu;

ThreatqMatchRcu *threatq_match_rcu_new(void);
void threatq_match_rcu_free(ThreatqMatchRcu *self);

/* returns the token to give back to read_unlock */
guint threatq_match_rcu_read_lock(ThreatqMatchRcu *self);
void threatq_match_rcu_read_unlock(ThreatqMatchRcu *self, guint token);

/* returns once every read section that began before the call has ended */
void threatq_match_rcu_synchronize(ThreatqMatchRcu *self);

#endif
