--[[
weightkit.cli.diff — `weightkit diff A B [--atol X] [--rtol Y] [--name-only] [--json]`: compare the
weights of two files, of any formats weightkit reads (the formats of `weightkit inspect`).

PAIRING. Each file's weights are listed as `inspect` lists them (layers in file order, their weights
in order; then top_level_model_weights as the layer "(top_level_model_weights)"; optimizer state is
not compared). A weight of A pairs with the weight of B that has the same layer name and the same
weight name (the n-th repeat of a name with the n-th). Nothing else pairs: Keras 2 names
("dense_1/kernel:0") never meet Keras 3 ones ("0") or TF checkpoint ones ("kernel"); when the formats
differ and names are left over, a note says so (convert or remap one file first).

PER PAIR: both shapes and dtypes; unless the shapes differ, the values are read (one pair at a time)
and compared by the C tensor ops, in float64:
  max_abs_diff  max |a - b|
  max_rel_diff  max |a - b| / |b|   (inf where b == 0 and a ~= 0; 0 where both are 0)
  allclose      NumPy's rule, elementwise |a - b| <= atol + rtol * |b| (not symmetric: B is the
                reference), NaN close to nothing, an infinity only to itself;
                defaults rtol 1e-05, atol 1e-08, as numpy.allclose.
String tensors (TF checkpoints) are close when their elements are equal.
Results: "close", "different" (values not close), "shape_mismatch" (values not compared),
"dtype_mismatch" (values compared all the same: see allclose).
--name-only: pairs names only and reads no values (exit 1 only for unpaired names).

OUTPUT: a table on stdout; --json prints one document instead:
  {"a": {"path", "format"}, "b": {...}, "rtol", "atol", "name_only", "equal",
   "summary": {"paired", "close", "different", "only_in_a", "only_in_b"},
   "tensors": [{"layer", "weight", "status", "shape_a", "shape_b", "dtype_a", "dtype_b",
                "max_abs_diff", "max_rel_diff", "allclose"}],      (the last three null when not compared)
   "only_in_a": [{"layer", "weight", "shape", "dtype"}], "only_in_b": [...], "note": text | null}
  A non-finite difference (NaN in the data, inf relative) is null in JSON, "nan"/"inf" in the table.

EXIT, as diff(1): 0 the files hold the same names with close values, same shapes and dtypes; 1 they
differ (an unpaired name, a shape or dtype mismatch, values not close); 2 trouble: a usage error, a
file that cannot be opened or read.
]]
local args = require "weightkit.cli.args"
local core = require "weightkit.core"
local json = require "weightkit.json"
local sharded = require "weightkit.cli.sharded"
local progress = require "weightkit.cli.progress"

local M = {}

M.USAGE = "usage: weightkit diff A B [--atol X] [--rtol Y] [--name-only] [--json]\n"

local HELP = M.USAGE .. [[

Compare the weights of A and B (any formats weightkit reads), paired by layer and weight name.
  --rtol Y       relative tolerance (default 1e-05)
  --atol X       absolute tolerance (default 1e-08)
                 values are close when |a - b| <= atol + rtol * |b| elementwise (numpy.allclose)
  --name-only    compare the names only; read no values
  --json         print the comparison as JSON
Exit status: 0 same, 1 different, 2 trouble (usage, unreadable file).
]]

local COMMAND = { name = "diff", usage = M.USAGE, help = HELP,
  spec = { flags = { "json", "name-only" }, numbers = { rtol = 1e-5, atol = 1e-8 } },
  operands = { "A", "B" } }

local TOP_LEVEL = "(top_level_model_weights)"
local TINY = 4.9406564584124654e-324 -- the smallest positive double: |b| floored to it keeps 0/0 out

local function open_any(path)
  if path:match("%.json$") then return sharded.open(path) end
  return core.open(path, { lazy = true })
end

-- Every weight of the handle: {layer, weight, shape, dtype, readable, read = function() -> tensor,
-- strings = function() -> {string...} | nil, key}. Keys are layer \0 weight \0 repeat count.
local function weights_of(h)
  local list, seen = {}, {}
  local string_index
  local function strings_of(path)
    if not h.read_strings then return nil end
    if not string_index then
      string_index = {}
      for i, d in ipairs(h:tensors()) do string_index[d.path] = i end
    end
    local i = string_index[path]
    return i and h:read_strings(i)
  end
  local function add(layer, w, read)
    local base = layer .. "\0" .. w.name
    seen[base] = (seen[base] or 0) + 1
    list[#list + 1] = { layer = layer, weight = w.name, shape = w.shape, dtype = w.dtype, readable = w.readable,
      read = read, strings = function() return strings_of(w.path) end, key = base .. "\0" .. seen[base] }
  end
  for li, layer in ipairs(h:layers()) do
    for wi, w in ipairs(layer.weights) do
      add(layer.name, w, function() return h:read_weight(li, wi) end)
    end
  end
  local top = h:top_level()
  if top then
    for wi, w in ipairs(top.weights) do
      add(TOP_LEVEL, w, function() return h:read_top_level(wi) end)
    end
  end
  return list
