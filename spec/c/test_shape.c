/*
** test_shape.c — copy, cast, reshape, select, slice, permute, concat, split, fill, assign.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "weightkit.h"
#include "wk_test.h"

static wk_error err;

/* A float64 tensor holding 0, 1, 2, ... (or the given values). */
static wk_tensor *iota(wk_dtype dtype, int rank, const int64_t *shape) {
  wk_tensor *t = NULL;
  int64_t i;
  if (wk_tensor_new(dtype, rank, shape, &t, &err) != WK_OK) return NULL;
  for (i = 0; i < wk_tensor_numel(t); i++) wk_tensor_set_f64(t, i, (double)i, &err);
  return t;
}

static double at(const wk_tensor *t, int64_t i) {
  double d = NAN;
  wk_tensor_get_f64(t, i, &d, &err);
  return d;
}

static int same_shape(const wk_tensor *t, int rank, const int64_t *shape) {
  int i;
  if (wk_tensor_rank(t) != rank) return 0;
  for (i = 0; i < rank; i++) if (wk_tensor_shape(t)[i] != shape[i]) return 0;
  return 1;
}

int main(void) {
  int64_t s23[2] = {2, 3}, s234[3] = {2, 3, 4};
  wk_tensor *a, *b = NULL, *c = NULL, *parts[4];
  int i, j, k, ok;

  /* ---- copy ---- */
  a = iota(WK_FLOAT32, 2, s23);
  CHECK(wk_tensor_copy(a, &b, &err) == WK_OK && same_shape(b, 2, s23) &&
        wk_tensor_data(b) != wk_tensor_data(a) && at(b, 5) == 5.0, "copy");
  wk_tensor_set_f64(b, 0, 9, &err);
  CHECK(at(a, 0) == 0.0, "copy is independent");
  wk_tensor_release(b);

  /* ---- cast ---- */
  wk_tensor_set_f64(a, 0, 2.7, &err);
  wk_tensor_set_f64(a, 1, -2.7, &err);
  CHECK(wk_tensor_cast(a, WK_INT32, &b, &err) == WK_OK && wk_tensor_dtype(b) == WK_INT32 &&
        at(b, 0) == 2.0 && at(b, 1) == -2.0 && at(b, 5) == 5.0, "float32 -> int32 truncates");
  wk_tensor_release(b);
  CHECK(wk_tensor_cast(a, WK_BOOL, &b, &err) == WK_OK && at(b, 0) == 1.0 && at(b, 2) == 1.0, "to bool");
  wk_tensor_release(b);
  wk_tensor_set_f64(a, 2, NAN, &err);
  b = NULL;
  CHECK(wk_tensor_cast(a, WK_INT32, &b, &err) == WK_EINVAL && b == NULL &&
        strstr(err.message, "element 2") != NULL, "NaN -> int32 fails naming the element");
  wk_tensor_set_f64(a, 2, 1e10, &err);
  CHECK(wk_tensor_cast(a, WK_INT32, &b, &err) == WK_EINVAL, "1e10 -> int32 fails");
  CHECK(wk_tensor_cast(a, WK_INT64, &b, &err) == WK_OK && at(b, 2) == 1e10, "1e10 -> int64");
  wk_tensor_release(b);
  CHECK(wk_tensor_cast(a, WK_FLOAT16, &b, &err) == WK_OK && isinf(at(b, 2)) && at(b, 0) == 2.69921875,
        "float32 -> float16 rounds (2.7 -> 2.69921875)");
  wk_tensor_release(b);
  CHECK(wk_tensor_cast(a, (wk_dtype)50, &b, &err) == WK_EINVAL, "cast to an invalid dtype");
  wk_tensor_release(a);
  {
    int64_t s1[1] = {3};
    a = iota(WK_UINT8, 1, s1);
    wk_tensor_set_f64(a, 2, 200, &err);
    CHECK(wk_tensor_cast(a, WK_INT8, &b, &err) == WK_EINVAL, "uint8 200 -> int8 fails");
    CHECK(wk_tensor_cast(a, WK_INT16, &b, &err) == WK_OK && at(b, 2) == 200, "uint8 -> int16");
    wk_tensor_release(b);
    CHECK(wk_tensor_cast(a, WK_FLOAT64, &b, &err) == WK_OK && at(b, 2) == 200, "uint8 -> float64");
    wk_tensor_release(b);
    wk_tensor_release(a);
    a = iota(WK_FLOAT64, 1, s1);
    wk_tensor_set_f64(a, 0, 0.1, &err);
    CHECK(wk_tensor_cast(a, WK_FLOAT16, &b, &err) == WK_OK && at(b, 0) == (double)wk_f16_to_f32(0x2e66),
          "float64 0.1 -> float16 0x2e66");
    wk_tensor_release(b);
    wk_tensor_release(a);
  }

  /* ---- reshape ---- */
  a = iota(WK_FLOAT64, 3, s234);
  {
    int64_t r1[2] = {-1, 4}, r2[2] = {-1, -1}, r3[2] = {5, 5}, r4[3] = {4, 0, -1};
    int64_t e1[2] = {6, 4};
    CHECK(wk_tensor_reshape(a, 2, r1, &b, &err) == WK_OK && same_shape(b, 2, e1) &&
          wk_tensor_storage_kind(b) == WK_STORAGE_VIEW && wk_tensor_data(b) == wk_tensor_data(a),
          "reshape (-1, 4) infers 6 and shares data");
    wk_tensor_set_f64(b, 23, -1, &err);
    CHECK(at(a, 23) == -1.0, "write through the reshape view");
    wk_tensor_release(b);
    CHECK(wk_tensor_reshape(a, 2, r2, &b, &err) == WK_EINVAL, "two -1 fail");
    CHECK(wk_tensor_reshape(a, 2, r3, &b, &err) == WK_ESHAPE &&
          strcmp(err.message, "reshape: cannot reshape (2, 3, 4) into (5, 5)") == 0,
          "reshape count mismatch message");
    CHECK(wk_tensor_reshape(a, 3, r4, &b, &err) == WK_ESHAPE, "-1 with a zero dim fails");
    CHECK(wk_tensor_reshape(a, 9, r1, &b, &err) == WK_ELIMIT, "reshape to rank 9");
    CHECK(wk_tensor_reshape(a, 0, NULL, &b, &err) == WK_ESHAPE, "24 elements into a scalar");
  }

  /* ---- select ---- */
  {
    int64_t e[2] = {3, 4};
    CHECK(wk_tensor_select(a, 1, &b, &err) == WK_OK && same_shape(b, 2, e) && at(b, 0) == 12.0,
          "select(1) of (2, 3, 4)");
    CHECK(wk_tensor_select(b, 2, &c, &err) == WK_OK && wk_tensor_rank(c) == 1 && at(c, 3) == 23.0 - 24.0,
          "select of a view (element 23 was set to -1)");
    wk_tensor_release(c);
    wk_tensor_release(b);
    CHECK(wk_tensor_select(a, 2, &b, &err) == WK_EINVAL &&
          strcmp(err.message, "select: index 2 is out of range for shape (2, 3, 4)") == 0,
          "select out of range message");
  }

  /* ---- slice ---- */
  {
    int64_t e0[3] = {1, 3, 4}, e1[3] = {2, 2, 4}, e2[3] = {2, 3, 1};
    CHECK(wk_tensor_slice(a, 0, 1, 2, &b, &err) == WK_OK && same_shape(b, 3, e0) &&
          wk_tensor_storage_kind(b) == WK_STORAGE_VIEW && at(b, 0) == 12.0, "slice axis 0 is a view");
    wk_tensor_set_f64(b, 0, 100, &err);
    CHECK(at(a, 12) == 100.0, "slice view writes through");
    wk_tensor_set_f64(a, 12, 12, &err);
    wk_tensor_release(b);
    CHECK(wk_tensor_slice(a, 1, 1, 3, &b, &err) == WK_OK && same_shape(b, 3, e1) &&
          wk_tensor_storage_kind(b) == WK_STORAGE_OWNED, "slice axis 1 is a copy");
    ok = 1;
    for (i = 0; i < 2; i++) for (j = 0; j < 2; j++) for (k = 0; k < 4; k++)
      ok &= at(b, (i * 2 + j) * 4 + k) == at(a, (i * 3 + j + 1) * 4 + k);
    CHECK(ok, "slice axis 1 values");
    wk_tensor_release(b);
    CHECK(wk_tensor_slice(a, -1, 2, 3, &b, &err) == WK_OK && same_shape(b, 3, e2) && at(b, 1) == 6.0,
          "slice axis -1");
    wk_tensor_release(b);
    CHECK(wk_tensor_slice(a, 1, 2, 4, &b, &err) == WK_EINVAL &&
          strstr(err.message, "(2, 3, 4)") != NULL, "slice stop past the end");
    CHECK(wk_tensor_slice(a, 1, 2, 1, &b, &err) == WK_EINVAL, "slice stop < start");
    CHECK(wk_tensor_slice(a, 3, 0, 1, &b, &err) == WK_EINVAL &&
          strcmp(err.message, "slice: axis 3 is out of range for rank 3") == 0, "slice bad axis");
    CHECK(wk_tensor_slice(a, 2, 1, 1, &b, &err) == WK_OK && wk_tensor_numel(b) == 0, "empty slice");
    wk_tensor_release(b);
  }

  /* ---- permute ---- */
  {
    int axes[3] = {2, 0, 1}, bad[3] = {0, 0, 1}, neg[3] = {-1, 0, 1};
    int64_t e[3] = {4, 2, 3};
    CHECK(wk_tensor_permute(a, axes, &b, &err) == WK_OK && same_shape(b, 3, e), "permute (2, 0, 1)");
    ok = 1;
    for (i = 0; i < 4; i++) for (j = 0; j < 2; j++) for (k = 0; k < 3; k++)
      ok &= at(b, (i * 2 + j) * 3 + k) == at(a, (j * 3 + k) * 4 + i);
    CHECK(ok, "permute: out[i][j][k] = a[j][k][i]");
    wk_tensor_release(b);
    CHECK(wk_tensor_permute(a, neg, &b, &err) == WK_OK && same_shape(b, 3, e), "negative axes");
    wk_tensor_release(b);
    CHECK(wk_tensor_permute(a, bad, &b, &err) == WK_EINVAL, "repeated axis fails");
    bad[0] = 3;
    CHECK(wk_tensor_permute(a, bad, &b, &err) == WK_EINVAL, "axis 3 of rank 3 fails");
  }
  wk_tensor_release(a);

  /* ---- concat and split ---- */
  {
    int64_t s32[2] = {3, 2}, s34[2] = {3, 4}, s36[2] = {3, 6}, s62[2] = {6, 2};
    wk_tensor *x = iota(WK_INT32, 2, s32), *y = iota(WK_INT32, 2, s34), *z;
    const wk_tensor *pair[2];
    pair[0] = x; pair[1] = y;
    CHECK(wk_tensor_concat(pair, 2, 1, &b, &err) == WK_OK && same_shape(b, 2, s36), "concat axis 1");
    ok = 1;
    for (i = 0; i < 3; i++) for (j = 0; j < 6; j++)
      ok &= at(b, i * 6 + j) == (j < 2 ? at(x, i * 2 + j) : at(y, i * 4 + j - 2));
    CHECK(ok, "concat axis 1 values");
    CHECK(wk_tensor_concat(pair, 2, 0, &c, &err) == WK_ESHAPE &&
          strcmp(err.message, "concat: shapes (3, 2) and (3, 4) differ outside axis 0") == 0,
          "concat mismatch message");
    pair[1] = x;
    CHECK(wk_tensor_concat(pair, 2, 0, &c, &err) == WK_OK && same_shape(c, 2, s62) &&
          at(c, 6) == 0.0 && at(c, 11) == 5.0, "concat axis 0");
    wk_tensor_release(c);
    CHECK(wk_tensor_concat(pair, 2, -1, &c, &err) == WK_OK && wk_tensor_shape(c)[1] == 4, "concat axis -1");
    wk_tensor_release(c);
    CHECK(wk_tensor_concat(pair, 2, 2, &c, &err) == WK_EINVAL, "concat bad axis");
    CHECK(wk_tensor_concat(pair, 0, 0, &c, &err) == WK_EINVAL, "concat of nothing");
    z = iota(WK_FLOAT32, 2, s32);
    pair[1] = z;
    CHECK(wk_tensor_concat(pair, 2, 0, &c, &err) == WK_EDTYPE, "concat of mixed dtypes");
    wk_tensor_release(z);

    CHECK(wk_tensor_split(b, 1, 3, parts, &err) == WK_OK, "split (3, 6) in 3 along axis 1");
    ok = 1;
    for (k = 0; k < 3; k++) {
      ok &= same_shape(parts[k], 2, s32);
      for (i = 0; i < 3; i++) for (j = 0; j < 2; j++)
        ok &= at(parts[k], i * 2 + j) == at(b, i * 6 + k * 2 + j);
    }
    CHECK(ok, "split parts hold the right columns");
    {
      const wk_tensor *back[3];
      back[0] = parts[0]; back[1] = parts[1]; back[2] = parts[2];
      CHECK(wk_tensor_concat(back, 3, 1, &c, &err) == WK_OK &&
            memcmp(wk_tensor_data(c), wk_tensor_data(b), wk_tensor_nbytes(b)) == 0,
            "concat(split(x)) == x");
      wk_tensor_release(c);
    }
    for (k = 0; k < 3; k++) wk_tensor_release(parts[k]);
    parts[0] = NULL;
    CHECK(wk_tensor_split(b, 1, 4, parts, &err) == WK_ESHAPE && parts[0] == NULL &&
          strcmp(err.message, "split: axis 1 of shape (3, 6) does not split into 4 equal parts") == 0,
          "split not divisible");
    CHECK(wk_tensor_split(b, 0, 0, parts, &err) == WK_ESHAPE, "split into 0 parts");
    CHECK(wk_tensor_split(b, 0, 3, parts, &err) == WK_OK && wk_tensor_shape(parts[2])[0] == 1 &&
          at(parts[2], 0) == at(b, 12), "split axis 0");
    for (k = 0; k < 3; k++) wk_tensor_release(parts[k]);
    wk_tensor_release(b);
    wk_tensor_release(x);
    wk_tensor_release(y);
  }

  /* ---- fill and assign ---- */
  {
    int64_t s4[1] = {4}, s22[2] = {2, 2};
    int8_t ext[4] = {1, 2, 3, 4};
    a = iota(WK_INT8, 1, s4);
    CHECK(wk_tensor_fill(a, 7.9, &err) == WK_OK && at(a, 3) == 7.0, "fill int8 truncates");
    CHECK(wk_tensor_fill(a, 300, &err) == WK_EINVAL && at(a, 0) == 7.0, "fill out of range changes nothing");
    wk_tensor_release(a);
    CHECK(wk_tensor_wrap(WK_INT8, 1, s4, ext, 4, NULL, NULL, &a, &err) == WK_OK &&
          wk_tensor_fill(a, -1, &err) == WK_OK && at(a, 2) == -1.0 && ext[2] == 3, "fill copies-on-write");
    wk_tensor_release(a);

    a = iota(WK_FLOAT32, 2, s22);
    b = iota(WK_INT64, 1, s4);
    wk_tensor_set_f64(b, 0, 10, &err);
    CHECK(wk_tensor_assign(a, b, &err) == WK_OK && at(a, 0) == 10.0 && at(a, 3) == 3.0,
          "assign (4,) int64 into (2, 2) float32");
    wk_tensor_release(b);
    b = iota(WK_FLOAT32, 1, s4);
    wk_tensor_set_f64(b, 3, -3.5, &err);
    c = iota(WK_INT16, 1, s4);
    wk_tensor_fill(c, 5, &err);
    CHECK(wk_tensor_assign(c, b, &err) == WK_OK && at(c, 1) == 1.0 && at(c, 3) == -3.0,
          "assign float32 -> int16");
    wk_tensor_set_f64(b, 3, 70000, &err);
    wk_tensor_fill(c, 5, &err);
    CHECK(wk_tensor_assign(c, b, &err) == WK_EINVAL && at(c, 0) == 5.0 && at(c, 3) == 5.0,
          "assign with one out-of-range element changes nothing");
    wk_tensor_release(c);
    c = iota(WK_FLOAT32, 1, s23);
    CHECK(wk_tensor_assign(a, c, &err) == WK_ESHAPE &&
          strcmp(err.message, "assign: cannot assign shape (2,) to shape (2, 2)") == 0,
          "assign count mismatch");
    wk_tensor_release(c);
    /* overlapping: row 1 of a into row 0 of a, both views of one storage */
    {
      wk_tensor *r0, *r1;
      wk_tensor_select(a, 0, &r0, &err);
      wk_tensor_select(a, 1, &r1, &err);
      CHECK(wk_tensor_assign(r0, r1, &err) == WK_OK && at(a, 0) == at(a, 2) && at(a, 1) == 3.0,
            "assign between views of one tensor");
      CHECK(wk_tensor_assign(a, a, &err) == WK_OK && at(a, 1) == 3.0, "assign to itself");
      wk_tensor_release(r0);
      wk_tensor_release(r1);
    }
    wk_tensor_release(a);
    wk_tensor_release(b);
    CHECK(wk_tensor_wrap(WK_INT8, 1, s4, ext, 4, NULL, NULL, &a, &err) == WK_OK &&
          wk_tensor_assign(a, a, &err) == WK_OK && at(a, 3) == 4.0 && !wk_tensor_is_readonly(a),
          "self-assign of external storage copies-on-write safely");
    wk_tensor_release(a);
  }
  return wk_test_done();
}
