/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny HTTP/1.1 server for the client and reader tests: one thread, plain
 * sockets, 127.0.0.1 on a port the kernel picks.  Every request is answered
 * by the test's handler (on the server thread) and then the connection is
 * closed, so libcurl opens a new one per request.  The handler writes the
 * raw response, which lets a test send what no well-behaved server would:
 * a body cut short, oversized headers, a request left hanging.
 */
#ifndef HTTP_STUB_H_INCLUDED
#define HTTP_STUB_H_INCLUDED

#include <glib.h>

typedef struct _HttpStubRequest
{
  guint index;                  /* 0, 1, ... over all requests the stub received */
  gchar *method;
  gchar *target;                /* path and query, as sent */
  gchar *headers;               /* the header lines, CRLF-separated, as sent */
  gchar *body;
  gint64 received_at;           /* monotonic microseconds */
} HttpStubRequest;

typedef struct _HttpStubReply
{
  GString *raw;                 /* written as is: status line, headers, body */
  gssize close_after;           /* -1: write all of raw; else write this many bytes and close */
  gboolean hang;                /* write raw (up to close_after), then keep the connection open
                                 * until the client closes it or the stub is freed */
} HttpStubReply;

typedef void (*HttpStubHandler)(const HttpStubRequest *request, HttpStubReply *reply, gpointer user_data);

typedef struct _HttpStub HttpStub;

HttpStub *http_stub_new(HttpStubHandler handler, gpointer user_data);
/* Wakes a hanging reply, stops the thread. */
void http_stub_free(HttpStub *self);

/* "http://127.0.0.1:<port>" */
const gchar *http_stub_url(HttpStub *self);

guint http_stub_request_count(HttpStub *self);
/* A copy of request number index; free with http_stub_request_free(). */
HttpStubRequest *http_stub_request(HttpStub *self, guint index);
void http_stub_request_free(HttpStubRequest *request);
/* Requests whose target starts with prefix. */
guint http_stub_count_prefix(HttpStub *self, const gchar *prefix);

/* Waits until the stub has received at least count requests; FALSE after timeout_msec. */
gboolean http_stub_wait_requests(HttpStub *self, guint count, gint64 timeout_msec);
/* Waits until the stub has closed the connection of a hanging reply; FALSE after timeout_msec. */
gboolean http_stub_wait_hang_released(HttpStub *self, guint count, gint64 timeout_msec);

/* Reply helpers: a complete response with Content-Length and Connection: close. */
void http_stub_reply(HttpStubReply *reply, gint status, const gchar *extra_headers, const gchar *body, gsize length);
void http_stub_reply_json(HttpStubReply *reply, gint status, const gchar *body);

/* The value of a request header (case-insensitive name), newly allocated; NULL when absent. */
gchar *http_stub_request_header(const HttpStubRequest *request, const gchar *name);
/* The value of a query parameter, URL-decoded, newly allocated; NULL when absent. */
gchar *http_stub_request_query(const HttpStubRequest *request, const gchar *name);

/* gzip of data[0..length), for Content-Encoding: gzip. */
GBytes *http_stub_gzip(const gchar *data, gsize length);

#endif
