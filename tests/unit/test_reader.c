/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-reader: the reader thread against a stub ThreatQ (http-stub.c).
 * Pages reach take() in order; the cursor moves only with a nextCursorMark
 * that can be used; failures back off, 429 waits for Retry-After; a stop ends
 * a request in flight or a wait promptly; the hand-over slot holds one page.
 * Every wait is for a condition, with a deadline; timings are asserted only
 * as lower bounds (the machine may be slow, never fast).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-reader.h"
#include "threatq-cursor-record.h"
#include "apphook.h"
#include "http-stub.h"
#include "log-capture.h"

#define CLIENT_SECRET "cs-SECRET-5a4b3c"
#define ACCESS_TOKEN "tq-ACCESS-9f8e7d"
#define PAGES_PATH "/api/indicators/"
/* a bound for "it happened", far above what it takes on an idle machine */
#define DEADLINE_MSEC 20000

/* What the stub ThreatQ answers; the test changes it between phases, under lock. */
typedef struct
{
  GMutex lock;
  guint pages;                  /* "*" -> c1 -> ... -> c<pages>, which is empty (drained) */
  guint failures;               /* page requests still to answer with failure_status */
  gint failure_status;
  gchar failure_headers[64];
  gboolean hang;                /* page requests get no answer */
  gchar bad_cursor[8];          /* the first answer for this cursor has bad_next as its nextCursorMark member */
  gchar bad_next[1100];
  gboolean not_json;            /* the next page answer is not JSON */
  gboolean refuse_token;
} PageServer;

static void
_reply_page(PageServer *server, const gchar *cursor, HttpStubReply *reply)
{
  guint index = g_str_equal(cursor, "*") ? 0 : (guint) g_ascii_strtoull(cursor + 1, NULL, 10);
  GString *body = g_string_new("{\"total\":99,\"data\":[");

  if (index < server->pages)
    g_string_append_printf(body, "{\"id\":%u,\"value\":\"10.0.%u.1\",\"type\":{\"name\":\"IP Address\"}},"
                           "{\"id\":%u,\"value\":\"10.0.%u.2\",\"type\":{\"name\":\"IP Address\"}}",
                           2 * index + 1, index, 2 * index + 2, index);
  g_string_append(body, "],");
  if (server->bad_cursor[0] && g_str_equal(cursor, server->bad_cursor))
    {
      g_string_append(body, server->bad_next);
      server->bad_cursor[0] = '\0';
    }
  else
    g_string_append_printf(body, "\"nextCursorMark\":\"c%u\"", MIN(index + 1, server->pages));
  g_string_append(body, "}");
  if (server->not_json)
    {
      g_string_assign(body, "<html>502 Bad Gateway</html>");
      server->not_json = FALSE;
    }
  http_stub_reply_json(reply, 200, body->str);
  g_string_free(body, TRUE);
}

static void
_handle(const HttpStubRequest *request, HttpStubReply *reply, gpointer user_data)
{
  PageServer *server = user_data;

  g_mutex_lock(&server->lock);
  if (g_str_equal(request->target, "/api/token"))
    {
      if (server->refuse_token)
        http_stub_reply_json(reply, 401, "{\"error\":\"invalid_client\"}");
      else
        http_stub_reply_json(reply, 200, "{\"access_token\":\"" ACCESS_TOKEN "\",\"expires_in\":3600}");
    }
  else if (server->hang)
    reply->hang = TRUE;
  else if (server->failures > 0)
    {
      server->failures--;
      http_stub_reply(reply, server->failure_status, server->failure_headers, "{}", 2);
    }
  else
    {
      gchar *cursor = http_stub_request_query(request, "cursorMark");
      _reply_page(server, cursor, reply);
      g_free(cursor);
    }
  g_mutex_unlock(&server->lock);
}

