/*
** wk_safetensors.c — the safetensors reader (format "safetensors", weightkit.h "Files"; the
** layout is in wk_safetensors.h): the wk__file_ops behind a wk_file.
**
** OPEN. The 8-byte length N is checked first (N above opts.max_attribute_bytes: WK_ELIMIT; past
** the end of the file: WK_EFORMAT), then the header is read by the bounded pull reader of
** wk_json.c, keeping only the names, dtypes, shapes, offsets and metadata. The checks are the
** reference reader's: the header starts with '{' and is one JSON object (trailing whitespace
** allowed: the padding); every tensor has "dtype" (a known code), "shape" (integers >= 0) and
** "data_offsets" (two integers, begin <= end) — other keys are skipped; end - begin = numel *
** dtype bits / 8 (whole bytes); sorted by offsets, each tensor begins where the previous one
** ended, the first at 0, and the last ends at the end of the file. Also refused here: duplicate
** names (the reference's JSON reader keeps the last one silently), duplicate metadata keys, NUL
** characters in names and metadata (C strings could not hold them), ranks above WK_MAX_RANK
** (WK_ELIMIT) and more than opts.max_tensors tensors (WK_ELIMIT). Codes the reference knows
** but weightkit has no dtype for (F8_*, F4, F6_*, C64) are listed with dtype WK_DTYPE_COUNT
** and their ml_dtypes / NumPy name; reading them is WK_EDTYPE. A lazy handle is eager here:
** the header is all the metadata there is.
**
** READS. Numeric tensors whose bytes are aligned for their dtype come back zero-copy from the
** mapping (or the memory image held by f->region); the rest is copied (bool normalized to 0/1,
** byte-swapped on a big-endian host). With no_mmap nothing is mapped: the header and each
** tensor are pread from the path.
**
** OWNERSHIP. The reader's state, entries, infos, names and metadata live in the handle's arena;
** f->region (the mapping or the caller's image) is the handle's.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_internal.h"
#include "wk_json.h"
#include "wk_safetensors.h"

#define METADATA_KEY "__metadata__"
#define HEADER_DEPTH 32 /* nesting allowed in the header (skipped values included) */

/* {====================================================================
** Dtypes
** ===================================================================== */

typedef struct st_type {
  const char *code;  /* as in the header */
  wk_dtype dtype;    /* WK_DTYPE_COUNT: listed, not readable */
  unsigned bits;     /* per element */
  const char *name;  /* wk_tensor_info.dtype_name */
} st_type;

/* In the order of the reference's Dtype enum (the writer's sort key). */
static const st_type types[] = {
  {"BOOL", WK_BOOL, 8, "bool"},
  {"F4", WK_DTYPE_COUNT, 4, "float4_e2m1fn"},
  {"F6_E2M3", WK_DTYPE_COUNT, 6, "float6_e2m3fn"},
  {"F6_E3M2", WK_DTYPE_COUNT, 6, "float6_e3m2fn"},
  {"U8", WK_UINT8, 8, "uint8"},
  {"I8", WK_INT8, 8, "int8"},
  {"F8_E5M2", WK_DTYPE_COUNT, 8, "float8_e5m2"},
  {"F8_E4M3", WK_DTYPE_COUNT, 8, "float8_e4m3fn"},
  {"F8_E8M0", WK_DTYPE_COUNT, 8, "float8_e8m0fnu"},
  {"I16", WK_INT16, 16, "int16"},
  {"U16", WK_UINT16, 16, "uint16"},
  {"F16", WK_FLOAT16, 16, "float16"},
  {"BF16", WK_BFLOAT16, 16, "bfloat16"},
  {"I32", WK_INT32, 32, "int32"},
  {"U32", WK_UINT32, 32, "uint32"},
  {"F32", WK_FLOAT32, 32, "float32"},
  {"C64", WK_DTYPE_COUNT, 64, "complex64"},
  {"F64", WK_FLOAT64, 64, "float64"},
  {"I64", WK_INT64, 64, "int64"},
  {"U64", WK_UINT64, 64, "uint64"},
};
#define NTYPES (sizeof types / sizeof types[0])

static const st_type *type_of_code(const wk__json_str *code) {
  size_t i;
  for (i = 0; i < NTYPES; i++)
    if (strlen(types[i].code) == code->len && memcmp(types[i].code, code->s, code->len) == 0) return &types[i];
  return NULL;
}

