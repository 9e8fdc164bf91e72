--[[
weightkit.models — whole models: from a config, from a file, to a file (design.md §3).

  models.from_config(json_text_or_table, {custom_objects =}) -> model, info
      Keras model_config / config.json -> a Lua model (weightkit.config.deserialize); info.opaque lists
      the layers weightkit does not know (OpaqueLayer), info.format "keras1" | "keras2" | "keras3".
  models.model_from_json(text, opts)      the same (Keras's name)
  models.load_model(path, {custom_objects =, by_name =, skip_mismatch =}) -> model, report
      - a full-model HDF5 file: root attribute model_config -> model -> Keras 2 HDF5 load_weights;
      - a `.keras` archive: member config.json -> model -> Keras 3 load_weights of the archive.
      Opaque layers get their weights' names and shapes from the file first (Keras 2: the layer
      group's weight_names; Keras 3: the vars groups under the layer's object path). report.opaque =
      the opaque layers' names (in model order); report.config_format as info.format.
  models.save_model(model, path, {overwrite = true}) (model:save(path, opts))
      - `.keras`: metadata.json {"keras_version": KERAS3_VERSION, "date_saved": "%Y-%m-%d@%H:%M:%S"},
        config.json (Keras 3 form), model.weights.h5 (weightkit.keras3.save.image), written by
        core.save_keras_zip with the JSON members dated 1980-01-01 (mtime 0) and the weights member at
        save time, as Keras's zipfile does;
      - `.h5` / `.hdf5` / anything else: a Keras 2 full-model file: the Keras 2 weights spec of
        weightkit.saving plus model_config (the C writer puts it at the root and the weights under
        model_weights).

  models.Subclassed{class_name =, name =, children = {{"attr", layer | {layers}}, ...}, call = fn?}
      a subclassed-model stand-in whose children are named by attribute (weightkit.subclassed; its
      TF checkpoint keys are `attr/kernel/.ATTRIBUTES/VARIABLE_VALUE`, ...).

ERRORS. An HDF5 file without model_config: `ValueError: No model found in config file.` (tf.keras);
a `.keras` archive without config.json: the archive reader's error.
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local deserialize = require "weightkit.config.deserialize"
local serialize = require "weightkit.config.serialize"
local opaque = require "weightkit.layers.opaque"

local M = {}

M.Subclassed = require "weightkit.subclassed"

local function open_file(path)
  local file, msg = require("weightkit.file").open(path)
  if not file then errors.raise("OSError", msg) end
  return file
end

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

function M.from_config(config, opts)
  opts = opts or {}
  return deserialize.from_config(config, {custom_objects = opts.custom_objects,
    opaque_weights = opts.opaque_weights})
end
M.model_from_json = M.from_config

-- The file's layer groups by name (Keras 2 HDF5).
local function keras2_groups(file)
  local by_name = {}
  for _, l in ipairs(file:layers()) do
    if by_name[l.name] == nil then by_name[l.name] = l end
  end
  return by_name
end

local function opaque_names(model)
  local names = {}
  local function walk(l)
    if opaque.is_opaque(l) then names[#names + 1] = l.name; return end
    for _, sub in ipairs(l._layers or {}) do walk(sub) end
  end
  walk(model)
  return names
end

-- The object path of every opaque layer in the Keras 3 walk (their keras3_objects() is the unshaped
-- {{path = ""}} at this point, so the walk reports each at its own path).
local function opaque_paths(model)
  local paths = {}
  for _, o in ipairs(require("weightkit.keras3.paths").objects(model)) do
    if o.opaque and o.layer and paths[o.layer] == nil then paths[o.layer] = o.path end
  end
  return paths
end

local function load_keras_archive(path, file, opts)
  local text = file._handle:member("config.json")
  local model, info = M.from_config(text, opts)
  if #info.opaque > 0 then
    local objects = require("weightkit.keras3.load").file_objects(file)
    local paths = opaque_paths(model)
    for _, l in ipairs(info.opaque) do
      opaque.shape_keras3(l, objects, paths[l] or "")
    end
  end
  file:close()
  local report = model:load_weights(path, {skip_mismatch = opts.skip_mismatch})
  return model, report, info
end

local function load_full_h5(path, file, opts)
  local text = file:attribute("/", "model_config")
  if text == nil then
    file:close()
    errors.value_error("No model found in config file.")
  end
  local groups = keras2_groups(file)
  local model, info = M.from_config(text, {custom_objects = opts.custom_objects,
    opaque_weights = function(name)
      local g = groups[name]
      if g and #g.weights > 0 then return g end
      return nil
    end})
  for _, l in ipairs(info.opaque) do opaque.shape_keras2(l, groups[l.name]) end
  file:close()
  if not model.load_weights then
    errors.value_error("the model_config of " .. path .. " describes a single layer, not a model")
  end
  local report = model:load_weights(path, {by_name = opts.by_name, skip_mismatch = opts.skip_mismatch})
  return model, report, info
end

function M.load_model(path, opts)
  opts = opts or {}
  if type(path) ~= "string" then errors.type_error("load_model expects a file path") end
  local file = open_file(path)
  local model, report, info
  local ok, err = pcall(function()
    if file.format == "keras-zip" then
      model, report, info = load_keras_archive(path, file, opts)
    else
      model, report, info = load_full_h5(path, file, opts)
    end
  end)
  if not file:is_closed() then file:close() end
  if not ok then error(err, 0) end
  if type(report) == "table" then
    report.opaque = opaque_names(model)
    report.config_format = info.format
  end
  return model, report
end

--{=====================================================================================================
-- Saving
--======================================================================================================

local function save_keras(model, path, overwrite)
  local metadata = serialize.to_json(serialize.object({"keras_version", "date_saved"}, {
    keras_version = serialize.KERAS3_VERSION, date_saved = os.date("%Y-%m-%d@%H:%M:%S")}))
  local config = serialize.to_json(serialize.keras3_config(model))
  local image = require("weightkit.keras3.save").image(model)
  local ok, msg, code = core.save_keras_zip(path, {
    {name = "metadata.json", data = metadata, mtime = 0},
    {name = "config.json", data = config, mtime = 0},
    {name = "model.weights.h5", data = image, mtime = os.time()},
  }, overwrite)
  if not ok then errors.raise(code == "EINVAL" and "ValueError" or "OSError", msg) end
  return true
end

local function save_h5(model, path, overwrite)
  local saving = require "weightkit.saving"
  local spec = saving.spec_of(model)
  spec.overwrite = overwrite
  spec.model_config = serialize.to_json(serialize.model_config(model))
  local ok, msg, code = core.save_keras2(path, spec)
  if not ok then errors.raise(code == "EINVAL" and "ValueError" or "OSError", msg) end
  return true
end

-- model:save(path, {overwrite = true}) -> true, or false when the user declined to overwrite.
function M.save_model(model, path, opts)
  opts = opts or {}
  if type(path) ~= "string" then errors.type_error("save() filepath must be a string, got " .. type(path)) end
  if not model.built then
    errors.value_error("You are saving a model that has not yet been built. Try building the model first " ..
      "by calling it on some data or by using `build()`.")
  end
  local overwrite = opts.overwrite
  if overwrite == nil then overwrite = true end
  if not require("weightkit.saving").confirm_overwrite(path, overwrite) then return false end
  if ends_with(path, ".keras") then return save_keras(model, path, true) end
  return save_h5(model, path, true)
end

return M