static PageServer server;
static HttpStub *stub;
static ThreatqClientOptions client_options;
static ThreatqClient *client;
static ThreatqMapperOptions mapper_options = { .feed_name = "ThreatQuotient" };
static StatsCounterItem counters[THREATQ_STAT_MAX];
static ThreatqStats stats;
static ThreatqReaderOptions reader_options;
static ThreatqReader *reader;

static void
_setup(void)
{
  app_startup();
  log_capture_start();
  g_mutex_init(&server.lock);
  server.pages = 3;
  stub = http_stub_new(_handle, &server);

  threatq_client_options_defaults(&client_options);
  client_options.url = g_strdup(http_stub_url(stub));
  client_options.collection = g_strdup("coll");
  client_options.client_id = g_strdup("tq-client");
  client_options.client_secret = g_strdup(CLIENT_SECRET);
  client_options.timeout = 30;
  client = threatq_client_new(&client_options, "tq-test");

  for (gint i = 0; i < THREATQ_STAT_MAX; i++)
    stats.counters[i] = &counters[i];
  reader_options = (ThreatqReaderOptions)
  {
    .mapper_options = &mapper_options, .stats = &stats, .driver_id = "tq-test", .collection = "coll",
    .poll_interval = 0.3, .max_backoff = 1000,
  };
  reader = threatq_reader_new(client, &reader_options);
  threatq_reader_reset(reader);
}

static void
_teardown(void)
{
  threatq_reader_free(reader);
  threatq_client_free(client);
  http_stub_free(stub);
  threatq_client_options_destroy(&client_options);
  log_capture_stop();
  app_shutdown();
}

/* a test that hangs (a stop that does not work) fails instead of stalling the suite */
TestSuite(reader, .init = _setup, .fini = _teardown, .timeout = 120);

static void
_start(const gchar *cursor_text)
{
  GRefString *cursor = g_ref_string_new(cursor_text);

  threatq_reader_start(reader, cursor);
  g_ref_string_release(cursor);
}

static gsize
_stat(ThreatqStat stat)
{
  return stats_counter_get(&counters[stat]);
}

/* the cursorMark of the index-th page request */
static gchar *
_requested_cursor(guint index)
{
  guint seen = 0;

  for (guint i = 0; i < http_stub_request_count(stub); i++)
    {
      HttpStubRequest *request = http_stub_request(stub, i);
      gchar *cursor = g_str_has_prefix(request->target, PAGES_PATH) && seen++ == index
                      ? http_stub_request_query(request, "cursorMark") : NULL;
      http_stub_request_free(request);
      if (cursor)
        return cursor;
    }
  return NULL;
}

static gint64
_page_request_time(guint index)
{
  guint seen = 0;

  for (guint i = 0; i < http_stub_request_count(stub); i++)
    {
      HttpStubRequest *request = http_stub_request(stub, i);
      gint64 at = g_str_has_prefix(request->target, PAGES_PATH) && seen++ == index ? request->received_at : -1;
      http_stub_request_free(request);
      if (at >= 0)
        return at;
    }
  cr_assert_fail("no page request %u", index);
  return -1;
}

static void
_assert_requested(guint index, const gchar *expected)
{
  gchar *cursor = _requested_cursor(index);

  cr_assert_str_eq(cursor, expected, "page request %u", index);
  g_free(cursor);
}

