/*
** lwk_format.c — number helpers for the NumPy-style printing in lua/weightkit/tensor.lua.
**
** NumPy prints floats with the shortest digit string that reads back to the same value of the
** array's dtype (Dragon4 "unique" mode): float32 0.1 prints as 0.1, float16 1/3 as 0.3333. These
** helpers find that string by trying 1..17 significant digits; the policy (precision caps,
** columns, padding) stays in Lua.
*/
#include <stdio.h>
#include <stdlib.h>

#include "lwk.h"

/* x rounded to the dtype's precision (returned as a double). */
static double round_to(double x, wk_dtype dt) {
  switch (dt) {
    case WK_FLOAT16: return (double)wk_f16_to_f32(wk_f32_to_f16((float)x));
    case WK_BFLOAT16: return (double)wk_bf16_to_f32(wk_f32_to_bf16((float)x));
    case WK_FLOAT32: return (double)(float)x;
    default: return x;
  }
}

/* Reads a decimal string back into the dtype (float32 and the half types through strtof). */
static double read_back(const char *s, wk_dtype dt) {
  if (dt == WK_FLOAT64) return strtod(s, NULL);
  return round_to((double)strtof(s, NULL), dt);
}

/* core.shortest(x, dtype) -> "d.ddde+XX": the fewest significant digits that read back to x in
** that float dtype (x must be finite and already a value of the dtype). */
static int l_shortest(lua_State *L) {
  double x = (double)luaL_checknumber(L, 1);
  wk_dtype dt = lwk_check_dtype(L, 2, WK_FLOAT64);
  char buf[64];
  int p;
  if (!wk_dtype_is_float(dt)) dt = WK_FLOAT64;
  for (p = 0; p < 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p, x);
    if (read_back(buf, dt) == x) break;
  }
  lua_pushstring(L, buf);
  return 1;
}

/* core.round_to(x, dtype) -> x rounded to the float dtype. */
static int l_round_to(lua_State *L) {
  double x = (double)luaL_checknumber(L, 1);
  wk_dtype dt = lwk_check_dtype(L, 2, WK_FLOAT64);
  lua_pushnumber(L, (lua_Number)(wk_dtype_is_float(dt) ? round_to(x, dt) : x));
  return 1;
}

static const luaL_Reg format_functions[] = {
  {"shortest", l_shortest}, {"round_to", l_round_to},
  {NULL, NULL}
};

void lwk_open_format(lua_State *L, int module) {
  lua_pushvalue(L, module);
  luaL_setfuncs(L, format_functions, 0);
  lua_pop(L, 1);
}
