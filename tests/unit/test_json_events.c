/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq_json_events_parse() against yajl: whatever the fast path decides
 * (OK or a callback's cancel) must be exactly what yajl would have called
 * back, with the same bytes and the same yajl_get_bytes_consumed(); what it
 * is unsure of, yajl parses (threatq-mapper.c).  With a key callback that
 * asks to skip values (THREATQ_JSON_SKIP_VALUE), the fast path's events must
 * be yajl's without those of the skipped values, and it must count their
 * scalars and starts as yajl calls them back.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "threatq-json-events.h"
#include "json-skip-recorder.h"

typedef struct
{
  GString *log;
  yajl_handle handle;         /* NULL: the fast path is calling */
  gsize consumed;
  gint cancel_at;             /* the event that returns 0; -1: none */
  gint events;
  gint depth;
  JsonSkipRecorder skip;
} Recorder;

static int
_event_at(Recorder *self, const gchar *kind, const void *text, gsize length, gint nesting)
{
  self->depth += nesting;
  if (self->skip.quiet)
    return json_skip_recorder_event(&self->skip, self->depth, nesting, FALSE);
  gsize consumed = self->handle ? yajl_get_bytes_consumed(self->handle) : self->consumed;
  g_string_append_printf(self->log, "%s@%" G_GSIZE_FORMAT ":", kind, consumed);
  if (text)
    g_string_append_len(self->log, text, (gssize) length);
  g_string_append_c(self->log, '\n');
  return self->events++ != self->cancel_at;
}

static int
_event(Recorder *self, const gchar *kind, const void *text, gsize length)
{
  return _event_at(self, kind, text, length, 0);
}

static int
_null(void *ctx)
{
  return _event(ctx, "null", NULL, 0);
}

static int
_boolean(void *ctx, int value)
{
  return _event(ctx, value ? "true" : "false", NULL, 0);
}

static int
_number(void *ctx, const char *text, size_t length)
{
  return _event(ctx, "number", text, length);
}

static int
_string(void *ctx, const unsigned char *text, size_t length)
{
  return _event(ctx, "string", text, length);
}

static int
_key(void *ctx, const unsigned char *text, size_t length)
{
  Recorder *self = ctx;

  if (self->skip.quiet)
    return json_skip_recorder_event(&self->skip, self->depth, 0, TRUE);
  if (!_event(self, "key", text, length))
    return 0;
  /* yajl goes on calling back for a skipped value: the recorder leaves it out */
  return json_skip_recorder_key(&self->skip, length, self->handle != NULL);
}

static int
_start_map(void *ctx)
{
  return _event_at(ctx, "{", NULL, 0, 1);
}

static int
_end_map(void *ctx)
{
  return _event_at(ctx, "}", NULL, 0, -1);
}

static int
_start_array(void *ctx)
{
  return _event_at(ctx, "[", NULL, 0, 1);
}

static int
_end_array(void *ctx)
{
  return _event_at(ctx, "]", NULL, 0, -1);
}

static const yajl_callbacks callbacks =
{
  .yajl_null = _null, .yajl_boolean = _boolean, .yajl_number = _number, .yajl_string = _string,
  .yajl_start_map = _start_map, .yajl_map_key = _key, .yajl_end_map = _end_map,
  .yajl_start_array = _start_array, .yajl_end_array = _end_array,
};

/* yajl as threatq-mapper.c runs it: the events, and its status */
static yajl_status
_yajl(const gchar *input, gsize length, Recorder *recorder)
{
  recorder->handle = yajl_alloc(&callbacks, NULL, recorder);
  yajl_config(recorder->handle, yajl_dont_validate_strings, 1);
  yajl_status status = yajl_parse(recorder->handle, (const unsigned char *) input, length);
  if (status == yajl_status_ok)
    status = yajl_complete_parse(recorder->handle);
  yajl_free(recorder->handle);
  return status;
}

/* the fast path's answer, checked against yajl's whenever it gives one; skip_seed: see Recorder */
static ThreatqJsonResult
_compare_skipping(const gchar *input, gsize length, gint cancel_at, guint skip_seed)
{
  GString *fast_log = g_string_new(NULL), *yajl_log = g_string_new(NULL);
  Recorder fast_recorder = { .log = fast_log, .cancel_at = cancel_at, .skip.seed = skip_seed };
  Recorder yajl_recorder = { .log = yajl_log, .cancel_at = cancel_at, .skip.seed = skip_seed };
  guint skipped = 0;
  ThreatqJsonResult fast = threatq_json_events_parse(input, length, &callbacks, &fast_recorder,
                                                     &fast_recorder.consumed, &skipped);
  yajl_status status = _yajl(input, length, &yajl_recorder);

  if (fast == THREATQ_JSON_OK)
    cr_assert_eq(status, yajl_status_ok, "fast OK, yajl %d on '%.*s'", status, (int) MIN(length, 200), input);
  if (fast == THREATQ_JSON_CANCELLED)
    cr_assert_eq(status, yajl_status_client_canceled, "fast cancelled, yajl %d on '%.*s'", status,
                 (int) MIN(length, 200), input);
  if (fast != THREATQ_JSON_UNSURE)
    {
      cr_assert_str_eq(fast_log->str, yajl_log->str, "events differ on '%.*s'", (int) MIN(length, 200), input);
      cr_assert_eq(skipped, yajl_recorder.skip.tokens, "skipped %u tokens, yajl %u on '%.*s'", skipped,
                   yajl_recorder.skip.tokens, (int) MIN(length, 200), input);
    }
  if (fast == THREATQ_JSON_OK)
    {
      cr_assert_lt(yajl_recorder.skip.deepest_start, THREATQ_JSON_SKIP_MAX_DEPTH);
      cr_assert_leq(yajl_recorder.skip.most_value_tokens, THREATQ_JSON_SKIP_MAX_TOKENS);
    }
  g_string_free(fast_log, TRUE);
  g_string_free(yajl_log, TRUE);
  return fast;
}

static ThreatqJsonResult
_compare(const gchar *input, gsize length, gint cancel_at)
{
  return _compare_skipping(input, length, cancel_at, 0);
}

static const gchar *const decided[] =
{
  "{}", "[]", " { } ", "\n[\t]\r\n", "{\"a\":1}", "[1,-2,3.5,-0.25e+10,0,1E5,2e-3,10]",
  "{\"a\":[true,false,null,{\"b\":{}}],\"c\":\"d\"}",
  "[\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"]",
  "{\"k\\u00e9y\":\"\\u0041\\u00e9\\u20ac\\uffff x\"}",
  "[\"raw \xc3\xa9 and invalid \xff\xfe bytes \x7f\"]",
  "{\"data\":[{\"id\":1,\"value\":\"1.2.3.4\",\"sources\":[{\"name\":\"s\",\"tlp_name\":\"RED\"}]}],"
  "\"nextCursorMark\":\"abc+/=\",\"total\":1}",
  "\"top\"", "[[[[[[[[[[]]]]]]]]]]", "[0 ]", "{\"a\" : 0 }",
};

