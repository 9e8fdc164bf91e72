/*
** test_h5_write.c — wk_write_keras2: a Keras 2 weights file written from named tensors, read
** back with the reader (wk_file_*), chunked layer_names, the atomic-save guarantees (a failed
** save leaves the previous file byte-identical and no temporary behind) and the error paths.
** The exact HDF5 types are checked with h5py by spec/save_weights_spec.lua; test_large checks the
** values of tensors written outside libhdf5 with h5py (/usr/bin/python3).
*/
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weightkit.h"
#include "wk_test.h"

static char dir[64];

static char *path_in(const char *name) {
  static char buf[4][512];
  static int next = 0;
  char *p = buf[next++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}


/* Number of leftover temporaries (*.wktmp) in the test directory. */
static int temp_count(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".wktmp") != NULL) n++;
  closedir(d);
  return n;
}

static int same_bytes(const wk_tensor *a, const wk_tensor *b) {
  return wk_tensor_nbytes(a) == wk_tensor_nbytes(b) &&
         (wk_tensor_nbytes(a) == 0 || memcmp(wk_tensor_data(a), wk_tensor_data(b), wk_tensor_nbytes(a)) == 0);
}

static wk_tensor *filled(wk_dtype dtype, int rank, const int64_t *shape, double start) {
  wk_tensor *t = NULL;
  int64_t i;
  if (wk_tensor_new(dtype, rank, shape, &t, NULL) != WK_OK) return NULL;
  for (i = 0; i < wk_tensor_numel(t); i++)
    wk_tensor_set_f64(t, i, dtype == WK_BOOL ? (double)(i % 3 == 0) : start + (double)i * 0.5, NULL);
  return t;
}

/* {====================================================================
** A small model: every dtype, weightless layers, nested names, top-level weights
** ===================================================================== */

enum { NT = 16 };
static wk_tensor *ts[NT];

