/*
 * A mapped ECS document: the flat list of dotted, typed fields that become
 * syslog-ng name-value pairs, and the same fields rendered as one nested,
 * compact JSON object that becomes MESSAGE.
 *
 * Pure data: no syslog-ng types, so the mapper can be unit-tested alone.
 */
#ifndef THREATQ_DOCUMENT_H_INCLUDED
#define THREATQ_DOCUMENT_H_INCLUDED

#include <glib.h>

typedef enum
{
  THREATQ_FIELD_STRING,
  THREATQ_FIELD_INTEGER,
  THREATQ_FIELD_LIST,
} ThreatqFieldType;

typedef struct _ThreatqField
{
  gchar *name;            /* dotted ECS name, e.g. "threat.indicator.ip" */
  ThreatqFieldType type;
  gchar *text;            /* STRING: the value; INTEGER: its decimal form; LIST: NULL */
  gint64 integer;         /* INTEGER only */
  GPtrArray *items;       /* LIST only: gchar * elements, in order */
} ThreatqField;

typedef struct _ThreatqDocument
{
  GPtrArray *fields;      /* ThreatqField *, sorted by name, one dotted path component at a time */
  GString *json;          /* the same fields as one nested compact JSON object */
  gint64 timestamp;       /* @timestamp as unix seconds (updated_at, or the page's receive time) */
} ThreatqDocument;

void threatq_document_free(ThreatqDocument *self);
const ThreatqField *threatq_document_find(const ThreatqDocument *self, const gchar *name);

#endif
