--[[
weightkit.activations — tf.keras 2.x activation functions on wk tensors.

Each activation is a callable object: `act(t)` -> new tensor; `act.activation_name` is the name Keras
serializes ("relu"); get_config-free (layers serialize activations as their name).
  linear relu sigmoid tanh softmax gelu elu selu softplus swish (+ softsign exponential hard_sigmoid relu6
  mish silu=swish) and `get(x)`: nil -> linear, a name, an activation object, a Lua function (wrapped),
  or a Keras 3 serialized {class_name = "function", config = "relu"}.
Formulas (Keras): elu(x) = x > 0 ? x : exp(x) - 1 (alpha 1); selu = 1.0507009873554805 * elu(x, 1.6732632423543772);
softplus = log(1 + exp(x)); swish = x * sigmoid(x); gelu exact = 0.5 x (1 + erf(x / sqrt 2)) (tf.keras default
approximate=False); softmax along the last axis. Element-wise work is done by t:map / t:softmax in C.
]]
local errors = require "weightkit.errors"

local function T() return require("weightkit.tensor").api end

local M = {}

local Activation = {}
Activation.__index = Activation
Activation.__call = function(self, x, ...) return self.fn(x, ...) end
Activation.__tostring = function(self) return "<activation " .. self.activation_name .. ">" end

local function define(name, fn)
  local a = setmetatable({activation_name = name, fn = fn, is_activation = true}, Activation)
  M[name] = a
  return a
end

local function mapped(op) return function(x) return x:map(op) end end

define("linear", function(x) return x:clone() end)
define("relu", function(x, alpha, max_value, threshold)
  if alpha == nil and max_value == nil and threshold == nil then return x:map("relu") end
  return M.relu_ex(x, alpha or 0, max_value, threshold or 0)
end)
define("sigmoid", mapped("sigmoid"))
define("tanh", mapped("tanh"))
define("gelu", mapped("gelu"))
define("elu", function(x, alpha)
  if alpha == nil or alpha == 1 then return x:map("elu") end
  -- alpha * (exp(x) - 1) for x <= 0: relu(x) + alpha * (elu(x) - relu(x))
  local r = x:map("relu")
  return r + (x:map("elu") - r) * alpha
end)
define("selu", mapped("selu"))
define("softplus", mapped("softplus"))
define("swish", mapped("swish"))
M.silu = M.swish
define("exponential", mapped("exp"))
define("softsign", function(x) return x / (x:map("abs") + 1) end)
define("relu6", function(x) return M.relu_ex(x, 0, 6, 0) end)
define("mish", function(x) return x * x:map("softplus"):map("tanh") end)
define("hard_sigmoid", function(x)
  -- tf.keras 2.x: clip(0.2 * x + 0.5, 0, 1)
  local wk = T()
  local y = x * 0.2 + 0.5
  return wk.minimum(wk.maximum(y, wk.zeros(y:shape(), y:dtype())), wk.ones(y:shape(), y:dtype()))
end)
define("softmax", function(x, axis)
  if x:rank() <= 1 then
    errors.value_error("Cannot apply softmax to a tensor that is 1D. Received input: " .. tostring(x))
  end
  return x:softmax(axis or -1)
end)

-- Keras backend.relu(x, alpha, max_value, threshold): x >= threshold ? x : alpha * (x - threshold),
-- then clipped at max_value. Built from relu: pos = relu(x - th) + th where x > th ... computed via masks.
function M.relu_ex(x, alpha, max_value, threshold)
  local wk = T()
  alpha = alpha or 0
  threshold = threshold or 0
  local y
  if threshold == 0 then
    y = x:map("relu")
    if alpha ~= 0 then y = y - (-x):map("relu") * alpha end
  else
    -- mask = 1 where x >= threshold (a step built from relu on a shifted, scaled copy is inexact;
    -- use an element loop instead; activations with a threshold are rare)
    y = x:clone()
    local flat = y:reshape({-1})
    for i = 1, flat:numel() do
      local v = flat:get(i)
      if v < threshold then flat:set(i, alpha * (v - threshold)) end
    end
  end
  if max_value ~= nil then
    y = wk.minimum(y, wk.full(y:shape(), max_value, y:dtype()))
  end
  return y
end

function M.get(x)
  if x == nil or x == false or type(x) == "userdata" then return M.linear end  -- None / JSON null
  if type(x) == "table" and x.is_activation then return x end
  if type(x) == "string" then
    local a = rawget(M, x)
    if type(a) == "table" and a.is_activation then return a end
    errors.value_error("Unknown activation function: '" .. x .. "'. Please ensure you are using a " ..
      "`keras.utils.custom_object_scope` and that this object is included in the scope.")
  end
  if type(x) == "function" then
    return setmetatable({activation_name = "custom", fn = x, is_activation = true}, Activation)
  end
  if type(x) == "table" and x.class_name then
    if type(x.config) == "string" then return M.get(x.config) end
    if type(x.config) == "table" and x.config.name then return M.get(x.config.name) end
  end
  errors.value_error("Could not interpret activation function identifier: " .. tostring(x))
end

function M.serialize(a)
  return M.get(a).activation_name
end

return M
