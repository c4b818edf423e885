/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-message.h"
#include "str-repr/encode.h"

/*
 * log_msg_get_value_handle() takes the registry's lock on every call; the
 * field names repeat from one indicator to the next, so remember them: the
 * fixed ones by number, attribute names (free text) in a table, up to a bound.
 */
#define THREATQ_MAX_CACHED_HANDLES 4096

struct _ThreatqMessageFactory
{
  NVHandle fixed_handles[THREATQ_ECS_FIELD_COUNT];
  GHashTable *handles;        /* attribute field name -> NVHandle */
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
  self->list_buffer = g_string_sized_new(256);
  self->json_buffer = g_string_sized_new(8192);
  return self;
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

static NVHandle
_handle(ThreatqMessageFactory *self, const ThreatqField *field)
{
  if (field->id != THREATQ_ECS_NAMED)
    return self->fixed_handles[field->id];

  const gchar *name = field->name;
  NVHandle handle = GPOINTER_TO_UINT(g_hash_table_lookup(self->handles, name));

  if (handle)
    return handle;

  handle = log_msg_get_value_handle(name);
  if (handle && g_hash_table_size(self->handles) < THREATQ_MAX_CACHED_HANDLES)
    g_hash_table_insert(self->handles, g_strdup(name), GUINT_TO_POINTER(handle));
  return handle;
}

static const gchar *
_encode_list(ThreatqMessageFactory *self, const ThreatqField *list, gsize *length)
{
  GString *buffer = self->list_buffer;

  g_string_truncate(buffer, 0);
  for (guint i = 0; i < list->item_count; i++)
    {
      if (i > 0)
        g_string_append_c(buffer, ',');
      str_repr_encode_append(buffer, list->items[i], -1, ",");
    }
  *length = buffer->len;
  return buffer->str;
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

      switch (field->type)
        {
        case THREATQ_FIELD_STRING:
          log_msg_set_value_with_type(msg, handle, field->text, field->text_length, LM_VT_STRING);
          break;
        case THREATQ_FIELD_INTEGER:
          log_msg_set_value_with_type(msg, handle, field->text, field->text_length, LM_VT_INT64);
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
  return msg;
}
