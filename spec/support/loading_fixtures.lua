--[[
Helpers for spec/loading_spec.lua and spec/conversions_spec.lua.

  build(shape, f)        a float32 tensor whose element at 0-based index (i, j, ...) is f(i, j, ...)
  check(t, shape, f)     asserts t has `shape` and every element equals f(0-based index...)
  fake_layer{...}        a stand-in target layer for the conversion specs: class_name, name, config fields
                         (data_format, kernel_size, filters, reset_after, forward_layer, layer, layers ...),
                         trainable = {shape, ...}, non_trainable = {shape, ...}
  fake_file{...}         an in-memory "file" with the wk.open interface: keras_version, backend,
                         top_level_weights, layers = { {name, weights = { {name, tensor}, ... }}, ... }
                         (file:layers() returns them)

Conversion dispatch reads only class_name, config fields and weight shapes, so fake layers exercise exactly
the code real layers do; the loading specs use the real Layer classes.
]]
local T = require("weightkit.tensor").api

local M = {}

local function each_index(shape, fn)
  local n = #shape
  local idx = {}
  local function rec(d)
    if d > n then return fn(idx) end
    for i = 0, shape[d] - 1 do
      idx[d] = i
      rec(d + 1)
    end
  end
  rec(1)
end
M.each_index = each_index

function M.build(shape, f, dtype)
  if #shape == 0 then return T.tensor(f(), dtype) end
  local function rec(d, idx)
    local out = {}
    for i = 0, shape[d] - 1 do
      idx[d] = i
      if d == #shape then out[#out + 1] = f(table.unpack(idx, 1, #shape))
      else out[#out + 1] = rec(d + 1, idx) end
    end
    return out
  end
  return T.tensor(rec(1, {}), dtype)
end

local function shape_equal(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

function M.check(t, shape, f)
  local got = t:shape()
  assert(shape_equal(got, shape), "shape " .. table.concat(got, ",") .. " ~= expected " ..
    table.concat(shape, ","))
  local bad
  each_index(shape, function(idx)
    if bad then return end
    local one = {}
    for i = 1, #idx do one[i] = idx[i] + 1 end
    local v = t:get(table.unpack(one))
    local e = f(table.unpack(idx, 1, #shape))
    if v ~= e then bad = string.format("at (%s): got %s, expected %s", table.concat(idx, ", "), v, e) end
  end)
  assert(not bad, bad)
  return true
end

function M.fake_layer(spec)
  local l = {}
  for k, v in pairs(spec) do l[k] = v end
  l.name = l.name or string.lower(spec.class_name)
  local tw, ntw = {}, {}
  local function var(s, i)
    local shape = s
    return { name = l.name .. "/w" .. i .. ":0", shape = function() return shape end }
  end
  for i, s in ipairs(spec.trainable or {}) do tw[i] = var(s, i) end
  for i, s in ipairs(spec.non_trainable or {}) do ntw[i] = var(s, #tw + i) end
  l.trainable, l.non_trainable = nil, nil
  function l.trainable_weights()
    local out = {}
    for i, v in ipairs(tw) do out[i] = v end
    for _, sub in ipairs(l.layers or {}) do
      for _, v in ipairs(sub:trainable_weights()) do out[#out + 1] = v end
    end
    return out
  end
  function l.non_trainable_weights()
    local out = {}
    for i, v in ipairs(ntw) do out[i] = v end
    for _, sub in ipairs(l.layers or {}) do
      for _, v in ipairs(sub:non_trainable_weights()) do out[#out + 1] = v end
    end
    return out
  end
  function l.weights()
    local out = l.trainable_weights()
    for _, v in ipairs(l.non_trainable_weights()) do out[#out + 1] = v end
    return out
  end
  return l
end

function M.fake_file(spec)
  local f = { keras_version = spec.keras_version, backend = spec.backend,
    top_level_weights = spec.top_level_weights, _layers = spec.layers or {} }
  function f.layers(self) return self._layers end
  return f
end

-- { {name, tensor}, ... } from a list of {name, tensor} pairs.
function M.weights(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = { name = p[1], tensor = p[2] } end
  return out
end

return M
