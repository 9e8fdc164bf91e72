--[[
Specs for `weightkit remap` (lua/weightkit/cli/remap.lua), run as the real command on copies of real
fixtures; the written files are checked with h5py/numpy (names, values, a transposed kernel).
]]
local json = require "weightkit.json"
local C = require "support.cli_run"

local cli = C.new("wk_cli_remap_spec")
teardown(function() cli:cleanup() end)
local q = C.q

local K2 = C.FIXTURES .. "/k206_fml_jettagger_conv2d_bn_weights.h5"
local K3 = C.FIXTURES .. "/k3_dense_adam.weights.h5"

local RULES = [[
return {
  {"^cnn2D_(%d)_relu/", "conv%1/"},
  {"^output_softmax/kernel", "output_softmax/kernel_t", transform = wk.remap.transpose()},
  {"^batch_normalization_1/", false},
  {"^dense_1_reul/", "fc/"},
}
]]

local function remap(args) return cli:run("remap " .. args) end

local function decode(out, err)
  local ok, doc = pcall(json.decode, out)
  assert(ok, "not JSON: " .. out .. err)
  return doc
end

describe("weightkit remap", function()
  local rules = cli:write("rules.lua", RULES)

  it("--dry-run prints the plan as JSON, with unmatched names and unused rules, and writes nothing", function()
    local out_path = cli:path("dry.h5")
    local out, err, status = remap(q(K2) .. " " .. q(out_path) .. " --rules " .. q(rules) .. " --dry-run --json")
    assert.are.equal(0, status, err)
    local doc = decode(out, err)
    assert.is_true(doc.dry_run)
    assert.is_false(doc.written)
    assert.is_false(cli:exists(out_path))
    assert.are.equal(5, #doc.mapping)
    assert.are.same({ object = "cnn2D_1_relu", weight = "cnn2D_1_relu/kernel:0", to_object = "conv1",
      to_weight = "conv1/kernel:0", transform = json.null,
      rule = 'rule 1 (pattern "^cnn2D_(%d)_relu/" -> "conv%1/")' }, doc.mapping[1])
    assert.are.equal("transpose", doc.mapping[5].transform)
    assert.are.same({ "conv1", "conv2" }, { doc.objects[1].to, doc.objects[2].to })
    assert.are.equal(4, #doc.dropped)
    assert.are.equal(7, #doc.unmatched)
    -- the typo'd rule matched nothing, and it is suggested for the names it nearly matches
    assert.are.equal(1, #doc.unused_rules)
    assert.truthy(doc.unused_rules[1].rule:find("dense_1_reul", 1, true))
    assert.are.same({ "dense_1_relu/bias:0", "dense_1_relu/kernel:0" }, doc.unused_rules[1].suggestions)
    local near
    for _, u in ipairs(doc.unmatched) do
      if u.name == "dense_1_relu/bias:0" then near = u.suggestions end
    end
    assert.are.same({ doc.unused_rules[1].rule }, near)
  end)

  it("writes OUT: renamed layers and weights, dropped ones gone, a transposed kernel (checked with h5py)", function()
    local out_path = cli:path("out.h5")
    local out, err, status = remap(q(K2) .. " " .. q(out_path) .. " --rules " .. q(rules))
    assert.are.equal(0, status, err)
    assert.truthy(out:find("wrote " .. out_path, 1, true))
    local facts, ok = cli:py([==[
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
names = [n.decode() if isinstance(n, bytes) else n for n in b.attrs["layer_names"]]
print(",".join(names))
print(",".join(n.decode() for n in b["conv1"].attrs["weight_names"]))
print(len(b["batch_normalization_1"].attrs["weight_names"]))
print(np.array_equal(a["cnn2D_1_relu/cnn2D_1_relu/kernel:0"][...], b["conv1/conv1/kernel:0"][...]))
print(np.array_equal(a["output_softmax/output_softmax/kernel:0"][...].T, b["output_softmax/output_softmax/kernel_t:0"][...]))
]==], K2, out_path)
    assert(ok, facts)
    local lines = {}
    for l in facts:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.truthy(lines[1]:find("conv1", 1, true) and lines[1]:find("conv2", 1, true), lines[1])
    assert.is_nil(lines[1]:find("cnn2D", 1, true))
    assert.are.equal("conv1/kernel:0,conv1/bias:0", lines[2])
    assert.are.equal("0", lines[3])
    assert.are.equal("True", lines[4])
    assert.are.equal("True", lines[5])
  end)

  it("renames Keras 3 objects from '<object>/<weight>' names and keeps values", function()
    local r = cli:write("k3rules.lua", 'return wk.remap.rules{ {"^layers/dense/", "layers/head/"} }')
    local out_path = cli:path("k3.weights.h5")
    local out, err, status = remap(q(K3) .. " " .. q(out_path) .. " --rules " .. q(r) .. " --json")
    assert.are.equal(0, status, err)
    local doc = decode(out, err)
    assert.are.same({ from = "layers/dense", to = "layers/head", rule = doc.objects[1].rule }, doc.objects[1])
    local _, _, st = cli:run("diff --json " .. q(K3) .. " " .. q(out_path))
    assert.are.equal(1, st) -- the names moved
    local facts, ok = cli:py([==[
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
print(np.array_equal(a["layers/dense/vars/0"][...], b["layers/head/vars/0"][...]), "dense" in b["layers"])
]==], K3, out_path)
    assert(ok, facts)
    assert.are.equal("True False\n", facts)
  end)

  it("refuses to move weights between objects", function()
    local r = cli:write("move.lua", 'return { {"^layers/dense/0$", "layers/other/0"} }')
    local _, err, status = remap(q(K3) .. " " .. q(cli:path("move.weights.h5")) .. " --rules " .. q(r))
    assert.are.equal(1, status)
    assert.truthy(err:find("does not move weights", 1, true), err)
  end)

  it("--strict fails when a rule matches nothing, writing nothing", function()
    local out_path = cli:path("strict.h5")
    local _, err, status = remap(q(K2) .. " " .. q(out_path) .. " --rules " .. q(rules) .. " --strict")
    assert.are.equal(1, status)
    assert.truthy(err:find("--strict", 1, true), err)
    assert.is_false(cli:exists(out_path))
  end)

  it("does not overwrite OUT unless --overwrite", function()
    local out_path = cli:write("exists.h5", "x")
    local _, err, status = remap(q(K2) .. " " .. q(out_path) .. " --rules " .. q(rules))
    assert.are.equal(1, status)
    assert.truthy(err:find("already exists", 1, true), err)
    local _, err2, status2 = remap(q(K2) .. " " .. q(out_path) .. " --rules " .. q(rules) .. " --overwrite")
    assert.are.equal(0, status2, err2)
  end)

  it("exits 1 on a bad rules file or a bad IN, 2 on usage errors", function()
    local syntax = cli:write("syntax.lua", "return {")
    local notable = cli:write("notable.lua", "return 42")
    local badpat = cli:write("badpat.lua", 'return { {"cnn2D_1_relu/(", "x"} }')
    for _, r in ipairs{ syntax, notable, badpat, cli:path("absent.lua") } do
      local out, err, status = remap(q(K2) .. " " .. q(cli:path("o.h5")) .. " --rules " .. q(r))
      assert.are.equal(1, status, r)
      assert.are.equal("", out)
      assert.truthy(err:find("weightkit remap: ", 1, true), err)
    end
    local _, err, status = remap(q(cli:path("absent.h5")) .. " " .. q(cli:path("o.h5")) .. " --rules " .. q(rules))
    assert.are.equal(1, status)
    assert.truthy(err:find("absent.h5", 1, true), err)
    for _, args in ipairs{ "", q(K2) .. " " .. q(cli:path("o.h5")), q(K2) .. " --rules " .. q(rules),
      q(K2) .. " x y --rules " .. q(rules), q(K2) .. " o.h5 --rules", q(K2) .. " o.h5 --rules r --bogus" } do
      local _, e, st = remap(args)
      assert.are.equal(2, st, args)
      assert.truthy(e:find("usage: weightkit remap", 1, true), e)
    end
  end)

  it("runs the rules file in the sandbox, --unsafe lifting it", function()
    local r = cli:write("peek.lua", 'io.open("/etc/passwd"):close() return { {"^x", "y"} }')
    local _, err, status = remap(q(K2) .. " " .. q(cli:path("p.h5")) .. " --rules " .. q(r) .. " --dry-run")
    assert.are.equal(1, status)
    assert.truthy(err:find("weightkit: sandbox: access to /etc/passwd is not allowed (pass it on the command " ..
      "line, or use --unsafe)", 1, true), err)
    local _, err2, status2 = remap(q(K2) .. " " .. q(cli:path("p.h5")) .. " --rules " .. q(r) ..
      " --dry-run --unsafe")
    assert.are.equal(0, status2, err2)
  end)

  it("prints its help", function()
    local out, _, status = remap("--help")
    assert.are.equal(0, status)
    assert.truthy(out:find("--dry-run", 1, true))
  end)
end)