static gboolean
_wait_page_requests(guint count, gint64 timeout_msec)
{
  gint64 until = g_get_monotonic_time() + timeout_msec * G_TIME_SPAN_MILLISECOND;

  while (http_stub_count_prefix(stub, PAGES_PATH) < count)
    {
      gint64 left = (until - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
      if (left <= 0 || !http_stub_wait_requests(stub, http_stub_request_count(stub) + 1, left))
        return http_stub_count_prefix(stub, PAGES_PATH) >= count;
    }
  return TRUE;
}

static void
_assert_page(ThreatqReaderPage *page, const gchar *cursor, const gchar *next_cursor, guint index)
{
  cr_assert_not_null(page);
  cr_assert_str_eq(page->cursor, cursor);
  cr_assert_str_eq(page->next_cursor, next_cursor);
  cr_assert_eq(page->documents.length, 2);
  for (guint i = 0; i < 2; i++)
    {
      gchar *value = g_strdup_printf("\"10.0.%u.%u\"", index, i + 1);
      const gchar *json = threatq_document_json(g_queue_peek_nth(&page->documents, i));
      cr_assert(strstr(json, value), "document %u of page %u: %s", i, index, json);
      g_free(value);
    }
}

static void
_assert_no_secret(void)
{
  gchar *text = log_capture_text();

  cr_assert_null(strstr(text, CLIENT_SECRET), "%s", text);
  cr_assert_null(strstr(text, ACCESS_TOKEN), "%s", text);
  g_free(text);
}

Test(reader, pages_flow_in_order_then_the_collection_drains)
{
  _start("*");
  ThreatqReaderPage *page = NULL;
  const gchar *cursors[] = { "*", "c1", "c2", "c3" };

  for (guint i = 0; i < 3; i++)
    {
      page = threatq_reader_take(reader, page);
      _assert_page(page, cursors[i], cursors[i + 1], i);
    }
  /* c3 answers an empty page: drained, then the same cursor after poll-interval() */
  cr_assert(_wait_page_requests(5, DEADLINE_MSEC));
  for (guint i = 0; i < 4; i++)
    _assert_requested(i, cursors[i]);
  _assert_requested(4, "c3");
  cr_assert_geq(_page_request_time(4) - _page_request_time(3), 300 * G_TIME_SPAN_MILLISECOND);
  cr_assert(log_capture_contains("collection drained"));

  cr_assert_eq(_stat(THREATQ_STAT_INDICATORS), 6);
  cr_assert_geq(_stat(THREATQ_STAT_PAGES), 4);
  cr_assert_eq(_stat(THREATQ_STAT_HTTP_ERRORS), 0);
  cr_assert_gt(_stat(THREATQ_STAT_LAST_SYNC), 0);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/token"), 1);
  threatq_reader_page_free(page);
  _assert_no_secret();
}

/* threatq-match(): the page hook (reader thread) sees every page with documents before take() can return it */
typedef struct
{
  GMutex lock;
  GPtrArray *pages;             /* the pages the hook saw, in order */
  GString *seen;                /* "<cursor>-><next>:<documents> " per call */
} HookLog;

static void
_page_hook(ThreatqReaderPage *page, gpointer user_data)
{
  HookLog *log = user_data;

  g_mutex_lock(&log->lock);
  g_ptr_array_add(log->pages, page);
  g_string_append_printf(log->seen, "%s->%s:%u ", page->cursor, page->next_cursor, page->documents.length);
  g_mutex_unlock(&log->lock);
}

static gboolean
_hooked(HookLog *log, ThreatqReaderPage *page)
{
  g_mutex_lock(&log->lock);
  gboolean seen = g_ptr_array_find(log->pages, page, NULL);
  g_mutex_unlock(&log->lock);
  return seen;
}

Test(reader, the_page_hook_sees_each_page_before_it_is_handed_over)
{
  HookLog log = { .pages = g_ptr_array_new(), .seen = g_string_new(NULL) };
  g_mutex_init(&log.lock);
  reader_options.page_hook = _page_hook;
  reader_options.page_hook_data = &log;
  _start("*");

  ThreatqReaderPage *page = NULL;
  for (guint i = 0; i < 3; i++)
    {
      page = threatq_reader_take(reader, page);
      cr_assert(_hooked(&log, page), "page %u was taken before the hook saw it", i);
    }
  /* the empty page that ends the cycle is no page: no call */
  cr_assert(_wait_page_requests(5, DEADLINE_MSEC));
  threatq_reader_request_stop(reader);
  threatq_reader_join(reader);
  cr_assert_str_eq(log.seen->str, "*->c1:2 c1->c2:2 c2->c3:2 ");
  threatq_reader_page_free(page);
  g_ptr_array_free(log.pages, TRUE);
  g_string_free(log.seen, TRUE);
  g_mutex_clear(&log.lock);
}

typedef struct
{
  gchar name[24];
  gchar next[1100];             /* the nextCursorMark member as sent, "" for none */
} BadNextCase;

ParameterizedTestParameters(reader, an_unusable_next_cursor_is_not_followed)
{
  static BadNextCase cases[4];
  gchar *too_long = g_strnfill(THREATQ_CURSOR_MAX_LENGTH + 1, 'A');

  cases[0] = (BadNextCase) { "missing", "\"other\":1" };
  cases[1] = (BadNextCase) { "empty", "\"nextCursorMark\":\"\"" };
  cases[2] = (BadNextCase) { "control character", "\"nextCursorMark\":\"c\\u0001\"" };
  g_strlcpy(cases[3].name, "too long", sizeof(cases[3].name));
  g_snprintf(cases[3].next, sizeof(cases[3].next), "\"nextCursorMark\":\"%s\"", too_long);
  g_free(too_long);
  return cr_make_param_array(BadNextCase, cases, G_N_ELEMENTS(cases));
}

ParameterizedTest(BadNextCase *c, reader, an_unusable_next_cursor_is_not_followed)
{
  /* c2 is the empty last page: what the reader reads ahead adds no indicators */
  server.pages = 2;
  g_strlcpy(server.bad_cursor, "c1", sizeof(server.bad_cursor));
  g_strlcpy(server.bad_next, c->next, sizeof(server.bad_next));
  _start("*");

  ThreatqReaderPage *first = threatq_reader_take(reader, NULL);
  _assert_page(first, "*", "c1", 0);
  /* c1's first answer is refused: c1 is asked again (after a back-off), and only then does c2 follow */
  ThreatqReaderPage *second = threatq_reader_take(reader, first);
  _assert_page(second, "c1", "c2", 1);
  _assert_requested(1, "c1");
  _assert_requested(2, "c1");
  cr_assert_eq(_stat(THREATQ_STAT_MALFORMED_PAGES), 1, "%s", c->name);
  cr_assert_eq(_stat(THREATQ_STAT_INDICATORS), 4, "%s: the refused page's documents are not counted", c->name);
  cr_assert(log_capture_contains("a page that cannot be used"), "%s", c->name);
  threatq_reader_page_free(second);
}

Test(reader, a_body_that_is_not_json_is_asked_for_again)
{
  server.not_json = TRUE;
  _start("*");
  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);

  _assert_page(page, "*", "c1", 0);
  _assert_requested(0, "*");
  _assert_requested(1, "*");
  cr_assert_eq(_stat(THREATQ_STAT_MALFORMED_PAGES), 1);
  cr_assert(log_capture_contains("502 Bad Gateway"), "the log shows what the server sent");
  threatq_reader_page_free(page);
}

