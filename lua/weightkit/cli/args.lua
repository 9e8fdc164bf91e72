--[[
weightkit.cli.args — the one command-line parser of the weightkit commands.

  args.parse(argv, spec) -> a | nil, message
      argv[1] is the command's name (skipped). spec:
        flags   = {"json", "overwrite", ...}     --json -> a.json = true (`--help` and `-h` -> a.help,
                                                 always accepted)
        values  = {"rules", "max-shard-size"}    --rules X or --rules=X -> a.rules = "X" (the key is the
                                                 option's name as written, dashes kept)
        numbers = {atol = 1e-8, rtol = 1e-5}     --atol X: a finite number >= 0; the defaults preset a
        rest    = true                           "--" ends the options: what follows goes to a.args
      Every other argument starting with "-" (but "-" itself) is an unknown option; the others are
      collected in a.positional.
  args.usage_error(command, usage, message) -> 2
      writes "weightkit <command>: <message>\n" and the usage line to stderr; 2 is the usage exit status.
  args.start(argv, command) -> a | nil, exit status
      what every command does first: parse with command.spec, answer --help with command.help (0),
      check that there are exactly #command.operands positional arguments ("expected IN and OUT")
      and that every option in command.required was given ("missing --rules"); usage errors give 2.
      command = {name =, usage =, help =, spec =, operands = {"IN", "OUT"}, required = {"rules"}}
]]
local M = {}

local function set_of(list)
  local s = {}
  for _, name in ipairs(list or {}) do s[name] = true end
  return s
end

function M.parse(argv, spec)
  local flags, values = set_of(spec.flags), set_of(spec.values)
  local numbers = spec.numbers or {}
  local a = { positional = {}, args = {} }
  for name, default in pairs(numbers) do a[name] = default end
  local i = 2
  while i <= #argv do
    local v = argv[i]
    local name, inline = v:match("^%-%-([%w%-]+)=(.*)$")
    name = name or v:match("^%-%-([%w%-]+)$")
    if v == "--" and spec.rest then
      table.move(argv, i + 1, #argv, 1, a.args)
      break
    elseif v == "-h" or name == "help" or (name and flags[name]) then
      if inline then return nil, v:match("^[^=]+") .. " takes no value" end
      a[name or "help"] = true
    elseif name and (values[name] or numbers[name] ~= nil) then
      local value = inline
      if value == nil then
        i = i + 1
        value = argv[i]
        if value == nil then return nil, "--" .. name .. " needs a value" end
      end
      if numbers[name] ~= nil then
        local x = tonumber(value)
        if not x or x ~= x or x < 0 or x == math.huge then
          return nil, "--" .. name .. " needs a finite number >= 0 (got " .. tostring(value) .. ")"
        end
        value = x
      end
      a[name] = value
    elseif v:sub(1, 1) == "-" and v ~= "-" then
      return nil, "unknown option " .. v
    else
      a.positional[#a.positional + 1] = v
    end
    i = i + 1
  end
  return a
end

function M.usage_error(command, usage, message)
  io.stderr:write("weightkit ", command, ": ", message, "\n", usage)
  return 2
end

function M.start(argv, command)
  local a, message = M.parse(argv, command.spec)
  if not a then return nil, M.usage_error(command.name, command.usage, message) end
  if a.help then
    io.write(command.help)
    return nil, 0
  end
  if #a.positional ~= #command.operands then
    return nil, M.usage_error(command.name, command.usage, "expected " .. table.concat(command.operands, " and "))
  end
  for _, option in ipairs(command.required or {}) do
    if a[option] == nil then return nil, M.usage_error(command.name, command.usage, "missing --" .. option) end
  end
  return a
end

return M
