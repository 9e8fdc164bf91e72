/*
** weightkit.h — the C API of the weightkit core.
**
** weightkit reads, edits and writes neural-network weights. This header is the whole public C
** surface: a host that wants no Lua links libweightkit alone; a host that embeds Lua calls
** luaopen_weightkit_core (declared at the bottom) and gets the same core behind the Lua API.
**
** Formats supported by this version of the core: none yet on disk; tensors live in memory.
**
** ERROR MODEL
**   Every fallible function returns a wk_status; WK_OK (0) means success. On failure it also
**   fills the caller-owned wk_error passed as its last argument (NULL is allowed: the message
**   is then dropped). Output parameters are written only on success. The core never prints,
**   never exits, never aborts and never longjmps.
**
** OWNERSHIP
**   - wk_tensor is refcounted. A function that returns a tensor through `wk_tensor **out`
**     hands the caller one reference; the caller drops it with wk_tensor_release (NULL is a
**     no-op). Tensor arguments are borrowed: the callee retains what it keeps.
**   - Tensor data pointers (wk_tensor_data) are borrowed from the tensor and stay valid while
**     the caller holds a reference and does not write to the tensor through another call.
**   - wk_error and wk_rng are plain structs owned by the caller; they hold no heap memory.
**
** STORAGE AND COPY-ON-WRITE
**   A tensor is a dtype, a shape (rank <= WK_MAX_RANK, C order, always contiguous) and a window
**   on a refcounted storage. Storage is owned heap memory, or a read-only external window (a
**   mapped file region, a caller buffer) released through a callback when the last tensor on
**   it goes away. Views (reshape, select, slices of the first axis) share their parent's
**   storage: a write through a view is seen by the parent, as in NumPy. Writing to a tensor
**   whose storage is read-only first gives that tensor a private copy of its window
**   (copy-on-write); other tensors on the same storage keep seeing the original bytes.
**
** THREADS
**   The core has no mutable globals. Refcounts are not atomic: a tensor (and everything that
**   shares its storage) belongs to one thread at a time.
*/
#ifndef WEIGHTKIT_H
#define WEIGHTKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WK_BUILDING_SHARED) && defined(__GNUC__)
#define WK_API __attribute__((visibility("default")))
#else
#define WK_API
#endif

#define WK_VERSION_MAJOR 0
#define WK_VERSION_MINOR 1
#define WK_VERSION_PATCH 0
#define WK_VERSION_STRING "0.1.0"

/* The library's version, for run-time checks against the header a host was built with. */
WK_API const char *wk_version(void);

/* {====================================================================
** Errors
** ===================================================================== */

typedef enum wk_status {
  WK_OK = 0,
  WK_ENOMEM,  /* an allocation failed */
  WK_EINVAL,  /* a bad argument: unknown name, axis out of range, index out of range */
  WK_ESHAPE,  /* shapes that do not fit together */
  WK_EDTYPE,  /* an operation that the dtype does not support */
  WK_ELIMIT,  /* a configured or built-in limit was exceeded (rank, element count, sizes) */
  WK_EIO,     /* the operating system refused a read, write, map or rename */
  WK_EFORMAT  /* a file that is not what it claims to be: corrupt, truncated, hostile */
} wk_status;

#define WK_ERROR_MESSAGE_SIZE 512

typedef struct wk_error {
  wk_status code;
  char message[WK_ERROR_MESSAGE_SIZE]; /* NUL-terminated, truncated if longer */
} wk_error;

/* "ok", "out of memory", "invalid argument", ... (static strings). */
WK_API const char *wk_status_string(wk_status status);

/* }==================================================================== */

/* {====================================================================
** Data types
** ===================================================================== */

typedef enum wk_dtype {
  WK_BOOL = 0,
  WK_INT8, WK_UINT8, WK_INT16, WK_UINT16, WK_INT32, WK_UINT32, WK_INT64, WK_UINT64,
  WK_FLOAT16, WK_BFLOAT16, WK_FLOAT32, WK_FLOAT64,
  WK_DTYPE_COUNT
} wk_dtype;

