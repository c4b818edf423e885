/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-client against a stub server on 127.0.0.1 (http-stub.c): what the
 * requests carry, and what the client makes of each kind of answer (token
 * and page, status, Retry-After, the body and header bounds, gzip, a timeout,
 * a body cut short, abort), table-driven; and that no secret reaches the log.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "threatq-client.h"
#include "apphook.h"
#include "http-stub.h"
#include "log-capture.h"

#define CLIENT_ID "tq-client"
#define CLIENT_SECRET "cs-SECRET-5a4b3c"
#define ACCESS_TOKEN "tq-ACCESS-9f8e7d"
#define OTHER_TOKEN "tq-ACCESS-second-1a2b"
#define COLLECTION "my coll/x"
#define COLLECTION_PATH "/api/indicators/query/hash/my%20coll%2Fx"
#define TOKEN_BODY "{\"access_token\":\"" ACCESS_TOKEN "\",\"token_type\":\"Bearer\",\"expires_in\":3600}"
#define PAGE_BODY "{\"total\":1,\"data\":[{\"id\":1,\"value\":\"10.0.0.1\"}],\"nextCursorMark\":\"AoE1\"}"
#define MAX_PAGE 4096
/* no case is about the time a request takes: a bound for "it ended", not a measurement */
#define DEADLINE_MSEC 20000

typedef enum
{
  PAGE_JSON,            /* page_status, page_headers, PAGE_BODY */
  PAGE_GZIP,            /* 200, PAGE_BODY gzipped */
  PAGE_EXACT_LIMIT,     /* 200, a body of exactly MAX_PAGE bytes */
  PAGE_DECLARED_OVER,   /* 200, Content-Length: MAX_PAGE + 1, and then no body: refused on the headers */
  PAGE_CHUNKED_OVER,    /* 200, chunked, MAX_PAGE + 1 bytes in all */
  PAGE_GZIP_OVER,       /* 200, small on the wire, MAX_PAGE * 16 bytes once inflated */
  PAGE_HEADERS_UNDER,   /* 200, 60 KiB of header lines */
  PAGE_HEADERS_OVER,    /* 200, 70 KiB of header lines */
  PAGE_CUT,             /* 200, Content-Length: 1000, the connection closed after 100 bytes of body */
  PAGE_HANG,            /* no answer at all */
} PageKind;

typedef struct
{
  gchar name[40];
  gint token_status;            /* 0: the token endpoint does not answer */
  gchar token_body[120];
  PageKind page_kind;
  gint page_status;
  gchar page_headers[80];
  /* expected */
  ThreatqResponseStatus status;
  glong http_code;
  gint64 retry_after;
  gboolean from_token_request;
  gchar error[64];              /* a part of response->error; "" when none is expected */
  guint token_requests;
  guint page_requests;
} ClientCase;

static const ClientCase *current;

static gchar *
_basic_credentials(void)
{
  gchar *encoded = g_base64_encode((const guchar *) CLIENT_ID ":" CLIENT_SECRET, strlen(CLIENT_ID ":" CLIENT_SECRET));
  gchar *header = g_strdup_printf("Basic %s", encoded);

  g_free(encoded);
  return header;
}

/* the token endpoint answers only the configured credentials */
static void
_reply_token(const HttpStubRequest *request, HttpStubReply *reply, gint status, const gchar *body)
{
  gchar *authorization = http_stub_request_header(request, "Authorization");
  gchar *expected = _basic_credentials();

  if (status == 0)
    reply->hang = TRUE;
  else if (g_strcmp0(request->method, "POST") != 0 || g_strcmp0(authorization, expected) != 0
           || g_strcmp0(request->body, "grant_type=client_credentials") != 0)
    http_stub_reply_json(reply, 400, "{\"error\":\"invalid_request\"}");
  else
    http_stub_reply_json(reply, status, body);
  g_free(authorization);
  g_free(expected);
}

static void
_append_header_lines(GString *headers, gsize total)
{
  gchar *padding = g_strnfill(1000, 'a');

  for (gsize i = 0; headers->len < total; i++)
    g_string_append_printf(headers, "X-Pad-%" G_GSIZE_FORMAT ": %s\r\n", i, padding);
  g_free(padding);
}

