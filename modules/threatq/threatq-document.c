#include "threatq-document.h"

#include <string.h>

#define CHUNK_SIZE 8192

/*
 * A document and everything it owns but its json and GPtrArrays comes from a
 * few big chunks: a mapped indicator has some 50 small strings, and one
 * allocation each would cost more than mapping them.
 */
typedef struct _Chunk
{
  struct _Chunk *next;
  gsize used;
  gsize size;
} Chunk;

typedef struct
{
  ThreatqDocument super;
  Chunk *chunks;          /* the head is the one being filled */
} Document;

G_STATIC_ASSERT(sizeof(Chunk) % 8 == 0);

static gpointer
_allocate(ThreatqDocument *s, gsize size)
{
  Document *self = (Document *) s;
  Chunk *chunk = self->chunks;

  size = (size + 7) & ~(gsize) 7;
  if (chunk && chunk->size - chunk->used >= size)
    {
      gpointer p = (gchar *) (chunk + 1) + chunk->used;
      chunk->used += size;
      return p;
    }

  gsize chunk_size = MAX(CHUNK_SIZE, size);
  Chunk *fresh = g_malloc(sizeof(Chunk) + chunk_size);
  fresh->size = chunk_size;
  fresh->used = size;
  if (chunk && size > CHUNK_SIZE / 4)
    {
      /* a big one gets a chunk of its own; keep filling the current one */
      fresh->next = chunk->next;
      chunk->next = fresh;
    }
  else
    {
      fresh->next = chunk;
      self->chunks = fresh;
    }
  return fresh + 1;
}

static gchar *
_copy(ThreatqDocument *self, const gchar *text, gsize length)
{
  gchar *copy = _allocate(self, length + 1);
  memcpy(copy, text, length);
  copy[length] = '\0';
  return copy;
}

static ThreatqField *
_field_new(ThreatqDocument *self, const gchar *name, ThreatqFieldType type)
{
  gsize name_length = strlen(name);
  ThreatqField *field = _allocate(self, sizeof(ThreatqField) + name_length + 1);
  gchar *name_copy = (gchar *) (field + 1);

  memcpy(name_copy, name, name_length + 1);
  field->name = name_copy;
  field->type = type;
  field->text = NULL;
  field->integer = 0;
  field->items = NULL;
  g_ptr_array_add(self->fields, field);
  return field;
}

ThreatqDocument *
threatq_document_new(void)
{
  Document *self = g_new0(Document, 1);
  self->super.fields = g_ptr_array_sized_new(64);
  return &self->super;
}

void
threatq_document_free(ThreatqDocument *s)
{
  Document *self = (Document *) s;

  if (!self)
    return;
  for (guint i = 0; i < s->fields->len; i++)
    {
      ThreatqField *field = g_ptr_array_index(s->fields, i);
      if (field->items)
        g_ptr_array_unref(field->items);
    }
  g_ptr_array_unref(s->fields);
  if (s->json)
    g_string_free(s->json, TRUE);
  for (Chunk *chunk = self->chunks, *next; chunk; chunk = next)
    {
      next = chunk->next;
      g_free(chunk);
    }
  g_free(self);
}

const ThreatqField *
threatq_document_find(const ThreatqDocument *self, const gchar *name)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      const ThreatqField *field = g_ptr_array_index(self->fields, i);
      if (strcmp(field->name, name) == 0)
        return field;
    }
  return NULL;
}

void
threatq_document_add_string(ThreatqDocument *self, const gchar *name, const gchar *value, gssize length)
{
  ThreatqField *field = _field_new(self, name, THREATQ_FIELD_STRING);
  field->text = _copy(self, value, length < 0 ? strlen(value) : (gsize) length);
}

void
threatq_document_add_integer(ThreatqDocument *self, const gchar *name, gint64 value)
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

  ThreatqField *field = _field_new(self, name, THREATQ_FIELD_INTEGER);
  field->integer = value;
  field->text = _copy(self, p, (gsize) (digits + sizeof(digits) - p));
}

ThreatqField *
threatq_document_add_list(ThreatqDocument *self, const gchar *name)
{
  ThreatqField *field = _field_new(self, name, THREATQ_FIELD_LIST);
  field->items = g_ptr_array_sized_new(4);
  return field;
}

void
threatq_document_append_item(ThreatqDocument *self, ThreatqField *list, const gchar *item, gssize length)
{
  g_ptr_array_add(list->items, _copy(self, item, length < 0 ? strlen(item) : (gsize) length));
}