/* Bytes per element (bool is one byte, 0 or 1). */
WK_API size_t wk_dtype_size(wk_dtype dtype);
/* NumPy's name: "bool", "int8", ..., "float16", "bfloat16", "float32", "float64". */
WK_API const char *wk_dtype_name(wk_dtype dtype);
/* Looks a NumPy name up; returns 1 and sets *out when found, 0 otherwise. */
WK_API int wk_dtype_from_name(const char *name, wk_dtype *out);
WK_API int wk_dtype_is_float(wk_dtype dtype);

/* IEEE binary16 and bfloat16 conversions: round to nearest, ties to even; inf and NaN kept
** (a NaN stays a NaN, quiet); subnormals produced and consumed exactly. */
WK_API float wk_f16_to_f32(uint16_t bits);
WK_API uint16_t wk_f32_to_f16(float value);
WK_API float wk_bf16_to_f32(uint16_t bits);
WK_API uint16_t wk_f32_to_bf16(float value);

/* }==================================================================== */

/* {====================================================================
** Tensors
** ===================================================================== */

#define WK_MAX_RANK 8

typedef struct wk_tensor wk_tensor;

typedef enum wk_storage_kind {
  WK_STORAGE_OWNED,    /* heap memory the tensor's storage owns */
  WK_STORAGE_EXTERNAL, /* a read-only window: mapped file, caller buffer */
  WK_STORAGE_VIEW      /* shares the storage of another tensor */
} wk_storage_kind;

/* A new zero-filled tensor. `shape` holds `rank` dims (rank 0 is a scalar; shape may then be
** NULL). Fails with WK_ELIMIT past WK_MAX_RANK or when the byte size overflows. */
WK_API wk_status wk_tensor_new(wk_dtype dtype, int rank, const int64_t *shape,
                               wk_tensor **out, wk_error *err);

/* A tensor over `nbytes` of read-only memory that the caller (or a mapping) owns. `nbytes`
** must equal the shape's byte size. When the last tensor on this memory is released, the
** core calls release(release_ctx) (release may be NULL). The memory must stay valid until
** then. On failure release is NOT called: the caller still owns the memory. */
WK_API wk_status wk_tensor_wrap(wk_dtype dtype, int rank, const int64_t *shape,
                                const void *data, size_t nbytes,
                                void (*release)(void *release_ctx), void *release_ctx,
                                wk_tensor **out, wk_error *err);

/* A new owned tensor holding a copy of `nbytes` bytes (C order, native endianness). */
WK_API wk_status wk_tensor_from_bytes(wk_dtype dtype, int rank, const int64_t *shape,
                                      const void *data, size_t nbytes,
                                      wk_tensor **out, wk_error *err);

WK_API void wk_tensor_retain(wk_tensor *t);
WK_API void wk_tensor_release(wk_tensor *t); /* NULL is a no-op */

WK_API wk_dtype wk_tensor_dtype(const wk_tensor *t);
WK_API int wk_tensor_rank(const wk_tensor *t);
WK_API const int64_t *wk_tensor_shape(const wk_tensor *t); /* borrowed, `rank` entries */
WK_API int64_t wk_tensor_numel(const wk_tensor *t);
WK_API size_t wk_tensor_nbytes(const wk_tensor *t);
WK_API wk_storage_kind wk_tensor_storage_kind(const wk_tensor *t);
WK_API int wk_tensor_is_readonly(const wk_tensor *t);

/* Borrowed read pointer to numel * dtype_size bytes, C order (NULL for an empty tensor). */
WK_API const void *wk_tensor_data(const wk_tensor *t);
/* Write pointer; unshares read-only storage first (copy-on-write). */
WK_API wk_status wk_tensor_mutable_data(wk_tensor *t, void **out, wk_error *err);

