/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON parser benchmark for one ThreatQ indicator page.
 *
 * Question answered: what does it cost to get each indicator's "value" and
 * "type.name" out of a ~1.7 MB page with
 *   (a) json-glib DOM (json_parser_load_from_data + walk),
 *   (b) yajl tree DOM (yajl_tree_parse + walk),
 *   (c) yajl streaming callbacks over the whole buffer,
 *   (d) the same callbacks fed in 16 KiB chunks, as a curl write callback would.
 * Every method must extract identical data (checked), each is timed for >= 2 s,
 * and peak RSS per method is measured in a forked child (DOMs hold the whole
 * tree; streaming holds only the parser state).
 *
 * build: gcc -O2 json_parsers.c $(pkg-config --cflags --libs json-glib-1.0 yajl glib-2.0)
 * usage: json_parsers PAGE.json
 */
#include <json-glib/json-glib.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIN_SECONDS 2.0
#define CHUNK 16384

/* What each method must produce: indicator count plus a checksum over the
 * extracted strings, so no method can skip work and all are cross-checked. */
typedef struct
{
  size_t indicators;
  size_t checksum;
} Result;

static const char *page;
static size_t page_len;

static size_t
sum_str(const char *s)
{
  size_t h = 0;
  for (; s && *s; s++)
    h = h * 31 + (unsigned char) *s;
  return h;
}

/* (a) json-glib DOM */
static Result
run_json_glib(void)
{
  Result r = {0, 0};
  GError *err = NULL;
  JsonParser *parser = json_parser_new();
  if (!json_parser_load_from_data(parser, page, page_len, &err))
    {
      fprintf(stderr, "json-glib: %s\n", err->message);
      exit(1);
    }
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  JsonArray *data = json_object_get_array_member(root, "data");
  guint n = json_array_get_length(data);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *ind = json_array_get_object_element(data, i);
      JsonObject *type = json_object_get_object_member(ind, "type");
      r.checksum += sum_str(json_object_get_string_member(ind, "value"));
      r.checksum += sum_str(json_object_get_string_member(type, "name"));
      r.indicators++;
    }
  g_object_unref(parser);
  return r;
}

/* (b) yajl tree DOM (needs a NUL-terminated buffer; page has one) */
static Result
run_yajl_tree(void)
{
  static const char *data_path[] = {"data", NULL};
  static const char *value_path[] = {"value", NULL};
  static const char *type_path[] = {"type", "name", NULL};
  Result r = {0, 0};
  char errbuf[256];
  yajl_val root = yajl_tree_parse(page, errbuf, sizeof(errbuf));
  if (!root)
    {
      fprintf(stderr, "yajl_tree: %s\n", errbuf);
      exit(1);
    }
  yajl_val data = yajl_tree_get(root, data_path, yajl_t_array);
  for (size_t i = 0; i < YAJL_GET_ARRAY(data)->len; i++)
    {
      yajl_val ind = YAJL_GET_ARRAY(data)->values[i];
      r.checksum += sum_str(YAJL_GET_STRING(yajl_tree_get(ind, value_path, yajl_t_string)));
      r.checksum += sum_str(YAJL_GET_STRING(yajl_tree_get(ind, type_path, yajl_t_string)));
      r.indicators++;
    }
  yajl_tree_free(root);
  return r;
}

/* (c)/(d) yajl streaming callbacks. Only a few ints of state plus the copied
 * strings: nothing proportional to the page size is ever allocated. */
enum { WANT_NONE, WANT_VALUE, WANT_TYPE_NAME };

typedef struct
{
  int depth;         /* container nesting; root map = 1, data array = 2, indicator = 3 */
  gboolean in_data;  /* inside the top-level "data" array */
  gboolean type_key; /* last indicator-level key was "type" */
  gboolean in_type;  /* inside the indicator's "type" object */
  int want;          /* what the next string value is */
  char value[1024];
  char type_name[128];
  Result r;
} StreamCtx;

static void
copy_str(char *dst, size_t cap, const unsigned char *s, size_t len)
{
  if (len >= cap)
    len = cap - 1;
  memcpy(dst, s, len);
  dst[len] = '\0';
}

static int
cb_string(void *c, const unsigned char *s, size_t len)
{
  StreamCtx *ctx = c;
  if (ctx->want == WANT_VALUE)
    {
      copy_str(ctx->value, sizeof(ctx->value), s, len);
      ctx->r.checksum += sum_str(ctx->value);
    }
  else if (ctx->want == WANT_TYPE_NAME)
    {
      copy_str(ctx->type_name, sizeof(ctx->type_name), s, len);
      ctx->r.checksum += sum_str(ctx->type_name);
    }
  ctx->want = WANT_NONE;
  return 1;
}

static int
cb_map_key(void *c, const unsigned char *k, size_t len)
{
  StreamCtx *ctx = c;
#define KEY_IS(lit) (len == sizeof(lit) - 1 && memcmp(k, lit, len) == 0)
  ctx->want = WANT_NONE;
  if (ctx->depth == 1)
    ctx->in_data = KEY_IS("data");
  else if (ctx->in_data && ctx->depth == 3)
    {
      ctx->type_key = KEY_IS("type");
      if (KEY_IS("value"))
        ctx->want = WANT_VALUE;
    }
  else if (ctx->in_type && ctx->depth == 4 && KEY_IS("name"))
    ctx->want = WANT_TYPE_NAME;
#undef KEY_IS
  return 1;
}

