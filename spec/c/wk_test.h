/*
** wk_test.h — a tiny TAP harness for the C tests. Each CHECK prints one `ok N - what` or
** `not ok N - what` line; wk_test_done prints the plan and returns the exit status.
*/
#ifndef WK_TEST_H
#define WK_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weightkit.h"

static int wk_test_count = 0;
static int wk_test_failed = 0;

#define CHECK(cond, what) wk_test_check((cond) != 0, (what), __FILE__, __LINE__)

static void wk_test_check(int ok, const char *what, const char *file, int line) {
  wk_test_count++;
  if (!ok) wk_test_failed++;
  printf("%sok %d - %s\n", ok ? "" : "not ", wk_test_count, what);
  if (!ok) printf("# failed at %s:%d\n", file, line);
}

static int wk_test_done(void) {
  printf("1..%d\n", wk_test_count);
  return wk_test_failed ? 1 : 0;
}

/* A new `dtype` tensor of `shape` whose elements (C order) are values[0 .. numel-1], each set with
** wk_tensor_set_f64; NULL when wk_tensor_new fails (its error in *err). `static inline`: tests that
** do not use it get no unused-function warning. */
static inline wk_tensor *wk_test_tensor(wk_dtype dtype, int rank, const int64_t *shape,
                                        const double *values, wk_error *err) {
  wk_tensor *t = NULL;
  int64_t i;
  if (wk_tensor_new(dtype, rank, shape, &t, err) != WK_OK) return NULL;
  for (i = 0; i < wk_tensor_numel(t); i++) wk_tensor_set_f64(t, i, values[i], err);
  return t;
}

/* The whole regular file at `path` in malloc'd memory (NULL when it is not one or cannot be
** read); *size its length. `static inline`: tests that never call it get no warning. */
static inline void *slurp(const char *path, size_t *size) {
  struct stat st;
  FILE *fp;
  char *buf;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
  fp = fopen(path, "rb");
  if (fp == NULL) return NULL;
  buf = (char *)malloc((size_t)st.st_size + 1);
  if (buf != NULL && fread(buf, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
    free(buf);
    buf = NULL;
  }
  fclose(fp);
  *size = (size_t)st.st_size;
  return buf;
}

/* ---- helpers the file-format tests share (`static inline`: unused ones cost nothing) ---- */

/* "OK", "ENOMEM", ... : the name of a status, as the Python oracles write it. */
static inline const char *code_name(wk_status s) {
  static const char *const names[] = {"OK", "ENOMEM", "EINVAL", "ESHAPE", "EDTYPE", "ELIMIT", "EIO", "EFORMAT"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* The dataset of the handle whose path is `path` (wk_file_tensors), or NULL. */
static inline const wk_tensor_info *find_info(wk_file *f, const char *path) {
  const wk_tensor_info *infos;
  size_t n, i;
  if (f == NULL || wk_file_tensors(f, &infos, &n, NULL) != WK_OK) return NULL;
  for (i = 0; i < n; i++)
    if (strcmp(infos[i].path, path) == 0) return &infos[i];
  return NULL;
}

/* The layer weight whose path is `path` (wk_file_layer), or NULL. */
static inline const wk_tensor_info *find_layer_info(wk_file *f, const char *path) {
  size_t i, j;
  for (i = 0; i < wk_file_layer_count(f); i++) {
    const wk_layer_info *l = wk_file_layer(f, i);
    for (j = 0; l != NULL && j < l->weight_count; j++)
      if (strcmp(l->weights[j].path, path) == 0) return &l->weights[j];
  }
  return NULL;
}

/* The lowercase hex SHA-256 of a tensor's little-endian C-order bytes. */
static inline void tensor_hex(const wk_tensor *t, char hex[65]) {
  unsigned char d[32];
  wk_tensor_sha256(t, d);
  wk_sha256_hex(d, hex);
}

/* 1 when `s` is the status named `code` and, on failure, the message holds `sub` ("-": anything);
** else prints what came instead and returns 0. */
static inline int outcome(wk_status s, const wk_error *e, const char *code, const char *sub) {
  if (strcmp(code_name(s), code) != 0) {
    printf("# got %s: %s\n", code_name(s), s == WK_OK ? "" : e->message);
    return 0;
  }
  if (s != WK_OK && strcmp(sub, "-") != 0 && strstr(e->message, sub) == NULL) {
    printf("# message: %s\n", e->message);
    return 0;
  }
  return 1;
}

#endif
