/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * threatq-match-value: the shape of a log value and of an indicator value,
 * and the normalised key both are matched by (shown as threatq_match_key_format()).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include <arpa/inet.h>

#include "threatq-match-value.h"

/* arrays, not pointers: Criterion runs each case in a process of its own, at other addresses */
typedef struct
{
  gchar input[192];
  ThreatqMatchKind kind;      /* NONE: not classified */
  gchar key[192];             /* the formatted key */
} ClassifyCase;

static gchar *
_format(const ThreatqMatchKey *key)
{
  GString *out = g_string_new(NULL);
  threatq_match_key_format(key, out);
  return g_string_free(out, FALSE);
}

static void
_check(const gchar *what, gboolean ok, const ThreatqMatchValue *value, ThreatqMatchKind kind, const gchar *key)
{
  if (kind == THREATQ_MATCH_KIND_NONE)
    {
      cr_assert_not(ok, "'%s' should not classify", what);
      cr_assert_eq(value->key.kind, THREATQ_MATCH_KIND_NONE);
      return;
    }
  cr_assert(ok, "'%s' should classify", what);
  cr_assert_eq(value->key.kind, kind, "'%s': kind %d, expected %d", what, value->key.kind, kind);
  gchar *formatted = _format(&value->key);
  cr_assert_str_eq(formatted, key, "'%s'", what);
  g_free(formatted);
}

