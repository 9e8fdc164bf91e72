--[[
weightkit.editor.source — reads a weights file of any format into the editor's objects (the state
weightkit.editor edits). Nothing here reads tensor bytes: every weight keeps its file entry and its
tensor is read on first use (editor.tensor_of).

  source.read(path_or_file) -> state
      state = { format =, source = <path>, files = {opened files the editor closes}, objects = {obj, ...},
                keras_version =, backend =, model_config =, omit_top_level =, members =, weights_member =,
                safetensors_metadata = }
      obj   = { name =, weights = {rec, ...}, top_level = bool, optimizer = bool, metrics = bool,
                keras_name = <a Keras 3 vars group's `name` attribute> | nil }
      rec   = { name =, shape =, dtype =, entry = <lazy file entry> | nil, tensor = <set tensor> | nil,
                attribute = true for a TF non-variable attribute (OBJECT_CONFIG_JSON: string values) }

OBJECTS PER FORMAT (the names file:layers() gives, see weightkit.file):
  - Keras 2 HDF5 ("keras2-h5", "keras2-h5-model"): one object per layer_names entry (weightless ones
    too), weights as weight_names lists them; `top_level_model_weights` -> the object of that name,
    flagged top_level (absent group: state.omit_top_level, so a resave keeps the old layout);
    `optimizer_weights` -> the object "optimizer_weights", flagged optimizer. keras_version and backend
    are kept (a Keras 1 file without keras_version keeps reading as Keras 1: Keras takes a missing
    attribute as "1", and so does a resave, which writes "1"); a full model keeps its model_config.
  - Keras 3 (".weights.h5", ".keras", a sharded ".weights.json" index): one object per `vars` group,
    named by its object path; tf.keras 2.15-on-Windows paths ("layers\\dense") are normalized to '/'
    as Keras 3's loader needs them. The root's `vars` ("") is flagged top_level, `optimizer` and
    `optimizer/...` optimizer, `metrics/...` metrics. A `.keras` archive keeps its other members
    (metadata.json, config.json, assets) for a save back to `.keras`.
  - TF checkpoints and SavedModel variables: one object per object path as stored (escaped names),
    variables named by their attribute-owner name ("kernel"); the root ("") is flagged top_level; the
    root's `optimizer` subtree and slot variables (".OPTIMIZER_SLOT") optimizer; SavedModel
    `keras_api/...` metrics. Non-variable attributes (OBJECT_CONFIG_JSON) are string weights
    (rec.attribute) kept for TF targets only.
  - safetensors: the groups at the last '.'; no flags.
]]
local errors = require "weightkit.errors"
local file_mod = require "weightkit.file"
local store_mod = require "weightkit.keras3.store"

local M = {}

M.SCHEME = {
  ["keras2-h5"] = "keras2", ["keras2-h5-model"] = "keras2",
  ["keras3-weights-h5"] = "keras3", ["keras-zip"] = "keras3", ["keras3-sharded"] = "keras3",
  ["tf-checkpoint"] = "tf", savedmodel = "tf", safetensors = "safetensors",
}

-- Where the archive's weights live (Keras 2.11 wrote variables.h5).
M.WEIGHTS_MEMBERS = { ["model.weights.h5"] = true, ["variables.h5"] = true }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function record(w)
  return { name = w.name, shape = w.shape, dtype = w.dtype, entry = w }
end

local function records(list)
  local out = {}
  for i, w in ipairs(list or {}) do out[i] = record(w) end
  return out
end

local function under(path, root)
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

