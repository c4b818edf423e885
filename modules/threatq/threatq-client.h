/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP side of threatq(): OAuth2 client-credentials token and one page
 * request.  Used from the fetcher thread only, except threatq_client_abort().
 */
#ifndef THREATQ_CLIENT_H_INCLUDED
#define THREATQ_CLIENT_H_INCLUDED

#include <glib.h>

typedef struct _ThreatqClientOptions
{
  gchar *url;                 /* base URL, without trailing slash */
  gchar *token_url;           /* NULL: <url>/api/token */
  gchar *collection;
  gchar *client_id;
  gchar *client_secret;
  gchar *fields;
  gint page_size;
  glong timeout;              /* seconds, whole request */
  gchar *proxy;
  gchar *user_agent;
  gchar *ca_file;
  gchar *ca_dir;
  gchar *cert_file;
  gchar *key_file;
  gchar *cipher_suite;
  gboolean peer_verify;
  gboolean use_system_cert_store;
} ThreatqClientOptions;

void threatq_client_options_defaults(ThreatqClientOptions *options);
void threatq_client_options_destroy(ThreatqClientOptions *options);

typedef enum
{
  THREATQ_RESPONSE_OK,              /* 2xx, body holds the page */
  THREATQ_RESPONSE_AUTH_FAILED,     /* no token, or 401 again with a fresh one */
  THREATQ_RESPONSE_RATE_LIMITED,    /* 429; retry_after set when the server said */
  THREATQ_RESPONSE_SERVER_ERROR,    /* 5xx */
  THREATQ_RESPONSE_CLIENT_ERROR,    /* other 4xx, 3xx: configuration problem, e.g. unknown collection */
  THREATQ_RESPONSE_TRANSPORT_ERROR, /* timeout, refused, reset, TLS */
  THREATQ_RESPONSE_ABORTED,         /* shutdown or reload asked us to stop */
} ThreatqResponseStatus;

typedef struct _ThreatqResponse
{
  ThreatqResponseStatus status;
  glong http_code;
  GString *body;
  gint64 retry_after;         /* seconds; -1 when not given */
  gchar error[256];           /* what went wrong, never a secret */
  gint64 received_at;         /* microseconds since the epoch */
  gboolean from_token_request; /* the failure came from the token endpoint */
} ThreatqResponse;

typedef struct _ThreatqClient ThreatqClient;

ThreatqClient *threatq_client_new(const ThreatqClientOptions *options, const gchar *driver_id);
void threatq_client_free(ThreatqClient *self);

/* Blocking; returns early with THREATQ_RESPONSE_ABORTED after threatq_client_abort(). */
void threatq_client_fetch_page(ThreatqClient *self, const gchar *cursor, ThreatqResponse *response);

/* Thread-safe: makes the current and every later request return ABORTED within about a second. */
void threatq_client_abort(ThreatqClient *self);

/* Undoes threatq_client_abort(): a driver is initialised again after a failed reload. */
void threatq_client_resume(ThreatqClient *self);

const gchar *threatq_client_token_url(ThreatqClient *self);

/* The page URL for a cursor, for logging (has no secret in it). */
gchar *threatq_client_format_page_url(ThreatqClient *self, const gchar *cursor);

void threatq_response_init(ThreatqResponse *response);
void threatq_response_clear(ThreatqResponse *response);

#endif
