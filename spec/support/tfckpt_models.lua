--[[
Spec support for TF checkpoints: the Lua models of the real TF fixtures (architectures from
../shared/fixtures/real/MANIFEST.md and the files' object graphs), the fixtures' expected facts, and
the independent readers (../shared/tools/expected_facts.py, spec/support/tfckpt_graph.py).
]]
local wk = require "weightkit"
local json = require "weightkit.json"
local shell = require "support.shell"

local M = {}

M.PY = "/usr/bin/python3"
M.REAL = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"
M.TF20 = M.REAL .. "/tfckpt_tf20_tutorial_cp0000/cp-0000.ckpt"
M.TTT_DIR = M.REAL .. "/tfckpt_ttt_subclassed"
M.TTT = M.TTT_DIR .. "/my_checkpoint"
M.ACTOR_DIR = M.REAL .. "/savedmodel_tcp_actor"

-- TF 2.0 tutorial: Dense(512, relu, input 784), Dropout(0.2), Dense(10, softmax).
function M.tf20_model()
  local L = wk.layers
  return wk.Sequential{ L.Dense{512, activation = "relu", input_shape = {784}}, L.Dropout{0.2},
    L.Dense{10, activation = "softmax"} }
end

-- The tic-tac-toe actor-critic (subclassed): common = Dense(128) on 9 inputs, actor Dense(9), critic Dense(1).
function M.ttt_model()
  local L = wk.layers
  local m = wk.models.Subclassed{ class_name = "ActorCritic", children = {
    {"common", L.Dense{128, activation = "relu"}}, {"actor", L.Dense{9}}, {"critic", L.Dense{1}} },
    call = function(self, x)
      local h = self.common(x)
      return { self.actor(h), self.critic(h) }
    end }
  m:build({false, 9})
  return m
end

-- Keras 2.11 ActorNetwork: fc1 Dense(12), fc2 Dense(12), flatten, fc3 Dense(3) on 12 inputs.
function M.actor_model(only)
  local L = wk.layers
  local children = {}
  for _, c in ipairs{ {"fc1", L.Dense{12}}, {"fc2", L.Dense{12}}, {"flatten", L.Flatten{}}, {"fc3", L.Dense{3}} } do
    if only == nil or only[c[1]] then children[#children + 1] = c end
  end
  local m = wk.models.Subclassed{ class_name = "ActorNetwork", children = children }
  m:build({false, 12})
  return m
end

-- expected/<name>.json: key -> entry of its (first) checkpoint, and the whole document.
function M.expected(name)
  local f = assert(io.open(M.REAL .. "/expected/" .. name .. ".json", "rb"))
  local doc = json.decode(f:read("a"))
  f:close()
  local by_key = {}
  for _, e in ipairs(doc.checkpoints[1].entries) do by_key[e.key] = e end
  return by_key, doc
end

-- The VARIABLE_VALUE keys of a key -> entry map, sorted.
function M.value_keys(by_key)
  local keys = {}
  for k in pairs(by_key) do
    if k:match("/%.ATTRIBUTES/VARIABLE_VALUE$") then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

function M.facts_of(index_path)
  local text, ok = shell.sh(M.PY .. " ../shared/tools/expected_facts.py '" .. index_path .. "' 2>&1")
  assert(ok, "expected_facts.py failed: " .. text)
  local doc = json.decode(text)
  local by_key = {}
  for _, e in ipairs(doc.checkpoints[1].entries) do by_key[e.key] = e end
  return by_key, doc
end

function M.graph_of(prefix)
  local text, ok = shell.sh(M.PY .. " spec/support/tfckpt_graph.py '" .. prefix .. "' 2>&1")
  assert(ok, "tfckpt_graph.py failed: " .. text)
  return json.decode(text)
end

function M.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return M
