/*
** lwk_tensor_ops.c — tensor arithmetic and math for Lua: the arithmetic metamethods, maximum/
** minimum, map (activations), softmax, matmul, reductions, comparisons, concat/split and the
** random/initializer fills.
**
** SCALARS (NumPy's "weak" Python scalars, NEP 50)
**   A Lua number meeting a tensor becomes a 0-d tensor: of the tensor's dtype when the number is
**   a Lua integer or the tensor is a float tensor, else float64 (an int tensor times 0.5 is
**   float64). A bool tensor with an integer gives int64. A boolean takes the tensor's dtype.
**   An integer out of the tensor dtype's range is an error (as in NumPy 2), not a wrap.
**   A nested table becomes a tensor of the other operand's dtype.
**   `/` is true division: two integer (or bool) operands divide as float64, as in NumPy.
*/
#include <string.h>

#include "lwk.h"

/* {====================================================================
** Operands
** ===================================================================== */

/* The operand at `arg` as a tensor; a number or boolean becomes a 0-d tensor pushed on the
** stack (and so kept alive until the function returns). `like` is the other operand's dtype. */
static wk_tensor *operand(lua_State *L, int arg, wk_dtype like) {
  wk_tensor *t = lwk_test_tensor(L, arg);
  wk_tensor **slot;
  wk_error err;
  wk_dtype dt;
  if (t != NULL) return t;
  switch (lua_type(L, arg)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, arg)) dt = like == WK_BOOL ? WK_INT64 : like;
      else dt = wk_dtype_is_float(like) ? like : WK_FLOAT64;
      break;
    case LUA_TBOOLEAN:
      dt = like;
      break;
    case LUA_TTABLE: /* a nested table takes the other operand's dtype */
      return lwk_tensor_from_value(L, arg, (int)like, "weightkit");
    default:
      lwk_error(L, "weightkit: attempt to perform arithmetic on a %s value (expected a tensor or number)",
                 luaL_typename(L, arg));
      return NULL;
  }
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_new(dt, 0, NULL, slot, &err), &err);
  lwk_set_element(L, *slot, 0, arg);
  return *slot;
}

/* Both operands at 1 and 2 as tensors (at least one must be a tensor). */
static void operands(lua_State *L, wk_tensor **a, wk_tensor **b) {
  wk_tensor *ta = lwk_test_tensor(L, 1), *tb = lwk_test_tensor(L, 2);
  if (ta == NULL && tb == NULL)
    lwk_error(L, "weightkit: expected a tensor operand, got %s and %s", luaL_typename(L, 1),
               luaL_typename(L, 2));
  *a = ta != NULL ? ta : operand(L, 1, wk_tensor_dtype(tb));
  *b = tb != NULL ? tb : operand(L, 2, wk_tensor_dtype(ta));
}

static wk_tensor *as_float64(lua_State *L, wk_tensor *t) {
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_cast(t, WK_FLOAT64, slot, &err), &err);
  return *slot;
}

static int binary(lua_State *L, wk_binary_op op) {
  wk_tensor *a, *b;
  wk_tensor **slot;
  wk_error err;
  lua_settop(L, 2);
  operands(L, &a, &b);
  if (op == WK_DIV && !wk_dtype_is_float(wk_tensor_dtype(a)) && !wk_dtype_is_float(wk_tensor_dtype(b))) {
    a = as_float64(L, a);
    b = as_float64(L, b);
  }
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_binary(op, a, b, slot, &err), &err);
  return 1;
}

static int m_add(lua_State *L) { return binary(L, WK_ADD); }
static int m_sub(lua_State *L) { return binary(L, WK_SUB); }
static int m_mul(lua_State *L) { return binary(L, WK_MUL); }
static int m_div(lua_State *L) { return binary(L, WK_DIV); }
static int m_pow(lua_State *L) { return binary(L, WK_POW); }
static int m_maximum(lua_State *L) { return binary(L, WK_MAXIMUM); }
static int m_minimum(lua_State *L) { return binary(L, WK_MINIMUM); }

/* }==================================================================== */

/* {====================================================================
** Elementwise maps, softmax, matmul
** ===================================================================== */

static int unary(lua_State *L, wk_unary_op op) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_unary(op, t, slot, &err), &err);
  return 1;
}

static int m_unm(lua_State *L) { return unary(L, WK_NEG); }

