--[[
weightkit.loading.common — pieces shared by the topological and by-name loaders.

File interface (the HDF5 reader's Lua face, or an in-memory table of the same shape):
  file:layers()            -> { {name = "dense_1", weights = { {name = "dense_1/kernel:0", tensor = t}, ...}}, ... }
                              in `layer_names` order, weightless layers included (weights = {})
  file.keras_version       string, or nil when the attribute is absent (a Keras 1 file)
  file.backend             string or nil
  file.top_level_weights   nil when the file has no `top_level_model_weights` group, else a list like
                           a layer's weights (usually empty)

Model interface: model.layers (top-level layers, Keras order), layer.name, layer.class_name,
layer:trainable_weights(), layer:non_trainable_weights() (Variables with .name, :shape(), :dtype(),
:assign(t)).

THE PLAN. Loaders never assign while checking: they append {variable, value} pairs to a plan and call
`apply` only after every layer and the top-level weights passed (or were skipped), so a load that raises
changes nothing. Values are cast to the variable's dtype first (tf-keras `batch_set_value` does
`np.asarray(value, dtype=variable.dtype)`), all casts before the first assignment.
]]
local Report = require "weightkit.loading.report"

local M = {}

local KERAS2_HDF5 = { ["keras2-h5"] = true, ["keras2-h5-model"] = true }

-- How every load starts: `report` (or a new one for `mode`) carries the file's keras_version and backend.
-- Returns report, file_info(file).
function M.start(mode, file, skip_mismatch, report)
  report = report or Report.new(mode, skip_mismatch)
  local info = M.file_info(file)
  report.keras_version, report.backend = info.keras_version, info.backend
  return report, info
end

function M.file_info(file)
  local info = {}
  local kv = file.keras_version
  -- Keras: `original_keras_version = f.attrs["keras_version"]` if present, else "1" -- for Keras 2
  -- HDF5 files (and in-memory tables of that shape); other formats have no such attribute to miss.
  if kv == nil and (file.format == nil or KERAS2_HDF5[file.format]) then kv = "1" end
  info.keras_version = kv ~= nil and tostring(kv) or nil
  info.backend = file.backend
  info.layers = file:layers()
  info.top_level = file.top_level_weights
  return info
end

-- tf-keras `_legacy_weights`: trainable weights then non-trainable ones.
function M.legacy_weights(layer)
  local out = {}
  for _, v in ipairs(layer:trainable_weights()) do out[#out + 1] = v end
  for _, v in ipairs(layer:non_trainable_weights()) do out[#out + 1] = v end
  return out
end

function M.values_of(weights)
  local out = {}
  for i, w in ipairs(weights) do out[i] = w.tensor end
  return out
end

-- Weights a model owns itself (tf-keras `model._trainable_weights + model._non_trainable_weights`).
function M.top_level_weights(model)
  if type(model.top_level_weights) == "function" then return model:top_level_weights() end
  local out = {}
  for _, v in ipairs(model._trainable_weights or {}) do out[#out + 1] = v end
  for _, v in ipairs(model._non_trainable_weights or {}) do out[#out + 1] = v end
  return out
end

M.same_shape = require("weightkit.naming").same_shape

function M.new_plan() return {} end

function M.plan_add(plan, variable, value)
  plan[#plan + 1] = { variable = variable, value = value }
end

function M.apply(plan)
  local ready = {}
  for i, p in ipairs(plan) do
    local v = p.value
    local dt = p.variable:dtype()
    if v:dtype() ~= dt then v = v:astype(dt) end
    ready[i] = v
  end
  for i, p in ipairs(plan) do p.variable:assign(ready[i]) end
end

-- Fills report.missing and report.unused from what the plan assigned.
-- model_layers: top-level layers with weights; file_layers: the file's layers.
-- used_file[name] / fed_layer[layer] are set by the loader for pairs that got at least one weight.
function M.finish(report, model_layers, file_layers, fed_layer, used_file)
  for _, layer in ipairs(model_layers) do
    if not fed_layer[layer] then report.missing[#report.missing + 1] = layer.name end
  end
  for _, fl in ipairs(file_layers) do
    if #fl.weights > 0 and not used_file[fl.name] then report.unused[#report.unused + 1] = fl.name end
  end
end

return M
