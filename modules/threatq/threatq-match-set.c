/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threatq-match-set.h"
#include "threatq-match-rcu.h"
#include "threatq-match-table.h"
#include "threatq-match-filter.h"
#include "threatq-match-prefix.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* unlinked entries freed together, after one wait for readers */
#define RECLAIM_BATCH 1024
/* lookups that missed while an update moved an indicator to another key */
#define LOOKUP_RETRIES 8
#define ADDRESS_LENGTHS 129
/* the smallest filter a set builds (keys) */
#define MIN_FILTER_CAPACITY 1024

/*
 * A string shared by all the entries that carry it (a feed repeats its
 * profile - confidence, TLP, providers - and often its descriptions).  Writer side only: an
 * atom is created by an insert and released when an entry is freed, which
 * happens in reclaim, on the writer's side too.
 */
typedef struct
{
  guint32 refcount;
  guint32 hash;
  gsize length;
  gchar text[];
} Atom;

struct _ThreatqMatchSet
{
  ThreatqMatchRcu *rcu;
  GMutex writer_lock;
  guint64 seed;
  gsize max_size;

  ThreatqMatchTable by_key;     /* read by lookups: exact keys, full-length addresses */
  ThreatqMatchTable by_prefix;  /* read by lookups: CIDR blocks shorter than an address (small, stays in cache) */
  ThreatqMatchTable by_id;      /* writer only */
  ThreatqMatchTable atoms;      /* writer only */
  ThreatqMatchFilter *filter;   /* the key hashes of by_key and by_prefix; read by lookups */
  guint64 lengths[2][3];        /* [ipv6][word]: bit L set while an entry has prefix length L; read by lookups */
  gsize schemeless_urls;        /* entries of URL indicators given without a scheme; read by lookups */
  guint32 regions[2];           /* [ipv6]: bit R set while lengths has a bit in region R (_region_shift()) below the full length */
  guint64 generation;           /* counts links and unlinks; read by lookups */
  guint32 length_count[2][ADDRESS_LENGTHS];

  GPtrArray *retired_entries;
  GPtrArray *retired_slots;
  gsize refused_full;
  gsize skipped;
  gsize entry_bytes;
  gsize atom_bytes;
};

/* ---- hashing ---------------------------------------------------------- */

static guint64
_mix(guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT(0xc4ceb9fe1a85ec53);
  return h ^ (h >> 33);
}

static inline __attribute__((always_inline)) guint32
_hash_bytes(guint64 seed, const guint8 *bytes, gsize length)
{
  guint64 h = seed ^ (length * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15));
  gsize i = 0;

  for (; i + 8 <= length; i += 8)
    {
      guint64 word;
      memcpy(&word, bytes + i, 8);
      h = (h ^ _mix(word)) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
    }
  /*
   * The last length - i bytes: from the key's last word, read whole and
   * cut to them (a memcpy() of a variable length is a call).
   */
  guint64 tail = 0;
  gsize rest = length - i;
  if (rest && length >= 8)
    {
      memcpy(&tail, bytes + length - 8, 8);
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      tail >>= 8 * (8 - rest);
#else
      tail &= G_MAXUINT64 >> 8 * (8 - rest);
#endif
    }
  else
    memcpy(&tail, bytes + i, rest);     /* a short key: for an IPv4 address's 4 bytes, one load */
  return (guint32) _mix(h ^ tail);
}

static guint32
_key_hash(ThreatqMatchSet *self, ThreatqMatchKind kind, guint prefix_len, const guint8 *bytes, gsize length)
{
  guint64 seed = self->seed ^ ((guint64) kind << 8 | prefix_len);

  /* the same function, unrolled for an address: a lookup hashes one key a present prefix length */
  if (length == 4)
    return _hash_bytes(seed, bytes, 4);
  if (length == 16)
    return _hash_bytes(seed, bytes, 16);
  return _hash_bytes(seed, bytes, length);
}

/*
 * Where a key's bits go in the filter: a block (place) and the bits in it.
 * A key is placed by its own hash, except a CIDR block: that is placed by
 * its address cut to a coarser region (IPv4 /24, /16, /8, /0; IPv6 every 16
 * bits), so that a lookup walking many prefix lengths reads a filter cache
 * line a region, not one a length.  Its bits then come from a cheap mix of
 * the prefix (two multiplies), and only a "maybe" costs the full key hash.
 * A full address, the common and the densest indicator (a feed lists many
 * hosts of one /24), keeps its own place: a region's block holds only the
 * CIDR blocks of that region, and one that fills sends lookups in it on to
 * the tables, as every lookup did before this placement.
 */
/* log2 of the region step: shifts, not divisions, in a walk of up to 129 lengths */
static inline guint
_region_shift(guint bits)
{
  return bits == 32 ? 3 : 4;
}

static inline guint
_region_length(guint bits, guint prefix_len)
{
  return prefix_len >> _region_shift(bits) << _region_shift(bits);
}

/* a CIDR block's place: its address up to the region's length */
static guint32
_region_place(ThreatqMatchSet *self, ThreatqMatchKind kind, guint region, ThreatqMatchPrefix address)
{
  guint64 tag = (guint64) kind << 9 | 0x100 | region;

  return threatq_match_prefix_mix(threatq_match_prefix_mask(address, region), self->seed ^ tag << 32);
}

/* the bits of a CIDR block (host bits zero) at its place */
static inline guint32
_prefix_bits(ThreatqMatchSet *self, guint32 place, ThreatqMatchKind kind, guint prefix_len,
             ThreatqMatchPrefix prefix)
{
  guint64 tag = (guint64) kind << 9 | prefix_len;

  return threatq_match_prefix_mix(prefix, self->seed ^ (tag << 32 | place));
}

/*
 * The bits of a region that holds a CIDR block: one test tells a lookup
 * that a region holds none (nearly always, for an address that misses)
 * and lets it skip every length of the region at once.
 */
