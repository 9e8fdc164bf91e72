/*
** wk_h5.c — libhdf5 glue: the process-wide lock, error folding, string attributes, safe
** link walking. Dataset description and reads are in wk_h5_dataset.c.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"

/* {====================================================================
** Lock and error stack
** ===================================================================== */

/*
** libhdf5 is not thread-safe as most distributions build it (Debian 12's serial build does
** define H5_HAVE_THREADSAFE, others do not), so one mutex serializes every call. While it is
** held, HDF5's automatic error printing is switched off for this thread and restored on
** unlock, so a host that uses libhdf5 itself keeps its own settings.
*/
static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static H5E_auto2_t saved_func;
static void *saved_data;

void wk__h5_lock(void) {
  pthread_mutex_lock(&h5_mutex);
  if (H5Eget_auto2(H5E_DEFAULT, &saved_func, &saved_data) < 0) {
    saved_func = NULL;
    saved_data = NULL;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  H5Eclear2(H5E_DEFAULT);
}

void wk__h5_unlock(void) {
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, saved_func, saved_data);
  pthread_mutex_unlock(&h5_mutex);
}

typedef struct stack_walk {
  char text[200];
  int taken;
} stack_walk;

/* Keeps the innermost entry (where libhdf5 detected the problem) and the one above it. */
static herr_t stack_cb(unsigned n, const H5E_error2_t *e, void *data) {
  stack_walk *w = (stack_walk *)data;
  size_t used = strlen(w->text);
  (void)n;
  if (w->taken >= 2 || e->desc == NULL || e->desc[0] == '\0') return 0;
  snprintf(w->text + used, sizeof w->text - used, "%s%s", w->taken ? "; " : "", e->desc);
  w->taken++;
  return 0;
}

wk_status wk__h5_error(wk_error *err, wk_status code, const char *fmt, ...) {
  stack_walk w;
  w.text[0] = '\0';
  w.taken = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, stack_cb, &w);
  H5Eclear2(H5E_DEFAULT);
  if (err != NULL) {
    va_list ap;
    size_t used;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    used = strlen(err->message);
    if (w.taken > 0 && used < sizeof err->message)
      snprintf(err->message + used, sizeof err->message - used, " (HDF5: %s)", w.text);
  }
  return code;
}

/* }==================================================================== */

/* {====================================================================
** String attributes
** ===================================================================== */

static const char *class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "vlen";
    case H5T_ARRAY: return "array";
    default: return "unknown";
  }
}

/* Length of a fixed-length item once its padding is removed. Embedded NULs end the item
** (C strings; Keras names never contain one). */
static size_t fixed_len(const char *p, size_t size, H5T_str_t pad) {
  const char *nul = (const char *)memchr(p, '\0', size);
  size_t len = nul ? (size_t)(nul - p) : size;
  if (pad == H5T_STR_SPACEPAD)
    while (len > 0 && p[len - 1] == ' ') len--;
  return len;
}

typedef struct attr_ids { hid_t attr, space, type, memtype; } attr_ids;

static void attr_close(attr_ids *a) {
  if (a->memtype >= 0) H5Tclose(a->memtype);
  if (a->type >= 0) H5Tclose(a->type);
  if (a->space >= 0) H5Sclose(a->space);
  if (a->attr >= 0) H5Aclose(a->attr);
}