const char *wk__safetensors_dtype_code(wk_dtype dtype) {
  size_t i;
  for (i = 0; i < NTYPES; i++)
    if (types[i].dtype == dtype) return types[i].code;
  return NULL;
}

int wk__safetensors_dtype_rank(wk_dtype dtype) {
  size_t i;
  for (i = 0; i < NTYPES; i++)
    if (types[i].dtype == dtype) return (int)i;
  return -1;
}

/* }==================================================================== */

typedef struct st_entry {
  const char *name;   /* arena, no NUL inside */
  const st_type *type;
  int rank;
  int64_t shape[WK_MAX_RANK];
  int64_t numel;
  uint64_t begin, end; /* relative to the data */
} st_entry;

typedef struct st_meta {
  wk__json_str key, value;
} st_meta;

typedef struct st_file {
  const unsigned char *image; /* the whole file (mapping or memory image); NULL with no_mmap */
  const char *path;           /* no_mmap: where reads pread from */
  uint64_t data_start;        /* 8 + N */
  uint64_t file_size;
  st_entry *entries;          /* header order */
  size_t count;
  wk_tensor_info *layer_infos;
  size_t *layer_entry;        /* layer_infos[k] is entries[layer_entry[k]] */
  st_meta *meta;              /* sorted by key */
  size_t meta_count;
} st_file;

#define ST(f) ((st_file *)(f)->impl)

static wk_status oom(const wk_file *f, wk_error *err) {
  return wk__error_set(err, WK_ENOMEM, "%s: out of memory", f->name);
}

static int host_big_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 0;
}

int wk__safetensors_sniff(const unsigned char *head, size_t head_len, uint64_t file_size) {
  uint64_t n = 0;
  int i;
  if (head_len < 9 || file_size < 10) return 0;
  for (i = 7; i >= 0; i--) n = n << 8 | head[i];
  return n >= 2 && n <= file_size - 8 && head[8] == '{';
}

/* {====================================================================
** Header
** ===================================================================== */

/* A JSON error of the header, placed in the file (byte 8 + position). */
static wk_status json_error(const wk_file *f, const wk__json *j, wk_error *err) {
  return wk__error_set(err, strcmp(j->error, "out of memory") == 0 ? WK_ENOMEM : WK_EFORMAT,
                       "%s: invalid safetensors header: %s at byte %zu", f->name, j->error, j->error_pos + 8);
}

static wk_status tensor_error(const wk_file *f, wk_status code, const char *name, const char *what,
                              wk_error *err) {
  return wk__error_set(err, code, "%s: tensor \"%s\": %s", f->name, name, what);
}

/* "shape" or "data_offsets": an array of integers >= 0 into v (at most `max` of them). */
static wk_status int_list(const wk_file *f, wk__json *j, const char *name, const char *key, int64_t *v, int max,
                          int *count, wk_error *err) {
  int n = 0;
  if (wk__json_peek(j) != WK__JSON_ARRAY) {
    if (j->error != NULL) return json_error(f, j, err);
    return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": \"%s\" is not an array", f->name, name, key);
  }
  if (!wk__json_array(j)) return json_error(f, j, err);
  while (wk__json_next(j, NULL, NULL)) {
    int64_t x;
    if (wk__json_peek(j) != WK__JSON_NUMBER) {
      return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": \"%s\" holds a value that is not an integer",
                           f->name, name, key);
    }
    if (!wk__json_integer(j, &x))
      return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": \"%s\": %s", f->name, name, key, j->error);
    if (x < 0)
      return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": \"%s\" holds a negative value (%lld)", f->name, name,
                           key, (long long)x);
    if (n == max) {
      if (max == WK_MAX_RANK)
        return wk__error_set(err, WK_ELIMIT, "%s: tensor \"%s\": rank above %d", f->name, name, WK_MAX_RANK);
      return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": \"%s\" holds more than %d values", f->name, name, key,
                           max);
    }
    v[n++] = x;
  }
  if (j->error != NULL) return json_error(f, j, err);
  *count = n;
  return WK_OK;
}

static int key_is(const wk__json_str *key, const char *word) {
  return key->len == strlen(word) && memcmp(key->s, word, key->len) == 0;
}