static inline guint32
_region_marker_bits(ThreatqMatchSet *self, guint32 place, ThreatqMatchKind kind)
{
  return _prefix_bits(self, place, kind, 0x1ff, (ThreatqMatchPrefix) { 0, 0 });
}

/*
 * The mark of an address block (threatq-match-filter.h): an IPv4 block of 8
 * to 15 bits marks its /8, a longer one its /16; an IPv6 block of 16 bits or
 * more marks its /16.  A shorter block marks nothing: its region is tested in
 * the filter's blocks, as every region was before marks.
 */
#define MARK_NONE G_MAXUINT32

static guint32
_mark_of(ThreatqMatchKind kind, guint prefix_len, ThreatqMatchPrefix prefix)
{
  if (kind == THREATQ_MATCH_KIND_IPV4)
    return prefix_len < 8 ? MARK_NONE
           : prefix_len < 16 ? (guint32) (prefix.hi >> 56) : 256 + (guint32) (prefix.hi >> 48);
  return prefix_len < 16 ? MARK_NONE : 256 + 65536 + (guint32) (prefix.hi >> 48);
}

/* writer side; before the entry is linked: a reader that finds it in a table finds its bits */
static void
_entry_filter_add(ThreatqMatchSet *self, ThreatqMatchFilter *filter, const ThreatqMatchEntry *entry)
{
  guint address_bits = threatq_match_kind_address_bits(entry->kind);

  if (!address_bits || entry->prefix_len >= address_bits)
    {
      threatq_match_filter_add(filter, entry->key_hash, entry->key_hash);
      return;
    }
  ThreatqMatchPrefix prefix = threatq_match_prefix_from_bytes(entry->key, entry->key_length);
  guint32 place = _region_place(self, entry->kind, _region_length(address_bits, entry->prefix_len), prefix);

  threatq_match_filter_add(filter, place, _prefix_bits(self, place, entry->kind, entry->prefix_len, prefix));
  threatq_match_filter_set(filter, place, _region_marker_bits(self, place, entry->kind));
  guint32 mark = _mark_of(entry->kind, entry->prefix_len, prefix);
  if (mark != MARK_NONE)
    threatq_match_filter_mark(filter, mark);
}

static guint32
_entry_key_hash(gconstpointer item)
{
  return ((const ThreatqMatchEntry *) item)->key_hash;
}

static guint32
_id_hash(gint64 id)
{
  return (guint32) _mix((guint64) id);
}

static guint32
_entry_id_hash(gconstpointer item)
{
  return _id_hash(((const ThreatqMatchEntry *) item)->id);
}

static guint32
_atom_hash(gconstpointer item)
{
  return ((const Atom *) item)->hash;
}

/* ---- atoms ------------------------------------------------------------ */

static const gchar *
_atom_ref(ThreatqMatchSet *self, const gchar *text, gsize length)
{
  guint32 hash = _hash_bytes(self->seed, (const guint8 *) text, length);
  ThreatqMatchProbe probe;
  Atom *atom;

  threatq_match_probe_init(&probe, self->atoms.slots, hash);
  while ((atom = threatq_match_probe_next(&probe)))
    if (atom->hash == hash && atom->length == length && memcmp(atom->text, text, length) == 0)
      {
        atom->refcount++;
        return atom->text;
      }

  /* two NULs: a providers list ends with an empty string */
  atom = g_malloc(sizeof(Atom) + length + 2);
  atom->refcount = 1;
  atom->hash = hash;
  atom->length = length;
  memcpy(atom->text, text, length);
  atom->text[length] = atom->text[length + 1] = '\0';
  self->atom_bytes += sizeof(Atom) + length + 2;

  ThreatqMatchSlots *old;
  threatq_match_table_insert(&self->atoms, atom, &old);
  g_free(old);
  return atom->text;
}

static void
_atom_unref(ThreatqMatchSet *self, const gchar *text)
{
  if (!text)
    return;
  Atom *atom = (Atom *) (text - G_STRUCT_OFFSET(Atom, text));
  if (--atom->refcount > 0)
    return;
  threatq_match_table_remove(&self->atoms, atom);
  self->atom_bytes -= sizeof(Atom) + atom->length + 2;
  g_free(atom);
}

static const gchar *
_atom_ref_string(ThreatqMatchSet *self, const gchar *text)
{
  return text ? _atom_ref(self, text, strlen(text)) : NULL;
}

static void
_append_item(GString *profile, const gchar *text)
{
  if (text)
    g_string_append(profile, text);
  g_string_append_c(profile, '\0');
}

/*
 * "confidence\0tlp\0provider\0provider\0\0" (the atom adds the last NUL;
 * an absent confidence or TLP is empty): one pointer in the entry for the
 * three, which is 16 bytes an entry less.
 */
static const gchar *
_atom_ref_profile(ThreatqMatchSet *self, const ThreatqMatchIndicator *indicator)
{
  GString *joined = g_string_sized_new(64);

  _append_item(joined, indicator->confidence);
  _append_item(joined, indicator->tlp);
  for (const gchar *const *p = indicator->providers; p && *p; p++)
    if (**p)
      _append_item(joined, *p);
  const gchar *atom = _atom_ref(self, joined->str, joined->len);
  g_string_free(joined, TRUE);
  return atom;
}

/* ---- set -------------------------------------------------------------- */

ThreatqMatchSet *
threatq_match_set_new(gsize max_size)
{
  ThreatqMatchSet *self = g_new0(ThreatqMatchSet, 1);

  self->rcu = threatq_match_rcu_new();
  g_mutex_init(&self->writer_lock);
  /* a seed per set: a log line cannot aim at a long probe chain */
  self->seed = (guint64) g_random_int() << 32 | g_random_int();
  self->max_size = max_size;
  threatq_match_table_init(&self->by_key, _entry_key_hash, TRUE);
  threatq_match_table_init(&self->by_prefix, _entry_key_hash, TRUE);
  threatq_match_table_init(&self->by_id, _entry_id_hash, FALSE);
  threatq_match_table_init(&self->atoms, _atom_hash, FALSE);
  self->filter = threatq_match_filter_new(MIN_FILTER_CAPACITY);
  self->retired_entries = g_ptr_array_new();
  self->retired_slots = g_ptr_array_new_with_free_func(g_free);
  return self;
}

