/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-snapshot: a set written and loaded again is the same set (every field of every
 * entry, and the lookups of every kind); a tail torn at any byte is cut at the last commit; a
 * damaged page, header or identity is refused; compaction keeps the content and shrinks the file;
 * every bound holds.  Also the raw-entry insert of threatq-match-set.h that loading uses.
 */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "threatq-match-snapshot.h"
#include "threatq-match-snapshot-format.h"

#define NOW G_GINT64_CONSTANT(1700000000)
#define IDENTITY "https://tq.example/api collection=7 filter=Active"

static gchar *dir;
static gchar *path;
static GPtrArray *garbage;      /* strings the helpers return: freed after each test */

static gpointer
_gc(gpointer text)
{
  if (text)
    g_ptr_array_add(garbage, text);
  return text;
}

static void
_setup(void)
{
  dir = g_dir_make_tmp("test_match_snapshot-XXXXXX", NULL);
  cr_assert_not_null(dir);
  path = g_build_filename(dir, "s.match", NULL);
  garbage = g_ptr_array_new_with_free_func(g_free);
}

static void
_teardown(void)
{
  gchar *tmp = g_strconcat(path, ".tmp", NULL);
  g_unlink(tmp);
  g_unlink(path);
  g_rmdir(dir);
  g_free(tmp);
  g_free(path);
  g_free(dir);
  g_ptr_array_free(garbage, TRUE);
}

TestSuite(match_snapshot, .init = _setup, .fini = _teardown);

/* ---- helpers ---------------------------------------------------------- */

static const gchar *providers_a[] = { "Feed A", "Feed B", NULL };
static const gchar *providers_b[] = { "Feed C", NULL };

static void
_add(ThreatqMatchSet *set, gint64 id, const gchar *type, const gchar *value, gint variant)
{
  ThreatqMatchIndicator indicator =
  {
    .id = id, .type = type, .type_length = -1, .value = value, .value_length = -1,
    .has_score = variant % 3 != 0, .score = 1.5 * variant, .confidence = variant % 2 ? "High" : NULL,
    .tlp = variant % 4 ? "amber" : NULL, .providers = variant % 2 ? providers_a : providers_b,
    .description = variant % 5 ? "seen in campaign X" : NULL,
    .updated_at = NOW - 1000 + variant, .first_seen = NOW - 5000, .last_seen = NOW - 10,
    .expires_at = variant == 7 ? NOW - 1 : THREATQ_MATCH_NEVER,
  };
  cr_assert_neq(threatq_match_set_insert(set, &indicator), THREATQ_MATCH_SKIPPED, "%s %s", type, value);
}

static const gchar *every_kind[][2] =
{
  { "IP Address", "192.0.2.1" }, { "IPv6 Address", "2001:db8::1" }, { "CIDR Block", "198.51.100.0/24" },
  { "CIDR Block", "198.51.0.0/16" }, { "CIDR Block", "2001:db8:1::/48" }, { "FQDN", "evil.example" },
  { "URL", "https://evil.example/a?b=c" }, { "URL", "bad.example:8080/x.php" },
  { "Email Address", "Phish@Evil.Example" }, { "MD5", "d41d8cd98f00b204e9800998ecf8427e" },
  { "SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
  { "SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "SHA-384", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b" },
  { "SHA-512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f"
    "63b931bd47417a81a538327af927da3e" },
  { "IP Address", "203.0.113.7" },
};

static const gchar *lookups[] =
{
  "192.0.2.1", "2001:db8::1", "198.51.100.77", "198.51.7.7", "2001:db8:1:2::3", "evil.example", "a.evil.example",
  "https://evil.example/a?b=c", "http://bad.example:8080/x.php", "phish@evil.example",
  "D41D8CD98F00B204E9800998ECF8427E", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "203.0.113.7", "10.0.0.1", "good.example",
};

static ThreatqMatchSet *
_every_kind_set(void)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++)
    _add(set, 100 + i, every_kind[i][0], every_kind[i][1], (gint) i);
  return set;
}

