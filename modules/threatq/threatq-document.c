/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-document.h"
#include "threatq-json-events.h"
#include "threatq-string.h"

#include <stdlib.h>
#include <string.h>

/* the list itself, when a document has more run-time named lists than this */
#define MAX_SCANNED_NAMED_LISTS 16
/* append_distinct_item looks items up in a table once a document has more than this */
#define MAX_SCANNED_ITEMS 16

#define THREATQ_ECS_NAME_ENTRY(id, name) [THREATQ_ECS_##id] = name,

static const gchar *const ecs_field_names[THREATQ_ECS_FIELD_COUNT] =
{
  THREATQ_ECS_FIELD_LIST(THREATQ_ECS_NAME_ENTRY)
};

/* where each fixed name sorts among the others: comparing two of them is then one subtraction */
static guint8 ecs_field_ranks[THREATQ_ECS_FIELD_COUNT];
static guint32 ecs_field_name_lengths[THREATQ_ECS_FIELD_COUNT];

G_STATIC_ASSERT(THREATQ_ECS_FIELD_COUNT <= G_MAXUINT8);

const gchar *
threatq_ecs_field_name(ThreatqEcsField field)
{
  return field > THREATQ_ECS_NAMED && field < THREATQ_ECS_FIELD_COUNT ? ecs_field_names[field] : NULL;
}

static void _init_fixed_keys(void);

static void
_init_ecs_fields(void)
{
  static gsize initialised;

  if (!g_once_init_enter(&initialised))
    return;

  guint8 order[THREATQ_ECS_FIELD_COUNT];
  guint count = 0;
  for (guint field = THREATQ_ECS_NAMED + 1; field < THREATQ_ECS_FIELD_COUNT; field++)
    {
      guint j = count++;
      while (j > 0 && threatq_field_name_compare(ecs_field_names[order[j - 1]], ecs_field_names[field]) > 0)
        {
          order[j] = order[j - 1];
          j--;
        }
      order[j] = (guint8) field;
      ecs_field_name_lengths[field] = (guint32) strlen(ecs_field_names[field]);
    }
  for (guint i = 0; i < count; i++)
    ecs_field_ranks[order[i]] = (guint8) (i + 1);
  _init_fixed_keys();
  g_once_init_leave(&initialised, 1);
}

gint
threatq_field_name_compare(const gchar *a, const gchar *b)
{
  while (*a && *a == *b)
    {
      a++;
      b++;
    }
  /* the component separator sorts before every other byte, only the end of the name before it */
  guchar ca = *a == '.' ? 1 : (guchar) *a;
  guchar cb = *b == '.' ? 1 : (guchar) *b;
  return (gint) ca - (gint) cb;
}

/* how many bytes name and previous (both NUL-terminated) start with: up to the first difference or NUL */
static inline gsize
_shared_prefix(const gchar *name, gsize name_length, const gchar *previous, gsize previous_length)
{
  const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT(0x8080808080808080);
  gsize limit = MIN(name_length, previous_length), k = 0;

  for (; k + 8 <= limit; k += 8)
    {
      guint64 a, b;
      memcpy(&a, name + k, 8);
      memcpy(&b, previous + k, 8);
      if (a != b || ((a - ones) & ~a & highs))
        break;
    }
  while (name[k] && name[k] == previous[k])
    k++;
  return k;
}

static gint
_compare_fields(const ThreatqField *a, const ThreatqField *b)
{
  if (a->id != THREATQ_ECS_NAMED && b->id != THREATQ_ECS_NAMED)
    return (gint) ecs_field_ranks[a->id] - (gint) ecs_field_ranks[b->id];
  /* attribute names share "threatq.attributes.": skip what both start with a word at a time */
  gsize shared = _shared_prefix(a->name, a->name_length, b->name, b->name_length);
  return threatq_field_name_compare(a->name + shared, b->name + shared);
}

/* ---- the finished document ------------------------------------------- */

