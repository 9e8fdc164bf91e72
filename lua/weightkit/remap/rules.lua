--[[
weightkit.remap.rules — compiling remap rules and applying them to one name. Rules are data: nothing
here runs code found in a file; functions only come from the caller.

WHAT A RULE SEES. A file entry is {name, layer, index, shape, dtype}: `name` is the weight's full name
as the file lists it (Keras 2 HDF5 `weight_names`: "dense_1/kernel:0", "lstm/lstm_cell/kernel:0",
Keras 3 legacy .h5 without ":0"), `layer` the file layer (group) holding it ("dense_1"), `index` its
1-based position in that layer. A WEIGHT rule (the default) matches and rewrites `name`; its result is a
model weight name ("dense/kernel:0"). A LAYER rule (`layer = true`) matches and rewrites `layer`; its
result is a model layer name, and the entry then pairs positionally with that layer's weights (Keras
by-name semantics: weight i of the file layer -> weight i of the model layer). For names without a
layer (file surgery, rules:rename), layer rules never match.

FORMS (each an element of the list given to compile / wk.remap.rules):
  {from, to [, transform = T] [, layer = true]}     Lua pattern `from`; `to` is
      a string: string.gsub replacement of the FIRST match (%0..%9 captures, %% a percent sign),
      a function: called with the captures (the whole match when there are none); it returns the
          replacement of the match, false (drop), or nil (this rule does not match: try the next one),
      a table: looked up with the first capture (or the whole match): string, false or nil as above,
      false: drop the name (it is reported as dropped, never loaded).
  {exact = {[old] = new, ...} [, transform = T] [, layer = true]}    whole-name lookup; a value is the new
      name, false (drop) or {new, transform = T}
  {canonical = {{from_template, to_template [, transform = T]}, ...} [, transform =] [, layer =]}
      whole-name templates with placeholders, like gguf's tensor name maps:
      {"blk.{bid}.attn_q", "layers/{bid}/query"}. `{name}` matches one or more characters other than
      "/" and "."; a placeholder used twice must match the same text twice; `to_template` may use only
      placeholders of `from_template`. Templates are tried in list order.
  f  or  {fn = f [, transform =] [, layer =]}      f(subject, entry) -> new name | false (drop) |
      nil (no match) [, transform spec for this entry]
  a rule object from wk.remap.pattern / exact / canonical / fn, or a Rules object (its rules in place)
compile{...} also takes the keys `exact` and `canonical` at the top of the table: they are tried before
the list (exact names are the most specific), exact first.

ORDER: one pass, first match wins: the rules are tried in order and the first that matches decides
(rename, drop, or a layer pairing); a name no rule matches keeps its default (the caller's: the same
layer name, positionally, for loads).
]]
local transforms = require "weightkit.remap.transforms"

local M = {}

local Rule = {}
Rule.__index = Rule
Rule.__name = "weightkit.remap.Rule"

local Rules = {}
Rules.__index = Rules
Rules.__name = "weightkit.remap.Rules"

function M.is_rules(v) return getmetatable(v) == Rules end

local function fail(msg) error("weightkit.remap: " .. msg, 0) end

local function q(s) return string.format("%q", s) end

local function describe_to(to)
  if to == false then return "drop" end
  if type(to) == "string" then return q(to) end
  return type(to)
end

