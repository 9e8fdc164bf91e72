/*
** weightkit.h — the C API of the weightkit core.
**
** weightkit reads, edits and writes neural-network weights. This header is the whole public C
** surface: a host that wants no Lua links libweightkit alone; a host that embeds Lua calls
** luaopen_weightkit_core (declared at the bottom) and gets the same core behind the Lua API.
**
** Formats supported by this version of the core (reading): Keras 1/2 HDF5 weights files and
** Keras 1/2/3 legacy full-model HDF5 files, Keras 3 .weights.h5 files and .keras archives,
** TensorFlow checkpoints and SavedModel variables, safetensors files (wk_file_open, section
** "Files"). Tensors also live in memory without any file.
** Writing: Keras 2 HDF5 weights files (wk_write_keras2), Keras 3 .weights.h5 files
** (wk_write_keras3), zip archives for .keras files (wk_write_keras_zip) and TensorFlow
** checkpoints (wk_write_tf_checkpoint), section "Writing".
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
/* Owned copy converted to `dtype` (floats to integers truncate toward zero; to bool: != 0).
** A NaN, inf or out-of-range value for an integer dtype fails with WK_EINVAL (no wrap). */
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
** float32). Integers follow NumPy: signed with unsigned gives the narrowest signed type
** holding both (int64 with uint64: float64). Integer WK_DIV is floor division (NumPy's //);
** integer results out of the result dtype's range, division by zero and negative integer
** powers fail with WK_EINVAL. bool with bool: ADD/MAXIMUM are or, MUL/MINIMUM are and, the
** rest fail with WK_EDTYPE. */
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

/* {====================================================================
** Files
** =====================================================================
**
** A wk_file is a weights file opened for reading: "open -> list layers and tensors (metadata
** only) -> read one tensor". Opening reads the file's metadata (names, shapes, dtypes; a lazy
** handle only the layer names, see LAZY HANDLES) and no tensor bytes; wk_file_read reads one
** tensor when asked.
**
** FORMATS (wk_file_format)
**   "keras2-h5"        Keras 1/2 save_weights HDF5: `layer_names` on the root group.
**   "keras2-h5-model"  full-model HDF5 (Keras 1.2 .. 3 model.save('x.h5')): the root has no
**                      `layer_names` attribute and holds a `model_weights` group (Keras's own
**                      rule), whose layout is the one above.
**   "keras3-weights-h5" Keras 3 save_weights('x.weights.h5') and the weights member of a .keras
**                      archive (keras-formats.md §4.1): an HDF5 file without `layer_names` and
**                      `model_weights` whose root holds a `vars` group, or a `layers` /
**                      `_layer_checkpoint_dependencies` / `optimizer` group (wk_h5_keras3.c).
**                      Every group named `vars` is one layer, named by its parent's path
**                      ("layers/dense", "layers/lstm/cell", "" for the root `vars`), depth-first
**                      in link-name order, each group's own `vars` before its subgroups (so the
**                      root's comes first); its weights are its datasets, names "0", "1", ... in
**                      numeric order (other dataset names after them, in name order); `path` is
**                      the dataset path ("layers/dense/vars/0"). Group names are kept as stored
**                      (tf.keras 2.15 on Windows wrote "layers\\dense": one group, a backslash in
**                      its name). A 2-byte dataset with the string attribute dtype = "bfloat16"
**                      is bfloat16. No top-level or optimizer lists (the `optimizer/vars` group
**                      is the layer "optimizer"); keras_version / backend are NULL unless the
**                      root carries them.
**   "keras-zip"        a .keras archive (zip, wk_keras_zip.c): its layers and tensors are those
**                      of the weights member (`model.weights.h5`; `variables.h5` of Keras 2.11),
**                      opened from memory as above (no temporary file); the other members are
**                      listed by wk_file_member and read by wk_file_read_member.
**   "tf-checkpoint"    a TensorFlow tensor bundle (tf.keras save_weights(save_format='tf'),
**                      tf.train.Checkpoint; keras-formats.md §5), wk_tfbundle.c: wk_file_open takes
**                      its prefix P (P.index + P.data-NNNNN-of-NNNNN), the P.index file itself, or
**                      a directory holding a `checkpoint` file (its model_checkpoint_path).
**   "savedmodel"       a SavedModel directory (saved_model.pb or saved_model.pbtxt in it): its
**                      variables/variables bundle, read as above.
**                      A TF bundle's layers and weights come from the keys `<object path>/
**                      .ATTRIBUTES/<attribute>`: a VARIABLE_VALUE attribute belongs to the
**                      variable's parent object (layer = the object path without its last
**                      component, weight name = that component: "layer_with_weights-0" /
**                      "kernel"); any other attribute (OBJECT_CONFIG_JSON) to the object itself
**                      (layer = object path, weight = attribute name). Layers in the order of their
**                      first key (bytewise key order, as stored); names kept escaped as stored
**                      (".S" for '/', ".." for '.'). `path` is the full key. Keys without
**                      "/.ATTRIBUTES/" (_CHECKPOINTABLE_OBJECT_GRAPH) appear in wk_file_tensors only.
**                      DT_STRING tensors have dtype WK_DTYPE_COUNT and dtype_name "string" (read
**                      them with wk_file_read_strings). Every read checks the entry's size and its
**                      CRC-32C (a mismatch is WK_EFORMAT naming the key); big-endian bundles are
**                      byte-swapped; partitioned variables (slices) are reassembled (the full
**                      tensor's key is listed, its slice keys are not; they are looked up under
**                      TF's EncodeTensorNameSlice keys). The object graph is
**                      wk_file_object_graph's. wk_file_string_attribute finds nothing in a bundle
**                      (*out NULL). Big-endian bundles report big_endian = 1.
**   "safetensors"      a safetensors file (8-byte little-endian header length, JSON header, data;
**                      wk_safetensors.c): every tensor is one weight; layers group the names at
**                      their last '.' ("encoder.layer.0.weight" -> layer "encoder.layer.0", weight
**                      "weight"; a name without '.' is its own layer), in header order; `path` is
**                      the full name. The header is checked before use: offsets in bounds, no
**                      overlap, no hole, sizes = numel * dtype size, known dtypes (BOOL, U8..U64,
**                      I8..I64, F16, BF16, F32, F64; others listed, not readable). `__metadata__`
**                      values are wk_file_string_attribute(f, "__metadata__", key). Reads are
**                      zero-copy from the mapping when aligned.
**   Any other HDF5 file fails with WK_EFORMAT and a message saying it is not a Keras weights file.
**
** LAYERS AND TENSORS
**   wk_file_layer(f, i) follows `layer_names` (chunked `layer_names0`, `layer_names1`, ...
**   accepted), weightless layers included; each layer's weights follow its `weight_names`,
**   each resolved as a relative path inside the layer group. `top_level_model_weights` and
**   the root `optimizer_weights` group are reported apart; optimizer weights are never
**   required (a broken optimizer group leaves wk_file_optimizer_weights NULL and a warning).
**   wk_file_tensors lists every dataset of the file (optimizer weights included).
**
** OWNERSHIP AND LIFETIME
**   wk_file_open* hands the caller the handle; wk_file_close frees it (NULL is a no-op).
**   Every string, wk_tensor_info and wk_layer_info a wk_file_* function returns is borrowed
**   from the handle and stays valid until wk_file_close. Tensors from wk_file_read are the
**   caller's (one reference each) and outlive the handle: a zero-copy tensor keeps the file
**   mapping (or the memory image) alive until its last tensor is released.
**   A handle belongs to one thread at a time; different handles may be used from different
**   threads (calls into libhdf5 are serialized by one process-wide lock).
**
** LAZY HANDLES (wk_open_options.lazy)
**   By default the open resolves every layer (weight_names, each dataset's shape, dtype and
**   storage), top_level_model_weights and optimizer_weights, so every problem surfaces at
**   open. A lazy handle's open reads only the weights group's attributes (layer_names,
**   keras_version, backend); a layer is resolved on its first access (wk_file_get_layer,
**   wk_file_layer, wk_file_find_layer / wk_file_find_weight), top_level_model_weights on the
**   first wk_file_get_top_level_weights / wk_file_top_level_weights, optimizer_weights on the
**   first wk_file_optimizer_weights / wk_file_warning / wk_file_tensors; each result is cached
**   in the handle (later calls are lookups). The checks are the same and so are the messages,
**   but they surface at first access: wk_file_get_layer and wk_file_get_top_level_weights
**   return the error; the pointer accessors return NULL (call the wk_file_get_* twin for the
**   reason). A failed resolution is not cached (the next access tries again). max_tensors
**   counts the weights of the groups resolved so far, in resolution order. Resolving every
**   layer in order, then the top-level group, reports what an eager open would have.
**
** SAFETY
**   Hostile files fail with WK_EFORMAT or WK_ELIMIT, never crash the core (libhdf5 parses the
**   metadata). Soft, external and user-defined links are never followed on weight paths,
**   external and virtual datasets are refused, ranks above WK_MAX_RANK, sizes that overflow,
**   attributes and lists above the limits below are refused. Before libhdf5 decodes the
**   attributes of an object, its object header and the global heap behind variable-length
**   strings are checked from the mapped bytes (libhdf5 1.10 trusts sizes stored there);
**   objects whose attributes use dense or shared storage, or datatypes other than integer,
**   float and (variable-length) string, are refused. Zero-copy windows are checked to lie
**   inside the file; the file must not be truncated by another process while tensors of a
**   mapping are alive (the OS would signal SIGBUS).
** ===================================================================== */

typedef struct wk_file wk_file;

/* Limits and switches for wk_file_open*. Zero-initialize (or pass NULL) for the defaults. */
typedef struct wk_open_options {
  size_t max_tensors;         /* layers, weights per list, datasets; 0 = 1000000 */
  size_t max_attribute_bytes; /* one string attribute (all chunks together); 0 = 64 MiB */
  size_t max_expand_ratio;    /* a read that converts (chunked, compressed, unallocated) may
                              ** produce at most max(64 MiB, stored bytes * ratio); 0 = 1100 */
  int no_mmap;                /* nonzero: never map; every read copies into owned memory */
  int lazy;                   /* nonzero: a lazy handle (see LAZY HANDLES above) */
} wk_open_options;

/* Metadata of one dataset. Borrowed from the handle (see above). */
typedef struct wk_tensor_info {
  const char *path;       /* full path in the file, no leading '/':
                          ** "model_weights/dense_1/dense_1/kernel:0" */
  const char *layer;      /* the layer (or "top_level_model_weights", "optimizer_weights")
                          ** listing it; NULL in wk_file_tensors */
  const char *name;       /* the weight name as listed in weight_names; NULL in wk_file_tensors */
  wk_dtype dtype;         /* WK_DTYPE_COUNT when the HDF5 type has no wk dtype (read fails) */
  const char *dtype_name; /* NumPy's name, or the HDF5 class ("string", "compound", ...) */
  int rank;               /* 0 for a scalar dataset */
  int64_t shape[WK_MAX_RANK];
  int64_t numel;
  size_t nbytes;          /* numel * dtype size (0 when dtype is WK_DTYPE_COUNT) */
  const char *layout;     /* "contiguous", "chunked" or "compact"; TF bundles: "contiguous", or
                          ** "sliced" for a partitioned tensor (assembled from its slices) */
  int filtered;           /* 1 when a filter pipeline (compression, shuffle, ...) is set */
  int big_endian;         /* 1 when the stored byte order is big-endian */
} wk_tensor_info;

/* A layer group: its name and its weights in weight_names order. */
typedef struct wk_layer_info {
  const char *name;
  size_t weight_count;
  const wk_tensor_info *weights; /* weight_count entries (NULL when 0) */
} wk_layer_info;

/* Opens the file at `path` (format detected from the content). `options` may be NULL. */
WK_API wk_status wk_file_open(const char *path, const wk_open_options *options,
                              wk_file **out, wk_error *err);
/* Opens a file image held in memory (HDF5, a .keras zip, safetensors). `name` is used in
** messages (NULL: "<memory>"). libhdf5 parses a private copy of the image; zero-copy tensors
** point into `data` itself, so `data` must stay valid and unchanged until the handle and every
** tensor read from it are gone; then the core calls release(release_ctx) once (release may
** be NULL). On failure release is NOT called: the caller still owns `data`. */
WK_API wk_status wk_file_open_memory(const void *data, size_t size, const char *name,
                                     void (*release)(void *release_ctx), void *release_ctx,
                                     const wk_open_options *options, wk_file **out, wk_error *err);
/* Frees the handle (NULL is a no-op). Tensors already read stay valid. */
WK_API void wk_file_close(wk_file *f);

/* The path or name the file was opened with. */
WK_API const char *wk_file_name(const wk_file *f);
/* "keras2-h5", "keras2-h5-model", "keras3-weights-h5", "keras-zip", "tf-checkpoint",
** "savedmodel" or "safetensors" (static strings). */
WK_API const char *wk_file_format(const wk_file *f);
/* The `keras_version` / `backend` attributes of the weights group (the root, or
** `model_weights` of a full model: what Keras reads when loading); NULL when absent (Keras 1
** files; Keras 1.2 full models carry keras_version at the root only, see
** wk_file_string_attribute). */
WK_API const char *wk_file_keras_version(const wk_file *f);
WK_API const char *wk_file_backend(const wk_file *f);
/* A problem that did not stop the open (e.g. an unreadable optimizer group); NULL if none.
** A lazy handle resolves optimizer_weights first (see wk_file_optimizer_weights). */
WK_API const char *wk_file_warning(const wk_file *f);

WK_API size_t wk_file_layer_count(const wk_file *f);
/* The name of layer `index` (layer_names order) without resolving it; NULL when out of range. */
WK_API const char *wk_file_layer_name(const wk_file *f, size_t index);
/* Layer `index` in layer_names order; NULL when index >= wk_file_layer_count. A lazy handle
** resolves the layer here on first access (the handle caches it despite the const) and
** returns NULL when that fails. */
WK_API const wk_layer_info *wk_file_layer(const wk_file *f, size_t index);
/* The same with the reason: WK_EINVAL when index is out of range; a lazy handle's resolution
** errors (WK_EFORMAT, WK_ELIMIT, ...: the messages an eager open gives). */
WK_API wk_status wk_file_get_layer(wk_file *f, size_t index, const wk_layer_info **out,
                                   wk_error *err);
/* The `top_level_model_weights` group (not in layer_names); NULL when the file has none (or,
** in a lazy handle, when resolving it fails: see wk_file_get_top_level_weights). */
WK_API const wk_layer_info *wk_file_top_level_weights(const wk_file *f);
/* The same with the reason; *out NULL (and WK_OK) when the file has no such group. */
WK_API wk_status wk_file_get_top_level_weights(wk_file *f, const wk_layer_info **out,
                                               wk_error *err);
/* The root `optimizer_weights` group in its weight_names order, name "optimizer_weights";
** NULL when absent or unreadable (see wk_file_warning). Never fails: a lazy handle resolves
** it here (or in wk_file_warning / wk_file_tensors) and turns a problem into the warning. */
WK_API const wk_layer_info *wk_file_optimizer_weights(const wk_file *f);
/* The first layer named `layer` (NULL if none) and, in it, the weight named `weight`. A lazy
** handle resolves that layer only (NULL when that fails, as wk_file_layer). */
WK_API const wk_layer_info *wk_file_find_layer(const wk_file *f, const char *layer);
WK_API const wk_tensor_info *wk_file_find_weight(const wk_file *f, const char *layer,
                                                 const char *weight);

/* Every dataset in the file, depth-first in name order (each object once, hard links only).
** Built on the first call (metadata only) and cached: *infos is borrowed. Plain datasets
** (see wk_h5_guard.c) are described from their object headers on the way, without a libhdf5
** dataset open; the others as before. */
WK_API wk_status wk_file_tensors(wk_file *f, const wk_tensor_info **infos, size_t *count,
                                 wk_error *err);

/* Reads one tensor. `info` must come from this handle. Contiguous, unfiltered, native-endian
** datasets whose bytes lie inside the file come back zero-copy (WK_STORAGE_EXTERNAL, read-only,
** a window on the file mapping); every other dataset (chunked, compressed, big-endian,
** compact, unallocated, misaligned) is read by libhdf5 with conversion into an owned tensor.
** bool datasets are always copied and normalized to 0/1. */
WK_API wk_status wk_file_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out,
                              wk_error *err);

