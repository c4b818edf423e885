/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-snapshot-format.h"
#include "threatq-match-snapshot.h"

#include <math.h>
#include <string.h>

/* the fixed part of an entry body; the key and any inline strings follow */
#define ENTRY_FIXED 42
#define ENTRY_KEY_MAX (THREATQ_MATCH_VALUE_MAX + 16)
#define FLAG_PROFILE_INLINE 1
#define FLAG_DESCRIPTION 2
#define FLAG_DESCRIPTION_INLINE 4

/* ---- CRC-32 (IEEE, reflected), eight bytes a step --------------------- */

static guint32 crc_tables[8][256];

static void
_crc_init(void)
{
  static gsize done = 0;

  if (!g_once_init_enter(&done))
    return;
  for (guint i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (gint k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_tables[0][i] = c;
    }
  for (guint i = 0; i < 256; i++)
    for (guint t = 1; t < 8; t++)
      crc_tables[t][i] = (crc_tables[t - 1][i] >> 8) ^ crc_tables[0][crc_tables[t - 1][i] & 0xff];
  g_once_init_leave(&done, 1);
}

guint32
threatq_snap_crc32(guint32 crc, const guint8 *bytes, gsize length)
{
  _crc_init();
  crc = ~crc;
  for (; length >= 8; bytes += 8, length -= 8)
    {
      guint32 lo = crc ^ ((guint32) bytes[0] | (guint32) bytes[1] << 8 | (guint32) bytes[2] << 16
                          | (guint32) bytes[3] << 24);
      crc = crc_tables[7][lo & 0xff] ^ crc_tables[6][(lo >> 8) & 0xff] ^ crc_tables[5][(lo >> 16) & 0xff]
            ^ crc_tables[4][lo >> 24] ^ crc_tables[3][bytes[4]] ^ crc_tables[2][bytes[5]]
            ^ crc_tables[1][bytes[6]] ^ crc_tables[0][bytes[7]];
    }
  while (length--)
    crc = crc_tables[0][(crc ^ *bytes++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- little-endian fields --------------------------------------------- */

static void
_put_u16(GByteArray *out, guint16 v)
{
  guint8 b[2] = { (guint8) v, (guint8) (v >> 8) };
  g_byte_array_append(out, b, 2);
}

static void
_put_u32(GByteArray *out, guint32 v)
{
  guint8 b[4] = { (guint8) v, (guint8) (v >> 8), (guint8) (v >> 16), (guint8) (v >> 24) };
  g_byte_array_append(out, b, 4);
}

static void
_put_u64(GByteArray *out, guint64 v)
{
  _put_u32(out, (guint32) v);
  _put_u32(out, (guint32) (v >> 32));
}

static void
_put_u8(GByteArray *out, guint8 v)
{
  g_byte_array_append(out, &v, 1);
}

static guint16
_get_u16(const guint8 *b)
{
  return (guint16) (b[0] | b[1] << 8);
}

static guint32
_get_u32(const guint8 *b)
{
  return (guint32) b[0] | (guint32) b[1] << 8 | (guint32) b[2] << 16 | (guint32) b[3] << 24;
}

static guint64
_get_u64(const guint8 *b)
{
  return (guint64) _get_u32(b) | (guint64) _get_u32(b + 4) << 32;
}

/* a record header whose length is filled in by _end_record */
static guint
_begin_record(GByteArray *out, ThreatqSnapRecordType type)
{
  guint start = out->len;
  _put_u8(out, (guint8) type);
  _put_u32(out, 0);
  return start;
}

static void
_end_record(GByteArray *out, guint start)
{
  guint32 length = out->len - start - THREATQ_SNAP_RECORD_HEADER;
  guint8 *b = out->data + start + 1;
  b[0] = (guint8) length;
  b[1] = (guint8) (length >> 8);
  b[2] = (guint8) (length >> 16);
  b[3] = (guint8) (length >> 24);
}

guint32
threatq_snap_record_length(const guint8 *record)
{
  return _get_u32(record + 1);
}

gsize
threatq_snap_record_max(guint type)
{
  switch (type)
    {
    case THREATQ_SNAP_STRING:
      return THREATQ_MATCH_SNAPSHOT_STRING_MAX;
    case THREATQ_SNAP_ENTRY:
      return ENTRY_FIXED + ENTRY_KEY_MAX + 2 * THREATQ_MATCH_SNAPSHOT_STRING_MAX;
    case THREATQ_SNAP_REMOVE:
      return 8;
    case THREATQ_SNAP_COMMIT:
      return 4 + THREATQ_MATCH_SNAPSHOT_POSITION_MAX + 4;
    case THREATQ_SNAP_PAGE:
      return 8;
    default:
      return 0;
    }
}

/* ---- header ----------------------------------------------------------- */

void
threatq_snap_encode_header(GByteArray *out, const gchar *identity, guint64 entries)
{
  gsize identity_length = strlen(identity);

  g_byte_array_append(out, (const guint8 *) THREATQ_SNAP_MAGIC, THREATQ_SNAP_MAGIC_LENGTH);
  _put_u32(out, THREATQ_SNAP_VERSION);
  _put_u32(out, (guint32) identity_length);
  g_byte_array_append(out, (const guint8 *) identity, (guint) identity_length);
  _put_u64(out, entries);
  _put_u32(out, threatq_snap_crc32(0, out->data, out->len));
}

static gsize
_header_error(GError **error, const gchar *what)
{
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", what);
  return 0;
}

gsize
threatq_snap_decode_header(const guint8 *bytes, gsize length, const gchar *identity, guint64 *entries,
                           GError **error)
{
  if (length < THREATQ_SNAP_MAGIC_LENGTH + 8 || memcmp(bytes, THREATQ_SNAP_MAGIC, THREATQ_SNAP_MAGIC_LENGTH) != 0)
    return _header_error(error, "not a threatq-match snapshot (bad magic)");
  guint32 version = _get_u32(bytes + THREATQ_SNAP_MAGIC_LENGTH);
  if (version != THREATQ_SNAP_VERSION)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "format version %u, this build reads %u",
                  version, THREATQ_SNAP_VERSION);
      return 0;
    }
  guint32 identity_length = _get_u32(bytes + THREATQ_SNAP_MAGIC_LENGTH + 4);
  if (identity_length > THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX)
    return _header_error(error, "identity in the header longer than its bound (bad header)");
  gsize header_length = THREATQ_SNAP_HEADER_FIXED + identity_length;
  if (length < header_length)
    return _header_error(error, "header cut short");
  if (threatq_snap_crc32(0, bytes, header_length - 4) != _get_u32(bytes + header_length - 4))
    return _header_error(error, "header checksum mismatch");
  const guint8 *stored = bytes + THREATQ_SNAP_MAGIC_LENGTH + 8;
  if (identity_length != strlen(identity) || memcmp(stored, identity, identity_length) != 0)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "written for another identity (%.*s), not %s",
                  (gint) MIN(identity_length, 200), (const gchar *) stored, identity);
      return 0;
    }
  *entries = _get_u64(stored + identity_length);
  return header_length;
}

