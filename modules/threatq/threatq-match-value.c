/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-value.h"
#include "threatq-url.h"

#include <arpa/inet.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>

/* a bit a byte of 16: bytes from lo to hi (signed compares: bytes from 0x80 up are in no range) */
static inline __m128i
_in_range(__m128i x, gchar lo, gchar hi)
{
  return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((gchar) (lo - 1))), _mm_cmplt_epi8(x, _mm_set1_epi8((gchar) (hi + 1))));
}

/* 16 bytes with their ASCII capitals lower-cased */
static inline __m128i
_lower16(__m128i x)
{
  return _mm_or_si128(x, _mm_and_si128(_in_range(x, 'A', 'Z'), _mm_set1_epi8(0x20)));
}
#endif

#define HOSTNAME_MAX 253
#define LABEL_MAX 63
#define EMAIL_LOCAL_MAX 64

static const guint8 ipv4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/*
 * g_ascii_tolower() without the call into glib: it runs once a character of
 * every log value (in bench/match's callgrind profile the call, with
 * g_ascii_xdigit_value() that hex_digits[] replaced, cost about 120
 * instructions a lookup).
 */
static inline gchar
_lower(gchar c)
{
  return c >= 'A' && c <= 'Z' ? (gchar) (c + ('a' - 'A')) : c;
}

static gboolean
_set_key(ThreatqMatchValue *value, ThreatqMatchKind kind, guint prefix_len, gsize length)
{
  value->key.kind = kind;
  value->key.prefix_len = prefix_len;
  value->key.length = length;
  value->key.bytes = value->buffer;
  return TRUE;
}

static gboolean
_fail(ThreatqMatchValue *value)
{
  memset(&value->key, 0, sizeof(value->key));
  value->key.bytes = value->buffer;
  return FALSE;
}

static void
_trim(const gchar **text, gsize *length)
{
  /* nearly every value: nothing to trim, two looks */
  if (*length > 0 && !g_ascii_isspace((*text)[0]) && !g_ascii_isspace((*text)[*length - 1]))
    return;
  while (*length > 0 && g_ascii_isspace((*text)[0]))
    {
      (*text)++;
      (*length)--;
    }
  while (*length > 0 && g_ascii_isspace((*text)[*length - 1]))
    (*length)--;
}

/* ---- addresses -------------------------------------------------------- */

static void
_clear_host_bits(guint8 *bytes, guint bits, guint prefix_len)
{
  for (guint bit = prefix_len; bit < bits; bit++)
    bytes[bit / 8] &= (guint8) ~(0x80u >> (bit % 8));
}

/* an interface name or number, as "fe80::1%eth0" has (RFC 6874's unreserved characters) */
static gboolean
_zone_id(const gchar *text, gsize length)
{
  if (length == 0)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum(text[i]) && !(text[i] && strchr("-._~", text[i])))
      return FALSE;
  return TRUE;
}

/*
 * A dotted quad by glibc's inet_pton(AF_INET) rules - four decimal parts
 * of at most 255, no leading zero, nothing else - without the copy that
 * inet_pton() needs for its NUL: about half of all log values are IPv4
 * addresses, and this costs a tenth of that call.  test_match_value checks
 * it against inet_pton() itself.
 *
 * The 7 to 15 bytes are read into a buffer with a NUL after them (two
 * overlapping loads of fixed size, no memcpy() call): the NUL ends any part,
 * so the parts are read without a bounds check a byte.
 */
static gboolean
_parse_ipv4(const gchar *text, gsize length, guint8 *out)
{
  guchar quad[16] = { 0 };
  const guchar *p = quad;

  if (length < 7 || length > 15)
    return FALSE;
  if (length >= 8)
    {
      memcpy(quad, text, 8);
      memcpy(quad + length - 8, text + length - 8, 8);
    }
  else
    {
      memcpy(quad, text, 4);
      memcpy(quad + length - 4, text + length - 4, 4);
    }

  /* octet by octet, unrolled: one to three digits, no leading zero, at most 255 */
  for (guint part = 0; part < 4; part++)
    {
      if (part > 0 && *p++ != '.')
        return FALSE;
      guint octet = (guint) (*p++ - '0');
      if (octet >= 10)
        return FALSE;
      if ((guint) (*p - '0') < 10)
        {
          if (octet == 0)
            return FALSE;
          octet = octet * 10 + (guint) (*p++ - '0');
          if ((guint) (*p - '0') < 10)
            octet = octet * 10 + (guint) (*p++ - '0');
        }
      if (octet > 255)
        return FALSE;
      out[part] = (guint8) octet;
    }
  return p == quad + length;
}

/*
 * inet_pton() wants a NUL-terminated string: copy the (short) IPv6 address
 * to the stack.  "[v6]" brackets and a "%zone" suffix are dropped.
 */
