/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mapping one collected ThreatQ indicator onto an ECS document (the fields
 * and indicator types are listed in docs/fields.md).
 */
#include "threatq-mapper-indicator.h"
#include "threatq-number.h"
#include "threatq-url.h"

#include <string.h>

#define DEFAULT_FEED_NAME "ThreatQuotient"
#define ERROR_VALUE_LENGTH 80

const gchar *const threatq_date_keys[THREATQ_DATE_COUNT] =
{
  "created_at", "updated_at", "published_at", "touched_at", "expires_at", "expired_at", "expires_calculated_at",
};

#define KEY_LENGTH(name) (sizeof(name) - 1)
const gsize threatq_date_key_lengths[THREATQ_DATE_COUNT] =
{
  KEY_LENGTH("created_at"), KEY_LENGTH("updated_at"), KEY_LENGTH("published_at"), KEY_LENGTH("touched_at"),
  KEY_LENGTH("expires_at"), KEY_LENGTH("expired_at"), KEY_LENGTH("expires_calculated_at"),
};

/* the threatq.* fields of the dates */
static const ThreatqEcsField date_fields[THREATQ_DATE_COUNT] =
{
  THREATQ_ECS_THREATQ_CREATED_AT, THREATQ_ECS_THREATQ_UPDATED_AT, THREATQ_ECS_THREATQ_PUBLISHED_AT,
  THREATQ_ECS_THREATQ_TOUCHED_AT, THREATQ_ECS_THREATQ_EXPIRES_AT, THREATQ_ECS_THREATQ_EXPIRED_AT,
  THREATQ_ECS_THREATQ_EXPIRES_CALCULATED_AT,
};

/* ------------------------------------------------------------------ */
/* the collected indicator                                             */

void
threatq_indicator_init(ThreatqIndicator *self)
{
  memset(self, 0, sizeof(*self));
  self->sources = g_array_sized_new(FALSE, TRUE, sizeof(ThreatqSource), 8);
  self->attributes = g_array_sized_new(FALSE, TRUE, sizeof(ThreatqAttribute), 16);
  self->adversaries = g_array_sized_new(FALSE, TRUE, sizeof(ThreatqValue), 4);
  self->strings = g_string_sized_new(2048);
}

void
threatq_indicator_reset(ThreatqIndicator *self)
{
  ThreatqIndicator kept = *self;

  memset(self, 0, sizeof(*self));
  self->sources = kept.sources;
  self->attributes = kept.attributes;
  self->adversaries = kept.adversaries;
  self->strings = kept.strings;
  g_array_set_size(self->sources, 0);
  g_array_set_size(self->attributes, 0);
  g_array_set_size(self->adversaries, 0);
  g_string_truncate(self->strings, 0);
}

void
threatq_indicator_clear(ThreatqIndicator *self)
{
  g_array_free(self->sources, TRUE);
  g_array_free(self->attributes, TRUE);
  g_array_free(self->adversaries, TRUE);
  g_string_free(self->strings, TRUE);
}

/*
 * Appends text with every run of bytes that do not form valid UTF-8 (a NUL,
 * a lone surrogate, an overlong form, ...) replaced by one U+FFFD.  yajl's
 * own check is off: it misses decoded escapes such as a lone "\udc00", and
 * rejecting the page instead would stop the collection at that page for good.
 * One U+FFFD per run, not per byte: the text grows at most twice (one bad
 * byte between valid ones), where per byte a value of bad bytes tripled.
 */
#define ONES G_GUINT64_CONSTANT(0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT(0x8080808080808080)

/* no byte >= 0x80 and no NUL: valid UTF-8 as it is, which nearly every value is */
static inline gboolean
_is_plain_ascii(const gchar *text, gsize length)
{
  gsize i = 0;

  for (; i + 8 <= length; i += 8)
    {
      guint64 word;
      memcpy(&word, text + i, 8);
      if ((word | ((word - ONES) & ~word)) & HIGHS)
        return FALSE;
    }
  for (; i < length; i++)
    if ((guchar) text[i] >= 0x80 || text[i] == '\0')
      return FALSE;
  return TRUE;
}

void
threatq_utf8_append_valid(GString *out, const gchar *text, gsize length)
{
  const gchar *end = text + length;
  const gchar *invalid;

  if (_is_plain_ascii(text, length))
    {
      gsize used = out->len;
      /* what g_string_set_size() does, without the call while there is room */
      if (G_LIKELY(used + length < out->allocated_len))
        {
          out->len = used + length;
          out->str[out->len] = '\0';
        }
      else
        g_string_set_size(out, used + length);
      memcpy(out->str + used, text, length);
      return;
    }

  while (!g_utf8_validate_len(text, end - text, &invalid))
    {
      g_string_append_len(out, text, invalid - text);
      g_string_append_len(out, "\xef\xbf\xbd", 3);
      /* the rest of the run: bytes that start no valid character */
      for (text = invalid + 1; text < end && !g_utf8_validate_len(text, MIN(end - text, 4), &invalid)
           && invalid == text; text++)
        ;
    }
  g_string_append_len(out, text, end - text);
}

gsize
threatq_utf8_prefix(const gchar *text, gsize length, gsize max_length)
{
  if (length <= max_length)
    return length;
  /* back over continuation bytes: a character is at most 4 bytes */
  gsize cut = max_length;
  for (guint i = 0; i < 3 && cut > 0 && ((guchar) text[cut] & 0xC0) == 0x80; i++)
    cut--;
  return cut;
}