/* ---- records ---------------------------------------------------------- */

/* the length that fits the bound: a profile cut after an item, a description at a character */
static gsize
_bounded_length(const gchar *text, gsize length, gboolean profile)
{
  if (length <= THREATQ_MATCH_SNAPSHOT_STRING_MAX)
    return length;
  if (!profile)
    return (gsize) (g_utf8_find_prev_char(text, text + THREATQ_MATCH_SNAPSHOT_STRING_MAX + 1) - text);
  const gchar *end = text + THREATQ_MATCH_SNAPSHOT_STRING_MAX - 1;
  while (*end)
    end--;
  return (gsize) (end - text) + 1;
}

/* a string reference: its index (defined now when new and there is room), else its length, inline */
static guint32
_string_ref(GByteArray *out, ThreatqSnapStrings *strings, const gchar *text, gsize length, gboolean *is_inline)
{
  gint found = threatq_snap_strings_find(strings, (const guint8 *) text, length);

  *is_inline = FALSE;
  if (found >= 0)
    return (guint32) found;
  guint index = threatq_snap_strings_count(strings);
  if (threatq_snap_strings_add(strings, (const guint8 *) text, length))
    {
      guint start = _begin_record(out, THREATQ_SNAP_STRING);
      g_byte_array_append(out, (const guint8 *) text, (guint) length);
      _end_record(out, start);
      return index;
    }
  *is_inline = TRUE;
  return (guint32) length;
}

