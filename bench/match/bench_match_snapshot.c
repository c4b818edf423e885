/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The threatq-match snapshot file alone (threatq-match-snapshot.h), with the indicators of
 * bench_match_set.c (its generator is reused by including it, so both benchmarks build the same set):
 *
 *   bench_match_snapshot write N PATH   builds the set of N, writes it as a snapshot (one page
 *                                       of appends and its commit), appends it twice more and
 *                                       compacts; prints the times and the file sizes
 *   bench_match_snapshot load N PATH    loads PATH into a new set (max_size N) in this fresh
 *                                       process; prints the load time and VmHWM, and checks
 *                                       that the N entries are back and that lookups hit
 */
#define main bench_match_set_main
#include "bench_match_set.c"
#undef main

#include "threatq-match-snapshot.h"

#include <unistd.h>

static gdouble
_seconds_since(gint64 start)
{
  return (gdouble) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

static void
_append_entry(const ThreatqMatchEntry *entry, gpointer user_data)
{
  threatq_match_snapshot_append_entry(user_data, entry);
}

static ThreatqMatchSnapshot *
_open_snapshot(const gchar *path)
{
  GError *error = NULL;
  ThreatqMatchSnapshot *snapshot = threatq_match_snapshot_open(path, "bench identity", &error);
  if (!snapshot)
    {
      fprintf(stderr, "%s\n", error->message);
      exit(1);
    }
  return snapshot;
}

static gdouble
_append_all(ThreatqMatchSnapshot *snapshot, ThreatqMatchSet *set, const gchar *position)
{
  gint64 start = g_get_monotonic_time();
  GError *error = NULL;

  threatq_match_set_foreach(set, _append_entry, snapshot);
  if (!threatq_match_snapshot_commit(snapshot, position, &error))
    {
      fprintf(stderr, "%s\n", error->message);
      exit(1);
    }
  return _seconds_since(start);
}

static int
_write(gsize n, const gchar *path)
{
  gdouble cpu;
  ThreatqMatchSet *set = threatq_match_set_new(0);
  gchar *position = NULL;
  GError *error = NULL;

  unlink(path);
  _build(set, n, TRUE, &cpu);
  ThreatqMatchSnapshot *snapshot = _open_snapshot(path);
  threatq_match_snapshot_load(snapshot, set, &position);
  gdouble first = _append_all(snapshot, set, "after-first-write");
  guint64 first_size = threatq_match_snapshot_get_size(snapshot);
  _append_all(snapshot, set, "after-second-write");
  _append_all(snapshot, set, "after-third-write");
  guint64 grown = threatq_match_snapshot_get_size(snapshot);
  gint64 start = g_get_monotonic_time();
  if (!threatq_match_snapshot_maybe_compact(snapshot, set, "compacted", &error))
    {
      fprintf(stderr, "%s\n", error->message);
      return 1;
    }
  gdouble compact = _seconds_since(start);
  printf("snapshot write:        %.3f s for %zu entries appended and committed (no fsync), %" G_GUINT64_FORMAT
         " bytes (%.1f per entry)\n", first, n, first_size, (gdouble) first_size / (gdouble) MAX(n, 1));
  printf("snapshot compaction:   %.3f s from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
         " bytes (temporary file, fsync, rename)\n", compact, grown, threatq_match_snapshot_get_size(snapshot));
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(set);
  return 0;
}

static int
_load(gsize n, const gchar *path)
{
  ThreatqMatchSet *set = threatq_match_set_new(n);
  ThreatqMatchSetStats stats;
  gchar *position = NULL;
  gsize rss_before = _status_kb("VmRSS:");

  ThreatqMatchSnapshot *snapshot = _open_snapshot(path);
  gint64 start = g_get_monotonic_time();
  gdouble cpu_start = _thread_cpu_seconds();
  gboolean loaded = threatq_match_snapshot_load(snapshot, set, &position);
  gdouble load = _seconds_since(start), cpu = _thread_cpu_seconds() - cpu_start;
  const GError *error = threatq_match_snapshot_get_error(snapshot);
  threatq_match_set_get_stats(set, &stats);

  /* every indicator is back: look each one up by its value */
  gchar value[256], description[64];
  ThreatqMatchIndicator indicator;
  gsize found = 0;
  for (gsize i = 0; i < n; i++)
    {
      ThreatqMatchValue key;
      const ThreatqMatchEntry *hit;
      _indicator(i, 0, value, sizeof(value), description, &indicator);
      threatq_match_value_from_indicator(indicator.type, strlen(indicator.type), value, strlen(value), &key, NULL);
      guint token = threatq_match_set_read_begin(set);
      found += threatq_match_set_lookup(set, &key.key, NOW, FALSE, &hit, 1) > 0;
      threatq_match_set_read_end(set, token);
    }
  printf("snapshot load:         %.3f s wall, %.3f s CPU: %s, position %s, %zu entries, %zu of %zu indicators "
         "found by value%s%s\n", load, cpu, loaded ? "loaded" : "NOT loaded", position ? position : "(none)",
         stats.entries, found, n, error ? "; " : "", error ? error->message : "");
  printf("memory after load:     VmHWM %zu kB (VmRSS %zu kB before); set's own count %zu kB\n",
         _status_kb("VmHWM:"), rss_before, stats.bytes / 1024);
  threatq_match_snapshot_free(snapshot);
  threatq_match_set_free(set);
  g_free(position);
  return loaded && stats.entries == n && found == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
  if (argc != 4 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "load") != 0))
    {
      fprintf(stderr, "usage: %s write|load N PATH\n", argv[0]);
      return 2;
    }
  gsize n = (gsize) atol(argv[2]);
  return strcmp(argv[1], "write") == 0 ? _write(n, argv[3]) : _load(n, argv[3]);
}
