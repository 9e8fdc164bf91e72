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
