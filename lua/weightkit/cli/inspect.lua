--[[
weightkit.cli.inspect — `weightkit inspect [--json] [--sha256] PATH`.

Without --json: a readable summary of a weights file (layers in layer_names order, each weight's shape,
dtype, size and storage; totals), from metadata only: no tensor byte is read. The file is opened lazily
(core.open with lazy = true): each layer is resolved once, as the output reaches it. Plain datasets are
described from their mapped object headers (src/wk_h5_guard.c), in the layers and in the every-dataset
walk behind `tensors` / "Datasets in file" alike (weightkit.h, wk_file_tensors).
With --json: one JSON document (issue 3, point 5; issue 4, point 5):
  {"format": "keras2-h5" | "keras2-h5-model" | "keras3-weights-h5" | "keras-zip" | "keras3-sharded" |
             "tf-checkpoint" | "savedmodel" | "safetensors",
   "keras_version": ... | null, "backend": ... | null,
   "layers": [{"name": ..., "weights": [{"name", "path", "shape", "dtype"[, "sha256"]}]}],
   "tensors": [{"path", "shape", "dtype"[, "sha256"]}],
   "members": [{"name", "size", "compressed_size", "method"}] }    ("members" for keras-zip only;
                                                                   "metadata" for safetensors)
Keras 1/2: `layers` follows layer_names / weight_names. Keras 3 (and the weights member of a .keras
archive): one layer per `vars` group, named by its group path without "/vars" ("layers/lstm/cell", ""
for the root), weights "0", "1", ... in numeric order. `path` is the dataset's full path inside the
(inner) HDF5 file without the leading '/'; `tensors` lists every dataset (depth-first, name order;
optimizer weights included); dtypes are NumPy's. A .keras archive's keras_version is metadata.json's.
A TF checkpoint (format "tf-checkpoint": a prefix, its .index, or a directory with a `checkpoint` file)
or a SavedModel directory ("savedmodel"): one layer per object path, weights named by attribute
(weightkit.h), `tensors` every key as its `path`, string tensors with dtype "string" and sha256 null.
A safetensors file: every tensor by its name (`path`), layers grouping the names at their last '.'.
A sharded index (`x.weights.json`, format "keras3-sharded", lua/weightkit/cli/sharded.lua): one layer
per weight_map key, weights gathered from its shards; every weight and tensor also names its "file"
(the shard), `tensors` lists every shard's datasets, shards in name order.
--sha256 reads each tensor once (zero-copy where the file allows) and hashes its raw little-endian
C-order bytes; a dataset whose type has no weightkit dtype (e.g. strings) gets "sha256": null.

Exit status: 0 on success, 1 when the file cannot be opened or read (the message names the file),
2 on a usage error.
]]
local core = require "weightkit.core"
local json = require "weightkit.json"
local sharded = require "weightkit.cli.sharded"

local M = {}

M.USAGE = "usage: weightkit inspect [--json] [--sha256] PATH\n"

local HELP = M.USAGE .. [[

Summarize a weights file of any format (layers, weights, shapes, dtypes, sizes) from its metadata.
  --json         print it as one JSON document
  --sha256       add the SHA-256 of every tensor (reads each tensor once)
Exit status: 0 success, 1 the file cannot be opened or read, 2 usage.
]]

local function shape_str(shape)
  local n = #shape
  if n == 1 then return "(" .. shape[1] .. ",)" end
  if n == 2 then return "(" .. shape[1] .. ", " .. shape[2] .. ")" end
  return "(" .. table.concat(shape, ", ") .. ")"
end

