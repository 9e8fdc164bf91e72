--[[
weightkit.layers.activation_layers — PReLU (weight "alpha"), ReLU, LeakyReLU, ELU, ThresholdedReLU,
Softmax (tf.keras 2.x).

PReLU: alpha has the input shape without the batch dim, with every axis in shared_axes (Keras axes:
1 = first non-batch axis) set to 1; initializer "zeros". Forward: relu(x) - alpha * relu(-x).
Softmax.axis follows Keras (0-based with batch 0, or negative).
]]
local Layer = require "weightkit.layer"
local activations = require "weightkit.activations"
local initializers = require "weightkit.initializers"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local M = {}

local PReLU = Layer:extend("PReLU", {
  positional = {"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"},
  params = {{"alpha_initializer", "zeros"}, {"alpha_regularizer"}, {"alpha_constraint"}, {"shared_axes"}},
})
M.PReLU = PReLU

function PReLU:init(config)
  Layer.init(self, config)
  local sa = config.shared_axes
  if type(sa) == "number" then sa = {sa} end
  if type(sa) == "table" then
    local r = {}
    for i, a in ipairs(sa) do r[i] = math.tointeger(a) or a end
    sa = r
  else
    sa = nil
  end
  self.shared_axes = sa
  self.alpha_initializer = initializers.get(config.alpha_initializer)
end

function PReLU:build(input_shape)
  local ps = {}
  for i = 2, #input_shape do ps[i - 1] = input_shape[i] end
  for _, a in ipairs(self.shared_axes or {}) do
    if a < 1 or a > #ps then
      errors.value_error(string.format("Invalid shared axis %d for input shape %s", a,
        U.shape_str(input_shape)))
    end
    ps[a] = 1
  end
  for _, d in ipairs(ps) do
    if not d then
      errors.value_error("PReLU needs defined dims on every non-shared axis; received input shape " ..
        U.shape_str(input_shape))
    end
  end
  self.alpha = self:add_weight{name = "alpha", shape = ps, initializer = self.alpha_initializer,
    regularizer = self.alpha_regularizer, constraint = self.alpha_constraint, trainable = true}
  self.built = true
end

PReLU.compute_output_shape = Layer.identity_shape

function PReLU:call(x)
  return x:map("relu") - (-x):map("relu") * self.alpha.value
end

local function simple(class_name, params, positional, fn)
  local cls = Layer:extend(class_name, {params = params, positional = positional})
  cls.compute_output_shape = Layer.identity_shape
  cls.call = fn
  M[class_name] = cls
  return cls
end

local ReLU = simple("ReLU", {{"max_value"}, {"negative_slope", 0.0}, {"threshold", 0.0}},
  {"max_value", "negative_slope", "threshold"},
  function(self, x)
    return activations.relu_ex(x, self.negative_slope, self.max_value, self.threshold)
  end)
function ReLU:init(config)
  Layer.init(self, config)
  if config.max_value ~= nil and config.max_value < 0 then
    errors.value_error("max_value of a ReLU layer cannot be a negative value. Received: " ..
      tostring(config.max_value))
  end
  if config.negative_slope < 0 then
    errors.value_error("negative_slope of a ReLU layer cannot be a negative value. Received: " ..
      tostring(config.negative_slope))
  end
end

simple("LeakyReLU", {{"alpha", 0.3}}, {"alpha"},
  function(self, x) return activations.relu_ex(x, self.alpha, nil, 0) end)

simple("ELU", {{"alpha", 1.0}}, {"alpha"},
  function(self, x) return activations.elu(x, self.alpha) end)

simple("ThresholdedReLU", {{"theta", 1.0}}, {"theta"},
  function(self, x)
    -- x > theta ? x : 0
    local y = x:clone()
    local flat = y:reshape({-1})
    for i = 1, flat:numel() do
      if not (flat:get(i) > self.theta) then flat:set(i, 0) end
    end
    return y
  end)

simple("Softmax", {{"axis", -1}}, {"axis"},
  function(self, x)
    local a = self.axis
    if type(a) == "table" then
      if #a ~= 1 then errors.not_implemented("Softmax over several axes") end
      a = a[1]
    end
    return x:softmax(U.axis_index(a, x:rank()))
  end)

return M
