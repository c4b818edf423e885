/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Contract sections 3 and 4: one ThreatQ indicator in, one ECS document out.
 * Every document is also checked for agreement between its field list and its
 * JSON rendering (see _check_json_matches_fields).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "threatq-mapper.h"
#include "document-find.h"
#include "threatq-mapper-dates.h"
#include "threatq-url.h"

/* 2022-04-11T09:27:35.244Z, the seed's event.created */
#define RECEIVED_AT G_GINT64_CONSTANT(1649669255244000)
#define RECEIVED_ISO "2022-04-11T09:27:35.244Z"
#define DAY (G_GINT64_CONSTANT(86400))

static ThreatqMapperOptions options;

static void
_setup(void)
{
  memset(&options, 0, sizeof(options));
  options.feed_name = "ThreatQuotient";
  options.ioc_expiration_seconds = 90 * DAY;
}

TestSuite(mapper, .init = _setup);

/* ---- helpers -------------------------------------------------------- */

static yajl_val
_parse_tree(const gchar *json)
{
  char error[256];
  yajl_val tree = yajl_tree_parse(json, error, sizeof(error));
  cr_assert_not_null(tree, "output is not valid JSON (%s): %s", error, json);
  return tree;
}

static yajl_val
_lookup(yajl_val tree, const gchar *dotted)
{
  gchar **parts = g_strsplit(dotted, ".", -1);
  guint n = g_strv_length(parts);
  const char **path = g_new0(const char *, n + 1);
  for (guint i = 0; i < n; i++)
    path[i] = parts[i];
  yajl_val found = yajl_tree_get(tree, path, yajl_t_any);
  g_free(path);
  g_strfreev(parts);
  return found;
}

static guint
_count_leaves(yajl_val node)
{
  if (!YAJL_IS_OBJECT(node))
    return 1;
  guint count = 0;
  for (size_t i = 0; i < node->u.object.len; i++)
    count += _count_leaves(node->u.object.values[i]);
  return count;
}

/* the JSON has exactly the fields of the list, with the same values and types */
static void
_check_json_matches_fields(const ThreatqDocument *document)
{
  yajl_val tree = _parse_tree(document->json);
  cr_assert(YAJL_IS_OBJECT(tree));
  cr_assert_eq(document->json_length, strlen(document->json));

  for (guint i = 0; i < document->field_count; i++)
    {
      const ThreatqField *field = &document->fields[i];
      yajl_val node = _lookup(tree, field->name);
      cr_assert_not_null(node, "field %s missing from JSON %s", field->name, document->json);
      cr_assert_eq(field->name_length, strlen(field->name), "%s", field->name);
      if (field->id != THREATQ_ECS_NAMED)
        cr_assert_str_eq(threatq_ecs_field_name(field->id), field->name);
      else
        cr_assert(g_str_has_prefix(field->name, "threatq.attributes."), "%s has no number", field->name);
      if (field->type != THREATQ_FIELD_LIST)
        cr_assert_eq(field->text_length, strlen(field->text), "%s", field->name);
      switch (field->type)
        {
        case THREATQ_FIELD_STRING:
          cr_assert(YAJL_IS_STRING(node), "%s is not a JSON string", field->name);
          cr_assert_str_eq(YAJL_GET_STRING(node), field->text, "%s", field->name);
          break;
        case THREATQ_FIELD_INTEGER:
          cr_assert(YAJL_IS_INTEGER(node), "%s is not a JSON integer", field->name);
          cr_assert_eq(YAJL_GET_INTEGER(node), field->integer, "%s", field->name);
          cr_assert_eq(g_ascii_strtoll(field->text, NULL, 10), field->integer);
          break;
        case THREATQ_FIELD_NUMBER:
          cr_assert(YAJL_IS_DOUBLE(node), "%s is not a JSON non-integer number", field->name);
          cr_assert_str_eq(YAJL_GET_NUMBER(node), field->text, "%s", field->name);
          break;
        case THREATQ_FIELD_LIST:
          cr_assert(YAJL_IS_ARRAY(node), "%s is not a JSON array", field->name);
          cr_assert_null(field->text);
          cr_assert_eq(node->u.array.len, field->item_count, "%s", field->name);
          cr_assert_gt(field->item_count, 0, "%s is an empty list", field->name);
          for (guint j = 0; j < field->item_count; j++)
            {
              cr_assert(YAJL_IS_STRING(node->u.array.values[j]));
              cr_assert_str_eq(YAJL_GET_STRING(node->u.array.values[j]), field->items[j]);
            }
          break;
        }
      if (i > 0)
        {
          const ThreatqField *previous = &document->fields[i - 1];
          cr_assert_lt(threatq_field_name_compare(previous->name, field->name), 0,
                       "fields not sorted: %s, %s", previous->name, field->name);
        }
    }
  cr_assert_eq(_count_leaves(tree), document->field_count, "JSON has other keys: %s", document->json);
  yajl_tree_free(tree);
}

static ThreatqDocument *
_map(const gchar *json)
{
  GError *error = NULL;
  ThreatqDocument *document = threatq_mapper_map_json(json, strlen(json), &options, RECEIVED_AT, &error);
  cr_assert_not_null(document, "mapping failed: %s", error ? error->message : "?");
  cr_assert_null(error);
  _check_json_matches_fields(document);
  return document;
}

static const gchar *
_str(const ThreatqDocument *document, const gchar *name)
{
  const ThreatqField *field = threatq_document_find(document, name);
  if (!field)
    return NULL;
  cr_assert_eq(field->type, THREATQ_FIELD_STRING, "%s is not a string field", name);
  return field->text;
}

static void
_assert_str(const ThreatqDocument *document, const gchar *name, const gchar *expected)
{
  const gchar *value = _str(document, name);
  cr_assert_not_null(value, "%s missing in %s", name, document->json);
  cr_assert_str_eq(value, expected, "%s", name);
}

static void
_assert_int(const ThreatqDocument *document, const gchar *name, gint64 expected)
{
  const ThreatqField *field = threatq_document_find(document, name);
  cr_assert_not_null(field, "%s missing in %s", name, document->json);
  cr_assert_eq(field->type, THREATQ_FIELD_INTEGER, "%s is not an integer field", name);
  cr_assert_eq(field->integer, expected, "%s: %" G_GINT64_FORMAT " != %" G_GINT64_FORMAT, name, field->integer,
               expected);
}

static void
_assert_number(const ThreatqDocument *document, const gchar *name, const gchar *expected)
{
  const ThreatqField *field = threatq_document_find(document, name);
  cr_assert_not_null(field, "%s missing in %s", name, document->json);
  cr_assert_eq(field->type, THREATQ_FIELD_NUMBER, "%s is not a non-integer number field", name);
  cr_assert_str_eq(field->text, expected, "%s", name);
}

static void
_assert_absent(const ThreatqDocument *document, const gchar *name)
{
  cr_assert_null(threatq_document_find(document, name), "%s should be absent: %s", name, document->json);
}

/* NULL-terminated expected items */
static void
_assert_list(const ThreatqDocument *document, const gchar *name, ...)
{
  const ThreatqField *field = threatq_document_find(document, name);
  cr_assert_not_null(field, "%s missing in %s", name, document->json);
  cr_assert_eq(field->type, THREATQ_FIELD_LIST, "%s is not a list", name);

  va_list args;
  va_start(args, name);
  guint i = 0;
  for (const gchar *item = va_arg(args, const gchar *); item; item = va_arg(args, const gchar *), i++)
    {
      cr_assert_lt(i, field->item_count, "%s: too few items", name);
      cr_assert_str_eq(field->items[i], item, "%s[%u]", name, i);
    }
  va_end(args);
  cr_assert_eq(i, field->item_count, "%s: %u items, expected %u", name, field->item_count, i);
}

static void
_assert_error_mentions(const ThreatqDocument *document, const gchar *text)
{
  const ThreatqField *field = threatq_document_find(document, "error.message");
  cr_assert_not_null(field, "no error.message in %s", document->json);
  for (guint i = 0; i < field->item_count; i++)
    if (strstr(field->items[i], text))
      return;
  cr_assert_fail("no error.message mentions \"%s\": %s", text, document->json);
}

/* an indicator of the given type and value (value given as a JSON literal) */
static ThreatqDocument *
_map_typed(const gchar *type, const gchar *value_literal)
{
  gchar *json = g_strdup_printf("{\"id\":1,\"type\":{\"id\":9,\"name\":\"%s\"},\"value\":%s,"
                                "\"updated_at\":\"2021-10-01 18:36:03\"}", type, value_literal);
  ThreatqDocument *document = _map(json);
  g_free(json);
  return document;
}

/* ---- the seed example --------------------------------------------- */

