/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The part of a recording yajl_callbacks set (tests/unit/test_json_events.c,
 * tests/fuzz/fuzz_json_events.c) that asks to skip values: its key callback
 * answers THREATQ_JSON_SKIP_VALUE for the keys a seed picks.  The fast path
 * then calls back for none of the value; yajl does, and the recorder leaves
 * those events out, counting what the fast path counts (scalars and starts)
 * the depth of the deepest start it skips and the most tokens of one skipped
 * value.  One recorder, one thread.
 */
#ifndef JSON_SKIP_RECORDER_H
#define JSON_SKIP_RECORDER_H

#include <glib.h>
#include "threatq-json-events.h"

typedef struct
{
  guint seed;                 /* 0: no key skips its value; else those with (length + seed) % 3 == 0 */
  gboolean quiet;             /* yajl only: in a skipped value, which is not recorded */
  gint nesting;
  gint deepest_start;         /* the depth before the deepest start in a skipped value */
  guint tokens;               /* scalars and starts in skipped values */
  guint value_tokens;         /* ... in the skipped value being recorded */
  guint most_value_tokens;    /* ... in the longest skipped value */
} JsonSkipRecorder;

/* an event yajl calls back inside a skipped value (depth: after it); it ends with the value */
static inline int
json_skip_recorder_event(JsonSkipRecorder *self, gint depth, gint nesting, gboolean is_key)
{
  if (!is_key && nesting >= 0)
    {
      self->tokens++;
      self->value_tokens++;
      self->most_value_tokens = MAX(self->most_value_tokens, self->value_tokens);
    }
  if (nesting > 0)
    self->deepest_start = MAX(self->deepest_start, depth - 1);
  self->nesting += nesting;
  if (self->nesting == 0 && !is_key)
    self->quiet = FALSE;
  return 1;
}

/* the key callback's answer for a key it records and does not cancel at; by_yajl: yajl is calling */
static inline int
json_skip_recorder_key(JsonSkipRecorder *self, gsize length, gboolean by_yajl)
{
  if (!self->seed || (length + self->seed) % 3 != 0)
    return 1;
  if (by_yajl)
    {
      self->quiet = TRUE;
      self->nesting = 0;
      self->value_tokens = 0;
    }
  return THREATQ_JSON_SKIP_VALUE;
}

#endif
