/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the code under test logs through msg_error() ... msg_debug(): every
 * line is kept (from any thread) so a test can look for a line, or make
 * sure that no line holds a secret.  Needs app_startup() first.
 */
#ifndef LOG_CAPTURE_H_INCLUDED
#define LOG_CAPTURE_H_INCLUDED

#include <glib.h>

/* Also turns msg_debug() on: debug lines must not leak secrets either. */
void log_capture_start(void);
void log_capture_stop(void);

/* All lines so far, one per line; free with g_free(). */
gchar *log_capture_text(void);
gboolean log_capture_contains(const gchar *needle);
/* Lines that contain needle. */
guint log_capture_count(const gchar *needle);
/* Waits until a line contains needle; FALSE after timeout_msec. */
gboolean log_capture_wait_for(const gchar *needle, gint64 timeout_msec);
/* Waits until count lines contain needle; FALSE after timeout_msec. */
gboolean log_capture_wait_count(const gchar *needle, guint count, gint64 timeout_msec);

#endif