static guint32
_float_bits(gfloat value)
{
  guint32 bits;
  memcpy(&bits, &value, 4);
  return bits;
}

void
threatq_snap_encode_entry(GByteArray *out, ThreatqSnapStrings *strings, const ThreatqMatchEntry *entry)
{
  const gchar *profile;
  gsize profile_length = threatq_match_entry_profile(entry, &profile);
  profile_length = _bounded_length(profile, profile_length, TRUE);
  gsize description_length = entry->description ? strlen(entry->description) : 0;
  description_length = _bounded_length(entry->description, description_length, FALSE);
  gboolean profile_inline, description_inline = FALSE;
  guint32 profile_ref = _string_ref(out, strings, profile, profile_length, &profile_inline);
  guint32 description_ref = entry->description
                            ? _string_ref(out, strings, entry->description, description_length, &description_inline)
                            : 0;

  guint start = _begin_record(out, THREATQ_SNAP_ENTRY);
  _put_u64(out, (guint64) entry->id);
  _put_u32(out, entry->updated_at);
  _put_u32(out, entry->expires_at);
  _put_u32(out, entry->first_seen);
  _put_u32(out, entry->last_seen);
  _put_u32(out, _float_bits(entry->score));
  _put_u8(out, entry->kind);
  _put_u8(out, entry->prefix_len);
  _put_u8(out, entry->type_index);
  _put_u8(out, (guint8) ((profile_inline ? FLAG_PROFILE_INLINE : 0) | (entry->description ? FLAG_DESCRIPTION : 0)
                         | (description_inline ? FLAG_DESCRIPTION_INLINE : 0)));
  _put_u16(out, entry->key_length);
  _put_u32(out, profile_ref);
  _put_u32(out, description_ref);
  g_byte_array_append(out, entry->key, entry->key_length);
  if (profile_inline)
    g_byte_array_append(out, (const guint8 *) profile, (guint) profile_length);
  if (description_inline)
    g_byte_array_append(out, (const guint8 *) entry->description, (guint) description_length);
  _end_record(out, start);
}

void
threatq_snap_encode_remove(GByteArray *out, gint64 id)
{
  guint start = _begin_record(out, THREATQ_SNAP_REMOVE);
  _put_u64(out, (guint64) id);
  _end_record(out, start);
}

void
threatq_snap_encode_commit(GByteArray *out, const gchar *position)
{
  gsize length = position ? MIN(strlen(position), THREATQ_MATCH_SNAPSHOT_POSITION_MAX) : 0;
  guint32 page_length = out->len + THREATQ_SNAP_PAGE_HEADER + THREATQ_SNAP_RECORD_HEADER + 8 + (guint32) length;

  /* the header first, so that a load tells a page cut short (a torn write) from a damaged one */
  GByteArray *header = g_byte_array_sized_new(THREATQ_SNAP_PAGE_HEADER);
  guint start = _begin_record(header, THREATQ_SNAP_PAGE);
  _put_u32(header, page_length);
  _put_u32(header, 0);
  _end_record(header, start);
  g_byte_array_set_size(header, header->len - 4);
  _put_u32(header, threatq_snap_crc32(0, header->data, header->len));
  g_byte_array_prepend(out, header->data, header->len);
  g_byte_array_free(header, TRUE);

  start = _begin_record(out, THREATQ_SNAP_COMMIT);
  _put_u32(out, (guint32) length);
  g_byte_array_append(out, (const guint8 *) position, (guint) length);
  /* the length of the record counts the CRC that follows */
  _put_u32(out, 0);
  _end_record(out, start);
  g_byte_array_set_size(out, out->len - 4);
  _put_u32(out, threatq_snap_crc32(0, out->data, out->len));
}

