--[[
weightkit.editor (issue 6, point 2): file surgery without a model on real files of every format
(../shared/fixtures/real, copied to a temp dir before anything is written), every edit checked by
reopening the saved file (sha256 of the values), conversions between every pair of formats round
tripped, h5py reading what Keras would read, and compare against Lua models.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local json = require "weightkit.json"
local editor = require "weightkit.editor"
local K = require "support.keras3_models"
local shell = require "support.shell"

local L = wk.layers
local PY = "/usr/bin/python3"

local tmpdir = shell.temp_dir("wk_editor_spec")
local function tmp(name) return tmpdir .. "/" .. name end

local function copy(name)
  local src, dst = K.real(name), tmp(name:gsub("/", "_"))
  assert(os.execute(string.format("cp -r '%s' '%s'", src, dst)))
  return dst
end

local function h5dump(path)
  local text, ok = shell.sh(PY .. " spec/support/editor_h5_dump.py '" .. path .. "'")
  assert(ok, "h5py failed on " .. path)
  return json.decode(text, "dump")
end

local function quiet(fn, ...)
  return select(2, errors.capture_warnings(fn, ...))
end

local function sha(t) return core.tensor_sha256(t) end

-- {object = {weight = sha, ...}, ...} and the ordered list of "object|weight|sha" of every tensor.
local function values(ed, skip_optimizer)
  local by, list = {}, {}
  for _, o in ipairs(ed:objects()) do
    if not (skip_optimizer and o.optimizer) then
      by[o.name] = {}
      for _, w in ipairs(o.weights) do
        if w.dtype ~= "string" then
          local h = sha(ed:get(o.name, w.name))
          by[o.name][w.name] = h
          list[#list + 1] = h
        end
      end
    end
  end
  return by, list
end

local function sorted(list)
  local c = table.move(list, 1, #list, 1, {})
  table.sort(c)
  return c
end

local function names_of(ed)
  local out = {}
  for i, o in ipairs(ed:objects()) do out[i] = o.name end
  return out
end

local ALL = {
  "k1_theano_deepcell_ecoli_conv_bn_weights.h5", "k111_chemts_embedding_gru_timedistributed_weights.h5",
  "k120_behavioral_cloning_conv_full.h5", "k206_fml_jettagger_conv2d_bn_weights.h5",
  "k213_theano_pollution_lstm_full.h5", "k216tf_vae_cnn_nested_weights.h5", "k224_keras2c_functional_lstm_full.h5",
  "k231_behavioral_cloning_namescope_weights.h5", "k260_simplernn_full.h5", "k280_lstm3_genre_weights.h5",
  "k392_legacy_bidirectional_lstm_full.h5", "k3_dense_adam.weights.h5", "k315_nested_container.keras",
  "k2150_windows_backslash_dense.keras", "k392_hybrid_conv1d_bilstm_bn.keras",
  "tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt", "tfckpt_ttt_subclassed", "savedmodel_tcp_actor",
}

teardown(function() shell.remove_dir(tmpdir) end)

describe("editor.open / objects / summary", function()
  for _, name in ipairs(ALL) do
    it("lists " .. name .. " as wk.open does, with a summary naming every object and weight", function()
      local ed <close> = editor.open(K.real(name))
      local f <close> = assert(wk.open(K.real(name)))
      assert.equal(f.format, ed.format)
      local objects = ed:objects()
      local layers = f:layers()
      local n = #layers + (f.top_level_weights and 1 or 0) + (f.optimizer_weights and 1 or 0)
      assert.equal(n, #objects)
      local text = ed:summary()
      assert.equal(text, tostring(ed))
      local nweights = 0
      for i, l in ipairs(layers) do
        assert.equal((l.name:gsub("\\", "/")), objects[i].name)
        assert.equal(#l.weights, #objects[i].weights)
        for j, w in ipairs(l.weights) do
          assert.same(w.shape, objects[i].weights[j].shape)
          assert.truthy(text:find(w.name, 1, true))
          nweights = nweights + 1
        end
      end
      assert.truthy(text:find(string.format("%d object(s)", n), 1, true))
    end)
  end

  it("flags top-level and optimizer objects", function()
    local ed <close> = editor.open(K.real("k392_legacy_bidirectional_lstm_full.h5"))
    local o = ed:objects()
    assert.equal("top_level_model_weights", o[#o - 1].name)
    assert.is_true(o[#o - 1].top_level)
    assert.equal("optimizer_weights", o[#o].name)
    assert.is_true(o[#o].optimizer)
    local k3 <close> = editor.open(K.real("k3_dense_adam.weights.h5"))
    local by = {}
    for _, x in ipairs(k3:objects()) do by[x.name] = x end
    assert.is_true(by[""].top_level)
    assert.is_true(by.optimizer.optimizer)
    assert.is_false(by["layers/dense"].optimizer)
  end)

  it("reads tensors lazily and gives the fixture's bytes", function()
    local e = K.expected("k3_dense_adam.weights.h5")
    local ed <close> = editor.open(K.real("k3_dense_adam.weights.h5"))
    local want = {}
    for _, v in ipairs(e.weights.variables) do want[v.path or v.name] = v.sha256 end
    assert.equal(want["layers/dense/vars/0"], sha(ed:get("layers/dense", "0")))
  end)

  it("opens an already opened file without closing it", function()
    local f <close> = assert(wk.open(K.real("k206_fml_jettagger_conv2d_bn_weights.h5")))
    local ed = editor.open(f)
    ed:close()
    assert.is_false(f:is_closed())
  end)
end)

describe("editor edits", function()
  it("every edit operation, saved over the source, reopened", function()
    local path = copy("k3_dense_adam.weights.h5")
    local ed = editor.open(path)
    local before = values(ed)
    local kernel = ed:get("layers/dense", "0")
    ed:rename_object("layers/dense", "layers/head")
    ed:add_object("layers/extra", { { "a", wk.tensor{ 1, 2, 3 } }, { name = "b", tensor = wk.ones{ 2, 2 } } })
    ed:add_object("layers/keras_like", { ["1"] = wk.tensor{ 5 }, ["0"] = wk.tensor{ 4 }, ["10"] = wk.tensor{ 6 } })
    ed:delete_weight("layers/extra", "a")
    ed:add_weights("layers/extra", { wk.tensor{ 7, 8 } })
    ed:rename_weight("layers/keras_like", "10", "2")
    ed:set("layers/head", "1", wk.full({ 12 }, 0.5))
    ed:delete_object("optimizer")
    assert.is_true(quiet(ed.save, ed, path))
    ed:close()
    -- the kernel read zero-copy from the replaced file is still intact
    assert.equal(before["layers/dense"]["0"], sha(kernel))
    local re <close> = editor.open(path)
    assert.same({ "", "layers/extra", "layers/head", "layers/keras_like" }, sorted(names_of(re)))
    local v = values(re)
    assert.equal(before["layers/dense"]["0"], v["layers/head"]["0"])
    assert.same({ 12 }, re:get("layers/head", "1"):shape())
    assert.equal(0.5, re:get("layers/head", "1"):totable()[12])
    -- Keras 3 datasets are renumbered in order
    assert.same(wk.ones{ 2, 2 }:totable(), re:get("layers/extra", "0"):totable())
    assert.same({ 7, 8 }, re:get("layers/extra", "1"):totable())
    assert.same({ 4 }, re:get("layers/keras_like", "0"):totable())
    assert.same({ 5 }, re:get("layers/keras_like", "1"):totable())
    assert.same({ 6 }, re:get("layers/keras_like", "2"):totable())
  end)

  it("moves and deletes nested objects with their parent", function()
    local ed <close> = editor.open(K.real("k392_hybrid_conv1d_bilstm_bn.keras"))
    local _, cell = values(ed)
    ed:rename_object("layers/bidirectional", "layers/bidi")
    local names = names_of(ed)
    assert.truthy(table.concat(names, ","):find("layers/bidi/forward_layer/cell", 1, true))
    assert.falsy(table.concat(names, ","):find("layers/bidirectional", 1, true))
    ed:delete_object("layers/bidi")
    assert.falsy(table.concat(names_of(ed), ","):find("layers/bidi", 1, true))
    assert.truthy(#cell > 0)
  end)

  it("raises ValueErrors naming the file, the object and the weight", function()
    local ed <close> = editor.open(K.real("k206_fml_jettagger_conv2d_bn_weights.h5"))
    local first, second
    for _, o in ipairs(ed:objects()) do
      if #o.weights >= 2 then
        if first then second = second or o else first = o end
      end
    end
    local name = first.name
    local ok, err = pcall(ed.delete_object, ed, "nope")
    assert.is_false(ok)
    assert.truthy(err:match("^ValueError: Object 'nope' not found in .*k206.*Available objects: %['"))
    ok, err = pcall(ed.delete_weight, ed, name, "nope:0")
    assert.truthy(err:match("^ValueError: Weight 'nope:0' not found in object '" .. name .. "'"))
    ok, err = pcall(ed.add_object, ed, name, {})
    assert.equal("ValueError: Object '" .. name .. "' already exists in " .. K.real("k206_fml_jettagger_conv2d_bn_weights.h5") .. ".", err)
    local other = second.name
    ok, err = pcall(ed.rename_object, ed, name, other)
    assert.truthy(err:match("^ValueError: Object '" .. other .. "' already exists"))
    local w = first.weights
    ok, err = pcall(ed.rename_weight, ed, name, w[1].name, w[2].name)
    assert.truthy(err:match("^ValueError: Weight '.*' already exists in object"))
    ok, err = pcall(ed.add_weights, ed, name, { { w[1].name, wk.tensor{ 1 } } })
    assert.truthy(err:match("^ValueError: Weight '.*' already exists in object"))
    ok, err = pcall(ed.save, ed, tmp("x.weights.json"))
    assert.truthy(err:match("^ValueError: .*max_shard_size"))
    ok, err = pcall(ed.resave_weights, ed, tmp("x.h5"))
    assert.equal("ValueError: The filename must end in `.weights.h5`. Received: filepath=" .. tmp("x.h5"), err)
  end)

  it("overwrite = false: FileExistsError when nobody can be asked", function()
    local path = copy("k206_fml_jettagger_conv2d_bn_weights.h5")
    local ed <close> = editor.open(path)
    local saving = require "weightkit.saving"
    local prev = saving.terminal.is_interactive
    saving.terminal.is_interactive = function() return false end
    local ok, err = pcall(ed.save, ed, path, { overwrite = false })
    saving.terminal.is_interactive = prev
    assert.is_false(ok)
    assert.truthy(err:match("^FileExistsError: "))
  end)
end)

describe("editor saves keep what Keras reads", function()
  it("a Keras 1 file keeps reading as Keras 1; a full model keeps its model_config", function()
    local ed <close> = editor.open(K.real("k120_behavioral_cloning_conv_full.h5"))
    quiet(ed.save, ed, tmp("k120.h5"))
    local d = h5dump(tmp("k120.h5"))
    assert.is_true(d.model_config)
    assert.equal("1", d.keras_version)
    local f <close> = assert(wk.open(tmp("k120.h5")))
    local src <close> = assert(wk.open(K.real("k120_behavioral_cloning_conv_full.h5")))
    assert.equal(src:attribute("/", "model_config"), f:attribute("/", "model_config"))
    assert.same(src:layer_names(), f:layer_names())
  end)

  it("a theano file keeps its backend and the model loads the same values from the resave", function()
    local ed <close> = editor.open(K.real("k213_theano_pollution_lstm_full.h5"))
    quiet(ed.save, ed, tmp("k213.h5"))
    local f <close> = assert(wk.open(tmp("k213.h5")))
    assert.equal("theano", f.backend)
    assert.equal("2.1.3", f.keras_version)
    local m1 = wk.load_model(K.real("k213_theano_pollution_lstm_full.h5"))
    local m2 = wk.load_model(tmp("k213.h5"))
    local w1, w2 = m1:get_weights(), m2:get_weights()
    assert.equal(#w1, #w2)
    for i = 1, #w1 do assert.equal(sha(w1[i]), sha(w2[i])) end
  end)

  it("Keras 3 -> .h5: layer = object path, weights '<path>/<i>', as h5py reads them", function()
    local ed <close> = editor.open(K.real("k392_hybrid_conv1d_bilstm_bn.keras"))
    local by = values(ed)
    quiet(ed.save, ed, tmp("k392.h5"))
    local d = h5dump(tmp("k392.h5"))
    assert.same({ "layers/dense/0", "layers/dense/1" }, d.weight_names["layers/dense"])
    assert.equal(by["layers/dense"]["0"], d.datasets["layers/dense/layers/dense/0"].sha256)
    for _, n in ipairs(d.layer_names) do assert.is_not.equal("optimizer", n) end
  end)

  it("Keras 2 -> .weights.h5: object = layers/<layer name>, vars 0..n-1 in order, as h5py reads them", function()
    local ed <close> = editor.open(K.real("k216tf_vae_cnn_nested_weights.h5"))
    local by = values(ed)
    ed:save(tmp("k216.weights.h5"))
    local d = h5dump(tmp("k216.weights.h5"))
    assert.equal(by.encoder["conv2d_6/kernel:0"], d.datasets["layers/encoder/vars/0"].sha256)
    assert.equal(by.encoder["z_log_var_1/bias:0"], d.datasets["layers/encoder/vars/9"].sha256)
    assert.equal(by.decoder["decoder_output/bias:0"], d.datasets["layers/decoder/vars/7"].sha256)
    assert.is_nil(d.datasets["encoder/vars/0"])
  end)

  it("Keras 2 -> TF: keys without the layer scope and ':0', an object graph from the paths", function()
    local ed <close> = editor.open(K.real("k216tf_vae_cnn_nested_weights.h5"))
    local by = values(ed)
    ed:save(tmp("k216ck"))
    local f <close> = assert(wk.open(tmp("k216ck")))
    local keys = {}
    for _, d in ipairs(f:tensors()) do keys[d.path] = d end
    assert.truthy(keys["encoder/conv2d_6/kernel/.ATTRIBUTES/VARIABLE_VALUE"])
    local g = f:object_graph()
    assert.equal("encoder", g[1].children[1].local_name)
    local rd = assert(io.open(tmpdir .. "/checkpoint")):read("a")
    assert.truthy(rd:find('model_checkpoint_path: "k216ck"', 1, true))
    local re <close> = editor.open(tmp("k216ck"))
    assert.equal(by.encoder["conv2d_6/kernel:0"], sha(re:get("encoder/conv2d_6", "kernel")))
  end)

  it("resave_weights of a .keras gives its weights as .weights.h5", function()
    local ed <close> = editor.open(K.real("k315_nested_container.keras"))
    local _, want = values(ed)
    ed:resave_weights(tmp("k315.weights.h5"))
    local re <close> = editor.open(tmp("k315.weights.h5"))
    local _, got = values(re)
    assert.same(want, got)
  end)

  it("a .keras saved over itself keeps config.json and metadata.json", function()
    local path = copy("k392_hybrid_conv1d_bilstm_bn.keras")
    local src <close> = assert(wk.open(path))
    local config = src:member("config.json")
    local ed = editor.open(path)
    ed:set("layers/dense_1", "1", wk.tensor{ 1, 2, 3 })
    ed:save(path)
    ed:close()
    local f <close> = assert(wk.open(path))
    assert.equal(config, f:member("config.json"))
    local names = {}
    for i, m in ipairs(f:members()) do names[i] = m.name end
    assert.same({ "metadata.json", "config.json", "model.weights.h5" }, names)
    assert.same({ 1, 2, 3 }, f:get("layers/dense_1", "1"):totable())
    local m = K.k392()
    local report = quiet(m.load_weights, m, path)
    assert.equal(0, #report.missing)
  end)
end)

describe("editor conversions between every pair of formats", function()
  local SOURCES = {
    { "k216tf_vae_cnn_nested_weights.h5", ".h5" },
    { "k392_hybrid_conv1d_bilstm_bn.keras", ".weights.h5" },
    { "tfckpt_ttt_subclassed", "" },
    { "k3_dense_adam.weights.h5", ".weights.h5" },
  }
  local TARGETS = { ".h5", ".weights.h5", ".weights.json", "", ".safetensors" }

  for si, s in ipairs(SOURCES) do
    for ti, target in ipairs(TARGETS) do
      local label = string.format("%s -> '%s' -> back", s[1], target == "" and "TF prefix" or target)
      it(label, function()
        local ed <close> = editor.open(K.real(s[1]))
        local drop_opt = target == ".h5" -- a Keras 2 file holds no optimizer state
        local _, want = values(ed, drop_opt)
        local out = tmp(string.format("c%d_%d%s", si, ti, target))
        quiet(ed.save, ed, out, { max_shard_size = target == ".weights.json" and 0.0002 or nil })
        local mid <close> = editor.open(out)
        local _, got = values(mid)
        assert.same(sorted(want), sorted(got)) -- Keras 3 files list objects by name, TF by key
        local back = tmp(string.format("b%d_%d%s", si, ti, s[2]))
        quiet(mid.save, mid, back)
        local re <close> = editor.open(back)
        local _, again = values(re)
        assert.same(sorted(want), sorted(again))
      end)
    end
  end

  it("a sharded .weights.json splits objects across shards and reads back in order", function()
    local ed <close> = editor.open(K.real("k392_hybrid_conv1d_bilstm_bn.keras"))
    local _, want = values(ed)
    ed:save(tmp("sh.weights.json"), { max_shard_size = 0.0002 })
    local n = 0
    for _ in io.popen("ls " .. tmpdir .. "/sh_*.weights.h5"):lines() do n = n + 1 end
    assert.is_true(n > 2)
    local re <close> = editor.open(tmp("sh.weights.json"))
    assert.equal("keras3-sharded", re.format)
    local _, got = values(re)
    assert.same(want, got)
  end)

  it("shards of objects outside `layers` (TF attribute paths) still read as Keras 3 files", function()
    local ed <close> = editor.open(K.real("tfckpt_ttt_subclassed"))
    local _, want = values(ed)
    ed:save(tmp("ttt.weights.json"), { max_shard_size = 0.000005 })
    local n = 0
    for p in io.popen("ls " .. tmpdir .. "/ttt_*.weights.h5"):lines() do
      n = n + 1
      local f <close> = assert(wk.open(p))
      assert.equal("keras3-weights-h5", f.format)
    end
    assert.is_true(n >= 2)
    local re <close> = editor.open(tmp("ttt.weights.json"))
    local _, got = values(re)
    assert.same(sorted(want), sorted(got))
  end)

  it("TF -> TF keeps keys, string attributes and loads into the model tf.keras would build", function()
    local ed <close> = editor.open(K.real("tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt"))
    local _, want = values(ed)
    ed:save(tmp("tf20"))
    local a <close> = assert(wk.open(K.real("tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt")))
    local b <close> = assert(wk.open(tmp("tf20")))
    local ka, kb = {}, {}
    for _, d in ipairs(a:tensors()) do if d.path ~= "_CHECKPOINTABLE_OBJECT_GRAPH" then ka[#ka + 1] = d.path end end
    for _, d in ipairs(b:tensors()) do if d.path ~= "_CHECKPOINTABLE_OBJECT_GRAPH" then kb[#kb + 1] = d.path end end
    assert.same(ka, kb)
    local la, lb = a:layers(), b:layers()
    assert.same(a:strings(la[1].weights[1]), b:strings(lb[1].weights[1]))
    local re <close> = editor.open(tmp("tf20"))
    local _, got = values(re)
    assert.same(want, got)
  end)
end)

describe("editor:compare", function()
  it("k392 .keras against the k392 model: everything pairs, the optimizer aside", function()
    local ed <close> = editor.open(K.real("k392_hybrid_conv1d_bilstm_bn.keras"))
    local r = ed:compare(K.k392())
    assert.is_true(r.ok)
    assert.equal("keras3", r.mode)
    assert.same({ "optimizer" }, r.optimizer)
    local n = 0
    for _, m in ipairs(r.matched) do n = n + #m.weights end
    assert.equal(19, n)
    assert.truthy(tostring(r):find("everything pairs", 1, true))
  end)

  it("a mismatching model: shape and count mismatches, missing and unexpected objects", function()
    local ed <close> = editor.open(K.real("k392_hybrid_conv1d_bilstm_bn.keras"))
    local m = wk.Sequential{ L.Input{shape = {3, 2}}, L.Conv1D{64, 2, activation = "relu"},
      L.Bidirectional{L.LSTM{64, return_sequences = true}}, L.Dropout{0.3}, L.BatchNormalization{},
      L.LSTM{32}, L.Dense{64, activation = "relu"}, L.Dense{4}, L.Dense{2} }
    local r = ed:compare(m)
    assert.is_false(r.ok)
    assert.equal(2, #r.shape_mismatch) -- kernel and bias
    assert.equal("layers/dense_1", r.shape_mismatch[1].object)
    assert.same({ 64, 4 }, r.shape_mismatch[1].expected)
    assert.same({ 64, 3 }, r.shape_mismatch[1].received)
    assert.same({ "layers/dense_2" }, r.missing)
    ed:delete_weight("layers/conv1d", "1")
    ed:add_object("layers/stray", { wk.tensor{ 1 } })
    r = ed:compare(K.k392())
    assert.equal("layers/conv1d", r.count_mismatch[1].object)
    assert.equal(2, r.count_mismatch[1].expected)
    assert.equal(1, r.count_mismatch[1].received)
    assert.same({ "layers/stray" }, r.unexpected)
  end)

  it("Keras 2 files pair topologically (by name on request, or when the layer counts differ)", function()
    local m = K.k3_dense_adam()
    m:save_weights(tmp("dense.h5"))
    local ed <close> = editor.open(tmp("dense.h5"))
    assert.is_true(ed:compare(m).ok)
    local other = wk.Sequential{ L.Input{shape = {784}}, L.Dense{10, name = "renamed"} }
    assert.is_true(ed:compare(other).ok)
    local r = ed:compare(other, { by_name = true })
    assert.is_false(r.ok)
    ed:set(ed:objects()[1].name, ed:objects()[1].weights[1].name, wk.zeros{ 784, 11 })
    r = ed:compare(m)
    assert.equal(1, #r.shape_mismatch)
    assert.same({ 784, 11 }, r.shape_mismatch[1].received)
  end)

  it("TF checkpoints pair by the keys tf.keras writes", function()
    local m = K.k3_dense_adam()
    m:save_weights(tmp("densetf"), { save_format = "tf" })
    local ed <close> = editor.open(tmp("densetf"))
    assert.is_true(ed:compare(m).ok)
    ed:delete_weight("layer_with_weights-0", "bias")
    local r = ed:compare(m)
    assert.equal(1, #r.missing)
  end)
end)
