/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-client.h"
#include "threatq-token.h"
#include "messages.h"

#include <curl/curl.h>
#include <string.h>

/* where a response body goes, and how much of it may come */
typedef struct _ThreatqBodySink
{
  GString *body;
  gsize limit;
  gboolean exceeded;
} ThreatqBodySink;

struct _ThreatqClient
{
  const ThreatqClientOptions *options;
  gchar *driver_id;
  gchar *token_url;
  gchar *page_url_prefix;
  CURL *curl;
  ThreatqToken token;
  gint64 token_refresh_at;    /* monotonic microseconds */
  gint abort_requested;       /* atomic */

  /* the request in progress */
  ThreatqBodySink sink;
  gsize header_bytes;
  gint64 retry_after;
  gchar setopt_error[128];    /* the first curl_easy_setopt() that failed */
  gchar curl_error[CURL_ERROR_SIZE];
};

void
threatq_client_options_defaults(ThreatqClientOptions *options)
{
  memset(options, 0, sizeof(*options));
  options->fields = g_strdup("*,sources,attributes,attributes.name,attributes.value");
  options->page_size = 1000;
  options->timeout = 30;
  options->max_page_size = THREATQ_DEFAULT_MAX_PAGE_SIZE;
  options->user_agent = g_strdup("syslog-ng-threatq/" THREATQ_VERSION);
  options->peer_verify = TRUE;
}

void
threatq_client_options_destroy(ThreatqClientOptions *options)
{
  g_free(options->url);
  g_free(options->token_url);
  g_free(options->collection);
  g_free(options->client_id);
  if (options->client_secret)
    memset(options->client_secret, 0, strlen(options->client_secret));
  g_free(options->client_secret);
  g_free(options->fields);
  g_free(options->proxy);
  g_free(options->user_agent);
  g_free(options->ca_file);
  g_free(options->ca_dir);
  g_free(options->cert_file);
  g_free(options->key_file);
  g_free(options->cipher_suite);
}

void
threatq_response_init(ThreatqResponse *response, GString *body)
{
  memset(response, 0, sizeof(*response));
  response->owns_body = !body;
  response->body = body ? body : g_string_sized_new(64 * 1024);
  g_string_truncate(response->body, 0);
  response->retry_after = -1;
}

void
threatq_response_clear(ThreatqResponse *response)
{
  if (response->body && response->owns_body)
    g_string_free(response->body, TRUE);
  response->body = NULL;
}

/* past the limit, returning less than given makes libcurl fail the transfer (CURLE_WRITE_ERROR) */
static size_t
_write_body(char *data, size_t size, size_t nmemb, void *user_data)
{
  ThreatqBodySink *sink = user_data;
  gsize length = size * nmemb;

  if (length > sink->limit - MIN(sink->body->len, sink->limit))
    {
      sink->exceeded = TRUE;
      return 0;
    }
  g_string_append_len(sink->body, data, length);
  return length;
}

static size_t
_read_header(char *data, size_t size, size_t nitems, void *user_data)
{
  ThreatqClient *self = user_data;
  gsize length = size * nitems;
  static const gchar name[] = "retry-after:";

  self->header_bytes += length;
  if (self->header_bytes > THREATQ_MAX_HEADER_BYTES)
    return 0;
  if (length > sizeof(name) - 1 && g_ascii_strncasecmp(data, name, sizeof(name) - 1) == 0)
    self->retry_after = threatq_http_parse_retry_after(data + sizeof(name) - 1, length - (sizeof(name) - 1),
                                                       (gint64) time(NULL));
  return length;
}

/* libcurl calls this about once a second even when nothing arrives: our exit point. */
static int
_check_abort(void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  ThreatqClient *self = user_data;
  return g_atomic_int_get(&self->abort_requested) ? 1 : 0;
}

/* Records the first option libcurl refused: the request is then not sent, and the error says which. */
static void
_setopt_result(ThreatqClient *self, const gchar *option, CURLcode code)
{
  if (code != CURLE_OK && !self->setopt_error[0])
    g_snprintf(self->setopt_error, sizeof(self->setopt_error), "libcurl refused %s: %s", option,
               curl_easy_strerror(code));
}

