--[[
weightkit.saving — `Model:save_weights(path, {overwrite = true, save_format = nil})`, tf.keras 2.15's
`save_weights` for the HDF5 format (keras-formats.md §1; the C writer is wk_write_keras2, bound as
weightkit.core.save_keras2).

  saving.save_weights(model, path, options) -> true, or false when the user declined to overwrite

FORMAT (tf.keras legacy save.save_weights; Keras 2.15 saving_api):
  - Keras 3 files go to weightkit.keras3.save (its own name rules and texts): a path ending in
    `.weights.h5` (Keras 3's layout, also in tf.keras 2.15) or `.weights.json` (sharded), any path
    with options.max_shard_size, and a `.keras` path without save_format (Keras 3 refuses it: "The
    filename must end in `.weights.h5`..."; a Keras 2 HDF5 file named .keras is what Keras 3 cannot
    open). save_format = "h5" still writes the Keras 2 layout under any other name;
  - save_format nil: `.h5`, `.hdf5`, `.keras` -> HDF5; any other suffix means a TF checkpoint, written
    by weightkit.tfckpt.save (the prefix P gives P.index, P.data-00000-of-00001 and the directory's
    `checkpoint` file);
  - save_format (case-insensitive, trimmed): "tf"/"tensorflow" -> TF (but first Keras's ValueError
    when the path looks like HDF5); "h5"/"hdf5"/"keras" -> HDF5 whatever the suffix;
    anything else -> ValueError('Unknown format "x". Was expecting one of {"tf", "h5"}.').
  - unknown option keys -> TypeError like a Python keyword argument.

OVERWRITE (default true, as Keras). overwrite = false and `path` (for the TF format: `path`.index, the
file tf.keras checks) is an existing regular file: when stdin
and stderr are terminals, ask like Keras's ask_to_proceed_with_overwrite ("[WARNING] <path> already exists
- overwrite? [y/n]", repeated as 'Enter "y" (overwrite) or "n" (cancel).' until y or n; "n" returns false
without writing; "y" prints "[TIP] Next time specify overwrite=True!" and saves); otherwise raise
`FileExistsError: <path> already exists (save_weights with overwrite = false)`. The C writer checks again
(atomically) when it moves the file into place.

WHAT IS WRITTEN: layer_names = model.layers in order (weightless layers included); per layer the
tf.keras `_legacy_weights` list: layer:trainable_weights() then layer:non_trainable_weights() (for a
nested model: all trainable weights of all its sublayers, then all non-trainable ones — not the
get_weights order, §3.7), named by variable.name ("dense/kernel:0"); top_level_model_weights = the
model's own weights (model:top_level_weights()). keras_version "2.15.0", backend "tensorflow".

ERRORS. Failures of the writer raise `OSError: <message>` (the message names file, layer and weight);
bad names `ValueError: ...`; a name above Keras's 64512-byte attribute limit `RuntimeError: ...`.
The previous file survives every failure (temporary file, fsync, rename: see weightkit.h "Writing").

`saving.terminal` holds the console hooks (is_interactive(), read_line(), write(text)); specs replace
them to drive the prompt.
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"

local M = {}

M.KERAS_VERSION = "2.15.0"
M.BACKEND = "tensorflow"
local KNOWN = { overwrite = true, save_format = true }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

-- tf.keras saving_utils.is_hdf5_filepath
local function is_hdf5_path(path)
  return ends_with(path, ".h5") or ends_with(path, ".keras") or ends_with(path, ".hdf5")
end

M.terminal = {
  is_interactive = function() return core.isatty(0) and core.isatty(2) end,
  read_line = function() return io.stdin:read("l") end,
  write = function(text) io.stderr:write(text); io.stderr:flush() end,
}

-- Keras's ask_to_proceed_with_overwrite: true to proceed.
local function ask_to_proceed_with_overwrite(path)
  local term = M.terminal
  term.write("[WARNING] " .. path .. " already exists - overwrite? [y/n]")
  local answer = term.read_line()
  answer = answer and answer:match("^%s*(.-)%s*$"):lower()
  while answer ~= "y" and answer ~= "n" do
    if answer == nil then return false end -- end of input: cancel
    term.write('Enter "y" (overwrite) or "n" (cancel).')
    answer = term.read_line()
    answer = answer and answer:match("^%s*(.-)%s*$"):lower()
  end
  if answer == "n" then return false end
  term.write("[TIP] Next time specify overwrite=True!\n")
  return true
end

local function check_options(options)
  return errors.check_keywords("save_weights", options, KNOWN)
end

-- "h5" or "tf", or raises (unknown formats, TF with an HDF5 name), per the rules above.
local function resolve_format(path, save_format)
  local h5 = is_hdf5_path(path)
  local format
  if save_format == nil then
    format = h5 and "h5" or "tf"
  else
    local user = tostring(save_format):lower():match("^%s*(.-)%s*$")
    if user == "tensorflow" or user == "tf" then
      format = "tf"
    elseif user == "hdf5" or user == "h5" or user == "keras" then
      format = "h5"
    else
      errors.value_error('Unknown format "' .. tostring(save_format) .. '". Was expecting one of {"tf", "h5"}.')
    end
  end
  if format == "tf" and h5 then
    errors.value_error('save_weights got save_format="tf"/"tensorflow", but the filepath ("' .. path ..
      '") looks like an HDF5 file. Omit the ".h5"/".keras" when saving in TensorFlow format.')
  end
  return format
end

local function weight_entries(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = { name = v.name, tensor = v.value } end
  return out
end

-- The writer's spec for `model` (see the header comment).
function M.spec_of(model)
  local layers = {}
  for i, layer in ipairs(model.layers or {}) do
    local weights = {}
    for _, v in ipairs(layer:trainable_weights()) do weights[#weights + 1] = v end
    for _, v in ipairs(layer:non_trainable_weights()) do weights[#weights + 1] = v end
    layers[i] = { name = layer.name, weights = weight_entries(weights) }
  end
  local top = {}
  if type(model.top_level_weights) == "function" then top = model:top_level_weights() end
  return {
    layers = layers,
    top_level = weight_entries(top),
    keras_version = M.KERAS_VERSION,
    backend = M.BACKEND,
  }
end

local ERROR_KIND = { EINVAL = "ValueError", ELIMIT = "RuntimeError", ENOMEM = "MemoryError" }

-- Raises a writer failure (nil, msg, code from weightkit.core) with its Python class (ERRORS above).
function M.raise_write_error(msg, code, overwrite)
  if code == "EIO" and not overwrite and msg:find("already exists", 1, true) then
    errors.raise("FileExistsError", msg)
  end
  errors.raise(ERROR_KIND[code] or "OSError", msg)
end

-- The overwrite policy above, shared with keras3/save.lua: true to write (overwriting), false when the
-- user declined; raises FileExistsError when nobody can be asked.
function M.confirm_overwrite(path, overwrite)
  if overwrite or core.path_kind(path) ~= "file" then return true end
  if not M.terminal.is_interactive() then
    errors.raise("FileExistsError", path .. " already exists (save_weights with overwrite = false)")
  end
  return ask_to_proceed_with_overwrite(path)
end

-- Keras 3 names (see the header): `.weights.h5`, `.weights.json`, max_shard_size, and `.keras` unless
-- a Keras 2 save_format is asked for.
local function is_keras3_save(path, options)
  if ends_with(path, ".weights.h5") or ends_with(path, ".weights.json") then return true end
  if options.max_shard_size ~= nil then return true end
  return ends_with(path, ".keras") and options.save_format == nil
end

function M.save_weights(model, path, options)
  if type(path) ~= "string" then
    errors.type_error("save_weights() filepath must be a string, got " .. type(path))
  end
  if is_keras3_save(path, type(options) == "table" and options or {}) then
    return require("weightkit.keras3.save").save_weights(model, path, options)
  end
  options = check_options(options)
  local overwrite = options.overwrite
  if overwrite == nil then overwrite = true end
  local format = resolve_format(path, options.save_format)
  if model.built == false then
    errors.value_error("Weights for model '" .. tostring(model.name) .. "' have not yet been created. Weights " ..
      "are created when the model is first called on inputs or `build()` is called with an `input_shape`.")
  end
  -- tf.keras checks `path + ".index"` for the TF format
  local check_path = format == "tf" and path .. ".index" or path
  if not M.confirm_overwrite(check_path, overwrite) then return false end
  if not overwrite and core.path_kind(check_path) == "file" then overwrite = true end
  if format == "tf" then return require("weightkit.tfckpt.save").save(model, path, overwrite) end
  local spec = M.spec_of(model)
  spec.overwrite = overwrite and true or false
  local ok, msg, code = core.save_keras2(path, spec)
  if not ok then M.raise_write_error(msg, code, overwrite) end
  return true
end

return M