static inline gint
_hex_value(gchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* the 16 bytes from the groups read so far (at bytes), "::" at gap (-1: none) widened to zeros */
static gboolean
_expand_ipv6_gap(guint8 *bytes, gsize at, gssize gap)
{
  if (gap < 0)
    return at == 16;
  /* "::" stands for at least one group */
  if (at == 16)
    return FALSE;
  gsize after = at - (gsize) gap;
  memmove(bytes + 16 - after, bytes + gap, after);
  memset(bytes + gap, 0, 16 - after - (gsize) gap);
  return TRUE;
}

/*
 * An IPv6 address by glibc's inet_pton(AF_INET6) rules - groups of 1 to 4
 * hex digits, one "::", a dotted quad as the last 4 bytes - read in place:
 * inet_pton() wants a NUL-terminated copy, and with the memchr()s around it
 * it was half of an IPv6 value's cost.  test_match_value checks it against
 * inet_pton() itself.
 */
static gboolean
_parse_ipv6(const gchar *text, gsize length, guint8 *out)
{
  guint8 bytes[16] = { 0 };
  const gchar *p = text, *end = text + length, *token;
  gsize at = 0;
  gssize gap = -1;
  guint group = 0, digits = 0;

  if (length == 0 || length >= INET6_ADDRSTRLEN || (*p == ':' && (++p == end || *p != ':')))
    return FALSE;
  for (token = p; p < end; )
    {
      gchar c = *p++;
      gint digit = _hex_value(c);
      if (digit >= 0 && digits < 4)
        {
          group = group << 4 | (guint) digit;
          digits++;
        }
      else if (c == ':' && !digits && gap < 0)
        {
          gap = (gssize) at;
          token = p;
        }
      else if (c == ':' && digits && p < end && at + 2 <= 16)
        {
          bytes[at++] = (guint8) (group >> 8);
          bytes[at++] = (guint8) group;
          group = digits = 0;
          token = p;
        }
      else if (c == '.' && at + 4 <= 16 && _parse_ipv4(token, (gsize) (end - token), bytes + at))
        {
          at += 4;
          digits = 0;
          break;
        }
      else
        return FALSE;
    }
  if (digits)
    {
      if (at + 2 > 16)
        return FALSE;
      bytes[at++] = (guint8) (group >> 8);
      bytes[at++] = (guint8) group;
    }
  if (!_expand_ipv6_gap(bytes, at, gap))
    return FALSE;
  memcpy(out, bytes, 16);
  return TRUE;
}

static gboolean
_parse_address(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  if (length >= 2 && text[0] == '[' && text[length - 1] == ']')
    {
      text++;
      length -= 2;
    }
  if (!memchr(text, ':', length))
    return _parse_ipv4(text, length, value->buffer) && _set_key(value, THREATQ_MATCH_KIND_IPV4, 32, 4);
  const gchar *zone = memchr(text, '%', length);
  if (zone && memchr(text, ':', length))
    {
      if (!_zone_id(zone + 1, length - (gsize) (zone - text) - 1))
        return FALSE;
      length = (gsize) (zone - text);
    }
  if (!_parse_ipv6(text, length, value->buffer))
    return FALSE;
  if (memcmp(value->buffer, ipv4_mapped_prefix, sizeof(ipv4_mapped_prefix)) == 0)
    {
      memmove(value->buffer, value->buffer + 12, 4);
      return _set_key(value, THREATQ_MATCH_KIND_IPV4, 32, 4);
    }
  return _set_key(value, THREATQ_MATCH_KIND_IPV6, 128, 16);
}

/* "address/len" (or a bare address): an IPv4-mapped block of at least /96 becomes IPv4 */
static gboolean
_parse_cidr(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  const gchar *slash = memchr(text, '/', length);
  guint prefix_len = G_MAXUINT;

  if (slash)
    {
      gsize digits = length - (gsize) (slash - text) - 1;
      if (digits == 0 || digits > 3)
        return FALSE;
      prefix_len = 0;
      for (gsize i = 1; i <= digits; i++)
        {
          if (!g_ascii_isdigit(slash[i]))
            return FALSE;
          prefix_len = prefix_len * 10 + (guint) (slash[i] - '0');
        }
      length = (gsize) (slash - text);
    }
  gboolean mapped = memchr(text, ':', length) != NULL;
  if (!_parse_address(text, length, value))
    return FALSE;

  guint bits = threatq_match_kind_address_bits(value->key.kind);
  if (prefix_len == G_MAXUINT)
    prefix_len = bits;
  else if (mapped && value->key.kind == THREATQ_MATCH_KIND_IPV4)
    {
      /* ::ffff:a.b.c.d/len: below /96 the block is wider than IPv4-mapped space */
      if (prefix_len < 96 || prefix_len > 128)
        return FALSE;
      prefix_len -= 96;
    }
  if (prefix_len > bits)
    return FALSE;
  _clear_host_bits(value->buffer, bits, prefix_len);
  value->key.prefix_len = prefix_len;
  return TRUE;
}

/* ---- hashes ----------------------------------------------------------- */

static ThreatqMatchKind
_hash_kind_of_length(gsize hex_digits)
{
  switch (hex_digits)
    {
    case 32:
      return THREATQ_MATCH_KIND_MD5;
    case 40:
      return THREATQ_MATCH_KIND_SHA1;
    case 64:
      return THREATQ_MATCH_KIND_SHA256;
    case 96:
      return THREATQ_MATCH_KIND_SHA384;
    case 128:
      return THREATQ_MATCH_KIND_SHA512;
    default:
      return THREATQ_MATCH_KIND_NONE;
    }
}

#ifdef __SSE2__
/*
 * 16 hex digits to 8 bytes at out; returns a bit per byte of x that is not
 * a hex digit.  A digit is 16 at a time instead of a table load each: a
 * sixth of all log values are hashes, 32 to 64 digits long.
 */
static inline guint
_decode_hex16(__m128i x, guint8 *out)
{
  __m128i digit = _in_range(x, '0', '9');
  __m128i letter = _in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'f');
  /* the low nibble is a digit's value, and 9 less than a letter's */
  __m128i nibbles = _mm_add_epi8(_mm_and_si128(x, _mm_set1_epi8(0x0f)), _mm_and_si128(letter, _mm_set1_epi8(9)));
  /* a 16-bit lane holds two digits, the first in its low byte: first << 4 | second */
  __m128i pairs = _mm_or_si128(_mm_slli_epi16(nibbles, 4), _mm_srli_epi16(nibbles, 8));
  pairs = _mm_and_si128(pairs, _mm_set1_epi16(0x00ff));
  _mm_storel_epi64((__m128i *) out, _mm_packus_epi16(pairs, pairs));
  return (guint) _mm_movemask_epi8(_mm_or_si128(digit, letter)) ^ 0xffff;
}

