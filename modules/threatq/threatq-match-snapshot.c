/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-snapshot.h"
#include "threatq-match-snapshot-format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* a page is closed (committed with the last position) when it reaches this, so it stays below PAGE_MAX */
#define PAGE_FLUSH (THREATQ_MATCH_SNAPSHOT_PAGE_MAX / 4)
/* compaction pays off only past this */
#define COMPACT_MIN (256 * 1024)

struct _ThreatqMatchSnapshot
{
  gchar *path;
  gchar *identity;
  gint fd;
  gboolean loaded;
  gboolean needs_rewrite;       /* a write failed: the file no longer covers the set */
  guint64 size;                 /* committed bytes */
  GByteArray *page;             /* appends since the last commit */
  gchar *last_position;         /* of the last commit; a long page's parts are committed with it */
  ThreatqSnapStrings *strings;
  guint committed_strings;
  guint64 entry_records;        /* in the file: for the live-size estimate */
  guint64 entry_record_bytes;
  GError *error;
};

ThreatqMatchSnapshot *
threatq_match_snapshot_open(const gchar *path, const gchar *identity, GError **error)
{
  if (strlen(identity) > THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "match snapshot %s: identity longer than %d bytes",
                  path, THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX);
      return NULL;
    }
  gint fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      gint saved = errno;
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "match snapshot %s: cannot open: %s",
                  path, g_strerror(saved));
      return NULL;
    }
  ThreatqMatchSnapshot *self = g_new0(ThreatqMatchSnapshot, 1);
  self->path = g_strdup(path);
  self->identity = g_strdup(identity);
  self->fd = fd;
  self->page = g_byte_array_sized_new(PAGE_FLUSH + 4096);
  self->strings = threatq_snap_strings_new();
  return self;
}

void
threatq_match_snapshot_free(ThreatqMatchSnapshot *self)
{
  if (!self)
    return;
  if (self->fd >= 0)
    close(self->fd);
  threatq_snap_strings_free(self->strings);
  g_byte_array_free(self->page, TRUE);
  g_clear_error(&self->error);
  g_free(self->last_position);
  g_free(self->identity);
  g_free(self->path);
  g_free(self);
}

const GError *
threatq_match_snapshot_get_error(ThreatqMatchSnapshot *self)
{
  return self->error;
}

guint64
threatq_match_snapshot_get_size(ThreatqMatchSnapshot *self)
{
  return self->size;
}

/* ---- writing ---------------------------------------------------------- */

static gboolean
_write_all(gint fd, const guint8 *bytes, gsize length, guint64 offset, const gchar *path, GError **error)
{
  while (length > 0)
    {
      gssize written = pwrite(fd, bytes, length, (off_t) offset);
      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        {
          gint saved = written < 0 ? errno : ENOSPC;
          g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "match snapshot %s: cannot write: %s",
                      path, g_strerror(saved));
          return FALSE;
        }
      bytes += written;
      length -= (gsize) written;
      offset += (guint64) written;
    }
  return TRUE;
}

/* cuts the file back to its committed length, so that the next append follows a commit */
static void
_cut_back(ThreatqMatchSnapshot *self)
{
  if (ftruncate(self->fd, (off_t) self->size) < 0)
    self->needs_rewrite = TRUE;
}

static void
_set_error(ThreatqMatchSnapshot *self, const GError *error)
{
  g_clear_error(&self->error);
  self->error = error ? g_error_copy(error) : NULL;
}

/* writes the page buffer closed by a commit of position; the page buffer is empty afterwards */
static gboolean
_write_page(ThreatqMatchSnapshot *self, const gchar *position, GError **error)
{
  gboolean ok = TRUE;

  if (!self->loaded || self->needs_rewrite)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "match snapshot %s: %s", self->path,
                  self->loaded ? "a write failed before; waiting for a rewrite" : "not loaded");
      ok = FALSE;
    }
  else
    {
      threatq_snap_encode_commit(self->page, position);
      ok = _write_all(self->fd, self->page->data, self->page->len, self->size, self->path, error);
    }
  if (ok)
    {
      self->size += self->page->len;
      self->committed_strings = threatq_snap_strings_count(self->strings);
    }
  else
    {
      /* what the page held is in the set but not in the file: only a rewrite can bring it back */
      if (self->loaded)
        _cut_back(self);
      self->needs_rewrite = self->loaded;
      threatq_snap_strings_truncate(self->strings, self->committed_strings);
    }
  g_byte_array_set_size(self->page, 0);
  return ok;
}

