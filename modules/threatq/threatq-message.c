/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-message.h"
#include "threatq-compat.h"
#include "threatq-string.h"
#include "str-repr/encode.h"
#include "messages.h"

/* names refused a handle that one factory remembers, so as not to ask the registry again */
#define MAX_CACHED_REFUSALS 4096
/* a render buffer grown past this by one message is given back after it */
#define MAX_KEPT_BUFFER (1024 * 1024)
#define INITIAL_JSON_BUFFER 8192
#define INITIAL_LIST_BUFFER 256
/* recently used attribute names, direct-mapped by a hash of a few bytes (a power of two) */
#define RECENT_NAMES 64
/* how much of a refused name the log shows */
#define LOGGED_NAME_LENGTH 100

/*
 * The attribute names given a name-value handle, process-wide: syslog-ng's
 * registry never forgets a name, across reloads too, so a server sending
 * ever new names would grow it without end.
 */
static GMutex registry_lock;
static GHashTable *registered_names;   /* name -> NVHandle, at most THREATQ_MAX_ATTRIBUTE_NAMES */

typedef enum
{
  REFUSED_FULL,               /* the process has THREATQ_MAX_ATTRIBUTE_NAMES names already */
  REFUSED_INVALID,            /* too long or a control character: syslog-ng would log an error per message */
  REFUSED_KINDS
} RefusedKind;

/*
 * log_msg_get_value_handle() takes the registry's lock on every call; the
 * field names repeat from one indicator to the next, so remember them: the
 * fixed ones by number, attribute names (free text) in a table.
 */
typedef struct
{
  const gchar *name;          /* a key of handles (lives as long as the table), or NULL */
  gsize length;
  NVHandle handle;
} RecentName;

struct _ThreatqMessageFactory
{
  NVHandle fixed_handles[THREATQ_ECS_FIELD_COUNT];
  RecentName recent[RECENT_NAMES];
  GHashTable *handles;        /* attribute field name -> NVHandle, or 0 for a refused name */
  guint refusals;             /* the 0 entries in handles */
  gboolean logged[REFUSED_KINDS];
  const gchar *driver_id;
  ThreatqStats *stats;
  GString *list_buffer;
  GString *json_buffer;
};

ThreatqMessageFactory *
threatq_message_factory_new(void)
{
  ThreatqMessageFactory *self = g_new0(ThreatqMessageFactory, 1);

  for (guint field = THREATQ_ECS_NAMED + 1; field < THREATQ_ECS_FIELD_COUNT; field++)
    self->fixed_handles[field] = log_msg_get_value_handle(threatq_ecs_field_name(field));
  self->handles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->list_buffer = g_string_sized_new(INITIAL_LIST_BUFFER);
  self->json_buffer = g_string_sized_new(INITIAL_JSON_BUFFER);
  self->driver_id = "threatq";
  return self;
}

void
threatq_message_factory_set_owner(ThreatqMessageFactory *self, const gchar *driver_id, ThreatqStats *stats)
{
  self->driver_id = driver_id;
  self->stats = stats;
}

void
threatq_message_factory_free(ThreatqMessageFactory *self)
{
  if (!self)
    return;
  g_hash_table_destroy(self->handles);
  g_string_free(self->list_buffer, TRUE);
  g_string_free(self->json_buffer, TRUE);
  g_free(self);
}

static gboolean
_usable_name(const gchar *name, gsize length)
{
  if (length == 0 || length > THREATQ_MAX_FIELD_NAME_LENGTH)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if ((guchar) name[i] < 0x20 || name[i] == 0x7f)
      return FALSE;
  return TRUE;
}

/* the process-wide handle of an attribute field name, 0 with *refused set when it gets none */
static NVHandle
_register(const gchar *name, gsize length, RefusedKind *refused)
{
  if (!_usable_name(name, length))
    {
      *refused = REFUSED_INVALID;
      return 0;
    }
  g_mutex_lock(&registry_lock);
  if (!registered_names)
    registered_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  NVHandle handle = GPOINTER_TO_UINT(g_hash_table_lookup(registered_names, name));
  if (!handle && g_hash_table_size(registered_names) < THREATQ_MAX_ATTRIBUTE_NAMES)
    {
      handle = log_msg_get_value_handle(name);
      if (handle)
        g_hash_table_insert(registered_names, g_strndup(name, length), GUINT_TO_POINTER(handle));
    }
  g_mutex_unlock(&registry_lock);
  *refused = REFUSED_FULL;
  return handle;
}

