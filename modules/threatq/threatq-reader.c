/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-reader.h"
#include "threatq-cursor-record.h"
#include "threatq-http-policy.h"
#include "messages.h"

#include <string.h>

struct _ThreatqReader
{
  ThreatqClient *client;
  const ThreatqReaderOptions *options;
  GThread *thread;

  GMutex lock;
  GCond changed;                /* a page was taken or published, or stop was asked */
  gboolean stopping;
  gint stop_flag;               /* the same, read without the lock by the page parser */
  ThreatqReaderPage *ready;     /* at most one page ahead: memory stays bounded by the page size */
  GQueue finished;              /* pages given back, to free in the reader thread */

  /* reader-thread state */
  GRefString *cursor;
  guint failures;
  GString *body;                /* response bodies, reused from page to page */
};

void
threatq_reader_page_free(ThreatqReaderPage *page)
{
  ThreatqDocument *document;

  if (!page)
    return;
  while ((document = g_queue_pop_head(&page->documents)))
    threatq_document_free(document);
  while ((document = g_queue_pop_head(&page->spent)))
    threatq_document_free(document);
  g_clear_pointer(&page->cursor, g_ref_string_release);
  g_clear_pointer(&page->next_cursor, g_ref_string_release);
  g_free(page);
}

/* paging rhythm; each returns how long to wait before the next request, in ms */

/* the back-off, or at_least_msec when the server asked for longer (Retry-After): the log names the real wait */
static gint64
_back_off(ThreatqReader *self, gint64 at_least_msec)
{
  gint64 delay = MAX(at_least_msec, threatq_http_backoff_msec(self->failures, self->options->max_backoff,
                                                              g_random_int()));

  self->failures++;
  msg_info("threatq: retrying the same cursor later", evt_tag_str("driver", self->options->driver_id),
           evt_tag_long("delay_ms", delay), evt_tag_int("failures", self->failures));
  return delay;
}

static gint64
_end_cycle(ThreatqReader *self)
{
  self->failures = 0;
  threatq_stats_set(self->options->stats, THREATQ_STAT_LAST_SYNC, (gsize) time(NULL));
  msg_debug("threatq: collection drained, waiting for poll-interval()",
            evt_tag_str("driver", self->options->driver_id), evt_tag_str("cursor", self->cursor));
  return (gint64) (self->options->poll_interval * 1000);
}

/* server-derived text in a log line: a few hundred bytes at most, whatever the server sent */
static gchar *
_excerpt(const gchar *text)
{
  return threatq_http_excerpt(text, text ? strlen(text) : 0, THREATQ_LOG_EXCERPT_MAX);
}

static void
_log_request_failure(ThreatqReader *self, const ThreatqResponse *response, const gchar *page_url)
{
  gchar *error = _excerpt(response->error);

  msg_error("threatq: ThreatQ request failed",
            evt_tag_str("driver", self->options->driver_id),
            evt_tag_str("url", page_url),
            evt_tag_str("collection", self->options->collection),
            evt_tag_long("status", response->http_code),
            evt_tag_str("error", error));
  g_free(error);
}

