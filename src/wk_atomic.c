/*
** wk_atomic.c — atomic file replacement: temporary file, fsync, rename (see wk_atomic.h), and a
** plain sequential writer for the temporary (wk__atomic_write) shared by the formats that stream
** their bytes themselves (TF checkpoints).
**
** The temporary is "<dir>/.<name>.<pid>-<nonce>.wktmp": hidden, in the target's directory,
** created with O_CREAT | O_EXCL (never reusing a file someone else made), with a nonce made of
** the clock, the pid and the attempt number (no global state: several threads may save at once).
*/
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wk_atomic.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

static wk_status sys_error(wk_error *err, const char *path, const char *what, int e) {
  return wk__error_set(err, WK_EIO, "%s: %s: %s", path, what, strerror(e));
}

static char *str_dup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = (char *)malloc(n);
  if (p != NULL) memcpy(p, s, n);
  return p;
}

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char *d;
  size_t n;
  if (slash == NULL) return str_dup(".");
  n = (slash == path) ? 1 : (size_t)(slash - path);
  d = (char *)malloc(n + 1);
  if (d == NULL) return NULL;
  memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/*
** The file about to be replaced: ask the kernel to drop its clean cached pages. Replacing in
** place (h5py's truncate) frees them before the new data needs page cache; a rename frees them
** only at the end, so the new file's pages would come from untouched memory, which is slow to
** fault in on virtual machines (2-3x slower saves measured). The file itself is untouched:
** dirty or mapped pages stay.
*/
static void drop_cache(const char *path) {
#ifdef POSIX_FADV_DONTNEED
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
#else
  (void)path;
#endif
}

static void atomic_free(wk__atomic *a) {
  if (a->fd >= 0) (void)close(a->fd);
  a->fd = -1;
  free(a->target);
  free(a->tmp_path);
  a->target = NULL;
  a->tmp_path = NULL;
}

/* Creates the temporary next to a->target. */
static wk_status make_temp(wk__atomic *a, wk_error *err) {
  const char *slash = strrchr(a->target, '/');
  const char *base = slash ? slash + 1 : a->target;
  size_t dirlen = slash ? (size_t)(slash - a->target) + 1 : 0;
  size_t cap = dirlen + strlen(base) + 64;
  struct timespec ts;
  int attempt;
  a->tmp_path = (char *)malloc(cap);
  if (a->tmp_path == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", a->shown);
  clock_gettime(CLOCK_REALTIME, &ts);
  for (attempt = 0; attempt < 100; attempt++) {
    unsigned long nonce = (unsigned long)ts.tv_nsec * 2654435761UL + (unsigned long)attempt * 40503UL +
                          (unsigned long)(size_t)&ts;
    int fd;
    snprintf(a->tmp_path, cap, "%.*s.%s.%ld-%06lx.wktmp", (int)dirlen, a->target, base, (long)getpid(),
             nonce & 0xffffffUL);
    fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (a->has_mode) (void)fchmod(fd, (mode_t)a->mode);
      close(fd);
      return WK_OK;
    }
    if (errno != EEXIST) {
      int e = errno;
      free(a->tmp_path);
      a->tmp_path = NULL;
      return sys_error(err, a->shown, "cannot create a temporary file in its directory", e);
    }
  }
  free(a->tmp_path);
  a->tmp_path = NULL;
  return wk__error_set(err, WK_EIO, "%s: cannot create a temporary file in its directory", a->shown);
}

