--[[
Recipe: load weights after a refactor renamed the layers (dense_1 -> dense).

  weightkit run examples/recipes/renamed_layers.lua old.h5 out.h5

Keras 2.2.4 numbered auto-named layers from 1 (dense_1, dense_2, lstm_1, ...); tf.keras 2 and Keras 3
number them from 0 (dense, dense_1, ..., lstm). The old file here is
../shared/fixtures/real/k224_keras2c_functional_lstm_full.h5 (Keras 2.2.4 model.save: input_1 ->
dense_1 -> dense_2 -> lstm_1 -> dense_3); the refactored code builds the same network with today's
names. By-name loading would find no layer of the new names, and a topological load silently depends
on the layer order staying the same, so the recipe says how the names moved:

  one LAYER rule (layer = true): a file layer "<base>_<n>" feeds the model layer "<base>_<n-1>"
  ("<base>" for n = 1). A layer rule pairs the layers' weights by position, so the weight names
  inside (Keras 2.2.4's lstm_1/kernel:0 vs tf.keras's lstm/lstm_cell/kernel:0) need no rule.

Rules apply in one pass to the FILE's names: dense_2 -> dense_1 and dense_1 -> dense do not chain.
A dry run prints the plan before anything is assigned.
]]
local wk = require "weightkit"
local L = wk.layers

local IN, OUT = arg[1], arg[2]
if not (IN and OUT) then
  io.stderr:write("usage: weightkit run renamed_layers.lua OLD.h5 OUT(.h5|.weights.h5)\n")
  return 2
end

-- The refactored model: same layers, today's names.
local inputs = L.Input{batch_shape = {wk.None, 8, 32}, name = "input"}
local x = L.Dense{20, activation = "relu", name = "dense"}(inputs)
x = L.Dense{20, activation = "relu", name = "dense_1"}(x)
x = L.LSTM{20, activation = "relu", recurrent_activation = "hard_sigmoid", name = "lstm"}(x)
x = L.Dense{30, name = "dense_2"}(x)
local model = wk.Model{inputs = inputs, outputs = x, name = "model"}

local rules = wk.remap.rules{
  {"^(.-)_(%d+)$", function(base, n)
    n = tonumber(n)
    if n == 1 then return base end
    return base .. "_" .. (n - 1)
  end, layer = true},
}

local plan = model:load_weights(IN, {remap = rules, dry_run = true})
print("dry run:")
for _, m in ipairs(plan.matched) do print(("  %-10s -> %s"):format(m.file, m.layer)) end
if #plan.errors > 0 or #plan.missing > 0 then
  print(plan)
  error("the renaming does not cover the model; see the report above")
end

local report = model:load_weights(IN, {remap = rules})
print(report)
model:save_weights(OUT)
print("saved " .. OUT)
