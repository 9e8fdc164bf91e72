-- The weightkit command and the example host, run from the build tree as a user would.
local build = os.getenv("WEIGHTKIT_BUILD") or "build"

local function run(command)
  local pipe = assert(io.popen(command .. " 2>&1"))
  local output = pipe:read("a")
  local ok, _, code = pipe:close()
  return output, ok and 0 or code
end

local function write_temp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("weightkit command", function()
  it("runs a script with its arguments in arg, as lua5.4 would", function()
    local script = write_temp([[
      local wk = require "weightkit"
      local layer = wk.layers.Dense{units = 1, kernel_initializer = wk.initializers.Constant(1.0)}
      local y = layer(wk.tensor{{1, 2, 3}})
      print(arg[0] == ... and "" or "", select("#", ...), arg[1], arg[2], y:item())
    ]])
    local output, code = run(build .. "/weightkit run " .. script .. " alpha beta")
    os.remove(script)
    assert.are.equal(0, code)
    assert.are.equal("\t2\talpha\tbeta\t6.0\n", output)
  end)

  it("reports a failing script with its message and status 1", function()
    local script = write_temp('error("boom")')
    local output, code = run(build .. "/weightkit run " .. script)
    os.remove(script)
    assert.are.equal(1, code)
    assert.truthy(output:find("boom", 1, true))
  end)

  it("rejects an unknown command with the usage text and status 2", function()
    local output, code = run(build .. "/weightkit frobnicate")
    assert.are.equal(2, code)
    assert.truthy(output:find("unknown command 'frobnicate'", 1, true))
    assert.truthy(output:find("usage: weightkit", 1, true))
  end)

  it("prints its version", function()
    local output, code = run(build .. "/weightkit version")
    assert.are.equal(0, code)
    assert.truthy(output:match("^weightkit %d+%.%d+%.%d+\n$"))
  end)
end)

describe("example host", function()
  it("embeds Lua, builds a layer in a script and prints its kernel through the C API", function()
    local output, code = run(build .. "/examples/host")
    assert.are.equal(0, code)
    assert.are.equal("head/kernel:0 float32 (3, 2)\n  0.5 0.5\n  0.5 0.5\n  0.5 0.5\n", output)
  end)
end)