static gsize
_entry_size(const ThreatqMatchEntry *entry)
{
  return sizeof(ThreatqMatchEntry) + entry->key_length;
}

static void
_entry_free(ThreatqMatchSet *self, ThreatqMatchEntry *entry)
{
  _atom_unref(self, entry->profile);
  _atom_unref(self, entry->description);
  self->entry_bytes -= _entry_size(entry);
  g_free(entry);
}

void
threatq_match_set_free(ThreatqMatchSet *self)
{
  if (!self)
    return;
  const ThreatqMatchSlots *slots = self->by_id.slots;
  for (gsize i = 0; i <= slots->mask; i++)
    {
      ThreatqMatchEntry *entry = threatq_match_slots_item(slots, i);
      if (entry)
        _entry_free(self, entry);
    }
  for (guint i = 0; i < self->retired_entries->len; i++)
    _entry_free(self, g_ptr_array_index(self->retired_entries, i));
  g_ptr_array_free(self->retired_entries, TRUE);
  g_ptr_array_free(self->retired_slots, TRUE);
  threatq_match_table_clear(&self->by_key);
  threatq_match_table_clear(&self->by_prefix);
  threatq_match_table_clear(&self->by_id);
  threatq_match_table_clear(&self->atoms);
  g_free(self->filter);
  threatq_match_rcu_free(self->rcu);
  g_mutex_clear(&self->writer_lock);
  g_free(self);
}

/* waits for the readers, then frees what they could have seen; writer lock held */
static void
_reclaim(ThreatqMatchSet *self)
{
  if (self->retired_entries->len == 0 && self->retired_slots->len == 0)
    return;
  threatq_match_rcu_synchronize(self->rcu);
  for (guint i = 0; i < self->retired_entries->len; i++)
    _entry_free(self, g_ptr_array_index(self->retired_entries, i));
  g_ptr_array_set_size(self->retired_entries, 0);
  g_ptr_array_set_size(self->retired_slots, 0);
}

static void
_retire_slots(ThreatqMatchSet *self, gpointer slots)
{
  if (slots)
    g_ptr_array_add(self->retired_slots, slots);
}

/* ---- filter ----------------------------------------------------------- */

/*
 * A new filter of every linked key, published whole (the readers that still
 * hold the old one are waited for before it is freed, as old slots are).
 * Removed keys leave their bits set until this rebuild.
 */
static void
_filter_rebuild(ThreatqMatchSet *self, gsize capacity)
{
  ThreatqMatchFilter *filter = threatq_match_filter_new(capacity);
  const ThreatqMatchSlots *slots = self->by_id.slots;

  for (gsize i = 0; i <= slots->mask; i++)
    {
      const ThreatqMatchEntry *entry = threatq_match_slots_item(slots, i);
      if (entry)
        _entry_filter_add(self, filter, entry);
    }
  ThreatqMatchFilter *old = self->filter;
  __atomic_store_n(&self->filter, filter, __ATOMIC_RELEASE);
  _retire_slots(self, old);
}

static void
_filter_reserve(ThreatqMatchSet *self, gsize count)
{
  if (count > threatq_match_filter_capacity(self->filter))
    _filter_rebuild(self, count);
}

/* before the entry is linked: a reader that finds it in a table finds its bits */
static void
_filter_add(ThreatqMatchSet *self, const ThreatqMatchEntry *entry)
{
  if (threatq_match_filter_added(self->filter) >= threatq_match_filter_capacity(self->filter))
    _filter_rebuild(self, MAX(2 * self->by_id.live, MIN_FILTER_CAPACITY));
  _entry_filter_add(self, self->filter, entry);
}

void
threatq_match_set_reserve(ThreatqMatchSet *self, gsize count)
{
  ThreatqMatchSlots *old;

  g_mutex_lock(&self->writer_lock);
  threatq_match_table_reserve(&self->by_key, count, &old);
  _retire_slots(self, old);
  threatq_match_table_reserve(&self->by_id, count, &old);
  g_free(old);
  _filter_reserve(self, count);
  _reclaim(self);
  g_mutex_unlock(&self->writer_lock);
}

void
threatq_match_set_reclaim(ThreatqMatchSet *self)
{
  g_mutex_lock(&self->writer_lock);
  _reclaim(self);
  g_mutex_unlock(&self->writer_lock);
}

/* ---- prefix lengths --------------------------------------------------- */

/*
 * regions[family] from lengths after a change of the bit of `length`: set
 * with the length's bit (before the entry is linked, as that bit), cleared
 * after the region's last length went.
 */
static void
_update_region(ThreatqMatchSet *self, guint family, guint bits, guint length)
{
  guint shift = _region_shift(bits);
  guint region = length >> shift;
  guint64 region_lengths = ((G_GUINT64_CONSTANT(1) << (1u << shift)) - 1) << ((region << shift) % 64);

  if (self->lengths[family][length / 64] & region_lengths)
    __atomic_fetch_or(&self->regions[family], 1u << region, __ATOMIC_RELEASE);
  else
    __atomic_fetch_and(&self->regions[family], ~(1u << region), __ATOMIC_RELEASE);
}

