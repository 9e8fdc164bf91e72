/*
** wk_sstable.c — reading the LevelDB-style table of a TF bundle's `.index` (see wk_sstable.h and
** keras-formats.md §5.2).
**
** LAYOUT. data blocks, a metaindex block (ignored: TF writes no filters), an index block, and a
** 48-byte footer: two BlockHandles (varint64 offset, varint64 size) for metaindex and index,
** zero padding to byte 40, the 8-byte magic. Each block's `size` bytes of contents are followed
** by a 5-byte trailer: a compression byte (0 none, 1 Snappy) and the masked CRC-32C of the
** contents and that byte. Decoded contents = entries, then uint32 restart offsets, then uint32
** restart count. An entry = varint32 shared, varint32 unshared, varint32 value length, the
** unshared key bytes, the value; its key is the previous key's first `shared` bytes followed
** by the unshared bytes; an entry at a restart offset has shared = 0. Index block values are
** the BlockHandles of the data blocks, keyed by separators >= every key of their block.
**
** OWNERSHIP. Key buffers and decompressed blocks are malloc'd by the iterator and freed by
** wk__sst_close; everything else points into the caller's bytes.
*/
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "wk_crc32c.h"
#include "wk_internal.h"
#include "wk_proto.h"
#include "wk_sstable.h"

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static wk_status corrupt(const wk__sst_iter *it, const char *what, uint64_t offset, wk_error *err) {
  return wk__error_set(err, WK_EFORMAT, "%s: corrupt table: %s (block at offset %llu)", it->name, what,
                       (unsigned long long)offset);
}

/* Bytewise comparison, a shorter prefix first (LevelDB's BytewiseComparator). */
static int key_cmp(const unsigned char *a, size_t la, const unsigned char *b, size_t lb) {
  size_t n = la < lb ? la : lb;
  int c = n ? memcmp(a, b, n) : 0; /* an empty key's buffer may be NULL */
  if (c != 0) return c;
  return la < lb ? -1 : la > lb;
}

static int reserve(unsigned char **buf, size_t *cap, size_t need) {
  unsigned char *p;
  size_t n;
  if (need <= *cap) return 1;
  n = *cap ? *cap : 64;
  while (n < need) {
    if (n > SIZE_MAX / 2) return 0;
    n *= 2;
  }
  p = (unsigned char *)realloc(*buf, n);
  if (p == NULL) return 0;
  *buf = p;
  *cap = n;
  return 1;
}

static void block_reset(wk__sst_block *b) {
  free(b->owned);
  b->owned = NULL;
  b->data = NULL;
  b->limit = b->pos = 0;
  b->num_restarts = b->next_restart = 0;
  b->key_len = 0;
}

