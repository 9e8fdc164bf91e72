/*
** wk_h5.h — libhdf5 glue shared by the HDF5 format readers (private, prefix wk__h5_).
**
** LOCKING: every libhdf5 call happens between wk__h5_lock and wk__h5_unlock (one process-wide
** mutex: libhdf5 keeps global state). While locked, HDF5's automatic error printing is off
** and its error stack starts empty; wk__h5_error folds that stack into our message. The
** functions below assume the lock is held.
**
** CONTEXT STRINGS: helpers that can fail take `ctx`, the message prefix naming what is being
** read (`k.h5: layer "dense_1": weight "dense_1/kernel:0"`); messages read "<ctx>: <problem>".
*/
#ifndef WK_H5_H
#define WK_H5_H

#include <hdf5.h>

#include "wk_file.h"
#include "wk_internal.h"

void wk__h5_lock(void);
void wk__h5_unlock(void);

/* Formats "<fmt ...>" into err, appends " (HDF5: <innermost detail>)" when libhdf5 recorded an
** error, clears the HDF5 error stack, returns code. */
wk_status wk__h5_error(wk_error *err, wk_status code, const char *fmt, ...) WK__PRINTF(3, 4);

/* {====================================================================
** Guard for variable-length strings (wk_h5_guard.c)
** ===================================================================== */

/* What the guard needs to read libhdf5's structures from the file image: the whole file's
** bytes (the mapping or memory image; NULL when unavailable: vlen strings are then refused),
** the user-block size (addresses are relative to it) and the address/length widths. */
typedef struct wk__h5_guard {
  const unsigned char *bytes;
  size_t size;
  uint64_t base;
  unsigned sa, ss;
} wk__h5_guard;

wk_status wk__h5_guard_init(hid_t fid, const unsigned char *bytes, size_t size, wk__h5_guard *g,
                            wk_error *err);

/* WK_OK when the object header of `obj` frames correctly (every message inside its block,
** every attribute message self-consistent): required before any H5A call on `obj`. */
wk_status wk__h5_guard_object(const wk__h5_guard *g, hid_t obj, const char *ctx, wk_error *err);

/* wk__h5_guard_object, and: when attribute `name` of `obj` is a plain 1-D fixed-length string
** list (see wk_h5_guard.c), found = 1 and its raw items (count x size bytes inside the file
** image, padding H5T_str_t `pad`); else found = 0 and the caller reads it through libhdf5. */
typedef struct wk__h5_fixed_strings {
  int found;
  const unsigned char *data;
  uint64_t count, size;
  int pad;
} wk__h5_fixed_strings;
wk_status wk__h5_guard_fixed_strings(const wk__h5_guard *g, hid_t obj, const char *name, const char *ctx,
                                     wk__h5_fixed_strings *out, wk_error *err);

/* WK_OK when libhdf5 can read attribute `name` of `obj` safely (see wk_h5_guard.c); called
** only for variable-length string attributes. */
wk_status wk__h5_guard_vlen_attr(const wk__h5_guard *g, hid_t obj, const char *name, const char *ctx,
                                 wk_error *err);

/* Describes the dataset whose object header is at relative address `addr` straight from the
** file image, when it is a plain one (see wk_h5_guard.c): returns 1 and fills dtype through
** big_endian of `info` (not path, name, layer), and *window = its zero-copy offset in the
** image, or UINT64_MAX when it has none. Returns 0 for anything else, leaving `info` alone:
** the caller then describes it through libhdf5. */
int wk__h5_fast_dataset(const wk__h5_guard *g, uint64_t addr, wk_tensor_info *info, uint64_t *window);
/* 1 when the object header at `addr` is a version-1 header that frames correctly and holds a
** symbol table or link info message (what makes libhdf5 call it a group); 0 when unsure. */
int wk__h5_fast_is_group(const wk__h5_guard *g, uint64_t addr);

/* }==================================================================== */

/* {====================================================================
** The open HDF5 file behind a wk_file (wk_h5_open.c)
** ===================================================================== */

/*
** Every HDF5 handle's impl is a wk__h5_file, whatever its layout. wk_h5_open.c opens the file
** (a path: mapped and parsed through the core driver, or sec2; a memory image: no copy), sets
** up the guard, opens the root group and hands the handle to the layout reader the root's
** content calls for (wk__keras2_read_layout, wk__keras3_read_layout), lock held. The reader
** sets f->ops (its own resolve_* and the shared list/read/attribute/close below), f->format,
** and its own state in `layout`, freed by layout_close (lock held) before the file closes.
*/
typedef struct wk__h5_window_slot {
  const wk_tensor_info *info; /* NULL: free slot */
  uint64_t offset;            /* where its bytes start in the region */
} wk__h5_window_slot;

typedef struct wk__h5_image {
  const void *buf;
  size_t size;
} wk__h5_image;

typedef struct wk__h5_file {
  hid_t fid;
  hid_t root;          /* the root group, open for the handle's life */
  wk__h5_guard guard;  /* reads the file image to vet headers before libhdf5 does */
  wk__h5_image image;  /* core-driver opens only: must outlive the fapl and the file */
  /* Zero-copy windows by info pointer (open addressing, power-of-two capacity, at most half
  ** full). Filled while the datasets are open for their metadata anyway (or described from
  ** their mapped headers); then wk_file_read of such a dataset is a table lookup and a window
  ** on the mapping, with no libhdf5 call (which costs ~40 us a dataset). */
  wk__h5_window_slot *windows;
  size_t window_cap, window_count;
  void *layout;
  void (*layout_close)(wk_file *f);
} wk__h5_file;

