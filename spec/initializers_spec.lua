--[[
Specs for weightkit.initializers. Keras facts (tf_keras initializers_v2), stated as data:
  - fans: (a, b) -> fan_in a, fan_out b; conv kernel (3, 3, 16, 32) -> fan_in 144, fan_out 288; rank 1
    (n) -> n, n.
  - GlorotUniform limit = sqrt(6 / (fan_in + fan_out)); HeNormal: truncated normal whose stddev after
    truncation is sqrt(2 / fan_in) (stddev parameter sqrt(2 / fan_in) / .87962566103423978, cut at 2 of it);
    LecunUniform limit sqrt(3 / fan_in); VarianceScaling untruncated_normal stddev sqrt(scale / fan).
  - Orthogonal: W^T W = gain^2 I for tall W; Identity: gain * I; Constant(v) fills v.
  - get_config: GlorotUniform {seed}, VarianceScaling {scale, mode, distribution, seed},
    RandomUniform {minval = -0.05, maxval = 0.05, seed}.
]]
local wk = require "weightkit"
local I = wk.initializers

local function stats(t)
  local vals = t:reshape({-1})
  local n = vals:numel()
  local sum, sq, lo, hi = 0, 0, math.huge, -math.huge
  for i = 1, n do
    local v = vals:get(i)
    sum = sum + v; sq = sq + v * v
    if v < lo then lo = v end
    if v > hi then hi = v end
  end
  local mean = sum / n
  return mean, math.sqrt(sq / n - mean * mean), lo, hi
end

