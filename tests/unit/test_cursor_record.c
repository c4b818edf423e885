/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-cursor-record: which cursors are used, and the persisted layout
 * (collection, two checksummed slots) read back after torn writes.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-cursor-record.h"

typedef struct
{
  gchar cursor[48];
  gsize length;               /* 0: strlen */
  gboolean valid;
} CursorCase;

ParameterizedTestParameters(cursor_record, is_valid)
{
  static CursorCase cases[] =
  {
    { "*", 0, TRUE },
    { "AoIIP4AAACgxMDAw", 0, TRUE },
    { "+/=!~", 0, TRUE },
    { "", 0, FALSE },
    { "a b", 0, FALSE },
    { "a\nb", 0, FALSE },
    { "a\rb", 0, FALSE },
    { "a\tb", 0, FALSE },
    { "a\x7f", 0, FALSE },
    { "\xc3\xa9", 0, FALSE },
    { "ab\0cd", 5, FALSE },
  };
  return cr_make_param_array(CursorCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(CursorCase *c, cursor_record, is_valid)
{
  gchar problem[128] = "";
  gsize length = c->length ? c->length : strlen(c->cursor);
  cr_assert_eq(threatq_cursor_is_valid(c->cursor, length, problem, sizeof(problem)), c->valid, "\"%s\"", c->cursor);
  if (!c->valid)
    cr_assert(strstr(problem, "nextCursorMark"), "%s", problem);
}

Test(cursor_record, length_bound)
{
  gchar *cursor = g_malloc(3 * 1024 * 1024);
  gchar problem[128];

  memset(cursor, 'A', 3 * 1024 * 1024);
  cr_assert(threatq_cursor_is_valid(cursor, THREATQ_CURSOR_MAX_LENGTH, problem, sizeof(problem)));
  cr_assert_not(threatq_cursor_is_valid(cursor, THREATQ_CURSOR_MAX_LENGTH + 1, problem, sizeof(problem)));
  cr_assert_not(threatq_cursor_is_valid(cursor, 3 * 1024 * 1024, problem, sizeof(problem)));
  cr_assert(strstr(problem, "3145728 bytes"), "%s", problem);
  g_free(cursor);
}

static ThreatqCursorRecord *
_record(void)
{
  ThreatqCursorRecord *record = g_new(ThreatqCursorRecord, 1);
  threatq_cursor_record_init(record, "abc123", "https://tq.example.com");
  return record;
}

Test(cursor_record, empty_then_written_then_overwritten)
{
  ThreatqCursorRecord *record = _record();
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH + 1];

  cr_assert_not(threatq_cursor_record_read(record, cursor));
  cr_assert(threatq_cursor_record_write(record, "first", 5));
  cr_assert(threatq_cursor_record_read(record, cursor));
  cr_assert_str_eq(cursor, "first");
  for (gint i = 0; i < 5; i++)
    {
      gchar *next = g_strdup_printf("cursor-%d", i);
      cr_assert(threatq_cursor_record_write(record, next, strlen(next)));
      cr_assert(threatq_cursor_record_read(record, cursor));
      cr_assert_str_eq(cursor, next);
      g_free(next);
    }
  g_free(record);
}

Test(cursor_record, invalid_cursor_is_not_written)
{
  ThreatqCursorRecord *record = _record();
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH + 1];
  gchar *long_cursor = g_strnfill(THREATQ_CURSOR_MAX_LENGTH + 1, 'x');

  cr_assert(threatq_cursor_record_write(record, "kept", 4));
  cr_assert_not(threatq_cursor_record_write(record, long_cursor, strlen(long_cursor)));
  cr_assert_not(threatq_cursor_record_write(record, "a\nb", 3));
  cr_assert(threatq_cursor_record_read(record, cursor));
  cr_assert_str_eq(cursor, "kept");

  long_cursor[THREATQ_CURSOR_MAX_LENGTH] = '\0';
  cr_assert(threatq_cursor_record_write(record, long_cursor, THREATQ_CURSOR_MAX_LENGTH));
  cr_assert(threatq_cursor_record_read(record, cursor));
  cr_assert_str_eq(cursor, long_cursor);
  g_free(long_cursor);
  g_free(record);
}