guint32
threatq_snap_check_page_header(const guint8 *header)
{
  guint32 page_length = _get_u32(header + THREATQ_SNAP_RECORD_HEADER);

  if (header[0] != THREATQ_SNAP_PAGE || threatq_snap_record_length(header) != 8
      || threatq_snap_crc32(0, header, THREATQ_SNAP_PAGE_HEADER - 4) != _get_u32(header + THREATQ_SNAP_PAGE_HEADER - 4))
    return 0;
  if (page_length < THREATQ_SNAP_PAGE_HEADER + THREATQ_SNAP_RECORD_HEADER + 8)
    return 0;
  return page_length;
}

gboolean
threatq_snap_check_commit(const guint8 *page, const guint8 *commit, const gchar **position, gsize *position_length)
{
  guint32 body = threatq_snap_record_length(commit);
  if (body < 8)
    return FALSE;
  guint32 length = _get_u32(commit + THREATQ_SNAP_RECORD_HEADER);
  if (length > THREATQ_MATCH_SNAPSHOT_POSITION_MAX || body != 8 + length)
    return FALSE;
  const guint8 *crc = commit + THREATQ_SNAP_RECORD_HEADER + 4 + length;
  if (threatq_snap_crc32(0, page, (gsize) (crc - page)) != _get_u32(crc))
    return FALSE;
  *position = (const gchar *) commit + THREATQ_SNAP_RECORD_HEADER + 4;
  *position_length = length;
  return TRUE;
}

gint64
threatq_snap_decode_remove(const guint8 *body)
{
  return (gint64) _get_u64(body);
}

/* a string of an entry: a reference to a defined one, or inline at *tail (which moves on) */
static gboolean
_decode_string(const ThreatqSnapStrings *strings, guint known, guint32 ref, gboolean is_inline,
               const guint8 **tail, const guint8 *end, const gchar **text, gsize *length)
{
  if (is_inline)
    {
      if (ref > THREATQ_MATCH_SNAPSHOT_STRING_MAX || ref > (gsize) (end - *tail))
        return FALSE;
      *text = (const gchar *) *tail;
      *length = ref;
      *tail += ref;
      return TRUE;
    }
  if (ref >= known)
    return FALSE;
  *text = strings ? (const gchar *) threatq_snap_strings_get(strings, ref, length) : NULL;
  return TRUE;
}

gboolean
threatq_snap_decode_entry(const guint8 *body, gsize length, const ThreatqSnapStrings *strings, guint known,
                          ThreatqMatchRawEntry *raw)
{
  if (length < ENTRY_FIXED)
    return FALSE;
  guint8 flags = body[31];
  raw->id = (gint64) _get_u64(body);
  raw->updated_at = _get_u32(body + 8);
  raw->expires_at = _get_u32(body + 12);
  raw->first_seen = _get_u32(body + 16);
  raw->last_seen = _get_u32(body + 20);
  guint32 score = _get_u32(body + 24);
  memcpy(&raw->score, &score, 4);
  raw->kind = body[28];
  raw->prefix_len = body[29];
  raw->type_index = body[30];
  raw->key_length = _get_u16(body + 32);
  if (raw->key_length > ENTRY_KEY_MAX || raw->key_length > length - ENTRY_FIXED
      || (flags & ~(FLAG_PROFILE_INLINE | FLAG_DESCRIPTION | FLAG_DESCRIPTION_INLINE)))
    return FALSE;
  raw->key = body + ENTRY_FIXED;
  const guint8 *tail = raw->key + raw->key_length, *end = body + length;
  raw->profile_length = raw->description_length = 0;
  raw->description = NULL;
  if (!_decode_string(strings, known, _get_u32(body + 34), flags & FLAG_PROFILE_INLINE, &tail, end,
                      &raw->profile, &raw->profile_length))
    return FALSE;
  if ((flags & FLAG_DESCRIPTION)
      && !_decode_string(strings, known, _get_u32(body + 38), flags & FLAG_DESCRIPTION_INLINE, &tail, end,
                         &raw->description, &raw->description_length))
    return FALSE;
  if (!(flags & FLAG_DESCRIPTION) && (flags & FLAG_DESCRIPTION_INLINE))
    return FALSE;
  return tail == end;
}

