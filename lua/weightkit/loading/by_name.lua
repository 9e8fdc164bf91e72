--[[
weightkit.loading.by_name — tf-keras `load_weights_from_hdf5_group_by_name` (keras-formats.md §3.3).

  1. every name of the file's layer_names, weightless ones included; k = its 0-based index there;
  2. index: layer.name -> { model layers } over model.layers (top level only: a nested model matches as one
     unit under its own name); every model layer of that name receives the file's values (duplicates);
  3. names absent on either side are ignored silently (they show in report.missing / report.unused);
  4. count mismatch (a weightless file group against a layer with weights counts): skip_mismatch ?
     warn and skip the layer : raise;
  5. shape mismatch per weight: skip_mismatch ? warn and skip that weight only : raise;
  6. `top_level_model_weights` with the same count/shape logic;
  7. nothing is assigned until every check passed.

Texts: Keras >= 2.7 / tf-keras (§3.6).

Decision: tf-keras feeds the converted values of the first model layer of a name to the second one
(`weight_values = preprocess(...)` inside the loop), so with duplicate names a non-idempotent conversion
(the Theano flip, Keras 1 Conv1D) runs twice. Here every model layer converts the file's original values,
so duplicates really receive the same values.
]]
local common = require "weightkit.loading.common"
local messages = require "weightkit.loading.messages"
local pair = require "weightkit.loading.pair"

local M = {}

function M.load(model, file, skip_mismatch, report)
  local info
  report, info = common.start("by_name", file, skip_mismatch, report)

  local index = {}
  local with_weights, legacy = {}, {}
  for _, layer in ipairs(model.layers) do
    if layer.name then
      index[layer.name] = index[layer.name] or {}
      table.insert(index[layer.name], layer)
    end
    local weights = common.legacy_weights(layer)
    legacy[layer] = weights
    if #weights > 0 then with_weights[#with_weights + 1] = layer end
  end

  local plan = common.new_plan()
  local fed, used = {}, {}
  for i, fl in ipairs(info.layers) do
    local k = i - 1
    for _, layer in ipairs(index[fl.name] or {}) do
      local n = pair.load{
        report = report, plan = plan, layer = layer, file_layer = fl, info = info, index = k,
        skip_mismatch = skip_mismatch, weights = legacy[layer],
        texts = {
          count_error = function(m, got) return messages.count(k, layer.name, m, got) end,
          shape_error = function(var, e, r) return messages.shape(k, layer.name, var.name, e, r) end,
        },
      }
      if n > 0 then fed[layer], used[fl.name] = true, true end
    end
  end

  pair.load_top_level{
    report = report, plan = plan, model = model, file_weights = info.top_level,
    skip_mismatch = skip_mismatch,
    texts = {
      count_error = messages.top_level_count,
      shape_error = function(var, e, r) return messages.top_level_shape(var.name, e, r) end,
    },
  }

  common.apply(plan)
  common.finish(report, with_weights, info.layers, fed, used)
  return report
end

return M
