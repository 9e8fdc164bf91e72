--[[
weightkit.tfckpt.load — tf-keras `Model.load_weights` for TensorFlow checkpoints and SavedModel
directories (keras-formats.md §5.7, §5.8): restore by object graph into a Lua model walked as tf.keras
tracks it (weightkit.tfckpt.graph).

  load.load(model, file, options, label) -> report
      file: an opened file (wk.open) of format "tf-checkpoint" or "savedmodel".
  load.load_path(model, path, options) -> report
      opens `path` (a prefix P of P.index, the P.index file, a directory with a `checkpoint` file, a
      SavedModel directory) with options.open or wk.open, loads, closes (also on failure).
  load.looks_like_tf(path) -> boolean
      tf-keras `_detect_save_format` for a name without an HDF5 suffix: P.index exists, or `path` is
      a `.index` file, or a directory holding `checkpoint`, saved_model.pb or saved_model.pbtxt.
  options: by_name, skip_mismatch (tf-keras's keywords, see below), open (ours), options (tf's
  CheckpointOptions; accepted and ignored).

RESTORE (tf `CheckpointPosition._restore_descendants`): saved node 0 is bound to the model; then
breadth-first, for every saved child edge of a bound pair, the live object's dependency of the same
local name (graph.lookup) is bound to the saved node, unless that node is already bound (a saved
object reached by two names, like `layer_with_weights-0` and `layer-1`, is bound once; binding it to
another live object is tf's "Inconsistent references" warning). A live object takes the attributes
of the FIRST saved node bound to it (tf's update uid); a bound variable gets its VARIABLE_VALUE.
Saved edges with no live counterpart (the `optimizer`, SavedModel's `variables`, `keras_api`, a
`layer-3` the model lacks) are left alone. OBJECT_CONFIG_JSON attributes (TF 2.0-alpha) are optional
and ignored.

CHECKS, in tf's order, all BEFORE any variable is assigned (tf-keras restores variable by variable, so
an error leaves the earlier ones restored; weightkit's failed load changes nothing):
  - skip_mismatch = true without by_name: ValueError "When calling model.load_weights, skip_mismatch
    can only be set to True when by_name is True."
  - by_name = true: NotImplementedError "Weights may only be loaded based on topology into Models
    when loading TensorFlow-formatted weights (got by_name=True to load_weights)." (tf-keras raises
    it after restoring; weightkit raises before touching anything);
  - a model that has not created its variables: ValueError (tf would defer the restore until they
    are created; weightkit cannot, so: build it first);
  - no _CHECKPOINTABLE_OBJECT_GRAPH (a TF1 name-based checkpoint): ValueError, weightkit restores
    object-based checkpoints only;
  - a shape mismatch: ValueError "Received incompatible tensor with shape (a, b) when attempting to
    restore variable with shape (c, d) and name <checkpoint key>." (tf's saveable name is the key);
  - a dtype mismatch: InvalidArgumentError "tensor_name = <key>; expected dtype float does not equal
    original dtype double" (TF's restore_v2 text);
  - only the root matched (tf `assert_nontrivial_match`: at most one saved node bound): if the model
    has variables, AssertionError "Nothing except the root object matched a checkpointed value.
    Typically this means that the checkpoint does not match the Python program. The following
    objects have no matching checkpointed value: [<tf.Variable 'dense/kernel:0' shape=(3, 4)
    dtype=float32>, ...]" (tf's repr adds `numpy=...`, left out here; model order); else
    AssertionError "Nothing to load. No dependencies have been added to <model> yet.".
  - SavedModel directory whose variables cannot be opened: ValueError "Unable to load weights.
    filepath <dir> appears to be a SavedModel directory, but checkpoint either doesn't exist, or is
    incorrectly formatted."

REPORT (loading/report.lua, mode "tf-checkpoint"): matched = one entry per live layer that received
values {file = <saved object path>, layer = <layer name>, weights = {{name = "dense/kernel:0",
file = <checkpoint key>, shape}}}; missing = live variables (names) that received nothing; unused =
checkpoint keys of values nothing took, besides the optimizer's; report.optimizer = keys of values
reachable only through the root's `optimizer` edge (old `optimizer/iter`, new `optimizer/_variables/N`
...); report.slots = keys of slot variables (`.../.OPTIMIZER_SLOT/optimizer/m/...`). Instead of tf's
warning per unresolved object, one warning with the count when unused is not empty (the optimizer and
slots are expected leftovers: no warning).
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local graph = require "weightkit.tfckpt.graph"
local report_mod = require "weightkit.loading.report"
local shape_str = require("weightkit.naming").shape_str

local M = {}

local KNOWN = { by_name = true, skip_mismatch = true, open = true, options = true }

M.TF_FORMATS = { ["tf-checkpoint"] = true, savedmodel = true }

-- TF DataType names as its errors print them.
local TF_DTYPE = { float32 = "float", float64 = "double", float16 = "half", bfloat16 = "bfloat16",
  int8 = "int8", int16 = "int16", int32 = "int32", int64 = "int64", uint8 = "uint8", uint16 = "uint16",
  uint32 = "uint32", uint64 = "uint64", bool = "bool", string = "string" }

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

local function is_savedmodel_dir(path)
  return core.path_kind(path) == "directory" and (core.path_kind(path .. "/saved_model.pb") == "file"
    or core.path_kind(path .. "/saved_model.pbtxt") == "file")
end

function M.looks_like_tf(path)
  if core.path_kind(path .. ".index") == "file" then return true end
  if ends_with(path, ".index") and core.path_kind(path) == "file" then return true end
  if core.path_kind(path) ~= "directory" then return false end
  return is_savedmodel_dir(path) or core.path_kind(path .. "/checkpoint") == "file"
end

local function check_options(options)
  options = errors.check_keywords("load_weights", options, KNOWN)
  if options.skip_mismatch and not options.by_name then
    errors.value_error("When calling model.load_weights, skip_mismatch can only be set to True when by_name " ..
      "is True.")
  end
  if options.by_name then
    errors.not_implemented("Weights may only be loaded based on topology into Models when loading " ..
      "TensorFlow-formatted weights (got by_name=True to load_weights).")
  end
  return options
end

-- Per live object, its dependencies by local name (first of each name), computed once per load.
local function dependency_lookup()
  local maps = {}
  return function(obj, name)
    local map = maps[obj]
    if not map then
      map = {}
      for _, c in ipairs(graph.children(obj)) do
        if map[c[1]] == nil then map[c[1]] = c[2] end
      end
      maps[obj] = map
    end
    return map[name]
  end
end

-- Node ids (Lua indices) reachable from the root without the root's `optimizer` edge, and the slot
-- variable nodes.
local function classify(nodes)
  local main, queue, head = { [1] = true }, { 1 }, 1
  while head <= #queue do
    local id = queue[head]
    head = head + 1
    for _, c in ipairs(nodes[id].children or {}) do
      local cid = c.node_id + 1
      if not main[cid] and not (id == 1 and c.local_name == "optimizer") then
        main[cid] = true
        queue[#queue + 1] = cid
      end
    end
  end
  local slots = {}
  for _, n in ipairs(nodes) do
    for _, s in ipairs(n.slot_variables or {}) do slots[s.slot_variable_node_id + 1] = true end
  end
  return main, slots
end

-- tf's pretty names of saved nodes ("(root).layer_with_weights-0.kernel"): the first BFS path.
local function pretty_names(nodes)
  local names, queue, head = { [1] = "(root)" }, { 1 }, 1
  while head <= #queue do
    local id = queue[head]
    head = head + 1
    for _, c in ipairs(nodes[id].children or {}) do
      local cid = c.node_id + 1
      if names[cid] == nil and nodes[cid] then
        names[cid] = names[id] .. "." .. c.local_name
        queue[#queue + 1] = cid
      end
    end
  end
  return names
end

-- The breadth-first binding (see RESTORE). Returns the plan {{variable, key}, ...}, the number of
-- saved nodes bound, and the inconsistent references ({{edge = "(root).layer-1", node = "(root).x"}}).
local function bind(model, nodes)
  local lookup = dependency_lookup()
  local bound, n_bound, inconsistent = { [1] = model }, 1, {}
  local names = nil
  local restored, plan = {}, {}
  local queue, head = { 1 }, 1
  while head <= #queue do
    local id = queue[head]
    head = head + 1
    local obj, node = bound[id], nodes[id]
    if not restored[obj] then
      restored[obj] = true
      if graph.is_variable(obj) then
        for _, a in ipairs(node.attributes or {}) do
          if a.name == "VARIABLE_VALUE" then plan[#plan + 1] = { variable = obj, key = a.checkpoint_key } end
        end
      end
    end
    for _, c in ipairs(node.children or {}) do
      local cid = c.node_id + 1
      local live = nodes[cid] and lookup(obj, c.local_name)
      if live ~= nil then
        if bound[cid] == nil then
          bound[cid], n_bound = live, n_bound + 1
          queue[#queue + 1] = cid
        elseif bound[cid] ~= live then
          names = names or pretty_names(nodes)
          inconsistent[#inconsistent + 1] = { edge = names[id] .. "." .. c.local_name, node = names[cid] }
        end
      end
    end
  end
  return plan, n_bound, inconsistent
end

local same_shape = require("weightkit.naming").same_shape

local function nontrivial_match_error(model)
  local vars = model:weights()
  if #vars == 0 then
    errors.raise("AssertionError", "Nothing to load. No dependencies have been added to " .. tostring(model) ..
      " yet.")
  end
  local reprs = {}
  for i, v in ipairs(vars) do reprs[i] = tostring(v) end
  errors.raise("AssertionError", "Nothing except the root object matched a checkpointed value. Typically " ..
    "this means that the checkpoint does not match the Python program. The following objects have no " ..
    "matching checkpointed value: [" .. table.concat(reprs, ", ") .. "]")
end

-- The saved object path of a variable key: "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
-- -> "layer_with_weights-0".
local function owner_path(key)
  local obj = key:gsub("/%.ATTRIBUTES/[^/]*$", "")
  return obj:match("^(.*)/[^/]*$") or ""
end

local function fill_report(report, model, nodes, plan)
  local main, slots = classify(nodes)
  local assigned, assigned_var = {}, {}
  local by_layer = nil
  for _, p in ipairs(plan) do
    local v, t = p.variable, p.value
    assigned[p.key], assigned_var[v] = true, true
    local layer = v.layer and v.layer.name or "?"
    if not by_layer or by_layer.layer ~= layer then
      by_layer = { file = owner_path(p.key), layer = layer, weights = {} }
      report:add_matched(by_layer)
    end
    by_layer.weights[#by_layer.weights + 1] = { name = v.name, file = p.key, shape = t:shape() }
  end
  for _, v in ipairs(model:weights()) do
    if not assigned_var[v] then report.missing[#report.missing + 1] = v.name end
  end
  report.optimizer, report.slots = {}, {}
  for id, n in ipairs(nodes) do
    for _, a in ipairs(n.attributes or {}) do
      local key = a.checkpoint_key
      if a.name == "VARIABLE_VALUE" and not assigned[key] then
        if slots[id] then
          report.slots[#report.slots + 1] = key
        elseif not main[id] then
          report.optimizer[#report.optimizer + 1] = key
        else
          report.unused[#report.unused + 1] = key
        end
      end
    end
  end
  if #report.unused > 0 then
    report:warn(string.format("A checkpoint was restored but not all checkpointed values were used: %d " ..
      "value(s) matched no variable of the model (first: %s); report.unused lists them",
      #report.unused, report.unused[1]))
  end
end

function M.load(model, file, options, label)
  check_options(options) -- raises for what tf-keras refuses; nothing else to read
  label = label or (type(file) == "table" and file.name) or "checkpoint"
  if model.built == false then
    errors.value_error(string.format("Model '%s' has not created its variables yet: weightkit cannot defer a " ..
      "TensorFlow checkpoint restore until they are created (tf.keras does). Build it first (call it on " ..
      "an input or model:build(shape)), then load the weights.", tostring(model.name)))
  end
  local nodes = file:object_graph()
  if nodes == nil or #nodes == 0 then
    errors.value_error(string.format("%s has no object graph (_CHECKPOINTABLE_OBJECT_GRAPH): it is a " ..
      "name-based (TF1) checkpoint, which weightkit does not restore into models. Its tensors can still " ..
      "be read with wk.open(path):tensors().", tostring(label)))
  end
  local entries = {}
  for _, d in ipairs(file:tensors()) do entries[d.path] = d end
  local plan, n_bound, inconsistent = bind(model, nodes)
  for _, p in ipairs(plan) do
    local e = entries[p.key]
    if e == nil then
      errors.raise("NotFoundError", "Key " .. p.key .. " not found in checkpoint")
    end
    local vdt = p.variable:dtype()
    if e.dtype ~= vdt then
      errors.raise("InvalidArgumentError", string.format("tensor_name = %s; expected dtype %s does not equal " ..
        "original dtype %s", p.key, TF_DTYPE[vdt] or vdt, TF_DTYPE[e.dtype] or e.dtype))
    end
    if not same_shape(e.shape, p.variable:shape()) then
      errors.value_error(string.format("Received incompatible tensor with shape %s when attempting to restore " ..
        "variable with shape %s and name %s.", shape_str(e.shape), shape_str(p.variable:shape()), p.key))
    end
  end
  if n_bound <= 1 then nontrivial_match_error(model) end
  for _, p in ipairs(plan) do p.value = entries[p.key].tensor end -- every read (and CRC) before assigning
  for _, p in ipairs(plan) do p.variable:assign(p.value) end
  local report = report_mod.new("tf-checkpoint", false)
  report.source, report.format = label, file.format
  fill_report(report, model, nodes, plan)
  if #inconsistent > 0 then
    local first = inconsistent[1]
    report:warn(string.format("Inconsistent references when loading the checkpoint into this object graph: " ..
      "%d saved edge(s) name an object the model has under another name (first: %s is %s in the checkpoint, " ..
      "another object in the model); each object took the values of its first name", #inconsistent,
      first.edge, first.node))
  end
  return report
end

function M.load_path(model, path, options)
  local opts = errors.check_keywords("load_weights", options, KNOWN)
  check_options(opts)
  local open = opts.open or require("weightkit.file").open
  local f, msg = open(path)
  if not f then
    if is_savedmodel_dir(path) then
      errors.value_error("Unable to load weights. filepath " .. path .. " appears to be a SavedModel " ..
        "directory, but checkpoint either doesn't exist, or is incorrectly formatted.")
    end
    error(msg or ("cannot open " .. path), 0)
  end
  local ok, res = pcall(M.load, model, f, opts, path)
  f:close()
  if not ok then error(res, 0) end
  return res
end

return M
