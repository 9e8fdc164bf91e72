--[[
weightkit.remap.transforms — value transforms a remap rule may attach (`transform = ...`).

A transform is a table {name, desc, combine = bool, shape = fn, apply = fn}:
  shape(s)   the output shape for an input shape s (for a combining transform: for a list of shapes),
             or nil, reason when the input does not fit; run before any tensor is read (dry runs read
             no tensor bytes at all);
  apply(t)   the output tensor (combining: from a list of tensors, in part order).
A pipeline (M.pipeline(spec)) is a list of steps from a spec that is a transform, a preset name
(string), a function f(tensor, info) -> tensor (custom; its output shape is only known once it ran), a
pipeline, or a list of these. At most one step combines; steps before it run on each part alone, steps after it on the
combined tensor. `M.shape(pipeline, shapes)` / `M.apply(pipeline, tensors)` run it.

AXES are 1-based, negative counting from the end (-1 = last), as everywhere in weightkit's Lua API.

  transpose([axes])        reverse the axes, or permute them: out axis k = input axis axes[k]
  permute(axes)            transpose with the axes required
  reshape(shape)           same element count; one dim may be -1 (inferred)
  slice(axis, start [, stop])   elements start..stop inclusive (1-based, negative from the end, stop
                                defaults to -1); out of range is an error, not a clamp
  split(axis, n, i)        part i of n equal parts along axis (the size must divide by n)
  concat([axis = -1])      COMBINES: the parts joined along axis
  stack([axis = 1])        COMBINES: the parts (all one shape) along a new axis (1..rank+1, negative:
                           -1 = a new last axis)
  sum([n])                 COMBINES: the parts (all one shape) added; n: the exact part count required
  bias_sum                 sum(2): two file entries summed (PyTorch b_ih + b_hh)
  gate_reorder(from, to [, axis = -1])   the axis holds #from equal gate blocks in `from` order; they
                           are put in `to` order ("rzn" or {"r", "z", "n"}: one letter or name per gate)
  flip([axes])             t[::-1] along each listed axis; no axes: every axis but the last two (Keras's
                           conv_utils.convert_kernel: a Theano convolution kernel <-> a TensorFlow
                           correlation kernel, rank 3..5)
  scale(k)                 times the number k (the dtype is kept for float tensors, NumPy's rules else)
  cast(dtype)              astype(dtype)

PRESETS (by name, or M.presets.<name>), PyTorch state dicts -> Keras:
  torch_linear     (out, in) -> (in, out): transpose of a 2-D weight (nn.Linear; also LSTM weight_ih /
                   weight_hh, whose gate order needs nothing, see below)
  torch_conv1d     (O, I, K) -> (K, I, O)
  torch_conv2d     OIHW -> HWIO: permute{3, 4, 2, 1}
  torch_conv3d     OIDHW -> DHWIO
  torch_lstm_bias  b_ih + b_hh (both (4u,)) -> Keras bias (4u,)
  torch_gru_gates  gate_reorder("rzn", "zrn"): PyTorch r, z, n -> Keras z, r, h on the last axis
  torch_gru_kernel transpose then torch_gru_gates: weight_ih (3u, in) -> kernel (in, 3u); the same for
                   weight_hh (3u, u) -> recurrent_kernel (u, 3u)
  theano_conv_kernel  flip(): a kernel trained with Theano's true convolution, for TensorFlow's
                   correlation (what Keras 2 applied to files whose backend says theano)
  torch_gru_bias   COMBINES: each of b_ih, b_hh (3u,) reordered, then stacked -> (2, 3u), the bias of a
                   Keras GRU with reset_after=True (row 1 input bias, row 2 recurrent bias)

GATE FACTS. Keras LSTM kernel/recurrent_kernel columns and bias are 4 blocks of `units` in the order
i, f, c, o (input, forget, cell candidate, output); PyTorch LSTM rows are i, f, g, o with g the cell
candidate, so the order is the same and only the transposes and the bias sum are needed. Keras GRU
blocks are z, r, h (update, reset, candidate); PyTorch GRU rows are r, z, n. Keras GRU bias is (3u,)
with reset_after=False and (2, 3u) with reset_after=True (the tf.keras 2 default); PyTorch's
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) is the reset_after=True cell, so a PyTorch GRU maps onto
reset_after=True exactly (onto reset_after=False only when b_hn is zero).
]]
local naming = require "weightkit.naming"
local shape_str, same_shape = naming.shape_str, naming.same_shape

