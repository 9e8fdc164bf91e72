/*
** wk_h5_guard.c — checks an object's header (and the global heap behind a variable-length
** string attribute) BEFORE libhdf5 decodes it.
**
** WHY: libhdf5 1.10 trusts sizes stored in the file. Found by flipping single bits of the
** real Keras files (spec/c/test_h5_keras2.c), under ASan:
**   - H5Aexists/H5Aopen decode every attribute message of the object (H5O_attr_decode) and
**     copy the name, datatype, dataspace and data by their stored sizes, past the message;
**   - reading a vlen string, H5T__conv_vlen allocates `seq_len` bytes (the descriptor's
**     length) and H5HG_read copies the heap object's own size into it; a collection whose
**     object sizes overrun it, an index naming no object, or a free-space object of size 0
**     make libhdf5 read or write out of bounds or loop forever.
** Nothing in the public API exposes those bytes, so this file reads them from the file image
** (the mapping or the caller's memory image), following the HDF5 file format specification:
**
**   version-1 object header at base + addr (H5Oget_info): version 1, reserved, message count
**     (2), reference count (4), header size (4), 4 bytes padding; messages: type (2), size (2),
**     flags (1), reserved (3), body. Type 0x10 (continuation) = address + length of another
**     block of messages; type 0x0C = attribute; 0x15 = attribute info (dense storage).
**   attribute message v1: version, reserved, name size (2, incl. NUL), datatype size (2),
**     dataspace size (2), then name / datatype / dataspace each padded to 8, then the data;
**     v2: no padding (flags byte instead of reserved); v3: + name charset byte, no padding.
**   datatype: class in the low nibble of byte 0 (9 = variable-length), byte 1 low nibble
**     1 = string, bytes 4-7 the element size. dataspace: v1 version, rank, flags, 5 reserved,
**     dims; v2 version, rank, flags, type (0 scalar, 1 simple, 2 null), dims; dims are
**     `sizeof lengths` bytes each.
**   vlen data: per element length (4), collection address (sizeof offsets), object index (4).
**   global heap collection: "GCOL", version 1, 3 reserved, collection size (sizeof lengths),
**     then objects: index (2), refcount (2), reserved (4), size (sizeof lengths), data padded
**     to 8. Index 0 is free space; libhdf5 skips `size` bytes after its header start.
**
** The heap walk mirrors libhdf5's parse (H5HG__cache_heap_deserialize) and demands that every
** step stays inside the collection, that the object named exists and that its size equals
** the descriptor's length. What the guard cannot follow (shared or dense-stored attributes)
** is refused rather than handed to libhdf5. This is a guard, not a reader: libhdf5 still
** does all the reading.
*/
#include <string.h>

#include "wk_h5.h"

static uint64_t get_le(const unsigned char *p, unsigned n) {
  uint64_t v = 0;
  while (n-- > 0) v = (v << 8) | p[n];
  return v;
}

/* [off, off + len) inside the image? */
static int inside(const wk__h5_guard *g, uint64_t off, uint64_t len) {
  return off <= g->size && len <= g->size - off;
}

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

static wk_status bad(const char *ctx, const char *name, const char *why, wk_error *err) {
  return wk__error_set(err, WK_EFORMAT, "%s: attribute \"%s\": %s", ctx, name, why);
}

/* One descriptor: object `idx` of the collection at relative address `addr`, `len` bytes. */
static int heap_object_ok(const wk__h5_guard *g, uint64_t addr, uint64_t idx, uint64_t len) {
  unsigned ss = g->ss;
  uint64_t at, csize, pos, hdr = 8u + ss, objhdr = 8u + ss;
  int found = 0;
  if (addr > UINT64_MAX - g->base) return 0;
  at = g->base + addr;
  if (!inside(g, at, hdr) || memcmp(g->bytes + at, "GCOL", 4) != 0 || g->bytes[at + 4] != 1) return 0;
  csize = get_le(g->bytes + at + 8, ss);
  if (csize < hdr || !inside(g, at, csize)) return 0;
  for (pos = hdr; pos < csize;) {
    const unsigned char *p = g->bytes + at + pos;
    uint64_t oidx, osize, need;
    if (csize - pos < objhdr) break; /* too small for an object: free space */
    oidx = get_le(p, 2);
    osize = get_le(p + 8, ss);
    if (oidx == 0) {
      need = osize; /* free space: libhdf5 skips `size` bytes from the object's start */
      if (need < objhdr) return 0;
    } else {
      if (osize > csize) return 0;
      need = objhdr + ALIGN8(osize);
      if (oidx == idx) found = osize == len; /* the last occurrence wins, as in libhdf5 */
    }
    if (need > csize - pos) return 0;
    pos += need;
  }
  return found;
}