/* a long page is committed in parts with the previous position (docs/match-persistence.md) */
static void
_flush_if_long(ThreatqMatchSnapshot *self)
{
  GError *error = NULL;

  if (self->page->len < PAGE_FLUSH)
    return;
  if (!_write_page(self, self->last_position, &error))
    {
      _set_error(self, error);
      g_error_free(error);
    }
}

void
threatq_match_snapshot_append_entry(ThreatqMatchSnapshot *self, const ThreatqMatchEntry *entry)
{
  guint before = self->page->len;

  threatq_snap_encode_entry(self->page, self->strings, entry);
  self->entry_records++;
  self->entry_record_bytes += self->page->len - before;
  _flush_if_long(self);
}

void
threatq_match_snapshot_append_remove(ThreatqMatchSnapshot *self, gint64 id)
{
  threatq_snap_encode_remove(self->page, id);
  _flush_if_long(self);
}

gboolean
threatq_match_snapshot_commit(ThreatqMatchSnapshot *self, const gchar *position, GError **error)
{
  if (position && strlen(position) > THREATQ_MATCH_SNAPSHOT_POSITION_MAX)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "match snapshot %s: position longer than %d bytes",
                  self->path, THREATQ_MATCH_SNAPSHOT_POSITION_MAX);
      g_byte_array_set_size(self->page, 0);
      threatq_snap_strings_truncate(self->strings, self->committed_strings);
      self->needs_rewrite = TRUE;
      return FALSE;
    }
  GError *local = NULL;
  gboolean ok = _write_page(self, position, &local);
  if (ok)
    {
      g_free(self->last_position);
      self->last_position = g_strdup(position);
    }
  _set_error(self, local);
  if (local)
    g_propagate_error(error, local);
  return ok;
}

/* ---- loading ---------------------------------------------------------- */

#define READ_CHUNK (1024 * 1024)

/* the file read forward in chunks; the bytes from keep on (the page being read) stay in memory */
typedef struct
{
  gint fd;
  guint8 *data;
  gsize capacity;
  gsize length;
  guint64 base;                 /* the file offset of data[0] */
  guint64 keep;
  gint error;                   /* errno of a failed read */
} Reader;

/* file bytes [offset, offset + need) in memory; NULL when the file ends before (or cannot be read) */
static const guint8 *
_reader_get(Reader *r, guint64 offset, gsize need)
{
  if (offset + need <= r->base + r->length)
    return r->data + (offset - r->base);

  gsize drop = (gsize) (r->keep - r->base);
  if (drop)
    memmove(r->data, r->data + drop, r->length - drop);
  r->base += drop;
  r->length -= drop;
  /* the caller bounds need and offset - keep (a page), so this stays bounded too */
  gsize want = (gsize) (offset + need - r->base);
  if (want + READ_CHUNK > r->capacity)
    {
      r->capacity = want + READ_CHUNK;
      r->data = g_realloc(r->data, r->capacity);
    }
  while (r->length < want)
    {
      gssize got = pread(r->fd, r->data + r->length, r->capacity - r->length, (off_t) (r->base + r->length));
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        r->error = errno;
      if (got <= 0)
        return NULL;
      r->length += (gsize) got;
    }
  return r->data + (offset - r->base);
}

typedef struct
{
  ThreatqMatchSnapshot *self;
  ThreatqMatchSet *set;
  Reader reader;
  guint64 file_size;
  guint64 good_end;             /* the end of the last intact page */
  gboolean loaded_page;
  gboolean damaged;             /* not only torn: nothing of the file may be used */
  gchar *position;
  GError *error;
} Load;

/*
 * Stops the load at offset.  A torn page (the file ends inside it: a kill -9 during its write)
 * was never handed over, so what comes before it still covers the stored cursor.  Any other
 * damage may hide pages the cursor has passed: nothing of the file is used.
 */
