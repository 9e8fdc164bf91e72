--[[
weightkit.loading.remap — loading a file into a model through remap rules (issue 6):

  remap.load(model, file, rules [, {dry_run = false, skip_mismatch = false, by_name = true}]) -> report

`file` is an opened file (wk.open) or an in-memory table of the shape loading/common.lua describes;
`rules` anything weightkit.remap.rules takes (nil: no rules). by_name is accepted and changes nothing:
remapped loading always goes by names.

SIDES. File entries: every weight of every file layer (layer_names order, weight_names order) and of
`top_level_model_weights` (as the layer "top_level_model_weights"); the name a rule sees is the weight's
name as the file lists it ("dense_1/kernel:0") for Keras 2 HDF5 files, and its full path for formats
whose weight names are bare indices or attributes (Keras 3: "layers/dense/vars/0"; TF checkpoints: the
key). Model entries: the legacy weights (trainable then non-trainable) of every top-level layer, under
the variable names ("dense/kernel:0"), and the model's own top-level weights (layer
"top_level_model_weights"). Resolution, ambiguity and suggestions: weightkit/remap/match.lua.

CHECKS, all before any value is read or assigned, in this order:
  1. layer pairings whose weight counts differ: skip_mismatch ? warn, skip the layer : raise (the
     tf-keras by-name texts, k = the file layer's 0-based index);
  2. ambiguous targets (several file weights for one model weight, no combining transform): raise;
  3. transforms that do not fit their input shapes: raise, naming the transform, the file weight(s),
     their shapes and the model weight;
  4. shapes after the transforms against the model's: skip_mismatch ? warn, skip that weight : raise.
A DRY RUN (dry_run = true) reads no tensor bytes and assigns nothing: what would raise goes to
report.errors instead (all of them, not only the first) and the report is returned. A real load then
reads each part, applies its transforms (a custom function's output shape is checked here), casts to the
variable's dtype and assigns everything at once (loading/common.lua's plan): a load that raises changes
nothing. Keras 1 / cuDNN conversions (loading/conversions.lua) are not run: remapped values go in as the
rules and their transforms make them.

REPORT: the loading report (loading/report.lua), mode "remap", with entries per WEIGHT:
  matched   { {file = file layer, layer = model layer, weights = { {name = model weight, file = file
               weight(s) joined by " + ", files = {...}, shape =, transform = desc | nil, rule = label | nil,
               via = "name" | "loose" | "layer"}, ...}} }
  renamed   { {file = file weight, layer = model weight, rule = label | nil} } names that differ (":0" aside)
  converted { {file = file weight(s), layer = model weight, kind = transform desc, reason = rule label} }
  skipped   as in by-name loads (both shapes / both counts, the warning text)
  missing   { model weight name, ... }    unused { file weight name, ... }
plus
  dry_run   boolean;        mapping  {[file weight] = model weight} of what is (would be) loaded
  dropped   { {file = name, rule = label} }
  ambiguous { {model = name, files = {names}, suggestions = {[file name] = {names}}} }
  suggestions {[missing or unused name] = {up to 3 names, nearest first}}
  errors    { message, ... }  (dry runs only)
]]
local errors = require "weightkit.errors"
local common = require "weightkit.loading.common"
local messages = require "weightkit.loading.messages"
local Report = require "weightkit.loading.report"
local rules_mod = require "weightkit.remap.rules"
local match = require "weightkit.remap.match"
local transforms = require "weightkit.remap.transforms"
local shape_str = require("weightkit.naming").shape_str

local M = {}

local KNOWN = { dry_run = true, skip_mismatch = true, by_name = true }
local TOP = "top_level_model_weights"
-- Formats whose weight names are full Keras names; others are named by their path.
local NAMED_FORMATS = { ["keras2-h5"] = true, ["keras2-h5-model"] = true }