/* {====================================================================
** Object headers
** ===================================================================== */

/*
** Message walk over an object header: version 1 (what Keras/h5py write), or version 2
** ("OHDR": signature, version 2, flags; times when flags bit 5; attribute phase-change
** values when bit 4; chunk-0 size in 1/2/4/8 bytes by bits 0-1; messages type (1), size (2),
** flags (1), creation order (2) when flags bit 2; a 4-byte checksum ends each chunk;
** continuation chunks start with "OCHK"). Every message must lie inside its chunk;
** continuation chunks inside the file. `fn` sees each message body; a non-OK status stops.
*/
typedef wk_status (*msg_fn)(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *body,
                            uint64_t size, void *ud, const char *ctx, wk_error *err);

static wk_status header_bad(const char *ctx, const char *why, wk_error *err) {
  return wk__error_set(err, WK_EFORMAT, "%s: corrupt object header (%s)", ctx, why);
}

/* The walk over the header at relative address `addr` (g->bytes known to be non-NULL). */
static wk_status walk_header_at(const wk__h5_guard *g, uint64_t addr, msg_fn fn, void *ud, const char *ctx,
                                wk_error *err) {
  uint64_t chunks[64][2];
  int nchunks = 1, c, v2;
  uint64_t at, seen = 0, nmsgs = UINT64_MAX;
  unsigned oflags = 0;
  if (addr == HADDR_UNDEF || addr > UINT64_MAX - g->base) return header_bad(ctx, "address", err);
  at = g->base + addr;
  if (!inside(g, at, 16)) return header_bad(ctx, "outside the file", err);
  v2 = memcmp(g->bytes + at, "OHDR", 4) == 0;
  if (v2) {
    uint64_t p = at + 6, width;
    if (g->bytes[at + 4] != 2) return header_bad(ctx, "version", err);
    oflags = g->bytes[at + 5];
    if (oflags & 0x20) p += 16;
    if (oflags & 0x10) p += 4;
    width = 1u << (oflags & 3);
    if (!inside(g, p, width)) return header_bad(ctx, "outside the file", err);
    chunks[0][1] = get_le(g->bytes + p, (unsigned)width); /* the checksum follows chunk 0 */
    chunks[0][0] = p + width;
  } else {
    if (g->bytes[at] != 1) return header_bad(ctx, "version", err);
    nmsgs = get_le(g->bytes + at + 2, 2);
    chunks[0][0] = at + 16;
    chunks[0][1] = get_le(g->bytes + at + 8, 4);
  }
  for (c = 0; c < nchunks; c++) {
    uint64_t pos = chunks[c][0], end, mh = v2 ? 4u + ((oflags & 0x04) ? 2u : 0u) : 8u;
    if (!inside(g, chunks[c][0], chunks[c][1])) return header_bad(ctx, "block outside the file", err);
    end = chunks[c][0] + chunks[c][1];
    if (v2 && c > 0) {
      /* "OCHK", messages, checksum: all inside the continuation's length */
      if (chunks[c][1] < 8 || memcmp(g->bytes + pos, "OCHK", 4) != 0) return header_bad(ctx, "continuation block", err);
      pos += 4;
      end -= 4;
    }
    while (end - pos >= mh && seen < nmsgs) {
      const unsigned char *m = g->bytes + pos;
      unsigned type = v2 ? m[0] : (unsigned)get_le(m, 2);
      uint64_t size = get_le(m + (v2 ? 1 : 2), 2);
      unsigned mflags = v2 ? m[3] : m[4];
      wk_status st;
      seen++;
      if (size > end - pos - mh) return header_bad(ctx, "message overruns its block", err);
      if (type == 0x10) {
        if (size < (uint64_t)g->sa + g->ss) return header_bad(ctx, "continuation message", err);
        if (nchunks == 64) return header_bad(ctx, "too many blocks", err);
        chunks[nchunks][0] = get_le(m + mh, g->sa);
        chunks[nchunks][1] = get_le(m + mh + g->sa, g->ss);
        if (chunks[nchunks][0] > UINT64_MAX - g->base) return header_bad(ctx, "continuation address", err);
        chunks[nchunks][0] += g->base;
        nchunks++;
      }
      st = fn(g, type, mflags, m + mh, size, ud, ctx, err);
      if (st != WK_OK) return st;
      pos += mh + size;
    }
  }
  return WK_OK;
}

