/*
** wk_proto_write.c — protobuf wire-format encoding into a growable buffer (see wk_proto_write.h).
**
** The buffer doubles when full; every size is checked before it is computed, so a failure is
** a sticky flag, never a wrapped size. No global state.
*/
#include <stdlib.h>
#include <string.h>

#include "wk_proto_write.h"

void wk__pbw_init(wk__pbw_buf *b) {
  b->data = NULL;
  b->size = b->cap = 0;
  b->failed = 0;
}

void wk__pbw_free(wk__pbw_buf *b) {
  free(b->data);
  wk__pbw_init(b);
}

void wk__pbw_reset(wk__pbw_buf *b) {
  b->size = 0;
}

wk_status wk__pbw_status(const wk__pbw_buf *b, const char *ctx, wk_error *err) {
  if (!b->failed) return WK_OK;
  return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
}

/* Makes room for n more bytes; 0 (and the buffer failed) when it cannot. */
static int reserve(wk__pbw_buf *b, size_t n) {
  size_t need, cap;
  unsigned char *p;
  if (b->failed) return 0;
  if (!wk__add_size(b->size, n, &need)) {
    b->failed = 1;
    return 0;
  }
  if (need <= b->cap) return 1;
  cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > ((size_t)-1) / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = (unsigned char *)realloc(b->data, cap);
  if (p == NULL) {
    b->failed = 1;
    return 0;
  }
  b->data = p;
  b->cap = cap;
  return 1;
}

void wk__pbw_raw(wk__pbw_buf *b, const void *data, size_t n) {
  if (n == 0 || !reserve(b, n)) return;
  memcpy(b->data + b->size, data, n);
  b->size += n;
}

size_t wk__pbw_varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Encodes v at p (room for 10 bytes); returns the bytes used. */
static size_t put_varint(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

void wk__pbw_varint(wk__pbw_buf *b, uint64_t v) {
  unsigned char tmp[10];
  wk__pbw_raw(b, tmp, put_varint(tmp, v));
}

void wk__pbw_fixed32(wk__pbw_buf *b, uint32_t v) {
  unsigned char tmp[4];
  int i;
  for (i = 0; i < 4; i++) tmp[i] = (unsigned char)(v >> (8 * i));
  wk__pbw_raw(b, tmp, 4);
}

void wk__pbw_tag(wk__pbw_buf *b, uint32_t field, int wire_type) {
  wk__pbw_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void wk__pbw_int_field(wk__pbw_buf *b, uint32_t field, int64_t v) {
  if (v == 0) return;
  wk__pbw_tag(b, field, WK__PBW_VARINT);
  wk__pbw_varint(b, (uint64_t)v); /* negative: two's complement, ten bytes */
}

void wk__pbw_bytes_field(wk__pbw_buf *b, uint32_t field, const void *data, size_t n) {
  if (n == 0) return;
  wk__pbw_tag(b, field, WK__PBW_LEN);
  wk__pbw_varint(b, (uint64_t)n);
  wk__pbw_raw(b, data, n);
}

void wk__pbw_fixed32_field(wk__pbw_buf *b, uint32_t field, uint32_t v) {
  if (v == 0) return;
  wk__pbw_tag(b, field, WK__PBW_FIXED32);
  wk__pbw_fixed32(b, v);
}

size_t wk__pbw_open(const wk__pbw_buf *b) {
  return b->size;
}

void wk__pbw_close(wk__pbw_buf *b, uint32_t field, size_t mark) {
  unsigned char head[20];
  size_t len, n;
  if (b->failed) return;
  len = b->size - mark;
  n = put_varint(head, ((uint64_t)field << 3) | WK__PBW_LEN);
  n += put_varint(head + n, (uint64_t)len);
  if (!reserve(b, n)) return;
  /* The message's bytes move up to make room for its tag and length. */
  memmove(b->data + mark + n, b->data + mark, len);
  memcpy(b->data + mark, head, n);
  b->size += n;
}
