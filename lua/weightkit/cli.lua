--[[
The `weightkit` command. The C host (src/cli_main.c) calls main(argv) with argv[0] the program
name; main returns the process exit status. Each command is one function of the `commands` table;
bigger commands live in lua/weightkit/cli/<name>.lua (inspect, convert).
]]
local cli = {}

local USAGE = [[
usage: weightkit <command> [arguments]

commands:
  run SCRIPT [ARGS...]   run a Lua script with weightkit available, its arguments in `arg`
  inspect [--json] [--sha256] PATH
                         summarize a weights file (metadata only); --json prints it as JSON,
                         --sha256 adds the SHA-256 of every tensor
  convert IN OUT [--model model.lua | --config config.json] [--json] [--overwrite] [--strict]
                         load IN (any weights format) into a model and save it as OUT (format
                         from OUT's name; a TF checkpoint prefix otherwise); convert --help
  version                print the weightkit version
  help                   print this text
]]

local commands = {}

-- Runs a script as `lua5.4 SCRIPT ARGS...` would: a global `arg` with the script at 0 and the
-- program at -1, the arguments also passed as `...`.
function commands.run(argv)
  local script = argv[2]
  if not script then
    io.stderr:write("weightkit run: missing the script to run\n")
    return 2
  end
  local chunk, err = loadfile(script)
  if not chunk then
    io.stderr:write("weightkit run: ", err, "\n")
    return 1
  end
  local script_arg = { [-1] = argv[0], [0] = script }
  for i = 3, #argv do script_arg[i - 2] = argv[i] end
  _G.arg = script_arg
  chunk(table.unpack(script_arg, 1, #script_arg))
  return 0
end

function commands.inspect(argv)
  return require("weightkit.cli.inspect").run(argv)
end

function commands.convert(argv)
  return require("weightkit.cli.convert").run(argv)
end

function commands.version()
  print("weightkit " .. require("weightkit.core").version)
  return 0
end

function commands.help()
  io.write(USAGE)
  return 0
end

function cli.main(argv)
  local name = argv[1]
  local command = name and commands[name]
  if not command then
    io.stderr:write(name and ("weightkit: unknown command '" .. name .. "'\n") or "", USAGE)
    return 2
  end
  return command(argv)
end

return cli
