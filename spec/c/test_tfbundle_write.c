/*
** test_tfbundle_write.c — wk_write_tf_checkpoint and its pieces (TAP).
**
** Written checkpoints are checked by spec/c/tfbundle_write_check.py (/usr/bin/python3): the
** fixtures' independent reader (../shared/tools/expected_facts.py) plus a strict parse of the
** table, the entries and the data from the format's facts. This file writes EXPECT.json from
** what it saved. The table builder is also checked byte for byte against the real .index files
** of the fixtures: their entries, fed back in, must give the same file.
** Environment: WK_FIXTURES (default ../shared/fixtures/real), run from the repo root.
*/
#define _DEFAULT_SOURCE /* mkdtemp */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_test.h"
#include "wk_sstable_write.h"

static const char *fixtures(void) {
  const char *d = getenv("WK_FIXTURES");
  return d ? d : "../shared/fixtures/real";
}

static char tmpdir[256];

/* {====================================================================
** EXPECT.json and the checker
** ===================================================================== */

static void put_hex(FILE *fp, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  size_t i;
  fputc('"', fp);
  for (i = 0; i < n; i++) fprintf(fp, "%02x", p[i]);
  fputc('"', fp);
}

static void put_str(FILE *fp, const char *s) {
  fputc('"', fp);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

static void write_expect(const char *path, const wk_ckpt_entry *e, size_t n, const wk_ckpt_node *g, size_t gn) {
  FILE *fp = fopen(path, "w");
  size_t i, k;
  fprintf(fp, "{\"entries\": [");
  for (i = 0; i < n; i++) {
    fprintf(fp, "%s{\"key_hex\": ", i ? ",\n" : "");
    put_hex(fp, e[i].key, strlen(e[i].key));
    if (e[i].tensor) {
      unsigned char d[32];
      char hex[65];
      int r;
      wk_tensor_sha256(e[i].tensor, d);
      wk_sha256_hex(d, hex);
      fprintf(fp, ", \"dtype\": \"%s\", \"sha256\": \"%s\", \"shape\": [", wk_dtype_name(wk_tensor_dtype(e[i].tensor)),
              hex);
      for (r = 0; r < wk_tensor_rank(e[i].tensor); r++)
        fprintf(fp, "%s%lld", r ? ", " : "", (long long)wk_tensor_shape(e[i].tensor)[r]);
      fprintf(fp, "]}");
    } else {
      fprintf(fp, ", \"rank\": %d, \"strings_hex\": [", e[i].string_rank);
      for (k = 0; k < e[i].string_count; k++) {
        if (k) fputc(',', fp);
        put_hex(fp, e[i].strings[k], e[i].string_lengths[k]);
      }
      fprintf(fp, "]}");
    }
  }
  fprintf(fp, "],\n\"graph\": ");
  if (gn == 0) fprintf(fp, "null");
  else {
    fputc('[', fp);
    for (i = 0; i < gn; i++) {
      fprintf(fp, "%s{\"children\": [", i ? ",\n" : "");
      for (k = 0; k < g[i].child_count; k++) {
        fprintf(fp, "%s[%d, ", k ? ", " : "", (int)g[i].children[k].node_id);
        put_str(fp, g[i].children[k].local_name);
        fputc(']', fp);
      }
      fprintf(fp, "], \"attributes\": [");
      for (k = 0; k < g[i].attribute_count; k++) {
        const wk_ckpt_attribute *a = &g[i].attributes[k];
        fprintf(fp, "%s[", k ? ", " : "");
        put_str(fp, a->name);
        fputc(',', fp);
        put_str(fp, a->full_name);
        fputc(',', fp);
        put_str(fp, a->checkpoint_key);
        fprintf(fp, ", %s]", a->optional_restore ? "true" : "false");
      }
      fprintf(fp, "], \"slots\": [");
      for (k = 0; k < g[i].slot_count; k++) {
        const wk_ckpt_slot *sl = &g[i].slots[k];
        fprintf(fp, "%s[%d, ", k ? ", " : "", (int)sl->original_variable_node_id);
        put_str(fp, sl->slot_name);
        fprintf(fp, ", %d]", (int)sl->slot_variable_node_id);
      }
      fprintf(fp, "]}");
    }
    fputc(']', fp);
  }
  fprintf(fp, "}\n");
  fclose(fp);
}

/* Runs the checker; returns its exit status; *blocks receives the data block count it saw. */
static int run_checker(const char *prefix, const char *expect, const char *reference, int *blocks) {
  char cmd[4096], line[1024];
  FILE *p;
  int st;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 spec/c/tfbundle_write_check.py '%s' '%s' %s%s%s 2>&1", prefix, expect,
           reference ? "'" : "", reference ? reference : "", reference ? "'" : "");
  p = popen(cmd, "r");
  if (p == NULL) return -1;
  while (fgets(line, sizeof line, p)) {
    int e, b;
    if (blocks && sscanf(line, "# %d entries in %d data blocks", &e, &b) == 2) *blocks = b;
    printf("%s%s", line[0] == '#' ? "" : "# ", line);
  }
  st = pclose(p);
  return st;
}

