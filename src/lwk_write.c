/*
** lwk_write.c — the Lua face of the writers wk_write_keras2, wk_write_keras3 and
** wk_write_keras3_memory (weightkit.h, section "Writing").
**
**   core.save_keras2(path, spec) -> true | nil, message, code      (Lua io convention)
**     spec = {
**       layers = { {name = "dense", weights = { {name = "dense/kernel:0", tensor = t}, ... }}, ... },
**       top_level = { {name = ..., tensor = ...}, ... } | nil,  omit_top_level = false,
**       keras_version = "2.15.0" | nil,  backend = "tensorflow" | nil,  overwrite = false,
**       model_config = <JSON text> | nil   (a full-model file: weights under /model_weights)
**     }
**     code: "EIO" (exists, directory, cannot write/rename), "EINVAL" (names), "ELIMIT", "ENOMEM".
**   core.save_keras3(path, objects, overwrite) -> true | nil, message, code
**   core.keras3_image(objects) -> string (the bytes of the same file) | nil, message, code
**     objects = { {path = "layers/dense", name = "dense" | nil, tensors = {t1, t2} | nil,
**                  first = 0 | nil}, ... }
**     in Keras's walk order ("" is the model's own vars); datasets are named first, first + 1, ...
**     (first > 0 in a shard that continues an object); overwrite defaults to false.
**   core.save_tf_checkpoint(prefix, spec) -> true | nil, message, code
**     spec = {
**       entries = { {key = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", tensor = t}
**                 | {key = ..., strings = {"...", ...}, rank = 0 | 1 (default 1)}, ... },
**       graph = nodes | nil,  overwrite = false
**     }
**     nodes has the shape file:object_graph() returns (Lua index i is node id i - 1):
**       { {children = { {node_id =, local_name =}, ... },
**          attributes = { {name =, full_name =, checkpoint_key =, optional_restore = bool}, ... },
**          slot_variables = { {original_variable_node_id =, slot_name =, slot_variable_node_id =}, ... }},
**         ... }   (each list may be absent)
**   core.isatty(fd) -> boolean     (0 stdin, 1 stdout, 2 stderr; for save_weights' overwrite prompt)
**   core.path_kind(path) -> "file" | "directory" | "other" | nil (absent)
**
** A malformed spec (wrong types) raises; failures of the save itself return nil, message, code.
**
** MEMORY. The C arrays of a spec or an object list live in one userdata (collected by Lua,
** nothing malloc'd across a raise). Strings and tensors are borrowed from the argument's
** tables, read with raw access only (no metamethod runs, so nothing can replace or collect
** them) and anchored by the argument for the whole call; no Lua code runs during the write.
** The image of keras3_image is malloc'd by the core: its pointer goes into a
** `weightkit.Image` userdata (pushed before the core is called, __gc frees what it still
** holds), so the copy into a Lua string may raise without leaking it.
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

/* The optional list t[key] (raw): its absolute index after pushing it, or 0 (nothing pushed).
** `fn` names the Lua function in messages, `who` the field. */
static int opt_list(lua_State *L, int t, const char *key, const char *fn, const char *who) {
  int type = rawfield(L, t, key);
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (type != LUA_TTABLE) return lwk_error(L, "weightkit.%s: %s must be a table", fn, who);
  return lua_gettop(L);
}

/* A string field (raw; borrowed: anchored in the table) or NULL when nil. */
static const char *opt_string(lua_State *L, int t, const char *key, const char *fn, const char *who) {
  const char *s = NULL;
  int type = rawfield(L, t, key);
  if (type == LUA_TSTRING) s = lua_tostring(L, -1);
  else if (type != LUA_TNIL) lwk_error(L, "weightkit.%s: %s must be a string", fn, who);
  lua_pop(L, 1);
  return s;
}

