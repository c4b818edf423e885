/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bump allocator shared by the documents of one page: a mapped indicator is
 * some 50 small strings and arrays, and allocating them one by one (and
 * freeing them scattered over the heap a page later) cost more than mapping.
 * Reference counted: every document holds a reference, so the memory goes
 * when the page's last document is freed.  Not thread-safe for allocation;
 * references may be dropped from any thread.
 */
#ifndef THREATQ_ARENA_H_INCLUDED
#define THREATQ_ARENA_H_INCLUDED

#include <glib.h>

typedef struct _ThreatqArena ThreatqArena;

ThreatqArena *threatq_arena_new(void);
ThreatqArena *threatq_arena_ref(ThreatqArena *self);
void threatq_arena_unref(ThreatqArena *self);

/* 8-byte aligned, uninitialised */
gpointer threatq_arena_alloc(ThreatqArena *self, gsize size);
/* a NUL-terminated copy of length bytes */
gchar *threatq_arena_strndup(ThreatqArena *self, const gchar *text, gsize length);

#endif