#define THREATQ_SETOPT(self, option, value) \
  _setopt_result((self), #option, curl_easy_setopt((self)->curl, (option), (value)))

static void
_setup_tls(ThreatqClient *self)
{
  const ThreatqClientOptions *options = self->options;

  if (options->ca_file)
    THREATQ_SETOPT(self, CURLOPT_CAINFO, options->ca_file);
  if (options->ca_dir)
    THREATQ_SETOPT(self, CURLOPT_CAPATH, options->ca_dir);
  if (options->cert_file)
    THREATQ_SETOPT(self, CURLOPT_SSLCERT, options->cert_file);
  if (options->key_file)
    THREATQ_SETOPT(self, CURLOPT_SSLKEY, options->key_file);
  if (options->cipher_suite)
    THREATQ_SETOPT(self, CURLOPT_SSL_CIPHER_LIST, options->cipher_suite);
  if (options->use_system_cert_store)
    THREATQ_SETOPT(self, CURLOPT_SSL_OPTIONS, (long) CURLSSLOPT_NATIVE_CA);
  THREATQ_SETOPT(self, CURLOPT_SSL_VERIFYPEER, options->peer_verify ? 1L : 0L);
  THREATQ_SETOPT(self, CURLOPT_SSL_VERIFYHOST, options->peer_verify ? 2L : 0L);
}

static void
_setup_common(ThreatqClient *self, GString *body, gsize body_limit)
{
  const ThreatqClientOptions *options = self->options;

  curl_easy_reset(self->curl);
  self->setopt_error[0] = '\0';
  self->curl_error[0] = '\0';
  self->retry_after = -1;
  self->header_bytes = 0;
  self->sink = (ThreatqBodySink) { .body = body, .limit = body_limit };
  g_string_truncate(body, 0);

  THREATQ_SETOPT(self, CURLOPT_NOSIGNAL, 1L);
  THREATQ_SETOPT(self, CURLOPT_ERRORBUFFER, self->curl_error);
  THREATQ_SETOPT(self, CURLOPT_TIMEOUT, options->timeout);
  THREATQ_SETOPT(self, CURLOPT_CONNECTTIMEOUT, MIN(options->timeout, 10L));
  THREATQ_SETOPT(self, CURLOPT_USERAGENT, options->user_agent);
  THREATQ_SETOPT(self, CURLOPT_FOLLOWLOCATION, 0L);
  THREATQ_SETOPT(self, CURLOPT_PROTOCOLS_STR, "http,https");
  THREATQ_SETOPT(self, CURLOPT_ACCEPT_ENCODING, "");
  /* a declared Content-Length over the bound fails before the body is read */
  THREATQ_SETOPT(self, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) body_limit);
  /* pages are megabytes: fewer, larger reads */
  THREATQ_SETOPT(self, CURLOPT_BUFFERSIZE, 256L * 1024);
  THREATQ_SETOPT(self, CURLOPT_WRITEFUNCTION, _write_body);
  THREATQ_SETOPT(self, CURLOPT_WRITEDATA, &self->sink);
  THREATQ_SETOPT(self, CURLOPT_HEADERFUNCTION, _read_header);
  THREATQ_SETOPT(self, CURLOPT_HEADERDATA, self);
  THREATQ_SETOPT(self, CURLOPT_NOPROGRESS, 0L);
  THREATQ_SETOPT(self, CURLOPT_XFERINFOFUNCTION, _check_abort);
  THREATQ_SETOPT(self, CURLOPT_XFERINFODATA, self);
  if (options->proxy)
    THREATQ_SETOPT(self, CURLOPT_PROXY, options->proxy);
  _setup_tls(self);
}

static void
_describe_transport_error(ThreatqClient *self, CURLcode code, ThreatqResponse *response)
{
  if (self->sink.exceeded || code == CURLE_FILESIZE_EXCEEDED)
    g_snprintf(response->error, sizeof(response->error), "the response body is larger than %" G_GSIZE_FORMAT
               " bytes%s", self->sink.limit,
               self->sink.limit == THREATQ_TOKEN_RESPONSE_MAX_SIZE ? "" : " (max-page-size())");
  else if (self->header_bytes > THREATQ_MAX_HEADER_BYTES)
    g_snprintf(response->error, sizeof(response->error), "the response headers are larger than %d bytes",
               THREATQ_MAX_HEADER_BYTES);
  else
    g_snprintf(response->error, sizeof(response->error), "%s%s%s", curl_easy_strerror(code),
               self->curl_error[0] ? ": " : "", self->curl_error);
}