/* the slot the next write goes to: the one not current */
static ThreatqCursorSlot *
_older_slot(ThreatqCursorRecord *record)
{
  return record->slots[0].sequence < record->slots[1].sequence ? &record->slots[0] : &record->slots[1];
}

Test(cursor_record, torn_write_leaves_the_previous_cursor)
{
  ThreatqCursorRecord *record = _record();
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH + 1];

  cr_assert(threatq_cursor_record_write(record, "one", 3));
  cr_assert(threatq_cursor_record_write(record, "two", 3));

  /* a crash after the length and half the bytes of "three-and-more" went into the older slot */
  ThreatqCursorRecord torn = *record;
  ThreatqCursorSlot *target = _older_slot(&torn);
  target->length = 14;
  memcpy(target->cursor, "three-a", 7);
  cr_assert(threatq_cursor_record_read(&torn, cursor));
  cr_assert_str_eq(cursor, "two");

  /* ...and a crash after the sequence number but before the checksum */
  target->sequence = MAX(torn.slots[0].sequence, torn.slots[1].sequence) + 1;
  cr_assert(threatq_cursor_record_read(&torn, cursor));
  cr_assert_str_eq(cursor, "two");

  /* a cursor byte flipped in the current slot: the other one is read */
  ThreatqCursorRecord flipped = *record;
  ThreatqCursorSlot *current = _older_slot(&flipped) == &flipped.slots[0] ? &flipped.slots[1] : &flipped.slots[0];
  current->cursor[0] ^= 1;
  cr_assert(threatq_cursor_record_read(&flipped, cursor));
  cr_assert_str_eq(cursor, "one");

  /* both slots broken: nothing (the caller starts from "*") */
  flipped.slots[0].length = THREATQ_CURSOR_MAX_LENGTH + 1;
  flipped.slots[1].length = THREATQ_CURSOR_MAX_LENGTH + 1;
  cr_assert_not(threatq_cursor_record_read(&flipped, cursor));
  g_free(record);
}

Test(cursor_record, sequence_wraps)
{
  ThreatqCursorRecord *record = _record();
  gchar cursor[THREATQ_CURSOR_MAX_LENGTH + 1];

  cr_assert(threatq_cursor_record_write(record, "a", 1));
  /* pretend many writes happened: the current slot is at the top of the range */
  ThreatqCursorSlot *slot = record->slots[0].sequence ? &record->slots[0] : &record->slots[1];
  slot->sequence = G_MAXUINT32;
  memcpy(slot->cursor, "top", 3);
  slot->length = 3;
  cr_assert(threatq_cursor_record_write(record, "top", 3));   /* recomputes nothing in slot: write anew */
  cr_assert(threatq_cursor_record_write(record, "after-wrap", 10));
  cr_assert(threatq_cursor_record_read(record, cursor));
  cr_assert_str_eq(cursor, "after-wrap");
  cr_assert(threatq_cursor_record_write(record, "next", 4));
  cr_assert(threatq_cursor_record_read(record, cursor));
  cr_assert_str_eq(cursor, "next");
  g_free(record);
}

Test(cursor_record, belongs_to_its_collection_only)
{
  ThreatqCursorRecord *record = _record();

  cr_assert(threatq_cursor_record_belongs_to(record, "abc123"));
  cr_assert_not(threatq_cursor_record_belongs_to(record, "other"));
  cr_assert_not(threatq_cursor_record_belongs_to(record, "abc1234"));
  /* an unterminated collection field (a foreign or damaged entry) belongs to nobody */
  memset(record->collection, 'a', sizeof(record->collection));
  cr_assert_not(threatq_cursor_record_belongs_to(record, "aaa"));
  g_free(record);
}
