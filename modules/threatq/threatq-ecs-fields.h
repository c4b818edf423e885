/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixed names of the fields the mapper writes.  A number per name lets
 * the message factory keep its name-value handles in an array instead of
 * hashing ~45 names per message; attribute fields (threatq.attributes.*) are
 * named at run time and carry THREATQ_ECS_NAMED.
 */
#ifndef THREATQ_ECS_FIELDS_H_INCLUDED
#define THREATQ_ECS_FIELDS_H_INCLUDED

#include <glib.h>

#define THREATQ_ECS_FIELD_LIST(F) \
  F(TIMESTAMP, "@timestamp") \
  F(ECS_VERSION, "ecs.version") \
  F(ERROR_MESSAGE, "error.message") \
  F(EVENT_CATEGORY, "event.category") \
  F(EVENT_CREATED, "event.created") \
  F(EVENT_DATASET, "event.dataset") \
  F(EVENT_KIND, "event.kind") \
  F(EVENT_MODULE, "event.module") \
  F(EVENT_ORIGINAL, "event.original") \
  F(EVENT_TYPE, "event.type") \
  F(RELATED_HASH, "related.hash") \
  F(RELATED_IP, "related.ip") \
  F(TAGS, "tags") \
  F(FEED_NAME, "threat.feed.name") \
  F(INDICATOR_AS_NUMBER, "threat.indicator.as.number") \
  F(INDICATOR_CONFIDENCE, "threat.indicator.confidence") \
  F(INDICATOR_DESCRIPTION, "threat.indicator.description") \
  F(INDICATOR_EMAIL_ADDRESS, "threat.indicator.email.address") \
  F(INDICATOR_FILE_HASH_MD5, "threat.indicator.file.hash.md5") \
  F(INDICATOR_FILE_HASH_SHA1, "threat.indicator.file.hash.sha1") \
  F(INDICATOR_FILE_HASH_SHA256, "threat.indicator.file.hash.sha256") \
  F(INDICATOR_FILE_HASH_SHA384, "threat.indicator.file.hash.sha384") \
  F(INDICATOR_FILE_HASH_SHA512, "threat.indicator.file.hash.sha512") \
  F(INDICATOR_FILE_NAME, "threat.indicator.file.name") \
  F(INDICATOR_FILE_PATH, "threat.indicator.file.path") \
  F(INDICATOR_FIRST_SEEN, "threat.indicator.first_seen") \
  F(INDICATOR_IP, "threat.indicator.ip") \
  F(INDICATOR_LAST_SEEN, "threat.indicator.last_seen") \
  F(INDICATOR_MARKING_TLP, "threat.indicator.marking.tlp") \
  F(INDICATOR_MODIFIED_AT, "threat.indicator.modified_at") \
  F(INDICATOR_PROVIDER, "threat.indicator.provider") \
  F(INDICATOR_REGISTRY_KEY, "threat.indicator.registry.key") \
  F(INDICATOR_TYPE, "threat.indicator.type") \
  F(INDICATOR_URL_DOMAIN, "threat.indicator.url.domain") \
  F(INDICATOR_URL_EXTENSION, "threat.indicator.url.extension") \
  F(INDICATOR_URL_FRAGMENT, "threat.indicator.url.fragment") \
  F(INDICATOR_URL_FULL, "threat.indicator.url.full") \
  F(INDICATOR_URL_ORIGINAL, "threat.indicator.url.original") \
  F(INDICATOR_URL_PATH, "threat.indicator.url.path") \
  F(INDICATOR_URL_PORT, "threat.indicator.url.port") \
  F(INDICATOR_URL_QUERY, "threat.indicator.url.query") \
  F(INDICATOR_URL_SCHEME, "threat.indicator.url.scheme") \
  F(INDICATOR_X509_SERIAL_NUMBER, "threat.indicator.x509.serial_number") \
  F(INDICATOR_X509_SUBJECT_DN, "threat.indicator.x509.subject.distinguished_name") \
  F(THREATQ_ADVERSARIES, "threatq.adversaries") \
  F(THREATQ_CLASS, "threatq.class") \
  F(THREATQ_CREATED_AT, "threatq.created_at") \
  F(THREATQ_EXPIRED_AT, "threatq.expired_at") \
  F(THREATQ_EXPIRES_AT, "threatq.expires_at") \
  F(THREATQ_EXPIRES_CALCULATED_AT, "threatq.expires_calculated_at") \
  F(THREATQ_HASH, "threatq.hash") \
  F(THREATQ_ID, "threatq.id") \
  F(THREATQ_INDICATOR_VALUE, "threatq.indicator_value") \
  F(THREATQ_IOC_EXPIRATION_REASON, "threatq.ioc_expiration_reason") \
  F(THREATQ_IOC_EXPIRED_AT, "threatq.ioc_expired_at") \
  F(THREATQ_PUBLISHED_AT, "threatq.published_at") \
  F(THREATQ_SCORE, "threatq.score") \
  F(THREATQ_STATUS, "threatq.status") \
  F(THREATQ_TOUCHED_AT, "threatq.touched_at") \
  F(THREATQ_TYPE, "threatq.type") \
  F(THREATQ_UPDATED_AT, "threatq.updated_at")

#define THREATQ_ECS_ENUM_ENTRY(id, name) THREATQ_ECS_##id,

typedef enum
{
  THREATQ_ECS_NAMED = 0,        /* a name known only at run time */
  THREATQ_ECS_FIELD_LIST(THREATQ_ECS_ENUM_ENTRY)
  THREATQ_ECS_FIELD_COUNT
} ThreatqEcsField;

/* the dotted name of a fixed field; NULL for THREATQ_ECS_NAMED */
const gchar *threatq_ecs_field_name(ThreatqEcsField field);

/* the run-time named fields: this prefix and the attribute's name */
#define THREATQ_ATTRIBUTE_PREFIX "threatq.attributes."
/* the longest name syslog-ng accepts for a name-value pair */
#define THREATQ_MAX_FIELD_NAME_LENGTH 255

#endif
