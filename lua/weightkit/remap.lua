--[==[
weightkit.remap — remap rules: which file weight feeds which model weight, and how its value changes on
the way (issue 6). The user-facing table `wk.remap`.

  wk.remap.rules{...}        -> Rules (compiled, reusable); forms and what a rule sees: remap/rules.lua
  wk.remap.pattern(from, to [, opts]), .exact(map [, opts]), .canonical(list [, opts]), .fn(f [, opts])
                              single rules (opts: transform =, layer = true), usable inside rules{...}
  wk.remap.layers(map)        exact LAYER renames: wk.remap.layers{dense_1 = "dense"} (file -> model)
  wk.remap.transforms         transform constructors and presets (remap/transforms.lua), also reachable
                              as wk.remap.transpose(...), wk.remap.gate_reorder(...), ...
  wk.remap.presets            the named presets ("torch_conv2d", "torch_linear", "torch_lstm_bias",
                              "torch_gru_gates", "torch_gru_kernel", "torch_gru_bias", ...)
  wk.remap.match(rules, file_names, model_names) -> result (names only, no tensors)
  wk.remap.rename(rules, names) -> { {from =, to = name | false | nil, transform = desc, rule = label} }
                              each name through the rules alone (file surgery: rename or drop entries)
  wk.remap.load(model, file, rules [, {dry_run =, skip_mismatch =}]) -> report (loading/remap.lua)
  wk.remap.distance(a, b [, limit]), wk.remap.closest(name, candidates [, n [, limit]])  (remap/suggest.lua)

The plain rules form anywhere a rules argument is taken: a Lua array of {from, to} pairs (a Lua pattern
and its replacement, optionally with transform = ... and layer = true), e.g.
  { {"^dense_1/", "dense/"}, {"^block(%d+)_conv", "stage%1/conv"}, {"^aux/", false} }

match(rules, file_names, model_names): the names are strings ("dense_1/kernel:0") or entries
{name, layer, index, layer_size} (remap/match.lua); result, every list in input order:
  mapping         {[file name] = model name}     what would be loaded where
  pairs           { {model = name, files = {names}, transform = desc | nil, via = "name" | "loose" |
                     "layer"} }                   in model order; several files only with a combining
                                                  transform
  dropped         { name, ... }                   dropped by a rule (to = false)
  unmatched_file  { {name =, mapped = name | nil, suggestions = {up to 3 model names}} }
  unmatched_model { {name =, suggestions = {up to 3 file names}} }
  ambiguous       { {model =, files = {names}, suggestions = {[file name] = {model names}}} }
  count_mismatch  { {file_layer =, layer =, expected =, received =} }  (layer pairings only)
]==]
local rules = require "weightkit.remap.rules"
local transforms = require "weightkit.remap.transforms"
local match = require "weightkit.remap.match"
local suggest = require "weightkit.remap.suggest"

local M = {}

M.rules = rules.compile
M.is_rules = rules.is_rules
M.pattern = rules.pattern
M.exact = rules.exact
M.canonical = rules.canonical
M.fn = rules.fn
function M.layers(map) return rules.exact(map, { layer = true }) end

M.transforms = transforms
M.presets = transforms.presets
for _, name in ipairs{ "transpose", "permute", "reshape", "slice", "split", "concat", "stack", "sum",
  "gate_reorder", "flip", "scale", "cast" } do
  M[name] = transforms[name]
end
M.bias_sum = transforms.bias_sum

M.distance = suggest.distance
M.closest = suggest.closest

local function entries(names)
  local out = {}
  for i, n in ipairs(names) do
    if type(n) == "string" then out[i] = { name = n } else out[i] = n end
  end
  return out
end

local function part_names(parts)
  local out = {}
  for i, p in ipairs(parts) do out[i] = p.file.name end
  return out
end

function M.match(spec, file_names, model_names)
  local res = match.resolve(rules.compile(spec), entries(file_names), entries(model_names))
  local out = { mapping = {}, pairs = {}, dropped = {}, unmatched_file = {}, unmatched_model = {},
    ambiguous = {}, count_mismatch = {} }
  for _, p in ipairs(res.pairs) do
    local files = part_names(p.parts)
    for _, f in ipairs(files) do out.mapping[f] = p.target.name end
    out.pairs[#out.pairs + 1] = { model = p.target.name, files = files, via = p.parts[1].via,
      transform = p.transform and p.transform.desc }
  end
  for _, d in ipairs(res.dropped) do out.dropped[#out.dropped + 1] = d.file.name end
  for _, u in ipairs(res.unused) do
    out.unmatched_file[#out.unmatched_file + 1] = { name = u.file.name, mapped = u.mapped,
      suggestions = u.suggestions or {} }
  end
  for _, m in ipairs(res.missing) do
    out.unmatched_model[#out.unmatched_model + 1] = { name = m.target.name, suggestions = m.suggestions or {} }
  end
  for _, a in ipairs(res.ambiguous) do
    out.ambiguous[#out.ambiguous + 1] = { model = a.target.name, files = part_names(a.parts),
      suggestions = a.suggestions or {} }
  end
  for _, c in ipairs(res.count_mismatch) do
    out.count_mismatch[#out.count_mismatch + 1] = { file_layer = c.file_layer, layer = c.layer,
      expected = c.expected, received = c.received }
  end
  return out
end

function M.rename(spec, names)
  local compiled = rules.compile(spec)
  local out = {}
  for i, n in ipairs(names) do
    local to, pipe, rule = compiled:rename(n)
    out[i] = { from = n, to = to, transform = pipe and pipe.desc, rule = rule and rule.label }
  end
  return out
end

function M.load(model, file, spec, options)
  return require("weightkit.loading.remap").load(model, file, spec, options)
end

return M
