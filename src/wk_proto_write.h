/*
** wk_proto_write.h — protobuf wire-format encoding into a growable byte buffer (private, prefix
** wk__pbw_). The decoder is wk_proto.c; this file only writes.
**
** WIRE FORMAT (facts of the protobuf encoding). A field is a tag, varint(field << 3 | wire
** type), then its value: wire type 0 a varint (7 bits a byte, least significant group first, high
** bit set on every byte but the last; a negative int32/int64 is its 64-bit two's complement, ten
** bytes), 2 a varint length then that many bytes (strings, bytes, embedded messages), 5 four
** bytes little-endian (fixed32). proto3 writers omit a scalar field holding its default (0,
** false, the empty string); the callers decide (the wk__pbw_*_field helpers below omit defaults,
** the bare encoders never do).
**
** ERRORS ARE STICKY. A buffer that fails to grow (out of memory, a size past SIZE_MAX) sets
** `failed` and ignores every later write; the caller checks it once at the end (wk__pbw_status).
** OWNERSHIP. The buffer owns `data` (malloc'd); wk__pbw_free releases it.
*/
#ifndef WK_PROTO_WRITE_H
#define WK_PROTO_WRITE_H

#include "wk_internal.h"

typedef struct wk__pbw_buf {
  unsigned char *data; /* NULL until the first byte */
  size_t size, cap;
  int failed;          /* a growth failed: the contents are incomplete */
} wk__pbw_buf;

enum { WK__PBW_VARINT = 0, WK__PBW_LEN = 2, WK__PBW_FIXED32 = 5 };

void wk__pbw_init(wk__pbw_buf *b);
void wk__pbw_free(wk__pbw_buf *b);
/* Empties the buffer (keeps its memory and a failure). */
void wk__pbw_reset(wk__pbw_buf *b);
/* WK_OK, or WK_ENOMEM naming `ctx` when a write failed. */
wk_status wk__pbw_status(const wk__pbw_buf *b, const char *ctx, wk_error *err);

/* ---- bare encoders ---- */
void wk__pbw_raw(wk__pbw_buf *b, const void *data, size_t n);
void wk__pbw_varint(wk__pbw_buf *b, uint64_t v);
void wk__pbw_fixed32(wk__pbw_buf *b, uint32_t v);        /* little-endian */
void wk__pbw_tag(wk__pbw_buf *b, uint32_t field, int wire_type);
/* Bytes a varint of v takes (1 .. 10). */
size_t wk__pbw_varint_size(uint64_t v);

/* ---- fields, proto3 defaults omitted ---- */
/* int32 / int64 / enum / bool: omitted when 0. */
void wk__pbw_int_field(wk__pbw_buf *b, uint32_t field, int64_t v);
/* string / bytes: omitted when empty. */
void wk__pbw_bytes_field(wk__pbw_buf *b, uint32_t field, const void *data, size_t n);
/* fixed32: omitted when 0. */
void wk__pbw_fixed32_field(wk__pbw_buf *b, uint32_t field, uint32_t v);

/*
** Embedded messages: `mark = wk__pbw_open(b)`, write the message's fields, then
** wk__pbw_close(b, field, mark) puts the tag and the length in front of them. Always written
** (an empty message too: a set submessage field is present in proto3). Nestable.
*/
size_t wk__pbw_open(const wk__pbw_buf *b);
void wk__pbw_close(wk__pbw_buf *b, uint32_t field, size_t mark);

#endif