static void
_dump_entry(const ThreatqMatchEntry *entry, gpointer user_data)
{
  GPtrArray *lines = user_data;
  ThreatqMatchKey key;
  const gchar *profile;
  gsize profile_length = threatq_match_entry_profile(entry, &profile);
  GString *line = g_string_new(NULL);

  threatq_match_entry_key(entry, &key);
  g_string_append_printf(line, "%020" G_GINT64_FORMAT " %u/%u/%u ", entry->id, entry->kind, entry->prefix_len,
                         entry->type_index);
  threatq_match_key_format(&key, line);
  g_string_append_printf(line, " t=%u,%u,%u,%u s=%.3f p=", entry->updated_at, entry->expires_at,
                         entry->first_seen, entry->last_seen, entry->score);
  for (gsize i = 0; i < profile_length; i++)
    g_string_append_c(line, profile[i] ? profile[i] : '|');
  g_string_append_printf(line, " d=%s", entry->description ? entry->description : "(none)");
  g_ptr_array_add(lines, g_string_free(line, FALSE));
}

static gint
_compare_lines(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* every field of every entry, one line each, sorted by id */
static gchar *
_dump(ThreatqMatchSet *set)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
  threatq_match_set_foreach(set, _dump_entry, lines);
  g_ptr_array_sort(lines, _compare_lines);
  g_ptr_array_add(lines, NULL);
  gchar *dump = g_strjoinv("\n", (gchar **) lines->pdata);
  g_ptr_array_free(lines, TRUE);
  return _gc(dump);
}

/* the best hit of each lookup (parent domains on), as "value=id;" */
static gchar *
_lookups(ThreatqMatchSet *set)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(lookups); i++)
    {
      ThreatqMatchValue value;
      const ThreatqMatchEntry *hits[8];
      cr_assert(threatq_match_value_classify(lookups[i], strlen(lookups[i]), &value), "%s", lookups[i]);
      guint token = threatq_match_set_read_begin(set);
      gsize count = threatq_match_set_lookup(set, &value.key, NOW, TRUE, hits, 8);
      const ThreatqMatchEntry *best = threatq_match_best_hit(hits, count);
      g_string_append_printf(out, "%s=%" G_GINT64_FORMAT ";", lookups[i], best ? best->id : 0);
      threatq_match_set_read_end(set, token);
    }
  return _gc(g_string_free(out, FALSE));
}

static void
_append_all(const ThreatqMatchEntry *entry, gpointer user_data)
{
  threatq_match_snapshot_append_entry(user_data, entry);
}

static ThreatqMatchSnapshot *
_open(const gchar *identity)
{
  GError *error = NULL;
  ThreatqMatchSnapshot *snapshot = threatq_match_snapshot_open(path, identity, &error);
  cr_assert_not_null(snapshot, "%s", error ? error->message : "");
  return snapshot;
}

/* a new snapshot file holding set as one page committed at position */
static void
_write_set(ThreatqMatchSet *set, const gchar *position)
{
  ThreatqMatchSet *scratch = threatq_match_set_new(0);
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  gchar *loaded_position = NULL;
  cr_assert_not(threatq_match_snapshot_load(snapshot, scratch, &loaded_position));
  _gc(loaded_position);
  threatq_match_set_foreach(set, _append_all, snapshot);
  cr_assert(threatq_match_snapshot_commit(snapshot, position, NULL));
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(scratch);
}

/* loads the file into a new set: the set, the result, *position, and the error message (or NULL) */
static ThreatqMatchSet *
_load(const gchar *identity, gboolean *loaded, gchar **position, gchar **message)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  ThreatqMatchSnapshot *snapshot = _open(identity);
  *loaded = threatq_match_snapshot_load(snapshot, set, position);
  _gc(*position);
  const GError *error = threatq_match_snapshot_get_error(snapshot);
  *message = _gc(error ? g_strdup(error->message) : NULL);
  threatq_match_snapshot_free(snapshot);
  return set;
}

