/*
** wk_sstable_write.c — the LevelDB-style table of a TF bundle's .index file (see
** wk_sstable_write.h; format facts in keras-formats.md §5.2).
**
** TABLE LAYOUT (all integers little-endian):
**   data block*  metaindex block  index block  footer
** A block is its contents, then a 5-byte trailer outside the size its handle records: the
** compression type (0, none: TF bundles are never compressed) and the masked CRC-32C of the
** contents followed by that type byte. Contents: entries `varint32 shared, varint32 unshared,
** varint32 value length, key[shared..], value`, the key prefix-compressed against the previous
** one except at restart points (every `interval`-th entry, shared = 0), then the restart
** offsets as uint32 and their count as uint32 (the first restart is always offset 0, so even
** an empty block has one). A handle is `varint64 offset, varint64 size`. The footer is the
** metaindex and index handles, zero-padded to 40 bytes, then the magic as two uint32 (low word
** first).
**
** WHEN BLOCKS END (TF's table builder, a port of LevelDB's): after each entry is added, the
** data block is flushed when its size estimate (entries + restart array + the count) reaches
** WK__SSTW_BLOCK_SIZE. Its index entry is added only when the next key arrives, keyed by the
** shortest separator between the block's last key and that next key; after the last block it
** is the last key's short successor. The index block has restart interval 1; the metaindex is
** empty (bundles have no filters).
*/
#include <string.h>

#include "wk_crc32c.h"
#include "wk_sstable_write.h"

/* {====================================================================
** Blocks
** ===================================================================== */

static void block_init(wk__sstw_block *b, int interval) {
  wk__pbw_init(&b->buf);
  wk__pbw_init(&b->restarts);
  wk__pbw_init(&b->last_key);
  b->interval = interval;
  b->counter = 0;
  b->entries = 0;
  wk__pbw_fixed32(&b->restarts, 0);
}

static void block_free(wk__sstw_block *b) {
  wk__pbw_free(&b->buf);
  wk__pbw_free(&b->restarts);
  wk__pbw_free(&b->last_key);
}

/* Empties the block for the next one (keeps its memory and any failure). */
static void block_reset(wk__sstw_block *b) {
  wk__pbw_reset(&b->buf);
  wk__pbw_reset(&b->restarts);
  wk__pbw_reset(&b->last_key);
  b->counter = 0;
  b->entries = 0;
  wk__pbw_fixed32(&b->restarts, 0);
}

static int block_failed(const wk__sstw_block *b) {
  return b->buf.failed || b->restarts.failed || b->last_key.failed;
}

/* The block's size once finished: entries, restart offsets, their count. */
static size_t block_estimate(const wk__sstw_block *b) {
  return b->buf.size + b->restarts.size + 4;
}

static void block_add(wk__sstw_block *b, const unsigned char *key, size_t klen, const void *value, size_t vlen) {
  size_t shared = 0;
  if (b->counter < b->interval) {
    const unsigned char *prev = b->last_key.data;
    size_t max = b->last_key.size < klen ? b->last_key.size : klen;
    while (shared < max && prev[shared] == key[shared]) shared++;
  } else {
    wk__pbw_fixed32(&b->restarts, (uint32_t)b->buf.size);
    b->counter = 0;
  }
  wk__pbw_varint(&b->buf, shared);
  wk__pbw_varint(&b->buf, klen - shared);
  wk__pbw_varint(&b->buf, vlen);
  wk__pbw_raw(&b->buf, key + shared, klen - shared);
  wk__pbw_raw(&b->buf, value, vlen);
  wk__pbw_reset(&b->last_key);
  wk__pbw_raw(&b->last_key, key, klen);
  b->counter++;
  b->entries++;
}

/* Appends the block's restart array: the contents are then complete in b->buf. */
static void block_finish(wk__sstw_block *b) {
  wk__pbw_raw(&b->buf, b->restarts.data, b->restarts.size);
  wk__pbw_fixed32(&b->buf, (uint32_t)(b->restarts.size / 4));
}

/* Writes the finished contents at the end of `out` with their trailer; *offset / *size is the
** handle. */
static void write_block(wk__pbw_buf *out, const wk__pbw_buf *contents, uint64_t *offset, uint64_t *size) {
  static const unsigned char type = 0; /* kNoCompression */
  uint32_t crc = wk__crc32c_extend(wk__crc32c(contents->data, contents->size), &type, 1);
  *offset = out->size;
  *size = contents->size;
  wk__pbw_raw(out, contents->data, contents->size);
  wk__pbw_raw(out, &type, 1);
  wk__pbw_fixed32(out, wk__crc32c_mask(crc));
}

static void put_handle(wk__pbw_buf *b, uint64_t offset, uint64_t size) {
  wk__pbw_varint(b, offset);
  wk__pbw_varint(b, size);
}

/* }==================================================================== */

/* {====================================================================
** Key shortening (LevelDB's BytewiseComparator)
** ===================================================================== */

