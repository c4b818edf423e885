/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A mapped ECS document: the flat list of dotted, typed fields that become
 * syslog-ng name-value pairs, and the same fields rendered as one nested,
 * compact JSON object that becomes MESSAGE.
 *
 * Pure data: no syslog-ng types, so the mapper can be unit-tested alone.
 */
#ifndef THREATQ_DOCUMENT_H_INCLUDED
#define THREATQ_DOCUMENT_H_INCLUDED

#include "threatq-arena.h"
#include "threatq-ecs-fields.h"

typedef enum
{
  THREATQ_FIELD_STRING,
  THREATQ_FIELD_INTEGER,
  THREATQ_FIELD_LIST,
  THREATQ_FIELD_NUMBER,         /* a number that is not an integer, e.g. a score of 7.5 */
} ThreatqFieldType;

typedef struct _ThreatqField
{
  const gchar *name;            /* dotted ECS name, e.g. "threat.indicator.ip" */
  const gchar *text;            /* STRING: the value; INTEGER, NUMBER: its JSON form; LIST: NULL */
  const gchar *const *items;    /* LIST only: item_count NUL-terminated strings, in order */
  gint64 integer;               /* INTEGER only */
  guint32 text_length;
  guint32 item_count;
  guint32 name_length;
  guint8 id;                    /* ThreatqEcsField: THREATQ_ECS_NAMED for threatq.attributes.* */
  guint8 type;                  /* ThreatqFieldType */
} ThreatqField;

typedef struct _ThreatqDocument
{
  const ThreatqField *fields;   /* sorted by name, one dotted path component at a time */
  guint field_count;
  gint64 timestamp;             /* @timestamp as unix seconds (updated_at, or the page's receive time) */
  const gchar *json;            /* NULL until threatq_document_json() */
  gsize json_length;
  ThreatqArena *arena;          /* private: where all of the above lives */
} ThreatqDocument;

void threatq_document_free(ThreatqDocument *self);

/*
 * The fields as one nested, compact JSON object (MESSAGE), appended to out:
 * keys sorted, strings escaped as JSON requires (quote, backslash, control
 * characters; everything else, including non-ASCII, as is).  Rendering is
 * left to whoever turns the document into a message, so that the page parser's
 * thread does not do it too.
 */
void threatq_document_render(const ThreatqDocument *self, GString *out);
/*
 * The same, rendered once and kept in self->json (tests and tools).  It
 * allocates from the document's arena, which is not thread-safe: call it in
 * the thread that parses the page, or once the page is parsed.
 */
const gchar *threatq_document_json(ThreatqDocument *self);

/* Appends text as a JSON string (quotes included), escaped as threatq_document_render() escapes. */
void threatq_document_append_json_string(GString *out, const gchar *text, gsize length);

/* Orders names one dotted component at a time ("a.b" < "a-c", since "a" < "a-c"). */
gint threatq_field_name_compare(const gchar *a, const gchar *b);

/*
 * Building documents (used by the mapper), one at a time: begin, add fields
 * in any order, finish.  The builder's scratch space is reused from one
 * document to the next; the finished document lives in the arena given to
 * begin (and holds a reference to it).  Names must be distinct, and no name
 * may be a dotted prefix of another (a value and an object cannot share a
 * key).  Every string must be valid UTF-8; it is not checked again here.
 *
 * The plain functions copy their text into the arena; the _ref ones keep the
 * pointer, so the text must outlive the document (a literal, or memory of
 * the same arena), and an item given by reference must be NUL-terminated.
 */
typedef struct _ThreatqDocumentBuilder ThreatqDocumentBuilder;
typedef guint ThreatqList;

ThreatqDocumentBuilder *threatq_document_builder_new(void);
void threatq_document_builder_free(ThreatqDocumentBuilder *self);

void threatq_document_begin(ThreatqDocumentBuilder *self, ThreatqArena *arena);
void threatq_document_add_string(ThreatqDocumentBuilder *self, ThreatqEcsField field, const gchar *value,
                                 gssize length);
void threatq_document_add_string_ref(ThreatqDocumentBuilder *self, ThreatqEcsField field, const gchar *value,
                                     gssize length);
void threatq_document_add_integer(ThreatqDocumentBuilder *self, ThreatqEcsField field, gint64 value);
/* value: a JSON number as the caller checked it ("7.5"), written to MESSAGE as it is (copied) */
void threatq_document_add_number(ThreatqDocumentBuilder *self, ThreatqEcsField field, const gchar *value,
                                 gssize length);
ThreatqList threatq_document_add_list(ThreatqDocumentBuilder *self, ThreatqEcsField field);
/*
 * For a list that exists only once it has an item: start *list at
 * THREATQ_NO_LIST; the first call adds the list, every call returns it.
 */
#define THREATQ_NO_LIST G_MAXUINT
ThreatqList threatq_document_list_on_demand(ThreatqDocumentBuilder *self, ThreatqList *list, ThreatqEcsField field);
/* a list under a name known only at run time (copied) */
ThreatqList threatq_document_add_named_list(ThreatqDocumentBuilder *self, const gchar *name, gsize length);
/* the list added earlier in this document under name, or FALSE */
gboolean threatq_document_lookup_list(ThreatqDocumentBuilder *self, const gchar *name, ThreatqList *list);
void threatq_document_append_item(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item, gssize length);
void threatq_document_append_item_ref(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item);
/* append unless an equal item is already there */
void threatq_document_append_distinct_item(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item,
                                           gssize length);
/* the arena of the document being built, for text shared by several of its fields */
ThreatqArena *threatq_document_arena(ThreatqDocumentBuilder *self);

/* Sorts the fields and hands out the document. */
ThreatqDocument *threatq_document_finish(ThreatqDocumentBuilder *self, gint64 timestamp);

#endif
