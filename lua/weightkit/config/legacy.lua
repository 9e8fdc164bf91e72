--[[
weightkit.config.legacy — Keras 1 layer configs translated to Keras 2 (tf.keras 2.x) spellings.

  legacy.translate(class_name, config) -> class_name, config, notes
      config: a plain table (nulls already removed); returns a new table, the input is not changed.
      notes: a list of texts for what was dropped (the caller warns).
  legacy.is_keras1(class_name, config) -> true when the config uses Keras 1 spellings

Facts (Keras 2.0's legacy interfaces, `keras/legacy/interfaces.py`, which accepted Keras 1 keyword
arguments and converted them with a warning; as facts only):
  - renamed keywords per class (one table per class below), e.g. Dense output_dim -> units, init ->
    kernel_initializer, W_regularizer -> kernel_regularizer, bias -> use_bias;
  - value conversions: border_mode -> padding (same values), dim_ordering "tf" -> "channels_last",
    "th" -> "channels_first", "default" -> unset; Convolution2D (nb_row, nb_col) -> kernel_size;
    RNN consume_less "cpu" / "mem" / "gpu" -> implementation 0 / 1 / 2; LSTM forget_bias_init "one"
    -> unit_forget_bias = true (any other value: false); Keras 1 input_dim + input_length of RNNs and
    Conv1D -> input_shape (input_length, input_dim);
  - the base keyword input_dtype -> dtype;
  - Keras 1 class names: Convolution1D/2D/3D -> Conv1D/2D/3D, AtrousConvolution2D -> Conv2D with
    dilation_rate = atrous_rate, Deconvolution2D -> Conv2DTranspose (its output_shape is dropped),
    SeparableConvolution2D -> SeparableConv2D, Merge (layer form) -> Add / Multiply / Concatenate /
    Average / Maximum / Dot by its `mode`.
  - keys Keras 2 simply ignored (Dropout of Embedding, BatchNormalization mode 0, ...) are dropped
    with a note; a BatchNormalization mode other than 0 is refused by Keras 2 and here.
]]
local errors = require "weightkit.errors"

local M = {}

local DIM_ORDERING = {tf = "channels_last", th = "channels_first"}

local function dim_ordering(v)
  return DIM_ORDERING[v]        -- "default" and unknown -> nil (the backend default)
end

local function same(v) return v end

-- Shared keyword tables. Each entry: old key -> {new key, converter}.
local DENSE_LIKE = {
  init = {"kernel_initializer"}, W_regularizer = {"kernel_regularizer"}, b_regularizer = {"bias_regularizer"},
  W_constraint = {"kernel_constraint"}, b_constraint = {"bias_constraint"}, bias = {"use_bias"},
}

local CONV = {
  nb_filter = {"filters"}, border_mode = {"padding"}, dim_ordering = {"data_format", dim_ordering},
  subsample = {"strides"}, init = {"kernel_initializer"}, W_regularizer = {"kernel_regularizer"},
  b_regularizer = {"bias_regularizer"}, W_constraint = {"kernel_constraint"},
  b_constraint = {"bias_constraint"}, bias = {"use_bias"}, atrous_rate = {"dilation_rate"},
}

local POOL1D = {pool_length = {"pool_size"}, stride = {"strides"}, border_mode = {"padding"}}
local POOL2D = {border_mode = {"padding"}, dim_ordering = {"data_format", dim_ordering}}
local DATA_FORMAT = {dim_ordering = {"data_format", dim_ordering}}

local RNN = {
  output_dim = {"units"}, init = {"kernel_initializer"}, inner_init = {"recurrent_initializer"},
  inner_activation = {"recurrent_activation"}, W_regularizer = {"kernel_regularizer"},
  U_regularizer = {"recurrent_regularizer"}, b_regularizer = {"bias_regularizer"},
  W_constraint = {"kernel_constraint"}, U_constraint = {"recurrent_constraint"},
  b_constraint = {"bias_constraint"}, dropout_W = {"dropout"}, dropout_U = {"recurrent_dropout"},
  consume_less = {"implementation", function(v) return ({cpu = 0, mem = 1, gpu = 2})[v] end},
  forget_bias_init = {"unit_forget_bias", function(v) return v == "one" end},
}

