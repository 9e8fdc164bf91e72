--[[
weightkit.layers.attention — tf.keras 2.x MultiHeadAttention (weights, shapes, config; no forward pass).

tf.keras 2.x facts reproduced here (TF 2.4 - 2.15; see spec/attention_spec.lua):
- The layer is called on query, value[, key] (key defaults to value). In weightkit a call gets the list
  [query, value] or [query, value, key]; `mha(q, v)` / `mha(q, v, k)` is packed into that list.
- On the first call (_build_from_signature) it creates, in this order: EinsumDense "query", "key",
  "value" (explicit names: no counter is touched), then a Softmax and a Dropout (auto-named: they take
  the next "softmax" and "dropout" names), then EinsumDense "attention_output". The EinsumDenses are built
  inside the MHA's call, i.e. inside its name scope: "multi_head_attention/query/kernel:0".
- Projection equations (_build_proj_equation, letters a, b, c, ...): free dims of the input, then bound
  dims, then output dims; the kernel spans bound + output dims and the bias the output dims. query/key/
  value: bound 1 (the last input axis), output (num_heads, key_dim | value_dim); attention_output: bound 2
  (num_heads, value_dim), output = output_shape or (query last dim,). So for query (B, T, dim):
  query kernel (dim, heads, key_dim), bias (heads, key_dim); attention_output kernel (heads, value_dim,
  *out), bias (*out).
- Weights in tf.keras order: query kernel, bias, key kernel, bias, value kernel, bias, attention_output
  kernel, bias (kernels only with use_bias=False). Each sublayer gets a fresh copy of the kernel and bias
  initializers (glorot_uniform / zeros by default).
- value_dim defaults to key_dim. Output shape: query shape with its last dim replaced by output_shape
  (an int or a tuple) when given. attention_axes becomes (1, ..., rank - 2) at build when not given.
- get_config: name, trainable, dtype, num_heads, key_dim, value_dim, dropout, use_bias, output_shape,
  attention_axes, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
  activity_regularizer, kernel_constraint, bias_constraint (tf.keras >= 2.13 adds query_shape, key_shape,
  value_shape: accepted here, not written).
]]
local Layer = require "weightkit.layer"
local U = require "weightkit.layers.utils"
local backend = require "weightkit.backend"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local initializers = require "weightkit.initializers"
local activations = require "weightkit.activations"

local shape_str = naming.shape_str
local serialize = Layer.serialize

local M = {}

local LETTERS = "abcdefghijklmnopqrstuvwxyz"

local function letter(i) return LETTERS:sub(i, i) end

local is_shape_list, copy = U.is_shape_list, U.copy