static void
_reply_gzip(HttpStubReply *reply, const gchar *body, gsize length)
{
  GBytes *gzipped = http_stub_gzip(body, length);
  gsize gzipped_length;
  const gchar *data = g_bytes_get_data(gzipped, &gzipped_length);

  http_stub_reply(reply, 200, "Content-Encoding: gzip\r\n", data, gzipped_length);
  g_bytes_unref(gzipped);
}

static void
_reply_page(const ClientCase *c, HttpStubReply *reply)
{
  gchar *filler = g_strnfill(MAX_PAGE * 16, ' ');
  GString *headers = g_string_new(NULL);

  switch (c->page_kind)
    {
    case PAGE_JSON:
      http_stub_reply(reply, c->page_status, c->page_headers, PAGE_BODY, strlen(PAGE_BODY));
      break;
    case PAGE_GZIP:
      _reply_gzip(reply, PAGE_BODY, strlen(PAGE_BODY));
      break;
    case PAGE_EXACT_LIMIT:
      http_stub_reply(reply, 200, NULL, filler, MAX_PAGE);
      break;
    case PAGE_DECLARED_OVER:
      http_stub_reply(reply, 200, NULL, "", 0);
      g_string_printf(reply->raw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", MAX_PAGE + 1);
      reply->hang = TRUE;
      break;
    case PAGE_CHUNKED_OVER:
      g_string_printf(reply->raw, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      for (gsize sent = 0; sent <= MAX_PAGE; sent += 1000)
        g_string_append_printf(reply->raw, "3e8\r\n%.*s\r\n", 1000, filler);
      g_string_append(reply->raw, "0\r\n\r\n");
      break;
    case PAGE_GZIP_OVER:
      _reply_gzip(reply, filler, MAX_PAGE * 16);
      break;
    case PAGE_HEADERS_UNDER:
    case PAGE_HEADERS_OVER:
      _append_header_lines(headers, c->page_kind == PAGE_HEADERS_UNDER ? 60 * 1024 : 70 * 1024);
      http_stub_reply(reply, 200, headers->str, PAGE_BODY, strlen(PAGE_BODY));
      break;
    case PAGE_CUT:
      http_stub_reply(reply, 200, NULL, filler, 1000);
      reply->close_after = reply->raw->len - 900;
      break;
    case PAGE_HANG:
      reply->hang = TRUE;
      break;
    }
  g_string_free(headers, TRUE);
  g_free(filler);
}

static void
_handle(const HttpStubRequest *request, HttpStubReply *reply, gpointer user_data)
{
  const ClientCase *c = current;

  if (g_str_equal(request->target, "/api/token"))
    {
      _reply_token(request, reply, c->token_status, c->token_body);
      return;
    }
  gchar *authorization = http_stub_request_header(request, "Authorization");
  if (g_strcmp0(authorization, "Bearer " ACCESS_TOKEN) != 0)
    http_stub_reply_json(reply, 401, "{\"error\":\"invalid_token\"}");
  else
    _reply_page(c, reply);
  g_free(authorization);
}

static HttpStub *stub;
static ThreatqClientOptions options;

static void
_setup(void)
{
  app_startup();
  log_capture_start();
}

static void
_teardown(void)
{
  log_capture_stop();
  http_stub_free(stub);
  stub = NULL;
  threatq_client_options_destroy(&options);
  app_shutdown();
}

static void
_start_stub(HttpStubHandler handler, gpointer user_data)
{
  stub = http_stub_new(handler, user_data);
  threatq_client_options_defaults(&options);
  options.url = g_strdup(http_stub_url(stub));
  options.collection = g_strdup(COLLECTION);
  options.client_id = g_strdup(CLIENT_ID);
  options.client_secret = g_strdup(CLIENT_SECRET);
  options.timeout = 30;
  options.max_page_size = MAX_PAGE;
}

/* the stub answers as the case says */
static void
_start_case(const ClientCase *c)
{
  current = c;
  _start_stub(_handle, NULL);
}

/* neither the log nor the error text holds a secret, nor the Basic credentials */
static void
_assert_no_secret(const ThreatqResponse *response)
{
  gchar *text = log_capture_text();
  gchar *basic = _basic_credentials();
  const gchar *secrets[] = { CLIENT_SECRET, ACCESS_TOKEN, OTHER_TOKEN, basic + strlen("Basic ") };

  for (gsize i = 0; i < G_N_ELEMENTS(secrets); i++)
    {
      cr_assert_null(strstr(text, secrets[i]), "the log holds a secret:\n%s", text);
      cr_assert_null(strstr(response->error, secrets[i]), "the error holds a secret: %s", response->error);
    }
  g_free(basic);
  g_free(text);
}

/* a test that hangs (an abort that does not work) fails instead of stalling the suite */
TestSuite(client, .init = _setup, .fini = _teardown, .timeout = 120);

#define OK_PAGE(name, kind) { name, 200, TOKEN_BODY, kind, 200, "", THREATQ_RESPONSE_OK, 200, -1, FALSE, "", 1, 1 }
#define TOO_LARGE "larger than 4096 bytes (max-page-size())"

ParameterizedTestParameters(client, answers)
{
  static ClientCase cases[] =
  {
    OK_PAGE("page 200", PAGE_JSON),
    OK_PAGE("page gzip", PAGE_GZIP),
    OK_PAGE("page of exactly max-page-size", PAGE_EXACT_LIMIT),
    OK_PAGE("60 KiB of headers", PAGE_HEADERS_UNDER),
    { "token 401", 401, "{}", PAGE_JSON, 200, "", THREATQ_RESPONSE_AUTH_FAILED, 401, -1, TRUE, "token request failed with HTTP 401", 1, 0 },
    { "token 403", 403, "{}", PAGE_JSON, 200, "", THREATQ_RESPONSE_AUTH_FAILED, 403, -1, TRUE, "HTTP 403", 1, 0 },
    { "token 500", 500, "{}", PAGE_JSON, 200, "", THREATQ_RESPONSE_SERVER_ERROR, 500, -1, TRUE, "HTTP 500", 1, 0 },
    { "token not JSON", 200, "<html>" ACCESS_TOKEN "</html>", PAGE_JSON, 200, "", THREATQ_RESPONSE_AUTH_FAILED, 200, -1, TRUE, "not valid JSON", 1, 0 },
    { "token not a string", 200, "{\"access_token\":42}", PAGE_JSON, 200, "", THREATQ_RESPONSE_AUTH_FAILED, 200, -1, TRUE, "not a string", 1, 0 },
    { "token with a blank", 200, "{\"access_token\":\"" ACCESS_TOKEN " x\"}", PAGE_JSON, 200, "", THREATQ_RESPONSE_AUTH_FAILED, 200, -1, TRUE, "RFC 6750", 1, 0 },
    { "token endpoint silent", 0, "", PAGE_JSON, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, TRUE, "Timeout", 1, 0 },
    { "page 304", 200, TOKEN_BODY, PAGE_JSON, 304, "", THREATQ_RESPONSE_CLIENT_ERROR, 304, -1, FALSE, "page request failed with HTTP 304", 1, 1 },
    { "page 302 not followed", 200, TOKEN_BODY, PAGE_JSON, 302, "Location: /elsewhere\r\n", THREATQ_RESPONSE_CLIENT_ERROR, 302, -1, FALSE, "HTTP 302", 1, 1 },
    { "page 403", 200, TOKEN_BODY, PAGE_JSON, 403, "", THREATQ_RESPONSE_AUTH_FAILED, 403, -1, FALSE, "HTTP 403", 1, 1 },
    { "page 429 Retry-After", 200, TOKEN_BODY, PAGE_JSON, 429, "Retry-After: 7\r\n", THREATQ_RESPONSE_RATE_LIMITED, 429, 7, FALSE, "HTTP 429", 1, 1 },
    { "page 429 Retry-After cased", 200, TOKEN_BODY, PAGE_JSON, 429, "rEtRy-AfTeR:  12 \r\n", THREATQ_RESPONSE_RATE_LIMITED, 429, 12, FALSE, "HTTP 429", 1, 1 },
    { "page 429 Retry-After junk", 200, TOKEN_BODY, PAGE_JSON, 429, "Retry-After: soon\r\n", THREATQ_RESPONSE_RATE_LIMITED, 429, -1, FALSE, "HTTP 429", 1, 1 },
    { "page 429 without Retry-After", 200, TOKEN_BODY, PAGE_JSON, 429, "", THREATQ_RESPONSE_RATE_LIMITED, 429, -1, FALSE, "HTTP 429", 1, 1 },
    { "page 500", 200, TOKEN_BODY, PAGE_JSON, 500, "", THREATQ_RESPONSE_SERVER_ERROR, 500, -1, FALSE, "HTTP 500", 1, 1 },
    { "page 503 Retry-After", 200, TOKEN_BODY, PAGE_JSON, 503, "Retry-After: 30\r\n", THREATQ_RESPONSE_SERVER_ERROR, 503, 30, FALSE, "HTTP 503", 1, 1 },
    { "declared over max-page-size", 200, TOKEN_BODY, PAGE_DECLARED_OVER, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, TOO_LARGE, 1, 1 },
    { "chunked over max-page-size", 200, TOKEN_BODY, PAGE_CHUNKED_OVER, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, TOO_LARGE, 1, 1 },
    { "inflated over max-page-size", 200, TOKEN_BODY, PAGE_GZIP_OVER, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, TOO_LARGE, 1, 1 },
    { "70 KiB of headers", 200, TOKEN_BODY, PAGE_HEADERS_OVER, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, "headers are larger than 65536 bytes", 1, 1 },
    { "body cut short", 200, TOKEN_BODY, PAGE_CUT, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, "partial", 1, 1 },
    { "page silent", 200, TOKEN_BODY, PAGE_HANG, 200, "", THREATQ_RESPONSE_TRANSPORT_ERROR, 0, -1, FALSE, "Timeout", 1, 1 },
  };
  return cr_make_param_array(ClientCase, cases, G_N_ELEMENTS(cases));
}

static void
_assert_body(const ClientCase *c, const ThreatqResponse *response)
{
  if (c->page_kind == PAGE_EXACT_LIMIT)
    cr_assert_eq(response->body->len, MAX_PAGE, "%s: %" G_GSIZE_FORMAT " bytes", c->name, response->body->len);
  else
    cr_assert_str_eq(response->body->str, PAGE_BODY, "%s", c->name);
}

ParameterizedTest(ClientCase *c, client, answers)
{
  _start_case(c);
  /* only a silent server should meet the timeout, however loaded the machine */
  if (c->token_status == 0 || c->page_kind == PAGE_HANG)
    options.timeout = 1;
  ThreatqClient *client = threatq_client_new(&options, "tq-test");
  ThreatqResponse response;

  threatq_response_init(&response, NULL);
  threatq_client_fetch_page(client, "*", &response);

  cr_assert_eq(response.status, c->status, "%s: status %d, error \"%s\"", c->name, response.status, response.error);
  cr_assert_eq(response.http_code, c->http_code, "%s: HTTP %ld", c->name, response.http_code);
  cr_assert_eq(response.retry_after, c->retry_after, "%s: Retry-After %" G_GINT64_FORMAT, c->name,
               response.retry_after);
  cr_assert_eq(response.from_token_request, c->from_token_request, "%s", c->name);
  if (c->error[0])
    cr_assert(strstr(response.error, c->error), "%s: error \"%s\", expected \"%s\"", c->name, response.error, c->error);
  else
    cr_assert_str_empty(response.error, "%s: %s", c->name, response.error);
  if (c->status == THREATQ_RESPONSE_OK)
    _assert_body(c, &response);
  if (c->from_token_request)
    cr_assert_null(strstr(response.body->str, ACCESS_TOKEN), "%s: the token body is kept", c->name);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/token"), c->token_requests, "%s", c->name);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/indicators/"), c->page_requests, "%s", c->name);
  _assert_no_secret(&response);

  threatq_response_clear(&response);
  threatq_client_free(client);
}

