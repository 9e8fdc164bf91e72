--[[
weightkit.tfckpt.graph — the tf.keras (TF 2.x) object graph of a Lua model: which checkpoint key holds
which variable in a TensorFlow checkpoint (keras-formats.md §5.5).

  graph.children(obj) -> { {local_name, child}, ... }   the tracked dependencies of one object, in
                         tf.keras's tracking order (child: a layer, a Variable or a list node)
  graph.lookup(obj, local_name) -> child | nil           tf's `_lookup_dependency`
  graph.build(model) -> { nodes = {...}, entries = {...}, objects = {...}, keys = {...} }
      nodes:   TrackableObjectGraph nodes, node id n at Lua index n + 1, in the shape of
               file:object_graph() and of core.save_tf_checkpoint's `graph`:
               { children = {{node_id =, local_name =}}, attributes = {{name = "VARIABLE_VALUE",
                 full_name = "dense/kernel", checkpoint_key = "...", optional_restore = false}},
                 slot_variables = {} }
      entries: { {key = "<path>/.ATTRIBUTES/VARIABLE_VALUE", tensor = <the variable's value>}, ... }
      objects: node id + 1 -> the live object; keys: Variable -> its checkpoint key
  graph.escape(name)                 `.` -> `..`, `/` -> `.S` (trackable_utils)
  graph.key(components)              "<escaped path>/.ATTRIBUTES/VARIABLE_VALUE"
  graph.is_list(v), graph.is_variable(v)

CHILDREN (tf.keras `_trackable_children(save_type="checkpoint")`; these facts decide the keys):
  - Functional and Sequential: for i, layer in model.layers (0-based i): a layer with weights first gets
    the edge `layer_with_weights-<j>` (j counts weighted layers only), then every layer `layer-<i>`.
    Functional's model.layers includes its InputLayers (`layer-0`); Sequential's does not (tf.keras
    >= 2.1; TF 2.0-alpha's Sequential still had the InputLayer as layer-0, see the tf20 fixture). Then
    the model's own variables.
  - A layer: its sublayers by attribute name (the table below; tf.keras tracks them in __init__, before
    build creates the variables), then its own variables named by weight name (`kernel`, `bias`,
    `gamma`, `moving_mean`, `recurrent_kernel`, `embeddings`, ...), trainable ones then
    non-trainable ones (tf.keras: creation order; both give the same keys).
  - A list attribute (StackedRNNCells `cells`) is a node of its own whose children are "0", "1", ...
  - A subclassed model (weightkit.subclassed) names its children itself (model:tf_children()).
  Per class (SUBLAYERS): every RNN (a `cell` field): `cell`; StackedRNNCells: `cells`; Bidirectional:
  `forward_layer`, `backward_layer` (tf.keras does NOT track the original wrapped `layer`: it turns
  tracking off around Wrapper.__init__); TimeDistributed and other wrappers: `layer`;
  MultiHeadAttention: `_query_dense`, `_key_dense`, `_value_dense`, `_output_dense` (its weightless
  `_softmax` and `_dropout_layer` are not materialized by weightkit: they hold no values, so no key
  depends on them). A layer class may declare its own facts with `tf_children()` -> {{name, child},...}.
  A tracked sublayer that no rule reaches is an error (its weights would silently be left out).
  Weightless tracked attributes of tf.keras objects (ListWrappers of InputSpecs, ...) are not modelled:
  they add empty nodes to tf's graph, never keys, and restore matches by name, not by node id.

NODE NUMBERING: breadth-first from the model (node 0, Checkpoint(root=model): no `model/` prefix),
children in the order above; an object reached again keeps its first id and its first path (every
edge is still recorded). A variable's key is built from its first path.
]]
local errors = require "weightkit.errors"
local Layer = require "weightkit.layer"

local M = {}

local ListNode = {}
ListNode.__index = ListNode
ListNode.__name = "weightkit.tfckpt.List"

function M.is_list(v) return getmetatable(v) == ListNode end
function M.is_variable(v) return Layer.is_variable(v) end

-- A list attribute as tf.keras's ListWrapper: one node per (owner, attribute), cached on the owner so
-- that every walk sees the same node.
local function list_node(owner, attr, items)
  local cache = rawget(owner, "_tf_list_nodes")
  if not cache then
    cache = {}
    rawset(owner, "_tf_list_nodes", cache)
  end
  local node = cache[attr]
  if not node then
    node = setmetatable({ items = items, attribute = attr, owner = owner }, ListNode)
    cache[attr] = node
  end
  node.items = items
  return node
end

local function is_model(layer)
  return layer._is_graph_network == true
end

-- The short name a layer tracks a variable under: its add_weight name ("kernel" of "dense/kernel:0").
local function variable_name(v)
  local name = (v.name or ""):gsub(":%d+$", "")
  return name:match("([^/]*)$")
end
M.variable_name = variable_name

M.SUBLAYERS = {
  Bidirectional = function(l) return { {"forward_layer", l.forward_layer}, {"backward_layer", l.backward_layer} } end,
  TimeDistributed = function(l) return { {"layer", l.layer} } end,
  StackedRNNCells = function(l) return { {"cells", l.cells} } end,
  MultiHeadAttention = function(l)
    return { {"_query_dense", l.query_dense}, {"_key_dense", l.key_dense}, {"_value_dense", l.value_dense},
      {"_output_dense", l.output_dense} }
  end,
}

local function sublayer_facts(layer)
  if type(layer.tf_children) == "function" then return layer:tf_children() end
  local rule = M.SUBLAYERS[layer.class_name]
  if rule then return rule(layer) end
  if rawget(layer, "cell") ~= nil then return { {"cell", layer.cell} } end
  if rawget(layer, "layer") ~= nil and Layer.is_layer(rawget(layer, "layer")) then
    return { {"layer", layer.layer} } -- any other Wrapper
  end
  return {}
end

local function own_variables(layer, out)
  for _, v in ipairs(layer._trainable_weights or {}) do out[#out + 1] = { variable_name(v), v } end
  for _, v in ipairs(layer._non_trainable_weights or {}) do out[#out + 1] = { variable_name(v), v } end
  return out
end

local function check_reached(layer, reached)
  for _, sub in ipairs(layer._layers or {}) do
    if not reached[sub] and sub.class_name ~= "InputLayer" then
      errors.not_implemented(string.format("TF checkpoint object path unknown for sublayer '%s' (%s) of " ..
        "layer '%s' (%s): give %s a tf_children() method returning {{attribute_name, sublayer}, ...}",
        tostring(sub.name), tostring(sub.class_name), tostring(layer.name), tostring(layer.class_name),
        tostring(layer.class_name)))
    end
  end
end

local function layer_children(layer)
  local out, reached = {}, {}
  if is_model(layer) then
    local j = 0
    for i, l in ipairs(layer.layers or {}) do
      reached[l] = true
      if #l:weights() > 0 then
        out[#out + 1] = { "layer_with_weights-" .. j, l }
        j = j + 1
      end
      out[#out + 1] = { "layer-" .. (i - 1), l }
    end
  else
    for _, c in ipairs(sublayer_facts(layer)) do
      local name, value = c[1], c[2]
      if value ~= nil then
        if Layer.is_layer(value) or Layer.is_variable(value) then
          reached[value] = true
          out[#out + 1] = { name, value }
        elseif type(value) == "table" then
          for _, l in ipairs(value) do reached[l] = true end
          out[#out + 1] = { name, list_node(layer, name, value) }
        end
      end
    end
  end
  check_reached(layer, reached)
  return own_variables(layer, out)
end

function M.children(obj)
  if Layer.is_variable(obj) then return {} end
  if M.is_list(obj) then
    local out = {}
    for i, item in ipairs(obj.items) do out[i] = { tostring(i - 1), item } end
    return out
  end
  return layer_children(obj)
end

-- tf `_lookup_dependency(name)`: the first child of that name.
function M.lookup(obj, local_name)
  for _, c in ipairs(M.children(obj)) do
    if c[1] == local_name then return c[2] end
  end
  return nil
end

function M.escape(name)
  return (name:gsub("%.", ".."):gsub("/", ".S"))
end

function M.object_path(components)
  local parts = {}
  for i, c in ipairs(components) do parts[i] = M.escape(c) end
  return table.concat(parts, "/")
end

function M.key(components)
  return M.object_path(components) .. "/.ATTRIBUTES/VARIABLE_VALUE"
end

function M.build(model)
  local nodes, objects, keys, entries = {}, {}, {}, {}
  local id_of, path_of = { [model] = 0 }, { [model] = {} }
  local queue, head = { model }, 1
  objects[1] = model
  while head <= #queue do
    local obj = queue[head]
    head = head + 1
    local node = { children = {}, attributes = {}, slot_variables = {} }
    nodes[id_of[obj] + 1] = node
    for _, c in ipairs(M.children(obj)) do
      local name, child = c[1], c[2]
      if id_of[child] == nil then
        local id = #queue
        id_of[child] = id
        local path = table.move(path_of[obj], 1, #path_of[obj], 1, {})
        path[#path + 1] = name
        path_of[child] = path
        queue[#queue + 1] = child
        objects[id + 1] = child
      end
      node.children[#node.children + 1] = { node_id = id_of[child], local_name = name }
    end
    if Layer.is_variable(obj) then
      local key = M.key(path_of[obj])
      keys[obj] = key
      node.attributes[1] = { name = "VARIABLE_VALUE", full_name = (obj.name or ""):gsub(":%d+$", ""),
        checkpoint_key = key, optional_restore = false }
      entries[#entries + 1] = { key = key, tensor = obj.value }
    end
  end
  return { nodes = nodes, entries = entries, objects = objects, keys = keys }
end

return M
