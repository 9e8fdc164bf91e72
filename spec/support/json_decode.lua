--[[
The JSON decoder the specs use (expected/*.json fixtures, `weightkit inspect --json` output): weightkit's
own (lua/weightkit/json.lua), callable.

  decode(text) -> value      objects -> tables, arrays -> tables (1-based), null -> decode.null
]]
local json = require "weightkit.json"

local M = { null = json.null, decode = json.decode }

setmetatable(M, { __call = function(_, text) return json.decode(text) end })

return M