/* A string attribute (scalar or one-element; fixed or variable length) of the group or
** dataset at `object_path` ("" or "/" for the root), e.g. "model_config". *out is NULL when
** the attribute is absent, else borrowed from the handle. WK_EFORMAT when it is not a string. */
WK_API wk_status wk_file_string_attribute(wk_file *f, const char *object_path, const char *name,
                                          const char **out, wk_error *err);

/* ---- file metadata ---- */

/* The file's own string metadata, keys sorted: a safetensors file's `__metadata__` (each value is
** also wk_file_string_attribute(f, "__metadata__", key)); no pairs for the other formats. */
WK_API size_t wk_file_metadata_count(const wk_file *f);
/* Pair `index`: 1 and *key, *value (borrowed from the handle), or 0 when out of range. */
WK_API int wk_file_metadata(const wk_file *f, size_t index, const char **key, const char **value);

/* ---- TensorFlow checkpoints ("tf-checkpoint", "savedmodel") ---- */

/* The decoded _CHECKPOINTABLE_OBJECT_GRAPH (TrackableObjectGraph, keras-formats.md §5.5). Node ids
** are the file's (0-based, node 0 the root); strings are borrowed from the handle. */
typedef struct wk_ckpt_child {
  int32_t node_id;
  const char *local_name;
} wk_ckpt_child;

