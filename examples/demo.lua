-- make demo: build a small Keras-style model, run it, and move its weights into a twin model,
-- the everyday job of weightkit (get_weights / set_weights across models).
local wk = require "weightkit"

wk.backend.set_seed(7)
local function mlp()
  return wk.Sequential{
    wk.layers.Input{shape = {4}},
    wk.layers.Dense{units = 8, activation = "relu"},
    wk.layers.BatchNormalization{},
    wk.layers.Dense{units = 3, activation = "softmax"},
  }
end

local teacher, student = mlp(), mlp()
teacher:summary()

local sample = wk.tensor{{0.5, -1.0, 2.0, 0.25}, {1.0, 0.0, -0.5, 3.0}}
print("teacher(sample) =")
print(teacher(sample))

student:set_weights(teacher:get_weights())
print("after student:set_weights(teacher:get_weights()):")
for i, v in ipairs(student:weights()) do
  local same = v.value:allclose(teacher:weights()[i].value, 0, 0)
  print(("  %-40s %-8s %s"):format(v.name, require("weightkit.naming").shape_str(v.value:shape()), same and "equal" or "DIFFERENT"))
end
print("max |teacher - student| on the sample:", teacher(sample):max_abs_diff(student(sample)))
