-- `make demo` runs examples/demo.lua on the shipped sample: it must keep working.
local build = os.getenv("WEIGHTKIT_BUILD") or "build"

describe("make demo", function()
  it("inspects, loads, transfers and saves the shipped sample", function()
    local pipe = assert(io.popen(build .. "/weightkit run --unsafe examples/demo.lua 2>&1"))
    local output = pipe:read("a")
    assert.is_true(pipe:close(), output)
    assert.truthy(output:find("format keras2-h5, Keras 2.15.0, backend tensorflow", 1, true), output)
    assert.truthy(output:find("matched: 3 layer(s), 8 weight(s)", 1, true), output)
    assert.truthy(output:find("dense_1 dense_1/kernel:0: expected (8, 5), file (8, 3) (shape mismatch)", 1, true),
      output)
    assert.truthy(output:find("max |student - twin| on the flowers:\t0.0\n", 1, true), output)
  end)
end)
