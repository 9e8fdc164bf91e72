/*
** test_safetensors.c — the safetensors reader and writer (wk_safetensors.c,
** wk_safetensors_write.c, wk_json.c). Files come from spec/c/safetensors_cases.py (Debian's
** /usr/bin/python3 with numpy, a writer of its own): every dtype, scalars, empty tensors,
** metadata, unicode and escaped names, unaligned data, layers, and a hostile corpus with one
** expected error each, plus random bit flips. Each file is opened three ways (mapped path,
** no_mmap path, memory image) and the reads must agree. The writer's output is checked by
** spec/c/safetensors_check.py (header bytes, padding, order, offsets, values) and read back.
** Until wk_file.c detects safetensors, files are opened through wk__safetensors_open_* here.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_test.h"
#include "wk_test_records.h"
#include "wk_file.h"
#include "wk_internal.h"
#include "wk_safetensors.h"

enum { MODE_MAP, MODE_PREAD, MODE_MEMORY, NMODES };

static void free_cb(void *p) { free(p); }

/* A test description on one TAP line: control characters become '?'. */
static const char *safe(char *s) {
  char *c;
  for (c = s; *c; c++)
    if ((unsigned char)*c < 0x20) *c = '?';
  return s;
}

/* Opens `path` one of three ways (what wk_file_open / wk_file_open_memory will do). */
static wk_status open_st(const char *path, int mode, const wk_open_options *opts, wk_file **out, wk_error *e) {
  wk_open_options o = opts ? *opts : (wk_open_options){0};
  wk_file *f = NULL;
  wk_status s;
  if (mode == MODE_PREAD) o.no_mmap = 1;
  s = wk__file_new(path, &o, &f, e);
  if (s != WK_OK) return s;
  if (mode == MODE_MEMORY) {
    size_t size = 0;
    void *data = slurp(path, &size);
    if (data == NULL) {
      wk_file_close(f);
      return wk__error_set(e, WK_EIO, "cannot read %s", path);
    }
    s = wk__region_wrap(data, size, free_cb, data, &f->region, e);
    if (s == WK_OK) s = wk__safetensors_open_memory(f, data, size, e);
    if (s != WK_OK) { /* the caller keeps its memory on failure */
      wk__region *r = f->region;
      f->region = NULL;
      wk_file_close(f);
      wk__region_forget(r);
      free(data);
      return s;
    }
  } else {
    s = wk__safetensors_open_path(f, path, e);
    if (s != WK_OK) {
      wk_file_close(f);
      return s;
    }
  }
  *out = f;
  return WK_OK;
}

/* Reads everything a handle offers (fuzzing: only crashes and unclean codes matter). */
static int read_all(wk_file *f) {
  const wk_tensor_info *infos;
  size_t n, i, j;
  const char *v;
  wk_error e;
  int clean = 1;
  if (wk_file_tensors(f, &infos, &n, &e) != WK_OK) return 0;
  for (i = 0; i < n; i++) {
    wk_tensor *t = NULL;
    wk_status s = wk_file_read(f, &infos[i], &t, &e);
    if (s == WK_OK) {
      unsigned char d[32];
      wk_tensor_sha256(t, d); /* touches every byte */
      wk_tensor_release(t);
    } else if (s != WK_EDTYPE) {
      printf("# read %s: %s %s\n", infos[i].path, code_name(s), e.message);
      clean = 0;
    }
  }
  for (i = 0; i < wk_file_layer_count(f); i++) {
    const wk_layer_info *l = wk_file_layer(f, i);
    for (j = 0; l != NULL && j < l->weight_count; j++) clean &= strlen(l->weights[j].name) < 1u << 30;
  }
  (void)wk_file_string_attribute(f, "__metadata__", "format", &v, &e);
  return clean;
}

static void flip_test(const char *path, int count) {
  size_t size;
  unsigned char *orig = (unsigned char *)slurp(path, &size);
  int i, opened = 0, refused = 0, clean = 1;
  if (orig == NULL) {
    CHECK(0, "flip: file readable");
    return;
  }
  srand(4321);
  for (i = 0; i < count; i++) {
    /* most flips land in the header (where the parser works); some anywhere */
    size_t span = i % 4 == 0 ? size : (size < 512 ? size : 512);
    size_t bit = (size_t)rand() % (span * 8);
    unsigned char *copy = (unsigned char *)malloc(size);
    wk_file *f = NULL;
    wk_error e;
    wk_status s;
    memcpy(copy, orig, size);
    copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    s = wk__file_new("flip", NULL, &f, &e);
    if (s == WK_OK) s = wk__region_wrap(copy, size, free_cb, copy, &f->region, &e);
    if (s == WK_OK) s = wk__safetensors_open_memory(f, copy, size, &e);
    if (s == WK_OK) {
      opened++;
      clean &= read_all(f);
      wk_file_close(f); /* frees copy through the region */
    } else {
      wk__region *r = f->region;
      refused++;
      f->region = NULL;
      wk_file_close(f);
      wk__region_forget(r);
      free(copy);
      if ((s != WK_EFORMAT && s != WK_ELIMIT) || e.message[0] == 0) {
        clean = 0;
        printf("# flip of bit %zu: %s %s\n", bit, code_name(s), e.message);
      }
    }
  }
  printf("# %s: %d flips opened, %d refused\n", path, opened, refused);
  CHECK(clean && refused > 0, "random bit flips fail cleanly (EFORMAT/ELIMIT) or read cleanly");
  free(orig);
}

