/*
** wk_tfbundle.c — the TensorFlow tensor bundle reader (formats "tf-checkpoint" and "savedmodel",
** keras-formats.md §5): the wk__file_ops behind a wk_file, wk_file_read_strings and
** wk_file_object_graph.
**
** OPEN. `<prefix>.index` is read whole into memory and walked once (wk_sstable.c); the first key
** must be "" (the BundleHeaderProto), every other key is a BundleEntryProto (decoded by
** wk_tfbundle_entry.c into the arena). The index bytes are freed before the open returns. Keys
** beginning with a NUL byte are the per-slice entries of partitioned tensors: kept for reads,
** never listed. Every other key is one wk_file_tensors entry (key order); keys holding
** "/.ATTRIBUTES/" are also grouped into layers (weightkit.h, "tf-checkpoint").
**
** READS. A data shard `<prefix>.data-NNNNN-of-NNNNN` is mapped once, when a tensor first needs
** it (no_mmap: each read preads its bytes instead). Every read checks the bytes lie inside the
** shard and their CRC-32C against the entry's masked crc32c. Little-endian numeric tensors
** whose window is aligned come back zero-copy; big-endian bundles are byte-swapped into a copy;
** bool is always copied and normalized to 0/1. Partitioned tensors are assembled from their
** slice entries (each read and checked as above) into an owned tensor; the slices must tile
** the tensor exactly (inside it, no overlap, volumes summing to its element count).
** DT_STRING tensors (lengths as varint64, the masked CRC-32C of the lengths taken as uint32 or
** uint64 little-endian, then the bytes; the entry CRC runs on over the stored checksum and the
** bytes) are decoded by wk_file_read_strings into the arena, once per tensor.
**
** OWNERSHIP. tf_bundle (f->impl, malloc) holds the shard mappings (one reference each, released
** by tf_close); zero-copy tensors hold their own. Entries, infos, strings and the object graph
** live in the arena.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_crc32c.h"
#include "wk_internal.h"
#include "wk_proto.h"
#include "wk_sstable.h"
#include "wk_tfbundle.h"

#define GRAPH_KEY "_CHECKPOINTABLE_OBJECT_GRAPH"
#define ATTRIBUTES "/.ATTRIBUTES/"

typedef struct tf_strings {
  const char *const *items;
  const size_t *lengths;
  size_t count;
} tf_strings;

typedef struct tf_bundle {
  const char *prefix;       /* arena */
  const char *index_name;   /* "<prefix>.index", for messages */
  int big_endian;
  int32_t num_shards;
  wk__tf_entry *entries;    /* every key but "", in key order (arena) */
  size_t entry_count;
  size_t *tensor_entry;     /* f->tensors[i] is entries[tensor_entry[i]] */
  wk_tensor_info *layer_infos; /* every layer's weights, back to back (arena) */
  size_t *layer_entry;      /* layer_infos[j] is entries[layer_entry[j]] */
  size_t layer_info_count;
  wk__region **shards;      /* malloc'd on first use, num_shards slots */
  tf_strings **strings;     /* per entry, decoded on first use (arena) */
  wk_ckpt_node *nodes;
  size_t node_count;
  int graph_ready;
} tf_bundle;

#define BUNDLE(f) ((tf_bundle *)(f)->impl)

static int host_big_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 0;
}

static wk_status oom(const wk_file *f, wk_error *err) {
  return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
}

/* {====================================================================
** Files
** ===================================================================== */

/* "<prefix>.data-%05d-of-%05d", malloc'd. */
static char *shard_name(const tf_bundle *b, int32_t id) {
  size_t n = strlen(b->prefix) + 40;
  char *s = (char *)malloc(n);
  if (s != NULL) snprintf(s, n, "%s.data-%05ld-of-%05ld", b->prefix, (long)id, (long)b->num_shards);
  return s;
}

