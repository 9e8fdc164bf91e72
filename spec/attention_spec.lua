--[[
Specs for lua/weightkit/layers/attention.lua: MultiHeadAttention.

Every expectation is a tf.keras 2.x fact (TF 2.4 - 2.15), stated as data. Sources (facts only):
  - MultiHeadAttention creates four EinsumDense sublayers named explicitly "query", "key", "value"
    (in that order), then a Softmax and a Dropout (auto-named: they take the "softmax" and "dropout"
    counters), then "attention_output"; they are built when the MHA is first called, inside the MHA's
    name scope: multi_head_attention/query/kernel:0. Weights: query, key, value, attention_output,
    each kernel then bias.
  - Shapes (projection equations): query kernel (query_dim, num_heads, key_dim), bias (num_heads,
    key_dim); key kernel (key_dim_in, num_heads, key_dim); value kernel (value_dim_in, num_heads,
    value_dim), bias (num_heads, value_dim); attention_output kernel (num_heads, value_dim, *out),
    bias (*out) where out = output_shape or the query's last dim. value_dim defaults to key_dim.
  - Output shape: query shape with the last dim replaced by output_shape (when given).
  - Called on [query, value] or [query, value, key]; key defaults to value.
]]
local backend = require "weightkit.backend"
local A = require "weightkit.layers.attention"

local N = false -- Keras None

local layer_facts = require "support.layer_facts"
local build, facts = layer_facts.build, layer_facts.facts

-- The two set-ups most specs here share, built (auto-named) in the current session:
-- 2 heads, key_dim 3 on [(None, 5, 8), (None, 7, 8)], and the smallest, 1 head, key_dim 2 on
-- [(None, 3, 4), (None, 3, 4)].
local function built_mha()
  return build(A.MultiHeadAttention{num_heads = 2, key_dim = 3}, {{N, 5, 8}, {N, 7, 8}})
end

local function built_small_mha()
  return build(A.MultiHeadAttention{num_heads = 1, key_dim = 2}, {{N, 3, 4}, {N, 3, 4}})
end

local CASES = {
  { "MHA(num_heads=2, key_dim=3) on [(None, 5, 8), (None, 7, 8)]",
    {num_heads = 2, key_dim = 3}, {{N, 5, 8}, {N, 7, 8}},
    output = {N, 5, 8},
    weights = {
      {"multi_head_attention/query/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/query/bias:0", {2, 3}, true},
      {"multi_head_attention/key/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/key/bias:0", {2, 3}, true},
      {"multi_head_attention/value/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/value/bias:0", {2, 3}, true},
      {"multi_head_attention/attention_output/kernel:0", {2, 3, 8}, true},
      {"multi_head_attention/attention_output/bias:0", {8}, true},
    } },
  { "value_dim, output_shape and a separate key: [(None, 5, 8), (None, 7, 10), (None, 7, 12)]",
    {num_heads = 2, key_dim = 3, value_dim = 4, output_shape = 6}, {{N, 5, 8}, {N, 7, 10}, {N, 7, 12}},
    output = {N, 5, 6},
    weights = {
      {"multi_head_attention/query/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/query/bias:0", {2, 3}, true},
      {"multi_head_attention/key/kernel:0", {12, 2, 3}, true},
      {"multi_head_attention/key/bias:0", {2, 3}, true},
      {"multi_head_attention/value/kernel:0", {10, 2, 4}, true},
      {"multi_head_attention/value/bias:0", {2, 4}, true},
      {"multi_head_attention/attention_output/kernel:0", {2, 4, 6}, true},
      {"multi_head_attention/attention_output/bias:0", {6}, true},
    } },
  { "use_bias=False: kernels only",
    {num_heads = 4, key_dim = 2, use_bias = false}, {{N, 3, 16}, {N, 3, 16}},
    output = {N, 3, 16},
    weights = {
      {"multi_head_attention/query/kernel:0", {16, 4, 2}, true},
      {"multi_head_attention/key/kernel:0", {16, 4, 2}, true},
      {"multi_head_attention/value/kernel:0", {16, 4, 2}, true},
      {"multi_head_attention/attention_output/kernel:0", {4, 2, 16}, true},
    } },
  { "trainable=False",
    {num_heads = 1, key_dim = 2, trainable = false}, {{N, 3, 4}, {N, 3, 4}},
    output = {N, 3, 4},
    weights = {
      {"multi_head_attention/query/kernel:0", {4, 1, 2}, false},
      {"multi_head_attention/query/bias:0", {1, 2}, false},
      {"multi_head_attention/key/kernel:0", {4, 1, 2}, false},
      {"multi_head_attention/key/bias:0", {1, 2}, false},
      {"multi_head_attention/value/kernel:0", {4, 1, 2}, false},
      {"multi_head_attention/value/bias:0", {1, 2}, false},
      {"multi_head_attention/attention_output/kernel:0", {1, 2, 4}, false},
      {"multi_head_attention/attention_output/bias:0", {4}, false},
    } },
  { "rank-4 inputs (images): projections act on the last axis",
    {num_heads = 2, key_dim = 3, name = "attn"}, {{N, 4, 4, 8}, {N, 4, 4, 8}},
    output = {N, 4, 4, 8},
    weights = {
      {"attn/query/kernel:0", {8, 2, 3}, true},
      {"attn/query/bias:0", {2, 3}, true},
      {"attn/key/kernel:0", {8, 2, 3}, true},
      {"attn/key/bias:0", {2, 3}, true},
      {"attn/value/kernel:0", {8, 2, 3}, true},
      {"attn/value/bias:0", {2, 3}, true},
      {"attn/attention_output/kernel:0", {2, 3, 8}, true},
      {"attn/attention_output/bias:0", {8}, true},
    } },
  { "output_shape as a tuple",
    {num_heads = 2, key_dim = 3, output_shape = {2, 5}}, {{N, 5, 8}, {N, 7, 8}},
    output = {N, 5, 2, 5},
    weights = {
      {"multi_head_attention/query/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/query/bias:0", {2, 3}, true},
      {"multi_head_attention/key/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/key/bias:0", {2, 3}, true},
      {"multi_head_attention/value/kernel:0", {8, 2, 3}, true},
      {"multi_head_attention/value/bias:0", {2, 3}, true},
      {"multi_head_attention/attention_output/kernel:0", {2, 3, 2, 5}, true},
      {"multi_head_attention/attention_output/bias:0", {2, 5}, true},
    } },
}