static void test_round_trip(void) {
  int64_t k[2] = {2, 3}, b[1] = {3}, v[1] = {4}, e[1] = {0}, c[4] = {3, 3, 1, 2};
  wk_write_weight dense_w[2], bn_w[4], mixed_w[9], top_w[1];
  wk_write_layer layers[5];
  wk_write_spec spec;
  wk_error err;
  wk_file *f = NULL;
  const wk_layer_info *li;
  const char *s = NULL;
  int i, ok;

  ts[0] = filled(WK_FLOAT32, 2, k, -1.0);
  ts[1] = filled(WK_FLOAT32, 1, b, 0.25);
  for (i = 0; i < 4; i++) ts[2 + i] = filled(WK_FLOAT32, 1, v, (double)i);
  ts[6] = filled(WK_FLOAT16, 4, c, -2.0);
  ts[7] = filled(WK_FLOAT64, 1, v, 1e-300);
  ts[8] = filled(WK_INT64, 0, NULL, 42.0);
  ts[9] = filled(WK_INT32, 1, v, -7.0);
  ts[10] = filled(WK_UINT8, 1, v, 200.0);
  ts[11] = filled(WK_BOOL, 1, v, 0.0);
  ts[12] = filled(WK_BFLOAT16, 1, v, 1.5);
  ts[13] = filled(WK_FLOAT32, 1, e, 0.0);
  ts[14] = filled(WK_UINT64, 1, v, 1.0);
  ts[15] = filled(WK_INT8, 0, NULL, -3.0);

  dense_w[0].name = "dense/kernel:0"; dense_w[0].tensor = ts[0];
  dense_w[1].name = "dense/bias:0"; dense_w[1].tensor = ts[1];
  bn_w[0].name = "batch_normalization/gamma:0"; bn_w[0].tensor = ts[2];
  bn_w[1].name = "batch_normalization/beta:0"; bn_w[1].tensor = ts[3];
  bn_w[2].name = "batch_normalization/moving_mean:0"; bn_w[2].tensor = ts[4];
  bn_w[3].name = "batch_normalization/moving_variance:0"; bn_w[3].tensor = ts[5];
  mixed_w[0].name = "conv/kernel:0"; mixed_w[0].tensor = ts[6];
  mixed_w[1].name = "mixed/f64"; mixed_w[1].tensor = ts[7];
  mixed_w[2].name = "mixed/deeper/counter:0"; mixed_w[2].tensor = ts[8];
  mixed_w[3].name = "mixed/i32:0"; mixed_w[3].tensor = ts[9];
  mixed_w[4].name = "mixed/u8:0"; mixed_w[4].tensor = ts[10];
  mixed_w[5].name = "mixed/mask:0"; mixed_w[5].tensor = ts[11];
  mixed_w[6].name = "mixed/bf16:0"; mixed_w[6].tensor = ts[12];
  mixed_w[7].name = "mixed/empty:0"; mixed_w[7].tensor = ts[13];
  mixed_w[8].name = "u64"; mixed_w[8].tensor = ts[14];
  top_w[0].name = "my_model/scale:0"; top_w[0].tensor = ts[15];

  layers[0].name = "input_1"; layers[0].weights = NULL; layers[0].weight_count = 0;
  layers[1].name = "dense"; layers[1].weights = dense_w; layers[1].weight_count = 2;
  layers[2].name = "dropout"; layers[2].weights = NULL; layers[2].weight_count = 0;
  layers[3].name = "batch_normalization"; layers[3].weights = bn_w; layers[3].weight_count = 4;
  layers[4].name = "mixed"; layers[4].weights = mixed_w; layers[4].weight_count = 9;

  memset(&spec, 0, sizeof spec);
  spec.layers = layers;
  spec.layer_count = 5;
  spec.top_level = top_w;
  spec.top_level_count = 1;
  spec.overwrite = 1;
  memset(&err, 0, sizeof err);
  ok = wk_write_keras2(path_in("m.h5"), &spec, &err) == WK_OK;
  CHECK(ok, "write a model with every dtype");
  if (!ok) printf("# %s\n", err.message);
  CHECK(temp_count() == 0, "no temporary left after a save");

  CHECK(wk_file_open(path_in("m.h5"), NULL, &f, &err) == WK_OK, "the reader opens it");
  if (f == NULL) { printf("# %s\n", err.message); return; }
  CHECK(strcmp(wk_file_format(f), "keras2-h5") == 0, "format keras2-h5");
  CHECK(wk_file_keras_version(f) && strcmp(wk_file_keras_version(f), "2.15.0") == 0, "keras_version 2.15.0");
  CHECK(wk_file_backend(f) && strcmp(wk_file_backend(f), "tensorflow") == 0, "backend tensorflow");
  CHECK(wk_file_string_attribute(f, "/", "weightkit_version", &s, &err) == WK_OK && s != NULL &&
            strcmp(s, wk_version()) == 0, "weightkit_version attribute");
  CHECK(wk_file_layer_count(f) == 5, "5 layers, weightless ones included");
  ok = 1;
  for (i = 0; i < 5; i++) {
    li = wk_file_layer(f, (size_t)i);
    if (li == NULL || strcmp(li->name, layers[i].name) != 0 || li->weight_count != layers[i].weight_count) ok = 0;
  }
  CHECK(ok, "layer_names in model order with weight counts");
  ok = 1;
  for (i = 0; i < 5; i++) {
    size_t j;
    li = wk_file_layer(f, (size_t)i);
    for (j = 0; li && j < li->weight_count; j++) {
      const wk_write_weight *w = &layers[i].weights[j];
      wk_tensor *got = NULL;
      char want_path[256];
      snprintf(want_path, sizeof want_path, "%s/%s", layers[i].name, w->name);
      if (strcmp(li->weights[j].name, w->name) != 0 || strcmp(li->weights[j].path, want_path) != 0 ||
          strcmp(li->weights[j].layout, "contiguous") != 0 || li->weights[j].filtered) {
        printf("# weight %s: name/path/layout differ (%s)\n", w->name, li->weights[j].path);
        ok = 0;
        continue;
      }
      if (wk_file_read(f, &li->weights[j], &got, &err) != WK_OK) {
        printf("# read %s: %s\n", w->name, err.message);
        ok = 0;
        continue;
      }
      if (wk_tensor_dtype(w->tensor) == WK_BFLOAT16) {
        wk_tensor *wide = NULL;
        wk_tensor_cast(w->tensor, WK_FLOAT32, &wide, NULL);
        if (wk_tensor_dtype(got) != WK_FLOAT32 || !same_bytes(got, wide)) ok = 0;
        wk_tensor_release(wide);
      } else if (wk_tensor_dtype(got) != wk_tensor_dtype(w->tensor) || wk_tensor_rank(got) != wk_tensor_rank(w->tensor) ||
                 !same_bytes(got, w->tensor)) {
        printf("# weight %s differs\n", w->name);
        ok = 0;
      }
      wk_tensor_release(got);
    }
  }
  CHECK(ok, "every weight reads back bit-exactly (bfloat16 as float32), dtypes and ranks kept");
  li = wk_file_top_level_weights(f);
  CHECK(li != NULL && li->weight_count == 1 && strcmp(li->weights[0].name, "my_model/scale:0") == 0 &&
            li->weights[0].rank == 0 && li->weights[0].dtype == WK_INT8,
        "top_level_model_weights holds the model's own scalar weight");
  wk_file_close(f);
}

