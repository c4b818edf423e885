/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match(): what a hit writes into a message.  The best hit becomes
 * the ECS threat.enrichments.matched.* and threat.enrichments.indicator.*
 * name-value pairs (typed as the source types its own: the provider and TLP
 * lists as lists, the id as an integer); every hit, best first, becomes one
 * JSON array in the hits-field() pair (the objects of
 * threatq-match-enrichment.h); and the message gets the tag.
 *
 * The handles are resolved once, at the parser's init; writing is called
 * from any worker thread, inside the read section the entries were found in.
 */
#ifndef THREATQ_MATCH_OUTPUT_H_INCLUDED
#define THREATQ_MATCH_OUTPUT_H_INCLUDED

#include "threatq-match-enrichment.h"
#include "logmsg/logmsg.h"

typedef enum
{
  THREATQ_MATCH_OUT_ATOMIC,
  THREATQ_MATCH_OUT_FIELD,
  THREATQ_MATCH_OUT_MATCHED_TYPE,
  THREATQ_MATCH_OUT_TYPE,
  THREATQ_MATCH_OUT_ID,
  THREATQ_MATCH_OUT_CONFIDENCE,
  THREATQ_MATCH_OUT_PROVIDER,
  THREATQ_MATCH_OUT_TLP,
  THREATQ_MATCH_OUT_FIRST_SEEN,
  THREATQ_MATCH_OUT_LAST_SEEN,
  THREATQ_MATCH_OUT_DESCRIPTION,
  THREATQ_MATCH_OUT_COUNT
} ThreatqMatchOutputField;

typedef struct _ThreatqMatchOutput
{
  NVHandle handles[THREATQ_MATCH_OUT_COUNT];
  NVHandle value_handles[THREATQ_MATCH_KIND_COUNT];   /* the ECS value field of a kind, 0 for none */
  NVHandle hits_handle;                               /* 0: hits-field("") writes no array */
  LogTagId tag;                                       /* 0 with has_tag FALSE: tag("") sets none */
  gboolean has_tag;
} ThreatqMatchOutput;

/* tag and hits_field as configured; an empty one turns that output off */
void threatq_match_output_init(ThreatqMatchOutput *self, const gchar *tag, const gchar *hits_field);

/*
 * entries[0] (with origins[0]) is the best hit; all count of them go into the
 * array.  scratch and json are the caller's (per-thread) buffers.
 */
void threatq_match_output_write(const ThreatqMatchOutput *self, LogMessage *msg,
                                const ThreatqMatchEntry *const *entries, const ThreatqMatchOrigin *origins,
                                gsize count, GString *scratch, GString *json);

#endif
