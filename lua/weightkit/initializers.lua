--[[
weightkit.initializers — tf.keras 2.x initializers as callable objects.

  local init = wk.initializers.GlorotUniform{seed = 1}   -- or GlorotUniform(1) / get("glorot_uniform")
  local t = init({3, 4}, "float32")                      -- a fresh wk tensor
  init:get_config()  --> {seed = 1};  init.class_name == "GlorotUniform"

Values come from the tensor fill_* methods with a wk.rng. A seeded initializer makes a fresh generator
from its seed on every call (the same values each call, like tf.keras 2.x seeded initializers); an
unseeded one draws from backend.rng() (seeded with backend.DEFAULT_SEED or backend.set_seed(n)).

Keras facts (tf_keras/initializers/initializers_v2.py):
- fans (`_compute_fans`): rank 0 -> (1, 1); rank 1 -> (shape[1], shape[1]); rank 2 -> (shape[1], shape[2]);
  rank > 2 -> receptive = prod(shape[1 .. n-2]), fan_in = shape[n-1] * receptive, fan_out = shape[n] * receptive.
- VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal"): scale /= max(1, fan) with
  fan = fan_in | fan_out | (fan_in + fan_out) / 2; truncated_normal: stddev = sqrt(scale) / .87962566103423978
  (TF truncates at 2 stddev); untruncated_normal: stddev = sqrt(scale); uniform: limit = sqrt(3 * scale).
  "normal" is read as "truncated_normal".
- Glorot* = VarianceScaling(1, fan_avg), He* = (2, fan_in), Lecun* = (1, fan_in); *Uniform / *Normal
  (truncated). Their get_config is {seed}.
- RandomUniform(-0.05, 0.05), RandomNormal(0, 0.05), TruncatedNormal(0, 0.05), Constant(0), Orthogonal(gain=1)
  (rank >= 2; flattened to (prod(shape[:-1]), shape[-1])), Identity(gain=1) (rank 2 only).
]]
local backend = require "weightkit.backend"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"

local function T() return require("weightkit.tensor").api end

local M = {}

local TRUNC_CORRECTION = .87962566103423978

