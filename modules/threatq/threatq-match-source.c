/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-source.h"
#include "threatq-match-feed.h"
#include "threatq-match-registry.h"
#include "threatq-cursor.h"
#include "threatq-compat.h"
#include "messages.h"

#include <string.h>

#define THREATQ_MATCH_CONFIG_ERROR g_quark_from_static_string("threatq-match-config-error")
/* how often the reader thread frees the entries that expired while in the set */
#define THREATQ_MATCH_PURGE_INTERVAL 60

struct _ThreatqMatchSource
{
  /* options */
  ThreatqMatchFilter filter;
  gsize max_size;
  gchar *state_file;

  /* init to deinit (main thread) */
  ThreatqMatchSourceContext context;
  ThreatqMatchShared *shared;
  gchar *identity;              /* collection, URL and the filter options: a set of another identity is not reused */
  gchar *persist_key;
  gchar *state_path;            /* match-state-file(), or the default next to the persist file */

  /* reader thread, from start until the reader is joined */
  ThreatqMatchSet *set;
  gint64 last_purge;
};

/* what a reload hands to the next configuration */
typedef struct _ThreatqMatchHandover
{
  ThreatqMatchShared *shared;
  gchar *identity;
} ThreatqMatchHandover;

static void
_handover_free(gpointer data)
{
  ThreatqMatchHandover *handover = data;

  threatq_match_shared_unref(handover->shared);
  g_free(handover->identity);
  g_free(handover);
}

/* options */

gboolean
threatq_match_source_set_statuses(ThreatqMatchSource *self, GList *statuses, GError **error)
{
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

  for (GList *l = statuses; l; l = l->next)
    {
      const gchar *name = l->data;
      if (!name[0])
        {
          g_ptr_array_free(names, TRUE);
          g_set_error(error, THREATQ_MATCH_CONFIG_ERROR, 0, "a status name must not be empty");
          return FALSE;
        }
      g_ptr_array_add(names, g_strdup(name));
    }
  if (names->len == 0)
    {
      g_ptr_array_free(names, TRUE);
      g_set_error(error, THREATQ_MATCH_CONFIG_ERROR, 0, "name at least one status, e.g. match-statuses(\"Active\")");
      return FALSE;
    }
  g_ptr_array_add(names, NULL);
  g_strfreev(self->filter.statuses);
  self->filter.statuses = (gchar **) g_ptr_array_free(names, FALSE);
  return TRUE;
}

void
threatq_match_source_set_min_score(ThreatqMatchSource *self, gdouble min_score)
{
  self->filter.has_min_score = TRUE;
  self->filter.min_score = min_score;
}

void
threatq_match_source_set_max_size(ThreatqMatchSource *self, gsize max_size)
{
  self->max_size = max_size;
}

void
threatq_match_source_set_state_file(ThreatqMatchSource *self, const gchar *path)
{
  g_free(self->state_file);
  self->state_file = g_strdup(path);
}

/* init and deinit */

/*
 * The default match-state-file(): the persist file's directory and
 * "threatq-<persist name>.match", the name with every byte outside
 * [A-Za-z0-9._-] turned into '_' and cut to 100 bytes, followed by 8 hex
 * digits of its SHA-256 so that names that differ only there stay apart.
 */
static gchar *
_default_state_path(GlobalConfig *cfg, const gchar *persist_name)
{
  const gchar *persist_file = cfg->state ? persist_state_get_filename(cfg->state) : NULL;
  gchar *directory = persist_file ? g_path_get_dirname(persist_file) : g_strdup(".");
  GString *name = g_string_new("threatq-");

  for (const gchar *c = persist_name; *c && name->len < 8 + 100; c++)
    g_string_append_c(name, (g_ascii_isalnum(*c) || strchr("._-", *c)) ? *c : '_');
  gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, persist_name, -1);
  g_string_append_printf(name, "-%.8s.match", digest);

  gchar *path = g_build_filename(directory, name->str, NULL);
  g_free(digest);
  g_string_free(name, TRUE);
  g_free(directory);
  return path;
}

static void
_copy_context(ThreatqMatchSource *self, const ThreatqMatchSourceContext *context)
{
  self->context = *context;
  g_free(self->identity);
  gchar *filter = threatq_match_filter_fingerprint(&self->filter, self->max_size, context->ioc_expiration);
  self->identity = g_strdup_printf("collection=%s;url=%s;%s", context->collection, context->url, filter);
  g_free(filter);
  g_free(self->persist_key);
  self->persist_key = g_strdup_printf("threatq-match(%s)", context->persist_name);
}

static void
_resolve_state_path(ThreatqMatchSource *self, GlobalConfig *cfg)
{
  g_free(self->state_path);
  self->state_path = self->state_file ? g_strdup(self->state_file)
                     : _default_state_path(cfg, self->context.persist_name);
}

/*
 * The set the previous configuration fed, when it was built with the same
 * options: moved into this source's entry (the source statement may have
 * been renamed).  A set of other options is dropped: no parser runs during
 * init, and a full re-read rebuilds it.
 */
static void
_take_over(ThreatqMatchSource *self, ThreatqMatchHandover *handover)
{
  ThreatqMatchSet *set = threatq_match_shared_take_set(handover->shared);

  if (!set)
    return;
  if (strcmp(handover->identity, self->identity) != 0)
    {
      msg_warning("threatq: match options, URL or collection changed across the reload, the indicator set is rebuilt",
                  evt_tag_str("driver", self->context.driver_id));
      threatq_match_set_free(set);
      return;
    }
  threatq_match_shared_attach_set(self->shared, set);
}

