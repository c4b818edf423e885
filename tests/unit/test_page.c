/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq_mapper_parse_page(): the page envelope (docs/behaviour.md, docs/fields.md),
 * streamed one indicator at a time.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "threatq-json-events.h"
#include "threatq-mapper.h"
#include "document-find.h"

#define RECEIVED_AT G_GINT64_CONSTANT(1649669255244000)

static ThreatqMapperOptions options;
static GPtrArray *documents;

static void
_setup(void)
{
  memset(&options, 0, sizeof(options));
  options.feed_name = "ThreatQuotient";
  options.preserve_original = TRUE;
  options.ioc_expiration_seconds = 90 * 86400;
  documents = g_ptr_array_new_with_free_func((GDestroyNotify) threatq_document_free);
}

static void
_teardown(void)
{
  g_ptr_array_unref(documents);
}

TestSuite(page, .init = _setup, .fini = _teardown);

static void
_collect(ThreatqDocument *document, gpointer user_data)
{
  cr_assert_eq(user_data, documents);
  threatq_document_json(document);
  g_ptr_array_add(documents, document);
}

static gboolean
_parse(const gchar *body, ThreatqPageSummary *page, GError **error)
{
  return threatq_mapper_parse_page(body, strlen(body), &options, RECEIVED_AT, _collect, documents, NULL, page, error);
}

static void
_expect_ok(const gchar *body, ThreatqPageSummary *page, guint expected_documents, guint expected_malformed)
{
  GError *error = NULL;
  gboolean ok = _parse(body, page, &error);
  cr_assert(ok, "page rejected: %s", error ? error->message : "?");
  cr_assert_null(error);
  cr_assert_eq(page->documents, expected_documents, "documents: %u", page->documents);
  cr_assert_eq(documents->len, expected_documents);
  cr_assert_eq(page->malformed_items, expected_malformed, "malformed: %u", page->malformed_items);
}

static GError *
_expect_failure(const gchar *body, gint code)
{
  ThreatqPageSummary page;
  GError *error = NULL;
  cr_assert_not(_parse(body, &page, &error), "accepted %s", body);
  cr_assert_not_null(error);
  cr_assert_eq(error->domain, THREATQ_MAPPER_ERROR);
  cr_assert_eq(error->code, code, "%s -> %s", body, error->message);
  threatq_page_summary_clear(&page);
  return error;
}

static const gchar *
_doc_str(guint index, const gchar *name)
{
  cr_assert_lt(index, documents->len);
  const ThreatqField *field = threatq_document_find(g_ptr_array_index(documents, index), name);
  cr_assert_not_null(field, "document %u has no %s", index, name);
  return field->text;
}

/* ---- end of collection: empty data ------------------------------------- */

Test(page, data_empty_array)
{
  ThreatqPageSummary page;
  _expect_ok("{\"total\":4090,\"data\":[],\"nextCursorMark\":\"AoJ\",\"limit\":100}", &page, 0, 0);
  cr_assert_str_eq(page.next_cursor, "AoJ");
  cr_assert(page.has_total);
  cr_assert_eq(page.total, 4090);
  threatq_page_summary_clear(&page);
  cr_assert_null(page.next_cursor);
}

Test(page, data_empty_object)
{
  ThreatqPageSummary page;
  _expect_ok("{\"total\":4090,\"data\":{},\"nextCursorMark\":\"BoJ9z5LKnvwCJjEwNjk2Nw==\",\"limit\":100}", &page, 0, 0);
  cr_assert_str_eq(page.next_cursor, "BoJ9z5LKnvwCJjEwNjk2Nw==");
  threatq_page_summary_clear(&page);
}

Test(page, data_missing_or_null)
{
  ThreatqPageSummary page;
  _expect_ok("{\"total\":0,\"nextCursorMark\":\"c\"}", &page, 0, 0);
  cr_assert_str_eq(page.next_cursor, "c");
  threatq_page_summary_clear(&page);

  _expect_ok("{\"data\":null}", &page, 0, 0);
  cr_assert_null(page.next_cursor);
  cr_assert_not(page.has_total);
  threatq_page_summary_clear(&page);

  _expect_ok(" {} ", &page, 0, 0);
  threatq_page_summary_clear(&page);
}

