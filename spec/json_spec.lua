-- lua/weightkit/json.lua, the encoder behind `weightkit inspect --json`; round trips go through the
-- spec's own decoder (spec/support/json_decode.lua).
local json = require "weightkit.json"
local decode = require "support.json_decode"

describe("weightkit.json", function()
  it("encodes scalars", function()
    assert.are.equal("null", json.encode(nil))
    assert.are.equal("null", json.encode(json.null))
    assert.are.equal("true", json.encode(true))
    assert.are.equal("-42", json.encode(-42))
    assert.are.equal("1.0", json.encode(1.0))
    assert.are.equal("0.1", json.encode(0.1))
    assert.are.equal(1 / 3, decode(json.encode(1 / 3)))
    assert.has_error(function() json.encode(0 / 0) end, "weightkit.json: cannot encode " .. tostring(0 / 0))
    assert.has_error(function() json.encode(math.huge) end, "weightkit.json: cannot encode inf")
  end)

  it("escapes quotes, backslashes and control characters; passes UTF-8 through", function()
    assert.are.equal([["a\"b\\c"]], json.encode('a"b\\c'))
    assert.are.equal([["\n\t\r\b\f\u0000\u001f\u007f"]], json.encode("\n\t\r\b\f\0\31\127"))
    assert.are.equal('"dense_é/核:0 😀"', json.encode("dense_é/核:0 😀"))
  end)

  it("escapes bytes outside valid UTF-8 as \\udcXX (surrogateescape), losslessly", function()
    assert.are.equal([["a\udcffb\udcc3"]], json.encode("a\255b\195"))
    assert.are.equal([["\udced\udca0\udc80"]], json.encode("\237\160\128")) -- an encoded surrogate
    assert.are.equal([["\udcc0\udc80"]], json.encode("\192\128"))           -- overlong NUL
    local weird = "x\0\255\195\169y"
    assert.are.equal(weird, decode(json.encode(weird)))
  end)

  it("keeps the key order of json.object and sorts plain tables' keys", function()
    local v = json.object{ {"z", 1}, {"a", json.array{}}, {"m", {b = 2, a = json.null}} }
    assert.are.equal('{"z":1,"a":[],"m":{"a":null,"b":2}}', json.encode(v))
  end)

  it("pretty-prints with an indent, shapes on one line", function()
    local v = json.object{ {"shape", {3, 4}}, {"list", {"a"}}, {"empty", {}} }
    assert.are.equal('{\n "shape": [3, 4],\n "list": [\n  "a"\n ],\n "empty": []\n}',
      json.encode(v, {indent = 1}))
  end)

  it("refuses tables it cannot represent", function()
    assert.has_error(function() json.encode({1, x = 2}) end, "weightkit.json: a table mixes array and object keys")
    local t = {}
    t[1] = t
    assert.has_error(function() json.encode(t) end, "weightkit.json: a table contains itself")
    assert.has_error(function() json.encode(print) end, "weightkit.json: cannot encode a function")
  end)
end)

describe("weightkit.json.decode", function()
  local json = require "weightkit.json"

  it("keeps key order, nulls, integers and empty containers apart", function()
    local v = json.decode('{"b": 1, "a": [1, 2.5, {"z": null, "y": []}], "e": {}, "n": -3e2}')
    assert.are.same({ "b", "a", "e", "n" }, json.keys(v))
    assert.are.equal("integer", math.type(v.b))
    assert.are.equal("float", math.type(v.n))
    assert.are.equal(json.null, v.a[3].z)
    assert.are.equal('{"b":1,"a":[1,2.5,{"z":null,"y":[]}],"e":{},"n":-300.0}', json.encode(v))
  end)

  it("decodes escapes, surrogate pairs and Python's NaN/Infinity", function()
    local v = json.decode('["\\u00e9\\ud83d\\ude00\\n", NaN, -Infinity, "\\udcff"]')
    assert.are.equal("é😀\n", v[1])
    assert.is_true(v[2] ~= v[2])
    assert.are.equal(-math.huge, v[3])
    assert.are.equal("\255", v[4])
  end)

  it("a repeated key keeps its last value, listed once", function()
    local v = json.decode('{"a": 1, "b": 2, "a": 3}')
    assert.are.equal(3, v.a)
    assert.are.same({ "a", "b" }, json.keys(v))
  end)

  it("names the source and the byte of every error", function()
    local cases = {
      { '{"a": [1,', "unexpected end at byte 10" },
      { '{"a" 1}', "expected ':' at byte 6" },
      { '[1 2]', "expected ',' or ']' at byte 4" },
      { '"abc', "unterminated string at byte 1" },
      { '"a\tb"', "control character in a string at byte 3" },
      { '{} x', "trailing characters at byte 4" },
      { '"\\x"', "bad escape at byte 2" },
      { string.rep("[", 600), "nested deeper than 512 levels" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(json.decode, c[1], "config.json")
      assert.is_false(ok)
      assert.truthy(err:find("config.json: invalid JSON: " .. c[2], 1, true), err)
    end
  end)
end)
