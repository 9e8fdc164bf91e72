--[[
weightkit.layers — the layer catalog, every class under its Keras name.

  wk.layers.Dense{units = 3}           wk.layers.Input{shape = {784}}    wk.layers.InputLayer{...}
  wk.layers.get("Conv2D")              -> the class registered under that Keras class name (or nil)
  wk.layers.register(cls, name?)       adds a class (custom layers) under cls.class_name or `name`
  wk.layers.custom{class_name = ..., weights = fn, call = fn?, compute_output_shape = fn?}
                                       declares and registers a weight-holding layer from Lua
  wk.layers.Layer                      the base class (weightkit.layer)

Families (one module each under layers/): core, conv, normalization, embedding, activation_layers,
pooling, merge, reshaping, recurrent, wrappers, attention, input; opaque.lua holds the stand-in for
classes the catalog does not know (weightkit.config.deserialize creates them, not this registry).
]]
local Layer = require "weightkit.layer"

local M = {}
local registry = {}

M.Layer = Layer

function M.register(cls, name)
  name = name or cls.class_name
  registry[name] = cls
  M[name] = cls
  return cls
end

function M.get(class_name)
  return registry[class_name]
end

function M.custom(spec)
  local cls = Layer.custom(spec)
  if spec.register ~= false then M.register(cls) end
  return cls
end

-- Adds every class of a family module; aliases (a second key for the same class) are exported under
-- the alias but registered under their class_name only.
local function add_family(mod)
  for key, cls in pairs(mod) do
    if type(cls) == "table" and rawget(cls, "class_name") and cls.is_layer_class then
      M[key] = cls
      if registry[cls.class_name] == nil or key == cls.class_name then registry[cls.class_name] = cls end
      if key ~= cls.class_name then registry[key] = registry[key] or cls end
    end
  end
end

for _, family in ipairs({"core", "conv", "normalization", "embedding", "activation_layers", "pooling",
                         "merge", "reshaping", "recurrent", "wrappers", "attention"}) do
  add_family(require("weightkit.layers." .. family))
end

local input = require "weightkit.layers.input"
add_family(input)
M.Input = input.Input
M.InputLayer = input.InputLayer
registry.InputLayer = input.InputLayer

return M
