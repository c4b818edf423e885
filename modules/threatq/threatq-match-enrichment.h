/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match(): one hit as ECS threat.enrichments[] data, the part that
 * needs no syslog-ng (unit-tested alone): the JSON object of a hit, as
 * hits-field() carries it, and the texts of the single name-value pairs.
 *
 * Pure and reentrant; it reads an entry, so call it inside the read section
 * in which the entry was found (threatq-match-set.h).
 */
#ifndef THREATQ_MATCH_ENRICHMENT_H_INCLUDED
#define THREATQ_MATCH_ENRICHMENT_H_INCLUDED

#include "threatq-match-set.h"
#include "threatq-mapper-dates.h"

/* threat.enrichments.matched.type: ECS's name for a match of an indicator value */
#define THREATQ_MATCH_MATCHED_TYPE "indicator_match_rule"

/* where a hit was found: the template as written in fields() and the value it gave */
typedef struct _ThreatqMatchOrigin
{
  const gchar *field;
  const gchar *atomic;
  gsize atomic_length;
} ThreatqMatchOrigin;

/*
 * Epoch seconds as ISO 8601 UTC, as the mapper writes dates
 * ("2024-05-01T10:00:00.000Z"); returns the length, 0 for 0 (unknown).
 */
gsize threatq_match_enrichment_format_time(guint32 seconds, gchar buffer[THREATQ_DATE_BUFFER_SIZE]);

/* an indicator id in decimal, as printf's %" G_GINT64_FORMAT " (a tenth of its cost); returns the length */
#define THREATQ_MATCH_ID_BUFFER_SIZE 24
gsize threatq_match_enrichment_format_id(gint64 id, gchar buffer[THREATQ_MATCH_ID_BUFFER_SIZE]);

/*
 * Appends one hit as an object of ECS threat.enrichments[]:
 * {"indicator":{"type":..,<value field>:..,"id":..,"confidence":..,"provider":[..],
 *  "marking":{"tlp":[..]},"first_seen":..,"last_seen":..,"description":..},
 *  "matched":{"atomic":..,"field":..,"type":"indicator_match_rule"}}
 * Absent values are left out.  scratch is overwritten.
 */
void threatq_match_enrichment_render(GString *out, const ThreatqMatchEntry *entry, const ThreatqMatchOrigin *origin,
                                     GString *scratch);

#endif