/* the file loads into a set equal to want (every field, every lookup), at want_position */
static void
_assert_file_holds(ThreatqMatchSet *want, const gchar *want_position)
{
  gboolean loaded;
  gchar *position, *message;
  ThreatqMatchSet *copy = _load(IDENTITY, &loaded, &position, &message);

  cr_assert(loaded, "%s", message);
  cr_assert_str_eq(position, want_position);
  cr_assert_str_eq(_dump(copy), _dump(want));
  cr_assert_str_eq(_lookups(copy), _lookups(want));
  threatq_match_set_free(copy);
}

static gsize
_file_size(void)
{
  GStatBuf st;
  cr_assert_eq(g_stat(path, &st), 0);
  return (gsize) st.st_size;
}

static gchar *
_read_file(gsize *length)
{
  gchar *bytes;
  cr_assert(g_file_get_contents(path, &bytes, length, NULL));
  return _gc(bytes);
}

static void
_write_file(const gchar *bytes, gsize length)
{
  cr_assert(g_file_set_contents(path, bytes, (gssize) length, NULL));
}

/* ---- tests ------------------------------------------------------------ */

Test(match_snapshot, round_trip_keeps_every_field_and_lookup)
{
  ThreatqMatchSet *original = _every_kind_set();
  _write_set(original, "cursor-1");

  gboolean loaded;
  gchar *position, *message;
  ThreatqMatchSet *copy = _load(IDENTITY, &loaded, &position, &message);
  cr_assert(loaded);
  cr_assert_str_eq(position, "cursor-1");
  cr_assert_null(message, "%s", message);

  gchar *want = _dump(original), *got = _dump(copy);
  cr_assert_str_eq(got, want);
  g_auto(GStrv) want_lines = g_strsplit(want, "\n", -1);
  cr_assert_eq(g_strv_length(want_lines), G_N_ELEMENTS(every_kind));
  gchar *want_hits = _lookups(original), *got_hits = _lookups(copy);
  cr_assert_str_eq(got_hits, want_hits);
  /* the test means something: lookups hit, the expired one (variant 7: the scheme-less URL) does not */
  cr_assert(strstr(want_hits, "198.51.100.77=102;"), "%s", want_hits);
  cr_assert(strstr(want_hits, "a.evil.example=105;"), "%s", want_hits);
  cr_assert(strstr(want_hits, "da39a3ee5e6b4b0d3255bfef95601890afd80709=110;"), "%s", want_hits);
  cr_assert(strstr(want_hits, "http://bad.example:8080/x.php=0;"), "%s", want_hits);
  cr_assert(strstr(want_hits, "10.0.0.1=0;"), "%s", want_hits);
  threatq_match_set_free(original);
  threatq_match_set_free(copy);
}

Test(match_snapshot, new_file_loads_nothing_and_writes_a_header)
{
  gboolean loaded;
  gchar *position = (gchar *) "x", *message;
  ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert_null(position);
  cr_assert_null(message, "a new file is no error: %s", message);
  cr_assert_eq(_file_size(), THREATQ_SNAP_HEADER_FIXED + strlen(IDENTITY));
  threatq_match_set_free(set);
}

