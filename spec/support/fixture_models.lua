--[[
One builder per real HDF5 fixture of ../shared/fixtures/real (spec/fixtures_load_spec.lua): the Lua model
built by hand to the architecture the file was saved from, with the file's layer names (so that by-name
loading pairs every layer too).

Sources of each architecture:
  * full-model files: the `model_config` root attribute (layer classes, units, kernel sizes, strides,
    padding, dim_ordering/data_format, input shapes, names), translated from Keras 1 argument names where
    needed (nb_filter -> filters, nb_row/nb_col -> kernel_size, subsample -> strides, border_mode ->
    padding, dim_ordering "tf" -> channels_last, output_dim -> units);
  * weights-only files: the manifest, the layer/weight names and shapes in expected/<name>.json, and the
    project's published code where the manifest points to it (noted per builder).
Input shapes that no file records are inferred from the weight shapes (noted per builder); the
weights do not depend on them except through Flatten -> Dense, which the shapes pin down.

M[name](variant) -> model; M.names lists the fixtures in the order of the issue.
]]
local wk = require "weightkit"

local L = wk.layers
local M = {}

M.names = {
  "k1_theano_deepcell_ecoli_conv_bn_weights.h5",
  "k111_chemts_embedding_gru_timedistributed_weights.h5",
  "k120_behavioral_cloning_conv_full.h5",
  "k206_fml_jettagger_conv2d_bn_weights.h5",
  "k216tf_vae_cnn_nested_weights.h5",
  "k231_behavioral_cloning_namescope_weights.h5",
  "k280_lstm3_genre_weights.h5",
  "k213_theano_pollution_lstm_full.h5",
  "k224_keras2c_functional_lstm_full.h5",
  "k260_simplernn_full.h5",
  "k392_legacy_bidirectional_lstm_full.h5",
}

--[[ k1: Keras 1 (2016-08, Theano) DeepCell bn_feature_net_31x31, save_weights. Architecture from the
manifest and the weight shapes: 1-channel 31x31 'th' input (the kernels are (out, in, kh, kw)), so every
Conv2D / MaxPooling2D is channels_first and BatchNormalization normalizes axis 1 (Keras 1 mode 0, axis=1);
31 -4+1 = 28, pool 14, -2 = 12, -2 = 10, pool 5, -2 = 3, -2 = 1: Flatten gives 200 = Dense(200)'s input.
variant "channels_last": the same layers with channels_last convs (the file then needs Keras's
(3, 2, 0, 1) fallback transpose instead of the Keras 1 (2, 3, 1, 0) one). ]]
M["k1_theano_deepcell_ecoli_conv_bn_weights.h5"] = function(variant)
  local df = variant == "channels_last" and "channels_last" or "channels_first"
  local bn_axis = df == "channels_first" and 1 or -1
  local input_shape = df == "channels_first" and {1, 31, 31} or {31, 31, 1}
  local function conv(i, filters, k)
    return L.Conv2D{filters, {k, k}, data_format = df, name = "convolution2d_" .. i}
  end
  local function bn(i, axis) return L.BatchNormalization{axis = axis or bn_axis, name = "batchnormalization_" .. i} end
  local function act(i, a) return L.Activation{a or "relu", name = "activation_" .. i} end
  return wk.Sequential{
    L.Input{shape = input_shape},
    conv(1, 32, 4), bn(1), act(1),
    L.MaxPooling2D{pool_size = {2, 2}, data_format = df, name = "maxpooling2d_1"},
    conv(2, 64, 3), bn(2), act(2),
    conv(3, 64, 3), bn(3), act(3),
    L.MaxPooling2D{pool_size = {2, 2}, data_format = df, name = "maxpooling2d_2"},
    conv(4, 128, 3), bn(4), act(4),
    conv(5, 200, 3), bn(5), act(5),
    L.Flatten{name = "flatten_1"},
    L.Dense{200, name = "dense_1"}, bn(6, -1), act(6),
    L.Dense{3, name = "dense_2"}, act(7, "softmax"),
  }
end

