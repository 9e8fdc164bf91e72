--[[
weightkit.loading.ops — the few NumPy idioms Keras's weight conversions are written in, expressed with
the contract's tensor API (1-based axes, `t:permute`, `t:slice`, `t:split`, `wk.concat`, `t:reshape`).

Keras facts are quoted with NumPy's 0-based axes; `np_transpose(t, {3, 2, 0, 1})` takes them as
written so the code reads like the source it follows.

Every function returns a new tensor (or list); inputs are never modified, so the file's values stay
intact for a second model layer of the same name (by-name loading).

There is no reverse-an-axis op in the tensor API: `reverse_axis` concatenates width-1 slices in reverse
order. Kernels are small along the reversed (spatial) axes, so this costs one copy per axis.
]]
local M = {}

local function api() return require("weightkit.tensor").api end

M.same_shape = require("weightkit.naming").same_shape

-- numpy.transpose(t, axes) with 0-based axes.
function M.np_transpose(t, axes0)
  local axes = {}
  for i, a in ipairs(axes0) do axes[i] = a + 1 end
  return t:permute(axes)
end

-- t[::-1] along one 1-based axis (a copy).
function M.reverse_axis(t, axis)
  local n = t:shape()[axis]
  if n <= 1 then return t:clone() end
  local parts = {}
  for i = n, 1, -1 do parts[#parts + 1] = t:slice(axis, i, i) end
  return api().concat(parts, axis)
end

-- numpy.concatenate(list, axis=-1)
function M.concat_last(list)
  return api().concat(list, -1)
end

-- numpy.hsplit / numpy.hstack for 2-D arrays (column blocks).
function M.hsplit(t, n) return t:split(n, 2) end
function M.hstack(list) return api().concat(list, 2) end

-- np.hstack([fn(k) for k in np.hsplit(t, n)])
function M.map_blocks(t, n, fn)
  local blocks = M.hsplit(t, n)
  local out = {}
  for i, b in ipairs(blocks) do out[i] = fn(b) end
  return M.hstack(out)
end

--[[ cuDNN input-kernel block transform: `k.T.reshape(k.shape, order=F or C)` for a 2-D block k of
shape (a, b).
  order "F" (from cuDNN): k.T in Fortran order enumerates k's C-order data, and filling (a, b) in
    Fortran order puts flat[i + j*a] at [i, j]; that is k's data read as (b, a) in C order, transposed.
  order "C" (to cuDNN): k.T copied to C order, then read as (a, b).
The two are inverses of each other. ]]
function M.cudnn_input_block(k, from_cudnn)
  local s = k:shape()
  if from_cudnn then
    return k:clone():reshape({s[2], s[1]}):transpose()
  end
  return k:transpose():reshape({s[1], s[2]})
end

function M.transpose2(k) return k:transpose() end

-- np.sum(np.split(b, 2, axis=0), axis=0)
function M.sum_halves(b)
  local h = b:split(2, 1)
  return h[1] + h[2]
end

-- np.tile(0.5 * b, 2) for a 1-D b
function M.tile_half(b)
  local h = b * 0.5
  return api().concat({h, h:clone()}, 1)
end

-- A copy of values[i..j] (Python's values[i-1:j], clamped like Python slicing).
function M.sublist(list, i, j)
  local out = {}
  j = math.min(j or #list, #list)
  for k = math.max(i, 1), j do out[#out + 1] = list[k] end
  return out
end

function M.append(dst, src)
  for _, v in ipairs(src) do dst[#dst + 1] = v end
  return dst
end

return M
