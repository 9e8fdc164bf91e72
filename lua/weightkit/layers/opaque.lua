--[[
weightkit.layers.opaque — OpaqueLayer: a layer class weightkit does not know (a user's custom layer, a
subclassed model, a Lambda that holds weights), kept verbatim and given the weights a file declares.

  local opaque = require "weightkit.layers.opaque"
  local l = opaque.new(class_name, raw_config, {name =, trainable =, dtype =, module =, registered_name =,
                       output_shape =, batch_input_shape =})
  opaque.shape_keras2(l, file_layer)      file_layer = an entry of file:layers() (Keras 2 HDF5):
                                          {name, weights = {{name = "lambda_1/W:0", shape, dtype}...}}
  opaque.shape_keras3(l, objects, path)   objects = keras3.load.file_objects(file) (or file:layers()
                                          of a Keras 3 file), path = the layer's object path
  opaque.is_opaque(layer)

OWNERSHIP / INVARIANTS.
- `class_name` is the ORIGINAL class name (so summaries, the Keras 3 walk's snake-case names and
  errors say "MyLayer"); the Lua class is OpaqueLayer (getmetatable(l).class_name).
- get_config returns the config exactly as read (key order, nulls, nested dicts; the caller's decoded
  tree, shared, not copied): a round trip writes back what the file said.
- Weights are created by shape_keras2 / shape_keras3 from the file's declarations, zero-filled, all
  trainable, in the file's order (Keras 2: weight_names order; Keras 3: object by object in the file's
  group order, "0", "1", ... within one), so a later load_weights fills them. Keras 2 variables keep
  the file's weight names; Keras 3 variables are named "<layer>/<relative path>/<index>:0".
- keras3_objects() (contract with weightkit.keras3.paths) lists {path = relative path ("" = own vars),
  name, variables}; before shaping it is {{path = "", variables = {}}}, which lets the caller learn
  the layer's own path from a walk.
- Shapes: the forward pass is unknown, so compute_output_shape is the config's `output_shape` when it
  has one (Lambda: a shape without the batch dim) and the (first) input shape otherwise. A following
  layer built on a wrong guess shows up as a shape mismatch when loading.
- call raises NotImplementedError: an opaque layer has no forward computation.
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"

local M = {}

local OpaqueLayer = Layer:extend("OpaqueLayer")
M.OpaqueLayer = OpaqueLayer

-- No declared params: the config is kept whole by `new`.
function OpaqueLayer:init(_config) end

function M.new(class_name, raw_config, info)
  info = info or {}
  local l = OpaqueLayer{name = info.name, trainable = info.trainable, dtype = info.dtype,
    batch_input_shape = info.batch_input_shape}
  l.class_name = class_name
  l.is_opaque = true
  l.raw_config = raw_config
  l.module = info.module
  l.registered_name = info.registered_name
  l.output_shape_hint = info.output_shape
  l._opaque_objects = nil
  return l
end

function M.is_opaque(layer)
  return type(layer) == "table" and layer.is_opaque == true
end

function OpaqueLayer:get_config()
  return self.raw_config
end

function OpaqueLayer:build(_input_shape)
  self.built = true
end

function OpaqueLayer:compute_output_shape(input_shape)
  local hint = self.output_shape_hint
  local first = input_shape
  if type(input_shape) == "table" and type(input_shape[1]) == "table" then first = input_shape[1] end
  if type(hint) == "table" and #hint > 0 and type(hint[1]) ~= "table" then
    local s = {first and first[1] or false}
    for i = 1, #hint do
      local d = hint[i]
      s[i + 1] = type(d) == "number" and d or false
    end
    return s
  end
  return Layer.copy_shape(first)
end

function OpaqueLayer:call(_inputs)
  errors.not_implemented(string.format("Layer %s is an opaque %s: weightkit keeps its config and weights " ..
    "but has no forward computation for it", self.name, self.class_name))
end

local function new_variable(layer, full_name, shape, dtype)
  local wk = require("weightkit.tensor").api
  return layer:add_weight{name = full_name, full_name = full_name, shape = shape, dtype = dtype,
    value = wk.zeros(shape, dtype)}
end

-- Keras 2 HDF5: the layer group's weight_names (names kept) and shapes.
function M.shape_keras2(layer, file_layer)
  layer._trainable_weights, layer._non_trainable_weights = {}, {}
  for _, w in ipairs(file_layer and file_layer.weights or {}) do
    new_variable(layer, w.name, w.shape, w.dtype)
  end
  layer.built = true
end

-- Keras 3: every vars group at `path` or below it, in the file's order; own vars ("") first as Keras
-- stores an object's own variables before walking its children.
function M.shape_keras3(layer, objects, path)
  layer._trainable_weights, layer._non_trainable_weights = {}, {}
  local prefix = path == "" and "" or path .. "/"
  local own, others = nil, {}
  for _, o in ipairs(objects) do
    local p = (o.path or o.name or ""):gsub("\\", "/")
    local rel
    if p == path then rel = ""
    elseif prefix == "" or p:sub(1, #prefix) == prefix then rel = p:sub(#prefix + 1) end
    -- a root opaque model does not own the optimizer's or the metrics' state
    if rel and path == "" and (rel:match("^optimizer") or rel:match("^metrics")) then rel = nil end
    if rel then
      local entry = {path = rel, name = o.vars_name or (o.path and o.name) or nil, weights = o.weights or {}}
      if rel == "" then own = entry else others[#others + 1] = entry end
    end
  end
  local list = {}
  if own then list[1] = own end
  for _, e in ipairs(others) do list[#list + 1] = e end
  local objs = {}
  for _, e in ipairs(list) do
    local vars = {}
    local ws = {}
    for _, w in ipairs(e.weights) do ws[#ws + 1] = w end
    table.sort(ws, function(a, b) return (tonumber(a.name) or 0) < (tonumber(b.name) or 0) end)
    for _, w in ipairs(ws) do
      local full = layer.name .. "/" .. (e.path ~= "" and e.path .. "/" or "") .. tostring(w.name) .. ":0"
      vars[#vars + 1] = new_variable(layer, full, w.shape, w.dtype)
    end
    objs[#objs + 1] = {path = e.path, name = e.path == "" and layer.name or e.name, variables = vars}
  end
  layer._opaque_objects = objs
  layer.built = true
end

function OpaqueLayer:keras3_objects()
  return self._opaque_objects or {{path = "", name = self.name, variables = {}}}
end

-- An opaque model at the root (a subclassed Keras 3 model) loads and saves through the Keras 3 code.
function OpaqueLayer:load_weights(path, options)
  local k3 = require "weightkit.keras3.load"
  if type(path) == "string" then return k3.load_path(self, path, options) end
  return k3.load(self, path, options)
end

function OpaqueLayer:save_weights(path, options)
  return require("weightkit.keras3.save").save_weights(self, path, options)
end

-- model:save for an opaque root, as for a wk.Model (weightkit.models.save_model).
function OpaqueLayer:save(path, options)
  return require("weightkit.models").save_model(self, path, options)
end

OpaqueLayer.__tostring = function(self)
  return string.format("<weightkit.layers.OpaqueLayer %s name=%s, %d weights>", self.class_name, self.name,
    #self:weights())
end

return M