describe("MultiHeadAttention: tf.keras 2.x weight names, shapes, order, trainable flags", function()
  before_each(function() backend.clear_session() end)

  for _, c in ipairs(CASES) do
    it(c[1], function()
      local mha = A.MultiHeadAttention(c[2])
      assert.are.same(c.output, mha:compute_output_shape(c[3]))
      layer_facts.assert_built_weights(mha, c[3], c.weights)
      assert.are.same(c.output, mha:compute_output_shape(c[3]))
    end)
  end

  it("sublayers are named query, key, value, attention_output", function()
    local mha = built_mha()
    assert.are.same({"query", "key", "value", "attention_output"},
      {mha.query_dense.name, mha.key_dense.name, mha.value_dense.name, mha.output_dense.name})
  end)

  it("a second MHA in the session is multi_head_attention_1", function()
    A.MultiHeadAttention{num_heads = 1, key_dim = 2}
    local b = built_small_mha()
    assert.are.equal("multi_head_attention_1", b.name)
    assert.are.equal("multi_head_attention_1/query/kernel:0", b:weights()[1].name)
    assert.are.equal("multi_head_attention_1/attention_output/bias:0", b:weights()[8].name)
  end)

  it("building takes the softmax and dropout counters (its internal Softmax and Dropout)", function()
    local mha = A.MultiHeadAttention{num_heads = 1, key_dim = 2}
    assert.are.equal("softmax", backend.unique_name("softmax"))   -- not built yet: nothing taken
    build(mha, {{N, 3, 4}, {N, 3, 4}})
    assert.are.equal("dropout_1", backend.unique_name("dropout"))
    assert.are.equal("softmax_2", backend.unique_name("softmax"))
  end)

  it("explicit sublayer names do not touch the counters", function()
    built_small_mha()
    assert.are.equal("query", backend.unique_name("query"))
    assert.are.equal("einsum_dense", backend.unique_name("einsum_dense"))
  end)

  it("kernels are glorot_uniform over the einsum fans, biases zeros", function()
    local mha = built_mha()
    local ws = mha:weights()
    -- query kernel (8, 2, 3): fan_in 8, fan_out 6 (Keras computes fans on the 3-D shape:
    -- receptive field = 8, fan_in = 2 * 8 = 16, fan_out = 3 * 8 = 24)
    local k = ws[1].value
    local limit = math.sqrt(6 / (16 + 24))
    assert.is_true(k:max() <= limit and k:min() >= -limit)
    assert.is_true(k:max() - k:min() > limit / 2)
    assert.are.equal(0, ws[2].value:norm())
    assert.are.equal(0, ws[8].value:norm())
  end)

  it("get_config has the tf.keras 2.x keys; value_dim defaults to key_dim", function()
    local cfg = A.MultiHeadAttention{num_heads = 2, key_dim = 3}:get_config()
    assert.are.equal("multi_head_attention", cfg.name)
    assert.are.equal(2, cfg.num_heads)
    assert.are.equal(3, cfg.key_dim)
    assert.are.equal(3, cfg.value_dim)
    assert.are.equal(0, cfg.dropout)
    assert.is_true(cfg.use_bias)
    assert.is_nil(cfg.output_shape)
    assert.is_nil(cfg.attention_axes)
  end)

  it("a layer rebuilt from its config has the same weight shapes", function()
    local a = build(A.MultiHeadAttention{num_heads = 2, key_dim = 3, value_dim = 5, output_shape = 4,
      use_bias = false}, {{N, 5, 8}, {N, 7, 6}})
    backend.clear_session()
    local b = build(A.MultiHeadAttention:from_config(a:get_config()), {{N, 5, 8}, {N, 7, 6}})
    assert.are.same(facts(a), facts(b))
  end)

  it("needs [query, value] (or [query, value, key]): tf.keras raises TypeError for a missing value", function()
    local ok, err = pcall(build, A.MultiHeadAttention{num_heads = 1, key_dim = 2}, {N, 3, 4})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^TypeError: call%(%) missing 1 required positional argument: 'value'"))
  end)

  it("value and key must agree except on the last dim", function()
    local ok, err = pcall(build, A.MultiHeadAttention{num_heads = 1, key_dim = 2}, {{N, 3, 4}, {N, 5, 4}, {N, 6, 4}})
    assert.is_false(ok)
    assert.truthy(tostring(err):match("^ValueError: All dimensions of `value` and `key`, except the last one"))
  end)

  it("set_weights round-trips in tf.keras order", function()
    local a = built_mha()
    local b = built_mha()
    local ws = a:get_weights()
    b:set_weights(ws)
    assert.is_true(b.value_dense.kernel.value:allclose(ws[5]))
    assert.is_true(b.output_dense.kernel.value:allclose(ws[7]))
  end)
end)
