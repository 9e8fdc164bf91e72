--[[
Hand-built Lua models for the real Keras 3 fixtures of ../shared/fixtures/real (spec/keras3_*_spec.lua),
and where the fixtures are.

  K.real(name) -> path          K.expected(name) -> decoded expected/<name>.json
  K.k392() / K.k2150() / K.k3_dense_adam() -> a built model with the fixture's architecture

Architectures:
  k392_hybrid_conv1d_bilstm_bn.keras: its config.json (Keras 3.9.2): Sequential, input (None, 3, 2),
    Conv1D(64, 2, relu), Bidirectional(LSTM(64, return_sequences)), Dropout(0.3), BatchNormalization,
    LSTM(32), Dense(64, relu), Dense(3).
  k2150_windows_backslash_dense.keras: its config.json (tf.keras 2.15): Sequential, input (None, 28, 28),
    Flatten, Dense(128, relu), Dense(128, relu), Dense(10).
  k3_dense_adam.weights.h5: the manifest and the shapes: Dense(784 -> 10); no `layers/input_layer`
    group, so a Sequential (Keras 3 writes a Functional's InputLayer group).
]]
local wk = require "weightkit"
local json = require "weightkit.json"

local L = wk.layers
local K = {}

K.REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

function K.real(name) return K.REAL .. "/" .. name end

function K.expected(name)
  local f = assert(io.open(K.REAL .. "/expected/" .. name .. ".json", "rb"))
  local text = f:read("a")
  f:close()
  return json.decode(text, name)
end

function K.k392()
  return wk.Sequential{ L.Input{shape = {3, 2}}, L.Conv1D{64, 2, activation = "relu"},
    L.Bidirectional{L.LSTM{64, return_sequences = true}}, L.Dropout{0.3}, L.BatchNormalization{},
    L.LSTM{32}, L.Dense{64, activation = "relu"}, L.Dense{3} }
end

function K.k2150()
  return wk.Sequential{ L.Input{shape = {28, 28}}, L.Flatten{}, L.Dense{128, activation = "relu"},
    L.Dense{128, activation = "relu"}, L.Dense{10} }
end

function K.k3_dense_adam()
  return wk.Sequential{ L.Input{shape = {784}}, L.Dense{10} }
end

-- The fixture's variables as {["layers/dense"] = {{shape =, dtype =, sha256 =}, ...}} (parent path of
-- the vars group, backslashes as '/'), from expected/<name>.json.
function K.expected_groups(name)
  local e = K.expected(name)
  local w = e.weights_h5 and e.weights_h5.weights or e.weights
  local groups = {}
  for _, g in ipairs(w.groups) do
    local p = g:gsub("\\", "/")
    if p == "vars" then groups[""] = groups[""] or {}
    elseif p:sub(-5) == "/vars" then groups[p:sub(1, -6)] = groups[p:sub(1, -6)] or {} end
  end
  for _, v in ipairs(w.variables) do
    local p = v.path:gsub("\\", "/")
    local parent, key = p:match("^(.*)/vars/(%d+)$")
    if not parent then parent, key = "", p:match("^vars/(%d+)$") end
    groups[parent][tonumber(key) + 1] = v
  end
  return groups, w
end

return K
