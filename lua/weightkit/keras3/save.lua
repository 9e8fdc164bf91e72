--[[
weightkit.keras3.save — Keras 3 `save_weights` (keras-formats.md §4.1, §4.4, §4.5): `.weights.h5` files,
sharded `.weights.json` indexes, and the model.weights.h5 image of a `.keras` archive.

  save.save_weights(model, path, {overwrite = true, max_shard_size = nil}) -> true | false (declined)
  save.image(model) -> bytes of model.weights.h5 (for a .keras archive)
  save.objects(model) -> { {path =, name =, tensors = {...}}, ... }   the writer's input (core.save_keras3)
  save.check_path(path, max_shard_size) -> path   the NAMES rules below (a `.weights.h5` name with
                         max_shard_size comes back as `.weights.json`, with the warning)
  save.write_objects(path, objects, max_shard_size) -> true   writes objects (as save.objects gives
                         them) to `path`, sharded when max_shard_size is given; no name or overwrite
                         checks (the caller's), overwrites (weightkit.editor saves files this way)

NAMES (Keras 3 saving_api.save_weights):
  - without max_shard_size the path must end in `.weights.h5`, else ValueError "The filename must end
    in `.weights.h5`. Received: filepath=<path>";
  - with max_shard_size (GB, a positive number) it must end in `.weights.json` or `.weights.h5`, else
    "The filename must end in `.weights.json` when `max_shard_size` is specified. Received:
    filepath=<path>" (keras-formats.md gives this variant only as "(or `.weights.json` ...)": the
    wording after the suffix is ours); a `.weights.h5` name is changed to `.weights.json` with a
    warning, as Keras does.
  - an unbuilt model: ValueError "You are saving a model that has not yet been built. Try building the
    model first by calling it on some data or by using `build()`." (after the name checks).
  - overwrite = false and the file exists: weightkit.saving's prompt (saving.confirm_overwrite).

LAYOUT: one `vars` group per object of the Keras 3 walk (keras3/paths.lua), in walk order, with the
object's `name` attribute and its own variables as datasets "0", "1", ...; weightless objects keep
their (empty) group, as Keras 3 writes one for every named saveable. No optimizer group (weightkit
models have no optimizer), no root attributes.

SHARDING (§4.5): `<dir>/<base>.weights.json` with shards `<dir>/<base>_00000.weights.h5`, ... where
<base> is the index name without `.weights.json`. Variables are taken in walk order; a variable of n
bytes (numel * item size) larger than max_shard_size * 1024^3 raises ValueError "The size of
<dataset path> is <x> GB, which exceeds the maximum shard size <y> GB." (text after "exceeds the
maximum shard size" reconstructed); otherwise a new shard starts when the running size of the current
shard plus n would exceed the limit. An object whose variables continue in the next shard gets a
group there too, its dataset names continuing ("2", "3", ...: weightkit.h wk_write_object.first), and
the index maps its key to the list of its shards. An object's group is created in the shard of its
first variable (weightless objects: the current shard), so no shard holds a stray empty group. Index:
{"metadata": {"total_size": <bytes, float>}, "weight_map": {"/layers/dense/vars": "x_00000.weights.h5"
| [...], ...}}, JSON with indent 4, keys in walk order. Shards are written first (each atomically),
the index last (temporary file + rename). A shard holding none of the groups that mark a Keras 3 file
(`vars`, `layers`, `optimizer` at its root: a subclassed model's attribute paths) gets an empty root
`vars` group, so that it reads as one (Keras ignores a group no index key names).
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local json = require "weightkit.json"
local paths = require "weightkit.keras3.paths"
local saving = require "weightkit.saving"

local M = {}

local KNOWN = { overwrite = true, max_shard_size = true }

local ITEM_SIZE = {
  bool = 1, int8 = 1, uint8 = 1, int16 = 2, uint16 = 2, float16 = 2, bfloat16 = 2,
  int32 = 4, uint32 = 4, float32 = 4, int64 = 8, uint64 = 8, float64 = 8,
}

local GB = 1024 ^ 3

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function check_options(options)
  return errors.check_keywords("save_weights", options, KNOWN)
end

function M.objects(model)
  local out = {}
  for i, e in ipairs(paths.objects(model)) do
    local tensors = {}
    for j, v in ipairs(e.variables) do tensors[j] = v.value end
    out[i] = { path = e.path, name = e.name, tensors = tensors }
  end
  return out
end

local function check_built(model)
  if model.built == false then
    errors.value_error("You are saving a model that has not yet been built. Try building the model first " ..
      "by calling it on some data or by using `build()`.")
  end
end

function M.image(model)
  check_built(model)
  local data, msg, code = core.keras3_image(M.objects(model))
  if not data then saving.raise_write_error(msg, code, true) end
  return data
end

local function nbytes(t)
  local size = ITEM_SIZE[t:dtype()]
  if not size then errors.type_error("cannot save a " .. t:dtype() .. " variable in a Keras 3 weights file") end
  return t:numel() * size
end

local function gb(x)
  -- Python's repr of the float
  for p = 1, 17 do
    local s = string.format("%." .. p .. "g", x)
    if tonumber(s) == x then
      if not s:find("[%.eEn]") then s = s .. ".0" end
      return s
    end
  end
  return string.format("%.17g", x)
end

-- The shard plan of `objects` (save.objects's shape): list of shards {name =, objects = {...}}, the
-- weight_map entries, the total size.
local function plan(objects, base, limit, max_shard_size)
  local shards, map, total = {}, {}, 0
  local current, used = nil, 0
  local function new_shard()
    current = { name = string.format("%s_%05d.weights.h5", base, #shards), objects = {} }
    shards[#shards + 1] = current
    used = 0
  end
  new_shard()
  for _, e in ipairs(objects) do
    local key = (e.path == "" and "" or "/" .. e.path) .. "/vars"
    local files, group = {}, nil
    local function open_group(first)
      group = { path = e.path, name = e.name, tensors = {}, first = first }
      current.objects[#current.objects + 1] = group
      files[#files + 1] = current.name
    end
    for i, t in ipairs(e.tensors) do
      local n = nbytes(t)
      if n > limit then
        errors.value_error(string.format("The size of %s is %s GB, which exceeds the maximum shard size %s GB.",
          (e.path == "" and "" or e.path .. "/") .. "vars/" .. (i - 1), gb(n / GB), gb(max_shard_size)))
      end
      if used + n > limit then
        new_shard()
        group = nil
      end
      if group == nil then open_group(i - 1) end
      group.tensors[#group.tensors + 1] = t
      used = used + n
      total = total + n
    end
    if group == nil then open_group(0) end
    map[#map + 1] = { key, #files == 1 and files[1] or json.array(files) }
  end
  return shards, map, total
end

local function write_text(path, text)
  local tmp = path .. ".tmp-weightkit"
  local f, msg = io.open(tmp, "wb")
  if not f then errors.raise("OSError", msg) end
  local ok, err = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    errors.raise("OSError", tostring(err or cerr))
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    errors.raise("OSError", tostring(rerr))
  end
end

-- An object continued from the previous shard must have its datasets named from `first` on; a core
-- whose writer ignores wk_write_object.first would silently write "0".. there (a file Keras misloads).
local function check_continued(path, objects)
  local f
  for _, o in ipairs(objects) do
    if o.first > 0 then
      f = f or assert(require("weightkit.file").open(path))
      local names = {}
      for _, l in ipairs(f:layers()) do
        if l.name == o.path then
          for _, w in ipairs(l.weights) do names[#names + 1] = w.name end
        end
      end
      if names[1] ~= tostring(o.first) then
        f:close()
        errors.not_implemented(string.format("%s: the core wrote object '%s' continued from the previous " ..
          "shard with datasets %s instead of numbering them from %d (wk_write_object.first unsupported)",
          path, o.path, table.concat(names, ","), o.first))
      end
    end
  end
  if f then f:close() end
end

-- A shard whose groups are all attribute paths of a subclassed model ("dense1/vars") has none of the
-- top-level groups that mark a Keras 3 weights file (`vars`, `layers`, `optimizer`,
-- `_layer_checkpoint_dependencies`): such a shard gets an empty root `vars` group, which no index key
-- names (Keras ignores it) and by which readers recognize the file.
local MARKS = { [""] = true, layers = true, optimizer = true, _layer_checkpoint_dependencies = true }
local function mark_shard(objects)
  for _, o in ipairs(objects) do
    if MARKS[o.path:match("^[^/]*")] then return end
  end
  table.insert(objects, 1, { path = "", tensors = {}, first = 0 })
end

-- Overwrites: the caller has applied the overwrite policy to the index path.
local function save_sharded(objects, path, max_shard_size)
  local dir, file = path:match("^(.*[/\\])(.*)$")
  if not dir then dir, file = "", path end
  local base = file:gsub("%.weights%.json$", "")
  local shards, map, total = plan(objects, base, max_shard_size * GB, max_shard_size)
  for _, s in ipairs(shards) do
    mark_shard(s.objects)
    local ok, msg, code = core.save_keras3(dir .. s.name, s.objects, true)
    if not ok then saving.raise_write_error(msg, code, true) end
    check_continued(dir .. s.name, s.objects)
  end
  local index = json.object{
    { "metadata", json.object{ { "total_size", total + 0.0 } } },
    { "weight_map", json.object(map) },
  }
  write_text(path, json.encode(index, { indent = 4 }))
  return true
end

function M.check_path(path, max)
  if max == nil then
    if not ends_with(path, ".weights.h5") then
      errors.value_error("The filename must end in `.weights.h5`. Received: filepath=" .. path)
    end
    return path
  end
  if type(max) ~= "number" or not (max > 0) then
    errors.value_error("`max_shard_size` must be a positive number of GB. Received: max_shard_size=" ..
      tostring(max))
  end
  if ends_with(path, ".weights.h5") then
    local renamed = path:sub(1, -#".h5" - 1) .. ".json"
    errors.warn("The filename must end in `.weights.json` when `max_shard_size` is specified. The " ..
      "filepath " .. path .. " is changed to " .. renamed .. ".")
    return renamed
  elseif not ends_with(path, ".weights.json") then
    errors.value_error("The filename must end in `.weights.json` when `max_shard_size` is specified. " ..
      "Received: filepath=" .. path)
  end
  return path
end

function M.write_objects(path, objects, max_shard_size)
  if max_shard_size ~= nil then return save_sharded(objects, path, max_shard_size) end
  local ok, msg, code = core.save_keras3(path, objects, true)
  if not ok then saving.raise_write_error(msg, code, true) end
  return true
end

function M.save_weights(model, path, options)
  if type(path) ~= "string" then
    errors.type_error("save_weights() filepath must be a string, got " .. type(path))
  end
  options = check_options(options)
  local max = options.max_shard_size
  path = M.check_path(path, max)
  check_built(model)
  local overwrite = options.overwrite
  if overwrite == nil then overwrite = true end
  if not saving.confirm_overwrite(path, overwrite) then return false end
  if core.path_kind(path) == "file" then overwrite = true end
  if max ~= nil then return save_sharded(M.objects(model), path, max) end
  local ok, msg, code = core.save_keras3(path, M.objects(model), overwrite)
  if not ok then saving.raise_write_error(msg, code, overwrite) end
  return true
end

return M
