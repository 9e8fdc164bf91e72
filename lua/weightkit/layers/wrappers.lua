--[[
weightkit.layers.wrappers — tf.keras 2.x TimeDistributed and Bidirectional (weights, shapes, configs).

tf.keras 2.x facts reproduced here (TF 2.4 - 2.15; see spec/wrappers_spec.lua):
- Wrapper keeps the wrapped layer as `layer` (and serializes it under "layer" in get_config).
- TimeDistributed tracks `layer` and builds it directly with (batch,) + input_shape[3:], pushing no name
  scope, so Dense's weights are named "time_distributed/kernel:0". An input of rank < 3 is a ValueError.
  Output: (batch, time) + inner output[2:].
- Bidirectional does NOT track the layer it was given: it recreates a forward copy from its config (first)
  and a backward copy with go_backwards flipped (second, unless backward_layer is given, which is used
  as is), renames them "forward_<name>" / "backward_<name>" and tracks both. Recreated LSTM/GRU/SimpleRNN
  build new auto-named cells, so Bidirectional(LSTM(4)) holds lstm_cell_1 (forward) and lstm_cell_2
  (backward). build() builds each copy inside name_scope(copy.name):
  "bidirectional/forward_lstm/lstm_cell_1/kernel:0". Weights: forward then backward.
- merge_mode: "concat" (default, last dim doubled), "sum", "mul", "ave" (last dim kept), None (Lua false:
  a list [forward output, backward output]). return_state appends the forward states, then the backward
  states. The copies' zero_output_for_mask is forced to their return_sequences.
- get_config: name, trainable, dtype, layer (the ORIGINAL wrapped layer, serialized), merge_mode,
  [backward_layer (its config taken before the rename)].
- Quirk kept: Bidirectional.__init__ ends with `self._trainable = True`, so Bidirectional(..., trainable=
  False) (also from a config) is trainable; only the wrapped layer's own trainable flag is copied.
]]
local Layer = require "weightkit.layer"
local U = require "weightkit.layers.utils"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"

local shape_str = naming.shape_str
local serialize = Layer.serialize

local M = {}

local is_shape_list, copy = U.is_shape_list, U.copy

local function py_bool(b)
  if b then return "True" end
  return "False"
end

-- A layer class by Keras class name: the recurrent family, then the whole catalog (looked up lazily:
-- weightkit.layers requires this module).
local function layer_class(name)
  local R = require "weightkit.layers.recurrent"
  if R[name] then return R[name] end
  if M[name] then return M[name] end
  local ok, catalog = pcall(require, "weightkit.layers")
  if ok and type(catalog) == "table" and catalog[name] then return catalog[name] end
  local ok2, A = pcall(require, "weightkit.layers.attention")
  if ok2 and type(A) == "table" and A[name] then return A[name] end
  return nil
end

-- A layer instance from a layer or a serialized {class_name = ..., config = ...}.
local function deserialize_layer(v, wrapper)
  if Layer.is_layer(v) then return v end
  if type(v) == "table" and type(v.class_name) == "string" then
    local cls = layer_class(v.class_name)
    if not cls then
      errors.value_error("Unknown layer: " .. v.class_name .. ". Please ensure this object is passed to " ..
        "the `custom_objects` argument.")
    end
    return cls:from_config(v.config or {})
  end
  errors.value_error(string.format("Please initialize `%s` layer with a `tf.keras.layers.Layer` instance. " ..
    "Received: %s", wrapper, tostring(v)))
end