/* three pages: inserts, removes and replacements, then appends after a load */
Test(match_snapshot, pages_of_removes_and_replacements)
{
  ThreatqMatchSet *live = threatq_match_set_new(0), *scratch = threatq_match_set_new(0);
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  gchar *position;
  cr_assert_not(threatq_match_snapshot_load(snapshot, scratch, &position));
  _gc(position);

  for (guint i = 0; i < G_N_ELEMENTS(every_kind); i++)
    _add(live, 100 + i, every_kind[i][0], every_kind[i][1], (gint) i);
  threatq_match_set_foreach(live, _append_all, snapshot);
  cr_assert(threatq_match_snapshot_commit(snapshot, "p1", NULL));

  /* page 2: 105 (evil.example) removed, 100 moved to another address */
  threatq_match_set_remove(live, 105);
  threatq_match_snapshot_append_remove(snapshot, 105);
  _add(live, 100, "IP Address", "192.0.2.99", 4);
  threatq_match_set_foreach(live, _append_all, snapshot);
  cr_assert(threatq_match_snapshot_commit(snapshot, "p2", NULL));
  threatq_match_snapshot_free(snapshot);

  _assert_file_holds(live, "p2");
  cr_assert(strstr(_lookups(live), "evil.example=0;"));
  cr_assert(strstr(_lookups(live), "192.0.2.1=0;"));

  /* a third page after the load, then load again */
  snapshot = _open(IDENTITY);
  ThreatqMatchSet *copy = threatq_match_set_new(0);
  cr_assert(threatq_match_snapshot_load(snapshot, copy, &position));
  _gc(position);
  threatq_match_snapshot_append_remove(snapshot, 101);
  threatq_match_set_remove(live, 101);
  cr_assert(threatq_match_snapshot_commit(snapshot, "p3", NULL));
  threatq_match_snapshot_free(snapshot);
  _assert_file_holds(live, "p3");
  threatq_match_set_free(copy);
  threatq_match_set_free(live);
  threatq_match_set_free(scratch);
}

/* page 1 = every kind at "p1"; page 2 = removes and new entries at "p2"; returns page 1's end */
static gsize
_two_pages(gchar **page1_dump)
{
  ThreatqMatchSet *set = _every_kind_set(), *scratch = threatq_match_set_new(0);
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  gchar *position;

  cr_assert_not(threatq_match_snapshot_load(snapshot, scratch, &position));
  _gc(position);
  threatq_match_set_foreach(set, _append_all, snapshot);
  cr_assert(threatq_match_snapshot_commit(snapshot, "p1", NULL));
  *page1_dump = _dump(set);
  gsize end = (gsize) threatq_match_snapshot_get_size(snapshot);

  ThreatqMatchSet *more = threatq_match_set_new(0);
  _add(more, 500, "FQDN", "new.example", 1);
  _add(more, 501, "URL", "http://new.example/with-a-new-description", 2);
  threatq_match_snapshot_append_remove(snapshot, 100);
  threatq_match_set_foreach(more, _append_all, snapshot);
  threatq_match_snapshot_append_remove(snapshot, 101);
  cr_assert(threatq_match_snapshot_commit(snapshot, "p2", NULL));
  cr_assert_eq(_file_size(), threatq_match_snapshot_get_size(snapshot));
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(more);
  threatq_match_set_free(set);
  threatq_match_set_free(scratch);
  return end;
}

Test(match_snapshot, torn_tail_at_every_byte_is_cut_at_the_last_commit)
{
  gchar *page1;
  gsize page1_end = _two_pages(&page1), length;
  gchar *whole = _read_file(&length);

  cr_assert_gt(length, page1_end + 20);
  for (gsize cut = page1_end; cut < length; cut++)
    {
      _write_file(whole, cut);
      gboolean loaded;
      gchar *position, *message;
      ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
      cr_assert(loaded, "cut at %zu", cut);
      cr_assert_str_eq(position, "p1", "cut at %zu", cut);
      gchar *dump = _dump(set);
      cr_assert_str_eq(dump, page1, "cut at %zu", cut);
      if (cut == page1_end)
        cr_assert_null(message, "cut at a commit is no damage: %s", message);
      else
        cr_assert(message && strstr(message, "torn page"), "cut at %zu: %s", cut, message);
      /* the torn part is gone, so appends follow the commit */
      cr_assert_eq(_file_size(), page1_end, "cut at %zu", cut);
      threatq_match_set_free(set);
    }
  /* and the whole file has both pages */
  _write_file(whole, length);
  gboolean loaded;
  gchar *position, *message;
  ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_str_eq(position, "p2");
  cr_assert(strstr(_lookups(set), "a.evil.example=105;"));
  cr_assert_str_neq(_dump(set), page1);
  threatq_match_set_free(set);
}

