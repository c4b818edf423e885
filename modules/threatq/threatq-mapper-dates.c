/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-mapper-dates.h"

#define MSEC_PER_DAY G_GINT64_CONSTANT(86400000)

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
static gint64
_days_from_civil(gint64 y, guint m, guint d)
{
  y -= m <= 2;
  gint64 era = (y >= 0 ? y : y - 399) / 400;
  guint yoe = (guint) (y - era * 400);
  guint doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  guint doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64) doe - 719468;
}

static void
_civil_from_days(gint64 z, gint64 *year, guint *month, guint *day)
{
  z += 719468;
  gint64 era = (z >= 0 ? z : z - 146096) / 146097;
  guint doe = (guint) (z - era * 146097);
  guint yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  guint doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  guint mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = (gint64) yoe + era * 400 + (*month <= 2);
}

static gboolean
_is_leap(gint64 y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static guint
_days_in_month(gint64 y, guint m)
{
  static const guint8 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  return m == 2 && _is_leap(y) ? 29 : days[m - 1];
}

static gboolean
_digits(const gchar *p, guint count, guint *value)
{
  guint v = 0;
  for (guint i = 0; i < count; i++)
    {
      if (p[i] < '0' || p[i] > '9')
        return FALSE;
      v = v * 10 + (guint) (p[i] - '0');
    }
  *value = v;
  return TRUE;
}

typedef struct
{
  guint year, month, day, hour, minute, second, millis;
} DateParts;

/* "2022-04-11T09:27:35": what every date starts with */
#define DATE_TIME_LENGTH (sizeof("YYYY-MM-DDTHH:MM:SS") - 1)

static gboolean
_parse_parts(const gchar *text, gsize length, DateParts *date)
{
  guint year, month, day, hour, minute, second, millis = 0;

  if (length < DATE_TIME_LENGTH)
    return FALSE;
  if (!_digits(text, 4, &year) || text[4] != '-' || !_digits(text + 5, 2, &month) || text[7] != '-'
      || !_digits(text + 8, 2, &day) || (text[10] != ' ' && text[10] != 'T')
      || !_digits(text + 11, 2, &hour) || text[13] != ':' || !_digits(text + 14, 2, &minute) || text[16] != ':'
      || !_digits(text + 17, 2, &second))
    return FALSE;

  gsize pos = DATE_TIME_LENGTH;
  if (pos < length && text[pos] == '.')
    {
      guint scale = 100, fraction_digits = 0;
      for (pos++; pos < length && text[pos] >= '0' && text[pos] <= '9'; pos++, fraction_digits++)
        {
          millis += (guint) (text[pos] - '0') * scale;
          scale /= 10;
        }
      if (fraction_digits == 0)
        return FALSE;
    }
  if (pos < length && text[pos] == 'Z')
    pos++;
  if (pos != length)
    return FALSE;

  if (year < 1 || month < 1 || month > 12 || day < 1 || day > _days_in_month(year, month) || hour > 23 || minute > 59
      || second > 59)
    return FALSE;

  *date = (DateParts) { year, month, day, hour, minute, second, millis };
  return TRUE;
}

static gint64
_to_msec(const DateParts *date)
{
  gint64 days = _days_from_civil(date->year, date->month, date->day);
  return days * MSEC_PER_DAY + ((gint64) date->hour * 3600 + date->minute * 60 + date->second) * 1000 + date->millis;
}

static gchar *
_put2(gchar *p, guint v)
{
  p[0] = (gchar) ('0' + v / 10);
  p[1] = (gchar) ('0' + v % 10);
  return p + 2;
}

/* at least 4 digits */
static gchar *
_put_year(gchar *p, guint year)
{
  if (year < 10000)
    return _put2(_put2(p, year / 100), year % 100);

  gchar digits[10];
  gint n = 0;
  for (; year > 0; year /= 10)
    digits[n++] = (gchar) ('0' + year % 10);
  while (n > 0)
    *p++ = digits[--n];
  return p;
}

static gsize
_format_parts(const DateParts *date, gchar buffer[THREATQ_DATE_BUFFER_SIZE])
{
  gchar *p = _put_year(buffer, date->year);

  *p++ = '-';
  p = _put2(p, date->month);
  *p++ = '-';
  p = _put2(p, date->day);
  *p++ = 'T';
  p = _put2(p, date->hour);
  *p++ = ':';
  p = _put2(p, date->minute);
  *p++ = ':';
  p = _put2(p, date->second);
  *p++ = '.';
  *p++ = (gchar) ('0' + date->millis / 100);
  p = _put2(p, date->millis % 100);
  *p++ = 'Z';
  *p = '\0';
  return (gsize) (p - buffer);
}

gsize
threatq_mapper_normalise_date(const gchar *text, gsize length, gint64 *msec, gchar buffer[THREATQ_DATE_BUFFER_SIZE])
{
  DateParts date;

  if (!_parse_parts(text, length, &date))
    return 0;
  *msec = _to_msec(&date);
  return _format_parts(&date, buffer);
}

gsize
threatq_mapper_format_date(gint64 msec, gchar buffer[THREATQ_DATE_BUFFER_SIZE])
{
  gint64 days = msec / MSEC_PER_DAY;
  gint64 rest = msec % MSEC_PER_DAY;
  if (rest < 0)
    {
      rest += MSEC_PER_DAY;
      days--;
    }

  DateParts date;
  gint64 year;
  _civil_from_days(days, &year, &date.month, &date.day);
  /* year < 1 is not reachable from parsed dates plus a bounded duration */
  date.year = (guint) MAX(year, 1);

  guint ms = (guint) rest;
  date.hour = ms / 3600000;
  date.minute = ms / 60000 % 60;
  date.second = ms / 1000 % 60;
  date.millis = ms % 1000;
  return _format_parts(&date, buffer);
}
