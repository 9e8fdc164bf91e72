-- preprocess_weights_for_loading (keras-formats.md §3.5): every conversion on small hand-made tensors.
-- Expected values are computed here from the Keras facts (index formulas), not by the code under test.
local T = require("weightkit.tensor").api
local F = require "support.loading_fixtures"
local conversions = require "weightkit.loading.conversions"
local conv = require "weightkit.loading.conversions.conv"

local build, check, fake_layer = F.build, F.check, F.fake_layer

local function run(layer, values, keras_version, backend)
  local notes = {}
  local out = conversions.preprocess(layer, values, {
    keras_version = keras_version or "2.15.0", backend = backend,
    note = function(path, kind, reason) notes[#notes + 1] = { path = path, kind = kind, reason = reason } end,
  })
  return out, notes
end

local function kinds(notes)
  local out = {}
  for i, n in ipairs(notes) do out[i] = n.kind end
  return out
end

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return err
end

describe("Keras 1 conversions (file without keras_version)", function()
  -- Fact: Keras 1 LSTM arrays are W, U, b per gate in the order i, c, f, o; Keras 2 concatenates the
  -- gates i, f, c, o along the last axis. Source array (0-based) for new gate slot g and part p:
  local LSTM_SRC_GATE = { [0] = 0, [1] = 2, [2] = 1, [3] = 3 }   -- i, f, c, o <- i(0), f(2), c(1), o(3)
  local input_dim, units = 2, 3

  local function lstm12()
    local values = {}
    for gate = 0, 3 do
      values[#values + 1] = build({input_dim, units}, function(i, j) return 1000 * (3 * gate) + 10 * i + j end)
      values[#values + 1] = build({units, units}, function(i, j) return 1000 * (3 * gate + 1) + 10 * i + j end)
      values[#values + 1] = build({units}, function(j) return 1000 * (3 * gate + 2) + j end)
    end
    return values
  end

  it("LSTM: 12 per-gate arrays -> kernel, recurrent_kernel, bias with gates reordered i, f, c, o", function()
    local layer = fake_layer{class_name = "LSTM", trainable = {{input_dim, 4 * units}, {units, 4 * units}, {4 * units}}}
    local out, notes = run(layer, lstm12(), "1")
    assert.are.equal(3, #out)
    local function src(part, col) return 1000 * (3 * LSTM_SRC_GATE[col // units] + part) end
    check(out[1], {input_dim, 4 * units}, function(i, c) return src(0, c) + 10 * i + c % units end)
    check(out[2], {units, 4 * units}, function(i, c) return src(1, c) + 10 * i + c % units end)
    check(out[3], {4 * units}, function(c) return src(2, c) + c % units end)
    assert.are.same({"keras1_lstm"}, kinds(notes))
  end)

  it("LSTM: nothing happens for a Keras 2 file", function()
    local layer = fake_layer{class_name = "LSTM", trainable = {{input_dim, 4 * units}, {units, 4 * units}, {4 * units}}}
    local out, notes = run(layer, lstm12(), "2.2.4")
    assert.are.equal(12, #out)
    assert.are.same({}, notes)
  end)

  it("GRU: 9 per-gate arrays (z, r, h) -> kernel, recurrent_kernel, bias", function()
    local values = {}
    for gate = 0, 2 do
      values[#values + 1] = build({input_dim, units}, function(i, j) return 1000 * (3 * gate) + 10 * i + j end)
      values[#values + 1] = build({units, units}, function(i, j) return 1000 * (3 * gate + 1) + 10 * i + j end)
      values[#values + 1] = build({units}, function(j) return 1000 * (3 * gate + 2) + j end)
    end
    local layer = fake_layer{class_name = "GRU", reset_after = false,
      trainable = {{input_dim, 3 * units}, {units, 3 * units}, {3 * units}}}
    local out, notes = run(layer, values, "1")
    assert.are.equal(3, #out)
    check(out[1], {input_dim, 3 * units}, function(i, c) return 1000 * (3 * (c // units)) + 10 * i + c % units end)
    check(out[2], {units, 3 * units}, function(i, c) return 1000 * (3 * (c // units) + 1) + 10 * i + c % units end)
    check(out[3], {3 * units}, function(c) return 1000 * (3 * (c // units) + 2) + c % units end)
    assert.are.same({"keras1_gru"}, kinds(notes))
  end)

  it("ConvLSTM2D: 12 arrays merged like LSTM", function()
    local values = {}
    for gate = 0, 3 do
      values[#values + 1] = build({1, 1, 2, 3}, function(_, _, i, j) return 1000 * (3 * gate) + 10 * i + j end)
      values[#values + 1] = build({1, 1, 3, 3}, function(_, _, i, j) return 1000 * (3 * gate + 1) + 10 * i + j end)
      values[#values + 1] = build({3}, function(j) return 1000 * (3 * gate + 2) + j end)
    end
    local layer = fake_layer{class_name = "ConvLSTM2D", data_format = "channels_last",
      trainable = {{1, 1, 2, 12}, {1, 1, 3, 12}, {12}}}
    local out = run(layer, values, "1")
    local function src(part, col) return 1000 * (3 * LSTM_SRC_GATE[col // 3] + part) end
    check(out[1], {1, 1, 2, 12}, function(_, _, i, c) return src(0, c) + 10 * i + c % 3 end)
    check(out[2], {1, 1, 3, 12}, function(_, _, i, c) return src(1, c) + 10 * i + c % 3 end)
    check(out[3], {12}, function(c) return src(2, c) + c % 3 end)
  end)

  it("ConvLSTM2D channels_first: merged kernels are also transposed (2, 3, 1, 0)", function()
    local values = {}
    for gate = 0, 3 do
      values[#values + 1] = build({3, 2, 1, 1}, function(f, i) return 1000 * (3 * gate) + 10 * f + i end)
      values[#values + 1] = build({3, 3, 1, 1}, function(f, i) return 1000 * (3 * gate + 1) + 10 * f + i end)
      values[#values + 1] = build({3}, function(j) return 1000 * (3 * gate + 2) + j end)
    end
    local layer = fake_layer{class_name = "ConvLSTM2D", data_format = "channels_first",
      trainable = {{1, 4, 2, 3}, {1, 4, 3, 3}, {12}}}
    local out = run(layer, values, "1")
    -- concat along the last axis gives (3, 2, 1, 4) with gate slot = last index; then (2, 3, 1, 0).
    check(out[1], {1, 4, 2, 3}, function(_, g, i, f) return 1000 * (3 * LSTM_SRC_GATE[g]) + 10 * f + i end)
    check(out[2], {1, 4, 3, 3}, function(_, g, i, f) return 1000 * (3 * LSTM_SRC_GATE[g] + 1) + 10 * f + i end)
  end)

  local function v(f, c, l) return 100 * f + 10 * c + l end

  it("Conv1D, Keras 1.1 layout (filters, input_dim, filter_length, 1) -> (filter_length, input_dim, filters)", function()
    local layer = fake_layer{class_name = "Conv1D", kernel_size = {4}, filters = 3, trainable = {{4, 2, 3}, {3}}}
    local w = build({3, 2, 4, 1}, function(f, c, l) return v(f, c, l) end)
    local out, notes = run(layer, {w, build({3}, function(f) return f end)}, "1")
    check(out[1], {4, 2, 3}, function(l, c, f) return v(f, c, l) end)
    check(out[2], {3}, function(f) return f end)
    assert.are.same({"keras1_conv1d_layout", "keras1_conv1d"}, kinds(notes))
  end)

  it("Conv1D, Keras 1.2 layout (filter_length, 1, input_dim, filters): axis 1 dropped", function()
    local layer = fake_layer{class_name = "Conv1D", kernel_size = {4}, filters = 3, trainable = {{4, 2, 3}, {3}}}
    local w = build({4, 1, 2, 3}, function(l, _, c, f) return v(f, c, l) end)
    local out, notes = run(layer, {w, build({3}, function(f) return f end)}, "1")
    check(out[1], {4, 2, 3}, function(l, c, f) return v(f, c, l) end)
    assert.are.same({"keras1_conv1d"}, kinds(notes))
  end)

  it("Conv1D: a kernel in neither Keras 1 layout fails Keras's assertion", function()
    local layer = fake_layer{class_name = "Conv1D", kernel_size = {4}, filters = 3, trainable = {{4, 2, 3}, {3}}}
    local err = err_of(run, layer, {T.zeros({5, 2, 4, 2}), T.zeros({3})}, "1")
    assert.matches("^AssertionError: ", err)
  end)

  it("Conv2D channels_first: (filters, in, rows, cols) -> (rows, cols, in, filters)", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_first", trainable = {{2, 3, 4, 5}, {5}}}
    local w = build({5, 4, 2, 3}, function(f, i, r, c) return 1000 * f + 100 * i + 10 * r + c end)
    local out, notes = run(layer, {w, T.zeros({5})}, "1")
    check(out[1], {2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    assert.are.same({"keras1_conv2d_channels_first"}, kinds(notes))
  end)

  it("Conv2D channels_last: no Keras 1 change", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{2, 3, 4, 5}, {5}}}
    local w = build({2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    local out, notes = run(layer, {w, T.zeros({5})}, "1")
    check(out[1], {2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    assert.are.same({}, notes)
  end)

  it("Conv2DTranspose channels_last: (rows, cols, in, filters) -> (rows, cols, filters, in)", function()
    local layer = fake_layer{class_name = "Conv2DTranspose", data_format = "channels_last", trainable = {{2, 3, 5, 4}, {5}}}
    local w = build({2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    local out = run(layer, {w, T.zeros({5})}, "1")
    check(out[1], {2, 3, 5, 4}, function(r, c, f, i) return 1000 * f + 100 * i + 10 * r + c end)
  end)

  it("Conv2DTranspose channels_first: (filters, in, rows, cols) -> (rows, cols, filters, in)", function()
    local layer = fake_layer{class_name = "Conv2DTranspose", data_format = "channels_first", trainable = {{2, 3, 5, 4}, {5}}}
    local w = build({5, 4, 2, 3}, function(f, i, r, c) return 1000 * f + 100 * i + 10 * r + c end)
    local out = run(layer, {w, T.zeros({5})}, "1")
    check(out[1], {2, 3, 5, 4}, function(r, c, f, i) return 1000 * f + 100 * i + 10 * r + c end)
  end)

  it("Conv3D channels_first: (filters, in, d, r, c) -> (d, r, c, in, filters)", function()
    local layer = fake_layer{class_name = "Conv3D", data_format = "channels_first", trainable = {{2, 3, 4, 3, 2}, {2}}}
    local w = build({2, 3, 2, 3, 4}, function(f, i, d, r, c) return 10000 * f + 1000 * i + 100 * d + 10 * r + c end)
    local out = run(layer, {w, T.zeros({2})}, "1")
    check(out[1], {2, 3, 4, 3, 2}, function(d, r, c, i, f) return 10000 * f + 1000 * i + 100 * d + 10 * r + c end)
  end)

  it("TimeDistributed: the inner layer is converted once", function()
    local inner = fake_layer{class_name = "Conv2D", name = "conv2d", data_format = "channels_first",
      trainable = {{2, 3, 4, 5}, {5}}}
    local td = fake_layer{class_name = "TimeDistributed", name = "time_distributed", layer = inner,
      trainable = {{2, 3, 4, 5}, {5}}}
    local w = build({5, 4, 2, 3}, function(f, i, r, c) return 1000 * f + 100 * i + 10 * r + c end)
    local out, notes = run(td, {w, T.zeros({5})}, "1")
    check(out[1], {2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    assert.are.equal(1, #notes)
    assert.are.equal("time_distributed/conv2d", notes[1].path)
  end)
end)

describe("conv kernel fix-ups", function()
  it("Theano file: spatial axes reversed (convert_kernel), as Keras 2.0.9 - 2.3.1 did", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{3, 2, 1, 2}, {2}}}
    local w = build({3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    local out, notes = run(layer, {w, T.zeros({2})}, "2.1.6", "theano")
    check(out[1], {3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * (2 - r) + (1 - c) end)
    assert.are.same({"theano_kernel_flip"}, kinds(notes))
  end)

  it("Theano Conv1D: only the length axis is reversed", function()
    local layer = fake_layer{class_name = "Conv1D", kernel_size = {3}, filters = 2, trainable = {{3, 2, 2}, {2}}}
    local w = build({3, 2, 2}, function(l, c, f) return 100 * l + 10 * c + f end)
    local out = run(layer, {w, T.zeros({2})}, "2.2.4", "theano")
    check(out[1], {3, 2, 2}, function(l, c, f) return 100 * (2 - l) + 10 * c + f end)
  end)

  it("Theano ConvLSTM2D: kernel and recurrent kernel flipped", function()
    local layer = fake_layer{class_name = "ConvLSTM2D", data_format = "channels_last",
      trainable = {{2, 2, 1, 4}, {2, 2, 1, 4}, {4}}}
    local k = build({2, 2, 1, 4}, function(r, c, _, g) return 100 * r + 10 * c + g end)
    local rk = build({2, 2, 1, 4}, function(r, c, _, g) return 5000 + 100 * r + 10 * c + g end)
    local out = run(layer, {k, rk, T.zeros({4})}, "2.2.4", "theano")
    check(out[1], {2, 2, 1, 4}, function(r, c, _, g) return 100 * (1 - r) + 10 * (1 - c) + g end)
    check(out[2], {2, 2, 1, 4}, function(r, c, _, g) return 5000 + 100 * (1 - r) + 10 * (1 - c) + g end)
  end)

  it("no flip for tensorflow, cntk, unknown or absent backends", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{3, 2, 1, 2}, {2}}}
    local w = build({3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    for _, b in ipairs({"tensorflow", "cntk", "mxnet", false}) do
      local out, notes = run(layer, {w, T.zeros({2})}, "2.2.4", b or nil)
      check(out[1], {3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
      assert.are.same({}, notes)
    end
  end)

  it("convert_kernel rejects kernels that are not 3-D to 5-D with Keras's text", function()
    assert.are.equal("ValueError: ('Invalid kernel shape:', (3, 3))", err_of(conv.convert_kernel, T.zeros({3, 3})))
  end)

  it("kernel of another layout: transposed (3, 2, 0, 1)", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{2, 3, 4, 5}, {5}}}
    -- numpy.transpose(w, (3, 2, 0, 1)): out[a, b, c, d] = w[c, d, b, a], so a (in, filters, cols, rows)
    -- array becomes (rows, cols, in, filters).
    local w = build({4, 5, 3, 2}, function(i, f, c, r) return 1000 * f + 100 * i + 10 * r + c end)
    local out, notes = run(layer, {w, T.zeros({5})}, "2.2.4")
    check(out[1], {2, 3, 4, 5}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    assert.are.same({"conv_kernel_transpose"}, kinds(notes))
  end)

  it("an honest shape mismatch is left for the shape check", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{2, 3, 4, 5}, {5}}}
    local out, notes = run(layer, {T.zeros({3, 3, 4, 5}), T.zeros({5})}, "2.2.4")
    assert.are.same({3, 3, 4, 5}, out[1]:shape())
    local out3 = run(fake_layer{class_name = "Conv1D", kernel_size = {3}, filters = 2, trainable = {{3, 2, 2}, {2}}},
      {T.zeros({5, 2, 2}), T.zeros({2})}, "2.2.4")
    assert.are.same({5, 2, 2}, out3[1]:shape())
    assert.are.same({}, notes)
  end)
end)

describe("cuDNN <-> native RNN weights", function()
  local in_dim, units = 3, 2
  local function K(i, c) return 100 * i + c end
  local function R(i, c) return 1000 + 100 * i + c end
  local function B(j) return 5000 + j end

  -- Facts: per gate block k of shape (in, units), from cuDNN: k.T.reshape((in, units), order="F"), i.e.
  -- out[a, b] = flat[a + b*in] with flat = k in C order; to cuDNN: k.T.reshape((in, units)) in C order,
  -- i.e. out[a, b] = flatT[a*units + b] with flatT[p] = k[p % in, p // in]. Recurrent blocks: transpose.
  local function from_cudnn_kernel(src)
    return function(a, c)
      local g, b = c // units, c % units
      local p = a + b * in_dim
      return src(p // units, g * units + p % units)
    end
  end
  local function to_cudnn_kernel(src)
    return function(a, c)
      local g, b = c // units, c % units
      local p = a * units + b
      return src(p % in_dim, g * units + p // in_dim)
    end
  end
  local function rec_t(src) return function(a, c) local g, b = c // units, c % units; return src(b, g * units + a) end end

  local function lstm_layer(cls)
    return fake_layer{class_name = cls, trainable = {{in_dim, 4 * units}, {units, 4 * units}, {4 * units}}}
  end

  it("CuDNNLSTM -> LSTM: kernels re-laid per gate, the two bias halves summed", function()
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({8 * units}, B) }
    local out, notes = run(lstm_layer("LSTM"), values)
    check(out[1], {in_dim, 4 * units}, from_cudnn_kernel(K))
    check(out[2], {units, 4 * units}, rec_t(R))
    check(out[3], {4 * units}, function(j) return B(j) + B(j + 4 * units) end)
    assert.are.same({"cudnn_lstm"}, kinds(notes))
  end)

  it("LSTM -> CuDNNLSTM: C-order re-layout, bias tiled as halves", function()
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({4 * units}, B) }
    local out = run(lstm_layer("CuDNNLSTM"), values)
    check(out[1], {in_dim, 4 * units}, to_cudnn_kernel(K))
    check(out[2], {units, 4 * units}, rec_t(R))
    check(out[3], {8 * units}, function(j) return 0.5 * B(j % (4 * units)) end)
  end)

  it("LSTM -> CuDNNLSTM -> LSTM gives the values back", function()
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({4 * units}, B) }
    local back = run(lstm_layer("LSTM"), (run(lstm_layer("CuDNNLSTM"), values)))
    check(back[1], {in_dim, 4 * units}, K)
    check(back[2], {units, 4 * units}, R)
    check(back[3], {4 * units}, B)
  end)

  it("same source and target: unchanged; no bias: unchanged", function()
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({4 * units}, B) }
    local out, notes = run(lstm_layer("LSTM"), values)
    assert.are.equal(values[1], out[1])
    assert.are.same({}, notes)
    local out2, notes2 = run(lstm_layer("LSTM"), { values[1], values[2] })
    assert.are.equal(2, #out2)
    assert.are.same({}, notes2)
  end)

  it("Invalid bias shape", function()
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), T.zeros({5}) }
    assert.are.equal("ValueError: Invalid bias shape: (5,)", err_of(run, lstm_layer("LSTM"), values))
    local g = { build({in_dim, 3 * units}, K), build({units, 3 * units}, R), T.zeros({2, 5}) }
    assert.are.equal("ValueError: Invalid bias shape: (2, 5)",
      err_of(run, fake_layer{class_name = "GRU", reset_after = true}, g))
  end)

  local function gru_values(bias_shape)
    local b = #bias_shape == 1 and build(bias_shape, B) or build(bias_shape, function(r, c) return B(6 * r + c) end)
    return { build({in_dim, 3 * units}, K), build({units, 3 * units}, R), b }
  end

  it("CuDNNGRU -> GRU(reset_after=True): kernels re-laid, bias reshaped to (2, 3*units)", function()
    local out, notes = run(fake_layer{class_name = "GRU", reset_after = true}, gru_values({6 * units}))
    check(out[1], {in_dim, 3 * units}, from_cudnn_kernel(K))
    check(out[2], {units, 3 * units}, rec_t(R))
    check(out[3], {2, 3 * units}, function(r, c) return B(3 * units * r + c) end)
    assert.are.same({"cudnn_gru"}, kinds(notes))
  end)

  it("GRU(reset_after=True) -> CuDNNGRU: bias flattened", function()
    local out = run(fake_layer{class_name = "CuDNNGRU"}, gru_values({2, 3 * units}))
    check(out[1], {in_dim, 3 * units}, to_cudnn_kernel(K))
    check(out[2], {units, 3 * units}, rec_t(R))
    check(out[3], {6 * units}, B)
  end)

  it("GRU(reset_after=False) is compatible with nothing else", function()
    assert.are.equal("ValueError: CuDNNGRU is not compatible with GRU(reset_after=False)",
      err_of(run, fake_layer{class_name = "GRU", reset_after = false}, gru_values({6 * units})))
    assert.are.equal("ValueError: GRU(reset_after=False) is not compatible with CuDNNGRU",
      err_of(run, fake_layer{class_name = "CuDNNGRU"}, gru_values({3 * units})))
    assert.are.equal("ValueError: GRU(reset_after=False) is not compatible with GRU(reset_after=True)",
      err_of(run, fake_layer{class_name = "GRU", reset_after = true}, gru_values({3 * units})))
    assert.are.equal("ValueError: GRU(reset_after=True) is not compatible with GRU(reset_after=False)",
      err_of(run, fake_layer{class_name = "GRU", reset_after = false}, gru_values({2, 3 * units})))
  end)

  it("Bidirectional: each half converted for its own layer", function()
    local fwd = lstm_layer("LSTM"); fwd.name = "forward_lstm"
    local bwd = lstm_layer("LSTM"); bwd.name = "backward_lstm"
    local bi = fake_layer{class_name = "Bidirectional", name = "bidirectional", forward_layer = fwd, backward_layer = bwd}
    local function B2(j) return 7000 + j end
    local values = { build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({8 * units}, B),
      build({in_dim, 4 * units}, K), build({units, 4 * units}, R), build({8 * units}, B2) }
    local out, notes = run(bi, values)
    assert.are.equal(6, #out)
    check(out[3], {4 * units}, function(j) return B(j) + B(j + 4 * units) end)
    check(out[4], {in_dim, 4 * units}, from_cudnn_kernel(K))
    check(out[6], {4 * units}, function(j) return B2(j) + B2(j + 4 * units) end)
    assert.are.equal("bidirectional/forward_lstm", notes[1].path)
    assert.are.equal("bidirectional/backward_lstm", notes[2].path)
  end)
end)

describe("nested models", function()
  it("trainable and non-trainable parts are handed to each sublayer and put back in place", function()
    -- Group order (tf-keras): all trainable weights of the nested model, then all non-trainable ones.
    local bn = fake_layer{class_name = "BatchNormalization", name = "bn", trainable = {{2}, {2}},
      non_trainable = {{2}, {2}}}
    local cv = fake_layer{class_name = "Conv2D", name = "conv", data_format = "channels_last",
      trainable = {{3, 1, 1, 2}, {2}}}
    local inner = fake_layer{class_name = "Sequential", name = "inner", layers = {bn, cv}}
    local vals = {
      build({2}, function(j) return 10 + j end),                              -- bn gamma
      build({2}, function(j) return 20 + j end),                              -- bn beta
      build({3, 1, 1, 2}, function(r, _, _, f) return 100 * r + f end),       -- conv kernel
      build({2}, function(j) return 30 + j end),                              -- conv bias
      build({2}, function(j) return 40 + j end),                              -- bn moving mean
      build({2}, function(j) return 50 + j end),                              -- bn moving variance
    }
    local out, notes = run(inner, vals, "2.2.4", "theano")
    assert.are.equal(6, #out)
    for _, i in ipairs({1, 2, 4, 5, 6}) do assert.are.equal(vals[i], out[i]) end
    check(out[3], {3, 1, 1, 2}, function(r, _, _, f) return 100 * (2 - r) + f end)
    assert.are.same({"theano_kernel_flip"}, kinds(notes))
    assert.are.equal("inner/conv", notes[1].path)
  end)

  it("never modifies the caller's list or tensors", function()
    local layer = fake_layer{class_name = "Conv2D", data_format = "channels_last", trainable = {{3, 2, 1, 2}, {2}}}
    local w = build({3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
    local b = T.zeros({2})
    local values = {w, b}
    local out = run(layer, values, "2.2.4", "theano")
    assert.are_not.equal(values, out)
    assert.are.equal(w, values[1])
    check(w, {3, 2, 1, 2}, function(r, c, i, f) return 1000 * f + 100 * i + 10 * r + c end)
  end)
end)