static gint64
_handle_failed_request(ThreatqReader *self, const ThreatqResponse *response, const gchar *page_url)
{
  ThreatqStats *stats = self->options->stats;

  /* name the request that failed */
  if (response->from_token_request)
    page_url = threatq_client_token_url(self->client);

  if (response->status == THREATQ_RESPONSE_ABORTED)
    {
      msg_debug("threatq: request aborted, the source is stopping",
                evt_tag_str("driver", self->options->driver_id));
      return 0;
    }

  threatq_stats_add(stats, THREATQ_STAT_HTTP_ERRORS, 1);
  switch (response->status)
    {
    case THREATQ_RESPONSE_RATE_LIMITED:
      /* already capped at THREATQ_MAX_RETRY_AFTER_SEC by threatq_http_parse_retry_after(); never
       * shorter than the back-off, so that "Retry-After: 0" cannot make us loop */
      if (response->retry_after >= 0)
        {
          gint64 wait = response->retry_after;
          msg_warning("threatq: ThreatQ asked us to slow down (HTTP 429), waiting for Retry-After",
                      evt_tag_str("driver", self->options->driver_id), evt_tag_str("collection", self->options->collection),
                      evt_tag_long("retry_after", wait));
          return _back_off(self, wait * 1000);
        }
      _log_request_failure(self, response, page_url);
      return _back_off(self, 0);
    case THREATQ_RESPONSE_AUTH_FAILED:
      threatq_stats_add(stats, THREATQ_STAT_AUTH_FAILURES, 1);
      {
        gchar *error = _excerpt(response->error);
        msg_error("threatq: authentication with ThreatQ failed; check client-id(), client-secret() and token-url()",
                  evt_tag_str("driver", self->options->driver_id), evt_tag_str("url", page_url),
                  evt_tag_long("status", response->http_code), evt_tag_str("error", error));
        g_free(error);
      }
      return _back_off(self, 0);
    default:
      _log_request_failure(self, response, page_url);
      return _back_off(self, 0);
    }
}

static gint64
_reject_page(ThreatqReader *self, const ThreatqResponse *response, const gchar *page_url, const gchar *problem)
{
  gchar *error = _excerpt(problem);

  threatq_stats_add(self->options->stats, THREATQ_STAT_MALFORMED_PAGES, 1);
  msg_error("threatq: ThreatQ answered with a page that cannot be used, retrying the same cursor later",
            evt_tag_str("driver", self->options->driver_id),
            evt_tag_str("url", page_url),
            evt_tag_str("collection", self->options->collection),
            evt_tag_long("status", response->http_code),
            evt_tag_str("error", error));
  g_free(error);
  return _back_off(self, 0);
}

/* hand-over */

static void
_queue_document(ThreatqDocument *document, gpointer user_data)
{
  g_queue_push_tail(&((ThreatqReaderPage *) user_data)->documents, document);
}

/* The slot is free: _run() reads a page only after _wait_for_room().  FALSE when stopping. */
static gboolean
_publish(ThreatqReader *self, ThreatqReaderPage *page)
{
  g_mutex_lock(&self->lock);
  gboolean published = !self->stopping;
  if (published)
    {
      g_assert(!self->ready);
      self->ready = page;
      g_cond_broadcast(&self->changed);
    }
  g_mutex_unlock(&self->lock);

  if (!published)
    threatq_reader_page_free(page);
  return published;
}

static void
_count_page(ThreatqReader *self, const ThreatqPageSummary *parsed, const gchar *page_url)
{
  threatq_stats_add(self->options->stats, THREATQ_STAT_PAGES, 1);
  threatq_stats_add(self->options->stats, THREATQ_STAT_MALFORMED_ITEMS, parsed->malformed_items);
  if (parsed->malformed_items > 0)
    msg_warning("threatq: elements of the page's data are not JSON objects and were skipped",
                evt_tag_str("driver", self->options->driver_id), evt_tag_str("url", page_url),
                evt_tag_int("skipped", parsed->malformed_items));
}

/* NULL when the nextCursorMark of a page with data can be used, else why not (in text) */
static const gchar *
_next_cursor_problem(const ThreatqPageSummary *parsed, gchar *text, gsize size)
{
  if (!parsed->next_cursor || !parsed->next_cursor[0])
    return "the page has data but no nextCursorMark";
  /* a cursor the next request or the persist entry cannot hold is a page that cannot be used */
  if (!threatq_cursor_is_valid(parsed->next_cursor, strlen(parsed->next_cursor), text, size))
    return text;
  return NULL;
}