Test(json_events, decides_like_yajl)
{
  for (guint i = 0; i < G_N_ELEMENTS(decided); i++)
    cr_assert_eq(_compare(decided[i], strlen(decided[i]), -1), THREATQ_JSON_OK, "not decided: %s", decided[i]);
}

static const gchar *const unsure[] =
{
  "", "  ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "[1 2]", "[01]", "[1.]", "[.5]", "[1e]", "[-]",
  "[+1]", "[tru]", "[truex]", "[nul]", "{}{}", "{} x", "[1]\v", "\f[1]", "[\"a\x01\"]", "[\"\\x\"]",
  "[\"\\u00\"]", "[\"\\u12G4\"]", "[\"\\u0000\"]", "[\"\\ud83d\\ude00\"]", "[\"\\udc00\"]", "[\"open",
  "/* c */ []", "[1", "1", "-5", "[1}", "{\"a\":1]", "['a']", "[NaN]",
};

Test(json_events, unsure_where_yajl_must_decide)
{
  for (guint i = 0; i < G_N_ELEMENTS(unsure); i++)
    cr_assert_eq(_compare(unsure[i], strlen(unsure[i]), -1), THREATQ_JSON_UNSURE, "decided: '%s'", unsure[i]);
}

Test(json_events, deeper_than_the_stack_is_unsure)
{
  GString *deep = g_string_new(NULL);
  for (guint i = 0; i < THREATQ_JSON_MAX_DEPTH + 1; i++)
    g_string_append_c(deep, '[');
  for (guint i = 0; i < THREATQ_JSON_MAX_DEPTH + 1; i++)
    g_string_append_c(deep, ']');
  cr_assert_eq(_compare(deep->str, deep->len, -1), THREATQ_JSON_UNSURE);
  g_string_free(deep, TRUE);
}

