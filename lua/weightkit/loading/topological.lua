--[[
weightkit.loading.topological — tf-keras `load_weights_from_hdf5_group` (keras-formats.md §3.2).

  1. model side: model.layers with a non-empty legacy weight list;
  2. file side: layer_names whose group lists weights;
  3. counts differ -> `ValueError: Layer count mismatch when loading weights from file. Model expected
     {model_n} layers, found {file_n} saved layers.` (always raised: pairing is positional, nothing can be
     skipped sensibly);
  4. k-th pair: preprocess (conversions), count check, shape checks (loading/pair.lua);
  5. `top_level_model_weights`, when the file has that group;
  6. all values checked before anything is assigned.

Names are only used in messages; a pair whose names differ is listed in report.renamed.

Decisions where Keras versions differ:
  * Texts are those of Keras >= 2.7 / tf-keras (§3.6).
  * Shape mismatch without skip_mismatch: tf-keras compares nothing itself, TensorFlow's assign raises. We
    raise TF2 eager's exact text, `Cannot assign value to variable ' dense/kernel:0': Shape mismatch.The
    variable shape (3, 4), and the assigned value shape (3, 5) are incompatible.` (leading space and missing
    space included, see messages.assign_shape), but before anything is assigned (tf-keras has assigned the
    earlier layers by then).
  * skip_mismatch = true: tf-keras refuses it here ("skip_mismatch can only be set to True when by_name is
    True"), Keras 3 skips shape mismatches only. We honour it as the Keras 2 documentation describes it
    (issue 3): a layer whose weight count differs, or a weight whose shape differs, is skipped with the
    tf-keras by-name warning text (k = the layer's index among the layers with weights), and so are
    top-level weights. A layer-count mismatch still raises.
]]
local errors = require "weightkit.errors"
local common = require "weightkit.loading.common"
local messages = require "weightkit.loading.messages"
local pair = require "weightkit.loading.pair"

local M = {}

function M.load(model, file, skip_mismatch, report)
  local info
  report, info = common.start("topological", file, skip_mismatch, report)

  local filtered_layers, legacy = {}, {}
  for _, layer in ipairs(model.layers) do
    local weights = common.legacy_weights(layer)
    if #weights > 0 then
      filtered_layers[#filtered_layers + 1] = layer
      legacy[layer] = weights
    end
  end
  local file_layers = {}
  for _, fl in ipairs(info.layers) do
    if #fl.weights > 0 then file_layers[#file_layers + 1] = fl end
  end
  if #file_layers ~= #filtered_layers then
    errors.value_error(messages.layer_count(#filtered_layers, #file_layers))
  end

  local plan = common.new_plan()
  local fed, used = {}, {}
  for i, fl in ipairs(file_layers) do
    local layer = filtered_layers[i]
    local k = i - 1
    local n = pair.load{
      report = report, plan = plan, layer = layer, file_layer = fl, info = info, index = k,
      skip_mismatch = skip_mismatch, weights = legacy[layer],
      texts = {
        count_error = function(m, got) return messages.topo_weight_count(k, layer.name, fl.name, m, got) end,
        shape_error = function(var, e, r) return messages.assign_shape(var.name, e, r) end,
      },
    }
    if n > 0 then
      fed[layer], used[fl.name] = true, true
      if fl.name ~= layer.name then
        report.renamed[#report.renamed + 1] = { file = fl.name, layer = layer.name }
      end
    end
  end

  pair.load_top_level{
    report = report, plan = plan, model = model, file_weights = info.top_level,
    skip_mismatch = skip_mismatch,
    texts = {
      count_error = messages.topo_top_level_count,
      shape_error = function(var, e, r) return messages.assign_shape(var.name, e, r) end,
    },
  }

  common.apply(plan)
  common.finish(report, filtered_layers, info.layers, fed, used)
  return report
end

return M
