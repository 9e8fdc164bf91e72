--[[
Specs for weightkit.sequential. Keras facts used (tf.keras 2.x sequential.py), stated as data:
  - auto-names: "sequential", "sequential_1", ...; layers "dense", "dense_1", ... (counters reset by
    clear_session).
  - a first layer with input_shape/batch_input_shape/input_dim makes an InputLayer named
    "<layer name>_input" (no counter consumed) and builds at once; model.layers excludes the InputLayer;
    an Input tensor/InputLayer as first element is used as is (auto-named "input_1").
  - without an input shape the model is deferred: no weights until build(shape) or a first call; the
    inferred graph is built outside any name scope, so weights are "dense/kernel:0" (tensorflow#29576).
  - errors: 'All layers added to a Sequential model should have unique names. Name "x" is already the
    name of a layer in this model. Update the `name` argument to pass a unique name.';
    pop on an empty model: TypeError 'There are no layers in the model.'
]]
local wk = require "weightkit"
local L = wk.layers

local function names(list)
  local r = {}
  for i, x in ipairs(list) do r[i] = x.name end
  return r
end

before_each(function() wk.backend.clear_session() end)

describe("Sequential", function()
  it("auto-names after clear_session: sequential, dense, dense_1", function()
    local m = wk.Sequential{L.Dense{units = 2, input_shape = {3}}, L.Dense{units = 1}}
    assert.are.equal("sequential", m.name)
    assert.are.equal("Sequential", m.class_name)
    assert.are.same({"dense", "dense_1"}, names(m.layers))
    assert.are.same({"dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"},
      names(m:weights()))
    assert.are.equal("sequential_1", wk.Sequential{}.name)
    wk.backend.clear_session()
    assert.are.equal("sequential", wk.Sequential{name = nil}.name)
    assert.are.equal("dense", L.Dense{units = 1}.name)
  end)

  it("input_shape on the first layer: a hidden InputLayer named <layer>_input", function()
    local m = wk.Sequential{L.Dense{units = 4, input_shape = {3}, name = "fc"}, L.Dense{units = 2}}
    assert.is_true(m.built)
    assert.are.same({"fc", "dense"}, names(m.layers))
    assert.are.equal("fc_input", m._layers[1].name)
    assert.are.equal("InputLayer", m._layers[1].class_name)
    assert.are.equal("fc_input", select(1, m.inputs[1]:keras_history()).name)
    assert.are.same({false, 2}, m.outputs[1]:shape())
    assert.are.equal(3 * 4 + 4 + 4 * 2 + 2, m:count_params())
    -- no "input" counter was consumed
    assert.are.equal("input_1", select(1, L.Input{shape = {1}}:keras_history()).name)
    -- input_dim and batch_input_shape work the same way
    local m2 = wk.Sequential{L.Dense{units = 1, input_dim = 5}}
    assert.are.same({false, 5}, m2.inputs[1]:shape())
    local m3 = wk.Sequential{L.Dense{units = 1, batch_input_shape = {8, 5}}}
    assert.are.same({8, 5}, m3.inputs[1]:shape())
  end)

  it("an Input tensor (or InputLayer) first: used as is, not listed in layers", function()
    local m = wk.Sequential{L.Input{shape = {3}}, L.Dense{units = 2}}
    assert.are.same({"dense"}, names(m.layers))
    assert.are.same({"input_1", "dense"}, names(m._layers))
    local m2 = wk.Sequential{L.InputLayer{input_shape = {3}, name = "in"}, L.Dense{units = 2}}
    assert.are.same({"dense_1"}, names(m2.layers))
    assert.are.equal("in", m2._layers[1].name)
    -- both layouts give the same weights
    assert.are.same({"dense/kernel:0", "dense/bias:0"}, names(m:weights()))
    assert.are.same(m:get_weights()[1]:shape(), m2:get_weights()[1]:shape())
  end)

  it("add and pop", function()
    local m = wk.Sequential{L.Input{shape = {3}}}
    assert.are.same({}, m.layers)
    m:add(L.Dense{units = 4})
    m:add(L.Dense{units = 2})
    assert.are.same({"dense", "dense_1"}, names(m.layers))
    assert.are.same({false, 2}, m.outputs[1]:shape())
    local popped = m:pop()
    assert.are.equal("dense_1", popped.name)
    assert.are.same({"dense"}, names(m.layers))
    assert.are.same({false, 4}, m.outputs[1]:shape())
    assert.are.same({"dense/kernel:0", "dense/bias:0"}, names(m:weights()))
    m:pop()
    assert.are.same({}, m.layers)
    assert.is_false(m.built)
    assert.has_error(function() m:pop() end, "TypeError: There are no layers in the model.")
  end)

  it("add errors: non-layers and duplicate names", function()
    local m = wk.Sequential{L.Dense{units = 2, name = "a", input_shape = {2}}}
    assert.has_error(function() m:add(L.Dense{units = 2, name = "a"}) end,
      'ValueError: All layers added to a Sequential model should have unique names. Name "a" is already the ' ..
      "name of a layer in this model. Update the `name` argument to pass a unique name.")
    local ok, err = pcall(m.add, m, 42)
    assert.is_false(ok)
    assert.matches("^TypeError: The added layer must be an instance of class Layer. Found: 42", err)
  end)

  it("deferred: no weights until build(shape); names without a model prefix", function()
    local m = wk.Sequential{L.Dense{units = 2}, L.Dense{units = 1}}
    assert.is_false(m.built)
    assert.are.same({}, m:weights())
    assert.has_error(function() m:summary{print_fn = false} end)
    m:build({false, 3})
    assert.is_true(m.built)
    assert.are.same({"dense", "dense_1"}, names(m.layers))
    assert.are.equal("dense_input", m._layers[1].name)
    assert.are.same({"dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"},
      names(m:weights()))
    assert.are.same({3, 2}, m:get_weights()[1]:shape())
  end)

  it("deferred: built by the first concrete call, rebuilt on a relaxed shape", function()
    local m = wk.Sequential{L.Dense{units = 2, kernel_initializer = "ones"}}
    local y = m(wk.ones({2, 3}))
    assert.are.same({{3, 3}, {3, 3}}, y:totable())
    assert.is_true(m.built)
    assert.are.equal("dense/kernel:0", m:weights()[1].name)
    assert.are.same({2, 3}, m.inputs[1]:shape())
    m(wk.ones({5, 3}))
    assert.are.same({false, 3}, m.inputs[1]:shape())
    assert.are.equal(1, #m.layers[1]._inbound_nodes)    -- the previous inference's node was dropped
  end)

  it("deferred: a symbolic call builds it; it nests in a functional model", function()
    local seq = wk.Sequential{L.Dense{units = 2, use_bias = false}}
    local x = L.Input{shape = {2}}
    local y = L.Dense{units = 1, use_bias = false}(seq(x))
    local m = wk.Model{x, y}
    assert.are.same({"input_1", "sequential", "dense_1"}, names(m.layers))
    assert.are.same({"dense/kernel:0", "dense_1/kernel:0"}, names(m:weights()))
    m:set_weights({{{1, 0}, {0, 1}}, {{2}, {3}}})
    assert.are.same({{2 * 1 + 3 * 2}}, m(wk.tensor{{1, 2}}):totable())
  end)

  it("a nested model as first layer lends its input shape (through its layers[1])", function()
    local inner = wk.Sequential{L.Dense{units = 2, input_shape = {3}}}           -- sequential
    local outer = wk.Sequential{inner, L.Dense{units = 1}}                        -- sequential_1
    assert.is_true(outer.built)
    assert.are.equal("sequential_input", outer._layers[1].name)
    assert.are.same({"sequential", "dense_1"}, names(outer.layers))
    assert.are.same({"dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"},
      names(outer:weights()))
    -- a Sequential started from an Input has no shape on its layers[1]: the outer one is deferred
    local inner2 = wk.Sequential{L.Input{shape = {3}}, L.Dense{units = 2}}
    local outer2 = wk.Sequential{inner2}
    assert.is_false(outer2.built)
    -- a functional model's layers[1] is its InputLayer
    local x = L.Input{shape = {4}}
    local f = wk.Model{x, L.Dense{units = 2}(x)}
    local outer3 = wk.Sequential{f}
    assert.is_true(outer3.built)
    assert.are.same({false, 4}, outer3.inputs[1]:shape())
  end)

  it("the inferred build ignores enclosing name scopes (tf.keras init_scope)", function()
    local m = wk.Sequential{L.Dense{units = 2}}
    wk.backend.with_name_scope("outer", function() m:build({false, 3}) end)
    assert.are.equal("dense/kernel:0", m:weights()[1].name)
  end)

  it("two-layer MLP forward against a hand-computed result", function()
    local m = wk.Sequential{L.Dense{units = 2, activation = "relu", input_shape = {3}}, L.Dense{units = 1}}
    m:set_weights({{{1, 2}, {3, 4}, {5, 6}}, {0.5, -1}, {{1}, {-1}}, {0.25}})
    -- [1,0,-1] -> relu([-3.5,-5]) = [0,0] -> 0.25 ; [2,1,0] -> relu([5.5,7]) -> 5.5 - 7 + 0.25 = -1.25
    local y = m(wk.tensor{{1, 0, -1}, {2, 1, 0}})
    assert.is_true(y:allclose(wk.tensor{{0.25}, {-1.25}}, 0, 1e-6))
  end)

  it("set_weights errors name the Sequential", function()
    local m = wk.Sequential{L.Dense{units = 1, input_shape = {2}}}
    assert.has_error(function() m:set_weights({wk.zeros({3, 1}), wk.zeros({1})}) end,
      "ValueError: Layer sequential weight shape (2, 1) is not compatible with provided weight shape (3, 1).")
  end)

  it("summary hides the InputLayer", function()
    local m = wk.Sequential{L.Dense{units = 4, input_shape = {3}}, L.Dense{units = 1}}
    local text = m:summary{print_fn = false}
    assert.truthy(text:find('^Model: "sequential"\n'))
    assert.falsy(text:find("InputLayer", 1, true))
    assert.truthy(text:find("\ndense (Dense)                (None, 4)                 16        \n", 1, true))
    assert.truthy(text:find("Total params: 21\n", 1, true))
  end)
end)

-- Sequential:add extends a chain in O(1) instead of mapping the whole graph again (sequential.lua
-- header); whatever the path taken, the model must hold what tf.keras's full mapping gives.
describe("Sequential: add without re-mapping the graph", function()
  local Model = require "weightkit.model"

  local function assert_fully_mapped(m)
    local by_depth, keys = m:_graph_by_depth()
    local nodes, full_by_depth, full_keys, layers = Model.map_graph_network(m.inputs, m.outputs)
    assert.are.same(names(layers), names(m._layers))
    for i = 1, #layers do assert.are.equal(layers[i], m._layers[i]) end
    assert.are.same(full_keys, keys)
    for _, d in ipairs(full_keys) do
      assert.are.equal(#full_by_depth[d], #by_depth[d])
      for j, n in ipairs(full_by_depth[d]) do assert.are.equal(n, by_depth[d][j]) end
    end
    for n in pairs(nodes) do assert.is_true(m._network_nodes[n]) end
    for n in pairs(m._network_nodes) do assert.is_true(nodes[n]) end
  end

  it("adds, pops and forward passes in between", function()
    local m = wk.Sequential{L.Dense{units = 3, input_shape = {2}}}
    m:add(L.Dense{units = 4})
    m:add(L.Activation{"relu"})
    assert.are.same({"dense", "dense_1", "activation"}, names(m.layers))
    assert_fully_mapped(m)
    assert.are.same({false, 4}, m:compute_output_shape({false, 2}))
    assert.are.same({5, 4}, m(wk.ones({5, 2})):shape())
    m:add(L.Dense{units = 1})
    assert.are.same({5, 1}, m(wk.ones({5, 2})):shape())
    assert_fully_mapped(m)
    m:pop()
    m:add(L.Dense{units = 6})
    assert.are.same({"dense", "dense_1", "activation", "dense_3"}, names(m.layers))
    assert.are.same({false, 6}, m.outputs[1]:shape())
    assert_fully_mapped(m)
    assert.truthy(m:summary{print_fn = false}:find("Total params: 55\n", 1, true))
  end)

  it("a layer added twice: one entry, at its deepest use (full mapping)", function()
    local a = L.Dense{units = 2, name = "a"}
    local m = wk.Sequential{L.Input{shape = {2}}, a, L.Dense{units = 2, name = "b"}}
    m:add(a)
    assert.are.same({"a", "b"}, names(m.layers))
    assert.are.same({"input_1", "a", "b"}, names(m._layers))
    assert_fully_mapped(m)
    m:add(L.Dense{units = 1, name = "c"})
    assert.are.same({"a", "b", "c"}, names(m.layers))
    assert_fully_mapped(m)
    assert.are.same({3, 1}, m(wk.ones({3, 2})):shape())
  end)

  it("a nested Sequential and a deferred model built later", function()
    local inner = wk.Sequential{L.Dense{units = 3, input_shape = {2}, name = "i1"},
      L.Dense{units = 2, name = "i2"}}
    local m = wk.Sequential{L.Input{shape = {2}}, inner, L.Dense{units = 1, name = "out"}}
    assert.are.same({inner.name, "out"}, names(m.layers))
    assert_fully_mapped(m)
    local d = wk.Sequential{L.Dense{units = 3, name = "x1"}, L.Dense{units = 2, name = "x2"}}
    d:build({false, 4})
    d:add(L.Dense{units = 1, name = "x3"})
    assert.are.same({"x1", "x2", "x3"}, names(d.layers))
    assert_fully_mapped(d)
    assert.has_error(function() d:add(L.Dense{units = 1, name = "x2"}) end,
      'ValueError: All layers added to a Sequential model should have unique names. Name "x2" is ' ..
      "already the name of a layer in this model. Update the `name` argument to pass a unique name.")
  end)
end)
