/*
** wk_tfbundle_write.c — wk_write_tf_checkpoint: a TensorFlow tensor bundle (keras-formats.md §5)
** from named tensors, string lists and an object graph.
**
**   <prefix>.data-00000-of-00001   the values, back to back in key order, no padding
**   <prefix>.index                 the table (wk_sstable_write.c): key "" = BundleHeaderProto,
**                                  then one BundleEntryProto per key, bytewise key order
**
** PROTOBUF (proto3: fields at their default are omitted, as TF's serializer does; the real
** files' bytes, §5.3, show it):
**   BundleHeaderProto  1 num_shards = 1, 2 endianness LITTLE (0, omitted), 3 version {1 producer = 1}
**                      -> 08 01 1a 02 08 01
**   BundleEntryProto   1 dtype, 2 shape {2 dim {1 size}}* (present even for a scalar: 12 00),
**                      3 shard_id (0, omitted), 4 offset, 5 size, 6 crc32c (fixed32, masked)
**   TrackableObjectGraph  1 nodes {1 children {1 node_id, 2 local_name}, 2 attributes {1 name,
**                      2 full_name, 3 checkpoint_key, 4 optional_restore}, 3 slot_variables {1
**                      original_variable_node_id, 2 slot_name, 3 slot_variable_node_id}, 5
**                      has_checkpoint_values {1 value}} (see checkpoint_values below)
**
** DATA. Numeric tensors: their C-order bytes, little-endian (bool as 0/1 bytes); the entry's CRC
** is the masked CRC-32C of exactly those bytes. DT_STRING (§5.4, checked against the real
** files): varint64 length of each element, the masked CRC-32C of the lengths taken as
** little-endian uint32 (uint64 for a length above 0xFFFFFFFF), then the elements' bytes; the
** entry's CRC continues the lengths' CRC over the 4 stored checksum bytes and the elements.
**
** SAVE. Both files are written to temporaries (wk_atomic.c): the data file streamed tensor by
** tensor, the index built in memory and written at the end; both are flushed. Then the data file
** is renamed into place, then the index (TF's order: a new index never points into an old data
** file; between the two renames the old index meets the new data, which its CRCs reveal). A
** failure before the renames leaves the previous files untouched and no temporary behind. overwrite = 0 is checked on the index (the
** file that makes the checkpoint); a data file without its index is replaced.
**
** OWNERSHIP. Entries, strings, tensors and the graph are borrowed for the call; everything
** allocated here is freed before returning.
*/
#include <stdlib.h>
#include <string.h>

#include "wk_atomic.h"
#include "wk_crc32c.h"
#include "wk_sstable_write.h"

#define GRAPH_KEY "_CHECKPOINTABLE_OBJECT_GRAPH"
#define DT_STRING 7
#define TENSOR_BUNDLE_VERSION 1 /* VersionDef.producer TF writes (kTensorBundleVersion) */

/* TF's DataType enum for each wk dtype (keras-formats.md §5.3). */
static int tf_dtype(wk_dtype d) {
  switch (d) {
    case WK_BOOL: return 10;
    case WK_INT8: return 6;
    case WK_UINT8: return 4;
    case WK_INT16: return 5;
    case WK_UINT16: return 17;
    case WK_INT32: return 3;
    case WK_UINT32: return 22;
    case WK_INT64: return 9;
    case WK_UINT64: return 23;
    case WK_FLOAT16: return 19;
    case WK_BFLOAT16: return 14;
    case WK_FLOAT32: return 1;
    case WK_FLOAT64: return 2;
    default: return 0;
  }
}

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* {====================================================================
** Checks
** ===================================================================== */

static wk_status check_entry(const char *prefix, const wk_ckpt_entry *e, size_t i, int has_graph, wk_error *err) {
  size_t k;
  if (e->key == NULL || e->key[0] == '\0')
    return wk__error_set(err, WK_EINVAL, "%s: entry %zu: empty key", prefix, i + 1);
  if (has_graph && strcmp(e->key, GRAPH_KEY) == 0)
    return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": reserved for the object graph being written", prefix,
                         e->key);
  if (e->tensor != NULL) {
    if (e->strings != NULL || e->string_count != 0)
      return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": both a tensor and strings", prefix, e->key);
    return wk__check_dtype(e->key, wk_tensor_dtype(e->tensor), err);
  }
  if (e->string_rank != 0 && e->string_rank != 1)
    return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": string_rank must be 0 or 1", prefix, e->key);
  if (e->string_rank == 0 && e->string_count != 1)
    return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": a string scalar needs exactly one string", prefix,
                         e->key);
  if (e->string_count > 0 && (e->strings == NULL || e->string_lengths == NULL))
    return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": no tensor and no strings", prefix, e->key);
  for (k = 0; k < e->string_count; k++)
    if (e->strings[k] == NULL && e->string_lengths[k] != 0)
      return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": string %zu is NULL", prefix, e->key, k + 1);
  return WK_OK;
}

