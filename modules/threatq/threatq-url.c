/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-url.h"

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

gboolean
threatq_url_parse(const gchar *text, gsize length, ThreatqUrl *url)
{
  memset(url, 0, sizeof(*url));

  const gchar *end = text + length;
  for (const gchar *p = text; p < end; p++)
    if (_forbidden((guchar) *p))
      return FALSE;

  if (length == 0 || !g_ascii_isalpha(text[0]))
    return FALSE;
  const gchar *p = text + 1;
  while (p < end && (g_ascii_isalnum(*p) || *p == '+' || *p == '-' || *p == '.'))
    p++;
  if (end - p < 3 || memcmp(p, "://", 3) != 0)
    return FALSE;
  const gchar *scheme_end = p;

  const gchar *authority = p + 3;
  const gchar *authority_end = authority;
  while (authority_end < end && *authority_end != '/' && *authority_end != '?' && *authority_end != '#')
    authority_end++;
  if (!_parse_authority(authority, authority_end, url))
    return FALSE;
  _set(&url->scheme, text, scheme_end);

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
  return TRUE;
}
