/*
** lwk_tensor.c — the `weightkit.Tensor` userdata: plumbing, lifetime, metadata, element access,
** shape operations and in-place writes. Constructors (wk.tensor from nested tables, zeros, ...)
** are in lwk_tensor_new.c; arithmetic, activations, reductions and initializers in
** lwk_tensor_ops.c.
**
** Indices and axes are 1-based at the Lua boundary and 0-based in the core; negative values count
** from the end (-1 is the last), like string.sub. Conversion happens here and nowhere else.
*/
#include <stdarg.h>
#include <string.h>

#include "lwk.h"

/* {====================================================================
** Userdata plumbing
** ===================================================================== */

wk_tensor **lwk_newtensor(lua_State *L) {
  lwk_Tensor *u = (lwk_Tensor *)lua_newuserdatauv(L, sizeof(lwk_Tensor), 0);
  u->t = NULL; /* closed until the caller fills the slot */
  luaL_setmetatable(L, LWK_TENSOR);
  return &u->t;
}

void lwk_push_tensor(lua_State *L, wk_tensor *t) {
  wk_tensor **slot = lwk_newtensor(L);
  wk_tensor_retain(t); /* after the allocation: nothing to undo if it raised */
  *slot = t;
}

wk_tensor *lwk_check_tensor(lua_State *L, int arg) {
  lwk_Tensor *u = (lwk_Tensor *)luaL_checkudata(L, arg, LWK_TENSOR);
  if (u->t == NULL) lwk_error(L, "attempt to use a closed tensor");
  return u->t;
}

wk_tensor *lwk_test_tensor(lua_State *L, int arg) {
  lwk_Tensor *u = (lwk_Tensor *)luaL_testudata(L, arg, LWK_TENSOR);
  if (u == NULL) return NULL;
  if (u->t == NULL) lwk_error(L, "attempt to use a closed tensor");
  return u->t;
}

WK_API wk_tensor *wk_lua_totensor(lua_State *L, int index) {
  lwk_Tensor *u = (lwk_Tensor *)luaL_testudata(L, index, LWK_TENSOR);
  return u != NULL ? u->t : NULL;
}

int lwk_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

int lwk_raise(lua_State *L, const wk_error *err) {
  const char *msg = err->message;
  if (msg[0] == '\0') msg = wk_status_string(err->code);
  if (strncmp(msg, "weightkit", 9) == 0) return lwk_error(L, "%s", msg);
  return lwk_error(L, "weightkit: %s", msg);
}

const char *lwk_status_code(wk_status st) {
  switch (st) {
    case WK_OK: return "OK";
    case WK_ENOMEM: return "ENOMEM";
    case WK_EINVAL: return "EINVAL";
    case WK_ESHAPE: return "ESHAPE";
    case WK_EDTYPE: return "EDTYPE";
    case WK_ELIMIT: return "ELIMIT";
    case WK_EIO: return "EIO";
    case WK_EFORMAT: return "EFORMAT";
  }
  return "EUNKNOWN";
}

wk_dtype lwk_check_dtype(lua_State *L, int arg, int def) {
  const char *name;
  wk_dtype dt;
  if (def >= 0 && lua_isnoneornil(L, arg)) return (wk_dtype)def;
  name = luaL_checkstring(L, arg);
  if (!wk_dtype_from_name(name, &dt)) lwk_error(L, "weightkit: unknown dtype '%s'", name);
  return dt;
}

static int64_t check_dim(lua_State *L, int arg, int allow_infer) {
  int isint;
  lua_Integer d = lua_tointegerx(L, -1, &isint);
  if (!isint) luaL_argerror(L, arg, "shape dims must be integers");
  if (d < 0 && !(allow_infer && d == -1)) luaL_argerror(L, arg, "shape dims must be >= 0");
  lua_pop(L, 1);
  return (int64_t)d;
}

