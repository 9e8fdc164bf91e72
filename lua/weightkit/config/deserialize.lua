--[[
weightkit.config.deserialize — Lua models from Keras model configs (the `model_config` attribute of a
full-model HDF5 file, a `.keras` archive's config.json, `model.to_json()` text).

  deserialize.from_config(json_text_or_table, opts) -> model_or_layer, info
    opts.custom_objects  {ClassName = <Layer class>, ...} (also looked up by registered_name)
    opts.opaque_weights  function(layer_name, class_name) -> file layer entry | nil: for a Lambda, a
                         file group with weights makes it opaque (Keras 2 HDF5 loading)
    info = {format = "keras1" | "keras2" | "keras3", opaque = {<OpaqueLayer>, ...}, warnings = {...}}

ACCEPTED FORMS (keras-formats.md §2, §4.3):
- Keras 1 / 2 `{"class_name": "Sequential", "config": [layer, ...]}` (Keras <= 2.2) or
  `{"config": {"name", "layers", ["build_input_shape"]}}` (tf.keras; Keras 3 adds trainable, dtype);
- `Model` (Keras 1/2.2) / `Functional` (tf.keras >= 2.4, Keras 3) with layers [{name, class_name,
  config, inbound_nodes}], input_layers, output_layers. Keras 1/2 nodes are lists of
  [layer_name, node_index, tensor_index(, kwargs)]; Keras 3 nodes are {"args": [...], "kwargs": {...}}
  whose tensors are {"class_name": "__keras_tensor__", "config": {"keras_history": [name, node, tensor]}}.
  input_layers / output_layers: a list of [name, node, tensor], one such triple, or (Keras 3) a dict.
- Keras 3 dicts {module, class_name, config, registered_name, build_config} anywhere (layers,
  initializers, regularizers); DTypePolicy dicts become their policy name; InputLayer batch_shape is
  tf.keras's batch_input_shape; keys only Keras 3 writes (KERAS3_ONLY) are dropped when the class does
  not declare them.
- Keras 1 spellings (weightkit.config.legacy), detected per layer from its keys and class name.

NODE INDICES. A config's node_index counts the nodes of a layer that belong to the model, and a nested
functional model's first node is its own internal one (tf.keras and Keras 3 both write its first outer
call as node 1; tf.keras also for a Sequential that starts with an InputLayer, Keras 3 not, its
Sequential being no Functional). weightkit models record no internal node, so such a layer's config
index k is its (k)-th inbound node here, others' k + 1 (Lua is 1-based).

ORDER. Layers are created in config order; then nodes are applied layer by layer, a node waiting until
every tensor it reads exists (tf.keras's `unprocessed_nodes` loop); a layer's nodes keep their order.
A pass that applies nothing means the config references a node that cannot exist: ValueError.

Nulls: in objects a null is an absent key (the class default) except where None differs from the
default (Bidirectional merge_mode -> false); in arrays it is false (Keras None in shapes).
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"
local json = require "weightkit.config.json"
local legacy = require "weightkit.config.legacy"
local opaque = require "weightkit.layers.opaque"

local M = {}

local null = json.null

local function catalog() return require "weightkit.layers" end

-- Keys only Keras 3 writes, dropped unless the target class declares them.
local KERAS3_ONLY = {
  seed = true, lora_rank = true, lora_alpha = true, quantization_config = true, optional = true,
  synchronized = true, zero_output_for_mask = true, rms_scaling = true, build_config = true,
}
M.KERAS3_ONLY = KERAS3_ONLY

-- (class, key) pairs whose JSON null means None rather than "use the default".
local NULL_IS_NONE = {Bidirectional = {merge_mode = true}}

-- Keys holding a nested layer dict (deserialized here so that every rule applies to them too).
local NESTED_LAYER_KEYS = {layer = true, backward_layer = true, cell = true}

local MODEL_CLASSES = {Sequential = true, Model = true, Functional = true}

--{=====================================================================================================
-- Plain values
--======================================================================================================

local function is_layer_dict(v)
  return type(v) == "table" and type(v.class_name) == "string" and v.config ~= nil
    and v ~= null and v.class_name ~= "__keras_tensor__"
end

local function declared(cls)
  local d = {}
  for _, p in ipairs(cls and cls.params or {}) do d[p[1]] = true end
  return d
end

local plain_config

-- Keras 3 writes a Bidirectional's copies ("forward_lstm", "backward_lstm") where tf.keras wrote the
-- wrapped layer; its Bidirectional strips that prefix before adding it again, weightkit's (tf.keras)
-- adds it: so the prefix is removed here (on a copy: the decoded tree stays as read).
local function strip_copy_prefix(entry, prefix)
  local c = entry.config
  if not (json.is_object(c) and type(c.name) == "string" and c.name:sub(1, #prefix) == prefix) then
    return entry
  end
  local copy_c = json.object({}, json.order(c))
  for k, v in pairs(c) do copy_c[k] = v end
  copy_c.name = c.name:sub(#prefix + 1)
  local copy_e = json.object({}, json.order(entry))
  for k, v in pairs(entry) do copy_e[k] = v end
  copy_e.config = copy_c
  return copy_e
end

-- A decoded value with metatables, Keras 3 wrappers and nulls removed (see the header).
local function plain(v, ctx)
  if v == null then return false end
  if type(v) ~= "table" then return v end
  if json.is_object(v) then
    -- a DTypePolicy dict is its policy name
    if v.class_name == "DTypePolicy" or v.class_name == "Policy" or v.class_name == "DTypePolicyV2" then
      local c = v.config
      if type(c) == "table" and type(c.name) == "string" then return c.name end
    end
    if type(v.class_name) == "string" and v.config ~= nil and v.class_name ~= "__keras_tensor__" then
      local cls = catalog().get(v.class_name)
      local out = {class_name = v.class_name}
      if cls and Layer.is_class(cls) and json.is_object(v.config) then
        local name, cfg = plain_config(v.class_name, v.config, ctx)
        out.class_name, out.config = name, cfg
      else
        out.config = plain(v.config, ctx)
      end
      return out
    end
    local out = {}
    for k, x in pairs(v) do
      if x ~= null then out[k] = plain(x, ctx) end
    end
    return out
  end
  local out = {}
  for i = 1, #v do out[i] = plain(v[i], ctx) end
  return out
end

local function note(ctx, msg)
  ctx.warnings[#ctx.warnings + 1] = msg
  errors.warn(msg)
end

-- A layer config (decoded object) in tf.keras 2.x spelling for class `class_name`: returns the
-- (possibly renamed, Keras 1) class name and the plain config.
plain_config = function(class_name, raw, ctx)
  local cfg = {}
  local none_keys = NULL_IS_NONE[class_name] or {}
  for k, x in pairs(raw) do
    if x == null then
      if none_keys[k] then cfg[k] = false end
    elseif NESTED_LAYER_KEYS[k] and is_layer_dict(x) and not MODEL_CLASSES[x.class_name] then
      cfg[k] = x        -- deserialized below, with its own rules
    else
      cfg[k] = plain(x, ctx)
    end
  end
  if legacy.is_keras1(class_name, cfg) then
    local notes
    class_name, cfg, notes = legacy.translate(class_name, cfg)
    ctx.keras1 = true
    for _, n in ipairs(notes) do note(ctx, n) end
  end
  -- Keras 3 spellings
  if cfg.batch_shape ~= nil and cfg.batch_input_shape == nil then
    cfg.batch_input_shape, cfg.batch_shape = cfg.batch_shape, nil
  end
  local cls = catalog().get(class_name)
  local d = declared(cls)
  for k in pairs(KERAS3_ONLY) do
    if cfg[k] ~= nil and not d[k] then cfg[k] = nil end
  end
  for k in pairs(NESTED_LAYER_KEYS) do
    if json.is_object(cfg[k]) then
      local entry = cfg[k]
      if class_name == "Bidirectional" and ctx.format == "keras3" then
        entry = strip_copy_prefix(entry, k == "layer" and "forward_" or "backward_")
      end
      cfg[k] = M.layer_from_dict(entry, ctx)
    end
  end
  return class_name, cfg
end

--{=====================================================================================================
-- Layers
--======================================================================================================

local function lookup_custom(ctx, class_name, registered_name)
  local co = ctx.custom_objects
  if not co then return nil end
  return co[class_name] or (registered_name and co[registered_name]) or nil
end

local function dims(v)
  if type(v) ~= "table" then return nil end
  local out = {}
  for i = 1, #v do
    local d = v[i]
    out[i] = (type(d) == "number") and (math.tointeger(d) or d) or false
  end
  return out
end

local build_sequential, build_functional

local function make_opaque(class_name, raw, entry, ctx)
  local cfg = json.is_object(raw) and raw or json.object({}, {})
  local name = cfg.name
  if type(name) ~= "string" then name = entry and entry.name end
  local trainable = cfg.trainable
  if trainable == null then trainable = nil end
  local out_shape = cfg.output_shape
  local l = opaque.new(class_name, raw, {
    name = type(name) == "string" and name or nil,
    trainable = trainable,
    dtype = type(cfg.dtype) == "string" and cfg.dtype or plain(cfg.dtype, ctx) or nil,
    module = entry and entry.module ~= null and entry.module or nil,
    registered_name = entry and entry.registered_name ~= null and entry.registered_name or nil,
    output_shape = type(out_shape) == "table" and dims(out_shape) or nil,
    -- the first layer of a Sequential says the model's input shape
    batch_input_shape = dims(cfg.batch_input_shape) or dims(cfg.batch_shape),
  })
  if entry and entry.build_config ~= nil and entry.build_config ~= null then l.build_config = entry.build_config end
  ctx.opaque[#ctx.opaque + 1] = l
  return l
end

-- A layer (or nested model) from a {class_name, config, ...} dict.
function M.layer_from_dict(entry, ctx)
  local class_name = entry.class_name
  local raw = entry.config
  if class_name == "Sequential" then return build_sequential(raw, entry, ctx) end
  if class_name == "Model" or class_name == "Functional" then
    if json.is_object(raw) and raw.layers ~= nil then return build_functional(raw, entry, ctx) end
  end
  local registered = entry.registered_name
  if registered == null then registered = nil end
  local custom = lookup_custom(ctx, class_name, registered)
  if custom then
    return custom:from_config(plain(raw, ctx))
  end
  local cls = catalog().get(class_name)
  if cls == nil and json.is_object(raw) and legacy.is_keras1(class_name, raw) then
    cls = catalog().get(legacy.translate(class_name, {}))
  end
  -- registered_name "package>Class" of a Keras 3 custom object, or a class weightkit lacks
  if cls == nil or (registered ~= nil and registered ~= class_name and registered:find(">", 1, true)) then
    return make_opaque(class_name, raw, entry, ctx)
  end
  if class_name == "Lambda" and ctx.opaque_weights and json.is_object(raw) then
    local fl = ctx.opaque_weights(raw.name, class_name)
    if fl then return make_opaque(class_name, raw, entry, ctx) end
  end
  local name, cfg = plain_config(class_name, json.is_object(raw) and raw or json.object({}, {}), ctx)
  cls = catalog().get(name) or cls
  local layer = cls:from_config(cfg)
  -- Keras 3 build_config of a layer that is not built by a graph call (a root layer)
  layer._build_config = entry.build_config ~= null and entry.build_config or nil
  return layer
end

--{=====================================================================================================
-- Sequential
--======================================================================================================

build_sequential = function(raw, entry, ctx)
  local Sequential = require "weightkit.sequential"
  local layers_raw, name, build_shape, trainable
  if json.is_object(raw) then
    layers_raw, name = raw.layers, raw.name
    build_shape = raw.build_input_shape
    trainable = raw.trainable
  else
    layers_raw = raw
  end
  if type(layers_raw) ~= "table" then
    errors.value_error("Sequential config without a `layers` list")
  end
  if (build_shape == nil or build_shape == null) and entry and json.is_object(entry.build_config) then
    build_shape = entry.build_config.input_shape
  end
  local model = Sequential{name = type(name) == "string" and name or nil}
  for _, l in ipairs(layers_raw) do
    model:add(M.layer_from_dict(l, ctx))
  end
  if not model.built and type(build_shape) == "table" then
    model:build(dims(build_shape))
  end
  if trainable == false then model.trainable = false end
  return model
end

--{=====================================================================================================
-- Functional
--======================================================================================================

-- Config node index (0-based) -> position in layer._inbound_nodes (see NODE INDICES).
local function node_position(layer, index, ctx)
  local offset = 0
  if layer._is_graph_network then
    if ctx.format == "keras3" then
      if layer.class_name == "Functional" then offset = 1 end
    else
      local first = layer._layers and layer._layers[1]
      if first and first.class_name == "InputLayer" then offset = 1 end
    end
  end
  return index - offset + 1
end

local function is_ref(v)
  return type(v) == "table" and type(v[1]) == "string" and type(v[2]) == "number" and type(v[3]) == "number"
end

local function keras_tensor_ref(v)
  if type(v) == "table" and v.class_name == "__keras_tensor__" and type(v.config) == "table" then
    local h = v.config.keras_history
    if is_ref(h) then return h end
  end
  return nil
end

-- The inputs of one config node as a list of refs {layer_name, node_index, tensor_index} plus whether
-- the layer was called on one tensor (true) or a list.
local function node_refs(node)
  local refs, single = {}, false
  if json.is_object(node) then            -- Keras 3 {"args": [...], "kwargs": {...}}
    local args = node.args or {}
    local function add(v)
      local r = keras_tensor_ref(v)
      if r then refs[#refs + 1] = r; return true end
      return false
    end
    for i = 1, #args do
      local a = args[i]
      if keras_tensor_ref(a) then
        add(a)
        if i == 1 then single = true end
      elseif type(a) == "table" and not json.is_object(a) then
        for _, x in ipairs(a) do add(x) end
      end
    end
    local kwargs = node.kwargs
    if json.is_object(kwargs) then
      for _, k in ipairs(json.order(kwargs)) do
        local v = kwargs[k]
        if keras_tensor_ref(v) then
          if k == "value" or k == "key" or k == "query" then add(v) else
            errors.not_implemented("symbolic keyword argument '" .. k .. "' in a Keras 3 node is not supported")
          end
        end
      end
    end
    if #refs > 1 then single = false end
    return refs, single
  end
  -- Keras 1/2: a list of [name, node, tensor(, kwargs)]
  for _, r in ipairs(node) do
    if not is_ref(r) then errors.value_error("malformed inbound node in model config") end
    refs[#refs + 1] = r
    local kw = r[4]
    if json.is_object(kw) then      -- tf.keras MultiHeadAttention: {"value": [name, node, tensor]}
      for _, k in ipairs({"value", "key"}) do
        if is_ref(kw[k]) then refs[#refs + 1] = kw[k] end
      end
    end
  end
  single = #refs == 1
  return refs, single
end

local function resolve(ref, created, ctx)
  local layer = created[ref[1]]
  if not layer then return nil end
  local nodes = layer._inbound_nodes or {}
  local node = nodes[node_position(layer, math.tointeger(ref[2]), ctx)]
  if not node then return nil end
  return node.outputs[math.tointeger(ref[3]) + 1]
end

local function io_refs(v)
  if v == nil or v == null then return {} end
  if is_ref(v) then return {v} end
  local out = {}
  if json.is_object(v) then
    for _, k in ipairs(json.order(v)) do out[#out + 1] = v[k] end
    return out
  end
  for _, r in ipairs(v) do out[#out + 1] = r end
  return out
end

build_functional = function(raw, entry, ctx)
  local Model = require "weightkit.model"
  local created, order = {}, {}
  for _, l in ipairs(raw.layers) do
    local layer = M.layer_from_dict(l, ctx)
    local lname = l.name
    if type(lname) ~= "string" then lname = layer.name end
    created[lname] = layer
    local nodes = l.inbound_nodes
    if nodes == null or nodes == nil then nodes = {} end
    order[#order + 1] = {layer = layer, nodes = nodes, next = 1, name = lname}
  end
  -- apply nodes until none is left (tf.keras's unprocessed_nodes loop)
  local remaining = 0
  for _, o in ipairs(order) do remaining = remaining + #o.nodes end
  while remaining > 0 do
    local progress = false
    for _, o in ipairs(order) do
      while o.next <= #o.nodes do
        local refs, single = node_refs(o.nodes[o.next])
        local inputs = {}
        for i, r in ipairs(refs) do
          inputs[i] = resolve(r, created, ctx)
          if inputs[i] == nil then break end
        end
        if #inputs < #refs or #refs == 0 then break end
        if single then o.layer(inputs[1]) else o.layer(inputs) end
        o.next = o.next + 1
        remaining = remaining - 1
        progress = true
      end
    end
    if not progress then
      for _, o in ipairs(order) do
        if o.next <= #o.nodes then
          errors.value_error("Cannot rebuild the model from its config: node " .. (o.next - 1) .. " of layer '" ..
            o.name .. "' reads a tensor that no layer produces")
        end
      end
    end
  end
  local function tensors(v, what)
    local out = {}
    for i, r in ipairs(io_refs(v)) do
      if not is_ref(r) then errors.value_error("malformed " .. what .. " in model config") end
      out[i] = resolve(r, created, ctx)
      if out[i] == nil then
        errors.value_error("model config " .. what .. " name a missing tensor: " .. tostring(r[1]))
      end
    end
    return out
  end
  local inputs = tensors(raw.input_layers, "input_layers")
  local outputs = tensors(raw.output_layers, "output_layers")
  local model = Model{inputs = inputs, outputs = outputs,
    name = type(raw.name) == "string" and raw.name or nil}
  if raw.trainable == false then model.trainable = false end
  return model
end

--{=====================================================================================================
-- Entry point
--======================================================================================================

local function detect_format(v)
  local found = "keras2"
  local function scan(x, depth)
    if found == "keras3" or depth > 6 or type(x) ~= "table" or x == null then return end
    if json.is_object(x) then
      if x.module ~= nil or x.registered_name ~= nil or x.build_config ~= nil then found = "keras3"; return end
      for _, k in ipairs(json.order(x)) do scan(x[k], depth + 1) end
    else
      for _, y in ipairs(x) do scan(y, depth + 1) end
    end
  end
  scan(v, 0)
  return found
end

function M.from_config(config, opts)
  opts = opts or {}
  if type(config) == "string" then
    config = json.decode(config)
  elseif type(config) == "table" and not json.is_object(config) then
    -- a Lua table (a get_config result, a hand-written config): read as the JSON it stands for
    config = json.decode(require("weightkit.config.serialize").to_json(config))
  end
  if type(config) ~= "table" or not is_layer_dict(config) then
    errors.value_error("a model config must be an object with `class_name` and `config`")
  end
  local ctx = {
    custom_objects = opts.custom_objects,
    opaque_weights = opts.opaque_weights,
    opaque = {}, warnings = {},
    format = detect_format(config),
  }
  local root = M.layer_from_dict(config, ctx)
  -- a root layer (not a model) is built from its Keras 3 build_config
  local bc = root._build_config
  if bc and not root.built and json.is_object(bc) and type(bc.input_shape) == "table" then
    root:maybe_build(dims(bc.input_shape), {scope = root.name})
  end
  if ctx.keras1 then ctx.format = "keras1" end
  return root, {format = ctx.format, opaque = ctx.opaque, warnings = ctx.warnings}
end

return M