void
threatq_document_free(ThreatqDocument *self)
{
  if (self)
    threatq_arena_unref(self->arena);
}


/* ---- building --------------------------------------------------------- */

typedef struct
{
  ThreatqList list;
  const gchar *text;
} Item;

struct _ThreatqDocumentBuilder
{
  ThreatqArena *arena;
  ThreatqField *fields;         /* in the order added */
  guint field_count;
  guint field_capacity;
  Item *items;                  /* in the order appended: appending is the per-item work, no call */
  guint item_count;
  guint item_capacity;
  GHashTable *named_lists;      /* name -> ThreatqList + 1, once a document has many */
  guint named_count;
  ThreatqList named[MAX_SCANNED_NAMED_LISTS];   /* the named lists, while there are no more than these */
  GHashTable *distinct;         /* DistinctKey set of items[0 .. distinct_upto), once a document has many */
  guint distinct_upto;
};

typedef struct
{
  ThreatqList list;
  guint32 length;
  const gchar *text;
} DistinctKey;

static guint
_distinct_hash(gconstpointer key)
{
  const DistinctKey *k = key;
  guint32 hash = 2166136261u ^ k->list;

  for (guint32 i = 0; i < k->length; i++)
    hash = (hash ^ (guchar) k->text[i]) * 16777619u;
  return hash;
}

static gboolean
_distinct_equal(gconstpointer a, gconstpointer b)
{
  const DistinctKey *x = a, *y = b;
  return x->list == y->list && x->length == y->length && memcmp(x->text, y->text, x->length) == 0;
}

ThreatqDocumentBuilder *
threatq_document_builder_new(void)
{
  ThreatqDocumentBuilder *self = g_new0(ThreatqDocumentBuilder, 1);

  _init_ecs_fields();
  self->field_capacity = 64;
  self->fields = g_new(ThreatqField, self->field_capacity);
  self->item_capacity = 32;
  self->items = g_new(Item, self->item_capacity);
  self->named_lists = g_hash_table_new(g_str_hash, g_str_equal);
  self->distinct = g_hash_table_new(_distinct_hash, _distinct_equal);
  return self;
}

void
threatq_document_builder_free(ThreatqDocumentBuilder *self)
{
  if (!self)
    return;
  g_free(self->fields);
  g_free(self->items);
  g_hash_table_destroy(self->named_lists);
  g_hash_table_destroy(self->distinct);
  g_free(self);
}

void
threatq_document_begin(ThreatqDocumentBuilder *self, ThreatqArena *arena)
{
  self->arena = arena;
  self->field_count = 0;
  self->item_count = 0;
  if (self->named_count > MAX_SCANNED_NAMED_LISTS)
    g_hash_table_remove_all(self->named_lists);
  self->named_count = 0;
  if (self->distinct_upto)
    g_hash_table_remove_all(self->distinct);
  self->distinct_upto = 0;
}

ThreatqArena *
threatq_document_arena(ThreatqDocumentBuilder *self)
{
  return self->arena;
}

static inline gsize
_length(const gchar *text, gssize length)
{
  return length < 0 ? strlen(text) : (gsize) length;
}

static ThreatqField *
_add_field(ThreatqDocumentBuilder *self, ThreatqEcsField id, ThreatqFieldType type)
{
  if (G_UNLIKELY(self->field_count == self->field_capacity))
    {
      self->field_capacity *= 2;
      self->fields = g_renew(ThreatqField, self->fields, self->field_capacity);
    }
  ThreatqField *field = &self->fields[self->field_count++];

  memset(field, 0, sizeof(*field));
  field->id = (guint8) id;
  field->type = (guint8) type;
  if (id != THREATQ_ECS_NAMED)
    {
      field->name = ecs_field_names[id];
      field->name_length = ecs_field_name_lengths[id];
    }
  return field;
}

void
threatq_document_add_string_ref(ThreatqDocumentBuilder *self, ThreatqEcsField id, const gchar *value,
                                gssize length)
{
  ThreatqField *field = _add_field(self, id, THREATQ_FIELD_STRING);
  field->text = value;
  field->text_length = (guint32) _length(value, length);
}

