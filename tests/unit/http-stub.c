/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http-stub.h"

#include <gio/gio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* a request that takes longer than this to arrive is dropped */
#define HTTP_STUB_READ_TIMEOUT_MSEC 10000
#define HTTP_STUB_MAX_REQUEST (1024 * 1024)

struct _HttpStub
{
  HttpStubHandler handler;
  gpointer user_data;
  gint listen_fd;
  gint wake[2];                 /* a byte in wake[1]: stop */
  gchar *url;
  GThread *thread;

  GMutex lock;
  GCond changed;
  GPtrArray *requests;          /* HttpStubRequest * */
  guint hangs_released;
};

void
http_stub_request_free(HttpStubRequest *request)
{
  if (!request)
    return;
  g_free(request->method);
  g_free(request->target);
  g_free(request->headers);
  g_free(request->body);
  g_free(request);
}

static HttpStubRequest *
_request_copy(const HttpStubRequest *request)
{
  HttpStubRequest *copy = g_new0(HttpStubRequest, 1);

  *copy = *request;
  copy->method = g_strdup(request->method);
  copy->target = g_strdup(request->target);
  copy->headers = g_strdup(request->headers);
  copy->body = g_strdup(request->body);
  return copy;
}

gchar *
http_stub_request_header(const HttpStubRequest *request, const gchar *name)
{
  gchar **lines = g_strsplit(request->headers, "\r\n", -1);
  gsize name_length = strlen(name);
  gchar *value = NULL;

  for (gchar **line = lines; *line && !value; line++)
    if (g_ascii_strncasecmp(*line, name, name_length) == 0 && (*line)[name_length] == ':')
      value = g_strstrip(g_strdup(*line + name_length + 1));
  g_strfreev(lines);
  return value;
}

gchar *
http_stub_request_query(const HttpStubRequest *request, const gchar *name)
{
  const gchar *query = strchr(request->target, '?');
  gchar *value = NULL;

  if (!query)
    return NULL;
  gchar **pairs = g_strsplit(query + 1, "&", -1);
  for (gchar **pair = pairs; *pair && !value; pair++)
    {
      const gchar *equals = strchr(*pair, '=');
      if (equals && (gsize) (equals - *pair) == strlen(name) && strncmp(*pair, name, equals - *pair) == 0)
        value = g_uri_unescape_string(equals + 1, NULL);
    }
  g_strfreev(pairs);
  return value;
}

/* Waits for fd to be readable; FALSE on timeout or when the stub is stopping. */
static gboolean
_wait_readable(HttpStub *self, gint fd, gint timeout_msec)
{
  struct pollfd fds[2] = { { .fd = fd, .events = POLLIN }, { .fd = self->wake[0], .events = POLLIN } };
  gint ready;

  do
    ready = poll(fds, 2, timeout_msec);
  while (ready < 0 && errno == EINTR);
  return ready > 0 && !(fds[1].revents & POLLIN) && fds[0].revents;
}

static gsize
_content_length(const gchar *headers)
{
  HttpStubRequest probe = { .headers = (gchar *) headers };
  gchar *value = http_stub_request_header(&probe, "Content-Length");
  gsize length = value ? g_ascii_strtoull(value, NULL, 10) : 0;

  g_free(value);
  return length;
}

/* Reads one request: request line, headers, Content-Length bytes of body. */
static HttpStubRequest *
_read_request(HttpStub *self, gint fd)
{
  GString *data = g_string_new(NULL);
  const gchar *end = NULL;
  gsize wanted = 0;
  gchar buf[16384];

  while (data->len < HTTP_STUB_MAX_REQUEST)
    {
      if (end && data->len >= wanted)
        break;
      if (!_wait_readable(self, fd, HTTP_STUB_READ_TIMEOUT_MSEC))
        break;
      gssize n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      g_string_append_len(data, buf, n);
      if (!end && (end = strstr(data->str, "\r\n\r\n")))
        {
          gchar *head = g_strndup(data->str, end - data->str);
          wanted = (end - data->str) + 4 + _content_length(head);
          g_free(head);
        }
    }
  if (!end || data->len < wanted)
    {
      g_string_free(data, TRUE);
      return NULL;
    }

  HttpStubRequest *request = g_new0(HttpStubRequest, 1);
  const gchar *line_end = strstr(data->str, "\r\n");
  gchar *line = g_strndup(data->str, line_end - data->str);
  gchar **parts = g_strsplit(line, " ", 3);
  request->method = g_strdup(parts[0]);
  request->target = g_strdup(parts[0] && parts[1] ? parts[1] : "");
  g_strfreev(parts);
  g_free(line);
  end = strstr(data->str, "\r\n\r\n");
  request->headers = g_strndup(line_end + 2, end - (line_end + 2));
  request->body = g_strndup(end + 4, wanted - ((end + 4) - data->str));
  request->received_at = g_get_monotonic_time();
  g_string_free(data, TRUE);
  return request;
}

