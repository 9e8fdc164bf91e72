--[[
weightkit.cli.remap — `weightkit remap IN OUT --rules rules.lua [--dry-run] [--json] [--overwrite]
[--strict] [--unsafe]`: rename, drop and transform the weights of IN by remap rules (weightkit.remap),
through the editor (weightkit.editor), and save OUT (format from OUT's name, as `weightkit edit`).

RULES FILE: a Lua script, run in the sandbox (cli/sandbox.lua; --unsafe lifts it), that returns the
rules: a plain array of {from, to [, transform = ...] [, layer = true]} pairs, or wk.remap.rules{...}
(every form of lua/weightkit/remap/rules.lua: patterns, exact tables, canonical templates, functions,
transforms). `wk` / `weightkit` are globals there; function rules and custom transforms stay sandboxed.

WHAT THE RULES SEE. Without a model, rules rename names (wk.remap.rename semantics, first match wins):
  weight rules see each weight's qualified name:
    Keras 2 HDF5 sources: the weight name as stored ("dense_1/kernel:0");
    other sources: "<object>/<weight>" ("layers/dense/0", "layer_with_weights-0/kernel"; a safetensors
    source "<object>.<weight>"; a weight of the root object "" just "<weight>");
    the entry handed to function rules is {name, object, index, shape, dtype}.
  layer rules (layer = true) see each object's name ("dense_1", "layers/dense").
A new qualified name gives the weight its new name and says where it lives: Keras 2, the whole new
name is the weight's name, and when every weight of a layer was "<layer>/..." and all become "<X>/...",
the layer is renamed X too; other sources, the new name splits at its last '/' ('.') into object and
weight, and all weights of an object must agree on the object (remap renames, it does not move weights
between objects: use `weightkit edit`). A layer rule renames the object (with the objects under it, as
ed:rename_object does); a rule's `to = false` drops the weight (a layer rule: the object).
Transforms run on each renamed weight's value (shapes are checked first, by the transform's shape
rule); combining transforms (concat, stack, sum, bias_sum) need several inputs and are refused here.

--dry-run: prints the plan and writes nothing. The plan (also --json):
  {"input", "input_format", "output", "output_format", "rules", "dry_run", "written",
   "mapping": [{"object", "weight", "to_object", "to_weight", "transform", "rule"}],
   "objects": [{"from", "to", "rule"}],                       object renames (incl. inferred ones)
   "dropped": [{"object", "weight", "rule"}],                  weight null: the whole object
   "unmatched": [{"object", "weight", "name", "suggestions": [rule labels]}],   no rule matched: kept as is
   "unused_rules": [{"rule", "suggestions": [qualified names]}]}               rules that matched nothing
  Suggestions: the nearest names (weightkit.remap.closest, edit distance) between unmatched names and the
  text of the rules that matched nothing (a typo in a rule shows up on both sides).
--strict: exit 1 and write nothing when a rule matched nothing.

EXIT: 0 written (or the dry run printed); 1 an error (IN unreadable, rules failing, an impossible
plan, OUT existing without --overwrite, --strict); 2 usage.
]]
local args = require "weightkit.cli.args"
local json = require "weightkit.json"
local remap = require "weightkit.remap"
local transforms = require "weightkit.remap.transforms"
local sandbox = require "weightkit.cli.sandbox"
local surgery = require "weightkit.cli.surgery"
local progress = require "weightkit.cli.progress"

local M = {}

M.USAGE = "usage: weightkit remap IN OUT --rules rules.lua [--dry-run] [--json] [--overwrite] [--strict] " ..
  "[--unsafe]\n"

local HELP = M.USAGE .. [[

Rename, drop and transform IN's weights by remap rules, save as OUT (format from OUT's name).
  --rules FILE    a Lua script returning the rules: { {"^dense_1/", "dense/"}, {"^aux/", false}, ... }
                  or wk.remap.rules{...} (patterns, exact tables, templates, functions, transforms)
                  Weight rules see "dense_1/kernel:0" (Keras 2) or "<object>/<weight>" (other
                  formats); layer rules ({..., layer = true}) see object names.
  --dry-run       print the plan (mapping, dropped, unmatched names, unused rules); write nothing
  --json          print the plan / report as JSON
  --overwrite     replace an existing OUT
  --strict        fail when a rule matches nothing
  --unsafe        run the rules file without the sandbox (see weightkit run --help)
Exit status: 0 done, 1 error, 2 usage.
]]

