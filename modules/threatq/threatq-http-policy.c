/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-http-policy.h"
#include "threatq-number.h"

#include <string.h>

ThreatqResponseStatus
threatq_http_classify(glong code)
{
  if (code >= 200 && code < 300)
    return THREATQ_RESPONSE_OK;
  if (code == 401 || code == 403)
    return THREATQ_RESPONSE_AUTH_FAILED;
  if (code == 429)
    return THREATQ_RESPONSE_RATE_LIMITED;
  if (code == 408 || (code >= 500 && code < 600))
    return THREATQ_RESPONSE_SERVER_ERROR;
  return THREATQ_RESPONSE_CLIENT_ERROR;
}

static gboolean
_two_digits(const gchar *text, gint min, gint max, gint *result)
{
  gint64 value;

  if (!threatq_number_parse_int64_range(text, 2, min, max, &value) || text[0] == '-' || text[0] == '+')
    return FALSE;
  *result = (gint) value;
  return TRUE;
}

static gint
_month(const gchar *text)
{
  static const gchar months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

  for (gint i = 0; i < 12; i++)
    if (strncmp(text, months + 3 * i, 3) == 0)
      return i + 1;
  return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil) */
static gint64
_days_from_civil(gint64 y, gint m, gint d)
{
  y -= m <= 2;
  gint64 era = (y >= 0 ? y : y - 399) / 400;
  gint64 yoe = y - era * 400;
  gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters; -> unix seconds, or -1 */
static gint64
_parse_imf_fixdate(const gchar *t, gsize length)
{
  gint day, month, hour, minute, second;
  gint64 year;

  if (length != 29 || t[3] != ',' || t[4] != ' ' || t[7] != ' ' || t[11] != ' ' || t[16] != ' '
      || t[19] != ':' || t[22] != ':' || strncmp(t + 25, " GMT", 4) != 0)
    return -1;
  if (!_two_digits(t + 5, 1, 31, &day) || !(month = _month(t + 8))
      || !threatq_number_parse_int64_range(t + 12, 4, 1970, 9999, &year)
      || !_two_digits(t + 17, 0, 23, &hour) || !_two_digits(t + 20, 0, 59, &minute)
      || !_two_digits(t + 23, 0, 60, &second))
    return -1;
  return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

gint64
threatq_http_parse_retry_after(const gchar *text, gsize length, gint64 now)
{
  guint64 seconds;

  while (length > 0 && g_ascii_isspace(text[0]))
    text++, length--;
  while (length > 0 && g_ascii_isspace(text[length - 1]))
    length--;
  if (length == 0 || length > THREATQ_MAX_RETRY_AFTER_TEXT)
    return -1;

  if (g_ascii_isdigit(text[0]))
    {
      /* all digits but too many of them is still "a long time" */
      gboolean digits_only = TRUE;
      for (gsize i = 0; i < length; i++)
        digits_only = digits_only && g_ascii_isdigit(text[i]);
      if (!digits_only)
        return -1;
      if (!threatq_number_parse_uint64(text, length, &seconds) || seconds > THREATQ_MAX_RETRY_AFTER_SEC)
        return THREATQ_MAX_RETRY_AFTER_SEC;
      return (gint64) seconds;
    }

  gint64 when = _parse_imf_fixdate(text, length);
  if (when < 0)
    return -1;
  return CLAMP(when - now, 0, THREATQ_MAX_RETRY_AFTER_SEC);
}

gint64
threatq_http_backoff_msec(guint failures, gint64 max_backoff_msec, guint32 random)
{
  gint64 cap = MAX(max_backoff_msec, THREATQ_FIRST_BACKOFF_MSEC);
  gint64 delay = MIN((gint64) THREATQ_FIRST_BACKOFF_MSEC << MIN(failures, 20), cap);

  return delay / 2 + (gint64) (random % (guint64) (delay / 2 + 1));
}

gint64
threatq_http_token_lifetime(const gchar *expires_in, gsize length)
{
  gint64 seconds;

  if (!expires_in)
    return THREATQ_TOKEN_DEFAULT_LIFETIME_SEC;
  if (threatq_number_parse_int64(expires_in, length, &seconds))
    return CLAMP(seconds, 1, THREATQ_TOKEN_MAX_LIFETIME_SEC);

  /* too many digits for 64 bits: very long, not "unknown" */
  gsize start = (length > 0 && expires_in[0] == '+') ? 1 : 0;
  gboolean digits_only = length > start;
  for (gsize i = start; i < length; i++)
    digits_only = digits_only && g_ascii_isdigit(expires_in[i]);
  return digits_only ? THREATQ_TOKEN_MAX_LIFETIME_SEC : THREATQ_TOKEN_DEFAULT_LIFETIME_SEC;
}

gint64
threatq_http_refresh_margin(gint64 lifetime)
{
  return lifetime > 240 ? 60 : lifetime / 4;
}

gchar *
threatq_http_excerpt(const gchar *text, gsize length, gsize max)
{
  gchar suffix[48] = "";

  max = MAX(max, 32);

  if (!text)
    return g_strdup("");
  if (length > max)
    g_snprintf(suffix, sizeof(suffix), "...(%" G_GSIZE_FORMAT " bytes)", length);
  gsize keep = length > max ? max - strlen(suffix) : length;
  gchar *result = g_malloc(keep + strlen(suffix) + 1);

  for (gsize i = 0; i < keep; i++)
    result[i] = (text[i] >= ' ' && text[i] <= '~') ? text[i] : '?';
  strcpy(result + keep, suffix);
  return result;
}