/* One tensor's object: dtype, shape, data_offsets (other keys skipped), sizes checked. */
static wk_status parse_tensor(const wk_file *f, wk__json *j, wk__arena *scratch, st_entry *e, wk_error *err) {
  int have_dtype = 0, have_shape = 0, have_offsets = 0, n, d;
  int64_t offs[2];
  uint64_t bits;
  wk__json_str key;
  wk_status s;
  if (wk__json_peek(j) != WK__JSON_OBJECT) {
    if (j->error != NULL) return json_error(f, j, err);
    return tensor_error(f, WK_EFORMAT, e->name, "not a JSON object", err);
  }
  if (!wk__json_object(j)) return json_error(f, j, err);
  while (wk__json_next(j, scratch, &key)) {
    int *seen = key_is(&key, "dtype") ? &have_dtype
              : key_is(&key, "shape") ? &have_shape
              : key_is(&key, "data_offsets") ? &have_offsets : NULL;
    if (seen != NULL && *seen)
      return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": duplicate key \"%s\"", f->name, e->name, key.s);
    if (seen == &have_dtype) {
      wk__json_str code;
      if (wk__json_peek(j) != WK__JSON_STRING) {
        if (j->error != NULL) return json_error(f, j, err);
        return tensor_error(f, WK_EFORMAT, e->name, "\"dtype\" is not a string", err);
      }
      if (!wk__json_string(j, scratch, &code)) return json_error(f, j, err);
      if ((e->type = type_of_code(&code)) == NULL)
        return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": unknown dtype \"%s\"", f->name, e->name, code.s);
    } else if (seen == &have_shape) {
      if ((s = int_list(f, j, e->name, "shape", e->shape, WK_MAX_RANK, &e->rank, err)) != WK_OK) return s;
    } else if (seen == &have_offsets) {
      if ((s = int_list(f, j, e->name, "data_offsets", offs, 2, &n, err)) != WK_OK) return s;
      if (n != 2) return tensor_error(f, WK_EFORMAT, e->name, "\"data_offsets\" does not hold two values", err);
    } else if (!wk__json_skip(j)) {
      return json_error(f, j, err);
    }
    if (seen != NULL) *seen = 1;
  }
  if (j->error != NULL) return json_error(f, j, err);
  if (!have_dtype) return tensor_error(f, WK_EFORMAT, e->name, "no \"dtype\"", err);
  if (!have_shape) return tensor_error(f, WK_EFORMAT, e->name, "no \"shape\"", err);
  if (!have_offsets) return tensor_error(f, WK_EFORMAT, e->name, "no \"data_offsets\"", err);
  e->begin = (uint64_t)offs[0];
  e->end = (uint64_t)offs[1];
  e->numel = 1;
  for (d = 0; d < e->rank; d++)
    if (!wk__mul_i64(e->numel, e->shape[d], &e->numel))
      return tensor_error(f, WK_EFORMAT, e->name, "the element count overflows", err);
  if ((uint64_t)e->numel > UINT64_MAX / e->type->bits)
    return tensor_error(f, WK_EFORMAT, e->name, "the byte size overflows", err);
  bits = (uint64_t)e->numel * e->type->bits;
  if (bits % 8 != 0)
    return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": %lld elements of %s are not a whole number of bytes",
                         f->name, e->name, (long long)e->numel, e->type->code);
  if (e->end < e->begin)
    return wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] end before they begin",
                         f->name, e->name, (unsigned long long)e->begin, (unsigned long long)e->end);
  if (e->end - e->begin != bits / 8) {
    char sh[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_EFORMAT,
                         "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes where shape %s of %s needs %llu",
                         f->name, e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
                         (unsigned long long)(e->end - e->begin), wk__shape_str(sh, e->rank, e->shape), e->type->code,
                         (unsigned long long)(bits / 8));
  }
  return WK_OK;
}

