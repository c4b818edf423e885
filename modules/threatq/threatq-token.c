/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-token.h"
#include "threatq-http-policy.h"

#include <yajl/yajl_parse.h>
#include <string.h>

typedef enum
{
  FIELD_OTHER,
  FIELD_ACCESS_TOKEN,
  FIELD_EXPIRES_IN,
} TokenField;

typedef struct _TokenParse
{
  gint depth;                 /* containers open */
  gboolean too_deep;
  gboolean root_is_object;
  TokenField field;           /* the top-level key whose value comes next */
  GString *access_token;      /* NULL: none seen; wiped before free */
  gboolean access_token_not_string;
  gchar *expires_in;          /* number or string text as sent; NULL: absent */
  gsize expires_in_length;
} TokenParse;

static void
_wipe_string(GString *s)
{
  if (!s)
    return;
  memset(s->str, 0, s->allocated_len);
  g_string_free(s, TRUE);
}

/* a scalar at depth 1 is the value of the key just read */
static gboolean
_top_level_value(TokenParse *p)
{
  return p->depth == 1;
}

static int
_on_scalar(void *ctx)
{
  TokenParse *p = ctx;
  if (p->depth == 0)
    return 0;                 /* the response is a bare scalar */
  if (_top_level_value(p) && p->field == FIELD_ACCESS_TOKEN)
    p->access_token_not_string = TRUE;
  return 1;
}

static int
_on_null(void *ctx)
{
  return _on_scalar(ctx);
}

static int
_on_boolean(void *ctx, int value)
{
  return _on_scalar(ctx);
}

static void
_set_expires_in(TokenParse *p, const char *text, size_t length)
{
  /* 64 digits overflow 64 bits as surely as more would: nothing is lost by cutting there */
  g_free(p->expires_in);
  p->expires_in_length = MIN(length, 64);
  p->expires_in = g_strndup(text, p->expires_in_length);
}

static int
_on_number(void *ctx, const char *text, size_t length)
{
  TokenParse *p = ctx;
  if (!_on_scalar(ctx))
    return 0;
  if (_top_level_value(p) && p->field == FIELD_EXPIRES_IN)
    _set_expires_in(p, text, length);
  return 1;
}

static int
_on_string(void *ctx, const unsigned char *text, size_t length)
{
  TokenParse *p = ctx;
  if (p->depth == 0)
    return 0;
  if (!_top_level_value(p))
    return 1;
  if (p->field == FIELD_ACCESS_TOKEN)
    {
      _wipe_string(p->access_token);
      p->access_token = g_string_new_len((const gchar *) text, MIN(length, THREATQ_TOKEN_MAX_LENGTH + 1));
      p->access_token_not_string = FALSE;
    }
  else if (p->field == FIELD_EXPIRES_IN)
    _set_expires_in(p, (const char *) text, length);
  return 1;
}

static int
_on_map_key(void *ctx, const unsigned char *key, size_t length)
{
  TokenParse *p = ctx;
  p->field = FIELD_OTHER;
  if (p->depth != 1)
    return 1;
  if (length == 12 && memcmp(key, "access_token", 12) == 0)
    p->field = FIELD_ACCESS_TOKEN;
  else if (length == 10 && memcmp(key, "expires_in", 10) == 0)
    p->field = FIELD_EXPIRES_IN;
  return 1;
}

static int
_open(TokenParse *p, gboolean is_map)
{
  if (p->depth == 0)
    p->root_is_object = is_map;
  else if (_top_level_value(p) && p->field == FIELD_ACCESS_TOKEN)
    p->access_token_not_string = TRUE;
  if (++p->depth > THREATQ_TOKEN_MAX_DEPTH)
    {
      p->too_deep = TRUE;
      return 0;
    }
  return 1;
}

static int
_on_start_map(void *ctx)
{
  return _open(ctx, TRUE);
}

static int
_on_start_array(void *ctx)
{
  return _open(ctx, FALSE);
}

static int
_on_end(void *ctx)
{
  TokenParse *p = ctx;
  p->depth--;
  p->field = FIELD_OTHER;
  return 1;
}

static const yajl_callbacks token_callbacks =
{
  .yajl_null = _on_null,
  .yajl_boolean = _on_boolean,
  .yajl_number = _on_number,
  .yajl_string = _on_string,
  .yajl_start_map = _on_start_map,
  .yajl_map_key = _on_map_key,
  .yajl_end_map = _on_end,
  .yajl_start_array = _on_start_array,
  .yajl_end_array = _on_end,
};

static gboolean
_run_parser(const gchar *body, gsize length, TokenParse *p)
{
  yajl_handle parser = yajl_alloc(&token_callbacks, NULL, p);
  yajl_status status = yajl_parse(parser, (const unsigned char *) body, length);

  if (status == yajl_status_ok)
    status = yajl_complete_parse(parser);
  yajl_free(parser);
  return status == yajl_status_ok;
}

static gboolean
_fail(gchar *problem, gsize problem_size, const gchar *reason)
{
  g_strlcpy(problem, reason, problem_size);
  return FALSE;
}

static gboolean
_check(const gchar *body, gsize length, TokenParse *p, gchar *problem, gsize problem_size)
{
  if (length > THREATQ_TOKEN_RESPONSE_MAX_SIZE)
    return _fail(problem, problem_size, "token response is larger than 64 KiB");
  gboolean parsed = _run_parser(body, length, p);
  if (p->too_deep)
    return _fail(problem, problem_size, "token response nests deeper than 16 levels");
  if (!parsed)
    return _fail(problem, problem_size, "token response is not valid JSON");
  if (!p->root_is_object)
    return _fail(problem, problem_size, "token response is not a JSON object");
  if (p->access_token_not_string)
    return _fail(problem, problem_size, "token response: access_token is not a string");
  if (!p->access_token || p->access_token->len == 0)
    return _fail(problem, problem_size, "token response has no access_token");
  if (p->access_token->len > THREATQ_TOKEN_MAX_LENGTH)
    return _fail(problem, problem_size, "token response: access_token is longer than 8192 bytes");
  if (!threatq_token_is_valid(p->access_token->str, p->access_token->len))
    return _fail(problem, problem_size,
                 "token response: access_token has characters RFC 6750 does not allow in a bearer token");
  return TRUE;
}

gboolean
threatq_token_parse(const gchar *body, gsize length, ThreatqToken *token, gchar *problem, gsize problem_size)
{
  TokenParse p = { 0 };
  gboolean ok = _check(body, length, &p, problem, problem_size);

  if (ok)
    {
      threatq_token_clear(token);
      token->access_token = g_strndup(p.access_token->str, p.access_token->len);
      token->lifetime = threatq_http_token_lifetime(p.expires_in, p.expires_in_length);
    }
  _wipe_string(p.access_token);
  g_free(p.expires_in);
  return ok;
}

static gboolean
_is_token_char(gchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

gboolean
threatq_token_is_valid(const gchar *token, gsize length)
{
  gsize i = 0;

  while (i < length && _is_token_char(token[i]))
    i++;
  if (i == 0)
    return FALSE;
  while (i < length && token[i] == '=')
    i++;
  return i == length;
}

void
threatq_token_clear(ThreatqToken *token)
{
  if (token->access_token)
    memset(token->access_token, 0, strlen(token->access_token));
  g_clear_pointer(&token->access_token, g_free);
  token->lifetime = 0;
}
