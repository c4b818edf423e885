/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq_json_events_parse() against yajl: whatever the fast path decides
 * (OK or a callback's cancel) must be exactly what yajl would have called
 * back, with the same bytes and the same yajl_get_bytes_consumed(); what it
 * is unsure of, yajl parses (threatq-mapper.c).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "threatq-json-events.h"

typedef struct
{
  GString *log;
  yajl_handle handle;         /* NULL: the fast path is calling */
  gsize consumed;
  gint cancel_at;             /* the event that returns 0; -1: none */
  gint events;
} Recorder;

static int
_event(Recorder *self, const gchar *kind, const void *text, gsize length)
{
  gsize consumed = self->handle ? yajl_get_bytes_consumed(self->handle) : self->consumed;
  g_string_append_printf(self->log, "%s@%" G_GSIZE_FORMAT ":", kind, consumed);
  if (text)
    g_string_append_len(self->log, text, (gssize) length);
  g_string_append_c(self->log, '\n');
  return self->events++ != self->cancel_at;
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
  return _event(ctx, "key", text, length);
}

static int
_start_map(void *ctx)
{
  return _event(ctx, "{", NULL, 0);
}

static int
_end_map(void *ctx)
{
  return _event(ctx, "}", NULL, 0);
}

static int
_start_array(void *ctx)
{
  return _event(ctx, "[", NULL, 0);
}

static int
_end_array(void *ctx)
{
  return _event(ctx, "]", NULL, 0);
}

static const yajl_callbacks callbacks =
{
  .yajl_null = _null, .yajl_boolean = _boolean, .yajl_number = _number, .yajl_string = _string,
  .yajl_start_map = _start_map, .yajl_map_key = _key, .yajl_end_map = _end_map,
  .yajl_start_array = _start_array, .yajl_end_array = _end_array,
};

/* yajl as threatq-mapper.c runs it: the events, and its status */
static yajl_status
_yajl(const gchar *input, gsize length, gint cancel_at, GString *log)
{
  Recorder recorder = { .log = log, .cancel_at = cancel_at };
  recorder.handle = yajl_alloc(&callbacks, NULL, &recorder);
  yajl_config(recorder.handle, yajl_dont_validate_strings, 1);
  yajl_status status = yajl_parse(recorder.handle, (const unsigned char *) input, length);
  if (status == yajl_status_ok)
    status = yajl_complete_parse(recorder.handle);
  yajl_free(recorder.handle);
  return status;
}

static ThreatqJsonResult
_fast(const gchar *input, gsize length, gint cancel_at, GString *log)
{
  Recorder recorder = { .log = log, .cancel_at = cancel_at };
  return threatq_json_events_parse(input, length, &callbacks, &recorder, &recorder.consumed);
}

/* the fast path's answer, checked against yajl's whenever it gives one */
static ThreatqJsonResult
_compare(const gchar *input, gsize length, gint cancel_at)
{
  GString *fast_log = g_string_new(NULL), *yajl_log = g_string_new(NULL);
  ThreatqJsonResult fast = _fast(input, length, cancel_at, fast_log);
  yajl_status status = _yajl(input, length, cancel_at, yajl_log);

  if (fast == THREATQ_JSON_OK)
    cr_assert_eq(status, yajl_status_ok, "fast OK, yajl %d on '%.*s'", status, (int) MIN(length, 200), input);
  if (fast == THREATQ_JSON_CANCELLED)
    cr_assert_eq(status, yajl_status_client_canceled, "fast cancelled, yajl %d on '%.*s'", status,
                 (int) MIN(length, 200), input);
  if (fast != THREATQ_JSON_UNSURE)
    cr_assert_str_eq(fast_log->str, yajl_log->str, "events differ on '%.*s'", (int) MIN(length, 200), input);
  g_string_free(fast_log, TRUE);
  g_string_free(yajl_log, TRUE);
  return fast;
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

/* random damage to a page: never a decision that differs from yajl's */
Test(json_events, mutations)
{
  static const gchar bytes[] = "{}[],:\"\\ 0123456789.-+eEtrufalsn\x01\x7f\xc3\xa9u/";
  GRand *rand = g_rand_new_with_seed(20261130);
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
      if (_compare(copy, used, -1) != THREATQ_JSON_UNSURE)
        decisions++;
      g_free(copy);
    }
  g_rand_free(rand);
  /* some damage leaves valid JSON (a changed digit or letter): those were compared too */
  cr_assert_gt(decisions, 100, "only %u decided", decisions);
}
