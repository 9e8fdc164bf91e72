--[[
weightkit.keras3.store — the `vars` groups of Keras 3 weights files as a look-up table by object path
(Keras 3's H5IOStore / ShardedH5IOStore, read side).

  store.file_objects(file) -> { {path = "layers/dense", raw = "layers\\dense", name = "dense_3" | nil,
                                 weights = { {name = "0", shape =, dtype =, tensor = <lazy>}, ...},
                                 source = <file name>}, ... }
      one entry per `vars` group of an opened file (wk.open, format "keras3-weights-h5" or "keras-zip"),
      in the file's order; `path` is the group's parent path with backslashes turned into '/' (tf.keras
      2.15 on Windows joined paths with '\\': k2150_windows_backslash_dense.keras has top-level groups
      named "layers\\dense"); `raw` the name as stored; `name` the group's `name` attribute (Keras >= 3.6)
  store.new(objects) -> store         store:get(path) -> object | nil (Keras's store.get, below)
  store.from_file(file) -> store
  store.sharded(index_path, open) -> store, {opened files}     a `.weights.json` index (§4.5)

LOOK-UP (Keras 3 H5IOStore.get): the group `<path>/vars` (root: `vars`); when absent and the file has
a top-level `_layer_checkpoint_dependencies` group (Keras 2.12 - 2.14 files), the path with every
"layers" replaced by "_layer_checkpoint_dependencies". Two groups normalizing to the same path: the
first in file order wins.

SHARDED INDEX. {"metadata": {"total_size": bytes}, "weight_map": {"/layers/dense/vars": "x_00000.weights.h5"
| [shard, ...], ...}}; each key is a `vars` group's absolute path, each shard a file beside the index.
A group is assembled from the listed shards in order (a dataset name found in an earlier shard wins;
one object's datasets may be split over shards; each weight's `shard` names its file). A shard that
cannot be opened, or a key that none of its listed shards holds, raises a ValueError naming the index
and the shard(s); so does a shard name that is not a plain file name (no '/' or '\\': an index never
reaches outside its directory).
]]
local errors = require "weightkit.errors"
local json = require "weightkit.json"

local M = {}

local Store = {}
Store.__index = Store

local LCD = "_layer_checkpoint_dependencies"

local function normalize(raw) return (raw:gsub("\\", "/")) end

local function vars_attribute(file, raw)
  if type(file.attribute) ~= "function" then return nil end
  local group = raw == "" and "/vars" or ("/" .. raw .. "/vars")
  local ok, v = pcall(file.attribute, file, group, "name")
  if ok and type(v) == "string" then return v end
  return nil
end

function M.file_objects(file)
  local out = {}
  for _, l in ipairs(file:layers()) do
    local raw = l.name or ""
    out[#out + 1] = { path = normalize(raw), raw = raw, name = vars_attribute(file, raw),
      weights = l.weights, source = file.name }
  end
  return out
end

function M.new(objects)
  local by_path, lcd = {}, false
  for _, o in ipairs(objects) do
    if by_path[o.path] == nil then by_path[o.path] = o end
    if o.path == LCD or o.path:sub(1, #LCD + 1) == LCD .. "/" then lcd = true end
  end
  return setmetatable({ objects = objects, by_path = by_path, lcd = lcd }, Store)
end

function M.from_file(file)
  return M.new(M.file_objects(file))
end

function Store:get(path)
  local o = self.by_path[path]
  if o == nil and self.lcd then o = self.by_path[(path:gsub("layers", LCD))] end
  return o
end

local function dirname(path)
  return path:match("^(.*[/\\])") or ""
end

-- "/layers/dense/vars" -> "layers/dense"; "/vars" -> "".
local function key_path(key)
  local p = key:gsub("^/", "")
  if p == "vars" then return "" end
  return (p:gsub("/vars$", ""))
end

local function numeric_order(a, b)
  local na, nb = tonumber(a.name), tonumber(b.name)
  if na and nb then return na < nb end
  if na or nb then return na ~= nil end
  return a.name < b.name
end

function M.sharded(index_path, open)
  local fh, msg = io.open(index_path, "rb")
  if not fh then errors.raise("FileNotFoundError", msg) end
  local text = fh:read("a")
  fh:close()
  local index = json.decode(text, index_path)
  local map = type(index) == "table" and index.weight_map
  if type(map) ~= "table" then
    errors.value_error(string.format("%s: not a sharded weights index (no `weight_map` object)", index_path))
  end
  local dir = dirname(index_path)
  local opened, shards = {}, {}
  local function shard(name)
    if shards[name] then return shards[name] end
    if type(name) ~= "string" or name:find("[/\\]") or name == ".." or name == "." then
      for _, g in ipairs(opened) do g:close() end
      errors.value_error(string.format("%s: shard name %s is not a file name beside the index", index_path,
        tostring(name)))
    end
    local f, err = open(dir .. name)
    if not f then
      for _, g in ipairs(opened) do g:close() end
      errors.value_error(string.format("%s lists shard '%s', which cannot be opened: %s", index_path, name,
        tostring(err)))
    end
    opened[#opened + 1] = f
    shards[name] = M.from_file(f)
    return shards[name]
  end
  local objects = {}
  for _, key in ipairs(json.keys(map)) do
    local files = map[key]
    if type(files) == "string" then files = { files } end
    local path = key_path(key)
    local merged, seen, found, name = {}, {}, false, nil
    for _, f in ipairs(files) do
      local o = shard(f):get(path)
      if o then
        found = true
        name = name or o.name
        for _, w in ipairs(o.weights) do
          if not seen[w.name] then
            seen[w.name] = true
            w.shard = f
            merged[#merged + 1] = w
          end
        end
      end
    end
    if not found then
      for _, g in ipairs(opened) do g:close() end
      errors.value_error(string.format("%s maps '%s' to %s, but no such group is in %s", index_path, key,
        table.concat(files, ", "), #files == 1 and "that shard" or "any of these shards"))
    end
    table.sort(merged, numeric_order)
    objects[#objects + 1] = { path = path, raw = path, name = name, weights = merged, source = index_path }
  end
  return M.new(objects), opened
end

return M
