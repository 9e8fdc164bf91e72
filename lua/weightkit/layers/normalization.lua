--[[
weightkit.layers.normalization — BatchNormalization, LayerNormalization (tf.keras 2.x).

BatchNormalization weights in creation order: gamma (if scale), beta (if center) — trainable —, then
moving_mean, moving_variance — non-trainable —, each of shape (C,) with C the dim of `axis`.
LayerNormalization: gamma (if scale) then beta (if center), shape = the dims of `axis`.
`axis` follows Keras (0-based, batch = 0; negative from the end). As in tf.keras, build rewrites it as a
list of non-negative axes, so get_config after build gives e.g. axis = {3} for a 4-D input.
Forward (inference): BN (x - mean) / sqrt(var + eps) * gamma + beta; LN normalizes over the last axis.
]]
local Layer = require "weightkit.layer"
local initializers = require "weightkit.initializers"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local function T() return require("weightkit.tensor").api end

local M = {}

local function normalize_axes(self, input_shape)
  local n = #input_shape
  local axes = type(self.axis) == "table" and self.axis or {self.axis}
  local out, seen = {}, {}
  for i, a in ipairs(axes) do
    local p = U.positive_axis(a, n)
    if p < 0 or p >= n then errors.value_error(string.format("Invalid axis: %d", p)) end
    if seen[p] then
      local parts = {}
      for j, x in ipairs(axes) do parts[j] = U.positive_axis(x, n) end
      errors.value_error("Duplicate axis: " .. U.shape_str(parts))
    end
    seen[p] = true
    out[i] = p
  end
  for _, p in ipairs(out) do
    if not input_shape[p + 1] then
      errors.value_error(string.format("Axis %d of input tensor should have a defined dimension but the " ..
        "layer received an input with shape %s.", p, U.shape_str(input_shape)))
    end
  end
  return out
end

-- Resolves config.<name>_initializer onto self for each name, in order.
local function get_initializers(self, config, names)
  for _, name in ipairs(names) do
    self[name .. "_initializer"] = initializers.get(config[name .. "_initializer"])
  end
end

-- The trainable weights of both layers, in tf.keras order: gamma (if scale), then beta (if center).
local function add_gamma_beta(self, ps)
  if self.scale then
    self.gamma = self:add_weight{name = "gamma", shape = ps, initializer = self.gamma_initializer,
      regularizer = self.gamma_regularizer, constraint = self.gamma_constraint, trainable = true}
  end
  if self.center then
    self.beta = self:add_weight{name = "beta", shape = ps, initializer = self.beta_initializer,
      regularizer = self.beta_regularizer, constraint = self.beta_constraint, trainable = true}
  end
end

