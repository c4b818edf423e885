/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-enrichment.h"
#include "threatq-document.h"

#include <string.h>

gsize
threatq_match_enrichment_format_time(guint32 seconds, gchar buffer[THREATQ_DATE_BUFFER_SIZE])
{
  if (seconds == 0)
    {
      buffer[0] = '\0';
      return 0;
    }
  return threatq_mapper_format_date((gint64) seconds * 1000, buffer);
}

gsize
threatq_match_enrichment_format_id(gint64 id, gchar buffer[THREATQ_MATCH_ID_BUFFER_SIZE])
{
  /* digits from the end; the magnitude as unsigned, so that G_MININT64 has one */
  gchar digits[THREATQ_MATCH_ID_BUFFER_SIZE];
  guint64 magnitude = id < 0 ? 0 - (guint64) id : (guint64) id;
  gsize at = sizeof(digits);

  do
    {
      digits[--at] = (gchar) ('0' + magnitude % 10);
      magnitude /= 10;
    }
  while (magnitude);
  if (id < 0)
    digits[--at] = '-';
  gsize length = sizeof(digits) - at;
  memcpy(buffer, digits + at, length);
  buffer[length] = '\0';
  return length;
}

static void
_append_key(GString *out, const gchar *key)
{
  threatq_document_append_json_string(out, key, strlen(key));
  g_string_append_c(out, ':');
}

static void
_append_string_member(GString *out, const gchar *key, const gchar *value, gsize length)
{
  g_string_append_c(out, ',');
  _append_key(out, key);
  threatq_document_append_json_string(out, value, length);
}

/* "file.hash.sha256" = v as "file":{"hash":{"sha256":"v"}} */
static void
_append_dotted_member(GString *out, const gchar *dotted, const gchar *value, gsize length)
{
  guint depth = 0;
  const gchar *name = dotted;

  for (const gchar *dot; (dot = strchr(name, '.')); name = dot + 1, depth++)
    {
      threatq_document_append_json_string(out, name, (gsize) (dot - name));
      g_string_append(out, ":{");
    }
  _append_key(out, name);
  threatq_document_append_json_string(out, value, length);
  for (; depth > 0; depth--)
    g_string_append_c(out, '}');
}

static void
_append_time_member(GString *out, const gchar *key, guint32 seconds)
{
  gchar date[THREATQ_DATE_BUFFER_SIZE];
  gsize length = threatq_match_enrichment_format_time(seconds, date);

  if (length)
    _append_string_member(out, key, date, length);
}

static void
_append_providers(GString *out, const ThreatqMatchEntry *entry)
{
  const gchar *provider = threatq_match_entry_next_provider(entry, NULL);

  if (!provider)
    return;
  g_string_append(out, ",\"provider\":[");
  for (gboolean first = TRUE; provider; provider = threatq_match_entry_next_provider(entry, provider), first = FALSE)
    {
      if (!first)
        g_string_append_c(out, ',');
      threatq_document_append_json_string(out, provider, strlen(provider));
    }
  g_string_append_c(out, ']');
}

static void
_append_indicator(GString *out, const ThreatqMatchEntry *entry, GString *scratch)
{
  ThreatqMatchKey key;
  const gchar *text;

  threatq_match_entry_key(entry, &key);
  g_string_append(out, "\"indicator\":{\"type\":");
  text = threatq_match_key_ecs_type(&key);
  threatq_document_append_json_string(out, text, strlen(text));
  text = threatq_match_key_ecs_field(&key);
  if (text)
    {
      g_string_truncate(scratch, 0);
      threatq_match_key_format(&key, scratch);
      g_string_append_c(out, ',');
      _append_dotted_member(out, text, scratch->str, scratch->len);
    }
  gchar id[THREATQ_MATCH_ID_BUFFER_SIZE];
  g_string_append(out, ",\"id\":");
  g_string_append_len(out, id, (gssize) threatq_match_enrichment_format_id(entry->id, id));
  if ((text = threatq_match_entry_confidence(entry)))
    _append_string_member(out, "confidence", text, strlen(text));
  _append_providers(out, entry);
  if ((text = threatq_match_entry_tlp(entry)))
    {
      g_string_append(out, ",\"marking\":{\"tlp\":[");
      threatq_document_append_json_string(out, text, strlen(text));
      g_string_append(out, "]}");
    }
  _append_time_member(out, "first_seen", entry->first_seen);
  _append_time_member(out, "last_seen", entry->last_seen);
  if (entry->description)
    _append_string_member(out, "description", entry->description, strlen(entry->description));
  g_string_append_c(out, '}');
}

void
threatq_match_enrichment_render(GString *out, const ThreatqMatchEntry *entry, const ThreatqMatchOrigin *origin,
                                GString *scratch)
{
  g_string_append_c(out, '{');
  _append_indicator(out, entry, scratch);
  g_string_append(out, ",\"matched\":{\"atomic\":");
  threatq_document_append_json_string(out, origin->atomic, origin->atomic_length);
  _append_string_member(out, "field", origin->field, strlen(origin->field));
  g_string_append(out, ",\"type\":\"" THREATQ_MATCH_MATCHED_TYPE "\"}}");
}