void
threatq_document_add_string(ThreatqDocumentBuilder *self, ThreatqEcsField id, const gchar *value, gssize length)
{
  gsize value_length = _length(value, length);
  threatq_document_add_string_ref(self, id, threatq_arena_strndup(self->arena, value, value_length),
                                  (gssize) value_length);
}

void
threatq_document_add_integer(ThreatqDocumentBuilder *self, ThreatqEcsField id, gint64 value)
{
  gchar digits[24];
  gchar *p = digits + sizeof(digits);
  guint64 magnitude = value < 0 ? -(guint64) value : (guint64) value;

  do
    {
      *--p = (gchar) ('0' + magnitude % 10);
      magnitude /= 10;
    }
  while (magnitude);
  if (value < 0)
    *--p = '-';

  gsize length = (gsize) (digits + sizeof(digits) - p);
  ThreatqField *field = _add_field(self, id, THREATQ_FIELD_INTEGER);
  field->integer = value;
  field->text = threatq_arena_strndup(self->arena, p, length);
  field->text_length = (guint32) length;
}

void
threatq_document_add_number(ThreatqDocumentBuilder *self, ThreatqEcsField id, const gchar *value, gssize length)
{
  gsize value_length = _length(value, length);
  ThreatqField *field = _add_field(self, id, THREATQ_FIELD_NUMBER);
  field->text = threatq_arena_strndup(self->arena, value, value_length);
  field->text_length = (guint32) value_length;
}

ThreatqList
threatq_document_add_list(ThreatqDocumentBuilder *self, ThreatqEcsField id)
{
  _add_field(self, id, THREATQ_FIELD_LIST);
  return self->field_count - 1;
}

ThreatqList
threatq_document_list_on_demand(ThreatqDocumentBuilder *self, ThreatqList *list, ThreatqEcsField id)
{
  if (*list == THREATQ_NO_LIST)
    *list = threatq_document_add_list(self, id);
  return *list;
}

ThreatqList
threatq_document_add_named_list(ThreatqDocumentBuilder *self, const gchar *name, gsize length)
{
  ThreatqField *field = _add_field(self, THREATQ_ECS_NAMED, THREATQ_FIELD_LIST);
  ThreatqList list = self->field_count - 1;

  field->name = threatq_arena_strndup(self->arena, name, length);
  field->name_length = (guint32) length;
  self->named_count++;
  if (self->named_count <= MAX_SCANNED_NAMED_LISTS)
    self->named[self->named_count - 1] = list;
  else if (self->named_count == MAX_SCANNED_NAMED_LISTS + 1)
    {
      /* from here on, look names up in the table: put the earlier ones in */
      for (guint i = 0; i < self->field_count; i++)
        {
          ThreatqField *earlier = &self->fields[i];
          if (earlier->id == THREATQ_ECS_NAMED)
            g_hash_table_insert(self->named_lists, (gpointer) earlier->name, GUINT_TO_POINTER(i + 1));
        }
    }
  else if (self->named_count > MAX_SCANNED_NAMED_LISTS)
    g_hash_table_insert(self->named_lists, (gpointer) field->name, GUINT_TO_POINTER(list + 1));
  return list;
}

gboolean
threatq_document_lookup_list(ThreatqDocumentBuilder *self, const gchar *name, ThreatqList *list)
{
  if (self->named_count > MAX_SCANNED_NAMED_LISTS)
    {
      guint found = GPOINTER_TO_UINT(g_hash_table_lookup(self->named_lists, name));
      *list = found - 1;
      return found != 0;
    }
  /* only named lists carry a run-time name: the fixed fields need not be looked at */
  for (guint i = 0; i < self->named_count; i++)
    if (strcmp(self->fields[self->named[i]].name, name) == 0)
      {
        *list = self->named[i];
        return TRUE;
      }
  return FALSE;
}

