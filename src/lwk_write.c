/*
** lwk_write.c — the Lua face of wk_write_keras2 (weightkit.h, section "Writing").
**
**   core.save_keras2(path, spec) -> true | nil, message, code      (Lua io convention)
**     spec = {
**       layers = { {name = "dense", weights = { {name = "dense/kernel:0", tensor = t}, ... }}, ... },
**       top_level = { {name = ..., tensor = ...}, ... } | nil,  omit_top_level = false,
**       keras_version = "2.15.0" | nil,  backend = "tensorflow" | nil,  overwrite = false,
**     }
**     code: "EIO" (exists, directory, cannot write/rename), "EINVAL" (names), "ELIMIT", "ENOMEM".
**   core.isatty(fd) -> boolean     (0 stdin, 1 stdout, 2 stderr; for save_weights' overwrite prompt)
**   core.path_kind(path) -> "file" | "directory" | "other" | nil (absent)
**
** A malformed spec (wrong types) raises; failures of the save itself return nil, message, code.
**
** MEMORY. The C arrays of the spec live in one userdata (collected by Lua, nothing malloc'd
** across a raise). Strings and tensors are borrowed from the spec tables, read with raw
** access only (no metamethod runs, so nothing can replace or collect them) and anchored by
** the spec argument for the whole call; no Lua code runs during wk_write_keras2.
*/
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwk.h"

/* Pushes t[key] (raw). */
static int rawfield(lua_State *L, int t, const char *key) {
  lua_pushstring(L, key);
  return lua_rawget(L, t);
}

/* The optional list t[key] (raw): its absolute index after pushing it, or 0 (nothing pushed). */
static int opt_list(lua_State *L, int t, const char *key, const char *who) {
  int type = rawfield(L, t, key);
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (type != LUA_TTABLE) return lwk_error(L, "weightkit.save_keras2: %s must be a table", who);
  return lua_gettop(L);
}

/* A string field (raw; borrowed: anchored in the table) or NULL when nil. */
static const char *opt_string(lua_State *L, int t, const char *key, const char *who) {
  const char *s = NULL;
  int type = rawfield(L, t, key);
  if (type == LUA_TSTRING) s = lua_tostring(L, -1);
  else if (type != LUA_TNIL) lwk_error(L, "weightkit.save_keras2: %s must be a string", who);
  lua_pop(L, 1);
  return s;
}

/* Fills out[0 .. n-1] from the weight list at `list` (raw). */
static void fill_weights(lua_State *L, int list, wk_write_weight *out, size_t n, const char *layer) {
  size_t i;
  for (i = 0; i < n; i++) {
    int w;
    if (lua_rawgeti(L, list, (lua_Integer)i + 1) != LUA_TTABLE)
      lwk_error(L, "weightkit.save_keras2: layer \"%s\": weight %d must be a table {name =, tensor =}", layer,
                (int)i + 1);
    w = lua_gettop(L);
    out[i].name = opt_string(L, w, "name", "a weight's name");
    if (out[i].name == NULL)
      lwk_error(L, "weightkit.save_keras2: layer \"%s\": weight %d has no name", layer, (int)i + 1);
    rawfield(L, w, "tensor");
    out[i].tensor = wk_lua_totensor(L, -1);
    if (out[i].tensor == NULL)
      lwk_error(L, "weightkit.save_keras2: layer \"%s\": weight \"%s\": tensor must be an open tensor", layer,
                out[i].name);
    lua_pop(L, 2);
  }
}