/* what the page request carries */
Test(client, page_request)
{
  static const ClientCase c = OK_PAGE("page request", PAGE_JSON);
  _start_case(&c);
  options.page_size = 250;
  ThreatqClient *client = threatq_client_new(&options, "tq-test");
  ThreatqResponse response;

  threatq_response_init(&response, NULL);
  threatq_client_fetch_page(client, "Ao+E/1=", &response);
  cr_assert_eq(response.status, THREATQ_RESPONSE_OK, "%s", response.error);

  HttpStubRequest *request = http_stub_request(stub, 1);
  cr_assert_str_eq(request->method, "GET");
  cr_assert(g_str_has_prefix(request->target, COLLECTION_PATH "?"), "%s", request->target);
  gchar *cursor = http_stub_request_query(request, "cursorMark");
  gchar *fields = http_stub_request_query(request, "fields");
  gchar *limit = http_stub_request_query(request, "limit");
  gchar *sort = http_stub_request_query(request, "sort");
  gchar *user_agent = http_stub_request_header(request, "User-Agent");
  cr_assert_str_eq(cursor, "Ao+E/1=");
  cr_assert_str_eq(fields, options.fields);
  cr_assert_str_eq(limit, "250");
  cr_assert_str_eq(sort, "updated_at");
  cr_assert_str_eq(user_agent, options.user_agent);
  /* a '+' in the cursor must not reach the server as a blank */
  cr_assert(strstr(request->target, "cursorMark=Ao%2BE%2F1%3D"), "%s", request->target);

  g_free(cursor);
  g_free(fields);
  g_free(limit);
  g_free(sort);
  g_free(user_agent);
  http_stub_request_free(request);
  threatq_response_clear(&response);
  threatq_client_free(client);
}