size_t wk__sstw_separator(unsigned char *key, size_t klen, const unsigned char *limit, size_t llen) {
  size_t min = klen < llen ? klen : llen, diff = 0;
  while (diff < min && key[diff] == limit[diff]) diff++;
  if (diff >= min) return klen; /* one is a prefix of the other */
  if (key[diff] < 0xff && key[diff] + 1 < limit[diff]) {
    key[diff]++;
    return diff + 1;
  }
  return klen;
}

size_t wk__sstw_successor(unsigned char *key, size_t klen) {
  size_t i;
  for (i = 0; i < klen; i++) {
    if (key[i] != 0xff) {
      key[i]++;
      return i + 1;
    }
  }
  return klen;
}

/* }==================================================================== */

void wk__sstw_init(wk__sstw *t) {
  wk__pbw_init(&t->out);
  wk__pbw_init(&t->last_key);
  block_init(&t->data, WK__SSTW_RESTART_INTERVAL);
  block_init(&t->index, 1);
  t->has_key = 0;
  t->pending = 0;
  t->pending_offset = t->pending_size = 0;
}

void wk__sstw_free(wk__sstw *t) {
  wk__pbw_free(&t->out);
  wk__pbw_free(&t->last_key);
  block_free(&t->data);
  block_free(&t->index);
}

static wk_status table_status(const wk__sstw *t, const char *ctx, wk_error *err) {
  if (t->out.failed || t->last_key.failed || block_failed(&t->data) || block_failed(&t->index))
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory for the index table", ctx);
  return WK_OK;
}

/* Adds the pending index entry, keyed by `sep` (sep_len bytes, edited in place). */
static void add_index_entry(wk__sstw *t, unsigned char *sep, size_t sep_len) {
  wk__pbw_buf handle;
  wk__pbw_init(&handle);
  put_handle(&handle, t->pending_offset, t->pending_size);
  if (handle.failed) t->index.buf.failed = 1;
  else block_add(&t->index, sep, sep_len, handle.data, handle.size);
  wk__pbw_free(&handle);
  t->pending = 0;
}

static void flush(wk__sstw *t) {
  if (t->data.entries == 0) return;
  block_finish(&t->data);
  write_block(&t->out, &t->data.buf, &t->pending_offset, &t->pending_size);
  block_reset(&t->data);
  t->pending = 1;
}

wk_status wk__sstw_add(wk__sstw *t, const void *key, size_t klen, const void *value, size_t vlen,
                       const char *ctx, wk_error *err) {
  const unsigned char *k = (const unsigned char *)key;
  if (klen > UINT32_MAX || vlen > UINT32_MAX) /* varint32 lengths in the block */
    return wk__error_set(err, WK_ELIMIT, "%s: an index entry above 4 GiB", ctx);
  if (t->has_key) {
    size_t n = t->last_key.size < klen ? t->last_key.size : klen;
    int c = n ? memcmp(t->last_key.data, k, n) : 0;
    if (c > 0 || (c == 0 && t->last_key.size >= klen))
      return wk__error_set(err, WK_EINVAL, "%s: index keys must be added in strictly increasing order", ctx);
  }
  if (t->pending) {
    /* last_key becomes the separator: it is replaced by `key` right after. */
    size_t n = wk__sstw_separator(t->last_key.data, t->last_key.size, k, klen);
    add_index_entry(t, t->last_key.data, n);
  }
  wk__pbw_reset(&t->last_key);
  wk__pbw_raw(&t->last_key, k, klen);
  t->has_key = 1;
  block_add(&t->data, k, klen, value, vlen);
  if (block_estimate(&t->data) >= WK__SSTW_BLOCK_SIZE) flush(t);
  return table_status(t, ctx, err);
}

wk_status wk__sstw_finish(wk__sstw *t, const char *ctx, wk_error *err) {
  wk__sstw_block meta;
  uint64_t meta_offset, meta_size, index_offset, index_size;
  size_t footer_start;
  flush(t);
  block_init(&meta, WK__SSTW_RESTART_INTERVAL);
  block_finish(&meta);
  write_block(&t->out, &meta.buf, &meta_offset, &meta_size);
  if (block_failed(&meta)) t->out.failed = 1;
  block_free(&meta);
  if (t->pending) add_index_entry(t, t->last_key.data, wk__sstw_successor(t->last_key.data, t->last_key.size));
  block_finish(&t->index);
  write_block(&t->out, &t->index.buf, &index_offset, &index_size);
  footer_start = t->out.size;
  put_handle(&t->out, meta_offset, meta_size);
  put_handle(&t->out, index_offset, index_size);
  while (!t->out.failed && t->out.size - footer_start < WK__SSTW_FOOTER_SIZE - 8) {
    static const unsigned char zero = 0;
    wk__pbw_raw(&t->out, &zero, 1);
  }
  wk__pbw_fixed32(&t->out, (uint32_t)(WK__SSTW_MAGIC & 0xffffffffu));
  wk__pbw_fixed32(&t->out, (uint32_t)(WK__SSTW_MAGIC >> 32));
  return table_status(t, ctx, err);
}