Test(json_events, a_cancel_stops_both_at_the_same_event)
{
  const gchar *page = decided[10];
  for (gint at = 0; at < 20; at++)
    cr_assert_eq(_compare(page, strlen(page), at), THREATQ_JSON_CANCELLED, "event %d", at);
}

/*
 * random damage to a page: never a decision that differs from yajl's; with skipping, values of keys
 * picked by seeds 1..3 in turn are skipped
 */
static void
_mutations(guint32 rand_seed, gboolean skipping)
{
  static const gchar bytes[] = "{}[],:\"\\ 0123456789.-+eEtrufalsn\x01\x7f\xc3\xa9u/";
  GRand *rand = g_rand_new_with_seed(rand_seed);
  const gchar *page = decided[10];
  gsize length = strlen(page);
  guint decisions = 0;

  for (guint round = 0; round < 20000; round++)
    {
      gchar *copy = g_strdup(page);
      gsize used = length;
      for (guint n = g_rand_int_range(rand, 1, 4); n > 0 && used > 0; n--)
        {
          gsize at = (gsize) g_rand_int_range(rand, 0, (gint32) used);
          if (g_rand_boolean(rand))
            copy[at] = bytes[g_rand_int_range(rand, 0, sizeof(bytes) - 1)];
          else
            used = at;                /* cut */
        }
      if (_compare_skipping(copy, used, -1, skipping ? 1 + round % 3 : 0) != THREATQ_JSON_UNSURE)
        decisions++;
      g_free(copy);
    }
  g_rand_free(rand);
  /* some damage leaves valid JSON (a changed digit or letter): those were compared too */
  cr_assert_gt(decisions, 100, "only %u decided", decisions);
}

Test(json_events, mutations)
{
  _mutations(20261130, FALSE);
}

Test(json_events, skipped_values_decide_like_yajl)
{
  for (guint seed = 1; seed <= 3; seed++)
    {
      for (guint i = 0; i < G_N_ELEMENTS(decided); i++)
        cr_assert_eq(_compare_skipping(decided[i], strlen(decided[i]), -1, seed), THREATQ_JSON_OK,
                     "not decided (seed %u): %s", seed, decided[i]);
      for (guint i = 0; i < G_N_ELEMENTS(unsure); i++)
        cr_assert_eq(_compare_skipping(unsure[i], strlen(unsure[i]), -1, seed), THREATQ_JSON_UNSURE,
                     "decided (seed %u): '%s'", seed, unsure[i]);
    }
}

