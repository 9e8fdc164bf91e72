--[[
Keras 3 load_weights / save_weights (weightkit.keras3.load, weightkit.keras3.save) on real files of
../shared/fixtures/real (sha256 ground truth in expected/*.json), with Keras 3's error texts
(keras-formats.md §4.4), h5py checks of what we write (spec/support/keras3_h5_dump.py) and sharded
`.weights.json` round trips (§4.5).
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local json = require "weightkit.json"
local paths = require "weightkit.keras3.paths"
local k3load = require "weightkit.keras3.load"
local saving = require "weightkit.saving"
local K = require "support.keras3_models"
local shell = require "support.shell"

local L = wk.layers
local PY = "/usr/bin/python3"
local DUMP = "spec/support/keras3_h5_dump.py"

local K3 = "k3_dense_adam.weights.h5"
local K392 = "k392_hybrid_conv1d_bilstm_bn.keras"
local K2150 = "k2150_windows_backslash_dense.keras"

local tmpdir = shell.temp_dir("wk_keras3_spec")
local function tmp(name) return tmpdir .. "/" .. name end

local function h5dump(path)
  local text, ok = shell.sh(PY .. " " .. DUMP .. " '" .. path .. "'")
  assert(ok, "h5py dump failed for " .. path)
  return json.decode(text, "dump")
end

-- Every variable of the model (by Keras 3 path) has the fixture's bytes.
local function assert_values_match(model, fixture)
  local groups = K.expected_groups(fixture)
  local n = 0
  for _, o in ipairs(paths.objects(model)) do
    for i, v in ipairs(o.variables) do
      local want = groups[o.path][i]
      assert.equal(want.sha256, core.tensor_sha256(v.value), o.path .. " " .. (i - 1))
      n = n + 1
    end
  end
  return n
end

local function quiet(fn, ...)
  local warnings, a, b = errors.capture_warnings(fn, ...)
  return warnings, a, b
end

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

describe("keras3 weights", function()
teardown(function() shell.remove_dir(tmpdir) end)

describe("keras3 load_weights (real files)", function()
  before_each(function() wk.backend.clear_session() end)

  it("loads k3_dense_adam.weights.h5 and ignores the optimizer group", function()
    local m = K.k3_dense_adam()
    local report = m:load_weights(K.real(K3))
    assert.equal(2, assert_values_match(m, K3))
    assert.equal("keras3", report.mode)
    assert.same({"optimizer"}, report.unused)
    assert.equal(1, #report.matched)
    assert.equal("layers/dense/vars/0", report.matched[1].weights[1].file)
  end)

  it("loads the k392 hybrid .keras (Conv1D, BiLSTM, BatchNorm, LSTM, Dense) into a hand-built model", function()
    local m = K.k392()
    local report = m:load_weights(K.real(K392))
    assert.equal(19, assert_values_match(m, K392))
    assert.same({"optimizer"}, report.unused)
    assert.same({}, report.missing)
    assert.matches("layers/bidirectional/forward_layer/cell", tostring(report), 1, true)
  end)

  it("loads tf.keras 2.15's Windows .keras (groups named 'layers\\dense')", function()
    local m = K.k2150()
    local report = m:load_weights(K.real(K2150))
    assert.equal(6, assert_values_match(m, K2150))
    table.sort(report.unused)
    assert.same({"metrics/mean", "metrics/mean_metric_wrapper"}, report.unused)
  end)

  it("loads an opened file too, and exposes the file's vars groups", function()
    local f <close> = assert(wk.open(K.real(K392)))
    local objs = k3load.file_objects(f)
    local by = {}
    for _, o in ipairs(objs) do by[o.path] = o end
    assert.equal("lstm_cell", by["layers/lstm/cell"].name)
    assert.equal(3, #by["layers/lstm/cell"].weights)
    assert.same({128, 128}, by["layers/lstm/cell"].weights[1].shape)
    local m = K.k392()
    m:load_weights(f)
    assert_values_match(m, K392)
  end)
end)

describe("keras3 load_weights errors (Keras 3 texts)", function()
  before_each(function() wk.backend.clear_session() end)

  it("refuses an unbuilt model", function()
    local m = wk.Sequential{L.Dense{10}}
    assert.equal("ValueError: You are loading weights into a model that has not yet been built. Try " ..
      "building the model first by calling it on some data or by using `build()`.",
      err_of(m.load_weights, m, K.real(K3)))
  end)

  it("refuses by_name", function()
    local m = K.k3_dense_adam()
    assert.equal("ValueError: `by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: " ..
      "filepath=" .. K.real(K3), err_of(m.load_weights, m, K.real(K3), {by_name = true}))
  end)

  it("reports a count mismatch per object, with Keras 3 variable names", function()
    local m = wk.Sequential{L.Input{shape = {784}}, L.Dense{10, use_bias = false}}
    assert.equal("ValueError: A total of 1 objects could not be loaded. Example error message for object " ..
      "<Dense name=dense, built=True>:\n\nLayer 'dense' expected 1 variables, but received 2 variables " ..
      "during loading. Expected: ['kernel']\n\nList of objects that could not be loaded:\n" ..
      "[<Dense name=dense, built=True>]", err_of(m.load_weights, m, K.real(K3)))
  end)

  it("reports a shape mismatch with Keras 3's assign text; collects every failing object", function()
    local m = wk.Sequential{L.Input{shape = {784}}, L.Dense{12}}
    local err = err_of(m.load_weights, m, K.real(K3))
    assert.equal("ValueError: A total of 1 objects could not be loaded. Example error message for object " ..
      "<Dense name=dense, built=True>:\n\nThe shape of the target variable and the shape of the target " ..
      "value in `variable.assign(value)` must match. variable.shape=(784, 12), Received: " ..
      "value.shape=(784, 10). Target variable: <Variable path=dense/kernel, shape=(784, 12), " ..
      "dtype=float32>\n\nList of objects that could not be loaded:\n[<Dense name=dense, built=True>]", err)
    wk.backend.clear_session()
    local bad = wk.Sequential{L.Input{shape = {3, 2}}, L.Conv1D{32, 2}, L.Bidirectional{L.LSTM{64,
      return_sequences = true}}, L.Dropout{0.3}, L.BatchNormalization{}, L.LSTM{16}, L.Dense{64}, L.Dense{3}}
    err = err_of(bad.load_weights, bad, K.real(K392))
    -- Conv1D, the three LSTM cells (backward_layer walked before forward_layer; the wrapped LSTM's own
    -- cell is lstm_cell, unused), the first Dense
    assert.matches("^ValueError: A total of 5 objects could not be loaded%.", err)
    assert.matches("List of objects that could not be loaded:\n[<Conv1D name=conv1d, built=True>, " ..
      "<LSTMCell name=lstm_cell_2, built=True>, <LSTMCell name=lstm_cell_1, built=True>, " ..
      "<LSTMCell name=lstm_cell_3, built=True>, <Dense name=dense, built=True>]", err, 1, true)
  end)

  it("with skip_mismatch warns once, loads the rest and reports what was skipped", function()
    local m = wk.Sequential{L.Input{shape = {3, 2}}, L.Conv1D{64, 2}, L.Bidirectional{L.LSTM{64,
      return_sequences = true}}, L.Dropout{0.3}, L.BatchNormalization{}, L.LSTM{32}, L.Dense{64}, L.Dense{5}}
    local before = m.layers[#m.layers]:get_weights()
    local warnings, report = quiet(m.load_weights, m, K.real(K392), {skip_mismatch = true})
    assert.equal(1, #warnings)
    assert.matches("^A total of 1 objects could not be loaded%.", warnings[1])
    assert.equal(1, #report.skipped)
    assert.equal("layers/dense_1", report.skipped[1].path)
    assert.equal("shape mismatch", report.skipped[1].reason)
    assert.same({64, 3}, report.skipped[1].received)
    -- the failing Dense kept its values; every other object loaded
    assert.equal(0, before[1]:max_abs_diff(m.layers[#m.layers]:get_weights()[1]))
    local groups = K.expected_groups(K392)
    assert.equal(groups["layers/dense"][1].sha256, core.tensor_sha256(m.layers[6]:get_weights()[1]))
  end)

  it("assigns a failing object's earlier variables (partial load, as Keras)", function()
    local function model(n)
      local Pair = wk.layers.custom{class_name = "Pair", weights = function()
        return {{name = "a", shape = {2, 2}, initializer = "ones"}, {name = "b", shape = {n}}}
      end}
      return wk.Sequential{L.Input{shape = {2}}, Pair{}}
    end
    local src = model(3)
    src.layers[1]:get_weights()
    src.layers[1]._trainable_weights[1].value:fill(5)
    assert.is_true(src:save_weights(tmp("pair.weights.h5")))
    local dst = model(4)
    local warnings, report = quiet(dst.load_weights, dst, tmp("pair.weights.h5"), {skip_mismatch = true})
    assert.equal(1, #warnings)
    assert.equal(5, dst.layers[1]:get_weights()[1]:get(1, 1))
    assert.equal(1, report.skipped[1].assigned)
    assert.is_true(report.matched[1].partial)
  end)

  it("names a never-built layer that the file gives variables", function()
    local m = wk.Sequential{L.Input{shape = {784}}, L.Dropout{0.5}}
    m.layers[1].built = false
    local src = wk.Sequential{L.Input{shape = {784}}, L.Dense{10}}
    src:save_weights(tmp("one.weights.h5"))
    -- rename the group so that the Dropout's path gets the Dense's variables
    local f <close> = assert(wk.open(tmp("one.weights.h5")))
    local objs = k3load.file_objects(f)
    for _, o in ipairs(objs) do if o.path == "layers/dense" then o.path = "layers/dropout" end end
    local store = require("weightkit.keras3.store").new(objs)
    local err = err_of(k3load.load, m, store)
    assert.matches("Layer 'dropout' was never built and thus it doesn't have any variables. However the " ..
      "weights file lists 2 variables for this layer.\nIn most cases", err, 1, true)
    assert.matches("[<Dropout name=dropout, built=False>]", err, 1, true)
  end)
end)

describe("keras3 load_weights: look-up rules", function()
  before_each(function() wk.backend.clear_session() end)

  local function stored(path, tensors)
    local ws = {}
    for i, t in ipairs(tensors) do ws[i] = {name = tostring(i - 1), shape = t:shape(), dtype = t:dtype(), tensor = t} end
    return {path = path, raw = path, weights = ws}
  end
  local store = require "weightkit.keras3.store"

  it("falls back to `_layer_checkpoint_dependencies` (Keras 2.12 - 2.14 files)", function()
    local m = wk.Sequential{L.Input{shape = {2}}, L.Dense{3}}
    local s = store.new{stored("_layer_checkpoint_dependencies/dense", {wk.full({2, 3}, 4), wk.full({3}, 1)})}
    local report = k3load.load(m, s)
    assert.equal(4, m.layers[1]:get_weights()[1]:get(2, 3))
    assert.equal("_layer_checkpoint_dependencies/dense", report.matched[1].file)
    -- without that top-level group there is no fallback: the count check fails
    local s2 = store.new{stored("other/dense", {wk.full({2, 3}, 4), wk.full({3}, 1)})}
    assert.matches("Layer 'dense' expected 2 variables, but received 0 variables", err_of(k3load.load, m, s2),
      1, true)
  end)

  it("skips objects_to_skip and their children", function()
    local m = wk.Sequential{L.Input{shape = {4, 2}}, L.Dense{3}, L.Bidirectional{L.LSTM{2}}}
    -- an empty store would fail every object with variables; the skipped ones are not even looked up
    local report = k3load.load(m, store.new{}, {objects_to_skip = {m.layers[1], m.layers[2]}})
    assert.same({}, report.matched)
    assert.same({}, report.missing)
    local err = err_of(k3load.load, m, store.new{}, {objects_to_skip = {m.layers[1]}})
    assert.matches("^ValueError: A total of 2 objects could not be loaded", err)
  end)

  it("sends a Keras 2 file named .weights.h5 to the Keras 3 loader, as Keras 3 does", function()
    local m = wk.Sequential{L.Input{shape = {784}}, L.Dense{10}}
    m:save_weights(tmp("legacy.h5"))
    os.rename(tmp("legacy.h5"), tmp("legacy.weights.h5"))
    local warnings, ok, err = errors.capture_warnings(pcall, m.load_weights, m, tmp("legacy.weights.h5"))
    assert.is_false(ok)
    assert.matches("is a keras2%-h5 file, not a Keras 3 one", warnings[1])
    assert.matches("^ValueError: A total of 1 objects could not be loaded", err)
  end)
end)

describe("keras3 save_weights", function()
  before_each(function() wk.backend.clear_session() end)

  it("writes the layout of the real k392 file (groups, name attributes, dtypes) and round-trips", function()
    local m = K.k392()
    m:load_weights(K.real(K392))
    assert.is_true(m:save_weights(tmp("k392.weights.h5")))
    local got = h5dump(tmp("k392.weights.h5"))
    local _, want = K.expected_groups(K392)
    local want_groups = {}
    for _, g in ipairs(want.groups) do
      if not g:match("^optimizer") then want_groups[#want_groups + 1] = g end
    end
    assert.same(want_groups, got.groups)
    assert.same({}, got.root_attrs)
    for g, attrs in pairs(got.group_attrs) do
      assert.equal("vlen-utf8", got.attr_types[g].name, g)
      assert.is_string(attrs.name)
    end
    assert.equal(m.name, got.group_attrs.vars.name)
    for _, v in ipairs(want.variables) do
      if not v.path:match("^optimizer") then
        local d = got.datasets[v.path]
        assert.is_not_nil(d, v.path)
        assert.equal(v.dtype, d.dtype)
        assert.same(v.shape, d.shape)
        assert.equal(v.sha256, d.sha256, v.path)
      end
    end
    wk.backend.clear_session()
    local m2 = K.k392()
    m2:load_weights(tmp("k392.weights.h5"))
    assert_values_match(m2, K392)
  end)

  it("gives image() bytes that are the same HDF5 layout", function()
    local m = K.k3_dense_adam()
    m:load_weights(K.real(K3))
    local bytes = require("weightkit.keras3.save").image(m)
    local f = assert(io.open(tmp("image.weights.h5"), "wb"))
    f:write(bytes)
    f:close()
    local got = h5dump(tmp("image.weights.h5"))
    assert.same({"layers", "layers/dense", "layers/dense/vars", "vars"}, got.groups)
    local groups = K.expected_groups(K3)
    assert.equal(groups["layers/dense"][1].sha256, got.datasets["layers/dense/vars/0"].sha256)
  end)

  it("raises Keras 3's name and build texts", function()
    local m = K.k3_dense_adam()
    assert.equal("ValueError: The filename must end in `.weights.h5`. Received: filepath=" .. tmp("w.keras"),
      err_of(m.save_weights, m, tmp("w.keras")))
    assert.equal("ValueError: The filename must end in `.weights.json` when `max_shard_size` is specified. " ..
      "Received: filepath=" .. tmp("w.h5"), err_of(m.save_weights, m, tmp("w.h5"), {max_shard_size = 1}))
    local u = wk.Sequential{L.Dense{3}}
    assert.equal("ValueError: You are saving a model that has not yet been built. Try building the model " ..
      "first by calling it on some data or by using `build()`.", err_of(u.save_weights, u, tmp("u.weights.h5")))
  end)

  it("keeps an existing file with overwrite = false when nobody can be asked", function()
    local m = K.k3_dense_adam()
    assert.is_true(m:save_weights(tmp("keep.weights.h5")))
    local term = saving.terminal
    saving.terminal = {is_interactive = function() return false end}
    local ok, err = pcall(m.save_weights, m, tmp("keep.weights.h5"), {overwrite = false})
    saving.terminal = term
    assert.is_false(ok)
    assert.matches("^FileExistsError: ", err)
  end)
end)

describe("keras3 sharded .weights.json", function()
  before_each(function() wk.backend.clear_session() end)

  it("splits into several shards, writes the index as Keras does and loads it back", function()
    local m = K.k392()
    m:load_weights(K.real(K392))
    local limit = 100000 / 1024 ^ 3 -- 100 kB: every LSTM kernel (64 kB) forces shard changes
    assert.is_true(m:save_weights(tmp("sh.weights.json"), {max_shard_size = limit}))
    local text, ok = shell.sh(PY .. " -c 'import json,sys; d=json.load(open(sys.argv[1])); " ..
      "print(json.dumps([list(d), d[\"metadata\"][\"total_size\"], d[\"weight_map\"]]))' '" ..
      tmp("sh.weights.json") .. "'")
    assert.is_true(ok)
    local index = json.decode(text)
    assert.same({"metadata", "weight_map"}, {index[1][1], index[1][2]})
    local total = 0
    for _, v in ipairs(m:weights()) do total = total + v:numel() * 4 end
    assert.equal(total, index[2])
    local map = index[3]
    assert.equal("sh_00000.weights.h5", map["/vars"])
    local shards, split = {}, false
    for key, files in pairs(map) do
      if type(files) == "table" then split = true else files = {files} end
      for _, f in ipairs(files) do
        shards[f] = true
        local d = h5dump(tmp(f))
        local g = key:sub(2)
        local found = false
        for _, name in ipairs(d.groups) do if name == g then found = true end end
        assert.is_true(found, key .. " in " .. f)
      end
    end
    local n = 0
    for f in pairs(shards) do
      n = n + 1
      assert.matches("^sh_%d%d%d%d%d%.weights%.h5$", f)
    end
    assert.is_true(n >= 5)
    assert.is_true(split, "an object spanning two shards")
    wk.backend.clear_session()
    local m2 = K.k392()
    local report = m2:load_weights(tmp("sh.weights.json"))
    assert.equal("keras3-sharded", report.format)
    assert_values_match(m2, K392)
  end)

  it("refuses an array bigger than the shard size", function()
    local m = K.k3_dense_adam()
    -- 784 * 10 * 4 bytes = 2.9206275939941406e-05 GB (Python's float repr)
    assert.equal("ValueError: The size of layers/dense/vars/0 is 2.9206275939941406e-05 GB, which exceeds " ..
      "the maximum shard size 1e-05 GB.", err_of(m.save_weights, m, tmp("big.weights.json"),
      {max_shard_size = 1e-5}))
  end)

  it("renames a .weights.h5 name to .weights.json with a warning", function()
    local m = K.k3_dense_adam()
    local warnings = quiet(m.save_weights, m, tmp("ren.weights.h5"), {max_shard_size = 1})
    assert.equal(1, #warnings)
    assert.equal("file", core.path_kind(tmp("ren.weights.json")))
    assert.equal("file", core.path_kind(tmp("ren_00000.weights.h5")))
  end)

  it("names the index and the shard when a shard is missing or lacks a group", function()
    local m = K.k3_dense_adam()
    m:save_weights(tmp("miss.weights.json"), {max_shard_size = 1})
    local f = assert(io.open(tmp("miss.weights.json"), "rb"))
    local text = f:read("a")
    f:close()
    local function write(name, t)
      local g = assert(io.open(tmp(name), "wb"))
      g:write(t)
      g:close()
    end
    write("miss2.weights.json", (text:gsub("miss_00000", "miss_00007")))
    local err = err_of(m.load_weights, m, tmp("miss2.weights.json"))
    assert.matches("lists shard 'miss_00007.weights.h5', which cannot be opened", err, 1, true)
    assert.matches(tmp("miss2.weights.json"), err, 1, true)
    write("miss3.weights.json", (text:gsub('"/layers/dense/vars"', '"/layers/dense_9/vars"')))
    err = err_of(m.load_weights, m, tmp("miss3.weights.json"))
    assert.matches("maps '/layers/dense_9/vars' to miss_00000.weights.h5, but no such group is in that shard",
      err, 1, true)
  end)
end)
end)
