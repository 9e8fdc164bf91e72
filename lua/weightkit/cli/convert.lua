--[[
weightkit.cli.convert — `weightkit convert IN OUT [--model model.lua | --config config.json] [--json]
[--overwrite] [--strict] [--max-shard-size GB]`: load weights from any format into a model, save them in
another. The way out for Keras 3 users holding a TensorFlow checkpoint (Keras 3 cannot read one):
`weightkit convert ckpt/w out.weights.h5 --config config.json`.

THE MODEL:
  --model FILE    a Lua script returning a built model (it may `require "weightkit"`; it gets the
                  arguments after nothing: `...` is empty);
  --config FILE   a Keras config JSON (Keras 2 model_config or a `.keras` config.json) given to
                  wk.models.from_config;
  neither         IN must be a whole model (`.keras` archive, full-model `.h5`): wk.load_model(IN).
LOADING: model:load_weights(IN) (every format weightkit reads: Keras 2 HDF5, `.weights.h5`,
  `.weights.json`, `.keras`, TF checkpoint prefixes and directories, SavedModel directories).
SAVING, by OUT's name: `.keras` -> model:save (a Keras 3 archive); `.weights.h5` / `.weights.json` ->
  Keras 3 weights (`.weights.json` needs --max-shard-size); `.h5` / `.hdf5` -> Keras 2 weights HDF5;
  anything else -> a TensorFlow checkpoint with prefix OUT (+ the `checkpoint` file).
  An existing OUT (for a TF prefix: OUT.index) is an error unless --overwrite.
OUTPUT: a short report on stdout (what loaded, from where, how many values were unused or missing);
  warnings go to stderr as "warning: ..."; --json prints one JSON document instead:
  {"input", "input_format", "output", "output_format", "model", "matched_weights",
   "matched": [{"layer", "file", "weights": [{"name", "file", "shape"}]}],
   "missing", "unused", "optimizer", "skipped", "warnings"}.
  --strict: exit 1, writing nothing, when a variable of the model got nothing (missing) or a value of
  IN went nowhere (unused; optimizer state does not count).
EXIT: 0 converted; 1 an error (its message on stderr, "weightkit convert: <message>"); 2 usage.
]]
local args = require "weightkit.cli.args"
local core = require "weightkit.core"
local json = require "weightkit.json"
local errors = require "weightkit.errors"
local progress = require "weightkit.cli.progress"

local M = {}

M.USAGE = "usage: weightkit convert IN OUT [--model model.lua | --config config.json] [--json] " ..
  "[--overwrite] [--strict] [--max-shard-size GB]\n"

