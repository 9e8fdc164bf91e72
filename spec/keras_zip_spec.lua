-- .keras archives through the raw binding (src/lwk_zip.c): handle:members(), handle:member(name) and
-- core.save_keras_zip, checked against the real archives' expected facts and read back with Python's
-- zipfile (Keras's own reader).
local core = require "weightkit.core"
local decode = require "support.json_decode"

local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local PYTHON = "/usr/bin/python3"
local ARCHIVES = {
  "k315_nested_container.keras", "k2150_windows_backslash_dense.keras", "k392_hybrid_conv1d_bilstm_bn.keras",
}

local function facts(name)
  local f = assert(io.open(REAL .. "/expected/" .. name .. ".json"))
  local text = f:read("a")
  f:close()
  return decode(text)
end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- zipfile's view of an archive: {name, compress_type, flag_bits, date_time, data} per member.
local function zipfile_view(path)
  local script = [[
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    print(i.filename.encode().hex(), i.compress_type, i.flag_bits, "%04d-%02d-%02d@%02d:%02d:%02d" % i.date_time,
          z.read(i).hex())
]]
  local p = assert(io.popen(PYTHON .. " -c " .. sh_quote(script) .. " " .. sh_quote(path)))
  local out = {}
  for line in p:lines() do
    local name, ctype, flags, date, data = line:match("^(%x*) (%d+) (%d+) (%S+) (%x*)$")
    local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
    out[#out + 1] = {name = unhex(name), compress_type = tonumber(ctype), flag_bits = tonumber(flags), date = date,
                     data = unhex(data)}
  end
  assert(p:close())
  return out
end

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".keras"
end

describe("core handle:members() / member()", function()
  for _, name in ipairs(ARCHIVES) do
    it("lists and reads the members of " .. name, function()
      local exp = facts(name)
      local h = assert(core.open(REAL .. "/" .. name))
      assert.are.equal("keras-zip", h:format())
      local members = h:members()
      assert.are.equal(#exp.members, #members)
      for i, m in ipairs(exp.members) do
        assert.are.equal(m.name, members[i].name)
        assert.are.equal(m.size, members[i].size)
        assert.are.equal(m.size, members[i].compressed_size)
        assert.are.equal(m.compress_type, members[i].method)
      end
      local meta = decode(h:member("metadata.json"))
      assert.are.equal(exp.metadata.keras_version, meta.keras_version)
      assert.are.equal(exp.metadata.date_saved, meta.date_saved)
      local config = h:member("config.json")
      assert.are.equal(exp.config.length, #config)
      assert.are.equal(exp.config.class_name, decode(config).class_name)
      h:close()
    end)
  end

  it("raises for a missing member, lists nothing for an HDF5 file, refuses a closed handle", function()
    local h = assert(core.open(REAL .. "/k315_nested_container.keras"))
    local ok, err = pcall(h.member, h, "assets/none")
    assert.is_false(ok)
    assert.matches('^weightkit: .*k315_nested_container%.keras: no archive member "assets/none"', err)
    h:close()
    assert.has_error(function() h:members() end, "attempt to use a closed file")
    local w = assert(core.open(REAL .. "/k3_dense_adam.weights.h5"))
    assert.are.same({}, w:members())
    assert.has_error(function() w:member("metadata.json") end)
    w:close()
  end)

  it("honours max_attribute_bytes", function()
    local h = assert(core.open(REAL .. "/k315_nested_container.keras", {max_attribute_bytes = 100}))
    assert.matches("config%.json.*limit 100", select(2, pcall(h.member, h, "config.json")))
    assert.are.equal(64, #h:member("metadata.json"))
    h:close()
  end)
end)

describe("core.save_keras_zip", function()
  it("writes a .keras archive Python reads like Keras's own, and weightkit reads back", function()
    local src = assert(core.open(REAL .. "/k315_nested_container.keras"))
    local meta, config, weights = src:member("metadata.json"), src:member("config.json"), src:member("model.weights.h5")
    local path = tmpname()
    assert.is_true(core.save_keras_zip(path, {
      {name = "metadata.json", data = meta},
      {name = "config.json", data = config},
      {name = "model.weights.h5", data = weights, mtime = 1716900000},
    }, false))
    local view = zipfile_view(path)
    assert.are.equal(3, #view)
    assert.are.same({"metadata.json", "config.json", "model.weights.h5"}, {view[1].name, view[2].name, view[3].name})
    for _, m in ipairs(view) do
      assert.are.equal(0, m.compress_type)
      assert.are.equal(0, m.flag_bits)
    end
    assert.are.equal("1980-01-01@00:00:00", view[1].date)
    assert.are.equal("1980-01-01@00:00:00", view[2].date)
    assert.are.equal("2024-05-28@12:40:00", view[3].date)
    assert.are.equal(weights, view[3].data)
    local back = assert(core.open(path))
    assert.are.equal("keras-zip", back:format())
    assert.are.equal(core.tensor_sha256(src:read_dataset(1)), core.tensor_sha256(back:read_dataset(1)))
    back:close()
    src:close()

    local ok, msg, code = core.save_keras_zip(path, {{name = "x", data = "y"}}, false)
    assert.is_nil(ok)
    assert.matches("already exists", msg)
    assert.are.equal("EIO", code)
    assert.is_true(core.save_keras_zip(path, {{name = "assets/a.txt", data = "hello", deflate = true}}, true))
    view = zipfile_view(path)
    assert.are.equal(1, #view)
    assert.are.equal(8, view[1].compress_type)
    assert.are.equal(0, view[1].flag_bits)
    assert.are.equal("hello", view[1].data)
    os.remove(path)
  end)

  it("refuses bad names (EINVAL) and malformed arguments (raises)", function()
    local path = tmpname()
    for _, bad in ipairs({"../evil", "/abs", "a\\b", "a//b", "./a", ""}) do
      local ok, msg, code = core.save_keras_zip(path, {{name = bad, data = ""}}, true)
      assert.is_nil(ok, bad)
      assert.are.equal("EINVAL", code, msg)
    end
    assert.is_nil(io.open(path))
    assert.has_error(function() core.save_keras_zip(path, {{name = "a"}}, true) end,
                     "weightkit.save_keras_zip: member 1: 'data' must be a string")
    assert.has_error(function() core.save_keras_zip(path, {{name = "a", data = "", mtime = 1.5}}, true) end,
                     "weightkit.save_keras_zip: member 1: 'mtime' must be an integer")
    assert.has_error(function() core.save_keras_zip(path, {"x"}, true) end)
  end)
end)
