--[[
weightkit.layer — the base Layer class and Variable (a weight), tf.keras 2.x semantics.

STABLE INTERFACE (other helpers build on it; extend, do not change)
--------------------------------------------------------------------
Defining a class:
  local Layer = require "weightkit.layer"
  local Dense = Layer:extend("Dense", {           -- class_name; auto-name prefix = naming.to_snake_case
    params = { {"units"}, {"activation", "linear"}, {"use_bias", true}, ... },  -- ordered {key, default}
    positional = {"units"},                       -- Dense{64} / Dense(64) -> units = 64
  })
  The spec (second argument) is optional. With `params` the class is strict: an unknown config key raises
  `TypeError: ('Keyword argument not understood:', 'foo')` (tf.keras text); without, any key is accepted
  and copied. Parameters are inherited (parent's first). Other spec fields: name_prefix (instead of the
  snake case of class_name), zero_based (false for "input_1"-style names).

Construction: `Dense{units = 1, name = "fc"}`. The base consumes name, trainable, dtype, input_shape,
  batch_input_shape, batch_size, input_dim, weights (initial values, set right after build),
  activity_regularizer, autocast, implementation. Then declared params are filled with their defaults and
  `cls:init(config)` runs; the default init copies every declared param onto self (self.units ...), so a
  subclass init usually starts with `Layer.init(self, config)` (or its parent's init) then converts.
  `cls:from_config(config, {strict = false})` drops unknown keys with a warning instead of raising.
  A non-table config, or a Layer given as the config (TimeDistributed(dense), RNN(cell)), is the first
  positional value. A base key the class also declares as a param (LSTM's implementation, Embedding's
  input_dim) is left in the config for init.

Instance fields: name, class_name, trainable, built, dtype (variable dtype, "float32"), compute_dtype,
  batch_input_shape (or nil; used by Sequential), build_input_shape (after build).
Methods a class may define:
  init(config)                   see above
  build(input_shape)             create weights with self:add_weight{...}; input_shape is a shape (Lua
                                 array, unknown dim = false) or, for multi-input layers, a list of shapes
  compute_output_shape(shape)    None-aware; the base raises NotImplementedError
  call(inputs, ...)              concrete forward on wk tensors; the base raises NotImplementedError
  get_config()                   base returns name, trainable, [batch_input_shape], dtype, then every
                                 declared param (serialized); ordered: getmetatable(cfg).__order lists keys
Calling: `layer(x, ...)`
  - x symbolic (graph.is_symbolic(x)) -> require("weightkit.graph").call_layer(layer, x, ...)
  - else, inside name scope layer.name: self:maybe_build(shape(s)); return self:call(x, ...)
maybe_build(shape, opts): if not built, runs self:build(shape) in the CALLER's name scope (it pushes
  nothing by default: __call and graph.call_layer push layer.name around it, as tf.keras's __call__
  does), then built = true, records build_input_shape and applies initial `weights`. opts.scope = "x"
  pushes "x" around build. Wrappers building an inner layer push what tf.keras pushes, e.g.
  RNN: backend.with_name_scope(cell.name, function() cell:maybe_build(s) end) or
  cell:maybe_build(s, {scope = cell.name}); TimeDistributed: inner:maybe_build(s).
add_weight{name, shape, initializer = "glorot_uniform"|obj|fn(shape, dtype), trainable = true,
  dtype = self.dtype, regularizer, constraint, value = tensor (instead of the initializer),
  full_name = "exact/name:0" (override)} -> Variable, appended to the layer's own trainable or
  non-trainable list. Its name is backend.current_scope() .. "/" .. name .. ":0" ("dense/kernel:0");
  with no scope (layer:build called directly) it is "kernel:0", as in tf.keras.
Sublayers: self:track(sublayer) -> sublayer (idempotent, keeps order); self:tracked_layers().
  self:track_weight(v, trainable?) adds an existing Variable to the own lists.
Listings (tf.keras 2.x Layer):
  trainable_weights()     = trainable and dedup(own trainable + each sublayer's trainable_weights()) or {}
  non_trainable_weights() = trainable and dedup(own non-trainable + each sublayer's non_trainable_weights())
                            or dedup(own trainable + own non-trainable + each sublayer's weights())
  weights()               = dedup(trainable_weights() + non_trainable_weights())
  Variable.trainable keeps the flag it was created with; layer.trainable = false moves the layer's
  weights to the non-trainable listing (as Keras does). layer:set_trainable(b) also sets sublayers.
get_weights() -> list of tensor copies in weights() order; set_weights(list) checks count, then every
  shape, before assigning anything (values of another dtype are cast); count_params(); tostring(layer).

Variable: fields name ("dense/kernel:0"), path ("dense/kernel"), trainable, value (wk tensor), layer
  (the owning layer); methods v:shape(), v:dtype(), v:numel(), v:assign(t) (checks shape, casts).

Layer.custom{class_name = "MyLayer", weights = function(input_shape, config) return {{name = "w",
  shape = {...}, initializer = "zeros", trainable = true}, ...} end, call = fn(self, x)?,
  compute_output_shape = fn(self, shape)? (default: identity), params = {...}?} -> a Layer class whose
  config is kept whole (self.config) and echoed by get_config.
]]
local backend = require "weightkit.backend"
local naming = require "weightkit.naming"
local errors = require "weightkit.errors"

local shape_str = naming.shape_str

local function T() return require("weightkit.tensor").api end

local M = {}

--{=====================================================================================================
-- Small helpers
--======================================================================================================

local function copy_list(t)
  local r = {}
  for i = 1, #t do r[i] = t[i] end
  return r
end

local function deep_copy(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return v end
  local r = {}
  for k, x in pairs(v) do r[k] = deep_copy(x) end
  return r
end

-- The list without repeats, first occurrence kept (weight listings are de-duplicated this way).
local function dedup(list)
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    if not seen[v] then seen[v] = true; out[#out + 1] = v end
  end
  return out
end
M.dedup = dedup

-- Appends src's items to dst; returns dst.
local function append(dst, src)
  for _, v in ipairs(src) do dst[#dst + 1] = v end
  return dst
end
M.append = append

-- A shape as given in a config: JSON nulls may arrive as nil holes, cjson.null or false; numbers stay.
local function normalize_shape(s)
  if s == nil then return nil end
  if type(s) == "number" then return {math.tointeger(s) or s} end
  local n = 0
  for k in pairs(s) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  local r = {}
  for i = 1, n do
    local d = s[i]
    if type(d) == "number" then r[i] = math.tointeger(d) or d else r[i] = false end
  end
  return r
end
M.normalize_shape = normalize_shape

local function is_shape_list(s)
  return type(s) == "table" and type(s[1]) == "table"
end

local function copy_shape(s)
  if s == nil then return nil end
  if is_shape_list(s) then
    local r = {}
    for i, x in ipairs(s) do r[i] = copy_list(x) end
    return r
  end
  local r = {}
  for i = 1, #s do r[i] = s[i] end
  return r
end
M.copy_shape = copy_shape

-- Python repr of a float/int, for the "Provided weights: ..." text.
local function py_number(x)
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  if x == math.floor(x) and math.abs(x) < 1e16 then return string.format("%.1f", x) end
  for p = 1, 17 do
    local s = string.format("%." .. p .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end

local function py_repr(v)
  local wk = T()
  if wk.is_tensor(v) then return v:repr() end
  if type(v) == "number" then return py_number(v) end
  if type(v) == "boolean" then return v and "True" or "False" end
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = py_repr(v[i]) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  return tostring(v)
end
M.py_repr = py_repr

-- Shape of a weight value given to set_weights: a tensor, a nested Lua table or a number.
local function value_shape(v)
  local wk = T()
  if wk.is_tensor(v) then return v:shape() end
  local shape = {}
  while type(v) == "table" do
    shape[#shape + 1] = #v
    v = v[1]
  end
  return shape
end

local function shapes_compatible(ref, got)
  if #ref ~= #got then return false end
  for i = 1, #ref do
    if ref[i] and got[i] and ref[i] ~= got[i] then return false end
  end
  return true
end
M.shapes_compatible = shapes_compatible

--{=====================================================================================================
-- Variable
--======================================================================================================

local Variable = {}
Variable.__index = Variable
M.Variable = Variable

function Variable.new(fields)
  return setmetatable(fields, Variable)
end

function Variable:shape() return self.value:shape() end
function Variable:dtype() return self.value:dtype() end
function Variable:numel() return self.value:numel() end

function Variable:assign(t)
  local wk = T()
  if not wk.is_tensor(t) then t = wk.tensor(t, self:dtype()) end
  local ref, got = self:shape(), t:shape()
  if not shapes_compatible(ref, got) then
    errors.value_error(string.format("Cannot assign value to variable ' %s': Shape mismatch.The " ..
      "variable shape %s, and the assigned value shape %s are incompatible.",
      self.name, shape_str(ref), shape_str(got)))
  end
  if t:dtype() ~= self:dtype() then t = t:astype(self:dtype()) end
  self.value:assign(t)
  return self
end

function Variable:__tostring()
  return string.format("<tf.Variable '%s' shape=%s dtype=%s>", self.name, shape_str(self:shape()),
    self:dtype())
end

function M.is_variable(v)
  return getmetatable(v) == Variable
end

--{=====================================================================================================
-- Layer class machinery
--======================================================================================================

local Layer = {}
Layer.__index = Layer
Layer.class_name = "Layer"
Layer.is_layer_class = true
Layer.params = {}
Layer.positional = {}
M.Layer = Layer

-- Keys consumed by the base constructor (tf.keras base Layer's allowed kwargs + name/trainable/dtype).
local BASE_KEYS = {
  name = true, trainable = true, dtype = true, input_shape = true, batch_input_shape = true,
  batch_size = true, input_dim = true, weights = true, activity_regularizer = true, autocast = true,
  implementation = true,
}
M.BASE_KEYS = BASE_KEYS

local METAMETHODS = {"__call", "__tostring", "__close", "__eq", "__len", "__concat", "__name"}

local construct

function Layer:extend(class_name, spec)
  spec = spec or {}
  local parent = self
  local cls = {}
  for _, mm in ipairs(METAMETHODS) do
    local v = parent[mm]
    if v ~= nil then cls[mm] = v end
  end
  cls.__index = cls
  cls.class_name = class_name
  cls.super = parent
  local params = {}
  local known = {}
  for _, p in ipairs(spec.params or {}) do known[p[1]] = true end
  for _, p in ipairs(parent.params or {}) do
    if not known[p[1]] then params[#params + 1] = p end
  end
  for _, p in ipairs(spec.params or {}) do params[#params + 1] = p end
  cls.params = params
  cls.strict_config = spec.params ~= nil
  if spec.positional then cls.positional = spec.positional end
  if spec.name_prefix then cls.name_prefix = spec.name_prefix end
  if spec.zero_based ~= nil then cls.zero_based = spec.zero_based end
  return setmetatable(cls, {__index = parent, __call = construct, __tostring = function(c)
    return "<class weightkit.layers." .. c.class_name .. ">"
  end})
end

function M.is_layer(v)
  return type(v) == "table" and rawget(v, "_trainable_weights") ~= nil and v.is_layer_class == true
end

function M.is_class(v)
  return type(v) == "table" and rawget(v, "class_name") ~= nil and v.is_layer_class == true
    and rawget(v, "_trainable_weights") == nil
end

local function param_index(cls)
  local idx = {}
  for _, p in ipairs(cls.params or {}) do idx[p[1]] = p end
  return idx
end

-- dtype / dtype policy: returns variable dtype, compute dtype, what get_config echoes.
local function parse_dtype(d)
  if d == nil then
    local fx = backend.floatx()
    return fx, fx, fx
  end
  if type(d) == "table" then
    local cfg = d.config or {}
    local name = cfg.name or d.name
    local v, c = parse_dtype(name)
    return v, c, d
  end
  if d == "mixed_float16" then return "float32", "float16", d end
  if d == "mixed_bfloat16" then return "float32", "bfloat16", d end
  if d == "_infer" then
    local fx = backend.floatx()
    return fx, fx, fx
  end
  return d, d, d
end

-- The base part of construction; `cfg` is a private copy and loses the keys consumed here.
local function init_base(self, cfg)
  local cls = getmetatable(self)
  self._trainable_weights = {}
  self._non_trainable_weights = {}
  self._layers = {}
  self.built = false
  self.class_name = cls.class_name

  local name = cfg.name
  if name == nil then
    local prefix = cls.name_prefix or naming.to_snake_case(cls.class_name)
    local zb = cls.zero_based
    if zb == nil then zb = true end
    name = backend.unique_name(prefix, {zero_based = zb})
  elseif type(name) ~= "string" then
    errors.type_error("Layer name must be a string, got " .. type(name))
  end
  self.name = name

  if cfg.trainable == nil then self.trainable = true else self.trainable = cfg.trainable and true end
  self.dtype, self.compute_dtype, self._dtype_config = parse_dtype(cfg.dtype)

  -- a base key the class also declares as a param (Dense's activity_regularizer, Embedding's
  -- input_dim) stays for init and keeps the class's meaning
  local declared = {}
  for _, p in ipairs(cls.params or {}) do declared[p[1]] = true end

  local input_shape = cfg.input_shape
  if input_shape == nil and cfg.input_dim ~= nil and not declared.input_dim then
    input_shape = {cfg.input_dim}
  end
  if cfg.batch_input_shape ~= nil then
    self.batch_input_shape = normalize_shape(cfg.batch_input_shape)
  elseif input_shape ~= nil then
    local s = normalize_shape(input_shape)
    local b = cfg.batch_size
    if b == nil then b = false end
    table.insert(s, 1, b)
    self.batch_input_shape = s
  end
  self.batch_size = cfg.batch_size
  self.initial_weights = cfg.weights
  self.activity_regularizer = cfg.activity_regularizer
  for k in pairs(BASE_KEYS) do
    if not declared[k] then cfg[k] = nil end
  end
end

-- cls(config, opts) and cls:from_config(config): `config` is a table of keyword arguments (an ordered
-- config from get_config works too: only its keys are read), or one positional value. A Layer given as
-- the config (TimeDistributed(dense), RNN(cell)) is that first positional value, not a table of keys.
construct = function(cls, config, opts)
  if config == nil then config = {} end
  if type(config) ~= "table" or M.is_layer(config) then config = {config} end
  local cfg = {}
  for k, v in pairs(config) do cfg[k] = v end
  -- positional values (Dense{64})
  local pos = cls.positional or {}
  for i = 1, #cfg do
    local key = pos[i]
    if key == nil then
      errors.type_error(string.format("%s takes at most %d positional argument(s)", cls.class_name, #pos))
    end
    if cfg[key] ~= nil then
      errors.type_error(string.format("%s got multiple values for argument '%s'", cls.class_name, key))
    end
    cfg[key] = cfg[i]
  end
  for i = #cfg, 1, -1 do cfg[i] = nil end

  local self = setmetatable({}, cls)
  init_base(self, cfg)

  local idx = param_index(cls)
  if cls.strict_config then
    local strict = not (opts and opts.strict == false)
    local unknown = {}
    for k in pairs(cfg) do
      if idx[k] == nil then unknown[#unknown + 1] = k end
    end
    table.sort(unknown, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(unknown) do
      if strict then
        errors.type_error(string.format("('Keyword argument not understood:', '%s')", tostring(k)))
      end
      errors.warn(string.format("%s: ignoring unknown config key '%s'", cls.class_name, tostring(k)))
      cfg[k] = nil
    end
  end
  for _, p in ipairs(cls.params or {}) do
    if cfg[p[1]] == nil and p[2] ~= nil then cfg[p[1]] = deep_copy(p[2]) end
  end
  self:init(cfg)
  return self
end
M.construct = construct

function Layer.from_config(cls, config, opts)
  return construct(cls, config, opts or {strict = false})
end

-- Default init: copy every declared param (classes without params: every key) onto self.
function Layer:init(config)
  local cls = getmetatable(self)
  if cls.strict_config or #(cls.params or {}) > 0 then
    for _, p in ipairs(cls.params) do self[p[1]] = config[p[1]] end
  else
    self.config = config
  end
end

--{=====================================================================================================
-- Config
--======================================================================================================

local function ordered(cfg, order)
  return setmetatable(cfg, {__order = order})
end
M.ordered = ordered

-- Serialized form of a config value: initializer-like objects -> {class_name, config}, activations ->
-- their name, layers -> {class_name, config}, shapes/tables copied.
local function serialize(v)
  if type(v) == "table" then
    if v.activation_name then return v.activation_name end
    if M.is_layer(v) then
      return ordered({class_name = v.class_name, config = v:get_config()}, {"class_name", "config"})
    end
    if v.get_config and v.class_name then
      return ordered({class_name = v.class_name, config = v:get_config()}, {"class_name", "config"})
    end
    if getmetatable(v) == nil then
      local r = {}
      for k, x in pairs(v) do r[k] = serialize(x) end
      return r
    end
  end
  return v
end
M.serialize = serialize

function Layer:base_config()
  local cfg, order = {}, {}
  local function put(k, v) cfg[k] = v; order[#order + 1] = k end
  put("name", self.name)
  put("trainable", self.trainable)
  if self.batch_input_shape then put("batch_input_shape", copy_shape(self.batch_input_shape)) end
  put("dtype", deep_copy(self._dtype_config))
  return ordered(cfg, order)
end

-- Add `key = value` to an ordered config (keeps the order list in step).
function M.config_put(cfg, key, value)
  local mt = getmetatable(cfg)
  if cfg[key] == nil and mt and mt.__order then mt.__order[#mt.__order + 1] = key end
  cfg[key] = value
  return cfg
end

function Layer:get_config()
  local cfg = self:base_config()
  local cls = getmetatable(self)
  if cls.strict_config or #(cls.params or {}) > 0 then
    for _, p in ipairs(cls.params) do M.config_put(cfg, p[1], serialize(self[p[1]])) end
  elseif self.config then
    local keys = {}
    for k in pairs(self.config) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do M.config_put(cfg, k, serialize(self.config[k])) end
  end
  return cfg
end

--{=====================================================================================================
-- Building, weights, sublayers
--======================================================================================================

function Layer:build(_input_shape)
  self.built = true
end

function Layer:maybe_build(input_shape, opts)
  if self.built then return end
  local scope = opts and opts.scope or nil
  backend.with_name_scope(scope, function() self:build(input_shape) end)
  self.built = true
  self.build_input_shape = copy_shape(input_shape)
  if self.initial_weights ~= nil then
    local w = self.initial_weights
    self.initial_weights = nil
    self:set_weights(w)
  end
end

function Layer:add_weight(spec)
  local wk = T()
  if type(spec) ~= "table" or type(spec.name) ~= "string" then
    errors.value_error("add_weight needs a table with a string `name`")
  end
  local shape = normalize_shape(spec.shape or {})
  for i, d in ipairs(shape) do
    if d == false then
      errors.value_error(string.format("Weight %s of layer %s has an undefined dimension %d in shape %s",
        spec.name, self.name, i, shape_str(shape)))
    end
  end
  local dtype = spec.dtype or self.dtype
  local value = spec.value
  if value ~= nil then
    if not wk.is_tensor(value) then value = wk.tensor(value, dtype) end
    if value:dtype() ~= dtype then value = value:astype(dtype) end
  else
    local init = require("weightkit.initializers").get(spec.initializer or "glorot_uniform")
    value = init(shape, dtype)
  end
  local trainable = spec.trainable
  if trainable == nil then trainable = true end
  local full = spec.full_name
  if full == nil then
    local scope = backend.current_scope()
    full = (scope ~= "" and scope .. "/" or "") .. spec.name .. ":0"
  end
  local v = Variable.new{
    name = full,
    path = full:gsub(":%d+$", ""),
    trainable = trainable and true or false,
    value = value,
    layer = self,
    regularizer = spec.regularizer,
    constraint = spec.constraint,
  }
  self:track_weight(v, v.trainable)
  return v
end

function Layer:track_weight(v, trainable)
  if trainable == nil then trainable = v.trainable end
  local list = trainable and self._trainable_weights or self._non_trainable_weights
  for _, x in ipairs(list) do if x == v then return v end end
  list[#list + 1] = v
  return v
end

function Layer:track(sublayer)
  if not M.is_layer(sublayer) then
    errors.type_error("track() expects a layer, got " .. tostring(sublayer))
  end
  for _, l in ipairs(self._layers) do if l == sublayer then return sublayer end end
  self._layers[#self._layers + 1] = sublayer
  return sublayer
end

function Layer:tracked_layers()
  return copy_list(self._layers)
end

function Layer:set_trainable(flag)
  self.trainable = flag and true or false
  for _, l in ipairs(self._layers) do l:set_trainable(flag) end
end

function Layer:trainable_weights()
  if not self.trainable then return {} end
  local list = copy_list(self._trainable_weights)
  for _, l in ipairs(self._layers) do append(list, l:trainable_weights()) end
  return dedup(list)
end

function Layer:non_trainable_weights()
  local list
  if self.trainable then
    list = copy_list(self._non_trainable_weights)
    for _, l in ipairs(self._layers) do append(list, l:non_trainable_weights()) end
  else
    list = append(copy_list(self._trainable_weights), self._non_trainable_weights)
    for _, l in ipairs(self._layers) do append(list, l:weights()) end
  end
  return dedup(list)
end

function Layer:weights()
  return dedup(append(self:trainable_weights(), self:non_trainable_weights()))
end

function Layer:get_weights()
  local out = {}
  for i, v in ipairs(self:weights()) do out[i] = v.value:clone() end
  return out
end

function Layer:set_weights(list)
  local wk = T()
  local params = self:weights()
  if type(list) ~= "table" then errors.type_error("set_weights expects a list of arrays") end
  local n = #list
  if n ~= #params then
    local parts = {}
    for i = 1, n do parts[i] = py_repr(list[i]) end
    local provided = "[" .. table.concat(parts, ", ") .. "]"
    errors.value_error(string.format('You called `set_weights(weights)` on layer "%s" with a weight list ' ..
      "of length %d, but the layer was expecting %d weights. Provided weights: %s...",
      self.name, n, #params, provided:sub(1, 50)))
  end
  local values = {}
  for i, p in ipairs(params) do
    local w = list[i]
    local ref, got = p:shape(), value_shape(w)
    if not shapes_compatible(ref, got) then
      errors.value_error(string.format("Layer %s weight shape %s is not compatible with provided weight " ..
        "shape %s.", self.name, shape_str(ref), shape_str(got)))
    end
    if not wk.is_tensor(w) then w = wk.tensor(w, p:dtype()) end
    values[i] = w
  end
  for i, p in ipairs(params) do p:assign(values[i]) end
end

function Layer:count_params()
  if not self.built then
    errors.value_error(string.format("You tried to call `count_params` on layer %s, but the layer isn't " ..
      "built. You can build it manually via: `%s.build(batch_input_shape)`.", self.name, self.name))
  end
  local total = 0
  for _, v in ipairs(self:weights()) do total = total + v:numel() end
  return total
end

--{=====================================================================================================
-- Shapes and calling
--======================================================================================================

function Layer:compute_output_shape(_input_shape)
  errors.not_implemented(string.format("Please run in eager mode or implement the compute_output_shape " ..
    "method on your layer (%s).", self.class_name))
end

function M.identity_shape(_self, input_shape)
  return copy_shape(input_shape)
end

function Layer:call(_inputs)
  errors.not_implemented(string.format("Layer %s (%s) has no forward computation in weightkit",
    self.name, self.class_name))
end

local graph_mod = nil
local function graph()
  if graph_mod == nil then
    local ok, g = pcall(require, "weightkit.graph")
    graph_mod = ok and g or false
  end
  return graph_mod or nil
end

local function input_shapes(inputs)
  local wk = T()
  if wk.is_tensor(inputs) then return inputs:shape() end
  if type(inputs) == "table" then
    local r = {}
    for i, x in ipairs(inputs) do r[i] = input_shapes(x) end
    return r
  end
  errors.type_error("layer called on a " .. type(inputs) .. "; expected a tensor or a list of tensors")
end

function Layer.__call(self, inputs, ...)
  local g = graph()
  if g and g.is_symbolic(inputs) then return g.call_layer(self, inputs, ...) end
  local shape = input_shapes(inputs)
  local args = table.pack(...)
  return backend.with_name_scope(self.name, function()
    self:maybe_build(shape)
    return self:call(inputs, table.unpack(args, 1, args.n))
  end)
end

function Layer.__tostring(self)
  return string.format("<weightkit.layers.%s name=%s, built=%s>", self.class_name, self.name,
    tostring(self.built))
end

--{=====================================================================================================
-- Custom layers declared from Lua
--======================================================================================================

function M.custom(spec)
  if type(spec) ~= "table" or type(spec.class_name) ~= "string" then
    errors.value_error("layers.custom needs a table with a string `class_name`")
  end
  local cls = Layer:extend(spec.class_name, {params = spec.params, positional = spec.positional})
  cls.is_custom = true
  function cls:init(config)
    if spec.params then Layer.init(self, config) end
    self.config = config
    if spec.init then spec.init(self, config) end
  end
  function cls:build(input_shape)
    if spec.weights then
      local specs = spec.weights(input_shape, self.config, self) or {}
      for _, w in ipairs(specs) do
        local v = self:add_weight(w)
        if self[w.name] == nil then self[w.name] = v end
      end
    end
    self.built = true
  end
  function cls:get_config()
    local cfg = self:base_config()
    local keys = {}
    for k in pairs(self.config) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do M.config_put(cfg, k, serialize(self.config[k])) end
    return cfg
  end
  if spec.compute_output_shape then
    cls.compute_output_shape = spec.compute_output_shape
  else
    cls.compute_output_shape = M.identity_shape
  end
  if spec.call then cls.call = spec.call end
  return cls
end

-- The module is the Layer class itself (require "weightkit.layer" -> Layer), with helpers attached:
-- Layer.Variable, Layer.is_layer(v), Layer.is_class(v), Layer.is_variable(v), Layer.custom(spec),
-- Layer.normalize_shape(s), Layer.copy_shape(s), Layer.shapes_compatible(a, b), Layer.serialize(v),
-- Layer.ordered(cfg, keys), Layer.config_put(cfg, k, v), Layer.identity_shape, Layer.py_repr(v),
-- Layer.dedup(list), Layer.append(dst, src).
for k, v in pairs(M) do
  if k ~= "Layer" and Layer[k] == nil then Layer[k] = v end
end
Layer.Layer = Layer
return Layer
