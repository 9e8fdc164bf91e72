--[[
weightkit.loading.load — entry points of Keras 2 HDF5 weight loading.

  load_weights(model, file, {by_name = false, skip_mismatch = false}) -> report
      `file` is an opened file object (wk.open) or an in-memory table of the same shape (see common.lua).
      Dispatches to loading/topological.lua or loading/by_name.lua; returns the report (report.lua).
  load_into(model, file_or_path, options) -> report
      glue for `Model:load_weights(path, options)`. Keras 3 files go to weightkit.keras3.load: a path
      ending in `.weights.h5` or `.weights.json` always (Keras 3 and tf.keras 2.15 route by that name),
      any other path or opened file whose format is "keras3-weights-h5" or "keras-zip" (so a `.keras`
      zip loads as Keras 3, a `.keras` HDF5 file of tf.keras 2 as Keras 2). TensorFlow checkpoints
      and SavedModel directories go to weightkit.tfckpt.load: an opened file of format
      "tf-checkpoint" or "savedmodel", or a path without an HDF5 suffix (`.h5`, `.hdf5`, `.keras`)
      that tf-keras's `_detect_save_format` takes for one (tfckpt.load.looks_like_tf: P.index exists,
      a `.index` file, a directory with `checkpoint` or saved_model.pb[txt]); a path that opens as
      one too. Otherwise (Keras 2 HDF5)
      it checks the model and the options as tf-keras does,
      opens a path with options.open, else the function given to set_opener (wk.open), else
      weightkit.file's `open` (the same function; closing the file afterwards, also on failure), then
      calls load_weights. An opener may raise or return nil, message (Lua io convention).
  set_opener(fn) -> previous opener

Options `remap = rules` and `dry_run = true` (issue 6) send any format to weightkit.loading.remap:
by-name pairing through the rules (weightkit.remap), a dry run assigning nothing.
Options are checked like Python keyword arguments: an unknown key raises
`TypeError: load_weights() got an unexpected keyword argument 'x'`. `options.open` (a function path ->
file) is ours, for hosts and tests.
]]
local errors = require "weightkit.errors"
local topological = require "weightkit.loading.topological"
local by_name = require "weightkit.loading.by_name"

local M = {}

local KNOWN = { by_name = true, skip_mismatch = true, open = true, options = true }

-- keras3_too: also accept Keras 3's `objects_to_skip` (the file may turn out to be a Keras 3 one;
-- load_weights refuses it for a Keras 2 file).
local KNOWN_KERAS3 = { objects_to_skip = true }
for key in pairs(KNOWN) do KNOWN_KERAS3[key] = true end

local function check_options(options, keras3_too)
  return errors.check_keywords("load_weights", options, keras3_too and KNOWN_KERAS3 or KNOWN)
end

function M.load_weights(model, file, options)
  options = check_options(options)
  local skip = options.skip_mismatch and true or false
  if options.by_name then
    return by_name.load(model, file, skip)
  end
  return topological.load(model, file, skip)
end

local opener = nil

-- The function load_into uses to open a path (e.g. wk.open), when options.open is not given.
function M.set_opener(fn)
  local prev = opener
  opener = fn
  return prev
end

local function default_opener()
  if opener then return opener end
  local ok, file = pcall(require, "weightkit.file")
  if ok and type(file) == "table" and type(file.open) == "function" then return file.open end
  return nil
end

local KERAS3_FORMATS = { ["keras3-weights-h5"] = true, ["keras-zip"] = true }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function keras3() return require "weightkit.keras3.load" end

local function tfckpt() return require "weightkit.tfckpt.load" end

-- tf.keras saving_utils.is_hdf5_filepath
local function is_hdf5_path(path)
  return ends_with(path, ".h5") or ends_with(path, ".keras") or ends_with(path, ".hdf5")
end

-- `remap` / `dry_run` (issue 6): by-name loading through rules (weightkit.loading.remap), for a file of
-- any format wk.open reads.
local KNOWN_REMAP = { by_name = true, skip_mismatch = true, open = true, remap = true, dry_run = true }

local function load_remapped(model, file, options)
  options = errors.check_keywords("load_weights", options, KNOWN_REMAP)
  local remap = require "weightkit.loading.remap"
  local opts = { dry_run = options.dry_run and true or false, skip_mismatch = options.skip_mismatch and true or false }
  if type(file) ~= "string" then return remap.load(model, file, options.remap, opts) end
  local open = options.open or default_opener()
  local f, msg = open(file)
  if not f then error(msg or ("cannot open " .. file), 0) end
  local ok, report = pcall(remap.load, model, f, options.remap, opts)
  f:close()
  if not ok then error(report, 0) end
  return report
end

function M.load_into(model, file, options)
  if type(options) == "table" and (options.remap ~= nil or options.dry_run) then
    return load_remapped(model, file, options)
  end
  -- Keras 3 names: `.weights.h5` / `.weights.json` always go to the Keras 3 loader (as in Keras 3 and
  -- tf.keras 2.15); other names and opened files go by the format found in the file.
  if type(file) == "string" and (ends_with(file, ".weights.h5") or ends_with(file, ".weights.json")) then
    return keras3().load_path(model, file, options)
  end
  if type(file) == "table" and KERAS3_FORMATS[file.format] then
    return keras3().load(model, file, options)
  end
  if type(file) == "table" and tfckpt().TF_FORMATS[file.format] then
    return tfckpt().load(model, file, options)
  end
  if type(file) == "string" and not is_hdf5_path(file) and tfckpt().looks_like_tf(file) then
    return tfckpt().load_path(model, file, options)
  end
  local k3_options = options
  options = check_options(options, true)
  --[[ tf-keras: a model that has not created its variables cannot take HDF5 weights. ]]
  if model.built == false then
    errors.value_error("Unable to load weights saved in HDF5 format into a subclassed Model which has " ..
      "not created its variables yet. Call the Model first, then load the weights.")
  end
  if type(file) ~= "string" then return M.load_weights(model, file, options) end

  local open = options.open or default_opener()
  if not open then
    errors.not_implemented("no HDF5 file opener is available to load " .. file)
  end
  local f, msg = open(file)
  if not f then error(msg or ("cannot open " .. file), 0) end
  local ok, report
  if type(f) == "table" and KERAS3_FORMATS[f.format] then
    ok, report = pcall(keras3().load, model, f, k3_options, file)
  elseif type(f) == "table" and tfckpt().TF_FORMATS[f.format] then
    ok, report = pcall(tfckpt().load, model, f, k3_options, file)
  else
    ok, report = pcall(M.load_weights, model, f, options)
  end
  if type(f) == "table" or type(f) == "userdata" then
    local close = f.close
    if close then close(f) end
  end
  if not ok then error(report, 0) end
  return report
end

return M