static int
cb_start_map(void *c)
{
  StreamCtx *ctx = c;
  if (ctx->in_data && ctx->depth == 2)
    ctx->r.indicators++;  /* a map start at depth 2 == one indicator */
  else if (ctx->in_data && ctx->depth == 3 && ctx->type_key)
    ctx->in_type = TRUE;
  ctx->depth++;
  ctx->want = WANT_NONE;
  return 1;
}

static int
cb_end_map(void *c)
{
  StreamCtx *ctx = c;
  if (--ctx->depth == 3)
    ctx->in_type = FALSE;
  return 1;
}

static int
cb_start_array(void *c)
{
  StreamCtx *ctx = c;
  ctx->depth++;
  ctx->want = WANT_NONE;
  return 1;
}

static int
cb_end_array(void *c)
{
  StreamCtx *ctx = c;
  if (--ctx->depth == 1)
    ctx->in_data = FALSE;
  return 1;
}

static const yajl_callbacks stream_callbacks = {
  .yajl_string = cb_string,
  .yajl_map_key = cb_map_key,
  .yajl_start_map = cb_start_map,
  .yajl_end_map = cb_end_map,
  .yajl_start_array = cb_start_array,
  .yajl_end_array = cb_end_array,
};

static Result
run_yajl_stream_chunked(size_t chunk)
{
  StreamCtx ctx = {0};
  yajl_handle h = yajl_alloc(&stream_callbacks, NULL, &ctx);
  yajl_status st = yajl_status_ok;
  for (size_t off = 0; off < page_len && st == yajl_status_ok; off += chunk)
    st = yajl_parse(h, (const unsigned char *) page + off,
                    MIN(chunk, page_len - off));
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  if (st != yajl_status_ok)
    {
      unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
      fprintf(stderr, "yajl_parse: %s\n", msg);
      exit(1);
    }
  yajl_free(h);
  return ctx.r;
}

static Result
run_yajl_stream(void)
{
  return run_yajl_stream_chunked(page_len);
}

static Result
run_yajl_stream_16k(void)
{
  return run_yajl_stream_chunked(CHUNK);
}

static Result
run_nothing(void)
{
  Result r = {0, 0};
  return r;
}

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Peak RSS of a forked child that parses the page once, minus a child that
 * does nothing: the memory a method needs on top of the raw page buffer. */
static long
peak_rss_kb(Result (*fn)(void))
{
  pid_t pid = fork();
  if (pid == 0)
    {
      volatile Result r = fn();
      (void) r;
      _exit(0);
    }
  int status;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  return ru.ru_maxrss;
}

typedef struct
{
  const char *name;
  Result (*fn)(void);
} Method;

int
main(int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf(stderr, "usage: %s PAGE.json\n", argv[0]);
      return 2;
    }
  gchar *buf;
  gsize len;
  GError *err = NULL;
  if (!g_file_get_contents(argv[1], &buf, &len, &err))  /* NUL-terminates */
    {
      fprintf(stderr, "%s\n", err->message);
      return 1;
    }
  page = buf;
  page_len = len;

  const Method methods[] = {
    {"json-glib DOM (json_parser_load_from_data)", run_json_glib},
    {"yajl tree DOM (yajl_tree_parse)", run_yajl_tree},
    {"yajl callbacks, whole buffer", run_yajl_stream},
    {"yajl callbacks, 16 KiB chunks", run_yajl_stream_16k},
  };
  const int n_methods = G_N_ELEMENTS(methods);

  /* memory first, before the timing loops grow this process's heap */
  long base_rss = peak_rss_kb(run_nothing);
  long rss[G_N_ELEMENTS(methods)];
  for (int m = 0; m < n_methods; m++)
    rss[m] = peak_rss_kb(methods[m].fn) - base_rss;

  Result ref = methods[n_methods - 1].fn();
  printf("extracted per page: %zu indicators (value + type.name), cross-checked across methods\n",
         ref.indicators);
  printf("%-44s %9s %14s %16s\n", "method", "MB/s", "indicators/s", "peak_RSS+_KB");
  for (int m = 0; m < n_methods; m++)
    {
      Result r = methods[m].fn();  /* warm-up, and cross-check extraction */
      if (r.indicators != ref.indicators || r.checksum != ref.checksum)
        {
          fprintf(stderr, "%s: extracted %zu indicators / checksum %zx, expected %zu / %zx\n",
                  methods[m].name, r.indicators, r.checksum, ref.indicators, ref.checksum);
          return 1;
        }
      long iters = 0;
      double t0 = now(), elapsed;
      do
        {
          methods[m].fn();
          iters++;
        }
      while ((elapsed = now() - t0) < MIN_SECONDS);
      printf("%-44s %9.1f %14.0f %16ld\n", methods[m].name,
             page_len * (double) iters / elapsed / 1e6,
             r.indicators * (double) iters / elapsed, rss[m]);
      fflush(stdout);
    }
  g_free(buf);
  return 0;
}
