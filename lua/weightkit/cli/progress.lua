--[[
weightkit.cli.progress — a progress bar on stderr for the commands' long loops (diff, convert, remap,
edit), drawn only when stderr is a terminal (core.isatty(2)); silent otherwise, so pipes, logs and
specs never see it. Set WEIGHTKIT_PROGRESS=0 to silence it on a terminal too.

  local bar = progress.new("diff", total)   total: the number of steps (0 or nil: a counter only)
  bar:step(label)                           one step done; label (e.g. a tensor name) shown after it
  bar:done()                                erases the bar (call it before printing results)

The bar is redrawn at most every 0.1 s of CPU time and on the last step: "\r" + one line that
fits 79 columns, erased with "\r" + spaces + "\r". No state is global: bars do not nest.
]]
local core = require "weightkit.core"

local M = {}

local WIDTH = 79
local BAR = 24

local Bar = {}
Bar.__index = Bar

local function enabled()
  if os.getenv("WEIGHTKIT_PROGRESS") == "0" then return false end
  return core.isatty(2)
end

function M.new(title, total)
  return setmetatable({ title = title, total = total or 0, n = 0, last = -1, on = enabled(), drawn = false },
    Bar)
end

function Bar:draw(label)
  local text
  if self.total > 0 then
    local filled = math.floor(BAR * self.n / self.total + 0.5)
    text = string.format("%s [%s%s] %d/%d", self.title, string.rep("#", filled), string.rep(".", BAR - filled),
      self.n, self.total)
  else
    text = string.format("%s %d", self.title, self.n)
  end
  if label and label ~= "" then
    local room = WIDTH - #text - 1
    if room > 3 then
      if #label > room then label = "..." .. label:sub(-(room - 3)) end
      text = text .. " " .. label
    end
  end
  io.stderr:write("\r", text, string.rep(" ", WIDTH - #text))
  io.stderr:flush()
  self.drawn = true
end

function Bar:step(label)
  self.n = self.n + 1
  if not self.on then return end
  local now = os.clock()
  if now - self.last >= 0.1 or self.n == self.total then
    self.last = now
    self:draw(label)
  end
end

function Bar:done()
  if self.drawn then
    io.stderr:write("\r", string.rep(" ", WIDTH), "\r")
    io.stderr:flush()
    self.drawn = false
  end
end

return M
