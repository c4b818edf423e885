/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq() source: options, lifecycle, and handing messages out under flow
 * control with the delivery-gated cursor.
 *
 * The reader thread (threatq-reader.c) requests and maps pages; syslog-ng's
 * fetcher thread takes them one at a time, builds their messages (rendering
 * MESSAGE) in bursts and posts them no faster than the window (log-iw-size())
 * allows, so flow control holds the paging back.  Every message carries a
 * bookmark; the cursor in the persist file moves to a page's nextCursorMark
 * only when the page's last message has been acknowledged.
 */
#include "threatq-source.h"
#include "threatq-client.h"
#include "threatq-compat.h"
#include "threatq-cursor.h"
#include "threatq-cursor-record.h"
#include "threatq-mapper.h"
#include "threatq-message.h"
#include "threatq-stats.h"
#include "threatq-reader.h"
#include "threatq-match-source.h"

#include "logthrsource/logthrfetcherdrv.h"
#include "ack-tracker/ack_tracker.h"
#include "ack-tracker/ack_tracker_factory.h"
#include "logmsg/tags.h"
#include "stats/stats-registry.h"
#include "messages.h"
#include "window-size-counter.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define THREATQ_CONFIG_ERROR g_quark_from_static_string("threatq-config-error")
#define THREATQ_DEFAULT_POLL_INTERVAL 60.0
/* polling faster than this only keeps the ThreatQ server busy */
#define THREATQ_MIN_POLL_INTERVAL 1.0
#define THREATQ_DEFAULT_IOC_EXPIRATION (90 * 24 * 3600)

typedef struct _ThreatqSourceDriver
{
  LogThreadedFetcherDriver super;
  ThreatqClientOptions client_options;
  gdouble poll_interval;
  gboolean preserve_original;
  gint64 ioc_expiration;
  gchar *feed_name;

  ThreatqMapperOptions mapper_options;
  gchar **tag_names;
  ThreatqClient *client;
  ThreatqCursorStore cursor_store;
  ThreatqStats stats;
  ThreatqMessageFactory *message_factory;

  ThreatqReaderOptions reader_options;
  ThreatqReader *reader;
  ThreatqMatchSource *match;    /* threatq-match(): the set this source feeds when a parser wants it */

  /* fetcher-thread state */
  GRefString *cursor;           /* the stored cursor, where the reader starts */
  ThreatqReaderPage *page;      /* the page being handed out: its documents, cursors */
} ThreatqSourceDriver;

/* options */

/* exactly "localhost", or an IP literal in 127.0.0.0/8 or ::1 (curl gives IPv6 hosts in brackets) */
static gboolean
_is_loopback_host(const gchar *host)
{
  struct in_addr v4;
  struct in6_addr v6;
  gsize length = strlen(host);

  if (g_ascii_strcasecmp(host, "localhost") == 0)
    return TRUE;
  if (inet_pton(AF_INET, host, &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  if (length > 2 && host[0] == '[' && host[length - 1] == ']')
    {
      gchar *bare = g_strndup(host + 1, length - 2);
      gboolean loopback = inet_pton(AF_INET6, bare, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
      g_free(bare);
      return loopback;
    }
  return FALSE;
}

static gboolean
_has_part(CURLU *parsed, CURLUPart part)
{
  gchar *value = NULL;
  gboolean present = curl_url_get(parsed, part, &value, 0) == CURLUE_OK && value && value[0];

  curl_free(value);
  return present;
}

/* NULL when the URL is acceptable, else its problem; never quotes the URL (it may hold a password) */
static const gchar *
_base_url_problem(CURLU *parsed, const gchar *url)
{
  gchar *scheme = NULL, *host = NULL;
  const gchar *problem = NULL;

  if (strlen(url) > THREATQ_CURSOR_URL_MAX)
    return "the URL is longer than 1023 characters";
  if (strpbrk(url, "?#"))
    return "a query (?...) or fragment (#...) is not allowed";
  /* libcurl reads "https:///host" as "https://host/": refuse the empty authority itself */
  const gchar *authority = strstr(url, "://");
  if (!authority || authority[3] == '/' || authority[3] == '\0')
    return "not an absolute http(s)://host[:port][/path] URL";
  if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK
      || curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
      || curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0])
    problem = "not an absolute http(s)://host[:port][/path] URL";
  else if (_has_part(parsed, CURLUPART_USER) || _has_part(parsed, CURLUPART_PASSWORD) || strchr(url, '@'))
    problem = "user information (user:password@) is not allowed; use client-id() and client-secret()";
  else if (g_ascii_strcasecmp(scheme, "https") != 0
           && !(g_ascii_strcasecmp(scheme, "http") == 0 && _is_loopback_host(host)))
    problem = "use https; plain http is accepted only for localhost, 127.0.0.0/8 or [::1]";

  curl_free(scheme);
  curl_free(host);
  return problem;
}

/* https, or http to a loopback address (for tests); returns the URL without trailing slashes. */
static gchar *
_validate_base_url(const gchar *url, GError **error)
{
  CURLU *parsed = curl_url();
  const gchar *problem = _base_url_problem(parsed, url);
  gchar *result = NULL;

  curl_url_cleanup(parsed);
  if (problem)
    {
      g_set_error(error, THREATQ_CONFIG_ERROR, 0, "%s", problem);
      return NULL;
    }
  result = g_strdup(url);
  gsize length = strlen(result);
  while (length > 0 && result[length - 1] == '/')
    result[--length] = '\0';
  return result;
}

gboolean
threatq_sd_set_url(LogDriver *s, const gchar *url, GError **error)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;
  gchar *validated = _validate_base_url(url, error);

  if (!validated)
    return FALSE;
  g_free(self->client_options.url);
  self->client_options.url = validated;
  return TRUE;
}

