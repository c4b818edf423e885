/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Splitting URL values into the ECS url.* parts: absolute URLs, and values
 * without a scheme that start with a host (see threatq-url.h for the rules).
 */
#include "threatq-url.h"

#include <arpa/inet.h>
#include <string.h>

static void
_set(ThreatqUrlPart *part, const gchar *start, const gchar *end)
{
  if (end > start)
    {
      part->text = start;
      part->length = (gsize) (end - start);
    }
}

static gboolean
_forbidden(guchar c)
{
  if (c <= 0x20 || c == 0x7f)
    return TRUE;
  switch (c)
    {
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
_parse_port(const gchar *start, const gchar *end, ThreatqUrl *url)
{
  if (start == end)
    return TRUE;           /* "host:" - an empty port, as RFC 3986 allows */

  guint port = 0;
  for (const gchar *p = start; p < end; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      port = port * 10 + (guint) (*p - '0');
      if (port > 65535)
        return FALSE;
    }
  url->has_port = TRUE;
  url->port = port;
  return TRUE;
}

static gboolean
_parse_authority(const gchar *start, const gchar *end, ThreatqUrl *url)
{
  const gchar *host = start;
  for (const gchar *p = end; p > start; p--)
    if (p[-1] == '@')
      {
        host = p;
        break;
      }

  if (host < end && *host == '[')
    {
      const gchar *close = memchr(host, ']', (gsize) (end - host));
      if (!close)
        return FALSE;
      _set(&url->domain, host, close + 1);
      if (close + 1 == end)
        return TRUE;
      if (close[1] != ':')
        return FALSE;
      return _parse_port(close + 2, end, url);
    }

  const gchar *colon = memchr(host, ':', (gsize) (end - host));
  if (!colon)
    {
      _set(&url->domain, host, end);
      return TRUE;
    }
  _set(&url->domain, host, colon);
  return _parse_port(colon + 1, end, url);
}

static void
_set_extension(ThreatqUrl *url)
{
  if (!url->path.text)
    return;

  const gchar *end = url->path.text + url->path.length;
  for (const gchar *p = end; p > url->path.text; p--)
    {
      if (p[-1] == '/')
        return;
      if (p[-1] == '.')
        {
          _set(&url->extension, p, end);
          return;
        }
    }
}

/* path, query, fragment and extension: everything after the authority */
static inline void
_split_after_authority(ThreatqUrl *url, const gchar *authority_end, const gchar *end)
{
  const gchar *fragment = memchr(authority_end, '#', (gsize) (end - authority_end));
  const gchar *before_fragment = fragment ? fragment : end;
  if (fragment)
    _set(&url->fragment, fragment + 1, end);

  const gchar *query = memchr(authority_end, '?', (gsize) (before_fragment - authority_end));
  const gchar *path_end = query ? query : before_fragment;
  if (query)
    _set(&url->query, query + 1, before_fragment);

  _set(&url->path, authority_end, path_end);
  _set_extension(url);
}

static inline gboolean
_has_forbidden(const gchar *text, const gchar *end)
{
  for (const gchar *p = text; p < end; p++)
    if (_forbidden((guchar) *p))
      return TRUE;
  return FALSE;
}

static inline const gchar *
_authority_end(const gchar *authority, const gchar *end)
{
  const gchar *p = authority;
  while (p < end && *p != '/' && *p != '?' && *p != '#')
    p++;
  return p;
}

gboolean
threatq_url_parse(const gchar *text, gsize length, ThreatqUrl *url)
{
  memset(url, 0, sizeof(*url));

  const gchar *end = text + length;
  if (_has_forbidden(text, end))
    return FALSE;

  const gchar *scheme_end = threatq_url_scheme_end(text, end);
  if (!scheme_end)
    return FALSE;

  const gchar *authority = scheme_end + 3;
  const gchar *authority_end = _authority_end(authority, end);
  if (!_parse_authority(authority, authority_end, url))
    return FALSE;
  _set(&url->scheme, text, scheme_end);
  _split_after_authority(url, authority_end, end);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* values without a scheme                                             */

#define MAX_NAME_LENGTH 253
#define MAX_LABEL_LENGTH 63

/* a byte of a DNS label as found in real data: letters, digits, '-', '_' and UTF-8 (IDN) */
static inline gboolean
_is_label_byte(guchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '_' || c >= 0x80;
}

/*
 * A dotted name: two or more labels of 1-63 bytes, none starting or ending
 * with '-', an optional trailing dot, at most 253 bytes; the last label is
 * letters, digits and '-' with at least one letter or a UTF-8 byte, so that
 * "1.2.3.4.5" or "10.0.0" is not a name.
 */
static gboolean
_is_dotted_name(const gchar *host, const gchar *end)
{
  if (end > host && end[-1] == '.')
    end--;
  if (end - host > MAX_NAME_LENGTH)
    return FALSE;

  guint labels = 0;
  const gchar *label = host;
  for (;;)
    {
      const gchar *label_end = label;
      gboolean letter = FALSE;
      gboolean underscore = FALSE;
      while (label_end < end && *label_end != '.')
        {
          guchar c = (guchar) *label_end++;
          if (!_is_label_byte(c))
            return FALSE;
          letter = letter || g_ascii_isalpha(c) || c >= 0x80;
          underscore = underscore || c == '_';
        }
      gsize label_length = (gsize) (label_end - label);
      if (label_length == 0 || label_length > MAX_LABEL_LENGTH || *label == '-' || label_end[-1] == '-')
        return FALSE;
      labels++;
      if (label_end == end)
        return labels >= 2 && letter && !underscore;
      label = label_end + 1;
    }
}

static gboolean
_is_ip_literal(int family, const gchar *start, const gchar *end)
{
  gchar buffer[INET6_ADDRSTRLEN + 1];
  guchar address[16];
  gsize length = (gsize) (end - start);

  if (length == 0 || length >= sizeof(buffer))
    return FALSE;
  memcpy(buffer, start, length);
  buffer[length] = '\0';
  return inet_pton(family, buffer, address) == 1;
}

/* host [":" port] with a host as threatq-url.h describes; no userinfo, a non-empty port */
static gboolean
_parse_host_and_port(const gchar *start, const gchar *end, ThreatqUrl *url)
{
  const gchar *host_end;

  if (start < end && *start == '[')
    {
      const gchar *close = memchr(start, ']', (gsize) (end - start));
      if (!close || !_is_ip_literal(AF_INET6, start + 1, close))
        return FALSE;
      host_end = close + 1;
      if (host_end < end && *host_end != ':')
        return FALSE;
    }
  else
    {
      host_end = memchr(start, ':', (gsize) (end - start));
      if (!host_end)
        host_end = end;
      if (!_is_ip_literal(AF_INET, start, host_end) && !_is_dotted_name(start, host_end))
        return FALSE;
    }

  if (host_end < end && (host_end + 1 == end || !_parse_port(host_end + 1, end, url)))
    return FALSE;
  _set(&url->domain, start, host_end);
  return TRUE;
}

gboolean
threatq_url_parse_schemeless(const gchar *text, gsize length, ThreatqUrl *url)
{
  memset(url, 0, sizeof(*url));

  const gchar *end = text + length;
  if (_has_forbidden(text, end))
    return FALSE;

  const gchar *authority_end = _authority_end(text, end);
  if (!_parse_host_and_port(text, authority_end, url))
    {
      memset(url, 0, sizeof(*url));
      return FALSE;
    }
  _split_after_authority(url, authority_end, end);
  return TRUE;
}
