--[[
wk.load_model / model:save (weightkit.models) on the real fixtures.

  * every full-model HDF5 fixture: load_model rebuilds the model from model_config and loads it; every
    weight equals the file's tensor byte for byte (none of these files needs a conversion: see
    spec/fixtures_load_spec.lua's QUIRKS) and the report lists no opaque layer;
  * every `.keras` fixture: config.json -> model -> Keras 3 load; every weight equals the file's `vars`
    dataset at its walk path; k315's subclassed root model is opaque and gets every variable of the file;
  * every fixture, loaded, saves (to its own kind: full-model .h5 or .keras) and reloads bit-exactly;
  * save -> load_model round trips of a model built in Lua, bit-exact: `.h5` and `.keras`;
  * a Lua model with the k392 hybrid architecture saved as `.keras` has, for Python's zipfile and h5py,
    the real archive's member order and storage and its inner file's groups, datasets and dtypes.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local json = require "weightkit.json"
local models = require "weightkit.models"
local errors = require "weightkit.errors"

local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

local function quiet(fn, ...)
  local res = table.pack(errors.capture_warnings(fn, ...))
  return table.unpack(res, 2, res.n)
end

local function expected(name)
  local f = assert(io.open(REAL .. "/expected/" .. name .. ".json", "rb"))
  local text = f:read("a")
  f:close()
  return json.decode(text, name)
end

-- The model's weights in HDF5 order (per layer with weights: trainable then non-trainable).
local function h5_weights(model)
  local out = {}
  for _, l in ipairs(model.layers) do
    for _, v in ipairs(l:trainable_weights()) do out[#out + 1] = v end
    for _, v in ipairs(l:non_trainable_weights()) do out[#out + 1] = v end
  end
  return out
end

local function tmpname(suffix)
  local n = os.tmpname()
  os.remove(n)
  return n .. suffix
end

describe("wk.load_model on full-model HDF5 files", function()
  for _, name in ipairs{"k120_behavioral_cloning_conv_full.h5", "k213_theano_pollution_lstm_full.h5",
                        "k224_keras2c_functional_lstm_full.h5", "k260_simplernn_full.h5",
                        "k392_legacy_bidirectional_lstm_full.h5"} do
    it(name .. ": every weight is the file's tensor, bit for bit", function()
      local model, report = quiet(models.load_model, REAL .. "/" .. name)
      assert.are.same({}, report.opaque)
      -- the file's tensors, checked against expected/*.json's sha256 first
      local want = {}
      for _, l in ipairs(expected(name).model_weights.layers) do
        for _, w in ipairs(l.weights) do want[#want + 1] = w end
      end
      local got = h5_weights(model)
      assert.are.equal(#want, #got)
      for i, v in ipairs(got) do
        assert.are.same(want[i].shape, v:shape())
        assert.are.equal(want[i].sha256, core.tensor_sha256(v.value), v.name)
      end
    end)
  end

  it("a weights-only file has no model: ValueError (tf.keras text)", function()
    assert.has_error(function() models.load_model(REAL .. "/k206_fml_jettagger_conv2d_bn_weights.h5") end,
      "ValueError: No model found in config file.")
  end)

  it("a missing file raises OSError", function()
    local ok, err = pcall(models.load_model, "/nonexistent/x.h5")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("^OSError: "))
  end)
end)

describe("wk.load_model on .keras archives", function()
  local function walk_values(model)
    local out = {}
    for _, o in ipairs(require("weightkit.keras3.paths").objects(model)) do
      for i, v in ipairs(o.variables) do
        out[(o.path == "" and "" or o.path .. "/") .. "vars/" .. (i - 1)] = v
      end
    end
    return out
  end

  for _, name in ipairs{"k392_hybrid_conv1d_bilstm_bn.keras", "k2150_windows_backslash_dense.keras",
                        "k315_nested_container.keras"} do
    it(name .. ": every weight is the archive's vars dataset at its walk path", function()
      local model, report = quiet(models.load_model, REAL .. "/" .. name)
      local values = walk_values(model)
      local n = 0
      for _, w in ipairs(expected(name).weights_h5.weights.variables) do
        local p = w.path:gsub("\\", "/")
        if not p:match("^optimizer/") and not p:match("^metrics/") then
          local v = values[p]
          assert.is_not_nil(v, p)
          assert.are.equal(w.sha256, core.tensor_sha256(v.value), p)
          n = n + 1
        end
      end
      local total = 0
      for _ in pairs(values) do total = total + 1 end
      assert.are.equal(n, total)
      if name == "k315_nested_container.keras" then
        assert.are.same({"nested_dense_model"}, report.opaque)
        assert.are.equal("NestedDenseModel", model.class_name)
      else
        assert.are.same({}, report.opaque)
      end
    end)
  end
end)

describe("model:save then wk.load_model", function()
  local function model()
    local L = wk.layers
    local x = L.Input{shape = {4, 3}, name = "x"}
    local h = L.LSTM{5, return_sequences = true, name = "lstm"}(x)
    h = L.BatchNormalization{name = "bn"}(h)
    h = L.Bidirectional{L.GRU{2}, name = "bi"}(h)
    local m = wk.Model{inputs = x, outputs = L.Dense{2, name = "out"}(h), name = "saved"}
    -- distinctive values
    for i, v in ipairs(m:weights()) do
      v:assign(wk.full(v:shape(), i * 0.25 + 0.125, v:dtype()))
    end
    return m
  end

  local function same_weights(a, b)
    local wa, wb = a:weights(), b:weights()
    assert.are.equal(#wa, #wb)
    for i = 1, #wa do
      assert.are.same(wa[i]:shape(), wb[i]:shape())
      assert.are.equal(core.tensor_sha256(wa[i].value), core.tensor_sha256(wb[i].value))
    end
  end

  it(".h5: a Keras 2 full-model file", function()
    local m = model()
    local path = tmpname(".h5")
    m:save(path)
    local m2 = quiet(models.load_model, path)
    os.remove(path)
    same_weights(m, m2)
    assert.are.equal(m:to_json(), m2:to_json())
  end)

  it(".keras: metadata.json, config.json, model.weights.h5", function()
    local m = model()
    local path = tmpname(".keras")
    m:save(path)
    local file = assert(wk.open(path))
    local meta = json.decode(file:member("metadata.json"))
    file:close()
    assert.are.same({"keras_version", "date_saved"}, json.keys(meta))
    assert.truthy(meta.date_saved:match("^%d%d%d%d%-%d%d%-%d%d@%d%d:%d%d:%d%d$"))
    local m2 = quiet(models.load_model, path)
    os.remove(path)
    same_weights(m, m2)
  end)

  it("an unbuilt model cannot be saved", function()
    local s = wk.Sequential{wk.layers.Dense{2}}
    assert.has_error(function() s:save(tmpname(".keras")) end, "ValueError: You are saving a model that " ..
      "has not yet been built. Try building the model first by calling it on some data or by using `build()`.")
  end)
end)

describe("every real model file: load_model, save, load_model again", function()
  local function same_weights(a, b, what)
    local wa, wb = a:weights(), b:weights()
    assert.are.equal(#wa, #wb, what)
    for i = 1, #wa do
      assert.are.same(wa[i]:shape(), wb[i]:shape(), what)
      assert.are.equal(core.tensor_sha256(wa[i].value), core.tensor_sha256(wb[i].value), what .. " " .. wa[i].name)
    end
  end

  for _, name in ipairs{"k120_behavioral_cloning_conv_full.h5", "k213_theano_pollution_lstm_full.h5",
                        "k224_keras2c_functional_lstm_full.h5", "k260_simplernn_full.h5",
                        "k392_legacy_bidirectional_lstm_full.h5", "k392_hybrid_conv1d_bilstm_bn.keras",
                        "k2150_windows_backslash_dense.keras", "k315_nested_container.keras"} do
    it(name .. " saves and reloads bit-exactly", function()
      local model = quiet(models.load_model, REAL .. "/" .. name)
      local path = tmpname(name:match("%.keras$") and ".keras" or ".h5")
      -- k315's root is an opaque layer (a user's subclassed model), not a wk.Model: it saves too
      local ok, err = pcall(model.save, model, path)
      if not ok then os.remove(path) error(err, 0) end
      local again = quiet(models.load_model, path)
      os.remove(path)
      same_weights(model, again, name)
      assert.are.equal(model.class_name, again.class_name)
    end)
  end
end)

describe("a Lua model saved as .keras, seen by Python's zipfile and h5py", function()
  local K392 = "k392_hybrid_conv1d_bilstm_bn.keras"

  it("has the real k392 archive's member order and storage, and its inner file's layout", function()
    local L = wk.layers
    wk.backend.clear_session()
    local m = wk.Sequential{ L.Input{shape = {3, 2}}, L.Conv1D{64, 2, activation = "relu"},
      L.Bidirectional{L.LSTM{64, return_sequences = true}}, L.Dropout{0.3}, L.BatchNormalization{},
      L.LSTM{32}, L.Dense{64, activation = "relu"}, L.Dense{3} }
    local path = tmpname(".keras")
    m:save(path)
    local script = tmpname(".py")
    local f = assert(io.open(script, "w"))
    f:write([==[
import io, json, sys, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
out = {"members": [[i.filename, i.compress_type, i.flag_bits] for i in z.infolist()]}
h = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
groups, datasets = [], {}
def visit(name, obj):
    if isinstance(obj, h5py.Group):
        groups.append(name)
    else:
        datasets[name] = {"shape": list(obj.shape), "dtype": str(obj.dtype)}
h.visititems(visit)
out["groups"] = sorted(groups)
out["datasets"] = datasets
out["root_attrs"] = sorted(h.attrs.keys())
out["config_class"] = json.loads(z.read("config.json"))["class_name"]
print(json.dumps(out))
]==])
    f:close()
    local pipe = assert(io.popen("/usr/bin/python3 " .. script .. " " .. path .. " 2>&1"))
    local text = pipe:read("a")
    pipe:close()
    os.remove(script)
    os.remove(path)
    local ok, got = pcall(json.decode, text)
    assert(ok, text)

    local want = expected(K392)
    local members = {}
    for i, mem in ipairs(want.members) do members[i] = { mem.name, mem.compress_type, 0 } end
    assert.are.same(members, got.members)
    assert.are.equal(want.config.class_name, got.config_class)
    assert.are.same({}, got.root_attrs)
    local groups = {}
    for _, g in ipairs(want.weights_h5.weights.groups) do
      if not g:match("^optimizer") then groups[#groups + 1] = g end
    end
    assert.are.same(groups, got.groups)
    local n = 0
    for _, v in ipairs(want.weights_h5.weights.variables) do
      if not v.path:match("^optimizer") then
        local d = got.datasets[v.path]
        assert(d, "missing dataset " .. v.path)
        assert.are.same(v.shape, d.shape, v.path)
        assert.are.equal(v.dtype, d.dtype, v.path)
        n = n + 1
      end
    end
    local total = 0
    for _ in pairs(got.datasets) do total = total + 1 end
    assert.are.equal(n, total)
  end)
end)
