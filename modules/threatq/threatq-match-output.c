/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-output.h"
#include "threatq-compat.h"
#include "logmsg/tags.h"
#include "threatq-message.h"

#include <string.h>

#define ENRICHMENTS "threat.enrichments."
#define INDICATOR ENRICHMENTS "indicator."

static const gchar *const output_names[THREATQ_MATCH_OUT_COUNT] =
{
  [THREATQ_MATCH_OUT_ATOMIC] = ENRICHMENTS "matched.atomic",
  [THREATQ_MATCH_OUT_FIELD] = ENRICHMENTS "matched.field",
  [THREATQ_MATCH_OUT_MATCHED_TYPE] = ENRICHMENTS "matched.type",
  [THREATQ_MATCH_OUT_TYPE] = INDICATOR "type",
  [THREATQ_MATCH_OUT_ID] = INDICATOR "id",
  [THREATQ_MATCH_OUT_CONFIDENCE] = INDICATOR "confidence",
  [THREATQ_MATCH_OUT_PROVIDER] = INDICATOR "provider",
  [THREATQ_MATCH_OUT_TLP] = INDICATOR "marking.tlp",
  [THREATQ_MATCH_OUT_FIRST_SEEN] = INDICATOR "first_seen",
  [THREATQ_MATCH_OUT_LAST_SEEN] = INDICATOR "last_seen",
  [THREATQ_MATCH_OUT_DESCRIPTION] = INDICATOR "description",
};

void
threatq_match_output_init(ThreatqMatchOutput *self, const gchar *tag, const gchar *hits_field)
{
  memset(self, 0, sizeof(*self));
  for (guint i = 0; i < THREATQ_MATCH_OUT_COUNT; i++)
    self->handles[i] = log_msg_get_value_handle(output_names[i]);
  for (guint kind = THREATQ_MATCH_KIND_NONE + 1; kind < THREATQ_MATCH_KIND_COUNT; kind++)
    {
      /* the ECS field depends on the kind only (a full-length address for the address kinds) */
      ThreatqMatchKey key = { .kind = kind, .prefix_len = threatq_match_kind_address_bits(kind) };
      const gchar *field = threatq_match_key_ecs_field(&key);
      if (!field)
        continue;
      gchar *name = g_strconcat(INDICATOR, field, NULL);
      self->value_handles[kind] = log_msg_get_value_handle(name);
      g_free(name);
    }
  if (hits_field && hits_field[0])
    self->hits_handle = log_msg_get_value_handle(hits_field);
  if (tag && tag[0])
    {
      self->tag = log_tags_get_by_name(tag);
      self->has_tag = TRUE;
    }
}

static void
_set_string(LogMessage *msg, NVHandle handle, const gchar *value, gssize length)
{
  log_msg_set_value_with_type(msg, handle, value, length < 0 ? (gssize) strlen(value) : length, LM_VT_STRING);
}

static void
_set_time(LogMessage *msg, NVHandle handle, guint32 seconds)
{
  gchar date[THREATQ_DATE_BUFFER_SIZE];
  gsize length = threatq_match_enrichment_format_time(seconds, date);

  if (length)
    _set_string(msg, handle, date, length);
}

/* lists as threatq-message.c writes them: str-repr items joined by ',' */
static void
_set_providers(LogMessage *msg, NVHandle handle, const ThreatqMatchEntry *entry, GString *scratch)
{
  const gchar *provider = threatq_match_entry_next_provider(entry, NULL);

  if (!provider)
    return;
  g_string_truncate(scratch, 0);
  for (; provider; provider = threatq_match_entry_next_provider(entry, provider))
    {
      if (scratch->len)
        g_string_append_c(scratch, ',');
      threatq_message_encode_list_item(scratch, provider);
    }
  log_msg_set_value_with_type(msg, handle, scratch->str, scratch->len, LM_VT_LIST);
}

static void
_set_tlp(LogMessage *msg, NVHandle handle, const gchar *tlp, GString *scratch)
{
  g_string_truncate(scratch, 0);
  threatq_message_encode_list_item(scratch, tlp);
  log_msg_set_value_with_type(msg, handle, scratch->str, scratch->len, LM_VT_LIST);
}

static void
_set_indicator_value(const ThreatqMatchOutput *self, LogMessage *msg, const ThreatqMatchEntry *entry,
                     GString *scratch)
{
  ThreatqMatchKey key;

  threatq_match_entry_key(entry, &key);
  _set_string(msg, self->handles[THREATQ_MATCH_OUT_TYPE], threatq_match_key_ecs_type(&key), -1);
  /* a CIDR block shorter than an address has no ECS value field */
  if (!threatq_match_key_ecs_field(&key) || !self->value_handles[key.kind])
    return;
  g_string_truncate(scratch, 0);
  threatq_match_key_format(&key, scratch);
  _set_string(msg, self->value_handles[key.kind], scratch->str, scratch->len);
}

static void
_set_best(const ThreatqMatchOutput *self, LogMessage *msg, const ThreatqMatchEntry *entry,
          const ThreatqMatchOrigin *origin, GString *scratch)
{
  const NVHandle *h = self->handles;
  gchar id[THREATQ_MATCH_ID_BUFFER_SIZE];
  const gchar *text;

  _set_string(msg, h[THREATQ_MATCH_OUT_ATOMIC], origin->atomic, origin->atomic_length);
  _set_string(msg, h[THREATQ_MATCH_OUT_FIELD], origin->field, -1);
  _set_string(msg, h[THREATQ_MATCH_OUT_MATCHED_TYPE], THREATQ_MATCH_MATCHED_TYPE, -1);
  _set_indicator_value(self, msg, entry, scratch);
  gsize length = threatq_match_enrichment_format_id(entry->id, id);
  log_msg_set_value_with_type(msg, h[THREATQ_MATCH_OUT_ID], id, (gssize) length, THREATQ_LM_VT_INTEGER);
  if ((text = threatq_match_entry_confidence(entry)))
    _set_string(msg, h[THREATQ_MATCH_OUT_CONFIDENCE], text, -1);
  _set_providers(msg, h[THREATQ_MATCH_OUT_PROVIDER], entry, scratch);
  if ((text = threatq_match_entry_tlp(entry)))
    _set_tlp(msg, h[THREATQ_MATCH_OUT_TLP], text, scratch);
  _set_time(msg, h[THREATQ_MATCH_OUT_FIRST_SEEN], entry->first_seen);
  _set_time(msg, h[THREATQ_MATCH_OUT_LAST_SEEN], entry->last_seen);
  if (entry->description)
    _set_string(msg, h[THREATQ_MATCH_OUT_DESCRIPTION], entry->description, -1);
}

void
threatq_match_output_write(const ThreatqMatchOutput *self, LogMessage *msg,
                           const ThreatqMatchEntry *const *entries, const ThreatqMatchOrigin *origins,
                           gsize count, GString *scratch, GString *json)
{
  _set_best(self, msg, entries[0], &origins[0], scratch);
  if (self->hits_handle)
    {
      g_string_truncate(json, 0);
      g_string_append_c(json, '[');
      for (gsize i = 0; i < count; i++)
        {
          if (i > 0)
            g_string_append_c(json, ',');
          threatq_match_enrichment_render(json, entries[i], &origins[i], scratch);
        }
      g_string_append_c(json, ']');
      log_msg_set_value_with_type(msg, self->hits_handle, json->str, json->len, LM_VT_JSON);
    }
  if (self->has_tag)
    log_msg_set_tag_by_id(msg, self->tag);
}