/* Single elements by flat C-order index. Reads convert to double / int64 (bool -> 0/1);
** writes convert from them with the dtype's rounding (float16/bfloat16: nearest-even;
** integers: values out of range fail with WK_EINVAL rather than wrap). */
WK_API wk_status wk_tensor_get_f64(const wk_tensor *t, int64_t index, double *out, wk_error *err);
WK_API wk_status wk_tensor_get_i64(const wk_tensor *t, int64_t index, int64_t *out, wk_error *err);
WK_API wk_status wk_tensor_set_f64(wk_tensor *t, int64_t index, double value, wk_error *err);
WK_API wk_status wk_tensor_set_i64(wk_tensor *t, int64_t index, int64_t value, wk_error *err);

/* ---- shape operations (new tensors; the source is left untouched) ---- */

/* Owned deep copy. */
WK_API wk_status wk_tensor_copy(const wk_tensor *src, wk_tensor **out, wk_error *err);
/* Owned copy converted to `dtype` (floats to integers truncate toward zero; to bool: != 0). */
WK_API wk_status wk_tensor_cast(const wk_tensor *src, wk_dtype dtype, wk_tensor **out, wk_error *err);
/* View with a new shape of the same element count; one dim may be -1 (inferred). */
WK_API wk_status wk_tensor_reshape(wk_tensor *src, int rank, const int64_t *shape,
                                   wk_tensor **out, wk_error *err);
/* View of element `index` (0-based) along axis 0: rank drops by one. */
WK_API wk_status wk_tensor_select(wk_tensor *src, int64_t index, wk_tensor **out, wk_error *err);
/* Elements [start, stop) (0-based) along `axis`: a view for axis 0, an owned copy otherwise. */
WK_API wk_status wk_tensor_slice(wk_tensor *src, int axis, int64_t start, int64_t stop,
                                 wk_tensor **out, wk_error *err);
/* Owned copy with axes permuted: out.shape[i] = src.shape[axes[i]]. */
WK_API wk_status wk_tensor_permute(const wk_tensor *src, const int *axes, wk_tensor **out, wk_error *err);
/* Owned concatenation of `count` tensors of one dtype along `axis`. */
WK_API wk_status wk_tensor_concat(const wk_tensor *const *parts, int count, int axis,
                                  wk_tensor **out, wk_error *err);
/* Splits into `count` equal owned parts along `axis`; outs must hold `count` pointers. On
** failure no part is returned. */
WK_API wk_status wk_tensor_split(const wk_tensor *src, int axis, int count,
                                 wk_tensor **outs, wk_error *err);

/* ---- in-place writes (copy-on-write applies) ---- */

WK_API wk_status wk_tensor_fill(wk_tensor *t, double value, wk_error *err);
/* Copies src's values into dst, converting dtype; shapes must have equal element counts. */
WK_API wk_status wk_tensor_assign(wk_tensor *dst, const wk_tensor *src, wk_error *err);

/* ---- arithmetic ---- */

typedef enum wk_binary_op { WK_ADD, WK_SUB, WK_MUL, WK_DIV, WK_MAXIMUM, WK_MINIMUM, WK_POW } wk_binary_op;

/* Elementwise with NumPy broadcasting. The result dtype is the wider of the two (any float
** beats any integer; float64 > float32 > bfloat16/float16; float16 with bfloat16 gives
** float32). Integer division by zero fails with WK_EINVAL. */
WK_API wk_status wk_tensor_binary(wk_binary_op op, const wk_tensor *a, const wk_tensor *b,
                                  wk_tensor **out, wk_error *err);

typedef enum wk_unary_op {
  WK_NEG, WK_ABS, WK_EXP, WK_LOG, WK_SQRT, WK_SQUARE,
  /* Keras activations (Keras's formulas; gelu is the exact erf form) */
  WK_LINEAR, WK_RELU, WK_SIGMOID, WK_TANH, WK_GELU, WK_ELU, WK_SELU, WK_SOFTPLUS, WK_SWISH
} wk_unary_op;