int lwk_check_shape(lua_State *L, int arg, int64_t *shape, int varargs, int allow_infer) {
  int rank, i;
  if (lua_type(L, arg) == LUA_TTABLE) {
    lua_Unsigned n = lua_rawlen(L, arg);
    if (n > WK_MAX_RANK) lwk_error(L, "weightkit: rank %d exceeds the maximum %d", (int)n, WK_MAX_RANK);
    rank = (int)n;
    for (i = 0; i < rank; i++) {
      lua_rawgeti(L, arg, i + 1);
      shape[i] = check_dim(L, arg, allow_infer);
    }
    return rank;
  }
  if (lua_type(L, arg) != LUA_TNUMBER) luaL_typeerror(L, arg, "shape table");
  rank = varargs ? lua_gettop(L) - arg + 1 : 1;
  if (rank > WK_MAX_RANK) lwk_error(L, "weightkit: rank %d exceeds the maximum %d", rank, WK_MAX_RANK);
  for (i = 0; i < rank; i++) {
    lua_pushvalue(L, arg + i);
    shape[i] = check_dim(L, arg + i, allow_infer);
  }
  return rank;
}

int lwk_check_axis(lua_State *L, int arg, int rank, int def) {
  lua_Integer a = def != 0 ? luaL_optinteger(L, arg, def) : luaL_checkinteger(L, arg);
  lua_Integer a0 = a < 0 ? a + rank : a - 1;
  if (a == 0 || a0 < 0 || a0 >= rank)
    lwk_error(L, "weightkit: axis %d out of range for a tensor of rank %d", (int)a, rank);
  return (int)a0;
}

/* A 1-based index (negative from the end) into a dim of size n, returned 0-based. */
static int64_t check_index(lua_State *L, lua_Integer i, int64_t n, int axis) {
  lua_Integer i0 = i < 0 ? i + n : i - 1;
  if (i == 0 || i0 < 0 || i0 >= n)
    lwk_error(L, "weightkit: index %d out of range for axis %d with size %d", (int)i, axis + 1, (int)n);
  return (int64_t)i0;
}

/* }==================================================================== */

/* {====================================================================
** Elements
** ===================================================================== */

void lwk_push_element(lua_State *L, const wk_tensor *t, int64_t index) {
  wk_error err;
  wk_dtype dt = wk_tensor_dtype(t);
  if (wk_dtype_is_float(dt)) {
    double v;
    lwk_check(L, wk_tensor_get_f64(t, index, &v, &err), &err);
    lua_pushnumber(L, (lua_Number)v);
  } else {
    int64_t v;
    if (wk_tensor_get_i64(t, index, &v, &err) != WK_OK) {
      double d; /* uint64 past INT64_MAX: the nearest float */
      lwk_check(L, wk_tensor_get_f64(t, index, &d, &err), &err);
      lua_pushnumber(L, (lua_Number)d);
    } else if (dt == WK_BOOL) {
      lua_pushboolean(L, v != 0);
    } else {
      lua_pushinteger(L, (lua_Integer)v);
    }
  }
}

void lwk_set_element(lua_State *L, wk_tensor *t, int64_t index, int arg) {
  wk_error err;
  wk_status st;
  switch (lua_type(L, arg)) {
    case LUA_TBOOLEAN:
      st = wk_tensor_set_i64(t, index, lua_toboolean(L, arg), &err);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, arg)) st = wk_tensor_set_i64(t, index, (int64_t)lua_tointeger(L, arg), &err);
      else st = wk_tensor_set_f64(t, index, (double)lua_tonumber(L, arg), &err);
      break;
    default:
      return (void)lwk_error(L, "weightkit: expected a number or boolean, got %s", luaL_typename(L, arg));
  }
  lwk_check(L, st, &err);
}

void lwk_fill_value(lua_State *L, wk_tensor *t, int arg) {
  wk_error err;
  int type = lua_type(L, arg);
  if (type == LUA_TNUMBER && lua_isinteger(L, arg) && !wk_dtype_is_float(wk_tensor_dtype(t))) {
    int64_t i, n = wk_tensor_numel(t);
    for (i = 0; i < n; i++) lwk_set_element(L, t, i, arg);
  } else if (type == LUA_TNUMBER || type == LUA_TBOOLEAN) {
    double v = type == LUA_TBOOLEAN ? (double)lua_toboolean(L, arg) : (double)lua_tonumber(L, arg);
    lwk_check(L, wk_tensor_fill(t, v, &err), &err);
  } else {
    lwk_error(L, "weightkit: expected a number or boolean, got %s", luaL_typename(L, arg));
  }
}

