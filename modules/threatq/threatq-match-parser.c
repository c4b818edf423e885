/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-parser.h"
#include "threatq-match-output.h"
#include "threatq-match-registry.h"
#include "threatq-source.h"
#include "threatq-compat.h"
#include "cfg-tree.h"
#include "template/templates.h"
#include "messages.h"

/* a per-thread buffer grown past this by one message is given back after it */
#define MAX_KEPT_BUFFER (64 * 1024)
#define INITIAL_VALUE_BUFFER 256
#define MAX_HITS (THREATQ_MATCH_PARSER_MAX_FIELDS * THREATQ_MATCH_PARSER_MAX_HITS_PER_FIELD)

typedef struct _ThreatqMatchParser
{
  LogParser super;
  gchar *source_name;
  gchar *field_names[THREATQ_MATCH_PARSER_MAX_FIELDS];   /* as written in fields() */
  LogTemplate *fields[THREATQ_MATCH_PARSER_MAX_FIELDS];
  NVHandle handles[THREATQ_MATCH_PARSER_MAX_FIELDS];    /* the value a field names alone, else LM_V_NONE */
  guint field_count;
  gboolean parent_domains;
  gchar *tag;
  gchar *hits_field;
  ThreatqMatchShared *shared;                          /* from init to deinit */
  ThreatqMatchOutput output;
} ThreatqMatchParser;

/*
 * One per worker thread, made the first time a message of the thread needs
 * it (a field formatted by its template, or a hit) and kept until the thread
 * ends: a message that is read in place and hits nothing does not look it up.
 */
typedef struct _ThreatqMatchScratch
{
  GString *values[THREATQ_MATCH_PARSER_MAX_FIELDS];
  guint fields_of_hits[MAX_HITS];
  const ThreatqMatchEntry *entries[MAX_HITS];
  ThreatqMatchOrigin origins[MAX_HITS];
  GString *text;
  GString *json;
} ThreatqMatchScratch;

/* one message's fields while they are classified and looked up: on the stack of process() */
typedef struct _ThreatqMatchLine
{
  ThreatqMatchValue value;
  const gchar *texts[THREATQ_MATCH_PARSER_MAX_FIELDS];   /* each field's value: in the message or in scratch */
  gssize lengths[THREATQ_MATCH_PARSER_MAX_FIELDS];
  const ThreatqMatchEntry *found[THREATQ_MATCH_PARSER_MAX_HITS_PER_FIELD];
  ThreatqMatchScratch *scratch;                         /* NULL until _line_scratch() */
} ThreatqMatchLine;

static void
_scratch_free(gpointer p)
{
  ThreatqMatchScratch *scratch = p;

  for (guint i = 0; i < THREATQ_MATCH_PARSER_MAX_FIELDS; i++)
    g_string_free(scratch->values[i], TRUE);
  g_string_free(scratch->text, TRUE);
  g_string_free(scratch->json, TRUE);
  g_free(scratch);
}

static GPrivate scratch_key = G_PRIVATE_INIT(_scratch_free);

static ThreatqMatchScratch *
_scratch_of_thread(void)
{
  ThreatqMatchScratch *scratch = g_private_get(&scratch_key);

  if (G_LIKELY(scratch))
    return scratch;
  scratch = g_new0(ThreatqMatchScratch, 1);
  for (guint i = 0; i < THREATQ_MATCH_PARSER_MAX_FIELDS; i++)
    scratch->values[i] = g_string_sized_new(INITIAL_VALUE_BUFFER);
  scratch->text = g_string_sized_new(INITIAL_VALUE_BUFFER);
  scratch->json = g_string_sized_new(INITIAL_VALUE_BUFFER);
  g_private_set(&scratch_key, scratch);
  return scratch;
}

static ThreatqMatchScratch *
_line_scratch(ThreatqMatchLine *line)
{
  if (!line->scratch)
    line->scratch = _scratch_of_thread();
  return line->scratch;
}

static void
_trim_buffer(GString **buffer)
{
  if (G_UNLIKELY((*buffer)->allocated_len > MAX_KEPT_BUFFER))
    {
      g_string_free(*buffer, TRUE);
      *buffer = g_string_sized_new(INITIAL_VALUE_BUFFER);
    }
}