static wk_status check_node_id(const char *prefix, size_t node, const char *what, int32_t id, size_t node_count,
                               wk_error *err) {
  if (id < 0 || (size_t)id >= node_count)
    return wk__error_set(err, WK_EINVAL, "%s: object graph node %zu: %s %ld is not a node (%zu nodes)", prefix,
                         node, what, (long)id, node_count);
  return WK_OK;
}

static wk_status check_graph(const char *prefix, const wk_ckpt_node *graph, size_t node_count, wk_error *err) {
  size_t n, i;
  wk_status s = WK_OK;
  for (n = 0; n < node_count && s == WK_OK; n++) {
    const wk_ckpt_node *node = &graph[n];
    if ((node->child_count && node->children == NULL) || (node->attribute_count && node->attributes == NULL) ||
        (node->slot_count && node->slots == NULL))
      return wk__error_set(err, WK_EINVAL, "%s: object graph node %zu: a NULL list", prefix, n);
    for (i = 0; i < node->child_count && s == WK_OK; i++)
      s = check_node_id(prefix, n, "child", node->children[i].node_id, node_count, err);
    for (i = 0; i < node->slot_count && s == WK_OK; i++) {
      s = check_node_id(prefix, n, "slot's original variable", node->slots[i].original_variable_node_id, node_count,
                        err);
      if (s == WK_OK)
        s = check_node_id(prefix, n, "slot variable", node->slots[i].slot_variable_node_id, node_count, err);
    }
  }
  return s;
}

/* }==================================================================== */

/* {====================================================================
** Encoding
** ===================================================================== */

static void put_string_field(wk__pbw_buf *b, uint32_t field, const char *s) {
  if (s != NULL) wk__pbw_bytes_field(b, field, s, strlen(s));
}

/*
** has_checkpoint_values as recent TF versions write it on every node (TrackableObject field 5, a
** google.protobuf.BoolValue; checked on the real savedmodel fixture, all 102 nodes): true for a
** node with attributes or slot variables and for every node that reaches one through children
** edges; false is still written, as an empty BoolValue. Older TF (the other two fixtures) wrote no
** field 5; readers of every version accept it. Fills has[0 .. node_count-1]; 0 when out of memory.
*/
static int checkpoint_values(const wk_ckpt_node *graph, size_t node_count, unsigned char *has) {
  size_t *first = (size_t *)calloc(node_count + 1, sizeof *first), *stack, edges = 0, top = 0, n, i;
  int32_t *parents;
  if (first == NULL) return 0;
  /* parents of each node, grouped by node (counting sort of the children edges) */
  for (n = 0; n < node_count; n++)
    for (i = 0; i < graph[n].child_count; i++) first[graph[n].children[i].node_id + 1]++, edges++;
  for (n = 0; n < node_count; n++) first[n + 1] += first[n];
  parents = (int32_t *)malloc((edges ? edges : 1) * sizeof *parents);
  stack = (size_t *)malloc(node_count * sizeof *stack);
  if (parents == NULL || stack == NULL) {
    free(first), free(parents), free(stack);
    return 0;
  }
  for (n = 0; n < node_count; n++)
    for (i = 0; i < graph[n].child_count; i++) parents[first[graph[n].children[i].node_id]++] = (int32_t)n;
  for (n = node_count; n > 0; n--) first[n] = first[n - 1]; /* the fill advanced each start to the next */
  first[0] = 0;
  for (n = 0; n < node_count; n++) {
    has[n] = graph[n].attribute_count > 0 || graph[n].slot_count > 0;
    if (has[n]) stack[top++] = n;
  }
  while (top > 0) {
    size_t x = stack[--top];
    for (i = first[x]; i < first[x + 1]; i++)
      if (!has[parents[i]]) has[parents[i]] = 1, stack[top++] = (size_t)parents[i];
  }
  free(first), free(parents), free(stack);
  return 1;
}

