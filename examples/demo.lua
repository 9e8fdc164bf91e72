-- make demo: the everyday jobs of weightkit on a shipped Keras 2 weights file
-- (examples/data/iris_mlp.h5, written by examples/make_sample.py the way tf.keras writes it):
--   1. look inside the file without a model;
--   2. load it into the same architecture built in Lua, and run the model;
--   3. transfer the body into a model with a new head (by_name + skip_mismatch), as a recipe would;
--   4. save the result atomically and read it back.
local wk = require "weightkit"
local shape_str = require("weightkit.naming").shape_str

local here = (arg and arg[0] or "examples/demo.lua"):match("^(.*)/[^/]*$") or "."
local sample = here .. "/data/iris_mlp.h5"

print("1. " .. sample)
do
  local file <close> = wk.load_file(sample)
  print(("   format %s, Keras %s, backend %s"):format(file.format, file.keras_version, file.backend))
  for _, layer in ipairs(file:layers()) do
    for _, w in ipairs(layer.weights) do
      print(("   %-40s %-8s sum %.6f"):format(w.name, shape_str(w.tensor:shape()), w.tensor:sum()))
    end
  end
end

local function classifier(classes)
  return wk.Sequential{
    wk.layers.Input{shape = {4}},
    wk.layers.Dense{units = 8, activation = "relu"},
    wk.layers.BatchNormalization{},
    wk.layers.Dense{units = classes, activation = "softmax"},
  }
end

print("\n2. load_weights into the same architecture")
local model = classifier(3)
local report = model:load_weights(sample)
print(report)
local flowers = wk.tensor{{5.1, 3.5, 1.4, 0.2}, {6.7, 3.0, 5.2, 2.3}}
print("   model(flowers) =")
print(model(flowers))

print("\n3. transfer the body into a 5-class model (by_name, skip_mismatch)")
wk.backend.clear_session()
local student = classifier(5)
print(student:load_weights(sample, {by_name = true, skip_mismatch = true}))

print("\n4. save_weights and read back")
local out = os.tmpname() .. ".h5"
student:save_weights(out)
local twin = classifier(5)
twin:load_weights(out)
print("   max |student - twin| on the flowers:", student(flowers):max_abs_diff(twin(flowers)))
os.remove(out)