/* }==================================================================== */

/* {====================================================================
** Chunked layer_names, defaults, versions
** ===================================================================== */

static void test_chunked(void) {
  enum { N = 3000 };
  wk_write_layer *layers = (wk_write_layer *)calloc(N, sizeof *layers);
  char (*names)[40] = malloc(N * sizeof *names);
  wk_write_spec spec;
  wk_error err;
  wk_file *f = NULL;
  int i, ok = 1;
  for (i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "layer_with_a_long_name_%05d", N - i); /* 28 bytes, reverse order */
    layers[i].name = names[i];
  }
  memset(&spec, 0, sizeof spec);
  spec.layers = layers;
  spec.layer_count = N;
  spec.omit_top_level = 1;
  spec.keras_version = "2.3.1";
  spec.backend = "theano";
  CHECK(wk_write_keras2(path_in("chunked.h5"), &spec, &err) == WK_OK, "write 3000 weightless layers");
  CHECK(wk_file_open(path_in("chunked.h5"), NULL, &f, &err) == WK_OK, "read it back");
  if (f != NULL) {
    CHECK(wk_file_layer_count(f) == N, "3000 layer names through the chunks");
    for (i = 0; i < N; i++)
      if (strcmp(wk_file_layer(f, (size_t)i)->name, names[i]) != 0) ok = 0;
    CHECK(ok, "all names in model order (not the groups' name order)");
    CHECK(wk_file_top_level_weights(f) == NULL, "omit_top_level: no top_level_model_weights group");
    CHECK(strcmp(wk_file_keras_version(f), "2.3.1") == 0 && strcmp(wk_file_backend(f), "theano") == 0,
          "keras_version and backend as given");
    wk_file_close(f);
  }
  free(names);
  free(layers);
}

/* }==================================================================== */

/* {====================================================================
** Large tensors: written outside libhdf5 (pwrite from the tensor's memory), checked by the
** reader and by h5py; a raw write the OS refuses leaves the previous file intact
** ===================================================================== */

enum { NL = 12 };

/* h5py reads every dataset of layer "big" in weight_names order; their raw little-endian bytes,
** concatenated, must equal `expect` (this test runs on little-endian hosts only). */
static int h5py_agrees(const char *file, const char *expect) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import sys, h5py, numpy\n"
           "f = h5py.File(sys.argv[1], 'r'); g = f['big']\n"
           "names = [n.decode() for n in g.attrs['weight_names']]\n"
           "got = b''.join(numpy.ascontiguousarray(g[n][()]).astype(g[n].dtype.newbyteorder('<')).tobytes()"
           " for n in names)\n"
           "sys.exit(0 if got == open(sys.argv[2], 'rb').read() else 1)\" '%s' '%s' 2>&1",
           file, expect);
  return system(cmd) == 0;
}

