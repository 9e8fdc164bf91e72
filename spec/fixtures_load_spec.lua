--[[
Issue 3, "done means": every HDF5 file in ../shared/fixtures/real loads into a Lua model built by hand to
the architecture the manifest / model_config describes (spec/support/fixture_models.lua), with every
conversion it needs.

For each fixture:
  * the oracle (spec/support/fixture_oracle.py, Debian's /usr/bin/python3 + h5py + NumPy) reads the file as
    Keras's legacy loader does, checks every raw tensor against expected/<name>.json (names, order, shapes,
    dtypes, sha256) and applies Keras's preprocess_weights_for_loading in NumPy: the values Keras would
    assign, with their float64 sums;
  * the model is built, loaded topologically and, on a fresh model, by name, and every weight is compared
    with the oracle's value (bit-exact) and sum; the report must name the file's keras_version/backend,
    match every layer holding weights, and list exactly the conversions of the FACTS table below (the
    oracle's own list must agree with it too).
Loading goes through `model:load_weights(path)` (wk.open, the C reader) once the binding provides it;
before that, through the loading policy on an in-memory file filled by the oracle's h5py reads (the same
tensors), so the policy is checked on real data either way.

QUIRKS of the real files not spelled out in keras-formats.md:
  * k1 (DeepCell) was trained with Theano, but Keras 1 save_weights wrote no `backend` attribute: Keras 2
    therefore applies only the Keras 1 channels_first transpose (2, 3, 1, 0) and never the Theano kernel
    flip, although Theano's convolution flips kernels. We load it as Keras does (no flip).
  * k1's BatchNormalization arrays are Keras 1 `running_std`; Keras loads them 1:1 into moving_variance.
  * k120 (Keras 1.2.0 model.save): `keras_version` only at the root, so model_weights reads as version "1"
    (Keras 1 conversions apply; none changes these channels_last kernels). Its model_config holds
    Keras 1 argument names (nb_filter, nb_row, subsample, border_mode, dim_ordering "tf", output_dim) and
    a Lambda whose function is marshalled CPython bytecode (x / 127.5 - 1.0).
  * k111: the TimeDistributed group `timedistributed_1` holds arrays named after the inner layer
    (`dense_1_W:0`); GRU arrays per gate in the order z, r, h.
  * k231: layer `Normalize` is a BatchNormalization with axis=1 (60 = image rows, not channels), and its
    weight names carry a `_5` suffix (`Normalize_5/gamma:0`) that differs from the layer name.
  * k213: backend "theano" on a model without conv layers: no Theano flip is due (LSTM is not a conv
    class), and the weight names have no `:0`.
  * k392 (Keras 3.9.2 legacy .h5): names without `:0` that start with the model name
    (`sequential/bidirectional/forward_lstm/lstm_cell/kernel`); Keras 3 runs no conversion at all on load,
    tf-keras's chain (which we run) finds nothing to convert either.
  * k216tf: the nested models' weights are named by the inner layers (`conv2d_6/kernel:0`), with the
    uniquifying suffixes of a session that built the model several times.
  * k206: the jet tagger's input shape is not in the file; 11x11x1 is inferred (see fixture_models.lua).
]]
local wk = require "weightkit"
local loading = require "weightkit.loading"
local common = require "weightkit.loading.common"
local F = require "support.loading_fixtures"
local FM = require "support.fixture_models"

local HERE = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".")
local ROOT = HERE .. "/.."
local FIXTURES = os.getenv("WK_FIXTURES") or (ROOT .. "/../shared/fixtures/real")
local ORACLE = HERE .. "/support/fixture_oracle.py"
local PYTHON = "/usr/bin/python3"

--[[ Keras facts per fixture: the file's version attributes as Keras reads them (model_weights group for
full models; "1" when keras_version is absent), the number of file layers holding weights, and the
conversions tf-keras's preprocess_weights_for_loading applies for the hand-built model ({file layer,
layer path, kind}). ]]
local function each(names, kind)
  local out = {}
  for i, n in ipairs(names) do out[i] = { n, n, kind } end
  return out