static const gchar seed_original[] =
  "{\"adversaries\":[],\"attributes\":[{\"attribute_id\":5,\"created_at\":\"2021-10-01 18:36:06\",\"id\":4893068,\"indicator_id\":106767,\"name\":\"Contact\",\"touched_at\":\"2021-10-24 18:36:10\",\"updated_at\":\"2021-10-24 18:36:10\",\"value\":\"email:Quetzalcoatl_relays[]protonmail.com url:https://quetzalcoatl-relays.org proof:uri-rsa hoster:frantech.ca\"},{\"attribute_id\":9,\"created_at\":\"2021-10-01 18:36:06\",\"id\":4893069,\"indicator_id\":106767,\"name\":\"Router Port\",\"touched_at\":\"2021-10-24 18:36:10\",\"updated_at\":\"2021-10-24 18:36:10\",\"value\":\"9000\"},{\"attribute_id\":6,\"created_at\":\"2021-10-01 18:36:06\",\"id\":4893070,\"indicator_id\":106767,\"name\":\"Flags\",\"touched_at\":\"2021-10-02 18:36:08\",\"updated_at\":\"2021-10-02 18:36:08\",\"value\":\"ERDV\"}],\"class\":\"network\",\"created_at\":\"2021-10-01 18:36:03\",\"expires_calculated_at\":\"2021-10-23 18:40:17\",\"hash\":\"69beef49fdbd1f54eef3cab324c7b6cf\",\"id\":106767,\"published_at\":\"2021-10-01 18:36:03\",\"score\":0,\"sources\":[{\"created_at\":\"2021-10-01 18:36:06\",\"creator_source_id\":12,\"id\":3699669,\"indicator_id\":106767,\"indicator_status_id\":1,\"indicator_type_id\":15,\"name\":\"www.dan.me.uk Tor Node List\",\"published_at\":\"2021-10-01 18:36:06\",\"reference_id\":37,\"source_id\":12,\"source_type\":\"connectors\",\"updated_at\":\"2021-10-24 18:36:10\"}],\"status\":{\"description\":\"Poses a threat and is being exported to detection tools.\",\"id\":1,\"name\":\"Active\"},\"status_id\":1,\"touched_at\":\"2021-10-24 18:36:10\",\"type\":{\"class\":\"network\",\"id\":15,\"name\":\"IP Address\"},\"type_id\":15,\"updated_at\":\"2021-10-01 18:36:03\",\"value\":\"107.189.1.90\"}";

/*
 * The seed README's example event, minus the fields Elastic's agent adds
 * (docs/differences.md): agent.*, elastic_agent.*, data_stream.*, input.type,
 * event.agent_id_status, event.ingested, event.created.  event.original is
 * compared separately (it is the input).
 */
static const gchar seed_expected[] =
  "{"
  "\"@timestamp\":\"2021-10-01T18:36:03.000Z\","
  "\"ecs\":{\"version\":\"8.3.0\"},"
  "\"event\":{\"category\":\"threat\",\"dataset\":\"ti_threatq.threat\",\"kind\":\"enrichment\","
  "\"type\":\"indicator\"},"
  "\"tags\":[\"preserve_original_event\",\"forwarded\",\"threatq-threat\"],"
  "\"threat\":{\"indicator\":{\"confidence\":\"None\",\"ip\":\"107.189.1.90\",\"type\":\"ipv4-addr\"}},"
  "\"threatq\":{"
  "\"attributes\":{"
  "\"contact\":[\"email:Quetzalcoatl_relays[]protonmail.com url:https://quetzalcoatl-relays.org proof:uri-rsa hoster:frantech.ca\"],"
  "\"flags\":[\"ERDV\"],"
  "\"router_port\":[\"9000\"]},"
  "\"created_at\":\"2021-10-01T18:36:03.000Z\","
  "\"expires_calculated_at\":\"2021-10-23T18:40:17.000Z\","
  "\"indicator_value\":\"107.189.1.90\","
  "\"published_at\":\"2021-10-01T18:36:03.000Z\","
  "\"status\":\"Active\"}"
  "}";

static guint
_compare_subset(yajl_val expected, yajl_val actual, const gchar *path)
{
  guint compared = 0;

  cr_assert_not_null(actual, "%s: missing", path);
  cr_assert_eq(expected->type, actual->type, "%s: JSON type differs", path);
  switch (expected->type)
    {
    case yajl_t_object:
      for (size_t i = 0; i < expected->u.object.len; i++)
        {
          const char *key = expected->u.object.keys[i];
          const char *keypath[] = { key, NULL };
          gchar *child = g_strconcat(path, ".", key, NULL);
          compared += _compare_subset(expected->u.object.values[i], yajl_tree_get(actual, keypath, yajl_t_any),
                                      child);
          g_free(child);
        }
      return compared;
    case yajl_t_array:
      cr_assert_eq(expected->u.array.len, actual->u.array.len, "%s: array length differs", path);
      for (size_t i = 0; i < expected->u.array.len; i++)
        compared += _compare_subset(expected->u.array.values[i], actual->u.array.values[i], path);
      return compared;
    case yajl_t_string:
      cr_assert_str_eq(YAJL_GET_STRING(actual), YAJL_GET_STRING(expected), "%s", path);
      return 1;
    case yajl_t_number:
      cr_assert_str_eq(YAJL_GET_NUMBER(actual), YAJL_GET_NUMBER(expected), "%s", path);
      return 1;
    default:
      return 1;
    }
}

Test(mapper, seed_example_event)
{
  const gchar *const tags[] = { "forwarded", "threatq-threat", NULL };
  options.preserve_original = TRUE;
  options.tags = tags;

  ThreatqDocument *document = _map(seed_original);
  yajl_val actual = _parse_tree(document->json);
  yajl_val expected = _parse_tree(seed_expected);

  guint compared = _compare_subset(expected, actual, "$");
  cr_assert_eq(compared, 20, "compared %u leaf values", compared);

  const char *original_path[] = { "event", "original", NULL };
  yajl_val original = yajl_tree_get(actual, original_path, yajl_t_string);
  cr_assert_not_null(original);
  cr_assert_str_eq(YAJL_GET_STRING(original), seed_original);

  /* the fields this module adds to the seed (docs/fields.md) */
  _assert_str(document, "event.created", RECEIVED_ISO);
  _assert_str(document, "event.module", "ti_threatq");
  _assert_str(document, "threat.feed.name", "ThreatQuotient");
  _assert_int(document, "threatq.id", 106767);
  _assert_int(document, "threatq.score", 0);
  _assert_str(document, "threatq.updated_at", "2021-10-01T18:36:03.000Z");
  _assert_str(document, "threatq.touched_at", "2021-10-24T18:36:10.000Z");
  _assert_str(document, "threatq.hash", "69beef49fdbd1f54eef3cab324c7b6cf");
  _assert_list(document, "related.hash", "69beef49fdbd1f54eef3cab324c7b6cf", NULL);
  _assert_list(document, "related.ip", "107.189.1.90", NULL);
  _assert_list(document, "threat.indicator.provider", "www.dan.me.uk Tor Node List", NULL);
  _assert_str(document, "threat.indicator.first_seen", "2021-10-01T18:36:03.000Z");
  _assert_str(document, "threat.indicator.last_seen", "2021-10-24T18:36:10.000Z");
  _assert_str(document, "threat.indicator.modified_at", "2021-10-01T18:36:03.000Z");
  _assert_str(document, "threatq.ioc_expired_at", "2021-12-30T18:36:03.000Z");
  _assert_str(document, "threatq.ioc_expiration_reason", "Expiration set from ioc-expiration-duration");
  _assert_absent(document, "threatq.adversaries");
  _assert_absent(document, "error.message");
  cr_assert_eq(document->timestamp, 1633113363);

  /* compact rendering, keys sorted within each object */
  cr_assert(g_str_has_prefix(document->json, "{\"@timestamp\":\"2021-10-01T18:36:03.000Z\",\"ecs\":{\"version\":\"8.3.0\"},\"event\":{\"category\":\"threat\",\"created\":"),
            "%s", document->json);
  cr_assert_null(strchr(document->json, '\n'));

  yajl_tree_free(actual);
  yajl_tree_free(expected);
  threatq_document_free(document);
}

/* ---- constant and general fields ------------------------------------ */

Test(mapper, minimal_indicator_and_constants)
{
  ThreatqDocument *document = _map("{\"value\":\"x\"}");

  _assert_str(document, "ecs.version", "8.3.0");
  _assert_str(document, "event.kind", "enrichment");
  _assert_str(document, "event.category", "threat");
  _assert_str(document, "event.type", "indicator");
  _assert_str(document, "event.dataset", "ti_threatq.threat");
  _assert_str(document, "event.module", "ti_threatq");
  _assert_str(document, "event.created", RECEIVED_ISO);
  _assert_str(document, "@timestamp", RECEIVED_ISO);
  _assert_str(document, "threatq.indicator_value", "x");
  cr_assert_eq(document->timestamp, 1649669255);
  _assert_absent(document, "event.original");
  _assert_absent(document, "tags");
  _assert_absent(document, "threat.indicator.type");
  _assert_absent(document, "threat.indicator.confidence");
  _assert_absent(document, "threatq.ioc_expired_at");
  _assert_absent(document, "threatq.ioc_expiration_reason");
  _assert_absent(document, "error.message");
  cr_assert_eq(document->field_count, 10, "%s", document->json);
  threatq_document_free(document);
}

Test(mapper, feed_name_option_and_default)
{
  options.feed_name = "My Feed";
  ThreatqDocument *document = _map("{\"value\":\"x\"}");
  _assert_str(document, "threat.feed.name", "My Feed");
  threatq_document_free(document);

  options.feed_name = NULL;
  document = _map("{\"value\":\"x\"}");
  _assert_str(document, "threat.feed.name", "ThreatQuotient");
  threatq_document_free(document);
}

Test(mapper, tags_without_preserve_original)
{
  const gchar *const tags[] = { "b", "a", NULL };
  options.tags = tags;
  ThreatqDocument *document = _map("{\"value\":\"x\"}");
  _assert_list(document, "tags", "b", "a", NULL);
  _assert_absent(document, "event.original");
  threatq_document_free(document);
}

Test(mapper, preserve_original_keeps_raw_text_and_tag)
{
  const gchar *json = "  {\"value\" : \"a\\u00e9\\/b\",  \"x\":[1, {\"y\":null}]}  ";
  options.preserve_original = TRUE;
  ThreatqDocument *document = _map(json);
  _assert_str(document, "event.original", "{\"value\" : \"a\\u00e9\\/b\",  \"x\":[1, {\"y\":null}]}");
  _assert_str(document, "threatq.indicator_value", "a\xc3\xa9/b");
  _assert_list(document, "tags", "preserve_original_event", NULL);
  threatq_document_free(document);
}

