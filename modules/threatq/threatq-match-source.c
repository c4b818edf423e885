/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-source.h"
#include "threatq-match-feed.h"
#include "threatq-match-registry.h"
#include "threatq-match-snapshot.h"
#include "threatq-cursor.h"
#include "threatq-compat.h"
#include "messages.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
  gboolean owner;               /* this driver feeds the entry (the first threatq() of its source statement) */
  gchar *identity;              /* collection, URL and the filter options: a set of another identity is not reused */
  gchar *persist_key;
  gchar *state_path;            /* match-state-file(), or the default next to the persist file */

  /* reader thread, from start until the reader is joined */
  ThreatqMatchSet *set;
  ThreatqMatchSnapshot *snapshot; /* the set's file (NULL: not saved); travels with the set across a reload */
  gboolean snapshot_behind;     /* a commit failed and no rewrite has worked since (logged once) */
  gboolean compact_failing;     /* the last rewrite failed (logged once) */
  gint64 last_purge;
};

/* what a reload hands to the next configuration */
typedef struct _ThreatqMatchHandover
{
  ThreatqMatchShared *shared;
  gchar *identity;
  gchar *state_path;
  ThreatqMatchSnapshot *snapshot;
} ThreatqMatchHandover;

static void
_handover_free(gpointer data)
{
  ThreatqMatchHandover *handover = data;

  threatq_match_shared_unref(handover->shared);
  g_clear_pointer(&handover->snapshot, threatq_match_snapshot_free);
  g_free(handover->identity);
  g_free(handover->state_path);
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
  if (strcmp(handover->identity, self->identity) != 0 || strcmp(handover->state_path, self->state_path) != 0)
    {
      msg_warning("threatq: match options, URL, collection or match-state-file() changed across the reload, "
                  "the indicator set is rebuilt", evt_tag_str("driver", self->context.driver_id));
      threatq_match_set_free(set);
      return;
    }
  threatq_match_shared_attach_set(self->shared, set);
  self->snapshot = g_steal_pointer(&handover->snapshot);
}

gboolean
threatq_match_source_init(ThreatqMatchSource *self, GlobalConfig *cfg, const ThreatqMatchSourceContext *context)
{
  _copy_context(self, context);
  _resolve_state_path(self, cfg);
  /* log_pipe_get_persist_name() may give a static buffer: used above, not kept */
  self->context.persist_name = NULL;
  g_assert(!self->shared);
  self->shared = threatq_match_registry_acquire(context->source_name);
  self->owner = threatq_match_shared_claim(self->shared, self);

  ThreatqMatchHandover *handover = cfg_persist_config_fetch(cfg, self->persist_key);
  if (handover)
    {
      if (self->owner)
        _take_over(self, handover);
      _handover_free(handover);
    }
  else if (self->owner && threatq_match_shared_get_set(self->shared))
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
  if (!self->owner)
    {
      g_clear_pointer(&self->shared, threatq_match_shared_unref);
      return;
    }

  /* the parsers of the next configuration say again whether they want it */
  threatq_match_shared_forget_wants(self->shared);
  threatq_match_shared_release(self->shared, self);
  self->owner = FALSE;
  ThreatqMatchHandover *handover = g_new0(ThreatqMatchHandover, 1);
  handover->shared = g_steal_pointer(&self->shared);
  handover->identity = g_strdup(self->identity);
  handover->state_path = g_strdup(self->state_path);
  handover->snapshot = g_steal_pointer(&self->snapshot);
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

/* snapshot (threatq-match-snapshot.h): the file that lets a restart resume the set */

/* only a regular file: a match-state-file() that names a device or a link is never removed */
static gboolean
_remove_state_file(ThreatqMatchSource *self)
{
  struct stat st;

  if (lstat(self->state_path, &st) < 0 || !S_ISREG(st.st_mode))
    return FALSE;
  if (_remove_state_file(self))
    return TRUE;
  msg_error("threatq: cannot remove match-state-file()", evt_tag_str("driver", self->context.driver_id),
            evt_tag_str("file", self->state_path), evt_tag_error("error"));
  return FALSE;
}

/*
 * After a failed commit the file may be behind the stored cursor, and the next start must not
 * load it (it would resume with indicators missing): it goes, and that start reads the collection
 * again.  The snapshot then refuses commits until maybe_compact() has rewritten it from the set.
 */
static void
_commit_failed(ThreatqMatchSource *self, const GError *error)
{
  if (self->snapshot_behind)
    return;
  self->snapshot_behind = TRUE;
  msg_error("threatq: cannot write match-state-file(), it is removed so that a restart reads the collection again",
            evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path),
            evt_tag_str("error", error ? error->message : "unknown"));
  _remove_state_file(self);
}

static void
_journal(gint64 id, gboolean present, gpointer user_data)
{
  ThreatqMatchSource *self = user_data;
  const ThreatqMatchEntry *entry = present ? threatq_match_set_find_id(self->set, id) : NULL;

  if (entry)
    threatq_match_snapshot_append_entry(self->snapshot, entry);
  else
    threatq_match_snapshot_append_remove(self->snapshot, id);
}

