--[[
weightkit.loading — Keras 2 HDF5 weight loading policy: `require "weightkit.loading"` gives
load_weights / load_into / set_opener (load.lua) plus the pieces: topological, by_name, conversions, report.
]]
local load = require "weightkit.loading.load"

return {
  load_weights = load.load_weights,
  load_into = load.load_into,
  set_opener = load.set_opener,
  topological = require "weightkit.loading.topological",
  by_name = require "weightkit.loading.by_name",
  conversions = require "weightkit.loading.conversions",
  report = require "weightkit.loading.report",
}