--{=====================================================================================================
-- BatchNormalization
--======================================================================================================

local BatchNormalization = Layer:extend("BatchNormalization", {
  positional = {"axis", "momentum", "epsilon", "center", "scale"},
  params = {
    {"axis", -1}, {"momentum", 0.99}, {"epsilon", 0.001}, {"center", true}, {"scale", true},
    {"beta_initializer", "zeros"}, {"gamma_initializer", "ones"}, {"moving_mean_initializer", "zeros"},
    {"moving_variance_initializer", "ones"}, {"beta_regularizer"}, {"gamma_regularizer"},
    {"beta_constraint"}, {"gamma_constraint"},
    -- accepted (tf.keras arguments that do not change the weights)
    {"renorm"}, {"renorm_clipping"}, {"renorm_momentum"}, {"fused"}, {"virtual_batch_size"},
    {"adjustment"}, {"synchronized"},
  },
})
M.BatchNormalization = BatchNormalization

function BatchNormalization:init(config)
  Layer.init(self, config)
  if type(config.axis) == "table" then self.axis = U.copy(config.axis) end
  if config.renorm then
    errors.not_implemented("BatchNormalization(renorm=True) is not supported by weightkit")
  end
  get_initializers(self, config, {"beta", "gamma", "moving_mean", "moving_variance"})
end

function BatchNormalization:get_config()
  local cfg = Layer.get_config(self)
  -- tf.keras only writes these when they are set
  for _, k in ipairs({"renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size",
                      "adjustment", "synchronized"}) do
    if cfg[k] == nil then
      local mt = getmetatable(cfg)
      for i = #mt.__order, 1, -1 do if mt.__order[i] == k then table.remove(mt.__order, i) end end
    end
  end
  return cfg
end

function BatchNormalization:param_shape(input_shape)
  local axes = normalize_axes(self, input_shape)
  self.axis = axes
  if #axes == 1 then return {input_shape[axes[1] + 1]} end
  local inset = {}
  for _, a in ipairs(axes) do inset[a] = true end
  local ps = {}
  for i = 1, #input_shape do ps[i] = inset[i - 1] and input_shape[i] or 1 end
  return ps
end

function BatchNormalization:build(input_shape)
  if #input_shape == 0 then
    errors.value_error("Input has undefined rank. Received: input_shape=" .. U.shape_str(input_shape))
  end
  local ps = self:param_shape(input_shape)
  add_gamma_beta(self, ps)
  self.moving_mean = self:add_weight{name = "moving_mean", shape = ps,
    initializer = self.moving_mean_initializer, trainable = false}
  self.moving_variance = self:add_weight{name = "moving_variance", shape = ps,
    initializer = self.moving_variance_initializer, trainable = false}
  self.built = true
end

BatchNormalization.compute_output_shape = Layer.identity_shape

-- A (C,) parameter reshaped to broadcast against an input of rank n along the (single) axis.
local function broadcastable(t, axes, n)
  if #axes ~= 1 then return t end
  local s = {}
  for i = 1, n do s[i] = 1 end
  s[axes[1] + 1] = t:numel()
  return t:reshape(s)
end

function BatchNormalization:call(x)
  if x:dtype() ~= self.compute_dtype then x = x:astype(self.compute_dtype) end
  local n = x:rank()
  local axes = self.axis
  local mean = broadcastable(self.moving_mean.value, axes, n)
  local var = broadcastable(self.moving_variance.value, axes, n)
  local y = (x - mean) / ((var + self.epsilon) ^ 0.5)
  if self.scale then y = y * broadcastable(self.gamma.value, axes, n) end
  if self.center then y = y + broadcastable(self.beta.value, axes, n) end
  return y
end

--{=====================================================================================================
-- LayerNormalization
--======================================================================================================

local LayerNormalization = Layer:extend("LayerNormalization", {
  positional = {"axis", "epsilon", "center", "scale"},
  params = {
    {"axis", -1}, {"epsilon", 0.001}, {"center", true}, {"scale", true},
    {"beta_initializer", "zeros"}, {"gamma_initializer", "ones"}, {"beta_regularizer"},
    {"gamma_regularizer"}, {"beta_constraint"}, {"gamma_constraint"},
  },
})
M.LayerNormalization = LayerNormalization

function LayerNormalization:init(config)
  Layer.init(self, config)
  if type(config.axis) == "table" then self.axis = U.copy(config.axis) end
  get_initializers(self, config, {"beta", "gamma"})
end

function LayerNormalization:build(input_shape)
  local axes = normalize_axes(self, input_shape)
  self.axis = axes
  local ps = {}
  for i, a in ipairs(axes) do ps[i] = input_shape[a + 1] end
  add_gamma_beta(self, ps)
  self.built = true
end

LayerNormalization.compute_output_shape = Layer.identity_shape

function LayerNormalization:call(x)
  local wk = T()
  local n = x:rank()
  if #self.axis ~= 1 or self.axis[1] ~= n - 1 then
    errors.not_implemented("LayerNormalization forward is implemented for the last axis only")
  end
  if x:dtype() ~= self.compute_dtype then x = x:astype(self.compute_dtype) end
  local shape = x:shape()
  local c = shape[n]
  local x2 = x:reshape({-1, c})
  local ones = wk.ones({c, 1}, x:dtype())
  local mean = x2:matmul(ones) / c
  local centered = x2 - mean
  local var = (centered * centered):matmul(ones) / c
  local y = centered / ((var + self.epsilon) ^ 0.5)
  if self.scale then y = y * self.gamma.value end
  if self.center then y = y + self.beta.value end
  return y:reshape(shape)
end

return M
