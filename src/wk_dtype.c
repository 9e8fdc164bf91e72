/*
** wk_dtype.c — the dtype table (sizes, NumPy names) and the float16 / bfloat16 / float32
** conversions.
*/
#include <string.h>

#include "wk_internal.h"

static const struct {
  const char *name;
  size_t size;
} dtypes[WK_DTYPE_COUNT] = {
  {"bool", 1},
  {"int8", 1}, {"uint8", 1}, {"int16", 2}, {"uint16", 2},
  {"int32", 4}, {"uint32", 4}, {"int64", 8}, {"uint64", 8},
  {"float16", 2}, {"bfloat16", 2}, {"float32", 4}, {"float64", 8},
};

int wk__dtype_valid(wk_dtype dtype) {
  return (unsigned)dtype < (unsigned)WK_DTYPE_COUNT;
}

size_t wk_dtype_size(wk_dtype dtype) {
  return wk__dtype_valid(dtype) ? dtypes[dtype].size : 0;
}

/* An invalid dtype gets a printable placeholder so that messages never see NULL. */
const char *wk_dtype_name(wk_dtype dtype) {
  return wk__dtype_valid(dtype) ? dtypes[dtype].name : "invalid";
}

int wk_dtype_from_name(const char *name, wk_dtype *out) {
  int i;
  if (name == NULL) return 0;
  for (i = 0; i < WK_DTYPE_COUNT; i++) {
    if (strcmp(name, dtypes[i].name) == 0) {
      if (out != NULL) *out = (wk_dtype)i;
      return 1;
    }
  }
  return 0;
}

int wk_dtype_is_float(wk_dtype dtype) {
  return dtype == WK_FLOAT16 || dtype == WK_BFLOAT16 || dtype == WK_FLOAT32 ||
         dtype == WK_FLOAT64;
}

int wk__dtype_is_signed_int(wk_dtype dtype) {
  return dtype == WK_INT8 || dtype == WK_INT16 || dtype == WK_INT32 || dtype == WK_INT64;
}

int wk__dtype_is_unsigned_int(wk_dtype dtype) {
  return dtype == WK_UINT8 || dtype == WK_UINT16 || dtype == WK_UINT32 || dtype == WK_UINT64;
}

/* {====================================================================
** Narrowing conversions
** ===================================================================== */

/*
** Rounds a double to a binary format with `mbits` stored significand bits, exponent bias
** `bias` and all-ones biased exponent `emax`, sign at bit `sbit`; returns the bit pattern.
** One correct rounding (nearest, ties to even) of the double's exact value:
**   - NaN keeps its sign and the top payload bits and gets the quiet bit (the top
**     significand bit), so it stays a NaN; inf stays inf;
**   - a finite value whose rounded magnitude reaches 2^(emax - bias) becomes inf (IEEE:
**     e.g. binary16 65520 -> inf, 65519.99 -> 65504);
**   - results below the target's normal range become subnormals, exactly rounded; values
**     at most half the smallest subnormal become (signed) zero.
** Every float32 is exactly a double, so float32 -> binary16/bfloat16 goes through here with
** one rounding too. Double subnormals (< 2^-1022) are far below all targets' ranges.
*/
static uint32_t round_f64(double value, int mbits, int bias, int emax, int sbit) {
  uint64_t x, man, q, rem, half;
  uint32_t sign, inf;
  int exp, e, shift;
  memcpy(&x, &value, sizeof x);
  sign = (uint32_t)(x >> 63) << sbit;
  exp = (int)((x >> 52) & 0x7ff);
  man = x & ((UINT64_C(1) << 52) - 1);
  inf = (uint32_t)emax << mbits;
  if (exp == 0x7ff) {
    if (man == 0) return sign | inf;
    return sign | inf | (UINT32_C(1) << (mbits - 1)) | (uint32_t)(man >> (52 - mbits));
  }
  if (exp == 0) return sign;
  e = exp - 1023 + bias; /* the target's biased exponent */
  if (e >= emax) return sign | inf;
  if (e <= 0) { /* subnormal in the target: count in units of its smallest subnormal */
    if (e < -mbits) return sign;
    man |= UINT64_C(1) << 52;
    shift = 52 - mbits + 1 - e; /* <= 53 */
  } else {
    shift = 52 - mbits;
  }
  q = man >> shift;
  rem = man & ((UINT64_C(1) << shift) - 1);
  half = UINT64_C(1) << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++; /* a carry may bump the exponent: right */
  if (e > 0) q += (uint64_t)e << mbits;
  return sign | (uint32_t)q;
}

float wk__f64_to_f32(double value) {
  uint32_t bits = round_f64(value, 23, 127, 255, 31);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t wk__f64_to_f16(double value) {
  return (uint16_t)round_f64(value, 10, 15, 31, 15);
}

uint16_t wk__f64_to_bf16(double value) {
  return (uint16_t)round_f64(value, 7, 127, 255, 15);
}

uint16_t wk_f32_to_f16(float value) {
  return wk__f64_to_f16((double)value);
}

uint16_t wk_f32_to_bf16(float value) {
  return wk__f64_to_bf16((double)value);
}

/* }==================================================================== */

/* {====================================================================
** Widening conversions (exact; NaNs get the quiet bit)
** ===================================================================== */

float wk_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  float f;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0);
  } else if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal man * 2^-24: normalize so the leading 1 is implicit */
      int e = -14;
      while (!(man & 0x400u)) { man <<= 1; e--; }
      bits = sign | ((uint32_t)(e + 127) << 23) | ((man & 0x3ffu) << 13);
    }
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

float wk_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu)) bits |= 0x400000u;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* }==================================================================== */
