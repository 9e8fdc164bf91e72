--[[
Specs for the Lua binding of the safetensors writer (src/lwk_safetensors.c over wk_write_safetensors):
core.save_safetensors(path, {{name =, tensor =}, ...}, {metadata = {k = v}, overwrite = bool}).
Files are taken apart here with string.unpack and the JSON decoder, from the format's facts:
  - 8 bytes little-endian header length N (a multiple of 8: the header is padded with spaces);
  - the header: "__metadata__" first, then the tensors sorted by dtype (U64, I64, F64, ..., F32, ...,
    BOOL: the reference's Dtype order, largest first) and name, each {dtype, shape, data_offsets};
  - the data: each tensor's bytes, little-endian, back to back to the end of the file.
The full byte-level check (every dtype, escapes, NumPy values) is spec/c/test_safetensors.c's.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local json = require "support.json_decode"
local shell = require "support.shell"

local tmpdir = shell.temp_dir("wk_safetensors_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function tmp(name) return tmpdir .. "/" .. name end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- {n =, header_text =, header =, keys = {in file order}, data =}
local function parse(path)
  local s = read(path)
  local n = string.unpack("<I8", s)
  local text = s:sub(9, 8 + n)
  local keys = {}
  for k in text:gmatch('"([^"]+)":{') do
    if k ~= "dtype" then keys[#keys + 1] = k end
  end
  return { n = n, header_text = text, header = json(text), keys = keys, data = s:sub(9 + n) }
end

describe("core.save_safetensors", function()
  it("writes the reference layout: padded header, metadata first, dtype-then-name order, contiguous data", function()
    local path = tmp("a.safetensors")
    local kernel = wk.tensor({{1, 2}, {3, 4}}, "float32")
    local ids = wk.tensor({7, 8}, "int64")
    local half = wk.tensor({0.5, -2}, "float16")
    local flag = wk.tensor({true, false, true}, "bool")
    assert.is_true(core.save_safetensors(path, {
      {name = "dense.kernel", tensor = kernel},
      {name = "dense.bias", tensor = wk.tensor({0.25}, "float32")},
      {name = "ids", tensor = ids},
      {name = "half", tensor = half},
      {name = "flag", tensor = flag},
    }, {metadata = {format = "pt", zeta = "last", alpha = "first"}}))
    local p = parse(path)
    assert.equal(0, p.n % 8)
    assert.matches("^{.-} *$", p.header_text)
    assert.same({"__metadata__", "ids", "dense.bias", "dense.kernel", "half", "flag"}, p.keys)
    assert.same({format = "pt", zeta = "last", alpha = "first"}, p.header.__metadata__)
    -- metadata written sorted by key (a Lua table has no order)
    assert.matches('^{"__metadata__":{"alpha":"first","format":"pt","zeta":"last"}', p.header_text)
    assert.same({dtype = "I64", shape = {2}, data_offsets = {0, 16}}, p.header.ids)
    assert.same({dtype = "F32", shape = {1}, data_offsets = {16, 20}}, p.header["dense.bias"])
    assert.same({dtype = "F32", shape = {2, 2}, data_offsets = {20, 36}}, p.header["dense.kernel"])
    assert.same({dtype = "F16", shape = {2}, data_offsets = {36, 40}}, p.header.half)
    assert.same({dtype = "BOOL", shape = {3}, data_offsets = {40, 43}}, p.header.flag)
    assert.equal(43, #p.data)
    assert.same({7, 8, 17}, {string.unpack("<i8<i8", p.data)})
    assert.same({0.25, 1, 2, 3, 4, 37}, {string.unpack("<f<f<f<f<f", p.data, 17)})
    assert.equal("\0\56\0\192\1\0\1", p.data:sub(37, 43)) -- f16 0.5 = 0x3800, -2 = 0xc000; bools 1 0 1
  end)

  it("writes a scalar and an empty tensor", function()
    local path = tmp("b.safetensors")
    assert.is_true(core.save_safetensors(path, {
      {name = "s", tensor = wk.tensor(3.5, "float64")},
      {name = "e", tensor = core.zeros({0, 3})},
    }))
    local p = parse(path)
    assert.same({}, p.header.s.shape)
    assert.same(8, p.header.s.data_offsets[2] - p.header.s.data_offsets[1])
    assert.equal(p.header.e.data_offsets[1], p.header.e.data_offsets[2])
    assert.equal(3.5, string.unpack("<d", p.data, p.header.s.data_offsets[1] + 1))
  end)

  it("returns nil, message, code for what the core refuses, and keeps the previous file", function()
    local path = tmp("c.safetensors")
    local t = wk.tensor({1}, "float32")
    assert.is_true(core.save_safetensors(path, {{name = "a", tensor = t}}))
    local before = read(path)
    local ok, msg, code = core.save_safetensors(path, {{name = "a", tensor = t}})
    assert.is_nil(ok)
    assert.equal("EIO", code)
    assert.matches("already exists", msg)
    ok, msg, code = core.save_safetensors(path, {{name = "a", tensor = t}, {name = "a", tensor = t}}, {overwrite = true})
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
    assert.matches('duplicate tensor name "a"', msg)
    ok, msg, code = core.save_safetensors(path, {{name = "__metadata__", tensor = t}}, {overwrite = true})
    assert.equal("EINVAL", code)
    assert.equal(before, read(path))
    assert.is_true(core.save_safetensors(path, {{name = "b", tensor = t}}, {overwrite = true}))
    assert.same({"b"}, parse(path).keys)
  end)

  it("raises for arguments that are not what it takes", function()
    local path = tmp("d.safetensors")
    local t = wk.tensor({1}, "float32")
    assert.has_error(function() core.save_safetensors(path, {{name = 1, tensor = t}}) end)
    assert.has_error(function() core.save_safetensors(path, {{name = "a\0b", tensor = t}}) end)
    assert.has_error(function() core.save_safetensors(path, {{name = "a", tensor = {1}}}) end)
    assert.has_error(function() core.save_safetensors(path, {"x"}) end)
    assert.has_error(function() core.save_safetensors(path, {}, {metadata = {k = 1}}) end)
    assert.has_error(function() core.save_safetensors(path, {}, {metadata = "x"}) end)
  end)
end)

describe("file:metadata() on a safetensors file", function()
  it("lists __metadata__ as written, and nothing for other formats", function()
    local path = tmp("m.safetensors")
    local t = wk.tensor({1, 2}, "float32")
    assert.is_true(core.save_safetensors(path, {{name = "fc.weight", tensor = t}},
      {metadata = {format = "pt", note = "é ü"}, overwrite = true}))
    local f <close> = assert(wk.open(path))
    assert.same({format = "pt", note = "é ü"}, f:metadata())
    assert.equal("pt", f:attribute("__metadata__", "format"))
    local real = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
    local h5 <close> = assert(wk.open(real .. "/k3_dense_adam.weights.h5"))
    assert.same({}, h5:metadata())
  end)
end)
