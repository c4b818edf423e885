/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Splitting a URL value into the ECS url.* parts: an absolute URL
 * ("scheme://[userinfo@]host[:port][/path][?query][#fragment]"), or a value
 * without a scheme that starts with a host ("host[:port][/path][?query][#fragment]").
 * Parts point into the input; nothing is decoded, lower-cased or invented.
 * Pure functions, no state: callable from any thread.
 */
#ifndef THREATQ_URL_H_INCLUDED
#define THREATQ_URL_H_INCLUDED

#include <glib.h>
#include <string.h>

/*
 * Where an absolute URL's scheme ends: text starts with a letter, then letters,
 * digits, '+', '-' or '.', then "://".  Returns the end of the scheme (the ':'),
 * or NULL when text has no such scheme.  Shared by the mapper's URL splitting and
 * threatq-match's URL normalisation, so both read the same values as absolute.
 */
static inline const gchar *
threatq_url_scheme_end(const gchar *text, const gchar *end)
{
  if (text >= end || !g_ascii_isalpha(text[0]))
    return NULL;
  const gchar *p = text + 1;
  while (p < end && (g_ascii_isalnum(*p) || *p == '+' || *p == '-' || *p == '.'))
    p++;
  if (end - p < 3 || memcmp(p, "://", 3) != 0)
    return NULL;
  return p;
}

typedef struct _ThreatqUrlPart
{
  const gchar *text;      /* NULL when the part is absent or empty */
  gsize length;
} ThreatqUrlPart;

typedef struct _ThreatqUrl
{
  ThreatqUrlPart scheme;
  ThreatqUrlPart domain;     /* an IPv6 literal keeps its brackets */
  ThreatqUrlPart path;
  ThreatqUrlPart extension;  /* after the last '.' of the last path segment, without the dot */
  ThreatqUrlPart query;      /* without the '?' */
  ThreatqUrlPart fragment;   /* without the '#' */
  gboolean has_port;
  guint port;
} ThreatqUrl;

/*
 * FALSE when text is not an absolute URL: no "scheme://", a scheme that does
 * not start with a letter or holds anything but letters, digits, '+', '-',
 * '.', whitespace, control characters or one of "<>\^`{|} anywhere, an
 * unterminated IPv6 literal, or a port that is not a number up to 65535.
 */
gboolean threatq_url_parse(const gchar *text, gsize length, ThreatqUrl *url);

/*
 * A value without a scheme, split only where it unambiguously starts with a
 * host: up to the first '/', '?' or '#' (or the end) it must be exactly
 *   - a dotted name: two or more labels (letters, digits, '-', '_', UTF-8),
 *     1-63 bytes each, not starting or ending with '-', at most 253 bytes,
 *     an optional trailing dot, and a last label with a letter and no '_'
 *     ("example.com", "a.b", "EXAMPLE.COM."); or
 *   - an IPv4 address in dotted-quad form ("1.2.3.4"); or
 *   - an IPv6 address in brackets ("[2001:db8::1]"),
 * optionally followed by ':' and a port of 1-5 digits up to 65535.  Not a
 * host, so FALSE: a single label ("localhost", "foo/bar" - as likely a
 * relative path as a host), numbers only ("1.2.3.4.5"), userinfo ("a@b.c",
 * more likely an e-mail address), an empty port ("a.b:"), a bare path, and
 * anything threatq_url_parse() refuses for its characters (whitespace,
 * control characters, "<>\^`{|}).  On TRUE, url->scheme is absent and the
 * other parts are set as threatq_url_parse() sets them; on FALSE *url is empty.
 */
gboolean threatq_url_parse_schemeless(const gchar *text, gsize length, ThreatqUrl *url);

#endif
