/* ECS document -> LogMessage: MESSAGE holds the JSON, every field is also a name-value pair. */
#ifndef THREATQ_MESSAGE_H_INCLUDED
#define THREATQ_MESSAGE_H_INCLUDED

#include "logmsg/logmsg.h"
#include "threatq-document.h"

LogMessage *threatq_message_new(const ThreatqDocument *document);

#endif