/* Reads exactly `size` bytes at `offset` of the file `path` into dst. */
static wk_status pread_exact(const char *path, uint64_t offset, void *dst, size_t size, const char *key,
                             wk_error *err) {
  struct stat st;
  size_t got = 0;
  wk_status s = WK_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return wk__error_set(err, WK_EIO, "%s: not a readable regular file", path);
  }
  if ((uint64_t)st.st_size < offset || (uint64_t)st.st_size - offset < size) {
    close(fd);
    return wk__error_set(err, WK_EFORMAT, "%s: key %s: bytes [%llu, +%zu) lie past the end of the file (%llu bytes)",
                         path, key, (unsigned long long)offset, size, (unsigned long long)st.st_size);
  }
  while (got < size) {
    ssize_t r = pread(fd, (unsigned char *)dst + got, size - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      s = wk__error_set(err, r < 0 ? WK_EIO : WK_EFORMAT, "%s: key %s: %s", path, key,
                        r < 0 ? strerror(errno) : "file shrank while reading");
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  return s;
}

/* The mapping of shard `id`, mapped on first use. */
static wk_status shard_region(wk_file *f, int32_t id, wk__region **out, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  char *path;
  int fd;
  wk_status s;
  if (b->shards == NULL) {
    b->shards = (wk__region **)calloc((size_t)b->num_shards, sizeof *b->shards);
    if (b->shards == NULL) return oom(f, err);
  }
  if (b->shards[id] != NULL) {
    *out = b->shards[id];
    return WK_OK;
  }
  if ((path = shard_name(b, id)) == NULL) return oom(f, err);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    s = wk__error_set(err, WK_EIO, "%s: cannot open data shard: %s", path, strerror(errno));
  } else {
    s = wk__region_map_fd(fd, path, &b->shards[id], err);
    close(fd);
  }
  free(path);
  if (s == WK_OK) *out = b->shards[id];
  return s;
}

/*
** The entry's `size` stored bytes: *bytes points into the shard mapping (*region set, no
** reference taken) or, with no_mmap, into *owned (malloc'd; the caller frees it). No CRC check.
*/
static wk_status entry_bytes(wk_file *f, const wk__tf_entry *e, const unsigned char **bytes, unsigned char **owned,
                             wk__region **region, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  wk_status s;
  *owned = NULL;
  *region = NULL;
  if ((uint64_t)e->size > SIZE_MAX - 1)
    return wk__error_set(err, WK_ELIMIT, "%s: key %s: %lld bytes do not fit in memory", b->index_name, e->key,
                         (long long)e->size);
  if (f->opts.no_mmap) {
    char *path = shard_name(b, e->shard_id);
    if (path == NULL) return oom(f, err);
    *owned = (unsigned char *)malloc(e->size ? (size_t)e->size : 1);
    if (*owned == NULL) {
      free(path);
      return oom(f, err);
    }
    s = pread_exact(path, (uint64_t)e->offset, *owned, (size_t)e->size, e->key, err);
    free(path);
    if (s != WK_OK) {
      free(*owned);
      *owned = NULL;
      return s;
    }
    *bytes = *owned;
    return WK_OK;
  }
  s = shard_region(f, e->shard_id, region, err);
  if (s != WK_OK) return s;
  if ((uint64_t)e->offset > wk__region_size(*region) || (uint64_t)e->size > wk__region_size(*region) - (uint64_t)e->offset) {
    char *path = shard_name(b, e->shard_id);
    s = wk__error_set(err, WK_EFORMAT, "%s: key %s: bytes [%lld, +%lld) lie past the end of the file (%zu bytes)",
                      path ? path : b->prefix, e->key, (long long)e->offset, (long long)e->size,
                      wk__region_size(*region));
    free(path);
    return s;
  }
  *bytes = wk__region_data(*region) + e->offset;
  return WK_OK;
}

static wk_status crc_mismatch(const wk_file *f, const wk__tf_entry *e, const char *what, wk_error *err) {
  return wk__error_set(err, WK_EFORMAT, "%s: key %s: CRC mismatch%s (corrupt data shard)", BUNDLE(f)->prefix, e->key,
                       what);
}

/* }==================================================================== */

/* {====================================================================
** Numeric reads
** ===================================================================== */

static void swap_bytes(unsigned char *p, size_t nbytes, size_t width) {
  size_t i, j;
  for (i = 0; i + width <= nbytes; i += width)
    for (j = 0; j < width / 2; j++) {
      unsigned char t = p[i + j];
      p[i + j] = p[i + width - 1 - j];
      p[i + width - 1 - j] = t;
    }
}

/* Byte order and bool normalization of an owned tensor's bytes. */
static void fix_owned(const tf_bundle *b, wk_tensor *t) {
  void *data = NULL;
  size_t n = wk_tensor_nbytes(t), i;
  if (n == 0 || wk_tensor_mutable_data(t, &data, NULL) != WK_OK) return;
  if (b->big_endian != host_big_endian() && wk_dtype_size(wk_tensor_dtype(t)) > 1)
    swap_bytes((unsigned char *)data, n, wk_dtype_size(wk_tensor_dtype(t)));
  if (wk_tensor_dtype(t) == WK_BOOL)
    for (i = 0; i < n; i++) ((unsigned char *)data)[i] = ((unsigned char *)data)[i] != 0;
}

