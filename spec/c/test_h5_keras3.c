/*
** test_h5_keras3.c — the Keras 3 .weights.h5 reader (format "keras3-weights-h5") against the
** real k3_dense_adam.weights.h5, the weights members of the three real .keras archives
** (opened from memory), synthetic h5py files (bfloat16, scalars, empty and 12+ vars, deep
** nesting, _layer_checkpoint_dependencies) and hostile ones (one expected error each).
**
** Expectations come from spec/c/h5_keras3_expect.py, run with Debian's /usr/bin/python3: it
** turns the expected JSON files into tab-separated records (see its docstring), extracts the .keras
** weights members and writes the synthetic files into a temp dir. Every file is checked
** eagerly and lazily, from its path and (MEM records) from memory too.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weightkit.h"
#include "wk_test.h"
#include "wk_test_records.h"



static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void shape_str(char *buf, size_t size, int rank, const int64_t *shape) {
  size_t used = 0;
  int i;
  buf[0] = '\0';
  for (i = 0; i < rank && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "", (long long)shape[i]);
}

/* dtype, shape and sha256 of the tensor read for `info` against the record fields. */
static int tensor_matches(wk_file *f, const wk_tensor_info *info, const char *dtype, const char *shape,
                          const char *sha, wk_error *e) {
  wk_tensor *t = NULL;
  unsigned char d[32];
  char hex[65], sh[256];
  int ok;
  shape_str(sh, sizeof sh, info->rank, info->shape);
  if (strcmp(info->dtype_name, dtype) != 0 || strcmp(sh, shape) != 0) {
    printf("# %s: got %s (%s), want %s (%s)\n", info->path, info->dtype_name, sh, dtype, shape);
    return 0;
  }
  if (wk_file_read(f, info, &t, e) != WK_OK) {
    printf("# %s: %s\n", info->path, e->message);
    return 0;
  }
  wk_tensor_sha256(t, d);
  wk_sha256_hex(d, hex);
  shape_str(sh, sizeof sh, wk_tensor_rank(t), wk_tensor_shape(t));
  ok = strcmp(hex, sha) == 0 && strcmp(wk_dtype_name(wk_tensor_dtype(t)), dtype) == 0 && strcmp(sh, shape) == 0;
  if (!ok) printf("# %s: read %s %s sha %s\n", info->path, wk_dtype_name(wk_tensor_dtype(t)), sh, hex);
  wk_tensor_release(t);
  return ok;
}

/* Layers, weights and every dataset of an open handle against records [first, end). */
static void check_handle(wk_file *f, const char *label, size_t first, size_t end) {
  char what[768];
  wk_error e;
  size_t i, li = 0, wi = 0, nt = 0, ntensors = 0;
  const wk_layer_info *layer = NULL;
  const wk_tensor_info *all = NULL;
  int ok_layers = 1, ok_weights = 1, ok_tensors = 1, nweights = 0;
  memset(&e, 0, sizeof e);
  for (i = first; i < end; i++) {
    const rec *r = &recs[i];
    if (is(r, "LAYER")) {
      if (layer != NULL && wi != layer->weight_count) {
        printf("# %s: layer \"%s\" has %zu weights, want %zu\n", label, layer->name, layer->weight_count, wi);
        ok_weights = 0;
      }
      layer = NULL;
      wi = 0;
      if (li >= wk_file_layer_count(f) || strcmp(wk_file_layer_name(f, li), r->f[1]) != 0) {
        printf("# %s: layer %zu is \"%s\", want \"%s\"\n", label, li,
               li < wk_file_layer_count(f) ? wk_file_layer_name(f, li) : "(none)", r->f[1]);
        ok_layers = 0;
      } else if (wk_file_get_layer(f, li, &layer, &e) != WK_OK) {
        printf("# %s: %s\n", label, e.message);
        ok_layers = 0;
      }
      li++;
    } else if (is(r, "W") && r->n == 7) {
      const wk_tensor_info *w;
      nweights++;
      if (layer == NULL || wi >= layer->weight_count) { ok_weights = 0; continue; }
      w = &layer->weights[wi++];
      if (strcmp(w->name, r->f[2]) != 0 || strcmp(w->path, r->f[3]) != 0 || strcmp(w->layer, r->f[1]) != 0 ||
          !tensor_matches(f, w, r->f[4], r->f[5], r->f[6], &e)) {
        printf("# %s: weight %s/%s is %s (%s), want %s\n", label, r->f[1], r->f[2], w->name, w->path, r->f[3]);
        ok_weights = 0;
      }
    }
  }
  if (layer != NULL && wi != layer->weight_count) ok_weights = 0;
  snprintf(what, sizeof what, "%s: %zu layers in order", label, li);
  CHECK(ok_layers && li == wk_file_layer_count(f), what);
  snprintf(what, sizeof what, "%s: %d weights: names, paths, dtypes, shapes, sha256", label, nweights);
  CHECK(ok_weights, what);
  CHECK(wk_file_top_level_weights(f) == NULL && wk_file_optimizer_weights(f) == NULL && wk_file_warning(f) == NULL,
        "  ... no top-level or optimizer lists, no warning");
  if (wk_file_tensors(f, &all, &ntensors, &e) != WK_OK) {
    printf("# %s\n", e.message);
    ok_tensors = 0;
  }
  for (i = first; i < end && ok_tensors; i++) {
    const rec *r = &recs[i];
    size_t j;
    if (!is(r, "T") || r->n != 5) continue;
    nt++;
    for (j = 0; j < ntensors && strcmp(all[j].path, r->f[1]) != 0; j++) {}
    if (j == ntensors || all[j].layer != NULL || !tensor_matches(f, &all[j], r->f[2], r->f[3], r->f[4], &e)) {
      printf("# %s: dataset %s %s\n", label, r->f[1], j == ntensors ? "not listed" : "differs");
      ok_tensors = 0;
    }
  }
  snprintf(what, sizeof what, "%s: wk_file_tensors lists the %zu datasets", label, nt);
  CHECK(ok_tensors && nt == ntensors, what);
}