/* damage other than a torn tail may hide pages that the stored cursor has passed: nothing is used */
Test(match_snapshot, bad_checksum_refuses_the_whole_file)
{
  gchar *page1;
  gsize page1_end = _two_pages(&page1), length;
  gchar *whole = _read_file(&length);
  gsize offsets[] = { length - 5, page1_end - 5 };

  /* a flipped byte in page 2's position, then in page 1's: the records stay well-formed, only the CRC can tell */
  for (guint i = 0; i < G_N_ELEMENTS(offsets); i++)
    {
      gboolean loaded;
      gchar *position, *message;
      gchar *copy = g_memdup2(whole, length);
      copy[offsets[i]] ^= 0x01;
      _write_file(copy, length);
      ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
      cr_assert_not(loaded, "damage at %zu", offsets[i]);
      cr_assert_null(position);
      cr_assert_str_eq(_dump(set), "", "the pages before the damage are taken back");
      cr_assert(message && strstr(message, "commit checksum mismatch") && strstr(message, "not used"), "%s", message);
      /* the file starts afresh: a header and nothing else */
      cr_assert_eq(_file_size(), THREATQ_SNAP_HEADER_FIXED + strlen(IDENTITY));
      threatq_match_set_free(set);
      g_free(copy);
    }

  /* a record length grown in page 1 runs past the end of the file: damage, not a torn tail */
  gsize first_record = THREATQ_SNAP_HEADER_FIXED + strlen(IDENTITY) + THREATQ_SNAP_PAGE_HEADER;
  whole[first_record + 3] = 0x01;
  _write_file(whole, length);
  gboolean loaded;
  gchar *position, *message;
  ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert(message && strstr(message, "not used") && !strstr(message, "torn"), "%s", message);
  threatq_match_set_free(set);
}

