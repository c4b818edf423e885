/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One indicator as the page parser collects it (only the members that are
 * mapped, as text), and its mapping onto an ECS document (docs/fields.md).
 * Private to the mapper.
 */
#ifndef THREATQ_MAPPER_INDICATOR_H_INCLUDED
#define THREATQ_MAPPER_INDICATOR_H_INCLUDED

#include "threatq-mapper.h"
#include "threatq-mapper-dates.h"

typedef enum
{
  THREATQ_VALUE_ABSENT = 0,     /* missing or null */
  THREATQ_VALUE_STRING,
  THREATQ_VALUE_NUMBER,         /* text is the number as written */
  THREATQ_VALUE_BOOLEAN,        /* text is "true" / "false" */
  THREATQ_VALUE_CONTAINER,      /* an object or array where a scalar was expected */
} ThreatqValueKind;

typedef struct _ThreatqValue
{
  gsize offset;                 /* into ThreatqIndicator.strings */
  gsize length;
  ThreatqValueKind kind;
} ThreatqValue;

enum
{
  THREATQ_DATE_CREATED_AT,
  THREATQ_DATE_UPDATED_AT,
  THREATQ_DATE_PUBLISHED_AT,
  THREATQ_DATE_TOUCHED_AT,
  THREATQ_DATE_EXPIRES_AT,
  THREATQ_DATE_EXPIRED_AT,
  THREATQ_DATE_EXPIRES_CALCULATED_AT,
  THREATQ_DATE_COUNT
};

/* "created_at", ... as they appear in the indicator */
extern const gchar *const threatq_date_keys[THREATQ_DATE_COUNT];
extern const gsize threatq_date_key_lengths[THREATQ_DATE_COUNT];

typedef struct _ThreatqSource
{
  ThreatqValue name;
  ThreatqValue tlp_name;
} ThreatqSource;

typedef struct _ThreatqAttribute
{
  ThreatqValue name;
  ThreatqValue value;
} ThreatqAttribute;

/* the lists of an indicator that are bounded by max_members */
enum
{
  THREATQ_LIST_SOURCES,
  THREATQ_LIST_ATTRIBUTES,
  THREATQ_LIST_ADVERSARIES,
  THREATQ_LIST_COUNT
};

typedef struct _ThreatqIndicator
{
  ThreatqValue id, value, type_name, klass, hash, score, status_name, description;
  ThreatqValue manual_score, generated_score;   /* the members of a score given as an object */
  ThreatqValue dates[THREATQ_DATE_COUNT];
  GArray *sources;              /* ThreatqSource */
  GArray *attributes;           /* ThreatqAttribute */
  GArray *adversaries;          /* ThreatqValue */
  GString *strings;             /* every value's text, NUL-terminated */
  const gchar *raw;             /* the indicator's JSON text as received */
  gsize raw_length;
  /* what the bounds left out, for error.message */
  guint cut_values;             /* string values longer than max_value_length */
  gsize longest_cut;            /* the longest of them, in bytes as received */
  guint dropped[THREATQ_LIST_COUNT];    /* members past max_members */
} ThreatqIndicator;

void threatq_indicator_init(ThreatqIndicator *self);
void threatq_indicator_reset(ThreatqIndicator *self);
void threatq_indicator_clear(ThreatqIndicator *self);
void threatq_utf8_append_valid(GString *out, const gchar *text, gsize length);
/* keeps at most max_length bytes (cut at a character boundary, counted in cut_values) */
void threatq_indicator_store(ThreatqIndicator *self, ThreatqValue *value, ThreatqValueKind kind,
                             const gchar *text, gsize length, gsize max_length);
/* the longest prefix of text[0..length) no longer than max_length that ends at a UTF-8 character boundary */
gsize threatq_utf8_prefix(const gchar *text, gsize length, gsize max_length);

/* What every indicator of a page is mapped with. */
typedef struct _ThreatqMapper
{
  const ThreatqMapperOptions *options;
  ThreatqArena *arena;          /* the documents' memory: one per page */
  const gchar *feed_name;       /* valid UTF-8 copies of the options, in the arena */
  const gchar **tags;
  gint64 received_msec;
  const gchar *received_iso;    /* in the arena */
  GString *scratch;
  ThreatqDocumentBuilder *builder;     /* reused by every document */
  gsize max_value_length;       /* the options' bounds, defaults filled in */
  guint max_members;
  const ThreatqIndicator *indicator;   /* the one being mapped */
} ThreatqMapper;

/* arena: where the documents go (a reference is taken) */
void threatq_mapper_init(ThreatqMapper *self, const ThreatqMapperOptions *options, gint64 received_at,
                         ThreatqArena *arena);
void threatq_mapper_clear(ThreatqMapper *self);
ThreatqDocument *threatq_mapper_map(ThreatqMapper *self, const ThreatqIndicator *indicator);

#endif
