--[[
weightkit.tensor — the Lua side of tensors.

The mechanism (userdata, element access, arithmetic) is in the C module `weightkit.core`; this file
adds what is policy: NumPy-style printing (`tostring(t)` is NumPy's str, `t:repr()` its repr) and
the table `api` that init.lua copies into the `weightkit` module.

PRINTING follows NumPy's arrayprint with its default options (linewidth 75, precision 8,
threshold 1000, edgeitems 3, floatmode "maxprec", legacy off):
  - floats print the shortest digits that read back to the same value of the tensor's dtype,
    at most 8 digits after the point, in one shared column format per tensor; scientific
    notation when a nonzero |x| is >= 1e8 or < 1e-4, or max/min > 1000;
  - integers right-aligned to a common width; bools as " True"/"False";
  - rows wrap at 75 columns; past 1000 elements each long axis shows 3 edge items and "...";
  - 0-d tensors print like NumPy scalars ("1.0", "1e-05", "True"); repr omits the dtype for
    float64, int64 and bool, as NumPy does for its default types.
]]
local core = require "weightkit.core"

local meta, methods = core.tensor_meta, core.tensor_methods

local LINEWIDTH = 75
local THRESHOLD = 1000
local EDGEITEMS = 3
local PRECISION = 8

local FLOAT = { float16 = true, bfloat16 = true, float32 = true, float64 = true }
local IMPLIED = { float64 = true, int64 = true, bool = true } -- repr omits dtype=

