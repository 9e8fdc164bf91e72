/*
** wk_h5_keras2.c — the Keras 1/2 HDF5 layout (keras-formats.md §1, §2): weights-only files and
** the `model_weights` group of full-model files (Keras 1.2 .. 3 legacy writer).
**
** LAYOUT READ HERE
**   weights group W = the root, or root/model_weights when the root has no attribute named
**   exactly `layer_names` and has a `model_weights` link (Keras's own rule; a chunked
**   `layer_names0` at the root does not count).
**   W.attrs: layer_names (or layer_names0, layer_names1, ...), keras_version, backend.
**   W/<layer>: attribute weight_names (chunk-aware; absent = no weights); each weight is the
**   dataset at the relative path <weight name> inside the layer group (names contain '/').
**   W/top_level_model_weights: same shape as a layer, not listed in layer_names.
**   root/optimizer_weights: weight_names + datasets; never required (problems -> warning).
** Open reads metadata only: an eager handle every group's, a lazy one (opts.lazy) the weights
** group's attributes and layer_names, the rest on first access (resolve_* below; the same code
** either way, so the checks and messages are the same). A weight that is a plain dataset is
** described from its mapped object header (fast_weight, wk__h5_fast_dataset) without opening
** it; any other goes through libhdf5 (wk__h5_walk, wk__h5_describe). Opening the file,
** wk_file_tensors, wk_file_read and close are shared with Keras 3 (wk_h5_open.c, wk_h5_list.c).
** This layout's state: the weights group, kept open for lazy resolution (closed by k2_close).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"

typedef struct keras2 {
  hid_t wg;           /* the weights group (== the root for weights-only files) */
  const char *prefix; /* its path: "" or "model_weights" */
} keras2;

#define CTX_SIZE WK__H5_CTX_SIZE

static void layer_ctx(char *buf, const wk_file *f, const char *layer) {
  snprintf(buf, CTX_SIZE, "%s: layer \"%s\"", f->name, layer);
}

/* {====================================================================
** Layer groups
** ===================================================================== */