static void
_trim_scratch(ThreatqMatchScratch *scratch, guint field_count)
{
  for (guint i = 0; i < field_count; i++)
    _trim_buffer(&scratch->values[i]);
  _trim_buffer(&scratch->text);
  _trim_buffer(&scratch->json);
}

/* ---- matching --------------------------------------------------------- */

/*
 * Every field's value before the read section, so that it stays short.  A
 * field that names one name-value pair ("${kv.obs}"; a macro such as
 * ${SOURCEIP} is not one) is read in place from the message, without
 * formatting a copy: that was a sixth of the parser's instructions a line.  The message is not changed before
 * _pin_hits(), so the pointers hold until then.
 */
static void
_read_fields(ThreatqMatchParser *self, LogMessage *msg, ThreatqMatchLine *line)
{
  /* designated: 4.x has more members than 3.38 (escape) */
  LogTemplateEvalOptions options =
  {
    .opts = &self->super.super.cfg->template_options, .tz = LTZ_LOCAL, .context_id_type = LM_VT_STRING
  };

  for (guint i = 0; i < self->field_count; i++)
    {
      if (self->handles[i] != LM_V_NONE)
        {
          line->texts[i] = log_msg_get_value(msg, self->handles[i], &line->lengths[i]);
          continue;
        }
      GString *value = _line_scratch(line)->values[i];
      log_template_format(self->fields[i], msg, &options, value);
      line->texts[i] = value->str;
      line->lengths[i] = (gssize) value->len;
    }
}

/* the values of the hits copied out of the message, which the output is about to change */
static void
_pin_hits(ThreatqMatchScratch *scratch, gsize count)
{
  for (gsize j = 0; j < count; j++)
    {
      GString *copy = scratch->values[scratch->fields_of_hits[j]];
      if (scratch->origins[j].atomic != copy->str)
        {
          g_string_truncate(copy, 0);
          g_string_append_len(copy, scratch->origins[j].atomic, (gssize) scratch->origins[j].atomic_length);
        }
      scratch->origins[j].atomic = copy->str;
    }
}

/* field i's found hits after the count before them, with where they came from */
static void
_keep_hits(ThreatqMatchParser *self, ThreatqMatchLine *line, guint i, gsize count, gsize found)
{
  ThreatqMatchScratch *scratch = _line_scratch(line);

  for (gsize j = 0; j < found; j++)
    {
      scratch->entries[count + j] = line->found[j];
      scratch->origins[count + j] = (ThreatqMatchOrigin)
      {
        .field = self->field_names[i], .atomic = line->texts[i], .atomic_length = (gsize) line->lengths[i]
      };
      scratch->fields_of_hits[count + j] = i;
    }
}

/*
 * The hits of every field, in field order, into the line's scratch.  The
 * read section begins at the first value that has a shape (*token), so a
 * message whose fields are all empty or shapeless costs no read-side
 * atomics; the caller ends it.
 */
static gsize
_collect(ThreatqMatchParser *self, ThreatqMatchSet *set, ThreatqMatchLine *line, gboolean *reading, guint *token)
{
  gsize count = 0;

  for (guint i = 0; i < self->field_count; i++)
    {
      gsize length = (gsize) MAX(line->lengths[i], 0);

      if (length == 0 || length > THREATQ_MATCH_VALUE_MAX
          || !threatq_match_value_classify(line->texts[i], length, &line->value))
        continue;
      if (!*reading)
        {
          *token = threatq_match_set_read_begin(set);
          *reading = TRUE;
        }
      gsize found = threatq_match_set_lookup(set, &line->value.key, THREATQ_MATCH_SET_CLOCK, self->parent_domains,
                                             line->found, THREATQ_MATCH_PARSER_MAX_HITS_PER_FIELD);
      if (found)
        _keep_hits(self, line, i, count, found);
      count += found;
    }
  return count;
}

