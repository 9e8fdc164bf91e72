--[[
weightkit — the module table users `require`.

Mechanism lives in the C module `weightkit.core`; this file only gathers the Lua policy modules
under their Keras names. Requiring it sets no globals.
]]
local core = require "weightkit.core"
local tensor = require "weightkit.tensor"

local wk = {
  _NAME = "weightkit",
  _VERSION = core.version,
  None = false,                 -- an unknown dim in a shape, Keras's None
}

for name, fn in pairs(tensor.api) do wk[name] = fn end

wk.backend = require "weightkit.backend"
wk.initializers = require "weightkit.initializers"
wk.activations = require "weightkit.activations"
wk.layers = require "weightkit.layers"
wk.Model = require "weightkit.model"
wk.Sequential = require "weightkit.sequential"
-- Models from configs and files (lua/weightkit/models.lua): wk.models.from_config(json),
-- wk.load_model(path) for full-model .h5 and .keras; model:save(path) is a Model method.
wk.models = require "weightkit.models"
wk.models.Model, wk.models.Sequential = wk.Model, wk.Sequential
wk.load_model = wk.models.load_model
wk.model_from_json = wk.models.from_config
wk.Subclassed = wk.models.Subclassed             -- attribute-named children (TF checkpoints' subclassed models)

-- Remapping rules (lua/weightkit/remap.lua): model:load_weights(path, {remap = rules, dry_run = ...})
wk.remap = require "weightkit.remap"

-- Files without a model (lua/weightkit/file.lua): wk.open is io-style (file | nil, msg, code),
-- wk.load_file its raising twin. Model:load_weights opens paths with wk.open.
local file = require "weightkit.file"
wk.open = file.open
wk.load_file = file.load_file
-- File surgery without a model (lua/weightkit/editor.lua): KerasFileEditor's methods, every format.
wk.editor = require "weightkit.editor"
require("weightkit.loading").set_opener(file.open)

return wk