/* ---- string table ----------------------------------------------------- */

typedef struct
{
  const guint8 *bytes;
  gsize length;
} StringView;

typedef struct
{
  StringView view;              /* of bytes: the key in by_content */
  guint index;
  guint8 bytes[];
} SnapString;

struct _ThreatqSnapStrings
{
  GPtrArray *items;             /* SnapString by index */
  GHashTable *by_content;       /* StringView -> the first SnapString of that content */
  gsize bytes;
};

static guint
_string_hash(gconstpointer item)
{
  const StringView *s = item;
  guint32 h = 2166136261u;
  for (gsize i = 0; i < s->length; i++)
    h = (h ^ s->bytes[i]) * 16777619u;
  return h;
}

static gboolean
_string_equal(gconstpointer a, gconstpointer b)
{
  const StringView *x = a, *y = b;
  return x->length == y->length && memcmp(x->bytes, y->bytes, x->length) == 0;
}

ThreatqSnapStrings *
threatq_snap_strings_new(void)
{
  ThreatqSnapStrings *self = g_new0(ThreatqSnapStrings, 1);
  self->items = g_ptr_array_new_with_free_func(g_free);
  self->by_content = g_hash_table_new(_string_hash, _string_equal);
  return self;
}

void
threatq_snap_strings_free(ThreatqSnapStrings *self)
{
  if (!self)
    return;
  g_hash_table_destroy(self->by_content);
  g_ptr_array_free(self->items, TRUE);
  g_free(self);
}

guint
threatq_snap_strings_count(const ThreatqSnapStrings *self)
{
  return self->items->len;
}

gsize
threatq_snap_strings_bytes(const ThreatqSnapStrings *self)
{
  return self->bytes;
}

void
threatq_snap_strings_truncate(ThreatqSnapStrings *self, guint count)
{
  while (self->items->len > count)
    {
      SnapString *s = g_ptr_array_index(self->items, self->items->len - 1);
      if (g_hash_table_lookup(self->by_content, &s->view) == s)
        g_hash_table_remove(self->by_content, &s->view);
      self->bytes -= s->view.length;
      g_ptr_array_set_size(self->items, self->items->len - 1);
    }
}

gint
threatq_snap_strings_find(const ThreatqSnapStrings *self, const guint8 *bytes, gsize length)
{
  StringView key = { bytes, length };
  const SnapString *found = g_hash_table_lookup(self->by_content, &key);
  return found ? (gint) found->index : -1;
}

gboolean
threatq_snap_strings_add(ThreatqSnapStrings *self, const guint8 *bytes, gsize length)
{
  if (self->items->len >= THREATQ_SNAP_STRINGS_MAX || length > THREATQ_MATCH_SNAPSHOT_STRING_MAX
      || self->bytes + length > THREATQ_SNAP_STRINGS_BYTES_MAX)
    return FALSE;
  SnapString *s = g_malloc(sizeof(SnapString) + length);
  s->view.bytes = s->bytes;
  s->view.length = length;
  s->index = self->items->len;
  memcpy(s->bytes, bytes, length);
  g_ptr_array_add(self->items, s);
  self->bytes += length;
  if (!g_hash_table_contains(self->by_content, &s->view))
    g_hash_table_insert(self->by_content, &s->view, s);
  return TRUE;
}

const guint8 *
threatq_snap_strings_get(const ThreatqSnapStrings *self, guint index, gsize *length)
{
  const SnapString *s = g_ptr_array_index(self->items, index);
  *length = s->view.length;
  return s->bytes;
}
