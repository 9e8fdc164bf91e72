--[[
weightkit.naming — Keras's naming helpers.

to_snake_case(name) follows tf.keras `generic_utils.to_snake_case` exactly: two regex passes,
  1. `(.)([A-Z][a-z0-9]+)` -> `\1_\2`
  2. `([a-z])([A-Z])`      -> `\1_\2`
then lower-casing; a result starting with "_" (a private class) is prefixed with "private".
Python's re.sub and Lua's gsub both scan left to right for non-overlapping, greedy matches, so the
two Lua patterns below give the same results (PReLU -> p_re_lu, ConvLSTM2D -> conv_lst_m2d).

shape_str(shape) prints a shape as a Python tuple: `(None, 3)`, `(4,)`, `()`; an unknown dim is `false`
(wk.None) or nil. A list of shapes prints as a Python list of tuples: `[(None, 3), (None, 4)]`.
same_shape(a, b) is true when two shapes (Lua arrays of dims) have the same rank and dims (nil: false).
]]
local M = {}

function M.to_snake_case(name)
  local s = name:gsub("(.)([A-Z][a-z0-9]+)", "%1_%2")
  s = s:gsub("([a-z])([A-Z])", "%1_%2"):lower()
  if s:sub(1, 1) ~= "_" then return s end
  return "private" .. s
end

local function dim_str(d)
  if d == nil or d == false then return "None" end
  if math.type(d) == "float" and d == math.floor(d) then return string.format("%d", d) end
  return tostring(d)
end

local function is_shape_list(shape)
  return type(shape) == "table" and type(shape[1]) == "table"
end

-- Number of entries in a shape table, tolerating holes left by JSON nulls that decoded to nil.
local function shape_len(shape)
  local n = #shape
  if shape.n then n = shape.n end
  return n
end

function M.shape_str(shape)
  if shape == nil then return "None" end
  if is_shape_list(shape) then
    local parts = {}
    for i, s in ipairs(shape) do parts[i] = M.shape_str(s) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local n = shape_len(shape)
  local parts = {}
  for i = 1, n do parts[i] = dim_str(shape[i]) end
  if n == 1 then return "(" .. parts[1] .. ",)" end
  return "(" .. table.concat(parts, ", ") .. ")"
end

function M.same_shape(a, b)
  if a == nil or b == nil or #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

return M
