--[[
weightkit.loading.conversions.keras1 — Keras 1 -> Keras 2 weight layouts (keras-formats.md §3.5 B).

Applied only when the file has no `keras_version` attribute (Keras 2 then takes the file as version "1").
Dispatch is on the class name of the *target* layer, as in Keras:

  Conv1D           Keras 1 stored a 4-D kernel. If it is not (filter_length, 1, input_dim, filters) it is the
                   Keras 1.1 layout (filters, input_dim, filter_length, 1) and is transposed (2, 3, 1, 0);
                   then axis 1 is dropped: w[:, 0, :, :] -> (filter_length, input_dim, filters).
  Conv2D           channels_first: (filters, in, rows, cols) -> transpose (2, 3, 1, 0).
  Conv2DTranspose  channels_last: transpose (0, 1, 3, 2); channels_first: transpose (2, 3, 0, 1).
  Conv3D           channels_first: transpose (2, 3, 4, 1, 0).
  GRU (9 arrays)   per-gate W, U, b for z, r, h -> kernel = W_z|W_r|W_h, recurrent = U_z|U_r|U_h, bias = b_z|b_r|b_h.
  LSTM (12)        per-gate W, U, b in Keras 1 gate order i, c, f, o -> concatenated in order i, f, c, o
                   (arrays 0,6,3,9 / 1,7,4,10 / 2,8,5,11).
  ConvLSTM2D (12)  as LSTM; channels_first also transposes kernel and recurrent kernel (2, 3, 1, 0).
No BatchNormalization conversion exists (gamma, beta, running_mean, running_std map 1:1).

Axes below are NumPy's (0-based), as in the Keras source.
]]
local ops = require "weightkit.loading.ops"
local errors = require "weightkit.errors"
local shape_str = require("weightkit.naming").shape_str

local M = {}

local function first(v)
  if type(v) == "table" then return v[1] end
  return v
end

local function conv1d(layer, values, note)
  local w = values[1]
  if not w or w:rank() ~= 4 then return values end
  local s = w:shape()
  local ks, filters = first(layer.kernel_size), layer.filters
  if not (s[1] == ks and s[2] == 1) or s[4] ~= filters then
    -- Keras asserts the Keras 1.1 layout here.
    if not (s[1] == filters and s[3] == ks and s[4] == 1) then
      errors.raise("AssertionError", "Keras 1 Conv1D kernel of shape " .. shape_str(s) ..
        " is neither (filter_length, 1, input_dim, filters) nor (filters, input_dim, filter_length, 1)")
    end
    w = ops.np_transpose(w, {2, 3, 1, 0})
    note("keras1_conv1d_layout", "Keras 1.1 Conv1D kernel " .. shape_str(s) ..
      " transposed (2, 3, 1, 0)")
  end
  local t = w:shape()
  local before = shape_str(t)
  w = w:slice(2, 1, 1):reshape({t[1], t[3], t[4]})
  note("keras1_conv1d", "Keras 1 Conv1D kernel " .. before .. " -> " .. shape_str(w:shape()) ..
    " (w[:, 0, :, :])")
  values[1] = w
  return values
end

local function transpose_first(values, axes, note, kind, what)
  local w = values[1]
  if not w or w:rank() ~= #axes then return values end
  local before = shape_str(w:shape())
  values[1] = ops.np_transpose(w, axes)
  note(kind, what .. " " .. before .. " transposed (" .. table.concat(axes, ", ") .. ") -> " ..
    shape_str(values[1]:shape()))
  return values
end

local function merge_gates(values, order)
  local out = {}
  for part = 1, 3 do
    local list = {}
    for gi, g in ipairs(order) do list[gi] = values[g * 3 + part] end
    out[part] = ops.concat_last(list)
  end
  return out
end

local CONVERTERS = {}

CONVERTERS.Conv1D = conv1d

CONVERTERS.Conv2D = function(layer, values, note)
  if layer.data_format == "channels_first" then
    return transpose_first(values, {2, 3, 1, 0}, note, "keras1_conv2d_channels_first",
      "Keras 1 Conv2D (channels_first) kernel")
  end
  return values
end

CONVERTERS.Conv2DTranspose = function(layer, values, note)
  if layer.data_format == "channels_first" then
    return transpose_first(values, {2, 3, 0, 1}, note, "keras1_conv2d_transpose",
      "Keras 1 Deconvolution2D (channels_first) kernel")
  end
  return transpose_first(values, {0, 1, 3, 2}, note, "keras1_conv2d_transpose",
    "Keras 1 Deconvolution2D (channels_last) kernel")
end

CONVERTERS.Conv3D = function(layer, values, note)
  if layer.data_format == "channels_first" then
    return transpose_first(values, {2, 3, 4, 1, 0}, note, "keras1_conv3d_channels_first",
      "Keras 1 Conv3D (channels_first) kernel")
  end
  return values
end

CONVERTERS.GRU = function(_, values, note)
  if #values ~= 9 then return values end
  note("keras1_gru", "Keras 1 GRU: 9 per-gate arrays (z, r, h) merged into kernel, recurrent_kernel, bias")
  -- Gate g (0-based) holds arrays 3g .. 3g+2 (W, U, b).
  return merge_gates(values, {0, 1, 2})
end

CONVERTERS.LSTM = function(_, values, note)
  if #values ~= 12 then return values end
  note("keras1_lstm", "Keras 1 LSTM: 12 per-gate arrays merged into kernel, recurrent_kernel, bias; " ..
    "gates i, c, f, o reordered to i, f, c, o")
  return merge_gates(values, {0, 2, 1, 3})
end

CONVERTERS.ConvLSTM2D = function(layer, values, note)
  if #values ~= 12 then return values end
  local out = merge_gates(values, {0, 2, 1, 3})
  local reason = "Keras 1 ConvLSTM2D: 12 per-gate arrays merged, gates i, c, f, o reordered to i, f, c, o"
  if layer.data_format == "channels_first" then
    out[1] = ops.np_transpose(out[1], {2, 3, 1, 0})
    out[2] = ops.np_transpose(out[2], {2, 3, 1, 0})
    reason = reason .. "; channels_first kernels transposed (2, 3, 1, 0)"
  end
  note("keras1_conv_lstm2d", reason)
  return out
end

-- values: a list this module may modify (the caller passes its own copy). Returns the new list.
function M.convert(layer, values, note)
  local fn = CONVERTERS[layer.class_name]
  if not fn then return values end
  return fn(layer, values, note)
end

return M
