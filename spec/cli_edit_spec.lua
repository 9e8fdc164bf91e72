--[[
Specs for `weightkit edit` (lua/weightkit/cli/edit.lua), run as the real command on copies of real
fixtures; the written files are checked with h5py/numpy.
]]
local json = require "weightkit.json"
local C = require "support.cli_run"

local cli = C.new("wk_cli_edit_spec")
teardown(function() cli:cleanup() end)
local q = C.q

local K2 = C.FIXTURES .. "/k206_fml_jettagger_conv2d_bn_weights.h5"

local SCRIPT = [[
local k = ed:get("dense_1_relu", "dense_1_relu/kernel:0")
ed:set("dense_1_relu", "dense_1_relu/kernel:0", k * 2)
ed:delete_object("dropout_1")
ed:rename_weight("output_softmax", "output_softmax/bias:0", "output_softmax/b:0")
ed:set("output_softmax", "output_softmax/kernel:0", wk.zeros({5, 10}, "float32"))
print("args", select("#", ...), ...)
]]

local function edit(args) return cli:run("edit " .. args) end

describe("weightkit edit", function()
  local script = cli:write("edit.lua", SCRIPT)

  it("runs the script on `ed` and saves OUT (values checked with h5py); the JSON report lists the changes",
    function()
    local out_path = cli:path("out.h5")
    local out, err, status = edit(q(K2) .. " " .. q(out_path) .. " --script " .. q(script) .. " --json -- one two")
    assert.are.equal(0, status, err)
    local ok, doc = pcall(json.decode, out)
    assert(ok, out)
    -- with --json the script's print goes to stderr
    assert.truthy(err:find("args\t2\tone\ttwo", 1, true), err)
    assert.are.equal("keras2-h5", doc.input_format)
    assert.are.equal("keras2-h5", doc.output_format)
    assert.are.equal(16, doc.weights)
    assert.are.same({ { object = "output_softmax", weight = "output_softmax/b:0", shape = { 5 }, dtype = "float32" } },
      doc.added)
    assert.are.same({ { object = "output_softmax", weight = "output_softmax/bias:0", shape = { 5 },
      dtype = "float32" } }, doc.removed)
    assert.are.equal(1, #doc.changed)
    assert.are.same({ 10, 5 }, doc.changed[1].before.shape)
    assert.are.same({ 5, 10 }, doc.changed[1].after.shape)
    local facts, pok = cli:py([==[
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
print(np.array_equal(a["dense_1_relu/dense_1_relu/kernel:0"][...] * 2, b["dense_1_relu/dense_1_relu/kernel:0"][...]))
print("dropout_1" in [n.decode() for n in b.attrs["layer_names"]])
print(np.array_equal(a["output_softmax/output_softmax/bias:0"][...], b["output_softmax/output_softmax/b:0"][...]))
]==], K2, out_path)
    assert(pok, facts)
    assert.are.equal("True\nFalse\nTrue\n", facts)
  end)

  it("prints a readable report and the script's output on stdout without --json", function()
    local out_path = cli:path("plain.h5")
    local out, err, status = edit(q(K2) .. " " .. q(out_path) .. " --script " .. q(script))
    assert.are.equal(0, status, err)
    assert.truthy(out:find("args\t0\n", 1, true), out)
    assert.truthy(out:find("edited " .. K2, 1, true), out)
    assert.truthy(out:find("removed 1: output_softmax: output_softmax/bias:0", 1, true), out)
  end)

  it("writes nothing when the script returns false or raises (exit 1, the script's line named)", function()
    local no = cli:write("no.lua", "return false")
    local bad = cli:write("bad.lua", "\nlocal x = nil\nreturn x.y")
    local missing = cli:write("missing.lua", 'ed:get("nope", "w")')
    for _, s in ipairs{ no, bad, missing } do
      local out_path = cli:path("never.h5")
      local out, err, status = edit(q(K2) .. " " .. q(out_path) .. " --script " .. q(s))
      assert.are.equal(1, status, s)
      assert.are.equal("", out)
      assert.is_false(cli:exists(out_path))
      assert.truthy(err:find("weightkit edit: ", 1, true), err)
    end
    local _, err = edit(q(K2) .. " " .. q(cli:path("never.h5")) .. " --script " .. q(bad))
    assert.truthy(err:find("bad.lua:3:", 1, true), err)
    local _, err2 = edit(q(K2) .. " " .. q(cli:path("never.h5")) .. " --script " .. q(missing))
    assert.truthy(err2:find("Object 'nope' not found", 1, true), err2)
  end)

  it("keeps an existing OUT unless --overwrite; converts by OUT's suffix", function()
    local keep = cli:write("keep.h5", "precious")
    local empty = cli:write("empty.lua", "")
    local _, err, status = edit(q(K2) .. " " .. q(keep) .. " --script " .. q(empty))
    assert.are.equal(1, status)
    assert.truthy(err:find("already exists", 1, true), err)
    local f = assert(io.open(keep, "rb"))
    assert.are.equal("precious", f:read("a"))
    f:close()
    local _, err2, status2 = edit(q(K2) .. " " .. q(keep) .. " --script " .. q(empty) .. " --overwrite")
    assert.are.equal(0, status2, err2)
    local st_path = cli:path("out.safetensors")
    local out3, err3, status3 = edit(q(K2) .. " " .. q(st_path) .. " --script " .. q(empty) .. " --json")
    assert.are.equal(0, status3, err3)
    assert.are.equal("safetensors", json.decode(out3).output_format)
    local _, _, st = cli:run("inspect " .. q(st_path))
    assert.are.equal(0, st)
  end)

  it("exits 2 on usage errors and 1 on a bad IN", function()
    local empty = cli:write("empty2.lua", "")
    for _, args in ipairs{ "", q(K2) .. " o.h5", q(K2) .. " --script " .. q(empty), "a b c --script " .. q(empty),
      q(K2) .. " o.h5 --script", q(K2) .. " o.h5 --script x --nope" } do
      local _, err, status = edit(args)
      assert.are.equal(2, status, args)
      assert.truthy(err:find("usage: weightkit edit", 1, true), err)
    end
    local junk = cli:write("junk.h5", "not a weights file")
    local _, err, status = edit(q(junk) .. " " .. q(cli:path("o.h5")) .. " --script " .. q(empty))
    assert.are.equal(1, status)
    assert.truthy(err:find("junk.h5", 1, true), err)
  end)

  it("prints its help", function()
    local out, _, status = edit("--help")
    assert.are.equal(0, status)
    assert.truthy(out:find("--script FILE", 1, true))
  end)
end)
