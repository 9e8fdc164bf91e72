/*
** wk_safetensors_write.c — wk_write_safetensors (weightkit.h "Writing"): a safetensors file
** (layout in wk_safetensors.h) laid out as the reference writer lays it out.
**
** HEADER. Compact JSON written by hand: "__metadata__" first (when there is metadata: the
** caller's order), then the tensors in data order, each {"dtype":..,"shape":[..],"data_offsets":
** [begin,end]}. Strings are quoted by wk__json_quote (the reference's escaping: '"', '\\' and
** control characters; other bytes, UTF-8 included, as they are). The header is padded with
** spaces to a multiple of 8 bytes, so the data start 8-aligned.
** ORDER. Tensors sorted by dtype, largest alignment first (the reference's Dtype enum order,
** wk__safetensors_dtype_rank), then by name bytewise; every tensor is then aligned for its dtype.
** DATA. Each tensor's bytes back to back, little-endian (swapped on a big-endian host), bool as
** bytes 0/1.
** CHECKS (WK_EINVAL, before anything touches the disk): names non-NULL, non-empty, unique, not
** "__metadata__", valid UTF-8 (JSON text is UTF-8); metadata keys unique; keys and values valid
** UTF-8; tensors non-NULL.
** SAVE. Streamed to a temporary through wk__atomic_write and committed (wk_atomic.h).
** OWNERSHIP. Everything is borrowed for the call; what is allocated here is freed before return.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_atomic.h"
#include "wk_json.h"
#include "wk_safetensors.h"

#define METADATA_KEY "__metadata__"
#define CHUNK ((size_t)64 << 10)

typedef struct item {
  const char *name;
  const wk_tensor *t;
  int rank; /* wk__safetensors_dtype_rank */
} item;

static int item_cmp(const void *a, const void *b) {
  const item *x = (const item *)a, *y = (const item *)b;
  if (x->rank != y->rank) return x->rank > y->rank ? -1 : 1;
  return strcmp(x->name, y->name); /* bytewise: strcmp compares as unsigned char */
}

/* {====================================================================
** Header text
** ===================================================================== */

typedef struct text {
  char *p;
  size_t len, cap;
  int oom;
} text;

static char *reserve(text *b, size_t n) {
  if (b->oom) return NULL;
  if (b->cap - b->len < n) {
    size_t nc = b->cap ? b->cap : 256;
    char *np;
    while (nc - b->len < n) {
      if (nc > ((size_t)-1) / 2) {
        b->oom = 1;
        return NULL;
      }
      nc *= 2;
    }
    np = (char *)realloc(b->p, nc);
    if (np == NULL) {
      b->oom = 1;
      return NULL;
    }
    b->p = np;
    b->cap = nc;
  }
  return b->p + b->len;
}

static void put(text *b, const char *s, size_t n) {
  char *d = reserve(b, n);
  if (d == NULL) return;
  memcpy(d, s, n);
  b->len += n;
}

static void put_str(text *b, const char *s) { put(b, s, strlen(s)); }

static void put_u64(text *b, uint64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
  put(b, num, (size_t)n);
}

static void put_quoted(text *b, const char *s) {
  size_t n = strlen(s), len = 0;
  wk__json_quote(NULL, &len, s, n);
  if (reserve(b, len) == NULL) return;
  len = b->len;
  wk__json_quote(b->p, &len, s, n);
  b->len = len;
}

/* }==================================================================== */

static wk_status check_args(const char *path, const char *const *names, const wk_tensor *const *tensors, size_t count,
                            const char *const *keys, const char *const *values, size_t mcount, wk_error *err) {
  size_t i;
  if (path == NULL) return wk__error_set(err, WK_EINVAL, "wk_write_safetensors: NULL path");
  if (count > 0 && (names == NULL || tensors == NULL))
    return wk__error_set(err, WK_EINVAL, "%s: NULL names or tensors", path);
  if (mcount > 0 && (keys == NULL || values == NULL))
    return wk__error_set(err, WK_EINVAL, "%s: NULL metadata keys or values", path);
  for (i = 0; i < count; i++) {
    if (names[i] == NULL || names[i][0] == '\0')
      return wk__error_set(err, WK_EINVAL, "%s: tensor %zu: empty or NULL name", path, i + 1);
    if (strcmp(names[i], METADATA_KEY) == 0)
      return wk__error_set(err, WK_EINVAL, "%s: a tensor cannot be named \"%s\"", path, METADATA_KEY);
    if (!wk__json_utf8_valid(names[i], strlen(names[i])))
      return wk__error_set(err, WK_EINVAL, "%s: tensor %zu: the name is not valid UTF-8", path, i + 1);
    if (tensors[i] == NULL) return wk__error_set(err, WK_EINVAL, "%s: tensor \"%s\": NULL tensor", path, names[i]);
    if (wk__safetensors_dtype_code(wk_tensor_dtype(tensors[i])) == NULL)
      return wk__error_set(err, WK_EDTYPE, "%s: tensor \"%s\": no safetensors dtype", path, names[i]);
  }
  for (i = 0; i < mcount; i++) {
    if (keys[i] == NULL || values[i] == NULL)
      return wk__error_set(err, WK_EINVAL, "%s: metadata entry %zu: NULL key or value", path, i + 1);
    if (!wk__json_utf8_valid(keys[i], strlen(keys[i])) || !wk__json_utf8_valid(values[i], strlen(values[i])))
      return wk__error_set(err, WK_EINVAL, "%s: metadata \"%s\": not valid UTF-8", path, keys[i]);
  }
  return WK_OK;
}

