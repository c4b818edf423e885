/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The page parser's bounds (docs/limits.md): what a hostile or broken server
 * can put in a page is cut, dropped or refused, and said so, in time and
 * memory that grow no faster than n log n in the page's size.
 */
#include <criterion/criterion.h>
#include <string.h>

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
  options.ioc_expiration_seconds = 90 * 86400;
  documents = g_ptr_array_new_with_free_func((GDestroyNotify) threatq_document_free);
}

static void
_teardown(void)
{
  g_ptr_array_unref(documents);
}

TestSuite(limits, .init = _setup, .fini = _teardown);

static void
_collect(ThreatqDocument *document, gpointer user_data)
{
  g_ptr_array_add(documents, document);
}

static gboolean
_parse_with_stop(const GString *body, const gint *stop, GError **error)
{
  ThreatqPageSummary page;
  gboolean ok = threatq_mapper_parse_page(body->str, body->len, &options, RECEIVED_AT, _collect, NULL, stop, &page,
                                          error);
  threatq_page_summary_clear(&page);
  return ok;
}

/* the page's one document */
static const ThreatqDocument *
_parse_one(const GString *body)
{
  GError *error = NULL;
  cr_assert(_parse_with_stop(body, NULL, &error), "page refused: %s", error ? error->message : "?");
  cr_assert_eq(documents->len, 1);
  return g_ptr_array_index(documents, 0);
}

static void
_expect_refused(const GString *body, gint code, const gchar *mentions)
{
  GError *error = NULL;
  cr_assert_not(_parse_with_stop(body, NULL, &error), "page accepted");
  cr_assert_eq(error->code, code, "%s", error->message);
  cr_assert(strstr(error->message, mentions), "'%s' does not mention '%s'", error->message, mentions);
  g_error_free(error);
}

static gboolean
_has_error(const ThreatqDocument *document, const gchar *text)
{
  const ThreatqField *errors = threatq_document_find(document, "error.message");
  for (guint i = 0; errors && i < errors->item_count; i++)
    if (strstr(errors->items[i], text))
      return TRUE;
  return FALSE;
}

static gdouble
_cpu_seconds(void)
{
  return (gdouble) clock() / CLOCKS_PER_SEC;
}

/* {"data":[{"value":"v","attributes":[...]}],...} with count attribute names in descending order */
static GString *
_page_with_attributes(guint count, const gchar *prefix)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"v\",\"attributes\":[");
  for (guint i = 0; i < count; i++)
    g_string_append_printf(body, "%s{\"name\":\"%s%08u\",\"value\":\"x\"}", i ? "," : "", prefix, count - i);
  g_string_append(body, "]}],\"nextCursorMark\":\"c\"}");
  return body;
}

/* each name sorts before every earlier one: quadratic for an insertion sort (7 s for 20,000 before) */
Test(limits, many_attribute_names_in_the_worst_order)
{
  GString *body = _page_with_attributes(THREATQ_DEFAULT_MAX_MEMBERS, "name ");
  gdouble start = _cpu_seconds();
  const ThreatqDocument *document = _parse_one(body);
  gdouble took = _cpu_seconds() - start;

  cr_assert_lt(took, 1.0, "%.2f s of CPU for %u attribute names", took, THREATQ_DEFAULT_MAX_MEMBERS);
  const ThreatqField *first = threatq_document_find(document, "threatq.attributes.name_00000001");
  cr_assert_not_null(first);
  cr_assert_str_eq(first->items[0], "x");
  /* the fields are sorted: each name after the one before */
  for (guint i = 1; i < document->field_count; i++)
    cr_assert_lt(threatq_field_name_compare(document->fields[i - 1].name, document->fields[i].name), 0);
  g_string_free(body, TRUE);
}

Test(limits, members_past_the_bound_are_left_out_and_said)
{
  options.max_members = 100;
  GString *body = _page_with_attributes(150, "n");
  const ThreatqDocument *document = _parse_one(body);
  guint attributes = 0;

  for (guint i = 0; i < document->field_count; i++)
    attributes += g_str_has_prefix(document->fields[i].name, "threatq.attributes.");
  cr_assert_eq(attributes, 100);
  /* the first 100 as received: n00000150 .. n00000051 */
  cr_assert_not_null(threatq_document_find(document, "threatq.attributes.n00000150"));
  cr_assert_null(threatq_document_find(document, "threatq.attributes.n00000050"));
  cr_assert(_has_error(document, "attributes: only the first 100 kept, 50 more left out"));
  g_string_free(body, TRUE);
}