wk_status wk__h5_strings(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_items,
                         size_t max_bytes, const char *ctx, char ***items, size_t *count,
                         int *found, wk_error *err) {
  attr_ids a = {-1, -1, -1, -1};
  H5S_class_t sclass;
  hssize_t npoints;
  size_t n, i, text = 0;
  char **list = NULL;
  wk_status st = WK_OK;
  htri_t ex;
  wk__h5_fixed_strings fx;
  *items = NULL;
  *count = 0;
  *found = 0;
  /* the guard's header check; a plain fixed-length list is read from the header it checked */
  st = wk__h5_guard_fixed_strings(g, obj, name, ctx, &fx, err);
  if (st != WK_OK) return st;
  if (fx.found) {
    size_t total;
    *found = 1;
    if (fx.count == 0) return WK_OK; /* empty list */
    if (fx.count > (uint64_t)max_items)
      return wk__error_set(err, WK_ELIMIT, "%s: attribute \"%s\" has %lld items (limit %zu)", ctx, name,
                           (long long)fx.count, max_items);
    n = (size_t)fx.count;
    if (fx.size > SIZE_MAX || !wk__mul_size(n, (size_t)fx.size, &total) || total > max_bytes)
      return wk__error_set(err, WK_ELIMIT, "%s: attribute \"%s\": %zu strings of %llu bytes (limit %zu bytes)",
                           ctx, name, n, (unsigned long long)fx.size, max_bytes);
    list = (char **)wk__arena_calloc(arena, n, sizeof *list);
    if (list == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
    for (i = 0; i < n; i++) {
      const char *p = (const char *)fx.data + i * (size_t)fx.size;
      if ((list[i] = wk__arena_strndup(arena, p, fixed_len(p, (size_t)fx.size, (H5T_str_t)fx.pad))) == NULL)
        return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
    }
    *items = list;
    *count = n;
    return WK_OK;
  }
  ex = H5Aexists(obj, name);
  if (ex < 0) return wk__h5_error(err, WK_EFORMAT, "%s: cannot look up attribute \"%s\"", ctx, name);
  if (ex == 0) return WK_OK;
  *found = 1;
  if ((a.attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (a.space = H5Aget_space(a.attr)) < 0 ||
      (a.type = H5Aget_type(a.attr)) < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open attribute \"%s\"", ctx, name);
    goto done;
  }
  sclass = H5Sget_simple_extent_type(a.space);
  npoints = H5Sget_simple_extent_npoints(a.space);
  if (sclass == H5S_NULL || npoints == 0) goto done; /* empty list, whatever the type */
  if (npoints < 0 || (sclass == H5S_SIMPLE && H5Sget_simple_extent_ndims(a.space) != 1) ||
      (sclass != H5S_SIMPLE && sclass != H5S_SCALAR)) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: attribute \"%s\" is not a list (rank %d)", ctx, name,
                      H5Sget_simple_extent_ndims(a.space));
    goto done;
  }
  if ((uint64_t)npoints > (uint64_t)max_items) {
    st = wk__error_set(err, WK_ELIMIT, "%s: attribute \"%s\" has %lld items (limit %zu)", ctx, name,
                       (long long)npoints, max_items);
    goto done;
  }
  n = (size_t)npoints;
  if (H5Tget_class(a.type) != H5T_STRING) {
    st = wk__error_set(err, WK_EFORMAT, "%s: attribute \"%s\" is not a list of strings (HDF5 class %s)",
                       ctx, name, class_name(H5Tget_class(a.type)));
    goto done;
  }
  list = (char **)wk__arena_calloc(arena, n, sizeof *list);
  if (list == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx); goto done; }
  if (H5Tis_variable_str(a.type) > 0) {
    /* Variable-length: libhdf5 mallocs each string; reclaimed below. */
    char **ptrs;
    st = wk__h5_guard_vlen_attr(g, obj, name, ctx, err);
    if (st != WK_OK) goto done;
    ptrs = (char **)calloc(n, sizeof *ptrs);
    if (ptrs == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx); goto done; }
    if ((a.memtype = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(a.memtype, H5T_VARIABLE) < 0 ||
        H5Tset_cset(a.memtype, H5Tget_cset(a.type)) < 0 || H5Aread(a.attr, a.memtype, ptrs) < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot read attribute \"%s\"", ctx, name);
    } else {
      for (i = 0; i < n && st == WK_OK; i++) {
        const char *s = ptrs[i] ? ptrs[i] : "";
        size_t len = strlen(s);
        if (!wk__add_size(text, len, &text) || text > max_bytes)
          st = wk__error_set(err, WK_ELIMIT, "%s: attribute \"%s\" is larger than %zu bytes", ctx,
                             name, max_bytes);
        else if ((list[i] = wk__arena_strndup(arena, s, len)) == NULL)
          st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
      }
      H5Dvlen_reclaim(a.memtype, a.space, H5P_DEFAULT, ptrs);
    }
    free(ptrs);
  } else {
    size_t size = H5Tget_size(a.type), total;
    H5T_str_t pad = H5Tget_strpad(a.type);
    char *buf;
    if (size == 0 || !wk__mul_size(n, size, &total) || total > max_bytes) {
      st = wk__error_set(err, size == 0 ? WK_EFORMAT : WK_ELIMIT,
                         "%s: attribute \"%s\": %zu strings of %zu bytes (limit %zu bytes)", ctx, name,
                         n, size, max_bytes);
      goto done;
    }
    buf = (char *)malloc(total);
    if (buf == NULL) { st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx); goto done; }
    if (H5Aread(a.attr, a.type, buf) < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot read attribute \"%s\"", ctx, name);
    } else {
      for (i = 0; i < n && st == WK_OK; i++) {
        const char *p = buf + i * size;
        if ((list[i] = wk__arena_strndup(arena, p, fixed_len(p, size, pad))) == NULL)
          st = wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
      }
    }
    free(buf);
  }
  if (st == WK_OK) {
    *items = list;
    *count = n;
  }
done:
  attr_close(&a);
  return st;
}

