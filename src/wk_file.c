/*
** wk_file.c — the wk_file handle: format detection, accessors, close, and the arena behind
** every borrowed string. Format readers fill the handle (see wk_file.h). Detection: a regular
** file with the HDF5 or zip signature goes to those readers; anything else (a directory, a
** `.index` file, a bundle prefix) is asked of wk__tf_resolve (wk_tfbundle_path.c).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "wk_file.h"
#include "wk_safetensors.h"
#include "wk_internal.h"

/* {====================================================================
** Arena
** ===================================================================== */

struct wk__arena_block {
  wk__arena_block *next;
  size_t size, used;
  /* data follows, 16-aligned */
};

#define WK__ARENA_HDR ((sizeof(wk__arena_block) + 15u) & ~(size_t)15u)
#define WK__ARENA_CHUNK ((size_t)64 << 10)

void *wk__arena_alloc(wk__arena *a, size_t size) {
  wk__arena_block *b = a->head;
  size_t need = (size + 15u) & ~(size_t)15u;
  unsigned char *p;
  if (need < size) return NULL;
  if (b == NULL || b->size - b->used < need) {
    size_t cap = need > WK__ARENA_CHUNK / 4 ? need : WK__ARENA_CHUNK;
    if (cap > SIZE_MAX - WK__ARENA_HDR) return NULL;
    b = (wk__arena_block *)malloc(WK__ARENA_HDR + cap);
    if (b == NULL) return NULL;
    b->size = cap;
    b->used = 0;
    if (a->head != NULL && need > WK__ARENA_CHUNK / 4) {
      /* a big one-off block goes behind the current block, which keeps serving small ones */
      b->next = a->head->next;
      a->head->next = b;
    } else {
      b->next = a->head;
      a->head = b;
    }
  }
  p = (unsigned char *)b + WK__ARENA_HDR + b->used;
  b->used += need;
  memset(p, 0, size);
  return p;
}

void *wk__arena_calloc(wk__arena *a, size_t n, size_t size) {
  size_t total;
  if (!wk__mul_size(n, size, &total)) return NULL;
  return wk__arena_alloc(a, total == 0 ? 1 : total);
}

