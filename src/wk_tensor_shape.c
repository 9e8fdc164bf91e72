/*
** wk_tensor_shape.c — shape operations (copy, cast, reshape, select, slice, permute, concat,
** split) and in-place writes (fill, assign).
*/
#include <stdlib.h>
#include <string.h>

#include "wk_internal.h"

#define NOUT(op) \
  if (out == NULL) return wk__error_set(err, WK_EINVAL, op ": NULL output")

/* {====================================================================
** Copies and conversions
** ===================================================================== */

wk_status wk_tensor_copy(const wk_tensor *src, wk_tensor **out, wk_error *err) {
  wk_tensor *t;
  wk_status st;
  NOUT("copy");
  st = wk__tensor_alloc("copy", src->dtype, src->rank, src->shape, &t, err);
  if (st != WK_OK) return st;
  if (t->nbytes > 0) memcpy(t->storage->data, wk__tdata(src), t->nbytes);
  *out = t;
  return WK_OK;
}

/*
** Converts n elements from src to dst (distinct buffers). Returns -1 when all fit, else the
** index of the first element that does not (dst is then partly written).
*/
static int64_t convert_n(wk_dtype dt, unsigned char *dst, wk_dtype sdt, const unsigned char *src,
                         int64_t n) {
  size_t ds = wk_dtype_size(dt), ss = wk_dtype_size(sdt);
  int64_t i;
  if (dt == sdt) {
    if (n > 0) memcpy(dst, src, (size_t)n * ds);
    return -1;
  }
  for (i = 0; i < n; i++)
    if (!wk__convert(dt, dst + (size_t)i * ds, sdt, src + (size_t)i * ss)) return i;
  return -1;
}

static wk_status convert_error(const char *op, wk_dtype dt, const wk_tensor *src, int64_t i,
                               wk_error *err) {
  double v = wk__load_f64(src->dtype, wk__tdata(src) + (size_t)i * wk_dtype_size(src->dtype));
  return wk__error_set(err, WK_EINVAL,
                       "%s: element %lld (%.17g) of %s cannot be converted to %s (NaN or out "
                       "of range)", op, (long long)i, v, wk_dtype_name(src->dtype),
                       wk_dtype_name(dt));
}

