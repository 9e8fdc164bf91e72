/*
** wk_keras_zip.c — .keras archives (keras-formats.md §4.3): a zip holding metadata.json,
** config.json and the weights member, model.weights.h5 (Keras 2.11: variables.h5).
**
** OPENING. The archive's bytes (the file mapped, or read into memory with no_mmap, or the
** caller's memory image) are opened by libzip (read-only, ZIP_CHECKCONS) and vetted entry by
** entry by wk__zip_guard (wk_zip_guard.c) before anything is read. The weights member is then
** read (inflated if need be, its CRC and size checked) into malloc'd memory wrapped as
** f->region, and parsed by the HDF5 reader (wk__h5_open_image) under the name
** "x.keras (model.weights.h5)"; the handle's name is restored afterwards.
**
** OWNERSHIP. The zip_archive (f->archive, freed by archive_close) owns the libzip handle and one
** reference to the region holding the archive's bytes. f->region is the weights image: its
** tensors keep it alive past the handle. Members read by wk_file_read_member are cached in the
** arena (one read each).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wk_zip.h"

typedef struct zip_archive {
  zip_t *za;
  wk__region *bytes;          /* the archive itself */
  const unsigned char **cache; /* per member: its bytes once read (arena), else NULL */
} zip_archive;

static void archive_close(wk_file *f) {
  zip_archive *a = (zip_archive *)f->archive;
  if (a == NULL) return;
  if (a->za != NULL) zip_discard(a->za);
  wk__region_release(a->bytes);
  free(a);
  f->archive = NULL;
}

static size_t find_member(const wk_file *f, const char *name) {
  size_t i;
  for (i = 0; i < f->member_count; i++)
    if (wk__zip_name_eq(f->members[i].name, name)) return i;
  return (size_t)-1;
}

/*
** Reads member `index` whole into dst (its declared size). The bytes libzip produces must be
** exactly that many: one more read past them must find the end, which is also where libzip
** checks the CRC.
*/
static wk_status read_member(wk_file *f, size_t index, unsigned char *dst, wk_error *err) {
  zip_archive *a = (zip_archive *)f->archive;
  const wk_member_info *m = &f->members[index];
  zip_file_t *zf = zip_fopen_index(a->za, (zip_uint64_t)index, 0);
  uint64_t got = 0;
  unsigned char extra;
  zip_int64_t r = 0;
  wk_status s = WK_OK;
  if (zf == NULL)
    return wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\": %s", f->name, m->name, zip_strerror(a->za));
  while (got < m->size && (r = zip_fread(zf, dst + got, m->size - got)) > 0) got += (uint64_t)r;
  if (got < m->size) {
    if (r < 0) {
      zip_error_t *ze = zip_file_get_error(zf);
      s = wk__error_set(err, zip_error_code_zip(ze) == ZIP_ER_MEMORY ? WK_ENOMEM : WK_EFORMAT,
                        "%s: zip member \"%s\": %s", f->name, m->name, zip_error_strerror(ze));
    } else {
      s = wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\": %llu bytes where %llu are declared", f->name,
                        m->name, (unsigned long long)got, (unsigned long long)m->size);
    }
  } else if ((r = zip_fread(zf, &extra, 1)) != 0) {
    if (r > 0) {
      s = wk__error_set(err, WK_EFORMAT, "%s: zip member \"%s\": more than the %llu bytes declared", f->name,
                        m->name, (unsigned long long)m->size);
    } else {
      zip_error_t *ze = zip_file_get_error(zf);
      s = wk__error_set(err, zip_error_code_zip(ze) == ZIP_ER_MEMORY ? WK_ENOMEM : WK_EFORMAT,
                        "%s: zip member \"%s\": %s", f->name, m->name, zip_error_strerror(ze));
    }
  }
  zip_fclose(zf);
  return s;
}

/* Reads the weights member and opens it as HDF5 (see OPENING). */
static wk_status open_weights(wk_file *f, wk_error *err) {
  static const char *const names[] = {"model.weights.h5", "variables.h5"};
  const char *shown = f->name;
  size_t i, index = (size_t)-1;
  unsigned char *buf;
  wk_status s;
  for (i = 0; i < 2 && index == (size_t)-1; i++) index = find_member(f, names[i]);
  if (index == (size_t)-1) {
    if (find_member(f, "model.weights.npz") != (size_t)-1)
      return wk__error_set(err, WK_EFORMAT,
                           "%s: a .keras archive with model.weights.npz: npz weights are not supported "
                           "(Keras's load_weights does not read them either)",
                           f->name);
    return wk__error_set(err, WK_EFORMAT, "%s: a .keras archive without model.weights.h5", f->name);
  }
  if (f->members[index].size > SIZE_MAX - 1)
    return wk__error_set(err, WK_ELIMIT, "%s: zip member \"%s\" is too large for memory", f->name,
                         f->members[index].name);
  buf = (unsigned char *)malloc(f->members[index].size ? (size_t)f->members[index].size : 1);
  if (buf == NULL)
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory reading zip member \"%s\"", f->name,
                         f->members[index].name);
  s = read_member(f, index, buf, err);
  if (s == WK_OK) s = wk__region_wrap(buf, (size_t)f->members[index].size, free, buf, &f->region, err);
  if (s != WK_OK) {
    free(buf);
    return s;
  }
  f->name = wk__arena_join(&f->arena, shown, " (", f->members[index].name);
  f->name = f->name ? wk__arena_join(&f->arena, f->name, "", ")") : NULL;
  if (f->name == NULL) {
    f->name = shown;
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", shown);
  }
  s = wk__h5_open_image(f, buf, (size_t)f->members[index].size, err);
  f->name = shown;
  if (s == WK_OK) f->format = "keras-zip";
  return s;
}

