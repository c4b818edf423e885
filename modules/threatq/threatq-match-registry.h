/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a threatq-match() parser finds the indicator set of the threatq()
 * source it names: a process-global table from source name to a shared,
 * refcounted entry.  Whichever of the source and the parser initialises
 * first creates the entry; the last unref removes it.
 *
 * Ownership: the entry owns the attached set and frees it with the entry.
 * A source keeps its reference across a reload in the configuration's
 * persist state, so the live set reaches the new configuration.
 *
 * Threads: acquire/ref/unref from any thread (a mutex guards the table and
 * the counts); get_set and is_wanted are atomic loads, cheap enough for a
 * parser's every message.  attach_set and take_set belong to the source:
 * attach_set publishes a set while parsers may already be running, which is
 * safe only when no set was attached (a parser sees NULL or the new set);
 * take_set, and attach_set over an attached set, only while no parser can
 * be processing a message (driver init and deinit: syslog-ng stops the
 * workers while it applies a configuration), or when no parser wants the
 * set.
 */
#ifndef THREATQ_MATCH_REGISTRY_H_INCLUDED
#define THREATQ_MATCH_REGISTRY_H_INCLUDED

#include "threatq-match-set.h"

/* one per threatq() source name that a parser or the source asked for; refcounted, thread-safe */
typedef struct _ThreatqMatchShared ThreatqMatchShared;

/* the entry of source_name, created empty when absent (whichever of source and parser inits first) */
ThreatqMatchShared *threatq_match_registry_acquire(const gchar *source_name);
ThreatqMatchShared *threatq_match_shared_ref(ThreatqMatchShared *self);
void threatq_match_shared_unref(ThreatqMatchShared *self);   /* last unref removes it from the registry */

/* the set the source feeds; NULL until the source has attached one (parsers then match nothing) */
ThreatqMatchSet *threatq_match_shared_get_set(ThreatqMatchShared *self);   /* atomic load */
/* the source's side */
void threatq_match_shared_attach_set(ThreatqMatchShared *self, ThreatqMatchSet *set);  /* takes ownership */
/* a parser says it wants the set: the source builds it only when wanted */
void threatq_match_shared_want(ThreatqMatchShared *self);
gboolean threatq_match_shared_is_wanted(ThreatqMatchShared *self);

/*
 * The source's side, beyond the fixed interface above: detaches the set and
 * gives it to the caller (NULL when none); and forgets the wants, at the
 * source's deinit, so a configuration without a parser stops the feeding
 * (the parsers of the next configuration want again at their init).
 */
ThreatqMatchSet *threatq_match_shared_take_set(ThreatqMatchShared *self);
void threatq_match_shared_forget_wants(ThreatqMatchShared *self);

/*
 * One source feeds an entry: a source statement with two threatq() drivers
 * has one name for both.  claim is TRUE for the first owner (or the same one
 * again) and FALSE while another holds it; release gives it up.
 */
gboolean threatq_match_shared_claim(ThreatqMatchShared *self, gconstpointer owner);
void threatq_match_shared_release(ThreatqMatchShared *self, gconstpointer owner);

/* the source name of the entry (for log messages) */
const gchar *threatq_match_shared_get_name(ThreatqMatchShared *self);

#endif
