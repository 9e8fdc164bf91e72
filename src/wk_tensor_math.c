/*
** wk_tensor_math.c — elementwise binary ops (NumPy broadcasting and promotion), unary ops and
** Keras activations, softmax, matmul.
**
** Float results are computed in double and rounded once to the result dtype. For +, -, *, /
** on float32 or the half types this equals computing in the narrower type (double holds the
** exact sum/product, and 53 >= 2p + 2 makes division's double rounding harmless), so results
** match NumPy bit for bit; transcendental functions are at least as accurate as float32 ones.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wk_internal.h"

/* {====================================================================
** Binary ops
** ===================================================================== */

static const char *const binary_names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                           "pow"};

static double float_op(wk_binary_op op, double x, double y) {
  switch (op) {
    case WK_ADD: return x + y;
    case WK_SUB: return x - y;
    case WK_MUL: return x * y;
    case WK_DIV: return x / y;
    case WK_MAXIMUM: return (isnan(x) || isnan(y)) ? x + y : (x >= y ? x : y); /* NaN wins */
    case WK_MINIMUM: return (isnan(x) || isnan(y)) ? x + y : (x <= y ? x : y);
    case WK_POW: return pow(x, y);
  }
  return 0;
}

/*
** Integer ops run in int64 (or uint64 for a uint64 result) with overflow checks, then the
** store checks the result dtype's range: integer results never wrap, they fail. WK_DIV is
** floor division (NumPy's //); division by zero and negative powers fail.
** Returns 0 = ok, 1 = overflow, 2 = division by zero, 3 = negative power.
*/
static int int_op(wk_binary_op op, int64_t x, int64_t y, int64_t *r) {
  switch (op) {
    case WK_ADD:
      if ((y > 0 && x > INT64_MAX - y) || (y < 0 && x < INT64_MIN - y)) return 1;
      *r = x + y; return 0;
    case WK_SUB:
      if ((y < 0 && x > INT64_MAX + y) || (y > 0 && x < INT64_MIN + y)) return 1;
      *r = x - y; return 0;
    case WK_MUL:
      if (x > 0) {
        if (y > 0 ? x > INT64_MAX / y : y < INT64_MIN / x) return 1;
      } else if (x < 0) {
        if (y > 0 ? x < INT64_MIN / y : (y != 0 && y < INT64_MAX / x)) return 1;
      }
      *r = x * y; return 0;
    case WK_DIV: {
      int64_t q;
      if (y == 0) return 2;
      if (x == INT64_MIN && y == -1) return 1;
      q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
      *r = q; return 0;
    }
    case WK_MAXIMUM: *r = x >= y ? x : y; return 0;
    case WK_MINIMUM: *r = x <= y ? x : y; return 0;
    case WK_POW: {
      int64_t acc = 1, base = x;
      if (y < 0) return 3;
      while (y > 0) {
        if (y & 1) { if (int_op(WK_MUL, acc, base, &acc)) return 1; }
        y >>= 1;
        if (y > 0 && int_op(WK_MUL, base, base, &base)) return 1;
      }
      *r = acc; return 0;
    }
  }
  return 1;
}

static int uint_op(wk_binary_op op, uint64_t x, uint64_t y, uint64_t *r) {
  switch (op) {
    case WK_ADD: if (x > UINT64_MAX - y) return 1; *r = x + y; return 0;
    case WK_SUB: if (y > x) return 1; *r = x - y; return 0;
    case WK_MUL: if (x != 0 && y > UINT64_MAX / x) return 1; *r = x * y; return 0;
    case WK_DIV: if (y == 0) return 2; *r = x / y; return 0;
    case WK_MAXIMUM: *r = x >= y ? x : y; return 0;
    case WK_MINIMUM: *r = x <= y ? x : y; return 0;
    case WK_POW: {
      uint64_t acc = 1, base = x;
      while (y > 0) {
        if (y & 1) { if (uint_op(WK_MUL, acc, base, &acc)) return 1; }
        y >>= 1;
        if (y > 0 && uint_op(WK_MUL, base, base, &base)) return 1;
      }
      *r = acc; return 0;
    }
  }
  return 1;
}

static uint64_t load_u64(wk_dtype dtype, const void *p) {
  uint64_t u;
  int64_t v = 0;
  if (dtype == WK_UINT64) { memcpy(&u, p, 8); return u; }
  wk__load_i64(dtype, p, &v); /* unsigned or bool operand: v >= 0 */
  return (uint64_t)v;
}

