/*
** wk_mmap.c — refcounted read-only regions: whole-file mappings and wrapped caller memory.
** See wk_mmap.h for the ownership rules.
*/
/* madvise and MADV_DONTNEED (POSIX only has posix_madvise, whose DONTNEED glibc ignores). */
#define _DEFAULT_SOURCE 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_internal.h"
#include "wk_mmap.h"

struct wk__region {
  long refcount;                 /* atomic */
  const unsigned char *data;
  size_t size;
  int mapped;                    /* 1: munmap(data, size) at the end */
  void (*release)(void *ctx);    /* wrapped memory only */
  void *release_ctx;
};

#if defined(__GNUC__)
#define WK__INC(p) ((void)__atomic_add_fetch((p), 1, __ATOMIC_RELAXED))
#define WK__DEC(p) __atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)
#else
#error "wk_mmap.c needs GCC/Clang atomic builtins"
#endif

wk_status wk__region_map_fd(int fd, const char *name, wk__region **out, wk_error *err) {
  struct stat st;
  wk__region *r;
  void *p;
  if (fstat(fd, &st) != 0)
    return wk__error_set(err, WK_EIO, "%s: cannot stat: %s", name, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return wk__error_set(err, WK_EIO, "%s: not a regular file", name);
  if (st.st_size <= 0)
    return wk__error_set(err, WK_EFORMAT, "%s: empty file", name);
  if ((uintmax_t)st.st_size > (uintmax_t)SIZE_MAX)
    return wk__error_set(err, WK_ELIMIT, "%s: file too large to map", name);
  r = (wk__region *)calloc(1, sizeof *r);
  if (r == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", name);
  p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    free(r);
    return wk__error_set(err, WK_EIO, "%s: cannot map: %s", name, strerror(e));
  }
  r->refcount = 1;
  r->data = (const unsigned char *)p;
  r->size = (size_t)st.st_size;
  r->mapped = 1;
  *out = r;
  return WK_OK;
}

wk_status wk__region_wrap(const void *data, size_t size, void (*release)(void *release_ctx),
                          void *release_ctx, wk__region **out, wk_error *err) {
  wk__region *r = (wk__region *)calloc(1, sizeof *r);
  if (r == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
  r->refcount = 1;
  r->data = (const unsigned char *)data;
  r->size = size;
  r->release = release;
  r->release_ctx = release_ctx;
  *out = r;
  return WK_OK;
}

const unsigned char *wk__region_data(const wk__region *r) { return r->data; }
size_t wk__region_size(const wk__region *r) { return r->size; }

void wk__region_retain(wk__region *r) { WK__INC(&r->refcount); }

void wk__region_release(wk__region *r) {
  if (r == NULL || WK__DEC(&r->refcount) != 0) return;
  if (r->mapped) munmap((void *)r->data, r->size);
  else if (r->release != NULL) r->release(r->release_ctx);
  free(r);
}

void wk__region_forget(wk__region *r) {
  if (r == NULL) return;
  if (r->mapped) munmap((void *)r->data, r->size);
  free(r);
}

/* {====================================================================
** Tensor windows
**
** Each zero-copy tensor's storage holds one window: its region reference plus the byte range it
** covers. When the storage's last reference goes (the tensor and all its views released), the
** page-aligned interior of that range is handed back with madvise(MADV_DONTNEED) before the region
** reference is dropped, so a full load that releases each tensor after use keeps only the tensors
** still held resident. Only for file mappings: they are PROT_READ and MAP_PRIVATE, so no page was
** ever written and a dropped page re-faults from the page cache with the file's bytes (another
** tensor on the same bytes, or the reader's header parsing, sees the same contents). Wrapped
** caller memory is never advised. The pages at the two ends, shared with neighbouring data, stay.
** madvise failing changes nothing but residency; its result is ignored.
** ===================================================================== */

typedef struct {
  wk__region *region;
  const unsigned char *data;
  size_t nbytes;
} region_window;

static void window_release_cb(void *ctx) {
  region_window *w = (region_window *)ctx;
  wk__region *r = w->region;
  if (r->mapped && w->nbytes > 0) {
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0) {
      uintptr_t page = (uintptr_t)ps;
      uintptr_t lo = ((uintptr_t)w->data + page - 1) / page * page;
      uintptr_t hi = ((uintptr_t)w->data + w->nbytes) / page * page;
      if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
    }
  }
  free(w);
  wk__region_release(r);
}

wk_status wk__region_tensor(wk__region *r, uint64_t offset, wk_dtype dtype, int rank,
                            const int64_t *shape, size_t nbytes, wk_tensor **out, wk_error *err) {
  size_t esize = wk_dtype_size(dtype);
  region_window *w;
  wk_status st;
  /* The window [offset, offset + nbytes) must lie inside the region; checked without
  ** overflow (offset <= size first, then nbytes <= size - offset). */
  if (offset > (uint64_t)r->size || nbytes > r->size - (size_t)offset)
    return wk__error_set(err, WK_EFORMAT,
                         "data window [%llu, +%zu) lies outside the file (%zu bytes)",
                         (unsigned long long)offset, nbytes, r->size);
  if (esize == 0 || ((uintptr_t)(r->data + offset)) % esize != 0)
    return wk__error_set(err, WK_EFORMAT, "data at offset %llu is not aligned for its dtype",
                         (unsigned long long)offset);
  w = (region_window *)malloc(sizeof *w);
  if (w == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
  w->region = r;
  w->data = r->data + offset;
  w->nbytes = nbytes;
  wk__region_retain(r);
  st = wk_tensor_wrap(dtype, rank, shape, w->data, nbytes, window_release_cb, w, out, err);
  if (st != WK_OK) { /* wrap does not call release on failure */
    free(w);
    wk__region_release(r);
  }
  return st;
}

/* }==================================================================== */
