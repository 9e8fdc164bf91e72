-- load_weights policy (keras-formats.md §3.2–§3.6): topological and by-name loading, skip_mismatch,
-- the exact Keras texts, atomicity, the report. Files are in-memory tables with the wk.open interface
-- (spec/support/loading_fixtures.lua); models and layers are the real classes.
local wk = require "weightkit"
local errors = require "weightkit.errors"
local loading = require "weightkit.loading"
local F = require "support.loading_fixtures"

local L = wk.layers
local build, check = F.build, F.check

local function val(base) return function(i, j) return base + 10 * i + (j or 0) end end

-- A file layer for a Dense of (n_in, units) whose values start at `base`.
local function dense_group(name, n_in, units, base, opts)
  opts = opts or {}
  return { name = name, weights = F.weights{
    { name .. "/kernel:0", build(opts.kernel or {n_in, units}, val(base), opts.dtype) },
    { name .. "/bias:0", build({units}, val(base + 500), opts.dtype) },
  } }
end

local function empty_group(name) return { name = name, weights = {} } end

local function file(layers, extra)
  local spec = { keras_version = "2.15.0", backend = "tensorflow", layers = layers, top_level_weights = {} }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return F.fake_file(spec)
end

-- Sequential{Input{3}, Dense(4) "a", Dropout, Dense(2) "b"}, built, weights filled with 0.
local function model_ab()
  local m = wk.Sequential{ L.Input{shape = {3}}, L.Dense{units = 4, name = "a"}, L.Dropout{rate = 0.5},
    L.Dense{units = 2, name = "b"} }
  for _, v in ipairs(m:weights()) do v.value:fill(0) end
  return m
end

local function layer_of(m, name)
  for _, l in ipairs(m.layers) do if l.name == name then return l end end
end

local function all_zero(m)
  for _, v in ipairs(m:weights()) do
    if v.value:max_abs_diff(wk.zeros(v:shape())) ~= 0 then return false end
  end
  return true
end

local function load(m, f, opts)
  local warnings, report = errors.capture_warnings(loading.load_weights, m, f, opts)
  return report, warnings
end

local function load_error(m, f, opts)
  local ok, err = pcall(errors.capture_warnings, loading.load_weights, m, f, opts)
  assert(not ok, "expected the load to fail")
  return err
end