typedef struct wk_ckpt_attribute {
  const char *name;           /* "VARIABLE_VALUE", "OBJECT_CONFIG_JSON", ... */
  const char *full_name;      /* the variable's name without ":0" ("dense/kernel"), may be "" */
  const char *checkpoint_key; /* the bundle key holding the value */
  int optional_restore;
} wk_ckpt_attribute;

typedef struct wk_ckpt_slot {
  int32_t original_variable_node_id;
  const char *slot_name;      /* "m", "v", "rms", "momentum", ... */
  int32_t slot_variable_node_id;
} wk_ckpt_slot;

typedef struct wk_ckpt_node {
  size_t child_count;
  const wk_ckpt_child *children;
  size_t attribute_count;
  const wk_ckpt_attribute *attributes;
  size_t slot_count;
  const wk_ckpt_slot *slots;
} wk_ckpt_node;

/* The object graph, decoded on the first call (unknown protobuf fields skipped; node ids out of
** range are WK_EFORMAT) and cached. *count is 0 when the bundle has no object graph (a
** name-based checkpoint). WK_EINVAL for a file that is not a TF bundle. */
WK_API wk_status wk_file_object_graph(wk_file *f, const wk_ckpt_node **nodes, size_t *count,
                                      wk_error *err);

/* The elements of a DT_STRING tensor (C order): items[i] holds lengths[i] bytes (NUL-terminated
** after them, but may contain NULs). Borrowed from the handle. The lengths' CRC and the entry's
** CRC are checked. WK_EDTYPE for a tensor that is not a string tensor. */
WK_API wk_status wk_file_read_strings(wk_file *f, const wk_tensor_info *info,
                                      const char *const **items, const size_t **lengths,
                                      size_t *count, wk_error *err);

