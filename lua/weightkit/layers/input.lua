--[[
weightkit.layers.input — InputLayer and Input (tf.keras 2.x `keras.engine.input_layer`).

InputLayer is weightless and built at construction. It creates one node for itself (is_input) whose
single output KerasTensor has the layer's batch_input_shape and dtype. Auto-names come from the
"input" counter, one-based: "input_1", "input_2", ... (a given name consumes no counter).

  InputLayer{input_shape = {3}, batch_size = nil, dtype = nil, name = nil, sparse = false, ragged = false}
  InputLayer{batch_input_shape = {false, 3}}        -- (input_shape and batch_input_shape are exclusive)
  Input{shape = {3}, batch_size = nil, name = nil, dtype = nil} -> KerasTensor  -- also Input{{3}}
  Input{batch_shape = {8, 3}} -> KerasTensor

get_config() = {batch_input_shape, dtype, sparse, ragged, name} in that order (tf.keras 2.x).
]]
local Layer = require "weightkit.layer"
local backend = require "weightkit.backend"
local errors = require "weightkit.errors"
local graph = require "weightkit.graph"

local M = {}

local InputLayer = Layer:extend("InputLayer", {
  params = {{"sparse", false}, {"ragged", false}, {"input_tensor"}, {"type_spec"}},
  name_prefix = "input",
  zero_based = false,
})
M.InputLayer = InputLayer

-- The class is called like every layer class; the checks on the shape arguments need the raw config
-- (the base constructor consumes input_shape / batch_input_shape before init runs).
local construct = getmetatable(InputLayer).__call
getmetatable(InputLayer).__call = function(cls, config, opts)
  config = config or {}
  if type(config) == "table" and getmetatable(config) == nil then
    if config.input_shape ~= nil and config.batch_input_shape ~= nil then
      errors.value_error("Only provide the input_shape OR batch_input_shape argument to InputLayer, " ..
        "not both at the same time.")
    end
    if config.batch_size ~= nil and config.batch_input_shape ~= nil then
      errors.value_error("Cannot set both batch_size and batch_input_shape")
    end
    if config.input_shape == nil and config.batch_input_shape == nil and config.input_dim == nil then
      errors.value_error("InputLayer needs `input_shape` (without the batch dimension) or " ..
        "`batch_input_shape` (weightkit has no input tensors of unknown rank).")
    end
  end
  return construct(cls, config, opts)
end

function InputLayer:init(config)
  Layer.init(self, config)
  if config.input_tensor ~= nil or config.type_spec ~= nil then
    errors.value_error("InputLayer: `input_tensor` and `type_spec` are not supported by weightkit")
  end
  self.sparse = config.sparse and true or false
  self.ragged = config.ragged and true or false
  self.is_placeholder = true
  self.built = true
  self.build_input_shape = Layer.copy_shape(self.batch_input_shape)
  -- the node linking nothing to this layer's output tensor
  graph.new_node(self, nil, self.batch_input_shape, self.dtype, true)
end

function InputLayer:compute_output_shape(input_shape)
  return Layer.copy_shape(input_shape)
end

function InputLayer:call(x)
  return x
end

-- The KerasTensor this layer outputs.
function InputLayer:output()
  return self._inbound_nodes[1].outputs[1]
end

function InputLayer:get_config()
  local cfg = {
    batch_input_shape = Layer.copy_shape(self.batch_input_shape),
    dtype = self.dtype,
    sparse = self.sparse,
    ragged = self.ragged,
    name = self.name,
  }
  return Layer.ordered(cfg, {"batch_input_shape", "dtype", "sparse", "ragged", "name"})
end

-- keras.Input: builds an InputLayer and returns its output KerasTensor.
local INPUT_KEYS = {shape = true, batch_size = true, name = true, dtype = true, sparse = true,
  ragged = true, batch_shape = true, tensor = true, type_spec = true}

function M.Input(config)
  config = config or {}
  if type(config) ~= "table" or getmetatable(config) ~= nil then
    errors.type_error("Input expects a table such as {shape = {3}}")
  end
  local shape = config.shape
  if shape == nil and type(config[1]) == "table" then shape = config[1] end
  for k in pairs(config) do
    if type(k) == "string" and not INPUT_KEYS[k] then
      errors.value_error("Unrecognized keyword arguments: ['" .. k .. "']")
    end
  end
  if config.tensor ~= nil or config.type_spec ~= nil then
    errors.value_error("Input: `tensor` and `type_spec` are not supported by weightkit")
  end
  local batch_shape = config.batch_shape
  if shape ~= nil and batch_shape ~= nil then
    errors.value_error("Only provide the `shape` OR `batch_shape` argument to Input, not both at the " ..
      "same time.")
  end
  if shape == nil and batch_shape == nil then
    errors.value_error("Please provide to Input a `shape` or a `tensor` or a `type_spec` argument. Note " ..
      "that `shape` does not include the batch dimension.")
  end
  local layer_config = {
    name = config.name,
    dtype = config.dtype or backend.floatx(),
    sparse = config.sparse or false,
    ragged = config.ragged or false,
  }
  if batch_shape ~= nil then
    layer_config.batch_input_shape = batch_shape
  else
    layer_config.input_shape = shape
    layer_config.batch_size = config.batch_size
  end
  local layer = InputLayer(layer_config)
  return layer:output()
end

return M
