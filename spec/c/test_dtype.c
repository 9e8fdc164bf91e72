/*
** test_dtype.c — the dtype table and the float16 / bfloat16 conversions. References are
** computed here independently (ldexp decoding, nearest-value search), never copied from
** the implementation.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weightkit.h"
#include "wk_test.h"

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary16 value by the textbook formula. */
static double ref_half(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 31) return m ? NAN : (s ? -INFINITY : INFINITY);
  v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

/* Nearest binary16 by binary search over all positive finite values; ties to even. */
static uint16_t ref_to_half(float f) {
  double x = fabs((double)f);
  uint16_t sign = signbit(f) ? 0x8000 : 0, lo = 0, hi = 0x7bff;
  if (isnan(f)) return 0x7e00;
  if (x >= 65520.0) return sign | 0x7c00; /* 65504 + half an ulp (32) and up */
  if (x >= 65504.0) return sign | 0x7bff;
  while (hi - lo > 1) { /* invariant: ref_half(lo) <= x < ref_half(hi) */
    uint16_t mid = (uint16_t)((lo + hi) / 2);
    if (ref_half(mid) <= x) lo = mid; else hi = mid;
  }
  {
    double dl = x - ref_half(lo), dh = ref_half(hi) - x;
    uint16_t r = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
    return sign | r;
  }
}

/* Nearest bfloat16: the two candidates around x are its truncation and the next value. */
static uint16_t ref_to_bf16(float f) {
  uint32_t u = fbits(f);
  uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
  double x = f, dl = fabs(x - (double)bitsf((uint32_t)lo << 16));
  double dh = fabs((double)bitsf((uint32_t)hi << 16) - x);
  if ((u & 0xffff) == 0) return lo;
  if (((uint32_t)hi << 16 & 0x7fffffff) == 0x7f800000) /* next is inf: compare to 2^128 */
    dh = ldexp(1.0, 128) - fabs(x);
  return dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
}

static uint32_t rnd32(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(*s >> 32);
}

