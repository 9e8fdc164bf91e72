/*
** wk_tensor.c — tensor lifetime: refcounted storage (owned, external, shared by views),
** creation, accessors, copy-on-write and single-element access.
*/
#include <stdlib.h>
#include <string.h>

#include "wk_internal.h"

/* {====================================================================
** Storage
** ===================================================================== */

static wk__storage *storage_new(unsigned char *data, size_t nbytes, int readonly) {
  wk__storage *s = (wk__storage *)malloc(sizeof *s);
  if (s == NULL) return NULL;
  s->refcount = 1;
  s->readonly = readonly;
  s->data = data;
  s->nbytes = nbytes;
  s->release = NULL;
  s->release_ctx = NULL;
  return s;
}

/* Owned storage of nbytes zero bytes; 0 bytes allocate nothing (data stays NULL). */
static wk__storage *storage_alloc(size_t nbytes) {
  unsigned char *data = NULL;
  wk__storage *s;
  if (nbytes > 0 && (data = (unsigned char *)calloc(nbytes, 1)) == NULL) return NULL;
  s = storage_new(data, nbytes, 0);
  if (s == NULL) free(data);
  return s;
}

/* External memory is handed back through its callback; owned memory is freed. */
static void storage_release(wk__storage *s) {
  if (s == NULL || --s->refcount > 0) return;
  if (s->readonly) {
    if (s->release != NULL) s->release(s->release_ctx);
  } else {
    free(s->data);
  }
  free(s);
}

/* }==================================================================== */

/* {====================================================================
** Creation and lifetime
** ===================================================================== */

/* A tensor struct around `s` (whose reference it takes over); shape already validated. */
static wk_tensor *tensor_make(wk_dtype dtype, int rank, const int64_t *shape, int64_t numel,
                              size_t nbytes, wk__storage *s, size_t offset,
                              wk_storage_kind kind) {
  wk_tensor *t = (wk_tensor *)calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->refcount = 1;
  t->dtype = dtype;
  t->rank = rank;
  t->kind = kind;
  if (rank > 0) memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
  t->numel = numel;
  t->nbytes = nbytes;
  t->offset = offset;
  t->storage = s;
  return t;
}

wk_status wk__tensor_alloc(const char *op, wk_dtype dtype, int rank, const int64_t *shape,
                           wk_tensor **out, wk_error *err) {
  int64_t numel;
  size_t nbytes;
  wk__storage *s;
  wk_tensor *t;
  wk_status st = wk__shape_check(op, dtype, rank, shape, &numel, &nbytes, err);
  if (st != WK_OK) return st;
  s = storage_alloc(nbytes);
  if (s == NULL)
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory allocating %zu bytes", op, nbytes);
  t = tensor_make(dtype, rank, shape, numel, nbytes, s, 0, WK_STORAGE_OWNED);
  if (t == NULL) {
    storage_release(s);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", op);
  }
  *out = t;
  return WK_OK;
}

wk_status wk__tensor_view(wk_tensor *src, int rank, const int64_t *shape, size_t byte_offset,
                          wk_tensor **out, wk_error *err) {
  int64_t numel;
  size_t nbytes;
  wk_tensor *t;
  wk_status st = wk__shape_check("view", src->dtype, rank, shape, &numel, &nbytes, err);
  if (st != WK_OK) return st;
  if (byte_offset > src->nbytes || nbytes > src->nbytes - byte_offset)
    return wk__error_set(err, WK_EINVAL, "view: window outside the source tensor");
  t = tensor_make(src->dtype, rank, shape, numel, nbytes, src->storage,
                  src->offset + byte_offset, WK_STORAGE_VIEW);
  if (t == NULL) return wk__error_set(err, WK_ENOMEM, "view: out of memory");
  src->storage->refcount++;
  *out = t;
  return WK_OK;
}

wk_status wk_tensor_new(wk_dtype dtype, int rank, const int64_t *shape, wk_tensor **out,
                        wk_error *err) {
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "tensor_new: NULL output");
  return wk__tensor_alloc("tensor_new", dtype, rank, shape, out, err);
}

