--[[
weightkit.keras3.paths: the Keras 3.1+ object walk of Lua models, checked against the group lists of
real Keras 3 files (expected/*.json of ../shared/fixtures/real) and against the walk rules of
keras-formats.md §4.1.
]]
local wk = require "weightkit"
local paths = require "weightkit.keras3.paths"
local K = require "support.keras3_models"

local L = wk.layers

local function walk_table(model)
  local t = {}
  for _, o in ipairs(paths.objects(model)) do
    local shapes = {}
    for i, v in ipairs(o.variables) do shapes[i] = v:shape() end
    t[o.path] = shapes
  end
  return t
end

-- The fixture's groups (minus `optimizer` and metrics) with their variable shapes.
local function fixture_table(name)
  local groups = K.expected_groups(name)
  local t = {}
  for p, vars in pairs(groups) do
    if p ~= "optimizer" and not p:match("^metrics/") then
      local shapes = {}
      for i, v in ipairs(vars) do shapes[i] = v.shape end
      t[p] = shapes
    end
  end
  return t
end

local function only_weighted(t)
  local r = {}
  for p, s in pairs(t) do if #s > 0 then r[p] = s end end
  return r
end

describe("keras3.paths", function()
  before_each(function() wk.backend.clear_session() end)

  it("snake-cases class names as Keras 3 does", function()
    local cases = {
      Dense = "dense", Conv2D = "conv2d", Conv2DTranspose = "conv2d_transpose",
      BatchNormalization = "batch_normalization", LSTM = "lstm", GRUCell = "gru_cell",
      InputLayer = "input_layer", Functional = "functional", ConvLSTM2D = "conv_lstm2d",
      MultiHeadAttention = "multi_head_attention", PReLU = "p_re_lu", EinsumDense = "einsum_dense",
    }
    for class, want in pairs(cases) do assert.equal(want, paths.to_snake_case(class), class) end
  end)

  it("walks the k392 hybrid model (Keras 3.9.2) to exactly the file's groups and shapes", function()
    -- Keras 3.9 wrote a vars group for every saveable, weightless ones included
    assert.same(fixture_table("k392_hybrid_conv1d_bilstm_bn.keras"), walk_table(K.k392()))
  end)

  it("walks k392's object names as the file's `name` attributes, modulo auto-numbering", function()
    local _, w = K.expected_groups("k392_hybrid_conv1d_bilstm_bn.keras")
    for _, o in ipairs(paths.objects(K.k392())) do
      local attr = w.group_attrs[(o.path == "" and "" or o.path .. "/") .. "vars"]
      assert.is_not_nil(attr, o.path)
      -- Keras numbers names per session ("dense_55"); ours start afresh: compare without the number
      assert.equal(attr.name:gsub("_%d+$", ""), o.name:gsub("_%d+$", ""), o.path)
    end
  end)

  it("walks the tf.keras 2.15 Windows file's layers (backslashes normalized)", function()
    assert.same(only_weighted(fixture_table("k2150_windows_backslash_dense.keras")),
      only_weighted(walk_table(K.k2150())))
    assert.is_not_nil(walk_table(K.k2150())["layers/flatten"])
  end)

  it("walks k3_dense_adam's Dense", function()
    assert.same(fixture_table("k3_dense_adam.weights.h5"), walk_table(K.k3_dense_adam()))
  end)

  it("keeps a Functional's InputLayer, numbers repeated classes, nests models", function()
    local x = L.Input{shape = {4}}
    local inner_in = L.Input{shape = {4}}
    local inner = wk.Model{inner_in, L.Dense{2}(L.Dense{3}(inner_in))}
    local y = L.Dense{4}(x)
    local m = wk.Model{x, inner(L.Dense{4}(y))}
    local order = {}
    for i, o in ipairs(paths.objects(m)) do order[i] = o.path end
    assert.same({"", "layers/input_layer", "layers/dense", "layers/dense_1", "layers/functional",
      "layers/functional/layers/input_layer", "layers/functional/layers/dense",
      "layers/functional/layers/dense_1"}, order)
  end)

  it("visits a shared layer once, at its first path", function()
    local x = L.Input{shape = {4}}
    local d = L.Dense{4}
    local m = wk.Model{x, d(d(x))}
    local n = 0
    for _, o in ipairs(paths.objects(m)) do if o.layer == d then n = n + 1 end end
    assert.equal(1, n)
  end)

  it("uses Keras 3's attribute names for TimeDistributed and MultiHeadAttention, private last", function()
    local x = L.Input{shape = {5, 8}}
    local y = L.MultiHeadAttention{num_heads = 2, key_dim = 4}(x, x)
    local m = wk.Model{x, L.TimeDistributed{L.Dense{3}}(y)}
    local got = {}
    for _, o in ipairs(paths.objects(m)) do got[#got + 1] = o.path .. ":" .. #o.variables end
    assert.same({":0", "layers/input_layer:0", "layers/multi_head_attention:0",
      "layers/multi_head_attention/_dropout_layer:0", "layers/multi_head_attention/_key_dense:2",
      "layers/multi_head_attention/_output_dense:2", "layers/multi_head_attention/_query_dense:2",
      "layers/multi_head_attention/_softmax:0", "layers/multi_head_attention/_value_dense:2",
      "layers/time_distributed:0", "layers/time_distributed/layer:2"}, got)
  end)

  it("stores own variables only: trainable then non-trainable, frozen or not", function()
    local m = wk.Sequential{L.Input{shape = {3}}, L.BatchNormalization{}}
    m.layers[1]:set_trainable(false)
    local objs = paths.objects(m)
    local names = {}
    for i, v in ipairs(objs[2].variables) do names[i] = paths.variable_name(v) end
    assert.same({"gamma", "beta", "moving_mean", "moving_variance"}, names)
    assert.same({}, objs[1].variables)
  end)

  it("uses an opaque layer's keras3_objects() instead of walking it", function()
    local Opaque = wk.layers.custom{class_name = "Blob"}
    local blob = Opaque{}
    blob.built = true
    local v = {name = "w:0", path = "blob/w"}
    function blob:keras3_objects()
      return { {path = "", name = "blob", variables = {}}, {path = "inner/dense", name = "d", variables = {v}} }
    end
    local m = wk.Sequential{L.Input{shape = {3}}, blob}
    local got = {}
    for _, o in ipairs(paths.objects(m)) do got[#got + 1] = o.path end
    assert.same({"", "layers/blob", "layers/blob/inner/dense"}, got)
  end)

  it("refuses a layer whose tracked sublayers it cannot place", function()
    local Outer = wk.layers.custom{class_name = "Outer"}
    local o = Outer{}
    o:track(L.Dense{2})
    o.built = true
    local m = wk.Sequential{L.Input{shape = {3}}, o}
    local ok, err = pcall(paths.objects, m)
    assert.is_false(ok)
    assert.matches("^NotImplementedError: Keras 3 object path unknown for sublayer 'dense' %(Dense%) of " ..
      "layer 'outer' %(Outer%)", err)
  end)
end)