static const ClassifyCase log_cases[] =
{
  /* addresses */
  { "10.1.2.3", THREATQ_MATCH_KIND_IPV4, "10.1.2.3" },
  { " 10.1.2.3\t", THREATQ_MATCH_KIND_IPV4, "10.1.2.3" },
  { "255.255.255.255", THREATQ_MATCH_KIND_IPV4, "255.255.255.255" },
  { "256.1.1.1", THREATQ_MATCH_KIND_NONE, "" },
  { "010.1.1.1", THREATQ_MATCH_KIND_NONE, "" },
  { "1.2.3", THREATQ_MATCH_KIND_NONE, "" },
  { "1.2.3.4.5", THREATQ_MATCH_KIND_NONE, "" },
  { "2001:DB8::1", THREATQ_MATCH_KIND_IPV6, "2001:db8::1" },
  { "2001:0db8:0000:0000:0000:0000:0000:0001", THREATQ_MATCH_KIND_IPV6, "2001:db8::1" },
  { "[2001:db8::1]", THREATQ_MATCH_KIND_IPV6, "2001:db8::1" },
  { "fe80::1%eth0", THREATQ_MATCH_KIND_IPV6, "fe80::1" },
  { "fe80::1%", THREATQ_MATCH_KIND_NONE, "" },
  { "fe80::1%eth 0", THREATQ_MATCH_KIND_NONE, "" },
  { "::ffff:192.0.2.1", THREATQ_MATCH_KIND_IPV4, "192.0.2.1" },
  { "::FFFF:c000:0201", THREATQ_MATCH_KIND_IPV4, "192.0.2.1" },
  { "2001:db8::1::2", THREATQ_MATCH_KIND_NONE, "" },
  { "10.0.0.0/8", THREATQ_MATCH_KIND_NONE, "" },
  /* hashes */
  { "D41D8CD98F00B204E9800998ECF8427E", THREATQ_MATCH_KIND_MD5, "d41d8cd98f00b204e9800998ecf8427e" },
  { "da39a3ee5e6b4b0d3255bfef95601890afd80709", THREATQ_MATCH_KIND_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
  { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", THREATQ_MATCH_KIND_SHA256,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    THREATQ_MATCH_KIND_SHA384,
    "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b" },
  { "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E",
    THREATQ_MATCH_KIND_SHA512,
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
  { "12345678901234567890123456789012", THREATQ_MATCH_KIND_MD5, "12345678901234567890123456789012" },
  { "d41d8cd98f00b204e9800998ecf8427", THREATQ_MATCH_KIND_NONE, "" },
  { "1234567890", THREATQ_MATCH_KIND_NONE, "" },
  { "g41d8cd98f00b204e9800998ecf8427e", THREATQ_MATCH_KIND_NONE, "" },
  { "d41d8cd98f00b204e9800998ecf8427G", THREATQ_MATCH_KIND_NONE, "" },
  { "d41d8cd98f00b204e98009" "\xe9" "8ecf8427e", THREATQ_MATCH_KIND_NONE, "" },
  { "da39a3ee5e6b4b0d3255bfef95601890afd807:9", THREATQ_MATCH_KIND_NONE, "" },
  /* e-mail */
  { "Alice.Smith+tag@Example.COM", THREATQ_MATCH_KIND_EMAIL, "alice.smith+tag@example.com" },
  { "bob@mail.example.org.", THREATQ_MATCH_KIND_EMAIL, "bob@mail.example.org" },
  { "bob@localhost", THREATQ_MATCH_KIND_NONE, "" },
  { "a@b@example.com", THREATQ_MATCH_KIND_NONE, "" },
  { ".bob@example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "bo..b@example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "bob smith@example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "@example.com", THREATQ_MATCH_KIND_NONE, "" },
  /* URLs */
  { "HTTP://Evil.Example.COM:80/Path?Q=1#frag", THREATQ_MATCH_KIND_URL, "http://evil.example.com/Path?Q=1" },
  { "https://evil.example.com:443", THREATQ_MATCH_KIND_URL, "https://evil.example.com/" },
  { "https://evil.example.com:8443/a", THREATQ_MATCH_KIND_URL, "https://evil.example.com:8443/a" },
  { "http://evil.example.com:0080/a", THREATQ_MATCH_KIND_URL, "http://evil.example.com/a" },
  { "http://evil.example.com:/a", THREATQ_MATCH_KIND_URL, "http://evil.example.com/a" },
  { "http://evil.example.com.:443/a", THREATQ_MATCH_KIND_URL, "http://evil.example.com:443/a" },
  { "https://evil.example.com:80/a", THREATQ_MATCH_KIND_URL, "https://evil.example.com:80/a" },
  { "http://User:Pw@Evil.example.com/", THREATQ_MATCH_KIND_URL, "http://User:Pw@evil.example.com/" },
  { "http://[2001:DB8::1]:80/x", THREATQ_MATCH_KIND_URL, "http://[2001:db8::1]/x" },
  { "http://evil.example.com?x=1", THREATQ_MATCH_KIND_URL, "http://evil.example.com/?x=1" },
  { "ftp://files.example.com:21/f", THREATQ_MATCH_KIND_URL, "ftp://files.example.com:21/f" },
  { "http://evil.example.com:99999/", THREATQ_MATCH_KIND_NONE, "" },
  { "http:///path", THREATQ_MATCH_KIND_NONE, "" },
  { "http://evil.example.com/a b", THREATQ_MATCH_KIND_NONE, "" },
  { "1http://evil.example.com/", THREATQ_MATCH_KIND_NONE, "" },
  { "http://[::1/", THREATQ_MATCH_KIND_NONE, "" },
  /* host names */
  { "WWW.Example.COM.", THREATQ_MATCH_KIND_HOSTNAME, "www.example.com" },
  { "_dmarc.example.com", THREATQ_MATCH_KIND_HOSTNAME, "_dmarc.example.com" },
  { "xn--bcher-kva.example", THREATQ_MATCH_KIND_HOSTNAME, "xn--bcher-kva.example" },
  { "localhost", THREATQ_MATCH_KIND_NONE, "" },
  { "-bad.example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "bad-.example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "a..example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "example.123", THREATQ_MATCH_KIND_NONE, "" },
  { "b\xc3\xbc" "cher.example", THREATQ_MATCH_KIND_NONE, "" },
  { "Login failed for user admin", THREATQ_MATCH_KIND_NONE, "" },
  { "", THREATQ_MATCH_KIND_NONE, "" },
  { "   ", THREATQ_MATCH_KIND_NONE, "" },
};

ParameterizedTestParameters(match_value, classify)
{
  return cr_make_param_array(ClassifyCase, log_cases, G_N_ELEMENTS(log_cases));
}

ParameterizedTest(const ClassifyCase *c, match_value, classify)
{
  ThreatqMatchValue value;
  gboolean ok = threatq_match_value_classify(c->input, strlen(c->input), &value);
  _check(c->input, ok, &value, c->kind, c->key);
}

typedef struct
{
  gchar type[24];
  gchar input[80];
  ThreatqMatchKind kind;
  gchar key[80];
} IndicatorCase;

static const IndicatorCase indicator_cases[] =
{
  { "IP Address", "192.0.2.1", THREATQ_MATCH_KIND_IPV4, "192.0.2.1" },
  { "IP Address", "2001:db8::1", THREATQ_MATCH_KIND_IPV6, "2001:db8::1" },
  { "IPv6 Address", "::ffff:192.0.2.1", THREATQ_MATCH_KIND_IPV4, "192.0.2.1" },
  { "IP Address", "evil.example.com", THREATQ_MATCH_KIND_NONE, "" },
  { "CIDR Block", "10.1.2.3/8", THREATQ_MATCH_KIND_IPV4, "10.0.0.0/8" },
  { "CIDR Block", "10.1.2.3/32", THREATQ_MATCH_KIND_IPV4, "10.1.2.3" },
  { "CIDR Block", "10.1.2.3", THREATQ_MATCH_KIND_IPV4, "10.1.2.3" },
  { "CIDR Block", "0.0.0.0/0", THREATQ_MATCH_KIND_IPV4, "0.0.0.0/0" },
  { "CIDR Block", "2001:DB8:FFFF::/33", THREATQ_MATCH_KIND_IPV6, "2001:db8:8000::/33" },
  { "CIDR Block", "::ffff:10.0.0.0/104", THREATQ_MATCH_KIND_IPV4, "10.0.0.0/8" },
  { "CIDR Block", "::ffff:10.0.0.0/95", THREATQ_MATCH_KIND_NONE, "" },
  { "CIDR Block", "10.0.0.0/33", THREATQ_MATCH_KIND_NONE, "" },
  { "CIDR Block", "10.0.0.0/", THREATQ_MATCH_KIND_NONE, "" },
  { "CIDR Block", "10.0.0.0/1234", THREATQ_MATCH_KIND_NONE, "" },
  { "CIDR Block", "10.0.0.0/x", THREATQ_MATCH_KIND_NONE, "" },
  { "FQDN", "Evil.Example.COM.", THREATQ_MATCH_KIND_HOSTNAME, "evil.example.com" },
  { "FQDN", "192.0.2.1", THREATQ_MATCH_KIND_NONE, "" },
  { "URL", "HTTPS://Evil.example.com:443/Login", THREATQ_MATCH_KIND_URL, "https://evil.example.com/Login" },
  { "URL", "Evil.example.com/Login?a=B", THREATQ_MATCH_KIND_URL, "//evil.example.com/Login?a=B" },
  { "URL", "evil.example.com", THREATQ_MATCH_KIND_URL, "//evil.example.com/" },
  { "URL", "89.160.20.156:8080/maf.html", THREATQ_MATCH_KIND_URL, "//89.160.20.156:8080/maf.html" },
  { "URL", "evil.example.com:80/x#top", THREATQ_MATCH_KIND_URL, "//evil.example.com/x" },
  { "Email Address", "Phish@Evil.Example.com", THREATQ_MATCH_KIND_EMAIL, "phish@evil.example.com" },
  { "MD5", "D41D8CD98F00B204E9800998ECF8427E", THREATQ_MATCH_KIND_MD5, "d41d8cd98f00b204e9800998ecf8427e" },
  { "MD5", "da39a3ee5e6b4b0d3255bfef95601890afd80709", THREATQ_MATCH_KIND_NONE, "" },
  { "SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", THREATQ_MATCH_KIND_SHA1,
    "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
  { "SHA-256", "d41d8cd98f00b204e9800998ecf8427e", THREATQ_MATCH_KIND_NONE, "" },
  { "Mutex", "Global\\evil", THREATQ_MATCH_KIND_NONE, "" },
  { "ASN", "AS64496", THREATQ_MATCH_KIND_NONE, "" },
  { "fqdn", "evil.example.com", THREATQ_MATCH_KIND_NONE, "" },
};

ParameterizedTestParameters(match_value, from_indicator)
{
  return cr_make_param_array(IndicatorCase, indicator_cases, G_N_ELEMENTS(indicator_cases));
}

ParameterizedTest(const IndicatorCase *c, match_value, from_indicator)
{
  ThreatqMatchValue value;
  guint type_index = G_MAXUINT;
  gboolean ok = threatq_match_value_from_indicator(c->type, strlen(c->type), c->input, strlen(c->input), &value,
                                                   &type_index);
  _check(c->input, ok, &value, c->kind, c->key);
  if (ok)
    cr_assert_str_eq(threatq_match_type_name(type_index), c->type);
}

/* what a log writes and what ThreatQ writes for the same thing end as one key */
Test(match_value, both_sides_agree)
{
  const gchar *pairs[][3] =
  {
    { "IP Address", "192.0.2.1", "::FFFF:192.0.2.1" },
    { "FQDN", "evil.example.com", "EVIL.example.com." },
    { "URL", "http://evil.example.com/x", "HTTP://EVIL.EXAMPLE.COM:80/x#top" },

    { "Email Address", "phish@evil.example.com", "PHISH@Evil.Example.Com" },
    { "SHA-256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(pairs); i++)
    {
      ThreatqMatchValue indicator, log;
      cr_assert(threatq_match_value_from_indicator(pairs[i][0], strlen(pairs[i][0]), pairs[i][1],
                                                   strlen(pairs[i][1]), &indicator, NULL));
      cr_assert(threatq_match_value_classify(pairs[i][2], strlen(pairs[i][2]), &log));
      cr_assert_eq(indicator.key.kind, log.key.kind, "%s", pairs[i][2]);
      cr_assert_eq(indicator.key.length, log.key.length, "%s", pairs[i][2]);
      cr_assert_eq(memcmp(indicator.key.bytes, log.key.bytes, log.key.length), 0, "%s", pairs[i][2]);
    }
}

Test(match_value, schemeless_view_of_web_urls)
{
  const gchar *cases[][2] =
  {
    { "HTTP://Evil.example.com/x", "//evil.example.com/x" },
    { "https://evil.example.com:443/x", "//evil.example.com/x" },
    { "https://evil.example.com:8443/x", "//evil.example.com:8443/x" },
    { "ftp://evil.example.com/x", NULL },
    { "evil.example.com", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    {
      ThreatqMatchValue value;
      ThreatqMatchKey schemeless;
      threatq_match_value_classify(cases[i][0], strlen(cases[i][0]), &value);
      gboolean ok = threatq_match_key_schemeless(&value.key, &schemeless);
      cr_assert_eq(ok, cases[i][1] != NULL, "%s", cases[i][0]);
      if (!ok)
        continue;
      gchar *formatted = _format(&schemeless);
      cr_assert_str_eq(formatted, cases[i][1]);
      g_free(formatted);
    }
}

/* a value is its bytes, all of them: nothing after a NUL is ignored */
Test(match_value, embedded_nul)
{
  const gchar *values[] = { "::1\0junk", "10.1.2.3\0", "evil.example.com\0x", "a@b.example\0", "fe80::1%0\0" };
  const gsize lengths[] = { 8, 9, 18, 12, 10 };
  ThreatqMatchValue value;

  for (guint i = 0; i < G_N_ELEMENTS(values); i++)
    cr_assert_not(threatq_match_value_classify(values[i], lengths[i], &value), "value %u", i);
  cr_assert_not(threatq_match_value_from_indicator("IP Address", 10, "::1\0junk", 8, &value, NULL));
}

Test(match_value, length_limit)
{
  ThreatqMatchValue value;
  GString *url = g_string_new("http://evil.example.com/");

  while (url->len < THREATQ_MATCH_VALUE_MAX)
    g_string_append_c(url, 'a');
  cr_assert(threatq_match_value_classify(url->str, url->len, &value));
  cr_assert(threatq_match_value_from_indicator("URL", 3, url->str + 7, url->len - 7, &value, NULL));
  g_string_append_c(url, 'a');
  cr_assert_not(threatq_match_value_classify(url->str, url->len, &value));
  cr_assert_not(threatq_match_value_from_indicator("URL", 3, url->str, url->len, &value, NULL));
  g_string_free(url, TRUE);
}

Test(match_value, ecs_names)
{
  ThreatqMatchValue value;

  cr_assert(threatq_match_value_from_indicator("CIDR Block", 10, "10.0.0.0/8", 10, &value, NULL));
  cr_assert_str_eq(threatq_match_key_ecs_type(&value.key), "ipv4-addr");
  cr_assert_null(threatq_match_key_ecs_field(&value.key));
  cr_assert(threatq_match_value_classify("2001:db8::1", 11, &value));
  cr_assert_str_eq(threatq_match_key_ecs_type(&value.key), "ipv6-addr");
  cr_assert_str_eq(threatq_match_key_ecs_field(&value.key), "ip");
  cr_assert(threatq_match_value_classify("da39a3ee5e6b4b0d3255bfef95601890afd80709", 40, &value));
  cr_assert_str_eq(threatq_match_key_ecs_type(&value.key), "file");
  cr_assert_str_eq(threatq_match_key_ecs_field(&value.key), "file.hash.sha1");
  cr_assert(threatq_match_value_classify("evil.example.com", 16, &value));
  cr_assert_str_eq(threatq_match_key_ecs_field(&value.key), "url.domain");
  cr_assert_null(threatq_match_type_name(99));
}

/*
 * The dotted-quad parser against glibc's inet_pton(AF_INET), whose rules it
 * copies: strings of digits and dots (with a few other bytes) near the edges
 * (255/256, leading zeros, 3 to 5 parts, empty parts), from a fixed seed.
 */
static void
_random_quad(GRand *rand, gchar *text, gsize *length)
{
  static const gchar digits[] = "01234567892550";
  guint parts = (guint) g_rand_int_range(rand, 3, 7);
  gsize n = 0;

  parts = parts > 5 ? 4 : parts;
  for (guint part = 0; part < parts; part++)
    {
      if (part)
        text[n++] = '.';
      for (gint i = g_rand_int_range(rand, 0, 5) ? g_rand_int_range(rand, 1, 4) : g_rand_int_range(rand, 0, 5); i > 0; i--)
        text[n++] = digits[g_rand_int_range(rand, 0, sizeof(digits) - 1)];
    }
  if (n && g_rand_int_range(rand, 0, 10) == 0)
    text[g_rand_int_range(rand, 0, (gint32) n)] = "x-."[g_rand_int_range(rand, 0, 3)];
  text[n] = '\0';
  *length = n;
}

Test(match_value, ipv4_as_inet_pton)
{
  GRand *rand = g_rand_new_with_seed(20261130);
  gchar text[32];
  gsize length;
  guint accepted = 0;

  for (guint round = 0; round < 300000; round++)
    {
      ThreatqMatchValue value;
      guint8 expected[4];

      _random_quad(rand, text, &length);
      gboolean valid = inet_pton(AF_INET, text, expected) == 1;
      gboolean ipv4 = threatq_match_value_classify(text, length, &value)
                      && value.key.kind == THREATQ_MATCH_KIND_IPV4;
      cr_assert_eq(ipv4, valid, "\"%s\": inet_pton says %d", text, valid);
      if (valid)
        {
          cr_assert_eq(value.key.length, 4);
          cr_assert_eq(memcmp(value.key.bytes, expected, 4), 0, "\"%s\"", text);
          accepted++;
        }
    }
  /* the alphabet makes both answers common: the comparison is not one-sided */
  cr_assert_gt(accepted, 1000, "%u", accepted);
  cr_assert_lt(accepted, 290000);
  g_rand_free(rand);
}

/*
 * threatq_match_value_classify() against a plain reading of its rules: the
 * classifier takes the shapes in an order of its own, with a parser of its
 * own for each, so every generated value (random bytes, values of each shape
 * with a byte changed, added or cut, lengths at the limits) must get the
 * same answer and the same key from both.  A URL and an address with a ':'
 * go through the indicator side's parsers, which the classifier shares.
 */
static gsize
_ref_hostname(const gchar *text, gsize length, guint8 *out)
{
  if (length > 0 && text[length - 1] == '.')
    length--;
  if (length == 0 || length > 253)
    return 0;
  gchar *name = g_ascii_strdown(text, (gssize) length);
  gchar **labels = g_strsplit(name, ".", -1);
  gboolean valid = strlen(name) == length && g_strv_length(labels) >= 2;
  for (guint i = 0; valid && labels[i]; i++)
    {
      gsize label_length = strlen(labels[i]);
      valid = label_length >= 1 && label_length <= 63 && labels[i][0] != '-' && labels[i][label_length - 1] != '-'
              && strspn(labels[i], "abcdefghijklmnopqrstuvwxyz0123456789-_") == label_length;
      if (valid && !labels[i + 1])
        valid = strspn(labels[i], "0123456789") != label_length;
    }
  if (valid)
    memcpy(out, name, length);
  g_strfreev(labels);
  g_free(name);
  return valid ? length : 0;
}

static gboolean
_ref_email(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  const gchar *at = memchr(text, '@', length);
  gsize local_length = (gsize) (at - text);

  if (local_length == 0 || local_length > 64 || text[0] == '.' || at[-1] == '.')
    return FALSE;
  for (gsize i = 0; i < local_length; i++)
    {
      if (!text[i] || (!g_ascii_isalnum(text[i]) && !strchr(".!#$%&'*+-/=?^_`{|}~", text[i])))
        return FALSE;
      if (text[i] == '.' && text[i + 1] == '.')
        return FALSE;
      value->buffer[i] = (guint8) g_ascii_tolower(text[i]);
    }
  value->buffer[local_length] = '@';
  gsize domain = _ref_hostname(at + 1, length - local_length - 1, value->buffer + local_length + 1);
  value->key = (ThreatqMatchKey) { THREATQ_MATCH_KIND_EMAIL, 0, local_length + 1 + domain, value->buffer };
  return domain > 0;
}

static gboolean
_ref_hash(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  static const ThreatqMatchKind kinds[] =
  {
    [32] = THREATQ_MATCH_KIND_MD5, [40] = THREATQ_MATCH_KIND_SHA1, [64] = THREATQ_MATCH_KIND_SHA256,
    [96] = THREATQ_MATCH_KIND_SHA384, [128] = THREATQ_MATCH_KIND_SHA512,
  };
  if (length >= G_N_ELEMENTS(kinds) || !kinds[length])
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isxdigit(text[i]))
      return FALSE;
  for (gsize i = 0; i < length; i += 2)
    value->buffer[i / 2] = (guint8) (g_ascii_xdigit_value(text[i]) << 4 | g_ascii_xdigit_value(text[i + 1]));
  value->key = (ThreatqMatchKey) { kinds[length], 0, length / 2, value->buffer };
  return TRUE;
}

static gboolean
_ref_classify_trimmed(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  gboolean colon = memchr(text, ':', length) != NULL;
  gchar quad[16] = "";

  if (length > 3 && colon && g_strstr_len(text, (gssize) length, "://"))
    return threatq_match_value_from_indicator("URL", 3, text, length, value, NULL);
  if (memchr(text, '@', length))
    return _ref_email(text, length, value);
  if (colon || text[0] == '[')
    {
      if (threatq_match_value_from_indicator("IP Address", 10, text, length, value, NULL))
        return TRUE;
    }
  else if (length < sizeof(quad) && !memchr(text, '\0', length) && inet_pton(AF_INET, memcpy(quad, text, length),
                                                                            value->buffer) == 1)
    {
      value->key = (ThreatqMatchKey) { THREATQ_MATCH_KIND_IPV4, 32, 4, value->buffer };
      return TRUE;
    }
  if (_ref_hash(text, length, value))
    return TRUE;
  gsize written = _ref_hostname(text, length, value->buffer);
  value->key = (ThreatqMatchKey) { THREATQ_MATCH_KIND_HOSTNAME, 0, written, value->buffer };
  return written > 0;
}

static gboolean
_ref_classify(const gchar *text, gsize length, ThreatqMatchValue *value)
{
  while (length > 0 && g_ascii_isspace(text[0]))
    text++, length--;
  while (length > 0 && g_ascii_isspace(text[length - 1]))
    length--;
  if (length > 0 && _ref_classify_trimmed(text, length, value))
    return TRUE;
  value->key = (ThreatqMatchKey) { THREATQ_MATCH_KIND_NONE, 0, 0, value->buffer };
  return FALSE;
}

static const gchar *shape_seeds[] =
{
  "220.17.52.247", "0.0.0.0", "2002:db8:55bc::39f3", "[::ffff:1.2.3.4]", "fe80::1%eth0",
  "www50.good-8441.example.com", "_dmarc.Example.COM.", "xn--bcher-kva.example", "a.b",
  "https://cdn896.example.com/assets/70/app.js?v=125", "HTTP://u:p@[2001:db8::1]:80/x#f", "ftp://a.b.:21?q",
  "5efbb0eab102be098c01319296538281", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "12345678901234567890123456789012",
  "Alice.Smith+tag@mail14.Example.org.", " 10.1.2.3\t",
};

/* the bytes the shapes are made of, and some they are not */
static const gchar shape_bytes[] = "0123456789abcdefABCDEFgzGZ.-_:/@[]%?#+~ \t\v\r\x80\xc3\xff";

static gsize
_random_name(GRand *rand, gchar *text)
{
  /* around 253 bytes in all, or labels around 63 */
  gboolean long_name = g_rand_boolean(rand);
  gint target = long_name ? g_rand_int_range(rand, 248, 258) : g_rand_int_range(rand, 1, 140);
  gsize n = 0;

  while ((gint) n < target)
    {
      gint label = long_name ? g_rand_int_range(rand, 1, 64) : g_rand_int_range(rand, 0, 3) ? g_rand_int_range(rand, 0, 6)
                   : g_rand_int_range(rand, 61, 66);
      if (n)
        text[n++] = '.';
      for (gint i = 0; i < label && n < 300; i++)
        text[n++] = "abcXYZ0189-_"[g_rand_int_range(rand, 0, g_rand_int_range(rand, 0, 4) ? 9 : 12)];
    }
  if (g_rand_boolean(rand))
    text[n++] = '.';
  return n;
}

/* seeds and hashes with up to three bytes changed, added or cut (any byte, NUL too) */
static gsize
_mutate(GRand *rand, gchar *text, gsize n)
{
  for (gint edits = g_rand_int_range(rand, 0, 4); edits > 0 && n > 0; edits--)
    {
      gsize at = (gsize) g_rand_int_range(rand, 0, (gint32) n);
      gchar byte = g_rand_int_range(rand, 0, 4) ? shape_bytes[g_rand_int_range(rand, 0, sizeof(shape_bytes) - 1)]
                   : (gchar) g_rand_int_range(rand, 0, 256);
      switch (g_rand_int_range(rand, 0, 4))
        {
        case 0:
          text[at] = byte;
          break;
        case 1:
          memmove(text + at + 1, text + at, n - at);
          text[at] = byte;
          n++;
          break;
        case 2:
          memmove(text + at, text + at + 1, n - at - 1);
          n--;
          break;
        default:
          n = at;
        }
    }
  return n;
}

static gsize
_random_value(GRand *rand, gchar *text)
{
  static const gint hash_lengths[] = { 8, 16, 31, 32, 33, 39, 40, 41, 63, 64, 65, 96, 127, 128, 129 };
  gsize n;

  switch (g_rand_int_range(rand, 0, 5))
    {
    case 0:
      n = (gsize) g_rand_int_range(rand, 0, 70);
      for (gsize i = 0; i < n; i++)
        text[i] = shape_bytes[g_rand_int_range(rand, 0, sizeof(shape_bytes) - 1)];
      return n;
    case 1:
      return _random_name(rand, text);
    case 2:
      n = (gsize) hash_lengths[g_rand_int_range(rand, 0, G_N_ELEMENTS(hash_lengths))];
      for (gsize i = 0; i < n; i++)
        text[i] = "0123456789abcdefABCDEF"[g_rand_int_range(rand, 0, g_rand_boolean(rand) ? 16 : 22)];
      break;
    default:
      {
        const gchar *seed = shape_seeds[g_rand_int_range(rand, 0, G_N_ELEMENTS(shape_seeds))];
        n = strlen(seed);
        memcpy(text, seed, n);
      }
    }
  return _mutate(rand, text, n);
}

Test(match_value, classify_as_reference)
{
  GRand *rand = g_rand_new_with_seed(20261201);
  guint classified[THREATQ_MATCH_KIND_COUNT] = { 0 };

  for (guint round = 0; round < 400000; round++)
    {
      gchar text[320];
      ThreatqMatchValue value, expected;
      gsize length = _random_value(rand, text);
      /* exactly its size, so that ASan sees a read past the value */
      gchar *copy = g_memdup2(text, length);

      gboolean ok = threatq_match_value_classify(copy, length, &value);
      gboolean expected_ok = _ref_classify(copy, length, &expected);
      g_free(copy);
      cr_assert_eq(ok, expected_ok, "\"%.*s\": %d, expected %d", (gint) length, text, ok, expected_ok);
      cr_assert_eq(value.key.kind, expected.key.kind, "\"%.*s\"", (gint) length, text);
      cr_assert_eq(value.key.prefix_len, expected.key.prefix_len, "\"%.*s\"", (gint) length, text);
      cr_assert_eq(value.key.length, expected.key.length, "\"%.*s\"", (gint) length, text);
      cr_assert(value.key.bytes == value.buffer);
      cr_assert_eq(memcmp(value.key.bytes, expected.key.bytes, value.key.length), 0, "\"%.*s\"", (gint) length, text);
      classified[value.key.kind]++;
    }
  /* each shape is met often, and so is nothing */
  for (guint kind = 0; kind < THREATQ_MATCH_KIND_COUNT; kind++)
    cr_assert_gt(classified[kind], 500, "kind %u: %u", kind, classified[kind]);
  g_rand_free(rand);
}

/* an IPv4 key is written as inet_ntop() writes it: every octet width in every position */
Test(match_value, ipv4_format_as_inet_ntop)
{
  static const guint8 octets[] = { 0, 1, 9, 10, 42, 99, 100, 101, 199, 200, 249, 250, 255 };
  gchar expected[INET_ADDRSTRLEN];

  for (guint n = 0; n < G_N_ELEMENTS(octets) * G_N_ELEMENTS(octets); n++)
    {
      guint8 bytes[4] = { octets[n % G_N_ELEMENTS(octets)], octets[n / G_N_ELEMENTS(octets)], 0, 0 };
      bytes[2] = bytes[1] ^ bytes[0];
      bytes[3] = octets[(n * 7) % G_N_ELEMENTS(octets)];
      ThreatqMatchKey key = { THREATQ_MATCH_KIND_IPV4, 32, 4, bytes };

      inet_ntop(AF_INET, bytes, expected, sizeof(expected));
      gchar *got = _format(&key);
      cr_assert_str_eq(got, expected);
      g_free(got);
    }
}

/*
 * A URL's bytes are looked at 16 at a time: a forbidden byte (a control,
 * space, DEL) at any position, an authority of any length up to past two
 * such steps and each byte that ends it must give what the rules say.
 */
Test(match_value, url_bytes_at_every_position)
{
  ThreatqMatchValue value;
  const gchar *base = "http://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?q=1";
  gsize base_length = strlen(base);
  const guint8 forbidden[] = { 0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x7f };

  for (gsize at = 1; at < base_length; at++)
    for (guint f = 0; f < G_N_ELEMENTS(forbidden); f++)
      {
        gchar url[128];
        memcpy(url, base, at);
        url[at] = (gchar) forbidden[f];
        memcpy(url + at + 1, base + at, base_length - at);
        cr_assert_not(threatq_match_value_classify(url, base_length + 1, &value),
                      "byte 0x%02x at %" G_GSIZE_FORMAT " classified", forbidden[f], at);
      }

  const gchar *tails[][2] = { { "/P?Q", "/P?Q" }, { "?Q", "/?Q" }, { "#F", "/" }, { "", "/" }, { "/#F", "/" } };
  for (gsize host_length = 1; host_length <= 40; host_length++)
    for (guint t = 0; t < G_N_ELEMENTS(tails); t++)
      {
        GString *url = g_string_new("HTTP://");
        GString *expected = g_string_new("http://");
        for (gsize i = 0; i < host_length; i++)
          {
            g_string_append_c(url, "AbZdE-9"[i % 7]);
            g_string_append_c(expected, "abzde-9"[i % 7]);
          }
        g_string_append(url, tails[t][0]);
        g_string_append(expected, tails[t][1]);
        cr_assert(threatq_match_value_classify(url->str, url->len, &value), "'%s' not classified", url->str);
        gchar *got = _format(&value.key);
        cr_assert_str_eq(got, expected->str, "'%s'", url->str);
        g_free(got);
        g_string_free(url, TRUE);
        g_string_free(expected, TRUE);
      }
}

/* a string near an IPv6 address: groups of 0 to 5 hex digits, maybe a "::" or two, maybe a dotted quad */
static void
_random_ipv6(GRand *rand, gchar *text, gsize *length)
{
  static const gchar hex[] = "0123456789abcdefABCDEF0f";
  guint groups = (guint) g_rand_int_range(rand, 1, 10);
  gsize n = 0;

  if (g_rand_int_range(rand, 0, 4) == 0)
    text[n++] = ':';
  for (guint group = 0; group < groups; group++)
    {
      if (group)
        text[n++] = ':';
      if (g_rand_int_range(rand, 0, 6) == 0)
        text[n++] = ':';
      for (gint i = g_rand_int_range(rand, 0, 8) ? g_rand_int_range(rand, 1, 5) : g_rand_int_range(rand, 0, 6); i > 0; i--)
        text[n++] = hex[g_rand_int_range(rand, 0, sizeof(hex) - 1)];
    }
  if (g_rand_int_range(rand, 0, 4) == 0)
    {
      gsize quad_length;
      text[n++] = ':';
      _random_quad(rand, text + n, &quad_length);
      n += quad_length;
    }
  if (g_rand_int_range(rand, 0, 5) == 0)
    text[n++] = ':';
  if (n && g_rand_int_range(rand, 0, 10) == 0)
    text[g_rand_int_range(rand, 0, (gint32) n)] = "x:.g\x01"[g_rand_int_range(rand, 0, 5)];
  text[n] = '\0';
  *length = n;
}

/* the IPv6 reader takes what glibc's inet_pton(AF_INET6) takes, with the same bytes */
Test(match_value, ipv6_as_inet_pton)
{
  GRand *rand = g_rand_new_with_seed(20261201);
  gchar text[160];
  gsize length;
  guint accepted = 0;

  for (guint round = 0; round < 300000; round++)
    {
      ThreatqMatchValue value;
      guint8 expected[16];

      _random_ipv6(rand, text, &length);
      if (!memchr(text, ':', length))
        continue;
      gboolean valid = inet_pton(AF_INET6, text, expected) == 1;
      gboolean ok = threatq_match_value_from_indicator("IPv6 Address", strlen("IPv6 Address"), text, length, &value, NULL);
      cr_assert_eq(ok, valid, "\"%s\": inet_pton says %d", text, valid);
      if (!valid)
        continue;
      accepted++;
      /* an IPv4-mapped address is keyed as IPv4 */
      gsize offset = value.key.kind == THREATQ_MATCH_KIND_IPV4 ? 12 : 0;
      cr_assert_eq(value.key.length, 16 - offset, "\"%s\"", text);
      cr_assert_eq(memcmp(value.key.bytes, expected + offset, value.key.length), 0, "\"%s\"", text);
    }
  cr_assert_gt(accepted, 10000, "%u", accepted);
  cr_assert_lt(accepted, 250000, "%u", accepted);
  g_rand_free(rand);
}
