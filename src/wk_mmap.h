/*
** wk_mmap.h — refcounted read-only byte regions (a mapped file, or caller memory) from which
** zero-copy tensors are cut. Private to the core (prefix wk__).
**
** A region starts with one reference (the opener's). Each tensor cut from it by
** wk__region_tensor holds one more, dropped by the tensor storage's release callback. When
** the last reference goes the mapping is unmapped (or the caller's release callback runs).
** The refcount is atomic: tensors of one region may end up owned by different threads.
*/
#ifndef WK_MMAP_H
#define WK_MMAP_H

#include <stddef.h>
#include <stdint.h>

#include "weightkit.h"

typedef struct wk__region wk__region;

/* Maps the whole regular file open on `fd` read-only (the fd may be closed afterwards).
** `name` is for messages. WK_EIO when the OS refuses, WK_EFORMAT for an empty file. */
wk_status wk__region_map_fd(int fd, const char *name, wk__region **out, wk_error *err);

/* A region over caller memory; release(release_ctx) runs when the last reference goes.
** On failure release is not called. */
wk_status wk__region_wrap(const void *data, size_t size, void (*release)(void *release_ctx),
                          void *release_ctx, wk__region **out, wk_error *err);

const unsigned char *wk__region_data(const wk__region *r);
size_t wk__region_size(const wk__region *r);
void wk__region_retain(wk__region *r);
void wk__region_release(wk__region *r); /* NULL is a no-op */
/* Frees a wrapped region holding only its first reference WITHOUT running its release
** callback (an open that failed: the caller keeps its memory). NULL is a no-op. */
void wk__region_forget(wk__region *r);

/* A read-only tensor on bytes [offset, offset + nbytes) of the region (nbytes must be the
** shape's byte size). WK_EFORMAT when the window does not lie inside the region or is not
** aligned to the dtype's size. Takes a region reference for the tensor. */
wk_status wk__region_tensor(wk__region *r, uint64_t offset, wk_dtype dtype, int rank,
                            const int64_t *shape, size_t nbytes, wk_tensor **out, wk_error *err);

#endif
