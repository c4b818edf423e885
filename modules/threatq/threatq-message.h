/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ECS document -> LogMessage: MESSAGE holds the JSON, every field is also a name-value pair. */
#ifndef THREATQ_MESSAGE_H_INCLUDED
#define THREATQ_MESSAGE_H_INCLUDED

#include "logmsg/logmsg.h"
#include "threatq-document.h"

/* Caches name-value handles and a render buffer; used by one thread (the fetcher) at a time. */
typedef struct _ThreatqMessageFactory ThreatqMessageFactory;

ThreatqMessageFactory *threatq_message_factory_new(void);
void threatq_message_factory_free(ThreatqMessageFactory *self);

LogMessage *threatq_message_factory_build(ThreatqMessageFactory *self, const ThreatqDocument *document);

#endif
