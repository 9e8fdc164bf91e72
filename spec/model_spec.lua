--[[
Specs for weightkit.graph, weightkit.layers.input and weightkit.model (the functional Model).

Keras facts used here, stated as data (tf.keras 2.x, functional.py `_map_graph_network` / `_build_map`):
  - DFS from the outputs in order; a layer's discovery index is given the first time one of its
    unfinished nodes is entered; a node's inputs are walked in call order; nodes finish in post-order.
  - Depth: visiting finished nodes from last to first, node depth = max(depth pushed by consumers
    (0 for outputs), its layer's depth so far); producers get >= depth + 1; layer depth = that value.
  - model.layers: by decreasing depth, ties by discovery index. InputLayers included.
  - Model.weights: per layer of model.layers, layer.weights (nested models recurse per sublayer), then
    the model's own; trainable_weights / non_trainable_weights as in keras-formats.md §3.7; the legacy
    HDF5 order of a nested model is all trainable then all non-trainable.
  - set_weights texts: 'You called `set_weights(weights)` on layer "{name}" with a weight list of length
    {n}, but the layer was expecting {m} weights. Provided weights: {str(weights)[:50]}...' and
    'Layer {name} weight shape {ref} is not compatible with provided weight shape {got}.'
  - Functional auto-names: "model", "model_1", ...; class name "Functional"; Input auto-names "input_1", ...
]]
local wk = require "weightkit"
local L = wk.layers
local graph = require "weightkit.graph"

local function names(list)
  local r = {}
  for i, x in ipairs(list) do r[i] = x.name end
  return r
end

local function dense(units, name, extra)
  local cfg = {units = units, name = name}
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return L.Dense(cfg)
end

before_each(function() wk.backend.clear_session() end)

describe("graph: KerasTensor, Input, nodes", function()
  it("Input gives a KerasTensor with a None batch dim and an auto-named InputLayer", function()
    local x = L.Input{shape = {3}}
    assert.is_true(graph.is_keras_tensor(x))
    assert.is_true(graph.is_symbolic(x))
    assert.is_true(graph.is_symbolic({x, x}))
    assert.is_false(graph.is_symbolic(wk.ones({2, 3})))
    assert.are.same({false, 3}, x:shape())
    assert.are.equal("float32", x:dtype())
    local layer, node_index, tensor_index = x:keras_history()
    assert.are.equal("input_1", layer.name)
    assert.are.equal("InputLayer", layer.class_name)
    assert.are.equal(1, node_index)
    assert.are.equal(1, tensor_index)
    assert.are.equal("input_2", select(1, L.Input{shape = {2}, batch_size = 8}:keras_history()).name)
    assert.are.same({8, 2}, L.Input{shape = {2}, batch_size = 8}:shape())
    assert.are.equal("named", select(1, L.Input{shape = {1}, name = "named"}:keras_history()).name)
    -- a given name consumes no counter
    assert.are.equal("input_4", select(1, L.Input{{5}}:keras_history()).name)
    assert.are.same({4, 5}, L.Input{batch_shape = {4, 5}}:shape())
  end)

  it("InputLayer config and Keras's argument errors", function()
    local il = L.InputLayer{input_shape = {3}, name = "inp"}
    local cfg = il:get_config()
    assert.are.same({false, 3}, cfg.batch_input_shape)
    assert.are.equal("float32", cfg.dtype)
    assert.are.equal("inp", cfg.name)
    assert.are.same({"batch_input_shape", "dtype", "sparse", "ragged", "name"}, getmetatable(cfg).__order)
    assert.are.same({}, il:weights())
    assert.has_error(function() L.Input{shape = {3}, batch_shape = {1, 3}} end,
      "ValueError: Only provide the `shape` OR `batch_shape` argument to Input, not both at the same time.")
    assert.has_error(function() L.Input{} end,
      "ValueError: Please provide to Input a `shape` or a `tensor` or a `type_spec` argument. Note that " ..
      "`shape` does not include the batch dimension.")
    assert.has_error(function() L.InputLayer{input_shape = {3}, batch_input_shape = {false, 3}} end,
      "ValueError: Only provide the input_shape OR batch_input_shape argument to InputLayer, not both at " ..
      "the same time.")
  end)

  it("a layer call records a node, builds in the layer's name scope and infers the shape", function()
    local x = L.Input{shape = {3}}
    local d = dense(4)
    local y = d(x)
    assert.are.same({false, 4}, y:shape())
    assert.is_true(d.built)
    assert.are.equal("dense/kernel:0", d.kernel.name)
    assert.are.equal(1, #d._inbound_nodes)
    local node = d._inbound_nodes[1]
    assert.are.equal(x, node.inputs[1])
    assert.are.equal(y, node.outputs[1])
    assert.are.equal(node, select(1, x:keras_history())._outbound_nodes[1])
    -- a second call adds a node; the history points at it
    local y2 = d(L.Input{shape = {3}})
    assert.are.equal(2, #d._inbound_nodes)
    assert.are.equal(2, select(2, y2:keras_history()))
  end)

  it("a multi-input call passes a list of shapes", function()
    local a, b = L.Input{shape = {3}}, L.Input{shape = {5}}
    local c = L.Concatenate{}({a, b})
    assert.are.same({false, 8}, c:shape())
    assert.are.equal(2, #c:keras_history()._inbound_nodes[1].inputs)
  end)

  it("mixing concrete and symbolic inputs is an error", function()
    local a = L.Input{shape = {3}}
    assert.has_error(function() L.Concatenate{}({a, wk.ones({1, 3})}) end)
  end)
end)

describe("Model: layer order (tf.keras _map_graph_network)", function()
  it("two inputs, unequal branches, Concatenate", function()
    local a = L.Input{shape = {3}}                       -- input_1
    local b = L.Input{shape = {5}}                       -- input_2
    local x1 = dense(4, "da")(a)
    local x2 = dense(4, "db2")(dense(4, "db1")(b))
    local c = L.Concatenate{name = "cat"}({x1, x2})
    local out = dense(1, "head")(c)
    local m = wk.Model{inputs = {a, b}, outputs = out}
    --[[ DFS from `head`: head(0) cat(1) da(2) input_1(3) db2(4) db1(5) input_2(6) = discovery index.
         Post-order: input_1, da, input_2, db1, db2, cat, head. Depths, visiting backwards:
         head 0 -> cat 1 -> db2 2, da 2; db2 -> db1 3 -> input_2 4; da -> input_1 3.
         By depth: 4 {input_2}, 3 {input_1 (idx 3), db1 (idx 5)}, 2 {da (2), db2 (4)}, 1 {cat}, 0 {head}.
         So input_2 comes before input_1 (the longer branch's input is deeper). ]]
    local expected = {"input_2", "input_1", "db1", "da", "db2", "cat", "head"}
    assert.are.same(expected, names(m.layers))
    assert.are.equal("model", m.name)
    assert.are.equal("Functional", m.class_name)
    -- inputs keep the order they were given in
    assert.are.same({a, b}, m.inputs)
  end)

  it("diamond: a branch's deeper node pulls its layer before the shorter branch", function()
    local x = L.Input{shape = {4}}
    local h = dense(4, "stem")(x)
    local l = dense(4, "left")(h)
    local r = dense(4, "right2")(dense(4, "right1")(h))
    local s = L.Add{name = "add"}({l, r})
    local m = wk.Model{x, s}
    --[[ DFS: add(0) left(1) stem(2) input_1(3) right2(4) right1(5) (stem's node already finished).
         Post-order: input_1, stem, left, right1, right2, add.
         Backwards: add 0 -> right2 1, left 1; right2 -> right1 2; right1 -> stem 3; left -> stem max(2,3)=3;
         stem -> input_1 4.
         By depth: 4 {input_1}, 3 {stem}, 2 {right1}, 1 {left (1), right2 (4)}, 0 {add}. ]]
    assert.are.same({"input_1", "stem", "right1", "left", "right2", "add"}, names(m.layers))
  end)

  it("a layer shared by two branches appears once", function()
    local a, b = L.Input{shape = {3}}, L.Input{shape = {3}}
    local shared = dense(2, "shared")
    local c = L.Concatenate{name = "cat"}({shared(a), shared(b)})
    local out = dense(1, "out")(c)
    local m = wk.Model{inputs = {a, b}, outputs = out}
    --[[ DFS: out(0) cat(1) shared(2, first node) input_1(3), then shared's second node (layer already
         indexed) input_2(4). Depths: out 0, cat 1, both shared nodes 2, input_2 3, input_1 3.
         By depth: 3 {input_1 (3), input_2 (4)}, 2 {shared}, 1 {cat}, 0 {out}. ]]
    assert.are.same({"input_1", "input_2", "shared", "cat", "out"}, names(m.layers))
    assert.are.same({"shared/kernel:0", "shared/bias:0", "out/kernel:0", "out/bias:0"}, names(m:weights()))
    assert.are.equal(2 * 3 + 2 + 4 * 1 + 1, m:count_params())
  end)

  it("a layer shared at two depths takes its deepest depth", function()
    local x = L.Input{shape = {2}}
    local s = dense(2, "s")
    local y = s(dense(2, "mid")(s(x)))
    local m = wk.Model{x, y}
    --[[ DFS from s's second node: s(0) mid(1) input_1(2) (s's first node: layer already indexed).
         Post-order: input_1, s#1, mid, s#2. Backwards: s#2 0 (layer s = 0) -> mid 1 -> s#1 2 (layer s
         becomes 2) -> input_1 3. By depth: 3 {input_1}, 2 {s}, 1 {mid}. ]]
    assert.are.same({"input_1", "s", "mid"}, names(m.layers))
  end)

  it("a shared layer's shallow node visited last still takes the layer's deeper depth", function()
    local a, b = L.Input{shape = {2}}, L.Input{shape = {2}}
    local s = dense(2, "s")
    local m = wk.Model{inputs = {a, b}, outputs = {s(a), dense(1, "d")(s(b))}}
    --[[ DFS from output 1: s(0) input_1(1); from output 2: d(2), s's second node, input_2(3).
         Post-order: input_1, s#1, input_2, s#2, d. Backwards: d 0 -> s#2 1 (layer s = 1) -> input_2 2;
         s#1 has depth 0 from being an output, raised to its layer's 1 -> input_1 2.
         By depth: 2 {input_1 (1), input_2 (3)}, 1 {s}, 0 {d}. (Without the raise, input_1 would be at
         depth 1 and come after input_2.) ]]
    assert.are.same({"input_1", "input_2", "s", "d"}, names(m.layers))
  end)

  it("an input not connected to the outputs gets depth 0 and discovery index -1", function()
    local a, b = L.Input{shape = {3}}, L.Input{shape = {3}}
    local y = dense(1, "d")(a)
    local m = wk.Model{inputs = {a, b}, outputs = y}
    -- DFS: d(0) input_1(1); depths d 0, input_1 1; input_2 added at depth 0 with index -1, so it sorts
    -- before d inside depth 0.
    assert.are.same({"input_1", "input_2", "d"}, names(m.layers))
  end)

  it("graph errors use Keras's texts", function()
    local a, b = L.Input{shape = {3}}, L.Input{shape = {3}}
    local c = L.Concatenate{name = "cat"}({a, b})
    local ok, err = pcall(wk.Model, {inputs = a, outputs = c})
    assert.is_false(ok)
    assert.matches('^ValueError: Graph disconnected: cannot obtain value for tensor KerasTensor%(type_spec=' ..
      "TensorSpec%(shape=%(None, 3%), dtype=tf.float32, name='input_2'%), name='input_2', description=\"" ..
      "created by layer 'input_2'\"%) at layer \"cat\". The following previous layers were accessed " ..
      "without issue: %[%]$", err)
    local x = L.Input{shape = {3}}
    local y = dense(1, "dup")(dense(3, "dup")(x))
    assert.has_error(function() wk.Model{x, y} end,
      'ValueError: The name "dup" is used 2 times in the model. All layer names should be unique.')
  end)

  it("get_layer by name and 1-based index, with Keras's errors", function()
    local x = L.Input{shape = {3}}
    local m = wk.Model{x, dense(2, "fc")(x)}
    assert.are.equal("fc", m:get_layer("fc").name)
    assert.are.equal("input_1", m:get_layer(1).name)
    assert.are.equal("fc", m:get_layer{index = 2}.name)
    assert.has_error(function() m:get_layer("nope") end,
      "ValueError: No such layer: nope. Existing layers are: ['input_1', 'fc'].")
    assert.has_error(function() m:get_layer(3) end,
      "ValueError: Was asked to retrieve layer at index 3 but model only has 2 layers.")
  end)

  it("auto-names model, model_1", function()
    local x = L.Input{shape = {1}}
    local y = dense(1)(x)
    assert.are.equal("model", wk.Model{x, y}.name)
    assert.are.equal("model_1", wk.Model{x, y}.name)
    assert.are.equal("mine", wk.Model{inputs = x, outputs = y, name = "mine"}.name)
  end)
end)

describe("Model: weights order (keras-formats §3.7)", function()
  -- inner: Dense -> BatchNormalization -> Dense; outer: Dense -> inner -> Dense
  local function build()
    local xi = L.Input{shape = {4}}
    local hi = dense(3, "d2")(L.BatchNormalization{name = "bn"}(dense(3, "d1")(xi)))
    local inner = wk.Model{inputs = xi, outputs = hi, name = "inner"}
    local x = L.Input{shape = {5}}
    local y = dense(1, "post")(inner(dense(4, "pre")(x)))
    local outer = wk.Model{inputs = x, outputs = y, name = "outer"}
    return outer, inner
  end

  local ALL = {"pre/kernel:0", "pre/bias:0",
    "d1/kernel:0", "d1/bias:0", "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0",
    "d2/kernel:0", "d2/bias:0", "post/kernel:0", "post/bias:0"}

  it("weights(): per layer in model.layers order, a nested model per sublayer", function()
    local outer, inner = build()
    assert.are.same({"input_2", "pre", "inner", "post"}, names(outer.layers))
    assert.are.same(ALL, names(outer:weights()))
    assert.are.same({"pre/kernel:0", "pre/bias:0", "d1/kernel:0", "d1/bias:0", "bn/gamma:0", "bn/beta:0",
      "d2/kernel:0", "d2/bias:0", "post/kernel:0", "post/bias:0"}, names(outer:trainable_weights()))
    assert.are.same({"bn/moving_mean:0", "bn/moving_variance:0"}, names(outer:non_trainable_weights()))
    -- the nested model's HDF5 group order (trainable then non-trainable) differs from weights()
    local legacy = names(inner:trainable_weights())
    for _, n in ipairs(names(inner:non_trainable_weights())) do legacy[#legacy + 1] = n end
    assert.are.same({"d1/kernel:0", "d1/bias:0", "bn/gamma:0", "bn/beta:0", "d2/kernel:0", "d2/bias:0",
      "bn/moving_mean:0", "bn/moving_variance:0"}, legacy)
    assert.are_not.same(legacy, names(inner:weights()))
    -- a plain layer: trainable then non-trainable, creation order inside each
    local bn = inner:get_layer("bn")
    assert.are.same({"bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"}, names(bn:weights()))
    assert.are.same(outer:get_weights()[3]:shape(), {4, 3})
    assert.are.equal(12, #outer:get_weights())
  end)

  it("set_trainable(false) on the nested model moves its weights to non_trainable (per sublayer)", function()
    local outer, inner = build()
    inner:set_trainable(false)
    assert.is_false(inner:get_layer("d1").trainable)
    assert.are.same({"pre/kernel:0", "pre/bias:0", "post/kernel:0", "post/bias:0"},
      names(outer:trainable_weights()))
    assert.are.same({"d1/kernel:0", "d1/bias:0", "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0",
      "bn/moving_variance:0", "d2/kernel:0", "d2/bias:0"}, names(outer:non_trainable_weights()))
    assert.are.same(ALL, names(outer:weights()))       -- weights() order does not move
    assert.are.same({}, inner:trainable_weights())
  end)

  it("trainable = false on the model alone: all sublayers' trainable, then non-trainable", function()
    local outer, inner = build()
    inner.trainable = false                            -- tf.keras Model(..., trainable=False)
    assert.is_true(inner:get_layer("d1").trainable)
    assert.are.same({"d1/kernel:0", "d1/bias:0", "bn/gamma:0", "bn/beta:0", "d2/kernel:0", "d2/bias:0",
      "bn/moving_mean:0", "bn/moving_variance:0"}, names(outer:non_trainable_weights()))
    assert.are.same({"pre/kernel:0", "pre/bias:0", "post/kernel:0", "post/bias:0"},
      names(outer:trainable_weights()))
  end)

  it("a layer shared between the outer and a nested model counts once", function()
    local shared = dense(3, "shared")
    local xi = L.Input{shape = {3}}
    local inner = wk.Model{inputs = xi, outputs = shared(xi), name = "inner"}
    local x = L.Input{shape = {3}}
    local y = L.Add{name = "add"}({inner(x), shared(x)})
    local outer = wk.Model{inputs = x, outputs = y}
    assert.are.same({"shared/kernel:0", "shared/bias:0"}, names(outer:weights()))
    assert.are.equal(12, outer:count_params())
  end)
end)

describe("Model: get_weights / set_weights", function()
  local function mlp()
    local x = L.Input{shape = {3}}
    local y = dense(1, "fc2")(dense(2, "fc1", {activation = "relu"})(x))
    return wk.Model{inputs = x, outputs = y}
  end

  it("round trip: values equal, copies not aliases", function()
    local a, b = mlp(), mlp()
    local wa = a:get_weights()
    assert.are.equal(4, #wa)
    b:set_weights(wa)
    local wb = b:get_weights()
    for i = 1, 4 do
      assert.are.same(wa[i]:shape(), wb[i]:shape())
      assert.is_true(wa[i]:allclose(wb[i], 0, 0))
    end
    wa[1]:fill(7)
    assert.is_false(b:get_weights()[1]:allclose(wa[1], 0, 0))
    -- plain Lua tables are accepted too
    b:set_weights({{{1, 2}, {3, 4}, {5, 6}}, {0, 0}, {{1}, {1}}, {0}})
    assert.are.same({{1, 2}, {3, 4}, {5, 6}}, b:get_weights()[1]:totable())
  end)

  it("count and shape errors name the model, as Keras words them", function()
    local m = mlp()
    local ok, err = pcall(m.set_weights, m, {wk.zeros({3, 2})})
    assert.is_false(ok)
    assert.are.equal('ValueError: You called `set_weights(weights)` on layer "model" with a weight list of ' ..
      "length 1, but the layer was expecting 4 weights. Provided weights: [array([[0., 0.],\n       [0., 0.],\n" ..
      "       [0., 0.]...", err)   -- str(weights)[:50] cuts the NumPy repr after 50 characters
    assert.has_error(function()
      m:set_weights({wk.zeros({3, 2}), wk.zeros({2}), wk.zeros({2, 1}), wk.zeros({2})})
    end, "ValueError: Layer model weight shape (1,) is not compatible with provided weight shape (2,).")
  end)

  it("a failed set_weights changes nothing", function()
    local m = mlp()
    local before = m:get_weights()
    assert.has_error(function()
      m:set_weights({wk.full({3, 2}, 9), wk.full({2}, 9), wk.full({2, 1}, 9), wk.zeros({3})})
    end)
    local after = m:get_weights()
    for i = 1, 4 do assert.is_true(before[i]:allclose(after[i], 0, 0)) end
  end)
end)

describe("Model: forward, nesting, summary", function()
  it("two-layer MLP against a hand-computed result", function()
    local x = L.Input{shape = {3}}
    local y = dense(1, "fc2")(dense(2, "fc1", {activation = "relu"})(x))
    local m = wk.Model{x, y}
    m:set_weights({{{1, 2}, {3, 4}, {5, 6}}, {0.5, -1}, {{1}, {-1}}, {0.25}})
    -- row 1: [1,0,-1] @ W1 = [-4,-4] + b1 = [-3.5,-5] -> relu [0,0] -> 0*1 - 0 + 0.25 = 0.25
    -- row 2: [2,1,0] @ W1 = [5,8] + b1 = [5.5,7] -> relu [5.5,7] -> 5.5 - 7 + 0.25 = -1.25
    local out = m(wk.tensor{{1, 0, -1}, {2, 1, 0}})
    assert.are.same({2, 1}, out:shape())
    assert.is_true(out:allclose(wk.tensor{{0.25}, {-1.25}}, 0, 1e-6))
  end)

  it("the design example in model form (Dense with Constant(1) kernel)", function()
    local x = L.Input{shape = {3}}
    local a = L.Dense{units = 1, kernel_initializer = wk.initializers.Constant(1.0)}
    local m = wk.Model{inputs = x, outputs = a(x)}
    local y = m(wk.tensor{{1, 2, 3}})
    assert.are.same({{6}}, y:totable())
    local w = m:get_weights()
    assert.are.same({{1}, {1}, {1}}, w[1]:totable())
    assert.are.same({0}, w[2]:totable())
    local x2 = L.Input{shape = {3}}
    local b = L.Dense{units = 1}
    local m2 = wk.Model{inputs = x2, outputs = b(x2)}
    m2:set_weights(m:get_weights())
    assert.are.same({{6}}, m2(wk.tensor{{1, 2, 3}}):totable())
    assert.are.same({"dense/kernel:0", "dense/bias:0"}, names(m:weights()))
  end)

  it("multi-input, shared-layer graph runs in graph order", function()
    local a, b = L.Input{shape = {2}}, L.Input{shape = {2}}
    local s = dense(2, "s", {use_bias = false})
    local out = L.Concatenate{name = "cat"}({s(a), s(b)})
    local m = wk.Model{inputs = {a, b}, outputs = {out, s(a)}}     -- s has three nodes
    assert.are.equal(2, #m.outputs)
    m:get_layer("s"):set_weights({{{1, 0}, {0, 2}}})
    local r = m({wk.tensor{{1, 1}}, wk.tensor{{3, 4}}})
    assert.are.same({{1, 2, 3, 8}}, r[1]:totable())
    assert.are.same({{1, 2}}, r[2]:totable())
  end)

  it("a model called on KerasTensors is a layer: nodes, shapes, nested forward", function()
    local xi = L.Input{shape = {2}}
    local inner = wk.Model{inputs = xi, outputs = dense(2, "di", {use_bias = false})(xi), name = "inner"}
    local x = L.Input{shape = {2}}
    local y = L.Activation{"relu", name = "act"}(inner(x))
    assert.are.same({false, 2}, y:shape())
    assert.are.equal(1, #inner._inbound_nodes)
    local outer = wk.Model{inputs = x, outputs = y}
    assert.are.same({"input_2", "inner", "act"}, names(outer.layers))
    inner:set_weights({{{1, -1}, {1, 1}}})
    -- [1, 2] @ [[1, -1], [1, 1]] = [3, 1] -> relu [3, 1]
    assert.are.same({{3, 1}}, outer(wk.tensor{{1, 2}}):totable())
  end)

  it("a layer without a forward gives a clear error naming it", function()
    local NoForward = wk.layers.Layer:extend("NoForward")
    NoForward.compute_output_shape = wk.layers.Layer.identity_shape
    local x = L.Input{shape = {2}}
    local y = dense(2, "ok")(NoForward{name = "nf"}(x))
    local m = wk.Model{x, y}
    assert.has_error(function() m(wk.ones({1, 2})) end,
      "NotImplementedError: Model model cannot run a forward pass: layer nf (NoForward) has no forward " ..
      "computation in weightkit")
  end)

  it("summary: tf.keras 2.x table with totals", function()
    local x = L.Input{shape = {3}}
    local y = dense(2, "fc2")(L.BatchNormalization{name = "bn"}(dense(4, "fc1")(x)))
    local m = wk.Model{x, y}
    local lines = {}
    local text = m:summary{print_fn = function(l) lines[#lines + 1] = l end}
    assert.are.equal(table.concat(lines, "\n"), text)
    assert.are.equal('Model: "model"', lines[1])
    assert.are.equal(string.rep("_", 65), lines[2])
    assert.are.equal("Layer (type)                 Output Shape              Param #   ", lines[3])
    assert.are.equal("input_1 (InputLayer)         [(None, 3)]               0         ", lines[5])
    assert.are.equal("fc1 (Dense)                  (None, 4)                 16        ", lines[7])
    assert.are.equal("bn (BatchNormalization)      (None, 4)                 16        ", lines[9])
    assert.truthy(text:find("Total params: 42\nTrainable params: 34\nNon-trainable params: 8\n", 1, true))
    -- a branching model gets the "Connected to" column
    local a, b = L.Input{shape = {1}}, L.Input{shape = {1}}
    local m2 = wk.Model{inputs = {a, b}, outputs = L.Concatenate{name = "cat"}({a, b})}
    local t2 = m2:summary{print_fn = false}
    assert.truthy(t2:find("Connected to", 1, true))
    assert.truthy(t2:find("\ncat (Concatenate)               (None, 2)            0           input_2[0][0]" ..
      string.rep(" ", 20) .. "\n" .. string.rep(" ", 65) .. "input_3[0][0]" .. string.rep(" ", 20) .. "\n=", 1,
      true))
    assert.truthy(t2:find("Layer (type)                    Output Shape         Param #     Connected to", 1,
      true))
    assert.are.equal("1,234,567", wk.Model._thousands(1234567))
  end)
end)
