/*
** test_rng.c — the generator's determinism and moments, and the initializer fills
** (uniform, normal, truncated normal, orthogonal, identity).
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "weightkit.h"
#include "wk_test.h"

static wk_error err;

static double at(const wk_tensor *t, int64_t i) {
  double d = NAN;
  wk_tensor_get_f64(t, i, &d, &err);
  return d;
}

/* max |M M^T - g^2 I| over the rows (rows = 1) or columns (rows = 0) of an r x c tensor. */
static double ortho_err(const wk_tensor *t, int64_t r, int64_t c, int rows, double gain) {
  int64_t n = rows ? r : c, len = rows ? c : r, i, j, k;
  double worst = 0;
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      double dot = 0;
      for (k = 0; k < len; k++)
        dot += rows ? at(t, i * c + k) * at(t, j * c + k) : at(t, k * c + i) * at(t, k * c + j);
      dot -= i == j ? gain * gain : 0;
      if (fabs(dot) > worst) worst = fabs(dot);
    }
  return worst;
}

int main(void) {
  wk_rng r1, r2, r3;
  wk_tensor *t;
  int i, ok;
  double sum = 0, sumsq = 0, lo = 1, hi = 0;
  const int N = 200000;

  /* ---- generator ---- */
  wk_rng_seed(&r1, 42);
  wk_rng_seed(&r2, 42);
  wk_rng_seed(&r3, 43);
  ok = 1;
  for (i = 0; i < 1000; i++) ok &= wk_rng_next(&r1) == wk_rng_next(&r2);
  CHECK(ok, "same seed, same stream");
  CHECK(wk_rng_next(&r1) != wk_rng_next(&r3), "different seeds differ");
  wk_rng_seed(&r1, 0);
  CHECK(r1.s[0] | r1.s[1] | r1.s[2] | r1.s[3], "seed 0 gives a non-zero state");
  for (i = 0; i < N; i++) {
    double u = wk_rng_uniform(&r1);
    sum += u;
    sumsq += u * u;
    if (u < lo) lo = u;
    if (u > hi) hi = u;
  }
  CHECK(lo >= 0 && hi < 1 && lo < 1e-4 && hi > 1 - 1e-4, "uniform in [0, 1), covering it");
  CHECK(fabs(sum / N - 0.5) < 0.005, "uniform mean ~ 1/2");
  CHECK(fabs(sumsq / N - sum * sum / N / N - 1.0 / 12) < 0.003, "uniform variance ~ 1/12");

  /* ---- fill_uniform ---- */
  {
    int64_t s[2] = {500, 200};
    double mn, mx, mean;
    wk_rng_seed(&r1, 7);
    CHECK(wk_tensor_new(WK_FLOAT32, 2, s, &t, &err) == WK_OK &&
          wk_tensor_fill_uniform(t, &r1, -0.5, 2.0, &err) == WK_OK, "fill_uniform float32");
    wk_tensor_reduce(WK_MIN, t, &mn, &err);
    wk_tensor_reduce(WK_MAX, t, &mx, &err);
    wk_tensor_reduce(WK_MEAN, t, &mean, &err);
    CHECK(mn >= -0.5 && mx < 2.0, "values in [-0.5, 2)");
    CHECK(fabs(mean - 0.75) < 0.01, "mean ~ 0.75");
    {
      wk_tensor *u;
      wk_rng_seed(&r2, 7);
      wk_tensor_new(WK_FLOAT32, 2, s, &u, &err);
      wk_tensor_fill_uniform(u, &r2, -0.5, 2.0, &err);
      CHECK(memcmp(wk_tensor_data(t), wk_tensor_data(u), wk_tensor_nbytes(t)) == 0,
            "same seed, same tensor");
      wk_tensor_release(u);
    }
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT16, 2, s, &t, &err);
    CHECK(wk_tensor_fill_uniform(t, &r1, 0, 1, &err) == WK_OK, "fill_uniform float16");
    wk_tensor_reduce(WK_MAX, t, &mx, &err);
    CHECK(mx < 1.0, "float16 values stay below high after rounding");
    CHECK(wk_tensor_fill_uniform(t, &r1, 1, 0, &err) == WK_EINVAL, "low > high fails");
    CHECK(wk_tensor_fill_uniform(t, &r1, 0, INFINITY, &err) == WK_EINVAL, "infinite bound fails");
    wk_tensor_release(t);
    wk_tensor_new(WK_INT32, 2, s, &t, &err);
    CHECK(wk_tensor_fill_uniform(t, &r1, 0, 1, &err) == WK_EDTYPE &&
          strcmp(err.message, "fill_uniform: needs a float tensor, got int32") == 0, "int32 fails");
    CHECK(wk_tensor_fill_normal(t, &r1, 0, 1, &err) == WK_EDTYPE, "normal on int32 fails");
    wk_tensor_release(t);
  }

  /* ---- normal and truncated normal ---- */
  {
    int64_t s[1] = {200000};
    double mean, sd, mn, mx;
    wk_rng_seed(&r1, 99);
    wk_tensor_new(WK_FLOAT64, 1, s, &t, &err);
    CHECK(wk_tensor_fill_normal(t, &r1, 3.0, 2.0, &err) == WK_OK, "fill_normal");
    wk_tensor_reduce(WK_MEAN, t, &mean, &err);
    wk_tensor_reduce(WK_STD, t, &sd, &err);
    CHECK(fabs(mean - 3.0) < 0.02 && fabs(sd - 2.0) < 0.02, "normal mean 3, std 2");
    wk_tensor_reduce(WK_MAX, t, &mx, &err);
    CHECK(mx > 3.0 + 2.0 * 3.5, "normal has tails past 3.5 std");
    CHECK(wk_tensor_fill_truncated_normal(t, &r1, 1.0, 0.5, &err) == WK_OK, "fill_truncated_normal");
    wk_tensor_reduce(WK_MIN, t, &mn, &err);
    wk_tensor_reduce(WK_MAX, t, &mx, &err);
    wk_tensor_reduce(WK_MEAN, t, &mean, &err);
    wk_tensor_reduce(WK_STD, t, &sd, &err);
    CHECK(mn >= 0.0 && mx <= 2.0 && mn < 0.01 && mx > 1.99, "truncated within 2 std, reaching it");
    /* std of a standard normal truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (2 Phi(2) - 1)) */
    {
      double phi2 = exp(-2.0) / sqrt(2 * 3.14159265358979323846), P = erf(2 / sqrt(2.0));
      CHECK(fabs(mean - 1.0) < 0.01 && fabs(sd - 0.5 * sqrt(1 - 4 * phi2 / P)) < 0.005,
            "truncated normal moments");
    }
    CHECK(wk_tensor_fill_normal(t, &r1, 0, -1, &err) == WK_EINVAL, "negative stddev fails");
    wk_tensor_release(t);
  }

  /* ---- orthogonal ---- */
  {
    int64_t tall[2] = {6, 3}, wide[2] = {3, 7}, r3d[3] = {2, 3, 4}, sq[2] = {5, 5}, v[1] = {4};
    wk_rng_seed(&r1, 1);
    wk_tensor_new(WK_FLOAT64, 2, tall, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 1.0, &err) == WK_OK && ortho_err(t, 6, 3, 0, 1.0) < 1e-12,
          "tall (6, 3): Q^T Q = I");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT64, 2, wide, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 2.0, &err) == WK_OK && ortho_err(t, 3, 7, 1, 2.0) < 1e-12,
          "wide (3, 7) with gain 2: Q Q^T = 4 I");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT32, 3, r3d, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 1.0, &err) == WK_OK && ortho_err(t, 6, 4, 0, 1.0) < 1e-6,
          "(2, 3, 4) seen as (6, 4), float32");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT64, 2, sq, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 1.0, &err) == WK_OK && ortho_err(t, 5, 5, 0, 1.0) < 1e-12 &&
          ortho_err(t, 5, 5, 1, 1.0) < 1e-12, "square: orthogonal both ways");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT64, 1, v, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 1.0, &err) == WK_ESHAPE &&
          strcmp(err.message, "fill_orthogonal: needs rank >= 2, got shape (4,)") == 0, "rank 1 fails");
    wk_tensor_release(t);
  }

  /* ---- identity ---- */
  {
    int64_t sq[2] = {3, 3}, rect[2] = {2, 4}, r3d[3] = {2, 2, 2};
    wk_tensor_new(WK_FLOAT32, 2, sq, &t, &err);
    wk_tensor_fill(t, 9, &err);
    CHECK(wk_tensor_fill_identity(t, 2.0, &err) == WK_OK, "identity (3, 3) gain 2");
    ok = 1;
    for (i = 0; i < 9; i++) ok &= at(t, i) == (i % 4 == 0 ? 2.0 : 0.0);
    CHECK(ok, "gain on the diagonal, zero elsewhere");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT64, 2, rect, &t, &err);
    CHECK(wk_tensor_fill_identity(t, 1.0, &err) == WK_OK && at(t, 0) == 1 && at(t, 5) == 1 &&
          at(t, 6) == 0 && at(t, 4) == 0, "rectangular (2, 4)");
    wk_tensor_release(t);
    wk_tensor_new(WK_FLOAT64, 3, r3d, &t, &err);
    CHECK(wk_tensor_fill_identity(t, 1.0, &err) == WK_ESHAPE && strstr(err.message, "(2, 2, 2)") != NULL,
          "rank 3 fails");
    wk_tensor_release(t);
  }

  /* ---- fills copy-on-write ---- */
  {
    float buf[4] = {1, 2, 3, 4};
    int64_t s[2] = {2, 2};
    wk_tensor_wrap(WK_FLOAT32, 2, s, buf, sizeof buf, NULL, NULL, &t, &err);
    CHECK(wk_tensor_fill_identity(t, 1.0, &err) == WK_OK && buf[1] == 2 && at(t, 1) == 0 &&
          wk_tensor_storage_kind(t) == WK_STORAGE_OWNED, "fill_identity on external storage copies");
    wk_tensor_release(t);
    wk_tensor_wrap(WK_FLOAT32, 2, s, buf, sizeof buf, NULL, NULL, &t, &err);
    CHECK(wk_tensor_fill_orthogonal(t, &r1, 1.0, &err) == WK_OK && buf[0] == 1 && buf[3] == 4,
          "fill_orthogonal on external storage copies");
    wk_tensor_release(t);
  }
  return wk_test_done();
}
