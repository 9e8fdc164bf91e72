--[[
weightkit.loading.report — the table every load returns (design.md §3).

  report.mode            "topological" | "by_name" | "keras3" (weightkit.keras3.load)
  report.skip_mismatch   boolean
  report.keras_version   the file's keras_version ("1" when absent, as Keras reads it)
  report.backend         the file's backend attribute or nil
  report.matched   { {file = "dense_1", layer = "dense", weights = { {name = "dense/kernel:0",
                      file = "dense_1/kernel:0", shape = {3, 4}}, ... }}, ... }
                   one entry per (file layer, model layer) pair that received at least one weight;
                   top-level weights appear as {file = "top_level_model_weights", layer = <model name>,
                   top_level = true, ...}
  report.renamed   { {file = "dense_1", layer = "dense"}, ... }  pairs whose names differ (topological)
  report.converted { {layer = "lstm" | "bidirectional/forward_lstm", file = "lstm_1", kind = "keras1_lstm",
                      reason = "..."}, ... }
  report.skipped   { {file =, layer =, weight = (nil for a whole layer), expected = shape | count,
                      received = shape | count, reason = "shape mismatch" | "weight count mismatch",
                      message = <the warning text>}, ... }
  report.missing   { "dense_2", ... }  model layers with weights that received nothing
  report.unused    { "dense_9", ... }  file layers holding weights whose values went nowhere
  report.warnings  { "<text>", ... }   every warning also handed to the errors.lua sink

Keras 3 loads (mode "keras3") fill the same lists keyed by object paths: matched entries are
  {file = "layers/dense" (the vars group, '/'-separated), layer = <object name>, path = <object path>,
  partial = true | nil, weights = { {name = "dense/kernel:0", file = "layers/dense/vars/0", shape}, ...}}
  (partial: the object failed after these weights were assigned, as Keras assigns one by one);
  skipped entries (only with skip_mismatch; otherwise the load raises) add path, assigned (weights of
  that object assigned before the failure) and reason "weight count mismatch" | "shape mismatch" |
  "never built" | "missing dataset" | "read error" | "error"; missing = object paths with variables
  and no group; unused = groups holding datasets that no object took ("optimizer", metrics groups).
  report.source names the file (the index for a sharded load), report.format its wk.open format
  ("keras3-sharded" for a `.weights.json` index).

`tostring(report)` prints these as a readable table.
]]
local shape_str = require("weightkit.naming").shape_str
local errors = require "weightkit.errors"

local Report = {}
Report.__index = Report
Report.__name = "weightkit.LoadReport"

local M = { Report = Report }

function M.new(mode, skip_mismatch)
  return setmetatable({
    mode = mode,
    skip_mismatch = skip_mismatch and true or false,
    matched = {}, renamed = {}, converted = {}, skipped = {},
    missing = {}, unused = {}, warnings = {},
  }, Report)
end

function M.is_report(v) return getmetatable(v) == Report end

-- A warning Keras would print: to the sink and into the report.
function Report:warn(msg)
  self.warnings[#self.warnings + 1] = msg
  errors.warn(msg)
end

function Report:add_converted(file_name, path, kind, reason)
  self.converted[#self.converted + 1] = { file = file_name, layer = path, kind = kind, reason = reason }
end

function Report:add_skipped(entry)
  self.skipped[#self.skipped + 1] = entry
end

function Report:add_matched(entry)
  self.matched[#self.matched + 1] = entry
end

local function size_str(v)
  if type(v) == "table" then return shape_str(v) end
  return tostring(v)
end

local function line(out, fmt, ...)
  out[#out + 1] = string.format(fmt, ...)
end

function Report:__tostring()
  local out = {}
  local n_weights = 0
  for _, m in ipairs(self.matched) do n_weights = n_weights + #m.weights end
  line(out, "load_weights report (%s%s)", self.mode, self.skip_mismatch and ", skip_mismatch" or "")
  if self.source then line(out, "  file: %s%s", self.source, self.format and (" (" .. self.format .. ")") or "") end
  if self.keras_version then
    line(out, "  file: keras_version %s, backend %s", self.keras_version, tostring(self.backend))
  end
  line(out, "matched: %d layer(s), %d weight(s)", #self.matched, n_weights)
  for _, m in ipairs(self.matched) do
    local arrow = (m.file == m.layer) and m.layer or (m.file .. " -> " .. m.layer)
    line(out, "  %s%s", arrow, m.partial and " (partial: the rest of this object failed)" or "")
    for _, w in ipairs(m.weights) do
      line(out, "    %-40s %s", w.name, shape_str(w.shape))
    end
  end
  if #self.renamed > 0 then
    line(out, "renamed: %d", #self.renamed)
    for _, r in ipairs(self.renamed) do line(out, "  %s -> %s", r.file, r.layer) end
  end
  if #self.converted > 0 then
    line(out, "converted: %d", #self.converted)
    for _, c in ipairs(self.converted) do line(out, "  %s [%s]: %s", c.layer, c.kind, c.reason) end
  end
  if #self.skipped > 0 then
    line(out, "skipped: %d", #self.skipped)
    for _, s in ipairs(self.skipped) do
      local where = s.path and s.path ~= s.layer and (" [" .. s.path .. "]") or ""
      if s.expected ~= nil then
        line(out, "  %s%s%s: expected %s, file %s (%s)", s.layer, where, s.weight and (" " .. s.weight) or "",
          size_str(s.expected), size_str(s.received), s.reason)
      else
        line(out, "  %s%s%s: %s", s.layer, where, s.weight and (" " .. s.weight) or "", s.reason)
      end
      if s.assigned and s.assigned > 0 then
        line(out, "    (%d weight(s) of this object assigned before the failure)", s.assigned)
      end
    end
  end
  if #self.missing > 0 then line(out, "missing: %s", table.concat(self.missing, ", ")) end
  if #self.unused > 0 then line(out, "unused: %s", table.concat(self.unused, ", ")) end
  -- TF checkpoints: optimizer state and slot variables are listed apart (counts: they can be many)
  if self.optimizer and #self.optimizer > 0 then line(out, "optimizer values ignored: %d", #self.optimizer) end
  if self.slots and #self.slots > 0 then line(out, "optimizer slot variables ignored: %d", #self.slots) end
  if #self.warnings > 0 then
    line(out, "warnings: %d", #self.warnings)
    for _, w in ipairs(self.warnings) do line(out, "  %s", w) end
  end
  return table.concat(out, "\n")
end

return M
