--[[
weightkit.layers.conv — convolutions (tf.keras 2.x weights and output shapes).

Weights (names under the layer scope, in creation order):
  ConvND          kernel  kernel_size + (in // groups, filters), bias (filters,)
  ConvNDTranspose kernel  kernel_size + (filters, in),           bias (filters,)
  DepthwiseConvND depthwise_kernel kernel_size + (in, depth_multiplier), bias (in * depth_multiplier,)
  SeparableConvND depthwise_kernel kernel_size + (in, depth_multiplier),
                  pointwise_kernel (1,)*rank + (in * depth_multiplier, filters), bias (filters,)
"in" is the channel dim: last for channels_last, dim 1 (after the batch) for channels_first.
Output lengths use layers.utils.conv_output_length / deconv_output_length. No concrete forward.
]]
local Layer = require "weightkit.layer"
local activations = require "weightkit.activations"
local initializers = require "weightkit.initializers"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local M = {}

local REG = {{"kernel_regularizer"}, {"bias_regularizer"}, {"activity_regularizer"},
             {"kernel_constraint"}, {"bias_constraint"}}

local function cat(...)
  local r = {}
  for _, l in ipairs({...}) do for _, x in ipairs(l) do r[#r + 1] = x end end
  return r
end

--{=====================================================================================================
-- Conv base
--======================================================================================================

local function conv_params(rank, with_groups)
  local one = rank == 1 and 1 or U.normalize_tuple(1, rank, "x")
  local p = {{"filters"}, {"kernel_size"}, {"strides", one}, {"padding", "valid"},
             {"data_format", "channels_last"}, {"dilation_rate", one}}
  if with_groups then p[#p + 1] = {"groups", 1} end
  return cat(p, {{"activation", "linear"}, {"use_bias", true}, {"kernel_initializer", "glorot_uniform"},
    {"bias_initializer", "zeros"}}, REG)
end

local Conv = Layer:extend("Conv", {params = conv_params(2, true), positional = {"filters", "kernel_size"}})
M.Conv = Conv
Conv.rank = 2

-- A weight named `name` whose initializer, regularizer and constraint are the layer's
-- `<prefix>_initializer`, `<prefix>_regularizer` and `<prefix>_constraint` (prefix "kernel", "depthwise",
-- "pointwise", "bias").
local function conv_weight(self, name, prefix, shape)
  return self:add_weight{name = name, shape = shape, initializer = self[prefix .. "_initializer"],
    regularizer = self[prefix .. "_regularizer"], constraint = self[prefix .. "_constraint"], trainable = true}
end

-- Every convolution's build ends alike: the bias (n,) when use_bias, created after the kernels.
local function add_bias_and_finish(self, n)
  if self.use_bias then self.bias = conv_weight(self, "bias", "bias", {n}) end
  self.built = true
end

local function normalize_common(self, config)
  local rank = self.rank
  self.kernel_size = U.normalize_tuple(config.kernel_size, rank, "kernel_size")
  self.strides = U.normalize_tuple(config.strides or 1, rank, "strides")
  self.dilation_rate = U.normalize_tuple(config.dilation_rate or 1, rank, "dilation_rate")
  self.padding = U.normalize_padding(config.padding or "valid")
  self.data_format = U.normalize_data_format(config.data_format)
  self.activation = activations.get(config.activation)
  if self.padding == "causal" and getmetatable(self).class_name ~= "Conv1D"
      and getmetatable(self).class_name ~= "SeparableConv1D" and getmetatable(self).class_name ~= "DepthwiseConv1D" then
    errors.value_error("Causal padding is only supported for `Conv1D`and `SeparableConv1D`.")
  end
end

function Conv:init(config)
  Layer.init(self, config)
  normalize_common(self, config)
  if config.filters ~= nil then
    local f = config.filters
    if type(f) ~= "number" or f <= 0 or f ~= math.floor(f) then
      errors.value_error("Invalid value for argument `filters`. Expected a strictly positive value. " ..
        "Received filters=" .. tostring(f) .. ".")
    end
    self.filters = math.tointeger(f)
  end
  if self.groups ~= nil then
    self.groups = math.tointeger(self.groups) or self.groups
    if self.filters and self.filters % self.groups ~= 0 then
      errors.value_error(string.format("The number of filters must be evenly divisible by the number of " ..
        "groups. Received: groups=%d, filters=%d.", self.groups, self.filters))
    end
  end
  self.kernel_initializer = initializers.get(config.kernel_initializer)
  self.bias_initializer = initializers.get(config.bias_initializer)
end

function Conv:channel_index(shape)
  if self.data_format == "channels_first" then return 2 end
  return #shape
end

function Conv:input_channels(shape)
  if #shape ~= self.rank + 2 then
    errors.value_error(string.format('Input 0 of layer "%s" is incompatible with the layer: expected ' ..
      "min_ndim=%d, found ndim=%d. Full shape received: %s", self.name, self.rank + 2, #shape,
      U.shape_str(shape)))
  end
  local ci = self:channel_index(shape)
  local c = shape[ci]
  if not c then
    errors.value_error(string.format("The channel dimension of the inputs should be defined. The " ..
      "input_shape received is %s, where axis %d (0-based) is the channel dimension, which found to be " ..
      "`None`.", U.shape_str(shape), ci - 1))
  end
  return c
end

function Conv:build(input_shape)
  local c = self:input_channels(input_shape)
  local groups = self.groups or 1
  if c % groups ~= 0 then
    errors.value_error(string.format("The number of input channels must be evenly divisible by the number " ..
      "of groups. Received groups=%d, but the input has %d channels (full input shape is %s).",
      groups, c, U.shape_str(input_shape)))
  end
  self.kernel = conv_weight(self, "kernel", "kernel", cat(self.kernel_size, {c // groups, self.filters}))
  add_bias_and_finish(self, self.filters)
end

-- Output channels after the layer (filters for most convs).
function Conv:output_channels(_in_channels) return self.filters end

function Conv:spatial_out(len, i)
  return U.conv_output_length(len, self.kernel_size[i], self.padding, self.strides[i], self.dilation_rate[i])
end

function Conv:compute_output_shape(s)
  local out = U.map_spatial(self, s, self.rank, self.data_format, function(len, i)
    local d = self:spatial_out(len, i)
    if d and d <= 0 then
      errors.value_error(string.format("One of the dimensions in the output is <= 0 due to downsampling " ..
        "in %s. Consider increasing the input size. Received input shape %s which would produce output " ..
        "shape with a zero or negative value in a dimension.", self.name, U.shape_str(s)))
    end
    return d
  end)
  local ci = self:channel_index(s)
  out[ci] = self:output_channels(s[ci])
  return out
end

local function conv_class(name, rank, default_df)
  local params = conv_params(rank, true)
  for _, p in ipairs(params) do
    if p[1] == "data_format" then p[2] = default_df end
  end
  local cls = Conv:extend(name, {params = params, positional = {"filters", "kernel_size"}})
  cls.rank = rank
  M[name] = cls
  return cls
end

conv_class("Conv1D", 1, "channels_last")
conv_class("Conv2D", 2, nil)
conv_class("Conv3D", 3, nil)

--{=====================================================================================================
-- Transposed convolutions
--======================================================================================================

local function transpose_class(name, rank)
  local params = conv_params(rank, true)
  for _, p in ipairs(params) do if p[1] == "data_format" then p[2] = nil end end
  table.insert(params, 5, {"output_padding"})
  local cls = Conv:extend(name, {params = params, positional = {"filters", "kernel_size"}})
  cls.rank = rank
  function cls:init(config)
    Conv.init(self, config)
    if config.output_padding ~= nil then
      self.output_padding = U.normalize_tuple(config.output_padding, rank, "output_padding")
      for i, op in ipairs(self.output_padding) do
        if op >= self.strides[i] then
          errors.value_error(string.format("Strides must be greater than output padding. Received strides=%s, " ..
            "output_padding=%s.", U.shape_str(self.strides), U.shape_str(self.output_padding)))
        end
      end
    end
  end
  function cls:build(input_shape)
    local c = self:input_channels(input_shape)
    self.kernel = conv_weight(self, "kernel", "kernel", cat(self.kernel_size, {self.filters, c}))
    add_bias_and_finish(self, self.filters)
  end
  function cls:spatial_out(len, i)
    local op = self.output_padding and self.output_padding[i] or nil
    return U.deconv_output_length(len, self.kernel_size[i], self.padding, op, self.strides[i],
      self.dilation_rate[i])
  end
  M[name] = cls
  return cls
end

transpose_class("Conv1DTranspose", 1)
transpose_class("Conv2DTranspose", 2)
transpose_class("Conv3DTranspose", 3)

--{=====================================================================================================
-- Depthwise and separable convolutions
--======================================================================================================

-- Depthwise and separable convolutions: the depthwise step's multiplier and initializer.
local function init_depthwise(self, config)
  self.depth_multiplier = math.tointeger(config.depth_multiplier) or config.depth_multiplier
  self.depthwise_initializer = initializers.get(config.depthwise_initializer)
end

local function depthwise_params(rank)
  local one = U.normalize_tuple(1, rank, "x")
  return {{"kernel_size"}, {"strides", one}, {"padding", "valid"}, {"data_format"}, {"dilation_rate", one},
    {"activation", "linear"}, {"use_bias", true}, {"bias_initializer", "zeros"}, {"bias_regularizer"},
    {"activity_regularizer"}, {"bias_constraint"}, {"depth_multiplier", 1},
    {"depthwise_initializer", "glorot_uniform"}, {"depthwise_regularizer"}, {"depthwise_constraint"},
    -- keys present in some tf.keras configs of the class, accepted and echoed
    {"groups"}, {"filters"}, {"kernel_initializer"}, {"kernel_regularizer"}, {"kernel_constraint"}}
end

local function depthwise_class(name, rank)
  local cls = Conv:extend(name, {params = depthwise_params(rank), positional = {"kernel_size"}})
  cls.rank = rank
  function cls:init(config)
    Layer.init(self, config)
    normalize_common(self, config)
    init_depthwise(self, config)
    self.bias_initializer = initializers.get(config.bias_initializer)
  end
  function cls:build(input_shape)
    local c = self:input_channels(input_shape)
    self.depthwise_kernel = conv_weight(self, "depthwise_kernel", "depthwise",
      cat(self.kernel_size, {c, self.depth_multiplier}))
    add_bias_and_finish(self, c * self.depth_multiplier)
  end
  function cls:output_channels(c) return c and c * self.depth_multiplier or false end
  M[name] = cls
  return cls
end

depthwise_class("DepthwiseConv1D", 1)
depthwise_class("DepthwiseConv2D", 2)

local function separable_params(rank)
  local one = rank == 1 and 1 or U.normalize_tuple(1, rank, "x")
  return {{"filters"}, {"kernel_size"}, {"strides", one}, {"padding", "valid"},
    {"data_format", rank == 1 and "channels_last" or nil}, {"dilation_rate", one}, {"groups", 1},
    {"activation", "linear"}, {"use_bias", true}, {"kernel_initializer"}, {"bias_initializer", "zeros"},
    {"kernel_regularizer"}, {"bias_regularizer"}, {"activity_regularizer"}, {"kernel_constraint"},
    {"bias_constraint"}, {"depth_multiplier", 1}, {"depthwise_initializer", "glorot_uniform"},
    {"pointwise_initializer", "glorot_uniform"}, {"depthwise_regularizer"}, {"pointwise_regularizer"},
    {"depthwise_constraint"}, {"pointwise_constraint"}}
end

local function separable_class(name, rank)
  local cls = Conv:extend(name, {params = separable_params(rank), positional = {"filters", "kernel_size"}})
  cls.rank = rank
  function cls:init(config)
    Conv.init(self, config)
    init_depthwise(self, config)
    self.pointwise_initializer = initializers.get(config.pointwise_initializer)
  end
  function cls:build(input_shape)
    local c = self:input_channels(input_shape)
    local dm = self.depth_multiplier
    self.depthwise_kernel = conv_weight(self, "depthwise_kernel", "depthwise", cat(self.kernel_size, {c, dm}))
    self.pointwise_kernel = conv_weight(self, "pointwise_kernel", "pointwise",
      cat(U.normalize_tuple(1, rank, "x"), {c * dm, self.filters}))
    add_bias_and_finish(self, self.filters)
  end
  M[name] = cls
  return cls
end

separable_class("SeparableConv1D", 1)
separable_class("SeparableConv2D", 2)

-- Keras 2 aliases (same classes, same class_name).
M.Convolution1D = M.Conv1D
M.Convolution2D = M.Conv2D
M.Convolution3D = M.Conv3D
M.Convolution2DTranspose = M.Conv2DTranspose
M.Convolution3DTranspose = M.Conv3DTranspose
M.SeparableConvolution1D = M.SeparableConv1D
M.SeparableConvolution2D = M.SeparableConv2D

return M