static int t_map(lua_State *L) {
  static const char *const names[] = {
    "neg", "abs", "exp", "log", "sqrt", "square", "linear", "relu", "sigmoid", "tanh", "gelu",
    "elu", "selu", "softplus", "swish", NULL
  };
  static const wk_unary_op ops[] = {
    WK_NEG, WK_ABS, WK_EXP, WK_LOG, WK_SQRT, WK_SQUARE, WK_LINEAR, WK_RELU, WK_SIGMOID, WK_TANH,
    WK_GELU, WK_ELU, WK_SELU, WK_SOFTPLUS, WK_SWISH
  };
  lwk_check_tensor(L, 1);
  return unary(L, ops[luaL_checkoption(L, 2, NULL, names)]);
}

static int t_softmax(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  int axis;
  wk_error err;
  wk_tensor **slot;
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: softmax of a 0-d tensor");
  axis = lwk_check_axis(L, 2, wk_tensor_rank(t), -1);
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_softmax(t, axis, slot, &err), &err);
  return 1;
}

static int t_matmul(lua_State *L) {
  wk_tensor *a = lwk_check_tensor(L, 1), *b = lwk_check_tensor(L, 2);
  wk_error err;
  wk_tensor **slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_matmul(a, b, slot, &err), &err);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Reductions and comparisons
** ===================================================================== */

static int reduce(lua_State *L, wk_reduce_op op) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_dtype dt = wk_tensor_dtype(t);
  wk_error err;
  double v;
  lua_Integer i;
  lwk_check(L, wk_tensor_reduce(op, t, &v, &err), &err);
  if (!wk_dtype_is_float(dt) && (op == WK_SUM || op == WK_MIN || op == WK_MAX) &&
      lua_numbertointeger((lua_Number)v, &i)) {
    if (dt == WK_BOOL && op != WK_SUM) lua_pushboolean(L, i != 0); /* min/max of bools */
    else lua_pushinteger(L, i);
  } else {
    lua_pushnumber(L, (lua_Number)v);
  }
  return 1;
}

static int t_sum(lua_State *L) { return reduce(L, WK_SUM); }
static int t_min(lua_State *L) { return reduce(L, WK_MIN); }
static int t_max(lua_State *L) { return reduce(L, WK_MAX); }
static int t_mean(lua_State *L) { return reduce(L, WK_MEAN); }
static int t_std(lua_State *L) { return reduce(L, WK_STD); }
static int t_norm(lua_State *L) { return reduce(L, WK_NORM2); }

static int t_allclose(lua_State *L) {
  double rtol, atol;
  wk_tensor *a, *b;
  wk_error err;
  int result;
  lwk_check_tensor(L, 1);
  rtol = (double)luaL_optnumber(L, 3, 1e-5);
  atol = (double)luaL_optnumber(L, 4, 1e-8);
  lua_settop(L, 2);
  operands(L, &a, &b);
  lwk_check(L, wk_tensor_allclose(a, b, rtol, atol, &result, &err), &err);
  lua_pushboolean(L, result);
  return 1;
}