/* Saves, writes EXPECT.json, runs the checker. */
static int save_and_check(const char *name, const wk_ckpt_entry *e, size_t n, const wk_ckpt_node *g, size_t gn,
                          const char *reference, int *blocks) {
  char prefix[512], expect[512];
  wk_error err;
  snprintf(prefix, sizeof prefix, "%s/%s", tmpdir, name);
  snprintf(expect, sizeof expect, "%s/%s.expect.json", tmpdir, name);
  if (wk_write_tf_checkpoint(prefix, e, n, g, gn, 1, &err) != WK_OK) {
    printf("# %s\n", err.message);
    return -1;
  }
  write_expect(expect, e, n, g, gn);
  return run_checker(prefix, expect, reference, blocks);
}

/* }==================================================================== */

/* {====================================================================
** Read back with the core's own reader (wk_tfbundle.c)
** ===================================================================== */

static int streq(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static int same_graph(const wk_ckpt_node *a, size_t an, const wk_ckpt_node *b, size_t bn) {
  size_t i, k;
  if (an != bn) return 0;
  for (i = 0; i < an; i++) {
    if (a[i].child_count != b[i].child_count || a[i].attribute_count != b[i].attribute_count ||
        a[i].slot_count != b[i].slot_count)
      return 0;
    for (k = 0; k < a[i].child_count; k++)
      if (a[i].children[k].node_id != b[i].children[k].node_id ||
          !streq(a[i].children[k].local_name, b[i].children[k].local_name))
        return 0;
    for (k = 0; k < a[i].attribute_count; k++) {
      const wk_ckpt_attribute *x = &a[i].attributes[k], *y = &b[i].attributes[k];
      if (!streq(x->name, y->name) || !streq(x->full_name, y->full_name) ||
          !streq(x->checkpoint_key, y->checkpoint_key) || !x->optional_restore != !y->optional_restore)
        return 0;
    }
    for (k = 0; k < a[i].slot_count; k++) {
      const wk_ckpt_slot *x = &a[i].slots[k], *y = &b[i].slots[k];
      if (x->original_variable_node_id != y->original_variable_node_id || !streq(x->slot_name, y->slot_name) ||
          x->slot_variable_node_id != y->slot_variable_node_id)
        return 0;
    }
  }
  return 1;
}

/* Opens the checkpoint at `name` and compares every entry and the graph with what was saved;
** returns the number of differences (-1 when it does not open). */
static int read_back(const char *name, const wk_ckpt_entry *e, size_t n, const wk_ckpt_node *g, size_t gn) {
  char prefix[512];
  wk_file *f = NULL;
  const wk_tensor_info *infos;
  const wk_ckpt_node *nodes;
  size_t count, i, j, ncount;
  wk_error err;
  int bad = 0;
  snprintf(prefix, sizeof prefix, "%s/%s", tmpdir, name);
  if (wk_file_open(prefix, NULL, &f, &err) != WK_OK || wk_file_tensors(f, &infos, &count, &err) != WK_OK) {
    printf("# %s\n", err.message);
    wk_file_close(f);
    return -1;
  }
  if (strcmp(wk_file_format(f), "tf-checkpoint") != 0) bad++;
  if (count != n + (gn > 0)) {
    printf("# %zu tensors listed, %zu saved\n", count, n + (gn > 0));
    bad++;
  }
  for (i = 0; i < n; i++) {
    const wk_tensor_info *info = NULL;
    for (j = 0; j < count && info == NULL; j++)
      if (strcmp(infos[j].path, e[i].key) == 0) info = &infos[j];
    if (info == NULL) {
      printf("# %s: not listed\n", e[i].key);
      bad++;
    } else if (e[i].tensor) {
      wk_tensor *t = NULL;
      const wk_tensor *w = e[i].tensor;
      if (info->dtype != wk_tensor_dtype(w) || info->rank != wk_tensor_rank(w) ||
          memcmp(info->shape, wk_tensor_shape(w), (size_t)info->rank * sizeof(int64_t)) != 0 ||
          wk_file_read(f, info, &t, &err) != WK_OK || wk_tensor_nbytes(t) != wk_tensor_nbytes(w) ||
          (wk_tensor_nbytes(w) && memcmp(wk_tensor_data(t), wk_tensor_data(w), wk_tensor_nbytes(w)) != 0)) {
        printf("# %s: read back differently\n", e[i].key);
        bad++;
      }
      wk_tensor_release(t);
    } else {
      const char *const *items;
      const size_t *lens;
      size_t m;
      if (wk_file_read_strings(f, info, &items, &lens, &m, &err) != WK_OK || m != e[i].string_count ||
          info->rank != e[i].string_rank) {
        printf("# %s: strings read back differently\n", e[i].key);
        bad++;
      } else {
        for (j = 0; j < m; j++)
          if (lens[j] != e[i].string_lengths[j] || memcmp(items[j], e[i].strings[j], lens[j]) != 0) {
            printf("# %s: string %zu differs\n", e[i].key, j);
            bad++;
          }
      }
    }
  }
  if (wk_file_object_graph(f, &nodes, &ncount, &err) != WK_OK || !same_graph(nodes, ncount, g, gn)) {
    printf("# the object graph reads back differently\n");
    bad++;
  }
  wk_file_close(f);
  return bad;
}

/* }==================================================================== */

static wk_tensor *ramp(wk_dtype dtype, int rank, const int64_t *shape) {
  wk_tensor *t = NULL;
  wk_error err;
  int64_t i;
  if (wk_tensor_new(dtype, rank, shape, &t, &err) != WK_OK) return NULL;
  for (i = 0; i < wk_tensor_numel(t); i++) {
    double v = dtype == WK_BOOL ? (double)(i % 3 == 0) : wk_dtype_is_float(dtype) ? (double)i * 0.25 - 3 : (double)(i % 100);
    wk_tensor_set_f64(t, i, v, &err);
  }
  return t;
}

/* Every dtype, scalars, empty tensors, string scalars and vectors, a graph; keys out of order. */
static void test_small(void) {
  static const char *const names[WK_DTYPE_COUNT] = {"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                                     "int64", "uint64", "float16", "bfloat16", "float32", "float64"};
  wk_tensor *ts[WK_DTYPE_COUNT + 3];
  wk_ckpt_entry e[WK_DTYPE_COUNT + 6];
  char keys[WK_DTYPE_COUNT][64];
  static const int64_t shape[3] = {2, 3, 5}, empty[2] = {2, 0}, one = 1;
  static const char *const s1[1] = {"{\"class_name\": \"Dense\"}"};
  static const char *const s3[3] = {"a", "", "nul\0byte"};
  static const size_t l1[1] = {24}, l3[3] = {1, 0, 8};
  wk_ckpt_child root_children[2] = {{1, "layer_with_weights-0"}, {1, "layer-0"}};
  wk_ckpt_child dense_children[2] = {{2, "kernel"}, {3, "bias"}};
  wk_ckpt_attribute dense_attr[1] = {{"OBJECT_CONFIG_JSON", "", "layer_with_weights-0/.ATTRIBUTES/OBJECT_CONFIG_JSON", 1}};
  wk_ckpt_attribute kernel_attr[1] = {{"VARIABLE_VALUE", "dense/kernel", "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", 0}};
  wk_ckpt_attribute bias_attr[1] = {{"VARIABLE_VALUE", "dense/bias", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE", 0}};
  wk_ckpt_slot slots[1] = {{2, "m", 4}};
  wk_ckpt_node graph[5];
  size_t i, n = 0;
  int d;
  memset(graph, 0, sizeof graph);
  graph[0].children = root_children, graph[0].child_count = 2, graph[0].slots = slots, graph[0].slot_count = 1;
  graph[1].children = dense_children, graph[1].child_count = 2, graph[1].attributes = dense_attr,
  graph[1].attribute_count = 1;
  graph[2].attributes = kernel_attr, graph[2].attribute_count = 1;
  graph[3].attributes = bias_attr, graph[3].attribute_count = 1;
  memset(e, 0, sizeof e);
  for (d = WK_DTYPE_COUNT - 1; d >= 0; d--) { /* reverse key order on purpose */
    ts[d] = ramp((wk_dtype)d, 3, shape);
    snprintf(keys[d], sizeof keys[d], "t/%s/.ATTRIBUTES/VARIABLE_VALUE", names[d]);
    e[n].key = keys[d];
    e[n++].tensor = ts[d];
  }
  ts[WK_DTYPE_COUNT] = ramp(WK_INT64, 0, NULL);
  e[n].key = "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", e[n++].tensor = ts[WK_DTYPE_COUNT];
  ts[WK_DTYPE_COUNT + 1] = ramp(WK_FLOAT32, 2, empty);
  e[n].key = "empty/2x0", e[n++].tensor = ts[WK_DTYPE_COUNT + 1];
  ts[WK_DTYPE_COUNT + 2] = ramp(WK_FLOAT32, 1, &one);
  e[n].key = "\xff\xfe high bytes", e[n++].tensor = ts[WK_DTYPE_COUNT + 2];
  e[n].key = "layer_with_weights-0/.ATTRIBUTES/OBJECT_CONFIG_JSON";
  e[n].strings = s1, e[n].string_lengths = l1, e[n].string_count = 1, e[n++].string_rank = 0;
  e[n].key = "strings/vector";
  e[n].strings = s3, e[n].string_lengths = l3, e[n].string_count = 3, e[n++].string_rank = 1;
  e[n].key = "strings/empty_vector";
  e[n].string_count = 0, e[n++].string_rank = 1;
  CHECK(save_and_check("small", e, n, graph, 5, NULL, NULL) == 0, "every dtype, scalars, empties, strings, graph");
  CHECK(read_back("small", e, n, graph, 5) == 0, "... read back by wk_file_open: values, strings, graph");
  CHECK(save_and_check("nograph", e, n, NULL, 0, NULL, NULL) == 0, "the same without an object graph");
  CHECK(read_back("nograph", e, n, NULL, 0) == 0, "... read back: no object graph");
  CHECK(save_and_check("only_header", NULL, 0, NULL, 0, NULL, NULL) == 0, "no entries at all: the header alone");
  for (i = 0; i < WK_DTYPE_COUNT + 3; i++) wk_tensor_release(ts[i]);
  { /* bool bytes other than 0/1 are written as 1, as TF's bool */
    static const unsigned char raw[3] = {0, 2, 1};
    static const int64_t three = 3;
    wk_tensor *b = NULL;
    wk_ckpt_entry be;
    wk_error err;
    char prefix[512], data[600];
    size_t size = 0;
    unsigned char *got;
    memset(&be, 0, sizeof be);
    wk_tensor_from_bytes(WK_BOOL, 1, &three, raw, 3, &b, &err);
    be.key = "b", be.tensor = b;
    snprintf(prefix, sizeof prefix, "%s/boolfix", tmpdir);
    snprintf(data, sizeof data, "%s.data-00000-of-00001", prefix);
    CHECK(wk_write_tf_checkpoint(prefix, &be, 1, NULL, 0, 1, &err) == WK_OK, "a bool tensor holding a 2 is written");
    got = (unsigned char *)slurp(data, &size);
    CHECK(got && size == 3 && got[0] == 0 && got[1] == 1 && got[2] == 1, "... as the bytes 0 1 1");
    free(got);
    wk_tensor_release(b);
  }
}

/* {====================================================================
** The table builder against the real files
** ===================================================================== */

static uint64_t get_varint(const unsigned char *p, size_t *pos) {
  uint64_t v = 0;
  int shift = 0;
  while (p[*pos] & 0x80) v |= (uint64_t)(p[(*pos)++] & 0x7f) << shift, shift += 7;
  return v | (uint64_t)p[(*pos)++] << shift;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Feeds every entry of the block at (off, size) of `file` to `t` (when not NULL), or, for the
** index block (t NULL), recurses into the data blocks it points to. */
static int replay_block(const unsigned char *file, uint64_t off, uint64_t size, wk__sstw *t, wk__sstw *into) {
  const unsigned char *b = file + off;
  size_t end = (size_t)size - 4 - 4 * get_u32(b + size - 4), pos = 0;
  unsigned char key[4096];
  size_t klen = 0;
  wk_error err;
  while (pos < end) {
    size_t shared = (size_t)get_varint(b, &pos), unshared = (size_t)get_varint(b, &pos);
    size_t vlen = (size_t)get_varint(b, &pos);
    if (shared + unshared > sizeof key) return -1;
    memcpy(key + shared, b + pos, unshared);
    klen = shared + unshared;
    pos += unshared;
    if (t == NULL) {
      size_t hp = 0;
      uint64_t boff = get_varint(b + pos, &hp), bsize = get_varint(b + pos, &hp);
      if (replay_block(file, boff, bsize, into, NULL) != 0) return -1;
    } else if (wk__sstw_add(t, key, klen, b + pos, vlen, "replay", &err) != WK_OK) {
      printf("# %s\n", err.message);
      return -1;
    }
    pos += vlen;
  }
  return 0;
}

/* Rebuilds the real .index file at `rel` (under the fixtures) from its own entries. */
static void check_rebuild(const char *rel) {
  char path[1024], what[1200];
  size_t size = 0, pos = 0;
  unsigned char *file;
  wk__sstw t;
  wk_error err;
  int same = 0;
  snprintf(path, sizeof path, "%s/%s", fixtures(), rel);
  file = (unsigned char *)slurp(path, &size);
  snprintf(what, sizeof what, "the table of %s rebuilt from its entries is byte-identical", rel);
  if (file == NULL || size < 48) {
    CHECK(0, what);
    free(file);
    return;
  }
  wk__sstw_init(&t);
  (void)get_varint(file + size - 48, &pos); /* metaindex handle */
  (void)get_varint(file + size - 48, &pos);
  {
    uint64_t ioff = get_varint(file + size - 48, &pos), isize = get_varint(file + size - 48, &pos);
    if (replay_block(file, ioff, isize, NULL, &t) == 0 && wk__sstw_finish(&t, "replay", &err) == WK_OK)
      same = t.out.size == size && memcmp(t.out.data, file, size) == 0;
  }
  if (!same) printf("# rebuilt %zu bytes, the file has %zu\n", t.out.size, size);
  CHECK(same, what);
  wk__sstw_free(&t);
  free(file);
}

static int sep_is(const char *key, const char *limit, const char *want) {
  unsigned char buf[64];
  size_t n = strlen(key);
  memcpy(buf, key, n);
  n = limit ? wk__sstw_separator(buf, n, (const unsigned char *)limit, strlen(limit)) : wk__sstw_successor(buf, n);
  return n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void test_table(void) {
  wk__sstw t;
  wk_error err;
  check_rebuild("tfckpt_ttt_subclassed/my_checkpoint.index");
  check_rebuild("tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt.index");
  check_rebuild("savedmodel_tcp_actor/variables/variables.index");
  CHECK(sep_is("abc", "abe", "abd"), "separator: the first differing byte incremented");
  CHECK(sep_is("abc", "abd", "abc"), "separator: kept when the increment reaches the limit's byte");
  CHECK(sep_is("ab", "abc", "ab"), "separator: kept when the key is a prefix of the limit");
  CHECK(sep_is("a\xff", "b", "a\xff"), "separator: kept when a + 1 is not below b");
  CHECK(sep_is("layer_with_weights-0/bias/x", "layer_with_weights-9/kernel", "layer_with_weights-1"),
        "separator: common prefix + 1 byte");
  CHECK(sep_is("a\xffzz", "c", "b"), "separator: increments at the first difference only");
  CHECK(sep_is("optimizer/rho/.ATTRIBUTES/VARIABLE_VALUE", NULL, "p"), "successor: optimizer/rho/... -> p");
  CHECK(sep_is("\xff\xff" "a", NULL, "\xff\xff" "b"), "successor: skips 0xff bytes");
  CHECK(sep_is("\xff\xff", NULL, "\xff\xff"), "successor: all 0xff kept");
  wk__sstw_init(&t);
  CHECK(wk__sstw_add(&t, "b", 1, "", 0, "t", &err) == WK_OK, "table: first key");
  CHECK(wk__sstw_add(&t, "b", 1, "", 0, "t", &err) == WK_EINVAL, "table: a repeated key is refused");
  CHECK(wk__sstw_add(&t, "a", 1, "", 0, "t", &err) == WK_EINVAL, "table: a smaller key is refused");
  wk__sstw_free(&t);
}

/* }==================================================================== */

/* The object graph of the real tfckpt_ttt_subclassed checkpoint, given as nodes: the written
** graph string must be TF's, byte for byte. */
static void test_real_graph(void) {
  static const wk_ckpt_child c0[3] = {{1, "common"}, {2, "actor"}, {3, "critic"}};
  static const wk_ckpt_child c1[2] = {{4, "kernel"}, {5, "bias"}}, c2[2] = {{6, "kernel"}, {7, "bias"}},
                             c3[2] = {{8, "kernel"}, {9, "bias"}};
  static const wk_ckpt_attribute a[6] = {
      {"VARIABLE_VALUE", "actor_critic/dense/kernel", "common/kernel/.ATTRIBUTES/VARIABLE_VALUE", 0},
      {"VARIABLE_VALUE", "actor_critic/dense/bias", "common/bias/.ATTRIBUTES/VARIABLE_VALUE", 0},
      {"VARIABLE_VALUE", "actor_critic/dense_1/kernel", "actor/kernel/.ATTRIBUTES/VARIABLE_VALUE", 0},
      {"VARIABLE_VALUE", "actor_critic/dense_1/bias", "actor/bias/.ATTRIBUTES/VARIABLE_VALUE", 0},
      {"VARIABLE_VALUE", "actor_critic/dense_2/kernel", "critic/kernel/.ATTRIBUTES/VARIABLE_VALUE", 0},
      {"VARIABLE_VALUE", "actor_critic/dense_2/bias", "critic/bias/.ATTRIBUTES/VARIABLE_VALUE", 0}};
  wk_ckpt_node g[10];
  char ref[1100];
  int i;
  memset(g, 0, sizeof g);
  g[0].children = c0, g[0].child_count = 3;
  g[1].children = c1, g[1].child_count = 2;
  g[2].children = c2, g[2].child_count = 2;
  g[3].children = c3, g[3].child_count = 2;
  for (i = 0; i < 6; i++) g[4 + i].attributes = &a[i], g[4 + i].attribute_count = 1;
  snprintf(ref, sizeof ref, "%s/tfckpt_ttt_subclassed/my_checkpoint.index", fixtures());
  CHECK(save_and_check("ttt_graph", NULL, 0, g, 10, ref, NULL) == 0,
        "the real ttt object graph written from its nodes: TF's bytes but has_checkpoint_values (older TF)");
  /* A recent TF's graph (has_checkpoint_values on every node), through the core's reader. */
  {
    char src[1024];
    wk_file *f = NULL;
    const wk_ckpt_node *nodes = NULL;
    size_t n = 0;
    wk_error err;
    snprintf(src, sizeof src, "%s/savedmodel_tcp_actor/variables/variables", fixtures());
    snprintf(ref, sizeof ref, "%s.index", src);
    CHECK(wk_file_open(src, NULL, &f, &err) == WK_OK && wk_file_object_graph(f, &nodes, &n, &err) == WK_OK && n > 0,
          "the savedmodel fixture's object graph reads");
    CHECK(n > 0 && save_and_check("sm_graph", NULL, 0, nodes, n, ref, NULL) == 0,
          "... and is written back as TF's bytes exactly, has_checkpoint_values included");
    wk_file_close(f);
  }
}

/* 20,000 keys: several 256 KiB data blocks, separators between them. */
static void test_big(void) {
  enum { N = 20000 };
  wk_ckpt_entry *e = (wk_ckpt_entry *)calloc(N, sizeof *e);
  char(*keys)[80] = (char(*)[80])malloc(N * sizeof *keys);
  wk_tensor *t = ramp(WK_FLOAT32, 1, (const int64_t[]){3});
  int blocks = 0, i;
  for (i = 0; i < N; i++) {
    /* Keras-like keys, bytewise order differing from numeric order */
    snprintf(keys[i], sizeof keys[i], "layer_with_weights-%d/%s/.ATTRIBUTES/VARIABLE_VALUE", i / 2,
             i % 2 ? "kernel" : "bias");
    e[i].key = keys[i];
    e[i].tensor = t;
  }
  CHECK(save_and_check("big", e, N, NULL, 0, NULL, &blocks) == 0, "20,000 keys: table, separators, data");
  printf("# %d data blocks\n", blocks);
  CHECK(blocks >= 4, "20,000 keys span several data blocks");
  wk_tensor_release(t);
  free(keys);
  free(e);
}

/* The names of the directory's entries that end in ".wktmp" (temporaries left behind). */
static int temporaries_left(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *de;
  int n = 0;
  if (d == NULL) return -1;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len > 6 && strcmp(de->d_name + len - 6, ".wktmp") == 0) n++;
  }
  closedir(d);
  return n;
}

static int same_file(const char *path, const void *want, size_t want_size) {
  size_t size = 0;
  void *got = slurp(path, &size);
  int same = got != NULL && size == want_size && memcmp(got, want, size) == 0;
  free(got);
  return same;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void test_errors(void) {
  wk_tensor *t = ramp(WK_FLOAT32, 1, (const int64_t[]){4});
  wk_ckpt_entry e[2];
  wk_ckpt_node node;
  wk_ckpt_child bad_child = {3, "x"};
  wk_error err;
  char prefix[512], index[600], data[600];
  static const char *const two[2] = {"a", "b"};
  static const size_t two_len[2] = {1, 1};
  snprintf(prefix, sizeof prefix, "%s/err", tmpdir);
  snprintf(index, sizeof index, "%s.index", prefix);
  snprintf(data, sizeof data, "%s.data-00000-of-00001", prefix);
  memset(e, 0, sizeof e);
  e[0].key = "k", e[0].tensor = t;
  e[1].key = "k", e[1].tensor = t;
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, NULL, 0, 1, &err) == WK_EINVAL && strstr(err.message, "\"k\""),
        "a duplicate key is WK_EINVAL naming it");
  CHECK(!exists(index) && !exists(data), "... and nothing is written");
  e[1].key = "";
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, NULL, 0, 1, &err) == WK_EINVAL, "an empty key is WK_EINVAL");
  e[1].key = "_CHECKPOINTABLE_OBJECT_GRAPH";
  memset(&node, 0, sizeof node);
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, &node, 1, 1, &err) == WK_EINVAL,
        "an entry named _CHECKPOINTABLE_OBJECT_GRAPH with a graph is WK_EINVAL");
  node.children = &bad_child, node.child_count = 1;
  CHECK(wk_write_tf_checkpoint(prefix, e, 1, &node, 1, 1, &err) == WK_EINVAL && strstr(err.message, "child 3"),
        "a child node id out of range is WK_EINVAL");
  e[1].key = "s", e[1].tensor = NULL, e[1].strings = two, e[1].string_lengths = two_len, e[1].string_count = 2;
  e[1].string_rank = 0;
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, NULL, 0, 1, &err) == WK_EINVAL, "a string scalar with two strings is WK_EINVAL");
  e[1].string_rank = 2;
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, NULL, 0, 1, &err) == WK_EINVAL, "string_rank 2 is WK_EINVAL");
  e[1].string_rank = 1;
  e[1].tensor = t;
  CHECK(wk_write_tf_checkpoint(prefix, e, 2, NULL, 0, 1, &err) == WK_EINVAL, "a tensor and strings is WK_EINVAL");
  CHECK(wk_write_tf_checkpoint("", e, 1, NULL, 0, 1, &err) == WK_EINVAL, "an empty prefix is WK_EINVAL");
  CHECK(!exists(index) && !exists(data) && temporaries_left() == 0, "no file and no temporary after refusals");

  /* overwrite */
  CHECK(wk_write_tf_checkpoint(prefix, e, 1, NULL, 0, 0, &err) == WK_OK, "a first save with overwrite = 0");
  {
    size_t isize = 0, dsize = 0;
    void *old_index = slurp(index, &isize), *old_data = slurp(data, &dsize);
    wk_tensor *big = ramp(WK_FLOAT32, 1, (const int64_t[]){1 << 20}); /* 4 MiB */
    wk_ckpt_entry be;
    struct rlimit old_lim, lim;
    memset(&be, 0, sizeof be);
    be.key = "big", be.tensor = big;
    CHECK(wk_write_tf_checkpoint(prefix, &be, 1, NULL, 0, 0, &err) == WK_EIO && strstr(err.message, "already exists"),
          "overwrite = 0 and an existing index: WK_EIO \"already exists\"");
    CHECK(same_file(index, old_index, isize) && same_file(data, old_data, dsize), "... the previous files untouched");
    /* A write that fails half-way (file size limit): the previous checkpoint stays. */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 1 << 20;
    setrlimit(RLIMIT_FSIZE, &lim);
    CHECK(wk_write_tf_checkpoint(prefix, &be, 1, NULL, 0, 1, &err) == WK_EIO, "a failing data write is WK_EIO");
    printf("# %s\n", err.message);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    CHECK(same_file(index, old_index, isize) && same_file(data, old_data, dsize),
          "... the previous files are byte-identical");
    CHECK(temporaries_left() == 0, "... and no temporary is left");
    /* The data path is a directory: the index's temporary is removed again. */
    {
      char other[600], odata[700];
      snprintf(other, sizeof other, "%s/dirdata", tmpdir);
      snprintf(odata, sizeof odata, "%s.data-00000-of-00001", other);
      mkdir(odata, 0700);
      CHECK(wk_write_tf_checkpoint(other, e, 1, NULL, 0, 1, &err) == WK_EIO, "a data path that is a directory: WK_EIO");
      CHECK(temporaries_left() == 0, "... no temporary left");
      rmdir(odata);
    }
    CHECK(wk_write_tf_checkpoint(prefix, &be, 1, NULL, 0, 1, &err) == WK_OK, "overwrite = 1 replaces the checkpoint");
    {
      size_t n = 0;
      void *nd = slurp(data, &n);
      CHECK(n == (size_t)4 << 20 && nd && memcmp(nd, wk_tensor_data(big), n) == 0, "... with the new data");
      free(nd);
    }
    CHECK(temporaries_left() == 0, "... and no temporary is left");
    wk_tensor_release(big);
    free(old_index);
    free(old_data);
  }
  wk_tensor_release(t);
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/wk_tfw_XXXXXX", base ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    printf("Bail out! cannot make a temporary directory\n");
    return 1;
  }
  test_table();
  test_small();
  test_real_graph();
  test_big();
  test_errors();
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
  }
  return wk_test_done();
}
