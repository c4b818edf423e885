/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fast path in front of yajl (threatq-json-events.h): a strict JSON
 * parser without recursion that gives up (UNSURE) wherever yajl's answer
 * would take more than "the same events" to match.
 */
#include "threatq-json-events.h"

#include <string.h>

typedef struct
{
  const guchar *input;
  const guchar *p;
  const guchar *end;
  const yajl_callbacks *callbacks;
  gpointer ctx;
  gsize *consumed;
  GString *scratch;                       /* strings with escapes, decoded */
  guint *skipped_tokens;                  /* never NULL here */
  guint depth;
  gboolean in_map[THREATQ_JSON_MAX_DEPTH];
} Lexer;

/* what a step says: go on, or the parse's result */
#define GO_ON ((ThreatqJsonResult) -1)
/* ... or: the key callback asked to skip the value that follows; a skipped value has ended */
#define SKIP_NEXT ((ThreatqJsonResult) -2)
#define SKIPPED ((ThreatqJsonResult) -3)

/*
 * The steps below take "quiet": TRUE inside a skipped value (no callbacks, its
 * scalars and starts counted).  It is a constant wherever they are inlined, so
 * the parse loop without skipping is compiled as if the parameter was not there.
 */
#define STEP static inline __attribute__((always_inline))

/* past white space: the byte at self->p, or -1 at the end of the input */
static inline gint
_peek(Lexer *self)
{
  const guchar *p = self->p, *end = self->end;

  /* pages are mostly compact: one comparison for the byte that is no space */
  while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  self->p = p;
  return p < end ? *p : -1;
}

static inline void
_mark(Lexer *self)
{
  *self->consumed = (gsize) (self->p - self->input);
}

/* in a skipped value (quiet): count the token, no callback */
STEP gboolean
_quiet(Lexer *self, gboolean quiet)
{
  if (quiet)
    (*self->skipped_tokens)++;
  return quiet;
}