/* ---- wrong shapes --------------------------------------------------------- */

Test(page, data_of_the_wrong_type)
{
  const gchar *bodies[] =
  {
    "{\"data\":\"indicators\"}", "{\"data\":5}", "{\"data\":true}", "{\"data\":false}",
    "{\"data\":{\"id\":1}}", "{\"nextCursorMark\":\"x\",\"data\":{\"0\":{\"value\":\"v\"}}}",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bodies); i++)
    {
      GError *error = _expect_failure(bodies[i], THREATQ_MAPPER_ERROR_SHAPE);
      cr_assert(strstr(error->message, "data"), "%s", error->message);
      g_error_free(error);
    }
  cr_assert_eq(documents->len, 0);
}

Test(page, top_level_not_an_object)
{
  const gchar *bodies[] = { "[]", "[{\"value\":\"x\"}]", "\"page\"", "42", "null", "true" };
  for (guint i = 0; i < G_N_ELEMENTS(bodies); i++)
    {
      GError *error = _expect_failure(bodies[i], THREATQ_MAPPER_ERROR_SHAPE);
      cr_assert(strstr(error->message, "not a JSON object"), "%s", error->message);
      g_error_free(error);
    }
}

/* ---- invalid JSON -------------------------------------------------------- */

Test(page, truncated_json_names_the_offset)
{
  const gchar *body = "{\"total\":2,\"data\":[{\"id\":1,\"value\":\"1.1.1.1\"},{\"id\":2,\"val";
  GError *error = _expect_failure(body, THREATQ_MAPPER_ERROR_SYNTAX);
  gchar *offset = g_strdup_printf("byte %zu", strlen(body));
  cr_assert(strstr(error->message, offset), "%s", error->message);
  cr_assert(strstr(error->message, "{\\\"id\\\":2") || strstr(error->message, "{\"id\":2,\"val"), "%s",
            error->message);
  g_free(offset);
  g_error_free(error);
  /* the complete indicator before the cut was emitted; the caller discards it */
  cr_assert_eq(documents->len, 1);
}

static void
_check_excerpt(const gchar *message)
{
  const gchar *start = strstr(message, "near '");
  cr_assert_not_null(start, "%s", message);
  start += 6;
  const gchar *end = strrchr(message, '\'');
  cr_assert(end >= start);
  cr_assert_leq(end - start, 60, "excerpt too long: %s", message);
  for (const gchar *p = start; p < end; p++)
    cr_assert(*p >= 0x20 && *p < 0x7f, "unprintable excerpt: %s", message);
}

Test(page, garbage_is_a_syntax_error_with_a_short_excerpt)
{
  GString *body = g_string_new("{\"data\":[");
  for (guint i = 0; i < 50; i++)
    g_string_append(body, "{\"value\":\"padding padding padding\"},");
  gsize bad = body->len;
  g_string_append(body, "{\"value\":\x01\x02 nonsense \"tail tail tail tail tail tail tail tail tail tail\"}]}");

  GError *error = _expect_failure(body->str, THREATQ_MAPPER_ERROR_SYNTAX);
  /* yajl reports the offset just past the offending byte */
  gchar *offset = g_strdup_printf("byte %zu", bad + 10);
  cr_assert(strstr(error->message, offset), "%s (expected %s)", error->message, offset);
  _check_excerpt(error->message);
  g_free(offset);
  g_error_free(error);
  g_string_free(body, TRUE);

  const gchar *others[] =
  {
    "", "   ", "<html>502 Bad Gateway</html>", "{\"data\":[{}]} trailing", "{\"data\":[1,]}",
    "{'data':[]}", "{\"data\":[{\"value\":\"a\nb\"}]}",
  };
  for (guint i = 0; i < G_N_ELEMENTS(others); i++)
    {
      error = _expect_failure(others[i], THREATQ_MAPPER_ERROR_SYNTAX);
      cr_assert(strstr(error->message, "invalid JSON at byte "), "%s", error->message);
      _check_excerpt(error->message);
      g_error_free(error);
    }
}

