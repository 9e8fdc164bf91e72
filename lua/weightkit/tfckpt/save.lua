--[[
weightkit.tfckpt.save — tf.keras `save_weights(P, save_format="tf")` (keras-formats.md §5.1, §5.5, §5.6):
writes the bundle P.index + P.data-00000-of-00001 (core.save_tf_checkpoint) with the keys and object
graph tf.keras writes for the same model (weightkit.tfckpt.graph), then the `checkpoint` state file.

  save.save(model, prefix, overwrite) -> true      (saving.lua decides the format and asks about
                                                    overwriting P.index first, as tf.keras does)
  save.state_text(prefix) -> the `checkpoint` file's text
  save.write_state(prefix)                          writes it next to the bundle, atomically
  save.write(prefix, entries, nodes, overwrite) -> true   the bundle of `entries` and the object
                                                    graph `nodes` (core.save_tf_checkpoint's spec),
                                                    then the state file; the same prefix checks
                                                    (weightkit.editor writes its checkpoints so)

WHAT IS WRITTEN: one VARIABLE_VALUE entry per variable (its first breadth-first path), the
TrackableObjectGraph, nothing else (no OBJECT_CONFIG_JSON: tf.keras >= 2.1 writes none; no optimizer:
weightkit models have none). The parent directory must exist (tf creates it; the core has no mkdir):
its absence is an OSError before anything is written.

`checkpoint` FILE (tf `update_checkpoint_state(save_dir=dirname(P), model_checkpoint_path=P,
all_model_checkpoint_paths=[P], save_relative_paths=True)`): protobuf text format, two lines, paths
relative to the directory (the prefix's base name):
  model_checkpoint_path: "w"
  all_model_checkpoint_paths: "w"
Strings are escaped as protobuf's text format does (C escapes; bytes outside printable ASCII as
3-digit octal). Written to a temporary file in the same directory, then renamed over `checkpoint`.
]]
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local graph = require "weightkit.tfckpt.graph"

local M = {}

local function dirname(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir == nil then return "." end
  if dir == "" then return "/" end
  return dir
end

local function basename(path)
  return path:match("([^/]*)$")
end

local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["'"] = "\\'", ["\\"] = "\\\\" }

-- protobuf text format CEscape
local function text_escape(s)
  return (s:gsub("[%c\"'\\\128-\255]", function(c)
    return ESCAPES[c] or string.format("\\%03o", c:byte())
  end))
end

function M.state_text(prefix)
  local rel = text_escape(basename(prefix))
  return 'model_checkpoint_path: "' .. rel .. '"\nall_model_checkpoint_paths: "' .. rel .. '"\n'
end

function M.write_state(prefix)
  local dir = dirname(prefix)
  local final = dir .. "/checkpoint"
  local tmp = string.format("%s/.checkpoint.tmp%d", dir, math.random(0, 0x7fffffff))
  local f, msg = io.open(tmp, "wb")
  if not f then errors.raise("OSError", "cannot write " .. final .. ": " .. tostring(msg)) end
  local ok, werr = f:write(M.state_text(prefix))
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    errors.raise("OSError", "cannot write " .. final .. ": " .. tostring(werr or cerr))
  end
  local renamed, rerr = os.rename(tmp, final)
  if not renamed then
    os.remove(tmp)
    errors.raise("OSError", "cannot write " .. final .. ": " .. tostring(rerr))
  end
end

-- A prefix names a file in an existing directory (checked before anything is built or written).
local function check_prefix(prefix)
  if prefix == "" or prefix:sub(-1) == "/" then
    errors.value_error("save_weights: a TensorFlow checkpoint needs a file prefix, got '" .. prefix .. "'")
  end
  local dir = dirname(prefix)
  if core.path_kind(dir) ~= "directory" then
    errors.raise("OSError", "cannot save " .. prefix .. ": directory " .. dir .. " does not exist")
  end
end

function M.write(prefix, entries, nodes, overwrite)
  check_prefix(prefix)
  local ok, msg, code = core.save_tf_checkpoint(prefix, { entries = entries, graph = nodes,
    overwrite = overwrite and true or false })
  if not ok then require("weightkit.saving").raise_write_error(msg, code, overwrite) end
  M.write_state(prefix)
  return true
end

function M.save(model, prefix, overwrite)
  check_prefix(prefix)
  local g = graph.build(model)
  return M.write(prefix, g.entries, g.nodes, overwrite)
end

return M
