--[[
file_keras3_spec.lua — wk.open on a Keras 3 `.weights.h5` file (format "keras3-weights-h5"): the real
k3_dense_adam.weights.h5 against expected/k3_dense_adam.weights.h5.json (every dataset's shape, dtype and
sha256), its layers (one per `vars` group, named by the parent's path, the root's as ""), weights "0", "1",
... in numeric order, lazy and eager opens.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local decode = require "support.json_decode"

local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local K3 = REAL .. "/k3_dense_adam.weights.h5"

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local facts = decode(read_all(REAL .. "/expected/k3_dense_adam.weights.h5.json"))
local by_path = {}
for _, v in ipairs(facts.weights.variables) do by_path[v.path] = v end

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

describe("a Keras 3 .weights.h5 file", function()
  for _, lazy in ipairs({ true, false }) do
    local mode = lazy and "lazy" or "eager"

    it("opens as keras3-weights-h5 (" .. mode .. ") with the layers the file holds", function()
      local file <close> = assert(wk.open(K3, { lazy = lazy }))
      assert.are.equal("keras3-weights-h5", file.format)
      assert.is_nil(file.keras_version)
      assert.is_nil(file.backend)
      assert.is_nil(file.warning)
      assert.is_nil(file.top_level_weights)
      assert.is_nil(file.optimizer_weights)
      -- the groups named `vars` in the expected facts, named by their parent's path
      local want = {}
      for _, g in ipairs(facts.weights.groups) do
        if g == "vars" then want[#want + 1] = "" elseif g:sub(-5) == "/vars" then want[#want + 1] = g:sub(1, -6) end
      end
      table.sort(want)
      assert.are.same({ "", "layers/dense", "optimizer" }, want)
      -- the root's own `vars` first, then depth-first in link-name order
      assert.are.same(want, file:layer_names())
      local names = {}
      for i, layer in ipairs(file:layers()) do names[i] = layer.name end
      assert.are.same(want, names)
    end)

    it("lists weights 0, 1, ... whose tensors match the expected sha256 (" .. mode .. ")", function()
      local file <close> = assert(wk.open(K3, { lazy = lazy }))
      local seen = 0
      for _, layer in ipairs(file:layers()) do
        for i, w in ipairs(layer.weights) do
          assert.are.equal(tostring(i - 1), w.name)
          assert.are.equal(layer.name, w.layer)
          local v = by_path[w.path]
          assert.is_not_nil(v, w.path)
          assert.are.equal(v.dtype, w.dtype)
          assert.is_true(same_shape(v.shape, w.shape), w.path)
          assert.are.equal(v.sha256, core.tensor_sha256(w.tensor), w.path)
          seen = seen + 1
        end
      end
      assert.are.equal(#facts.weights.variables, seen)
      assert.are.equal(0, #file:layers()[1].weights)
      assert.are.equal(2, #file:layers()[2].weights)
      assert.are.equal(6, #file:layers()[3].weights)
    end)
  end

  it("reads by layer and weight name, and lists every dataset", function()
    local file <close> = assert(wk.open(K3))
    local it = file:get("optimizer", "0")
    assert.are.equal("int64", it:dtype())
    assert.are.equal(by_path["optimizer/vars/0"].sum, it:item())
    assert.are.equal(by_path["layers/dense/vars/0"].sha256, core.tensor_sha256(file:get("layers/dense", "0")))
    assert.is_nil(file:get("layers/dense", "kernel"))
    local tensors = file:tensors()
    assert.are.equal(#facts.weights.variables, #tensors)
    for _, d in ipairs(tensors) do
      assert.are.equal(by_path[d.path].sha256, core.tensor_sha256(d.tensor), d.path)
    end
  end)
end)

describe("wk.open on a .keras archive", function()
  local wk = require "weightkit"
  local REAL_DIR = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

  it("exposes the archive's members and reads metadata.json and config.json", function()
    local f <close> = assert(wk.open(REAL_DIR .. "/k315_nested_container.keras"))
    assert.are.equal("keras-zip", f.format)
    local names = {}
    for i, m in ipairs(f:members()) do names[i] = m.name end
    assert.are.same({ "metadata.json", "config.json", "model.weights.h5" }, names)
    local meta = require("weightkit.json").decode(f:member("metadata.json"))
    assert.are.equal("3.15.0", meta.keras_version)
    assert.are.equal(362, #f:member("config.json"))
    assert.has_error(function() f:member("nope.json") end)
  end)

  it("a plain HDF5 file has no members", function()
    local f <close> = assert(wk.open(REAL_DIR .. "/k3_dense_adam.weights.h5"))
    assert.are.same({}, f:members())
  end)
end)
