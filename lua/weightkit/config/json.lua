--[[
weightkit.config.json — weightkit.json as the config code uses it.

  decode(text) -> value     weightkit.json.decode; a malformed text raises
                            "ValueError: invalid model config JSON: ..."
  null                      weightkit.json.null
  order(t) -> {keys}        a decoded (or ordered) object's keys in order; nil for arrays and others
  is_object(t)              t is a decoded / ordered object
  object(t, keys)           gives t the order `keys` (the decoded-object and Layer:get_config
                            convention: a metatable {__order = keys}); returns t

Facts the config code relies on (weightkit.json's decoder): objects keep their key order, null stays
the `null` sentinel (an opaque layer echoes its config verbatim), "1.0" comes back as a float and "1"
as an integer (Python's int/float split survives a round trip).
]]
local errors = require "weightkit.errors"
local base = require "weightkit.json"

local M = {}
M.null = base.null

function M.object(t, keys)
  return setmetatable(t, {__order = keys})
end

function M.order(t)
  local mt = type(t) == "table" and getmetatable(t)
  return mt and mt.__order or nil
end

function M.is_object(t)
  return M.order(t) ~= nil
end

function M.decode(text)
  if type(text) ~= "string" then errors.type_error("model config JSON must be a string") end
  local ok, v = pcall(base.decode, text, "model config")
  if not ok then errors.value_error("invalid model config JSON: " .. tostring(v)) end
  return v
end

return M
