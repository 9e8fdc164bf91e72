/*
** wk_h5_keras3.c — the Keras 3 `.weights.h5` layout (keras-formats.md §4.1, §4.3), also the
** weights member of a .keras archive: format "keras3-weights-h5".
**
** LAYOUT READ HERE
**   Each saveable object's own variables are the datasets of a group `<path>/vars` ("vars" at
**   the root for the model itself), named "0", "1", ... in save order; the object's children
**   are groups named after attributes (`layers/dense`, `layers/lstm/cell`,
**   `_layer_checkpoint_dependencies/dense` from Keras 2.12-2.14, `optimizer`). Group names are
**   kept as stored: tf.keras 2.15 on Windows wrote "layers\dense" as ONE root group.
**   A layer here = a group named `vars`, named by its parent's path ("" for the root's).
**   Layers are found depth-first from the root: a group's own `vars` first, then its other
**   children in link-name order (what H5Literate gives); a `vars` group is not searched for
**   more layers. Weights = the datasets directly in `vars`: canonical decimal names ("0",
**   "10"; not "01") in numeric order, then the other names in name order; subgroups and named
**   types inside `vars` are ignored. bfloat16: Keras stores ml_dtypes' bfloat16 as a 2-byte
**   dataset (opaque; an integer type is accepted too) with the string attribute
**   dtype = "bfloat16"; such a dataset is described, listed and read as WK_BFLOAT16 (its raw
**   2-byte values, see wk_h5_dataset.c). The root's keras_version / backend attributes are
**   reported when present (Keras 3 writes none).
**
** SAFETY
**   Hard links only: a soft, external or user-defined link met by the layer walk or inside a
**   `vars` group is an error naming it (never followed, never silently skipped, since Keras
**   would follow it); a `vars` that is not a group is an error naming it. Link names that
**   could not round-trip through a path ("", ".", containing '/') are refused. Every object
**   is visited once (addresses seen), at most 64 groups deep; layers <= max_tensors, links
**   walked <= 4 x max_tensors, weights of the layers resolved so far <= max_tensors.
**
** LAZINESS
**   Open walks the groups (not the datasets) to name the layers; a lazy handle stops there, an
**   eager one resolves every layer. There are no top-level or optimizer lists: the optimizer's
**   state is the layer "optimizer". The walk's scratch memory is malloc'd and freed before
**   returning; names and infos live in the handle's arena.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"

#define CTX_SIZE WK__H5_CTX_SIZE

static const char *link_type_name(H5L_type_t t) {
  return t == H5L_TYPE_SOFT ? "a soft link" : t == H5L_TYPE_EXTERNAL ? "an external link" : "a user-defined link";
}

/* Whether a link name can be used as one component of a '/'-separated path. */
static int plain_name(const char *name) {
  return name[0] != '\0' && strcmp(name, ".") != 0 && strchr(name, '/') == NULL;
}

