/*
** wk_file.h — the format-independent part of the wk_file handle (private, prefix wk__).
**
** A wk_file is filled by one format reader (wk_h5_keras2.c, wk_h5_keras3.c, wk_keras_zip.c,
** wk_tfbundle.c) through wk__file_ops. Every string and array the public accessors return
** lives in the handle's arena and is freed in one go by wk_file_close; the reader's own
** state lives in `impl`, freed by ops->close. The region (file mapping or memory image), if
** any, holds one reference for the handle; zero-copy tensors hold their own.
*/
#ifndef WK_FILE_H
#define WK_FILE_H

#include <stddef.h>

#include "weightkit.h"
#include "wk_mmap.h"

/* {====================================================================
** Arena: bump allocation in chained blocks, freed all at once
** ===================================================================== */

typedef struct wk__arena_block wk__arena_block;
typedef struct wk__arena { wk__arena_block *head; } wk__arena;

/* size bytes, 16-aligned, zeroed; NULL when out of memory or the size overflows. */
void *wk__arena_alloc(wk__arena *a, size_t size);
/* n elements of `size` bytes (checked multiplication); NULL on failure. */
void *wk__arena_calloc(wk__arena *a, size_t n, size_t size);
/* A NUL-terminated copy of the first len bytes of s. */
char *wk__arena_strndup(wk__arena *a, const char *s, size_t len);
char *wk__arena_strdup(wk__arena *a, const char *s);
/* "a" "sep" "b" (sep between both only when a is non-empty). */
char *wk__arena_join(wk__arena *a, const char *first, const char *sep, const char *second);
void wk__arena_free(wk__arena *a);

/* }==================================================================== */

typedef struct wk__file_ops {
  /* Fills f->tensors / f->tensor_count (arena memory). */
  wk_status (*list_tensors)(wk_file *f, wk_error *err);
  /* Lazy handles (see LAZINESS below). resolve_layer fills f->layers[i] (weights) and sets
  ** f->layer_ready[i]; resolve_top_level sets f->top_level (NULL when absent) and top_ready;
  ** resolve_optimizer sets f->optimizer or f->warning, and opt_ready (it cannot fail). On
  ** failure nothing is marked ready and the weights budget is untouched. */
  wk_status (*resolve_layer)(wk_file *f, size_t index, wk_error *err);
  wk_status (*resolve_top_level)(wk_file *f, wk_error *err);
  void (*resolve_optimizer)(wk_file *f);
  wk_status (*read)(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err);
  /* *out NULL when absent, else an arena string. */
  wk_status (*string_attribute)(wk_file *f, const char *object_path, const char *name,
                                const char **out, wk_error *err);
  void (*close)(wk_file *f); /* frees impl and reader resources (not the arena) */
} wk__file_ops;

struct wk_file {
  const wk__file_ops *ops;
  void *impl;
  wk__arena arena;
  wk_open_options opts; /* defaults applied */
  const char *name;
  const char *format;
  const char *keras_version;
  const char *backend;
  const char *warning;
  wk_layer_info *layers;
  size_t layer_count;
  wk_layer_info *top_level;
  wk_layer_info *optimizer;
  wk_tensor_info *tensors;
  size_t tensor_count;
  int tensors_ready;
  wk__region *region; /* NULL when nothing is mapped */
  /* LAZINESS. An eager handle (the default) resolves everything at open: layer_ready is NULL
  ** and top_ready = opt_ready = 1. A lazy one (opts.lazy) knows the layer names only;
  ** layers[i].weights is valid once layer_ready[i] is 1 (resolved on first access, cached).
  ** `budget` counts the weights still allowed under max_tensors, in resolution order. */
  unsigned char *layer_ready;
  int top_ready, opt_ready;
  size_t budget;
  /* ARCHIVE. A .keras handle (wk_keras_zip.c) lists the zip's members here (arena memory);
  ** `archive` is that reader's state, freed by archive_close (called before ops->close).
  ** NULL / 0 for every other file. */
  wk_member_info *members;
  size_t member_count;
  /* METADATA (wk_file_metadata): the file's own key/value strings, keys sorted (a safetensors
  ** `__metadata__`); arena memory, filled by the reader at open; 0 pairs for other formats. */
  const char **meta_keys, **meta_values;
  size_t meta_count;
  void *archive;
  void (*archive_close)(wk_file *f);
};

#define WK__DEFAULT_MAX_TENSORS ((size_t)1000000)
#define WK__DEFAULT_MAX_ATTRIBUTE_BYTES ((size_t)64 << 20)
#define WK__DEFAULT_MAX_EXPAND_RATIO ((size_t)1100)
#define WK__EXPAND_FLOOR ((size_t)64 << 20)

/* A zeroed handle named `name` with the options' defaults applied. */
wk_status wk__file_new(const char *name, const wk_open_options *options, wk_file **out,
                       wk_error *err);

/* HDF5 files (wk_h5_open.c), any layout: the reader is chosen from the root's content (Keras
** 1/2 `layer_names` or `model_weights` -> wk_h5_keras2.c; Keras 3 `vars` / `layers` / ...
** -> wk_h5_keras3.c) and sets f->format. On failure they leave `f` for the caller to close.
** wk__h5_open_image parses `size` bytes at `data` (alive and unchanged as long as the handle
** and its tensors) without copying them; f->region already wraps that image (zero-copy reads
** are windows on it) or is NULL (every read copies). The .keras reader opens its weights
** member with it. */
wk_status wk__h5_open_path(wk_file *f, const char *path, wk_error *err);
wk_status wk__h5_open_image(wk_file *f, const void *data, size_t size, wk_error *err);
/* TF tensor bundles (wk_tfbundle.c): reads `<prefix>.index` (data shards on demand) and sets
** f->format to `format` ("tf-checkpoint" or "savedmodel"). On failure it leaves `f` for the
** caller to close. */
wk_status wk__tfbundle_open(wk_file *f, const char *prefix, const char *format, wk_error *err);
/* Whether `path` names a TF bundle (wk_tfbundle_path.c): *prefix (malloc'd, the caller frees it)
** and *format are set when it does, left NULL when it does not (WK_OK either way). A directory
** that is neither a SavedModel nor holds a `checkpoint` file is WK_EFORMAT. `regular_file`: the
** path is a regular file that is not HDF5 or zip (then a ".index" name counts). */
wk_status wk__tf_resolve(const char *path, int regular_file, size_t max_bytes, char **prefix,
                         const char **format, wk_error *err);
/* .keras archives (wk_keras_zip.c): the path is sniffed as a zip (local header magic). */
wk_status wk__zip_open_path(wk_file *f, const char *path, wk_error *err);
/* A .keras archive held in memory (wk_file_open_memory): f->region wraps the caller's image.
** On success the archive keeps that region and f->region becomes the weights image; on
** failure f->region is the caller's region again, its release callback not run. */
wk_status wk__zip_open_memory(wk_file *f, wk_error *err);

#endif
