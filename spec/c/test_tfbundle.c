/*
** test_tfbundle.c — the TensorFlow bundle reader (formats "tf-checkpoint" and "savedmodel"):
** the real fixtures (keys, dtypes, shapes, sha256, string lengths, object graph against
** expected/<name>.json; opened by prefix, .index path and directory), synthetic bundles
** (big-endian, Snappy blocks, two shards, slices, unknown fields, checkpoint state escapes,
** SavedModel layout) and a hostile corpus with one expected error each, plus random bit flips of
** every real .index. Bundles and expectations come from spec/c/tfbundle_cases.py (Debian's
** /usr/bin/python3); fixtures from $WK_FIXTURES (default ../shared/fixtures/real).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wk_test.h"
#include "wk_test_records.h"


/* Reads everything a handle offers, ignoring the results (fuzzing: only crashes matter). */
static void read_all(wk_file *f) {
  const wk_tensor_info *infos;
  const wk_ckpt_node *nodes;
  size_t n, i, cnt;
  wk_error e;
  if (wk_file_tensors(f, &infos, &n, &e) != WK_OK) return;
  for (i = 0; i < n; i++) {
    wk_tensor *t = NULL;
    const char *const *items;
    const size_t *lens;
    if (wk_file_read(f, &infos[i], &t, &e) == WK_OK) wk_tensor_release(t);
    (void)wk_file_read_strings(f, &infos[i], &items, &lens, &cnt, &e);
  }
  (void)wk_file_object_graph(f, &nodes, &cnt, &e);
}

