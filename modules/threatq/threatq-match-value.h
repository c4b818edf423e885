/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match(): what a value is and the key it is matched by.
 *
 * One place for both sides of a match: a field value of a log message
 * (threatq_match_value_classify(): any shape) and the value of a ThreatQ
 * indicator (threatq_match_value_from_indicator(): the shape its type names),
 * so that both normalise alike.  The rules are in docs/match-design.md.
 *
 * Pure and reentrant (glib only, no shared state); the key is built in the
 * caller's ThreatqMatchValue, so classifying allocates nothing.
 */
#ifndef THREATQ_MATCH_VALUE_H_INCLUDED
#define THREATQ_MATCH_VALUE_H_INCLUDED

#include <glib.h>

/* a value longer than this (before trimming) is skipped, on either side */
#define THREATQ_MATCH_VALUE_MAX 2048

typedef enum
{
  THREATQ_MATCH_KIND_NONE = 0,
  THREATQ_MATCH_KIND_IPV4,      /* 4 bytes, network order, host bits zero */
  THREATQ_MATCH_KIND_IPV6,      /* 16 bytes, likewise; never an IPv4-mapped address */
  THREATQ_MATCH_KIND_MD5,       /* the digest in binary (16 bytes) */
  THREATQ_MATCH_KIND_SHA1,      /* 20 */
  THREATQ_MATCH_KIND_SHA256,    /* 32 */
  THREATQ_MATCH_KIND_SHA384,    /* 48 */
  THREATQ_MATCH_KIND_SHA512,    /* 64 */
  THREATQ_MATCH_KIND_EMAIL,     /* "local@domain", lower-case */
  THREATQ_MATCH_KIND_URL,       /* "scheme://[userinfo@]host[:port]/path[?query]" */
  THREATQ_MATCH_KIND_HOSTNAME,  /* "label.label...", lower-case, no trailing dot */
  THREATQ_MATCH_KIND_COUNT,
} ThreatqMatchKind;

/* a normalised key; bytes are not NUL-terminated */
typedef struct _ThreatqMatchKey
{
  ThreatqMatchKind kind;
  guint prefix_len;        /* addresses: 0..32 or 0..128 (the full length for an address); 0 otherwise */
  gsize length;
  const guint8 *bytes;
} ThreatqMatchKey;

typedef struct _ThreatqMatchValue
{
  ThreatqMatchKey key;     /* key.bytes points into buffer */
  guint8 buffer[THREATQ_MATCH_VALUE_MAX + 16];
} ThreatqMatchValue;

/*
 * A log field's value: FALSE (and kind NONE) when it has none of the shapes,
 * is empty or longer than THREATQ_MATCH_VALUE_MAX.  Addresses get their full
 * prefix length.
 */
gboolean threatq_match_value_classify(const gchar *text, gsize length, ThreatqMatchValue *value);

/*
 * An indicator's value, read as its ThreatQ type says ("IP Address", "IPv6
 * Address", "CIDR Block", "FQDN", "URL", "Email Address", "MD5", "SHA-1",
 * "SHA-256", "SHA-384", "SHA-512").  FALSE for any other type, or a value
 * that is not of the type's shape (an "MD5" of 64 hex digits, an "FQDN" that
 * is an address).  A CIDR block has its host bits cleared; a URL without
 * "scheme://" is read as http:// and keyed without the scheme (see
 * threatq_match_key_schemeless()).  *type_index (when not NULL) is set for
 * threatq_match_type_name().
 */
gboolean threatq_match_value_from_indicator(const gchar *type_name, gsize type_length,
                                            const gchar *text, gsize length,
                                            ThreatqMatchValue *value, guint *type_index);

/*
 * A URL indicator without a scheme is keyed "//host[:port]/path[?query]".
 * For an http:// or https:// key, sets *schemeless to that form of it (a
 * view into key's bytes) and returns TRUE.
 */
gboolean threatq_match_key_schemeless(const ThreatqMatchKey *key, ThreatqMatchKey *schemeless);

/* whether key is in that form: the key of a URL indicator given without a scheme */
static inline gboolean
threatq_match_key_is_schemeless(const ThreatqMatchKey *key)
{
  return key->kind == THREATQ_MATCH_KIND_URL && key->length >= 2 && key->bytes[0] == '/' && key->bytes[1] == '/';
}

/* the ThreatQ type name of a type_index; NULL when out of range */
const gchar *threatq_match_type_name(guint type_index);

/* the full prefix length of an address kind (32, 128), else 0 (inline: a lookup asks it several times) */
static inline guint
threatq_match_kind_address_bits(ThreatqMatchKind kind)
{
  return kind == THREATQ_MATCH_KIND_IPV4 ? 32 : kind == THREATQ_MATCH_KIND_IPV6 ? 128 : 0;
}

/* ECS threat.indicator.type of a key: "ipv4-addr", "file", "url", ... */
const gchar *threatq_match_key_ecs_type(const ThreatqMatchKey *key);

/*
 * The field below threat.indicator. (and threat.enrichments.indicator.)
 * that holds such a value: "ip", "file.hash.sha256", "url.full",
 * "email.address", "url.domain"; NULL for a CIDR block shorter than an
 * address, which no ECS field holds.
 */
const gchar *threatq_match_key_ecs_field(const ThreatqMatchKey *key);

/* appends the key as text: "10.0.0.0/8", "::1", lower-case hex for a hash, the string otherwise */
void threatq_match_key_format(const ThreatqMatchKey *key, GString *out);

#endif
