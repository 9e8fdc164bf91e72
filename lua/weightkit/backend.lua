--[[
weightkit.backend — per-module state that tf.keras keeps in `keras.backend`.

State lives in this module table (one per lua_State); nothing is global.

  backend.unique_name(prefix, opts)   tf.keras `unique_object_name`: opts.zero_based (default true) gives
                                      "dense", "dense_1", ...; zero_based = false gives "input_1", "input_2".
                                      One counter per prefix, shared with get_uid (as in tf.keras).
  backend.get_uid(prefix)             increments the prefix counter and returns it (1, 2, ...).
  backend.clear_session()             resets every counter and the name-scope stack.
  backend.with_name_scope(name, fn, ...)  pushes `name` (nil/"" pushes nothing), runs fn(...), pops even
                                      when fn raises (the error is re-raised unchanged); returns fn's results.
  backend.current_scope()             "outer/inner" ("" when empty); backend.scope_stack() a copy.
  backend.floatx() / set_floatx(d)    "float32" by default.
  backend.set_seed(n) / backend.rng() the default generator used by unseeded initializers: a wk.rng from
                                      weightkit.tensor's api, seeded with backend.DEFAULT_SEED (0) until
                                      set_seed is called, so runs are reproducible.
]]
local M = {}

M.DEFAULT_SEED = 0

local uids = {}
local scopes = {}
local floatx = "float32"
local default_rng = nil

function M.get_uid(prefix)
  prefix = prefix or ""
  uids[prefix] = (uids[prefix] or 0) + 1
  return uids[prefix]
end

function M.unique_name(prefix, opts)
  local zero_based = true
  if opts and opts.zero_based ~= nil then zero_based = opts.zero_based end
  local n = uids[prefix] or 0
  uids[prefix] = n + 1
  if zero_based then
    if n == 0 then return prefix end
    return prefix .. "_" .. n
  end
  return prefix .. "_" .. (n + 1)
end

function M.reset_uids()
  uids = {}
end

function M.clear_session()
  uids = {}
  scopes = {}
end

function M.with_name_scope(name, fn, ...)
  if name == nil or name == "" then return fn(...) end
  local depth = #scopes
  scopes[depth + 1] = name
  local res = table.pack(pcall(fn, ...))
  for i = #scopes, depth + 1, -1 do scopes[i] = nil end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- tf.keras's ops.init_scope: runs fn with an empty name-scope stack, restored afterwards (even
-- when fn raises).
function M.init_scope(fn, ...)
  local saved = scopes
  scopes = {}
  local res = table.pack(pcall(fn, ...))
  scopes = saved
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

function M.current_scope()
  return table.concat(scopes, "/")
end

function M.scope_stack()
  return table.move(scopes, 1, #scopes, 1, {})
end

function M.floatx() return floatx end
function M.set_floatx(d) floatx = d end

local function make_rng(seed)
  return require("weightkit.tensor").api.rng(seed)
end
M.make_rng = make_rng

function M.set_seed(n)
  default_rng = make_rng(n)
end

function M.rng()
  if not default_rng then default_rng = make_rng(M.DEFAULT_SEED) end
  return default_rng
end

return M