/* Validates a caller buffer against a shape (both wrap and from_bytes). */
static wk_status check_buffer(const char *op, wk_dtype dtype, int rank, const int64_t *shape,
                              const void *data, size_t nbytes, int64_t *numel, size_t *need,
                              wk_error *err) {
  wk_status st = wk__shape_check(op, dtype, rank, shape, numel, need, err);
  if (st != WK_OK) return st;
  if (nbytes != *need) {
    char s[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_ESHAPE, "%s: %zu bytes given, shape %s of %s needs %zu", op,
                         nbytes, wk__shape_str(s, rank, shape), wk_dtype_name(dtype), *need);
  }
  if (data == NULL && nbytes > 0)
    return wk__error_set(err, WK_EINVAL, "%s: NULL data", op);
  return WK_OK;
}

wk_status wk_tensor_wrap(wk_dtype dtype, int rank, const int64_t *shape, const void *data,
                         size_t nbytes, void (*release)(void *release_ctx), void *release_ctx,
                         wk_tensor **out, wk_error *err) {
  int64_t numel;
  size_t need;
  wk__storage *s;
  wk_tensor *t;
  wk_status st;
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "tensor_wrap: NULL output");
  st = check_buffer("tensor_wrap", dtype, rank, shape, data, nbytes, &numel, &need, err);
  if (st != WK_OK) return st;
  /* Read-only by contract: the const is dropped only to share one struct (wk_internal.h). */
  s = storage_new((unsigned char *)(uintptr_t)data, nbytes, 1);
  if (s == NULL) return wk__error_set(err, WK_ENOMEM, "tensor_wrap: out of memory");
  t = tensor_make(dtype, rank, shape, numel, need, s, 0, WK_STORAGE_EXTERNAL);
  if (t == NULL) { /* release is not called on failure: the caller keeps the memory */
    free(s);
    return wk__error_set(err, WK_ENOMEM, "tensor_wrap: out of memory");
  }
  s->release = release;
  s->release_ctx = release_ctx;
  *out = t;
  return WK_OK;
}

wk_status wk_tensor_from_bytes(wk_dtype dtype, int rank, const int64_t *shape, const void *data,
                               size_t nbytes, wk_tensor **out, wk_error *err) {
  int64_t numel;
  size_t need;
  wk_tensor *t;
  wk_status st;
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "tensor_from_bytes: NULL output");
  st = check_buffer("tensor_from_bytes", dtype, rank, shape, data, nbytes, &numel, &need, err);
  if (st != WK_OK) return st;
  st = wk__tensor_alloc("tensor_from_bytes", dtype, rank, shape, &t, err);
  if (st != WK_OK) return st;
  if (nbytes > 0) memcpy(t->storage->data, data, nbytes);
  *out = t;
  return WK_OK;
}

void wk_tensor_retain(wk_tensor *t) {
  if (t != NULL) t->refcount++;
}

void wk_tensor_release(wk_tensor *t) {
  if (t == NULL || --t->refcount > 0) return;
  storage_release(t->storage);
  free(t);
}

/* }==================================================================== */

/* {====================================================================
** Accessors and data
** ===================================================================== */

wk_dtype wk_tensor_dtype(const wk_tensor *t) { return t->dtype; }
int wk_tensor_rank(const wk_tensor *t) { return t->rank; }
const int64_t *wk_tensor_shape(const wk_tensor *t) { return t->shape; }
int64_t wk_tensor_numel(const wk_tensor *t) { return t->numel; }
size_t wk_tensor_nbytes(const wk_tensor *t) { return t->nbytes; }
wk_storage_kind wk_tensor_storage_kind(const wk_tensor *t) { return t->kind; }
int wk_tensor_is_readonly(const wk_tensor *t) { return t->storage->readonly; }

const unsigned char *wk__tdata(const wk_tensor *t) {
  if (t->nbytes == 0 || t->storage->data == NULL) return NULL;
  return t->storage->data + t->offset;
}

