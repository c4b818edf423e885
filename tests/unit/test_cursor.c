/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-cursor: the cursor's persist entry in a real persist file
 * (syslog-ng's PersistState) and the bookmark that moves it: a fresh entry,
 * a save that survives reopening the file, another collection under the same
 * persist name, the upgrade of a version 1 entry, an unknown layout.
 */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>

#include "threatq-cursor.h"
#include "threatq-cursor-record.h"
#include "persistable-state-header.h"
#include "apphook.h"
#include "log-capture.h"

#define PERSIST_NAME "threatq(tq-test)"
#define URL "https://threatq.example"

/* the version 1 layout as older threatq() wrote it: the format of existing persist files */
typedef struct
{
  PersistableStateHeader header;
  guint32 length;
  gchar cursor[1024];
} CursorStateV1;

static gchar *directory;
static gchar *filename;
static PersistState *state;

static PersistState *
_open_state(void)
{
  PersistState *opened = persist_state_new(filename);

  cr_assert(persist_state_start(opened));
  return opened;
}

static void
_reopen_state(void)
{
  cr_assert(persist_state_commit(state));
  persist_state_free(state);
  state = _open_state();
}

static void
_setup(void)
{
  app_startup();
  log_capture_start();
  directory = g_dir_make_tmp("test_cursor-XXXXXX", NULL);
  cr_assert_not_null(directory);
  filename = g_build_filename(directory, "syslog-ng.persist", NULL);
  state = _open_state();
}

static void
_teardown(void)
{
  persist_state_cancel(state);
  persist_state_free(state);
  g_unlink(filename);
  g_rmdir(directory);
  g_free(filename);
  g_free(directory);
  log_capture_stop();
  app_shutdown();
}

TestSuite(cursor, .init = _setup, .fini = _teardown);

static void
_assert_loads(ThreatqCursorStore *store, const gchar *expected)
{
  GRefString *cursor = threatq_cursor_store_load(store);

  cr_assert_str_eq(cursor, expected);
  g_ref_string_release(cursor);
}

/* what the ack tracker does once the message holding the bookmark is acknowledged */
static void
_acknowledge(ThreatqCursorStore *store, const gchar *cursor_text)
{
  Bookmark bookmark = { .persist_state = state };
  GRefString *cursor = g_ref_string_new(cursor_text);

  threatq_cursor_fill_bookmark(&bookmark, store, cursor);
  g_ref_string_release(cursor);
  bookmark_save(&bookmark);
  bookmark_destroy(&bookmark);
}

Test(cursor, a_new_entry_starts_from_the_beginning)
{
  ThreatqCursorStore store;

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
  cr_assert_not(log_capture_contains("threatq:"), "a new entry is nothing to warn about");
}

Test(cursor, an_acknowledged_cursor_is_stored_and_survives_a_restart)
{
  ThreatqCursorStore store;

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _acknowledge(&store, "AoE1");
  _assert_loads(&store, "AoE1");
  _acknowledge(&store, "AoE2");
  _assert_loads(&store, "AoE2");

  _reopen_state();
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, "AoE2");
}

/* the bookmark only sets the cursor when it is saved, i.e. acknowledged */
Test(cursor, a_bookmark_not_saved_moves_nothing)
{
  ThreatqCursorStore store;
  Bookmark bookmark = { .persist_state = state };
  GRefString *cursor = g_ref_string_new("AoE9");

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _acknowledge(&store, "AoE1");
  threatq_cursor_fill_bookmark(&bookmark, &store, cursor);
  g_ref_string_release(cursor);
  _assert_loads(&store, "AoE1");
  bookmark_destroy(&bookmark);
  _assert_loads(&store, "AoE1");
}

Test(cursor, another_collection_under_the_same_persist_name_starts_over)
{
  ThreatqCursorStore store;

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _acknowledge(&store, "AoE1");
  _reopen_state();

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-b", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
  cr_assert(log_capture_contains("the stored cursor belongs to another collection"));
  cr_assert(log_capture_contains("driver='tq-test'"));
  cr_assert(log_capture_contains("stored_collection='coll-a'"));

  /* and the entry is coll-b's now: going back to coll-a starts over too */
  _acknowledge(&store, "BoE1");
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-b", URL));
  _assert_loads(&store, "BoE1");
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
}