/* "0", "7", "12": what Keras writes; "01", "-1", "" are not. */
static int numeric_name(const char *s) {
  if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) return 0;
  for (s++; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Numeric names first, by value (length, then digits), then the others in strcmp order. */
static int weight_order(const char *a, const char *b) {
  int na = numeric_name(a), nb = numeric_name(b);
  if (na != nb) return na ? -1 : 1;
  if (na) {
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return la < lb ? -1 : 1;
  }
  return strcmp(a, b);
}

/* {====================================================================
** bfloat16 tag
** ===================================================================== */

/*
** When the dataset `rel` under `base` (described in `info`) is a 2-byte integer or opaque
** dataset carrying the string attribute dtype = "bfloat16", makes `info` bfloat16 and records
** its zero-copy window. Anything else leaves `info` alone. The lock is held.
*/
static wk_status bf16_tag(wk_file *f, hid_t base, const char *rel, wk_tensor_info *info, const char *ctx,
                          wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  hid_t d, type, attr;
  H5T_class_t cls;
  size_t size;
  int is_string = 0;
  const char *value = NULL;
  wk_status st = WK_OK;
  if (!(info->dtype == WK_INT16 || info->dtype == WK_UINT16 ||
        (info->dtype == WK_DTYPE_COUNT && strcmp(info->dtype_name, "opaque") == 0)))
    return WK_OK;
  if ((d = H5Dopen2(base, rel, H5P_DEFAULT)) < 0) return wk__h5_error(err, WK_EFORMAT, "%s: cannot open", ctx);
  if ((type = H5Dget_type(d)) < 0) {
    H5Dclose(d);
    return wk__h5_error(err, WK_EFORMAT, "%s: cannot read dataset metadata", ctx);
  }
  cls = H5Tget_class(type);
  size = H5Tget_size(type);
  H5Tclose(type);
  if (size != 2 || (cls != H5T_INTEGER && cls != H5T_OPAQUE)) goto done;
  st = wk__h5_guard_object(&h->guard, d, ctx, err);
  if (st != WK_OK) goto done;
  if (H5Aexists(d, "dtype") <= 0) goto done;
  if ((attr = H5Aopen(d, "dtype", H5P_DEFAULT)) >= 0) {
    hid_t at = H5Aget_type(attr);
    is_string = at >= 0 && H5Tget_class(at) == H5T_STRING;
    if (at >= 0) H5Tclose(at);
    H5Aclose(attr);
  }
  if (!is_string) goto done; /* some other `dtype` attribute: not Keras's tag */
  st = wk__h5_string(&h->guard, d, "dtype", &f->arena, f->opts.max_attribute_bytes, ctx, &value, err);
  if (st == WK_OK && value != NULL && strcmp(value, "bfloat16") == 0) {
    info->dtype = WK_BFLOAT16;
    info->dtype_name = wk_dtype_name(WK_BFLOAT16);
    info->big_endian = cls == H5T_INTEGER && info->big_endian;
    if ((uint64_t)info->numel > (uint64_t)SIZE_MAX / 2) {
      st = wk__error_set(err, WK_ELIMIT, "%s: byte size overflows", ctx);
      goto done;
    }
    info->nbytes = (size_t)info->numel * 2;
    wk__h5_note_window(f, d, info);
  }
done:
  H5Eclear2(H5E_DEFAULT);
  H5Dclose(d);
  return st;
}

/* }==================================================================== */

/* {====================================================================
** Layers: the walk for `vars` groups
** ===================================================================== */

typedef struct k3_walk {
  wk_file *f;
  wk_error *err;
  wk_status st;       /* set with the message when a callback stops the walk */
  char *path;         /* current group path, '/'-separated, no leading '/' */
  size_t len, cap;
  const char **names; /* layer names found (arena strings), malloc'd array */
  size_t count, names_cap;
  uint64_t *seen;     /* open-addressing set of object addresses + 1 (0 = empty) */
  size_t seen_n, seen_cap;
  size_t links, max_links;
  int depth;
} k3_walk;

static wk_status walk_fail(k3_walk *w, wk_status code, const char *what, const char *name) {
  w->st = wk__error_set(w->err, code, "%s: \"%s%s%s\" %s", w->f->name, w->path, w->len ? "/" : "", name, what);
  return w->st;
}

/* Adds addr + 1; 1 when already present, -1 when out of memory. */
static int seen_add(k3_walk *w, uint64_t addr) {
  uint64_t key = addr + 1;
  size_t i;
  if (w->seen_n * 2 >= w->seen_cap) {
    size_t cap = w->seen_cap ? w->seen_cap * 2 : 256, j;
    uint64_t *grown = (uint64_t *)calloc(cap, sizeof *grown);
    if (grown == NULL) return -1;
    for (j = 0; j < w->seen_cap; j++) {
      if (w->seen[j] == 0) continue;
      for (i = (size_t)(w->seen[j] * 0x9e3779b97f4a7c15ull) & (cap - 1); grown[i]; i = (i + 1) & (cap - 1)) {}
      grown[i] = w->seen[j];
    }
    free(w->seen);
    w->seen = grown;
    w->seen_cap = cap;
  }
  for (i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (w->seen_cap - 1); w->seen[i]; i = (i + 1) & (w->seen_cap - 1))
    if (w->seen[i] == key) return 1;
  w->seen[i] = key;
  w->seen_n++;
  return 0;
}

static wk_status add_layer(k3_walk *w) {
  wk_file *f = w->f;
  if (w->count >= f->opts.max_tensors)
    return w->st = wk__error_set(w->err, WK_ELIMIT, "%s: more than %zu layers in the file (max_tensors)", f->name,
                                 f->opts.max_tensors);
  if (w->count == w->names_cap) {
    size_t cap = w->names_cap ? 2 * w->names_cap : 64;
    const char **grown = (const char **)realloc((void *)w->names, cap * sizeof *grown);
    if (grown == NULL) return w->st = wk__error_set(w->err, WK_ENOMEM, "%s: out of memory", f->name);
    w->names = grown;
    w->names_cap = cap;
  }
  if ((w->names[w->count] = wk__arena_strndup(&f->arena, w->path, w->len)) == NULL)
    return w->st = wk__error_set(w->err, WK_ENOMEM, "%s: out of memory", f->name);
  w->count++;
  return WK_OK;
}

static wk_status walk_group(k3_walk *w, hid_t g);

static herr_t child_cb(hid_t g, const char *name, const H5L_info_t *li, void *data) {
  k3_walk *w = (k3_walk *)data;
  H5O_info_t oi;
  size_t nlen = strlen(name), old = w->len, need;
  hid_t sub;
  wk_status st;
  int dup;
  if (++w->links > w->max_links) {
    w->st = wk__error_set(w->err, WK_ELIMIT, "%s: more than %zu links in the file (4 x max_tensors)", w->f->name,
                          w->max_links);
    return -1;
  }
  if (strcmp(name, "vars") == 0) return 0; /* the group's own, handled before its children */
  if (!plain_name(name)) { walk_fail(w, WK_EFORMAT, "is not a usable link name", name); return -1; }
  if (li->type != H5L_TYPE_HARD) {
    char what[64];
    snprintf(what, sizeof what, "is %s (not followed)", link_type_name(li->type));
    walk_fail(w, WK_EFORMAT, what, name);
    return -1;
  }
#if !H5_VERSION_GE(1, 12, 0)
  /* a group told from its mapped header, by the hard link's address: no object lookup */
  if (wk__h5_fast_is_group(&WK__H5_FILE(w->f)->guard, (uint64_t)li->u.address)) {
    oi.type = H5O_TYPE_GROUP;
    oi.addr = li->u.address;
  } else
#endif
  if (H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    w->st = wk__h5_error(w->err, WK_EFORMAT, "%s: cannot read the object \"%s%s%s\"", w->f->name, w->path,
                         w->len ? "/" : "", name);
    return -1;
  }
  if (oi.type != H5O_TYPE_GROUP) return 0; /* a dataset outside `vars`: not a weight */
  dup = seen_add(w, (uint64_t)oi.addr);
  if (dup < 0) { w->st = wk__error_set(w->err, WK_ENOMEM, "%s: out of memory", w->f->name); return -1; }
  if (dup) return 0;
  if (w->depth >= 64) {
    w->st = wk__error_set(w->err, WK_ELIMIT, "%s: groups nested more than 64 deep at \"%s\"", w->f->name, w->path);
    return -1;
  }
  need = old + 1 + nlen + 1;
  if (need > w->cap) {
    size_t cap = need * 2;
    char *grown = (char *)realloc(w->path, cap);
    if (grown == NULL) { w->st = wk__error_set(w->err, WK_ENOMEM, "%s: out of memory", w->f->name); return -1; }
    w->path = grown;
    w->cap = cap;
  }
  if ((sub = H5Gopen2(g, name, H5P_DEFAULT)) < 0) {
    w->st = wk__h5_error(w->err, WK_EFORMAT, "%s: cannot open the group \"%s%s%s\"", w->f->name, w->path,
                         w->len ? "/" : "", name);
    return -1;
  }
  if (old) w->path[w->len++] = '/';
  memcpy(w->path + w->len, name, nlen + 1);
  w->len += nlen;
  w->depth++;
  st = walk_group(w, sub);
  w->depth--;
  H5Gclose(sub);
  w->len = old;
  w->path[old] = '\0';
  return st == WK_OK ? 0 : -1;
}

/* The open group `g` at w->path: its own `vars` (a layer), then its other child groups. */
static wk_status walk_group(k3_walk *w, hid_t g) {
  H5L_info_t li;
  if (H5Lget_info(g, "vars", &li, H5P_DEFAULT) >= 0) {
    H5O_info_t oi;
    if (li.type != H5L_TYPE_HARD) {
      char what[64];
      snprintf(what, sizeof what, "is %s (not followed)", link_type_name(li.type));
      return walk_fail(w, WK_EFORMAT, what, "vars");
    }
    if (H5Oget_info_by_name2(g, "vars", &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
      w->st = wk__h5_error(w->err, WK_EFORMAT, "%s: cannot read the object \"%s%svars\"", w->f->name, w->path,
                           w->len ? "/" : "");
      return w->st;
    }
    if (oi.type != H5O_TYPE_GROUP)
      return walk_fail(w, WK_EFORMAT,
                       oi.type == H5O_TYPE_DATASET ? "is a dataset, not a group of weights" : "is not a group", "vars");
    if (add_layer(w) != WK_OK) return w->st;
  }
  H5Eclear2(H5E_DEFAULT);
  if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, child_cb, w) < 0) {
    if (w->st == WK_OK)
      w->st = wk__h5_error(w->err, WK_EFORMAT, "%s: cannot walk the group \"/%s\"", w->f->name, w->path);
    return w->st;
  }
  return WK_OK;
}