static gboolean
_stop(Load *load, guint64 offset, const gchar *why, gboolean torn)
{
  if (torn && load->reader.error)
    {
      why = g_strerror(load->reader.error);
      torn = FALSE;
    }
  load->damaged = !torn;
  if (torn)
    g_set_error(&load->error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "match snapshot %s: %s at offset %" G_GUINT64_FORMAT "; loaded up to the last commit, at offset %"
                G_GUINT64_FORMAT, load->self->path, why, offset, load->good_end);
  else
    g_set_error(&load->error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "match snapshot %s: %s at offset %" G_GUINT64_FORMAT "; the file is not used (what it lost may be "
                "behind the stored cursor)", load->self->path, why, offset);
  return FALSE;
}

/* checks one record of a page before anything of the page is applied */
static gboolean
_check_record(Load *load, guint type, const guint8 *body, guint32 length, guint *strings, gsize *string_bytes,
              guint64 offset)
{
  ThreatqMatchRawEntry raw;

  switch (type)
    {
    case THREATQ_SNAP_STRING:
      (*strings)++;
      *string_bytes += length;
      if (*strings > THREATQ_SNAP_STRINGS_MAX || *string_bytes > THREATQ_SNAP_STRINGS_BYTES_MAX)
        return _stop(load, offset, "string table beyond its bound", FALSE);
      return TRUE;
    case THREATQ_SNAP_ENTRY:
      return threatq_snap_decode_entry(body, length, NULL, *strings, &raw)
             || _stop(load, offset, "malformed entry record", FALSE);
    case THREATQ_SNAP_REMOVE:
      return length == 8 || _stop(load, offset, "malformed remove record", FALSE);
    default:
      return _stop(load, offset, "unknown record type", FALSE);
    }
}

/*
 * Reads the page at start and checks its header, every record and the CRC: *end is the end of its
 * commit.  FALSE at the end of the file, or (with load->error) at a torn or damaged page.  Only a
 * page whose sound header says it goes past the end of the file is torn.
 */
static gboolean
_scan_page(Load *load, guint64 start, guint64 *end)
{
  Reader *r = &load->reader;
  guint strings = threatq_snap_strings_count(load->self->strings);
  gsize string_bytes = threatq_snap_strings_bytes(load->self->strings);

  r->keep = start;
  const guint8 *header = _reader_get(r, start, THREATQ_SNAP_PAGE_HEADER);
  if (!header)
    return start == load->file_size && !r->error ? FALSE
           : _stop(load, start, "torn page (the file ends inside its header)", TRUE);
  guint32 length = threatq_snap_check_page_header(header);
  if (!length)
    return _stop(load, start, "bad page header", FALSE);
  if (length > THREATQ_MATCH_SNAPSHOT_PAGE_MAX)
    return _stop(load, start, "page longer than its bound", FALSE);
  if (start + length > load->file_size)
    return _stop(load, start, "torn page (the file ends inside it)", TRUE);
  const guint8 *page = _reader_get(r, start, length);
  if (!page)
    return _stop(load, start, r->error ? g_strerror(r->error) : "file shorter than when the load began", FALSE);

  for (guint32 offset = THREATQ_SNAP_PAGE_HEADER; offset + THREATQ_SNAP_RECORD_HEADER <= length;)
    {
      const guint8 *record = page + offset;
      guint type = record[0];
      guint32 body = threatq_snap_record_length(record);
      gsize max = threatq_snap_record_max(type);
      if (!max || body > max)
        return _stop(load, start + offset, max ? "record longer than its bound" : "unknown record type", FALSE);
      if (body > length - offset - THREATQ_SNAP_RECORD_HEADER)
        return _stop(load, start + offset, "record crosses the end of its page", FALSE);
      guint32 next = offset + THREATQ_SNAP_RECORD_HEADER + body;
      if (type == THREATQ_SNAP_COMMIT)
        {
          const gchar *position;
          gsize position_length;
          if (next != length)
            return _stop(load, start + offset, "commit before the end of its page", FALSE);
          if (!threatq_snap_check_commit(page, record, &position, &position_length))
            return _stop(load, start + offset, "commit checksum mismatch", FALSE);
          *end = start + length;
          return TRUE;
        }
      if (!_check_record(load, type, record + THREATQ_SNAP_RECORD_HEADER, body, &strings, &string_bytes,
                         start + offset))
        return FALSE;
      offset = next;
    }
  return _stop(load, start, "page without a commit", FALSE);
}

