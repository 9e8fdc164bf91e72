/*
** cli_main.c — the `weightkit` command: a small host that embeds Lua 5.4.
**
** It links the core and the binding statically, preloads `weightkit.core`, points package.path
** at the Lua sources, and hands its arguments to lua/weightkit/cli.lua, which holds every
** command. Lua files are found, in order, through $WEIGHTKIT_LUA_DIR, next to an installed
** binary (<prefix>/bin/../share/lua/5.4), or in the source tree the binary was built from.
** It also preloads `weightkit.cli.host`, the one thing the command needs from the OS that Lua
** lacks: resolve(path), used by the script sandbox (lua/weightkit/cli/sandbox.lua) to compare
** paths after following symlinks.
*/
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "weightkit.h"

#ifndef WK_SOURCE_LUA_DIR
#define WK_SOURCE_LUA_DIR "lua"
#endif

static int file_exists(const char *path) {
  return access(path, R_OK) == 0;
}

/* Writes dir + suffix into buf; returns 0 when it does not fit. */
static int join(char *buf, size_t size, const char *dir, const char *suffix) {
  int n = snprintf(buf, size, "%s%s", dir, suffix);
  return n >= 0 && (size_t)n < size;
}

/* Writes the directory holding weightkit/cli.lua into buf; returns 0 when none is found. */
static int find_lua_dir(char *buf, size_t size) {
  const char *env = getenv("WEIGHTKIT_LUA_DIR");
  char exe[PATH_MAX], probe[PATH_MAX];
  ssize_t n;
  if (env != NULL && *env != '\0') return join(buf, size, env, "");
  n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    char *slash;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
      *slash = '\0';
      if (join(probe, sizeof probe, exe, "/../share/lua/5.4/weightkit/cli.lua") && file_exists(probe))
        return join(buf, size, exe, "/../share/lua/5.4");
    }
  }
  if (join(probe, sizeof probe, WK_SOURCE_LUA_DIR, "/weightkit/cli.lua") && file_exists(probe))
    return join(buf, size, WK_SOURCE_LUA_DIR, "");
  return 0;
}

/*
** host.resolve(path [, parent_only]) -> the absolute path with every symlink resolved, or nil.
** A path that does not exist (a file about to be written) resolves as its existing directory,
** resolved, plus its last component; so does every path when parent_only is true (a symlink
** named by the path itself is then not followed). nil when the directory does not exist either
** or the last component is empty, "." or "..".
*/
static int l_resolve(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  int parent_only = lua_toboolean(L, 2);
  const char *slash, *base;
  char buf[PATH_MAX];
  if (len == 0 || strlen(path) != len) return 0; /* empty, or an embedded NUL */
  if (!parent_only && realpath(path, buf) != NULL) {
    lua_pushstring(L, buf);
    return 1;
  }
  slash = strrchr(path, '/');
  base = slash != NULL ? slash + 1 : path;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) return 0;
  if (slash == NULL) {
    if (realpath(".", buf) == NULL) return 0;
  } else if (slash == path) {
    strcpy(buf, "/");
  } else {
    lua_pushlstring(L, path, (size_t)(slash - path)); /* the directory, NUL-terminated by Lua */
    if (realpath(lua_tostring(L, -1), buf) == NULL) return 0;
  }
  lua_pushfstring(L, "%s%s%s", buf, strcmp(buf, "/") == 0 ? "" : "/", base);
  return 1;
}

static int open_host(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, l_resolve);
  lua_setfield(L, -2, "resolve");
  return 1;
}

/* Prepends dir's ?.lua and ?/init.lua patterns to package.path; preloads the C modules. */
static void add_lua_path(lua_State *L, const char *dir) {
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_weightkit_core);
  lua_setfield(L, -2, "weightkit.core");
  lua_pushcfunction(L, open_host);
  lua_setfield(L, -2, "weightkit.cli.host");
  lua_pop(L, 2);
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Runs require("weightkit.cli").main(argv[1..]) and returns its exit status. */
static int run_cli(lua_State *L, int argc, char **argv) {
  int i, status;
  lua_pushcfunction(L, traceback);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "weightkit.cli");
  if (lua_pcall(L, 1, 1, 1) != LUA_OK) return -1;
  lua_getfield(L, -1, "main");
  lua_remove(L, -2);
  lua_createtable(L, argc, 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  if (lua_pcall(L, 1, 1, 1) != LUA_OK) return -1;
  status = (int)luaL_optinteger(L, -1, 0);
  lua_pop(L, 2);
  return status;
}

int main(int argc, char **argv) {
  char lua_dir[PATH_MAX];
  int status;
  lua_State *L;
  if (!find_lua_dir(lua_dir, sizeof lua_dir)) {
    fprintf(stderr, "weightkit: cannot find the Lua sources (set WEIGHTKIT_LUA_DIR)\n");
    return 1;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "weightkit: cannot create a Lua state (out of memory)\n");
    return 1;
  }
  luaL_openlibs(L);
  add_lua_path(L, lua_dir);
  status = run_cli(L, argc, argv);
  if (status < 0) {
    fprintf(stderr, "weightkit: %s\n", lua_tostring(L, -1));
    status = 1;
  }
  lua_close(L);
  return status;
}
