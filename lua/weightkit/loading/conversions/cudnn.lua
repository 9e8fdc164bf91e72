--[[
weightkit.loading.conversions.cudnn — CuDNNLSTM/CuDNNGRU <-> LSTM/GRU (keras-formats.md §3.5 D,
tf-keras `_convert_rnn_weights`). Any source version; only with exactly 3 arrays (kernel,
recurrent_kernel, bias): a layer without bias is never converted.

units = recurrent.shape[0]. Kernels are (rows, n_gates * units) and are handled per gate block:
  input kernel block k (in, units)  -> k.T reinterpreted into (in, units), Fortran order when converting
                                       from cuDNN, C order when converting to cuDNN (ops.cudnn_input_block);
  recurrent block (units, units)    -> its transpose.
LSTM/CuDNNLSTM (4 gates): bias (8u,) => source CuDNNLSTM, (4u,) => LSTM, else
  `ValueError: Invalid bias shape: (n,)`. From cuDNN the bias is the sum of its two halves (input +
  recurrent bias); to cuDNN it is tile(0.5 * b, 2) (any split with the same sum works).
GRU/CuDNNGRU (3 gates): bias (6u,) => CuDNNGRU, (2, 3u) => GRU(reset_after=True), (3u,) =>
  GRU(reset_after=False), else "Invalid bias shape". The target is CuDNNGRU, or GRU by its reset_after.
  Source ~= target with reset_after=False on either side: `ValueError: <source> is not compatible with
  <target>`. From cuDNN the bias is reshaped to (2, -1); GRU(reset_after=True) -> cuDNN flattens it.
]]
local ops = require "weightkit.loading.ops"
local errors = require "weightkit.errors"
local shape_str = require("weightkit.naming").shape_str

local M = {}

local function same(s, t) return ops.same_shape(s, t) end

local function convert_kernels(values, n_gates, from_cudnn)
  local kernel = ops.map_blocks(values[1], n_gates, function(k)
    return ops.cudnn_input_block(k, from_cudnn)
  end)
  local recurrent = ops.map_blocks(values[2], n_gates, ops.transpose2)
  return kernel, recurrent
end

local function lstm(values, note, target)
  local units = values[2]:shape()[1]
  local bias_shape = values[3]:shape()
  local source
  if same(bias_shape, {8 * units}) then
    source = "CuDNNLSTM"
  elseif same(bias_shape, {4 * units}) then
    source = "LSTM"
  else
    errors.value_error("Invalid bias shape: " .. shape_str(bias_shape))
  end
  if source == target then return values end
  local from_cudnn = source == "CuDNNLSTM"
  local kernel, recurrent = convert_kernels(values, 4, from_cudnn)
  local bias
  if from_cudnn then
    bias = ops.sum_halves(values[3])
    note("cudnn_lstm", "CuDNNLSTM weights converted to LSTM (kernels re-laid per gate, " ..
      "input and recurrent biases summed)")
  else
    bias = ops.tile_half(values[3])
    note("cudnn_lstm", "LSTM weights converted to CuDNNLSTM (kernels re-laid per gate, " ..
      "bias halved into input and recurrent biases)")
  end
  return { kernel, recurrent, bias }
end

local function gru(layer, values, note, target_class)
  local units = values[2]:shape()[1]
  local bias_shape = values[3]:shape()
  local source
  if same(bias_shape, {6 * units}) then
    source = "CuDNNGRU"
  elseif same(bias_shape, {2, 3 * units}) then
    source = "GRU(reset_after=True)"
  elseif same(bias_shape, {3 * units}) then
    source = "GRU(reset_after=False)"
  else
    errors.value_error("Invalid bias shape: " .. shape_str(bias_shape))
  end
  local target
  if target_class == "CuDNNGRU" then
    target = "CuDNNGRU"
  elseif layer.reset_after then
    target = "GRU(reset_after=True)"
  else
    target = "GRU(reset_after=False)"
  end
  if source == target then return values end
  if source == "GRU(reset_after=False)" or target == "GRU(reset_after=False)" then
    errors.value_error(source .. " is not compatible with " .. target)
  end
  local from_cudnn = source == "CuDNNGRU"
  local kernel, recurrent = convert_kernels(values, 3, from_cudnn)
  local bias
  if from_cudnn then
    bias = values[3]:clone():reshape({2, -1})
  else
    bias = values[3]:clone():reshape({-1})
  end
  note("cudnn_gru", source .. " weights converted to " .. target ..
    " (kernels re-laid per gate, bias " .. shape_str(bias_shape) .. " -> " .. shape_str(bias:shape()) .. ")")
  return { kernel, recurrent, bias }
end

function M.convert(layer, values, note)
  if #values ~= 3 then return values end
  local cls = layer.class_name
  if cls == "LSTM" or cls == "CuDNNLSTM" then
    return lstm(values, note, cls)
  elseif cls == "GRU" or cls == "CuDNNGRU" then
    return gru(layer, values, note, cls)
  end
  return values
end

return M
