--[[
Specs for the script sandbox (lua/weightkit/cli/sandbox.lua) of `weightkit run`, `edit` and `remap`:
every denial, what stays allowed, and --unsafe lifting it. Run as the real command.
]]
local C = require "support.cli_run"

local cli = C.new("wk_cli_sandbox_spec")
teardown(function() cli:cleanup() end)
local q = C.q

local K2 = C.FIXTURES .. "/k206_fml_jettagger_conv2d_bn_weights.h5"
local K3 = C.FIXTURES .. "/k3_dense_adam.weights.h5"
local DENIED = "weightkit: sandbox: access to %s is not allowed (pass it on the command line, or use --unsafe)"

local n = 0
local function script(text)
  n = n + 1
  return cli:write("s" .. n .. ".lua", text)
end

-- weightkit run [flags] SCRIPT ARGS...
local function run(text, args, flags)
  return cli:run("run " .. (flags or "") .. " " .. q(script(text)) .. " " .. (args or ""))
end

describe("the script sandbox", function()
  it("leaves out os.execute, io.popen, os.exit, os.getenv, debug, package, string.dump", function()
    for _, case in ipairs{ { 'os.execute("true")', "os.execute" }, { 'io.popen("ls")', "io.popen" },
      { "os.exit(0)", "os.exit" }, { 'os.getenv("HOME")', "os.getenv" }, { "debug.getinfo(1)", "debug" },
      { 'package.loadlib("x", "y")', "package" }, { "string.dump(print)", "string.dump" } } do
      local _, err, status = run(case[1])
      assert.are.equal(1, status, case[1])
      assert.truthy(err:find(case[2] .. " is not available in the weightkit sandbox; use --unsafe", 1, true),
        case[1] .. ": " .. err)
    end
  end)

  it("refuses binary chunks in load", function()
    local out, err, status = run('print(load(string.char(27) .. "Lua"))')
    assert.are.equal(0, status, err)
    assert.truthy(out:find("attempt to load a binary chunk", 1, true), out)
  end)

  it("denies reading a file not on the command line (/etc/passwd, io.lines, loadfile, wk.open)", function()
    for _, code in ipairs{ 'io.open("/etc/passwd")', 'io.lines("/etc/passwd")', 'loadfile("/etc/passwd")',
      'dofile("/etc/passwd")', 'wk.open("/etc/passwd")' } do
      local _, err, status = run(code)
      assert.are.equal(1, status, code)
      assert.truthy(err:find(DENIED:format("/etc/passwd"), 1, true), code .. ": " .. err)
    end
    local _, err, status = run('local f = wk.open(' .. string.format("%q", K3) .. ')')
    assert.are.equal(1, status)
    assert.truthy(err:find(DENIED:format(K3), 1, true), err)
  end)

  it("allows the script's arguments, for reading (wk.open) and writing (save_weights, io.open)", function()
    local out_path = cli:path("written.weights.h5")
    local text_path = cli:path("note.txt")
    local out, err, status = run([[
      local f <close> = wk.open(arg[1])
      print(f.format, #f:layers())
      local m = wk.Sequential{ wk.layers.Input{shape = {3}}, wk.layers.Dense{units = 2} }
      m:save_weights(arg[2])
      local t = assert(io.open(arg[3], "w")); t:write("hi"); t:close()
      print(io.open(arg[3]):read("a"))
    ]], q(K2) .. " " .. q(out_path) .. " " .. q(text_path))
    assert.are.equal(0, status, err)
    assert.are.equal("keras2-h5\t11\nhi\n", out)
    assert.is_true(cli:exists(out_path))
  end)

  it("allows a TF checkpoint prefix's siblings and a sharded index's shards", function()
    local prefix = cli:path("ckpt/model")
    os.execute("mkdir -p " .. q(cli:path("ckpt")) .. " " .. q(cli:path("shards")))
    local index = cli:path("shards/m.weights.json")
    local _, err, status = run([[
      local m = wk.Sequential{ wk.layers.Input{shape = {300}}, wk.layers.Dense{units = 200}, wk.layers.Dense{units = 3} }
      m:save_weights(arg[1], {save_format = "tf"})
      m:save_weights(arg[2], {max_shard_size = 0.0003})
      local f <close> = wk.open(arg[1])
      print(f.format)
    ]], q(prefix) .. " " .. q(index))
    assert.are.equal(0, status, err)
    assert.is_true(cli:exists(prefix .. ".index"))
    assert.is_true(cli:exists(cli:path("ckpt/checkpoint")))
    assert.is_true(cli:exists(cli:path("shards/m_00000.weights.h5")))
  end)

  it("denies writing outside OUT in edit: a sibling, OUT/../x, ed:save elsewhere", function()
    local out_path = cli:path("edit_out.h5")
    for _, case in ipairs{
      { 'io.open(' .. string.format("%q", cli:path("other.h5")) .. ', "w")', cli:path("other.h5") },
      { 'io.open(' .. string.format("%q", out_path .. "/../x.h5") .. ', "w")', out_path .. "/../x.h5" },
      { 'ed:save(' .. string.format("%q", cli:path("elsewhere.h5")) .. ')', cli:path("elsewhere.h5") },
      { 'os.remove(' .. string.format("%q", cli:path("s1.lua")) .. ')', cli:path("s1.lua") } } do
      local s = script(case[1])
      local _, err, status = cli:run("edit " .. q(K2) .. " " .. q(out_path) .. " --script " .. q(s) .. " --overwrite")
      assert.are.equal(1, status, case[1])
      assert.truthy(err:find(DENIED:format(case[2]), 1, true), case[1] .. ": " .. err)
    end
    assert.is_false(cli:exists(cli:path("other.h5")))
    assert.is_false(cli:exists(cli:path("x.h5")))
    assert.is_false(cli:exists(cli:path("elsewhere.h5")))
    assert.is_true(cli:exists(cli:path("s1.lua")))
  end)

  it("follows symlinks: a link inside an allowed directory does not lead out", function()
    local dir = cli:path("tree")
    os.execute("mkdir -p " .. q(dir) .. " && ln -s /etc " .. q(dir .. "/etc") .. " && echo ok > " .. q(dir .. "/in.txt"))
    local out, err, status = run('print(io.open(arg[1] .. "/in.txt"):read("l")) io.open(arg[1] .. "/etc/passwd")',
      q(dir))
    assert.are.equal(1, status)
    assert.are.equal("ok\n", out)
    assert.truthy(err:find(DENIED:format(dir .. "/etc/passwd"), 1, true), err)
  end)

  it("lets scripts require weightkit modules only (not weightkit.cli.*, not other modules)", function()
    local out, err, status = run('print(require("weightkit.remap") == wk.remap, require("string") == string)')
    assert.are.equal(0, status, err)
    assert.are.equal("true\ttrue\n", out)
    for _, name in ipairs{ "io", "os", "lfs", "weightkit.cli.sandbox", "weightkit.cli.host", "debug" } do
      local _, e, st = run('require("' .. name .. '")')
      assert.are.equal(1, st, name)
      assert.truthy(e:find("require of module '" .. name .. "' is not allowed", 1, true), e)
    end
  end)

  it("gives scratch files through os.tmpname", function()
    local out, err, status = run([[
      local p = os.tmpname()
      local f = assert(io.open(p .. ".h5", "w")); f:write("x"); f:close()
      os.remove(p .. ".h5"); os.remove(p)
      print("ok")
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal("ok\n", out)
  end)

  it("is lifted by --unsafe (run, edit)", function()
    local out, err, status = run('print(io.open("/etc/passwd") ~= nil, os.getenv ~= nil, debug ~= nil)', "",
      "--unsafe")
    assert.are.equal(0, status, err)
    assert.are.equal("true\ttrue\ttrue\n", out)
    local s = script('io.open("/etc/passwd"):close() os.execute("true")')
    local _, err2, status2 = cli:run("edit " .. q(K2) .. " " .. q(cli:path("u.h5")) .. " --script " .. q(s) ..
      " --unsafe")
    assert.are.equal(0, status2, err2)
  end)

  it("run: a returned integer is the exit status; usage errors exit 2", function()
    local _, _, status = run("return 3")
    assert.are.equal(3, status)
    local _, err, st = cli:run("run --bogus x.lua")
    assert.are.equal(2, st)
    assert.truthy(err:find("usage: weightkit run", 1, true), err)
    local _, _, st2 = cli:run("run")
    assert.are.equal(2, st2)
    local help = cli:run("run --help")
    assert.truthy(help:find("--unsafe", 1, true))
  end)
end)