Test(mapper, identity_fields)
{
  ThreatqDocument *document = _map("{\"id\":\"42\",\"value\":\"v\",\"class\":\"network\",\"hash\":\"h1\","
                                   "\"type\":{\"name\":\"Mutex\"},\"status\":{\"id\":1,\"name\":\"Review\"},"
                                   "\"description\":\"some text\"}");
  _assert_int(document, "threatq.id", 42);
  _assert_str(document, "threatq.class", "network");
  _assert_str(document, "threatq.hash", "h1");
  _assert_str(document, "threatq.type", "Mutex");
  _assert_str(document, "threatq.status", "Review");
  _assert_str(document, "threat.indicator.description", "some text");
  _assert_str(document, "threat.indicator.type", "mutex");
  _assert_list(document, "related.hash", "h1", NULL);
  threatq_document_free(document);
}

Test(mapper, id_not_a_number)
{
  ThreatqDocument *document = _map("{\"id\":\"abc\",\"value\":\"v\"}");
  _assert_absent(document, "threatq.id");
  _assert_error_mentions(document, "threatq.id");
  _assert_str(document, "event.kind", "enrichment");
  threatq_document_free(document);

  document = _map("{\"id\":1.5,\"value\":\"v\"}");
  _assert_absent(document, "threatq.id");
  _assert_error_mentions(document, "threatq.id: not an integer '1.5'");
  threatq_document_free(document);

  document = _map("{\"id\":{\"a\":1},\"value\":\"v\"}");
  _assert_absent(document, "threatq.id");
  _assert_error_mentions(document, "threatq.id");
  threatq_document_free(document);
}

/* numbers past int64 (or past 2^64, which used to wrap to 0) are errors, not wrong numbers */
Test(mapper, numbers_past_int64_are_errors)
{
  const gchar *huge[] = { "18446744073709551616", "\"18446744073709551616\"", "9223372036854775808",
                          "-9223372036854775809", "184467440737095516160" };
  for (guint i = 0; i < G_N_ELEMENTS(huge); i++)
    {
      gchar *json = g_strdup_printf("{\"id\":%s,\"score\":%s,\"value\":\"v\"}", huge[i], huge[i]);
      ThreatqDocument *document = _map(json);
      _assert_absent(document, "threatq.id");
      _assert_absent(document, "threatq.score");
      _assert_error_mentions(document, "threatq.id: not an integer");
      _assert_error_mentions(document, "threatq.score: not a number");
      _assert_str(document, "threat.indicator.confidence", "Not Specified");
      threatq_document_free(document);
      g_free(json);
    }

  ThreatqDocument *document = _map("{\"id\":9223372036854775807,\"value\":\"v\"}");
  _assert_int(document, "threatq.id", G_MAXINT64);
  _assert_absent(document, "error.message");
  threatq_document_free(document);
}

Test(mapper, absent_null_and_empty_inputs_are_left_out)
{
  ThreatqDocument *document = _map("{\"id\":null,\"value\":\"\",\"class\":null,\"hash\":\"\",\"score\":null,"
                                   "\"description\":\"\",\"status\":{\"name\":null},\"type\":{\"name\":\"\"},"
                                   "\"created_at\":\"\",\"updated_at\":null,\"sources\":[{\"name\":\"\",\"tlp_name\":null}],"
                                   "\"adversaries\":[{\"name\":\"\"}],\"attributes\":[]}");
  const gchar *left_out[] =
  {
    "threatq.id", "threatq.indicator_value", "threatq.class", "threatq.hash", "threatq.score",
    "threat.indicator.description", "threatq.status", "threatq.type", "threatq.created_at", "threatq.updated_at",
    "threat.indicator.provider", "threat.indicator.marking.tlp", "threatq.adversaries", "related.hash",
    "threat.indicator.confidence", "threat.indicator.type", "error.message", "threat.indicator.first_seen",
  };
  for (guint i = 0; i < G_N_ELEMENTS(left_out); i++)
    _assert_absent(document, left_out[i]);
  _assert_str(document, "@timestamp", RECEIVED_ISO);
  threatq_document_free(document);
}

Test(mapper, plain_string_status_and_type_accepted)
{
  ThreatqDocument *document = _map("{\"value\":\"1.2.3.4\",\"type\":\"IP Address\",\"status\":\"Active\"}");
  _assert_str(document, "threatq.status", "Active");
  _assert_str(document, "threat.indicator.type", "ipv4-addr");
  threatq_document_free(document);
}

/* ---- section 4: types ------------------------------------------------ */

Test(mapper, type_ip_address)
{
  ThreatqDocument *document = _map_typed("IP Address", "\"89.160.20.156\"");
  _assert_str(document, "threat.indicator.type", "ipv4-addr");
  _assert_str(document, "threat.indicator.ip", "89.160.20.156");
  _assert_list(document, "related.ip", "89.160.20.156", NULL);
  _assert_str(document, "threatq.indicator_value", "89.160.20.156");
  _assert_str(document, "threatq.type", "IP Address");
  threatq_document_free(document);
}

Test(mapper, type_ipv6_address)
{
  ThreatqDocument *document = _map_typed("IPv6 Address", "\"2a02:cf40::1\"");
  _assert_str(document, "threat.indicator.type", "ipv6-addr");
  _assert_str(document, "threat.indicator.ip", "2a02:cf40::1");
  _assert_list(document, "related.ip", "2a02:cf40::1", NULL);
  threatq_document_free(document);
}

Test(mapper, type_cidr_block_by_family)
{
  ThreatqDocument *document = _map_typed("CIDR Block", "\"10.0.0.0/8\"");
  _assert_str(document, "threat.indicator.type", "ipv4-addr");
  _assert_str(document, "threatq.indicator_value", "10.0.0.0/8");
  _assert_absent(document, "threat.indicator.ip");
  _assert_absent(document, "related.ip");
  threatq_document_free(document);

  document = _map_typed("CIDR Block", "\"2001:db8::/32\"");
  _assert_str(document, "threat.indicator.type", "ipv6-addr");
  _assert_str(document, "threatq.indicator_value", "2001:db8::/32");
  _assert_absent(document, "threat.indicator.ip");
  threatq_document_free(document);
}

Test(mapper, type_fqdn)
{
  ThreatqDocument *document = _map_typed("FQDN", "\"evil.example.com\"");
  _assert_str(document, "threat.indicator.type", "domain-name");
  _assert_str(document, "threat.indicator.url.domain", "evil.example.com");
  _assert_str(document, "threatq.indicator_value", "evil.example.com");
  threatq_document_free(document);
}

Test(mapper, type_url_full)
{
  ThreatqDocument *document =
    _map_typed("URL", "\"https://user:pw@www.example.com:8443/a/b/file.tar.gz?q=1&r=2#frag\"");
  _assert_str(document, "threat.indicator.type", "url");
  _assert_str(document, "threat.indicator.url.original",
              "https://user:pw@www.example.com:8443/a/b/file.tar.gz?q=1&r=2#frag");
  _assert_str(document, "threat.indicator.url.scheme", "https");
  _assert_str(document, "threat.indicator.url.domain", "www.example.com");
  _assert_int(document, "threat.indicator.url.port", 8443);
  _assert_str(document, "threat.indicator.url.path", "/a/b/file.tar.gz");
  _assert_str(document, "threat.indicator.url.extension", "gz");
  _assert_str(document, "threat.indicator.url.query", "q=1&r=2");
  _assert_str(document, "threat.indicator.url.fragment", "frag");
  _assert_str(document, "threatq.indicator_value",
              "https://user:pw@www.example.com:8443/a/b/file.tar.gz?q=1&r=2#frag");
  _assert_absent(document, "threat.indicator.url.full");
  cr_assert_null(strstr(document->json, "\"username\""));
  threatq_document_free(document);
}

Test(mapper, type_url_without_path_or_port)
{
  ThreatqDocument *document = _map_typed("URL", "\"http://example.org\"");
  _assert_str(document, "threat.indicator.url.original", "http://example.org");
  _assert_str(document, "threat.indicator.url.scheme", "http");
  _assert_str(document, "threat.indicator.url.domain", "example.org");
  _assert_absent(document, "threat.indicator.url.port");
  _assert_absent(document, "threat.indicator.url.path");
  _assert_absent(document, "threat.indicator.url.extension");
  _assert_absent(document, "threat.indicator.url.query");
  _assert_absent(document, "threat.indicator.url.fragment");
  _assert_absent(document, "threat.indicator.url.full");
  threatq_document_free(document);

  document = _map_typed("URL", "\"http://example.org/dir.d/?\"");
  _assert_str(document, "threat.indicator.url.path", "/dir.d/");
  _assert_absent(document, "threat.indicator.url.extension");
  _assert_absent(document, "threat.indicator.url.query");
  threatq_document_free(document);
}

Test(mapper, type_url_ipv6_host)
{
  ThreatqDocument *document = _map_typed("URL", "\"http://[2001:db8::1]:8080/x.php\"");
  _assert_str(document, "threat.indicator.url.domain", "[2001:db8::1]");
  _assert_int(document, "threat.indicator.url.port", 8080);
  _assert_str(document, "threat.indicator.url.path", "/x.php");
  _assert_str(document, "threat.indicator.url.extension", "php");
  threatq_document_free(document);

  document = _map_typed("URL", "\"http://[2001:db8::1]\"");
  _assert_str(document, "threat.indicator.url.domain", "[2001:db8::1]");
  _assert_absent(document, "threat.indicator.url.port");
  threatq_document_free(document);
}