/* Reads a plain (unpartitioned) numeric entry with its own shape. */
static wk_status read_plain(wk_file *f, const wk__tf_entry *e, wk_tensor **out, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  const unsigned char *bytes;
  unsigned char *owned;
  wk__region *region;
  wk_tensor *t = NULL;
  wk_status s;
  if (e->size == 0) {
    if (wk__crc32c_unmask(e->masked_crc) != 0) return crc_mismatch(f, e, "", err);
    return wk_tensor_new(e->dtype, e->rank, e->shape, out, err);
  }
  s = entry_bytes(f, e, &bytes, &owned, &region, err);
  if (s != WK_OK) return s;
  if (wk__crc32c(bytes, (size_t)e->size) != wk__crc32c_unmask(e->masked_crc)) {
    free(owned);
    return crc_mismatch(f, e, "", err);
  }
  if (region != NULL && e->dtype != WK_BOOL && b->big_endian == host_big_endian() &&
      (uintptr_t)bytes % wk_dtype_size(e->dtype) == 0)
    return wk__region_tensor(region, (uint64_t)e->offset, e->dtype, e->rank, e->shape, (size_t)e->size, out, err);
  s = wk_tensor_from_bytes(e->dtype, e->rank, e->shape, bytes, (size_t)e->size, &t, err);
  free(owned);
  if (s != WK_OK) return s;
  fix_owned(b, t);
  *out = t;
  return WK_OK;
}

static int entry_cmp(const void *key, const void *elem) {
  const wk__tf_entry *k = (const wk__tf_entry *)key, *e = (const wk__tf_entry *)elem;
  size_t n = k->key_len < e->key_len ? k->key_len : e->key_len;
  int c = memcmp(k->key, e->key, n);
  if (c != 0) return c;
  return k->key_len < e->key_len ? -1 : k->key_len > e->key_len;
}

static const wk__tf_entry *find_entry(const tf_bundle *b, const char *key, size_t len) {
  wk__tf_entry probe;
  probe.key = key;
  probe.key_len = len;
  return (const wk__tf_entry *)bsearch(&probe, b->entries, b->entry_count, sizeof *b->entries, entry_cmp);
}

/* The slice's start and length along each dim (a whole dim resolved). */
static void slice_box(const wk__tf_entry *full, const wk__tf_slice *s, int64_t *start, int64_t *len) {
  int d;
  for (d = 0; d < full->rank; d++) {
    start[d] = s->length[d] == -1 ? 0 : s->start[d];
    len[d] = s->length[d] == -1 ? full->shape[d] : s->length[d];
  }
}

/* Copies the C-order block `part` (shape len) into `dst` (shape full->shape) at start. */
static void place(const wk__tf_entry *full, unsigned char *dst, const unsigned char *part, const int64_t *start,
                  const int64_t *len) {
  size_t es = wk_dtype_size(full->dtype);
  int64_t idx[WK_MAX_RANK] = {0}, rows = 1, r, off;
  int rank = full->rank, d;
  size_t run;
  if (rank == 0) {
    memcpy(dst, part, es);
    return;
  }
  for (d = 0; d < rank - 1; d++) rows *= len[d];
  run = (size_t)len[rank - 1] * es;
  for (r = 0; r < rows; r++) {
    off = 0;
    for (d = 0; d < rank; d++) off = off * full->shape[d] + start[d] + (d < rank - 1 ? idx[d] : 0);
    if (run) memcpy(dst + (size_t)off * es, part + (size_t)r * run, run);
    for (d = rank - 2; d >= 0; d--) {
      if (++idx[d] < len[d]) break;
      idx[d] = 0;
    }
  }
}

