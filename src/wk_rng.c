/*
** wk_rng.c — the xoshiro256** generator and the random / structured tensor fills used by
** Keras's initializers (uniform, normal, truncated normal, orthogonal, identity).
**
** The streams are weightkit's own: a seed reproduces weightkit's values, never TF's or
** NumPy's. xoshiro256** (Blackman and Vigna) is seeded by running splitmix64 from the seed,
** which never yields the all-zero state.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wk_internal.h"

/* {====================================================================
** Generator
** ===================================================================== */

static uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void wk_rng_seed(wk_rng *rng, uint64_t seed) {
  int i;
  for (i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

uint64_t wk_rng_next(wk_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* The top 53 bits as a multiple of 2^-53: every value in [0, 1) is equally likely. */
double wk_rng_uniform(wk_rng *rng) {
  return (double)(wk_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/*
** One standard normal from two uniforms by the Box-Muller transform (the cosine half only;
** the sine half is dropped so that each value costs exactly two draws, which keeps streams
** easy to reason about). u1 is taken in (0, 1] so the log is finite.
*/
static double rng_normal(wk_rng *rng) {
  double u1 = 1.0 - wk_rng_uniform(rng);
  double u2 = wk_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

/* }==================================================================== */

/* {====================================================================
** Fills
** ===================================================================== */

static wk_status check_float(const char *op, const wk_tensor *t, wk_error *err) {
  if (!wk_dtype_is_float(t->dtype))
    return wk__error_set(err, WK_EDTYPE, "%s: needs a float tensor, got %s", op,
                         wk_dtype_name(t->dtype));
  return WK_OK;
}

/*
** Values are computed in double and rounded to the dtype; a value that rounds up to `high`
** (possible in float32 and the half types) is redrawn, so results stay in [low, high).
*/
wk_status wk_tensor_fill_uniform(wk_tensor *t, wk_rng *rng, double low, double high,
                                 wk_error *err) {
  size_t es = wk_dtype_size(t->dtype);
  unsigned char *p;
  void *data;
  int64_t i;
  wk_status st;
  if ((st = check_float("fill_uniform", t, err)) != WK_OK) return st;
  if (!(isfinite(low) && isfinite(high) && low <= high))
    return wk__error_set(err, WK_EINVAL, "fill_uniform: bad range [%g, %g)", low, high);
  if ((st = wk_tensor_mutable_data(t, &data, err)) != WK_OK) return st;
  p = (unsigned char *)data;
  for (i = 0; i < t->numel; i++) {
    unsigned char *x = p + (size_t)i * es;
    int tries = 0;
    do {
      wk__store_f64(t->dtype, x, low + (high - low) * wk_rng_uniform(rng));
    } while (low < high && wk__load_f64(t->dtype, x) >= high && ++tries < 64);
  }
  return WK_OK;
}

static wk_status fill_normal(const char *op, wk_tensor *t, wk_rng *rng, double mean,
                             double stddev, int truncated, wk_error *err) {
  size_t es = wk_dtype_size(t->dtype);
  unsigned char *p;
  void *data;
  int64_t i;
  wk_status st;
  if ((st = check_float(op, t, err)) != WK_OK) return st;
  if (!(isfinite(mean) && isfinite(stddev) && stddev >= 0))
    return wk__error_set(err, WK_EINVAL, "%s: bad mean %g or stddev %g", op, mean, stddev);
  if ((st = wk_tensor_mutable_data(t, &data, err)) != WK_OK) return st;
  p = (unsigned char *)data;
  for (i = 0; i < t->numel; i++) {
    double z = rng_normal(rng);
    while (truncated && fabs(z) > 2.0) z = rng_normal(rng); /* P(redraw) ~ 4.6% */
    wk__store_f64(t->dtype, p + (size_t)i * es, mean + stddev * z);
  }
  return WK_OK;
}

wk_status wk_tensor_fill_normal(wk_tensor *t, wk_rng *rng, double mean, double stddev,
                                wk_error *err) {
  return fill_normal("fill_normal", t, rng, mean, stddev, 0, err);
}

wk_status wk_tensor_fill_truncated_normal(wk_tensor *t, wk_rng *rng, double mean, double stddev,
                                          wk_error *err) {
  return fill_normal("fill_truncated_normal", t, rng, mean, stddev, 1, err);
}

/*
** Keras's Orthogonal: with r = prod(shape[:-1]) and c = shape[-1], draw a normal matrix A of
** shape (R, C) = (max(r, c), min(r, c)), factor A = QR, take Q * sign(diag(R)), transpose it
** when r < c, scale by gain. Here Q comes from modified Gram-Schmidt run twice per column
** ("twice is enough" for orthogonality in double); Gram-Schmidt's R has a positive diagonal,
** so its Q already equals the sign-corrected Q of any other QR. A column that vanishes
** (probability zero) is redrawn.
*/
wk_status wk_tensor_fill_orthogonal(wk_tensor *t, wk_rng *rng, double gain, wk_error *err) {
  int64_t r, c, R, C, i, j, k;
  size_t es = wk_dtype_size(t->dtype), bytes;
  double *q;
  unsigned char *p;
  void *data;
  wk_status st;
  char s[WK__SHAPE_STR_SIZE];
  if ((st = check_float("fill_orthogonal", t, err)) != WK_OK) return st;
  if (t->rank < 2)
    return wk__error_set(err, WK_ESHAPE, "fill_orthogonal: needs rank >= 2, got shape %s",
                         wk__shape_str(s, t->rank, t->shape));
  if (!isfinite(gain))
    return wk__error_set(err, WK_EINVAL, "fill_orthogonal: bad gain %g", gain);
  if (t->numel == 0) return WK_OK;
  c = t->shape[t->rank - 1];
  r = t->numel / c;
  R = r > c ? r : c;
  C = r > c ? c : r;
  if (!wk__mul_size((size_t)t->numel, sizeof(double), &bytes) ||
      (q = (double *)malloc(bytes)) == NULL)
    return wk__error_set(err, WK_ENOMEM, "fill_orthogonal: out of memory for shape %s",
                         wk__shape_str(s, t->rank, t->shape));
  if ((st = wk_tensor_mutable_data(t, &data, err)) != WK_OK) { free(q); return st; }
  /* q is R x C, row-major: q[i * C + j]. */
  for (i = 0; i < R * C; i++) q[i] = rng_normal(rng);
  for (j = 0; j < C; j++) {
    int pass, redraws = 0;
    double norm;
    for (;;) {
      for (pass = 0; pass < 2; pass++) {
        for (k = 0; k < j; k++) {
          double dot = 0.0;
          for (i = 0; i < R; i++) dot += q[i * C + k] * q[i * C + j];
          for (i = 0; i < R; i++) q[i * C + j] -= dot * q[i * C + k];
        }
      }
      norm = 0.0;
      for (i = 0; i < R; i++) norm += q[i * C + j] * q[i * C + j];
      norm = sqrt(norm);
      if (norm > 1e-10 || redraws++ > 16) break;
      for (i = 0; i < R; i++) q[i * C + j] = rng_normal(rng);
    }
    for (i = 0; i < R; i++) q[i * C + j] = norm > 0 ? q[i * C + j] / norm : 0.0;
  }
  p = (unsigned char *)data;
  for (i = 0; i < r; i++)
    for (j = 0; j < c; j++) {
      double v = r >= c ? q[i * C + j] : q[j * C + i]; /* the transpose when r < c */
      wk__store_f64(t->dtype, p + (size_t)(i * c + j) * es, gain * v);
    }
  free(q);
  return WK_OK;
}

wk_status wk_tensor_fill_identity(wk_tensor *t, double gain, wk_error *err) {
  size_t es = wk_dtype_size(t->dtype);
  unsigned char *p;
  void *data;
  int64_t i, n;
  wk_status st;
  char s[WK__SHAPE_STR_SIZE];
  if ((st = check_float("fill_identity", t, err)) != WK_OK) return st;
  if (t->rank != 2)
    return wk__error_set(err, WK_ESHAPE, "fill_identity: needs a rank-2 tensor, got shape %s",
                         wk__shape_str(s, t->rank, t->shape));
  if ((st = wk_tensor_mutable_data(t, &data, err)) != WK_OK) return st;
  p = (unsigned char *)data;
  if (t->nbytes > 0) memset(p, 0, t->nbytes);
  n = t->shape[0] < t->shape[1] ? t->shape[0] : t->shape[1];
  for (i = 0; i < n; i++) wk__store_f64(t->dtype, p + (size_t)(i * t->shape[1] + i) * es, gain);
  return WK_OK;
}

/* }==================================================================== */
