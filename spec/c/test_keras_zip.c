/*
** test_keras_zip.c — .keras archives: the reader (wk_file_open on zips, wk_file_member*,
** wk_file_read_member) against the real Keras archives and a corpus of synthetic and hostile
** ones, memory images, random bit flips and truncations; the writer (wk_write_keras_zip)
** checked by Python's zipfile and read back.
**
** Expectations come from spec/c/keras_zip_cases.py (real files: expected/<name>.json; synthetic
** archives written into a temp dir), written archives are described by spec/c/keras_zip_check.py,
** both run with Debian's /usr/bin/python3. Fixtures: $WK_FIXTURES (default ../shared/fixtures/real,
** relative to the repo root, the working directory).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weightkit.h"
#include "wk_test.h"
#include "wk_test_records.h"

/* libhdf5 1.10 leaks a little on some corrupt images (inside the library). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\nleak:libhdf5.so\n"; }
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }



static void sha_hex(const void *data, size_t size, char hex[65]) {
  wk_sha256 c;
  unsigned char d[32];
  wk_sha256_init(&c);
  wk_sha256_update(&c, data, size);
  wk_sha256_final(&c, d);
  wk_sha256_hex(d, hex);
}


static int spill(const char *path, const void *data, size_t size) {
  FILE *fp = fopen(path, "wb");
  int ok = fp != NULL && fwrite(data, 1, size, fp) == size;
  if (fp != NULL && fclose(fp) != 0) ok = 0;
  return ok;
}

/* The dataset at `path` of f read whole: its sha256 in hex, or a message in hex. */
static int tensor_sha(wk_file *f, const char *path, char hex[65]) {
  const wk_tensor_info *infos;
  size_t n, i;
  wk_error e;
  if (wk_file_tensors(f, &infos, &n, &e) != WK_OK) {
    printf("# tensors: %s\n", e.message);
    return 0;
  }
  for (i = 0; i < n; i++) {
    if (strcmp(infos[i].path, path) == 0) {
      wk_tensor *t = NULL;
      unsigned char d[32];
      if (wk_file_read(f, &infos[i], &t, &e) != WK_OK) {
        printf("# read %s: %s\n", path, e.message);
        return 0;
      }
      wk_tensor_sha256(t, d);
      wk_sha256_hex(d, hex);
      wk_tensor_release(t);
      return 1;
    }
  }
  printf("# no dataset %s\n", path);
  return 0;
}

/* {====================================================================
** The corpus
** ===================================================================== */

