--[[
weightkit.layers.reshaping — ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D (weightless).

Configs are normalized as tf.keras does: ZeroPadding1D.padding (l, r); 2D ((t, b), (l, r)); 3D three pairs;
an int or a per-dim int is symmetric. Cropping likewise. UpSampling1D.size int; 2D/3D tuples.
Shapes: pad adds, crop subtracts, upsample multiplies; None stays None.
]]
local Layer = require "weightkit.layer"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local M = {}

-- int -> ((p, p), ...); (a, b, ...) per dim ints -> ((a, a), (b, b), ...); pairs kept.
local function normalize_pairs(v, rank, name)
  if rank == 1 then
    if type(v) == "number" then return {v, v} end
    return U.normalize_tuple(v, 2, name)
  end
  if type(v) == "number" then
    local r = {}
    for i = 1, rank do r[i] = {v, v} end
    return r
  end
  if type(v) ~= "table" or #v ~= rank then
    errors.value_error(string.format("`%s` should have %d elements. Received: %s", name, rank, tostring(v)))
  end
  local r = {}
  for i = 1, rank do
    local x = v[i]
    if type(x) == "number" then r[i] = {x, x} else r[i] = U.normalize_tuple(x, 2, name .. "[" .. i .. "]") end
  end
  return r
end

local function pair(p, rank, i)
  if rank == 1 then return p[1], p[2] end
  return p[i][1], p[i][2]
end

local function padcrop_class(name, rank, key, default, sign)
  local params = {{key, default}}
  if rank > 1 then params[2] = {"data_format"} end
  local cls = Layer:extend(name, {params = params, positional = {key, "data_format"}})
  function cls:init(config)
    Layer.init(self, config)
    self[key] = normalize_pairs(config[key], rank, key)
    self.data_format = rank > 1 and U.normalize_data_format(config.data_format) or nil
  end
  function cls:compute_output_shape(s)
    return U.map_spatial(self, s, rank, self.data_format or "channels_last", function(len, i)
      local lo, hi = pair(self[key], rank, i)
      return len and len + sign * (lo + hi)
    end)
  end
  M[name] = cls
  return cls
end

padcrop_class("ZeroPadding1D", 1, "padding", 1, 1)
padcrop_class("ZeroPadding2D", 2, "padding", {{1, 1}, {1, 1}}, 1)
padcrop_class("ZeroPadding3D", 3, "padding", {{1, 1}, {1, 1}, {1, 1}}, 1)
padcrop_class("Cropping1D", 1, "cropping", {1, 1}, -1)
padcrop_class("Cropping2D", 2, "cropping", {{0, 0}, {0, 0}}, -1)
padcrop_class("Cropping3D", 3, "cropping", {{1, 1}, {1, 1}, {1, 1}}, -1)

local function upsampling_class(name, rank)
  local params = {{"size", rank == 1 and 2 or U.normalize_tuple(2, rank, "size")}}
  if rank > 1 then params[#params + 1] = {"data_format"} end
  if rank == 2 then params[#params + 1] = {"interpolation", "nearest"} end
  local cls = Layer:extend(name, {params = params, positional = {"size", "data_format"}})
  function cls:init(config)
    Layer.init(self, config)
    if rank == 1 then
      self.size = math.tointeger(config.size) or config.size
    else
      self.size = U.normalize_tuple(config.size, rank, "size")
      self.data_format = U.normalize_data_format(config.data_format)
    end
  end
  function cls:compute_output_shape(s)
    return U.map_spatial(self, s, rank, self.data_format or "channels_last", function(len, i)
      return len and len * (rank == 1 and self.size or self.size[i])
    end)
  end
  M[name] = cls
  return cls
end

upsampling_class("UpSampling1D", 1)
upsampling_class("UpSampling2D", 2)
upsampling_class("UpSampling3D", 3)

return M
