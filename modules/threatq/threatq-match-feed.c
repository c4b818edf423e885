/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-feed.h"
#include "threatq-mapper-dates.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gchar *
threatq_match_filter_fingerprint(const ThreatqMatchFilter *self, gsize max_size, gint64 ioc_expiration)
{
  GString *text = g_string_new("statuses=");

  for (gchar **status = self->statuses; status && *status; status++)
    {
      gchar *lower = g_ascii_strdown(*status, -1);
      g_string_append_printf(text, "%s%s", status == self->statuses ? "" : ",", lower);
      g_free(lower);
    }
  if (self->has_min_score)
    {
      gchar number[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append_printf(text, ";min-score=%s", g_ascii_dtostr(number, sizeof(number), self->min_score));
    }
  g_string_append_printf(text, ";max-size=%" G_GSIZE_FORMAT ";ioc-expiration=%" G_GINT64_FORMAT,
                         max_size, ioc_expiration);
  return g_string_free(text, FALSE);
}

/* reading a document */

static gint64
_epoch_seconds(const ThreatqField *field)
{
  gchar buffer[THREATQ_DATE_BUFFER_SIZE];
  gint64 msec;

  if (field->type != THREATQ_FIELD_STRING || !threatq_mapper_normalise_date(field->text, field->text_length, &msec, buffer))
    return 0;
  /* the set keeps 32-bit times; a date before 1970 is as good as unknown */
  return msec > 0 ? msec / 1000 : 0;
}

/* the most restrictive of the source's TLPs, so that a hit never carries a looser marking than one of its sources */
static gint
_tlp_rank(const gchar *tlp)
{
  static const gchar *const order[] = { "CLEAR", "WHITE", "GREEN", "AMBER", "AMBER+STRICT", "RED" };

  for (guint i = 0; i < G_N_ELEMENTS(order); i++)
    if (strcmp(tlp, order[i]) == 0)
      return (gint) i;
  return -1;
}

static const gchar *
_strictest_tlp(const ThreatqField *field)
{
  const gchar *best = NULL;

  for (guint i = 0; i < field->item_count; i++)
    if (!best || _tlp_rank(field->items[i]) > _tlp_rank(best))
      best = field->items[i];
  return best;
}

static void
_read_score(const ThreatqField *field, ThreatqMatchIndicator *indicator)
{
  if (field->type == THREATQ_FIELD_INTEGER)
    {
      indicator->has_score = TRUE;
      indicator->score = (gdouble) field->integer;
    }
  else if (field->type == THREATQ_FIELD_NUMBER)
    {
      gchar *end = NULL;
      gdouble score = g_ascii_strtod(field->text, &end);
      indicator->has_score = end != field->text && isfinite(score);
      indicator->score = score;
    }
}

static void
_read_providers(const ThreatqField *field, ThreatqMatchFeedItem *item)
{
  g_ptr_array_set_size(item->providers, 0);
  for (guint i = 0; i < field->item_count; i++)
    g_ptr_array_add(item->providers, (gpointer) field->items[i]);
  g_ptr_array_add(item->providers, NULL);
  item->indicator.providers = (const gchar *const *) item->providers->pdata;
}

static void
_read_field(const ThreatqField *field, ThreatqMatchFeedItem *item)
{
  ThreatqMatchIndicator *indicator = &item->indicator;

  switch (field->id)
    {
    case THREATQ_ECS_THREATQ_ID:
      item->has_id = field->type == THREATQ_FIELD_INTEGER;
      indicator->id = field->integer;
      break;
    case THREATQ_ECS_THREATQ_TYPE:
      indicator->type = field->text;
      indicator->type_length = field->text_length;
      break;
    case THREATQ_ECS_THREATQ_INDICATOR_VALUE:
      indicator->value = field->text;
      indicator->value_length = field->text_length;
      break;
    case THREATQ_ECS_THREATQ_STATUS:
      item->status = field->text;
      break;
    case THREATQ_ECS_THREATQ_SCORE:
      _read_score(field, indicator);
      break;
    case THREATQ_ECS_INDICATOR_CONFIDENCE:
      indicator->confidence = field->text;
      break;
    case THREATQ_ECS_INDICATOR_MARKING_TLP:
      indicator->tlp = _strictest_tlp(field);
      break;
    case THREATQ_ECS_INDICATOR_DESCRIPTION:
      indicator->description = field->text;
      break;
    case THREATQ_ECS_INDICATOR_PROVIDER:
      _read_providers(field, item);
      break;
    case THREATQ_ECS_THREATQ_UPDATED_AT:
      indicator->updated_at = _epoch_seconds(field);
      break;
    case THREATQ_ECS_INDICATOR_FIRST_SEEN:
      indicator->first_seen = _epoch_seconds(field);
      break;
    case THREATQ_ECS_INDICATOR_LAST_SEEN:
      indicator->last_seen = _epoch_seconds(field);
      break;
    case THREATQ_ECS_THREATQ_IOC_EXPIRED_AT:
      indicator->expires_at = _epoch_seconds(field);
      break;
    default:
      break;
    }
}

gboolean
threatq_match_feed_read(const ThreatqDocument *document, ThreatqMatchFeedItem *item)
{
  GPtrArray *providers = item->providers;

  memset(item, 0, sizeof(*item));
  item->providers = providers;
  /* without threatq.ioc_expired_at (no usable updated_at) the mapper says nothing of expiry */
  item->indicator.expires_at = THREATQ_MATCH_NEVER;
  item->indicator.type_length = -1;
  item->indicator.value_length = -1;
  for (guint i = 0; i < document->field_count; i++)
    _read_field(&document->fields[i], item);
  return item->has_id;
}

/* filtering and applying */

gboolean
threatq_match_filter_passes(const ThreatqMatchFilter *self, const ThreatqMatchFeedItem *item, gint64 now)
{
  gboolean status_passes = FALSE;

  for (gchar **status = self->statuses; item->status && status && *status && !status_passes; status++)
    status_passes = g_ascii_strcasecmp(item->status, *status) == 0;
  if (!status_passes)
    return FALSE;
  if (self->has_min_score && !(item->indicator.has_score && item->indicator.score >= self->min_score))
    return FALSE;
  /* already expired: it would never match, and would only take a place in the set */
  return item->indicator.expires_at > now;
}

static void
_apply_one(const ThreatqMatchFilter *filter, ThreatqMatchSet *set, ThreatqMatchFeedItem *item, gint64 now,
           ThreatqMatchFeedChanged changed, gpointer user_data, ThreatqMatchFeedCounts *counts)
{
  if (!threatq_match_filter_passes(filter, item, now))
    {
      if (threatq_match_set_remove(set, item->indicator.id))
        counts->removed++;
      if (changed)
        changed(item->indicator.id, FALSE, user_data);
      return;
    }

  switch (threatq_match_set_insert(set, &item->indicator))
    {
    case THREATQ_MATCH_INSERTED:
    case THREATQ_MATCH_REPLACED:
      counts->inserted++;
      if (changed)
        changed(item->indicator.id, TRUE, user_data);
      break;
    case THREATQ_MATCH_SKIPPED:
      counts->skipped++;
      if (changed)
        changed(item->indicator.id, FALSE, user_data);
      break;
    case THREATQ_MATCH_REFUSED_FULL:
      counts->refused_full++;
      break;
    }
}

void
threatq_match_feed_apply(const ThreatqMatchFilter *filter, ThreatqMatchSet *set, GQueue *documents, gint64 now,
                         ThreatqMatchFeedChanged changed, gpointer user_data, ThreatqMatchFeedCounts *counts)
{
  ThreatqMatchFeedItem item = { .providers = g_ptr_array_new() };

  memset(counts, 0, sizeof(*counts));
  for (GList *l = documents->head; l; l = l->next)
    if (threatq_match_feed_read(l->data, &item))
      _apply_one(filter, set, &item, now, changed, user_data, counts);
  g_ptr_array_free(item.providers, TRUE);
}
