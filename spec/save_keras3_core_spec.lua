--[[
Specs for the Lua binding of the Keras 3 writer (src/lwk_write.c over wk_write_keras3 and
wk_write_keras3_memory): core.save_keras3(path, objects, overwrite) and core.keras3_image(objects).
Files are read back with h5py (Debian's /usr/bin/python3).

Keras 3 / h5py facts used here, stated as data (keras-formats.md §4.1):
  - every object is a group `<path>/vars` ("vars" for the model itself), datasets "0", "1", ...;
  - the `name` attribute is a scalar variable-length UTF-8 string (h5py's type for a Python str);
  - bfloat16 is a 2-byte opaque type (empty tag) with the dataset attribute dtype = "bfloat16";
  - the root has no attributes.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local json = require "support.json_decode"
local shell = require "support.shell"
local sh = shell.sh

local PY = "/usr/bin/python3"
local tmpdir = shell.temp_dir("wk_save3_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function tmp(name) return tmpdir .. "/" .. name end

-- h5py's view of a file: {root_attrs = n, items = {[path] = {kind =, dtype =, shape =, values =,
-- attrs = {[name] = {value =, vlen =, utf8 =, scalar =}}, opaque_tag =}}}
local VIEW = [[
import sys, json, h5py, numpy
f = h5py.File(sys.argv[1], "r")
def attrs(obj):
    out = {}
    for k in obj.attrs:
        a = obj.attrs.get_id(k)
        t = a.get_type()
        v = obj.attrs[k]
        out[k] = {"value": v if isinstance(v, str) else repr(v),
                  "vlen": t.get_class() == h5py.h5t.STRING and t.is_variable_str(),
                  "utf8": t.get_class() == h5py.h5t.STRING and t.get_cset() == h5py.h5t.CSET_UTF8,
                  "scalar": a.get_space().get_simple_extent_type() == h5py.h5s.SCALAR}
    return out
items = {}
def visit(name, obj):
    e = {"attrs": attrs(obj)}
    if isinstance(obj, h5py.Group):
        e["kind"] = "group"
    else:
        e["kind"] = "dataset"
        t = obj.id.get_type()
        e["shape"] = list(obj.shape)
        if t.get_class() == h5py.h5t.OPAQUE:
            e["dtype"] = "opaque%d" % t.get_size()
            e["opaque_tag"] = t.get_tag().decode()
            bits = numpy.frombuffer(obj[()].tobytes(), dtype="<u2").astype(numpy.uint32) << 16
            e["values"] = [float(x) for x in bits.view("<f4")]
        else:
            e["dtype"] = str(obj.dtype)
            e["values"] = [float(x) for x in numpy.asarray(obj[()]).reshape(-1)]
    items[name] = e
f.visititems(visit)
print(json.dumps({"root_attrs": len(f.attrs), "items": items}))
]]

local function h5py_view(path)
  local script = tmp("view.py")
  local fh = assert(io.open(script, "w"))
  fh:write(VIEW)
  fh:close()
  local text, ok = sh(PY .. " '" .. script .. "' '" .. path .. "' 2>&1")
  assert(ok, "h5py failed: " .. text)
  return json(text)
end

local function slurp(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("a")
  fh:close()
  return s
end

local function exists(path) return io.open(path, "rb") ~= nil end

-- A small model in Keras 3's walk order.
local function objects()
  return {
    { path = "", name = "functional" },
    { path = "layers/dense", name = "dense", tensors = { wk.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }), wk.tensor({ 0.5, -0.5, 2 }) } },
    { path = "layers/lstm/cell", name = "lstm_cell",
      tensors = { wk.tensor({ { 1, 2 } }), wk.tensor({ { 3, 4 } }), wk.tensor({ 5, 6 }) } },
    { path = "layers/bf", name = "bf", tensors = { wk.tensor({ 1.5, -2, 0.25 }, "bfloat16") } },
    { path = "layers/dropout" },
    { path = "optimizer", name = "adam", tensors = { wk.tensor(7, "int64"), wk.tensor(0.001, "float32") } },
  }
end

local function check_model_view(v)
  assert.are.equal(0, v.root_attrs)
  local it = v.items
  for _, g in ipairs { "vars", "layers", "layers/dense", "layers/dense/vars", "layers/lstm", "layers/lstm/cell",
                       "layers/lstm/cell/vars", "layers/bf/vars", "layers/dropout/vars", "optimizer/vars" } do
    assert.are.equal("group", it[g] and it[g].kind, g)
  end
  local name = it["layers/dense/vars"].attrs.name
  assert.are.same({ value = "dense", vlen = true, utf8 = true, scalar = true }, name)
  assert.are.equal("functional", it["vars"].attrs.name.value)
  assert.are.same({}, it["layers/dropout/vars"].attrs)
  assert.are.same({}, it["layers"].attrs)
  assert.are.same({ 2, 3 }, it["layers/dense/vars/0"].shape)
  assert.are.equal("float32", it["layers/dense/vars/0"].dtype)
  assert.are.same({ 1, 2, 3, 4, 5, 6 }, it["layers/dense/vars/0"].values)
  assert.are.same({ 0.5, -0.5, 2 }, it["layers/dense/vars/1"].values)
  assert.are.same({ 5, 6 }, it["layers/lstm/cell/vars/2"].values)
  assert.is_nil(it["layers/lstm/cell/vars/3"])
  local bf = it["layers/bf/vars/0"]
  assert.are.equal("opaque2", bf.dtype)
  assert.are.equal("", bf.opaque_tag)
  assert.are.same({ 1.5, -2, 0.25 }, bf.values)
  assert.are.same({ value = "bfloat16", vlen = true, utf8 = true, scalar = true }, bf.attrs.dtype)
  assert.are.equal("int64", it["optimizer/vars/0"].dtype)
  assert.are.same({}, it["optimizer/vars/0"].shape)
  assert.are.same({ 7 }, it["optimizer/vars/0"].values)
  assert.are.equal("float32", it["optimizer/vars/1"].dtype)
end

describe("core.save_keras3", function()
  it("writes Keras 3's layout, read back by h5py", function()
    assert.are.same({ true }, { core.save_keras3(tmp("m.weights.h5"), objects()) })
    check_model_view(h5py_view(tmp("m.weights.h5")))
  end)

  it("keeps an existing file unless overwrite is true", function()
    local path = tmp("o.weights.h5")
    assert.is_true(core.save_keras3(path, objects(), false))
    local before = slurp(path)
    local ok, msg, code = core.save_keras3(path, { { path = "x", tensors = { wk.tensor({ 1 }) } } })
    assert.is_nil(ok)
    assert.matches("already exists", msg, 1, true)
    assert.are.equal("EIO", code)
    assert.are.equal(before, slurp(path))
    assert.is_true(core.save_keras3(path, { { path = "x", name = "x", tensors = { wk.tensor({ 9 }) } } }, true))
    local v = h5py_view(path)
    assert.are.same({ 9 }, v.items["x/vars/0"].values)
    assert.is_nil(v.items["layers"])
  end)

  it("returns nil, message, EINVAL for bad paths and names, and writes nothing", function()
    local path = tmp("bad.weights.h5")
    local cases = {
      { { path = "layers//dense" } }, { { path = "layers/vars" } }, { { path = "/x" } },
      { { path = "a", name = "\xff" } }, { { path = "a" }, { path = "b" }, { path = "a" } },
    }
    for _, objs in ipairs(cases) do
      local ok, msg, code = core.save_keras3(path, objs, true)
      assert.is_nil(ok)
      assert.are.equal("EINVAL", code)
      assert.is_string(msg)
      assert.matches(path, msg, 1, true)
    end
    assert.is_false(exists(path))
    local ok, msg = core.save_keras3(path, { { path = "ok" }, { path = "layers/vars/x" } }, true)
    assert.is_nil(ok)
    assert.matches('"layers/vars/x"', msg, 1, true)
  end)

  it("names datasets from `first` (a shard continuing an object)", function()
    local path = tmp("shard.weights.h5")
    assert.is_true(core.save_keras3(path, { { path = "layers/big", name = "big", first = 2,
      tensors = { wk.tensor({ 1 }), wk.tensor({ 2 }) } } }))
    local v = h5py_view(path)
    assert.is_nil(v.items["layers/big/vars/0"])
    assert.are.same({ 1 }, v.items["layers/big/vars/2"].values)
    assert.are.same({ 2 }, v.items["layers/big/vars/3"].values)
    assert.has_error(function() core.save_keras3(path, { { path = "a", first = -1 } }, true) end,
      'weightkit.save_keras3: object "a": first must be a non-negative integer')
    assert.has_error(function() core.save_keras3(path, { { path = "a", first = 1.5 } }, true) end,
      'weightkit.save_keras3: object "a": first must be a non-negative integer')
  end)

  it("raises for a malformed object list", function()
    local path = tmp("raise.weights.h5")
    assert.has_error(function() core.save_keras3(path, "nope") end)
    assert.has_error(function() core.save_keras3(path, { 42 }) end,
      "weightkit.save_keras3: object 1 must be a table {path =, name =, tensors =}")
    assert.has_error(function() core.save_keras3(path, { { name = "x" } }) end,
      "weightkit.save_keras3: object 1 has no path")
    assert.has_error(function() core.save_keras3(path, { { path = "a", name = 3 } }) end,
      "weightkit.save_keras3: an object's name must be a string")
    assert.has_error(function() core.save_keras3(path, { { path = "a", tensors = 5 } }) end,
      "weightkit.save_keras3: an object's tensors must be a table")
    assert.has_error(function() core.save_keras3(path, { { path = "a", tensors = { {} } } }) end,
      'weightkit.save_keras3: object "a": tensor 1 must be an open tensor')
    local t = wk.tensor({ 1 })
    t:close()
    assert.has_error(function() core.save_keras3(path, { { path = "a", tensors = { t } } }) end)
    assert.is_false(exists(path))
  end)
end)

describe("core.keras3_image", function()
  it("returns the bytes of the same file", function()
    local image = assert(core.keras3_image(objects()))
    assert.are.equal("\137HDF\r\n\26\n", image:sub(1, 8))
    local path = tmp("image.weights.h5")
    local fh = assert(io.open(path, "wb"))
    fh:write(image)
    fh:close()
    check_model_view(h5py_view(path))
    assert.is_true(core.save_keras3(tmp("same.weights.h5"), objects()))
    assert.are.equal(#slurp(tmp("same.weights.h5")), #image)
  end)

  it("an empty object list is an empty HDF5 file", function()
    local image = assert(core.keras3_image({}))
    assert.are.equal("\137HDF\r\n\26\n", image:sub(1, 8))
  end)

  it("returns nil, message, EINVAL for bad names", function()
    local image, msg, code = core.keras3_image({ { path = "a/./b" } })
    assert.is_nil(image)
    assert.are.equal("EINVAL", code)
    assert.matches('"a/./b"', msg, 1, true)
    assert.has_error(function() core.keras3_image({ { path = 1 } }) end,
      "weightkit.keras3_image: an object's path must be a string")
  end)
end)