/* Loads the block `handle` points at: bounds, CRC, decompression, restart array. */
static wk_status block_load(wk__sst_iter *it, wk__sst_block *b, uint64_t offset, uint64_t size, wk_error *err) {
  const unsigned char *raw;
  const unsigned char *contents;
  size_t n, body_end = it->size - WK__SST_FOOTER, i;
  uint32_t stored, actual, prev = 0;
  block_reset(b);
  b->offset = offset;
  if (offset > body_end || size > body_end - offset || body_end - offset - size < WK__SST_TRAILER)
    return corrupt(it, "block handle points outside the table", offset, err);
  raw = it->file + offset;
  n = (size_t)size;
  stored = le32(raw + n + 1);
  actual = wk__crc32c(raw, n + 1);
  if (wk__crc32c_unmask(stored) != actual) return corrupt(it, "block checksum mismatch", offset, err);
  contents = raw;
  if (raw[n] == 1) {
    size_t out_len = 0;
    if (snappy_uncompressed_length((const char *)raw, n, &out_len) != SNAPPY_OK)
      return corrupt(it, "bad Snappy block header", offset, err);
    if (out_len > it->max_block)
      return wk__error_set(err, WK_ELIMIT, "%s: table block at offset %llu decompresses to %zu bytes (limit %zu)",
                           it->name, (unsigned long long)offset, out_len, it->max_block);
    b->owned = (unsigned char *)malloc(out_len ? out_len : 1);
    if (b->owned == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", it->name);
    {
      size_t got = out_len;
      if (snappy_uncompress((const char *)raw, n, (char *)b->owned, &got) != SNAPPY_OK || got != out_len)
        return corrupt(it, "bad Snappy block", offset, err);
    }
    contents = b->owned;
    n = out_len;
  } else if (raw[n] != 0) {
    return corrupt(it, "unknown block compression type", offset, err);
  }
  if (n < 4) return corrupt(it, "block too small", offset, err);
  b->num_restarts = le32(contents + n - 4);
  if (b->num_restarts == 0 || b->num_restarts > (n - 4) / 4) return corrupt(it, "bad restart count", offset, err);
  b->limit = n - 4 - (size_t)b->num_restarts * 4;
  b->restarts = contents + b->limit;
  for (i = 0; i < b->num_restarts; i++) {
    uint32_t r = le32(b->restarts + 4 * i);
    if ((i == 0 && r != 0) || (i > 0 && r <= prev) || (r >= b->limit && !(r == 0 && b->limit == 0)))
      return corrupt(it, "bad restart offset", offset, err);
    prev = r;
  }
  b->data = contents;
  b->pos = 0;
  b->next_restart = 0;
  return WK_OK;
}

/* The block's next entry: *has = 0 at its end. */
static wk_status block_next(wk__sst_iter *it, wk__sst_block *b, int *has, wk_error *err) {
  const unsigned char *p = b->data + b->pos, *end = b->data + b->limit;
  uint32_t shared, unshared, vlen;
  *has = 0;
  if (b->pos >= b->limit) return WK_OK;
  if (b->next_restart < b->num_restarts) {
    uint32_t r = le32(b->restarts + 4 * b->next_restart);
    if (b->pos > r) return corrupt(it, "restart offset inside an entry", b->offset, err);
  }
  if (!wk__pb_varint32(&p, end, &shared) || !wk__pb_varint32(&p, end, &unshared) ||
      !wk__pb_varint32(&p, end, &vlen))
    return corrupt(it, "truncated entry header", b->offset, err);
  if (b->next_restart < b->num_restarts && b->pos == le32(b->restarts + 4 * b->next_restart)) {
    if (shared != 0) return corrupt(it, "restart entry shares a key prefix", b->offset, err);
    b->next_restart++;
  }
  if (shared > b->key_len) return corrupt(it, "entry shares more than the previous key", b->offset, err);
  if (unshared > (size_t)(end - p) || vlen > (size_t)(end - p) - unshared)
    return corrupt(it, "entry runs past its block", b->offset, err);
  if (!reserve(&b->key, &b->key_cap, (size_t)shared + unshared))
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", it->name);
  if (unshared) memcpy(b->key + shared, p, unshared);
  b->key_len = (size_t)shared + unshared;
  b->value = p + unshared;
  b->value_len = vlen;
  b->pos = (size_t)(b->value + vlen - b->data);
  *has = 1;
  return WK_OK;
}

static wk_status decode_handle(wk__sst_iter *it, const unsigned char *p, const unsigned char *end,
                               uint64_t *offset, uint64_t *size, const unsigned char **rest, wk_error *err) {
  if (!wk__pb_varint64(&p, end, offset) || !wk__pb_varint64(&p, end, size))
    return wk__error_set(err, WK_EFORMAT, "%s: corrupt table: bad block handle", it->name);
  if (rest != NULL) *rest = p;
  return WK_OK;
}

wk_status wk__sst_open(wk__sst_iter *it, const void *file, size_t size, const char *name, size_t max_block,
                       wk_error *err) {
  const unsigned char *footer, *p = NULL;
  uint64_t meta_off, meta_size, index_off, index_size;
  wk_status st;
  memset(it, 0, sizeof *it);
  it->file = (const unsigned char *)file;
  it->size = size;
  it->name = name;
  it->max_block = max_block;
  if (size < WK__SST_FOOTER)
    return wk__error_set(err, WK_EFORMAT, "%s: not a TensorFlow checkpoint index (%zu bytes, shorter than a table footer)",
                         name, size);
  footer = it->file + size - WK__SST_FOOTER;
  if (le32(footer + 40) != (uint32_t)WK__SST_MAGIC || le32(footer + 44) != (uint32_t)(WK__SST_MAGIC >> 32))
    return wk__error_set(err, WK_EFORMAT, "%s: not a TensorFlow checkpoint index (bad table magic)", name);
  st = decode_handle(it, footer, footer + 40, &meta_off, &meta_size, &p, err);
  if (st == WK_OK) st = decode_handle(it, p, footer + 40, &index_off, &index_size, NULL, err);
  if (st != WK_OK) return st;
  if (meta_off > size - WK__SST_FOOTER || meta_size > size - WK__SST_FOOTER - meta_off)
    return corrupt(it, "metaindex handle points outside the table", meta_off, err);
  st = block_load(it, &it->index, index_off, index_size, err);
  if (st != WK_OK) wk__sst_close(it);
  return st;
}

wk_status wk__sst_next(wk__sst_iter *it, int *has, wk_error *err) {
  wk_status st;
  int got;
  *has = 0;
  for (;;) {
    if (it->data_open) {
      st = block_next(it, &it->data, &got, err);
      if (st != WK_OK) return st;
      if (got) break;
      it->data_open = 0;
    }
    {
      uint64_t off, sz;
      const unsigned char *rest;
      st = block_next(it, &it->index, &got, err);
      if (st != WK_OK) return st;
      if (!got) return WK_OK;
      st = decode_handle(it, it->index.value, it->index.value + it->index.value_len, &off, &sz, &rest, err);
      if (st == WK_OK) st = block_load(it, &it->data, off, sz, err);
      if (st != WK_OK) return st;
      it->data_open = 1;
    }
  }
  if (it->have_last && key_cmp(it->data.key, it->data.key_len, it->last, it->last_len) <= 0)
    return corrupt(it, "keys out of order", it->data.offset, err);
  if (key_cmp(it->data.key, it->data.key_len, it->index.key, it->index.key_len) > 0)
    return corrupt(it, "key above its index separator", it->data.offset, err);
  if (!reserve(&it->last, &it->last_cap, it->data.key_len ? it->data.key_len : 1))
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", it->name);
  if (it->data.key_len) memcpy(it->last, it->data.key, it->data.key_len);
  it->last_len = it->data.key_len;
  it->have_last = 1;
  it->key = it->data.key;
  it->key_len = it->data.key_len;
  it->value = it->data.value;
  it->value_len = it->data.value_len;
  *has = 1;
  return WK_OK;
}

void wk__sst_close(wk__sst_iter *it) {
  block_reset(&it->index);
  block_reset(&it->data);
  free(it->index.key);
  free(it->data.key);
  free(it->last);
  it->index.key = it->data.key = it->last = NULL;
}