/*
 * Invalid UTF-8, raw or from escapes yajl decodes (a lone surrogate, \u0000):
 * the page is mapped, with one U+FFFD in place of each run of bad bytes, so
 * one bad string neither stops the collection nor reaches MESSAGE.
 */
Test(page, invalid_utf8_is_replaced_and_the_page_mapped)
{
  const struct
  {
    const gchar *body;
    const gchar *expected_value;
  } cases[] =
  {
    { "{\"data\":[{\"id\":1,\"value\":\"a\xed\xa0\x80\x62\",\"type\":{\"name\":\"FQDN\"}}]}", "a\xef\xbf\xbd\x62" },
    { "{\"data\":[{\"id\":1,\"value\":\"a\xc0\xaf\x62\"}]}", "a\xef\xbf\xbd\x62" },
    { "{\"data\":[{\"id\":1,\"value\":\"a\xf4\x90\x80\x80\x62\"}]}", "a\xef\xbf\xbd\x62" },
    { "{\"data\":[{\"id\":1,\"value\":\"\xff\xfe\xfd\xfc\xe2\x82\xac\x80\x80\"}]}", "\xef\xbf\xbd\xe2\x82\xac\xef\xbf\xbd" },
    { "{\"data\":[{\"id\":1,\"value\":\"\xc3\x28\"}]}", "\xef\xbf\xbd(" },
    { "{\"data\":[{\"id\":1,\"value\":\"x\\udc00y\"}]}", "x\xef\xbf\xbdy" },
    { "{\"data\":[{\"id\":1,\"value\":\"x\\u0000y\"}]}", "x\xef\xbf\xbdy" },
    { "{\"data\":[{\"id\":1,\"\xed\xa0\x80\":\"k\",\"value\":\"v\"}]}", "v" },
  };
  options.preserve_original = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    {
      ThreatqPageSummary page;
      g_ptr_array_set_size(documents, 0);
      _expect_ok(cases[i].body, &page, 1, 0);
      const ThreatqDocument *document = g_ptr_array_index(documents, 0);
      const ThreatqField *value = threatq_document_find(document, "threatq.indicator_value");
      cr_assert_not_null(value, "case %u", i);
      cr_assert_str_eq(value->text, cases[i].expected_value, "case %u", i);
      cr_assert(g_utf8_validate_len(document->json, document->json_length, NULL), "case %u: MESSAGE", i);
      const ThreatqField *original = threatq_document_find(document, "event.original");
      cr_assert(g_utf8_validate(original->text, -1, NULL), "case %u: event.original", i);
      threatq_page_summary_clear(&page);
    }
}

/* ---- elements ------------------------------------------------------------- */

Test(page, non_object_elements_are_counted)
{
  ThreatqPageSummary page;
  _expect_ok("{\"data\":[1,\"s\",null,[{\"value\":\"inner\"}],{\"value\":\"kept\"},true,-2.5,[]],"
             "\"nextCursorMark\":\"n\"}", &page, 1, 7);
  cr_assert_str_eq(_doc_str(0, "threatq.indicator_value"), "kept");
  threatq_page_summary_clear(&page);
}

Test(page, cursor_before_and_after_data)
{
  ThreatqPageSummary page;
  _expect_ok("{\"nextCursorMark\":\"first\",\"limit\":2,\"data\":[{\"value\":\"a\"},{\"value\":\"b\"}],\"total\":2}",
             &page, 2, 0);
  cr_assert_str_eq(page.next_cursor, "first");
  cr_assert_eq(page.total, 2);
  threatq_page_summary_clear(&page);
  g_ptr_array_set_size(documents, 0);

  _expect_ok("{\"total\":7,\"data\":[{\"value\":\"a\"}],\"nextCursorMark\":\"Ao\\u004a9z+/==\"}", &page, 1, 0);
  cr_assert_str_eq(page.next_cursor, "AoJ9z+/==");
  cr_assert(page.has_total);
  cr_assert_eq(page.total, 7);
  threatq_page_summary_clear(&page);
}