--{=====================================================================================================
-- TimeDistributed
--======================================================================================================

local TimeDistributed = Layer:extend("TimeDistributed", {params = {{"layer"}}, positional = {"layer"}})
M.TimeDistributed = TimeDistributed

function TimeDistributed:init(config)
  Layer.init(self, config)
  if self.layer == nil then
    errors.type_error("__init__() missing 1 required positional argument: 'layer'")
  end
  self.layer = deserialize_layer(self.layer, "TimeDistributed")
  self:track(self.layer)
end

-- (batch,) + shape[3:] for one shape.
local function child_shape(self, s)
  if #s < 3 then
    errors.value_error("`TimeDistributed` Layer should be passed an `input_shape ` with at least 3 " ..
      "dimensions, received: " .. shape_str(s))
  end
  local c = {s[1]}
  for i = 3, #s do c[#c + 1] = s[i] end
  return c
end

function TimeDistributed:build(input_shape)
  local s = input_shape
  if is_shape_list(s) then
    errors.not_implemented("TimeDistributed on several inputs is not supported by weightkit yet")
  end
  local c = child_shape(self, s)
  if not self.layer.built then
    -- tf.keras: self.layer.build(child_input_shape) -- no name scope of its own
    self.layer:maybe_build(c)
  end
  self.built = true
end

function TimeDistributed:compute_output_shape(input_shape)
  local s = input_shape
  local c = child_shape(self, s)
  local out = self.layer:compute_output_shape(c)
  local batch, time = s[1], s[2]
  if batch == nil then batch = false end
  if time == nil then time = false end
  local function expand(o)
    local r = {batch, time}
    for i = 2, #o do r[#r + 1] = o[i] end
    return r
  end
  if is_shape_list(out) then
    local r = {}
    for i, o in ipairs(out) do r[i] = expand(o) end
    return r
  end
  return expand(out)
end

function TimeDistributed:get_config()
  local cfg = self:base_config()
  Layer.config_put(cfg, "layer", serialize(self.layer))
  return cfg
end

--{=====================================================================================================
-- Bidirectional
--======================================================================================================

local Bidirectional = Layer:extend("Bidirectional", {
  params = {{"layer"}, {"merge_mode", "concat"}, {"backward_layer"}},
  positional = {"layer", "merge_mode"},
})
M.Bidirectional = Bidirectional

local MERGE_MODES = {sum = true, mul = true, ave = true, concat = true}

-- A fresh layer of the same class from layer's config; go_backwards flipped when asked.
local function recreate(layer, flip)
  local cfg = layer:get_config()
  local copy_cfg = {}
  for k, v in pairs(cfg) do copy_cfg[k] = v end
  if flip then copy_cfg.go_backwards = not copy_cfg.go_backwards end
  local cls = getmetatable(layer)
  return cls:from_config(copy_cfg)
end

function Bidirectional:init(config)
  Layer.init(self, config)
  local layer = self.layer
  if layer == nil then
    errors.type_error("__init__() missing 1 required positional argument: 'layer'")
  end
  if not Layer.is_layer(layer) then
    if type(layer) == "table" and layer.class_name then
      layer = deserialize_layer(layer, "Bidirectional")
    else
      errors.value_error("Please initialize `Bidirectional` layer with a `tf.keras.layers.Layer` instance. " ..
        "Received: " .. tostring(layer))
    end
  end
  local backward = self.backward_layer
  if backward ~= nil and not Layer.is_layer(backward) then
    if type(backward) == "table" and backward.class_name then
      backward = deserialize_layer(backward, "Bidirectional")
    else
      errors.value_error("`backward_layer` need to be a `tf.keras.layers.Layer` instance. Received: " ..
        tostring(backward))
    end
  end
  local mode = self.merge_mode
  -- a JSON null read back from a config (a decoder's null sentinel) means None
  if type(mode) == "userdata" or (type(mode) == "table" and next(mode) == nil) then mode = false end
  self.merge_mode = mode
  if not (mode == false or MERGE_MODES[mode]) then
    errors.value_error("Invalid merge mode. Received: " .. tostring(mode) .. ". Merge mode should be one " ..
      "of {\"sum\", \"mul\", \"ave\", \"concat\", None}")
  end
  self.layer = layer -- the original: not tracked, serialized by get_config

  self.forward_layer = recreate(layer, false)
  if backward == nil then
    self.backward_layer = recreate(layer, true)
  else
    self.backward_layer = backward
    self._backward_layer_config = serialize(backward)
  end
  self.forward_layer.name = "forward_" .. self.forward_layer.name
  self.backward_layer.name = "backward_" .. self.backward_layer.name
  self:verify_layer_config()

  for _, l in ipairs{self.forward_layer, self.backward_layer} do
    if l.zero_output_for_mask ~= nil then l.zero_output_for_mask = l.return_sequences and true or false end
  end
  self.stateful = layer.stateful
  self.return_sequences = layer.return_sequences
  self.return_state = layer.return_state
  self:track(self.forward_layer)
  self:track(self.backward_layer)
  -- tf.keras 2.x sets `self._trainable = True` here, after the base constructor read trainable=: a
  -- Bidirectional is trainable whatever its own trainable argument (freeze the wrapped layer instead,
  -- or set .trainable after construction).
  self.trainable = true
end

function Bidirectional:verify_layer_config()
  local f, b = self.forward_layer, self.backward_layer
  if (f.go_backwards and true or false) == (b.go_backwards and true or false) then
    errors.value_error(string.format("Forward layer and backward layer should have different " ..
      "`go_backwards` value.forward_layer.go_backwards = %s,backward_layer.go_backwards = %s",
      py_bool(f.go_backwards), py_bool(b.go_backwards)))
  end
  for _, a in ipairs{"stateful", "return_sequences", "return_state"} do
    local fv, bv = f[a] and true or false, b[a] and true or false
    if fv ~= bv then
      errors.value_error(string.format('Forward layer and backward layer are expected to have the same ' ..
        'value for attribute "%s", got "%s" for forward layer and "%s" for backward layer', a,
        py_bool(fv), py_bool(bv)))
    end
  end
end

function Bidirectional:build(input_shape)
  -- tf.keras: with name_scope(forward_layer.name): forward_layer.build(...); same for backward.
  self.forward_layer:maybe_build(input_shape, {scope = self.forward_layer.name})
  self.backward_layer:maybe_build(input_shape, {scope = self.backward_layer.name})
  self.built = true
end

function Bidirectional:compute_output_shape(input_shape)
  local out = self.forward_layer:compute_output_shape(input_shape)
  local states = {}
  if self.return_state then
    for i = 2, #out do states[#states + 1] = copy(out[i]) end
    out = out[1]
  end
  out = copy(out)
  local mode = self.merge_mode
  if mode == "concat" then
    local last = out[#out]
    if last then out[#out] = last * 2 end
  elseif mode == false then
    out = {out, copy(out)}
  end
  if not self.return_state then return out end
  local r
  if mode == false then r = out else r = {out} end
  for _, s in ipairs(states) do r[#r + 1] = s end
  for _, s in ipairs(states) do r[#r + 1] = copy(s) end
  return r
end

function Bidirectional:get_config()
  local cfg = self:base_config()
  Layer.config_put(cfg, "layer", serialize(self.layer))
  if self.merge_mode == false then
    Layer.config_put(cfg, "merge_mode", nil)
  else
    Layer.config_put(cfg, "merge_mode", self.merge_mode)
  end
  if self._backward_layer_config then
    Layer.config_put(cfg, "backward_layer", self._backward_layer_config)
  end
  return cfg
end

return M
