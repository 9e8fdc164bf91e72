--[[
weightkit.file — weights files without a model: the object `wk.open` returns.

  local file, msg, code = wk.open(path [, options])   -- Lua io convention: nil, message, code on failure
  local file = wk.load_file(path [, options])          -- the raising twin (error: the same message)
      options: {no_mmap = true, lazy = false, max_tensors = n, max_attribute_bytes = n, max_expand_ratio = n}
      code: "EIO" (cannot open), "EFORMAT" (not a Keras weights file, corrupt), "ELIMIT", ...
      The open is lazy unless lazy = false: it reads the weights group's attributes (layer_names,
      keras_version, backend) and nothing per layer; a layer's weight_names and its datasets'
      descriptions are read by the first call that needs them (layers(), get(), tensors(),
      top_level_weights) and cached. A corrupt layer group therefore fails there, raising
      "weightkit: <message>" (the message wk.open returns with lazy = false).

  file.name, file.format, file.keras_version, file.backend (nil when the weights group has no such
      attribute: Keras 1, Keras 3), file.warning (nil or a text). Formats (weightkit.h, "Files"):
      "keras2-h5"          Keras 1/2 save_weights HDF5: layers follow `layer_names`, weights `weight_names`
      "keras2-h5-model"    full-model HDF5: the same under `model_weights`
      "keras3-weights-h5"  Keras 3 .weights.h5 (and a .keras archive's weights member): one layer per `vars`
                           group, named by its parent's path ("layers/dense", "layers/lstm/cell", "" for the
                           root's, "optimizer"; group names as stored, backslashes included), each group's
                           own `vars` before its subgroups, subgroups in name order; weights are its datasets
                           "0", "1", ... in numeric order (W.name "0", W.path "layers/dense/vars/0"); a
                           2-byte dataset tagged dtype = "bfloat16" reads as bfloat16; no top-level or
                           optimizer lists (the optimizer's state is the layer "optimizer")
      "keras-zip"          a .keras archive: the layers and tensors of its weights member, as above
      "tf-checkpoint"      a TensorFlow tensor bundle (save_weights(save_format="tf"), tf.train.Checkpoint):
                           opened by its prefix P (P.index + P.data-*), by P.index, or by a directory holding a
                           `checkpoint` file. Layers come from the keys "<object path>/.ATTRIBUTES/<attr>": a
                           VARIABLE_VALUE belongs to its parent object (layer "layer_with_weights-0", weight
                           "kernel"), other attributes (OBJECT_CONFIG_JSON) to the object itself; layers in the
                           order of their first key; names escaped as stored; W.path is the full key. Tensors
                           list every key (_CHECKPOINTABLE_OBJECT_GRAPH too). String tensors have dtype "string"
                           and readable = false: read them with file:strings(entry). Partitioned variables are
                           reassembled (layout "sliced"). CRCs are checked on every read.
      "savedmodel"         a SavedModel directory (saved_model.pb): its variables/variables bundle, as above
  file:layer_names() -> { "dense_1", ... }     layer_names order (Keras 3: the order above); resolves nothing
  file:layers()   -> { {name = "dense_1", weights = { W, ... }}, ... }   the same order, weightless too
  file:tensors()  -> { D, ... }                 every dataset in the file, optimizer weights included
  file.top_level_weights  -> { W, ... } or nil  the `top_level_model_weights` group
  file.optimizer_weights  -> { W, ... } or nil  the root `optimizer_weights` group
  file:get(layer, weight) -> tensor | nil       the first layer of that name (names or 1-based indices)
  file:attribute(object_path, name) -> string | nil      e.g. file:attribute("/", "model_config")
  file:metadata() -> {key = value, ...}  a safetensors file's __metadata__ ({} for other formats)
  file:members() -> {{name, size, compressed_size, method}, ...}  a .keras archive's zip members ({} else)
  file:member(name) -> string          a member's bytes, e.g. file:member("config.json") (raises if absent)
  file:strings(entry) -> { string, ... }  a TF string tensor's elements (entry from tensors() or layers())
  file:object_graph() -> nil | { node, ... }  a TF checkpoint's object graph (node i at index i + 1; ids 0-based
      as stored): node = {children = {{node_id =, local_name =}, ...}, attributes = {{name =, full_name =,
      checkpoint_key =, optional_restore =}, ...}, slot_variables = {{original_variable_node_id =, slot_name =,
      slot_variable_node_id =}, ...}}; nil when the checkpoint has none; raises for other formats
  file:close(), file:is_closed(), `local file <close> = wk.open(path)`; tostring(file)

  W = {name = "dense_1/kernel:0", path = "model_weights/dense_1/dense_1/kernel:0", shape = {784, 64},
       dtype = "float32", numel =, nbytes =, layout = "contiguous"|"chunked"|"compact", filtered =,
       big_endian =, readable =, layer = "dense_1", index = (position in its list),
       layer_index = (position of its layer; in layers() only), tensor = <lazy>}
  D = the same without name, layer and layer_index.
  The raw handle (weightkit.core.open, src/lwk_file.c) is file._handle.

LAZINESS. `entry.tensor` is read from the file the first time it is indexed (a metatable __index) and
then kept in the entry; metadata fields never read tensor bytes. Each read is addressed by position in
the core's arrays (O(1)). Contiguous native-endian datasets come back zero-copy (storage "external",
read-only: writing gives the tensor a private copy); others are converted into owned tensors. Tensors
outlive the file: closing it only stops further reads ("attempt to use a closed file").
Every call of layers()/tensors() builds fresh entries (and so reads afresh), the lists are the caller's.

This object is the file interface weightkit.loading consumes (loading/common.lua).
]]
local core = require "weightkit.core"
require "weightkit.tensor" -- the tensor methods written in Lua (sum, totable, ...)

