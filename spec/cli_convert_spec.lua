--[[
Specs for `weightkit convert` (lua/weightkit/cli/convert.lua), run as the real command
($WEIGHTKIT_BUILD/weightkit): the TF fixtures converted to Keras 3 `.weights.h5` (what a Keras 3 user
stranded with a TF checkpoint needs), checked with h5py (spec/support/tfckpt_h5_sha.py) against the
fixtures' expected sha256; the JSON report; exit statuses 0 / 1 / 2.
]]
local json = require "weightkit.json"
local shell = require "support.shell"
local fx = require "support.tfckpt_models"

local BIN = (os.getenv("WEIGHTKIT_BUILD") or "build") .. "/weightkit"
local tmpdir = shell.temp_dir("wk_convert_spec")
teardown(function() shell.remove_dir(tmpdir) end)

local function tmp(name) return tmpdir .. "/" .. name end

local function q(s) return "'" .. s .. "'" end

-- Runs the command; returns stdout, stderr, exit status.
local function run(args)
  local err = tmp("stderr.txt")
  local p = assert(io.popen(BIN .. " " .. args .. " 2>" .. q(err) .. "; echo \"exit=$?\""))
  local out = p:read("a")
  p:close()
  local status = tonumber(out:match("exit=(%d+)\n$"))
  return out:gsub("exit=%d+\n$", ""), fx.slurp(err) or "", status
end

local function write(name, text)
  local f = assert(io.open(tmp(name), "wb"))
  f:write(text)
  f:close()
  return tmp(name)
end

-- A --model script building a fixture's model from spec/support/tfckpt_models.lua.
local function model_script(name, builder)
  return write(name, "package.path = " .. string.format("%q", package.path) ..
    "\nreturn require('support.tfckpt_models')." .. builder .. "()\n")
end

local function h5_sha(path)
  local text, ok = shell.sh(fx.PY .. " spec/support/tfckpt_h5_sha.py " .. q(path) .. " 2>&1")
  assert(ok, text)
  local out = {}
  for p, shape, sha in text:gmatch("([^\t\n]+)\t([^\t\n]*)\t(%x+)\n") do out[p] = { shape = shape, sha = sha } end
  return out
end