/* Fills f->layers (names only) from the walk. The lock is held. */
static wk_status find_layers(wk_file *f, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  k3_walk w;
  wk_status st;
  size_t i;
  memset(&w, 0, sizeof w);
  w.f = f;
  w.err = err;
  w.max_links = f->opts.max_tensors > SIZE_MAX / 4 ? SIZE_MAX : f->opts.max_tensors * 4;
  w.cap = 256;
  w.path = (char *)malloc(w.cap);
  if (w.path == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
  w.path[0] = '\0';
  st = walk_group(&w, h->root);
  if (st == WK_OK && w.count > 0) {
    f->layers = (wk_layer_info *)wk__arena_calloc(&f->arena, w.count, sizeof *f->layers);
    if (f->layers == NULL) st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    else
      for (i = 0; i < w.count; i++) f->layers[i].name = w.names[i];
  }
  if (st == WK_OK) f->layer_count = w.count;
  free(w.path);
  free((void *)w.names);
  free(w.seen);
  return st;
}

/* }==================================================================== */

/* {====================================================================
** Weights: the datasets of one `vars` group
** ===================================================================== */

typedef struct k3_entry {
  const char *name;    /* arena */
  wk_tensor_info info; /* described when info.layout != NULL (from the mapped header) */
  uint64_t window;     /* its zero-copy offset, UINT64_MAX for none */
} k3_entry;

typedef struct k3_vars {
  wk_file *f;
  wk_error *err;
  const char *ctx;
  wk_status st;
  k3_entry *entries;
  size_t count, cap, links, max_links;
} k3_vars;

static herr_t var_cb(hid_t g, const char *name, const H5L_info_t *li, void *data) {
  k3_vars *v = (k3_vars *)data;
  wk_file *f = v->f;
  k3_entry e;
  memset(&e, 0, sizeof e);
  e.window = UINT64_MAX;
  if (++v->links > v->max_links) {
    v->st = wk__error_set(v->err, WK_ELIMIT, "%s: more than %zu links in the group (4 x max_tensors)", v->ctx,
                          v->max_links);
    return -1;
  }
  if (!plain_name(name)) {
    v->st = wk__error_set(v->err, WK_EFORMAT, "%s: weight \"%s\": not a usable link name", v->ctx, name);
    return -1;
  }
  if (li->type != H5L_TYPE_HARD) {
    v->st = wk__error_set(v->err, WK_EFORMAT, "%s: weight \"%s\" is %s (not followed)", v->ctx, name,
                          link_type_name(li->type));
    return -1;
  }
#if !H5_VERSION_GE(1, 12, 0)
  if (!wk__h5_fast_dataset(&WK__H5_FILE(f)->guard, (uint64_t)li->u.address, &e.info, &e.window))
#endif
  {
    H5O_info_t oi;
    memset(&e.info, 0, sizeof e.info); /* layout NULL: not described */
    e.window = UINT64_MAX;
    if (H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
      v->st = wk__h5_error(v->err, WK_EFORMAT, "%s: weight \"%s\": cannot read the object", v->ctx, name);
      return -1;
    }
    if (oi.type != H5O_TYPE_DATASET) return 0; /* subgroups, named types: not weights */
  }
  if (v->count >= f->budget) {
    v->st = wk__error_set(v->err, WK_ELIMIT, "%s: more than %zu weights in the file (max_tensors)", v->ctx,
                          f->opts.max_tensors);
    return -1;
  }
  if (v->count == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 16;
    k3_entry *grown = (k3_entry *)realloc(v->entries, cap * sizeof *grown);
    if (grown == NULL) { v->st = wk__error_set(v->err, WK_ENOMEM, "%s: out of memory", v->ctx); return -1; }
    v->entries = grown;
    v->cap = cap;
  }
  if ((e.name = wk__arena_strdup(&f->arena, name)) == NULL) {
    v->st = wk__error_set(v->err, WK_ENOMEM, "%s: out of memory", v->ctx);
    return -1;
  }
  v->entries[v->count++] = e;
  return 0;
}

static int entry_cmp(const void *a, const void *b) {
  return weight_order(((const k3_entry *)a)->name, ((const k3_entry *)b)->name);
}

/* Layer `i`: its `vars` group's datasets in weight order. The lock is held. */
static wk_status resolve_layer_locked(wk_file *f, size_t i, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  const char *name = f->layers[i].name;
  char ctx[CTX_SIZE];
  const char *vpath = wk__arena_join(&f->arena, name, "/", "vars");
  wk_tensor_info *infos = NULL;
  hid_t vg = -1;
  k3_vars v;
  size_t j;
  wk_status st;
  snprintf(ctx, sizeof ctx, "%s: layer \"%s\"", f->name, name);
  if (vpath == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  st = wk__h5_walk(h->root, vpath, "group", ctx, &vg, err);
  if (st != WK_OK) return st;
  if (H5Iget_type(vg) != H5I_GROUP) {
    H5Oclose(vg);
    return wk__error_set(err, WK_EFORMAT, "%s: \"%s\" is not a group", ctx, vpath);
  }
  memset(&v, 0, sizeof v);
  v.f = f;
  v.err = err;
  v.ctx = ctx;
  v.max_links = f->opts.max_tensors > SIZE_MAX / 4 ? SIZE_MAX : f->opts.max_tensors * 4;
  if (H5Literate(vg, H5_INDEX_NAME, H5_ITER_INC, NULL, var_cb, &v) < 0) {
    st = v.st != WK_OK ? v.st : wk__h5_error(err, WK_EFORMAT, "%s: cannot walk the group \"%s\"", ctx, vpath);
    goto done;
  }
  if (v.count > 0) {
    qsort(v.entries, v.count, sizeof *v.entries, entry_cmp);
    infos = (wk_tensor_info *)wk__arena_calloc(&f->arena, v.count, sizeof *infos);
    if (infos == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx); goto done; }
  }
  for (j = 0; j < v.count && st == WK_OK; j++) {
    char wctx[CTX_SIZE];
    wk_tensor_info *info = &infos[j];
    snprintf(wctx, sizeof wctx, "%.300s: weight \"%.190s\"", ctx, v.entries[j].name);
    if (v.entries[j].info.layout != NULL) {
      *info = v.entries[j].info;
      if (v.entries[j].window != UINT64_MAX && f->region != NULL) wk__h5_window_put(h, info, v.entries[j].window);
    } else {
      hid_t d = H5Dopen2(vg, v.entries[j].name, H5P_DEFAULT);
      if (d < 0) { st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open", wctx); break; }
      st = wk__h5_describe(d, info, wctx, err);
      if (st == WK_OK) wk__h5_note_window(f, d, info);
      H5Dclose(d);
      if (st != WK_OK) break;
    }
    info->name = v.entries[j].name;
    info->layer = name;
    info->path = wk__arena_join(&f->arena, vpath, "/", info->name);
    if (info->path == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", wctx); break; }
    st = bf16_tag(f, vg, info->name, info, wctx, err);
  }
  if (st == WK_OK) {
    f->budget -= v.count;
    f->layers[i].weight_count = v.count;
    f->layers[i].weights = infos;
    if (f->layer_ready != NULL) f->layer_ready[i] = 1;
  }
done:
  free(v.entries);
  H5Oclose(vg);
  return st;
}

/* }==================================================================== */

/* {====================================================================
** Handle operations
** ===================================================================== */

static wk_status k3_resolve_layer(wk_file *f, size_t i, wk_error *err) {
  wk_status st;
  wk__h5_lock();
  st = resolve_layer_locked(f, i, err);
  wk__h5_unlock();
  return st;
}

/* Keras 3 files have no top-level or optimizer lists (set ready at open). */
static wk_status k3_resolve_top_level(wk_file *f, wk_error *err) {
  (void)err;
  f->top_ready = 1;
  return WK_OK;
}

static void k3_resolve_optimizer(wk_file *f) { f->opt_ready = 1; }

/* Every dataset (wk_h5_list.c), then the bfloat16 tags of the 2-byte ones. */
static wk_status k3_list_tensors(wk_file *f, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  wk_status st = wk__h5_list_tensors(f, err);
  size_t i;
  if (st != WK_OK) return st;
  wk__h5_lock();
  for (i = 0; i < f->tensor_count && st == WK_OK; i++) {
    char ctx[CTX_SIZE];
    wk__h5_info_ctx(ctx, f, &f->tensors[i]);
    st = bf16_tag(f, h->fid, f->tensors[i].path, &f->tensors[i], ctx, err);
  }
  wk__h5_unlock();
  return st;
}

static const wk__file_ops keras3_ops = {k3_list_tensors, k3_resolve_layer, k3_resolve_top_level,
                                        k3_resolve_optimizer, wk__h5_file_read,
                                        wk__h5_file_string_attribute, wk__h5_file_close};

wk_status wk__keras3_read_layout(wk_file *f, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
  size_t i;
  wk_status st;
  f->ops = &keras3_ops;
  f->format = "keras3-weights-h5";
  f->top_ready = f->opt_ready = 1;
  st = wk__h5_string(&h->guard, h->root, "keras_version", &f->arena, f->opts.max_attribute_bytes, f->name,
                     &f->keras_version, err);
  if (st == WK_OK)
    st = wk__h5_string(&h->guard, h->root, "backend", &f->arena, f->opts.max_attribute_bytes, f->name,
                       &f->backend, err);
  if (st == WK_OK) st = find_layers(f, err);
  if (st != WK_OK) return st;
  if (f->opts.lazy) {
    if (f->layer_count > 0) {
      f->layer_ready = (unsigned char *)wk__arena_calloc(&f->arena, f->layer_count, 1);
      if (f->layer_ready == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
    }
    return WK_OK;
  }
  for (i = 0; i < f->layer_count; i++) {
    st = resolve_layer_locked(f, i, err);
    if (st != WK_OK) return st;
  }
  return WK_OK;
}

/* }==================================================================== */
