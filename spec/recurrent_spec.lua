--[[
Specs for lua/weightkit/layers/recurrent.lua: SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, their cells, RNN.

Every expectation below is a tf.keras 2.x fact (TF 2.4 - 2.15), stated as data. Sources:
  - real files (read with h5py, /work/shared/fixtures/real/expected/*.json):
      k280 (tf.keras 2.8.0): Sequential LSTM(128, seq) -> LSTM(128, seq) -> LSTM(32) -> Dense(5) on 33
        features: lstm/lstm_cell/{kernel (33, 512), recurrent_kernel (128, 512), bias (512,)},
        lstm_1/lstm_cell_1/{(128, 512), (128, 512), (512,)}, lstm_2/lstm_cell_2/{(128, 128), (32, 128),
        (128,)}, dense/{kernel (32, 5), bias (5,)}.
      k260 (tf.keras 2.6.0): SimpleRNN(4) on 7 features: simple_rnn/simple_rnn_cell/{kernel (7, 4),
        recurrent_kernel (4, 4), bias (4,)}.
  - tf.keras sources (facts only): RNN.build builds the cell inside name_scope(cell.name); LSTM/GRU/
    SimpleRNN create their cell without a name (auto-named from the global counters: lstm_cell,
    lstm_cell_1, ...) and pass trainable= to it; ConvRNN.build builds the cell WITHOUT a name scope
    (weights conv_lst_m2d/kernel:0); to_snake_case("ConvLSTM2D") == "conv_lst_m2d"; LSTMCell gate order
    i, f, c, o with unit_forget_bias putting ones in the f slice; GRU(reset_after=True) bias (2, 3u).
  - Shapes: RNN.compute_output_shape: (batch, units) or (batch, time, units) with return_sequences;
    return_state appends one (batch, units) per state (LSTM 2, GRU/SimpleRNN 1).
]]
local backend = require "weightkit.backend"
local R = require "weightkit.layers.recurrent"

local N = false -- Keras None

local layer_facts = require "support.layer_facts"
local build, facts = layer_facts.build, layer_facts.facts

local function names(layer)
  local out = {}
  for i, v in ipairs(layer:weights()) do out[i] = v.name end
  return out
end

--[[ {=====================================================================
  Weight facts per configuration (each case runs after clear_session)
===================================================================== ]]

local CASES = {
  { "SimpleRNN(4) on 7 features (k260, tf.keras 2.6.0)",
    function() return R.SimpleRNN{units = 4} end, {N, 10, 7},
    name = "simple_rnn", cell = "simple_rnn_cell", output = {N, 4},
    weights = {
      {"simple_rnn/simple_rnn_cell/kernel:0", {7, 4}, true},
      {"simple_rnn/simple_rnn_cell/recurrent_kernel:0", {4, 4}, true},
      {"simple_rnn/simple_rnn_cell/bias:0", {4}, true},
    } },
  { "LSTM(128, return_sequences) on 33 features (k280, tf.keras 2.8.0)",
    function() return R.LSTM{units = 128, return_sequences = true} end, {N, 20, 33},
    name = "lstm", cell = "lstm_cell", output = {N, 20, 128},
    weights = {
      {"lstm/lstm_cell/kernel:0", {33, 512}, true},
      {"lstm/lstm_cell/recurrent_kernel:0", {128, 512}, true},
      {"lstm/lstm_cell/bias:0", {512}, true},
    } },
  { "LSTM(4, use_bias=False)",
    function() return R.LSTM{units = 4, use_bias = false} end, {N, 5, 3},
    name = "lstm", cell = "lstm_cell", output = {N, 4},
    weights = {
      {"lstm/lstm_cell/kernel:0", {3, 16}, true},
      {"lstm/lstm_cell/recurrent_kernel:0", {4, 16}, true},
    } },
  { "LSTM(4, trainable=False): same weights, none trainable",
    function() return R.LSTM{units = 4, trainable = false} end, {N, 5, 3},
    name = "lstm", cell = "lstm_cell", output = {N, 4},
    weights = {
      {"lstm/lstm_cell/kernel:0", {3, 16}, false},
      {"lstm/lstm_cell/recurrent_kernel:0", {4, 16}, false},
      {"lstm/lstm_cell/bias:0", {16}, false},
    } },
  { "LSTM(4, name='encoder'): explicit layer name, cell still auto-named",
    function() return R.LSTM{units = 4, name = "encoder"} end, {N, 5, 3},
    name = "encoder", cell = "lstm_cell", output = {N, 4},
    weights = {
      {"encoder/lstm_cell/kernel:0", {3, 16}, true},
      {"encoder/lstm_cell/recurrent_kernel:0", {4, 16}, true},
      {"encoder/lstm_cell/bias:0", {16}, true},
    } },
  { "GRU(4) (reset_after=True default): bias (2, 3*units)",
    function() return R.GRU{units = 4} end, {N, 5, 3},
    name = "gru", cell = "gru_cell", output = {N, 4},
    weights = {
      {"gru/gru_cell/kernel:0", {3, 12}, true},
      {"gru/gru_cell/recurrent_kernel:0", {4, 12}, true},
      {"gru/gru_cell/bias:0", {2, 12}, true},
    } },
  { "GRU(4, reset_after=False): bias (3*units,)",
    function() return R.GRU{units = 4, reset_after = false} end, {N, 5, 3},
    name = "gru", cell = "gru_cell", output = {N, 4},
    weights = {
      {"gru/gru_cell/kernel:0", {3, 12}, true},
      {"gru/gru_cell/recurrent_kernel:0", {4, 12}, true},
      {"gru/gru_cell/bias:0", {12}, true},
    } },
  { "GRU(4, use_bias=False)",
    function() return R.GRU{units = 4, use_bias = false} end, {N, 5, 3},
    name = "gru", cell = "gru_cell", output = {N, 4},
    weights = {
      {"gru/gru_cell/kernel:0", {3, 12}, true},
      {"gru/gru_cell/recurrent_kernel:0", {4, 12}, true},
    } },
  { "GRU(4, trainable=False)",
    function() return R.GRU{units = 4, trainable = false} end, {N, 5, 3},
    name = "gru", cell = "gru_cell", output = {N, 4},
    weights = {
      {"gru/gru_cell/kernel:0", {3, 12}, false},
      {"gru/gru_cell/recurrent_kernel:0", {4, 12}, false},
      {"gru/gru_cell/bias:0", {2, 12}, false},
    } },
  { "SimpleRNN(3, use_bias=False)",
    function() return R.SimpleRNN{units = 3, use_bias = false} end, {N, N, 2},
    name = "simple_rnn", cell = "simple_rnn_cell", output = {N, 3},
    weights = {
      {"simple_rnn/simple_rnn_cell/kernel:0", {2, 3}, true},
      {"simple_rnn/simple_rnn_cell/recurrent_kernel:0", {3, 3}, true},
    } },
  { "ConvLSTM2D(6, 3) on (None, 4, 10, 10, 2): cell built without a name scope",
    function() return R.ConvLSTM2D{filters = 6, kernel_size = 3} end, {N, 4, 10, 10, 2},
    name = "conv_lst_m2d", cell = "conv_lstm_cell", output = {N, 8, 8, 6},
    weights = {
      {"conv_lst_m2d/kernel:0", {3, 3, 2, 24}, true},
      {"conv_lst_m2d/recurrent_kernel:0", {3, 3, 6, 24}, true},
      {"conv_lst_m2d/bias:0", {24}, true},
    } },
  { "ConvLSTM2D(4, (3, 2), padding='same', return_sequences, use_bias=False)",
    function()
      return R.ConvLSTM2D{filters = 4, kernel_size = {3, 2}, padding = "same", return_sequences = true,
        use_bias = false}
    end, {N, N, 7, 5, 3},
    name = "conv_lst_m2d", cell = "conv_lstm_cell", output = {N, N, 7, 5, 4},
    weights = {
      {"conv_lst_m2d/kernel:0", {3, 2, 3, 16}, true},
      {"conv_lst_m2d/recurrent_kernel:0", {3, 2, 4, 16}, true},
    } },
  { "ConvLSTM1D(2, 3, strides=2) on (None, 4, 11, 5)",
    function() return R.ConvLSTM1D{filters = 2, kernel_size = 3, strides = 2} end, {N, 4, 11, 5},
    name = "conv_lst_m1d", cell = "conv_lstm_cell", output = {N, 5, 2},
    weights = {
      {"conv_lst_m1d/kernel:0", {3, 5, 8}, true},
      {"conv_lst_m1d/recurrent_kernel:0", {3, 2, 8}, true},
      {"conv_lst_m1d/bias:0", {8}, true},
    } },
  { "ConvLSTM3D(2, 2) on (None, 3, 4, 4, 4, 1)",
    function() return R.ConvLSTM3D{filters = 2, kernel_size = 2} end, {N, 3, 4, 4, 4, 1},
    name = "conv_lst_m3d", cell = "conv_lstm_cell", output = {N, 3, 3, 3, 2},
    weights = {
      {"conv_lst_m3d/kernel:0", {2, 2, 2, 1, 8}, true},
      {"conv_lst_m3d/recurrent_kernel:0", {2, 2, 2, 2, 8}, true},
      {"conv_lst_m3d/bias:0", {8}, true},
    } },
  { "ConvLSTM2D channels_first on (None, 4, 2, 10, 8)",
    function() return R.ConvLSTM2D{filters = 6, kernel_size = 3, data_format = "channels_first"} end,
    {N, 4, 2, 10, 8},
    name = "conv_lst_m2d", cell = "conv_lstm_cell", output = {N, 6, 8, 6},
    weights = {
      {"conv_lst_m2d/kernel:0", {3, 3, 2, 24}, true},
      {"conv_lst_m2d/recurrent_kernel:0", {3, 3, 6, 24}, true},
      {"conv_lst_m2d/bias:0", {24}, true},
    } },
  { "RNN(LSTMCell(4)): the generic RNN scopes the cell the same way",
    function() return R.RNN{cell = R.LSTMCell{units = 4}} end, {N, 5, 3},
    name = "rnn", cell = "lstm_cell", output = {N, 4},
    weights = {
      {"rnn/lstm_cell/kernel:0", {3, 16}, true},
      {"rnn/lstm_cell/recurrent_kernel:0", {4, 16}, true},
      {"rnn/lstm_cell/bias:0", {16}, true},
    } },
}

describe("recurrent layers: tf.keras 2.x weight names, shapes, order, trainable flags", function()
  before_each(function() backend.clear_session() end)

  for _, c in ipairs(CASES) do
    it(c[1], function()
      local layer = c[2]()
      assert.are.equal(c.name, layer.name)
      assert.are.equal(c.cell, layer.cell.name)
      layer_facts.assert_built_weights(layer, c[3], c.weights)
      local n_trainable = 0
      for _, w in ipairs(c.weights) do if w[3] then n_trainable = n_trainable + 1 end end
      assert.are.equal(n_trainable, #layer:trainable_weights())
      assert.are.equal(#c.weights - n_trainable, #layer:non_trainable_weights())
      assert.are.same(c.output, layer:compute_output_shape(c[3]))
    end)
  end
end)

--[[ {=====================================================================
  Counters and name scopes across layers
===================================================================== ]]

describe("recurrent layers: cell counters", function()
  before_each(function() backend.clear_session() end)

  it("three LSTMs in one session give lstm_cell, lstm_cell_1, lstm_cell_2 (k280, tf.keras 2.8.0)", function()
    local a = build(R.LSTM{units = 128, return_sequences = true}, {N, 20, 33})
    local b = build(R.LSTM{units = 128, return_sequences = true}, {N, 20, 128})
    local c = build(R.LSTM{units = 32}, {N, 20, 128})
    local expected = {
      {"lstm/lstm_cell/kernel:0", {33, 512}, true},
      {"lstm/lstm_cell/recurrent_kernel:0", {128, 512}, true},
      {"lstm/lstm_cell/bias:0", {512}, true},
      {"lstm_1/lstm_cell_1/kernel:0", {128, 512}, true},
      {"lstm_1/lstm_cell_1/recurrent_kernel:0", {128, 512}, true},
      {"lstm_1/lstm_cell_1/bias:0", {512}, true},
      {"lstm_2/lstm_cell_2/kernel:0", {128, 128}, true},
      {"lstm_2/lstm_cell_2/recurrent_kernel:0", {32, 128}, true},
      {"lstm_2/lstm_cell_2/bias:0", {128}, true},
    }
    local got = {}
    for _, l in ipairs{a, b, c} do
      for _, f in ipairs(facts(l)) do got[#got + 1] = f end
    end
    assert.are.same(expected, got)
  end)

  it("an explicitly named LSTM still takes a cell number", function()
    local a = build(R.LSTM{units = 2, name = "enc"}, {N, 3, 1})
    local b = build(R.LSTM{units = 2}, {N, 3, 1})
    assert.are.same({"enc/lstm_cell/kernel:0", "enc/lstm_cell/recurrent_kernel:0", "enc/lstm_cell/bias:0"},
      names(a))
    assert.are.same({"lstm/lstm_cell_1/kernel:0", "lstm/lstm_cell_1/recurrent_kernel:0",
      "lstm/lstm_cell_1/bias:0"}, names(b))
  end)

  it("each cell class has its own counter", function()
    local a = R.LSTM{units = 2}
    local b = R.GRU{units = 2}
    local c = R.SimpleRNN{units = 2}
    local d = R.GRU{units = 2}
    assert.are.same({"lstm", "gru", "simple_rnn", "gru_1"}, {a.name, b.name, c.name, d.name})
    assert.are.same({"lstm_cell", "gru_cell", "simple_rnn_cell", "gru_cell_1"},
      {a.cell.name, b.cell.name, c.cell.name, d.cell.name})
  end)

  it("the cell is created (and numbered) when the layer is constructed, not when it is built", function()
    local a = R.LSTM{units = 2}
    local b = R.LSTM{units = 2}
    build(b, {N, 3, 1})
    build(a, {N, 3, 1})
    assert.are.equal("lstm/lstm_cell/kernel:0", a:weights()[1].name)
    assert.are.equal("lstm_1/lstm_cell_1/kernel:0", b:weights()[1].name)
  end)

  it("clear_session resets the layer and cell counters", function()
    R.LSTM{units = 2}
    R.LSTM{units = 2}
    backend.clear_session()
    local l = build(R.LSTM{units = 2}, {N, 3, 1})
    assert.are.equal("lstm", l.name)
    assert.are.equal("lstm/lstm_cell/kernel:0", l:weights()[1].name)
  end)

  it("a standalone cell built in its own scope names its weights <cell>/kernel:0", function()
    local cell = R.GRUCell{units = 3}
    build(cell, {N, 2})
    assert.are.same({
      {"gru_cell/kernel:0", {2, 9}, true},
      {"gru_cell/recurrent_kernel:0", {3, 9}, true},
      {"gru_cell/bias:0", {2, 9}, true},
    }, facts(cell))
  end)

  it("ConvLSTM2D numbers its cells from the conv_lstm_cell counter", function()
    local a = R.ConvLSTM2D{filters = 2, kernel_size = 1}
    local b = R.ConvLSTM2D{filters = 2, kernel_size = 1}
    assert.are.same({"conv_lst_m2d", "conv_lst_m2d_1"}, {a.name, b.name})
    assert.are.same({"conv_lstm_cell", "conv_lstm_cell_1"}, {a.cell.name, b.cell.name})
    build(b, {N, 2, 3, 3, 1})
    assert.are.equal("conv_lst_m2d_1/kernel:0", b:weights()[1].name)
  end)
end)

--[[ {=====================================================================
  Output shapes (None-aware)
===================================================================== ]]

local SHAPES = {
  -- {description, constructor config, layer class, input shape, expected output shape(s)}
  {"LSTM last output", "LSTM", {units = 4}, {N, 5, 3}, {N, 4}},
  {"LSTM sequences", "LSTM", {units = 4, return_sequences = true}, {N, 5, 3}, {N, 5, 4}},
  {"LSTM unknown time", "LSTM", {units = 4, return_sequences = true}, {N, N, 3}, {N, N, 4}},
  {"LSTM known batch", "LSTM", {units = 4}, {8, 5, 3}, {8, 4}},
  {"LSTM return_state: output, h, c", "LSTM", {units = 4, return_state = true}, {N, 5, 3},
    {{N, 4}, {N, 4}, {N, 4}}},
  {"LSTM sequences + state", "LSTM", {units = 4, return_sequences = true, return_state = true}, {2, 5, 3},
    {{2, 5, 4}, {2, 4}, {2, 4}}},
  {"GRU return_state: output, h", "GRU", {units = 6, return_state = true}, {N, 5, 3}, {{N, 6}, {N, 6}}},
  {"SimpleRNN return_state", "SimpleRNN", {units = 2, return_state = true, return_sequences = true},
    {N, 7, 3}, {{N, 7, 2}, {N, 2}}},
  {"LSTM time_major", "LSTM", {units = 4, time_major = true, return_sequences = true}, {5, N, 3}, {5, N, 4}},
  {"ConvLSTM2D return_state", "ConvLSTM2D", {filters = 3, kernel_size = 3, return_state = true},
    {N, 4, 9, N, 2}, {{N, 7, N, 3}, {N, 7, N, 3}, {N, 7, N, 3}}},
  {"ConvLSTM2D strides 2 valid", "ConvLSTM2D", {filters = 3, kernel_size = 3, strides = 2},
    {N, 4, 9, 8, 2}, {N, 4, 3, 3}},
  {"ConvLSTM2D dilation 2", "ConvLSTM2D", {filters = 3, kernel_size = 3, dilation_rate = 2,
    return_sequences = true}, {N, 4, 9, 8, 2}, {N, 4, 5, 4, 3}},
}

describe("recurrent layers: compute_output_shape", function()
  before_each(function() backend.clear_session() end)
  for _, s in ipairs(SHAPES) do
    it(s[1], function()
      local layer = R[s[2]](s[3])
      assert.are.same(s[5], layer:compute_output_shape(s[4]))
      -- the same before and after building
      build(layer, s[4])
      assert.are.same(s[5], layer:compute_output_shape(s[4]))
    end)
  end

  it("a list of shapes (inputs + initial states) uses the first", function()
    local layer = R.GRU{units = 6}
    assert.are.same({N, 6}, layer:compute_output_shape({{N, 5, 3}, {N, 6}}))
  end)
end)

--[[ {=====================================================================
  Initial values
===================================================================== ]]

describe("recurrent layers: initial values", function()
  before_each(function() backend.clear_session() end)

  local function values(v) return v.value:totable() end

  it("LSTM unit_forget_bias=True: bias is zeros(u), ones(u), zeros(2u) (gates i, f, c, o)", function()
    local l = build(R.LSTM{units = 3}, {N, 2, 2})
    assert.are.same({0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}, values(l.cell.bias))
  end)

  it("LSTM unit_forget_bias=False: bias is all bias_initializer (zeros)", function()
    local l = build(R.LSTM{units = 2, unit_forget_bias = false}, {N, 2, 2})
    assert.are.same({0, 0, 0, 0, 0, 0, 0, 0}, values(l.cell.bias))
  end)

  it("LSTM unit_forget_bias with bias_initializer='ones' keeps ones everywhere", function()
    local l = build(R.LSTM{units = 2, bias_initializer = "ones"}, {N, 2, 2})
    assert.are.same({1, 1, 1, 1, 1, 1, 1, 1}, values(l.cell.bias))
  end)

  it("ConvLSTM2D unit_forget_bias: ones in the second quarter", function()
    local l = build(R.ConvLSTM2D{filters = 2, kernel_size = 1}, {N, 2, 3, 3, 1})
    assert.are.same({0, 0, 1, 1, 0, 0, 0, 0}, values(l.cell.bias))
  end)

  it("GRU bias starts at zeros in both rows", function()
    local l = build(R.GRU{units = 2}, {N, 2, 2})
    assert.are.same({{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}}, values(l.cell.bias))
  end)

  it("kernel is glorot_uniform: within sqrt(6 / (fan_in + fan_out)), not constant", function()
    local l = build(R.LSTM{units = 4}, {N, 5, 3})
    local k = l.cell.kernel.value
    local limit = math.sqrt(6 / (3 + 16))
    assert.is_true(k:max() <= limit and k:min() >= -limit)
    assert.is_true(k:max() - k:min() > limit / 2)
  end)

  it("recurrent_kernel is orthogonal: (units, 4*units) has orthonormal rows", function()
    local l = build(R.LSTM{units = 4}, {N, 5, 3})
    local r = l.cell.recurrent_kernel.value
    local wk = require("weightkit.tensor").api
    local eye = {}
    for i = 1, 4 do
      eye[i] = {}
      for j = 1, 4 do eye[i][j] = (i == j) and 1 or 0 end
    end
    local prod = wk.matmul(r, r:transpose())
    assert.is_true(prod:allclose(wk.tensor(eye), 1e-4, 1e-5))
  end)

  it("SimpleRNN recurrent_kernel (units, units) is orthogonal", function()
    local l = build(R.SimpleRNN{units = 5}, {N, 5, 3})
    local r = l.cell.recurrent_kernel.value
    local wk = require("weightkit.tensor").api
    local prod = wk.matmul(r:transpose(), r)
    local eye = {}
    for i = 1, 5 do
      eye[i] = {}
      for j = 1, 5 do eye[i][j] = (i == j) and 1 or 0 end
    end
    assert.is_true(prod:allclose(wk.tensor(eye), 1e-4, 1e-5))
  end)
end)

--[[ {=====================================================================
  Attributes, config, errors
===================================================================== ]]

describe("recurrent layers: attributes and config", function()
  before_each(function() backend.clear_session() end)

  it("exposes units and the cell's settings", function()
    local l = R.LSTM{units = 7, use_bias = false}
    assert.are.equal(7, l.units)
    assert.are.equal(7, l.cell.units)
    assert.is_false(l.use_bias)
    assert.are.equal("LSTM", l.class_name)
    assert.are.equal("LSTMCell", l.cell.class_name)
  end)

  it("get_config has the tf.keras 2.x keys and defaults (LSTM)", function()
    local cfg = R.LSTM{units = 5, return_sequences = true}:get_config()
    assert.are.equal("lstm", cfg.name)
    assert.are.equal(5, cfg.units)
    assert.is_true(cfg.return_sequences)
    assert.is_false(cfg.return_state)
    assert.is_false(cfg.go_backwards)
    assert.is_false(cfg.stateful)
    assert.is_false(cfg.unroll)
    assert.is_false(cfg.time_major)
    assert.is_true(cfg.use_bias)
    assert.is_true(cfg.unit_forget_bias)
    assert.are.equal("tanh", cfg.activation)
    assert.are.equal("sigmoid", cfg.recurrent_activation)
    assert.are.equal(2, cfg.implementation)
    assert.are.equal(0, cfg.dropout)
    assert.are.equal(0, cfg.recurrent_dropout)
    assert.is_nil(cfg.cell)
  end)

  it("get_config (GRU) carries reset_after, (ConvLSTM2D) normalized tuples", function()
    assert.is_true(R.GRU{units = 2}:get_config().reset_after)
    assert.is_false(R.GRU{units = 2, reset_after = false}:get_config().reset_after)
    local c = R.ConvLSTM2D{filters = 3, kernel_size = 3}:get_config()
    assert.are.same({3, 3}, c.kernel_size)
    assert.are.same({1, 1}, c.strides)
    assert.are.same({1, 1}, c.dilation_rate)
    assert.are.equal("valid", c.padding)
    assert.are.equal("channels_last", c.data_format)
    assert.are.equal("hard_sigmoid", c.recurrent_activation)
    assert.are.equal(3, c.filters)
  end)

  it("a layer rebuilt from its config has the same weight shapes", function()
    local a = build(R.GRU{units = 3, reset_after = false, name = "g"}, {N, 4, 2})
    backend.clear_session()
    local b = build(R.GRU:from_config(a:get_config()), {N, 4, 2})
    assert.are.same(facts(a), facts(b))
  end)

  it("set_weights round-trips through get_weights", function()
    local a = build(R.LSTM{units = 2}, {N, 3, 2})
    local b = build(R.LSTM{units = 2}, {N, 3, 2})
    b:set_weights(a:get_weights())
    for i, t in ipairs(b:get_weights()) do
      assert.is_true(t:allclose(a:get_weights()[i]))
    end
  end)

  it("ConvLSTM2D needs the channel dimension", function()
    local l = R.ConvLSTM2D{filters = 2, kernel_size = 1}
    local ok, err = pcall(build, l, {N, 2, 3, 3, N})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: "))
  end)

  it("LSTM needs the feature dimension", function()
    local ok, err = pcall(build, R.LSTM{units = 2}, {N, 2, N})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: "))
  end)
end)

--[[ {=====================================================================
  Through the public API (Input / Sequential / functional calls push the layer scope)
===================================================================== ]]

describe("recurrent layers: public API", function()
  before_each(function() backend.clear_session() end)

  -- k280 (tf.keras 2.8.0 save_weights): the weight names and shapes of the whole model, in file order.
  local K280 = {
    {"lstm/lstm_cell/kernel:0", {33, 512}},
    {"lstm/lstm_cell/recurrent_kernel:0", {128, 512}},
    {"lstm/lstm_cell/bias:0", {512}},
    {"lstm_1/lstm_cell_1/kernel:0", {128, 512}},
    {"lstm_1/lstm_cell_1/recurrent_kernel:0", {128, 512}},
    {"lstm_1/lstm_cell_1/bias:0", {512}},
    {"lstm_2/lstm_cell_2/kernel:0", {128, 128}},
    {"lstm_2/lstm_cell_2/recurrent_kernel:0", {32, 128}},
    {"lstm_2/lstm_cell_2/bias:0", {128}},
    {"dense/kernel:0", {32, 5}},
    {"dense/bias:0", {5}},
  }

  local function k280_model()
    local wk = require "weightkit"
    local L = wk.layers
    return wk.Sequential{
      L.Input{shape = {20, 33}},
      L.LSTM{units = 128, return_sequences = true},
      L.LSTM{units = 128, return_sequences = true},
      L.LSTM{units = 32},
      L.Dense{units = 5, activation = "softmax"},
    }
  end

  it("Sequential of three LSTMs and a Dense has the k280 names and shapes", function()
    local m = k280_model()
    local got = {}
    for i, v in ipairs(m:weights()) do got[i] = {v.name, v:shape()} end
    assert.are.same(K280, got)
  end)

  it("the K280 table agrees with the real file's facts", function()
    local dir = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
    local f = assert(io.open(dir .. "/expected/k280_lstm3_genre_weights.h5.json"))
    local facts_json = require("weightkit.json").decode(f:read("a"))
    f:close()
    local got = {}
    for _, layer in ipairs(facts_json.weights.layers) do
      for _, w in ipairs(layer.weights) do
        local shape = {}
        for i, d in ipairs(w.shape) do shape[i] = math.tointeger(d) end
        got[#got + 1] = {w.name, shape}
      end
    end
    assert.are.same(K280, got)
  end)

  it("functional: Input -> SimpleRNN(4) names the cell weights as k260 (tf.keras 2.6.0)", function()
    local wk = require "weightkit"
    local x = wk.layers.Input{shape = {1, 7}}
    local rnn = wk.layers.SimpleRNN{units = 4}
    local y = rnn(x)
    assert.are.same({N, 4}, y:shape())
    assert.are.same({"simple_rnn/simple_rnn_cell/kernel:0", "simple_rnn/simple_rnn_cell/recurrent_kernel:0",
      "simple_rnn/simple_rnn_cell/bias:0"}, names(rnn))
  end)
end)

describe("recurrent layers: construction forms and input checks", function()
  before_each(function() backend.clear_session() end)

  it("positional forms: LSTM(4), RNN(cell), from_config(get_config())", function()
    assert.are.equal(4, R.LSTM(4).units)
    local r = R.RNN(R.GRUCell(3))
    assert.are.equal("gru_cell", r.cell.name)
    local c = R.LSTM:from_config(R.LSTM{units = 3, implementation = 1}:get_config())
    assert.are.equal(1, c.implementation)
    assert.are.equal(1, c:get_config().implementation)
  end)

  it("implementation: 2 by default, 1 when recurrent_dropout is used", function()
    assert.are.equal(2, R.LSTM{units = 2}:get_config().implementation)
    assert.are.equal(1, R.GRU{units = 2, recurrent_dropout = 0.1}:get_config().implementation)
  end)

  it("LSTM on a rank-2 input: the InputSpec(ndim=3) error", function()
    local ok, err = pcall(build, R.LSTM{units = 2}, {N, 5})
    assert.is_false(ok)
    assert.are.equal('ValueError: Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, ' ..
      "found ndim=2. Full shape received: (None, 5)", err)
  end)

  it("a stateful RNN needs its batch size", function()
    local ok, err = pcall(build, R.GRU{units = 2, stateful = true}, {N, 5, 3})
    assert.is_false(ok)
    assert.truthy(err:match("^ValueError: If a RNN is stateful, it needs to know its batch size"))
    local l = build(R.GRU{units = 2, stateful = true}, {4, 5, 3})
    assert.are.equal(3, #l:weights())
  end)

  it("the layer's dtype goes to the cell and its weights", function()
    local l = build(R.LSTM{units = 2, dtype = "float64"}, {N, 3, 2})
    assert.are.equal("float64", l.cell.dtype)
    assert.are.equal("float64", l:weights()[1]:dtype())
  end)
end)