end
local K1_CONVS = { "convolution2d_1", "convolution2d_2", "convolution2d_3", "convolution2d_4", "convolution2d_5" }

local FACTS = {
  ["k1_theano_deepcell_ecoli_conv_bn_weights.h5"] = { keras_version = "1", backend = nil, with_weights = 13,
    converted = each(K1_CONVS, "keras1_conv2d_channels_first") },
  ["k111_chemts_embedding_gru_timedistributed_weights.h5"] = { keras_version = "1", backend = nil,
    with_weights = 4, converted = each({ "gru_1", "gru_2" }, "keras1_gru") },
  ["k120_behavioral_cloning_conv_full.h5"] = { keras_version = "1", backend = nil, with_weights = 9,
    converted = {} },
  ["k206_fml_jettagger_conv2d_bn_weights.h5"] = { keras_version = "2.0.6", backend = "tensorflow",
    with_weights = 6, converted = {} },
  ["k216tf_vae_cnn_nested_weights.h5"] = { keras_version = "2.1.6-tf", backend = "tensorflow",
    with_weights = 2, converted = {} },
  ["k231_behavioral_cloning_namescope_weights.h5"] = { keras_version = "2.3.1", backend = "tensorflow",
    with_weights = 8, converted = {} },
  ["k280_lstm3_genre_weights.h5"] = { keras_version = "2.8.0", backend = "tensorflow", with_weights = 4,
    converted = {}, top_level = true },
  ["k213_theano_pollution_lstm_full.h5"] = { keras_version = "2.1.3", backend = "theano", with_weights = 2,
    converted = {} },
  ["k224_keras2c_functional_lstm_full.h5"] = { keras_version = "2.2.4", backend = "tensorflow",
    with_weights = 4, converted = {} },
  ["k260_simplernn_full.h5"] = { keras_version = "2.6.0", backend = "tensorflow", with_weights = 2,
    converted = {} },
  ["k392_legacy_bidirectional_lstm_full.h5"] = { keras_version = "3.9.2", backend = "tensorflow",
    with_weights = 3, converted = {}, top_level = true },
}