/* Checks the records of one FILE block starting at recs[*i]; leaves *i past its END. */
static void check_file(size_t *i) {
  const rec *head = &recs[(*i)++];
  const char *path = head->f[1], *want = head->f[2], *text = head->f[3];
  char what[600];
  wk_file *f = NULL;
  wk_error e;
  wk_status st = wk_file_open(path, NULL, &f, &e);
  size_t member = 0;
  int members_ok = 1, nmembers = 0;
  if (strcmp(want, "OK") != 0) {
    int ok = st != WK_OK && strcmp(code_name(st), want) == 0 && strstr(e.message, text) != NULL;
    snprintf(what, sizeof what, "%s: %s containing \"%s\"", path, want, text);
    if (!ok) printf("# got %s: %s\n", code_name(st), st == WK_OK ? "opened" : e.message);
    CHECK(ok, what);
    if (st == WK_OK) wk_file_close(f);
    while (!is(&recs[*i], "END")) (*i)++;
    (*i)++;
    return;
  }
  snprintf(what, sizeof what, "%s opens as keras-zip", path);
  if (st != WK_OK) printf("# %s\n", e.message);
  CHECK(st == WK_OK && strcmp(wk_file_format(f), "keras-zip") == 0, what);
  if (st != WK_OK) {
    while (!is(&recs[*i], "END")) (*i)++;
    (*i)++;
    return;
  }
  for (; !is(&recs[*i], "END"); (*i)++) {
    const rec *r = &recs[*i];
    if (is(r, "MEMBER")) {
      const wk_member_info *m = wk_file_member(f, member++);
      nmembers++;
      if (m == NULL || strcmp(m->name, r->f[1]) || m->size != strtoull(r->f[2], NULL, 10) ||
          m->compressed_size != strtoull(r->f[3], NULL, 10) || m->method != atoi(r->f[4])) {
        printf("# member %zu: want %s %s %s %s, got %s\n", member - 1, r->f[1], r->f[2], r->f[3], r->f[4],
               m ? m->name : "nothing");
        members_ok = 0;
      }
    } else if (is(r, "TEXT") || is(r, "MSHA")) {
      const void *data = NULL;
      size_t size = 0;
      char hex[65];
      int ok = wk_file_read_member(f, r->f[1], &data, &size, &e) == WK_OK;
      if (!ok) printf("# %s\n", e.message);
      if (ok && is(r, "TEXT")) ok = size == strlen(r->f[2]) && memcmp(data, r->f[2], size) == 0 &&
                                    ((const char *)data)[size] == '\0';
      if (ok && is(r, "MSHA")) {
        sha_hex(data, size, hex);
        ok = size == strtoull(r->f[2], NULL, 10) && strcmp(hex, r->f[3]) == 0;
      }
      snprintf(what, sizeof what, "%s: member %s has the expected bytes", path, r->f[1]);
      CHECK(ok, what);
    } else if (is(r, "MERR")) {
      const void *data;
      size_t size;
      st = wk_file_read_member(f, r->f[1], &data, &size, &e);
      snprintf(what, sizeof what, "%s: reading member %s fails with %s \"%s\"", path, r->f[1], r->f[2], r->f[3]);
      if (st == WK_OK || strcmp(code_name(st), r->f[2]) || strstr(e.message, r->f[3]) == NULL)
        printf("# got %s: %s\n", code_name(st), st == WK_OK ? "read" : e.message);
      CHECK(st != WK_OK && strcmp(code_name(st), r->f[2]) == 0 && strstr(e.message, r->f[3]) != NULL, what);
    } else if (is(r, "TENSOR")) {
      char hex[65];
      int ok = tensor_sha(f, r->f[1], hex) && strcmp(hex, r->f[2]) == 0;
      snprintf(what, sizeof what, "%s: tensor %s sha256", path, r->f[1]);
      CHECK(ok, what);
    }
  }
  (*i)++;
  if (nmembers) {
    snprintf(what, sizeof what, "%s: %d members in directory order", path, nmembers);
    CHECK(members_ok && wk_file_member_count(f) == (size_t)nmembers && wk_file_member(f, (size_t)nmembers) == NULL,
          what);
  }
  wk_file_close(f);
}

/* }==================================================================== */

/* {====================================================================
** Options, memory images, lifetimes
** ===================================================================== */

