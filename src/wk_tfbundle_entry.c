/*
** wk_tfbundle_entry.c — decoding a bundle's protobuf values (keras-formats.md §5.3): the
** BundleHeaderProto under key "", each BundleEntryProto, TF DataType -> wk dtype, and the key
** TF gives each slice of a partitioned tensor.
**
** PROTO FACTS (field number: type). BundleHeaderProto: 1 num_shards int32, 2 endianness enum
** {LITTLE 0, BIG 1}, 3 version VersionDef {1 producer, 2 min_consumer, 3 bad_consumers repeated
** int32}. BundleEntryProto: 1 dtype, 2 shape TensorShapeProto {2 dim repeated {1 size int64,
** 2 name}, 3 unknown_rank bool}, 3 shard_id int32, 4 offset int64, 5 size int64, 6 crc32c
** fixed32 (masked), 7 slices repeated TensorSliceProto {1 extent repeated {1 start int64,
** 2 length int64; no length = the whole dim}}. proto3: absent scalars are 0. Unknown fields
** and known fields with an unexpected wire type are skipped, as protobuf parsers do.
**
** SLICE KEYS (TF's EncodeTensorNameSlice, built with its OrderedCode): NumIncreasing(0),
** String(name), NumIncreasing(rank), then per dim SignedNumIncreasing(start) and
** SignedNumIncreasing(length), length -1 for a whole dim. NumIncreasing(v) = one byte n (the
** count of v's big-endian bytes without leading zeros) then those n bytes. String(s) = s with
** 0x00 -> 00 FF and 0xFF -> FF 00, then the terminator 00 01. SignedNumIncreasing(v): with
** x = v < 0 ? ~v : v and b the bit length of x, it takes len = b / 7 + 1 bytes: the last len
** bytes of v's 10-byte big-endian two's-complement (sign-extended) form, whose first bits are
** flipped by a header of len one bits then a zero (len 9 and 10 spill into the second byte).
*/
#include <stdio.h>
#include <string.h>

#include "wk_internal.h"
#include "wk_proto.h"
#include "wk_tfbundle.h"

/* The bundle format version this reader implements (TF's kTensorBundleVersion). */
#define BUNDLE_CONSUMER 1

static wk_status malformed(const char *name, const char *what, const char *why, wk_error *err) {
  return wk__error_set(err, WK_EFORMAT, "%s: corrupt %s: %s", name, what, why);
}

/* {====================================================================
** Header
** ===================================================================== */

static wk_status decode_version(const unsigned char *p, size_t len, const char *name, wk_error *err) {
  wk__pb r = wk__pb_init(p, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  int64_t producer = 0, min_consumer = 0;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    if (fd.number == 1 && fd.wire == 0) producer = (int32_t)fd.value;
    else if (fd.number == 2 && fd.wire == 0) min_consumer = (int32_t)fd.value;
    else if (fd.number == 3 && fd.wire == 0) {
      if ((int32_t)fd.value == BUNDLE_CONSUMER) goto bad_consumer;
    } else if (fd.number == 3 && fd.wire == 2) { /* packed */
      const unsigned char *q = fd.data, *end = fd.data + fd.len;
      while (q < end) {
        uint64_t v;
        if (!wk__pb_varint64(&q, end, &v)) return malformed(name, "bundle header", "bad packed bad_consumers", err);
        if ((int32_t)v == BUNDLE_CONSUMER) goto bad_consumer;
      }
    }
  }
  if (rc < 0) return malformed(name, "bundle header version", why, err);
  if (producer < 0)
    return wk__error_set(err, WK_EFORMAT, "%s: bundle producer version %lld is below the minimum 0", name,
                         (long long)producer);
  if (min_consumer > BUNDLE_CONSUMER)
    return wk__error_set(err, WK_EFORMAT,
                         "%s: the bundle needs a reader of version >= %lld (this one is %d): written by a newer "
                         "TensorFlow with format changes",
                         name, (long long)min_consumer, BUNDLE_CONSUMER);
  return WK_OK;
bad_consumer:
  return wk__error_set(err, WK_EFORMAT, "%s: the bundle disallows reader version %d (bad_consumers)", name,
                       BUNDLE_CONSUMER);
}