-- {===================================================================
-- Rule constructors
-- ====================================================================

local function new_rule(kind, desc, opts, match)
  opts = opts or {}
  return setmetatable({
    kind = kind, desc = desc, layer = opts.layer and true or false,
    transform = transforms.pipeline(opts.transform), match = match,
  }, Rule)
end

function M.pattern(from, to, opts)
  if type(from) ~= "string" then fail("a pattern rule's `from` must be a string, got " .. type(from)) end
  local ok, err = pcall(string.find, "", from)
  if not ok then fail("bad Lua pattern " .. q(from) .. ": " .. tostring(err):gsub("^.-:%d+: ", "")) end
  local tt = type(to)
  if not (tt == "string" or tt == "function" or tt == "table" or to == false) then
    fail("a pattern rule's `to` must be a string, a function, a table or false, got " .. tt)
  end
  local desc = "pattern " .. q(from) .. " -> " .. describe_to(to)
  return new_rule("pattern", desc, opts, function(subject)
    -- Lua reports some malformed patterns only when a match reaches them
    local found = table.pack(pcall(string.find, subject, from))
    if not found[1] then fail(desc .. ": " .. tostring(found[2]):gsub("^.-:%d+: ", "")) end
    table.remove(found, 1)
    found.n = found.n - 1
    if found[1] == nil then return nil end
    if to == false then return false end
    if tt == "string" then
      local okg, res = pcall(string.gsub, subject, from, to, 1)
      if not okg then fail(desc .. ": " .. tostring(res):gsub("^.-:%d+: ", "")) end
      return res
    end
    local s, e = found[1], found[2]
    local caps = { table.unpack(found, 3, found.n) }
    if #caps == 0 then caps = { subject:sub(s, e) } end
    local rep
    if tt == "function" then rep = to(table.unpack(caps)) else rep = to[caps[1]] end
    if rep == nil or rep == false then return rep end
    if type(rep) ~= "string" then fail(desc .. ": the replacement is a " .. type(rep) .. ", not a string") end
    return subject:sub(1, s - 1) .. rep .. subject:sub(e + 1)
  end)
end

local function exact_value(v, key)
  if v == false or type(v) == "string" then return v, nil end
  if type(v) == "table" and (type(v[1]) == "string" or v[1] == false) then
    return v[1], transforms.pipeline(v.transform)
  end
  fail("exact rule: the value for " .. q(key) .. " must be a name, false or {name, transform = ...}")
end

function M.exact(map, opts)
  if type(map) ~= "table" then fail("an exact rule needs a table {[old] = new}") end
  local compiled = {}
  for k, v in pairs(map) do
    if type(k) ~= "string" then fail("exact rule: names must be strings, got " .. type(k)) end
    local name, pipe = exact_value(v, k)
    compiled[k] = { name = name, transform = pipe }
  end
  return new_rule("exact", "exact", opts, function(subject)
    local hit = compiled[subject]
    if hit == nil then return nil end
    return hit.name, hit.transform
  end)
end

-- A template "blk.{bid}.attn_q" -> anchored Lua pattern and its placeholder names in order.
local function template_pattern(tmpl)
  local pat, names, pos = { "^" }, {}, 1
  while true do
    local s, e, name = tmpl:find("{([%a_][%w_]*)}", pos)
    local literal = tmpl:sub(pos, (s or #tmpl + 1) - 1)
    pat[#pat + 1] = literal:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
    if not s then break end
    pat[#pat + 1] = "([^/%.]+)"
    names[#names + 1] = name
    pos = e + 1
  end
  pat[#pat + 1] = "$"
  return table.concat(pat), names
end

local function canonical_pair(pair)
  local from, to = pair[1], pair[2]
  if type(from) ~= "string" or not (type(to) == "string" or to == false) then
    fail("canonical rule: each entry must be {from_template, to_template | false}")
  end
  local pat, names = template_pattern(from)
  local known = {}
  for _, n in ipairs(names) do known[n] = true end
  if to then
    for n in to:gmatch("{([%a_][%w_]*)}") do
      if not known[n] then fail("canonical rule " .. q(from) .. ": placeholder {" .. n .. "} is not in the source") end
    end
  end
  return { from = from, to = to, pattern = pat, names = names, transform = transforms.pipeline(pair.transform) }
end

function M.canonical(list, opts)
  if type(list) ~= "table" then fail("a canonical rule needs a list of {from_template, to_template}") end
  local pairs_ = {}
  for i, p in ipairs(list) do pairs_[i] = canonical_pair(p) end
  -- a map {[from] = to} is accepted too, tried after the list in sorted order (deterministic)
  local keys = {}
  for k in pairs(list) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do pairs_[#pairs_ + 1] = canonical_pair{ k, list[k] } end
  return new_rule("canonical", "canonical", opts, function(subject)
    for _, p in ipairs(pairs_) do
      local caps = { subject:match(p.pattern) }
      if caps[1] ~= nil then
        local values, consistent = {}, true
        for k, n in ipairs(p.names) do
          if values[n] ~= nil and values[n] ~= caps[k] then consistent = false end
          values[n] = caps[k]
        end
        if consistent then
          if p.to == false then return false end
          return (p.to:gsub("{([%a_][%w_]*)}", values)), p.transform
        end
      end
    end
    return nil
  end)
end

function M.fn(f, opts)
  if type(f) ~= "function" then fail("a function rule needs a function") end
  local rule
  rule = new_rule("function", "function", opts, function(subject, entry)
    local name, spec = f(subject, entry)
    if name ~= nil and name ~= false and type(name) ~= "string" then
      fail(rule.desc .. " returned a " .. type(name) .. " (a name, false or nil is expected)")
    end
    return name, transforms.pipeline(spec)
  end)
  return rule
end

-- }===================================================================

-- {===================================================================
-- Compiling a list
-- ====================================================================

local function opts_of(spec)
  return { transform = spec.transform, layer = spec.layer }
end

local function compile_one(spec, out)
  if getmetatable(spec) == Rule then
    out[#out + 1] = spec
  elseif M.is_rules(spec) then
    for _, r in ipairs(spec.list) do out[#out + 1] = r end
  elseif type(spec) == "function" then
    out[#out + 1] = M.fn(spec)
  elseif type(spec) ~= "table" then
    fail("a rule must be a table or a function, got " .. type(spec))
  elseif spec.exact ~= nil then
    out[#out + 1] = M.exact(spec.exact, opts_of(spec))
  elseif spec.canonical ~= nil then
    out[#out + 1] = M.canonical(spec.canonical, opts_of(spec))
  elseif spec.fn ~= nil then
    out[#out + 1] = M.fn(spec.fn, opts_of(spec))
  elseif spec[1] ~= nil then
    if spec[2] == nil then fail("rule {" .. q(tostring(spec[1])) .. ", ?} has no `to` (false drops)") end
    out[#out + 1] = M.pattern(spec[1], spec[2], opts_of(spec))
  else
    fail("a rule table needs {from, to}, exact =, canonical = or fn =")
  end
end

--[[ Rules object from a spec (nil or {} gives no rules; a Rules object is returned as is). Each rule's
desc gets its position: "rule 2 (pattern "^dense_1/" -> "dense/")". ]]
function M.compile(spec)
  if M.is_rules(spec) then return spec end
  local list = {}
  if spec ~= nil then
    if type(spec) ~= "table" then fail("rules must be a list, got " .. type(spec)) end
    if spec.exact ~= nil then list[#list + 1] = M.exact(spec.exact) end
    if spec.canonical ~= nil then list[#list + 1] = M.canonical(spec.canonical) end
    for _, s in ipairs(spec) do compile_one(s, list) end
  end
  local named = {}
  for i, r in ipairs(list) do
    named[i] = setmetatable({}, { __index = r })
    named[i].index = i
    named[i].label = string.format("rule %d (%s%s)", i, r.desc, r.layer and ", layer" or "")
  end
  return setmetatable({ list = named }, Rules)
end

-- }===================================================================

--[[ The first rule matching `entry` ({name, layer, ...}): nil when none does, else
{rule = <rule: .index, .label, .kind, .layer>, to = name | false, target = "weight" | "layer",
transform = pipeline | nil} (the entry's own transform, else the rule's). ]]
function Rules:apply(entry)
  for _, r in ipairs(self.list) do
    local subject = r.layer and entry.layer or entry.name
    if subject ~= nil then
      local to, pipe = r.match(subject, entry)
      if to ~= nil then
        return { rule = r, to = to, target = r.layer and "layer" or "weight", transform = pipe or r.transform }
      end
    end
  end
  return nil
end

--[[ For names without a model (file surgery): rules:rename(name [, layer]) -> to, transform, rule, target:
`to` is the new name (of the weight, or of the layer when target == "layer"), false (dropped) or nil (no
rule matched: the other results are nil too). ]]
function Rules:rename(name, layer)
  local hit = self:apply{ name = name, layer = layer }
  if not hit then return nil end
  return hit.to, hit.transform, hit.rule, hit.target
end

function Rules:__len() return #self.list end

function Rules:__tostring()
  local out = { string.format("remap rules (%d)", #self.list) }
  for _, r in ipairs(self.list) do
    out[#out + 1] = "  " .. r.label .. (r.transform and (" transform " .. r.transform.desc) or "")
  end
  return table.concat(out, "\n")
end

return M
