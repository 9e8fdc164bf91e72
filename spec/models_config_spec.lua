--[[
Models from configs (weightkit.config.deserialize / serialize, weightkit.models.from_config).

  * every real full-model HDF5 fixture: its model_config builds a model whose HDF5 weight list (per
    layer: trainable then non-trainable, layers with weights in model order) has the file's shapes
    (expected/<name>.json), with no opaque layer;
  * every real `.keras` fixture: config.json builds a model whose Keras 3 object walk has the file's
    vars paths and shapes; k315's subclassed root model is opaque; our Keras 3 form of the k392 hybrid
    config equals the real config.json value for value (but compile_config / shared_object_id);
  * Keras 1 spellings, JSON facts, opaque layers, custom objects;
  * round trips: from_config(model_config(m)) and from_config(keras3_config(m)) rebuild the same
    architecture (same weight shapes in the same order, same config text) for a functional model that
    holds every catalog family: shared layers, several inputs and outputs, nested Sequential and
    Functional models, wrappers, RNNs, merges.
]]
local wk = require "weightkit"
local json = require "weightkit.json"
local cjson = require "weightkit.config.json"
local models = require "weightkit.models"
local serialize = require "weightkit.config.serialize"
local legacy = require "weightkit.config.legacy"
local opaque = require "weightkit.layers.opaque"
local errors = require "weightkit.errors"

local L = wk.layers
local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

local function expected(name)
  local f = assert(io.open(REAL .. "/expected/" .. name .. ".json", "rb"))
  local text = f:read("a")
  f:close()
  return json.decode(text, name)
end

-- fn(...) with Keras's warnings (unknown config keys, Keras 1 notes) captured: its results.
local function quiet(fn, ...)
  local res = table.pack(errors.capture_warnings(fn, ...))
  return table.unpack(res, 2, res.n)
end