Test(mapper, type_url_unparsable_goes_to_full)
{
  const gchar *values[] =
  {
    "1http://a/", "http://a:99999/", "http://a:8x/", "http://[::1/", "http://a b/", "ht_tp://a/",
  };
  for (guint i = 0; i < G_N_ELEMENTS(values); i++)
    {
      gchar *literal = g_strdup_printf("\"%s\"", values[i]);
      ThreatqDocument *document = _map_typed("URL", literal);
      _assert_str(document, "threat.indicator.type", "url");
      _assert_str(document, "threat.indicator.url.original", values[i]);
      _assert_str(document, "threat.indicator.url.full", values[i]);
      _assert_str(document, "threatq.indicator_value", values[i]);
      _assert_absent(document, "threat.indicator.url.scheme");
      _assert_absent(document, "threat.indicator.url.domain");
      _assert_absent(document, "threat.indicator.url.path");
      _assert_absent(document, "error.message");
      threatq_document_free(document);
      g_free(literal);
    }
}

Test(mapper, url_parser_parts)
{
  ThreatqUrl url;

  cr_assert(threatq_url_parse("svn+ssh://host:22", 17, &url));
  cr_assert_eq(url.scheme.length, 7);
  cr_assert(url.has_port);
  cr_assert_eq(url.port, 22);
  cr_assert_null(url.path.text);

  const gchar *u = "http://h/p#f?notquery";
  cr_assert(threatq_url_parse(u, strlen(u), &url));
  cr_assert_null(url.query.text);
  cr_assert_eq(url.fragment.length, strlen("f?notquery"));

  u = "http://h:/.hidden";
  cr_assert(threatq_url_parse(u, strlen(u), &url));
  cr_assert_not(url.has_port);
  cr_assert_eq(url.extension.length, 6);
  cr_assert_eq(strncmp(url.extension.text, "hidden", 6), 0);

  u = "file:///etc/passwd";
  cr_assert(threatq_url_parse(u, strlen(u), &url));
  cr_assert_null(url.domain.text);
  cr_assert_eq(url.path.length, strlen("/etc/passwd"));

  cr_assert_not(threatq_url_parse("", 0, &url));
  cr_assert_not(threatq_url_parse("http:/x", 7, &url));
  cr_assert_not(threatq_url_parse("http://[::1]x/", 14, &url));
}

/* ---- URL values without a scheme ---------------------------------------- */

#define NO_PORT (-1)

typedef struct
{
  const gchar *value;
  const gchar *domain, *path, *query, *fragment, *extension;   /* NULL: absent */
  gint port;
} SchemelessCase;

