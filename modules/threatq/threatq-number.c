/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-number.h"

/* digits only; the overflow test comes before the multiplication, so no
 * intermediate value ever wraps */
static gboolean
_parse_digits(const gchar *text, gsize length, guint64 limit, guint64 *result)
{
  guint64 value = 0;

  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      if (text[i] < '0' || text[i] > '9')
        return FALSE;
      guint digit = (guint) (text[i] - '0');
      if (value > (limit - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }
  *result = value;
  return TRUE;
}

gboolean
threatq_number_parse_uint64(const gchar *text, gsize length, guint64 *result)
{
  if (!text)
    return FALSE;
  return _parse_digits(text, length, G_MAXUINT64, result);
}

gboolean
threatq_number_parse_int64(const gchar *text, gsize length, gint64 *result)
{
  gboolean negative = FALSE;
  guint64 magnitude;

  if (!text)
    return FALSE;
  if (length > 0 && (text[0] == '-' || text[0] == '+'))
    {
      negative = text[0] == '-';
      text++;
      length--;
    }
  /* -2^63 is a valid gint64, +2^63 is not */
  if (!_parse_digits(text, length, negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64, &magnitude))
    return FALSE;
  *result = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
  return TRUE;
}

gboolean
threatq_number_parse_int64_range(const gchar *text, gsize length, gint64 min, gint64 max, gint64 *result)
{
  gint64 value;

  if (!threatq_number_parse_int64(text, length, &value) || value < min || value > max)
    return FALSE;
  *result = value;
  return TRUE;
}
