/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The streaming page parser: yajl callbacks that keep one indicator (the
 * members docs/fields.md maps) in memory at a time, hand each complete one to
 * threatq-mapper-indicator.c, and check the page's shape.
 */
#include "threatq-mapper.h"
#include "threatq-mapper-indicator.h"
#include "threatq-json-events.h"
#include "threatq-number.h"

#include <string.h>
#include <yajl/yajl_parse.h>

G_DEFINE_QUARK(threatq-mapper-error-quark, threatq_mapper_error)

#define MAX_DURATION_SECONDS (G_GINT64_CONSTANT(10000) * 366 * 86400)
#define EXCERPT_LENGTH 60
/* the stop flag is read once per indicator and once per this many JSON tokens */
#define STOP_CHECK_TOKENS 4096

/* ------------------------------------------------------------------ */
/* parser state                                                        */

typedef enum
{
  KEY_NONE = 0,
  KEY_DATA,
  KEY_NEXT_CURSOR,
  KEY_TOTAL,
  KEY_ID,
  KEY_VALUE,
  KEY_TYPE,
  KEY_CLASS,
  KEY_HASH,
  KEY_SCORE,
  KEY_STATUS,
  KEY_DESCRIPTION,
  KEY_DATE,             /* + date index in Parser.date_key */
  KEY_SOURCES,
  KEY_ATTRIBUTES,
  KEY_ADVERSARIES,
  KEY_NAME,
  KEY_TLP_NAME,
  KEY_MANUAL_SCORE,
  KEY_GENERATED_SCORE,
} Key;

typedef enum
{
  FRAME_PAGE,           /* the page object */
  FRAME_DATA_OBJECT,    /* "data": {} - must stay empty */
  FRAME_DATA_ARRAY,
  FRAME_INDICATOR,
  FRAME_TYPE,
  FRAME_STATUS,
  FRAME_SOURCES,
  FRAME_SOURCE,
  FRAME_ATTRIBUTES,
  FRAME_ATTRIBUTE,
  FRAME_ADVERSARIES,
  FRAME_ADVERSARY,
  FRAME_SCORE,          /* "score": {"generated_score": ..., "manual_score": ...} */
} FrameType;

#define MAX_FRAMES 8

typedef struct
{
  yajl_handle handle;
  gboolean fast;                    /* threatq-json-events.c, not yajl, is calling back */
  gsize consumed;                   /* ... and says how far it has read */
  const gchar *input;
  gsize input_length;
  gboolean single;                  /* the input is one indicator, not a page */

  FrameType frames[MAX_FRAMES];
  guint depth;
  guint skip;                       /* nesting level inside an ignored value */
  Key key;
  guint date_key;
  gsize raw_start;                  /* where the current indicator's '{' is */

  ThreatqIndicator indicator;
  ThreatqMapper mapper;
  ThreatqDocumentFunc emit;
  gpointer emit_data;
  ThreatqDocument *single_document;

  ThreatqPageSummary *page;
  GError *error;                    /* a shape error found by a callback */

  /* bounds (docs/limits.md) */
  gsize max_value_length;
  guint max_members;
  guint max_indicators;
  const gint *stop;                 /* may be NULL */
  guint tokens;                     /* since the stop flag was last read */
} Parser;

/* ------------------------------------------------------------------ */
/* yajl callbacks                                                      */

/* the offset just past the token being called back for */
static gsize
_consumed(Parser *self)
{
  return self->fast ? self->consumed : yajl_get_bytes_consumed(self->handle);
}

static void
_begin_indicator(Parser *self)
{
  threatq_indicator_reset(&self->indicator);
  self->raw_start = _consumed(self) - 1;
}

static int
_shape_error(Parser *self, const gchar *problem)
{
  if (!self->error)
    g_set_error(&self->error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_SHAPE, "%s", problem);
  return 0;
}

static gboolean
_stop_requested(Parser *self)
{
  if (!self->stop || !g_atomic_int_get(self->stop))
    return FALSE;
  if (!self->error)
    g_set_error(&self->error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_STOPPED, "stopping");
  return TRUE;
}

/*
 * every token: FALSE (the parse ends) when the stop flag is raised, read every STOP_CHECK_TOKENS tokens
 * (those of skipped values included: the fast path adds them, at most THREATQ_JSON_SKIP_MAX_TOKENS for
 * one value, and the flag is read at the next token or member name)
 */