describe("topological loading", function()
  it("pairs the layers with weights by position, ignoring names and weightless layers", function()
    local m = model_ab()
    local f = file{ dense_group("dense_1", 3, 4, 1000), empty_group("flatten"), dense_group("dense_2", 4, 2, 2000),
      empty_group("dropout_9") }
    local report, warnings = load(m, f)
    check(layer_of(m, "a").kernel.value, {3, 4}, val(1000))
    check(layer_of(m, "a").bias.value, {4}, val(1500))
    check(layer_of(m, "b").kernel.value, {4, 2}, val(2000))
    check(layer_of(m, "b").bias.value, {2}, val(2500))
    assert.are.same({}, warnings)
    assert.are.equal("topological", report.mode)
    assert.are.equal(2, #report.matched)
    assert.are.same({"dense_1", "a"}, {report.matched[1].file, report.matched[1].layer})
    assert.are.same({ name = "a/kernel:0", file = "dense_1/kernel:0", shape = {3, 4} }, report.matched[1].weights[1])
    assert.are.same({ {file = "dense_1", layer = "a"}, {file = "dense_2", layer = "b"} }, report.renamed)
    assert.are.same({}, report.missing)
    assert.are.same({}, report.unused)
    assert.are.same({}, report.skipped)
  end)

  it("casts file values to the variable dtype", function()
    local m = model_ab()
    local f = file{ dense_group("a", 3, 4, 1000, {dtype = "float64"}), dense_group("b", 4, 2, 2000, {dtype = "float64"}) }
    load(m, f)
    assert.are.equal("float32", layer_of(m, "a").kernel:dtype())
    check(layer_of(m, "a").kernel.value, {3, 4}, val(1000))
  end)

  it("layer count mismatch", function()
    local err = load_error(model_ab(), file{ dense_group("dense_1", 3, 4, 0), empty_group("dropout") })
    assert.are.equal("ValueError: Layer count mismatch when loading weights from file. Model expected 2 layers, " ..
      "found 1 saved layers.", err)
  end)

  it("layer count mismatch raises even with skip_mismatch", function()
    local err = load_error(model_ab(), file{ dense_group("dense_1", 3, 4, 0) }, {skip_mismatch = true})
    assert.matches("^ValueError: Layer count mismatch", err)
  end)

  it("weight count mismatch; nothing is assigned", function()
    local m = model_ab()
    local short = { name = "dense_2", weights = F.weights{ {"dense_2/kernel:0", build({4, 2}, val(0))} } }
    local err = load_error(m, file{ dense_group("dense_1", 3, 4, 1000), short })
    assert.are.equal("ValueError: Weight count mismatch for layer #1 (named b in the current model, dense_2 in the " ..
      "save file). Layer expects 2 weight(s). Received 1 saved weight(s)", err)
    assert.is_true(all_zero(m))
  end)

  it("shape mismatch raises TensorFlow's assign text; nothing is assigned", function()
    local m = model_ab()
    local err = load_error(m, file{ dense_group("dense_1", 3, 4, 1000), dense_group("dense_2", 4, 2, 2000, {kernel = {4, 3}}) })
    assert.are.equal("ValueError: Cannot assign value to variable ' b/kernel:0': Shape mismatch.The variable shape " ..
      "(4, 2), and the assigned value shape (4, 3) are incompatible.", err)
    assert.is_true(all_zero(m))
  end)

  it("skip_mismatch skips a mismatching weight with the Keras warning; the rest loads", function()
    local m = model_ab()
    local report, warnings = load(m, file{ dense_group("dense_1", 3, 4, 1000),
      dense_group("dense_2", 4, 2, 2000, {kernel = {4, 3}}) }, {skip_mismatch = true})
    local msg = "Skipping loading weights for layer #1 (named b) due to mismatch in shape for weight b/kernel:0. " ..
      "Weight expects shape (4, 2). Received saved weight with shape (4, 3)"
    assert.are.same({msg}, warnings)
    assert.are.same({msg}, report.warnings)
    check(layer_of(m, "a").kernel.value, {3, 4}, val(1000))
    check(layer_of(m, "b").kernel.value, {4, 2}, function() return 0 end)
    check(layer_of(m, "b").bias.value, {2}, val(2500))
    assert.are.equal(1, #report.skipped)
    local s = report.skipped[1]
    assert.are.same({"dense_2", "b", "b/kernel:0", {4, 2}, {4, 3}, "shape mismatch"},
      {s.file, s.layer, s.weight, s.expected, s.received, s.reason})
    assert.are.same({}, report.missing)
  end)

  it("skip_mismatch skips a layer whose weight count differs", function()
    local m = model_ab()
    local short = { name = "dense_2", weights = F.weights{ {"dense_2/kernel:0", build({4, 2}, val(0))} } }
    local report, warnings = load(m, file{ dense_group("dense_1", 3, 4, 1000), short }, {skip_mismatch = true})
    assert.are.same({"Skipping loading of weights for layer #1 (named b) due to mismatch in number of weights. " ..
      "Layer expects 2 weight(s). Received 1 saved weight(s)"}, warnings)
    check(layer_of(m, "a").kernel.value, {3, 4}, val(1000))
    assert.are.same({"b"}, report.missing)
    assert.are.same({"dense_2"}, report.unused)
    assert.are.same({2, 1, "weight count mismatch"}, {report.skipped[1].expected, report.skipped[1].received,
      report.skipped[1].reason})
  end)

  it("top-level weights: count checked when the file has the group", function()
    local m = model_ab()
    local f = file({ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) },
      { top_level_weights = F.weights{ {"scale:0", build({2}, val(7))} } })
    assert.are.equal("ValueError: Weight count mismatch for top-level weights when loading weights from file. " ..
      "Model expects 0 top-level weight(s). Received 1 saved top-level weight(s)", load_error(m, f))
    assert.is_true(all_zero(m))
    local _, warnings = load(m, f, {skip_mismatch = true})
    assert.are.same({"Skipping loading top-level weights for model due to mismatch in number of weights. " ..
      "Model expects 0 top-level weight(s). Received 1 saved top-level weight(s)"}, warnings)
  end)

  it("top-level weights load into the model's own weights; no group, no check", function()
    local m = model_ab()
    local scale = m:add_weight{name = "scale", shape = {2}, initializer = "zeros"}
    local f = file({ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) },
      { top_level_weights = F.weights{ {"scale:0", build({2}, val(7))} } })
    local report = load(m, f)
    check(scale.value, {2}, val(7))
    assert.is_true(report.matched[3].top_level)
    local f2 = file({ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) }, { top_level_weights = false })
    f2.top_level_weights = nil
    load(m, f2)
    check(scale.value, {2}, val(7))
    local bad = file({ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) },
      { top_level_weights = F.weights{ {"scale:0", build({3}, val(7))} } })
    assert.are.equal("ValueError: Cannot assign value to variable ' scale:0': Shape mismatch.The variable shape " ..
      "(2,), and the assigned value shape (3,) are incompatible.", load_error(m, bad))
  end)