/* ---- archive members ("keras-zip"; every other format has none) ---- */

/* One member of the archive's central directory, in directory order. */
typedef struct wk_member_info {
  const char *name;         /* as stored (a backslash is kept; lookups treat it as '/') */
  uint64_t size;            /* uncompressed bytes, as declared */
  uint64_t compressed_size; /* stored bytes */
  int method;               /* 0 stored, 8 deflated (others are refused at open) */
} wk_member_info;

WK_API size_t wk_file_member_count(const wk_file *f);
/* Member `index`; NULL when out of range. Borrowed from the handle. */
WK_API const wk_member_info *wk_file_member(const wk_file *f, size_t index);
/* The bytes of the member named `name` ('\\' and '/' alike): *data (NUL-terminated after *size
** bytes) is borrowed from the handle, read once and cached. WK_EINVAL when there is no such
** member, WK_ELIMIT above max_attribute_bytes (it is meant for metadata.json / config.json;
** the weights member is read through the layers), WK_EFORMAT when its CRC or size is wrong. */
WK_API wk_status wk_file_read_member(wk_file *f, const char *name, const void **data,
                                     size_t *size, wk_error *err);

/* ---- checksums (inspect --sha256) ---- */

/* SHA-256 (FIPS 180-4). Caller-owned state, no heap memory. */
typedef struct wk_sha256 {
  uint32_t state[8];
  uint64_t length;         /* bytes hashed so far */
  unsigned char block[64];
  size_t used;             /* bytes pending in block */
} wk_sha256;

