/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log-capture.h"
#include "messages.h"
#include "logmsg/logmsg.h"

#include <string.h>

static GMutex capture_lock;
static GCond capture_changed;
static GPtrArray *captured;     /* gchar *, one per line */

static void
_capture(LogMessage *msg)
{
  gchar *text = g_strdup(log_msg_get_value(msg, LM_V_MESSAGE, NULL));

  log_msg_unref(msg);
  g_mutex_lock(&capture_lock);
  g_ptr_array_add(captured, text);
  g_cond_broadcast(&capture_changed);
  g_mutex_unlock(&capture_lock);
}

void
log_capture_start(void)
{
  g_mutex_lock(&capture_lock);
  if (!captured)
    captured = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_set_size(captured, 0);
  g_mutex_unlock(&capture_lock);
  debug_flag = TRUE;
  msg_set_post_func(_capture);
}

void
log_capture_stop(void)
{
  msg_set_post_func(NULL);
  debug_flag = FALSE;
}

gchar *
log_capture_text(void)
{
  GString *text = g_string_new(NULL);

  g_mutex_lock(&capture_lock);
  for (guint i = 0; captured && i < captured->len; i++)
    g_string_append_printf(text, "%s\n", (const gchar *) g_ptr_array_index(captured, i));
  g_mutex_unlock(&capture_lock);
  return g_string_free(text, FALSE);
}

static guint
_count_locked(const gchar *needle)
{
  guint count = 0;

  for (guint i = 0; captured && i < captured->len; i++)
    count += strstr(g_ptr_array_index(captured, i), needle) != NULL;
  return count;
}

guint
log_capture_count(const gchar *needle)
{
  g_mutex_lock(&capture_lock);
  guint count = _count_locked(needle);
  g_mutex_unlock(&capture_lock);
  return count;
}

gboolean
log_capture_contains(const gchar *needle)
{
  return log_capture_count(needle) > 0;
}

gboolean
log_capture_wait_count(const gchar *needle, guint count, gint64 timeout_msec)
{
  gint64 until = g_get_monotonic_time() + timeout_msec * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock(&capture_lock);
  while (_count_locked(needle) < count && g_cond_wait_until(&capture_changed, &capture_lock, until))
    ;
  gboolean found = _count_locked(needle) >= count;
  g_mutex_unlock(&capture_lock);
  return found;
}

gboolean
log_capture_wait_for(const gchar *needle, gint64 timeout_msec)
{
  return log_capture_wait_count(needle, 1, timeout_msec);
}
