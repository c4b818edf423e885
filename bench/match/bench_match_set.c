/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The threatq-match() set alone: build it from N indicators of mixed types
 * (CIDR blocks included), print the time and the peak resident memory, then
 * classify + look up log values (1% hits) from READERS threads, first alone,
 * then while a writer replaces indicators, and print lookups per second.
 *
 *   bench_match_set [N=1000000] [SECONDS=3] [READERS=2] [reserve]
 *
 * "reserve" sizes the set for N first, as a load of a known number would.
 */
#include "threatq-match-set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW G_GINT64_CONSTANT(1700000000)

static const gchar *providers_pool[][3] =
{
  { "Feed A", NULL }, { "Feed B", NULL }, { "Feed A", "Feed C", NULL }, { "Analyst", NULL },
  { "Feed D", "Feed B", NULL }, { "OSINT", NULL }, { "Feed E", NULL }, { "Feed F", "OSINT", NULL },
};
static const gchar *tlp_pool[] = { "WHITE", "GREEN", "AMBER", "RED" };
static const gchar *confidence_pool[] = { "Low", "Medium", "High", "None" };

/* indicator i: its type and value, written into value (the same i always gives the same) */
static const gchar *
_indicator_value(guint64 i, gchar *value, gsize size)
{
  guint64 h = i * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
  guint slot = (guint) (i % 100);

  if (slot < 40)
    return g_snprintf(value, size, "%u.%u.%u.%u", 1 + (guint) (i >> 24) % 100, (guint) (i >> 16) & 255,
                      (guint) (i >> 8) & 255, (guint) i & 255), "IP Address";
  if (slot < 45)
    return g_snprintf(value, size, "2001:db8:%x::%x", (guint) (i >> 16), (guint) i & 0xffff), "IPv6 Address";
  if (slot < 48)
    return g_snprintf(value, size, "%u.%u.%u.%u/%u", 101 + (guint) (h >> 56) % 100, (guint) (h >> 48) & 255,
                      (guint) (h >> 40) & 255, (guint) (h >> 32) & 255, 16 + (guint) (h >> 28) % 16), "CIDR Block";
  if (slot < 50)
    return g_snprintf(value, size, "2001:%x:%x:%x::/%u", (guint) (h >> 48), (guint) (h >> 32) & 0xffff,
                      (guint) (h >> 16) & 0xffff, 32 + (guint) (h >> 8) % 32), "CIDR Block";
  if (slot < 70)
    return g_snprintf(value, size, "host%" G_GUINT64_FORMAT ".bad-%u.example.com", i, (guint) (h >> 50)), "FQDN";
  if (slot < 80)
    return g_snprintf(value, size, "http://site%u.example.net/path/%" G_GUINT64_FORMAT "/login.php?id=%u",
                      (guint) (h >> 48), i, (guint) (h >> 40) & 0xff), "URL";
  if (slot < 85)
    return g_snprintf(value, size, "user%" G_GUINT64_FORMAT "@phish%u.example.org", i, (guint) (h >> 56)),
           "Email Address";
  const gchar *type = slot < 90 ? "MD5" : slot < 95 ? "SHA-1" : "SHA-256";
  gsize digits = slot < 90 ? 32 : slot < 95 ? 40 : 64;
  for (gsize d = 0; d < digits; d++)
    {
      h = h * G_GUINT64_CONSTANT(6364136223846793005) + 1442695040888963407;
      value[d] = "0123456789abcdef"[h >> 60];
    }
  value[digits] = '\0';
  return type;
}

static void
_indicator(guint64 i, guint64 version, gchar *value, gsize size, gchar *description, ThreatqMatchIndicator *out)
{
  memset(out, 0, sizeof(*out));
  out->id = (gint64) i + 1;
  out->type = _indicator_value(i, value, size);
  out->type_length = out->value_length = -1;
  out->value = value;
  out->has_score = TRUE;
  out->score = (gdouble) ((i + version) % 11);
  out->confidence = confidence_pool[i % 4];
  out->tlp = tlp_pool[(i / 4) % 4];
  out->providers = providers_pool[(i / 16) % G_N_ELEMENTS(providers_pool)];
  /* a feed's descriptions repeat: 500 distinct texts */
  g_snprintf(description, 64, "Imported from feed run %u (campaign %u)", (guint) (i % 500), (guint) (i % 37));
  out->description = description;
  out->updated_at = NOW - 86400 + (gint64) (version % 86400);
  out->first_seen = NOW - 864000;
  out->last_seen = NOW - 86400;
  out->expires_at = i % 10 == 0 ? NOW + 3600 : THREATQ_MATCH_NEVER;
}

