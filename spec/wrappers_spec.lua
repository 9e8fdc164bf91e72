--[[
Specs for lua/weightkit/layers/wrappers.lua: TimeDistributed and Bidirectional.

Every expectation is a tf.keras 2.x fact (TF 2.4 - 2.15), stated as data. Sources (facts only):
  - TimeDistributed.build calls layer.build(child_input_shape) with NO name scope of its own, so the
    inner layer's weights sit directly under the wrapper's scope: time_distributed/kernel:0.
    Output shape: (batch, time) + inner output shape[1:].
  - Bidirectional.__init__ recreates the forward layer from layer.get_config() (forward first), then
    the backward one (go_backwards flipped), renames them "forward_" .. name / "backward_" .. name; the
    recreated LSTM/GRU construct new cells, which take the next numbers of the global cell counter
    (the wrapped layer already took lstm_cell). Bidirectional.build builds each inside
    name_scope(forward_layer.name) / name_scope(backward_layer.name). Weights: forward then backward.
    merge_mode concat doubles the last dim, sum/mul/ave keep it, None returns [out, out];
    return_state appends forward states then backward states.
  - The k392 file (written by Keras 3.9.2, not tf.keras) lists forward then backward the same way:
    .../bidirectional/forward_lstm/lstm_cell/{kernel (1, 256), recurrent_kernel (64, 256), bias (256,)},
    then backward_lstm; Keras 3 names every cell "lstm_cell", tf.keras 2.x numbers them.
]]
local backend = require "weightkit.backend"
local W = require "weightkit.layers.wrappers"
local R = require "weightkit.layers.recurrent"

local N = false -- Keras None

-- Dense and Conv2D come from the layer catalog (another module); looked up lazily.
local function catalog()
  return require "weightkit.layers"
end

local layer_facts = require "support.layer_facts"
local build, facts = layer_facts.build, layer_facts.facts

local function lstm_weights(prefix, input_dim, units, trainable)
  if trainable == nil then trainable = true end
  return {
    {prefix .. "/kernel:0", {input_dim, 4 * units}, trainable},
    {prefix .. "/recurrent_kernel:0", {units, 4 * units}, trainable},
    {prefix .. "/bias:0", {4 * units}, trainable},
  }
end