gboolean
threatq_match_source_init(ThreatqMatchSource *self, GlobalConfig *cfg, const ThreatqMatchSourceContext *context)
{
  _copy_context(self, context);
  _resolve_state_path(self, cfg);
  g_assert(!self->shared);
  self->shared = threatq_match_registry_acquire(context->source_name);

  ThreatqMatchHandover *handover = cfg_persist_config_fetch(cfg, self->persist_key);
  if (handover)
    {
      _take_over(self, handover);
      _handover_free(handover);
    }
  else if (threatq_match_shared_get_set(self->shared))
    {
      /* the entry of a source of this name that this configuration does not continue (another persist name) */
      threatq_match_set_free(threatq_match_shared_take_set(self->shared));
    }
  return TRUE;
}

void
threatq_match_source_deinit(ThreatqMatchSource *self, GlobalConfig *cfg)
{
  if (!self->shared)
    return;

  /* the parsers of the next configuration say again whether they want it */
  threatq_match_shared_forget_wants(self->shared);
  ThreatqMatchHandover *handover = g_new0(ThreatqMatchHandover, 1);
  handover->shared = g_steal_pointer(&self->shared);
  handover->identity = g_strdup(self->identity);
  threatq_compat_persist_config_add(cfg, self->persist_key, handover, _handover_free);
}

/* start */

static void
_update_counters(ThreatqMatchSource *self)
{
  ThreatqMatchSetStats stats = { 0 };

  if (self->set)
    threatq_match_set_get_stats(self->set, &stats);
  threatq_stats_set(self->context.stats, THREATQ_STAT_MATCH_ENTRIES, stats.entries);
  threatq_stats_set(self->context.stats, THREATQ_STAT_MATCH_REFUSED_FULL, stats.refused_full);
  threatq_stats_set(self->context.stats, THREATQ_STAT_MATCH_SKIPPED, stats.skipped);
}

static void
_page_hook(ThreatqReaderPage *page, gpointer user_data)
{
  ThreatqMatchSource *self = user_data;
  ThreatqMatchFeedCounts counts;
  gint64 now = (gint64) time(NULL);

  threatq_match_feed_apply(&self->filter, self->set, &page->documents, now, NULL, NULL, &counts);
  if (now - self->last_purge >= THREATQ_MATCH_PURGE_INTERVAL)
    {
      threatq_match_set_purge_expired(self->set, now);
      self->last_purge = now;
    }
  _update_counters(self);
  msg_debug("threatq: indicator set updated", evt_tag_str("driver", self->context.driver_id),
            evt_tag_long("inserted", counts.inserted), evt_tag_long("removed", counts.removed),
            evt_tag_long("refused_full", counts.refused_full), evt_tag_long("skipped", counts.skipped));
  if (counts.refused_full)
    msg_warning("threatq: the indicator set is full, new indicators are not matched; raise match-max-size()",
                evt_tag_str("driver", self->context.driver_id), evt_tag_long("max_size", self->max_size),
                evt_tag_long("refused", counts.refused_full));
}

/* no parser wants the set: stop feeding it, and free it (no parser reads it either) */
static GRefString *
_start_unwanted(ThreatqMatchSource *self, ThreatqReaderOptions *reader_options, GRefString *stored_cursor)
{
  ThreatqMatchSet *set = threatq_match_shared_take_set(self->shared);

  if (set)
    threatq_match_set_free(set);
  self->set = NULL;
  reader_options->page_hook = NULL;
  reader_options->page_hook_data = NULL;
  return g_ref_string_acquire(stored_cursor);
}

GRefString *
threatq_match_source_start(ThreatqMatchSource *self, ThreatqReaderOptions *reader_options, GRefString *stored_cursor)
{
  if (!threatq_match_shared_is_wanted(self->shared))
    return _start_unwanted(self, reader_options, stored_cursor);

  GRefString *cursor = g_ref_string_acquire(stored_cursor);
  self->set = threatq_match_shared_get_set(self->shared);
  if (!self->set)
    {
      self->set = threatq_match_set_new(self->max_size);
      if (strcmp(stored_cursor, THREATQ_CURSOR_START) != 0)
        {
          msg_warning("threatq: a threatq-match() parser needs the indicator set and there is none to resume, "
                      "reading the collection from the start again (its indicators are posted again)",
                      evt_tag_str("driver", self->context.driver_id), evt_tag_str("cursor", stored_cursor));
          g_ref_string_release(cursor);
          cursor = g_ref_string_new(THREATQ_CURSOR_START);
        }
      threatq_match_shared_attach_set(self->shared, self->set);
    }
  self->last_purge = (gint64) time(NULL);
  _update_counters(self);
  reader_options->page_hook = _page_hook;
  reader_options->page_hook_data = self;
  return cursor;
}

ThreatqMatchSource *
threatq_match_source_new(void)
{
  ThreatqMatchSource *self = g_new0(ThreatqMatchSource, 1);

  self->filter.statuses = g_strsplit("Active", ",", -1);
  self->max_size = THREATQ_MATCH_DEFAULT_MAX_SIZE;
  return self;
}

void
threatq_match_source_free(ThreatqMatchSource *self)
{
  if (!self)
    return;
  threatq_match_shared_unref(self->shared);
  g_strfreev(self->filter.statuses);
  g_free(self->state_file);
  g_free(self->identity);
  g_free(self->persist_key);
  g_free(self->state_path);
  g_free(self);
}