void
threatq_document_append_item_ref(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item)
{
  if (G_UNLIKELY(self->item_count == self->item_capacity))
    {
      self->item_capacity *= 2;
      self->items = g_renew(Item, self->items, self->item_capacity);
    }
  self->items[self->item_count++] = (Item) { list, item };
  self->fields[list].item_count++;
}

void
threatq_document_append_item(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item, gssize length)
{
  threatq_document_append_item_ref(self, list, threatq_arena_strndup(self->arena, item, _length(item, length)));
}

/* the items appended since the last lookup join the table (their keys live in the arena) */
static void
_index_items(ThreatqDocumentBuilder *self)
{
  for (; self->distinct_upto < self->item_count; self->distinct_upto++)
    {
      const Item *item = &self->items[self->distinct_upto];
      DistinctKey *key = threatq_arena_alloc(self->arena, sizeof(DistinctKey));
      key->list = item->list;
      key->length = (guint32) strlen(item->text);
      key->text = item->text;
      g_hash_table_add(self->distinct, key);
    }
}

static gboolean
_has_item(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item, gsize length)
{
  if (self->item_count > MAX_SCANNED_ITEMS)
    {
      DistinctKey key = { list, (guint32) length, item };
      _index_items(self);
      return g_hash_table_contains(self->distinct, &key);
    }
  for (guint i = 0; i < self->item_count; i++)
    {
      const Item *existing = &self->items[i];
      if (existing->list == list && strncmp(existing->text, item, length) == 0 && existing->text[length] == '\0')
        return TRUE;
    }
  return FALSE;
}

/* linear while the document has few items, a table lookup after: never quadratic */
void
threatq_document_append_distinct_item(ThreatqDocumentBuilder *self, ThreatqList list, const gchar *item,
                                      gssize length)
{
  gsize item_length = _length(item, length);

  if (!_has_item(self, list, item, item_length))
    threatq_document_append_item(self, list, item, (gssize) item_length);
}

static int
_compare_fields_qsort(const void *a, const void *b)
{
  return _compare_fields(a, b);
}

/*
 * The mapper adds fields nearly in order: an insertion sort is then a single
 * pass, in place (the fields are copied out whole once, sorted).  A server
 * decides the order of attribute names, though, and names that each sort to
 * the front would make it quadratic: past a budget of moves, the rest is
 * left to qsort (n log n).
 */
static void
_sort_fields(ThreatqDocumentBuilder *self)
{
  ThreatqField *fields = self->fields;
  gsize budget = 8 * (gsize) self->field_count + 64;

  for (guint i = 1; i < self->field_count; i++)
    {
      if (G_LIKELY(_compare_fields(&fields[i - 1], &fields[i]) <= 0))
        continue;
      ThreatqField field = fields[i];
      guint j = i;
      while (j > 0 && _compare_fields(&fields[j - 1], &field) > 0)
        {
          fields[j] = fields[j - 1];
          j--;
        }
      fields[j] = field;
      budget -= MIN(budget, (gsize) (i - j));
      if (budget == 0)
        {
          qsort(fields, self->field_count, sizeof(ThreatqField), _compare_fields_qsort);
          return;
        }
    }
}

/* every list's items, in the order appended, as arrays in the arena */
static void
_place_items(ThreatqDocumentBuilder *self)
{
  ThreatqField *fields = self->fields;

  /* each list's item_count counts its items again as they are placed: no separate fill counters */
  for (guint i = 0; i < self->field_count; i++)
    {
      ThreatqField *field = &fields[i];
      if (field->type == THREATQ_FIELD_LIST)
        {
          field->items = threatq_arena_alloc(self->arena, MAX(field->item_count, 1) * sizeof(gchar *));
          field->item_count = 0;
        }
    }
  for (guint i = 0; i < self->item_count; i++)
    {
      const Item *item = &self->items[i];
      ThreatqField *field = &fields[item->list];
      ((const gchar **) field->items)[field->item_count++] = item->text;
    }
}

/* ---- rendering ------------------------------------------------------- */

