/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Throughput of threatq_mapper_parse_page(): parsing + mapping + rendering a page of
 * 1,000 realistic indicators (about 1.5 KB each), repeated.  Not a test.
 *   bench_mapper [repetitions] [preserve-original: 0/1] [file to save the page in]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threatq-mapper.h"

static const gchar *const types[][2] =
{
  { "IP Address", "89.160.%u.%u" },
  { "FQDN", "host%u-%u.example.net" },
  { "URL", "https://bad%u.example.com:8443/path/%u/payload.php?id=7#top" },
  { "SHA-256", "%08u5e7a27b83c1f5d2e0b1a6c4f3e2d1c0b9a8f7e6d5c4b3a2%08u0f1e2d" },
  { "Email Address", "phish%u@example%u.org" },
};

static void
_append_indicator(GString *page, guint i)
{
  const gchar *const *type = types[i % G_N_ELEMENTS(types)];
  gchar *value = g_strdup_printf(type[1], i / 256 % 256, i % 256);

  g_string_append_printf(page,
    "{\"adversaries\":[{\"id\":%u,\"name\":\"APT %u\"}],"
    "\"attributes\":["
    "{\"attribute_id\":5,\"created_at\":\"2021-10-01 18:36:06\",\"id\":%u,\"indicator_id\":%u,\"name\":\"Contact\","
    "\"touched_at\":\"2021-10-24 18:36:10\",\"updated_at\":\"2021-10-24 18:36:10\","
    "\"value\":\"email:relays[]protonmail.com url:https://relays.example.org proof:uri-rsa\"},"
    "{\"attribute_id\":9,\"created_at\":\"2021-10-01 18:36:06\",\"id\":%u,\"indicator_id\":%u,\"name\":\"Router Port\","
    "\"touched_at\":\"2021-10-24 18:36:10\",\"updated_at\":\"2021-10-24 18:36:10\",\"value\":\"9000\"},"
    "{\"attribute_id\":6,\"created_at\":\"2021-10-01 18:36:06\",\"id\":%u,\"indicator_id\":%u,\"name\":\"Flags\","
    "\"touched_at\":\"2021-10-02 18:36:08\",\"updated_at\":\"2021-10-02 18:36:08\",\"value\":\"ERDV\"},"
    "{\"attribute_id\":7,\"created_at\":\"2021-10-01 18:36:06\",\"id\":%u,\"indicator_id\":%u,\"name\":\"AlienVault Threat Level\","
    "\"touched_at\":\"2021-10-02 18:36:08\",\"updated_at\":\"2021-10-02 18:36:08\",\"value\":%u}],"
    "\"class\":\"network\",\"created_at\":\"2021-10-01 18:36:03\",\"description\":\"Seen in a phishing campaign \\\"Q4\\\"\","
    "\"expires_calculated_at\":\"2021-10-23 18:40:17\",\"hash\":\"69beef49fdbd1f54eef3cab3%08u\",\"id\":%u,"
    "\"published_at\":\"2021-10-01 18:36:03\",\"score\":%u,"
    "\"sources\":[{\"created_at\":\"2021-10-01 18:36:06\",\"creator_source_id\":12,\"id\":%u,\"indicator_id\":%u,"
    "\"indicator_status_id\":1,\"indicator_type_id\":15,\"name\":\"www.dan.me.uk Tor Node List\","
    "\"published_at\":\"2021-10-01 18:36:06\",\"reference_id\":37,\"source_id\":12,\"source_type\":\"connectors\","
    "\"tlp_id\":2,\"tlp_name\":\"AMBER\",\"updated_at\":\"2021-10-24 18:36:10\"}],"
    "\"status\":{\"description\":\"Poses a threat and is being exported to detection tools.\",\"id\":1,\"name\":\"Active\"},"
    "\"status_id\":1,\"touched_at\":\"2021-10-24 18:36:10\",\"type\":{\"class\":\"network\",\"id\":15,\"name\":\"%s\"},"
    "\"type_id\":15,\"updated_at\":\"2021-10-01 18:36:03\",\"value\":\"%s\"}",
    i, i % 50, 4893068 + i * 4, 106767 + i, 4893069 + i * 4, 106767 + i, 4893070 + i * 4, 106767 + i,
    4893071 + i * 4, 106767 + i, i % 5, i, 106767 + i, i % 11, 3699669 + i, 106767 + i, type[0], value);
  g_free(value);
}

static void
_consume(ThreatqDocument *document, gpointer user_data)
{
  static GString *json;
  gsize *output = user_data;

  /* MESSAGE is rendered where the message is built (the fetcher thread): measure it too */
  if (!json)
    json = g_string_sized_new(8192);
  g_string_truncate(json, 0);
  threatq_document_render(document, json);
  *output += json->len + document->field_count;
  threatq_document_free(document);
}

int
main(int argc, char **argv)
{
  guint repetitions = argc > 1 ? (guint) atoi(argv[1]) : 100;
  gboolean preserve = argc > 2 ? atoi(argv[2]) != 0 : TRUE;
  const gchar *const tags[] = { "forwarded", "threatq-threat", NULL };
  ThreatqMapperOptions options =
  {
    .feed_name = "ThreatQuotient", .preserve_original = preserve, .tags = tags, .ioc_expiration_seconds = 90 * 86400
  };

  GString *page = g_string_new("{\"total\":1000,\"data\":[");
  for (guint i = 0; i < 1000; i++)
    {
      if (i)
        g_string_append_c(page, ',');
      _append_indicator(page, i);
    }
  g_string_append(page, "],\"nextCursorMark\":\"AoJ9z5LKnvwCJjEwNjk2Nw==\",\"limit\":1000}");

  if (argc > 3 && !g_file_set_contents(argv[3], page->str, (gssize) page->len, NULL))
    return 1;

  gsize output = 0;
  guint indicators = 0;
  gint64 start = g_get_monotonic_time();
  for (guint r = 0; r < repetitions; r++)
    {
      ThreatqPageSummary result;
      GError *error = NULL;
      if (!threatq_mapper_parse_page(page->str, page->len, &options, g_get_real_time(), _consume, &output, NULL,
                                     &result, &error))
        {
          fprintf(stderr, "parse failed: %s\n", error->message);
          return 1;
        }
      indicators += result.documents;
      threatq_page_summary_clear(&result);
    }
  gdouble seconds = (gdouble) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;

  printf("page: %" G_GSIZE_FORMAT " bytes, %.0f bytes/indicator; preserve-original(%s)\n", page->len,
         page->len / 1000.0, preserve ? "yes" : "no");
  printf("%u indicators in %.3f s: %.0f indicators/s, %.1f MB/s in, %.1f MB/s JSON out\n", indicators, seconds,
         indicators / seconds, page->len * (gdouble) repetitions / seconds / 1e6, output / seconds / 1e6);
  g_string_free(page, TRUE);
  return 0;
}
