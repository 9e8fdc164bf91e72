--[[
weightkit.layers.merge — Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot
(weightless; tf.keras 2.x output shapes; forwards on wk tensors).

Element-wise merges (tf.keras _Merge): the batch dim is the common known batch size (None when they
differ or are unknown); the other dims combine pairwise from the right — None if either is None,
1 broadcasts, unequal dims raise `ValueError: Inputs have incompatible shapes. Received shapes ... and ...`.
Concatenate(axis = -1, Keras axis): dims must match except on the axis, which sums (None if any None).
Dot(axes, normalize): output = shape1 without axes[1] + shape2 without axes[2] and its batch dim
(a single remaining dim gets a trailing 1).
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local function T() return require("weightkit.tensor").api end

local M = {}

local function check_list(self, s)
  if not U.is_shape_list(s) then
    errors.value_error("A merge layer should be called on a list of inputs. Received: input_shape=" ..
      U.shape_str(s) .. " (not a list of shapes)")
  end
  if #s < 1 then
    errors.value_error(string.format("A merge layer should be called on a list of at least 1 input. Got %d " ..
      "inputs. Full input_shape received: %s", #s, U.shape_str(s)))
  end
  local _ = self
end

local function elemwise(shape1, shape2)
  if shape1 == nil or shape2 == nil then return nil end
  if #shape1 < #shape2 then return elemwise(shape2, shape1) end
  if #shape2 == 0 then return U.copy(shape1) end
  local out = {}
  local off = #shape1 - #shape2
  for i = 1, off do out[i] = shape1[i] end
  for k = 1, #shape2 do
    local i, j = shape1[off + k], shape2[k]
    if not i or not j then out[#out + 1] = false
    elseif i == 1 then out[#out + 1] = j
    elseif j == 1 then out[#out + 1] = i
    else
      if i ~= j then
        errors.value_error("Inputs have incompatible shapes. Received shapes " .. U.shape_str(shape1) ..
          " and " .. U.shape_str(shape2))
      end
      out[#out + 1] = i
    end
  end
  return out
end
M.elemwise_shape = elemwise

local function merge_output_shape(self, s)
  check_list(self, s)
  local batch, seen, n = nil, {}, 0
  for _, sh in ipairs(s) do
    local b = sh[1]
    if b and not seen[b] then seen[b] = true; n = n + 1; batch = b end
  end
  local out
  local first = s[1]
  out = {}
  for i = 2, #first do out[#out + 1] = first[i] end
  for k = 2, #s do
    local rest = {}
    for i = 2, #s[k] do rest[#rest + 1] = s[k][i] end
    out = elemwise(out, rest)
  end
  local r = {(n == 1) and batch or false}
  for _, d in ipairs(out) do r[#r + 1] = d end
  return r
end

local function merge_class(name, combine, finish)
  local cls = Layer:extend(name, {params = {}})
  cls.compute_output_shape = merge_output_shape
  function cls:build(s)
    merge_output_shape(self, s)
    self.built = true
  end
  function cls:call(inputs)
    local acc = inputs[1]
    for i = 2, #inputs do acc = combine(acc, inputs[i]) end
    if #inputs == 1 then acc = acc:clone() end
    if finish then acc = finish(acc, #inputs) end
    return acc
  end
  M[name] = cls
  return cls
end

merge_class("Add", function(a, b) return a + b end)
merge_class("Multiply", function(a, b) return a * b end)
merge_class("Average", function(a, b) return a + b end, function(acc, n) return acc / n end)
merge_class("Maximum", function(a, b) return T().maximum(a, b) end)
merge_class("Minimum", function(a, b) return T().minimum(a, b) end)
local Subtract = merge_class("Subtract", function(a, b) return a - b end)

function Subtract:build(s)
  if not U.is_shape_list(s) or #s ~= 2 then
    errors.value_error("A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape=" ..
      U.shape_str(s))
  end
  merge_output_shape(self, s)
  self.built = true
end

--{=====================================================================================================
-- Concatenate
--======================================================================================================

local Concatenate = Layer:extend("Concatenate", {params = {{"axis", -1}}, positional = {"axis"}})
M.Concatenate = Concatenate

local function concat_error(s)
  errors.value_error("A `Concatenate` layer requires inputs with matching shapes except for the " ..
    "concatenation axis. Received: input_shape=" .. U.shape_str(s))
end

function Concatenate:compute_output_shape(s)
  if not U.is_shape_list(s) or #s < 1 then
    errors.value_error("A `Concatenate` layer should be called on a list of at least 1 input. Received: " ..
      "input_shape=" .. U.shape_str(s))
  end
  local n = #s[1]
  local ax = U.axis_index(self.axis, n)
  local out = U.copy(s[1])
  for k = 2, #s do
    local sh = s[k]
    if #sh ~= n then concat_error(s) end
    for i = 1, n do
      if i == ax then
        if not out[i] or not sh[i] then out[i] = false else out[i] = out[i] + sh[i] end
      elseif out[i] and sh[i] and out[i] ~= sh[i] then
        concat_error(s)
      elseif not out[i] then
        out[i] = sh[i]
      end
    end
  end
  return out
end

function Concatenate:build(s)
  self:compute_output_shape(s)
  self.built = true
end

function Concatenate:call(inputs)
  return T().concat(inputs, U.axis_index(self.axis, inputs[1]:rank()))
end

--{=====================================================================================================
-- Dot
--======================================================================================================

local Dot = Layer:extend("Dot", {params = {{"axes"}, {"normalize", false}}, positional = {"axes", "normalize"}})
M.Dot = Dot

function Dot:resolved_axes(s1, s2)
  local a = self.axes
  if type(a) == "number" then
    if a < 0 then return {a % #s1, a % #s2} end
    return {a, a}
  end
  return {a[1] < 0 and a[1] % #s1 or a[1], a[2] < 0 and a[2] % #s2 or a[2]}
end

function Dot:compute_output_shape(s)
  if not U.is_shape_list(s) or #s ~= 2 then
    errors.value_error("A `Dot` layer should be called on a list of 2 inputs. Received: input_shape=" ..
      U.shape_str(s))
  end
  local s1, s2 = U.copy(s[1]), U.copy(s[2])
  local axes = self:resolved_axes(s1, s2)
  local d1, d2 = s1[axes[1] + 1], s2[axes[2] + 1]
  if d1 and d2 and d1 ~= d2 then
    errors.value_error(string.format("Incompatible input shapes: axis values %d (at axis %d) != %d " ..
      "(at axis %d). Full input shapes: %s, %s", d1, axes[1], d2, axes[2], U.shape_str(s[1]),
      U.shape_str(s[2])))
  end
  table.remove(s1, axes[1] + 1)
  table.remove(s2, axes[2] + 1)
  table.remove(s2, 1)
  local out = s1
  for _, d in ipairs(s2) do out[#out + 1] = d end
  if #out == 1 then out[2] = 1 end
  return out
end

function Dot:build(s)
  self:compute_output_shape(s)
  self.built = true
end

return M