describe("initializers", function()
  it("computes fans like Keras", function()
    assert.are.same({3, 4}, {I.compute_fans({3, 4})})
    assert.are.same({144, 288}, {I.compute_fans({3, 3, 16, 32})})
    assert.are.same({5, 5}, {I.compute_fans({5})})
    assert.are.same({1, 1}, {I.compute_fans({})})
  end)

  it("zeros, ones, constant", function()
    assert.are.same({{0, 0}, {0, 0}}, I.Zeros()({2, 2}):totable())
    assert.are.same({1, 1, 1}, I.get("ones")({3}):totable())
    assert.are.same({{2.5, 2.5}}, I.Constant(2.5)({1, 2}):totable())
    assert.are.same({{2.5}}, I.Constant{value = 2.5}({1, 1}):totable())
    assert.are.equal("float32", I.Zeros()({2}):dtype())
    assert.are.equal("float64", I.Ones()({2}, "float64"):dtype())
  end)

  it("glorot uniform stays within its bound and fills it", function()
    local t = I.GlorotUniform{seed = 1}({100, 200})
    local limit = math.sqrt(6 / 300)
    local mean, std, lo, hi = stats(t)
    assert.is_true(lo >= -limit - 1e-6 and hi <= limit + 1e-6)
    assert.is_true(hi > 0.98 * limit and lo < -0.98 * limit)
    assert.is_true(math.abs(mean) < 0.01)
    assert.is_true(math.abs(std - limit / math.sqrt(3)) < 0.03 * limit)
  end)

  it("he normal has stddev sqrt(2 / fan_in) after truncation at 2 sigma", function()
    local t = I.HeNormal(3)({400, 300})
    local target = math.sqrt(2 / 400)
    local mean, std, lo, hi = stats(t)
    assert.is_true(math.abs(mean) < 0.05 * target)
    assert.is_true(math.abs(std - target) < 0.04 * target, "std " .. std .. " vs " .. target)
    local cut = 2 * target / .87962566103423978
    assert.is_true(lo >= -cut - 1e-6 and hi <= cut + 1e-6)
  end)

  it("lecun uniform and variance scaling untruncated normal", function()
    local _, _, lo, hi = stats(I.LecunUniform(1)({50, 20}))
    local limit = math.sqrt(3 / 50)
    assert.is_true(lo >= -limit - 1e-6 and hi <= limit + 1e-6)
    local vs = I.VarianceScaling{scale = 2.0, mode = "fan_out", distribution = "untruncated_normal", seed = 2}
    local _, std = stats(vs({300, 400}))
    assert.is_true(math.abs(std - math.sqrt(2 / 400)) < 0.04 * math.sqrt(2 / 400))
  end)

  it("orthogonal gives orthonormal columns scaled by gain", function()
    local w = I.Orthogonal{gain = 2.0, seed = 5}({50, 30})
    local g = w:transpose():matmul(w)
    local eye = I.Identity{gain = 4.0}({30, 30})
    assert.is_true(g:allclose(eye, 1e-4, 1e-4))
    local w2 = I.get("orthogonal")({30, 50})
    assert.is_true(w2:matmul(w2:transpose()):allclose(I.Identity()({30, 30}), 1e-4, 1e-4))
    local k = I.Orthogonal{seed = 1}({3, 3, 4, 8})
    assert.are.same({3, 3, 4, 8}, k:shape())
  end)

  it("orthogonal / identity reject the ranks Keras rejects", function()
    assert.has_error(function() I.Orthogonal()({4}) end,
      "ValueError: The tensor to initialize must be at least two-dimensional. Received: shape=(4,) of rank 1.")
    assert.has_error(function() I.Identity()({2, 2, 2}) end,
      "ValueError: Identity matrix initializer can only be used for 2D matrices. Received: shape=(2, 2, 2) of rank 3.")
  end)

  it("seeded initializers repeat, unseeded ones advance the backend rng", function()
    local a = I.RandomNormal{seed = 7}({4, 4})
    local b = I.RandomNormal{seed = 7}({4, 4})
    assert.are.same(a:totable(), b:totable())
    local u = I.RandomUniform()
    assert.are_not.same(u({4, 4}):totable(), u({4, 4}):totable())
    wk.backend.set_seed(11)
    local c = I.GlorotNormal()({3, 3}):totable()
    wk.backend.set_seed(11)
    assert.are.same(c, I.GlorotNormal()({3, 3}):totable())
  end)

  it("get accepts names, objects, serialized dicts and rejects typos", function()
    assert.are.equal("GlorotUniform", I.get("glorot_uniform").class_name)
    assert.are.equal("RandomUniform", I.get("uniform").class_name)
    assert.are.equal("HeNormal", I.get("HeNormal").class_name)
    local obj = I.Ones()
    assert.are.equal(obj, I.get(obj))
    local vs = I.get({class_name = "VarianceScaling", config = {scale = 2.0, mode = "fan_avg",
      distribution = "normal", seed = 3}})
    assert.are.same({scale = 2.0, mode = "fan_avg", distribution = "truncated_normal", seed = 3}, vs:get_config())
    assert.is_nil(I.get(nil))
    assert.is_nil(I.get(false))
    assert.are.same({{3, 4}}, I.get(wk.tensor{{3, 4}})({1, 2}):totable())
    assert.has_error(function() I.get("typo") end)
  end)

  it("get_config matches Keras", function()
    assert.are.same({seed = 4}, I.GlorotUniform{seed = 4}:get_config())
    assert.are.same({minval = -0.05, maxval = 0.05}, I.RandomUniform():get_config())
    assert.are.same({scale = 1.0, mode = "fan_in", distribution = "truncated_normal"}, I.VarianceScaling():get_config())
    assert.are.same({value = 0}, I.Constant():get_config())
    local s = I.serialize(I.HeUniform())
    assert.are.equal("HeUniform", s.class_name)
  end)

  it("validates VarianceScaling arguments", function()
    assert.has_error(function() I.VarianceScaling{scale = -1} end,
      "ValueError: Argument `scale` must be positive float. Received: scale=-1")
    assert.has_error(function() I.VarianceScaling{mode = "fan_x"} end)
    assert.has_error(function() I.VarianceScaling{distribution = "cauchy"} end)
  end)
end)