static wk_status walk_header(const wk__h5_guard *g, hid_t obj, msg_fn fn, void *ud, const char *ctx,
                             wk_error *err) {
  H5O_info_t oi;
  if (g == NULL || g->bytes == NULL)
    return wk__error_set(err, WK_EFORMAT, "%s: the file is not mapped; its metadata cannot be checked", ctx);
  if (H5Oget_info2(obj, &oi, H5O_INFO_BASIC) < 0)
    return wk__h5_error(err, WK_EFORMAT, "%s: cannot locate the object header", ctx);
  return walk_header_at(g, (uint64_t)oi.addr, fn, ud, ctx, err);
}

/* Decoded framing of an attribute message. */
typedef struct attr_view {
  const unsigned char *name, *dt, *ds, *data;
  uint64_t name_size, dt_size, ds_size, data_size, nelem;
} attr_view;

/*
** The datatypes an attribute may have for libhdf5 to decode it here: integer (properties:
** offset, precision = 4 bytes), float (12 bytes), fixed string (none), and a variable-length
** string or sequence over one of those (the base type follows the 8-byte header). Other
** classes (compound, enum, array, opaque, reference, ...) have variable-size properties that
** libhdf5 1.10 decodes without bounds checks: refused.
*/
static int simple_type(const unsigned char *dt, uint64_t size, int allow_vlen) {
  unsigned cls = dt[0] & 0x0f, version = dt[0] >> 4;
  uint64_t esize = get_le(dt + 4, 4);
  if (size < 8 || version < 1 || version > 3) return 0;
  switch (cls) {
    case 0: return size >= 12 && esize >= 1 && esize <= 16;
    case 1: return size >= 20 && esize >= 2 && esize <= 16;
    case 3: return esize >= 1;
    case 9: return allow_vlen && size >= 16 && simple_type(dt + 8, size - 8, 0);
    default: return 0;
  }
}

/* Checks that every part of an attribute message lies inside it, as libhdf5's decoder
** (H5O_attr_decode) assumes without checking: name NUL-terminated, datatype and dataspace
** inside, rank <= 32, element count times element size inside. */
static int attr_frame(const wk__h5_guard *g, const unsigned char *d, uint64_t len, attr_view *a) {
  uint64_t off, dt_off, ds_off, data_off, esize, k, i;
  int version, pad, rank;
  if (len < 8) return 0;
  version = d[0];
  if (version < 1 || version > 3) return 0;
  if (version >= 2 && (d[1] & 3) != 0) return 0; /* shared datatype/dataspace: refused */
  a->name_size = get_le(d + 2, 2);
  a->dt_size = get_le(d + 4, 2);
  a->ds_size = get_le(d + 6, 2);
  pad = version == 1;
  off = version == 3 ? 9 : 8;
  dt_off = off + (pad ? ALIGN8(a->name_size) : a->name_size);
  ds_off = dt_off + (pad ? ALIGN8(a->dt_size) : a->dt_size);
  data_off = ds_off + (pad ? ALIGN8(a->ds_size) : a->ds_size);
  if (a->name_size < 1 || a->dt_size < 8 || a->ds_size < 4 || data_off > len) return 0;
  a->name = d + off;
  if (memchr(a->name, '\0', (size_t)a->name_size) != a->name + a->name_size - 1) return 0;
  a->dt = d + dt_off;
  a->ds = d + ds_off;
  a->data = d + data_off;
  a->data_size = len - data_off;
  esize = get_le(a->dt + 4, 4);
  if (!simple_type(a->dt, a->dt_size, 1)) return 0;
  rank = a->ds[1];
  if (rank > 32) return 0;
  if (a->ds[0] == 1) k = 8;
  else if (a->ds[0] == 2) k = 4;
  else return 0;
  if (a->ds[2] & ~1u) return 0; /* only the "max dims present" flag */
  a->nelem = (a->ds[0] == 2 && a->ds[3] == 2) ? 0 : 1;
  if (k + (uint64_t)rank * g->ss * ((a->ds[2] & 1u) ? 2u : 1u) > a->ds_size) return 0;
  for (i = 0; i < (uint64_t)rank; i++) {
    uint64_t dim = get_le(a->ds + k + i * g->ss, g->ss);
    if (dim != 0 && a->nelem > UINT64_MAX / dim) return 0;
    a->nelem *= dim;
  }
  if (esize != 0 && a->nelem > a->data_size / esize) return 0;
  return 1;
}

