-- core.save_keras2 with model_config: the full-model layout of tf-keras model.save('x.h5')
-- (keras-formats.md §2), checked with h5py and read back by our reader.
local core = require "weightkit.core"
local wk = require "weightkit"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function h5py(path, code)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("import sys, h5py\nf = h5py.File(sys.argv[1], 'r')\n", code)
  f:close()
  local pipe = assert(io.popen("/usr/bin/python3 " .. script .. " " .. sh_quote(path) .. " 2>&1"))
  local out = pipe:read("a")
  pipe:close()
  os.remove(script)
  return out
end

describe("core.save_keras2 with model_config", function()
  local path = os.tmpname() .. ".h5"
  local config = '{"class_name": "Sequential", "config": {"name": "s\\u00e9q", "layers": []}}'
  local kernel = wk.tensor({ { 1, 2 }, { 3, 4 } }, "float32")

  after_each(function() os.remove(path) end)

  it("writes root attributes as h5py types and the weights under model_weights", function()
    assert(core.save_keras2(path, {
      layers = { { name = "dense", weights = { { name = "dense/kernel:0", tensor = kernel } } } },
      model_config = config, overwrite = true,
    }))
    local out = h5py(path, [==[
import h5py.h5t as t
for k in ("keras_version", "backend", "model_config"):
    ty = f.attrs.get_id(k).get_type()
    print(k, ty.is_variable_str(), "utf8" if ty.get_cset() == t.CSET_UTF8 else "ascii", f.attrs[k])
print("root keys", sorted(f.keys()))
g = f["model_weights"]
print("mw attrs", sorted(g.attrs.keys()), [n.decode() for n in g.attrs["layer_names"]])
print("kernel", g["dense/dense/kernel:0"][()].tolist())
]==])
    assert.truthy(out:find("keras_version True utf8 2.15.0\n", 1, true), out)
    assert.truthy(out:find("backend True utf8 tensorflow\n", 1, true), out)
    assert.truthy(out:find('model_config True ascii ' .. config .. "\n", 1, true), out)
    assert.truthy(out:find("root keys ['model_weights']\n", 1, true), out)
    assert.truthy(out:find("mw attrs ['backend', 'keras_version', 'layer_names', 'weightkit_version'] ['dense']\n",
      1, true), out)
    assert.truthy(out:find("kernel [[1.0, 2.0], [3.0, 4.0]]\n", 1, true), out)
  end)

  it("reads back as keras2-h5-model with the same config and values", function()
    assert(core.save_keras2(path, {
      layers = { { name = "dense", weights = { { name = "dense/kernel:0", tensor = kernel } } } },
      model_config = config, overwrite = true,
    }))
    local f <close> = assert(wk.open(path))
    assert.are.equal("keras2-h5-model", f.format)
    assert.are.equal(config, f:attribute("/", "model_config"))
    assert.are.equal(0, f:get("dense", "dense/kernel:0"):max_abs_diff(kernel))
  end)
end)