static void
_write_v1(const gchar *cursor, guint32 length)
{
  PersistEntryHandle handle = persist_state_alloc_entry(state, PERSIST_NAME, sizeof(CursorStateV1));
  CursorStateV1 *stored = persist_state_map_entry(state, handle);

  memset(stored, 0, sizeof(*stored));
  stored->header.version = 1;
  stored->length = length;
  memcpy(stored->cursor, cursor, MIN(strlen(cursor), sizeof(stored->cursor)));
  persist_state_unmap_entry(state, handle);
}

Test(cursor, a_version_1_entry_is_upgraded_with_its_cursor)
{
  ThreatqCursorStore store;

  _write_v1("AoEold", 6);
  _reopen_state();
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, "AoEold");
  cr_assert(log_capture_contains("upgraded the stored cursor"));

  /* upgraded once: the next open finds version 2 */
  _acknowledge(&store, "AoEnew");
  _reopen_state();
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, "AoEnew");
  cr_assert_eq(log_capture_count("upgraded the stored cursor"), 1);
}

Test(cursor, a_version_1_entry_with_an_unusable_cursor_starts_over)
{
  ThreatqCursorStore store;

  _write_v1("Ao\nE", 4);
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
}

Test(cursor, a_version_1_entry_with_a_length_past_its_buffer_starts_over)
{
  ThreatqCursorStore store;

  _write_v1("AoE", 5000);
  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
}

/* an entry of a few bytes that claims a layout version: not read past its end, started over */
static void
_assert_short_entry_starts_over(guint8 version)
{
  ThreatqCursorStore store;
  PersistEntryHandle handle = persist_state_alloc_entry(state, PERSIST_NAME, sizeof(PersistableStateHeader) + 8);
  PersistableStateHeader *header = persist_state_map_entry(state, handle);

  header->version = version;
  persist_state_unmap_entry(state, handle);

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _assert_loads(&store, THREATQ_CURSOR_START);
  cr_assert(log_capture_contains("the stored cursor has an unknown layout"), "version %u", version);
  _acknowledge(&store, "AoE1");
  _assert_loads(&store, "AoE1");
}

Test(cursor, an_unknown_layout_starts_over_with_a_warning)
{
  _assert_short_entry_starts_over(7);
}

Test(cursor, a_truncated_version_2_entry_starts_over)
{
  _assert_short_entry_starts_over(2);
}

Test(cursor, a_truncated_version_1_entry_starts_over)
{
  _assert_short_entry_starts_over(1);
}

/* the reader never hands out such a cursor; if it did, the stored one stays */
Test(cursor, a_cursor_that_cannot_be_stored_keeps_the_previous_one)
{
  ThreatqCursorStore store;
  gchar *too_long = g_strnfill(THREATQ_CURSOR_MAX_LENGTH + 1, 'A');

  cr_assert(threatq_cursor_store_open(&store, state, "tq-test", PERSIST_NAME, "coll-a", URL));
  _acknowledge(&store, "AoE1");
  _acknowledge(&store, too_long);
  _assert_loads(&store, "AoE1");
  cr_assert(log_capture_contains("cursor cannot be stored"));
  g_free(too_long);
}

/* two sources, two entries: one's acknowledgement does not move the other */
Test(cursor, entries_are_per_persist_name)
{
  ThreatqCursorStore first, second;

  cr_assert(threatq_cursor_store_open(&first, state, "tq-a", "threatq(a)", "coll", URL));
  cr_assert(threatq_cursor_store_open(&second, state, "tq-b", "threatq(b)", "coll", URL));
  _acknowledge(&first, "AoE1");
  _assert_loads(&first, "AoE1");
  _assert_loads(&second, THREATQ_CURSOR_START);
}