/* distinct sources: related lists are kept free of repeats by a lookup, not a scan of every item */
Test(limits, many_distinct_sources)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"v\",\"sources\":[");
  guint count = THREATQ_DEFAULT_MAX_MEMBERS;
  for (guint i = 0; i < count; i++)
    g_string_append_printf(body, "%s{\"name\":\"source %u\",\"tlp_name\":\"RED\"}", i ? "," : "", i % (count - 1));
  g_string_append(body, "]}],\"nextCursorMark\":\"c\"}");

  gdouble start = _cpu_seconds();
  const ThreatqDocument *document = _parse_one(body);
  gdouble took = _cpu_seconds() - start;

  cr_assert_lt(took, 1.0, "%.2f s of CPU for %u sources", took, count);
  const ThreatqField *providers = threatq_document_find(document, "threat.indicator.provider");
  cr_assert_eq(providers->item_count, count - 1, "the one repeat is dropped");
  cr_assert_str_eq(providers->items[0], "source 0");
  const ThreatqField *tlp = threatq_document_find(document, "threat.indicator.marking.tlp");
  cr_assert_eq(tlp->item_count, 1);
  g_string_free(body, TRUE);
}

Test(limits, long_values_are_cut_at_a_character_boundary_and_said)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"");
  /* "é" is two bytes: 65,537 of them cannot be cut at byte 65,536 without splitting one */
  for (guint i = 0; i < THREATQ_DEFAULT_MAX_VALUE_LENGTH + 1; i++)
    g_string_append(body, i == 0 ? "a" : "\xc3\xa9");
  g_string_append(body, "\",\"description\":\"short\"}],\"nextCursorMark\":\"c\"}");

  const ThreatqDocument *document = _parse_one(body);
  const ThreatqField *value = threatq_document_find(document, "threatq.indicator_value");
  cr_assert_eq(value->text_length, THREATQ_DEFAULT_MAX_VALUE_LENGTH - 1);
  cr_assert(g_utf8_validate_len(value->text, value->text_length, NULL));
  cr_assert_str_eq(threatq_document_find(document, "threat.indicator.description")->text, "short");
  cr_assert(_has_error(document, "1 string values were cut to 65536 bytes (the longest had 131073)"));
  g_string_free(body, TRUE);
}

/* a value of invalid bytes: one U+FFFD for the run, not three bytes per byte */
Test(limits, invalid_bytes_do_not_multiply)
{
  GString *body = g_string_new("{\"data\":[{\"type\":\"URL\",\"value\":\"");
  for (guint i = 0; i < 1000000; i++)
    g_string_append_c(body, '\xff');
  g_string_append(body, "\"}],\"nextCursorMark\":\"c\"}");

  options.preserve_original = TRUE;
  const ThreatqDocument *document = _parse_one(body);
  cr_assert_str_eq(threatq_document_find(document, "threatq.indicator_value")->text, "\xef\xbf\xbd");
  const ThreatqField *original = threatq_document_find(document, "event.original");
  cr_assert_leq(original->text_length, THREATQ_MAX_ORIGINAL_LENGTH);
  cr_assert(g_utf8_validate_len(original->text, original->text_length, NULL));
  cr_assert_lt(strlen(threatq_document_json((ThreatqDocument *) document)), 4096);
  g_string_free(body, TRUE);
}

Test(limits, event_original_is_cut_and_said)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"v\",\"unmapped\":[");
  for (guint i = 0; i < THREATQ_MAX_ORIGINAL_LENGTH / 4; i++)
    g_string_append(body, i ? ",\"\xc3\xa9\"" : "\"\xc3\xa9\"");
  g_string_append(body, "]}],\"nextCursorMark\":\"c\"}");

  options.preserve_original = TRUE;
  const ThreatqDocument *document = _parse_one(body);
  const ThreatqField *original = threatq_document_find(document, "event.original");
  cr_assert_leq(original->text_length, THREATQ_MAX_ORIGINAL_LENGTH);
  cr_assert_geq(original->text_length, THREATQ_MAX_ORIGINAL_LENGTH - 3);
  cr_assert(g_utf8_validate_len(original->text, original->text_length, NULL));
  cr_assert(_has_error(document, "event.original: the indicator's"));
  g_string_free(body, TRUE);
}

static GString *
_nested(guint depth)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"v\",\"deep\":");
  for (guint i = 0; i < depth; i++)
    g_string_append_c(body, '[');
  for (guint i = 0; i < depth; i++)
    g_string_append_c(body, ']');
  g_string_append(body, "}],\"nextCursorMark\":\"c\"}");
  return body;
}

Test(limits, nesting_past_the_bound_refuses_the_page)
{
  /* page, data, indicator: three levels before "deep" */
  GString *body = _nested(THREATQ_MAX_PAGE_DEPTH - 3);
  _parse_one(body);
  g_string_free(body, TRUE);

  g_ptr_array_set_size(documents, 0);
  body = _nested(THREATQ_MAX_PAGE_DEPTH - 2);
  _expect_refused(body, THREATQ_MAPPER_ERROR_SHAPE, "nested deeper than 64 levels");
  g_string_free(body, TRUE);

  /* a million levels: refused at the bound, not parsed to the end */
  body = _nested(1000000);
  _expect_refused(body, THREATQ_MAPPER_ERROR_SHAPE, "nested deeper");
  g_string_free(body, TRUE);
}

