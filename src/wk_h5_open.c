/*
** wk_h5_open.c — opening an HDF5 file for any Keras layout, and what every layout shares:
** the zero-copy window table, wk_file_read, string attributes and close.
**
** OPENING
**   A path is mapped and libhdf5 parses that mapping through the core driver (open_image: no
**   copy); when it cannot be mapped it is opened through sec2 and the descriptor libhdf5
**   opened is mapped for zero-copy reads and the guard. A memory image (wk_file_open_memory,
**   a .keras member) goes through the core driver too, without copies. Then the root group is
**   opened and guarded and the root's content picks the layout (choose_layout):
**     attribute layer_names / layer_names0 / nb_layers, or a `model_weights` link -> Keras 1/2
**       (wk_h5_keras2.c; Keras's own rule for full models; nb_layers gets its 0.x message);
**     else a `vars`, `layers`, `_layer_checkpoint_dependencies` or `optimizer` link -> Keras 3
**       (wk_h5_keras3.c, keras-formats.md §4.1);
**     else "not a Keras weights file".
**
** OWNERSHIP
**   The wk__h5_file (f->impl) owns the file id, the root group id and the window table; the
**   layout reader's state hangs off it (layout, freed by layout_close). wk__h5_file_close
**   releases all of it under the lock; the region belongs to the wk_file.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wk_h5.h"

/* {====================================================================
** Zero-copy window table
** ===================================================================== */

static size_t ptr_hash(const void *p, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 17) & (cap - 1);
}

void wk__h5_window_put(wk__h5_file *h, const wk_tensor_info *info, uint64_t offset) {
  size_t i;
  if (2 * (h->window_count + 1) > h->window_cap) {
    size_t cap = h->window_cap ? 2 * h->window_cap : 256, j;
    wk__h5_window_slot *grown = (wk__h5_window_slot *)calloc(cap, sizeof *grown);
    if (grown == NULL) return;
    for (j = 0; j < h->window_cap; j++) {
      if (h->windows[j].info == NULL) continue;
      for (i = ptr_hash(h->windows[j].info, cap); grown[i].info != NULL; i = (i + 1) & (cap - 1)) {}
      grown[i] = h->windows[j];
    }
    free(h->windows);
    h->windows = grown;
    h->window_cap = cap;
  }
  for (i = ptr_hash(info, h->window_cap); h->windows[i].info != NULL; i = (i + 1) & (h->window_cap - 1))
    if (h->windows[i].info == info) return;
  h->windows[i].info = info;
  h->windows[i].offset = offset;
  h->window_count++;
}

const wk__h5_window_slot *wk__h5_window_get(const wk__h5_file *h, const wk_tensor_info *info) {
  size_t i;
  if (h->window_cap == 0) return NULL;
  for (i = ptr_hash(info, h->window_cap); h->windows[i].info != NULL; i = (i + 1) & (h->window_cap - 1))
    if (h->windows[i].info == info) return &h->windows[i];
  return NULL;
}

void wk__h5_note_window(wk_file *f, hid_t dset, const wk_tensor_info *info) {
  uint64_t off;
  if (f->region != NULL && wk__h5_window(dset, f->region, info, &off))
    wk__h5_window_put(WK__H5_FILE(f), info, off);
}

/* }==================================================================== */

/* {====================================================================
** Shared handle operations
** ===================================================================== */

void wk__h5_info_ctx(char *buf, const wk_file *f, const wk_tensor_info *info) {
  if (info->layer != NULL && info->name != NULL && strcmp(info->layer, "optimizer_weights") == 0)
    snprintf(buf, WK__H5_CTX_SIZE, "%s: optimizer_weights: weight \"%s\"", f->name, info->name);
  else if (info->layer != NULL && info->name != NULL)
    snprintf(buf, WK__H5_CTX_SIZE, "%s: layer \"%s\": weight \"%s\"", f->name, info->layer, info->name);
  else
    snprintf(buf, WK__H5_CTX_SIZE, "%s: dataset \"%s\"", f->name, info->path);
}

wk_status wk__h5_file_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  char ctx[WK__H5_CTX_SIZE];
  wk_status st;
  const wk__h5_window_slot *w = f->opts.no_mmap ? NULL : wk__h5_window_get(h, info);
  if (w != NULL) /* checked at open: inside the region, aligned, native type */
    return wk__region_tensor(f->region, w->offset, info->dtype, info->rank, info->shape,
                             info->nbytes, out, err);
  wk__h5_info_ctx(ctx, f, info);
  wk__h5_lock();
  st = wk__h5_read(h->fid, f->opts.no_mmap ? NULL : f->region, &f->opts, info, ctx, out, err);
  wk__h5_unlock();
  return st;
}

