--[[
Specs for `weightkit diff` (lua/weightkit/cli/diff.lua), run as the real command on the real fixtures and
on copies changed with h5py (the expected differences come from numpy, not from weightkit): exit
statuses 0 / 1 / 2, the JSON document parsed back, tolerance edges, bad arguments and bad files.
]]
local json = require "weightkit.json"
local C = require "support.cli_run"

local cli = C.new("wk_cli_diff_spec")
teardown(function() cli:cleanup() end)
local q = C.q

local K2 = C.FIXTURES .. "/k206_fml_jettagger_conv2d_bn_weights.h5"
local K3 = C.FIXTURES .. "/k3_dense_adam.weights.h5"

local function diff(args)
  local out, err, status = cli:run("diff " .. args)
  return out, err, status
end

local function diff_json(args)
  local out, err, status = diff("--json " .. args)
  local ok, doc = pcall(json.decode, out)
  assert(ok, "not JSON: " .. out .. err)
  return doc, status, err
end

-- A copy of K2 with kernel[0,0,0,0] of cnn2D_1_relu raised by `delta` (float32); returns its path and
-- numpy's |a - b| and |b| (b: the copy's value, diff's reference side when the copy is B).
local function perturbed(name, delta)
  local path = cli:copy(K2, name)
  local out, ok = cli:py([==[
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    d = f["cnn2D_1_relu/cnn2D_1_relu/kernel:0"]
    a = d[...]
    b = a.copy()
    b[0, 0, 0, 0] = np.float32(b[0, 0, 0, 0] + np.float32(float(sys.argv[2])))
    d[...] = b
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    print(repr(float(diff.max())), repr(float(abs(np.float64(b[0, 0, 0, 0])))))
]==], path, tostring(delta))
  assert(ok, out)
  local d, babs = out:match("^(%S+) (%S+)")
  return path, tonumber(d), tonumber(babs)
end

