--[[
weightkit.layers.utils — shape arithmetic shared by the layer catalog (tf.keras conv_utils facts).

Config conventions: layer configs follow Keras, so axes inside configs (Concatenate.axis,
BatchNormalization.axis, ...) are Keras's 0-based axes with the batch at 0; negative axes count from
the end (-1 = last) in both conventions. Unknown dims are `false` (wk.None).

conv_output_length(len, filter, padding, stride, dilation) (conv_utils): dilated = f + (f-1)(d-1);
  same/causal: len; valid: len - dilated + 1; full: len + dilated - 1; then ceil-div by stride.
deconv_output_length(len, filter, padding, output_padding, stride, dilation): without output_padding
  valid: len*s + max(f - s, 0); full: len*s - (s + f - 2); same: len*s; with it:
  (len - 1)*s + f - 2*pad + output_padding, pad = same: f//2, valid: 0, full: f - 1.
]]
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"

local M = {}

local function shape_str(s) return naming.shape_str(s) end
M.shape_str = shape_str

function M.copy(s)
  local r = {}
  for i = 1, #s do r[i] = s[i] end
  return r
end

function M.is_shape_list(s)
  return type(s) == "table" and type(s[1]) == "table"
end

-- Keras normalize_tuple: an int -> n copies; a list of n ints -> a copy.
function M.normalize_tuple(value, n, name)
  if type(value) == "number" then
    local r = {}
    for i = 1, n do r[i] = math.tointeger(value) or value end
    return r
  end
  if type(value) ~= "table" or #value ~= n then
    errors.value_error(string.format("The `%s` argument must be a tuple of %d integers. Received: %s",
      name, n, naming.shape_str(type(value) == "table" and value or {value})))
  end
  local r = {}
  for i = 1, n do r[i] = math.tointeger(value[i]) or value[i] end
  return r
end

function M.normalize_padding(p)
  if type(p) ~= "string" then
    errors.value_error("The `padding` argument must be a string. Received: " .. tostring(p))
  end
  p = p:lower()
  if p ~= "valid" and p ~= "same" and p ~= "causal" and p ~= "full" then
    errors.value_error("The `padding` argument must be a list/tuple or one of \"valid\", \"same\" " ..
      "(or \"causal\", only for `Conv1D). Received: " .. p)
  end
  return p
end

function M.normalize_data_format(v)
  if v == nil or v == false then return "channels_last" end
  local s = tostring(v):lower()
  if s ~= "channels_first" and s ~= "channels_last" then
    errors.value_error('The `data_format` argument must be one of "channels_first", "channels_last". ' ..
      "Received: " .. tostring(v))
  end
  return s
end

function M.conv_output_length(len, filter, padding, stride, dilation)
  if not len then return false end
  dilation = dilation or 1
  local dilated = filter + (filter - 1) * (dilation - 1)
  local out
  if padding == "same" or padding == "causal" then out = len
  elseif padding == "valid" then out = len - dilated + 1
  elseif padding == "full" then out = len + dilated - 1
  else errors.value_error("unknown padding " .. tostring(padding)) end
  return (out + stride - 1) // stride
end

function M.deconv_output_length(len, filter, padding, output_padding, stride, dilation)
  if not len then return false end
  dilation = dilation or 1
  filter = filter + (filter - 1) * (dilation - 1)
  if output_padding == nil or output_padding == false then
    if padding == "valid" then return len * stride + math.max(filter - stride, 0) end
    if padding == "full" then return len * stride - (stride + filter - 2) end
    return len * stride
  end
  local pad
  if padding == "same" then pad = filter // 2 elseif padding == "valid" then pad = 0 else pad = filter - 1 end
  return (len - 1) * stride + filter - 2 * pad + output_padding
end

-- Keras axis (0-based, negative from the end) -> 1-based Lua index into a shape of rank n.
function M.axis_index(axis, n)
  if axis < 0 then return n + axis + 1 end
  return axis + 1
end

-- Keras axis -> normalized non-negative Keras axis.
function M.positive_axis(axis, n)
  if axis < 0 then return n + axis end
  return axis
end

-- Spatial positions (1-based) and channel position of a rank-n shape for a data format.
function M.spatial_axes(n, data_format)
  local r = {}
  if data_format == "channels_first" then
    for i = 3, n do r[#r + 1] = i end
    return r, 2
  end
  for i = 2, n - 1 do r[#r + 1] = i end
  return r, n
end

-- Output shape of a layer that changes only the spatial dims of a rank-(rank + 2) input `s` (checked):
-- a copy of s where spatial dim i (1-based among the spatial axes) becomes f(s[axis], i); an unknown
-- dim arrives as false.
function M.map_spatial(layer, s, rank, data_format, f)
  M.check_rank(layer, s, rank + 2)
  local out = M.copy(s)
  for i, a in ipairs(M.spatial_axes(#s, data_format)) do out[a] = f(s[a], i) end
  return out
end

function M.prod(dims, from, to)
  local p = 1
  for i = from or 1, to or #dims do
    if not dims[i] then return false end
    p = p * dims[i]
  end
  return p
end

function M.check_rank(layer, shape, rank)
  if #shape ~= rank then
    errors.value_error(string.format('Input 0 of layer "%s" is incompatible with the layer: expected ' ..
      "ndim=%d, found ndim=%d. Full shape received: %s", layer.name, rank, #shape, shape_str(shape)))
  end
end

function M.check_min_rank(layer, shape, rank)
  if #shape < rank then
    errors.value_error(string.format('Input 0 of layer "%s" is incompatible with the layer: expected ' ..
      "min_ndim=%d, found ndim=%d. Full shape received: %s", layer.name, rank, #shape, shape_str(shape)))
  end
end

return M