WK_API void wk_sha256_init(wk_sha256 *ctx);
WK_API void wk_sha256_update(wk_sha256 *ctx, const void *data, size_t size);
WK_API void wk_sha256_final(wk_sha256 *ctx, unsigned char digest[32]);
/* Lowercase hex of a digest: 64 characters and a NUL. */
WK_API void wk_sha256_hex(const unsigned char digest[32], char hex[65]);
/* SHA-256 of the tensor's raw little-endian C-order bytes (NumPy's `a.astype('<' + a.dtype.str[1:])
** .tobytes()`), whatever the host's byte order. */
WK_API void wk_tensor_sha256(const wk_tensor *t, unsigned char digest[32]);

/* }==================================================================== */

/* {====================================================================
** Writing
** =====================================================================
**
** wk_write_keras2 writes a Keras 2 weights file (tf.keras `save_weights('x.h5')`) from named
** tensors, in the layout every Keras version reads (keras-formats.md §1):
**
**   /                         attrs layer_names, backend, keras_version, weightkit_version
**   /<layer>/                 one group per layer in `layers`, weightless layers included;
**                             attr weight_names
**   /<layer>/<weight name>    one dataset per weight; the weight name is a relative path, so
**                             "dense/kernel:0" in layer "dense" is /dense/dense/kernel:0
**   /top_level_model_weights/ attr weight_names (+ datasets), unless omit_top_level
**
** EXACT HDF5 TYPES
**   layer_names, weight_names  1-D fixed-length strings, size = the longest name's byte length,
**                              STRPAD NULLPAD, cset ASCII (h5py for numpy `S<n>`; every Keras
**                              reads it, old ones included). Past 64512 bytes (n * size) the list
**                              is split like Keras's save_attributes_to_hdf5_group: the smallest
**                              k with ceil(count / k) * size <= 64512, chunks as numpy.array_split
**                              (the first count % k chunks one item longer), attributes
**                              `<name>0` .. `<name>{k-1}`, all of the same string size; no
**                              attribute `<name>` then. A name longer than 64512 bytes fails
**                              (WK_ELIMIT, Keras's RuntimeError text).
**   empty lists                float64, shape (0,) (numpy.asarray([]), as Keras stores them).
**   backend, keras_version,    scalar fixed-length strings, NULLPAD, ASCII (readable by Keras
**   weightkit_version          2.2.4's `.decode('utf8')` as well as by h5py 3 readers).
**   datasets                   the tensor's dtype, little-endian: int8..uint64 as H5T_STD_*LE,
**                              float32/64 as H5T_IEEE_F*LE, float16 as h5py's 2-byte IEEE half,
**                              bool as h5py's enum over int8 {FALSE = 0, TRUE = 1}; bfloat16
**                              is written as float32 (exact widening: h5py has no bfloat16 and
**                              Keras 2 loaders cast to the variable's dtype on load). Rank 0 is
**                              a scalar dataspace. Contiguous layout, no filters, late
**                              allocation, fill time "if set" (h5py's defaults).
**   Layer groups are created in name order (tf.keras does so); a layer or weight name may
**   contain '/' (intermediate groups are created, as h5py does) but no empty or "."
**   component. Duplicate layer names, duplicate weight names in one group and a layer named
**   "top_level_model_weights" (when that group is written) fail with WK_EINVAL.
**
** ATOMIC SAVE
**   The file is written to a temporary in the target's directory (libhdf5 lays out the groups,
**   attributes and datasets and is closed; large tensors' bytes are then written directly at
**   their dataset offsets), flushed with fdatasync, then renamed over the target (and the
**   directory fsynced). On any failure the
**   temporary is removed and a previous file at `path` is left byte-identical. overwrite = 0
**   and an existing target: WK_EIO "<path>: already exists" before anything is written (asking
**   the user is the caller's business). A target that is a directory fails with WK_EIO. A
**   symlink at `path` is written through (its destination is replaced), as h5py does. Tensors
**   read zero-copy from the previous file stay valid: its inode lives on until they are released
**   (an in-place rewrite, as h5py's 'w' mode does, would pull the bytes from under them).
**
** OWNERSHIP
**   The spec, its arrays, strings and tensors are borrowed for the duration of the call and
**   never retained. Messages name the file, the layer and the weight:
**   `w.h5: layer "dense": weight "dense/kernel:0": ...`.
** ===================================================================== */

