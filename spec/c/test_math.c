/*
** test_math.c — binary ops (broadcasting, promotion, integer rules), unary ops and Keras
** activations against formulas computed here with libm, softmax, matmul.
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

static double at(const wk_tensor *t, int64_t i) {
  double d = NAN;
  wk_tensor_get_f64(t, i, &d, &err);
  return d;
}

static wk_dtype promoted(wk_dtype x, wk_dtype y) {
  int64_t one[1] = {1};
  double v[1] = {1};
  wk_tensor *a = make(x, 1, one, v), *b = make(y, 1, one, v), *r = NULL;
  wk_dtype d = (wk_dtype)-1;
  if (wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_OK) d = wk_tensor_dtype(r);
  wk_tensor_release(a);
  wk_tensor_release(b);
  wk_tensor_release(r);
  return d;
}

/* Independent reference formulas (direct forms, not the stable ones the core uses). */
static double ref_act(wk_unary_op op, double x) {
  switch (op) {
    case WK_RELU: return x < 0 ? 0 : x;
    case WK_SIGMOID: return 1 / (1 + exp(-x));
    case WK_TANH: return (exp(2 * x) - 1) / (exp(2 * x) + 1);
    case WK_GELU: return x * 0.5 * (1 + erf(x / sqrt(2)));
    case WK_ELU: return x > 0 ? x : exp(x) - 1;
    case WK_SELU: return x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * (exp(x) - 1);
    case WK_SOFTPLUS: return log(1 + exp(x));
    case WK_SWISH: return x / (1 + exp(-x));
    case WK_EXP: return exp(x);
    case WK_NEG: return -x;
    case WK_ABS: return x < 0 ? -x : x;
    case WK_SQUARE: return x * x;
    case WK_LINEAR: return x;
    default: return NAN;
  }
}