static int t_max_abs_diff(lua_State *L) {
  wk_tensor *a, *b;
  wk_error err;
  double v;
  lwk_check_tensor(L, 1);
  lua_settop(L, 2);
  operands(L, &a, &b);
  lwk_check(L, wk_tensor_max_abs_diff(a, b, &v, &err), &err);
  lua_pushnumber(L, (lua_Number)v);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** concat / split
** ===================================================================== */

/* wk.concat(list, axis = 1) */
static int l_concat(lua_State *L) {
  const wk_tensor **parts;
  lua_Integer i, n;
  int axis;
  wk_error err;
  wk_tensor **slot;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  n = (lua_Integer)lua_rawlen(L, 1);
  if (n < 1) return lwk_error(L, "weightkit: concat needs at least one tensor");
  if (n > 1 << 24) return lwk_error(L, "weightkit: concat of too many tensors");
  /* the pointer array lives in a userdata: nothing to free if a check below raises */
  parts = (const wk_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *parts, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    if ((parts[i] = lwk_test_tensor(L, -1)) == NULL)
      return lwk_error(L, "weightkit: concat: element %d is not a tensor", (int)(i + 1));
    lua_pop(L, 1); /* the list keeps it alive */
  }
  axis = lwk_check_axis(L, 2, wk_tensor_rank(parts[0]), 1);
  slot = lwk_newtensor(L);
  lwk_check(L, wk_tensor_concat(parts, (int)n, axis, slot, &err), &err);
  return 1;
}

/* t:split(n, axis = 1) -> list of n tensors. The n result userdata are created (closed) before
** the core runs, so a failure after the core has handed out references cannot leak them. */
static int t_split(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  lua_Integer i, n = luaL_checkinteger(L, 2);
  int axis;
  wk_tensor ***slots;
  wk_tensor **outs;
  wk_error err;
  if (wk_tensor_rank(t) == 0) return lwk_error(L, "weightkit: cannot split a 0-d tensor");
  axis = lwk_check_axis(L, 3, wk_tensor_rank(t), 1);
  if (n < 1 || (n > wk_tensor_shape(t)[axis] && n > 1))
    return lwk_error(L, "weightkit: cannot split axis %d of size %d into %d parts", axis + 1,
                      (int)wk_tensor_shape(t)[axis], (int)n);
  lua_settop(L, 3);
  lua_createtable(L, (int)n, 0);                                          /* 4: the list */
  slots = (wk_tensor ***)lua_newuserdatauv(L, (size_t)n * sizeof *slots, 0); /* 5 */
  outs = (wk_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *outs, 0);    /* 6 */
  for (i = 0; i < n; i++) {
    slots[i] = lwk_newtensor(L);
    lua_rawseti(L, 4, i + 1);
  }
  lwk_check(L, wk_tensor_split(t, axis, (int)n, outs, &err), &err);
  for (i = 0; i < n; i++) *slots[i] = outs[i]; /* no call that can raise in between */
  lua_settop(L, 4);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Random and initializer fills (in place; return the tensor)
** ===================================================================== */

/* The fills drawing from (rng, a, b) with defaults a = 0, b = 1: (low, high) for uniform, (mean, stddev)
** for normal and truncated normal. */
typedef wk_status (*rng_fill2)(wk_tensor *t, wk_rng *rng, double a, double b, wk_error *err);

static int fill_rng2(lua_State *L, rng_fill2 fill) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_rng *rng = lwk_check_rng(L, 2);
  double a = (double)luaL_optnumber(L, 3, 0.0), b = (double)luaL_optnumber(L, 4, 1.0);
  wk_error err;
  lwk_check(L, fill(t, rng, a, b, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static int t_fill_uniform(lua_State *L) { return fill_rng2(L, wk_tensor_fill_uniform); }
static int t_fill_normal(lua_State *L) { return fill_rng2(L, wk_tensor_fill_normal); }
static int t_fill_truncated_normal(lua_State *L) { return fill_rng2(L, wk_tensor_fill_truncated_normal); }

static int t_fill_orthogonal(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  wk_rng *rng = lwk_check_rng(L, 2);
  double gain = (double)luaL_optnumber(L, 3, 1.0);
  wk_error err;
  lwk_check(L, wk_tensor_fill_orthogonal(t, rng, gain, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static int t_fill_identity(lua_State *L) {
  wk_tensor *t = lwk_check_tensor(L, 1);
  double gain = (double)luaL_optnumber(L, 2, 1.0);
  wk_error err;
  lwk_check(L, wk_tensor_fill_identity(t, gain, &err), &err);
  lua_settop(L, 1);
  return 1;
}

/* }==================================================================== */

static const luaL_Reg ops_methods[] = {
  {"map", t_map}, {"softmax", t_softmax}, {"matmul", t_matmul},
  {"maximum", m_maximum}, {"minimum", m_minimum},
  {"sum", t_sum}, {"min", t_min}, {"max", t_max}, {"mean", t_mean}, {"std", t_std},
  {"norm", t_norm}, {"allclose", t_allclose}, {"max_abs_diff", t_max_abs_diff},
  {"split", t_split},
  {"fill_uniform", t_fill_uniform}, {"fill_normal", t_fill_normal},
  {"fill_truncated_normal", t_fill_truncated_normal}, {"fill_orthogonal", t_fill_orthogonal},
  {"fill_identity", t_fill_identity},
  {NULL, NULL}
};

static const luaL_Reg ops_metamethods[] = {
  {"__add", m_add}, {"__sub", m_sub}, {"__mul", m_mul}, {"__div", m_div}, {"__pow", m_pow},
  {"__unm", m_unm},
  {NULL, NULL}
};

static const luaL_Reg ops_functions[] = {
  {"concat", l_concat}, {"matmul", t_matmul}, {"maximum", m_maximum}, {"minimum", m_minimum},
  {NULL, NULL}
};

void lwk_open_tensor_ops(lua_State *L, int methods, int module) {
  lua_pushvalue(L, methods);
  luaL_setfuncs(L, ops_methods, 0);
  lua_pop(L, 1);
  luaL_getmetatable(L, LWK_TENSOR);
  luaL_setfuncs(L, ops_metamethods, 0);
  lua_pop(L, 1);
  lua_pushvalue(L, module);
  luaL_setfuncs(L, ops_functions, 0);
  lua_pop(L, 1);
}
