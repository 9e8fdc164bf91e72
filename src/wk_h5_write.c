/*
** wk_h5_write.c — wk_write_keras2: a Keras 2 weights file from named tensors (the layout and
** types are documented in weightkit.h, section "Writing"; the facts in keras-formats.md §1).
**
** ORDER OF WORK (mirrors tf.keras hdf5_format.save_weights_to_hdf5_group):
**   1. check the whole spec (names, tensors, duplicates) before touching the filesystem;
**   2. the save's frame (wk__h5w_save, wk_h5_write_file.c: temporary file, libhdf5 lock, raw
**      write of the big tensors, fdatasync, rename) runs write_tree: root attributes
**      layer_names, backend, keras_version (then our weightkit_version); one group per layer in
**      name order (tf.keras: "sorted to avoid prefix issues"), each with weight_names then its
**      datasets in list order; top_level_model_weights. A full model (spec->model_config) puts
**      that layout in the group `model_weights` under its own root attributes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"
#include "wk_h5_write.h"

#define TOP_LEVEL "top_level_model_weights"
#define CTX_SIZE 640

/* {====================================================================
** Checks
** ===================================================================== */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct named {
  const char *name;
  size_t index;
} named;

/* By name, then by index: a total order, so the result does not depend on qsort's whims. */
static int cmp_named(const void *a, const void *b) {
  const named *x = (const named *)a, *y = (const named *)b;
  int c = strcmp(x->name, y->name);
  if (c != 0) return c;
  return (x->index > y->index) - (x->index < y->index);
}

/* Checks one weight list (a layer's or the top level's). `scratch` holds `count` pointers. */
static wk_status check_weights(const char *file, const char *layer, const wk_write_weight *w, size_t count,
                               const char **scratch, wk_error *err) {
  size_t i;
  if (count > 0 && w == NULL)
    return wk__error_set(err, WK_EINVAL, "%s: layer \"%.200s\": weights is NULL", file, layer);
  for (i = 0; i < count; i++) {
    const char *why = wk__h5w_path_problem(w[i].name);
    if (why != NULL)
      return wk__error_set(err, WK_EINVAL, "%s: layer \"%.200s\": weight %zu (\"%.200s\"): %s", file, layer, i + 1,
                           w[i].name ? w[i].name : "", why);
    if (w[i].tensor == NULL)
      return wk__error_set(err, WK_EINVAL, "%s: layer \"%.200s\": weight \"%.200s\": no tensor", file, layer,
                           w[i].name);
    if (!wk__dtype_valid(wk_tensor_dtype(w[i].tensor)))
      return wk__error_set(err, WK_EINVAL, "%s: layer \"%.200s\": weight \"%.200s\": invalid dtype", file, layer,
                           w[i].name);
    scratch[i] = w[i].name;
  }
  qsort((void *)scratch, count, sizeof *scratch, cmp_str);
  for (i = 1; i < count; i++)
    if (strcmp(scratch[i - 1], scratch[i]) == 0)
      return wk__error_set(err, WK_EINVAL, "%s: layer \"%.200s\": duplicate weight name \"%.200s\"", file, layer,
                           scratch[i]);
  return WK_OK;
}