static gint
_hex(guchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* \uXXXX at p (after the backslash and 'u') as UTF-8; FALSE for what yajl treats specially */
static gboolean
_decode_unicode(Lexer *self, const guchar *p)
{
  guint codepoint = 0;

  if (self->end - p < 4)
    return FALSE;
  for (guint i = 0; i < 4; i++)
    {
      gint digit = _hex(p[i]);
      if (digit < 0)
        return FALSE;
      codepoint = codepoint * 16 + (guint) digit;
    }
  /* U+0000 and surrogates: yajl writes them its own way */
  if (codepoint == 0 || (codepoint >= 0xD800 && codepoint <= 0xDFFF))
    return FALSE;
  g_string_append_unichar(self->scratch, codepoint);
  return TRUE;
}

static const gchar simple_escapes[256] =
{
  ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b', ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

/* the rest of a string from the first backslash at p, decoded into scratch; NULL when unsure */
static const guchar *
_decode_string(Lexer *self, const guchar *start, const guchar *p)
{
  g_string_truncate(self->scratch, 0);
  g_string_append_len(self->scratch, (const gchar *) start, p - start);
  while (p < self->end)
    {
      guchar c = *p;
      if (c == '"')
        return p;
      if (c < 0x20)
        return NULL;
      if (c != '\\')
        {
          g_string_append_c(self->scratch, (gchar) c);
          p++;
          continue;
        }
      if (self->end - p < 2)
        return NULL;
      if (p[1] == 'u')
        {
          if (!_decode_unicode(self, p + 2))
            return NULL;
          p += 6;
          continue;
        }
      if (!simple_escapes[p[1]])
        return NULL;
      g_string_append_c(self->scratch, simple_escapes[p[1]]);
      p += 2;
    }
  return NULL;
}

/* a string at self->p (its '"'): the text, its length; FALSE when unsure */
STEP gboolean
_string(Lexer *self, const guchar **text, gsize *length)
{
  const guchar *start = self->p + 1, *p = start;

  for (;;)
    {
      if (self->end - p < 8)
        {
          while (p < self->end && *p >= 0x20 && *p != '"' && *p != '\\')
            p++;
          break;
        }
      guint64 word;
      memcpy(&word, p, 8);
      guint64 mask = threatq_json_word_escape_mask(word);
      if (!mask)
        {
          p += 8;
          continue;
        }
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      p += __builtin_ctzll(mask) / 8;   /* the first byte that ends the plain run */
#else
      while (*p >= 0x20 && *p != '"' && *p != '\\')
        p++;                            /* one of the 8 is such a byte */
#endif
      break;
    }
  if (p >= self->end || *p < 0x20)
    return FALSE;
  if (*p == '"')
    {
      *text = start;
      *length = (gsize) (p - start);
    }
  else
    {
      p = _decode_string(self, start, p);
      if (!p)
        return FALSE;
      *text = (const guchar *) self->scratch->str;
      *length = self->scratch->len;
    }
  self->p = p + 1;
  return TRUE;
}

static inline gboolean
_digit(const guchar *p, const guchar *end)
{
  return p < end && *p >= '0' && *p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, not running into the end of the input */
STEP ThreatqJsonResult
_number(Lexer *self, gboolean quiet)
{
  const guchar *start = self->p, *p = start, *end = self->end;

  if (p < end && *p == '-')
    p++;
  if (!_digit(p, end))
    return THREATQ_JSON_UNSURE;
  if (*p++ != '0')
    while (_digit(p, end))
      p++;
  if (p < end && *p == '.')
    {
      if (!_digit(++p, end))
        return THREATQ_JSON_UNSURE;
      while (_digit(p, end))
        p++;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (!_digit(p, end))
        return THREATQ_JSON_UNSURE;
      while (_digit(p, end))
        p++;
    }
  if (p >= end)
    return THREATQ_JSON_UNSURE;
  self->p = p;
  if (_quiet(self, quiet))
    return GO_ON;
  _mark(self);
  return self->callbacks->yajl_number(self->ctx, (const char *) start, (size_t) (p - start))
         ? GO_ON : THREATQ_JSON_CANCELLED;
}

STEP ThreatqJsonResult
_literal(Lexer *self, gboolean quiet)
{
  static const struct
  {
    const gchar *text;
    gsize length;
    gint kind;                            /* 0 null, 1 false, 2 true */
  } literals[] = { { "null", 4, 0 }, { "false", 5, 1 }, { "true", 4, 2 } };

  for (guint i = 0; i < G_N_ELEMENTS(literals); i++)
    {
      if ((gsize) (self->end - self->p) < literals[i].length
          || memcmp(self->p, literals[i].text, literals[i].length) != 0)
        continue;
      self->p += literals[i].length;
      if (_quiet(self, quiet))
        return GO_ON;
      _mark(self);
      gint kept = literals[i].kind == 0 ? self->callbacks->yajl_null(self->ctx)
                  : self->callbacks->yajl_boolean(self->ctx, literals[i].kind == 2);
      return kept ? GO_ON : THREATQ_JSON_CANCELLED;
    }
  return THREATQ_JSON_UNSURE;
}

/* '{' or '[' at self->p */
STEP ThreatqJsonResult
_open(Lexer *self, gboolean map, gboolean quiet)
{
  if (self->depth >= (quiet ? THREATQ_JSON_SKIP_MAX_DEPTH : THREATQ_JSON_MAX_DEPTH))
    return THREATQ_JSON_UNSURE;
  self->in_map[self->depth++] = map;
  self->p++;
  if (_quiet(self, quiet))
    return GO_ON;
  _mark(self);
  gint kept = map ? self->callbacks->yajl_start_map(self->ctx) : self->callbacks->yajl_start_array(self->ctx);
  return kept ? GO_ON : THREATQ_JSON_CANCELLED;
}

/* '}' or ']' at self->p, closing the innermost container */
STEP ThreatqJsonResult
_close(Lexer *self, gboolean quiet)
{
  gboolean map = self->in_map[--self->depth];
  self->p++;
  if (quiet)
    return GO_ON;
  _mark(self);
  gint kept = map ? self->callbacks->yajl_end_map(self->ctx) : self->callbacks->yajl_end_array(self->ctx);
  return kept ? GO_ON : THREATQ_JSON_CANCELLED;
}

/* a scalar value at self->p */
STEP ThreatqJsonResult
_scalar(Lexer *self, gboolean quiet)
{
  const guchar *text;
  gsize length;

  if (*self->p == '"')
    {
      if (!_string(self, &text, &length))
        return THREATQ_JSON_UNSURE;
      if (_quiet(self, quiet))
        return GO_ON;
      _mark(self);
      return self->callbacks->yajl_string(self->ctx, text, length) ? GO_ON : THREATQ_JSON_CANCELLED;
    }
  if (*self->p == '-' || (*self->p >= '0' && *self->p <= '9'))
    return _number(self, quiet);
  return _literal(self, quiet);
}

/* a value at self->p (after white space): a scalar, or the start of an array or object (*opened) */
STEP ThreatqJsonResult
_value(Lexer *self, gboolean quiet, gboolean *opened)
{
  gint c = _peek(self);
  if (c < 0)
    return THREATQ_JSON_UNSURE;
  if (c == '{' || c == '[')
    {
      *opened = TRUE;
      return _open(self, c == '{', quiet);
    }
  return _scalar(self, quiet);
}

/* a member name, its ':' and the white space after it; SKIP_NEXT when the callback asks to skip its value */
STEP ThreatqJsonResult
_key(Lexer *self, gboolean quiet)
{
  const guchar *text;
  gsize length;
  gint answer = 1;

  if (_peek(self) != '"' || !_string(self, &text, &length))
    return THREATQ_JSON_UNSURE;
  if (!quiet)
    {
      _mark(self);
      answer = self->callbacks->yajl_map_key(self->ctx, text, length);
      if (!answer)
        return THREATQ_JSON_CANCELLED;
    }
  if (_peek(self) != ':')
    return THREATQ_JSON_UNSURE;
  self->p++;
  return answer == THREATQ_JSON_SKIP_VALUE ? SKIP_NEXT : GO_ON;
}

/*
 * Where a value was just opened or finished: close what ends here, pass the
 * ',' to the next element; GO_ON with *want_key when a member name comes
 * next, the result otherwise.  quiet: SKIPPED where the skipped value that
 * started at depth base has ended.
 */
STEP ThreatqJsonResult
_after(Lexer *self, gboolean opened, gboolean *want_key, gboolean quiet, guint base)
{
  for (;;)
    {
      if (quiet && self->depth == base && !opened)
        return SKIPPED;
      gint c = _peek(self);
      if (self->depth == 0)
        return c < 0 ? THREATQ_JSON_OK : THREATQ_JSON_UNSURE;
      if (c < 0)
        return THREATQ_JSON_UNSURE;
      gboolean map = self->in_map[self->depth - 1];
      if (c == (map ? '}' : ']'))
        {
          ThreatqJsonResult result = _close(self, quiet);
          if (result != GO_ON)
            return result;
          opened = FALSE;
          continue;
        }
      if (!opened)
        {
          if (c != ',')
            return THREATQ_JSON_UNSURE;
          self->p++;
        }
      *want_key = map;
      return GO_ON;
    }
}

static ThreatqJsonResult _skip_value(Lexer *self);

/* values until the input ends, or quiet: until the skipped value at self->p ends (SKIPPED) */
STEP ThreatqJsonResult
_values(Lexer *self, gboolean quiet)
{
  ThreatqJsonResult result = GO_ON;
  gboolean want_key = FALSE;
  guint base = self->depth;
  guint values = 0;

  while (result == GO_ON)
    {
      gboolean opened = FALSE;
      /* quiet: each round reads one value (a scalar or a start) of the skipped one */
      if (quiet && ++values > THREATQ_JSON_SKIP_MAX_TOKENS)
        return THREATQ_JSON_UNSURE;
      if (want_key)
        result = _key(self, quiet);
      if (result == SKIP_NEXT)
        {
          /* most skipped values are scalars: passed over here; arrays and objects in a loop of their own */
          gint c = _peek(self);
          if (c >= 0 && c != '{' && c != '[')
            result = _scalar(self, TRUE);
          else
            result = _skip_value(self);
        }
      else if (result == GO_ON)
        result = _value(self, quiet, &opened);
      if (result == GO_ON)
        result = _after(self, opened, &want_key, quiet, base);
    }
  return result;
}

/* the value at self->p, passed over: checked as strictly, without callbacks */
static __attribute__((noinline)) ThreatqJsonResult
_skip_value(Lexer *self)
{
  ThreatqJsonResult result = _values(self, TRUE);
  return result == SKIPPED ? GO_ON : result;
}

ThreatqJsonResult
threatq_json_events_parse(const gchar *input, gsize length, const yajl_callbacks *callbacks, gpointer ctx,
                          gsize *consumed, guint *skipped_tokens)
{
  guint uncounted = 0;
  Lexer self = { .input = (const guchar *) input, .p = (const guchar *) input, .end = (const guchar *) input + length,
                 .callbacks = callbacks, .ctx = ctx, .consumed = consumed, .scratch = g_string_new(NULL),
                 .skipped_tokens = skipped_tokens ? skipped_tokens : &uncounted
               };

  ThreatqJsonResult result = _values(&self, FALSE);
  g_string_free(self.scratch, TRUE);
  return result;
}