/* Runs the prepared request; FALSE on a transport error or abort (response filled in). */
static gboolean
_perform(ThreatqClient *self, ThreatqResponse *response)
{
  response->http_code = 0;
  if (self->setopt_error[0])
    {
      response->status = THREATQ_RESPONSE_TRANSPORT_ERROR;
      g_strlcpy(response->error, self->setopt_error, sizeof(response->error));
      return FALSE;
    }

  CURLcode code = curl_easy_perform(self->curl);

  response->received_at = g_get_real_time();
  response->retry_after = self->retry_after;
  if (code == CURLE_ABORTED_BY_CALLBACK || g_atomic_int_get(&self->abort_requested))
    {
      response->status = THREATQ_RESPONSE_ABORTED;
      g_strlcpy(response->error, "request aborted: syslog-ng is stopping or reloading", sizeof(response->error));
      return FALSE;
    }
  if (code != CURLE_OK)
    {
      response->status = THREATQ_RESPONSE_TRANSPORT_ERROR;
      _describe_transport_error(self, code, response);
      return FALSE;
    }
  curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &response->http_code);
  return TRUE;
}

static void
_forget_token(ThreatqClient *self)
{
  threatq_token_clear(&self->token);
}

static gboolean
_parse_token_response(ThreatqClient *self, ThreatqResponse *response)
{
  ThreatqToken token = { 0 };

  if (!threatq_token_parse(response->body->str, response->body->len, &token, response->error,
                           sizeof(response->error)))
    return FALSE;

  _forget_token(self);
  self->token = token;
  /* lifetime is clamped to a day: no overflow here */
  self->token_refresh_at = g_get_monotonic_time()
                           + (token.lifetime - threatq_http_refresh_margin(token.lifetime)) * G_USEC_PER_SEC;
  return TRUE;
}

/* a token response body holds the token in clear (it is at most 64 KiB) */
static void
_wipe_body(GString *body)
{
  memset(body->str, 0, body->allocated_len);
  g_string_truncate(body, 0);
}

/* our own copies of header lines may hold a secret: overwritten before they are freed */
static void
_free_headers(struct curl_slist *headers)
{
  for (struct curl_slist *h = headers; h; h = h->next)
    memset(h->data, 0, strlen(h->data));
  curl_slist_free_all(headers);
}