static wk_status int_error(const char *op, int code, wk_dtype dtype, wk_error *err) {
  if (code == 2) return wk__error_set(err, WK_EINVAL, "%s: integer division by zero", op);
  if (code == 3)
    return wk__error_set(err, WK_EINVAL, "%s: integers to negative integer powers are not "
                         "allowed", op);
  return wk__error_set(err, WK_EINVAL, "%s: integer result out of range for %s", op,
                       wk_dtype_name(dtype));
}

wk_status wk_tensor_binary(wk_binary_op op, const wk_tensor *a, const wk_tensor *b,
                           wk_tensor **out, wk_error *err) {
  const char *name;
  wk__bcast bc;
  wk__bcast_iter it;
  wk_dtype rd;
  wk_tensor *t;
  const unsigned char *pa, *pb;
  unsigned char *pr;
  size_t sa, sb, sr;
  int64_t k;
  wk_status st;
  if ((unsigned)op > (unsigned)WK_POW)
    return wk__error_set(err, WK_EINVAL, "binary: unknown op %d", (int)op);
  name = binary_names[op];
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "%s: NULL output", name);
  rd = wk__promote(a->dtype, b->dtype);
  if (rd == WK_BOOL && (op == WK_SUB || op == WK_DIV || op == WK_POW))
    return wk__error_set(err, WK_EDTYPE, "%s: not supported for bool tensors", name);
  if ((st = wk__broadcast(name, a, b, &bc, err)) != WK_OK) return st;
  if ((st = wk__tensor_alloc(name, rd, bc.rank, bc.shape, &t, err)) != WK_OK) return st;
  pa = wk__tdata(a);
  pb = wk__tdata(b);
  pr = t->storage->data;
  sa = wk_dtype_size(a->dtype);
  sb = wk_dtype_size(b->dtype);
  sr = wk_dtype_size(rd);
  wk__bcast_start(&it, &bc);
  for (k = 0; k < bc.numel; k++, wk__bcast_next(&it)) {
    const unsigned char *xa = pa + (size_t)it.ia * sa, *xb = pb + (size_t)it.ib * sb;
    unsigned char *xr = pr + (size_t)k * sr;
    if (wk_dtype_is_float(rd)) {
      wk__store_f64(rd, xr, float_op(op, wk__load_f64(a->dtype, xa), wk__load_f64(b->dtype, xb)));
    } else if (rd == WK_BOOL) { /* add/max = or, mul/min = and, as in NumPy */
      int x = xa[0] != 0, y = xb[0] != 0;
      xr[0] = (unsigned char)((op == WK_ADD || op == WK_MAXIMUM) ? (x || y) : (x && y));
    } else if (rd == WK_UINT64) {
      uint64_t r = 0;
      int code = uint_op(op, load_u64(a->dtype, xa), load_u64(b->dtype, xb), &r);
      if (code == 0 && !wk__store_u64(rd, xr, r)) code = 1;
      if (code) { wk_tensor_release(t); return int_error(name, code, rd, err); }
    } else {
      int64_t x = 0, y = 0, r = 0;
      int code;
      wk__load_i64(a->dtype, xa, &x); /* every operand of a signed or narrow result fits */
      wk__load_i64(b->dtype, xb, &y);
      code = int_op(op, x, y, &r);
      if (code == 0 && !wk__store_i64(rd, xr, r)) code = 1;
      if (code) { wk_tensor_release(t); return int_error(name, code, rd, err); }
    }
  }
  *out = t;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Unary ops and activations
** ===================================================================== */

static const char *const unary_names[] = {"neg", "abs", "exp", "log", "sqrt", "square",
                                          "linear", "relu", "sigmoid", "tanh", "gelu", "elu",
                                          "selu", "softplus", "swish"};

/* Keras's SELU constants. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

static double sigmoid(double x) { /* no overflow of exp for either sign */
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  else {
    double e = exp(x);
    return e / (1.0 + e);
  }
}