Test(limits, more_indicators_than_the_bound_refuse_the_page)
{
  GString *body = g_string_new("{\"data\":[{},{},{},{}],\"nextCursorMark\":\"c\"}");
  options.max_indicators = 3;
  _expect_refused(body, THREATQ_MAPPER_ERROR_SHAPE, "more than 3 indicators");
  options.max_indicators = 4;
  g_ptr_array_set_size(documents, 0);
  GError *error = NULL;
  cr_assert(_parse_with_stop(body, NULL, &error));
  cr_assert_eq(documents->len, 4);
  g_string_free(body, TRUE);
}

Test(limits, attribute_names_no_name_value_pair_can_have_are_left_out)
{
  GString *body = g_string_new("{\"data\":[{\"value\":\"v\",\"attributes\":[");
  gchar *longest = g_strnfill(THREATQ_MAX_ATTRIBUTE_NAME_LENGTH, 'k');
  gchar *too_long = g_strnfill(THREATQ_MAX_ATTRIBUTE_NAME_LENGTH + 1, 'k');
  g_string_append_printf(body, "{\"name\":\"%s\",\"value\":\"kept\"},", longest);
  g_string_append_printf(body, "{\"name\":\"%s\",\"value\":\"dropped\"},", too_long);
  g_string_append(body, "{\"name\":\"tab\\there\",\"value\":\"dropped\"},");
  g_string_append(body, "{\"name\":\"Fine Name\",\"value\":\"kept\"}");
  g_string_append(body, "]}],\"nextCursorMark\":\"c\"}");

  const ThreatqDocument *document = _parse_one(body);
  gchar *field = g_strconcat("threatq.attributes.", longest, NULL);
  cr_assert_not_null(threatq_document_find(document, field));
  cr_assert_not_null(threatq_document_find(document, "threatq.attributes.fine_name"));
  for (guint i = 0; i < document->field_count; i++)
    cr_assert_leq(document->fields[i].name_length, 255, "%s", document->fields[i].name);
  cr_assert(_has_error(document, "threatq.attributes: 2 attributes left out"));
  g_free(field);
  g_free(longest);
  g_free(too_long);
  g_string_free(body, TRUE);
}

Test(limits, a_raised_stop_flag_ends_the_parse)
{
  GString *body = g_string_new("{\"data\":[");
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf(body, "%s{\"id\":%u,\"value\":\"v\"}", i ? "," : "", i);
  g_string_append(body, "],\"nextCursorMark\":\"c\"}");

  gint stop = 1;
  GError *error = NULL;
  cr_assert_not(_parse_with_stop(body, &stop, &error));
  cr_assert_eq(error->code, THREATQ_MAPPER_ERROR_STOPPED);
  cr_assert_leq(documents->len, 1, "parsed on after the flag: %u documents", documents->len);
  g_clear_error(&error);

  /* inside one indicator too: a long skipped array is left within a few thousand tokens */
  g_string_assign(body, "{\"data\":[{\"value\":\"v\",\"unmapped\":[");
  for (guint i = 0; i < 100000; i++)
    g_string_append(body, i ? ",1" : "1");
  g_string_append(body, "]}],\"nextCursorMark\":\"c\"}");
  g_ptr_array_set_size(documents, 0);
  cr_assert_not(_parse_with_stop(body, &stop, &error));
  cr_assert_eq(error->code, THREATQ_MAPPER_ERROR_STOPPED);
  cr_assert_eq(documents->len, 0);
  g_clear_error(&error);

  stop = 0;
  cr_assert(_parse_with_stop(body, &stop, &error));
  g_string_free(body, TRUE);
}

/* MESSAGE of values longer than the renderer's 4 KiB chunk, escapes on and across its edges */
Test(limits, long_values_render_as_the_same_json)
{
  GString *value = g_string_new(NULL);
  for (guint i = 0; i < 3 * 4096 + 5; i++)
    g_string_append_c(value, i % 7 == 0 ? '"' : i % 11 == 0 ? '\n' : (gchar) ('a' + i % 26));
  GString *body = g_string_new("{\"data\":[{\"value\":\"");
  for (guint i = 0; i < value->len; i++)
    g_string_append(body, (value->str[i] == '"' ? "\\\"" : value->str[i] == '\n' ? "\\n" : (gchar[]) { value->str[i], 0 }));
  g_string_append(body, "\"}],\"nextCursorMark\":\"c\"}");

  ThreatqDocument *document = (ThreatqDocument *) _parse_one(body);
  const gchar *json = threatq_document_json(document);
  GString *expected = g_string_new(NULL);
  for (guint i = 0; i < value->len; i++)
    g_string_append(expected, (value->str[i] == '"' ? "\\\"" : value->str[i] == '\n' ? "\\n" : (gchar[]) { value->str[i], 0 }));
  gchar *needle = g_strdup_printf("\"indicator_value\":\"%s\"", expected->str);
  cr_assert(strstr(json, needle), "the long value is not rendered as expected");
  g_free(needle);
  g_string_free(expected, TRUE);
  g_string_free(value, TRUE);
  g_string_free(body, TRUE);
}