/* what a skipped value holds is validated as strictly as the rest ("abc": length 3, seed 3) */
Test(json_events, a_skipped_value_is_still_validated)
{
  static const gchar *const skipped_unsure[] =
  {
    "{\"abc\":[1,]}", "{\"abc\":{\"x\" 1}}", "{\"abc\":[01]}", "{\"abc\":\"\\x\"}", "{\"abc\":\"\\u0000\"}",
    "{\"abc\":\"a\x01\"}", "{\"abc\":[tru]}", "{\"abc\":[1}", "{\"abc\":{\"x\":1]}", "{\"abc\":[\"open]}",
    "{\"abc\":1", "{\"abc\":[[]]", "{\"abc\":{}}}",
  };
  static const gchar *const skipped_decided[] =
  {
    "{\"abc\":[1,{\"x\":[true,null,\"s\\n\\u00e9\"]},-2.5e3],\"d\":1}", "{\"abc\":{},\"d\":[]}",
    "{\"d\":{\"abc\":\"x\",\"e\":0},\"abc\":null}", "[{\"abc\":[]}, {\"abc\" : {\"abc\":1} } ]",
  };

  for (guint i = 0; i < G_N_ELEMENTS(skipped_unsure); i++)
    cr_assert_eq(_compare_skipping(skipped_unsure[i], strlen(skipped_unsure[i]), -1, 3), THREATQ_JSON_UNSURE,
                 "decided: '%s'", skipped_unsure[i]);
  for (guint i = 0; i < G_N_ELEMENTS(skipped_decided); i++)
    cr_assert_eq(_compare_skipping(skipped_decided[i], strlen(skipped_decided[i]), -1, 3), THREATQ_JSON_OK,
                 "not decided: '%s'", skipped_decided[i]);
}

/*
 * a skipped value that opens an array at depth THREATQ_JSON_SKIP_MAX_DEPTH (the object around it is
 * level 1, its n-th '[' opens at depth n) is left to yajl; one level less is not
 */
Test(json_events, deep_skipped_values_are_unsure)
{
  for (guint levels = THREATQ_JSON_SKIP_MAX_DEPTH - 1; levels <= THREATQ_JSON_SKIP_MAX_DEPTH; levels++)
    {
      GString *deep = g_string_new("{\"abc\":");
      for (guint i = 0; i < levels; i++)
        g_string_append_c(deep, '[');
      for (guint i = 0; i < levels; i++)
        g_string_append_c(deep, ']');
      g_string_append_c(deep, '}');
      ThreatqJsonResult expected = levels < THREATQ_JSON_SKIP_MAX_DEPTH ? THREATQ_JSON_OK : THREATQ_JSON_UNSURE;
      cr_assert_eq(_compare_skipping(deep->str, deep->len, -1, 3), expected, "%u levels", levels);
      /* not skipped, the same nesting is decided */
      cr_assert_eq(_compare(deep->str, deep->len, -1), THREATQ_JSON_OK, "%u levels", levels);
      g_string_free(deep, TRUE);
    }
}

Test(json_events, a_cancel_with_skipped_values_stops_both_at_the_same_event)
{
  const gchar *page = decided[10];
  for (guint seed = 1; seed <= 3; seed++)
    for (gint at = 0; at < 7; at++)
      cr_assert_eq(_compare_skipping(page, strlen(page), at, seed), THREATQ_JSON_CANCELLED, "seed %u event %d",
                   seed, at);
}

Test(json_events, mutations_with_skipped_values)
{
  _mutations(20261201, TRUE);
}

/* a skipped value of THREATQ_JSON_SKIP_MAX_TOKENS scalars and starts is passed over; one more is left to yajl */
Test(json_events, long_skipped_values_are_unsure)
{
  for (guint tokens = THREATQ_JSON_SKIP_MAX_TOKENS; tokens <= THREATQ_JSON_SKIP_MAX_TOKENS + 1; tokens++)
    {
      /* the array's start and tokens - 2 numbers in it, then an empty object: tokens in all */
      GString *page = g_string_new("{\"abc\":[");
      for (guint i = 0; i < tokens - 2; i++)
        g_string_append(page, "1,");
      g_string_append(page, "{}],\"d\":1}");
      ThreatqJsonResult expected = tokens <= THREATQ_JSON_SKIP_MAX_TOKENS ? THREATQ_JSON_OK : THREATQ_JSON_UNSURE;
      cr_assert_eq(_compare_skipping(page->str, page->len, -1, 3), expected, "%u tokens", tokens);
      cr_assert_eq(_compare(page->str, page->len, -1), THREATQ_JSON_OK, "%u tokens, not skipped", tokens);
      g_string_free(page, TRUE);
    }
}