static inline gboolean
_count_token(Parser *self)
{
  if (G_LIKELY(++self->tokens < STOP_CHECK_TOKENS))
    return TRUE;
  self->tokens = 0;
  return !_stop_requested(self);
}

static gboolean
_push(Parser *self, FrameType frame)
{
  if (self->depth >= MAX_FRAMES)
    return FALSE;
  self->frames[self->depth++] = frame;
  return TRUE;
}

static ThreatqValue *
_indicator_slot(Parser *self, Key key)
{
  ThreatqIndicator *indicator = &self->indicator;

  switch (key)
    {
    case KEY_ID:
      return &indicator->id;
    case KEY_VALUE:
      return &indicator->value;
    case KEY_TYPE:
      return &indicator->type_name;    /* a plain string type, as well as type.name */
    case KEY_CLASS:
      return &indicator->klass;
    case KEY_HASH:
      return &indicator->hash;
    case KEY_SCORE:
      return &indicator->score;
    case KEY_STATUS:
      return &indicator->status_name;  /* a plain string status, as well as status.name */
    case KEY_DESCRIPTION:
      return &indicator->description;
    case KEY_DATE:
      return &indicator->dates[self->date_key];
    default:
      return NULL;
    }
}

/* where a scalar under key goes in the current frame; NULL when it is not kept */
static ThreatqValue *
_scalar_slot(Parser *self, Key key)
{
  switch (self->frames[self->depth - 1])
    {
    case FRAME_INDICATOR:
      return _indicator_slot(self, key);
    case FRAME_TYPE:
      return key == KEY_NAME ? &self->indicator.type_name : NULL;
    case FRAME_STATUS:
      return key == KEY_NAME ? &self->indicator.status_name : NULL;
    case FRAME_SOURCE:
      {
        GArray *sources = self->indicator.sources;
        ThreatqSource *source = &g_array_index(sources, ThreatqSource, sources->len - 1);
        if (key == KEY_NAME)
          return &source->name;
        if (key == KEY_TLP_NAME)
          return &source->tlp_name;
        return NULL;
      }
    case FRAME_ATTRIBUTE:
      {
        GArray *attributes = self->indicator.attributes;
        ThreatqAttribute *attribute = &g_array_index(attributes, ThreatqAttribute, attributes->len - 1);
        if (key == KEY_NAME)
          return &attribute->name;
        if (key == KEY_VALUE)
          return &attribute->value;
        return NULL;
      }
    case FRAME_ADVERSARY:
      if (key == KEY_NAME)
        return &g_array_index(self->indicator.adversaries, ThreatqValue, self->indicator.adversaries->len - 1);
      return NULL;
    case FRAME_SCORE:
      if (key == KEY_MANUAL_SCORE)
        return &self->indicator.manual_score;
      if (key == KEY_GENERATED_SCORE)
        return &self->indicator.generated_score;
      return NULL;
    default:
      return NULL;
    }
}

static int
_scalar(Parser *self, ThreatqValueKind kind, const gchar *text, gsize length)
{
  if (!_count_token(self))
    return 0;
  if (self->skip)
    return 1;
  if (self->depth == 0)
    return _shape_error(self, self->single ? "the indicator is not a JSON object"
                        : "the page is not a JSON object");

  Key key = self->key;
  self->key = KEY_NONE;
  switch (self->frames[self->depth - 1])
    {
    case FRAME_PAGE:
      if (key == KEY_DATA && kind != THREATQ_VALUE_ABSENT)
        return _shape_error(self, "the page's \"data\" is neither an array nor an object");
      if (key == KEY_NEXT_CURSOR && kind == THREATQ_VALUE_STRING)
        {
          GString *cursor = g_string_sized_new(length + 1);
          threatq_utf8_append_valid(cursor, text, length);
          g_free(self->page->next_cursor);
          self->page->next_cursor = g_string_free(cursor, FALSE);
        }
      if (key == KEY_TOTAL && kind == THREATQ_VALUE_NUMBER)
        self->page->has_total = threatq_number_parse_int64(text, length, &self->page->total);
      return 1;
    case FRAME_DATA_ARRAY:
      self->page->malformed_items++;
      return 1;
    default:
      break;
    }

  ThreatqValue *slot = _scalar_slot(self, key);
  if (!slot)
    return 1;
  if (kind == THREATQ_VALUE_ABSENT)
    slot->kind = THREATQ_VALUE_ABSENT;
  else
    threatq_indicator_store(&self->indicator, slot, kind, text, length, self->max_value_length);
  return 1;
}

