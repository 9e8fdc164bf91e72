-- NumPy-style printing of tensors: tostring(t) is NumPy's str(array), t:repr() its repr.
-- CASES states NumPy 1.24's output (facts taken from Debian's numpy; str then repr). The live
-- check below also compares a few hundred random tensors with /usr/bin/python3's numpy.
local wk = require "weightkit"

local function arange(n, dtype)
  local v = {}
  for i = 1, n do v[i] = i - 1 end
  return wk.tensor(v, dtype)
end

local CASES = {
  { wk.tensor{{1, 2, 3}}, '[[1. 2. 3.]]', 'array([[1., 2., 3.]], dtype=float32)' },
  { wk.tensor{0.5, 1.25}, '[0.5  1.25]', 'array([0.5 , 1.25], dtype=float32)' },
  { wk.tensor({1, 2, 3}, "int32"), '[1 2 3]', 'array([1, 2, 3], dtype=int32)' },
  { wk.tensor({1, -20, 300}, "int64"), '[  1 -20 300]', 'array([  1, -20, 300])' },
  { wk.tensor{true, false}, '[ True False]', 'array([ True, False])' },
  { wk.tensor{true, true}, '[ True  True]', 'array([ True,  True])' },
  { wk.tensor({0.1, 1/3}, "float64"), '[0.1        0.33333333]', 'array([0.1       , 0.33333333])' },
  { wk.tensor{0.1, 1/3}, '[0.1        0.33333334]', 'array([0.1       , 0.33333334], dtype=float32)' },
  { wk.tensor({0.1, 1/3}, "float16"), '[0.1    0.3333]', 'array([0.1   , 0.3333], dtype=float16)' },
  { wk.tensor({49088, 0.5}, "float16"), '[4.91e+04 5.00e-01]', 'array([4.91e+04, 5.00e-01], dtype=float16)' },
  { wk.tensor({49088, 1000}, "float16"), '[49088.  1000.]', 'array([49088.,  1000.], dtype=float16)' },
  { wk.tensor{1e-5, 2e-5}, '[1.e-05 2.e-05]', 'array([1.e-05, 2.e-05], dtype=float32)' },
  { wk.tensor({1e-5, 1.5e-5, -3e8}, "float64"), '[ 1.0e-05  1.5e-05 -3.0e+08]', 'array([ 1.0e-05,  1.5e-05, -3.0e+08])' },
  { wk.tensor({1e-5, 1e-100}, "float64"), '[1.e-005 1.e-100]', 'array([1.e-005, 1.e-100])' },
  { wk.tensor{1e-4}, '[1.e-04]', 'array([1.e-04], dtype=float32)' },
  { wk.tensor({1e-4}, "float64"), '[0.0001]', 'array([0.0001])' },
  { wk.tensor{1, 1000.5}, '[1.0000e+00 1.0005e+03]', 'array([1.0000e+00, 1.0005e+03], dtype=float32)' },
  { wk.tensor{1e8}, '[1.e+08]', 'array([1.e+08], dtype=float32)' },
  { wk.tensor{9.8870467e-10, 6.3812913e-11}, '[9.887047e-10 6.381291e-11]', 'array([9.887047e-10, 6.381291e-11], dtype=float32)' },
  { wk.tensor{0/0, 1, -1/0}, '[ nan   1. -inf]', 'array([ nan,   1., -inf], dtype=float32)' },
  { wk.tensor{0/0, 1/0}, '[nan inf]', 'array([nan, inf], dtype=float32)' },
  { wk.tensor{-0.0, 1}, '[-0.  1.]', 'array([-0.,  1.], dtype=float32)' },
  { wk.tensor{0, 0}, '[0. 0.]', 'array([0., 0.], dtype=float32)' },
  { wk.tensor(1.5), '1.5', 'array(1.5, dtype=float32)' },
  { wk.tensor(1), '1.0', 'array(1., dtype=float32)' },
  { wk.tensor(1e-5), '1e-05', 'array(1.e-05, dtype=float32)' },
  { wk.tensor(1e20), '1e+20', 'array(1.e+20, dtype=float32)' },
  { wk.tensor(123456789), '123456790.0', 'array(1.2345679e+08, dtype=float32)' },
  { wk.tensor(5, "int32"), '5', 'array(5, dtype=int32)' },
  { wk.tensor(5, "int64"), '5', 'array(5)' },
  { wk.tensor(true), 'True', 'array(True)' },
  { wk.tensor(0/0, "float64"), 'nan', 'array(nan)' },
  { wk.tensor({}), '[]', 'array([], dtype=float32)' },
  { wk.zeros({2, 0}, "float64"), '[]', 'array([], shape=(2, 0), dtype=float64)' },
  { wk.zeros({0}, "float64"), '[]', 'array([], dtype=float64)' },
  { wk.zeros({0}, "int64"), '[]', 'array([], dtype=int64)' },
  { wk.tensor({{{0, 0.5}, {1, 1.5}}, {{2, 2.5}, {10, 10.5}}}, "float64"), '[[[ 0.   0.5]\n  [ 1.   1.5]]\n\n [[ 2.   2.5]\n  [10.  10.5]]]', 'array([[[ 0. ,  0.5],\n        [ 1. ,  1.5]],\n\n       [[ 2. ,  2.5],\n        [10. , 10.5]]])' },
  { wk.full({30}, 1.1), '[1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1\n 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1 1.1]', 'array([1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1,\n       1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1,\n       1.1, 1.1, 1.1, 1.1], dtype=float32)' },
  { wk.full({26}, 123, "int64"), '[123 123 123 123 123 123 123 123 123 123 123 123 123 123 123 123 123 123\n 123 123 123 123 123 123 123 123]', 'array([123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123,\n       123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123, 123])' },
  { wk.tensor({255, 0}, "uint8"), '[255   0]', 'array([255,   0], dtype=uint8)' },
  { wk.tensor({-128, 5}, "int8"), '[-128    5]', 'array([-128,    5], dtype=int8)' },
  { arange(2000, "int64"):reshape(2, 1000), '[[   0    1    2 ...  997  998  999]\n [1000 1001 1002 ... 1997 1998 1999]]', 'array([[   0,    1,    2, ...,  997,  998,  999],\n       [1000, 1001, 1002, ..., 1997, 1998, 1999]])' },
  { (arange(1001, "float32") / 4), '[  0.     0.25   0.5  ... 249.5  249.75 250.  ]', 'array([  0.  ,   0.25,   0.5 , ..., 249.5 , 249.75, 250.  ], dtype=float32)' },
  { arange(1331, "int32"):reshape(11, 11, 11), '[[[   0    1    2 ...    8    9   10]\n  [  11   12   13 ...   19   20   21]\n  [  22   23   24 ...   30   31   32]\n  ...\n  [  88   89   90 ...   96   97   98]\n  [  99  100  101 ...  107  108  109]\n  [ 110  111  112 ...  118  119  120]]\n\n [[ 121  122  123 ...  129  130  131]\n  [ 132  133  134 ...  140  141  142]\n  [ 143  144  145 ...  151  152  153]\n  ...\n  [ 209  210  211 ...  217  218  219]\n  [ 220  221  222 ...  228  229  230]\n  [ 231  232  233 ...  239  240  241]]\n\n [[ 242  243  244 ...  250  251  252]\n  [ 253  254  255 ...  261  262  263]\n  [ 264  265  266 ...  272  273  274]\n  ...\n  [ 330  331  332 ...  338  339  340]\n  [ 341  342  343 ...  349  350  351]\n  [ 352  353  354 ...  360  361  362]]\n\n ...\n\n [[ 968  969  970 ...  976  977  978]\n  [ 979  980  981 ...  987  988  989]\n  [ 990  991  992 ...  998  999 1000]\n  ...\n  [1056 1057 1058 ... 1064 1065 1066]\n  [1067 1068 1069 ... 1075 1076 1077]\n  [1078 1079 1080 ... 1086 1087 1088]]\n\n [[1089 1090 1091 ... 1097 1098 1099]\n  [1100 1101 1102 ... 1108 1109 1110]\n  [1111 1112 1113 ... 1119 1120 1121]\n  ...\n  [1177 1178 1179 ... 1185 1186 1187]\n  [1188 1189 1190 ... 1196 1197 1198]\n  [1199 1200 1201 ... 1207 1208 1209]]\n\n [[1210 1211 1212 ... 1218 1219 1220]\n  [1221 1222 1223 ... 1229 1230 1231]\n  [1232 1233 1234 ... 1240 1241 1242]\n  ...\n  [1298 1299 1300 ... 1306 1307 1308]\n  [1309 1310 1311 ... 1317 1318 1319]\n  [1320 1321 1322 ... 1328 1329 1330]]]', 'array([[[   0,    1,    2, ...,    8,    9,   10],\n        [  11,   12,   13, ...,   19,   20,   21],\n        [  22,   23,   24, ...,   30,   31,   32],\n        ...,\n        [  88,   89,   90, ...,   96,   97,   98],\n        [  99,  100,  101, ...,  107,  108,  109],\n        [ 110,  111,  112, ...,  118,  119,  120]],\n\n       [[ 121,  122,  123, ...,  129,  130,  131],\n        [ 132,  133,  134, ...,  140,  141,  142],\n        [ 143,  144,  145, ...,  151,  152,  153],\n        ...,\n        [ 209,  210,  211, ...,  217,  218,  219],\n        [ 220,  221,  222, ...,  228,  229,  230],\n        [ 231,  232,  233, ...,  239,  240,  241]],\n\n       [[ 242,  243,  244, ...,  250,  251,  252],\n        [ 253,  254,  255, ...,  261,  262,  263],\n        [ 264,  265,  266, ...,  272,  273,  274],\n        ...,\n        [ 330,  331,  332, ...,  338,  339,  340],\n        [ 341,  342,  343, ...,  349,  350,  351],\n        [ 352,  353,  354, ...,  360,  361,  362]],\n\n       ...,\n\n       [[ 968,  969,  970, ...,  976,  977,  978],\n        [ 979,  980,  981, ...,  987,  988,  989],\n        [ 990,  991,  992, ...,  998,  999, 1000],\n        ...,\n        [1056, 1057, 1058, ..., 1064, 1065, 1066],\n        [1067, 1068, 1069, ..., 1075, 1076, 1077],\n        [1078, 1079, 1080, ..., 1086, 1087, 1088]],\n\n       [[1089, 1090, 1091, ..., 1097, 1098, 1099],\n        [1100, 1101, 1102, ..., 1108, 1109, 1110],\n        [1111, 1112, 1113, ..., 1119, 1120, 1121],\n        ...,\n        [1177, 1178, 1179, ..., 1185, 1186, 1187],\n        [1188, 1189, 1190, ..., 1196, 1197, 1198],\n        [1199, 1200, 1201, ..., 1207, 1208, 1209]],\n\n       [[1210, 1211, 1212, ..., 1218, 1219, 1220],\n        [1221, 1222, 1223, ..., 1229, 1230, 1231],\n        [1232, 1233, 1234, ..., 1240, 1241, 1242],\n        ...,\n        [1298, 1299, 1300, ..., 1306, 1307, 1308],\n        [1309, 1310, 1311, ..., 1317, 1318, 1319],\n        [1320, 1321, 1322, ..., 1328, 1329, 1330]]], dtype=int32)' },
}