wk_status wk__h5_file_string_attribute(wk_file *f, const char *object_path, const char *name,
                                       const char **out, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  char ctx[WK__H5_CTX_SIZE];
  hid_t obj = -1;
  wk_status st;
  while (object_path[0] == '/') object_path++;
  snprintf(ctx, sizeof ctx, "%s: \"/%s\"", f->name, object_path);
  wk__h5_lock();
  if (object_path[0] == '\0') {
    obj = H5Oopen(h->fid, "/", H5P_DEFAULT);
    st = obj < 0 ? wk__h5_error(err, WK_EFORMAT, "%s: cannot open", ctx) : WK_OK;
  } else {
    st = wk__h5_walk(h->fid, object_path, "object", ctx, &obj, err);
  }
  if (st == WK_OK) st = wk__h5_string(&h->guard, obj, name, &f->arena, f->opts.max_attribute_bytes, ctx, out, err);
  if (obj >= 0) H5Oclose(obj);
  wk__h5_unlock();
  return st;
}

void wk__h5_file_close(wk_file *f) {
  wk__h5_file *h = WK__H5_FILE(f);
  if (h == NULL) return;
  wk__h5_lock();
  if (h->layout_close != NULL) h->layout_close(f);
  if (h->root >= 0) H5Gclose(h->root);
  if (h->fid >= 0) H5Fclose(h->fid);
  wk__h5_unlock();
  free(h->windows);
  free(h);
  f->impl = NULL;
}

/* Until a layout reader takes the handle: only close is ever called (on a failed open). */
static const wk__file_ops opening_ops = {NULL, NULL, NULL, NULL, NULL, NULL, wk__h5_file_close};

/* }==================================================================== */

/* {====================================================================
** Choosing the layout
** ===================================================================== */

static int has_attr(hid_t obj, const char *name) {
  int r = H5Aexists(obj, name) > 0;
  H5Eclear2(H5E_DEFAULT);
  return r;
}

/* After H5Fopen (lock held): the root group, its header vetted, then the layout reader. */
static wk_status choose_layout(wk_file *f, wk_error *err) {
  static const char *const keras3_roots[] = {"vars", "layers", "_layer_checkpoint_dependencies", "optimizer"};
  wk__h5_file *h = WK__H5_FILE(f);
  size_t i;
  wk_status st;
  if ((h->root = H5Gopen2(h->fid, "/", H5P_DEFAULT)) < 0)
    return wk__h5_error(err, WK_EFORMAT, "%s: cannot open the root group", f->name);
  st = wk__h5_guard_object(&h->guard, h->root, f->name, err);
  if (st != WK_OK) return st;
  if (has_attr(h->root, "layer_names") || has_attr(h->root, "layer_names0") ||
      has_attr(h->root, "nb_layers") || wk__h5_link_kind(h->root, "model_weights") != 0)
    return wk__keras2_read_layout(f, err);
  H5Eclear2(H5E_DEFAULT);
  for (i = 0; i < sizeof keras3_roots / sizeof *keras3_roots; i++)
    if (wk__h5_link_kind(h->root, keras3_roots[i]) != 0) return wk__keras3_read_layout(f, err);
  H5Eclear2(H5E_DEFAULT);
  return wk__error_set(err, WK_EFORMAT,
                       "%s: not a Keras weights file (no layer_names attribute, no model_weights, "
                       "vars or layers group)", f->name);
}

/* }==================================================================== */

/* {====================================================================
** Opening
** ===================================================================== */

static wk_status attach(wk_file *f, wk__h5_file **out, wk_error *err) {
  wk__h5_file *h = (wk__h5_file *)calloc(1, sizeof *h);
  if (h == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  h->fid = h->root = -1;
  f->impl = h;
  f->ops = &opening_ops;
  *out = h;
  return WK_OK;
}

static hid_t base_fapl(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return -1;
  /* close every object of the file with it, whatever is left open */
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  {
    /* A small metadata cache. The open visits each object header once (wk_file_read of a
    ** zero-copy dataset needs no metadata at all), so libhdf5's adaptive cache, which grows
    ** when its hit rate is low, only costs memory: on a file of 20,000 layers it grew the
    ** process to ~350 MB; capped at 4 MiB the open takes ~120 MB and ~20% less CPU. */
    H5AC_cache_config_t c;
    memset(&c, 0, sizeof c);
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Pget_mdc_config(fapl, &c) >= 0) {
      c.set_initial_size = 1;
      c.initial_size = (size_t)2 << 20;
      c.max_size = (size_t)4 << 20;
      if (c.min_size > c.initial_size) c.min_size = c.initial_size;
      (void)H5Pset_mdc_config(fapl, &c); /* a refusal keeps libhdf5's defaults */
    }
    H5Eclear2(H5E_DEFAULT);
  }
#if H5_VERSION_GE(1, 10, 7)
  /* keep HDF5's shared lock, but do not fail on file systems without locks */
  H5Pset_file_locking(fapl, 1, 1);
#endif
  return fapl;
}