int main(void) {
  int i, ok;
  wk_dtype d;
  uint64_t seed = 12345;

  /* ---- table ---- */
  CHECK(wk_dtype_size(WK_BOOL) == 1 && wk_dtype_size(WK_INT16) == 2 && wk_dtype_size(WK_UINT32) == 4
        && wk_dtype_size(WK_INT64) == 8 && wk_dtype_size(WK_FLOAT16) == 2 &&
        wk_dtype_size(WK_BFLOAT16) == 2 && wk_dtype_size(WK_FLOAT32) == 4 &&
        wk_dtype_size(WK_FLOAT64) == 8, "dtype sizes");
  CHECK(strcmp(wk_dtype_name(WK_BFLOAT16), "bfloat16") == 0 &&
        strcmp(wk_dtype_name(WK_UINT64), "uint64") == 0, "dtype names");
  ok = 1;
  for (i = 0; i < WK_DTYPE_COUNT; i++)
    ok &= wk_dtype_from_name(wk_dtype_name((wk_dtype)i), &d) && d == (wk_dtype)i;
  CHECK(ok, "from_name(name(d)) == d for every dtype");
  CHECK(!wk_dtype_from_name("float", &d) && !wk_dtype_from_name("Float32", &d) &&
        !wk_dtype_from_name(NULL, &d), "unknown names are rejected");
  CHECK(wk_dtype_is_float(WK_FLOAT16) && wk_dtype_is_float(WK_BFLOAT16) &&
        !wk_dtype_is_float(WK_INT64) && !wk_dtype_is_float(WK_BOOL), "is_float");
  CHECK(wk_dtype_size((wk_dtype)99) == 0 && wk_dtype_name((wk_dtype)99) != NULL, "invalid dtype");

  /* ---- float16 spot values ---- */
  CHECK(wk_f32_to_f16(65504.0f) == 0x7bff, "f16: 65504 is the largest finite");
  CHECK(wk_f32_to_f16(65519.99f) == 0x7bff, "f16: 65519.99 rounds down to 65504");
  CHECK(wk_f32_to_f16(65520.0f) == 0x7c00, "f16: 65520 overflows to inf (tie to even)");
  CHECK(wk_f32_to_f16(6.1035156e-05f) == 0x0400, "f16: 2^-14 smallest normal");
  CHECK(wk_f32_to_f16(5.96e-08f) == 0x0001, "f16: 5.96e-08 smallest subnormal");
  CHECK(wk_f16_to_f32(0x0001) == ldexpf(1.0f, -24), "f16: subnormal decodes exactly");
  CHECK(wk_f16_to_f32(0x03ff) == ldexpf(1023.0f, -24), "f16: largest subnormal");
  CHECK(wk_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000, "f16: 2^-25 ties to even zero");
  CHECK(wk_f32_to_f16(ldexpf(3.0f, -25)) == 0x0002, "f16: 3*2^-25 ties to even 2*2^-24");
  CHECK(wk_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00, "f16: 1+2^-11 ties down to 1");
  CHECK(wk_f32_to_f16(1.0f + 3 * ldexpf(1.0f, -11)) == 0x3c02, "f16: 1+3*2^-11 ties up");
  CHECK(wk_f32_to_f16(2049.0f) == 0x6800 && wk_f32_to_f16(2051.0f) == 0x6802,
        "f16: 2049 -> 2048, 2051 -> 2052");
  CHECK(wk_f32_to_f16(INFINITY) == 0x7c00 && wk_f32_to_f16(-INFINITY) == 0xfc00, "f16: inf");
  CHECK(wk_f32_to_f16(-0.0f) == 0x8000 && wk_f32_to_f16(0.0f) == 0, "f16: signed zero");
  CHECK(signbit(wk_f16_to_f32(0x8000)) && wk_f16_to_f32(0x8000) == 0.0f, "f16: -0 decodes");
  {
    uint16_t h = wk_f32_to_f16(NAN), sn = wk_f32_to_f16(bitsf(0x7f800001u));
    float back = wk_f16_to_f32(0x7c01);
    CHECK((h & 0x7c00) == 0x7c00 && (h & 0x3ff) && (h & 0x200), "f16: NaN stays a quiet NaN");
    CHECK((sn & 0x7c00) == 0x7c00 && (sn & 0x200), "f16: signalling NaN gets the quiet bit");
    CHECK(isnan(back) && (fbits(back) & 0x400000u), "f16 -> f32: NaN is quiet");
    CHECK(wk_f32_to_f16(-NAN) & 0x8000, "f16: NaN keeps its sign");
  }
  CHECK(wk_f16_to_f32(0x7c00) == INFINITY && wk_f16_to_f32(0xfc00) == -INFINITY, "f16: inf decodes");

  /* ---- float16: all 65536 patterns against the formula, and the round trip ---- */
  ok = 1;
  for (i = 0; i < 65536; i++) {
    double r = ref_half((uint16_t)i);
    float f = wk_f16_to_f32((uint16_t)i);
    if (isnan(r)) { ok &= isnan(f) != 0; continue; }
    ok &= (double)f == r && !signbit(f) == !signbit(r) && wk_f32_to_f16(f) == (uint16_t)i;
  }
  CHECK(ok, "f16: every pattern decodes exactly and round-trips");

  /* ---- float32 -> float16 against nearest-value search on random patterns ---- */
  ok = 1;
  for (i = 0; i < 300000; i++) {
    uint32_t u = rnd32(&seed);
    float f;
    u = (u & 0x807fffffu) | ((uint32_t)(98 + rnd32(&seed) % 48) << 23); /* around f16's range */
    if (i % 8 == 0) u = rnd32(&seed);                                   /* anything */
    f = bitsf(u);
    if (isnan(f)) continue;
    if (wk_f32_to_f16(f) != ref_to_half(f)) { ok = 0; printf("# f16 mismatch %08x\n", u); break; }
  }
  CHECK(ok, "f32 -> f16 equals the nearest-even binary16 on 300000 random floats");
  ok = 1; /* exact ties just around every binary16 value */
  for (i = 0; i < 0x7bff; i++) {
    double mid = (ref_half((uint16_t)i) + ref_half((uint16_t)(i + 1))) / 2;
    float f = (float)mid; /* exact: 12 bits suffice */
    ok &= wk_f32_to_f16(f) == ref_to_half(f);
    ok &= wk_f32_to_f16(nextafterf(f, 0)) == (uint16_t)i;
    ok &= wk_f32_to_f16(nextafterf(f, INFINITY)) == (uint16_t)(i + 1);
  }
  CHECK(ok, "f32 -> f16 at and beside every midpoint");

  /* ---- bfloat16 ---- */
  CHECK(wk_f32_to_bf16(1.0f) == 0x3f80 && wk_bf16_to_f32(0x3f80) == 1.0f, "bf16: 1.0");
  CHECK(wk_f32_to_bf16(1.0f + ldexpf(1.0f, -8)) == 0x3f80, "bf16: tie to even down");
  CHECK(wk_f32_to_bf16(1.0f + 3 * ldexpf(1.0f, -8)) == 0x3f82, "bf16: tie to even up");
  CHECK(wk_f32_to_bf16(FLT_MAX) == 0x7f80, "bf16: FLT_MAX rounds to inf");
  CHECK(wk_f32_to_bf16(bitsf(0x7f7f0000u)) == 0x7f7f, "bf16: largest finite kept");
  CHECK(wk_f32_to_bf16(-INFINITY) == 0xff80 && wk_f32_to_bf16(-0.0f) == 0x8000, "bf16: -inf, -0");
  CHECK(wk_bf16_to_f32(0x0001) == ldexpf(1.0f, -133), "bf16: smallest subnormal");
  {
    uint16_t h = wk_f32_to_bf16(bitsf(0x7f800001u));
    CHECK((h & 0x7f80) == 0x7f80 && (h & 0x40), "bf16: NaN stays a quiet NaN");
    CHECK(isnan(wk_bf16_to_f32(0x7f81)) && (fbits(wk_bf16_to_f32(0x7f81)) & 0x400000u),
          "bf16 -> f32: NaN is quiet");
  }
  ok = 1;
  for (i = 0; i < 65536; i++) {
    float f = wk_bf16_to_f32((uint16_t)i);
    if ((i & 0x7f80) == 0x7f80 && (i & 0x7f)) continue;
    ok &= fbits(f) == ((uint32_t)i << 16) && wk_f32_to_bf16(f) == (uint16_t)i;
  }
  CHECK(ok, "bf16: every non-NaN pattern decodes by shifting and round-trips");
  ok = 1;
  for (i = 0; i < 300000; i++) {
    float f = bitsf(rnd32(&seed));
    if (isnan(f) || isinf(f)) continue;
    if (wk_f32_to_bf16(f) != ref_to_bf16(f)) { ok = 0; printf("# bf16 mismatch %08x\n", fbits(f)); break; }
  }
  CHECK(ok, "f32 -> bf16 equals the nearest-even bfloat16 on 300000 random floats");

  CHECK(strcmp(wk_version(), WK_VERSION_STRING) == 0, "version");
  CHECK(strcmp(wk_status_string(WK_OK), "ok") == 0 &&
        strcmp(wk_status_string(WK_ENOMEM), "out of memory") == 0, "status strings");
  return wk_test_done();
}
