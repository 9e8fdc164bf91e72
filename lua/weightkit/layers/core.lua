--[[
weightkit.layers.core — Dense, Activation, Dropout family, Flatten, Reshape, Permute, RepeatVector,
Masking, Lambda, ActivityRegularization (tf.keras 2.x configs, weights and shapes).

Dense: kernel (in, units) then bias (units,) ("dense/kernel:0", "dense/bias:0"); forward
  activation(x @ kernel + bias) on the last axis (inputs of rank > 2 are flattened to 2-D and back).
Lambda is opaque: its config (function, module, output_shape ...) is kept and echoed, never executed.
  Its output shape is `output_shape` from the config (without the batch dim, as in Keras) when it is a
  list; otherwise the input shape is assumed, with a warning (weightkit cannot run the function).
]]
local Layer = require "weightkit.layer"
local activations = require "weightkit.activations"
local initializers = require "weightkit.initializers"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local function T() return require("weightkit.tensor").api end

local M = {}

--{=====================================================================================================
-- Dense
--======================================================================================================

local Dense = Layer:extend("Dense", {
  positional = {"units", "activation"},
  params = {
    {"units"}, {"activation", "linear"}, {"use_bias", true},
    {"kernel_initializer", "glorot_uniform"}, {"bias_initializer", "zeros"},
    {"kernel_regularizer"}, {"bias_regularizer"}, {"activity_regularizer"},
    {"kernel_constraint"}, {"bias_constraint"},
  },
})
M.Dense = Dense

function Dense:init(config)
  Layer.init(self, config)
  local u = config.units
  if type(u) ~= "number" or u <= 0 or u ~= math.floor(u) then
    errors.value_error("Received an invalid value for `units`, expected a positive integer. Received: units="
      .. tostring(u))
  end
  self.units = math.tointeger(u)
  self.activation = activations.get(config.activation)
  self.kernel_initializer = initializers.get(config.kernel_initializer)
  self.bias_initializer = initializers.get(config.bias_initializer)
end

local FLOATS = {float16 = true, bfloat16 = true, float32 = true, float64 = true}

function Dense:build(input_shape)
  if not FLOATS[self.dtype] then
    errors.type_error("A Dense layer can only be built with a floating-point dtype. Received: dtype=" ..
      tostring(self.dtype))
  end
  local last = input_shape[#input_shape]
  if #input_shape == 0 or not last then
    errors.value_error("The last dimension of the inputs to a Dense layer should be defined. Found None. " ..
      "Full input shape received: " .. U.shape_str(input_shape))
  end
  self.kernel = self:add_weight{name = "kernel", shape = {last, self.units},
    initializer = self.kernel_initializer, regularizer = self.kernel_regularizer,
    constraint = self.kernel_constraint, trainable = true}
  if self.use_bias then
    self.bias = self:add_weight{name = "bias", shape = {self.units}, initializer = self.bias_initializer,
      regularizer = self.bias_regularizer, constraint = self.bias_constraint, trainable = true}
  end
  self.built = true
end

function Dense:compute_output_shape(input_shape)
  if #input_shape == 0 or not input_shape[#input_shape] then
    errors.value_error("The last dimension of the input shape of a Dense layer should be defined. " ..
      "Found None. Received: input_shape=" .. U.shape_str(input_shape))
  end
  local out = U.copy(input_shape)
  out[#out] = self.units
  return out
end

function Dense:call(x)
  if x:dtype() ~= self.compute_dtype then x = x:astype(self.compute_dtype) end
  local shape = x:shape()
  local y
  if #shape == 2 then
    y = x:matmul(self.kernel.value)
  else
    y = x:reshape({-1, shape[#shape]}):matmul(self.kernel.value)
    local out = U.copy(shape)
    out[#out] = self.units
    y = y:reshape(out)
  end
  if self.use_bias then y = y + self.bias.value end
  return self.activation(y)
end

--{=====================================================================================================
-- Activation and weightless identity-shaped layers
--======================================================================================================

local Activation = Layer:extend("Activation", {positional = {"activation"}, params = {{"activation"}}})
M.Activation = Activation

function Activation:init(config)
  Layer.init(self, config)
  self.activation = activations.get(config.activation)
end
Activation.compute_output_shape = Layer.identity_shape
function Activation:call(x) return self.activation(x) end

local function identity_layer(class_name, params, positional)
  local cls = Layer:extend(class_name, {params = params, positional = positional})
  cls.compute_output_shape = Layer.identity_shape
  cls.call = function(_, x) return x:clone() end   -- inference behaviour
  M[class_name] = cls
  return cls
end

identity_layer("Dropout", {{"rate"}, {"noise_shape"}, {"seed"}}, {"rate", "noise_shape", "seed"})
identity_layer("SpatialDropout1D", {{"rate"}}, {"rate"})
identity_layer("SpatialDropout2D", {{"rate"}, {"data_format"}}, {"rate", "data_format"})
identity_layer("SpatialDropout3D", {{"rate"}, {"data_format"}}, {"rate", "data_format"})
identity_layer("GaussianNoise", {{"stddev"}, {"seed"}}, {"stddev", "seed"})
identity_layer("GaussianDropout", {{"rate"}, {"seed"}}, {"rate", "seed"})
identity_layer("AlphaDropout", {{"rate"}, {"noise_shape"}, {"seed"}}, {"rate", "noise_shape", "seed"})
identity_layer("ActivityRegularization", {{"l1", 0.0}, {"l2", 0.0}}, {"l1", "l2"})

-- Masking: output = x * any(x ~= mask_value, axis = -1); the concrete forward is not implemented.
local Masking = Layer:extend("Masking", {params = {{"mask_value", 0.0}}, positional = {"mask_value"}})
Masking.compute_output_shape = Layer.identity_shape
M.Masking = Masking

--{=====================================================================================================
-- Flatten, Reshape, Permute, RepeatVector
--======================================================================================================

local Flatten = Layer:extend("Flatten", {params = {{"data_format"}}, positional = {"data_format"}})
M.Flatten = Flatten

function Flatten:init(config)
  Layer.init(self, config)
  self.data_format = U.normalize_data_format(config.data_format)
end

function Flatten:compute_output_shape(s)
  if #s == 0 then return {1} end
  return {s[1], U.prod(s, 2)}
end

function Flatten:call(x)
  local shape = x:shape()
  if self.data_format == "channels_first" and #shape > 2 then
    local perm = {1}
    for i = 3, #shape do perm[#perm + 1] = i end
    perm[#perm + 1] = 2
    x = x:permute(perm)
  end
  if #shape == 1 then return x:reshape({shape[1], 1}) end
  return x:clone():reshape({shape[1], -1})
end

local Reshape = Layer:extend("Reshape", {params = {{"target_shape"}}, positional = {"target_shape"}})
M.Reshape = Reshape

function Reshape:init(config)
  Layer.init(self, config)
  self.target_shape = Layer.normalize_shape(config.target_shape)
end

-- Keras Reshape._fix_unknown_dimension on the non-batch dims.
local function fix_unknown(layer, input, output)
  local msg = "total size of new array must be unchanged, input_shape = " .. U.shape_str(input) ..
    ", output_shape = " .. U.shape_str(output)
  local known, unknown = 1, nil
  local out = U.copy(output)
  for i, d in ipairs(out) do
    if d < 0 then
      if unknown then errors.value_error("There must be at most one unknown dimension in output_shape. " ..
        "Received: output_shape=" .. U.shape_str(output)) end
      unknown = i
    else
      known = known * d
    end
  end
  local original = U.prod(input)
  if unknown then
    if known == 0 or original % known ~= 0 then errors.value_error(msg) end
    out[unknown] = original // known
  elseif original ~= known then
    errors.value_error(msg)
  end
  local _ = layer
  return out
end

function Reshape:compute_output_shape(s)
  local rest = {}
  for i = 2, #s do rest[#rest + 1] = s[i] end
  local out = {s[1]}
  if U.prod(rest) == false then
    for _, d in ipairs(self.target_shape) do out[#out + 1] = (d ~= -1) and d or false end
    return out
  end
  for _, d in ipairs(fix_unknown(self, rest, self.target_shape)) do out[#out + 1] = d end
  return out
end

function Reshape:call(x)
  local s = x:shape()
  local target = {s[1]}
  for _, d in ipairs(self.target_shape) do target[#target + 1] = d end
  return x:clone():reshape(target)
end

local Permute = Layer:extend("Permute", {params = {{"dims"}}, positional = {"dims"}})
M.Permute = Permute

function Permute:init(config)
  Layer.init(self, config)
  local dims = {}
  for i, d in ipairs(config.dims or {}) do dims[i] = math.tointeger(d) or d end
  local sorted = U.copy(dims)
  table.sort(sorted)
  for i, d in ipairs(sorted) do
    if d ~= i then
      errors.value_error("Invalid permutation argument `dims` for Permute Layer. The set of indices in " ..
        "`dims` must be consecutive and start from 1. Received dims=" .. U.shape_str(dims))
    end
  end
  self.dims = dims
end

function Permute:compute_output_shape(s)
  local out = {s[1]}
  for i, d in ipairs(self.dims) do out[i + 1] = s[d + 1] end
  return out
end

function Permute:call(x)
  local perm = {1}
  for i, d in ipairs(self.dims) do perm[i + 1] = d + 1 end
  return x:permute(perm):clone()
end

local RepeatVector = Layer:extend("RepeatVector", {params = {{"n"}}, positional = {"n"}})
M.RepeatVector = RepeatVector

function RepeatVector:compute_output_shape(s)
  return {s[1], self.n, s[2]}
end

function RepeatVector:call(x)
  local s = x:shape()
  local one = x:reshape({s[1], 1, s[2]})
  local parts = {}
  for i = 1, self.n do parts[i] = one end
  return T().concat(parts, 2)
end

--{=====================================================================================================
-- Lambda (opaque)
--======================================================================================================

local Lambda = Layer:extend("Lambda", {
  positional = {"function", "output_shape", "mask", "arguments"},
  params = {{"function"}, {"function_type"}, {"module"}, {"output_shape"}, {"output_shape_type"},
            {"output_shape_module"}, {"arguments"}, {"mask"}},
})
M.Lambda = Lambda

function Lambda:compute_output_shape(s)
  local os = self.output_shape
  if type(os) == "table" and (self.output_shape_type == nil or self.output_shape_type == "raw") then
    if U.is_shape_list(os) then
      local r = {}
      for i, o in ipairs(os) do
        local b = U.is_shape_list(s) and s[i] and s[i][1] or (not U.is_shape_list(s) and s[1]) or false
        r[i] = {b}
        for _, d in ipairs(Layer.normalize_shape(o)) do r[i][#r[i] + 1] = d end
      end
      return r
    end
    -- The batch dim of the (first) input. Not `is_shape_list(s) and s[1][1] or s[1]`: a None batch dim
    -- is `false`, which made that idiom return the whole first shape for a list of inputs (a Lambda
    -- called on [z_mean, z_log_var], as in the Keras VAE example, k216tf).
    local b
    if U.is_shape_list(s) then b = s[1][1] else b = s[1] end
    local out = {b == nil and false or b}
    for _, d in ipairs(Layer.normalize_shape(os)) do out[#out + 1] = d end
    return out
  end
  if not self._warned then
    self._warned = true
    errors.warn(string.format("Lambda layer %s: output shape unknown (weightkit never runs the layer's " ..
      "function); assuming it equals the input shape %s", self.name, U.shape_str(s)))
  end
  return Layer.copy_shape(s)
end

function Lambda:call()
  errors.not_implemented(string.format("Lambda layer %s holds code from a model file; weightkit never " ..
    "executes it", self.name))
end

return M