local function keras2_objects(f, state)
  local objects = {}
  for _, l in ipairs(f:layers()) do objects[#objects + 1] = { name = l.name, weights = records(l.weights) } end
  local top = f.top_level_weights
  if top then
    objects[#objects + 1] = { name = "top_level_model_weights", weights = records(top), top_level = true }
  else
    state.omit_top_level = true
  end
  local opt = f.optimizer_weights
  if opt then
    objects[#objects + 1] = { name = "optimizer_weights", weights = records(opt), optimizer = true }
  end
  state.keras_version = f.keras_version or "1"
  state.backend = f.backend
  if f.format == "keras2-h5-model" then state.model_config = f:attribute("/", "model_config") end
  return objects
end

local function keras3_object(o)
  local obj = { name = o.path, weights = records(o.weights), keras_name = o.name }
  obj.top_level = o.path == ""
  obj.optimizer = under(o.path, "optimizer")
  obj.metrics = under(o.path, "metrics")
  return obj
end

local function keras3_objects(list)
  local objects = {}
  for _, o in ipairs(list) do objects[#objects + 1] = keras3_object(o) end
  return objects
end

local function tf_objects(f)
  local objects = {}
  for _, l in ipairs(f:layers()) do
    local weights = {}
    for _, w in ipairs(l.weights) do
      local rec = record(w)
      -- "<object>/.ATTRIBUTES/<attr>" (root: "/.ATTRIBUTES/<attr>"): the object's own attribute
      if w.path == l.name .. "/.ATTRIBUTES/" .. w.name then rec.attribute = true end
      weights[#weights + 1] = rec
    end
    local name = l.name
    objects[#objects + 1] = { name = name, weights = weights, top_level = name == "",
      optimizer = under(name, "optimizer") or name:find("/.OPTIMIZER_SLOT/", 1, true) ~= nil,
      metrics = under(name, "keras_api") }
  end
  return objects
end

local function safetensors_objects(f, state)
  local objects = {}
  for _, l in ipairs(f:layers()) do objects[#objects + 1] = { name = l.name, weights = records(l.weights) } end
  local ok, fmt = pcall(f.attribute, f, "__metadata__", "format")
  if ok and type(fmt) == "string" then state.safetensors_metadata = { format = fmt } end
  return objects
end

local function keras_zip_members(f, state)
  local members = {}
  for _, m in ipairs(f:members()) do
    if M.WEIGHTS_MEMBERS[m.name] and state.weights_member == nil then
      state.weights_member = m.name
      members[#members + 1] = { name = m.name, weights = true }
    else
      -- read now: a later save may replace the archive
      members[#members + 1] = { name = m.name, data = f:member(m.name), deflate = m.method ~= 0 }
    end
  end
  state.members = members
end

local function open_path(path)
  local f, msg, code = file_mod.open(path)
  if not f then errors.raise(code == "EFORMAT" and "ValueError" or "OSError", tostring(msg)) end
  return f
end

function M.read(src)
  local state = { files = {} }
  if type(src) == "string" and ends_with(src, ".weights.json") then
    local store, opened = store_mod.sharded(src, file_mod.open)
    state.format, state.source, state.files = "keras3-sharded", src, opened
    state.objects = keras3_objects(store.objects)
    return state
  end
  local f
  if type(src) == "string" then
    f = open_path(src)
    state.files[1] = f
  elseif file_mod.is_file(src) then
    f = src
  else
    errors.type_error("editor.open expects a file path or an opened file (wk.open), got " .. type(src))
  end
  state.format, state.source = f.format, f.name
  local scheme = M.SCHEME[f.format]
  local ok, err = pcall(function()
    if scheme == "keras2" then
      state.objects = keras2_objects(f, state)
    elseif scheme == "keras3" then
      state.objects = keras3_objects(store_mod.file_objects(f))
      if f.format == "keras-zip" then keras_zip_members(f, state) end
    elseif scheme == "tf" then
      state.objects = tf_objects(f)
    elseif scheme == "safetensors" then
      state.objects = safetensors_objects(f, state)
    else
      errors.value_error(string.format("%s: format %s cannot be edited", tostring(f.name), tostring(f.format)))
    end
  end)
  if not ok then
    for _, g in ipairs(state.files) do g:close() end
    error(err, 0)
  end
  state.file = f
  return state
end

return M