static int
_on_null(void *ctx)
{
  return _scalar(ctx, THREATQ_VALUE_ABSENT, NULL, 0);
}

static int
_on_boolean(void *ctx, int value)
{
  return value ? _scalar(ctx, THREATQ_VALUE_BOOLEAN, "true", 4) : _scalar(ctx, THREATQ_VALUE_BOOLEAN, "false", 5);
}

static int
_on_number(void *ctx, const char *text, size_t length)
{
  return _scalar(ctx, THREATQ_VALUE_NUMBER, text, length);
}

static int
_on_string(void *ctx, const unsigned char *text, size_t length)
{
  return _scalar(ctx, THREATQ_VALUE_STRING, (const gchar *) text, length);
}

#define KEY_IS(literal) (length == sizeof(literal) - 1 && memcmp(text, literal, sizeof(literal) - 1) == 0)

/* not inlined: the key callback stays small for the other frames' keys */
static __attribute__((noinline)) Key
_indicator_key(Parser *self, const gchar *text, gsize length)
{
  switch (length)
    {
    case 2:
      return KEY_IS("id") ? KEY_ID : KEY_NONE;
    case 4:
      if (KEY_IS("type"))
        return KEY_TYPE;
      return KEY_IS("hash") ? KEY_HASH : KEY_NONE;
    case 5:
      if (KEY_IS("value"))
        return KEY_VALUE;
      if (KEY_IS("class"))
        return KEY_CLASS;
      return KEY_IS("score") ? KEY_SCORE : KEY_NONE;
    case 6:
      return KEY_IS("status") ? KEY_STATUS : KEY_NONE;
    case 7:
      return KEY_IS("sources") ? KEY_SOURCES : KEY_NONE;
    case 10:
    case 11:
    case 12:
    case 21:
      for (guint i = 0; i < THREATQ_DATE_COUNT; i++)
        {
          if (threatq_date_key_lengths[i] == length && memcmp(threatq_date_keys[i], text, length) == 0)
            {
              self->date_key = i;
              return KEY_DATE;
            }
        }
      if (KEY_IS("attributes"))
        return KEY_ATTRIBUTES;
      if (KEY_IS("description"))
        return KEY_DESCRIPTION;
      return KEY_IS("adversaries") ? KEY_ADVERSARIES : KEY_NONE;
    default:
      return KEY_NONE;
    }
}

/*
 * A member whose value is not kept: the fast path passes over it without
 * calling back (threatq-json-events.h).  What those callbacks would do here:
 * count tokens (the fast path adds them to self->tokens) and refuse a page
 * nested too deep (the fast path leaves such a page to yajl).
 */
G_STATIC_ASSERT(THREATQ_JSON_SKIP_MAX_DEPTH <= THREATQ_MAX_PAGE_DEPTH);

static int
_on_map_key(void *ctx, const unsigned char *key, size_t length)
{
  Parser *self = ctx;
  const gchar *text = (const gchar *) key;

  /* the fast path adds the tokens of skipped values: past the period, the flag is read between members too */
  if (G_UNLIKELY(self->tokens >= STOP_CHECK_TOKENS))
    {
      self->tokens = 0;
      if (_stop_requested(self))
        return 0;
    }
  if (self->skip)
    return THREATQ_JSON_SKIP_VALUE;

  switch (self->frames[self->depth - 1])
    {
    case FRAME_PAGE:
      self->key = KEY_IS("data") ? KEY_DATA : KEY_IS("nextCursorMark") ? KEY_NEXT_CURSOR
                  : KEY_IS("total") ? KEY_TOTAL : KEY_NONE;
      break;
    case FRAME_DATA_OBJECT:
      return _shape_error(self, "the page's \"data\" is a non-empty object, not an array");
    case FRAME_INDICATOR:
      self->key = _indicator_key(self, text, length);
      break;
    case FRAME_TYPE:
    case FRAME_STATUS:
    case FRAME_ADVERSARY:
      self->key = KEY_IS("name") ? KEY_NAME : KEY_NONE;
      break;
    case FRAME_SOURCE:
      self->key = KEY_IS("name") ? KEY_NAME : KEY_IS("tlp_name") ? KEY_TLP_NAME : KEY_NONE;
      break;
    case FRAME_ATTRIBUTE:
      self->key = KEY_IS("name") ? KEY_NAME : KEY_IS("value") ? KEY_VALUE : KEY_NONE;
      break;
    case FRAME_SCORE:
      self->key = KEY_IS("manual_score") ? KEY_MANUAL_SCORE : KEY_IS("generated_score") ? KEY_GENERATED_SCORE
                  : KEY_NONE;
      break;
    default:
      self->key = KEY_NONE;
      break;
    }
  return self->key == KEY_NONE ? THREATQ_JSON_SKIP_VALUE : 1;
}

