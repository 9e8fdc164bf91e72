-- weightkit.file on TensorFlow checkpoints and SavedModel directories (formats "tf-checkpoint" and
-- "savedmodel"): the real fixtures against expected/<name>.json, strings, the object graph, and
-- `weightkit inspect --json --sha256` through the generic handle.
local wk = require "weightkit"
local json = require "weightkit.json"
local core = require "weightkit.core"

local FIX = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
local BUILD = os.getenv("WEIGHTKIT_BUILD") or "build"

local function expected(name)
  local fp = assert(io.open(FIX .. "/expected/" .. name .. ".json", "rb"))
  local text = fp:read("a")
  fp:close()
  return json.decode(text).checkpoints[1]
end

local CASES = {
  { name = "tfckpt_ttt_subclassed", format = "tf-checkpoint",
    paths = { "", "/my_checkpoint", "/my_checkpoint.index" } },
  { name = "tfckpt_tf20_tutorial_cp0000", format = "tf-checkpoint",
    paths = { "/cp-0000.ckpt", "/cp-0000.ckpt.index" } },
  { name = "savedmodel_tcp_actor", format = "savedmodel", paths = { "" } },
}

describe("TF bundles through wk.open", function()
  for _, c in ipairs(CASES) do
    local exp = expected(c.name)
    for _, rel in ipairs(c.paths) do
      local path = FIX .. "/" .. c.name .. rel
      it(c.name .. rel .. ": every key, dtype, shape, sha256 and string length", function()
        local f <close> = assert(wk.open(path))
        assert.equal(c.format, f.format)
        assert.is_nil(f.keras_version)
        local list = f:tensors()
        assert.equal(#exp.entries, #list)
        for i, e in ipairs(exp.entries) do
          local d = list[i]
          assert.equal(e.key, d.path)
          assert.equal(e.dtype, d.dtype)
          assert.same(e.shape, d.shape)
          if e.dtype == "string" then
            assert.is_false(d.readable)
            local lens = {}
            for j, s in ipairs(f:strings(d)) do lens[j] = #s end
            assert.same(e.string_element_lengths, lens)
          else
            assert.equal(e.sha256, core.tensor_sha256(d.tensor))
          end
        end
      end)
    end
  end

  it("groups keys into layers and reads strings through layer entries", function()
    local f <close> = assert(wk.open(FIX .. "/tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt"))
    local names = {}
    for i, l in ipairs(f:layers()) do names[i] = l.name end
    assert.same({ "", "layer-0", "layer-2", "layer_with_weights-0", "layer_with_weights-1", "optimizer" }, names)
    local l = f:layers()[4]
    assert.equal("OBJECT_CONFIG_JSON", l.weights[1].name)
    local cfg = json.decode(f:strings(l.weights[1])[1])
    assert.equal("Dense", cfg.class_name)
    assert.equal("kernel", l.weights[3].name)
    assert.same({ 784, 512 }, l.weights[3].tensor:shape())
    assert.same({ 784, 512 }, f:get("layer_with_weights-0", "kernel"):shape())
  end)

  it("decodes the object graph", function()
    local f <close> = assert(wk.open(FIX .. "/tfckpt_ttt_subclassed"))
    local g = f:object_graph()
    assert.equal(10, #g)
    local root = {}
    for i, ch in ipairs(g[1].children) do root[i] = ch.local_name end
    assert.same({ "common", "actor", "critic" }, root)
    local keys = {}
    for _, d in ipairs(f:tensors()) do keys[d.path] = true end
    local n = 0
    for _, node in ipairs(g) do
      for _, ch in ipairs(node.children) do assert.is_true(ch.node_id >= 0 and ch.node_id < #g) end
      for _, a in ipairs(node.attributes) do
        n = n + 1
        assert.is_true(keys[a.checkpoint_key], a.checkpoint_key)
        assert.equal("VARIABLE_VALUE", a.name)
      end
    end
    assert.equal(6, n)
    local common = g[g[1].children[1].node_id + 1]
    assert.equal("kernel", common.children[1].local_name)
    assert.equal("actor_critic/dense/kernel", g[common.children[1].node_id + 1].attributes[1].full_name)
  end)

  it("refuses object_graph on other formats and strings of numeric tensors", function()
    local h = assert(wk.open(FIX .. "/k3_dense_adam.weights.h5"))
    assert.has_error(function() h:object_graph() end)
    h:close()
    local f <close> = assert(wk.open(FIX .. "/tfckpt_ttt_subclassed"))
    local ok, msg = pcall(f.strings, f, f:tensors()[2])
    assert.is_false(ok)
    assert.matches("not a string tensor", msg)
  end)

  it("reports unusable directories in Lua's io convention", function()
    local f, msg, code = wk.open(FIX .. "/expected")
    assert.is_nil(f)
    assert.equal("EFORMAT", code)
    assert.matches("neither a SavedModel", msg)
  end)

  it("agrees with weightkit inspect --json --sha256", function()
    local exp = expected("savedmodel_tcp_actor")
    local p = assert(io.popen(BUILD .. "/weightkit inspect --json --sha256 " .. FIX .. "/savedmodel_tcp_actor"))
    local out = json.decode(p:read("a"))
    p:close()
    assert.equal("savedmodel", out.format)
    assert.equal(#exp.entries, #out.tensors)
    for i, e in ipairs(exp.entries) do
      assert.equal(e.key, out.tensors[i].path)
      if e.dtype ~= "string" then assert.equal(e.sha256, out.tensors[i].sha256) end
    end
  end)
end)