--[[ k111: ChemTS (Keras 1.1.1, TensorFlow) save_weights: Embedding(64, 64), GRU(256) x 2 returning
sequences, TimeDistributed(Dense(64)). Keras 1 GRUs have no reset_after (the Keras 2 equivalent is
reset_after=False: bias (3*units,)). The sequence length (81 in the project's model.json, not in the
pool) does not affect the weights: None here. ]]
M["k111_chemts_embedding_gru_timedistributed_weights.h5"] = function()
  return wk.Sequential{
    L.Input{shape = {wk.None}},
    L.Embedding{64, 64, name = "embedding_1"},
    L.GRU{256, return_sequences = true, reset_after = false, name = "gru_1"},
    L.GRU{256, return_sequences = true, reset_after = false, name = "gru_2"},
    L.TimeDistributed{L.Dense{64, activation = "softmax", name = "dense_1"}, name = "timedistributed_1"},
  }
end

--[[ k120: Keras 1.2.0 model.save, model_config Sequential: Lambda (batch_input_shape (None, 64, 64, 3),
output_shape (64, 64, 3); its marshalled bytecode computes x / 127.5 - 1.0), Convolution2D 16 8x8
subsample 4 'same', 32 3x3 s2 'same', MaxPooling2D 2, 32 5x5 'same', 64 3x3 'same', MaxPooling2D 2,
64 5x5 s2 'same' (dim_ordering 'tf'): 64 -> 16 -> 8 -> 4 -> 4 -> 4 -> 2 -> 1, Flatten 64, Dense 400, 100,
20, 1 with Dropout 0.2/0.5/0.5/0.5 and relu Activations between. ]]
M["k120_behavioral_cloning_conv_full.h5"] = function()
  local function conv(i, filters, k, s)
    return L.Conv2D{filters, {k, k}, strides = {s, s}, padding = "same", name = "convolution2d_" .. i}
  end
  local function act(i) return L.Activation{"relu", name = "activation_" .. i} end
  return wk.Sequential{
    L.Lambda{function(x) return x / 127.5 - 1.0 end, output_shape = {64, 64, 3},
      batch_input_shape = {wk.None, 64, 64, 3}, name = "lambda_1"},
    conv(1, 16, 8, 4), act(1),
    conv(2, 32, 3, 2), L.MaxPooling2D{pool_size = {2, 2}, name = "maxpooling2d_1"}, act(2),
    conv(3, 32, 5, 1), act(3),
    conv(4, 64, 3, 1), L.MaxPooling2D{pool_size = {2, 2}, name = "maxpooling2d_2"}, act(4),
    conv(5, 64, 5, 2),
    L.Flatten{name = "flatten_1"}, L.Dropout{0.2, name = "dropout_1"}, act(5),
    L.Dense{400, name = "dense_1"}, L.Dropout{0.5, name = "dropout_2"}, act(6),
    L.Dense{100, name = "dense_2"}, L.Dropout{0.5, name = "dropout_3"}, act(7),
    L.Dense{20, name = "dense_3"}, L.Dropout{0.5, name = "dropout_4"}, act(8),
    L.Dense{1, name = "dense_4"},
  }
end

--[[ k206: hls4ml jet tagger (Keras 2.0.6) save_weights of a functional model: InputLayer input_1,
BatchNormalization (1 channel), Conv2D(5, 3x3, relu) 'cnn2D_1_relu', Dropout, BatchNormalization (5),
Conv2D(2, 5x5, relu) 'cnn2D_2_relu', Dropout, Flatten, Dense(10, relu) 'dense_1_relu', Dropout,
Dense(5, softmax) 'output_softmax'. Inferred: Dense(10)'s kernel is (50, 10), so the last conv map is
5x5x2; with 'valid' padding that is an 11x11x1 image (11 - 2 = 9, 9 - 4 = 5). ]]
M["k206_fml_jettagger_conv2d_bn_weights.h5"] = function()
  local x = L.Input{shape = {11, 11, 1}, name = "input_1"}
  local inputs = x
  x = L.BatchNormalization{name = "batch_normalization_1"}(x)
  x = L.Conv2D{5, {3, 3}, activation = "relu", name = "cnn2D_1_relu"}(x)
  x = L.Dropout{0.25, name = "dropout_1"}(x)
  x = L.BatchNormalization{name = "batch_normalization_2"}(x)
  x = L.Conv2D{2, {5, 5}, activation = "relu", name = "cnn2D_2_relu"}(x)
  x = L.Dropout{0.25, name = "dropout_2"}(x)
  x = L.Flatten{name = "flatten_1"}(x)
  x = L.Dense{10, activation = "relu", name = "dense_1_relu"}(x)
  x = L.Dropout{0.25, name = "dropout_3"}(x)
  x = L.Dense{5, activation = "softmax", name = "output_softmax"}(x)
  return wk.Model{inputs = inputs, outputs = x}