static void test_large(void) {
  int64_t big[2] = {2500, 2000}, n3000[1] = {3000}, n512[2] = {16, 32}, n4096[1] = {4096}, n4095[1] = {4095},
          n5000[1] = {5000}, n777[1] = {777}, n9[3] = {3, 3, 300}, n2[1] = {2};
  wk_tensor *t[NL];
  const char *names[NL] = {"big/kernel:0", "big/half:0", "big/f64:0", "big/i8_exact:0", "big/u8_small:0",
                           "big/mask:0", "big/i64:0", "big/u16:0", "big/bf16:0", "big/tiny:0",
                           "big/deep/i32:0", "big/u32:0"};
  wk_write_weight w[NL];
  wk_write_layer l[2];
  wk_write_spec spec;
  wk_error err;
  wk_file *f = NULL;
  const wk_layer_info *li;
  FILE *ex;
  unsigned char *before;
  size_t before_size = 0;
  int i, ok = 1;
  {
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe == 0) {
      printf("# big-endian host: the large-tensor path is not used, skipping its checks\n");
      return;
    }
  }
  t[0] = filled(WK_FLOAT32, 2, big, -3.0); /* 20 MB: several 8 MiB writeback windows */
  t[1] = filled(WK_FLOAT16, 1, n3000, -100.0);
  t[2] = filled(WK_FLOAT64, 2, n512, 1e-3);
  t[3] = filled(WK_INT8, 1, n4096, -64.0); /* exactly WK__H5W_DIRECT_MIN bytes */
  t[4] = filled(WK_UINT8, 1, n4095, 0.0);  /* one byte below: H5Dwrite */
  t[5] = filled(WK_BOOL, 1, n5000, 0.0);
  t[6] = filled(WK_INT64, 1, n777, -5.0);
  t[7] = filled(WK_UINT16, 1, n5000, 0.0);
  t[8] = filled(WK_BFLOAT16, 1, n5000, 0.5); /* widened: H5Dwrite */
  t[9] = filled(WK_FLOAT32, 1, n2, 7.0);
  t[10] = filled(WK_INT32, 3, n9, -1000.0);
  t[11] = filled(WK_UINT32, 1, n5000, 3.0);
  for (i = 0; i < NL; i++) {
    if (t[i] == NULL) ok = 0;
    w[i].name = names[i];
    w[i].tensor = t[i];
  }
  CHECK(ok, "make the large tensors");
  if (!ok) return;
  l[0].name = "big"; l[0].weights = w; l[0].weight_count = NL;
  l[1].name = "after"; l[1].weights = w + 9; l[1].weight_count = 1;
  memset(&spec, 0, sizeof spec);
  spec.layers = l;
  spec.layer_count = 2;
  spec.overwrite = 1;
  ok = wk_write_keras2(path_in("large.h5"), &spec, &err) == WK_OK;
  CHECK(ok, "write large tensors of every dtype");
  if (!ok) printf("# %s\n", err.message);
  CHECK(temp_count() == 0, "no temporary left");

  ok = wk_file_open(path_in("large.h5"), NULL, &f, &err) == WK_OK;
  CHECK(ok, "the reader opens it");
  if (!ok) {
    printf("# %s\n", err.message);
  } else {
    li = wk_file_layer(f, 0);
    ok = li != NULL && li->weight_count == NL;
    for (i = 0; ok && i < NL; i++) {
      wk_tensor *got = NULL, *want = t[i], *wide = NULL;
      if (wk_tensor_dtype(t[i]) == WK_BFLOAT16) {
        wk_tensor_cast(t[i], WK_FLOAT32, &wide, NULL);
        want = wide;
      }
      if (wk_file_read(f, &li->weights[i], &got, &err) != WK_OK || wk_tensor_dtype(got) != wk_tensor_dtype(want) ||
          !same_bytes(got, want)) {
        printf("# weight %s differs\n", names[i]);
        ok = 0;
      }
      wk_tensor_release(got);
      wk_tensor_release(wide);
    }
    CHECK(ok, "every large weight reads back bit-exactly");
    wk_file_close(f);
  }

  /* The same bytes through h5py (the bfloat16 tensor as its float32 widening). */
  ex = fopen(path_in("expect.bin"), "wb");
  ok = ex != NULL;
  for (i = 0; ok && i < NL; i++) {
    wk_tensor *wide = NULL;
    const wk_tensor *src = t[i];
    if (wk_tensor_dtype(t[i]) == WK_BFLOAT16) {
      wk_tensor_cast(t[i], WK_FLOAT32, &wide, NULL);
      src = wide;
    }
    if (fwrite(wk_tensor_data(src), 1, wk_tensor_nbytes(src), ex) != wk_tensor_nbytes(src)) ok = 0;
    wk_tensor_release(wide);
  }
  if (ex != NULL && fclose(ex) != 0) ok = 0;
  CHECK(ok && h5py_agrees(path_in("large.h5"), path_in("expect.bin")), "h5py reads the same values");
  unlink(path_in("expect.bin"));

  /* Only the 20 MB tensor from here on. */
  before = slurp(path_in("large.h5"), &before_size);
  l[0].weight_count = 1;
  spec.layer_count = 1;

  /* The raw write itself refused: a tensor over memory whose first page is readable (libhdf5
  ** writes the first element from it) and the rest is not, so pwrite fails (EFAULT). */
  {
    long page = sysconf(_SC_PAGESIZE);
    size_t size = 16 * (size_t)page;
    int64_t shape[1];
    wk_tensor *bad = NULL;
    unsigned char *after;
    size_t after_size = 0;
    int zfd = open("/dev/zero", O_RDWR);
    void *mem = zfd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    wk_status s = WK_OK;
    if (zfd >= 0) close(zfd);
    shape[0] = (int64_t)(size / 4);
    ok = mem != MAP_FAILED && mprotect((char *)mem + page, size - (size_t)page, PROT_NONE) == 0 &&
         wk_tensor_wrap(WK_FLOAT32, 1, shape, mem, size, NULL, NULL, &bad, &err) == WK_OK;
    CHECK(ok, "a tensor over partly unreadable memory");
    if (ok) {
      w[0].tensor = bad;
      s = wk_write_keras2(path_in("large.h5"), &spec, &err);
      w[0].tensor = t[0];
      CHECK(s == WK_EIO && strstr(err.message, "cannot write the tensor data") != NULL,
            "the raw write fails with WK_EIO: cannot write the tensor data");
      if (s != WK_OK) printf("# %s\n", err.message);
    }
    after = slurp(path_in("large.h5"), &after_size);
    CHECK(before != NULL && after != NULL && after_size == before_size && memcmp(before, after, before_size) == 0,
          "the previous file is byte-identical after the refused raw write");
    CHECK(temp_count() == 0, "no temporary left after the refused raw write");
    free(after);
    wk_tensor_release(bad);
    if (mem != MAP_FAILED) munmap(mem, size);
  }
  free(before);
  for (i = 0; i < NL; i++) wk_tensor_release(t[i]);
}

