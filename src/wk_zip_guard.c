/*
** wk_zip_guard.c — vets a .keras archive's central directory before anything is read from it
** (see wk__zip_guard in wk_zip.h). The members table it builds lives in the handle's arena.
**
** libzip (opened with ZIP_CHECKCONS) parses the archive; this file checks what libzip accepts
** but a .keras reader must not: names, methods, encryption, sizes. libzip shows a NUL byte in a
** name as a space, so the raw names are also read here, by a walk of the central directory
** found from its end record (ZIP64 end record when the locator precedes it). That walk must
** agree with libzip on the entry count and on each name's length, or the archive is refused.
*/
#include <stdlib.h>
#include <string.h>

#include "wk_zip.h"

/* {====================================================================
** Raw central directory (little-endian records, APPNOTE 4.3.12 - 4.3.16)
** ===================================================================== */

#define EOCD_SIG 0x06054b50u       /* end of central directory: 22 bytes + comment */
#define Z64_LOCATOR_SIG 0x07064b50u /* 20 bytes, right before the end record */
#define Z64_EOCD_SIG 0x06064b50u   /* 56 bytes + extensible data */
#define CDIR_SIG 0x02014b50u       /* central directory header: 46 bytes + name, extra, comment */

static unsigned rd16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

typedef struct raw_dir {
  uint64_t offset, count;
} raw_dir;

/* The end record is the last signature whose comment ends exactly at the end of the data. */
static int find_dir(const unsigned char *d, size_t n, raw_dir *out) {
  size_t i, lowest;
  if (n < 22) return 0;
  lowest = n - 22 > 65535 ? n - 22 - 65535 : 0;
  for (i = n - 22 + 1; i-- > lowest;) {
    if (rd32(d + i) != EOCD_SIG || i + 22 + rd16(d + i + 20) != n) continue;
    out->count = rd16(d + i + 10);
    out->offset = rd32(d + i + 16);
    if (i >= 20 && rd32(d + i - 20) == Z64_LOCATOR_SIG) {
      uint64_t z = rd64(d + i - 20 + 8);
      if (n < 56 || z > n - 56 || rd32(d + z) != Z64_EOCD_SIG) return 0;
      out->count = rd64(d + z + 32);
      out->offset = rd64(d + z + 48);
    }
    return 1;
  }
  return 0;
}

/* }==================================================================== */

int wk__zip_name_eq(const char *stored, const char *wanted) {
  for (;; stored++, wanted++) {
    char a = *stored == '\\' ? '/' : *stored, b = *wanted == '\\' ? '/' : *wanted;
    if (a != b) return 0;
    if (a == '\0') return 1;
  }
}

static int name_cmp(const void *pa, const void *pb) {
  const unsigned char *a = *(const unsigned char *const *)pa, *b = *(const unsigned char *const *)pb;
  for (;; a++, b++) {
    int x = *a == '\\' ? '/' : *a, y = *b == '\\' ? '/' : *b;
    if (x != y || x == '\0') return x - y;
  }
}

/* NULL when the name is acceptable, else what is wrong with it. */
static const char *name_problem(const char *name) {
  const char *p = name;
  if (name[0] == '\0') return "an empty name";
  if (name[0] == '/' || name[0] == '\\' ||
      (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':'))
    return "an absolute name";
  while (*p != '\0') {
    size_t len = strcspn(p, "/\\");
    if (len == 2 && p[0] == '.' && p[1] == '.') return "a \"..\" component in its name";
    p += len;
    if (*p != '\0') p++;
  }
  return NULL;
}

