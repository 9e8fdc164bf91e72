--[[
weightkit.editor.save — writes the editor's objects in the format its target name asks for, with the
naming conversions between schemes. The writers are the model savers' (weightkit.saving,
weightkit.keras3.save, weightkit.tfckpt.save, the core): every write is atomic (temporary file, then
rename), so saving over the source works and tensors already read from it stay valid.

  save.target_format(path, max_shard_size) -> "keras2-h5" | "keras3-weights-h5" | "keras3-sharded" |
      "keras-zip" | "safetensors" | "tf-checkpoint"
  save.save(state, path, options) -> true | false (the user declined to overwrite)
      state: the editor's (editor/source.lua); options: overwrite (true), max_shard_size (GB),
      include_optimizer (true), metadata (safetensors __metadata__, string values)
  save.tf_spec(state, options) -> entries, nodes   the checkpoint the TF target gets; with
      options.shapes_only the entries carry `shape` instead of tensors and strings (compare uses it)

TARGETS BY NAME: `.weights.h5` Keras 3 weights (with max_shard_size: `.weights.json`, Keras's
warning); `.weights.json` Keras 3 sharded weights (needs max_shard_size); `.keras` an archive (needs a
config: the source archive's members are kept, the weights member replaced; any other source is a
ValueError); `.h5` / `.hdf5` Keras 2 weights HDF5 (a Keras 2 full-model source stays a full model:
its model_config is kept); `.safetensors`; anything else a TF checkpoint prefix (P.index,
P.data-00000-of-00001 and the directory's `checkpoint` file). overwrite = false and an existing
target (TF: P.index): weightkit.saving's prompt or FileExistsError.

NAMING CONVERSIONS (source scheme -> target). Objects keep their order, weights their order.
  Keras 2 target: a Keras 2 source keeps layer and weight names, keras_version ("1" for a Keras 1
    file: Keras reads a missing attribute as "1", so the Keras 1 conversions still apply) and backend;
    the top_level object becomes `top_level_model_weights`. Other sources: layer = object name,
    weight name = "<object>/<weight>" ("<weight>" for the root); the top_level object (Keras 3 root
    `vars`, TF root) becomes top_level_model_weights. Optimizer objects cannot be written (the
    Keras 2 writer has no optimizer_weights): left out with a warning.
  Keras 3 targets: object path = object name, except that a Keras 2 layer "dense_1" becomes the
    object "layers/dense_1" (where Keras 3 keeps a Sequential's or Functional's layers: tf.keras
    default names such as "dense", "dense_1" then line up with Keras 3's paths; a layer name that
    already starts with "layers/", as a Keras 3 file saved as .h5 has them, is kept); the
    top_level object -> the root `vars` (written empty when there is none, as Keras 3 does: readers
    recognize the format by it); weights become datasets "0", "1", ... in order (so a deleted
    weight renumbers the rest, as Keras's loader needs); the `name` attribute is the source's (Keras
    3) or the layer name (Keras 2).
  TF target: key "<object path>/<weight path>/.ATTRIBUTES/VARIABLE_VALUE", each component escaped
    (`.` -> `..`, `/` -> `.S`; a TF source's names are already escaped and are kept as stored).
    Object components are its name split at '/' (the top_level object: the root). Weight components:
    a Keras 2 weight name without ":N", split at '/', without the part up to the layer's own name
    ("dense_1/kernel:0" in layer "dense_1" -> "kernel"; "sequential/bidirectional/forward_lstm/
    lstm_cell/kernel" in "bidirectional" -> "forward_lstm/lstm_cell/kernel"); when that makes two
    weights of one object collide, each weight name is one component. Other schemes: the weight name
    is one component. The object graph is built from the keys: one node per path prefix, children
    in first-use order, VARIABLE_VALUE attributes on variable nodes; a TF source's slot variables
    (".../.OPTIMIZER_SLOT/<optimizer path>/<slot>") become slot_variables of the optimizer node, its
    OBJECT_CONFIG_JSON string attributes attributes of their objects (optional_restore). The source's
    own graph is not copied (edits would make it lie): alias edges such as `layer-1` next to
    `layer_with_weights-0` are not rebuilt; tf's restore matches by name along the paths, which the
    rebuilt graph keeps.
  safetensors: tensor name "<object>.<weight>" ("<weight>" for an object named ""), so a safetensors
    source round-trips exactly; metadata: options.metadata, else the source's `format` entry.
  String attributes (TF OBJECT_CONFIG_JSON) go to TF targets only (left out elsewhere, with a warning).
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local saving = require "weightkit.saving"
local k3save = require "weightkit.keras3.save"
local tfsave = require "weightkit.tfckpt.save"
local graph = require "weightkit.tfckpt.graph"
local source = require "weightkit.editor.source"

local M = {}

local KNOWN = { overwrite = true, max_shard_size = true, include_optimizer = true, metadata = true }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

function M.target_format(path, max_shard_size)
  if ends_with(path, ".weights.json") then return "keras3-sharded" end
  if ends_with(path, ".weights.h5") then return max_shard_size and "keras3-sharded" or "keras3-weights-h5" end
  if ends_with(path, ".keras") then return "keras-zip" end
  if ends_with(path, ".h5") or ends_with(path, ".hdf5") then return "keras2-h5" end
  if ends_with(path, ".safetensors") then return "safetensors" end
  return "tf-checkpoint"
end

local function split(s, sep)
  local out = {}
  if s == "" then return out end
  for part in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do out[#out + 1] = part end
  return out
end

-- The tensor of a record, read on first use (the editor's get does the same).
local function tensor_of(state, obj, rec)
  if rec.tensor == nil then
    local ok, t = pcall(function() return rec.entry.tensor end)
    if not ok or t == nil then
      errors.raise("OSError", string.format("%s: object '%s': weight '%s': cannot read the tensor: %s",
        tostring(state.source), obj.name, rec.name, tostring(t)))
    end
    rec.tensor = t
  end
  return rec.tensor
end
M.tensor_of = tensor_of

local function strings_of(state, obj, rec)
  if rec.strings == nil then rec.strings = state.file:strings(rec.entry) end
  return rec.strings
end

-- The objects a target gets: optimizer objects left out when asked or when `can_optimizer` is false
-- (with a warning then), string attributes left out unless `strings`.
local function selected(state, opts, target, can_optimizer, strings)
  local out, dropped_opt, dropped_str = {}, {}, 0
  for _, obj in ipairs(state.objects) do
    if obj.optimizer and (opts.include_optimizer == false or not can_optimizer) then
      if opts.include_optimizer ~= false and #obj.weights > 0 then dropped_opt[#dropped_opt + 1] = obj.name end
    else
      local weights = {}
      for _, rec in ipairs(obj.weights) do
        if rec.attribute and not strings then dropped_str = dropped_str + 1 else weights[#weights + 1] = rec end
      end
      out[#out + 1] = { obj = obj, weights = weights }
    end
  end
  if #dropped_opt > 0 then
    errors.warn(string.format("%s: optimizer state left out (a %s file cannot hold it): %s", target,
      target, table.concat(dropped_opt, ", ")))
  end
  if dropped_str > 0 then
    errors.warn(string.format("%s: %d TensorFlow string attribute(s) (OBJECT_CONFIG_JSON) left out: only " ..
      "a TensorFlow checkpoint holds them", target, dropped_str))
  end
  return out
end

local function scheme(state) return source.SCHEME[state.format] end

--{=====================================================================================================
-- Keras 2
--======================================================================================================

local function keras2_spec(state, opts)
  local keras2 = scheme(state) == "keras2"
  local layers, top = {}, nil
  for _, s in ipairs(selected(state, opts, "Keras 2 HDF5", false, false)) do
    local obj = s.obj
    local weights = {}
    for i, rec in ipairs(s.weights) do
      local name = rec.name
      if not keras2 and obj.name ~= "" and not obj.top_level then name = obj.name .. "/" .. rec.name end
      weights[i] = { name = name, tensor = tensor_of(state, obj, rec) }
    end
    if obj.top_level then top = weights else layers[#layers + 1] = { name = obj.name, weights = weights } end
  end
  local spec = { layers = layers, top_level = top or {} }
  if keras2 then
    spec.keras_version, spec.backend = state.keras_version, state.backend
    spec.omit_top_level = state.omit_top_level and top == nil
    spec.model_config = state.model_config
  end
  return spec
end

--{=====================================================================================================
-- Keras 3
--======================================================================================================

local function keras3_objects(state, opts)
  local keras2 = scheme(state) == "keras2"
  local out = {}
  for _, s in ipairs(selected(state, opts, "Keras 3", true, false)) do
    local obj = s.obj
    local tensors = {}
    for i, rec in ipairs(s.weights) do tensors[i] = tensor_of(state, obj, rec) end
    local name = obj.keras_name
    if name == nil and keras2 and not obj.top_level and not obj.optimizer then name = obj.name end
    local path = obj.name
    if obj.top_level then
      path = ""
    elseif keras2 and not obj.optimizer and path:sub(1, #"layers/") ~= "layers/" then
      path = "layers/" .. path
    end
    out[#out + 1] = { path = path, name = name, tensors = tensors }
  end
  -- Keras 3 always writes the model's own (often empty) root `vars`; readers detect the format by it
  for _, o in ipairs(out) do
    if o.path == "" then return out end
  end
  table.insert(out, 1, { path = "", tensors = {} })
  return out
end

local function keras_zip(state, objects, path, overwrite)
  local image, msg, code = core.keras3_image(objects)
  if not image then saving.raise_write_error(msg, code, true) end
  local members = {}
  for i, m in ipairs(state.members) do
    if m.weights then
      members[i] = { name = m.name, data = image, mtime = os.time() }
    else
      members[i] = { name = m.name, data = m.data, deflate = m.deflate, mtime = 0 }
    end
  end
  local ok
  ok, msg, code = core.save_keras_zip(path, members, overwrite)
  if not ok then saving.raise_write_error(msg, code, overwrite) end
end

--{=====================================================================================================
-- TensorFlow checkpoints
--======================================================================================================

local function unescape(name)
  return (name:gsub("%.([S%.])", function(c) return c == "S" and "/" or "." end))
end

-- Escaped components of an object's path (TF source: as stored).
local function object_components(state, obj)
  if obj.top_level then return {} end
  local parts = split(obj.name, "/")
  if scheme(state) ~= "tf" then
    for i, p in ipairs(parts) do parts[i] = graph.escape(p) end
  end
  return parts
end

local function keras2_weight_components(obj, name)
  local parts = split((name:gsub(":%d+$", "")), "/")
  local own = obj.name:match("([^/]*)$")
  for i = 1, #parts - 1 do
    if parts[i] == own then return table.move(parts, i + 1, #parts, 1, {}) end
  end
  return parts
end

-- Escaped weight components for every record of `weights` (see NAMING CONVERSIONS).
local function weight_components(state, obj, weights)
  local out, seen, clash = {}, {}, false
  for i, rec in ipairs(weights) do
    local parts
    if scheme(state) == "tf" then
      parts = { rec.name }
    elseif scheme(state) == "keras2" then
      parts = keras2_weight_components(obj, rec.name)
      for j, p in ipairs(parts) do parts[j] = graph.escape(p) end
    else
      parts = { graph.escape(rec.name) }
    end
    local key = table.concat(parts, "/")
    if seen[key] then clash = true end
    seen[key] = true
    out[i] = parts
  end
  if clash then
    for i, rec in ipairs(weights) do out[i] = { graph.escape(rec.name) } end
  end
  return out
end

local ATTR = "/.ATTRIBUTES/"

-- A builder of TrackableObjectGraph nodes keyed by escaped path ("" the root).
local function node_builder()
  local nodes, ids = { { children = {}, attributes = {}, slot_variables = {} } }, { [""] = 0 }
  local b = { nodes = nodes }
  local function new_node()
    nodes[#nodes + 1] = { children = {}, attributes = {}, slot_variables = {} }
    return #nodes - 1
  end
  function b.node(parts)
    local path = ""
    for _, p in ipairs(parts) do
      local child = path == "" and p or path .. "/" .. p
      if ids[child] == nil then
        ids[child] = new_node()
        local parent = nodes[ids[path] + 1]
        parent.children[#parent.children + 1] = { node_id = ids[child], local_name = unescape(p) }
      end
      path = child
    end
    return ids[path]
  end
  b.new_node = new_node
  return b
end

function M.tf_spec(state, opts)
  opts = opts or {}
  local b = node_builder()
  local entries = {}
  for _, s in ipairs(selected(state, opts, "TensorFlow checkpoint", true, true)) do
    local obj = s.obj
    local oparts = object_components(state, obj)
    local opath = table.concat(oparts, "/")
    local var_path, opt_path = nil, nil
    if scheme(state) == "tf" then var_path, opt_path = obj.name:match("^(.-)/%.OPTIMIZER_SLOT/(.+)$") end
    local variables = {}
    for _, rec in ipairs(s.weights) do
      if not rec.attribute then variables[#variables + 1] = rec end
    end
    local wparts = weight_components(state, obj, variables)
    for i, rec in ipairs(variables) do
      local key
      if var_path then
        local slot = b.new_node()
        local opt = b.nodes[b.node(split(opt_path, "/")) + 1]
        opt.slot_variables[#opt.slot_variables + 1] = { original_variable_node_id = b.node(split(var_path, "/")),
          slot_name = unescape(rec.name), slot_variable_node_id = slot }
        key = opath .. "/" .. rec.name .. ATTR .. "VARIABLE_VALUE"
        b.nodes[slot + 1].attributes[1] = { name = "VARIABLE_VALUE", full_name = unescape(var_path) .. "/" ..
          unescape(rec.name), checkpoint_key = key, optional_restore = false }
      else
        local parts = table.move(oparts, 1, #oparts, 1, {})
        table.move(wparts[i], 1, #wparts[i], #parts + 1, parts)
        local id = b.node(parts)
        local full = {}
        for j, p in ipairs(parts) do full[j] = unescape(p) end
        key = table.concat(parts, "/") .. ATTR .. "VARIABLE_VALUE"
        local node = b.nodes[id + 1]
        node.attributes[#node.attributes + 1] = { name = "VARIABLE_VALUE", full_name = table.concat(full, "/"),
          checkpoint_key = key, optional_restore = false }
      end
      local e = { key = key, object = obj.name, weight = rec.name, shape = rec.shape }
      if not opts.shapes_only then e.tensor = tensor_of(state, obj, rec) end
      entries[#entries + 1] = e
    end
    for _, rec in ipairs(s.weights) do
      if rec.attribute then
        local key = opath .. ATTR .. rec.name
        local node = b.nodes[b.node(oparts) + 1]
        node.attributes[#node.attributes + 1] = { name = rec.name, full_name = "", checkpoint_key = key,
          optional_restore = true }
        entries[#entries + 1] = { key = key, rank = #rec.shape, object = obj.name, weight = rec.name,
          attribute = true, strings = not opts.shapes_only and strings_of(state, obj, rec) or nil }
      end
    end
  end
  return entries, b.nodes
end

--{=====================================================================================================
-- safetensors
--======================================================================================================

local function safetensors_list(state, opts)
  local list = {}
  for _, s in ipairs(selected(state, opts, "safetensors", true, false)) do
    local obj = s.obj
    for _, rec in ipairs(s.weights) do
      local name = obj.name == "" and rec.name or obj.name .. "." .. rec.name
      list[#list + 1] = { name = name, tensor = tensor_of(state, obj, rec) }
    end
  end
  return list
end

--{=====================================================================================================
-- save
--======================================================================================================

function M.save(state, path, opts)
  if type(path) ~= "string" or path == "" then
    errors.type_error("save() filepath must be a non-empty string, got " .. type(path))
  end
  opts = errors.check_keywords("save", opts, KNOWN)
  local target = M.target_format(path, opts.max_shard_size)
  if target == "keras3-sharded" or target == "keras3-weights-h5" then
    if target == "keras3-sharded" and opts.max_shard_size == nil then
      errors.value_error("Saving to a sharded `.weights.json` needs `max_shard_size` (GB). Received: filepath=" ..
        path)
    end
    path = k3save.check_path(path, opts.max_shard_size)
  elseif opts.max_shard_size ~= nil then
    errors.value_error("`max_shard_size` applies to `.weights.json` / `.weights.h5` files only. Received: " ..
      "filepath=" .. path)
  end
  if target == "keras-zip" and state.members == nil then
    errors.value_error(string.format("Saving %s as a `.keras` archive needs a Keras 3 model config " ..
      "(config.json), which only a `.keras` source has; %s is a %s file. Save the weights as " ..
      "`.weights.h5` instead.", path, tostring(state.source), tostring(state.format)))
  end
  local overwrite = opts.overwrite
  if overwrite == nil then overwrite = true end
  local check_path = target == "tf-checkpoint" and path .. ".index" or path
  if not saving.confirm_overwrite(check_path, overwrite) then return false end
  if core.path_kind(check_path) == "file" then overwrite = true end
  overwrite = overwrite and true or false
  if target == "keras2-h5" then
    local spec = keras2_spec(state, opts)
    spec.overwrite = overwrite
    local ok, msg, code = core.save_keras2(path, spec)
    if not ok then saving.raise_write_error(msg, code, overwrite) end
  elseif target == "keras3-weights-h5" or target == "keras3-sharded" then
    local objects = keras3_objects(state, opts)
    if target == "keras3-weights-h5" then
      local ok, msg, code = core.save_keras3(path, objects, overwrite)
      if not ok then saving.raise_write_error(msg, code, overwrite) end
    else
      k3save.write_objects(path, objects, opts.max_shard_size)
    end
  elseif target == "keras-zip" then
    keras_zip(state, keras3_objects(state, opts), path, overwrite)
  elseif target == "safetensors" then
    local ok, msg, code = core.save_safetensors(path, safetensors_list(state, opts),
      { metadata = opts.metadata or state.safetensors_metadata, overwrite = overwrite })
    if not ok then saving.raise_write_error(msg, code, overwrite) end
  else
    local entries, nodes = M.tf_spec(state, opts)
    tfsave.write(path, entries, nodes, overwrite)
  end
  return true
end

return M