/* the back-off doubles per failure: lower bounds only (delay/2 is the jitter's floor) */
Test(reader, failures_back_off_and_the_same_cursor_is_retried)
{
  server.failures = 2;
  server.failure_status = 500;
  reader_options.max_backoff = 60000;
  _start("*");

  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);
  _assert_page(page, "*", "c1", 0);
  for (guint i = 0; i < 3; i++)
    _assert_requested(i, "*");
  cr_assert_geq(_page_request_time(1) - _page_request_time(0), 500 * G_TIME_SPAN_MILLISECOND);
  cr_assert_geq(_page_request_time(2) - _page_request_time(1), 1000 * G_TIME_SPAN_MILLISECOND);
  cr_assert_eq(_stat(THREATQ_STAT_HTTP_ERRORS), 2);
  cr_assert(log_capture_contains("failures='2'"));
  cr_assert(log_capture_contains("status='500'"));

  /* a page resets the count: the next failure starts from the first back-off again */
  g_mutex_lock(&server.lock);
  server.failures = 1;
  g_mutex_unlock(&server.lock);
  threatq_reader_page_free(threatq_reader_take(reader, page));
  cr_assert(log_capture_wait_count("failures='1'", 2, DEADLINE_MSEC));
  _assert_no_secret();
}

/* one 429 with this Retry-After, then pages: the time between the two requests */
static gint64
_gap_after_a_429(const gchar *retry_after)
{
  server.failures = 1;
  server.failure_status = 429;
  g_snprintf(server.failure_headers, sizeof(server.failure_headers), "Retry-After: %s\r\n", retry_after);
  _start("*");

  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);
  _assert_page(page, "*", "c1", 0);
  threatq_reader_page_free(page);
  return _page_request_time(1) - _page_request_time(0);
}

