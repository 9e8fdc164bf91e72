--[[
weightkit.loading.pair — one (file layer, model layer) pair, the step both loaders share:

  1. values = preprocess_weights_for_loading(layer, file values)   (conversions are noted in the report)
  2. count check against the layer's legacy weights (trainable then non-trainable):
       mismatch -> skip_mismatch ? warn + skip the layer : raise
  3. per-weight shape check:
       mismatch -> skip_mismatch ? warn + skip that weight only : raise
  4. the remaining (variable, value) pairs go into the plan (nothing is assigned here).

`texts` supplies the wording of the mode: count_error(m, n), count_warning(m, n),
shape_error(var, expected, received), shape_warning(var, expected, received).
Returns the number of weights planned for this pair.
]]
local errors = require "weightkit.errors"
local common = require "weightkit.loading.common"
local conversions = require "weightkit.loading.conversions"

local M = {}

function M.load(args)
  local report, plan, layer, fl, info, skip, texts =
    args.report, args.plan, args.layer, args.file_layer, args.info, args.skip_mismatch, args.texts
  local symbolic = common.legacy_weights(layer)
  local file_values = common.values_of(fl.weights)
  local values = conversions.preprocess(layer, file_values, {
    keras_version = info.keras_version,
    backend = info.backend,
    note = function(path, kind, reason) report:add_converted(fl.name, path, kind, reason) end,
  })

  if #values ~= #symbolic then
    if not skip then errors.value_error(texts.count_error(#symbolic, #values)) end
    local msg = texts.count_warning(#symbolic, #values)
    report:warn(msg)
    report:add_skipped{ file = fl.name, layer = layer.name, expected = #symbolic, received = #values,
      reason = "weight count mismatch", message = msg }
    return 0
  end

  -- File weight names line up with the values unless a conversion changed their number.
  local names_line_up = #fl.weights == #values
  local entry = { file = fl.name, layer = layer.name, weights = {} }
  for i, var in ipairs(symbolic) do
    local want, got = var:shape(), values[i]:shape()
    local file_weight = names_line_up and fl.weights[i].name or nil
    if not common.same_shape(want, got) then
      if not skip then errors.value_error(texts.shape_error(var, want, got)) end
      local msg = texts.shape_warning(var, want, got)
      report:warn(msg)
      report:add_skipped{ file = fl.name, layer = layer.name, weight = var.name, file_weight = file_weight,
        expected = want, received = got, reason = "shape mismatch", message = msg }
    else
      common.plan_add(plan, var, values[i])
      entry.weights[#entry.weights + 1] = { name = var.name, file = file_weight, shape = want }
    end
  end
  if #entry.weights > 0 then report:add_matched(entry) end
  return #entry.weights
end

--[[ The model's own weights against the file's `top_level_model_weights` group (only when the file has
that group). `texts`: count_error(m, n), count_warning(m, n), shape_error(var, e, r), shape_warning(var, e, r). ]]
function M.load_top_level(args)
  local report, plan, model, weights, skip, texts =
    args.report, args.plan, args.model, args.file_weights, args.skip_mismatch, args.texts
  local symbolic = common.top_level_weights(model)
  local values = common.values_of(weights)
  if #values ~= #symbolic then
    if not skip then errors.value_error(texts.count_error(#symbolic, #values)) end
    local msg = texts.count_warning(#symbolic, #values)
    report:warn(msg)
    report:add_skipped{ file = "top_level_model_weights", layer = model.name or "model", top_level = true,
      expected = #symbolic, received = #values, reason = "weight count mismatch", message = msg }
    return 0
  end
  local entry = { file = "top_level_model_weights", layer = model.name or "model", top_level = true, weights = {} }
  for i, var in ipairs(symbolic) do
    local want, got = var:shape(), values[i]:shape()
    if not common.same_shape(want, got) then
      if not skip then errors.value_error(texts.shape_error(var, want, got)) end
      local msg = texts.shape_warning(var, want, got)
      report:warn(msg)
      report:add_skipped{ file = "top_level_model_weights", layer = model.name or "model", top_level = true,
        weight = var.name, file_weight = weights[i].name, expected = want, received = got,
        reason = "shape mismatch", message = msg }
    else
      common.plan_add(plan, var, values[i])
      entry.weights[#entry.weights + 1] = { name = var.name, file = weights[i].name, shape = want }
    end
  end
  if #entry.weights > 0 then report:add_matched(entry) end
  return #entry.weights
end

return M
