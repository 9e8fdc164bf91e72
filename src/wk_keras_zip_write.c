/*
** wk_keras_zip_write.c — wk_write_keras_zip: a zip archive (a .keras file) built in memory by
** libzip, then saved atomically (wk_atomic.h).
**
** libzip writes into a growable buffer source (the member bytes are borrowed from the caller,
** never copied before compression). That output is seekable, so libzip writes each local
** header's sizes and CRC in place: no data descriptors (general-purpose flag bit 3 clear), and
** ZIP64 records only for sizes or offsets that need them. Times are set as DOS date/time fields
** computed from UTC (zip_file_set_mtime would use the local time zone); the external
** attributes are Python zipfile's for writestr (Unix, permissions 0600), as in real .keras files.
** The buffer source is owned here: kept across zip_close, freed once its bytes are on disk.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zip.h>

#include "wk_atomic.h"

#define DOS_EPOCH INT64_C(315532800)  /* 1980-01-01 00:00:00 UTC: zip's earliest time */
#define DOS_LAST INT64_C(4354819198)  /* 2107-12-31 23:59:58 UTC: its latest */
#define WRITE_CHUNK ((size_t)1 << 20)
/* zlib's default, as Python's zipfile uses: libzip's own default (9) would also set the
** "maximum compression" bit (general-purpose bit 1), which Python never writes. */
#define DEFLATE_LEVEL 6

/* Names must be relative, non-empty, without empty, "." or ".." components and without '\\'. */
static const char *name_problem(const char *name) {
  const char *p = name;
  if (name[0] == '/') return "is absolute";
  if (strchr(name, '\\') != NULL) return "contains a backslash";
  for (;;) {
    size_t len = strcspn(p, "/");
    if (len == 0) return "has an empty component";
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return "has a \".\" or \"..\" component";
    if (p[len] == '\0') return NULL;
    p += len + 1;
  }
}

/* DOS time and date fields (2-second resolution) of `mtime` seconds since the epoch, UTC;
** 0 and other times before 1980 give 1980-01-01 00:00:00, times after 2107 its last second. */
static void dos_time(int64_t mtime, zip_uint16_t *dtime, zip_uint16_t *ddate) {
  struct tm tm;
  time_t t = (time_t)(mtime < DOS_EPOCH ? DOS_EPOCH : mtime > DOS_LAST ? DOS_LAST : mtime);
  gmtime_r(&t, &tm);
  *dtime = (zip_uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
  *ddate = (zip_uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

static wk_status zip_failure(wk_error *err, const char *path, const char *what, zip_error_t *ze) {
  return wk__error_set(err, zip_error_code_zip(ze) == ZIP_ER_MEMORY ? WK_ENOMEM : WK_EIO, "%s: %s: %s", path, what,
                       zip_error_strerror(ze));
}

/* Adds every member to `za`. */
static wk_status add_members(zip_t *za, const char *path, const wk_zip_member *members, size_t count,
                             wk_error *err) {
  size_t i;
  for (i = 0; i < count; i++) {
    const wk_zip_member *m = &members[i];
    zip_error_t ze;
    zip_source_t *s;
    zip_int64_t idx;
    zip_uint16_t dtime, ddate;
    wk_status st;
    zip_error_init(&ze);
    s = zip_source_buffer_create(m->size ? m->data : NULL, m->size, 0, &ze);
    if (s == NULL) {
      st = zip_failure(err, path, m->name, &ze);
      zip_error_fini(&ze);
      return st;
    }
    zip_error_fini(&ze);
    idx = zip_file_add(za, m->name, s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      if (zip_error_code_zip(zip_get_error(za)) == ZIP_ER_EXISTS)
        return wk__error_set(err, WK_EINVAL, "%s: member \"%s\" appears twice", path, m->name);
      return zip_failure(err, path, m->name, zip_get_error(za));
    }
    dos_time(m->mtime, &dtime, &ddate);
    if (zip_set_file_compression(za, (zip_uint64_t)idx, m->deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 m->deflate ? DEFLATE_LEVEL : 0) != 0 ||
        zip_file_set_dostime(za, (zip_uint64_t)idx, dtime, ddate, 0) != 0 ||
        zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX, (zip_uint32_t)0600 << 16) != 0)
      return zip_failure(err, path, m->name, zip_get_error(za));
  }
  return WK_OK;
}

/* Builds the archive into the buffer source `out` (kept: still the caller's afterwards). */
static wk_status build(zip_source_t *out, const char *path, const wk_zip_member *members, size_t count,
                       wk_error *err) {
  zip_error_t ze;
  zip_t *za;
  wk_status s;
  zip_error_init(&ze);
  zip_source_keep(out); /* the archive's reference; ours survives zip_close */
  za = zip_open_from_source(out, ZIP_TRUNCATE, &ze);
  if (za == NULL) {
    zip_source_free(out); /* not taken: drop that reference again */
    s = zip_failure(err, path, "cannot start the archive", &ze);
    zip_error_fini(&ze);
    return s;
  }
  zip_error_fini(&ze);
  s = add_members(za, path, members, count, err);
  if (s != WK_OK) {
    zip_discard(za);
    return s;
  }
  if (zip_close(za) != 0) {
    s = zip_failure(err, path, "cannot build the archive", zip_get_error(za));
    zip_discard(za);
  }
  return s;
}

static wk_status write_all(int fd, const unsigned char *p, size_t len, const char *path, wk_error *err) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return wk__error_set(err, WK_EIO, "%s: cannot write: %s", path, strerror(errno));
    p += w;
    len -= (size_t)w;
  }
  return WK_OK;
}

