/*
** wk_tfbundle.h — the TensorFlow tensor bundle reader's shared declarations (private, prefix
** wk__): decoded header and entries (wk_tfbundle_entry.c), the object graph
** (wk_tfbundle_graph.c), the wk__file_ops reader (wk_tfbundle.c). keras-formats.md §5.
**
** OWNERSHIP. Everything decoded (keys, slices, graph nodes and strings) lives in the handle's
** arena; decoders copy what they keep out of the index bytes, which are freed after the open.
*/
#ifndef WK_TFBUNDLE_H
#define WK_TFBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "weightkit.h"
#include "wk_file.h"

/* TF DataType numbers the reader needs by name (tensorflow/core/framework/types.proto). */
#define WK__TF_STRING 7

/* BundleHeaderProto + VersionDef, checked. */
typedef struct wk__tf_header {
  int32_t num_shards;
  int big_endian;
} wk__tf_header;

/* One extent per dim: [start, start + length); length -1 = the whole dim (TF's kFullExtent). */
typedef struct wk__tf_slice {
  int64_t start[WK_MAX_RANK];
  int64_t length[WK_MAX_RANK];
} wk__tf_slice;

/* One BundleEntryProto under its key. */
typedef struct wk__tf_entry {
  const char *key;        /* arena, NUL-terminated after key_len bytes (slice keys hold NULs) */
  size_t key_len;
  int32_t tf_dtype;       /* DataType as stored */
  wk_dtype dtype;         /* WK_DTYPE_COUNT when it has no wk dtype (strings included) */
  const char *dtype_name; /* NumPy's name, "string", or TF's name ("complex64", "resource", ...) */
  int rank;
  int64_t shape[WK_MAX_RANK];
  int64_t numel;
  int32_t shard_id;
  int64_t offset, size;
  uint32_t masked_crc;
  size_t slice_count;     /* > 0: a partitioned tensor; the fields shard_id..crc are unused */
  wk__tf_slice *slices;
} wk__tf_entry;

/* Decodes and checks the header value (key ""): num_shards >= 1, endianness LITTLE or BIG,
** version {producer >= 0, min_consumer <= 1, 1 not in bad_consumers}. `name` for messages. */
wk_status wk__tf_header_decode(const unsigned char *value, size_t len, const char *name,
                               wk__tf_header *out, wk_error *err);

/* Decodes the entry `value` of key e->key (already set) into *e: dtype, shape (rank <= WK_MAX_RANK,
** dims >= 0, no unknown rank), slices (arena), location; checks shard_id < num_shards, offset and
** size >= 0 and, for fixed-size dtypes, size == numel * element size. */
wk_status wk__tf_entry_decode(wk__arena *arena, const unsigned char *value, size_t len, const char *name,
                              int32_t num_shards, wk__tf_entry *e, wk_error *err);

/* TF's key for slice `s` of the tensor `key` (rank dims): EncodeTensorNameSlice's ordered code.
** An arena copy; *len its byte length (it starts with a NUL byte). NULL when out of memory. */
char *wk__tf_slice_key(wk__arena *arena, const char *key, size_t key_len, int rank, const wk__tf_slice *s,
                       size_t *len);

/* Decodes a serialized TrackableObjectGraph into arena nodes; node ids are checked against the
** node count. `name` for messages. */
wk_status wk__tf_graph_decode(wk__arena *arena, const unsigned char *data, size_t size, const char *name,
                              wk_ckpt_node **nodes, size_t *count, wk_error *err);

#endif
