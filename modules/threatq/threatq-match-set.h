/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The indicators a threatq-match() parser matches against: keyed by their
 * normalised value (threatq-match-value.h) for lookups, by ThreatQ id for
 * updates.
 *
 * Lookups: an exact key (hash, e-mail, host name; a URL, and an http(s) URL
 * also in its scheme-less form, for indicators given without), the longest prefix
 * that holds a live indicator for an address (IP indicators are prefixes of
 * full length, CIDR blocks shorter ones; IPv4 and IPv6 apart), and with
 * parent_domains the longest suffix of a host name that does (a.b.example.com,
 * b.example.com, example.com, com).  All the live indicators of that one key
 * are hits; threatq_match_best_hit() picks one.  An entry whose expires_at is
 * not after the lookup's `now` is no hit; nothing has to remove it.
 *
 * Concurrency (see docs/match-design.md): readers take no lock.  A reader
 * brackets its lookups and its use of the entries they return with
 * threatq_match_set_read_begin()/_end(): an atomic increment and decrement
 * on a cache line shared with few other threads, never a wait.  The writer
 * changes the tables in place with single atomic pointer stores (an update
 * inserts the new entry, then removes the old one, so a concurrent lookup
 * sees one or the other or both; a lookup that missed while an update moved
 * an indicator to another key looks again), and frees what it unlinked only
 * after every reader that could have seen it has left (threatq-match-rcu.h).
 * The price is on the writer: it waits for readers now and then
 * (microseconds, once per 1024 retired entries or table rebuild), and
 * unlinked entries live a little longer.  Rejected: a
 * reader-writer lock (readers wait behind a writer and all bounce one cache
 * line) and copy-on-write snapshots of the whole set (1,000,000 entries
 * copied per page of updates).
 *
 * Threads: read_begin/lookup/read_end/best_hit from any number of threads;
 * insert/remove/purge/reclaim from any thread, serialised inside, but never
 * from within a read section (the writer would wait for itself).
 * Entries are owned by the set; a pointer from a lookup is valid until the
 * read section in which it was found ends.
 */
#ifndef THREATQ_MATCH_SET_H_INCLUDED
#define THREATQ_MATCH_SET_H_INCLUDED

#include "threatq-match-value.h"

#define THREATQ_MATCH_NEVER G_MAXUINT32

typedef struct _ThreatqMatchSet ThreatqMatchSet;

/*
 * Read-only for readers.  Times are epoch seconds (ThreatQ's dates have no
 * fractions; 32 bits save 16 bytes an entry and last until 2106), 0 when
 * unknown.
 */
typedef struct _ThreatqMatchEntry
{
  gint64 id;                    /* the ThreatQ indicator id (threatq.id) */
  guint32 updated_at;
  guint32 expires_at;           /* THREATQ_MATCH_NEVER when it does not expire */
  guint32 first_seen;
  guint32 last_seen;
  const gchar *profile;         /* confidence, TLP and providers: read with the threatq_match_entry_*() below */
  const gchar *description;     /* NULL when absent */
  gfloat score;                 /* NAN when the indicator has none */
  guint32 key_hash;
  guint16 key_length;
  guint8 kind;                  /* ThreatqMatchKind */
  guint8 prefix_len;
  guint8 type_index;            /* threatq_match_type_name() */
  guint8 key[];
} ThreatqMatchEntry;

/* what the writer knows of an indicator; strings are copied (and shared between entries) */
typedef struct _ThreatqMatchIndicator
{
  gint64 id;
  const gchar *type;            /* ThreatQ type name */
  gssize type_length;           /* -1: NUL-terminated */
  const gchar *value;
  gssize value_length;
  gboolean has_score;
  gdouble score;
  const gchar *confidence;
  const gchar *tlp;
  const gchar *description;
  const gchar *const *providers;  /* NULL-terminated, or NULL */
  gint64 updated_at;            /* epoch seconds, 0 when unknown (as the next three) */
  gint64 expires_at;            /* THREATQ_MATCH_NEVER when it does not expire */
  gint64 first_seen;
  gint64 last_seen;
} ThreatqMatchIndicator;

/*
 * An entry as it was stored (a snapshot file, threatq-match-snapshot.h): the key is already
 * normalised and is inserted as it is, which is what makes a load fast.  Strings are copied
 * (and shared between entries).
 */
typedef struct _ThreatqMatchRawEntry
{
  gint64 id;
  guint32 updated_at;
  guint32 expires_at;
  guint32 first_seen;
  guint32 last_seen;
  gfloat score;                 /* NAN: none */
  guint kind;                   /* ThreatqMatchKind */
  guint prefix_len;
  guint type_index;
  const guint8 *key;
  gsize key_length;
  const gchar *profile;         /* "confidence\0tlp\0provider\0...", as threatq_match_entry_profile() gives it */
  gsize profile_length;
  const gchar *description;     /* NULL: none; no NUL inside */
  gsize description_length;
} ThreatqMatchRawEntry;

