--[[
The weightkit side of the benchmark: one operation per process, run as
  weightkit run bench/wk_ops.lua load|lazy|inspect|write FILE [OUT]

  load     full load: wk.open, every tensor of every layer read and summed, close
  lazy     lazy open: wk.open and every layer's weights listed with name, shape and dtype (every
           tensor addressable through entry.tensor), no tensor byte read, close
  inspect  `weightkit inspect FILE` run in this process (its output goes to stdout, which the
           driver sends to /dev/null)
  write    reads FILE's tensors (not timed; summed so their pages are in memory, as h5py's
           arrays are), then writes them with weightkit's writer (core.save_keras2, the C
           wk_write_keras2 behind Model:save_weights: temp file, fsync, rename) to OUT (timed)

Prints one JSON line on stderr: {"seconds": time of the operation alone, "check": {...}}.
]]
local wk = require "weightkit"
local core = require "weightkit.core"
local clock = require "wkclock"

local op, path, out = ...

local function report(seconds, check)
  local parts = {}
  for k, v in pairs(check) do parts[#parts + 1] = string.format('"%s": %.17g', k, v) end
  io.stderr:write(string.format('{"seconds": %.9f, "check": {%s}}\n', seconds, table.concat(parts, ", ")))
end

if op == "load" then
  local t0 = clock.now()
  local f = assert(wk.open(path))
  local total, n = 0.0, 0
  for _, layer in ipairs(f:layers()) do
    for _, w in ipairs(layer.weights) do
      total = total + w.tensor:sum()
      n = n + 1
    end
  end
  f:close()
  report(clock.now() - t0, { tensors = n, sum = total })
elseif op == "lazy" then
  local t0 = clock.now()
  local f = assert(wk.open(path))
  local n, numel = 0, 0
  for _, layer in ipairs(f:layers()) do
    for _, w in ipairs(layer.weights) do
      local shape, dtype = w.shape, w.dtype
      assert(rawget(w, "tensor") == nil) -- not read
      if dtype:sub(1, 5) == "float" then
        local k = 1
        for i = 1, #shape do k = k * shape[i] end
        numel = numel + k
      end
      n = n + 1
    end
  end
  f:close()
  report(clock.now() - t0, { tensors = n, numel = numel })
elseif op == "inspect" then
  local inspect = require "weightkit.cli.inspect"
  local t0 = clock.now()
  local status = inspect.run({ "inspect", path })
  io.stdout:flush()
  report(clock.now() - t0, { status = status })
elseif op == "write" then
  local f = assert(wk.open(path))
  local layers = {}
  for _, layer in ipairs(f:layers()) do
    local weights = {}
    for _, w in ipairs(layer.weights) do
      local t = w.tensor
      t:sum()
      weights[#weights + 1] = { name = w.name, tensor = t }
    end
    layers[#layers + 1] = { name = layer.name, weights = weights }
  end
  local t0 = clock.now()
  assert(core.save_keras2(out, { layers = layers, overwrite = true }))
  local seconds = clock.now() - t0
  f:close()
  local fh = assert(io.open(out, "rb"))
  local size = fh:seek("end")
  fh:close()
  report(seconds, { bytes = size })
elseif op == "none" then
  report(0, {}) -- the driver's baseline: a process that only loaded weightkit
else
  error("usage: wk_ops.lua load|lazy|inspect|write FILE [OUT]")
end
