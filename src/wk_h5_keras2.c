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
** it; any other goes through libhdf5 (wk__h5_walk, wk__h5_describe). wk_file_read of a
** dataset with a zero-copy window is a table lookup; others open it again by its full path.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wk_h5.h"

typedef struct image_udata {
  const void *buf;
  size_t size;
} image_udata;

/* A dataset known at open time to be readable zero-copy: where its bytes start in the region. */
typedef struct k2_window {
  const wk_tensor_info *info; /* NULL: free slot */
  uint64_t offset;
} k2_window;

typedef struct keras2 {
  hid_t fid;
  wk__h5_guard guard; /* reads the file image to vet vlen strings before libhdf5 does */
  image_udata image; /* memory opens only: must outlive the fapl and the file */
  /* Zero-copy windows by info pointer (open addressing, power-of-two capacity, at most half
  ** full). Filled while the datasets are open for their metadata anyway; then wk_file_read
  ** of such a dataset is a table lookup and a window on the mapping, with no libhdf5 call
  ** (which costs ~40 us a dataset: the path walked again from the root, the dataset opened). */
  k2_window *windows;
  size_t window_cap, window_count;
  /* Kept open for lazy resolution (closed by k2_close): the root group and the weights
  ** group (== root for weights-only files), and the weights group's path prefix. */
  hid_t root, wg;
  const char *prefix;
} keras2;

#define CTX_SIZE WK_ERROR_MESSAGE_SIZE

static void layer_ctx(char *buf, const wk_file *f, const char *layer) {
  snprintf(buf, CTX_SIZE, "%s: layer \"%s\"", f->name, layer);
}

static void info_ctx(char *buf, const wk_file *f, const wk_tensor_info *info) {
  if (info->layer != NULL && info->name != NULL && strcmp(info->layer, "optimizer_weights") == 0)
    snprintf(buf, CTX_SIZE, "%s: optimizer_weights: weight \"%s\"", f->name, info->name);
  else if (info->layer != NULL && info->name != NULL)
    snprintf(buf, CTX_SIZE, "%s: layer \"%s\": weight \"%s\"", f->name, info->layer, info->name);
  else
    snprintf(buf, CTX_SIZE, "%s: dataset \"%s\"", f->name, info->path);
}

/* {====================================================================
** Zero-copy window table
** ===================================================================== */

static size_t ptr_hash(const void *p, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 17) & (cap - 1);
}

/* Records a window; a failed allocation only costs speed (the read goes through libhdf5). */
static void window_put(keras2 *k, const wk_tensor_info *info, uint64_t offset) {
  size_t i;
  if (2 * (k->window_count + 1) > k->window_cap) {
    size_t cap = k->window_cap ? 2 * k->window_cap : 256, j;
    k2_window *grown = (k2_window *)calloc(cap, sizeof *grown);
    if (grown == NULL) return;
    for (j = 0; j < k->window_cap; j++) {
      if (k->windows[j].info == NULL) continue;
      for (i = ptr_hash(k->windows[j].info, cap); grown[i].info != NULL; i = (i + 1) & (cap - 1)) {}
      grown[i] = k->windows[j];
    }
    free(k->windows);
    k->windows = grown;
    k->window_cap = cap;
  }
  for (i = ptr_hash(info, k->window_cap); k->windows[i].info != NULL; i = (i + 1) & (k->window_cap - 1))
    if (k->windows[i].info == info) return;
  k->windows[i].info = info;
  k->windows[i].offset = offset;
  k->window_count++;
}

static const k2_window *window_get(const keras2 *k, const wk_tensor_info *info) {
  size_t i;
  if (k->window_cap == 0) return NULL;
  for (i = ptr_hash(info, k->window_cap); k->windows[i].info != NULL; i = (i + 1) & (k->window_cap - 1))
    if (k->windows[i].info == info) return &k->windows[i];
  return NULL;
}