char *wk__arena_strndup(wk__arena *a, const char *s, size_t len) {
  char *p;
  if (len == SIZE_MAX) return NULL;
  p = (char *)wk__arena_alloc(a, len + 1);
  if (p == NULL) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *wk__arena_strdup(wk__arena *a, const char *s) { return wk__arena_strndup(a, s, strlen(s)); }

char *wk__arena_join(wk__arena *a, const char *first, const char *sep, const char *second) {
  size_t l1 = strlen(first), ls = l1 ? strlen(sep) : 0, l2 = strlen(second), total;
  char *p;
  if (!wk__add_size(l1, ls, &total) || !wk__add_size(total, l2, &total) || total == SIZE_MAX)
    return NULL;
  p = (char *)wk__arena_alloc(a, total + 1);
  if (p == NULL) return NULL;
  memcpy(p, first, l1);
  memcpy(p + l1, sep, ls);
  memcpy(p + l1 + ls, second, l2);
  p[total] = '\0';
  return p;
}

void wk__arena_free(wk__arena *a) {
  wk__arena_block *b = a->head;
  while (b != NULL) {
    wk__arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

/* }==================================================================== */

wk_status wk__file_new(const char *name, const wk_open_options *options, wk_file **out,
                       wk_error *err) {
  wk_file *f = (wk_file *)calloc(1, sizeof *f);
  if (f == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
  if (options != NULL) f->opts = *options;
  if (f->opts.max_tensors == 0) f->opts.max_tensors = WK__DEFAULT_MAX_TENSORS;
  if (f->opts.max_attribute_bytes == 0) f->opts.max_attribute_bytes = WK__DEFAULT_MAX_ATTRIBUTE_BYTES;
  if (f->opts.max_expand_ratio == 0) f->opts.max_expand_ratio = WK__DEFAULT_MAX_EXPAND_RATIO;
  f->budget = f->opts.max_tensors;
  f->name = wk__arena_strdup(&f->arena, name);
  if (f->name == NULL) {
    free(f);
    return wk__error_set(err, WK_ENOMEM, "out of memory");
  }
  *out = f;
  return WK_OK;
}

/* {====================================================================
** Format detection
** ===================================================================== */

static const unsigned char hdf5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* HDF5 looks for its superblock at 0, 512, 1024, 2048, ... (after a user block). */
static int is_hdf5_memory(const unsigned char *p, size_t size) {
  size_t off = 0;
  while (off <= size && size - off >= 8) {
    if (memcmp(p + off, hdf5_magic, 8) == 0) return 1;
    off = off == 0 ? 512 : off * 2;
  }
  return 0;
}

typedef enum { SNIFF_HDF5, SNIFF_ZIP, SNIFF_SAFETENSORS, SNIFF_OTHER } sniff_kind;

/* What the first bytes say (HDF5 may also sit after a user block: checked apart). */
static sniff_kind sniff_head(const unsigned char *head, size_t len, uint64_t size) {
  if (len >= 4 && memcmp(head, "PK\3\4", 4) == 0) return SNIFF_ZIP;
  if (wk__safetensors_sniff(head, len, size)) return SNIFF_SAFETENSORS;
  return SNIFF_OTHER;
}

static wk_status sniff_path(const char *path, sniff_kind *kind, wk_error *err) {
  unsigned char buf[9];
  off_t off = 0, size;
  ssize_t got;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", path, strerror(errno));
  size = lseek(fd, 0, SEEK_END);
  *kind = SNIFF_OTHER;
  while (size >= 8 && off <= size - 8) {
    if (pread(fd, buf, 8, off) != 8) break;
    if (memcmp(buf, hdf5_magic, 8) == 0) { *kind = SNIFF_HDF5; break; }
    off = off == 0 ? 512 : off * 2;
  }
  if (*kind == SNIFF_OTHER && size > 0 && (got = pread(fd, buf, sizeof buf, 0)) > 0)
    *kind = sniff_head(buf, (size_t)got, (uint64_t)size);
  close(fd);
  return WK_OK;
}

static wk_status unsupported(const char *name, sniff_kind kind, wk_error *err) {
  (void)kind;
  return wk__error_set(err, WK_EFORMAT,
                       "%s: not a recognized weights file (no HDF5, zip or safetensors signature, not a "
                       "TensorFlow checkpoint)",
                       name);
}

/* }==================================================================== */

/* A TF bundle at `prefix` (see wk_tfbundle_path.c for the paths that lead here). */
static wk_status open_tf(const char *path, const char *prefix, const char *format, const wk_open_options *options,
                         wk_file **out, wk_error *err) {
  wk_file *f;
  wk_status st = wk__file_new(path, options, &f, err);
  if (st != WK_OK) return st;
  st = wk__tfbundle_open(f, prefix, format, err);
  if (st != WK_OK) {
    wk_file_close(f);
    return st;
  }
  *out = f;
  return WK_OK;
}

WK_API wk_status wk_file_open(const char *path, const wk_open_options *options, wk_file **out,
                              wk_error *err) {
  sniff_kind kind = SNIFF_OTHER;
  struct stat sb;
  int regular;
  char *prefix = NULL;
  const char *format = NULL;
  size_t max_bytes = options != NULL && options->max_attribute_bytes ? options->max_attribute_bytes
                                                                     : WK__DEFAULT_MAX_ATTRIBUTE_BYTES;
  wk_file *f;
  wk_status st;
  if (path == NULL || out == NULL) return wk__error_set(err, WK_EINVAL, "wk_file_open: NULL argument");
  regular = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
  if (regular) {
    st = sniff_path(path, &kind, err);
    if (st != WK_OK) return st;
  }
  if (kind == SNIFF_OTHER) {
    /* directories, `.index` files and bundle prefixes (which need not exist themselves) */
    st = wk__tf_resolve(path, regular, max_bytes, &prefix, &format, err);
    if (st != WK_OK) return st;
    if (prefix != NULL) {
      st = open_tf(path, prefix, format, options, out, err);
      free(prefix);
      return st;
    }
    if (!regular && stat(path, &sb) != 0)
      return wk__error_set(err, WK_EIO, "%s: cannot open: %s", path, strerror(errno));
    return unsupported(path, kind, err);
  }
  st = wk__file_new(path, options, &f, err);
  if (st != WK_OK) return st;
  if (kind == SNIFF_ZIP) st = wk__zip_open_path(f, path, err);
  else if (kind == SNIFF_SAFETENSORS) st = wk__safetensors_open_path(f, path, err);
  else st = wk__h5_open_path(f, path, err);
  if (st != WK_OK) {
    wk_file_close(f);
    return st;
  }
  *out = f;
  return WK_OK;
}

WK_API wk_status wk_file_open_memory(const void *data, size_t size, const char *name,
                                     void (*release)(void *release_ctx), void *release_ctx,
                                     const wk_open_options *options, wk_file **out, wk_error *err) {
  wk_file *f;
  wk_status st;
  sniff_kind kind = SNIFF_OTHER;
  if (name == NULL) name = "<memory>";
  if ((data == NULL && size != 0) || out == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_open_memory: NULL argument");
  if (data != NULL && is_hdf5_memory((const unsigned char *)data, size)) kind = SNIFF_HDF5;
  else if (data != NULL) kind = sniff_head((const unsigned char *)data, size < 9 ? size : 9, size);
  if (kind == SNIFF_OTHER) return unsupported(name, kind, err);
  st = wk__file_new(name, options, &f, err);
  if (st != WK_OK) return st;
  st = wk__region_wrap(data, size, release, release_ctx, &f->region, err);
  if (st == WK_OK) {
    if (kind == SNIFF_ZIP) st = wk__zip_open_memory(f, err);
    else if (kind == SNIFF_SAFETENSORS) st = wk__safetensors_open_memory(f, data, size, err);
    else st = wk__h5_open_image(f, data, size, err);
  }
  if (st != WK_OK) {
    /* The caller keeps `data` on failure: drop the region without running its callback
    ** (no tensor was cut from it yet, so the handle holds its only reference). */
    wk__region *r = f->region;
    f->region = NULL;
    wk_file_close(f);
    wk__region_forget(r);
    return st;
  }
  *out = f;
  return WK_OK;
}

WK_API void wk_file_close(wk_file *f) {
  if (f == NULL) return;
  if (f->archive_close != NULL) f->archive_close(f);
  if (f->ops != NULL && f->ops->close != NULL) f->ops->close(f);
  wk__region_release(f->region);
  wk__arena_free(&f->arena);
  free(f);
}

static void optimizer_ready(const wk_file *f) {
  if (!f->opt_ready) f->ops->resolve_optimizer((wk_file *)(uintptr_t)f);
}

WK_API const char *wk_file_name(const wk_file *f) { return f->name; }
WK_API const char *wk_file_format(const wk_file *f) { return f->format; }
WK_API const char *wk_file_keras_version(const wk_file *f) { return f->keras_version; }
WK_API const char *wk_file_backend(const wk_file *f) { return f->backend; }
WK_API const char *wk_file_warning(const wk_file *f) {
  optimizer_ready(f);
  return f->warning;
}
WK_API size_t wk_file_layer_count(const wk_file *f) { return f->layer_count; }

WK_API size_t wk_file_metadata_count(const wk_file *f) { return f->meta_count; }

WK_API int wk_file_metadata(const wk_file *f, size_t index, const char **key, const char **value) {
  if (index >= f->meta_count) return 0;
  *key = f->meta_keys[index];
  *value = f->meta_values[index];
  return 1;
}

WK_API const char *wk_file_layer_name(const wk_file *f, size_t index) {
  return index < f->layer_count ? f->layers[index].name : NULL;
}

/*
** Lazy resolution. The const accessors cast the const away: every wk_file is allocated
** writable by wk__file_new, and resolving only fills the handle's own cache.
*/
WK_API wk_status wk_file_get_layer(wk_file *f, size_t index, const wk_layer_info **out,
                                   wk_error *err) {
  if (f == NULL || out == NULL) return wk__error_set(err, WK_EINVAL, "wk_file_get_layer: NULL argument");
  if (index >= f->layer_count)
    return wk__error_set(err, WK_EINVAL, "%s: layer index %zu out of range (%zu layers)", f->name, index,
                         f->layer_count);
  if (f->layer_ready != NULL && !f->layer_ready[index]) {
    wk_status st = f->ops->resolve_layer(f, index, err);
    if (st != WK_OK) return st;
  }
  *out = &f->layers[index];
  return WK_OK;
}

WK_API const wk_layer_info *wk_file_layer(const wk_file *f, size_t index) {
  const wk_layer_info *l = NULL;
  if (index >= f->layer_count) return NULL;
  if (f->layer_ready == NULL || f->layer_ready[index]) return &f->layers[index];
  return wk_file_get_layer((wk_file *)(uintptr_t)f, index, &l, NULL) == WK_OK ? l : NULL;
}

WK_API wk_status wk_file_get_top_level_weights(wk_file *f, const wk_layer_info **out,
                                               wk_error *err) {
  if (f == NULL || out == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_get_top_level_weights: NULL argument");
  if (!f->top_ready) {
    wk_status st = f->ops->resolve_top_level(f, err);
    if (st != WK_OK) return st;
  }
  *out = f->top_level;
  return WK_OK;
}

WK_API const wk_layer_info *wk_file_top_level_weights(const wk_file *f) {
  const wk_layer_info *l = NULL;
  if (f->top_ready) return f->top_level;
  return wk_file_get_top_level_weights((wk_file *)(uintptr_t)f, &l, NULL) == WK_OK ? l : NULL;
}

WK_API const wk_layer_info *wk_file_optimizer_weights(const wk_file *f) {
  optimizer_ready(f);
  return f->optimizer;
}

WK_API const wk_layer_info *wk_file_find_layer(const wk_file *f, const char *layer) {
  size_t i;
  if (layer == NULL) return NULL;
  for (i = 0; i < f->layer_count; i++)
    if (strcmp(f->layers[i].name, layer) == 0) return wk_file_layer(f, i);
  return NULL;
}

WK_API const wk_tensor_info *wk_file_find_weight(const wk_file *f, const char *layer,
                                                 const char *weight) {
  const wk_layer_info *l = wk_file_find_layer(f, layer);
  size_t i;
  if (l == NULL || weight == NULL) return NULL;
  for (i = 0; i < l->weight_count; i++)
    if (strcmp(l->weights[i].name, weight) == 0) return &l->weights[i];
  return NULL;
}

WK_API wk_status wk_file_tensors(wk_file *f, const wk_tensor_info **infos, size_t *count,
                                 wk_error *err) {
  if (f == NULL || infos == NULL || count == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_tensors: NULL argument");
  if (!f->tensors_ready) {
    wk_status st;
    optimizer_ready(f); /* its datasets' descriptions are reused */
    st = f->ops->list_tensors(f, err);
    if (st != WK_OK) return st;
    f->tensors_ready = 1;
  }
  *infos = f->tensors;
  *count = f->tensor_count;
  return WK_OK;
}

WK_API wk_status wk_file_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out,
                              wk_error *err) {
  if (f == NULL || info == NULL || out == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_read: NULL argument");
  return f->ops->read(f, info, out, err);
}

WK_API wk_status wk_file_string_attribute(wk_file *f, const char *object_path, const char *name,
                                          const char **out, wk_error *err) {
  if (f == NULL || name == NULL || out == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_file_string_attribute: NULL argument");
  if (object_path == NULL) object_path = "";
  return f->ops->string_attribute(f, object_path, name, out, err);
}
