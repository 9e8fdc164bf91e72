/*
** test_reduce.c — sum/min/max/mean/std/norm2, allclose and max_abs_diff.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "weightkit.h"
#include "wk_test.h"

static wk_error err;

static wk_tensor *make(wk_dtype dtype, int rank, const int64_t *shape, const double *values) {
  return wk_test_tensor(dtype, rank, shape, values, &err);
}

static double red(wk_reduce_op op, const wk_tensor *t) {
  double d = -12345;
  if (wk_tensor_reduce(op, t, &d, &err) != WK_OK) return -99999;
  return d;
}

int main(void) {
  int64_t s23[2] = {2, 3}, s3[1] = {3}, s0[1] = {0}, s21[2] = {2, 1};
  double v[6] = {1, -2, 3, 4, 5, -6};
  wk_tensor *a = make(WK_FLOAT32, 2, s23, v), *b, *e;
  double d;
  int close = -1;

  /* ---- reductions (reference values computed by hand) ---- */
  CHECK(red(WK_SUM, a) == 5, "sum");
  CHECK(red(WK_MIN, a) == -6 && red(WK_MAX, a) == 5, "min / max");
  CHECK(fabs(red(WK_MEAN, a) - 5.0 / 6) < 1e-15, "mean");
  {
    double m = 5.0 / 6, ss = 0;
    int i;
    for (i = 0; i < 6; i++) ss += (v[i] - m) * (v[i] - m);
    CHECK(fabs(red(WK_STD, a) - sqrt(ss / 6)) < 1e-14, "std is the population std (ddof 0)");
  }
  CHECK(fabs(red(WK_NORM2, a) - sqrt(91.0)) < 1e-14, "norm2");
  wk_tensor_set_f64(a, 2, NAN, &err);
  CHECK(isnan(red(WK_SUM, a)) && isnan(red(WK_MIN, a)) && isnan(red(WK_MAX, a)) &&
        isnan(red(WK_MEAN, a)) && isnan(red(WK_STD, a)) && isnan(red(WK_NORM2, a)), "NaN propagates");
  wk_tensor_set_f64(a, 0, NAN, &err);
  CHECK(isnan(red(WK_MAX, a)) && isnan(red(WK_MIN, a)), "leading NaN propagates through min/max");
  wk_tensor_release(a);
  a = make(WK_INT16, 1, s3, v);
  CHECK(red(WK_SUM, a) == 2 && red(WK_MAX, a) == 3, "integer reductions");
  wk_tensor_release(a);
  a = make(WK_FLOAT64, 0, NULL, v);
  CHECK(red(WK_STD, a) == 0 && red(WK_MEAN, a) == 1, "0-d reductions");
  wk_tensor_release(a);
  e = make(WK_FLOAT32, 1, s0, v);
  CHECK(red(WK_SUM, e) == 0 && red(WK_NORM2, e) == 0, "empty sum and norm are 0");
  CHECK(wk_tensor_reduce(WK_MIN, e, &d, &err) == WK_EINVAL && strcmp(err.message, "min: empty tensor") == 0,
        "empty min fails");
  CHECK(wk_tensor_reduce(WK_MEAN, e, &d, &err) == WK_EINVAL && wk_tensor_reduce(WK_STD, e, &d, &err) == WK_EINVAL,
        "empty mean / std fail");
  CHECK(wk_tensor_reduce((wk_reduce_op)9, e, &d, &err) == WK_EINVAL, "unknown reduce op");

  /* ---- allclose / max_abs_diff ---- */
  {
    double x[3] = {1, 2, 3}, y[3] = {1, 2, 3.00002}, z[3] = {1, 2, 3.0001}, col[2] = {1, 2};
    a = make(WK_FLOAT64, 1, s3, x);
    b = make(WK_FLOAT32, 1, s3, y);
    CHECK(wk_tensor_allclose(a, a, 1e-5, 1e-8, &close, &err) == WK_OK && close == 1, "allclose(a, a)");
    CHECK(wk_tensor_allclose(a, b, 1e-5, 1e-8, &close, &err) == WK_OK && close == 1,
          "within rtol * |b| (2e-5 <= 3e-5)");
    wk_tensor_release(b);
    b = make(WK_FLOAT64, 1, s3, z);
    CHECK(wk_tensor_allclose(a, b, 1e-5, 1e-8, &close, &err) == WK_OK && close == 0, "1e-4 is not close");
    CHECK(wk_tensor_allclose(a, b, 0, 2e-4, &close, &err) == WK_OK && close == 1, "atol alone");
    CHECK(wk_tensor_max_abs_diff(a, b, &d, &err) == WK_OK && fabs(d - 1e-4) < 1e-12, "max_abs_diff");
    wk_tensor_set_f64(a, 0, INFINITY, &err);
    wk_tensor_set_f64(b, 0, INFINITY, &err);
    CHECK(wk_tensor_allclose(a, b, 0, 1, &close, &err) == WK_OK && close == 1, "inf is close to inf");
    wk_tensor_set_f64(b, 0, -INFINITY, &err);
    CHECK(wk_tensor_allclose(a, b, 0, 1, &close, &err) == WK_OK && close == 0, "inf is not close to -inf");
    CHECK(wk_tensor_max_abs_diff(a, b, &d, &err) == WK_OK && isinf(d), "max_abs_diff inf");
    wk_tensor_set_f64(a, 0, NAN, &err);
    wk_tensor_set_f64(b, 0, NAN, &err);
    CHECK(wk_tensor_allclose(a, b, 1, 1, &close, &err) == WK_OK && close == 0, "NaN is not close to NaN");
    CHECK(wk_tensor_max_abs_diff(a, b, &d, &err) == WK_OK && isnan(d), "max_abs_diff NaN");
    wk_tensor_release(b);
    wk_tensor_set_f64(a, 0, 1, &err);
    b = make(WK_INT32, 2, s21, col);
    CHECK(wk_tensor_max_abs_diff(a, b, &d, &err) == WK_OK && d == 2, "broadcast (3,) vs (2, 1)");
    CHECK(wk_tensor_allclose(a, b, 0, 2, &close, &err) == WK_OK && close == 1, "allclose broadcasts");
    wk_tensor_release(b);
    b = make(WK_FLOAT64, 2, s23, v);
    wk_tensor_release(a);
    a = make(WK_FLOAT64, 1, s21, col);
    CHECK(wk_tensor_allclose(a, b, 0, 0, &close, &err) == WK_ESHAPE &&
          strcmp(err.message, "allclose: cannot broadcast shapes (2,) and (2, 3)") == 0, "shape mismatch");
    CHECK(wk_tensor_max_abs_diff(a, b, &d, &err) == WK_ESHAPE, "max_abs_diff shape mismatch");
    CHECK(wk_tensor_max_abs_diff(e, e, &d, &err) == WK_OK && d == 0, "max_abs_diff of empty is 0");
    CHECK(wk_tensor_allclose(e, e, 0, 0, &close, &err) == WK_OK && close == 1, "empty tensors are close");
    wk_tensor_release(a);
    wk_tensor_release(b);
  }
  wk_tensor_release(e);
  return wk_test_done();
}