/* The TrackableObjectGraph message of `graph` into b (node ids already checked). */
static wk_status encode_graph(wk__pbw_buf *b, const wk_ckpt_node *graph, size_t node_count, const char *prefix,
                              wk_error *err) {
  unsigned char *has = (unsigned char *)malloc(node_count);
  size_t n, i;
  if (has == NULL || !checkpoint_values(graph, node_count, has)) {
    free(has);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory for the object graph", prefix);
  }
  for (n = 0; n < node_count; n++) {
    const wk_ckpt_node *node = &graph[n];
    size_t obj = wk__pbw_open(b), m;
    for (i = 0; i < node->child_count; i++) {
      m = wk__pbw_open(b);
      wk__pbw_int_field(b, 1, node->children[i].node_id);
      put_string_field(b, 2, node->children[i].local_name);
      wk__pbw_close(b, 1, m);
    }
    for (i = 0; i < node->attribute_count; i++) {
      const wk_ckpt_attribute *a = &node->attributes[i];
      m = wk__pbw_open(b);
      put_string_field(b, 1, a->name);
      put_string_field(b, 2, a->full_name);
      put_string_field(b, 3, a->checkpoint_key);
      wk__pbw_int_field(b, 4, a->optional_restore != 0);
      wk__pbw_close(b, 2, m);
    }
    for (i = 0; i < node->slot_count; i++) {
      const wk_ckpt_slot *sl = &node->slots[i];
      m = wk__pbw_open(b);
      wk__pbw_int_field(b, 1, sl->original_variable_node_id);
      put_string_field(b, 2, sl->slot_name);
      wk__pbw_int_field(b, 3, sl->slot_variable_node_id);
      wk__pbw_close(b, 3, m);
    }
    m = wk__pbw_open(b);
    wk__pbw_int_field(b, 1, has[n]);
    wk__pbw_close(b, 5, m);
    wk__pbw_close(b, 1, obj);
  }
  free(has);
  return wk__pbw_status(b, prefix, err);
}

/* The BundleEntryProto of one value into b (emptied first). */
static void encode_entry(wk__pbw_buf *b, int dtype, int rank, const int64_t *shape, uint64_t offset, uint64_t size,
                         uint32_t crc) {
  size_t sh;
  int i;
  wk__pbw_reset(b);
  wk__pbw_int_field(b, 1, dtype);
  sh = wk__pbw_open(b);
  for (i = 0; i < rank; i++) {
    size_t dim = wk__pbw_open(b);
    wk__pbw_int_field(b, 1, shape[i]);
    wk__pbw_close(b, 2, dim);
  }
  wk__pbw_close(b, 2, sh);
  wk__pbw_int_field(b, 4, (int64_t)offset);
  wk__pbw_int_field(b, 5, (int64_t)size);
  wk__pbw_fixed32_field(b, 6, wk__crc32c_mask(crc));
}

/* }==================================================================== */

/* {====================================================================
** The data file
** ===================================================================== */

/*
** The bytes a tensor has in the file: its own (borrowed), or a malloc'd copy in *copy when they
** differ (a big-endian host; bool bytes other than 0/1).
*/
static wk_status file_bytes(const char *prefix, const wk_ckpt_entry *e, const unsigned char **bytes,
                            unsigned char **copy, wk_error *err) {
  const wk_tensor *t = e->tensor;
  const unsigned char *p = (const unsigned char *)wk_tensor_data(t);
  size_t n = wk_tensor_nbytes(t), width = wk_dtype_size(wk_tensor_dtype(t)), i;
  int swap = width > 1 && !host_is_little_endian(), fix = 0;
  *copy = NULL;
  *bytes = p;
  if (wk_tensor_dtype(t) == WK_BOOL)
    for (i = 0; i < n && !fix; i++) fix = p[i] > 1;
  if (!swap && !fix) return WK_OK;
  *copy = (unsigned char *)malloc(n);
  if (*copy == NULL) return wk__error_set(err, WK_ENOMEM, "%s: key \"%s\": out of memory", prefix, e->key);
  for (i = 0; i < n; i++) {
    if (fix) (*copy)[i] = p[i] != 0;
    else (*copy)[i] = p[i - i % width + (width - 1 - i % width)];
  }
  *bytes = *copy;
  return WK_OK;
}