/* length hex digits (a multiple of 8, as every hash length is) to length / 2 bytes at out */
static gboolean
_decode_hex(const gchar *text, gsize length, guint8 *out)
{
  guint bad = 0;
  gsize i;

  for (i = 0; i + 16 <= length; i += 16)
    bad |= _decode_hex16(_mm_loadu_si128((const __m128i *) (text + i)), out + i / 2);
  /* SHA-1's 40 digits end with 8: the load's upper half is zeros, not digits, and 4 bytes too many are written */
  if (i < length)
    bad |= _decode_hex16(_mm_loadl_epi64((const __m128i *) (text + i)), out + i / 2) & 0x00ff;
  return bad == 0;
}

#else

/* a hex digit's value with bit 7 set; 0 for any other byte */
#define HEX_DIGIT(c, v) [c] = 0x80 | (v)
static const guint8 hex_digits[256] =
{
  HEX_DIGIT('0', 0), HEX_DIGIT('1', 1), HEX_DIGIT('2', 2), HEX_DIGIT('3', 3), HEX_DIGIT('4', 4),
  HEX_DIGIT('5', 5), HEX_DIGIT('6', 6), HEX_DIGIT('7', 7), HEX_DIGIT('8', 8), HEX_DIGIT('9', 9),
  HEX_DIGIT('a', 10), HEX_DIGIT('b', 11), HEX_DIGIT('c', 12), HEX_DIGIT('d', 13), HEX_DIGIT('e', 14),
  HEX_DIGIT('f', 15), HEX_DIGIT('A', 10), HEX_DIGIT('B', 11), HEX_DIGIT('C', 12), HEX_DIGIT('D', 13),
  HEX_DIGIT('E', 14), HEX_DIGIT('F', 15),
};

/* length hex digits (an even number) to length / 2 bytes at out */
static gboolean
_decode_hex(const gchar *text, gsize length, guint8 *out)
{
  /* no branch a digit: a bad one clears bit 7 of valid, looked at once at the end */
  guint valid = 0x80;
  for (gsize i = 0; i < length; i += 2)
    {
      guint high = hex_digits[(guchar) text[i]];
      guint low = hex_digits[(guchar) text[i + 1]];
      valid &= high & low;
      out[i / 2] = (guint8) ((high & 0x0f) << 4 | (low & 0x0f));
    }
  return valid != 0;
}

#endif

static gboolean
_parse_hash(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  ThreatqMatchKind kind = _hash_kind_of_length(length);

  return kind != THREATQ_MATCH_KIND_NONE && _decode_hex(text, length, value->buffer)
         && _set_key(value, kind, 0, length / 2);
}

/* ---- host names, e-mail addresses --------------------------------------- */

/*
 * A byte of a label lower-cased: letters, digits, '-' and '_'; '.' for the
 * dot between labels, 0 for any other byte.  One load a byte both checks and
 * lower-cases it: the loop below runs over every host name of the logs.
 */
