--[[
weightkit.config.serialize — model configs from Lua models: the Keras 2 `model_config` (as tf.keras
2.15 writes it into a full-model HDF5 file) and the Keras 3 `config.json` of a `.keras` archive.

  serialize.model_config(model) -> value        {"class_name": "Sequential"|"Functional", "config": ...}
  serialize.keras3_config(model) -> value       {"module", "class_name", "config", "registered_name",
                                                 "build_config"}
  serialize.to_json(value [, indent]) -> text   ordered configs keep their order; nil-valued keys of an
                                                ordered config are written as null
  serialize.KERAS3_VERSION                      the Keras 3 release whose config.json spelling we write

KERAS 2 FORM (tf.keras 2.x get_config, legacy serialization): every layer {"class_name", "config"};
Sequential {"name", "layers" (its InputLayer first when it has one), ["build_input_shape"]};
Functional {"name", "layers": [{"class_name", "config", "name", "inbound_nodes"}], "input_layers",
"output_layers"}; a node is a list of [layer name, node index, tensor index, {}] (one per input
tensor); input_layers / output_layers are always lists of such triples. DTypePolicy dicts read from a
Keras 3 file are written as their policy name.

KERAS 3 FORM (Keras 3.9 serialize_keras_object; checked key by key against the fixtures
k392_hybrid_conv1d_bilstm_bn.keras and k392_legacy_bidirectional_lstm_full.h5): every object is
{"module", "class_name", "config", "registered_name"} (layers "keras.layers", initializers
"keras.initializers", regularizers "keras.regularizers", constraints "keras.constraints", models
"keras"); layer dtypes are DTypePolicy dicts (InputLayer keeps a plain dtype string); layers that hold
weights or wrap layers carry "build_config": {"input_shape": ...}; InputLayer says batch_shape;
Sequential {"name", "trainable", "dtype", "layers", "build_input_shape"}; Functional {"name",
"trainable", "layers": [{... , "name", "inbound_nodes": [{"args": [...], "kwargs": {}}]}],
"input_layers", "output_layers"}; a node argument is one __keras_tensor__ dict or a list of them.
Per-class differences from the tf.keras 2 spelling are the table KERAS3 below.

NODE INDICES (see weightkit.config.deserialize): a nested graph model counts its internal node first
(tf.keras: a Functional, or a Sequential that starts with an InputLayer; Keras 3: Functional only).
Opaque layers are written with their config verbatim.
]]
local Layer = require "weightkit.layer"
local base_json = require "weightkit.json"
local json = require "weightkit.config.json"
local opaque = require "weightkit.layers.opaque"

local M = {}

M.KERAS3_VERSION = "3.9.2"

local null = json.null