local function concat(...)
  local out = {}
  for _, list in ipairs{...} do
    for _, x in ipairs(list) do out[#out + 1] = x end
  end
  return out
end

--[[ {=====================================================================
  TimeDistributed
===================================================================== ]]

describe("TimeDistributed", function()
  before_each(function() backend.clear_session() end)

  it("TimeDistributed(Dense(8)) on (None, 10, 16): weights under the wrapper scope", function()
    local inner = catalog().Dense{units = 8}
    local td = W.TimeDistributed{layer = inner}
    assert.are.equal("dense", inner.name)
    assert.are.equal("time_distributed", td.name)
    build(td, {N, 10, 16})
    assert.are.same({
      {"time_distributed/kernel:0", {16, 8}, true},
      {"time_distributed/bias:0", {8}, true},
    }, facts(td))
    assert.are.same({N, 10, 8}, td:compute_output_shape({N, 10, 16}))
    assert.is_true(inner.built)
  end)

  it("TimeDistributed(Conv2D(4, 3)) on (None, 5, 8, 8, 3)", function()
    local td = W.TimeDistributed{layer = catalog().Conv2D{filters = 4, kernel_size = 3}}
    build(td, {N, 5, 8, 8, 3})
    assert.are.same({
      {"time_distributed/kernel:0", {3, 3, 3, 4}, true},
      {"time_distributed/bias:0", {4}, true},
    }, facts(td))
    assert.are.same({N, 5, 6, 6, 4}, td:compute_output_shape({N, 5, 8, 8, 3}))
    assert.are.same({2, N, 6, 6, 4}, td:compute_output_shape({2, N, 8, 8, 3}))
  end)

  it("the positional form TimeDistributed(layer) and a second wrapper in the session", function()
    local a = W.TimeDistributed(catalog().Dense{units = 2})
    local b = W.TimeDistributed(catalog().Dense{units = 3, use_bias = false})
    assert.are.same({"time_distributed", "time_distributed_1"}, {a.name, b.name})
    build(b, {N, 4, 5})
    assert.are.same({{"time_distributed_1/kernel:0", {5, 3}, true}}, facts(b))
  end)

  it("a non-trainable inner layer gives non-trainable weights", function()
    local td = W.TimeDistributed{layer = catalog().Dense{units = 2, trainable = false}}
    build(td, {N, 4, 5})
    assert.are.same({
      {"time_distributed/kernel:0", {5, 2}, false},
      {"time_distributed/bias:0", {2}, false},
    }, facts(td))
  end)

  it("TimeDistributed(LSTM) keeps the cell scope under the wrapper scope", function()
    local td = W.TimeDistributed{layer = R.LSTM{units = 2}}
    build(td, {N, 3, 4, 5})
    assert.are.same(lstm_weights("time_distributed/lstm_cell", 5, 2), facts(td))
    assert.are.same({N, 3, 2}, td:compute_output_shape({N, 3, 4, 5}))
  end)

  it("needs an input of rank >= 3", function()
    local td = W.TimeDistributed{layer = catalog().Dense{units = 2}}
    local ok, err = pcall(build, td, {N, 5})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: "))
  end)

  it("get_config nests the inner layer", function()
    local td = W.TimeDistributed{layer = catalog().Dense{units = 2}}
    local cfg = td:get_config()
    assert.are.equal("time_distributed", cfg.name)
    assert.are.equal("Dense", cfg.layer.class_name)
    assert.are.equal(2, cfg.layer.config.units)
  end)
end)

--[[ {=====================================================================
  Bidirectional
===================================================================== ]]

describe("Bidirectional", function()
  before_each(function() backend.clear_session() end)

  it("Bidirectional(LSTM(4)) on (None, 5, 3): forward_lstm/lstm_cell_1, backward_lstm/lstm_cell_2", function()
    local bi = W.Bidirectional{layer = R.LSTM{units = 4}}
    assert.are.equal("bidirectional", bi.name)
    assert.are.equal("forward_lstm", bi.forward_layer.name)
    assert.are.equal("backward_lstm", bi.backward_layer.name)
    assert.are.equal("lstm_cell_1", bi.forward_layer.cell.name)
    assert.are.equal("lstm_cell_2", bi.backward_layer.cell.name)
    assert.is_false(bi.forward_layer.go_backwards)
    assert.is_true(bi.backward_layer.go_backwards)
    build(bi, {N, 5, 3})
    assert.are.same(concat(
      lstm_weights("bidirectional/forward_lstm/lstm_cell_1", 3, 4),
      lstm_weights("bidirectional/backward_lstm/lstm_cell_2", 3, 4)), facts(bi))
    assert.are.same({N, 8}, bi:compute_output_shape({N, 5, 3}))
  end)

  it("Bidirectional(LSTM(64)) on 1 feature: the k392 shapes, forward then backward", function()
    local bi = build(W.Bidirectional{layer = R.LSTM{units = 64}}, {N, 30, 1})
    local shapes = {}
    for i, f in ipairs(facts(bi)) do shapes[i] = f[2] end
    assert.are.same({{1, 256}, {64, 256}, {256}, {1, 256}, {64, 256}, {256}}, shapes)
  end)

  it("Bidirectional(GRU(4)): gru_cell_1 / gru_cell_2, bias (2, 12)", function()
    local bi = build(W.Bidirectional{layer = R.GRU{units = 4}}, {N, 5, 3})
    assert.are.same({
      {"bidirectional/forward_gru/gru_cell_1/kernel:0", {3, 12}, true},
      {"bidirectional/forward_gru/gru_cell_1/recurrent_kernel:0", {4, 12}, true},
      {"bidirectional/forward_gru/gru_cell_1/bias:0", {2, 12}, true},
      {"bidirectional/backward_gru/gru_cell_2/kernel:0", {3, 12}, true},
      {"bidirectional/backward_gru/gru_cell_2/recurrent_kernel:0", {4, 12}, true},
      {"bidirectional/backward_gru/gru_cell_2/bias:0", {2, 12}, true},
    }, facts(bi))
  end)

  it("Bidirectional(GRU(4, reset_after=False)): bias (12,)", function()
    local bi = build(W.Bidirectional{layer = R.GRU{units = 4, reset_after = false}}, {N, 5, 3})
    assert.are.same({12}, bi:weights()[3]:shape())
    assert.are.same({12}, bi:weights()[6]:shape())
  end)

  it("Bidirectional(SimpleRNN(2, use_bias=False))", function()
    local bi = build(W.Bidirectional{layer = R.SimpleRNN{units = 2, use_bias = false}}, {N, 5, 3})
    assert.are.same({
      {"bidirectional/forward_simple_rnn/simple_rnn_cell_1/kernel:0", {3, 2}, true},
      {"bidirectional/forward_simple_rnn/simple_rnn_cell_1/recurrent_kernel:0", {2, 2}, true},
      {"bidirectional/backward_simple_rnn/simple_rnn_cell_2/kernel:0", {3, 2}, true},
      {"bidirectional/backward_simple_rnn/simple_rnn_cell_2/recurrent_kernel:0", {2, 2}, true},
    }, facts(bi))
  end)

  it("the wrapped layer's explicit name is prefixed", function()
    local bi = build(W.Bidirectional{layer = R.LSTM{units = 2, name = "enc"}, name = "bi"}, {N, 5, 3})
    assert.are.same(concat(
      lstm_weights("bi/forward_enc/lstm_cell_1", 3, 2),
      lstm_weights("bi/backward_enc/lstm_cell_2", 3, 2)), facts(bi))
  end)

  it("two Bidirectional(LSTM) in one session keep counting cells", function()
    local a = build(W.Bidirectional{layer = R.LSTM{units = 2, return_sequences = true}}, {N, 5, 3})
    local b = build(W.Bidirectional{layer = R.LSTM{units = 2}}, {N, 5, 4})
    assert.are.equal("bidirectional/forward_lstm/lstm_cell_1/kernel:0", a:weights()[1].name)
    assert.are.equal("bidirectional/backward_lstm/lstm_cell_2/kernel:0", a:weights()[4].name)
    assert.are.same(concat(
      lstm_weights("bidirectional_1/forward_lstm_1/lstm_cell_4", 4, 2),
      lstm_weights("bidirectional_1/backward_lstm_1/lstm_cell_5", 4, 2)), facts(b))
  end)

  it("a wrapped layer with trainable=False gives non-trainable copies", function()
    local bi = build(W.Bidirectional{layer = R.LSTM{units = 2, trainable = false}}, {N, 5, 3})
    assert.are.same(concat(
      lstm_weights("bidirectional/forward_lstm/lstm_cell_1", 3, 2, false),
      lstm_weights("bidirectional/backward_lstm/lstm_cell_2", 3, 2, false)), facts(bi))
    assert.are.equal(0, #bi:trainable_weights())
    assert.are.equal(6, #bi:non_trainable_weights())
  end)

  it("an explicit backward_layer is used as is (renamed), the forward one recreated", function()
    local fwd = R.LSTM{units = 2}                          -- lstm, lstm_cell
    local bwd = R.LSTM{units = 2, go_backwards = true}     -- lstm_1, lstm_cell_1
    local bi = W.Bidirectional{layer = fwd, backward_layer = bwd}
    assert.are.equal(bwd, bi.backward_layer)
    assert.are.equal("backward_lstm_1", bwd.name)
    build(bi, {N, 5, 3})
    assert.are.same(concat(
      lstm_weights("bidirectional/forward_lstm/lstm_cell_2", 3, 2),
      lstm_weights("bidirectional/backward_lstm_1/lstm_cell_1", 3, 2)), facts(bi))
  end)

  it("a backward_layer with the same go_backwards is rejected", function()
    local ok, err = pcall(W.Bidirectional, {layer = R.LSTM{units = 2}, backward_layer = R.LSTM{units = 2}})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: Forward layer and backward layer should have different"))
  end)

  it("an unknown merge_mode is rejected", function()
    local ok, err = pcall(W.Bidirectional, {layer = R.LSTM{units = 2}, merge_mode = "max"})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: Invalid merge mode"))
  end)

  local MERGE = {
    -- {description, LSTM config, merge_mode (nil = default, false = None), input, expected}
    {"concat, last output", {units = 4}, nil, {N, 5, 3}, {N, 8}},
    {"concat, sequences", {units = 4, return_sequences = true}, "concat", {N, 5, 3}, {N, 5, 8}},
    {"sum", {units = 4}, "sum", {N, 5, 3}, {N, 4}},
    {"mul, sequences", {units = 4, return_sequences = true}, "mul", {2, N, 3}, {2, N, 4}},
    {"ave", {units = 4}, "ave", {N, 5, 3}, {N, 4}},
    {"None: two outputs", {units = 4}, false, {N, 5, 3}, {{N, 4}, {N, 4}}},
    {"concat + return_state: output, fw h, fw c, bw h, bw c", {units = 4, return_state = true}, "concat",
      {N, 5, 3}, {{N, 8}, {N, 4}, {N, 4}, {N, 4}, {N, 4}}},
    {"None + return_state: fw out, bw out, then states", {units = 4, return_state = true}, false,
      {N, 5, 3}, {{N, 4}, {N, 4}, {N, 4}, {N, 4}, {N, 4}, {N, 4}}},
  }
  for _, m in ipairs(MERGE) do
    it("merge_mode " .. m[1], function()
      local bi = W.Bidirectional{layer = R.LSTM(m[2]), merge_mode = m[3]}
      assert.are.same(m[5], bi:compute_output_shape(m[4]))
      build(bi, m[4])
      assert.are.same(m[5], bi:compute_output_shape(m[4]))
    end)
  end

  it("GRU + return_state + sum: output then one state per direction", function()
    local bi = W.Bidirectional{layer = R.GRU{units = 3, return_state = true}, merge_mode = "sum"}
    assert.are.same({{N, 3}, {N, 3}, {N, 3}}, bi:compute_output_shape({N, 5, 2}))
  end)

  it("get_config has merge_mode and the forward layer's config", function()
    local bi = W.Bidirectional{layer = R.LSTM{units = 2}, merge_mode = "sum"}
    local cfg = bi:get_config()
    assert.are.equal("bidirectional", cfg.name)
    assert.are.equal("sum", cfg.merge_mode)
    assert.are.equal("LSTM", cfg.layer.class_name)
    assert.are.equal(2, cfg.layer.config.units)
  end)

  it("set_weights takes forward then backward", function()
    local a = build(W.Bidirectional{layer = R.LSTM{units = 2}}, {N, 3, 2})
    local b = build(W.Bidirectional{layer = R.LSTM{units = 2}}, {N, 3, 2})
    local ws = a:get_weights()
    b:set_weights(ws)
    assert.is_true(b.backward_layer.cell.kernel.value:allclose(ws[4]))
    assert.is_true(b.forward_layer.cell.kernel.value:allclose(ws[1]))
  end)
end)

describe("Bidirectional: config details", function()
  before_each(function() backend.clear_session() end)

  it("get_config serializes the ORIGINAL layer (not the forward copy)", function()
    local bi = W.Bidirectional{layer = R.LSTM{units = 2, return_sequences = true}}
    local cfg = bi:get_config()
    assert.are.equal("lstm", cfg.layer.config.name)
    assert.is_nil(cfg.backward_layer)
  end)

  it("the copies get zero_output_for_mask = return_sequences", function()
    local bi = W.Bidirectional{layer = R.LSTM{units = 2, return_sequences = true}}
    assert.is_true(bi.forward_layer.zero_output_for_mask)
    assert.is_true(bi.backward_layer:get_config().zero_output_for_mask)
    local bi2 = W.Bidirectional{layer = R.LSTM{units = 2}}
    assert.is_false(bi2.forward_layer.zero_output_for_mask)
    assert.is_nil(bi2.forward_layer:get_config().zero_output_for_mask)
  end)

  it("an explicit backward_layer is serialized with its name before the rename", function()
    local bi = W.Bidirectional{layer = R.LSTM{units = 2}, backward_layer = R.LSTM{units = 2, go_backwards = true}}
    local cfg = bi:get_config()
    assert.are.equal("lstm_1", cfg.backward_layer.config.name)
    assert.is_true(cfg.backward_layer.config.go_backwards)
  end)

  it("from_config rebuilds the same weight layout", function()
    local a = build(W.Bidirectional{layer = R.GRU{units = 3}, merge_mode = "sum"}, {N, 4, 2})
    local b = build(W.Bidirectional:from_config(a:get_config()), {N, 4, 2})
    local sa, sb = {}, {}
    for i, v in ipairs(a:weights()) do sa[i] = v:shape() end
    for i, v in ipairs(b:weights()) do sb[i] = v:shape() end
    assert.are.same(sa, sb)
    assert.are.equal("sum", b.merge_mode)
    assert.are.equal("forward_gru", b.forward_layer.name)
  end)

  it("tf.keras quirk: Bidirectional(..., trainable=False) is still trainable", function()
    local bi = build(W.Bidirectional{layer = R.LSTM{units = 2}, trainable = false}, {N, 3, 2})
    assert.is_true(bi.trainable)
    assert.are.equal(6, #bi:trainable_weights())
  end)
end)
