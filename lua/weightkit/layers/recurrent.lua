--[[
weightkit.layers.recurrent — tf.keras 2.x recurrent layers (weights, shapes, configs; no forward pass).

Classes: SimpleRNNCell, LSTMCell, GRUCell, ConvLSTMCell (cells: layers that own the weights),
RNN (generic wrapper of one cell), SimpleRNN, LSTM, GRU, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D.

tf.keras 2.x facts this file reproduces (TF 2.4 - 2.15; checked against the keras sources and against
real files, see spec/recurrent_spec.lua):
- LSTM / GRU / SimpleRNN build a NEW cell in their constructor, without a name, so the cell is auto-named
  from the global counters ("lstm_cell", "lstm_cell_1", ...; prefixes are separate from the layer's), and
  pass trainable= and dtype= on to it. The cell is numbered at construction time, not at build time.
- RNN.build builds the cell inside name_scope(cell.name): weights "lstm/lstm_cell/kernel:0". The
  layer's own scope ("lstm") is pushed by whoever calls the layer (Layer.__call / graph.call_layer).
- ConvRNN.build (ConvLSTM1D/2D/3D) builds the cell WITHOUT a name scope: "conv_lst_m2d/kernel:0"
  (class ConvLSTM2D snake-cases to "conv_lst_m2d"; since tf.keras 2.6 the cell class is ConvLSTMCell,
  auto-named "conv_lstm_cell", ...; TF 2.4/2.5 used ConvLSTM2DCell, which only changes the unused cell
  name).
- Weight order in a cell: kernel, recurrent_kernel, bias (bias only with use_bias).
  SimpleRNN: (in, u), (u, u), (u,).  LSTM: (in, 4u), (u, 4u), (4u,), gates i, f, c, o.
  GRU: (in, 3u), (u, 3u), bias (2, 3u) with reset_after=True (the v2 default) or (3u,) without.
  ConvLSTM: kernel_size + (in_channels, 4f), kernel_size + (f, 4f), (4f,).
- unit_forget_bias (LSTM, ConvLSTM, default True): bias = concat(bias_init(u), ones(u), bias_init(2u)),
  drawn in that order.
- Defaults: kernel glorot_uniform, recurrent orthogonal, bias zeros; LSTM/GRU recurrent_activation
  "sigmoid", ConvLSTM "hard_sigmoid"; implementation 2 (1 when recurrent_dropout != 0).
- compute_output_shape: (batch, units), or (batch, time, units) with return_sequences ((time, batch, ...)
  when time_major); return_state appends one (batch, size) per state (LSTM 2, GRU and SimpleRNN 1).
- get_config key order follows tf.keras: name, trainable, [batch_input_shape], dtype, return_sequences,
  return_state, go_backwards, stateful, unroll, time_major, [zero_output_for_mask], then the layer's keys
  (as in the k260 SimpleRNN model_config written by tf.keras 2.6.0).
Not modelled: StackedRNNCells (a list of cells), constants, masking, forward computation, CuDNN classes.
]]
local Layer = require "weightkit.layer"
local U = require "weightkit.layers.utils"
local errors = require "weightkit.errors"
local naming = require "weightkit.naming"
local initializers = require "weightkit.initializers"
local activations = require "weightkit.activations"

local function T() return require("weightkit.tensor").api end

local shape_str = naming.shape_str
local serialize = Layer.serialize

local M = {}

--{=====================================================================================================
-- Helpers
--======================================================================================================

local is_shape_list, copy = U.is_shape_list, U.copy

-- The main input's shape when a layer gets [inputs, initial states...] or [inputs, constants...].
local function main_shape(input_shape)
  if is_shape_list(input_shape) then return input_shape[1] end
  return input_shape
end

local function check_units(cls_name, n, what)
  what = what or "units"
  if math.type(n) ~= "integer" or n <= 0 then
    errors.value_error(string.format("Received an invalid value for argument `%s`, expected a positive " ..
      "integer, got %s.", what, tostring(n)))
  end
  return cls_name
end

local function clamp01(x)
  x = x or 0.0
  return math.min(1.0, math.max(0.0, x))
end

-- tf.keras InputSpec(ndim=n) check, raised by Layer.__call__ before build (tf.keras >= 2.7 text).
local check_ndim = U.check_rank

-- Puts keys in order into an ordered config, serializing objects (initializers, activations, layers).
local function put_keys(cfg, obj, keys)
  for _, k in ipairs(keys) do Layer.config_put(cfg, k, serialize(obj[k])) end
  return cfg
end

-- LSTMCell / GRUCell: implementation 2 by default, 0 read as 1 (with a warning, as tf.keras does),
-- forced to 1 when recurrent_dropout is used.
local function normalize_implementation(impl, recurrent_dropout)
  if impl == nil then impl = 2 end
  if impl == 0 then
    errors.warn("`implementation=0` has been deprecated, and now defaults to `implementation=1`." ..
      "Please update your layer call.")
    impl = 1
  end
  if recurrent_dropout ~= 0 and impl ~= 1 then impl = 1 end
  return impl
end

-- What every cell's init does after its size checks: resolve the activations (recurrent_activation
-- only where the class has one) and the three initializers, clamp the dropout rates to [0, 1].
local function init_cell_settings(self)
  self.activation = activations.get(self.activation)
  if self.recurrent_activation ~= nil then
    self.recurrent_activation = activations.get(self.recurrent_activation)
  end
  self.kernel_initializer = initializers.get(self.kernel_initializer)
  self.recurrent_initializer = initializers.get(self.recurrent_initializer)
  self.bias_initializer = initializers.get(self.bias_initializer)
  self.dropout = clamp01(self.dropout)
  self.recurrent_dropout = clamp01(self.recurrent_dropout)
end

-- The weights of every cell, in tf.keras order: kernel, recurrent_kernel, then bias (only with
-- use_bias; `bias_init` defaults to the cell's bias_initializer). Each draws its initial value in turn.
local function add_cell_weights(self, kernel_shape, recurrent_shape, bias_shape, bias_init)
  self.kernel = self:add_weight{name = "kernel", shape = kernel_shape, initializer = self.kernel_initializer,
    regularizer = self.kernel_regularizer, constraint = self.kernel_constraint}
  self.recurrent_kernel = self:add_weight{name = "recurrent_kernel", shape = recurrent_shape,
    initializer = self.recurrent_initializer, regularizer = self.recurrent_regularizer,
    constraint = self.recurrent_constraint}
  if self.use_bias then
    self.bias = self:add_weight{name = "bias", shape = bias_shape,
      initializer = bias_init or self.bias_initializer, regularizer = self.bias_regularizer,
      constraint = self.bias_constraint}
  end
  self.built = true
end

-- bias = concat(bias_init(n), ones(n), bias_init(2n)): the forget gate starts at 1.
local function forget_bias_initializer(bias_init, n)
  return function(_shape, dtype)
    local wk = T()
    return wk.concat({bias_init({n}, dtype), wk.ones({n}, dtype), bias_init({2 * n}, dtype)}, 1)
  end
end

local function input_dim_of(self, input_shape)
  local s = main_shape(input_shape)
  local d = s[#s]
  if d == nil or d == false then
    errors.value_error(string.format("The last dimension of the inputs to `%s` should be defined. Found " ..
      "`None`. Full input shape received: %s", self.class_name, shape_str(s)))
  end
  return d
end

--{=====================================================================================================
-- Cells
--======================================================================================================

local CELL_REG = {
  {"kernel_regularizer"}, {"recurrent_regularizer"}, {"bias_regularizer"},
  {"kernel_constraint"}, {"recurrent_constraint"}, {"bias_constraint"},
  {"dropout", 0.0}, {"recurrent_dropout", 0.0},
}

local function params(list, tail)
  local r = {}
  for _, p in ipairs(list) do r[#r + 1] = p end
  for _, p in ipairs(tail or {}) do r[#r + 1] = p end
  return r
end

local SimpleRNNCell = Layer:extend("SimpleRNNCell", {
  params = params({
    {"units"}, {"activation", "tanh"}, {"use_bias", true},
    {"kernel_initializer", "glorot_uniform"}, {"recurrent_initializer", "orthogonal"},
    {"bias_initializer", "zeros"},
  }, CELL_REG),
  positional = {"units"},
})
M.SimpleRNNCell = SimpleRNNCell

function SimpleRNNCell:init(config)
  Layer.init(self, config)
  check_units(self.class_name, self.units)
  init_cell_settings(self)
  self.state_size = self.units
  self.output_size = self.units
end

function SimpleRNNCell:build(input_shape)
  local d = input_dim_of(self, input_shape)
  local u = self.units
  add_cell_weights(self, {d, u}, {u, u}, {u})
end

function SimpleRNNCell:compute_output_shape(input_shape)
  local s = main_shape(input_shape)
  return {s[1], self.units}
end

local LSTMCell = Layer:extend("LSTMCell", {
  params = params({
    {"units"}, {"activation", "tanh"}, {"recurrent_activation", "sigmoid"}, {"use_bias", true},
    {"kernel_initializer", "glorot_uniform"}, {"recurrent_initializer", "orthogonal"},
    {"bias_initializer", "zeros"}, {"unit_forget_bias", true},
  -- implementation is also a base key: declared here, the base constructor leaves it for init
  }, params(CELL_REG, {{"implementation"}})),
  positional = {"units"},
})
M.LSTMCell = LSTMCell

function LSTMCell:init(config)
  Layer.init(self, config)
  check_units(self.class_name, self.units)
  init_cell_settings(self)
  self.implementation = normalize_implementation(self.implementation, self.recurrent_dropout)
  self.state_size = {self.units, self.units}
  self.output_size = self.units
end

function LSTMCell:build(input_shape)
  local d = input_dim_of(self, input_shape)
  local u = self.units
  local bias_init = self.unit_forget_bias and forget_bias_initializer(self.bias_initializer, u) or nil
  add_cell_weights(self, {d, 4 * u}, {u, 4 * u}, {4 * u}, bias_init)
end

LSTMCell.compute_output_shape = SimpleRNNCell.compute_output_shape

local GRUCell = Layer:extend("GRUCell", {
  params = params({
    {"units"}, {"activation", "tanh"}, {"recurrent_activation", "sigmoid"}, {"use_bias", true},
    {"kernel_initializer", "glorot_uniform"}, {"recurrent_initializer", "orthogonal"},
    {"bias_initializer", "zeros"},
  }, params(CELL_REG, {{"implementation"}, {"reset_after", true}})),
  positional = {"units"},
})
M.GRUCell = GRUCell

function GRUCell:init(config)
  Layer.init(self, config)
  check_units(self.class_name, self.units)
  init_cell_settings(self)
  self.reset_after = self.reset_after and true or false
  self.implementation = normalize_implementation(self.implementation, self.recurrent_dropout)
  self.state_size = self.units
  self.output_size = self.units
end

function GRUCell:build(input_shape)
  local d = input_dim_of(self, input_shape)
  local u = self.units
  -- reset_after: separate input and recurrent biases, stacked as two rows.
  add_cell_weights(self, {d, 3 * u}, {u, 3 * u}, self.reset_after and {2, 3 * u} or {3 * u})
end

GRUCell.compute_output_shape = SimpleRNNCell.compute_output_shape

local CELL_KEYS = {
  SimpleRNNCell = {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"},
  LSTMCell = {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "implementation"},
  GRUCell = {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout", "implementation", "reset_after"},
}

for cname, keys in pairs(CELL_KEYS) do
  M[cname].get_config = function(self)
    return put_keys(self:base_config(), self, keys)
  end
end

--{=====================================================================================================
-- ConvLSTMCell (rank 1, 2 or 3)
--======================================================================================================

local function normalize_tuple(v, n, what)
  if type(v) == "number" then
    local r = {}
    for i = 1, n do r[i] = v end
    return r
  end
  if type(v) ~= "table" or #v ~= n then
    errors.value_error(string.format("The `%s` argument must be a tuple of %d integers. Received: %s",
      what, n, type(v) == "table" and shape_str(v) or tostring(v)))
  end
  return copy(v)
end

local function normalize_padding(p)
  p = string.lower(p or "valid")
  if p ~= "valid" and p ~= "same" and p ~= "causal" then
    errors.value_error("The `padding` argument must be a list/tuple or one of \"valid\", \"same\" (or " ..
      "\"causal\", only for `Conv1D). Received: " .. tostring(p))
  end
  return p
end

local function normalize_data_format(f)
  if f == nil or f == false then return "channels_last" end
  f = string.lower(f)
  if f ~= "channels_last" and f ~= "channels_first" then
    errors.value_error("The `data_format` argument must be one of \"channels_first\", \"channels_last\". " ..
      "Received: " .. tostring(f))
  end
  return f
end

local ConvLSTMCell = Layer:extend("ConvLSTMCell", {
  params = params({
    {"rank", 2}, {"filters"}, {"kernel_size"}, {"strides", 1}, {"padding", "valid"}, {"data_format"},
    {"dilation_rate", 1}, {"activation", "tanh"}, {"recurrent_activation", "hard_sigmoid"},
    {"use_bias", true}, {"kernel_initializer", "glorot_uniform"},
    {"recurrent_initializer", "orthogonal"}, {"bias_initializer", "zeros"}, {"unit_forget_bias", true},
  }, CELL_REG),
})
M.ConvLSTMCell = ConvLSTMCell

function ConvLSTMCell:init(config)
  Layer.init(self, config)
  if self.rank > 3 then
    errors.value_error(string.format("Rank %d convolutions are not currently implemented. Received: " ..
      "rank=%d", self.rank, self.rank))
  end
  check_units(self.class_name, self.filters, "filters")
  self.kernel_size = normalize_tuple(self.kernel_size, self.rank, "kernel_size")
  self.strides = normalize_tuple(self.strides, self.rank, "strides")
  self.dilation_rate = normalize_tuple(self.dilation_rate, self.rank, "dilation_rate")
  self.padding = normalize_padding(self.padding)
  self.data_format = normalize_data_format(self.data_format)
  init_cell_settings(self)
  self.state_size = {self.filters, self.filters}
end

function ConvLSTMCell:build(input_shape)
  local s = main_shape(input_shape)
  local ch = self.data_format == "channels_first" and s[2] or s[#s]
  if ch == nil or ch == false then
    errors.value_error("The channel dimension of the inputs (last axis) should be defined. Found None. " ..
      "Full input shape received: input_shape=" .. shape_str(s))
  end
  local f = self.filters
  local kshape = copy(self.kernel_size)
  kshape[#kshape + 1] = ch
  kshape[#kshape + 1] = 4 * f
  local rshape = copy(self.kernel_size)
  rshape[#rshape + 1] = f
  rshape[#rshape + 1] = 4 * f
  self.kernel_shape = kshape
  local bias_init = self.unit_forget_bias and forget_bias_initializer(self.bias_initializer, f) or nil
  add_cell_weights(self, kshape, rshape, {4 * f}, bias_init)
end

-- Spatial output dims for spatial input dims `dims`.
function ConvLSTMCell:output_dims(dims)
  local r = {}
  for i = 1, self.rank do
    r[i] = U.conv_output_length(dims[i], self.kernel_size[i], self.padding, self.strides[i],
      self.dilation_rate[i])
  end
  return r
end

local CONV_KEYS = {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
  "activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
  "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
  "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"}

function ConvLSTMCell:get_config()
  local cfg = put_keys(self:base_config(), self, CONV_KEYS)
  Layer.config_put(cfg, "rank", self.rank)
  return cfg
end

--{=====================================================================================================
-- RNN base: state shared by RNN, SimpleRNN, LSTM, GRU and the ConvLSTMs
--======================================================================================================

local RNN_COMMON = {
  {"return_sequences", false}, {"return_state", false}, {"go_backwards", false}, {"stateful", false},
  {"unroll", false}, {"time_major", false}, {"zero_output_for_mask", false},
}

local RNNBase = Layer:extend("RNN", {params = RNN_COMMON})

local function init_rnn_flags(self)
  for _, p in ipairs(RNN_COMMON) do self[p[1]] = self[p[1]] and true or false end
end

-- Attach the cell: tracked, so its weights are this layer's weights.
local function set_cell(self, cell)
  self.cell = cell
  self:track(cell)
end

-- SimpleRNN / LSTM / GRU / ConvLSTM*D: a NEW auto-named cell of class `cell_cls` from `cell_cfg` plus
-- the layer's `cell_params` taken from `config`. tf.keras exposes the cell's settings (as the cell
-- normalized them) as properties of the layer.
local function own_new_cell(self, config, cell_cls, cell_params, cell_cfg)
  cell_cfg.dtype, cell_cfg.trainable = self._dtype_config, self.trainable
  for _, p in ipairs(cell_params) do cell_cfg[p[1]] = config[p[1]] end
  local cell = cell_cls(cell_cfg)
  set_cell(self, cell)
  for _, p in ipairs(cell_params) do self[p[1]] = cell[p[1]] end
end

local STATEFUL_NEEDS_BATCH = "If a RNN is stateful, it needs to know its batch size. Specify the batch " ..
  "size of your input tensors: \n- If using a Sequential model, specify the batch size by passing a " ..
  "`batch_input_shape` argument to your first layer.\n- If using the functional API, specify the batch " ..
  "size by passing a `batch_shape` argument to your Input layer."

function RNNBase:build(input_shape)
  local s = main_shape(input_shape)
  if self.expected_ndim then check_ndim(self, s, self.expected_ndim) end
  if #s < 3 then check_ndim(self, s, 3) end
  local step
  if self.time_major then
    step = {s[2]}
  else
    step = {s[1]}
  end
  for i = 3, #s do step[#step + 1] = s[i] end
  if not self.cell.built then
    -- tf.keras: `with backend.name_scope(self.cell.name): self.cell.build(step_input_shape)`
    self.cell:maybe_build(step, {scope = self.cell.name})
  end
  local batch = s[1]
  if self.time_major then batch = s[2] end
  if self.stateful and not batch then errors.value_error(STATEFUL_NEEDS_BATCH) end
  self.built = true
end

local function state_sizes(cell)
  local ss = cell.state_size
  if type(ss) == "table" then return ss end
  return {ss}
end

function RNNBase:compute_output_shape(input_shape)
  local s = main_shape(input_shape)
  local batch, time = s[1], s[2]
  if self.time_major then batch, time = s[2], s[1] end
  if batch == nil then batch = false end
  if time == nil then time = false end
  local sizes = state_sizes(self.cell)
  local out_dim = self.cell.output_size or sizes[1]
  local out
  if self.return_sequences then
    if self.time_major then out = {time, batch, out_dim} else out = {batch, time, out_dim} end
  else
    out = {batch, out_dim}
  end
  if not self.return_state then return out end
  local r = {out}
  for _, d in ipairs(sizes) do r[#r + 1] = {batch, d} end
  return r
end

-- tf.keras RNN.get_config's part: flags first, then the subclass keys.
function RNNBase:rnn_config()
  local cfg = self:base_config()
  put_keys(cfg, self, {"return_sequences", "return_state", "go_backwards", "stateful", "unroll",
    "time_major"})
  if self.zero_output_for_mask then Layer.config_put(cfg, "zero_output_for_mask", true) end
  return cfg
end

--{=====================================================================================================
-- RNN (generic, one cell)
--======================================================================================================

local RNN = RNNBase:extend("RNN", {params = {{"cell"}}, positional = {"cell"}})
M.RNN = RNN

local CELL_CLASSES = {SimpleRNNCell = SimpleRNNCell, LSTMCell = LSTMCell, GRUCell = GRUCell,
  ConvLSTMCell = ConvLSTMCell}

local function deserialize_cell(c)
  if Layer.is_layer(c) then return c end
  if type(c) == "table" and c[1] ~= nil then
    errors.not_implemented("StackedRNNCells (a list of cells) is not supported by weightkit yet")
  end
  if type(c) == "table" and c.class_name then
    local cls = CELL_CLASSES[c.class_name]
    if not cls then errors.value_error("Unknown layer: " .. tostring(c.class_name)) end
    return cls:from_config(c.config or {})
  end
  errors.value_error("Argument `cell` should have a `call` method. The RNN was passed: cell=" .. tostring(c))
end

function RNN:init(config)
  Layer.init(self, config)
  init_rnn_flags(self)
  if self.cell == nil then
    errors.type_error("__init__() missing 1 required positional argument: 'cell'")
  end
  set_cell(self, deserialize_cell(self.cell))
end

function RNN:get_config()
  local cfg = self:rnn_config()
  Layer.config_put(cfg, "cell", serialize(self.cell))
  return cfg
end

--{=====================================================================================================
-- SimpleRNN, LSTM, GRU: a fresh auto-named cell built from the layer's arguments
--======================================================================================================

-- Defines an RNN subclass that owns a cell of class `cell_cls`. `cell_params` are forwarded to the cell,
-- `config_keys` is the tf.keras get_config order after the RNN flags.
local function rnn_layer(class_name, cell_cls, cell_params, config_keys)
  local all = {}
  for _, p in ipairs(cell_params) do all[#all + 1] = p end
  local cls = RNNBase:extend(class_name, {params = all, positional = {"units"}})
  cls.expected_ndim = 3

  function cls:init(config)
    Layer.init(self, config)
    init_rnn_flags(self)
    own_new_cell(self, config, cell_cls, cell_params, {})
  end

  function cls:get_config()
    local cfg = self:rnn_config()
    return put_keys(cfg, self, config_keys)
  end

  M[class_name] = cls
  return cls
end

local function cell_params_of(cell_cls)
  local r = {}
  for _, p in ipairs(cell_cls.params) do r[#r + 1] = p end
  return r
end

rnn_layer("SimpleRNN", SimpleRNNCell, cell_params_of(SimpleRNNCell),
  {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
   "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"})

rnn_layer("LSTM", LSTMCell, cell_params_of(LSTMCell),
  {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
   "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
   "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
   "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "implementation"})

rnn_layer("GRU", GRUCell, cell_params_of(GRUCell),
  {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
   "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
   "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
   "bias_constraint", "dropout", "recurrent_dropout", "implementation", "reset_after"})

--{=====================================================================================================
-- ConvLSTM1D / 2D / 3D
--======================================================================================================

local function conv_cell_params()
  local r = {}
  for _, p in ipairs(ConvLSTMCell.params) do
    if p[1] ~= "rank" then r[#r + 1] = p end
  end
  return r
end

local function conv_lstm(class_name, rank)
  local cell_params = conv_cell_params()
  local cls = RNNBase:extend(class_name, {params = cell_params, positional = {"filters", "kernel_size"}})
  cls.rank = rank
  cls.expected_ndim = rank + 3

  function cls:init(config)
    Layer.init(self, config)
    init_rnn_flags(self)
    if self.unroll then
      errors.type_error("Unrolling is not possible with convolutional RNNs. Received: unroll=True")
    end
    own_new_cell(self, config, ConvLSTMCell, cell_params, {rank = rank})
  end

  -- tf.keras ConvRNN.build: the cell is built directly, in the layer's scope (no cell scope).
  function cls:build(input_shape)
    local s = main_shape(input_shape)
    check_ndim(self, s, rank + 3)
    local step = {s[1]}
    for i = 3, #s do step[#step + 1] = s[i] end
    if not self.cell.built then self.cell:maybe_build(step) end
    if self.stateful and not s[1] then errors.value_error(STATEFUL_NEEDS_BATCH) end
    self.built = true
  end

  function cls:compute_output_shape(input_shape)
    local s = main_shape(input_shape)
    local cell = self.cell
    local batch, time = s[1], s[2]
    if batch == nil then batch = false end
    if time == nil then time = false end
    local dims = {}
    local first = cell.data_format == "channels_first"
    local from = first and 4 or 3
    for i = 1, rank do
      local d = s[from + i - 1]
      if d == nil then d = false end
      dims[i] = d
    end
    local out_dims = cell:output_dims(dims)
    local function frame(prefix)
      local r = copy(prefix)
      if first then
        r[#r + 1] = cell.filters
        for _, d in ipairs(out_dims) do r[#r + 1] = d end
      else
        for _, d in ipairs(out_dims) do r[#r + 1] = d end
        r[#r + 1] = cell.filters
      end
      return r
    end
    local out = self.return_sequences and frame({batch, time}) or frame({batch})
    if not self.return_state then return out end
    return {out, frame({batch}), frame({batch})}
  end

  function cls:get_config()
    local cfg = self:rnn_config()
    put_keys(cfg, self, {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
      "activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
      "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
      "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
      "bias_constraint", "dropout", "recurrent_dropout"})
    return cfg
  end

  M[class_name] = cls
  return cls
end

conv_lstm("ConvLSTM1D", 1)
conv_lstm("ConvLSTM2D", 2)
conv_lstm("ConvLSTM3D", 3)

return M