Test(client, token_url_option)
{
  static const ClientCase c = OK_PAGE("token-url()", PAGE_JSON);
  _start_case(&c);
  options.token_url = g_strdup_printf("%s/api/token", http_stub_url(stub));
  g_free(options.url);
  options.url = g_strdup_printf("%s/", http_stub_url(stub));
  options.url[strlen(options.url) - 1] = '\0';
  ThreatqClient *client = threatq_client_new(&options, "tq-test");

  cr_assert_str_eq(threatq_client_token_url(client), options.token_url);
  threatq_client_free(client);
  g_free(options.token_url);
  options.token_url = g_strdup("http://127.0.0.1:1/other/token");
  client = threatq_client_new(&options, "tq-test");
  cr_assert_str_eq(threatq_client_token_url(client), "http://127.0.0.1:1/other/token");
  threatq_client_free(client);
}

Test(client, the_token_is_reused)
{
  static const ClientCase c = OK_PAGE("reuse", PAGE_JSON);
  _start_case(&c);
  ThreatqClient *client = threatq_client_new(&options, "tq-test");
  ThreatqResponse response;

  threatq_response_init(&response, NULL);
  for (gint i = 0; i < 3; i++)
    {
      threatq_client_fetch_page(client, "*", &response);
      cr_assert_eq(response.status, THREATQ_RESPONSE_OK, "%s", response.error);
    }
  cr_assert_eq(http_stub_count_prefix(stub, "/api/token"), 1);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/indicators/"), 3);
  threatq_response_clear(&response);
  threatq_client_free(client);
}

