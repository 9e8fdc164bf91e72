--[[
weightkit.remap.suggest — "did you mean" for names a remap could not place.

  distance(a, b [, limit]) -> Levenshtein distance (insert, delete, substitute one byte, each cost 1), or
      nil when it exceeds `limit` (a length difference past the limit, or a DP row whose minimum is past
      it, ends the search early)
  closest(name, candidates [, n = 3 [, limit] ]) -> { {name = c, distance = d}, ... }
      the n nearest candidates within the limit, nearest first, ties in candidate order; the default limit
      is max(3, ceil(2 * #name / 3)): generous enough for a renamed layer ("out/kernel:0" ~
      "dense_9/kernel:0", 7 edits), while a name that needs more edits than two thirds of its length is
      no suggestion.
      `candidates` is a list of strings, or of {name = s, keys = {s1, s2, ...}} when several spellings of
      one candidate may be compared (the distance is the smallest over its keys).

Byte-wise on purpose: Keras names are ASCII in practice, and bytes keep the cost predictable.
]]
local M = {}

function M.distance(a, b, limit)
  local la, lb = #a, #b
  limit = limit or math.max(la, lb)
  if math.abs(la - lb) > limit then return nil end
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local row_min = i
    local ai = a:byte(i)
    for j = 1, lb do
      local d = prev[j - 1] + ((ai == b:byte(j)) and 0 or 1)
      if prev[j] + 1 < d then d = prev[j] + 1 end
      if cur[j - 1] + 1 < d then d = cur[j - 1] + 1 end
      cur[j] = d
      if d < row_min then row_min = d end
    end
    -- every later cell is at least this row's minimum: past the limit, stop
    if row_min > limit then return nil end
    prev, cur = cur, prev
  end
  local d = prev[lb]
  if d > limit then return nil end
  return d
end

function M.default_limit(name)
  return math.max(3, (2 * #name + 2) // 3)
end

function M.closest(name, candidates, n, limit)
  n = n or 3
  limit = limit or M.default_limit(name)
  local found = {}
  for order, c in ipairs(candidates) do
    local cname, keys = c, nil
    if type(c) == "table" then cname, keys = c.name, c.keys end
    local best
    for _, key in ipairs(keys or { cname }) do
      local d = M.distance(name, key, best and math.min(best, limit) or limit)
      if d and (best == nil or d < best) then best = d end
    end
    if best then found[#found + 1] = { name = cname, distance = best, order = order } end
  end
  table.sort(found, function(x, y)
    if x.distance ~= y.distance then return x.distance < y.distance end
    return x.order < y.order
  end)
  local out = {}
  for i = 1, math.min(n, #found) do out[i] = { name = found[i].name, distance = found[i].distance } end
  return out
end

return M