int main(void) {
  wk_tensor *a, *b, *r = NULL;
  int i, j, ok;

  /* ---- broadcasting ---- */
  {
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s21[2] = {2, 1}, s13[2] = {1, 3}, s32[2] = {3, 2}, s4[1] = {4};
    double v6[6] = {1, 2, 3, 4, 5, 6}, v3[3] = {10, 20, 30}, v2[2] = {100, 200};
    a = make(WK_FLOAT32, 2, s23, v6);
    b = make(WK_FLOAT32, 1, s3, v3);
    CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_OK && wk_tensor_rank(r) == 2 &&
          at(r, 0) == 11 && at(r, 5) == 36 && at(r, 3) == 14, "(2, 3) + (3,)");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_SUB, b, a, &r, &err) == WK_OK && at(r, 0) == 9 && at(r, 5) == 24,
          "(3,) - (2, 3)");
    wk_tensor_release(r);
    wk_tensor_release(a);
    wk_tensor_release(b);
    a = make(WK_FLOAT64, 2, s21, v2);
    b = make(WK_FLOAT64, 2, s13, v3);
    CHECK(wk_tensor_binary(WK_MUL, a, b, &r, &err) == WK_OK && wk_tensor_shape(r)[0] == 2 &&
          wk_tensor_shape(r)[1] == 3 && at(r, 0) == 1000 && at(r, 4) == 4000 && at(r, 5) == 6000,
          "(2, 1) * (1, 3) -> (2, 3)");
    wk_tensor_release(r);
    wk_tensor_release(a);
    wk_tensor_release(b);
    a = make(WK_FLOAT32, 2, s32, v6);
    b = make(WK_FLOAT32, 1, s4, v6);
    r = NULL;
    CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_ESHAPE && r == NULL &&
          strcmp(err.message, "add: cannot broadcast shapes (3, 2) and (4,)") == 0,
          "broadcast error message");
    wk_tensor_release(b);
    b = make(WK_FLOAT32, 0, NULL, v2);
    CHECK(wk_tensor_binary(WK_DIV, a, b, &r, &err) == WK_OK && wk_tensor_rank(r) == 2 &&
          at(r, 5) == 0.06f, "(3, 2) / 0-d scalar");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_POW, b, b, &r, &err) == WK_OK && wk_tensor_rank(r) == 0 &&
          isinf(at(r, 0)), "0-d ** 0-d, float32 overflow to inf");
    wk_tensor_release(r);
    wk_tensor_release(a);
    wk_tensor_release(b);
    {
      int64_t s0[2] = {0, 3};
      a = make(WK_FLOAT32, 2, s0, v6);
      b = make(WK_FLOAT32, 1, s3, v3);
      CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_OK && wk_tensor_numel(r) == 0 &&
            wk_tensor_shape(r)[0] == 0, "(0, 3) + (3,) is empty");
      wk_tensor_release(r);
      wk_tensor_release(a);
      wk_tensor_release(b);
    }
  }

  /* ---- promotion ---- */
  CHECK(promoted(WK_INT8, WK_UINT8) == WK_INT16, "int8 + uint8 -> int16");
  CHECK(promoted(WK_UINT32, WK_INT32) == WK_INT64, "uint32 + int32 -> int64");
  CHECK(promoted(WK_INT64, WK_UINT64) == WK_FLOAT64, "int64 + uint64 -> float64");
  CHECK(promoted(WK_UINT8, WK_UINT16) == WK_UINT16, "uint8 + uint16 -> uint16");
  CHECK(promoted(WK_INT16, WK_UINT8) == WK_INT16, "int16 + uint8 -> int16");
  CHECK(promoted(WK_BOOL, WK_INT8) == WK_INT8, "bool + int8 -> int8");
  CHECK(promoted(WK_INT32, WK_FLOAT16) == WK_FLOAT16, "int32 + float16 -> float16 (any float wins)");
  CHECK(promoted(WK_FLOAT16, WK_BFLOAT16) == WK_FLOAT32, "float16 + bfloat16 -> float32");
  CHECK(promoted(WK_BFLOAT16, WK_FLOAT32) == WK_FLOAT32, "bfloat16 + float32 -> float32");
  CHECK(promoted(WK_FLOAT32, WK_FLOAT64) == WK_FLOAT64, "float32 + float64 -> float64");
  CHECK(promoted(WK_BOOL, WK_BOOL) == WK_BOOL, "bool + bool -> bool");

  /* ---- integer and bool rules ---- */
  {
    int64_t s4[1] = {4};
    double x[4] = {-7, 7, 100, 2}, y[4] = {2, -2, 100, 10}, z[4] = {1, 0, 1, 1};
    a = make(WK_INT8, 1, s4, x);
    b = make(WK_INT8, 1, s4, y);
    CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_EINVAL &&
          strstr(err.message, "out of range for int8") != NULL, "int8 100 + 100 fails, no wrap");
    CHECK(wk_tensor_binary(WK_SUB, a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_INT8 &&
          at(r, 0) == -9 && at(r, 1) == 9 && at(r, 2) == 0, "int8 sub");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_DIV, a, b, &r, &err) == WK_OK && at(r, 0) == -4 && at(r, 1) == -4 &&
          at(r, 2) == 1 && at(r, 3) == 0, "integer div floors (-7 // 2 = -4, 7 // -2 = -4)");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_MAXIMUM, a, b, &r, &err) == WK_OK && at(r, 0) == 2 && at(r, 1) == 7,
          "int maximum");
    wk_tensor_release(r);
    wk_tensor_release(b);
    b = make(WK_INT64, 1, s4, z);
    wk_tensor_set_f64(b, 1, 0, &err);
    CHECK(wk_tensor_binary(WK_DIV, a, b, &r, &err) == WK_EINVAL &&
          strcmp(err.message, "div: integer division by zero") == 0, "integer division by zero");
    wk_tensor_release(b);
    {
      double e[4] = {3, 2, 1, 10}, neg[4] = {1, -1, 1, 1};
      wk_tensor *p = make(WK_INT64, 1, s4, e), *q = make(WK_INT64, 1, s4, neg);
      wk_tensor *p8 = make(WK_INT8, 1, s4, e);
      CHECK(wk_tensor_binary(WK_POW, a, p8, &r, &err) == WK_EINVAL, "int8 (-7)**3 overflows int8");
      wk_tensor_release(p8);
      CHECK(wk_tensor_binary(WK_POW, a, p, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_INT64 &&
            at(r, 0) == -343 && at(r, 3) == 1024, "int8 ** int64 computes in int64");
      wk_tensor_release(r);
      CHECK(wk_tensor_binary(WK_POW, p, p, &r, &err) == WK_OK && at(r, 0) == 27 && at(r, 3) == 1e10,
            "int64 pow");
      wk_tensor_release(r);
      CHECK(wk_tensor_binary(WK_POW, p, q, &r, &err) == WK_EINVAL, "negative integer power fails");
      wk_tensor_release(p);
      wk_tensor_release(q);
    }
    wk_tensor_release(a);
    a = make(WK_BOOL, 1, s4, z);
    b = make(WK_BOOL, 1, s4, x);
    CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_BOOL &&
          at(r, 0) == 1 && at(r, 1) == 1, "bool + bool is or");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_MUL, a, b, &r, &err) == WK_OK && at(r, 1) == 0 && at(r, 0) == 1,
          "bool * bool is and");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_SUB, a, b, &r, &err) == WK_EDTYPE, "bool - bool fails");
    wk_tensor_release(a);
    wk_tensor_release(b);
    {
      double u[2] = {1, 2}, big[2] = {18446744073709549568.0, 3};
      int64_t s2[1] = {2};
      a = make(WK_UINT64, 1, s2, big);
      b = make(WK_UINT8, 1, s2, u);
      CHECK(wk_tensor_binary(WK_SUB, a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_UINT64 &&
            at(r, 0) == 18446744073709549567.0 && at(r, 1) == 1, "uint64 arithmetic above INT64_MAX");
      wk_tensor_release(r);
      CHECK(wk_tensor_binary(WK_SUB, b, a, &r, &err) == WK_EINVAL, "uint64 underflow fails");
      CHECK(wk_tensor_binary(WK_ADD, a, a, &r, &err) == WK_EINVAL, "uint64 overflow fails");
      wk_tensor_release(a);
      wk_tensor_release(b);
    }
  }

  /* ---- float rules ---- */
  {
    int64_t s3[1] = {3};
    double x[3] = {2048, 1, NAN}, y[3] = {1, NAN, 5};
    a = make(WK_FLOAT16, 1, s3, x);
    b = make(WK_FLOAT16, 1, s3, y);
    CHECK(wk_tensor_binary(WK_ADD, a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT16 &&
          at(r, 0) == 2048, "float16 2048 + 1 ties to even 2048");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_MAXIMUM, a, b, &r, &err) == WK_OK && at(r, 0) == 2048 &&
          isnan(at(r, 1)) && isnan(at(r, 2)), "maximum propagates NaN");
    wk_tensor_release(r);
    CHECK(wk_tensor_binary(WK_MINIMUM, a, b, &r, &err) == WK_OK && at(r, 0) == 1 && isnan(at(r, 1)),
          "minimum propagates NaN");
    wk_tensor_release(r);
    wk_tensor_release(b);
    b = make(WK_INT32, 1, s3, y);
    wk_tensor_set_f64(b, 1, 0, &err);
    CHECK(wk_tensor_binary(WK_DIV, a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT16 &&
          isinf(at(r, 1)), "float / int 0 is inf");
    wk_tensor_release(r);
    wk_tensor_release(a);
    wk_tensor_release(b);
  }
  CHECK(wk_tensor_binary((wk_binary_op)42, NULL, NULL, &r, &err) == WK_EINVAL, "unknown binary op");

  /* ---- unary ops and activations ---- */
  {
    static const double xs[9] = {-5, -3, -1, -0.5, 0, 0.5, 1, 3, 5};
    static const wk_unary_op ops[] = {WK_NEG, WK_ABS, WK_EXP, WK_SQUARE, WK_LINEAR, WK_RELU,
                                      WK_SIGMOID, WK_TANH, WK_GELU, WK_ELU, WK_SELU,
                                      WK_SOFTPLUS, WK_SWISH};
    static const char *const names[] = {"neg", "abs", "exp", "square", "linear", "relu",
                                        "sigmoid", "tanh", "gelu", "elu", "selu", "softplus",
                                        "swish"};
    int64_t s9[1] = {9};
    wk_tensor *x64 = make(WK_FLOAT64, 1, s9, xs), *x32 = make(WK_FLOAT32, 1, s9, xs);
    char what[96];
    for (i = 0; i < (int)(sizeof ops / sizeof ops[0]); i++) {
      double e64 = 0, e32 = 0;
      ok = wk_tensor_unary(ops[i], x64, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT64;
      for (j = 0; ok && j < 9; j++) {
        double d = fabs(at(r, j) - ref_act(ops[i], xs[j]));
        if (d > e64) e64 = d;
      }
      wk_tensor_release(r);
      snprintf(what, sizeof what, "%s float64 matches libm formula (err %.1e)", names[i], e64);
      CHECK(ok && e64 <= 1e-12 * 150, what);
      ok = wk_tensor_unary(ops[i], x32, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT32;
      for (j = 0; ok && j < 9; j++) {
        double ref = ref_act(ops[i], xs[j]), d = fabs(at(r, j) - ref) / (fabs(ref) > 1 ? fabs(ref) : 1);
        if (d > e32) e32 = d;
      }
      wk_tensor_release(r);
      snprintf(what, sizeof what, "%s float32 within float32 rounding (err %.1e)", names[i], e32);
      CHECK(ok && e32 <= 1.2e-7, what);
    }
    /* spot values stated as numbers */
    CHECK(wk_tensor_unary(WK_GELU, x64, &r, &err) == WK_OK && fabs(at(r, 6) - 0.8413447460685429) < 1e-15,
          "gelu(1) = 0.8413447460685429");
    wk_tensor_release(r);
    CHECK(wk_tensor_unary(WK_SELU, x64, &r, &err) == WK_OK && fabs(at(r, 2) - (-1.1113307378125628)) < 1e-15,
          "selu(-1) = -1.1113307378125628");
    wk_tensor_release(r);
    wk_tensor_release(x64);
    wk_tensor_release(x32);
    {
      double big[3] = {-1000, 1000, NAN};
      int64_t s3[1] = {3};
      a = make(WK_FLOAT64, 1, s3, big);
      CHECK(wk_tensor_unary(WK_SOFTPLUS, a, &r, &err) == WK_OK && at(r, 0) == 0 && at(r, 1) == 1000 &&
            isnan(at(r, 2)), "softplus is stable at +-1000 and keeps NaN");
      wk_tensor_release(r);
      CHECK(wk_tensor_unary(WK_SIGMOID, a, &r, &err) == WK_OK && at(r, 0) == 0 && at(r, 1) == 1,
            "sigmoid saturates without overflow");
      wk_tensor_release(r);
      CHECK(wk_tensor_unary(WK_RELU, a, &r, &err) == WK_OK && isnan(at(r, 2)), "relu keeps NaN");
      wk_tensor_release(r);
      CHECK(wk_tensor_unary(WK_LOG, a, &r, &err) == WK_OK && isnan(at(r, 0)) && fabs(at(r, 1) - log(1000)) < 1e-15,
            "log");
      wk_tensor_release(r);
      CHECK(wk_tensor_unary(WK_SQRT, a, &r, &err) == WK_OK && fabs(at(r, 1) - sqrt(1000)) < 1e-13, "sqrt");
      wk_tensor_release(r);
      wk_tensor_release(a);
    }
    {
      double iv[3] = {-128, 5, -3};
      int64_t s3[1] = {3};
      a = make(WK_INT8, 1, s3, iv);
      CHECK(wk_tensor_unary(WK_RELU, a, &r, &err) == WK_EDTYPE &&
            strcmp(err.message, "relu: needs a float tensor, got int8") == 0, "relu on int8 fails");
      CHECK(wk_tensor_unary(WK_NEG, a, &r, &err) == WK_EINVAL, "neg of int8 -128 fails");
      CHECK(wk_tensor_unary(WK_ABS, a, &r, &err) == WK_EINVAL, "abs of int8 -128 fails");
      wk_tensor_set_f64(a, 0, -11, &err);
      CHECK(wk_tensor_unary(WK_ABS, a, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_INT8 &&
            at(r, 0) == 11 && at(r, 2) == 3, "abs int8");
      wk_tensor_release(r);
      CHECK(wk_tensor_unary(WK_SQUARE, a, &r, &err) == WK_OK && at(r, 0) == 121, "square int8");
      wk_tensor_release(r);
      wk_tensor_set_f64(a, 0, 12, &err);
      CHECK(wk_tensor_unary(WK_SQUARE, a, &r, &err) == WK_EINVAL, "square 12 overflows int8");
      wk_tensor_release(a);
    }
  }

  /* ---- softmax ---- */
  {
    int64_t s23[2] = {2, 3};
    double v[6] = {1, 2, 3, 1000, 1000, 1001};
    double e[3] = {exp(1.0), exp(2.0), exp(3.0)}, s = e[0] + e[1] + e[2];
    a = make(WK_FLOAT32, 2, s23, v);
    CHECK(wk_tensor_softmax(a, -1, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT32, "softmax axis -1");
    ok = 1;
    for (i = 0; i < 2; i++) ok &= fabs(at(r, 3 * i) + at(r, 3 * i + 1) + at(r, 3 * i + 2) - 1) < 1e-6;
    CHECK(ok, "softmax rows sum to 1 (also for 1000, 1000, 1001)");
    CHECK(fabs(at(r, 0) - e[0] / s) < 1e-7 && fabs(at(r, 2) - e[2] / s) < 1e-7, "softmax values");
    CHECK(fabs(at(r, 5) - 1 / (1 + 2 * exp(-1.0))) < 1e-7, "softmax is max-subtracted (no overflow)");
    wk_tensor_release(r);
    CHECK(wk_tensor_softmax(a, 0, &r, &err) == WK_OK, "softmax axis 0");
    ok = 1;
    for (j = 0; j < 3; j++) ok &= fabs(at(r, j) + at(r, 3 + j) - 1) < 1e-6;
    CHECK(ok && at(r, 0) < 1e-30, "softmax columns sum to 1");
    wk_tensor_release(r);
    CHECK(wk_tensor_softmax(a, 2, &r, &err) == WK_EINVAL && strstr(err.message, "axis 2") != NULL,
          "softmax bad axis");
    wk_tensor_release(a);
    a = make(WK_INT32, 2, s23, v);
    CHECK(wk_tensor_softmax(a, 1, &r, &err) == WK_EDTYPE, "softmax on int32 fails");
    wk_tensor_release(a);
  }

  /* ---- matmul ---- */
  {
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s223[3] = {2, 2, 3}, s31[2] = {3, 1}, s4[1] = {3};
    double va[6] = {1, 2, 3, 4, 5, 6}, vb[6] = {7, 8, 9, 10, 11, 12};
    double vc[12] = {1, 2, 3, 4, 5, 6, -1, 0, 1, 2, 2, 2}, vd[3] = {1, 10, 100};
    wk_tensor *c, *d;
    a = make(WK_FLOAT32, 2, s23, va);
    b = make(WK_FLOAT64, 2, s32, vb);
    CHECK(wk_tensor_matmul(a, b, &r, &err) == WK_OK && wk_tensor_dtype(r) == WK_FLOAT64 &&
          wk_tensor_shape(r)[0] == 2 && wk_tensor_shape(r)[1] == 2, "matmul (2, 3) x (3, 2)");
    CHECK(at(r, 0) == 58 && at(r, 1) == 64 && at(r, 2) == 139 && at(r, 3) == 154, "[[58, 64], [139, 154]]");
    wk_tensor_release(r);
    CHECK(wk_tensor_matmul(a, a, &r, &err) == WK_ESHAPE &&
          strcmp(err.message, "matmul: shapes (2, 3) and (2, 3) not aligned: 3 (dim 1) != 2 (dim 0)") == 0,
          "matmul mismatch message");
    c = make(WK_FLOAT32, 3, s223, vc);
    d = make(WK_FLOAT32, 2, s31, vd);
    CHECK(wk_tensor_matmul(c, d, &r, &err) == WK_OK && wk_tensor_rank(r) == 3 &&
          wk_tensor_shape(r)[2] == 1 && at(r, 0) == 321 && at(r, 1) == 654 && at(r, 2) == 99 &&
          at(r, 3) == 222, "batched (2, 2, 3) x (3, 1)");
    wk_tensor_release(r);
    wk_tensor_release(d);
    d = make(WK_FLOAT32, 1, s4, vd);
    CHECK(wk_tensor_matmul(c, d, &r, &err) == WK_ESHAPE, "rank-1 b is not promoted");
    CHECK(wk_tensor_matmul(d, b, &r, &err) == WK_ESHAPE, "rank-1 a is not promoted");
    wk_tensor_release(d);
    d = make(WK_INT32, 2, s32, vb);
    CHECK(wk_tensor_matmul(a, d, &r, &err) == WK_EDTYPE, "matmul of int32 fails");
    wk_tensor_release(d);
    wk_tensor_release(c);
    wk_tensor_release(a);
    wk_tensor_release(b);
    {
      int64_t s20[2] = {2, 0}, s05[2] = {0, 5};
      a = make(WK_FLOAT32, 2, s20, va);
      b = make(WK_FLOAT32, 2, s05, va);
      CHECK(wk_tensor_matmul(a, b, &r, &err) == WK_OK && wk_tensor_numel(r) == 10 && at(r, 9) == 0,
            "(2, 0) x (0, 5) is zeros (2, 5)");
      wk_tensor_release(r);
      wk_tensor_release(a);
      wk_tensor_release(b);
    }
  }
  return wk_test_done();
}