typedef struct find_attr {
  const char *name;
  int matched;
} find_attr;

/* Every attribute message must frame correctly; attribute info (0x15: dense storage in a
** fractal heap) cannot be checked and is refused. */
static wk_status check_all_attrs(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *body,
                                 uint64_t size, void *ud, const char *ctx, wk_error *err) {
  attr_view a;
  (void)ud;
  if (type == 0x15) {
    /* attribute info: version, flags, [max creation index (2) if flags bit 0], fractal heap
    ** address, ... An undefined heap address (all ones) means the attributes are compact. */
    uint64_t off = 2u + ((size >= 2 && (body[1] & 1u)) ? 2u : 0u);
    if (size < off + g->sa) return header_bad(ctx, "attribute info message", err);
    if (get_le(body + off, g->sa) != (g->sa == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * g->sa)) - 1))
      return wk__error_set(err, WK_EFORMAT, "%s: dense attribute storage is not supported", ctx);
    return WK_OK;
  }
  if (type != 0x0C) return WK_OK;
  if (flags & 0x02) return wk__error_set(err, WK_EFORMAT, "%s: shared attribute messages are not supported", ctx);
  if (!attr_frame(g, body, size, &a))
    return header_bad(ctx, "an attribute message is malformed or has an unsupported datatype", err);
  return WK_OK;
}

/* Checks the vlen strings of attribute ud->name against the global heap. */
static wk_status check_vlen(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *body,
                            uint64_t size, void *ud, const char *ctx, wk_error *err) {
  find_attr *fa = (find_attr *)ud;
  attr_view a;
  uint64_t i, esize = 4u + g->sa + 4u;
  (void)flags;
  if (type != 0x0C || fa->matched || !attr_frame(g, body, size, &a)) return WK_OK;
  if (strcmp((const char *)a.name, fa->name) != 0) return WK_OK;
  fa->matched = 1;
  if ((a.dt[0] & 0x0f) != 9 || (a.dt[1] & 0x0f) != 1) return WK_OK; /* not a vlen string */
  /* its base type (a full datatype after the 8-byte header) must be 1-byte characters:
  ** libhdf5 allocates length x base size */
  if (a.dt_size < 16 || get_le(a.dt + 12, 4) != 1)
    return bad(ctx, fa->name, "variable-length string with a bad character type", err);
  if (a.nelem > a.data_size / esize) return bad(ctx, fa->name, "data larger than its message", err);
  for (i = 0; i < a.nelem; i++) {
    const unsigned char *e = a.data + i * esize;
    uint64_t slen = get_le(e, 4), addr = get_le(e + 4, g->sa), idx = get_le(e + 4 + g->sa, 4);
    if (addr == 0 ? slen != 0 : !heap_object_ok(g, addr, idx, slen)) /* addr 0: a NULL string */
      return bad(ctx, fa->name, "corrupt variable-length string (global heap)", err);
  }
  return WK_OK;
}

wk_status wk__h5_guard_object(const wk__h5_guard *g, hid_t obj, const char *ctx, wk_error *err) {
  return walk_header(g, obj, check_all_attrs, NULL, ctx, err);
}

/* check_all_attrs, and meanwhile the attribute messages named ud->name. */
typedef struct fixed_find {
  const char *name;
  int matches;
  attr_view a;
} fixed_find;

static wk_status check_and_find(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *body,
                                uint64_t size, void *ud, const char *ctx, wk_error *err) {
  fixed_find *ff = (fixed_find *)ud;
  attr_view a;
  wk_status st = check_all_attrs(g, type, flags, body, size, NULL, ctx, err);
  if (st != WK_OK || type != 0x0C) return st;
  if (!attr_frame(g, body, size, &a)) return WK_OK; /* refused by check_all_attrs already */
  if (strcmp((const char *)a.name, ff->name) == 0 && ff->matches++ == 0) ff->a = a;
  return WK_OK;
}

