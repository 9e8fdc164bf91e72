--[[
weightkit.editor — file surgery without a model (issue 6): Keras 3's KerasFileEditor (summary, compare,
rename_object, delete_object, add_object, delete_weight, add_weights, save, resave_weights) on every
format weightkit reads, Keras 2 HDF5 and TF checkpoints included.

  local ed = editor.open(path_or_file)     any format (wk.open's, plus a sharded `.weights.json`
                                           index); tensors stay lazy until touched
  ed.format, ed.source                     the source's wk.open format ("keras3-sharded" for an index)
                                           and its path
  ed:objects() -> { {name =, weights = { {name =, shape =, dtype =}, ... }, top_level =, optimizer =,
                     metrics =}, ... }     in file order (a fresh copy; editor/source.lua names them)
  ed:summary() -> text ; tostring(ed)      a table of objects, weights, shapes and dtypes
  ed:compare(model [, {by_name =}]) -> report     editor/compare.lua
  ed:get(object, weight) -> tensor         reads it on first use
  ed:set(object, weight, tensor)           replaces a weight's value (shape and dtype may change)
  ed:rename_object(old, new) ; ed:delete_object(name) ; ed:add_object(name, weights)
  ed:delete_weight(object, weight) ; ed:add_weights(object, weights) ; ed:rename_weight(object, old, new)
      weights: an ordered list { {name, tensor} | {name =, tensor =} | tensor, ... } (a bare tensor is
      named by its 0-based position, after the object's existing weights) or a Keras-like table
      {["0"] = t0, ["1"] = t1} (numeric names in numeric order, then the others by name); values may be
      nested Lua tables (wk.tensor). Every edit returns ed.
  ed:save(path [, {overwrite = true, max_shard_size =, include_optimizer = true, metadata =}]) -> true |
      false (declined to overwrite); format by suffix, naming conversions: editor/save.lua
  ed:resave_weights(path [, options])      KerasFileEditor.resave_weights: the weights as `.weights.h5`
  ed:close(), `local ed <close> = ...`     closes the files the editor opened (not a file passed in)

OBJECT NAMES. rename_object and delete_object act on the object and on every object under it
("layers/bidirectional" also moves or deletes "layers/bidirectional/forward_layer/cell", as Keras's
editor moves an HDF5 group); the separator is '/' ('.' for a safetensors source). A name that is
neither an object nor the prefix of one is an error. Names are unique: renaming or adding onto an
existing name is an error (so is a weight name that exists in its object).

ERRORS are ValueError texts naming the file, the object and the weight:
  ValueError: Object 'dense_9' not found in w.h5. Available objects: ['dense_1', 'dense_2']
  ValueError: Weight 'bias:0' not found in object 'dense_1' of w.h5. Available weights: [...]
  ValueError: Object 'dense_2' already exists in w.h5.
  ValueError: Weight '0' already exists in object 'layers/dense' of w.weights.h5.
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local source = require "weightkit.editor.source"
local save_mod = require "weightkit.editor.save"
local compare_mod = require "weightkit.editor.compare"

local M = {}

local Editor = {}
Editor.__index = Editor
Editor.__name = "weightkit.Editor"

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function py_list(names)
  local parts = {}
  for i, n in ipairs(names) do parts[i] = "'" .. n .. "'" end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function check_name(name, what)
  if type(name) ~= "string" then
    errors.type_error(string.format("%s must be a string, got %s", what, type(name)))
  end
  return name
end

function M.open(src)
  local state = source.read(src)
  local self = setmetatable({ _state = state, format = state.format, source = state.source }, Editor)
  self._sep = source.SCHEME[state.format] == "safetensors" and "." or "/"
  return self
end

function Editor:close()
  for _, f in ipairs(self._state.files) do
    if not f:is_closed() then f:close() end
  end
end
Editor.__close = Editor.close

--{=====================================================================================================
-- Look-ups
--======================================================================================================

function Editor:_find(name)
  for i, obj in ipairs(self._state.objects) do
    if obj.name == name then return obj, i end
  end
  return nil
end

function Editor:_object(name)
  check_name(name, "object name")
  local obj = self:_find(name)
  if obj == nil then
    local names = {}
    for i, o in ipairs(self._state.objects) do names[i] = o.name end
    errors.value_error(string.format("Object '%s' not found in %s. Available objects: %s", name,
      tostring(self.source), py_list(names)))
  end
  return obj
end

function Editor:_weight(object, weight)
  local obj = self:_object(object)
  check_name(weight, "weight name")
  for i, rec in ipairs(obj.weights) do
    if rec.name == weight then return rec, obj, i end
  end
  local names = {}
  for i, rec in ipairs(obj.weights) do names[i] = rec.name end
  errors.value_error(string.format("Weight '%s' not found in object '%s' of %s. Available weights: %s", weight,
    object, tostring(self.source), py_list(names)))
end

-- The object and every object under it (name .. sep ...), in file order; an error when none.
function Editor:_subtree(name)
  check_name(name, "object name")
  local prefix = name .. self._sep
  local out = {}
  for _, obj in ipairs(self._state.objects) do
    if obj.name == name or obj.name:sub(1, #prefix) == prefix then out[#out + 1] = obj end
  end
  if #out == 0 then self:_object(name) end
  return out
end

function Editor:_no_object(name)
  if self:_find(name) ~= nil then
    errors.value_error(string.format("Object '%s' already exists in %s.", name, tostring(self.source)))
  end
end

--{=====================================================================================================
-- Reading
--======================================================================================================

function Editor:objects()
  local out = {}
  for i, obj in ipairs(self._state.objects) do
    local weights = {}
    for j, rec in ipairs(obj.weights) do
      weights[j] = { name = rec.name, shape = table.move(rec.shape, 1, #rec.shape, 1, {}), dtype = rec.dtype }
    end
    out[i] = { name = obj.name, weights = weights, top_level = obj.top_level or false,
      optimizer = obj.optimizer or false, metrics = obj.metrics or false }
  end
  return out
end

function Editor:get(object, weight)
  local rec, obj = self:_weight(object, weight)
  if rec.attribute then
    errors.value_error(string.format("Weight '%s' of object '%s' in %s is a TensorFlow string attribute, not " ..
      "a tensor", weight, object, tostring(self.source)))
  end
  return save_mod.tensor_of(self._state, obj, rec)
end

local SIZE = { bool = 1, int8 = 1, uint8 = 1, int16 = 2, uint16 = 2, float16 = 2, bfloat16 = 2, int32 = 4,
  uint32 = 4, float32 = 4, int64 = 8, uint64 = 8, float64 = 8 }

local function numel(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

local function human(bytes)
  local units, u = { "B", "KB", "MB", "GB", "TB" }, 1
  while bytes >= 1024 and u < #units do bytes, u = bytes / 1024, u + 1 end
  return u == 1 and string.format("%d B", bytes) or string.format("%.1f %s", bytes, units[u])
end

function Editor:summary()
  local rows, w1, w2, w3 = {}, #"Object", #"Weight", #"Shape"
  local nweights, params, bytes = 0, 0, 0
  for _, obj in ipairs(self._state.objects) do
    local label = obj.name == "" and "/" or obj.name
    local flags = {}
    if obj.top_level then flags[#flags + 1] = "top-level" end
    if obj.optimizer then flags[#flags + 1] = "optimizer" end
    if obj.metrics then flags[#flags + 1] = "metrics" end
    if #flags > 0 then label = label .. " [" .. table.concat(flags, ", ") .. "]" end
    w1 = math.max(w1, #label)
    if #obj.weights == 0 then rows[#rows + 1] = { label, "", "", "" } end
    for i, rec in ipairs(obj.weights) do
      local shape = naming.shape_str(rec.shape)
      rows[#rows + 1] = { i == 1 and label or "", rec.name, shape, rec.dtype }
      w2, w3 = math.max(w2, #rec.name), math.max(w3, #shape)
      nweights = nweights + 1
      if not rec.attribute then
        params = params + numel(rec.shape)
        bytes = bytes + numel(rec.shape) * (SIZE[rec.dtype] or 0)
      end
    end
  end
  local function line(a, b, c, d)
    return a .. (" "):rep(w1 - #a + 2) .. b .. (" "):rep(w2 - #b + 2) .. c .. (" "):rep(w3 - #c + 2) .. d
  end
  local out = { string.format("Weights file %s (%s)", tostring(self.source), tostring(self.format)),
    line("Object", "Weight", "Shape", "Dtype") }
  out[3] = ("-"):rep(#out[2] + 8)
  for _, r in ipairs(rows) do out[#out + 1] = (line(r[1], r[2], r[3], r[4]):gsub("%s+$", "")) end
  out[#out + 1] = out[3]
  out[#out + 1] = string.format("Total: %d object(s), %d weight(s), %d parameter(s) (%s)",
    #self._state.objects, nweights, params, human(bytes))
  return table.concat(out, "\n") .. "\n"
end

function Editor:__tostring()
  return self:summary()
end

function Editor:compare(model, opts)
  return compare_mod.compare(self._state, model, opts)
end

--{=====================================================================================================
-- Edits
--======================================================================================================

local function as_tensor(value, where)
  if core.is_tensor(value) then return value end
  if type(value) == "table" or type(value) == "number" then
    local ok, t = pcall(core.tensor, value)
    if ok then return t end
    errors.value_error(where .. ": cannot make a tensor of the value: " .. tostring(t))
  end
  errors.type_error(string.format("%s: expected a tensor, got %s", where, type(value)))
end

local function rec_of(name, t)
  return { name = name, shape = t:shape(), dtype = t:dtype(), tensor = t }
end

local function numeric_first(a, b)
  local na, nb = tonumber(a), tonumber(b)
  if na and nb then return na < nb end
  if na or nb then return na ~= nil end
  return a < b
end

-- The {name, tensor} list of an add_object / add_weights argument (see the header); `start` is the
-- 0-based position of the first new weight (names of bare tensors).
local function weight_list(weights, where, start)
  if type(weights) ~= "table" or core.is_tensor(weights) then
    errors.type_error(where .. ": weights must be a list {{name, tensor}, ...} or a table {name = tensor}")
  end
  local out = {}
  if #weights > 0 then
    for i, w in ipairs(weights) do
      local name, value
      if core.is_tensor(w) then
        name, value = tostring(start + i - 1), w
      elseif type(w) == "table" then
        name, value = w.name or w[1], w.tensor or w[2]
      end
      if type(name) ~= "string" or value == nil then
        errors.type_error(string.format("%s: weight %d must be {name, tensor}, {name =, tensor =} or a tensor",
          where, i))
      end
      out[i] = { name, as_tensor(value, where .. ": weight '" .. name .. "'") }
    end
  else
    local names = {}
    for k in pairs(weights) do
      if type(k) ~= "string" then errors.type_error(where .. ": weight names must be strings") end
      names[#names + 1] = k
    end
    table.sort(names, numeric_first)
    for i, name in ipairs(names) do out[i] = { name, as_tensor(weights[name], where .. ": weight '" .. name .. "'") } end
  end
  return out
end

function Editor:_add_to(obj, list)
  local have = {}
  for _, rec in ipairs(obj.weights) do have[rec.name] = true end
  for _, w in ipairs(list) do
    if have[w[1]] then
      errors.value_error(string.format("Weight '%s' already exists in object '%s' of %s.", w[1], obj.name,
        tostring(self.source)))
    end
    have[w[1]] = true
  end
  for _, w in ipairs(list) do obj.weights[#obj.weights + 1] = rec_of(w[1], w[2]) end
end

function Editor:rename_object(old, new)
  check_name(new, "new object name")
  local moved = self:_subtree(old)
  local is_moved = {}
  for _, obj in ipairs(moved) do is_moved[obj] = true end
  for _, obj in ipairs(moved) do
    local target = new .. obj.name:sub(#old + 1)
    local other = self:_find(target)
    if other ~= nil and not is_moved[other] then self:_no_object(target) end
  end
  for _, obj in ipairs(moved) do
    obj.name = new .. obj.name:sub(#old + 1)
    obj.keras_name = nil
  end
  return self
end

function Editor:delete_object(name)
  local gone = {}
  for _, obj in ipairs(self:_subtree(name)) do gone[obj] = true end
  local keep = {}
  for _, obj in ipairs(self._state.objects) do
    if not gone[obj] then keep[#keep + 1] = obj end
  end
  self._state.objects = keep
  return self
end

function Editor:add_object(name, weights)
  check_name(name, "object name")
  self:_no_object(name)
  local obj = { name = name, weights = {} }
  self:_add_to(obj, weight_list(weights or {}, string.format("add_object('%s')", name), 0))
  self._state.objects[#self._state.objects + 1] = obj
  return self
end

function Editor:add_weights(object, weights)
  local obj = self:_object(object)
  self:_add_to(obj, weight_list(weights, string.format("add_weights('%s')", object), #obj.weights))
  return self
end

function Editor:delete_weight(object, weight)
  local _, obj, i = self:_weight(object, weight)
  table.remove(obj.weights, i)
  return self
end

function Editor:rename_weight(object, old, new)
  local rec, obj = self:_weight(object, old)
  check_name(new, "new weight name")
  for _, other in ipairs(obj.weights) do
    if other ~= rec and other.name == new then
      errors.value_error(string.format("Weight '%s' already exists in object '%s' of %s.", new, object,
        tostring(self.source)))
    end
  end
  rec.name = new
  return self
end

function Editor:set(object, weight, value)
  local rec = self:_weight(object, weight)
  local t = as_tensor(value, string.format("set('%s', '%s')", object, weight))
  rec.tensor, rec.shape, rec.dtype, rec.attribute, rec.entry = t, t:shape(), t:dtype(), nil, nil
  return self
end

--{=====================================================================================================
-- Saving
--======================================================================================================

function Editor:save(path, opts)
  return save_mod.save(self._state, path, opts)
end

function Editor:resave_weights(path, opts)
  if type(path) ~= "string" or not ends_with(path, ".weights.h5") then
    errors.value_error("The filename must end in `.weights.h5`. Received: filepath=" .. tostring(path))
  end
  return save_mod.save(self._state, path, opts)
end

function M.is_editor(v) return getmetatable(v) == Editor end

M.Editor = Editor

return M