static void
_count_length(ThreatqMatchSet *self, const ThreatqMatchEntry *entry, gint delta)
{
  guint bits = threatq_match_kind_address_bits(entry->kind);
  if (!bits)
    return;

  guint family = bits == 128;
  guint length = entry->prefix_len;
  guint32 count = self->length_count[family][length] += (guint32) delta;
  guint64 *word = &self->lengths[family][length / 64];
  guint64 bit = G_GUINT64_CONSTANT(1) << (length % 64);
  if (count == 0)
    __atomic_fetch_and(word, ~bit, __ATOMIC_RELEASE);
  else if (count == 1 && delta > 0)
    __atomic_fetch_or(word, bit, __ATOMIC_RELEASE);
  else
    return;
  if (length < bits)
    _update_region(self, family, bits, length);
}

/* a URL indicator given without a scheme: counted before its link */
static void
_count_schemeless(ThreatqMatchSet *self, const ThreatqMatchEntry *entry, gint delta)
{
  ThreatqMatchKey key;

  threatq_match_entry_key(entry, &key);
  if (threatq_match_key_is_schemeless(&key))
    __atomic_store_n(&self->schemeless_urls, self->schemeless_urls + (gsize) delta, __ATOMIC_RELEASE);
}

/* ---- writer ----------------------------------------------------------- */

static ThreatqMatchEntry *
_find_id(ThreatqMatchSet *self, gint64 id)
{
  ThreatqMatchProbe probe;
  ThreatqMatchEntry *entry;

  threatq_match_probe_init(&probe, self->by_id.slots, _id_hash(id));
  while ((entry = threatq_match_probe_next(&probe)))
    if (entry->id == id)
      return entry;
  return NULL;
}

static ThreatqMatchTable *
_key_table(ThreatqMatchSet *self, const ThreatqMatchEntry *entry)
{
  guint bits = threatq_match_kind_address_bits(entry->kind);
  return bits && entry->prefix_len < bits ? &self->by_prefix : &self->by_key;
}

/*
 * One writer, so a plain release store (no locked add, which waits for the
 * slot stores before it to leave the store buffer).  A reader that sees a
 * later store of this writer (a tombstone) with acquire sees this one too.
 */
static void
_next_generation(ThreatqMatchSet *self)
{
  __atomic_store_n(&self->generation, self->generation + 1, __ATOMIC_RELEASE);
}

static void
_unlink(ThreatqMatchSet *self, ThreatqMatchEntry *entry)
{
  threatq_match_table_remove(_key_table(self, entry), entry);
  threatq_match_table_remove(&self->by_id, entry);
  _count_length(self, entry, -1);
  _count_schemeless(self, entry, -1);
  _next_generation(self);
  g_ptr_array_add(self->retired_entries, entry);
}

static void
_link(ThreatqMatchSet *self, ThreatqMatchEntry *entry)
{
  ThreatqMatchSlots *old;

  _count_length(self, entry, +1);
  _count_schemeless(self, entry, +1);
  _filter_add(self, entry);
  threatq_match_table_insert(_key_table(self, entry), entry, &old);
  _retire_slots(self, old);
  threatq_match_table_insert(&self->by_id, entry, &old);
  g_free(old);
  _next_generation(self);
}

static guint32
_seconds(gint64 seconds)
{
  return (guint32) CLAMP(seconds, 0, (gint64) G_MAXUINT32);
}

/* an entry with its key; the caller fills in the rest */
static ThreatqMatchEntry *
_entry_alloc(ThreatqMatchSet *self, const ThreatqMatchKey *key, guint type_index)
{
  ThreatqMatchEntry *entry = g_malloc(sizeof(ThreatqMatchEntry) + key->length);

  entry->key_hash = _key_hash(self, key->kind, key->prefix_len, key->bytes, key->length);
  entry->key_length = (guint16) key->length;
  entry->kind = (guint8) key->kind;
  entry->prefix_len = (guint8) key->prefix_len;
  entry->type_index = (guint8) type_index;
  memcpy(entry->key, key->bytes, key->length);
  self->entry_bytes += _entry_size(entry);
  return entry;
}

static ThreatqMatchEntry *
_entry_new(ThreatqMatchSet *self, const ThreatqMatchIndicator *indicator, const ThreatqMatchValue *value,
           guint type_index)
{
  ThreatqMatchEntry *entry = _entry_alloc(self, &value->key, type_index);

  entry->id = indicator->id;
  entry->updated_at = _seconds(indicator->updated_at);
  entry->expires_at = _seconds(indicator->expires_at);
  entry->first_seen = _seconds(indicator->first_seen);
  entry->last_seen = _seconds(indicator->last_seen);
  entry->profile = _atom_ref_profile(self, indicator);
  entry->description = _atom_ref_string(self, indicator->description);
  entry->score = indicator->has_score ? (gfloat) indicator->score : NAN;
  return entry;
}

static ThreatqMatchEntry *
_entry_new_raw(ThreatqMatchSet *self, const ThreatqMatchRawEntry *raw)
{
  ThreatqMatchKey key = { raw->kind, raw->prefix_len, raw->key_length, raw->key };
  ThreatqMatchEntry *entry = _entry_alloc(self, &key, raw->type_index);

  entry->id = raw->id;
  entry->updated_at = raw->updated_at;
  entry->expires_at = raw->expires_at;
  entry->first_seen = raw->first_seen;
  entry->last_seen = raw->last_seen;
  /* the atom adds the NUL that ends the providers list */
  entry->profile = _atom_ref(self, raw->profile, raw->profile_length);
  entry->description = raw->description ? _atom_ref(self, raw->description, raw->description_length) : NULL;
  entry->score = raw->score;
  return entry;
}

static gsize
_length_of(const gchar *text, gssize length)
{
  return text && length < 0 ? strlen(text) : (gsize) MAX(length, 0);
}

/* a new id beyond max_size */
static gboolean
_is_full(ThreatqMatchSet *self, const ThreatqMatchEntry *old)
{
  if (old || !self->max_size || self->by_id.live < self->max_size)
    return FALSE;
  self->refused_full++;
  return TRUE;
}

