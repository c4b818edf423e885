/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match snapshot: the bytes of the file (docs/match-persistence.md), apart from any I/O.
 * Integers are little-endian.  Every record is a type byte, a 32-bit body length and the body.
 * Decoding checks every length against the bounds before it reads, so arbitrary bytes are safe
 * (tests/fuzz/fuzz_match_snapshot.c).
 *
 * The string table gives repeated strings (profiles, descriptions) an index: a string record
 * defines the next index, an entry refers to it.  Bounded (THREATQ_SNAP_STRINGS_MAX strings,
 * THREATQ_SNAP_STRINGS_BYTES_MAX bytes): once full, strings are written inside the entry.
 * Not thread-safe: one user at a time.
 */
#ifndef THREATQ_MATCH_SNAPSHOT_FORMAT_H_INCLUDED
#define THREATQ_MATCH_SNAPSHOT_FORMAT_H_INCLUDED

#include "threatq-match-set.h"

#define THREATQ_SNAP_MAGIC "TQMSNAP\n"
#define THREATQ_SNAP_MAGIC_LENGTH 8
#define THREATQ_SNAP_VERSION 1
/* magic, version, identity length, identity, entry count, CRC */
#define THREATQ_SNAP_HEADER_FIXED (THREATQ_SNAP_MAGIC_LENGTH + 4 + 4 + 8 + 4)
#define THREATQ_SNAP_RECORD_HEADER 5
/* the smallest entry record: what a file's length says at most about its entries */
#define THREATQ_SNAP_ENTRY_MIN (THREATQ_SNAP_RECORD_HEADER + 42 + 1)
#define THREATQ_SNAP_STRINGS_MAX 65536
#define THREATQ_SNAP_STRINGS_BYTES_MAX (4 * 1024 * 1024)

typedef enum
{
  THREATQ_SNAP_STRING = 'S',
  THREATQ_SNAP_ENTRY = 'E',
  THREATQ_SNAP_REMOVE = 'R',
  THREATQ_SNAP_COMMIT = 'C',
  THREATQ_SNAP_PAGE = 'P',
} ThreatqSnapRecordType;

/* a page starts with its header: a 'P' record of the page's length and a CRC of those 9 bytes */
#define THREATQ_SNAP_PAGE_HEADER (THREATQ_SNAP_RECORD_HEADER + 8)

guint32 threatq_snap_crc32(guint32 crc, const guint8 *bytes, gsize length);

typedef struct _ThreatqSnapStrings ThreatqSnapStrings;
ThreatqSnapStrings *threatq_snap_strings_new(void);
void threatq_snap_strings_free(ThreatqSnapStrings *self);
guint threatq_snap_strings_count(const ThreatqSnapStrings *self);
gsize threatq_snap_strings_bytes(const ThreatqSnapStrings *self);
/* forgets the strings from index count on (a page that was not written) */
void threatq_snap_strings_truncate(ThreatqSnapStrings *self, guint count);
/* the index of a string of that content, -1 when none */
gint threatq_snap_strings_find(const ThreatqSnapStrings *self, const guint8 *bytes, gsize length);
/* the next index; FALSE (nothing added) when the table is full */
gboolean threatq_snap_strings_add(ThreatqSnapStrings *self, const guint8 *bytes, gsize length);
const guint8 *threatq_snap_strings_get(const ThreatqSnapStrings *self, guint index, gsize *length);

void threatq_snap_encode_header(GByteArray *out, const gchar *identity, guint64 entries);
/*
 * The header at the start of bytes: its length, and *entries; 0 + error when it is cut short,
 * not a snapshot, of another version, damaged or of another identity.
 */
gsize threatq_snap_decode_header(const guint8 *bytes, gsize length, const gchar *identity, guint64 *entries,
                                 GError **error);

/* appends a string record first when a string of the entry is new and the table has room */
void threatq_snap_encode_entry(GByteArray *out, ThreatqSnapStrings *strings, const ThreatqMatchEntry *entry);
void threatq_snap_encode_remove(GByteArray *out, gint64 id);
/*
 * Closes the page that out holds (all of it, records only): puts the page header in front and the
 * commit record, with the CRC of everything before it, at the end.
 */
void threatq_snap_encode_commit(GByteArray *out, const gchar *position);
/* a page header's length of the page; 0 when it is not a sound page header */
guint32 threatq_snap_check_page_header(const guint8 *header);

/* the largest body a record of type may have; 0: no such type */
gsize threatq_snap_record_max(guint type);
/* the length of the record's body from its header (at least THREATQ_SNAP_RECORD_HEADER bytes) */
guint32 threatq_snap_record_length(const guint8 *record);

/*
 * An entry body into raw.  known: how many string indices are defined; with strings, references are
 * resolved (pointers into strings or body), without, only checked.  FALSE when malformed.
 */
gboolean threatq_snap_decode_entry(const guint8 *body, gsize length, const ThreatqSnapStrings *strings, guint known,
                                   ThreatqMatchRawEntry *raw);
gint64 threatq_snap_decode_remove(const guint8 *body);
/*
 * A commit of the page that starts at page and whose commit record starts at commit: FALSE when its
 * layout or CRC is wrong; *position and *position_length view the position (length 0: none).
 */
gboolean threatq_snap_check_commit(const guint8 *page, const guint8 *commit, const gchar **position,
                                   gsize *position_length);

#endif
