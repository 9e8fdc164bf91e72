--[[
Specs for weightkit.layer (base Layer, Variable) and the catalog families core, conv, normalization,
embedding, activation_layers, pooling, merge, reshaping.

Every expectation is a tf.keras 2.x fact (TF 2.4 - 2.15), stated as data. Sources (facts only):
tf_keras/layers/{core/dense.py, convolutional/*.py, normalization/batch_normalization.py,
normalization/layer_normalization.py, core/embedding.py, activation/prelu.py, pooling/*.py, merging/*.py,
reshaping/*.py}, tf_keras/engine/base_layer.py (weights order, set_weights texts), conv_utils.py; the
real files in /work/shared/fixtures/real (e.g. k206: conv2d/kernel:0, batch_normalization/gamma:0 ...).
  - Weight names are "<layer name>/<weight>:0"; creation order per class as in WEIGHT_FACTS.
  - Auto names: to_snake_case(class name), zero-based counter per prefix, reset by clear_session;
    an explicit name consumes no counter.
  - Layer.weights = trainable_weights + non_trainable_weights; trainable = False puts every weight in
    non_trainable_weights.
]]
local wk = require "weightkit"
local L = wk.layers
local Layer = require "weightkit.layer"
local backend = wk.backend

local N = false -- Keras None

local layer_facts = require "support.layer_facts"
local build, facts = layer_facts.build, layer_facts.facts

local T, F = true, false

--{=====================================================================================================
-- Weight facts: class, config, input shape -> weights (name, shape, trainable), output shape
--======================================================================================================

local WEIGHT_FACTS = {
  {"Dense", {units = 4}, {N, 3},
    {{"dense/kernel:0", {3, 4}, T}, {"dense/bias:0", {4}, T}}, {N, 4}},
  {"Dense", {units = 4, use_bias = false}, {N, 5, 3},
    {{"dense/kernel:0", {3, 4}, T}}, {N, 5, 4}},
  {"Dense", {units = 2, trainable = false}, {N, 3},
    {{"dense/kernel:0", {3, 2}, F}, {"dense/bias:0", {2}, F}}, {N, 2}},
  {"Conv1D", {filters = 8, kernel_size = 3}, {N, 10, 4},
    {{"conv1d/kernel:0", {3, 4, 8}, T}, {"conv1d/bias:0", {8}, T}}, {N, 8, 8}},
  {"Conv1D", {filters = 8, kernel_size = 3, padding = "causal", dilation_rate = 2}, {N, 10, 4},
    {{"conv1d/kernel:0", {3, 4, 8}, T}, {"conv1d/bias:0", {8}, T}}, {N, 10, 8}},
  {"Conv2D", {filters = 16, kernel_size = 3}, {N, 28, 28, 3},
    {{"conv2d/kernel:0", {3, 3, 3, 16}, T}, {"conv2d/bias:0", {16}, T}}, {N, 26, 26, 16}},
  {"Conv2D", {filters = 16, kernel_size = {3, 5}, data_format = "channels_first"}, {N, 3, 28, 28},
    {{"conv2d/kernel:0", {3, 5, 3, 16}, T}, {"conv2d/bias:0", {16}, T}}, {N, 16, 26, 24}},
  {"Conv2D", {filters = 6, kernel_size = 3, groups = 2, use_bias = false, strides = 2, padding = "same"},
    {N, 9, 9, 4}, {{"conv2d/kernel:0", {3, 3, 2, 6}, T}}, {N, 5, 5, 6}},
  {"Conv2D", {filters = 2, kernel_size = 3, dilation_rate = 2}, {N, 28, N, 1},
    {{"conv2d/kernel:0", {3, 3, 1, 2}, T}, {"conv2d/bias:0", {2}, T}}, {N, 24, N, 2}},
  {"Conv3D", {filters = 4, kernel_size = {2, 3, 3}}, {N, 8, 8, 8, 2},
    {{"conv3d/kernel:0", {2, 3, 3, 2, 4}, T}, {"conv3d/bias:0", {4}, T}}, {N, 7, 6, 6, 4}},
  {"Conv1DTranspose", {filters = 4, kernel_size = 3}, {N, 10, 2},
    {{"conv1d_transpose/kernel:0", {3, 4, 2}, T}, {"conv1d_transpose/bias:0", {4}, T}}, {N, 12, 4}},
  {"Conv2DTranspose", {filters = 8, kernel_size = 3, strides = 2, padding = "same"}, {N, 7, 7, 16},
    {{"conv2d_transpose/kernel:0", {3, 3, 8, 16}, T}, {"conv2d_transpose/bias:0", {8}, T}}, {N, 14, 14, 8}},
  {"Conv2DTranspose", {filters = 8, kernel_size = 3, strides = 2}, {N, 7, 7, 16},
    {{"conv2d_transpose/kernel:0", {3, 3, 8, 16}, T}, {"conv2d_transpose/bias:0", {8}, T}}, {N, 15, 15, 8}},
  {"Conv2DTranspose", {filters = 8, kernel_size = 3, strides = 2, output_padding = 1}, {N, 7, 7, 16},
    {{"conv2d_transpose/kernel:0", {3, 3, 8, 16}, T}, {"conv2d_transpose/bias:0", {8}, T}}, {N, 16, 16, 8}},
  {"Conv3DTranspose", {filters = 2, kernel_size = 2, strides = 2, use_bias = false}, {N, 4, 4, 4, 3},
    {{"conv3d_transpose/kernel:0", {2, 2, 2, 2, 3}, T}}, {N, 8, 8, 8, 2}},
  {"DepthwiseConv2D", {kernel_size = 3, depth_multiplier = 2}, {N, 8, 8, 3},
    {{"depthwise_conv2d/depthwise_kernel:0", {3, 3, 3, 2}, T}, {"depthwise_conv2d/bias:0", {6}, T}},
    {N, 6, 6, 6}},
  {"SeparableConv2D", {filters = 5, kernel_size = 3, depth_multiplier = 2}, {N, 8, 8, 3},
    {{"separable_conv2d/depthwise_kernel:0", {3, 3, 3, 2}, T},
     {"separable_conv2d/pointwise_kernel:0", {1, 1, 6, 5}, T}, {"separable_conv2d/bias:0", {5}, T}},
    {N, 6, 6, 5}},
  {"SeparableConv1D", {filters = 5, kernel_size = 3, padding = "same"}, {N, 10, 4},
    {{"separable_conv1d/depthwise_kernel:0", {3, 4, 1}, T},
     {"separable_conv1d/pointwise_kernel:0", {1, 4, 5}, T}, {"separable_conv1d/bias:0", {5}, T}},
    {N, 10, 5}},
  {"BatchNormalization", {}, {N, 10},
    {{"batch_normalization/gamma:0", {10}, T}, {"batch_normalization/beta:0", {10}, T},
     {"batch_normalization/moving_mean:0", {10}, F}, {"batch_normalization/moving_variance:0", {10}, F}},
    {N, 10}},
  {"BatchNormalization", {axis = 1}, {N, 3, 8, 8},
    {{"batch_normalization/gamma:0", {3}, T}, {"batch_normalization/beta:0", {3}, T},
     {"batch_normalization/moving_mean:0", {3}, F}, {"batch_normalization/moving_variance:0", {3}, F}},
    {N, 3, 8, 8}},
  {"BatchNormalization", {center = false}, {N, 4},
    {{"batch_normalization/gamma:0", {4}, T}, {"batch_normalization/moving_mean:0", {4}, F},
     {"batch_normalization/moving_variance:0", {4}, F}}, {N, 4}},
  {"BatchNormalization", {scale = false}, {N, 4},
    {{"batch_normalization/beta:0", {4}, T}, {"batch_normalization/moving_mean:0", {4}, F},
     {"batch_normalization/moving_variance:0", {4}, F}}, {N, 4}},
  {"BatchNormalization", {trainable = false}, {N, 4},
    {{"batch_normalization/gamma:0", {4}, F}, {"batch_normalization/beta:0", {4}, F},
     {"batch_normalization/moving_mean:0", {4}, F}, {"batch_normalization/moving_variance:0", {4}, F}},
    {N, 4}},
  {"LayerNormalization", {}, {N, 5, 10},
    {{"layer_normalization/gamma:0", {10}, T}, {"layer_normalization/beta:0", {10}, T}}, {N, 5, 10}},
  {"LayerNormalization", {center = false}, {N, 10},
    {{"layer_normalization/gamma:0", {10}, T}}, {N, 10}},
  {"Embedding", {input_dim = 100, output_dim = 8}, {N, 5},
    {{"embedding/embeddings:0", {100, 8}, T}}, {N, 5, 8}},
  {"PReLU", {}, {N, 4, 5}, {{"p_re_lu/alpha:0", {4, 5}, T}}, {N, 4, 5}},
  {"PReLU", {shared_axes = {1, 2}}, {N, 8, 8, 3}, {{"p_re_lu/alpha:0", {1, 1, 3}, T}}, {N, 8, 8, 3}},
}

describe("layer weight facts (tf.keras 2.x)", function()
  for i, case in ipairs(WEIGHT_FACTS) do
    local cls, cfg, shape, want, out = case[1], case[2], case[3], case[4], case[5]
    it(string.format("#%d %s %s", i, cls, wk.backend and require("weightkit.naming").shape_str(shape)), function()
      backend.clear_session()
      local layer = L[cls](cfg)
      assert.are.equal(cls, layer.class_name)
      build(layer, shape)
      assert.are.same(want, facts(layer))
      assert.are.same(out, layer:compute_output_shape(shape))
      local n = 0
      for _, w in ipairs(want) do
        local p = 1
        for _, d in ipairs(w[2]) do p = p * d end
        n = n + p
      end
      assert.are.equal(n, layer:count_params())
    end)
  end
end)

--{=====================================================================================================
-- Auto names
--======================================================================================================

describe("auto names", function()
  before_each(function() backend.clear_session() end)

  it("dense, dense_1 and again dense after clear_session", function()
    assert.are.equal("dense", L.Dense{units = 1}.name)
    assert.are.equal("dense_1", L.Dense{units = 1}.name)
    backend.clear_session()
    assert.are.equal("dense", L.Dense{units = 1}.name)
  end)

  it("an explicit name consumes no counter", function()
    assert.are.equal("fc", L.Dense{units = 1, name = "fc"}.name)
    assert.are.equal("dense", L.Dense{units = 1}.name)
  end)

  local NAMES = {
    {"Conv2D", {filters = 1, kernel_size = 1}, "conv2d"},
    {"Conv2DTranspose", {filters = 1, kernel_size = 1}, "conv2d_transpose"},
    {"DepthwiseConv2D", {kernel_size = 1}, "depthwise_conv2d"},
    {"SeparableConv2D", {filters = 1, kernel_size = 1}, "separable_conv2d"},
    {"BatchNormalization", {}, "batch_normalization"},
    {"LayerNormalization", {}, "layer_normalization"},
    {"Embedding", {input_dim = 2, output_dim = 2}, "embedding"},
    {"PReLU", {}, "p_re_lu"}, {"LeakyReLU", {}, "leaky_re_lu"}, {"ReLU", {}, "re_lu"},
    {"ELU", {}, "elu"}, {"Softmax", {}, "softmax"},
    {"MaxPooling2D", {}, "max_pooling2d"}, {"GlobalAveragePooling1D", {}, "global_average_pooling1d"},
    {"ZeroPadding2D", {}, "zero_padding2d"}, {"Cropping1D", {}, "cropping1d"},
    {"UpSampling2D", {}, "up_sampling2d"}, {"Concatenate", {}, "concatenate"}, {"Add", {}, "add"},
    {"Flatten", {}, "flatten"}, {"Dropout", {rate = 0.5}, "dropout"}, {"RepeatVector", {n = 2}, "repeat_vector"},
    {"Activation", {activation = "relu"}, "activation"},
  }
  for _, c in ipairs(NAMES) do
    it(c[1] .. " -> " .. c[3], function()
      assert.are.equal(c[3], L[c[1]](c[2]).name)
      assert.are.equal(c[3] .. "_1", L[c[1]](c[2]).name)
    end)
  end

  it("aliases are the same classes", function()
    assert.are.equal(L.Conv2D, L.Convolution2D)
    assert.are.equal(L.MaxPooling2D, L.MaxPool2D)
    assert.are.equal("max_pooling2d", L.MaxPool2D{}.name)
  end)
end)

--{=====================================================================================================
-- The seed example, get/set_weights
--======================================================================================================

describe("Dense seed example", function()
  before_each(function() backend.clear_session() end)

  it("calls, builds and round-trips weights", function()
    local layer_a = wk.layers.Dense{units = 1, kernel_initializer = wk.initializers.Constant(1.0)}
    local y = layer_a(wk.tensor{{1, 2, 3}})
    assert.are.same({{6}}, y:totable())
    local w = layer_a:get_weights()
    assert.are.equal(2, #w)
    assert.are.same({{1}, {1}, {1}}, w[1]:totable())
    assert.are.same({0}, w[2]:totable())
    assert.are.equal("float32", w[1]:dtype())
    assert.are.equal("float32", w[2]:dtype())
    assert.are.equal("dense/kernel:0", layer_a.kernel.name)
    assert.are.equal("dense/kernel", layer_a.kernel.path)

    local layer_b = wk.layers.Dense{units = 1, kernel_initializer = wk.initializers.Constant(2.0)}
    layer_b(wk.tensor{{10, 20, 30}})
    layer_b:set_weights(layer_a:get_weights())
    local wb = layer_b:get_weights()
    assert.are.same(w[1]:totable(), wb[1]:totable())
    assert.are.same(w[2]:totable(), wb[2]:totable())
    assert.are.same({{6}}, layer_b(wk.tensor{{1, 2, 3}}):totable())
  end)

  it("get_weights returns copies", function()
    local d = L.Dense{units = 1, kernel_initializer = "ones"}
    d(wk.tensor{{1}})
    local w = d:get_weights()
    w[1]:set(1, 1, 42)
    assert.are.same({{1}}, d:get_weights()[1]:totable())
  end)

  it("set_weights count error (exact tf.keras text)", function()
    local d = L.Dense{units = 1, kernel_initializer = wk.initializers.Constant(1.0)}
    d(wk.tensor{{1, 2, 3}})
    local w = d:get_weights()
    w[3] = wk.tensor{5}
    assert.has_error(function() d:set_weights(w) end,
      'ValueError: You called `set_weights(weights)` on layer "dense" with a weight list of length 3, ' ..
      "but the layer was expecting 2 weights. Provided weights: " ..
      "[array([[1.],\n       [1.],\n       [1.]], dtype=flo...")
  end)

  it("set_weights shape error and nothing assigned before the check", function()
    local d = L.Dense{units = 1, kernel_initializer = "ones"}
    d(wk.tensor{{1, 2, 3}})
    assert.has_error(function() d:set_weights({wk.zeros({3, 2}), wk.zeros({1})}) end,
      "ValueError: Layer dense weight shape (3, 1) is not compatible with provided weight shape (3, 2).")
    -- the bias is fine but the kernel fails: neither is assigned
    assert.has_error(function() d:set_weights({wk.full({3, 1}, 7), wk.zeros({2})}) end,
      "ValueError: Layer dense weight shape (1,) is not compatible with provided weight shape (2,).")
    assert.are.same({{1}, {1}, {1}}, d:get_weights()[1]:totable())
  end)

  it("set_weights casts other dtypes and accepts Lua tables", function()
    local d = L.Dense{units = 2}
    d(wk.tensor{{1, 2}})
    d:set_weights({wk.tensor({{1, 2}, {3, 4}}, "float64"), {0.5, -0.5}})
    local w = d:get_weights()
    assert.are.equal("float32", w[1]:dtype())
    assert.are.equal("float32", w[2]:dtype())
    assert.are.same({{1, 2}, {3, 4}}, w[1]:totable())
    assert.are.same({0.5, -0.5}, w[2]:totable())
    assert.are.same({{7.5, 9.5}}, d(wk.tensor{{1, 2}}):totable())
  end)
end)

--{=====================================================================================================
-- Dense forward with each activation
--======================================================================================================

describe("Dense forward", function()
  local K = {{0.5, -1.0}, {0.25, 2.0}, {-0.75, 0.1}}
  local B = {0.1, -0.2}
  local X = {{1, 2, 3}, {-1, 0.5, -2}}
  local function pre()
    local out = {}
    for r = 1, 2 do
      out[r] = {}
      for c = 1, 2 do
        local s = B[c]
        for k = 1, 3 do s = s + X[r][k] * K[k][c] end
        out[r][c] = s
      end
    end
    return out
  end
  local sig = function(z) return 1 / (1 + math.exp(-z)) end
  local ACTS = {
    linear = function(z) return z end, relu = function(z) return math.max(z, 0) end, sigmoid = sig,
    tanh = function(z) return math.tanh and math.tanh(z) or (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1) end,
    elu = function(z) return z > 0 and z or math.exp(z) - 1 end,
    selu = function(z) return 1.0507009873554805 * (z > 0 and z or 1.6732632423543772 * (math.exp(z) - 1)) end,
    softplus = function(z) return math.log(1 + math.exp(z)) end,
    swish = function(z) return z * sig(z) end,
  }
  for name, f in pairs(ACTS) do
    it("activation " .. name, function()
      local d = L.Dense{units = 2, activation = name}
      d(wk.tensor(X))
      d:set_weights({K, B})
      local y = d(wk.tensor(X)):totable()
      local p = pre()
      for r = 1, 2 do for c = 1, 2 do
        assert.is_true(math.abs(y[r][c] - f(p[r][c])) < 1e-5, name .. " " .. y[r][c] .. " vs " .. f(p[r][c]))
      end end
    end)
  end

  it("activation softmax", function()
    local d = L.Dense{units = 2, activation = "softmax"}
    d(wk.tensor(X))
    d:set_weights({K, B})
    local y = d(wk.tensor(X)):totable()
    local p = pre()
    for r = 1, 2 do
      local e1, e2 = math.exp(p[r][1]), math.exp(p[r][2])
      assert.is_true(math.abs(y[r][1] - e1 / (e1 + e2)) < 1e-6)
    end
  end)

  it("rank-3 input and float64 input", function()
    local d = L.Dense{units = 2, kernel_initializer = "ones", bias_initializer = wk.initializers.Constant(1)}
    local y = d(wk.tensor({{{1, 2}, {3, 4}}}, "float64"))
    assert.are.same({1, 2, 2}, y:shape())
    assert.are.same({{{4, 4}, {8, 8}}}, y:totable())
    assert.are.equal("float32", y:dtype())
  end)

  it("needs a defined last dim", function()
    local d = L.Dense{units = 2}
    assert.has_error(function() build(d, {N, N}) end,
      "ValueError: The last dimension of the inputs to a Dense layer should be defined. Found None. " ..
      "Full input shape received: (None, None)")
  end)
end)

--{=====================================================================================================
-- Base Layer behaviour
--======================================================================================================

describe("Layer base", function()
  before_each(function() backend.clear_session() end)

  it("weights built by a direct build() call carry no scope, like tf.keras", function()
    local d = L.Dense{units = 2}
    d:build({N, 3})
    assert.are.equal("kernel:0", d.kernel.name)
  end)

  it("nested scopes prefix weight names", function()
    local d = L.Dense{units = 2}
    backend.with_name_scope("model", function() d(wk.zeros({1, 3})) end)
    assert.are.equal("model/dense/kernel:0", d.kernel.name)
  end)

  it("tracks sublayers in tf.keras order, trainable then non-trainable", function()
    local Outer = Layer:extend("Outer")
    function Outer:init(config)
      Layer.init(self, config)
      self.dense = self:track(L.Dense{units = 2})
      self.bn = self:track(L.BatchNormalization{})
    end
    function Outer:build(shape)
      self.w = self:add_weight{name = "w", shape = {3}, initializer = "zeros"}
      self.s = self:add_weight{name = "s", shape = {1}, initializer = "zeros", trainable = false}
      backend.with_name_scope(self.dense.name, function() self.dense:maybe_build(shape) end)
      backend.with_name_scope(self.bn.name, function() self.bn:maybe_build({N, 2}) end)
    end
    local o = Outer{}
    assert.are.equal("outer", o.name)
    build(o, {N, 3})
    local names = {}
    for i, v in ipairs(o:weights()) do names[i] = v.name end
    assert.are.same({"outer/w:0", "outer/dense/kernel:0", "outer/dense/bias:0", "outer/batch_normalization/gamma:0",
      "outer/batch_normalization/beta:0", "outer/s:0", "outer/batch_normalization/moving_mean:0",
      "outer/batch_normalization/moving_variance:0"}, names)
    assert.are.equal(5, #o:trainable_weights())
    o.trainable = false
    assert.are.equal(0, #o:trainable_weights())
    names = {}
    for i, v in ipairs(o:non_trainable_weights()) do names[i] = v.name end
    assert.are.same({"outer/w:0", "outer/s:0", "outer/dense/kernel:0", "outer/dense/bias:0",
      "outer/batch_normalization/gamma:0", "outer/batch_normalization/beta:0",
      "outer/batch_normalization/moving_mean:0", "outer/batch_normalization/moving_variance:0"}, names)
    assert.is_true(o.dense.kernel.trainable)
    o:set_trainable(false)
    assert.is_false(o.dense.trainable)
    -- tracking twice and sharing a weight do not duplicate
    o:track(o.dense)
    o:track_weight(o.dense.kernel, true)
    assert.are.equal(8, #o:weights())
  end)

  it("count_params before build raises the tf.keras text", function()
    assert.has_error(function() L.Dense{units = 1}:count_params() end,
      "ValueError: You tried to call `count_params` on layer dense, but the layer isn't built. " ..
      "You can build it manually via: `dense.build(batch_input_shape)`.")
  end)

  it("rejects unknown keyword arguments like tf.keras; from_config tolerates them", function()
    assert.has_error(function() L.Dense{units = 1, foo = 2} end,
      "TypeError: ('Keyword argument not understood:', 'foo')")
    local got = wk.errors and nil
    local errors = require "weightkit.errors"
    local warnings, d = errors.capture_warnings(function() return L.Dense:from_config({units = 1, lora_rank = 0}) end)
    assert.are.equal(1, d.units)
    assert.are.equal(1, #warnings)
    local _ = got
  end)

  it("positional arguments", function()
    local d = L.Dense{64, "relu"}
    assert.are.equal(64, d.units)
    assert.are.equal("relu", d.activation.activation_name)
    assert.are.equal(3, L.Dense(3).units)
  end)

  it("input_shape, input_dim and batch_input_shape", function()
    assert.are.same({N, 3}, L.Dense{units = 1, input_shape = {3}}.batch_input_shape)
    assert.are.same({N, 7}, L.Dense{units = 1, input_dim = 7}.batch_input_shape)
    assert.are.same({8, 2}, L.Dense{units = 1, input_shape = {2}, batch_size = 8}.batch_input_shape)
    assert.are.same({N, 4, 5}, L.Dense{units = 1, batch_input_shape = {N, 4, 5}}.batch_input_shape)
    assert.is_nil(L.Dense{units = 1}.batch_input_shape)
    -- tf.keras: an Embedding always has batch_input_shape (None, input_length)
    assert.are.same({N, N}, L.Embedding{input_dim = 3, output_dim = 2}.batch_input_shape)
    assert.are.same({N, 10}, L.Embedding{input_dim = 3, output_dim = 2, input_length = 10}.batch_input_shape)
  end)

  it("get_config of Dense matches tf.keras keys and order", function()
    local d = L.Dense{units = 3, activation = "relu", input_shape = {2}}
    local cfg = d:get_config()
    assert.are.same({"name", "trainable", "batch_input_shape", "dtype", "units", "activation", "use_bias",
      "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
      "activity_regularizer", "kernel_constraint", "bias_constraint"}, getmetatable(cfg).__order)
    assert.are.equal("dense", cfg.name)
    assert.are.equal(true, cfg.trainable)
    assert.are.equal("float32", cfg.dtype)
    assert.are.equal("relu", cfg.activation)
    assert.are.same({N, 2}, cfg.batch_input_shape)
    assert.are.same({class_name = "GlorotUniform", config = {}}, cfg.kernel_initializer)
    assert.are.same({class_name = "Zeros", config = {}}, cfg.bias_initializer)
    -- round trip
    backend.clear_session()
    local d2 = L.Dense:from_config(cfg)
    assert.are.equal("dense", d2.name)
    assert.are.equal(3, d2.units)
    assert.are.equal("GlorotUniform", d2.kernel_initializer.class_name)
  end)

  it("BatchNormalization get_config after build has the positive axis list", function()
    local bn = build(L.BatchNormalization{}, {N, 8, 8, 3})
    assert.are.same({3}, bn:get_config().axis)
    assert.are.equal(-1, L.BatchNormalization{}:get_config().axis)
  end)

  it("mixed precision policy keeps float32 variables", function()
    local d = L.Dense{units = 1, dtype = "mixed_float16"}
    build(d, {N, 2})
    assert.are.equal("float32", d.kernel:dtype())
    assert.are.equal("float16", d.compute_dtype)
    assert.are.equal("mixed_float16", d:get_config().dtype)
    local e = L.Dense{units = 1, dtype = "float64"}
    build(e, {N, 2})
    assert.are.equal("float64", e.kernel:dtype())
  end)

  it("initial weights are set after build", function()
    local d = L.Dense{units = 1, weights = {{{2}, {3}}, {1}}}
    assert.are.same({{9}}, d(wk.tensor{{1, 2}}):totable())
  end)

  it("a layer without forward raises NotImplementedError", function()
    local c = L.Conv2D{filters = 1, kernel_size = 1}
    assert.has_error(function() c(wk.zeros({1, 2, 2, 1})) end)
  end)
end)

--{=====================================================================================================
-- Custom layers from Lua
--======================================================================================================

describe("custom layers", function()
  before_each(function() backend.clear_session() end)

  it("declares weights, names, forward and config", function()
    local MyLayer = L.custom{
      class_name = "MyLayer",
      weights = function(input_shape, config)
        return {
          {name = "w", shape = {input_shape[#input_shape], config.units}, initializer = "ones"},
          {name = "counter", shape = {}, initializer = "zeros", trainable = false},
          {name = "b", shape = {config.units}, initializer = "zeros"},
        }
      end,
      call = function(self, x) return x:matmul(self.w.value) + self.b.value end,
      compute_output_shape = function(self, s) return {s[1], self.config.units} end,
    }
    assert.are.equal(MyLayer, L.get("MyLayer"))
    local m = MyLayer{units = 2}
    assert.are.equal("my_layer", m.name)
    local y = m(wk.tensor{{1, 2, 3}})
    assert.are.same({{6, 6}}, y:totable())
    assert.are.same({{"my_layer/w:0", {3, 2}, T}, {"my_layer/b:0", {2}, T}, {"my_layer/counter:0", {}, F}}, facts(m))
    assert.are.same({N, 2}, m:compute_output_shape({N, 3}))
    local cfg = m:get_config()
    assert.are.equal(2, cfg.units)
    assert.are.equal("my_layer", cfg.name)
    assert.are.equal(9, m:count_params())
  end)
end)

--{=====================================================================================================
-- Output shapes of weightless layers
--======================================================================================================

local SHAPE_FACTS = {
  {"Flatten", {}, {N, 4, 5}, {N, 20}},
  {"Flatten", {}, {N, N, 5}, {N, N}},
  {"Flatten", {}, {N}, {N, 1}},
  {"Reshape", {target_shape = {-1, 2}}, {N, 6}, {N, 3, 2}},
  {"Reshape", {target_shape = {3, 4}}, {N, 12}, {N, 3, 4}},
  {"Reshape", {target_shape = {-1, 2}}, {N, N}, {N, N, 2}},
  {"Permute", {dims = {2, 1}}, {N, 3, 4}, {N, 4, 3}},
  {"RepeatVector", {n = 3}, {N, 5}, {N, 3, 5}},
  {"Dropout", {rate = 0.5}, {N, 7}, {N, 7}},
  {"Activation", {activation = "tanh"}, {N, 7}, {N, 7}},
  {"Masking", {}, {N, 3, 2}, {N, 3, 2}},
  {"Lambda", {output_shape = {4}}, {N, 2}, {N, 4}},
  {"MaxPooling1D", {}, {N, 10, 3}, {N, 5, 3}},
  {"MaxPooling2D", {}, {N, 28, 28, 3}, {N, 14, 14, 3}},
  {"MaxPooling2D", {pool_size = 3, strides = 2, padding = "same"}, {N, 7, 7, 3}, {N, 4, 4, 3}},
  {"AveragePooling2D", {pool_size = 3, strides = 2}, {N, 7, 7, 3}, {N, 3, 3, 3}},
  {"AveragePooling2D", {data_format = "channels_first"}, {N, 3, 8, 6}, {N, 3, 4, 3}},
  {"MaxPooling3D", {}, {N, 4, 4, N, 1}, {N, 2, 2, N, 1}},
  {"GlobalAveragePooling2D", {}, {N, 7, 7, 3}, {N, 3}},
  {"GlobalMaxPooling1D", {data_format = "channels_first"}, {N, 3, 9}, {N, 3}},
  {"GlobalAveragePooling2D", {keepdims = true}, {N, 7, 7, 3}, {N, 1, 1, 3}},
  {"ZeroPadding1D", {padding = 2}, {N, 10, 3}, {N, 14, 3}},
  {"ZeroPadding2D", {padding = 2}, {N, 28, 28, 3}, {N, 32, 32, 3}},
  {"ZeroPadding2D", {padding = {{1, 0}, {2, 3}}}, {N, 28, 28, 3}, {N, 29, 33, 3}},
  {"ZeroPadding3D", {}, {N, 4, 4, 4, 1}, {N, 6, 6, 6, 1}},
  {"Cropping1D", {cropping = {1, 2}}, {N, 10, 3}, {N, 7, 3}},
  {"Cropping2D", {cropping = {{1, 1}, {2, 2}}}, {N, 28, 28, 3}, {N, 26, 24, 3}},
  {"Cropping2D", {cropping = 2, data_format = "channels_first"}, {N, 3, 28, N}, {N, 3, 24, N}},
  {"Cropping3D", {}, {N, 4, 4, 4, 1}, {N, 2, 2, 2, 1}},
  {"UpSampling1D", {}, {N, 5, 2}, {N, 10, 2}},
  {"UpSampling2D", {}, {N, 28, 28, 3}, {N, 56, 56, 3}},
  {"UpSampling2D", {size = {2, 3}}, {N, 4, N, 3}, {N, 8, N, 3}},
  {"UpSampling3D", {}, {N, 1, 2, 3, 4}, {N, 2, 4, 6, 4}},
  {"Concatenate", {}, {{N, 3}, {N, 4}}, {N, 7}},
  {"Concatenate", {axis = 1}, {{N, 2, 3}, {N, 4, 3}}, {N, 6, 3}},
  {"Concatenate", {axis = 1}, {{N, N, 3}, {N, 4, 3}}, {N, N, 3}},
  {"Add", {}, {{N, 3}, {N, 3}}, {N, 3}},
  {"Add", {}, {{N, 1, 3}, {N, 4, 3}}, {N, 4, 3}},
  {"Multiply", {}, {{2, 3}, {2, 3}}, {2, 3}},
  {"Subtract", {}, {{N, 5}, {N, 5}}, {N, 5}},
  {"Average", {}, {{N, 5}, {N, 5}, {N, 5}}, {N, 5}},
  {"Maximum", {}, {{4, 5}, {N, 5}}, {4, 5}},
  {"Minimum", {}, {{N, N}, {N, 5}}, {N, N}},
  {"Dot", {axes = 1}, {{N, 3}, {N, 3}}, {N, 1}},
  {"Dot", {axes = {2, 2}}, {{N, 4, 3}, {N, 5, 3}}, {N, 4, 5}},
  {"ReLU", {}, {N, 3}, {N, 3}},
  {"Softmax", {}, {N, 3}, {N, 3}},
}

describe("output shapes (tf.keras 2.x)", function()
  for i, c in ipairs(SHAPE_FACTS) do
    it(string.format("#%d %s", i, c[1]), function()
      local layer = L[c[1]](c[2])
      build(layer, c[3])
      assert.are.same(c[4], layer:compute_output_shape(c[3]))
      assert.are.same({}, layer:weights())
    end)
  end

  it("Lambda without output_shape warns and passes the shape through; never runs code", function()
    local errors = require "weightkit.errors"
    local lam = L.Lambda{["function"] = {"4wEAAAAAAAAA", N, N}, function_type = "lambda"}
    local warnings, s = errors.capture_warnings(function() return lam:compute_output_shape({N, 3}) end)
    assert.are.same({N, 3}, s)
    assert.are.equal(1, #warnings)
    assert.has_error(function() lam(wk.zeros({1, 3})) end)
    assert.are.same({"4wEAAAAAAAAA", N, N}, lam:get_config()["function"])
  end)

  it("merge and concatenate shape errors", function()
    assert.has_error(function() L.Add{}:compute_output_shape({{N, 3}, {N, 4}}) end,
      "ValueError: Inputs have incompatible shapes. Received shapes (3,) and (4,)")
    assert.has_error(function() L.Concatenate{}:compute_output_shape({{N, 3}, {N, 4, 5}}) end,
      "ValueError: A `Concatenate` layer requires inputs with matching shapes except for the " ..
      "concatenation axis. Received: input_shape=[(None, 3), (None, 4, 5)]")
    assert.has_error(function() build(L.Subtract{}, {{N, 3}, {N, 3}, {N, 3}}) end)
  end)

  it("conv shape errors", function()
    assert.has_error(function() L.Conv2D{filters = 1, kernel_size = 5}:compute_output_shape({N, 3, 3, 1}) end,
      "ValueError: One of the dimensions in the output is <= 0 due to downsampling in conv2d. Consider " ..
      "increasing the input size. Received input shape (None, 3, 3, 1) which would produce output shape " ..
      "with a zero or negative value in a dimension.")
    assert.has_error(function() build(L.Conv2D{filters = 1, kernel_size = 1}, {N, 3, 3, N}) end)
    assert.has_error(function() build(L.Conv2D{filters = 4, kernel_size = 1, groups = 2}, {N, 3, 3, 3}) end)
  end)
end)

--{=====================================================================================================
-- Forwards of other layers
--======================================================================================================

describe("forwards", function()
  it("Activation, ReLU, LeakyReLU, PReLU, Softmax", function()
    local x = wk.tensor{{-2, -0.5, 0, 1, 8}}
    assert.are.same({{0, 0, 0, 1, 8}}, L.Activation{activation = "relu"}(x):totable())
    assert.are.same({{0, 0, 0, 1, 6}}, L.ReLU{max_value = 6}(x):totable())
    assert.is_true(L.LeakyReLU{alpha = 0.1}(x):allclose(wk.tensor{{-0.2, -0.05, 0, 1, 8}}))
    local p = L.PReLU{alpha_initializer = wk.initializers.Constant(0.25)}
    assert.is_true(p(x):allclose(wk.tensor{{-0.5, -0.125, 0, 1, 8}}))
    local s = L.Softmax{}(wk.tensor{{0, 0}}):totable()
    assert.are.same({{0.5, 0.5}}, s)
  end)

  it("BatchNormalization inference", function()
    local bn = L.BatchNormalization{epsilon = 0}
    bn(wk.zeros({1, 2}))
    bn:set_weights({{2, 1}, {1, 0}, {1, 3}, {4, 1}})
    local y = bn(wk.tensor{{3, 5}}):totable()
    assert.are.same({{2 * (3 - 1) / 2 + 1, (5 - 3) / 1}}, y)
  end)

  it("LayerNormalization over the last axis", function()
    local ln = L.LayerNormalization{}
    local y = ln(wk.tensor{{1, 3}, {2, 2}}):totable()
    local v = 1 / math.sqrt(1 + 1e-3)
    assert.is_true(math.abs(y[1][1] + v) < 1e-6 and math.abs(y[1][2] - v) < 1e-6)
    assert.are.same({0, 0}, y[2])
  end)

  it("Embedding gathers rows", function()
    local e = L.Embedding{input_dim = 3, output_dim = 2}
    e(wk.tensor({{0}}, "int32"))
    e:set_weights({{{0, 1}, {2, 3}, {4, 5}}})
    assert.are.same({{{4, 5}, {0, 1}}}, e(wk.tensor({{2, 0}}, "int32")):totable())
  end)

  it("Flatten, Reshape, Permute, RepeatVector, merges, Concatenate", function()
    local x = wk.tensor{{{1, 2}, {3, 4}}}
    assert.are.same({{1, 2, 3, 4}}, L.Flatten{}(x):totable())
    assert.are.same({{1, 3, 2, 4}}, L.Flatten{data_format = "channels_first"}(x):totable())
    assert.are.same({{{1, 2, 3, 4}}}, L.Reshape{target_shape = {1, -1}}(x):totable())
    assert.are.same({{{1, 3}, {2, 4}}}, L.Permute{dims = {2, 1}}(x):totable())
    assert.are.same({{{1, 2}, {1, 2}}}, L.RepeatVector{n = 2}(wk.tensor{{1, 2}}):totable())
    local a, b = wk.tensor{{1, 5}}, wk.tensor{{3, 2}}
    assert.are.same({{4, 7}}, L.Add{}({a, b}):totable())
    assert.are.same({{-2, 3}}, L.Subtract{}({a, b}):totable())
    assert.are.same({{3, 10}}, L.Multiply{}({a, b}):totable())
    assert.are.same({{2, 3.5}}, L.Average{}({a, b}):totable())
    assert.are.same({{3, 5}}, L.Maximum{}({a, b}):totable())
    assert.are.same({{1, 2}}, L.Minimum{}({a, b}):totable())
    assert.are.same({{1, 5, 3, 2}}, L.Concatenate{}({a, b}):totable())
    assert.are.same({{1, 5}, {3, 2}}, L.Concatenate{axis = 0}({a, b}):totable())
  end)
end)
