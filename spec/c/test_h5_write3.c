/*
** test_h5_write3.c — wk_write_keras3 and wk_write_keras3_memory: a model-like object list
** (root vars, Functional layers, an LSTM cell, a Bidirectional's nested cells, every dtype,
** bfloat16, large tensors written outside libhdf5, an optimizer with a scalar int64, empty
** groups) checked with h5py by spec/c/h5_write3_check.py (/usr/bin/python3) against what Keras 3
** wrote in the real files of $WK_FIXTURES (default ../shared/fixtures/real, relative to the repo
** root); the memory image against the file; the atomic-save guarantees; the error paths.
** The expected values handed to the checker are read back from the tensors themselves.
*/
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weightkit.h"
#include "wk_test.h"

static char dir[64];
static const char *fixtures;

static char *path_in(const char *name) {
  static char buf[4][512];
  static int next = 0;
  char *p = buf[next++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}


static int same_file(const char *path, const unsigned char *bytes, size_t size) {
  size_t n = 0;
  unsigned char *now = slurp(path, &n);
  int same = now != NULL && n == size && memcmp(now, bytes, size) == 0;
  free(now);
  return same;
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

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static wk_tensor *filled(wk_dtype dtype, int rank, const int64_t *shape, double start, double step) {
  wk_tensor *t = NULL;
  int64_t i;
  if (wk_tensor_new(dtype, rank, shape, &t, NULL) != WK_OK) return NULL;
  for (i = 0; i < wk_tensor_numel(t); i++)
    wk_tensor_set_f64(t, i, dtype == WK_BOOL ? (double)(i % 3 == 0) : start + (double)i * step, NULL);
  return t;
}

/* {====================================================================
** The expectation file for h5_write3_check.py
** ===================================================================== */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

/* Writes what the objects hold, values read back from the tensors. */
static int write_expect(const char *path, const wk_write_object *o, size_t count) {
  FILE *f = fopen(path, "w");
  size_t i, k;
  if (f == NULL) return 0;
  fprintf(f, "{\"objects\": [");
  for (i = 0; i < count; i++) {
    fprintf(f, "%s{\"path\": ", i ? ", " : "");
    json_string(f, o[i].path);
    fprintf(f, ", \"name\": ");
    if (o[i].name) json_string(f, o[i].name);
    else fprintf(f, "null");
    fprintf(f, ", \"first\": %zu, \"tensors\": [", o[i].first);
    for (k = 0; k < o[i].count; k++) {
      const wk_tensor *t = o[i].tensors[k];
      int d;
      int64_t e;
      fprintf(f, "%s{\"dtype\": \"%s\", \"shape\": [", k ? ", " : "", wk_dtype_name(wk_tensor_dtype(t)));
      for (d = 0; d < wk_tensor_rank(t); d++) fprintf(f, "%s%lld", d ? ", " : "", (long long)wk_tensor_shape(t)[d]);
      fprintf(f, "], \"values\": [");
      for (e = 0; e < wk_tensor_numel(t); e++) {
        double v = 0;
        wk_tensor_get_f64(t, e, &v, NULL);
        fprintf(f, "%s%.17g", e ? ", " : "", v);
      }
      fprintf(f, "]}");
    }
    fprintf(f, "]}");
  }
  fprintf(f, "]}\n");
  return fclose(f) == 0;
}

/* Runs the checker; its complaints become TAP comments. */
static int h5py_check(const char *file, const char *expect) {
  char cmd[2048], line[1024];
  FILE *p;
  int rc;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/h5_write3_check.py '%s' '%s' '%s' 2>&1", file, expect,
           fixtures);
  p = popen(cmd, "r");
  if (p == NULL) return 0;
  while (fgets(line, sizeof line, p) != NULL) printf("# %s", line);
  rc = pclose(p);
  return rc == 0;
}

/* }==================================================================== */

/* {====================================================================
** A model-like object list
** ===================================================================== */

enum { NT = 20, NO = 15 };

typedef struct model {
  wk_tensor *t[NT];
  const wk_tensor *list[NT];
  wk_write_object o[NO];
} model;

static void model_free(model *m) {
  int i;
  for (i = 0; i < NT; i++) wk_tensor_release(m->t[i]);
}

static void set_object(wk_write_object *o, const char *path, const char *name, const wk_tensor *const *tensors,
                       size_t count) {
  o->path = path;
  o->name = name;
  o->tensors = count ? tensors : NULL;
  o->count = count;
  o->first = 0;
}

/* Walk order of a Keras 3 Functional model: the model's own vars, its layers, the optimizer. */
static int model_make(model *m) {
  int64_t k34[2] = {3, 4}, n4[1] = {4}, k48[2] = {4, 8}, k28[2] = {2, 8}, n8[1] = {8}, big[2] = {64, 40},
          n5000[1] = {5000}, n23[2] = {2, 3}, n7[1] = {7}, c3[3] = {2, 2, 3};
  int i, ok = 1;
  memset(m, 0, sizeof *m);
  m->t[0] = filled(WK_FLOAT32, 2, k34, -1.5, 0.25); /* layers/dense */
  m->t[1] = filled(WK_FLOAT32, 1, n4, 0.5, 0.5);
  m->t[2] = filled(WK_FLOAT32, 2, k48, -2.0, 0.125); /* layers/lstm/cell */
  m->t[3] = filled(WK_FLOAT32, 2, k28, 1.0, -0.0625);
  m->t[4] = filled(WK_FLOAT32, 1, n8, 0.0, 1.0);
  m->t[5] = filled(WK_FLOAT32, 2, big, -100.0, 0.015625); /* forward cell: 10 KB, written raw */
  m->t[6] = filled(WK_FLOAT32, 2, k28, 3.0, 0.5);
  m->t[7] = filled(WK_FLOAT32, 1, n8, -4.0, 0.75);
  m->t[8] = filled(WK_BFLOAT16, 2, n23, -1.0, 0.5);      /* layers/mixed: every dtype */
  m->t[9] = filled(WK_BFLOAT16, 1, n5000, -8.0, 0.0625); /* 10 KB of bfloat16: written raw */
  m->t[10] = filled(WK_FLOAT16, 1, n7, -1.0, 0.25);
  m->t[11] = filled(WK_FLOAT64, 1, n7, 1e-3, 1e-4);
  m->t[12] = filled(WK_INT8, 1, n7, -3.0, 1.0);
  m->t[13] = filled(WK_UINT16, 1, n7, 60000.0, 1.0);
  m->t[14] = filled(WK_INT32, 3, c3, -6.0, 1.0);
  m->t[15] = filled(WK_UINT64, 1, n7, 1.0, 1000.0);
  m->t[16] = filled(WK_BOOL, 1, n7, 0.0, 0.0);
  m->t[17] = filled(WK_INT64, 0, NULL, 42.0, 0.0);   /* optimizer: iterations */
  m->t[18] = filled(WK_FLOAT32, 0, NULL, 1e-3, 0.0); /* learning rate */
  m->t[19] = filled(WK_FLOAT32, 2, k34, 0.0, 0.0);   /* a slot */
  for (i = 0; i < NT; i++) {
    if (m->t[i] == NULL) ok = 0;
    m->list[i] = m->t[i];
  }
  if (!ok) return 0;
  set_object(&m->o[0], "", "functional", NULL, 0);
  set_object(&m->o[1], "layers/input_layer", "input_layer", NULL, 0);
  set_object(&m->o[2], "layers/dense", "d\xc3\xa9nse", m->list, 2); /* "dénse": UTF-8 */
  set_object(&m->o[3], "layers/lstm", "lstm", NULL, 0);
  set_object(&m->o[4], "layers/lstm/cell", "lstm_cell", m->list + 2, 3);
  set_object(&m->o[5], "layers/bidirectional", "bidirectional", NULL, 0);
  set_object(&m->o[6], "layers/bidirectional/forward_layer", "forward_lstm", NULL, 0);
  set_object(&m->o[7], "layers/bidirectional/forward_layer/cell", "lstm_cell", m->list + 5, 3);
  set_object(&m->o[8], "layers/bidirectional/backward_layer/cell", "lstm_cell", m->list + 2, 3);
  set_object(&m->o[9], "layers/mixed", "mixed", m->list + 8, 9);
  set_object(&m->o[10], "layers/dropout", NULL, NULL, 0); /* no name attribute */
  set_object(&m->o[11], "optimizer", "adam", m->list + 17, 3);
  set_object(&m->o[12], "layers/w\xc3\xbcrfel", "", m->list + 1, 1); /* UTF-8 group, empty name */
  set_object(&m->o[13], "metrics/loss", "loss", NULL, 0);
  set_object(&m->o[14], "layers/shard", "shard", m->list + 10, 2); /* datasets "5", "6" */
  m->o[14].first = 5;
  return 1;
}

/* }==================================================================== */

/* The reader (wk_file_open_memory) finds every object as a layer with its tensors, bytes equal. */
static int reader_agrees(const void *data, size_t size, const wk_write_object *o, size_t count) {
  wk_file *f = NULL;
  wk_error err;
  size_t i, k;
  int ok;
  if (wk_file_open_memory(data, size, "written", NULL, NULL, NULL, &f, &err) != WK_OK) {
    printf("# reader: %s\n", err.message);
    return 0;
  }
  ok = strcmp(wk_file_format(f), "keras3-weights-h5") == 0 && wk_file_layer_count(f) == count;
  for (i = 0; ok && i < count; i++) {
    const wk_layer_info *l = wk_file_find_layer(f, o[i].path);
    ok = l != NULL && l->weight_count == o[i].count;
    for (k = 0; ok && k < o[i].count; k++) {
      wk_tensor *got = NULL;
      const wk_tensor *want = o[i].tensors[k];
      ok = wk_file_read(f, &l->weights[k], &got, &err) == WK_OK && wk_tensor_dtype(got) == wk_tensor_dtype(want) &&
           wk_tensor_rank(got) == wk_tensor_rank(want) && wk_tensor_nbytes(got) == wk_tensor_nbytes(want) &&
           memcmp(wk_tensor_data(got), wk_tensor_data(want), wk_tensor_nbytes(want)) == 0;
      if (!ok) printf("# reader: object \"%s\" weight %zu differs\n", o[i].path, k);
      wk_tensor_release(got);
    }
  }
  wk_file_close(f);
  return ok;
}

static void test_model(void) {
  model m;
  wk_error err;
  void *image = NULL;
  size_t image_size = 0, file_size = 0;
  unsigned char *file_bytes;
  int attempt, image_ok = 0, same_second = 0;
  int ok = model_make(&m);
  CHECK(ok, "make the model's tensors");
  if (!ok) {
    model_free(&m);
    return;
  }
  /* Objects carry their creation time (seconds; Keras files track times, as h5py does by
  ** default): the file and the image match byte for byte when made within one second. */
  for (attempt = 0; attempt < 3; attempt++) {
    time_t t0 = time(NULL);
    wk_free(image);
    image = NULL;
    unlink(path_in("model.weights.h5"));
    ok = wk_write_keras3(path_in("model.weights.h5"), m.o, NO, 0, &err) == WK_OK;
    if (!ok) printf("# %s\n", err.message);
    image_ok = wk_write_keras3_memory(m.o, NO, &image, &image_size, &err) == WK_OK;
    if (!image_ok) printf("# %s\n", err.message);
    same_second = time(NULL) == t0;
    if (same_second || !ok || !image_ok) break;
  }
  CHECK(ok, "wk_write_keras3 writes the model");
  CHECK(temp_count() == 0, "no temporary left");
  CHECK(write_expect(path_in("expect.json"), m.o, NO), "write the expectations");
  CHECK(h5py_check(path_in("model.weights.h5"), path_in("expect.json")),
        "h5py: groups, datasets, types, values and attributes are Keras 3's");

  CHECK(image_ok, "wk_write_keras3_memory builds the image");
  file_bytes = slurp(path_in("model.weights.h5"), &file_size);
  CHECK(image_ok && image_size > 8 && memcmp(image, "\x89HDF\r\n\x1a\n", 8) == 0,
        "the image starts with the HDF5 signature");
  if (same_second) {
    CHECK(image_ok && file_bytes != NULL && image_size == file_size && memcmp(image, file_bytes, file_size) == 0,
          "the image is byte for byte the file");
  } else {
    printf("# the clock ticked between the file and the image three times: sizes compared only\n");
    CHECK(image_ok && file_bytes != NULL && image_size == file_size, "the image has the file's size");
  }
  if (image_ok) {
    FILE *f = fopen(path_in("image.weights.h5"), "wb");
    int written = f != NULL && fwrite(image, 1, image_size, f) == image_size;
    if (f != NULL && fclose(f) != 0) written = 0;
    CHECK(written && h5py_check(path_in("image.weights.h5"), path_in("expect.json")),
          "h5py: the image holds the same content");
    CHECK(reader_agrees(image, image_size, m.o, NO), "our reader reads every tensor back from the image");
  }
  free(file_bytes);
  wk_free(image);
  wk_free(NULL);

  /* overwrite = 0 keeps the existing file; overwrite = 1 replaces it. */
  file_bytes = slurp(path_in("model.weights.h5"), &file_size);
  CHECK(wk_write_keras3(path_in("model.weights.h5"), m.o + 2, 1, 0, &err) == WK_EIO &&
            strstr(err.message, "already exists") != NULL,
        "overwrite = 0 and an existing file: WK_EIO already exists");
  CHECK(file_bytes != NULL && same_file(path_in("model.weights.h5"), file_bytes, file_size),
        "the existing file is untouched");
  CHECK(wk_write_keras3(path_in("model.weights.h5"), m.o + 2, 1, 1, &err) == WK_OK, "overwrite = 1 replaces it");
  CHECK(write_expect(path_in("expect1.json"), m.o + 2, 1) &&
            h5py_check(path_in("model.weights.h5"), path_in("expect1.json")),
        "h5py: the replaced file holds only the new object");
  free(file_bytes);

  /* No objects at all: a valid, empty HDF5 file. */
  CHECK(wk_write_keras3(path_in("empty.weights.h5"), NULL, 0, 0, &err) == WK_OK &&
            write_expect(path_in("expect0.json"), NULL, 0) &&
            h5py_check(path_in("empty.weights.h5"), path_in("expect0.json")),
        "no objects: an empty file");
  model_free(&m);
}

/* Every invalid object list fails with WK_EINVAL naming the object, before any file exists. */
static void test_bad_names(void) {
  static const struct {
    const char *path, *name, *mention, *what;
  } cases[] = {
      {"layers//dense", "d", "layers//dense", "a doubled '/'"},
      {"/layers/dense", "d", "/layers/dense", "a leading '/'"},
      {"layers/dense/", "d", "layers/dense/", "a trailing '/'"},
      {"layers/./dense", "d", "layers/./dense", "a '.' component"},
      {".", "d", "invalid path", "the path \".\""},
      {"layers/vars", "d", "layers/vars", "a \"vars\" component"},
      {"vars", "d", "\"vars\"", "the path \"vars\""},
      {"vars/dense", "d", "vars/dense", "a leading \"vars\" component"},
      {"layers/\xff", "d", "UTF-8", "a path that is not UTF-8"},
      {"layers/dense", "\xc3\x28", "layers/dense", "a name that is not UTF-8"},
      {"layers/dense", "\xc0\xaf", "UTF-8", "an overlong UTF-8 name"},
      {"layers/dense", "\xed\xa0\x80", "UTF-8", "a surrogate in the name"},
      {"layers/dense", "\xf4\x90\x80\x80", "UTF-8", "a code point past U+10FFFF"},
      {"layers/dense", "ab\xe2\x82", "UTF-8", "a truncated UTF-8 sequence"},
  };
  int64_t n2[1] = {2};
  wk_tensor *t = filled(WK_FLOAT32, 1, n2, 1.0, 1.0);
  const wk_tensor *one[1];
  const wk_tensor *null_one[1] = {NULL};
  wk_write_object o[3];
  wk_error err;
  void *image = NULL;
  size_t size = 0, i;
  char what[256];
  one[0] = t;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wk_status s;
    set_object(&o[0], "layers/ok", "ok", one, 1);
    set_object(&o[1], cases[i].path, cases[i].name, one, 1);
    s = wk_write_keras3(path_in("bad.weights.h5"), o, 2, 1, &err);
    snprintf(what, sizeof what, "%s: WK_EINVAL naming it", cases[i].what);
    CHECK(s == WK_EINVAL && strstr(err.message, cases[i].mention) != NULL, what);
    if (s != WK_EINVAL || strstr(err.message, cases[i].mention) == NULL) printf("# got: %s\n", err.message);
    s = wk_write_keras3_memory(o, 2, &image, &size, &err);
    snprintf(what, sizeof what, "%s: the memory writer refuses it too", cases[i].what);
    CHECK(s == WK_EINVAL && image == NULL, what);
  }
  CHECK(!exists(path_in("bad.weights.h5")) && temp_count() == 0, "no file and no temporary after bad names");

  set_object(&o[0], "layers/dense", "a", one, 1);
  set_object(&o[1], "layers/other", "b", NULL, 0);
  set_object(&o[2], "layers/dense", "c", NULL, 0);
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), o, 3, 1, &err) == WK_EINVAL &&
            strstr(err.message, "\"layers/dense\" given twice") != NULL,
        "a duplicate path: WK_EINVAL");
  set_object(&o[0], "", "a", NULL, 0);
  set_object(&o[1], "", "b", NULL, 0);
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), o, 2, 1, &err) == WK_EINVAL, "the root given twice: WK_EINVAL");
  set_object(&o[0], NULL, "a", NULL, 0);
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), o, 1, 1, &err) == WK_EINVAL && strstr(err.message, "no path"),
        "a NULL path: WK_EINVAL");
  set_object(&o[0], "layers/dense", "a", null_one, 1);
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), o, 1, 1, &err) == WK_EINVAL &&
            strstr(err.message, "\"layers/dense\": weight 0: no tensor") != NULL,
        "a NULL tensor: WK_EINVAL naming object and weight");
  o[0].tensors = NULL;
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), o, 1, 1, &err) == WK_EINVAL, "tensors NULL with a count");
  CHECK(wk_write_keras3(path_in("bad.weights.h5"), NULL, 1, 1, &err) == WK_EINVAL, "objects NULL with a count");
  CHECK(wk_write_keras3(NULL, o, 0, 1, &err) == WK_EINVAL, "a NULL path argument");
  CHECK(wk_write_keras3_memory(o, 0, NULL, &size, &err) == WK_EINVAL, "memory: NULL data pointer");
  CHECK(!exists(path_in("bad.weights.h5")) && temp_count() == 0, "still no file and no temporary");
  mkdir(path_in("adir.weights.h5"), 0755);
  CHECK(wk_write_keras3(path_in("adir.weights.h5"), o, 0, 1, &err) == WK_EIO, "a directory target: WK_EIO");
  CHECK(wk_write_keras3(path_in("missing/x.weights.h5"), o, 0, 1, &err) == WK_EIO,
        "a missing directory: WK_EIO");
  wk_tensor_release(t);
}