end

local same_shape = require("weightkit.naming").same_shape

local function close_tensor(t)
  if t then t:close() end
end

-- max_abs, max_rel, allclose for two tensors of one shape; every temporary is closed at once.
local function compare_values(ta, tb, rtol, atol)
  if ta:numel() == 0 then return 0, 0, true end
  local close = ta:allclose(tb, rtol, atol)
  local a64, b64 = ta:cast("float64"), tb:cast("float64")
  local diff = a64 - b64
  local d = diff:map("abs")
  local max_abs = d:max()
  local babs = b64:map("abs")
  local floor = core.maximum(babs, TINY)
  local ratio = d / floor
  local max_rel = ratio:max()
  for _, t in ipairs{ a64, b64, diff, d, babs, floor, ratio } do t:close() end
  if max_abs ~= max_abs then max_rel = max_abs end
  return max_abs, max_rel, close
end

local function compare_strings(sa, sb)
  if not sa or not sb or #sa ~= #sb then return false end
  for i = 1, #sa do
    if sa[i] ~= sb[i] then return false end
  end
  return true
end

-- The comparison of one pair: a row {layer, weight, status, shape_a, ..., allclose}.
local function compare_pair(wa, wb, a)
  local row = { layer = wa.layer, weight = wa.weight, shape_a = wa.shape, shape_b = wb.shape, dtype_a = wa.dtype,
    dtype_b = wb.dtype }
  if a["name-only"] then
    row.status = "paired"
    return row
  end
  if not same_shape(wa.shape, wb.shape) then
    row.status = "shape_mismatch"
    return row
  end
  if wa.dtype == "string" or wb.dtype == "string" then
    row.allclose = wa.dtype == wb.dtype and compare_strings(wa.strings(), wb.strings())
  elseif wa.readable == false or wb.readable == false then
    error(string.format("%s / %s: cannot read values of dtype %s / %s", wa.layer, wa.weight, wa.dtype, wb.dtype), 0)
  else
    local ta, tb
    local ok, err = pcall(function()
      ta = wa.read()
      tb = wb.read()
      row.max_abs_diff, row.max_rel_diff, row.allclose = compare_values(ta, tb, a.rtol, a.atol)
    end)
    close_tensor(ta)
    close_tensor(tb)
    if not ok then error(err, 0) end
  end
  if wa.dtype ~= wb.dtype then row.status = "dtype_mismatch"
  elseif row.allclose then row.status = "close"
  else row.status = "different" end
  return row
end

