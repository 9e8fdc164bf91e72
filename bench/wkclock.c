/*
** wkclock.c — a monotonic wall clock for the benchmark's Lua side (Lua 5.4 has only os.clock,
** which is CPU time, and os.time, in seconds). Built by bench/run.sh into
** $BUILD/bench/wkclock.so; not part of weightkit.
**
**   local clock = require "wkclock"; clock.now() -> seconds (float, CLOCK_MONOTONIC)
*/
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

static int now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

int luaopen_wkclock(lua_State *L);
int luaopen_wkclock(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, now);
  lua_setfield(L, -2, "now");
  return 1;
}