wk_status wk_tensor_cast(const wk_tensor *src, wk_dtype dtype, wk_tensor **out, wk_error *err) {
  wk_tensor *t;
  int64_t bad;
  wk_status st;
  NOUT("cast");
  st = wk__tensor_alloc("cast", dtype, src->rank, src->shape, &t, err);
  if (st != WK_OK) return st;
  bad = convert_n(dtype, t->storage->data, src->dtype, wk__tdata(src), src->numel);
  if (bad >= 0) {
    wk_tensor_release(t);
    return convert_error("cast", dtype, src, bad, err);
  }
  *out = t;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Views: reshape, select, slice
** ===================================================================== */

wk_status wk_tensor_reshape(wk_tensor *src, int rank, const int64_t *shape, wk_tensor **out,
                            wk_error *err) {
  int64_t dims[WK_MAX_RANK], known = 1;
  int i, infer = -1;
  char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
  NOUT("reshape");
  if (rank < 0 || rank > WK_MAX_RANK)
    return wk__error_set(err, rank < 0 ? WK_EINVAL : WK_ELIMIT,
                         "reshape: rank %d is out of range (0 to %d)", rank, WK_MAX_RANK);
  if (rank > 0 && shape == NULL) return wk__error_set(err, WK_EINVAL, "reshape: NULL shape");
  for (i = 0; i < rank; i++) {
    dims[i] = shape[i];
    if (shape[i] == -1 && infer < 0) {
      infer = i;
    } else if (shape[i] < 0) {
      return wk__error_set(err, WK_EINVAL, "reshape: bad dimension %lld in %s (only one -1 "
                           "is allowed)", (long long)shape[i], wk__shape_str(s1, rank, shape));
    } else if (!wk__mul_i64(known, shape[i], &known)) {
      return wk__error_set(err, WK_ESHAPE, "reshape: cannot reshape %s into %s",
                           wk__shape_str(s1, src->rank, src->shape),
                           wk__shape_str(s2, rank, shape));
    }
  }
  if (infer >= 0) {
    if (known == 0 || src->numel % known != 0)
      return wk__error_set(err, WK_ESHAPE, "reshape: cannot reshape %s into %s",
                           wk__shape_str(s1, src->rank, src->shape),
                           wk__shape_str(s2, rank, shape));
    dims[infer] = src->numel / known;
  } else if (known != src->numel) {
    return wk__error_set(err, WK_ESHAPE, "reshape: cannot reshape %s into %s",
                         wk__shape_str(s1, src->rank, src->shape),
                         wk__shape_str(s2, rank, shape));
  }
  return wk__tensor_view(src, rank, dims, 0, out, err);
}

wk_status wk_tensor_select(wk_tensor *src, int64_t index, wk_tensor **out, wk_error *err) {
  char s[WK__SHAPE_STR_SIZE];
  size_t row;
  NOUT("select");
  if (src->rank == 0)
    return wk__error_set(err, WK_EINVAL, "select: cannot index a 0-d tensor");
  if (index < 0 || index >= src->shape[0])
    return wk__error_set(err, WK_EINVAL, "select: index %lld is out of range for shape %s",
                         (long long)index, wk__shape_str(s, src->rank, src->shape));
  row = src->nbytes / (size_t)src->shape[0]; /* shape[0] > 0 here */
  return wk__tensor_view(src, src->rank - 1, src->shape + 1, (size_t)index * row, out, err);
}

/* Splits a shape around `axis`: outer = prod(shape[:axis]), inner = prod(shape[axis+1:]). */
static void around_axis(const wk_tensor *t, int axis, int64_t *outer, int64_t *inner) {
  int i;
  *outer = 1;
  *inner = 1;
  for (i = 0; i < axis; i++) *outer *= t->shape[i];
  for (i = axis + 1; i < t->rank; i++) *inner *= t->shape[i];
}

/* Copies rows of blocks: for each outer o, `n` bytes from src + o*sstride to dst + o*dstride. */
static void copy_blocks(unsigned char *dst, size_t dstride, const unsigned char *src,
                        size_t sstride, int64_t outer, size_t n) {
  int64_t o;
  if (n == 0) return;
  for (o = 0; o < outer; o++) memcpy(dst + (size_t)o * dstride, src + (size_t)o * sstride, n);
}

wk_status wk_tensor_slice(wk_tensor *src, int axis, int64_t start, int64_t stop,
                          wk_tensor **out, wk_error *err) {
  int64_t shape[WK_MAX_RANK], outer, inner;
  size_t es = wk_dtype_size(src->dtype);
  char s[WK__SHAPE_STR_SIZE];
  wk_tensor *t;
  wk_status st;
  NOUT("slice");
  if ((st = wk__axis("slice", axis, src->rank, &axis, err)) != WK_OK) return st;
  if (start < 0 || stop < start || stop > src->shape[axis])
    return wk__error_set(err, WK_EINVAL, "slice: range [%lld, %lld) is out of bounds for "
                         "axis %d of shape %s", (long long)start, (long long)stop, axis,
                         wk__shape_str(s, src->rank, src->shape));
  memcpy(shape, src->shape, sizeof shape);
  shape[axis] = stop - start;
  around_axis(src, axis, &outer, &inner);
  if (axis == 0)
    return wk__tensor_view(src, src->rank, shape, (size_t)start * (size_t)inner * es, out, err);
  if ((st = wk__tensor_alloc("slice", src->dtype, src->rank, shape, &t, err)) != WK_OK) return st;
  if (t->nbytes > 0) {
    size_t in_row = (size_t)src->shape[axis] * (size_t)inner * es;
    size_t out_row = (size_t)(stop - start) * (size_t)inner * es;
    copy_blocks(t->storage->data, out_row, wk__tdata(src) + (size_t)start * (size_t)inner * es,
                in_row, outer, out_row);
  }
  *out = t;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Permute, concat, split
** ===================================================================== */

wk_status wk_tensor_permute(const wk_tensor *src, const int *axes, wk_tensor **out,
                            wk_error *err) {
  int64_t shape[WK_MAX_RANK], sstride[WK_MAX_RANK], stride[WK_MAX_RANK], idx[WK_MAX_RANK];
  int perm[WK_MAX_RANK], seen[WK_MAX_RANK] = {0};
  int i, rank = src->rank;
  size_t es = wk_dtype_size(src->dtype);
  const unsigned char *sp;
  unsigned char *dp;
  int64_t n, k, off = 0;
  wk_tensor *t;
  wk_status st;
  NOUT("permute");
  if (rank > 0 && axes == NULL) return wk__error_set(err, WK_EINVAL, "permute: NULL axes");
  for (i = 0; i < rank; i++) {
    int a = axes[i];
    if (a < -rank || a >= rank || seen[a < 0 ? a + rank : a]) {
      char s[WK__SHAPE_STR_SIZE];
      return wk__error_set(err, WK_EINVAL, "permute: axes are not a permutation of the %d "
                           "axes of shape %s (bad axis %d at position %d)", rank,
                           wk__shape_str(s, rank, src->shape), a, i);
    }
    perm[i] = a < 0 ? a + rank : a;
    seen[perm[i]] = 1;
  }
  for (i = rank - 1, n = 1; i >= 0; i--) { sstride[i] = n; n *= src->shape[i]; }
  for (i = 0; i < rank; i++) {
    shape[i] = src->shape[perm[i]];
    stride[i] = sstride[perm[i]];
    idx[i] = 0;
  }
  if ((st = wk__tensor_alloc("permute", src->dtype, rank, shape, &t, err)) != WK_OK) return st;
  sp = wk__tdata(src);
  dp = t->storage->data;
  /* Walk the output in C order; `off` tracks the matching source element. */
  for (k = 0; k < t->numel; k++) {
    memcpy(dp + (size_t)k * es, sp + (size_t)off * es, es);
    for (i = rank - 1; i >= 0; i--) {
      off += stride[i];
      if (++idx[i] < shape[i]) break;
      off -= stride[i] * shape[i];
      idx[i] = 0;
    }
  }
  *out = t;
  return WK_OK;
}

wk_status wk_tensor_concat(const wk_tensor *const *parts, int count, int axis, wk_tensor **out,
                           wk_error *err) {
  int64_t shape[WK_MAX_RANK], outer, inner, total = 0;
  const wk_tensor *first;
  char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
  size_t es, out_row, pos = 0;
  wk_tensor *t;
  wk_status st;
  int i, j;
  NOUT("concat");
  if (count < 1 || parts == NULL)
    return wk__error_set(err, WK_EINVAL, "concat: need at least one tensor");
  for (i = 0; i < count; i++)
    if (parts[i] == NULL) return wk__error_set(err, WK_EINVAL, "concat: part %d is NULL", i);
  first = parts[0];
  if ((st = wk__axis("concat", axis, first->rank, &axis, err)) != WK_OK) return st;
  for (i = 0; i < count; i++) {
    const wk_tensor *p = parts[i];
    if (p->dtype != first->dtype)
      return wk__error_set(err, WK_EDTYPE, "concat: dtypes %s and %s differ",
                           wk_dtype_name(first->dtype), wk_dtype_name(p->dtype));
    if (p->rank != first->rank)
      return wk__error_set(err, WK_ESHAPE, "concat: shapes %s and %s have different ranks",
                           wk__shape_str(s1, first->rank, first->shape),
                           wk__shape_str(s2, p->rank, p->shape));
    for (j = 0; j < p->rank; j++)
      if (j != axis && p->shape[j] != first->shape[j])
        return wk__error_set(err, WK_ESHAPE, "concat: shapes %s and %s differ outside axis %d",
                             wk__shape_str(s1, first->rank, first->shape),
                             wk__shape_str(s2, p->rank, p->shape), axis);
    if (p->shape[axis] > INT64_MAX - total)
      return wk__error_set(err, WK_ELIMIT, "concat: result is too large");
    total += p->shape[axis];
  }
  memcpy(shape, first->shape, sizeof shape);
  shape[axis] = total;
  if ((st = wk__tensor_alloc("concat", first->dtype, first->rank, shape, &t, err)) != WK_OK)
    return st;
  if (t->nbytes > 0) {
    es = wk_dtype_size(first->dtype);
    around_axis(t, axis, &outer, &inner);
    out_row = (size_t)total * (size_t)inner * es;
    for (i = 0; i < count; i++) {
      size_t n = (size_t)parts[i]->shape[axis] * (size_t)inner * es;
      copy_blocks(t->storage->data + pos, out_row, wk__tdata(parts[i]), n, outer, n);
      pos += n;
    }
  }
  *out = t;
  return WK_OK;
}

wk_status wk_tensor_split(const wk_tensor *src, int axis, int count, wk_tensor **outs,
                          wk_error *err) {
  int64_t shape[WK_MAX_RANK], outer, inner;
  char s[WK__SHAPE_STR_SIZE];
  size_t es = wk_dtype_size(src->dtype), in_row, n;
  wk_status st;
  int i;
  if (outs == NULL) return wk__error_set(err, WK_EINVAL, "split: NULL output");
  if ((st = wk__axis("split", axis, src->rank, &axis, err)) != WK_OK) return st;
  if (count < 1 || src->shape[axis] % count != 0)
    return wk__error_set(err, WK_ESHAPE, "split: axis %d of shape %s does not split into %d "
                         "equal parts", axis, wk__shape_str(s, src->rank, src->shape), count);
  memcpy(shape, src->shape, sizeof shape);
  shape[axis] = src->shape[axis] / count;
  around_axis(src, axis, &outer, &inner);
  in_row = (size_t)src->shape[axis] * (size_t)inner * es;
  n = (size_t)shape[axis] * (size_t)inner * es;
  for (i = 0; i < count; i++) {
    st = wk__tensor_alloc("split", src->dtype, src->rank, shape, &outs[i], err);
    if (st != WK_OK) { /* no part survives a failure */
      while (i-- > 0) { wk_tensor_release(outs[i]); outs[i] = NULL; }
      return st;
    }
    if (outs[i]->nbytes > 0)
      copy_blocks(outs[i]->storage->data, n, wk__tdata(src) + (size_t)i * n, in_row, outer, n);
  }
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** In-place writes
** ===================================================================== */

wk_status wk_tensor_fill(wk_tensor *t, double value, wk_error *err) {
  unsigned char elem[8];
  size_t es = wk_dtype_size(t->dtype);
  unsigned char *p;
  void *data;
  int64_t i;
  wk_status st;
  if (!wk__store_f64(t->dtype, elem, value))
    return wk__error_set(err, WK_EINVAL, "fill: value %.17g is out of range for %s", value,
                         wk_dtype_name(t->dtype));
  if ((st = wk_tensor_mutable_data(t, &data, err)) != WK_OK) return st;
  p = (unsigned char *)data;
  for (i = 0; i < t->numel; i++) memcpy(p + (size_t)i * es, elem, es);
  return WK_OK;
}

/*
** All or nothing: a conversion goes through a scratch buffer, so an element that does not
** fit leaves dst untouched; same-dtype copies use memmove, since src may be a view
** overlapping dst. src's pointer is taken after dst's copy-on-write (src may be dst).
*/
wk_status wk_tensor_assign(wk_tensor *dst, const wk_tensor *src, wk_error *err) {
  unsigned char *tmp = NULL;
  void *d;
  wk_status st;
  if (dst->numel != src->numel) {
    char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_ESHAPE, "assign: cannot assign shape %s to shape %s",
                         wk__shape_str(s1, src->rank, src->shape),
                         wk__shape_str(s2, dst->rank, dst->shape));
  }
  if (dst->dtype != src->dtype && dst->nbytes > 0) {
    int64_t bad;
    if ((tmp = (unsigned char *)malloc(dst->nbytes)) == NULL)
      return wk__error_set(err, WK_ENOMEM, "assign: out of memory");
    bad = convert_n(dst->dtype, tmp, src->dtype, wk__tdata(src), src->numel);
    if (bad >= 0) {
      free(tmp);
      return convert_error("assign", dst->dtype, src, bad, err);
    }
  }
  if ((st = wk_tensor_mutable_data(dst, &d, err)) != WK_OK) {
    free(tmp);
    return st;
  }
  if (tmp != NULL) {
    memcpy(d, tmp, dst->nbytes);
    free(tmp);
  } else if (dst->nbytes > 0) {
    memmove(d, wk__tdata(src), dst->nbytes);
  }
  return WK_OK;
}

/* }==================================================================== */