Test(page, odd_envelope_values_are_ignored)
{
  ThreatqPageSummary page;
  _expect_ok("{\"total\":\"12\",\"nextCursorMark\":null,\"meta\":{\"data\":\"x\",\"nextCursorMark\":\"no\"},"
             "\"data\":[{\"data\":\"inner\",\"nextCursorMark\":\"inner\",\"total\":1,\"value\":\"v\"}]}", &page, 1, 0);
  cr_assert_null(page.next_cursor);
  cr_assert_not(page.has_total);
  cr_assert_str_eq(_doc_str(0, "threatq.indicator_value"), "v");
  threatq_page_summary_clear(&page);

  g_ptr_array_set_size(documents, 0);
  _expect_ok("{\"total\":1.5,\"nextCursorMark\":5}", &page, 0, 0);
  cr_assert_not(page.has_total);
  cr_assert_null(page.next_cursor);
  threatq_page_summary_clear(&page);
}

Test(page, documents_in_order_with_exact_original_text)
{
  const gchar *elements[] =
  {
    "{\"id\":1,\"value\":\"1.1.1.1\",\"type\":{\"name\":\"IP Address\"},\"updated_at\":\"2021-10-01 18:36:03\"}",
    "{ \"id\" : 2 , \"value\" : \"b\\\"c\" , \"nested\" : { \"deep\" : [ { \"x\" : [ ] } ] } }",
    "{}",
    ("{\"id\":\"4\",\"attributes\":[{\"name\":\"A\",\"value\":{\"x\":[1,2]}},{\"name\":\"B\",\"value\":2}],"
     "\"sources\":[{\"name\":\"S\",\"tlp_name\":\"RED\"}],\"value\":\"\xc3\xa9\"}"),
  };
  GString *body = g_string_new("{\"data\":[\n  ");
  for (guint i = 0; i < G_N_ELEMENTS(elements); i++)
    g_string_append_printf(body, "%s%s", i ? " ,\n\t" : "", elements[i]);
  g_string_append(body, "\n],\"nextCursorMark\":\"z\"}");

  ThreatqPageSummary page;
  _expect_ok(body->str, &page, G_N_ELEMENTS(elements), 0);
  for (guint i = 0; i < G_N_ELEMENTS(elements); i++)
    {
      cr_assert_str_eq(_doc_str(i, "event.original"), elements[i]);
      ThreatqDocument *document = g_ptr_array_index(documents, i);
      char error[128];
      yajl_val tree = yajl_tree_parse(document->json, error, sizeof(error));
      cr_assert_not_null(tree, "%s", error);
      yajl_tree_free(tree);
    }
  cr_assert_str_eq(_doc_str(0, "threat.indicator.ip"), "1.1.1.1");
  cr_assert_str_eq(_doc_str(0, "@timestamp"), "2021-10-01T18:36:03.000Z");
  cr_assert_eq(((ThreatqDocument *) g_ptr_array_index(documents, 0))->timestamp, 1633113363);
  cr_assert_str_eq(_doc_str(1, "threatq.indicator_value"), "b\"c");
  cr_assert_str_eq(_doc_str(1, "@timestamp"), "2022-04-11T09:27:35.244Z");
  cr_assert_eq(((ThreatqDocument *) g_ptr_array_index(documents, 1))->timestamp, 1649669255);
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 2), "threatq.indicator_value"));
  cr_assert_eq(threatq_document_find(g_ptr_array_index(documents, 3), "threatq.id")->integer, 4);
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 3), "threatq.attributes.a"));
  cr_assert_str_eq(threatq_document_find(g_ptr_array_index(documents, 3), "threatq.attributes.b")->items[0], "2");
  /* nothing leaks from one indicator into the next */
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 2), "threat.indicator.type"));
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 2), "threatq.id"));
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 1), "threat.indicator.ip"));
  cr_assert_null(threatq_document_find(g_ptr_array_index(documents, 1), "threatq.attributes.b"));
  threatq_page_summary_clear(&page);
  g_string_free(body, TRUE);
}