wk_status wk__atomic_begin(wk__atomic *a, const char *path, int overwrite, wk_error *err) {
  struct stat st;
  wk_status s;
  memset(a, 0, sizeof *a);
  a->fd = -1;
  a->shown = path;
  a->overwrite = overwrite;
  if (path == NULL || path[0] == '\0') return wk__error_set(err, WK_EINVAL, "save: empty file path");
  if (lstat(path, &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      /* Like h5py's open-for-write, write through a symlink: replace what it points to. */
      if (stat(path, &st) == 0) {
        a->target = realpath(path, NULL);
        if (a->target == NULL) return sys_error(err, path, "cannot resolve the symbolic link", errno);
      }
    }
    if (S_ISDIR(st.st_mode)) return wk__error_set(err, WK_EIO, "%s: is a directory", path);
    if (!S_ISLNK(st.st_mode)) {
      if (!overwrite) return wk__error_set(err, WK_EIO, "%s: already exists", path);
      a->has_mode = 1;
      a->mode = (unsigned)(st.st_mode & 07777);
      drop_cache(path);
    }
  } else if (errno != ENOENT) {
    return sys_error(err, path, "cannot check the target", errno);
  }
  if (a->target == NULL) a->target = str_dup(path);
  if (a->target == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
  s = make_temp(a, err);
  if (s != WK_OK) atomic_free(a);
  return s;
}

void wk__atomic_abort(wk__atomic *a) {
  if (a->tmp_path != NULL) (void)unlink(a->tmp_path);
  atomic_free(a);
}

wk_status wk__atomic_write(wk__atomic *a, const void *data, size_t size, wk_error *err) {
  const unsigned char *p = (const unsigned char *)data;
  if (a->fd < 0) {
    a->fd = open(a->tmp_path, O_WRONLY | O_CLOEXEC);
    if (a->fd < 0) return sys_error(err, a->shown, "cannot open the temporary file", errno);
  }
  while (size > 0) {
    ssize_t n = write(a->fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error(err, a->shown, "cannot write", n < 0 ? errno : EIO);
    p += n;
    size -= (size_t)n;
    a->written += (uint64_t)n;
  }
  return WK_OK;
}

/* Makes the data written through a->fd durable and closes it. */
static wk_status sync_fd(wk__atomic *a, wk_error *err) {
  int s, fd = a->fd;
  a->fd = -1;
  do {
    s = fdatasync(fd);
  } while (s != 0 && errno == EINTR);
  if (s != 0 && errno != EINVAL && errno != EROFS) {
    int e = errno;
    (void)close(fd);
    return sys_error(err, a->shown, "cannot flush the written file to disk", e);
  }
  if (close(fd) != 0 && errno != EINTR) return sys_error(err, a->shown, "cannot write", errno);
  a->synced = 1;
  return WK_OK;
}

static wk_status fsync_path(const char *path, int flags, const char *shown, const char *what,
                            wk_error *err) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0) return sys_error(err, shown, what, errno);
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    int e = errno;
    close(fd);
    return sys_error(err, shown, what, e);
  }
  close(fd);
  return WK_OK;
}

wk_status wk__atomic_commit(wk__atomic *a, wk_error *err) {
  wk_status s = a->fd >= 0 ? sync_fd(a, err) : WK_OK;
  char *dir;
  if (s == WK_OK && !a->synced)
    s = fsync_path(a->tmp_path, O_RDONLY, a->shown, "cannot flush the written file to disk", err);
  if (s != WK_OK) {
    wk__atomic_abort(a);
    return s;
  }
  if (a->overwrite) {
    if (rename(a->tmp_path, a->target) != 0) {
      s = sys_error(err, a->shown, "cannot move the written file into place", errno);
      wk__atomic_abort(a);
      return s;
    }
  } else {
    /* link() refuses an existing name atomically: a file that appeared since begin survives. */
    if (link(a->tmp_path, a->target) != 0) {
      int e = errno;
      s = (e == EEXIST) ? wk__error_set(err, WK_EIO, "%s: already exists", a->shown)
                        : sys_error(err, a->shown, "cannot move the written file into place", e);
      wk__atomic_abort(a);
      return s;
    }
    (void)unlink(a->tmp_path);
  }
  free(a->tmp_path);
  a->tmp_path = NULL;
  /* The rename is durable once the directory is: fsync it (best effort where unsupported). */
  dir = dir_of(a->target);
  if (dir != NULL) {
    s = fsync_path(dir, O_RDONLY | O_DIRECTORY, a->shown, "cannot flush its directory", err);
    free(dir);
  }
  atomic_free(a);
  return s;
}