typedef enum
{
  THREATQ_MATCH_INSERTED,
  THREATQ_MATCH_REPLACED,       /* an entry of the same id was there */
  THREATQ_MATCH_REFUSED_FULL,   /* a new id beyond max_size: the set is unchanged */
  THREATQ_MATCH_SKIPPED,        /* a type or value that is not matched; an entry of the same id is removed */
} ThreatqMatchInsertResult;

typedef struct _ThreatqMatchSetStats
{
  gsize entries;
  gsize refused_full;           /* inserts refused since creation */
  gsize skipped;                /* inserts skipped since creation */
  gsize bytes;                  /* entries, shared strings and tables */
} ThreatqMatchSetStats;

/* max_size: the most entries the set holds (0: no limit) */
ThreatqMatchSet *threatq_match_set_new(gsize max_size);
/* no reader may be left */
void threatq_match_set_free(ThreatqMatchSet *self);

/* makes room for count entries at once (loading a known number): saves the rebuilds of growing step by step */
void threatq_match_set_reserve(ThreatqMatchSet *self, gsize count);
ThreatqMatchInsertResult threatq_match_set_insert(ThreatqMatchSet *self, const ThreatqMatchIndicator *indicator);
/*
 * As threatq_match_set_insert() (replace by id, max_size), without normalising: the key is checked
 * only for what keeps the set sound (kind, length of a fixed-size kind, prefix length, host bits,
 * type index, profile layout); a raw entry that fails is SKIPPED and changes nothing.
 */
ThreatqMatchInsertResult threatq_match_set_insert_entry(ThreatqMatchSet *self, const ThreatqMatchRawEntry *entry);
/* FALSE when no entry has that id */
gboolean threatq_match_set_remove(ThreatqMatchSet *self, gint64 id);
/* removes the entries expired at now (epoch seconds); returns how many */
gsize threatq_match_set_purge_expired(ThreatqMatchSet *self, gint64 now);
/*
 * The writer's view of the entry of id (NULL when none), e.g. to journal what an insert made.
 * Only from the thread that updates the set, and only until its next update: an update may retire
 * the entry, and the writer's next grace period frees it.
 */
const ThreatqMatchEntry *threatq_match_set_find_id(ThreatqMatchSet *self, gint64 id);
/* frees what updates unlinked (waits for readers); updates do it themselves every so often */
void threatq_match_set_reclaim(ThreatqMatchSet *self);
void threatq_match_set_get_stats(ThreatqMatchSet *self, ThreatqMatchSetStats *stats);
/* as given to threatq_match_set_new() */
gsize threatq_match_set_get_max_size(ThreatqMatchSet *self);

/*
 * Calls func for every entry, in no particular order, with the writer lock held: func must not
 * update the set (it would deadlock) and must not keep the entry.  Updates from other threads wait.
 */
typedef void (*ThreatqMatchEntryFunc)(const ThreatqMatchEntry *entry, gpointer user_data);
void threatq_match_set_foreach(ThreatqMatchSet *self, ThreatqMatchEntryFunc func, gpointer user_data);

guint threatq_match_set_read_begin(ThreatqMatchSet *self);
void threatq_match_set_read_end(ThreatqMatchSet *self, guint token);

/* as lookup's now: the lookup reads time(NULL) itself, only when an entry of the key is to be checked */
#define THREATQ_MATCH_SET_CLOCK G_MININT64

/*
 * Inside a read section, at now (epoch seconds, or THREATQ_MATCH_SET_CLOCK): stores up to
 * max_hits entries in hits and returns how many it stored (the hits of one key; more than
 * max_hits are cut).
 */
gsize threatq_match_set_lookup(ThreatqMatchSet *self, const ThreatqMatchKey *key, gint64 now,
                               gboolean parent_domains, const ThreatqMatchEntry **hits, gsize max_hits);

/* highest score (any score above none), then latest updated_at, then highest id; NULL when count is 0 */
const ThreatqMatchEntry *threatq_match_best_hit(const ThreatqMatchEntry *const *hits, gsize count);

/* the entry's key, for threatq_match_key_format() and threatq_match_key_ecs_field() */
void threatq_match_entry_key(const ThreatqMatchEntry *entry, ThreatqMatchKey *key);
/* the profile's bytes ("confidence\0tlp\0provider\0...\0", each item ended by a NUL): *profile and its length */
gsize threatq_match_entry_profile(const ThreatqMatchEntry *entry, const gchar **profile);
/* NULL when absent */
const gchar *threatq_match_entry_confidence(const ThreatqMatchEntry *entry);
const gchar *threatq_match_entry_tlp(const ThreatqMatchEntry *entry);
/* the provider after previous (NULL: the first), NULL after the last */
const gchar *threatq_match_entry_next_provider(const ThreatqMatchEntry *entry, const gchar *previous);

#endif