local function merge(a, b)
  local r = {}
  for k, v in pairs(a) do r[k] = v end
  for k, v in pairs(b or {}) do r[k] = v end
  return r
end

-- Per class: keys = renames, drop = keys Keras 2 ignores, fix = function(cfg) after renaming,
-- class = the Keras 2 class name (when it changes), input_seq = input_length/input_dim -> input_shape.
local CLASSES = {
  Dense = {keys = merge(DENSE_LIKE, {output_dim = {"units"}})},
  Conv1D = {keys = merge(CONV, {filter_length = {"kernel_size"}, subsample_length = {"strides"}}),
    input_seq = true},
  Conv2D = {keys = CONV, fix = function(c)
    if c.nb_row ~= nil or c.nb_col ~= nil then c.kernel_size = {c.nb_row, c.nb_col} end
    c.nb_row, c.nb_col = nil, nil
  end},
  Conv3D = {keys = CONV, fix = function(c)
    if c.kernel_dim1 ~= nil then c.kernel_size = {c.kernel_dim1, c.kernel_dim2, c.kernel_dim3} end
    c.kernel_dim1, c.kernel_dim2, c.kernel_dim3 = nil, nil, nil
  end},
  Conv2DTranspose = {keys = CONV, drop = {output_shape = true}, fix = function(c)
    if c.nb_row ~= nil or c.nb_col ~= nil then c.kernel_size = {c.nb_row, c.nb_col} end
    c.nb_row, c.nb_col = nil, nil
  end},
  SeparableConv2D = {keys = merge(CONV, {depthwise_initializer = {"depthwise_initializer"}}), fix = function(c)
    if c.nb_row ~= nil or c.nb_col ~= nil then c.kernel_size = {c.nb_row, c.nb_col} end
    c.nb_row, c.nb_col = nil, nil
  end},
  MaxPooling1D = {keys = POOL1D}, AveragePooling1D = {keys = POOL1D},
  MaxPooling2D = {keys = POOL2D}, AveragePooling2D = {keys = POOL2D},
  MaxPooling3D = {keys = POOL2D}, AveragePooling3D = {keys = POOL2D},
  GlobalMaxPooling2D = {keys = DATA_FORMAT}, GlobalAveragePooling2D = {keys = DATA_FORMAT},
  GlobalMaxPooling3D = {keys = DATA_FORMAT}, GlobalAveragePooling3D = {keys = DATA_FORMAT},
  ZeroPadding2D = {keys = DATA_FORMAT}, ZeroPadding3D = {keys = DATA_FORMAT},
  UpSampling2D = {keys = DATA_FORMAT}, UpSampling3D = {keys = DATA_FORMAT},
  Cropping2D = {keys = DATA_FORMAT}, Cropping3D = {keys = DATA_FORMAT},
  UpSampling1D = {keys = {length = {"size"}}},
  ZeroPadding1D = {keys = {}},
  Dropout = {keys = {p = {"rate"}}},
  SpatialDropout1D = {keys = {p = {"rate"}}},
  SpatialDropout2D = {keys = merge({p = {"rate"}}, DATA_FORMAT)},
  SpatialDropout3D = {keys = merge({p = {"rate"}}, DATA_FORMAT)},
  GaussianDropout = {keys = {p = {"rate"}}},
  GaussianNoise = {keys = {sigma = {"stddev"}}},
  Embedding = {keys = {init = {"embeddings_initializer"}, W_regularizer = {"embeddings_regularizer"},
    W_constraint = {"embeddings_constraint"}}, drop = {dropout = true}},
  SimpleRNN = {keys = RNN, input_seq = true},
  GRU = {keys = RNN, input_seq = true},
  LSTM = {keys = RNN, input_seq = true},
  BatchNormalization = {keys = {beta_init = {"beta_initializer"}, gamma_init = {"gamma_initializer"}},
    drop = {mode = true}, fix = function(c, raw)
      if raw.mode ~= nil and raw.mode ~= 0 then
        errors.value_error("BatchNormalization mode " .. tostring(raw.mode) .. " (layer " ..
          tostring(raw.name) .. ") has no Keras 2 equivalent; only mode 0 can be translated")
      end
    end},
  PReLU = {keys = {init = {"alpha_initializer"}}},
  ELU = {keys = {}},
  LeakyReLU = {keys = {}},
  Activation = {keys = {}}, Flatten = {keys = {}}, Reshape = {keys = {}}, Permute = {keys = {}},
  RepeatVector = {keys = {}}, Masking = {keys = {}}, Lambda = {keys = {}},
  TimeDistributed = {keys = {}}, Bidirectional = {keys = {}},
  InputLayer = {keys = {input_dtype = {"dtype"}}},
}

