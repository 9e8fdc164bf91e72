--[[
weightkit.model — the functional Model (tf.keras 2.x `Functional`), a Layer made of a graph of layers.

  local m = wk.Model{inputs = x, outputs = y, name = nil, trainable = true}   -- also wk.Model{x, y}
  m.layers, m.inputs, m.outputs, m:get_layer("dense") / m:get_layer(1), m(x) (symbolic or concrete)
  m:weights() m:trainable_weights() m:non_trainable_weights() m:get_weights() m:set_weights(list)
  m:count_params() m:summary{print_fn = print}
  m:load_weights(path, {by_name =, skip_mismatch =}) -> report   (weightkit.loading; Keras 3 files:
                                                                    weightkit.keras3.load)
  m:save_weights(path, {overwrite =, save_format =, max_shard_size =})  (weightkit.saving; `.weights.h5`,
                                                                    `.weights.json`: weightkit.keras3.save)

class_name is "Functional" (what tf.keras >= 2.4 writes in configs and summaries); auto-names come
from the "model" counter: "model", "model_1", ...

LAYER ORDER (model.layers) — tf.keras `_map_graph_network`, reimplemented from its description:
 1. Walk the graph depth-first from each output in turn. A node is entered once; entering a node
    first gives its layer a discovery index (the first time that layer is seen), then its input
    tensors are walked in order, and the node is appended to a list when it finishes (post-order:
    producers before consumers).
 2. Visit that list backwards (consumers first). A node's depth is the largest depth pushed to it by
    its consumers (0 for an output node), raised to its layer's depth so far (a shared layer keeps
    its deepest use); the layer's depth becomes that value, and each producer of the node's inputs
    gets at least depth + 1.
 3. Model inputs that are not connected to any output get depth 0 and discovery index -1.
 4. Layers are sorted by decreasing depth; layers at the same depth by discovery index.
So InputLayers come first, outputs last, and a shared layer appears once (at its deepest depth).
Nodes grouped by depth drive the forward pass (deepest first) and compute_output_shape.

WEIGHTS (keras-formats.md §3.7): weights() = for each layer of model.layers in order, that layer's
weights() (a nested model recursing per sublayer), then the model's own trainable and non-trainable
weights, de-duplicated. trainable_weights() = [] if the model is frozen, else each layer's trainable
weights then the own ones; non_trainable_weights() = each layer's non-trainable weights then the own
ones, or, for a frozen model, every layer's trainable weights, the own trainable ones, every layer's
non-trainable weights, the own non-trainable ones (tf.keras Model). The HDF5 order of a nested model's
group is trainable_weights() .. non_trainable_weights() (all trainable first), not weights().
`m:set_trainable(false)` freezes the model and every layer in it (tf.keras's `trainable` setter);
`m.trainable = false` flips only the model's own flag (tf.keras's constructor argument).
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"
local graph = require "weightkit.graph"
local naming = require "weightkit.naming"

local function T() return require("weightkit.tensor").api end

local shape_str = naming.shape_str
local is_keras_tensor = graph.is_keras_tensor

local Model = Layer:extend("Functional", {name_prefix = "model", positional = {"inputs", "outputs"}})

local append, dedup = Layer.append, Layer.dedup

local function py_str_list(names)
  local parts = {}
  for i, n in ipairs(names) do parts[i] = "'" .. n .. "'" end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- tf.keras prints a KerasTensor like this in its graph errors.
local function keras_tensor_repr(t)
  local layer = t._keras_history.layer
  local dtype = "tf." .. t:dtype()
  if layer.class_name == "InputLayer" then
    return string.format("KerasTensor(type_spec=TensorSpec(shape=%s, dtype=%s, name='%s'), name='%s', " ..
      "description=\"created by layer '%s'\")", shape_str(t:shape()), dtype, layer.name, layer.name,
      layer.name)
  end
  return string.format("KerasTensor(type_spec=TensorSpec(shape=%s, dtype=%s, name=None), " ..
    "description=\"created by layer '%s'\")", shape_str(t:shape()), dtype, layer.name)
end

--{=====================================================================================================
-- Graph mapping (tf.keras _build_map / _map_graph_network)
--======================================================================================================

local function node_of(t)
  local h = t._keras_history
  return h.layer._inbound_nodes[h.node_index]
end

-- Step 1: post-order list of nodes and the discovery index of every layer. Iterative (an explicit
-- stack of {node, next input position}) so that a chain of any length needs no Lua call depth; the
-- visiting order is that of the recursive description above.
local function build_map(outputs)
  local finished, in_progress = {}, {}
  local ordered, layer_index, count = {}, {}, 0
  local stack_node, stack_pos, top = {}, {}, 0
  local function enter(t)
    local node = node_of(t)
    if finished[node] then return end
    local layer = node.layer
    if in_progress[node] then
      errors.value_error("The tensor " .. keras_tensor_repr(t) .. ' at layer "' .. layer.name ..
        '" is part of a cycle.')
    end
    if layer_index[layer] == nil then
      layer_index[layer] = count
      count = count + 1
    end
    in_progress[node] = true
    top = top + 1
    stack_node[top], stack_pos[top] = node, 1
  end
  for _, t in ipairs(outputs) do
    enter(t)
    while top > 0 do
      local node, i = stack_node[top], stack_pos[top]
      local inputs = node.inputs
      if not node.is_input and i <= #inputs then
        stack_pos[top] = i + 1
        enter(inputs[i])
      else
        finished[node] = true
        in_progress[node] = nil
        ordered[#ordered + 1] = node
        stack_node[top], stack_pos[top] = nil, nil
        top = top - 1
      end
    end
  end
  return ordered, layer_index
end

-- Steps 2-4. Returns network_nodes (set), nodes_by_depth ({depth = {nodes}}), depth_keys (decreasing),
-- layers (ordered list).
local function map_graph_network(inputs, outputs)
  local ordered, layer_index = build_map(outputs)
  local network_nodes = {}
  for _, n in ipairs(ordered) do network_nodes[n] = true end

  -- insertion-ordered maps (Python dicts keep insertion order; we mirror it for determinism)
  local node_depth, node_seq = {}, {}
  local layer_depth, layer_seq = {}, {}
  local function set_node(n, d)
    if node_depth[n] == nil then node_seq[#node_seq + 1] = n end
    node_depth[n] = d
  end
  local function set_layer(l, d)
    if layer_depth[l] == nil then layer_seq[#layer_seq + 1] = l end
    layer_depth[l] = d
  end

  for i = #ordered, 1, -1 do
    local node = ordered[i]
    local depth = node_depth[node]
    if depth == nil then depth = 0; set_node(node, 0) end
    local previous = layer_depth[node.layer] or 0
    if previous > depth then depth = previous end
    set_layer(node.layer, depth)
    set_node(node, depth)
    for _, parent in ipairs(node:parent_nodes()) do
      local prev = node_depth[parent] or 0
      set_node(parent, math.max(depth + 1, prev))
    end
  end

  for _, t in ipairs(inputs) do
    local input_layer = t._keras_history.layer
    if layer_depth[input_layer] == nil then
      set_layer(input_layer, 0)
      layer_index[input_layer] = -1
      local n = input_layer._inbound_nodes[1]
      set_node(n, 0)
      network_nodes[n] = true
    end
  end

  local nodes_by_depth, depth_set = {}, {}
  for _, n in ipairs(node_seq) do
    local d = node_depth[n]
    if not nodes_by_depth[d] then nodes_by_depth[d] = {}; depth_set[#depth_set + 1] = d end
    local list = nodes_by_depth[d]
    list[#list + 1] = n
  end
  table.sort(depth_set, function(a, b) return a > b end)

  local seq_of = {}
  for i, l in ipairs(layer_seq) do seq_of[l] = i end
  local layers = {}
  for _, l in ipairs(layer_seq) do layers[#layers + 1] = l end
  table.sort(layers, function(a, b)
    local da, db = layer_depth[a], layer_depth[b]
    if da ~= db then return da > db end
    local ia, ib = layer_index[a], layer_index[b]
    if ia ~= ib then return ia < ib end
    return seq_of[a] < seq_of[b]      -- stable, as Python's sort
  end)

  -- every tensor a node needs must be computable from the inputs
  local computable = {}
  for _, t in ipairs(inputs) do computable[t] = true end
  local done = {}
  for _, d in ipairs(depth_set) do
    for _, node in ipairs(nodes_by_depth[d]) do
      if not node.is_input then
        for _, x in ipairs(node.inputs) do
          if not computable[x] then
            errors.value_error("Graph disconnected: cannot obtain value for tensor " .. keras_tensor_repr(x) ..
              ' at layer "' .. node.layer.name .. '". The following previous layers were accessed ' ..
              "without issue: " .. py_str_list(done))
          end
        end
        for _, x in ipairs(node.outputs) do computable[x] = true end
        done[#done + 1] = node.layer.name
      end
    end
  end

  local counts = {}
  for _, l in ipairs(layers) do counts[l.name] = (counts[l.name] or 0) + 1 end
  for _, l in ipairs(layers) do
    if counts[l.name] ~= 1 then
      errors.value_error('The name "' .. l.name .. '" is used ' .. counts[l.name] .. " times in the model. " ..
        "All layer names should be unique.")
    end
  end
  return network_nodes, nodes_by_depth, depth_set, layers
end
Model.map_graph_network = map_graph_network

--{=====================================================================================================
-- Construction
--======================================================================================================

local function flatten_tensors(x, what)
  if is_keras_tensor(x) then return {x}, x end
  if type(x) ~= "table" or getmetatable(x) ~= nil or #x == 0 then
    errors.value_error(string.format("Model %s must be a KerasTensor or a list of KerasTensors " ..
      "(from wk.layers.Input and layer calls)", what))
  end
  local flat = {}
  for i, t in ipairs(x) do
    if not is_keras_tensor(t) then
      errors.value_error(string.format("%s tensors to a Functional must come from `tf.keras.Input`. " ..
        "Received: %s (missing previous layer metadata).", what == "inputs" and "Input" or "Output",
        tostring(t)))
    end
    flat[i] = t
  end
  if #flat == 1 then return flat, flat[1] end      -- a one-element list is unwrapped, as in tf.keras
  return flat, flat
end

function Model:init(config)
  if config.inputs == nil or config.outputs == nil then
    errors.type_error("Model needs `inputs` and `outputs` (a subclassed model is wk.models.Subclassed{children = ...})")
  end
  for k in pairs(config) do
    if k ~= "inputs" and k ~= "outputs" then
      errors.type_error("Functional models may only specify `name` and `trainable` keyword arguments " ..
        "during initialization. Got an unexpected argument: " .. tostring(k))
    end
  end
  self:_init_graph_network(config.inputs, config.outputs)
end

-- (Re)builds the graph bookkeeping from input and output KerasTensors; Sequential calls it again
-- whenever its stack changes.
function Model:_init_graph_network(inputs, outputs)
  local flat_in, nested_in = flatten_tensors(inputs, "inputs")
  local flat_out, nested_out = flatten_tensors(outputs, "outputs")
  local seen = {}
  for _, t in ipairs(flat_in) do
    if seen[t] then
      local parts = {}
      for i, x in ipairs(flat_in) do parts[i] = keras_tensor_repr(x) end
      errors.value_error("The list of inputs passed to the model is redundant. All inputs should only " ..
        "appear once. Found: [" .. table.concat(parts, ", ") .. "]")
    end
    seen[t] = true
    local layer = t._keras_history.layer
    local nodes = layer._inbound_nodes
    if #nodes > 1 or (nodes[1] and not nodes[1].is_input) then
      errors.warn("Functional inputs must come from `tf.keras.Input` (thus holding past layer metadata), " ..
        "they cannot be the output of a previous non-Input layer. Here, a tensor specified as input to \"" ..
        self.name .. "\" was not an Input tensor, it was generated by layer " .. layer.name .. ".")
    end
  end
  local batch_sizes, consistent = {}, nil
  for i, t in ipairs(flat_in) do
    local b = t._keras_history.layer.batch_input_shape
    b = b and b[1] or false
    batch_sizes[i] = b and tostring(b) or "None"
    if b then
      if consistent and b ~= consistent then
        errors.value_error("The specified batch sizes of the Input Layers are incompatible. Found batch " ..
          "sizes: [" .. table.concat(batch_sizes, ", ") .. "]")
      end
      consistent = b
    end
  end

  self._is_graph_network = true
  self.inputs, self.outputs = flat_in, flat_out
  self._nested_inputs, self._nested_outputs = nested_in, nested_out
  self._input_layers, self._output_layers, self._output_coordinates = {}, {}, {}
  for i, t in ipairs(flat_in) do self._input_layers[i] = t._keras_history.layer end
  for i, t in ipairs(flat_out) do
    local h = t._keras_history
    self._output_layers[i] = h.layer
    self._output_coordinates[i] = {h.layer, h.node_index, h.tensor_index}
  end

  local network_nodes, nodes_by_depth, depth_keys, layers = map_graph_network(flat_in, flat_out)
  self._network_nodes = network_nodes
  self._nodes_by_depth = nodes_by_depth
  self._depth_keys = depth_keys
  self._graph_stale = nil
  self._layers = layers              -- the tracked sublayers (base Layer's list)
  self:_refresh_layers()

  local in_shapes = {}
  for i, t in ipairs(flat_in) do in_shapes[i] = t:shape() end
  self.build_input_shape = is_keras_tensor(nested_in) and in_shapes[1] or in_shapes
  self.built = true
end

-- Nodes grouped by depth ({[depth] = {nodes}}) and the depths in decreasing order. Sequential:add extends
-- its chain without mapping the whole graph again (that made building n layers O(n^2)): it sets
-- self._graph_stale and drops these two, which are then mapped here once, when something needs them.
-- Read them through this method, never as fields.
function Model:_graph_by_depth()
  if self._graph_stale then
    local network_nodes, nodes_by_depth, depth_keys = map_graph_network(self.inputs, self.outputs)
    self._network_nodes = network_nodes
    self._nodes_by_depth, self._depth_keys = nodes_by_depth, depth_keys
    self._graph_stale = nil
  end
  return self._nodes_by_depth, self._depth_keys
end

-- model.layers: a fresh list (Sequential hides its InputLayer).
function Model:_refresh_layers()
  local l = {}
  for i, x in ipairs(self._layers) do l[i] = x end
  self.layers = l
end

function Model:build(_input_shape)
  self.built = true
end

--{=====================================================================================================
-- Weights
--======================================================================================================

function Model:weights()
  local list = {}
  for _, l in ipairs(self._layers) do append(list, l:weights()) end
  append(list, self._trainable_weights)
  append(list, self._non_trainable_weights)
  return dedup(list)
end

function Model:trainable_weights()
  if not self.trainable then return {} end
  local list = {}
  for _, l in ipairs(self._layers) do append(list, l:trainable_weights()) end
  append(list, self._trainable_weights)
  return dedup(list)
end

function Model:non_trainable_weights()
  local nt = {}
  for _, l in ipairs(self._layers) do append(nt, l:non_trainable_weights()) end
  local list
  if self.trainable then
    list = append(nt, self._non_trainable_weights)
  else
    list = {}
    for _, l in ipairs(self._layers) do append(list, l:trainable_weights()) end
    append(list, self._trainable_weights)
    append(list, nt)
    append(list, self._non_trainable_weights)
  end
  return dedup(list)
end

-- Weights the model object owns itself (tf-keras `_trainable_weights + _non_trainable_weights`; the HDF5
-- `top_level_model_weights` group). Functional models normally own none.
function Model:top_level_weights()
  return dedup(append(append({}, self._trainable_weights), self._non_trainable_weights))
end

-- get_weights / set_weights / count_params: the base Layer's, over weights() above (set_weights
-- checks the count and every shape before assigning; its messages name the model).

-- m:load_weights(path_or_file, {by_name = false, skip_mismatch = false}) -> report (design.md §3): Keras 2
-- HDF5 loading (lua/weightkit/loading), Keras 3 loading for `.weights.h5` / `.weights.json` names and
-- Keras 3 files (`.keras` zips; lua/weightkit/keras3/load.lua), TF checkpoints and SavedModel directories
-- (lua/weightkit/tfckpt/load.lua), chosen by loading.load_into; a path is opened with wk.open and
-- closed afterwards.
function Model:load_weights(path, options)
  return require("weightkit.loading").load_into(self, path, options)
end

-- m:save_weights(path, {overwrite = true, save_format = nil, max_shard_size = nil}) -> true | false
-- (declined): Keras 2 HDF5 (lua/weightkit/saving.lua), TF checkpoints for other names or save_format =
-- "tf" (lua/weightkit/tfckpt/save.lua), Keras 3 `.weights.h5` / sharded `.weights.json`
-- (lua/weightkit/keras3/save.lua), chosen by saving.lua.
function Model:save_weights(path, options)
  return require("weightkit.saving").save_weights(self, path, options)
end

--{=====================================================================================================
-- Configs and whole-model saving (weightkit.config, weightkit.models)
--======================================================================================================

-- m:get_config() -> the "config" part of the Keras 2 model_config (tf.keras 2.15 spelling), a value
-- weightkit.json encodes in Keras's key order; m:to_json() -> the whole model_config text.
function Model:get_config()
  return require("weightkit.config.serialize").model_config(self).config
end

function Model:to_json(indent)
  local serialize = require "weightkit.config.serialize"
  return serialize.to_json(serialize.model_config(self), indent)
end

-- wk.Model:from_config(config) / wk.Sequential:from_config(config): config is the "config" part (a
-- table or JSON text of it) of a model of this class; returns a new model.
function Model.from_config(cls, config, opts)
  if type(config) == "string" then config = require("weightkit.config.json").decode(config) end
  return (require("weightkit.models").from_config({class_name = cls.class_name, config = config}, opts))
end

-- m:save(path, {overwrite = true}): `.keras` archive or Keras 2 full-model HDF5 (weightkit.models).
function Model:save(path, options)
  return require("weightkit.models").save_model(self, path, options)
end

--{=====================================================================================================
-- Layers
--======================================================================================================

-- get_layer("name"), get_layer(index) (1-based, over model.layers), get_layer{name = ..., index = ...}.
function Model:get_layer(name, index)
  if type(name) == "table" then name, index = name.name, name.index end
  if type(name) == "number" and index == nil then name, index = nil, name end
  if index ~= nil and name ~= nil then
    errors.value_error("Provide only a layer name or a layer index.")
  end
  if index ~= nil then
    if math.type(index) ~= "integer" or index < 1 or index > #self.layers then
      errors.value_error("Was asked to retrieve layer at index " .. tostring(index) .. " but model only has " ..
        #self.layers .. " layers.")
    end
    return self.layers[index]
  end
  if name ~= nil then
    for _, l in ipairs(self.layers) do
      if l.name == name then return l end
    end
    local names = {}
    for i, l in ipairs(self.layers) do names[i] = l.name end
    errors.value_error("No such layer: " .. tostring(name) .. ". Existing layers are: " .. py_str_list(names) ..
      ".")
  end
  errors.value_error("Provide either a layer name or layer index.")
end

--{=====================================================================================================
-- Shapes and forward
--======================================================================================================

-- Runs the graph deepest nodes first, as tf.keras does. `known` maps each model input tensor to a value
-- (a shape, or a concrete tensor); fn(node, args) gets a layer node's inputs in the form its layer was
-- called with (one value, or a list) and returns the node's output(s), which `known` then maps from the
-- node's output tensors.
local function run_nodes(self, known, fn)
  local nodes_by_depth, depth_keys = self:_graph_by_depth()
  for _, d in ipairs(depth_keys) do
    for _, node in ipairs(nodes_by_depth[d]) do
      if not node.is_input then
        local args
        if is_keras_tensor(node.call_inputs) then
          args = known[node.call_inputs]
        else
          args = {}
          for i, x in ipairs(node.inputs) do args[i] = known[x] end
        end
        local out = fn(node, args)
        if node.single_output then
          known[node.outputs[1]] = out
        else
          for j = 1, #node.outputs do known[node.outputs[j]] = out[j] end
        end
      end
    end
  end
end

-- Propagates shapes through the graph (layers' compute_output_shape), as tf.keras does.
function Model:compute_output_shape(input_shape)
  local shapes
  if #self.inputs == 1 and not graph.is_shape_list(input_shape) then
    shapes = {input_shape}
  else
    shapes = input_shape
  end
  if type(shapes) ~= "table" or #shapes ~= #self.inputs then
    errors.value_error("Invalid input_shape argument " .. shape_str(input_shape) .. ": model has " ..
      #self.inputs .. " tensor inputs.")
  end
  local known = {}
  for i, t in ipairs(self.inputs) do known[t] = shapes[i] end
  run_nodes(self, known, function(node, s) return node.layer:compute_output_shape(s) end)
  local res = {}
  for i, t in ipairs(self.outputs) do res[i] = Layer.copy_shape(known[t]) end
  if is_keras_tensor(self._nested_outputs) then return res[1] end
  return res
end

-- The first layer (depth-first into nested models) that has no concrete forward, or nil.
function Model:_missing_forward()
  for _, l in ipairs(self._layers) do
    if l._missing_forward then
      local inner, path = l:_missing_forward()
      if inner then return inner, l.name .. "/" .. path end
    elseif l.class_name ~= "InputLayer" and l.call == Layer.call then
      return l, l.name
    end
  end
  return nil
end

function Model:_check_forward()
  local missing, path = self:_missing_forward()
  if missing then
    errors.not_implemented(string.format("Model %s cannot run a forward pass: layer %s (%s) has no " ..
      "forward computation in weightkit", self.name, path, missing.class_name))
  end
end

function Model:call(inputs)
  local wk = T()
  self:_check_forward()
  local flat
  if wk.is_tensor(inputs) then flat = {inputs} else flat = inputs end
  if type(flat) ~= "table" or #flat ~= #self.inputs then
    errors.value_error(string.format("Layer %s expects %d input(s), but it received %d input tensors.",
      self.name, #self.inputs, type(flat) == "table" and #flat or 1))
  end
  local values = {}
  for i, t in ipairs(self.inputs) do
    local v = flat[i]
    if not wk.is_tensor(v) then v = wk.tensor(v, t:dtype()) end
    if v:dtype() ~= t:dtype() then v = v:astype(t:dtype()) end
    values[t] = v
  end
  run_nodes(self, values, function(node, args)
    local extra = node.extra_args
    if extra then return node.layer(args, table.unpack(extra, 1, extra.n)) end
    return node.layer(args)
  end)
  if is_keras_tensor(self._nested_outputs) then return values[self.outputs[1]] end
  local res = {}
  for i, t in ipairs(self.outputs) do res[i] = values[t] end
  return res
end

--{=====================================================================================================
-- Summary (tf.keras 2.x layer_utils.print_summary layout)
--======================================================================================================

local function count_unique(weights)
  local seen, total = {}, 0
  for _, v in ipairs(weights) do
    if not seen[v] then seen[v] = true; total = total + v:numel() end
  end
  return total
end

local function thousands(n)
  local s = tostring(math.tointeger(n) or n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  local out = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  if out:sub(1, 1) == "," then out = out:sub(2) end
  return sign .. out
end
Model._thousands = thousands

-- A layer's output shape as tf.keras's `layer.output_shape` prints it: the shapes of its inbound nodes
-- when they all agree ("[...]" for an InputLayer and for several outputs), "multiple" otherwise.
local function output_shape_text(layer)
  local nodes = layer._inbound_nodes or {}
  if #nodes == 0 then return "multiple" end
  local texts = {}
  for i, n in ipairs(nodes) do
    local s = n:output_shapes()
    if n.is_input then s = {s} end
    texts[i] = shape_str(s)
  end
  for i = 2, #texts do
    if texts[i] ~= texts[1] then return "multiple" end
  end
  return texts[1]
end

function Model:summary(opts)
  opts = opts or {}
  if not self.built then
    errors.value_error("This model has not yet been built. Build the model first by calling `build()` or " ..
      "calling `fit()` with some data, or specify an `input_shape` argument in the first layer(s) for " ..
      "automatic build.")
  end
  local lines = {}
  local function out(s) lines[#lines + 1] = s end

  local relevant = {}
  local sequential_like = self.class_name == "Sequential"
  local nodes_by_depth, depth_keys
  if self._is_graph_network then nodes_by_depth, depth_keys = self:_graph_by_depth() end
  local graph_net = self._is_graph_network and nodes_by_depth
  if not sequential_like and not graph_net then sequential_like = true end
  if not sequential_like then
    sequential_like = true
    local in_model = {}
    for _, d in ipairs(depth_keys) do
      local v = nodes_by_depth[d]
      if #v > 1 or (#v == 1 and #v[1].inputs > 1) then sequential_like = false; break end
      for _, n in ipairs(v) do in_model[n] = true end
    end
    if sequential_like then
      for _, l in ipairs(self.layers) do
        local seen = false
        for _, n in ipairs(l._inbound_nodes or {}) do
          if in_model[n] then
            if seen then sequential_like = false; break end
            seen = true
          end
        end
        if not sequential_like then break end
      end
    end
  end
  if graph_net then
    for _, d in ipairs(depth_keys) do
      for _, n in ipairs(nodes_by_depth[d]) do relevant[n] = true end
    end
  end

  local line_length, positions, header
  if sequential_like then
    line_length = opts.line_length or 65
    positions = opts.positions or {0.45, 0.85, 1.0}
    header = {"Layer (type)", "Output Shape", "Param #"}
  else
    line_length = opts.line_length or 98
    positions = opts.positions or {0.33, 0.55, 0.67, 1.0}
    header = {"Layer (type)", "Output Shape", "Param #", "Connected to"}
  end
  if positions[#positions] <= 1 then
    local p = {}
    for i, x in ipairs(positions) do p[i] = math.floor(line_length * x) end
    positions = p
  end

  local function row(fields)
    local line = ""
    for i, f in ipairs(fields) do
      if i > 1 then line = line:sub(1, -2) .. " " end
      line = line .. tostring(f)
      line = line:sub(1, positions[i])
      line = line .. string.rep(" ", positions[i] - #line)
    end
    out(line)
  end

  out('Model: "' .. self.name .. '"')
  out(string.rep("_", line_length))
  row(header)
  out(string.rep("=", line_length))
  local layers = self.layers
  for i, l in ipairs(layers) do
    local name = l.name .. " (" .. l.class_name .. ")"
    local shape = output_shape_text(l)
    local params = l.built and l:count_params() or 0
    if sequential_like then
      row({name, shape, params})
    else
      local conns = {}
      for _, n in ipairs(l._inbound_nodes or {}) do
        if relevant[n] then
          for _, x in ipairs(n.inputs) do
            local h = x._keras_history
            conns[#conns + 1] = string.format("%s[%d][%d]", h.layer.name, h.node_index - 1,
              h.tensor_index - 1)
          end
        end
      end
      row({name, shape, params, conns[1] or ""})
      for j = 2, #conns do row({"", "", "", conns[j]}) end
    end
    out(string.rep(i == #layers and "=" or "_", line_length))
  end
  if #layers == 0 then out(string.rep("=", line_length)) end
  local trainable = count_unique(self:trainable_weights())
  local non_trainable = count_unique(self:non_trainable_weights())
  out("Total params: " .. thousands(trainable + non_trainable))
  out("Trainable params: " .. thousands(trainable))
  out("Non-trainable params: " .. thousands(non_trainable))
  out(string.rep("_", line_length))

  local text = table.concat(lines, "\n")
  local print_fn = opts.print_fn
  if print_fn == nil then print_fn = print end
  if print_fn then
    for _, l in ipairs(lines) do print_fn(l) end
  end
  return text
end

function Model.__tostring(self)
  return string.format("<weightkit.%s name=%s, %d layers>", self.class_name, self.name, #(self.layers or {}))
end

return Model
