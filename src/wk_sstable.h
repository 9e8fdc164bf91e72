/*
** wk_sstable.h — the LevelDB-style table TensorFlow writes as a bundle's `.index` file
** (keras-formats.md §5.2): read-only iteration over its (key, value) pairs in key order.
** Private to the core (prefix wk__).
**
** The iterator reads the caller's bytes of the whole table (`file`, `size`), which must stay
** valid while it is in use. Keys and values it hands out are borrowed: valid until the next
** wk__sst_next or wk__sst_close. Every offset, size and count read from the file is checked
** against the table; each block's masked CRC-32C is verified before it is parsed; keys must be
** strictly increasing (bytewise, then by length) across the whole table and lie at or below
** their index block separator. Errors are WK_EFORMAT ("<name>: corrupt table: ..."),
** WK_ELIMIT (a Snappy block decompressing past max_block bytes) or WK_ENOMEM.
*/
#ifndef WK_SSTABLE_H
#define WK_SSTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "weightkit.h"

/* One block being walked (private to wk_sstable.c; here so the iterator can live on the stack). */
typedef struct wk__sst_block {
  const unsigned char *data; /* contents (the file's bytes, or `owned`) */
  size_t limit;              /* end of the entries: the restart array starts here */
  const unsigned char *restarts;
  uint32_t num_restarts, next_restart;
  size_t pos;
  unsigned char *key;        /* the current key, malloc'd */
  size_t key_len, key_cap;
  const unsigned char *value;
  size_t value_len;
  unsigned char *owned;      /* decompressed contents, or NULL */
  uint64_t offset;           /* in the file, for messages */
} wk__sst_block;

typedef struct wk__sst_iter {
  const unsigned char *file;
  size_t size;
  const char *name;
  size_t max_block;
  wk__sst_block index, data;
  int data_open;
  unsigned char *last;       /* the previous data key, malloc'd (ordering across blocks) */
  size_t last_len, last_cap;
  int have_last;
  /* the current entry (borrowed) */
  const unsigned char *key;
  size_t key_len;
  const unsigned char *value;
  size_t value_len;
} wk__sst_iter;

/* Checks the footer (magic, handles) and loads the index block. On failure nothing needs
** closing; on success call wk__sst_close. `name` is borrowed for messages. */
wk_status wk__sst_open(wk__sst_iter *it, const void *file, size_t size, const char *name,
                       size_t max_block, wk_error *err);
/* Advances to the next entry: *has = 1 and it->key / it->value set, or *has = 0 at the end. */
wk_status wk__sst_next(wk__sst_iter *it, int *has, wk_error *err);
void wk__sst_close(wk__sst_iter *it);

/* The table magic: 0xDB4775248B80FB57, stored as the footer's last 8 bytes (little-endian). */
#define WK__SST_MAGIC UINT64_C(0xDB4775248B80FB57)
#define WK__SST_FOOTER 48
#define WK__SST_TRAILER 5 /* after each block: compression type byte, masked CRC-32C */

#endif
