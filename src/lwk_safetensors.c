/*
** lwk_safetensors.c — the Lua face of wk_write_safetensors (weightkit.h "Writing").
**
**   core.save_safetensors(path, {{name=, tensor=}, ...}, {metadata = {k = v}, overwrite = bool})
**       -> true | nil, message, code
**   Bad arguments raise (a name or metadata string that is not a string or holds a NUL, a value
**   that is not a tensor); the core's refusals come back io-style, code "EINVAL" (empty,
**   duplicate or "__metadata__" names, invalid UTF-8), "EIO" (exists, directory, cannot write),
**   "ENOMEM". Metadata is written sorted by key (a Lua table has no order).
**
** MEMORY. The arrays handed to the core live in userdata (nothing malloc'd across a raise);
** names, tensors, keys and values are borrowed from the argument tables, which anchor them for
** the whole call; no Lua code runs during wk_write_safetensors.
*/
#include <stdlib.h>
#include <string.h>

#include "lwk.h"

#define WHO "weightkit.save_safetensors"

typedef struct meta_pair {
  const char *key, *value;
} meta_pair;

static int pair_cmp(const void *a, const void *b) {
  return strcmp(((const meta_pair *)a)->key, ((const meta_pair *)b)->key);
}

/* The string at `idx` without NULs inside; raises naming `what` otherwise. */
static const char *plain_string(lua_State *L, int idx, const char *what, int i) {
  size_t len;
  const char *s;
  if (lua_type(L, idx) != LUA_TSTRING) lwk_error(L, WHO ": %s %d must be a string", what, i);
  s = lua_tolstring(L, idx, &len);
  if (strlen(s) != len) lwk_error(L, WHO ": %s %d holds a NUL character", what, i);
  return s;
}

static int l_save_safetensors(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int overwrite = 0, meta = 0;
  size_t n, i, mcount = 0;
  const char **names, **keys = NULL, **values = NULL;
  const wk_tensor **tensors;
  meta_pair *pairs = NULL;
  wk_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_getfield(L, 3, "overwrite");
    overwrite = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "metadata") == LUA_TTABLE) meta = lua_gettop(L); /* stays on the stack */
    else if (!lua_isnil(L, -1)) return lwk_error(L, WHO ": 'metadata' must be a table of strings");
  }
  n = (size_t)lua_rawlen(L, 2);
  if (n > ((size_t)-1) / 4 / sizeof *names) return lwk_error(L, WHO ": too many tensors");
  names = (const char **)lua_newuserdatauv(L, n ? n * sizeof *names : 1, 0);
  tensors = (const wk_tensor **)lua_newuserdatauv(L, n ? n * sizeof *tensors : 1, 0);
  for (i = 0; i < n; i++) {
    int t;
    if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TTABLE)
      return lwk_error(L, WHO ": tensor %d must be a table {name =, tensor =}", (int)i + 1);
    t = lua_gettop(L);
    lua_getfield(L, t, "name");
    names[i] = plain_string(L, -1, "the name of tensor", (int)i + 1);
    lua_getfield(L, t, "tensor");
    tensors[i] = lwk_test_tensor(L, -1);
    if (tensors[i] == NULL) return lwk_error(L, WHO ": tensor %d: 'tensor' must be a tensor", (int)i + 1);
    lua_pop(L, 3); /* name and tensor stay anchored by the entry table, itself by argument 2 */
  }
  if (meta) {
    lua_pushnil(L);
    while (lua_next(L, meta)) {
      mcount++;
      lua_pop(L, 1);
    }
    pairs = (meta_pair *)lua_newuserdatauv(L, mcount ? mcount * sizeof *pairs : 1, 0);
    keys = (const char **)lua_newuserdatauv(L, mcount ? mcount * sizeof *keys : 1, 0);
    values = (const char **)lua_newuserdatauv(L, mcount ? mcount * sizeof *values : 1, 0);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, meta)) {
      pairs[i].key = plain_string(L, -2, "metadata key", (int)i + 1);
      pairs[i].value = plain_string(L, -1, "metadata value", (int)i + 1);
      i++;
      lua_pop(L, 1);
    }
    qsort(pairs, mcount, sizeof *pairs, pair_cmp);
    for (i = 0; i < mcount; i++) {
      keys[i] = pairs[i].key;
      values[i] = pairs[i].value;
    }
  }
  if (wk_write_safetensors(path, names, tensors, n, keys, values, mcount, overwrite, &err) != WK_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err.message[0] != '\0' ? err.message : wk_status_string(err.code));
    lua_pushstring(L, lwk_status_code(err.code));
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

void lwk_open_safetensors(lua_State *L, int module) {
  lua_pushcfunction(L, l_save_safetensors);
  lua_setfield(L, module, "save_safetensors");
}
