--[[
Running the real `weightkit` command ($WEIGHTKIT_BUILD/weightkit) from specs (spec/cli_*_spec.lua):

  local cli = require("support.cli_run").new("tag")   a temp dir /tmp/tag.XXXXXX, removed by cli:cleanup()
  cli:run(args) -> stdout, stderr, exit status          args: a shell-quoted argument string
  cli:path(name), cli:write(name, text) -> path, cli:copy(src, name) -> path, cli:exists(path)
  cli:py(code, ...) -> stdout, ok                       /usr/bin/python3 (h5py, numpy) on code, with args
  cli.q(s)                                              s single-quoted for the shell
  cli.FIXTURES                                          the real fixtures directory
]]
local shell = require "support.shell"

local M = {}
M.__index = M

M.BIN = (os.getenv("WEIGHTKIT_BUILD") or "build") .. "/weightkit"
M.FIXTURES = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.new(tag)
  return setmetatable({ dir = shell.temp_dir(tag) }, M)
end

function M:cleanup() shell.remove_dir(self.dir) end

function M:path(name) return self.dir .. "/" .. name end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

function M:run(args)
  local err = self:path("stderr.txt")
  local p = assert(io.popen(M.q(M.BIN) .. " " .. args .. " 2>" .. M.q(err) .. " </dev/null; echo \"exit=$?\""))
  local out = p:read("a")
  p:close()
  local status = tonumber(out:match("exit=(%d+)\n$"))
  return (out:gsub("exit=%d+\n$", "")), slurp(err), status
end

function M:write(name, text)
  local path = self:path(name)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function M:copy(src, name)
  local path = self:path(name)
  assert(os.execute("cp -r " .. M.q(src) .. " " .. M.q(path)))
  return path
end

function M:exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function M:py(code, ...)
  local script = self:write("snippet.py", code)
  local args = {}
  for i, a in ipairs{ ... } do args[i] = M.q(a) end
  return shell.sh("/usr/bin/python3 " .. M.q(script) .. " " .. table.concat(args, " "))
end

return M