gboolean
threatq_sd_set_token_url(LogDriver *s, const gchar *url, GError **error)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;
  gchar *validated = _validate_base_url(url, error);

  if (!validated)
    return FALSE;
  g_free(self->client_options.token_url);
  self->client_options.token_url = validated;
  return TRUE;
}

static void
_replace_string(gchar **field, const gchar *value)
{
  g_free(*field);
  *field = g_strdup(value);
}

#define THREATQ_STRING_SETTER(option, field) \
  void threatq_sd_set_##option(LogDriver *s, const gchar *value) \
  { _replace_string(&((ThreatqSourceDriver *) s)->field, value); }

THREATQ_STRING_SETTER(collection, client_options.collection)
THREATQ_STRING_SETTER(client_id, client_options.client_id)
THREATQ_STRING_SETTER(fields, client_options.fields)
THREATQ_STRING_SETTER(proxy, client_options.proxy)
THREATQ_STRING_SETTER(user_agent, client_options.user_agent)
THREATQ_STRING_SETTER(feed_name, feed_name)
THREATQ_STRING_SETTER(ca_file, client_options.ca_file)
THREATQ_STRING_SETTER(ca_dir, client_options.ca_dir)
THREATQ_STRING_SETTER(cert_file, client_options.cert_file)
THREATQ_STRING_SETTER(key_file, client_options.key_file)
THREATQ_STRING_SETTER(cipher_suite, client_options.cipher_suite)

void
threatq_sd_set_client_secret(LogDriver *s, const gchar *client_secret)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  if (self->client_options.client_secret)
    memset(self->client_options.client_secret, 0, strlen(self->client_options.client_secret));
  _replace_string(&self->client_options.client_secret, client_secret);
}

void
threatq_sd_set_poll_interval(LogDriver *s, gdouble seconds)
{
  ((ThreatqSourceDriver *) s)->poll_interval = seconds;
}

void
threatq_sd_set_page_size(LogDriver *s, gint page_size)
{
  ((ThreatqSourceDriver *) s)->client_options.page_size = page_size;
}

void
threatq_sd_set_max_page_size(LogDriver *s, gsize bytes)
{
  ((ThreatqSourceDriver *) s)->client_options.max_page_size = bytes;
}

void
threatq_sd_set_timeout(LogDriver *s, gint seconds)
{
  ((ThreatqSourceDriver *) s)->client_options.timeout = seconds;
}

void
threatq_sd_set_preserve_original(LogDriver *s, gboolean preserve_original)
{
  ((ThreatqSourceDriver *) s)->preserve_original = preserve_original;
}

void
threatq_sd_set_ioc_expiration(LogDriver *s, gint64 seconds)
{
  ((ThreatqSourceDriver *) s)->ioc_expiration = seconds;
}

void
threatq_sd_set_peer_verify(LogDriver *s, gboolean peer_verify)
{
  ((ThreatqSourceDriver *) s)->client_options.peer_verify = peer_verify;
}