local HELP = M.USAGE .. [[

Load the weights of IN into a model and save them as OUT (format from OUT's name):
  .keras                 Keras 3 archive (config + weights)
  .weights.h5            Keras 3 weights
  .weights.json          Keras 3 sharded weights (needs --max-shard-size)
  .h5, .hdf5             Keras 2 weights HDF5
  anything else          TensorFlow checkpoint prefix (OUT.index, OUT.data-00000-of-00001, checkpoint)

  --model FILE           Lua script returning a built model
  --config FILE          Keras model config JSON (model_config or a .keras config.json)
                         (neither: IN must be a .keras archive or a full-model .h5)
  --json                 print the report as JSON
  --overwrite            replace an existing OUT
  --strict               fail when a model variable got no value or a value of IN was not used
  --max-shard-size GB    shard size for .weights.json
Exit status: 0 converted, 1 error, 2 usage.
]]

local COMMAND = { name = "convert", usage = M.USAGE, help = HELP,
  spec = { flags = { "json", "overwrite", "strict" },
    values = { "model", "config", "max-shard-size" } },
  operands = { "IN", "OUT" } }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function output_format(out)
  if ends_with(out, ".keras") then return "keras-zip" end
  if ends_with(out, ".weights.h5") then return "keras3-weights-h5" end
  if ends_with(out, ".weights.json") then return "keras3-sharded" end
  if ends_with(out, ".h5") or ends_with(out, ".hdf5") then return "keras2-h5" end
  return "tf-checkpoint"
end

local function read_text(path)
  local f, msg = io.open(path, "rb")
  if not f then error("OSError: cannot read " .. path .. ": " .. tostring(msg), 0) end
  local text = f:read("a")
  f:close()
  return text
end

local function build_model(wk, a, input)
  if a.model then
    local chunk, msg = loadfile(a.model)
    if not chunk then error("cannot load " .. a.model .. ": " .. msg, 0) end
    local model = chunk()
    if type(model) ~= "table" or type(model.load_weights) ~= "function" then
      error(a.model .. " must return a model (got " .. type(model) .. ")", 0)
    end
    return model
  end
  if a.config then return (wk.models.from_config(read_text(a.config))) end
  return (wk.load_model(input))
end

local function save(model, out, a, fmt)
  if fmt == "keras-zip" then return model:save(out, { overwrite = true }) end
  local opts = { overwrite = true }
  if fmt == "tf-checkpoint" then opts.save_format = "tf" end
  if a["max-shard-size"] then
    opts.max_shard_size = tonumber(a["max-shard-size"])
    if not opts.max_shard_size then error("--max-shard-size needs a number (GB)", 0) end
  end
  return model:save_weights(out, opts)
end

local function count_weights(report)
  local n = 0
  for _, m in ipairs(report.matched) do n = n + #m.weights end
  return n
end

local function json_report(r)
  local matched = {}
  for i, m in ipairs(r.report.matched) do
    local ws = {}
    for j, w in ipairs(m.weights) do
      ws[j] = json.object{ {"name", w.name}, {"file", w.file}, {"shape", json.array(w.shape)} }
    end
    matched[i] = json.object{ {"layer", m.layer}, {"file", m.file}, {"weights", json.array(ws)} }
  end
  local skipped = {}
  for i, s in ipairs(r.report.skipped) do
    skipped[i] = json.object{ {"layer", s.layer}, {"weight", s.weight or json.null},
      {"reason", s.reason or json.null}, {"message", s.message or json.null} }
  end
  return json.encode(json.object{
    {"input", r.input}, {"input_format", r.input_format or json.null},
    {"output", r.output}, {"output_format", r.output_format},
    {"model", r.model_name}, {"matched_weights", count_weights(r.report)},
    {"matched", json.array(matched)}, {"missing", json.array(r.report.missing)},
    {"unused", json.array(r.report.unused)}, {"optimizer", json.array(r.report.optimizer or {})},
    {"skipped", json.array(skipped)}, {"warnings", json.array(r.warnings)},
  }, { indent = 1 }) .. "\n"
end

local function text_report(r)
  local rep = r.report
  local out = {}
  out[#out + 1] = string.format("converted %s (%s) -> %s (%s)", r.input, tostring(r.input_format), r.output,
    r.output_format)
  out[#out + 1] = string.format("  model %s: %d weight(s) in %d layer(s) loaded", r.model_name, count_weights(rep),
    #rep.matched)
  if #rep.missing > 0 then
    out[#out + 1] = string.format("  missing (kept their initial values): %d: %s", #rep.missing,
      table.concat(rep.missing, ", "))
  end
  if #rep.unused > 0 then
    out[#out + 1] = string.format("  unused values of the input: %d: %s", #rep.unused, table.concat(rep.unused, ", "))
  end
  if rep.optimizer and #rep.optimizer > 0 then
    out[#out + 1] = string.format("  optimizer state left out: %d value(s)", #rep.optimizer + #(rep.slots or {}))
  end
  if #rep.skipped > 0 then out[#out + 1] = string.format("  skipped: %d", #rep.skipped) end
  return table.concat(out, "\n") .. "\n"
end

-- The whole conversion; raises on failure. Returns the result table for the report.
local function convert(a, input, out)
  local wk = require "weightkit"
  local fmt = output_format(out)
  local exists_path = fmt == "tf-checkpoint" and out .. ".index" or out
  if not a.overwrite and core.path_kind(exists_path) ~= nil then
    error(exists_path .. " already exists (pass --overwrite to replace it)", 0)
  end
  -- a 3-step bar on a terminal (cli/progress.lua); the per-tensor work runs inside load and save
  local bar = progress.new("convert", 3)
  local ok, model = pcall(build_model, wk, a, input)
  if not ok then bar:done(); error(model, 0) end
  bar:step("loading " .. input)
  local ok_load, warnings, report = pcall(errors.capture_warnings, function() return model:load_weights(input) end)
  if not ok_load then bar:done(); error(warnings, 0) end
  bar:step("saving " .. out)
  local input_format = report.format
  if not input_format then
    local f = wk.open(input)
    if f then input_format = f.format; f:close() end
  end
  if a.strict and (#report.missing > 0 or #report.unused > 0) then
    bar:done()
    error(string.format("--strict: %d variable(s) of the model got no value and %d value(s) of %s were not " ..
      "used; nothing written", #report.missing, #report.unused, input), 0)
  end
  local ok_save, err = pcall(save, model, out, a, fmt)
  bar:done()
  if not ok_save then error(err, 0) end
  return { input = input, output = out, input_format = input_format, output_format = fmt,
    model_name = model.name, report = report, warnings = warnings }
end

function M.run(argv)
  local a, status = args.start(argv, COMMAND)
  if not a then return status end
  if a.model and a.config then return args.usage_error("convert", M.USAGE, "give --model or --config, not both") end
  local input, out = a.positional[1], a.positional[2]
  local ok, r = pcall(convert, a, input, out)
  if not ok then
    io.stderr:write("weightkit convert: ", tostring(r), "\n")
    return 1
  end
  if a.json then
    io.write(json_report(r))
  else
    for _, w in ipairs(r.warnings) do io.stderr:write("warning: ", w, "\n") end
    io.write(text_report(r))
  end
  return 0
end

return M
