--[[
The weightkit side of the benchmark: one operation per process, run as
  weightkit run bench/wk_ops.lua load|lazy|inspect|write FILE [OUT]

  load     full load: wk.open, every tensor of every layer read, summed and released (t:close(),
           as h5py frees each array), close
  lazy     lazy open: wk.open (lazy: the weights group's attributes and layer_names only) and
           the layer names listed (timed); any tensor is then addressable by file:get(layer,
           weight), which resolves that layer's weight list on first use; no tensor byte read.
           Afterwards (untimed) the first and last layers are resolved (their weight count
           reported) and the driver checks the layer count; the peak RSS is the lazy open's
  inspect  `weightkit inspect FILE` run in this process (its output goes to stdout, which the
           driver sends to /dev/null)
  write    reads FILE's tensors (not timed; summed so their pages are in memory, as h5py's
           arrays are), then writes them with weightkit's writer (core.save_keras2, the C
           wk_write_keras2 behind Model:save_weights: temp file, fdatasync, rename) to OUT (timed)

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
      -- Each tensor is released after its sum, as h5py frees each numpy array: the last
      -- reference to a zero-copy window gives its mapped pages back (src/wk_mmap.c).
      local t = w.tensor
      total = total + t:sum()
      t:close()
      n = n + 1
    end
  end
  f:close()
  report(clock.now() - t0, { tensors = n, sum = total })
elseif op == "lazy" then
  -- Timed: the lazy open alone -- wk.open (root attributes and layer_names read; no layer's
  -- weight list, no dataset description, no tensor byte) and the layer names listed. From this
  -- handle any tensor is addressable: f:get(layer, weight) resolves that one layer on first use.
  local t0 = clock.now()
  local f = assert(wk.open(path))
  local names = f:layer_names()
  local seconds = clock.now() - t0
  -- Untimed check, kept small so that the peak RSS stays the lazy open's: the first and the
  -- last layer resolve (weights listed, no byte read). The driver checks the layer count.
  local n = 0
  for _, li in ipairs(#names > 1 and { 1, #names } or { #names }) do
    if li >= 1 then
      local raw = f._handle:layer(li)
      assert(raw.name == names[li])
      n = n + #raw.weights
    end
  end
  f:close()
  report(seconds, { layers = #names, first_last_weights = n })
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