#define L(c) [c] = c, [c - 'a' + 'A'] = c
#define D(c) [c] = c
static const guint8 label_chars[256] =
{
  L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'), L('j'), L('k'), L('l'),
  L('m'), L('n'), L('o'), L('p'), L('q'), L('r'), L('s'), L('t'), L('u'), L('v'), L('w'), L('x'),
  L('y'), L('z'), D('0'), D('1'), D('2'), D('3'), D('4'), D('5'), D('6'), D('7'), D('8'), D('9'),
  D('-'), D('_'), D('.'),
};
#undef L
#undef D

/* a label of a lower-cased name: not empty, not longer than 63, not starting or ending with '-' */
static inline gboolean
_label_valid(const guint8 *label, gsize length)
{
  return length > 0 && length <= LABEL_MAX && label[0] != '-' && label[length - 1] != '-';
}

static gboolean
_all_digits(const guint8 *text, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if ((guint) (text[i] - '0') >= 10)
      return FALSE;
  return TRUE;
}

#ifdef __SSE2__
#define SHORT_NAME_MAX 64

typedef struct
{
  guint64 bad, dots, dashes, digits;   /* a bit a byte of the name */
} NameMasks;

/* 16 bytes of a name lower-cased to out and sorted into masks at bit `at` */
static inline void
_classify_name16(__m128i x, guint8 *out, guint at, NameMasks *masks)
{
  __m128i lower = _lower16(x);
  __m128i dot = _mm_cmpeq_epi8(lower, _mm_set1_epi8('.'));
  __m128i dash = _mm_cmpeq_epi8(lower, _mm_set1_epi8('-'));
  __m128i digit = _in_range(lower, '0', '9');
  __m128i good = _mm_or_si128(_mm_or_si128(_in_range(lower, 'a', 'z'), digit),
                              _mm_or_si128(_mm_or_si128(dot, dash), _mm_cmpeq_epi8(lower, _mm_set1_epi8('_'))));

  _mm_storeu_si128((__m128i *) out, lower);
  masks->bad |= (guint64) ((guint) _mm_movemask_epi8(good) ^ 0xffff) << at;
  masks->dots |= (guint64) (guint) _mm_movemask_epi8(dot) << at;
  masks->dashes |= (guint64) (guint) _mm_movemask_epi8(dash) << at;
  masks->digits |= (guint64) (guint) _mm_movemask_epi8(digit) << at;
}

/*
 * _normalise_hostname() for a name of 1 to 64 bytes (nearly every one in a
 * log), 16 bytes a step: each byte lower-cased and sorted into bit masks,
 * then the rules as arithmetic on the masks.  No label can pass 63 bytes
 * in 64 with a dot.  Writes up to 64 bytes at out.
 */
static gsize
_normalise_short_hostname(const gchar *text, gsize length, guint8 *out)
{
  guint8 copy[SHORT_NAME_MAX] = { 0 };
  NameMasks m = { 0 };

  guint64 name = length == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << length) - 1;
  memcpy(copy, text, length);
  /* a step at a time: a URL, an e-mail or an IPv6 address (tried as a name first) ends at its first */
  for (guint at = 0; at < length; at += 16)
    {
      _classify_name16(_mm_loadu_si128((const __m128i *) (copy + at)), out + at, at, &m);
      if (m.bad & name)
        return 0;
    }
  guint64 last = G_GUINT64_CONSTANT(1) << (length - 1);
  guint64 starts = m.dots << 1 | 1;          /* the first byte of each label */
  guint64 ends = m.dots >> 1 | last;         /* the last byte of each label */

  if (!m.dots || (m.dots & (starts | ends)) || (m.dashes & (starts | ends) & name))
    return 0;
  /* the bytes after the last dot: not all digits */
  guint64 last_label = name & ~((G_GUINT64_CONSTANT(2) << (63 - __builtin_clzll(m.dots))) - 1);
  return (m.digits & last_label) == last_label ? 0 : length;
}
#endif

/*
 * Lower-cases text into out: at least two labels of letters, digits, '-' and
 * '_' (as in _dmarc.example.com), none longer than 63 or starting or ending
 * with '-', at most 253 in all, a last label that is not all digits.  One
 * trailing dot is dropped.  Returns the length written, 0 when not a name.
 *
 * A name of up to 64 bytes goes to _normalise_short_hostname() where SSE2
 * is there.  Longer ones, and all without SSE2, take one pass, one table
 * load a byte, each label checked at its dot: a fifth of all log values are
 * names, and the classifier tries a name before it looks for the ':' of a
 * URL or the '@' of an e-mail address, so a byte that no name has ends it
 * at once.
 */