/* Writes the value at `arg` (number, boolean, tensor or nested table) into all of `dst`. */
static void assign_value(lua_State *L, wk_tensor *dst, int arg) {
  wk_error err;
  wk_tensor *src;
  switch (lua_type(L, arg)) {
    case LUA_TNUMBER: case LUA_TBOOLEAN:
      lwk_fill_value(L, dst, arg);
      return;
    case LUA_TTABLE:
      src = lwk_tensor_from_value(L, arg, (int)wk_tensor_dtype(dst), "weightkit");
      lwk_check(L, wk_tensor_assign(dst, src, &err), &err);
      lua_pop(L, 1);
      return;
    default:
      src = lwk_check_tensor(L, arg);
      lwk_check(L, wk_tensor_assign(dst, src, &err), &err);
  }
}

/* }==================================================================== */


/* {====================================================================
** Methods: lifetime and metadata
** ===================================================================== */

static int t_close(lua_State *L) {
  lwk_Tensor *u = (lwk_Tensor *)luaL_checkudata(L, 1, LWK_TENSOR);
  wk_tensor *t = u->t;
  u->t = NULL; /* closed before the release: idempotent for __gc, __close and close */
  wk_tensor_release(t);
  return 0;
}

static int t_is_closed(lua_State *L) {
  lwk_Tensor *u = (lwk_Tensor *)luaL_checkudata(L, 1, LWK_TENSOR);
  lua_pushboolean(L, u->t == NULL);
  return 1;
}