Test(page, page_and_single_indicator_agree)
{
  const gchar *element =
    "{\"adversaries\":[{\"name\":\"X\"}],\"attributes\":[{\"name\":\"Router Port\",\"value\":\"9000\"}],"
    "\"class\":\"network\",\"created_at\":\"2021-10-01 18:36:03\",\"hash\":\"h\",\"id\":106767,\"score\":6,"
    "\"sources\":[{\"name\":\"S\",\"tlp_name\":\"TLP:AMBER\"}],\"status\":{\"name\":\"Active\"},"
    "\"type\":{\"name\":\"URL\"},\"updated_at\":\"2021-10-01 18:36:03\",\"value\":\"https://a.example/x.js?q\"}";
  gchar *body = g_strdup_printf("{\"data\":[%s,%s],\"nextCursorMark\":\"c\"}", element, element);
  const gchar *const tags[] = { "t1", NULL };
  options.tags = tags;

  ThreatqPageSummary page;
  _expect_ok(body, &page, 2, 0);
  GError *error = NULL;
  ThreatqDocument *single = threatq_mapper_map_json(element, strlen(element), &options, RECEIVED_AT, &error);
  cr_assert_not_null(single);
  for (guint i = 0; i < 2; i++)
    cr_assert_str_eq(((ThreatqDocument *) g_ptr_array_index(documents, i))->json, single->json);
  cr_assert(strstr(single->json, "\"tags\":[\"preserve_original_event\",\"t1\"]"), "%s", single->json);
  threatq_document_free(single);
  threatq_page_summary_clear(&page);
  g_free(body);
}

Test(page, a_full_page)
{
  GString *body = g_string_new("{\"total\":1000,\"data\":[");
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf(body, "%s{\"id\":%u,\"value\":\"10.0.%u.%u\",\"type\":{\"name\":\"IP Address\"},"
                           "\"score\":%u,\"updated_at\":\"2021-10-01 18:36:03\"}", i ? "," : "", i, i / 256, i % 256,
                           i % 11);
  g_string_append(body, "],\"nextCursorMark\":\"end\",\"limit\":1000}");

  ThreatqPageSummary page;
  _expect_ok(body->str, &page, 1000, 0);
  for (guint i = 0; i < 1000; i += 97)
    cr_assert_eq(threatq_document_find(g_ptr_array_index(documents, i), "threatq.id")->integer, i);
  cr_assert_str_eq(_doc_str(999, "threat.indicator.ip"), "10.0.3.231");
  threatq_page_summary_clear(&page);
  g_string_free(body, TRUE);
}

