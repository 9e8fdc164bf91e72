/*
** lwk_zip.c — the Lua face of .keras archives (weightkit.h: "Files" archive members, "Writing"
** wk_write_keras_zip).
**
**   file:members() -> {{name=, size=, compressed_size=, method=}, ...}   ({} for non-archives)
**   file:member(name) -> string       raises "weightkit: <message>" (no such member, too large,
**                                     corrupt); '\\' and '/' alike in `name`
**   core.save_keras_zip(path, members, overwrite) -> true | nil, message, code
**       members = {{name=, data=<string>, deflate=bool, mtime=int (seconds, UTC; 0 = 1980)}, ...}
**       code: "EINVAL" (names), "EIO" (exists, directory, cannot write), "ENOMEM".
**
** The methods join the weightkit.File metatable registered by lwk_file.c (lwk_check_file).
**
** MEMORY. save_keras_zip keeps its wk_zip_member array in a userdata (nothing malloc'd across a
** raise); names and data are borrowed from the argument table's strings, read raw and anchored
** by that table for the whole call; no Lua code runs during wk_write_keras_zip.
*/
#include <string.h>

#include "lwk.h"

static wk_file *check_file(lua_State *L) { return lwk_check_file(L, 1); }

static int f_members(lua_State *L) {
  wk_file *f = check_file(L);
  size_t i, n = wk_file_member_count(f);
  lua_createtable(L, n > 0x7fffffff ? 0 : (int)n, 0);
  for (i = 0; i < n; i++) {
    const wk_member_info *m = wk_file_member(f, i);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, m->name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, (lua_Integer)m->size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)m->compressed_size);
    lua_setfield(L, -2, "compressed_size");
    lua_pushinteger(L, m->method);
    lua_setfield(L, -2, "method");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int f_member(lua_State *L) {
  wk_file *f = check_file(L);
  const char *name = luaL_checkstring(L, 2);
  const void *data;
  size_t size;
  wk_error err;
  lwk_check(L, wk_file_read_member(f, name, &data, &size, &err), &err);
  lua_pushlstring(L, (const char *)data, size);
  return 1;
}

static const char *field_string(lua_State *L, int t, const char *key, size_t *len, int i) {
  const char *s;
  lua_pushstring(L, key);
  if (lua_rawget(L, t) != LUA_TSTRING)
    lwk_error(L, "weightkit.save_keras_zip: member %d: '%s' must be a string", i, key);
  s = lua_tolstring(L, -1, len);
  lua_pop(L, 1); /* still anchored by the member table */
  return s;
}

static int l_save_keras_zip(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int overwrite = lua_toboolean(L, 3);
  size_t n, i;
  wk_zip_member *members;
  wk_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (size_t)lua_rawlen(L, 2);
  if (n > ((size_t)-1) / 2 / sizeof *members) return lwk_error(L, "weightkit.save_keras_zip: too many members");
  members = (wk_zip_member *)lua_newuserdatauv(L, n ? n * sizeof *members : 1, 0);
  for (i = 0; i < n; i++) {
    wk_zip_member *m = &members[i];
    int t, isint;
    if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TTABLE)
      lwk_error(L, "weightkit.save_keras_zip: member %d must be a table {name =, data =}", (int)i + 1);
    t = lua_gettop(L);
    m->name = field_string(L, t, "name", NULL, (int)i + 1);
    m->data = field_string(L, t, "data", &m->size, (int)i + 1);
    lua_pushstring(L, "deflate");
    lua_rawget(L, t);
    m->deflate = lua_toboolean(L, -1);
    lua_pushstring(L, "mtime");
    lua_rawget(L, t);
    m->mtime = lua_isnil(L, -1) ? 0 : (int64_t)lua_tointegerx(L, -1, &isint);
    if (!lua_isnil(L, -1) && !isint)
      lwk_error(L, "weightkit.save_keras_zip: member %d: 'mtime' must be an integer", (int)i + 1);
    lua_pop(L, 3);
  }
  if (wk_write_keras_zip(path, members, n, overwrite, &err) != WK_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err.message[0] != '\0' ? err.message : wk_status_string(err.code));
    lua_pushstring(L, lwk_status_code(err.code));
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg zip_methods[] = {
  {"members", f_members}, {"member", f_member},
  {NULL, NULL}
};

void lwk_open_zip(lua_State *L, int module) {
  luaL_getmetatable(L, LWK_FILE);
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, zip_methods, 0);
  lua_pop(L, 2);
  lua_pushcfunction(L, l_save_keras_zip);
  lua_setfield(L, module, "save_keras_zip");
}
