/*
** lwk_tensor_new.c — tensor constructors for Lua: wk.tensor (nested tables, numbers, booleans,
** tensors), wk.zeros / ones / full, wk.from_bytes, wk.is_tensor and the wk.dtypes list.
**
** NESTED TABLES
**   The shape follows the first element at every level (t[1], t[1][1], ...). A checking pass
**   then visits every value (rectangular, rank <= WK_MAX_RANK, numbers and booleans only; errors
**   name the position, "wk.tensor: ragged nested table at [2]") and decides the default dtype
**   (float32, or bool when every value is a boolean); a second pass writes the values into a
**   tensor already owned by its userdata, so a conversion error there leaks nothing.
*/
#include <stdlib.h>
#include <string.h>

#include "lwk.h"

/* {====================================================================
** Nested tables -> tensors
** ===================================================================== */

typedef struct nest {
  const char *who;
  int rank;
  int64_t shape[WK_MAX_RANK];
  lua_Integer path[WK_MAX_RANK]; /* 1-based position of the value being visited */
  int has_number, has_bool;
  wk_tensor *t; /* NULL during the checking pass */
  int64_t flat;
} nest;

static const char *path_string(lua_State *L, const nest *n, int depth) {
  luaL_Buffer b;
  int i;
  luaL_buffinit(L, &b);
  for (i = 0; i < depth; i++) {
    lua_pushfstring(L, "[%I]", n->path[i]);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* Visits the value at the top of the stack, at `depth`; pops it. */
static void nest_visit(lua_State *L, nest *n, int depth) {
  int type = lua_type(L, -1);
  if (depth == n->rank) {
    if (type == LUA_TNUMBER) n->has_number = 1;
    else if (type == LUA_TBOOLEAN) n->has_bool = 1;
    else if (type == LUA_TTABLE)
      lwk_error(L, "%s: ragged nested table at %s", n->who, path_string(L, n, depth));
    else
      lwk_error(L, "%s: expected a number or boolean at %s, got %s", n->who,
                 path_string(L, n, depth), luaL_typename(L, -1));
    if (n->t != NULL) {
      wk_error err;
      int st = 0;
      if (type == LUA_TBOOLEAN) st = wk_tensor_set_i64(n->t, n->flat, lua_toboolean(L, -1), &err);
      else if (lua_isinteger(L, -1)) st = wk_tensor_set_i64(n->t, n->flat, (int64_t)lua_tointeger(L, -1), &err);
      else st = wk_tensor_set_f64(n->t, n->flat, (double)lua_tonumber(L, -1), &err);
      if (st != WK_OK)
        lwk_error(L, "%s: %s at %s", n->who, err.message, path_string(L, n, depth));
      n->flat++;
    }
  } else {
    lua_Integer i, len;
    if (type != LUA_TTABLE || (int64_t)lua_rawlen(L, -1) != n->shape[depth])
      lwk_error(L, "%s: ragged nested table at %s", n->who, path_string(L, n, depth));
    len = (lua_Integer)n->shape[depth];
    for (i = 1; i <= len; i++) {
      n->path[depth] = i;
      lua_rawgeti(L, -1, i);
      nest_visit(L, n, depth + 1);
    }
  }
  lua_pop(L, 1);
}

wk_tensor *lwk_tensor_from_value(lua_State *L, int arg, int dtype, const char *who) {
  nest n;
  wk_error err;
  wk_tensor **slot;
  wk_tensor *src;
  arg = lua_absindex(L, arg);
  if ((src = lwk_test_tensor(L, arg)) != NULL) { /* a tensor: a copy, cast when asked */
    slot = lwk_newtensor(L);
    if (dtype < 0) lwk_check(L, wk_tensor_copy(src, slot, &err), &err);
    else lwk_check(L, wk_tensor_cast(src, (wk_dtype)dtype, slot, &err), &err);
    return *slot;
  }
  memset(&n, 0, sizeof n);
  n.who = who;
  luaL_checkstack(L, 2 * WK_MAX_RANK + 10, "nested table too deep");
  if (lua_type(L, arg) == LUA_TTABLE) { /* the shape follows the first elements */
    lua_pushvalue(L, arg);
    while (lua_type(L, -1) == LUA_TTABLE) {
      lua_Unsigned len = lua_rawlen(L, -1);
      if (n.rank == WK_MAX_RANK)
        lwk_error(L, "%s: nested table deeper than %d levels", who, WK_MAX_RANK);
      n.shape[n.rank++] = (int64_t)len;
      if (len == 0) break;
      lua_rawgeti(L, -1, 1);
      lua_remove(L, -2);
    }
    lua_pop(L, 1);
  } else if (lua_type(L, arg) != LUA_TNUMBER && lua_type(L, arg) != LUA_TBOOLEAN) {
    luaL_typeerror(L, arg, "nested table, number, boolean or tensor");
  }
  lua_pushvalue(L, arg);
  nest_visit(L, &n, 0); /* checking pass: raises on ragged or non-numeric values */
  if (dtype < 0) dtype = (n.has_bool && !n.has_number) ? WK_BOOL : WK_FLOAT32;
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_new((wk_dtype)dtype, n.rank, n.shape, slot, &err), &err);
  n.t = *slot;
  lua_pushvalue(L, arg);
  nest_visit(L, &n, 0); /* writing pass */
  return *slot;
}

/* }==================================================================== */

/* {====================================================================
** Module functions
** ===================================================================== */

static int l_tensor(lua_State *L) {
  int dtype = lua_isnoneornil(L, 2) ? -1 : (int)lwk_check_dtype(L, 2, -1);
  lwk_tensor_from_value(L, 1, dtype, "wk.tensor");
  return 1;
}

static int new_filled(lua_State *L, int value_arg, int dtype_arg, int def) {
  int64_t shape[WK_MAX_RANK];
  wk_error err;
  int rank = lwk_check_shape(L, 1, shape, 0, 0);
  wk_dtype dt = lwk_check_dtype(L, dtype_arg, def);
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_new(dt, rank, shape, slot, &err), &err);
  if (value_arg > 0) lwk_fill_value(L, *slot, value_arg);
  return 1;
}

