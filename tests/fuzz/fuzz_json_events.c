/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness, differential: arbitrary bytes through the JSON fast path
 * (threatq_json_events_parse(), modules/threatq/threatq-json-events.h) and
 * through yajl configured as threatq-mapper.c configures it (a fresh handle,
 * yajl_dont_validate_strings and nothing else, one yajl_parse() of the whole
 * input, then yajl_complete_parse()), both with recording callbacks.
 *
 * Built and run by tests/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 * The input is copied into a malloc() of exactly its size, so ASan reports a
 * read past its end.  Besides sanitizer reports, it aborts when:
 *   - the fast path says OK and yajl does not accept the input, or their
 *     events differ (kind, value bytes, bytes consumed before each callback);
 *   - with a callback that cancels at event k (k from the input's first
 *     byte, and k = the last event yajl reports), the fast path says
 *     CANCELLED and yajl does not, or their events up to the cancel differ;
 *   - the fast path says OK on a document nested deeper than
 *     THREATQ_JSON_MAX_DEPTH, or returns something that is not a result;
 *   - the same, with a key callback that asks to skip the values of some
 *     keys (THREATQ_JSON_SKIP_VALUE; which ones: from the input's last byte):
 *     the fast path's events must be yajl's without those in skipped values,
 *     its count of skipped scalars and starts yajl's, and an OK must not
 *     have skipped a start at depth THREATQ_JSON_SKIP_MAX_DEPTH or deeper,
 *     nor a value of more than THREATQ_JSON_SKIP_MAX_TOKENS tokens.
 * THREATQ_JSON_UNSURE is always allowed: the mapper then parses with yajl.
 * A page that never returns fails by libFuzzer's -timeout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <yajl/yajl_parse.h>

#include "threatq-json-events.h"
#include "../unit/json-skip-recorder.h"

#define CHECK(cond, ...) \
  do { if (!(cond)) { fprintf(stderr, "fuzz_json_events: check failed: %s: ", #cond); \
                      fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

typedef struct
{
  GString *log;               /* one line per event: kind@consumed#length:bytes */
  yajl_handle handle;         /* NULL: the fast path is calling */
  gsize consumed;             /* the fast path's yajl_get_bytes_consumed() */
  gsize length;               /* of the input */
  gint64 cancel_at;           /* the event that returns 0; -1: none */
  gint64 events;
  gint depth;
  gint max_depth;
  JsonSkipRecorder skip;
} Recorder;

static int
_event(Recorder *self, const gchar *kind, const void *text, gsize length, gint nesting)
{
  if (self->skip.quiet)
    {
      self->depth += nesting;
      return json_skip_recorder_event(&self->skip, self->depth, nesting, FALSE);
    }
  gsize consumed = self->handle ? yajl_get_bytes_consumed(self->handle) : self->consumed;
  CHECK(consumed <= self->length, "%s consumed %zu of %zu bytes", self->handle ? "yajl" : "fast path",
        consumed, self->length);
  g_string_append_printf(self->log, "%s@%" G_GSIZE_FORMAT "#%" G_GSIZE_FORMAT ":", kind, consumed, length);
  if (text)
    g_string_append_len(self->log, text, (gssize) length);
  g_string_append_c(self->log, '\n');
  self->depth += nesting;
  self->max_depth = MAX(self->max_depth, self->depth);
  return self->events++ != self->cancel_at;
}

static int
_null(void *ctx)
{
  return _event(ctx, "null", NULL, 0, 0);
}

static int
_boolean(void *ctx, int value)
{
  return _event(ctx, value ? "true" : "false", NULL, 0, 0);
}

static int
_number(void *ctx, const char *text, size_t length)
{
  return _event(ctx, "number", text, length, 0);
}

static int
_string(void *ctx, const unsigned char *text, size_t length)
{
  return _event(ctx, "string", text, length, 0);
}

static int
_key(void *ctx, const unsigned char *text, size_t length)
{
  Recorder *self = ctx;

  if (self->skip.quiet)
    return json_skip_recorder_event(&self->skip, self->depth, 0, TRUE);
  if (!_event(self, "key", text, length, 0))
    return 0;
  /* yajl goes on calling back for a skipped value: the recorder leaves it out */
  return json_skip_recorder_key(&self->skip, length, self->handle != NULL);
}

static int
_start_map(void *ctx)
{
  return _event(ctx, "{", NULL, 0, 1);
}

static int
_end_map(void *ctx)
{
  return _event(ctx, "}", NULL, 0, -1);
}

static int
_start_array(void *ctx)
{
  return _event(ctx, "[", NULL, 0, 1);
}

static int
_end_array(void *ctx)
{
  return _event(ctx, "]", NULL, 0, -1);
}

static const yajl_callbacks callbacks =
{
  .yajl_null = _null, .yajl_boolean = _boolean, .yajl_number = _number, .yajl_string = _string,
  .yajl_start_map = _start_map, .yajl_map_key = _key, .yajl_end_map = _end_map,
  .yajl_start_array = _start_array, .yajl_end_array = _end_array,
};

/* yajl as threatq-mapper.c (_parser_init(), _run()) runs it */
static yajl_status
_yajl(const gchar *input, gsize length, Recorder *recorder)
{
  recorder->handle = yajl_alloc(&callbacks, NULL, recorder);
  yajl_config(recorder->handle, yajl_dont_validate_strings, 1);
  yajl_status status = yajl_parse(recorder->handle, (const unsigned char *) input, length);
  if (status == yajl_status_ok)
    status = yajl_complete_parse(recorder->handle);
  yajl_free(recorder->handle);
  recorder->handle = NULL;
  return status;
}

static void
_report_difference(const GString *fast, const GString *slow)
{
  gsize at = 0;
  while (at < fast->len && at < slow->len && fast->str[at] == slow->str[at])
    at++;
  gsize line = at;
  while (line > 0 && fast->str[line - 1] != '\n')
    line--;
  fprintf(stderr, "fuzz_json_events: events differ from log byte %zu:\n  fast: %.*s\n  yajl: %.*s\n", at,
          (int) MIN(fast->len - line, 120), fast->str + line, (int) MIN(slow->len - line, 120), slow->str + line);
}

/*
 * one comparison with a callback cancelling at cancel_at (-1: none) and skipping as skip_seed says (0:
 * never); the number of events yajl called back, not counting those in skipped values
 */
static gint64
_compare(const gchar *input, gsize length, gint64 cancel_at, guint skip_seed)
{
  Recorder fast = { .log = g_string_new(NULL), .length = length, .cancel_at = cancel_at, .skip.seed = skip_seed };
  Recorder slow = { .log = g_string_new(NULL), .length = length, .cancel_at = cancel_at, .skip.seed = skip_seed };
  guint skipped = 0;

  ThreatqJsonResult result = threatq_json_events_parse(input, length, &callbacks, &fast, &fast.consumed,
                                                       &skipped);
  yajl_status status = _yajl(input, length, &slow);

  CHECK(result == THREATQ_JSON_OK || result == THREATQ_JSON_CANCELLED || result == THREATQ_JSON_UNSURE,
        "result %d", (gint) result);
  if (result == THREATQ_JSON_OK)
    {
      CHECK(status == yajl_status_ok, "fast path OK, yajl status %d (cancel at %" G_GINT64_FORMAT ")",
            (gint) status, cancel_at);
      CHECK(fast.max_depth <= THREATQ_JSON_MAX_DEPTH, "fast path OK at depth %d", fast.max_depth);
      CHECK(slow.skip.deepest_start < THREATQ_JSON_SKIP_MAX_DEPTH, "fast path OK, skipped a start at depth %d",
            slow.skip.deepest_start);
      CHECK(slow.skip.most_value_tokens <= THREATQ_JSON_SKIP_MAX_TOKENS, "fast path OK, skipped a value of %u tokens",
            slow.skip.most_value_tokens);
    }
  if (result == THREATQ_JSON_CANCELLED)
    {
      CHECK(cancel_at >= 0 && fast.events == cancel_at + 1, "fast path cancelled after %" G_GINT64_FORMAT
            " events, cancel at %" G_GINT64_FORMAT, fast.events, cancel_at);
      CHECK(status == yajl_status_client_canceled, "fast path cancelled, yajl status %d (cancel at %"
            G_GINT64_FORMAT ")", (gint) status, cancel_at);
    }
  if (result != THREATQ_JSON_UNSURE && !g_string_equal(fast.log, slow.log))
    {
      _report_difference(fast.log, slow.log);
      CHECK(FALSE, "fast path %s", result == THREATQ_JSON_OK ? "OK" : "CANCELLED");
    }
  if (result != THREATQ_JSON_UNSURE)
    CHECK(skipped == slow.skip.tokens, "fast path skipped %u tokens, yajl %u (skip seed %u)", skipped,
          slow.skip.tokens, skip_seed);
  g_string_free(fast.log, TRUE);
  g_string_free(slow.log, TRUE);
  return slow.events;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* exactly size bytes: ASan sees any read past the end */
  gchar *input = malloc(size ? size : 1);
  if (!input)
    return 0;
  if (size)
    memcpy(input, data, size);

  /* without skipping, then skipping the values of keys picked by the last byte */
  const guint skip_seeds[] = { 0, size ? 1u + data[size - 1] % 3 : 0u };
  for (guint i = 0; i < (size ? 2u : 1u); i++)
    {
      guint skip_seed = skip_seeds[i];
      gint64 events = _compare(input, size, -1, skip_seed);
      if (events > 0)
        {
          /* a cancel somewhere inside (steered by the first byte) and at the last event */
          _compare(input, size, (gint64) data[0] % events, skip_seed);
          _compare(input, size, events - 1, skip_seed);
        }
    }
  free(input);
  return 0;
}