static int t_shape(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int i, rank = wk_tensor_rank(t);
  const int64_t *shape = wk_tensor_shape(t);
  lua_createtable(L, rank, 0);
  for (i = 0; i < rank; i++) {
    lua_pushinteger(L, (lua_Integer)shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int t_dtype(lua_State *L) {
  lua_pushstring(L, wk_dtype_name(wk_tensor_dtype(lwk_check_tensor(L, 1))));
  return 1;
}

static int t_numel(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wk_tensor_numel(lwk_check_tensor(L, 1)));
  return 1;
}

static int t_rank(lua_State *L) {
  lua_pushinteger(L, wk_tensor_rank(lwk_check_tensor(L, 1)));
  return 1;
}

static int t_len(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: length of a 0-d tensor");
  lua_pushinteger(L, (lua_Integer)wk_tensor_shape(t)[0]);
  return 1;
}

static int t_storage(lua_State *L) {
  static const char *const names[] = {"owned", "external", "view"};
  wk_storage_kind k = wk_tensor_storage_kind(lwk_check_tensor(L, 1));
  lua_pushstring(L, (unsigned)k < 3 ? names[k] : "unknown");
  return 1;
}

static int t_is_readonly(lua_State *L) {
  lua_pushboolean(L, wk_tensor_is_readonly(lwk_check_tensor(L, 1)));
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Methods: element access
** ===================================================================== */

/* __index: method names go to the methods table (upvalue 1), integers index the first axis. */
static int t_index(lua_State *L) {
  wk_tensor *t;
  int isint;
  lua_Integer i;
  int64_t i0;
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
  }
  if (lua_type(L, 2) != LUA_TNUMBER) return 0;
  t = lwk_check_tensor(L, 1);
  i = lua_tointegerx(L, 2, &isint);
  if (!isint) return lwk_error(L, "weightkit: tensor index must be an integer");
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: cannot index a 0-d tensor");
  i0 = check_index(L, i, wk_tensor_shape(t)[0], 0);
  if (wk_tensor_rank(t) == 1) {
    lwk_push_element(L, t, i0);
  } else {
    wk_error err;
    wk_tensor **slot = lwk_newtensor(L);
    lwk_check(L, wk_tensor_select(t, i0, slot, &err), &err);
  }
  return 1;
}

/* __newindex: t[i] = number | boolean | tensor | nested table. */
static int t_newindex(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_error err;
  void *data;
  wk_tensor **slot;
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  int64_t i0;
  if (!isint) return lwk_error(L, "weightkit: tensor index must be an integer");
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: cannot index a 0-d tensor");
  i0 = check_index(L, i, wk_tensor_shape(t)[0], 0);
  if (wk_tensor_rank(t) == 1 && lua_type(L, 3) != LUA_TTABLE && lwk_test_tensor(L, 3) == NULL) {
    lwk_set_element(L, t, i0, 3);
    return 0;
  }
  /* Unshare read-only storage first, so that the row view writes into t's own copy. */
  lwk_check(L, wk_tensor_mutable_data(t, &data, &err), &err);
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_select(t, i0, slot, &err), &err);
  assign_value(L, *slot, 3);
  return 0;
}

static int64_t multi_index(lua_State *L, wk_tensor *t, int first, int count) {
  int k, rank = wk_tensor_rank(t);
  const int64_t *shape = wk_tensor_shape(t);
  int64_t flat = 0;
  if (count != rank)
    lwk_error(L, "weightkit: expected %d indices for a tensor of rank %d, got %d", rank, rank, count);
  for (k = 0; k < rank; k++)
    flat = flat * shape[k] + check_index(L, luaL_checkinteger(L, first + k), shape[k], k);
  return flat;
}

static int t_get(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  lwk_push_element(L, t, multi_index(L, t, 2, lua_gettop(L) - 1));
  return 1;
}

static int t_set(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int top = lua_gettop(L);
  if (top < 2) return lwk_error(L, "weightkit: set needs a value");
  lwk_set_element(L, t, multi_index(L, t, 2, top - 2), top);
  return 0;
}

static int t_item(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  if (wk_tensor_numel(t) != 1)
    return lwk_error(L, "weightkit: item() needs a tensor of one element, got %d",
                      (int)wk_tensor_numel(t));
  lwk_push_element(L, t, 0);
  return 1;
}

static void push_nested(lua_State *L, const wk_tensor *t, int depth, int64_t *flat) {
  int64_t i, n;
  if (depth == wk_tensor_rank(t)) {
    lwk_push_element(L, t, (*flat)++);
    return;
  }
  n = wk_tensor_shape(t)[depth];
  lua_createtable(L, n > 1 << 20 ? 1 << 20 : (int)n, 0);
  for (i = 0; i < n; i++) {
    push_nested(L, t, depth + 1, flat);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int t_totable(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int64_t flat = 0;
  luaL_checkstack(L, WK_MAX_RANK + 5, NULL);
  push_nested(L, t, 0, &flat);
  return 1;
}

static int t_tobytes(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  size_t n = wk_tensor_nbytes(t);
  const void *data = wk_tensor_data(t);
  lua_pushlstring(L, n ? (const char *)data : "", n);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Methods: copies, views, shape operations, in-place writes
** ===================================================================== */

static int t_clone(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_copy(t, slot, &err), &err);
  return 1;
}

static int t_astype(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_dtype dt = lwk_check_dtype(L, 2, -1);
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_cast(t, dt, slot, &err), &err);
  return 1;
}

static int t_reshape(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int64_t shape[WK_MAX_RANK];
  int rank = lwk_check_shape(L, 2, shape, 1, 1);
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_reshape(t, rank, shape, slot, &err), &err);
  return 1;
}

/* Reads a permutation of 1-based axes (table or varargs from `arg`) into 0-based `axes`. */
static void check_axes(lua_State *L, int arg, int rank, int *axes) {
  int k, n, seen[WK_MAX_RANK] = {0};
  int is_table = lua_type(L, arg) == LUA_TTABLE;
  n = is_table ? (int)lua_rawlen(L, arg) : lua_gettop(L) - arg + 1;
  if (n != rank)
    lwk_error(L, "weightkit: axes must list %d axes for a tensor of rank %d, got %d", rank, rank, n);
  for (k = 0; k < n; k++) {
    if (is_table) lua_rawgeti(L, arg, k + 1);
    else lua_pushvalue(L, arg + k);
    axes[k] = lwk_check_axis(L, lua_gettop(L), rank, 0);
    lua_pop(L, 1);
    if (seen[axes[k]]++) lwk_error(L, "weightkit: repeated axis %d in permutation", axes[k] + 1);
  }
}

static int permute_with(lua_State *L, wk_tensor *t, const int *axes) {
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_permute(t, axes, slot, &err), &err);
  return 1;
}