static ThreatqMatchInsertResult
_replace(ThreatqMatchSet *self, ThreatqMatchEntry *old, ThreatqMatchEntry *entry)
{
  /* the new entry first: a lookup meanwhile finds the old, the new or both, never neither */
  _link(self, entry);
  if (!old)
    return THREATQ_MATCH_INSERTED;
  _unlink(self, old);
  return THREATQ_MATCH_REPLACED;
}

static ThreatqMatchInsertResult
_insert(ThreatqMatchSet *self, const ThreatqMatchIndicator *indicator)
{
  ThreatqMatchEntry *old = _find_id(self, indicator->id);
  ThreatqMatchValue value;
  guint type_index;

  if (!threatq_match_value_from_indicator(indicator->type, _length_of(indicator->type, indicator->type_length),
                                          indicator->value, _length_of(indicator->value, indicator->value_length),
                                          &value, &type_index))
    {
      /* the indicator as it is now cannot match: what it was must not either */
      if (old)
        _unlink(self, old);
      self->skipped++;
      return THREATQ_MATCH_SKIPPED;
    }
  if (_is_full(self, old))
    return THREATQ_MATCH_REFUSED_FULL;
  return _replace(self, old, _entry_new(self, indicator, &value, type_index));
}

static void
_after_update(ThreatqMatchSet *self)
{
  if (self->retired_entries->len >= RECLAIM_BATCH || self->retired_slots->len > 0)
    _reclaim(self);
}

ThreatqMatchInsertResult
threatq_match_set_insert(ThreatqMatchSet *self, const ThreatqMatchIndicator *indicator)
{
  g_mutex_lock(&self->writer_lock);
  ThreatqMatchInsertResult result = _insert(self, indicator);
  _after_update(self);
  g_mutex_unlock(&self->writer_lock);
  return result;
}

/* a fixed-size kind's key length, 0 for a string */
static gsize
_kind_length(guint kind)
{
  static const guint8 lengths[THREATQ_MATCH_KIND_COUNT] =
  {
    [THREATQ_MATCH_KIND_IPV4] = 4, [THREATQ_MATCH_KIND_IPV6] = 16, [THREATQ_MATCH_KIND_MD5] = 16,
    [THREATQ_MATCH_KIND_SHA1] = 20, [THREATQ_MATCH_KIND_SHA256] = 32, [THREATQ_MATCH_KIND_SHA384] = 48,
    [THREATQ_MATCH_KIND_SHA512] = 64,
  };
  return lengths[kind];
}

static gboolean
_host_bits_clear(const guint8 *bytes, guint bits, guint prefix_len)
{
  for (guint bit = prefix_len; bit < bits; bit++)
    if (bytes[bit / 8] & (0x80u >> (bit % 8)))
      return FALSE;
  return TRUE;
}

/*
 * What a stored entry (which may come from a damaged or hostile file) must be for the set to stay
 * sound: the prefix length indexes the length bitmaps, the key length the lookups' buffers, the
 * profile is walked up to its empty item.  Whether the key is the normal form of anything is not
 * checked: a wrong one only fails to match.
 */
static gboolean
_raw_entry_is_sound(const ThreatqMatchRawEntry *raw)
{
  if (raw->kind == THREATQ_MATCH_KIND_NONE || raw->kind >= THREATQ_MATCH_KIND_COUNT
      || !threatq_match_type_name(raw->type_index) || !raw->key)
    return FALSE;
  gsize fixed = _kind_length(raw->kind);
  guint bits = threatq_match_kind_address_bits(raw->kind);
  if (fixed ? raw->key_length != fixed : raw->key_length == 0 || raw->key_length > THREATQ_MATCH_VALUE_MAX + 16)
    return FALSE;
  if (bits ? raw->prefix_len > bits || !_host_bits_clear(raw->key, bits, raw->prefix_len) : raw->prefix_len != 0)
    return FALSE;
  /* confidence and TLP at least, each item ended by its NUL */
  if (!raw->profile || raw->profile_length < 2 || raw->profile[raw->profile_length - 1] != '\0'
      || !memchr(raw->profile, '\0', raw->profile_length - 1))
    return FALSE;
  return !raw->description || !memchr(raw->description, '\0', raw->description_length);
}

ThreatqMatchInsertResult
threatq_match_set_insert_entry(ThreatqMatchSet *self, const ThreatqMatchRawEntry *raw)
{
  ThreatqMatchInsertResult result;

  g_mutex_lock(&self->writer_lock);
  ThreatqMatchEntry *old = _find_id(self, raw->id);
  if (!_raw_entry_is_sound(raw))
    {
      self->skipped++;
      result = THREATQ_MATCH_SKIPPED;
    }
  else if (_is_full(self, old))
    result = THREATQ_MATCH_REFUSED_FULL;
  else
    result = _replace(self, old, _entry_new_raw(self, raw));
  _after_update(self);
  g_mutex_unlock(&self->writer_lock);
  return result;
}

gboolean
threatq_match_set_remove(ThreatqMatchSet *self, gint64 id)
{
  g_mutex_lock(&self->writer_lock);
  ThreatqMatchEntry *entry = _find_id(self, id);
  if (entry)
    _unlink(self, entry);
  _after_update(self);
  g_mutex_unlock(&self->writer_lock);
  return entry != NULL;
}

const ThreatqMatchEntry *
threatq_match_set_find_id(ThreatqMatchSet *self, gint64 id)
{
  g_mutex_lock(&self->writer_lock);
  const ThreatqMatchEntry *entry = _find_id(self, id);
  g_mutex_unlock(&self->writer_lock);
  return entry;
}