void
threatq_sd_set_use_system_cert_store(LogDriver *s, gboolean use_system_cert_store)
{
  ((ThreatqSourceDriver *) s)->client_options.use_system_cert_store = use_system_cert_store;
}

gboolean
threatq_sd_set_match_statuses(LogDriver *s, GList *statuses, GError **error)
{
  return threatq_match_source_set_statuses(((ThreatqSourceDriver *) s)->match, statuses, error);
}

void
threatq_sd_set_match_min_score(LogDriver *s, gdouble min_score)
{
  threatq_match_source_set_min_score(((ThreatqSourceDriver *) s)->match, min_score);
}

void
threatq_sd_set_match_max_size(LogDriver *s, gsize max_size)
{
  threatq_match_source_set_max_size(((ThreatqSourceDriver *) s)->match, max_size);
}

void
threatq_sd_set_match_state_file(LogDriver *s, const gchar *path)
{
  threatq_match_source_set_state_file(((ThreatqSourceDriver *) s)->match, path);
}

const gchar *
threatq_sd_missing_required_option(LogDriver *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  if (!self->client_options.url)
    return "url";
  if (!self->client_options.collection)
    return "collection";
  if (!self->client_options.client_id)
    return "client-id";
  if (!self->client_options.client_secret)
    return "client-secret";
  return NULL;
}

/* identity */

static const gchar *
_generate_persist_name(const LogPipe *s)
{
  const ThreatqSourceDriver *self = (const ThreatqSourceDriver *) s;
  static gchar persist_name[1024];

  /* log_pipe_get_persist_name() asks us even when persist-name() was given */
  if (s->persist_name)
    return s->persist_name;

  g_snprintf(persist_name, sizeof(persist_name), "threatq(%s,%s)",
             self->client_options.url, self->client_options.collection);
  return persist_name;
}

static void
_stats_labels(LogThreadedSourceDriver *s, ThreatqStatsLabels *labels)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  labels->driver_id = s->super.super.id;
  labels->url = self->client_options.url;
  labels->collection = self->client_options.collection;
  labels->persist_name = s->super.super.super.persist_name;
}

static const gchar *
_driver_id(ThreatqSourceDriver *self)
{
  return self->super.super.super.super.id;
}

/* handing out */

/*
 * Messages are built in bursts and then posted back to back: posted one at a
 * time, every few messages find the destination idle, and each such wakeup
 * costs the main loop and the writer more than posting the message.  A whole
 * default page per burst measured best (64 and 256 were ~8% slower).
 */
#define THREATQ_POST_BURST 1024

/* the page's last message moves the stored cursor past the page; the others keep it at the page */
static void
_bookmark(ThreatqSourceDriver *self, gboolean last_of_page)
{
  AckTracker *ack_tracker = threatq_compat_worker(&self->super.super)->ack_tracker;
  Bookmark *bookmark = ack_tracker_request_bookmark(ack_tracker);
  ThreatqReaderPage *page = self->page;

  threatq_cursor_fill_bookmark(bookmark, &self->cursor_store, last_of_page ? page->next_cursor : page->cursor);
}

/*
 * fetch() is called only when the window has room for one message.  Returning
 * one message per call costs an event-loop pass each, so post as many as the
 * window has room for here (a burst at most), and return the last one.
 */
static LogThreadedFetchResult
_hand_out_pending(ThreatqSourceDriver *self)
{
  LogSource *worker = threatq_compat_worker(&self->super.super);
  ThreatqReaderPage *page = self->page;
  gsize room = window_size_counter_get(&worker->window_size, NULL);
  guint count = MIN(MAX(room, 1), MIN(page->documents.length, THREATQ_POST_BURST));
  LogMessage *burst[THREATQ_POST_BURST];

  for (guint i = 0; i < count; i++)
    {
      ThreatqDocument *document = g_queue_pop_head(&page->documents);
      burst[i] = threatq_message_factory_build(self->message_factory, document);
      g_queue_push_tail(&page->spent, document);
    }

  gboolean page_done = g_queue_is_empty(&page->documents);
  for (guint i = 0; i + 1 < count; i++)
    {
      _bookmark(self, FALSE);
      threatq_compat_post(&self->super.super, burst[i]);
    }
  /*
   * Closed here, so that only the returned message waits for the next
   * fetch(): the burst fills the window, and a window full of messages in an
   * open batch would never be acknowledged.
   */
  threatq_compat_close_batch(&self->super.super);
  /* the bookmark of the message returned is taken up when the framework posts it */
  _bookmark(self, page_done);
  return (LogThreadedFetchResult) { THREADED_FETCH_SUCCESS, burst[count - 1] };
}

