/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Splitting an absolute URL ("scheme://[userinfo@]host[:port][/path][?query][#fragment]")
 * into the ECS url.* parts.  Parts point into the input; nothing is decoded or invented.
 */
#ifndef THREATQ_URL_H_INCLUDED
#define THREATQ_URL_H_INCLUDED

#include <glib.h>

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

#endif