/* 1: escape as \u00XX; other non-zero values: the letter of a two-character escape */
static const guint8 escapes[256] =
{
  1, 1, 1, 1, 1, 1, 1, 1, 'b', 't', 'n', 1, 'f', 'r', 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  [0x5c] = '\\',
};


/*
 * Room for the worst case (every byte a \u00XX escape) is reserved a chunk
 * of input at a time: a long value grows the buffer by what it needs, not by
 * six times its length up front.  Plain words are copied 8 bytes at a time.
 */
#define JSON_CHUNK 4096

/* text[p..stop) escaped at o; returns the end of what was written */
static inline gchar *
_escape_bytes(gchar *o, const guchar *p, const guchar *stop)
{
  static const gchar hex[] = "0123456789abcdef";

  for (; p < stop; p++)
    {
      guint8 escape = escapes[*p];
      if (G_LIKELY(!escape))
        {
          *o++ = (gchar) *p;
          continue;
        }
      *o++ = '\\';
      if (escape == 1)
        {
          *o++ = 'u';
          *o++ = '0';
          *o++ = '0';
          *o++ = hex[*p >> 4];
          *o++ = hex[*p & 0xf];
        }
      else
        *o++ = (gchar) escape;
    }
  return o;
}

static void
_append_json_string(GString *out, const gchar *text, gsize length)
{
  const guchar *p = (const guchar *) text, *end = p + length;
  const guchar *chunk_end = p + MIN(length, JSON_CHUNK);
  gchar *o = threatq_string_reserve(out, (gsize) (chunk_end - p) * 6 + 2 + 8);
  gchar *start = o;

  *o++ = '"';
  for (;;)
    {
      while (p < chunk_end)
        {
          const guchar *stop = chunk_end;
          if (chunk_end - p >= 8)
            {
              guint64 word;
              memcpy(&word, p, 8);
              if (!threatq_json_word_needs_escape(word))
                {
                  memcpy(o, &word, 8);
                  o += 8;
                  p += 8;
                  continue;
                }
              stop = p + 8;
            }
          o = _escape_bytes(o, p, stop);
          p = stop;
        }
      if (p == end)
        break;
      out->len += (gsize) (o - start);
      chunk_end = p + MIN((gsize) (end - p), JSON_CHUNK);
      o = start = threatq_string_reserve(out, (gsize) (chunk_end - p) * 6 + 2 + 8);
    }
  *o++ = '"';
  out->len += (gsize) (o - start);
}

void
threatq_document_append_json_string(GString *out, const gchar *text, gsize length)
{
  _append_json_string(out, text, length);
}

static void
_append_key(GString *out, const gchar *text, gsize length)
{
  _append_json_string(out, text, length);
  threatq_string_append_c(out, ':');
}

static void
_append_value(GString *out, const ThreatqField *field)
{
  switch (field->type)
    {
    case THREATQ_FIELD_STRING:
      _append_json_string(out, field->text, field->text_length);
      break;
    case THREATQ_FIELD_INTEGER:
    case THREATQ_FIELD_NUMBER:
      threatq_string_append(out, field->text, field->text_length);
      break;
    case THREATQ_FIELD_LIST:
      threatq_string_append_c(out, '[');
      for (guint j = 0; j < field->item_count; j++)
        {
          const gchar *item = field->items[j];
          if (j > 0)
            threatq_string_append_c(out, ',');
          _append_json_string(out, item, strlen(item));
        }
      threatq_string_append_c(out, ']');
      break;
    }
}

/* the previous name's dots the renderer remembers; a name with more has its shared prefix scanned for them */
#define MAX_RENDER_DOTS 32
/* the most dots a fixed ECS name has (threat.indicator.file.hash.sha256: 4) */
#define MAX_FIXED_DOTS 8

/*
 * A fixed name's keys as the renderer writes them, e.g. "threat":{"indicator":{"ip":
 * rendered once: escaping ~47 known key components per indicator was a tenth
 * of the process's instructions.  starts[k] is where component k's key begins.
 */