static gboolean
_has_pending(ThreatqSourceDriver *self)
{
  return self->page && !g_queue_is_empty(&self->page->documents);
}

/* Waits for the reader's next page: the reader, not a timer, keeps the paging rhythm. */
static LogThreadedFetchResult
_fetch(LogThreadedFetcherDriver *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  /* the message the last fetch() returned (the framework posted it after the call) */
  threatq_compat_close_batch(&self->super.super);
  while (!_has_pending(self))
    {
      self->page = threatq_reader_take(self->reader, g_steal_pointer(&self->page));
      if (!self->page)
        return (LogThreadedFetchResult) { THREADED_FETCH_NO_DATA, NULL };
    }
  return _hand_out_pending(self);
}

static void
_thread_init(LogThreadedFetcherDriver *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  /* every pipe is initialised by now: the parsers that want the set have said so */
  GRefString *start = threatq_match_source_start(self->match, &self->reader_options, self->cursor);
  threatq_reader_start(self->reader, start);
  g_ref_string_release(start);
}

static void
_thread_deinit(LogThreadedFetcherDriver *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  /* the thread must not end with an open batch (4.x asserts it) */
  threatq_compat_close_batch(&self->super.super);
  threatq_reader_request_stop(self->reader);
  threatq_reader_join(self->reader);
  /* not posted, so not acknowledged: the stored cursor still covers them */
  g_clear_pointer(&self->page, threatq_reader_page_free);
}

static void
_request_exit(LogThreadedFetcherDriver *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  threatq_reader_request_stop(self->reader);
}

/* lifecycle */

static void
_collect_tag_names(ThreatqSourceDriver *self)
{
  GArray *tags = self->super.super.worker_options.super.tags;
  guint count = tags ? tags->len : 0;

  g_strfreev(self->tag_names);
  self->tag_names = g_new0(gchar *, count + 1);
  for (guint i = 0; i < count; i++)
    self->tag_names[i] = g_strdup(log_tags_get_by_id(g_array_index(tags, LogTagId, i)));
}

static void
_resolve_poll_interval(ThreatqSourceDriver *self)
{
  if (self->poll_interval < 0)
    self->poll_interval = self->super.no_data_delay >= 0 ? self->super.no_data_delay / 1000.0
                          : THREATQ_DEFAULT_POLL_INTERVAL;
  /* poll-interval() itself is checked by the grammar; fetch-no-data-delay() is syslog-ng's own option */
  if (self->poll_interval < THREATQ_MIN_POLL_INTERVAL)
    {
      msg_warning("threatq: fetch-no-data-delay() is shorter than 1 second, polling every second instead",
                  evt_tag_str("driver", _driver_id(self)));
      self->poll_interval = THREATQ_MIN_POLL_INTERVAL;
    }
}

static void
_fill_mapper_options(ThreatqSourceDriver *self)
{
  _collect_tag_names(self);
  self->mapper_options.feed_name = self->feed_name;
  self->mapper_options.preserve_original = self->preserve_original;
  self->mapper_options.tags = (const gchar *const *) self->tag_names;
  self->mapper_options.ioc_expiration_seconds = self->ioc_expiration;
  /* more indicators than a page was asked for: the page is refused (docs/limits.md) */
  self->mapper_options.max_indicators = MAX((guint) self->client_options.page_size, THREATQ_DEFAULT_MAX_INDICATORS);
}

static void
_init_match(ThreatqSourceDriver *self, GlobalConfig *cfg, const gchar *persist_name)
{
  ThreatqMatchSourceContext context =
  {
    .source_name = self->super.super.super.super.group,
    .driver_id = _driver_id(self),
    .persist_name = persist_name,
    .url = self->client_options.url,
    .collection = self->client_options.collection,
    .ioc_expiration = self->ioc_expiration,
    .stats = &self->stats,
  };
  threatq_match_source_init(self->match, cfg, &context);
}

