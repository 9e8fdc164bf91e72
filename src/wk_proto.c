/*
** wk_proto.c — protobuf wire-format decoding: varints and field iteration (see wk_proto.h).
** Every read is checked against the end of the caller's buffer; nothing is allocated.
*/
#include "wk_proto.h"

int wk__pb_varint64(const unsigned char **p, const unsigned char *end, uint64_t *out) {
  const unsigned char *q = *p;
  uint64_t v = 0;
  int shift;
  for (shift = 0; shift < 70; shift += 7) {
    unsigned b;
    if (q >= end) return 0;
    b = *q++;
    /* the tenth byte holds bit 63 only */
    if (shift == 63 && b > 1) return 0;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *p = q;
      *out = v;
      return 1;
    }
  }
  return 0;
}

int wk__pb_varint32(const unsigned char **p, const unsigned char *end, uint32_t *out) {
  const unsigned char *q = *p;
  uint32_t v = 0;
  int shift;
  for (shift = 0; shift < 35; shift += 7) {
    unsigned b;
    if (q >= end) return 0;
    b = *q++;
    /* the fifth byte holds bits 28..31 only */
    if (shift == 28 && b > 0x0f) return 0;
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *p = q;
      *out = v;
      return 1;
    }
  }
  return 0;
}

static uint64_t load_le(const unsigned char *p, int n) {
  uint64_t v = 0;
  int i;
  for (i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int wk__pb_next(wk__pb *r, wk__pb_field *field, const char **why) {
  uint64_t tag, len;
  if (r->p >= r->end) return 0;
  if (!wk__pb_varint64(&r->p, r->end, &tag)) {
    *why = "truncated or overlong field tag";
    return -1;
  }
  if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
    *why = "invalid field number";
    return -1;
  }
  field->number = (uint32_t)(tag >> 3);
  field->wire = (int)(tag & 7);
  field->value = 0;
  field->data = NULL;
  field->len = 0;
  switch (field->wire) {
  case 0:
    if (!wk__pb_varint64(&r->p, r->end, &field->value)) {
      *why = "truncated or overlong varint";
      return -1;
    }
    return 1;
  case 1:
  case 5: {
    size_t n = field->wire == 1 ? 8 : 4;
    if ((size_t)(r->end - r->p) < n) {
      *why = "truncated fixed-size field";
      return -1;
    }
    field->value = load_le(r->p, (int)n);
    r->p += n;
    return 1;
  }
  case 2:
    if (!wk__pb_varint64(&r->p, r->end, &len)) {
      *why = "truncated or overlong length";
      return -1;
    }
    if (len > (uint64_t)(r->end - r->p)) {
      *why = "length-delimited field runs past the end of its message";
      return -1;
    }
    field->data = r->p;
    field->len = (size_t)len;
    r->p += len;
    return 1;
  case 3:
  case 4:
    *why = "group wire type (3/4) is not supported";
    return -1;
  default:
    *why = "invalid wire type";
    return -1;
  }
}

int wk__pb_as_int32(uint64_t value, int32_t *out) {
  int64_t v = (int64_t)value;
  if (v < INT32_MIN || v > INT32_MAX) return 0;
  *out = (int32_t)v;
  return 1;
}
