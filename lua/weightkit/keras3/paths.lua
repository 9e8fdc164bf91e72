--[[
weightkit.keras3.paths — the Keras 3.1+ object walk of a Lua model (keras-formats.md §4.1): which
`vars` group of a `.weights.h5` / `.keras` file belongs to which layer of a weightkit model.

  paths.objects(model) -> { {path = "layers/dense", layer = <Layer>, name = "dense_3",
                             variables = {<Variable>, ...}}, ... }      walk order
  paths.to_snake_case(class_name)   Keras 3's naming.to_snake_case (NOT tf.keras's: ConvLSTM2D ->
                                    "conv_lstm2d" here, "conv_lst_m2d" in tf.keras)
  paths.own_variables(layer)        the layer's own variables in Keras 3's storage order
  paths.variable_name(v)            Keras 3's variable.name ("kernel" for "dense/kernel:0")
  paths.CHILDREN                    the per-class attribute facts (below)

THE WALK (Keras 3.1+ `_save_state` / `_load_state`; objects are visited depth-first from the model,
path ""):
  1. the object itself: its own variables go to `<path>/vars` (root: `vars`);
  2. a Functional or Sequential visits the pseudo-attribute `layers` first: model.layers (Sequential
     omits its InputLayer, Functional keeps it: `layers/input_layer`), each item named by the snake
     case of its class, made unique per container (`dense`, `dense_1`, ...; a repeated item still
     takes a number, as Keras numbers before it skips visited objects);
  3. then the object's other saveable attributes in sorted order, private ("_x") names last, each at
     `<path>/<attribute>`; a list attribute is a container like `layers` (`cells/lstm_cell`, ...).
  An object already visited (a shared layer) is skipped: it lives at its first path only.

OWN VARIABLES. Keras 3 stores `_trainable_variables + _non_trainable_variables` of the object itself,
never its sublayers', in creation order within each list (a frozen layer keeps its lists: Keras 3's
`trainable = False` flips the variables' flags, not the lists). weightkit layers keep the same two
lists (`_trainable_weights`, `_non_trainable_weights`, by the flag a weight was created with), so the
rule is the same for every class. Where Keras 3 puts variables differs from tf.keras 2 in the
Keras-2-shaped listings only, not here: an RNN layer (LSTM, GRU, SimpleRNN, RNN, ConvLSTM*D) owns no
variable, its `cell` does; Bidirectional owns none (forward_layer / backward_layer do);
TimeDistributed owns none (its `layer` does); MultiHeadAttention owns none (its four EinsumDense do).

ATTRIBUTE FACTS (CHILDREN): Keras 3 attribute name -> weightkit field, per class. Only attributes
holding saveables matter; their Keras 3 names, not weightkit's field names, make the paths.
  - every RNN (an object with a `cell` field): `cell`
  - StackedRNNCells: `cells` (a list)
  - Bidirectional: `backward_layer`, `forward_layer`. weightkit also keeps the original wrapped layer
    as `layer`; Keras 3 stores no `layer` group for Bidirectional (k392 hybrid fixture), so it is not
    walked.
  - TimeDistributed (any Wrapper): `layer`
  - MultiHeadAttention: `_dropout_layer` (Dropout) and `_softmax` (Softmax) — weightless layers that
    weightkit does not materialize: they become weightless pseudo-objects so a save has their groups —,
    then `_key_dense`, `_output_dense`, `_query_dense`, `_value_dense` (EinsumDense).
A layer class may declare its own facts with a method `keras3_children()` -> {{attribute, layer or
list of layers}, ...}. A layer that tracks sublayers the walk does not reach is an error (its
weights would be silently left out of a file).

OPAQUE LAYERS (layers/opaque.lua): a layer with `keras3_objects()` is not walked; it gives
{{path = relative ("" for its own vars), name =, variables =}, ...} and each path is joined to the
layer's own path.
]]
local errors = require "weightkit.errors"

local M = {}

-- Keras 3 naming.to_snake_case: drop non-word characters, `_` before a capital followed by lowercase
-- letters (not digits), `_` between a lowercase letter and a capital, lowercase.
function M.to_snake_case(name)
  local s = name:gsub("[^%w_]+", "")
  s = s:gsub("(.)(%u%l+)", "%1_%2")
  s = s:gsub("(%l)(%u)", "%1_%2")
  return s:lower()
end

