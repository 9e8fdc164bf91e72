-- `weightkit inspect` against every real HDF5 file and .keras archive in ../shared/fixtures/real (read
-- in place, never copied): `inspect --json --sha256` must agree with expected/<name>.json (written by h5py/numpy, see
-- the fixtures' MANIFEST.md) on names, order, shapes, dtypes and every sha256; files our reader refuses
-- fail with status 1 and a message naming the file; the readable summary states the key facts.
local decode = require "support.json_decode"

local build = os.getenv("WEIGHTKIT_BUILD") or "build"
local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs a command; returns stdout, stderr, exit status.
local function run(command)
  local err_path = os.tmpname()
  local pipe = assert(io.popen(command .. " 2>" .. sh_quote(err_path)))
  local out = pipe:read("a")
  local ok, _, code = pipe:close()
  local f = assert(io.open(err_path))
  local err = f:read("a")
  f:close()
  os.remove(err_path)
  return out, err, ok and 0 or code
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function inspect(args, path)
  return run(sh_quote(build .. "/weightkit") .. " inspect " .. args .. " " .. sh_quote(path))
end

-- The real HDF5 files that have expected facts, sorted.
local function real_files()
  local files = {}
  local pipe = assert(io.popen("ls " .. sh_quote(REAL)))
  for name in pipe:lines() do
    if name:match("%.h5$") or name:match("%.keras$") then
      local f = io.open(REAL .. "/expected/" .. name .. ".json")
      if f then
        f:close()
        files[#files + 1] = name
      end
    end
  end
  pipe:close()
  table.sort(files)
  return files
end

local function opt(v)
  if v == decode.null then return nil end
  return v
end

-- Depth-first, name order: compare paths component by component (HDF5 orders links by name bytes).
local function path_less(a, b)
  local pa, pb = {}, {}
  for c in a:gmatch("[^/]+") do pa[#pa + 1] = c end
  for c in b:gmatch("[^/]+") do pb[#pb + 1] = c end
  for i = 1, math.min(#pa, #pb) do
    if pa[i] ~= pb[i] then return pa[i] < pb[i] end
  end
  return #pa < #pb
end

-- The order of a Keras 3 file's `vars` groups and datasets ("0", "1", ..., "10": numeric).
local function numeric_or_name_less(a, b)
  local na, nb = tonumber(a:match("[^/]+$")), tonumber(b:match("[^/]+$"))
  if na and nb then return na < nb end
  if na or nb then return na ~= nil end
  return a < b
end

-- Keras 3 layout (issue 4, point 5): every `vars` group is a layer named by its parent's path ("" for
-- the root), depth-first in name order; its datasets are the weights "0", "1", ... in numeric order.
local function keras3_expectation(weights, format, keras_version)
  local e = { format = format, keras_version = keras_version, layers = {}, tensors = {} }
  local vars_groups = {}
  for _, g in ipairs(weights.groups) do
    if g == "vars" or g:match("/vars$") then vars_groups[#vars_groups + 1] = g end
  end
  -- depth-first, name order, each object's own `vars` before its children's (Keras's save order)
  local function parent(g) return g == "vars" and "" or g:sub(1, -6) end
  table.sort(vars_groups, function(a, b) return path_less(parent(a), parent(b)) end)
  local by_group = {}
  for _, g in ipairs(vars_groups) do
    local layer = { name = g == "vars" and "" or g:sub(1, -6), weights = {} }
    by_group[g] = layer
    e.layers[#e.layers + 1] = layer
  end
  for _, v in ipairs(weights.variables) do
    e.tensors[v.path] = { shape = v.shape, dtype = v.dtype, sha256 = v.sha256 }
    local g, leaf = v.path:match("^(.*)/([^/]+)$")
    local layer = by_group[g]
    if layer then
      layer.weights[#layer.weights + 1] = { name = leaf, path = v.path, shape = v.shape, dtype = v.dtype,
        sha256 = v.sha256 }
    end
  end
  for _, layer in ipairs(e.layers) do
    table.sort(layer.weights, function(a, b) return numeric_or_name_less(a.path, b.path) end)
  end
  return e
end

-- What inspect must print, derived from the expected facts: format, keras_version, backend, layers
-- ({name, weights = {{name, path, shape, dtype, sha256}}}) and every dataset by path. Returns nil for
-- a file our readers must refuse.
local function expectation(facts)
  local group, format
  if facts.kind == "keras_v3_weights_h5" then return keras3_expectation(facts.weights, "keras3-weights-h5") end
  if facts.kind == "keras_v3_zip" then
    return keras3_expectation(facts.weights_h5.weights, "keras-zip", facts.metadata.keras_version)
  end
  if facts.kind == "keras_h5_weights" then
    group, format = facts.weights, "keras2-h5"
  elseif facts.kind == "keras_h5_full_model" then
    group, format = facts.model_weights, "keras2-h5-model"
  else
    return nil
  end
  local prefix = format == "keras2-h5-model" and "model_weights/" or ""
  local e = { format = format, keras_version = opt(group.keras_version), backend = opt(group.backend),
    layers = {}, tensors = {} }
  local function add_tensor(t, path)
    assert(e.tensors[path] == nil, "fixture lists " .. path .. " twice")
    e.tensors[path] = { shape = t.shape, dtype = t.dtype, sha256 = t.sha256 }
  end
  for i, l in ipairs(group.layers) do
    e.layers[i] = { name = l.name, weights = l.weights }
    assert(#l.weights == #l.weight_names, "fixture: weights do not follow weight_names in " .. l.name)
    for _, w in ipairs(l.weights) do add_tensor(w, w.path) end
  end
  for _, g in ipairs(group.groups_not_in_layer_names or {}) do
    for _, m in ipairs(g.members or {}) do
      assert(type(m) == "table" and m.path, "fixture: unexpected member in " .. g.name)
      add_tensor(m, m.path)
    end
    for _, w in ipairs(g.weights or {}) do add_tensor(w, w.path or (prefix .. g.name .. "/" .. w.name)) end
  end
  if facts.optimizer_weights then
    for _, w in ipairs(facts.optimizer_weights.weights or {}) do
      add_tensor(w, w.path or ("optimizer_weights/" .. w.name))
    end
  end
  return e
end

local function shape_str(s) return "(" .. table.concat(s, ", ") .. ")" end

local function check_tensor(where, got, want)
  assert(type(got.shape) == "table", where .. ": no shape")
  assert(shape_str(got.shape) == shape_str(want.shape),
    where .. ": shape " .. shape_str(got.shape) .. ", expected " .. shape_str(want.shape))
  assert(got.dtype == want.dtype, where .. ": dtype " .. tostring(got.dtype) .. ", expected " .. want.dtype)
  assert(got.sha256 == want.sha256, where .. ": sha256 " .. tostring(got.sha256) .. ", expected " .. want.sha256)
end

describe("weightkit inspect --json --sha256 on the real files", function()
  local files = real_files()

  it("finds the real HDF5 fixtures", function()
    assert.is_true(#files >= 12, "found only " .. #files .. " real .h5 files with expected facts in " .. REAL)
  end)

  for _, name in ipairs(files) do
    local path = REAL .. "/" .. name
    local facts = decode(read_all(REAL .. "/expected/" .. name .. ".json"))
    local want = expectation(facts)

    if want == nil then
      it(name .. ": refused with a clear error (status 1, the file named)", function()
        local out, err, code = inspect("--json --sha256", path)
        assert.are.equal(1, code)
        assert.are.equal("", out)
        assert.truthy(err:find(path, 1, true), err)
        assert.truthy(err:find("not a Keras", 1, true), err)
      end)
    else
      it(name .. ": agrees with expected/" .. name .. ".json", function()
        local out, err, code = inspect("--json --sha256", path)
        assert.are.equal(0, code, err)
        local got = decode(out)
        assert.are.equal(want.format, got.format)
        assert.are.equal(want.keras_version, opt(got.keras_version))
        assert.are.equal(want.backend, opt(got.backend))

        -- layers: layer_names order, weight_names order
        assert.are.equal(#want.layers, #got.layers, "layer count")
        for i, wl in ipairs(want.layers) do
          local gl = got.layers[i]
          assert.are.equal(wl.name, gl.name, "layer " .. i)
          assert.are.equal(#wl.weights, #gl.weights, "weight count of " .. wl.name)
          for j, ww in ipairs(wl.weights) do
            local gw = gl.weights[j]
            local where = wl.name .. " weight " .. j
            assert.are.equal(ww.name, gw.name, where)
            assert.are.equal(ww.path, gw.path, where)
            check_tensor(where .. " (" .. ww.path .. ")", gw, ww)
          end
        end

        -- tensors: every dataset once, depth-first in name order, with the expected facts
        local seen = {}
        for i, t in ipairs(got.tensors) do
          assert(not seen[t.path], "dataset listed twice: " .. t.path)
          seen[t.path] = true
          local wt = want.tensors[t.path]
          assert(wt, "dataset not in the expected facts: " .. t.path)
          check_tensor(t.path, t, wt)
          if i > 1 then
            assert(path_less(got.tensors[i - 1].path, t.path),
              "tensors out of order: " .. got.tensors[i - 1].path .. " before " .. t.path)
          end
        end
        for p in pairs(want.tensors) do assert(seen[p], "dataset missing from tensors: " .. p) end
      end)
    end
  end
end)

describe("weightkit inspect", function()
  local path = REAL .. "/k280_lstm3_genre_weights.h5"

  it("prints a readable summary from metadata", function()
    local out, err, code = inspect("", path)
    assert.are.equal(0, code, err)
    local function has(line)
      assert(out:find(line, 1, true), "missing line: " .. line .. "\n--- output:\n" .. out)
    end
    has("File: " .. path .. "\n")
    has("Format: keras2-h5\n")
    has("Keras version: 2.8.0\n")
    has("Backend: tensorflow\n")
    has("\nlstm (3 weights)\n")
    assert.truthy(out:match("\n  lstm/lstm_cell/kernel:0 +%(33, 512%) +float32 +66%.0 KiB +contiguous\n"), out)
    assert.truthy(out:match("\n  lstm_2/lstm_cell_2/bias:0 +%(128,%) +float32 +512 B +contiguous\n"), out)
    has("\ndense (2 weights)\n")
    has("\ntop_level_model_weights (0 weights)\n")
    -- 33*512 + 128*512 + 512 + 2*128*512 + 512 + 128*128 + 32*128 + 128 + 32*5 + 5 = 235301
    has("\nLayers: 4 (4 with weights)\n")
    has("\nWeights: 11 tensors, 235,301 parameters, 919.1 KiB (941,204 bytes)\n")
    has("\nOptimizer weights: none\n")
    assert.falsy(out:find("SHA-256", 1, true))
  end)

  it("summarizes a full-model file with its optimizer weights", function()
    local out, err, code = inspect("", REAL .. "/k120_behavioral_cloning_conv_full.h5")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("Format: keras2-h5-model\n", 1, true), out)
    assert.truthy(out:find("Keras version: none\n", 1, true), out) -- 1.2.0 sits on the root only
    assert.truthy(out:find("\nLayers: 25 (", 1, true), out)
    assert.truthy(out:find("\nOptimizer weights: 37 tensors, ", 1, true), out)
    assert.truthy(out:find("\nDatasets in file: 55, ", 1, true), out)
  end)

  it("adds a SHA-256 column with --sha256", function()
    local out, _, code = inspect("--sha256", path)
    assert.are.equal(0, code)
    assert.truthy(out:find("df1cc5a6b94920d7b4fce9c2d41450ed45ed53d5bcc1694187c7c2fbf1d524c3", 1, true))
  end)

  it("prints JSON without sha256 keys unless asked", function()
    local out, _, code = inspect("--json", path)
    assert.are.equal(0, code)
    assert.falsy(out:find('"sha256"', 1, true))
    local got = decode(out)
    assert.are.same({ 33, 512 }, got.layers[1].weights[1].shape)
    -- the key order of issue 3 point 5
    local keys = {}
    for k in out:gmatch('\n "([%w_]+)":') do keys[#keys + 1] = k end
    assert.are.same({ "format", "keras_version", "backend", "layers", "tensors" }, keys)
  end)

  it("fails with status 1 naming a missing or non-HDF5 file", function()
    local _, err, code = inspect("--json", "/nonexistent/w.h5")
    assert.are.equal(1, code)
    assert.truthy(err:find("/nonexistent/w.h5", 1, true), err)
    local _, err2, code2 = inspect("", "Makefile")
    assert.are.equal(1, code2)
    assert.truthy(err2:find("Makefile", 1, true), err2)
  end)

  it("rejects bad usage with status 2", function()
    local _, err, code = run(sh_quote(build .. "/weightkit") .. " inspect")
    assert.are.equal(2, code)
    assert.truthy(err:find("usage: weightkit inspect", 1, true))
    local _, err2, code2 = inspect("--frob", path)
    assert.are.equal(2, code2)
    assert.truthy(err2:find("unknown option '--frob'", 1, true))
  end)
end)

describe("weightkit inspect on a sharded Keras 3 index (.weights.json)", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. sh_quote(dir)))
  local index = dir .. "/m.weights.json"

  setup(function()
    local script = dir .. "/save.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local wk = require "weightkit"
local L = wk.layers
local m = wk.Sequential{ L.Input{shape = {300}}, L.Dense{units = 200}, L.Dense{units = 100}, L.Dense{units = 3} }
m:save_weights(arg[1], {max_shard_size = 0.0003})
]])
    f:close()
    local _, err, code = run(sh_quote(build .. "/weightkit") .. " run " .. sh_quote(script) .. " " .. sh_quote(index))
    assert(code == 0, err)
  end)

  teardown(function() os.execute("rm -rf " .. sh_quote(dir)) end)

  it("lists every weight_map group with its shard, and every shard's datasets, as h5py sees them", function()
    local out, err, code = inspect("--json --sha256", index)
    assert.are.equal(0, code, err)
    local got = decode(out)
    assert.are.equal("keras3-sharded", got.format)
    -- the facts, from h5py: shard -> {path -> {shape, dtype, sha256}}
    local oracle = assert(io.popen("/usr/bin/python3 - " .. sh_quote(dir) .. [==[ <<'PY'
import glob, hashlib, json, os, sys, h5py
out = {}
for shard in sorted(glob.glob(os.path.join(sys.argv[1], "m_*.weights.h5"))):
    facts = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            a = obj[()]
            facts[name] = {"shape": list(a.shape), "dtype": str(a.dtype),
                           "sha256": hashlib.sha256(a.astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()}
    h5py.File(shard, "r").visititems(visit)
    out[os.path.basename(shard)] = facts
print(json.dumps(out))
PY]==]))
    local want = decode(oracle:read("a"))
    oracle:close()
    local shards = {}
    for name in pairs(want) do shards[#shards + 1] = name end
    assert.is_true(#shards >= 2, "expected several shards")

    local names = {}
    for i, l in ipairs(got.layers) do
      names[i] = l.name
      for _, w in ipairs(l.weights) do
        local fact = want[w.file] and want[w.file][w.path]
        assert(fact, "weight not in its shard: " .. tostring(w.file) .. " " .. w.path)
        check_tensor(w.file .. ":" .. w.path, w, fact)
      end
    end
    assert.are.same({ "", "layers/dense", "layers/dense_1", "layers/dense_2" }, names)
    local count = 0
    for _, t in ipairs(got.tensors) do
      count = count + 1
      check_tensor(t.file .. ":" .. t.path, t, want[t.file][t.path])
    end
    local total = 0
    for _, facts in pairs(want) do
      for _ in pairs(facts) do total = total + 1 end
    end
    assert.are.equal(total, count)
  end)

  it("fails with status 1 naming the index when a shard is missing", function()
    local copy = dir .. "/broken.weights.json"
    local text = read_all(index):gsub("m_00001%.weights%.h5", "gone_00001.weights.h5")
    local f = assert(io.open(copy, "w"))
    f:write(text)
    f:close()
    local out, err, code = inspect("--json", copy)
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.truthy(err:find(copy, 1, true), err)
    assert.truthy(err:find("gone_00001.weights.h5", 1, true), err)
  end)
end)

describe("weightkit inspect --json --sha256 on the real TF checkpoints and SavedModel", function()
  -- The layer of a key (weightkit.h, "tf-checkpoint"): a VARIABLE_VALUE belongs to the variable's
  -- parent object, any other attribute to the object itself.
  local function layer_of(key)
    local obj, attr = key:match("^(.*)/%.ATTRIBUTES/(.+)$")
    if not obj then return nil end
    if attr ~= "VARIABLE_VALUE" then return obj, attr end
    local parent, leaf = obj:match("^(.*)/([^/]+)$")
    if parent then return parent, leaf end
    return "", obj
  end

  for _, case in ipairs{
    { name = "tfckpt_tf20_tutorial_cp0000", open = "tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt", format = "tf-checkpoint" },
    { name = "tfckpt_ttt_subclassed", open = "tfckpt_ttt_subclassed", format = "tf-checkpoint" },
    { name = "savedmodel_tcp_actor", open = "savedmodel_tcp_actor", format = "savedmodel" },
  } do
    it(case.name .. ": every key, dtype, shape and sha256; layers grouped by object path", function()
      local facts = decode(read_all(REAL .. "/expected/" .. case.name .. ".json"))
      local entries = facts.checkpoints[1].entries
      local out, err, code = inspect("--json --sha256", REAL .. "/" .. case.open)
      assert.are.equal(0, code, err)
      local got = decode(out)
      assert.are.equal(case.format, got.format)

      local want_tensors, keys = {}, {}
      for _, e in ipairs(entries) do
        want_tensors[e.key] = e
        keys[#keys + 1] = e.key
      end
      assert.are.equal(#entries, #got.tensors)
      for _, t in ipairs(got.tensors) do
        local e = want_tensors[t.path]
        assert(e, "key not in the expected facts: " .. t.path)
        assert.are.equal(e.dtype, t.dtype, t.path)
        assert.are.same(e.shape, t.shape, t.path)
        if e.dtype == "string" then
          assert.are.equal(decode.null, t.sha256, t.path)
        else
          assert.are.equal(e.sha256, t.sha256, t.path)
        end
      end

      table.sort(keys) -- bytewise, as stored
      local layers, by_name = {}, {}
      for _, key in ipairs(keys) do
        local layer, weight = layer_of(key)
        if layer then
          if not by_name[layer] then
            by_name[layer] = { name = layer, weights = {} }
            layers[#layers + 1] = by_name[layer]
          end
          table.insert(by_name[layer].weights, { name = weight, path = key })
        end
      end
      assert.are.equal(#layers, #got.layers)
      for i, l in ipairs(layers) do
        assert.are.equal(l.name, got.layers[i].name)
        assert.are.equal(#l.weights, #got.layers[i].weights, l.name)
        for j, w in ipairs(l.weights) do
          assert.are.equal(w.name, got.layers[i].weights[j].name)
          assert.are.equal(w.path, got.layers[i].weights[j].path)
        end
      end
    end)
  end
end)

describe("weightkit inspect --json --sha256 on a safetensors file", function()
  it("lists every tensor by name (layers grouped at the last '.'), as numpy sees it", function()
    local path = os.tmpname() .. ".safetensors"
    local pipe = assert(io.popen("/usr/bin/python3 - " .. sh_quote(path) .. [==[ <<'PY'
import hashlib, json, struct, sys
import numpy as np
tensors = {
    "conv1.weight": np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3),
    "conv1.bias": np.array([0.5, -1.5], dtype=np.float32),
    "bn1.running_mean": np.linspace(0, 1, 2).astype(np.float16),
    "bn1.num_batches_tracked": np.array(7, dtype=np.int64),
    "fc.weight": np.ones((4, 2), dtype=np.float64),
}
header, data = {"__metadata__": {"format": "pt"}}, b""
for name, a in tensors.items():
    b = a.tobytes()
    header[name] = {"dtype": {"float32": "F32", "float16": "F16", "int64": "I64", "float64": "F64"}[str(a.dtype)],
                    "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(b)]}
    data += b
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
print(json.dumps({n: {"shape": list(a.shape), "dtype": str(a.dtype),
                      "sha256": hashlib.sha256(a.tobytes()).hexdigest()} for n, a in tensors.items()}))
PY]==]))
    local want = decode(pipe:read("a"))
    pipe:close()
    local out, err, code = inspect("--json --sha256", path)
    os.remove(path)
    assert.are.equal(0, code, err)
    local got = decode(out)
    assert.are.equal("safetensors", got.format)
    assert.are.equal("pt", got.metadata.format)
    local n = 0
    for _, t in ipairs(got.tensors) do
      check_tensor(t.path, t, want[t.path])
      n = n + 1
    end
    assert.are.equal(5, n)
    local names = {}
    for i, l in ipairs(got.layers) do
      names[i] = l.name
      for _, w in ipairs(l.weights) do assert.are.equal(l.name .. "." .. w.name, w.path) end
    end
    assert.are.same({ "conv1", "bn1", "fc" }, names)
  end)
end)
