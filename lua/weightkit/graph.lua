--[[
weightkit.graph — symbolic tensors and call nodes (the functional-API bookkeeping of tf.keras 2.x).

A KerasTensor stands for a tensor that does not exist yet: a shape whose unknown dims are `false`
(Keras None; the batch dim of an Input is unknown unless batch_size was given), a dtype, and a
history {layer, node_index, tensor_index} naming the call that produces it.

INDEXING. node_index and tensor_index are 1-based here (Lua); Keras's are 0-based, so a config
writer emits node_index - 1 and tensor_index - 1.

A Node records one call of a layer on symbolic inputs:
  node.layer           the called layer
  node.call_inputs     what was passed (one KerasTensor or a list of them)
  node.inputs          the flat list of input KerasTensors (empty for an InputLayer's node)
  node.outputs         the flat list of output KerasTensors
  node.extra_args      nil, or table.pack of the extra (non-symbolic) arguments of the call
  node.is_input        true for the node an InputLayer creates for itself
  node.single_output   true when the call returned one tensor (not a list)
Nodes are appended to layer._inbound_nodes (a shared layer has several) and to the producing
layers' _outbound_nodes. Every Node is a fresh table, so tables keyed by node identify calls.

call_layer(layer, inputs) is what Layer.__call__ delegates to for symbolic inputs: it builds the
layer (inside its name scope, as tf.keras builds under `name_scope(layer.name)`) from the input
shapes, computes the output shapes with layer:compute_output_shape, records a Node and returns
the output KerasTensor(s). No forward computation happens on symbolic tensors.
]]
local backend = require "weightkit.backend"
local naming = require "weightkit.naming"
local errors = require "weightkit.errors"

local M = {}

--[[ {=====================================================================
  Shapes
===================================================================== ]]

-- A shape is an array of dims (integers, or false for None); a list of shapes is an array of
-- tables. An empty table is the shape of a scalar.
local function is_shape_list(s)
  return type(s) == "table" and type(s[1]) == "table"
end
M.is_shape_list = is_shape_list

local function copy_shape(s)
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end
M.copy_shape = copy_shape

local shape_str = naming.shape_str
M.shape_str = shape_str

--[[ {=====================================================================
  KerasTensor
===================================================================== ]]

local KerasTensor = {}
KerasTensor.__index = KerasTensor
KerasTensor.__name = "weightkit.KerasTensor"
M.KerasTensor = KerasTensor

local function new_keras_tensor(shape, dtype, layer, node_index, tensor_index)
  return setmetatable({
    _shape = copy_shape(shape),
    _dtype = dtype or "float32",
    _keras_history = {layer = layer, node_index = node_index, tensor_index = tensor_index},
  }, KerasTensor)
end
M.new_keras_tensor = new_keras_tensor

function KerasTensor:shape() return copy_shape(self._shape) end
function KerasTensor:dtype() return self._dtype end
function KerasTensor:rank() return #self._shape end
function KerasTensor:keras_history()
  local h = self._keras_history
  return h.layer, h.node_index, h.tensor_index
end

-- tf.keras 2.x prints KerasTensor(type_spec=TensorSpec(shape=(None, 3), dtype=tf.float32,
-- name=...), name=..., description="created by layer 'input_1'"); we keep the useful part.
function KerasTensor:__tostring()
  local layer = self._keras_history.layer
  return string.format("KerasTensor(shape=%s, dtype=%s, description=\"created by layer '%s'\")",
    shape_str(self._shape), self._dtype, layer and layer.name or "?")
end

local function is_keras_tensor(x)
  return getmetatable(x) == KerasTensor
end
M.is_keras_tensor = is_keras_tensor

-- Symbolic: a KerasTensor, or a plain list holding at least one KerasTensor (call_layer then
-- insists that all of them are).
function M.is_symbolic(x)
  if is_keras_tensor(x) then return true end
  if type(x) ~= "table" or getmetatable(x) ~= nil then return false end
  for i = 1, #x do
    if is_keras_tensor(x[i]) then return true end
  end
  return false
end

-- The flat list of KerasTensors in a single tensor or a list.
local function flatten(x)
  if is_keras_tensor(x) then return {x} end
  local out = {}
  for i = 1, #x do out[i] = x[i] end
  return out
end
M.flatten = flatten

--[[ {=====================================================================
  Node
===================================================================== ]]

local Node = {}
Node.__index = Node
Node.__name = "weightkit.Node"
M.Node = Node

local function track(layer, field, node)
  local list = rawget(layer, field)
  if not list then
    list = {}
    rawset(layer, field, list)
  end
  list[#list + 1] = node
  return #list
end

-- Creates a node, registers it on the layer's inbound nodes and on the producers' outbound nodes,
-- and makes output KerasTensors for `output_shapes` (one shape, or a list of shapes).
function M.new_node(layer, call_inputs, output_shapes, output_dtypes, is_input)
  local node = setmetatable({
    layer = layer,
    call_inputs = call_inputs,
    inputs = call_inputs and flatten(call_inputs) or {},
    outputs = {},
    is_input = is_input and true or false,
  }, Node)
  local node_index = track(layer, "_inbound_nodes", node)
  local single = not is_shape_list(output_shapes)
  local shapes = single and {output_shapes} or output_shapes
  node.single_output = single
  for j, s in ipairs(shapes) do
    local dt = type(output_dtypes) == "table" and output_dtypes[j] or output_dtypes
    node.outputs[j] = new_keras_tensor(s, dt, layer, node_index, j)
  end
  for _, t in ipairs(node.inputs) do
    track(t._keras_history.layer, "_outbound_nodes", node)
  end
  return node
end

-- The nodes producing this node's inputs, in input order (duplicates kept, as Keras does).
function Node:parent_nodes()
  local out = {}
  for i, t in ipairs(self.inputs) do
    local h = t._keras_history
    out[i] = h.layer._inbound_nodes[h.node_index]
  end
  return out
end

-- 1-based index of this node in its layer's inbound nodes.
function Node:index()
  for i, n in ipairs(self.layer._inbound_nodes) do
    if n == self then return i end
  end
  return nil
end

function Node:output_shapes()
  local out = {}
  for j, t in ipairs(self.outputs) do out[j] = t:shape() end
  if self.single_output then return out[1] end
  return out
end

function Node:input_shapes()
  if is_keras_tensor(self.call_inputs) then return self.call_inputs:shape() end
  local out = {}
  for j, t in ipairs(self.inputs) do out[j] = t:shape() end
  return out
end

-- The call's result: one KerasTensor or the list.
function Node:result()
  if self.single_output then return self.outputs[1] end
  local out = {}
  for j, t in ipairs(self.outputs) do out[j] = t end
  return out
end

--[[ {=====================================================================
  call_layer
===================================================================== ]]

-- Runs fn() with the layer's name pushed on the backend's name-scope stack.
local function in_name_scope(name, fn)
  return backend.with_name_scope(name, fn)
end
M.in_name_scope = in_name_scope

-- Output dtype of a layer call: the layer's compute dtype (tf.keras casts floating inputs to it), else
-- the first input's.
local function output_dtype(layer, inputs)
  local dt = layer.compute_dtype or layer.dtype
  if type(dt) == "string" then return dt end
  if inputs[1] then return inputs[1]:dtype() end
  return backend.floatx()
end

-- Extra call arguments (training flags, options tables) are kept on the node and passed again by
-- a model's forward pass; KerasTensors inside them (Keras's initial_state=[h, c]) are not graph
-- edges here, so they are refused.
local function has_keras_tensor(v, depth)
  if is_keras_tensor(v) then return true end
  if type(v) ~= "table" or getmetatable(v) ~= nil or depth > 4 then return false end
  for _, x in pairs(v) do
    if has_keras_tensor(x, depth + 1) then return true end
  end
  return false
end

function M.call_layer(layer, inputs, ...)
  local flat = flatten(inputs)
  if #flat == 0 then
    errors.value_error("Layer " .. tostring(layer.name) .. " was called on an empty list of inputs.")
  end
  for i, t in ipairs(flat) do
    if not is_keras_tensor(t) then
      errors.type_error(string.format("Layer %s was called on a mix of symbolic and concrete inputs " ..
        "(input %d is a %s); use wk.layers.Input for every input of a functional graph",
        tostring(layer.name), i, type(t)))
    end
  end
  local extra = table.pack(...)
  for i = 1, extra.n do
    if has_keras_tensor(extra[i], 0) then
      errors.not_implemented(string.format("Layer %s: symbolic tensors in extra call arguments are not " ..
        "supported by weightkit's functional graphs", tostring(layer.name)))
    end
  end
  local shapes
  if is_keras_tensor(inputs) then
    shapes = inputs:shape()
  else
    shapes = {}
    for i, t in ipairs(flat) do shapes[i] = t:shape() end
  end
  local out_shapes = in_name_scope(layer.name, function()
    layer:maybe_build(shapes)
    return layer:compute_output_shape(shapes)
  end)
  if type(out_shapes) ~= "table" then
    errors.type_error("Layer " .. tostring(layer.name) .. ": compute_output_shape returned a " ..
      type(out_shapes))
  end
  local call_inputs = is_keras_tensor(inputs) and inputs or flat
  local node = M.new_node(layer, call_inputs, out_shapes, output_dtype(layer, flat), false)
  if extra.n > 0 then node.extra_args = extra end
  return node:result()
end

return M