/* The io-style failure: nil, message, code. */
static int push_failure(lua_State *L, const wk_error *err) {
  luaL_pushfail(L);
  lua_pushstring(L, err->message[0] != '\0' ? err->message : wk_status_string(err->code));
  lua_pushstring(L, lwk_status_code(err->code));
  return 3;
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
    out[i].name = opt_string(L, w, "name", "save_keras2", "a weight's name");
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

  layers_idx = opt_list(L, 2, "layers", "save_keras2", "spec.layers");
  top_idx = opt_list(L, 2, "top_level", "save_keras2", "spec.top_level");
  /* Count first: one userdata holds every array. */
  if (layers_idx) {
    nlayers = (size_t)lua_rawlen(L, layers_idx);
    for (i = 0; i < nlayers; i++) {
      int ws;
      if (lua_rawgeti(L, layers_idx, (lua_Integer)i + 1) != LUA_TTABLE)
        lwk_error(L, "weightkit.save_keras2: layer %d must be a table {name =, weights =}", (int)i + 1);
      ws = opt_list(L, lua_gettop(L), "weights", "save_keras2", "a layer's weights");
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
    layers[i].name = opt_string(L, l, "name", "save_keras2", "a layer's name");
    if (layers[i].name == NULL) lwk_error(L, "weightkit.save_keras2: layer %d has no name", (int)i + 1);
    ws = opt_list(L, l, "weights", "save_keras2", "a layer's weights");
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
  spec.keras_version = opt_string(L, 2, "keras_version", "save_keras2", "spec.keras_version");
  spec.backend = opt_string(L, 2, "backend", "save_keras2", "spec.backend");
  spec.model_config = opt_string(L, 2, "model_config", "save_keras2", "spec.model_config");
  rawfield(L, 2, "omit_top_level");
  spec.omit_top_level = lua_toboolean(L, -1);
  rawfield(L, 2, "overwrite");
  spec.overwrite = lua_toboolean(L, -1);
  lua_pop(L, 2);

  if (wk_write_keras2(path, &spec, &err) != WK_OK) return push_failure(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* {====================================================================
** Keras 3: save_keras3, keras3_image
** ===================================================================== */

#define LWK_IMAGE "weightkit.Image"

/* The core's image until it is copied into a Lua string. */
typedef struct lwk_Image {
  void *data;
} lwk_Image;

static int image_gc(lua_State *L) {
  lwk_Image *im = (lwk_Image *)luaL_checkudata(L, 1, LWK_IMAGE);
  wk_free(im->data);
  im->data = NULL;
  return 0;
}

/*
** Reads the object list at `arg` into a new userdata (pushed): *count objects, their tensor
** arrays after them. Raises for a malformed list.
*/
static wk_write_object *check_objects(lua_State *L, int arg, const char *fn, size_t *count) {
  size_t n, ntensors = 0, used = 0, i, bytes;
  wk_write_object *objects;
  const wk_tensor **tensors;
  luaL_checktype(L, arg, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, arg);
  for (i = 0; i < n; i++) {
    int ts;
    if (lua_rawgeti(L, arg, (lua_Integer)i + 1) != LUA_TTABLE)
      lwk_error(L, "weightkit.%s: object %d must be a table {path =, name =, tensors =}", fn, (int)i + 1);
    ts = opt_list(L, lua_gettop(L), "tensors", fn, "an object's tensors");
    if (ts) {
      ntensors += (size_t)lua_rawlen(L, ts);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (n > ((size_t)-1) / 4 / sizeof *objects || ntensors > ((size_t)-1) / 4 / sizeof *tensors)
    lwk_error(L, "weightkit.%s: too many objects or tensors", fn);
  bytes = n * sizeof *objects + ntensors * sizeof *tensors;
  objects = (wk_write_object *)lua_newuserdatauv(L, bytes ? bytes : 1, 0);
  tensors = (const wk_tensor **)(void *)(objects + n);
  for (i = 0; i < n; i++) {
    int o, ts;
    size_t k, m = 0;
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    o = lua_gettop(L);
    objects[i].path = opt_string(L, o, "path", fn, "an object's path");
    if (objects[i].path == NULL) lwk_error(L, "weightkit.%s: object %d has no path", fn, (int)i + 1);
    objects[i].name = opt_string(L, o, "name", fn, "an object's name");
    objects[i].first = 0;
    if (rawfield(L, o, "first") != LUA_TNIL) {
      int isint = 0;
      lua_Integer first = lua_tointegerx(L, -1, &isint);
      if (!isint || first < 0)
        lwk_error(L, "weightkit.%s: object \"%s\": first must be a non-negative integer", fn, objects[i].path);
      objects[i].first = (size_t)first;
    }
    lua_pop(L, 1);
    ts = opt_list(L, o, "tensors", fn, "an object's tensors");
    if (ts) {
      m = (size_t)lua_rawlen(L, ts);
      if (used + m > ntensors) lwk_error(L, "weightkit.%s: the object list changed while it was read", fn);
      for (k = 0; k < m; k++) {
        lua_rawgeti(L, ts, (lua_Integer)k + 1);
        tensors[used + k] = wk_lua_totensor(L, -1);
        if (tensors[used + k] == NULL)
          lwk_error(L, "weightkit.%s: object \"%s\": tensor %d must be an open tensor", fn, objects[i].path,
                    (int)k + 1);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    objects[i].tensors = m ? tensors + used : NULL;
    objects[i].count = m;
    used += m;
    lua_pop(L, 1);
  }
  *count = n;
  return objects;
}

static int l_save_keras3(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int overwrite = lua_toboolean(L, 3); /* read before the stack grows past the arguments */
  size_t count;
  wk_write_object *objects = check_objects(L, 2, "save_keras3", &count);
  wk_error err;
  if (wk_write_keras3(path, count ? objects : NULL, count, overwrite, &err) != WK_OK) return push_failure(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_keras3_image(lua_State *L) {
  size_t count, size = 0;
  wk_write_object *objects = check_objects(L, 1, "keras3_image", &count);
  lwk_Image *im = (lwk_Image *)lua_newuserdatauv(L, sizeof *im, 0);
  wk_error err;
  im->data = NULL;
  luaL_setmetatable(L, LWK_IMAGE);
  if (wk_write_keras3_memory(count ? objects : NULL, count, &im->data, &size, &err) != WK_OK)
    return push_failure(L, &err);
  lua_pushlstring(L, (const char *)im->data, size);
  wk_free(im->data);
  im->data = NULL;
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** TensorFlow checkpoints: save_tf_checkpoint
** ===================================================================== */

/* How many C items a spec needs: one userdata holds them all. */
typedef struct ckpt_counts {
  size_t entries, strings, nodes, children, attributes, slots;
} ckpt_counts;

/* The length of the optional list t[key] (0 when absent; raises for a non-table). */
static size_t list_len(lua_State *L, int t, const char *key, const char *who) {
  int l = opt_list(L, t, key, "save_tf_checkpoint", who);
  size_t n = 0;
  if (l) {
    n = (size_t)lua_rawlen(L, l);
    lua_pop(L, 1);
  }
  return n;
}

/* The table at list[i] (pushed, absolute index); raises when it is not one. */
static int item(lua_State *L, int list, size_t i, const char *what) {
  if (lua_rawgeti(L, list, (lua_Integer)i + 1) != LUA_TTABLE)
    lwk_error(L, "weightkit.save_tf_checkpoint: %s %d must be a table", what, (int)i + 1);
  return lua_gettop(L);
}

/* An int32 field of t (raw); `def` when absent if def >= 0, else required. */
static int32_t int32_field(lua_State *L, int t, const char *key, int def, const char *what) {
  int isint = 0;
  lua_Integer v;
  if (rawfield(L, t, key) == LUA_TNIL && def >= 0) {
    lua_pop(L, 1);
    return (int32_t)def;
  }
  v = lua_tointegerx(L, -1, &isint);
  if (!isint || v < INT32_MIN || v > INT32_MAX)
    lwk_error(L, "weightkit.save_tf_checkpoint: %s: %s must be an integer", what, key);
  lua_pop(L, 1);
  return (int32_t)v;
}

/* A string field of t that must be present. */
static const char *req_string(lua_State *L, int t, const char *key, const char *what) {
  const char *s = opt_string(L, t, key, "save_tf_checkpoint", key);
  if (s == NULL) lwk_error(L, "weightkit.save_tf_checkpoint: %s has no %s", what, key);
  return s;
}

static void count_ckpt(lua_State *L, int entries, int graph, ckpt_counts *c) {
  size_t i;
  memset(c, 0, sizeof *c);
  c->entries = entries ? (size_t)lua_rawlen(L, entries) : 0;
  for (i = 0; i < c->entries; i++) {
    c->strings += list_len(L, item(L, entries, i, "entry"), "strings", "an entry's strings");
    lua_pop(L, 1);
  }
  c->nodes = graph ? (size_t)lua_rawlen(L, graph) : 0;
  for (i = 0; i < c->nodes; i++) {
    int n = item(L, graph, i, "graph node");
    c->children += list_len(L, n, "children", "a node's children");
    c->attributes += list_len(L, n, "attributes", "a node's attributes");
    c->slots += list_len(L, n, "slot_variables", "a node's slot_variables");
    lua_pop(L, 1);
  }
}

/* Fills entry i from the table at `t`; strings go to *strs / *lens (advanced). */
static void fill_entry(lua_State *L, int t, size_t i, wk_ckpt_entry *e, const char ***strs, size_t **lens,
                       const char *const *strs_end) {
  int list;
  char what[64];
  snprintf(what, sizeof what, "entry %d", (int)i + 1);
  memset(e, 0, sizeof *e);
  e->key = req_string(L, t, "key", what);
  rawfield(L, t, "tensor");
  if (!lua_isnil(L, -1)) {
    e->tensor = wk_lua_totensor(L, -1);
    if (e->tensor == NULL)
      lwk_error(L, "weightkit.save_tf_checkpoint: key \"%s\": tensor must be an open tensor", e->key);
  }
  lua_pop(L, 1);
  list = opt_list(L, t, "strings", "save_tf_checkpoint", "an entry's strings");
  if (list) {
    size_t k, n = (size_t)lua_rawlen(L, list);
    if (*strs + n > strs_end) lwk_error(L, "weightkit.save_tf_checkpoint: the spec changed while it was read");
    for (k = 0; k < n; k++) {
      if (lua_rawgeti(L, list, (lua_Integer)k + 1) != LUA_TSTRING)
        lwk_error(L, "weightkit.save_tf_checkpoint: key \"%s\": string %d must be a string", e->key, (int)k + 1);
      (*strs)[k] = lua_tolstring(L, -1, &(*lens)[k]); /* anchored in the list */
      lua_pop(L, 1);
    }
    e->strings = *strs;
    e->string_lengths = *lens;
    e->string_count = n;
    e->string_rank = int32_field(L, t, "rank", 1, e->key);
    *strs += n;
    *lens += n;
    lua_pop(L, 1);
  } else if (e->tensor == NULL) {
    lwk_error(L, "weightkit.save_tf_checkpoint: key \"%s\": no tensor and no strings", e->key);
  }
}

/* The list t[key] (pushed; *n its length, 0 and nothing pushed when absent), checked against the
** room left in its array (`used` of `total` items taken). */
static int node_list(lua_State *L, int t, const char *key, size_t used, size_t total, size_t *n) {
  int list = opt_list(L, t, key, "save_tf_checkpoint", key);
  *n = list ? (size_t)lua_rawlen(L, list) : 0;
  if (*n > total - used) lwk_error(L, "weightkit.save_tf_checkpoint: the graph changed while it was read");
  return list;
}

/* Where the next node's children, attributes and slot variables go in the userdata's arrays. */
typedef struct graph_cursor {
  wk_ckpt_child *ch;
  wk_ckpt_attribute *at;
  wk_ckpt_slot *sl;
  size_t ch_used, at_used, sl_used;
} graph_cursor;

/* Fills node i from the table at `t`, taking its lists' room from `cur` (advanced). */
static void fill_node(lua_State *L, int t, size_t i, wk_ckpt_node *node, graph_cursor *cur, const ckpt_counts *c) {
  char what[64];
  size_t k, n;
  int list;
  memset(node, 0, sizeof *node);
  if ((list = node_list(L, t, "children", cur->ch_used, c->children, &n)) != 0) {
    wk_ckpt_child *ch = cur->ch + cur->ch_used;
    for (k = 0; k < n; k++) {
      int r = item(L, list, k, "child");
      snprintf(what, sizeof what, "graph node %d: child %d", (int)i + 1, (int)k + 1);
      ch[k].node_id = int32_field(L, r, "node_id", -1, what);
      ch[k].local_name = req_string(L, r, "local_name", what);
      lua_pop(L, 1);
    }
    node->children = ch, node->child_count = n, cur->ch_used += n;
    lua_pop(L, 1);
  }
  if ((list = node_list(L, t, "attributes", cur->at_used, c->attributes, &n)) != 0) {
    wk_ckpt_attribute *at = cur->at + cur->at_used;
    for (k = 0; k < n; k++) {
      int r = item(L, list, k, "attribute");
      snprintf(what, sizeof what, "graph node %d: attribute %d", (int)i + 1, (int)k + 1);
      at[k].name = req_string(L, r, "name", what);
      at[k].full_name = opt_string(L, r, "full_name", "save_tf_checkpoint", "full_name");
      at[k].checkpoint_key = req_string(L, r, "checkpoint_key", what);
      rawfield(L, r, "optional_restore");
      at[k].optional_restore = lua_toboolean(L, -1);
      lua_pop(L, 2);
    }
    node->attributes = at, node->attribute_count = n, cur->at_used += n;
    lua_pop(L, 1);
  }
  if ((list = node_list(L, t, "slot_variables", cur->sl_used, c->slots, &n)) != 0) {
    wk_ckpt_slot *sl = cur->sl + cur->sl_used;
    for (k = 0; k < n; k++) {
      int r = item(L, list, k, "slot variable");
      snprintf(what, sizeof what, "graph node %d: slot variable %d", (int)i + 1, (int)k + 1);
      sl[k].original_variable_node_id = int32_field(L, r, "original_variable_node_id", -1, what);
      sl[k].slot_name = req_string(L, r, "slot_name", what);
      sl[k].slot_variable_node_id = int32_field(L, r, "slot_variable_node_id", -1, what);
      lua_pop(L, 1);
    }
    node->slots = sl, node->slot_count = n, cur->sl_used += n;
    lua_pop(L, 1);
  }
}

/* *bytes += n * size; raises when that overflows. */
static void grow(lua_State *L, size_t *bytes, size_t n, size_t size) {
  if (n > ((size_t)-1) / 8 / size || *bytes > ((size_t)-1) / 2 - n * size)
    lwk_error(L, "weightkit.save_tf_checkpoint: the spec is too large");
  *bytes += n * size;
}

static int l_save_tf_checkpoint(lua_State *L) {
  const char *prefix = luaL_checkstring(L, 1);
  int entries_idx, graph_idx, overwrite;
  ckpt_counts c;
  size_t i, bytes = 0;
  wk_ckpt_entry *entries;
  wk_ckpt_node *nodes;
  graph_cursor cur;
  const char **strs, **strs0;
  size_t *lens;
  wk_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  rawfield(L, 2, "overwrite");
  overwrite = lua_toboolean(L, -1);
  lua_pop(L, 1);
  entries_idx = opt_list(L, 2, "entries", "save_tf_checkpoint", "spec.entries");
  graph_idx = opt_list(L, 2, "graph", "save_tf_checkpoint", "spec.graph");
  count_ckpt(L, entries_idx, graph_idx, &c);
  /* One userdata: every element size is a multiple of the pointer size (structs of pointers,
  ** pointers, size_t), so each array starts aligned. */
  grow(L, &bytes, c.entries, sizeof *entries);
  grow(L, &bytes, c.nodes, sizeof *nodes);
  grow(L, &bytes, c.children, sizeof *cur.ch);
  grow(L, &bytes, c.attributes, sizeof *cur.at);
  grow(L, &bytes, c.slots, sizeof *cur.sl);
  grow(L, &bytes, c.strings, sizeof *strs);
  grow(L, &bytes, c.strings, sizeof *lens);
  entries = (wk_ckpt_entry *)lua_newuserdatauv(L, bytes ? bytes : 1, 0);
  nodes = (wk_ckpt_node *)(void *)(entries + c.entries);
  cur.ch = (wk_ckpt_child *)(void *)(nodes + c.nodes);
  cur.at = (wk_ckpt_attribute *)(void *)(cur.ch + c.children);
  cur.sl = (wk_ckpt_slot *)(void *)(cur.at + c.attributes);
  cur.ch_used = cur.at_used = cur.sl_used = 0;
  strs = strs0 = (const char **)(void *)(cur.sl + c.slots);
  lens = (size_t *)(void *)(strs0 + c.strings);
  for (i = 0; i < c.entries; i++) {
    fill_entry(L, item(L, entries_idx, i, "entry"), i, &entries[i], &strs, &lens, strs0 + c.strings);
    lua_pop(L, 1);
  }
  for (i = 0; i < c.nodes; i++) {
    fill_node(L, item(L, graph_idx, i, "graph node"), i, &nodes[i], &cur, &c);
    lua_pop(L, 1);
  }
  if (wk_write_tf_checkpoint(prefix, c.entries ? entries : NULL, c.entries, c.nodes ? nodes : NULL, c.nodes,
                             overwrite, &err) != WK_OK)
    return push_failure(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* }==================================================================== */

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
  luaL_newmetatable(L, LWK_IMAGE);
  lua_pushcfunction(L, image_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_save_keras2);
  lua_setfield(L, module, "save_keras2");
  lua_pushcfunction(L, l_save_keras3);
  lua_setfield(L, module, "save_keras3");
  lua_pushcfunction(L, l_keras3_image);
  lua_setfield(L, module, "keras3_image");
  lua_pushcfunction(L, l_save_tf_checkpoint);
  lua_setfield(L, module, "save_tf_checkpoint");
  lua_pushcfunction(L, l_path_kind);
  lua_setfield(L, module, "path_kind");
  lua_pushcfunction(L, l_isatty);
  lua_setfield(L, module, "isatty");
}
