--[[
Recipe: transfer learning — reuse a trained backbone under a new classification head.

  weightkit run examples/recipes/transfer_learning.lua trained.h5 out.h5 [classes=3]

The trained file (e.g. ../shared/fixtures/real/k280_lstm3_genre_weights.h5, tf.keras 2.8) holds a
Sequential LSTM(128) -> LSTM(128) -> LSTM(32) -> Dense(5) genre classifier. The new task has another
class count, so:
  1. build the same backbone with the SAME layer names (by-name loading pairs layers by name) and a new
     head Dense(classes) that keeps the old head's name "dense";
  2. load_weights(path, {by_name = true, skip_mismatch = true}): the backbone layers get the file's
     values; the head's kernel is (32, 5) in the file and (32, classes) here, so Keras (and weightkit)
     skip it with a warning and it keeps its fresh initialization;
  3. freeze the backbone (layer.trainable = false): its weights move to the non-trainable list, so an
     optimizer would only train the head;
  4. save the weights (format from OUT's suffix).
The report says what was matched and what was skipped, with both shapes.
]]
local wk = require "weightkit"
local L = wk.layers

local IN, OUT = arg[1], arg[2]
local CLASSES = math.tointeger(tonumber(arg[3] or "3"))
if not (IN and OUT and CLASSES and CLASSES > 0) then
  io.stderr:write("usage: weightkit run transfer_learning.lua TRAINED.h5 OUT(.h5|.weights.h5) [CLASSES]\n")
  return 2
end

local BACKBONE = {"lstm", "lstm_1", "lstm_2"}

local model = wk.Sequential{
  L.Input{shape = {wk.None, 33}},
  L.LSTM{128, return_sequences = true, name = "lstm"},
  L.LSTM{128, return_sequences = true, name = "lstm_1"},
  L.LSTM{32, name = "lstm_2"},
  L.Dense{CLASSES, activation = "softmax", name = "dense"},   -- the new head, same name as the old one
}

-- The head as initialized, to show the load left it alone.
local head = model:get_layer("dense")
local fresh = head:get_weights()

local report = model:load_weights(IN, {by_name = true, skip_mismatch = true})
print(report)

for _, name in ipairs(BACKBONE) do model:get_layer(name).trainable = false end

local unchanged = true
for i, w in ipairs(head:get_weights()) do
  if w:max_abs_diff(fresh[i]) ~= 0 then unchanged = false end
end
print(("head %s %s: fresh initialization %s"):format(head.name, table.concat(head.kernel:shape(), "x"),
  unchanged and "kept" or "OVERWRITTEN"))

local function names(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v.name end
  return table.concat(out, " ")
end
print("frozen: " .. table.concat(BACKBONE, " "))
print("trainable weights: " .. names(model:trainable_weights()))
print(("non-trainable weights: %d"):format(#model:non_trainable_weights()))

model:save_weights(OUT)
print("saved " .. OUT)