/* Checks the spec; fills `order` with the layer indices sorted by name. */
static wk_status check_spec(const char *file, const wk_write_spec *spec, size_t *order, wk_error *err) {
  size_t i, most = spec->top_level_count;
  const char **scratch;
  wk_status s = WK_OK;
  if (spec->layer_count > 0 && spec->layers == NULL)
    return wk__error_set(err, WK_EINVAL, "%s: layers is NULL", file);
  if (spec->omit_top_level && spec->top_level_count > 0)
    return wk__error_set(err, WK_EINVAL, "%s: top-level weights given with omit_top_level", file);
  for (i = 0; i < spec->layer_count; i++) {
    const char *why = wk__h5w_path_problem(spec->layers[i].name);
    if (why != NULL)
      return wk__error_set(err, WK_EINVAL, "%s: layer %zu (\"%.200s\"): invalid layer name: %s", file, i + 1,
                           spec->layers[i].name ? spec->layers[i].name : "", why);
    if (!spec->omit_top_level && strcmp(spec->layers[i].name, TOP_LEVEL) == 0)
      return wk__error_set(err, WK_EINVAL, "%s: layer %zu: the name \"%s\" is reserved for the model's own weights",
                           file, i + 1, TOP_LEVEL);
    if (spec->layers[i].weight_count > most) most = spec->layers[i].weight_count;
  }
  scratch = (const char **)malloc((most ? most : 1) * sizeof *scratch);
  if (scratch == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", file);
  for (i = 0; i < spec->layer_count && s == WK_OK; i++)
    s = check_weights(file, spec->layers[i].name, spec->layers[i].weights, spec->layers[i].weight_count, scratch,
                      err);
  if (s == WK_OK)
    s = check_weights(file, TOP_LEVEL, spec->top_level, spec->top_level_count, scratch, err);
  free((void *)scratch);
  if (s != WK_OK) return s;
  /* Layer indices in name order (the order tf.keras creates the groups in). */
  {
    named *byname = (named *)malloc((spec->layer_count ? spec->layer_count : 1) * sizeof *byname);
    if (byname == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", file);
    for (i = 0; i < spec->layer_count; i++) {
      byname[i].name = spec->layers[i].name;
      byname[i].index = i;
    }
    qsort(byname, spec->layer_count, sizeof *byname, cmp_named);
    for (i = 0; i < spec->layer_count; i++) {
      if (i > 0 && strcmp(byname[i - 1].name, byname[i].name) == 0) {
        s = wk__error_set(err, WK_EINVAL, "%s: duplicate layer name \"%.200s\"", file, byname[i].name);
        break;
      }
      order[i] = byname[i].index;
    }
    free(byname);
  }
  return s;
}

/* }==================================================================== */

/* {====================================================================
** The tree (libhdf5 lock held)
** ===================================================================== */

/* One group: weight_names, then the datasets in list order. */
static wk_status write_group(const wk__h5w *w, hid_t parent, const char *name, const wk_write_weight *weights,
                             size_t count, wk_error *err) {
  char ctx[CTX_SIZE];
  const char **names;
  hid_t g;
  size_t i;
  wk_status s;
  snprintf(ctx, sizeof ctx, "%s: layer \"%.200s\"", w->file, name);
  g = H5Gcreate2(parent, name, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return wk__h5_error(err, WK_EIO, "%s: cannot create the group", ctx);
  names = (const char **)malloc((count ? count : 1) * sizeof *names);
  if (names == NULL) {
    H5Gclose(g);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  }
  for (i = 0; i < count; i++) names[i] = weights[i].name;
  s = wk__h5w_name_list(g, "weight_names", names, count, ctx, err);
  free((void *)names);
  for (i = 0; i < count && s == WK_OK; i++) {
    char wctx[CTX_SIZE + 256];
    snprintf(wctx, sizeof wctx, "%s: weight \"%.200s\"", ctx, weights[i].name);
    s = wk__h5w_dataset(w, g, weights[i].name, weights[i].tensor, WK__H5W_BF16_FLOAT32, wctx, err);
  }
  if (H5Gclose(g) < 0 && s == WK_OK) s = wk__h5_error(err, WK_EIO, "%s: cannot close the group", ctx);
  return s;
}

static wk_status write_root_attrs(const wk__h5w *w, hid_t file, const wk_write_spec *spec, wk_error *err) {
  char ctx[CTX_SIZE];
  const char **names;
  size_t i;
  wk_status s;
  snprintf(ctx, sizeof ctx, "%s", w->file);
  names = (const char **)malloc((spec->layer_count ? spec->layer_count : 1) * sizeof *names);
  if (names == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  for (i = 0; i < spec->layer_count; i++) names[i] = spec->layers[i].name;
  s = wk__h5w_name_list(file, "layer_names", names, spec->layer_count, ctx, err);
  free((void *)names);
  if (s == WK_OK)
    s = wk__h5w_scalar_string(file, "backend", spec->backend ? spec->backend : WK_WRITE_BACKEND, ctx, err);
  if (s == WK_OK)
    s = wk__h5w_scalar_string(file, "keras_version",
                              spec->keras_version ? spec->keras_version : WK_WRITE_KERAS_VERSION, ctx, err);
  if (s == WK_OK) s = wk__h5w_scalar_string(file, "weightkit_version", wk_version(), ctx, err);
  return s;
}

/* What the tree builder gets: the spec and its layer indices in name order. */
typedef struct keras2_job {
  const wk_write_spec *spec;
  const size_t *order;
} keras2_job;

/* The weights layout (keras-formats.md §1) in `group`: the root of a weights file, or the
** `model_weights` group of a full model. */
static wk_status write_weights(const wk__h5w *w, hid_t group, const keras2_job *job, wk_error *err) {
  const wk_write_spec *spec = job->spec;
  size_t i;
  wk_status s = write_root_attrs(w, group, spec, err);
  for (i = 0; i < spec->layer_count && s == WK_OK; i++) {
    const wk_write_layer *l = &spec->layers[job->order[i]];
    s = write_group(w, group, l->name, l->weights, l->weight_count, err);
  }
  if (s == WK_OK && !spec->omit_top_level)
    s = write_group(w, group, TOP_LEVEL, spec->top_level, spec->top_level_count, err);
  return s;
}

/* A full model (keras-formats.md §2, tf-keras save_model_to_hdf5): root attributes
** keras_version and backend (Python str: vlen UTF-8), model_config (JSON as bytes: vlen ASCII),
** then the weights in `model_weights`. */
static wk_status write_full_model(const wk__h5w *w, hid_t file, const keras2_job *job, wk_error *err) {
  const wk_write_spec *spec = job->spec;
  hid_t g;
  wk_status s = wk__h5w_vlen_string(file, "keras_version",
                                    spec->keras_version ? spec->keras_version : WK_WRITE_KERAS_VERSION,
                                    H5T_CSET_UTF8, w->file, err);
  if (s == WK_OK)
    s = wk__h5w_vlen_string(file, "backend", spec->backend ? spec->backend : WK_WRITE_BACKEND, H5T_CSET_UTF8,
                            w->file, err);
  if (s == WK_OK) s = wk__h5w_vlen_string(file, "model_config", spec->model_config, H5T_CSET_ASCII, w->file, err);
  if (s != WK_OK) return s;
  g = H5Gcreate2(file, "model_weights", w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return wk__h5_error(err, WK_EIO, "%s: cannot create the group model_weights", w->file);
  s = write_weights(w, g, job, err);
  if (H5Gclose(g) < 0 && s == WK_OK) s = wk__h5_error(err, WK_EIO, "%s: cannot close model_weights", w->file);
  return s;
}

static wk_status write_tree(const wk__h5w *w, hid_t file, const void *arg, wk_error *err) {
  const keras2_job *job = (const keras2_job *)arg;
  return job->spec->model_config ? write_full_model(w, file, job, err) : write_weights(w, file, job, err);
}

/* }==================================================================== */

wk_status wk_write_keras2(const char *path, const wk_write_spec *spec, wk_error *err) {
  keras2_job job;
  size_t *order;
  wk_status s;
  if (path == NULL || spec == NULL) return wk__error_set(err, WK_EINVAL, "wk_write_keras2: NULL path or spec");
  order = (size_t *)malloc((spec->layer_count ? spec->layer_count : 1) * sizeof *order);
  if (order == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
  s = check_spec(path, spec, order, err);
  job.spec = spec;
  job.order = order;
  if (s == WK_OK) s = wk__h5w_save(path, spec->overwrite, write_tree, &job, err);
  free(order);
  return s;
}
