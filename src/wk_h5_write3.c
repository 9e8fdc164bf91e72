/*
** wk_h5_write3.c — wk_write_keras3 and wk_write_keras3_memory: a Keras 3 weights file
** (save_weights('x.weights.h5'), the model.weights.h5 member of a .keras archive) from objects.
** The layout and types are documented in weightkit.h, section "Writing"; the facts in
** keras-formats.md §4.1 and §6.
**
** ORDER OF WORK (mirrors Keras 3's saving_lib with its H5IOStore):
**   1. check every object before touching the filesystem: its path (relative, no empty, "." or
**      "vars" component, valid UTF-8), its name (valid UTF-8: h5py stores a Python str), its
**      tensors; no path given twice;
**   2. the save's frame (wk_h5_write_file.c: an atomic file, or libhdf5's in-memory file image)
**      runs write_tree: per object, in the given order, group `<path>/vars` (missing parents
**      created as plain groups, as h5py's create_group does), its `name` attribute, then the
**      datasets "0", "1", ... (from `first` in a shard of a sharded .weights.json;
**      wk__h5w_dataset; bfloat16 as the opaque type + `dtype`).
**   The root gets no attribute (Keras 3 writes none; the format is recognised by its groups).
**
** OWNERSHIP. Objects, strings and tensors are the caller's, borrowed for the call.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"
#include "wk_h5_write.h"

#define CTX_SIZE 640
/* The file named in messages of an in-memory save. */
#define IMAGE_SHOWN "model.weights.h5 (in memory)"

/* {====================================================================
** Checks
** ===================================================================== */

/* 1 when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
** what encoding a Python str gives. */
static int utf8_ok(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p++;
    unsigned lo = 0x80, hi = 0xBF;
    int more;
    if (c < 0x80) continue;
    if (c >= 0xC2 && c <= 0xDF) more = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;      /* overlong */
      else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;      /* overlong */
      else if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
    } else {
      return 0;
    }
    if (*p < lo || *p > hi) return 0;
    p++;
    while (--more > 0) {
      if (*p < 0x80 || *p > 0xBF) return 0;
      p++;
    }
  }
  return 1;
}

/* NULL when `path` is a usable object path ("" is the model itself), else why not. */
static const char *object_path_problem(const char *path) {
  const char *why, *p;
  if (path == NULL) return "no path";
  if (path[0] == '\0') return NULL;
  why = wk__h5w_path_problem(path);
  if (why != NULL) return why;
  if (!utf8_ok(path)) return "not valid UTF-8";
  for (p = path;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 4 && memcmp(p, "vars", 4) == 0)
      return "a \"vars\" path component (the name of every object's own group)";
    if (slash == NULL) return NULL;
    p = slash + 1;
  }
}

typedef struct keyed {
  const char *path;
  size_t index;
} keyed;

/* By path, then by index: a total order, so the result does not depend on qsort's whims. */
static int cmp_keyed(const void *a, const void *b) {
  const keyed *x = (const keyed *)a, *y = (const keyed *)b;
  int c = strcmp(x->path, y->path);
  if (c != 0) return c;
  return (x->index > y->index) - (x->index < y->index);
}

static wk_status check_object(const char *file, const wk_write_object *o, size_t i, wk_error *err) {
  const char *why = object_path_problem(o->path);
  size_t k;
  if (why != NULL)
    return wk__error_set(err, WK_EINVAL, "%s: object %zu (\"%.200s\"): invalid path: %s", file, i + 1,
                         o->path ? o->path : "", why);
  if (o->name != NULL && !utf8_ok(o->name))
    return wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\": its name is not valid UTF-8", file, o->path);
  if (o->count > 0 && o->tensors == NULL)
    return wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\": tensors is NULL", file, o->path);
  if (o->first > (size_t)-1 - o->count)
    return wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\": first %zu + count %zu overflows", file, o->path,
                         o->first, o->count);
  for (k = 0; k < o->count; k++) {
    if (o->tensors[k] == NULL)
      return wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\": weight %zu: no tensor", file, o->path,
                           o->first + k);
    if (!wk__dtype_valid(wk_tensor_dtype(o->tensors[k])))
      return wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\": weight %zu: invalid dtype", file, o->path,
                           o->first + k);
  }
  return WK_OK;
}