/* One weight: its name as Keras lists it in weight_names (tf.keras `variable.name`, e.g.
** "dense/kernel:0"), which is also the dataset's path relative to its layer group. */
typedef struct wk_write_weight {
  const char *name;
  const wk_tensor *tensor; /* borrowed */
} wk_write_weight;

/* One layer group, weights in Keras's HDF5 order (trainable then non-trainable weights). */
typedef struct wk_write_layer {
  const char *name;
  const wk_write_weight *weights; /* weight_count entries (may be NULL when 0) */
  size_t weight_count;
} wk_write_layer;

/* What to write. Zero-initialize, then fill; NULL strings take the defaults. */
typedef struct wk_write_spec {
  const wk_write_layer *layers; /* model.layers order: the order of layer_names */
  size_t layer_count;
  const wk_write_weight *top_level; /* the model's own weights (top_level_model_weights) */
  size_t top_level_count;
  int omit_top_level;        /* nonzero: no top_level_model_weights group (the layout of Keras
                             ** <= 2.6); top_level_count must then be 0 */
  const char *keras_version; /* the Keras format version emulated; NULL: "2.15.0" */
  const char *backend;       /* NULL: "tensorflow" */
  int overwrite;             /* 0: fail when `path` exists */
  const char *model_config;  /* NULL: a weights file. Else a full model (tf-keras model.save('x.h5'),
                             ** keras-formats.md §2): root attributes keras_version, backend (vlen
                             ** UTF-8) and this JSON as model_config (vlen ASCII), the weights
                             ** layout above in the group /model_weights */
} wk_write_spec;