/* A partitioned tensor: every slice entry read (CRC-checked) and placed. */
static wk_status read_sliced(wk_file *f, const wk__tf_entry *e, wk_tensor **out, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  wk__arena scratch = {NULL};
  wk_tensor *t = NULL;
  void *dst = NULL;
  int64_t total = 0, start[WK_MAX_RANK], len[WK_MAX_RANK];
  size_t i, j;
  int d;
  wk_status s;
  /* the slices must tile the tensor: no two overlap, volumes add up */
  for (i = 0; i < e->slice_count; i++) {
    int64_t vol = 1, start2[WK_MAX_RANK], len2[WK_MAX_RANK];
    slice_box(e, &e->slices[i], start, len);
    for (d = 0; d < e->rank; d++) vol *= len[d]; /* <= numel: no overflow */
    total += vol;
    for (j = 0; j < i && vol > 0; j++) {
      int overlap = 1;
      slice_box(e, &e->slices[j], start2, len2);
      for (d = 0; d < e->rank; d++)
        overlap &= start[d] < start2[d] + len2[d] && start2[d] < start[d] + len[d];
      if (overlap)
        return wk__error_set(err, WK_EFORMAT, "%s: key %s: slices %zu and %zu overlap", b->index_name, e->key, j, i);
    }
    if (total > e->numel) break;
  }
  if (total != e->numel)
    return wk__error_set(err, WK_EFORMAT, "%s: key %s: the slices do not cover the tensor", b->index_name, e->key);
  s = wk_tensor_new(e->dtype, e->rank, e->shape, &t, err);
  if (s == WK_OK && e->numel > 0) s = wk_tensor_mutable_data(t, &dst, err);
  for (i = 0; s == WK_OK && i < e->slice_count; i++) {
    size_t klen;
    const char *key = wk__tf_slice_key(&scratch, e->key, e->key_len, e->rank, &e->slices[i], &klen);
    const wk__tf_entry *se;
    wk_tensor *part = NULL;
    if (key == NULL) {
      s = oom(f, err);
      break;
    }
    slice_box(e, &e->slices[i], start, len);
    se = find_entry(b, key, klen);
    if (se == NULL) {
      s = wk__error_set(err, WK_EFORMAT, "%s: key %s: the entry of slice %zu is missing", b->index_name, e->key, i);
      break;
    }
    if (se->slice_count > 0 || se->dtype != e->dtype || se->rank != e->rank ||
        memcmp(se->shape, len, sizeof(int64_t) * (size_t)e->rank) != 0) {
      s = wk__error_set(err, WK_EFORMAT, "%s: key %s: the entry of slice %zu does not match the slice", b->index_name,
                        e->key, i);
      break;
    }
    s = read_plain(f, se, &part, err);
    if (s == WK_OK && se->numel > 0) place(e, (unsigned char *)dst, wk_tensor_data(part), start, len);
    wk_tensor_release(part);
  }
  wk__arena_free(&scratch);
  if (s != WK_OK) {
    wk_tensor_release(t);
    return s;
  }
  *out = t;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Strings
** ===================================================================== */

static void put_le(unsigned char *p, uint64_t v, int n) {
  int i;
  for (i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static wk_status parse_strings(wk_file *f, const wk__tf_entry *e, const unsigned char *bytes, tf_strings *out,
                               wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  const unsigned char *p = bytes, *end = bytes + e->size;
  size_t n = (size_t)e->numel, i, total = 0;
  size_t *lengths;
  char **items;
  uint32_t crc = 0, stored;
  lengths = (size_t *)wk__arena_calloc(&f->arena, n, sizeof *lengths);
  items = (char **)wk__arena_calloc(&f->arena, n, sizeof *items);
  if (lengths == NULL || items == NULL) return oom(f, err);
  for (i = 0; i < n; i++) {
    uint64_t len;
    unsigned char le[8];
    if (!wk__pb_varint64(&p, end, &len))
      return wk__error_set(err, WK_EFORMAT, "%s: key %s: truncated string lengths", b->prefix, e->key);
    if (len > f->opts.max_attribute_bytes - total)
      return wk__error_set(err, WK_ELIMIT, "%s: key %s: strings longer than %zu bytes in all", b->prefix, e->key,
                           f->opts.max_attribute_bytes);
    total += (size_t)len;
    lengths[i] = (size_t)len;
    put_le(le, len, len > 0xffffffffu ? 8 : 4);
    crc = wk__crc32c_extend(crc, le, len > 0xffffffffu ? 8 : 4);
  }
  if (end - p < 4) return wk__error_set(err, WK_EFORMAT, "%s: key %s: truncated string lengths", b->prefix, e->key);
  stored = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  if (wk__crc32c_unmask(stored) != crc) return crc_mismatch(f, e, " in the string lengths", err);
  crc = wk__crc32c_extend(crc, p, 4);
  p += 4;
  if ((size_t)(end - p) != total)
    return wk__error_set(err, WK_EFORMAT, "%s: key %s: %zu string bytes where the lengths say %zu", b->prefix, e->key,
                         (size_t)(end - p), total);
  crc = wk__crc32c_extend(crc, p, total);
  if (crc != wk__crc32c_unmask(e->masked_crc)) return crc_mismatch(f, e, "", err);
  for (i = 0; i < n; i++) {
    if ((items[i] = wk__arena_strndup(&f->arena, (const char *)p, lengths[i])) == NULL) return oom(f, err);
    p += lengths[i];
  }
  out->items = (const char *const *)items;
  out->lengths = lengths;
  out->count = n;
  return WK_OK;
}

/* The decoded strings of entries[index] (cached). */
static wk_status entry_strings(wk_file *f, size_t index, const tf_strings **out, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  const wk__tf_entry *e = &b->entries[index];
  const unsigned char *bytes;
  unsigned char *owned;
  wk__region *region;
  tf_strings *st;
  wk_status s;
  if (e->tf_dtype != WK__TF_STRING)
    return wk__error_set(err, WK_EDTYPE, "%s: key %s: not a string tensor (%s)", b->index_name, e->key, e->dtype_name);
  if (e->slice_count > 0)
    return wk__error_set(err, WK_EDTYPE, "%s: key %s: partitioned string tensors are not supported", b->index_name,
                         e->key);
  if (b->strings[index] != NULL) {
    *out = b->strings[index];
    return WK_OK;
  }
  st = (tf_strings *)wk__arena_alloc(&f->arena, sizeof *st);
  if (st == NULL) return oom(f, err);
  if (e->size == 0) return wk__error_set(err, WK_EFORMAT, "%s: key %s: empty string tensor data", b->prefix, e->key);
  s = entry_bytes(f, e, &bytes, &owned, &region, err);
  if (s != WK_OK) return s;
  s = parse_strings(f, e, bytes, st, err);
  free(owned);
  if (s != WK_OK) return s;
  b->strings[index] = st;
  *out = st;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** wk__file_ops
** ===================================================================== */

static const wk__file_ops tf_ops;

/* The entries index behind an info of this handle (from wk_file_tensors or a layer). */
static wk_status locate(wk_file *f, const wk_tensor_info *info, size_t *index, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  uintptr_t p = (uintptr_t)info, t0 = (uintptr_t)f->tensors, l0 = (uintptr_t)b->layer_infos;
  if (f->tensor_count > 0 && p >= t0 && p < t0 + f->tensor_count * sizeof *info && (p - t0) % sizeof *info == 0) {
    *index = b->tensor_entry[(p - t0) / sizeof *info];
    return WK_OK;
  }
  if (b->layer_info_count > 0 && p >= l0 && p < l0 + b->layer_info_count * sizeof *info &&
      (p - l0) % sizeof *info == 0) {
    *index = b->layer_entry[(p - l0) / sizeof *info];
    return WK_OK;
  }
  return wk__error_set(err, WK_EINVAL, "%s: the tensor info does not come from this handle", f->name);
}

static wk_status tf_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  const wk__tf_entry *e;
  size_t index;
  wk_status s = locate(f, info, &index, err);
  if (s != WK_OK) return s;
  e = &b->entries[index];
  if (e->tf_dtype == WK__TF_STRING)
    return wk__error_set(err, WK_EDTYPE, "%s: key %s: a string tensor (read it with wk_file_read_strings)",
                         b->index_name, e->key);
  if (e->dtype == WK_DTYPE_COUNT)
    return wk__error_set(err, WK_EDTYPE, "%s: key %s: dtype %s has no weightkit dtype", b->index_name, e->key,
                         e->dtype_name);
  return e->slice_count > 0 ? read_sliced(f, e, out, err) : read_plain(f, e, out, err);
}

static wk_status tf_list(wk_file *f, wk_error *err) {
  (void)f;
  (void)err;
  return WK_OK; /* built at open */
}

static wk_status tf_resolve_layer(wk_file *f, size_t index, wk_error *err) {
  (void)index;
  return wk__error_set(err, WK_EINVAL, "%s: nothing to resolve", f->name);
}

static wk_status tf_resolve_top(wk_file *f, wk_error *err) {
  (void)err;
  f->top_ready = 1;
  return WK_OK;
}

static void tf_resolve_optimizer(wk_file *f) { f->opt_ready = 1; }

/* A bundle has no string attributes (its strings are tensors: wk_file_read_strings). */
static wk_status tf_string_attribute(wk_file *f, const char *object_path, const char *name, const char **out,
                                     wk_error *err) {
  (void)f;
  (void)object_path;
  (void)name;
  (void)err;
  *out = NULL;
  return WK_OK;
}

static void tf_close(wk_file *f) {
  tf_bundle *b = BUNDLE(f);
  int32_t i;
  if (b == NULL) return;
  if (b->shards != NULL)
    for (i = 0; i < b->num_shards; i++) wk__region_release(b->shards[i]);
  free(b->shards);
  free(b);
  f->impl = NULL;
}

static const wk__file_ops tf_ops = {tf_list, tf_resolve_layer, tf_resolve_top, tf_resolve_optimizer,
                                    tf_read, tf_string_attribute, tf_close};

/* }==================================================================== */

/* {====================================================================
** Open: entries, tensors, layers
** ===================================================================== */

/* The whole index file in malloc'd memory. */
static wk_status slurp(const char *path, unsigned char **out, size_t *size, wk_error *err) {
  struct stat st;
  unsigned char *buf;
  wk_status s;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return wk__error_set(err, WK_EIO, "%s: not a regular file", path);
  }
  if ((uintmax_t)st.st_size >= (uintmax_t)SIZE_MAX) {
    close(fd);
    return wk__error_set(err, WK_ELIMIT, "%s: file too large", path);
  }
  buf = (unsigned char *)malloc(st.st_size ? (size_t)st.st_size : 1);
  if (buf == NULL) {
    close(fd);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
  }
  close(fd);
  s = pread_exact(path, 0, buf, (size_t)st.st_size, "(index)", err);
  if (s != WK_OK) {
    free(buf);
    return s;
  }
  *out = buf;
  *size = (size_t)st.st_size;
  return WK_OK;
}

/* Walks the table: header, then every entry into a malloc'd array (moved to the arena). */
static wk_status load_entries(wk_file *f, const unsigned char *index, size_t size, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  wk__sst_iter it;
  wk__tf_entry *list = NULL;
  size_t n = 0, cap = 0;
  int has, first = 1;
  wk_status s = wk__sst_open(&it, index, size, b->index_name, f->opts.max_attribute_bytes, err);
  if (s != WK_OK) return s;
  while ((s = wk__sst_next(&it, &has, err)) == WK_OK && has) {
    wk__tf_entry *e;
    if (first) {
      wk__tf_header h;
      first = 0;
      if (it.key_len != 0) {
        s = wk__error_set(err, WK_EFORMAT, "%s: no bundle header (key \"\"): not a TensorFlow tensor bundle",
                          b->index_name);
        break;
      }
      if ((s = wk__tf_header_decode(it.value, it.value_len, b->index_name, &h, err)) != WK_OK) break;
      if ((size_t)h.num_shards > f->opts.max_tensors) {
        s = wk__error_set(err, WK_ELIMIT, "%s: %ld data shards (limit %zu)", b->index_name, (long)h.num_shards,
                          f->opts.max_tensors);
        break;
      }
      b->num_shards = h.num_shards;
      b->big_endian = h.big_endian;
      continue;
    }
    if (n == f->opts.max_tensors) {
      s = wk__error_set(err, WK_ELIMIT, "%s: more than %zu entries", b->index_name, f->opts.max_tensors);
      break;
    }
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      wk__tf_entry *nl = (wk__tf_entry *)realloc(list, nc * sizeof *nl);
      if (nl == NULL) {
        s = oom(f, err);
        break;
      }
      list = nl;
      cap = nc;
    }
    e = &list[n];
    memset(e, 0, sizeof *e);
    e->key_len = it.key_len;
    e->key = wk__arena_strndup(&f->arena, (const char *)it.key, it.key_len);
    if (e->key == NULL) {
      s = oom(f, err);
      break;
    }
    if (it.key[0] != '\0' && memchr(it.key, '\0', it.key_len) != NULL) {
      s = wk__error_set(err, WK_EFORMAT, "%s: a key holds a NUL byte", b->index_name);
      break;
    }
    if ((s = wk__tf_entry_decode(&f->arena, it.value, it.value_len, b->index_name, b->num_shards, e, err)) != WK_OK)
      break;
    n++;
  }
  wk__sst_close(&it);
  if (s == WK_OK && first)
    s = wk__error_set(err, WK_EFORMAT, "%s: an empty table: not a TensorFlow tensor bundle", b->index_name);
  if (s == WK_OK) {
    b->entries = (wk__tf_entry *)wk__arena_calloc(&f->arena, n, sizeof *list);
    b->strings = (tf_strings **)wk__arena_calloc(&f->arena, n, sizeof *b->strings);
    if (b->entries == NULL || b->strings == NULL) s = oom(f, err);
    else if (n) memcpy(b->entries, list, n * sizeof *list);
    b->entry_count = n;
  }
  free(list);
  return s;
}

static void fill_info(const tf_bundle *b, const wk__tf_entry *e, wk_tensor_info *info) {
  memset(info, 0, sizeof *info);
  info->path = e->key;
  info->dtype = e->dtype;
  info->dtype_name = e->dtype_name;
  info->rank = e->rank;
  memcpy(info->shape, e->shape, sizeof e->shape);
  info->numel = e->numel;
  info->nbytes = e->dtype == WK_DTYPE_COUNT ? 0 : (size_t)e->numel * wk_dtype_size(e->dtype);
  info->layout = e->slice_count > 0 ? "sliced" : "contiguous";
  info->big_endian = b->big_endian;
}

/* One keyed weight before grouping: its layer, weight name and listing position. */
typedef struct weight_ref {
  const char *layer, *name;
  size_t tensor;
} weight_ref;

static int ref_by_layer(const void *a, const void *b) {
  const weight_ref *x = (const weight_ref *)a, *y = (const weight_ref *)b;
  int c = strcmp(x->layer, y->layer);
  if (c != 0) return c;
  return x->tensor < y->tensor ? -1 : x->tensor > y->tensor;
}

typedef struct group {
  size_t first, count; /* in the sorted refs */
  size_t first_tensor; /* its first key's listing position: layers come in that order */
} group;

static int group_cmp(const void *a, const void *b) {
  size_t x = ((const group *)a)->first_tensor, y = ((const group *)b)->first_tensor;
  return x < y ? -1 : x > y;
}

/* Splits a key at "/.ATTRIBUTES/" into (layer, weight) per weightkit.h; 0 for other keys. */
static int split_key(wk__arena *arena, const char *key, const char **layer, const char **name) {
  const char *at = strstr(key, ATTRIBUTES), *attr, *slash;
  size_t path_len;
  if (at == NULL) return 0;
  attr = at + strlen(ATTRIBUTES);
  path_len = (size_t)(at - key);
  if (strcmp(attr, "VARIABLE_VALUE") == 0) {
    slash = NULL;
    {
      size_t i;
      for (i = path_len; i > 0; i--)
        if (key[i - 1] == '/') {
          slash = key + i - 1;
          break;
        }
    }
    if (slash == NULL) {
      *layer = "";
      *name = wk__arena_strndup(arena, key, path_len);
    } else {
      *layer = wk__arena_strndup(arena, key, (size_t)(slash - key));
      *name = wk__arena_strndup(arena, slash + 1, path_len - (size_t)(slash - key) - 1);
    }
  } else {
    *layer = wk__arena_strndup(arena, key, path_len);
    *name = attr;
  }
  return *layer != NULL && *name != NULL ? 1 : -1;
}

static wk_status build_lists(wk_file *f, wk_error *err) {
  tf_bundle *b = BUNDLE(f);
  size_t i, n = 0, nrefs = 0, ngroups = 0, at = 0;
  weight_ref *refs = NULL;
  group *groups = NULL;
  wk_status s = WK_OK;
  for (i = 0; i < b->entry_count; i++) n += b->entries[i].key[0] != '\0';
  f->tensors = (wk_tensor_info *)wk__arena_calloc(&f->arena, n, sizeof *f->tensors);
  b->tensor_entry = (size_t *)wk__arena_calloc(&f->arena, n, sizeof *b->tensor_entry);
  if (f->tensors == NULL || b->tensor_entry == NULL) return oom(f, err);
  refs = (weight_ref *)malloc((n ? n : 1) * sizeof *refs);
  if (refs == NULL) return oom(f, err);
  for (i = 0; i < b->entry_count; i++) {
    const wk__tf_entry *e = &b->entries[i];
    int r;
    if (e->key[0] == '\0') continue; /* a slice entry */
    fill_info(b, e, &f->tensors[f->tensor_count]);
    b->tensor_entry[f->tensor_count] = i;
    r = split_key(&f->arena, e->key, &refs[nrefs].layer, &refs[nrefs].name);
    if (r < 0) {
      s = oom(f, err);
      goto done;
    }
    if (r > 0) refs[nrefs++].tensor = f->tensor_count;
    f->tensor_count++;
  }
  qsort(refs, nrefs, sizeof *refs, ref_by_layer);
  groups = (group *)malloc((nrefs ? nrefs : 1) * sizeof *groups);
  if (groups == NULL) {
    s = oom(f, err);
    goto done;
  }
  for (i = 0; i < nrefs; i++) {
    if (i == 0 || strcmp(refs[i].layer, refs[i - 1].layer) != 0) {
      groups[ngroups].first = i;
      groups[ngroups].first_tensor = refs[i].tensor; /* refs of a layer are sorted by position */
      groups[ngroups++].count = 0;
    }
    groups[ngroups - 1].count++;
  }
  qsort(groups, ngroups, sizeof *groups, group_cmp);
  f->layers = (wk_layer_info *)wk__arena_calloc(&f->arena, ngroups, sizeof *f->layers);
  b->layer_infos = (wk_tensor_info *)wk__arena_calloc(&f->arena, nrefs, sizeof *b->layer_infos);
  b->layer_entry = (size_t *)wk__arena_calloc(&f->arena, nrefs, sizeof *b->layer_entry);
  if (f->layers == NULL || b->layer_infos == NULL || b->layer_entry == NULL) {
    s = oom(f, err);
    goto done;
  }
  for (i = 0; i < ngroups; i++) {
    size_t k;
    wk_layer_info *l = &f->layers[i];
    l->name = refs[groups[i].first].layer;
    l->weight_count = groups[i].count;
    l->weights = &b->layer_infos[at];
    for (k = 0; k < groups[i].count; k++, at++) {
      const weight_ref *r = &refs[groups[i].first + k];
      b->layer_infos[at] = f->tensors[r->tensor];
      b->layer_infos[at].layer = r->layer;
      b->layer_infos[at].name = r->name;
      b->layer_entry[at] = b->tensor_entry[r->tensor];
    }
  }
  f->layer_count = ngroups;
  b->layer_info_count = nrefs;
done:
  free(refs);
  free(groups);
  return s;
}

wk_status wk__tfbundle_open(wk_file *f, const char *prefix, const char *format, wk_error *err) {
  tf_bundle *b = (tf_bundle *)calloc(1, sizeof *b);
  unsigned char *index = NULL;
  size_t size = 0;
  wk_status s;
  if (b == NULL) return oom(f, err);
  f->impl = b;
  f->ops = &tf_ops;
  b->prefix = wk__arena_strdup(&f->arena, prefix);
  b->index_name = b->prefix ? wk__arena_join(&f->arena, b->prefix, "", ".index") : NULL;
  if (b->index_name == NULL) return oom(f, err);
  s = slurp(b->index_name, &index, &size, err);
  if (s != WK_OK) return s;
  s = load_entries(f, index, size, err);
  free(index);
  if (s == WK_OK) s = build_lists(f, err);
  if (s != WK_OK) return s;
  f->format = format;
  f->tensors_ready = 1;
  f->top_ready = f->opt_ready = 1;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Public: strings and the object graph
** ===================================================================== */

WK_API wk_status wk_file_read_strings(wk_file *f, const wk_tensor_info *info, const char *const **items,
                                      const size_t **lengths, size_t *count, wk_error *err) {
  const tf_strings *st;
  size_t index;
  wk_status s;
  if (f == NULL || info == NULL || items == NULL || lengths == NULL || count == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_read_strings: NULL argument");
  if (f->ops != &tf_ops)
    return wk__error_set(err, WK_EDTYPE, "%s: %s has no string tensors", f->name, f->format);
  if ((s = locate(f, info, &index, err)) != WK_OK) return s;
  if ((s = entry_strings(f, index, &st, err)) != WK_OK) return s;
  *items = st->items;
  *lengths = st->lengths;
  *count = st->count;
  return WK_OK;
}

WK_API wk_status wk_file_object_graph(wk_file *f, const wk_ckpt_node **nodes, size_t *count, wk_error *err) {
  tf_bundle *b;
  const wk__tf_entry *e;
  const tf_strings *st;
  wk_status s;
  if (f == NULL || nodes == NULL || count == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_object_graph: NULL argument");
  if (f->ops != &tf_ops)
    return wk__error_set(err, WK_EINVAL, "%s: not a TensorFlow checkpoint (%s)", f->name, f->format);
  b = BUNDLE(f);
  if (!b->graph_ready) {
    e = find_entry(b, GRAPH_KEY, strlen(GRAPH_KEY));
    if (e != NULL) {
      if (e->tf_dtype != WK__TF_STRING || e->numel != 1)
        return wk__error_set(err, WK_EFORMAT, "%s: key %s: not a scalar string (%s)", b->index_name, GRAPH_KEY,
                             e->dtype_name);
      if ((s = entry_strings(f, (size_t)(e - b->entries), &st, err)) != WK_OK) return s;
      s = wk__tf_graph_decode(&f->arena, (const unsigned char *)st->items[0], st->lengths[0], b->prefix, &b->nodes,
                              &b->node_count, err);
      if (s != WK_OK) return s;
    }
    b->graph_ready = 1;
  }
  *nodes = b->nodes;
  *count = b->node_count;
  return WK_OK;
}

/* }==================================================================== */