Test(match_snapshot, another_identity_or_a_bad_header_is_ignored_and_reset)
{
  gchar *page1;
  _two_pages(&page1);
  gsize length;
  gchar *whole = _read_file(&length);
  gboolean loaded;
  gchar *position, *message;

  ThreatqMatchSet *set = _load("https://other.example collection=7 filter=Active", &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert_null(position);
  cr_assert_str_eq(_dump(set), "");
  cr_assert(message && strstr(message, "another identity"), "%s", message);
  /* the file starts afresh, for the identity now configured */
  cr_assert_lt(_file_size(), 100);
  threatq_match_set_free(set);

  struct
  {
    gsize offset;
    const gchar *message;
  } damage[] = { { 0, "bad magic" }, { 8, "format version" }, { 12, "longer than its bound" },
    { 20, "header checksum" } };
  for (guint i = 0; i < G_N_ELEMENTS(damage); i++)
    {
      gchar *copy = g_memdup2(whole, length);
      copy[damage[i].offset + 3] ^= 0x40;
      _write_file(copy, length);
      set = _load(IDENTITY, &loaded, &position, &message);
      cr_assert_not(loaded, "%s", damage[i].message);
      cr_assert_str_eq(_dump(set), "");
      cr_assert(message && strstr(message, damage[i].message), "want %s: %s", damage[i].message, message);
      threatq_match_set_free(set);
      g_free(copy);
    }
}

Test(match_snapshot, compaction_keeps_the_content_and_shrinks_the_file)
{
  ThreatqMatchSet *live = threatq_match_set_new(0), *scratch = threatq_match_set_new(0);
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  gchar *position;
  gsize largest = 0, compactions = 0;

  cr_assert_not(threatq_match_snapshot_load(snapshot, scratch, &position));
  _gc(position);
  /* 3000 indicators updated 8 times: the file grows to about 8 x the live entries */
  for (gint round = 0; round < 8; round++)
    {
      ThreatqMatchSet *page = threatq_match_set_new(0);
      for (gint i = 0; i < 3000; i++)
        {
          gchar *value = g_strdup_printf("host-%d.example", i);
          _add(live, i, "FQDN", value, round);
          _add(page, i, "FQDN", value, round);
          g_free(value);
        }
      threatq_match_set_foreach(page, _append_all, snapshot);
      threatq_match_set_free(page);
      gchar *at = g_strdup_printf("round-%d", round);
      cr_assert(threatq_match_snapshot_commit(snapshot, at, NULL));
      gsize before = (gsize) threatq_match_snapshot_get_size(snapshot);
      largest = MAX(largest, before);
      GError *error = NULL;
      cr_assert(threatq_match_snapshot_maybe_compact(snapshot, live, at, &error));
      if (threatq_match_snapshot_get_size(snapshot) < before)
        compactions++;
      cr_assert_eq(_file_size(), threatq_match_snapshot_get_size(snapshot));
      g_free(at);
    }
  threatq_match_snapshot_free(snapshot);
  cr_assert_geq(compactions, 1);
  /* never more than twice the live entries (plus a page) */
  cr_assert_lt(largest, 3 * _file_size() + 300000, "largest %zu, now %zu", largest, _file_size());

  _assert_file_holds(live, "round-7");
  threatq_match_set_free(live);
  threatq_match_set_free(scratch);
}

Test(match_snapshot, compaction_of_a_small_file_waits)
{
  ThreatqMatchSet *set = _every_kind_set();
  _write_set(set, "c");
  gsize before = _file_size();
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  ThreatqMatchSet *copy = threatq_match_set_new(0);
  gchar *position;
  cr_assert(threatq_match_snapshot_load(snapshot, copy, &position));
  _gc(position);
  threatq_match_set_remove(copy, 100);
  cr_assert(threatq_match_snapshot_maybe_compact(snapshot, copy, "c", NULL));
  cr_assert_eq(_file_size(), before);
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(copy);
  threatq_match_set_free(set);
}

Test(match_snapshot, many_distinct_strings_overflow_the_table_into_entries)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  for (gint i = 0; i < THREATQ_SNAP_STRINGS_MAX + 100; i++)
    {
      gchar *value = g_strdup_printf("h%d.example", i), *description = g_strdup_printf("description %d", i);
      ThreatqMatchIndicator indicator =
      {
        .id = i, .type = "FQDN", .type_length = -1, .value = value, .value_length = -1,
        .description = description, .expires_at = THREATQ_MATCH_NEVER,
      };
      threatq_match_set_insert(set, &indicator);
      g_free(value);
      g_free(description);
    }
  _write_set(set, "many");
  _assert_file_holds(set, "many");
  threatq_match_set_free(set);
}

/* a valid header followed by page bytes */
static void
_file_with_page(const guint8 *records, gsize length, gboolean close_page)
{
  GByteArray *file = g_byte_array_new(), *page = g_byte_array_new();
  threatq_snap_encode_header(file, IDENTITY, 0);
  g_byte_array_append(page, records, (guint) length);
  if (close_page)
    threatq_snap_encode_commit(page, "pos");
  g_byte_array_append(file, page->data, page->len);
  _write_file((const gchar *) file->data, file->len);
  g_byte_array_free(file, TRUE);
  g_byte_array_free(page, TRUE);
}

