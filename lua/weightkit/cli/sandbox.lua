--[[
weightkit.cli.sandbox — the restricted environment of the scripts `weightkit run`, `edit` and `remap`
run (the rules file of remap is such a script). On by default; `--unsafe` lifts it.

  local box = sandbox.new(paths)     paths: what the command line names (IN, OUT, the script, the
                                     script's arguments): the only files the script may touch
  box:install()                      guards the process's file entry points (below) until the
                                     command ends; returns a function that undoes it
  box:env(extra)                     a fresh script environment (extra: globals to add, e.g. ed, arg)
  sandbox.unsafe_env(extra)          the --unsafe environment: every global of the host plus extra
  sandbox.start(paths, unsafe) -> box | nil, finish      new + install, or nothing with --unsafe
  sandbox.environment(box, extra)    box:env(extra), or unsafe_env(extra) without a box
  sandbox.script_arg(program, script, args) -> the `arg` table
  sandbox.load_script(path, env, unsafe) -> chunk | nil, msg   (text chunks only unless unsafe)
  sandbox.explain(msg, script)       (in a message handler) a script's error message with the script's
                                     line, and a hint when it called something the sandbox leaves out

WHAT A SANDBOXED SCRIPT HAS. The globals `weightkit` and `wk` (require "weightkit"), `arg`, and:
  assert error ipairs next pairs pcall xpcall select type tostring tonumber rawequal rawget rawlen
  rawset setmetatable getmetatable (nil for strings) collectgarbage print _VERSION,
  string (without dump), table, math, utf8, coroutine;
  load (text chunks only; the sandbox is the default environment), loadfile / dofile (text, allowed
  paths only);
  require: "weightkit" and weightkit.* modules found in weightkit's own Lua directory (not
    weightkit.cli.*), and the library names string/table/math/utf8/coroutine;
  io.write / io.read / io.lines() on stdout/stdin, io.stdout, io.stderr, io.stdin, io.type,
    io.open / io.lines(path) on allowed paths;
  os.time, os.clock, os.date, os.difftime, os.remove / os.rename on allowed paths, os.tmpname
    (the name it returns, and that name plus a suffix, become allowed paths).
Absent: os.execute, os.exit, os.getenv, io.popen, io.input/io.output, package (and so
package.loadlib), debug, string.dump. A script sets its exit status by returning an integer.

ALLOWED PATHS. A path given on the command line, P, allows:
  P itself (and core.path_kind of the directory holding P) and, when P is a directory (a TF
  checkpoint or SavedModel directory), everything under it;
  P.index, P.data-* (a TF checkpoint prefix), P.tmp-weightkit (an atomic write's temporary), and
  the `checkpoint` file (and its temporary .checkpoint.tmpN) in P's directory;
  for P = DIR/BASE.weights.json: the shards DIR/BASE_*.weights.h5.
Paths are compared after resolving symlinks and "..": both the path's full resolution and its
directory's resolution plus its last name are tried (host.resolve, src/cli_main.c), so neither a
symlink inside an allowed directory nor "OUT/../x" leads elsewhere. A path whose directory does
not exist is compared by its lexical normal form. Reading and writing are not told apart.

HOW IT IS ENFORCED. The library reaches files through the functions of the weightkit.core table
(open, save_keras2, save_keras3, save_keras_zip, save_safetensors, save_tf_checkpoint, path_kind)
and the io.open / os.remove / os.rename of the host's io and os tables, looked up at call time.
install() replaces exactly those entries with guarded versions for the rest of the command (the
command's own reading of IN and writing of OUT pass the same guards): a library call made by the
script, or by a function the script left behind (a rule, a patched method), cannot escape. A denied
access raises
  weightkit: sandbox: access to <path> is not allowed (pass it on the command line, or use --unsafe)
The files the C core opens by itself once given an allowed path (a checkpoint's shards, the
members of a sharded index) are not checked one by one. ("").dump stays reachable through the
string metatable, harmless as load refuses binary chunks. The sandbox guards against scripts that
overreach by mistake or carelessly; it is not a boundary for hostile native code.
]]
local core = require "weightkit.core"

local M = {}

local ok_host, host = pcall(require, "weightkit.cli.host")
if not ok_host then host = nil end

M.DENIED_HINT = "(pass it on the command line, or use --unsafe)"

local function deny(path)
  error("weightkit: sandbox: access to " .. tostring(path) .. " is not allowed " .. M.DENIED_HINT, 0)
end

-- Lexical normal form: "." and empty components dropped, "x/.." folded.
local function lexical(path)
  local absolute = path:sub(1, 1) == "/"
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      if #parts > 0 and parts[#parts] ~= ".." then parts[#parts] = nil
      elseif not absolute then parts[#parts + 1] = ".." end
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  local s = table.concat(parts, "/")
  if absolute then return "/" .. s end
  return s == "" and "." or s
end

-- The forms a path is known by: its full resolution, its directory's resolution + last name, or,
-- when neither exists, its lexical form.
local function forms(path)
  local out = {}
  if host then
    local full, parent = host.resolve(path), host.resolve(path, true)
    if full then out[#out + 1] = full end
    if parent and parent ~= full then out[#out + 1] = parent end
  end
  if #out == 0 then out[1] = lexical(path) end
  return out
end

local function escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- Lua patterns a candidate form must match (whole string) to be allowed by the form p.
-- (The directory holding p is only ever stat'ed: see Box:allowed_stat.)
local function patterns_for(p)
  local e = escape(p)
  local dir, name = p:match("^(.*)/([^/]*)$")
  local list = {
    "^" .. e .. "$",
    "^" .. e .. "/.*$",
    "^" .. e .. "%.index$",
    "^" .. e .. "%.data%-[^/]*$",
    "^" .. e .. "%.tmp%-weightkit$",
  }
  local edir = dir and escape(dir) .. "/" or ""
  list[#list + 1] = "^" .. edir .. "checkpoint$"
  list[#list + 1] = "^" .. edir .. "%.checkpoint%.tmp%d+$"
  local base = (name or p):match("^(.*)%.weights%.json$")
  if base then list[#list + 1] = "^" .. edir .. escape(base) .. "_[^/]*%.weights%.h5$" end
  return list
end

local Box = {}
Box.__index = Box

function M.new(paths)
  local self = setmetatable({ patterns = {}, dirs = {} }, Box)
  for _, p in ipairs(paths) do self:allow(p) end
  return self
end

function Box:allow(path)
  if type(path) ~= "string" or path == "" then return end
  for _, f in ipairs(forms(path)) do
    for _, pat in ipairs(patterns_for(f)) do self.patterns[#self.patterns + 1] = pat end
    self.dirs[f:match("^(.*)/[^/]*$") or "."] = true
  end
end

-- Allows only `path` and path + a suffix (os.tmpname's names).
function Box:allow_prefix(path)
  for _, f in ipairs(forms(path)) do self.patterns[#self.patterns + 1] = "^" .. escape(f) .. "[^/]*$" end
end

function Box:allowed(path)
  if type(path) ~= "string" or path == "" then return false end
  for _, f in ipairs(forms(path)) do
    for _, pat in ipairs(self.patterns) do
      if f:find(pat) then return true end
    end
  end
  return false
end

-- core.path_kind may also look at the directory holding an allowed path (writers check it exists).
function Box:allowed_stat(path)
  if self:allowed(path) then return true end
  if type(path) ~= "string" or path == "" then return false end
  for _, f in ipairs(forms(path)) do
    if self.dirs[f] then return true end
  end
  return false
end

-- Raises unless path is allowed; returns path.
function Box:check(path)
  if not self:allowed(path) then deny(path) end
  return path
end

--{=====================================================================================================
-- Guards on the process's entry points
--======================================================================================================

local CORE_PATH_FUNCTIONS = { "open", "save_keras2", "save_keras3", "save_keras_zip", "save_safetensors",
  "save_tf_checkpoint" }

function M.guard(box, fn)
  return function(path, ...)
    box:check(path)
    return fn(path, ...)
  end
end

function Box:install()
  local saved = {}
  local function patch(tbl, key, new)
    saved[#saved + 1] = { tbl, key, tbl[key] }
    tbl[key] = new
  end
  for _, name in ipairs(CORE_PATH_FUNCTIONS) do
    if core[name] then patch(core, name, M.guard(self, core[name])) end
  end
  local path_kind = core.path_kind
  patch(core, "path_kind", function(path)
    if not self:allowed_stat(path) then deny(path) end
    return path_kind(path)
  end)
  patch(io, "open", M.guard(self, io.open))
  patch(os, "remove", M.guard(self, os.remove))
  local rename = os.rename
  patch(os, "rename", function(from, to)
    self:check(from)
    self:check(to)
    return rename(from, to)
  end)
  return function()
    for i = #saved, 1, -1 do
      local s = saved[i]
      s[1][s[2]] = s[3]
    end
  end
end

--{=====================================================================================================
-- The script environment
--======================================================================================================

local SAFE_GLOBALS = { "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "type",
  "tostring", "tonumber", "rawequal", "rawget", "rawlen", "rawset", "setmetatable", "collectgarbage", "print",
  "_VERSION" }

local function copy(t, without)
  local out = {}
  for k, v in pairs(t) do
    if k ~= without then out[k] = v end
  end
  return out
end

-- The directory holding weightkit's Lua sources (where weightkit/cli/sandbox.lua was found).
local function lua_dir()
  local here = package.searchpath("weightkit.cli.sandbox", package.path)
  return here and here:match("^(.*)/weightkit/cli/sandbox%.lua$")
end

function Box:env(extra)
  local box = self
  local env = {}
  for _, name in ipairs(SAFE_GLOBALS) do env[name] = _G[name] end
  env.string = copy(string, "dump")
  env.table, env.math, env.utf8, env.coroutine = copy(table), copy(math), copy(utf8), copy(coroutine)
  local real_getmetatable = getmetatable
  env.getmetatable = function(v)
    if type(v) == "string" then return nil end
    return real_getmetatable(v)
  end

  local libs = { string = env.string, table = env.table, math = env.math, utf8 = env.utf8,
    coroutine = env.coroutine }
  local dir = lua_dir()
  env.require = function(name)
    if libs[name] then return libs[name] end
    local ok = type(name) == "string" and (name == "weightkit" or name:match("^weightkit%.[%w_%.]+$"))
      and name ~= "weightkit.cli" and not name:match("^weightkit%.cli%.")
    if ok and not package.loaded[name] then
      local found = package.searchpath(name, package.path)
      ok = found ~= nil and dir ~= nil and found:sub(1, #dir + 1) == dir .. "/"
    end
    if not ok then
      error("weightkit: sandbox: require of module '" .. tostring(name) .. "' is not allowed (weightkit " ..
        "modules only; use --unsafe)", 2)
    end
    return require(name)
  end

  local real_load = load
  env.load = function(chunk, name, _, ...)
    if select("#", ...) > 0 then return real_load(chunk, name, "t", ...) end
    return real_load(chunk, name, "t", env)
  end
  env.loadfile = function(path, _, ...)
    box:check(path)
    if select("#", ...) > 0 then return loadfile(path, "t", ...) end
    return loadfile(path, "t", env)
  end
  env.dofile = function(path)
    local chunk, msg = env.loadfile(path)
    if not chunk then error(msg, 2) end
    return chunk()
  end

  local open = io.open
  local stdin, stdout = io.stdin, io.stdout
  env.io = {
    write = function(...) return stdout:write(...) end,
    read = function(...) return stdin:read(...) end,
    lines = function(path, ...)
      if path == nil then return stdin:lines(...) end
      box:check(path)
      return io.lines(path, ...)
    end,
    open = function(path, ...) return open(box:check(path), ...) end,
    stdout = stdout, stderr = io.stderr, stdin = stdin, type = io.type,
  }
  local remove, rename, tmpname = os.remove, os.rename, os.tmpname
  env.os = {
    time = os.time, clock = os.clock, date = os.date, difftime = os.difftime,
    remove = function(path) return remove(box:check(path)) end,
    rename = function(from, to) return rename(box:check(from), box:check(to)) end,
    tmpname = function()
      local name = tmpname()
      box:allow_prefix(name)
      return name
    end,
  }

  local wk = require "weightkit"
  env.weightkit, env.wk = wk, wk
  for k, v in pairs(extra or {}) do env[k] = v end
  env._G = env
  return env
end

-- The session of one command: with unsafe, nothing is guarded (box nil); else a box over `paths`,
-- installed. Returns box, finish (undoes the guards; call it once the command is done).
function M.start(paths, unsafe)
  if unsafe then return nil, function() end end
  local box = M.new(paths)
  return box, box:install()
end

-- A script environment for the session's box (the --unsafe one without a box).
function M.environment(box, extra)
  if box then return box:env(extra) end
  return M.unsafe_env(extra)
end

-- The `arg` table a script gets, as lua5.4 builds it: program at -1, script at 0, then args.
function M.script_arg(program, script, args)
  local t = { [-1] = program, [0] = script }
  for i, a in ipairs(args) do t[i] = a end
  return t
end

-- Loads the script at path (given on the command line, so not checked) into env: text only when
-- sandboxed. Returns the chunk or nil, message.
function M.load_script(path, env, unsafe)
  return loadfile(path, unsafe and "bt" or "t", env)
end

function M.unsafe_env(extra)
  local wk = require "weightkit"
  local env = setmetatable({ weightkit = wk, wk = wk }, { __index = _G })
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

-- The names a sandboxed script finds absent, for a hint after "attempt to call a nil value".
M.ABSENT = { ["os.execute"] = true, ["os.exit"] = true, ["os.getenv"] = true, ["io.popen"] = true,
  ["io.input"] = true, ["io.output"] = true, ["package.loadlib"] = true, ["string.dump"] = true }

-- A script's error message (a message handler runs it, so the failing stack is still there): with
-- the script's line in front when the error was raised elsewhere (a denied library call), and a hint
-- when it stems from something the sandbox leaves out.
function M.explain(msg, script)
  msg = tostring(msg)
  if script and msg:sub(1, #script + 1) ~= script .. ":" then
    for level = 2, 50 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.source == "@" .. script and info.currentline > 0 then
        msg = script .. ":" .. info.currentline .. ": " .. msg
        break
      end
    end
  end
  local field = msg:match("attempt to call a nil value %(field '([%w_]+)'%)")
  if field then
    for name in pairs(M.ABSENT) do
      if name:match("%.([%w_]+)$") == field then
        return msg .. " (" .. name .. " is not available in the weightkit sandbox; use --unsafe)"
      end
    end
  end
  local global = msg:match("attempt to index a nil value %(global '([%w_]+)'%)")
  if global == "package" or global == "debug" then
    return msg .. " (" .. global .. " is not available in the weightkit sandbox; use --unsafe)"
  end
  return msg
end

return M