static gsize
_normalise_hostname(const gchar *text, gsize length, guint8 *out)
{
  if (length > 0 && text[length - 1] == '.')
    length--;
  if (length == 0 || length > HOSTNAME_MAX)
    return 0;
#ifdef __SSE2__
  if (length <= SHORT_NAME_MAX)
    return _normalise_short_hostname(text, length, out);
#endif

  gsize label = 0;
  for (gsize i = 0; i < length; i++)
    {
      guint8 c = label_chars[(guchar) text[i]];
      out[i] = c;
      /* one compare for letters, digits and '_': the table's other values are '-', '.' and 0 */
      if (c > '.' || c == '-')
        continue;
      if (c == 0 || !_label_valid(out + label, i - label))
        return 0;
      label = i + 1;
    }
  /* label is 0 when there was no dot: a name has at least two labels */
  gsize last_length = length - label;
  if (label == 0 || !_label_valid(out + label, last_length) || _all_digits(out + label, last_length))
    return 0;
  return length;
}

static gboolean
_parse_hostname(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  gsize written = _normalise_hostname(text, length, value->buffer);
  return written > 0 && _set_key(value, THREATQ_MATCH_KIND_HOSTNAME, 0, written);
}

/* RFC 5322 atext and '.', as a dot-atom local part allows */
#define A(c) [c] = 1
static const guint8 local_part_chars[256] =
{
  ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
  A('.'), A('!'), A('#'), A('$'), A('%'), A('&'), A('\''), A('*'), A('+'), A('-'), A('/'), A('='), A('?'), A('^'),
  A('_'), A('`'), A('{'), A('|'), A('}'), A('~'),
};
#undef A

/* one table load a character: a strchr() each was a fifth of an e-mail's cost */
static gboolean
_local_part_char(gchar c)
{
  return local_part_chars[(guchar) c];
}

/*
 * "local@domain": one '@', a dot-atom local part of at most 64 characters,
 * a host name after it.  All of it is lower-cased: see docs/match-design.md
 * for why the local part too.
 */
static gboolean
_parse_email(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  const gchar *at = memchr(text, '@', length);
  if (!at)
    return FALSE;

  gsize local_length = (gsize) (at - text);
  if (local_length == 0 || local_length > EMAIL_LOCAL_MAX || text[0] == '.' || at[-1] == '.')
    return FALSE;
  for (gsize i = 0; i < local_length; i++)
    {
      if (!_local_part_char(text[i]) || (text[i] == '.' && text[i + 1] == '.'))
        return FALSE;
      value->buffer[i] = (guint8) _lower(text[i]);
    }
  value->buffer[local_length] = '@';
  gsize domain_length = _normalise_hostname(at + 1, length - local_length - 1, value->buffer + local_length + 1);
  if (domain_length == 0)
    return FALSE;
  return _set_key(value, THREATQ_MATCH_KIND_EMAIL, 0, local_length + 1 + domain_length);
}

/* ---- URLs ------------------------------------------------------------- */

typedef struct
{
  guint8 *out;
  gsize length;
} Writer;

static void
_write(Writer *writer, const gchar *text, gsize length, gboolean lower)
{
  guint8 *out = writer->out + writer->length;

  /* path and query (most of a URL) byte for byte */
  if (!lower)
    memcpy(out, text, length);
  else
    {
      gsize i = 0;
#ifdef __SSE2__
      for (; i + 16 <= length; i += 16)
        _mm_storeu_si128((__m128i *) (out + i), _lower16(_mm_loadu_si128((const __m128i *) (text + i))));
#endif
      for (; i < length; i++)
        out[i] = (guint8) _lower(text[i]);
    }
  writer->length += length;
}

/* the bytes no URL of a log holds: controls, space and DEL (one load a byte, no branch) */
static const guint8 url_forbidden[256] =
{
  [0x00 ... 0x20] = 1, [0x7f] = 1,
};

/* the bytes that end a URL's authority */
static const guint8 authority_end_chars[256] =
{
  ['/'] = 1, ['?'] = 1, ['#'] = 1,
};

/* whether text has a byte of url_forbidden[]: the URLs that fail are few, so no exit before the end */
static gboolean
_has_forbidden_byte(const gchar *text, gsize length)
{
  guint forbidden = 0;
  gsize i = 0;

#ifdef __SSE2__
  /* 16 bytes a step: a byte up to 0x20 is its own minimum with 0x20 (unsigned), or DEL */
  for (; i + 16 <= length; i += 16)
    {
      __m128i x = _mm_loadu_si128((const __m128i *) (text + i));
      __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x);
      forbidden |= (guint) _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
    }
#endif
  for (; i < length; i++)
    forbidden |= url_forbidden[(guchar) text[i]];
  return forbidden != 0;
}

/* the first byte of authority_end_chars[] from p on, or end */
static const gchar *
_authority_end(const gchar *p, const gchar *end)
{
#ifdef __SSE2__
  for (; end - p >= 16; p += 16)
    {
      __m128i x = _mm_loadu_si128((const __m128i *) p);
      __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
                                  _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('?')), _mm_cmpeq_epi8(x, _mm_set1_epi8('#'))));
      guint found = (guint) _mm_movemask_epi8(stop);
      if (found)
        return p + __builtin_ctz(found);
    }