static int l_save_keras2(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  wk_write_spec spec;
  wk_write_layer *layers;
  wk_write_weight *weights;
  size_t nlayers = 0, nweights = 0, i, used = 0, bytes;
  int layers_idx, top_idx;
  wk_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  memset(&spec, 0, sizeof spec);

  layers_idx = opt_list(L, 2, "layers", "spec.layers");
  top_idx = opt_list(L, 2, "top_level", "spec.top_level");
  /* Count first: one userdata holds every array. */
  if (layers_idx) {
    nlayers = (size_t)lua_rawlen(L, layers_idx);
    for (i = 0; i < nlayers; i++) {
      int ws;
      if (lua_rawgeti(L, layers_idx, (lua_Integer)i + 1) != LUA_TTABLE)
        lwk_error(L, "weightkit.save_keras2: layer %d must be a table {name =, weights =}", (int)i + 1);
      ws = opt_list(L, lua_gettop(L), "weights", "a layer's weights");
      if (ws) {
        nweights += (size_t)lua_rawlen(L, ws);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  if (top_idx) nweights += (size_t)lua_rawlen(L, top_idx);
  if (nlayers > ((size_t)-1) / 2 / sizeof *layers || nweights > ((size_t)-1) / 2 / sizeof *weights)
    return lwk_error(L, "weightkit.save_keras2: too many layers or weights");
  bytes = nlayers * sizeof *layers + nweights * sizeof *weights;
  layers = (wk_write_layer *)lua_newuserdatauv(L, bytes ? bytes : 1, 0);
  weights = (wk_write_weight *)(void *)(layers + nlayers);

  for (i = 0; i < nlayers; i++) {
    int l, ws;
    size_t n = 0;
    lua_rawgeti(L, layers_idx, (lua_Integer)i + 1);
    l = lua_gettop(L);
    layers[i].name = opt_string(L, l, "name", "a layer's name");
    if (layers[i].name == NULL) lwk_error(L, "weightkit.save_keras2: layer %d has no name", (int)i + 1);
    ws = opt_list(L, l, "weights", "a layer's weights");
    if (ws) {
      n = (size_t)lua_rawlen(L, ws);
      if (used + n > nweights) lwk_error(L, "weightkit.save_keras2: the spec changed while it was read");
      fill_weights(L, ws, weights + used, n, layers[i].name);
      lua_pop(L, 1);
    }
    layers[i].weights = n ? weights + used : NULL;
    layers[i].weight_count = n;
    used += n;
    lua_pop(L, 1);
  }
  if (top_idx) {
    size_t n = (size_t)lua_rawlen(L, top_idx);
    if (used + n > nweights) lwk_error(L, "weightkit.save_keras2: the spec changed while it was read");
    fill_weights(L, top_idx, weights + used, n, "top_level_model_weights");
    spec.top_level = n ? weights + used : NULL;
    spec.top_level_count = n;
  }
  spec.layers = nlayers ? layers : NULL;
  spec.layer_count = nlayers;
  spec.keras_version = opt_string(L, 2, "keras_version", "spec.keras_version");
  spec.backend = opt_string(L, 2, "backend", "spec.backend");
  rawfield(L, 2, "omit_top_level");
  spec.omit_top_level = lua_toboolean(L, -1);
  rawfield(L, 2, "overwrite");
  spec.overwrite = lua_toboolean(L, -1);
  lua_pop(L, 2);

  if (wk_write_keras2(path, &spec, &err) != WK_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err.message[0] != '\0' ? err.message : wk_status_string(err.code));
    lua_pushstring(L, lwk_status_code(err.code));
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* "file", "directory", "other" (devices, sockets, ...) or nil when the path does not exist (stat
** follows symlinks, as Python's os.path.isfile). */
static int l_path_kind(lua_State *L) {
  struct stat st;
  const char *path = luaL_checkstring(L, 1);
  if (stat(path, &st) != 0) luaL_pushfail(L);
  else lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  return 1;
}

static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd));
  return 1;
}

void lwk_open_write(lua_State *L, int module) {
  lua_pushcfunction(L, l_save_keras2);
  lua_setfield(L, module, "save_keras2");
  lua_pushcfunction(L, l_path_kind);
  lua_setfield(L, module, "path_kind");
  lua_pushcfunction(L, l_isatty);
  lua_setfield(L, module, "isatty");
}
