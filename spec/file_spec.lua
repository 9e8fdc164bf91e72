-- wk.open / wk.load_file and the file object (lua/weightkit/file.lua over src/lwk_file.c): io-style
-- failures, close / <close> / closed errors, lazy tensors, zero-copy reads, get(), the groups beside
-- layer_names, and Model:load_weights through wk.open. Real files are read in place from
-- ../shared/fixtures/real; a small synthetic file (chunked + gzip, big-endian) is written by h5py.
local wk = require "weightkit"
local core = require "weightkit.core"
local decode = require "support.json_decode"

local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local K280 = REAL .. "/k280_lstm3_genre_weights.h5"
local K120 = REAL .. "/k120_behavioral_cloning_conv_full.h5"
local K206 = REAL .. "/k206_fml_jettagger_conv2d_bn_weights.h5"
local K3 = REAL .. "/k3_dense_adam.weights.h5"
local PYTHON = "/usr/bin/python3"

local function facts(path)
  local name = path:match("[^/]+$")
  local f = assert(io.open(REAL .. "/expected/" .. name .. ".json"))
  local text = f:read("a")
  f:close()
  return decode(text)
end

local function close_to(a, b) return math.abs(a - b) <= 1e-5 * math.max(1, math.abs(b)) end

describe("wk.open", function()
  it("opens a Keras 2 weights file: metadata as fields, tostring, close", function()
    local file = assert(wk.open(K280))
    assert.are.equal(K280, file.name)
    assert.are.equal("keras2-h5", file.format)
    assert.are.equal("2.8.0", file.keras_version)
    assert.are.equal("tensorflow", file.backend)
    assert.is_nil(file.warning)
    assert.are.equal("weightkit.File (" .. K280 .. ")", tostring(file))
    assert.is_false(file:is_closed())
    file:close()
    assert.is_true(file:is_closed())
    assert.are.equal("weightkit.File (closed)", tostring(file))
    file:close() -- idempotent
  end)

  it("opens lazily by default: layer names first, each layer resolved once; lazy = false agrees", function()
    local file <close> = assert(wk.open(K280))
    local eager <close> = assert(wk.open(K280, {lazy = false}))
    local names = file:layer_names()
    assert.are.same({ "lstm", "lstm_1", "lstm_2", "dense" }, names)
    local layers, want = file:layers(), eager:layers()
    assert.are.equal(#want, #layers)
    for i, l in ipairs(layers) do
      assert.are.equal(names[i], l.name)
      assert.are.equal(#want[i].weights, #l.weights)
      for j, w in ipairs(l.weights) do
        local e = want[i].weights[j]
        assert.are.same({ e.name, e.path, e.dtype, e.shape, e.layout }, { w.name, w.path, w.dtype, w.shape, w.layout })
      end
    end
    assert.is_nil(file.warning)
    assert.is_nil(file.warning) -- cached, still nil
    assert.are.equal(eager:get("dense", "dense/bias:0"):max_abs_diff(file:get("dense", "dense/bias:0")), 0)
  end)

  it("returns nil, message, code for a missing file and a non-HDF5 file; a Keras 3 file opens", function()
    local f, msg, code = wk.open("/nonexistent/dir/w.h5")
    assert.is_nil(f)
    assert.truthy(msg:find("/nonexistent/dir/w.h5", 1, true), msg)
    assert.are.equal("EIO", code)

    f, msg, code = wk.open("Makefile")
    assert.is_nil(f)
    assert.truthy(msg:find("Makefile", 1, true), msg)
    assert.are.equal("EFORMAT", code)

    f = assert(wk.open(K3))
    assert.are.equal("keras3-weights-h5", f.format)
    f:close()
  end)

  it("has a raising twin, wk.load_file, with the same message", function()
    local _, msg = wk.open("Makefile")
    local ok, err = pcall(wk.load_file, "Makefile")
    assert.is_false(ok)
    assert.are.equal(msg, err:gsub("^[^:]*:%d+: ", ""))
    local file = wk.load_file(K280)
    assert.are.equal("keras2-h5", file.format)
    file:close()
  end)

  it("rejects unknown options and bad option values", function()
    assert.has_error(function() wk.open(K280, {no_map = true}) end, "weightkit.open: unknown option 'no_map'")
    assert.has_error(function() wk.open(K280, {max_tensors = -1}) end,
      "weightkit.open: option 'max_tensors' must be a non-negative integer")
  end)

  it("enforces max_tensors from the options", function()
    local f, msg, code = wk.open(K280, {max_tensors = 2})
    assert.is_nil(f)
    assert.are.equal("ELIMIT", code, msg)
  end)

  it("closes at the end of a <close> scope; a closed file raises on use", function()
    local escaped
    do
      local file <close> = assert(wk.open(K280))
      escaped = file
      assert.are.equal(4, #file:layers())
    end
    assert.is_true(escaped:is_closed())
    assert.has_error(function() escaped:layers() end, "attempt to use a closed file")
    assert.has_error(function() escaped:tensors() end, "attempt to use a closed file")
    assert.has_error(function() escaped:get("dense", "dense/bias:0") end, "attempt to use a closed file")
  end)

  it("raw handles (weightkit.core.open) follow the same lifetime rules", function()
    local h = assert(core.open(K280))
    assert.are.equal(4, h:layer_count())
    assert.are.equal("dense", h:layer(4).name)
    assert.is_nil(h:layer(5))
    assert.has_error(function() h:read_weight(5, 1) end, "weightkit: layer index 5 out of range (1..4)")
    assert.has_error(function() h:read_weight(4, 3) end, "weightkit: weight index 3 out of range (1..2)")
    h:close()
    h:close()
    assert.has_error(function() h:name() end, "attempt to use a closed file")
  end)
end)

describe("file:layers()", function()
  it("lists layers and weights in file order with metadata, reading no tensor", function()
    local expected = facts(K280).weights.layers
    local file <close> = assert(wk.open(K280))
    local layers = file:layers()
    assert.are.equal(#expected, #layers)
    for i, el in ipairs(expected) do
      assert.are.equal(el.name, layers[i].name)
      assert.are.equal(#el.weights, #layers[i].weights)
      for j, ew in ipairs(el.weights) do
        local w = layers[i].weights[j]
        assert.are.equal(ew.name, w.name)
        assert.are.equal(ew.path, w.path)
        assert.are.same(ew.shape, w.shape)
        assert.are.equal(ew.dtype, w.dtype)
        assert.are.equal(ew.nbytes, w.nbytes)
        assert.are.equal("contiguous", w.layout)
        assert.is_nil(rawget(w, "tensor")) -- nothing read yet
      end
    end
  end)

  it("reads a tensor on first access, zero-copy for a contiguous dataset, then keeps it", function()
    local expected = facts(K280).weights.layers
    local file <close> = assert(wk.open(K280))
    local w = file:layers()[1].weights[1]
    assert.is_nil(rawget(w, "tensor"))
    local t = w.tensor
    assert.is_true(wk.is_tensor(t))
    assert.are.equal(t, rawget(w, "tensor"))
    assert.are.equal(t, w.tensor)
    assert.are.same({33, 512}, t:shape())
    assert.are.equal("float32", t:dtype())
    assert.are.equal("external", t:storage())
    assert.is_true(t:is_readonly())
    assert.is_true(close_to(t:sum(), expected[1].weights[1].sum), tostring(t:sum()))
    assert.are.equal(expected[1].weights[1].sha256, core.tensor_sha256(t))
  end)

  it("reads nothing before access: entries taken before close fail only when read after it", function()
    local file = assert(wk.open(K280))
    local layers = file:layers()
    local early = layers[4].weights[2].tensor
    file:close()
    assert.has_error(function() return layers[1].weights[1].tensor end, "attempt to use a closed file")
    -- a tensor already read outlives the file (it keeps the mapping alive)
    local expected = facts(K280).weights.layers[4].weights[2]
    assert.is_true(close_to(early:sum(), expected.sum))
    assert.are.same({5}, early:shape())
  end)

  it("gives a zero-copy tensor a private copy on write; the file's bytes are unchanged", function()
    local file <close> = assert(wk.open(K280))
    local t = file:get("dense", "dense/bias:0")
    local before = t:get(1)
    t[1] = 1234.5
    assert.are.equal(1234.5, t:get(1))
    assert.are.equal("owned", t:storage())
    assert.are.equal(before, file:get("dense", "dense/bias:0"):get(1))
  end)

  it("drops a released tensor's pages without touching another tensor on the same bytes", function()
    -- the recurrent kernel (128 x 512 float32) spans whole pages, which its release madvises away
    local expected = facts(K280).weights.layers[1].weights[2]
    local file <close> = assert(wk.open(K280))
    local first = file:get("lstm", "lstm/lstm_cell/recurrent_kernel:0")
    local second = file:get("lstm", "lstm/lstm_cell/recurrent_kernel:0")
    assert.are.equal("external", second:storage())
    assert.are.equal(expected.sha256, core.tensor_sha256(first))
    first:close()
    collectgarbage()
    assert.are.equal(expected.sha256, core.tensor_sha256(second))
    assert.is_true(close_to(second:sum(), expected.sum))
    local third = file:get("lstm", "lstm/lstm_cell/recurrent_kernel:0")
    assert.are.equal(expected.sha256, core.tensor_sha256(third))
  end)

  it("reads owned copies with no_mmap", function()
    local file <close> = assert(wk.open(K280, {no_mmap = true}))
    local t = file:layers()[1].weights[1].tensor
    assert.are.equal("owned", t:storage())
    assert.are.equal(facts(K280).weights.layers[1].weights[1].sha256, core.tensor_sha256(t))
  end)
end)

describe("file:get()", function()
  it("returns one tensor by names or 1-based positions, nil when absent", function()
    local file <close> = assert(wk.open(K280))
    local sha = facts(K280).weights.layers[2].weights[3].sha256
    local by_names = file:get("lstm_1", "lstm_1/lstm_cell_1/bias:0")
    assert.are.equal(sha, core.tensor_sha256(by_names))
    assert.are.equal(sha, core.tensor_sha256(file:get(2, 3)))
    assert.are.equal(sha, core.tensor_sha256(file:get("lstm_1", 3)))
    assert.are.equal(sha, core.tensor_sha256(file:get(2, "lstm_1/lstm_cell_1/bias:0")))
    assert.is_nil(file:get("nope", "x"))
    assert.is_nil(file:get("lstm_1", "nope"))
    assert.is_nil(file:get(9, 1))
    assert.is_nil(file:get(2, 4))
    assert.is_nil(file:get("nope", 1))
  end)
end)

describe("file:tensors() and the groups beside layer_names", function()
  it("lists every dataset of a full-model file, optimizer weights included, lazily", function()
    local f = facts(K120)
    local file <close> = assert(wk.open(K120))
    assert.are.equal("keras2-h5-model", file.format)
    assert.is_nil(file.keras_version) -- Keras 1.2 wrote it on the root only
    assert.are.equal("1.2.0", file:attribute("/", "keras_version"))
    assert.truthy(file:attribute("", "model_config"):find('"class_name": "Sequential"', 1, true))
    assert.is_nil(file:attribute("/", "no_such_attribute"))

    local want = {}
    for _, l in ipairs(f.model_weights.layers) do
      for _, w in ipairs(l.weights) do want[w.path] = w end
    end
    for _, w in ipairs(f.optimizer_weights.weights) do want["optimizer_weights/" .. w.name] = w end
    local list = file:tensors()
    local n = 0
    for _ in pairs(want) do n = n + 1 end
    assert.are.equal(n, #list)
    for _, d in ipairs(list) do
      local e = assert(want[d.path], d.path)
      assert.are.same(e.shape, d.shape)
      assert.is_nil(rawget(d, "tensor"))
    end
    local d = list[#list]
    assert.are.equal(want[d.path].sha256, core.tensor_sha256(d.tensor))

    local opt = file.optimizer_weights
    assert.are.equal(#f.optimizer_weights.weights, #opt)
    assert.are.equal("Variable:0", opt[1].name)
    assert.is_nil(rawget(opt[1], "tensor"))
    assert.are.equal(f.optimizer_weights.weights[1].sum, opt[1].tensor:item())
    assert.is_nil(file.top_level_weights)
  end)

  it("exposes top_level_model_weights (empty here) and no optimizer group", function()
    local file <close> = assert(wk.open(K280))
    assert.are.same({}, file.top_level_weights)
    assert.is_nil(file.optimizer_weights)
    local other <close> = assert(wk.open(K206))
    assert.is_nil(other.top_level_weights)
  end)
end)

describe("converted reads", function()
  local path
  setup(function()
    path = os.tmpname() .. ".h5"
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["layer_names"] = np.array([b"dense"], dtype="S5")
    f.attrs["keras_version"] = b"2.4.0"
    f.attrs["backend"] = b"tensorflow"
    g = f.create_group("dense")
    g.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"], dtype="S14")
    k = np.arange(12, dtype="<f4").reshape(3, 4) / 4
    g.create_dataset("dense/kernel:0", data=k, chunks=(1, 4), compression="gzip")
    g.create_dataset("dense/bias:0", data=np.array([1.5, -2, 3, 0.25], dtype=">f4"))
]])
    f:close()
    local ok = os.execute(PYTHON .. " " .. script .. " " .. path)
    os.remove(script)
    assert(ok, "h5py could not write the synthetic file")
  end)
  teardown(function() if path then os.remove(path) end end)

  it("converts chunked+gzip and big-endian datasets into owned tensors", function()
    local file <close> = assert(wk.open(path))
    local w = file:layers()[1].weights
    assert.are.equal("chunked", w[1].layout)
    assert.is_true(w[1].filtered)
    assert.is_true(w[2].big_endian)
    local k, b = w[1].tensor, w[2].tensor
    assert.are.equal("owned", k:storage())
    assert.are.equal("owned", b:storage())
    assert.are.same({{0, 0.25, 0.5, 0.75}, {1, 1.25, 1.5, 1.75}, {2, 2.25, 2.5, 2.75}}, k:totable())
    assert.are.same({1.5, -2, 3, 0.25}, b:totable())
  end)
end)

describe("Model:load_weights", function()
  it("loads a real file through wk.open and returns the report", function()
    local L = wk.layers
    wk.backend.clear_session()
    local m = wk.Sequential{
      L.Input{shape = {wk.None, 33}},
      L.LSTM{units = 128, return_sequences = true},
      L.LSTM{units = 128, return_sequences = true},
      L.LSTM{units = 32},
      L.Dense{units = 5},
    }
    local report = m:load_weights(K280)
    assert.are.equal(4, #report.matched)
    local file <close> = assert(wk.open(K280))
    local kernel = file:get("dense", "dense/kernel:0")
    assert.are.equal(0, m.layers[#m.layers]:get_weights()[1]:max_abs_diff(kernel))
    local ok, err = pcall(m.load_weights, m, "/nonexistent/w.h5")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("/nonexistent/w.h5", 1, true))
  end)
end)
