--[[
Recipe: Keras 2 `.h5` or a TensorFlow checkpoint -> Keras 3 `.weights.h5`.

  weightkit run examples/recipes/to_keras3.lua IN OUT.weights.h5 MODEL

Keras 3 reads neither a tf.keras 2 TF checkpoint nor a `.h5` into a model whose layers were re-nested,
and its own `.weights.h5` is laid out by object path, not by weight name:
  layers/<class>/vars/<i>            Dense: vars/0 kernel, vars/1 bias
  layers/<class>/cell/vars/<i>       LSTM / GRU: the cell's kernel, recurrent_kernel, bias
where <class> is the layer's class in snake case, numbered in layer order (dense, dense_1, lstm, lstm_1,
...): Keras 3 does not use layer names there, since auto-generated names differ between two builds.
So: build the architecture in Lua, load the old file into it (weightkit picks the reader from the file:
Keras 2 HDF5 by topological order, a TF checkpoint through its object graph), and save_weights with a
`.weights.h5` name (the Keras 3 writer). The Keras 3 model that reads OUT needs the same layer classes in
the same order; the layer names do not matter.
The TF 2.0 tutorial checkpoint counts its InputLayer as layer-0, so weightkit warns (as TF would) that
(root).layer-1 names another object in this model; the weights still go by layer_with_weights-N.

IN: a Keras 2 weights or full-model `.h5`, or a TF checkpoint prefix (the path without `.index`).
MODEL: a built-in architecture name (below) or the path of a Lua file that returns the model, e.g.
    local wk = require "weightkit"
    return wk.Sequential{wk.layers.Dense{512, activation = "relu", input_shape = {784}}, ...}
Built in, for the shared real fixtures:
  genre_lstm        k280_lstm3_genre_weights.h5 (tf.keras 2.8): LSTM 128, 128, 32 -> Dense 5 on 33 features
  tf_tutorial_mlp   tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt (TF 2.0 tutorial): Dense 512 relu, Dropout,
                    Dense 10 softmax on 784 inputs
]]
local wk = require "weightkit"
local L = wk.layers

local IN, OUT, MODEL = arg[1], arg[2], arg[3]
if not (IN and OUT and MODEL) or not OUT:match("%.weights%.h5$") then
  io.stderr:write("usage: weightkit run to_keras3.lua IN(.h5 | TF checkpoint prefix) OUT.weights.h5 MODEL\n")
  return 2
end

local BUILTIN = {
  genre_lstm = function()
    return wk.Sequential{
      L.Input{shape = {wk.None, 33}},
      L.LSTM{128, return_sequences = true}, L.LSTM{128, return_sequences = true}, L.LSTM{32},
      L.Dense{5, activation = "softmax"},
    }
  end,
  tf_tutorial_mlp = function()
    return wk.Sequential{
      L.Input{shape = {784}}, L.Dense{512, activation = "relu"}, L.Dropout{0.2},
      L.Dense{10, activation = "softmax"},
    }
  end,
}

local model
if BUILTIN[MODEL] then
  model = BUILTIN[MODEL]()
else
  model = assert(dofile(MODEL), MODEL .. " returned no model")
end

local report = model:load_weights(IN)
print(report)
model:save_weights(OUT)

-- What Keras 3 will find in OUT: each stored path with its shape and sum, read back from the file.
print("wrote " .. OUT .. ":")
local out <close> = wk.load_file(OUT)
print("  format " .. out.format)
for _, layer in ipairs(out:layers()) do
  for _, w in ipairs(layer.weights) do
    print(("  %-28s %-12s sum %.6g"):format(layer.name .. "/" .. w.name, table.concat(w.tensor:shape(), "x"),
      w.tensor:sum()))
  end
end