#define WK__H5_FILE(f) ((wk__h5_file *)(f)->impl)

/* The layout readers: the lock is held, h->root is open and its header guarded. On failure
** the handle is left for the caller to close. */
wk_status wk__keras2_read_layout(wk_file *f, wk_error *err);
wk_status wk__keras3_read_layout(wk_file *f, wk_error *err);

/* Records a window (a failed allocation only costs speed) / finds one (NULL if none). */
void wk__h5_window_put(wk__h5_file *h, const wk_tensor_info *info, uint64_t offset);
const wk__h5_window_slot *wk__h5_window_get(const wk__h5_file *h, const wk_tensor_info *info);
/* After wk__h5_describe of the open `dset`: remember its window when it has one. */
void wk__h5_note_window(wk_file *f, hid_t dset, const wk_tensor_info *info);

/* The wk__file_ops every HDF5 layout shares (they take the lock themselves). */
wk_status wk__h5_list_tensors(wk_file *f, wk_error *err); /* wk_h5_list.c */
wk_status wk__h5_file_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err);
wk_status wk__h5_file_string_attribute(wk_file *f, const char *object_path, const char *name,
                                       const char **out, wk_error *err);
void wk__h5_file_close(wk_file *f);

/* The message prefix for a weight: `<file>: layer "L": weight "W"` (or the dataset path). */
#define WK__H5_CTX_SIZE WK_ERROR_MESSAGE_SIZE
void wk__h5_info_ctx(char *buf, const wk_file *f, const wk_tensor_info *info);

/* }==================================================================== */

/* {====================================================================
** String attributes (keras-formats.md §1.3, §1.4)
** ===================================================================== */

/*
** Reads attribute `name` of `obj` as a list of strings: fixed-length (NULLTERM: up to the
** first NUL; NULLPAD / SPACEPAD: trailing NULs / spaces stripped) or variable-length; ASCII
** or UTF-8 (bytes kept as stored); scalar (one item) or 1-D. An attribute with no elements
** is an empty list whatever its type (Keras stores empty lists as float64 (0,)). Absent:
** *found = 0 and an empty list. Items and the array live in `arena`. Limits: at most
** max_items items, at most max_bytes bytes of text (and of fixed-length storage).
*/
wk_status wk__h5_strings(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_items,
                         size_t max_bytes, const char *ctx, char ***items, size_t *count,
                         int *found, wk_error *err);

/* Keras's chunk-aware read (load_attributes_from_hdf5_group): `name` if present, else the
** concatenation of `name0`, `name1`, ... while present; limits apply to the whole list. */
wk_status wk__h5_chunked_strings(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_items,
                                 size_t max_bytes, const char *ctx, char ***items, size_t *count,
                                 int *found, wk_error *err);

/* One string (scalar or one-element attribute); *out NULL when absent. */
wk_status wk__h5_string(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_bytes,
                        const char *ctx, const char **out, wk_error *err);

/* }==================================================================== */

/* {====================================================================
** Links and datasets
** ===================================================================== */

/* Whether `obj` has a link `name` that is a hard link (1), another kind of link (-1: soft,
** external, user-defined), or none (0). */
int wk__h5_link_kind(hid_t obj, const char *name);

/*
** Opens the object at relative path `rel` under `base`, one component at a time, following
** hard links only: soft, external and user-defined links, empty components and a leading
** '/' are refused (WK_EFORMAT). `what` names the expected object in messages ("dataset",
** "group"); *out is an object id the caller closes with H5Oclose. Missing: "<what> not found".
*/
wk_status wk__h5_walk(hid_t base, const char *rel, const char *what, const char *ctx, hid_t *out,
                      wk_error *err);

/* Fills dtype, dtype_name, rank, shape, numel, nbytes, layout, filtered and big_endian of
** `info` from an open dataset. Refuses (WK_EFORMAT / WK_ELIMIT) external and virtual
** storage, null dataspaces, ranks above WK_MAX_RANK and sizes that overflow. A type with no
** wk dtype is not an error here (dtype WK_DTYPE_COUNT). */
wk_status wk__h5_describe(hid_t dset, wk_tensor_info *info, const char *ctx, wk_error *err);

/* Whether the open dataset `dset` (described in `info`) can be read zero-copy from `region`:
** contiguous, unfiltered, allocated, file type equal to the native memory type, not bool,
** and its bytes inside the region and aligned to the element size. Then *offset is where its
** bytes start in the region and the result is 1; else 0 (the read goes through libhdf5,
** which also reports a window outside the file). Readers call it at open time, while the
** dataset is open anyway, so that wk_file_read of such a dataset needs no libhdf5 call. */
int wk__h5_window(hid_t dset, const wk__region *region, const wk_tensor_info *info,
                  uint64_t *offset);

/* Reads the dataset at info->path (from the root of `file`) into a new tensor: zero-copy from
** `region` (may be NULL) when possible, else H5Dread with conversion (see weightkit.h). */
wk_status wk__h5_read(hid_t file, wk__region *region, const wk_open_options *opts,
                      const wk_tensor_info *info, const char *ctx, wk_tensor **out, wk_error *err);

/* }==================================================================== */

#endif
