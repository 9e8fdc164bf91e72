--[[
weightkit.loading.pair — one (file layer, model layer) pair, the step both loaders share:

  1. values = preprocess_weights_for_loading(layer, file values)   (conversions are noted in the report)
  2. count check against the layer's legacy weights (trainable then non-trainable):
       mismatch -> skip_mismatch ? warn + skip the layer : raise
  3. per-weight shape check:
       mismatch -> skip_mismatch ? warn + skip that weight only : raise
  4. the remaining (variable, value) pairs go into the plan (nothing is assigned here).

M.load's `args.weights` may carry the layer's legacy weights when the loader already listed them (each
load lists every layer's weights once); `texts` supplies the errors of the mode: count_error(m, n),
shape_error(var, expected, received).
The skip warnings are the tf-keras by-name texts in both modes (messages.skip_count / skip_shape, with
`index` = k, the 0-based index the loader reports for the pair).
M.load returns the number of weights planned for this pair; M.load_top_level does the same for the
model's own weights.
]]
local errors = require "weightkit.errors"
local common = require "weightkit.loading.common"
local conversions = require "weightkit.loading.conversions"
local messages = require "weightkit.loading.messages"

local M = {}

--[[ Steps 2-4 for `symbolic` variables against `values`, shared by layer pairs and the top-level group.
`where` holds the fields every report entry of this pair carries ({file =, layer = [, top_level = true]});
file_weight(i) names the file weight value i came from (or nil). Returns the number of weights planned. ]]
local function check_and_plan(report, plan, skip, texts, symbolic, values, where, file_weight)
  local function entry_of(fields)
    for k, v in pairs(where) do fields[k] = v end
    return fields
  end
  if #values ~= #symbolic then
    if not skip then errors.value_error(texts.count_error(#symbolic, #values)) end
    local msg = texts.count_warning(#symbolic, #values)
    report:warn(msg)
    report:add_skipped(entry_of{ expected = #symbolic, received = #values, reason = "weight count mismatch",
      message = msg })
    return 0
  end
  local entry = entry_of{ weights = {} }
  for i, var in ipairs(symbolic) do
    local want, got = var:shape(), values[i]:shape()
    if not common.same_shape(want, got) then
      if not skip then errors.value_error(texts.shape_error(var, want, got)) end
      local msg = texts.shape_warning(var, want, got)
      report:warn(msg)
      report:add_skipped(entry_of{ weight = var.name, file_weight = file_weight(i), expected = want,
        received = got, reason = "shape mismatch", message = msg })
    else
      common.plan_add(plan, var, values[i])
      entry.weights[#entry.weights + 1] = { name = var.name, file = file_weight(i), shape = want }
    end
  end
  if #entry.weights > 0 then report:add_matched(entry) end
  return #entry.weights
end

function M.load(args)
  local report, layer, fl, info, k = args.report, args.layer, args.file_layer, args.info, args.index
  local texts = {
    count_error = args.texts.count_error,
    shape_error = args.texts.shape_error,
    count_warning = function(m, got) return messages.skip_count(k, layer.name, m, got) end,
    shape_warning = function(var, e, r) return messages.skip_shape(k, layer.name, var.name, e, r) end,
  }
  local file_values = common.values_of(fl.weights)
  local values = conversions.preprocess(layer, file_values, {
    keras_version = info.keras_version,
    backend = info.backend,
    note = function(path, kind, reason) report:add_converted(fl.name, path, kind, reason) end,
  })
  -- File weight names line up with the values unless a conversion changed their number.
  local names_line_up = #fl.weights == #values
  local symbolic = args.weights or common.legacy_weights(layer)
  return check_and_plan(report, args.plan, args.skip_mismatch, texts, symbolic, values,
    { file = fl.name, layer = layer.name },
    function(i) return names_line_up and fl.weights[i].name or nil end)
end

--[[ The model's own weights against the file's `top_level_model_weights` group; nothing (0) when the file
has no such group (file_weights == nil). `texts`: count_error(m, n), shape_error(var, e, r); the skip
warnings are the same in both modes (messages.skip_top_level_*). ]]
function M.load_top_level(args)
  local weights = args.file_weights
  if weights == nil then return 0 end
  local texts = {
    count_error = args.texts.count_error,
    shape_error = args.texts.shape_error,
    count_warning = messages.skip_top_level_count,
    shape_warning = function(var, e, r) return messages.skip_top_level_shape(var.name, e, r) end,
  }
  return check_and_plan(args.report, args.plan, args.skip_mismatch, texts,
    common.top_level_weights(args.model), common.values_of(weights),
    { file = "top_level_model_weights", layer = args.model.name or "model", top_level = true },
    function(i) return weights[i].name end)
end

return M