Test(match_snapshot, bounds)
{
  gboolean loaded;
  gchar *position, *message;

  /* a string record one byte longer than its bound, checksum and all */
  GByteArray *records = g_byte_array_new();
  guint32 too_long = THREATQ_MATCH_SNAPSHOT_STRING_MAX + 1;
  guint8 head[5] = { 'S', (guint8) too_long, (guint8) (too_long >> 8), (guint8) (too_long >> 16), 0 };
  g_byte_array_append(records, head, 5);
  g_byte_array_set_size(records, 5 + too_long);
  _file_with_page(records->data, records->len, TRUE);
  ThreatqMatchSet *set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert(message && strstr(message, "record longer than its bound"), "%s", message);
  threatq_match_set_free(set);

  /* an unknown record type */
  guint8 odd[5 + 8] = { 'X', 8 };
  _file_with_page(odd, sizeof(odd), TRUE);
  set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert(message && strstr(message, "unknown record type"), "%s", message);
  threatq_match_set_free(set);

  /* a page whose (sound) header says it is longer than its bound */
  guint32 page_length = THREATQ_MATCH_SNAPSHOT_PAGE_MAX + 1;
  guint8 page_header[THREATQ_SNAP_PAGE_HEADER] =
  {
    'P', 8, 0, 0, 0, (guint8) page_length, (guint8) (page_length >> 8), (guint8) (page_length >> 16), 0,
  };
  guint32 crc = threatq_snap_crc32(0, page_header, THREATQ_SNAP_PAGE_HEADER - 4);
  for (gint i = 0; i < 4; i++)
    page_header[THREATQ_SNAP_PAGE_HEADER - 4 + i] = (guint8) (crc >> (8 * i));
  GByteArray *file = g_byte_array_new();
  threatq_snap_encode_header(file, IDENTITY, 0);
  g_byte_array_append(file, page_header, sizeof(page_header));
  g_byte_array_set_size(file, file->len + page_length);
  _write_file((const gchar *) file->data, file->len);
  g_byte_array_free(file, TRUE);
  set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert(message && strstr(message, "page longer than its bound"), "%s", message);
  threatq_match_set_free(set);
  g_byte_array_free(records, TRUE);

  /* records without a page header */
  guint8 bare[5 + 8] = { 'R', 8 };
  _file_with_page(bare, sizeof(bare), FALSE);
  set = _load(IDENTITY, &loaded, &position, &message);
  cr_assert_not(loaded);
  cr_assert(message && strstr(message, "bad page header"), "%s", message);
  threatq_match_set_free(set);

  /* a position over 1 KiB is refused */
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  set = threatq_match_set_new(0);
  threatq_match_snapshot_load(snapshot, set, &position);
  _gc(position);
  gchar *long_position = g_strnfill(THREATQ_MATCH_SNAPSHOT_POSITION_MAX + 1, 'p');
  GError *error = NULL;
  cr_assert_not(threatq_match_snapshot_commit(snapshot, long_position, &error));
  cr_assert(error && strstr(error->message, "position longer"));
  g_clear_error(&error);
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(set);
  g_free(long_position);
}

Test(match_snapshot, a_file_beyond_the_size_bound_is_refused)
{
  ThreatqMatchSet *small = _every_kind_set();
  _write_set(small, "p");
  threatq_match_set_free(small);
  /* sparse: max_size 10 allows 64 MiB + 10 KiB */
  cr_assert_eq(truncate(path, THREATQ_MATCH_SNAPSHOT_FILE_BASE + 10 * THREATQ_MATCH_SNAPSHOT_FILE_PER_ENTRY + 1), 0);
  ThreatqMatchSet *set = threatq_match_set_new(10);
  ThreatqMatchSnapshot *snapshot = _open(IDENTITY);
  gchar *position;
  cr_assert_not(threatq_match_snapshot_load(snapshot, set, &position));
  _gc(position);
  const GError *error = threatq_match_snapshot_get_error(snapshot);
  cr_assert(error && strstr(error->message, "more than its bound"), "%s", error ? error->message : "");
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(set);
}

Test(match_snapshot, a_long_description_is_cut_to_the_bound)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  gchar *description = g_strnfill(THREATQ_MATCH_SNAPSHOT_STRING_MAX + 500, 'd');
  ThreatqMatchIndicator indicator =
  {
    .id = 1, .type = "FQDN", .type_length = -1, .value = "long.example", .value_length = -1,
    .description = description, .expires_at = THREATQ_MATCH_NEVER,
  };
  threatq_match_set_insert(set, &indicator);
  _write_set(set, "p");
  gboolean loaded;
  gchar *position, *message;
  ThreatqMatchSet *copy = _load(IDENTITY, &loaded, &position, &message);
  cr_assert(loaded);
  gchar *dump = _dump(copy);
  cr_assert(strstr(dump, description + 500), "the bound's worth of the description is kept");
  cr_assert_not(strstr(dump, description + 499), "and no more");
  threatq_match_set_free(copy);
  threatq_match_set_free(set);
  g_free(description);
}

