--[[
weightkit.cli.sharded — a sharded Keras 3 weights index (`x.weights.json`, keras-formats.md §4.5) seen
through the methods `weightkit inspect` calls on a core file handle, so one inspector serves every format.

  sharded.open(index_path) -> handle | nil, message

  handle:format() == "keras3-sharded"; keras_version / backend / warning / top_level / optimizer: nil
  handle:layers()   one layer per `weight_map` key in index order, named by its group path without
                    "/vars" (as for a single .weights.h5); its weights gathered from the listed shards
                    ("0", "1", ... in numeric order), each with `file` = the shard's name
  handle:tensors()  every dataset of every shard (shards in name order), each with `file`
  handle:read_weight(li, wi), handle:read_dataset(i) -> tensor;  handle:tensor_totals() -> count, bytes

The shards are opened lazily (metadata only) by weightkit.keras3.store, which checks the index (shard
names stay beside it, every key found in its shards) and closed by handle:close().
]]
local file = require "weightkit.file"
local store = require "weightkit.keras3.store"

local M = {}

local Handle = {}
Handle.__index = Handle

local function base_name(path) return path:match("([^/\\]+)$") or path end

function M.open(index_path)
  local opened
  local ok, result = pcall(function()
    local s, files = store.sharded(index_path, file.open)
    opened = files
    return s
  end)
  if not ok then
    return nil, (tostring(result):gsub("^ValueError: ", ""):gsub("^FileNotFoundError: ", ""))
  end
  return setmetatable({ _path = index_path, _store = result, _files = opened }, Handle)
end

function Handle:name() return self._path end
function Handle:format() return "keras3-sharded" end
function Handle:keras_version() return nil end
function Handle:backend() return nil end
function Handle:warning() return nil end
function Handle:top_level() return nil end
function Handle:optimizer() return nil end

function Handle:layers()
  local out = {}
  for li, o in ipairs(self._store.objects) do
    local weights = {}
    for wi, w in ipairs(o.weights) do
      weights[wi] = { name = w.name, path = w.path, shape = w.shape, dtype = w.dtype, numel = w.numel,
        nbytes = w.nbytes, layout = w.layout, filtered = w.filtered, big_endian = w.big_endian,
        readable = w.readable, file = w.shard, entry = w }
    end
    out[li] = { name = o.path, weights = weights }
  end
  self._layers = out
  return out
end

function Handle:read_weight(li, wi)
  return self._layers[li].weights[wi].entry.tensor
end

-- Every dataset of every shard, shards in name order.
function Handle:tensors()
  local files = {}
  for _, f in ipairs(self._files) do files[#files + 1] = f end
  table.sort(files, function(a, b) return a.name < b.name end)
  local out = {}
  for _, f in ipairs(files) do
    for _, d in ipairs(f:tensors()) do
      d.file = base_name(f.name)
      out[#out + 1] = d
    end
  end
  self._tensors = out
  return out
end

function Handle:read_dataset(i)
  return self._tensors[i].tensor
end

function Handle:tensor_totals()
  local count, bytes = 0, 0
  for _, d in ipairs(self._tensors or self:tensors()) do count, bytes = count + 1, bytes + d.nbytes end
  return count, bytes
end

function Handle:close()
  for _, f in ipairs(self._files) do f:close() end
end

return M