static int t_permute(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int axes[WK_MAX_RANK];
  check_axes(L, 2, wk_tensor_rank(t), axes);
  return permute_with(L, t, axes);
}

static int t_transpose(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int k, axes[WK_MAX_RANK], rank = wk_tensor_rank(t);
  if (lua_isnoneornil(L, 2)) {
    for (k = 0; k < rank; k++) axes[k] = rank - 1 - k;
  } else {
    check_axes(L, 2, rank, axes);
  }
  return permute_with(L, t, axes);
}

/* t:slice(axis, i [, j]): elements i..j inclusive (1-based, negative from the end, clamped like
** string.sub; j defaults to -1). A view for axis 1, a copy otherwise. */
static int t_slice(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int axis;
  int64_t n, i, j;
  wk_error err;
  wk_tensor **slot;
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: cannot slice a 0-d tensor");
  axis = lwk_check_axis(L, 2, wk_tensor_rank(t), 0);
  n = wk_tensor_shape(t)[axis];
  i = (int64_t)luaL_checkinteger(L, 3);
  j = (int64_t)luaL_optinteger(L, 4, -1);
  if (i < 0) i = i + n + 1;
  if (i < 1) i = 1;
  if (j < 0) j = j + n + 1;
  if (j > n) j = n;
  if (i > j) { /* empty */
    if (i > n + 1) i = n + 1;
    j = i - 1;
  }
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_slice(t, axis, i - 1, j, slot, &err), &err);
  return 1;
}

static int t_fill(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  luaL_checkany(L, 2);
  lwk_fill_value(L, t, 2);
  lua_settop(L, 1);
  return 1;
}

static int t_assign(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  luaL_checkany(L, 2);
  assign_value(L, t, 2);
  lua_settop(L, 1);
  return 1;
}

/* }==================================================================== */

static const luaL_Reg tensor_methods[] = {
  {"close", t_close}, {"is_closed", t_is_closed},
  {"shape", t_shape}, {"dtype", t_dtype}, {"numel", t_numel}, {"rank", t_rank},
  {"storage", t_storage}, {"is_readonly", t_is_readonly},
  {"get", t_get}, {"set", t_set}, {"item", t_item}, {"totable", t_totable}, {"tobytes", t_tobytes},
  {"clone", t_clone}, {"astype", t_astype}, {"cast", t_astype}, {"reshape", t_reshape},
  {"permute", t_permute}, {"transpose", t_transpose}, {"slice", t_slice},
  {"fill", t_fill}, {"assign", t_assign},
  {NULL, NULL}
};

static const luaL_Reg tensor_metamethods[] = {
  {"__gc", t_close}, {"__close", t_close}, {"__len", t_len}, {"__newindex", t_newindex},
  {NULL, NULL}
};

/* Registers the metatable (weightkit.Tensor) and its methods; with the module table at the top,
** sets module.tensor_meta and module.tensor_methods (tensor.lua adds Lua methods there). */
void lwk_open_tensor(lua_State *L) {
  int module = lua_gettop(L), meta, methods;
  lwk_open_tensor_new(L, module);
  luaL_newmetatable(L, LWK_TENSOR);
  meta = lua_gettop(L);
  luaL_setfuncs(L, tensor_metamethods, 0);
  luaL_newlibtable(L, tensor_methods);
  methods = lua_gettop(L);
  luaL_setfuncs(L, tensor_methods, 0);
  lwk_open_tensor_ops(L, methods, module);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, t_index, 1);
  lua_setfield(L, meta, "__index");
  lua_setfield(L, module, "tensor_methods");
  lua_setfield(L, module, "tensor_meta");
}
