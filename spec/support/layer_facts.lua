--[[
Helpers for the layer specs (layers_spec, recurrent_spec, wrappers_spec, attention_spec): they state
tf.keras weight facts as data tables and compare a built layer against them.

  build(layer, shape)     builds `layer` the way a call does: inside its own name scope (tf.keras
                          Layer.__call__), so weights are named "<layer name>/<weight>:0"; returns layer
  facts(layer)            {full name, shape, trainable?} for every weight, in layer:weights() order;
                          "trainable" means the weight is listed by layer:trainable_weights() (tf.keras
                          semantics of Layer.trainable_weights)
  assert_built_weights(layer, shape, want)
                          build(layer, shape), then: the layer is built, facts(layer) equals `want`, and
                          get_weights() returns one value per weight
]]
local backend = require "weightkit.backend"
-- busted gives specs luassert as `assert` in their own environment only; a required module asks for it.
local assert = require "luassert"

local M = {}

function M.build(layer, shape)
  backend.with_name_scope(layer.name, function() layer:maybe_build(shape) end)
  return layer
end

function M.facts(layer)
  local tw = {}
  for _, v in ipairs(layer:trainable_weights()) do tw[v] = true end
  local out = {}
  for i, v in ipairs(layer:weights()) do out[i] = {v.name, v:shape(), tw[v] == true} end
  return out
end

function M.assert_built_weights(layer, shape, want)
  M.build(layer, shape)
  assert.is_true(layer.built)
  assert.are.same(want, M.facts(layer))
  assert.are.equal(#want, #layer:get_weights())
  return layer
end

return M
