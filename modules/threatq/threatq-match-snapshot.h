/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match(): the indicator set on disk, so that a restart or a kill -9 does not read the
 * collection again.  The format, its bounds and the rule that keeps it consistent with the
 * source's delivery-gated cursor are in docs/match-persistence.md.
 *
 * One append-only file: a header (magic, format version, identity), then pages.  A page is the
 * entry and remove records of what a page of the feed changed in the set, closed by a commit
 * record that carries the feed's position and a CRC-32 of the page.  A load applies the pages
 * whose commit is intact and cuts the file after the last of them, so a page torn by a kill -9
 * is dropped (the feed reads it again from the stored cursor).  Compaction rewrites the file
 * from the set (temporary file, fsync, rename).
 *
 * Threads: an object is used by one thread at a time (the source's reader thread); the set it
 * loads into and compacts from is a ThreatqMatchSet, which readers may use meanwhile.  One
 * object per file: on a reload, hand the object over with the set instead of opening the file
 * again.  Pure glib and POSIX I/O.
 */
#ifndef THREATQ_MATCH_SNAPSHOT_H_INCLUDED
#define THREATQ_MATCH_SNAPSHOT_H_INCLUDED

#include "threatq-match-set.h"

/* bounds of a record (a longer one is corruption: the load stops at the last good commit) */
#define THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX 4096
#define THREATQ_MATCH_SNAPSHOT_POSITION_MAX 1024
#define THREATQ_MATCH_SNAPSHOT_STRING_MAX 65536
/* a page (its records and its commit) is at most this long; the writer closes one at a quarter of it */
#define THREATQ_MATCH_SNAPSHOT_PAGE_MAX (4 * 1024 * 1024)
/*
 * A file longer than FILE_BASE + max_size x FILE_PER_ENTRY (the set's max_size; FILE_NO_LIMIT when
 * it has none) is refused before anything is read.
 */
#define THREATQ_MATCH_SNAPSHOT_FILE_BASE (64 * 1024 * 1024)
#define THREATQ_MATCH_SNAPSHOT_FILE_PER_ENTRY 1024
#define THREATQ_MATCH_SNAPSHOT_FILE_NO_LIMIT G_GUINT64_CONSTANT(4294967296)

typedef struct _ThreatqMatchSnapshot ThreatqMatchSnapshot;

/*
 * Opens (creating it when absent, mode 0600) the file at path; identity: collection, URL and a
 * fingerprint of the filter options.  NULL + error when the file cannot be opened or identity is
 * longer than THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX.  Nothing is read until load().
 */
ThreatqMatchSnapshot *threatq_match_snapshot_open(const gchar *path, const gchar *identity, GError **error);

/*
 * Call once, before any append, with an empty set: loads the committed content into set (raw
 * entries, no re-normalisation) and decides where appends go.
 * TRUE: at least one page was loaded; *position is its commit's position (NULL when that commit
 * had none: the first page of the feed was long enough to be split).  A torn tail (the file ends
 * inside a page: a kill -9 during a write) is cut at the last commit, and get_error() says so.
 * FALSE, *position NULL, set left empty: no file, an empty one, another identity, a bad header, a
 * file over its bound, or damage inside (a bad checksum, a record over its bound or malformed: what
 * it lost may be behind the stored cursor, so none of it is used); get_error() says which, except
 * for a new or empty file.  The file then starts afresh.
 */
gboolean threatq_match_snapshot_load(ThreatqMatchSnapshot *self, ThreatqMatchSet *set, gchar **position);

/*
 * Why the last load stopped before the end of the file or refused it, or why the last
 * write failed; NULL when it did not.  Owned by the snapshot, valid until its next call.
 */
const GError *threatq_match_snapshot_get_error(ThreatqMatchSnapshot *self);

/* appends are buffered until commit (a long page is written in parts, see docs) */
void threatq_match_snapshot_append_entry(ThreatqMatchSnapshot *self, const ThreatqMatchEntry *entry);
void threatq_match_snapshot_append_remove(ThreatqMatchSnapshot *self, gint64 id);

/*
 * Writes the page with its commit record (position: the feed's position after it, at most
 * THREATQ_MATCH_SNAPSHOT_POSITION_MAX bytes, NULL for none).  No fsync: a kill -9 keeps what is in
 * the page cache.  FALSE + error when it cannot be written: the file is cut back to the last commit
 * and the next maybe_compact() rewrites it from the set, whatever its size.
 */
gboolean threatq_match_snapshot_commit(ThreatqMatchSnapshot *self, const gchar *position, GError **error);

/*
 * Call after commit: rewrites the file from set (temporary file, fsync, rename) when it has grown
 * past twice the size of the live entries (and 256 KiB), or when a write failed; appends not yet
 * committed are dropped (set holds them).  TRUE when nothing had to be done or the rewrite worked.
 */
gboolean threatq_match_snapshot_maybe_compact(ThreatqMatchSnapshot *self, ThreatqMatchSet *set,
                                              const gchar *position, GError **error);

/* the file's committed length in bytes */
guint64 threatq_match_snapshot_get_size(ThreatqMatchSnapshot *self);

void threatq_match_snapshot_free(ThreatqMatchSnapshot *self);

#endif