#define WK_WRITE_KERAS_VERSION "2.15.0"
#define WK_WRITE_BACKEND "tensorflow"
/* Keras's HDF5_OBJECT_HEADER_LIMIT: the most bytes one name-list attribute (chunk) holds. */
#define WK_HDF5_ATTRIBUTE_LIMIT 64512

/* Writes the Keras 2 weights file described by `spec` at `path` (see above). */
WK_API wk_status wk_write_keras2(const char *path, const wk_write_spec *spec, wk_error *err);

/*
** wk_write_keras3 writes a Keras 3 weights file (save_weights('x.weights.h5'), the
** model.weights.h5 member of a .keras archive; keras-formats.md §4.1) from objects:
**
**   /<path>/vars/             one group per object, in the given order (intermediate groups
**                             created as needed; path "" is the root `vars`); attribute `name`
**                             (scalar variable-length UTF-8 string, as h5py writes a Python str)
**                             when the object's name is not NULL; empty groups are kept
**   /<path>/vars/<i>          dataset "<first>", "<first+1>", ... per tensor, the tensor's dtype little-endian
**                             (as wk_write_keras2; rank 0 a scalar dataspace); bfloat16 as a
**                             2-byte opaque type with no tag (h5py's type for numpy 'V2') and
**                             dataset attribute dtype = "bfloat16" (variable-length UTF-8), as
**                             Keras 3 stores ml_dtypes.bfloat16
**
** No root attributes. Duplicate paths, empty or "." path components, a path component "vars"
** and paths or names that are not valid UTF-8 (Keras's are Python str) fail with WK_EINVAL.
** The file is saved atomically as wk_write_keras2 (ATOMIC SAVE above);
** wk_write_keras3_memory builds the same file in memory (for a .keras archive).
*/
typedef struct wk_write_object {
  const char *path;                /* "layers/dense", "layers/lstm/cell", "" for the model */
  const char *name;                /* the `name` attribute of its vars group; NULL: none */
  const wk_tensor *const *tensors; /* borrowed; count entries (NULL when 0) */
  size_t count;
  size_t first;                    /* dataset names are first, first+1, ...: 0 normally; a shard of
                                      a sharded .weights.json continues an object's numbering
                                      (keras-formats.md §4.5: one object's variables may span shards) */
} wk_write_object;

WK_API wk_status wk_write_keras3(const char *path, const wk_write_object *objects, size_t count,
                                 int overwrite, wk_error *err);
/* The same file as bytes: *data is malloc'd and the caller's (free it with wk_free). */
WK_API wk_status wk_write_keras3_memory(const wk_write_object *objects, size_t count,
                                        void **data, size_t *size, wk_error *err);