-- A shape as a Python tuple without spaces: (5,2), (2,), ().
local function shape_text(s)
  local parts = {}
  for i, d in ipairs(s) do parts[i] = tostring(d) end
  return "(" .. table.concat(parts, ",") .. (#s == 1 and ",)" or ")")
end

-- The model's HDF5 weight list: per layer of model.layers with weights, trainable then non-trainable.
local function h5_shapes(model)
  local out = {}
  for _, l in ipairs(model.layers) do
    local ws = {}
    for _, v in ipairs(l:trainable_weights()) do ws[#ws + 1] = shape_text(v:shape()) end
    for _, v in ipairs(l:non_trainable_weights()) do ws[#ws + 1] = shape_text(v:shape()) end
    if #ws > 0 then out[#out + 1] = l.name .. " " .. table.concat(ws, " ") end
  end
  return out
end

local function weight_shapes(model)
  local out = {}
  for i, v in ipairs(model:weights()) do out[i] = shape_text(v:shape()) end
  return out
end

local function config_member(name)
  local file <close> = assert(wk.open(REAL .. "/" .. name))
  return file:member("config.json")
end

describe("models.from_config on the real full-model HDF5 files", function()
  local FILES = {
    {"k120_behavioral_cloning_conv_full.h5", "keras1"},
    {"k213_theano_pollution_lstm_full.h5", "keras2"},
    {"k224_keras2c_functional_lstm_full.h5", "keras2"},
    {"k260_simplernn_full.h5", "keras2"},
    {"k392_legacy_bidirectional_lstm_full.h5", "keras3"},
  }
  for _, case in ipairs(FILES) do
    local name, format = case[1], case[2]
    it(name .. ": the config builds the file's weight layout", function()
      local file = assert(wk.open(REAL .. "/" .. name))
      local text = file:attribute("/", "model_config")
      file:close()
      local model, info = quiet(models.from_config, text)
      assert.are.equal(format, info.format)
      assert.are.same({}, info.opaque)
      local want = {}
      for _, l in ipairs(expected(name).model_weights.layers) do
        if #l.weights > 0 then
          local ws = {}
          for _, w in ipairs(l.weights) do ws[#ws + 1] = shape_text(w.shape) end
          want[#want + 1] = l.name .. " " .. table.concat(ws, " ")
        end
      end
      assert.are.same(want, h5_shapes(model))
    end)
  end

  it("k120 (Keras 1.2): Convolution2D, Dense and Dropout are read in Keras 2 spelling", function()
    local file = assert(wk.open(REAL .. "/k120_behavioral_cloning_conv_full.h5"))
    local text = file:attribute("/", "model_config")
    file:close()
    local model = quiet(models.from_config, text)
    local conv = model:get_layer("convolution2d_1")
    assert.are.equal("Conv2D", conv.class_name)
    assert.are.same({8, 8}, conv.kernel_size)
    assert.are.same({4, 4}, conv.strides)
    assert.are.equal("same", conv.padding)
    assert.are.equal("channels_last", conv.data_format)
    assert.are.equal(400, model:get_layer("dense_1").units)
    assert.are.equal(0.2, model:get_layer("dropout_1").rate)
    assert.are.equal("Lambda", model:get_layer("lambda_1").class_name)
    assert.are.same({false, 64, 64, 3}, model.inputs[1]:shape())
  end)

  it("k224 (Keras 2.2.4 Model): the functional graph and its node references", function()
    local file = assert(wk.open(REAL .. "/k224_keras2c_functional_lstm_full.h5"))
    local text = file:attribute("/", "model_config")
    file:close()
    local model = quiet(models.from_config, text)
    assert.are.equal("Functional", model.class_name)
    assert.are.equal("model_1", model.name)
    local names = {}
    for i, l in ipairs(model.layers) do names[i] = l.name end
    assert.are.same({"input_1", "dense_1", "dense_2", "lstm_1", "dense_3"}, names)
    assert.are.same({false, 30}, model.outputs[1]:shape())
  end)
end)

describe("models.from_config on the real .keras configs", function()
  local function walk_shapes(model)
    local out = {}
    for _, o in ipairs(require("weightkit.keras3.paths").objects(model)) do
      for i, v in ipairs(o.variables) do
        out[#out + 1] = (o.path == "" and "" or o.path .. "/") .. "vars/" .. (i - 1) .. " " .. shape_text(v:shape())
      end
    end
    table.sort(out)
    return out
  end
  local function file_shapes(name)
    local out = {}
    for _, v in ipairs(expected(name).weights_h5.weights.variables) do
      local p = v.path:gsub("\\", "/")
      if not p:match("^optimizer/") and not p:match("^metrics/") then
        out[#out + 1] = p .. " " .. shape_text(v.shape)
      end
    end
    table.sort(out)
    return out
  end

  for _, name in ipairs{"k392_hybrid_conv1d_bilstm_bn.keras", "k2150_windows_backslash_dense.keras"} do
    it(name .. ": the Keras 3 walk of the rebuilt model is the file's vars layout", function()
      local text = config_member(name)
      local model, info = quiet(models.from_config, text)
      assert.are.equal("keras3", info.format)
      assert.are.same({}, info.opaque)
      assert.are.same(file_shapes(name), walk_shapes(model))
    end)
  end

  it("k392 hybrid: our Keras 3 form is the real config.json, value for value", function()
    local text = config_member("k392_hybrid_conv1d_bilstm_bn.keras")
    local model = quiet(models.from_config, text)
    local real = json.decode(text)
    local mine = json.decode(serialize.to_json(serialize.keras3_config(model)))
    local diffs = {}
    local function diff(a, b, path)
      if type(a) == "table" and a ~= json.null and type(b) == "table" and b ~= json.null then
        local keys = {}
        for k in pairs(a) do keys[k] = true end
        for k in pairs(b) do keys[k] = true end
        for k in pairs(keys) do
          if k ~= "shared_object_id" and k ~= "compile_config" then diff(a[k], b[k], path .. "." .. tostring(k)) end
        end
      elseif a ~= b or math.type(a) ~= math.type(b) then
        diffs[#diffs + 1] = path .. ": " .. tostring(a) .. " vs " .. tostring(b)
      end
    end
    diff(real, mine, "")
    assert.are.same({}, diffs)
    -- and the same key order, layer by layer
    for i, l in ipairs(real.config.layers) do
      assert.are.same(json.keys(l.config), json.keys(mine.config.layers[i].config))
    end
  end)

  it("k315: the registered subclassed root model becomes an OpaqueLayer with its config verbatim", function()
    local text = config_member("k315_nested_container.keras")
    local model, info = models.from_config(text)
    assert.is_true(opaque.is_opaque(model))
    assert.are.equal(model, info.opaque[1])
    assert.are.equal("NestedDenseModel", model.class_name)
    assert.are.equal("nested_dense_model", model.name)
    local again = json.decode(serialize.to_json(serialize.keras3_config(model)))
    local real = json.decode(text)
    assert.are.equal(json.encode(real.config), json.encode(again.config))
    assert.are.equal("legacy_nested_container>NestedDenseModel", again.registered_name)
    assert.are.same({2, 4}, again.build_config.input_shape)
  end)
end)

describe("Keras 1 spellings (config.legacy)", function()
  it("Convolution2D -> Conv2D with filters, kernel_size, strides, padding, data_format", function()
    local cls, cfg = legacy.translate("Convolution2D", {name = "c", nb_filter = 16, nb_row = 8, nb_col = 5,
      subsample = {4, 2}, border_mode = "same", dim_ordering = "th", init = "he_normal", bias = false})
    assert.are.equal("Conv2D", cls)
    assert.are.same({name = "c", filters = 16, kernel_size = {8, 5}, strides = {4, 2}, padding = "same",
      data_format = "channels_first", kernel_initializer = "he_normal", use_bias = false}, cfg)
  end)
  it("LSTM output_dim, inner_init, inner_activation, consume_less, dropout_W/U, input_dim/length", function()
    local cls, cfg = legacy.translate("LSTM", {output_dim = 8, inner_init = "orthogonal",
      inner_activation = "hard_sigmoid", consume_less = "gpu", dropout_W = 0.1, dropout_U = 0.2,
      input_dim = 3, input_length = 5, forget_bias_init = "one", input_dtype = "float32"})
    assert.are.equal("LSTM", cls)
    assert.are.same({units = 8, recurrent_initializer = "orthogonal", recurrent_activation = "hard_sigmoid",
      implementation = 2, dropout = 0.1, recurrent_dropout = 0.2, input_shape = {5, 3},
      unit_forget_bias = true, dtype = "float32"}, cfg)
  end)
  it("Dense, Dropout, pooling, Embedding, BatchNormalization, Merge", function()
    assert.are.same({units = 3, kernel_initializer = "zero", use_bias = true},
      select(2, legacy.translate("Dense", {output_dim = 3, init = "zero", bias = true})))
    assert.are.same({rate = 0.5}, select(2, legacy.translate("Dropout", {p = 0.5})))
    assert.are.same({pool_size = 2, strides = 1, padding = "valid"},
      select(2, legacy.translate("MaxPooling1D", {pool_length = 2, stride = 1, border_mode = "valid"})))
    local _, e, notes = legacy.translate("Embedding", {input_dim = 10, output_dim = 4, init = "uniform",
      dropout = 0.1})
    assert.are.same({input_dim = 10, output_dim = 4, embeddings_initializer = "uniform"}, e)
    assert.are.equal(1, #notes)
    assert.are.same({gamma_initializer = "one", axis = 1},
      select(2, legacy.translate("BatchNormalization", {gamma_init = "one", mode = 0, axis = 1})))
    assert.has_error(function() legacy.translate("BatchNormalization", {mode = 2, name = "bn"}) end,
      "ValueError: BatchNormalization mode 2 (layer bn) has no Keras 2 equivalent; only mode 0 can be translated")
    local cls, m = legacy.translate("Merge", {name = "m", mode = "concat", concat_axis = 1})
    assert.are.equal("Concatenate", cls)
    assert.are.equal(1, m.axis)
  end)
  it("a Keras 1 functional Model (3-element node references) builds", function()
    local text = [=[{"class_name": "Model", "config": {"name": "m", "layers": [
      {"name": "in", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4],
       "input_dtype": "float32", "sparse": false, "name": "in"}, "inbound_nodes": []},
      {"name": "d", "class_name": "Dense", "config": {"name": "d", "output_dim": 3, "init": "glorot_uniform",
       "activation": "relu", "W_regularizer": null, "b_regularizer": null, "activity_regularizer": null,
       "W_constraint": null, "b_constraint": null, "bias": true, "input_dim": null, "trainable": true},
       "inbound_nodes": [[["in", 0, 0]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}}]=]
    local model, info = quiet(models.from_config, text)
    assert.are.equal("keras1", info.format)
    assert.are.same({"(4,3)", "(3,)"}, weight_shapes(model))
    assert.are.equal("relu", model:get_layer("d").activation.activation_name or model:get_layer("d").activation)
  end)
end)

describe("opaque layers and custom objects", function()
  local CONFIG = [=[{"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5], "dtype": "float32",
     "sparse": false, "ragged": false, "name": "x"}, "name": "x", "inbound_nodes": []},
    {"class_name": "MyScale", "config": {"name": "scale", "trainable": true, "dtype": "float32",
     "factor": 1.5, "note": null, "nested": {"b": 1, "a": [1.0, null]}}, "name": "scale",
     "inbound_nodes": [[["x", 0, 0, {}]]]},
    {"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
     "inbound_nodes": [[["scale", 0, 0, {}]]]}],
    "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}]=]

  it("an unknown class is opaque: config echoed verbatim, shape passed through, weights from the file", function()
    local model, info = models.from_config(CONFIG)
    assert.are.equal(1, #info.opaque)
    local l = model:get_layer("scale")
    assert.is_true(opaque.is_opaque(l))
    assert.are.equal("MyScale", l.class_name)
    assert.are.same({"(5,2)", "(2,)"}, weight_shapes(model))   -- Dense built on the pass-through shape
    opaque.shape_keras2(l, {name = "scale", weights = {{name = "scale/w:0", shape = {5}, dtype = "float32"},
      {name = "scale/s:0", shape = {}, dtype = "float64"}}})
    assert.are.same({"(5,)", "()", "(5,2)", "(2,)"}, weight_shapes(model))
    assert.are.equal("scale/w:0", model:weights()[1].name)
    assert.are.equal("float64", model:weights()[2]:dtype())
    local text = model:to_json()
    assert.truthy(text:find('{"class_name":"MyScale","config":{"name":"scale","trainable":true,"dtype":' ..
      '"float32","factor":1.5,"note":null,"nested":{"b":1,"a":[1.0,null]}},"name":"scale"', 1, true))
    local again = models.from_config(text)
    assert.are.equal(text, again:to_json())
    assert.has_error(function() l:call(wk.tensor{{1, 2, 3, 4, 5}}) end)
  end)

  it("custom_objects supplies the class (by class_name or registered_name)", function()
    local MyScale = L.Layer.custom{class_name = "MyScale", register = false,
      weights = function(shape) return {{name = "w", shape = {shape[#shape]}, initializer = "ones"}} end}
    local model, info = models.from_config(CONFIG, {custom_objects = {MyScale = MyScale}})
    assert.are.same({}, info.opaque)
    assert.are.same({"(5,)", "(5,2)", "(2,)"}, weight_shapes(model))
    assert.are.equal(1.5, model:get_layer("scale").config.factor)
  end)

  it("a Lambda whose file group holds weights is opaque; an ordinary Lambda is not", function()
    local text = [=[{"class_name": "Sequential", "config": [{"class_name": "Lambda", "config": {"name": "lam",
      "function": ["code", null, null], "function_type": "lambda", "output_shape": [7],
      "output_shape_type": "raw", "arguments": {}, "batch_input_shape": [null, 3], "trainable": true}},
      {"class_name": "Dense", "config": {"name": "d", "units": 1}}]}]=]
    local plain = quiet(models.from_config, text)
    assert.are.equal("Lambda", plain:get_layer("lam").class_name)
    assert.is_nil(plain:get_layer("lam").is_opaque)
    assert.are.same({"(7,1)", "(1,)"}, weight_shapes(plain))      -- Lambda's output_shape
    local m, info = quiet(models.from_config, text, {opaque_weights = function(name)
      if name == "lam" then return {weights = {{}}} end
    end})
    assert.are.equal(1, #info.opaque)
    assert.are.same({"(7,1)", "(1,)"}, weight_shapes(m))   -- the opaque layer uses output_shape too
  end)
end)

describe("config JSON reading", function()
  it("keeps key order, nulls and the int/float split", function()
    local v = cjson.decode('{"b": [1.0, 2, null], "a": {"z": null, "y": 1e-07}}')
    assert.are.same({"b", "a"}, cjson.order(v))
    assert.are.equal("float", math.type(v.b[1]))
    assert.are.equal("integer", math.type(v.b[2]))
    assert.are.equal(cjson.null, v.b[3])
    assert.are.equal('{"b":[1.0,2,null],"a":{"z":null,"y":1e-07}}', serialize.to_json(v))
  end)
  it("malformed text and non-config values raise ValueError", function()
    assert.has_error(function() models.from_config("{") end)
    local ok, err = pcall(models.from_config, "{")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("^ValueError: invalid model config JSON"))
    assert.has_error(function() models.from_config("[1, 2]") end,
      "ValueError: a model config must be an object with `class_name` and `config`")
    assert.has_error(function() models.from_config([=[{"class_name": "Model", "config": {"name": "m",
      "layers": [{"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1},
      "inbound_nodes": [[["nowhere", 0, 0, {}]]]}], "input_layers": [], "output_layers": [["d", 0, 0]]}}]=])
    end, "ValueError: Cannot rebuild the model from its config: node 0 of layer 'd' reads a tensor that " ..
      "no layer produces")
  end)
end)

describe("round trips through both config forms", function()
  -- A functional model with most catalog families, shared layers, two inputs, two outputs, a nested
  -- Sequential and a nested Functional model.
  local function big_model()
    local inner_in = L.Input{shape = {6}, name = "inner_in"}
    local inner = wk.Model{inputs = inner_in, outputs = L.Dense{4, name = "inner_dense"}(inner_in),
      name = "inner_model"}
    local seq = wk.Sequential{L.Dense{6, input_shape = {8}, name = "seq_dense"}, L.Dropout{0.1, name = "seq_drop"},
      name = "inner_seq"}

    local img = L.Input{shape = {8, 8, 3}, name = "img"}
    local x = L.Conv2D{4, 3, padding = "same", name = "conv"}(img)
    x = L.BatchNormalization{name = "bn"}(x)
    x = L.MaxPooling2D{2, name = "pool"}(x)
    x = L.DepthwiseConv2D{3, padding = "same", name = "dw"}(x)
    x = L.SeparableConv2D{5, 3, padding = "same", name = "sep"}(x)
    x = L.Flatten{name = "flat"}(x)
    x = L.Dense{8, activation = "relu", name = "fc"}(x)

    local seq_in = L.Input{shape = {5}, dtype = "int32", name = "tokens"}
    local e = L.Embedding{20, 8, name = "emb"}(seq_in)
    e = L.Conv1D{8, 2, padding = "same", name = "c1d"}(e)
    local r1 = L.LSTM{8, return_sequences = true, name = "lstm"}(e)
    local r2 = L.Bidirectional{L.GRU{4, return_sequences = true}, name = "bigru"}(r1)
    local r3 = L.TimeDistributed{L.Dense{3}, name = "td"}(r2)
    r3 = L.LayerNormalization{name = "ln"}(r3)
    local r4 = L.SimpleRNN{8, name = "srnn"}(r3)

    local shared = L.Dense{8, name = "shared"}
    local a, b = shared(x), shared(r4)              -- a shared layer with two nodes
    local merged = L.Concatenate{name = "cat"}({a, b})
    local s = seq(L.Dense{8, name = "to_seq"}(merged))
    local out1 = inner(s)
    local out2 = L.Add{name = "add"}({a, L.Activation{"tanh", name = "act"}(b)})
    out2 = L.PReLU{name = "prelu"}(out2)
    return wk.Model{inputs = {img, seq_in}, outputs = {out1, out2}, name = "big"}
  end

  it("Keras 2 form: same architecture, same weight shapes in the same order, same config text", function()
    local m = big_model()
    local text = m:to_json()
    local m2 = quiet(models.from_config, text)
    assert.are.same(weight_shapes(m), weight_shapes(m2))
    assert.are.same(h5_shapes(m), h5_shapes(m2))
    assert.are.equal(text, m2:to_json())
    local cfg = json.decode(text).config
    local shared
    for _, l in ipairs(cfg.layers) do if l.name == "shared" then shared = l end end
    assert.are.equal(2, #shared.inbound_nodes)
    local inner
    for _, l in ipairs(cfg.layers) do if l.name == "inner_model" then inner = l end end
    assert.are.same({"inner_seq", 1, 0}, {inner.inbound_nodes[1][1][1], inner.inbound_nodes[1][1][2],
      inner.inbound_nodes[1][1][3]})      -- a nested Sequential with an InputLayer: its node 1
    assert.are.same({{"inner_model", 1, 0}, {"prelu", 0, 0}}, cfg.output_layers)
  end)

  it("Keras 3 form: same architecture and the same Keras 3 config text", function()
    local m = big_model()
    local text = serialize.to_json(serialize.keras3_config(m))
    local m2, info = quiet(models.from_config, text)
    assert.are.equal("keras3", info.format)
    assert.are.same(weight_shapes(m), weight_shapes(m2))
    assert.are.equal(text, serialize.to_json(serialize.keras3_config(m2)))
    local cfg = json.decode(text)
    assert.are.equal("keras", cfg.module)
    assert.are.equal("Functional", cfg.class_name)
    local by_name = {}
    for _, l in ipairs(cfg.config.layers) do by_name[l.name] = l end
    assert.are.equal("DTypePolicy", by_name.fc.config.dtype.class_name)
    assert.are.same({"img", 0, 0}, by_name.conv.inbound_nodes[1].args[1].config.keras_history)
    assert.are.equal(2, #by_name.cat.inbound_nodes[1].args[1])        -- a list argument
    assert.are.same({"inner_seq", 0, 0},                                -- Keras 3: Sequential counts from 0
      by_name.inner_model.inbound_nodes[1].args[1].config.keras_history)
    assert.are.equal(nil, by_name.lstm.config.implementation)
    assert.are.equal(json.null, by_name.lstm.config.seed)
  end)

  it("a deferred Sequential keeps its build_input_shape; a Sequential config list (Keras <= 2.2) builds", function()
    local s = wk.Sequential{L.Dense{3, name = "a"}, L.Dense{2, name = "b"}, name = "deferred"}
    s:build({false, 4})
    local s2 = models.from_config(s:to_json())
    assert.are.same(weight_shapes(s), weight_shapes(s2))
    local old = models.from_config([=[{"class_name": "Sequential", "config": [
      {"class_name": "Dense", "config": {"name": "a", "units": 3, "batch_input_shape": [null, 4]}},
      {"class_name": "Dense", "config": {"name": "b", "units": 2}}]}]=])
    assert.are.same({"(4,3)", "(3,)", "(3,2)", "(2,)"}, weight_shapes(old))
    assert.are.equal("Sequential", json.decode(old:to_json()).class_name)
  end)

  it("wk.Sequential:from_config / wk.Model:from_config take the config part", function()
    local s = wk.Sequential{L.Input{shape = {4}}, L.Dense{3}}
    local s2 = wk.Sequential:from_config(s:get_config())
    assert.are.equal("Sequential", s2.class_name)
    assert.are.same(weight_shapes(s), weight_shapes(s2))
    local x = L.Input{shape = {2}}
    local f = wk.Model{inputs = x, outputs = L.Dense{1}(x)}
    local f2 = wk.Model:from_config(serialize.to_json(f:get_config()))
    assert.are.same(weight_shapes(f), weight_shapes(f2))
  end)
end)