/* applies a page that _scan_page() found intact */
static void
_apply_page(Load *load, guint64 start, guint64 end)
{
  ThreatqMatchSnapshot *self = load->self;
  const guint8 *page = _reader_get(&load->reader, start, (gsize) (end - start));
  ThreatqMatchRawEntry raw;

  for (const guint8 *record = page; record < page + (end - start);)
    {
      const guint8 *body = record + THREATQ_SNAP_RECORD_HEADER;
      guint32 length = threatq_snap_record_length(record);
      const gchar *position;
      gsize position_length;

      switch (record[0])
        {
        case THREATQ_SNAP_STRING:
          threatq_snap_strings_add(self->strings, body, length);
          break;
        case THREATQ_SNAP_ENTRY:
          threatq_snap_decode_entry(body, length, self->strings, threatq_snap_strings_count(self->strings), &raw);
          threatq_match_set_insert_entry(load->set, &raw);
          self->entry_records++;
          self->entry_record_bytes += THREATQ_SNAP_RECORD_HEADER + length;
          break;
        case THREATQ_SNAP_REMOVE:
          threatq_match_set_remove(load->set, threatq_snap_decode_remove(body));
          break;
        case THREATQ_SNAP_COMMIT:
          threatq_snap_check_commit(page, record, &position, &position_length);
          g_free(load->position);
          load->position = position_length ? g_strndup(position, position_length) : NULL;
          break;
        }
      record = body + length;
    }
  load->good_end = end;
  load->loaded_page = TRUE;
}

static void
_collect_id(const ThreatqMatchEntry *entry, gpointer user_data)
{
  g_array_append_val((GArray *) user_data, entry->id);
}

/* takes back what the pages before the damage put in the set (which was empty) */
static void
_unload(Load *load)
{
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));

  threatq_match_set_foreach(load->set, _collect_id, ids);
  for (guint i = 0; i < ids->len; i++)
    threatq_match_set_remove(load->set, g_array_index(ids, gint64, i));
  threatq_match_set_reclaim(load->set);
  g_array_free(ids, TRUE);
  load->loaded_page = FALSE;
  load->good_end = 0;
}

static guint64
_file_bound(ThreatqMatchSet *set)
{
  gsize max_size = threatq_match_set_get_max_size(set);
  if (!max_size)
    return THREATQ_MATCH_SNAPSHOT_FILE_NO_LIMIT;
  return THREATQ_MATCH_SNAPSHOT_FILE_BASE + (guint64) max_size * THREATQ_MATCH_SNAPSHOT_FILE_PER_ENTRY;
}

/* the header: its length, 0 (load->error set unless the file is empty) when the file cannot be used */
static gsize
_load_header(Load *load, guint64 *entries)
{
  ThreatqMatchSnapshot *self = load->self;
  GError *error = NULL;

  if (load->file_size == 0)
    return 0;
  if (load->file_size > _file_bound(load->set))
    {
      g_set_error(&load->error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                  "match snapshot %s: %" G_GUINT64_FORMAT " bytes, more than its bound of %" G_GUINT64_FORMAT
                  " (64 MiB + 1 KiB per entry of max-size); ignored", self->path, load->file_size,
                  _file_bound(load->set));
      return 0;
    }
  gsize available = (gsize) MIN(load->file_size, THREATQ_SNAP_HEADER_FIXED + THREATQ_MATCH_SNAPSHOT_IDENTITY_MAX);
  const guint8 *bytes = _reader_get(&load->reader, 0, available);
  gsize length = bytes ? threatq_snap_decode_header(bytes, available, self->identity, entries, &error) : 0;
  if (!length)
    {
      g_set_error(&load->error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "match snapshot %s: %s; ignored", self->path,
                  error ? error->message : "cannot be read");
      g_clear_error(&error);
    }
  return length;
}