describe("tensor printing (NumPy style)", function()
  for i, c in ipairs(CASES) do
    it(string.format("case %d: %s", i, c[2]:gsub("\n.*", " ..."):sub(1, 40)), function()
      assert.are.equal(c[2], tostring(c[1]))
      assert.are.equal(c[3], c[1]:repr())
    end)
  end

  it("prints a closed tensor without raising", function()
    local t = wk.tensor { 1 }
    t:close()
    assert.are.equal("weightkit.Tensor (closed)", tostring(t))
    assert.are.equal("weightkit.Tensor (closed)", t:repr())
  end)

  -- NumPy has no bfloat16: the same rules with bfloat16's own shortest digits (1/3 is
  -- 0.333984375 in bfloat16, and 0.334 is the shortest string that reads back to it).
  it("prints bfloat16 with its own shortest digits", function()
    local t = wk.tensor({ 0.1, 1 / 3, 3 }, "bfloat16")
    assert.are.equal("[0.1   0.334 3.   ]", tostring(t))
    assert.are.equal("array([0.1  , 0.334, 3.   ], dtype=bfloat16)", t:repr())
  end)

  -- Random tensors of every NumPy dtype, shapes up to rank 4 (some past the 1000-element
  -- summary threshold), values across magnitudes with NaN/inf sprinkled in.
  it("matches numpy on random tensors", function()
    local p = io.popen("/usr/bin/python3 -c 'import numpy' 2>/dev/null && echo yes")
    local have = p:read("a"):match("yes")
    p:close()
    if not have then return pending("no numpy at /usr/bin/python3") end
    local rng = wk.rng(12345)
    local function rnd() return rng:uniform() end
    local dtypes = { "float32", "float64", "float16", "int32", "int64", "uint8", "int8", "int16",
                     "uint16", "uint32", "uint64", "bool" }
    local cases, ours = {}, {}
    for case = 1, 300 do
      local dt = dtypes[1 + case % #dtypes]
      local rank = math.floor(rnd() * 5)
      local big = rnd() < 0.15
      local shape = {}
      for k = 1, rank do shape[k] = math.floor(rnd() * (big and 30 or 7)) + (big and 1 or 0) end
      local t = wk.zeros(shape, "float64")
      local flat = t:reshape(-1)
      local scale = 10 ^ (math.floor(rnd() * 24) - 12)
      local mode = dt:match("float") and math.floor(rnd() * 5) or 0
      for k = 1, t:numel() do
        local v
        if mode == 0 then v = math.floor(rnd() * 200 - 100)
        elseif mode == 1 then v = (rnd() - 0.5) * scale
        elseif mode == 2 then v = math.floor(rnd() * 8) / 4
        elseif mode == 3 then
          v = rnd() < 0.2 and ({ 0 / 0, 1 / 0, -1 / 0 })[1 + math.floor(rnd() * 3)] or rnd() * scale
        else v = rnd() * 1e5 end
        flat[k] = v
      end
      if dt == "bool" then t = t:map("abs"):astype("bool")
      elseif dt:match("^u") then t = t:map("abs"):astype(dt)
      else t = t:astype(dt) end
      local hex = t:tobytes():gsub(".", function(ch) return string.format("%02x", ch:byte()) end)
      cases[#cases + 1] = dt .. " " .. table.concat(shape, ",") .. " " .. hex
      ours[#ours + 1] = tostring(t) .. "\n@@\n" .. t:repr()
    end
    local inp, out, src = os.tmpname(), os.tmpname(), os.tmpname()
    local f = assert(io.open(inp, "w")); f:write(table.concat(cases, "\n"), "\n"); f:close()
    f = assert(io.open(src, "w"))
    f:write([[
import sys, numpy as np
res = []
for line in open(sys.argv[1]):
    dt, shape, hx = line.split(" ")
    shape = tuple(int(s) for s in shape.split(",") if s)
    a = np.frombuffer(bytes.fromhex(hx.strip()), dtype=dt).reshape(shape)
    res.append(str(a) + "\n@@\n" + repr(a))
open(sys.argv[2], "w").write("\n@@@@\n".join(res))
]])
    f:close()
    assert.is_truthy(os.execute("/usr/bin/python3 " .. src .. " " .. inp .. " " .. out))
    f = assert(io.open(out)); local ref = f:read("a"); f:close()
    os.remove(inp); os.remove(out); os.remove(src)
    local i = 0
    for expected in (ref .. "\n@@@@\n"):gmatch("(.-)\n@@@@\n") do
      i = i + 1
      assert.are.equal(expected, ours[i], "case " .. cases[i]:sub(1, 40))
    end
    assert.are.equal(#ours, i)
  end)
end)
