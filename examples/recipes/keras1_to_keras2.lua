--[[
Recipe: Keras 1 -> Keras 2 — a Keras 1 save_weights file (Theano era) into a Keras 2 model, saved as a
Keras 2 .h5 any Keras 2 / tf.keras can load.

  weightkit run examples/recipes/keras1_to_keras2.lua keras1.h5 out.h5 [theano|tensorflow]

The input here is ../shared/fixtures/real/k1_theano_deepcell_ecoli_conv_bn_weights.h5 (DeepCell
bn_feature_net_31x31, Keras 1, 2016): 5 Convolution2D with 'th' kernels (out, in, rows, cols), 6
BatchNormalization (gamma, beta, running_mean, running_std), 2 Dense; arrays named convolution2d_1_W,
convolution2d_1_b, ... The model is rebuilt with Keras 2 classes, keeping the Keras 1 layer names and
the 'th' layout (channels_first: a 1x31x31 image).

What load_weights does on its own (as Keras 2 does for a file without keras_version):
  Conv2D kernel   (out, in, rows, cols) -> (rows, cols, in, out): NumPy transpose (2, 3, 1, 0)
  Dense, BatchNormalization   unchanged (Keras 2 takes running_std as moving_variance as it is)
What it cannot know: the backend. Keras 1 wrote no `backend` attribute, so Keras 2 does not flip the
kernels; but Theano's conv2d is a true convolution and TensorFlow's a correlation, so a Theano-trained
kernel must be rotated 180 degrees (every spatial axis reversed) to give the same outputs. This file
was trained with Theano (its project imports theano): pass `theano` (the default) to flip, or
`tensorflow` for a Keras 1 file trained on TensorFlow.
]]
local wk = require "weightkit"
local L = wk.layers
-- conv_utils.convert_kernel, the flip Keras 2 applies to Theano files that say so: every axis but the
-- last two (in, out) reversed.
local flip = wk.remap.flip()

local IN, OUT, BACKEND = arg[1], arg[2], arg[3] or "theano"
if not (IN and OUT) or (BACKEND ~= "theano" and BACKEND ~= "tensorflow") then
  io.stderr:write("usage: weightkit run keras1_to_keras2.lua KERAS1.h5 OUT.h5 [theano|tensorflow]\n")
  return 2
end

local df = "channels_first"
local function conv(i, filters, k)
  return L.Conv2D{filters, {k, k}, data_format = df, name = "convolution2d_" .. i}
end
local function bn(i, axis) return L.BatchNormalization{axis = axis, name = "batchnormalization_" .. i} end
local function act(i, a) return L.Activation{a or "relu", name = "activation_" .. i} end
local model = wk.Sequential{
  L.Input{shape = {1, 31, 31}},
  conv(1, 32, 4), bn(1, 1), act(1),
  L.MaxPooling2D{pool_size = {2, 2}, data_format = df, name = "maxpooling2d_1"},
  conv(2, 64, 3), bn(2, 1), act(2),
  conv(3, 64, 3), bn(3, 1), act(3),
  L.MaxPooling2D{pool_size = {2, 2}, data_format = df, name = "maxpooling2d_2"},
  conv(4, 128, 3), bn(4, 1), act(4),
  conv(5, 200, 3), bn(5, 1), act(5),
  L.Flatten{name = "flatten_1"},
  L.Dense{200, name = "dense_1"}, bn(6, -1), act(6),
  L.Dense{3, name = "dense_2"}, act(7, "softmax"),
}

local report = model:load_weights(IN)
print(report)

if BACKEND == "theano" then
  for _, layer in ipairs(model.layers) do
    if layer.class_name == "Conv2D" then
      layer.kernel:assign(flip.apply(layer.kernel.value))
      print(("flipped %s %s (Theano convolution -> correlation)"):format(layer.kernel.name,
        table.concat(layer.kernel:shape(), "x")))
    end
  end
end

local k = model:get_layer("convolution2d_1").kernel.value
print(("convolution2d_1/kernel:0 [1, 1, 1, 1..3] = %.9g %.9g %.9g"):format(k:get(1, 1, 1, 1),
  k:get(1, 1, 1, 2), k:get(1, 1, 1, 3)))

model:save_weights(OUT)
print("saved " .. OUT)