/* "__metadata__": an object of strings (null: none), into *list (malloc'd). */
static wk_status parse_metadata(wk_file *f, wk__json *j, st_meta **list, size_t *count, wk_error *err) {
  size_t n = 0, cap = 0;
  wk__json_str key;
  if (wk__json_peek(j) == WK__JSON_NULL) return wk__json_skip(j) ? WK_OK : json_error(f, j, err);
  if (wk__json_peek(j) != WK__JSON_OBJECT) {
    if (j->error != NULL) return json_error(f, j, err);
    return wk__error_set(err, WK_EFORMAT, "%s: \"%s\" is not a JSON object", f->name, METADATA_KEY);
  }
  if (!wk__json_object(j)) return json_error(f, j, err);
  while (wk__json_next(j, &f->arena, &key)) {
    st_meta *m;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      st_meta *nl = (st_meta *)realloc(*list, nc * sizeof *nl);
      if (nl == NULL) return oom(f, err);
      *list = nl;
      cap = nc;
    }
    m = &(*list)[n];
    m->key = key;
    if (wk__json_peek(j) != WK__JSON_STRING) {
      if (j->error != NULL) return json_error(f, j, err);
      return wk__error_set(err, WK_EFORMAT, "%s: %s: the value of \"%s\" is not a string", f->name, METADATA_KEY,
                           key.s);
    }
    if (!wk__json_string(j, &f->arena, &m->value)) return json_error(f, j, err);
    if (strlen(key.s) != key.len || strlen(m->value.s) != m->value.len)
      return wk__error_set(err, WK_EFORMAT, "%s: %s: \"%s\" holds a NUL character", f->name, METADATA_KEY, key.s);
    *count = ++n;
  }
  return j->error != NULL ? json_error(f, j, err) : WK_OK;
}

static int meta_cmp(const void *a, const void *b) {
  return strcmp(((const st_meta *)a)->key.s, ((const st_meta *)b)->key.s);
}

/* Walks the root object into malloc'd entries and metadata, then moves them to the arena. */
static wk_status parse_header(wk_file *f, const unsigned char *hdr, size_t n, wk_error *err) {
  st_file *st = ST(f);
  wk__arena scratch = {NULL};
  wk__json j;
  wk__json_str name;
  st_entry *list = NULL;
  st_meta *meta = NULL;
  wk__json_str *names = NULL;
  size_t count = 0, cap = 0, meta_count = 0, dup, i;
  int have_meta = 0;
  wk_status s = WK_OK;
  if (n == 0 || hdr[0] != '{')
    return wk__error_set(err, WK_EFORMAT, "%s: the safetensors header does not start with '{'", f->name);
  wk__json_init(&j, hdr, n, HEADER_DEPTH);
  if (!wk__json_object(&j)) return json_error(f, &j, err);
  while (s == WK_OK && wk__json_next(&j, &f->arena, &name)) {
    if (strlen(name.s) != name.len) {
      s = wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": the name holds a NUL character", f->name, name.s);
    } else if (strcmp(name.s, METADATA_KEY) == 0) {
      if (have_meta) s = wk__error_set(err, WK_EFORMAT, "%s: duplicate \"%s\"", f->name, METADATA_KEY);
      else s = parse_metadata(f, &j, &meta, &meta_count, err);
      have_meta = 1;
    } else if (count == f->opts.max_tensors) {
      s = wk__error_set(err, WK_ELIMIT, "%s: more than %zu tensors", f->name, f->opts.max_tensors);
    } else {
      if (count == cap) {
        size_t nc = cap ? cap * 2 : 64;
        st_entry *nl = (st_entry *)realloc(list, nc * sizeof *nl);
        if (nl == NULL) {
          s = oom(f, err);
          break;
        }
        list = nl;
        cap = nc;
      }
      memset(&list[count], 0, sizeof *list);
      list[count].name = name.s;
      s = parse_tensor(f, &j, &scratch, &list[count], err);
      count++;
    }
  }
  if (s == WK_OK && !wk__json_finish(&j)) s = json_error(f, &j, err);
  wk__arena_free(&scratch);
  /* duplicates: names among themselves, then metadata keys */
  if (s == WK_OK && count > 1) {
    names = (wk__json_str *)malloc(count * sizeof *names);
    if (names == NULL) s = oom(f, err);
    for (i = 0; s == WK_OK && i < count; i++) {
      names[i].s = list[i].name;
      names[i].len = strlen(list[i].name);
    }
    if (s == WK_OK && (dup = wk__json_sort_unique(names, count)) != (size_t)-1)
      s = wk__error_set(err, WK_EFORMAT, "%s: duplicate tensor name \"%s\"", f->name, names[dup].s);
  }
  if (s == WK_OK && meta_count > 1) {
    qsort(meta, meta_count, sizeof *meta, meta_cmp);
    for (i = 1; s == WK_OK && i < meta_count; i++)
      if (strcmp(meta[i - 1].key.s, meta[i].key.s) == 0)
        s = wk__error_set(err, WK_EFORMAT, "%s: %s: duplicate key \"%s\"", f->name, METADATA_KEY, meta[i].key.s);
  }
  if (s == WK_OK) {
    st->entries = (st_entry *)wk__arena_calloc(&f->arena, count, sizeof *list);
    st->meta = (st_meta *)wk__arena_calloc(&f->arena, meta_count, sizeof *meta);
    if (st->entries == NULL || st->meta == NULL) s = oom(f, err);
  }
  if (s == WK_OK) {
    if (count) memcpy(st->entries, list, count * sizeof *list);
    if (meta_count) memcpy(st->meta, meta, meta_count * sizeof *meta);
    st->count = count;
    st->meta_count = meta_count;
    /* the format-independent listing (wk_file_metadata): pointers into the same arena strings */
    f->meta_keys = (const char **)wk__arena_calloc(&f->arena, meta_count, sizeof *f->meta_keys);
    f->meta_values = (const char **)wk__arena_calloc(&f->arena, meta_count, sizeof *f->meta_values);
    if (meta_count && (f->meta_keys == NULL || f->meta_values == NULL)) s = oom(f, err);
    for (i = 0; s == WK_OK && i < meta_count; i++) {
      f->meta_keys[i] = st->meta[i].key.s;
      f->meta_values[i] = st->meta[i].value.s;
    }
    if (s == WK_OK) f->meta_count = meta_count;
  }
  free(names);
  free(list);
  free(meta);
  return s;
}