static int l_zeros(lua_State *L) { return new_filled(L, 0, 2, WK_FLOAT32); }

static int l_ones(lua_State *L) {
  lua_settop(L, 2);
  lua_pushinteger(L, 1);
  return new_filled(L, 3, 2, WK_FLOAT32);
}

static int l_full(lua_State *L) {
  luaL_checkany(L, 2);
  return new_filled(L, 2, 3, lua_type(L, 2) == LUA_TBOOLEAN ? WK_BOOL : WK_FLOAT32);
}

/* wk.from_bytes(bytes, dtype, shape [, {readonly = true}]): an owned copy, or (readonly) a
** read-only external tensor over a private malloc'd copy, freed by the core's release callback. */
static int l_from_bytes(lua_State *L) {
  size_t nbytes;
  const char *bytes = luaL_checklstring(L, 1, &nbytes);
  wk_dtype dt = lwk_check_dtype(L, 2, -1);
  int64_t shape[WK_MAX_RANK];
  int rank = lwk_check_shape(L, 3, shape, 0, 0);
  int readonly = 0;
  wk_error err;
  wk_tensor **slot;
  if (lua_type(L, 4) == LUA_TTABLE) {
    lua_getfield(L, 4, "readonly");
    readonly = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 4)) {
    luaL_typeerror(L, 4, "options table");
  }
  slot = lwk_newtensor(L);
  if (!readonly) {
    lwk_check(L, wk_tensor_from_bytes(dt, rank, shape, bytes, nbytes, slot, &err), &err);
  } else {
    void *copy = malloc(nbytes ? nbytes : 1);
    wk_status st;
    if (copy == NULL) return lwk_error(L, "weightkit: out of memory");
    memcpy(copy, bytes, nbytes);
    st = wk_tensor_wrap(dt, rank, shape, copy, nbytes, free, copy, slot, &err);
    if (st != WK_OK) {
      free(copy); /* the core did not take it */
      return lwk_raise(L, &err);
    }
  }
  return 1;
}

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, LWK_TENSOR) != NULL);
  return 1;
}

/* }==================================================================== */

static const luaL_Reg module_functions[] = {
  {"tensor", l_tensor}, {"zeros", l_zeros}, {"ones", l_ones}, {"full", l_full},
  {"from_bytes", l_from_bytes}, {"is_tensor", l_is_tensor},
  {NULL, NULL}
};

void lwk_open_tensor_new(lua_State *L, int module) {
  int k;
  lua_pushvalue(L, module);
  luaL_setfuncs(L, module_functions, 0);
  lua_createtable(L, WK_DTYPE_COUNT, 0);
  for (k = 0; k < WK_DTYPE_COUNT; k++) {
    lua_pushstring(L, wk_dtype_name((wk_dtype)k));
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "dtypes");
  lua_pop(L, 1);
}
