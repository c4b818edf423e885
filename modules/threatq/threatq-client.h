/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP side of threatq(): OAuth2 client-credentials token and one page
 * request.  Used from the reader thread only (threatq-reader.c), except
 * threatq_client_abort() and threatq_client_resume(): threatq_reader_request_stop()
 * and threatq_reader_reset() call them from the thread that stops or (re)initialises
 * the source, to cut a request short on stop or reload.
 */
#ifndef THREATQ_CLIENT_H_INCLUDED
#define THREATQ_CLIENT_H_INCLUDED

#include "threatq-http-policy.h"

#include <glib.h>

/* max-page-size(): a page of 1,000 indicators is 1-2 MB */
#define THREATQ_DEFAULT_MAX_PAGE_SIZE (32 * 1024 * 1024)
#define THREATQ_MIN_MAX_PAGE_SIZE (64 * 1024)
#define THREATQ_MAX_MAX_PAGE_SIZE (1024 * 1024 * 1024)
/* all header lines of one response together */
#define THREATQ_MAX_HEADER_BYTES (64 * 1024)

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
  gsize max_page_size;        /* bytes of a page body, after decompression */
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

typedef struct _ThreatqResponse
{
  ThreatqResponseStatus status;
  glong http_code;
  GString *body;
  gint64 retry_after;         /* seconds; -1 when not given */
  gchar error[256];           /* what went wrong, never a secret, server text cut to a few hundred bytes */
  gint64 received_at;         /* microseconds since the epoch */
  gboolean from_token_request; /* the failure came from the token endpoint */
  gboolean owns_body;         /* FALSE: body is the caller's buffer, kept after threatq_response_clear() */
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

/* The page URL for a cursor (has no secret in it; the cursor is at most THREATQ_CURSOR_MAX_LENGTH). */
gchar *threatq_client_format_page_url(ThreatqClient *self, const gchar *cursor);

/*
 * body: a buffer the caller keeps across requests (emptied here, never freed by the response), or
 * NULL for one the response owns.  A page reader reuses one buffer: growing a fresh one to a page
 * of megabytes costs copies and page faults on every page.
 */
void threatq_response_init(ThreatqResponse *response, GString *body);
void threatq_response_clear(ThreatqResponse *response);

#endif
