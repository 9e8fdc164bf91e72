--[[
Specs at scale (issue 3, Done means: "a model with 20,000 layers"): a Sequential of 20,000 Dense(2) layers
and a 20,000-layer functional chain with a few residual branches are built, their weights go through
get_weights / set_weights, save_weights to a temporary .h5, h5py (Debian's /usr/bin/python3,
spec/support/keras_h5_sample.py) and our reader, and load_weights (Sequential: topological from the path
and by_name; functional: topological).

Observed on the 2-core dev machine (lua5.4, -O2 build, other jobs running: load average ~2.5): the whole
file takes ~21 s of CPU (22-30 s wall). Per model: building ~1.2 s (the Sequential took ~27 s for 3,000
layers when every add mapped the whole graph again), save_weights ~2 s (C writer), the first layers() of
the 40,000-dataset file ~1 s (C reader), each load_weights ~1-1.5 s of Lua on top. Nothing here asserts on
time.

Keras / h5py facts used here, stated as data (keras-formats.md §1.4, §3.2, §3.3):
  - layer_names lists model.layers (Sequential: without its InputLayer; Functional: with it).
  - chunking: HDF5_OBJECT_HEADER_LIMIT = 64512; the chunk count is the smallest k with
    ceil(n / k) * maxlen <= 64512 (maxlen: the longest name in bytes, numpy `S<maxlen>`);
    numpy.array_split gives the first n % k chunks one more item. Chunks are attributes
    layer_names0, layer_names1, ... of type fixed-length NULLPAD ASCII; no `layer_names` then.
  - tf.keras layer order (_map_graph_network): by decreasing depth, then discovery order. For a chain
    with residual blocks `h = Add()([Dense(h), h])` that is the order the layers were called in
    (the Dense of a block is one deeper than its Add, the block's input one deeper still).
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local L = wk.layers
local Model = require "weightkit.model"

local N = 20000
local LIMIT = 64512
local PY = "/usr/bin/python3"
local SAMPLE = "spec/support/keras_h5_sample.py"

local shell = require "support.shell"
local sh = shell.sh

local tmpdir = shell.temp_dir("wk_scale_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function unquote(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end

-- h5py's view: {attrs = {[name] = {type =, shape =}} of "/", names = Keras's layer_names read,
-- weights = {[layer] = {{name =, sha =}...}} for the sampled layers}.
local function h5py_view(path, sample)
  local text, ok = sh(PY .. " " .. SAMPLE .. " '" .. path .. "' " .. table.concat(sample, " ") .. " 2>&1")
  assert(ok, "h5py failed: " .. text)
  local v = { attrs = {}, names = {}, weights = {} }
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = unquote(field) end
    if f[1] == "A" then
      v.attrs[f[3]] = { type = f[4], shape = f[5] }
    elseif f[1] == "K" then
      v.names[#v.names + 1] = f[3]
    elseif f[1] == "W" then
      v.weights[f[2]] = v.weights[f[2]] or {}
      table.insert(v.weights[f[2]], { name = f[4], sha = f[7] })
    else
      error("unexpected line: " .. line)
    end
  end
  return v
end

local function names_of(list)
  local r = {}
  for i, x in ipairs(list) do r[i] = x.name end
  return r
end

-- The chunking rule above, computed (not copied from the writer): {sizes...}, maxlen.
local function keras_chunks(names)
  local maxlen = 0
  for _, n in ipairs(names) do if #n > maxlen then maxlen = #n end end
  local n, k = #names, 1
  while -(-n // k) * maxlen > LIMIT do k = k + 1 end
  local sizes = {}
  for i = 1, k do sizes[i] = n // k + ((i <= n % k) and 1 or 0) end
  return sizes, maxlen
end

local function fill(model, seed)
  local rng = wk.rng(seed)
  for _, v in ipairs(model:weights()) do v.value:fill_uniform(rng, -1, 1) end
end

local function zero(model)
  for _, v in ipairs(model:weights()) do v.value:fill(0) end
end

-- Every weight of the model holds exactly the bytes of `values` (a get_weights list).
local function same_values(model, values)
  local ws = model:weights()
  assert.are.equal(#values, #ws)
  local bad = 0
  for i, v in ipairs(ws) do
    if v.value:tobytes() ~= values[i]:tobytes() then bad = bad + 1 end
  end
  assert.are.equal(0, bad)
end

-- The graph a Sequential keeps after its O(1) adds is the one a full mapping computes.
local function assert_same_as_full_mapping(m)
  local by_depth, keys = m:_graph_by_depth()
  local nodes, full_by_depth, full_keys, layers = Model.map_graph_network(m.inputs, m.outputs)
  assert.are.equal(#layers, #m._layers)
  local diff = 0
  for i = 1, #layers do if layers[i] ~= m._layers[i] then diff = diff + 1 end end
  assert.are.equal(0, diff)
  assert.are.same(full_keys, keys)
  for _, d in ipairs(full_keys) do
    assert.are.equal(#full_by_depth[d], #by_depth[d])
    for j, n in ipairs(full_by_depth[d]) do
      if by_depth[d][j] ~= n then diff = diff + 1 end
    end
  end
  assert.are.equal(0, diff)
  for n in pairs(nodes) do if not m._network_nodes[n] then diff = diff + 1 end end
  for n in pairs(m._network_nodes) do if not nodes[n] then diff = diff + 1 end end
  assert.are.equal(0, diff)
end

-- save_weights, then h5py and our reader on the file, then load_weights from a zeroed model in each of
-- `modes`: "path" (topological, from the path), "topological" and "by_name" (from an open file object,
-- which saves opening the 40,000-dataset file again).
local function save_and_load(m, file_names, sample, modes)
  local values = m:get_weights()
  local path = tmpdir .. "/" .. m.name .. ".h5"
  m:save_weights(path)

  local expected_sizes, maxlen = keras_chunks(file_names)
  local v = h5py_view(path, sample)
  assert.is_nil(v.attrs.layer_names)
  for i, size in ipairs(expected_sizes) do
    assert.are.same({ type = "fixed:" .. maxlen .. ":NULLPAD:ASCII", shape = "(" .. size .. ",)" },
      v.attrs["layer_names" .. (i - 1)])
  end
  assert.is_nil(v.attrs["layer_names" .. #expected_sizes])
  assert.are.same(file_names, v.names)
  local by_name = {}
  for _, l in ipairs(m.layers) do by_name[l.name] = l end
  for _, name in ipairs(sample) do
    local ws = by_name[name]:weights()
    v.weights[name] = v.weights[name] or {}
    assert.are.equal(#ws, #v.weights[name])
    for j, w in ipairs(ws) do
      assert.are.equal(w.name, v.weights[name][j].name)
      assert.are.equal(core.tensor_sha256(w.value), v.weights[name][j].sha)
    end
  end

  local f <close> = wk.open(path)
  assert.are.same(file_names, names_of(f:layers()))
  for _, mode in ipairs(modes) do
    zero(m)
    local report
    if mode == "path" then
      report = m:load_weights(path)
    else
      report = m:load_weights(f, { by_name = mode == "by_name" })
    end
    same_values(m, values)
    assert.are.equal(mode == "by_name" and "by_name" or "topological", report.mode)
    assert.are.equal(#m:weights() // 2, #report.matched)
    assert.are.same({}, report.missing)
    assert.are.same({}, report.unused)
  end
end

describe("20,000 layers: Sequential of Dense(2)", function()
  local m
  setup(function()
    wk.backend.clear_session()
    local layers = { L.Dense{ units = 2, input_shape = {2} } }
    for i = 2, N do layers[i] = L.Dense{ units = 2 } end
    m = wk.Sequential(layers)
  end)
  teardown(function()
    m = nil
    collectgarbage()
  end)

  it("is built with every layer, in order, and the graph a full mapping gives", function()
    assert.are.equal(N, #m.layers)
    assert.are.equal(N + 1, #m._layers) -- the InputLayer "dense_input"
    assert.are.equal("dense_input", m._layers[1].name)
    assert.are.equal("dense", m.layers[1].name)
    assert.are.equal("dense_" .. (N - 1), m.layers[N].name)
    assert.are.equal(2 * N, #m:weights())
    assert.are.equal(N * 6, m:count_params())
    assert_same_as_full_mapping(m)
    assert.are.same({ false, 2 }, m:compute_output_shape({ false, 2 }))
  end)

  it("add keeps the mapping exact at that size; pop; duplicate names refused", function()
    local extra = L.Dense{ units = 3, name = "extra" }
    m:add(extra)
    assert.are.equal(N + 1, #m.layers)
    assert.are.equal(extra, m.layers[N + 1])
    assert.are.same({ false, 3 }, m.outputs[1]:shape())
    assert_same_as_full_mapping(m)
    assert.has_error(function() m:add(L.Dense{ units = 2, name = "dense_123" }) end,
      'ValueError: All layers added to a Sequential model should have unique names. Name "dense_123" is ' ..
      "already the name of a layer in this model. Update the `name` argument to pass a unique name.")
    assert.are.equal(extra, m:pop()) -- pop maps the whole graph again (as tf.keras)
    assert.are.equal(N, #m.layers)
    assert.are.equal("dense_" .. (N - 1), m.layers[N].name)
    assert.are.same({ false, 2 }, m.outputs[1]:shape())
  end)

  it("get_weights / set_weights round trip", function()
    fill(m, 1)
    local values = m:get_weights()
    assert.are.equal(2 * N, #values)
    zero(m)
    assert.are.equal(0, m.layers[N].kernel.value:norm())
    m:set_weights(values)
    same_values(m, values)
  end)

  it("save_weights: layer_names chunked as Keras; load_weights topological and by_name", function()
    fill(m, 2)
    local names = names_of(m.layers)
    -- 20,000 names, the longest "dense_19999" (11 bytes): 220000 > 64512; k = 3 gives 6667 * 11 =
    -- 73337 > 64512, k = 4 gives 4 x 5000 (55000 bytes)
    assert.are.same({ 5000, 5000, 5000, 5000 }, (keras_chunks(names)))
    save_and_load(m, names, { "dense", "dense_9999", "dense_" .. (N - 1) }, { "path", "by_name" })
  end)
end)

describe("20,000 layers: functional chain with residual blocks", function()
  local m, called
  setup(function()
    wk.backend.clear_session()
    local x = L.Input{ shape = {2} }
    called = { (x:keras_history()) }
    local h = x
    local function call(layer, input)
      called[#called + 1] = layer
      return layer(input)
    end
    while #called - 1 < N do
      if #called % 4000 == 0 and #called + 1 <= N then -- 4 blocks: add .. add_3
        local d = call(L.Dense{ units = 2 }, h)
        h = call(L.Add{}, { d, h })
      else
        h = call(L.Dense{ units = 2 }, h)
      end
    end
    m = wk.Model{ x, h }
  end)

  it("is built with every layer in calling order", function()
    assert.are.equal(N + 1, #m.layers)
    local diff = 0
    for i, l in ipairs(called) do if m.layers[i] ~= l then diff = diff + 1 end end
    assert.are.equal(0, diff)
    assert.are.equal("add_3", m.layers[16002].name)
    assert.are.equal("dense_" .. (N - 5), m.layers[N + 1].name) -- 19,996 Dense layers
    assert.are.same({ false, 2 }, m:compute_output_shape({ false, 2 }))
  end)

  it("get_weights / set_weights, save_weights, load_weights topological", function()
    fill(m, 3)
    local values = m:get_weights()
    zero(m)
    m:set_weights(values)
    same_values(m, values)
    local names = names_of(m.layers)
    -- 20,001 names (input_1 first), longest 11 bytes: k = 4, array_split -> 5001 + 3 x 5000
    assert.are.same({ 5001, 5000, 5000, 5000 }, (keras_chunks(names)))
    save_and_load(m, names, { "input_1", "dense", "add_3", "dense_" .. (N - 5) }, { "topological" })
  end)
end)
