/*
** lweightkit.c — luaopen_weightkit_core, the C module `weightkit.core`.
**
** It builds the module table (version, tensor and rng constructors, helpers for tensor.lua) and
** registers the userdata metatables `weightkit.Tensor`, `weightkit.Rng` and `weightkit.File`. It sets
** no globals: everything lives in the returned table and in the registry's metatables (per lua_State).
** The bindings themselves are in lwk_tensor.c, lwk_tensor_new.c, lwk_tensor_ops.c, lwk_format.c,
** lwk_rng.c and lwk_file.c (the `weightkit.File` handle, core.open).
*/
#include "lwk.h"

int luaopen_weightkit_core(lua_State *L) {
  luaL_checkversion(L);
  lua_newtable(L);
  lua_pushstring(L, wk_version());
  lua_setfield(L, -2, "version");
  lwk_open_tensor(L);
  lwk_open_format(L, lua_gettop(L));
  lwk_open_rng(L);
  lwk_open_file(L, lua_gettop(L));
  lwk_open_write(L, lua_gettop(L));
  lwk_open_zip(L, lua_gettop(L));
  lwk_open_safetensors(L, lua_gettop(L));
  return 1;
}
