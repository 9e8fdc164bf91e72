--[[
weightkit.layers.embedding — Embedding (tf.keras 2.x).

Weight: embeddings (input_dim, output_dim), "embedding/embeddings:0", initializer "uniform"
(RandomUniform(-0.05, 0.05)). As in tf.keras, an Embedding without input_shape gets
batch_input_shape (None, input_length) (input_length None by default), so a Sequential that starts
with it can be built at once. Output shape: input_shape + (output_dim,); with input_length set, the
known dims of input_length replace the input's. Forward: row gather (indices are 0-based, as in Keras).
]]
local Layer = require "weightkit.layer"
local initializers = require "weightkit.initializers"
local errors = require "weightkit.errors"
local U = require "weightkit.layers.utils"

local function T() return require("weightkit.tensor").api end

local M = {}

local Embedding = Layer:extend("Embedding", {
  positional = {"input_dim", "output_dim"},
  params = {
    {"input_dim"}, {"output_dim"}, {"embeddings_initializer", "uniform"}, {"embeddings_regularizer"},
    {"activity_regularizer"}, {"embeddings_constraint"}, {"mask_zero", false}, {"input_length"},
    {"sparse"},
  },
})
M.Embedding = Embedding

function Embedding:init(config)
  Layer.init(self, config)
  for _, k in ipairs({"input_dim", "output_dim"}) do
    local v = config[k]
    if type(v) ~= "number" or v <= 0 then
      errors.value_error(string.format("Both `input_dim` and `output_dim` should be positive, Received " ..
        "input_dim = %s and output_dim = %s", tostring(config.input_dim), tostring(config.output_dim)))
    end
    self[k] = math.tointeger(v) or v
  end
  if self.batch_input_shape == nil then
    local il = config.input_length
    local b = self.batch_size or false
    if type(il) == "table" then
      local s = {b}
      for _, d in ipairs(Layer.normalize_shape(il)) do s[#s + 1] = d end
      self.batch_input_shape = s
    else
      self.batch_input_shape = {b, type(il) == "number" and il or false}
    end
  end
  self.embeddings_initializer = initializers.get(config.embeddings_initializer)
end

function Embedding:get_config()
  local cfg = Layer.get_config(self)
  if cfg.sparse == nil then
    local order = getmetatable(cfg).__order
    for i = #order, 1, -1 do if order[i] == "sparse" then table.remove(order, i) end end
  end
  return cfg
end

function Embedding:build(_input_shape)
  self.embeddings = self:add_weight{name = "embeddings", shape = {self.input_dim, self.output_dim},
    initializer = self.embeddings_initializer, regularizer = self.embeddings_regularizer,
    constraint = self.embeddings_constraint, trainable = true}
  self.built = true
end

function Embedding:compute_output_shape(s)
  local il = self.input_length
  if il == nil or il == false then
    local out = U.copy(s)
    out[#out + 1] = self.output_dim
    return out
  end
  local lens = type(il) == "table" and Layer.normalize_shape(il) or {il}
  if #lens ~= #s - 1 then
    errors.value_error(string.format('"input_length" is %s, but received input has shape %s',
      U.shape_str(lens), U.shape_str(s)))
  end
  local out = {s[1]}
  for i, l in ipairs(lens) do
    local d = s[i + 1]
    if l and d and l ~= d then
      errors.value_error(string.format('"input_length" is %s, but received input has shape %s',
        U.shape_str(lens), U.shape_str(s)))
    end
    out[i + 1] = l or d
  end
  out[#out + 1] = self.output_dim
  return out
end

function Embedding:call(x)
  local wk = T()
  local shape = x:shape()
  local flat = x:reshape({-1})
  local n = flat:numel()
  local emb = self.embeddings.value
  local out = wk.zeros({n, self.output_dim}, emb:dtype())
  for i = 1, n do
    local idx = math.tointeger(flat:get(i)) or math.floor(flat:get(i))
    if idx < 0 or idx >= self.input_dim then
      errors.raise("InvalidArgumentError", string.format("indices[%d] = %d is not in [0, %d)", i - 1, idx,
        self.input_dim))
    end
    out[i] = emb[idx + 1]
  end
  shape[#shape + 1] = self.output_dim
  return out:reshape(shape)
end

return M
