/*
** lwk_file.c — the `weightkit.File` userdata: a wk_file opened for reading (section "Files" of
** weightkit.h). This is the raw handle; lua/weightkit/file.lua builds the user-facing file object
** (lazy tensors, layers(), tensors(), get()) on top of it.
**
**   core.open(path [, options]) -> handle | nil, message, code
**       options: {no_mmap = bool, lazy = bool, max_tensors = n, max_attribute_bytes = n,
**       max_expand_ratio = n}. lazy: the open reads the layer names only; a layer's weights are
**       resolved by the first method that needs them (weightkit.h, LAZY HANDLES), and a corrupt
**       layer then raises "weightkit: <the message an eager open returns>".
**       Failures follow Lua's io convention: nil, the core's message (it names the file), and a
**       code string: "ENOMEM", "EINVAL", "ELIMIT", "EIO", "EFORMAT", ... (wk_status without WK_).
**   core.tensor_sha256(t) -> 64 lowercase hex chars (raw little-endian C-order bytes)
**
** Handle methods (metadata comes straight from the core; nothing here reads tensor bytes except
** the read_* methods):
**   name() format() keras_version() backend() warning()          strings (or nil)
**   layer_count()  layer_names() -> {name, ...} (never resolves a layer)
**   layers() -> {{name=, weights={info, ...}}, ...}  layer(i) -> one of them or nil
**   top_level() optimizer() -> the same shape, or nil when the file has no such group
**   tensors() -> {info, ...}       every dataset, depth-first in name order
**   tensor_totals() -> count, nbytes   the same walk, summed without building the tables
**   info = {name=, path=, layer=, shape={...}, dtype=, numel=, nbytes=, layout=, filtered=,
**           big_endian=, readable=}   (name/layer absent in tensors())
**   read_weight(li, wi) read_top_level(i) read_optimizer(i) read_dataset(i) -> tensor   (1-based,
**       O(1): the core's arrays are addressed directly, never searched by path)
**   read(layer_name, weight_name) -> tensor | nil      (the first layer of that name, like Keras)
**   attribute(object_path, name) -> string | nil        (nil when absent)
**   read_strings(i) -> {string, ...}   the DT_STRING tensor tensors()[i] of a TF bundle (raises for
**       any other tensor)
**   object_graph() -> nil | {node, ...}   a TF bundle's TrackableObjectGraph, node i at index i + 1:
**       {children = {{node_id, local_name}}, attributes = {{name, full_name, checkpoint_key,
**       optional_restore}}, slot_variables = {{original_variable_node_id, slot_name,
**       slot_variable_node_id}}} (ids 0-based as in the file); nil without a graph; raises for
**       other formats
**   close() is_closed()
** Reads and attribute errors raise "weightkit: <message>"; any method on a closed handle raises
** "attempt to use a closed file".
**
** LIFETIME (liolib's rules). core.open pushes a closed userdata before it opens the file, so an
** allocation error cannot leak the handle; the core writes the wk_file* straight into the slot.
** close, __gc and __close are one idempotent function. Tensors read from a handle hold their own
** references (a zero-copy tensor keeps the file mapping alive), so they outlive close().
*/
#include <limits.h>
#include <string.h>

#include "lwk.h"


typedef struct lwk_File {
  wk_file *f; /* owned, or NULL when closed */
} lwk_File;

wk_file *lwk_check_file(lua_State *L, int arg) {
  lwk_File *u = (lwk_File *)luaL_checkudata(L, arg, LWK_FILE);
  if (u->f == NULL) lwk_error(L, "attempt to use a closed file");
  return u->f;
}

static wk_file *check_file(lua_State *L) { return lwk_check_file(L, 1); }

/* {====================================================================
** Opening and closing
** ===================================================================== */

