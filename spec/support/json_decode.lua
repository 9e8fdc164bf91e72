--[[
A tiny JSON decoder for the specs (expected/*.json fixtures, `weightkit inspect --json` output).

  decode(text) -> value      objects -> tables, arrays -> tables (1-based), null -> decode.null
Also accepts Python's json extensions NaN, Infinity, -Infinity. \uXXXX escapes (surrogate pairs
joined) become UTF-8; a lone surrogate \udcXX (surrogateescape) becomes the raw byte XX.
Raises "json: <what> at byte N" on malformed input.
]]
local M = {}

M.null = setmetatable({}, { __tostring = function() return "null" end })

local function fail(what, pos) error(string.format("json: %s at byte %d", what, pos), 0) end

local ESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local parse

local function parse_string(s, i) -- s:sub(i, i) == '"'
  local out, j = {}, i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then fail("unterminated string", i) end
    out[#out + 1] = s:sub(j, k - 1)
    if s:sub(k, k) == '"' then return table.concat(out), k + 1 end
    local e = s:sub(k + 1, k + 1)
    if ESC[e] then
      out[#out + 1] = ESC[e]
      j = k + 2
    elseif e == "u" then
      local hex = s:sub(k + 2, k + 5)
      if not hex:match("^%x%x%x%x$") then fail("bad \\u escape", k) end
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
      fail("bad escape", k)
    end
  end
end

parse = function(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      i = skip(s, i)
      if s:sub(i, i) ~= '"' then fail("expected a key", i) end
      local key
      key, i = parse_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then fail("expected ':'", i) end
      obj[key], i = parse(s, i + 1)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then fail("expected ',' or '}'", i) end
      i = i + 1
    end
  elseif c == "[" then
    local arr, n = {}, 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return arr, i + 1 end
    while true do
      n = n + 1
      arr[n], i = parse(s, i)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return arr, i + 1 end
      if d ~= "," then fail("expected ',' or ']'", i) end
      i = i + 1
    end
  elseif c == '"' then
    return parse_string(s, i)
  elseif s:find("^true", i) then return true, i + 4
  elseif s:find("^false", i) then return false, i + 5
  elseif s:find("^null", i) then return M.null, i + 4
  elseif s:find("^NaN", i) then return 0 / 0, i + 3
  elseif s:find("^Infinity", i) then return math.huge, i + 8
  elseif s:find("^%-Infinity", i) then return -math.huge, i + 9
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not num or num == "" or num == "-" then fail("unexpected character", i) end
    local v
    if num:find("[.eE]") then v = tonumber(num) else v = math.tointeger(tonumber(num)) or tonumber(num) end
    if v == nil then fail("bad number", i) end
    return v, i + #num
  end
end

function M.decode(text)
  local v, i = parse(text, 1)
  i = skip(text, i)
  if i <= #text then fail("trailing characters", i) end
  return v
end

setmetatable(M, { __call = function(_, text) return M.decode(text) end })

return M