/* After wk__h5_describe: remember the dataset's window when it has one. */
static void note_window(wk_file *f, hid_t dset, const wk_tensor_info *info) {
  uint64_t off;
  if (f->region != NULL && wk__h5_window(dset, f->region, info, &off))
    window_put((keras2 *)f->impl, info, off);
}

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
  keras2 *k = (keras2 *)f->impl;
  H5L_info_t li;
  uint64_t window;
  if (k->guard.bytes == NULL || leaf[0] == '\0' || strcmp(leaf, ".") == 0 || strchr(leaf, '/') != NULL)
    return 0;
  if (H5Lget_info(parent, leaf, &li, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (li.type != H5L_TYPE_HARD || !wk__h5_fast_dataset(&k->guard, (uint64_t)li.u.address, info, &window))
    return 0;
  if (window != UINT64_MAX && f->region != NULL) /* guard bytes == the region */
    window_put(k, info, window);
  return 1;
#endif
}

/* }==================================================================== */

/* {====================================================================
** Layer groups
** ===================================================================== */

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
  wk_status st = wk__h5_chunked_strings(&((keras2 *)f->impl)->guard, group, "weight_names", &f->arena,
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
    if (st == WK_OK) note_window(f, obj, info);
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

static wk_status not_keras2(wk_file *f, hid_t root, hid_t wg, int descended, wk_error *err) {
  H5Eclear2(H5E_DEFAULT);
  if (H5Aexists(wg, "nb_layers") > 0)
    return wk__error_set(err, WK_EFORMAT,
                         "%s: Keras 0.x weights layout (nb_layers, layer_<i>) is not supported", f->name);
  if (!descended && (wk__h5_link_kind(root, "layers") != 0 || wk__h5_link_kind(root, "vars") != 0))
    return wk__error_set(err, WK_EFORMAT,
                         "%s: not a Keras 1/2 weights file (no layer_names attribute; the layout "
                         "looks like a Keras 3 .weights.h5 file)", f->name);
  return wk__error_set(err, WK_EFORMAT, "%s: not a Keras 1/2 weights file (no layer_names attribute%s)",
                       f->name, descended ? " on model_weights" : "");
}

/* {====================================================================
** Resolution (eager: all at open; lazy: on first access, see wk_file.h)
** ===================================================================== */

/* Layer `i`: its group, weight_names and datasets. The lock is held. */
static wk_status resolve_layer_locked(wk_file *f, size_t i, wk_error *err) {
  keras2 *k = (keras2 *)f->impl;
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
  keras2 *k = (keras2 *)f->impl;
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
  if (read_optimizer(f, ((keras2 *)f->impl)->root, &f->budget, &opt_err) != WK_OK) {
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

/* Everything after H5Fopen: the weights group and its attributes, then (eager handles) every
** group's weights. The lock is held. */
static wk_status read_layout(wk_file *f, hid_t fid, wk_error *err) {
  keras2 *k = (keras2 *)f->impl;
  char ctx[CTX_SIZE];
  hid_t root = -1, wg = -1;
  char **lnames = NULL;
  size_t nlayers = 0, i;
  int found, descended = 0;
  const char *prefix = "";
  wk_status st = WK_OK;

  if ((root = H5Gopen2(fid, "/", H5P_DEFAULT)) < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open the root group", f->name);
    goto done;
  }
  wg = root;
  st = wk__h5_guard_object(&k->guard, root, f->name, err);
  if (st != WK_OK) goto done;
  if (H5Aexists(root, "layer_names") <= 0 && wk__h5_link_kind(root, "model_weights") != 0) {
    st = child_group(root, "model_weights", f->name, &wg, err);
    if (st != WK_OK) { wg = -1; goto done; }
    descended = 1;
    prefix = "model_weights";
  }
  H5Eclear2(H5E_DEFAULT);
  f->format = descended ? "keras2-h5-model" : "keras2-h5";
  snprintf(ctx, sizeof ctx, "%s%s", f->name, descended ? ": model_weights" : "");
  st = wk__h5_chunked_strings(&k->guard, wg, "layer_names", &f->arena, f->opts.max_tensors,
                              f->opts.max_attribute_bytes, ctx, &lnames, &nlayers, &found, err);
  if (st != WK_OK) goto done;
  if (!found) { st = not_keras2(f, root, wg, descended, err); goto done; }
  st = wk__h5_string(&k->guard, wg, "keras_version", &f->arena, f->opts.max_attribute_bytes, ctx, &f->keras_version, err);
  if (st == WK_OK)
    st = wk__h5_string(&k->guard, wg, "backend", &f->arena, f->opts.max_attribute_bytes, ctx, &f->backend, err);
  if (st != WK_OK) goto done;

  if (nlayers > 0) {
    f->layers = (wk_layer_info *)wk__arena_calloc(&f->arena, nlayers, sizeof *f->layers);
    if (f->layers == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name); goto done; }
    for (i = 0; i < nlayers; i++) f->layers[i].name = lnames[i];
  }
  k->root = root;
  k->wg = wg;
  k->prefix = prefix;
  root = wg = -1; /* the handle's now */
  if (f->opts.lazy) {
    f->layer_count = nlayers;
    if (nlayers > 0) {
      f->layer_ready = (unsigned char *)wk__arena_calloc(&f->arena, nlayers, 1);
      if (f->layer_ready == NULL) st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    }
    goto done;
  }
  for (i = 0; i < nlayers; i++) {
    st = resolve_layer_locked(f, i, err);
    if (st != WK_OK) goto done;
    f->layer_count = i + 1;
  }
  st = resolve_top_locked(f, err);
  if (st == WK_OK) resolve_optimizer_locked(f);
done:
  if (wg >= 0 && wg != root) H5Oclose(wg);
  if (root >= 0) H5Gclose(root);
  return st;
}

/* }==================================================================== */

/* {====================================================================
** Handle operations
** ===================================================================== */

/*
** Dataset enumeration: a depth-first walk over hard links in name order (the order of h5py's
** visititems), each object once (a set of object addresses breaks hard-link cycles). Every
** link seen counts against a cap, so a corrupt group structure that makes libhdf5 yield the
** same links again and again ends with WK_ELIMIT instead of running forever (H5Ovisit only
** reports objects it has not seen, which is why it is not used).
*/
typedef struct visit_state {
  wk_file *f;
  char **paths;
  wk_tensor_info *infos; /* described in the walk (fast path) when infos[i].layout != NULL */
  uint64_t *windows;     /* their zero-copy offsets, UINT64_MAX for none */
  size_t count, cap, links, max, max_links;
  char *prefix;      /* current group path, '/'-separated, no leading '/' */
  size_t prefix_len, prefix_cap;
  uint64_t *seen;    /* open-addressing set of object addresses (0 = empty slot) */
  size_t seen_n, seen_cap;
  int depth;
  wk_status st;
} visit_state;

/* Adds addr + 1 (so that 0 marks empty slots); returns 1 when it was already present,
** -1 when out of memory. */
static int seen_add(visit_state *v, uint64_t addr) {
  uint64_t key = addr + 1;
  size_t i;
  if (v->seen_n * 2 >= v->seen_cap) {
    size_t cap = v->seen_cap ? v->seen_cap * 2 : 256, j;
    uint64_t *grown = (uint64_t *)calloc(cap, sizeof *grown);
    if (grown == NULL) return -1;
    for (j = 0; j < v->seen_cap; j++) {
      if (v->seen[j] == 0) continue;
      for (i = (size_t)(v->seen[j] * 0x9e3779b97f4a7c15ull) & (cap - 1); grown[i]; i = (i + 1) & (cap - 1)) {}
      grown[i] = v->seen[j];
    }
    free(v->seen);
    v->seen = grown;
    v->seen_cap = cap;
  }
  for (i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (v->seen_cap - 1); v->seen[i]; i = (i + 1) & (v->seen_cap - 1))
    if (v->seen[i] == key) return 1;
  v->seen[i] = key;
  v->seen_n++;
  return 0;
}

static herr_t link_cb(hid_t group, const char *name, const H5L_info_t *li, void *data) {
  visit_state *v = (visit_state *)data;
  H5O_info_t oi;
  size_t len = strlen(name), old = v->prefix_len, need;
  int dup;
  wk_tensor_info fast;
  uint64_t window = UINT64_MAX;
  const wk__h5_guard *g = &((keras2 *)v->f->impl)->guard;
  if (++v->links > v->max_links) { v->st = WK_ELIMIT; return -1; }
  if (li->type != H5L_TYPE_HARD) return 0; /* soft, external, user-defined: never followed */
  memset(&fast, 0, sizeof fast); /* layout NULL: not described */
#if !H5_VERSION_GE(1, 12, 0)
  /* The object's kind straight from its mapped header when it is plain (a dataset described
  ** on the way, or a group); else libhdf5 loads the header to tell. */
  if (wk__h5_fast_dataset(g, (uint64_t)li->u.address, &fast, &window)) {
    oi.type = H5O_TYPE_DATASET;
    oi.addr = li->u.address;
  } else if (wk__h5_fast_is_group(g, (uint64_t)li->u.address)) {
    oi.type = H5O_TYPE_GROUP;
    oi.addr = li->u.address;
  } else
#endif
  if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) { v->st = WK_EFORMAT; return -1; }
  if (oi.type != H5O_TYPE_DATASET && oi.type != H5O_TYPE_GROUP) return 0;
  dup = seen_add(v, (uint64_t)oi.addr);
  if (dup < 0) { v->st = WK_ENOMEM; return -1; }
  if (dup) return 0;
  need = old + (old ? 1 : 0) + len + 1;
  if (need > v->prefix_cap) {
    size_t cap = need * 2;
    char *grown = (char *)realloc(v->prefix, cap);
    if (grown == NULL) { v->st = WK_ENOMEM; return -1; }
    v->prefix = grown;
    v->prefix_cap = cap;
  }
  if (old) v->prefix[v->prefix_len++] = '/';
  memcpy(v->prefix + v->prefix_len, name, len + 1);
  v->prefix_len += len;
  if (oi.type == H5O_TYPE_DATASET) {
    char *p;
    if (v->count >= v->max) { v->st = WK_ELIMIT; return -1; }
    if (v->count == v->cap) {
      size_t cap = v->cap ? v->cap * 2 : 64;
      char **grown = (char **)realloc(v->paths, cap * sizeof *grown);
      wk_tensor_info *ginfos;
      uint64_t *gwin;
      if (grown == NULL) { v->st = WK_ENOMEM; return -1; }
      v->paths = grown;
      ginfos = (wk_tensor_info *)realloc(v->infos, cap * sizeof *ginfos);
      if (ginfos == NULL) { v->st = WK_ENOMEM; return -1; }
      v->infos = ginfos;
      gwin = (uint64_t *)realloc(v->windows, cap * sizeof *gwin);
      if (gwin == NULL) { v->st = WK_ENOMEM; return -1; }
      v->windows = gwin;
      v->cap = cap;
    }
    p = wk__arena_strdup(&v->f->arena, v->prefix);
    if (p == NULL) { v->st = WK_ENOMEM; return -1; }
    v->infos[v->count] = fast; /* layout NULL: not described yet */
    v->windows[v->count] = window;
    v->paths[v->count++] = p;
  } else {
    hid_t sub;
    herr_t r;
    if (v->depth >= 64) { v->st = WK_ELIMIT; return -1; }
#if !H5_VERSION_GE(1, 12, 0)
    /* the hard link's address (a group's, checked above): no second lookup of the name */
    sub = H5Oopen_by_addr(group, li->u.address);
    if (sub >= 0 && H5Iget_type(sub) != H5I_GROUP) { H5Oclose(sub); sub = -1; }
#else
    sub = H5Gopen2(group, name, H5P_DEFAULT);
#endif
    if (sub < 0) { v->st = WK_EFORMAT; return -1; }
    v->depth++;
    r = H5Literate(sub, H5_INDEX_NAME, H5_ITER_INC, NULL, link_cb, v);
    v->depth--;
    H5Oclose(sub);
    if (r < 0) {
      if (v->st == WK_OK) v->st = WK_EFORMAT;
      return -1;
    }
  }
  v->prefix_len = old;
  v->prefix[old] = '\0';
  return 0;
}

static wk_status k2_list_tensors(wk_file *f, wk_error *err) {
  keras2 *k = (keras2 *)f->impl;
  visit_state v;
  wk_status st = WK_OK;
  wk_tensor_info *infos = NULL;
  hid_t root = -1;
  size_t i;
  memset(&v, 0, sizeof v);
  v.f = f;
  v.st = WK_OK;
  /* datasets count against max_tensors, links (groups too) against 4x that */
  v.max = f->opts.max_tensors;
  v.max_links = v.max > SIZE_MAX / 4 ? SIZE_MAX : v.max * 4;
  wk__h5_lock();
  root = H5Gopen2(k->fid, "/", H5P_DEFAULT);
  if (root < 0 || H5Literate(root, H5_INDEX_NAME, H5_ITER_INC, NULL, link_cb, &v) < 0) {
    if (v.st == WK_ELIMIT)
      st = wk__error_set(err, WK_ELIMIT, "%s: more than %zu datasets, %zu links or 64 nested groups in the file",
                         f->name, v.max, v.max_links);
    else if (v.st == WK_ENOMEM)
      st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    else
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot walk the file's groups%s%s", f->name,
                        v.prefix_len ? " at " : "", v.prefix_len ? v.prefix : "");
    goto done;
  }
  if (v.count > 0) {
    infos = (wk_tensor_info *)wk__arena_calloc(&f->arena, v.count, sizeof *infos);
    if (infos == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name); goto done; }
  }
  for (i = 0; i < v.count && st == WK_OK; i++) {
    char ctx[CTX_SIZE];
    hid_t d;
    if (v.infos[i].layout != NULL) { /* described from its mapped header in the walk */
      infos[i] = v.infos[i];
      infos[i].path = v.paths[i];
      if (v.windows[i] != UINT64_MAX && f->region != NULL) window_put(k, &infos[i], v.windows[i]);
      continue;
    }
    snprintf(ctx, sizeof ctx, "%s: dataset \"%s\"", f->name, v.paths[i]);
    d = H5Dopen2(k->fid, v.paths[i], H5P_DEFAULT);
    if (d < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open", ctx);
      break;
    }
    st = wk__h5_describe(d, &infos[i], ctx, err);
    H5Dclose(d);
    infos[i].path = v.paths[i];
  }
  if (st == WK_OK) {
    f->tensors = infos;
    f->tensor_count = v.count;
  }
done:
  if (root >= 0) H5Gclose(root);
  wk__h5_unlock();
  free(v.paths);
  free(v.infos);
  free(v.windows);
  free(v.prefix);
  free(v.seen);
  return st;
}

