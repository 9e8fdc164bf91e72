/*
** host.c — a C program that embeds Lua 5.4 and weightkit, the way a game engine or a robot
** controller would: it creates the Lua state, preloads the `weightkit.core` module it links,
** runs a short Lua script that builds a layer, then reads one weight through the C API.
**
**   build/examples/host            prints the kernel of a Dense layer the script built
*/
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "weightkit.h"

#ifndef WK_SOURCE_LUA_DIR
#define WK_SOURCE_LUA_DIR "lua"
#endif

static const char *const SCRIPT =
    "local wk = require 'weightkit'\n"
    "local head = wk.layers.Dense{units = 2, name = 'head',\n"
    "                             kernel_initializer = wk.initializers.Constant(0.5)}\n"
    "head(wk.tensor{{1, 2, 3}})\n"
    "return head:weights()[1].name, head:get_weights()[1]\n";

/* Makes `require "weightkit"` work: the module's C part is linked into this program, its Lua
** part is read from the source tree. */
static void open_weightkit(lua_State *L) {
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushliteral(L, WK_SOURCE_LUA_DIR "/?.lua;" WK_SOURCE_LUA_DIR "/?/init.lua");
  lua_setfield(L, -2, "path");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_weightkit_core);
  lua_setfield(L, -2, "weightkit.core");
  lua_pop(L, 2);
}

/* Prints every element of a rank-2 tensor through the C API. */
static int print_matrix(const char *name, const wk_tensor *t) {
  const int64_t *shape = wk_tensor_shape(t);
  int64_t i, j;
  wk_error err;
  if (wk_tensor_rank(t) != 2) {
    fprintf(stderr, "host: %s is not a matrix\n", name);
    return 1;
  }
  printf("%s %s (%lld, %lld)\n", name, wk_dtype_name(wk_tensor_dtype(t)), (long long)shape[0],
         (long long)shape[1]);
  for (i = 0; i < shape[0]; i++) {
    for (j = 0; j < shape[1]; j++) {
      double value;
      if (wk_tensor_get_f64(t, i * shape[1] + j, &value, &err) != WK_OK) {
        fprintf(stderr, "host: %s\n", err.message);
        return 1;
      }
      printf("%s%g", j ? " " : "  ", value);
    }
    printf("\n");
  }
  return 0;
}

int main(void) {
  int status = 1;
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  open_weightkit(L);
  if (luaL_dostring(L, SCRIPT) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
  } else {
    /* Borrowed from the userdata, which stays on the stack until lua_close. */
    const wk_tensor *kernel = wk_lua_totensor(L, -1);
    if (kernel == NULL)
      fprintf(stderr, "host: the script did not return a tensor\n");
    else
      status = print_matrix(lua_tostring(L, -2), kernel);
  }
  lua_close(L);
  return status;
}
