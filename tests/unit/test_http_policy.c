/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-http-policy: status classes, Retry-After, back-off, token
 * lifetime and refresh margin, log excerpts; table-driven.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-http-policy.h"

typedef struct
{
  glong code;
  ThreatqResponseStatus status;
} ClassifyCase;

ParameterizedTestParameters(http_policy, classify)
{
  static ClassifyCase cases[] =
  {
    { 200, THREATQ_RESPONSE_OK }, { 204, THREATQ_RESPONSE_OK }, { 299, THREATQ_RESPONSE_OK },
    { 401, THREATQ_RESPONSE_AUTH_FAILED }, { 403, THREATQ_RESPONSE_AUTH_FAILED },
    { 429, THREATQ_RESPONSE_RATE_LIMITED },
    { 408, THREATQ_RESPONSE_SERVER_ERROR }, { 500, THREATQ_RESPONSE_SERVER_ERROR },
    { 503, THREATQ_RESPONSE_SERVER_ERROR }, { 599, THREATQ_RESPONSE_SERVER_ERROR },
    { 600, THREATQ_RESPONSE_CLIENT_ERROR }, { 999, THREATQ_RESPONSE_CLIENT_ERROR },
    { 301, THREATQ_RESPONSE_CLIENT_ERROR }, { 302, THREATQ_RESPONSE_CLIENT_ERROR },
    { 307, THREATQ_RESPONSE_CLIENT_ERROR }, { 100, THREATQ_RESPONSE_CLIENT_ERROR },
    { 400, THREATQ_RESPONSE_CLIENT_ERROR }, { 404, THREATQ_RESPONSE_CLIENT_ERROR },
    { 0, THREATQ_RESPONSE_CLIENT_ERROR }, { -1, THREATQ_RESPONSE_CLIENT_ERROR },
  };
  return cr_make_param_array(ClassifyCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(ClassifyCase *c, http_policy, classify)
{
  cr_assert_eq(threatq_http_classify(c->code), c->status, "HTTP %ld", c->code);
}

typedef struct
{
  gchar text[96];
  gint64 expected;
} RetryAfterCase;

/* now = Sun, 06 Nov 1994 08:49:37 GMT */
#define NOW 784111777

ParameterizedTestParameters(http_policy, retry_after)
{
  static RetryAfterCase cases[] =
  {
    { "0", 0 },
    { "1", 1 },
    { " 120 \r\n", 120 },
    { "3600", 3600 },
    { "3601", THREATQ_MAX_RETRY_AFTER_SEC },
    { "99999999999999999999999999999", THREATQ_MAX_RETRY_AFTER_SEC },   /* past 2^64: long, not 0 */
    { "18446744073709551616", THREATQ_MAX_RETRY_AFTER_SEC },
    { "-1", -1 },
    { "+5", -1 },
    { "1.5", -1 },
    { "5s", -1 },
    { "", -1 },
    { "   ", -1 },
    { "garbage", -1 },
    { "0x10", -1 },
    { "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
    { "Sun, 06 Nov 1994 08:50:37 GMT", 60 },
    { "Sun, 06 Nov 1994 08:49:36 GMT", 0 },          /* in the past */
    { "Mon, 07 Nov 1994 08:49:37 GMT", THREATQ_MAX_RETRY_AFTER_SEC },
    { "Fri, 31 Dec 9999 23:59:59 GMT", THREATQ_MAX_RETRY_AFTER_SEC },
    { "Sun, 06 Nov 1994 08:49:37 UTC", -1 },
    { "Sun, 06 Xyz 1994 08:49:37 GMT", -1 },
    { "Sun, 32 Nov 1994 08:49:37 GMT", -1 },
    { "Sun, 06 Nov 1994 24:49:37 GMT", -1 },
    { "Sun, 06 Nov -994 08:49:37 GMT", -1 },
    { "Sunday, 06-Nov-94 08:49:37 GMT", -1 },        /* RFC 850: obsolete, not read */
    { "Sun, 06 Nov 1994 08:49:37 GMTX", -1 },
    { "1234567890123456789012345678901234567890123456789012345678901234567890", -1 }, /* > 64 chars */
  };
  return cr_make_param_array(RetryAfterCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(RetryAfterCase *c, http_policy, retry_after)
{
  cr_assert_eq(threatq_http_parse_retry_after(c->text, strlen(c->text), NOW), c->expected, "\"%s\"", c->text);
}

typedef struct
{
  guint failures;
  gint64 max_backoff;
  guint32 random;
  gint64 expected;
} BackoffCase;

ParameterizedTestParameters(http_policy, backoff)
{
  static BackoffCase cases[] =
  {
    /* first retry: 1 s jittered to 0.5-1 s */
    { 0, 60000, 0, 500 },
    { 0, 60000, 500, 1000 },
    { 0, 60000, 501, 500 },                /* random wraps modulo delay/2 + 1 */
    { 1, 60000, 0, 1000 },
    { 1, 60000, 1000, 2000 },
    { 2, 60000, 0, 2000 },
    { 5, 60000, 0, 16000 },
    { 6, 60000, 0, 30000 },                /* 64 s capped at time-reopen(60) */
    { 6, 60000, 30000, 60000 },
    { 1000, 60000, 0, 30000 },             /* no shift overflow */
    { G_MAXUINT, 60000, G_MAXUINT32, 30000 + (G_MAXUINT32 % 30001) },
    { 3, 0, 0, 500 },                      /* time-reopen(0): the first back-off is the floor */
    { 3, -5, 0, 500 },
    { 40, G_MAXINT64, 0, (1000LL << 20) / 2 },  /* shift capped at 2^20 */
  };
  return cr_make_param_array(BackoffCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(BackoffCase *c, http_policy, backoff)
{
  cr_assert_eq(threatq_http_backoff_msec(c->failures, c->max_backoff, c->random), c->expected,
               "failures=%u max=%" G_GINT64_FORMAT " random=%u", c->failures, c->max_backoff, c->random);
}

typedef struct
{
  gchar text[96];
  gboolean absent;
  gint64 lifetime;
  gint64 margin;
} LifetimeCase;

ParameterizedTestParameters(http_policy, token_lifetime)
{
  static LifetimeCase cases[] =
  {
    { "", TRUE, 3600, 60 },
    { "3600", FALSE, 3600, 60 },
    { "241", FALSE, 241, 60 },
    { "240", FALSE, 240, 60 },
    { "100", FALSE, 100, 25 },
    { "2", FALSE, 2, 0 },
    { "1", FALSE, 1, 0 },
    { "0", FALSE, 1, 0 },
    { "-5", FALSE, 1, 0 },
    { "-9223372036854775808", FALSE, 1, 0 },
    { "86400", FALSE, 86400, 60 },
    { "86401", FALSE, 86400, 60 },
    { "9223372036854775807", FALSE, 86400, 60 },
    { "99999999999999999999999999999999", FALSE, 86400, 60 },   /* overflowed before */
    { "+99999999999999999999999999999999", FALSE, 86400, 60 },
    { "-99999999999999999999999999999999", FALSE, 3600, 60 },
    { "3600.5", FALSE, 3600, 60 },
    { "1e9", FALSE, 3600, 60 },
    { "soon", FALSE, 3600, 60 },
  };
  return cr_make_param_array(LifetimeCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(LifetimeCase *c, http_policy, token_lifetime)
{
  gint64 lifetime = threatq_http_token_lifetime(c->absent ? NULL : c->text, strlen(c->text));
  cr_assert_eq(lifetime, c->lifetime, "\"%s\" -> %" G_GINT64_FORMAT, c->text, lifetime);
  cr_assert_eq(threatq_http_refresh_margin(lifetime), c->margin);
  cr_assert_lt(threatq_http_refresh_margin(lifetime), lifetime + 1);
}

typedef struct
{
  gchar text[128];
  gsize max;
  gchar expected[128];
} ExcerptCase;

ParameterizedTestParameters(http_policy, excerpt)
{
  static ExcerptCase cases[] =
  {
    { "short", 256, "short" },
    { "", 256, "" },
    { "a\r\nb\tc\x7f" "d\xc3\xa9", 256, "a??b?c?d??" },
    { "0123456789012345678901234567890123456789012345678901234567890123456789", 40,
      "012345678901234567890123456...(70 bytes)" },
    { "0123456789012345678901234567890123456789", 40, "0123456789012345678901234567890123456789" },
    { "01234567890123456789012345678901234567890", 40, "012345678901234567890123456...(41 bytes)" },
    { "0123456789012345678901234567890123456789", 1, "0123456789012345678...(40 bytes)" },  /* max raised to 32 */
  };
  return cr_make_param_array(ExcerptCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(ExcerptCase *c, http_policy, excerpt)
{
  gchar *shown = threatq_http_excerpt(c->text, strlen(c->text), c->max);
  cr_assert_str_eq(shown, c->expected);
  cr_assert_leq(strlen(shown), MAX(c->max, 32));
  g_free(shown);
}

Test(http_policy, excerpt_of_megabytes_is_bounded)
{
  gsize length = 9 * 1024 * 1024;
  gchar *big = g_malloc(length);
  memset(big, 'x', length);
  gchar *shown = threatq_http_excerpt(big, length, THREATQ_LOG_EXCERPT_MAX);
  cr_assert_leq(strlen(shown), THREATQ_LOG_EXCERPT_MAX);
  cr_assert(g_str_has_suffix(shown, "...(9437184 bytes)"), "%s", shown);
  g_free(shown);
  g_free(big);
}