static size_t opt_size(lua_State *L, int opts, const char *key) {
  lua_Integer v;
  int isint;
  lua_getfield(L, opts, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  v = lua_tointegerx(L, -1, &isint);
  if (!isint || v < 0) lwk_error(L, "weightkit.open: option '%s' must be a non-negative integer", key);
  lua_pop(L, 1);
  return (size_t)v;
}

static void check_options(lua_State *L, int arg, wk_open_options *o) {
  static const char *const known[] = {"no_mmap", "lazy", "max_tensors", "max_attribute_bytes",
                                      "max_expand_ratio", NULL};
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, arg)) return;
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, arg) != 0) {
    int i, found = 0;
    lua_pop(L, 1); /* the value; keep the key */
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *key = lua_tostring(L, -1);
      for (i = 0; known[i] != NULL; i++) found |= strcmp(key, known[i]) == 0;
    }
    if (!found) lwk_error(L, "weightkit.open: unknown option '%s'", luaL_tolstring(L, -1, NULL));
  }
  o->max_tensors = opt_size(L, arg, "max_tensors");
  o->max_attribute_bytes = opt_size(L, arg, "max_attribute_bytes");
  o->max_expand_ratio = opt_size(L, arg, "max_expand_ratio");
  lua_getfield(L, arg, "no_mmap");
  o->no_mmap = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, arg, "lazy");
  o->lazy = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

static int f_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  wk_open_options options;
  wk_error err;
  lwk_File *u;
  check_options(L, 2, &options);
  u = (lwk_File *)lua_newuserdatauv(L, sizeof(lwk_File), 0);
  u->f = NULL; /* closed first: nothing to leak if anything below raises */
  luaL_setmetatable(L, LWK_FILE);
  if (wk_file_open(path, &options, &u->f, &err) != WK_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err.message[0] != '\0' ? err.message : wk_status_string(err.code));
    lua_pushstring(L, lwk_status_code(err.code));
    return 3;
  }
  return 1;
}

static int f_close(lua_State *L) {
  lwk_File *u = (lwk_File *)luaL_checkudata(L, 1, LWK_FILE);
  wk_file *f = u->f;
  u->f = NULL; /* closed before the free: idempotent for close, __gc and __close */
  wk_file_close(f);
  return 0;
}

static int f_is_closed(lua_State *L) {
  lwk_File *u = (lwk_File *)luaL_checkudata(L, 1, LWK_FILE);
  lua_pushboolean(L, u->f == NULL);
  return 1;
}

static int f_tostring(lua_State *L) {
  lwk_File *u = (lwk_File *)luaL_checkudata(L, 1, LWK_FILE);
  if (u->f == NULL) lua_pushliteral(L, "weightkit.File (closed)");
  else lua_pushfstring(L, "weightkit.File (%s)", wk_file_name(u->f));
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Metadata
** ===================================================================== */

static void push_opt_string(lua_State *L, const char *s) {
  if (s != NULL) lua_pushstring(L, s);
  else lua_pushnil(L);
}

static int f_name(lua_State *L) { lua_pushstring(L, wk_file_name(check_file(L))); return 1; }
static int f_format(lua_State *L) { lua_pushstring(L, wk_file_format(check_file(L))); return 1; }
static int f_keras_version(lua_State *L) { push_opt_string(L, wk_file_keras_version(check_file(L))); return 1; }
static int f_backend(lua_State *L) { push_opt_string(L, wk_file_backend(check_file(L))); return 1; }
static int f_warning(lua_State *L) { push_opt_string(L, wk_file_warning(check_file(L))); return 1; }

static int f_layer_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wk_file_layer_count(check_file(L)));
  return 1;
}