/* a member of one of the indicator's lists, unless the list is full */
static int
_list_member(Parser *self, guint list, GArray *members, FrameType frame)
{
  if (members->len >= self->max_members)
    {
      self->indicator.dropped[list]++;
      self->skip = 1;
      return 1;
    }
  g_array_set_size(members, members->len + 1);
  return _push(self, frame);
}

static int
_indicator_start(Parser *self)
{
  if (self->page->documents >= self->max_indicators)
    {
      if (!self->error)
        g_set_error(&self->error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_SHAPE,
                    "the page holds more than %u indicators", self->max_indicators);
      return 0;
    }
  _begin_indicator(self);
  return _push(self, FRAME_INDICATOR);
}

static int
_skip(Parser *self)
{
  self->skip = 1;
  return 1;
}

/* an object or array as a member of the indicator: the frame it opens, or skipped */
static int
_indicator_container(Parser *self, Key key, gboolean is_map)
{
  if (is_map && key == KEY_TYPE)
    return _push(self, FRAME_TYPE);
  if (is_map && key == KEY_STATUS)
    return _push(self, FRAME_STATUS);
  if (!is_map && key == KEY_SOURCES)
    return _push(self, FRAME_SOURCES);
  if (!is_map && key == KEY_ATTRIBUTES)
    return _push(self, FRAME_ATTRIBUTES);
  if (!is_map && key == KEY_ADVERSARIES)
    return _push(self, FRAME_ADVERSARIES);
  if (is_map && key == KEY_SCORE)
    {
      /* the members are read into manual_score and generated_score */
      self->indicator.score.kind = THREATQ_VALUE_CONTAINER;
      return _push(self, FRAME_SCORE);
    }

  ThreatqValue *slot = _indicator_slot(self, key);
  if (slot && (key == KEY_ID || key == KEY_SCORE))
    slot->kind = THREATQ_VALUE_CONTAINER;
  return _skip(self);
}

/* the outermost value: the page, or in single mode the indicator */
static int
_root_container(Parser *self, gboolean is_map)
{
  if (!is_map)
    return _shape_error(self, self->single ? "the indicator is not a JSON object" : "the page is not a JSON object");
  if (!self->single)
    return _push(self, FRAME_PAGE);
  _begin_indicator(self);
  return _push(self, FRAME_INDICATOR);
}

static int
_container_start(Parser *self, gboolean is_map)
{
  if (!_count_token(self))
    return 0;
  /* yajl keeps a byte per level, the skipping here a counter: neither recurses, but no page is this deep */
  if (self->depth + self->skip >= THREATQ_MAX_PAGE_DEPTH)
    return _shape_error(self, "the page is nested deeper than " G_STRINGIFY(THREATQ_MAX_PAGE_DEPTH) " levels");
  if (self->skip)
    {
      self->skip++;
      return 1;
    }
  if (self->depth == 0)
    return _root_container(self, is_map);

  Key key = self->key;
  self->key = KEY_NONE;

  switch (self->frames[self->depth - 1])
    {
    case FRAME_PAGE:
      if (key != KEY_DATA)
        return _skip(self);
      return _push(self, is_map ? FRAME_DATA_OBJECT : FRAME_DATA_ARRAY);
    case FRAME_DATA_ARRAY:
      if (!is_map)
        {
          self->page->malformed_items++;
          return _skip(self);
        }
      return _indicator_start(self);
    case FRAME_INDICATOR:
      return _indicator_container(self, key, is_map);
    case FRAME_SOURCES:
      return is_map ? _list_member(self, THREATQ_LIST_SOURCES, self->indicator.sources, FRAME_SOURCE) : _skip(self);
    case FRAME_ATTRIBUTES:
      return is_map ? _list_member(self, THREATQ_LIST_ATTRIBUTES, self->indicator.attributes, FRAME_ATTRIBUTE)
             : _skip(self);
    case FRAME_ADVERSARIES:
      return is_map ? _list_member(self, THREATQ_LIST_ADVERSARIES, self->indicator.adversaries, FRAME_ADVERSARY)
             : _skip(self);
    default:
      return _skip(self);
    }
}

static int
_on_start_map(void *ctx)
{
  return _container_start(ctx, TRUE);
}

