/*
** wk_tensor_reduce.c — whole-tensor reductions (in double), allclose and max_abs_diff.
*/
#include <math.h>

#include "wk_internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define WK__SUM_X86 1
#endif

static const char *const reduce_names[] = {"sum", "min", "max", "mean", "std", "norm2"};

/* {====================================================================
** Fast sums of float32 / float64 (the full-load path: every tensor of a file summed)
** =====================================================================
**
** A single double accumulator makes each addition wait for the previous one (~1 GB/s of
** float32). These loops keep 16 (float32) or 8 (float64) independent double accumulators,
** added together at the end, so the additions pipeline and vectorize: on x86-64 an AVX2
** version is chosen at run time (__builtin_cpu_supports), else SSE2 (part of x86-64); other
** machines run the portable loop, which compilers vectorize at -O3. Every float32 is widened
** to double exactly, as in the plain loop; only the order of the additions differs (the
** lanes are a fixed interleaving, so a result is the same on every run and machine of a
** kind, within the last bits of the plain left-to-right sum).
** ===================================================================== */

#define WK__LANES 16

#ifndef WK__SUM_X86
static double sum_f32_portable(const float *p, size_t n) {
  double acc[WK__LANES] = {0}, s = 0.0;
  size_t i = 0;
  int k;
  for (; i + WK__LANES <= n; i += WK__LANES)
    for (k = 0; k < WK__LANES; k++) acc[k] += (double)p[i + k];
  for (; i < n; i++) s += (double)p[i];
  for (k = 0; k < WK__LANES; k++) s += acc[k];
  return s;
}
#endif

static double sum_f64_portable(const double *p, size_t n) {
  double acc[WK__LANES / 2] = {0}, s = 0.0;
  size_t i = 0;
  int k;
  for (; i + WK__LANES / 2 <= n; i += WK__LANES / 2)
    for (k = 0; k < WK__LANES / 2; k++) acc[k] += p[i + k];
  for (; i < n; i++) s += p[i];
  for (k = 0; k < WK__LANES / 2; k++) s += acc[k];
  return s;
}

#ifdef WK__SUM_X86
/* SSE2: 8 double lanes in four registers, 8 floats a step. */
static double sum_f32_sse2(const float *p, size_t n) {
  __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  double t[2], s;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128 x = _mm_loadu_ps(p + i), y = _mm_loadu_ps(p + i + 4);
    a0 = _mm_add_pd(a0, _mm_cvtps_pd(x));
    a1 = _mm_add_pd(a1, _mm_cvtps_pd(_mm_movehl_ps(x, x)));
    a2 = _mm_add_pd(a2, _mm_cvtps_pd(y));
    a3 = _mm_add_pd(a3, _mm_cvtps_pd(_mm_movehl_ps(y, y)));
  }
  _mm_storeu_pd(t, _mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3)));
  s = t[0] + t[1];
  for (; i < n; i++) s += (double)p[i];
  return s;
}

/* AVX2: 16 double lanes in four registers, 16 floats a step. */
__attribute__((target("avx2"))) static double sum_f32_avx2(const float *p, size_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  double t[4], s;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(p + i)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 4)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 8)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 12)));
  }
  _mm256_storeu_pd(t, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  s = (t[0] + t[1]) + (t[2] + t[3]);
  for (; i < n; i++) s += (double)p[i];
  return s;
}
#endif

static double sum_f32(const float *p, size_t n) {
#ifdef WK__SUM_X86
  static int avx2 = -1; /* benign race: every thread computes the same value */
  if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
  return avx2 ? sum_f32_avx2(p, n) : sum_f32_sse2(p, n);
#else
  return sum_f32_portable(p, n);
#endif
}

/* }==================================================================== */

/*
** Sums of float32 / float64 use the lane loops above; other dtypes are plain left-to-right
** double accumulations (NumPy sums pairwise, so the last bits may differ on long tensors).
** std is two-pass: mean first, then the mean squared deviation (ddof = 0). A NaN anywhere
** makes every result NaN.
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
      if (t->dtype == WK_FLOAT32)
        acc = sum_f32((const float *)(const void *)p, (size_t)n);
      else if (t->dtype == WK_FLOAT64)
        acc = sum_f64_portable((const double *)(const void *)p, (size_t)n);
      else
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
