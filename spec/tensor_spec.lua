-- The Lua tensor API (contract "Lua tensor API"): construction, metadata, indexing, views vs
-- copies, copy-on-write, arithmetic with NumPy's weak scalars, maps, reductions, rng fills,
-- lifetime. Printing is in tensor_format_spec.lua, float16/bfloat16 in half_spec.lua.
local wk = require "weightkit"

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

local function assert_err(pattern, f, ...)
  local e = err_of(f, ...)
  assert.is_truthy(e:find(pattern, 1, true), "error was: " .. e)
end

local function close_to(a, b, tol) return math.abs(a - b) <= (tol or 1e-6) end

describe("weightkit tensors", function()
  describe("construction", function()
    it("builds from nested tables with float32 by default", function()
      local t = wk.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
      assert.are.equal("float32", t:dtype())
      assert.are.same({ 2, 3 }, t:shape())
      assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, t:totable())
      assert.are.equal(6, t:numel())
      assert.are.equal(2, t:rank())
      assert.are.equal(2, #t)
    end)

    it("infers bool from booleans only, honours an explicit dtype", function()
      assert.are.equal("bool", wk.tensor { true, false }:dtype())
      assert.are.equal("float32", wk.tensor { true, 2 }:dtype())
      local t = wk.tensor({ 1, -2, 3 }, "int16")
      assert.are.equal("int16", t:dtype())
      assert.are.same({ 1, -2, 3 }, t:totable())
      assert.are.equal("integer", math.type(t[1]))
      assert.are.same({ true, false }, wk.tensor({ 1, 0 }, "bool"):totable())
    end)

    it("builds 0-d tensors from numbers and copies tensors", function()
      local s = wk.tensor(2.5)
      assert.are.same({}, s:shape())
      assert.are.equal(0, s:rank())
      assert.are.equal(2.5, s:item())
      assert.are.equal(2.5, s:totable())
      assert.are.equal("bool", wk.tensor(true):dtype())
      local a = wk.tensor { 1, 2 }
      local b = wk.tensor(a)
      b[1] = 9
      assert.are.equal(1, a[1])
      assert.are.equal("float64", wk.tensor(a, "float64"):dtype())
    end)

    it("builds empty tensors", function()
      assert.are.same({ 0 }, wk.tensor({}):shape())
      assert.are.same({ 2, 0 }, wk.tensor({ {}, {} }):shape())
      assert.are.equal("", wk.tensor({}):tobytes())
    end)

    it("reports ragged and non-numeric nested tables with their position", function()
      assert.are.equal("wk.tensor: ragged nested table at [2]", err_of(wk.tensor, { { 1, 2 }, { 3 } }))
      assert.are.equal("wk.tensor: ragged nested table at [2]", err_of(wk.tensor, { 1, { 2 } }))
      assert.are.equal("wk.tensor: ragged nested table at [2]", err_of(wk.tensor, { { 1 }, 2 }))
      assert.are.equal("wk.tensor: ragged nested table at [1][2][1]",
        err_of(wk.tensor, { { { 1 }, { { 2 } } } }))
      assert.are.equal("wk.tensor: expected a number or boolean at [2][2], got string",
        err_of(wk.tensor, { { 1, 2 }, { 3, "x" } }))
      local deep = 1
      for _ = 1, 9 do deep = { deep } end
      assert.are.equal("wk.tensor: nested table deeper than 8 levels", err_of(wk.tensor, deep))
      assert_err("unknown dtype 'float'", wk.tensor, { 1 }, "float")
      assert_err("out of range for int8", wk.tensor, { 1, 300 }, "int8")
    end)

    it("zeros, ones, full; dtypes", function()
      assert.are.same({ { 0, 0 } }, wk.zeros({ 1, 2 }):totable())
      assert.are.same({ 1, 1, 1 }, wk.ones(3, "int32"):totable())
      assert.are.equal("int32", wk.ones(3, "int32"):dtype())
      local f = wk.full({ 2 }, 7, "int64")
      assert.are.same({ 7, 7 }, f:totable())
      assert.are.equal("float32", wk.full({ 2 }, 0.5):dtype())
      assert.are.same({ true }, wk.full({ 1 }, true):totable())
      assert.are.same({ 9007199254740993 }, wk.full({ 1 }, 9007199254740993, "int64"):totable())
      local names = {}
      for _, d in ipairs(wk.dtypes) do names[d] = true end
      for _, d in ipairs { "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                           "uint64", "float16", "bfloat16", "float32", "float64" } do
        assert.is_true(names[d], d)
        assert.are.equal(d, wk.zeros({ 1 }, d):dtype())
      end
      assert_err("shape dims must be >= 0", wk.zeros, { 2, -1 })
    end)

    it("is_tensor", function()
      assert.is_true(wk.is_tensor(wk.tensor { 1 }))
      assert.is_false(wk.is_tensor({}))
      assert.is_false(wk.is_tensor(wk.rng(1)))
    end)
  end)

  describe("bytes", function()
    it("round-trips through tobytes/from_bytes in native C order", function()
      local t = wk.tensor({ { 1, 2 }, { 3, 4 } }, "int32")
      local b = t:tobytes()
      assert.are.equal(string.pack("=i4i4i4i4", 1, 2, 3, 4), b)
      local u = wk.from_bytes(b, "int32", { 4 })
      assert.are.same({ 1, 2, 3, 4 }, u:totable())
      assert.are.equal("owned", u:storage())
      assert.is_false(u:is_readonly())
      assert.are.equal(string.pack("=f", 0.5), wk.tensor { 0.5 }:tobytes())
    end)

    it("checks the byte count", function()
      assert.has_error(function() wk.from_bytes("abc", "int32", { 1 }) end)
      assert_err("unknown dtype", wk.from_bytes, "abcd", "int", { 1 })
    end)
  end)

  describe("indexing", function()
    it("reads with 1-based and negative indices", function()
      local t = wk.tensor { 10, 20, 30 }
      assert.are.equal(10, t[1])
      assert.are.equal(30, t[-1])
      assert.are.equal(20, t[-2])
      assert.are.equal("weightkit: index 4 out of range for axis 1 with size 3", err_of(function() return t[4] end))
      assert_err("index 0 out of range", function() return t[0] end)
      assert_err("index -4 out of range", function() return t[-4] end)
      assert_err("must be an integer", function() return t[1.5] end)
      assert.is_nil(t.no_such_method)
      assert_err("0-d tensor", function() return wk.tensor(1)[1] end)
      assert_err("0-d tensor", function() return #wk.tensor(1) end)
    end)

    it("t[i] on rank > 1 is a view that writes through", function()
      local t = wk.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
      local row = t[2]
      assert.are.equal("view", row:storage())
      assert.are.same({ 4, 5, 6 }, row:totable())
      row[1] = 40
      assert.are.equal(40, t:get(2, 1))
      t[1][3] = 30
      assert.are.same({ { 1, 2, 30 }, { 40, 5, 6 } }, t:totable())
      assert.are.equal(6, t[-1][-1])
    end)

    it("assigns numbers, tables and tensors into rows", function()
      local t = wk.zeros { 2, 3 }
      t[1] = 7
      t[-1] = { 1, 2, 3 }
      assert.are.same({ { 7, 7, 7 }, { 1, 2, 3 } }, t:totable())
      t[1] = wk.tensor({ 4, 5, 6 }, "int32")
      assert.are.same({ { 4, 5, 6 }, { 1, 2, 3 } }, t:totable())
      local v = wk.tensor { 1, 2 }
      v[2] = true
      v[-2] = 5
      assert.are.same({ 5, 1 }, v:totable())
      assert.has_error(function() t[1] = { 1, 2 } end)
      assert_err("expected a number or boolean", function() v[1] = "x" end)
      local i8 = wk.zeros({ 2 }, "int8")
      assert_err("out of range", function() i8[1] = 1000 end)
    end)

    it("get/set take a full multi-index", function()
      local t = wk.zeros({ 2, 3, 4 }, "int64")
      t:set(2, -1, 3, 5)
      assert.are.equal(5, t:get(2, 3, 3))
      assert.are.equal(5, t:get(-1, -1, -2))
      assert.are.equal(5, t:totable()[2][3][3])
      assert_err("expected 3 indices", t.get, t, 1, 1)
      assert_err("index 4 out of range for axis 2", t.get, t, 1, 4, 1)
      assert.are.equal(3.5, wk.tensor(3.5):get())
    end)

    it("item needs exactly one element", function()
      assert.are.equal(4, wk.tensor({ { 4 } }, "int32"):item())
      assert.is_true(wk.tensor({ true }):item())
      assert_err("item() needs a tensor of one element, got 2", function() wk.tensor { 1, 2 }:item() end)
    end)

    it("totable gives integers for int dtypes and booleans for bool", function()
      local i = wk.tensor({ { 1, 2 } }, "uint8"):totable()
      assert.are.equal("integer", math.type(i[1][1]))
      assert.are.equal("float", math.type(wk.tensor({ 1 }):totable()[1]))
      assert.are.same({ { true }, { false } }, wk.tensor { { true }, { false } }:totable())
      local big = wk.tensor({ math.maxinteger, math.mininteger }, "int64")
      assert.are.same({ math.maxinteger, math.mininteger }, big:totable())
    end)
  end)

  describe("views, copies and copy-on-write", function()
    it("reshape is a view (one dim may be -1); clone and astype copy", function()
      local t = wk.tensor { 1, 2, 3, 4, 5, 6 }
      local r = t:reshape { 2, -1 }
      assert.are.same({ 2, 3 }, r:shape())
      assert.are.same({ 3, 2 }, t:reshape(3, 2):shape())
      r:set(1, 1, 100)
      assert.are.equal(100, t[1])
      local c = t:clone()
      c[1] = 0
      assert.are.equal(100, t[1])
      assert.are.equal("owned", c:storage())
      local d = t:astype("int32")
      assert.are.equal("int32", d:dtype())
      d[2] = 0
      assert.are.equal(2, t[2])
      assert.are.equal("float16", t:cast("float16"):dtype())
      assert.has_error(function() t:reshape(4) end)
      assert.are.same({ 1, -2 }, wk.tensor { 1.5, -2.5 }:astype("int32"):totable()) -- truncation
    end)

    it("shape() returns a fresh table", function()
      local t = wk.zeros { 2, 3 }
      local s = t:shape()
      s[1] = 99
      assert.are.same({ 2, 3 }, t:shape())
    end)

    it("slice is inclusive, 1-based, negative from the end; a view on axis 1", function()
      local t = wk.tensor { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
      local s = t:slice(1, 2, 3)
      assert.are.same({ { 4, 5, 6 }, { 7, 8, 9 } }, s:totable())
      assert.are.equal("view", s:storage())
      s[1][1] = 40
      assert.are.equal(40, t:get(2, 1))
      local c = t:slice(2, -2, -1)
      assert.are.same({ { 2, 3 }, { 5, 6 }, { 8, 9 } }, c:totable())
      c:set(1, 1, 0)
      assert.are.equal(2, t:get(1, 2)) -- copy on other axes
      assert.are.same({ 3, 1 }, t:slice(2, 2, 2):shape())
      assert.are.same({ 0, 3 }, t:slice(1, 3, 2):shape()) -- empty, like string.sub
      assert.are.same({ 1, 3 }, t:slice(1, -1):shape())
      assert.are.same({ 3, 3 }, t:slice(1, -10, 10):shape()) -- clamped, like string.sub
      assert_err("axis 3 out of range", t.slice, t, 3, 1, 1)
    end)

    it("permute and transpose copy with 1-based axes", function()
      local t = wk.tensor { { { 1, 2 }, { 3, 4 }, { 5, 6 } } } -- (1, 3, 2)
      local p = t:permute { 3, 1, 2 }
      assert.are.same({ 2, 1, 3 }, p:shape())
      assert.are.same({ { { 1, 3, 5 } }, { { 2, 4, 6 } } }, p:totable())
      assert.are.same({ 2, 3, 1 }, t:transpose():shape())
      assert.are.same({ 2, 1, 3 }, t:transpose(-1, 1, 2):shape())
      assert.are.same({ { 1, 3 }, { 2, 4 } }, wk.tensor { { 1, 2 }, { 3, 4 } }:transpose():totable())
      assert_err("repeated axis", t.permute, t, { 1, 1, 2 })
      assert_err("axes must list 3 axes", t.permute, t, { 1, 2 })
    end)

    it("fill and assign write in place and return the tensor", function()
      local t = wk.zeros { 2, 2 }
      assert.are.equal(t, t:fill(3))
      assert.are.same({ { 3, 3 }, { 3, 3 } }, t:totable())
      assert.are.equal(t, t:assign(wk.tensor { 1, 2, 3, 4 }))
      assert.are.same({ { 1, 2 }, { 3, 4 } }, t:totable())
      t:assign { { 5, 6 }, { 7, 8 } }
      assert.are.same({ { 5, 6 }, { 7, 8 } }, t:totable())
      assert.has_error(function() t:assign(wk.tensor { 1, 2, 3 }) end)
      local big = wk.zeros({ 2 }, "int64"):fill(math.maxinteger)
      assert.are.same({ math.maxinteger, math.maxinteger }, big:totable())
    end)

    it("writing to read-only external storage copies first (COW)", function()
      local bytes = wk.tensor { { 1, 2 }, { 3, 4 } }:tobytes()
      local x = wk.from_bytes(bytes, "float32", { 2, 2 }, { readonly = true })
      assert.are.equal("external", x:storage())
      assert.is_true(x:is_readonly())
      local row = x[1] -- a view on the read-only storage
      assert.is_true(row:is_readonly())
      x:set(1, 1, 9)
      assert.is_false(x:is_readonly())
      assert.are.same({ { 9, 2 }, { 3, 4 } }, x:totable())
      assert.are.same({ 1, 2 }, row:totable()) -- the other tensor still sees the original bytes
      -- a row assignment lands in the tensor itself, not in a private copy of a temporary view
      local y = wk.from_bytes(bytes, "float32", { 2, 2 }, { readonly = true })
      y[2] = { 7, 8 }
      assert.are.same({ { 1, 2 }, { 7, 8 } }, y:totable())
      local z = wk.from_bytes(bytes, "float32", { 2, 2 }, { readonly = true })
      z:fill(0)
      assert.are.same({ { 0, 0 }, { 0, 0 } }, z:totable())
      assert.are.same({ 1, 2 }, row:totable())
    end)
  end)

  describe("arithmetic", function()
    it("does + - * / ^ and unary minus with broadcasting", function()
      local a = wk.tensor { { 1, 2, 3 } }
      local b = wk.tensor { { 10 }, { 20 } }
      assert.are.same({ { 11, 12, 13 }, { 21, 22, 23 } }, (a + b):totable())
      assert.are.same({ { -9, -8, -7 }, { -19, -18, -17 } }, (a - b):totable())
      assert.are.same({ { 10, 20, 30 }, { 20, 40, 60 } }, (a * b):totable())
      assert.are.same({ { 0.5, 1, 1.5 } }, (a / 2):totable())
      assert.are.same({ { 1, 4, 9 } }, (a ^ 2):totable())
      assert.are.same({ { -1, -2, -3 } }, (-a):totable())
      assert.are.same({ { 1, 0, -1 } }, (2 - a):totable())
      assert.are.same({ { 6, 3, 2 } }, (6 / a):totable())
      assert.are.same({ { 2, 4, 8 } }, (2 ^ a):totable())
      assert.are.same({ { 2, 4, 6 } }, (a + { 1, 2, 3 }):totable())
    end)

    it("raises plain messages on shape mismatch and bad operands", function()
      local e = err_of(function() return wk.tensor { { 1, 2 }, { 3, 4 }, { 5, 6 } } + wk.tensor { 1, 2, 3, 4 } end)
      assert.is_truthy(e:find("^weightkit: "), e)
      assert.is_truthy(e:find("cannot broadcast shapes (3, 2) and (4,)", 1, true), e)
      assert_err("attempt to perform arithmetic on a string value", function() return wk.tensor { 1 } + "x" end)
    end)

    it("treats Lua numbers as NumPy weak scalars", function()
      local i32 = wk.tensor({ 1, 2 }, "int32")
      assert.are.equal("int32", (i32 + 1):dtype())
      assert.are.equal("int32", (3 * i32):dtype())
      assert.are.equal("float64", (i32 * 0.5):dtype())
      assert.are.same({ 0.5, 1 }, (i32 * 0.5):totable())
      local h = wk.tensor({ 1, 2 }, "float16")
      assert.are.equal("float16", (h + 1.5):dtype())
      assert.are.equal("float16", (h * 2):dtype())
      assert.are.equal("float32", (h + wk.tensor { 1, 1 }):dtype())
      assert.are.equal("int64", (wk.tensor { true, false } + 1):dtype())
      assert.are.same({ 2, 1 }, (wk.tensor { true, false } + 1):totable())
      assert_err("out of range", function() return wk.tensor({ 1 }, "int8") + 1000 end)
    end)

    it("divides integers as floats (true division)", function()
      local q = wk.tensor({ 1, 3 }, "int32") / wk.tensor({ 2, 2 }, "int32")
      assert.are.equal("float64", q:dtype())
      assert.are.same({ 0.5, 1.5 }, q:totable())
      assert.are.equal("float64", (wk.tensor({ 1 }, "int8") / 2):dtype())
      assert.are.equal("float32", (wk.tensor({ 1 }) / 2):dtype())
    end)

    it("maximum and minimum", function()
      assert.are.same({ 3, 5 }, wk.maximum(wk.tensor { 1, 5 }, 3):totable())
      assert.are.same({ 1, 2 }, wk.minimum(2, wk.tensor { 1, 5 }):totable())
      assert.are.same({ { 1, 4 } }, wk.tensor { { 1, 2 } }:maximum(wk.tensor { 0, 4 }):totable())
    end)
  end)

  describe("maps, softmax, matmul", function()
    local x = { -2, -0.5, 0, 0.5, 2 }
    local function erf(v) -- Abramowitz-Stegun 7.1.26 is too coarse; use a series
      local sum, term, n = v, v, 0
      repeat
        n = n + 1
        term = -term * v * v / n
        local add = term / (2 * n + 1)
        sum = sum + add
      until math.abs(add) < 1e-17
      return 2 / math.sqrt(math.pi) * sum
    end
    local refs = {
      neg = function(v) return -v end,
      abs = math.abs,
      exp = math.exp,
      square = function(v) return v * v end,
      linear = function(v) return v end,
      relu = function(v) return math.max(v, 0) end,
      sigmoid = function(v) return 1 / (1 + math.exp(-v)) end,
      tanh = function(v) return (math.exp(2 * v) - 1) / (math.exp(2 * v) + 1) end,
      gelu = function(v) return 0.5 * v * (1 + erf(v / math.sqrt(2))) end,
      elu = function(v) return v > 0 and v or math.exp(v) - 1 end,
      selu = function(v)
        local a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return s * (v > 0 and v or a * (math.exp(v) - 1))
      end,
      softplus = function(v) return math.log(1 + math.exp(v)) end,
      swish = function(v) return v / (1 + math.exp(-v)) end,
    }
    for name, f in pairs(refs) do
      it("map " .. name, function()
        local t = wk.tensor(x, "float64"):map(name)
        assert.are.equal("float64", t:dtype())
        for i, v in ipairs(x) do
          assert.is_true(close_to(t[i], f(v), 1e-12), name .. "(" .. v .. ") = " .. t[i] .. " vs " .. f(v))
        end
      end)
    end

    it("map log and sqrt; unknown ops and integer dtypes fail", function()
      local t = wk.tensor({ 1, 4 }, "float64")
      assert.are.same({ 0, math.log(4) }, t:map("log"):totable())
      assert.are.same({ 1, 2 }, t:map("sqrt"):totable())
      assert_err("invalid option 'nope'", t.map, t, "nope")
      assert.has_error(function() wk.tensor({ 1 }, "int32"):map("exp") end)
      assert.are.same({ 1 }, wk.tensor({ -1 }, "int32"):map("abs"):totable())
    end)

    it("softmax along an axis (default last)", function()
      local t = wk.tensor({ { 1, 2, 3 }, { 1, 1, 1 } }, "float64")
      local s = t:softmax()
      local e = { math.exp(1), math.exp(2), math.exp(3) }
      local z = e[1] + e[2] + e[3]
      for j = 1, 3 do
        assert.is_true(close_to(s:get(1, j), e[j] / z, 1e-12))
        assert.is_true(close_to(s:get(2, j), 1 / 3, 1e-12))
      end
      local s1 = t:softmax(1)
      assert.is_true(close_to(s1:get(1, 1), 0.5, 1e-12))
      assert.is_true(close_to(s1:get(1, 3) + s1:get(2, 3), 1, 1e-12))
      assert_err("axis 3 out of range", t.softmax, t, 3)
    end)

    it("matmul", function()
      local a = wk.tensor { { 1, 2 }, { 3, 4 } }
      local b = wk.tensor { { 5 }, { 6 } }
      assert.are.same({ { 17 }, { 39 } }, a:matmul(b):totable())
      assert.are.same({ { 17 }, { 39 } }, wk.matmul(a, b):totable())
      assert.has_error(function() wk.matmul(b, b) end)
    end)
  end)

  describe("reductions and comparisons", function()
    it("sum min max mean std norm", function()
      local t = wk.tensor { { 1, 2 }, { 3, 4 } }
      assert.are.equal(10, t:sum())
      assert.are.equal(1, t:min())
      assert.are.equal(4, t:max())
      assert.are.equal(2.5, t:mean())
      assert.is_true(close_to(t:std(), math.sqrt(1.25), 1e-12))
      assert.is_true(close_to(t:norm(), math.sqrt(30), 1e-6))
      local i = wk.tensor({ 1, 2, 3 }, "int32")
      assert.are.equal("integer", math.type(i:sum()))
      assert.are.equal(6, i:sum())
      assert.are.equal(2, wk.tensor { true, false, true }:sum())
      assert.has_error(function() wk.tensor({}):max() end)
    end)

    it("allclose and max_abs_diff", function()
      local a = wk.tensor { 1, 2, 3 }
      assert.is_true(a:allclose(wk.tensor { 1, 2, 3 + 1e-6 }))
      assert.is_false(a:allclose(wk.tensor { 1, 2, 3.1 }))
      assert.is_true(a:allclose(wk.tensor { 1, 2, 3.1 }, 0, 0.2))
      assert.is_true(a:allclose { 1, 2, 3 })
      assert.is_true(wk.tensor { 2, 2 }:allclose(2))
      assert.is_true(close_to(a:max_abs_diff(wk.tensor { 1, 2.5, 3 }), 0.5))
      assert.is_true(close_to(a:max_abs_diff(wk.tensor { { 1, 2, 3 }, { 0, 2, 3 } }), 1)) -- broadcast
    end)
  end)

  describe("concat and split", function()
    it("concatenates along an axis (default 1)", function()
      local a, b = wk.tensor { { 1, 2 } }, wk.tensor { { 3, 4 } }
      assert.are.same({ { 1, 2 }, { 3, 4 } }, wk.concat { a, b }:totable())
      assert.are.same({ { 1, 2, 3, 4 } }, wk.concat({ a, b }, 2):totable())
      assert.are.same({ { 1, 2, 3, 4 } }, wk.concat({ a, b }, -1):totable())
      assert_err("concat needs at least one tensor", wk.concat, {})
      assert_err("element 2 is not a tensor", wk.concat, { a, 5 })
      assert.has_error(function() wk.concat { a, wk.tensor { 1 } } end)
    end)

    it("splits into equal owned parts", function()
      local t = wk.tensor { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } }
      local parts = t:split(2, 2)
      assert.are.equal(2, #parts)
      assert.are.same({ { 1, 2 }, { 5, 6 } }, parts[1]:totable())
      assert.are.same({ { 3, 4 }, { 7, 8 } }, parts[2]:totable())
      parts[1]:set(1, 1, 0)
      assert.are.equal(1, t:get(1, 1))
      local rows = t:split(2)
      assert.are.same({ { 5, 6, 7, 8 } }, rows[2]:totable())
      assert.has_error(function() t:split(3, 2) end)
      assert_err("cannot split axis 1 of size 2 into 5 parts", t.split, t, 5)
      assert.are.same(t:totable(), wk.concat(t:split(4, -1), -1):totable())
    end)
  end)

  describe("rng and fills", function()
    it("is deterministic for a seed and takes integer seeds only", function()
      local a, b = wk.rng(7), wk.rng(7)
      for _ = 1, 5 do assert.are.equal(a:next(), b:next()) end
      local u = wk.rng(7):uniform()
      assert.is_true(u >= 0 and u < 1)
      assert.are_not.equal(wk.rng(7):next(), wk.rng(8):next())
      assert.has_error(function() wk.rng(1.5) end)
      local c = a:clone()
      assert.are.equal(a:next(), c:next())
      assert.is_truthy(tostring(a):find("weightkit.Rng", 1, true))
    end)

    it("fill_uniform, fill_normal, fill_truncated_normal", function()
      local t = wk.zeros { 1000 }
      assert.are.equal(t, t:fill_uniform(wk.rng(1), -2, 3))
      assert.is_true(t:min() >= -2 and t:max() < 3)
      assert.is_true(close_to(t:mean(), 0.5, 0.2))
      local same = wk.zeros { 1000 }:fill_uniform(wk.rng(1), -2, 3)
      assert.are.equal(0, t:max_abs_diff(same))
      local n = wk.zeros({ 20000 }, "float64"):fill_normal(wk.rng(2), 1, 2)
      assert.is_true(close_to(n:mean(), 1, 0.1))
      assert.is_true(close_to(n:std(), 2, 0.1))
      local tn = wk.zeros({ 20000 }, "float64"):fill_truncated_normal(wk.rng(3), 0, 1)
      assert.is_true(tn:max() <= 2 and tn:min() >= -2)
      assert.has_error(function() wk.zeros({ 2 }, "int32"):fill_uniform(wk.rng(1)) end)
      assert.has_error(function() wk.zeros { 2 }:fill_uniform({}) end)
    end)

    it("fill_orthogonal and fill_identity", function()
      local q = wk.zeros({ 4, 3 }, "float64"):fill_orthogonal(wk.rng(5), 2)
      local qtq = q:transpose():matmul(q)
      assert.is_true(qtq:allclose(wk.zeros({ 3, 3 }, "float64"):fill_identity(4), 1e-9, 1e-9))
      assert.are.same({ { 1.5, 0 }, { 0, 1.5 }, { 0, 0 } }, wk.zeros { 3, 2 }:fill_identity(1.5):totable())
    end)
  end)

  describe("lifetime", function()
    it("close is idempotent and a closed tensor raises", function()
      local t = wk.tensor { 1, 2 }
      t:close()
      t:close()
      assert.is_true(t:is_closed())
      assert.are.equal("attempt to use a closed tensor", err_of(t.shape, t))
      assert.are.equal("attempt to use a closed tensor", err_of(function() return t[1] end))
      assert.are.equal("attempt to use a closed tensor", err_of(function() return t + 1 end))
      assert.are.equal("weightkit.Tensor (closed)", tostring(t))
      assert.is_true(wk.is_tensor(t))
    end)

    it("supports <close> and keeps views valid after the parent closes", function()
      local view
      do
        local t <close> = wk.tensor { { 1, 2 }, { 3, 4 } }
        view = t[2]
      end
      assert.are.same({ 3, 4 }, view:totable())
      collectgarbage()
      collectgarbage()
      assert.are.same({ 3, 4 }, view:totable())
    end)

    it("survives garbage collection of many temporaries", function()
      local acc = wk.zeros { 16 }
      for _ = 1, 200 do acc = acc + wk.ones { 16 } end
      collectgarbage()
      assert.are.equal(200 * 16, acc:sum())
    end)

    it("sets no globals", function()
      local before = {}
      for k in pairs(_G) do before[k] = true end
      package.loaded["weightkit.tensor"] = nil
      require "weightkit.tensor"
      for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
    end)
  end)
end)