static int
_on_start_array(void *ctx)
{
  return _container_start(ctx, FALSE);
}

static int
_container_end(Parser *self)
{
  if (self->skip)
    {
      self->skip--;
      return 1;
    }

  self->key = KEY_NONE;
  FrameType frame = self->frames[--self->depth];
  if (frame != FRAME_INDICATOR)
    return 1;

  self->indicator.raw_length = _consumed(self) - self->raw_start;
  self->indicator.raw = self->input + self->raw_start;
  ThreatqDocument *document = threatq_mapper_map(&self->mapper, &self->indicator);
  if (self->single)
    {
      threatq_document_free(self->single_document);
      self->single_document = document;
      return 1;
    }
  self->page->documents++;
  self->emit(document, self->emit_data);
  return !_stop_requested(self);
}

static int
_on_end(void *ctx)
{
  return _container_end(ctx);
}

static const yajl_callbacks callbacks =
{
  .yajl_null = _on_null,
  .yajl_boolean = _on_boolean,
  .yajl_number = _on_number,
  .yajl_string = _on_string,
  .yajl_start_map = _on_start_map,
  .yajl_map_key = _on_map_key,
  .yajl_end_map = _on_end,
  .yajl_start_array = _on_start_array,
  .yajl_end_array = _on_end,
};

/* ------------------------------------------------------------------ */
/* driving the parser                                                  */

static void
_parser_init(Parser *self, const gchar *input, gsize length, const ThreatqMapperOptions *options,
             gint64 received_at, gboolean single, ThreatqPageSummary *page)
{
  memset(self, 0, sizeof(*self));
  self->input = input;
  self->input_length = length;
  self->single = single;
  self->page = page;
  self->max_indicators = options->max_indicators ? options->max_indicators : THREATQ_DEFAULT_MAX_INDICATORS;
  threatq_indicator_init(&self->indicator);
  /* one arena for the page: its documents are freed together, a page later */
  ThreatqArena *arena = threatq_arena_new();
  threatq_mapper_init(&self->mapper, options, received_at, arena);
  threatq_arena_unref(arena);
  self->max_value_length = self->mapper.max_value_length;
  self->max_members = self->mapper.max_members;
  self->handle = yajl_alloc(&callbacks, NULL, self);
  /* strings are repaired where they are stored (threatq_indicator_store) */
  yajl_config(self->handle, yajl_dont_validate_strings, 1);
}

static void
_parser_clear(Parser *self)
{
  yajl_free(self->handle);
  threatq_indicator_clear(&self->indicator);
  threatq_mapper_clear(&self->mapper);
  threatq_document_free(self->single_document);
  if (self->error)
    g_error_free(self->error);
}

/* Up to EXCERPT_LENGTH printable characters of the input around offset. */
static void
_excerpt(Parser *self, gsize offset, gchar excerpt[EXCERPT_LENGTH + 1])
{
  gsize start = offset > EXCERPT_LENGTH / 2 ? offset - EXCERPT_LENGTH / 2 : 0;
  gsize end = MIN(self->input_length, start + EXCERPT_LENGTH);
  gsize n = 0;

  for (gsize i = start; i < end; i++)
    {
      guchar c = (guchar) self->input[i];
      excerpt[n++] = c >= 0x20 && c < 0x7f && c != '\'' ? (gchar) c : '.';
    }
  excerpt[n] = '\0';
}

static void
_syntax_error(Parser *self, gsize offset, GError **error)
{
  unsigned char *message = yajl_get_error(self->handle, 0, (const unsigned char *) self->input, self->input_length);
  gchar *reason = g_strstrip(g_strdup((const gchar *) message));
  yajl_free_error(self->handle, message);

  const gchar *colon = strstr(reason, "error: ");
  const gchar *problem = colon ? colon + 7 : reason;
  gchar excerpt[EXCERPT_LENGTH + 1];

  if (offset > self->input_length)
    offset = self->input_length;
  _excerpt(self, offset, excerpt);
  g_set_error(error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_SYNTAX,
              "invalid JSON at byte %" G_GSIZE_FORMAT ": %s, near '%s'", offset, problem, excerpt);
  g_free(reason);
}