--{=====================================================================================================
-- Base class
--======================================================================================================

local Initializer = {}
Initializer.__index = Initializer
Initializer.class_name = "Initializer"
Initializer.is_initializer = true
Initializer.params = {}

local function construct(cls, args)
  if args == nil then args = {} end
  if type(args) ~= "table" then args = {args} end
  local self = setmetatable({}, cls)
  local pos = cls.positional or {}
  local cfg = {}
  for k, v in pairs(args) do
    if math.type(k) == "integer" then
      local key = pos[k]
      if not key then errors.type_error(cls.class_name .. " got too many positional arguments") end
      cfg[key] = v
    else
      cfg[k] = v
    end
  end
  local known = {}
  for _, p in ipairs(cls.params) do known[p[1]] = true end
  for k in pairs(cfg) do
    if not known[k] then
      errors.type_error(string.format("%s.__init__() got an unexpected keyword argument '%s'",
        cls.class_name, tostring(k)))
    end
  end
  for _, p in ipairs(cls.params) do
    local v = cfg[p[1]]
    if v == nil then v = p[2] end
    self[p[1]] = v
  end
  if self.validate then self:validate() end
  return self
end

local function define(class_name, parent, params, positional)
  parent = parent or Initializer
  local cls = setmetatable({}, {__index = parent, __call = construct})
  cls.__index = cls
  cls.__call = parent.__call
  cls.__tostring = parent.__tostring
  cls.class_name = class_name
  cls.params = params or parent.params
  cls.positional = positional
  M[class_name] = cls
  return cls
end

function Initializer:get_config()
  local cfg, order = {}, {}
  for _, p in ipairs(getmetatable(self).params) do
    cfg[p[1]] = self[p[1]]
    order[#order + 1] = p[1]
  end
  return setmetatable(cfg, {__order = order})
end

function Initializer:rng()
  if self.seed ~= nil and self.seed ~= false then return backend.make_rng(self.seed) end
  return backend.rng()
end

function Initializer.__call(self, shape, dtype)
  local t = T().zeros(shape, dtype or backend.floatx())
  return self:fill(t, shape)
end

function Initializer.__tostring(self)
  return "<weightkit.initializers." .. self.class_name .. ">"
end

--{=====================================================================================================
-- Fans
--======================================================================================================

function M.compute_fans(shape)
  local n = #shape
  if n < 1 then return 1, 1 end
  if n == 1 then return shape[1], shape[1] end
  if n == 2 then return shape[1], shape[2] end
  local receptive = 1
  for i = 1, n - 2 do receptive = receptive * shape[i] end
  return shape[n - 1] * receptive, shape[n] * receptive
end

--{=====================================================================================================
-- Classes
--======================================================================================================

local Zeros = define("Zeros", nil, {})
function Zeros:fill(t) return t:fill(0) end

local Ones = define("Ones", nil, {})
function Ones:fill(t) return t:fill(1) end

local Constant = define("Constant", nil, {{"value", 0}}, {"value"})
function Constant:fill(t, shape)
  local v = self.value
  if type(v) == "number" or type(v) == "boolean" then return t:fill(v) end
  local wk = T()
  if not wk.is_tensor(v) then v = wk.tensor(v) end
  if v:numel() == 1 then return t:fill(v:item()) end
  return t:assign(v:reshape(shape))
end

local RandomUniform = define("RandomUniform", nil, {{"minval", -0.05}, {"maxval", 0.05}, {"seed"}},
  {"minval", "maxval", "seed"})
function RandomUniform:fill(t) return t:fill_uniform(self:rng(), self.minval, self.maxval) end

local RandomNormal = define("RandomNormal", nil, {{"mean", 0.0}, {"stddev", 0.05}, {"seed"}},
  {"mean", "stddev", "seed"})
function RandomNormal:fill(t) return t:fill_normal(self:rng(), self.mean, self.stddev) end

local TruncatedNormal = define("TruncatedNormal", nil, {{"mean", 0.0}, {"stddev", 0.05}, {"seed"}},
  {"mean", "stddev", "seed"})
function TruncatedNormal:fill(t) return t:fill_truncated_normal(self:rng(), self.mean, self.stddev) end

local VarianceScaling = define("VarianceScaling", nil,
  {{"scale", 1.0}, {"mode", "fan_in"}, {"distribution", "truncated_normal"}, {"seed"}},
  {"scale", "mode", "distribution", "seed"})

function VarianceScaling:validate()
  if type(self.scale) ~= "number" or self.scale <= 0 then
    errors.value_error("Argument `scale` must be positive float. Received: scale=" .. tostring(self.scale))
  end
  if self.mode ~= "fan_in" and self.mode ~= "fan_out" and self.mode ~= "fan_avg" then
    errors.value_error("Invalid `mode` argument: " .. tostring(self.mode) ..
      ". Please use one of {'fan_in', 'fan_out', 'fan_avg'}")
  end
  local d = tostring(self.distribution):lower()
  if d == "normal" then d = "truncated_normal" end
  if d ~= "uniform" and d ~= "truncated_normal" and d ~= "untruncated_normal" then
    errors.value_error("Invalid `distribution` argument: " .. d ..
      ".Allowed distributions: {'uniform', 'truncated_normal', 'untruncated_normal'}")
  end
  self.distribution = d
end

-- The (stddev or limit) VarianceScaling uses for `shape`.
function VarianceScaling:scale_for(shape)
  local fan_in, fan_out = M.compute_fans(shape)
  local scale = self.scale
  if self.mode == "fan_in" then
    scale = scale / math.max(1, fan_in)
  elseif self.mode == "fan_out" then
    scale = scale / math.max(1, fan_out)
  else
    scale = scale / math.max(1, (fan_in + fan_out) / 2)
  end
  if self.distribution == "truncated_normal" then return math.sqrt(scale) / TRUNC_CORRECTION end
  if self.distribution == "untruncated_normal" then return math.sqrt(scale) end
  return math.sqrt(3 * scale)
end

function VarianceScaling:fill(t, shape)
  local s = self:scale_for(shape)
  if self.distribution == "truncated_normal" then return t:fill_truncated_normal(self:rng(), 0, s) end
  if self.distribution == "untruncated_normal" then return t:fill_normal(self:rng(), 0, s) end
  return t:fill_uniform(self:rng(), -s, s)
end

local function preset(class_name, scale, mode, distribution)
  local cls = define(class_name, VarianceScaling, {{"seed"}}, {"seed"})
  function cls:validate()
    self.scale, self.mode, self.distribution = scale, mode, distribution
  end
  return cls
end
preset("GlorotUniform", 1.0, "fan_avg", "uniform")
preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
preset("HeUniform", 2.0, "fan_in", "uniform")
preset("HeNormal", 2.0, "fan_in", "truncated_normal")
preset("LecunUniform", 1.0, "fan_in", "uniform")
preset("LecunNormal", 1.0, "fan_in", "truncated_normal")

local Orthogonal = define("Orthogonal", nil, {{"gain", 1.0}, {"seed"}}, {"gain", "seed"})
function Orthogonal:fill(t, shape)
  local n = #shape
  if n < 2 then
    errors.value_error(string.format("The tensor to initialize must be at least two-dimensional. " ..
      "Received: shape=%s of rank %d.", naming.shape_str(shape), n))
  end
  if n == 2 then return t:fill_orthogonal(self:rng(), self.gain) end
  local rows = 1
  for i = 1, n - 1 do rows = rows * shape[i] end
  local flat = T().zeros({rows, shape[n]}, t:dtype())
  flat:fill_orthogonal(self:rng(), self.gain)
  return t:assign(flat:reshape(shape))
end

local Identity = define("Identity", nil, {{"gain", 1.0}}, {"gain"})
function Identity:fill(t, shape)
  if #shape ~= 2 then
    errors.value_error(string.format("Identity matrix initializer can only be used for 2D matrices. " ..
      "Received: shape=%s of rank %d.", naming.shape_str(shape), #shape))
  end
  return t:fill_identity(self.gain)
end

--{=====================================================================================================
-- Lookup / serialization
--======================================================================================================

-- tf.keras accepts the class name and its snake case; a few legacy aliases appear in old configs.
local ALIASES = {
  zero = "Zeros", one = "Ones", uniform = "RandomUniform", normal = "RandomNormal",
  random_uniform = "RandomUniform", random_normal = "RandomNormal", truncated_normal = "TruncatedNormal",
  variance_scaling = "VarianceScaling", glorot_uniform = "GlorotUniform", glorot_normal = "GlorotNormal",
  he_uniform = "HeUniform", he_normal = "HeNormal", lecun_uniform = "LecunUniform",
  lecun_normal = "LecunNormal", zeros = "Zeros", ones = "Ones", constant = "Constant",
  orthogonal = "Orthogonal", identity = "Identity",
  ConstantV2 = "Constant", ZerosV2 = "Zeros", OnesV2 = "Ones", RandomUniformV2 = "RandomUniform",
  RandomNormalV2 = "RandomNormal", TruncatedNormalV2 = "TruncatedNormal",
  VarianceScalingV2 = "VarianceScaling", GlorotUniformV2 = "GlorotUniform",
  GlorotNormalV2 = "GlorotNormal", OrthogonalV2 = "Orthogonal", IdentityV2 = "Identity",
  Zero = "Zeros", One = "Ones", glorot_uniformV2 = "GlorotUniform", glorot_normalV2 = "GlorotNormal",
}

local function lookup(name)
  local cls = rawget(M, name)
  if type(cls) == "table" and cls.is_initializer then return cls end
  local alias = ALIASES[name]
  if alias then return M[alias] end
  return nil
end

-- get(x): nil / false / a JSON-null userdata -> nil; a tensor -> Constant(tensor); an initializer object -> itself; a string; {class_name=, config=} (Keras 2 or 3
-- serialized form); a function fn(shape, dtype) -> tensor (used as is); a number -> Constant(number).
function M.get(x)
  if x == nil or x == false then return nil end
  if type(x) == "userdata" then
    if T().is_tensor(x) then return Constant(x) end
    return nil   -- a JSON null sentinel (e.g. cjson.null)
  end
  if type(x) == "table" and x.is_initializer then return x end
  if type(x) == "function" then return x end
  if type(x) == "number" then return Constant(x) end
  if type(x) == "string" then
    local cls = lookup(x)
    if not cls then errors.value_error("Unknown initializer: '" .. x .. "'. Please ensure you are using a " ..
      "`keras.utils.custom_object_scope` and that this object is included in the scope.") end
    return cls()
  end
  if type(x) == "table" and x.class_name then
    local cls = lookup(x.class_name)
    if not cls then errors.value_error("Unknown initializer: '" .. tostring(x.class_name) .. "'") end
    local cfg = {}
    for k, v in pairs(x.config or {}) do cfg[k] = v end
    -- configs written by other Keras versions may carry keys this class does not take
    local known = {}
    for _, p in ipairs(cls.params) do known[p[1]] = true end
    for k in pairs(cfg) do if not known[k] then cfg[k] = nil end end
    -- JSON null seed may arrive as a non-number sentinel
    if cfg.seed ~= nil and type(cfg.seed) ~= "number" then cfg.seed = nil end
    return cls(cfg)
  end
  errors.value_error("Could not interpret initializer identifier: " .. tostring(x))
end

function M.serialize(init)
  if init == nil then return nil end
  return setmetatable({class_name = init.class_name, config = init:get_config()},
    {__order = {"class_name", "config"}})
end

M.Initializer = Initializer
M.TRUNC_CORRECTION = TRUNC_CORRECTION

return M