#endif
  while (p < end && !authority_end_chars[(guchar) *p])
    p++;
  return p;
}

/* the default port of the scheme (already lower-case), 0 when none is known */
static guint
_default_port(const gchar *scheme, gsize length)
{
  if (length == 4 && memcmp(scheme, "http", 4) == 0)
    return 80;
  if (length == 5 && memcmp(scheme, "https", 5) == 0)
    return 443;
  return 0;
}

/* ":port" (without the colon): digits up to 65535, or empty; *port = 0 when empty */
static gboolean
_parse_port(const gchar *text, gsize length, guint *port)
{
  *port = 0;
  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isdigit(text[i]))
        return FALSE;
      *port = *port * 10 + (guint) (text[i] - '0');
      if (*port > 65535)
        return FALSE;
    }
  return TRUE;
}

/* "[userinfo@]host[:port]" of a URL whose scheme is already written */
static gboolean
_write_authority(Writer *writer, const gchar *scheme, gsize scheme_length, const gchar *text, gsize length)
{
  /* after the last '@': a userinfo is rare, so memchr() first */
  const gchar *host = text;
  if (memchr(text, '@', length))
    for (gsize i = length; i > 0; i--)
      if (text[i - 1] == '@')
        {
          host = text + i;
          break;
        }
  _write(writer, text, (gsize) (host - text), FALSE);

  const gchar *end = text + length;
  const gchar *port_start = NULL;
  const gchar *host_end = end;
  if (host < end && *host == '[')
    {
      const gchar *close = memchr(host, ']', (gsize) (end - host));
      if (!close || (close + 1 < end && close[1] != ':'))
        return FALSE;
      host_end = close + 1;
    }
  else
    host_end = memchr(host, ':', (gsize) (end - host)) ? memchr(host, ':', (gsize) (end - host)) : end;
  if (host_end < end)
    port_start = host_end + 1;
  /* all trailing dots: "a.." written as "a." would not read back as itself */
  while (host_end > host && host_end[-1] == '.' && *host != '[')
    host_end--;
  if (host_end == host)
    return FALSE;
  _write(writer, host, (gsize) (host_end - host), TRUE);

  guint port;
  if (port_start && !_parse_port(port_start, (gsize) (end - port_start), &port))
    return FALSE;
  if (port_start && port != 0 && port != _default_port(scheme, scheme_length))
    writer->length += (gsize) g_snprintf((gchar *) writer->out + writer->length, 7, ":%u", port);
  return TRUE;
}

/*
 * "scheme://authority[path][?query][#fragment]": scheme and host lower-cased,
 * a trailing dot of the host and the scheme's default port (or an empty one)
 * dropped, an empty path written as "/", path and query kept byte for byte,
 * the fragment dropped (it never reaches a server, so no log has it).
 */
static gboolean
_parse_url(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  Writer writer = { value->buffer, 0 };
  const gchar *end = text + length;

  if (_has_forbidden_byte(text, length))
    return FALSE;
  const gchar *p = threatq_url_scheme_end(text, end);
  if (!p)
    return FALSE;
  _write(&writer, text, (gsize) (p - text), TRUE);
  const gchar *scheme = (const gchar *) writer.out;
  gsize scheme_length = writer.length;
  _write(&writer, "://", 3, FALSE);

  const gchar *authority = p + 3;
  const gchar *authority_end = _authority_end(authority, end);
  if (!_write_authority(&writer, scheme, scheme_length, authority, (gsize) (authority_end - authority)))
    return FALSE;

  const gchar *fragment = memchr(authority_end, '#', (gsize) (end - authority_end));
  const gchar *rest_end = fragment ? fragment : end;
  if (authority_end == rest_end || *authority_end != '/')
    _write(&writer, "/", 1, FALSE);
  _write(&writer, authority_end, (gsize) (rest_end - authority_end), FALSE);
  return _set_key(value, THREATQ_MATCH_KIND_URL, 0, writer.length);
}

/*
 * A "://" at or after the first ':' of a value, as g_strstr_len() would find
 * it but without its byte-by-byte loop.  g_strstr_len() also stops at a NUL:
 * a value with a NUL is no shape at all, whichever parser it goes to.
 */
static gboolean
_has_scheme_separator(const gchar *colon, const gchar *end)
{
  while (colon)
    {
      if (end - colon >= 3 && colon[1] == '/' && colon[2] == '/')
        return TRUE;
      colon = memchr(colon + 1, ':', (gsize) (end - colon - 1));
    }
  return FALSE;
}

/* ---- the two sides ---------------------------------------------------- */

static gboolean
_looks_like_address(const gchar *text, gsize length)
{
  if (length > 0 && (text[0] == '[' || memchr(text, ':', length)))
    return TRUE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit(text[i]) && text[i] != '.')
      return FALSE;
  return TRUE;
}

