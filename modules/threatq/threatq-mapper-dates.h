/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calendar arithmetic for the mapper: ThreatQ's "YYYY-MM-DD HH:MM:SS" (UTC)
 * in, ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" out.  Pure integer arithmetic
 * (days-from-civil), no timegm(), no locale, no time zone database.
 */
#ifndef THREATQ_MAPPER_DATES_H_INCLUDED
#define THREATQ_MAPPER_DATES_H_INCLUDED

#include <glib.h>

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" plus NUL; years beyond 9999 take more digits */
#define THREATQ_DATE_BUFFER_SIZE 32

/*
 * Parses text and writes it as threatq_mapper_format_date() would, straight
 * from the parsed fields (no calendar round trip).  Accepts "YYYY-MM-DD
 * HH:MM:SS" (the ThreatQ format) and, leniently, a 'T' instead of the space,
 * an optional fraction ".f..." (milliseconds kept) and an optional trailing
 * "Z".  Every component is range-checked (February 29 only in leap years, no
 * second 60, no year 0000).  Sets msec (milliseconds since the epoch) and
 * returns the length written, or 0 when text is not such a date.
 */
gsize threatq_mapper_normalise_date(const gchar *text, gsize length, gint64 *msec,
                                    gchar buffer[THREATQ_DATE_BUFFER_SIZE]);

/* Formats milliseconds since the epoch (>= 0001-01-01) as ISO 8601 UTC with milliseconds; returns the length. */
gsize threatq_mapper_format_date(gint64 msec, gchar buffer[THREATQ_DATE_BUFFER_SIZE]);

#endif
