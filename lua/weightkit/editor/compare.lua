--[[
weightkit.editor.compare — the editor's objects against a model (KerasFileEditor.compare), paired by
the rules the model's loader uses for the editor's format. Nothing is assigned to the model.

  compare.compare(state, model, {by_name = false}) -> report
    report = {
      mode = "topological" | "by_name" | "keras3" | "tf-checkpoint",
      ok = true when everything pairs (no missing, unexpected, count or shape mismatch),
      matched        = { {object =, layer =, weights = { {name = <model variable>, file = <file weight>,
                          shape}, ...}}, ... }
      missing        = { <model layer / object path / variable name that gets nothing>, ... }
      unexpected     = { <file object (TF: checkpoint key) whose values nothing takes>, ... }
      count_mismatch = { {object =, layer =, expected = <model count>, received = <file count>}, ... }
      shape_mismatch = { {object =, layer =, weight =, file_weight =, expected = shape, received = shape}, ... }
      optimizer      = { <optimizer / metrics objects or keys: never expected by a model>, ... }
      converted      = { ... }   Keras 2 only: the legacy conversions the load would apply (report.lua)
      layer_count    = {model = m, file = n} | nil   Keras 2 topological: the counts differ (Keras
                        would raise "Layer count mismatch"); the pairs are then made by name
    }
    tostring(report) prints a table.

PAIRING PER SCHEME:
  - Keras 2: weightkit.loading.pair (the conversions, count and shape checks of load_weights) on the
    pairs tf.keras makes: topological = the k-th model layer with weights with the k-th file layer
    with weights; by_name = equal names; the model's own weights with top_level_model_weights.
  - Keras 3: the Keras 3 walk of the model (keras3/paths.lua) looked up in the objects as the Keras 3
    loader's store does (keras3/store.lua: `_layer_checkpoint_dependencies` fallback); counts, then
    shapes in order.
  - TF: the checkpoint key of every model variable (tfckpt/graph.lua, the keys tf.keras writes) looked
    up among the keys the editor would write (editor/save.lua). tf's restore walks the graph by
    names; for Keras models whose first paths are the keys, both give the same pairs.
  - safetensors: no model loader reads it; NotImplementedError.
]]
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local common = require "weightkit.loading.common"
local messages = require "weightkit.loading.messages"
local pair = require "weightkit.loading.pair"
local paths = require "weightkit.keras3.paths"
local store_mod = require "weightkit.keras3.store"
local graph = require "weightkit.tfckpt.graph"
local save = require "weightkit.editor.save"
local source = require "weightkit.editor.source"

local shape_str = naming.shape_str
local same_shape = naming.same_shape

local M = {}

local Report = {}
Report.__index = Report
Report.__name = "weightkit.CompareReport"

local function new_report(mode)
  return setmetatable({ mode = mode, matched = {}, missing = {}, unexpected = {}, count_mismatch = {},
    shape_mismatch = {}, optimizer = {}, converted = {} }, Report)
end

local function finish(r)
  r.ok = #r.missing == 0 and #r.unexpected == 0 and #r.count_mismatch == 0 and #r.shape_mismatch == 0
    and r.layer_count == nil
  return r
end