local function rpad(s, n) return s .. (" "):rep(n - #s) end
local function lpad(s, n) return (" "):rep(n - #s) .. s end

local function is_finite(x) return x == x and x ~= math.huge and x ~= -math.huge end

local function nonfinite_str(x)
  if x ~= x then return "nan" end
  return x < 0 and "-inf" or "inf"
end

-- {===================================================================
-- Digits (NumPy's Dragon4 "unique" mode)
-- ====================================================================

-- Shortest digits of x in dtype: sign ("" or "-"), digit string, decimal exponent of the first
-- digit.
local function shortest(x, dtype)
  local s = core.shortest(x, dtype)
  local sign, d1, rest, e = s:match("^(%-?)(%d)%.?(%d*)e([-+]%d+)$")
  return sign, d1 .. rest, tonumber(e)
end

-- Positional parts (int with sign, frac) of x, unique digits with at most `prec` fraction
-- digits (nil: no limit); trailing zeros trimmed.
-- `exact_int`: the integer part is always the exact one (NumPy's arrays pass min_digits=0,
-- which makes Dragon4 carry on to the decimal point: float16 49088 prints 49088., not 49100.).
local function positional(x, dtype, prec, exact_int)
  local sign, digits, e = shortest(x, dtype)
  local int, frac
  if e >= 0 then
    if #digits <= e + 1 then
      int, frac = digits .. ("0"):rep(e + 1 - #digits), ""
      if exact_int then int = string.format("%.0f", math.abs(x)) end
    else
      int, frac = digits:sub(1, e + 1), digits:sub(e + 2)
    end
  else
    int, frac = "0", ("0"):rep(-e - 1) .. digits
  end
  if prec and #frac > prec then -- more digits than asked for: round the exact value
    int, frac = string.format("%." .. prec .. "f", math.abs(x)):match("^(%d+)%.?(%d*)$")
    frac = frac:gsub("0+$", "")
  end
  if digits == "0" then frac = "" end
  return sign .. int, frac
end

-- Scientific parts (int with sign, frac, exponent as an integer) of x, unique digits with at
-- most `prec` fraction digits (nil: no limit).
local function scientific(x, dtype, prec)
  local sign, digits, e = shortest(x, dtype)
  local frac = digits:sub(2)
  if prec and #frac > prec then
    local d, f, ee = string.format("%." .. prec .. "e", math.abs(x)):match("^(%d)%.?(%d*)e([-+]%d+)$")
    digits, frac, e = d .. f, f:gsub("0+$", ""), tonumber(ee)
  end
  return sign .. digits:sub(1, 1), frac, e
end

local function exp_str(e, width)
  local digits = tostring(math.abs(e))
  return (e < 0 and "e-" or "e+") .. ("0"):rep(width - #digits) .. digits
end

-- }===================================================================

-- {===================================================================
-- Element formatters (NumPy's FloatingFormat, IntegerFormat, BoolFormat)
-- ====================================================================

local function float_formatter(values, dtype)
  local finite, any_nonfinite, neginf = {}, false, false
  local max_val, min_val
  for _, x in ipairs(values) do
    if is_finite(x) then
      finite[#finite + 1] = x
      local a = math.abs(x)
      if a ~= 0 then
        if not max_val or a > max_val then max_val = a end
        if not min_val or a < min_val then min_val = a end
      end
    else
      any_nonfinite = true
      if x == -math.huge then neginf = true end
    end
  end
  local exp_format = false
  if max_val then
    local ratio = core.round_to(max_val / min_val, dtype) -- NumPy divides in the dtype
    exp_format = max_val >= 1e8 or min_val < 1e-4 or ratio > 1000
  end

  local pad_left, pad_right, precision, exp_size = 0, 0, 0, -1
  if #finite > 0 and exp_format then
    local exp_len = 0
    for _, x in ipairs(finite) do
      local int, frac, e = scientific(x, dtype, PRECISION)
      pad_left = math.max(pad_left, #int)
      precision = math.max(precision, #frac)
      exp_len = math.max(exp_len, math.max(2, #tostring(math.abs(e))))
    end
    exp_size = exp_len
    pad_right = exp_size + 2 + precision
  elseif #finite > 0 then
    for _, x in ipairs(finite) do
      local int, frac = positional(x, dtype, PRECISION, true)
      pad_left = math.max(pad_left, #int)
      pad_right = math.max(pad_right, #frac)
    end
  end
  if any_nonfinite then
    local offset = pad_right + 1
    pad_left = math.max(pad_left, 3 - offset, 3 + (neginf and 1 or 0) - offset)
  end

  return function(x)
    if not is_finite(x) then
      local s = nonfinite_str(x)
      return (" "):rep(pad_left + pad_right + 1 - #s) .. s
    end
    if exp_format then
      -- every value gets `precision` digits: past its unique ones, the exact value's digits
      -- (NumPy's min_digits), i.e. the value correctly rounded to that many digits
      local int, frac, e = string.format("%." .. precision .. "e", x):match("^(%-?%d)%.?(%d*)e([-+]%d+)$")
      return lpad(int, pad_left) .. "." .. frac .. exp_str(tonumber(e), exp_size)
    end
    local int, frac = positional(x, dtype, PRECISION, true)
    return lpad(int, pad_left) .. "." .. rpad(frac, pad_right)
  end
end

-- uint64 values past math.maxinteger arrive as floats (the nearest double).
local function int_str(x)
  return math.type(x) == "integer" and string.format("%d", x) or string.format("%.0f", x)
end

local function int_formatter(values)
  local width = 0
  for _, x in ipairs(values) do width = math.max(width, #int_str(x)) end
  return function(x) return lpad(int_str(x), width) end
end

local function bool_formatter(rank)
  local truestr = rank > 0 and " True" or "True"
  return function(x) return x and truestr or "False" end
end

local function formatter(values, dtype, rank)
  if dtype == "bool" then return bool_formatter(rank) end
  if FLOAT[dtype] then return float_formatter(values, dtype) end
  return int_formatter(values)
end

-- A 0-d tensor's str: NumPy's scalar str (Python float repr rules on the dtype's digits).
local function scalar_str(x, dtype)
  if dtype == "bool" then return x and "True" or "False" end
  if not FLOAT[dtype] then return int_str(x) end
  if not is_finite(x) then return nonfinite_str(x) end
  local a = math.abs(x)
  if a == 0 or (a >= 1e-4 and a < 1e16) then
    local int, frac = positional(x, dtype)
    return int .. "." .. (frac == "" and "0" or frac)
  end
  local int, frac, e = scientific(x, dtype)
  return int .. (frac == "" and "" or "." .. frac) .. exp_str(e, 2)
end

-- }===================================================================

-- {===================================================================
-- Array layout (NumPy's _formatArray)
-- ====================================================================

-- The values NumPy keeps when summarizing (its _leading_trailing): along every axis longer than
-- 2 * EDGEITEMS only the first and last EDGEITEMS, in C order. Walks row views (t[i] on the
-- first axis is a view), so nothing of a large tensor is copied.
local function edge_values(t, rank, depth, out)
  local n = #t
  local idx = {}
  if n > 2 * EDGEITEMS then
    for i = 1, EDGEITEMS do idx[#idx + 1] = i end
    for i = n - EDGEITEMS + 1, n do idx[#idx + 1] = i end
  else
    for i = 1, n do idx[i] = i end
  end
  for _, i in ipairs(idx) do
    if depth == rank then out[#out + 1] = t[i] else edge_values(t[i], rank, depth + 1, out) end
  end
  return out
end

local function flatten(v, out)
  if type(v) ~= "table" then
    out[#out + 1] = v
  else
    for _, x in ipairs(v) do flatten(x, out) end
  end
  return out
end

local function extend_line(s, line, word, width, prefix)
  local needs_wrap = #line + #word > width
  if #line <= #prefix then needs_wrap = false end -- wrapping would not help
  if needs_wrap then
    s = s .. line:gsub("%s+$", "") .. "\n"
    line = prefix
  end
  return s, line .. word
end

-- Lays out t as NumPy's array2string does; `sep` is " " (str) or ", " (repr).
local function format_array(t, sep, prefix, linewidth)
  local shape, dtype, rank = t:shape(), t:dtype(), t:rank()
  local summary = t:numel() > THRESHOLD
  local dshape = {}
  for axis = 1, rank do
    dshape[axis] = (summary and shape[axis] > 2 * EDGEITEMS) and 2 * EDGEITEMS or shape[axis]
  end
  local values = summary and edge_values(t, rank, 1, {}) or flatten(t:totable(), {})
  local fmt = formatter(values, dtype, rank)
  local sep_r = sep:gsub("%s+$", "")

  -- value at a 1-based index into the full shape, through the summarized data
  local function value_at(index)
    local flat = 0
    for axis = 1, rank do
      local i, n, dn = index[axis], shape[axis], dshape[axis]
      if n ~= dn and i > EDGEITEMS then i = i - n + dn end
      flat = flat * dn + (i - 1)
    end
    return values[flat + 1]
  end

  local function recurse(index, hanging, width)
    local axis = #index + 1
    local axes_left = rank - #index
    if axes_left == 0 then return fmt(value_at(index)) end
    local function child(i, h, w)
      index[axis] = i
      local r = recurse(index, h, w)
      index[axis] = nil
      return r
    end
    local next_hanging, next_width = hanging .. " ", width - 1
    local n = shape[axis]
    local show_summary = summary and 2 * EDGEITEMS < n
    local leading, trailing = 0, n
    if show_summary then leading, trailing = EDGEITEMS, EDGEITEMS end
    local s = ""
    if axes_left == 1 then
      local elem_width = width - math.max(#sep_r, 1)
      local line = hanging
      for i = 1, leading do
        s, line = extend_line(s, line, child(i), elem_width, hanging)
        line = line .. sep
      end
      if show_summary then
        s, line = extend_line(s, line, "...", elem_width, hanging)
        line = line .. sep
      end
      for i = trailing, 2, -1 do
        s, line = extend_line(s, line, child(n - i + 1), elem_width, hanging)
        line = line .. sep
      end
      s, line = extend_line(s, line, child(n), elem_width, hanging)
      s = s .. line
    else
      local line_sep = sep_r .. ("\n"):rep(axes_left - 1)
      for i = 1, leading do
        s = s .. hanging .. child(i, next_hanging, next_width) .. line_sep
      end
      if show_summary then s = s .. hanging .. "..." .. line_sep end
      for i = trailing, 2, -1 do
        s = s .. hanging .. child(n - i + 1, next_hanging, next_width) .. line_sep
      end
      s = s .. hanging .. child(n, next_hanging, next_width)
    end
    return "[" .. s:sub(#hanging + 1) .. "]"
  end

  return recurse({}, " " .. (" "):rep(#prefix), linewidth)
end

local function shape_str(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  return "(" .. table.concat(shape, ", ") .. ")"
end

-- }===================================================================

-- {===================================================================
-- Methods added to weightkit.Tensor
-- ====================================================================

-- tostring(t): NumPy's str(array).
meta.__tostring = function(t)
  if t:is_closed() then return "weightkit.Tensor (closed)" end
  if t:rank() == 0 then return scalar_str(t:item(), t:dtype()) end
  if t:numel() == 0 then return "[]" end
  return format_array(t, " ", "", LINEWIDTH)
end

-- t:repr(): NumPy's repr(array).
function methods.repr(t)
  if t:is_closed() then return "weightkit.Tensor (closed)" end
  local dtype, shape = t:dtype(), t:shape()
  local skip_dtype = IMPLIED[dtype] and t:numel() > 0
  local body
  if t:numel() > 0 then
    body = format_array(t, ", ", "array(", LINEWIDTH - 1)
  elseif #shape == 1 then
    body = "[]"
  else
    body = "[], shape=" .. shape_str(shape)
  end
  if skip_dtype then return "array(" .. body .. ")" end
  local s = "array(" .. body .. ","
  local dtype_str = "dtype=" .. dtype .. ")"
  local last_line = #s - (s:match(".*()\n") or 0)
  if last_line + #dtype_str + 1 > LINEWIDTH then
    return s .. "\n" .. (" "):rep(#"array(") .. dtype_str
  end
  return s .. " " .. dtype_str
end

-- }===================================================================

local M = {
  api = {
    tensor = core.tensor,
    zeros = core.zeros,
    ones = core.ones,
    full = core.full,
    from_bytes = core.from_bytes,
    concat = core.concat,
    matmul = core.matmul,
    maximum = core.maximum,
    minimum = core.minimum,
    is_tensor = core.is_tensor,
    dtypes = core.dtypes,
    rng = core.rng,
  },
}

return M