/* Duplicates among n strings (copied into a scratch array). */
static wk_status check_unique(const char *path, const char *const *s, size_t n, const char *what, wk_error *err) {
  wk__json_str *k;
  size_t i, dup;
  wk_status st = WK_OK;
  if (n < 2) return WK_OK;
  k = (wk__json_str *)malloc(n * sizeof *k);
  if (k == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
  for (i = 0; i < n; i++) {
    k[i].s = s[i];
    k[i].len = strlen(s[i]);
  }
  if ((dup = wk__json_sort_unique(k, n)) != (size_t)-1)
    st = wk__error_set(err, WK_EINVAL, "%s: duplicate %s \"%s\"", path, what, k[dup].s);
  free(k);
  return st;
}

/* The padded header for the sorted items. */
static wk_status build_header(const char *path, const item *items, size_t count, const char *const *keys,
                              const char *const *values, size_t mcount, text *b, wk_error *err) {
  size_t i;
  uint64_t at = 0;
  int d;
  put_str(b, "{");
  if (mcount > 0) {
    put_str(b, "\"" METADATA_KEY "\":{");
    for (i = 0; i < mcount; i++) {
      if (i) put_str(b, ",");
      put_quoted(b, keys[i]);
      put_str(b, ":");
      put_quoted(b, values[i]);
    }
    put_str(b, "}");
  }
  for (i = 0; i < count; i++) {
    const wk_tensor *t = items[i].t;
    const int64_t *shape = wk_tensor_shape(t);
    uint64_t n = (uint64_t)wk_tensor_nbytes(t);
    if (at > UINT64_MAX - n) return wk__error_set(err, WK_ELIMIT, "%s: the data size overflows", path);
    if (i || mcount > 0) put_str(b, ",");
    put_quoted(b, items[i].name);
    put_str(b, ":{\"dtype\":\"");
    put_str(b, wk__safetensors_dtype_code(wk_tensor_dtype(t)));
    put_str(b, "\",\"shape\":[");
    for (d = 0; d < wk_tensor_rank(t); d++) {
      if (d) put_str(b, ",");
      put_u64(b, (uint64_t)shape[d]);
    }
    put_str(b, "],\"data_offsets\":[");
    put_u64(b, at);
    put_str(b, ",");
    put_u64(b, at + n);
    put_str(b, "]}");
    at += n;
  }
  put_str(b, "}");
  while (b->len % 8 != 0) put_str(b, " ");
  return b->oom ? wk__error_set(err, WK_ENOMEM, "%s: out of memory", path) : WK_OK;
}

static int host_big_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 0;
}

/* One tensor's bytes, converted chunk by chunk when the host order or bool needs it. */
static wk_status write_tensor(wk__atomic *a, const wk_tensor *t, unsigned char *chunk, wk_error *err) {
  const unsigned char *src = (const unsigned char *)wk_tensor_data(t);
  size_t n = wk_tensor_nbytes(t), es = wk_dtype_size(wk_tensor_dtype(t)), done = 0;
  int is_bool = wk_tensor_dtype(t) == WK_BOOL, swap = es > 1 && host_big_endian();
  if (n == 0) return WK_OK;
  if (!is_bool && !swap) return wk__atomic_write(a, src, n, err);
  while (done < n) {
    size_t m = n - done < CHUNK ? n - done : CHUNK, i, k;
    for (i = 0; i < m; i++) chunk[i] = is_bool ? src[done + i] != 0 : src[done + i];
    if (swap)
      for (i = 0; i < m; i += es)
        for (k = 0; k < es / 2; k++) {
          unsigned char x = chunk[i + k];
          chunk[i + k] = chunk[i + es - 1 - k];
          chunk[i + es - 1 - k] = x;
        }
    wk_status s = wk__atomic_write(a, chunk, m, err);
    if (s != WK_OK) return s;
    done += m;
  }
  return WK_OK;
}

WK_API wk_status wk_write_safetensors(const char *path, const char *const *names,
                                      const wk_tensor *const *tensors, size_t count,
                                      const char *const *metadata_keys,
                                      const char *const *metadata_values, size_t metadata_count,
                                      int overwrite, wk_error *err) {
  item *items = NULL;
  text b = {NULL, 0, 0, 0};
  unsigned char len8[8], *chunk = NULL;
  wk__atomic a;
  size_t i;
  wk_status s = check_args(path, names, tensors, count, metadata_keys, metadata_values, metadata_count, err);
  if (s == WK_OK) s = check_unique(path, names, count, "tensor name", err);
  if (s == WK_OK) s = check_unique(path, metadata_keys, metadata_count, "metadata key", err);
  if (s != WK_OK) return s;
  items = (item *)malloc((count ? count : 1) * sizeof *items);
  chunk = (unsigned char *)malloc(CHUNK); /* CHUNK is a multiple of every dtype size */
  if (items == NULL || chunk == NULL) {
    s = wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (i = 0; i < count; i++) {
    items[i].name = names[i];
    items[i].t = tensors[i];
    items[i].rank = wk__safetensors_dtype_rank(wk_tensor_dtype(tensors[i]));
  }
  qsort(items, count, sizeof *items, item_cmp);
  s = build_header(path, items, count, metadata_keys, metadata_values, metadata_count, &b, err);
  if (s != WK_OK) goto done;
  for (i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
  s = wk__atomic_begin(&a, path, overwrite, err);
  if (s != WK_OK) goto done;
  s = wk__atomic_write(&a, len8, 8, err);
  if (s == WK_OK) s = wk__atomic_write(&a, b.p, b.len, err);
  for (i = 0; s == WK_OK && i < count; i++) s = write_tensor(&a, items[i].t, chunk, err);
  if (s == WK_OK) s = wk__atomic_commit(&a, err);
  else wk__atomic_abort(&a);
done:
  free(items);
  free(chunk);
  free(b.p);
  return s;
}
