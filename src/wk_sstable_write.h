/*
** wk_sstable_write.h — the LevelDB-style table of a TF bundle's .index file, built in memory
** (private, prefix wk__sstw_). keras-formats.md §5.2; the reader is wk_tfbundle.c.
**
** The table is written as TensorFlow's table builder writes bundles: uncompressed data blocks
** (restart interval 16) flushed once their size estimate reaches 262144 bytes, an empty
** metaindex block, an index block (restart interval 1) keyed by shortest separators, the
** 48-byte footer. Keys must come in strictly increasing bytewise order.
**
**   wk__sstw t;  wk__sstw_init(&t);
**   wk__sstw_add(&t, key, klen, value, vlen, ctx, err) ...   (in key order)
**   wk__sstw_finish(&t, ctx, err);   -> t.out.data / t.out.size hold the whole file
**   wk__sstw_free(&t);
**
** OWNERSHIP. Keys and values are copied; the table owns every buffer until wk__sstw_free.
** Failures name `ctx` (the file being written).
*/
#ifndef WK_SSTABLE_WRITE_H
#define WK_SSTABLE_WRITE_H

#include "wk_proto_write.h"

#define WK__SSTW_BLOCK_SIZE 262144 /* TF's table_builder block_size for bundles */
#define WK__SSTW_RESTART_INTERVAL 16
#define WK__SSTW_FOOTER_SIZE 48
#define WK__SSTW_MAGIC 0xDB4775248B80FB57ull

/* One block being built: prefix-compressed entries, then its restart array. */
typedef struct wk__sstw_block {
  wk__pbw_buf buf;      /* the entries */
  wk__pbw_buf restarts; /* uint32 LE offsets of the restart points */
  wk__pbw_buf last_key;
  int interval;         /* entries per restart point */
  int counter;          /* entries since the last restart point */
  size_t entries;
} wk__sstw_block;

typedef struct wk__sstw {
  wk__pbw_buf out;       /* the file so far */
  wk__sstw_block data;
  wk__sstw_block index;
  wk__pbw_buf last_key;  /* the last key added (ordering check, separators) */
  int has_key;           /* last_key is set */
  int pending;           /* a data block was flushed; its index entry waits for the next key */
  uint64_t pending_offset, pending_size;
} wk__sstw;

void wk__sstw_init(wk__sstw *t);
void wk__sstw_free(wk__sstw *t);
/* Adds one entry. WK_EINVAL when key is not above the previous key, WK_ELIMIT past 4 GiB. */
wk_status wk__sstw_add(wk__sstw *t, const void *key, size_t klen, const void *value, size_t vlen,
                       const char *ctx, wk_error *err);
/* Flushes the last block and appends metaindex, index and footer to t->out. */
wk_status wk__sstw_finish(wk__sstw *t, const char *ctx, wk_error *err);

/*
** LevelDB's bytewise comparator shortenings, exposed for the tests. Both edit `key` in place
** (a buffer of *klen bytes) and return the new length.
** separator: with `limit` > key, the shortest k with key <= k < limit that the rule finds: after
**   the common prefix, the first differing byte of key is incremented and the rest cut off,
**   provided it stays below 0xff and below limit's byte there; else key is kept whole (also
**   when one is a prefix of the other).
** successor: the first byte that is not 0xff is incremented and the rest cut off (a key of
**   only 0xff bytes is kept).
*/
size_t wk__sstw_separator(unsigned char *key, size_t klen, const unsigned char *limit, size_t llen);
size_t wk__sstw_successor(unsigned char *key, size_t klen);

#endif