describe("weightkit diff", function()
  it("finds a file equal to itself: exit 0, every tensor close with zero differences", function()
    local doc, status = diff_json(q(K2) .. " " .. q(K2))
    assert.are.equal(0, status)
    assert.is_true(doc.equal)
    assert.are.equal(16, doc.summary.paired)
    assert.are.equal(16, doc.summary.close)
    for _, t in ipairs(doc.tensors) do
      assert.are.equal("close", t.status)
      assert.are.equal(0, t.max_abs_diff)
      assert.are.equal(0, t.max_rel_diff)
    end
    assert.are.equal("keras2-h5", doc.a.format)
    assert.are.same({}, doc.only_in_a)
  end)

  it("compares every format with itself (Keras 3, .keras, TF checkpoint, SavedModel)", function()
    for _, name in ipairs{ "k3_dense_adam.weights.h5", "k392_hybrid_conv1d_bilstm_bn.keras",
      "tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt", "tfckpt_ttt_subclassed", "savedmodel_tcp_actor", "k392_legacy_bidirectional_lstm_full.h5" } do
      local p = C.FIXTURES .. "/" .. name
      local doc, status, err = diff_json(q(p) .. " " .. q(p))
      assert.are.equal(0, status, name .. ": " .. err)
      assert.is_true(doc.summary.paired > 0, name)
      assert.are.equal(doc.summary.paired, doc.summary.close, name)
    end
  end)

  it("reports a changed value with numpy's max abs / relative difference and exits 1", function()
    local b, d, babs = perturbed("changed.h5", 0.001)
    local doc, status = diff_json(q(K2) .. " " .. q(b))
    assert.are.equal(1, status)
    assert.is_false(doc.equal)
    assert.are.equal(1, doc.summary.different)
    assert.are.equal(15, doc.summary.close)
    local row
    for _, t in ipairs(doc.tensors) do
      if t.weight == "cnn2D_1_relu/kernel:0" then row = t end
    end
    assert.are.equal("different", row.status)
    assert.is_false(row.allclose)
    assert.are.equal(d, row.max_abs_diff)
    assert.is_true(math.abs(row.max_rel_diff - d / babs) <= 1e-12 * (d / babs))
    -- the readable report says the same
    local out, _, st = diff(q(K2) .. " " .. q(b))
    assert.are.equal(1, st)
    assert.truthy(out:find("DIFFERENT", 1, true))
    assert.truthy(out:find("the files differ", 1, true))
  end)

  it("follows |a - b| <= atol + rtol * |b| at the edges of --atol and --rtol", function()
    local b, d, babs = perturbed("edge.h5", 0.01)
    local function status(opts)
      local _, _, st = diff(opts .. " " .. q(K2) .. " " .. q(b))
      return st
    end
    assert.are.equal(0, status(string.format("--rtol 0 --atol %.17g", d * (1 + 1e-9))))
    assert.are.equal(1, status(string.format("--rtol 0 --atol %.17g", d * (1 - 1e-9))))
    assert.are.equal(0, status(string.format("--atol 0 --rtol=%.17g", d / babs * (1 + 1e-9))))
    assert.are.equal(1, status(string.format("--atol=0 --rtol %.17g", d / babs * (1 - 1e-9))))
    -- the default tolerances (rtol 1e-05, atol 1e-08) do not cover 0.01
    assert.are.equal(1, status(""))
    local doc = diff_json("--atol 0.5 " .. q(K2) .. " " .. q(b))
    assert.are.equal(0.5, doc.atol)
    assert.are.equal(1e-5, doc.rtol)
  end)

  it("--name-only pairs names and reads no values: a changed value still matches", function()
    local b = perturbed("names.h5", 1.0)
    local doc, status = diff_json("--name-only " .. q(K2) .. " " .. q(b))
    assert.are.equal(0, status)
    assert.is_true(doc.name_only)
    for _, t in ipairs(doc.tensors) do
      assert.are.equal("paired", t.status)
      assert.are.equal(json.null, t.max_abs_diff)
    end
  end)

  it("reports a shape mismatch without comparing values", function()
    local b = cli:copy(K2, "shape.h5")
    local out, ok = cli:py([==[
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    g = f["output_softmax/output_softmax"]
    del g["bias:0"]
    g.create_dataset("bias:0", data=np.zeros(7, np.float32))
]==], b)
    assert(ok, out)
    local doc, status = diff_json(q(K2) .. " " .. q(b))
    assert.are.equal(1, status)
    local row
    for _, t in ipairs(doc.tensors) do
      if t.weight == "output_softmax/bias:0" then row = t end
    end
    assert.are.equal("shape_mismatch", row.status)
    assert.are.same({ 5 }, row.shape_a)
    assert.are.same({ 7 }, row.shape_b)
    assert.are.equal(json.null, row.allclose)
  end)

  it("lists names only in one file and explains that formats do not share names", function()
    local doc, status = diff_json(q(K3) .. " " .. q(K2))
    assert.are.equal(1, status)
    assert.are.equal(0, doc.summary.paired)
    assert.are.equal(8, #doc.only_in_a)
    assert.are.equal(16, #doc.only_in_b)
    assert.are.equal("layers/dense", doc.only_in_a[1].layer)
    assert.are.equal("0", doc.only_in_a[1].weight)
    assert.are.same({ 784, 10 }, doc.only_in_a[1].shape)
    assert.truthy(doc.note:find("keras3-weights-h5", 1, true))
    assert.truthy(doc.note:find("keras2-h5", 1, true))
  end)

  it("exits 2 on usage errors", function()
    for _, args in ipairs{ "", q(K2), q(K2) .. " " .. q(K2) .. " " .. q(K2), "--atol " .. q(K2) .. " " .. q(K2),
      "--atol abc " .. q(K2) .. " " .. q(K2), "--rtol -1 " .. q(K2) .. " " .. q(K2), "--frobnicate " .. q(K2) ..
      " " .. q(K2), "--json=yes " .. q(K2) .. " " .. q(K2) } do
      local out, err, status = diff(args)
      assert.are.equal(2, status, args)
      assert.are.equal("", out, args)
      assert.truthy(err:find("usage: weightkit diff", 1, true), args .. ": " .. err)
    end
  end)

  it("exits 2 on a missing or unreadable file, naming it", function()
    local junk = cli:write("junk.h5", "this is not HDF5\n")
    for _, p in ipairs{ cli:path("absent.h5"), junk } do
      local out, err, status = diff(q(K2) .. " " .. q(p))
      assert.are.equal(2, status)
      assert.are.equal("", out)
      assert.truthy(err:find("weightkit diff: ", 1, true), err)
      assert.truthy(err:find(p, 1, true), err)
    end
  end)

  it("draws a progress bar on stderr only when it is a terminal", function()
    local _, err = diff(q(K2) .. " " .. q(K2))
    assert.are.equal("", err)
    local has_script = os.execute("command -v script >/dev/null 2>&1")
    if not has_script then return end
    -- script(1) gives the command a terminal; stdout goes to a file, the pty shows stderr only
    local p = assert(io.popen("script -qec " .. q(C.q(C.BIN) .. " diff " .. q(K2) .. " " .. q(K2) .. " >/dev/null") ..
      " /dev/null"))
    local tty = p:read("a")
    p:close()
    assert.truthy(tty:find("\rdiff [", 1, true), tty)
    assert.truthy(tty:find("16/16", 1, true), tty)
  end)

  it("prints its help with exit 0", function()
    local out, _, status = diff("--help")
    assert.are.equal(0, status)
    assert.truthy(out:find("--rtol", 1, true))
    assert.truthy(out:find("Exit status", 1, true))
  end)
end)
