/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decimal integers from server data or configuration text: one parser for the
 * whole module, so that every caller rejects the same inputs.  Pure functions,
 * no allocation, safe on any thread.
 *
 * Accepted: an optional sign ('-' or '+', only for the signed variant) then one
 * or more ASCII digits, nothing else (no spaces, no fraction, no exponent).
 * A value outside the target type is an error, never a wrapped or clamped
 * number: "18446744073709551616" (2^64) is refused, not read as 0.
 */
#ifndef THREATQ_NUMBER_H_INCLUDED
#define THREATQ_NUMBER_H_INCLUDED

#include <glib.h>

/* text[0..length) as a signed 64-bit integer; FALSE (and *result untouched)
 * when it is not one or does not fit */
gboolean threatq_number_parse_int64(const gchar *text, gsize length, gint64 *result);

/* the same without a sign: digits only, 0 .. G_MAXUINT64 */
gboolean threatq_number_parse_uint64(const gchar *text, gsize length, guint64 *result);

/* the signed parse, then a range check: FALSE when outside [min, max] */
gboolean threatq_number_parse_int64_range(const gchar *text, gsize length, gint64 min, gint64 max, gint64 *result);

#endif
