--[[
weightkit.loading.conversions — `preprocess_weights_for_loading` (keras-formats.md §3.5), the step that
turns the values a file holds for one layer into the values the target layer expects.

  preprocess(layer, values, ctx) -> new list of tensors
    layer   the TARGET layer (dispatch is on layer.class_name, as Keras dispatches on
            layer.__class__.__name__: a subclass with another name is not converted)
    values  the file's tensors for that layer, in weight_names order; never modified (a by-name load
            feeds the same file values to every model layer of that name)
    ctx     { keras_version = "1" | "2.2.4" | ..., backend = "theano" | "tensorflow" | nil,
              note = function(path, kind, reason) }   -- path: "bidirectional/forward_lstm"

Order of application (Keras 2.0.9 – 2.3.1 and tf-keras):
  A. wrapper recursion: Bidirectional (first half of the values -> forward_layer, second half ->
     backward_layer), TimeDistributed (-> layer.layer), nested Model/Sequential/Functional (the tf-keras
     variant, below);
  B. Keras 1 layouts, only when the file has no keras_version (conversions/keras1.lua);
  C. conv kernel fix-ups: Theano flip, (3, 2, 0, 1) transpose (conversions/conv.lua);
  D. cuDNN <-> native LSTM/GRU (conversions/cudnn.lua).

Nested models (tf-keras `convert_nested_model`): the group holds all trainable weights of the nested model
then all its non-trainable ones. Each sublayer with weights takes its trainable count from the front of the
trainable part and its non-trainable count from the front of the rest; its converted values are put back in
the same two parts. Values no sublayer claims (the nested model's own weights) are kept, after the
sublayers' values of the same part. (tf-keras appends the model's own variable objects there, not file
values; Keras 2.2.4 consumes in a different order — both are known sources of "axes don't match array".)

Decisions where Keras versions differ or Keras misbehaves:
  * Keras 1 files: Keras also re-runs the conversion of a TimeDistributed's inner layer a second time; the
    Keras 1 conversions are not idempotent (Conv1D drops an axis, channels_first transposes), so that second
    pass can only corrupt values or crash. We convert the inner layer once.
  * Conversions that read values[1..k] are skipped when the file gives fewer values, so the count check that
    follows reports the mismatch (Keras would raise IndexError from inside the conversion).
  * Theano flip and the (3, 2, 0, 1) transpose: see conversions/conv.lua.
]]
local ops = require "weightkit.loading.ops"
local keras1 = require "weightkit.loading.conversions.keras1"
local conv = require "weightkit.loading.conversions.conv"
local cudnn = require "weightkit.loading.conversions.cudnn"

local M = {}

local NESTED_MODEL = { Model = true, Sequential = true, Functional = true }
M.NESTED_MODEL = NESTED_MODEL

local function child_ctx(ctx, layer)
  local c = setmetatable({}, { __index = ctx })
  c.path = (ctx.path and (ctx.path .. "/") or "") .. tostring(layer.name)
  return c
end

local function count(list) return list and #list or 0 end

local preprocess

local function bidirectional(layer, values, ctx)
  local half = #values // 2
  local fwd = preprocess(layer.forward_layer, ops.sublist(values, 1, half), child_ctx(ctx, layer.forward_layer))
  local bwd = preprocess(layer.backward_layer, ops.sublist(values, half + 1), child_ctx(ctx, layer.backward_layer))
  return ops.append(fwd, bwd)
end

local function nested_model(layer, values, ctx)
  local n_trainable = count(layer:trainable_weights())
  local trainable = ops.sublist(values, 1, n_trainable)
  local non_trainable = ops.sublist(values, n_trainable + 1)
  local new_t, new_nt = {}, {}
  for _, sub in ipairs(layer.layers or {}) do
    local nt = count(sub:trainable_weights())
    local nn = count(sub:non_trainable_weights())
    if nt + nn > 0 then
      local mine = ops.append(ops.sublist(trainable, 1, nt), ops.sublist(non_trainable, 1, nn))
      local out = preprocess(sub, mine, child_ctx(ctx, sub))
      ops.append(new_t, ops.sublist(out, 1, nt))
      ops.append(new_nt, ops.sublist(out, nt + 1))
      trainable = ops.sublist(trainable, nt + 1)
      non_trainable = ops.sublist(non_trainable, nn + 1)
    end
  end
  ops.append(new_t, trainable)
  ops.append(new_nt, non_trainable)
  return ops.append(new_t, new_nt)
end

function preprocess(layer, values, ctx)
  values = ops.sublist(values, 1)      -- our own list: the caller's stays as it was
  local cls = layer.class_name
  local path = ctx.path or tostring(layer.name)
  local function note(kind, reason)
    if ctx.note then ctx.note(path, kind, reason) end
  end

  if cls == "Bidirectional" then
    values = bidirectional(layer, values, ctx)
  end
  if cls == "TimeDistributed" then
    values = preprocess(layer.layer, values, child_ctx(ctx, layer.layer))
  elseif NESTED_MODEL[cls] then
    values = nested_model(layer, values, ctx)
  end

  if ctx.keras_version == "1" then
    values = keras1.convert(layer, values, note)
  end
  values = conv.convert(layer, values, ctx, note)
  values = cudnn.convert(layer, values, note)
  return values
end

-- Top-level entry: ctx.path is set to the layer's name for the notes.
function M.preprocess(layer, values, ctx)
  local c = setmetatable({ path = tostring(layer.name) }, { __index = ctx })
  return preprocess(layer, values, c)
end

return M