Test(reader, rate_limited_waits_for_retry_after)
{
  cr_assert_geq(_gap_after_a_429("2"), 2000 * G_TIME_SPAN_MILLISECOND);
  cr_assert(log_capture_contains("waiting for Retry-After"));
  cr_assert(log_capture_contains("retry_after='2'"));
  /* the retry line names the wait that follows, not the shorter back-off */
  cr_assert(log_capture_contains("delay_ms='2000'"));
}

/* Retry-After: 0 must not turn into a request loop */
Test(reader, retry_after_zero_still_backs_off)
{
  cr_assert_geq(_gap_after_a_429("0"), 500 * G_TIME_SPAN_MILLISECOND);
}

Test(reader, a_refused_token_is_logged_without_secrets)
{
  server.refuse_token = TRUE;
  _start("*");

  cr_assert(log_capture_wait_for("authentication with ThreatQ failed", DEADLINE_MSEC));
  cr_assert(log_capture_contains("/api/token"), "the log names the token URL");
  cr_assert_eq(http_stub_count_prefix(stub, PAGES_PATH), 0);
  threatq_reader_request_stop(reader);
  threatq_reader_join(reader);
  /* on a slow machine the back-off may have ended before the stop: one or more refusals */
  cr_assert_geq(_stat(THREATQ_STAT_AUTH_FAILURES), 1);
  cr_assert_eq(_stat(THREATQ_STAT_HTTP_ERRORS), _stat(THREATQ_STAT_AUTH_FAILURES));
  _assert_no_secret();
}

typedef struct
{
  ThreatqReaderPage *page;
  gint done;
} Taker;

static gpointer
_take_thread(gpointer user_data)
{
  Taker *taker = user_data;

  taker->page = threatq_reader_take(reader, NULL);
  g_atomic_int_set(&taker->done, 1);
  return NULL;
}

/* join() returning is the assertion; the deadline is the test runner's */
static void
_stop_and_join_within(gint64 limit_usec)
{
  gint64 started = g_get_monotonic_time();

  threatq_reader_request_stop(reader);
  threatq_reader_join(reader);
  cr_assert_lt(g_get_monotonic_time() - started, limit_usec);
}

Test(reader, stop_ends_a_request_in_flight)
{
  server.hang = TRUE;
  Taker taker = { 0 };
  _start("*");
  GThread *thread = g_thread_new("take", _take_thread, &taker);

  cr_assert(_wait_page_requests(1, DEADLINE_MSEC));
  /* the client's timeout() is 30 s: only the abort can end the request this soon */
  _stop_and_join_within(10 * G_USEC_PER_SEC);
  g_thread_join(thread);
  cr_assert_null(taker.page, "take() returns NULL once stopping");
  cr_assert(http_stub_wait_hang_released(stub, 1, DEADLINE_MSEC), "the connection was left open");
  cr_assert_eq(_stat(THREATQ_STAT_HTTP_ERRORS), 0, "an abort is no error");
  cr_assert_null(threatq_reader_take(reader, NULL));
}

/* the reader waits an hour after its first request (the log line says it waits); a stop ends the wait */
static void
_assert_stop_ends_the_wait(const gchar *waiting_line)
{
  _start("*");
  cr_assert(log_capture_wait_for(waiting_line, DEADLINE_MSEC));
  _stop_and_join_within(10 * G_USEC_PER_SEC);
  cr_assert_eq(http_stub_count_prefix(stub, PAGES_PATH), 1);
}

