/*
** wk_tensor_reduce.c — whole-tensor reductions (in double), allclose and max_abs_diff.
*/
#include <math.h>

#include "wk_internal.h"

static const char *const reduce_names[] = {"sum", "min", "max", "mean", "std", "norm2"};

/*
** Sums are plain left-to-right double accumulations (NumPy sums pairwise, so the last bits
** may differ on long float64 tensors). std is two-pass: mean first, then the mean squared
** deviation (ddof = 0). A NaN anywhere makes every result NaN.
*/
wk_status wk_tensor_reduce(wk_reduce_op op, const wk_tensor *t, double *out, wk_error *err) {
  const unsigned char *p = wk__tdata(t);
  size_t es = wk_dtype_size(t->dtype);
  double acc = 0.0, mean;
  int64_t i, n = t->numel;
  const char *name;
  if ((unsigned)op > (unsigned)WK_NORM2)
    return wk__error_set(err, WK_EINVAL, "reduce: unknown op %d", (int)op);
  name = reduce_names[op];
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "%s: NULL output", name);
  if (n == 0 && op != WK_SUM && op != WK_NORM2)
    return wk__error_set(err, WK_EINVAL, "%s: empty tensor", name);
  switch (op) {
    case WK_SUM: case WK_MEAN: case WK_STD:
      for (i = 0; i < n; i++) acc += wk__load_f64(t->dtype, p + (size_t)i * es);
      if (op == WK_SUM) break;
      mean = acc / (double)n;
      if (op == WK_MEAN) { acc = mean; break; }
      acc = 0.0;
      for (i = 0; i < n; i++) {
        double d = wk__load_f64(t->dtype, p + (size_t)i * es) - mean;
        acc += d * d;
      }
      acc = sqrt(acc / (double)n);
      break;
    case WK_MIN: case WK_MAX:
      acc = wk__load_f64(t->dtype, p);
      for (i = 1; i < n && !isnan(acc); i++) {
        double x = wk__load_f64(t->dtype, p + (size_t)i * es);
        if (isnan(x) || (op == WK_MIN ? x < acc : x > acc)) acc = x;
      }
      break;
    case WK_NORM2:
      for (i = 0; i < n; i++) {
        double x = wk__load_f64(t->dtype, p + (size_t)i * es);
        acc += x * x;
      }
      acc = sqrt(acc);
      break;
  }
  *out = acc;
  return WK_OK;
}

/*
** NumPy's isclose, elementwise: infinities are close only to the same infinity, NaN is close
** to nothing, else |a - b| <= atol + rtol * |b| (not symmetric, like NumPy).
*/
wk_status wk_tensor_allclose(const wk_tensor *a, const wk_tensor *b, double rtol, double atol,
                             int *result, wk_error *err) {
  wk__bcast bc;
  wk__bcast_iter it;
  const unsigned char *pa = wk__tdata(a), *pb = wk__tdata(b);
  size_t sa = wk_dtype_size(a->dtype), sb = wk_dtype_size(b->dtype);
  int64_t k;
  wk_status st;
  if (result == NULL) return wk__error_set(err, WK_EINVAL, "allclose: NULL output");
  if ((st = wk__broadcast("allclose", a, b, &bc, err)) != WK_OK) return st;
  wk__bcast_start(&it, &bc);
  for (k = 0; k < bc.numel; k++, wk__bcast_next(&it)) {
    double x = wk__load_f64(a->dtype, pa + (size_t)it.ia * sa);
    double y = wk__load_f64(b->dtype, pb + (size_t)it.ib * sb);
    int close;
    if (isinf(x) || isinf(y)) close = x == y;
    else close = fabs(x - y) <= atol + rtol * fabs(y); /* false for NaN */
    if (!close) { *result = 0; return WK_OK; }
  }
  *result = 1;
  return WK_OK;
}

wk_status wk_tensor_max_abs_diff(const wk_tensor *a, const wk_tensor *b, double *out,
                                 wk_error *err) {
  wk__bcast bc;
  wk__bcast_iter it;
  const unsigned char *pa = wk__tdata(a), *pb = wk__tdata(b);
  size_t sa = wk_dtype_size(a->dtype), sb = wk_dtype_size(b->dtype);
  double m = 0.0;
  int64_t k;
  wk_status st;
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "max_abs_diff: NULL output");
  if ((st = wk__broadcast("max_abs_diff", a, b, &bc, err)) != WK_OK) return st;
  wk__bcast_start(&it, &bc);
  for (k = 0; k < bc.numel; k++, wk__bcast_next(&it)) {
    double d = fabs(wk__load_f64(a->dtype, pa + (size_t)it.ia * sa) -
                    wk__load_f64(b->dtype, pb + (size_t)it.ib * sb));
    if (isnan(d)) { m = d; break; }
    if (d > m) m = d;
  }
  *out = m;
  return WK_OK;
}