void
threatq_document_append_distinct_item(ThreatqDocument *self, ThreatqField *list, const gchar *item, gssize length)
{
  gsize item_length = length < 0 ? strlen(item) : (gsize) length;

  for (guint i = 0; i < list->items->len; i++)
    {
      const gchar *existing = g_ptr_array_index(list->items, i);
      if (strncmp(existing, item, item_length) == 0 && existing[item_length] == '\0')
        return;
    }
  threatq_document_append_item(self, list, item, (gssize) item_length);
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

static gint
_compare_fields(gconstpointer a, gconstpointer b)
{
  const ThreatqField *fa = *(const ThreatqField *const *) a;
  const ThreatqField *fb = *(const ThreatqField *const *) b;
  return threatq_field_name_compare(fa->name, fb->name);
}

/* the mapper adds fields nearly in order: an insertion sort is then a single pass */
static void
_sort_fields(GPtrArray *fields)
{
  if (fields->len > 128)
    {
      g_ptr_array_sort(fields, _compare_fields);
      return;
    }

  gpointer *pdata = fields->pdata;
  for (guint i = 1; i < fields->len; i++)
    {
      ThreatqField *field = pdata[i];
      guint j = i;
      while (j > 0 && threatq_field_name_compare(((ThreatqField *) pdata[j - 1])->name, field->name) > 0)
        {
          pdata[j] = pdata[j - 1];
          j--;
        }
      pdata[j] = field;
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

#define ONES G_GUINT64_CONSTANT(0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT(0x8080808080808080)

/* does any of the 8 bytes need escaping: < 0x20, '"' or '\\' (exact, no false positives) */
static inline gboolean
_word_needs_escape(guint64 v)
{
  guint64 quote = v ^ (ONES * '"');
  guint64 backslash = v ^ (ONES * '\\');
  guint64 control = (v - ONES * 0x20) & ~v;                  /* a byte below 0x20 */
  guint64 is_quote = (quote - ONES) & ~quote;                /* a zero byte in quote */
  guint64 is_backslash = (backslash - ONES) & ~backslash;
  return ((control | is_quote | is_backslash) & HIGHS) != 0;
}

/* room for length more bytes; returns where they go (out->len is not moved) */
static inline gchar *
_reserve(GString *out, gsize length)
{
  if (out->len + length + 1 > out->allocated_len)
    {
      gsize used = out->len;
      g_string_set_size(out, used + length);
      out->len = used;
    }
  return out->str + out->len;
}

static inline void
_append(GString *out, const gchar *text, gsize length)
{
  memcpy(_reserve(out, length), text, length);
  out->len += length;
}

static inline void
_append_c(GString *out, gchar c)
{
  *_reserve(out, 1) = c;
  out->len++;
}

static void
_append_json_string(GString *out, const gchar *text, gsize length)
{
  static const gchar hex[] = "0123456789abcdef";
  const guchar *p = (const guchar *) text, *end = p + length;
  /* the worst case: every byte a \u00XX escape; plain words are copied 8 bytes at a time */
  gchar *o = _reserve(out, length * 6 + 2 + 8);
  gchar *start = o;

  *o++ = '"';
  while (p < end)
    {
      const guchar *stop = end;
      if (end - p >= 8)
        {
          guint64 word;
          memcpy(&word, p, 8);
          if (!_word_needs_escape(word))
            {
              memcpy(o, &word, 8);
              o += 8;
              p += 8;
              continue;
            }
          stop = p + 8;
        }

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
    }
  *o++ = '"';
  out->len += (gsize) (o - start);
}

static void
_append_key(GString *out, const gchar *text, gsize length)
{
  _append_json_string(out, text, length);
  _append_c(out, ':');
}

static void
_append_value(GString *out, const ThreatqField *field)
{
  switch (field->type)
    {
    case THREATQ_FIELD_STRING:
      _append_json_string(out, field->text, strlen(field->text));
      break;
    case THREATQ_FIELD_INTEGER:
      _append(out, field->text, strlen(field->text));
      break;
    case THREATQ_FIELD_LIST:
      _append_c(out, '[');
      for (guint j = 0; j < field->items->len; j++)
        {
          const gchar *item = g_ptr_array_index(field->items, j);
          if (j > 0)
            _append_c(out, ',');
          _append_json_string(out, item, strlen(item));
        }
      _append_c(out, ']');
      break;
    }
}

/*
 * Fields are sorted one dotted component at a time, so the objects a field
 * shares with the one before it are exactly the components both names start
 * with: close the previous field's other objects, open this one's.
 */
static void
_render(ThreatqDocument *self, GString *out)
{
  const gchar *previous = "";
  guint previous_depth = 0;

  _append_c(out, '{');
  for (guint i = 0; i < self->fields->len; i++)
    {
      const ThreatqField *field = g_ptr_array_index(self->fields, i);
      const gchar *name = field->name;

      /* the components (each with its '.') both names start with */
      guint common = 0;
      const gchar *rest = name;
      for (const gchar *a = name, *b = previous; *a && *a == *b; a++, b++)
        if (*a == '.')
          {
            common++;
            rest = a + 1;
          }

      for (guint level = previous_depth; level > common; level--)
        _append_c(out, '}');
      if (i > 0)
        _append_c(out, ',');

      guint depth = common;
      for (const gchar *dot; (dot = strchr(rest, '.')); rest = dot + 1, depth++)
        {
          _append_key(out, rest, (gsize) (dot - rest));
          _append_c(out, '{');
        }
      _append_key(out, rest, strlen(rest));
      _append_value(out, field);

      previous = name;
      previous_depth = depth;
    }
  for (guint level = previous_depth; level > 0; level--)
    _append_c(out, '}');
  _append_c(out, '}');
  out->str[out->len] = '\0';
}

void
threatq_document_finish(ThreatqDocument *self, GString *scratch)
{
  GString *out = scratch ? scratch : g_string_sized_new(4096);

  g_string_truncate(out, 0);
  _sort_fields(self->fields);
  _render(self, out);

  if (self->json)
    g_string_free(self->json, TRUE);
  self->json = g_string_new_len(out->str, (gssize) out->len);
  if (!scratch)
    g_string_free(out, TRUE);
}