/* removals only store tombstones, so the slots can be walked while removing */
gsize
threatq_match_set_purge_expired(ThreatqMatchSet *self, gint64 now)
{
  gsize removed = 0;

  g_mutex_lock(&self->writer_lock);
  const ThreatqMatchSlots *slots = self->by_id.slots;
  for (gsize i = 0; i <= slots->mask; i++)
    {
      ThreatqMatchEntry *entry = threatq_match_slots_item(slots, i);
      if (entry && (gint64) entry->expires_at <= now)
        {
          _unlink(self, entry);
          removed++;
        }
    }
  _reclaim(self);
  g_mutex_unlock(&self->writer_lock);
  return removed;
}

void
threatq_match_set_get_stats(ThreatqMatchSet *self, ThreatqMatchSetStats *stats)
{
  g_mutex_lock(&self->writer_lock);
  stats->entries = self->by_id.live;
  stats->refused_full = self->refused_full;
  stats->skipped = self->skipped;
  stats->bytes = self->entry_bytes + self->atom_bytes + threatq_match_table_size(&self->by_key)
                 + threatq_match_table_size(&self->by_prefix)
                 + threatq_match_table_size(&self->by_id) + threatq_match_table_size(&self->atoms)
                 + threatq_match_filter_size(self->filter);
  g_mutex_unlock(&self->writer_lock);
}

gsize
threatq_match_set_get_max_size(ThreatqMatchSet *self)
{
  return self->max_size;
}

void
threatq_match_set_foreach(ThreatqMatchSet *self, ThreatqMatchEntryFunc func, gpointer user_data)
{
  g_mutex_lock(&self->writer_lock);
  const ThreatqMatchSlots *slots = self->by_id.slots;
  for (gsize i = 0; i <= slots->mask; i++)
    {
      const ThreatqMatchEntry *entry = threatq_match_slots_item(slots, i);
      if (entry)
        func(entry, user_data);
    }
  g_mutex_unlock(&self->writer_lock);
}

/* ---- readers ---------------------------------------------------------- */

guint
threatq_match_set_read_begin(ThreatqMatchSet *self)
{
  return threatq_match_rcu_read_lock(self->rcu);
}

void
threatq_match_set_read_end(ThreatqMatchSet *self, guint token)
{
  threatq_match_rcu_read_unlock(self->rcu, token);
}

typedef struct
{
  const ThreatqMatchEntry **hits;
  gsize max_hits;
  gsize count;
  gint64 now;
  const ThreatqMatchFilter *filter;
} Hits;

static inline gint64
_now(Hits *hits)
{
  if (G_UNLIKELY(hits->now == THREATQ_MATCH_SET_CLOCK))
    hits->now = (gint64) time(NULL);
  return hits->now;
}

/* the live entries of exactly this key (its hash) in the table, past the filter */
static gsize
_probe_table(const ThreatqMatchSlots *slots, const ThreatqMatchKey *key, guint32 hash, Hits *hits)
{
  ThreatqMatchProbe probe;
  const ThreatqMatchEntry *entry;
  gsize found = 0;

  threatq_match_probe_init(&probe, slots, hash);
  while ((entry = threatq_match_probe_next(&probe)))
    {
      if (entry->key_hash != hash || entry->kind != key->kind || entry->prefix_len != key->prefix_len
          || entry->key_length != key->length || memcmp(entry->key, key->bytes, key->length) != 0
          || (gint64) entry->expires_at <= _now(hits))
        continue;
      found++;
      if (hits->count < hits->max_hits)
        hits->hits[hits->count++] = entry;
    }
  return found;
}

/* the live entries of exactly this key (its hash), placed by its own hash */
static gsize
_probe_hashed(const ThreatqMatchSlots *slots, const ThreatqMatchKey *key, guint32 hash, Hits *hits)
{
  if (!threatq_match_filter_may_contain(hits->filter, hash, hash))
    return 0;
  return _probe_table(slots, key, hash, hits);
}

static gsize
_probe(ThreatqMatchSet *self, const ThreatqMatchSlots *slots, const ThreatqMatchKey *key, Hits *hits)
{
  return _probe_hashed(slots, key, _key_hash(self, key->kind, key->prefix_len, key->bytes, key->length), hits);
}

/* the entries of the CIDR block of this length around the address: the filter first, at place */
static gsize
_probe_prefix(ThreatqMatchSet *self, const ThreatqMatchSlots *slots, const ThreatqMatchKey *key,
              ThreatqMatchPrefix address, guint length, guint32 place, Hits *hits)
{
  ThreatqMatchPrefix masked = threatq_match_prefix_mask(address, length);
  guint8 bytes[16];
  ThreatqMatchKey prefix = { key->kind, length, key->length, bytes };

  if (!threatq_match_filter_may_contain(hits->filter, place, _prefix_bits(self, place, key->kind, length, masked)))
    return 0;
  threatq_match_prefix_to_bytes(masked, bytes, key->length);
  return _probe_table(slots, &prefix, _key_hash(self, key->kind, length, bytes, key->length), hits);
}

/* the bits of lengths[family] from `from` to `to`, both included and in one word */
static guint64
_lengths_between(ThreatqMatchSet *self, guint family, guint from, guint to)
{
  guint64 present = __atomic_load_n(&self->lengths[family][from / 64], __ATOMIC_ACQUIRE);
  guint64 upto = to % 64 == 63 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << (to % 64 + 1)) - 1;

  return present & upto & ~((G_GUINT64_CONSTANT(1) << (from % 64)) - 1);
}

/* the places of an address's regions, computed once a lookup */
typedef struct
{
  ThreatqMatchKind kind;
  ThreatqMatchPrefix address;
  guint shift;                  /* _region_shift() */
  guint32 known;                /* bit i: place[i] is computed */
  guint32 tested;               /* bit i: region i's marker was tested */
  guint32 empty;                /* bit i: region i holds no CIDR block (its marker is absent) */
  guint32 place[128 / 8];
} Regions;