/*
** A path is mapped first and libhdf5 reads its metadata from that mapping through the core
** driver (wk__h5_open_image: no copy, every read a memcpy), the mapping serving zero-copy
** reads and the guard. Through the sec2 driver, libhdf5 re-reads evicted metadata with one
** pread each: ~370,000 system calls, a quarter of the time, to inspect a file of 20,000
** layers. When the file cannot be mapped (not a regular file, empty, the OS refuses) it is
** opened through sec2.
*/
wk_status wk__h5_open_path(wk_file *f, const char *path, wk_error *err) {
  wk__h5_file *h = NULL;
  hid_t fapl;
  wk_status st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    wk__region *r = NULL;
    st = wk__region_map_fd(fd, f->name, &r, NULL);
    close(fd);
    if (st == WK_OK) {
      f->region = r; /* released by wk_file_close, on failure too */
      return wk__h5_open_image(f, wk__region_data(r), wk__region_size(r), err);
    }
  }
  st = attach(f, &h, err);
  if (st != WK_OK) return st;
  wk__h5_lock();
  fapl = base_fapl();
  if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
    st = wk__h5_error(err, WK_EIO, "%s: cannot set up libhdf5", f->name);
    goto done;
  }
  h->fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (h->fid < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open as HDF5", f->name);
    goto done;
  }
  {
    /* Map the very file libhdf5 opened (its sec2 descriptor), not the path again. The
    ** mapping serves zero-copy reads (unless no_mmap) and the vlen guard. A failed mapping
    ** costs speed (every read copies) and variable-length string attributes (refused). */
    void *handle = NULL;
    if (H5Fget_vfd_handle(h->fid, fapl, &handle) >= 0 && handle != NULL)
      (void)wk__region_map_fd(*(int *)handle, f->name, &f->region, NULL);
    H5Eclear2(H5E_DEFAULT);
  }
  st = wk__h5_guard_init(h->fid, f->region ? wk__region_data(f->region) : NULL,
                         f->region ? wk__region_size(f->region) : 0, &h->guard, err);
  if (st == WK_OK) st = choose_layout(f, err);
done:
  if (fapl >= 0) H5Pclose(fapl);
  wk__h5_unlock();
  return st;
}

/*
** Memory images: libhdf5's core driver normally copies the image (once into the property
** list, again when the file opens). These callbacks hand it the caller's buffer instead and
** make every copy a no-op, which is safe because the file is opened read-only: libhdf5 never
** writes, grows or frees the image. `udata` is the handle's wk__h5_image.
*/
static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
  wk__h5_image *u = (wk__h5_image *)udata;
  (void)op;
  return size == u->size ? (void *)(uintptr_t)u->buf : NULL;
}

static void *img_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                        void *udata) {
  (void)size;
  (void)op;
  (void)udata;
  return dest == src ? dest : NULL;
}

static void *img_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
  (void)ptr;
  (void)size;
  (void)op;
  (void)udata;
  return NULL;
}

static herr_t img_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
  (void)ptr;
  (void)op;
  (void)udata;
  return 0;
}

static void *img_udata_copy(void *udata) { return udata; }
static herr_t img_udata_free(void *udata) {
  (void)udata;
  return 0;
}

wk_status wk__h5_open_image(wk_file *f, const void *data, size_t size, wk_error *err) {
  wk__h5_file *h = NULL;
  hid_t fapl;
  char name[64];
  H5FD_file_image_callbacks_t cb;
  wk_status st = attach(f, &h, err);
  if (st != WK_OK) return st;
  h->image.buf = data;
  h->image.size = size;
  cb.image_malloc = img_malloc;
  cb.image_memcpy = img_memcpy;
  cb.image_realloc = img_realloc;
  cb.image_free = img_free;
  cb.udata_copy = img_udata_copy;
  cb.udata_free = img_udata_free;
  cb.udata = &h->image;
  /* libhdf5 recognizes an already open file by name: make the name unique per handle. */
  snprintf(name, sizeof name, "wk-memory-image-%p", (void *)f);
  wk__h5_lock();
  fapl = base_fapl();
  if (fapl < 0 || H5Pset_fapl_core(fapl, 65536, 0) < 0 || H5Pset_file_image_callbacks(fapl, &cb) < 0 ||
      H5Pset_file_image(fapl, (void *)(uintptr_t)data, size) < 0) {
    st = wk__h5_error(err, WK_EIO, "%s: cannot set up libhdf5 for a memory image", f->name);
    goto done;
  }
  h->fid = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  if (h->fid < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open as HDF5", f->name);
    goto done;
  }
  st = wk__h5_guard_init(h->fid, (const unsigned char *)data, size, &h->guard, err);
  if (st == WK_OK) st = choose_layout(f, err);
done:
  if (fapl >= 0) H5Pclose(fapl);
  wk__h5_unlock();
  return st;
}

/* }==================================================================== */