-- tf.keras _build_proj_equation: returns equation, bias_axes, output rank.
local function proj_equation(free_dims, bound_dims, output_dims)
  local input, kernel, output, bias = {}, {}, {}, {}
  local n = 0
  for _ = 1, free_dims do
    n = n + 1
    input[#input + 1] = letter(n)
    output[#output + 1] = letter(n)
  end
  for _ = 1, bound_dims do
    n = n + 1
    input[#input + 1] = letter(n)
    kernel[#kernel + 1] = letter(n)
  end
  for _ = 1, output_dims do
    n = n + 1
    kernel[#kernel + 1] = letter(n)
    output[#output + 1] = letter(n)
    bias[#bias + 1] = letter(n)
  end
  local eq = table.concat(input) .. "," .. table.concat(kernel) .. "->" .. table.concat(output)
  return eq, table.concat(bias), #output
end

-- tf.keras _get_output_shape: (None,) * (rank - #known) + known.
local function padded_output_shape(rank, known)
  local r = {}
  for _ = 1, rank - #known do r[#r + 1] = false end
  for _, d in ipairs(known) do r[#r + 1] = d end
  return r
end

-- A fresh initializer with the same config (tf.keras clones them per sublayer).
local function clone_initializer(init)
  if type(init) == "table" and init.is_initializer then
    return initializers.get({class_name = init.class_name, config = init:get_config()})
  end
  return init
end

--{=====================================================================================================
-- EinsumDense (the projections; only the equation forms MultiHeadAttention uses: no ellipsis)
--======================================================================================================

local EinsumDense = Layer:extend("EinsumDense", {
  params = {
    {"equation"}, {"output_shape"}, {"activation"}, {"bias_axes"},
    {"kernel_initializer", "glorot_uniform"}, {"bias_initializer", "zeros"},
    {"kernel_regularizer"}, {"bias_regularizer"}, {"kernel_constraint"}, {"bias_constraint"},
  },
  positional = {"equation", "output_shape"},
})


function EinsumDense:init(config)
  Layer.init(self, config)
  if type(self.output_shape) == "number" then self.output_shape = {self.output_shape} end
  self.activation = activations.get(self.activation)
  self.kernel_initializer = initializers.get(self.kernel_initializer)
  self.bias_initializer = initializers.get(self.bias_initializer)
  local i, k, o = tostring(self.equation):match("^(%a+),(%a+)%->(%a+)$")
  if not i then
    errors.value_error("Invalid einsum equation '" .. tostring(self.equation) .. "'. Equations must be " ..
      "in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
  end
  self._spec = {input = i, kernel = k, output = o}
end

-- Full output shape (batch first) and the kernel / bias shapes for `input_shape`.
function EinsumDense:analyze(input_shape)
  local spec = self._spec
  if #input_shape ~= #spec.input then
    errors.value_error(string.format("Input shape %s does not match the equation '%s'",
      shape_str(input_shape), self.equation))
  end
  local out = {input_shape[1]}
  for _, d in ipairs(self.output_shape or {}) do out[#out + 1] = d end
  local in_idx, out_idx = {}, {}
  for j = 1, #spec.input do in_idx[spec.input:sub(j, j)] = j end
  for j = 1, #spec.output do out_idx[spec.output:sub(j, j)] = j end
  -- output dims that come from the input (free dims) take the input's size
  local full = {}
  for j = 1, #spec.output do
    local c = spec.output:sub(j, j)
    local d = out[j]
    if in_idx[c] then d = input_shape[in_idx[c]] end
    if d == nil then d = false end
    full[j] = d
  end
  local kshape = {}
  for j = 1, #spec.kernel do
    local c = spec.kernel:sub(j, j)
    if in_idx[c] then
      kshape[j] = input_shape[in_idx[c]]
    elseif out_idx[c] then
      kshape[j] = full[out_idx[c]]
    else
      errors.value_error(string.format("Weight dimension '%s' did not have a match in either the input " ..
        "spec '%s' or the output spec '%s'.", c, spec.input, spec.output))
    end
  end
  local bshape = nil
  if self.bias_axes and self.bias_axes ~= "" then
    local first = #spec.output + 1
    for j = 1, #self.bias_axes do
      local pos = out_idx[self.bias_axes:sub(j, j)]
      if pos and pos < first then first = pos end
    end
    bshape = {}
    for j = first, #spec.output do
      local c = spec.output:sub(j, j)
      bshape[#bshape + 1] = self.bias_axes:find(c, 1, true) and full[j] or 1
    end
  end
  return full, kshape, bshape
end

function EinsumDense:build(input_shape)
  local _, kshape, bshape = self:analyze(input_shape)
  self.kernel = self:add_weight{name = "kernel", shape = kshape, initializer = self.kernel_initializer,
    regularizer = self.kernel_regularizer, constraint = self.kernel_constraint}
  if bshape then
    self.bias = self:add_weight{name = "bias", shape = bshape, initializer = self.bias_initializer,
      regularizer = self.bias_regularizer, constraint = self.bias_constraint}
  end
  self.built = true
end

function EinsumDense:compute_output_shape(input_shape)
  local full = self:analyze(input_shape)
  return full
end

--{=====================================================================================================
-- MultiHeadAttention
--======================================================================================================

local MultiHeadAttention = Layer:extend("MultiHeadAttention", {
  params = {
    {"num_heads"}, {"key_dim"}, {"value_dim"}, {"dropout", 0.0}, {"use_bias", true}, {"output_shape"},
    {"attention_axes"}, {"kernel_initializer", "glorot_uniform"}, {"bias_initializer", "zeros"},
    {"kernel_regularizer"}, {"bias_regularizer"}, {"kernel_constraint"}, {"bias_constraint"},
    {"query_shape"}, {"key_shape"}, {"value_shape"},
  },
  positional = {"num_heads", "key_dim"},
})
M.MultiHeadAttention = MultiHeadAttention

local function positive_int(name, v)
  if math.type(v) ~= "integer" or v <= 0 then
    errors.value_error(string.format("Received an invalid value for argument `%s`, expected a positive " ..
      "integer, got %s.", name, tostring(v)))
  end
end

function MultiHeadAttention:init(config)
  Layer.init(self, config)
  if self.num_heads == nil then
    errors.type_error("__init__() missing 2 required positional arguments: 'num_heads' and 'key_dim'")
  end
  if self.key_dim == nil then
    errors.type_error("__init__() missing 1 required positional argument: 'key_dim'")
  end
  positive_int("num_heads", self.num_heads)
  positive_int("key_dim", self.key_dim)
  if not self.value_dim or self.value_dim == 0 then self.value_dim = self.key_dim end
  if type(self.attention_axes) == "number" then self.attention_axes = {self.attention_axes} end
  self.kernel_initializer = initializers.get(self.kernel_initializer)
  self.bias_initializer = initializers.get(self.bias_initializer)
  self.use_bias = self.use_bias and true or false
end

-- mha(query, value[, key]) -> called on the list [query, value(, key)].
function MultiHeadAttention.__call(self, query, value, key, ...)
  if value ~= nil and (type(value) ~= "table" or getmetatable(value) ~= nil) then
    local inputs = {query, value}
    if key ~= nil then inputs[3] = key end
    return Layer.__call(self, inputs, ...)
  end
  return Layer.__call(self, query, value, key, ...)
end

-- query, value, key shapes from what a call hands to build / compute_output_shape.
local function split_shapes(input_shape)
  if not is_shape_list(input_shape) or #input_shape < 2 or #input_shape > 3 then
    errors.type_error("call() missing 1 required positional argument: 'value' (MultiHeadAttention is " ..
      "called on [query, value] or [query, value, key])")
  end
  local q, v = input_shape[1], input_shape[2]
  local k = input_shape[3] or v
  return q, v, k
end

local function check_value_key(v, k)
  local ok = #v == #k
  if ok then
    for i = 2, #v - 1 do
      if v[i] and k[i] and v[i] ~= k[i] then ok = false end
    end
  end
  if not ok then
    errors.value_error(string.format("All dimensions of `value` and `key`, except the last one, must be " ..
      "equal. Received %s and %s", shape_str(v), shape_str(k)))
  end
end

local function output_dims(self, q)
  local out = self.output_shape
  if out == nil or out == false then return {q[#q]} end
  if type(out) == "number" then return {out} end
  return copy(out)
end

function MultiHeadAttention:sublayer(name, free_dims, bound_dims, known_out)
  local eq, bias_axes, rank = proj_equation(free_dims, bound_dims, #known_out)
  return self:track(EinsumDense{
    equation = eq,
    output_shape = padded_output_shape(rank - 1, known_out),
    bias_axes = self.use_bias and bias_axes or nil,
    name = name,
    kernel_initializer = clone_initializer(self.kernel_initializer),
    bias_initializer = clone_initializer(self.bias_initializer),
    kernel_regularizer = self.kernel_regularizer, bias_regularizer = self.bias_regularizer,
    kernel_constraint = self.kernel_constraint, bias_constraint = self.bias_constraint,
    dtype = self._dtype_config,
  })
end

function MultiHeadAttention:build(input_shape)
  local q, v, k = split_shapes(input_shape)
  check_value_key(v, k)
  for _, s in ipairs{q, v, k} do
    if s[#s] == nil or s[#s] == false then
      errors.value_error("The last dimension of the inputs to `MultiHeadAttention` should be defined. " ..
        "Found `None`. Full input shape received: " .. shape_str(s))
    end
  end
  local H, Kd, Vd = self.num_heads, self.key_dim, self.value_dim
  self._query_shape, self._value_shape, self._key_shape = copy(q), copy(v), copy(k)
  -- _build_from_signature: creation order query, key, value, softmax, dropout, attention_output
  self.query_dense = self:sublayer("query", #q - 1, 1, {H, Kd})
  self.key_dense = self:sublayer("key", #k - 1, 1, {H, Kd})
  self.value_dense = self:sublayer("value", #v - 1, 1, {H, Vd})
  local rank = #q + 1 -- rank of the projected query (B, T..., heads, key_dim)
  if self.attention_axes == nil or self.attention_axes == false then
    local axes = {}
    for a = 1, rank - 3 do axes[#axes + 1] = a end
    self.attention_axes = axes
  end
  -- the internal Softmax and Dropout layers are auto-named: they take these names
  self._softmax_name = backend.unique_name("softmax")
  self._dropout_name = backend.unique_name("dropout")
  self.output_dense = self:sublayer("attention_output", #q - 1, 2, output_dims(self, q))

  -- call(): the projections run (and build) in this order, each in its own scope
  self.query_dense:maybe_build(q, {scope = "query"})
  self.key_dense:maybe_build(k, {scope = "key"})
  self.value_dense:maybe_build(v, {scope = "value"})
  local attn = {}
  for i = 1, #q - 1 do attn[i] = q[i] end
  attn[#attn + 1] = H
  attn[#attn + 1] = Vd
  self.output_dense:maybe_build(attn, {scope = "attention_output"})
  self.built = true
end

function MultiHeadAttention:compute_output_shape(input_shape)
  local q, v, k
  if is_shape_list(input_shape) then
    q, v, k = split_shapes(input_shape)
    check_value_key(v, k)
  else
    q = input_shape
  end
  local r = {}
  for i = 1, #q - 1 do r[i] = q[i] end
  if self.output_shape == nil or self.output_shape == false then
    r[#r + 1] = q[#q]
  else
    for _, d in ipairs(output_dims(self, q)) do r[#r + 1] = d end
  end
  return r
end

function MultiHeadAttention:get_config()
  local cfg = self:base_config()
  for _, key in ipairs{"num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
      "attention_axes", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
      "activity_regularizer", "kernel_constraint", "bias_constraint"} do
    Layer.config_put(cfg, key, serialize(self[key]))
  end
  return cfg
end

return M
