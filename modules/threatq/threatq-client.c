/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-client.h"
#include "messages.h"

#include <curl/curl.h>
#include <yajl/yajl_tree.h>
#include <string.h>
#include <stdlib.h>

/* A page of 1,000 indicators is 1-2 MB; anything far larger is not a page. */
#define THREATQ_MAX_BODY_SIZE (256 * 1024 * 1024)

struct _ThreatqClient
{
  const ThreatqClientOptions *options;
  gchar *driver_id;
  gchar *token_url;
  gchar *page_url_prefix;
  CURL *curl;
  gchar *access_token;
  gint64 token_refresh_at;    /* monotonic microseconds */
  gint abort_requested;       /* atomic */
  gint64 retry_after;
  gchar curl_error[CURL_ERROR_SIZE];
};

void
threatq_client_options_defaults(ThreatqClientOptions *options)
{
  memset(options, 0, sizeof(*options));
  options->fields = g_strdup("*,sources,attributes,attributes.name,attributes.value");
  options->page_size = 1000;
  options->timeout = 30;
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
threatq_response_init(ThreatqResponse *response)
{
  memset(response, 0, sizeof(*response));
  response->body = g_string_sized_new(64 * 1024);
  response->retry_after = -1;
}

void
threatq_response_clear(ThreatqResponse *response)
{
  if (response->body)
    g_string_free(response->body, TRUE);
  response->body = NULL;
}

static size_t
_write_body(char *data, size_t size, size_t nmemb, void *user_data)
{
  GString *body = user_data;
  gsize length = size * nmemb;

  if (body->len + length > THREATQ_MAX_BODY_SIZE)
    return 0;
  g_string_append_len(body, data, length);
  return length;
}

static size_t
_read_header(char *data, size_t size, size_t nitems, void *user_data)
{
  ThreatqClient *self = user_data;
  gsize length = size * nitems;
  static const gchar name[] = "retry-after:";

  if (length > sizeof(name) - 1 && g_ascii_strncasecmp(data, name, sizeof(name) - 1) == 0)
    {
      gchar *value = g_strstrip(g_strndup(data + sizeof(name) - 1, length - (sizeof(name) - 1)));
      gchar *end;
      gint64 seconds = g_ascii_strtoll(value, &end, 10);

      if (end != value && *end == '\0' && seconds >= 0)
        self->retry_after = seconds;
      else
        {
          time_t when = curl_getdate(value, NULL);
          if (when > 0)
            self->retry_after = MAX(0, (gint64) when - (gint64) time(NULL));
        }
      g_free(value);
    }
  return length;
}

/* libcurl calls this about once a second even when nothing arrives: our exit point. */
static int
_check_abort(void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  ThreatqClient *self = user_data;
  return g_atomic_int_get(&self->abort_requested) ? 1 : 0;
}

static void
_setup_common(ThreatqClient *self, GString *body)
{
  const ThreatqClientOptions *options = self->options;
  CURL *curl = self->curl;

  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, self->curl_error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options->timeout);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, MIN(options->timeout, 10L));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options->user_agent);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  /* pages are megabytes: fewer, larger reads */
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, _write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, _read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, self);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, _check_abort);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, self);

  if (options->proxy)
    curl_easy_setopt(curl, CURLOPT_PROXY, options->proxy);
  if (options->ca_file)
    curl_easy_setopt(curl, CURLOPT_CAINFO, options->ca_file);
  if (options->ca_dir)
    curl_easy_setopt(curl, CURLOPT_CAPATH, options->ca_dir);
  if (options->cert_file)
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options->cert_file);
  if (options->key_file)
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options->key_file);
  if (options->cipher_suite)
    curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, options->cipher_suite);
  if (options->use_system_cert_store)
    curl_easy_setopt(curl, CURLOPT_SSL_OPTIONS, (long) CURLSSLOPT_NATIVE_CA);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options->peer_verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options->peer_verify ? 2L : 0L);

  self->curl_error[0] = '\0';
  self->retry_after = -1;
  g_string_truncate(body, 0);
}

/* Runs the prepared request; FALSE on a transport error or abort (response filled in). */
static gboolean
_perform(ThreatqClient *self, ThreatqResponse *response)
{
  CURLcode code = curl_easy_perform(self->curl);

  response->received_at = g_get_real_time();
  response->retry_after = self->retry_after;
  response->http_code = 0;
  if (code == CURLE_ABORTED_BY_CALLBACK || g_atomic_int_get(&self->abort_requested))
    {
      response->status = THREATQ_RESPONSE_ABORTED;
      g_strlcpy(response->error, "request aborted: syslog-ng is stopping or reloading", sizeof(response->error));
      return FALSE;
    }
  if (code != CURLE_OK)
    {
      response->status = THREATQ_RESPONSE_TRANSPORT_ERROR;
      g_snprintf(response->error, sizeof(response->error), "%s%s%s", curl_easy_strerror(code),
                 self->curl_error[0] ? ": " : "", self->curl_error);
      return FALSE;
    }
  curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &response->http_code);
  return TRUE;
}