wk_status wk__tf_header_decode(const unsigned char *value, size_t len, const char *name, wk__tf_header *out,
                               wk_error *err) {
  wk__pb r = wk__pb_init(value, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  int64_t shards = 0, endian = 0;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    if (fd.number == 1 && fd.wire == 0) shards = (int64_t)fd.value;
    else if (fd.number == 2 && fd.wire == 0) endian = (int64_t)fd.value;
    else if (fd.number == 3 && fd.wire == 2) {
      wk_status st = decode_version(fd.data, fd.len, name, err);
      if (st != WK_OK) return st;
    }
  }
  if (rc < 0) return malformed(name, "bundle header", why, err);
  if (shards < 1 || shards > INT32_MAX)
    return wk__error_set(err, WK_EFORMAT, "%s: bundle header: bad num_shards %lld", name, (long long)shards);
  if (endian != 0 && endian != 1)
    return wk__error_set(err, WK_EFORMAT, "%s: bundle header: unknown endianness %lld", name, (long long)endian);
  out->num_shards = (int32_t)shards;
  out->big_endian = endian == 1;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Data types
** ===================================================================== */

static const char *const tf_names[] = {
  "invalid", "float32", "float64", "int32", "uint8", "int16", "int8", "string", "complex64", "int64",
  "bool", "qint8", "quint8", "qint32", "bfloat16", "qint16", "quint16", "uint16", "complex128", "float16",
  "resource", "variant", "uint32", "uint64", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz",
  "float8_e4m3b11fnuz", "float8_e5m2fnuz", "int4", "uint4", "int2", "uint2"};

/* TF DataType -> wk dtype (WK_DTYPE_COUNT: no wk dtype) and a display name (arena for unknowns). */
static const char *map_dtype(wk__arena *arena, int32_t tf, wk_dtype *out) {
  static const struct { int32_t tf; wk_dtype wk; } map[] = {
    {1, WK_FLOAT32}, {2, WK_FLOAT64}, {3, WK_INT32}, {4, WK_UINT8}, {5, WK_INT16}, {6, WK_INT8},
    {9, WK_INT64}, {10, WK_BOOL}, {14, WK_BFLOAT16}, {17, WK_UINT16}, {19, WK_FLOAT16},
    {22, WK_UINT32}, {23, WK_UINT64}};
  size_t i;
  char buf[48];
  *out = WK_DTYPE_COUNT;
  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].tf == tf) {
      *out = map[i].wk;
      return wk_dtype_name(map[i].wk);
    }
  if (tf >= 0 && (size_t)tf < sizeof tf_names / sizeof tf_names[0]) return tf_names[tf];
  if (tf > 100 && (size_t)(tf - 100) < sizeof tf_names / sizeof tf_names[0])
    snprintf(buf, sizeof buf, "%s_ref", tf_names[tf - 100]);
  else
    snprintf(buf, sizeof buf, "DataType %ld", (long)tf);
  return wk__arena_strdup(arena, buf);
}

/* }==================================================================== */

/* {====================================================================
** Entries
** ===================================================================== */

static wk_status decode_shape(const unsigned char *p, size_t len, const char *ctx, wk__tf_entry *e, wk_error *err) {
  wk__pb r = wk__pb_init(p, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  e->rank = 0;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    if (fd.number == 3 && fd.wire == 0 && fd.value != 0)
      return wk__error_set(err, WK_EFORMAT, "%s: shape of unknown rank", ctx);
    if (fd.number == 2 && fd.wire == 2) {
      wk__pb d = wk__pb_init(fd.data, fd.len);
      wk__pb_field df;
      int64_t size = 0;
      while ((rc = wk__pb_next(&d, &df, &why)) > 0)
        if (df.number == 1 && df.wire == 0) size = (int64_t)df.value;
      if (rc < 0) break;
      if (e->rank == WK_MAX_RANK)
        return wk__error_set(err, WK_ELIMIT, "%s: shape has more than %d dims", ctx, WK_MAX_RANK);
      if (size < 0) return wk__error_set(err, WK_EFORMAT, "%s: shape has a dim of size %lld", ctx, (long long)size);
      e->shape[e->rank++] = size;
    }
  }
  if (rc < 0) return malformed(ctx, "shape", why, err);
  return WK_OK;
}