/*
** The plain fixed-length string lists read straight from the header: exactly one attribute
** message of that name; datatype version 1, class string, padding NULLTERM / NULLPAD /
** SPACEPAD, charset ASCII / UTF-8, no other bits, element size >= 1; dataspace simple of
** rank 1 (v1, or v2 of type simple). attr_frame has checked that nelem x size bytes of data
** lie inside the message: they are what H5Aread with the file type would copy. Anything else
** (absent, scalar, vlen, other types or bits) is left to libhdf5.
*/
wk_status wk__h5_guard_fixed_strings(const wk__h5_guard *g, hid_t obj, const char *name, const char *ctx,
                                     wk__h5_fixed_strings *out, wk_error *err) {
  fixed_find ff;
  wk_status st;
  const attr_view *a = &ff.a;
  memset(out, 0, sizeof *out);
  ff.name = name;
  ff.matches = 0;
  st = walk_header(g, obj, check_and_find, &ff, ctx, err);
  if (st != WK_OK || ff.matches != 1) return st;
  if (a->dt[0] != 0x13 || (a->dt[1] & 0x0f) > 2 || (a->dt[1] >> 4) > 1 || a->dt[2] != 0 || a->dt[3] != 0)
    return WK_OK;
  if (a->ds[1] != 1 || (a->ds[0] == 2 && a->ds[3] != 1)) return WK_OK;
  out->found = 1;
  out->data = a->data;
  out->count = a->nelem;
  out->size = get_le(a->dt + 4, 4);
  out->pad = a->dt[1] & 0x0f;
  if (out->size == 0) out->found = 0;
  return WK_OK;
}

wk_status wk__h5_guard_vlen_attr(const wk__h5_guard *g, hid_t obj, const char *name, const char *ctx,
                                 wk_error *err) {
  find_attr fa;
  wk_status st;
  fa.name = name;
  fa.matched = 0;
  st = walk_header(g, obj, check_vlen, &fa, ctx, err);
  if (st == WK_OK && !fa.matched)
    return bad(ctx, name, "not found in the object header", err);
  return st;
}

/* }==================================================================== */

/* {====================================================================
** Fast dataset descriptions
** =====================================================================
**
** libhdf5's dataset open (H5Oopen / H5Dopen: the header loaded into the metadata cache, the
** creation property list copied, fill value and layout decoded, an id registered, and all of
** it undone on close) is most of the cost of describing a dataset: ~90% of an open of a file
** of many small layers. For the plain datasets Keras files hold, the description needs four
** messages of the object header, read here from the file image with every read bounds-checked:
**
**   dataspace (0x01) v1: version, rank, flags, reserved (5), dims [, max dims if flags bit 0];
**     flags bit 1 (permutation) refused; rank 0 = scalar. v2: version, rank, flags, type (0
**     scalar, 1 simple; 2 null refused), dims [, max dims]. Dims are `sizeof lengths` bytes.
**   datatype (0x03): class and version (byte 0), class bits (1-3), size (4-7), properties.
**     Fixed-point (0): bit 0 byte order, bits 1-2 padding (0 required), bit 3 signed;
**     properties offset (2) = 0, precision (2) = 8 x size; size 1, 2, 4 or 8.
**     Floating-point (1): bit 0 byte order (bit 6, VAX order, refused), bits 1-3 padding (0),
**     bits 4-5 mantissa normalization (2, implied bit), bits 8-15 sign position; properties
**     offset (2), precision (2), exponent position, exponent size, mantissa position,
**     mantissa size (1 each), exponent bias (4): exactly IEEE binary16/32/64 or bfloat16.
**   layout (0x08) v3, class 1 (contiguous): address (sizeof offsets), size (sizeof lengths).
**   fill value (0x04, 0x05), modification times (0x0E, 0x12), attributes (0x0C, 0x15),
**     reference count (0x16), continuation (0x10), NIL (0x00): not needed, skipped.
** Anything else -- a version-2 header, a shared message, another datatype class (bool enums
** among them), chunked, compact or virtual layout, a filter pipeline (0x0B), external storage
** (0x07), a group message, an unknown message, a duplicate, a size that overflows -- makes it
** answer "not mine", and the caller describes the dataset through libhdf5 as before (with the
** same checks and messages). This is the subset libhdf5 itself reads for these datasets; the
** data window found here is checked as wk__h5_window checks libhdf5's.
** ===================================================================== */