static void test_options(const char *fixtures, const char *tmp) {
  char path[1024], many[1024], hex1[65], hex2[65];
  wk_open_options o;
  wk_file *f = NULL, *g = NULL;
  wk_error e;
  const void *data;
  size_t size;
  wk_tensor *t = NULL;
  const wk_tensor_info *infos;
  size_t n;
  snprintf(path, sizeof path, "%s/k315_nested_container.keras", fixtures);
  snprintf(many, sizeof many, "%s/zip64_eocd.keras", tmp);

  memset(&o, 0, sizeof o);
  o.max_tensors = 1000;
  CHECK(wk_file_open(many, &o, &f, &e) == WK_ELIMIT && strstr(e.message, "70003 archive members") != NULL,
        "max_tensors bounds the member count (ELIMIT)");

  memset(&o, 0, sizeof o);
  o.max_attribute_bytes = 100;
  CHECK(wk_file_open(path, &o, &f, &e) == WK_OK, "k315 opens with max_attribute_bytes = 100");
  CHECK(wk_file_read_member(f, "config.json", &data, &size, &e) == WK_ELIMIT && strstr(e.message, "config.json"),
        "a member above max_attribute_bytes: ELIMIT naming it");
  CHECK(wk_file_read_member(f, "metadata.json", &data, &size, &e) == WK_OK && size == 64,
        "a member below max_attribute_bytes reads");
  {
    const void *again;
    size_t size2;
    CHECK(wk_file_read_member(f, "metadata.json", &again, &size2, &e) == WK_OK && again == data,
          "a member is read once and cached");
  }
  CHECK(wk_file_read_member(f, "metadata.json", NULL, &size, &e) == WK_EINVAL, "NULL out argument: EINVAL");

  /* no_mmap: same tensors; tensors outlive the handle */
  memset(&o, 0, sizeof o);
  o.no_mmap = 1;
  CHECK(wk_file_open(path, &o, &g, &e) == WK_OK, "k315 opens with no_mmap");
  CHECK(tensor_sha(f, "layers/dense/vars/0", hex1) && tensor_sha(g, "layers/dense/vars/0", hex2) &&
            strcmp(hex1, hex2) == 0,
        "no_mmap reads the same bytes");
  CHECK(wk_file_tensors(f, &infos, &n, &e) == WK_OK && n > 0 && wk_file_read(f, &infos[0], &t, &e) == WK_OK,
        "read a tensor");
  wk_file_close(f);
  wk_file_close(g);
  sha_hex(wk_tensor_data(t), wk_tensor_nbytes(t), hex1);
  CHECK(wk_tensor_nbytes(t) > 0 && strlen(hex1) == 64, "a tensor read from an archive outlives its handle");
  wk_tensor_release(t);

  /* a non-archive has no members */
  snprintf(path, sizeof path, "%s/k3_dense_adam.weights.h5", fixtures);
  if (wk_file_open(path, NULL, &f, &e) == WK_OK) {
    CHECK(wk_file_member_count(f) == 0 && wk_file_member(f, 0) == NULL &&
              wk_file_read_member(f, "metadata.json", &data, &size, &e) == WK_EINVAL,
          "an HDF5 file has no archive members (EINVAL)");
    wk_file_close(f);
  } else {
    CHECK(0, e.message);
  }
}

static int released;
static void count_release(void *ctx) {
  released++;
  free(ctx);
}

/* Opens `size` bytes at `copy` (malloc'd, freed by the release callback) as a memory archive. */
static wk_status open_memory(char *copy, size_t size, wk_file **out, wk_error *err) {
  return wk_file_open_memory(copy, size, "mem.keras", count_release, copy, NULL, out, err);
}

static void test_memory(const char *fixtures, const char *tmp) {
  char path[1024];
  size_t size;
  char *bytes;
  wk_file *f = NULL;
  wk_error e;
  wk_tensor *t = NULL;
  const wk_tensor_info *infos;
  size_t n;
  snprintf(path, sizeof path, "%s/k315_nested_container.keras", fixtures);
  bytes = slurp(path, &size);
  released = 0;
  CHECK(bytes != NULL && open_memory(bytes, size, &f, &e) == WK_OK, "a .keras image opens from memory");
  if (f == NULL) return;
  CHECK(strcmp(wk_file_format(f), "keras-zip") == 0 && wk_file_member_count(f) == 3, "memory archive: 3 members");
  CHECK(wk_file_tensors(f, &infos, &n, &e) == WK_OK && wk_file_read(f, &infos[n - 1], &t, &e) == WK_OK,
        "memory archive: a tensor reads");
  wk_file_close(f);
  CHECK(released == 1, "memory archive: the caller's release runs once, at close");
  wk_tensor_release(t);

  snprintf(path, sizeof path, "%s/npz.keras", tmp);
  bytes = slurp(path, &size);
  released = 0;
  CHECK(open_memory(bytes, size, &f, &e) == WK_EFORMAT && strstr(e.message, "mem.keras") != NULL && released == 0,
        "a failed memory open leaves the caller's memory alone");
  free(bytes);
  snprintf(path, sizeof path, "%s/weights_short.keras", tmp);
  bytes = slurp(path, &size);
  released = 0;
  CHECK(open_memory(bytes, size, &f, &e) == WK_EFORMAT && released == 0,
        "a memory open failing on the weights member leaves the caller's memory alone");
  free(bytes);
}