/* Every proper prefix of a valid file is refused (the data must end exactly at the end). */
static void truncation_test(const char *path) {
  size_t size, len;
  unsigned char *orig = (unsigned char *)slurp(path, &size);
  int clean = orig != NULL;
  for (len = 0; clean && len < size; len++) {
    unsigned char *copy = (unsigned char *)malloc(len ? len : 1);
    wk_file *f = NULL;
    wk_error e;
    wk_status s;
    memcpy(copy, orig, len);
    s = wk__file_new("trunc", NULL, &f, &e);
    if (s == WK_OK) s = wk__safetensors_open_memory(f, copy, len, &e); /* no region: reads would copy */
    wk_file_close(f);
    free(copy);
    if (s != WK_EFORMAT || e.message[0] == 0) {
      printf("# prefix of %zu bytes: %s %s\n", len, code_name(s), s == WK_OK ? "" : e.message);
      clean = 0;
    }
  }
  CHECK(clean, "every truncation of a valid file is refused with WK_EFORMAT");
  free(orig);
}

/* {====================================================================
** The writer
** ===================================================================== */

typedef struct spec {
  const char *name;
  wk_dtype dtype;
  int rank;
  int64_t shape[3];
} spec;

/* the same list as safetensors_check.py's WRITTEN */
static const spec written[] = {
  {"zeta.kernel", WK_FLOAT32, 2, {2, 3}}, {"alpha.kernel", WK_FLOAT32, 1, {3}}, {"b.u64", WK_UINT64, 1, {2}},
  {"a.i64", WK_INT64, 1, {2}}, {"f64", WK_FLOAT64, 2, {2, 2}}, {"i32", WK_INT32, 1, {3}},
  {"u32", WK_UINT32, 1, {3}}, {"bf16", WK_BFLOAT16, 1, {3}}, {"f16", WK_FLOAT16, 1, {2}},
  {"i16", WK_INT16, 1, {2}}, {"u16", WK_UINT16, 1, {2}}, {"i8", WK_INT8, 1, {5}}, {"u8", WK_UINT8, 1, {3}},
  {"flags", WK_BOOL, 1, {4}}, {"scalar", WK_FLOAT32, 0, {0}}, {"empty", WK_FLOAT32, 2, {0, 3}},
  {"caf\xc3\xa9.\xe6\x9d\x83\xe9\x87\x8d\xf0\x9f\x98\x80", WK_FLOAT16, 1, {2}},
  {"quote\"back\\slash\nnew\x01" "ctl\x7f", WK_UINT8, 1, {2}},
};
#define NWRITTEN (sizeof written / sizeof written[0])
static const char *const meta_keys[] = {"format", "note"};
static const char *const meta_values[] = {"pt", "\xc3\xa9\"\\\n\x02 \xf0\x9f\x98\x80"};

/* safetensors_check.py's value() */
static double value(wk_dtype d, int64_t k) {
  if (wk_dtype_is_float(d)) return (double)(k - 3) * 0.25;
  if (d == WK_INT8 || d == WK_INT16 || d == WK_INT32 || d == WK_INT64) return (double)(k - 3);
  if (d == WK_BOOL) return k % 3 == 0;
  return (double)(k * 3);
}

static int run_check(const char *file, const char *extra) {
  char cmd[8400];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/safetensors_check.py '%s' %s", file, extra);
  fflush(stdout); /* the script writes to the same stdout */
  return system(cmd) == 0;
}

static int same_bytes(const char *path, const void *want, size_t n) {
  size_t size;
  void *got = slurp(path, &size);
  int ok = got != NULL && size == n && memcmp(got, want, n) == 0;
  free(got);
  return ok;
}

