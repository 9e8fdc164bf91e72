/*
** wk_h5_write.h — pieces of the HDF5 writers (private, prefix wk__h5w_).
**
** wk_h5_write.c (Keras 2) and wk_h5_write3.c (Keras 3) check their input and lay out the tree;
** wk_h5_write_file.c is the frame both run in (libhdf5 set up as h5py does, atomic replacement
** of a file or an in-memory image, the raw write of the tensor bytes); wk_h5_write_attr.c
** writes the string attributes (keras-formats.md §1.3, §1.4, §4.1); wk_h5_write_data.c the
** datasets. Unless said otherwise, a function here runs with the libhdf5 lock held
** (wk__h5_lock) and reports failures through wk__h5_error with the caller's context prefix
** `ctx` (`w.h5: layer "dense"`).
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

/* A scalar variable-length NULLTERM string attribute: what h5py writes for a Python str (cset
** H5T_CSET_UTF8: Keras 3's `name` and `dtype` attributes, a full model's keras_version) or for
** bytes (H5T_CSET_ASCII: model_config). A UTF-8 `value` is valid UTF-8 (the caller checked). */
wk_status wk__h5w_vlen_string(hid_t obj, const char *name, const char *value, H5T_cset_t cset,
                              const char *ctx, wk_error *err);

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

/* How a dataset stores bfloat16 (h5py has no bfloat16 type). */
typedef enum wk__h5w_bf16 {
  WK__H5W_BF16_FLOAT32, /* widened exactly to float32 (Keras 2 files) */
  WK__H5W_BF16_OPAQUE   /* 2-byte opaque + attribute dtype = "bfloat16" (Keras 3, ml_dtypes) */
} wk__h5w_bf16;

/* The state of one save, shared by the tree builders (set up by wk_h5_write_file.c). */
typedef struct wk__h5w {
  const char *file;   /* the target path as given (or "<memory>"), for messages */
  hid_t lcpl;         /* create intermediate groups ('/' in names), as h5py */
  hid_t dcpl;         /* fill time "if set", as h5py */
  wk__h5w_plan *plan; /* the tensor bytes left to the raw write */
} wk__h5w;

/*
** Creates dataset `rel` (a relative path; intermediate groups created) under `group` with the
** tensor's dtype and shape (see weightkit.h "Writing" for the exact types; bfloat16 as `bf16`
** says). The values: when the file bytes are the tensor's bytes (a little-endian host, any
** dtype but widened bfloat16), the dataset holds at least WK__H5W_DIRECT_MIN bytes and
** w->plan is not NULL, only the first element is written now (allocating the storage) and a
** piece for all the bytes is appended to the plan; otherwise H5Dwrite writes them (bfloat16
** widened, byte swaps).
*/
wk_status wk__h5w_dataset(const wk__h5w *w, hid_t group, const char *rel, const wk_tensor *t,
                          wk__h5w_bf16 bf16, const char *ctx, wk_error *err);

/* Frees the plan's array (the pieces borrow everything else). */
void wk__h5w_plan_free(wk__h5w_plan *plan);

/*
** Writes the plan's pieces into the closed HDF5 file at `path` (the temporary of the save), in
** offset order, then makes the whole file durable (fdatasync). Works outside the libhdf5 lock.
** Failures are WK_EIO naming `shown` ("cannot write the tensor data: No space left on device").
** Sorts plan->items.
*/
wk_status wk__h5w_raw_write(const char *path, wk__h5w_plan *plan, const char *shown, wk_error *err);

/* {====================================================================
** The frame of a save (wk_h5_write_file.c). These take and release the libhdf5 lock
** themselves; `tree` runs with it held and lays out everything in the new file `file`.
** ===================================================================== */

typedef wk_status (*wk__h5w_tree_fn)(const wk__h5w *w, hid_t file, const void *arg, wk_error *err);

/* Saves atomically at `path` (wk_atomic.c; see weightkit.h ATOMIC SAVE): a temporary file,
** `tree`, H5Fclose, the raw write of the plan + fdatasync, rename. */
wk_status wk__h5w_save(const char *path, int overwrite, wk__h5w_tree_fn tree, const void *arg,
                       wk_error *err);

/* The same file built in memory (libhdf5's core driver, no backing store): *data (malloc'd,
** the caller's) and *size receive the file image, the plan's pieces patched into it. */
wk_status wk__h5w_image(const char *shown, wk__h5w_tree_fn tree, const void *arg, void **data,
                        size_t *size, wk_error *err);

/* NULL when `name` works as an HDF5 relative path that reads back as written (no empty or "."
** component), else why not. Needs no lock. */
const char *wk__h5w_path_problem(const char *name);

#endif
