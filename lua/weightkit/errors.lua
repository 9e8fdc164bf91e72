--[[
weightkit.errors — Keras-style errors and the warnings sink.

Errors: `errors.raise(kind, msg)` raises the string `kind .. ": " .. msg` at level 0, so the text is
exactly what Keras prints (no Lua position prefix), e.g. `ValueError: Layer dense weight shape (3, 1) is
not compatible with provided weight shape (3, 2).`. Shorthands: errors.value_error(msg),
errors.type_error(msg), errors.not_implemented(msg). Callers match with `err:match("^ValueError: ")`.
`errors.kind(err)` returns the class prefix of such a string ("ValueError") or nil.
`errors.check_keywords(fname, options, known)` checks an options table like Python keyword arguments:
nil gives {}, a non-table or a key not in `known` raises TypeError with Python's text
("save_weights() got an unexpected keyword argument 'x'"); returns the options.

Warnings: `errors.warn(msg)` hands the text to the current sink (default: stderr, "WARNING: msg\n").
`errors.set_warning_sink(fn)` installs fn(msg) (nil restores stderr) and returns the previous sink;
`errors.capture_warnings(fn, ...)` runs fn with a collecting sink and returns the list of messages
followed by fn's results (the previous sink is restored even if fn raises).
]]
local naming = require "weightkit.naming"

local M = {}

M.shape_str = naming.shape_str

function M.raise(kind, msg)
  error(kind .. ": " .. msg, 0)
end

function M.value_error(msg) M.raise("ValueError", msg) end
function M.type_error(msg) M.raise("TypeError", msg) end
function M.not_implemented(msg) M.raise("NotImplementedError", msg) end

function M.check_keywords(fname, options, known)
  if options == nil then return {} end
  if type(options) ~= "table" then
    M.type_error(fname .. "() options must be a table, got " .. type(options))
  end
  for key in pairs(options) do
    if not known[key] then
      M.type_error(fname .. "() got an unexpected keyword argument '" .. tostring(key) .. "'")
    end
  end
  return options
end

function M.kind(err)
  if type(err) ~= "string" then return nil end
  return err:match("^(%u%w*Error): ") or err:match("^(%u%w*Exception): ")
end

local function stderr_sink(msg)
  io.stderr:write("WARNING: ", msg, "\n")
end

local sink = stderr_sink

function M.warn(msg)
  sink(msg)
end

function M.set_warning_sink(fn)
  local prev = sink
  sink = fn or stderr_sink
  return prev
end

function M.get_warning_sink() return sink end

function M.capture_warnings(fn, ...)
  local got = {}
  local prev = M.set_warning_sink(function(msg) got[#got + 1] = msg end)
  local res = table.pack(pcall(fn, ...))
  sink = prev
  if not res[1] then error(res[2], 0) end
  return got, table.unpack(res, 2, res.n)
end

return M