static gint64
_accept_page(ThreatqReader *self, const ThreatqResponse *response, const gchar *page_url)
{
  ThreatqReaderPage *page = g_new0(ThreatqReaderPage, 1);
  ThreatqPageSummary parsed = { 0 };
  GError *error = NULL;
  gint64 delay;

  if (!threatq_mapper_parse_page(response->body->str, response->body->len, self->options->mapper_options,
                                 response->received_at, _queue_document, page, &self->stop_flag, &parsed, &error))
    {
      threatq_reader_page_free(page);
      /* stopping: _run() sees it next, nothing to count or log */
      if (g_error_matches(error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_STOPPED))
        delay = 0;
      else
        delay = _reject_page(self, response, page_url, error->message);
      g_error_free(error);
      threatq_page_summary_clear(&parsed);
      return delay;
    }

  _count_page(self, &parsed, page_url);

  if (parsed.documents + parsed.malformed_items == 0)
    {
      threatq_reader_page_free(page);
      threatq_page_summary_clear(&parsed);
      return _end_cycle(self);
    }
  gchar problem_text[128];
  const gchar *problem = _next_cursor_problem(&parsed, problem_text, sizeof(problem_text));
  if (problem)
    {
      threatq_reader_page_free(page);
      threatq_page_summary_clear(&parsed);
      return _reject_page(self, response, page_url, problem);
    }

  self->failures = 0;
  threatq_stats_add(self->options->stats, THREATQ_STAT_INDICATORS, page->documents.length);
  gboolean cycle_ends = g_str_equal(parsed.next_cursor, self->cursor);
  page->cursor = g_ref_string_acquire(self->cursor);
  page->next_cursor = g_ref_string_new(parsed.next_cursor);
  g_ref_string_release(self->cursor);
  self->cursor = g_ref_string_acquire(page->next_cursor);
  threatq_page_summary_clear(&parsed);

  msg_debug("threatq: page received", evt_tag_str("driver", self->options->driver_id),
            evt_tag_str("url", page_url), evt_tag_int("indicators", page->documents.length),
            evt_tag_str("next_cursor", self->cursor));

  /* threatq-match(): the set is updated before any message of the page can be posted (docs/match-source.md) */
  if (self->options->page_hook)
    self->options->page_hook(page, self->options->page_hook_data);

  if (!_publish(self, page))
    return 0;
  return cycle_ends ? _end_cycle(self) : 0;
}

/*
 * A buffer once grown to an outsized page (up to max-page-size()) is not kept: the usual page of
 * 1000 indicators is 2 MiB, and idle memory stays bounded between sync cycles.
 */
#define THREATQ_READER_BODY_KEEP (8 * 1024 * 1024)

static void
_trim_body(ThreatqReader *self)
{
  if (self->body->allocated_len <= THREATQ_READER_BODY_KEEP)
    return;
  g_string_free(self->body, TRUE);
  self->body = g_string_sized_new(64 * 1024);
}

static gint64
_read_page(ThreatqReader *self)
{
  ThreatqResponse response;
  gint64 delay;

  threatq_response_init(&response, self->body);
  threatq_client_fetch_page(self->client, self->cursor, &response);
  /* every log line of this request names the URL: cut once */
  gchar *full_url = threatq_client_format_page_url(self->client, self->cursor);
  gchar *page_url = _excerpt(full_url);
  g_free(full_url);

  if (response.status == THREATQ_RESPONSE_OK)
    delay = _accept_page(self, &response, page_url);
  else
    delay = _handle_failed_request(self, &response, page_url);

  g_free(page_url);
  threatq_response_clear(&response);
  _trim_body(self);
  return delay;
}

/* FALSE when stopping */
static gboolean
_wait(ThreatqReader *self, gint64 delay_msec)
{
  gint64 until = g_get_monotonic_time() + delay_msec * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock(&self->lock);
  while (!self->stopping && g_cond_wait_until(&self->changed, &self->lock, until))
    ;
  gboolean stopping = self->stopping;
  g_mutex_unlock(&self->lock);
  return !stopping;
}