local function diff_files(a, ha, hb)
  local la, lb = weights_of(ha), weights_of(hb)
  local by_key = {}
  for _, w in ipairs(lb) do by_key[w.key] = w end
  local r = { rows = {}, only_a = {}, only_b = {}, close = 0, different = 0 }
  local paired = {}
  local bar = progress.new("diff", #la)
  local ok, err = pcall(function()
    for _, wa in ipairs(la) do
      local wb = by_key[wa.key]
      if wb then
        paired[wb.key] = true
        local row = compare_pair(wa, wb, a)
        r.rows[#r.rows + 1] = row
        if row.status == "close" or row.status == "paired" then r.close = r.close + 1
        else r.different = r.different + 1 end
      else
        r.only_a[#r.only_a + 1] = wa
      end
      bar:step(wa.layer .. " " .. wa.weight)
    end
  end)
  bar:done()
  if not ok then error(err, 0) end
  for _, wb in ipairs(lb) do
    if not paired[wb.key] then r.only_b[#r.only_b + 1] = wb end
  end
  r.equal = r.different == 0 and #r.only_a == 0 and #r.only_b == 0
  if (#r.only_a > 0 or #r.only_b > 0) and ha:format() ~= hb:format() then
    r.note = string.format("A is %s and B is %s: weights pair only by identical layer and weight names, which " ..
      "these formats do not share; convert or remap one file first (weightkit convert / weightkit remap)",
      ha:format(), hb:format())
  elseif #r.rows == 0 and (#r.only_a > 0 or #r.only_b > 0) then
    r.note = "no layer and weight name is common to A and B"
  end
  return r
end

--{=====================================================================================================
-- Output
--======================================================================================================

local function shape_str(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  return "(" .. table.concat(shape, ", ") .. ")"
end

local function num_str(x)
  if x == nil then return "-" end
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" end
  return string.format("%.6g", x)
end

local function json_num(x)
  if x == nil or x ~= x or x == math.huge or x == -math.huge then return json.null end
  return x
end

local function json_document(a, ha, hb, r)
  local rows = {}
  for i, row in ipairs(r.rows) do
    rows[i] = json.object{ { "layer", row.layer }, { "weight", row.weight }, { "status", row.status },
      { "shape_a", json.array(row.shape_a) }, { "shape_b", json.array(row.shape_b) },
      { "dtype_a", row.dtype_a }, { "dtype_b", row.dtype_b },
      { "max_abs_diff", json_num(row.max_abs_diff) }, { "max_rel_diff", json_num(row.max_rel_diff) },
      { "allclose", row.allclose == nil and json.null or row.allclose } }
  end
  local function only(list)
    local out = {}
    for i, w in ipairs(list) do
      out[i] = json.object{ { "layer", w.layer }, { "weight", w.weight }, { "shape", json.array(w.shape) },
        { "dtype", w.dtype } }
    end
    return json.array(out)
  end
  return json.encode(json.object{
    { "a", json.object{ { "path", a.positional[1] }, { "format", ha:format() } } },
    { "b", json.object{ { "path", a.positional[2] }, { "format", hb:format() } } },
    { "rtol", a.rtol }, { "atol", a.atol }, { "name_only", a["name-only"] == true }, { "equal", r.equal },
    { "summary", json.object{ { "paired", #r.rows }, { "close", r.close }, { "different", r.different },
      { "only_in_a", #r.only_a }, { "only_in_b", #r.only_b } } },
    { "tensors", json.array(rows) }, { "only_in_a", only(r.only_a) }, { "only_in_b", only(r.only_b) },
    { "note", r.note or json.null },
  }, { indent = 1 }) .. "\n"
end

local RESULT = { close = "close", different = "DIFFERENT", shape_mismatch = "SHAPE", dtype_mismatch = "DTYPE",
  paired = "paired" }

local function table_text(header, rows)
  local widths = {}
  for c = 1, #header do widths[c] = #header[c] end
  for _, row in ipairs(rows) do
    for c = 1, #row do widths[c] = math.max(widths[c], #row[c]) end
  end
  local out = {}
  for _, row in ipairs{ header, table.unpack(rows) } do
    local cells = {}
    for c = 1, #row - 1 do cells[c] = row[c] .. string.rep(" ", widths[c] - #row[c]) end
    cells[#row] = row[#row]
    out[#out + 1] = "  " .. table.concat(cells, "  ")
  end
  return table.concat(out, "\n") .. "\n"
end

local function text_report(a, ha, hb, r)
  local out = {}
  local function add(s) out[#out + 1] = s end
  add(string.format("A: %s (%s)\nB: %s (%s)\n", a.positional[1], ha:format(), a.positional[2], hb:format()))
  if not a["name-only"] then add(string.format("rtol %g, atol %g: close when |a - b| <= atol + rtol * |b|\n",
    a.rtol, a.atol)) end
  if #r.rows > 0 then
    local rows = {}
    for i, row in ipairs(r.rows) do
      local shape = shape_str(row.shape_a)
      if not same_shape(row.shape_a, row.shape_b) then shape = shape .. " vs " .. shape_str(row.shape_b) end
      local dtype = row.dtype_a == row.dtype_b and row.dtype_a or row.dtype_a .. " vs " .. row.dtype_b
      local r_ = { row.layer == "" and "(model)" or row.layer, row.weight, shape, dtype }
      if not a["name-only"] then
        r_[5], r_[6] = num_str(row.max_abs_diff), num_str(row.max_rel_diff)
      end
      r_[#r_ + 1] = RESULT[row.status]
      rows[i] = r_
    end
    local header = { "Layer", "Weight", "Shape", "Dtype", "Max abs diff", "Max rel diff", "Result" }
    if a["name-only"] then header = { "Layer", "Weight", "Shape", "Dtype", "Result" } end
    add("\n" .. table_text(header, rows))
  end
  for _, side in ipairs{ { "A", r.only_a }, { "B", r.only_b } } do
    if #side[2] > 0 then
      local rows = {}
      for i, w in ipairs(side[2]) do
        rows[i] = { w.layer == "" and "(model)" or w.layer, w.weight, shape_str(w.shape), w.dtype }
      end
      add(string.format("\nOnly in %s (%d):\n", side[1], #side[2]))
      add(table_text({ "Layer", "Weight", "Shape", "Dtype" }, rows))
    end
  end
  if r.note then add("\nNote: " .. r.note .. "\n") end
  add(string.format("\n%d paired (%d %s, %d different), %d only in A, %d only in B: %s\n", #r.rows, r.close,
    a["name-only"] and "named alike" or "close", r.different, #r.only_a, #r.only_b,
    r.equal and "the files match" or "the files differ"))
  return table.concat(out)
end

--{=====================================================================================================
-- Command
--======================================================================================================

function M.run(argv)
  local a, status = args.start(argv, COMMAND)
  if not a then return status end
  local handles = {}
  local function close_all()
    for _, h in ipairs(handles) do h:close() end
  end
  for i, path in ipairs(a.positional) do
    local h, err = open_any(path)
    if not h then
      close_all()
      if not err:find(path, 1, true) then err = path .. ": " .. err end
      io.stderr:write("weightkit diff: ", err, "\n")
      return 2
    end
    handles[i] = h
  end
  local ok, r = pcall(diff_files, a, handles[1], handles[2])
  if not ok then
    close_all()
    io.stderr:write("weightkit diff: ", (tostring(r):gsub("^weightkit: ", "")), "\n")
    return 2
  end
  local text = a.json and json_document(a, handles[1], handles[2], r) or text_report(a, handles[1], handles[2], r)
  close_all()
  io.write(text)
  return r.equal and 0 or 1
end

return M