static void set_string(lua_State *L, const char *key, const char *value) {
  if (value == NULL) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

/* Pushes a fresh table describing one dataset. */
static void push_info(lua_State *L, const wk_tensor_info *info) {
  int i;
  lua_createtable(L, 0, 12);
  set_string(L, "path", info->path);
  set_string(L, "layer", info->layer);
  set_string(L, "name", info->name);
  set_string(L, "dtype", info->dtype_name);
  set_string(L, "layout", info->layout);
  lua_createtable(L, info->rank, 0);
  for (i = 0; i < info->rank; i++) {
    lua_pushinteger(L, (lua_Integer)info->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "shape");
  lua_pushinteger(L, (lua_Integer)info->numel);
  lua_setfield(L, -2, "numel");
  lua_pushinteger(L, (lua_Integer)info->nbytes);
  lua_setfield(L, -2, "nbytes");
  lua_pushboolean(L, info->filtered);
  lua_setfield(L, -2, "filtered");
  lua_pushboolean(L, info->big_endian);
  lua_setfield(L, -2, "big_endian");
  lua_pushboolean(L, info->dtype != WK_DTYPE_COUNT);
  lua_setfield(L, -2, "readable");
}

/* Pushes {name = ..., weights = {info, ...}}, or nil for a NULL layer. */
static void push_layer(lua_State *L, const wk_layer_info *layer) {
  size_t i;
  if (layer == NULL) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, 0, 2);
  lua_pushstring(L, layer->name);
  lua_setfield(L, -2, "name");
  lua_createtable(L, layer->weight_count > INT_MAX ? 0 : (int)layer->weight_count, 0);
  for (i = 0; i < layer->weight_count; i++) {
    push_info(L, &layer->weights[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "weights");
}

/* Layer `index` (0-based, in range), resolved if the handle is lazy; raises on failure. */
static const wk_layer_info *get_layer(lua_State *L, wk_file *f, size_t index) {
  const wk_layer_info *l = NULL;
  wk_error err;
  lwk_check(L, wk_file_get_layer(f, index, &l, &err), &err);
  return l;
}

static int f_layers(lua_State *L) {
  wk_file *f = check_file(L);
  size_t i, n = wk_file_layer_count(f);
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    push_layer(L, get_layer(L, f, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int f_layer_names(lua_State *L) {
  wk_file *f = check_file(L);
  size_t i, n = wk_file_layer_count(f);
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, wk_file_layer_name(f, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* layer(i) -> {name=, weights=} or nil when i is out of range. */
static int f_layer(lua_State *L) {
  wk_file *f = check_file(L);
  lua_Integer i = luaL_checkinteger(L, 2);
  int in_range = i >= 1 && (lua_Unsigned)i <= (lua_Unsigned)wk_file_layer_count(f);
  push_layer(L, in_range ? get_layer(L, f, (size_t)(i - 1)) : NULL);
  return 1;
}

static const wk_layer_info *get_top_level(lua_State *L, wk_file *f) {
  const wk_layer_info *l = NULL;
  wk_error err;
  lwk_check(L, wk_file_get_top_level_weights(f, &l, &err), &err);
  return l;
}

static int f_top_level(lua_State *L) {
  wk_file *f = check_file(L);
  push_layer(L, get_top_level(L, f));
  return 1;
}

static int f_optimizer(lua_State *L) {
  push_layer(L, wk_file_optimizer_weights(check_file(L)));
  return 1;
}

static int f_tensors(lua_State *L) {
  wk_file *f = check_file(L);
  const wk_tensor_info *infos;
  size_t i, n;
  wk_error err;
  lwk_check(L, wk_file_tensors(f, &infos, &n, &err), &err);
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    push_info(L, &infos[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* tensor_totals() -> number of datasets, their total byte size (what inspect's count line needs,
** without one table per dataset). */
static int f_tensor_totals(lua_State *L) {
  wk_file *f = check_file(L);
  const wk_tensor_info *infos;
  size_t i, n;
  lua_Integer total = 0;
  wk_error err;
  lwk_check(L, wk_file_tensors(f, &infos, &n, &err), &err);
  for (i = 0; i < n; i++) total += (lua_Integer)infos[i].nbytes;
  lua_pushinteger(L, (lua_Integer)n);
  lua_pushinteger(L, total);
  return 2;
}

static int f_attribute(lua_State *L) {
  wk_file *f = check_file(L);
  const char *object_path = luaL_checkstring(L, 2);
  const char *name = luaL_checkstring(L, 3);
  const char *value;
  wk_error err;
  lwk_check(L, wk_file_string_attribute(f, object_path, name, &value, &err), &err);
  push_opt_string(L, value);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Reads (every one addressed by position: O(1), no search)
** ===================================================================== */

/* A 1-based position at `arg` within [1, n], returned 0-based. */
static size_t check_position(lua_State *L, int arg, size_t n, const char *what) {
  lua_Integer i = luaL_checkinteger(L, arg);
  if (i < 1 || (lua_Unsigned)i > (lua_Unsigned)n)
    lwk_error(L, "weightkit: %s index %d out of range (1..%d)", what, (int)i, (int)n);
  return (size_t)(i - 1);
}

static int read_info(lua_State *L, wk_file *f, const wk_tensor_info *info) {
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_file_read(f, info, slot, &err), &err);
  return 1;
}

static int read_from(lua_State *L, wk_file *f, const wk_layer_info *layer, int arg, const char *what) {
  if (layer == NULL) return lwk_error(L, "weightkit: the file has no %s", what);
  return read_info(L, f, &layer->weights[check_position(L, arg, layer->weight_count, "weight")]);
}

static int f_read_weight(lua_State *L) {
  wk_file *f = check_file(L);
  size_t li = check_position(L, 2, wk_file_layer_count(f), "layer");
  return read_from(L, f, get_layer(L, f, li), 3, "such layer");
}

static int f_read_top_level(lua_State *L) {
  wk_file *f = check_file(L);
  return read_from(L, f, get_top_level(L, f), 2, "top_level_model_weights group");
}

static int f_read_optimizer(lua_State *L) {
  wk_file *f = check_file(L);
  return read_from(L, f, wk_file_optimizer_weights(f), 2, "optimizer_weights group");
}

static int f_read_dataset(lua_State *L) {
  wk_file *f = check_file(L);
  const wk_tensor_info *infos;
  size_t n;
  wk_error err;
  lwk_check(L, wk_file_tensors(f, &infos, &n, &err), &err);
  return read_info(L, f, &infos[check_position(L, 2, n, "dataset")]);
}

/* read(layer_name, weight_name): the weight of the first layer so named, or nil. */
static int f_read(lua_State *L) {
  wk_file *f = check_file(L);
  const char *layer = luaL_checkstring(L, 2);
  const char *weight = luaL_checkstring(L, 3);
  size_t i, n = wk_file_layer_count(f);
  for (i = 0; i < n; i++) {
    if (strcmp(wk_file_layer_name(f, i), layer) == 0) {
      const wk_layer_info *l = get_layer(L, f, i); /* resolves that layer only */
      size_t w;
      for (w = 0; w < l->weight_count; w++)
        if (strcmp(l->weights[w].name, weight) == 0) return read_info(L, f, &l->weights[w]);
      break;
    }
  }
  luaL_pushfail(L);
  return 1;
}

/* read_strings(i) -> {string, ...}: the elements of the DT_STRING tensor tensors()[i] (TF bundles). */
static int f_read_strings(lua_State *L) {
  wk_file *f = check_file(L);
  const wk_tensor_info *infos;
  const char *const *items;
  const size_t *lengths;
  size_t i, n, count;
  wk_error err;
  lwk_check(L, wk_file_tensors(f, &infos, &n, &err), &err);
  i = check_position(L, 2, n, "dataset");
  lwk_check(L, wk_file_read_strings(f, &infos[i], &items, &lengths, &count, &err), &err);
  lua_createtable(L, count > INT_MAX ? 0 : (int)count, 0);
  for (i = 0; i < count; i++) {
    lua_pushlstring(L, items[i], lengths[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* object_graph() -> nil (no graph: a name-based checkpoint) or {node, ...}, node i at index i + 1:
** {children = {{node_id =, local_name =}}, attributes = {{name =, full_name =, checkpoint_key =,
** optional_restore =}}, slot_variables = {{original_variable_node_id =, slot_name =,
** slot_variable_node_id =}}}; node ids 0-based as stored. Raises for a file that is not a TF bundle. */
static void set_int(lua_State *L, const char *key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

static int f_object_graph(lua_State *L) {
  wk_file *f = check_file(L);
  const wk_ckpt_node *nodes;
  size_t i, j, n;
  wk_error err;
  lwk_check(L, wk_file_object_graph(f, &nodes, &n, &err), &err);
  if (n == 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    const wk_ckpt_node *nd = &nodes[i];
    lua_createtable(L, 0, 3);
    lua_createtable(L, (int)nd->child_count, 0);
    for (j = 0; j < nd->child_count; j++) {
      lua_createtable(L, 0, 2);
      set_int(L, "node_id", nd->children[j].node_id);
      set_string(L, "local_name", nd->children[j].local_name);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_setfield(L, -2, "children");
    lua_createtable(L, (int)nd->attribute_count, 0);
    for (j = 0; j < nd->attribute_count; j++) {
      const wk_ckpt_attribute *a = &nd->attributes[j];
      lua_createtable(L, 0, 4);
      set_string(L, "name", a->name);
      set_string(L, "full_name", a->full_name);
      set_string(L, "checkpoint_key", a->checkpoint_key);
      lua_pushboolean(L, a->optional_restore);
      lua_setfield(L, -2, "optional_restore");
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_setfield(L, -2, "attributes");
    lua_createtable(L, (int)nd->slot_count, 0);
    for (j = 0; j < nd->slot_count; j++) {
      const wk_ckpt_slot *sl = &nd->slots[j];
      lua_createtable(L, 0, 3);
      set_int(L, "original_variable_node_id", sl->original_variable_node_id);
      set_string(L, "slot_name", sl->slot_name);
      set_int(L, "slot_variable_node_id", sl->slot_variable_node_id);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_setfield(L, -2, "slot_variables");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_tensor_sha256(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  unsigned char digest[32];
  char hex[65];
  wk_tensor_sha256(t, digest);
  wk_sha256_hex(digest, hex);
  lua_pushlstring(L, hex, 64);
  return 1;
}

/* }==================================================================== */

/* handle:metadata() -> {key = value, ...} (a safetensors file's __metadata__; {} for other formats) */
static int f_metadata(lua_State *L) {
  wk_file *f = check_file(L);
  size_t i, n = wk_file_metadata_count(f);
  const char *key, *value;
  lua_createtable(L, 0, n > 0x7fffffff ? 0 : (int)n);
  for (i = 0; i < n && wk_file_metadata(f, i, &key, &value); i++) {
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
  }
  return 1;
}

static const luaL_Reg file_methods[] = {
  {"metadata", f_metadata},
  {"close", f_close}, {"is_closed", f_is_closed},
  {"name", f_name}, {"format", f_format}, {"keras_version", f_keras_version},
  {"backend", f_backend}, {"warning", f_warning},
  {"layer_count", f_layer_count}, {"layer_names", f_layer_names}, {"layer", f_layer}, {"layers", f_layers},
  {"top_level", f_top_level},
  {"optimizer", f_optimizer}, {"tensors", f_tensors},
  {"tensor_totals", f_tensor_totals}, {"attribute", f_attribute},
  {"read_weight", f_read_weight}, {"read_top_level", f_read_top_level},
  {"read_optimizer", f_read_optimizer}, {"read_dataset", f_read_dataset}, {"read", f_read},
  {"read_strings", f_read_strings}, {"object_graph", f_object_graph},
  {NULL, NULL}
};

static const luaL_Reg file_metamethods[] = {
  {"__gc", f_close}, {"__close", f_close}, {"__tostring", f_tostring},
  {NULL, NULL}
};

/* Registers the metatable weightkit.File; adds open and tensor_sha256 to the module table at
** `module`. */
void lwk_open_file(lua_State *L, int module) {
  luaL_newmetatable(L, LWK_FILE);
  luaL_setfuncs(L, file_metamethods, 0);
  luaL_newlibtable(L, file_methods);
  luaL_setfuncs(L, file_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, f_open);
  lua_setfield(L, module, "open");
  lua_pushcfunction(L, l_tensor_sha256);
  lua_setfield(L, module, "tensor_sha256");
}
