--[[
Specs for TensorFlow checkpoints in Lua (lua/weightkit/tfckpt/: graph.lua, load.lua, save.lua; the
subclassed-model stand-in lua/weightkit/subclassed.lua).

tf.keras facts used as data (keras-formats.md §5.5-§5.8), checked against the real fixtures where
they carry them:
  - Checkpoint(root=model): keys have no `model/` prefix; a weighted layer of a Functional/Sequential
    is `layer_with_weights-<j>` (listed before `layer-<i>`), so its variables' keys use it;
    Functional's layer-0 is its InputLayer; Sequential's layers exclude it (tf.keras >= 2.1);
  - BatchNormalization: gamma, beta, moving_mean, moving_variance; LSTM: cell/{kernel,
    recurrent_kernel, bias}; Bidirectional: forward_layer/backward_layer (the original `layer` is not
    tracked); TimeDistributed: layer; nested models nest;
  - escaping `.` -> `..`, `/` -> `.S`; full_name = variable name without ":0";
  - restore errors: "Received incompatible tensor with shape ... when attempting to restore variable
    with shape ... and name ...", the by_name NotImplementedError, skip_mismatch ValueError,
    assert_nontrivial_match's AssertionErrors, SavedModel "Unable to load weights. ..." text;
  - the `checkpoint` file: `model_checkpoint_path: "<base>"` / `all_model_checkpoint_paths: "<base>"`
    (the real ttt fixture's file is exactly that).
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local errors = require "weightkit.errors"
local graph = require "weightkit.tfckpt.graph"
local tfsave = require "weightkit.tfckpt.save"
local shell = require "support.shell"
local fx = require "support.tfckpt_models"
local L = wk.layers

local tmpdir = shell.temp_dir("wk_tfckpt_spec")
teardown(function() shell.remove_dir(tmpdir) end)
before_each(function() wk.backend.clear_session() end)

local function tmp(name) return tmpdir .. "/" .. name end

local function keys_of(model)
  local out = {}
  for _, e in ipairs(graph.build(model).entries) do out[#out + 1] = e.key end
  return out
end

local function sorted(list)
  local c = table.move(list, 1, #list, 1, {})
  table.sort(c)
  return c
end

local function root_edges(model)
  local out = {}
  for _, c in ipairs(graph.build(model).nodes[1].children) do out[#out + 1] = c.local_name end
  return out
end

local function sha(t) return core.tensor_sha256(t) end

-- Fills every variable with distinct values (seeded), so a load or a save is visible.
local function fill(model, seed)
  local rng = wk.rng(seed)
  for _, v in ipairs(model:weights()) do
    v.value:fill_uniform(rng, -1, 1)
  end
end

local function values(model)
  local out = {}
  for i, v in ipairs(model:weights()) do out[i] = sha(v.value) end
  return out
end

--{==================================================================================================
describe("tfckpt graph: tf.keras key naming", function()
  it("Sequential Dense(512)/Dropout/Dense(10) has the real tf20 checkpoint's value keys and shapes", function()
    local m = fx.tf20_model()
    local expected = fx.expected("tfckpt_tf20_tutorial_cp0000")
    assert.are.same(fx.value_keys(expected), sorted(keys_of(m)))
    for _, e in ipairs(graph.build(m).entries) do
      assert.are.same(expected[e.key].shape, e.tensor:shape())
    end
    -- both edges per weighted layer, weighted first; no InputLayer in a Sequential's layers
    assert.are.same({ "layer_with_weights-0", "layer-0", "layer-1", "layer_with_weights-1", "layer-2" },
      root_edges(m))
  end)

  it("a subclassed model names children by attribute: the real ttt keys", function()
    local m = fx.ttt_model()
    assert.are.same(fx.value_keys((fx.expected("tfckpt_ttt_subclassed"))), sorted(keys_of(m)))
  end)

  it("Functional: the InputLayer is layer-0; weighted layers' keys use layer_with_weights-j", function()
    local x = L.Input{shape = {4}}
    local y = L.Dense{3}(L.Dropout{0.1}(L.Dense{5}(x)))
    local m = wk.Model{x, y}
    assert.are.same({ "layer-0", "layer_with_weights-0", "layer-1", "layer-2", "layer_with_weights-1", "layer-3" },
      root_edges(m))
    assert.are.same({ "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE" }, keys_of(m))
  end)

  it("BatchNormalization, LSTM (cell), Bidirectional, TimeDistributed, nested models", function()
    local x = L.Input{shape = {5, 3}}
    local y = L.Bidirectional{L.LSTM{4, return_sequences = true}}(x)
    y = L.BatchNormalization{}(y)
    y = L.TimeDistributed{L.Dense{2}}(y)
    y = L.LSTM{2}(y)
    local inner = wk.Sequential{ L.Dense{3, input_shape = {2}}, L.Dense{2} }
    y = inner(y)
    local m = wk.Model{x, y}
    local keys = sorted(keys_of(m))
    local want = {}
    for _, side in ipairs{ "forward_layer", "backward_layer" } do
      for _, w in ipairs{ "kernel", "recurrent_kernel", "bias" } do
        want[#want + 1] = "layer_with_weights-0/" .. side .. "/cell/" .. w .. "/.ATTRIBUTES/VARIABLE_VALUE"
      end
    end
    for _, w in ipairs{ "gamma", "beta", "moving_mean", "moving_variance" } do
      want[#want + 1] = "layer_with_weights-1/" .. w .. "/.ATTRIBUTES/VARIABLE_VALUE"
    end
    for _, w in ipairs{ "kernel", "bias" } do
      want[#want + 1] = "layer_with_weights-2/layer/" .. w .. "/.ATTRIBUTES/VARIABLE_VALUE"
    end
    for _, w in ipairs{ "kernel", "recurrent_kernel", "bias" } do
      want[#want + 1] = "layer_with_weights-3/cell/" .. w .. "/.ATTRIBUTES/VARIABLE_VALUE"
    end
    for j = 0, 1 do
      for _, w in ipairs{ "kernel", "bias" } do
        want[#want + 1] = "layer_with_weights-4/layer_with_weights-" .. j .. "/" .. w .. "/.ATTRIBUTES/VARIABLE_VALUE"
      end
    end
    assert.are.same(sorted(want), keys)
  end)

  it("BFS numbering: an object reached twice keeps one node id; attributes carry full_name", function()
    local m = fx.tf20_model()
    local g = graph.build(m)
    local root = g.nodes[1].children
    assert.are.equal(root[1].node_id, root[2].node_id) -- layer_with_weights-0 and layer-0: the same Dense
    local dense = g.nodes[root[1].node_id + 1]
    local kernel = g.nodes[dense.children[1].node_id + 1]
    assert.are.same({ { name = "VARIABLE_VALUE", full_name = m.layers[1].name .. "/kernel",
      checkpoint_key = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", optional_restore = false } },
      kernel.attributes)
  end)

  it("escapes names as trackable_utils does", function()
    assert.are.equal("a..b.Sc", graph.escape("a.b/c"))
    assert.are.equal("x/a..b.Sc/.ATTRIBUTES/VARIABLE_VALUE", graph.key({ "x", "a.b/c" }))
    local m = wk.models.Subclassed{ children = { {"my.head", L.Dense{1}} } }
    m:build({false, 2})
    assert.are.same({ "my..head/kernel/.ATTRIBUTES/VARIABLE_VALUE", "my..head/bias/.ATTRIBUTES/VARIABLE_VALUE" },
      keys_of(m))
  end)

  it("a list child is a node of its own: name/0, name/1", function()
    local m = wk.models.Subclassed{ children = { {"blocks", { L.Dense{3}, L.Dense{2} }} } }
    m:build({false, 4})
    assert.are.same({ "blocks/0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "blocks/0/bias/.ATTRIBUTES/VARIABLE_VALUE",
      "blocks/1/kernel/.ATTRIBUTES/VARIABLE_VALUE", "blocks/1/bias/.ATTRIBUTES/VARIABLE_VALUE" }, keys_of(m))
  end)
end)

--{==================================================================================================
describe("Subclassed models", function()
  it("build() pushes no scope, calling the model builds under its name", function()
    local m = fx.ttt_model()
    assert.are.equal("dense/kernel:0", m:weights()[1].name)
    wk.backend.clear_session()
    local c = fx.actor_model()
    local n = wk.models.Subclassed{ class_name = "ActorNetwork", children = { {"fc1", L.Dense{2}} } }
    local out = n(wk.zeros{1, 3})
    assert.are.same({ 1, 2 }, out:shape())
    assert.are.equal("actor_network_1/dense_3/kernel:0", n:weights()[1].name)
    assert.are.equal("actor_network", c.name)
  end)

  it("refuses clashing or malformed children", function()
    assert.has_error(function() wk.models.Subclassed{ children = { {"layers", L.Dense{1}} } } end,
      "ValueError: Subclassed child name 'layers' clashes with a model field or method")
    assert.has_error(function() wk.models.Subclassed{ children = { {"a/b", L.Dense{1}} } } end,
      "ValueError: Subclassed child #1 needs a name (an attribute name without '/')")
    assert.has_error(function() wk.models.Subclassed{ kids = {} } end,
      "TypeError: Subclassed got an unexpected argument: kids")
  end)
end)

--{==================================================================================================
describe("tfckpt load: the real fixtures", function()
  local function check_values(model, expected_name)
    local expected = fx.expected(expected_name)
    local g = graph.build(model)
    for v, key in pairs(g.keys) do
      local e = expected[key]
      assert.is_not_nil(e, key)
      assert.are.equal(e.sha256, sha(v.value), key)
    end
  end

  it("tf20 tutorial checkpoint into the Sequential (prefix path)", function()
    local m = fx.tf20_model()
    local report = m:load_weights(fx.TF20)
    check_values(m, "tfckpt_tf20_tutorial_cp0000")
    assert.are.equal("tf-checkpoint", report.mode)
    assert.are.equal("tf-checkpoint", report.format)
    assert.are.equal(2, #report.matched)
    assert.are.equal("layer_with_weights-0", report.matched[1].file)
    assert.are.equal(m.layers[1].name, report.matched[1].layer)
    assert.are.equal("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", report.matched[1].weights[1].file)
    assert.are.same({}, report.missing)
    assert.are.same({}, report.unused)      -- OBJECT_CONFIG_JSON strings are no values
    -- TF 2.0-alpha's Sequential listed its InputLayer as layer-0: the saved Dense(512) is also `layer-1`,
    -- which is the Dropout here (tf warns alike); the values still go by layer_with_weights-N
    assert.are.equal(1, #report.warnings)
    assert.matches("^Inconsistent references .*%(root%)%.layer%-1", report.warnings[1])
    assert.matches("tf%-checkpoint", tostring(report))
  end)

  it("also through the .index file and an opened file", function()
    local m = fx.tf20_model()
    m:load_weights(fx.TF20 .. ".index")
    check_values(m, "tfckpt_tf20_tutorial_cp0000")
    local m2 = fx.tf20_model()
    local f = assert(wk.open(fx.TF20))
    m2:load_weights(f)
    f:close()
    check_values(m2, "tfckpt_tf20_tutorial_cp0000")
  end)

  it("ttt subclassed checkpoint, by prefix and by its directory (`checkpoint` file)", function()
    for _, path in ipairs{ fx.TTT, fx.TTT_DIR } do
      wk.backend.clear_session()
      local m = fx.ttt_model()
      local report = m:load_weights(path)
      check_values(m, "tfckpt_ttt_subclassed")
      assert.are.equal(3, #report.matched)
      assert.are.same({ "common", "actor", "critic" },
        { report.matched[1].file, report.matched[2].file, report.matched[3].file })
    end
  end)

  it("SavedModel directory: variables found through the attribute names; optimizer listed apart", function()
    local m = fx.actor_model()
    local report = m:load_weights(fx.ACTOR_DIR)
    assert.are.equal("savedmodel", report.format)
    local expected = fx.expected("savedmodel_tcp_actor")
    local ws = m:weights()
    for i = 0, 5 do
      assert.are.equal(expected["variables/" .. i .. "/.ATTRIBUTES/VARIABLE_VALUE"].sha256, sha(ws[i + 1].value))
    end
    assert.are.same({}, report.unused)
    assert.are.same({}, report.missing)
    assert.are.equal(14, #report.optimizer)  -- _iterations, _learning_rate, _variables/1..12
    assert.are.same({}, report.warnings)
  end)

  it("unused values: one warning with the count, the report lists the keys", function()
    local m = fx.actor_model({ fc1 = true, fc2 = true })
    local warnings, report = errors.capture_warnings(function() return m:load_weights(fx.ACTOR_DIR) end)
    assert.are.same({ "variables/4/.ATTRIBUTES/VARIABLE_VALUE", "variables/5/.ATTRIBUTES/VARIABLE_VALUE" },
      report.unused)
    assert.are.equal(1, #warnings)
    assert.matches("2 value%(s%) matched no variable", warnings[1])
  end)
end)

--{==================================================================================================
describe("tfckpt load: errors", function()
  it("shape mismatch: tf's text, and nothing is assigned", function()
    local m = wk.Sequential{ L.Dense{512, input_shape = {784}}, L.Dropout{0.2}, L.Dense{7} }
    fill(m, 3)
    local before = values(m)
    assert.has_error(function() m:load_weights(fx.TF20) end,
      "ValueError: Received incompatible tensor with shape (512, 10) when attempting to restore variable with " ..
      "shape (512, 7) and name layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE.")
    assert.are.same(before, values(m))
  end)

  it("by_name and skip_mismatch", function()
    local m = fx.tf20_model()
    assert.has_error(function() m:load_weights(fx.TF20, { by_name = true }) end,
      "NotImplementedError: Weights may only be loaded based on topology into Models when loading " ..
      "TensorFlow-formatted weights (got by_name=True to load_weights).")
    assert.has_error(function() m:load_weights(fx.TF20, { skip_mismatch = true }) end,
      "ValueError: When calling model.load_weights, skip_mismatch can only be set to True when by_name is True.")
  end)

  it("only the root matched: AssertionError listing the model's variables", function()
    local m = fx.tf20_model()
    local ok, err = pcall(m.load_weights, m, fx.TTT)
    assert.is_false(ok)
    local reprs = {}
    for i, v in ipairs(m:weights()) do reprs[i] = tostring(v) end
    assert.are.equal("AssertionError: Nothing except the root object matched a checkpointed value. Typically " ..
      "this means that the checkpoint does not match the Python program. The following objects have no " ..
      "matching checkpointed value: [" .. table.concat(reprs, ", ") .. "]", err)
    assert.are.equal("<tf.Variable 'dense/kernel:0' shape=(784, 512) dtype=float32>", reprs[1])
  end)

  it("a model without variables: Nothing to load", function()
    local m = wk.models.Subclassed{ children = { {"flatten", L.Flatten{}} } }
    m:build({false, 2, 2})
    assert.has_error(function() m:load_weights(fx.TTT) end,
      "AssertionError: Nothing to load. No dependencies have been added to " .. tostring(m) .. " yet.")
  end)

  it("an unbuilt subclassed model", function()
    local m = wk.models.Subclassed{ name = "sub", children = { {"common", L.Dense{128}} } }
    local ok, err = pcall(m.load_weights, m, fx.TTT)
    assert.is_false(ok)
    assert.matches("^ValueError: Model 'sub' has not created its variables yet", err)
  end)

  it("a checkpoint without an object graph (name-based) is refused", function()
    local prefix = tmp("namebased")
    assert(core.save_tf_checkpoint(prefix, { entries = { { key = "dense/kernel", tensor = wk.zeros{2, 1} } } }))
    local m = wk.Sequential{ L.Dense{1, input_shape = {2}} }
    local ok, err = pcall(m.load_weights, m, prefix)
    assert.is_false(ok)
    assert.matches("^ValueError: .*namebased has no object graph %(_CHECKPOINTABLE_OBJECT_GRAPH%): it is a " ..
      "name%-based %(TF1%) checkpoint", err)
  end)

  it("a SavedModel directory with unreadable variables", function()
    local dir = tmp("broken_savedmodel")
    os.execute("mkdir -p '" .. dir .. "/variables' && : > '" .. dir .. "/saved_model.pb'")
    local m = fx.actor_model()
    assert.has_error(function() m:load_weights(dir) end,
      "ValueError: Unable to load weights. filepath " .. dir .. " appears to be a SavedModel directory, but " ..
      "checkpoint either doesn't exist, or is incorrectly formatted.")
  end)
end)

--{==================================================================================================
describe("tfckpt save", function()
  it("writes what tf.keras writes: keys, values, CRCs, graph, `checkpoint` file", function()
    local m = fx.tf20_model()
    fill(m, 7)
    local prefix = tmp("seq/cp-0001.ckpt")
    os.execute("mkdir -p '" .. tmp("seq") .. "'")
    assert.is_true(m:save_weights(prefix))
    local facts = fx.facts_of(prefix .. ".index")
    local real = fx.expected("tfckpt_tf20_tutorial_cp0000")
    assert.are.same(fx.value_keys(real), fx.value_keys(facts))
    local g = graph.build(m)
    for v, key in pairs(g.keys) do
      assert.is_true(facts[key].crc32c_ok, key)
      assert.are.equal(sha(v.value), facts[key].sha256, key)
      assert.are.same(real[key].shape, facts[key].shape)
    end
    assert.is_not_nil(facts["_CHECKPOINTABLE_OBJECT_GRAPH"])
    -- the graph, decoded by an independent reader
    local pg = fx.graph_of(prefix)
    assert.are.equal(#g.nodes, #pg)
    for i, n in ipairs(g.nodes) do
      local ch = {}
      for j, c in ipairs(n.children) do ch[j] = { c.node_id, c.local_name } end
      assert.are.same(ch, pg[i].children)
      local at = {}
      for j, a in ipairs(n.attributes) do at[j] = { a.name, a.full_name, a.checkpoint_key, a.optional_restore } end
      assert.are.same(at, pg[i].attributes)
    end
    assert.are.equal('model_checkpoint_path: "cp-0001.ckpt"\nall_model_checkpoint_paths: "cp-0001.ckpt"\n',
      fx.slurp(tmp("seq/checkpoint")))
  end)

  it("the `checkpoint` text is the real ttt file's", function()
    local _, doc = fx.expected("tfckpt_ttt_subclassed")
    assert.are.equal(doc.checkpoint_state_text, tfsave.state_text("checkpoints/my_checkpoint"))
    assert.are.equal(fx.slurp(fx.TTT_DIR .. "/checkpoint"), tfsave.state_text("/abs/my_checkpoint"))
    assert.are.equal('model_checkpoint_path: "a\\"b\\303\\251"\nall_model_checkpoint_paths: "a\\"b\\303\\251"\n',
      tfsave.state_text("d/a\"b\195\169"))
  end)

  it("round trip: save, load into a fresh model, same values; subclassed and functional", function()
    local function roundtrip(make, name)
      local a = make()
      fill(a, 11)
      assert.is_true(a:save_weights(tmp(name), { save_format = "tf" }))
      local b = make()
      fill(b, 12)
      local report = b:load_weights(tmp(name))
      assert.are.same(values(a), values(b))
      assert.are.same({}, report.unused)
      assert.are.same({}, report.missing)
    end
    roundtrip(fx.ttt_model, "ttt_rt")
    roundtrip(function()
      local x = L.Input{shape = {5, 3}}
      local y = L.Bidirectional{L.LSTM{4}}(x)
      y = L.BatchNormalization{}(y)
      return wk.Model{x, L.Dense{2}(y)}
    end, "fn_rt")
  end)

  it("the saved subclassed checkpoint has the real ttt key set", function()
    local m = fx.ttt_model()
    assert.is_true(m:save_weights(tmp("ttt_keys")))
    assert.are.same(fx.value_keys((fx.expected("tfckpt_ttt_subclassed"))),
      fx.value_keys((fx.facts_of(tmp("ttt_keys.index")))))
  end)

  it("overwrite = false checks P.index; a missing directory is an OSError", function()
    local m = fx.ttt_model()
    assert.is_true(m:save_weights(tmp("ow")))
    local saving = require "weightkit.saving"
    local saved = saving.terminal
    saving.terminal = { is_interactive = function() return false end }
    local ok, err = pcall(m.save_weights, m, tmp("ow"), { overwrite = false })
    saving.terminal = saved
    assert.is_false(ok)
    assert.are.equal("FileExistsError: " .. tmp("ow.index") .. " already exists (save_weights with overwrite = false)",
      err)
    assert.has_error(function() m:save_weights(tmp("nodir/x")) end,
      "OSError: cannot save " .. tmp("nodir/x") .. ": directory " .. tmp("nodir") .. " does not exist")
  end)
end)