/* The documents of a page share one arena and one builder: nothing of one may leak into the next. */
Test(page, documents_share_the_page_memory_without_mixing)
{
  GString *body = g_string_new("{\"data\":[");
  GString *big = g_string_new(NULL);

  /* a value bigger than an arena block, and one a quarter of it: they get blocks of their own */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c(big, (gchar) ('a' + i % 26));
  for (guint doc = 0; doc < 4; doc++)
    {
      guint names = doc % 2 ? 2 : 20;     /* many attribute names (a table), then few (a scan) */
      g_string_append_printf(body, "%s{\"id\":%u,\"value\":\"v%u\",\"description\":\"%.*s\",\"attributes\":[",
                             doc ? "," : "", doc, doc, doc == 2 ? 100000 : 17000 + doc, big->str);
      for (guint i = 0; i < 2 * names; i++)
        g_string_append_printf(body, "%s{\"name\":\"N%u\",\"value\":\"%u-%u\"}", i ? "," : "", i % names,
                               doc, i);
      g_string_append(body, "]}");
    }
  g_string_append(body, "],\"nextCursorMark\":\"end\"}");

  ThreatqPageSummary page;
  options.max_value_length = 1024 * 1024;
  _expect_ok(body->str, &page, 4, 0);

  /* freed out of order: each document keeps the page's memory alive for the others */
  threatq_document_free(g_ptr_array_index(documents, 1));
  g_ptr_array_index(documents, 1) = NULL;

  for (guint doc = 0; doc < 4; doc += 2)
    {
      ThreatqDocument *document = g_ptr_array_index(documents, doc);
      const ThreatqField *description = threatq_document_find(document, "threat.indicator.description");
      guint length = doc == 2 ? 100000 : 17000 + doc;
      cr_assert_eq(description->text_length, length);
      cr_assert(strncmp(description->text, big->str, length) == 0 && description->text[length] == '\0');

      guint attribute_fields = 0;
      for (guint i = 0; i < document->field_count; i++)
        if (g_str_has_prefix(document->fields[i].name, "threatq.attributes."))
          {
            /* the same names in every document: a name looked up in a stale table would show here */
            const ThreatqField *field = &document->fields[i];
            cr_assert_eq(field->item_count, 2, "%s in document %u", field->name, doc);
            guint n = (guint) g_ascii_strtoull(field->name + strlen("threatq.attributes.n"), NULL, 10);
            gchar *first = g_strdup_printf("%u-%u", doc, n), *second = g_strdup_printf("%u-%u", doc, n + 20);
            cr_assert_str_eq(field->items[0], first);
            cr_assert_str_eq(field->items[1], second);
            g_free(first);
            g_free(second);
            attribute_fields++;
          }
      cr_assert_eq(attribute_fields, 20, "document %u", doc);
      gchar *expected = g_strdup_printf("\"n19\":[\"%u-19\",\"%u-39\"]", doc, doc);
      cr_assert(strstr(threatq_document_json(document), expected), "%s", document->json);
      g_free(expected);
    }

  ThreatqDocument *few = g_ptr_array_index(documents, 3);
  cr_assert_str_eq(threatq_document_find(few, "threatq.attributes.n1")->items[1], "3-3");
  cr_assert_null(threatq_document_find(few, "threatq.attributes.n5"));
  threatq_page_summary_clear(&page);
  g_string_free(big, TRUE);
  g_string_free(body, TRUE);
}

/* ------------------------------------------------------------------ */
/* The JSON fast path that gives up at the very end (threatq-mapper.c) */

static gint
_count_event(void *ctx)
{
  (*(guint *) ctx)++;
  return 1;
}

static gint
_count_scalar(void *ctx, const void *text, size_t length)
{
  return _count_event(ctx);
}

static gint
_count_boolean(void *ctx, gint value)
{
  return _count_event(ctx);
}

/* what the fast path says on body, and how many events it called back before */
static ThreatqJsonResult
_fast_path(const gchar *body, guint *events)
{
  const yajl_callbacks counting =
  {
    .yajl_null = _count_event, .yajl_boolean = _count_boolean,
    .yajl_number = (gint (*)(void *, const char *, size_t)) _count_scalar,
    .yajl_string = (gint (*)(void *, const unsigned char *, size_t)) _count_scalar,
    .yajl_start_map = _count_event, .yajl_map_key = (gint (*)(void *, const unsigned char *, size_t)) _count_scalar,
    .yajl_end_map = _count_event, .yajl_start_array = _count_event, .yajl_end_array = _count_event,
  };
  gsize consumed = 0;
  *events = 0;
  return threatq_json_events_parse(body, strlen(body), &counting, events, &consumed, NULL);
}

/* the documents' JSON and the summary of a page, as one text */
static gchar *
_page_outcome(const gchar *body)
{
  ThreatqPageSummary page;
  GError *error = NULL;
  g_ptr_array_set_size(documents, 0);
  cr_assert(_parse(body, &page, &error), "page rejected: %s", error ? error->message : "?");
  cr_assert_eq(page.documents, documents->len);
  GString *outcome = g_string_new(NULL);
  g_string_append_printf(outcome, "cursor=%s total=%d/%" G_GINT64_FORMAT " documents=%u malformed=%u\n",
                         page.next_cursor ? page.next_cursor : "(none)", page.has_total, page.total,
                         page.documents, page.malformed_items);
  for (guint i = 0; i < documents->len; i++)
    g_string_append_printf(outcome, "%s\n", ((ThreatqDocument *) g_ptr_array_index(documents, i))->json);
  threatq_page_summary_clear(&page);
  return g_string_free(outcome, FALSE);
}