/* The CRC-32C of one string length as TF checksums it (§5.4). */
static uint32_t crc_length(uint32_t crc, uint64_t len) {
  unsigned char le[8];
  size_t n = len > 0xFFFFFFFFu ? 8 : 4, i;
  for (i = 0; i < n; i++) le[i] = (unsigned char)(len >> (8 * i));
  return wk__crc32c_extend(crc, le, n);
}

/* Appends one value to the data file; *size and *crc (unmasked) describe what was written. */
static wk_status write_value(wk__atomic *data, const char *prefix, const wk_ckpt_entry *e, wk__pbw_buf *scratch,
                             uint64_t *size, uint32_t *crc, wk_error *err) {
  uint64_t start = data->written;
  wk_status s;
  if (e->tensor != NULL) {
    const unsigned char *bytes;
    unsigned char *copy;
    size_t n = wk_tensor_nbytes(e->tensor);
    s = file_bytes(prefix, e, &bytes, &copy, err);
    if (s != WK_OK) return s;
    *crc = wk__crc32c(bytes, n);
    s = wk__atomic_write(data, bytes, n, err);
    free(copy);
  } else {
    uint32_t c = 0, masked;
    size_t k;
    wk__pbw_reset(scratch);
    for (k = 0; k < e->string_count; k++) {
      wk__pbw_varint(scratch, e->string_lengths[k]);
      c = crc_length(c, e->string_lengths[k]);
    }
    masked = wk__crc32c_mask(c);
    wk__pbw_fixed32(scratch, masked);
    s = wk__pbw_status(scratch, prefix, err);
    if (s == WK_OK) {
      c = wk__crc32c_extend(c, scratch->data + scratch->size - 4, 4);
      s = wk__atomic_write(data, scratch->data, scratch->size, err);
    }
    for (k = 0; k < e->string_count && s == WK_OK; k++) {
      c = wk__crc32c_extend(c, e->strings[k], e->string_lengths[k]);
      s = wk__atomic_write(data, e->strings[k], e->string_lengths[k], err);
    }
    *crc = c;
  }
  *size = data->written - start;
  return s;
}

/* }==================================================================== */

static int cmp_entry(const void *a, const void *b) {
  const wk_ckpt_entry *x = *(const wk_ckpt_entry *const *)a, *y = *(const wk_ckpt_entry *const *)b;
  return strcmp(x->key, y->key); /* unsigned bytes, then length: the table's order */
}

/* "<prefix><suffix>", malloc'd. */
static char *join(const char *prefix, const char *suffix) {
  size_t a = strlen(prefix), b = strlen(suffix);
  char *p = (char *)malloc(a + b + 1);
  if (p != NULL) {
    memcpy(p, prefix, a);
    memcpy(p + a, suffix, b + 1);
  }
  return p;
}

/* Writes every value and builds the table; the index bytes end in table->out. */
static wk_status write_bundle(const char *prefix, const wk_ckpt_entry *const *sorted, size_t n, wk__atomic *data,
                              wk__sstw *table, wk_error *err) {
  wk__pbw_buf value, scratch;
  size_t i;
  wk_status s;
  wk__pbw_init(&value);
  wk__pbw_init(&scratch);
  /* Header: num_shards 1, version {producer 1}. */
  wk__pbw_int_field(&value, 1, 1);
  {
    size_t v = wk__pbw_open(&value);
    wk__pbw_int_field(&value, 1, TENSOR_BUNDLE_VERSION);
    wk__pbw_close(&value, 3, v);
  }
  s = wk__pbw_status(&value, prefix, err);
  if (s == WK_OK) s = wk__sstw_add(table, "", 0, value.data, value.size, prefix, err);
  for (i = 0; i < n && s == WK_OK; i++) {
    const wk_ckpt_entry *e = sorted[i];
    uint64_t offset = data->written, size = 0;
    uint32_t crc = 0;
    int64_t count = (int64_t)e->string_count;
    s = write_value(data, prefix, e, &scratch, &size, &crc, err);
    if (s != WK_OK) break;
    if (e->tensor != NULL)
      encode_entry(&value, tf_dtype(wk_tensor_dtype(e->tensor)), wk_tensor_rank(e->tensor),
                   wk_tensor_shape(e->tensor), offset, size, crc);
    else encode_entry(&value, DT_STRING, e->string_rank, &count, offset, size, crc);
    s = wk__pbw_status(&value, prefix, err);
    if (s == WK_OK) s = wk__sstw_add(table, e->key, strlen(e->key), value.data, value.size, prefix, err);
  }
  if (s == WK_OK) s = wk__sstw_finish(table, prefix, err);
  wk__pbw_free(&value);
  wk__pbw_free(&scratch);
  return s;
}