static guint32
_regions_place(ThreatqMatchSet *self, Regions *regions, guint length)
{
  guint i = length >> regions->shift;

  if (!(regions->known & (1u << i)))
    {
      regions->place[i] = _region_place(self, regions->kind, i << regions->shift, regions->address);
      regions->known |= 1u << i;
    }
  return regions->place[i];
}

/* whether the region of this length may hold a CIDR block (its marker tested once a lookup) */
static gboolean
_regions_may_hold(ThreatqMatchSet *self, Regions *regions, const ThreatqMatchFilter *filter, guint length)
{
  guint i = length >> regions->shift;

  if (!(regions->tested & (1u << i)))
    {
      guint32 place = _regions_place(self, regions, length);
      if (!threatq_match_filter_may_contain(filter, place, _region_marker_bits(self, place, regions->kind)))
        regions->empty |= 1u << i;
      regions->tested |= 1u << i;
    }
  return !(regions->empty & (1u << i));
}

/*
 * The regions (as Regions.empty) that hold no address block because the
 * address's marks are clear: IPv4 /8 (lengths 8 to 15) and /16 (16 to 31),
 * IPv6 /16 (16 to 127).  Even a feed of tens of thousands of blocks leaves
 * most /16s without one, and most log addresses in them.
 */
static guint32
_regions_unmarked(const ThreatqMatchFilter *filter, ThreatqMatchKind kind, ThreatqMatchPrefix address)
{
  if (kind == THREATQ_MATCH_KIND_IPV4)
    return (threatq_match_filter_marked(filter, _mark_of(kind, 8, address)) ? 0 : 1u << 1)
           | (threatq_match_filter_marked(filter, _mark_of(kind, 16, address)) ? 0 : 1u << 2 | 1u << 3);
  return threatq_match_filter_marked(filter, _mark_of(kind, 16, address)) ? 0 : 0xfeu;
}

/*
 * The filter blocks a walk up to key->prefix_len will read, asked for at
 * once: an address that misses costs two or three cache misses, and they
 * overlap.  (A length that a writer adds meanwhile is placed when the walk
 * comes to it.)
 */
static void
_prefetch_regions(ThreatqMatchSet *self, const ThreatqMatchKey *key, guint32 exact_hash,
                  const ThreatqMatchFilter *filter, Regions *regions)
{
  guint bits = threatq_match_kind_address_bits(key->kind);
  guint family = key->kind == THREATQ_MATCH_KIND_IPV6;
  guint step = 1u << regions->shift;

  if (key->prefix_len == bits && _lengths_between(self, family, bits, bits))
    threatq_match_filter_prefetch(filter, exact_hash);
  for (guint region = 0; region < bits && region <= key->prefix_len; region += step)
    if (!(regions->empty & (1u << (region >> regions->shift)))
        && _lengths_between(self, family, region, MIN(region + step - 1, key->prefix_len)))
      threatq_match_filter_prefetch(filter, _regions_place(self, regions, region));
}

/*
 * Whether a region that the marks leave open (not in `unmarked`) holds a
 * present length below the address's own.  Usually none does: a log
 * address outside every marked /8 and /16 then needs its own probe only,
 * without the walk below, which was most of an address lookup.
 */
static inline gboolean
_open_regions_hold_lengths(ThreatqMatchSet *self, guint family, guint32 unmarked)
{
  return (__atomic_load_n(&self->regions[family], __ATOMIC_ACQUIRE) & ~unmarked) != 0;
}

/* every present length from key->prefix_len down, region by region (the marks' `unmarked` skipped) */
static void
_walk_lengths(ThreatqMatchSet *self, const ThreatqMatchKey *key, guint bits, ThreatqMatchPrefix address,
              guint32 unmarked, guint32 exact_hash, Hits *hits)
{
  const ThreatqMatchSlots *exact = threatq_match_table_slots(&self->by_key);
  const ThreatqMatchSlots *prefixes = threatq_match_table_slots(&self->by_prefix);
  guint family = key->kind == THREATQ_MATCH_KIND_IPV6;
  /* field by field: an initialiser would clear place[] too, a tenth of a lookup */
  Regions regions;
  regions.kind = key->kind;
  regions.address = address;
  regions.shift = _region_shift(bits);
  regions.known = 0;
  regions.tested = regions.empty = unmarked;

  _prefetch_regions(self, key, exact_hash, hits->filter, &regions);
  for (gint word = (gint) key->prefix_len / 64; word >= 0; word--)
    {
      guint64 present = __atomic_load_n(&self->lengths[family][word], __ATOMIC_ACQUIRE);
      if ((guint) word == key->prefix_len / 64 && key->prefix_len % 64 != 63)
        present &= (G_GUINT64_CONSTANT(1) << (key->prefix_len % 64 + 1)) - 1;
      while (present)
        {
          guint length = (guint) word * 64 + 63 - (guint) __builtin_clzll(present);
          present &= ~(G_GUINT64_CONSTANT(1) << (length % 64));
          if (length == bits)
            {
              if (_probe_hashed(exact, key, exact_hash, hits))
                return;
            }
          else if (!_regions_may_hold(self, &regions, hits->filter, length))
            /* the region's other lengths too (a region lies within one word: 8 or 16 divides 64) */
            present &= ~(((G_GUINT64_CONSTANT(1) << (1u << regions.shift)) - 1)
                         << (_region_length(bits, length) % 64));
          else if (_probe_prefix(self, prefixes, key, regions.address, length,
                                 _regions_place(self, &regions, length), hits))
            return;
        }
    }
}