gboolean
threatq_match_value_classify(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  if (!text || length > THREATQ_MATCH_VALUE_MAX)
    return _fail(value);
  _trim(&text, &length);
  if (length == 0)
    return _fail(value);

  /*
   * The common shapes first, each of which fails at its first byte that is
   * not its own: a dotted quad, a hash and a name have no ':', '@' or '[',
   * so they cannot be a URL, an e-mail or a bracketed address, and trying
   * them before the memchr()s below gives the same answer.  A hash may be
   * all decimal digits: it comes after the dotted quad, as before.
   */
  if (_parse_ipv4(text, length, value->buffer))
    return _set_key(value, THREATQ_MATCH_KIND_IPV4, 32, 4);
  if (_parse_hash(text, length, value) || _parse_hostname(text, length, value))
    return TRUE;

  const gchar *colon = memchr(text, ':', length);
  if (length > 3 && colon && _has_scheme_separator(colon, text + length))
    return _parse_url(text, length, value) || _fail(value);
  if (memchr(text, '@', length))
    return _parse_email(text, length, value) || _fail(value);
  /* what is left of the shapes: an address with a ':' or in brackets */
  if ((colon || text[0] == '[') && _parse_address(text, length, value))
    return TRUE;
  return _fail(value);
}

typedef enum
{
  SHAPE_ADDRESS,
  SHAPE_CIDR,
  SHAPE_HASH,
  SHAPE_EMAIL,
  SHAPE_URL,
  SHAPE_HOSTNAME,
} TypeShape;

typedef struct
{
  const gchar *name;
  TypeShape shape;
  ThreatqMatchKind hash_kind;   /* SHAPE_HASH: the one length the type allows */
} TypeRule;

/* the ThreatQ types (threatq-mapper-indicator.c's type_rules) whose values are matched */
static const TypeRule type_rules[] =
{
  { "IP Address", SHAPE_ADDRESS, THREATQ_MATCH_KIND_NONE },
  { "IPv6 Address", SHAPE_ADDRESS, THREATQ_MATCH_KIND_NONE },
  { "CIDR Block", SHAPE_CIDR, THREATQ_MATCH_KIND_NONE },
  { "FQDN", SHAPE_HOSTNAME, THREATQ_MATCH_KIND_NONE },
  { "URL", SHAPE_URL, THREATQ_MATCH_KIND_NONE },
  { "Email Address", SHAPE_EMAIL, THREATQ_MATCH_KIND_NONE },
  { "MD5", SHAPE_HASH, THREATQ_MATCH_KIND_MD5 },
  { "SHA-1", SHAPE_HASH, THREATQ_MATCH_KIND_SHA1 },
  { "SHA-256", SHAPE_HASH, THREATQ_MATCH_KIND_SHA256 },
  { "SHA-384", SHAPE_HASH, THREATQ_MATCH_KIND_SHA384 },
  { "SHA-512", SHAPE_HASH, THREATQ_MATCH_KIND_SHA512 },
};

const gchar *
threatq_match_type_name(guint type_index)
{
  return type_index < G_N_ELEMENTS(type_rules) ? type_rules[type_index].name : NULL;
}

static gint
_find_type(const gchar *type_name, gsize length)
{
  if (!type_name)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS(type_rules); i++)
    if (strlen(type_rules[i].name) == length && memcmp(type_rules[i].name, type_name, length) == 0)
      return (gint) i;
  return -1;
}

/*
 * A URL indicator without "scheme://" ("evil.example/x", as real ThreatQ data
 * often has) is normalised as an http:// URL would be and keyed without its
 * scheme, "//evil.example/x": lookups of http and https URLs try that key too.
 */
static gboolean
_parse_indicator_url(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  if (g_strstr_len(text, (gssize) length, "://"))
    return _parse_url(text, length, value);

  gchar with_scheme[THREATQ_MATCH_VALUE_MAX + 8];
  memcpy(with_scheme, "http://", 7);
  memcpy(with_scheme + 7, text, length);
  if (!_parse_url(with_scheme, length + 7, value))
    return FALSE;
  memmove(value->buffer, value->buffer + 5, value->key.length - 5);
  value->key.length -= 5;
  return TRUE;
}

gboolean
threatq_match_key_schemeless(const ThreatqMatchKey *key, ThreatqMatchKey *schemeless)
{
  gsize skip;

  if (key->kind != THREATQ_MATCH_KIND_URL)
    return FALSE;
  if (key->length > 7 && memcmp(key->bytes, "http://", 7) == 0)
    skip = 5;
  else if (key->length > 8 && memcmp(key->bytes, "https://", 8) == 0)
    skip = 6;
  else
    return FALSE;
  *schemeless = *key;
  schemeless->bytes += skip;
  schemeless->length -= skip;
  return TRUE;
}

