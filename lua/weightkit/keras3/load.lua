--[[
weightkit.keras3.load — Keras 3 `load_weights` for `.weights.h5`, `.keras` and sharded `.weights.json`
(keras-formats.md §4.4), into a weightkit model walked as Keras 3 walks it (keras3/paths.lua).

  load.load(model, file_or_store, options) -> report
      file: an opened file (wk.open; format "keras3-weights-h5" or "keras-zip") or a store
      (keras3/store.lua). options: skip_mismatch (false), objects_to_skip (list of layers: neither
      loaded nor counted, Keras's keyword), by_name (only false/nil: see below).
  load.load_path(model, path, options) -> report
      opens `path` with options.open or wk.open (`.weights.json`: the index and every shard it lists),
      loads, closes every file also on failure.
  load.file_objects(file) -> the file's vars groups (store.file_objects; layers/opaque.lua shapes opaque layers from it)

SEMANTICS (Keras 3 saving_lib.load_weights_only / _load_state and Layer.load_own_variables):
  - the model must be built, else ValueError "You are loading weights into a model that has not yet
    been built. ...";
  - by_name = true: ValueError "`by_name` only supports loading legacy '.h5' or '.hdf5' files.
    Received: filepath=<path>" (keras-formats.md §3.1 gives the text up to "Received: ..."; the
    `filepath=` form is ours, as Keras's other file-name errors word it);
  - every object of the walk, in walk order: its group `<path>/vars` (missing: no datasets); when the
    dataset count differs from its own variable count: "Layer '{name}' was never built and thus it
    doesn't have any variables. ..." (no variables and not built) or "Layer '{name}' expected {m}
    variables, but received {n} variables during loading. Expected: ['kernel', 'bias']" (Keras 3
    variable names: no scope, no ":0"). Then variable i takes dataset "i" in order; a shape mismatch
    stops that object with "The shape of the target variable and the shape of the target value in
    `variable.assign(value)` must match. ..." — the variables before it KEEP their new values (Keras
    assigns one by one; the report's skipped entry says how many were assigned);
  - failures are collected per object (Keras catches any exception there), a parent whose child
    failed is not marked visited (paths.walk), and at the end, if any remain: "A total of {n} objects
    could not be loaded. Example error message for object {repr}:\n\n{error}\n\nList of objects that
    could not be loaded:\n[{repr}, ...]" raised as ValueError, or, with skip_mismatch, a warning (sink
    and report) and the load returns normally. {repr} is Keras 3's Layer repr
    `<Dense name=dense_1, built=True>`;
  - groups no object visits are ignored, as Keras does (also `optimizer`: weightkit models have no
    optimizer, and metrics groups of tf.keras 2.15 files); the report lists those holding datasets
    as `unused`.
The tensors are read lazily: a group is read only when its object takes it.
]]
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local paths = require "weightkit.keras3.paths"
local store_mod = require "weightkit.keras3.store"
local report_mod = require "weightkit.loading.report"

local shape_str = naming.shape_str

local M = {}

M.file_objects = store_mod.file_objects

M.NOT_BUILT = "You are loading weights into a model that has not yet been built. Try building the model " ..
  "first by calling it on some data or by using `build()`."

local KNOWN = { by_name = true, skip_mismatch = true, objects_to_skip = true, open = true }

local function check_options(options)
  return errors.check_keywords("load_weights", options, KNOWN)
end

-- Keras 3 Layer.__repr__.
local function object_repr(e)
  local layer = e.saveable or e.layer
  local class = e.class_name or (layer and layer.class_name) or "Layer"
  local name = e.name or (layer and layer.name) or "?"
  local built = e.pseudo or (layer and layer.built ~= false)
  return string.format("<%s name=%s, built=%s>", class, name, built and "True" or "False")
end

local function py_list(strings)
  local parts = {}
  for i, s in ipairs(strings) do parts[i] = "'" .. s .. "'" end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function never_built(name, n)
  return string.format("Layer '%s' was never built and thus it doesn't have any variables. However the " ..
    "weights file lists %d variables for this layer.\nIn most cases, this error indicates that either:\n\n" ..
    "1. The layer is owned by a parent layer whose `build()` method did not create the variables of its " ..
    "child layer '%s': a `build()` method must create all the state of the layer, its children's " ..
    "included.\n\n2. The layer needs a `build_from_config(config)` method (and `get_build_config()` at " ..
    "saving time) so that it can be rebuilt, and its variables created, while loading.", name, n, name)
end

