--[[
weightkit.layers.pooling — Max/Average pooling 1D/2D/3D and Global* (weightless; shapes only).

Pooling: pool_size (1D default 2, 2D (2, 2), 3D (2, 2, 2)), strides default = pool_size, padding
"valid"|"same", data_format (1D default "channels_last"). Output length per spatial dim:
conv_output_length(len, pool, padding, stride). Global pooling: (batch, channels), or with keepdims
every spatial dim becomes 1.
]]
local Layer = require "weightkit.layer"
local U = require "weightkit.layers.utils"

local M = {}

local function pooling_class(name, rank)
  local default_pool = rank == 1 and 2 or U.normalize_tuple(2, rank, "pool_size")
  local cls = Layer:extend(name, {
    positional = {"pool_size", "strides", "padding", "data_format"},
    params = {{"pool_size", default_pool}, {"padding", "valid"}, {"strides"},
              {"data_format", rank == 1 and "channels_last" or nil}},
  })
  cls.rank = rank
  function cls:init(config)
    Layer.init(self, config)
    self.pool_size = U.normalize_tuple(config.pool_size, rank, "pool_size")
    local st = config.strides
    if st == nil or st == false then st = self.pool_size end
    self.strides = U.normalize_tuple(st, rank, "strides")
    self.padding = U.normalize_padding(config.padding)
    self.data_format = U.normalize_data_format(config.data_format)
  end
  function cls:compute_output_shape(s)
    return U.map_spatial(self, s, rank, self.data_format, function(len, i)
      return U.conv_output_length(len, self.pool_size[i], self.padding, self.strides[i], 1)
    end)
  end
  M[name] = cls
  return cls
end

local function global_class(name, rank)
  local cls = Layer:extend(name, {
    positional = {"data_format"},
    params = {{"data_format", rank == 1 and "channels_last" or nil}, {"keepdims", false}},
  })
  function cls:init(config)
    Layer.init(self, config)
    self.data_format = U.normalize_data_format(config.data_format)
  end
  function cls:compute_output_shape(s)
    U.check_rank(self, s, rank + 2)
    local axes, ci = U.spatial_axes(#s, self.data_format)
    if self.keepdims then
      local out = U.copy(s)
      for _, a in ipairs(axes) do out[a] = 1 end
      return out
    end
    return {s[1], s[ci]}
  end
  M[name] = cls
  return cls
end

for rank = 1, 3 do
  local d = rank .. "D"
  pooling_class("MaxPooling" .. d, rank)
  pooling_class("AveragePooling" .. d, rank)
  global_class("GlobalMaxPooling" .. d, rank)
  global_class("GlobalAveragePooling" .. d, rank)
  -- Keras aliases (same classes)
  M["MaxPool" .. d] = M["MaxPooling" .. d]
  M["AvgPool" .. d] = M["AveragePooling" .. d]
  M["GlobalMaxPool" .. d] = M["GlobalMaxPooling" .. d]
  M["GlobalAvgPool" .. d] = M["GlobalAveragePooling" .. d]
end

return M