static void release_buffer(void *p) { free(p); }


static size_t check_block(size_t i) {
  const rec *h = &recs[i];
  const char *path = h->f[1], *name = base_name(path);
  size_t end = i + 1;
  int lazy, mem;
  char label[512], what[768];
  while (end < nrecs && !is(&recs[end], "END")) end++;
  for (mem = 0; mem <= (is(h, "MEM") ? 1 : 0); mem++) {
    for (lazy = 0; lazy <= 1; lazy++) {
      wk_open_options o;
      wk_file *f = NULL;
      wk_error e;
      wk_status st;
      memset(&o, 0, sizeof o);
      o.lazy = lazy;
      snprintf(label, sizeof label, "%s (%s%s)", name, mem ? "memory" : "path", lazy ? ", lazy" : "");
      if (mem) {
        size_t size = 0;
        void *buf = slurp(path, &size);
        st = buf == NULL ? WK_EIO : wk_file_open_memory(buf, size, name, release_buffer, buf, &o, &f, &e);
        if (st != WK_OK) free(buf);
      } else {
        st = wk_file_open(path, &o, &f, &e);
      }
      snprintf(what, sizeof what, "%s: opens as %s", label, h->f[2]);
      CHECK(st == WK_OK && strcmp(wk_file_format(f), h->f[2]) == 0, what);
      if (st != WK_OK) {
        printf("# %s\n", e.message);
        continue;
      }
      CHECK(wk_file_keras_version(f) == NULL && wk_file_backend(f) == NULL, "  ... no keras_version, no backend");
      check_handle(f, label, i + 1, end);
      wk_file_close(f);
    }
  }
  return end + 1;
}

static void check_error(const rec *r) {
  wk_file *f = NULL;
  wk_error e;
  char what[768];
  wk_status st = wk_file_open(r->f[1], NULL, &f, &e);
  snprintf(what, sizeof what, "%s: refused with \"%s\"", base_name(r->f[1]), r->f[2]);
  CHECK(st == WK_EFORMAT && strstr(e.message, r->f[2]) != NULL && strstr(e.message, r->f[1]) != NULL, what);
  printf("# %s\n", st == WK_OK ? "opened" : e.message);
  wk_file_close(f);
}

/* max_tensors: layers and weights, eager at open, lazy at first access. */
static void check_limits(const char *fixtures) {
  char path[1024];
  wk_open_options o;
  wk_file *f = NULL;
  wk_error e;
  const wk_layer_info *l = NULL;
  size_t i;
  wk_status st = WK_OK;
  snprintf(path, sizeof path, "%s/k3_dense_adam.weights.h5", fixtures);
  memset(&o, 0, sizeof o);
  o.max_tensors = 7; /* 8 weights */
  CHECK(wk_file_open(path, &o, &f, &e) == WK_ELIMIT && strstr(e.message, "max_tensors") != NULL,
        "limits: max_tensors 7 refuses 8 weights at an eager open");
  printf("# %s\n", e.message);
  o.lazy = 1;
  CHECK(wk_file_open(path, &o, &f, &e) == WK_OK, "limits: a lazy open names the layers only");
  for (i = 0; f != NULL && i < wk_file_layer_count(f) && st == WK_OK; i++) st = wk_file_get_layer(f, i, &l, &e);
  CHECK(st == WK_ELIMIT && i == 3, "  ... and fails at the layer past the budget (optimizer)");
  wk_file_close(f);
  o.max_tensors = 2; /* 3 layers */
  o.lazy = 0;
  CHECK(wk_file_open(path, &o, &f, &e) == WK_ELIMIT && strstr(e.message, "layers") != NULL,
        "limits: max_tensors 2 refuses 3 layers");
  printf("# %s\n", e.message);
}

int main(void) {
  const char *fixtures = getenv("WK_FIXTURES");
  char tmpl[] = "/tmp/wk_h5_keras3_XXXXXX", cmd[2048];
  size_t i;
  if (fixtures == NULL) fixtures = "../shared/fixtures/real";
  if (mkdtemp(tmpl) == NULL) return 1;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/h5_keras3_expect.py '%s' '%s'", fixtures, tmpl);
  CHECK(load_records(cmd), "h5_keras3_expect.py ran");
  for (i = 0; i < nrecs;) {
    if (is(&recs[i], "FILE") || is(&recs[i], "MEM")) {
      i = check_block(i);
    } else {
      if (is(&recs[i], "ERR") && recs[i].n == 3) check_error(&recs[i]);
      i++;
    }
  }
  check_limits(fixtures);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmpl);
  for (i = 0; i < nrecs; i++) {
    int j;
    for (j = 0; j < recs[i].n; j++) free(recs[i].f[j]);
  }
  free(recs);
  return wk_test_done();
}
