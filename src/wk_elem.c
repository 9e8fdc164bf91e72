/*
** wk_elem.c — loads, stores and conversions of single elements, and binary-op dtype
** promotion. Everything here works on unaligned addresses (memcpy in and out).
*/
#include <math.h>
#include <string.h>

#include "wk_internal.h"

#define TWO63 9223372036854775808.0  /* 2^63 */
#define TWO64 18446744073709551616.0 /* 2^64 */

double wk__load_f64(wk_dtype dtype, const void *p) {
  switch (dtype) {
    case WK_BOOL: case WK_UINT8: { uint8_t v; memcpy(&v, p, 1); return v; }
    case WK_INT8: { int8_t v; memcpy(&v, p, 1); return v; }
    case WK_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
    case WK_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case WK_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
    case WK_UINT32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case WK_INT64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case WK_UINT64: { uint64_t v; memcpy(&v, p, 8); return (double)v; }
    case WK_FLOAT16: { uint16_t v; memcpy(&v, p, 2); return wk_f16_to_f32(v); }
    case WK_BFLOAT16: { uint16_t v; memcpy(&v, p, 2); return wk_bf16_to_f32(v); }
    case WK_FLOAT32: { float v; memcpy(&v, p, 4); return v; }
    case WK_FLOAT64: { double v; memcpy(&v, p, 8); return v; }
    default: return 0;
  }
}

int wk__load_i64(wk_dtype dtype, const void *p, int64_t *out) {
  switch (dtype) {
    case WK_INT64: memcpy(out, p, 8); return 1;
    case WK_UINT64: {
      uint64_t v;
      memcpy(&v, p, 8);
      if (v > (uint64_t)INT64_MAX) return 0;
      *out = (int64_t)v;
      return 1;
    }
    case WK_FLOAT16: case WK_BFLOAT16: case WK_FLOAT32: case WK_FLOAT64: {
      double d = wk__load_f64(dtype, p);
      if (!(d >= -TWO63 && d < TWO63)) return 0; /* NaN, inf, out of range */
      *out = (int64_t)d; /* truncates toward zero */
      return 1;
    }
    default:
      *out = (int64_t)wk__load_f64(dtype, p); /* exact for the narrow integer types */
      return 1;
  }
}

/*
** An integer as a double that rounds correctly again: values of more than 53 bits are cut
** to 53 bits with the dropped bits folded into the lowest kept bit ("round to odd"), which
** makes the later rounding to float32 / binary16 / bfloat16 (all <= 24 bits) exact-once.
*/
static double u64_to_f64_odd(uint64_t u) {
  int s = 0;
  if (u < (UINT64_C(1) << 53)) return (double)u;
  while ((u >> s) >= (UINT64_C(1) << 53)) s++;
  return ldexp((double)((u >> s) | ((u & ((UINT64_C(1) << s) - 1)) != 0)), s);
}

static int store_float_u(wk_dtype dtype, void *p, int negative, uint64_t mag) {
  double d;
  if (dtype == WK_FLOAT64) {
    d = (double)mag; /* one correct rounding */
    if (negative) d = -d;
    return wk__store_f64(dtype, p, d);
  }
  d = u64_to_f64_odd(mag);
  return wk__store_f64(dtype, p, negative ? -d : d);
}