/* Copies the archive to `fd` and makes it durable. `src` NULL: an archive without members, the
** 22-byte end record alone (libzip writes nothing for it). */
static wk_status write_out(zip_source_t *src, int fd, const char *path, wk_error *err) {
  static const unsigned char empty_zip[22] = {'P', 'K', 5, 6};
  unsigned char *chunk;
  zip_int64_t n;
  wk_status s = WK_OK;
  if (src == NULL) {
    s = write_all(fd, empty_zip, sizeof empty_zip, path, err);
  } else {
    chunk = (unsigned char *)malloc(WRITE_CHUNK);
    if (chunk == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
    if (zip_source_open(src) != 0) {
      free(chunk);
      return zip_failure(err, path, "cannot read the built archive", zip_source_error(src));
    }
    while (s == WK_OK && (n = zip_source_read(src, chunk, WRITE_CHUNK)) != 0) {
      if (n < 0) s = zip_failure(err, path, "cannot read the built archive", zip_source_error(src));
      else s = write_all(fd, chunk, (size_t)n, path, err);
    }
    zip_source_close(src);
    free(chunk);
  }
  if (s == WK_OK && fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)
    s = wk__error_set(err, WK_EIO, "%s: cannot flush the written file to disk: %s", path, strerror(errno));
  return s;
}

WK_API wk_status wk_write_keras_zip(const char *path, const wk_zip_member *members, size_t count, int overwrite,
                                    wk_error *err) {
  wk__atomic a;
  zip_error_t ze;
  zip_source_t *out;
  wk_status s;
  size_t i;
  int fd;
  if (path == NULL || (members == NULL && count != 0))
    return wk__error_set(err, WK_EINVAL, "wk_write_keras_zip: NULL argument");
  for (i = 0; i < count; i++) {
    const char *problem;
    if (members[i].name == NULL || (members[i].data == NULL && members[i].size != 0))
      return wk__error_set(err, WK_EINVAL, "%s: member %zu: NULL name or data", path, i + 1);
    problem = name_problem(members[i].name);
    if (problem != NULL)
      return wk__error_set(err, WK_EINVAL, "%s: member name \"%s\" %s", path, members[i].name, problem);
  }
  s = wk__atomic_begin(&a, path, overwrite, err);
  if (s != WK_OK) return s;
  zip_error_init(&ze);
  out = zip_source_buffer_create(NULL, 0, 0, &ze);
  if (out == NULL) {
    s = zip_failure(err, path, "cannot start the archive", &ze);
    zip_error_fini(&ze);
    wk__atomic_abort(&a);
    return s;
  }
  zip_error_fini(&ze);
  s = count ? build(out, path, members, count, err) : WK_OK;
  if (s == WK_OK) {
    fd = open(a.tmp_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
      s = wk__error_set(err, WK_EIO, "%s: cannot open the temporary file: %s", path, strerror(errno));
    } else {
      s = write_out(count ? out : NULL, fd, path, err);
      if (close(fd) != 0 && s == WK_OK)
        s = wk__error_set(err, WK_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
  }
  zip_source_free(out);
  if (s != WK_OK) {
    wk__atomic_abort(&a);
    return s;
  }
  a.synced = 1;
  return wk__atomic_commit(&a, err);
}