static int by_offsets(const void *a, const void *b) {
  const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors tile [0, file size - data start) exactly. */
static wk_status check_layout(wk_file *f, wk_error *err) {
  st_file *st = ST(f);
  uint64_t at = 0, avail = st->file_size - st->data_start;
  const st_entry **order;
  size_t i;
  wk_status s = WK_OK;
  order = (const st_entry **)malloc((st->count ? st->count : 1) * sizeof *order);
  if (order == NULL) return oom(f, err);
  for (i = 0; i < st->count; i++) order[i] = &st->entries[i];
  qsort(order, st->count, sizeof *order, by_offsets);
  for (i = 0; i < st->count && s == WK_OK; i++) {
    const st_entry *e = order[i];
    if (e->begin > at)
      s = wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": a hole of %llu bytes before its data (offset %llu)",
                        f->name, e->name, (unsigned long long)(e->begin - at), (unsigned long long)e->begin);
    else if (e->begin < at)
      s = wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": its data (offset %llu) overlaps tensor \"%s\"", f->name,
                        e->name, (unsigned long long)e->begin, order[i - 1]->name);
    else if (e->end > avail)
      s = wk__error_set(err, WK_EFORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] past the end of the data (%llu bytes)",
                        f->name, e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
                        (unsigned long long)avail);
    at = e->end;
  }
  if (s == WK_OK && at != avail)
    s = wk__error_set(err, WK_EFORMAT, "%s: %llu bytes after the last tensor's data (truncated header or appended bytes)",
                      f->name, (unsigned long long)(avail - at));
  free(order);
  return s;
}

/* }==================================================================== */

/* {====================================================================
** Listing: tensors and layers
** ===================================================================== */

static void fill_info(const st_entry *e, wk_tensor_info *info) {
  memset(info, 0, sizeof *info);
  info->path = e->name;
  info->dtype = e->type->dtype;
  info->dtype_name = e->type->name;
  info->rank = e->rank;
  memcpy(info->shape, e->shape, sizeof e->shape);
  info->numel = e->numel;
  info->nbytes = e->type->dtype == WK_DTYPE_COUNT ? 0 : (size_t)(e->end - e->begin);
  info->layout = "contiguous";
}

typedef struct weight_ref {
  const char *layer, *name;
  size_t entry;
} weight_ref;

static int ref_cmp(const void *a, const void *b) {
  const weight_ref *x = (const weight_ref *)a, *y = (const weight_ref *)b;
  int c = strcmp(x->layer, y->layer);
  if (c != 0) return c;
  return x->entry < y->entry ? -1 : x->entry > y->entry;
}

typedef struct group {
  size_t first, count, first_entry;
} group;

static int group_cmp(const void *a, const void *b) {
  size_t x = ((const group *)a)->first_entry, y = ((const group *)b)->first_entry;
  return x < y ? -1 : x > y;
}

