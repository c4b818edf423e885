/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP policy of threatq() as pure functions: how an answer's status is
 * classified, how Retry-After is read, how long to back off, when to renew the
 * access token.  No syslog-ng, no I/O, no clock: the caller passes the time
 * and the random number, so every rule is table-tested (tests/unit/test_http_policy.c).
 * Safe on any thread.
 */
#ifndef THREATQ_HTTP_POLICY_H_INCLUDED
#define THREATQ_HTTP_POLICY_H_INCLUDED

#include <glib.h>

typedef enum
{
  THREATQ_RESPONSE_OK,              /* 2xx, body holds the page */
  THREATQ_RESPONSE_AUTH_FAILED,     /* no token, or 401 again with a fresh one */
  THREATQ_RESPONSE_RATE_LIMITED,    /* 429; retry_after set when the server said */
  THREATQ_RESPONSE_SERVER_ERROR,    /* 5xx, 408 */
  THREATQ_RESPONSE_CLIENT_ERROR,    /* other 4xx, 1xx, 3xx (redirects are not followed) */
  THREATQ_RESPONSE_TRANSPORT_ERROR, /* timeout, refused, reset, TLS, a bound exceeded */
  THREATQ_RESPONSE_ABORTED,         /* shutdown or reload asked us to stop */
} ThreatqResponseStatus;

/* Retry-After is obeyed up to an hour; a longer one is read as an hour. */
#define THREATQ_MAX_RETRY_AFTER_SEC 3600
/* A Retry-After value longer than this is not looked at. */
#define THREATQ_MAX_RETRY_AFTER_TEXT 64
/* The first back-off; it doubles up to time-reopen() (at least this). */
#define THREATQ_FIRST_BACKOFF_MSEC 1000
/* expires_in is clamped to [1 s, 1 day]; absent or not an integer: an hour */
#define THREATQ_TOKEN_DEFAULT_LIFETIME_SEC 3600
#define THREATQ_TOKEN_MAX_LIFETIME_SEC (24 * 3600)

ThreatqResponseStatus threatq_http_classify(glong http_code);

/*
 * A Retry-After header value (text[0..length), surrounding blanks allowed):
 * delay-seconds or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), read
 * against now (unix seconds).  Seconds to wait, capped at
 * THREATQ_MAX_RETRY_AFTER_SEC; -1 when the value is neither.
 */
gint64 threatq_http_parse_retry_after(const gchar *text, gsize length, gint64 now);

/*
 * The back-off before retry number failures+1: THREATQ_FIRST_BACKOFF_MSEC
 * doubled per failure, capped at max(max_backoff_msec, the first back-off),
 * then jittered down to half: delay/2 + random % (delay/2 + 1).
 */
gint64 threatq_http_backoff_msec(guint failures, gint64 max_backoff_msec, guint32 random);

/* expires_in as the token endpoint sent it (NULL: absent) -> lifetime in seconds, clamped */
gint64 threatq_http_token_lifetime(const gchar *expires_in, gsize length);

/* How long before the end of its lifetime a token is renewed: 60 s, or a quarter of a short one. */
gint64 threatq_http_refresh_margin(gint64 lifetime);

/* Server-derived text is logged as at most this many bytes. */
#define THREATQ_LOG_EXCERPT_MAX 256

/*
 * text[0..length) made fit for a log line: at most max bytes (max >= 32),
 * bytes outside visible ASCII and space shown as '?', and when cut,
 * "...(N bytes)" at the end.  Returns a newly allocated string.
 */
gchar *threatq_http_excerpt(const gchar *text, gsize length, gsize max);

#endif