/* best first, by threatq_match_best_hit()'s order (a few hits: a selection sort is enough) */
static void
_order(ThreatqMatchScratch *scratch, gsize count)
{
  for (gsize i = 0; i + 1 < count; i++)
    {
      const ThreatqMatchEntry *best = threatq_match_best_hit(&scratch->entries[i], count - i);
      gsize at = i;

      while (scratch->entries[at] != best)
        at++;
      const ThreatqMatchEntry *entry = scratch->entries[i];
      ThreatqMatchOrigin origin = scratch->origins[i];
      guint field = scratch->fields_of_hits[i];
      scratch->entries[i] = scratch->entries[at];
      scratch->origins[i] = scratch->origins[at];
      scratch->fields_of_hits[i] = scratch->fields_of_hits[at];
      scratch->entries[at] = entry;
      scratch->origins[at] = origin;
      scratch->fields_of_hits[at] = field;
    }
}

static void
_match(ThreatqMatchParser *self, LogMessage **pmsg, const LogPathOptions *path_options)
{
  ThreatqMatchSet *set = threatq_match_shared_get_set(self->shared);

  if (!set)
    return;

  ThreatqMatchLine line;
  line.scratch = NULL;
  _read_fields(self, *pmsg, &line);

  gboolean reading = FALSE;
  guint token = 0;
  gsize count = _collect(self, set, &line, &reading, &token);
  if (count)
    {
      ThreatqMatchScratch *scratch = line.scratch;
      _order(scratch, count);
      _pin_hits(scratch, count);
      LogMessage *msg = log_msg_make_writable(pmsg, path_options);
      threatq_match_output_write(&self->output, msg, scratch->entries, scratch->origins, count,
                                 scratch->text, scratch->json);
    }
  if (reading)
    threatq_match_set_read_end(set, token);
  if (line.scratch)
    _trim_scratch(line.scratch, self->field_count);
}

static gboolean
_process(LogParser *s, LogMessage **pmsg, const LogPathOptions *path_options, const gchar *input, gsize input_len)
{
  _match((ThreatqMatchParser *) s, pmsg, path_options);
  return TRUE;
}

/*
 * The pipe's queue in place of LogParser's, which takes a reference on the
 * payload and reads $MESSAGE for process(): this parser reads neither, and
 * it never drops a message.  That was a tenth of the stage's cost a line.
 */
static void
_queue(LogPipe *s, LogMessage *msg, const LogPathOptions *path_options)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  msg_trace(">>>>>> parser rule evaluation begin", evt_tag_str("rule", self->super.name),
            log_pipe_location_tag(s), evt_tag_msg_reference(msg));
  _match(self, &msg, path_options);
  threatq_compat_parser_processed(&self->super);
  msg_trace("<<<<<< parser rule evaluation result", evt_tag_str("result", "accepted"),
            evt_tag_str("rule", self->super.name), log_pipe_location_tag(s), evt_tag_msg_reference(msg));
  log_pipe_forward_msg(s, msg, path_options);
}

/* ---- source() --------------------------------------------------------- */

static gboolean
_has_threatq_driver(LogExprNode *node)
{
  for (; node; node = node->next)
    {
      if (node->layout == ENL_SINGLE && node->object && threatq_sd_is_threatq((LogPipe *) node->object))
        return TRUE;
      if (_has_threatq_driver(node->children))
        return TRUE;
    }
  return FALSE;
}

static gboolean
_check_source(ThreatqMatchParser *self)
{
  GlobalConfig *cfg = log_pipe_get_config(&self->super.super);
  LogExprNode *source = cfg_tree_get_object(&cfg->tree, ENC_SOURCE, self->source_name);

  if (!source)
    {
      msg_error("threatq-match(): source() names no source of this configuration",
                evt_tag_str("parser", "threatq-match"), evt_tag_str("source", self->source_name),
                log_pipe_location_tag(&self->super.super));
      return FALSE;
    }
  if (!_has_threatq_driver(source->children))
    {
      msg_error("threatq-match(): source() names a source without a threatq() driver",
                evt_tag_str("parser", "threatq-match"), evt_tag_str("source", self->source_name),
                log_pipe_location_tag(&self->super.super));
      return FALSE;
    }
  return TRUE;
}

/* ---- lifecycle -------------------------------------------------------- */

static gboolean
_init(LogPipe *s)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  if (!_check_source(self))
    return FALSE;
  if (!self->shared)
    self->shared = threatq_match_registry_acquire(self->source_name);
  threatq_match_shared_want(self->shared);
  threatq_match_output_init(&self->output, self->tag, self->hits_field);
  return log_parser_init_method(s);
}

