--[[
weightkit.loading.messages — the exact Keras texts of keras-formats.md §3.6 (">= 2.7, tf-keras"), and
the TensorFlow 2 eager assign error. `k` is Keras's 0-based layer index; callers pass it as Keras
counts it. Shapes print as Python tuples. Errors are raised with the `ValueError: ` prefix by the caller
(errors.value_error); warnings go through report:warn.
]]
local shape_str = require("weightkit.naming").shape_str

local M = {}

-- Topological ---------------------------------------------------------------------------------

function M.layer_count(model_n, file_n)
  return string.format("Layer count mismatch when loading weights from file. Model expected %d layers, " ..
    "found %d saved layers.", model_n, file_n)
end

-- No final period: that is the real text.
function M.topo_weight_count(k, layer, file_name, m, n)
  return string.format("Weight count mismatch for layer #%d (named %s in the current model, %s in the " ..
    "save file). Layer expects %d weight(s). Received %d saved weight(s)", k, layer, file_name, m, n)
end

function M.topo_top_level_count(m, n)
  return string.format("Weight count mismatch for top-level weights when loading weights from file. " ..
    "Model expects %d top-level weight(s). Received %d saved top-level weight(s)", m, n)
end

--[[ tf-keras does not compare shapes in topological mode: it batch-assigns and TensorFlow raises. In
TF2 eager that is ResourceVariable.assign's text, which puts a space before the variable name
(tensor_name = " " + name) and none after "Shape mismatch."; we reproduce it byte for byte. ]]
function M.assign_shape(var_name, var_shape, value_shape)
  return string.format("Cannot assign value to variable ' %s': Shape mismatch.The variable shape %s, and " ..
    "the assigned value shape %s are incompatible.", var_name, shape_str(var_shape), shape_str(value_shape))
end

-- By name (also the skip_mismatch warnings of our topological mode) ----------------------------

function M.count(k, layer, m, n)
  return string.format("Weight count mismatch for layer #%d (named %s). Layer expects %d weight(s). " ..
    "Received %d saved weight(s)", k, layer, m, n)
end

function M.skip_count(k, layer, m, n)
  return string.format("Skipping loading of weights for layer #%d (named %s) due to mismatch in number of " ..
    "weights. Layer expects %d weight(s). Received %d saved weight(s)", k, layer, m, n)
end

function M.shape(k, layer, var_name, expected, received)
  return string.format("Shape mismatch in layer #%d (named %s) for weight %s. Weight expects shape %s. " ..
    "Received saved weight with shape %s", k, layer, var_name, shape_str(expected), shape_str(received))
end

function M.skip_shape(k, layer, var_name, expected, received)
  return string.format("Skipping loading weights for layer #%d (named %s) due to mismatch in shape for " ..
    "weight %s. Weight expects shape %s. Received saved weight with shape %s", k, layer, var_name,
    shape_str(expected), shape_str(received))
end

-- Top-level weights (by name; also our topological skip_mismatch warnings) --------------------

function M.top_level_count(m, n)
  return string.format("Weight count mismatch for top-level weights of model. Model expects %d top-level " ..
    "weight(s). Received %d saved top-level weight(s)", m, n)
end

function M.skip_top_level_count(m, n)
  return string.format("Skipping loading top-level weights for model due to mismatch in number of " ..
    "weights. Model expects %d top-level weight(s). Received %d saved top-level weight(s)", m, n)
end

function M.top_level_shape(name, expected, received)
  return string.format("Shape mismatch in model for top-level weight %s. Weight expects shape %s. " ..
    "Received saved weight with shape %s", name, shape_str(expected), shape_str(received))
end

function M.skip_top_level_shape(name, expected, received)
  return string.format("Skipping loading top-level weight for model due to mismatch in shape for weight " ..
    "%s. Weight expects shape %s. Received saved weight with shape %s", name, shape_str(expected),
    shape_str(received))
end

return M
