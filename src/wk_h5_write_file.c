/*
** wk_h5_write_file.c — the frame every HDF5 save runs in (wk_write_keras2, wk_write_keras3,
** wk_write_keras3_memory): libhdf5 set up as h5py sets it up, the format's tree builder (a
** wk__h5w_tree_fn), then the tensor bytes left in the plan.
**
**   wk__h5w_save   a temporary file next to the target (wk_atomic.c); under the libhdf5 lock:
**                  H5Fcreate, the tree, H5Fflush, H5Fclose; outside it: wk__h5w_raw_write
**                  pwrites the plan and fdatasyncs; then the rename. Any failure unlinks the
**                  temporary, so a previous file at the target stays byte-identical.
**   wk__h5w_image  the same file in memory: libhdf5's core driver without a backing store (no
**                  file is touched), the tree, H5Fflush, H5Fget_file_image into a malloc'd
**                  buffer, H5Fclose; outside the lock the plan's pieces are copied into the
**                  buffer at their dataset addresses. Those regions were allocated by libhdf5
**                  but never written (only each dataset's first element was), so the core
**                  driver's own memory never holds the big tensors: the peak is one image plus
**                  the tensors, not two images. The image is the file wk__h5w_save would write.
**
** H5PY'S DEFAULTS (keras-formats.md §6): default file creation properties (superblock version
** 0, symbol-table groups without creation-order tracking), default file access (libver
** earliest), link creation with intermediate groups ('/' in a name), dataset creation with fill
** time "if set" (contiguous layout and late allocation are libhdf5's defaults).
**
** OWNERSHIP. The tree's `arg` and every tensor in the plan are borrowed from the caller for the
** call. The image belongs to the caller on success (wk_free); nothing is left on failure.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_atomic.h"
#include "wk_h5.h"
#include "wk_h5_write.h"

/* The core driver grows its buffer by this much at a time. */
#define CORE_INCREMENT ((size_t)1 << 20)
/* The name libhdf5 gives the in-memory file (never opened on disk: no backing store). */
#define IMAGE_NAME "weightkit-image.weights.h5"

const char *wk__h5w_path_problem(const char *name) {
  const char *p = name;
  if (name == NULL) return "no name";
  if (name[0] == '\0') return "an empty name";
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 0) return "an empty path component (a leading, trailing or doubled '/')";
    if (len == 1 && p[0] == '.') return "a '.' path component";
    if (slash == NULL) return NULL;
    p = slash + 1;
  }
}

/* The whole file image of the open `file` (flushed), malloc'd. */
static wk_status take_image(hid_t file, const char *shown, unsigned char **data, size_t *size, wk_error *err) {
  ssize_t n = H5Fget_file_image(file, NULL, 0);
  unsigned char *buf;
  if (n <= 0) return wk__h5_error(err, WK_EIO, "%s: cannot get the HDF5 file image", shown);
  buf = (unsigned char *)malloc((size_t)n);
  if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory for the file image", shown);
  if (H5Fget_file_image(file, buf, (size_t)n) != n) {
    free(buf);
    return wk__h5_error(err, WK_EIO, "%s: cannot get the HDF5 file image", shown);
  }
  *data = buf;
  *size = (size_t)n;
  return WK_OK;
}

/*
** Creates the HDF5 file `name` (in memory when `image` is not NULL, which then receives the
** file image) and runs `tree` in it; the file is closed on return. Lock held.
*/
static wk_status build(const char *shown, const char *name, wk__h5w_tree_fn tree, const void *arg,
                       wk__h5w_plan *plan, unsigned char **image, size_t *image_size, wk_error *err) {
  wk__h5w w;
  hid_t fapl, file;
  wk_status s = WK_OK;
  w.file = shown;
  w.plan = plan;
  w.lcpl = H5Pcreate(H5P_LINK_CREATE);
  w.dcpl = H5Pcreate(H5P_DATASET_CREATE);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (w.lcpl < 0 || w.dcpl < 0 || fapl < 0 || H5Pset_create_intermediate_group(w.lcpl, 1) < 0 ||
      H5Pset_fill_time(w.dcpl, H5D_FILL_TIME_IFSET) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
      (image != NULL && H5Pset_fapl_core(fapl, CORE_INCREMENT, 0) < 0)) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot set up libhdf5", shown);
    goto done;
  }
  file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (file < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create the HDF5 file", shown);
    goto done;
  }
  s = tree(&w, file, arg, err);
  if (s == WK_OK && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
    s = wk__h5_error(err, WK_EIO, "%s: cannot flush the HDF5 file", shown);
  if (s == WK_OK && image != NULL) s = take_image(file, shown, image, image_size, err);
  if (H5Fclose(file) < 0 && s == WK_OK) s = wk__h5_error(err, WK_EIO, "%s: cannot close the HDF5 file", shown);
  if (s != WK_OK && image != NULL) {
    free(*image);
    *image = NULL;
  }
done:
  if (fapl >= 0) H5Pclose(fapl);
  if (w.dcpl >= 0) H5Pclose(w.dcpl);
  if (w.lcpl >= 0) H5Pclose(w.lcpl);
  return s;
}

wk_status wk__h5w_save(const char *path, int overwrite, wk__h5w_tree_fn tree, const void *arg,
                       wk_error *err) {
  wk__atomic a;
  wk__h5w_plan plan = {NULL, 0, 0};
  wk_status s = wk__atomic_begin(&a, path, overwrite, err);
  if (s != WK_OK) return s;
  wk__h5_lock();
  s = build(path, a.tmp_path, tree, arg, &plan, NULL, NULL, err);
  wk__h5_unlock();
  if (s == WK_OK) s = wk__h5w_raw_write(a.tmp_path, &plan, path, err); /* + fdatasync */
  wk__h5w_plan_free(&plan);
  if (s != WK_OK) {
    wk__atomic_abort(&a);
    return s;
  }
  a.synced = 1;
  return wk__atomic_commit(&a, err);
}

wk_status wk__h5w_image(const char *shown, wk__h5w_tree_fn tree, const void *arg, void **data,
                        size_t *size, wk_error *err) {
  wk__h5w_plan plan = {NULL, 0, 0};
  unsigned char *image = NULL;
  size_t image_size = 0, i;
  wk_status s;
  wk__h5_lock();
  s = build(shown, IMAGE_NAME, tree, arg, &plan, &image, &image_size, err);
  wk__h5_unlock();
  for (i = 0; i < plan.count && s == WK_OK; i++) {
    const wk__h5w_piece *p = &plan.items[i];
    if (p->offset > image_size || p->size > image_size - (size_t)p->offset)
      s = wk__error_set(err, WK_EIO, "%s: libhdf5 gave a dataset address outside the file image", shown);
    else memcpy(image + p->offset, p->data, p->size);
  }
  wk__h5w_plan_free(&plan);
  if (s != WK_OK) {
    free(image);
    return s;
  }
  *data = image;
  *size = image_size;
  return WK_OK;
}

void wk_free(void *p) {
  free(p);
}
