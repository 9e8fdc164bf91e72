/*
** wk_h5_list.c — every dataset of an HDF5 file (wk_file_tensors), whatever its Keras layout.
**
** Dataset enumeration: a depth-first walk over hard links in name order (the order of h5py's
** visititems), each object once (a set of object addresses breaks hard-link cycles). Every
** link seen counts against a cap, so a corrupt group structure that makes libhdf5 yield the
** same links again and again ends with WK_ELIMIT instead of running forever (H5Ovisit only
** reports objects it has not seen, which is why it is not used). Plain datasets are described
** from their mapped object headers on the way (wk__h5_fast_dataset), the others afterwards
** through libhdf5. Paths, infos and windows of the walk live in malloc'd scratch arrays freed
** before returning; what the handle keeps goes to its arena and window table.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"

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
  const wk__h5_guard *g = &WK__H5_FILE(v->f)->guard;
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

wk_status wk__h5_list_tensors(wk_file *f, wk_error *err) {
  wk__h5_file *h = WK__H5_FILE(f);
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
  root = H5Gopen2(h->fid, "/", H5P_DEFAULT);
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
    char ctx[WK__H5_CTX_SIZE];
    hid_t d;
    if (v.infos[i].layout != NULL) { /* described from its mapped header in the walk */
      infos[i] = v.infos[i];
      infos[i].path = v.paths[i];
      if (v.windows[i] != UINT64_MAX && f->region != NULL) wk__h5_window_put(h, &infos[i], v.windows[i]);
      continue;
    }
    snprintf(ctx, sizeof ctx, "%s: dataset \"%s\"", f->name, v.paths[i]);
    d = H5Dopen2(h->fid, v.paths[i], H5P_DEFAULT);
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