/* once per factory and kind of refusal: a server sending new names with every page must not flood the log */
static void
_log_refusal(ThreatqMessageFactory *self, RefusedKind kind, const gchar *name, gsize length)
{
  if (self->logged[kind])
    return;
  self->logged[kind] = TRUE;
  gchar *shown = g_strndup(name, MIN(length, LOGGED_NAME_LENGTH));
  /* a server's control characters do not reach the log as they are */
  for (gchar *c = shown; *c; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = '?';
  if (kind == REFUSED_FULL)
    msg_warning("threatq: more distinct attribute names than syslog-ng keeps as name-value pairs; "
                "the others stay in MESSAGE only (logged once)",
                evt_tag_str("driver", self->driver_id), evt_tag_int("limit", THREATQ_MAX_ATTRIBUTE_NAMES),
                evt_tag_str("name", shown));
  else
    msg_warning("threatq: an attribute name cannot be a name-value name (too long or a control character); "
                "it stays in MESSAGE only (logged once)",
                evt_tag_str("driver", self->driver_id), evt_tag_int("length", (gint) length),
                evt_tag_str("name", shown));
  g_free(shown);
}

/*
 * Hashing and comparing a whole "threatq.attributes.*" name in the table took
 * ~380 instructions a field; the same few names come with indicator after
 * indicator, so a slot chosen by the length and two bytes mostly has it.
 */
static inline RecentName *
_recent_slot(ThreatqMessageFactory *self, const ThreatqField *field)
{
  const guchar *name = (const guchar *) field->name;
  gsize length = field->name_length;
  guint hash = (guint) length * 31u + name[length - 1] * 7u + name[length / 2 + length / 4];

  return &self->recent[hash & (RECENT_NAMES - 1)];
}

/* the handle of an attribute name: the process-wide one, cached in the factory */
static NVHandle
_named_handle(ThreatqMessageFactory *self, const ThreatqField *field)
{
  gpointer key, cached;
  if (g_hash_table_lookup_extended(self->handles, field->name, &key, &cached))
    {
      RecentName *recent = _recent_slot(self, field);
      *recent = (RecentName) { key, field->name_length, GPOINTER_TO_UINT(cached) };
      return GPOINTER_TO_UINT(cached);
    }

  RefusedKind refused;
  NVHandle handle = _register(field->name, field->name_length, &refused);
  if (!handle)
    {
      _log_refusal(self, refused, field->name, field->name_length);
      if (self->refusals >= MAX_CACHED_REFUSALS)
        return 0;
      self->refusals++;
    }
  g_hash_table_insert(self->handles, g_strndup(field->name, field->name_length), GUINT_TO_POINTER(handle));
  return handle;
}

static NVHandle
_handle(ThreatqMessageFactory *self, const ThreatqField *field)
{
  if (field->id != THREATQ_ECS_NAMED)
    return self->fixed_handles[field->id];

  const RecentName *recent = field->name_length ? _recent_slot(self, field) : NULL;
  if (recent && recent->name && recent->length == field->name_length
      && memcmp(recent->name, field->name, field->name_length) == 0)
    return recent->handle;
  return _named_handle(self, field);
}

typedef enum
{
  ITEM_COMPLEX,               /* anything else: left to str_repr_encode_append() */
  ITEM_BARE,                  /* printable ASCII, no space, comma, quote, apostrophe or backslash */
  ITEM_SPACED,                /* the same, with a space or a comma */
} ItemShape;

/*
 * str_repr_encode_append() escapes character by character through
 * g_utf8_get_char_validated() once an item needs quoting (a space does):
 * a third of the fetcher thread's time.  For printable ASCII without quotes,
 * apostrophes and backslashes its result is known: the item as it is, or in
 * double quotes when it holds a space or the separator.
 */
/* what one byte makes of an item: 0 nothing, SPACED_BYTE quoting, COMPLEX_BYTE str_repr_encode_append() */
#define SPACED_BYTE 1
#define COMPLEX_BYTE 2
static const guint8 item_bytes[256] =
{
  [0x00 ... 0x1f] = COMPLEX_BYTE, [0x7f ... 0xff] = COMPLEX_BYTE,
  ['"'] = COMPLEX_BYTE, ['\''] = COMPLEX_BYTE, ['\\'] = COMPLEX_BYTE, [' '] = SPACED_BYTE, [','] = SPACED_BYTE,
};

/* what str_repr_encode_append() would make of item; *length: its bytes (measured on the way) */
static ItemShape
_item_shape(const gchar *item, gsize *length)
{
  guint8 kinds = 0;
  const guchar *c = (const guchar *) item;

  for (; *c; c++)
    kinds |= item_bytes[*c];
  *length = (gsize) (c - (const guchar *) item);
  if (*length == 0 || (kinds & COMPLEX_BYTE))
    return ITEM_COMPLEX;
  return kinds ? ITEM_SPACED : ITEM_BARE;
}

static inline void
_encode_item(GString *buffer, const gchar *item)
{
  gsize length;

  switch (_item_shape(item, &length))
    {
    case ITEM_BARE:
      threatq_string_append(buffer, item, length);
      break;
    case ITEM_SPACED:
      threatq_string_append_c(buffer, '"');
      threatq_string_append(buffer, item, length);
      threatq_string_append_c(buffer, '"');
      break;
    default:
      str_repr_encode_append(buffer, item, -1, ",");
      break;
    }
}

/* for threatq-match()'s output; the source's own lists keep the static one, inlined */
void
threatq_message_encode_list_item(GString *buffer, const gchar *item)
{
  _encode_item(buffer, item);
}

static const gchar *
_encode_list(ThreatqMessageFactory *self, const ThreatqField *list, gsize *length)
{
  GString *buffer = self->list_buffer;

  g_string_truncate(buffer, 0);
  for (guint i = 0; i < list->item_count; i++)
    {
      if (i > 0)
        threatq_string_append_c(buffer, ',');
      _encode_item(buffer, list->items[i]);
    }
  /* the threatq_string_ appends leave the NUL to whoever reads the buffer as a string */
  buffer->str[buffer->len] = '\0';
  *length = buffer->len;
  return buffer->str;
}

/* a huge document must not keep its buffers' size for the life of the source */
static void
_trim_buffers(ThreatqMessageFactory *self)
{
  if (self->json_buffer->allocated_len > MAX_KEPT_BUFFER)
    {
      g_string_free(self->json_buffer, TRUE);
      self->json_buffer = g_string_sized_new(INITIAL_JSON_BUFFER);
    }
  if (self->list_buffer->allocated_len > MAX_KEPT_BUFFER)
    {
      g_string_free(self->list_buffer, TRUE);
      self->list_buffer = g_string_sized_new(INITIAL_LIST_BUFFER);
    }
}

/* MESSAGE and the name-value pairs together: sized up front, the table never grows. */
static gsize
_payload_size(const ThreatqDocument *document, gsize json_length)
{
  return json_length * 2 + document->field_count * 32;
}

LogMessage *
threatq_message_factory_build(ThreatqMessageFactory *self, const ThreatqDocument *document)
{
  GString *json = self->json_buffer;

  g_string_truncate(json, 0);
  threatq_document_render(document, json);

  LogMessage *msg = log_msg_sized_new(_payload_size(document, json->len));
  log_msg_set_value(msg, LM_V_MESSAGE, json->str, json->len);
  for (guint i = 0; i < document->field_count; i++)
    {
      const ThreatqField *field = &document->fields[i];
      NVHandle handle = _handle(self, field);
      const gchar *list;
      gsize length;

      if (!handle)
        {
          if (self->stats)
            threatq_stats_add(self->stats, THREATQ_STAT_UNPAIRED_ATTRIBUTES, 1);
          continue;
        }

      switch (field->type)
        {
        case THREATQ_FIELD_STRING:
          log_msg_set_value_with_type(msg, handle, field->text, field->text_length, LM_VT_STRING);
          break;
        case THREATQ_FIELD_INTEGER:
          log_msg_set_value_with_type(msg, handle, field->text, field->text_length, THREATQ_LM_VT_INTEGER);
          break;
        case THREATQ_FIELD_NUMBER:
          log_msg_set_value_with_type(msg, handle, field->text, field->text_length, LM_VT_DOUBLE);
          break;
        case THREATQ_FIELD_LIST:
          list = _encode_list(self, field, &length);
          log_msg_set_value_with_type(msg, handle, list, length, LM_VT_LIST);
          break;
        }
    }

  msg->timestamps[LM_TS_STAMP].ut_sec = document->timestamp;
  msg->timestamps[LM_TS_STAMP].ut_usec = 0;
  msg->timestamps[LM_TS_STAMP].ut_gmtoff = 0;
  _trim_buffers(self);
  return msg;
}
