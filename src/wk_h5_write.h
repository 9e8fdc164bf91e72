/*
** wk_h5_write.h — pieces of the Keras 2 HDF5 writer (private, prefix wk__h5w_).
**
** wk_h5_write.c drives the save (checks, tree, atomic replacement); wk_h5_write_attr.c writes
** the string attributes (keras-formats.md §1.3, §1.4); wk_h5_write_data.c the datasets. Every
** function here runs with the libhdf5 lock held (wk__h5_lock) and reports failures through
** wk__h5_error with the caller's context prefix `ctx` (`w.h5: layer "dense"`).
*/
#ifndef WK_H5_WRITE_H
#define WK_H5_WRITE_H

#include <hdf5.h>

#include "wk_internal.h"

/*
** Keras's chunking rule for a list of `count` names whose longest is `maxlen` bytes (at least
** 1: numpy's `S1` for empty strings): the number of chunks k >= 1 such that every chunk of
** numpy.array_split(list, k) holds at most WK_HDF5_ATTRIBUTE_LIMIT bytes. Requires
** maxlen <= WK_HDF5_ATTRIBUTE_LIMIT.
*/
size_t wk__h5w_chunk_count(size_t count, size_t maxlen);

/*
** Writes the name list `names` (count entries) as attribute `name` of `obj`, chunked into
** `<name>0`, `<name>1`, ... when it exceeds the limit; an empty list as float64 (0,).
** Fixed-length NULLPAD ASCII strings of the longest name's size. WK_ELIMIT for a name longer
** than the limit (before anything is written).
*/
wk_status wk__h5w_name_list(hid_t obj, const char *name, const char *const *names, size_t count,
                            const char *ctx, wk_error *err);

/* A scalar fixed-length NULLPAD ASCII string attribute (size max(1, strlen(value))). */
wk_status wk__h5w_scalar_string(hid_t obj, const char *name, const char *value, const char *ctx,
                                wk_error *err);

/*
** The tensor bytes written outside libhdf5 (wk__h5w_raw_write): each piece is `size` bytes at
** `data` (borrowed from a tensor the caller's spec holds) that go to file offset `offset` (the
** contiguous dataset's address, H5Dget_offset). The pieces never overlap each other nor the
** file's metadata: libhdf5 allocated them (the dataset's storage) and will not touch them again.
*/
typedef struct wk__h5w_piece {
  uint64_t offset;
  const void *data;
  size_t size;
} wk__h5w_piece;

/* Datasets smaller than this are written by H5Dwrite (a piece would not pay for itself). */
#define WK__H5W_DIRECT_MIN 4096

typedef struct wk__h5w_plan {
  wk__h5w_piece *items;
  size_t count, cap;
} wk__h5w_plan;

/*
** Creates dataset `rel` (a relative path; intermediate groups created) under `group` with the
** tensor's dtype and shape (see weightkit.h "Writing" for the exact types). `dcpl` and `lcpl`
** are the property lists of the save (fill time "if set"; create intermediate groups). The
** values: when the file bytes are the tensor's bytes (a little-endian host, any dtype but
** bfloat16), the dataset holds at least WK__H5W_DIRECT_MIN bytes and `plan` is not NULL, only
** the first element is written now (allocating the storage) and a piece for all the bytes is
** appended to `plan`; otherwise H5Dwrite writes them (bfloat16 widened, byte swaps).
*/
wk_status wk__h5w_dataset(hid_t group, const char *rel, const wk_tensor *t, hid_t lcpl, hid_t dcpl,
                          wk__h5w_plan *plan, const char *ctx, wk_error *err);

/* Frees the plan's array (the pieces borrow everything else). */
void wk__h5w_plan_free(wk__h5w_plan *plan);

/*
** Writes the plan's pieces into the closed HDF5 file at `path` (the temporary of the save), in
** offset order, then makes the whole file durable (fdatasync). Works outside the libhdf5 lock.
** Failures are WK_EIO naming `shown` ("cannot write the tensor data: No space left on device").
** Sorts plan->items.
*/
wk_status wk__h5w_raw_write(const char *path, wk__h5w_plan *plan, const char *shown, wk_error *err);

#endif