end)

describe("by-name loading", function()
  it("matches file layers by name; absent names on either side are ignored silently", function()
    local m = wk.Sequential{ L.Input{shape = {3}}, L.Dense{units = 4, name = "a"}, L.Dense{units = 2, name = "b"},
      L.Dense{units = 2, name = "c"} }
    for _, v in ipairs(m:weights()) do v.value:fill(0) end
    local f = file{ dense_group("b", 4, 2, 2000), dense_group("zzz", 5, 5, 0), empty_group("drop"),
      dense_group("a", 3, 4, 1000) }
    local report, warnings = load(m, f, {by_name = true})
    check(layer_of(m, "a").kernel.value, {3, 4}, val(1000))
    check(layer_of(m, "b").kernel.value, {4, 2}, val(2000))
    check(layer_of(m, "c").kernel.value, {2, 2}, function() return 0 end)
    assert.are.same({}, warnings)
    assert.are.equal("by_name", report.mode)
    assert.are.same({"c"}, report.missing)
    assert.are.same({"zzz"}, report.unused)
    assert.are.same({}, report.renamed)
    assert.are.same({"b", "a"}, {report.matched[1].layer, report.matched[2].layer})
  end)

  it("every model layer of a name receives the same values", function()
    -- Keras models refuse duplicate names, but the loader indexes lists (tf-keras); a plain model table.
    local d1, d2 = L.Dense{units = 2, name = "twin"}, L.Dense{units = 2, name = "twin"}
    d1(wk.zeros({1, 3})); d2(wk.zeros({1, 3}))
    local m = { name = "m", layers = {d1, d2}, _trainable_weights = {}, _non_trainable_weights = {} }
    local report = load(m, file{ dense_group("twin", 3, 2, 300) }, {by_name = true})
    check(d1.kernel.value, {3, 2}, val(300))
    check(d2.kernel.value, {3, 2}, val(300))
    check(d2.bias.value, {2}, val(800))
    assert.are.equal(2, #report.matched)
  end)

  it("duplicates convert the file's original values each (a Theano flip is not applied twice)", function()
    local c1 = L.Conv2D{filters = 1, kernel_size = {2, 1}, name = "c"}
    local c2 = L.Conv2D{filters = 1, kernel_size = {2, 1}, name = "c"}
    for _, c in ipairs({c1, c2}) do
      wk.backend.with_name_scope("c", function() c:maybe_build({false, 4, 4, 1}) end)
    end
    local m = { name = "m", layers = {c1, c2}, _trainable_weights = {}, _non_trainable_weights = {} }
    local f = file({ { name = "c", weights = F.weights{ {"c/kernel:0", build({2, 1, 1, 1}, function(r) return r + 1 end)},
      {"c/bias:0", build({1}, val(0))} } } }, { keras_version = "2.2.4", backend = "theano" })
    local report = load(m, f, {by_name = true})
    check(c1.kernel.value, {2, 1, 1, 1}, function(r) return 2 - r end)
    check(c2.kernel.value, {2, 1, 1, 1}, function(r) return 2 - r end)
    assert.are.equal(2, #report.converted)
  end)

  it("a weightless file group against a layer with weights is a count mismatch; k counts every file layer", function()
    local m = model_ab()
    local err = load_error(m, file{ empty_group("drop"), empty_group("a"), dense_group("b", 4, 2, 0) }, {by_name = true})
    assert.are.equal("ValueError: Weight count mismatch for layer #1 (named a). Layer expects 2 weight(s). " ..
      "Received 0 saved weight(s)", err)
    assert.is_true(all_zero(m))
    local _, warnings = load(m, file{ empty_group("drop"), empty_group("a"), dense_group("b", 4, 2, 2000) },
      {by_name = true, skip_mismatch = true})
    assert.are.same({"Skipping loading of weights for layer #1 (named a) due to mismatch in number of weights. " ..
      "Layer expects 2 weight(s). Received 0 saved weight(s)"}, warnings)
    check(layer_of(m, "b").kernel.value, {4, 2}, val(2000))
  end)

  it("shape mismatch raises; nothing is assigned, not even earlier layers", function()
    local m = model_ab()
    local err = load_error(m, file{ dense_group("b", 4, 2, 2000), dense_group("a", 3, 4, 1000, {kernel = {3, 5}}) },
      {by_name = true})
    assert.are.equal("ValueError: Shape mismatch in layer #1 (named a) for weight a/kernel:0. Weight expects shape " ..
      "(3, 4). Received saved weight with shape (3, 5)", err)
    assert.is_true(all_zero(m))
  end)

  it("skip_mismatch skips only the mismatching weight", function()
    local m = model_ab()
    local report, warnings = load(m, file{ dense_group("a", 3, 4, 1000, {kernel = {3, 5}}) },
      {by_name = true, skip_mismatch = true})
    assert.are.same({"Skipping loading weights for layer #0 (named a) due to mismatch in shape for weight " ..
      "a/kernel:0. Weight expects shape (3, 4). Received saved weight with shape (3, 5)"}, warnings)
    check(layer_of(m, "a").bias.value, {4}, val(1500))
    check(layer_of(m, "a").kernel.value, {3, 4}, function() return 0 end)
    assert.are.same({3, 4}, report.skipped[1].expected)
    assert.are.same({3, 5}, report.skipped[1].received)
    assert.are.same({"b"}, report.missing)
  end)

  it("top-level weights: Keras's by-name texts", function()
    local m = model_ab()
    m:add_weight{name = "scale", shape = {2}, initializer = "zeros"}
    local layers = { dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) }
    local none = file(layers, { top_level_weights = {} })
    assert.are.equal("ValueError: Weight count mismatch for top-level weights of model. Model expects 1 top-level " ..
      "weight(s). Received 0 saved top-level weight(s)", load_error(m, none, {by_name = true}))
    local wrong = file(layers, { top_level_weights = F.weights{ {"scale:0", build({3}, val(7))} } })
    assert.are.equal("ValueError: Shape mismatch in model for top-level weight scale:0. Weight expects shape (2,). " ..
      "Received saved weight with shape (3,)", load_error(m, wrong, {by_name = true}))
    local _, w1 = load(m, none, {by_name = true, skip_mismatch = true})
    assert.are.same({"Skipping loading top-level weights for model due to mismatch in number of weights. Model " ..
      "expects 1 top-level weight(s). Received 0 saved top-level weight(s)"}, w1)
    local _, w2 = load(m, wrong, {by_name = true, skip_mismatch = true})
    assert.are.same({"Skipping loading top-level weight for model due to mismatch in shape for weight scale:0. " ..
      "Weight expects shape (2,). Received saved weight with shape (3,)"}, w2)
  end)
end)

describe("conversions through a load", function()
  it("Keras 1 file (no keras_version): LSTM 12 arrays into a real LSTM, reported as converted", function()
    local m = wk.Sequential{ L.Input{shape = {5, 2}}, L.LSTM{units = 3, name = "lstm"} }
    local ws = {}
    for gate = 0, 3 do
      for part, shape in ipairs({{2, 3}, {3, 3}, {3}}) do
        local a = 3 * gate + part - 1
        ws[#ws + 1] = { "lstm_" .. a, build(shape, function(i, j) return 1000 * a + 10 * i + (j or 0) end) }
      end
    end
    local f = F.fake_file{ layers = { { name = "lstm_1", weights = F.weights(ws) } } }   -- no keras_version
    local report = load(m, f)
    local lstm = layer_of(m, "lstm")
    local order = { [0] = 0, 2, 1, 3 }                                           -- i, f, c, o <- i, c, f, o
    check(lstm:weights()[1].value, {2, 12}, function(i, c) return 1000 * 3 * order[c // 3] + 10 * i + c % 3 end)
    check(lstm:weights()[3].value, {12}, function(c) return 1000 * (3 * order[c // 3] + 2) + 10 * (c % 3) end)
    assert.are.equal("1", report.keras_version)
    assert.are.equal(1, #report.converted)
    assert.are.same({"lstm_1", "lstm", "keras1_lstm"},
      {report.converted[1].file, report.converted[1].layer, report.converted[1].kind})
    assert.is_string(report.converted[1].reason)
  end)

  it("CuDNNLSTM weights into a real Bidirectional(LSTM)", function()
    local m = wk.Sequential{ L.Input{shape = {5, 3}}, L.Bidirectional{L.LSTM{units = 2}, name = "bi"} }
    local function half(base)
      return { {"k", build({3, 8}, val(base))}, {"r", build({2, 8}, val(base + 100))},
        {"b", build({16}, function(j) return base + j end)} }
    end
    local ws = half(1000)
    for _, w in ipairs(half(5000)) do ws[#ws + 1] = w end
    local report = load(m, file{ { name = "bi", weights = F.weights(ws) } })
    local bi = layer_of(m, "bi")
    check(bi:weights()[3].value, {8}, function(j) return 2 * 1000 + j + (j + 8) end)
    check(bi:weights()[6].value, {8}, function(j) return 2 * 5000 + j + (j + 8) end)
    assert.are.same({"bi/forward_lstm", "bi/backward_lstm"}, {report.converted[1].layer, report.converted[2].layer})
  end)

  it("a nested model's group: Theano flip reaches the Conv2D inside it, the BatchNormalization keeps its order", function()
    local inner = wk.Sequential{ L.Input{shape = {4, 4, 1}}, L.Conv2D{2, {3, 2}, name = "conv"},
      L.BatchNormalization{name = "bn"} }
    inner.name = "inner"
    local m = wk.Sequential{ L.Input{shape = {4, 4, 1}}, inner, L.Flatten{}, L.Dense{1, name = "out"} }
    -- Group order (tf-keras): every trainable weight of the nested model, then every non-trainable one.
    local ws = F.weights{
      {"conv/kernel:0", build({3, 2, 1, 2}, function(r, c, _, f) return 100 * r + 10 * c + f end)},
      {"conv/bias:0", build({2}, val(1))}, {"bn/gamma:0", build({2}, val(2))}, {"bn/beta:0", build({2}, val(3))},
      {"bn/moving_mean:0", build({2}, val(4))}, {"bn/moving_variance:0", build({2}, val(5))},
    }
    local f = file({ { name = "inner", weights = ws }, dense_group("out", 12, 1, 9) },
      { keras_version = "2.1.3", backend = "theano" })
    local report = load(m, f)
    local conv, bn = inner.layers[1], inner.layers[2]
    check(conv.kernel.value, {3, 2, 1, 2}, function(r, c, _, f2) return 100 * (2 - r) + 10 * (1 - c) + f2 end)
    check(conv.bias.value, {2}, val(1))
    local bnw = bn:weights()
    for i, base in ipairs({2, 3, 4, 5}) do check(bnw[i].value, {2}, val(base)) end
    assert.are.equal("inner/conv", report.converted[1].layer)
    assert.are.equal("theano_kernel_flip", report.converted[1].kind)
  end)

  it("an incompatible GRU raises Keras's text", function()
    local m = wk.Sequential{ L.Input{shape = {5, 3}}, L.GRU{units = 2, reset_after = false, name = "gru"} }
    local f = file{ { name = "gru", weights = F.weights{ {"k", build({3, 6}, val(0))}, {"r", build({2, 6}, val(0))},
      {"b", build({12}, val(0))} } } }
    assert.are.equal("ValueError: CuDNNGRU is not compatible with GRU(reset_after=False)", load_error(m, f))
  end)
end)

describe("load_weights / load_into", function()
  it("rejects unknown options like a Python keyword argument", function()
    local ok, err = pcall(loading.load_weights, model_ab(), file{}, {by_nam = true})
    assert.is_false(ok)
    assert.are.equal("TypeError: load_weights() got an unexpected keyword argument 'by_nam'", err)
  end)

  it("opens a path with options.open and closes the file, also on failure", function()
    local closed = 0
    local function opener(layers)
      return function(path)
        assert.are.equal("w.h5", path)
        local f = file(layers)
        function f.close() closed = closed + 1 end
        return f
      end
    end
    local m = model_ab()
    local warnings, report = errors.capture_warnings(loading.load_into, m, "w.h5",
      {open = opener{ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) }})
    assert.are.same({}, warnings)
    assert.are.equal(2, #report.matched)
    assert.are.equal(1, closed)
    local ok = pcall(loading.load_into, m, "w.h5", {open = opener{ dense_group("a", 3, 4, 1) }})
    assert.is_false(ok)
    assert.are.equal(2, closed)
  end)

  it("uses the opener given to set_opener; an opener's nil, message is raised", function()
    local seen
    local prev = loading.set_opener(function(path)
      seen = path
      return file{ dense_group("a", 3, 4, 1), dense_group("b", 4, 2, 2) }
    end)
    local ok, _, report = pcall(errors.capture_warnings, loading.load_into, model_ab(), "x.h5", {by_name = true})
    loading.set_opener(prev)
    assert.is_true(ok)
    assert.are.equal("x.h5", seen)
    local ok2, err = pcall(loading.load_into, model_ab(), "missing.h5",
      {open = function() return nil, "missing.h5: No such file or directory" end})
    assert.is_false(ok2)
    assert.are.equal("missing.h5: No such file or directory", err)
    assert.are.equal("by_name", report.mode)
  end)

  it("refuses a model that has not created its variables", function()
    local m = wk.Sequential{ L.Dense{units = 2} }
    local ok, err = pcall(loading.load_into, m, file{})
    assert.is_false(ok)
    assert.are.equal("ValueError: Unable to load weights saved in HDF5 format into a subclassed Model which has not " ..
      "created its variables yet. Call the Model first, then load the weights.", err)
  end)

  it("tostring(report) is a readable table", function()
    local m = model_ab()
    local report = load(m, file{ dense_group("dense_1", 3, 4, 1000), dense_group("dense_2", 4, 2, 2000, {kernel = {4, 3}}) },
      {skip_mismatch = true})
    local text = tostring(report)
    assert.matches("load_weights report %(topological, skip_mismatch%)", text)
    assert.matches("matched: 2 layer%(s%), 3 weight%(s%)", text)
    assert.matches("dense_1 %-> a", text)
    assert.matches("skipped: 1", text)
    assert.matches("b b/kernel:0: expected %(4, 2%), file %(4, 3%) %(shape mismatch%)", text)
    assert.matches("renamed: 2", text)
  end)
end)

--[[ Real Keras 1 files from ../shared/fixtures/real, read by h5py (Debian's /usr/bin/python3) and handed to
the loader as an in-memory file; the expected values come from NumPy applying Keras's rules (the oracle),
so these specs run before the HDF5 binding exists and check the policy on real data. ]]
local FIXTURES = os.getenv("WK_FIXTURES") or "/work/shared/fixtures/real"

local DUMP_PY = [==[
import os, sys
import h5py, numpy as np
path, out, rule = sys.argv[1], sys.argv[2], sys.argv[3]
f = h5py.File(path, "r")
s = lambda x: x.decode() if isinstance(x, bytes) else str(x)
lines, n = [], 0
def put(tag, a, *fields):
    global n
    n += 1
    p = os.path.join(out, "%d.bin" % n)
    np.ascontiguousarray(a, dtype="<f4").tofile(p)
    lines.append("\t".join((tag,) + fields + (",".join(map(str, a.shape)), p)))
for ln in f.attrs["layer_names"]:
    ln = s(ln); g = f[ln]
    lines.append("L\t" + ln)
    vals = []
    for wn in g.attrs["weight_names"]:
        wn = s(wn); a = g[wn][()]; vals.append(a)
        put("W", a, wn)
    # Keras's preprocess_weights_for_loading for a Keras 1 file, in NumPy:
    if rule == "gru" and len(vals) == 9:
        vals = [np.concatenate([vals[0], vals[3], vals[6]], axis=-1),
                np.concatenate([vals[1], vals[4], vals[7]], axis=-1),
                np.concatenate([vals[2], vals[5], vals[8]], axis=-1)]
    if rule == "conv_th" and len(vals) == 2 and vals[0].ndim == 4:
        vals[0] = np.transpose(vals[0], (2, 3, 1, 0))
    for v in vals:
        put("E", v, ln)
print("\n".join(lines))
]==]

local function have_h5py()
  local p = io.popen("/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null && echo yes")
  local out = p and p:read("a") or ""
  if p then p:close() end
  return out:match("yes") ~= nil
end

-- Returns a fake file holding the real tensors and, per file layer name, the expected converted values.
local function dump(name, rule)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local script = dir .. "/dump.py"
  local fh = assert(io.open(script, "w")); fh:write(DUMP_PY); fh:close()
  local p = assert(io.popen(string.format("/usr/bin/python3 %s %s/%s %s %s", script, FIXTURES, name, dir, rule)))
  local text = p:read("a")
  p:close()
  local function tensor(shape_text, path)
    local shape = {}
    for d in shape_text:gmatch("%d+") do shape[#shape + 1] = tonumber(d) end
    local h = assert(io.open(path, "rb")); local bytes = h:read("a"); h:close()
    return wk.from_bytes(bytes, "float32", shape)
  end
  local layers, expected, current = {}, {}, nil
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
    if f[1] == "L" then
      current = { name = f[2], weights = {} }
      layers[#layers + 1] = current
      expected[f[2]] = {}
    elseif f[1] == "W" then
      current.weights[#current.weights + 1] = { name = f[2], tensor = tensor(f[3], f[4]) }
    elseif f[1] == "E" then
      table.insert(expected[f[2]], tensor(f[3], f[4]))
    end
  end
  os.execute("rm -rf " .. dir)
  return F.fake_file{ layers = layers }, expected, layers
end

local function assert_loaded(model, file_layers, expected)
  local with_weights = {}
  for _, l in ipairs(model.layers) do if #l:weights() > 0 then with_weights[#with_weights + 1] = l end end
  local k = 0
  for _, fl in ipairs(file_layers) do
    if #fl.weights > 0 then
      k = k + 1
      local layer = with_weights[k]
      local vars = layer:weights()
      assert.are.equal(#expected[fl.name], #vars)
      for i, v in ipairs(vars) do
        assert.are.same(expected[fl.name][i]:shape(), v:shape())
        assert.are.equal(0, v.value:max_abs_diff(expected[fl.name][i]), fl.name .. " weight " .. i)
      end
    end
  end
  assert.are.equal(#with_weights, k)
end

describe("real Keras 1 files", function()
  local real_it = have_h5py() and it or pending

  real_it("k111 (Keras 1.1.1): Embedding, 2 GRU with 9 per-gate arrays, TimeDistributed(Dense)", function()
    local f, expected, file_layers = dump("k111_chemts_embedding_gru_timedistributed_weights.h5", "gru")
    local m = wk.Sequential{ L.Input{shape = {10}}, L.Embedding{64, 64},
      L.GRU{256, return_sequences = true, reset_after = false}, L.GRU{256, return_sequences = true, reset_after = false},
      L.TimeDistributed{L.Dense{64}} }
    local report = load(m, f)
    assert_loaded(m, file_layers, expected)
    assert.are.same({"keras1_gru", "keras1_gru"}, {report.converted[1].kind, report.converted[2].kind})
    assert.are.same({"gru_1", "gru_2"}, {report.converted[1].file, report.converted[2].file})
    assert.are.equal(4, #report.matched)
  end)

  real_it("k1 Theano DeepCell (Keras 1, 'th' kernels): channels_first Conv2D, Keras 1 BatchNormalization", function()
    local f, expected, file_layers = dump("k1_theano_deepcell_ecoli_conv_bn_weights.h5", "conv_th")
    local cf = "channels_first"
    local m = wk.Sequential{ L.Input{shape = {1, 31, 31}},
      L.Conv2D{32, {4, 4}, data_format = cf}, L.BatchNormalization{axis = 1}, L.Activation{"relu"},
      L.MaxPooling2D{pool_size = {2, 2}, data_format = cf},
      L.Conv2D{64, {3, 3}, data_format = cf}, L.BatchNormalization{axis = 1}, L.Activation{"relu"},
      L.Conv2D{64, {3, 3}, data_format = cf}, L.BatchNormalization{axis = 1}, L.Activation{"relu"},
      L.MaxPooling2D{pool_size = {2, 2}, data_format = cf},
      L.Conv2D{128, {3, 3}, data_format = cf}, L.BatchNormalization{axis = 1}, L.Activation{"relu"},
      L.Conv2D{200, {3, 3}, data_format = cf}, L.BatchNormalization{axis = 1}, L.Activation{"relu"},
      L.Flatten{}, L.Dense{200}, L.BatchNormalization{}, L.Activation{"relu"}, L.Dense{3}, L.Activation{"softmax"} }
    local report = load(m, f)
    assert_loaded(m, file_layers, expected)
    assert.are.equal(5, #report.converted)
    for _, c in ipairs(report.converted) do assert.are.equal("keras1_conv2d_channels_first", c.kind) end
    assert.are.equal(13, #report.matched)                      -- 5 Conv2D, 6 BatchNormalization, 2 Dense
  end)
end)