const void *wk_tensor_data(const wk_tensor *t) {
  return wk__tdata(t);
}

/*
** Copy-on-write: a tensor on read-only storage gets a private owned copy of its own window
** only; the old storage loses this tensor's reference (and is released with the last one),
** and every other tensor on it keeps the original bytes.
*/
wk_status wk_tensor_mutable_data(wk_tensor *t, void **out, wk_error *err) {
  if (t->storage->readonly) {
    wk__storage *s = storage_alloc(t->nbytes);
    if (s == NULL)
      return wk__error_set(err, WK_ENOMEM, "mutable_data: out of memory copying %zu bytes",
                           t->nbytes);
    if (t->nbytes > 0) memcpy(s->data, wk__tdata(t), t->nbytes);
    storage_release(t->storage);
    t->storage = s;
    t->offset = 0;
    t->kind = WK_STORAGE_OWNED;
  }
  if (out != NULL) *out = (void *)(uintptr_t)wk__tdata(t);
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Single elements
** ===================================================================== */

static wk_status check_index(const char *op, const wk_tensor *t, int64_t index, wk_error *err) {
  if (index < 0 || index >= t->numel) {
    char s[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_EINVAL, "%s: index %lld is out of range for shape %s", op,
                         (long long)index, wk__shape_str(s, t->rank, t->shape));
  }
  return WK_OK;
}

static const unsigned char *elem_ptr(const wk_tensor *t, int64_t index) {
  return wk__tdata(t) + (size_t)index * wk_dtype_size(t->dtype);
}

wk_status wk_tensor_get_f64(const wk_tensor *t, int64_t index, double *out, wk_error *err) {
  wk_status st = check_index("get", t, index, err);
  if (st != WK_OK) return st;
  *out = wk__load_f64(t->dtype, elem_ptr(t, index));
  return WK_OK;
}

wk_status wk_tensor_get_i64(const wk_tensor *t, int64_t index, int64_t *out, wk_error *err) {
  int64_t v;
  wk_status st = check_index("get", t, index, err);
  if (st != WK_OK) return st;
  if (!wk__load_i64(t->dtype, elem_ptr(t, index), &v))
    return wk__error_set(err, WK_EINVAL, "get: %s element %lld (%.17g) does not fit in int64",
                         wk_dtype_name(t->dtype), (long long)index,
                         wk__load_f64(t->dtype, elem_ptr(t, index)));
  *out = v;
  return WK_OK;
}

/* The set functions convert into a scratch element first, so a value that does not fit changes
** nothing; only then is the element written (copy-on-write happens here). */
static wk_status write_elem(wk_tensor *t, int64_t index, const unsigned char *tmp, wk_error *err) {
  void *data;
  wk_status st = wk_tensor_mutable_data(t, &data, err);
  if (st != WK_OK) return st;
  memcpy((unsigned char *)data + (size_t)index * wk_dtype_size(t->dtype), tmp,
         wk_dtype_size(t->dtype));
  return WK_OK;
}

wk_status wk_tensor_set_f64(wk_tensor *t, int64_t index, double value, wk_error *err) {
  unsigned char tmp[8];
  wk_status st = check_index("set", t, index, err);
  if (st != WK_OK) return st;
  if (!wk__store_f64(t->dtype, tmp, value))
    return wk__error_set(err, WK_EINVAL, "set: value %.17g is out of range for %s", value,
                         wk_dtype_name(t->dtype));
  return write_elem(t, index, tmp, err);
}

wk_status wk_tensor_set_i64(wk_tensor *t, int64_t index, int64_t value, wk_error *err) {
  unsigned char tmp[8];
  wk_status st = check_index("set", t, index, err);
  if (st != WK_OK) return st;
  if (!wk__store_i64(t->dtype, tmp, value))
    return wk__error_set(err, WK_EINVAL, "set: value %lld is out of range for %s",
                         (long long)value, wk_dtype_name(t->dtype));
  return write_elem(t, index, tmp, err);
}

/* }==================================================================== */