static void
_write_all(gint fd, const gchar *data, gsize length)
{
  while (length > 0)
    {
      gssize n = send(fd, data, length, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      data += n;
      length -= n;
    }
}

/* Keeps the connection until the client closes it or the stub stops. */
static void
_hang(HttpStub *self, gint fd)
{
  gchar buf[4096];

  while (_wait_readable(self, fd, -1) && recv(fd, buf, sizeof(buf), 0) > 0)
    ;
  g_mutex_lock(&self->lock);
  self->hangs_released++;
  g_cond_broadcast(&self->changed);
  g_mutex_unlock(&self->lock);
}

static void
_serve(HttpStub *self, gint fd)
{
  HttpStubRequest *request = _read_request(self, fd);

  if (!request)
    return;
  g_mutex_lock(&self->lock);
  request->index = self->requests->len;
  g_ptr_array_add(self->requests, request);
  g_cond_broadcast(&self->changed);
  g_mutex_unlock(&self->lock);

  HttpStubReply reply = { .raw = g_string_new(NULL), .close_after = -1 };
  self->handler(request, &reply, self->user_data);
  gsize length = reply.close_after >= 0 ? MIN((gsize) reply.close_after, reply.raw->len) : reply.raw->len;
  _write_all(fd, reply.raw->str, length);
  if (reply.hang)
    _hang(self, fd);
  g_string_free(reply.raw, TRUE);
}

static gpointer
_run(gpointer user_data)
{
  HttpStub *self = user_data;

  while (_wait_readable(self, self->listen_fd, -1))
    {
      gint fd = accept(self->listen_fd, NULL, NULL);
      if (fd < 0)
        continue;
      _serve(self, fd);
      close(fd);
    }
  return NULL;
}

HttpStub *
http_stub_new(HttpStubHandler handler, gpointer user_data)
{
  HttpStub *self = g_new0(HttpStub, 1);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
  socklen_t address_length = sizeof(address);

  self->handler = handler;
  self->user_data = user_data;
  g_mutex_init(&self->lock);
  g_cond_init(&self->changed);
  self->requests = g_ptr_array_new_with_free_func((GDestroyNotify) http_stub_request_free);

  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  self->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert(self->listen_fd >= 0);
  g_assert(bind(self->listen_fd, (struct sockaddr *) &address, sizeof(address)) == 0);
  g_assert(listen(self->listen_fd, 16) == 0);
  g_assert(getsockname(self->listen_fd, (struct sockaddr *) &address, &address_length) == 0);
  g_assert(pipe(self->wake) == 0);
  self->url = g_strdup_printf("http://127.0.0.1:%u", ntohs(address.sin_port));
  self->thread = g_thread_new("http-stub", _run, self);
  return self;
}

void
http_stub_free(HttpStub *self)
{
  if (!self)
    return;
  g_assert(write(self->wake[1], "x", 1) == 1);
  g_thread_join(self->thread);
  close(self->listen_fd);
  close(self->wake[0]);
  close(self->wake[1]);
  g_ptr_array_free(self->requests, TRUE);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->changed);
  g_free(self->url);
  g_free(self);
}

const gchar *
http_stub_url(HttpStub *self)
{
  return self->url;
}

guint
http_stub_request_count(HttpStub *self)
{
  g_mutex_lock(&self->lock);
  guint count = self->requests->len;
  g_mutex_unlock(&self->lock);
  return count;
}

HttpStubRequest *
http_stub_request(HttpStub *self, guint index)
{
  HttpStubRequest *copy = NULL;

  g_mutex_lock(&self->lock);
  if (index < self->requests->len)
    copy = _request_copy(g_ptr_array_index(self->requests, index));
  g_mutex_unlock(&self->lock);
  return copy;
}

guint
http_stub_count_prefix(HttpStub *self, const gchar *prefix)
{
  guint count = 0;

  g_mutex_lock(&self->lock);
  for (guint i = 0; i < self->requests->len; i++)
    count += g_str_has_prefix(((HttpStubRequest *) g_ptr_array_index(self->requests, i))->target, prefix);
  g_mutex_unlock(&self->lock);
  return count;
}

static gboolean
_wait_counter(HttpStub *self, const guint *counter, guint count, gint64 timeout_msec)
{
  gint64 until = g_get_monotonic_time() + timeout_msec * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock(&self->lock);
  while (*counter < count && g_cond_wait_until(&self->changed, &self->lock, until))
    ;
  gboolean reached = *counter >= count;
  g_mutex_unlock(&self->lock);
  return reached;
}

gboolean
http_stub_wait_requests(HttpStub *self, guint count, gint64 timeout_msec)
{
  return _wait_counter(self, &self->requests->len, count, timeout_msec);
}

gboolean
http_stub_wait_hang_released(HttpStub *self, guint count, gint64 timeout_msec)
{
  return _wait_counter(self, &self->hangs_released, count, timeout_msec);
}

void
http_stub_reply(HttpStubReply *reply, gint status, const gchar *extra_headers, const gchar *body, gsize length)
{
  g_string_printf(reply->raw, "HTTP/1.1 %d Stub\r\nContent-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n%s\r\n",
                  status, length, extra_headers ? extra_headers : "");
  g_string_append_len(reply->raw, body, length);
}

void
http_stub_reply_json(HttpStubReply *reply, gint status, const gchar *body)
{
  http_stub_reply(reply, status, "Content-Type: application/json\r\n", body, strlen(body));
}

GBytes *
http_stub_gzip(const gchar *data, gsize length)
{
  GZlibCompressor *compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  GOutputStream *memory = g_memory_output_stream_new_resizable();
  GOutputStream *stream = g_converter_output_stream_new(memory, G_CONVERTER(compressor));

  g_assert(g_output_stream_write_all(stream, data, length, NULL, NULL, NULL));
  g_assert(g_output_stream_close(stream, NULL, NULL));
  GBytes *bytes = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(memory));
  g_object_unref(stream);
  g_object_unref(memory);
  g_object_unref(compressor);
  return bytes;
}
