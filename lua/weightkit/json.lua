--[[
weightkit.json — a small JSON encoder and decoder (no external modules).

  json.encode(value [, {indent = n}]) -> text      compact by default; indent > 0 pretty-prints
                                                   (arrays of numbers stay on one line)
  json.decode(text [, name]) -> value              raises "<name>: invalid JSON: <what> at byte N"
  json.keys(object) -> {key, ...}                  a decoded object's keys in document order
  json.null                                        encodes as null
  json.object{ {key, value}, ... }                 an object whose keys keep the given order
  json.array(t)                                    marks t as an array (an empty table already is one)

Values: nil/json.null -> null, booleans, numbers (integers exactly; floats with 17 significant digits,
NaN and infinities raise), strings, tables. A plain table with only keys 1..n (or none) is an array; a
plain table with string keys is an object with its keys sorted (deterministic output). Mixed or other
keys raise. A table whose metatable has `__order` (a list of keys; every decoded object has one) is
an object written in that order (keys missing from the list follow, sorted).

DECODING. Objects become plain tables with a metatable {__order = keys in document order} (a repeated
key keeps its last value, as Python's json does); arrays become json.array tables; null becomes
json.null (so array holes and absent keys stay apart). Integers stay integers (math.tointeger), other
numbers are floats; NaN, Infinity and -Infinity are accepted (Python writes them). \uXXXX escapes
become UTF-8 (surrogate pairs joined; a lone \udcXX, surrogateescape, is the raw byte XX). Nesting
deeper than 512 levels is refused (configs are shallow; a hostile file must not exhaust the C stack).

STRINGS. Names in weight files can hold any bytes. `"` and `\` are escaped, control characters
U+0000..U+001F and U+007F become \uXXXX (\n, \t, \r, \b, \f short forms), valid UTF-8 passes through
unchanged. A byte that is not part of valid UTF-8 becomes \udcXX (PEP 383's surrogateescape, what
Python's json.dumps writes for such a name decoded with errors="surrogateescape"), so nothing is lost.
]]
local M = {}

M.null = setmetatable({}, { __name = "weightkit.json.null", __tostring = function() return "null" end })

local OBJECT = {}
local ARRAY = {}

function M.object(pairs_list)
  return setmetatable({ pairs = pairs_list }, OBJECT)
end

function M.array(t)
  return setmetatable(t, ARRAY)
end

local SHORT = { ["\""] = "\\\"", ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r",
  ["\b"] = "\\b", ["\f"] = "\\f" }

local function escape_ascii(s)
  return (s:gsub("[%c\"\\]", function(c)
    return SHORT[c] or string.format("\\u%04x", c:byte())
  end))
end

-- The length of the valid UTF-8 sequence starting at byte i of s, or nil.
local function utf8_seq(s, i)
  local c = s:byte(i)
  local n, min
  if c < 0x80 then return 1
  elseif c >= 0xC2 and c <= 0xDF then n, min = 2, 0x80
  elseif c >= 0xE0 and c <= 0xEF then n, min = 3, 0x800
  elseif c >= 0xF0 and c <= 0xF4 then n, min = 4, 0x10000
  else return nil end
  local cp = c & (0x7F >> n)
  for k = 1, n - 1 do
    local b = s:byte(i + k)
    if not b or b & 0xC0 ~= 0x80 then return nil end
    cp = (cp << 6) | (b & 0x3F)
  end
  if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil end
  return n
end

local function quote(s)
  if not s:find('[%c"\\\128-\255]') then return "\"" .. s .. "\"" end -- the common case
  if utf8.len(s) then return "\"" .. escape_ascii(s) .. "\"" end
  local out, i, n = {}, 1, #s
  while i <= n do
    local len = utf8_seq(s, i)
    if len then
      out[#out + 1] = escape_ascii(s:sub(i, i + len - 1))
      i = i + len
    else
      out[#out + 1] = string.format("\\udc%02x", s:byte(i))
      i = i + 1
    end
  end
  return "\"" .. table.concat(out) .. "\""
end
M.quote = quote

local function number(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v or v == math.huge or v == -math.huge then
    error("weightkit.json: cannot encode " .. tostring(v), 0)
  end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%.1f", v) end
  local s = string.format("%.17g", v)
  -- the shortest of %.15g / %.16g / %.17g that reads back exactly
  for _, p in ipairs{ 15, 16 } do
    local t = string.format("%." .. p .. "g", v)
    if tonumber(t) == v then s = t; break end
  end
  return s
end

local function kind(t)
  local mt = getmetatable(t)
  if mt == OBJECT then return "object" end
  if mt == ARRAY then return "array" end
  if mt and mt.__order then return "ordered_object" end
  local n = #t
  local count, strings = 0, true
  for k in pairs(t) do
    count = count + 1
    if type(k) ~= "string" then strings = false end
  end
  if count == n then return "array" end
  if strings then return "plain_object" end
  error("weightkit.json: a table mixes array and object keys", 0)
end

-- Newline plus `n` spaces, cached.
local NEWLINES = setmetatable({}, { __index = function(t, n)
  local s = "\n" .. string.rep(" ", n)
  t[n] = s
  return s
end })

-- Appends v's text to buf (one flat buffer: no per-level string copies).
local function encode(v, buf, depth, indent, seen)
  local tv = type(v)
  if v == nil or v == M.null then buf[#buf + 1] = "null"; return end
  if tv == "boolean" then buf[#buf + 1] = v and "true" or "false"; return end
  if tv == "number" then buf[#buf + 1] = number(v); return end
  if tv == "string" then buf[#buf + 1] = quote(v); return end
  if tv ~= "table" then error("weightkit.json: cannot encode a " .. tv, 0) end
  if seen[v] then error("weightkit.json: a table contains itself", 0) end
  seen[v] = true
  local k = kind(v)
  -- members: `list` holds {key, value} pairs (objects), or `keys`/`values` (plain tables, arrays)
  local list, keys, values, n
  if k == "array" then
    n = #v
    local flat = indent ~= nil -- arrays of numbers (shapes) stay on one line when pretty-printing
    for i = 1, n do
      if type(v[i]) ~= "number" then flat = false; break end
    end
    if flat then
      local parts = {}
      for i = 1, n do parts[i] = number(v[i]) end
      buf[#buf + 1] = "[" .. table.concat(parts, ", ") .. "]"
      seen[v] = nil
      return
    end
    values = v
  elseif k == "object" then
    list = v.pairs
    n = #list
  elseif k == "ordered_object" then
    keys = M.keys(v)
    values = {}
    n = #keys
    for i, key in ipairs(keys) do values[i] = v[key] end
  else
    keys, values = {}, {}
    for key in pairs(v) do keys[#keys + 1] = key end
    table.sort(keys)
    n = #keys
    for i, key in ipairs(keys) do values[i] = v[key] end
  end
  local is_object = k ~= "array"
  local open, close = is_object and "{" or "[", is_object and "}" or "]"
  if n == 0 then
    buf[#buf + 1] = open .. close
    seen[v] = nil
    return
  end
  local pad, sep = ",", ":"
  if indent then pad, sep = "," .. NEWLINES[indent * (depth + 1)], ": " end
  buf[#buf + 1] = indent and open .. pad:sub(2) or open
  for i = 1, n do
    if i > 1 then buf[#buf + 1] = pad end
    local value
    if list then
      local p = list[i]
      buf[#buf + 1] = quote(tostring(p[1])) .. sep
      value = p[2]
    else
      if keys then buf[#buf + 1] = quote(keys[i]) .. sep end
      value = values[i]
    end
    encode(value, buf, depth + 1, indent, seen)
  end
  buf[#buf + 1] = indent and (NEWLINES[indent * depth] .. close) or close
  seen[v] = nil
end

-- The keys of a table with an __order metatable: the listed ones present, then the others sorted.
function M.keys(t)
  local mt = getmetatable(t)
  local keys, listed = {}, {}
  for _, key in ipairs(mt and mt.__order or {}) do
    if t[key] ~= nil and not listed[key] then
      keys[#keys + 1] = key
      listed[key] = true
    end
  end
  local rest = {}
  for key in pairs(t) do
    if not listed[key] then rest[#rest + 1] = key end
  end
  table.sort(rest, function(a, b) return tostring(a) < tostring(b) end)
  for _, key in ipairs(rest) do keys[#keys + 1] = key end
  return keys
end

function M.encode(value, options)
  local indent = options and options.indent
  if indent ~= nil and indent <= 0 then indent = nil end
  local buf = {}
  encode(value, buf, 0, indent, {})
  return table.concat(buf)
end

--{=====================================================================================================
-- Decoding
--======================================================================================================

local MAX_DEPTH = 512

local function decode_error(state, what, pos)
  error(string.format("%s: invalid JSON: %s at byte %d", state.name, what, pos), 0)
end

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_string(state, i) -- s:sub(i, i) == '"'
  local s, out, j = state.text, {}, i + 1
  while true do
    local k = s:find('["\\%c]', j)
    if not k then decode_error(state, "unterminated string", i) end
    out[#out + 1] = s:sub(j, k - 1)
    local c = s:sub(k, k)
    if c == '"' then return table.concat(out), k + 1 end
    if c ~= "\\" then decode_error(state, "control character in a string", k) end
    local e = s:sub(k + 1, k + 1)
    if ESCAPES[e] then
      out[#out + 1] = ESCAPES[e]
      j = k + 2
    elseif e == "u" then
      local hex = s:sub(k + 2, k + 5)
      if not hex:match("^%x%x%x%x$") then decode_error(state, "bad \\u escape", k) end
      local cp = tonumber(hex, 16)
      j = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
        local lo = tonumber(s:sub(j + 2, j + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
          j = j + 6
        end
      end
      if cp >= 0xDC80 and cp <= 0xDCFF then out[#out + 1] = string.char(cp - 0xDC00)
      else out[#out + 1] = utf8.char(cp) end
    else
      decode_error(state, "bad escape", k)
    end
  end
end

local decode_value

local function decode_object(state, i, depth)
  local s, obj, order = state.text, {}, {}
  i = skip(s, i + 1)
  if s:sub(i, i) == "}" then return setmetatable(obj, { __order = order }), i + 1 end
  while true do
    i = skip(s, i)
    if s:sub(i, i) ~= '"' then decode_error(state, "expected a key", i) end
    local key
    key, i = decode_string(state, i)
    i = skip(s, i)
    if s:sub(i, i) ~= ":" then decode_error(state, "expected ':'", i) end
    if obj[key] == nil then order[#order + 1] = key end
    obj[key], i = decode_value(state, i + 1, depth + 1)
    i = skip(s, i)
    local d = s:sub(i, i)
    if d == "}" then return setmetatable(obj, { __order = order }), i + 1 end
    if d ~= "," then decode_error(state, "expected ',' or '}'", i) end
    i = i + 1
  end
end

local function decode_array(state, i, depth)
  local s, arr, n = state.text, {}, 0
  i = skip(s, i + 1)
  if s:sub(i, i) == "]" then return M.array(arr), i + 1 end
  while true do
    n = n + 1
    arr[n], i = decode_value(state, i, depth + 1)
    i = skip(s, i)
    local d = s:sub(i, i)
    if d == "]" then return M.array(arr), i + 1 end
    if d ~= "," then decode_error(state, "expected ',' or ']'", i) end
    i = i + 1
  end
end

local LITERALS = { { "true", true }, { "false", false }, { "null", M.null }, { "NaN", 0 / 0 },
  { "Infinity", math.huge }, { "-Infinity", -math.huge } }

decode_value = function(state, i, depth)
  if depth > MAX_DEPTH then decode_error(state, "nested deeper than " .. MAX_DEPTH .. " levels", i) end
  local s = state.text
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then return decode_object(state, i, depth) end
  if c == "[" then return decode_array(state, i, depth) end
  if c == '"' then return decode_string(state, i) end
  for _, lit in ipairs(LITERALS) do
    if s:sub(i, i + #lit[1] - 1) == lit[1] then return lit[2], i + #lit[1] end
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  local v = num and tonumber(num)
  if v == nil then decode_error(state, c == "" and "unexpected end" or "unexpected character", i) end
  if not num:find("[.eE]") then v = math.tointeger(v) or v end
  return v, i + #num
end

function M.decode(text, name)
  if type(text) ~= "string" then error("weightkit.json.decode: text must be a string", 2) end
  local state = { text = text, name = name or "json" }
  local v, i = decode_value(state, 1, 0)
  i = skip(text, i)
  if i <= #text then decode_error(state, "trailing characters", i) end
  return v
end

return M