/* after the page is applied: its changes and the cursor after it, before the fetcher can post it */
static void
_save_page(ThreatqMatchSource *self, const gchar *next_cursor)
{
  GError *error = NULL;

  if (!threatq_match_snapshot_commit(self->snapshot, next_cursor, &error))
    {
      _commit_failed(self, error);
      g_clear_error(&error);
    }
  /* TRUE after a failed commit means the file was rewritten whole from the set */
  if (!threatq_match_snapshot_maybe_compact(self->snapshot, self->set, next_cursor, &error))
    {
      /* a failed rewrite leaves the file as it was (temporary file and rename) */
      if (!self->snapshot_behind && !self->compact_failing)
        msg_warning("threatq: cannot compact match-state-file(), it keeps growing until a rewrite works",
                    evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path),
                    evt_tag_str("error", error->message));
      self->compact_failing = TRUE;
      g_clear_error(&error);
      return;
    }
  self->compact_failing = FALSE;
  if (self->snapshot_behind)
    {
      self->snapshot_behind = FALSE;
      msg_info("threatq: match-state-file() written again from the indicator set",
               evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path));
    }
}

/* feeding */

static void
_page_hook(ThreatqReaderPage *page, gpointer user_data)
{
  ThreatqMatchSource *self = user_data;
  ThreatqMatchFeedCounts counts;
  gint64 now = (gint64) time(NULL);

  threatq_match_feed_apply(&self->filter, self->set, &page->documents, now, self->snapshot ? _journal : NULL, self,
                           &counts);
  if (self->snapshot)
    _save_page(self, page->next_cursor);
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

/* start */

/* no parser wants the set: stop feeding it, free it (no parser reads it either), and drop its file, which would go stale */
static GRefString *
_start_unwanted(ThreatqMatchSource *self, ThreatqReaderOptions *reader_options, GRefString *stored_cursor)
{
  ThreatqMatchSet *set = threatq_match_shared_take_set(self->shared);

  if (set)
    threatq_match_set_free(set);
  self->set = NULL;
  g_clear_pointer(&self->snapshot, threatq_match_snapshot_free);
  _update_counters(self);
  if (unlink(self->state_path) == 0)
    msg_info("threatq: no threatq-match() parser names this source any more, match-state-file() removed",
             evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path));
  reader_options->page_hook = NULL;
  reader_options->page_hook_data = NULL;
  return g_ref_string_acquire(stored_cursor);
}

/* the set from the snapshot file; FALSE when there is none to resume (a new file is started either way, when it opens) */
static gboolean
_load_snapshot(ThreatqMatchSource *self)
{
  GError *error = NULL;
  gchar *position = NULL;

  self->snapshot = threatq_match_snapshot_open(self->state_path, self->identity, &error);
  if (!self->snapshot)
    {
      msg_error("threatq: cannot open match-state-file(), the indicator set is not saved for a restart",
                evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path),
                evt_tag_str("error", error->message));
      g_error_free(error);
      return FALSE;
    }

  gboolean loaded = threatq_match_snapshot_load(self->snapshot, self->set, &position);
  const GError *problem = threatq_match_snapshot_get_error(self->snapshot);
  if (problem)
    msg_warning(loaded ? "threatq: match-state-file() was cut at its last complete page"
                : "threatq: match-state-file() cannot be used",
                evt_tag_str("driver", self->context.driver_id), evt_tag_str("file", self->state_path),
                evt_tag_str("reason", problem->message));
  if (loaded)
    {
      threatq_match_set_purge_expired(self->set, (gint64) time(NULL));
      ThreatqMatchSetStats stats;
      threatq_match_set_get_stats(self->set, &stats);
      msg_info("threatq: indicator set loaded from match-state-file()", evt_tag_str("driver", self->context.driver_id),
               evt_tag_str("file", self->state_path), evt_tag_long("entries", stats.entries),
               evt_tag_str("position", position));
    }
  g_free(position);
  return loaded;
}

/* a new set, from the snapshot when there is one; the cursor the reader starts from */
static GRefString *
_build_set(ThreatqMatchSource *self, GRefString *stored_cursor)
{
  self->set = threatq_match_set_new(self->max_size);
  gboolean resumed = _load_snapshot(self);
  threatq_match_shared_attach_set(self->shared, self->set);

  if (resumed || strcmp(stored_cursor, THREATQ_CURSOR_START) == 0)
    return g_ref_string_acquire(stored_cursor);
  msg_warning("threatq: a threatq-match() parser needs the indicator set and there is none to resume, "
              "reading the collection from the start again (its indicators are posted again)",
              evt_tag_str("driver", self->context.driver_id), evt_tag_str("cursor", stored_cursor),
              evt_tag_str("file", self->state_path));
  return g_ref_string_new(THREATQ_CURSOR_START);
}

GRefString *
threatq_match_source_start(ThreatqMatchSource *self, ThreatqReaderOptions *reader_options, GRefString *stored_cursor)
{
  if (!self->owner)
    {
      if (threatq_match_shared_is_wanted(self->shared))
        msg_warning("threatq: another threatq() of this source statement feeds the threatq-match() set, this one does not",
                    evt_tag_str("driver", self->context.driver_id),
                    evt_tag_str("source", threatq_match_shared_get_name(self->shared)));
      reader_options->page_hook = NULL;
      reader_options->page_hook_data = NULL;
      return g_ref_string_acquire(stored_cursor);
    }
  if (!threatq_match_shared_is_wanted(self->shared))
    return _start_unwanted(self, reader_options, stored_cursor);

  GRefString *cursor;
  self->set = threatq_match_shared_get_set(self->shared);
  if (self->set)
    cursor = g_ref_string_acquire(stored_cursor);   /* handed over by a reload, with its snapshot */
  else
    cursor = _build_set(self, stored_cursor);
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
  if (self->shared && self->owner)
    threatq_match_shared_release(self->shared, self);
  threatq_match_shared_unref(self->shared);
  g_clear_pointer(&self->snapshot, threatq_match_snapshot_free);
  g_strfreev(self->filter.statuses);
  g_free(self->state_file);
  g_free(self->identity);
  g_free(self->persist_key);
  g_free(self->state_path);
  g_free(self);
}