Test(reader, stop_ends_a_retry_after_wait)
{
  server.failures = 1;
  server.failure_status = 429;
  g_strlcpy(server.failure_headers, "Retry-After: 3600\r\n", sizeof(server.failure_headers));
  _assert_stop_ends_the_wait("waiting for Retry-After");
}

Test(reader, stop_ends_a_poll_interval_wait)
{
  server.pages = 0;
  reader_options.poll_interval = 3600;
  _assert_stop_ends_the_wait("collection drained");
}

/* The slot holds one page: with a page not taken, the reader reads no further. */
Test(reader, one_page_ahead_at_most)
{
  server.pages = 1000;
  _start("*");

  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);
  _assert_page(page, "*", "c1", 0);
  for (guint taken = 1; taken < 4; taken++)
    {
      /* page number taken+1 is read ahead; the one after it must wait for the next take().
       * "Does not happen" needs a window: 300 ms is hundreds of local requests for a reader
       * that did not wait, and a correct reader cannot fail it however slow the machine. */
      cr_assert(_wait_page_requests(taken + 1, DEADLINE_MSEC));
      cr_assert_not(_wait_page_requests(taken + 2, 300), "read %u pages with %u taken", taken + 2, taken);
      page = threatq_reader_take(reader, page);
      gchar *cursor = g_strdup_printf("c%u", taken);
      gchar *next = g_strdup_printf("c%u", taken + 1);
      _assert_page(page, cursor, next, taken);
      g_free(cursor);
      g_free(next);
    }
  threatq_reader_page_free(page);
}

/* a page ready in the slot is not handed out once stopping; join() frees it */
Test(reader, take_after_stop_returns_null)
{
  _start("*");
  cr_assert(_wait_page_requests(1, DEADLINE_MSEC));
  cr_assert(log_capture_wait_for("page received", DEADLINE_MSEC));
  threatq_reader_request_stop(reader);
  cr_assert_null(threatq_reader_take(reader, NULL));
  threatq_reader_join(reader);
}

/* a stop asked before start() (shutdown during init) keeps the thread from starting */
Test(reader, stop_before_start_starts_nothing)
{
  threatq_reader_request_stop(reader);
  _start("*");
  cr_assert_null(threatq_reader_take(reader, NULL));
  threatq_reader_join(reader);
  cr_assert_eq(http_stub_request_count(stub), 0);
}

/* reload: stop, join, reset, start again from the cursor the source stored */
Test(reader, restart_after_reset_continues_from_the_given_cursor)
{
  _start("*");
  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);
  _assert_page(page, "*", "c1", 0);
  threatq_reader_request_stop(reader);
  threatq_reader_join(reader);
  threatq_reader_page_free(page);

  threatq_reader_reset(reader);
  _start("c2");
  page = threatq_reader_take(reader, NULL);
  _assert_page(page, "c2", "c3", 2);
  threatq_reader_page_free(page);
}

/* a page whose nextCursorMark is its own cursor is handed out, then the cycle ends */
Test(reader, a_page_pointing_at_itself_ends_the_cycle)
{
  g_strlcpy(server.bad_cursor, "c1", sizeof(server.bad_cursor));
  g_strlcpy(server.bad_next, "\"nextCursorMark\":\"c1\"", sizeof(server.bad_next));
  _start("c1");

  ThreatqReaderPage *page = threatq_reader_take(reader, NULL);
  _assert_page(page, "c1", "c1", 1);
  cr_assert(log_capture_wait_for("collection drained", DEADLINE_MSEC));
  cr_assert(_wait_page_requests(2, DEADLINE_MSEC));
  _assert_requested(1, "c1");
  cr_assert_geq(_page_request_time(1) - _page_request_time(0), 300 * G_TIME_SPAN_MILLISECOND);
  threatq_reader_page_free(page);
}
