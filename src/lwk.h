/*
** lwk.h — private header of the Lua binding (src/lweightkit.c, src/lwk_*.c). Only these files
** include lua.h; the core (src/wk_*.c) never does.
**
** USERDATA
**   A `weightkit.Tensor` userdata holds one C reference to a wk_tensor (NULL once closed).
**   Views keep their parent's storage alive inside the core (refcounted storage), so tensor
**   userdata carry no user values. A `weightkit.Rng` userdata holds a wk_rng by value.
**
** RAISING SAFELY ("closed first", as in liolib)
**   Every function that gets a new tensor from the core first pushes a closed userdata with
**   lwk_newtensor and lets the core write its reference straight into the returned slot. If
**   the core fails, the slot stays NULL and the error can be raised at once; if a later step
**   raises, the garbage collector releases what the slot holds. No binding function holds
**   malloc'd memory or an unowned tensor reference across a call that can raise.
*/
#ifndef LWK_H
#define LWK_H

#include "lua.h"
#include "lauxlib.h"

#include "weightkit.h"

#define LWK_TENSOR "weightkit.Tensor"
#define LWK_RNG "weightkit.Rng"

typedef struct lwk_Tensor {
  wk_tensor *t; /* one reference, or NULL when closed */
} lwk_Tensor;

/* {====================================================================
** lwk_tensor.c — userdata plumbing shared by the binding files
** ===================================================================== */

/* Pushes a closed tensor userdata and returns its slot, for the core to fill. */
wk_tensor **lwk_newtensor(lua_State *L);
/* Pushes a new userdata holding a new reference to `t` (borrowed; retained here). */
void lwk_push_tensor(lua_State *L, wk_tensor *t);
/* The tensor at `arg`; raises for a non-tensor and for a closed tensor. */
wk_tensor *lwk_check_tensor(lua_State *L, int arg);
/* The tensor at `arg`, or NULL when the value is not a tensor (raises when closed). */
wk_tensor *lwk_test_tensor(lua_State *L, int arg);
/* Raises a formatted message as is: no "file:line:" position (tensor errors are plain text). */
int lwk_error(lua_State *L, const char *fmt, ...);
/* Raises a core error as "weightkit: <message>". */
int lwk_raise(lua_State *L, const wk_error *err);
/* The short code Lua sees for a status ("EIO", "EFORMAT", ...; "OK"; "EUNKNOWN" for other
** values): the third result of the Lua io-style failures (nil, message, code). */
const char *lwk_status_code(wk_status st);
#define lwk_check(L, call, errp) ((void)((call) == WK_OK || lwk_raise((L), (errp))))

/* A dtype name at `arg` (or `def` when absent/nil; def < 0 makes it required). */
wk_dtype lwk_check_dtype(lua_State *L, int arg, int def);
/* A shape: a table of dims, or (varargs) integers from `arg` to the top. Returns the rank.
** `allow_infer` accepts one -1 (reshape). */
int lwk_check_shape(lua_State *L, int arg, int64_t *shape, int varargs, int allow_infer);
/* A 1-based axis (negative counts from the end) at `arg`, returned 0-based; `def` is the
** 1-based default when the argument is absent (0: required). */
int lwk_check_axis(lua_State *L, int arg, int rank, int def);
/* Pushes element `index` (flat, 0-based): boolean for bool, integer for integer dtypes. */
void lwk_push_element(lua_State *L, const wk_tensor *t, int64_t index);
/* Fills every element with the number/boolean at `arg` (integers exactly for integer dtypes). */
void lwk_fill_value(lua_State *L, wk_tensor *t, int arg);
/* Writes the number or boolean at `arg` into element `index`. */
void lwk_set_element(lua_State *L, wk_tensor *t, int64_t index, int arg);
/* Builds a tensor from a nested table/number/boolean at `arg` (dtype `dtype`, or inferred when
** dtype < 0) and pushes it. `who` prefixes error messages ("wk.tensor"). */
wk_tensor *lwk_tensor_from_value(lua_State *L, int arg, int dtype, const char *who);

/* }==================================================================== */

/* Registration. lwk_open_tensor and lwk_open_rng add to the module table at the top of the
** stack; the others take the module's (and methods table's) stack index. */
void lwk_open_tensor(lua_State *L);
void lwk_open_tensor_new(lua_State *L, int module);
/* Adds the ops' methods to the methods table at `methods` and functions to the module table
** at `module`. */
void lwk_open_tensor_ops(lua_State *L, int methods, int module);
void lwk_open_format(lua_State *L, int module);
void lwk_open_rng(lua_State *L);
/* lwk_file.c: the weightkit.File metatable; core.open and core.tensor_sha256 into `module`. */
void lwk_open_file(lua_State *L, int module);
/* lwk_write.c: core.save_keras2, save_keras3, keras3_image, isatty, path_kind */
void lwk_open_write(lua_State *L, int module);
/* lwk_zip.c: core.save_keras_zip; File methods members() and member(name) (after lwk_open_file) */
void lwk_open_zip(lua_State *L, int module);
/* lwk_safetensors.c: core.save_safetensors */ void lwk_open_safetensors(lua_State *L, int module);

/* The metatable of file handles (lwk_file.c). */
#define LWK_FILE "weightkit.File"
/* The open wk_file of the weightkit.File at `arg` (raises for another value or a closed file). */
wk_file *lwk_check_file(lua_State *L, int arg);

/* The rng at `arg` (raises for other values). */
wk_rng *lwk_check_rng(lua_State *L, int arg);

#endif
