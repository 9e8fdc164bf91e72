--[[
weightkit.subclassed — a Lua stand-in for a tf.keras subclassed model (`class ActorCritic(tf.keras.Model)`
with `self.common = Dense(128)` ... in __init__): a model whose children are named by attribute, so its
TensorFlow checkpoint keys are `common/kernel/.ATTRIBUTES/VARIABLE_VALUE`, ... (keras-formats.md §5.5).

  local m = wk.models.Subclassed{
    class_name = "ActorCritic",            -- optional (default "Model"); auto-name = its snake case
    name = "actor_critic",                 -- optional
    children = { {"common", wk.layers.Dense{128, activation = "relu"}},
                 {"actor", wk.layers.Dense{9}}, {"critic", wk.layers.Dense{1}},
                 {"blocks", {layer_a, layer_b}} },   -- a list: keys blocks/0/..., blocks/1/...
    call = function(self, x)               -- optional: tf.keras's call(); self.<attribute> is the child
      local h = self.common(x)
      return {self.actor(h), self.critic(h)}
    end,
  }
  m:build({false, 9})                      -- or m(x): builds every child on the input shape(s)
  m:load_weights("checkpoints/my_checkpoint") ; m:save_weights("out/ckpt") ; m:get_weights() ...

BUILDING. build(input_shape) runs `call` on a symbolic input of that shape (a KerasTensor of a private
InputLayer named "<model>_build_input", so no auto-name counter moves), which builds each child layer
as tf.keras's Model.build does; without `call`, the children are applied in order as a chain (each
list item in turn). As in tf.keras, build() pushes no name scope (variables "dense/kernel:0"), while
calling the model (m(x)) builds inside its name ("actor_critic/dense/kernel:0"). Calling it on
concrete tensors runs `call` (or the chain) forward.

WEIGHTS. Children in declaration order (list items in order), then the model's own variables
(self:add_weight in an optional `build_hook = function(self, input_shape)`); weights() etc. are the
base Layer's. m.layers is tf.keras's `Model.layers` of a subclassed model: the direct sublayers in
tracking order, lists flattened; so Keras 2 HDF5 weights (topological, one group per m.layers item)
save and load as in tf.keras, TF checkpoints by attribute name, Keras 3 files by attribute name too
(keras3_children).
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local backend = require "weightkit.backend"

local Subclassed = Layer:extend("Model")

local RESERVED = { name = true, class_name = true, children = true, call = true, build_hook = true,
  trainable = true, dtype = true }

local construct = Layer.construct
getmetatable(Subclassed).__call = function(cls, spec)
  if type(spec) ~= "table" or getmetatable(spec) ~= nil then
    errors.type_error("Subclassed expects a table: wk.models.Subclassed{children = {{\"name\", layer}, ...}}")
  end
  for k in pairs(spec) do
    if not RESERVED[k] then errors.type_error("Subclassed got an unexpected argument: " .. tostring(k)) end
  end
  local class_name = spec.class_name or "Model"
  if type(class_name) ~= "string" then errors.type_error("Subclassed class_name must be a string") end
  local name = spec.name or backend.unique_name(naming.to_snake_case(class_name))
  local self = construct(cls, { name = name, trainable = spec.trainable, dtype = spec.dtype })
  self.class_name = class_name
  self._call_fn, self._build_hook = spec.call, spec.build_hook
  self._tf_children = {}
  self.layers = {}
  for i, c in ipairs(spec.children or {}) do
    local attr, value = c[1], c[2]
    if type(attr) ~= "string" or attr == "" or attr:find("/", 1, true) then
      errors.value_error(string.format("Subclassed child #%d needs a name (an attribute name without '/')", i))
    end
    if RESERVED[attr] or Subclassed[attr] ~= nil or Layer[attr] ~= nil or rawget(self, attr) ~= nil then
      errors.value_error(string.format("Subclassed child name '%s' clashes with a model field or method", attr))
    end
    local items = Layer.is_layer(value) and { value } or value
    if type(items) ~= "table" or #items == 0 then
      errors.type_error(string.format("Subclassed child '%s' must be a layer or a non-empty list of layers", attr))
    end
    for _, l in ipairs(items) do
      if not Layer.is_layer(l) then
        errors.type_error(string.format("Subclassed child '%s' holds a %s, not a layer", attr, type(l)))
      end
      self:track(l)
      self.layers[#self.layers + 1] = l
    end
    self[attr] = value
    self._tf_children[#self._tf_children + 1] = { attr, value }
  end
  return self
end

function Subclassed:init(_config) end

-- The attribute-named dependencies (weightkit.tfckpt.graph); own variables follow them there.
function Subclassed:tf_children()
  return self._tf_children
end

-- Keras 3 walks a subclassed model's attributes the same way (weightkit.keras3.paths).
Subclassed.keras3_children = Subclassed.tf_children

local function chain(self, x)
  for _, c in ipairs(self._tf_children) do
    local items = Layer.is_layer(c[2]) and { c[2] } or c[2]
    for _, l in ipairs(items) do x = l(x) end
  end
  return x
end

function Subclassed:call(inputs, ...)
  if self._call_fn then return self._call_fn(self, inputs, ...) end
  return chain(self, inputs)
end

local function placeholder(self, shape, i)
  local input = require "weightkit.layers.input"
  local suffix = i and ("_" .. i) or ""
  local l = input.InputLayer{ batch_input_shape = shape, name = self.name .. "_build_input" .. suffix,
    dtype = self.dtype }
  return l:output()
end

function Subclassed:build(input_shape)
  if type(input_shape) ~= "table" then
    errors.value_error("Subclassed:build expects an input shape with the batch dimension, e.g. {false, 9}")
  end
  local x
  if type(input_shape[1]) == "table" then
    x = {}
    for i, s in ipairs(input_shape) do x[i] = placeholder(self, s, i) end
  else
    x = placeholder(self, input_shape)
  end
  self:call(x)
  if self._build_hook then self._build_hook(self, input_shape) end
  self.built = true
end

-- weightkit's Layer:build is reached through maybe_build; `m:build(shape)` is the public spelling.
function Subclassed:compute_output_shape(_input_shape)
  errors.not_implemented("compute_output_shape of a subclassed model: call it on an input instead")
end

function Subclassed:load_weights(path, options)
  return require("weightkit.loading").load_into(self, path, options)
end

function Subclassed:save_weights(path, options)
  return require("weightkit.saving").save_weights(self, path, options)
end

function Subclassed.__tostring(self)
  return string.format("<weightkit.%s name=%s, built=%s>", self.class_name, self.name, tostring(self.built))
end

return Subclassed