/*
** The fast path of a weight: `leaf` (one path component) under the open group `parent`. When
** it is a hard link to a plain dataset (wk__h5_fast_dataset), fills `info` from the mapped
** object header and records its window: no object is opened. Returns 0 otherwise, with no
** trace, and the caller takes the libhdf5 path (wk__h5_walk, wk__h5_describe), which makes
** the same checks and gives the same messages as before. The link lookup is the one
** wk__h5_walk starts with; a single component with no '/' and not "." cannot traverse
** another link.
*/
static int fast_weight(wk_file *f, hid_t parent, const char *leaf, wk_tensor_info *info) {
#if H5_VERSION_GE(1, 12, 0)
  (void)f; (void)parent; (void)leaf; (void)info;
  return 0; /* H5L_info2_t carries a token, not an address */
#else
  wk__h5_file *h = WK__H5_FILE(f);
  H5L_info_t li;
  uint64_t window;
  if (h->guard.bytes == NULL || leaf[0] == '\0' || strcmp(leaf, ".") == 0 || strchr(leaf, '/') != NULL)
    return 0;
  if (H5Lget_info(parent, leaf, &li, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (li.type != H5L_TYPE_HARD || !wk__h5_fast_dataset(&h->guard, (uint64_t)li.u.address, info, &window))
    return 0;
  if (window != UINT64_MAX && f->region != NULL) /* guard bytes == the region */
    wk__h5_window_put(h, info, window);
  return 1;
#endif
}

/*
** Fills `out` from an open group: its weight_names and, for each, the dataset's metadata.
** `prefix` is the group's full path ("" for the root), `label` what info->layer says,
** `ctx` the message prefix for the group. *budget counts down the weights left under
** max_tensors.
*/
static wk_status read_group(wk_file *f, hid_t group, const char *prefix, const char *label,
                            const char *ctx, size_t *budget, wk_layer_info *out, wk_error *err) {
  char **names;
  size_t n, i;
  int found;
  wk_tensor_info *infos = NULL;
  hid_t dir = -1;              /* the open parent group of the last weight, named dir_name */
  const char *dir_name = NULL;
  wk_status st = wk__h5_chunked_strings(&WK__H5_FILE(f)->guard, group, "weight_names", &f->arena,
                                        f->opts.max_tensors, f->opts.max_attribute_bytes, ctx, &names,
                                        &n, &found, err);
  if (st != WK_OK) return st;
  if (n > *budget)
    return wk__error_set(err, WK_ELIMIT, "%s: more than %zu weights in the file (max_tensors)", ctx,
                         f->opts.max_tensors);
  if (n > 0) {
    infos = (wk_tensor_info *)wk__arena_calloc(&f->arena, n, sizeof *infos);
    if (infos == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  }
  for (i = 0; i < n && st == WK_OK; i++) {
    char wctx[CTX_SIZE];
    hid_t obj;
    wk_tensor_info *info = &infos[i];
    const char *slash = strrchr(names[i], '/');
    snprintf(wctx, sizeof wctx, "%s: weight \"%s\"", ctx, names[i]);
    if (slash != NULL && slash != names[i] && slash[1] != '\0') {
      /* "dense_1/kernel:0": the weights of a layer share their parent group; walk to it once
      ** (same hard-links-only rules) and keep it open for the next weights. */
      size_t dlen = (size_t)(slash - names[i]);
      if (dir_name == NULL || strlen(dir_name) != dlen || memcmp(dir_name, names[i], dlen) != 0) {
        if (dir >= 0) H5Oclose(dir);
        dir = -1;
        dir_name = wk__arena_strndup(&f->arena, names[i], dlen);
        if (dir_name == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", wctx); break; }
        st = wk__h5_walk(group, dir_name, "dataset", wctx, &dir, err);
        if (st != WK_OK) { dir = -1; dir_name = NULL; break; }
        if (H5Iget_type(dir) != H5I_GROUP) {
          st = wk__error_set(err, WK_EFORMAT, "%s: dataset not found (\"%s\" is not a group)", wctx,
                             strrchr(dir_name, '/') ? strrchr(dir_name, '/') + 1 : dir_name);
          break;
        }
      }
      if (fast_weight(f, dir, slash + 1, info)) goto described;
      st = wk__h5_walk(dir, slash + 1, "dataset", wctx, &obj, err);
    } else {
      if (slash == NULL && fast_weight(f, group, names[i], info)) goto described;
      st = wk__h5_walk(group, names[i], "dataset", wctx, &obj, err);
    }
    if (st != WK_OK) break;
    if (H5Iget_type(obj) != H5I_DATASET) {
      H5Oclose(obj);
      st = wk__error_set(err, WK_EFORMAT, "%s: not a dataset", wctx);
      break;
    }
    st = wk__h5_describe(obj, info, wctx, err);
    if (st == WK_OK) wk__h5_note_window(f, obj, info);
    H5Oclose(obj);
    if (st != WK_OK) break;
  described:
    info->name = names[i];
    info->layer = label;
    info->path = wk__arena_join(&f->arena, prefix, "/", names[i]);
    if (info->path == NULL) st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", wctx);
  }
  if (dir >= 0) H5Oclose(dir);
  if (st != WK_OK) return st;
  *budget -= n;
  out->name = label;
  out->weight_count = n;
  out->weights = infos;
  return WK_OK;
}

/* Opens the direct child `name` of `parent` when it is a hard link to a group: *out = -1 and
** WK_OK when absent; WK_EFORMAT for other links and non-groups. */
static wk_status child_group(hid_t parent, const char *name, const char *ctx, hid_t *out,
                             wk_error *err) {
  int kind = wk__h5_link_kind(parent, name);
  hid_t g;
  *out = -1;
  H5Eclear2(H5E_DEFAULT);
  if (kind == 0) return WK_OK;
  if (kind < 0) return wk__error_set(err, WK_EFORMAT, "%s: \"%s\" is a soft or external link (not followed)", ctx, name);
  g = H5Oopen(parent, name, H5P_DEFAULT);
  if (g < 0) return wk__h5_error(err, WK_EFORMAT, "%s: cannot open \"%s\"", ctx, name);
  if (H5Iget_type(g) != H5I_GROUP) {
    H5Oclose(g);
    return wk__error_set(err, WK_EFORMAT, "%s: \"%s\" is not a group", ctx, name);
  }
  *out = g;
  return WK_OK;
}

static wk_status read_optimizer(wk_file *f, hid_t root, size_t *budget, wk_error *err) {
  char ctx[CTX_SIZE];
  hid_t g;
  wk_status st;
  wk_layer_info *l;
  snprintf(ctx, sizeof ctx, "%s: optimizer_weights", f->name);
  st = child_group(root, "optimizer_weights", ctx, &g, err);
  if (st != WK_OK || g < 0) return st;
  l = (wk_layer_info *)wk__arena_calloc(&f->arena, 1, sizeof *l);
  if (l == NULL) st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  else st = read_group(f, g, "optimizer_weights", "optimizer_weights", ctx, budget, l, err);
  H5Oclose(g);
  if (st == WK_OK) f->optimizer = l;
  return st;
}

static wk_status not_keras2(wk_file *f, hid_t wg, int descended, wk_error *err) {
  H5Eclear2(H5E_DEFAULT);
  if (H5Aexists(wg, "nb_layers") > 0)
    return wk__error_set(err, WK_EFORMAT,
                         "%s: Keras 0.x weights layout (nb_layers, layer_<i>) is not supported", f->name);
  return wk__error_set(err, WK_EFORMAT, "%s: not a Keras 1/2 weights file (no layer_names attribute%s)",
                       f->name, descended ? " on model_weights" : "");
}

/* {====================================================================
** Resolution (eager: all at open; lazy: on first access, see wk_file.h)
** ===================================================================== */

/* Layer `i`: its group, weight_names and datasets. The lock is held. */
static wk_status resolve_layer_locked(wk_file *f, size_t i, wk_error *err) {
  keras2 *k = (keras2 *)WK__H5_FILE(f)->layout;
  char ctx[CTX_SIZE];
  const char *name = f->layers[i].name, *lprefix;
  hid_t lg;
  wk_status st;
  layer_ctx(ctx, f, name);
  st = wk__h5_walk(k->wg, name, "group", ctx, &lg, err);
  if (st != WK_OK) return st;
  if (H5Iget_type(lg) != H5I_GROUP) {
    H5Oclose(lg);
    return wk__error_set(err, WK_EFORMAT, "%s: not a group", ctx);
  }
  lprefix = wk__arena_join(&f->arena, k->prefix, "/", name);
  st = lprefix == NULL ? wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx)
                       : read_group(f, lg, lprefix, name, ctx, &f->budget, &f->layers[i], err);
  H5Oclose(lg);
  if (st == WK_OK && f->layer_ready != NULL) f->layer_ready[i] = 1;
  return st;
}

static wk_status resolve_top_locked(wk_file *f, wk_error *err) {
  keras2 *k = (keras2 *)WK__H5_FILE(f)->layout;
  char ctx[CTX_SIZE];
  hid_t top = -1;
  wk_status st;
  layer_ctx(ctx, f, "top_level_model_weights");
  st = child_group(k->wg, "top_level_model_weights", ctx, &top, err);
  if (st != WK_OK) return st;
  if (top >= 0) {
    const char *tprefix = wk__arena_join(&f->arena, k->prefix, "/", "top_level_model_weights");
    wk_layer_info *l = (wk_layer_info *)wk__arena_calloc(&f->arena, 1, sizeof *l);
    if (tprefix == NULL || l == NULL)
      st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
    else
      st = read_group(f, top, tprefix, "top_level_model_weights", ctx, &f->budget, l, err);
    H5Oclose(top);
    if (st != WK_OK) return st;
    f->top_level = l;
  }
  f->top_ready = 1;
  return WK_OK;
}

/* Optimizer state is never required: a problem becomes the handle's warning. */
static void resolve_optimizer_locked(wk_file *f) {
  wk_error opt_err;
  if (read_optimizer(f, WK__H5_FILE(f)->root, &f->budget, &opt_err) != WK_OK) {
    f->optimizer = NULL;
    f->warning = wk__arena_strdup(&f->arena, opt_err.message);
  }
  f->opt_ready = 1;
}

static wk_status k2_resolve_layer(wk_file *f, size_t i, wk_error *err) {
  wk_status st;
  wk__h5_lock();
  st = resolve_layer_locked(f, i, err);
  wk__h5_unlock();
  return st;
}

static wk_status k2_resolve_top_level(wk_file *f, wk_error *err) {
  wk_status st;
  wk__h5_lock();
  st = resolve_top_locked(f, err);
  wk__h5_unlock();
  return st;
}

static void k2_resolve_optimizer(wk_file *f) {
  wk__h5_lock();
  resolve_optimizer_locked(f);
  wk__h5_unlock();
}

static void k2_close(wk_file *f) {
  wk__h5_file *h = WK__H5_FILE(f);
  keras2 *k = (keras2 *)h->layout;
  if (k->wg >= 0 && k->wg != h->root) H5Oclose(k->wg);
  free(k);
  h->layout = NULL;
}

static const wk__file_ops keras2_ops = {wk__h5_list_tensors, k2_resolve_layer, k2_resolve_top_level,
                                        k2_resolve_optimizer, wk__h5_file_read,
                                        wk__h5_file_string_attribute, wk__h5_file_close};

/* Everything after the layout choice: the weights group and its attributes, then (eager
** handles) every group's weights. The lock is held. */
wk_status wk__keras2_read_layout(wk_file *f, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  keras2 *k = (keras2 *)calloc(1, sizeof *k);
  char ctx[CTX_SIZE];
  char **lnames = NULL;
  size_t nlayers = 0, i;
  int found, descended = 0;
  wk_status st = WK_OK;

  if (k == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  k->wg = h->root;
  k->prefix = "";
  h->layout = k;
  h->layout_close = k2_close;
  f->ops = &keras2_ops;
  if (H5Aexists(h->root, "layer_names") <= 0 && wk__h5_link_kind(h->root, "model_weights") != 0) {
    hid_t wg = -1;
    st = child_group(h->root, "model_weights", f->name, &wg, err);
    if (st != WK_OK) return st;
    k->wg = wg;
    descended = 1;
    k->prefix = "model_weights";
  }
  H5Eclear2(H5E_DEFAULT);
  f->format = descended ? "keras2-h5-model" : "keras2-h5";
  snprintf(ctx, sizeof ctx, "%s%s", f->name, descended ? ": model_weights" : "");
  st = wk__h5_chunked_strings(&h->guard, k->wg, "layer_names", &f->arena, f->opts.max_tensors,
                              f->opts.max_attribute_bytes, ctx, &lnames, &nlayers, &found, err);
  if (st != WK_OK) return st;
  if (!found) return not_keras2(f, k->wg, descended, err);
  st = wk__h5_string(&h->guard, k->wg, "keras_version", &f->arena, f->opts.max_attribute_bytes, ctx,
                     &f->keras_version, err);
  if (st == WK_OK)
    st = wk__h5_string(&h->guard, k->wg, "backend", &f->arena, f->opts.max_attribute_bytes, ctx, &f->backend, err);
  if (st != WK_OK) return st;

  if (nlayers > 0) {
    f->layers = (wk_layer_info *)wk__arena_calloc(&f->arena, nlayers, sizeof *f->layers);
    if (f->layers == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    for (i = 0; i < nlayers; i++) f->layers[i].name = lnames[i];
  }
  if (f->opts.lazy) {
    f->layer_count = nlayers;
    if (nlayers > 0) {
      f->layer_ready = (unsigned char *)wk__arena_calloc(&f->arena, nlayers, 1);
      if (f->layer_ready == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    }
    return WK_OK;
  }
  for (i = 0; i < nlayers; i++) {
    st = resolve_layer_locked(f, i, err);
    if (st != WK_OK) return st;
    f->layer_count = i + 1;
  }
  st = resolve_top_locked(f, err);
  if (st == WK_OK) resolve_optimizer_locked(f);
  return st;
}

/* }==================================================================== */
