/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ECS document -> LogMessage: MESSAGE holds the JSON, every field is also a
 * name-value pair, except attribute names past the process-wide bound below
 * (they stay in MESSAGE only: syslog-ng keeps every name-value name until it exits).
 */
#ifndef THREATQ_MESSAGE_H_INCLUDED
#define THREATQ_MESSAGE_H_INCLUDED

#include "logmsg/logmsg.h"
#include "threatq-document.h"
#include "threatq-stats.h"

/* distinct threatq.attributes.* names that become name-value pairs, for the whole process (docs/limits.md) */
#define THREATQ_MAX_ATTRIBUTE_NAMES 1000

/* Caches name-value handles and render buffers; used by one thread (the fetcher) at a time. */
typedef struct _ThreatqMessageFactory ThreatqMessageFactory;

ThreatqMessageFactory *threatq_message_factory_new(void);
void threatq_message_factory_free(ThreatqMessageFactory *self);
/* who to name in the log and where to count attributes left out of the name-value pairs (borrowed) */
void threatq_message_factory_set_owner(ThreatqMessageFactory *self, const gchar *driver_id, ThreatqStats *stats);

LogMessage *threatq_message_factory_build(ThreatqMessageFactory *self, const ThreatqDocument *document);

/*
 * Appends item as str_repr_encode_append(buffer, item, -1, ",") would, the
 * common items without its cost; buffer's NUL is not written (read it by
 * its length).  Any thread.
 */
void threatq_message_encode_list_item(GString *buffer, const gchar *item);

#endif