/* appends go after the last intact page (or a new header): the rest is cut off */
static void
_prepare_appends(ThreatqMatchSnapshot *self, guint64 good_end)
{
  GByteArray *header = NULL;
  GError *error = NULL;

  if (good_end == 0)
    {
      header = g_byte_array_new();
      threatq_snap_encode_header(header, self->identity, 0);
      threatq_snap_strings_truncate(self->strings, 0);
      self->entry_records = self->entry_record_bytes = 0;
    }
  if (ftruncate(self->fd, (off_t) good_end) < 0
      || (header && !_write_all(self->fd, header->data, header->len, 0, self->path, &error)))
    {
      /* the next maybe_compact() writes a whole new file */
      self->needs_rewrite = TRUE;
      if (!self->error)
        g_set_error(&self->error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "match snapshot %s: cannot be reset: %s",
                    self->path, error ? error->message : g_strerror(errno));
    }
  self->size = header ? header->len : good_end;
  self->committed_strings = threatq_snap_strings_count(self->strings);
  self->loaded = TRUE;
  g_clear_error(&error);
  if (header)
    g_byte_array_free(header, TRUE);
}

static void
_reserve(Load *load, guint64 entries)
{
  /* the header's count, as far as the file's length and the set's bound allow */
  guint64 count = MIN(entries, load->file_size / THREATQ_SNAP_ENTRY_MIN);
  gsize max_size = threatq_match_set_get_max_size(load->set);
  if (max_size)
    count = MIN(count, max_size);
  if (count)
    threatq_match_set_reserve(load->set, (gsize) count);
}

gboolean
threatq_match_snapshot_load(ThreatqMatchSnapshot *self, ThreatqMatchSet *set, gchar **position)
{
  Load load = { .self = self, .set = set, .reader = { .fd = self->fd } };
  struct stat st;
  guint64 entries = 0, end = 0;

  g_return_val_if_fail(!self->loaded, FALSE);
  _set_error(self, NULL);
  if (fstat(self->fd, &st) == 0)
    load.file_size = (guint64) st.st_size;
  gsize header = _load_header(&load, &entries);
  if (header)
    {
      load.good_end = header;
      _reserve(&load, entries);
      for (guint64 start = header; _scan_page(&load, start, &end); start = end)
        _apply_page(&load, start, end);
      if (load.damaged)
        _unload(&load);
    }
  self->error = load.error;
  _prepare_appends(self, load.good_end);
  g_free(load.reader.data);
  *position = load.loaded_page ? load.position : NULL;
  if (!load.loaded_page)
    g_free(load.position);
  self->last_position = g_strdup(*position);
  return load.loaded_page;
}

/* ---- compaction ------------------------------------------------------- */

typedef struct
{
  ThreatqMatchSnapshot *self;
  gchar *path;
  gint fd;
  GByteArray *page;
  ThreatqSnapStrings *strings;
  const gchar *position;
  guint64 size;
  guint64 entry_records;
  guint64 entry_record_bytes;
  GError *error;
} Compaction;

static void
_compact_flush(Compaction *c)
{
  threatq_snap_encode_commit(c->page, c->position);
  if (!c->error && _write_all(c->fd, c->page->data, c->page->len, c->size, c->path, &c->error))
    c->size += c->page->len;
  g_byte_array_set_size(c->page, 0);
}

static void
_compact_entry(const ThreatqMatchEntry *entry, gpointer user_data)
{
  Compaction *c = user_data;
  guint before = c->page->len;

  if (c->error)
    return;
  threatq_snap_encode_entry(c->page, c->strings, entry);
  c->entry_records++;
  c->entry_record_bytes += c->page->len - before;
  if (c->page->len >= PAGE_FLUSH)
    _compact_flush(c);
}

static void
_sync_directory(const gchar *path)
{
  gchar *directory = g_path_get_dirname(path);
  gint fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  /* the rename itself survives a crash only once the directory is on disk; best effort */
  if (fd >= 0)
    {
      fsync(fd);
      close(fd);
    }
  g_free(directory);
}

