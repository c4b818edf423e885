#include "threatq-message.h"
#include "str-repr/encode.h"
#include "scratch-buffers.h"

static void
_set_list(LogMessage *msg, NVHandle handle, GPtrArray *items, GString *buffer)
{
  g_string_truncate(buffer, 0);
  for (guint i = 0; i < items->len; i++)
    {
      if (i > 0)
        g_string_append_c(buffer, ',');
      str_repr_encode_append(buffer, g_ptr_array_index(items, i), -1, ",");
    }
  log_msg_set_value_with_type(msg, handle, buffer->str, buffer->len, LM_VT_LIST);
}

LogMessage *
threatq_message_new(const ThreatqDocument *document)
{
  LogMessage *msg = log_msg_new_empty();
  ScratchBuffersMarker marker;
  GString *buffer = scratch_buffers_alloc_and_mark(&marker);

  log_msg_set_value(msg, LM_V_MESSAGE, document->json->str, document->json->len);
  for (guint i = 0; i < document->fields->len; i++)
    {
      const ThreatqField *field = g_ptr_array_index(document->fields, i);
      NVHandle handle = log_msg_get_value_handle(field->name);

      switch (field->type)
        {
        case THREATQ_FIELD_STRING:
          log_msg_set_value_with_type(msg, handle, field->text, -1, LM_VT_STRING);
          break;
        case THREATQ_FIELD_INTEGER:
          log_msg_set_value_with_type(msg, handle, field->text, -1, LM_VT_INT64);
          break;
        case THREATQ_FIELD_LIST:
          _set_list(msg, handle, field->items, buffer);
          break;
        }
    }

  msg->timestamps[LM_TS_STAMP].ut_sec = document->timestamp;
  msg->timestamps[LM_TS_STAMP].ut_usec = 0;
  msg->timestamps[LM_TS_STAMP].ut_gmtoff = 0;
  scratch_buffers_reclaim_marked(marker);
  return msg;
}