local COMMAND = { name = "remap", usage = M.USAGE, help = HELP,
  spec = { flags = { "json", "overwrite", "unsafe", "dry-run", "strict" }, values = { "rules" } },
  operands = { "IN", "OUT" }, required = { "rules" } }


--{=====================================================================================================
-- The plan
--======================================================================================================

local function qualified(keras2, sep, object, weight)
  if keras2 or object == "" then return weight end
  return object .. sep .. weight
end

-- Splits a new qualified name into object, weight (the object "" when there is no separator).
local function split(sep, name)
  local esc = sep == "." and "%." or sep
  local object, weight = name:match("^(.*)" .. esc .. "([^" .. esc .. "]*)$")
  if not object then return "", name end
  return object, weight
end

local function fail(msg) error(msg, 0) end

-- The rules applied to every name of the editor; raises for an impossible plan.
local function make_plan(ed, rules)
  local keras2 = ed.format == "keras2-h5" or ed.format == "keras2-h5-model"
  local sep = require("weightkit.editor.source").SCHEME[ed.format] == "safetensors" and "." or "/"
  local plan = { mapping = {}, objects = {}, dropped = {}, unmatched = {}, transforms = {}, renames = {} }
  local used = {}
  for _, obj in ipairs(ed:objects()) do
    local hit = rules:apply{ layer = obj.name }
    local new_object
    if hit then
      used[hit.rule] = true
      if hit.to == false then
        plan.dropped[#plan.dropped + 1] = { object = obj.name, rule = hit.rule.label }
      else
        new_object = hit.to
        plan.objects[#plan.objects + 1] = { from = obj.name, to = hit.to, rule = hit.rule.label }
      end
    end
    if not (hit and hit.to == false) then
      local parts, all_prefixed, common = {}, true, nil
      for i, w in ipairs(obj.weights) do
        local q = qualified(keras2, sep, obj.name, w.name)
        local whit = rules:apply{ name = q, object = obj.name, index = i, shape = w.shape, dtype = w.dtype }
        if whit and whit.target == "weight" then
          used[whit.rule] = true
          if whit.to == false then
            plan.dropped[#plan.dropped + 1] = { object = obj.name, weight = w.name, rule = whit.rule.label }
          else
            local pipe = whit.transform
            if pipe and pipe.combine then
              fail(string.format("%s: %s combines several weights (%s); remap maps one weight to one weight",
                q, whit.rule.label, pipe.desc))
            end
            if pipe then
              local shape, step, reason = transforms.shape(pipe, { w.shape })
              if shape == false then
                fail(string.format("%s: %s: transform %s does not fit: %s", q, whit.rule.label, step.desc,
                  tostring(reason)))
              end
            end
            local to_object, to_weight = obj.name, whit.to
            if not keras2 then to_object, to_weight = split(sep, whit.to) end
            parts[#parts + 1] = { w = w, q = q, to_object = to_object, to_weight = to_weight, pipe = pipe,
              rule = whit.rule.label }
            if keras2 then
              local old_prefix = w.name:match("^([^/]*)/")
              local new_prefix = whit.to:match("^([^/]*)/")
              if old_prefix ~= obj.name or not new_prefix or (common and common ~= new_prefix) then
                all_prefixed = false
              end
              common = new_prefix
            end
          end
        else
          all_prefixed = false
          plan.unmatched[#plan.unmatched + 1] = { object = obj.name, weight = w.name, name = q }
        end
      end
      -- where the object goes: a layer rule, else what its renamed weights agree on
      local moved = {}
      for _, p in ipairs(parts) do
        if not keras2 and p.to_object ~= obj.name then moved[p.to_object] = true end
      end
      local target = next(moved)
      if target and (next(moved, target) or #parts < #obj.weights) then
        local list = {}
        for name in pairs(moved) do list[#list + 1] = "'" .. name .. "'" end
        table.sort(list)
        fail(string.format("the rules send the weights of object '%s' to %s%s; remap renames objects, it " ..
          "does not move weights between them (use weightkit edit)", obj.name, table.concat(list, ", "),
          #parts < #obj.weights and " while others stay" or ""))
      end
      if keras2 and all_prefixed and common and common ~= obj.name and #parts == #obj.weights then
        target = common
      end
      if target then
        if new_object and new_object ~= target then
          fail(string.format("object '%s': a layer rule renames it '%s', its weights' names say '%s'", obj.name,
            new_object, target))
        end
        if not new_object then
          new_object = target
          plan.objects[#plan.objects + 1] = { from = obj.name, to = target, rule = parts[1].rule }
        end
      end
      for _, p in ipairs(parts) do
        plan.mapping[#plan.mapping + 1] = { object = obj.name, weight = p.w.name, to_object = new_object or obj.name,
          to_weight = p.to_weight, transform = p.pipe and p.pipe.desc, rule = p.rule, pipe = p.pipe, q = p.q }
      end
    end
  end
  plan.unused = {}
  for _, r in ipairs(rules.list) do
    if not used[r] then plan.unused[#plan.unused + 1] = { rule = r.label, text = r.desc } end
  end
  -- suggestions between names no rule matched and rules that matched nothing
  local rule_texts, names = {}, {}
  for _, u in ipairs(plan.unused) do
    local text = (u.text:match('"(.-)"') or u.text):gsub("[%^%$%%]", "")
    rule_texts[#rule_texts + 1] = { name = u.rule, keys = { text } }
  end
  for _, u in ipairs(plan.unmatched) do names[#names + 1] = u.name end
  for _, u in ipairs(plan.unmatched) do
    u.suggestions = {}
    for _, s in ipairs(remap.closest(u.name, rule_texts)) do u.suggestions[#u.suggestions + 1] = s.name end
  end
  for i, u in ipairs(plan.unused) do
    u.suggestions = {}
    for _, s in ipairs(remap.closest(rule_texts[i].keys[1], names)) do
      u.suggestions[#u.suggestions + 1] = s.name
    end
  end
  return plan
end

-- Applies the plan to the editor: drops, transforms, weight renames (through temporary names, so a
-- swap works), object renames deepest first (ed:rename_object moves the objects under it).
local function apply_plan(ed, plan)
  local bar = progress.new("remap", #plan.mapping + #plan.dropped)
  local ok, err = pcall(function()
    for _, d in ipairs(plan.dropped) do
      if d.weight then ed:delete_weight(d.object, d.weight) else ed:delete_object(d.object) end
      bar:step(d.object .. " " .. (d.weight or ""))
    end
    for _, m in ipairs(plan.mapping) do
      if m.pipe then
        local t = transforms.apply(m.pipe, { ed:get(m.object, m.weight) }, { name = m.q, object = m.object,
          weight = m.weight })
        ed:set(m.object, m.weight, t)
      end
      bar:step(m.q)
    end
    for i, m in ipairs(plan.mapping) do
      if m.to_weight ~= m.weight then ed:rename_weight(m.object, m.weight, "\1remap" .. i) end
    end
    for i, m in ipairs(plan.mapping) do
      if m.to_weight ~= m.weight then ed:rename_weight(m.object, "\1remap" .. i, m.to_weight) end
    end
    local renames = table.move(plan.objects, 1, #plan.objects, 1, {})
    table.sort(renames, function(x, y) return #x.from > #y.from end)
    for _, r in ipairs(renames) do ed:rename_object(r.from, r.to) end
  end)
  bar:done()
  if not ok then error(err, 0) end
end

--{=====================================================================================================
-- Reports
--======================================================================================================

local function strings(list)
  return json.array(table.move(list, 1, #list, 1, {}))
end

local function json_report(r)
  local p = r.plan
  local mapping, objects, dropped, unmatched, unused = {}, {}, {}, {}, {}
  for i, m in ipairs(p.mapping) do
    mapping[i] = json.object{ { "object", m.object }, { "weight", m.weight }, { "to_object", m.to_object },
      { "to_weight", m.to_weight }, { "transform", m.transform or json.null }, { "rule", m.rule } }
  end
  for i, o in ipairs(p.objects) do
    objects[i] = json.object{ { "from", o.from }, { "to", o.to }, { "rule", o.rule } }
  end
  for i, d in ipairs(p.dropped) do
    dropped[i] = json.object{ { "object", d.object }, { "weight", d.weight or json.null }, { "rule", d.rule } }
  end
  for i, u in ipairs(p.unmatched) do
    unmatched[i] = json.object{ { "object", u.object }, { "weight", u.weight }, { "name", u.name },
      { "suggestions", strings(u.suggestions) } }
  end
  for i, u in ipairs(p.unused) do
    unused[i] = json.object{ { "rule", u.rule }, { "suggestions", strings(u.suggestions) } }
  end
  return json.encode(json.object{
    { "input", r.input }, { "input_format", r.input_format or json.null }, { "output", r.output },
    { "output_format", r.output_format }, { "rules", r.rules }, { "dry_run", r.dry_run }, { "written", r.written },
    { "mapping", json.array(mapping) }, { "objects", json.array(objects) }, { "dropped", json.array(dropped) },
    { "unmatched", json.array(unmatched) }, { "unused_rules", json.array(unused) },
  }, { indent = 1 }) .. "\n"
end

local function text_report(r)
  local p = r.plan
  local out = { string.format("remap %s (%s) -> %s (%s) with %s%s", r.input, tostring(r.input_format), r.output,
    r.output_format, r.rules, r.dry_run and " (dry run: nothing written)" or "") }
  local function name(object, weight)
    if weight == nil then return object end
    return object == "" and weight or object .. ": " .. weight
  end
  out[#out + 1] = string.format("renamed %d weight(s):", #p.mapping)
  for _, m in ipairs(p.mapping) do
    out[#out + 1] = string.format("  %s -> %s%s   [%s]", name(m.object, m.weight), name(m.to_object, m.to_weight),
      m.transform and ("  transform " .. m.transform) or "", m.rule)
  end
  for _, o in ipairs(p.objects) do
    out[#out + 1] = string.format("object %s -> %s   [%s]", o.from, o.to, o.rule)
  end
  for _, d in ipairs(p.dropped) do
    out[#out + 1] = string.format("dropped %s   [%s]", name(d.object, d.weight), d.rule)
  end
  if #p.unmatched > 0 then
    out[#out + 1] = string.format("unmatched (kept as they are) %d:", #p.unmatched)
    for _, u in ipairs(p.unmatched) do
      out[#out + 1] = "  " .. u.name .. (#u.suggestions > 0 and ("   (near " .. table.concat(u.suggestions, ", ")
        .. ")") or "")
    end
  end
  for _, u in ipairs(p.unused) do
    out[#out + 1] = "rule matched nothing: " .. u.rule .. (#u.suggestions > 0 and ("; closest names: " ..
      table.concat(u.suggestions, ", ")) or "")
  end
  if r.written then out[#out + 1] = "wrote " .. r.output end
  return table.concat(out, "\n") .. "\n"
end

--{=====================================================================================================
-- Command
--======================================================================================================

local function load_rules(a, box)
  local env = sandbox.environment(box, { arg = sandbox.script_arg("weightkit remap", a.rules, {}) })
  local chunk, msg = sandbox.load_script(a.rules, env, a.unsafe)
  if not chunk then error(msg, 0) end
  local ok, spec = xpcall(chunk, function(m) return sandbox.explain(m, a.rules) end)
  if not ok then error(spec, 0) end
  if type(spec) ~= "table" then error(a.rules .. " must return a rules table (got " .. type(spec) .. ")", 0) end
  return require("weightkit.remap.rules").compile(spec)
end

local function run_remap(a, input, out)
  if not a["dry-run"] then surgery.check_output(out, a.overwrite) end
  local box, finish = sandbox.start({ input, out, a.rules }, a.unsafe)
  local ok, r = pcall(function()
    local rules = load_rules(a, box)
    local ed = surgery.open(input)
    local plan = make_plan(ed, rules)
    local res = { input = input, input_format = ed.format, output = out, output_format = surgery.output_format(out),
      rules = a.rules, dry_run = a["dry-run"] == true, written = false, plan = plan }
    if a.strict and #plan.unused > 0 then
      error(string.format("--strict: %d rule(s) matched nothing (%s); nothing written", #plan.unused,
        plan.unused[1].rule), 0)
    end
    if not a["dry-run"] then
      apply_plan(ed, plan)
      surgery.save(ed, out)
      res.written = true
    end
    ed:close()
    return res
  end)
  finish()
  if not ok then error(r, 0) end
  return r
end

function M.run(argv)
  local a, status = args.start(argv, COMMAND)
  if not a then return status end
  local ok, r = pcall(run_remap, a, a.positional[1], a.positional[2])
  if not ok then
    io.stderr:write("weightkit remap: ", surgery.message(r), "\n")
    return 1
  end
  io.write(a.json and json_report(r) or text_report(r))
  return 0
end

return M