/* the longest prefix length up to key->prefix_len holding a live entry (bits: the kind's) */
static void
_lookup_address(ThreatqMatchSet *self, const ThreatqMatchKey *key, guint bits, Hits *hits)
{
  const ThreatqMatchSlots *exact = threatq_match_table_slots(&self->by_key);
  guint family = key->kind == THREATQ_MATCH_KIND_IPV6;
  if (key->length * 8 != bits)
    return;
  ThreatqMatchPrefix address = threatq_match_prefix_from_bytes(key->bytes, key->length);
  guint32 unmarked = _regions_unmarked(hits->filter, key->kind, address);
  /* the full address's own hash, once: for the prefetch and for its probe */
  guint32 exact_hash = key->prefix_len == bits ? _key_hash(self, key->kind, bits, key->bytes, key->length) : 0;

  if (key->prefix_len == bits && !_open_regions_hold_lengths(self, family, unmarked))
    {
      if (__atomic_load_n(&self->lengths[family][bits / 64], __ATOMIC_ACQUIRE) >> (bits % 64) & 1)
        _probe_hashed(exact, key, exact_hash, hits);
      return;
    }
  _walk_lengths(self, key, bits, address, unmarked, exact_hash, hits);
}

/* the name, then (parent_domains) each parent, until one holds a live entry */
static void
_lookup_hostname(ThreatqMatchSet *self, const ThreatqMatchSlots *slots, const ThreatqMatchKey *key,
                 gboolean parent_domains, Hits *hits)
{
  ThreatqMatchKey name = *key;

  while (!_probe(self, slots, &name, hits) && parent_domains)
    {
      const guint8 *dot = memchr(name.bytes, '.', name.length);
      if (!dot)
        return;
      name.length -= (gsize) (dot + 1 - name.bytes);
      name.bytes = dot + 1;
    }
}

/*
 * The URL, and for http(s) the indicators that were given without a scheme,
 * when the set holds any (else that second key, hash and filter read would
 * be a third of a URL's lookup for nothing).
 */
static void
_lookup_url(ThreatqMatchSet *self, const ThreatqMatchSlots *slots, const ThreatqMatchKey *key, Hits *hits)
{
  ThreatqMatchKey schemeless;

  _probe(self, slots, key, hits);
  if (__atomic_load_n(&self->schemeless_urls, __ATOMIC_ACQUIRE) && threatq_match_key_schemeless(key, &schemeless))
    _probe(self, slots, &schemeless, hits);
}

gsize
threatq_match_set_lookup(ThreatqMatchSet *self, const ThreatqMatchKey *key, gint64 now, gboolean parent_domains,
                         const ThreatqMatchEntry **hits, gsize max_hits)
{
  Hits found = { hits, max_hits, 0, now, NULL };
  guint bits = threatq_match_kind_address_bits(key->kind);

  for (guint attempt = 0; attempt < LOOKUP_RETRIES && found.count == 0; attempt++)
    {
      guint64 generation = __atomic_load_n(&self->generation, __ATOMIC_ACQUIRE);
      /* after the generation: it holds the bits of every entry linked up to it */
      found.filter = __atomic_load_n(&self->filter, __ATOMIC_ACQUIRE);
      const ThreatqMatchSlots *slots = threatq_match_table_slots(&self->by_key);

      if (bits)
        _lookup_address(self, key, bits, &found);
      else if (key->kind == THREATQ_MATCH_KIND_HOSTNAME)
        _lookup_hostname(self, slots, key, parent_domains, &found);
      else if (key->kind == THREATQ_MATCH_KIND_URL)
        _lookup_url(self, slots, key, &found);
      else if (key->kind != THREATQ_MATCH_KIND_NONE)
        _probe(self, slots, key, &found);
      /*
       * An update that moved an indicator to another key (10.9.0.0/16 to
       * 10.9.9.0/24) may have linked the new key where this lookup had
       * looked and unlinked the old before it looked there: a miss during
       * an update is looked up again.
       */
      if (found.count || __atomic_load_n(&self->generation, __ATOMIC_ACQUIRE) == generation)
        break;
    }
  return found.count;
}

static gboolean
_better(const ThreatqMatchEntry *a, const ThreatqMatchEntry *b)
{
  gboolean a_scored = !isnan(a->score), b_scored = !isnan(b->score);

  if (a_scored != b_scored)
    return a_scored;
  if (a_scored && a->score != b->score)
    return a->score > b->score;
  if (a->updated_at != b->updated_at)
    return a->updated_at > b->updated_at;
  return a->id > b->id;
}

const ThreatqMatchEntry *
threatq_match_best_hit(const ThreatqMatchEntry *const *hits, gsize count)
{
  const ThreatqMatchEntry *best = count ? hits[0] : NULL;

  for (gsize i = 1; i < count; i++)
    if (_better(hits[i], best))
      best = hits[i];
  return best;
}

void
threatq_match_entry_key(const ThreatqMatchEntry *entry, ThreatqMatchKey *key)
{
  key->kind = entry->kind;
  key->prefix_len = entry->prefix_len;
  key->length = entry->key_length;
  key->bytes = entry->key;
}

gsize
threatq_match_entry_profile(const ThreatqMatchEntry *entry, const gchar **profile)
{
  const gchar *end = entry->profile;

  /* confidence and TLP (either may be empty), then providers up to the empty item */
  end += strlen(end) + 1;
  end += strlen(end) + 1;
  while (*end)
    end += strlen(end) + 1;
  *profile = entry->profile;
  return (gsize) (end - entry->profile);
}

const gchar *
threatq_match_entry_confidence(const ThreatqMatchEntry *entry)
{
  return *entry->profile ? entry->profile : NULL;
}

static const gchar *
_profile_tlp(const ThreatqMatchEntry *entry)
{
  return entry->profile + strlen(entry->profile) + 1;
}

const gchar *
threatq_match_entry_tlp(const ThreatqMatchEntry *entry)
{
  const gchar *tlp = _profile_tlp(entry);
  return *tlp ? tlp : NULL;
}

const gchar *
threatq_match_entry_next_provider(const ThreatqMatchEntry *entry, const gchar *previous)
{
  const gchar *tlp = _profile_tlp(entry);
  const gchar *next = previous ? previous + strlen(previous) + 1 : tlp + strlen(tlp) + 1;
  return *next ? next : NULL;
}