static void writer_tests(const char *tmp) {
  wk_tensor *ts[NWRITTEN];
  const char *names[NWRITTEN];
  char path[4200], what[256];
  wk_file *f = NULL;
  wk_error e;
  size_t i, size;
  int ok = 1;
  void *before;
  for (i = 0; i < NWRITTEN; i++) {
    int64_t k;
    ts[i] = NULL;
    names[i] = written[i].name;
    if (wk_tensor_new(written[i].dtype, written[i].rank, written[i].shape, &ts[i], &e) != WK_OK) ok = 0;
    for (k = 0; ok && k < wk_tensor_numel(ts[i]); k++)
      ok = wk_tensor_set_f64(ts[i], k, value(written[i].dtype, k), &e) == WK_OK;
  }
  CHECK(ok, "writer: tensors built");
  snprintf(path, sizeof path, "%s/written.safetensors", tmp);
  CHECK(wk_write_safetensors(path, names, (const wk_tensor *const *)ts, NWRITTEN, meta_keys, meta_values, 2, 0,
                             &e) == WK_OK,
        "wk_write_safetensors writes every dtype, a scalar, an empty tensor, metadata, odd names");
  CHECK(run_check(path, ""), "safetensors_check.py: header bytes, padding, order, offsets and values");
  /* read back through every mode */
  for (int mode = 0; mode < NMODES; mode++) {
    const char *v = NULL;
    ok = open_st(path, mode, NULL, &f, &e) == WK_OK;
    if (!ok) printf("# %s\n", e.message);
    for (i = 0; ok && i < NWRITTEN; i++) {
      const wk_tensor_info *info = find_info(f, written[i].name);
      wk_tensor *t = NULL;
      int eq = 0;
      ok = info != NULL && wk_file_read(f, info, &t, &e) == WK_OK;
      ok = ok && wk_tensor_allclose(t, ts[i], 0, 0, &eq, &e) == WK_OK && eq && wk_tensor_dtype(t) == written[i].dtype &&
           wk_tensor_rank(t) == written[i].rank;
      if (!ok) printf("# read back %s failed\n", written[i].name);
      wk_tensor_release(t);
    }
    ok = ok && wk_file_string_attribute(f, "__metadata__", "note", &v, &e) == WK_OK && v != NULL &&
         strcmp(v, meta_values[1]) == 0;
    snprintf(what, sizeof what, "written file read back (mode %d): values, dtypes, metadata", mode);
    CHECK(ok, what);
    wk_file_close(f);
    f = NULL;
  }
  /* refusals, before anything touches the disk */
  before = slurp(path, &size);
  {
    const char *dup[2] = {"a", "a"}, *meta_name[1] = {"__metadata__"}, *empty[1] = {""}, *bad_utf8[1] = {"\xff"};
    const char *mk[2] = {"k", "k"}, *mv[2] = {"1", "2"};
    const wk_tensor *two[2] = {ts[0], ts[1]};
    wk_status s;
    s = wk_write_safetensors(path, dup, two, 2, NULL, NULL, 0, 1, &e);
    CHECK(outcome(s, &e, "EINVAL", "duplicate tensor name \"a\""), "writer: duplicate names refused");
    s = wk_write_safetensors(path, meta_name, two, 1, NULL, NULL, 0, 1, &e);
    CHECK(outcome(s, &e, "EINVAL", "__metadata__"), "writer: a tensor named __metadata__ refused");
    s = wk_write_safetensors(path, empty, two, 1, NULL, NULL, 0, 1, &e);
    CHECK(outcome(s, &e, "EINVAL", "empty"), "writer: an empty name refused");
    s = wk_write_safetensors(path, bad_utf8, two, 1, NULL, NULL, 0, 1, &e);
    CHECK(outcome(s, &e, "EINVAL", "UTF-8"), "writer: a name that is not UTF-8 refused");
    s = wk_write_safetensors(path, names, two, 1, mk, mv, 2, 1, &e);
    CHECK(outcome(s, &e, "EINVAL", "duplicate metadata key \"k\""), "writer: duplicate metadata keys refused");
    s = wk_write_safetensors(path, names, two, 1, NULL, NULL, 0, 0, &e);
    CHECK(outcome(s, &e, "EIO", "already exists"), "writer: overwrite = 0 and an existing file: EIO");
    s = wk_write_safetensors(tmp, names, two, 1, NULL, NULL, 0, 1, &e);
    CHECK(outcome(s, &e, "EIO", "-"), "writer: a directory target: EIO");
  }
  CHECK(before != NULL && same_bytes(path, before, size), "refused writes leave the previous file byte-identical");
  free(before);
  /* no tensors, no metadata: "{}" padded */
  snprintf(path, sizeof path, "%s/empty_written.safetensors", tmp);
  CHECK(wk_write_safetensors(path, NULL, NULL, 0, NULL, NULL, 0, 0, &e) == WK_OK &&
            same_bytes(path, "\x08\0\0\0\0\0\0\0{}      ", 16) && run_check(path, "empty"),
        "writer: an empty file is {} padded to 8 bytes");
  /* overwrite = 1 replaces; tensors read zero-copy from the old file stay valid */
  snprintf(path, sizeof path, "%s/written.safetensors", tmp);
  if (open_st(path, MODE_MAP, NULL, &f, &e) == WK_OK) {
    wk_tensor *old = NULL;
    char h1[65], h2[65];
    const wk_tensor_info *info = find_info(f, "zeta.kernel");
    ok = info != NULL && wk_file_read(f, info, &old, &e) == WK_OK &&
         wk_tensor_storage_kind(old) == WK_STORAGE_EXTERNAL;
    if (ok) tensor_hex(old, h1);
    wk_file_close(f);
    ok = ok && wk_write_safetensors(path, names, (const wk_tensor *const *)ts + 1, 1, NULL, NULL, 0, 1, &e) == WK_OK;
    if (ok) tensor_hex(old, h2);
    CHECK(ok && strcmp(h1, h2) == 0, "overwrite: a zero-copy tensor of the old file keeps its bytes");
    wk_tensor_release(old);
  } else {
    CHECK(0, "overwrite: open");
  }
  for (i = 0; i < NWRITTEN; i++) wk_tensor_release(ts[i]);
}

