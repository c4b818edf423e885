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

/*
 * Building a document (used by the mapper).  Fields, names, texts and list
 * items live in the document's own memory, released by threatq_document_free();
 * documents must come from threatq_document_new().  Add fields in any order,
 * then threatq_document_finish() sorts them and renders json.  Names must be
 * distinct, and no name may be a dotted prefix of another (a value and an
 * object cannot share a key).
 */
ThreatqDocument *threatq_document_new(void);
void threatq_document_add_string(ThreatqDocument *self, const gchar *name, const gchar *value, gssize length);
void threatq_document_add_integer(ThreatqDocument *self, const gchar *name, gint64 value);
ThreatqField *threatq_document_add_list(ThreatqDocument *self, const gchar *name);
void threatq_document_append_item(ThreatqDocument *self, ThreatqField *list, const gchar *item, gssize length);
/* append unless an equal item is already there */
void threatq_document_append_distinct_item(ThreatqDocument *self, ThreatqField *list, const gchar *item,
                                           gssize length);

/* Orders names one dotted component at a time ("a.b" < "a-c", since "a" < "a-c"). */
gint threatq_field_name_compare(const gchar *a, const gchar *b);

/*
 * Sorts the fields and renders json: compact, nested objects, keys sorted,
 * strings escaped as JSON requires (quote, backslash, control characters;
 * everything else, including non-ASCII, as is).  scratch: a buffer to reuse
 * between documents, or NULL.  Every string must be valid UTF-8; it is not
 * checked again here.
 */
void threatq_document_finish(ThreatqDocument *self, GString *scratch);

#endif