function M.own_variables(layer)
  local out = {}
  for _, v in ipairs(layer._trainable_weights or {}) do out[#out + 1] = v end
  for _, v in ipairs(layer._non_trainable_weights or {}) do out[#out + 1] = v end
  return out
end

function M.variable_name(v)
  local name = v.name or ""
  name = name:gsub(":%d+$", "")
  return name:match("([^/]*)$")
end

local function join(a, b)
  if a == "" then return b end
  if b == "" then return a end
  return a .. "/" .. b
end
M.join = join

-- A weightless stand-in for a Keras 3 sublayer weightkit does not build (MHA's softmax, dropout).
local function pseudo(name, class_name) return { pseudo = true, name = name, class_name = class_name } end

local function is_model(layer)
  return layer._is_graph_network == true or layer.class_name == "Sequential"
    or layer.class_name == "Functional"
end

-- Class -> function(layer) -> {{attribute, layer | list of layers | pseudo}, ...}, any order (sorted
-- by the walk). Classes not listed and without a `cell` field have no saveable attributes.
M.CHILDREN = {
  Bidirectional = function(l)
    return { {"backward_layer", l.backward_layer}, {"forward_layer", l.forward_layer} }
  end,
  TimeDistributed = function(l) return { {"layer", l.layer} } end,
  StackedRNNCells = function(l) return { {"cells", l.cells} } end,
  MultiHeadAttention = function(l)
    if not l.built then return {} end
    return {
      {"_dropout_layer", pseudo(l._dropout_name, "Dropout")}, {"_softmax", pseudo(l._softmax_name, "Softmax")},
      {"_key_dense", l.key_dense}, {"_output_dense", l.output_dense},
      {"_query_dense", l.query_dense}, {"_value_dense", l.value_dense},
    }
  end,
}

local function children_of(layer)
  local list
  if type(layer.keras3_children) == "function" then
    list = layer:keras3_children()
  elseif M.CHILDREN[layer.class_name] then
    list = M.CHILDREN[layer.class_name](layer)
  elseif rawget(layer, "cell") ~= nil then
    list = { {"cell", layer.cell} }
  else
    list = {}
  end
  local out = {}
  for _, c in ipairs(list) do
    if c[2] ~= nil then out[#out + 1] = c end
  end
  -- sorted, private names last (Keras 3.1+)
  table.sort(out, function(a, b)
    local pa, pb = a[1]:sub(1, 1) == "_", b[1]:sub(1, 1) == "_"
    if pa ~= pb then return pb end
    return a[1] < b[1]
  end)
  return out
end

local walk

-- A list attribute: each item named by its class, unique within the list.
local function walk_container(items, path, ctx)
  local used = {}
  for _, item in ipairs(items) do
    local name = M.to_snake_case(item.class_name or "layer")
    if used[name] then
      used[name] = used[name] + 1
      name = name .. "_" .. used[name]
    else
      used[name] = 0
    end
    walk(item, join(path, name), ctx)
  end
end

-- Every tracked sublayer must have been reached (else its weights would silently be missing).
local function check_reached(layer, path, reached)
  for _, sub in ipairs(layer._layers or {}) do
    if not reached[sub] then
      errors.not_implemented(string.format("Keras 3 object path unknown for sublayer '%s' (%s) of layer " ..
        "'%s' (%s) at '%s': give %s a keras3_children() method", tostring(sub.name), tostring(sub.class_name),
        tostring(layer.name), tostring(layer.class_name), path == "" and "/" or path, tostring(layer.class_name)))
    end
  end
end

-- The object entries of one saveable: itself, or an opaque layer's own list.
local function own_entries(layer, path)
  if layer.pseudo then
    return { { path = path, name = layer.name, variables = {}, pseudo = true, class_name = layer.class_name } }
  end
  if type(layer.keras3_objects) == "function" then
    local list = {}
    for _, o in ipairs(layer:keras3_objects()) do
      list[#list + 1] = { path = join(path, o.path), name = o.name, variables = o.variables or {},
        layer = layer, opaque = true }
    end
    return list
  end
  return { { path = path, layer = layer, name = layer.name, variables = M.own_variables(layer) } }
end

--[[ ctx: visited (set of saveables), out (list of entries). For a save (ctx.load == nil) a saveable is
marked visited on entry. For a load, Keras's rule: ctx.load(entry) -> false on failure (recorded by
the caller, keyed by the saveable); a saveable is marked visited only when its own load succeeded and
none of its children newly failed, and a success clears an earlier failure of the same saveable (a
shared layer retried at a later path). ]]
walk = function(layer, path, ctx)
  if ctx.visited[layer] then return end
  local loading = ctx.load ~= nil
  if not loading then ctx.visited[layer] = true end
  local failure = false
  for _, e in ipairs(own_entries(layer, path)) do
    e.saveable = layer
    ctx.out[#ctx.out + 1] = e
    if loading and not ctx.load(e) then failure = true end
  end
  local before = loading and ctx.failed_count() or 0
  if not layer.pseudo and type(layer.keras3_objects) ~= "function" then
    local reached = {}
    if is_model(layer) then
      local items = {}
      for _, l in ipairs(layer.layers or {}) do items[#items + 1] = l; reached[l] = true end
      walk_container(items, join(path, "layers"), ctx)
      -- Sequential's hidden InputLayer is tracked but never saved
      for _, l in ipairs(layer._layers or {}) do
        if l.class_name == "InputLayer" then reached[l] = true end
      end
    end
    for _, c in ipairs(children_of(layer)) do
      local attr, value = c[1], c[2]
      if type(value) == "table" and value[1] ~= nil and value.class_name == nil then
        for _, l in ipairs(value) do reached[l] = true end
        walk_container(value, join(path, attr), ctx)
      else
        reached[value] = true
        walk(value, join(path, attr), ctx)
      end
    end
    check_reached(layer, path, reached)
  end
  if loading and not failure then
    if ctx.failed_count() - before <= 0 then ctx.visited[layer] = true end
    ctx.succeeded(layer)
  end
end

-- walk(model, ctx): the walk with a caller's context (keras3/load.lua); ctx.visited may hold
-- saveables to skip (Keras's objects_to_skip).
function M.walk(model, ctx)
  ctx.visited = ctx.visited or {}
  ctx.out = ctx.out or {}
  walk(model, "", ctx)
  return ctx.out
end

function M.objects(model)
  return M.walk(model, {})
end

return M
