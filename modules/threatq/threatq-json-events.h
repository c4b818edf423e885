/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef THREATQ_JSON_EVENTS_H
#define THREATQ_JSON_EVENTS_H

/*
 * A fast path for yajl's callback parser on pages: it calls the same
 * yajl_callbacks, with the same arguments, in the same order, for the JSON
 * it accepts, and reports THREATQ_JSON_UNSURE for everything else (any
 * syntax error, \v or \f as white space, a \u escape that is a surrogate or
 * U+0000, a number at the very end of the input, nesting deeper than
 * THREATQ_JSON_MAX_DEPTH), where the caller starts over with yajl, which
 * then gives its own answer and error message.  Strings are passed as they
 * are (yajl_dont_validate_strings).  yajl lexes every byte through a state
 * machine; on ThreatQ pages this parser needs about a third of the
 * instructions (bench/README.md).
 *
 * Not thread-aware: one call parses one buffer on the caller's thread.
 */
#include <glib.h>
#include <yajl/yajl_parse.h>

#define THREATQ_JSON_MAX_DEPTH 128

/*
 * What yajl_map_key may return to have the member's value passed over: no
 * callbacks for it (nor for anything nested in it), but validated as
 * strictly as any other value, so the result is the same.  yajl takes it as
 * any non-zero answer, "go on", and calls back for the value as usual.
 */
#define THREATQ_JSON_SKIP_VALUE 2

/*
 * A skipped value that opens an array or object at this depth (counting
 * every open level of the document) is UNSURE: a consumer that refuses
 * pages nested that deep (threatq-mapper.c) cannot see the levels it skips.
 */
#define THREATQ_JSON_SKIP_MAX_DEPTH 64

/*
 * A skipped value of more tokens (scalars and array or object starts) than
 * this is UNSURE: a consumer that checks a stop flag every so many tokens
 * (threatq-mapper.c) sees none of them, yajl's parse calls back for each.
 */
#define THREATQ_JSON_SKIP_MAX_TOKENS 4096

typedef enum
{
  THREATQ_JSON_OK,             /* the whole input was one JSON value (white space around it) */
  THREATQ_JSON_CANCELLED,      /* a callback returned 0 */
  THREATQ_JSON_UNSURE,         /* not decided here: parse the input with yajl instead */
} ThreatqJsonResult;

/*
 * Before each callback *consumed is set to what yajl_get_bytes_consumed()
 * would say in it: the offset just past the token.  skipped_tokens (may be
 * NULL) is incremented for each scalar and each array or object start in
 * values skipped with THREATQ_JSON_SKIP_VALUE: the callbacks yajl would have
 * made for tokens of that kind.
 */
ThreatqJsonResult threatq_json_events_parse(const gchar *input, gsize length, const yajl_callbacks *callbacks,
                                            gpointer ctx, gsize *consumed, guint *skipped_tokens);

/*
 * The bytes of v (8 bytes of a string) that need escaping in JSON: < 0x20,
 * '"' or '\\'.  Any such byte makes the result non-zero, and the lowest
 * flagged byte is the first such byte (the borrow that can flag a byte by
 * mistake only runs towards the higher ones).
 */
static inline guint64
threatq_json_word_escape_mask(guint64 v)
{
  const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT(0x8080808080808080);
  guint64 quote = v ^ (ones * '"');
  guint64 backslash = v ^ (ones * '\\');
  guint64 control = (v - ones * 0x20) & ~v;                  /* a byte below 0x20 */
  guint64 is_quote = (quote - ones) & ~quote;                /* a zero byte in quote */
  guint64 is_backslash = (backslash - ones) & ~backslash;
  return (control | is_quote | is_backslash) & highs;
}

static inline gboolean
threatq_json_word_needs_escape(guint64 v)
{
  return threatq_json_word_escape_mask(v) != 0;
}

#endif
