-- The rockspec lists every source, and `luarocks make` builds and installs it offline.
local ROCKSPEC = "rockspec/weightkit-scm-1.rockspec"

local function load_rockspec()
  local env = {}
  assert(loadfile(ROCKSPEC, "t", env))()
  return env
end

local function list(command)
  local names = {}
  for line in assert(io.popen(command)):lines() do names[#names + 1] = line end
  table.sort(names)
  return names
end

describe("rockspec", function()
  local spec = load_rockspec()

  it("builds weightkit.core from every C source of the core and the binding", function()
    local sources = {}
    for _, path in ipairs(spec.build.modules["weightkit.core"].sources) do sources[#sources + 1] = path end
    table.sort(sources)
    assert.are.same(list("ls src/wk_*.c src/lwk_*.c src/lweightkit.c | sort"), sources)
  end)

  it("installs every Lua module under its module name", function()
    local expected, listed = {}, {}
    for _, path in ipairs(list("cd lua && find weightkit -name '*.lua'")) do
      local name = path:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      expected[#expected + 1] = name .. "=lua/" .. path
    end
    for name, path in pairs(spec.build.modules) do
      if type(path) == "string" then listed[#listed + 1] = name .. "=" .. path end
    end
    table.sort(expected)
    table.sort(listed)
    assert.are.same(expected, listed)
  end)

  -- Building with luarocks proves nothing about memory safety, so the sanitizer run skips it.
  local it_unless_asan = os.getenv("WK_ASAN") == "1" and pending or it

  it_unless_asan("builds offline with luarocks and `require 'weightkit'` works from the tree", function()
    local tree = os.tmpname()
    os.remove(tree)
    local build = io.popen("luarocks --lua-version=5.4 make --tree=" .. tree .. " " .. ROCKSPEC .. " 2>&1")
    local log = build:read("a")
    assert.is_true(build:close(), log)
    local probe = io.popen(("cd /tmp && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so' lua5.4 -e \"local wk = require 'weightkit'; "
      .. "print(wk._VERSION, package.searchpath('weightkit.core', package.cpath))\" 2>&1"):format(tree, tree, tree))
    local out = probe:read("a")
    probe:close()
    os.execute("rm -rf '" .. tree .. "'")
    assert.are.equal(require("weightkit.core").version .. "\t" .. tree .. "/lib/lua/5.4/weightkit/core.so\n", out)
  end)
end)