describe("weightkit convert", function()
  it("tf20 TF checkpoint -> Keras 3 .weights.h5 (values checked with h5py)", function()
    local script = model_script("tf20.lua", "tf20_model")
    local out, err, status = run("convert " .. q(fx.TF20) .. " " .. q(tmp("tf20.weights.h5")) .. " --model " .. q(script))
    assert.are.equal(0, status, err)
    assert.matches("converted .* %(tf%-checkpoint%) %-> .*tf20%.weights%.h5 %(keras3%-weights%-h5%)", out)
    assert.matches("4 weight%(s%) in 2 layer%(s%) loaded", out)
    local expected = fx.expected("tfckpt_tf20_tutorial_cp0000")
    local got = h5_sha(tmp("tf20.weights.h5"))
    local k = "layer_with_weights-%d/%s/.ATTRIBUTES/VARIABLE_VALUE"
    assert.are.equal(expected[k:format(0, "kernel")].sha256, got["layers/dense/vars/0"].sha)
    assert.are.equal(expected[k:format(0, "bias")].sha256, got["layers/dense/vars/1"].sha)
    assert.are.equal(expected[k:format(1, "kernel")].sha256, got["layers/dense_1/vars/0"].sha)
    assert.are.equal(expected[k:format(1, "bias")].sha256, got["layers/dense_1/vars/1"].sha)
  end)

  it("subclassed checkpoint directory -> .weights.h5 with a --json report", function()
    local script = model_script("ttt.lua", "ttt_model")
    local out, err, status = run("convert " .. q(fx.TTT_DIR) .. " " .. q(tmp("ttt.weights.h5")) .. " --json --model " ..
      q(script))
    assert.are.equal(0, status, err)
    local r = json.decode(out)
    assert.are.equal("tf-checkpoint", r.input_format)
    assert.are.equal("keras3-weights-h5", r.output_format)
    assert.are.equal(6, r.matched_weights)
    assert.are.equal(0, #r.unused)
    local expected = fx.expected("tfckpt_ttt_subclassed")
    local got = h5_sha(tmp("ttt.weights.h5"))
    for _, attr in ipairs{ "common", "actor", "critic" } do
      assert.are.equal(expected[attr .. "/kernel/.ATTRIBUTES/VARIABLE_VALUE"].sha256, got[attr .. "/vars/0"].sha)
      assert.are.equal(expected[attr .. "/bias/.ATTRIBUTES/VARIABLE_VALUE"].sha256, got[attr .. "/vars/1"].sha)
    end
  end)

  it("SavedModel -> Keras 2 .h5 and -> a TF prefix; the optimizer state is left out", function()
    local script = model_script("actor.lua", "actor_model")
    local out, err, status = run("convert " .. q(fx.ACTOR_DIR) .. " " .. q(tmp("actor.h5")) .. " --model " .. q(script))
    assert.are.equal(0, status, err)
    assert.matches("optimizer state left out: 14 value%(s%)", out)
    local got = h5_sha(tmp("actor.h5"))
    local expected = fx.expected("savedmodel_tcp_actor")
    local n = 0
    for p, d in pairs(got) do
      if p:match("kernel:0$") or p:match("bias:0$") then n = n + 1 end
      assert.is_not_nil(d.sha)
    end
    assert.are.equal(6, n)
    local found = {}
    for _, d in pairs(got) do found[d.sha] = true end
    for i = 0, 5 do assert.is_true(found[expected["variables/" .. i .. "/.ATTRIBUTES/VARIABLE_VALUE"].sha256]) end
    _, err, status = run("convert " .. q(fx.ACTOR_DIR) .. " " .. q(tmp("actor_ckpt")) .. " --model " .. q(script))
    assert.are.equal(0, status, err)
    local facts = fx.facts_of(tmp("actor_ckpt.index"))
    assert.are.equal(expected["variables/0/.ATTRIBUTES/VARIABLE_VALUE"].sha256,
      facts["fc1/kernel/.ATTRIBUTES/VARIABLE_VALUE"].sha256)
  end)

  it("exit 1 with the message on errors; an existing OUT needs --overwrite; --strict", function()
    local script = model_script("tf20b.lua", "tf20_model")
    local _, err, status = run("convert " .. q(fx.TTT) .. " " .. q(tmp("bad.weights.h5")) .. " --model " .. q(script))
    assert.are.equal(1, status)
    assert.matches("^weightkit convert: AssertionError: Nothing except the root object matched", err)
    assert.is_nil(fx.slurp(tmp("bad.weights.h5")))
    write("exists.weights.h5", "x")
    _, err, status = run("convert " .. q(fx.TF20) .. " " .. q(tmp("exists.weights.h5")) .. " --model " .. q(script))
    assert.are.equal(1, status)
    assert.matches("already exists %(pass %-%-overwrite to replace it%)", err)
    _, err, status = run("convert " .. q(fx.TF20) .. " " .. q(tmp("exists.weights.h5")) .. " --overwrite --model " ..
      q(script))
    assert.are.equal(0, status, err)
    local part = write("actor_part.lua", "package.path = " .. string.format("%q", package.path) ..
      "\nreturn require('support.tfckpt_models').actor_model({fc1 = true, fc2 = true})\n")
    _, err, status = run("convert " .. q(fx.ACTOR_DIR) .. " " .. q(tmp("strict.weights.h5")) .. " --strict --model " ..
      q(part))
    assert.are.equal(1, status)
    assert.matches("%-%-strict: 0 variable%(s%) of the model got no value and 2 value%(s%)", err)
    assert.is_nil(fx.slurp(tmp("strict.weights.h5")))
  end)

  it("usage errors exit 2; --help exits 0", function()
    local _, err, status = run("convert onlyone")
    assert.are.equal(2, status)
    assert.matches("expected IN and OUT", err)
    _, err, status = run("convert a b --model x --config y")
    assert.are.equal(2, status)
    _, err, status = run("convert a b --bogus")
    assert.are.equal(2, status)
    assert.matches("unknown option %-%-bogus", err)
    local out
    out, _, status = run("convert --help")
    assert.are.equal(0, status)
    assert.matches("^usage: weightkit convert IN OUT", out)
  end)
end)
