--[[
Specs for Model:save_weights (lua/weightkit/saving.lua over wk_write_keras2): the files are read back
by h5py (Debian's /usr/bin/python3, spec/support/keras_h5_check.py) and by our own reader.

Keras / h5py facts used here, stated as data (keras-formats.md §1.2-§1.4, §3.2, §3.7):
  - layer_names lists model.layers in order, weightless layers included (Functional: the InputLayer
    too; Sequential: no InputLayer); one group per layer; weight datasets at <layer>/<weight name>.
  - per layer the HDF5 order is trainable weights then non-trainable ones; for a nested model ALL
    its trainable weights (every sublayer) come before ALL its non-trainable ones.
  - top_level_model_weights exists (Keras >= 2.7), empty for these models.
  - the types below (TYPES) are h5py's for numpy `S<n>` lists, `numpy.asarray([])` and numpy scalars
    of bytes; datasets contiguous, unfiltered, fill time IFSET (2), allocation LATE (2).
  - chunking: Keras's HDF5_OBJECT_HEADER_LIMIT = 64512; the chunk count is the smallest k with
    ceil(n / k) * maxlen <= 64512; numpy.array_split gives the first n % k chunks one more item.
  - overwrite prompt (keras io_utils.ask_to_proceed_with_overwrite): '[WARNING] %s already exists -
    overwrite? [y/n]', then 'Enter "y" (overwrite) or "n" (cancel).' until y/n, then
    '[TIP] Next time specify overwrite=True!'.
  - tf.keras save_weights texts: 'Unknown format "%s". Was expecting one of {"tf", "h5"}.' and
    'save_weights got save_format="tf"/"tensorflow", but the filepath ("%s") looks like an HDF5
    file. Omit the ".h5"/".keras" when saving in TensorFlow format.'
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local saving = require "weightkit.saving"
local L = wk.layers
local Layer = require "weightkit.layer"

local PY = "/usr/bin/python3"
local CHECK = "spec/support/keras_h5_check.py"

local TYPES = {
  float32 = "<f4", float16 = "<f2", float64 = "<f8", bool = "|b1", int64 = "<i8", int32 = "<i4",
  uint8 = "|u1", int8 = "|i1", bfloat16 = "<f4", -- bfloat16 is stored as float32 (weightkit.h "Writing")
}
local LIMIT = 64512

local shell = require "support.shell"
local sh = shell.sh

local tmpdir = shell.temp_dir("wk_save_spec")
teardown(function() shell.remove_dir(tmpdir) end)
before_each(function() wk.backend.clear_session() end)

local function tmp(name) return tmpdir .. "/" .. name end

local function unquote(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end

-- Runs the h5py checker: {attrs = {[object] = {[name] = {type, shape}}}, datasets = {[path] = {...}},
-- layers = {names...}, weights = {[layer] = {{name, dtype, shape, sha}...}}, top = {...}, values = {}}
local function h5py_view(path)
  local text, ok = sh(PY .. " " .. CHECK .. " '" .. path .. "' 2>&1")
  assert(ok, "h5py checker failed: " .. text)
  local v = { attrs = {}, datasets = {}, layers = {}, weights = {}, top = {}, values = {} }
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = unquote(field) end
    if f[1] == "A" then
      v.attrs[f[2]] = v.attrs[f[2]] or {}
      v.attrs[f[2]][f[3]] = { type = f[4], shape = f[5] }
    elseif f[1] == "D" then
      v.datasets[f[2]] = { dtype = f[3], shape = f[4], layout = f[5], filters = f[6], h5py_type = f[7],
                           fill_time = f[8], alloc_time = f[9] }
    elseif f[1] == "K" then
      v.layers[#v.layers + 1] = f[3]
    elseif f[1] == "W" then
      v.weights[f[2]] = v.weights[f[2]] or {}
      table.insert(v.weights[f[2]], { name = f[4], dtype = f[5], shape = f[6], sha = f[7] })
    elseif f[1] == "T" then
      v.top[#v.top + 1] = { name = f[3], dtype = f[4], shape = f[5], sha = f[6] }
    elseif f[1] == "V" then
      v.values[f[2]] = f[3]
    else
      error("unexpected checker line: " .. line)
    end
  end
  return v
end

local function py_shape(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  local parts = {}
  for i, d in ipairs(shape) do parts[i] = tostring(d) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local function legacy_weights(layer)
  local out = {}
  for _, w in ipairs(layer:trainable_weights()) do out[#out + 1] = w end
  for _, w in ipairs(layer:non_trainable_weights()) do out[#out + 1] = w end
  return out
end

local function sha_of(v)
  local t = v.value
  if t:dtype() == "bfloat16" then t = t:astype("float32") end
  return core.tensor_sha256(t)
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function temp_files()
  local text = sh("ls -a '" .. tmpdir .. "'")
  local n = 0
  for line in text:gmatch("[^\n]+") do if line:find("wktmp", 1, true) then n = n + 1 end end
  return n
end

local function fill_random(model, seed)
  local rng = wk.rng(seed)
  for _, v in ipairs(model:weights()) do
    local dt = v:dtype()
    if dt == "bool" then
      local n = v:numel()
      local t = v.value:reshape({n})
      for i = 1, n do t[i] = (i % 3 == 1) end
    elseif dt:match("int") then
      local n = v:numel()
      local t = v.value:reshape({n})
      for i = 1, n do t[i] = (i * 37 + seed) % 100 end
    else
      v.value:fill_uniform(rng, -2, 2)
    end
  end
end

-- A layer holding weights of several dtypes (a Keras custom layer with add_weight(dtype=...)).
local Mixed = Layer:extend("Mixed")
Mixed.compute_output_shape = Layer.identity_shape
function Mixed:build(shape)
  self:add_weight{name = "half", shape = {shape[#shape], 2}, dtype = "float16"}
  self:add_weight{name = "mask", shape = {3}, dtype = "bool", initializer = "zeros", trainable = false}
  self:add_weight{name = "step", shape = {}, dtype = "int64", initializer = "zeros", trainable = false}
  self:add_weight{name = "bf", shape = {2, 2}, dtype = "bfloat16"}
  self:add_weight{name = "codes", shape = {4}, dtype = "uint8", initializer = "zeros", trainable = false}
  self:add_weight{name = "wide", shape = {2}, dtype = "float64"}
end

-- Every check of a saved model against h5py's view of the file.
local function check_file(model, path)
  local v = h5py_view(path)
  local names, maxlen = {}, 1
  for i, l in ipairs(model.layers) do
    names[i] = l.name
    maxlen = math.max(maxlen, #l.name)
  end
  -- layer_names: Keras's chunk-aware read gives model.layers in order
  assert.are.same(names, v.layers)
  -- root attributes
  local root = v.attrs["/"]
  local k = 1
  while k < #names and math.ceil(#names / k) * maxlen > LIMIT do k = k + 1 end
  if k == 1 then
    assert.are.same({ type = "fixed:" .. maxlen .. ":NULLPAD:ASCII", shape = "(" .. #names .. ",)" }, root.layer_names)
  else
    assert.is_nil(root.layer_names)
    for c = 0, k - 1 do
      local n = #names // k + ((c < #names % k) and 1 or 0)
      assert.are.same({ type = "fixed:" .. maxlen .. ":NULLPAD:ASCII", shape = "(" .. n .. ",)" },
        root["layer_names" .. c])
    end
    assert.is_nil(root["layer_names" .. k])
  end
  assert.are.same({ type = "fixed:10:NULLPAD:ASCII", shape = "()" }, root.backend)
  assert.are.same({ type = "fixed:6:NULLPAD:ASCII", shape = "()" }, root.keras_version)
  assert.are.same({ type = "fixed:" .. #core.version .. ":NULLPAD:ASCII", shape = "()" }, root.weightkit_version)
  assert.are.equal("2.15.0", v.values.keras_version)
  assert.are.equal("tensorflow", v.values.backend)
  -- groups, weight_names, datasets, values (Keras's topological read)
  local ndatasets = 0
  for _, l in ipairs(model.layers) do
    local ws = legacy_weights(l)
    local a = v.attrs["/" .. l.name].weight_names
    if #ws == 0 then
      assert.are.same({ type = "<f8", shape = "(0,)" }, a)
      assert.is_nil(v.weights[l.name])
    else
      local wmax = 1
      for _, w in ipairs(ws) do wmax = math.max(wmax, #w.name) end
      if #ws * wmax <= LIMIT then
        assert.are.same({ type = "fixed:" .. wmax .. ":NULLPAD:ASCII", shape = "(" .. #ws .. ",)" }, a)
      end
      local got = v.weights[l.name]
      assert.are.equal(#ws, #got)
      for i, w in ipairs(ws) do
        local want_dtype = TYPES[w:dtype()]
        local ds = v.datasets[l.name .. "/" .. w.name]
        assert.are.same({ dtype = want_dtype, shape = py_shape(w:shape()), layout = "contiguous", filters = "0",
                          h5py_type = "1", fill_time = "2", alloc_time = "2" }, ds)
        assert.are.same({ name = w.name, dtype = want_dtype, shape = py_shape(w:shape()), sha = sha_of(w) }, got[i])
        ndatasets = ndatasets + 1
      end
    end
  end
  assert.are.same({ type = "<f8", shape = "(0,)" }, v.attrs["/top_level_model_weights"].weight_names)
  local count = 0
  for _ in pairs(v.datasets) do count = count + 1 end
  assert.are.equal(ndatasets, count)
  return v
end

local function functional_model()
  local x = L.Input{shape = {4}}
  local h = L.Dense{units = 3}(x)
  h = L.Dropout{rate = 0.5}(h)
  h = L.BatchNormalization{}(h)
  h = Mixed{}(h)
  local y = L.Dense{units = 2, name = "out"}(h)
  return wk.Model{x, y}
end

describe("save_weights: HDF5 layout and exact types", function()
  it("a functional model: InputLayer, weightless layers, BatchNormalization, every dtype", function()
    local m = functional_model()
    fill_random(m, 7)
    local path = tmp("functional.h5")
    assert.is_true(m:save_weights(path))
    local v = check_file(m, path)
    -- the facts spelled out once, independently of the model walk above
    assert.are.same({ "input_1", "dense", "dropout", "batch_normalization", "mixed", "out" }, v.layers)
    local bn = {}
    for i, w in ipairs(v.weights.batch_normalization) do bn[i] = w.name end
    assert.are.same({ "batch_normalization/gamma:0", "batch_normalization/beta:0",
      "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0" }, bn)
    local mixed = {}
    for i, w in ipairs(v.weights.mixed) do mixed[i] = w.name .. " " .. w.dtype .. " " .. w.shape end
    assert.are.same({ "mixed/half:0 <f2 (3, 2)", "mixed/bf:0 <f4 (2, 2)", "mixed/wide:0 <f8 (2,)",
      "mixed/mask:0 |b1 (3,)", "mixed/step:0 <i8 ()", "mixed/codes:0 |u1 (4,)" }, mixed)
    assert.are.same({ type = "fixed:19:NULLPAD:ASCII", shape = "(6,)" }, v.attrs["/"].layer_names)
    assert.is_table(v.datasets["dense/dense/kernel:0"])
  end)

  it("a Sequential model: no InputLayer in layer_names", function()
    local m = wk.Sequential{ L.Input{shape = {3}}, L.Dense{units = 4, name = "fc1"}, L.Flatten{},
      L.Dense{units = 2, name = "fc2"} }
    fill_random(m, 3)
    local path = tmp("seq.h5")
    m:save_weights(path)
    local v = check_file(m, path)
    assert.are.same({ "fc1", "flatten", "fc2" }, v.layers)
  end)

  it("a nested model holds all trainable weights before all non-trainable ones", function()
    local inner = wk.Sequential{ L.Input{shape = {3}}, L.Dense{units = 2, name = "a"},
      L.BatchNormalization{name = "bn"}, L.Dense{units = 2, name = "b"}, name = "inner" }
    inner.layers[1].trainable = false -- a frozen sublayer moves to the non-trainable part
    local x = L.Input{shape = {3}}
    local m = wk.Model{x, L.Dense{units = 1, name = "head"}(inner(x))}
    fill_random(m, 11)
    local path = tmp("nested.h5")
    m:save_weights(path)
    local v = check_file(m, path)
    local order = {}
    for i, w in ipairs(v.weights.inner) do order[i] = w.name:match("([^/]+/[^/]+)$") end
    assert.are.same({ "bn/gamma:0", "bn/beta:0", "b/kernel:0", "b/bias:0", "a/kernel:0", "a/bias:0",
      "bn/moving_mean:0", "bn/moving_variance:0" }, order)
    -- not the get_weights order
    local gw = {}
    for i, w in ipairs(inner:weights()) do gw[i] = w.name:match("([^/]+/[^/]+)$") end
    assert.are_not.same(order, gw)
  end)

  it("3000+ layers: layer_names and weight_names chunked exactly as Keras", function()
    -- (functional: building a 3000-layer Sequential is slow in sequential.lua today)
    local x = L.Input{shape = {2}}
    local h = x
    for i = 1, 3001 do
      h = L.Activation{"linear", name = string.format("activation_layer_number_%05d", i)}(h)
    end
    -- a layer with 2101 weights whose names exceed the limit too
    local Many = Layer:extend("Many")
    Many.compute_output_shape = Layer.identity_shape
    function Many:build()
      for i = 1, 2101 do self:add_weight{name = string.format("w_%04d", i), shape = {1}, initializer = "ones"} end
    end
    local m = wk.Model{x, Many{name = "many_weights_layer_xxxxxxxxxxxxxx"}(h)}
    fill_random(m, 5)
    local path = tmp("chunked.h5")
    m:save_weights(path)
    local v = check_file(m, path)
    assert.are.equal(3003, #v.layers)
    -- 3003 names, the longest 33 bytes: 99099 > 64512; k = 2: numpy.array_split -> 1502 + 1501
    local root = v.attrs["/"]
    assert.are.same({ type = "fixed:33:NULLPAD:ASCII", shape = "(1502,)" }, root.layer_names0)
    assert.are.same({ type = "fixed:33:NULLPAD:ASCII", shape = "(1501,)" }, root.layer_names1)
    assert.is_nil(root.layer_names)
    assert.is_nil(root.layer_names2)
    -- weight names "many_weights_layer_xxxxxxxxxxxxxx/w_0001:0" (42 bytes): 2101 * 42 = 88242; k = 2:
    -- 1051 + 1050
    local g = v.attrs["/many_weights_layer_xxxxxxxxxxxxxx"]
    assert.are.same({ type = "fixed:42:NULLPAD:ASCII", shape = "(1051,)" }, g.weight_names0)
    assert.are.same({ type = "fixed:42:NULLPAD:ASCII", shape = "(1050,)" }, g.weight_names1)
    assert.is_nil(g.weight_names)
    assert.are.equal(2101, #v.weights.many_weights_layer_xxxxxxxxxxxxxx)
  end)
end)

describe("save_weights: round trips", function()
  it("our reader sees every value bit-exactly, and load_weights restores the model", function()
    local m = functional_model()
    fill_random(m, 21)
    local path = tmp("round.h5")
    m:save_weights(path)
    local f <close> = wk.open(path)
    assert.are.equal("2.15.0", f.keras_version)
    assert.are.equal("tensorflow", f.backend)
    local fl = f:layers()
    assert.are.equal(#m.layers, #fl)
    for i, l in ipairs(m.layers) do
      local ws = legacy_weights(l)
      assert.are.equal(l.name, fl[i].name)
      assert.are.equal(#ws, #fl[i].weights)
      for j, w in ipairs(ws) do
        assert.are.equal(w.name, fl[i].weights[j].name)
        assert.are.equal(sha_of(w), core.tensor_sha256(fl[i].weights[j].tensor))
      end
    end
    wk.backend.clear_session()
    local m2 = functional_model()
    fill_random(m2, 99)
    m2:load_weights(path)
    local w1, w2 = m:weights(), m2:weights()
    assert.are.equal(#w1, #w2)
    for i = 1, #w1 do assert.are.equal(core.tensor_sha256(w1[i].value), core.tensor_sha256(w2[i].value)) end
  end)
end)

describe("save_weights: formats and options", function()
  local m
  before_each(function()
    m = wk.Sequential{ L.Input{shape = {2}}, L.Dense{units = 1} }
  end)

  it("picks HDF5 from .h5 and .hdf5; .keras is Keras 3's archive, not a weights file name", function()
    for _, name in ipairs({ "a.h5", "a.hdf5" }) do
      assert.is_true(m:save_weights(tmp(name)))
      assert.are.equal("\137HDF\r\n\26\n", slurp(tmp(name)):sub(1, 8))
    end
    local ok, err = pcall(m.save_weights, m, tmp("a.keras"))
    assert.is_false(ok)
    assert.matches("^ValueError: The filename must end in `.weights.h5`. Received: filepath=", err)
    assert.is_nil(slurp(tmp("a.keras")))
  end)

  it("other suffixes and save_format = 'tf' write a TF checkpoint (lua/weightkit/tfckpt)", function()
    for _, name in ipairs({ "ckpt", "w.tf", "w.ckpt" }) do
      assert.is_true(m:save_weights(tmp(name)))
      assert.is_nil(slurp(tmp(name)))
      assert.is_not_nil(slurp(tmp(name .. ".index")))
      assert.is_not_nil(slurp(tmp(name .. ".data-00000-of-00001")))
    end
    assert.is_true(m:save_weights(tmp("ckpt2"), { save_format = "tf" }))
    assert.are.equal('model_checkpoint_path: "ckpt2"\nall_model_checkpoint_paths: "ckpt2"\n', slurp(tmp("checkpoint")))
    assert.are.equal("tf-checkpoint", m:load_weights(tmp("ckpt2")).mode)
  end)

  it("save_format = 'h5' (any case) writes HDF5 whatever the suffix", function()
    assert.is_true(m:save_weights(tmp("weights.bin"), { save_format = " H5 " }))
    assert.are.equal("\137HDF\r\n\26\n", slurp(tmp("weights.bin")):sub(1, 8))
    assert.is_true(m:save_weights(tmp("weights2"), { save_format = "keras" }))
    assert.are.same({ "dense" }, h5py_view(tmp("weights2")).layers)
  end)

  it("raises tf.keras's texts for contradicting or unknown formats", function()
    assert.has_error(function() m:save_weights(tmp("x.h5"), { save_format = "tf" }) end,
      'ValueError: save_weights got save_format="tf"/"tensorflow", but the filepath ("' .. tmp("x.h5") ..
      '") looks like an HDF5 file. Omit the ".h5"/".keras" when saving in TensorFlow format.')
    assert.has_error(function() m:save_weights(tmp("x.h5"), { save_format = "npz" }) end,
      'ValueError: Unknown format "npz". Was expecting one of {"tf", "h5"}.')
    assert.has_error(function() m:save_weights(tmp("x.h5"), { overwrit = true }) end,
      "TypeError: save_weights() got an unexpected keyword argument 'overwrit'")
  end)

  it("an unbuilt model raises tf.keras's text", function()
    local u = wk.Sequential{ L.Dense{units = 1} }
    assert.has_error(function() u:save_weights(tmp("u.h5")) end,
      "ValueError: Weights for model '" .. u.name .. "' have not yet been created. Weights are created when " ..
      "the model is first called on inputs or `build()` is called with an `input_shape`.")
  end)
end)

describe("save_weights: overwrite and failures", function()
  local m, path, before
  local saved_terminal
  before_each(function()
    m = wk.Sequential{ L.Input{shape = {2}}, L.Dense{units = 3, name = "d"}, L.Dense{units = 1, name = "e"} }
    fill_random(m, 1)
    path = tmp("keep.h5")
    assert.is_true(m:save_weights(path))
    before = slurp(path)
    fill_random(m, 2) -- different values: a successful save would change the bytes
    saved_terminal = saving.terminal
  end)
  after_each(function() saving.terminal = saved_terminal end)

  local function fake_terminal(interactive, answers)
    local written, i = {}, 0
    saving.terminal = {
      is_interactive = function() return interactive end,
      read_line = function() i = i + 1; return answers[i] end,
      write = function(s) written[#written + 1] = s end,
    }
    return written
  end

  it("overwrite = false without a terminal raises and keeps the file", function()
    fake_terminal(false, {})
    assert.has_error(function() m:save_weights(path, { overwrite = false }) end,
      "FileExistsError: " .. path .. " already exists (save_weights with overwrite = false)")
    assert.are.equal(before, slurp(path))
    -- a new name is fine
    assert.is_true(m:save_weights(tmp("fresh.h5"), { overwrite = false }))
  end)

  it("this test process has no terminal: the real hooks raise too", function()
    if core.isatty(0) and core.isatty(2) then return end
    assert.has_error(function() m:save_weights(path, { overwrite = false }) end)
    assert.are.equal(before, slurp(path))
  end)

  it("on a terminal: asks like Keras; 'n' keeps the file", function()
    local written = fake_terminal(true, { "maybe", " N " })
    assert.is_false(m:save_weights(path, { overwrite = false }))
    assert.are.same({ "[WARNING] " .. path .. " already exists - overwrite? [y/n]",
      'Enter "y" (overwrite) or "n" (cancel).' }, written)
    assert.are.equal(before, slurp(path))
  end)

  it("on a terminal: 'y' overwrites", function()
    local written = fake_terminal(true, { "y" })
    assert.is_true(m:save_weights(path, { overwrite = false }))
    assert.are.same({ "[WARNING] " .. path .. " already exists - overwrite? [y/n]",
      "[TIP] Next time specify overwrite=True!\n" }, written)
    assert.are_not.equal(before, slurp(path))
    check_file(m, path)
  end)

  it("overwrite = true (the default) replaces the file", function()
    assert.is_true(m:save_weights(path))
    assert.are_not.equal(before, slurp(path))
    assert.are.equal(0, temp_files())
  end)

  it("a failure inside libhdf5 leaves the previous file byte-identical and no temporary", function()
    -- weight "x" is a dataset, "x/y" needs it to be a group: HDF5 fails after the file was created
    local d = m.layers[1]
    local saved_k, saved_b = d.kernel.name, d.bias.name
    d.kernel.name, d.bias.name = "x", "x/y"
    local ok, err = pcall(m.save_weights, m, path)
    d.kernel.name, d.bias.name = saved_k, saved_b
    assert.is_false(ok)
    assert.matches('^OSError: .*keep%.h5: layer "d": weight "x/y": cannot create the dataset', err)
    assert.are.equal(before, slurp(path))
    assert.are.equal(0, temp_files())
  end)

  it("an invalid name (empty path component) fails before writing", function()
    m.layers[2].name = "bad//name"
    local ok, err = pcall(m.save_weights, m, path)
    assert.is_false(ok)
    assert.matches("^ValueError: .*keep%.h5: layer 2 %(\"bad//name\"%): invalid layer name: an empty path", err)
    assert.are.equal(before, slurp(path))
    assert.are.equal(0, temp_files())
  end)

  it("duplicate layer names fail like h5py would", function()
    m.layers[2].name = "d"
    local ok, err = pcall(m.save_weights, m, path)
    assert.is_false(ok)
    assert.matches('^ValueError: .*duplicate layer name "d"', err)
    assert.are.equal(before, slurp(path))
  end)

  it("the target is a directory", function()
    os.execute("mkdir -p '" .. tmp("adir.h5") .. "'")
    local ok, err = pcall(m.save_weights, m, tmp("adir.h5"))
    assert.is_false(ok)
    assert.matches("^OSError: .*adir%.h5: is a directory", err)
    assert.are.equal(0, temp_files())
  end)

  it("a missing directory", function()
    local ok, err = pcall(m.save_weights, m, tmp("no/such/dir/w.h5"))
    assert.is_false(ok)
    assert.matches("^OSError: .*w%.h5: cannot create a temporary file", err)
  end)
end)

describe("weightkit.core.save_keras2 (the binding)", function()
  it("returns nil, message, code on failure and raises on a malformed spec", function()
    local ok, msg, code = core.save_keras2(tmp("b.h5"), { layers = { { name = "" } } })
    assert.is_nil(ok)
    assert.matches("invalid layer name", msg)
    assert.are.equal("EINVAL", code)
    assert.has_error(function() core.save_keras2(tmp("b.h5"), { layers = { { name = "a", weights = { { name = "w" } } } } }) end)
    assert.has_error(function() core.save_keras2(tmp("b.h5"), { layers = { 5 } }) end)
    assert.is_true(core.save_keras2(tmp("b.h5"), { layers = { { name = "a", weights = {
      { name = "w", tensor = wk.tensor({ 1, 2 }) } } } }, omit_top_level = true, keras_version = "2.2.4",
      backend = "theano" }))
    local v = h5py_view(tmp("b.h5"))
    assert.are.equal("2.2.4", v.values.keras_version)
    assert.are.equal("theano", v.values.backend)
    assert.is_nil(v.attrs["/top_level_model_weights"])
    assert.are.same({ "a" }, v.layers)
  end)
end)