local function count_error(name, vars, n)
  local names = {}
  for i, v in ipairs(vars) do names[i] = paths.variable_name(v) end
  return string.format("Layer '%s' expected %d variables, but received %d variables during loading. " ..
    "Expected: %s", name, #vars, n, py_list(names))
end

local function variable_repr(v)
  local path = (v.path or v.name or ""):gsub(":%d+$", "")
  return string.format("<Variable path=%s, shape=%s, dtype=%s>", path, shape_str(v:shape()), v:dtype())
end

local same_shape = require("weightkit.naming").same_shape

-- One object's load_own_variables. Returns nil on success, or the error entry.
local function load_object(e, group, report)
  local vars = e.variables
  local weights = group and group.weights or {}
  local name = e.name or "?"
  local fail = { file = group and group.path or e.path, layer = name, path = e.path }
  if #weights ~= #vars then
    local layer = e.layer
    fail.expected, fail.received, fail.reason = #vars, #weights, "weight count mismatch"
    if #vars == 0 and layer and layer.built == false then
      fail.reason = "never built"
      fail.message = never_built(name, #weights)
    else
      fail.message = count_error(name, vars, #weights)
    end
    return fail
  end
  if #vars == 0 then return nil end
  local by_name = {}
  for _, w in ipairs(weights) do by_name[w.name] = w end
  local matched = { file = group.path, layer = name, path = e.path, weights = {} }
  for i, v in ipairs(vars) do
    local key = tostring(i - 1)
    local w = by_name[key]
    if w == nil then
      fail.reason, fail.weight = "missing dataset", key
      fail.message = string.format("Unable to synchronously open object (object '%s' doesn't exist) in " ..
        "group '%s/vars'", key, group.raw or group.path)
    else
      local ok, t = pcall(function() return w.tensor end)
      if not ok then
        fail.reason, fail.weight, fail.message = "read error", key, tostring(t)
      elseif not same_shape(v:shape(), t:shape()) then
        fail.reason, fail.weight = "shape mismatch", paths.variable_name(v)
        fail.expected, fail.received = v:shape(), t:shape()
        fail.message = string.format("The shape of the target variable and the shape of the target value in " ..
          "`variable.assign(value)` must match. variable.shape=%s, Received: value.shape=%s. Target " ..
          "variable: %s", shape_str(v:shape()), shape_str(t:shape()), variable_repr(v))
      else
        v:assign(t)
        matched.weights[#matched.weights + 1] = { name = v.name, file = (group.path ~= "" and group.path .. "/"
          or "") .. "vars/" .. key, shape = t:shape() }
      end
    end
    if fail.message then
      fail.assigned = i - 1
      if #matched.weights > 0 then matched.partial = true; report:add_matched(matched) end
      return fail
    end
  end
  report:add_matched(matched)
  return nil
end

local function strip_kind(msg)
  if type(msg) ~= "string" then return tostring(msg) end
  return (msg:gsub("^%u%w*Error: ", ""))
end

-- Loads `store` into `model`; `label` names the file in messages.
local function run(model, store, options, report)
  local failed, order = {}, {}  -- saveable -> {entry, message}; failure order (Keras dict order)
  local function failed_count()
    local n = 0
    for _ in pairs(failed) do n = n + 1 end
    return n
  end
  local used = {}
  local visited = {}
  for _, l in ipairs(options.objects_to_skip or {}) do visited[l] = true end
  local ctx = {
    visited = visited,
    failed_count = failed_count,
    succeeded = function(saveable) failed[saveable] = nil end,
    load = function(e)
      local group = store:get(e.path)
      if group then used[group] = true end
      local ok, fail = pcall(load_object, e, group, report)
      if not ok then
        fail = { file = e.path, layer = e.name, path = e.path, reason = "error", message = strip_kind(fail) }
      end
      if fail == nil then return true end
      if failed[e.saveable] == nil then
        failed[e.saveable] = { entry = e, fail = fail }
        order[#order + 1] = e.saveable
      end
      return false
    end,
  }
  local entries = paths.walk(model, ctx)
  for _, e in ipairs(entries) do
    if #e.variables > 0 and store:get(e.path) == nil then report.missing[#report.missing + 1] = e.path end
  end
  for _, g in ipairs(store.objects) do
    if not used[g] and #g.weights > 0 then report.unused[#report.unused + 1] = g.path end
  end
  local still = {}
  for _, s in ipairs(order) do
    if failed[s] then still[#still + 1] = failed[s] end
  end
  if #still == 0 then return report end
  local reprs = {}
  for i, f in ipairs(still) do reprs[i] = object_repr(f.entry) end
  local msg = string.format("A total of %d objects could not be loaded. Example error message for object " ..
    "%s:\n\n%s\n\nList of objects that could not be loaded:\n[%s]", #still, reprs[1], still[1].fail.message,
    table.concat(reprs, ", "))
  if not report.skip_mismatch then errors.value_error(msg) end
  for _, f in ipairs(still) do report:add_skipped(f.fail) end
  report:warn(msg)
  return report
end

local function is_store(v) return type(v) == "table" and type(v.get) == "function" and v.by_path ~= nil end

function M.load(model, file, options, label)
  options = check_options(options)
  label = label or (type(file) == "table" and file.name) or "weights file"
  if options.by_name then
    errors.value_error("`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: filepath=" ..
      tostring(label))
  end
  if model.built == false then errors.value_error(M.NOT_BUILT) end
  local report = report_mod.new("keras3", options.skip_mismatch)
  report.source = label
  local store
  if is_store(file) then
    store = file
  else
    report.format = file.format
    if file.format ~= "keras3-weights-h5" and file.format ~= "keras-zip" then
      -- Keras 3 sends every `.weights.h5` name to this loader: a Keras 2 file has no `vars` groups
      report:warn(string.format("%s is a %s file, not a Keras 3 one: it has no `vars` groups to load",
        tostring(label), tostring(file.format)))
      store = store_mod.new({})
    else
      store = store_mod.from_file(file)
    end
  end
  return run(model, store, options, report)
end

local function default_open()
  return require("weightkit.file").open
end

local function ends_with(s, suffix) return s:sub(-#suffix) == suffix end

function M.load_path(model, path, options)
  options = check_options(options)
  local open = options.open or default_open()
  if options.by_name then M.load(model, {}, options, path) end
  if model.built == false then errors.value_error(M.NOT_BUILT) end
  if ends_with(path, ".weights.json") then
    local store, opened = store_mod.sharded(path, open)
    local ok, res = pcall(M.load, model, store, options, path)
    for _, f in ipairs(opened) do f:close() end
    if not ok then error(res, 0) end
    res.format = "keras3-sharded"
    return res
  end
  local f, msg = open(path)
  if not f then error(msg or ("cannot open " .. path), 0) end
  local ok, res = pcall(M.load, model, f, options, path)
  f:close()
  if not ok then error(res, 0) end
  return res
end

return M