/* }==================================================================== */

/* {====================================================================
** Bit flips and truncations: an error code or a readable file, never a crash
** ===================================================================== */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t next_rand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Opens path; when it opens, reads every member and tensor (errors allowed). 1 when every
** failure had a known code and a message. */
static int exercise(const char *path, int *opened) {
  wk_file *f = NULL;
  wk_error e;
  wk_status st = wk_file_open(path, NULL, &f, &e);
  const wk_tensor_info *infos;
  size_t n, i;
  if (st != WK_OK) return st > WK_OK && st <= WK_EFORMAT && e.message[0] != '\0';
  (*opened)++;
  for (i = 0; i < wk_file_member_count(f); i++) {
    const void *d;
    size_t size;
    st = wk_file_read_member(f, wk_file_member(f, i)->name, &d, &size, &e);
    if (st != WK_OK && (st > WK_EFORMAT || e.message[0] == '\0')) return 0;
  }
  if (wk_file_tensors(f, &infos, &n, &e) == WK_OK) {
    for (i = 0; i < n; i++) {
      wk_tensor *t = NULL;
      if (wk_file_read(f, &infos[i], &t, &e) == WK_OK) wk_tensor_release(t);
    }
  }
  wk_file_close(f);
  return 1;
}

static void test_fuzz(const char *fixtures, const char *tmp) {
  char path[1024], out[1024], what[200];
  size_t size, k, len;
  char *bytes, *copy;
  int ok = 1, opened = 0, rounds = 300;
  snprintf(path, sizeof path, "%s/k315_nested_container.keras", fixtures);
  snprintf(out, sizeof out, "%s/fuzz.keras", tmp);
  bytes = slurp(path, &size);
  if (bytes == NULL) {
    CHECK(0, "read k315");
    return;
  }
  copy = (char *)malloc(size);
  for (k = 0; k < (size_t)rounds; k++) {
    int flips = 1 + (int)(next_rand() % 4), j;
    memcpy(copy, bytes, size);
    for (j = 0; j < flips; j++) {
      /* half the flips land in the zip structure: the first local header or the central
      ** directory and end record at the end */
      uint64_t r = next_rand();
      size_t pos = (r & 1) ? (size_t)(r >> 8) % size
                           : ((r >> 1) & 1) ? (size_t)(r >> 8) % 60 : size - 1 - (size_t)(r >> 8) % 250;
      copy[pos] ^= (char)(1u << ((r >> 4) & 7));
    }
    if (!spill(out, copy, size) || !exercise(out, &opened)) {
      printf("# round %zu failed without a proper error\n", k);
      ok = 0;
    }
  }
  snprintf(what, sizeof what, "%d bit-flipped archives: each an error with a code or a readable file (%d opened)",
           rounds, opened);
  CHECK(ok, what);

  ok = 1;
  opened = 0;
  for (len = 0; len < size; len += 1 + len / 8) {
    if (!spill(out, bytes, len) || !exercise(out, &opened)) ok = 0;
  }
  CHECK(ok && opened == 0, "every truncation of k315 fails with an error");
  free(copy);
  free(bytes);
}

/* }==================================================================== */

/* {====================================================================
** Writer
** ===================================================================== */