/* A failure after the temporary exists (validation passed) leaves the previous file alone. */
static void test_atomic(void) {
  model m;
  wk_error err;
  unsigned char *before;
  size_t before_size = 0;
  int ok = model_make(&m);
  if (!ok) {
    CHECK(0, "make the model's tensors");
    model_free(&m);
    return;
  }
  ok = wk_write_keras3(path_in("keep.weights.h5"), m.o, NO, 1, &err) == WK_OK;
  CHECK(ok, "write the file to keep");
  before = slurp(path_in("keep.weights.h5"), &before_size);

  /* A bad path in the middle of the list: refused before anything is written. */
  {
    wk_write_object o[3];
    o[0] = m.o[2];
    set_object(&o[1], "layers/bad//path", "x", NULL, 0);
    o[2] = m.o[4];
    CHECK(wk_write_keras3(path_in("keep.weights.h5"), o, 3, 1, &err) == WK_EINVAL,
          "a bad path mid-list: WK_EINVAL");
    CHECK(before != NULL && same_file(path_in("keep.weights.h5"), before, before_size),
          "the previous file is byte-identical after the refused list");
  }

  /* The raw write refused: a tensor whose first page is readable (libhdf5 writes the first
  ** element from it) and the rest is not, so pwrite fails (EFAULT) after the tree is laid out. */
  {
    const uint16_t probe = 1;
    long page = sysconf(_SC_PAGESIZE);
    size_t size = 16 * (size_t)page;
    int64_t shape[1];
    wk_tensor *bad = NULL;
    int zfd = open("/dev/zero", O_RDWR);
    void *mem = zfd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    const wk_tensor *list[1];
    wk_write_object o[2];
    if (zfd >= 0) close(zfd);
    shape[0] = (int64_t)(size / 2);
    ok = *(const unsigned char *)&probe == 1 && mem != MAP_FAILED &&
         mprotect((char *)mem + page, size - (size_t)page, PROT_NONE) == 0 &&
         wk_tensor_wrap(WK_BFLOAT16, 1, shape, mem, size, NULL, NULL, &bad, &err) == WK_OK;
    if (ok) {
      wk_status s;
      list[0] = bad;
      o[0] = m.o[2];
      set_object(&o[1], "layers/huge", "huge", list, 1);
      s = wk_write_keras3(path_in("keep.weights.h5"), o, 2, 1, &err);
      CHECK(s == WK_EIO && strstr(err.message, "cannot write the tensor data") != NULL,
            "the raw write fails with WK_EIO: cannot write the tensor data");
      if (s != WK_OK) printf("# %s\n", err.message);
      CHECK(before != NULL && same_file(path_in("keep.weights.h5"), before, before_size),
            "the previous file is byte-identical after the refused raw write");
    } else {
      printf("# big-endian host or no mmap: the refused raw write is not tested\n");
    }
    wk_tensor_release(bad);
    if (mem != MAP_FAILED) munmap(mem, size);
  }
  CHECK(temp_count() == 0, "no temporary left after the failures");
  free(before);
  model_free(&m);
}

int main(void) {
  char cmd[256];
  struct stat st;
  fixtures = getenv("WK_FIXTURES");
  if (fixtures == NULL || fixtures[0] == '\0') fixtures = "../shared/fixtures/real";
  snprintf(dir, sizeof dir, "/tmp/wk_write3_XXXXXX");
  if (mkdtemp(dir) == NULL) {
    CHECK(0, "make a temporary directory");
    return wk_test_done();
  }
  snprintf(cmd, sizeof cmd, "%s/k3_dense_adam.weights.h5", fixtures);
  CHECK(stat(cmd, &st) == 0, "the Keras 3 fixtures are there ($WK_FIXTURES)");
  test_model();
  test_bad_names();
  test_atomic();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("# could not remove %s\n", dir);
  return wk_test_done();
}