end

--[[ k216tf: the Keras example CNN VAE (variational_autoencoder_deconv.py) under tf.keras 2.1.6-tf:
encoder = Model(encoder_input (28, 28, 1) -> Conv2D 32 and 64 (3x3, strides 2, 'same', relu) -> Flatten
-> Dense 16 relu -> z_mean, z_log_var Dense 2 -> Lambda z (sampling, output_shape (2,)),
[z_mean, z_log_var, z]); decoder = Model(z_sampling (2,) -> Dense 7*7*64 relu -> Reshape (7, 7, 64) ->
Conv2DTranspose 64 and 32 (3x3, strides 2, 'same', relu) -> Conv2DTranspose 1 'decoder_output'
(sigmoid, 'same')); vae = Model(encoder_input, decoder(encoder(encoder_input)[3])). Inner names as in
the file (the project built the model several times: conv2d_6, z_mean_1, dense_3 ...). ]]
M["k216tf_vae_cnn_nested_weights.h5"] = function()
  local inputs = L.Input{shape = {28, 28, 1}, name = "encoder_input"}
  local x = L.Conv2D{32, 3, strides = 2, padding = "same", activation = "relu", name = "conv2d_6"}(inputs)
  x = L.Conv2D{64, 3, strides = 2, padding = "same", activation = "relu", name = "conv2d_7"}(x)
  x = L.Flatten{name = "flatten_3"}(x)
  x = L.Dense{16, activation = "relu", name = "dense_2"}(x)
  local z_mean = L.Dense{2, name = "z_mean_1"}(x)
  local z_log_var = L.Dense{2, name = "z_log_var_1"}(x)
  local z = L.Lambda{function() error("sampling is not run here") end, output_shape = {2}, name = "z"}(
    {z_mean, z_log_var})
  local encoder = wk.Model{inputs = inputs, outputs = {z_mean, z_log_var, z}, name = "encoder"}

  local latent = L.Input{shape = {2}, name = "z_sampling"}
  local y = L.Dense{7 * 7 * 64, activation = "relu", name = "dense_3"}(latent)
  y = L.Reshape{{7, 7, 64}, name = "reshape_1"}(y)
  y = L.Conv2DTranspose{64, 3, strides = 2, padding = "same", activation = "relu", name = "conv2d_transpose"}(y)
  y = L.Conv2DTranspose{32, 3, strides = 2, padding = "same", activation = "relu", name = "conv2d_transpose_1"}(y)
  y = L.Conv2DTranspose{1, 3, padding = "same", activation = "sigmoid", name = "decoder_output"}(y)
  local decoder = wk.Model{inputs = latent, outputs = y, name = "decoder"}

  local outputs = decoder(encoder(inputs)[3])
  return wk.Model{inputs = inputs, outputs = outputs, name = "vae"}, encoder, decoder
end

--[[ k231: CarND behavioral cloning (Keras 2.3.1) save_weights, from the project's behavioral_cloning.md
(model CarND): input (160, 320, 3), Cropping2D ((80, 20), (1, 1)) 'Crop' -> (60, 318, 3),
AveragePooling2D (1, 4) 'Resize' -> (60, 79, 3), then 'Normalize': in this file a BatchNormalization whose
gamma has 60 entries, i.e. axis=1 (the image rows, not the channels; the published code still had a
Lambda there), Conv2D 24 3x3 strides 2 relu 'Conv2D1' -> (29, 39), MaxPool 'MaxPool1' -> (14, 19),
Conv2D 36 3x3 'Conv2D2' -> (12, 17), 'MaxPool2' -> (6, 8), Conv2D 48 3x3 'Conv2D3' -> (4, 6), 'MaxPool3' ->
(2, 3), Dropout 0.1, Flatten 288, Dense 100/50/10 relu 'FC2'..'FC4', Dense 1 'Readout'. ]]
M["k231_behavioral_cloning_namescope_weights.h5"] = function()
  return wk.Sequential{
    L.Input{shape = {160, 320, 3}},
    L.Cropping2D{{{80, 20}, {1, 1}}, name = "Crop"},
    L.AveragePooling2D{pool_size = {1, 4}, name = "Resize"},
    L.BatchNormalization{axis = 1, name = "Normalize"},
    L.Conv2D{24, {3, 3}, strides = {2, 2}, activation = "relu", name = "Conv2D1"},
    L.MaxPooling2D{name = "MaxPool1"},
    L.Conv2D{36, {3, 3}, activation = "relu", name = "Conv2D2"},
    L.MaxPooling2D{name = "MaxPool2"},
    L.Conv2D{48, {3, 3}, activation = "relu", name = "Conv2D3"},
    L.MaxPooling2D{name = "MaxPool3"},
    L.Dropout{0.1, name = "Dropout"},
    L.Flatten{name = "Flatten"},
    L.Dense{100, activation = "relu", name = "FC2"},
    L.Dense{50, activation = "relu", name = "FC3"},
    L.Dense{10, activation = "relu", name = "FC4"},
    L.Dense{1, name = "Readout"},
  }
