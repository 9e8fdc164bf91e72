/*
** wk_proto.h — protobuf wire-format DECODING (private, prefix wk__): varints and field iteration
** over a bounded buffer. The encoders live apart (wk_proto_write.c).
**
** WIRE FORMAT FACTS. A message is a sequence of fields; each starts with a varint tag
** (field number << 3 | wire type). Wire types: 0 varint (at most 10 bytes; int32 fields store
** negative values sign-extended to 64 bits), 1 fixed64 (8 bytes LE), 2 length-delimited (a
** varint length, then that many bytes: strings, bytes, sub-messages, packed repeated
** scalars), 5 fixed32 (4 bytes LE). 3 and 4 open and close deprecated groups: refused here
** (no message this core reads uses them). Field number 0 is invalid. Unknown fields of the
** other types are skipped by the caller simply not looking at them.
**
** Nothing here allocates; every pointer handed out points into the caller's buffer.
*/
#ifndef WK_PROTO_H
#define WK_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Reads a varint at *p (before end) into *out and advances *p. 1 on success; 0 when the varint
** is truncated or longer than its type allows (*p then unspecified). The 32-bit form refuses
** values above 0xFFFFFFFF (LevelDB's varint32, at most 5 bytes). */
int wk__pb_varint64(const unsigned char **p, const unsigned char *end, uint64_t *out);
int wk__pb_varint32(const unsigned char **p, const unsigned char *end, uint32_t *out);

/* A cursor over one message's bytes [p, end). */
typedef struct wk__pb {
  const unsigned char *p;
  const unsigned char *end;
} wk__pb;

/* One decoded field. For wire type 0 and 1 and 5 `value` holds the number (fixed types
** little-endian decoded); for wire type 2 `data`/`len` is the payload inside the message. */
typedef struct wk__pb_field {
  uint32_t number;
  int wire;
  uint64_t value;
  const unsigned char *data;
  size_t len;
} wk__pb_field;

static inline wk__pb wk__pb_init(const void *data, size_t size) {
  wk__pb r;
  r.p = (const unsigned char *)data;
  r.end = r.p + size;
  return r;
}

/* The next field: 1 when one was read, 0 at the end of the message, -1 on malformed input
** with *why set to a static description ("truncated varint", "group wire type", ...). */
int wk__pb_next(wk__pb *r, wk__pb_field *field, const char **why);

/* A varint field's value as int32 / int64 the way protobuf's int32 / int64 read it; 0 when a
** value stored for an int32 field is outside int32 range (a hostile sign extension). */
int wk__pb_as_int32(uint64_t value, int32_t *out);
static inline int64_t wk__pb_as_int64(uint64_t value) { return (int64_t)value; }

#endif