/* }==================================================================== */

/* {====================================================================
** Failures: nothing changes, nothing stays behind
** ===================================================================== */

static void expect_failure(const wk_write_spec *spec, const char *name, wk_status code, const char *needle,
                           const unsigned char *before, size_t before_size, const char *what) {
  wk_error err;
  unsigned char *after;
  size_t after_size = 0;
  char label[256];
  wk_status s = wk_write_keras2(path_in(name), spec, &err);
  snprintf(label, sizeof label, "%s: fails with %s", what, wk_status_string(code));
  CHECK(s == code, label);
  snprintf(label, sizeof label, "%s: message names it (%s)", what, needle);
  CHECK(s != WK_OK && strstr(err.message, needle) != NULL, label);
  if (s != code || strstr(err.message, needle) == NULL) printf("# got: %s\n", err.message);
  after = slurp(path_in(name), &after_size);
  snprintf(label, sizeof label, "%s: the previous file is byte-identical", what);
  if (before != NULL)
    CHECK(after != NULL && after_size == before_size && memcmp(before, after, before_size) == 0, label);
  snprintf(label, sizeof label, "%s: no temporary left", what);
  CHECK(temp_count() == 0, label);
  free(after);
}

static void test_failures(void) {
  int64_t v[1] = {4};
  wk_tensor *t = filled(WK_FLOAT32, 1, v, 1.0);
  wk_write_weight w[2];
  wk_write_layer l[2];
  wk_write_spec spec;
  wk_error err;
  unsigned char *before;
  size_t before_size = 0;
  char *longname;

  w[0].name = "dense/kernel:0"; w[0].tensor = t;
  w[1].name = "dense/bias:0"; w[1].tensor = t;
  l[0].name = "dense"; l[0].weights = w; l[0].weight_count = 2;
  l[1].name = "dense_1"; l[1].weights = NULL; l[1].weight_count = 0;
  memset(&spec, 0, sizeof spec);
  spec.layers = l;
  spec.layer_count = 2;
  spec.overwrite = 1;
  CHECK(wk_write_keras2(path_in("keep.h5"), &spec, &err) == WK_OK, "write the file to keep");
  before = slurp(path_in("keep.h5"), &before_size);
  CHECK(before != NULL && before_size > 0, "it has bytes");

  /* fails inside libhdf5, after the temporary was created: "x" is a dataset, "x/y" needs a group */
  w[0].name = "x"; w[1].name = "x/y";
  expect_failure(&spec, "keep.h5", WK_EIO, "layer \"dense\": weight \"x/y\"", before, before_size,
                 "a weight path through another weight");
  w[0].name = "dense/kernel:0"; w[1].name = "dense/kernel:0";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "duplicate weight name \"dense/kernel:0\"", before, before_size,
                 "duplicate weight names");
  w[1].name = "dense//bias:0";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "empty path component", before, before_size, "an empty component");
  w[1].name = "./bias";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "'.' path component", before, before_size, "a '.' component");
  w[1].name = "dense/bias:0";
  w[1].tensor = NULL;
  expect_failure(&spec, "keep.h5", WK_EINVAL, "weight \"dense/bias:0\": no tensor", before, before_size,
                 "a missing tensor");
  w[1].tensor = t;
  l[1].name = "dense";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "duplicate layer name \"dense\"", before, before_size,
                 "duplicate layer names");
  l[1].name = "/abs";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "invalid layer name", before, before_size, "a leading '/'");
  l[1].name = "top_level_model_weights";
  expect_failure(&spec, "keep.h5", WK_EINVAL, "reserved", before, before_size, "the reserved group name");
  l[1].name = "dense_1";
  longname = (char *)malloc(WK_HDF5_ATTRIBUTE_LIMIT + 2);
  memset(longname, 'a', WK_HDF5_ATTRIBUTE_LIMIT + 1);
  longname[WK_HDF5_ATTRIBUTE_LIMIT + 1] = '\0';
  l[1].name = longname;
  expect_failure(&spec, "keep.h5", WK_ELIMIT, "larger than 64512 bytes", before, before_size,
                 "a name above Keras's attribute limit");
  free(longname);
  l[1].name = "dense_1";
  spec.overwrite = 0;
  expect_failure(&spec, "keep.h5", WK_EIO, "keep.h5: already exists", before, before_size, "overwrite = 0");
  spec.overwrite = 1;
  spec.omit_top_level = 1;
  spec.top_level = w;
  spec.top_level_count = 1;
  expect_failure(&spec, "keep.h5", WK_EINVAL, "omit_top_level", before, before_size, "top-level weights + omit");
  spec.omit_top_level = 0;
  spec.top_level = NULL;
  spec.top_level_count = 0;

  mkdir(path_in("adir"), 0755);
  expect_failure(&spec, "adir", WK_EIO, "is a directory", NULL, 0, "the target is a directory");
  expect_failure(&spec, "no/such/dir/w.h5", WK_EIO, "cannot create a temporary file", NULL, 0,
                 "a missing directory");
  CHECK(wk_write_keras2(NULL, &spec, &err) == WK_EINVAL, "NULL path");
  CHECK(wk_write_keras2(path_in("x.h5"), NULL, NULL) == WK_EINVAL, "NULL spec, NULL err");

  /* the same spec still saves, and overwrite = 1 replaces the file */
  CHECK(wk_write_keras2(path_in("keep.h5"), &spec, &err) == WK_OK, "overwrite = 1 replaces the file");
  CHECK(temp_count() == 0, "no temporary after the replace");

  /* the permission bits of the replaced file survive; symlinks are written through */
  chmod(path_in("keep.h5"), 0640);
  CHECK(wk_write_keras2(path_in("keep.h5"), &spec, &err) == WK_OK, "replace a 0640 file");
  {
    struct stat st;
    CHECK(stat(path_in("keep.h5"), &st) == 0 && (st.st_mode & 07777) == 0640, "its mode stays 0640");
  }
  CHECK(symlink("keep.h5", path_in("link.h5")) == 0, "make a symlink");
  CHECK(wk_write_keras2(path_in("link.h5"), &spec, &err) == WK_OK, "save through the symlink");
  {
    struct stat st;
    CHECK(lstat(path_in("link.h5"), &st) == 0 && S_ISLNK(st.st_mode), "the symlink stays a symlink");
  }
  free(before);
  wk_tensor_release(t);
}

/* }==================================================================== */

int main(void) {
  int i;
  char cmd[128];
  snprintf(dir, sizeof dir, "/tmp/wk_write_XXXXXX");
  if (mkdtemp(dir) == NULL) {
    CHECK(0, "mkdtemp");
    return wk_test_done();
  }
  test_round_trip();
  test_chunked();
  test_large();
  test_failures();
  for (i = 0; i < NT; i++) wk_tensor_release(ts[i]);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("# could not remove %s\n", dir);
  return wk_test_done();
}