static gboolean
_run(Parser *self, GError **error)
{
  yajl_status status = yajl_parse(self->handle, (const unsigned char *) self->input, self->input_length);
  gsize offset = yajl_get_bytes_consumed(self->handle);

  if (status == yajl_status_ok)
    {
      status = yajl_complete_parse(self->handle);
      offset = self->input_length;        /* the only errors left are at the end */
    }
  if (status == yajl_status_ok)
    return TRUE;
  if (status == yajl_status_client_canceled && self->error)
    {
      g_propagate_error(error, self->error);
      self->error = NULL;
      return FALSE;
    }
  _syntax_error(self, offset, error);
  return FALSE;
}

/*
 * The fast path first (threatq-json-events.h); TRUE when it decided, with
 * *result and *error as _run() would have set them.
 */
static gboolean
_run_fast(Parser *self, gboolean *result, GError **error)
{
  self->fast = TRUE;
  ThreatqJsonResult fast = threatq_json_events_parse(self->input, self->input_length, &callbacks, self,
                                                     &self->consumed, &self->tokens);
  self->fast = FALSE;
  if (fast == THREATQ_JSON_OK)
    {
      *result = TRUE;
      return TRUE;
    }
  if (fast == THREATQ_JSON_CANCELLED && self->error)
    {
      g_propagate_error(error, self->error);
      self->error = NULL;
      *result = FALSE;
      return TRUE;
    }
  return FALSE;
}

static void
_hold_document(ThreatqDocument *document, gpointer user_data)
{
  g_ptr_array_add(user_data, document);
}

/* the documents the fast path made, handed on when it decided for the page, else dropped */
static void
_release_held(GPtrArray *held, gboolean hand_on, ThreatqDocumentFunc emit, gpointer user_data)
{
  for (guint i = 0; i < held->len; i++)
    {
      if (hand_on)
        emit(g_ptr_array_index(held, i), user_data);
      else
        threatq_document_free(g_ptr_array_index(held, i));
    }
  g_ptr_array_free(held, TRUE);
}

gboolean
threatq_mapper_parse_page(const gchar *body, gsize length, const ThreatqMapperOptions *options, gint64 received_at,
                          ThreatqDocumentFunc emit, gpointer user_data, const gint *stop, ThreatqPageSummary *page,
                          GError **error)
{
  Parser parser;
  gboolean result = FALSE;

  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  memset(page, 0, sizeof(*page));
  _parser_init(&parser, body, length, options, received_at, FALSE, page);
  GPtrArray *held = g_ptr_array_sized_new(1024);
  parser.emit = _hold_document;
  parser.emit_data = held;
  parser.stop = stop;
  gboolean decided = _run_fast(&parser, &result, error);
  _release_held(held, decided && result, emit, user_data);
  if (!decided)
    {
      /* yajl decides: from the start, with a fresh parser and summary */
      _parser_clear(&parser);
      threatq_page_summary_clear(page);
      _parser_init(&parser, body, length, options, received_at, FALSE, page);
      parser.emit = emit;
      parser.emit_data = user_data;
      parser.stop = stop;
      result = _run(&parser, error);
    }
  _parser_clear(&parser);
  return result;
}

void
threatq_page_summary_clear(ThreatqPageSummary *page)
{
  g_free(page->next_cursor);
  memset(page, 0, sizeof(*page));
}

ThreatqDocument *
threatq_mapper_map_json(const gchar *json, gsize length, const ThreatqMapperOptions *options,
                        gint64 received_at, GError **error)
{
  Parser parser;
  ThreatqDocument *document = NULL;

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  _parser_init(&parser, json, length, options, received_at, TRUE, NULL);
  gboolean result = FALSE;
  if (!_run_fast(&parser, &result, error))
    {
      _parser_clear(&parser);
      _parser_init(&parser, json, length, options, received_at, TRUE, NULL);
      result = _run(&parser, error);
    }
  if (result)
    {
      document = parser.single_document;
      parser.single_document = NULL;
      if (document)
        threatq_document_json(document);
      if (!document)
        g_set_error(error, THREATQ_MAPPER_ERROR, THREATQ_MAPPER_ERROR_SHAPE, "the indicator is not a JSON object");
    }
  _parser_clear(&parser);
  return document;
}

gboolean
threatq_parse_duration(const gchar *text, gint64 *seconds)
{
  gint64 unit;
  guint64 value;
  gsize length = text ? strlen(text) : 0;

  if (length < 2)
    return FALSE;
  switch (text[length - 1])
    {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    default:
      return FALSE;
    }
  if (!threatq_number_parse_uint64(text, length - 1, &value) || value > (guint64) (MAX_DURATION_SECONDS / unit))
    return FALSE;
  *seconds = (gint64) value * unit;
  return TRUE;
}