static gboolean
_fetch_token(ThreatqClient *self, ThreatqResponse *response)
{
  struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");

  _setup_common(self, response->body, THREATQ_TOKEN_RESPONSE_MAX_SIZE);
  THREATQ_SETOPT(self, CURLOPT_URL, self->token_url);
  THREATQ_SETOPT(self, CURLOPT_HTTPHEADER, headers);
  THREATQ_SETOPT(self, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
  THREATQ_SETOPT(self, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  THREATQ_SETOPT(self, CURLOPT_USERNAME, self->options->client_id);
  THREATQ_SETOPT(self, CURLOPT_PASSWORD, self->options->client_secret);

  gboolean performed = _perform(self, response);
  /* the credentials must not linger in the reused handle (libcurl frees its copies, it does not wipe them) */
  /* setting a string option to NULL cannot fail: no result to check */
  (void) curl_easy_setopt(self->curl, CURLOPT_USERNAME, NULL);
  (void) curl_easy_setopt(self->curl, CURLOPT_PASSWORD, NULL);
  _free_headers(headers);
  if (!performed)
    {
      _wipe_body(response->body);
      return FALSE;
    }

  response->status = threatq_http_classify(response->http_code);
  if (response->status != THREATQ_RESPONSE_OK)
    {
      /* a 4xx from the token endpoint means the credentials are wrong */
      if (response->status == THREATQ_RESPONSE_CLIENT_ERROR)
        response->status = THREATQ_RESPONSE_AUTH_FAILED;
      g_snprintf(response->error, sizeof(response->error), "token request failed with HTTP %ld", response->http_code);
      return FALSE;
    }
  gboolean parsed = _parse_token_response(self, response);
  _wipe_body(response->body);
  if (!parsed)
    {
      response->status = THREATQ_RESPONSE_AUTH_FAILED;
      return FALSE;
    }
  msg_debug("threatq: obtained an access token", evt_tag_str("driver", self->driver_id),
            evt_tag_str("token_url", self->token_url));
  return TRUE;
}

static gboolean
_ensure_token(ThreatqClient *self, ThreatqResponse *response)
{
  if (self->token.access_token && g_get_monotonic_time() < self->token_refresh_at)
    return TRUE;
  response->from_token_request = !_fetch_token(self, response);
  return !response->from_token_request;
}

const gchar *
threatq_client_token_url(ThreatqClient *self)
{
  return self->token_url;
}

gchar *
threatq_client_format_page_url(ThreatqClient *self, const gchar *cursor)
{
  gchar *escaped_cursor = curl_easy_escape(self->curl, cursor, 0);
  gchar *escaped_fields = curl_easy_escape(self->curl, self->options->fields, 0);
  gchar *url = g_strdup_printf("%s?cursorMark=%s&fields=%s&limit=%d&sort=updated_at", self->page_url_prefix,
                               escaped_cursor, escaped_fields, self->options->page_size);

  curl_free(escaped_cursor);
  curl_free(escaped_fields);
  return url;
}

static void
_request_page(ThreatqClient *self, const gchar *url, ThreatqResponse *response)
{
  /* the token is an RFC 6750 b64token (threatq-token.c): no CR, LF or other header-breaking byte */
  gchar *authorization = g_strdup_printf("Authorization: Bearer %s", self->token.access_token);
  struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
  headers = curl_slist_append(headers, authorization);

  _setup_common(self, response->body, self->options->max_page_size);
  THREATQ_SETOPT(self, CURLOPT_URL, url);
  THREATQ_SETOPT(self, CURLOPT_HTTPHEADER, headers);
  if (_perform(self, response))
    {
      response->status = threatq_http_classify(response->http_code);
      if (response->status != THREATQ_RESPONSE_OK)
        g_snprintf(response->error, sizeof(response->error), "page request failed with HTTP %ld", response->http_code);
    }

  _free_headers(headers);
  memset(authorization, 0, strlen(authorization));
  g_free(authorization);
}

void
threatq_client_fetch_page(ThreatqClient *self, const gchar *cursor, ThreatqResponse *response)
{
  gchar *url = threatq_client_format_page_url(self, cursor);

  response->error[0] = '\0';
  if (_ensure_token(self, response))
    {
      _request_page(self, url, response);
      if (response->status == THREATQ_RESPONSE_AUTH_FAILED && response->http_code == 401)
        {
          gchar *shown = threatq_http_excerpt(url, strlen(url), THREATQ_LOG_EXCERPT_MAX);
          msg_info("threatq: page request answered 401, fetching a new access token and retrying once",
                   evt_tag_str("driver", self->driver_id), evt_tag_str("url", shown));
          g_free(shown);
          _forget_token(self);
          if (_ensure_token(self, response))
            _request_page(self, url, response);
        }
    }
  g_free(url);
}

void
threatq_client_abort(ThreatqClient *self)
{
  g_atomic_int_set(&self->abort_requested, 1);
}

void
threatq_client_resume(ThreatqClient *self)
{
  g_atomic_int_set(&self->abort_requested, 0);
}

ThreatqClient *
threatq_client_new(const ThreatqClientOptions *options, const gchar *driver_id)
{
  ThreatqClient *self = g_new0(ThreatqClient, 1);

  self->options = options;
  self->driver_id = g_strdup(driver_id);
  self->curl = curl_easy_init();
  self->token_url = options->token_url ? g_strdup(options->token_url) : g_strdup_printf("%s/api/token", options->url);

  gchar *collection = curl_easy_escape(self->curl, options->collection, 0);
  self->page_url_prefix = g_strdup_printf("%s/api/indicators/query/hash/%s", options->url, collection);
  curl_free(collection);
  return self;
}

void
threatq_client_free(ThreatqClient *self)
{
  if (!self)
    return;
  _forget_token(self);
  curl_easy_cleanup(self->curl);
  g_free(self->token_url);
  g_free(self->page_url_prefix);
  g_free(self->driver_id);
  g_free(self);
}
