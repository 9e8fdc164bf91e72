--[[
weightkit.sequential — tf.keras 2.x `Sequential`: a functional Model over a linear stack of layers.

  local m = wk.Sequential{layer1, layer2, name = "mlp"}      -- or wk.Sequential{layers = {...}}
  m:add(layer)   m:pop()   m:build({false, 784})   m(x)

Auto-names come from the "sequential" counter ("sequential", "sequential_1", ...).

WHEN IT BUILDS (as tf.keras):
- The first layer added is an InputLayer (or the KerasTensor of wk.layers.Input): the graph starts there.
- The first layer added knows its input shape (input_shape / batch_input_shape / input_dim; for a
  nested model, its own first layer's): an InputLayer named "<layer name>_input" is created with that
  batch shape and the layer is called on it.
- Otherwise the model is deferred: each later add only records the layer; `m:build(shape)` (shape with
  the batch dim, e.g. {false, 3}) or the first concrete call `m(x)` creates "<first layer>_input" with
  that shape and calls the stack on it. A later concrete call with another shape rebuilds the graph on
  the relaxed shape (dims that differ become None), dropping the nodes the previous inference made.
Once the graph exists, every add calls the new layer on the current output. As tf.keras, the model is
then the functional graph from its inputs to that output; tf.keras maps that whole graph again on every
add, which makes building n layers O(n^2) (27 s for 3000 layers here). When the new layer is not in
the graph yet and its call extends the chain (its one input is the previous output), the result of
that mapping is known without doing it: layer order = the previous order + the new layer (it is the
only depth-0 layer; every other node and layer moves one depth down and one discovery index up, which
keeps their relative order), network nodes + its node. So add appends in O(1) and only marks the
depth grouping stale (Model:_graph_by_depth maps it again when a forward pass or summary needs it).
Anything else (a layer already in the graph, an InputLayer, pop, build) maps the whole graph.
Duplicate names are found through a name index (self._layer_names) rebuilt with self.layers. Such an
add extends m.layers in place (a list taken from m.layers before the add sees the new layer).

m.layers excludes the InputLayer (tf.keras's Sequential.layers); m._layers (the tracked list, used for
weights and the graph) includes it. Layers must have one output each and unique names.
]]
local Layer = require "weightkit.layer"
local Model = require "weightkit.model"
local errors = require "weightkit.errors"
local graph = require "weightkit.graph"
local input = require "weightkit.layers.input"
local naming = require "weightkit.naming"
local backend = require "weightkit.backend"

local function T() return require("weightkit.tensor").api end

local SINGLE_LAYER_OUTPUT_ERROR_MSG = "All layers in a Sequential model should have a single output " ..
  "tensor. For multi-output layers, use the functional API."

local Sequential = Model:extend("Sequential", {name_prefix = "sequential"})

-- wk.Sequential{l1, l2, name = ...}: the array part is the list of layers.
local construct = Layer.construct
getmetatable(Sequential).__call = function(cls, config, opts)
  config = config or {}
  if type(config) ~= "table" or getmetatable(config) ~= nil then
    errors.type_error("Sequential expects a table: wk.Sequential{layer, layer, ..., name = ...}")
  end
  local rest, layers = {}, {}
  for k, v in pairs(config) do
    if math.type(k) ~= "integer" then rest[k] = v end
  end
  if config.layers ~= nil then
    for _, l in ipairs(config.layers) do layers[#layers + 1] = l end
  end
  for i = 1, #config do layers[#layers + 1] = config[i] end
  rest.layers = layers
  return construct(cls, rest, opts)
end

local function is_input_layer(l)
  return type(l) == "table" and l.class_name == "InputLayer" and l._inbound_nodes ~= nil
end

function Sequential:init(config)
  for k in pairs(config) do
    if k ~= "layers" then
      errors.type_error("Sequential got an unexpected argument: " .. tostring(k))
    end
  end
  self._layers = {}
  self.layers = {}
  self._layer_names, self._layer_set = {}, {}
  self.inputs, self.outputs = nil, nil
  self.built = false
  self._graph_initialized = false
  self._has_explicit_input_shape = false
  self._inferred_input_shape = nil
  self._created_nodes = {}
  self._use_legacy_deferred_behavior = false
  for _, l in ipairs(config.layers) do self:add(l) end
end

-- Rebuilds model.layers (a fresh list, without the InputLayer), the name index and the set of tracked
-- layers from self._layers.
function Sequential:_refresh_layers()
  local l, names, set = {}, {}, {}
  for _, x in ipairs(self._layers) do
    l[#l + 1] = x
    set[x] = true
  end
  if is_input_layer(l[1]) then table.remove(l, 1) end
  for _, x in ipairs(l) do
    if names[x.name] == nil then names[x.name] = x end
  end
  self.layers, self._layer_names, self._layer_set = l, names, set
end

-- O(1) bookkeeping for one more layer at the end of both lists.
function Sequential:_append_layer(layer)
  self._layers[#self._layers + 1] = layer
  self.layers[#self.layers + 1] = layer
  self._layer_set[layer] = true
  if self._layer_names[layer.name] == nil then self._layer_names[layer.name] = layer end
end

-- After `out = layer(prev)` on a built graph: when this call just extends the chain, records it without
-- mapping the graph (see the header) and returns true; false when the whole graph must be mapped.
function Sequential:_extend_graph(layer, prev, out)
  if self._network_nodes == nil or self._layer_set[layer] or is_input_layer(layer) then return false end
  local h = out._keras_history
  if h.layer ~= layer then return false end
  local node = layer._inbound_nodes[h.node_index]
  if node.is_input or #node.inputs ~= 1 or node.inputs[1] ~= prev or #node.outputs ~= 1 then
    return false
  end
  self:_append_layer(layer)
  self._network_nodes[node] = true
  self.outputs, self._nested_outputs = {out}, out
  self._output_layers = {layer}
  self._output_coordinates = {{layer, h.node_index, h.tensor_index}}
  self._nodes_by_depth, self._depth_keys = nil, nil
  self._graph_stale = true
  self.built = true
  return true
end

-- tf.keras training_utils.get_input_shape_and_dtype: descend into nested graph models through their
-- `layers[0]` (for a Sequential that is its first real layer, not its InputLayer).
local function input_shape_and_dtype(layer)
  while layer._is_graph_network or layer.class_name == "Sequential" do
    if not layer.layers or #layer.layers == 0 then
      errors.value_error("An empty Model cannot be used as a Layer.")
    end
    layer = layer.layers[1]
  end
  if layer.batch_input_shape then return layer.batch_input_shape, layer.dtype end
  return nil, nil
end

-- The single output KerasTensor of a layer's latest call.
local function single_output(layer)
  local nodes = layer._inbound_nodes
  local node = nodes[#nodes]
  if #node.outputs ~= 1 then errors.value_error(SINGLE_LAYER_OUTPUT_ERROR_MSG) end
  return node.outputs[1]
end

function Sequential:add(layer)
  if graph.is_keras_tensor(layer) then
    local origin = layer._keras_history.layer
    if is_input_layer(origin) then layer = origin end
  end
  if not Layer.is_layer(layer) then
    errors.type_error("The added layer must be an instance of class Layer. Found: " .. tostring(layer))
  end
  local ref = self._layer_names[layer.name]
  if ref ~= nil and ref ~= layer then
    errors.value_error('All layers added to a Sequential model should have unique names. Name "' ..
      layer.name .. '" is already the name of a layer in this model. Update the `name` argument to ' ..
      "pass a unique name.")
  end

  self.built = false
  local set_inputs, prev, out = false, nil, nil
  if #self._layers == 0 then
    if is_input_layer(layer) then
      set_inputs = true
    else
      local batch_shape, dtype = input_shape_and_dtype(layer)
      if batch_shape then
        local x = input.Input{batch_shape = batch_shape, dtype = dtype, name = layer.name .. "_input"}
        layer(x)
        set_inputs = true
      end
    end
    if set_inputs then
      local out = single_output(layer)
      self.outputs = {out}
      -- the source inputs: the InputLayer output behind this first call
      local node = layer._inbound_nodes[#layer._inbound_nodes]
      if node.is_input then
        self.inputs = {out}
      else
        self.inputs = {node.inputs[1]}
      end
      self.built = true
      self._has_explicit_input_shape = true
    end
  elseif self.outputs then
    prev = self.outputs[1]
    out = layer(prev)
    if not graph.is_keras_tensor(out) then errors.value_error(SINGLE_LAYER_OUTPUT_ERROR_MSG) end
    self.outputs = {out}
    self.built = true
  end

  if self._graph_initialized and not set_inputs and out ~= nil and self:_extend_graph(layer, prev, out) then
    return
  end
  if set_inputs or self._graph_initialized then
    self:_init_graph_network(self.inputs, self.outputs)
    self._graph_initialized = true
  else
    self:_append_layer(layer)
  end
end

function Sequential:pop()
  if #self.layers == 0 then
    errors.type_error("There are no layers in the model.")
  end
  local layer = table.remove(self._layers)
  self:_refresh_layers()
  if #self.layers == 0 then
    self._layers = {}
    self:_refresh_layers()
    self.outputs, self.inputs = nil, nil
    self.built = false
    self._inferred_input_shape = nil
    self._has_explicit_input_shape = false
    self._graph_initialized = false
    self._is_graph_network = nil
  elseif self._graph_initialized then
    local last = self.layers[#self.layers]
    last._outbound_nodes = {}
    -- the last layer's output inside this model's graph
    local out
    for _, n in ipairs(last._inbound_nodes) do
      if self._network_nodes[n] then out = n.outputs[1] end
    end
    self.outputs = {out}
    self:_init_graph_network(self.inputs, self.outputs)
    self.built = true
  end
  return layer
end

--{=====================================================================================================
-- Deferred build
--======================================================================================================

local function relax_input_shape(a, b)
  if a == nil or b == nil or #a ~= #b then return nil end
  local r = {}
  for i = 1, #a do
    if a[i] == b[i] then r[i] = a[i] else r[i] = false end
  end
  return r
end

local same_shape = require("weightkit.naming").same_shape

local function clear_previously_created_nodes(layer, created)
  local function keep(list)
    local r = {}
    for _, n in ipairs(list or {}) do
      if not created[n] then r[#r + 1] = n end
    end
    return r
  end
  for _, node in ipairs(layer._inbound_nodes or {}) do
    for _, t in ipairs(node.inputs) do
      local prev = t._keras_history.layer
      prev._outbound_nodes = keep(prev._outbound_nodes)
    end
  end
  if layer._inbound_nodes then layer._inbound_nodes = keep(layer._inbound_nodes) end
end

local function track_nodes_created_by_last_call(layer, created)
  local nodes = layer._inbound_nodes
  if not nodes or #nodes == 0 then return end
  local node = nodes[#nodes]
  created[node] = true
  for _, t in ipairs(node.inputs) do
    local prev = t._keras_history.layer
    local out = prev._outbound_nodes
    if out and #out > 0 then created[out[#out]] = true end
  end
end

-- tf.keras builds the inferred graph under `ops.init_scope()`, which drops every enclosing name scope:
-- the layers' weights are "dense/kernel:0" however the Sequential is reached (tensorflow#36463,
-- #29576): backend.init_scope runs fn with an empty scope stack.

-- Returns true when the graph exists afterwards; on a layer that cannot be called symbolically it
-- falls back (as tf.keras) to the legacy deferred behaviour and returns false, err.
function Sequential:_build_graph_network_for_inferred_shape(input_shape, input_dtype)
  if self._has_explicit_input_shape then return true end
  if self._use_legacy_deferred_behavior then return false, self._legacy_error end
  if #self.layers == 0 then return false, "empty model" end
  local new_shape
  if self._inferred_input_shape == nil then
    new_shape = Layer.copy_shape(input_shape)
  else
    new_shape = relax_input_shape(self._inferred_input_shape, input_shape)
  end
  if new_shape == nil or same_shape(new_shape, self._inferred_input_shape) then return true end

  local inputs = input.Input{batch_shape = new_shape, dtype = input_dtype or self.layers[1].dtype,
    name = self.layers[1].name .. "_input"}
  local x = inputs
  local created = {}
  for _, layer in ipairs(self.layers) do
    clear_previously_created_nodes(layer, self._created_nodes)
    local ok, res = pcall(backend.init_scope, layer, x)
    if not ok then
      self._use_legacy_deferred_behavior = true
      self._legacy_error = res
      return false, res
    end
    if not graph.is_keras_tensor(res) then errors.value_error(SINGLE_LAYER_OUTPUT_ERROR_MSG) end
    track_nodes_created_by_last_call(layer, created)
    x = res
  end
  self._created_nodes = created
  self:_init_graph_network(inputs, x)
  self._graph_initialized = true
  self._inferred_input_shape = new_shape
  return true
end

-- build(shape): shape includes the batch dim ({false, 3} is (None, 3)).
function Sequential:build(input_shape)
  if self._graph_initialized then
    self:_init_graph_network(self.inputs, self.outputs)
    return
  end
  if input_shape == nil then
    errors.value_error("You must provide an `input_shape` argument.")
  end
  local ok, err = self:_build_graph_network_for_inferred_shape(input_shape)
  if not ok or not self._graph_initialized then
    errors.value_error("Sequential " .. self.name .. " cannot be built on input shape " ..
      naming.shape_str(input_shape) .. ": " .. tostring(err))
  end
  self.built = true
end

function Sequential:maybe_build(input_shape, opts)
  if self.built then return end
  if self._use_legacy_deferred_behavior then return end   -- the layers build as the stack runs
  Layer.maybe_build(self, input_shape, opts)
end

-- A deferred Sequential infers its graph before Layer.__call pushes the model's name scope.
function Sequential.__call(self, inputs, ...)
  if not self.built and not self._has_explicit_input_shape then
    local wk = T()
    if graph.is_keras_tensor(inputs) then
      self:_build_graph_network_for_inferred_shape(inputs:shape(), inputs:dtype())
      if self._graph_initialized then self.built = true end
    elseif wk.is_tensor(inputs) then
      self:_build_graph_network_for_inferred_shape(inputs:shape(), inputs:dtype())
      if self._graph_initialized then self.built = true end
    end
  end
  return Layer.__call(self, inputs, ...)
end

-- Concrete forward: the stack in order (what tf.keras's functional call computes for a chain).
function Sequential:call(inputs)
  local wk = T()
  if not self._has_explicit_input_shape then
    if wk.is_tensor(inputs) then
      self:_build_graph_network_for_inferred_shape(inputs:shape(), inputs:dtype())
    else
      self._use_legacy_deferred_behavior = true
    end
  end
  self:_check_forward()
  local x = inputs
  if self._graph_initialized and wk.is_tensor(x) then
    local dt = self.inputs[1]:dtype()
    if x:dtype() ~= dt then x = x:astype(dt) end
  end
  for _, layer in ipairs(self.layers) do
    x = layer(x)
    if not wk.is_tensor(x) then errors.value_error(SINGLE_LAYER_OUTPUT_ERROR_MSG) end
  end
  return x
end

function Sequential:_missing_forward()
  for _, l in ipairs(self.layers) do
    if l._missing_forward then
      local inner, path = l:_missing_forward()
      if inner then return inner, l.name .. "/" .. path end
    elseif l.call == Layer.call then
      return l, l.name
    end
  end
  return nil
end

function Sequential:compute_output_shape(input_shape)
  if self._graph_initialized then return Model.compute_output_shape(self, input_shape) end
  local s = input_shape
  for _, l in ipairs(self.layers) do s = l:compute_output_shape(s) end
  return s
end

return Sequential
