/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for threatq-match-value: arbitrary bytes as a log value
 * and, with the first byte choosing a type, as an indicator value.  Besides
 * ASan/UBSan reports it aborts on a broken contract: a key longer than its
 * buffer, a kind out of range, a key that does not classify again to itself
 * (normalisation must be idempotent: the indicator side and the log side
 * meet on the normalised form; a scheme-less URL indicator's key through its
 * http:// form), an address key with host bits set, or a value with a NUL
 * that was classified all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threatq-match-value.h"

#define CHECK(cond) \
  do { if (!(cond)) { fprintf(stderr, "fuzz_match_value: check failed: %s\n", #cond); abort(); } } while (0)

static const gchar *types[] =
{
  "IP Address", "IPv6 Address", "CIDR Block", "FQDN", "URL", "Email Address",
  "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "Mutex",
};

static void
_check_key(const ThreatqMatchValue *value)
{
  const ThreatqMatchKey *key = &value->key;
  guint bits = threatq_match_kind_address_bits(key->kind);

  CHECK(key->kind > THREATQ_MATCH_KIND_NONE && key->kind < THREATQ_MATCH_KIND_COUNT);
  CHECK(key->bytes == value->buffer && key->length <= sizeof(value->buffer));
  CHECK(key->prefix_len <= bits);
  for (guint bit = key->prefix_len; bit < bits; bit++)
    CHECK(!(key->bytes[bit / 8] & (0x80u >> (bit % 8))));

  /* the formatted key of a full-length key classifies to the same key */
  if (bits && key->prefix_len != bits)
    return;
  GString *text = g_string_new(NULL);
  ThreatqMatchValue again;
  threatq_match_key_format(key, text);
  /* a scheme-less URL indicator's key reads back as the http:// URL it stands for, less "http:" */
  gboolean schemeless = key->kind == THREATQ_MATCH_KIND_URL && text->str[0] == '/';
  if (schemeless)
    g_string_prepend(text, "http:");
  /*
   * A URL's key can be longer than its value (a "/" for an empty path, "//" and "http:" for a
   * scheme-less one), and a log value past the bound is skipped by design: the key of a
   * value near the bound need not read back.
   */
  if (text->len > THREATQ_MATCH_VALUE_MAX)
    {
      CHECK(key->kind == THREATQ_MATCH_KIND_URL);
      CHECK(!threatq_match_value_classify(text->str, text->len, &again));
      g_string_free(text, TRUE);
      return;
    }
  if (schemeless)
    {
      CHECK(threatq_match_value_classify(text->str, text->len, &again));
      ThreatqMatchKey view;
      CHECK(threatq_match_key_schemeless(&again.key, &view));
      CHECK(view.length == key->length && memcmp(view.bytes, key->bytes, key->length) == 0);
      g_string_free(text, TRUE);
      return;
    }
  CHECK(threatq_match_value_classify(text->str, text->len, &again));
  CHECK(again.key.kind == key->kind && again.key.length == key->length);
  CHECK(memcmp(again.key.bytes, key->bytes, key->length) == 0);
  g_string_free(text, TRUE);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  ThreatqMatchValue value;

  /* no shape has a NUL in it: a value is all its bytes */
  if (threatq_match_value_classify((const gchar *) data, size, &value))
    {
      CHECK(!memchr(data, '\0', size));
      _check_key(&value);
    }
  else
    CHECK(value.key.kind == THREATQ_MATCH_KIND_NONE);

  if (size == 0)
    return 0;
  const gchar *type = types[data[0] % G_N_ELEMENTS(types)];
  guint type_index;
  if (threatq_match_value_from_indicator(type, strlen(type), (const gchar *) data + 1, size - 1, &value, &type_index))
    {
      CHECK(strcmp(threatq_match_type_name(type_index), type) == 0);
      CHECK(value.key.kind != THREATQ_MATCH_KIND_NONE);
      CHECK(!memchr(data + 1, '\0', size - 1));
      _check_key(&value);
    }
  return 0;
}