static void
_free_finished(GQueue *finished)
{
  ThreatqReaderPage *page;

  while ((page = g_queue_pop_head(finished)))
    threatq_reader_page_free(page);
}

/* Waits until the page read ahead has been taken; FALSE when stopping instead. */
static gboolean
_wait_for_room(ThreatqReader *self)
{
  GQueue finished = G_QUEUE_INIT;

  g_mutex_lock(&self->lock);
  while (self->ready && !self->stopping)
    g_cond_wait(&self->changed, &self->lock);
  gboolean stopping = self->stopping;
  finished = self->finished;
  g_queue_init(&self->finished);
  g_mutex_unlock(&self->lock);

  _free_finished(&finished);
  return !stopping;
}

/* One page is handed out by the fetcher while the next one is read: never more ahead. */
static gpointer
_run(gpointer user_data)
{
  ThreatqReader *self = user_data;
  gint64 delay = 0;

  while ((delay <= 0 || _wait(self, delay)) && _wait_for_room(self))
    delay = _read_page(self);
  return NULL;
}

/* the fetcher side */

ThreatqReaderPage *
threatq_reader_take(ThreatqReader *self, ThreatqReaderPage *finished)
{
  g_mutex_lock(&self->lock);
  if (finished)
    g_queue_push_tail(&self->finished, finished);
  while (!self->ready && !self->stopping)
    g_cond_wait(&self->changed, &self->lock);
  ThreatqReaderPage *page = self->stopping ? NULL : self->ready;
  if (page)
    {
      self->ready = NULL;
      g_cond_broadcast(&self->changed);
    }
  g_mutex_unlock(&self->lock);
  return page;
}

void
threatq_reader_reset(ThreatqReader *self)
{
  g_assert(!self->thread);

  g_mutex_lock(&self->lock);
  self->stopping = FALSE;
  g_atomic_int_set(&self->stop_flag, 0);
  g_mutex_unlock(&self->lock);
  threatq_client_resume(self->client);
}

void
threatq_reader_start(ThreatqReader *self, GRefString *cursor)
{
  g_assert(!self->thread);

  g_clear_pointer(&self->cursor, g_ref_string_release);
  self->cursor = g_ref_string_acquire(cursor);
  self->failures = 0;
  /* a stop asked before the worker got here stays asked: no thread, take() returns NULL */
  g_mutex_lock(&self->lock);
  gboolean stopping = self->stopping;
  g_mutex_unlock(&self->lock);
  if (!stopping)
    self->thread = g_thread_new("threatq-reader", _run, self);
}

void
threatq_reader_request_stop(ThreatqReader *self)
{
  g_mutex_lock(&self->lock);
  self->stopping = TRUE;
  g_atomic_int_set(&self->stop_flag, 1);
  g_cond_broadcast(&self->changed);
  g_mutex_unlock(&self->lock);
  threatq_client_abort(self->client);
}

void
threatq_reader_join(ThreatqReader *self)
{
  if (!self->thread)
    return;
  g_thread_join(self->thread);
  self->thread = NULL;
  g_clear_pointer(&self->ready, threatq_reader_page_free);
  _free_finished(&self->finished);
}

ThreatqReader *
threatq_reader_new(ThreatqClient *client, const ThreatqReaderOptions *options)
{
  ThreatqReader *self = g_new0(ThreatqReader, 1);

  self->client = client;
  self->options = options;
  g_mutex_init(&self->lock);
  g_cond_init(&self->changed);
  g_queue_init(&self->finished);
  self->body = g_string_sized_new(64 * 1024);
  return self;
}

void
threatq_reader_free(ThreatqReader *self)
{
  if (!self)
    return;
  threatq_reader_request_stop(self);
  threatq_reader_join(self);
  g_clear_pointer(&self->cursor, g_ref_string_release);
  g_string_free(self->body, TRUE);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->changed);
  g_free(self);
}