static gboolean
_parse_as(const TypeRule *rule, const gchar *text, gsize length, ThreatqMatchValue *value)
{
  switch (rule->shape)
    {
    case SHAPE_ADDRESS:
      return _parse_address(text, length, value);
    case SHAPE_CIDR:
      return _parse_cidr(text, length, value);
    case SHAPE_HASH:
      return _parse_hash(text, length, value) && value->key.kind == rule->hash_kind;
    case SHAPE_EMAIL:
      return _parse_email(text, length, value);
    case SHAPE_URL:
      return _parse_indicator_url(text, length, value);
    case SHAPE_HOSTNAME:
      return !_looks_like_address(text, length) && _parse_hostname(text, length, value);
    }
  return FALSE;
}

gboolean
threatq_match_value_from_indicator(const gchar *type_name, gsize type_length, const gchar *text, gsize length,
                                   ThreatqMatchValue *value, guint *type_index)
{
  gint found = _find_type(type_name, type_length);

  if (found < 0 || !text || length > THREATQ_MATCH_VALUE_MAX)
    return _fail(value);
  _trim(&text, &length);
  if (length == 0 || !_parse_as(&type_rules[found], text, length, value))
    return _fail(value);
  if (type_index)
    *type_index = (guint) found;
  return TRUE;
}

/* ---- describing a key ------------------------------------------------- */

static const struct
{
  const gchar *ecs_type;
  const gchar *ecs_field;
} kind_names[THREATQ_MATCH_KIND_COUNT] =
{
  [THREATQ_MATCH_KIND_IPV4] = { "ipv4-addr", "ip" },
  [THREATQ_MATCH_KIND_IPV6] = { "ipv6-addr", "ip" },
  [THREATQ_MATCH_KIND_MD5] = { "file", "file.hash.md5" },
  [THREATQ_MATCH_KIND_SHA1] = { "file", "file.hash.sha1" },
  [THREATQ_MATCH_KIND_SHA256] = { "file", "file.hash.sha256" },
  [THREATQ_MATCH_KIND_SHA384] = { "file", "file.hash.sha384" },
  [THREATQ_MATCH_KIND_SHA512] = { "file", "file.hash.sha512" },
  [THREATQ_MATCH_KIND_EMAIL] = { "email-addr", "email.address" },
  [THREATQ_MATCH_KIND_URL] = { "url", "url.full" },
  [THREATQ_MATCH_KIND_HOSTNAME] = { "domain-name", "url.domain" },
};

const gchar *
threatq_match_key_ecs_type(const ThreatqMatchKey *key)
{
  return key->kind < THREATQ_MATCH_KIND_COUNT ? kind_names[key->kind].ecs_type : NULL;
}

const gchar *
threatq_match_key_ecs_field(const ThreatqMatchKey *key)
{
  guint bits = threatq_match_kind_address_bits(key->kind);

  if (bits && key->prefix_len != bits)
    return NULL;
  return key->kind < THREATQ_MATCH_KIND_COUNT ? kind_names[key->kind].ecs_field : NULL;
}

/* as inet_ntop(AF_INET) writes it (a tenth of its cost: it formats through a printf) */
static void
_format_ipv4(const guint8 *bytes, GString *out)
{
  gchar text[16];
  gsize length = 0;

  for (guint part = 0; part < 4; part++)
    {
      guint octet = bytes[part];
      if (part)
        text[length++] = '.';
      if (octet >= 100)
        text[length++] = (gchar) ('0' + octet / 100);
      if (octet >= 10)
        text[length++] = (gchar) ('0' + octet / 10 % 10);
      text[length++] = (gchar) ('0' + octet % 10);
    }
  g_string_append_len(out, text, (gssize) length);
}

void
threatq_match_key_format(const ThreatqMatchKey *key, GString *out)
{
  gchar address[INET6_ADDRSTRLEN];
  guint bits = threatq_match_kind_address_bits(key->kind);

  if (bits)
    {
      if (bits == 32)
        _format_ipv4(key->bytes, out);
      else
        g_string_append(out, inet_ntop(AF_INET6, key->bytes, address, sizeof(address)));
      if (key->prefix_len != bits)
        g_string_append_printf(out, "/%u", key->prefix_len);
    }
  else if (key->kind >= THREATQ_MATCH_KIND_MD5 && key->kind <= THREATQ_MATCH_KIND_SHA512)
    {
      /* not g_string_append_printf() a byte: that was 4,900 instructions a hit */
      static const gchar hex[] = "0123456789abcdef";
      gsize start = out->len;
      g_string_set_size(out, start + 2 * key->length);
      for (gsize i = 0; i < key->length; i++)
        {
          out->str[start + 2 * i] = hex[key->bytes[i] >> 4];
          out->str[start + 2 * i + 1] = hex[key->bytes[i] & 0x0f];
        }
    }
  else
    g_string_append_len(out, (const gchar *) key->bytes, (gssize) key->length);
}