static void flip_test(const char *index, int count, const char *tmp) {
  size_t size, len = strlen(index);
  unsigned char *orig = (unsigned char *)slurp(index, &size);
  char path[4200], data[8400], link[4200], prefix[2048], cwd[4096];
  int i, opened = 0, refused = 0, clean = 1;
  if (orig == NULL) {
    CHECK(0, "flip: fixture index readable");
    return;
  }
  if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = 0;
  /* the link in the temporary directory needs an absolute target */
  snprintf(data, sizeof data, "%s%s%.*s.data-00000-of-00001", index[0] == '/' ? "" : cwd, index[0] == '/' ? "" : "/",
           (int)(len - 6), index);
  snprintf(prefix, sizeof prefix, "%s/flip", tmp);
  snprintf(path, sizeof path, "%s.index", prefix);
  snprintf(link, sizeof link, "%s.data-00000-of-00001", prefix);
  unlink(link);
  if (symlink(data, link) != 0) {
    CHECK(0, "flip: data shard linked");
    free(orig);
    return;
  }
  srand(1234);
  for (i = 0; i < count; i++) {
    size_t bit = (size_t)rand() % (size * 8);
    FILE *fp = fopen(path, "wb");
    wk_file *f = NULL;
    wk_error e;
    wk_status s;
    orig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    fwrite(orig, 1, size, fp);
    fclose(fp);
    orig[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    s = wk_file_open(prefix, NULL, &f, &e);
    if (s == WK_OK) {
      opened++;
      read_all(f);
      wk_file_close(f);
    } else {
      refused++;
      if ((s != WK_EFORMAT && s != WK_ELIMIT) || e.message[0] == 0) {
        clean = 0;
        printf("# flip of bit %zu: %s %s\n", bit, code_name(s), e.message);
      }
    }
  }
  printf("# %s: %d flips opened, %d refused\n", index, opened, refused);
  CHECK(clean && refused > 0, "random bit flips of a real index fail cleanly");
  unlink(link);
  unlink(path);
  free(orig);
}

static void other_formats(const char *fixtures) {
  char path[4096];
  wk_file *f = NULL;
  wk_error e;
  const wk_ckpt_node *nodes;
  size_t n;
  const char *const *items;
  const size_t *lens;
  const wk_tensor_info *infos;
  snprintf(path, sizeof path, "%s/k3_dense_adam.weights.h5", fixtures);
  if (wk_file_open(path, NULL, &f, &e) != WK_OK) {
    CHECK(0, "an HDF5 file opens");
    return;
  }
  CHECK(wk_file_object_graph(f, &nodes, &n, &e) == WK_EINVAL, "object graph of an HDF5 file: WK_EINVAL");
  CHECK(wk_file_tensors(f, &infos, &n, &e) == WK_OK && n > 0 &&
            wk_file_read_strings(f, &infos[0], &items, &lens, &n, &e) == WK_EDTYPE,
        "read_strings of an HDF5 file: WK_EDTYPE");
  wk_file_close(f);
  CHECK(wk_file_open("/nonexistent/prefix", NULL, &f, &e) == WK_EIO, "a missing path: WK_EIO");
}

int main(void) {
  const char *fixtures = getenv("WK_FIXTURES");
  char tmp[] = "/tmp/wk_tfbundle_XXXXXX", cmd[8192], what[8192];
  size_t r;
  wk_file *f = NULL, *g = NULL;
  wk_error e;
  wk_status s;
  if (fixtures == NULL) fixtures = "../shared/fixtures/real";
  if (mkdtemp(tmp) == NULL) {
    CHECK(0, "temporary directory");
    return wk_test_done();
  }
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/tfbundle_cases.py '%s' '%s'", fixtures, tmp);
  if (!load_records(cmd)) {
    CHECK(0, "tfbundle_cases.py runs");
    return wk_test_done();
  }
  int ended = 0;
  for (r = 0; r < nrecs; r++) {
    int n = recs[r].n;
    char **fl = recs[r].f;
    const char *k = fl[0];
    if (strcmp(k, "OPEN") == 0 && n >= 4) {
      wk_open_options o = {0};
      wk_file_close(f);
      wk_file_close(g);
      f = g = NULL;
      s = wk_file_open(fl[1], NULL, &f, &e);
      snprintf(what, sizeof what, "open %s: %s %s", fl[1], fl[2], fl[3]);
      CHECK(outcome(s, &e, fl[2], fl[3]), what);
      o.no_mmap = 1;
      if (s == WK_OK && wk_file_open(fl[1], &o, &g, &e) != WK_OK) g = NULL;
    } else if (strcmp(k, "FORMAT") == 0) {
      snprintf(what, sizeof what, "format %s", fl[1]);
      CHECK(f != NULL && strcmp(wk_file_format(f), fl[1]) == 0, what);
    } else if (strcmp(k, "NTENSORS") == 0) {
      const wk_tensor_info *infos;
      size_t cnt = 0;
      snprintf(what, sizeof what, "%s tensors listed", fl[1]);
      CHECK(f != NULL && wk_file_tensors(f, &infos, &cnt, &e) == WK_OK && cnt == (size_t)atol(fl[1]), what);
    } else if (strcmp(k, "NLAYERS") == 0) {
      snprintf(what, sizeof what, "%s layers", fl[1]);
      CHECK(f != NULL && wk_file_layer_count(f) == (size_t)atol(fl[1]), what);
    } else if (strcmp(k, "LAYER") == 0 && n >= 4) {
      const wk_layer_info *l = f ? wk_file_layer(f, (size_t)atol(fl[1])) : NULL;
      char names[4096] = "";
      size_t j;
      for (j = 0; l != NULL && j < l->weight_count; j++) {
        if (j) strcat(names, ",");
        strncat(names, l->weights[j].name, sizeof names - strlen(names) - 2);
      }
      snprintf(what, sizeof what, "layer %s is %s with weights %s", fl[1], fl[2], fl[3]);
      CHECK(l != NULL && strcmp(l->name, fl[2]) == 0 && strcmp(names, fl[3]) == 0, what);
    } else if (strcmp(k, "READ") == 0 && n >= 6) {
      const wk_tensor_info *info = find_info(f, fl[1]);
      wk_tensor *t = NULL;
      char hex[65] = "";
      int ok;
      s = info ? wk_file_read(f, info, &t, &e) : WK_EINVAL;
      ok = info != NULL && outcome(s, &e, fl[2], fl[3]);
      if (ok && s == WK_OK) {
        tensor_hex(t, hex);
        ok = strcmp(hex, fl[4]) == 0 && strcmp(info->dtype_name, fl[5]) == 0;
        if (!ok) printf("# sha %s dtype %s\n", hex, info->dtype_name);
      }
      wk_tensor_release(t);
      t = NULL;
      if (ok && s == WK_OK && g != NULL) { /* the same through no_mmap and through the layer lists */
        const wk_tensor_info *gi = find_info(g, fl[1]), *li = find_layer_info(f, fl[1]);
        char hex2[65] = "";
        ok = gi != NULL && wk_file_read(g, gi, &t, &e) == WK_OK;
        if (ok) tensor_hex(t, hex2);
        wk_tensor_release(t);
        t = NULL;
        ok = ok && strcmp(hex, hex2) == 0;
        if (ok && li != NULL) {
          ok = wk_file_read(f, li, &t, &e) == WK_OK;
          if (ok) tensor_hex(t, hex2);
          ok = ok && strcmp(hex, hex2) == 0;
          wk_tensor_release(t);
        }
      }
      snprintf(what, sizeof what, "read %s: %s %s", fl[1], fl[2], fl[3]);
      CHECK(ok, what);
    } else if (strcmp(k, "STRS") == 0 && n >= 6) {
      const wk_tensor_info *info = find_info(f, fl[1]);
      const char *const *items = NULL;
      const size_t *lens = NULL;
      size_t cnt = 0, j;
      int ok;
      s = info ? wk_file_read_strings(f, info, &items, &lens, &cnt, &e) : WK_EINVAL;
      ok = info != NULL && outcome(s, &e, fl[2], fl[3]);
      if (ok && s == WK_OK) {
        char got[4096] = "";
        wk_sha256 h;
        unsigned char d[32];
        char hex[65];
        wk_sha256_init(&h);
        for (j = 0; j < cnt; j++) {
          snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", j ? "," : "", lens[j]);
          wk_sha256_update(&h, items[j], lens[j]);
          ok &= items[j][lens[j]] == '\0';
        }
        wk_sha256_final(&h, d);
        wk_sha256_hex(d, hex);
        ok &= strcmp(got, fl[4]) == 0 && (strcmp(fl[5], "-") == 0 || strcmp(hex, fl[5]) == 0);
        ok &= info->dtype == WK_DTYPE_COUNT && strcmp(info->dtype_name, "string") == 0;
        if (!ok) printf("# lengths %s sha %s\n", got, hex);
        if (g != NULL) { /* no_mmap gives the same */
          const wk_tensor_info *gi = find_info(g, fl[1]);
          const char *const *items2;
          const size_t *lens2;
          size_t cnt2;
          ok &= gi != NULL && wk_file_read_strings(g, gi, &items2, &lens2, &cnt2, &e) == WK_OK && cnt2 == cnt &&
                (cnt == 0 || memcmp(lens, lens2, cnt * sizeof *lens) == 0);
        }
      }
      snprintf(what, sizeof what, "strings %s: %s %s", fl[1], fl[2], fl[3]);
      CHECK(ok, what);
    } else if (strcmp(k, "GRAPH") == 0 && n >= 3) {
      const wk_ckpt_node *nodes = NULL;
      size_t cnt = 0, j;
      long want = atol(fl[1]);
      s = f ? wk_file_object_graph(f, &nodes, &cnt, &e) : WK_EINVAL;
      if (want < 0) {
        snprintf(what, sizeof what, "object graph refused: %s", fl[2]);
        CHECK(outcome(s, &e, "EFORMAT", fl[2]), what);
      } else {
        char names[4096] = "";
        for (j = 0; s == WK_OK && cnt > 0 && j < nodes[0].child_count; j++)
          snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? "," : "",
                   nodes[0].children[j].local_name);
        snprintf(what, sizeof what, "object graph: %s nodes, root children %s", fl[1], fl[2]);
        CHECK(s == WK_OK && cnt == (size_t)want && strcmp(names, fl[2]) == 0, what);
      }
    } else if (strcmp(k, "GRAPHKEYS") == 0) {
      const wk_ckpt_node *nodes = NULL;
      size_t cnt = 0, i, j, attrs = 0;
      int ok = f != NULL && wk_file_object_graph(f, &nodes, &cnt, &e) == WK_OK && cnt > 0;
      for (i = 0; ok && i < cnt; i++)
        for (j = 0; j < nodes[i].attribute_count; j++, attrs++)
          if (find_info(f, nodes[i].attributes[j].checkpoint_key) == NULL) {
            printf("# missing key %s\n", nodes[i].attributes[j].checkpoint_key);
            ok = 0;
          }
      CHECK(ok && attrs > 0, "every object graph attribute's checkpoint_key is a listed tensor");
    } else if (strcmp(k, "FLIP") == 0 && n >= 3) {
      flip_test(fl[1], atoi(fl[2]), tmp);
    } else if (strcmp(k, "END") == 0) {
      ended = 1;
    }
  }
  wk_file_close(f);
  wk_file_close(g);
  CHECK(ended, "tfbundle_cases.py ran to the end");
  other_formats(fixtures);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmp);
  return wk_test_done();
}
