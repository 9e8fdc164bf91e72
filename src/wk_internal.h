/*
** wk_internal.h — private helpers shared by the core files (prefix wk__). Not installed.
**
** Nothing here knows Lua. Every helper that can fail either returns a wk_status (and fills
** the caller's wk_error) or returns 0/1 and leaves the message to the caller, as documented
** next to each prototype.
*/
#ifndef WK_INTERNAL_H
#define WK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "weightkit.h"

#if defined(__GNUC__)
#define WK__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WK__PRINTF(f, a)
#endif

/* {====================================================================
** Storage and tensor structs
** ===================================================================== */

/*
** A storage is a refcounted byte block. Owned storage frees `data` with free(); external
** storage is read-only and calls release(release_ctx) once, when its last reference goes.
** `data` is NULL exactly when nbytes == 0 (owned) or when the caller wrapped an empty buffer.
** External memory is never written: `data` is declared non-const only so one struct serves
** both kinds; `readonly` guards every write path (wk_tensor_mutable_data).
*/
typedef struct wk__storage {
  int refcount;
  int readonly;
  unsigned char *data;
  size_t nbytes;
  void (*release)(void *release_ctx); /* external only; may be NULL */
  void *release_ctx;
} wk__storage;

/*
** A tensor is a contiguous C-order window [offset, offset + nbytes) on its storage, which it
** holds one reference to. Invariants: 0 <= rank <= WK_MAX_RANK; shape[i] >= 0 for i < rank
** (entries past rank are 0); numel is the product of the dims (1 for rank 0) and
** nbytes = numel * dtype size, both checked against overflow when the tensor was made;
** offset + nbytes <= storage->nbytes. `kind` is what wk_tensor_storage_kind reports: how the
** tensor got its storage (a copy-on-write turns it into WK_STORAGE_OWNED).
*/
struct wk_tensor {
  int refcount;
  wk_dtype dtype;
  int rank;
  wk_storage_kind kind;
  int64_t shape[WK_MAX_RANK];
  int64_t numel;
  size_t nbytes;
  size_t offset;
  wk__storage *storage;
};

/* Read pointer to the tensor's window (NULL when it is empty). */
const unsigned char *wk__tdata(const wk_tensor *t);

/* }==================================================================== */

/* {====================================================================
** Errors, shapes, checked arithmetic
** ===================================================================== */

/* Formats into err (when not NULL) and returns code. */
wk_status wk__error_set(wk_error *err, wk_status code, const char *fmt, ...) WK__PRINTF(3, 4);

/* A shape as a Python tuple: "(3, 2)", "(4,)", "()". Never truncates for rank <= 8. */
#define WK__SHAPE_STR_SIZE 200
char *wk__shape_str(char buf[WK__SHAPE_STR_SIZE], int rank, const int64_t *shape);

/* Checked arithmetic: return 1 and store the result, or 0 on overflow (out untouched). */
int wk__mul_size(size_t a, size_t b, size_t *out);
int wk__add_size(size_t a, size_t b, size_t *out);
int wk__mul_i64(int64_t a, int64_t b, int64_t *out); /* a, b >= 0 */

int wk__dtype_valid(wk_dtype dtype);
/* WK_EINVAL naming `op` when the dtype is not one of the enum's values. */
wk_status wk__check_dtype(const char *op, wk_dtype dtype, wk_error *err);

/* Validates rank (WK_ELIMIT past WK_MAX_RANK, WK_EINVAL if negative), dims (WK_EINVAL if
** negative) and sizes (WK_ELIMIT on overflow); fills numel and nbytes on success. */
wk_status wk__shape_check(const char *op, wk_dtype dtype, int rank, const int64_t *shape,
                          int64_t *numel, size_t *nbytes, wk_error *err);

/* Normalizes an axis in [-rank, rank) to [0, rank); WK_EINVAL naming `op` otherwise. */
wk_status wk__axis(const char *op, int axis, int rank, int *out, wk_error *err);

/* A new owned, zero-filled tensor (the checks of wk__shape_check, then WK_ENOMEM). */
wk_status wk__tensor_alloc(const char *op, wk_dtype dtype, int rank, const int64_t *shape,
                           wk_tensor **out, wk_error *err);

/* A view of `src`'s storage at src->offset + byte_offset with the given (already validated)
** shape, whose byte size must fit in src's window. Takes a storage reference. */
wk_status wk__tensor_view(wk_tensor *src, int rank, const int64_t *shape, size_t byte_offset,
                          wk_tensor **out, wk_error *err);

/* }==================================================================== */

/* {====================================================================
** Elements
** ===================================================================== */

/*
** Loads and stores of one element at an unaligned address. Stores return 1 on success and
** 0 when the value does not fit the dtype (integers: NaN, inf or out of range after
** truncation toward zero; floats never fail: overflow gives inf). bool stores value != 0
** (a NaN is true, as in NumPy). wk__load_i64 returns 0 for uint64 values above INT64_MAX and
** for floats that are NaN or out of int64's range; it truncates floats toward zero.
*/
double wk__load_f64(wk_dtype dtype, const void *p);
int wk__load_i64(wk_dtype dtype, const void *p, int64_t *out);
int wk__store_f64(wk_dtype dtype, void *p, double value);
int wk__store_i64(wk_dtype dtype, void *p, int64_t value);
int wk__store_u64(wk_dtype dtype, void *p, uint64_t value);
/* Converts one element between dtypes with the rules of wk_tensor_cast; 0 if it does not fit. */
int wk__convert(wk_dtype dst_dtype, void *dst, wk_dtype src_dtype, const void *src);

int wk__dtype_is_signed_int(wk_dtype dtype);
int wk__dtype_is_unsigned_int(wk_dtype dtype); /* uint8..uint64, not bool */

/* Correctly rounded (nearest-even) narrowing of a double; overflow gives inf. */
float wk__f64_to_f32(double value);
uint16_t wk__f64_to_f16(double value);
uint16_t wk__f64_to_bf16(double value);

/* Binary-op result dtype (see wk_tensor_binary in weightkit.h and wk_tensor_math.c). */
wk_dtype wk__promote(wk_dtype a, wk_dtype b);

/* }==================================================================== */

/* {====================================================================
** Broadcasting
** ===================================================================== */

/*
** NumPy broadcasting of a and b: shapes are aligned on the right; each pair of dims must be
** equal or contain a 1. Fills the result rank/shape and per-axis element strides of a and b
** in that result (0 along broadcast axes). WK_ESHAPE naming `op` when they do not fit.
*/
typedef struct wk__bcast {
  int rank;
  int64_t shape[WK_MAX_RANK];
  int64_t numel;
  int64_t stride_a[WK_MAX_RANK];
  int64_t stride_b[WK_MAX_RANK];
} wk__bcast;

wk_status wk__broadcast(const char *op, const wk_tensor *a, const wk_tensor *b, wk__bcast *bc,
                        wk_error *err);

/*
** Walks a broadcast in C order: call wk__bcast_start, then for each output element use
** it.ia / it.ib (flat element indices into a and b) and call wk__bcast_next.
*/
typedef struct wk__bcast_iter {
  const wk__bcast *bc;
  int64_t idx[WK_MAX_RANK];
  int64_t ia, ib;
} wk__bcast_iter;

void wk__bcast_start(wk__bcast_iter *it, const wk__bcast *bc);
void wk__bcast_next(wk__bcast_iter *it);

/* }==================================================================== */

#endif
