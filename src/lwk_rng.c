/*
** lwk_rng.c — the `weightkit.Rng` userdata: a wk_rng (xoshiro256**) held by value, so it owns
** no heap memory and needs no __gc. wk.rng(seed) takes an integer seed; the same seed gives the
** same stream on every platform.
*/
#include "lwk.h"

wk_rng *lwk_check_rng(lua_State *L, int arg) {
  return (wk_rng *)luaL_checkudata(L, arg, LWK_RNG);
}

/* wk.rng(seed) */
static int l_rng(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  wk_rng *rng = (wk_rng *)lua_newuserdatauv(L, sizeof(wk_rng), 0);
  wk_rng_seed(rng, (uint64_t)seed);
  luaL_setmetatable(L, LWK_RNG);
  return 1;
}

/* rng:next() -> the next 64 random bits as a Lua integer (wrapping past math.maxinteger). */
static int r_next(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)wk_rng_next(lwk_check_rng(L, 1)));
  return 1;
}

/* rng:uniform() -> a float in [0, 1). */
static int r_uniform(lua_State *L) {
  lua_pushnumber(L, (lua_Number)wk_rng_uniform(lwk_check_rng(L, 1)));
  return 1;
}

/* rng:clone() -> an independent generator in the same state. */
static int r_clone(lua_State *L) {
  wk_rng *rng = lwk_check_rng(L, 1);
  wk_rng *copy = (wk_rng *)lua_newuserdatauv(L, sizeof(wk_rng), 0);
  *copy = *rng;
  luaL_setmetatable(L, LWK_RNG);
  return 1;
}

static int r_tostring(lua_State *L) {
  lua_pushfstring(L, "weightkit.Rng (%p)", lua_topointer(L, 1));
  return 1;
}

static const luaL_Reg rng_methods[] = {
  {"next", r_next}, {"uniform", r_uniform}, {"clone", r_clone},
  {NULL, NULL}
};

void lwk_open_rng(lua_State *L) {
  lua_pushcfunction(L, l_rng);
  lua_setfield(L, -2, "rng");
  luaL_newmetatable(L, LWK_RNG);
  luaL_newlibtable(L, rng_methods);
  luaL_setfuncs(L, rng_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, r_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}