/* f->tensors in header order; layers grouped at each name's last '.' in order of first name. */
static wk_status build_lists(wk_file *f, wk_error *err) {
  st_file *st = ST(f);
  size_t n = st->count, i, k, ngroups = 0, at = 0;
  weight_ref *refs;
  group *groups;
  wk_status s = WK_OK;
  f->tensors = (wk_tensor_info *)wk__arena_calloc(&f->arena, n, sizeof *f->tensors);
  st->layer_infos = (wk_tensor_info *)wk__arena_calloc(&f->arena, n, sizeof *st->layer_infos);
  st->layer_entry = (size_t *)wk__arena_calloc(&f->arena, n, sizeof *st->layer_entry);
  refs = (weight_ref *)malloc((n ? n : 1) * sizeof *refs);
  groups = (group *)malloc((n ? n : 1) * sizeof *groups);
  if (f->tensors == NULL || st->layer_infos == NULL || st->layer_entry == NULL || refs == NULL || groups == NULL) {
    s = oom(f, err);
    goto done;
  }
  for (i = 0; i < n; i++) {
    const char *name = st->entries[i].name, *dot = strrchr(name, '.');
    fill_info(&st->entries[i], &f->tensors[i]);
    refs[i].entry = i;
    refs[i].layer = dot ? wk__arena_strndup(&f->arena, name, (size_t)(dot - name)) : name;
    refs[i].name = dot ? dot + 1 : name;
    if (refs[i].layer == NULL) {
      s = oom(f, err);
      goto done;
    }
  }
  f->tensor_count = n;
  qsort(refs, n, sizeof *refs, ref_cmp);
  for (i = 0; i < n; i++) {
    if (i == 0 || strcmp(refs[i].layer, refs[i - 1].layer) != 0) {
      groups[ngroups].first = i;
      groups[ngroups].first_entry = refs[i].entry; /* a layer's refs are sorted by position */
      groups[ngroups++].count = 0;
    }
    groups[ngroups - 1].count++;
  }
  qsort(groups, ngroups, sizeof *groups, group_cmp);
  f->layers = (wk_layer_info *)wk__arena_calloc(&f->arena, ngroups, sizeof *f->layers);
  if (f->layers == NULL) {
    s = oom(f, err);
    goto done;
  }
  for (i = 0; i < ngroups; i++) {
    wk_layer_info *l = &f->layers[i];
    l->name = refs[groups[i].first].layer;
    l->weight_count = groups[i].count;
    l->weights = &st->layer_infos[at];
    for (k = 0; k < groups[i].count; k++, at++) {
      const weight_ref *r = &refs[groups[i].first + k];
      st->layer_infos[at] = f->tensors[r->entry];
      st->layer_infos[at].layer = r->layer;
      st->layer_infos[at].name = r->name;
      st->layer_entry[at] = r->entry;
    }
  }
  f->layer_count = ngroups;
done:
  free(refs);
  free(groups);
  return s;
}

/* }==================================================================== */

/* {====================================================================
** wk__file_ops
** ===================================================================== */

static wk_status locate(wk_file *f, const wk_tensor_info *info, const st_entry **out, wk_error *err) {
  st_file *st = ST(f);
  uintptr_t p = (uintptr_t)info, t0 = (uintptr_t)f->tensors, l0 = (uintptr_t)st->layer_infos;
  size_t span = st->count * sizeof *info;
  if (st->count > 0 && p >= t0 && p < t0 + span && (p - t0) % sizeof *info == 0) {
    *out = &st->entries[(p - t0) / sizeof *info];
    return WK_OK;
  }
  if (st->count > 0 && p >= l0 && p < l0 + span && (p - l0) % sizeof *info == 0) {
    *out = &st->entries[st->layer_entry[(p - l0) / sizeof *info]];
    return WK_OK;
  }
  return wk__error_set(err, WK_EINVAL, "%s: the tensor info does not come from this handle", f->name);
}