/* Opens the archive held by `bytes` (one reference, which the handle takes in all cases). */
static wk_status open_archive(wk_file *f, wk__region *bytes, wk_error *err) {
  zip_archive *a = (zip_archive *)calloc(1, sizeof *a);
  zip_error_t ze;
  zip_source_t *src;
  wk_status s;
  if (a == NULL) {
    wk__region_release(bytes);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  }
  a->bytes = bytes;
  f->archive = a;
  f->archive_close = archive_close;
  zip_error_init(&ze);
  src = zip_source_buffer_create(wk__region_data(bytes), wk__region_size(bytes), 0, &ze);
  if (src != NULL) {
    a->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (a->za == NULL) zip_source_free(src);
  }
  if (a->za == NULL) {
    int code = zip_error_code_zip(&ze);
    s = wk__error_set(err, code == ZIP_ER_MEMORY ? WK_ENOMEM : WK_EFORMAT, "%s: not a readable zip archive: %s",
                      f->name, code == ZIP_ER_EXISTS ? "two members have the same name" : zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return s;
  }
  zip_error_fini(&ze);
  s = wk__zip_guard(f, a->za, wk__region_data(bytes), wk__region_size(bytes), err);
  if (s != WK_OK) return s;
  a->cache = (const unsigned char **)wk__arena_calloc(&f->arena, f->member_count, sizeof *a->cache);
  if (a->cache == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  return open_weights(f, err);
}

/* The whole file in malloc'd memory (no_mmap: nothing of the file stays mapped). */
static wk_status read_whole(int fd, const char *name, wk__region **out, wk_error *err) {
  off_t end = lseek(fd, 0, SEEK_END);
  unsigned char *buf;
  size_t size, got = 0;
  wk_status s;
  if (end < 0) return wk__error_set(err, WK_EIO, "%s: cannot seek: %s", name, strerror(errno));
  if ((uintmax_t)end > (uintmax_t)SIZE_MAX) return wk__error_set(err, WK_ELIMIT, "%s: file too large", name);
  size = (size_t)end;
  buf = (unsigned char *)malloc(size ? size : 1);
  if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", name);
  while (got < size) {
    ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      s = wk__error_set(err, WK_EIO, "%s: cannot read: %s", name, r < 0 ? strerror(errno) : "file shrank");
      free(buf);
      return s;
    }
    got += (size_t)r;
  }
  s = wk__region_wrap(buf, size, free, buf, out, err);
  if (s != WK_OK) free(buf);
  return s;
}

wk_status wk__zip_open_path(wk_file *f, const char *path, wk_error *err) {
  wk__region *bytes = NULL;
  wk_status s;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", f->name, strerror(errno));
  s = f->opts.no_mmap ? read_whole(fd, f->name, &bytes, err) : wk__region_map_fd(fd, f->name, &bytes, err);
  close(fd);
  if (s != WK_OK) return s;
  return open_archive(f, bytes, err);
}

wk_status wk__zip_open_memory(wk_file *f, wk_error *err) {
  wk__region *caller = f->region;
  wk_status s;
  /* The archive state takes over the caller's region only on success (see wk_file.h). */
  wk__region_retain(caller);
  f->region = NULL;
  s = open_archive(f, caller, err);
  if (s == WK_OK) {
    wk__region_release(caller); /* the archive state holds its own reference */
    return WK_OK;
  }
  /* Undo in an order that keeps the weights image alive while libhdf5 may use it, and
  ** never runs the caller's release callback: the caller keeps its memory on failure. */
  if (f->ops != NULL && f->ops->close != NULL) f->ops->close(f);
  f->ops = NULL;
  f->impl = NULL;
  archive_close(f);
  f->archive_close = NULL;
  wk__region_release(f->region);
  f->region = caller;
  return s;
}

/* {====================================================================
** Members
** ===================================================================== */

WK_API size_t wk_file_member_count(const wk_file *f) { return f == NULL ? 0 : f->member_count; }

WK_API const wk_member_info *wk_file_member(const wk_file *f, size_t index) {
  return f == NULL || index >= f->member_count ? NULL : &f->members[index];
}

WK_API wk_status wk_file_read_member(wk_file *f, const char *name, const void **data, size_t *size,
                                     wk_error *err) {
  zip_archive *a;
  size_t index;
  unsigned char *buf;
  wk_status s;
  if (f == NULL || name == NULL || data == NULL || size == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_read_member: NULL argument");
  a = (zip_archive *)f->archive;
  index = find_member(f, name);
  if (a == NULL || index == (size_t)-1)
    return wk__error_set(err, WK_EINVAL, "%s: no archive member \"%s\"", f->name, name);
  if (a->cache[index] == NULL) {
    if (f->members[index].size > f->opts.max_attribute_bytes)
      return wk__error_set(err, WK_ELIMIT, "%s: zip member \"%s\" has %llu bytes (limit %zu)", f->name,
                           f->members[index].name, (unsigned long long)f->members[index].size,
                           f->opts.max_attribute_bytes);
    buf = (unsigned char *)wk__arena_alloc(&f->arena, (size_t)f->members[index].size + 1);
    if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    s = read_member(f, index, buf, err);
    if (s != WK_OK) return s; /* the arena block stays until close; a retry reads again */
    a->cache[index] = buf;
  }
  *data = a->cache[index];
  *size = (size_t)f->members[index].size;
  return WK_OK;
}

/* }==================================================================== */