static wk_status check_objects(const char *file, const wk_write_object *objects, size_t count, wk_error *err) {
  keyed *bypath;
  size_t i;
  wk_status s = WK_OK;
  if (count > 0 && objects == NULL) return wk__error_set(err, WK_EINVAL, "%s: objects is NULL", file);
  for (i = 0; i < count; i++) {
    s = check_object(file, &objects[i], i, err);
    if (s != WK_OK) return s;
  }
  bypath = (keyed *)malloc((count ? count : 1) * sizeof *bypath);
  if (bypath == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", file);
  for (i = 0; i < count; i++) {
    bypath[i].path = objects[i].path;
    bypath[i].index = i;
  }
  qsort(bypath, count, sizeof *bypath, cmp_keyed);
  for (i = 1; i < count && s == WK_OK; i++)
    if (strcmp(bypath[i - 1].path, bypath[i].path) == 0)
      s = wk__error_set(err, WK_EINVAL, "%s: object \"%.200s\" given twice (objects %zu and %zu)", file,
                        bypath[i].path, bypath[i - 1].index + 1, bypath[i].index + 1);
  free(bypath);
  return s;
}

/* }==================================================================== */

/* {====================================================================
** The tree (libhdf5 lock held)
** ===================================================================== */

typedef struct keras3_job {
  const wk_write_object *objects;
  size_t count;
} keras3_job;

/* Group `<path>/vars` ("vars" for the model), its `name`, then its datasets in order. */
static wk_status write_object(const wk__h5w *w, hid_t file, const wk_write_object *o, wk_error *err) {
  char ctx[CTX_SIZE];
  size_t len = strlen(o->path), k;
  char *group_path = (char *)malloc(len + sizeof "/vars");
  hid_t g;
  wk_status s = WK_OK;
  snprintf(ctx, sizeof ctx, "%s: object \"%.200s\"", w->file, o->path);
  if (group_path == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  if (len == 0) memcpy(group_path, "vars", sizeof "vars");
  else {
    memcpy(group_path, o->path, len);
    memcpy(group_path + len, "/vars", sizeof "/vars");
  }
  g = H5Gcreate2(file, group_path, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
  free(group_path);
  if (g < 0) return wk__h5_error(err, WK_EIO, "%s: cannot create its vars group", ctx);
  if (o->name != NULL) s = wk__h5w_vlen_string(g, "name", o->name, H5T_CSET_UTF8, ctx, err);
  for (k = 0; k < o->count && s == WK_OK; k++) {
    char key[32], wctx[CTX_SIZE + 64];
    snprintf(key, sizeof key, "%zu", o->first + k);
    snprintf(wctx, sizeof wctx, "%s: weight %s", ctx, key);
    s = wk__h5w_dataset(w, g, key, o->tensors[k], WK__H5W_BF16_OPAQUE, wctx, err);
  }
  if (H5Gclose(g) < 0 && s == WK_OK) s = wk__h5_error(err, WK_EIO, "%s: cannot close its vars group", ctx);
  return s;
}

static wk_status write_tree(const wk__h5w *w, hid_t file, const void *arg, wk_error *err) {
  const keras3_job *job = (const keras3_job *)arg;
  size_t i;
  wk_status s = WK_OK;
  for (i = 0; i < job->count && s == WK_OK; i++) s = write_object(w, file, &job->objects[i], err);
  return s;
}

/* }==================================================================== */

wk_status wk_write_keras3(const char *path, const wk_write_object *objects, size_t count, int overwrite,
                          wk_error *err) {
  keras3_job job;
  wk_status s;
  if (path == NULL) return wk__error_set(err, WK_EINVAL, "wk_write_keras3: NULL path");
  s = check_objects(path, objects, count, err);
  if (s != WK_OK) return s;
  job.objects = objects;
  job.count = count;
  return wk__h5w_save(path, overwrite, write_tree, &job, err);
}

wk_status wk_write_keras3_memory(const wk_write_object *objects, size_t count, void **data, size_t *size,
                                 wk_error *err) {
  keras3_job job;
  wk_status s;
  if (data == NULL || size == NULL)
    return wk__error_set(err, WK_EINVAL, "wk_write_keras3_memory: NULL data or size");
  s = check_objects(IMAGE_SHOWN, objects, count, err);
  if (s != WK_OK) return s;
  job.objects = objects;
  job.count = count;
  return wk__h5w_image(IMAGE_SHOWN, write_tree, &job, data, size, err);
}