static gboolean
_deinit(LogPipe *s)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  if (self->shared)
    {
      threatq_match_shared_unref(self->shared);
      self->shared = NULL;
    }
  return log_parser_deinit_method(s);
}

static LogPipe *
_clone(LogPipe *s)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;
  ThreatqMatchParser *cloned = (ThreatqMatchParser *) threatq_match_parser_new(log_pipe_get_config(s));

  threatq_compat_parser_clone_settings(&self->super, &cloned->super);
  threatq_match_parser_set_source(&cloned->super, self->source_name);
  for (guint i = 0; i < self->field_count; i++)
    {
      cloned->field_names[i] = g_strdup(self->field_names[i]);
      cloned->fields[i] = log_template_ref(self->fields[i]);
      cloned->handles[i] = self->handles[i];
    }
  cloned->field_count = self->field_count;
  cloned->parent_domains = self->parent_domains;
  threatq_match_parser_set_tag(&cloned->super, self->tag);
  threatq_match_parser_set_hits_field(&cloned->super, self->hits_field);
  return &cloned->super.super;
}

static void
_free(LogPipe *s)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  if (self->shared)
    threatq_match_shared_unref(self->shared);
  for (guint i = 0; i < self->field_count; i++)
    {
      g_free(self->field_names[i]);
      log_template_unref(self->fields[i]);
    }
  g_free(self->source_name);
  g_free(self->tag);
  g_free(self->hits_field);
  log_parser_free_method(s);
}

/* ---- options ---------------------------------------------------------- */

void
threatq_match_parser_set_source(LogParser *s, const gchar *source_name)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  g_free(self->source_name);
  self->source_name = g_strdup(source_name);
}

gboolean
threatq_match_parser_add_field(LogParser *s, const gchar *template_text, GError **error)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  if (self->field_count >= THREATQ_MATCH_PARSER_MAX_FIELDS)
    {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "threatq-match(): at most %d fields() per parser", THREATQ_MATCH_PARSER_MAX_FIELDS);
      return FALSE;
    }
  LogTemplate *template = log_template_new(log_pipe_get_config(&s->super), NULL);
  if (!log_template_compile(template, template_text, error))
    {
      log_template_unref(template);
      return FALSE;
    }
  self->fields[self->field_count] = template;
  /* read in place by its handle: the template layer around it cost half of the read */
  if (log_template_is_trivial(template))
    self->handles[self->field_count] = log_template_get_trivial_value_handle(template);
  self->field_names[self->field_count] = g_strdup(template_text);
  self->field_count++;
  return TRUE;
}

void
threatq_match_parser_set_parent_domains(LogParser *s, gboolean parent_domains)
{
  ((ThreatqMatchParser *) s)->parent_domains = parent_domains;
}

void
threatq_match_parser_set_tag(LogParser *s, const gchar *tag)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  g_free(self->tag);
  self->tag = g_strdup(tag);
}

void
threatq_match_parser_set_hits_field(LogParser *s, const gchar *hits_field)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  g_free(self->hits_field);
  self->hits_field = g_strdup(hits_field);
}

const gchar *
threatq_match_parser_missing_required_option(LogParser *s)
{
  ThreatqMatchParser *self = (ThreatqMatchParser *) s;

  if (!self->source_name)
    return "source";
  if (self->field_count == 0)
    return "fields";
  return NULL;
}

LogParser *
threatq_match_parser_new(GlobalConfig *cfg)
{
  ThreatqMatchParser *self = g_new0(ThreatqMatchParser, 1);

  log_parser_init_instance(&self->super, cfg);
  self->super.super.init = _init;
  self->super.super.deinit = _deinit;
  self->super.super.clone = _clone;
  self->super.super.free_fn = _free;
  self->super.super.queue = _queue;
  self->super.process = _process;
  self->tag = g_strdup(THREATQ_MATCH_PARSER_DEFAULT_TAG);
  self->hits_field = g_strdup(THREATQ_MATCH_PARSER_DEFAULT_HITS_FIELD);
  return &self->super;
}
