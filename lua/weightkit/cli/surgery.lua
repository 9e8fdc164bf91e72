--[[
weightkit.cli.surgery — what `weightkit edit` and `weightkit remap` share: the OUT checks, the editor
on IN (weightkit.editor), the listing of its objects and the JSON pieces of their reports.

  surgery.output_format(out)        the format OUT's name asks for (editor/save.lua target_format)
  surgery.check_output(out, overwrite)   raises when OUT (a TF prefix: OUT.index) exists and not overwrite
  surgery.open(in_path) -> ed       the editor on IN (raises with the editor's message)
  surgery.listing(ed) -> { {object =, weight =, shape =, dtype =}, ... }  every weight, object order
  surgery.save(ed, out)             ed:save(out, {overwrite = true}) (the policy was checked before)
  surgery.weights_json(list)        a JSON array of {object, weight, shape, dtype}
  surgery.message(err)              an error value as a one-line message ("weightkit: " prefix off)
]]
local core = require "weightkit.core"
local json = require "weightkit.json"

local M = {}

function M.output_format(out)
  return require("weightkit.editor.save").target_format(out)
end

function M.check_output(out, overwrite)
  local check = M.output_format(out) == "tf-checkpoint" and out .. ".index" or out
  if not overwrite and core.path_kind(check) ~= nil then
    error(check .. " already exists (pass --overwrite to replace it)", 0)
  end
end

function M.open(in_path)
  return require("weightkit.editor").open(in_path)
end

function M.listing(ed)
  local list = {}
  for _, obj in ipairs(ed:objects()) do
    for _, w in ipairs(obj.weights) do
      list[#list + 1] = { object = obj.name, weight = w.name, shape = w.shape, dtype = w.dtype }
    end
  end
  return list
end

function M.save(ed, out)
  return ed:save(out, { overwrite = true })
end

function M.weights_json(list)
  local out = {}
  for i, w in ipairs(list) do
    out[i] = json.object{ { "object", w.object }, { "weight", w.weight }, { "shape", json.array(w.shape or {}) },
      { "dtype", w.dtype or json.null } }
  end
  return json.array(out)
end

function M.message(err)
  return (tostring(err):gsub("^weightkit: ", ""))
end

return M
