/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as what the token endpoint and the
 * response headers can send: the token response body (threatq_token_parse()),
 * a Retry-After value, an expires_in text, and a nextCursorMark through the
 * cursor check and the persisted record.  Besides ASan/UBSan/LeakSanitizer
 * reports, it aborts when a contract breaks:
 *   - an accepted token is not an RFC 6750 b64token, is empty or too long,
 *     or its lifetime is outside [1, THREATQ_TOKEN_MAX_LIFETIME_SEC];
 *   - a refusal without a reason, or with a token left behind;
 *   - Retry-After outside [-1, THREATQ_MAX_RETRY_AFTER_SEC];
 *   - a cursor accepted by the check but not stored, or read back different;
 *   - a log excerpt longer than its bound or holding a non-printable byte.
 * Deep nesting and huge bodies must be refused without recursion: run it with
 * -timeout and -rss_limit_mb so that slow or memory-hungry inputs fail too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "threatq-token.h"
#include "threatq-http-policy.h"
#include "threatq-cursor-record.h"

#define CHECK(cond) \
  do { if (!(cond)) { fprintf(stderr, "fuzz_token: check failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static void
_check_token(const uint8_t *data, size_t size)
{
  ThreatqToken token = { 0 };
  gchar problem[256] = "";

  if (threatq_token_parse((const gchar *) data, size, &token, problem, sizeof(problem)))
    {
      gsize length = strlen(token.access_token);
      CHECK(length > 0 && length <= THREATQ_TOKEN_MAX_LENGTH);
      CHECK(threatq_token_is_valid(token.access_token, length));
      CHECK(token.lifetime >= 1 && token.lifetime <= THREATQ_TOKEN_MAX_LIFETIME_SEC);
      CHECK(threatq_http_refresh_margin(token.lifetime) < token.lifetime);
    }
  else
    {
      CHECK(problem[0] != '\0');
      CHECK(token.access_token == NULL);
    }
  threatq_token_clear(&token);
}

static void
_check_header_values(const uint8_t *data, size_t size)
{
  gint64 retry_after = threatq_http_parse_retry_after((const gchar *) data, size, 1700000000);
  CHECK(retry_after >= -1 && retry_after <= THREATQ_MAX_RETRY_AFTER_SEC);

  gint64 lifetime = threatq_http_token_lifetime((const gchar *) data, size);
  CHECK(lifetime >= 1 && lifetime <= THREATQ_TOKEN_MAX_LIFETIME_SEC);

  gchar *shown = threatq_http_excerpt((const gchar *) data, size, THREATQ_LOG_EXCERPT_MAX);
  CHECK(strlen(shown) <= THREATQ_LOG_EXCERPT_MAX);
  for (const gchar *p = shown; *p; p++)
    CHECK(*p >= ' ' && *p <= '~');
  g_free(shown);
}

static void
_check_cursor(const uint8_t *data, size_t size)
{
  static ThreatqCursorRecord record;
  gchar problem[128] = "";
  gchar back[THREATQ_CURSOR_MAX_LENGTH + 1];

  threatq_cursor_record_init(&record, "fuzz", "https://tq.example");
  gboolean valid = threatq_cursor_is_valid((const gchar *) data, size, problem, sizeof(problem));
  CHECK(valid || problem[0] != '\0');
  CHECK(threatq_cursor_record_write(&record, (const gchar *) data, size) == valid);
  CHECK(threatq_cursor_record_read(&record, back) == valid);
  if (valid)
    CHECK(strlen(back) == size && memcmp(back, data, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _check_token(data, size);
  _check_header_values(data, size);
  _check_cursor(data, size);
  return 0;
}