static wk_status check_sizes(wk_file *f, const char *name, const zip_stat_t *st, wk_error *err) {
  const uint64_t four_gib = (uint64_t)4 << 30;
  uint64_t limit;
  if (st->encryption_method != ZIP_EM_NONE)
    return wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\" is encrypted", f->name, name);
  if (st->comp_method != ZIP_CM_STORE && st->comp_method != ZIP_CM_DEFLATE)
    return wk__error_set(err, WK_EFORMAT,
                         "%s: zip member \"%s\" uses compression method %d (only stored and deflated are supported)",
                         f->name, name, (int)st->comp_method);
  /* Keras's own loader rule. */
  if (st->size > four_gib && (st->comp_size == 0 || st->size / st->comp_size > 100 ||
                              (st->size / st->comp_size == 100 && st->size % st->comp_size != 0)))
    return wk__error_set(err, WK_ELIMIT,
                         "%s: zip member \"%s\" declares %llu bytes from %llu stored bytes: possible zip bomb",
                         f->name, name, (unsigned long long)st->size, (unsigned long long)st->comp_size);
  if (st->comp_method == ZIP_CM_STORE) {
    if (st->size != st->comp_size)
      return wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\" is stored but declares %llu bytes for %llu stored",
                           f->name, name, (unsigned long long)st->size, (unsigned long long)st->comp_size);
    return WK_OK;
  }
  limit = st->comp_size > UINT64_MAX / f->opts.max_expand_ratio ? UINT64_MAX
                                                                  : st->comp_size * f->opts.max_expand_ratio;
  if (limit < WK__EXPAND_FLOOR) limit = WK__EXPAND_FLOOR;
  if (st->size > limit)
    return wk__error_set(err, WK_ELIMIT,
                         "%s: zip member \"%s\" declares %llu bytes from %llu deflated bytes (more than %zux): "
                         "possible zip bomb",
                         f->name, name, (unsigned long long)st->size, (unsigned long long)st->comp_size,
                         f->opts.max_expand_ratio);
  return WK_OK;
}

wk_status wk__zip_guard(wk_file *f, zip_t *za, const unsigned char *data, size_t size, wk_error *err) {
  zip_int64_t n = zip_get_num_entries(za, 0);
  raw_dir dir;
  uint64_t pos;
  const char **sorted;
  size_t i, count;
  if (n < 0) return wk__error_set(err, WK_EFORMAT, "%s: unreadable zip central directory", f->name);
  if ((uint64_t)n > f->opts.max_tensors)
    return wk__error_set(err, WK_ELIMIT, "%s: %lld archive members (limit %zu)", f->name, (long long)n,
                         f->opts.max_tensors);
  count = (size_t)n;
  if (!find_dir(data, size, &dir) || dir.count != (uint64_t)n)
    return wk__error_set(err, WK_EFORMAT, "%s: the zip central directory does not match its end record", f->name);
  f->members = (wk_member_info *)wk__arena_calloc(&f->arena, count, sizeof *f->members);
  sorted = (const char **)calloc(count ? count : 1, sizeof *sorted);
  if (f->members == NULL || sorted == NULL) {
    free(sorted);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  }
  pos = dir.offset;
  for (i = 0; i < count; i++) {
    wk_member_info *m = &f->members[i];
    zip_stat_t st;
    const char *name = zip_get_name(za, (zip_uint64_t)i, 0), *raw = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    const char *problem;
    size_t nlen;
    wk_status s;
    if (name == NULL || raw == NULL || zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD)) !=
            (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD)) {
      free(sorted);
      return wk__error_set(err, WK_EFORMAT, "%s: zip member %zu: unreadable directory entry", f->name, i);
    }
    /* The raw entry: its name must be the one libzip returns, byte for byte but for NULs. */
    nlen = pos <= size && size - pos >= 46 && rd32(data + pos) == CDIR_SIG ? rd16(data + pos + 28) : (size_t)-1;
    if (nlen == (size_t)-1 || size - pos - 46 < nlen + rd16(data + pos + 30) + rd16(data + pos + 32) ||
        strlen(raw) != nlen) {
      free(sorted);
      return wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\": inconsistent central directory", f->name, name);
    }
    problem = memchr(data + pos + 46, '\0', nlen) != NULL ? "a NUL byte in its name" : name_problem(name);
    pos += 46 + nlen + rd16(data + pos + 30) + rd16(data + pos + 32);
    if (problem != NULL) {
      free(sorted);
      return wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\": %s", f->name, name, problem);
    }
    s = check_sizes(f, name, &st, err);
    if (s != WK_OK) {
      free(sorted);
      return s;
    }
    m->name = wk__arena_strdup(&f->arena, name);
    if (m->name == NULL) {
      free(sorted);
      return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    }
    m->size = st.size;
    m->compressed_size = st.comp_size;
    m->method = (int)st.comp_method;
    sorted[i] = m->name;
  }
  qsort(sorted, count, sizeof *sorted, name_cmp);
  for (i = 1; i < count; i++) {
    if (name_cmp(&sorted[i - 1], &sorted[i]) == 0) {
      wk_status s = wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\" appears twice", f->name, sorted[i]);
      free(sorted);
      return s;
    }
  }
  free(sorted);
  f->member_count = count;
  return WK_OK;
}