/* the set's entries into c->path: one header, pages of at most PAGE_FLUSH, all committed with position */
static void
_compact_write(Compaction *c, ThreatqMatchSet *set)
{
  ThreatqMatchSetStats stats;

  threatq_match_set_get_stats(set, &stats);
  threatq_snap_encode_header(c->page, c->self->identity, stats.entries);
  if (_write_all(c->fd, c->page->data, c->page->len, 0, c->path, &c->error))
    c->size = c->page->len;
  g_byte_array_set_size(c->page, 0);
  if (c->error)
    return;
  threatq_match_set_foreach(set, _compact_entry, c);
  /* always a last commit, so that even an empty set has its position */
  _compact_flush(c);
  if (!c->error && fsync(c->fd) < 0)
    g_set_error(&c->error, G_FILE_ERROR, g_file_error_from_errno(errno), "match snapshot %s: fsync: %s", c->path,
                g_strerror(errno));
  if (!c->error && rename(c->path, c->self->path) < 0)
    g_set_error(&c->error, G_FILE_ERROR, g_file_error_from_errno(errno), "match snapshot %s: rename: %s",
                c->self->path, g_strerror(errno));
}

/* the new file replaces the old one in self */
static void
_compact_adopt(ThreatqMatchSnapshot *self, Compaction *c)
{
  close(self->fd);
  self->fd = c->fd;
  self->size = c->size;
  threatq_snap_strings_free(self->strings);
  self->strings = c->strings;
  self->committed_strings = threatq_snap_strings_count(c->strings);
  self->entry_records = c->entry_records;
  self->entry_record_bytes = c->entry_record_bytes;
  self->needs_rewrite = FALSE;
  g_free(self->last_position);
  self->last_position = g_strdup(c->position);
  g_byte_array_set_size(self->page, 0);
}

static gboolean
_compact(ThreatqMatchSnapshot *self, ThreatqMatchSet *set, const gchar *position, GError **error)
{
  Compaction c = { .self = self, .position = position };

  c.path = g_strconcat(self->path, ".tmp", NULL);
  c.fd = open(c.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (c.fd < 0)
    g_set_error(&c.error, G_FILE_ERROR, g_file_error_from_errno(errno), "match snapshot %s: cannot create: %s",
                c.path, g_strerror(errno));
  c.page = g_byte_array_sized_new(PAGE_FLUSH + 4096);
  c.strings = threatq_snap_strings_new();
  if (!c.error)
    _compact_write(&c, set);
  if (c.error)
    {
      if (c.fd >= 0)
        close(c.fd);
      unlink(c.path);
      threatq_snap_strings_free(c.strings);
    }
  else
    {
      _sync_directory(self->path);
      _compact_adopt(self, &c);
    }
  g_byte_array_free(c.page, TRUE);
  g_free(c.path);
  _set_error(self, c.error);
  if (c.error)
    g_propagate_error(error, c.error);
  return !self->error;
}

/* the entries' share of the file, from the average entry record written so far */
static gboolean
_has_grown(ThreatqMatchSnapshot *self, ThreatqMatchSet *set)
{
  ThreatqMatchSetStats stats;

  if (self->size < COMPACT_MIN)
    return FALSE;
  threatq_match_set_get_stats(set, &stats);
  guint64 average = self->entry_records ? self->entry_record_bytes / self->entry_records : 64;
  return self->size > 2 * (guint64) stats.entries * average;
}

gboolean
threatq_match_snapshot_maybe_compact(ThreatqMatchSnapshot *self, ThreatqMatchSet *set, const gchar *position,
                                     GError **error)
{
  if (!self->loaded)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "match snapshot %s: not loaded", self->path);
      return FALSE;
    }
  if (position && strlen(position) > THREATQ_MATCH_SNAPSHOT_POSITION_MAX)
    {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "match snapshot %s: position longer than %d bytes",
                  self->path, THREATQ_MATCH_SNAPSHOT_POSITION_MAX);
      return FALSE;
    }
  if (!self->needs_rewrite && !_has_grown(self, set))
    return TRUE;
  return _compact(self, set, position, error);
}