int wk__store_i64(wk_dtype dtype, void *p, int64_t v) {
  switch (dtype) {
    case WK_BOOL: { uint8_t b = v != 0; memcpy(p, &b, 1); return 1; }
    case WK_INT8: { int8_t x; if (v < INT8_MIN || v > INT8_MAX) return 0; x = (int8_t)v; memcpy(p, &x, 1); return 1; }
    case WK_UINT8: { uint8_t x; if (v < 0 || v > UINT8_MAX) return 0; x = (uint8_t)v; memcpy(p, &x, 1); return 1; }
    case WK_INT16: { int16_t x; if (v < INT16_MIN || v > INT16_MAX) return 0; x = (int16_t)v; memcpy(p, &x, 2); return 1; }
    case WK_UINT16: { uint16_t x; if (v < 0 || v > UINT16_MAX) return 0; x = (uint16_t)v; memcpy(p, &x, 2); return 1; }
    case WK_INT32: { int32_t x; if (v < INT32_MIN || v > INT32_MAX) return 0; x = (int32_t)v; memcpy(p, &x, 4); return 1; }
    case WK_UINT32: { uint32_t x; if (v < 0 || v > (int64_t)UINT32_MAX) return 0; x = (uint32_t)v; memcpy(p, &x, 4); return 1; }
    case WK_INT64: memcpy(p, &v, 8); return 1;
    case WK_UINT64: { uint64_t x; if (v < 0) return 0; x = (uint64_t)v; memcpy(p, &x, 8); return 1; }
    case WK_FLOAT16: case WK_BFLOAT16: case WK_FLOAT32: case WK_FLOAT64:
      return store_float_u(dtype, p, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    default: return 0;
  }
}

int wk__store_u64(wk_dtype dtype, void *p, uint64_t v) {
  if (dtype == WK_UINT64) { memcpy(p, &v, 8); return 1; }
  if (wk_dtype_is_float(dtype)) return store_float_u(dtype, p, 0, v);
  if (dtype == WK_BOOL) return wk__store_i64(dtype, p, v != 0);
  if (v > (uint64_t)INT64_MAX) return 0;
  return wk__store_i64(dtype, p, (int64_t)v);
}

int wk__store_f64(wk_dtype dtype, void *p, double v) {
  switch (dtype) {
    case WK_FLOAT64: memcpy(p, &v, 8); return 1;
    case WK_FLOAT32: { float f = wk__f64_to_f32(v); memcpy(p, &f, 4); return 1; }
    case WK_FLOAT16: { uint16_t h = wk__f64_to_f16(v); memcpy(p, &h, 2); return 1; }
    case WK_BFLOAT16: { uint16_t h = wk__f64_to_bf16(v); memcpy(p, &h, 2); return 1; }
    case WK_BOOL: { uint8_t b = v != 0; memcpy(p, &b, 1); return 1; } /* NaN != 0 */
    case WK_UINT64: {
      double t = trunc(v);
      if (!(t >= 0 && t < TWO64)) return 0;
      return wk__store_u64(dtype, p, (uint64_t)t);
    }
    default: {
      double t = trunc(v);
      if (!(t >= -TWO63 && t < TWO63)) return 0; /* also NaN and inf */
      return wk__store_i64(dtype, p, (int64_t)t);
    }
  }
}

int wk__convert(wk_dtype dst_dtype, void *dst, wk_dtype src_dtype, const void *src) {
  if (wk_dtype_is_float(src_dtype))
    return wk__store_f64(dst_dtype, dst, wk__load_f64(src_dtype, src));
  if (src_dtype == WK_UINT64) {
    uint64_t u;
    memcpy(&u, src, 8);
    return wk__store_u64(dst_dtype, dst, u);
  } else {
    int64_t v = 0;
    wk__load_i64(src_dtype, src, &v); /* cannot fail for bool and signed/narrow integers */
    return wk__store_i64(dst_dtype, dst, v);
  }
}

/*
** Binary-op promotion. Floats: any float beats any integer; float64 > float32 > the half
** types; float16 with bfloat16 gives float32 (neither holds the other). Integers follow
** NumPy: bool is the narrowest; same signedness -> the wider; signed with unsigned -> the
** narrowest signed type holding both, and int64 (or any signed) with uint64 -> float64.
*/
wk_dtype wk__promote(wk_dtype a, wk_dtype b) {
  if (a == b) return a;
  if (wk_dtype_is_float(a) || wk_dtype_is_float(b)) {
    if (!wk_dtype_is_float(a)) return b;
    if (!wk_dtype_is_float(b)) return a;
    if (a == WK_FLOAT64 || b == WK_FLOAT64) return WK_FLOAT64;
    return WK_FLOAT32; /* float32 with a half type, or float16 with bfloat16 */
  }
  if (a == WK_BOOL) return b;
  if (b == WK_BOOL) return a;
  if (wk__dtype_is_signed_int(a) == wk__dtype_is_signed_int(b))
    return wk_dtype_size(a) >= wk_dtype_size(b) ? a : b;
  {
    wk_dtype s = wk__dtype_is_signed_int(a) ? a : b;
    wk_dtype u = wk__dtype_is_signed_int(a) ? b : a;
    size_t need = wk_dtype_size(u) * 2;
    if (wk_dtype_size(s) > wk_dtype_size(u)) return s;
    switch (need) {
      case 2: return WK_INT16;
      case 4: return WK_INT32;
      case 8: return WK_INT64;
      default: return WK_FLOAT64;
    }
  }
}