/*
 * A page the fast path reads to (almost) its end before it leaves it to yajl
 * is parsed twice: nothing of the first attempt (documents, counts, the
 * cursor, the indicator being built) may reach the second one's outcome.
 * The members the mapper ignores (type_id, extra, ...) the fast path skips
 * (THREATQ_JSON_SKIP_VALUE) in the reference, yajl calls back for in the others.
 */
Test(page, a_page_the_fast_path_gives_up_on_at_its_end_maps_as_without_that_trait)
{
  const gchar *element =
    "{\"attributes\":[{\"attribute_id\":14,\"name\":\"Router Port\",\"value\":\"9000\"}],\"class\":\"network\","
    "\"id\":%u,\"type_id\":15,\"extra\":{\"k\":[1,\"x\\n\\u00e9\",{\"d\":null,\"e\":[true,false]}],\"n\":-2.5e3},"
    "\"score\":%u,\"sources\":[{\"source_id\":3,\"name\":\"S\",\"meta\":{\"a\":[]},\"tlp_name\":\"TLP:AMBER\"}],"
    "\"type\":{\"id\":15,\"name\":\"URL\"},\"updated_at\":\"2021-10-01 18:36:03\",\"value\":\"https://a%u.example/x.js?q\"}";
  GString *data = g_string_new(NULL);
  for (guint i = 0; i < 50; i++)
    {
      g_string_append(data, i ? "," : "");
      g_string_append_printf(data, element, i, i % 11, i);
      if (i % 17 == 3)
        g_string_append(data, ",7");                         /* a malformed item */
    }
  /* cursor_tail: the same cursor as plain UTF-8 and as escapes the fast path leaves to yajl */
  const struct
  {
    const gchar *cursor_tail;
    const gchar *end;
  } variants[] =
  {
    { "\xf0\x9f\x98\x80", "}" },                               /* the reference */
    { "\xf0\x9f\x98\x80", "}\f" },                             /* white space only yajl skips */
    { "\xf0\x9f\x98\x80", "}\v\n" },
    { "\xf0\x9f\x98\x80", "\f}" },
    { "\\ud83d\\ude00", "}" },                                 /* a surrogate pair in the last value */
  };
  gchar *reference = NULL;
  guint all_events = 0;
  GString *body = g_string_new(NULL);

  options.tags = NULL;
  for (guint v = 0; v < G_N_ELEMENTS(variants); v++)
    {
      g_string_printf(body, "{\"total\":51,\"meta\":{\"took\":[1,{\"x\":\"y\"}]},\"data\":[%s],"
                      "\"nextCursorMark\":\"AoE%s\"%s", data->str,
                      variants[v].cursor_tail, variants[v].end);
      guint events;
      ThreatqJsonResult fast = _fast_path(body->str, &events);
      gchar *outcome = _page_outcome(body->str);
      cr_assert(strstr(outcome, "documents=50 malformed=3"), "variant %u: %.80s", v, outcome);
      if (v == 0)
        {
          cr_assert_eq(fast, THREATQ_JSON_OK);
          reference = outcome;
          all_events = events;
          cr_log_info("the page: %u events, %" G_GSIZE_FORMAT " bytes", events, body->len);
          continue;
        }
      /* the fast path called back all but the last value and '}' at least, then gave up */
      cr_assert_eq(fast, THREATQ_JSON_UNSURE, "variant %u", v);
      cr_assert_geq(events + 2, all_events, "variant %u: %u of %u events", v, events, all_events);
      cr_assert_str_eq(outcome, reference, "variant %u", v);
      g_free(outcome);
    }
  g_free(reference);
  g_string_free(body, TRUE);
  g_string_free(data, TRUE);
}
