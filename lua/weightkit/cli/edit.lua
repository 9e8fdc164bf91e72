--[[
weightkit.cli.edit — `weightkit edit IN OUT --script s.lua [--json] [--overwrite] [--unsafe] [-- ARGS...]`:
open IN in the editor (weightkit.editor: any format weightkit reads), run s.lua with it, save OUT.

THE SCRIPT runs in the sandbox (cli/sandbox.lua; --unsafe lifts it) with the globals `ed` (the editor
on IN: ed:objects(), ed:get / ed:set, rename_object, delete_object, add_object, delete_weight,
add_weights, rename_weight, ...), `weightkit` / `wk`, and `arg` (arg[0] the script, arg[1..] the ARGS
after `--`, also passed as `...`). It may touch IN, OUT, itself and the ARGS. Returning false aborts:
nothing is written (exit 1). With --json the script's print() goes to stderr (stdout holds the JSON).

OUT: its name picks the format (editor/save.lua): .weights.h5, .weights.json, .keras (a .keras IN
only), .h5 / .hdf5, .safetensors, else a TF checkpoint prefix. An existing OUT (TF: OUT.index) is an
error unless --overwrite. OUT may be IN with --overwrite (the write is atomic).

REPORT: what changed between IN's listing and OUT's (weights by object and name):
  {"input", "input_format", "output", "output_format", "script", "objects", "weights",
   "added": [W], "removed": [W], "changed": [{"object", "weight", "before": W, "after": W}]}
  W = {"object", "weight", "shape", "dtype"}; "objects" / "weights": OUT's counts. A value set with the
  same shape and dtype is not listed (values are not compared; use `weightkit diff IN OUT`).

EXIT: 0 saved; 1 an error (IN unreadable, the script raised or returned false, OUT not writable or
existing); 2 usage.
]]
local args = require "weightkit.cli.args"
local json = require "weightkit.json"
local sandbox = require "weightkit.cli.sandbox"
local surgery = require "weightkit.cli.surgery"
local progress = require "weightkit.cli.progress"

local M = {}

M.USAGE = "usage: weightkit edit IN OUT --script s.lua [--json] [--overwrite] [--unsafe] [-- ARGS...]\n"

local HELP = M.USAGE .. [[

Open IN (any weights format) in the editor, run s.lua with it as `ed`, save the result as OUT
(format from OUT's name: .weights.h5, .weights.json, .keras, .h5, .safetensors, else a TF checkpoint).
  --script FILE   the Lua script; `ed`, `weightkit`/`wk` and `arg` (ARGS after --) are its globals;
                  returning false aborts without writing
  --json          print the report (added / removed / changed weights) as JSON
  --overwrite     replace an existing OUT
  --unsafe        run the script without the sandbox (see weightkit run --help)
Exit status: 0 saved, 1 error, 2 usage.
]]

local COMMAND = { name = "edit", usage = M.USAGE, help = HELP,
  spec = { flags = { "json", "overwrite", "unsafe" }, values = { "script" }, rest = true },
  operands = { "IN", "OUT" }, required = { "script" } }

local function key(w) return w.object .. "\0" .. w.weight end

local same_shape = require("weightkit.naming").same_shape

-- added / removed / changed between two listings.
local function changes(before, after)
  local old, new = {}, {}
  for _, w in ipairs(before) do old[key(w)] = w end
  for _, w in ipairs(after) do new[key(w)] = w end
  local c = { added = {}, removed = {}, changed = {} }
  for _, w in ipairs(after) do
    local o = old[key(w)]
    if not o then c.added[#c.added + 1] = w
    elseif o.dtype ~= w.dtype or not same_shape(o.shape, w.shape) then
      c.changed[#c.changed + 1] = { before = o, after = w }
    end
  end
  for _, w in ipairs(before) do
    if not new[key(w)] then c.removed[#c.removed + 1] = w end
  end
  return c
end

local function edit(a, input, out)
  surgery.check_output(out, a.overwrite)
  local bar = progress.new("edit", 3)
  local ed = surgery.open(input)
  local before = surgery.listing(ed)
  bar:step("script " .. a.script)
  local box, finish = sandbox.start({ input, out, a.script, table.unpack(a.args) }, a.unsafe)
  local extra = { ed = ed, arg = sandbox.script_arg("weightkit edit", a.script, a.args) }
  if a.json then
    extra.print = function(...)
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      io.stderr:write(table.concat(parts, "\t", 1, parts.n), "\n")
    end
  end
  local ok, err = pcall(function()
    local env = sandbox.environment(box, extra)
    local chunk, msg = sandbox.load_script(a.script, env, a.unsafe)
    if not chunk then error(msg, 0) end
    local results = table.pack(xpcall(chunk, function(m) return sandbox.explain(m, a.script) end,
      table.unpack(a.args)))
    if not results[1] then error(results[2], 0) end
    if results[2] == false then error(a.script .. " returned false: nothing written", 0) end
    bar:step("saving " .. out)
    surgery.save(ed, out)
    bar:step(out)
  end)
  finish()
  bar:done()
  if not ok then error(err, 0) end
  local after = surgery.listing(ed)
  local n_objects = #ed:objects()
  ed:close()
  return { input = input, input_format = ed.format, output = out, output_format = surgery.output_format(out),
    script = a.script, objects = n_objects, weights = #after, changes = changes(before, after) }
end

local function json_report(r)
  local changed = {}
  for i, c in ipairs(r.changes.changed) do
    local pair = surgery.weights_json{ c.before, c.after }
    changed[i] = json.object{ { "object", c.after.object }, { "weight", c.after.weight }, { "before", pair[1] },
      { "after", pair[2] } }
  end
  return json.encode(json.object{
    { "input", r.input }, { "input_format", r.input_format or json.null }, { "output", r.output },
    { "output_format", r.output_format }, { "script", r.script }, { "objects", r.objects },
    { "weights", r.weights }, { "added", surgery.weights_json(r.changes.added) },
    { "removed", surgery.weights_json(r.changes.removed) }, { "changed", json.array(changed) },
  }, { indent = 1 }) .. "\n"
end

local function text_report(r)
  local out = { string.format("edited %s (%s) -> %s (%s) with %s", r.input, tostring(r.input_format), r.output,
    r.output_format, r.script) }
  out[#out + 1] = string.format("  %d object(s), %d weight(s) written", r.objects, r.weights)
  local function names(list, f)
    local t = {}
    for i, w in ipairs(list) do t[i] = f(w) end
    return table.concat(t, ", ")
  end
  local function wname(w) return (w.object == "" and "" or w.object .. ": ") .. w.weight end
  local c = r.changes
  if #c.added > 0 then out[#out + 1] = string.format("  added %d: %s", #c.added, names(c.added, wname)) end
  if #c.removed > 0 then out[#out + 1] = string.format("  removed %d: %s", #c.removed, names(c.removed, wname)) end
  if #c.changed > 0 then
    out[#out + 1] = string.format("  changed shape or dtype %d: %s", #c.changed,
      names(c.changed, function(x) return wname(x.after) end))
  end
  return table.concat(out, "\n") .. "\n"
end

function M.run(argv)
  local a, status = args.start(argv, COMMAND)
  if not a then return status end
  local ok, r = pcall(edit, a, a.positional[1], a.positional[2])
  if not ok then
    io.stderr:write("weightkit edit: ", surgery.message(r), "\n")
    return 1
  end
  io.write(a.json and json_report(r) or text_report(r))
  return 0
end

return M
