/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for threatq-match-snapshot: arbitrary bytes as a snapshot file, loaded into a
 * set of at most 1000 entries.  Besides ASan/UBSan reports (and libFuzzer's malloc limit, for
 * over-allocation) it aborts on a broken contract: a refused file that left entries or a position,
 * a file not cut back to what was loaded, or a file that, once loaded and given one more commit,
 * does not load again to the same number of entries at that commit's position.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "threatq-match-snapshot.h"

#define CHECK(cond) \
  do { if (!(cond)) { fprintf(stderr, "fuzz_match_snapshot: check failed: %s (line %d)\n", #cond, __LINE__); \
                       abort(); } } while (0)

#define IDENTITY "fuzz identity"

static gchar *path;

static gsize
_entries(ThreatqMatchSet *set)
{
  ThreatqMatchSetStats stats;
  threatq_match_set_get_stats(set, &stats);
  return stats.entries;
}

static ThreatqMatchSnapshot *
_open(void)
{
  ThreatqMatchSnapshot *snapshot = threatq_match_snapshot_open(path, IDENTITY, NULL);
  CHECK(snapshot);
  return snapshot;
}

static void
_write_input(const guint8 *data, size_t size)
{
  gint fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  CHECK(write(fd, data, size) == (ssize_t) size);
  close(fd);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  if (!path)
    path = g_strdup_printf("%s/fuzz_match_snapshot-%d.match",
                           g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir(), getpid());
  _write_input(data, size);

  ThreatqMatchSet *set = threatq_match_set_new(1000);
  ThreatqMatchSnapshot *snapshot = _open();
  gchar *position = NULL;
  gboolean loaded = threatq_match_snapshot_load(snapshot, set, &position);
  if (!loaded)
    CHECK(!position && _entries(set) == 0);
  GStatBuf st;
  CHECK(g_stat(path, &st) == 0 && (guint64) st.st_size == threatq_match_snapshot_get_size(snapshot));
  CHECK(threatq_match_snapshot_commit(snapshot, "after", NULL));
  threatq_match_snapshot_free(snapshot);

  ThreatqMatchSet *again = threatq_match_set_new(1000);
  gchar *position_again = NULL;
  snapshot = _open();
  CHECK(threatq_match_snapshot_load(snapshot, again, &position_again));
  CHECK(position_again && strcmp(position_again, "after") == 0);
  CHECK(!threatq_match_snapshot_get_error(snapshot));
  CHECK(_entries(again) == _entries(set));
  threatq_match_snapshot_free(snapshot);

  g_free(position);
  g_free(position_again);
  threatq_match_set_free(set);
  threatq_match_set_free(again);
  unlink(path);
  return 0;
}