local M = {}

local Transform = {}
Transform.__index = Transform
Transform.__name = "weightkit.remap.Transform"

function M.is_transform(v) return getmetatable(v) == Transform end

local function new(t) return setmetatable(t, Transform) end

function Transform:__tostring() return self.desc end

-- {===================================================================
-- Shape helpers
-- ====================================================================

-- 1-based positive axis for `axis` (1-based or negative) in a rank-`rank` shape, or nil.
local function norm_axis(axis, rank)
  if math.type(axis) ~= "integer" then return nil end
  local a = axis < 0 and axis + rank + 1 or axis
  if axis == 0 or a < 1 or a > rank then return nil end
  return a
end

local function copy(s)
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end


local function numel(s)
  local n = 1
  for i = 1, #s do n = n * s[i] end
  return n
end

local function axis_error(axis, s)
  return nil, string.format("axis %s is out of range for shape %s", tostring(axis), shape_str(s))
end

local function list_str(t)
  local parts = {}
  for i, v in ipairs(t) do parts[i] = tostring(v) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function check_int(v, what, fname)
  if math.type(v) ~= "integer" then
    error(string.format("weightkit.remap: %s: %s must be an integer, got %s", fname, what, tostring(v)), 3)
  end
end

-- }===================================================================

-- {===================================================================
-- Unary transforms
-- ====================================================================

local function check_perm(axes, rank)
  if #axes ~= rank then
    return nil, string.format("axes %s list %d axes for a tensor of rank %d", list_str(axes), #axes, rank)
  end
  local seen, out = {}, {}
  for k, a in ipairs(axes) do
    local p = norm_axis(a, rank)
    if not p or seen[p] then return nil, string.format("axes %s are not a permutation of %d axes", list_str(axes), rank) end
    seen[p], out[k] = true, p
  end
  return out
end

function M.transpose(axes)
  if axes ~= nil and type(axes) ~= "table" then
    error("weightkit.remap: transpose: axes must be a list of axes", 2)
  end
  local function perm_of(s)
    if axes == nil then
      local p = {}
      for k = 1, #s do p[k] = #s - k + 1 end
      return p
    end
    return check_perm(axes, #s)
  end
  return new{
    name = "transpose", desc = axes and ("transpose" .. list_str(axes)) or "transpose",
    shape = function(s)
      local p, err = perm_of(s)
      if not p then return nil, err end
      local out = {}
      for k, a in ipairs(p) do out[k] = s[a] end
      return out
    end,
    apply = function(t)
      local p = assert(perm_of(t:shape()))
      if #p < 2 then return t end
      return t:permute(p)
    end,
  }
end

function M.permute(axes)
  if type(axes) ~= "table" then error("weightkit.remap: permute: axes must be a list of axes", 2) end
  local t = M.transpose(axes)
  t.name, t.desc = "permute", "permute" .. list_str(axes)
  return t
end

function M.reshape(shape)
  if type(shape) ~= "table" then error("weightkit.remap: reshape: shape must be a list of dims", 2) end
  local infer = 0
  for _, d in ipairs(shape) do
    check_int(d, "dims", "reshape")
    if d == -1 then infer = infer + 1 elseif d < 0 then error("weightkit.remap: reshape: negative dim " .. d, 2) end
  end
  if infer > 1 then error("weightkit.remap: reshape: at most one dim may be -1", 2) end
  local function out_of(s)
    local n, known, out = numel(s), 1, copy(shape)
    for _, d in ipairs(shape) do if d ~= -1 then known = known * d end end
    for i, d in ipairs(out) do
      if d == -1 then
        if known == 0 or n % known ~= 0 then
          return nil, string.format("cannot reshape %s (%d elements) to %s", shape_str(s), n, shape_str(shape))
        end
        out[i] = n // known
      end
    end
    if numel(out) ~= n then
      return nil, string.format("cannot reshape %s (%d elements) to %s", shape_str(s), n, shape_str(shape))
    end
    return out
  end
  return new{
    name = "reshape", desc = "reshape" .. shape_str(shape),
    shape = out_of,
    apply = function(t) return t:reshape(assert(out_of(t:shape()))) end,
  }
end

local function slice_bounds(s, axis, start, stop)
  local a = norm_axis(axis, #s)
  if not a then return axis_error(axis, s) end
  local n = s[a]
  local i = start < 0 and start + n + 1 or start
  local j = stop < 0 and stop + n + 1 or stop
  if start == 0 or stop == 0 or i < 1 or i > n or j < i or j > n then
    return nil, string.format("slice %d..%d is out of range for axis %d of size %d", start, stop, axis, n)
  end
  return a, i, j
end

function M.slice(axis, start, stop)
  check_int(axis, "axis", "slice")
  check_int(start, "start", "slice")
  stop = stop or -1
  check_int(stop, "stop", "slice")
  return new{
    name = "slice", desc = string.format("slice(axis %d, %d..%d)", axis, start, stop),
    shape = function(s)
      local a, i, j = slice_bounds(s, axis, start, stop)
      if not a then return nil, i end
      local out = copy(s)
      out[a] = j - i + 1
      return out
    end,
    apply = function(t)
      local a, i, j = assert(slice_bounds(t:shape(), axis, start, stop))
      return t:slice(a, i, j)
    end,
  }
end

function M.split(axis, n, i)
  check_int(axis, "axis", "split")
  check_int(n, "n", "split")
  check_int(i, "i", "split")
  if n < 1 or i < 1 or i > n then
    error(string.format("weightkit.remap: split: part %d of %d does not exist", i, n), 2)
  end
  local function bounds(s)
    local a = norm_axis(axis, #s)
    if not a then return axis_error(axis, s) end
    if s[a] % n ~= 0 then
      return nil, string.format("axis %d of size %d does not split into %d equal parts", axis, s[a], n)
    end
    local w = s[a] // n
    return a, (i - 1) * w + 1, i * w
  end
  return new{
    name = "split", desc = string.format("split(axis %d, part %d of %d)", axis, i, n),
    shape = function(s)
      local a, first, last = bounds(s)
      if not a then return nil, first end
      local out = copy(s)
      out[a] = last - first + 1
      return out
    end,
    apply = function(t)
      local a, first, last = assert(bounds(t:shape()))
      return t:slice(a, first, last)
    end,
  }
end

local function gate_list(g, what)
  if type(g) == "string" then
    local out = {}
    for c in g:gmatch(".") do out[#out + 1] = c end
    return out
  end
  if type(g) ~= "table" or #g == 0 then
    error("weightkit.remap: gate_reorder: " .. what .. " must be a string of gate letters or a list of names", 3)
  end
  return g
end

function M.gate_reorder(from, to, axis)
  axis = axis or -1
  check_int(axis, "axis", "gate_reorder")
  local f, t = gate_list(from, "from"), gate_list(to, "to")
  local pos = {}
  for k, g in ipairs(f) do
    if pos[g] then error("weightkit.remap: gate_reorder: gate " .. tostring(g) .. " appears twice", 2) end
    pos[g] = k
  end
  if #t ~= #f then error("weightkit.remap: gate_reorder: from and to name different gates", 2) end
  local order = {}
  for k, g in ipairs(t) do
    if not pos[g] then error("weightkit.remap: gate_reorder: from and to name different gates", 2) end
    order[k] = pos[g]
  end
  local n = #f
  local function check(s)
    local a = norm_axis(axis, #s)
    if not a then return axis_error(axis, s) end
    if s[a] % n ~= 0 then
      return nil, string.format("axis %d of size %d does not hold %d equal gate blocks", axis, s[a], n)
    end
    return a
  end
  return new{
    name = "gate_reorder",
    desc = string.format("gate_reorder(%s -> %s, axis %d)", table.concat(f, ","), table.concat(t, ","), axis),
    shape = function(s)
      local a, err = check(s)
      if not a then return nil, err end
      return copy(s)
    end,
    apply = function(x)
      local a = assert(check(x:shape()))
      local blocks = x:split(n, a)
      local out = {}
      for k, src in ipairs(order) do out[k] = blocks[src] end
      return require("weightkit.core").concat(out, a)
    end,
  }
end

function M.flip(axes)
  if axes ~= nil and type(axes) ~= "table" then error("weightkit.remap: flip: axes must be a list of axes", 2) end
  local function resolve(s)
    if axes == nil then
      if #s < 3 or #s > 5 then
        return nil, string.format("flip() needs a convolution kernel of rank 3 to 5, got shape %s", shape_str(s))
      end
      local out = {}
      for a = 1, #s - 2 do out[a] = a end
      return out
    end
    local out = {}
    for k, a in ipairs(axes) do
      out[k] = norm_axis(a, #s)
      if not out[k] then return axis_error(a, s) end
    end
    return out
  end
  local reverse_axis = require("weightkit.loading.ops").reverse_axis
  return new{
    name = "flip", desc = "flip" .. (axes and list_str(axes) or "()"),
    shape = function(s)
      local ok, err = resolve(s)
      if not ok then return nil, err end
      return copy(s)
    end,
    apply = function(t)
      for _, a in ipairs((resolve(t:shape()))) do t = reverse_axis(t, a) end
      return t
    end,
  }
end

function M.scale(k)
  if type(k) ~= "number" then error("weightkit.remap: scale: k must be a number", 2) end
  return new{
    name = "scale", desc = "scale(" .. tostring(k) .. ")",
    shape = function(s) return copy(s) end,
    apply = function(t) return t * k end,
  }
end

function M.cast(dtype)
  local dtypes = require("weightkit.core").dtypes
  local known = false
  for _, d in ipairs(dtypes) do if d == dtype then known = true end end
  if not known then error("weightkit.remap: cast: unknown dtype " .. tostring(dtype), 2) end
  return new{
    name = "cast", desc = "cast(" .. dtype .. ")",
    shape = function(s) return copy(s) end,
    apply = function(t) return t:astype(dtype) end,
  }
end

-- }===================================================================

-- {===================================================================
-- Combining transforms (several file entries -> one model weight)
-- ====================================================================

local function same_shapes(shapes, what)
  for k = 2, #shapes do
    if not same_shape(shapes[k], shapes[1]) then
      return nil, string.format("%s needs parts of one shape, got %s and %s", what, shape_str(shapes[1]),
        shape_str(shapes[k]))
    end
  end
  return true
end

function M.concat(axis)
  axis = axis or -1
  check_int(axis, "axis", "concat")
  local function check(shapes)
    local r = #shapes[1]
    local a = norm_axis(axis, r)
    if not a then return axis_error(axis, shapes[1]) end
    local out = copy(shapes[1])
    for k = 2, #shapes do
      local s = shapes[k]
      local ok = #s == r
      for d = 1, r do if ok and d ~= a and s[d] ~= out[d] then ok = false end end
      if not ok then
        return nil, string.format("cannot concat %s and %s along axis %d", shape_str(shapes[1]), shape_str(s), axis)
      end
      out[a] = out[a] + s[a]
    end
    return out, a
  end
  return new{
    name = "concat", desc = string.format("concat(axis %d)", axis), combine = true,
    shape = check,
    apply = function(ts)
      local shapes = {}
      for k, t in ipairs(ts) do shapes[k] = t:shape() end
      local _, a = assert(check(shapes))
      return require("weightkit.core").concat(ts, a)
    end,
  }
end

function M.stack(axis)
  axis = axis or 1
  check_int(axis, "axis", "stack")
  local function check(shapes)
    local ok, err = same_shapes(shapes, "stack")
    if not ok then return nil, err end
    local a = norm_axis(axis, #shapes[1] + 1)
    if not a then return axis_error(axis, shapes[1]) end
    local out = copy(shapes[1])
    table.insert(out, a, #shapes)
    return out, a
  end
  return new{
    name = "stack", desc = string.format("stack(axis %d)", axis), combine = true,
    shape = check,
    apply = function(ts)
      local shapes = {}
      for k, t in ipairs(ts) do shapes[k] = t:shape() end
      local _, a = assert(check(shapes))
      local one = copy(shapes[1])
      table.insert(one, a, 1)
      local parts = {}
      for k, t in ipairs(ts) do parts[k] = t:reshape(one) end
      return require("weightkit.core").concat(parts, a)
    end,
  }
end

function M.sum(n)
  if n ~= nil then check_int(n, "n", "sum") end
  local name = n == 2 and "bias_sum" or "sum"
  return new{
    name = name, desc = name, combine = true,
    shape = function(shapes)
      if n and #shapes ~= n then
        return nil, string.format("%s needs %d file weights, got %d", name, n, #shapes)
      end
      local ok, err = same_shapes(shapes, name)
      if not ok then return nil, err end
      return copy(shapes[1])
    end,
    apply = function(ts)
      local acc = ts[1]
      for k = 2, #ts do acc = acc + ts[k] end
      return acc
    end,
  }
end

M.bias_sum = M.sum(2)

-- }===================================================================

-- {===================================================================
-- Presets and pipelines
-- ====================================================================

local torch_gru_gates = M.gate_reorder("rzn", "zrn", -1)

M.presets = {
  torch_linear = { M.transpose{ 2, 1 } },
  torch_conv1d = { M.permute{ 3, 2, 1 } },
  torch_conv2d = { M.permute{ 3, 4, 2, 1 } },
  torch_conv3d = { M.permute{ 3, 4, 5, 2, 1 } },
  torch_lstm_bias = { M.bias_sum },
  torch_gru_gates = { torch_gru_gates },
  torch_gru_kernel = { M.transpose{ 2, 1 }, torch_gru_gates },
  torch_gru_bias = { torch_gru_gates, M.stack(1) },
  theano_conv_kernel = { M.flip() },
}

-- A custom function step: its output shape is unknown until it ran.
local function custom(fn)
  return new{
    name = "function", desc = "function(" .. tostring(fn):gsub("^function: ", "") .. ")", custom = true,
    shape = function() return nil end,
    apply = fn,
  }
end

local Pipeline = {}
Pipeline.__name = "weightkit.remap.Pipeline"
Pipeline.__tostring = function(p) return p.desc end

local function flatten(spec, out)
  if M.is_transform(spec) then
    out[#out + 1] = spec
  elseif getmetatable(spec) == Pipeline then
    for _, t in ipairs(spec.steps) do out[#out + 1] = t end
  elseif type(spec) == "string" then
    local preset = M.presets[spec]
    if not preset then error("weightkit.remap: unknown transform preset '" .. spec .. "'", 0) end
    for _, t in ipairs(preset) do out[#out + 1] = t end
  elseif type(spec) == "function" then
    out[#out + 1] = custom(spec)
  elseif type(spec) == "table" then
    if #spec == 0 then error("weightkit.remap: a transform list is empty", 0) end
    for _, s in ipairs(spec) do flatten(s, out) end
  else
    error("weightkit.remap: a transform must be a transform, a preset name, a function or a list, got " ..
      type(spec), 0)
  end
  return out
end

--[[ The pipeline of a spec (nil: none). Fields: steps, combine (index of the combining step or nil),
desc (its steps' descs joined by " > "; equal descs mean the same pipeline). ]]
function M.pipeline(spec)
  if spec == nil then return nil end
  if getmetatable(spec) == Pipeline then return spec end
  local steps = flatten(spec, {})
  local p = setmetatable({ steps = steps }, Pipeline)
  local descs = {}
  for k, s in ipairs(steps) do
    descs[k] = s.desc
    if s.combine then
      if p.combine then error("weightkit.remap: a transform list may combine only once", 0) end
      p.combine = k
    end
  end
  p.desc = table.concat(descs, " > ")
  return p
end

--[[ Output shape of `pipeline` (nil: identity) for the part shapes (one per file entry). Returns shape, or
nil when a custom step makes it unknown; raises nothing: on a misfit returns false, step, reason. ]]
function M.shape(pipeline, shapes)
  if pipeline == nil then return shapes[1] end
  local cur = shapes
  for _, step in ipairs(pipeline.steps) do
    if step.custom then return nil end
    if step.combine then
      local out, err = step.shape(cur)
      if not out then return false, step, err end
      cur = { out }
    else
      local next_ = {}
      for i, s in ipairs(cur) do
        local out, err = step.shape(s)
        if not out then return false, step, err end
        next_[i] = out
      end
      cur = next_
    end
  end
  return cur[1]
end

-- Applies `pipeline` (nil: identity) to the part tensors; `info` is handed to custom steps.
function M.apply(pipeline, tensors, info)
  if pipeline == nil then return tensors[1] end
  local cur = tensors
  for _, step in ipairs(pipeline.steps) do
    if step.combine then
      cur = { step.apply(cur) }
    else
      local next_ = {}
      for i, t in ipairs(cur) do
        next_[i] = step.apply(t, info)
        if step.custom and not require("weightkit.core").is_tensor(next_[i]) then
          error(string.format("a transform function returned %s, not a tensor", type(next_[i])), 0)
        end
      end
      cur = next_
    end
  end
  return cur[1]
end

-- }===================================================================

return M