static wk_status decode_slice(const unsigned char *p, size_t len, const char *ctx, const wk__tf_entry *e,
                              wk__tf_slice *s, wk_error *err) {
  wk__pb r = wk__pb_init(p, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc, dims = 0;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    if (fd.number == 1 && fd.wire == 2) {
      wk__pb x = wk__pb_init(fd.data, fd.len);
      wk__pb_field xf;
      int64_t start = 0, length = -1;
      while ((rc = wk__pb_next(&x, &xf, &why)) > 0) {
        if (xf.number == 1 && xf.wire == 0) start = (int64_t)xf.value;
        else if (xf.number == 2 && xf.wire == 0) length = (int64_t)xf.value;
      }
      if (rc < 0) break;
      if (dims == e->rank) return wk__error_set(err, WK_EFORMAT, "%s: a slice has more extents than the shape has dims", ctx);
      if (length == -1 && start != 0)
        return wk__error_set(err, WK_EFORMAT, "%s: a whole-dim slice extent starts at %lld", ctx, (long long)start);
      if (length != -1 && (start < 0 || length < 0 || start > e->shape[dims] || length > e->shape[dims] - start))
        return wk__error_set(err, WK_EFORMAT, "%s: slice extent [%lld, +%lld) outside dim %d of size %lld", ctx,
                             (long long)start, (long long)length, dims, (long long)e->shape[dims]);
      s->start[dims] = start;
      s->length[dims] = length;
      dims++;
    }
  }
  if (rc < 0) return malformed(ctx, "slice", why, err);
  if (dims != e->rank)
    return wk__error_set(err, WK_EFORMAT, "%s: a slice has %d extents for %d dims", ctx, dims, e->rank);
  return WK_OK;
}