/* values that start with a host: split like an absolute URL, without a scheme */
static const SchemelessCase schemeless_hosts[] =
{
  { "linkprotect.cudasvc.com/url", "linkprotect.cudasvc.com", "/url", NULL, NULL, NULL, NO_PORT },
  { "evil.example.net:8080/a/b.php?x=1", "evil.example.net", "/a/b.php", "x=1", NULL, "php", 8080 },
  { "89.160.20.156:8080/maf.html", "89.160.20.156", "/maf.html", NULL, NULL, "html", 8080 },
  { "1.2.3.4:80/x", "1.2.3.4", "/x", NULL, NULL, NULL, 80 },
  { "[2001:db8::1]:8443/x.js", "[2001:db8::1]", "/x.js", NULL, NULL, "js", 8443 },
  { "[2001:db8::1]:8080", "[2001:db8::1]", NULL, NULL, NULL, NULL, 8080 },         /* a port, no path */
  { "[::ffff:1.2.3.4]/a", "[::ffff:1.2.3.4]", "/a", NULL, NULL, NULL, NO_PORT },
  { "[::1]", "[::1]", NULL, NULL, NULL, NULL, NO_PORT },
  { "example.com:8080", "example.com", NULL, NULL, NULL, NULL, 8080 },             /* a port, no path */
  { "example.com:65535/", "example.com", "/", NULL, NULL, NULL, 65535 },
  { "example2.sk", "example2.sk", NULL, NULL, NULL, NULL, NO_PORT },                /* host only */
  { "a.b", "a.b", NULL, NULL, NULL, NULL, NO_PORT },                                /* a dotted name */
  { "example.com?q=1&r", "example.com", NULL, "q=1&r", NULL, NULL, NO_PORT },       /* a query, no path */
  { "example.com#top", "example.com", NULL, NULL, "top", NULL, NO_PORT },
  { "example.com/dir.d/?", "example.com", "/dir.d/", NULL, NULL, NULL, NO_PORT },
  { "WWW.EXAMPLE.COM/Index.HTML", "WWW.EXAMPLE.COM", "/Index.HTML", NULL, NULL, "HTML", NO_PORT },
  { "example.com./x", "example.com.", "/x", NULL, NULL, NULL, NO_PORT },           /* a trailing dot, kept */
  { "xn--d1abbgf6aiiy.xn--p1ai:8443/test", "xn--d1abbgf6aiiy.xn--p1ai", "/test", NULL, NULL, NULL, 8443 },
  { "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84/a", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", "/a", NULL, NULL, NULL, NO_PORT },
  { "my_host.example.com/x", "my_host.example.com", "/x", NULL, NULL, NULL, NO_PORT },
  { "www-2.example.com/hello/https://www.example.com", "www-2.example.com", "/hello/https://www.example.com",
    NULL, NULL, "com", NO_PORT },
};

/* values that do not start with a host: today's behaviour (url.full, url.original) */
static const gchar *const schemeless_not_hosts[] =
{
  "localhost", "localhost/x", "localhost:8080/x",            /* a single label: as likely a path segment */
  "foo/bar", "/wp-admin/x.php", "./x", "../x", "?q=1", "#f", "",
  "a b.com/x", "evil.com/a b", "evil.com/\tx", "evil.com/<x>",  /* characters no URL has */
  "1.2.3.4.5/x", "10.0.0/x", "999.1.1.1/x", "1.2.3", "01.2.3.4/x", "example.123/x",   /* numbers only */
  "user@example.com", "user:pw@example.com/x",               /* userinfo: more likely an e-mail address */
  "example.com:/x", "example.com:", "example.com:99999/x", "example.com:8x/x", "example.com:80:90/x",
  "[::1/x", "[::1]x/", "[not:v6]/x", "[1.2.3.4]/x", "::1/x", "2001:db8::1/x",
  "-bad.example.com/x", "bad-.example.com/x", "example.-com/x", "example..com/x", ".example.com/x",
  "example.com../x", "example.c_m/x", "javascript:alert(1)", "mailto:a@b.c", "C:\\Windows\\x.exe",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/x",   /* a 64-byte label */
};

static void
_assert_part(const ThreatqUrlPart *part, const gchar *expected, const gchar *value, const gchar *what)
{
  if (!expected)
    {
      cr_assert_null(part->text, "%s: %s should be absent", value, what);
      return;
    }
  cr_assert_not_null(part->text, "%s: %s missing", value, what);
  cr_assert_eq(part->length, strlen(expected), "%s: %s has length %zu", value, what, part->length);
  cr_assert_eq(memcmp(part->text, expected, part->length), 0, "%s: %s", value, what);
}

Test(mapper, url_parser_schemeless_hosts)
{
  for (guint i = 0; i < G_N_ELEMENTS(schemeless_hosts); i++)
    {
      const SchemelessCase *c = &schemeless_hosts[i];
      ThreatqUrl url;

      cr_assert_not(threatq_url_parse(c->value, strlen(c->value), &url), "%s is not absolute", c->value);
      cr_assert(threatq_url_parse_schemeless(c->value, strlen(c->value), &url), "%s should split", c->value);
      _assert_part(&url.scheme, NULL, c->value, "scheme");
      _assert_part(&url.domain, c->domain, c->value, "domain");
      _assert_part(&url.path, c->path, c->value, "path");
      _assert_part(&url.query, c->query, c->value, "query");
      _assert_part(&url.fragment, c->fragment, c->value, "fragment");
      _assert_part(&url.extension, c->extension, c->value, "extension");
      cr_assert_eq(url.has_port, c->port != NO_PORT, "%s: port", c->value);
      if (c->port != NO_PORT)
        cr_assert_eq(url.port, (guint) c->port, "%s: port %u", c->value, url.port);
    }
}

Test(mapper, url_parser_schemeless_not_hosts)
{
  for (guint i = 0; i < G_N_ELEMENTS(schemeless_not_hosts); i++)
    {
      const gchar *value = schemeless_not_hosts[i];
      ThreatqUrl url;

      cr_assert_not(threatq_url_parse_schemeless(value, strlen(value), &url), "%s should not split", value);
      cr_assert_null(url.domain.text, "%s: nothing is left set", value);
      cr_assert_null(url.path.text, "%s: nothing is left set", value);
      cr_assert_not(url.has_port, "%s: nothing is left set", value);
    }

  /* the longest name that is still a name, and one byte more */
  GString *name = g_string_new(NULL);
  for (guint i = 0; i < 4; i++)
    g_string_append(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");   /* 62 + '.' */
  g_string_truncate(name, 253 - 2);
  g_string_append(name, ".b");
  ThreatqUrl url;
  cr_assert_eq(name->len, 253);
  cr_assert(threatq_url_parse_schemeless(name->str, name->len, &url), "a 253-byte name");
  g_string_insert_c(name, 0, 'a');
  cr_assert_not(threatq_url_parse_schemeless(name->str, name->len, &url), "a 254-byte name");
  g_string_free(name, TRUE);
}

Test(mapper, type_url_schemeless_is_split)
{
  for (guint i = 0; i < G_N_ELEMENTS(schemeless_hosts); i++)
    {
      const SchemelessCase *c = &schemeless_hosts[i];
      gchar *literal = g_strdup_printf("\"%s\"", c->value);
      ThreatqDocument *document = _map_typed("URL", literal);

      _assert_str(document, "threat.indicator.type", "url");
      _assert_str(document, "threat.indicator.url.full", c->value);
      _assert_str(document, "threat.indicator.url.original", c->value);
      _assert_str(document, "threatq.indicator_value", c->value);
      _assert_absent(document, "threat.indicator.url.scheme");
      _assert_str(document, "threat.indicator.url.domain", c->domain);
      const struct
      {
        const gchar *name, *expected;
      } parts[] =
      {
        { "threat.indicator.url.path", c->path }, { "threat.indicator.url.query", c->query },
        { "threat.indicator.url.fragment", c->fragment }, { "threat.indicator.url.extension", c->extension },
      };
      for (guint j = 0; j < G_N_ELEMENTS(parts); j++)
        if (parts[j].expected)
          _assert_str(document, parts[j].name, parts[j].expected);
        else
          _assert_absent(document, parts[j].name);
      if (c->port != NO_PORT)
        _assert_int(document, "threat.indicator.url.port", c->port);
      else
        _assert_absent(document, "threat.indicator.url.port");
      _assert_absent(document, "error.message");
      _assert_absent(document, "related.ip");
      threatq_document_free(document);
      g_free(literal);
    }
}

Test(mapper, type_url_schemeless_not_a_host_goes_to_full)
{
  for (guint i = 0; i < G_N_ELEMENTS(schemeless_not_hosts); i++)
    {
      const gchar *value = schemeless_not_hosts[i];
      if (!value[0] || strchr(value, '\\') || strchr(value, '\t'))
        continue;         /* "" is no value; the JSON literal below cannot hold these two as they are */
      gchar *literal = g_strdup_printf("\"%s\"", value);
      ThreatqDocument *document = _map_typed("URL", literal);

      _assert_str(document, "threat.indicator.url.full", value);
      _assert_str(document, "threat.indicator.url.original", value);
      const gchar *absent[] =
      {
        "threat.indicator.url.domain", "threat.indicator.url.path", "threat.indicator.url.port",
        "threat.indicator.url.query", "threat.indicator.url.fragment", "threat.indicator.url.extension",
        "threat.indicator.url.scheme", "error.message",
      };
      for (guint j = 0; j < G_N_ELEMENTS(absent); j++)
        _assert_absent(document, absent[j]);
      threatq_document_free(document);
      g_free(literal);
    }
}

Test(mapper, type_url_path)
{
  ThreatqDocument *document = _map_typed("URL Path", "\"/wp-admin/x.php\"");
  _assert_str(document, "threat.indicator.type", "url");
  _assert_str(document, "threat.indicator.url.path", "/wp-admin/x.php");
  _assert_absent(document, "threat.indicator.url.original");
  threatq_document_free(document);
}

Test(mapper, type_email_address)
{
  ThreatqDocument *document = _map_typed("Email Address", "\"bad@example.com\"");
  _assert_str(document, "threat.indicator.type", "email-addr");
  _assert_str(document, "threat.indicator.email.address", "bad@example.com");
  threatq_document_free(document);
}

Test(mapper, type_hashes)
{
  const struct
  {
    const gchar *type;
    const gchar *field;
  } hashes[] =
  {
    { "MD5", "threat.indicator.file.hash.md5" },
    { "SHA-1", "threat.indicator.file.hash.sha1" },
    { "SHA-256", "threat.indicator.file.hash.sha256" },
    { "SHA-384", "threat.indicator.file.hash.sha384" },
    { "SHA-512", "threat.indicator.file.hash.sha512" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(hashes); i++)
    {
      gchar *json = g_strdup_printf("{\"type\":{\"name\":\"%s\"},\"value\":\"abc%u\",\"hash\":\"tq%u\"}",
                                    hashes[i].type, i, i);
      gchar *value = g_strdup_printf("abc%u", i);
      gchar *hash = g_strdup_printf("tq%u", i);
      ThreatqDocument *document = _map(json);
      _assert_str(document, "threat.indicator.type", "file");
      _assert_str(document, hashes[i].field, value);
      _assert_list(document, "related.hash", hash, value, NULL);
      threatq_document_free(document);
      g_free(json);
      g_free(value);
      g_free(hash);
    }
}

Test(mapper, related_hash_is_distinct)
{
  ThreatqDocument *document = _map("{\"type\":{\"name\":\"MD5\"},\"value\":\"same\",\"hash\":\"same\"}");
  _assert_list(document, "related.hash", "same", NULL);
  threatq_document_free(document);
}

Test(mapper, type_file_name_and_path)
{
  ThreatqDocument *document = _map_typed("Filename", "\"invoice.exe\"");
  _assert_str(document, "threat.indicator.type", "file");
  _assert_str(document, "threat.indicator.file.name", "invoice.exe");
  _assert_absent(document, "threat.indicator.file.type");
  threatq_document_free(document);

  document = _map_typed("File Path", "\"C:\\\\Windows\\\\evil.dll\"");
  _assert_str(document, "threat.indicator.type", "file");
  _assert_str(document, "threat.indicator.file.path", "C:\\Windows\\evil.dll");
  cr_assert(strstr(document->json, "\"path\":\"C:\\\\Windows\\\\evil.dll\""), "%s", document->json);
  threatq_document_free(document);
}

Test(mapper, types_with_indicator_value_only)
{
  const struct
  {
    const gchar *type;
    const gchar *indicator_type;
  } types[] =
  {
    { "Mutex", "mutex" },
    { "MAC Address", "mac-addr" },
    { "Username", "user-account" },
    { "User-agent", "software" },
    { "String", NULL },
    { "ip address", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(types); i++)
    {
      ThreatqDocument *document = _map_typed(types[i].type, "\"the-value\"");
      if (types[i].indicator_type)
        _assert_str(document, "threat.indicator.type", types[i].indicator_type);
      else
        _assert_absent(document, "threat.indicator.type");
      _assert_str(document, "threatq.indicator_value", "the-value");
      _assert_str(document, "threatq.type", types[i].type);
      for (guint j = 0; j < document->field_count; j++)
        {
          const ThreatqField *field = &document->fields[j];
          if (g_str_has_prefix(field->name, "threat.indicator.") && strcmp(field->name, "threat.indicator.type") != 0
              && strcmp(field->name, "threat.indicator.modified_at") != 0)
            cr_assert_fail("%s: unexpected %s", types[i].type, field->name);
        }
      _assert_absent(document, "related.ip");
      threatq_document_free(document);
    }
}

Test(mapper, type_registry_key)
{
  ThreatqDocument *document = _map_typed("Registry Key", "\"HKLM\\\\Software\\\\Run\"");
  _assert_str(document, "threat.indicator.type", "windows-registry-key");
  _assert_str(document, "threat.indicator.registry.key", "HKLM\\Software\\Run");
  threatq_document_free(document);
}

Test(mapper, type_asn)
{
  const struct
  {
    const gchar *literal;
    gint64 number;
  } good[] = { { "\"AS13335\"", 13335 }, { "\"as64500\"", 64500 }, { "\"15169\"", 15169 }, { "3356", 3356 } };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++)
    {
      ThreatqDocument *document = _map_typed("ASN", good[i].literal);
      _assert_str(document, "threat.indicator.type", "autonomous-system");
      _assert_int(document, "threat.indicator.as.number", good[i].number);
      _assert_absent(document, "error.message");
      threatq_document_free(document);
    }

  const gchar *bad[] = { "\"ASX\"", "\"AS\"", "\"AS-1\"", "\"AS+1\"", "\"12a\"", "\"99999999999\"",
                         "\"AS18446744073709551616\"", "18446744073709551617" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    {
      ThreatqDocument *document = _map_typed("ASN", bad[i]);
      _assert_str(document, "threat.indicator.type", "autonomous-system");
      _assert_absent(document, "threat.indicator.as.number");
      _assert_error_mentions(document, "threat.indicator.as.number");
      _assert_str(document, "threatq.indicator_value", document->field_count ? _str(document, "threatq.indicator_value") : "");
      _assert_str(document, "event.kind", "enrichment");
      threatq_document_free(document);
    }
}

Test(mapper, type_x509)
{
  ThreatqDocument *document = _map_typed("x509 Serial", "\"00:b1:2c\"");
  _assert_str(document, "threat.indicator.type", "x509-certificate");
  _assert_str(document, "threat.indicator.x509.serial_number", "00:b1:2c");
  threatq_document_free(document);

  document = _map_typed("x509 Subject", "\"CN=evil, O=Bad\"");
  _assert_str(document, "threat.indicator.type", "x509-certificate");
  _assert_str(document, "threat.indicator.x509.subject.distinguished_name", "CN=evil, O=Bad");
  threatq_document_free(document);
}

Test(mapper, type_without_value_sets_type_only)
{
  ThreatqDocument *document = _map("{\"type\":{\"name\":\"IP Address\"}}");
  _assert_str(document, "threat.indicator.type", "ipv4-addr");
  _assert_absent(document, "threat.indicator.ip");
  _assert_absent(document, "related.ip");
  threatq_document_free(document);
}

/* ---- confidence --------------------------------------------------- */

static void
_check_confidence(const gchar *score_literal, const gchar *confidence, gboolean score_is_number, gint64 score)
{
  gchar *json = g_strdup_printf("{\"value\":\"x\",\"score\":%s}", score_literal);
  ThreatqDocument *document = _map(json);
  if (confidence)
    _assert_str(document, "threat.indicator.confidence", confidence);
  else
    _assert_absent(document, "threat.indicator.confidence");
  if (score_is_number)
    {
      _assert_int(document, "threatq.score", score);
      _assert_absent(document, "error.message");
    }
  else
    _assert_absent(document, "threatq.score");
  threatq_document_free(document);
  g_free(json);
}

Test(mapper, confidence_buckets)
{
  _check_confidence("0", "None", TRUE, 0);
  _check_confidence("1", "Low", TRUE, 1);
  _check_confidence("4", "Low", TRUE, 4);
  _check_confidence("5", "Medium", TRUE, 5);
  _check_confidence("7", "Medium", TRUE, 7);
  _check_confidence("8", "High", TRUE, 8);
  _check_confidence("10", "High", TRUE, 10);
  _check_confidence("11", "Not Specified", TRUE, 11);
  _check_confidence("15", "Not Specified", TRUE, 15);
  _check_confidence("-1", "Not Specified", TRUE, -1);
  _check_confidence("\"6\"", "Medium", TRUE, 6);
  _check_confidence("\"0\"", "None", TRUE, 0);
  _check_confidence("\"100\"", "Not Specified", TRUE, 100);
  _check_confidence("null", NULL, FALSE, 0);
  _check_confidence("\"\"", NULL, FALSE, 0);
}

Test(mapper, confidence_non_numeric_score)
{
  const gchar *literals[] =
  {
    "\"high\"", "true", "[1]", "{\"v\":1}", "\"5 \"", "\"4.\"", "\".5\"", "\"4.5x\"", "7e0", "\"1,5\"",
    "\"99999999999999999999.5\"", "{\"manual_score\":null,\"generated_score\":\"n/a\"}", "{}",
  };
  for (guint i = 0; i < G_N_ELEMENTS(literals); i++)
    {
      gchar *json = g_strdup_printf("{\"value\":\"x\",\"score\":%s}", literals[i]);
      ThreatqDocument *document = _map(json);
      _assert_str(document, "threat.indicator.confidence", "Not Specified");
      _assert_absent(document, "threatq.score");
      _assert_error_mentions(document, "threatq.score");
      _assert_str(document, "threatq.indicator_value", "x");
      threatq_document_free(document);
      g_free(json);
    }
}

/* ---- scores: objects and non-integers ----------------------------------- */

typedef struct
{
  const gchar *literal;         /* the score member as JSON */
  const gchar *confidence;
  const gchar *number;          /* threatq.score as a non-integer number, or NULL: ... */
  gint64 integer;               /* ... the integer */
} ScoreCase;

static void
_check_score_case(const ScoreCase *c)
{
  gchar *json = g_strdup_printf("{\"value\":\"x\",\"score\":%s,\"updated_at\":\"2021-10-01 18:36:03\"}",
                                c->literal);
  ThreatqDocument *document = _map(json);

  _assert_str(document, "threat.indicator.confidence", c->confidence);
  if (c->number)
    _assert_number(document, "threatq.score", c->number);
  else
    _assert_int(document, "threatq.score", c->integer);
  _assert_absent(document, "error.message");
  /* members of the score object are not the indicator's */
  _assert_absent(document, "threatq.created_at");
  _assert_absent(document, "threatq.id");
  _assert_str(document, "threatq.updated_at", "2021-10-01T18:36:03.000Z");
  threatq_document_free(document);
  g_free(json);
}

Test(mapper, score_object)
{
  const ScoreCase cases[] =
  {
    /* the shape ThreatQ's own score endpoint returns (decimal generated_score in a string) */
    { "{\"created_at\":\"2020-08-13 16:56:45\",\"generated_score\":\"0.00\",\"indicator_id\":2145,"
      "\"score_config_hash\":\"7f8b\",\"manual_score\":\"7\",\"id\":3}", "Medium", NULL, 7 },
    { "{\"generated_score\":\"0.00\",\"manual_score\":null}", "None", NULL, 0 },
    { "{\"generated_score\":8,\"manual_score\":null}", "High", NULL, 8 },
    { "{\"manual_score\":2}", "Low", NULL, 2 },
    { "{\"generated_score\":\"6\"}", "Medium", NULL, 6 },
    { "{\"manual_score\":0,\"generated_score\":10}", "None", NULL, 0 },      /* 0 is a score, not "unset" */
    { "{\"manual_score\":\"\",\"generated_score\":5}", "Medium", NULL, 5 },
    { "{\"manual_score\":\"high\",\"generated_score\":9}", "High", NULL, 9 },
    { "{\"manual_score\":true,\"generated_score\":1}", "Low", NULL, 1 },
    { "{\"manual_score\":{\"v\":1},\"generated_score\":[2],\"generated_score\":4}", "Low", NULL, 4 },
    { "{\"generated_score\":\"3.50\",\"manual_score\":null}", "Not Specified", "3.5", 0 },
    { "{\"manual_score\":7.5,\"generated_score\":2}", "Not Specified", "7.5", 0 },
    { "{\"manual_score\":\"15\"}", "Not Specified", NULL, 15 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    _check_score_case(&cases[i]);
}

Test(mapper, score_non_integer)
{
  const ScoreCase cases[] =
  {
    { "7.5", "Not Specified", "7.5", 0 },
    { "\"7.5\"", "Not Specified", "7.5", 0 },
    { "\"+007.50\"", "Not Specified", "7.5", 0 },
    { "\"-0.25\"", "Not Specified", "-0.25", 0 },
    { "10.01", "Not Specified", "10.01", 0 },
    { "0.5", "Not Specified", "0.5", 0 },
    { "\"1234567890123456789.123456789\"", "Not Specified", "1234567890123456789.123456789", 0 },
    /* an all-zero fraction is an integer */
    { "\"7.0\"", "Medium", NULL, 7 },
    { "0.00", "None", NULL, 0 },
    { "\"-0.0\"", "None", NULL, 0 },
    { "11.000", "Not Specified", NULL, 11 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    _check_score_case(&cases[i]);

  /* a decimal too long to keep exactly is not taken as a number */
  ThreatqDocument *document = _map("{\"value\":\"x\",\"score\":\"1.0000000000000000000000000000001\"}");
  _assert_str(document, "threat.indicator.confidence", "Not Specified");
  _assert_absent(document, "threatq.score");
  _assert_error_mentions(document, "threatq.score: not a number");
  threatq_document_free(document);
}

/* ---- sources: provider and TLP ------------------------------------------ */

Test(mapper, tlp_spellings)
{
  const struct
  {
    const gchar *input;
    const gchar *expected;
  } cases[] =
  {
    { "WHITE", "WHITE" }, { "white", "WHITE" }, { "TLP:WHITE", "WHITE" }, { "tlp:clear", "CLEAR" },
    { "Green", "GREEN" }, { "TLP:AMBER", "AMBER" }, { "amber+strict", "AMBER+STRICT" },
    { "TLP:AMBER+STRICT", "AMBER+STRICT" }, { "RED", "RED" }, { "TLP: red", "RED" }, { "CLEAR", "CLEAR" },
    { "testtlp", NULL }, { "TLP:", NULL }, { "AMBER STRICT", NULL }, { "REDX", NULL }, { "TLP:TLP:RED", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    {
      gchar *json = g_strdup_printf("{\"value\":\"x\",\"sources\":[{\"name\":\"S\",\"tlp_name\":\"%s\"}]}",
                                    cases[i].input);
      ThreatqDocument *document = _map(json);
      if (cases[i].expected)
        _assert_list(document, "threat.indicator.marking.tlp", cases[i].expected, NULL);
      else
        _assert_absent(document, "threat.indicator.marking.tlp");
      _assert_list(document, "threat.indicator.provider", "S", NULL);
      threatq_document_free(document);
      g_free(json);
    }
}

Test(mapper, providers_and_tlp_distinct_in_source_order)
{
  ThreatqDocument *document = _map("{\"value\":\"x\",\"sources\":["
                                   "{\"name\":\"B\",\"tlp_name\":\"AMBER\",\"id\":1},"
                                   "null, 7, [\"name\"],"
                                   "{\"name\":\"A\",\"tlp_name\":\"tlp:green\",\"nested\":{\"name\":\"Z\"}},"
                                   "{\"name\":\"B\",\"tlp_name\":\"TLP:AMBER\"},"
                                   "{\"tlp_name\":\"RED\"},"
                                   "{\"name\":\"C\",\"tlp_name\":\"testtlp\",\"provider\":\"P\"}]}");
  _assert_list(document, "threat.indicator.provider", "B", "A", "C", NULL);
  _assert_list(document, "threat.indicator.marking.tlp", "AMBER", "GREEN", "RED", NULL);
  threatq_document_free(document);
}

/* ---- adversaries ---------------------------------------------------------- */

Test(mapper, adversaries)
{
  ThreatqDocument *document = _map("{\"value\":\"x\",\"adversaries\":[{\"id\":3,\"name\":\"APT 1\"},"
                                   "{\"id\":4},{\"name\":\"Lazarus\",\"aliases\":[{\"name\":\"no\"}]}]}");
  _assert_list(document, "threatq.adversaries", "APT 1", "Lazarus", NULL);
  threatq_document_free(document);

  document = _map("{\"value\":\"x\",\"adversaries\":[]}");
  _assert_absent(document, "threatq.adversaries");
  threatq_document_free(document);
}

/* ---- attributes ----------------------------------------------------------- */

Test(mapper, attributes_normalised_and_collected)
{
  ThreatqDocument *document = _map("{\"value\":\"x\",\"attributes\":["
                                   "{\"name\":\"Router Port\",\"value\":\"9000\"},"
                                   "{\"name\":\"AlienVault Threat.Level\",\"value\":\"high\"},"
                                   "{\"name\":\"Router Port\",\"value\":9001},"
                                   "{\"name\":\"flag\",\"value\":true},"
                                   "{\"name\":\"ratio\",\"value\":-1.5e3},"
                                   "{\"name\":\"router port\",\"value\":\"9000\"},"
                                   "{\"name\":\"\",\"value\":\"lost\"},"
                                   "{\"name\":null,\"value\":\"lost\"},"
                                   "{\"name\":\"Empty\",\"value\":\"\"},"
                                   "{\"name\":\"Null\",\"value\":null},"
                                   "{\"name\":\"Obj\",\"value\":{\"a\":1}},"
                                   "{\"value\":\"no name\"},"
                                   "{\"name\":\"Ünïcode NAME\",\"value\":\"ö\\u00fc\\n\"},"
                                   "{\"name\":\"with-dash/slash\",\"value\":\"kept\",\"sources\":[{\"name\":\"S\"}]}]}");
  _assert_list(document, "threatq.attributes.router_port", "9000", "9001", "9000", NULL);
  _assert_list(document, "threatq.attributes.alienvault_threat_level", "high", NULL);
  _assert_list(document, "threatq.attributes.flag", "true", NULL);
  _assert_list(document, "threatq.attributes.ratio", "-1.5e3", NULL);
  _assert_list(document, "threatq.attributes.ünïcode_name", "öü\n", NULL);
  _assert_list(document, "threatq.attributes.with-dash/slash", "kept", NULL);
  _assert_absent(document, "threatq.attributes.empty");
  _assert_absent(document, "threatq.attributes.null");
  _assert_absent(document, "threatq.attributes.obj");
  _assert_absent(document, "threatq.attributes.");
  _assert_absent(document, "threat.indicator.provider");

  guint attributes = 0;
  for (guint i = 0; i < document->field_count; i++)
    if (g_str_has_prefix(document->fields[i].name, "threatq.attributes."))
      attributes++;
  cr_assert_eq(attributes, 6);
  threatq_document_free(document);
}

Test(mapper, many_attributes)
{
  GString *json = g_string_new("{\"value\":\"x\",\"attributes\":[");
  for (guint i = 0; i < 60; i++)
    g_string_append_printf(json, "%s{\"name\":\"Name %u\",\"value\":\"v%u\"}", i ? "," : "", i % 20, i);
  g_string_append(json, "]}");
  ThreatqDocument *document = _map(json->str);
  for (guint i = 0; i < 20; i++)
    {
      gchar *name = g_strdup_printf("threatq.attributes.name_%u", i);
      gchar *v0 = g_strdup_printf("v%u", i), *v1 = g_strdup_printf("v%u", i + 20), *v2 = g_strdup_printf("v%u", i + 40);
      _assert_list(document, name, v0, v1, v2, NULL);
      g_free(name);
      g_free(v0);
      g_free(v1);
      g_free(v2);
    }
  threatq_document_free(document);
  g_string_free(json, TRUE);
}

/* ---- dates --------------------------------------------------------------- */

Test(mapper, all_dates)
{
  ThreatqDocument *document = _map("{\"value\":\"x\",\"created_at\":\"2020-02-29 00:00:00\","
                                   "\"updated_at\":\"2021-12-31 23:59:59\",\"published_at\":\"1999-01-01 12:00:00\","
                                   "\"touched_at\":\"2022-03-01 01:02:03\",\"expires_calculated_at\":\"2023-10-23 18:40:17\"}");
  _assert_str(document, "threatq.created_at", "2020-02-29T00:00:00.000Z");
  _assert_str(document, "threatq.updated_at", "2021-12-31T23:59:59.000Z");
  _assert_str(document, "threatq.published_at", "1999-01-01T12:00:00.000Z");
  _assert_str(document, "threatq.touched_at", "2022-03-01T01:02:03.000Z");
  _assert_str(document, "threatq.expires_calculated_at", "2023-10-23T18:40:17.000Z");
  _assert_str(document, "@timestamp", "2021-12-31T23:59:59.000Z");
  _assert_str(document, "threat.indicator.modified_at", "2021-12-31T23:59:59.000Z");
  _assert_str(document, "threat.indicator.first_seen", "2020-02-29T00:00:00.000Z");
  _assert_str(document, "threat.indicator.last_seen", "2022-03-01T01:02:03.000Z");
  cr_assert_eq(document->timestamp, 1640995199);
  threatq_document_free(document);
}

Test(mapper, date_failure_is_reported_and_the_rest_mapped)
{
  ThreatqDocument *document = _map("{\"id\":7,\"value\":\"1.2.3.4\",\"type\":{\"name\":\"IP Address\"},"
                                   "\"updated_at\":\"xyz\",\"created_at\":\"2021-02-29 00:00:00\","
                                   "\"touched_at\":\"2021-10-24 18:36:10\"}");
  _assert_list(document, "error.message", "threatq.created_at: cannot parse date '2021-02-29 00:00:00'",
               "threatq.updated_at: cannot parse date 'xyz'", NULL);
  _assert_absent(document, "threatq.updated_at");
  _assert_absent(document, "threatq.created_at");
  _assert_absent(document, "threat.indicator.modified_at");
  _assert_absent(document, "threat.indicator.first_seen");
  _assert_str(document, "@timestamp", RECEIVED_ISO);
  cr_assert_eq(document->timestamp, 1649669255);
  _assert_str(document, "threatq.touched_at", "2021-10-24T18:36:10.000Z");
  _assert_str(document, "threat.indicator.ip", "1.2.3.4");
  _assert_int(document, "threatq.id", 7);
  _assert_str(document, "event.kind", "enrichment");
  _assert_absent(document, "threatq.ioc_expired_at");
  threatq_document_free(document);
}

Test(mapper, date_parser)
{
  gint64 msec;
  const gchar *bad[] =
  {
    "", "2021-10-01", "2021-10-01 18:36", "2021-13-01 00:00:00", "2021-00-01 00:00:00", "2021-04-31 00:00:00",
    "1900-02-29 00:00:00", "2021-10-01 24:00:00", "2021-10-01 23:60:00", "2021-10-01 23:59:60",
    "2021-10-01 18:36:03 ", "2021-10-01x18:36:03", "21-10-01 18:36:03", "2021-1-01 18:36:03", "0000-01-01 00:00:00",
    "2021-10-01 18:36:03.", "2021-10-01 18:36:03+02:00", "２021-10-01 18:36:03", "2021-10-01 -1:36:03",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    {
      gchar buffer[THREATQ_DATE_BUFFER_SIZE];
      cr_assert_eq(threatq_mapper_normalise_date(bad[i], strlen(bad[i]), &msec, buffer), 0, "accepted '%s'", bad[i]);
    }

  const struct
  {
    const gchar *text;
    gint64 msec;
    const gchar *iso;
  } good[] =
  {
    { "1970-01-01 00:00:00", 0, "1970-01-01T00:00:00.000Z" },
    { "2000-02-29 12:34:56", G_GINT64_CONSTANT(951827696000), "2000-02-29T12:34:56.000Z" },
    { "2021-10-01T18:36:03Z", G_GINT64_CONSTANT(1633113363000), "2021-10-01T18:36:03.000Z" },
    { "2021-10-01 18:36:03.5", G_GINT64_CONSTANT(1633113363500), "2021-10-01T18:36:03.500Z" },
    { "2021-10-01 18:36:03.123456Z", G_GINT64_CONSTANT(1633113363123), "2021-10-01T18:36:03.123Z" },
    { "1969-12-31 23:59:59", -1000, "1969-12-31T23:59:59.000Z" },
    { "0001-01-01 00:00:00", G_GINT64_CONSTANT(-62135596800000), "0001-01-01T00:00:00.000Z" },
    { "9999-12-31 23:59:59", G_GINT64_CONSTANT(253402300799000), "9999-12-31T23:59:59.000Z" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++)
    {
      gchar buffer[THREATQ_DATE_BUFFER_SIZE], normalised[THREATQ_DATE_BUFFER_SIZE];
      memset(normalised, 'x', sizeof(normalised));
      cr_assert_eq(threatq_mapper_normalise_date(good[i].text, strlen(good[i].text), &msec, normalised),
                   strlen(good[i].iso), "rejected '%s'", good[i].text);
      cr_assert_eq(msec, good[i].msec, "%s: %" G_GINT64_FORMAT, good[i].text, msec);
      cr_assert_str_eq(normalised, good[i].iso);
      /* the formatter makes the same of the milliseconds */
      cr_assert_eq(threatq_mapper_format_date(msec, buffer), strlen(good[i].iso));
      cr_assert_str_eq(buffer, good[i].iso);
    }

  /* beyond the parser's four-digit years (a date plus ioc-expiration-duration), the year grows */
  gchar wide[THREATQ_DATE_BUFFER_SIZE];
  cr_assert_eq(threatq_mapper_format_date(G_GINT64_CONSTANT(253402300800000), wide), 25);
  cr_assert_str_eq(wide, "10000-01-01T00:00:00.000Z");

  /* every day of four centuries round-trips through the formatter, matching GDateTime */
  for (gint64 day = -146097; day < 3 * 146097; day += 13)
    {
      gchar buffer[THREATQ_DATE_BUFFER_SIZE];
      gint64 when = day * 86400000 + 45296789;
      GDateTime *reference = g_date_time_new_from_unix_utc((when - 789) / 1000);
      if (!reference)
        continue;
      gchar *expected = g_date_time_format(reference, "%Y-%m-%dT%H:%M:%S.789Z");
      threatq_mapper_format_date(when, buffer);
      cr_assert_str_eq(buffer, expected);
      gchar normalised[THREATQ_DATE_BUFFER_SIZE];
      buffer[10] = ' ';
      cr_assert_eq(threatq_mapper_normalise_date(buffer, 19, &msec, normalised), 24, "%s", expected);
      cr_assert_eq(msec, when - 789);
      cr_assert_eq(threatq_mapper_normalise_date(buffer, 23, &msec, normalised), 24, "%s", expected);
      cr_assert_str_eq(normalised, expected);
      cr_assert_eq(msec, when);
      g_free(expected);
      g_date_time_unref(reference);
    }
}

/* ---- IOC expiry ---------------------------------------------------------- */

static void
_check_expiry(const gchar *json, const gchar *expired_at, const gchar *reason)
{
  ThreatqDocument *document = _map(json);
  if (expired_at)
    {
      _assert_str(document, "threatq.ioc_expired_at", expired_at);
      _assert_str(document, "threatq.ioc_expiration_reason", reason);
    }
  else
    {
      _assert_absent(document, "threatq.ioc_expired_at");
      _assert_absent(document, "threatq.ioc_expiration_reason");
    }
  threatq_document_free(document);
}

Test(mapper, ioc_expiry_reasons)
{
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Expired\"},\"updated_at\":\"2021-01-01 00:00:00\","
                "\"expires_at\":\"2021-02-01 00:00:00\",\"expired_at\":\"2021-03-01 00:00:00\"}",
                "2021-03-01T00:00:00.000Z", "Expiration set by ThreatQ from expired_at field");
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Expired\"},\"updated_at\":\"2021-01-01 00:00:00\","
                "\"expires_at\":\"2021-02-01 00:00:00\"}",
                "2021-02-01T00:00:00.000Z", "Expiration set by ThreatQ from expires_at field");
  _check_expiry("{\"value\":\"x\",\"expires_at\":\"2021-02-01 00:00:00\"}",
                "2021-02-01T00:00:00.000Z", "Expiration set by ThreatQ from expires_at field");
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Expired\"},\"updated_at\":\"2021-01-01 00:00:00\"}",
                "2021-01-01T00:00:00.000Z", "Expiration set because threatq.status is Expired");
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Active\"},\"updated_at\":\"2021-01-01 00:00:00\"}",
                "2021-04-01T00:00:00.000Z", "Expiration set from ioc-expiration-duration");
  /* without a usable updated_at the last two reasons give nothing */
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Expired\"}}", NULL, NULL);
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Active\"}}", NULL, NULL);
  _check_expiry("{\"value\":\"x\",\"status\":{\"name\":\"Expired\"},\"updated_at\":\"bad\"}", NULL, NULL);
  /* an unparsable expired_at does not count */
  _check_expiry("{\"value\":\"x\",\"expired_at\":\"bad\",\"updated_at\":\"2021-01-01 00:00:00\"}",
                "2021-04-01T00:00:00.000Z", "Expiration set from ioc-expiration-duration");

  options.ioc_expiration_seconds = 5 * DAY;
  _check_expiry("{\"value\":\"x\",\"updated_at\":\"2019-11-15 00:00:02\"}",
                "2019-11-20T00:00:02.000Z", "Expiration set from ioc-expiration-duration");
  options.ioc_expiration_seconds = 90 * 60;
  _check_expiry("{\"value\":\"x\",\"updated_at\":\"2020-12-31 23:00:00\"}",
                "2021-01-01T00:30:00.000Z", "Expiration set from ioc-expiration-duration");
}

Test(mapper, parse_duration)
{
  gint64 seconds;
  cr_assert(threatq_parse_duration("90d", &seconds));
  cr_assert_eq(seconds, 90 * DAY);
  cr_assert(threatq_parse_duration("12h", &seconds));
  cr_assert_eq(seconds, 12 * 3600);
  cr_assert(threatq_parse_duration("30m", &seconds));
  cr_assert_eq(seconds, 1800);
  cr_assert(threatq_parse_duration("0d", &seconds));
  cr_assert_eq(seconds, 0);
  const gchar *bad[] = { "", "d", "90", "90s", "90D", "-1d", "1.5d", " 9d", "9d ", "99999999999999999999d", "1y" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    cr_assert_not(threatq_parse_duration(bad[i], &seconds), "accepted '%s'", bad[i]);
  cr_assert_not(threatq_parse_duration(NULL, &seconds));
}

/* ---- escaping and UTF-8 ---------------------------------------------------- */

Test(mapper, escaping_round_trips)
{
  const gchar *json = "{\"value\":\"q\\\"b\\\\s\\/c\\u0001\\t\\n\\r\\u001f\\u007f\",\"description\":\"\\u00e9\\u4e2d\\ud83d\\ude00 ok\","
                      "\"type\":{\"name\":\"Filename\"},\"attributes\":[{\"name\":\"K\\\"ey\\\\\",\"value\":\"\\u2028\"}]}";
  options.preserve_original = TRUE;
  ThreatqDocument *document = _map(json);
  const gchar *expected_value = "q\"b\\s/c\x01\t\n\r\x1f\x7f";
  _assert_str(document, "threatq.indicator_value", expected_value);
  _assert_str(document, "threat.indicator.file.name", expected_value);
  _assert_str(document, "threat.indicator.description", "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80 ok");
  _assert_list(document, "threatq.attributes.k\"ey\\", "\xe2\x80\xa8", NULL);
  _assert_str(document, "event.original", json);

  /* the rendering is plain compact JSON: no raw control characters */
  for (const gchar *p = document->json; *p; p++)
    cr_assert((guchar) *p >= 0x20, "raw control character in %s", document->json);

  yajl_val tree = _parse_tree(document->json);
  const char *path[] = { "threatq", "indicator_value", NULL };
  cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(tree, path, yajl_t_string)), expected_value);
  const char *original[] = { "event", "original", NULL };
  cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(tree, original, yajl_t_string)), json);
  yajl_tree_free(tree);
  threatq_document_free(document);
}

Test(mapper, invalid_utf8_options_are_repaired)
{
  const gchar *const tags[] = { "ok", "bad\xff", "", NULL };
  options.tags = tags;
  options.feed_name = "feed\xc3";
  ThreatqDocument *document = _map("{\"value\":\"x\"}");
  const ThreatqField *field = threatq_document_find(document, "tags");
  cr_assert_eq(field->item_count, 2);
  cr_assert(g_utf8_validate(field->items[1], -1, NULL));
  cr_assert(g_utf8_validate(_str(document, "threat.feed.name"), -1, NULL));
  cr_assert(g_utf8_validate(document->json, -1, NULL));
  threatq_document_free(document);
}

/* ---- errors of the single-indicator entry point ----------------------------- */

static void
_expect_failure(const gchar *json, gint code, const gchar *mention)
{
  GError *error = NULL;
  ThreatqDocument *document = threatq_mapper_map_json(json, strlen(json), &options, RECEIVED_AT, &error);
  cr_assert_null(document, "accepted %s", json);
  cr_assert_not_null(error);
  cr_assert_eq(error->domain, THREATQ_MAPPER_ERROR);
  cr_assert_eq(error->code, code, "%s: %s", json, error->message);
  if (mention)
    cr_assert(strstr(error->message, mention), "'%s' does not mention '%s'", error->message, mention);
  g_error_free(error);
}

Test(mapper, indicator_errors)
{
  _expect_failure("[1]", THREATQ_MAPPER_ERROR_SHAPE, "not a JSON object");
  _expect_failure("\"s\"", THREATQ_MAPPER_ERROR_SHAPE, NULL);
  _expect_failure("3", THREATQ_MAPPER_ERROR_SHAPE, NULL);
  _expect_failure("", THREATQ_MAPPER_ERROR_SYNTAX, "byte 0");
  _expect_failure("{\"value\":\"x\"", THREATQ_MAPPER_ERROR_SYNTAX, "byte 12");
  _expect_failure("{\"value\":\"x\"} {}", THREATQ_MAPPER_ERROR_SYNTAX, NULL);
  _expect_failure("{\"value\":'x'}", THREATQ_MAPPER_ERROR_SYNTAX, NULL);
}

/*
 * Rendering names with more dots than the renderer remembers (MAX_RENDER_DOTS in threatq-document.c,
 * 32): the objects two names share are found by scanning then, with the same JSON as a result.
 */
Test(mapper, names_with_many_components_render_as_nested_objects)
{
  GString *deep = g_string_new(NULL), *expected = g_string_new("{");
  for (guint k = 0; k < 40; k++)
    {
      g_string_append_printf(deep, "d%u.", k);
      g_string_append_printf(expected, "\"d%u\":{", k);
    }
  g_string_append(expected, "\"x\":[\"1\"],\"y\":[\"2\"]");
  for (guint k = 0; k < 20; k++)
    g_string_append_c(expected, '}');
  g_string_append(expected, ",\"q\":[\"3\"]");
  for (guint k = 0; k < 20; k++)
    g_string_append_c(expected, '}');
  g_string_append(expected, "}");

  /* d0. ... d39.x, d0. ... d39.y and d0. ... d19.q, added out of order */
  const gchar *leaves[] = { "y", "x", NULL };
  gchar *shallow = g_strndup(deep->str, strstr(deep->str, "d20.") - deep->str);
  ThreatqDocumentBuilder *builder = threatq_document_builder_new();
  ThreatqArena *arena = threatq_arena_new();
  threatq_document_begin(builder, arena);
  gchar *q = g_strconcat(shallow, "q", NULL);
  threatq_document_append_item(builder, threatq_document_add_named_list(builder, q, strlen(q)), "3", -1);
  for (guint i = 0; leaves[i]; i++)
    {
      gchar *name = g_strconcat(deep->str, leaves[i], NULL);
      threatq_document_append_item(builder, threatq_document_add_named_list(builder, name, strlen(name)),
                                   leaves[i][0] == 'x' ? "1" : "2", -1);
      g_free(name);
    }
  ThreatqDocument *document = threatq_document_finish(builder, 0);
  cr_assert_str_eq(threatq_document_json(document), expected->str);

  threatq_document_free(document);
  threatq_arena_unref(arena);
  threatq_document_builder_free(builder);
  g_free(q);
  g_free(shallow);
  g_string_free(deep, TRUE);
  g_string_free(expected, TRUE);
}
