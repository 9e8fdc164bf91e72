--[[
Specs for the Lua binding of the TF checkpoint writer (src/lwk_write.c over wk_write_tf_checkpoint):
core.save_tf_checkpoint(prefix, {entries =, graph =, overwrite =}).

Real checkpoints (the fixtures) are read with core.open and written back: every value, string and
the object graph must survive, checked three ways: the fixtures' own reader
(../shared/tools/expected_facts.py: CRCs, sha256 of each value, against expected/*.json), the
object graph string byte for byte against TF's (same nodes -> same protobuf bytes; only for the
fixture written by a recent TF: older ones lack has_checkpoint_values, which the writer always
adds), and a re-read through core.open. spec/c/tfbundle_write_check.py (run by spec/c/test_tfbundle_write.c) does the
strict byte-level checks of the table.
]]
local core = require "weightkit.core"
local json = require "support.json_decode"
local shell = require "support.shell"
local sh = shell.sh

local PY = "/usr/bin/python3"
local REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local TOOLS = REAL .. "/../../tools"
local tmpdir = shell.temp_dir("wk_tfw_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function tmp(name) return tmpdir .. "/" .. name end

-- The fixtures' reader on one prefix: {header =, entries = {[key] = fact}}, plus the raw bytes of
-- the object graph value (hex) when there is one.
local FACTS = [==[
import sys, json, os
sys.path.insert(0, sys.argv[1])
import expected_facts as ef
prefix = sys.argv[2]
f = ef.tf_checkpoint_facts(prefix + ".index", os.path.basename(prefix))
data = open(prefix + ".data-00000-of-00001", "rb").read()
graph = None
for e in f["entries"]:
    if e["key"] == "_CHECKPOINTABLE_OBJECT_GRAPH":
        graph = data[e["offset"]:e["offset"] + e["size"]].hex()
print(json.dumps({"header": f["header"], "graph_hex": graph,
                  "entries": {e["key"]: e for e in f["entries"]}}))
]==]
local facts_py = tmp("facts.py")
assert(io.open(facts_py, "w")):write(FACTS):close()

local function facts(prefix)
  local out, ok = sh(string.format("%s '%s' '%s' '%s' 2>&1", PY, facts_py, TOOLS, prefix))
  assert(ok, out)
  return json.decode(out)
end

-- Every entry of an open bundle as save_tf_checkpoint wants it (the object graph left out: it is
-- passed as `graph`), the tensors and strings read from the file.
local function entries_of(f)
  local out = {}
  for i, info in ipairs(f:tensors()) do
    if info.path ~= "_CHECKPOINTABLE_OBJECT_GRAPH" then
      if info.dtype == "string" then
        out[#out + 1] = {key = info.path, strings = f:read_strings(i), rank = #info.shape}
      else
        out[#out + 1] = {key = info.path, tensor = f:read_dataset(i)}
      end
    end
  end
  return out
end

local REAL_CHECKPOINTS = {
  {name = "tfckpt_ttt_subclassed", prefix = "tfckpt_ttt_subclassed/my_checkpoint"},
  {name = "tfckpt_tf20_tutorial_cp0000", prefix = "tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt"},
  -- written by a recent TF: has_checkpoint_values on every node, so the graph is TF's byte for byte
  {name = "savedmodel_tcp_actor", prefix = "savedmodel_tcp_actor/variables/variables", exact_graph = true},
}

describe("core.save_tf_checkpoint", function()
  for _, case in ipairs(REAL_CHECKPOINTS) do
    it("rewrites the real " .. case.name .. " with every value, string and its object graph", function()
      local src = REAL .. "/" .. case.prefix
      local f = assert(core.open(src))
      local entries, graph = entries_of(f), f:object_graph()
      local prefix = tmp(case.name)
      assert.is_true(core.save_tf_checkpoint(prefix, {entries = entries, graph = graph}))
      f:close()

      local want, got = facts(src), facts(prefix)
      assert.same({num_shards = 1, endianness = "little", version = {producer = 1}}, got.header)
      local n = 0
      for key, w in pairs(want.entries) do
        local g = got.entries[key]
        assert.is_not_nil(g, key)
        assert.same(w.dtype, g.dtype)
        assert.same(w.shape, g.shape)
        if key ~= "_CHECKPOINTABLE_OBJECT_GRAPH" or case.exact_graph then
          assert.equal(w.size, g.size) -- same encoding, strings included
          assert.equal(w.raw_sha256, g.raw_sha256, key)
        end
        if w.dtype ~= "string" then assert.is_true(g.crc32c_ok, key) end
        n = n + 1
      end
      local m = 0
      for _ in pairs(got.entries) do m = m + 1 end
      assert.equal(n, m)
      -- the expected/*.json ground truth of the fixture, through the new file
      local exp = json.decode(assert(io.open(REAL .. "/expected/" .. case.name .. ".json")):read("a"))
      local checked = 0
      for _, ck in ipairs(exp.checkpoints) do
        for _, e in ipairs(ck.entries) do
          if e.sha256 and got.entries[e.key] then
            assert.equal(e.sha256, got.entries[e.key].sha256, e.key)
            checked = checked + 1
          end
        end
      end
      assert.is_true(checked > 0)
      if case.exact_graph then assert.equal(want.graph_hex, got.graph_hex) end -- TF's bytes exactly

      local back = assert(core.open(prefix))
      assert.same(graph, back:object_graph())
      for i, info in ipairs(back:tensors()) do
        if info.dtype ~= "string" then
          assert.equal(got.entries[info.path].sha256, core.tensor_sha256(back:read_dataset(i)))
        end
      end
      back:close()
    end)
  end

  it("writes string scalars and vectors, and defaults to a vector", function()
    local prefix = tmp("strings")
    assert.is_true(core.save_tf_checkpoint(prefix, {entries = {
      {key = "a/.ATTRIBUTES/OBJECT_CONFIG_JSON", strings = {'{"x": 1}'}, rank = 0},
      {key = "b", strings = {"one", "", "t\0wo"}},
      {key = "c", strings = {}},
    }}))
    local f = assert(core.open(prefix))
    local by = {}
    for i, info in ipairs(f:tensors()) do by[info.path] = {info = info, strings = f:read_strings(i)} end
    assert.same({}, by["a/.ATTRIBUTES/OBJECT_CONFIG_JSON"].info.shape)
    assert.same({'{"x": 1}'}, by["a/.ATTRIBUTES/OBJECT_CONFIG_JSON"].strings)
    assert.same({3}, by.b.info.shape)
    assert.same({"one", "", "t\0wo"}, by.b.strings)
    assert.same({0}, by.c.info.shape)
    assert.same({}, by.c.strings)
    assert.is_nil(f:object_graph())
    f:close()
  end)

  it("returns nil, message, code for refused checkpoints and keeps the previous files", function()
    local prefix = tmp("refused")
    local t = core.tensor({1, 2, 3}, "float32")
    local ok, msg, code = core.save_tf_checkpoint(prefix, {entries = {{key = "k", tensor = t}, {key = "k", tensor = t}}})
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
    assert.truthy(msg:find('"k"', 1, true))
    assert.is_nil(io.open(prefix .. ".index"))
    assert.is_true(core.save_tf_checkpoint(prefix, {entries = {{key = "k", tensor = t}}}))
    local before = assert(io.open(prefix .. ".index", "rb")):read("a")
    ok, msg, code = core.save_tf_checkpoint(prefix, {entries = {{key = "other", tensor = t}}})
    assert.is_nil(ok)
    assert.equal("EIO", code)
    assert.truthy(msg:find("already exists", 1, true))
    assert.equal(before, assert(io.open(prefix .. ".index", "rb")):read("a"))
    assert.is_true(core.save_tf_checkpoint(prefix, {entries = {{key = "other", tensor = t}}, overwrite = true}))
    assert.are_not.equal(before, assert(io.open(prefix .. ".index", "rb")):read("a"))
    ok, msg, code = core.save_tf_checkpoint(prefix, {entries = {{key = "k", tensor = t}},
      graph = {{children = {{node_id = 5, local_name = "x"}}}}, overwrite = true})
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
  end)

  it("raises for a malformed spec", function()
    local t = core.tensor({1}, "float32")
    assert.has_error(function() core.save_tf_checkpoint(tmp("bad"), {entries = {{key = "k", tensor = 1}}}) end)
    assert.has_error(function() core.save_tf_checkpoint(tmp("bad"), {entries = {{tensor = t}}}) end)
    assert.has_error(function() core.save_tf_checkpoint(tmp("bad"), {entries = {{key = "k"}}}) end)
    assert.has_error(function() core.save_tf_checkpoint(tmp("bad"), {entries = {{key = "k", strings = {1}}}}) end)
    assert.has_error(function()
      core.save_tf_checkpoint(tmp("bad"), {entries = {}, graph = {{children = {{local_name = "x"}}}}})
    end)
    assert.has_error(function() core.save_tf_checkpoint(tmp("bad"), {entries = "x"}) end)
    assert.is_nil(io.open(tmp("bad") .. ".index"))
  end)
end)