function Report:__tostring()
  local out = { string.format("compare (%s): %s", self.mode, self.ok and "everything pairs" or "differences") }
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  if self.layer_count then
    add("  layer count: the model has %d layers with weights, the file %d (paired by name below)",
      self.layer_count.model, self.layer_count.file)
  end
  local n = 0
  for _, m in ipairs(self.matched) do n = n + #m.weights end
  add("  matched: %d weight(s) in %d object(s)", n, #self.matched)
  for _, c in ipairs(self.count_mismatch) do
    add("  count mismatch: %s -> %s: the model expects %d weight(s), the file has %d", c.object, c.layer,
      c.expected, c.received)
  end
  for _, s in ipairs(self.shape_mismatch) do
    add("  shape mismatch: %s -> %s: %s: model %s, file %s", s.object, s.layer, tostring(s.weight),
      shape_str(s.expected), shape_str(s.received))
  end
  if #self.missing > 0 then add("  missing in the file: %s", table.concat(self.missing, ", ")) end
  if #self.unexpected > 0 then add("  not used by the model: %s", table.concat(self.unexpected, ", ")) end
  if #self.optimizer > 0 then add("  optimizer / metrics state (ignored): %s", table.concat(self.optimizer, ", ")) end
  return table.concat(out, "\n") .. "\n"
end

local function is_aside(obj) return obj.optimizer or obj.metrics end

--{=====================================================================================================
-- Keras 2
--======================================================================================================

local function keras2(state, model, by_name)
  local layers, top = {}, nil
  local r = new_report(by_name and "by_name" or "topological")
  for _, obj in ipairs(state.objects) do
    if is_aside(obj) then
      if #obj.weights > 0 then r.optimizer[#r.optimizer + 1] = obj.name end
    else
      local weights = {}
      for i, rec in ipairs(obj.weights) do
        weights[i] = { name = rec.name, tensor = save.tensor_of(state, obj, rec) }
      end
      if obj.top_level then top = weights else layers[#layers + 1] = { name = obj.name, weights = weights } end
    end
  end
  local file = { keras_version = state.keras_version, backend = state.backend, top_level_weights = top,
    layers = function() return layers end }
  local lr, info = common.start(r.mode, file, true)
  local model_layers, legacy = {}, {}
  for _, layer in ipairs(model.layers or {}) do
    legacy[layer] = common.legacy_weights(layer)
    if #legacy[layer] > 0 then model_layers[#model_layers + 1] = layer end
  end
  local file_layers = {}
  for _, fl in ipairs(info.layers) do
    if #fl.weights > 0 then file_layers[#file_layers + 1] = fl end
  end
  local pairs_list = {}
  if not by_name and #file_layers ~= #model_layers then
    r.layer_count = { model = #model_layers, file = #file_layers }
    by_name = true
  end
  if by_name then
    local index = {}
    for _, l in ipairs(model.layers or {}) do
      if l.name and index[l.name] == nil then index[l.name] = l end
    end
    for _, fl in ipairs(info.layers) do
      if index[fl.name] then pairs_list[#pairs_list + 1] = { fl, index[fl.name] } end
    end
  else
    for i, fl in ipairs(file_layers) do pairs_list[i] = { fl, model_layers[i] } end
  end
  local plan, fed, used = common.new_plan(), {}, {}
  local texts = {
    count_error = function(m, n) return messages.layer_count(m, n) end,
    shape_error = function() return "" end,
  }
  for k, p in ipairs(pairs_list) do
    local fl, layer = p[1], p[2]
    local n = pair.load{ report = lr, plan = plan, layer = layer, file_layer = fl, info = info, index = k - 1,
      skip_mismatch = true, weights = legacy[layer], texts = texts }
    if n > 0 then fed[layer], used[fl.name] = true, true end
  end
  pair.load_top_level{ report = lr, plan = plan, model = model, file_weights = info.top_level,
    skip_mismatch = true, texts = texts }
  common.finish(lr, model_layers, info.layers, fed, used)
  for _, m in ipairs(lr.matched) do
    r.matched[#r.matched + 1] = { object = m.file, layer = m.layer, weights = m.weights }
  end
  for _, s in ipairs(lr.skipped) do
    if s.reason == "weight count mismatch" then
      r.count_mismatch[#r.count_mismatch + 1] = { object = s.file, layer = s.layer, expected = s.expected,
        received = s.received }
    else
      r.shape_mismatch[#r.shape_mismatch + 1] = { object = s.file, layer = s.layer, weight = s.weight,
        file_weight = s.file_weight, expected = s.expected, received = s.received }
    end
  end
  r.missing, r.unexpected, r.converted = lr.missing, lr.unused, lr.converted
  if top == nil and #common.top_level_weights(model) > 0 then
    r.missing[#r.missing + 1] = "top_level_model_weights"
  end
  return r
end

--{=====================================================================================================
-- Keras 3
--======================================================================================================

local function keras3(state, model)
  local r = new_report("keras3")
  local list = {}
  for _, obj in ipairs(state.objects) do
    list[#list + 1] = { path = obj.top_level and "" or obj.name, weights = obj.weights, obj = obj }
  end
  local store = store_mod.new(list)
  local used = {}
  for _, e in ipairs(paths.objects(model)) do
    local g = store:get(e.path)
    local vars = e.variables
    if g then used[g] = true end
    local label = e.name or e.path
    if g == nil then
      if #vars > 0 then r.missing[#r.missing + 1] = e.path end
    elseif #g.weights ~= #vars then
      r.count_mismatch[#r.count_mismatch + 1] = { object = g.path, layer = label, expected = #vars,
        received = #g.weights }
    elseif #vars > 0 then
      local m = { object = g.path, layer = label, weights = {} }
      for i, v in ipairs(vars) do
        local rec = g.weights[i]
        if same_shape(v:shape(), rec.shape) then
          m.weights[#m.weights + 1] = { name = v.name, file = rec.name, shape = rec.shape }
        else
          r.shape_mismatch[#r.shape_mismatch + 1] = { object = g.path, layer = label,
            weight = paths.variable_name(v), file_weight = rec.name, expected = v:shape(), received = rec.shape }
        end
      end
      if #m.weights > 0 then r.matched[#r.matched + 1] = m end
    end
  end
  for _, g in ipairs(list) do
    if not used[g] and #g.weights > 0 then
      if is_aside(g.obj) then r.optimizer[#r.optimizer + 1] = g.path else r.unexpected[#r.unexpected + 1] = g.path end
    end
  end
  return r
end

--{=====================================================================================================
-- TF checkpoints
--======================================================================================================

local function tf(state, model)
  local r = new_report("tf-checkpoint")
  local entries = save.tf_spec(state, { shapes_only = true })
  local by_key, aside = {}, {}
  for _, obj in ipairs(state.objects) do aside[obj.name] = is_aside(obj) end
  for _, e in ipairs(entries) do
    if not e.attribute then by_key[e.key] = e end
  end
  local keys = graph.build(model).keys
  local used, last = {}, nil
  for _, v in ipairs(model:weights()) do
    local key = keys[v]
    local e = key and by_key[key]
    local layer = v.layer and v.layer.name or "?"
    if e == nil then
      r.missing[#r.missing + 1] = v.name
    elseif not same_shape(v:shape(), e.shape) then
      used[key] = true
      r.shape_mismatch[#r.shape_mismatch + 1] = { object = e.object, layer = layer, weight = v.name,
        file_weight = key, expected = v:shape(), received = e.shape }
    else
      used[key] = true
      if not last or last.layer ~= layer or last.object ~= e.object then
        last = { object = e.object, layer = layer, weights = {} }
        r.matched[#r.matched + 1] = last
      end
      last.weights[#last.weights + 1] = { name = v.name, file = key, shape = e.shape }
    end
  end
  for _, e in ipairs(entries) do
    if not e.attribute and not used[e.key] then
      if aside[e.object] then r.optimizer[#r.optimizer + 1] = e.key else r.unexpected[#r.unexpected + 1] = e.key end
    end
  end
  return r
end

function M.compare(state, model, opts)
  opts = errors.check_keywords("compare", opts, { by_name = true })
  if type(model) ~= "table" or model.layers == nil then
    errors.type_error("compare() expects a model (wk.Model, wk.Sequential, a loaded model), got " .. type(model))
  end
  local scheme = source.SCHEME[state.format]
  local r
  if scheme == "keras2" then
    -- the pair module warns as a load would; a comparison reports instead
    r = select(2, errors.capture_warnings(keras2, state, model, opts.by_name))
  elseif scheme == "keras3" then
    r = keras3(state, model)
  elseif scheme == "tf" then
    r = tf(state, model)
  else
    errors.not_implemented(string.format("compare: no model loader reads %s files (%s), so there are no " ..
      "pairing rules to compare with; save them in a Keras format first", tostring(state.format),
      tostring(state.source)))
  end
  return finish(r)
end

M.Report = Report

return M