/* a failed token request leaves no token behind: the next fetch asks again */
Test(client, a_refused_token_is_asked_for_again)
{
  static const ClientCase c = { "refused", 401, "{}", PAGE_JSON, 200, "", 0, 0, 0, 0, "", 0, 0 };
  _start_case(&c);
  ThreatqClient *client = threatq_client_new(&options, "tq-test");
  ThreatqResponse response;

  threatq_response_init(&response, NULL);
  threatq_client_fetch_page(client, "*", &response);
  threatq_client_fetch_page(client, "*", &response);
  cr_assert_eq(response.status, THREATQ_RESPONSE_AUTH_FAILED);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/token"), 2);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/indicators/"), 0);
  threatq_response_clear(&response);
  threatq_client_free(client);
}

/* the token server hands out a new token each time; the page accepts only the second */
typedef struct
{
  gboolean rotate;              /* FALSE: always the first token */
  gint tokens_issued;
} RotatingServer;

static void
_handle_rotating(const HttpStubRequest *request, HttpStubReply *reply, gpointer user_data)
{
  RotatingServer *server = user_data;

  if (g_str_equal(request->target, "/api/token"))
    {
      const gchar *token = server->rotate && server->tokens_issued++ > 0 ? OTHER_TOKEN : ACCESS_TOKEN;
      gchar *body = g_strdup_printf("{\"access_token\":\"%s\",\"expires_in\":3600}", token);
      _reply_token(request, reply, 200, body);
      g_free(body);
      return;
    }
  gchar *authorization = http_stub_request_header(request, "Authorization");
  if (g_strcmp0(authorization, "Bearer " OTHER_TOKEN) == 0)
    http_stub_reply_json(reply, 200, PAGE_BODY);
  else
    http_stub_reply_json(reply, 401, "{}");
  g_free(authorization);
}

/* one fetch against the rotating server: two token and two page requests either way */
static ThreatqClient *
_fetch_after_a_401(RotatingServer *server, ThreatqResponse *response)
{
  _start_stub(_handle_rotating, server);
  ThreatqClient *client = threatq_client_new(&options, "tq-test");

  threatq_response_init(response, NULL);
  threatq_client_fetch_page(client, "*", response);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/token"), 2);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/indicators/"), 2);
  cr_assert(log_capture_contains("answered 401, fetching a new access token"));
  cr_assert(log_capture_contains("driver='tq-test'"));
  _assert_no_secret(response);
  return client;
}

