/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-number: the one decimal parser, table-driven (accepted, refused,
 * and the edges of each type).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-number.h"

typedef struct
{
  gchar text[48];
  gboolean ok;
  gint64 value;
} Int64Case;

ParameterizedTestParameters(number, int64)
{
  static Int64Case cases[] =
  {
    { "0", TRUE, 0 },
    { "7", TRUE, 7 },
    { "-7", TRUE, -7 },
    { "+7", TRUE, 7 },
    { "007", TRUE, 7 },
    { "-0", TRUE, 0 },
    { "9223372036854775807", TRUE, G_MAXINT64 },
    { "-9223372036854775808", TRUE, G_MININT64 },
    { "9223372036854775808", FALSE, 0 },          /* 2^63 */
    { "-9223372036854775809", FALSE, 0 },
    { "18446744073709551615", FALSE, 0 },         /* 2^64 - 1 */
    { "18446744073709551616", FALSE, 0 },         /* 2^64: wrapped to 0 before */
    { "18446744073709551617", FALSE, 0 },         /* wrapped to 1 before */
    { "36893488147419103232", FALSE, 0 },         /* 2^65 */
    { "99999999999999999999999999999999", FALSE, 0 },
    { "", FALSE, 0 },
    { "-", FALSE, 0 },
    { "+", FALSE, 0 },
    { "--1", FALSE, 0 },
    { "+-1", FALSE, 0 },
    { " 1", FALSE, 0 },
    { "1 ", FALSE, 0 },
    { "1.0", FALSE, 0 },
    { "1e3", FALSE, 0 },
    { "0x10", FALSE, 0 },
    { "12a", FALSE, 0 },
    { "\xd9\xa3", FALSE, 0 },                     /* ARABIC-INDIC DIGIT THREE */
  };
  return cr_make_param_array(Int64Case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(Int64Case *c, number, int64)
{
  gint64 value = 12345;
  gboolean ok = threatq_number_parse_int64(c->text, strlen(c->text), &value);

  cr_assert_eq(ok, c->ok, "'%s': expected %s", c->text, c->ok ? "accepted" : "refused");
  if (c->ok)
    cr_assert_eq(value, c->value, "'%s' -> %" G_GINT64_FORMAT, c->text, value);
  else
    cr_assert_eq(value, 12345, "'%s': result written although refused", c->text);
}

typedef struct
{
  gchar text[48];
  gboolean ok;
  guint64 value;
} Uint64Case;

ParameterizedTestParameters(number, uint64)
{
  static Uint64Case cases[] =
  {
    { "0", TRUE, 0 },
    { "4294967295", TRUE, G_MAXUINT32 },
    { "18446744073709551615", TRUE, G_MAXUINT64 },
    { "18446744073709551616", FALSE, 0 },
    { "18446744073709551620", FALSE, 0 },
    { "184467440737095516150", FALSE, 0 },
    { "+1", FALSE, 0 },
    { "-1", FALSE, 0 },
    { "", FALSE, 0 },
    { "1x", FALSE, 0 },
  };
  return cr_make_param_array(Uint64Case, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(Uint64Case *c, number, uint64)
{
  guint64 value = 12345;
  gboolean ok = threatq_number_parse_uint64(c->text, strlen(c->text), &value);

  cr_assert_eq(ok, c->ok, "'%s': expected %s", c->text, c->ok ? "accepted" : "refused");
  cr_assert_eq(value, c->ok ? c->value : 12345, "'%s' -> %" G_GUINT64_FORMAT, c->text, value);
}

typedef struct
{
  gchar text[48];
  gint64 min, max;
  gboolean ok;
} RangeCase;

ParameterizedTestParameters(number, range)
{
  static RangeCase cases[] =
  {
    { "0", 0, 10, TRUE },
    { "10", 0, 10, TRUE },
    { "11", 0, 10, FALSE },
    { "-1", 0, 10, FALSE },
    { "-5", -5, 5, TRUE },
    { "9223372036854775807", 0, G_MAXINT64, TRUE },
    { "9223372036854775808", 0, G_MAXINT64, FALSE },
  };
  return cr_make_param_array(RangeCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(RangeCase *c, number, range)
{
  gint64 value = -12345;
  gboolean ok = threatq_number_parse_int64_range(c->text, strlen(c->text), c->min, c->max, &value);

  cr_assert_eq(ok, c->ok, "'%s' in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", c->text, c->min, c->max);
  if (!ok)
    cr_assert_eq(value, -12345);
}

Test(number, length_not_nul)
{
  gint64 value;

  /* only the first length bytes count: "123" out of "12345" */
  cr_assert(threatq_number_parse_int64("12345", 3, &value));
  cr_assert_eq(value, 123);
  cr_assert_not(threatq_number_parse_int64(NULL, 0, &value));
  cr_assert_not(threatq_number_parse_int64("", 0, &value));
}