/* Reads exactly `size` bytes at `offset` of the file at `path` (no_mmap). */
static wk_status pread_exact(const wk_file *f, const char *path, uint64_t offset, void *dst, size_t size,
                             const char *name, wk_error *err) {
  struct stat sb;
  size_t got = 0;
  wk_status s = WK_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", f->name, strerror(errno));
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < offset ||
      (uint64_t)sb.st_size - offset < size) {
    close(fd);
    return wk__error_set(err, WK_EIO, "%s: tensor \"%s\": the file changed since it was opened", f->name, name);
  }
  while (got < size) {
    ssize_t r = pread(fd, (unsigned char *)dst + got, size - got, (off_t)(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      s = wk__error_set(err, WK_EIO, "%s: tensor \"%s\": %s", f->name, name,
                        r < 0 ? strerror(errno) : "the file shrank while reading");
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  return s;
}

static void swap_bytes(unsigned char *p, size_t nbytes, size_t width) {
  size_t i, k;
  for (i = 0; i + width <= nbytes; i += width)
    for (k = 0; k < width / 2; k++) {
      unsigned char t = p[i + k];
      p[i + k] = p[i + width - 1 - k];
      p[i + width - 1 - k] = t;
    }
}

static wk_status st_read(wk_file *f, const wk_tensor_info *info, wk_tensor **out, wk_error *err) {
  st_file *st = ST(f);
  const st_entry *e = NULL;
  wk_dtype dt;
  size_t nbytes, es;
  uint64_t offset;
  wk_tensor *t = NULL;
  unsigned char *dst;
  wk_status s = locate(f, info, &e, err);
  if (s != WK_OK) return s;
  dt = e->type->dtype;
  if (dt == WK_DTYPE_COUNT)
    return wk__error_set(err, WK_EDTYPE, "%s: tensor \"%s\": dtype %s (%s) has no weightkit dtype", f->name, e->name,
                         e->type->code, e->type->name);
  if (e->numel == 0) return wk_tensor_new(dt, e->rank, e->shape, out, err);
  nbytes = (size_t)(e->end - e->begin);
  es = wk_dtype_size(dt);
  offset = st->data_start + e->begin;
  if (f->region != NULL && dt != WK_BOOL && (es == 1 || !host_big_endian()) &&
      (uintptr_t)(wk__region_data(f->region) + offset) % es == 0)
    return wk__region_tensor(f->region, offset, dt, e->rank, e->shape, nbytes, out, err);
  s = wk_tensor_new(dt, e->rank, e->shape, &t, err);
  if (s == WK_OK) s = wk_tensor_mutable_data(t, (void **)&dst, err);
  if (s == WK_OK) {
    if (st->image != NULL) memcpy(dst, st->image + offset, nbytes);
    else s = pread_exact(f, st->path, offset, dst, nbytes, e->name, err);
  }
  if (s != WK_OK) {
    wk_tensor_release(t);
    return s;
  }
  if (dt == WK_BOOL) {
    size_t i;
    for (i = 0; i < nbytes; i++) dst[i] = dst[i] != 0;
  } else if (es > 1 && host_big_endian()) {
    swap_bytes(dst, nbytes, es);
  }
  *out = t;
  return WK_OK;
}

static wk_status st_list(wk_file *f, wk_error *err) {
  (void)f;
  (void)err;
  return WK_OK; /* built at open */
}

static wk_status st_resolve_layer(wk_file *f, size_t index, wk_error *err) {
  (void)index;
  return wk__error_set(err, WK_EINVAL, "%s: nothing to resolve", f->name);
}

static wk_status st_resolve_top(wk_file *f, wk_error *err) {
  (void)err;
  f->top_ready = 1;
  return WK_OK;
}

static void st_resolve_optimizer(wk_file *f) { f->opt_ready = 1; }

/* The only attributes: the "__metadata__" values, by key. */
static wk_status st_string_attribute(wk_file *f, const char *object_path, const char *name, const char **out,
                                     wk_error *err) {
  st_file *st = ST(f);
  st_meta probe, *m;
  (void)err;
  *out = NULL;
  if (strcmp(object_path, METADATA_KEY) != 0 || st->meta_count == 0) return WK_OK;
  probe.key.s = name;
  m = (st_meta *)bsearch(&probe, st->meta, st->meta_count, sizeof *st->meta, meta_cmp);
  if (m != NULL) *out = m->value.s;
  return WK_OK;
}

static void st_close(wk_file *f) { f->impl = NULL; /* the state is arena memory */ }

static const wk__file_ops st_ops = {st_list, st_resolve_layer, st_resolve_top, st_resolve_optimizer,
                                    st_read, st_string_attribute, st_close};

/* }==================================================================== */

/* {====================================================================
** Open
** ===================================================================== */

static wk_status start(wk_file *f, wk_error *err) {
  st_file *st = (st_file *)wk__arena_alloc(&f->arena, sizeof *st);
  if (st == NULL) return oom(f, err);
  f->impl = st;
  f->ops = &st_ops;
  return WK_OK;
}

/* N from the first 8 bytes of a file of file_size bytes, checked against the limits. */
static wk_status header_length(wk_file *f, const unsigned char *head, uint64_t file_size, size_t *out,
                               wk_error *err) {
  uint64_t n = 0;
  int i;
  if (file_size < 8)
    return wk__error_set(err, WK_EFORMAT, "%s: %llu bytes: too short for a safetensors header", f->name,
                         (unsigned long long)file_size);
  for (i = 7; i >= 0; i--) n = n << 8 | head[i];
  if (n > (uint64_t)f->opts.max_attribute_bytes)
    return wk__error_set(err, WK_ELIMIT, "%s: a safetensors header of %llu bytes (limit %zu)", f->name,
                         (unsigned long long)n, f->opts.max_attribute_bytes);
  if (n > file_size - 8)
    return wk__error_set(err, WK_EFORMAT, "%s: the safetensors header length %llu lies past the end of the file "
                         "(%llu bytes)", f->name, (unsigned long long)n, (unsigned long long)file_size);
  *out = (size_t)n;
  return WK_OK;
}

/* The header at hdr (n bytes) of a file of file_size bytes: parse, check, list. */
static wk_status finish_open(wk_file *f, const unsigned char *hdr, size_t n, uint64_t file_size, wk_error *err) {
  st_file *st = ST(f);
  wk_status s;
  st->file_size = file_size;
  st->data_start = 8 + (uint64_t)n;
  s = parse_header(f, hdr, n, err);
  if (s == WK_OK) s = check_layout(f, err);
  if (s == WK_OK) s = build_lists(f, err);
  if (s != WK_OK) return s;
  f->format = "safetensors";
  f->tensors_ready = 1;
  f->top_ready = f->opt_ready = 1;
  return WK_OK;
}

static wk_status open_image(wk_file *f, const unsigned char *data, size_t size, wk_error *err) {
  size_t n;
  wk_status s = header_length(f, data, size, &n, err);
  if (s != WK_OK) return s;
  ST(f)->image = data;
  return finish_open(f, data + 8, n, size, err);
}

wk_status wk__safetensors_open_memory(wk_file *f, const void *data, size_t size, wk_error *err) {
  wk_status s = start(f, err);
  if (s != WK_OK) return s;
  if (data == NULL && size != 0) return wk__error_set(err, WK_EINVAL, "%s: NULL data", f->name);
  return open_image(f, (const unsigned char *)data, size, err);
}

wk_status wk__safetensors_open_path(wk_file *f, const char *path, wk_error *err) {
  struct stat sb;
  unsigned char head[8] = {0}, *hdr;
  size_t n;
  wk_status s = start(f, err);
  int fd;
  if (s != WK_OK) return s;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", f->name, strerror(errno));
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return wk__error_set(err, WK_EIO, "%s: not a readable regular file", f->name);
  }
  if (!f->opts.no_mmap) {
    s = sb.st_size < 8 ? header_length(f, head, (uint64_t)sb.st_size, &n, err)
                       : wk__region_map_fd(fd, f->name, &f->region, err);
    close(fd);
    if (s != WK_OK) return s;
    return open_image(f, wk__region_data(f->region), wk__region_size(f->region), err);
  }
  close(fd);
  if ((ST(f)->path = wk__arena_strdup(&f->arena, path)) == NULL) return oom(f, err);
  if (sb.st_size >= 8) s = pread_exact(f, path, 0, head, 8, "(header)", err);
  if (s == WK_OK) s = header_length(f, head, (uint64_t)sb.st_size, &n, err);
  if (s != WK_OK) return s;
  hdr = (unsigned char *)malloc(n ? n : 1);
  if (hdr == NULL) return oom(f, err);
  s = pread_exact(f, path, 8, hdr, n, "(header)", err);
  if (s == WK_OK) s = finish_open(f, hdr, n, (uint64_t)sb.st_size, err);
  free(hdr);
  return s;
}

/* }==================================================================== */
