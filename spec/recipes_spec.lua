--[[
Specs for the recipes in examples/recipes/ (issue 6, point 4): each recipe runs through the real
command ($WEIGHTKIT_BUILD/weightkit run ...) on a real file of ../shared/fixtures/real or on a file the
spec generates, in a temp dir; then the numbers it produced are checked — by
spec/support/recipes_check.py (h5py + numpy, no weightkit: values recomputed from the input files) and,
where a model is the better witness, by loading the output back with weightkit here.
]]
local wk = require "weightkit"
local shell = require "support.shell"

local L = wk.layers
local BIN = (os.getenv("WEIGHTKIT_BUILD") or "build") .. "/weightkit"
local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local PY = "/usr/bin/python3"
local CHECK = "spec/support/recipes_check.py"

local tmpdir = shell.temp_dir("wk_recipes_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function tmp(name) return tmpdir .. "/" .. name end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function quote_all(args)
  local out = {}
  for i, a in ipairs(args) do out[i] = q(a) end
  return table.concat(out, " ")
end

-- Runs a recipe; returns its stdout, stderr and exit status.
local function recipe(name, args)
  local err = tmp("stderr.txt")
  local cmd = BIN .. " run examples/recipes/" .. name .. ".lua " .. quote_all(args) .. " 2>" .. q(err) ..
    "; echo \"exit=$?\""
  local text = shell.sh(cmd)
  local f = io.open(err, "rb")
  local stderr = f and f:read("a") or ""
  if f then f:close() end
  local status = tonumber(text:match("exit=(%d+)\n$"))
  return (text:gsub("exit=%d+\n$", "")), stderr, status
end

-- Runs a recipe that must succeed; returns its stdout.
local function run_ok(name, args)
  local out, err, status = recipe(name, args)
  assert.are.equal(0, status, name .. " failed:\n" .. err .. out)
  return out, err
end

-- Runs a checker subcommand that must pass; returns the number of checks.
local function check(sub, args)
  local text, ok = shell.sh(PY .. " " .. CHECK .. " " .. sub .. " " .. quote_all(args) .. " 2>&1")
  assert.is_true(ok, sub .. " check failed:\n" .. text)
  assert.is_nil(text:match("FAIL"), text)
  local n = 0
  for _ in text:gmatch("\nok ") do n = n + 1 end
  if text:match("^ok ") then n = n + 1 end
  return n, text
end

local function real(name) return REAL .. "/" .. name end

local function json_map(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = string.format("%q: %q", k, t[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

describe("recipe pytorch_safetensors", function()
  it("maps a PyTorch state dict (conv, BN, Linear, LSTM, GRU) and its head computes as PyTorch does", function()
    local sd = tmp("net.safetensors")
    check("torch-make", { sd })
    local out = run_ok("pytorch_safetensors", { sd, tmp("net.h5") })
    assert.matches("dropped: 1\n%s+features%.1%.num_batches_tracked", out)
    assert.matches("gru/gru_cell/bias:0 %[gate_reorder%(r,z,n %-> z,r,n, axis %-1%) > stack", out)
    local flat = assert(out:match("head%(x%) flat: ([^\n]+)"), out)
    local n = check("torch", { sd, tmp("net.h5"), flat })
    assert.are.equal(15, n)
  end)

  it("also writes Keras 3 .weights.h5, with the same values", function()
    local sd = tmp("net3.safetensors")
    check("torch-make", { sd })
    run_ok("pytorch_safetensors", { sd, tmp("net3.weights.h5") })
    run_ok("pytorch_safetensors", { sd, tmp("net3.h5") })
    local a <close> = wk.load_file(tmp("net3.weights.h5"))
    local b <close> = wk.load_file(tmp("net3.h5"))
    assert.are.equal("keras3-weights-h5", a.format)
    local gru3 = a:get("layers/gru/cell", "2")
    local gru2 = b:get("gru", "gru/gru_cell/bias:0")
    assert.are.same({ 2, 21 }, gru3:shape())
    assert.are.equal(0, gru3:max_abs_diff(gru2))
  end)

  it("refuses a state dict that does not fit, before writing anything", function()
    -- the same state dict without lstm.bias_hh_l0: the LSTM bias has one part of two
    local sd = tmp("bad.safetensors")
    check("torch-make", { sd })
    local f = assert(wk.open(sd))
    local tensors = {}
    for _, layer in ipairs(f:layers()) do
      for _, w in ipairs(layer.weights) do
        local name = layer.name .. "." .. w.name
        if name ~= "lstm.bias_hh_l0" then tensors[#tensors + 1] = { name = name, tensor = w.tensor:clone() } end
      end
    end
    f:close()
    require("weightkit.core").save_safetensors(tmp("missing.safetensors"), tensors)
    local out, _, status = recipe("pytorch_safetensors", { tmp("missing.safetensors"), tmp("bad.h5") })
    assert.are_not.equal(0, status)
    assert.matches("lstm/lstm_cell/bias:0", out, 1, true)
    assert.is_nil(io.open(tmp("bad.h5")))
  end)
end)

describe("recipe transfer_learning", function()
  it("k280: backbone by name from the file, frozen; the new 3-class head keeps its fresh init", function()
    local out = run_ok("transfer_learning", { real("k280_lstm3_genre_weights.h5"), tmp("tl.h5"), "3" })
    assert.matches("matched: 3 layer%(s%), 9 weight%(s%)", out)
    assert.matches("skipped: 2\n%s+dense dense/kernel:0: expected %(32, 3%), file %(32, 5%)", out)
    assert.matches("head dense 32x3: fresh initialization kept", out, 1, true)
    assert.matches("trainable weights: dense/kernel:0 dense/bias:0\n", out, 1, true)
    assert.matches("non-trainable weights: 9\n", out, 1, true)
    local n = check("transfer", { real("k280_lstm3_genre_weights.h5"), tmp("tl.h5"), "dense", "3" })
    assert.are.equal(9 + 3, n)
  end)

  it("a 7-class head works the same", function()
    run_ok("transfer_learning", { real("k280_lstm3_genre_weights.h5"), tmp("tl7.h5"), "7" })
    check("transfer", { real("k280_lstm3_genre_weights.h5"), tmp("tl7.h5"), "dense", "7" })
  end)
end)

describe("recipe renamed_layers", function()
  it("k224 (Keras 2.2.4 dense_1 ... lstm_1) into today's names (dense ... lstm)", function()
    local out = run_ok("renamed_layers", { real("k224_keras2c_functional_lstm_full.h5"), tmp("renamed.h5") })
    assert.matches("dense_1%s+%-> dense\n%s+dense_2%s+%-> dense_1\n%s+lstm_1%s+%-> lstm\n%s+dense_3%s+%-> dense_2", out)
    assert.matches("renamed: 9", out)
    local n = check("renamed", { real("k224_keras2c_functional_lstm_full.h5"), tmp("renamed.h5"),
      "dense_1=dense,dense_2=dense_1,lstm_1=lstm,dense_3=dense_2" })
    assert.are.equal(1 + 9, n)
  end)
end)

describe("recipe keras1_to_keras2", function()
  local K1 = real("k1_theano_deepcell_ecoli_conv_bn_weights.h5")

  local function first3(out)
    return (assert(out:match("convolution2d_1/kernel:0 %[1, 1, 1, 1%.%.3%] = ([^\n]+)"), out))
  end

  it("k1 Theano: transposed and flipped kernels, BN and Dense as they were; a Keras 2 file", function()
    local out = run_ok("keras1_to_keras2", { K1, tmp("k1.h5") })
    assert.matches("flipped convolution2d_5/kernel:0 3x3x128x200", out, 1, true)
    -- 5 convs x 2 + 6 BN x 4 + 2 Dense x 2 + attributes + printed values
    assert.are.equal(10 + 24 + 4 + 2, check("keras1", { K1, tmp("k1.h5"), "1", first3(out) }))
    -- the Keras 2 file loads back into the Keras 2 model without any conversion
    local model = require("support.fixture_models")["k1_theano_deepcell_ecoli_conv_bn_weights.h5"]()
    local report = model:load_weights(tmp("k1.h5"))
    assert.are.same({}, report.converted)
    assert.are.equal(13, #report.matched)
  end)

  it("tensorflow: the same without the flip", function()
    local out = run_ok("keras1_to_keras2", { K1, tmp("k1tf.h5"), "tensorflow" })
    assert.is_nil(out:match("flipped"))
    check("keras1", { K1, tmp("k1tf.h5"), "0", first3(out) })
  end)
end)

describe("recipe to_keras3", function()
  it("k280 Keras 2 .h5 -> .weights.h5 (layers/<name>/cell/vars/<i>)", function()
    local out = run_ok("to_keras3", { real("k280_lstm3_genre_weights.h5"), tmp("genre.weights.h5"), "genre_lstm" })
    assert.matches("format keras3%-weights%-h5", out)
    local map = { ["layers/dense/vars/0"] = "dense/kernel:0", ["layers/dense/vars/1"] = "dense/bias:0" }
    for i, layer in ipairs{ "lstm", "lstm_1", "lstm_2" } do
      local cell = layer .. "/lstm_cell" .. (i == 1 and "" or "_" .. (i - 1)) .. "/"
      for j, w in ipairs{ "kernel", "recurrent_kernel", "bias" } do
        map[("layers/%s/cell/vars/%d"):format(layer, j - 1)] = cell .. w .. ":0"
      end
    end
    assert.are.equal(1 + 11, check("keras3-h5", { real("k280_lstm3_genre_weights.h5"), tmp("genre.weights.h5"),
      json_map(map) }))
  end)

  it("TF 2.0 checkpoint -> .weights.h5, values from the checkpoint's data shard", function()
    local prefix = real("tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt")
    run_ok("to_keras3", { prefix, tmp("mlp.weights.h5"), "tf_tutorial_mlp" })
    local k = "layer_with_weights-%d/%s/.ATTRIBUTES/VARIABLE_VALUE"
    local map = {
      ["layers/dense/vars/0"] = k:format(0, "kernel"), ["layers/dense/vars/1"] = k:format(0, "bias"),
      ["layers/dense_1/vars/0"] = k:format(1, "kernel"), ["layers/dense_1/vars/1"] = k:format(1, "bias"),
    }
    assert.are.equal(1 + 4, check("keras3-tf", { prefix, real("expected/tfckpt_tf20_tutorial_cp0000.json"),
      tmp("mlp.weights.h5"), json_map(map) }))
  end)

  it("takes the model from a Lua file; Keras 3 paths follow layer classes, not names", function()
    local f = assert(io.open(tmp("mlp_model.lua"), "wb"))
    f:write('local wk = require "weightkit"\nlocal L = wk.layers\n' ..
      'return wk.Sequential{L.Input{shape = {784}}, L.Dense{512, activation = "relu", name = "hidden"},\n' ..
      '  L.Dropout{0.2}, L.Dense{10, activation = "softmax", name = "probs"}}\n')
    f:close()
    run_ok("to_keras3", { real("tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt"), tmp("mlp2.weights.h5"), tmp("mlp_model.lua") })
    local a <close> = wk.load_file(tmp("mlp2.weights.h5"))
    local b <close> = wk.load_file(tmp("mlp.weights.h5"))
    assert.is_nil(a:get("layers/probs", "0"))
    assert.are.equal(0, a:get("layers/dense_1", "0"):max_abs_diff(b:get("layers/dense_1", "0")))
  end)
end)

describe("recipe prune_conv_channels", function()
  local K206 = real("k206_fml_jettagger_conv2d_bn_weights.h5")

  -- The jet tagger with `f1` and `f2` filters in its two convs (spec/support/fixture_models.lua has 5, 2).
  local function tagger(f1, f2)
    local x = L.Input{shape = {11, 11, 1}, name = "input_1"}
    local inputs = x
    x = L.BatchNormalization{name = "batch_normalization_1"}(x)
    x = L.Conv2D{f1, {3, 3}, activation = "relu", name = "cnn2D_1_relu"}(x)
    x = L.Dropout{0.25, name = "dropout_1"}(x)
    x = L.BatchNormalization{name = "batch_normalization_2"}(x)
    x = L.Conv2D{f2, {5, 5}, activation = "relu", name = "cnn2D_2_relu"}(x)
    x = L.Dropout{0.25, name = "dropout_2"}(x)
    x = L.Flatten{name = "flatten_1"}(x)
    x = L.Dense{10, activation = "relu", name = "dense_1_relu"}(x)
    x = L.Dropout{0.25, name = "dropout_3"}(x)
    x = L.Dense{5, activation = "softmax", name = "output_softmax"}(x)
    return wk.Model{inputs = inputs, outputs = x}
  end

  it("Conv2D -> BatchNormalization -> Conv2D: 3 of 5 filters (not the last ones) go", function()
    local out = run_ok("prune_conv_channels", { K206, tmp("p1.h5"), "cnn2D_1_relu", "batch_normalization_2",
      "cnn2D_2_relu", "3" })
    assert.matches("keeps filters 1 2\n", out, 1, true)
    assert.are.equal(1 + 2 + 4 + 2 + 8, check("prune", { K206, tmp("p1.h5"), "cnn2D_1_relu",
      "batch_normalization_2", "cnn2D_2_relu", "3" }))
    -- the pruned file is exactly the weights of the 2-filter architecture
    local report = tagger(2, 2):load_weights(tmp("p1.h5"))
    assert.are.equal(6, #report.matched)
    assert.are.same({}, report.skipped)
  end)

  it("Conv2D -> Flatten -> Dense: every C-th kernel row goes", function()
    run_ok("prune_conv_channels", { K206, tmp("p2.h5"), "cnn2D_2_relu", "-", "dense_1_relu", "1" })
    check("prune", { K206, tmp("p2.h5"), "cnn2D_2_relu", "-", "dense_1_relu", "1" })
    local model = tagger(5, 1)
    model:load_weights(tmp("p2.h5"))
    assert.are.same({ 25, 10 }, model:get_layer("dense_1_relu").kernel:shape())
  end)

  it("refuses K out of range", function()
    local _, err, status = recipe("prune_conv_channels", { K206, tmp("p3.h5"), "cnn2D_2_relu", "-",
      "dense_1_relu", "2" })
    assert.are_not.equal(0, status)
    assert.matches("K must be in 1%.%.1", err)
  end)
end)

describe("recipes without their arguments", function()
  it("print their usage and exit with status 2 (the sandbox has no os.exit: they return it)", function()
    for _, name in ipairs{ "transfer_learning", "renamed_layers", "keras1_to_keras2", "to_keras3",
      "prune_conv_channels", "pytorch_safetensors" } do
      local out, err, status = recipe(name, {})
      assert.are.equal(2, status, name .. ": " .. err)
      assert.matches("^usage: weightkit run " .. name .. "%.lua ", err)
      assert.are.equal("", out)
    end
  end)
end)

describe("examples/recipes/README.md", function()
  it("lists every recipe with its command line", function()
    local f = assert(io.open("examples/recipes/README.md", "rb"))
    local text = f:read("a")
    f:close()
    for _, name in ipairs{ "transfer_learning", "renamed_layers", "keras1_to_keras2", "to_keras3",
      "prune_conv_channels", "pytorch_safetensors" } do
      assert.matches("weightkit run examples/recipes/" .. name .. ".lua ", text, 1, true)
    end
  end)
end)