-- Keras 1 class names -> Keras 2 ones.
local RENAMED = {
  Convolution1D = "Conv1D", Convolution2D = "Conv2D", Convolution3D = "Conv3D",
  AtrousConvolution1D = "Conv1D", AtrousConvolution2D = "Conv2D", Deconvolution2D = "Conv2DTranspose",
  SeparableConvolution2D = "SeparableConv2D",
}

local MERGE_MODES = {sum = "Add", mul = "Multiply", concat = "Concatenate", ave = "Average", max = "Maximum",
  dot = "Dot"}

-- Keys that only Keras 1 wrote (their presence marks a Keras 1 config).
local KERAS1_KEYS = {
  output_dim = true, nb_filter = true, border_mode = true, dim_ordering = true, init = true,
  W_regularizer = true, inner_init = true, consume_less = true, input_dtype = true, p = true,
  pool_length = true, subsample_length = true, filter_length = true, beta_init = true,
}

function M.is_keras1(class_name, config)
  if RENAMED[class_name] or class_name == "Merge" then return true end
  for k in pairs(config or {}) do
    if KERAS1_KEYS[k] then
      -- Embedding's output_dim and Merge-free Dropout's p are Keras 1 only when the class says so
      if not (k == "output_dim" and class_name == "Embedding") then return true end
    end
  end
  return false
end

local function translate_merge(c, notes)
  local mode = c.mode or "sum"
  local cls = MERGE_MODES[mode]
  if not cls then
    errors.value_error("Keras 1 Merge layer " .. tostring(c.name) .. " with mode '" .. tostring(mode) ..
      "' has no Keras 2 equivalent")
  end
  local out = {name = c.name, trainable = c.trainable, dtype = c.input_dtype}
  if cls == "Concatenate" then out.axis = c.concat_axis or -1 end
  if cls == "Dot" then out.axes = c.dot_axes or -1 end
  notes[#notes + 1] = "Keras 1 Merge(mode='" .. mode .. "') read as " .. cls
  return cls, out
end

function M.translate(class_name, config)
  local notes = {}
  if class_name == "Merge" then
    local cls, out = translate_merge(config, notes)
    return cls, out, notes
  end
  local cls = RENAMED[class_name] or class_name
  local spec = CLASSES[cls]
  local out = {}
  for k, v in pairs(config) do out[k] = v end
  if out.input_dtype ~= nil then
    if out.dtype == nil then out.dtype = out.input_dtype end
    out.input_dtype = nil
  end
  if class_name == "Deconvolution2D" then out.output_shape = nil end
  if spec == nil then return cls, out, notes end
  for old, rule in pairs(spec.keys) do
    if out[old] ~= nil then
      local v = out[old]
      out[old] = nil
      local conv = rule[2] or same
      local nv = conv(v)
      if nv ~= nil and out[rule[1]] == nil then out[rule[1]] = nv end
    end
  end
  for k in pairs(spec.drop or {}) do
    if out[k] ~= nil then
      out[k] = nil
      notes[#notes + 1] = "Keras 1 key '" .. k .. "' of " .. class_name .. " dropped (Keras 2 ignores it)"
    end
  end
  if spec.input_seq and out.batch_input_shape == nil and out.input_shape == nil
      and (out.input_length ~= nil or out.input_dim ~= nil) and cls ~= "Embedding" then
    out.input_shape = {out.input_length or false, out.input_dim or false}
    out.input_length, out.input_dim = nil, nil
  end
  if spec.fix then spec.fix(out, config) end
  return cls, out, notes
end

return M
