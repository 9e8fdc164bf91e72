/*
** test_tensor.c — creation, refcounts, external storage with a release callback, views,
** copy-on-write, element access and the error paths of creation.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "weightkit.h"
#include "wk_test.h"

static int released = 0;
static void on_release(void *ctx) { released++; *(int *)ctx += 1; }

int main(void) {
  wk_error err;
  wk_tensor *t = NULL, *v = NULL, *w = NULL, *u = NULL;
  int64_t shape[9] = {2, 3, 1, 1, 1, 1, 1, 1, 1};
  double d;
  int64_t i64;
  int ok, i, ctx = 0;

  /* ---- new ---- */
  CHECK(wk_tensor_new(WK_FLOAT32, 2, shape, &t, &err) == WK_OK, "new (2, 3) float32");
  CHECK(wk_tensor_rank(t) == 2 && wk_tensor_shape(t)[0] == 2 && wk_tensor_shape(t)[1] == 3 &&
        wk_tensor_numel(t) == 6 && wk_tensor_nbytes(t) == 24 && wk_tensor_dtype(t) == WK_FLOAT32,
        "accessors");
  CHECK(wk_tensor_storage_kind(t) == WK_STORAGE_OWNED && !wk_tensor_is_readonly(t), "owned, writable");
  ok = 1;
  for (i = 0; i < 6; i++) ok &= ((const float *)wk_tensor_data(t))[i] == 0.0f;
  CHECK(ok, "zero-filled");
  {
    void *p = NULL;
    CHECK(wk_tensor_mutable_data(t, &p, &err) == WK_OK && p == wk_tensor_data(t),
          "mutable_data of owned storage is the data pointer");
  }
  wk_tensor_retain(t);
  wk_tensor_release(t);
  CHECK(wk_tensor_numel(t) == 6, "retain + release keeps the tensor");
  wk_tensor_release(t);
  wk_tensor_release(NULL);

  CHECK(wk_tensor_new(WK_FLOAT64, 0, NULL, &t, &err) == WK_OK && wk_tensor_numel(t) == 1 &&
        wk_tensor_nbytes(t) == 8 && wk_tensor_rank(t) == 0, "0-d tensor with NULL shape");
  CHECK(wk_tensor_set_f64(t, 0, 2.5, &err) == WK_OK && wk_tensor_get_f64(t, 0, &d, &err) == WK_OK &&
        d == 2.5, "0-d set/get");
  wk_tensor_release(t);
  {
    int64_t z[2] = {0, 5};
    CHECK(wk_tensor_new(WK_INT8, 2, z, &t, &err) == WK_OK && wk_tensor_numel(t) == 0 &&
          wk_tensor_data(t) == NULL, "empty tensor has NULL data");
    CHECK(wk_tensor_get_f64(t, 0, &d, &err) == WK_EINVAL, "get on empty fails");
    wk_tensor_release(t);
  }

  /* ---- creation errors ---- */
  t = NULL;
  CHECK(wk_tensor_new(WK_FLOAT32, 9, shape, &t, &err) == WK_ELIMIT && t == NULL &&
        strstr(err.message, "rank 9") != NULL, "rank 9 -> WK_ELIMIT");
  {
    int64_t huge[2] = {INT64_C(1) << 62, 8}, neg[2] = {2, -1}, big2[2] = {INT64_C(1) << 61, 1};
    CHECK(wk_tensor_new(WK_FLOAT32, 2, huge, &t, &err) == WK_ELIMIT && t == NULL &&
          err.code == WK_ELIMIT, "2^62 x 8 -> WK_ELIMIT");
    CHECK(strstr(err.message, "(4611686018427387904, 8)") != NULL, "message names the shape");
    CHECK(wk_tensor_new(WK_FLOAT64, 2, big2, &t, &err) == WK_ELIMIT, "2^61 float64 bytes overflow");
    CHECK(wk_tensor_new(WK_FLOAT32, 2, neg, &t, &err) == WK_EINVAL &&
          strstr(err.message, "(2, -1)") != NULL, "negative dim -> WK_EINVAL");
    huge[1] = 0;
    CHECK(wk_tensor_new(WK_FLOAT32, 2, huge, &t, &err) == WK_OK && wk_tensor_numel(t) == 0,
          "2^62 x 0 is empty, not an overflow");
    wk_tensor_release(t);
  }
  CHECK(wk_tensor_new(WK_FLOAT32, -1, shape, &t, NULL) == WK_EINVAL, "negative rank, NULL err");
  CHECK(wk_tensor_new((wk_dtype)77, 1, shape, &t, &err) == WK_EINVAL, "invalid dtype");
  CHECK(wk_tensor_new(WK_FLOAT32, 2, NULL, &t, &err) == WK_EINVAL, "NULL shape with rank 2");

  /* ---- from_bytes ---- */
  {
    int16_t src[6] = {1, -2, 3, -4, 5, -6};
    CHECK(wk_tensor_from_bytes(WK_INT16, 2, shape, src, sizeof src, &t, &err) == WK_OK,
          "from_bytes");
    src[0] = 99;
    CHECK(wk_tensor_get_i64(t, 0, &i64, &err) == WK_OK && i64 == 1, "from_bytes copies");
    CHECK(wk_tensor_get_i64(t, 5, &i64, &err) == WK_OK && i64 == -6, "last element");
    wk_tensor_release(t);
    CHECK(wk_tensor_from_bytes(WK_INT16, 2, shape, src, 10, &t, &err) == WK_ESHAPE &&
          strstr(err.message, "10 bytes") != NULL, "from_bytes with a wrong size");
  }

  /* ---- external storage, views and copy-on-write ---- */
  {
    float buf[6] = {0, 1, 2, 3, 4, 5};
    void *p;
    int64_t flat[1] = {6};
    released = 0;
    CHECK(wk_tensor_wrap(WK_FLOAT32, 2, shape, buf, 20, on_release, &ctx, &t, &err) == WK_ESHAPE &&
          released == 0, "wrap with a wrong size fails without calling release");
    CHECK(wk_tensor_wrap(WK_FLOAT32, 2, shape, buf, sizeof buf, on_release, &ctx, &t, &err) == WK_OK,
          "wrap");
    CHECK(wk_tensor_storage_kind(t) == WK_STORAGE_EXTERNAL && wk_tensor_is_readonly(t) &&
          wk_tensor_data(t) == (const void *)buf, "external, read-only, zero-copy");
    CHECK(wk_tensor_select(t, 1, &v, &err) == WK_OK && wk_tensor_rank(v) == 1 &&
          wk_tensor_shape(v)[0] == 3 && wk_tensor_storage_kind(v) == WK_STORAGE_VIEW &&
          wk_tensor_is_readonly(v) && wk_tensor_data(v) == (const void *)(buf + 3),
          "select gives a read-only view at the right offset");
    CHECK(wk_tensor_reshape(t, 1, flat, &w, &err) == WK_OK && wk_tensor_data(w) == (const void *)buf,
          "reshape view");
    wk_tensor_release(t); /* views keep the storage alive */
    CHECK(released == 0, "release callback waits for the last view");
    CHECK(wk_tensor_set_f64(v, 0, 42.0, &err) == WK_OK, "write to a read-only view");
    CHECK(buf[3] == 3.0f, "copy-on-write leaves the external buffer untouched");
    CHECK(wk_tensor_get_f64(v, 0, &d, &err) == WK_OK && d == 42.0, "the view sees its write");
    CHECK(wk_tensor_storage_kind(v) == WK_STORAGE_OWNED && !wk_tensor_is_readonly(v),
          "after COW the view owns its copy");
    CHECK(wk_tensor_get_f64(w, 3, &d, &err) == WK_OK && d == 3.0, "other views keep the original");
    CHECK(wk_tensor_get_f64(v, 2, &d, &err) == WK_OK && d == 5.0, "copied window is the view's own");
    CHECK(wk_tensor_mutable_data(w, &p, &err) == WK_OK && p != (void *)buf && released == 1 &&
          ctx == 1, "last COW releases the external buffer once");
    wk_tensor_release(v);
    wk_tensor_release(w);
    CHECK(released == 1, "release called exactly once");
  }
  {
    float buf[2] = {1, 2};
    int64_t s2[1] = {2};
    released = 0;
    CHECK(wk_tensor_wrap(WK_FLOAT32, 1, s2, buf, sizeof buf, NULL, NULL, &t, &err) == WK_OK,
          "wrap without a release callback");
    wk_tensor_release(t);
    CHECK(wk_tensor_wrap(WK_FLOAT32, 1, s2, buf, sizeof buf, on_release, &ctx, &t, &err) == WK_OK &&
          wk_tensor_reshape(t, 1, s2, &v, &err) == WK_OK, "wrap + view");
    wk_tensor_release(v);
    CHECK(released == 0, "view released first");
    wk_tensor_release(t);
    CHECK(released == 1, "last release calls the callback");
    CHECK(wk_tensor_wrap(WK_FLOAT32, 1, s2, NULL, 8, NULL, NULL, &t, &err) == WK_EINVAL,
          "wrap of NULL data");
  }

  /* ---- views of owned storage share writes ---- */
  CHECK(wk_tensor_new(WK_INT32, 2, shape, &t, &err) == WK_OK && wk_tensor_select(t, 1, &v, &err) == WK_OK,
        "select on owned");
  CHECK(wk_tensor_set_i64(v, 2, 7, &err) == WK_OK && wk_tensor_get_i64(t, 5, &i64, &err) == WK_OK &&
        i64 == 7, "a write through a view is seen by the parent");
  CHECK(wk_tensor_storage_kind(v) == WK_STORAGE_VIEW && !wk_tensor_is_readonly(v), "writable view");
  wk_tensor_release(t);
  CHECK(wk_tensor_get_i64(v, 2, &i64, &err) == WK_OK && i64 == 7, "view outlives its parent");
  wk_tensor_release(v);

  /* ---- element access and range checks ---- */
  {
    int64_t s1[1] = {4};
    CHECK(wk_tensor_new(WK_INT8, 1, s1, &t, &err) == WK_OK, "int8 tensor");
    CHECK(wk_tensor_set_i64(t, 0, 127, &err) == WK_OK && wk_tensor_set_i64(t, 1, -128, &err) == WK_OK,
          "int8 extremes");
    CHECK(wk_tensor_set_i64(t, 0, 128, &err) == WK_EINVAL && strstr(err.message, "128") != NULL,
          "int8 128 fails");
    CHECK(wk_tensor_get_i64(t, 0, &i64, &err) == WK_OK && i64 == 127, "failed set leaves the value");
    CHECK(wk_tensor_set_f64(t, 2, -2.9, &err) == WK_OK && wk_tensor_get_i64(t, 2, &i64, &err) == WK_OK &&
          i64 == -2, "set_f64 truncates toward zero");
    CHECK(wk_tensor_set_f64(t, 2, NAN, &err) == WK_EINVAL, "NaN into int8 fails");
    CHECK(wk_tensor_set_f64(t, 2, -129.0, &err) == WK_EINVAL, "-129.0 into int8 fails");
    CHECK(wk_tensor_set_i64(t, 4, 0, &err) == WK_EINVAL && strstr(err.message, "(4,)") != NULL,
          "index 4 out of range for (4,)");
    CHECK(wk_tensor_set_i64(t, -1, 0, &err) == WK_EINVAL, "negative index");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_UINT8, 1, s1, &t, &err) == WK_OK, "uint8");
    CHECK(wk_tensor_set_i64(t, 0, -1, &err) == WK_EINVAL && wk_tensor_set_i64(t, 0, 256, &err) == WK_EINVAL &&
          wk_tensor_set_i64(t, 0, 255, &err) == WK_OK, "uint8 range");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_UINT64, 1, s1, &t, &err) == WK_OK, "uint64");
    CHECK(wk_tensor_set_f64(t, 0, 18446744073709549568.0, &err) == WK_OK &&
          wk_tensor_get_i64(t, 0, &i64, &err) == WK_EINVAL, "uint64 above INT64_MAX does not fit int64");
    CHECK(wk_tensor_get_f64(t, 0, &d, &err) == WK_OK && d == 18446744073709549568.0, "but reads as double");
    CHECK(wk_tensor_set_f64(t, 0, 18446744073709551616.0, &err) == WK_EINVAL, "2^64 into uint64 fails");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_INT32, 1, s1, &t, &err) == WK_OK, "int32");
    CHECK(wk_tensor_set_i64(t, 0, INT64_C(2147483648), &err) == WK_EINVAL, "int32 overflow on set");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_BOOL, 1, s1, &t, &err) == WK_OK, "bool");
    CHECK(wk_tensor_set_i64(t, 0, 5, &err) == WK_OK && wk_tensor_get_i64(t, 0, &i64, &err) == WK_OK &&
          i64 == 1, "bool stores != 0");
    CHECK(wk_tensor_set_f64(t, 1, NAN, &err) == WK_OK && wk_tensor_get_f64(t, 1, &d, &err) == WK_OK &&
          d == 1.0, "NaN is true");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_FLOAT16, 1, s1, &t, &err) == WK_OK, "float16");
    CHECK(wk_tensor_set_f64(t, 0, 65519.99, &err) == WK_OK && wk_tensor_get_f64(t, 0, &d, &err) == WK_OK &&
          d == 65504.0, "float16 set rounds to nearest");
    CHECK(wk_tensor_set_f64(t, 1, 1e6, &err) == WK_OK && wk_tensor_get_f64(t, 1, &d, &err) == WK_OK &&
          isinf(d), "float16 overflow is inf, not an error");
    CHECK(wk_tensor_set_i64(t, 2, 2049, &err) == WK_OK && wk_tensor_get_f64(t, 2, &d, &err) == WK_OK &&
          d == 2048.0, "float16 from int64 ties to even");
    CHECK(wk_tensor_get_i64(t, 1, &i64, &err) == WK_EINVAL, "inf does not fit int64");
    wk_tensor_release(t);

    CHECK(wk_tensor_new(WK_FLOAT32, 1, s1, &t, &err) == WK_OK, "float32");
    CHECK(wk_tensor_set_i64(t, 0, INT64_C(16777217), &err) == WK_OK && wk_tensor_get_f64(t, 0, &d, &err) == WK_OK &&
          d == 16777216.0, "float32 from 2^24+1 ties to even");
    CHECK(wk_tensor_set_i64(t, 1, (INT64_C(1) << 53) + 1 + (INT64_C(1) << 29), &err) == WK_OK &&
          wk_tensor_get_f64(t, 1, &d, &err) == WK_OK && d == ldexp(1.0, 53) + ldexp(1.0, 30),
          "float32 from a 54-bit int rounds once");
    CHECK(wk_tensor_set_f64(t, 2, 1e300, &err) == WK_OK && wk_tensor_get_f64(t, 2, &d, &err) == WK_OK &&
          isinf(d), "float32 overflow is inf");
    CHECK(wk_tensor_set_f64(t, 3, -2.7, &err) == WK_OK && wk_tensor_get_i64(t, 3, &i64, &err) == WK_OK &&
          i64 == -2, "get_i64 truncates floats");
    wk_tensor_release(t);
  }
  (void)u;
  return wk_test_done();
}