/* Runs keras_zip_check.py on path; the output (lines) into buf. */
static int describe(const char *path, char *buf, size_t size) {
  char cmd[2048];
  size_t used = 0;
  FILE *p;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/keras_zip_check.py '%s' 2>&1", path);
  p = popen(cmd, "r");
  if (p == NULL) return 0;
  while (used + 1 < size && fgets(buf + used, (int)(size - used), p) != NULL) used += strlen(buf + used);
  buf[used] = '\0';
  return pclose(p) == 0;
}

static void test_writer(const char *fixtures, const char *tmp) {
  static const char *const names[3] = {"metadata.json", "config.json", "model.weights.h5"};
  char path[1024], out[1024], desc[8192], line[512], hex[65], hex2[65], what[600];
  wk_zip_member m[3];
  const void *data[3];
  size_t size[3];
  wk_file *src = NULL, *f = NULL;
  wk_error e;
  int i, deflate;
  struct stat st;
  snprintf(path, sizeof path, "%s/k315_nested_container.keras", fixtures);
  if (wk_file_open(path, NULL, &src, &e) != WK_OK) {
    CHECK(0, e.message);
    return;
  }
  for (i = 0; i < 3; i++) {
    if (wk_file_read_member(src, names[i], &data[i], &size[i], &e) != WK_OK) {
      CHECK(0, e.message);
      wk_file_close(src);
      return;
    }
    m[i].name = names[i];
    m[i].data = data[i];
    m[i].size = size[i];
    m[i].mtime = i == 2 ? 1716900001 : 0; /* 2024-05-28 12:40:01 UTC: DOS keeps even seconds */
  }
  for (deflate = 0; deflate < 2; deflate++) {
    int good = 1;
    snprintf(out, sizeof out, "%s/written%d.keras", tmp, deflate);
    for (i = 0; i < 3; i++) m[i].deflate = deflate;
    snprintf(what, sizeof what, "wk_write_keras_zip writes %s members", deflate ? "deflated" : "stored");
    CHECK(wk_write_keras_zip(out, m, 3, 0, &e) == WK_OK, what);
    CHECK(describe(out, desc, sizeof desc) && strncmp(desc, "TEST OK\n", 8) == 0,
          "Python's zipfile reads it and every CRC checks");
    for (i = 0; i < 3; i++) {
      /* Python writes version 20 for every member; libzip writes 10 (the APPNOTE minimum) for
      ** stored ones and 20 for deflated: both are readable by any zip reader and by Keras */
      sha_hex(data[i], size[i], hex);
      snprintf(line, sizeof line, "M %s %d 0 %d %s %zu %s 0\n", names[i], deflate ? 8 : 0, deflate ? 20 : 10,
               i == 2 ? "2024-05-28@12:40:00" : "1980-01-01@00:00:00", size[i], hex);
      if (strstr(desc, line) == NULL) {
        printf("# want %s# in %s", line, desc);
        good = 0;
      }
    }
    snprintf(what, sizeof what, "%s archive: member order, method, flags, version, dates, bytes as expected",
             deflate ? "deflated" : "stored");
    CHECK(good && strstr(desc, "M metadata.json") < strstr(desc, "M config.json") &&
              strstr(desc, "M config.json") < strstr(desc, "M model.weights.h5"),
          what);
    CHECK(wk_file_open(out, NULL, &f, &e) == WK_OK && tensor_sha(f, "layers/dense_3/vars/1", hex) &&
              tensor_sha(src, "layers/dense_3/vars/1", hex2) && strcmp(hex, hex2) == 0,
          "the written archive reads back with the same tensors");
    wk_file_close(f);
    f = NULL;
  }

  /* overwrite = 0 leaves the file alone; overwrite = 1 replaces it */
  snprintf(out, sizeof out, "%s/written0.keras", tmp);
  stat(out, &st);
  CHECK(wk_write_keras_zip(out, m, 1, 0, &e) == WK_EIO && strstr(e.message, "already exists") != NULL,
        "overwrite = 0 and an existing target: EIO already exists");
  {
    struct stat st2;
    CHECK(stat(out, &st2) == 0 && st2.st_size == st.st_size, "the existing file is untouched");
    CHECK(wk_write_keras_zip(out, m, 1, 1, &e) == WK_OK && stat(out, &st2) == 0 && st2.st_size < st.st_size,
          "overwrite = 1 replaces it");
  }
  CHECK(wk_write_keras_zip(tmp, m, 1, 1, &e) == WK_EIO, "a directory target: EIO");

  /* names */
  {
    static const char *const bad[] = {"../x", "/abs", "a\\b", "a//b", "./a", "a/./b", "a/..", "", "dir/", NULL};
    wk_zip_member b = {NULL, "x", 1, 0, 0};
    int all = 1;
    snprintf(out, sizeof out, "%s/badname.keras", tmp);
    for (i = 0; bad[i] != NULL; i++) {
      b.name = bad[i];
      if (wk_write_keras_zip(out, &b, 1, 1, &e) != WK_EINVAL) {
        printf("# name \"%s\" accepted\n", bad[i]);
        all = 0;
      }
    }
    CHECK(all && access(out, F_OK) != 0, "bad member names: EINVAL, nothing written");
    {
      wk_zip_member two[2] = {{"a/b", "1", 1, 0, 0}, {"a/b", "2", 1, 1, 0}};
      CHECK(wk_write_keras_zip(out, two, 2, 1, &e) == WK_EINVAL && strstr(e.message, "twice") != NULL &&
                access(out, F_OK) != 0,
            "a duplicate member name: EINVAL, nothing written");
    }
  }

  /* an empty archive; a non-ASCII name; an empty member */
  {
    wk_zip_member u[2] = {{"assets/\xc3\xa9t\xc3\xa9.txt", "hi", 2, 0, 4354819199}, {"empty", NULL, 0, 1, -5}};
    snprintf(out, sizeof out, "%s/empty.zip", tmp);
    CHECK(wk_write_keras_zip(out, NULL, 0, 1, &e) == WK_OK && describe(out, desc, sizeof desc) &&
              strcmp(desc, "TEST OK\n") == 0,
          "an archive without members is a valid empty zip");
    snprintf(out, sizeof out, "%s/utf8.zip", tmp);
    CHECK(wk_write_keras_zip(out, u, 2, 1, &e) == WK_OK && describe(out, desc, sizeof desc) &&
              strstr(desc, "M assets/\xc3\xa9t\xc3\xa9.txt 0 2048 10 2107-12-31@23:59:58 2 ") != NULL &&
              strstr(desc, "M empty 8 ") != NULL && strstr(desc, " 1980-01-01@00:00:00 0 ") != NULL,
          "UTF-8 names (flag 0x800), dates clamped to zip's range, empty members");
  }
  wk_file_close(src);
}

/* }==================================================================== */

int main(void) {
  const char *fixtures = getenv("WK_FIXTURES");
  char tmp[] = "/tmp/wk_keras_zip_XXXXXX", cmd[2048];
  size_t i;
  if (fixtures == NULL || fixtures[0] == '\0') fixtures = "../shared/fixtures/real";
  if (mkdtemp(tmp) == NULL) {
    CHECK(0, "mkdtemp");
    return wk_test_done();
  }
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/keras_zip_cases.py '%s' '%s'", fixtures, tmp);
  if (!load_records(cmd)) {
    CHECK(0, "expectations generated by spec/c/keras_zip_cases.py (needs /usr/bin/python3)");
  } else {
    for (i = 0; i < nrecs;) {
      if (is(&recs[i], "FILE")) check_file(&i);
      else i++;
    }
    test_options(fixtures, tmp);
    test_memory(fixtures, tmp);
    test_fuzz(fixtures, tmp);
    test_writer(fixtures, tmp);
  }
  for (i = 0; i < nrecs; i++) {
    int j;
    for (j = 0; j < recs[i].n; j++) free(recs[i].f[j]);
  }
  free(recs);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmp);
  return wk_test_done();
}