static gsize
_status_kb(const gchar *name)
{
  gchar *status = NULL;
  gsize kb = 0;

  if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
    return 0;
  const gchar *line = strstr(status, name);
  if (line)
    kb = (gsize) g_ascii_strtoull(line + strlen(name), NULL, 10);
  g_free(status);
  return kb;
}

static gdouble
_thread_cpu_seconds(void)
{
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (gdouble) now.tv_sec + (gdouble) now.tv_nsec / 1e9;
}

typedef struct
{
  ThreatqMatchSet *set;
  gchar **log_values;
  gsize log_count;
  gsize indicators;
  gint stop;
  guint64 lookups;
  guint64 hits;
  guint64 updates;
  gdouble reader_cpu;           /* seconds, all readers */
} Run;

static gpointer
_reader(gpointer data)
{
  Run *run = data;
  ThreatqMatchValue value;
  const ThreatqMatchEntry *hits[8];
  guint64 lookups = 0, found = 0;
  gsize i = (gsize) g_random_int_range(0, (gint) run->log_count);
  gdouble cpu_start = _thread_cpu_seconds();

  while (!g_atomic_int_get(&run->stop))
    {
      const gchar *text = run->log_values[i];
      i = i + 1 == run->log_count ? 0 : i + 1;
      lookups++;
      if (!threatq_match_value_classify(text, strlen(text), &value))
        continue;
      guint token = threatq_match_set_read_begin(run->set);
      gsize count = threatq_match_set_lookup(run->set, &value.key, NOW, TRUE, hits, G_N_ELEMENTS(hits));
      if (count && threatq_match_best_hit(hits, count)->id > 0)
        found++;
      threatq_match_set_read_end(run->set, token);
    }
  __atomic_add_fetch(&run->lookups, lookups, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&run->hits, found, __ATOMIC_SEQ_CST);
  /* the thread's CPU time in microseconds, for g_thread_join() */
  return GSIZE_TO_POINTER((gsize) ((_thread_cpu_seconds() - cpu_start) * G_USEC_PER_SEC));
}

/* replaces 1000 random indicators (new score and updated_at) every 10 ms */
static gpointer
_writer(gpointer data)
{
  Run *run = data;
  gchar value[256], description[64];
  ThreatqMatchIndicator indicator;
  guint64 version = 1;

  while (!g_atomic_int_get(&run->stop))
    {
      for (gint k = 0; k < 1000; k++)
        {
          guint64 i = (guint64) g_random_int_range(0, (gint) run->indicators);
          _indicator(i, version++, value, sizeof(value), description, &indicator);
          threatq_match_set_insert(run->set, &indicator);
          run->updates++;
        }
      g_usleep(10000);
    }
  return NULL;
}

/* 1 in 100 is the value of an indicator, the rest miss: addresses, names, hashes, URLs as logs carry them */
static gchar **
_log_values(gsize count, gsize indicators)
{
  gchar **values = g_new(gchar *, count);
  gchar value[256];

  for (gsize n = 0; n < count; n++)
    {
      guint64 r = g_random_int();
      if (n % 100 == 0)
        {
          guint64 i = r % indicators;
          /* a CIDR block is hit by an address inside it, an FQDN also through a subdomain */
          const gchar *type = _indicator_value(i, value, sizeof(value));
          if (strcmp(type, "CIDR Block") == 0)
            *strchr(value, '/') = '\0';
          values[n] = strcmp(type, "FQDN") == 0 && r % 2 ? g_strdup_printf("www.%s", value) : g_strdup(value);
          continue;
        }
      switch (n % 5)
        {
        case 0:
        case 1:
          values[n] = g_strdup_printf("220.%u.%u.%u", (guint) (r >> 16) & 255, (guint) (r >> 8) & 255, (guint) r & 255);
          break;
        case 2:
          values[n] = g_strdup_printf("www.site%u.example.com", (guint) r);
          break;
        case 3:
          values[n] = g_strdup_printf("https://cdn%u.example.com/assets/app.js?v=%u", (guint) r & 1023, (guint) r);
          break;
        default:
          values[n] = g_strdup_printf("%08x%08x%08x%08x", (guint) r, (guint) ~r, (guint) (r * 7), (guint) (r * 13));
        }
    }
  return values;
}