-- {===================================================================
-- The report
-- ====================================================================

local RemapReport = {}
for k, v in pairs(Report.Report) do RemapReport[k] = v end
RemapReport.__index = RemapReport
RemapReport.__name = "weightkit.RemapReport"

function RemapReport:__tostring()
  local out = { Report.Report.__tostring(self) }
  if self.dry_run then out[1] = out[1]:gsub("^load_weights report %(remap", "load_weights report (remap, dry run", 1) end
  local function line(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  if #self.dropped > 0 then
    line("dropped: %d", #self.dropped)
    for _, d in ipairs(self.dropped) do line("  %s [%s]", d.file, d.rule) end
  end
  for _, a in ipairs(self.ambiguous) do
    line("ambiguous: %s <- %s", a.model, table.concat(a.files, ", "))
  end
  local hints = {}
  for _, list in ipairs{ self.missing, self.unused } do
    for _, name in ipairs(list) do
      local s = self.suggestions[name]
      if s and #s > 0 then hints[#hints + 1] = string.format("  %s: did you mean %s?", name, table.concat(s, ", ")) end
    end
  end
  if #hints > 0 then
    line("suggestions:")
    for _, h in ipairs(hints) do out[#out + 1] = h end
  end
  if #self.errors > 0 then
    line("errors: %d", #self.errors)
    for _, e in ipairs(self.errors) do line("  %s", e) end
  end
  return table.concat(out, "\n")
end

local function new_report(file, skip, dry_run)
  local report, info = common.start("remap", file, skip)
  setmetatable(report, RemapReport)
  report.dry_run = dry_run
  report.mapping, report.dropped, report.ambiguous, report.suggestions, report.errors = {}, {}, {}, {}, {}
  return report, info
end

-- }===================================================================

-- {===================================================================
-- Entries
-- ====================================================================

local function file_entries(file, info)
  local by_path = file.format ~= nil and not NAMED_FORMATS[file.format]
  local out = {}
  local function add(layer, k, weights)
    for i, w in ipairs(weights) do
      out[#out + 1] = {
        name = (by_path and w.path) or w.name, layer = layer, index = i, layer_size = #weights,
        layer_index = k, shape = w.shape or w.tensor:shape(), weight = w,
      }
    end
  end
  for k, fl in ipairs(info.layers) do add(fl.name, k - 1, fl.weights) end
  if info.top_level then add(TOP, nil, info.top_level) end
  return out
end

local function model_entries(model)
  local out = {}
  local function add(layer, group, vars)
    for j, v in ipairs(vars) do
      out[#out + 1] = { name = v.name, layer = layer, group = group, index = j, var = v, shape = v:shape() }
    end
  end
  for _, layer in ipairs(model.layers) do
    if layer.name then add(layer.name, layer, common.legacy_weights(layer)) end
  end
  add(TOP, TOP, common.top_level_weights(model))
  return out
end

-- }===================================================================

local function names(parts)
  local out = {}
  for i, p in ipairs(parts) do out[i] = p.file.name end
  return out
end

local function shapes_str(parts)
  local out = {}
  for i, p in ipairs(parts) do out[i] = shape_str(p.file.shape) end
  return table.concat(out, ", ")
end

local function strip0(n) return (n:gsub(":%d+$", "")) end

-- " (file weight(s) a, b via rule 2 (...))" for messages of remapped pairs
local function remap_note(parts)
  local rule = parts[1].rule
  return string.format(" (remap: file weight %s%s)", table.concat(names(parts), " + "),
    rule and (" via " .. rule.label) or "")
end

function M.load(model, file, spec, options)
  options = errors.check_keywords("load_weights", options, KNOWN)
  local skip, dry_run = options.skip_mismatch and true or false, options.dry_run and true or false
  local rules = rules_mod.compile(spec)
  local report, info = new_report(file, skip, dry_run)
  local mentries = model_entries(model)
  local res = match.resolve(rules, file_entries(file, info), mentries)

  local function problem(msg)
    if dry_run then report.errors[#report.errors + 1] = "ValueError: " .. msg else errors.value_error(msg) end
  end

  -- 1. count mismatches of layer pairings
  for _, g in ipairs(res.count_mismatch) do
    local k = g.layer_index or 0
    if skip then
      local msg = messages.skip_count(k, g.layer, g.expected, g.received)
      report:warn(msg)
      report:add_skipped{ file = g.file_layer, layer = g.layer, expected = g.expected, received = g.received,
        reason = "weight count mismatch", message = msg }
    else
      local note = g.file_layer ~= g.layer and (" (remap: file layer " .. tostring(g.file_layer) .. ")") or ""
      problem(messages.count(k, g.layer, g.expected, g.received) .. note)
    end
  end

  -- 2. ambiguous targets
  for _, a in ipairs(res.ambiguous) do
    local files = names(a.parts)
    report.ambiguous[#report.ambiguous + 1] = { model = a.target.name, files = files, suggestions = a.suggestions }
    local hints = {}
    for _, f in ipairs(files) do
      local s = a.suggestions and a.suggestions[f]
      if s and #s > 0 then hints[#hints + 1] = f .. " -> " .. table.concat(s, " | ") end
    end
    problem(string.format("remap: model weight %s would receive %d file weights (%s) and no combining " ..
      "transform (concat, stack, sum) joins them%s", a.target.name, #files, table.concat(files, ", "),
      #hints > 0 and ("; model weights still missing near them: " .. table.concat(hints, "; ")) or ""))
  end

  -- 3 and 4. transforms and shapes
  local planned = {}
  for _, p in ipairs(res.pairs) do
    local me, parts = p.target, p.parts
    local shapes = {}
    for i, part in ipairs(parts) do shapes[i] = part.file.shape end
    local out, step, reason = transforms.shape(p.transform, shapes)
    local want = me.shape
    if out == false then
      problem(string.format("remap: transform %s cannot apply to file weight %s (shape %s) for model " ..
        "weight %s: %s", step.desc, table.concat(names(parts), " + "), shapes_str(parts), me.name, reason))
    elseif out ~= nil and not common.same_shape(want, out) then
      local k = parts[1].file.layer_index or 0
      local note = remap_note(parts)
      if skip then
        local msg = messages.skip_shape(k, me.layer, me.name, want, out) .. note
        report:warn(msg)
        report:add_skipped{ file = parts[1].file.layer, layer = me.layer, weight = me.name,
          file_weight = table.concat(names(parts), " + "), expected = want, received = out,
          reason = "shape mismatch", message = msg }
      else
        problem(messages.shape(k, me.layer, me.name, want, out) .. note)
      end
    else
      planned[#planned + 1] = p
    end
  end

  -- the report of what is (or would be) loaded
  local groups, matched_of = {}, {}
  local fed_names = {}
  for _, p in ipairs(planned) do
    local me, parts = p.target, p.parts
    local files = names(parts)
    local fl = parts[1].file.layer or ""
    local key = fl .. "\0" .. tostring(me.layer)
    local entry = matched_of[key]
    if not entry then
      entry = { file = fl, layer = me.layer, weights = {} }
      matched_of[key] = entry
      groups[#groups + 1] = entry
    end
    local rule = parts[1].rule
    entry.weights[#entry.weights + 1] = { name = me.name, file = table.concat(files, " + "), files = files,
      shape = me.shape, transform = p.transform and p.transform.desc, rule = rule and rule.label,
      via = parts[1].via }
    for _, f in ipairs(files) do
      report.mapping[f] = me.name
      if strip0(f) ~= strip0(me.name) then
        report.renamed[#report.renamed + 1] = { file = f, layer = me.name, rule = rule and rule.label }
      end
    end
    if p.transform then
      report.converted[#report.converted + 1] = { file = table.concat(files, " + "), layer = me.name,
        kind = p.transform.desc, reason = rule and rule.label or "remap" }
    end
    for _, t in ipairs(p.targets) do fed_names[t.name] = true end
  end
  for _, e in ipairs(groups) do report:add_matched(e) end
  for _, d in ipairs(res.dropped) do
    report.dropped[#report.dropped + 1] = { file = d.file.name, rule = d.rule.label }
  end
  -- missing: model weights nothing feeds, in model order (also those whose pair was skipped)
  for _, m in ipairs(res.missing) do report.suggestions[m.target.name] = m.suggestions end
  local listed = {}
  for _, me in ipairs(mentries) do
    if not fed_names[me.name] and not listed[me.name] then
      listed[me.name] = true
      report.missing[#report.missing + 1] = me.name
    end
  end
  for _, u in ipairs(res.unused) do
    report.unused[#report.unused + 1] = u.file.name
    report.suggestions[u.file.name] = u.suggestions
  end

  if dry_run then return report end

  -- read, transform, check, assign (all at once)
  local plan = common.new_plan()
  for _, p in ipairs(planned) do
    local me, parts = p.target, p.parts
    local tensors = {}
    for i, part in ipairs(parts) do tensors[i] = part.file.weight.tensor end
    local ok, value = pcall(transforms.apply, p.transform, tensors, { file = names(parts), model = me.name })
    if not ok then
      errors.value_error(string.format("remap: transform %s failed on file weight %s for model weight %s: %s",
        p.transform.desc, table.concat(names(parts), " + "), me.name, tostring(value)))
    end
    if not common.same_shape(me.shape, value:shape()) then
      local k = parts[1].file.layer_index or 0
      errors.value_error(messages.shape(k, me.layer, me.name, me.shape, value:shape()) .. remap_note(parts))
    end
    for _, t in ipairs(p.targets) do common.plan_add(plan, t.var, value) end
  end
  common.apply(plan)
  return report
end

return M