typedef struct
{
  gchar *json;
  guint32 json_length;
  guint32 depth;                          /* the name's dots */
  guint32 dots[MAX_FIXED_DOTS];           /* where they are in the name */
  guint32 starts[MAX_FIXED_DOTS + 1];
} FixedKeys;

static FixedKeys fixed_keys[THREATQ_ECS_FIELD_COUNT];
/* the components a fixed field shares with the fixed field rendered before it: [previous][field] */
static guint8 fixed_common[THREATQ_ECS_FIELD_COUNT][THREATQ_ECS_FIELD_COUNT];

/* the components (each with its '.') name shares with previous, whose dots are given */
static guint
_common_of_fixed(const gchar *name, const FixedKeys *previous_keys, const gchar *previous)
{
  gsize shared = _shared_prefix(name, strlen(name), previous, strlen(previous));
  guint common = 0;

  while (common < previous_keys->depth && previous_keys->dots[common] < shared)
    common++;
  return common;
}

static void _append_key(GString *out, const gchar *text, gsize length);

/* with the same _append_key() as a run-time name: the bytes cannot differ */
static void
_init_fixed_keys(void)
{
  GString *json = g_string_new(NULL);

  for (guint field = THREATQ_ECS_NAMED + 1; field < THREATQ_ECS_FIELD_COUNT; field++)
    {
      FixedKeys *keys = &fixed_keys[field];
      const gchar *name = ecs_field_names[field], *rest = name, *dot;

      g_string_truncate(json, 0);
      for (; (dot = strchr(rest, '.')); rest = dot + 1, keys->depth++)
        {
          g_assert(keys->depth < MAX_FIXED_DOTS);
          keys->dots[keys->depth] = (guint32) (dot - name);
          keys->starts[keys->depth] = (guint32) json->len;
          _append_key(json, rest, (gsize) (dot - rest));
          g_string_append_c(json, '{');
        }
      keys->starts[keys->depth] = (guint32) json->len;
      _append_key(json, rest, strlen(rest));
      keys->json_length = (guint32) json->len;
      keys->json = g_strndup(json->str, json->len);
    }
  g_string_free(json, TRUE);
  for (guint previous = THREATQ_ECS_NAMED + 1; previous < THREATQ_ECS_FIELD_COUNT; previous++)
    for (guint field = THREATQ_ECS_NAMED + 1; field < THREATQ_ECS_FIELD_COUNT; field++)
      fixed_common[previous][field] = (guint8) _common_of_fixed(ecs_field_names[field], &fixed_keys[previous],
                                                                ecs_field_names[previous]);
}

/* what the renderer remembers of the field before: its name and where that name's dots are */
typedef struct
{
  const gchar *name;
  gsize length;
  guint depth;
  guint8 id;                              /* THREATQ_ECS_NAMED unless a fixed field with its fixed name */
  guint32 dots[MAX_RENDER_DOTS];          /* if depth <= MAX_RENDER_DOTS */
} RenderPrevious;

static inline guint8
_fixed_id(const ThreatqField *field)
{
  /* a hand-made field could carry an id with some other name: only the fixed name has fixed keys */
  return field->id != THREATQ_ECS_NAMED && field->name == ecs_field_names[field->id] ? field->id : THREATQ_ECS_NAMED;
}

/* the components (each with its '.') both names start with; *rest: where name's others begin */
static guint
_common_components(const RenderPrevious *previous, const ThreatqField *field, guint8 id, const gchar **rest)
{
  const gchar *name = field->name;
  guint common = 0;

  if (id != THREATQ_ECS_NAMED && previous->id != THREATQ_ECS_NAMED)
    {
      common = fixed_common[previous->id][id];
      *rest = common ? name + fixed_keys[id].dots[common - 1] + 1 : name;
      return common;
    }
  gsize shared = _shared_prefix(name, field->name_length, previous->name, previous->length);
  *rest = name;
  if (previous->depth <= MAX_RENDER_DOTS)
    {
      while (common < previous->depth && previous->dots[common] < shared)
        common++;
      if (common)
        *rest = name + previous->dots[common - 1] + 1;
      return common;
    }
  for (gsize k = 0; k < shared; k++)
    if (name[k] == '.')
      {
        common++;
        *rest = name + k + 1;
      }
  return common;
}