local M = {}

local File = {}
File.__name = "weightkit.File"

local FIELDS = { top_level_weights = true, optimizer_weights = true, warning = true }

-- A metatable for entries whose tensor is read by read(entry) on first access.
local function lazy(read)
  return {
    __index = function(entry, key)
      if key ~= "tensor" then return nil end
      local t = read(entry)
      rawset(entry, "tensor", t)
      return t
    end,
  }
end

-- Gives each weight of a raw layer table (core handle) its lazy tensor; returns the weights list.
local function lazy_weights(list, meta)
  for i, w in ipairs(list) do
    w.index = i
    setmetatable(w, meta)
  end
  return list
end

function File.__index(self, key)
  local method = File[key]
  if method ~= nil then return method end
  if FIELDS[key] then
    local h = rawget(self, "_handle")
    if key == "warning" then -- a lazy handle resolves optimizer_weights for it; cached apart
      local w = rawget(self, "_warning")
      if w == nil then
        w = h:warning() or false
        rawset(self, "_warning", w)
      end
      return w or nil
    end
    local raw
    if key == "top_level_weights" then raw = h:top_level() else raw = h:optimizer() end
    local value = raw and lazy_weights(raw.weights, self._meta[key]) or false
    rawset(self, key, value)
    return value or nil
  end
  return nil
end

function File.__tostring(self)
  return tostring(self._handle)
end

function File.__close(self)
  self._handle:close()
end

function File:close()
  self._handle:close()
end

function File:is_closed()
  return self._handle:is_closed()
end

function File:layers()
  local h = self._handle
  local layers = h:layers()
  local meta = self._meta.layer
  for li, layer in ipairs(layers) do
    for wi, w in ipairs(layer.weights) do
      w.layer_index, w.index = li, wi
      setmetatable(w, meta)
    end
  end
  return layers
end

function File:layer_names()
  return self._handle:layer_names()
end

-- A .keras archive's members ({} for other formats) and one member's bytes (raises when absent).
-- A safetensors file's __metadata__ as a table ({} for other formats).
function File:metadata()
  return self._handle:metadata()
end

function File:members()
  return self._handle:members()
end

function File:member(name)
  return self._handle:member(name)
end

function File:tensors()
  local list = self._handle:tensors()
  local meta = self._meta.dataset
  for i, d in ipairs(list) do
    d.index = i
    setmetatable(d, meta)
  end
  return list
end

-- get(layer, weight): layer and weight are names (the first layer so named, as Keras's f[name]) or
-- 1-based positions. Returns the tensor, or nil when there is no such layer or weight.
function File:get(layer, weight)
  local h = self._handle
  if type(layer) == "string" and type(weight) == "string" then return h:read(layer, weight) end
  local li
  if math.type(layer) == "integer" then
    li = layer
  else
    for i, name in ipairs(h:layer_names()) do
      if name == layer then li = i; break end
    end
  end
  local l = li and h:layer(li)
  if not l then return nil end
  if math.type(weight) == "integer" then
    if weight >= 1 and weight <= #l.weights then return h:read_weight(li, weight) end
    return nil
  end
  for wi, w in ipairs(l.weights) do
    if w.name == weight then return h:read_weight(li, wi) end
  end
  return nil
end

-- The elements of a string tensor (TF bundles). `entry` comes from tensors() (its index is used) or
-- layers() (found among tensors() by its path, the bundle key).
function File:strings(entry)
  local h = self._handle
  if entry.layer_index == nil then return h:read_strings(entry.index) end
  local by_path = rawget(self, "_tensor_index")
  if by_path == nil then
    by_path = {}
    for i, d in ipairs(h:tensors()) do by_path[d.path] = i end
    rawset(self, "_tensor_index", by_path)
  end
  local i = by_path[entry.path]
  if i == nil then error("weightkit: no tensor " .. tostring(entry.path) .. " in " .. h:name(), 2) end
  return h:read_strings(i)
end

function File:object_graph()
  return self._handle:object_graph()
end

function File:attribute(object_path, name)
  return self._handle:attribute(object_path, name)
end

function M.open(path, options)
  local opts = options
  if options == nil or type(options) == "table" then
    opts = { lazy = true }
    for k, v in pairs(options or {}) do opts[k] = v end
  end
  local h, msg, code = core.open(path, opts)
  if not h then return nil, msg, code end
  local self = {
    _handle = h,
    name = h:name(),
    format = h:format(),
    keras_version = h:keras_version(),
    backend = h:backend(),
  }
  self._meta = {
    layer = lazy(function(w) return h:read_weight(w.layer_index, w.index) end),
    dataset = lazy(function(d) return h:read_dataset(d.index) end),
    top_level_weights = lazy(function(w) return h:read_top_level(w.index) end),
    optimizer_weights = lazy(function(w) return h:read_optimizer(w.index) end),
  }
  return setmetatable(self, File)
end

function M.load_file(path, options)
  local f, msg = M.open(path, options)
  if not f then error(msg, 2) end
  return f
end

function M.is_file(v)
  return getmetatable(v) == File
end

M.File = File

return M
