-- Exhaustive float16 / bfloat16 conversion checks through the Lua API (from_bytes, astype,
-- tobytes), against NumPy (Debian's /usr/bin/python3) for float16 and against a round-to-
-- nearest-even reference computed in NumPy integer arithmetic for bfloat16 (NumPy has none).
-- NaN payloads may legitimately differ: for NaNs only NaN-ness is compared.
local wk = require "weightkit"

local PYTHON = "/usr/bin/python3"

local function have_numpy()
  local p = io.popen(PYTHON .. " -c 'import numpy' 2>/dev/null && echo yes")
  local out = p and p:read("a") or ""
  if p then p:close() end
  return out:match("yes") ~= nil
end
local NUMPY = have_numpy()

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  return data
end

-- Runs a NumPy snippet with `inp` and `out` bound to file paths; returns the bytes it wrote.
local function numpy(code, input)
  local inp, out = os.tmpname(), os.tmpname()
  write_file(inp, input or "")
  local script = "import sys, numpy as np\ninp, out = sys.argv[1], sys.argv[2]\n" .. code
  local src = os.tmpname()
  write_file(src, script)
  local ok = os.execute(PYTHON .. " " .. src .. " " .. inp .. " " .. out)
  local result = ok and read_file(out) or nil
  os.remove(inp); os.remove(out); os.remove(src)
  assert(result, "python failed")
  return result
end

local function all_u16_bytes()
  local parts = {}
  for hi = 0, 255 do
    local chunk = {}
    for lo = 0, 255 do chunk[#chunk + 1] = string.pack("=I2", hi * 256 + lo) end
    parts[#parts + 1] = table.concat(chunk)
  end
  return table.concat(parts)
end

local function f32_is_nan(bits) return bits & 0x7f800000 == 0x7f800000 and bits & 0x7fffff ~= 0 end
local function f16_is_nan(bits) return bits & 0x7c00 == 0x7c00 and bits & 0x3ff ~= 0 end

local function f32_bits(x) return (string.unpack("=I4", string.pack("=f", x))) end
local function f32_from_bits(b) return (string.unpack("=f", string.pack("=I4", b))) end

-- Compares two packed arrays element by element; returns the number of mismatches and the
-- first few descriptions.
local function compare(ours, ref, fmt, size, is_nan, label)
  assert.are.equal(#ref, #ours, label .. ": byte length")
  local bad, first = 0, {}
  for pos = 1, #ref, size do
    local a = string.unpack(fmt, ours, pos)
    local b = string.unpack(fmt, ref, pos)
    local same = a == b or (is_nan(a) and is_nan(b))
    if not same then
      bad = bad + 1
      if #first < 5 then
        first[#first + 1] = string.format("#%d ours 0x%x ref 0x%x", (pos - 1) // size + 1, a, b)
      end
    end
  end
  return bad, table.concat(first, "; ")
end

-- The float32 test set for the narrowing direction, packed: every float16 value, every midpoint
-- between neighbours (the ties) and the float32 values either side of each, values around the
-- float16 overflow threshold, subnormal boundaries, inf/NaN, and random bit patterns.
local function f32_test_set(f16_values_f32)
  local vals = {}
  local function add_bits(b) vals[#vals + 1] = string.pack("=I4", b & 0xffffffff) end
  local function add(x) add_bits(f32_bits(x)) end
  local n = #f16_values_f32 // 4
  local prev
  for i = 0, n - 1 do -- the positive half, then the negative half: both ordered by magnitude
    local bits = string.unpack("=I4", f16_values_f32, 4 * i + 1)
    add_bits(bits)
    local x = f32_from_bits(bits)
    local h = i & 0x7fff
    if h ~= 0 and h <= 0x7c00 and prev then -- consecutive (same sign) finite/inf neighbours
      local mid = (prev + x) / 2 -- exact in float32 (12 significant bits)
      if math.abs(mid) ~= math.huge then
        local mb = f32_bits(mid)
        add_bits(mb); add_bits(mb + 1); add_bits(mb - 1)
      end
    end
    prev = x
    if h == 0x7fff then prev = nil end
  end
  for x = 65500, 65540, 0.5 do add(x); add(-x) end
  for _, b in ipairs { f32_bits(65520.0), f32_bits(65504.0), f32_bits(65536.0) } do
    for d = -3, 3 do add_bits(b + d); add_bits((b + d) | 0x80000000) end
  end
  for _, x in ipairs { 2^-24, 2^-25, 3 * 2^-26, 2^-26, 1023 * 2^-24, 2^-14, 2^-14 - 2^-25, 2^-15,
                       1e-10, 2^-149, 2^-126, 1.0, 0.1, 1 / 3 } do
    local b = f32_bits(x)
    for d = -2, 2 do add_bits(b + d); add_bits((b + d) | 0x80000000) end
  end
  for _, b in ipairs { 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff,
                       0x7fffffff, 0xff800123, 0x00000000, 0x80000000 } do
    add_bits(b)
  end
  local rng = wk.rng(20240601)
  for _ = 1, 100000 do add_bits(rng:next() & 0xffffffff) end
  return table.concat(vals)
end

describe("float16 conversions (exhaustive, against NumPy)", function()
  local all16 = all_u16_bytes()
  local n = #all16 // 2

  it("uint16 -> from_bytes float16 -> float32 matches NumPy for all 65536 patterns", function()
    if not NUMPY then return pending("no numpy at " .. PYTHON) end
    local u = wk.from_bytes(all16, "uint16", { n })
    assert.are.equal(all16, u:tobytes())
    local h = wk.from_bytes(u:tobytes(), "float16", { n })
    local ours = h:astype("float32"):tobytes()
    local ref = numpy([[
open(out, "wb").write(np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).tobytes())
]])
    local bad, first = compare(ours, ref, "=I4", 4, f32_is_nan, "f16->f32")
    assert.are.equal(0, bad, first)
  end)

  it("float32 -> float16 matches NumPy's astype(float16) on ties, overflow, subnormals, random bits", function()
    if not NUMPY then return pending("no numpy at " .. PYTHON) end
    local f16_as_f32 = wk.from_bytes(all16, "float16", { n }):astype("float32"):tobytes()
    local set = f32_test_set(f16_as_f32)
    local count = #set // 4
    assert.is_true(count > 200000)
    local ours = wk.from_bytes(set, "float32", { count }):astype("float16"):tobytes()
    local ref = numpy([[
x = np.frombuffer(open(inp, "rb").read(), dtype=np.float32)
with np.errstate(all="ignore"):
    open(out, "wb").write(x.astype(np.float16).tobytes())
]], set)
    local bad, first = compare(ours, ref, "=I2", 2, f16_is_nan, "f32->f16")
    assert.are.equal(0, bad, first)
  end)

  it("float64 -> float16 rounds once (no double rounding through float32), as NumPy", function()
    if not NUMPY then return pending("no numpy at " .. PYTHON) end
    local vals = {}
    local h = wk.from_bytes(all16, "float16", { n }):astype("float64")
    for i = 1, 0x7bff do -- positive finite neighbours: just above and below every tie
      local mid = (h[i] + h[i + 1]) / 2
      for _, x in ipairs { mid * (1 + 2^-40), mid * (1 - 2^-40), mid, -mid * (1 + 2^-40) } do
        vals[#vals + 1] = string.pack("=d", x)
      end
    end
    local set = table.concat(vals)
    local ours = wk.from_bytes(set, "float64", { #set // 8 }):astype("float16"):tobytes()
    local ref = numpy([[
x = np.frombuffer(open(inp, "rb").read(), dtype=np.float64)
open(out, "wb").write(x.astype(np.float16).tobytes())
]], set)
    local bad, first = compare(ours, ref, "=I2", 2, f16_is_nan, "f64->f16")
    assert.are.equal(0, bad, first)
  end)

  it("round-trips every non-NaN float16 through float32 unchanged", function()
    local h = wk.from_bytes(all16, "float16", { n })
    local back = h:astype("float32"):astype("float16"):tobytes()
    local bad, first = compare(back, all16, "=I2", 2, f16_is_nan, "f16->f32->f16")
    assert.are.equal(0, bad, first)
    -- NaNs stay NaNs
    local nan = wk.from_bytes(string.pack("=I2I2I2", 0x7e00, 0x7c01, 0xfe00), "float16", { 3 })
    local r = nan:astype("float32")
    for i = 1, 3 do assert.is_true(r[i] ~= r[i]) end
  end)

  it("round-trips every float16 through float64 and through Lua numbers", function()
    local h = wk.from_bytes(all16, "float16", { n })
    assert.are.equal(0, (compare(h:astype("float64"):astype("float16"):tobytes(), all16, "=I2", 2,
      f16_is_nan, "f16->f64->f16")))
    -- element reads are exact: 2^-24 and 65504
    local t = wk.from_bytes(string.pack("=I2I2I2I2", 0x0001, 0x7bff, 0x3c00, 0xfc00), "float16", { 4 })
    assert.are.equal(2^-24, t[1])
    assert.are.equal(65504, t[2])
    assert.are.equal(1, t[3])
    assert.are.equal(-math.huge, t[4])
  end)
end)

describe("bfloat16 conversions (exhaustive, against an integer RNE reference)", function()
  local all16 = all_u16_bytes()
  local n = #all16 // 2

  it("bfloat16 -> float32 is a 16-bit shift for all 65536 patterns", function()
    local ours = wk.from_bytes(all16, "bfloat16", { n }):astype("float32"):tobytes()
    local parts = {}
    for i = 0, n - 1 do parts[#parts + 1] = string.pack("=I4", i << 16) end
    local bad, first = compare(ours, table.concat(parts), "=I4", 4, f32_is_nan, "bf16->f32")
    assert.are.equal(0, bad, first)
  end)

  it("float32 -> bfloat16 rounds to nearest even (NumPy integer reference)", function()
    if not NUMPY then return pending("no numpy at " .. PYTHON) end
    local as_f32 = wk.from_bytes(all16, "bfloat16", { n }):astype("float32"):tobytes()
    local set = f32_test_set(as_f32)
    local count = #set // 4
    local ours = wk.from_bytes(set, "float32", { count }):astype("bfloat16"):tobytes()
    local ref = numpy([[
b = np.frombuffer(open(inp, "rb").read(), dtype=np.uint32).astype(np.uint64)
bias = np.uint64(0x7fff) + ((b >> np.uint64(16)) & np.uint64(1))
r = ((b + bias) >> np.uint64(16)).astype(np.uint16)
nan = ((b & np.uint64(0x7f800000)) == np.uint64(0x7f800000)) & ((b & np.uint64(0x7fffff)) != np.uint64(0))
r[nan] = 0x7fc0
open(out, "wb").write(r.tobytes())
]], set)
    local bad, first = compare(ours, ref, "=I2", 2, function(b) return b & 0x7f80 == 0x7f80 and b & 0x7f ~= 0 end,
      "f32->bf16")
    assert.are.equal(0, bad, first)
  end)

  it("round-trips every non-NaN bfloat16 through float32 unchanged", function()
    local back = wk.from_bytes(all16, "bfloat16", { n }):astype("float32"):astype("bfloat16"):tobytes()
    local bad, first = compare(back, all16, "=I2", 2,
      function(b) return b & 0x7f80 == 0x7f80 and b & 0x7f ~= 0 end, "bf16->f32->bf16")
    assert.are.equal(0, bad, first)
  end)
end)
