--[[
weightkit.remap.match — one pass of rules over the file's entries, resolved against the model's.

  resolve(rules, file_entries, model_entries) -> result

  file entry  {name = "dense_1/kernel:0", layer = "dense_1", index = 1, layer_size = 2, ...}
  model entry {name = "dense/kernel:0", layer = "dense", group = <token of its layer>, index = 1, ...}
  (layer, index, layer_size and group may be absent: then only names are matched; other fields ride along)

RESOLUTION of each file entry (the rules decide first, rules.lua):
  dropped (to = false)   -> result.dropped
  weight rule -> name n  -> the model weights named n, comparing names without a trailing ":0"
                            (Keras 3 legacy files store none); else, if exactly one model weight name
                            agrees, the LOOSE name: without ":N" and without the uniquifying "_N" of
                            the components between the layer and the weight ("enc/lstm_cell_1/kernel"
                            ~ "enc/lstm_cell/kernel"): Keras numbers inner objects (cells, forward/
                            backward layers) per session, so those suffixes say nothing about the weight
  layer rule -> layer L  -> weight `index` of every model layer named L (positional, Keras by-name)
  no rule                -> the same as a layer rule to its own layer name when the model has a layer of
                            that name, else by its own name as a weight rule would
Positional pairs need the file layer and the model layer to hold as many weights
(layer_size): otherwise the pair is a count mismatch (result.count_mismatch) and none of its entries is
placed. Model layers of one name (Keras allows duplicates in by-name loading) all receive the value.

One model weight fed by several entries is AMBIGUOUS unless every one of them carries the same
combining transform (concat, stack, sum, bias_sum, torch_gru_bias): then they are its parts, ordered by
the rule that placed them, then by file order.

result = {
  pairs = { {target = model entry, targets = {model entries}, parts = {part, ...}, transform = pipeline} }
          in model order; part = {file = file entry, mapped = the name it was mapped to, via = "name" |
          "loose" | "layer", rule = the rule or nil (default)}
  dropped = { {file = file entry, rule = rule} },
  count_mismatch = { {file_layer =, layer =, expected = model count, received = file count,
                      layer_index = file layer's 0-based index, parts = {part, ...}} },
  ambiguous = { {target = model entry, parts = {...}, suggestions = {[file name] = {names}}} },
  unused  = { {file = file entry, mapped = name or nil, suggestions = {names}} }  file entries placed nowhere
  missing = { {target = model entry, suggestions = {names}} }                   model weights fed by nothing
}
Suggestions: up to 3 names by edit distance (suggest.lua); for an unused file entry the model weights
still missing (all model weights when none is), compared with both its own and its mapped name; for a
missing model weight the unused file entries (all when none is); at most SUGGEST_MAX names per list get
suggestions (each costs a scan of the candidates).
]]
local suggest = require "weightkit.remap.suggest"

local M = {}

local SUGGEST_MAX = 200

local function exact_key(n) return (n:gsub(":%d+$", "")) end

function M.loose_key(n)
  local parts = {}
  for p in (exact_key(n) .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = p end
  for k = 2, #parts - 1 do parts[k] = parts[k]:gsub("_%d+$", "") end
  return table.concat(parts, "/")
end

local function push(t, k, v)
  local l = t[k]
  if not l then l = {}; t[k] = l end
  l[#l + 1] = v
end

-- Model side indices: by exact key, by loose key, layers by name (groups in order, entries by index).
local function index_model(model_entries)
  local ix = { exact = {}, loose = {}, layers = {}, group_entries = {}, group_layer = {} }
  for _, me in ipairs(model_entries) do
    push(ix.exact, exact_key(me.name), me)
    push(ix.loose, M.loose_key(me.name), me)
    if me.layer ~= nil and me.group ~= nil then
      if not ix.group_entries[me.group] then
        ix.group_entries[me.group] = {}
        push(ix.layers, me.layer, me.group)
      end
      ix.group_entries[me.group][me.index] = me
    end
  end
  return ix
end

-- Model entries for a weight name: list, via (nil when none).
local function by_name(ix, n)
  local l = ix.exact[exact_key(n)]
  if l then return l, "name" end
  l = ix.loose[M.loose_key(n)]
  if l then
    local k = exact_key(l[1].name)
    for _, me in ipairs(l) do if exact_key(me.name) ~= k then return nil end end
    return l, "loose"
  end
  return nil
end

local function group_size(ix, group)
  local n = 0
  for _ in pairs(ix.group_entries[group]) do n = n + 1 end
  return n
end

local function candidates_of(list, keys_of)
  local out = {}
  for i, x in ipairs(list) do out[i] = { name = x.name, keys = keys_of(x) } end
  return out
end

local function names_of(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = s.name end
  return out
end

local function suggestions(queries, candidates)
  local best = {}
  for _, q in ipairs(queries) do
    for _, s in ipairs(suggest.closest(q, candidates)) do
      if best[s.name] == nil or s.distance < best[s.name].distance then best[s.name] = s end
    end
  end
  local list = {}
  for _, s in pairs(best) do list[#list + 1] = s end
  table.sort(list, function(a, b)
    if a.distance ~= b.distance then return a.distance < b.distance end
    return a.name < b.name
  end)
  return names_of({ table.unpack(list, 1, math.min(3, #list)) })
end

function M.resolve(rules, file_entries, model_entries)
  local ix = index_model(model_entries)
  local result = { pairs = {}, dropped = {}, count_mismatch = {}, ambiguous = {}, unused = {}, missing = {} }
  local parts_of = {}     -- target id (first model entry) -> { targets =, parts = }
  local positional = {}   -- "file layer\0model layer" -> count-check group

  for order, fe in ipairs(file_entries) do
    local hit = rules and rules:apply(fe)
    if hit and hit.to == false then
      result.dropped[#result.dropped + 1] = { file = fe, rule = hit.rule }
    else
      local layer_name, weight_name
      if hit and hit.target == "layer" then
        layer_name = hit.to
      elseif hit then
        weight_name = hit.to
      elseif fe.layer ~= nil and ix.layers[fe.layer] then
        layer_name = fe.layer
      else
        weight_name = fe.name
      end
      local part = { file = fe, rule = hit and hit.rule, transform = hit and hit.transform, order = order,
        mapped = weight_name or layer_name }
      local targets
      if layer_name then
        local groups = ix.layers[layer_name]
        if groups and fe.index then
          part.via = "layer"
          local key = tostring(fe.layer) .. "\0" .. layer_name
          local g = positional[key]
          if not g then
            g = { file_layer = fe.layer, layer = layer_name, received = fe.layer_size or 0,
              expected = group_size(ix, groups[1]), layer_index = fe.layer_index, parts = {} }
            positional[key] = g
            if g.expected ~= g.received then result.count_mismatch[#result.count_mismatch + 1] = g end
          end
          g.parts[#g.parts + 1] = part
          if g.expected == g.received then
            targets = {}
            for _, grp in ipairs(groups) do
              local me = ix.group_entries[grp][fe.index]
              if me then targets[#targets + 1] = me end
            end
          else
            targets = false -- counted in count_mismatch, placed nowhere
          end
        end
      else
        targets, part.via = by_name(ix, weight_name)
      end
      if targets and #targets > 0 then
        local id = targets[1]
        local slot = parts_of[id]
        if not slot then slot = { targets = targets, parts = {} }; parts_of[id] = slot end
        slot.parts[#slot.parts + 1] = part
      elseif targets ~= false then
        result.unused[#result.unused + 1] = { file = fe, mapped = part.mapped, part = part }
      end
    end
  end

  local fed = {}
  for _, me in ipairs(model_entries) do
    local slot = parts_of[me]
    if slot then
      local parts = slot.parts
      table.sort(parts, function(a, b)
        local ra, rb = a.rule and a.rule.index or 0, b.rule and b.rule.index or 0
        if ra ~= rb then return ra < rb end
        return a.order < b.order
      end)
      local pipe = parts[1].transform
      local combines = #parts == 1 or (pipe and pipe.combine)
      for k = 2, #parts do
        local p = parts[k].transform
        if not (p and pipe and p.desc == pipe.desc) then combines = false end
      end
      if combines then
        result.pairs[#result.pairs + 1] = { target = me, targets = slot.targets, parts = parts, transform = pipe }
        for _, t in ipairs(slot.targets) do fed[t] = true end
      else
        result.ambiguous[#result.ambiguous + 1] = { target = me, parts = parts }
      end
    end
  end

  -- suggestions ----------------------------------------------------------------------------------
  -- duplicate-named model layers hold weights of one name: list such a name once
  local missing_entries, listed = {}, {}
  for _, me in ipairs(model_entries) do
    if not fed[me] and not listed[me.name] then
      listed[me.name] = true
      missing_entries[#missing_entries + 1] = me
    end
  end
  for _, me in ipairs(missing_entries) do result.missing[#result.missing + 1] = { target = me } end

  local model_pool = #missing_entries > 0 and missing_entries or model_entries
  local model_candidates = candidates_of(model_pool, function(me) return { me.name } end)
  local file_pool = {}
  if #result.unused > 0 then
    for _, u in ipairs(result.unused) do file_pool[#file_pool + 1] = { name = u.file.name, mapped = u.mapped } end
  else
    for _, fe in ipairs(file_entries) do file_pool[#file_pool + 1] = { name = fe.name } end
  end
  local file_candidates = candidates_of(file_pool, function(f)
    return (f.mapped and f.mapped ~= f.name) and { f.name, f.mapped } or { f.name }
  end)

  for i, u in ipairs(result.unused) do
    if i > SUGGEST_MAX then break end
    local queries = { u.file.name }
    if u.mapped and u.mapped ~= u.file.name then queries[2] = u.mapped end
    u.suggestions = suggestions(queries, model_candidates)
  end
  for i, m in ipairs(result.missing) do
    if i > SUGGEST_MAX then break end
    m.suggestions = suggestions({ m.target.name }, file_candidates)
  end
  for i, a in ipairs(result.ambiguous) do
    if i > SUGGEST_MAX then break end
    a.suggestions = {}
    for _, p in ipairs(a.parts) do
      a.suggestions[p.file.name] = suggestions({ p.file.name }, model_candidates)
    end
  end
  return result
end

return M