static ThreatqResponseStatus
_classify_http_code(glong code)
{
  if (code >= 200 && code < 300)
    return THREATQ_RESPONSE_OK;
  if (code == 401 || code == 403)
    return THREATQ_RESPONSE_AUTH_FAILED;
  if (code == 429)
    return THREATQ_RESPONSE_RATE_LIMITED;
  if (code == 408 || code >= 500)
    return THREATQ_RESPONSE_SERVER_ERROR;
  return THREATQ_RESPONSE_CLIENT_ERROR;
}

static void
_forget_token(ThreatqClient *self)
{
  if (self->access_token)
    memset(self->access_token, 0, strlen(self->access_token));
  g_clear_pointer(&self->access_token, g_free);
}

/* Reuse the token until shortly before it expires: 60 s, or a quarter of a short lifetime. */
static gint64
_refresh_margin(gint64 expires_in)
{
  return expires_in > 240 ? 60 : expires_in / 4;
}

static gboolean
_parse_token_response(ThreatqClient *self, ThreatqResponse *response)
{
  gchar parse_error[128] = "";
  yajl_val root = yajl_tree_parse(response->body->str, parse_error, sizeof(parse_error));
  const gchar *token_path[] = { "access_token", NULL };
  const gchar *expires_path[] = { "expires_in", NULL };

  if (!root)
    {
      g_snprintf(response->error, sizeof(response->error), "token response is not valid JSON");
      return FALSE;
    }

  yajl_val token = yajl_tree_get(root, token_path, yajl_t_string);
  yajl_val expires = yajl_tree_get(root, expires_path, yajl_t_any);
  if (!token || !YAJL_GET_STRING(token)[0])
    {
      g_snprintf(response->error, sizeof(response->error), "token response has no access_token");
      yajl_tree_free(root);
      return FALSE;
    }

  gint64 expires_in = 3600;
  if (expires && YAJL_IS_INTEGER(expires))
    expires_in = YAJL_GET_INTEGER(expires);
  else if (expires && YAJL_IS_STRING(expires))
    expires_in = g_ascii_strtoll(YAJL_GET_STRING(expires), NULL, 10);
  if (expires_in <= 0)
    expires_in = 60;

  _forget_token(self);
  self->access_token = g_strdup(YAJL_GET_STRING(token));
  self->token_refresh_at = g_get_monotonic_time() + (expires_in - _refresh_margin(expires_in)) * G_USEC_PER_SEC;
  yajl_tree_free(root);
  return TRUE;
}

static gboolean
_fetch_token(ThreatqClient *self, ThreatqResponse *response)
{
  struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");

  _setup_common(self, response->body);
  curl_easy_setopt(self->curl, CURLOPT_URL, self->token_url);
  curl_easy_setopt(self->curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
  curl_easy_setopt(self->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt(self->curl, CURLOPT_USERNAME, self->options->client_id);
  curl_easy_setopt(self->curl, CURLOPT_PASSWORD, self->options->client_secret);

  gboolean performed = _perform(self, response);
  /* the credentials must not linger in the reused handle */
  curl_easy_setopt(self->curl, CURLOPT_USERNAME, NULL);
  curl_easy_setopt(self->curl, CURLOPT_PASSWORD, NULL);
  curl_slist_free_all(headers);
  if (!performed)
    return FALSE;

  response->status = _classify_http_code(response->http_code);
  if (response->status != THREATQ_RESPONSE_OK)
    {
      /* a 4xx from the token endpoint means the credentials are wrong */
      if (response->status == THREATQ_RESPONSE_CLIENT_ERROR)
        response->status = THREATQ_RESPONSE_AUTH_FAILED;
      g_snprintf(response->error, sizeof(response->error), "token request failed with HTTP %ld", response->http_code);
      return FALSE;
    }
  if (!_parse_token_response(self, response))
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
  if (self->access_token && g_get_monotonic_time() < self->token_refresh_at)
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
  gchar *authorization = g_strdup_printf("Authorization: Bearer %s", self->access_token);
  struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
  headers = curl_slist_append(headers, authorization);

  _setup_common(self, response->body);
  curl_easy_setopt(self->curl, CURLOPT_URL, url);
  curl_easy_setopt(self->curl, CURLOPT_HTTPHEADER, headers);
  if (_perform(self, response))
    {
      response->status = _classify_http_code(response->http_code);
      if (response->status != THREATQ_RESPONSE_OK)
        g_snprintf(response->error, sizeof(response->error), "page request failed with HTTP %ld", response->http_code);
    }

  curl_slist_free_all(headers);
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
          msg_info("threatq: page request answered 401, fetching a new access token and retrying once",
                   evt_tag_str("driver", self->driver_id), evt_tag_str("url", url));
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
