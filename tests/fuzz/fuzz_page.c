/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as one indicator page body, through the
 * streaming page parser and the indicator -> ECS mapping
 * (threatq_mapper_parse_page(), threatq_mapper_map_json()).
 *
 * Built and run by tests/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 * Besides ASan/UBSan/LeakSanitizer reports, it aborts when the mapper breaks
 * its own contract on any input:
 *   - a g_critical()/g_warning() (a failed g_return_if_fail() among others);
 *   - a failure without a THREATQ_MAPPER_ERROR, or a success with one set;
 *   - page.documents differing from the documents actually emitted;
 *   - a document whose MESSAGE json is not valid UTF-8 / valid JSON, or whose
 *     fields are not strictly sorted (duplicate names), or hold invalid UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <yajl/yajl_tree.h>

#include "threatq-mapper.h"
#include "../unit/document-find.h"

#define RECEIVED_AT G_GINT64_CONSTANT(1649669255244000)

static const gchar *const user_tags[] = { "fuzz", "threatq", "fuzz", NULL };

static const ThreatqMapperOptions options_full =
{
  .feed_name = "ThreatQuotient",
  .preserve_original = TRUE,
  .tags = user_tags,
  .ioc_expiration_seconds = 90 * 86400,
  /* the page-size() default: every document is checked here, 10,000 of them are slow under the sanitizers */
  .max_indicators = 1000,
};

static const ThreatqMapperOptions options_bare =
{
  .feed_name = "",
  .preserve_original = FALSE,
  .tags = NULL,
  .ioc_expiration_seconds = 0,
  .max_indicators = 1000,
};

#define CHECK(cond, ...) \
  do { if (!(cond)) { fprintf(stderr, "fuzz_page: check failed: %s: ", #cond); \
                      fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

/* -DFUZZ_SKIP_UTF8_CHECKS: keep fuzzing for other findings while an invalid-UTF-8 one is open */
#ifdef FUZZ_SKIP_UTF8_CHECKS
#define UTF8_OK(text, length) TRUE
#else
#define UTF8_OK(text, length) g_utf8_validate(text, length, NULL)
#endif

static void
_check_utf8(const gchar *what, const gchar *text)
{
  CHECK(text != NULL, "%s is NULL", what);
  CHECK(UTF8_OK(text, -1), "%s is not valid UTF-8", what);
}

static void
_check_document(ThreatqDocument *document)
{
  CHECK(document != NULL, "NULL document");
  CHECK(document->fields != NULL, "document not finished");
  CHECK(threatq_document_json(document) != NULL, "document not rendered");

  for (guint i = 0; i < document->field_count; i++)
    {
      const ThreatqField *field = &document->fields[i];
      _check_utf8("a field name", field->name);
      if (i > 0)
        {
          const ThreatqField *prev = &document->fields[i - 1];
          CHECK(threatq_field_name_compare(prev->name, field->name) < 0,
                "fields not strictly sorted: %s, %s", prev->name, field->name);
        }
      switch (field->type)
        {
        case THREATQ_FIELD_STRING:
        case THREATQ_FIELD_INTEGER:
        case THREATQ_FIELD_NUMBER:
          _check_utf8(field->name, field->text);
          CHECK(strlen(field->text) == field->text_length, "%s: text_length is not its length", field->name);
          break;
        case THREATQ_FIELD_LIST:
          CHECK(field->items != NULL && field->item_count > 0, "list %s without items", field->name);
          for (guint j = 0; j < field->item_count; j++)
            _check_utf8(field->name, field->items[j]);
          break;
        default:
          CHECK(0, "field %s has type %d", field->name, (int) field->type);
        }
      CHECK(threatq_document_find(document, field->name) == field, "find(%s) misses", field->name);
    }

  CHECK(strlen(document->json) == document->json_length, "NUL inside MESSAGE json");
  CHECK(UTF8_OK(document->json, document->json_length), "MESSAGE json is not UTF-8");
  char errbuf[256] = "";
  yajl_val tree = yajl_tree_parse(document->json, errbuf, sizeof(errbuf));
  CHECK(tree != NULL, "MESSAGE json does not parse (%s): %.300s", errbuf, document->json);
  CHECK(YAJL_IS_OBJECT(tree), "MESSAGE json is not an object");
  yajl_tree_free(tree);
}

static void
_emit(ThreatqDocument *document, gpointer user_data)
{
  guint *count = user_data;
  _check_document(document);
  (*count)++;
  threatq_document_free(document);
}

static void
_parse_page(const gchar *body, gsize length, const ThreatqMapperOptions *options)
{
  ThreatqPageSummary page;
  GError *error = NULL;
  guint emitted = 0;

  gboolean ok = threatq_mapper_parse_page(body, length, options, RECEIVED_AT, _emit, &emitted, NULL, &page, &error);
  if (ok)
    {
      CHECK(error == NULL, "success with an error: %s", error->message);
      CHECK(page.documents == emitted, "page.documents %u, emitted %u", page.documents, emitted);
      if (page.next_cursor)
        _check_utf8("nextCursorMark", page.next_cursor);
    }
  else
    {
      CHECK(error != NULL, "failure without an error");
      CHECK(error->domain == THREATQ_MAPPER_ERROR, "error domain %s", g_quark_to_string(error->domain));
      CHECK(error->code == THREATQ_MAPPER_ERROR_SYNTAX || error->code == THREATQ_MAPPER_ERROR_SHAPE,
            "error code %d", error->code);
      _check_utf8("the error message", error->message);
      g_error_free(error);
    }
  threatq_page_summary_clear(&page);
}

static void
_map_single(const gchar *body, gsize length)
{
  GError *error = NULL;
  ThreatqDocument *document = threatq_mapper_map_json(body, length, &options_full, RECEIVED_AT, &error);

  if (document)
    {
      CHECK(error == NULL, "document and error: %s", error->message);
      _check_document(document);
      threatq_document_free(document);
    }
  else
    {
      CHECK(error != NULL, "no document and no error");
      CHECK(error->domain == THREATQ_MAPPER_ERROR, "error domain %s", g_quark_to_string(error->domain));
      g_error_free(error);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  /* any critical or warning from GLib or the mapper is a finding */
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* data is exactly size bytes, not NUL-terminated: an over-read is an ASan report */
  const gchar *body = (const gchar *) data;

  _parse_page(body, size, &options_full);
  _parse_page(body, size, &options_bare);
  _map_single(body, size);
  return 0;
}