static gboolean
_init(LogPipe *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;
  GlobalConfig *cfg = log_pipe_get_config(s);

  _resolve_poll_interval(self);
  _fill_mapper_options(self);

  const gchar *persist_name = log_pipe_get_persist_name(s);
  if (!threatq_cursor_store_open(&self->cursor_store, cfg->state, _driver_id(self), persist_name,
                                 self->client_options.collection,
                                 self->client_options.url))
    {
      msg_error("threatq: cannot allocate the cursor in the persist file",
                evt_tag_str("driver", _driver_id(self)), evt_tag_str("persist_name", persist_name));
      return FALSE;
    }
  g_clear_pointer(&self->cursor, g_ref_string_release);
  self->cursor = threatq_cursor_store_load(&self->cursor_store);

  if (!self->client)
    self->client = threatq_client_new(&self->client_options, _driver_id(self));

  if (!log_threaded_fetcher_driver_init_method(s))
    return FALSE;
  threatq_compat_batches_init(&self->super.super);

  self->reader_options.mapper_options = &self->mapper_options;
  self->reader_options.stats = &self->stats;
  self->reader_options.driver_id = _driver_id(self);
  self->reader_options.collection = self->client_options.collection;
  self->reader_options.poll_interval = self->poll_interval;
  self->reader_options.max_backoff = (gint64) self->super.time_reopen * 1000;
  if (!self->reader)
    self->reader = threatq_reader_new(self->client, &self->reader_options);
  threatq_reader_reset(self->reader);
  /* fetch() only returns NO_DATA when stopping; the reader keeps the rhythm */
  self->super.no_data_delay = 1000;
  ThreatqStatsLabels labels;
  _stats_labels(&self->super.super, &labels);
  threatq_stats_register(&self->stats, self->super.super.worker_options.super.stats_source, &labels);
  threatq_message_factory_set_owner(self->message_factory, _driver_id(self), &self->stats);
  _init_match(self, cfg, log_pipe_get_persist_name(s));

  msg_info("threatq: source starting", evt_tag_str("driver", _driver_id(self)),
           evt_tag_str("url", self->client_options.url), evt_tag_str("collection", self->client_options.collection),
           evt_tag_str("cursor", self->cursor));
  return TRUE;
}

static gboolean
_deinit(LogPipe *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  threatq_stats_unregister(&self->stats);
  gboolean result = log_threaded_fetcher_driver_deinit_method(s);
  /* the reader thread has been joined: the set is nobody's to feed until the next start */
  threatq_match_source_deinit(self->match, log_pipe_get_config(s));
  return result;
}

static void
_free(LogPipe *s)
{
  ThreatqSourceDriver *self = (ThreatqSourceDriver *) s;

  threatq_reader_free(self->reader);
  threatq_match_source_free(self->match);
  g_clear_pointer(&self->page, threatq_reader_page_free);
  threatq_client_free(self->client);
  threatq_message_factory_free(self->message_factory);
  g_clear_pointer(&self->cursor, g_ref_string_release);
  threatq_client_options_destroy(&self->client_options);
  g_free(self->feed_name);
  g_strfreev(self->tag_names);
  log_threaded_fetcher_driver_free_method(s);
}

gboolean
threatq_sd_is_threatq(LogPipe *s)
{
  return s->free_fn == _free;
}

LogDriver *
threatq_sd_new(GlobalConfig *cfg)
{
  ThreatqSourceDriver *self = g_new0(ThreatqSourceDriver, 1);

  log_threaded_fetcher_driver_init_instance(&self->super, cfg);
  threatq_client_options_defaults(&self->client_options);
  self->poll_interval = -1;
  self->ioc_expiration = THREATQ_DEFAULT_IOC_EXPIRATION;
  self->feed_name = g_strdup("ThreatQuotient");
  self->message_factory = threatq_message_factory_new();
  self->match = threatq_match_source_new();

  self->super.fetch = _fetch;
  self->super.thread_init = _thread_init;
  self->super.thread_deinit = _thread_deinit;
  self->super.request_exit = _request_exit;
  threatq_compat_set_stats_labels(&self->super.super, _stats_labels);
  self->super.super.worker_options.ack_tracker_factory = consecutive_ack_tracker_factory_new();
  self->super.super.worker_options.super.stats_level = STATS_LEVEL0;
  self->super.super.worker_options.super.stats_source = stats_register_type("threatq");

  self->super.super.super.super.super.init = _init;
  self->super.super.super.super.super.deinit = _deinit;
  self->super.super.super.super.super.free_fn = _free;
  self->super.super.super.super.super.generate_persist_name = _generate_persist_name;
  return &self->super.super.super.super;
}
