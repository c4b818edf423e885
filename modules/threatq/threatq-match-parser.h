/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match(): a parser that matches field values of each message
 * against the indicator set of a threatq() source of the same configuration
 * and, on a hit, enriches the message (threatq-match-output.h).  It never
 * drops a message.
 *
 * Options are set by the grammar (main thread); init resolves source() and
 * fails when it is not a threatq() source.  process() runs in any number of
 * worker threads at once: its buffers are per thread, its lookups take no
 * lock (threatq-match-set.h).
 */
#ifndef THREATQ_MATCH_PARSER_H_INCLUDED
#define THREATQ_MATCH_PARSER_H_INCLUDED

#include "parser/parser-expr.h"

/* at most this many fields() per parser */
#define THREATQ_MATCH_PARSER_MAX_FIELDS 32
/* at most this many hits kept per field (the live indicators of the one key a value settles on) */
#define THREATQ_MATCH_PARSER_MAX_HITS_PER_FIELD 8

#define THREATQ_MATCH_PARSER_DEFAULT_TAG "threatq_match"
#define THREATQ_MATCH_PARSER_DEFAULT_HITS_FIELD "threatq.match.hits"

LogParser *threatq_match_parser_new(GlobalConfig *cfg);

void threatq_match_parser_set_source(LogParser *s, const gchar *source_name);
/* FALSE with error when the template does not compile or there are MAX_FIELDS already */
gboolean threatq_match_parser_add_field(LogParser *s, const gchar *template_text, GError **error);
void threatq_match_parser_set_parent_domains(LogParser *s, gboolean parent_domains);
void threatq_match_parser_set_tag(LogParser *s, const gchar *tag);
void threatq_match_parser_set_hits_field(LogParser *s, const gchar *hits_field);

/* the name of the first required option that was not given (source, fields), or NULL */
const gchar *threatq_match_parser_missing_required_option(LogParser *s);

#endif
