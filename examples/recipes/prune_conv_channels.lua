--[[
Recipe: prune the K weakest filters of a Conv2D, keeping the file consistent — file surgery with
weightkit.editor, no model needed.

  weightkit run examples/recipes/prune_conv_channels.lua in.h5 out.h5 CONV BN NEXT K

  CONV  the Conv2D layer whose output channels are pruned (channels_last: kernel (kh, kw, in, out))
  BN    the BatchNormalization on CONV's output, or "-" when there is none
  NEXT  the layer that reads CONV's channels: a Conv2D (its kernel's input axis 3 is sliced), or a
        Dense behind a Flatten (its kernel rows are sliced: Flatten of an (h, w, C) map puts channel c of
        pixel p at row p * C + c, so every C-th row goes)
  K     how many filters to remove

A filter's weight is the L1 norm of its kernel slice (sum of |w| over kh, kw, in); the K smallest go
(ties: the lower index goes first). Sliced with them: CONV's bias, BN's gamma, beta, moving_mean and
moving_variance (all (C,)), and NEXT's input axis. Nothing else changes, so the pruned model is the old
architecture with filters = C - K in CONV; weights are found by their position in each layer (kernel,
bias; gamma, beta, moving_mean, moving_variance), so Keras 2 .h5 and Keras 3 .weights.h5 files work alike.
A layer between CONV and NEXT that has per-channel weights (another BatchNormalization, a
DepthwiseConv2D) would need slicing too; this recipe refuses to guess and handles the layout above.

Example on a real file (hls4ml jet tagger, Keras 2.0.6):
  ... k206_fml_jettagger_conv2d_bn_weights.h5 out.h5 cnn2D_1_relu batch_normalization_2 cnn2D_2_relu 2
  ... k206_fml_jettagger_conv2d_bn_weights.h5 out.h5 cnn2D_2_relu - dense_1_relu 1
]]
local wk = require "weightkit"
local editor = require "weightkit.editor"

local IN, OUT, CONV, BN, NEXT, K = arg[1], arg[2], arg[3], arg[4], arg[5], math.tointeger(tonumber(arg[6] or ""))
if not (IN and OUT and CONV and BN and NEXT and K) then
  io.stderr:write("usage: weightkit run prune_conv_channels.lua IN OUT CONV BN|- NEXT K\n")
  return 2
end

local ed <close> = editor.open(IN)

-- The names of an object's weights, in file order.
local function weight_names(object)
  for _, obj in ipairs(ed:objects()) do
    if obj.name == object then
      local out = {}
      for i, w in ipairs(obj.weights) do out[i] = w.name end
      return out
    end
  end
  error("no layer " .. object .. " in " .. IN)
end

-- t with only the `keep` indices (1-based, ascending) along `axis`.
local function take(t, axis, keep)
  local parts = {}
  for i, k in ipairs(keep) do parts[i] = t:slice(axis, k, k) end
  return wk.concat(parts, axis)
end

local conv_w = weight_names(CONV)
local kernel = ed:get(CONV, conv_w[1])
assert(kernel:rank() == 4, CONV .. ": expected a Conv2D kernel (kh, kw, in, out)")
local C = kernel:shape()[4]
assert(K >= 1 and K < C, ("K must be in 1..%d for %s's %d filters"):format(C - 1, CONV, C))

-- L1 norm of each filter, then the K smallest.
local l1, order = {}, {}
for c = 1, C do
  l1[c] = kernel:slice(4, c, c):map("abs"):sum()
  order[c] = c
end
table.sort(order, function(a, b)
  if l1[a] ~= l1[b] then return l1[a] < l1[b] end
  return a < b
end)
local pruned, keep = {}, {}
for i = 1, K do pruned[order[i]] = true end
for c = 1, C do if not pruned[c] then keep[#keep + 1] = c end end

print(("%s: %d filters, L1 norms:"):format(CONV, C))
for c = 1, C do print(("  filter %3d  L1 %-14.8g %s"):format(c, l1[c], pruned[c] and "pruned" or "")) end

local function set(object, name, t)
  local before = ed:get(object, name):shape()
  ed:set(object, name, t)
  print(("  %-40s %s -> %s"):format(object .. " " .. name, table.concat(before, "x"), table.concat(t:shape(), "x")))
end

print("sliced:")
set(CONV, conv_w[1], take(kernel, 4, keep))
if conv_w[2] then set(CONV, conv_w[2], take(ed:get(CONV, conv_w[2]), 1, keep)) end

if BN ~= "-" then
  for _, name in ipairs(weight_names(BN)) do
    local v = ed:get(BN, name)
    assert(v:rank() == 1 and v:shape()[1] == C, BN .. " " .. name .. ": expected (" .. C .. ",)")
    set(BN, name, take(v, 1, keep))
  end
end

local next_w = weight_names(NEXT)
local nk = ed:get(NEXT, next_w[1])
if nk:rank() == 4 then
  assert(nk:shape()[3] == C, NEXT .. ": its kernel's input axis is not " .. C)
  set(NEXT, next_w[1], take(nk, 3, keep))
elseif nk:rank() == 2 then
  local rows = nk:shape()[1]
  assert(rows % C == 0, NEXT .. ": " .. rows .. " input rows are not a whole number of " .. C .. "-channel pixels")
  local keep_rows = {}
  for r = 1, rows do
    if not pruned[(r - 1) % C + 1] then keep_rows[#keep_rows + 1] = r end
  end
  set(NEXT, next_w[1], take(nk, 1, keep_rows))
else
  error(NEXT .. ": neither a Conv2D nor a Dense kernel")
end

ed:save(OUT)
print(("saved %s: %s keeps filters %s"):format(OUT, CONV, table.concat(keep, " ")))