/* the slow path of threatq_indicator_store: a value that is or may become longer than max_length */
static void
_store_cut(ThreatqIndicator *self, ThreatqValue *value, const gchar *text, gsize length, gsize max_length)
{
  gboolean cut = length > max_length;

  threatq_utf8_append_valid(self->strings, text, threatq_utf8_prefix(text, length, max_length));
  value->length = self->strings->len - value->offset;
  if (value->length > max_length)
    {
      /* repaired text can be longer than what it was made from */
      value->length = threatq_utf8_prefix(self->strings->str + value->offset, value->length, max_length);
      g_string_truncate(self->strings, value->offset + value->length);
      cut = TRUE;
    }
  if (cut)
    {
      self->cut_values++;
      self->longest_cut = MAX(self->longest_cut, length);
    }
}

void
threatq_indicator_store(ThreatqIndicator *self, ThreatqValue *value, ThreatqValueKind kind, const gchar *text,
                        gsize length, gsize max_length)
{
  value->kind = kind;
  value->offset = self->strings->len;
  /* repairing at most doubles the length (one U+FFFD per run of at least one bad byte) */
  if (G_LIKELY(length <= max_length / 2))
    {
      threatq_utf8_append_valid(self->strings, text, length);
      value->length = self->strings->len - value->offset;
    }
  else
    _store_cut(self, value, text, length, max_length);
  g_string_append_c(self->strings, '\0');
}

/* ------------------------------------------------------------------ */
/* the mapping context                                                 */

/* a valid UTF-8 copy in the arena, shared by every document of the page */
static const gchar *
_valid_utf8(ThreatqArena *arena, const gchar *text)
{
  gchar *valid = g_utf8_make_valid(text ? text : "", -1);
  const gchar *copy = threatq_arena_strndup(arena, valid, strlen(valid));
  g_free(valid);
  return copy;
}

void
threatq_mapper_init(ThreatqMapper *self, const ThreatqMapperOptions *options, gint64 received_at,
                    ThreatqArena *arena)
{
  memset(self, 0, sizeof(*self));
  self->options = options;
  self->arena = threatq_arena_ref(arena);
  self->feed_name = _valid_utf8(arena, options->feed_name ? options->feed_name : DEFAULT_FEED_NAME);

  guint tag_count = 0;
  for (const gchar *const *tag = options->tags; tag && *tag; tag++)
    tag_count++;
  self->tags = threatq_arena_alloc(arena, (tag_count + 1) * sizeof(gchar *));
  guint kept = 0;
  for (guint i = 0; i < tag_count; i++)
    if (options->tags[i][0])
      self->tags[kept++] = _valid_utf8(arena, options->tags[i]);
  self->tags[kept] = NULL;

  /* floor division: received_at may precede the epoch in tests */
  self->received_msec = received_at / 1000 - (received_at % 1000 < 0);
  gchar received_iso[THREATQ_DATE_BUFFER_SIZE];
  gsize length = threatq_mapper_format_date(self->received_msec, received_iso);
  self->received_iso = threatq_arena_strndup(arena, received_iso, length);
  self->scratch = g_string_sized_new(128);
  self->builder = threatq_document_builder_new();
  self->max_value_length = options->max_value_length ? options->max_value_length : THREATQ_DEFAULT_MAX_VALUE_LENGTH;
  self->max_members = options->max_members ? options->max_members : THREATQ_DEFAULT_MAX_MEMBERS;
}