typedef struct fast_ds {
  int space, type, layout, bad;
  int rank;
  uint64_t dims[WK_MAX_RANK];
  wk_dtype dtype;
  int big_endian;
  uint64_t addr, size;
} fast_ds;

static wk_dtype fast_float(const unsigned char *b, uint64_t esize) {
  unsigned bits = b[1] | (unsigned)b[2] << 8, sign = b[2];
  unsigned off = (unsigned)get_le(b + 8, 2), prec = (unsigned)get_le(b + 10, 2);
  unsigned epos = b[12], ebits = b[13], mpos = b[14], mbits = b[15];
  uint64_t bias = get_le(b + 16, 4);
  if ((bits & 0x40) || (bits & 0x0e) || ((bits >> 4) & 3) != 2 || off != 0 || prec != 8 * esize ||
      sign != prec - 1 || mpos != 0)
    return WK_DTYPE_COUNT;
  if (esize == 4 && epos == 23 && ebits == 8 && mbits == 23 && bias == 127) return WK_FLOAT32;
  if (esize == 8 && epos == 52 && ebits == 11 && mbits == 52 && bias == 1023) return WK_FLOAT64;
  if (esize == 2 && epos == 10 && ebits == 5 && mbits == 10 && bias == 15) return WK_FLOAT16;
  if (esize == 2 && epos == 7 && ebits == 8 && mbits == 7 && bias == 127) return WK_BFLOAT16;
  return WK_DTYPE_COUNT;
}

static wk_status fast_msg(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *b,
                          uint64_t size, void *ud, const char *ctx, wk_error *err) {
  fast_ds *d = (fast_ds *)ud;
  (void)ctx;
  (void)err;
  switch (type) {
    case 0x00: case 0x04: case 0x05: case 0x0C: case 0x0E: case 0x10: case 0x12: case 0x15: case 0x16:
      return WK_OK;
    case 0x01: {
      unsigned version, fl, hdr, i;
      if (d->space || (flags & 0x02) || size < 4) break;
      version = b[0];
      d->rank = b[1];
      fl = b[2];
      if (version == 1) {
        if (fl & ~1u) break;
        hdr = 8;
      } else if (version == 2) {
        if ((fl & ~1u) || b[3] > 1 || (b[3] == 0 && d->rank != 0) || (b[3] == 1 && d->rank == 0)) break;
        hdr = 4;
      } else {
        break;
      }
      if (d->rank > WK_MAX_RANK || hdr + (uint64_t)d->rank * g->ss > size) break;
      for (i = 0; i < (unsigned)d->rank; i++) d->dims[i] = get_le(b + hdr + (uint64_t)i * g->ss, g->ss);
      d->space = 1;
      return WK_OK;
    }
    case 0x03: {
      unsigned cls, version;
      uint64_t esize;
      if (d->type || (flags & 0x02) || size < 12) break;
      cls = b[0] & 0x0f;
      version = b[0] >> 4;
      esize = get_le(b + 4, 4);
      if (version < 1 || version > 3) break;
      if (cls == 0) {
        int sign = (b[1] >> 3) & 1;
        if ((b[1] & 0x06) || get_le(b + 8, 2) != 0 || get_le(b + 10, 2) != 8 * esize) break;
        switch (esize) {
          case 1: d->dtype = sign ? WK_INT8 : WK_UINT8; break;
          case 2: d->dtype = sign ? WK_INT16 : WK_UINT16; break;
          case 4: d->dtype = sign ? WK_INT32 : WK_UINT32; break;
          case 8: d->dtype = sign ? WK_INT64 : WK_UINT64; break;
          default: d->bad = 1; return WK_OK;
        }
      } else if (cls == 1) {
        if (size < 20 || (d->dtype = fast_float(b, esize)) == WK_DTYPE_COUNT) break;
      } else {
        break;
      }
      d->big_endian = b[1] & 1;
      d->type = 1;
      return WK_OK;
    }
    case 0x08:
      if (d->layout || (flags & 0x02) || size < 2u + g->sa + g->ss || b[0] != 3 || b[1] != 1) break;
      d->addr = get_le(b + 2, g->sa);
      d->size = get_le(b + 2 + g->sa, g->ss);
      d->layout = 1;
      return WK_OK;
    default:
      break;
  }
  d->bad = 1;
  return WK_EFORMAT; /* stops the walk; the caller falls back to libhdf5 */
}

