-- Shell helpers shared by specs that drive h5py scripts and temp files.
local M = {}

-- Runs cmd; returns its standard output and whether it exited with status 0.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local text = p:read("a")
  local ok = p:close()
  return text, ok
end

-- A new temp directory named after `tag` (made now, when the spec file loads).
function M.temp_dir(tag)
  return (M.sh("mktemp -d /tmp/" .. tag .. ".XXXXXX"):gsub("%s+$", ""))
end

-- Removes a directory made by temp_dir.
function M.remove_dir(dir)
  assert(dir:match("^/tmp/[%w_]+%.%w+$"), "not a temp dir: " .. dir)
  os.execute("rm -rf '" .. dir .. "'")
end

return M