void
threatq_mapper_clear(ThreatqMapper *self)
{
  threatq_arena_unref(self->arena);
  g_string_free(self->scratch, TRUE);
  threatq_document_builder_free(self->builder);
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static const gchar *
_text(const ThreatqMapper *self, const ThreatqValue *value, gsize *length)
{
  gsize unused;

  if (!length)
    length = &unused;
  *length = 0;
  if (value->kind == THREATQ_VALUE_ABSENT || value->kind == THREATQ_VALUE_CONTAINER || value->length == 0)
    return NULL;
  *length = value->length;
  return self->indicator->strings->str + value->offset;
}

static gboolean
_text_equals(const ThreatqMapper *self, const ThreatqValue *value, const gchar *expected)
{
  gsize length;
  const gchar *text = _text(self, value, &length);
  return text && strlen(expected) == length && memcmp(text, expected, length) == 0;
}

/* a value cut short (at a UTF-8 character boundary) for error.message */
static const gchar *
_quote_value(ThreatqMapper *self, const gchar *text, gsize length)
{
  g_string_truncate(self->scratch, 0);
  if (length <= ERROR_VALUE_LENGTH)
    g_string_append_len(self->scratch, text, (gssize) length);
  else
    {
      const gchar *end = text + ERROR_VALUE_LENGTH;
      while (end > text && ((guchar) *end & 0xC0) == 0x80)
        end--;
      g_string_append_len(self->scratch, text, end - text);
      g_string_append(self->scratch, "...");
    }
  return self->scratch->str;
}

/* ------------------------------------------------------------------ */
/* scores                                                              */

#define SCORE_TEXT_SIZE 32

/* a score: an integer, or a decimal kept as its JSON text */
typedef struct
{
  gboolean integral;
  gint64 integer;                       /* integral, or the integer part */
  gchar decimal[SCORE_TEXT_SIZE];       /* not integral: e.g. "7.5", NUL-terminated */
  gsize decimal_length;
} ScoreNumber;

/* "-007.50" -> "-7.5": no '+', no leading zeros; fraction_end is past the last non-zero digit */
static gboolean
_format_decimal(const gchar *text, const gchar *dot, const gchar *fraction_end, ScoreNumber *number)
{
  gboolean negative = *text == '-';
  const gchar *digits = text + (negative || *text == '+');

  while (digits + 1 < dot && *digits == '0')
    digits++;
  gsize digits_length = (gsize) (fraction_end - digits);
  if (negative + digits_length >= sizeof(number->decimal))
    return FALSE;

  gchar *out = number->decimal;
  if (negative)
    *out++ = '-';
  memcpy(out, digits, digits_length);
  out[digits_length] = '\0';
  number->decimal_length = (gsize) negative + digits_length;
  return TRUE;
}

/* the rest of _parse_score_number(): a fraction, perhaps all zeros */
static gboolean
_parse_decimal(const gchar *text, gsize length, ScoreNumber *number)
{
  const gchar *dot = memchr(text, '.', length);
  const gchar *fraction_end = text + length;

  if (!dot || dot + 1 == fraction_end || !threatq_number_parse_int64(text, (gsize) (dot - text), &number->integer))
    return FALSE;
  for (const gchar *p = dot + 1; p < fraction_end; p++)
    if (*p < '0' || *p > '9')
      return FALSE;
  while (fraction_end[-1] == '0')
    fraction_end--;
  if (fraction_end == dot + 1)
    return TRUE;
  number->integral = FALSE;
  return _format_decimal(text, dot, fraction_end, number);
}

/*
 * A score as ThreatQ writes it, as a JSON number or in a string: an optional
 * sign, decimal digits and an optional fraction ("7", "+7", "7.5", "0.00"),
 * within gint64; no exponent, no spaces.  A value without a fraction, or with
 * an all-zero one, is an integer; any other is a decimal.  Integers, nearly
 * every score, take the same path as before decimals were accepted.
 */
static inline gboolean
_parse_score_number(const gchar *text, gsize length, ScoreNumber *number)
{
  number->integral = TRUE;
  return threatq_number_parse_int64(text, length, &number->integer) || _parse_decimal(text, length, number);
}

/* ------------------------------------------------------------------ */
/* mapping                                                             */
/*                                                                     */
/* Values are worked out first and the fields added in (nearly) the    */
/* order they sort in, which keeps threatq_document_finish() cheap.    */

typedef struct
{
  ThreatqDocumentBuilder *document;
  ThreatqList errors;           /* THREATQ_NO_LIST until the first error */
  gboolean date_ok[THREATQ_DATE_COUNT];
  gint64 date_msec[THREATQ_DATE_COUNT];
  const gchar *date_text[THREATQ_DATE_COUNT];   /* formatted once, in the arena: most are used twice */
  gboolean has_id;
  gint64 id;
  enum { SCORE_ABSENT, SCORE_NUMBER, SCORE_OTHER } score_state;
  ScoreNumber score;
  gint64 timestamp;             /* @timestamp in unix seconds */
  /* the indicator's main values (NULL when absent) and its type's rule */
  const gchar *type_name, *value, *hash;
  gsize type_length, value_length, hash_length;
  const struct _TypeRule *rule;
} Mapping;

static void
_add_error(ThreatqMapper *self, Mapping *mapping, const gchar *format, ...) G_GNUC_PRINTF(3, 4);

static void
_add_error(ThreatqMapper *self, Mapping *mapping, const gchar *format, ...)
{
  va_list args;

  va_start(args, format);
  gchar *message = g_strdup_vprintf(format, args);
  va_end(args);
  threatq_document_append_item(mapping->document,
                               threatq_document_list_on_demand(mapping->document, &mapping->errors,
                                                               THREATQ_ECS_ERROR_MESSAGE),
                               message, -1);
  g_free(message);
}

/* a string literal, by reference, its length counted by the compiler */
#define ADD_LITERAL(document, field, literal) \
  threatq_document_add_string_ref((document), (field), "" literal, sizeof(literal) - 1)

static const gchar *
_format_date(ThreatqDocumentBuilder *document, gint64 msec)
{
  gchar buffer[THREATQ_DATE_BUFFER_SIZE];
  gsize length = threatq_mapper_format_date(msec, buffer);
  return threatq_arena_strndup(threatq_document_arena(document), buffer, length);
}

static void
_add_text(ThreatqMapper *self, ThreatqDocumentBuilder *document, ThreatqEcsField field, const ThreatqValue *value)
{
  gsize length;
  const gchar *text = _text(self, value, &length);
  if (text)
    threatq_document_add_string(document, field, text, (gssize) length);
}

static void
_parse_dates(ThreatqMapper *self, Mapping *mapping)
{
  for (guint i = 0; i < THREATQ_DATE_COUNT; i++)
    {
      gsize length;
      const gchar *text = _text(self, &self->indicator->dates[i], &length);

      gchar iso[THREATQ_DATE_BUFFER_SIZE];
      gsize iso_length = text ? threatq_mapper_normalise_date(text, length, &mapping->date_msec[i], iso) : 0;

      mapping->date_ok[i] = iso_length > 0;
      if (mapping->date_ok[i])
        mapping->date_text[i] = threatq_arena_strndup(threatq_document_arena(mapping->document), iso, iso_length);
      else if (text)
        _add_error(self, mapping, "%s: cannot parse date '%s'", threatq_ecs_field_name(date_fields[i]),
                   _quote_value(self, text, length));
    }
}

static void
_parse_id(ThreatqMapper *self, Mapping *mapping)
{
  const ThreatqValue *id = &self->indicator->id;
  gsize length;
  const gchar *text;

  if (id->kind == THREATQ_VALUE_CONTAINER)
    {
      _add_error(self, mapping, "threatq.id: not a number");
      return;
    }
  text = _text(self, id, &length);
  if (!text)
    return;
  mapping->has_id = id->kind != THREATQ_VALUE_BOOLEAN && threatq_number_parse_int64(text, length, &mapping->id);
  if (!mapping->has_id)
    _add_error(self, mapping, "threatq.id: not an integer '%s'", _quote_value(self, text, length));
}

/* a member of a score object: a number or a numeric string (not a boolean, not "") */
static gboolean
_read_score(ThreatqMapper *self, const ThreatqValue *value, ScoreNumber *number)
{
  gsize length;
  const gchar *text = _text(self, value, &length);

  return text && value->kind != THREATQ_VALUE_BOOLEAN && _parse_score_number(text, length, number);
}

/*
 * The score is a number, a numeric string, or an object whose manual_score
 * (when numeric: an analyst's override) or else generated_score counts.
 */
static void
_parse_score(ThreatqMapper *self, Mapping *mapping)
{
  const ThreatqIndicator *indicator = self->indicator;
  const ThreatqValue *score = &indicator->score;
  gsize length;
  const gchar *text;

  if (score->kind == THREATQ_VALUE_CONTAINER)
    {
      if (_read_score(self, &indicator->manual_score, &mapping->score)
          || _read_score(self, &indicator->generated_score, &mapping->score))
        {
          mapping->score_state = SCORE_NUMBER;
          return;
        }
      mapping->score_state = SCORE_OTHER;
      _add_error(self, mapping, "threatq.score: not a number, nor an object with a numeric manual_score or "
                 "generated_score");
      return;
    }
  text = _text(self, score, &length);
  if (!text)
    return;               /* absent, null or "" */
  if (score->kind != THREATQ_VALUE_BOOLEAN && _parse_score_number(text, length, &mapping->score))
    {
      mapping->score_state = SCORE_NUMBER;
      return;
    }
  mapping->score_state = SCORE_OTHER;
  _add_error(self, mapping, "threatq.score: not a number '%s'", _quote_value(self, text, length));
}

/* the buckets are defined for the integers 0-10 */
static const gchar *
_confidence(const Mapping *mapping)
{
  gint64 score = mapping->score.integer;

  if (mapping->score_state != SCORE_NUMBER || !mapping->score.integral)
    return "Not Specified";
  if (score == 0)
    return "None";
  if (score >= 1 && score <= 4)
    return "Low";
  if (score >= 5 && score <= 7)
    return "Medium";
  if (score >= 8 && score <= 10)
    return "High";
  return "Not Specified";
}

/* "TLP:amber+strict" -> "AMBER+STRICT"; NULL for anything that is not a TLP marking */
static const gchar *
_normalise_tlp(const gchar *text, gsize length)
{
  static const gchar *const markings[] = { "WHITE", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" };

  if (length >= 4 && g_ascii_strncasecmp(text, "TLP:", 4) == 0)
    {
      text += 4;
      length -= 4;
      while (length > 0 && *text == ' ')
        {
          text++;
          length--;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS(markings); i++)
    if (strlen(markings[i]) == length && g_ascii_strncasecmp(text, markings[i], length) == 0)
      return markings[i];
  return NULL;
}

static void
_map_tlp(ThreatqMapper *self, ThreatqDocumentBuilder *document)
{
  GArray *sources = self->indicator->sources;
  ThreatqList tlp = THREATQ_NO_LIST;

  for (guint i = 0; i < sources->len; i++)
    {
      gsize length;
      const gchar *text = _text(self, &g_array_index(sources, ThreatqSource, i).tlp_name, &length);

      if (text && (text = _normalise_tlp(text, length)))
        threatq_document_append_distinct_item(document,
                                              threatq_document_list_on_demand(document, &tlp,
                                                                              THREATQ_ECS_INDICATOR_MARKING_TLP),
                                              text, -1);
    }
}

static void
_map_providers(ThreatqMapper *self, ThreatqDocumentBuilder *document)
{
  GArray *sources = self->indicator->sources;
  ThreatqList providers = THREATQ_NO_LIST;

  for (guint i = 0; i < sources->len; i++)
    {
      gsize length;
      const gchar *text = _text(self, &g_array_index(sources, ThreatqSource, i).name, &length);

      if (text)
        threatq_document_append_distinct_item(document,
                                              threatq_document_list_on_demand(document, &providers,
                                                                              THREATQ_ECS_INDICATOR_PROVIDER),
                                              text, (gssize) length);
    }
}

#define ATTRIBUTE_PREFIX_LENGTH (sizeof(THREATQ_ATTRIBUTE_PREFIX) - 1)

/*
 * "Router Port" -> "threatq.attributes.router_port" in self->scratch; NULL for
 * a name no name-value pair can have: longer than THREATQ_MAX_FIELD_NAME_LENGTH
 * or with a control character.
 */
static const gchar *
_attribute_field_name(ThreatqMapper *self, const gchar *name, gsize length)
{
  GString *scratch = self->scratch;
  gboolean ascii = TRUE;

  if (length > THREATQ_MAX_ATTRIBUTE_NAME_LENGTH)
    return NULL;
  g_string_set_size(scratch, ATTRIBUTE_PREFIX_LENGTH + length);
  memcpy(scratch->str, THREATQ_ATTRIBUTE_PREFIX, ATTRIBUTE_PREFIX_LENGTH);
  gchar *out = scratch->str + ATTRIBUTE_PREFIX_LENGTH;
  for (gsize i = 0; i < length; i++)
    {
      gchar c = name[i];
      if ((guchar) c < 0x20 || c == 0x7f)
        return NULL;
      if ((guchar) c >= 0x80)
        ascii = FALSE;
      out[i] = c == ' ' || c == '.' ? '_' : c >= 'A' && c <= 'Z' ? (gchar) (c + ('a' - 'A')) : c;
    }
  if (!ascii)
    {
      gchar *lower = g_utf8_strdown(scratch->str + ATTRIBUTE_PREFIX_LENGTH,
                                    (gssize) (scratch->len - ATTRIBUTE_PREFIX_LENGTH));
      g_string_truncate(scratch, ATTRIBUTE_PREFIX_LENGTH);
      g_string_append(scratch, lower);
      g_free(lower);
    }
  /* lower case can be longer than upper case (U+0130) */
  return scratch->len <= THREATQ_MAX_FIELD_NAME_LENGTH ? scratch->str : NULL;
}

static void
_map_attributes(ThreatqMapper *self, Mapping *mapping)
{
  ThreatqDocumentBuilder *document = mapping->document;
  GArray *attributes = self->indicator->attributes;
  guint unusable = 0;
  const ThreatqAttribute *first_unusable = NULL;

  for (guint i = 0; i < attributes->len; i++)
    {
      const ThreatqAttribute *attribute = &g_array_index(attributes, ThreatqAttribute, i);
      gsize name_length, value_length;
      const gchar *name = _text(self, &attribute->name, &name_length);
      const gchar *value = _text(self, &attribute->value, &value_length);

      if (!name || !value)
        continue;

      const gchar *field_name = _attribute_field_name(self, name, name_length);
      if (!field_name)
        {
          first_unusable = first_unusable ? first_unusable : attribute;
          unusable++;
          continue;
        }
      ThreatqList list;
      if (!threatq_document_lookup_list(document, field_name, &list))
        list = threatq_document_add_named_list(document, field_name, self->scratch->len);
      threatq_document_append_item(document, list, value, (gssize) value_length);
    }
  if (unusable)
    {
      gsize length;
      const gchar *name = _text(self, &first_unusable->name, &length);
      _add_error(self, mapping, "threatq.attributes: %u attributes left out, their names are longer than %"
                 G_GSIZE_FORMAT " bytes or hold control characters; the first: '%s'", unusable,
                 (gsize) THREATQ_MAX_ATTRIBUTE_NAME_LENGTH, _quote_value(self, name, length));
    }
}

/* what the page parser's bounds left out of this indicator */
static void
_report_bounds(ThreatqMapper *self, Mapping *mapping)
{
  static const gchar *const list_names[THREATQ_LIST_COUNT] = { "sources", "attributes", "adversaries" };
  const ThreatqIndicator *indicator = self->indicator;

  if (indicator->cut_values)
    _add_error(self, mapping, "%u string values were cut to %" G_GSIZE_FORMAT " bytes (the longest had %"
               G_GSIZE_FORMAT ")", indicator->cut_values, self->max_value_length, indicator->longest_cut);
  for (guint i = 0; i < THREATQ_LIST_COUNT; i++)
    if (indicator->dropped[i])
      _add_error(self, mapping, "%s: only the first %u kept, %u more left out", list_names[i],
                 self->max_members, indicator->dropped[i]);
}

static void
_map_adversaries(ThreatqMapper *self, ThreatqDocumentBuilder *document)
{
  GArray *adversaries = self->indicator->adversaries;
  ThreatqList list = THREATQ_NO_LIST;

  for (guint i = 0; i < adversaries->len; i++)
    {
      gsize length;
      const gchar *name = _text(self, &g_array_index(adversaries, ThreatqValue, i), &length);
      if (name)
        threatq_document_append_item(document,
                                     threatq_document_list_on_demand(document, &list, THREATQ_ECS_THREATQ_ADVERSARIES),
                                     name, (gssize) length);
    }
}

/*
 * An absolute URL gives every part it has.  A value without a scheme that
 * starts with a host gives its parts too (no url.scheme), and url.full like
 * any other value that is not an absolute URL, so that rules matching
 * url.domain see "evil.example.net/a.php" as well as "http://evil.example.net/a.php".
 */
static void
_map_url(ThreatqMapper *self, ThreatqDocumentBuilder *document, const gchar *value, gsize length)
{
  ThreatqUrl url;
  gboolean absolute = threatq_url_parse(value, length, &url);
  gboolean split = absolute || threatq_url_parse_schemeless(value, length, &url);

  const struct
  {
    ThreatqEcsField field;
    const ThreatqUrlPart *part;
  } parts[] =
  {
    { THREATQ_ECS_INDICATOR_URL_DOMAIN, &url.domain },
    { THREATQ_ECS_INDICATOR_URL_EXTENSION, &url.extension },
    { THREATQ_ECS_INDICATOR_URL_FRAGMENT, &url.fragment },
  };
  for (guint i = 0; split && i < G_N_ELEMENTS(parts); i++)
    if (parts[i].part->text)
      threatq_document_add_string(document, parts[i].field, parts[i].part->text, (gssize) parts[i].part->length);
  if (!absolute)
    threatq_document_add_string(document, THREATQ_ECS_INDICATOR_URL_FULL, value, (gssize) length);
  threatq_document_add_string(document, THREATQ_ECS_INDICATOR_URL_ORIGINAL, value, (gssize) length);
  if (!split)
    return;
  if (url.path.text)
    threatq_document_add_string(document, THREATQ_ECS_INDICATOR_URL_PATH, url.path.text, (gssize) url.path.length);
  if (url.has_port)
    threatq_document_add_integer(document, THREATQ_ECS_INDICATOR_URL_PORT, url.port);
  if (url.query.text)
    threatq_document_add_string(document, THREATQ_ECS_INDICATOR_URL_QUERY, url.query.text, (gssize) url.query.length);
  if (url.scheme.text)
    threatq_document_add_string(document, THREATQ_ECS_INDICATOR_URL_SCHEME, url.scheme.text,
                                (gssize) url.scheme.length);
}

static void
_map_asn(ThreatqMapper *self, Mapping *mapping, const gchar *value, gsize length)
{
  const gchar *digits = value;
  gsize digits_length = length;
  guint64 number;

  if (digits_length >= 2 && g_ascii_strncasecmp(digits, "AS", 2) == 0)
    {
      digits += 2;
      digits_length -= 2;
    }
  if (threatq_number_parse_uint64(digits, digits_length, &number) && number <= G_MAXUINT32)
    threatq_document_add_integer(mapping->document, THREATQ_ECS_INDICATOR_AS_NUMBER, (gint64) number);
  else
    _add_error(self, mapping, "threat.indicator.as.number: not an AS number '%s'", _quote_value(self, value, length));
}

typedef enum
{
  TARGET_NONE,          /* threatq.indicator_value only */
  TARGET_FIELD,
  TARGET_IP,
  TARGET_HASH,
  TARGET_URL,
  TARGET_ASN,
  TARGET_CIDR,
} TypeTarget;

typedef struct _TypeRule
{
  const gchar *threatq_type;
  const gchar *indicator_type;
  TypeTarget target;
  ThreatqEcsField field;        /* where TARGET_FIELD, _IP and _HASH put the value */
} TypeRule;

static const TypeRule type_rules[] =
{
  { "IP Address", "ipv4-addr", TARGET_IP, THREATQ_ECS_INDICATOR_IP },
  { "IPv6 Address", "ipv6-addr", TARGET_IP, THREATQ_ECS_INDICATOR_IP },
  { "CIDR Block", NULL, TARGET_CIDR, THREATQ_ECS_NAMED },
  { "FQDN", "domain-name", TARGET_FIELD, THREATQ_ECS_INDICATOR_URL_DOMAIN },
  { "URL", "url", TARGET_URL, THREATQ_ECS_NAMED },
  { "URL Path", "url", TARGET_FIELD, THREATQ_ECS_INDICATOR_URL_PATH },
  { "Email Address", "email-addr", TARGET_FIELD, THREATQ_ECS_INDICATOR_EMAIL_ADDRESS },
  { "MD5", "file", TARGET_HASH, THREATQ_ECS_INDICATOR_FILE_HASH_MD5 },
  { "SHA-1", "file", TARGET_HASH, THREATQ_ECS_INDICATOR_FILE_HASH_SHA1 },
  { "SHA-256", "file", TARGET_HASH, THREATQ_ECS_INDICATOR_FILE_HASH_SHA256 },
  { "SHA-384", "file", TARGET_HASH, THREATQ_ECS_INDICATOR_FILE_HASH_SHA384 },
  { "SHA-512", "file", TARGET_HASH, THREATQ_ECS_INDICATOR_FILE_HASH_SHA512 },
  { "Filename", "file", TARGET_FIELD, THREATQ_ECS_INDICATOR_FILE_NAME },
  { "File Path", "file", TARGET_FIELD, THREATQ_ECS_INDICATOR_FILE_PATH },
  { "Mutex", "mutex", TARGET_NONE, THREATQ_ECS_NAMED },
  { "Registry Key", "windows-registry-key", TARGET_FIELD, THREATQ_ECS_INDICATOR_REGISTRY_KEY },
  { "ASN", "autonomous-system", TARGET_ASN, THREATQ_ECS_NAMED },
  { "MAC Address", "mac-addr", TARGET_NONE, THREATQ_ECS_NAMED },
  { "Username", "user-account", TARGET_NONE, THREATQ_ECS_NAMED },
  { "x509 Serial", "x509-certificate", TARGET_FIELD, THREATQ_ECS_INDICATOR_X509_SERIAL_NUMBER },
  { "x509 Subject", "x509-certificate", TARGET_FIELD, THREATQ_ECS_INDICATOR_X509_SUBJECT_DN },
  { "User-agent", "software", TARGET_NONE, THREATQ_ECS_NAMED },
};

static const TypeRule *
_find_type_rule(const gchar *type_name, gsize length)
{
  if (!type_name)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS(type_rules); i++)
    if (strlen(type_rules[i].threatq_type) == length && memcmp(type_rules[i].threatq_type, type_name, length) == 0)
      return &type_rules[i];
  return NULL;
}

/* the threat.indicator.* field holding the value (all but type) */
static void
_map_value(ThreatqMapper *self, Mapping *mapping, const TypeRule *rule, const gchar *value, gsize length)
{
  switch (rule->target)
    {
    case TARGET_FIELD:
    case TARGET_IP:
    case TARGET_HASH:
      threatq_document_add_string(mapping->document, rule->field, value, (gssize) length);
      break;
    case TARGET_URL:
      _map_url(self, mapping->document, value, length);
      break;
    case TARGET_ASN:
      _map_asn(self, mapping, value, length);
      break;
    case TARGET_NONE:
    case TARGET_CIDR:
      break;
    }
}

static void
_map_expiry(ThreatqMapper *self, Mapping *mapping)
{
  const gboolean *ok = mapping->date_ok;
  const gint64 *msec = mapping->date_msec;
  gint64 expired_at;
  const gchar *reason;

  if (ok[THREATQ_DATE_EXPIRED_AT])
    {
      expired_at = msec[THREATQ_DATE_EXPIRED_AT];
      reason = "Expiration set by ThreatQ from expired_at field";
    }
  else if (ok[THREATQ_DATE_EXPIRES_AT])
    {
      expired_at = msec[THREATQ_DATE_EXPIRES_AT];
      reason = "Expiration set by ThreatQ from expires_at field";
    }
  else if (!ok[THREATQ_DATE_UPDATED_AT])
    return;
  else if (_text_equals(self, &self->indicator->status_name, "Expired"))
    {
      expired_at = msec[THREATQ_DATE_UPDATED_AT];
      reason = "Expiration set because threatq.status is Expired";
    }
  else
    {
      expired_at = msec[THREATQ_DATE_UPDATED_AT] + self->options->ioc_expiration_seconds * 1000;
      reason = "Expiration set from ioc-expiration-duration";
    }
  threatq_document_add_string_ref(mapping->document, THREATQ_ECS_THREATQ_IOC_EXPIRATION_REASON, reason, -1);
  threatq_document_add_string_ref(mapping->document, THREATQ_ECS_THREATQ_IOC_EXPIRED_AT,
                                  _format_date(mapping->document, expired_at), -1);
}

/* the indicator's JSON as received, repaired, at most THREATQ_MAX_ORIGINAL_LENGTH bytes */
static void
_map_original(ThreatqMapper *self, Mapping *mapping)
{
  const ThreatqIndicator *indicator = self->indicator;
  gsize length = threatq_utf8_prefix(indicator->raw, indicator->raw_length, THREATQ_MAX_ORIGINAL_LENGTH);

  if (length < indicator->raw_length)
    _add_error(self, mapping, "event.original: the indicator's %" G_GSIZE_FORMAT " bytes cut to %" G_GSIZE_FORMAT,
               indicator->raw_length, length);
  if (g_utf8_validate_len(indicator->raw, length, NULL))
    {
      threatq_document_add_string(mapping->document, THREATQ_ECS_EVENT_ORIGINAL, indicator->raw, (gssize) length);
      return;
    }
  GString *repaired = g_string_sized_new(length + 16);
  threatq_utf8_append_valid(repaired, indicator->raw, length);
  threatq_document_add_string(mapping->document, THREATQ_ECS_EVENT_ORIGINAL, repaired->str,
                              (gssize) threatq_utf8_prefix(repaired->str, repaired->len, THREATQ_MAX_ORIGINAL_LENGTH));
  g_string_free(repaired, TRUE);
}

static void
_add_date_if(Mapping *mapping, ThreatqEcsField field, guint date)
{
  if (mapping->date_ok[date])
    threatq_document_add_string_ref(mapping->document, field, mapping->date_text[date], -1);
}

/* @timestamp, ecs, event */
static void
_map_event(ThreatqMapper *self, Mapping *mapping)
{
  ThreatqDocumentBuilder *document = mapping->document;

  if (mapping->date_ok[THREATQ_DATE_UPDATED_AT])
    {
      _add_date_if(mapping, THREATQ_ECS_TIMESTAMP, THREATQ_DATE_UPDATED_AT);
      mapping->timestamp = mapping->date_msec[THREATQ_DATE_UPDATED_AT] / 1000;
    }
  else
    {
      threatq_document_add_string_ref(document, THREATQ_ECS_TIMESTAMP, self->received_iso, -1);
      mapping->timestamp = self->received_msec / 1000;
    }
  ADD_LITERAL(document, THREATQ_ECS_ECS_VERSION, "8.3.0");
  ADD_LITERAL(document, THREATQ_ECS_EVENT_CATEGORY, "threat");
  threatq_document_add_string_ref(document, THREATQ_ECS_EVENT_CREATED, self->received_iso, -1);
  ADD_LITERAL(document, THREATQ_ECS_EVENT_DATASET, "ti_threatq.threat");
  ADD_LITERAL(document, THREATQ_ECS_EVENT_KIND, "enrichment");
  ADD_LITERAL(document, THREATQ_ECS_EVENT_MODULE, "ti_threatq");
  if (self->options->preserve_original)
    _map_original(self, mapping);
  ADD_LITERAL(document, THREATQ_ECS_EVENT_TYPE, "indicator");
}

/* related.*, tags */
static void
_map_related_and_tags(ThreatqMapper *self, Mapping *mapping)
{
  ThreatqDocumentBuilder *document = mapping->document;
  const TypeRule *rule = mapping->rule;
  gboolean value_is_hash = mapping->value && rule && rule->target == TARGET_HASH;

  if (mapping->hash || value_is_hash)
    {
      ThreatqList related_hash = threatq_document_add_list(document, THREATQ_ECS_RELATED_HASH);
      if (mapping->hash)
        threatq_document_append_item(document, related_hash, mapping->hash, (gssize) mapping->hash_length);
      if (value_is_hash)
        threatq_document_append_distinct_item(document, related_hash, mapping->value, (gssize) mapping->value_length);
    }
  if (mapping->value && rule && rule->target == TARGET_IP)
    threatq_document_append_item(document, threatq_document_add_list(document, THREATQ_ECS_RELATED_IP),
                                 mapping->value, (gssize) mapping->value_length);

  if (self->options->preserve_original || self->tags[0])
    {
      ThreatqList tags = threatq_document_add_list(document, THREATQ_ECS_TAGS);
      if (self->options->preserve_original)
        threatq_document_append_item_ref(document, tags, "preserve_original_event");
      for (const gchar **tag = self->tags; *tag; tag++)
        threatq_document_append_item_ref(document, tags, *tag);
    }
}

/* threat.* */
static void
_map_threat(ThreatqMapper *self, Mapping *mapping)
{
  ThreatqDocumentBuilder *document = mapping->document;
  const TypeRule *rule = mapping->rule;

  if (self->feed_name[0])
    threatq_document_add_string_ref(document, THREATQ_ECS_FEED_NAME, self->feed_name, -1);
  if (mapping->value && rule)
    _map_value(self, mapping, rule, mapping->value, mapping->value_length);
  if (mapping->score_state != SCORE_ABSENT)
    threatq_document_add_string_ref(document, THREATQ_ECS_INDICATOR_CONFIDENCE, _confidence(mapping), -1);
  _add_text(self, document, THREATQ_ECS_INDICATOR_DESCRIPTION, &self->indicator->description);
  _add_date_if(mapping, THREATQ_ECS_INDICATOR_FIRST_SEEN, THREATQ_DATE_CREATED_AT);
  _add_date_if(mapping, THREATQ_ECS_INDICATOR_LAST_SEEN, THREATQ_DATE_TOUCHED_AT);
  _map_tlp(self, document);
  _add_date_if(mapping, THREATQ_ECS_INDICATOR_MODIFIED_AT, THREATQ_DATE_UPDATED_AT);
  _map_providers(self, document);
  if (rule)
    {
      const gchar *indicator_type = rule->indicator_type;
      if (rule->target == TARGET_CIDR)
        indicator_type = mapping->value && memchr(mapping->value, ':', mapping->value_length) ? "ipv6-addr" : "ipv4-addr";
      threatq_document_add_string_ref(document, THREATQ_ECS_INDICATOR_TYPE, indicator_type, -1);
    }
}

/* threatq.* */
static void
_map_threatq(ThreatqMapper *self, Mapping *mapping)
{
  ThreatqDocumentBuilder *document = mapping->document;
  const ThreatqIndicator *indicator = self->indicator;

  _map_adversaries(self, document);
  _map_attributes(self, mapping);
  _add_text(self, document, THREATQ_ECS_THREATQ_CLASS, &indicator->klass);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_CREATED_AT, THREATQ_DATE_CREATED_AT);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_EXPIRED_AT, THREATQ_DATE_EXPIRED_AT);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_EXPIRES_AT, THREATQ_DATE_EXPIRES_AT);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_EXPIRES_CALCULATED_AT, THREATQ_DATE_EXPIRES_CALCULATED_AT);
  if (mapping->hash)
    threatq_document_add_string(document, THREATQ_ECS_THREATQ_HASH, mapping->hash, (gssize) mapping->hash_length);
  if (mapping->has_id)
    threatq_document_add_integer(document, THREATQ_ECS_THREATQ_ID, mapping->id);
  if (mapping->value)
    threatq_document_add_string(document, THREATQ_ECS_THREATQ_INDICATOR_VALUE, mapping->value,
                                (gssize) mapping->value_length);
  _map_expiry(self, mapping);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_PUBLISHED_AT, THREATQ_DATE_PUBLISHED_AT);
  if (mapping->score_state == SCORE_NUMBER && mapping->score.integral)
    threatq_document_add_integer(document, THREATQ_ECS_THREATQ_SCORE, mapping->score.integer);
  else if (mapping->score_state == SCORE_NUMBER)
    threatq_document_add_number(document, THREATQ_ECS_THREATQ_SCORE, mapping->score.decimal,
                                (gssize) mapping->score.decimal_length);
  _add_text(self, document, THREATQ_ECS_THREATQ_STATUS, &indicator->status_name);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_TOUCHED_AT, THREATQ_DATE_TOUCHED_AT);
  if (mapping->type_name)
    threatq_document_add_string(document, THREATQ_ECS_THREATQ_TYPE, mapping->type_name,
                                (gssize) mapping->type_length);
  _add_date_if(mapping, THREATQ_ECS_THREATQ_UPDATED_AT, THREATQ_DATE_UPDATED_AT);
}

/* Values are worked out first, then the fields added section by section, in (nearly) the order they sort in. */
ThreatqDocument *
threatq_mapper_map(ThreatqMapper *self, const ThreatqIndicator *indicator)
{
  Mapping mapping = { .document = self->builder, .errors = THREATQ_NO_LIST };

  self->indicator = indicator;
  threatq_document_begin(self->builder, self->arena);

  mapping.type_name = _text(self, &indicator->type_name, &mapping.type_length);
  mapping.value = _text(self, &indicator->value, &mapping.value_length);
  mapping.hash = _text(self, &indicator->hash, &mapping.hash_length);
  mapping.rule = _find_type_rule(mapping.type_name, mapping.type_length);

  _report_bounds(self, &mapping);
  _parse_dates(self, &mapping);
  _parse_id(self, &mapping);
  _parse_score(self, &mapping);

  _map_event(self, &mapping);
  _map_related_and_tags(self, &mapping);
  _map_threat(self, &mapping);
  _map_threatq(self, &mapping);
  return threatq_document_finish(self->builder, mapping.timestamp);
}