/* Elementwise, same dtype out. Every op but WK_NEG/WK_ABS/WK_SQUARE/WK_LINEAR needs a float
** dtype (WK_EDTYPE otherwise); half types compute in float32. */
WK_API wk_status wk_tensor_unary(wk_unary_op op, const wk_tensor *a, wk_tensor **out, wk_error *err);
/* Softmax along `axis` (negative counts from the end), float dtypes only. */
WK_API wk_status wk_tensor_softmax(const wk_tensor *a, int axis, wk_tensor **out, wk_error *err);
/* Matrix product of a (..., m, k) with b (k, n) -> (..., m, n); float dtypes; the result has
** the wider dtype. Rank-1 operands are not promoted: both need rank >= 2 and b rank 2. */
WK_API wk_status wk_tensor_matmul(const wk_tensor *a, const wk_tensor *b, wk_tensor **out, wk_error *err);

/* ---- reductions over all elements (accumulated in double) ---- */

typedef enum wk_reduce_op { WK_SUM, WK_MIN, WK_MAX, WK_MEAN, WK_STD, WK_NORM2 } wk_reduce_op;

/* WK_MIN/WK_MAX/WK_MEAN/WK_STD of an empty tensor fail with WK_EINVAL; std is the population
** standard deviation (NumPy's default, ddof = 0). NaNs propagate. */
WK_API wk_status wk_tensor_reduce(wk_reduce_op op, const wk_tensor *t, double *out, wk_error *err);
/* NumPy's allclose: |a - b| <= atol + rtol * |b| elementwise, with broadcasting; NaN != NaN. */
WK_API wk_status wk_tensor_allclose(const wk_tensor *a, const wk_tensor *b, double rtol, double atol,
                                    int *result, wk_error *err);
/* max |a - b| over broadcast shapes (0 for empty tensors; NaN if any difference is NaN). */
WK_API wk_status wk_tensor_max_abs_diff(const wk_tensor *a, const wk_tensor *b, double *out, wk_error *err);

/* }==================================================================== */

/* {====================================================================
** Random numbers and initializers
** ===================================================================== */

/* xoshiro256** state; seed it with wk_rng_seed. Caller-owned, no heap memory. */
typedef struct wk_rng { uint64_t s[4]; } wk_rng;

WK_API void wk_rng_seed(wk_rng *rng, uint64_t seed);
WK_API uint64_t wk_rng_next(wk_rng *rng);
/* A double uniform in [0, 1). */
WK_API double wk_rng_uniform(wk_rng *rng);

/* In-place fills of float tensors (copy-on-write applies); WK_EDTYPE for other dtypes. */
WK_API wk_status wk_tensor_fill_uniform(wk_tensor *t, wk_rng *rng, double low, double high, wk_error *err);
WK_API wk_status wk_tensor_fill_normal(wk_tensor *t, wk_rng *rng, double mean, double stddev, wk_error *err);
/* Normal values redrawn until within two standard deviations of the mean (Keras/TF's
** truncated normal). */
WK_API wk_status wk_tensor_fill_truncated_normal(wk_tensor *t, wk_rng *rng, double mean, double stddev,
                                                 wk_error *err);
/* Keras's Orthogonal: the tensor seen as (prod(shape[:-1]), shape[-1]) gets an orthogonal
** matrix (rows or columns orthonormal, whichever are fewer) times `gain`. Rank >= 2. */
WK_API wk_status wk_tensor_fill_orthogonal(wk_tensor *t, wk_rng *rng, double gain, wk_error *err);
/* Keras's Identity: gain on the diagonal of a rank-2 tensor, zero elsewhere. */
WK_API wk_status wk_tensor_fill_identity(wk_tensor *t, double gain, wk_error *err);

/* }==================================================================== */

/* {====================================================================
** Embedding in Lua 5.4 (declared without lua.h; the argument is a lua_State *)
** ===================================================================== */

struct lua_State;

/* Entry point of the Lua module `weightkit.core`. */
WK_API int luaopen_weightkit_core(struct lua_State *L);

/* The tensor held by the `weightkit.Tensor` userdata at stack `index`, or NULL when that value
** is not an open tensor. Borrowed: valid while the userdata stays reachable and open; retain it
** (wk_tensor_retain) to keep it longer. Never raises. */
WK_API wk_tensor *wk_lua_totensor(struct lua_State *L, int index);

/* }==================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* WEIGHTKIT_H */