--{=====================================================================================================
-- JSON values
--======================================================================================================

-- An ordered object (the decoded-config convention): `t` itself, with `keys` as its order; nil values
-- are written as null.
local function object(keys, t)
  return json.object(t, keys)
end
M.object = object

-- A config value ready for weightkit.json: ordered tables (get_config results, decoded objects) keep
-- their order, `false` inside an array is None (shapes), other values are copied.
local function jsonable(v, in_array)
  if v == false and in_array then return null end
  if type(v) ~= "table" or v == null then return v end
  local mt = getmetatable(v)
  if mt and mt.__order then
    local pairs_list = {}
    for i, k in ipairs(mt.__order) do
      local x = v[k]
      if x == nil then x = null else x = jsonable(x, false) end
      pairs_list[i] = {k, x}
    end
    return base_json.object(pairs_list)
  end
  if mt ~= nil then return v end      -- a sentinel or a weightkit.json object / array
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if count == n then
    local out = {}
    for i = 1, n do out[i] = jsonable(v[i], true) end
    return base_json.array(out)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local pairs_list = {}
  for i, k in ipairs(keys) do pairs_list[i] = {k, jsonable(v[k], false)} end
  return base_json.object(pairs_list)
end
M.jsonable = jsonable

function M.to_json(value, indent)
  return base_json.encode(jsonable(value, false), indent and {indent = indent} or nil)
end

local function shape_value(s)
  if s == nil then return nil end
  if type(s) == "table" and type(s[1]) == "table" then
    local out = {}
    for i, x in ipairs(s) do out[i] = shape_value(x) end
    return out
  end
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end

local function is_model(layer)
  return layer._is_graph_network == true or layer.class_name == "Sequential"
end

local function policy_name(d)
  if type(d) == "table" then
    local c = d.config
    if type(c) == "table" and type(c.name) == "string" then return c.name end
    if type(d.name) == "string" then return d.name end
  end
  return d
end

--{=====================================================================================================
-- Graph bookkeeping shared by both forms
--======================================================================================================

-- Keras node index offset of a layer used inside a model (see NODE INDICES).
local function node_offset(layer, keras3)
  if not layer._is_graph_network then return 0 end
  if keras3 then return layer.class_name == "Functional" and 1 or 0 end
  local first = layer._layers and layer._layers[1]
  return (first and first.class_name == "InputLayer") and 1 or 0
end

-- For a graph model: layer -> {node -> kept index (0-based, Keras numbering)}.
local function node_index_map(model, keras3)
  model:_graph_by_depth()
  local kept = {}
  for _, l in ipairs(model._layers) do
    local map, k = {}, node_offset(l, keras3)
    for _, n in ipairs(l._inbound_nodes or {}) do
      if model._network_nodes[n] then map[n] = k; k = k + 1 end
    end
    kept[l] = map
  end
  return kept
end

local function tensor_ref(t, kept)
  local h = t._keras_history
  local node = h.layer._inbound_nodes[h.node_index]
  return {h.layer.name, kept[h.layer][node], h.tensor_index - 1}
end

--{=====================================================================================================
-- Keras 2 form
--======================================================================================================

local keras2_layer

local function keras2_config(layer)
  if opaque.is_opaque(layer) then return layer:get_config() end
  local cfg = layer:get_config()
  if type(cfg.dtype) == "table" then cfg.dtype = policy_name(cfg.dtype) end
  return cfg
end

local function keras2_sequential(model)
  local layers = {}
  for i, l in ipairs(model._layers) do layers[i] = keras2_layer(l) end
  local keys = {"name", "layers"}
  local t = {name = model.name, layers = layers}
  if not model._has_explicit_input_shape and model._inferred_input_shape then
    keys[#keys + 1] = "build_input_shape"
    t.build_input_shape = shape_value(model._inferred_input_shape)
  end
  return object(keys, t)
end

local function keras2_functional(model)
  local kept = node_index_map(model, false)
  local layers = {}
  for i, l in ipairs(model.layers) do
    local nodes = {}
    for _, n in ipairs(l._inbound_nodes or {}) do
      if model._network_nodes[n] and not n.is_input then
        local refs = {}
        for j, t in ipairs(n.inputs) do
          local r = tensor_ref(t, kept)
          r[4] = object({}, {})
          refs[j] = r
        end
        nodes[#nodes + 1] = refs
      end
    end
    local entry = keras2_layer(l)
    layers[i] = object({"class_name", "config", "name", "inbound_nodes"},
      {class_name = entry.class_name, config = entry.config, name = l.name, inbound_nodes = nodes})
  end
  local ins, outs = {}, {}
  for i, t in ipairs(model.inputs) do ins[i] = tensor_ref(t, kept) end
  for i, t in ipairs(model.outputs) do outs[i] = tensor_ref(t, kept) end
  return object({"name", "layers", "input_layers", "output_layers"},
    {name = model.name, layers = layers, input_layers = ins, output_layers = outs})
end

keras2_layer = function(layer)
  local cfg
  if layer.class_name == "Sequential" then cfg = keras2_sequential(layer)
  elseif is_model(layer) then cfg = keras2_functional(layer)
  else cfg = keras2_config(layer) end
  return {class_name = layer.class_name, config = cfg}
end

function M.model_config(model)
  local e = keras2_layer(model)
  return object({"class_name", "config"}, e)
end

--{=====================================================================================================
-- Keras 3 form
--======================================================================================================

--[[ Per-class spelling of Keras 3.9 against the tf.keras 2 get_config of the catalog class:
  drop = keys tf.keras writes and Keras 3 does not; add = {key, value, after} keys Keras 3 writes
  (inserted after `after`, or at the end). ]]
local RNN3 = {drop = {"time_major", "implementation"}, add = {{"seed", null}}}

-- tf.keras's build rewrites a normalization axis as a list of non-negative axes ([2]); Keras 3 keeps
-- the int it was given (-1 in every fixture): one axis that is the last one is written as -1.
local function keras3_axis(t, layer)
  local a = t.axis
  if type(a) == "table" and #a == 1 then
    local shape = layer.build_input_shape
    if type(shape) == "table" and a[1] == #shape - 1 then t.axis = -1 else t.axis = a[1] end
  end
end

local KERAS3 = {
  LSTM = {drop = RNN3.drop, add = {{"zero_output_for_mask", false, "unroll"}, {"seed", null}}},
  GRU = {drop = RNN3.drop, add = {{"zero_output_for_mask", false, "unroll"}, {"seed", null}}},
  SimpleRNN = {drop = RNN3.drop, add = {{"zero_output_for_mask", false, "unroll"}, {"seed", null}}},
  LSTMCell = {drop = {"implementation"}, add = {{"seed", null}}},
  GRUCell = {drop = {"implementation"}, add = {{"seed", null}}},
  SimpleRNNCell = {drop = {}, add = {{"seed", null}}},
  Dense = {drop_nil = {"activity_regularizer"}},
  BatchNormalization = {drop = {"renorm", "renorm_clipping", "renorm_momentum", "fused",
    "virtual_batch_size", "adjustment"}, fix = keras3_axis},
  Embedding = {drop = {"input_length", "sparse"}},
  LayerNormalization = {add = {{"rms_scaling", false, "scale"}}, fix = keras3_axis},
  Dropout = {order = {"name", "trainable", "dtype", "rate", "seed", "noise_shape"}},
  Bidirectional = {order = {"name", "trainable", "dtype", "merge_mode", "layer", "backward_layer"}},
}
M.KERAS3 = KERAS3

local MODULES = {
  initializer = "keras.initializers", regularizer = "keras.regularizers", constraint = "keras.constraints",
}

local function dtype_policy(name)
  return object({"module", "class_name", "config", "registered_name"}, {
    module = "keras", class_name = "DTypePolicy", config = object({"name"}, {name = policy_name(name)}),
    registered_name = null})
end

local keras3_layer

-- The layer instance behind a nested layer key. Keras 3 writes a Bidirectional's forward copy under
-- "layer" (k392 fixtures: "forward_lstm"), not the layer it was given.
local function nested_layer(owner, key)
  if owner.class_name == "Bidirectional" then
    if key == "layer" then return owner.forward_layer end
    if key == "backward_layer" then return owner.backward_layer end
  end
  local v = rawget(owner, key)
  if Layer.is_layer(v) then return v end
  return nil
end

-- A nested serialized object ({class_name, config}) in Keras 3 form, by the key it sits under.
local function keras3_value(key, v, owner)
  if type(v) ~= "table" or v == null then return v end
  if json.is_object(v) and v.module ~= nil then return v end     -- already in Keras 3 form
  if Layer.is_layer(v) then return keras3_layer(v) end
  if type(v.class_name) == "string" and v.config ~= nil then
    if key == "layer" or key == "backward_layer" or key == "cell" then
      local inner = nested_layer(owner, key)
      if inner then return keras3_layer(inner) end
    end
    local module
    for suffix, m in pairs(MODULES) do
      if key:sub(-#suffix) == suffix then module = m end
    end
    return object({"module", "class_name", "config", "registered_name"}, {
      module = module or null, class_name = v.class_name, config = v.config, registered_name = null})
  end
  return v
end

local function keras3_layer_config(layer)
  if opaque.is_opaque(layer) then return layer:get_config() end
  local cfg = layer:get_config()
  local order = {}
  for _, k in ipairs(getmetatable(cfg).__order) do order[#order + 1] = k end
  local t = {}
  for _, k in ipairs(order) do t[k] = cfg[k] end
  if layer.class_name == "InputLayer" then
    for i, k in ipairs(order) do if k == "batch_input_shape" then order[i] = "batch_shape" end end
    t.batch_shape, t.batch_input_shape = t.batch_input_shape, nil
    return object(order, t)
  end
  -- base keys: no batch_input_shape; dtype as a policy dict
  local out = {}
  for _, k in ipairs(order) do
    if k ~= "batch_input_shape" then out[#out + 1] = k end
  end
  order = out
  t.dtype = dtype_policy(t.dtype)
  local spec = KERAS3[layer.class_name]
  if spec then
    local drop = {}
    for _, k in ipairs(spec.drop or {}) do drop[k] = true end
    for _, k in ipairs(spec.drop_nil or {}) do if t[k] == nil then drop[k] = true end end
    local kept = {}
    for _, k in ipairs(order) do if not drop[k] then kept[#kept + 1] = k end end
    order = kept
    for _, a in ipairs(spec.add or {}) do
      local key, value, after = a[1], a[2], a[3]
      if t[key] == nil then t[key] = value end
      local pos = #order + 1
      for i, k in ipairs(order) do if k == after then pos = i + 1 end end
      local present = false
      for _, k in ipairs(order) do if k == key then present = true end end
      if not present then table.insert(order, pos, key) end
    end
    if spec.order then order = spec.order end
    if spec.fix then spec.fix(t, layer) end
  end
  for _, k in ipairs(order) do t[k] = keras3_value(k, t[k], layer) end
  if layer.class_name == "Bidirectional" and t.backward_layer == nil then
    t.backward_layer = keras3_layer(layer.backward_layer)     -- Keras 3 always writes both copies (k392)
  end
  return object(order, t)
end

local function has_build_config(layer)
  if layer.class_name == "InputLayer" or not layer.built then return false end
  if #layer:weights() > 0 then return true end
  return layer.layer ~= nil or layer.forward_layer ~= nil or layer.cell ~= nil
end

local function keras_tensor(t, kept)
  local ref = tensor_ref(t, kept)
  return object({"class_name", "config"}, {class_name = "__keras_tensor__",
    config = object({"shape", "dtype", "keras_history"}, {shape = shape_value(t:shape()), dtype = t:dtype(),
      keras_history = ref})})
end

local function keras3_sequential(model)
  local layers = {}
  for i, l in ipairs(model._layers) do layers[i] = keras3_layer(l) end
  local t = {name = model.name, trainable = model.trainable, dtype = dtype_policy(model.dtype),
    layers = layers}
  local keys = {"name", "trainable", "dtype", "layers"}
  local shape = model.inputs and model.inputs[1] and model.inputs[1]:shape() or model._inferred_input_shape
  if shape then
    keys[#keys + 1] = "build_input_shape"
    t.build_input_shape = shape_value(shape)
  end
  return object(keys, t)
end

local function keras3_functional(model)
  local kept = node_index_map(model, true)
  local layers = {}
  for i, l in ipairs(model.layers) do
    local nodes = {}
    for _, n in ipairs(l._inbound_nodes or {}) do
      if model._network_nodes[n] and not n.is_input then
        local args
        if #n.inputs == 1 and n.call_inputs == n.inputs[1] then
          args = {keras_tensor(n.inputs[1], kept)}
        else
          local list = {}
          for j, t in ipairs(n.inputs) do list[j] = keras_tensor(t, kept) end
          args = l.class_name == "MultiHeadAttention" and list or {list}
        end
        nodes[#nodes + 1] = object({"args", "kwargs"}, {args = args, kwargs = object({}, {})})
      end
    end
    local entry = keras3_layer(l)
    local keys = json.order(entry)
    keys[#keys + 1] = "name"; entry.name = l.name
    keys[#keys + 1] = "inbound_nodes"; entry.inbound_nodes = nodes
    layers[i] = entry
  end
  local ins, outs = {}, {}
  for i, t in ipairs(model.inputs) do ins[i] = tensor_ref(t, kept) end
  for i, t in ipairs(model.outputs) do outs[i] = tensor_ref(t, kept) end
  return object({"name", "trainable", "layers", "input_layers", "output_layers"},
    {name = model.name, trainable = model.trainable, layers = layers, input_layers = ins, output_layers = outs})
end

keras3_layer = function(layer)
  local keys = {"module", "class_name", "config", "registered_name"}
  local t = {class_name = layer.class_name, registered_name = null}
  if layer.class_name == "Sequential" then
    t.module, t.config = "keras", keras3_sequential(layer)
  elseif is_model(layer) then
    t.module, t.config = "keras", keras3_functional(layer)
  elseif opaque.is_opaque(layer) then
    t.module, t.config = layer.module or null, layer:get_config()
    t.registered_name = layer.registered_name or null
  else
    t.module, t.config = "keras.layers", keras3_layer_config(layer)
  end
  if opaque.is_opaque(layer) then
    if layer.build_config ~= nil then
      keys[#keys + 1] = "build_config"
      t.build_config = layer.build_config
    end
  elseif is_model(layer) or has_build_config(layer) then
    local s = layer.build_input_shape
    if is_model(layer) and layer.inputs then
      if #layer.inputs == 1 then s = layer.inputs[1]:shape() else
        s = {}
        for i, x in ipairs(layer.inputs) do s[i] = x:shape() end
      end
    end
    if s then
      keys[#keys + 1] = "build_config"
      t.build_config = object({"input_shape"}, {input_shape = shape_value(s)})
    end
  end
  return object(keys, t)
end

function M.keras3_config(model)
  return keras3_layer(model)
end

return M