/* what insert_entry refuses: a stored entry that would make the set unsound */
Test(match_snapshot, raw_insert_refuses_unsound_entries)
{
  ThreatqMatchSet *set = threatq_match_set_new(0);
  guint8 v4[4] = { 10, 1, 0, 0 }, v4_host[4] = { 10, 1, 0, 1 }, md5[16] = { 1 };
  ThreatqMatchRawEntry good =
  {
    .id = 1, .expires_at = THREATQ_MATCH_NEVER, .score = NAN, .kind = THREATQ_MATCH_KIND_IPV4, .prefix_len = 16,
    .type_index = 2, .key = v4, .key_length = 4, .profile = "High\0amber\0", .profile_length = 11,
  };
  struct
  {
    const gchar *what;
    ThreatqMatchRawEntry entry;
  } cases[] =
  {
    { "kind none", good }, { "kind out of range", good }, { "prefix beyond the address", good },
    { "host bits", good }, { "type index", good }, { "hash length", good }, { "string kind with prefix", good },
    { "profile without TLP", good }, { "profile not ended", good }, { "description with NUL", good },
    { "empty key", good },
  };
  cases[0].entry.kind = THREATQ_MATCH_KIND_NONE;
  cases[1].entry.kind = THREATQ_MATCH_KIND_COUNT;
  cases[2].entry.prefix_len = 33;
  cases[3].entry.key = v4_host;
  cases[4].entry.type_index = 200;
  cases[5].entry.kind = THREATQ_MATCH_KIND_MD5;
  cases[5].entry.prefix_len = 0;
  cases[5].entry.key = md5;
  cases[5].entry.key_length = 15;
  cases[6].entry.kind = THREATQ_MATCH_KIND_HOSTNAME;
  cases[7].entry.profile_length = 5;
  cases[8].entry.profile_length = 10;
  cases[9].entry.description = "a\0b";
  cases[9].entry.description_length = 3;
  cases[10].entry.kind = THREATQ_MATCH_KIND_HOSTNAME;
  cases[10].entry.prefix_len = 0;
  cases[10].entry.key_length = 0;
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    cr_assert_eq(threatq_match_set_insert_entry(set, &cases[i].entry), THREATQ_MATCH_SKIPPED, "%s", cases[i].what);
  cr_assert_str_eq(_dump(set), "");

  cr_assert_eq(threatq_match_set_insert_entry(set, &good), THREATQ_MATCH_INSERTED);
  cr_assert_eq(threatq_match_set_insert_entry(set, &good), THREATQ_MATCH_REPLACED);
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hit;
  threatq_match_value_classify("10.1.2.3", 8, &value);
  guint token = threatq_match_set_read_begin(set);
  cr_assert_eq(threatq_match_set_lookup(set, &value.key, NOW, FALSE, &hit, 1), 1);
  cr_assert_str_eq(threatq_match_entry_tlp(hit), "amber");
  cr_assert_null(threatq_match_entry_next_provider(hit, NULL));
  threatq_match_set_read_end(set, token);

  /* max_size holds for raw entries too */
  ThreatqMatchSet *one = threatq_match_set_new(1);
  cr_assert_eq(threatq_match_set_insert_entry(one, &good), THREATQ_MATCH_INSERTED);
  good.id = 2;
  cr_assert_eq(threatq_match_set_insert_entry(one, &good), THREATQ_MATCH_REFUSED_FULL);
  threatq_match_set_free(one);
  threatq_match_set_free(set);
}