static gdouble
_lookups_per_second(Run *run, guint readers, gdouble seconds, gboolean with_writer)
{
  GThread *threads[16];
  GThread *writer = NULL;

  run->stop = 0;
  run->lookups = run->hits = run->updates = 0;
  run->reader_cpu = 0;
  for (guint t = 0; t < readers; t++)
    threads[t] = g_thread_new("reader", _reader, run);
  if (with_writer)
    writer = g_thread_new("writer", _writer, run);
  gint64 start = g_get_monotonic_time();
  g_usleep((gulong) (seconds * G_USEC_PER_SEC));
  g_atomic_int_set(&run->stop, 1);
  for (guint t = 0; t < readers; t++)
    run->reader_cpu += (gdouble) GPOINTER_TO_SIZE(g_thread_join(threads[t])) / G_USEC_PER_SEC;
  gdouble elapsed = (gdouble) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  if (writer)
    g_thread_join(writer);
  return (gdouble) run->lookups / elapsed;
}


/* returns the wall time; *cpu the thread's CPU time (less bent by other processes) */
static gdouble
_build(ThreatqMatchSet *set, gsize n, gboolean insert, gdouble *cpu)
{
  gchar value[256], description[64];
  ThreatqMatchIndicator indicator;
  gint64 start = g_get_monotonic_time();
  gdouble cpu_start = _thread_cpu_seconds();

  for (gsize i = 0; i < n; i++)
    {
      _indicator(i, 0, value, sizeof(value), description, &indicator);
      if (insert && threatq_match_set_insert(set, &indicator) != THREATQ_MATCH_INSERTED)
        {
          fprintf(stderr, "insert %zu (%s %s) failed\n", i, indicator.type, value);
          exit(1);
        }
    }
  *cpu = _thread_cpu_seconds() - cpu_start;
  return (gdouble) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

int
main(int argc, char **argv)
{
  gsize n = argc > 1 ? (gsize) atol(argv[1]) : 1000000;
  gdouble seconds = argc > 2 ? atof(argv[2]) : 3;
  guint readers = argc > 3 ? (guint) CLAMP(atoi(argv[3]), 1, 16) : 2;
  gboolean reserve = argc > 4 && strcmp(argv[4], "reserve") == 0;
  ThreatqMatchSetStats stats;

  gsize rss_before = _status_kb("VmRSS:");
  gdouble generate_cpu, build_cpu;
  gdouble generate = _build(NULL, n, FALSE, &generate_cpu);
  ThreatqMatchSet *set = threatq_match_set_new(0);
  if (reserve)
    threatq_match_set_reserve(set, n);
  gdouble build = _build(set, n, TRUE, &build_cpu);
  threatq_match_set_get_stats(set, &stats);
  printf("indicators:            %zu (40%% IPv4, 5%% IPv6, 5%% CIDR, 20%% FQDN, 10%% URL, 5%% e-mail, 15%% hashes)%s\n", n,
         reserve ? ", reserved" : "");
  printf("insert time:           %.3f s wall, %.3f s CPU (of which generating the values: %.3f s wall, %.3f s CPU)\n",
         build, build_cpu, generate, generate_cpu);
  printf("memory:                VmHWM %zu kB, VmRSS %zu kB before building; set's own count %zu kB\n",
         _status_kb("VmHWM:"), rss_before, stats.bytes / 1024);

  Run run = { .set = set, .log_count = 1000000, .indicators = n };
  run.log_values = _log_values(run.log_count, n);
  gdouble alone = _lookups_per_second(&run, readers, seconds, FALSE);
  printf("lookups, no writer:    %.0f /s over %u threads (%.2f%% hits); %.0f per CPU-second of a reader\n", alone,
         readers, 100.0 * (gdouble) run.hits / (gdouble) MAX(run.lookups, 1), (gdouble) run.lookups / run.reader_cpu);
  gdouble contended = _lookups_per_second(&run, readers, seconds, TRUE);
  printf("lookups, with writer:  %.0f /s over %u threads (%.2f%% hits); %.0f per CPU-second of a reader; "
         "writer %.0f updates/s\n", contended, readers, 100.0 * (gdouble) run.hits / (gdouble) MAX(run.lookups, 1),
         (gdouble) run.lookups / run.reader_cpu, (gdouble) run.updates / seconds);

  for (gsize i = 0; i < run.log_count; i++)
    g_free(run.log_values[i]);
  g_free(run.log_values);
  threatq_match_set_free(set);
  return 0;
}