end

--[[ k280: tf.keras 2.8.0 save_weights, Sequential LSTM(128, seq) -> LSTM(128, seq) -> LSTM(32) ->
Dense(5): the first kernel is (33, 512), so 33 features per step; the length is not recorded (None). ]]
M["k280_lstm3_genre_weights.h5"] = function()
  return wk.Sequential{
    L.Input{shape = {wk.None, 33}},
    L.LSTM{128, return_sequences = true, name = "lstm"},
    L.LSTM{128, return_sequences = true, name = "lstm_1"},
    L.LSTM{32, name = "lstm_2"},
    L.Dense{5, activation = "softmax", name = "dense"},
  }
end

--[[ k213: Keras 2.1.3 (Theano) model.save, model_config Sequential: LSTM(50, batch_input_shape
(None, 1, 8), recurrent_activation hard_sigmoid, implementation 1) -> Dense(1). ]]
M["k213_theano_pollution_lstm_full.h5"] = function()
  return wk.Sequential{
    L.LSTM{50, recurrent_activation = "hard_sigmoid", implementation = 1, batch_input_shape = {wk.None, 1, 8},
      name = "lstm_1"},
    L.Dense{1, name = "dense_1"},
  }
end

--[[ k224: Keras 2.2.4 model.save, model_config Model 'model_1': input_1 (None, 8, 32) -> Dense(20, relu)
-> Dense(20, relu) -> LSTM(20, activation relu, recurrent_activation hard_sigmoid) -> Dense(30). ]]
M["k224_keras2c_functional_lstm_full.h5"] = function()
  local inputs = L.Input{batch_shape = {wk.None, 8, 32}, name = "input_1"}
  local x = L.Dense{20, activation = "relu", name = "dense_1"}(inputs)
  x = L.Dense{20, activation = "relu", name = "dense_2"}(x)
  x = L.LSTM{20, activation = "relu", recurrent_activation = "hard_sigmoid", implementation = 1,
    name = "lstm_1"}(x)
  x = L.Dense{30, name = "dense_3"}(x)
  return wk.Model{inputs = inputs, outputs = x, name = "model_1"}
end

--[[ k260: tf.keras 2.6.0 model.save, model_config Sequential 'sequential': InputLayer
'simple_rnn_input' (None, 1, 7) -> SimpleRNN(4) -> Dense(1). ]]
M["k260_simplernn_full.h5"] = function()
  return wk.Sequential{
    L.Input{batch_shape = {wk.None, 1, 7}, name = "simple_rnn_input"},
    L.SimpleRNN{4, name = "simple_rnn"},
    L.Dense{1, name = "dense"},
    name = "sequential",
  }
end

--[[ k392: Keras 3.9.2 model.save('x.h5'), model_config Sequential 'sequential': InputLayer
'input_layer' batch_shape (None, 4, 1) -> Bidirectional(LSTM(64) 'forward_lstm', merge concat; the
backward layer 'backward_lstm' go_backwards) -> Dropout 0.3 -> Dense(32, relu) -> Dense(2). ]]
M["k392_legacy_bidirectional_lstm_full.h5"] = function()
  return wk.Sequential{
    L.Input{batch_shape = {wk.None, 4, 1}, name = "input_layer"},
    L.Bidirectional{L.LSTM{64, name = "lstm"}, name = "bidirectional"},
    L.Dropout{0.3, name = "dropout"},
    L.Dense{32, activation = "relu", name = "dense"},
    L.Dense{2, name = "dense_1"},
    name = "sequential",
  }
end

return M
