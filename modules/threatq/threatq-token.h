/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OAuth2 token response, read with yajl's event parser: no tree is built,
 * so no nesting can recurse, and anything deeper than THREATQ_TOKEN_MAX_DEPTH
 * stops the parse.  Pure code, no syslog-ng; safe on any thread.
 */
#ifndef THREATQ_TOKEN_H_INCLUDED
#define THREATQ_TOKEN_H_INCLUDED

#include <glib.h>

/* A real token response is well under 2 KB; the client stops reading at this. */
#define THREATQ_TOKEN_RESPONSE_MAX_SIZE (64 * 1024)
/* JSON nesting the parser accepts (the response itself is depth 1) */
#define THREATQ_TOKEN_MAX_DEPTH 16
/* An access token longer than this is refused (JWTs are 1-2 KB). */
#define THREATQ_TOKEN_MAX_LENGTH 8192

typedef struct _ThreatqToken
{
  gchar *access_token;        /* RFC 6750 b64token, wiped by threatq_token_clear() */
  gint64 lifetime;            /* seconds, from expires_in, clamped (threatq-http-policy.h) */
} ThreatqToken;

/*
 * body[0..length) -> token.  FALSE with a short reason in problem (no server
 * data, no secret in it) when the body is not a JSON object, nests deeper than
 * the bound, has no access_token string, or the token has characters RFC 6750
 * does not allow or is too long.
 */
gboolean threatq_token_parse(const gchar *body, gsize length, ThreatqToken *token,
                             gchar *problem, gsize problem_size);

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
gboolean threatq_token_is_valid(const gchar *token, gsize length);

/* Overwrites and frees the token. */
void threatq_token_clear(ThreatqToken *token);

#endif