wk_status wk__tf_entry_decode(wk__arena *arena, const unsigned char *value, size_t len, const char *name,
                              int32_t num_shards, wk__tf_entry *e, wk_error *err) {
  wk__pb r = wk__pb_init(value, len);
  wk__pb_field fd;
  const char *why = NULL;
  char ctx[300];
  int rc, i;
  size_t nslices = 0, k;
  int64_t shard = 0;
  wk_status st;
  snprintf(ctx, sizeof ctx, "%s: key %s", name, e->key);
  e->tf_dtype = 0;
  e->rank = 0;
  e->offset = e->size = 0;
  e->masked_crc = 0;
  /* first pass: scalars, shape, slice count */
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    switch (fd.number) {
    case 1: if (fd.wire == 0) e->tf_dtype = (int32_t)fd.value; break;
    case 2:
      if (fd.wire == 2 && (st = decode_shape(fd.data, fd.len, ctx, e, err)) != WK_OK) return st;
      break;
    case 3: if (fd.wire == 0) shard = (int64_t)fd.value; break;
    case 4: if (fd.wire == 0) e->offset = (int64_t)fd.value; break;
    case 5: if (fd.wire == 0) e->size = (int64_t)fd.value; break;
    case 6: if (fd.wire == 5) e->masked_crc = (uint32_t)fd.value; break;
    case 7: if (fd.wire == 2) nslices++; break;
    default: break;
    }
  }
  if (rc < 0) return malformed(ctx, "entry", why, err);
  e->dtype_name = map_dtype(arena, e->tf_dtype, &e->dtype);
  if (e->dtype_name == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", name);
  e->numel = 1;
  for (i = 0; i < e->rank; i++)
    if (!wk__mul_i64(e->numel, e->shape[i], &e->numel))
      return wk__error_set(err, WK_ELIMIT, "%s: element count overflows", ctx);
  if (nslices > 0) {
    e->slices = (wk__tf_slice *)wk__arena_calloc(arena, nslices, sizeof *e->slices);
    if (e->slices == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", name);
    r = wk__pb_init(value, len);
    k = 0;
    while (wk__pb_next(&r, &fd, &why) > 0)
      if (fd.number == 7 && fd.wire == 2 && (st = decode_slice(fd.data, fd.len, ctx, e, &e->slices[k++], err)) != WK_OK)
        return st;
    e->slice_count = nslices;
    return WK_OK;
  }
  if (shard < 0 || shard >= num_shards)
    return wk__error_set(err, WK_EFORMAT, "%s: shard_id %lld outside the bundle's %ld shards", ctx, (long long)shard,
                         (long)num_shards);
  e->shard_id = (int32_t)shard;
  if (e->offset < 0 || e->size < 0)
    return wk__error_set(err, WK_EFORMAT, "%s: negative offset or size", ctx);
  if (e->dtype != WK_DTYPE_COUNT) {
    int64_t want;
    if (!wk__mul_i64(e->numel, (int64_t)wk_dtype_size(e->dtype), &want))
      return wk__error_set(err, WK_ELIMIT, "%s: byte size overflows", ctx);
    if (want != e->size)
      return wk__error_set(err, WK_EFORMAT, "%s: invalid size in bundle entry: %lld bytes for %lld %s elements", ctx,
                           (long long)e->size, (long long)e->numel, e->dtype_name);
  } else if (e->tf_dtype == WK__TF_STRING && e->numel > e->size) {
    return wk__error_set(err, WK_EFORMAT, "%s: invalid size in bundle entry: %lld bytes for %lld strings", ctx,
                         (long long)e->size, (long long)e->numel);
  }
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Slice keys
** ===================================================================== */

static size_t put_num(unsigned char *out, uint64_t v) {
  unsigned char tmp[8];
  size_t n = 0, i;
  while (v > 0) {
    tmp[n++] = (unsigned char)(v & 0xff);
    v >>= 8;
  }
  out[0] = (unsigned char)n;
  for (i = 0; i < n; i++) out[1 + i] = tmp[n - 1 - i];
  return n + 1;
}

static size_t put_signed(unsigned char *out, int64_t v) {
  static const unsigned char hdr0[11] = {0, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff, 0xff, 0xff};
  static const unsigned char hdr1[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xc0};
  uint64_t x = v < 0 ? ~(uint64_t)v : (uint64_t)v, u = (uint64_t)v;
  unsigned char buf[10];
  int bits = 0, len, i;
  while (bits < 64 && (x >> bits) != 0) bits++;
  len = bits / 7 + 1;
  buf[0] = buf[1] = v < 0 ? 0xff : 0x00;
  for (i = 0; i < 8; i++) buf[2 + i] = (unsigned char)(u >> (56 - 8 * i));
  memcpy(out, buf + 10 - len, (size_t)len);
  out[0] ^= hdr0[len];
  if (len > 1) out[1] ^= hdr1[len];
  return (size_t)len;
}

char *wk__tf_slice_key(wk__arena *arena, const char *key, size_t key_len, int rank, const wk__tf_slice *s,
                       size_t *len) {
  size_t cap, n = 0, i, escapes = 0;
  unsigned char *out;
  int d;
  for (i = 0; i < key_len; i++) escapes += (unsigned char)key[i] == 0x00 || (unsigned char)key[i] == 0xff;
  cap = key_len + escapes + 2 + 2 + 9 + (size_t)rank * 20 + 1; /* key_len bounded by the index size */
  out = (unsigned char *)wk__arena_alloc(arena, cap);
  if (out == NULL) return NULL;
  n += put_num(out + n, 0);
  for (i = 0; i < key_len; i++) {
    unsigned char c = (unsigned char)key[i];
    out[n++] = c;
    if (c == 0x00) out[n++] = 0xff;
    else if (c == 0xff) out[n++] = 0x00;
  }
  out[n++] = 0x00;
  out[n++] = 0x01;
  n += put_num(out + n, (uint64_t)rank);
  for (d = 0; d < rank; d++) {
    n += put_signed(out + n, s->start[d]);
    n += put_signed(out + n, s->length[d]);
  }
  *len = n;
  return (char *)out;
}

/* }==================================================================== */