/*
** wk_write_keras_zip writes a zip archive (a .keras file: metadata.json, config.json,
** model.weights.h5, in that order) atomically (ATOMIC SAVE above). Members are written in the
** given order, stored unless `deflate`, with no data descriptors; ZIP64 records only when a size
** or offset needs them (as Python's zipfile). A member's time is `mtime` (seconds since the
** epoch, UTC); 0 means 1980-01-01 00:00:00, zip's earliest date (what Keras gives its JSON
** members). Names must be relative, without empty, "." or ".." components and without '\\'.
*/
typedef struct wk_zip_member {
  const char *name;
  const void *data; /* borrowed; size bytes */
  size_t size;
  int deflate;      /* nonzero: compress with deflate */
  int64_t mtime;
} wk_zip_member;

WK_API wk_status wk_write_keras_zip(const char *path, const wk_zip_member *members, size_t count,
                                    int overwrite, wk_error *err);

/*
** wk_write_tf_checkpoint writes a TensorFlow tensor bundle at `prefix` (keras-formats.md §5):
** `<prefix>.data-00000-of-00001` (every tensor's bytes, little-endian, back to back in key order,
** no padding) and `<prefix>.index` (a LevelDB-style table: blocks of about 256 KiB, restart
** interval 16, no compression, each block's masked CRC-32C; key "" = BundleHeaderProto
** {num_shards 1, version {producer 1}}, then one BundleEntryProto per key with dtype, shape,
** offset, size and the masked CRC-32C of the bytes). Keys are written in bytewise order whatever
** the caller's order; a duplicate or empty key is WK_EINVAL. When `node_count` > 0 the object
** graph is serialized (TrackableObjectGraph) as the DT_STRING scalar _CHECKPOINTABLE_OBJECT_GRAPH
** (a caller's entry of that name is WK_EINVAL; node ids out of range are WK_EINVAL), each node
** with has_checkpoint_values as recent TF writes it (true when the node or a node reachable
** through its children has attributes or slot variables). Tensors of every wk dtype are written (bool as
** one byte, float16 as DT_HALF, bfloat16 as DT_BFLOAT16); string entries as DT_STRING. The
** `checkpoint` state file is not written (the caller's policy). Saved atomically: both files go
** to temporaries, are flushed, then renamed (data first, index last); a failure leaves the
** previous files in place. overwrite = 0 and an existing index: WK_EIO.
*/
typedef struct wk_ckpt_entry {
  const char *key;
  const wk_tensor *tensor;        /* borrowed; NULL for a string entry */
  const char *const *strings;     /* a string entry: string_count items (any bytes) ... */
  const size_t *string_lengths;   /* ... of these byte lengths (both may be NULL when 0 items) */
  size_t string_count;
  int string_rank;                /* 0: a scalar (string_count must be 1), 1: a vector */
} wk_ckpt_entry;

WK_API wk_status wk_write_tf_checkpoint(const char *prefix, const wk_ckpt_entry *entries, size_t count,
                                        const wk_ckpt_node *graph, size_t node_count, int overwrite,
                                        wk_error *err);

/*
** wk_write_safetensors writes a safetensors file (the format of huggingface/safetensors): the
** header JSON holds `__metadata__` first (string values, in the given order) when metadata_count
** > 0, then the tensors sorted as the reference writer sorts them (by dtype alignment, largest
** first, in the order of the reference's Dtype enum, then by name), each {"dtype", "shape",
** "data_offsets"}; the header is padded with spaces to a multiple of 8 bytes; the data follow
** back to back, little-endian. Names must be unique, non-empty, valid UTF-8 and not
** "__metadata__"; metadata keys unique, keys and values valid UTF-8 (WK_EINVAL otherwise).
** Saved atomically (ATOMIC SAVE above).
*/
WK_API wk_status wk_write_safetensors(const char *path, const char *const *names,
                                      const wk_tensor *const *tensors, size_t count,
                                      const char *const *metadata_keys,
                                      const char *const *metadata_values, size_t metadata_count,
                                      int overwrite, wk_error *err);

/* Frees memory the core handed to the caller (wk_write_keras3_memory). NULL is a no-op. */
WK_API void wk_free(void *p);

/* }==================================================================== */

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
