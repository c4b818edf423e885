/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Appending to a GString whose room is usually there already: a compare and
 * a memcpy, where g_string_append_len() is a call that handles inserting in
 * the middle and negative lengths.  Per-message renderers use these for the
 * many short pieces of one message.
 */
#ifndef THREATQ_STRING_H_INCLUDED
#define THREATQ_STRING_H_INCLUDED

#include <glib.h>
#include <string.h>

/* room for length more bytes (and the NUL); returns where they go (out->len is not moved) */
static inline gchar *
threatq_string_reserve(GString *out, gsize length)
{
  if (G_UNLIKELY(out->len + length + 1 > out->allocated_len))
    {
      gsize used = out->len;
      g_string_set_size(out, used + length);
      out->len = used;
    }
  return out->str + out->len;
}

/* without the NUL after: whoever hands the text on terminates it */
static inline void
threatq_string_append(GString *out, const gchar *text, gsize length)
{
  memcpy(threatq_string_reserve(out, length), text, length);
  out->len += length;
}

static inline void
threatq_string_append_c(GString *out, gchar c)
{
  *threatq_string_reserve(out, 1) = c;
  out->len++;
}

#endif