Test(client, a_page_401_gets_a_new_token_and_one_retry)
{
  RotatingServer server = { .rotate = TRUE };
  ThreatqResponse response;
  ThreatqClient *client = _fetch_after_a_401(&server, &response);

  cr_assert_eq(response.status, THREATQ_RESPONSE_OK, "%s", response.error);
  cr_assert_str_eq(response.body->str, PAGE_BODY);
  threatq_response_clear(&response);
  threatq_client_free(client);
}

/* a 401 that a fresh token does not cure is not retried a second time */
Test(client, a_second_page_401_is_the_answer)
{
  RotatingServer server = { .rotate = FALSE };
  ThreatqResponse response;
  ThreatqClient *client = _fetch_after_a_401(&server, &response);

  cr_assert_eq(response.status, THREATQ_RESPONSE_AUTH_FAILED);
  cr_assert_eq(response.http_code, 401);
  cr_assert_not(response.from_token_request);
  threatq_response_clear(&response);
  threatq_client_free(client);
}

typedef struct
{
  ThreatqClient *client;
  ThreatqResponse response;
  gint done;
  gint64 ended_at;
} Fetch;

static gpointer
_fetch_thread(gpointer user_data)
{
  Fetch *fetch = user_data;

  threatq_client_fetch_page(fetch->client, "*", &fetch->response);
  fetch->ended_at = g_get_monotonic_time();
  g_atomic_int_set(&fetch->done, 1);
  return NULL;
}

/* abort() cuts a request that would otherwise wait for timeout(), and holds until resume() */
Test(client, abort_and_resume)
{
  static const ClientCase hang = OK_PAGE("hang", PAGE_HANG);
  static const ClientCase ok = OK_PAGE("ok", PAGE_JSON);
  _start_case(&hang);
  options.timeout = 30;
  Fetch fetch = { .client = threatq_client_new(&options, "tq-test") };

  threatq_response_init(&fetch.response, NULL);
  GThread *thread = g_thread_new("fetch", _fetch_thread, &fetch);
  cr_assert(http_stub_wait_requests(stub, 2, DEADLINE_MSEC), "the page request did not arrive");
  gint64 aborted_at = g_get_monotonic_time();
  threatq_client_abort(fetch.client);
  g_thread_join(thread);
  cr_assert_eq(fetch.response.status, THREATQ_RESPONSE_ABORTED, "%d %s", fetch.response.status, fetch.response.error);
  /* libcurl looks at the abort flag about once a second: well before the 30 s timeout */
  cr_assert_lt(fetch.ended_at - aborted_at, 10 * G_USEC_PER_SEC);
  cr_assert(http_stub_wait_hang_released(stub, 1, DEADLINE_MSEC), "the connection was left open");

  /* still aborted until resume() */
  current = &ok;
  threatq_client_fetch_page(fetch.client, "*", &fetch.response);
  cr_assert_eq(fetch.response.status, THREATQ_RESPONSE_ABORTED);

  threatq_client_resume(fetch.client);
  guint pages = http_stub_count_prefix(stub, "/api/indicators/");
  threatq_client_fetch_page(fetch.client, "*", &fetch.response);
  cr_assert_eq(fetch.response.status, THREATQ_RESPONSE_OK, "%s", fetch.response.error);
  cr_assert_eq(http_stub_count_prefix(stub, "/api/indicators/"), pages + 1);
  threatq_response_clear(&fetch.response);
  threatq_client_free(fetch.client);
}

Test(client, page_url_escapes_collection_and_cursor)
{
  static const ClientCase c = OK_PAGE("url", PAGE_JSON);
  _start_case(&c);
  ThreatqClient *client = threatq_client_new(&options, "tq-test");
  gchar *url = threatq_client_format_page_url(client, "a b&c");
  gchar *expected = g_strconcat(http_stub_url(stub), COLLECTION_PATH "?cursorMark=a%20b%26c&fields=", NULL);

  cr_assert(g_str_has_prefix(url, expected), "%s", url);
  cr_assert(g_str_has_suffix(url, "&limit=1000&sort=updated_at"), "%s", url);
  g_free(expected);
  g_free(url);
  threatq_client_free(client);
}
