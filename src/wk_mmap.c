/*
** wk_mmap.c — refcounted read-only regions: whole-file mappings and wrapped caller memory.
** See wk_mmap.h for the ownership rules.
*/
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

static void region_release_cb(void *ctx) { wk__region_release((wk__region *)ctx); }

wk_status wk__region_tensor(wk__region *r, uint64_t offset, wk_dtype dtype, int rank,
                            const int64_t *shape, size_t nbytes, wk_tensor **out, wk_error *err) {
  size_t esize = wk_dtype_size(dtype);
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
  wk__region_retain(r);
  st = wk_tensor_wrap(dtype, rank, shape, r->data + offset, nbytes, region_release_cb, r, out, err);
  if (st != WK_OK) wk__region_release(r); /* wrap does not call release on failure */
  return st;
}
