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
 * Accepts "YYYY-MM-DD HH:MM:SS" (the ThreatQ format) and, leniently, a 'T'
 * instead of the space, an optional fraction ".f..." (milliseconds kept) and
 * an optional trailing "Z".  Every component is range-checked (February 29
 * only in leap years, no second 60, no year 0000).  Returns milliseconds since the epoch.
 */
gboolean threatq_mapper_parse_date(const gchar *text, gsize length, gint64 *msec);

/* Formats milliseconds since the epoch (>= 0001-01-01) as ISO 8601 UTC with milliseconds; returns the length. */
gsize threatq_mapper_format_date(gint64 msec, gchar buffer[THREATQ_DATE_BUFFER_SIZE]);

/*
 * Both at once: parses text like threatq_mapper_parse_date() and writes what
 * threatq_mapper_format_date() would make of the result, straight from the
 * parsed fields (no calendar round trip); returns the length, 0 when text is
 * not a date.
 */
gsize threatq_mapper_normalise_date(const gchar *text, gsize length, gint64 *msec,
                                    gchar buffer[THREATQ_DATE_BUFFER_SIZE]);

#endif
