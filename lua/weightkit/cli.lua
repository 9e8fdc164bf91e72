--[[
The `weightkit` command. The C host (src/cli_main.c) calls main(argv) with argv[0] the program
name; main returns the process exit status. Each command is one function of the `commands` table;
the bigger ones live in lua/weightkit/cli/<name>.lua (inspect, diff, convert, remap, edit), with the
script sandbox (cli/sandbox.lua) and the progress bar (cli/progress.lua) they share.

Every command takes --help (-h). inspect, diff, convert, remap and edit take --json: one JSON
document on stdout instead of the readable report (errors still go to stderr as
"weightkit <command>: <message>"). A progress bar is drawn on stderr only when it is a terminal.

EXIT STATUS
  0  success (diff: the files match)
  1  failure: the file could not be opened/read/written, the script raised (inspect, convert, remap,
     edit, run); diff: the files differ; convert --strict / remap --strict: names left over
  2  usage error (unknown option, missing argument); diff: also a file it cannot open or read, as
     diff(1) keeps 1 for "different"
  run: a script may return an integer, which becomes the exit status.

SCRIPTS (run, edit --script, remap --rules) run in the sandbox (cli/sandbox.lua): the weightkit
module, the safe parts of the standard library, and file access only to the paths named on the
command line. --unsafe (before the script for `run`) lifts it: the script gets every global of Lua.
]]
local cli = {}

local USAGE = [[
usage: weightkit <command> [arguments]     (weightkit <command> --help for its options)

commands:
  inspect PATH [--json] [--sha256]
                         summarize a weights file (metadata only)
  diff A B [--atol X] [--rtol Y] [--name-only] [--json]
                         compare two weights files tensor by tensor; exit 1 when they differ
  convert IN OUT [--model model.lua | --config config.json] [--json] [--overwrite] [--strict]
                         load IN (any weights format) into a model and save it as OUT (format from
                         OUT's name)
  remap IN OUT --rules rules.lua [--dry-run] [--json] [--overwrite] [--strict] [--unsafe]
                         rename (and transform) IN's weights by remap rules, save as OUT
  edit IN OUT --script edit.lua [--json] [--overwrite] [--unsafe] [-- ARGS...]
                         run a script on an editor of IN (`ed`), save the result as OUT
  run [--unsafe] SCRIPT [ARGS...]
                         run a Lua script with weightkit available, its arguments in `arg`
  version                print the weightkit version
  help                   print this text

Scripts run in a sandbox: the weightkit module, no os.execute / io.popen, and file access only to
the paths given on the command line; --unsafe lifts it.
Exit status: 0 success, 1 failure (diff: the files differ), 2 usage error (diff: also trouble).
]]

local RUN_USAGE = "usage: weightkit run [--unsafe] SCRIPT [ARGS...]\n"

local RUN_HELP = RUN_USAGE .. [[

Run SCRIPT as lua5.4 would: `arg` holds its arguments (arg[0] the script), also passed as `...`.
The globals `weightkit` and `wk` hold the module (require "weightkit" works too). If the script
returns an integer, it is the exit status.

Sandbox (default): the safe standard library (string, table, math, utf8, coroutine, print, pcall, ...),
require of weightkit modules only, io.write/io.read on stdout/stdin, and io.open, os.remove,
os.rename, wk.open, save_weights ... only on SCRIPT, the ARGS (with a TF checkpoint's or sharded
file's siblings, everything under a directory argument) and names from os.tmpname().
No os.execute, os.exit, os.getenv, io.popen, package, debug, binary chunks.
  --unsafe       run with every global of Lua and no file restriction
]]

local commands = {}

function commands.run(argv)
  local sandbox = require "weightkit.cli.sandbox"
  local unsafe, i = false, 2
  while argv[i] and argv[i]:sub(1, 1) == "-" do
    local v = argv[i]
    if v == "--help" or v == "-h" then io.write(RUN_HELP); return 0
    elseif v == "--unsafe" then unsafe = true
    elseif v == "--" then i = i + 1; break
    else
      io.stderr:write("weightkit run: unknown option '", v, "'\n", RUN_USAGE)
      return 2
    end
    i = i + 1
  end
  local script = argv[i]
  if not script then
    io.stderr:write("weightkit run: missing the script to run\n", RUN_USAGE)
    return 2
  end
  local args = table.move(argv, i + 1, #argv, 1, {})
  local box, finish = sandbox.start({ script, table.unpack(args) }, unsafe)
  local script_arg = sandbox.script_arg(argv[0], script, args)
  local env = sandbox.environment(box, { arg = script_arg })
  local chunk, err = sandbox.load_script(script, env, unsafe)
  if not chunk then
    finish()
    io.stderr:write("weightkit run: ", err, "\n")
    return 1
  end
  local results = table.pack(xpcall(chunk, function(m)
    return debug.traceback(sandbox.explain(m, script), 2)
  end, table.unpack(args)))
  finish()
  if not results[1] then
    io.stderr:write("weightkit run: ", tostring(results[2]), "\n")
    return 1
  end
  local status = results[2]
  if math.type(status) == "integer" then return status end
  return 0
end

for _, name in ipairs{ "inspect", "diff", "convert", "remap", "edit" } do
  commands[name] = function(argv) return require("weightkit.cli." .. name).run(argv) end
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
  if name == "--help" or name == "-h" then name = "help" end
  if name == "--version" then name = "version" end
  local command = name and commands[name]
  if not command then
    io.stderr:write(name and ("weightkit: unknown command '" .. name .. "'\n") or "", USAGE)
    return 2
  end
  return command(argv)
end

return cli
