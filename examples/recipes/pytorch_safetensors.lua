--[[
Recipe: a PyTorch state dict saved as safetensors -> a Keras model -> Keras weights.

  weightkit run examples/recipes/pytorch_safetensors.lua model.safetensors out.weights.h5

The PyTorch network this recipe expects (change MODULES and build_model below for yours):

    class Net(nn.Module):                       # state dict keys
        features = nn.Sequential(
            nn.Conv2d(3, 8, 3),                 # features.0.weight (8, 3, 3, 3) OIHW, features.0.bias
            nn.BatchNorm2d(8),                  # features.1.weight/bias/running_mean/running_var
            nn.ReLU())                          #   and features.1.num_batches_tracked
        fc = nn.Linear(8, 4)                    # fc.weight (4, 8) = (out, in), fc.bias; after a
                                                #   global average pool of the features
        lstm = nn.LSTM(5, 6, batch_first=True)  # lstm.weight_ih_l0 (24, 5), weight_hh_l0 (24, 6),
                                                #   bias_ih_l0 (24,), bias_hh_l0 (24,)
        gru = nn.GRU(6, 7, batch_first=True)    # gru.weight_ih_l0 (21, 6), weight_hh_l0 (21, 7),
                                                #   bias_ih_l0 (21,), bias_hh_l0 (21,)

What changes on the way (every transform is a named preset of wk.remap, see lua/weightkit/remap.lua):
  Conv2d weight     OIHW -> Keras HWIO                           torch_conv2d
  Linear weight     (out, in) -> Keras (in, out)                  torch_linear
  BatchNorm         weight/bias/running_mean/running_var -> gamma/beta/moving_mean/moving_variance;
                    num_batches_tracked has no Keras twin: dropped. PyTorch's eps is 1e-5 and its
                    momentum 0.1 (Keras: epsilon 1e-3, momentum 0.99): the Keras layer is built with
                    epsilon = 1e-5, momentum = 0.9, or its outputs would differ.
  LSTM              both gate orders are i, f, g(cell), o: weights only transposed; Keras has one
                    bias, PyTorch two: b_ih + b_hh                torch_linear, torch_lstm_bias
  GRU               PyTorch gates r, z, n; Keras z, r, h: blocks moved after the transpose; PyTorch's
                    GRU is Keras's reset_after=True cell, whose bias is (2, 3u): row 1 b_ih, row 2
                    b_hh (each reordered)                         torch_gru_kernel, torch_gru_bias
Only single-layer, unidirectional LSTM/GRU (_l0 names) are mapped here; PyTorch's batch_first does not
change the weights.
]]
local wk = require "weightkit"
local L = wk.layers

local IN, OUT = arg[1], arg[2]
if not (IN and OUT) then
  io.stderr:write("usage: weightkit run pytorch_safetensors.lua IN.safetensors OUT(.weights.h5|.h5)\n")
  return 2
end

-- The Keras twin of Net: the image branch and the sequence branch side by side.
local function build_model()
  local image = L.Input{shape = {6, 6, 3}, name = "image"}
  local x = L.Conv2D{8, 3, name = "conv"}(image)
  x = L.BatchNormalization{epsilon = 1e-5, momentum = 0.9, name = "bn"}(x)
  x = L.Activation{"relu", name = "relu"}(x)
  x = L.GlobalAveragePooling2D{name = "pool"}(x)
  local logits = L.Dense{4, name = "fc"}(x)
  local seq = L.Input{shape = {wk.None, 5}, name = "sequence"}
  local h = L.LSTM{6, return_sequences = true, name = "lstm"}(seq)
  h = L.GRU{7, reset_after = true, name = "gru"}(h)
  return wk.Model{inputs = {image, seq}, outputs = {logits, h}, name = "net"}
end

-- PyTorch module -> {Keras layer, kind}. The kind picks the name map and transforms below.
local MODULES = {
  {"features.0", "conv", "conv2d"},
  {"features.1", "bn", "batchnorm"},
  {"fc", "fc", "linear"},
  {"lstm", "lstm", "lstm"},
  {"gru", "gru", "gru"},
}

-- Per kind: {PyTorch parameter, Keras weight (under the layer), transform preset or nil}. Several
-- parameters feeding one Keras weight are combined in the order listed here (b_ih first).
local KINDS = {
  conv2d = { {"weight", "kernel", "torch_conv2d"}, {"bias", "bias"} },
  linear = { {"weight", "kernel", "torch_linear"}, {"bias", "bias"} },
  batchnorm = { {"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "moving_mean"},
    {"running_var", "moving_variance"}, {"num_batches_tracked", false} },
  lstm = { {"weight_ih_l0", "lstm_cell/kernel", "torch_linear"},
    {"weight_hh_l0", "lstm_cell/recurrent_kernel", "torch_linear"},
    {"bias_ih_l0", "lstm_cell/bias", "torch_lstm_bias"}, {"bias_hh_l0", "lstm_cell/bias", "torch_lstm_bias"} },
  gru = { {"weight_ih_l0", "gru_cell/kernel", "torch_gru_kernel"},
    {"weight_hh_l0", "gru_cell/recurrent_kernel", "torch_gru_kernel"},
    {"bias_ih_l0", "gru_cell/bias", "torch_gru_bias"}, {"bias_hh_l0", "gru_cell/bias", "torch_gru_bias"} },
}

-- One exact-name rule per parameter: "features.0.weight" -> "conv/kernel:0" with its transform.
local list = {}
for _, m in ipairs(MODULES) do
  local prefix, layer, kind = m[1], m[2], m[3]
  for _, p in ipairs(KINDS[kind]) do
    local from = "^" .. (prefix .. "." .. p[1]):gsub("%p", "%%%0") .. "$"
    local to = p[2] and (layer .. "/" .. p[2] .. ":0") or false
    list[#list + 1] = {from, to, transform = p[3]}
  end
end
local rules = wk.remap.rules(list)

local model = build_model()
-- A dry run first: it reads no tensor and reports every problem at once (missing, unused, shapes).
local dry = model:load_weights(IN, {remap = rules, dry_run = true})
if #dry.errors > 0 or #dry.missing > 0 or #dry.unused > 0 then
  print(dry)
  error("the state dict does not fit the model; see the report above")
end
local report = model:load_weights(IN, {remap = rules})
print(report)

model:save_weights(OUT)
print(("saved %d weights to %s"):format(#model:weights(), OUT))

-- A forward check of the head (BatchNormalization -> ReLU -> Linear, layers weightkit can run): a
-- fixed batch of pooled features as 1x1 maps, the same numbers PyTorch gives in eval mode for
--   net.fc(torch.relu(net.features[1](x[:, :, None, None]))[:, :, 0, 0])
local x = wk.tensor{{-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5}, {0.3, -0.7, 1.1, -1.3, 0.2, 0.9, -0.4, 0.6}}
local maps = model:get_layer("relu")(model:get_layer("bn")(x:reshape{2, 1, 1, 8}))
local head = model:get_layer("fc")(maps:reshape{2, 8})
print("head(x) =")
print(head)
local flat = {}
for i, v in ipairs(head:reshape{8}:totable()) do flat[i] = ("%.9g"):format(v) end
print("head(x) flat: " .. table.concat(flat, " "))