--{=====================================================================================================
-- The oracle
--======================================================================================================

local function have_python()
  local p = io.popen(PYTHON .. " -c 'import h5py, numpy' 2>/dev/null && echo yes")
  local out = p and p:read("a") or ""
  if p then p:close() end
  return out:match("yes") ~= nil
end

local function shape_of(text)
  local shape = {}
  for d in text:gmatch("%d+") do shape[#shape + 1] = tonumber(d) end
  return shape
end

local function read_tensor(path, dtype, shape)
  local h = assert(io.open(path, "rb"))
  local bytes = h:read("a")
  h:close()
  return wk.from_bytes(bytes, dtype, shape)
end

--[[ Runs the oracle on one fixture. Returns
  { keras_version = string|nil, backend = string|nil, top_level = bool,
    layers = { {name, weights = { {name, tensor}, ... }}, ... }   (file order; the raw tensors)
    expected = { [file layer name] = { {tensor =, sum =}, ... } } (what Keras assigns)
    converted = { {path, kind}, ... }, file = <in-memory file with the wk.open interface> } ]]
local cache = {}
local function oracle(name, variant)
  variant = variant or "default"
  local key = name .. "\0" .. variant
  if cache[key] then return cache[key] end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  local cmd = string.format("%s '%s' '%s' '%s' '%s' '%s' 2>&1", PYTHON, ORACLE, FIXTURES, name, variant, dir)
  local p = assert(io.popen(cmd))
  local text = p:read("a")
  local ok = p:close()
  if not ok then
    os.execute("rm -rf '" .. dir .. "'")
    error("oracle failed on " .. name .. ":\n" .. text)
  end
  local o = { layers = {}, expected = {}, converted = {} }
  local current
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
    if f[1] == "F" then
      o.keras_version = f[2] ~= "" and f[2] or nil
      o.backend = f[3] ~= "" and f[3] or nil
      o.top_level = f[4] == "1"
    elseif f[1] == "L" then
      current = { name = f[2], weights = {} }
      o.layers[#o.layers + 1] = current
      o.expected[f[2]] = {}
    elseif f[1] == "W" then
      current.weights[#current.weights + 1] = { name = f[2], tensor = read_tensor(f[5], f[4], shape_of(f[3])) }
    elseif f[1] == "E" then
      table.insert(o.expected[current.name], { tensor = read_tensor(f[3], "float32", shape_of(f[2])),
        sum = tonumber(f[4]), sha256 = f[5] })
    elseif f[1] == "C" then
      o.converted[#o.converted + 1] = { f[2], f[3] }
    end
  end
  os.execute("rm -rf '" .. dir .. "'")
  o.file = F.fake_file{ keras_version = o.keras_version, backend = o.backend, layers = o.layers,
    top_level_weights = o.top_level and {} or nil }
  cache[key] = o
  return o
end

--{=====================================================================================================
-- Loading: the real path API when it exists, else the policy on the oracle's tensors
--======================================================================================================

local function real_api()
  return type(wk.Model.load_weights) == "function" and type(wk.open) == "function"
end

-- via = "path": model:load_weights(path) (wk.open, the C reader); via = "h5py": the loading policy on an
-- in-memory file holding the oracle's h5py reads of the same file.
local function load(model, name, o, options, via)
  if via == "path" then
    return model:load_weights(FIXTURES .. "/" .. name, options)
  end
  return loading.load_weights(model, o.file, options)
end

local function build(name, variant)
  wk.backend.clear_session()
  return FM[name](variant)
end

local function with_weights(model)
  local out = {}
  for _, l in ipairs(model.layers) do
    if #common.legacy_weights(l) > 0 then out[#out + 1] = l end
  end
  return out
end

local function file_layers_with_weights(o)
  local out = {}
  for _, fl in ipairs(o.layers) do if #fl.weights > 0 then out[#out + 1] = fl end end
  return out
end

-- Every weight of every model layer holding weights equals the oracle's value (bit-exact), in
-- topological pairing; `pairs` maps model layer -> file layer (by position or by name).
local function assert_values(model, o, by_name)
  local layers = with_weights(model)
  local fls = file_layers_with_weights(o)
  local by = {}
  for _, fl in ipairs(fls) do by[fl.name] = fl end
  assert.are.equal(#fls, #layers)
  local n = 0
  for k, layer in ipairs(layers) do
    local fl = by_name and by[layer.name] or fls[k]
    assert(fl, "no file layer for " .. layer.name)
    local want = o.expected[fl.name]
    local vars = common.legacy_weights(layer)
    assert.are.equal(#want, #vars, layer.name .. ": weight count")
    for i, var in ipairs(vars) do
      local e = want[i]
      assert.are.same(e.tensor:shape(), var:shape(), var.name)
      assert.are.equal("float32", var:dtype())
      local d = var.value:max_abs_diff(e.tensor)
      assert(d == 0, string.format("%s (%s): max |loaded - oracle| = %g", var.name, fl.name, d))
      local s = var.value:sum()
      assert(math.abs(s - e.sum) <= 1e-4 * math.max(1, math.abs(e.sum)),
        string.format("%s: sum %.9g, oracle %.9g", var.name, s, e.sum))
      n = n + 1
    end
  end
  return n
end

local function converted_of(report)
  local out = {}
  for i, c in ipairs(report.converted) do out[i] = { c.file, c.layer, c.kind } end
  return out
end

local function assert_report(report, facts, o, mode)
  assert.are.equal(mode, report.mode)
  assert.are.equal(facts.keras_version, report.keras_version)
  assert.are.equal(facts.backend, report.backend)
  assert.are.equal(facts.with_weights, #report.matched)
  assert.are.same({}, report.skipped)
  assert.are.same({}, report.missing)
  assert.are.same({}, report.unused)
  assert.are.same({}, report.renamed)
  assert.are.same({}, report.warnings)
  assert.are.same(facts.converted, converted_of(report))
  -- the file weight each model weight came from, when no conversion changed their number
  local fls = {}
  for _, fl in ipairs(o.layers) do fls[fl.name] = fl end
  for _, m in ipairs(report.matched) do
    assert.are.equal(m.file, m.layer)
    local fl = fls[m.file]
    if #fl.weights == #m.weights then
      for i, w in ipairs(m.weights) do assert.are.equal(fl.weights[i].name, w.file) end
    end
  end
end

--{=====================================================================================================
-- The specs
--======================================================================================================

local real_it = have_python() and it or pending

describe("real Keras HDF5 fixtures load into hand-built models", function()
  it("FACTS cover every fixture of the issue, and the fixtures are there", function()
    for _, name in ipairs(FM.names) do
      assert(FACTS[name], name)
      local h = io.open(FIXTURES .. "/" .. name, "rb")
      assert(h, "missing fixture " .. FIXTURES .. "/" .. name)
      h:close()
    end
    assert.are.equal(11, #FM.names)
  end)

  for _, name in ipairs(FM.names) do
    local facts = FACTS[name]
    local short = name:match("^(k%w+)_")

    real_it(short .. ": oracle agrees with the FACTS (version attributes, conversions)", function()
      local o = oracle(name)
      if facts.keras_version == "1" then assert.is_nil(o.keras_version)
      else assert.are.equal(facts.keras_version, o.keras_version) end
      assert.are.equal(facts.backend, o.backend)
      assert.are.equal(facts.top_level or false, o.top_level)
      local want = {}
      for i, c in ipairs(facts.converted) do want[i] = { c[2], c[3] } end
      assert.are.same(want, o.converted)
    end)

    for _, via in ipairs({ "path", "h5py" }) do
      local run_it = (via == "path" and not real_api()) and pending or real_it
      local how = via == "path" and "model:load_weights(path)" or "policy on h5py's tensors"

      run_it(short .. ": topological load, report and every value [" .. how .. "]", function()
        local o = oracle(name)
        local model = build(name)
        local report = load(model, name, o, nil, via)
        assert_report(report, facts, o, "topological")
        assert(assert_values(model, o, false) > 0)
      end)

      run_it(short .. ": by-name load gives the same values [" .. how .. "]", function()
        local o = oracle(name)
        local model = build(name)
        local report = load(model, name, o, { by_name = true }, via)
        assert_report(report, facts, o, "by_name")
        assert_values(model, o, true)
      end)
    end
  end
end)

describe("real fixtures: conversions in detail", function()
  local VIA = real_api() and "path" or "h5py"
  local K1 = "k1_theano_deepcell_ecoli_conv_bn_weights.h5"

  real_it("k1 into channels_last convs: no Keras 1 transpose, and (3, 2, 0, 1) cannot fix a 'th' kernel", function()
    -- Keras: the Keras 1 (2, 3, 1, 0) transpose is for channels_first targets only; the fallback
    -- (3, 2, 0, 1) turns (out, in, kh, kw) = (32, 1, 4, 4) into (4, 4, 32, 1), not the layer's (4, 4, 1, 32)
    -- (the oracle shows it), so Keras fails on assignment. We leave the file's shape to the shape check,
    -- which raises before anything is assigned.
    local o = oracle(K1, "channels_last")
    assert.are.same({4, 4, 32, 1}, o.expected.convolution2d_1[1].tensor:shape())
    local model = build(K1, "channels_last")
    local conv = model:get_layer("convolution2d_1")
    assert.are.same({4, 4, 1, 32}, conv.kernel:shape())
    local before = conv.kernel.value:clone()
    local ok, err = pcall(load, model, K1, o, nil, VIA)
    assert.is_false(ok)
    assert.matches("Cannot assign value to variable ' convolution2d_1/kernel:0': Shape mismatch.The variable " ..
      "shape %(4, 4, 1, 32%), and the assigned value shape %(32, 1, 4, 4%) are incompatible.", err)
    assert.are.equal(0, conv.kernel.value:max_abs_diff(before))
  end)

  real_it("k111: each GRU's 9 Keras 1 arrays become kernel (64|256, 768), recurrent (256, 768), bias (768,)", function()
    local name = "k111_chemts_embedding_gru_timedistributed_weights.h5"
    local o = oracle(name)
    local model = build(name)
    load(model, name, o, nil, VIA)
    local g1 = model:get_layer("gru_1")
    local shapes = {}
    for i, v in ipairs(common.legacy_weights(g1)) do shapes[i] = v:shape() end
    assert.are.same({ {64, 768}, {256, 768}, {768} }, shapes)
    -- z block of the kernel is the file's W_z, the h block its W_h (Keras 1 order z, r, h kept)
    local file = o.layers[2].weights
    local k = common.legacy_weights(g1)[1].value
    assert.are.equal(0, k:slice(2, 1, 256):max_abs_diff(file[1].tensor))
    assert.are.equal(0, k:slice(2, 513, 768):max_abs_diff(file[7].tensor))
    -- TimeDistributed's group (named timedistributed_1, arrays dense_1_W:0 / dense_1_b:0) reaches the inner Dense
    local td = model:get_layer("timedistributed_1")
    assert.are.equal(0, td.layer.kernel.value:max_abs_diff(o.layers[4].weights[1].tensor))
  end)

  real_it("k216tf: the nested encoder / decoder groups are split per sublayer", function()
    local name = "k216tf_vae_cnn_nested_weights.h5"
    local o = oracle(name)
    local model = build(name)
    local report = load(model, name, o, nil, VIA)
    local names = {}
    for i, m in ipairs(report.matched) do
      names[i] = { m.layer, #m.weights }
    end
    assert.are.same({ {"encoder", 10}, {"decoder", 8} }, names)
    local dec = model:get_layer("decoder")
    local ct = dec:get_layer("conv2d_transpose_1")
    assert.are.same({3, 3, 32, 64}, ct.kernel:shape())
    assert.are.equal(0, ct.kernel.value:max_abs_diff(o.layers[3].weights[5].tensor))
  end)

  real_it("k213: a Theano file without conv layers needs no flip; its LSTM loads unchanged", function()
    local name = "k213_theano_pollution_lstm_full.h5"
    local o = oracle(name)
    local model = build(name)
    local report = load(model, name, o, nil, VIA)
    assert.are.equal("theano", report.backend)
    assert.are.same({}, report.converted)
    assert.are.equal(0, model:get_layer("lstm_1").cell.kernel.value:max_abs_diff(o.layers[1].weights[1].tensor))
  end)

  real_it("k392 (Keras 3 legacy .h5): Bidirectional halves go to forward_lstm and backward_lstm", function()
    local name = "k392_legacy_bidirectional_lstm_full.h5"
    local o = oracle(name)
    local model = build(name)
    local report = load(model, name, o, nil, VIA)
    assert.are.equal("3.9.2", report.keras_version)
    local bi = model:get_layer("bidirectional")
    local fw = common.legacy_weights(bi.forward_layer)
    local bw = common.legacy_weights(bi.backward_layer)
    local file = o.layers[1].weights
    for i = 1, 3 do
      assert.are.equal(0, fw[i].value:max_abs_diff(file[i].tensor))
      assert.are.equal(0, bw[i].value:max_abs_diff(file[3 + i].tensor))
    end
    assert.matches("forward_lstm", file[1].name)
    assert.matches("backward_lstm", file[4].name)
  end)
end)

describe("fixes found while building the fixture models", function()
  it("Lambda on a list of inputs with an unknown batch dim: output_shape gets batch None (k216tf's z)", function()
    wk.backend.clear_session()
    local a = wk.layers.Input{shape = {2}}
    local b = wk.layers.Input{shape = {2}}
    local z = wk.layers.Lambda{function() end, output_shape = {2}, name = "z"}({a, b})
    assert.are.same({false, 2}, z:shape())
    local lam = wk.layers.Lambda{function() end, output_shape = {5, 3}}
    assert.are.same({false, 5, 3}, lam:compute_output_shape({{false, 4}, {false, 4}}))
    assert.are.same({7, 5, 3}, lam:compute_output_shape({{7, 4}, {7, 4}}))
    assert.are.same({false, 5, 3}, lam:compute_output_shape({false, 4}))
  end)
end)
