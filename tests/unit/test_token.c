/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-token: the OAuth2 token response parser (yajl events, bounded
 * depth) and the RFC 6750 token check, table-driven, plus the bodies that
 * crashed or were accepted before (deep nesting, CR/LF in the token).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-token.h"
#include "threatq-http-policy.h"

typedef struct
{
  gchar body[200];
  gboolean ok;
  gchar token[64];
  gint64 lifetime;
  gchar problem[64];          /* a word the reason must contain */
} TokenCase;

ParameterizedTestParameters(token, parse)
{
  static TokenCase cases[] =
  {
    { "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":3600}", TRUE, "abc", 3600, "" },
    { "{\"expires_in\":100,\"access_token\":\"abc\"}", TRUE, "abc", 100, "" },
    { "{\"access_token\":\"abc\"}", TRUE, "abc", 3600, "" },
    { "{\"access_token\":\"abc\",\"expires_in\":\"600\"}", TRUE, "abc", 600, "" },
    { "{\"access_token\":\"abc\",\"expires_in\":1e99}", TRUE, "abc", 3600, "" },
    { "{\"access_token\":\"abc\",\"expires_in\":99999999999999999999999999}", TRUE, "abc", 86400, "" },
    { "{\"access_token\":\"abc\",\"expires_in\":-1}", TRUE, "abc", 1, "" },
    { "{\"access_token\":\"abc\",\"expires_in\":null}", TRUE, "abc", 3600, "" },
    { "{\"access_token\":\"a-b.c_d~e+f/g==\"}", TRUE, "a-b.c_d~e+f/g==", 3600, "" },
    { "{\"access_token\":\"first\",\"access_token\":\"second\"}", TRUE, "second", 3600, "" },
    { "{\"nested\":{\"access_token\":\"inner\"},\"access_token\":\"outer\"}", TRUE, "outer", 3600, "" },
    { "{\"nested\":{\"access_token\":\"inner\"}}", FALSE, "", 0, "no access_token" },
    { "{\"a\":[[[{\"b\":[1,2,{\"c\":\"d\"}]}]]],\"access_token\":\"x\"}", TRUE, "x", 3600, "" },
    { "{}", FALSE, "", 0, "no access_token" },
    { "{\"access_token\":\"\"}", FALSE, "", 0, "no access_token" },
    { "{\"access_token\":null}", FALSE, "", 0, "not a string" },
    { "{\"access_token\":42}", FALSE, "", 0, "not a string" },
    { "{\"access_token\":[\"abc\"]}", FALSE, "", 0, "not a string" },
    { "{\"access_token\":{\"v\":\"abc\"}}", FALSE, "", 0, "not a string" },
    { "{\"access_token\":\"abc\\r\\nX-Evil: 1\"}", FALSE, "", 0, "RFC 6750" },
    { "{\"access_token\":\"abc def\"}", FALSE, "", 0, "RFC 6750" },
    { "{\"access_token\":\"abc\\u0000def\"}", FALSE, "", 0, "RFC 6750" },
    { "{\"access_token\":\"=abc\"}", FALSE, "", 0, "RFC 6750" },
    { "{\"access_token\":\"ab=c\"}", FALSE, "", 0, "RFC 6750" },
    { "{\"access_token\":\"\xc3\xa9\"}", FALSE, "", 0, "RFC 6750" },
    { "[\"access_token\",\"abc\"]", FALSE, "", 0, "not a JSON object" },
    { "\"abc\"", FALSE, "", 0, "not valid JSON" },
    { "42", FALSE, "", 0, "not valid JSON" },
    { "", FALSE, "", 0, "not valid JSON" },
    { "{\"access_token\":\"abc\"", FALSE, "", 0, "not valid JSON" },
    { "{\"access_token\":\"abc\"} {}", FALSE, "", 0, "not valid JSON" },
    { "{\"access_token\":\"abc\"}\n", TRUE, "abc", 3600, "" },
    { "{\"access_token\":\"\xff\"}", FALSE, "", 0, "not valid JSON" },
    { "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],\"access_token\":\"x\"}", FALSE, "", 0, "deeper" },
  };
  return cr_make_param_array(TokenCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(TokenCase *c, token, parse)
{
  ThreatqToken token = { 0 };
  gchar problem[256] = "";
  gboolean ok = threatq_token_parse(c->body, strlen(c->body), &token, problem, sizeof(problem));

  cr_assert_eq(ok, c->ok, "%s -> %s", c->body, problem);
  if (ok)
    {
      cr_assert_str_eq(token.access_token, c->token);
      cr_assert_eq(token.lifetime, c->lifetime, "%s -> %" G_GINT64_FORMAT, c->body, token.lifetime);
    }
  else
    {
      cr_assert_null(token.access_token);
      cr_assert(strstr(problem, c->problem), "%s -> \"%s\", expected \"%s\"", c->body, problem, c->problem);
    }
  threatq_token_clear(&token);
}

Test(token, deep_nesting_is_refused_without_recursion)
{
  /* the body that crashed syslog-ng through yajl_tree_free(): here within the size bound */
  GString *body = g_string_new("{\"access_token\":\"x\",\"a\":");
  gsize depth = 30000;
  for (gsize i = 0; i < depth; i++)
    g_string_append_c(body, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c(body, ']');
  g_string_append_c(body, '}');

  ThreatqToken token = { 0 };
  gchar problem[256];
  cr_assert_not(threatq_token_parse(body->str, body->len, &token, problem, sizeof(problem)));
  cr_assert(strstr(problem, "deeper"), "%s", problem);
  g_string_free(body, TRUE);
}

Test(token, depth_at_the_bound_is_accepted)
{
  GString *body = g_string_new("{\"access_token\":\"x\",\"a\":");
  for (gint i = 1; i < THREATQ_TOKEN_MAX_DEPTH; i++)
    g_string_append_c(body, '[');
  for (gint i = 1; i < THREATQ_TOKEN_MAX_DEPTH; i++)
    g_string_append_c(body, ']');
  g_string_append_c(body, '}');

  ThreatqToken token = { 0 };
  gchar problem[256] = "";
  cr_assert(threatq_token_parse(body->str, body->len, &token, problem, sizeof(problem)), "%s", problem);
  threatq_token_clear(&token);
  g_string_free(body, TRUE);
}

Test(token, size_and_length_bounds)
{
  ThreatqToken token = { 0 };
  gchar problem[256];
  GString *body = g_string_new("{\"access_token\":\"");

  for (gint i = 0; i < THREATQ_TOKEN_MAX_LENGTH; i++)
    g_string_append_c(body, 'a');
  g_string_append(body, "\"}");
  cr_assert(threatq_token_parse(body->str, body->len, &token, problem, sizeof(problem)), "%s", problem);
  cr_assert_eq(strlen(token.access_token), THREATQ_TOKEN_MAX_LENGTH);

  g_string_insert_c(body, 20, 'a');
  cr_assert_not(threatq_token_parse(body->str, body->len, &token, problem, sizeof(problem)));
  cr_assert(strstr(problem, "longer than 8192"), "%s", problem);
  /* a refused response leaves the token held before in place */
  cr_assert_eq(strlen(token.access_token), THREATQ_TOKEN_MAX_LENGTH);

  g_string_set_size(body, THREATQ_TOKEN_RESPONSE_MAX_SIZE + 1);
  cr_assert_not(threatq_token_parse(body->str, body->len, &token, problem, sizeof(problem)));
  cr_assert(strstr(problem, "larger than 64 KiB"), "%s", problem);
  threatq_token_clear(&token);
  cr_assert_null(token.access_token);
  g_string_free(body, TRUE);
}

typedef struct
{
  gchar token[32];
  gboolean valid;
} ValidCase;

ParameterizedTestParameters(token, is_valid)
{
  static ValidCase cases[] =
  {
    { "abc", TRUE }, { "A9", TRUE }, { "-._~+/", TRUE }, { "abc=", TRUE }, { "abc==", TRUE },
    { "", FALSE }, { "=", FALSE }, { "a=b", FALSE }, { "a b", FALSE }, { "a\rb", FALSE }, { "a\nb", FALSE },
    { "a:b", FALSE }, { "a\"b", FALSE }, { "a,b", FALSE }, { "a;b", FALSE }, { "a%b", FALSE },
  };
  return cr_make_param_array(ValidCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(ValidCase *c, token, is_valid)
{
  cr_assert_eq(threatq_token_is_valid(c->token, strlen(c->token)), c->valid, "\"%s\"", c->token);
}