static double unary_f(wk_unary_op op, double x) {
  switch (op) {
    case WK_NEG: return -x;
    case WK_ABS: return fabs(x);
    case WK_EXP: return exp(x);
    case WK_LOG: return log(x);
    case WK_SQRT: return sqrt(x);
    case WK_SQUARE: return x * x;
    case WK_LINEAR: return x;
    case WK_RELU: return x > 0 ? x : (isnan(x) ? x : 0.0);
    case WK_SIGMOID: return sigmoid(x);
    case WK_TANH: return tanh(x);
    case WK_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case WK_ELU: return x > 0 ? x : expm1(x);
    case WK_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    case WK_SOFTPLUS: /* log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) */
      return isnan(x) ? x : (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
    case WK_SWISH: return x * sigmoid(x);
  }
  return x;
}

wk_status wk_tensor_unary(wk_unary_op op, const wk_tensor *a, wk_tensor **out, wk_error *err) {
  const char *name;
  wk_tensor *t;
  const unsigned char *pa;
  unsigned char *pr;
  size_t es = wk_dtype_size(a->dtype);
  int64_t k;
  wk_status st;
  int isf = wk_dtype_is_float(a->dtype);
  if ((unsigned)op > (unsigned)WK_SWISH)
    return wk__error_set(err, WK_EINVAL, "unary: unknown op %d", (int)op);
  name = unary_names[op];
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "%s: NULL output", name);
  if (!isf && !(op == WK_NEG || op == WK_ABS || op == WK_SQUARE || op == WK_LINEAR))
    return wk__error_set(err, WK_EDTYPE, "%s: needs a float tensor, got %s", name,
                         wk_dtype_name(a->dtype));
  if (a->dtype == WK_BOOL && op == WK_NEG)
    return wk__error_set(err, WK_EDTYPE, "neg: not supported for bool tensors");
  if ((st = wk_tensor_copy(a, &t, err)) != WK_OK) return st;
  if (op == WK_LINEAR) { *out = t; return WK_OK; }
  pa = wk__tdata(a);
  pr = t->storage->data;
  for (k = 0; k < a->numel; k++) {
    const unsigned char *x = pa + (size_t)k * es;
    unsigned char *r = pr + (size_t)k * es;
    if (isf) {
      wk__store_f64(a->dtype, r, unary_f(op, wk__load_f64(a->dtype, x)));
    } else if (a->dtype == WK_BOOL) {
      r[0] = x[0] != 0; /* abs and square keep a bool */
    } else if (a->dtype == WK_UINT64) {
      uint64_t u = load_u64(a->dtype, x), v = u;
      int bad = (op == WK_NEG && u != 0) || (op == WK_SQUARE && uint_op(WK_MUL, u, u, &v));
      if (bad || !wk__store_u64(a->dtype, r, v)) {
        wk_tensor_release(t);
        return int_error(name, 1, a->dtype, err);
      }
    } else {
      int64_t v = 0, res = 0;
      int bad = 0;
      wk__load_i64(a->dtype, x, &v);
      if (op == WK_SQUARE) bad = int_op(WK_MUL, v, v, &res);
      else if (op == WK_NEG || (op == WK_ABS && v < 0)) bad = int_op(WK_SUB, 0, v, &res);
      else res = v;
      if (bad || !wk__store_i64(a->dtype, r, res)) {
        wk_tensor_release(t);
        return int_error(name, 1, a->dtype, err);
      }
    }
  }
  *out = t;
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Softmax and matmul
** ===================================================================== */

/*
** Softmax of each line along `axis`: exp(x - max) / sum, in double. A line holding a NaN
** gives NaNs; a line of -inf gives NaNs too (as NumPy's formula does).
*/
wk_status wk_tensor_softmax(const wk_tensor *a, int axis, wk_tensor **out, wk_error *err) {
  int64_t outer = 1, inner = 1, n, o, i, j;
  size_t es = wk_dtype_size(a->dtype);
  const unsigned char *pa;
  unsigned char *pr;
  wk_tensor *t;
  wk_status st;
  int d;
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "softmax: NULL output");
  if (!wk_dtype_is_float(a->dtype))
    return wk__error_set(err, WK_EDTYPE, "softmax: needs a float tensor, got %s",
                         wk_dtype_name(a->dtype));
  if ((st = wk__axis("softmax", axis, a->rank, &axis, err)) != WK_OK) return st;
  if ((st = wk_tensor_copy(a, &t, err)) != WK_OK) return st;
  for (d = 0; d < axis; d++) outer *= a->shape[d];
  for (d = axis + 1; d < a->rank; d++) inner *= a->shape[d];
  n = a->shape[axis];
  pa = wk__tdata(a);
  pr = t->storage->data;
  for (o = 0; o < outer && t->nbytes > 0; o++) {
    for (j = 0; j < inner; j++) {
      size_t base = (size_t)(o * n * inner + j);
      double mx = -INFINITY, sum = 0.0;
      for (i = 0; i < n; i++) {
        double x = wk__load_f64(a->dtype, pa + (base + (size_t)(i * inner)) * es);
        if (isnan(x) || x > mx) mx = isnan(mx) ? mx : x;
      }
      for (i = 0; i < n; i++)
        sum += exp(wk__load_f64(a->dtype, pa + (base + (size_t)(i * inner)) * es) - mx);
      for (i = 0; i < n; i++) {
        size_t at = (base + (size_t)(i * inner)) * es;
        wk__store_f64(a->dtype, pr + at, exp(wk__load_f64(a->dtype, pa + at) - mx) / sum);
      }
    }
  }
  *out = t;
  return WK_OK;
}

