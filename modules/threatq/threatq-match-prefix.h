/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef THREATQ_MATCH_PREFIX_H_INCLUDED
#define THREATQ_MATCH_PREFIX_H_INCLUDED

#include <glib.h>
#include <string.h>

/*
 * An address or CIDR block as one 128-bit number (IPv4 in the top 32 bits
 * of hi), for the set's filter (threatq-match-set.c).  A lookup walks every
 * prefix length present, up to 129: here a length costs two ANDs and the
 * mix two multiplies, where masking the key's bytes and hashing them again
 * cost a loop and a stalled load (bytes stored one by one, read back as a
 * word).  The bytes are made again only when the filter says "maybe".
 *
 * Pure functions of their arguments: any thread.
 */
typedef struct _ThreatqMatchPrefix
{
  guint64 hi;
  guint64 lo;
} ThreatqMatchPrefix;

/* length: 4 (IPv4) or 16 (IPv6) bytes in network order */
static inline ThreatqMatchPrefix
threatq_match_prefix_from_bytes(const guint8 *bytes, gsize length)
{
  ThreatqMatchPrefix prefix = { 0, 0 };

  if (length == 4)
    {
      guint32 word;
      memcpy(&word, bytes, 4);
      prefix.hi = (guint64) GUINT32_FROM_BE(word) << 32;
    }
  else if (length == 16)
    {
      memcpy(&prefix.hi, bytes, 8);
      memcpy(&prefix.lo, bytes + 8, 8);
      prefix.hi = GUINT64_FROM_BE(prefix.hi);
      prefix.lo = GUINT64_FROM_BE(prefix.lo);
    }
  return prefix;
}

static inline void
threatq_match_prefix_to_bytes(ThreatqMatchPrefix prefix, guint8 *bytes, gsize length)
{
  guint64 hi = GUINT64_TO_BE(prefix.hi);
  guint64 lo = GUINT64_TO_BE(prefix.lo);

  memcpy(bytes, &hi, MIN(length, 8));
  if (length == 16)
    memcpy(bytes + 8, &lo, 8);
}

static inline guint64
threatq_match_prefix_top_(guint64 word, guint bits)
{
  return bits == 0 ? 0 : bits >= 64 ? word : word & (G_MAXUINT64 << (64 - bits));
}

/* the first `length` bits, the others zero */
static inline ThreatqMatchPrefix
threatq_match_prefix_mask(ThreatqMatchPrefix prefix, guint length)
{
  prefix.hi = threatq_match_prefix_top_(prefix.hi, length);
  prefix.lo = length <= 64 ? 0 : threatq_match_prefix_top_(prefix.lo, length - 64);
  return prefix;
}

/* 32 well-spread bits of the number and the seed (the high half of each product) */
static inline guint32
threatq_match_prefix_mix(ThreatqMatchPrefix prefix, guint64 seed)
{
  guint64 h = (prefix.hi ^ seed) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);

  h = (h ^ (h >> 32) ^ prefix.lo) * G_GUINT64_CONSTANT(0xc4ceb9fe1a85ec53);
  return (guint32) (h >> 32);
}

#endif
