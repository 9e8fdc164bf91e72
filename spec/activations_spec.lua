--[[
Specs for weightkit.activations against their formulas (tf.keras 2.x definitions):
relu max(x, 0); sigmoid 1 / (1 + e^-x); tanh; softmax along the last axis; gelu exact
0.5 x (1 + erf(x / sqrt 2)) (tf.keras default approximate=False); elu x > 0 ? x : e^x - 1;
selu 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 (e^x - 1)); softplus log(1 + e^x);
swish x * sigmoid(x); linear x.
]]
local wk = require "weightkit"
local A = wk.activations

-- erf by Abramowitz & Stegun 7.1.26 refined with a series for small |x| (|error| < 2e-7 is enough here).
local function erf(x)
  local s = x < 0 and -1 or 1
  x = math.abs(x)
  if x < 2 then
    local term, sum, n = x, x, 0
    repeat
      n = n + 1
      term = -term * x * x / n
      local add = term / (2 * n + 1)
      sum = sum + add
    until math.abs(add) < 1e-16
    return s * 2 / math.sqrt(math.pi) * sum
  end
  local t = 1 / (1 + 0.3275911 * x)
  local y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
    * t * math.exp(-x * x)
  return s * y
end

local function sig(x) return 1 / (1 + math.exp(-x)) end

local FORMULAS = {
  linear = function(x) return x end,
  relu = function(x) return math.max(x, 0) end,
  sigmoid = sig,
  tanh = function(x) return (math.exp(x) - math.exp(-x)) / (math.exp(x) + math.exp(-x)) end,
  gelu = function(x) return 0.5 * x * (1 + erf(x / math.sqrt(2))) end,
  elu = function(x) return x > 0 and x or math.exp(x) - 1 end,
  selu = function(x)
    return 1.0507009873554805 * (x > 0 and x or 1.6732632423543772 * (math.exp(x) - 1))
  end,
  softplus = function(x) return math.log(1 + math.exp(x)) end,
  swish = function(x) return x * sig(x) end,
}

local XS = {-3.5, -1, -0.25, 0, 0.3, 1, 2.75}

local function check(name, got, want_fn)
  for i, x in ipairs(XS) do
    local want = want_fn(x)
    local g = got[1][i]
    assert.is_true(math.abs(g - want) <= 1e-5 + 1e-5 * math.abs(want),
      string.format("%s(%g) = %.9g, want %.9g", name, x, g, want))
  end
end

describe("activations", function()
  local x = wk.tensor({XS})
  for name, fn in pairs(FORMULAS) do
    it(name .. " matches its formula", function()
      check(name, A.get(name)(x):totable(), fn)
      assert.are.equal(name, A.get(name).activation_name)
    end)
  end

  it("softmax normalizes the last axis", function()
    local y = A.softmax(wk.tensor({{1, 2, 3}, {0, 0, 0}})):totable()
    local e = {math.exp(1), math.exp(2), math.exp(3)}
    local s = e[1] + e[2] + e[3]
    for j = 1, 3 do
      assert.is_true(math.abs(y[1][j] - e[j] / s) < 1e-6)
      assert.is_true(math.abs(y[2][j] - 1 / 3) < 1e-6)
    end
  end)

  it("get(nil) is linear and unknown names raise", function()
    assert.are.equal("linear", A.get(nil).activation_name)
    assert.has_error(function() A.get("nope") end)
    assert.are.equal("relu", A.get({class_name = "function", config = "relu"}).activation_name)
  end)

  it("extra activations: softsign, relu6, hard_sigmoid, elu alpha", function()
    local t = wk.tensor({{-8, -1, 0, 1, 8}})
    assert.is_true(A.relu6(t):allclose(wk.tensor({{0, 0, 0, 1, 6}})))
    assert.is_true(A.softsign(t):allclose(wk.tensor({{-8 / 9, -0.5, 0, 0.5, 8 / 9}})))
    assert.is_true(A.hard_sigmoid(t):allclose(wk.tensor({{0, 0.3, 0.5, 0.7, 1}})))
    assert.is_true(A.elu(t, 2.0):allclose(wk.tensor({{2 * (math.exp(-8) - 1), 2 * (math.exp(-1) - 1), 0, 1, 8}})))
  end)
end)