static wk_status k2_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err) {
  keras2 *k = (keras2 *)f->impl;
  char ctx[CTX_SIZE];
  wk_status st;
  const k2_window *w = f->opts.no_mmap ? NULL : window_get(k, info);
  if (w != NULL) /* checked at open: inside the region, aligned, native type */
    return wk__region_tensor(f->region, w->offset, info->dtype, info->rank, info->shape,
                             info->nbytes, out, err);
  info_ctx(ctx, f, info);
  wk__h5_lock();
  st = wk__h5_read(k->fid, f->opts.no_mmap ? NULL : f->region, &f->opts, info, ctx, out, err);
  wk__h5_unlock();
  return st;
}

static wk_status k2_string_attribute(wk_file *f, const char *object_path, const char *name,
                                     const char **out, wk_error *err) {
  keras2 *k = (keras2 *)f->impl;
  char ctx[CTX_SIZE];
  hid_t obj = -1;
  wk_status st;
  while (object_path[0] == '/') object_path++;
  snprintf(ctx, sizeof ctx, "%s: \"/%s\"", f->name, object_path);
  wk__h5_lock();
  if (object_path[0] == '\0') {
    obj = H5Oopen(k->fid, "/", H5P_DEFAULT);
    st = obj < 0 ? wk__h5_error(err, WK_EFORMAT, "%s: cannot open", ctx) : WK_OK;
  } else {
    st = wk__h5_walk(k->fid, object_path, "object", ctx, &obj, err);
  }
  if (st == WK_OK) st = wk__h5_string(&k->guard, obj, name, &f->arena, f->opts.max_attribute_bytes, ctx, out, err);
  if (obj >= 0) H5Oclose(obj);
  wk__h5_unlock();
  return st;
}

