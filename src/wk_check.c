/*
** wk_check.c — argument checks shared by the core: checked size arithmetic, shape and axis
** validation, and shapes printed as Python tuples for error messages.
*/
#include <stdio.h>
#include <string.h>

#include "wk_internal.h"

int wk__mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}

int wk__add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return 0;
  *out = a + b;
  return 1;
}

int wk__mul_i64(int64_t a, int64_t b, int64_t *out) {
  if (a != 0 && b > INT64_MAX / a) return 0;
  *out = a * b;
  return 1;
}

char *wk__shape_str(char buf[WK__SHAPE_STR_SIZE], int rank, const int64_t *shape) {
  size_t len = 0;
  int i;
  buf[len++] = '(';
  for (i = 0; i < rank && i < WK_MAX_RANK; i++) {
    int n = snprintf(buf + len, WK__SHAPE_STR_SIZE - len, i ? ", %lld" : "%lld",
                     (long long)shape[i]);
    if (n < 0 || (size_t)n >= WK__SHAPE_STR_SIZE - len - 3) break; /* cannot happen, rank <= 8 */
    len += (size_t)n;
  }
  if (rank == 1) buf[len++] = ',';
  buf[len++] = ')';
  buf[len] = '\0';
  return buf;
}

wk_status wk__check_dtype(const char *op, wk_dtype dtype, wk_error *err) {
  if (!wk__dtype_valid(dtype))
    return wk__error_set(err, WK_EINVAL, "%s: invalid dtype %d", op, (int)dtype);
  return WK_OK;
}

/*
** The byte size is capped at PTRDIFF_MAX (not SIZE_MAX) so that pointer differences and
** offsets inside one tensor always fit a signed type.
*/
wk_status wk__shape_check(const char *op, wk_dtype dtype, int rank, const int64_t *shape,
                          int64_t *numel, size_t *nbytes, wk_error *err) {
  int64_t n = 1;
  size_t bytes;
  int i, overflow = 0;
  wk_status st = wk__check_dtype(op, dtype, err);
  if (st != WK_OK) return st;
  if (rank < 0)
    return wk__error_set(err, WK_EINVAL, "%s: negative rank %d", op, rank);
  if (rank > WK_MAX_RANK)
    return wk__error_set(err, WK_ELIMIT, "%s: rank %d exceeds the maximum rank %d", op, rank,
                         WK_MAX_RANK);
  if (rank > 0 && shape == NULL)
    return wk__error_set(err, WK_EINVAL, "%s: NULL shape for rank %d", op, rank);
  for (i = 0; i < rank; i++) {
    if (shape[i] < 0) {
      char s[WK__SHAPE_STR_SIZE];
      return wk__error_set(err, WK_EINVAL, "%s: negative dimension in shape %s", op,
                           wk__shape_str(s, rank, shape));
    }
  }
  /* A zero dim makes the product 0 whatever the others are; only then is it safe. */
  for (i = 0; i < rank; i++) {
    if (!overflow && !wk__mul_i64(n, shape[i], &n)) overflow = 1;
    if (shape[i] == 0) { n = 0; overflow = 0; break; }
  }
  if (overflow || !wk__mul_size((size_t)n, wk_dtype_size(dtype), &bytes) ||
      bytes > (size_t)PTRDIFF_MAX || (uint64_t)n > (uint64_t)SIZE_MAX) {
    char s[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_ELIMIT, "%s: shape %s of %s is too large (size overflow)", op,
                         wk__shape_str(s, rank, shape), wk_dtype_name(dtype));
  }
  *numel = n;
  *nbytes = bytes;
  return WK_OK;
}

wk_status wk__axis(const char *op, int axis, int rank, int *out, wk_error *err) {
  if (axis < -rank || axis >= rank || rank == 0)
    return wk__error_set(err, WK_EINVAL, "%s: axis %d is out of range for rank %d", op, axis,
                         rank);
  *out = axis < 0 ? axis + rank : axis;
  return WK_OK;
}
