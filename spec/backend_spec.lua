--[[
Specs for weightkit.backend, weightkit.naming and weightkit.errors (pure Lua; no tensors needed except
for the rng test). Keras facts stated as data:
  - tf.keras generic_utils.to_snake_case: two regex passes then lower(); "_X" -> "private_x".
  - backend.unique_object_name(prefix, zero_based=True): "dense", "dense_1", ...; get_uid / zero_based=False:
    "input_1", "input_2"; clear_session resets the counters.
  - Python tuple printing: (None, 3), (4,), ().
]]
local backend = require "weightkit.backend"
local naming = require "weightkit.naming"
local errors = require "weightkit.errors"

describe("naming.to_snake_case (tf.keras facts)", function()
  local cases = {
    {"Dense", "dense"}, {"PReLU", "p_re_lu"}, {"ConvLSTM2D", "conv_lst_m2d"},
    {"Conv2DTranspose", "conv2d_transpose"}, {"SimpleRNN", "simple_rnn"}, {"Conv2D", "conv2d"},
    {"Conv1D", "conv1d"}, {"DepthwiseConv2D", "depthwise_conv2d"}, {"SeparableConv2D", "separable_conv2d"},
    {"BatchNormalization", "batch_normalization"}, {"LayerNormalization", "layer_normalization"},
    {"LeakyReLU", "leaky_re_lu"}, {"ReLU", "re_lu"}, {"ELU", "elu"}, {"ThresholdedReLU", "thresholded_re_lu"},
    {"MaxPooling2D", "max_pooling2d"}, {"GlobalAveragePooling1D", "global_average_pooling1d"},
    {"ZeroPadding2D", "zero_padding2d"}, {"UpSampling3D", "up_sampling3d"}, {"LSTMCell", "lstm_cell"},
    {"GRU", "gru"}, {"MultiHeadAttention", "multi_head_attention"}, {"TimeDistributed", "time_distributed"},
    {"RepeatVector", "repeat_vector"}, {"_Private", "private__private"},
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " -> " .. c[2], function()
      assert.are.equal(c[2], naming.to_snake_case(c[1]))
    end)
  end
end)

describe("naming.shape_str", function()
  it("prints Python tuples", function()
    assert.are.equal("(None, 3)", naming.shape_str({false, 3}))
    assert.are.equal("(4,)", naming.shape_str({4}))
    assert.are.equal("()", naming.shape_str({}))
    assert.are.equal("(3, 1)", naming.shape_str({3, 1}))
    assert.are.equal("[(None, 3), (None, 4)]", naming.shape_str({{false, 3}, {false, 4}}))
    assert.are.equal(errors.shape_str, naming.shape_str)
  end)
end)

describe("backend", function()
  before_each(function() backend.clear_session() end)

  it("unique_name is zero-based by default and counts per prefix", function()
    assert.are.equal("dense", backend.unique_name("dense"))
    assert.are.equal("dense_1", backend.unique_name("dense"))
    assert.are.equal("conv2d", backend.unique_name("conv2d"))
    assert.are.equal("dense_2", backend.unique_name("dense"))
  end)

  it("zero_based = false gives input_1, input_2 and shares get_uid's counter", function()
    assert.are.equal("input_1", backend.unique_name("input", {zero_based = false}))
    assert.are.equal("input_2", backend.unique_name("input", {zero_based = false}))
    assert.are.equal(3, backend.get_uid("input"))
  end)

  it("clear_session resets the counters", function()
    backend.unique_name("dense"); backend.unique_name("dense")
    backend.clear_session()
    assert.are.equal("dense", backend.unique_name("dense"))
  end)

  it("name scopes nest, pop after errors, and skip empty names", function()
    assert.are.equal("", backend.current_scope())
    local seen
    backend.with_name_scope("model", function()
      backend.with_name_scope("dense", function() seen = backend.current_scope() end)
    end)
    assert.are.equal("model/dense", seen)
    local ok, err = pcall(backend.with_name_scope, "x", function() error("ValueError: boom", 0) end)
    assert.is_false(ok)
    assert.are.equal("ValueError: boom", err)
    assert.are.equal("", backend.current_scope())
    backend.with_name_scope("", function() seen = backend.current_scope() end)
    assert.are.equal("", seen)
    assert.are.same({}, backend.scope_stack())
  end)

  it("returns fn's results", function()
    local a, b = backend.with_name_scope("s", function(x) return x, 2 end, 1)
    assert.are.equal(1, a); assert.are.equal(2, b)
  end)

  it("floatx is float32", function()
    assert.are.equal("float32", backend.floatx())
  end)
end)

describe("errors", function()
  it("raises Keras texts without a position prefix", function()
    local ok, err = pcall(errors.value_error, "bad thing.")
    assert.is_false(ok)
    assert.are.equal("ValueError: bad thing.", err)
    assert.are.equal("ValueError", errors.kind(err))
    assert.has_error(function() errors.raise("TypeError", "x") end, "TypeError: x")
  end)

  it("warnings go to a replaceable sink", function()
    local got = errors.capture_warnings(function() errors.warn("careful") end)
    assert.are.same({"careful"}, got)
    local seen = {}
    local prev = errors.set_warning_sink(function(m) seen[#seen + 1] = m end)
    errors.warn("a")
    errors.set_warning_sink(prev)
    assert.are.same({"a"}, seen)
  end)

  it("capture_warnings restores the sink when fn raises", function()
    local before = errors.get_warning_sink()
    assert.has_error(function() errors.capture_warnings(function() error("x", 0) end) end, "x")
    assert.are.equal(before, errors.get_warning_sink())
  end)
end)