static void k2_close(wk_file *f) {
  keras2 *k = (keras2 *)f->impl;
  if (k == NULL) return;
  if (k->fid >= 0) {
    wk__h5_lock();
    if (k->wg >= 0 && k->wg != k->root) H5Oclose(k->wg);
    if (k->root >= 0) H5Gclose(k->root);
    H5Fclose(k->fid);
    wk__h5_unlock();
  }
  free(k->windows);
  free(k);
  f->impl = NULL;
}

static const wk__file_ops keras2_ops = {k2_list_tensors, k2_resolve_layer, k2_resolve_top_level,
                                        k2_resolve_optimizer, k2_read, k2_string_attribute, k2_close};

/* }==================================================================== */

/* {====================================================================
** Opening
** ===================================================================== */

static wk_status attach(wk_file *f, keras2 **out, wk_error *err) {
  keras2 *k = (keras2 *)calloc(1, sizeof *k);
  if (k == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  k->fid = k->root = k->wg = -1;
  f->impl = k;
  f->ops = &keras2_ops;
  *out = k;
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

static wk_status open_image(wk_file *f, const void *data, size_t size, wk_error *err);

/*
** A path is mapped first and libhdf5 reads its metadata from that mapping through the core
** driver (open_image: no copy, every read a memcpy), the mapping serving zero-copy reads and
** the guard as before. Through the sec2 driver, libhdf5 re-reads evicted metadata with one
** pread each: ~370,000 system calls, a quarter of the time, to inspect a file of 20,000 layers.
** When the file cannot be mapped (not a regular file, empty, the OS refuses) it is opened
** through sec2 as before.
*/
wk_status wk__keras2_open_path(wk_file *f, const char *path, wk_error *err) {
  keras2 *k = NULL;
  hid_t fapl;
  wk_status st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    wk__region *r = NULL;
    st = wk__region_map_fd(fd, f->name, &r, NULL);
    close(fd);
    if (st == WK_OK) {
      f->region = r; /* released by wk_file_close, on failure too */
      return open_image(f, wk__region_data(r), wk__region_size(r), err);
    }
  }
  st = attach(f, &k, err);
  if (st != WK_OK) return st;
  wk__h5_lock();
  fapl = base_fapl();
  if (fapl < 0 || H5Pset_fapl_sec2(fapl) < 0) {
    st = wk__h5_error(err, WK_EIO, "%s: cannot set up libhdf5", f->name);
    goto done;
  }
  k->fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (k->fid < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open as HDF5", f->name);
    goto done;
  }
  {
    /* Map the very file libhdf5 opened (its sec2 descriptor), not the path again. The
    ** mapping serves zero-copy reads (unless no_mmap) and the vlen guard. A failed mapping
    ** costs speed (every read copies) and variable-length string attributes (refused). */
    void *handle = NULL;
    if (H5Fget_vfd_handle(k->fid, fapl, &handle) >= 0 && handle != NULL)
      (void)wk__region_map_fd(*(int *)handle, f->name, &f->region, NULL);
    H5Eclear2(H5E_DEFAULT);
  }
  st = wk__h5_guard_init(k->fid, f->region ? wk__region_data(f->region) : NULL,
                         f->region ? wk__region_size(f->region) : 0, &k->guard, err);
  if (st == WK_OK) st = read_layout(f, k->fid, err);
done:
  if (fapl >= 0) H5Pclose(fapl);
  wk__h5_unlock();
  return st;
}

/*
** Memory images: libhdf5's core driver normally copies the image (once into the property
** list, again when the file opens). These callbacks hand it the caller's buffer instead and
** make every copy a no-op, which is safe because the file is opened read-only: libhdf5 never
** writes, grows or frees the image. `udata` is the handle's image_udata.
*/
static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
  image_udata *u = (image_udata *)udata;
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

wk_status wk__keras2_open_memory(wk_file *f, const void *data, size_t size, wk_error *err) {
  return open_image(f, data, size, err);
}

/* Opens `size` bytes at `data` (a caller's image or the file's mapping, alive as long as the
** handle) read-only through the core driver, without copies. */
static wk_status open_image(wk_file *f, const void *data, size_t size, wk_error *err) {
  keras2 *k = NULL;
  hid_t fapl;
  char name[64];
  H5FD_file_image_callbacks_t cb;
  wk_status st = attach(f, &k, err);
  if (st != WK_OK) return st;
  k->image.buf = data;
  k->image.size = size;
  cb.image_malloc = img_malloc;
  cb.image_memcpy = img_memcpy;
  cb.image_realloc = img_realloc;
  cb.image_free = img_free;
  cb.udata_copy = img_udata_copy;
  cb.udata_free = img_udata_free;
  cb.udata = &k->image;
  /* libhdf5 recognizes an already open file by name: make the name unique per handle. */
  snprintf(name, sizeof name, "wk-memory-image-%p", (void *)f);
  wk__h5_lock();
  fapl = base_fapl();
  if (fapl < 0 || H5Pset_fapl_core(fapl, 65536, 0) < 0 || H5Pset_file_image_callbacks(fapl, &cb) < 0 ||
      H5Pset_file_image(fapl, (void *)(uintptr_t)data, size) < 0) {
    st = wk__h5_error(err, WK_EIO, "%s: cannot set up libhdf5 for a memory image", f->name);
    goto done;
  }
  k->fid = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  if (k->fid < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open as HDF5", f->name);
    goto done;
  }
  st = wk__h5_guard_init(k->fid, (const unsigned char *)data, size, &k->guard, err);
  if (st == WK_OK) st = read_layout(f, k->fid, err);
done:
  if (fapl >= 0) H5Pclose(fapl);
  wk__h5_unlock();
  return st;
}

/* }==================================================================== */