/* Duplicate keys of the sorted list: WK_EINVAL naming the first one. */
static wk_status check_unique(const char *prefix, const wk_ckpt_entry *const *sorted, size_t n, wk_error *err) {
  size_t i;
  for (i = 1; i < n; i++)
    if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
      return wk__error_set(err, WK_EINVAL, "%s: key \"%s\": given twice", prefix, sorted[i]->key);
  return WK_OK;
}

/* Writes both temporaries, then renames the data file and the index into place. */
static wk_status save(const char *prefix, const char *index_path, const char *data_path,
                      const wk_ckpt_entry *const *sorted, size_t n, int overwrite, wk_error *err) {
  wk__atomic ia, da;
  wk__sstw table;
  wk_status s = wk__atomic_begin(&ia, index_path, overwrite, err);
  if (s != WK_OK) return s;
  s = wk__atomic_begin(&da, data_path, 1, err);
  if (s != WK_OK) {
    wk__atomic_abort(&ia);
    return s;
  }
  wk__sstw_init(&table);
  s = write_bundle(prefix, sorted, n, &da, &table, err);
  if (s == WK_OK) s = wk__atomic_write(&ia, table.out.data, table.out.size, err);
  wk__sstw_free(&table);
  if (s != WK_OK) {
    wk__atomic_abort(&da);
    wk__atomic_abort(&ia);
    return s;
  }
  s = wk__atomic_commit(&da, err); /* the data first, as TF renames them ... */
  if (s != WK_OK) {
    wk__atomic_abort(&ia);
    return s;
  }
  return wk__atomic_commit(&ia, err); /* ... and the index, which makes the checkpoint, last */
}

WK_API wk_status wk_write_tf_checkpoint(const char *prefix, const wk_ckpt_entry *entries, size_t count,
                                        const wk_ckpt_node *graph, size_t node_count, int overwrite,
                                        wk_error *err) {
  const wk_ckpt_entry **sorted;
  wk_ckpt_entry graph_entry;
  wk__pbw_buf graph_bytes;
  const char *graph_item = "";
  size_t graph_len = 0, n = 0, i;
  char *index_path, *data_path;
  wk_status s;

  if (prefix == NULL || prefix[0] == '\0')
    return wk__error_set(err, WK_EINVAL, "wk_write_tf_checkpoint: empty prefix");
  if ((entries == NULL && count != 0) || (graph == NULL && node_count != 0))
    return wk__error_set(err, WK_EINVAL, "%s: NULL entries or graph", prefix);
  for (i = 0; i < count; i++) {
    s = check_entry(prefix, &entries[i], i, node_count > 0, err);
    if (s != WK_OK) return s;
  }
  s = check_graph(prefix, graph, node_count, err);
  if (s != WK_OK) return s;
  if (count >= ((size_t)-1) / sizeof *sorted - 1) return wk__error_set(err, WK_ELIMIT, "%s: too many entries", prefix);

  wk__pbw_init(&graph_bytes);
  sorted = (const wk_ckpt_entry **)malloc((count + 1) * sizeof *sorted);
  index_path = join(prefix, ".index");
  data_path = join(prefix, ".data-00000-of-00001");
  if (sorted == NULL || index_path == NULL || data_path == NULL) {
    s = wk__error_set(err, WK_ENOMEM, "%s: out of memory", prefix);
    goto done;
  }
  for (i = 0; i < count; i++) sorted[n++] = &entries[i];
  if (node_count > 0) {
    s = encode_graph(&graph_bytes, graph, node_count, prefix, err);
    if (s != WK_OK) goto done;
    if (graph_bytes.data != NULL) graph_item = (const char *)graph_bytes.data;
    graph_len = graph_bytes.size;
    memset(&graph_entry, 0, sizeof graph_entry);
    graph_entry.key = GRAPH_KEY;
    graph_entry.strings = &graph_item;
    graph_entry.string_lengths = &graph_len;
    graph_entry.string_count = 1;
    sorted[n++] = &graph_entry;
  }
  qsort(sorted, n, sizeof *sorted, cmp_entry);
  s = check_unique(prefix, sorted, n, err);
  if (s == WK_OK) s = save(prefix, index_path, data_path, sorted, n, overwrite, err);
done:
  free(sorted);
  free(index_path);
  free(data_path);
  wk__pbw_free(&graph_bytes);
  return s;
}