local function thousands(n)
  local s = tostring(n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function human_bytes(n)
  if n < 1024 then return n .. " B" end
  local units = { "KiB", "MiB", "GiB", "TiB" }
  local v, u = n / 1024, 1
  while v >= 1024 and u < #units do v, u = v / 1024, u + 1 end
  return string.format("%.1f %s", v, units[u])
end

local function storage_str(info)
  if not info.filtered and not info.big_endian then return info.layout end
  local parts = { info.layout }
  if info.filtered then parts[#parts + 1] = "filtered" end
  if info.big_endian then parts[#parts + 1] = "big-endian" end
  return table.concat(parts, ", ")
end

-- Hashes the tensor `read()` returns and releases it at once (memory stays at one tensor).
local function hash(read, info)
  if not info.readable then return json.null end
  local t = read()
  local hex = core.tensor_sha256(t)
  t:close()
  return hex
end

-- The members of a .keras archive (nil for every other format).
local function archive_members(h)
  if h:format() ~= "keras-zip" then return nil end
  return h:members()
end

-- The file's keras_version; for a .keras archive the one metadata.json states (its inner HDF5 file has
-- none).
local function keras_version(h)
  local v = h:keras_version()
  if v or h:format() ~= "keras-zip" then return v end
  local ok, text = pcall(h.member, h, "metadata.json")
  if not ok then return nil end
  local meta_ok, meta = pcall(json.decode, text, "metadata.json")
  if meta_ok and type(meta) == "table" and type(meta.keras_version) == "string" then return meta.keras_version end
  return nil
end

--{=====================================================================================================
-- JSON
--======================================================================================================

local function json_document(h, with_sha)
  local tensors_json, sha_of = {}, {}
  for i, d in ipairs(h:tensors()) do
    local fields = { { "path", d.path }, { "shape", json.array(d.shape) }, { "dtype", d.dtype } }
    if d.file then table.insert(fields, 1, { "file", d.file }) end
    if with_sha then
      local sha = hash(function() return h:read_dataset(i) end, d)
      sha_of[(d.file or "") .. "\0" .. d.path] = sha
      fields[#fields + 1] = { "sha256", sha }
    end
    tensors_json[i] = json.object(fields)
  end
  local layers_json = {}
  for li, layer in ipairs(h:layers()) do
    local weights = {}
    for wi, w in ipairs(layer.weights) do
      local fields = { { "name", w.name }, { "path", w.path }, { "shape", json.array(w.shape) },
        { "dtype", w.dtype } }
      if w.file then table.insert(fields, 2, { "file", w.file }) end
      if with_sha then
        -- the same dataset was hashed in `tensors` (a hard-linked alias path is hashed again)
        local sha = sha_of[(w.file or "") .. "\0" .. w.path] or hash(function() return h:read_weight(li, wi) end, w)
        fields[#fields + 1] = { "sha256", sha }
      end
      weights[wi] = json.object(fields)
    end
    layers_json[li] = json.object{ { "name", layer.name }, { "weights", json.array(weights) } }
  end
  local doc = {
    { "format", h:format() },
    { "keras_version", keras_version(h) or json.null },
    { "backend", h:backend() or json.null },
    { "layers", json.array(layers_json) },
    { "tensors", json.array(tensors_json) },
  }
  if h.metadata and next(h:metadata()) then -- a safetensors file's __metadata__ (keys sorted)
    local meta, fields = h:metadata(), {}
    for _, k in ipairs(json.keys(meta)) do fields[#fields + 1] = { k, meta[k] } end
    doc[#doc + 1] = { "metadata", json.object(fields) }
  end
  local members = archive_members(h)
  if members then
    local list = {}
    for i, m in ipairs(members) do
      list[i] = json.object{ { "name", m.name }, { "size", m.size }, { "compressed_size", m.compressed_size },
        { "method", m.method } }
    end
    doc[#doc + 1] = { "members", json.array(list) }
  end
  return json.object(doc)
end

--{=====================================================================================================
-- Readable summary
--======================================================================================================

-- Keras 3 and TF files keep the optimizer's state as objects beside the layers: `optimizer`,
-- `optimizer/...`, and TF slot variables (`<variable>/.OPTIMIZER_SLOT/optimizer/m`).
local function is_optimizer_object(name)
  return name == "optimizer" or name:sub(1, 10) == "optimizer/" or name:find("/.OPTIMIZER_SLOT/", 1, true) ~= nil
end

local function summary(h, with_sha)
  local rows = {}            -- {first, shape, dtype, size, storage[, sha]} or a plain heading string
  local n_layers, n_with, n_weights, params, bytes = 0, 0, 0, 0, 0
  local function weight_rows(list, read)
    for wi, w in ipairs(list) do
      local row = { "  " .. w.name, shape_str(w.shape), w.dtype, human_bytes(w.nbytes), storage_str(w) }
      if with_sha then
        local sha = hash(function() return read(wi) end, w)
        row[6] = sha == json.null and "-" or sha
      end
      rows[#rows + 1] = row
    end
  end
  local optimizer_layers = {}
  for li, layer in ipairs(h:layers()) do
    if is_optimizer_object(layer.name) then optimizer_layers[#optimizer_layers + 1] = layer end
    local count = #layer.weights
    n_layers = n_layers + 1
    if count > 0 then n_with = n_with + 1 end
    -- a Keras 3 file's root `vars` group is the layer named "" (the model's own variables)
    rows[#rows + 1] = string.format("%s (%d weight%s)", layer.name == "" and "(model)" or layer.name, count,
      count == 1 and "" or "s")
    weight_rows(layer.weights, function(wi) return h:read_weight(li, wi) end)
    for _, w in ipairs(layer.weights) do
      n_weights, params, bytes = n_weights + 1, params + w.numel, bytes + w.nbytes
    end
  end
  local top = h:top_level()
  if top then
    rows[#rows + 1] = string.format("top_level_model_weights (%d weight%s)", #top.weights,
      #top.weights == 1 and "" or "s")
    weight_rows(top.weights, function(wi) return h:read_top_level(wi) end)
    for _, w in ipairs(top.weights) do
      n_weights, params, bytes = n_weights + 1, params + w.numel, bytes + w.nbytes
    end
  end

  local header = { "Layer / weight", "Shape", "Dtype", "Size", "Storage" }
  if with_sha then header[6] = "SHA-256" end
  local widths = {}
  for c = 1, #header do widths[c] = #header[c] end
  for _, r in ipairs(rows) do
    if type(r) == "table" then
      for c = 1, #r do widths[c] = math.max(widths[c], #r[c]) end
    end
  end
  local pads = {} -- pads[n] = n spaces (memoized: most rows need the same few)
  local function pad(n)
    local p = pads[n]
    if p == nil then p = string.rep(" ", n); pads[n] = p end
    return p
  end
  local function line(r)
    local cells, n = {}, #r
    for c = 1, n - 1 do
      local v = r[c]
      cells[c] = v .. pad(widths[c] - #v)
    end
    cells[n] = r[n]
    return table.concat(cells, "  ")
  end

  local out = {}
  local function add(s) out[#out + 1] = s end
  add("File: " .. h:name())
  add("Format: " .. h:format())
  add("Keras version: " .. (keras_version(h) or "none"))
  add("Backend: " .. (h:backend() or "none"))
  local warning = h:warning()
  if warning then add("Warning: " .. warning) end
  add("")
  add(line(header))
  for _, r in ipairs(rows) do add(type(r) == "table" and line(r) or r) end
  add("")
  add(string.format("Layers: %d (%d with weights)", n_layers, n_with))
  add(string.format("Weights: %d tensors, %s parameters, %s (%s bytes)", n_weights, thousands(params),
    human_bytes(bytes), thousands(bytes)))
  local opt = h:optimizer()
  if opt or #optimizer_layers > 0 then
    -- Keras 2: the optimizer_weights group; Keras 3 / TF: the optimizer's objects, listed above too
    local n, p, b = 0, 0, 0
    for _, w in ipairs(opt and opt.weights or {}) do n, p, b = n + 1, p + w.numel, b + w.nbytes end
    for _, layer in ipairs(optimizer_layers) do
      for _, w in ipairs(layer.weights) do n, p, b = n + 1, p + w.numel, b + w.nbytes end
    end
    add(string.format("Optimizer weights: %d tensors, %s parameters, %s (%s bytes)%s", n, thousands(p),
      human_bytes(b), thousands(b), opt and "" or " (in the layers above)"))
  else
    add("Optimizer weights: none")
  end
  local count, total = h:tensor_totals() -- the every-dataset walk, without a table per dataset
  add(string.format("Datasets in file: %d, %s (%s bytes)", count, human_bytes(total), thousands(total)))
  for _, m in ipairs(archive_members(h) or {}) do
    add(string.format("Archive member: %s, %s%s", m.name, human_bytes(m.size),
      m.method == 8 and string.format(" (deflated to %s)", human_bytes(m.compressed_size)) or ""))
  end
  add("")
  return table.concat(out, "\n")
end

--{=====================================================================================================
-- Command
--======================================================================================================

-- argv: the command line, argv[1] == "inspect". Returns the exit status.
function M.run(argv)
  local as_json, with_sha, path = false, false, nil
  for i = 2, #argv do
    local a = argv[i]
    if a == "--json" then as_json = true
    elseif a == "--sha256" then with_sha = true
    elseif a == "--help" or a == "-h" then io.stdout:write(HELP); return 0
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      io.stderr:write("weightkit inspect: unknown option '", a, "'\n", M.USAGE)
      return 2
    elseif path then
      io.stderr:write("weightkit inspect: one PATH only\n", M.USAGE)
      return 2
    else
      path = a
    end
  end
  if not path then
    io.stderr:write("weightkit inspect: missing the file to inspect\n", M.USAGE)
    return 2
  end

  -- Lazy: the layers are resolved as the summary or the document reaches them (each once); a
  -- corrupt one fails there with the message an eager open gives.
  local h, msg
  if path:match("%.json$") then
    h, msg = sharded.open(path)
  else
    h, msg = core.open(path, { lazy = true })
  end
  if not h then
    if not msg:find(path, 1, true) then msg = path .. ": " .. msg end
    io.stderr:write("weightkit inspect: ", msg, "\n")
    return 1
  end
  local ok, text = pcall(as_json and json_document or summary, h, with_sha)
  local name = h:name()
  h:close()
  if not ok then
    text = tostring(text):gsub("^weightkit: ", "")
    if not text:find(name, 1, true) then text = name .. ": " .. text end
    io.stderr:write("weightkit inspect: ", text, "\n")
    return 1
  end
  if as_json then
    io.stdout:write(json.encode(text, { indent = 1 }), "\n")
  else
    io.stdout:write(text)
  end
  return 0
end

return M