/* }==================================================================== */

static void sniff_tests(const char *tmp) {
  char path[4200];
  size_t size;
  unsigned char *p;
  snprintf(path, sizeof path, "%s/all_dtypes.safetensors", tmp);
  p = (unsigned char *)slurp(path, &size);
  CHECK(p != NULL && wk__safetensors_sniff(p, size, size), "sniff: a safetensors file");
  CHECK(p != NULL && !wk__safetensors_sniff(p, size, 200), "sniff: a header length past the end");
  if (p != NULL) {
    p[8] = '[';
    CHECK(!wk__safetensors_sniff(p, size, size), "sniff: no '{' after the length");
  }
  free(p);
  CHECK(!wk__safetensors_sniff((const unsigned char *)"\x89HDF\r\n\x1a\n\0", 9, 4096), "sniff: HDF5 is not safetensors");
}

int main(void) {
  char tmp[] = "/tmp/wk_safetensors_XXXXXX", cmd[8192], what[8192];
  size_t r;
  wk_file *h[NMODES] = {NULL};
  wk_error e;
  wk_status s;
  int ended = 0, m;
  if (mkdtemp(tmp) == NULL) {
    CHECK(0, "temporary directory");
    return wk_test_done();
  }
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/safetensors_cases.py '%s'", tmp);
  if (!load_records(cmd)) {
    CHECK(0, "safetensors_cases.py runs");
    return wk_test_done();
  }
  for (r = 0; r < nrecs; r++) {
    int n = recs[r].n;
    char **fl = recs[r].f;
    const char *k = fl[0];
    if (strcmp(k, "OPEN") == 0 && n >= 4) {
      wk_open_options o = {0};
      int agree = 1;
      if (n >= 5) o.max_tensors = (size_t)atol(fl[4]);
      if (n >= 6) o.max_attribute_bytes = (size_t)atol(fl[5]);
      for (m = 0; m < NMODES; m++) {
        wk_error e2;
        wk_file_close(h[m]);
        h[m] = NULL;
        s = open_st(fl[1], m, &o, &h[m], m == 0 ? &e : &e2);
        if (m == 0) {
          snprintf(what, sizeof what, "open %s: %s %s", strrchr(fl[1], '/') + 1, fl[2], fl[3]);
          CHECK(outcome(s, &e, fl[2], fl[3]), safe(what));
        } else if (strcmp(code_name(s), fl[2]) != 0 || (s != WK_OK && strcmp(e.message, e2.message) != 0)) {
          printf("# mode %d: %s %s\n", m, code_name(s), s == WK_OK ? "" : e2.message);
          agree = 0;
        }
        if (s == WK_OK && strcmp(wk_file_format(h[m]), "safetensors") != 0) agree = 0;
      }
      snprintf(what, sizeof what, "open %s: no_mmap and memory agree", strrchr(fl[1], '/') + 1);
      CHECK(agree, safe(what));
    } else if (strcmp(k, "NTENSORS") == 0) {
      const wk_tensor_info *infos;
      size_t cnt = 0;
      snprintf(what, sizeof what, "%s tensors listed", fl[1]);
      CHECK(h[0] != NULL && wk_file_tensors(h[0], &infos, &cnt, &e) == WK_OK && cnt == (size_t)atol(fl[1]), safe(what));
    } else if (strcmp(k, "NLAYERS") == 0) {
      snprintf(what, sizeof what, "%s layers", fl[1]);
      CHECK(h[0] != NULL && wk_file_layer_count(h[0]) == (size_t)atol(fl[1]), safe(what));
    } else if (strcmp(k, "LAYER") == 0 && n >= 4) {
      const wk_layer_info *l = h[0] ? wk_file_layer(h[0], (size_t)atol(fl[1])) : NULL;
      char names[4096] = "";
      size_t j;
      for (j = 0; l != NULL && j < l->weight_count; j++) {
        if (j) strcat(names, ",");
        strncat(names, l->weights[j].name, sizeof names - strlen(names) - 2);
      }
      snprintf(what, sizeof what, "layer %s is %s with weights %s", fl[1], fl[2], fl[3]);
      CHECK(l != NULL && strcmp(l->name, fl[2]) == 0 && strcmp(names, fl[3]) == 0, safe(what));
    } else if (strcmp(k, "INFO") == 0 && n >= 4) {
      const wk_tensor_info *info = find_info(h[0], fl[1]);
      char shape[512] = "";
      int d;
      for (d = 0; info != NULL && d < info->rank; d++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? "," : "",
                 (long long)info->shape[d]);
      snprintf(what, sizeof what, "info %s: %s (%s)", fl[1], fl[2], fl[3]);
      CHECK(info != NULL && strcmp(info->dtype_name, fl[2]) == 0 && strcmp(shape, fl[3]) == 0 &&
                info->layer == NULL && info->name == NULL,
            safe(what));
    } else if (strcmp(k, "READ") == 0 && n >= 6) {
      char hex[3][65] = {"", "", ""};
      int ok = 1;
      for (m = 0; m < NMODES; m++) {
        const wk_tensor_info *info = find_info(h[m], fl[1]);
        wk_tensor *t = NULL;
        s = info ? wk_file_read(h[m], info, &t, &e) : WK_EINVAL;
        ok &= info != NULL && outcome(s, &e, fl[2], fl[3]);
        if (s == WK_OK) {
          tensor_hex(t, hex[m]);
          ok &= strcmp(hex[m], fl[4]) == 0;
          if (m == MODE_MAP && strcmp(fl[5], "-") != 0)
            ok &= (wk_tensor_storage_kind(t) == WK_STORAGE_EXTERNAL) == (atoi(fl[5]) == 1);
          if (m == MODE_PREAD) ok &= wk_tensor_storage_kind(t) == WK_STORAGE_OWNED;
          if (!ok) printf("# mode %d sha %s kind %d\n", m, hex[m], (int)wk_tensor_storage_kind(t));
        }
        wk_tensor_release(t);
        if (m == MODE_MAP && ok && s == WK_OK) { /* the same through the layer lists */
          const wk_tensor_info *li = find_layer_info(h[m], fl[1]);
          char hex2[65] = "";
          t = NULL;
          ok &= li != NULL && wk_file_read(h[m], li, &t, &e) == WK_OK;
          if (t != NULL) tensor_hex(t, hex2);
          ok &= strcmp(hex2, hex[m]) == 0;
          wk_tensor_release(t);
        }
      }
      snprintf(what, sizeof what, "read %s: %s %s (mapped, no_mmap, memory)", fl[1], fl[2], fl[3]);
      CHECK(ok, safe(what));
    } else if (strcmp(k, "META") == 0 && n >= 3) {
      const char *v = NULL;
      int ok = h[0] != NULL && wk_file_string_attribute(h[0], "__metadata__", fl[1], &v, &e) == WK_OK;
      ok = ok && (strcmp(fl[2], "-") == 0 ? v == NULL : v != NULL && strcmp(v, fl[2]) == 0);
      snprintf(what, sizeof what, "metadata %s = %s", fl[1], fl[2]);
      CHECK(ok, safe(what));
    } else if (strcmp(k, "FLIP") == 0 && n >= 3) {
      flip_test(fl[1], atoi(fl[2]));
    } else if (strcmp(k, "END") == 0) {
      ended = 1;
    }
  }
  for (m = 0; m < NMODES; m++) wk_file_close(h[m]);
  CHECK(ended, "safetensors_cases.py ran to the end");
  snprintf(what, sizeof what, "%s/all_dtypes.safetensors", tmp);
  truncation_test(what);
  sniff_tests(tmp);
  writer_tests(tmp);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmp);
  return wk_test_done();
}