/*
** a (..., m, k) x b (k, n): every leading index of a is a batch of m rows. The loop order is
** i-k-j (a row of a scales rows of b into an accumulator row), which walks b and the
** accumulator contiguously. Accumulation is in double for every float dtype — more accurate
** than a float32 BLAS, so float32 results may differ from NumPy's in the last bit — and each
** result element is rounded once to the output dtype.
*/
wk_status wk_tensor_matmul(const wk_tensor *a, const wk_tensor *b, wk_tensor **out,
                           wk_error *err) {
  int64_t shape[WK_MAX_RANK], kk, n, rows, r, p, j;
  size_t ea = wk_dtype_size(a->dtype), eo, bbytes, abytes;
  double *bd = NULL, *acc = NULL;
  const unsigned char *pa, *pb;
  unsigned char *po;
  wk_dtype rd;
  wk_tensor *t;
  wk_status st;
  char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
  if (out == NULL) return wk__error_set(err, WK_EINVAL, "matmul: NULL output");
  if (!wk_dtype_is_float(a->dtype) || !wk_dtype_is_float(b->dtype))
    return wk__error_set(err, WK_EDTYPE, "matmul: needs float tensors, got %s and %s",
                         wk_dtype_name(a->dtype), wk_dtype_name(b->dtype));
  if (a->rank < 2 || b->rank != 2)
    return wk__error_set(err, WK_ESHAPE, "matmul: shapes %s and %s: a needs rank >= 2 and b "
                         "rank 2", wk__shape_str(s1, a->rank, a->shape),
                         wk__shape_str(s2, b->rank, b->shape));
  kk = a->shape[a->rank - 1];
  n = b->shape[1];
  if (kk != b->shape[0])
    return wk__error_set(err, WK_ESHAPE, "matmul: shapes %s and %s not aligned: %lld (dim %d) "
                         "!= %lld (dim 0)", wk__shape_str(s1, a->rank, a->shape),
                         wk__shape_str(s2, b->rank, b->shape), (long long)kk, a->rank - 1,
                         (long long)b->shape[0]);
  rd = wk__promote(a->dtype, b->dtype);
  memcpy(shape, a->shape, sizeof shape);
  shape[a->rank - 1] = n;
  if ((st = wk__tensor_alloc("matmul", rd, a->rank, shape, &t, err)) != WK_OK) return st;
  if (t->numel == 0) { *out = t; return WK_OK; }
  /* b (k*n) and one accumulator row (n) as doubles; b's count is bounded by its own size. */
  if (!wk__mul_size((size_t)b->numel, sizeof(double), &bbytes) ||
      !wk__mul_size((size_t)n, sizeof(double), &abytes) ||
      (bd = (double *)malloc(bbytes ? bbytes : 1)) == NULL ||
      (acc = (double *)malloc(abytes)) == NULL) {
    free(bd);
    wk_tensor_release(t);
    return wk__error_set(err, WK_ENOMEM, "matmul: out of memory");
  }
  pb = wk__tdata(b);
  for (j = 0; j < b->numel; j++) bd[j] = wk__load_f64(b->dtype, pb + (size_t)j * wk_dtype_size(b->dtype));
  pa = wk__tdata(a);
  po = t->storage->data;
  eo = wk_dtype_size(rd);
  rows = a->numel / (kk ? kk : 1);
  if (kk == 0) rows = t->numel / n;
  for (r = 0; r < rows; r++) {
    for (j = 0; j < n; j++) acc[j] = 0.0;
    for (p = 0; p < kk; p++) {
      double x = wk__load_f64(a->dtype, pa + (size_t)(r * kk + p) * ea);
      const double *brow = bd + p * n;
      for (j = 0; j < n; j++) acc[j] += x * brow[j];
    }
    for (j = 0; j < n; j++) wk__store_f64(rd, po + (size_t)(r * n + j) * eo, acc[j]);
  }
  free(bd);
  free(acc);
  *out = t;
  return WK_OK;
}

/* }==================================================================== */