int wk__h5_fast_dataset(const wk__h5_guard *g, uint64_t addr, wk_tensor_info *info, uint64_t *window) {
  fast_ds d;
  wk_error scratch;
  uint64_t undef = g->sa == 8 ? UINT64_MAX : (((uint64_t)1 << (8 * g->sa)) - 1), at;
  int64_t numel = 1;
  size_t nbytes;
  int i;
  *window = UINT64_MAX;
  if (g->bytes == NULL || addr > UINT64_MAX - g->base) return 0;
  at = g->base + addr;
  if (!inside(g, at, 16) || g->bytes[at] != 1) return 0; /* version-1 headers only */
  memset(&d, 0, sizeof d);
  if (walk_header_at(g, addr, fast_msg, &d, "", &scratch) != WK_OK || d.bad || !d.space || !d.type ||
      !d.layout)
    return 0;
  for (i = 0; i < d.rank; i++)
    if (d.dims[i] > (uint64_t)INT64_MAX || !wk__mul_i64(numel, (int64_t)d.dims[i], &numel)) return 0;
  if ((uint64_t)numel > (uint64_t)SIZE_MAX || !wk__mul_size((size_t)numel, wk_dtype_size(d.dtype), &nbytes))
    return 0;
  memset(info->shape, 0, sizeof info->shape);
  for (i = 0; i < d.rank; i++) info->shape[i] = (int64_t)d.dims[i];
  info->rank = d.rank;
  info->numel = numel;
  info->dtype = d.dtype;
  info->dtype_name = wk_dtype_name(d.dtype);
  info->nbytes = nbytes;
  info->layout = "contiguous";
  info->filtered = 0;
  info->big_endian = d.big_endian;
  /* the zero-copy window: as wk__h5_window (native little-endian type, allocated, stored
  ** size covering the bytes, inside the image, aligned) */
  {
    static const union { uint16_t u; unsigned char c[2]; } probe = {1};
    int native = probe.c[0] == 1 ? !d.big_endian : d.big_endian;
    if (native && nbytes > 0 && d.addr != undef && d.size >= (uint64_t)nbytes &&
        d.addr <= UINT64_MAX - g->base && inside(g, g->base + d.addr, nbytes) &&
        ((uintptr_t)(g->bytes + g->base + d.addr)) % wk_dtype_size(d.dtype) == 0)
      *window = g->base + d.addr;
  }
  return 1;
}

static wk_status group_msg(const wk__h5_guard *g, unsigned type, unsigned flags, const unsigned char *b,
                           uint64_t size, void *ud, const char *ctx, wk_error *err) {
  (void)g; (void)flags; (void)b; (void)size; (void)ctx; (void)err;
  if (type == 0x11 || type == 0x02) *(int *)ud = 1; /* symbol table, link info */
  return WK_OK;
}

int wk__h5_fast_is_group(const wk__h5_guard *g, uint64_t addr) {
  wk_error scratch;
  int found = 0;
  if (g->bytes == NULL || addr > UINT64_MAX - g->base || !inside(g, g->base + addr, 16) ||
      g->bytes[g->base + addr] != 1)
    return 0;
  return walk_header_at(g, addr, group_msg, &found, "", &scratch) == WK_OK && found;
}

/* }==================================================================== */

wk_status wk__h5_guard_init(hid_t fid, const unsigned char *bytes, size_t size, wk__h5_guard *g,
                            wk_error *err) {
  hid_t fcpl = H5Fget_create_plist(fid);
  size_t sa = 0, ss = 0;
  hsize_t ub = 0;
  memset(g, 0, sizeof *g);
  if (fcpl < 0 || H5Pget_sizes(fcpl, &sa, &ss) < 0 || H5Pget_userblock(fcpl, &ub) < 0) {
    if (fcpl >= 0) H5Pclose(fcpl);
    return wk__h5_error(err, WK_EFORMAT, "cannot read the file's creation properties");
  }
  H5Pclose(fcpl);
  if (sa < 2 || sa > 8 || ss < 2 || ss > 8) return wk__error_set(err, WK_EFORMAT, "unsupported address size");
  g->bytes = bytes;
  g->size = bytes ? size : 0;
  g->base = ub;
  g->sa = (unsigned)sa;
  g->ss = (unsigned)ss;
  return WK_OK;
}