/* the keys from component common on (opening the objects), remembering where the dots are */
static void
_append_path(GString *out, RenderPrevious *previous, const ThreatqField *field, guint8 id, guint common,
             const gchar *rest)
{
  const gchar *name = field->name, *end = name + field->name_length, *dot;
  guint depth = common;

  if (id != THREATQ_ECS_NAMED)
    {
      const FixedKeys *keys = &fixed_keys[id];
      threatq_string_append(out, keys->json + keys->starts[common], keys->json_length - keys->starts[common]);
      /* all MAX_FIXED_DOTS: a copy of known size is a few moves, not a call */
      memcpy(previous->dots, keys->dots, sizeof(keys->dots));
      depth = keys->depth;
    }
  else
    {
      for (; (dot = memchr(rest, '.', (gsize) (end - rest))); rest = dot + 1, depth++)
        {
          if (depth < MAX_RENDER_DOTS)
            previous->dots[depth] = (guint32) (dot - name);
          _append_key(out, rest, (gsize) (dot - rest));
          threatq_string_append_c(out, '{');
        }
      _append_key(out, rest, (gsize) (end - rest));
    }
  previous->name = name;
  previous->length = field->name_length;
  previous->depth = depth;
  previous->id = id;
}

/*
 * Fields are sorted one dotted component at a time, so the objects a field
 * shares with the one before it are exactly the components both names start
 * with: close the previous field's other objects, open this one's.  The
 * components shared are the previous name's dots within the shared prefix.
 */
void
threatq_document_render(const ThreatqDocument *self, GString *out)
{
  RenderPrevious previous = { .name = "", .length = 0, .depth = 0, .id = THREATQ_ECS_NAMED };

  _init_ecs_fields();
  threatq_string_append_c(out, '{');
  for (guint i = 0; i < self->field_count; i++)
    {
      const ThreatqField *field = &self->fields[i];
      guint8 id = _fixed_id(field);
      const gchar *rest;
      guint common = _common_components(&previous, field, id, &rest);

      for (guint level = previous.depth; level > common; level--)
        threatq_string_append_c(out, '}');
      if (i > 0)
        threatq_string_append_c(out, ',');
      _append_path(out, &previous, field, id, common, rest);
      _append_value(out, field);
    }
  for (guint level = previous.depth; level > 0; level--)
    threatq_string_append_c(out, '}');
  threatq_string_append_c(out, '}');
  out->str[out->len] = '\0';
}

const gchar *
threatq_document_json(ThreatqDocument *self)
{
  if (!self->json)
    {
      GString *json = g_string_sized_new(4096);
      threatq_document_render(self, json);
      self->json = threatq_arena_strndup(self->arena, json->str, json->len);
      self->json_length = json->len;
      g_string_free(json, TRUE);
    }
  return self->json;
}

ThreatqDocument *
threatq_document_finish(ThreatqDocumentBuilder *self, gint64 timestamp)
{
  ThreatqArena *arena = self->arena;
  ThreatqDocument *document = threatq_arena_alloc(arena, sizeof(ThreatqDocument));

  /* items find their list by its place in fields: before the sort moves it */
  _place_items(self);
  _sort_fields(self);

  ThreatqField *fields = threatq_arena_alloc(arena, MAX(self->field_count, 1) * sizeof(ThreatqField));
  memcpy(fields, self->fields, self->field_count * sizeof(ThreatqField));

  document->fields = fields;
  document->field_count = self->field_count;
  document->timestamp = timestamp;
  document->json = NULL;
  document->json_length = 0;
  document->arena = threatq_arena_ref(arena);
  self->arena = NULL;
  return document;
}