wk_status wk__h5_chunked_strings(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_items,
                                 size_t max_bytes, const char *ctx, char ***items, size_t *count,
                                 int *found, wk_error *err) {
  char chunk_name[300];
  char **all = NULL, **part;
  size_t total = 0, n, k, bytes = 0, i;
  int part_found;
  wk_status st = wk__h5_strings(g, obj, name, arena, max_items, max_bytes, ctx, items, count, found, err);
  if (st != WK_OK || *found) return st;
  /* `name0`, `name1`, ... (keras-formats.md §1.4); stop at the first missing index. */
  for (k = 0; k <= max_items; k++) {
    if ((size_t)snprintf(chunk_name, sizeof chunk_name, "%s%zu", name, k) >= sizeof chunk_name)
      return wk__error_set(err, WK_EINVAL, "%s: attribute name too long", ctx);
    st = wk__h5_strings(g, obj, chunk_name, arena, max_items - total, max_bytes - bytes, ctx, &part, &n,
                        &part_found, err);
    if (st != WK_OK) return st;
    if (!part_found) break;
    *found = 1;
    for (i = 0; i < n; i++) bytes += strlen(part[i]); /* bounded by max_bytes in the call */
    if (n > 0) {
      char **grown = (char **)wk__arena_calloc(arena, total + n, sizeof *grown);
      if (grown == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
      if (total) memcpy(grown, all, total * sizeof *grown);
      memcpy(grown + total, part, n * sizeof *grown);
      all = grown;
      total += n;
    }
  }
  if (k > max_items)
    return wk__error_set(err, WK_ELIMIT, "%s: too many \"%s<k>\" attribute chunks", ctx, name);
  *items = all;
  *count = total;
  return WK_OK;
}

wk_status wk__h5_string(const wk__h5_guard *g, hid_t obj, const char *name, wk__arena *arena, size_t max_bytes,
                        const char *ctx, const char **out, wk_error *err) {
  char **items;
  size_t n;
  int found;
  wk_status st = wk__h5_strings(g, obj, name, arena, 1, max_bytes, ctx, &items, &n, &found, err);
  if (st != WK_OK) return st;
  *out = (found && n == 1) ? items[0] : NULL;
  if (found && n == 0) *out = wk__arena_strdup(arena, "");
  return WK_OK;
}

/* }==================================================================== */

/* {====================================================================
** Links
** ===================================================================== */

/* One lookup (H5Lget_info), not two (H5Lexists first): on files with tens of thousands of
** objects the name lookups are a good part of the open. A missing name makes H5Lget_info fail
** (and push an error record, cleared here): that is the rare case. */
int wk__h5_link_kind(hid_t obj, const char *name) {
  H5L_info_t li;
  if (H5Lget_info(obj, name, &li, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  return li.type == H5L_TYPE_HARD ? 1 : -1;
}

static const char *link_kind_name(hid_t obj, const char *name) {
  H5L_info_t li;
  if (H5Lget_info(obj, name, &li, H5P_DEFAULT) < 0) return "a link";
  switch (li.type) {
    case H5L_TYPE_SOFT: return "a soft link";
    case H5L_TYPE_EXTERNAL: return "an external link";
    default: return "a user-defined link";
  }
}

wk_status wk__h5_walk(hid_t base, const char *rel, const char *what, const char *ctx, hid_t *out,
                      wk_error *err) {
  size_t len = strlen(rel);
  char *buf, *comp, *slash;
  hid_t cur = base;
  int own = 0;
  wk_status st = WK_OK;
  if (len == 0) return wk__error_set(err, WK_EFORMAT, "%s: empty name", ctx);
  if (rel[0] == '/') return wk__error_set(err, WK_EFORMAT, "%s: absolute path refused", ctx);
  buf = (char *)malloc(len + 1);
  if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  memcpy(buf, rel, len + 1);
  for (comp = buf; st == WK_OK; comp = slash + 1) {
    int kind;
    hid_t next;
#if !H5_VERSION_GE(1, 12, 0)
    H5L_info_t li;
#endif
    slash = strchr(comp, '/');
    if (slash != NULL) *slash = '\0';
    if (comp[0] == '\0' || strcmp(comp, ".") == 0) {
      st = wk__error_set(err, WK_EFORMAT, "%s: path \"%s\" has an empty or \".\" component", ctx, rel);
      break;
    }
#if !H5_VERSION_GE(1, 12, 0)
    if (H5Lget_info(cur, comp, &li, H5P_DEFAULT) < 0) kind = 0;
    else kind = li.type == H5L_TYPE_HARD ? 1 : -1;
#else
    kind = wk__h5_link_kind(cur, comp);
#endif
    if (kind == 0) {
      H5Eclear2(H5E_DEFAULT);
      st = wk__error_set(err, WK_EFORMAT, "%s: %s not found", ctx, what);
      break;
    }
    if (kind < 0) {
      st = wk__error_set(err, WK_EFORMAT, "%s: \"%s\" is %s (not followed)", ctx, comp,
                         link_kind_name(cur, comp));
      break;
    }
#if !H5_VERSION_GE(1, 12, 0)
    /* The hard link just looked up names the object: open it at that address rather than
    ** looking the name up a second time (H5Oopen would load the same header). */
    next = H5Oopen_by_addr(cur, li.u.address);
#else
    next = H5Oopen(cur, comp, H5P_DEFAULT);
#endif
    if (next < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open %s", ctx, what);
      break;
    }
    if (own) H5Oclose(cur);
    cur = next;
    own = 1;
    if (slash == NULL) break;
    if (H5Iget_type(cur) != H5I_GROUP) {
      st = wk__error_set(err, WK_EFORMAT, "%s: %s not found (\"%s\" is not a group)", ctx, what, comp);
      break;
    }
  }
  free(buf);
  if (st != WK_OK) {
    if (own) H5Oclose(cur);
    return st;
  }
  *out = cur;
  return WK_OK;
}

/* }==================================================================== */
