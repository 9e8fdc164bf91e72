--[[
Remap rules (issue 6 point 1): weightkit.remap (rules, transforms, suggestions) and
weightkit.loading.remap (remap.load). In-memory files are tables of the shape loading/common.lua
describes; the real-file case loads ../shared/fixtures/real/k280_lstm3_genre_weights.h5 into a model
whose layers are renamed and checks every value against the file and expected/*.json.
]]
local wk = require "weightkit"
local remap = require "weightkit.remap"
local errors = require "weightkit.errors"
local json = require "support.json_decode"
local L = wk.layers

local FIXTURES = os.getenv("WEIGHTKIT_REAL_FIXTURES") or "../shared/fixtures/real"

-- A float32 tensor of `shape` holding 0, 1, 2, ... in C order (numbers checked by position).
local function arange(shape, start)
  local n = start or 0
  local function build(axis)
    local out = {}
    for i = 1, shape[axis] do
      if axis == #shape then out[i] = n; n = n + 1 else out[i] = build(axis + 1) end
    end
    return out
  end
  return wk.tensor(build(1), "float32")
end

local function mem_file(layers, extra)
  local f = { keras_version = "2.8.0", backend = "tensorflow" }
  for k, v in pairs(extra or {}) do f[k] = v end
  function f.layers() return layers end
  return f
end

local function quiet(fn, ...)
  local _, a, b = errors.capture_warnings(fn, ...)
  return a, b
end

local function dense_model()
  return wk.Sequential{ L.Input{ shape = { 3 } }, L.Dense{ 2, name = "dense" }, L.Dense{ 1, name = "out" } }
end

local function dense_file(prefix_a, prefix_b)
  return mem_file{
    { name = prefix_a, weights = {
      { name = prefix_a .. "/kernel:0", tensor = arange({ 3, 2 }, 10) },
      { name = prefix_a .. "/bias:0", tensor = arange({ 2 }, 100) } } },
    { name = prefix_b, weights = {
      { name = prefix_b .. "/kernel:0", tensor = arange({ 2, 1 }, 200) },
      { name = prefix_b .. "/bias:0", tensor = arange({ 1 }, 300) } } },
  }
end

local function equal_tensors(a, b)
  return a:dtype() == b:dtype() and #a:shape() == #b:shape() and a:max_abs_diff(b) == 0 and
    table.concat(a:shape(), ",") == table.concat(b:shape(), ",")
end

describe("remap rules", function()
  it("plain pattern pairs rewrite the first match with captures", function()
    local out = remap.rename({ { "^block(%d+)_conv(%d)", "stage%1/conv%2" } },
      { "block3_conv1/kernel:0", "other/kernel:0" })
    assert.equal("stage3/conv1/kernel:0", out[1].to)
    assert.matches("rule 1 %(pattern", out[1].rule)
    assert.is_nil(out[2].to)
    -- only the first match is replaced
    assert.equal("x/lstm/k", remap.rename({ { "lstm", "x" } }, { "lstm/lstm/k" })[1].to)
  end)

  it("tries rules in order and the first match wins", function()
    local rules = { { "^dense_1/", "first/" }, { "^dense_", "second_" }, { "kernel", "k" } }
    local out = remap.rename(rules, { "dense_1/kernel:0", "dense_2/kernel:0", "x/kernel:0" })
    assert.equal("first/kernel:0", out[1].to)
    assert.equal("second_2/kernel:0", out[2].to)
    assert.equal("x/k:0", out[3].to)
    assert.matches("^rule 3 ", out[3].rule)
  end)

  it("exact tables rename, drop and attach transforms; top-level exact goes first", function()
    local r = remap.rules{
      { ".*", "pattern-won" },
      exact = { ["a/kernel:0"] = "b/kernel:0", ["junk:0"] = false,
        ["w:0"] = { "v:0", transform = "torch_linear" } },
    }
    assert.equal("b/kernel:0", (r:rename("a/kernel:0")))
    assert.is_false((r:rename("junk:0")))
    local to, pipe = r:rename("w:0")
    assert.equal("v:0", to)
    assert.equal("transpose{2, 1}", pipe.desc)
    assert.equal("pattern-won", (r:rename("zzz")))
  end)

  it("function rules and function/table replacements; nil falls through to the next rule", function()
    local seen
    local r = remap.rules{
      function(name, entry)
        seen = entry
        if name:match("^skip") then return nil end
        if name:match("^drop") then return false end
        return name:upper()
      end,
    }
    assert.equal("ABC", (r:rename("abc", "lay")))
    assert.equal("lay", seen.layer)
    assert.is_false((r:rename("drop_me")))
    assert.is_nil((r:rename("skip_me")))

    local r2 = remap.rules{
      { "^l(%d+)", function(n) if n == "9" then return nil end return "layer" .. (n + 1) end },
      { "^l(%d+)", { ["9"] = "nine" } },
    }
    assert.equal("layer3/k", (r2:rename("l2/k")))
    assert.equal("nine/k", (r2:rename("l9/k")))
  end)

  it("canonical templates with placeholders", function()
    local r = remap.rules{
      { canonical = {
        { "blk.{bid}.attn_q.weight", "layers/{bid}/query/kernel", transform = "torch_linear" },
        { "blk.{bid}.ffn.{bid}", "never" },          -- a repeated placeholder must agree
        { "tok_embd.weight", "embedding/embeddings" },
        { "rope.{x}", false },
      } },
    }
    local to, pipe = r:rename("blk.12.attn_q.weight")
    assert.equal("layers/12/query/kernel", to)
    assert.equal("transpose{2, 1}", pipe.desc)
    assert.equal("embedding/embeddings", (r:rename("tok_embd.weight")))
    assert.is_nil((r:rename("blk.1.ffn.2")))
    assert.equal("never", (r:rename("blk.1.ffn.1")))
    assert.is_false((r:rename("rope.freqs")))
    assert.is_nil((r:rename("blk.1.2.attn_q.weight"))) -- {bid} does not cross "."
    assert.has_error(function() remap.rules{ { canonical = { { "a.{x}", "b.{y}" } } } } end,
      "weightkit.remap: canonical rule \"a.{x}\": placeholder {y} is not in the source")
  end)

  it("rejects malformed rules when compiling", function()
    assert.has_error(function() remap.rules{ { "^[bad", "x" } } end,
      'weightkit.remap: bad Lua pattern "^[bad": malformed pattern (missing \']\')')
    -- Lua finds an unfinished capture only when a match reaches it: the error names the rule then
    local r = remap.rules{ { "^(bad", "x" } }
    assert.has_error(function() r:rename("bad") end,
      'weightkit.remap: pattern "^(bad" -> "x": unfinished capture')
    assert.has_error(function() remap.rules{ { "^a" } } end,
      'weightkit.remap: rule {"^a", ?} has no `to` (false drops)')
    assert.has_error(function() remap.rules{ 42 } end, "weightkit.remap: a rule must be a table or a function, got number")
    assert.has_error(function() remap.rules{ { "a", "b", transform = "nope" } } end,
      "weightkit.remap: unknown transform preset 'nope'")
  end)
end)

describe("remap.match", function()
  it("reports unmatched names on both sides with the closest candidates", function()
    local res = remap.match({ { "^dense_1/", "dense/" } },
      { "dense_1/kernel:0", "dense_2/kernel:0", "conv/kernel:0" },
      { "dense/kernel:0", "dense_3/kernel:0", "head/kernel:0" })
    assert.equal("dense/kernel:0", res.mapping["dense_1/kernel:0"])
    assert.equal(2, #res.unmatched_file)
    assert.equal("dense_2/kernel:0", res.unmatched_file[1].name)
    assert.equal("dense_3/kernel:0", res.unmatched_file[1].suggestions[1])
    assert.equal("conv/kernel:0", res.unmatched_file[2].name)
    assert.equal(2, #res.unmatched_model)
    assert.equal("dense_3/kernel:0", res.unmatched_model[1].name)
    assert.equal("dense_2/kernel:0", res.unmatched_model[1].suggestions[1])
    assert.equal("head/kernel:0", res.unmatched_model[2].name)
  end)

  it("reports two file names for one model name as ambiguous", function()
    local res = remap.match({ { "^dense_%d/", "dense/" } },
      { "dense_1/kernel:0", "dense_2/kernel:0" }, { "dense/kernel:0", "dense_2/kernel:0" })
    assert.equal(0, #res.pairs)
    assert.equal(1, #res.ambiguous)
    assert.same({ "dense_1/kernel:0", "dense_2/kernel:0" }, res.ambiguous[1].files)
    assert.equal("dense_2/kernel:0", res.ambiguous[1].suggestions["dense_2/kernel:0"][1])
    assert.is_nil(res.mapping["dense_1/kernel:0"])
    -- every model name stays unfed and is reported
    assert.equal(2, #res.unmatched_model)
  end)

  it("lists dropped names and matches names with and without :0 and across cell suffixes", function()
    local res = remap.match({ { "^opt/", false }, { "^lstm_1/", "enc/" } },
      { "opt/m", "lstm_1/lstm_cell_1/kernel", "dense/bias" },
      { "enc/lstm_cell/kernel:0", "dense/bias:0" })
    assert.same({ "opt/m" }, res.dropped)
    assert.equal("enc/lstm_cell/kernel:0", res.mapping["lstm_1/lstm_cell_1/kernel"])
    assert.equal("dense/bias:0", res.mapping["dense/bias"])
    assert.equal("loose", res.pairs[1].via)
    assert.equal("name", res.pairs[2].via)
  end)
end)

describe("remap.closest", function()
  it("computes bounded Levenshtein distances", function()
    assert.equal(3, remap.distance("kitten", "sitting"))
    assert.is_nil(remap.distance("kitten", "sitting", 2))
    assert.equal(0, remap.distance("", ""))
    assert.equal(4, remap.distance("", "abcd"))
    local c = remap.closest("dense_1/kernel:0", { "dense/kernel:0", "dense_1/bias:0", "conv2d/kernel:0",
      "something/very/far:0" })
    assert.same({ "dense/kernel:0", "dense_1/bias:0", "conv2d/kernel:0" },
      { c[1].name, c[2].name, c[3].name })
    assert.equal(2, c[1].distance)
    assert.equal(3, #c)
  end)
end)

describe("remap transforms", function()
  local T = remap.transforms
  local function run(spec, ...)
    local pipe = T.pipeline(spec)
    local ts = { ... }
    local shapes = {}
    for i, t in ipairs(ts) do shapes[i] = t:shape() end
    local predicted = T.shape(pipe, shapes)
    local out = T.apply(pipe, ts)
    assert.same(predicted, out:shape())
    return out
  end

  it("torch_conv2d turns OIHW into HWIO", function()
    local w = arange{ 4, 3, 2, 5 }
    local k = run("torch_conv2d", w)
    assert.same({ 2, 5, 3, 4 }, k:shape())
    for o = 1, 4 do for i = 1, 3 do for h = 1, 2 do for x = 1, 5 do
      assert.equal(w[o][i][h][x], k[h][x][i][o])
    end end end end
    -- element (o=2, i=3, h=1, w=4) is at flat index ((1*3+2)*2+0)*5+3 = 53
    assert.equal(53, k[1][4][3][2])
  end)

  it("torch_conv1d and torch_linear", function()
    local w = arange{ 4, 3, 2 }
    local k = run("torch_conv1d", w)
    assert.same({ 2, 3, 4 }, k:shape())
    assert.equal(w[4][1][2], k[2][1][4])
    local lin = run("torch_linear", arange{ 2, 3 })
    assert.same({ { 0, 3 }, { 1, 4 }, { 2, 5 } }, lin:totable())
  end)

  it("gate_reorder moves whole gate blocks (GRU r,z,n -> z,r,n)", function()
    local b = run(T.gate_reorder("rzn", "zrn"), arange{ 6 })
    assert.same({ 2, 3, 0, 1, 4, 5 }, b:totable())
    local k = run(T.gate_reorder({ "i", "c", "f", "o" }, { "i", "f", "c", "o" }, 2), arange{ 2, 4 })
    assert.same({ { 0, 2, 1, 3 }, { 4, 6, 5, 7 } }, k:totable())
    local k1 = run(T.gate_reorder("rzn", "zrn", 1), arange{ 3, 2 })
    assert.same({ { 2, 3 }, { 0, 1 }, { 4, 5 } }, k1:totable())
  end)

  it("bias_sum, concat, stack, sum", function()
    local s = run("torch_lstm_bias", arange({ 4 }), arange({ 4 }, 10))
    assert.same({ 10, 12, 14, 16 }, s:totable())
    assert.same({ { 0, 1, 10, 11 } }, run(T.concat(-1), arange{ 1, 2 }, arange({ 1, 2 }, 10)):totable())
    assert.same({ { 0, 1 }, { 10, 11 } }, run(T.concat(1), arange{ 1, 2 }, arange({ 1, 2 }, 10)):totable())
    assert.same({ { 0, 10 }, { 1, 11 } }, run(T.stack(-1), arange{ 2 }, arange({ 2 }, 10)):totable())
    assert.same({ 30 }, run(T.sum(), arange({ 1 }, 5), arange({ 1 }, 10), arange({ 1 }, 15)):totable())
  end)

  it("torch_gru_kernel and torch_gru_bias", function()
    -- PyTorch weight_ih (3u, in) with u = 2, in = 1: rows r0 r1 z0 z1 n0 n1 hold 0..5
    local k = run("torch_gru_kernel", arange{ 6, 1 })
    assert.same({ { 2, 3, 0, 1, 4, 5 } }, k:totable())
    local b = run("torch_gru_bias", arange{ 6 }, arange({ 6 }, 10))
    assert.same({ { 2, 3, 0, 1, 4, 5 }, { 12, 13, 10, 11, 14, 15 } }, b:totable())
  end)

  it("reshape, slice, split, scale, cast, transpose, permute", function()
    assert.same({ 3, 2 }, run(T.reshape{ -1, 2 }, arange{ 6 }):shape())
    assert.same({ 1, 2 }, run(T.slice(1, 2, 3), arange{ 4 }):totable())
    assert.same({ 3 }, run(T.slice(-1, -1), arange{ 4 }):totable())
    assert.same({ { 2, 3 }, { 6, 7 } }, run(T.split(2, 2, 2), arange{ 2, 4 }):totable())
    assert.same({ 0, 2.5, 5 }, run(T.scale(2.5), arange{ 3 }):totable())
    local c = run(T.cast("float64"), arange{ 2 })
    assert.equal("float64", c:dtype())
    assert.same({ { 0, 2 }, { 1, 3 } }, run(T.transpose(), arange{ 2, 2 }):totable())
    local p = run({ T.permute{ 2, 3, 1 } }, arange{ 2, 3, 4 })
    assert.same({ 3, 4, 2 }, p:shape())
  end)

  it("checks input shapes and explains the misfit", function()
    local function misfit(spec, ...)
      local ok, step, reason = T.shape(T.pipeline(spec), { ... })
      assert.is_false(ok)
      return step.desc, reason
    end
    local _, d, why
    d, why = misfit(T.gate_reorder("rzn", "zrn"), { 10 })
    assert.equal("gate_reorder(r,z,n -> z,r,n, axis -1)", d)
    assert.equal("axis -1 of size 10 does not hold 3 equal gate blocks", why)
    _, why = misfit("torch_conv2d", { 3, 3 })
    assert.equal("axes {3, 4, 2, 1} list 4 axes for a tensor of rank 2", why)
    _, why = misfit("torch_lstm_bias", { 4 })
    assert.equal("bias_sum needs 2 file weights, got 1", why)
    _, why = misfit(T.reshape{ 4 }, { 3 })
    assert.equal("cannot reshape (3,) (3 elements) to (4,)", why)
    _, why = misfit(T.slice(1, 2, 9), { 4 })
    assert.equal("slice 2..9 is out of range for axis 1 of size 4", why)
    _, why = misfit(T.concat(1), { 2, 3 }, { 2, 4 })
    assert.equal("cannot concat (2, 3) and (2, 4) along axis 1", why)
    assert.has_error(function() T.gate_reorder("rzn", "zrx") end,
      "weightkit.remap: gate_reorder: from and to name different gates")
  end)
end)

describe("remap.load", function()
  it("loads renamed layers and reports renames, values checked", function()
    local m = dense_model()
    local report = quiet(remap.load, m, dense_file("dense_1", "dense_2"),
      { { "^dense_1/", "dense/" }, { "^dense_2$", "out", layer = true } })
    assert.same({}, report.missing)
    assert.same({}, report.unused)
    assert.equal(4, #report.renamed)
    assert.equal("dense/kernel:0", report.mapping["dense_1/kernel:0"])
    assert.equal("out/bias:0", report.mapping["dense_2/bias:0"])
    local w = m:get_layer("dense"):get_weights()
    assert.is_true(equal_tensors(arange({ 3, 2 }, 10), w[1]))
    assert.is_true(equal_tensors(arange({ 2 }, 100), w[2]))
    local o = m:get_layer("out"):get_weights()
    assert.is_true(equal_tensors(arange({ 2, 1 }, 200), o[1]))
    assert.equal("name", report.matched[1].weights[1].via)
    assert.equal("layer", report.matched[2].weights[1].via)
    assert.matches("dense_2/kernel:0 %-> out/kernel:0", tostring(report))
  end)

  it("without rules behaves like by-name loading and names what did not match", function()
    local m = dense_model()
    local before = m:get_layer("out"):get_weights()[1]:clone()
    local report = quiet(remap.load, m, dense_file("dense", "dense_9"))
    assert.same({ "out/kernel:0", "out/bias:0" }, report.missing)
    assert.same({ "dense_9/kernel:0", "dense_9/bias:0" }, report.unused)
    assert.same({ "dense_9/kernel:0" }, report.suggestions["out/kernel:0"])
    assert.is_true(equal_tensors(arange({ 3, 2 }, 10), m:get_layer("dense"):get_weights()[1]))
    assert.is_true(equal_tensors(before, m:get_layer("out"):get_weights()[1]))
    assert.matches("did you mean dense_9/kernel:0%?", tostring(report))
  end)

  it("a dry run reports everything and assigns nothing", function()
    local m = dense_model()
    local before = { m:get_layer("dense"):get_weights()[1]:clone(), m:get_layer("out"):get_weights()[2]:clone() }
    local file = dense_file("dense_1", "dense_2")
    local report = quiet(remap.load, m, file, { { "^dense_1", "dense" }, { "^dense_2", "out" } }, { dry_run = true })
    assert.is_true(report.dry_run)
    assert.equal(2, #report.matched)
    assert.same({}, report.errors)
    assert.is_true(equal_tensors(before[1], m:get_layer("dense"):get_weights()[1]))
    assert.is_true(equal_tensors(before[2], m:get_layer("out"):get_weights()[2]))
    assert.matches("^load_weights report %(remap, dry run%)", tostring(report))
    -- a dry run collects what a real load would raise
    local bad = quiet(remap.load, m, file, { { "^dense_%d", "dense" } }, { dry_run = true })
    assert.equal(2, #bad.errors)
    assert.equal(2, #bad.ambiguous)
    assert.matches("^ValueError: remap: model weight dense/kernel:0 would receive 2 file weights", bad.errors[1])
  end)

  it("raises on ambiguity before assigning anything", function()
    local m = dense_model()
    local before = m:get_layer("dense"):get_weights()[1]:clone()
    local ok, err = pcall(remap.load, m, dense_file("dense_1", "dense_2"), { { "^dense_%d", "dense" } })
    assert.is_false(ok)
    assert.matches("^ValueError: remap: model weight dense/kernel:0 would receive 2 file weights " ..
      "%(dense_1/kernel:0, dense_2/kernel:0%)", err)
    assert.is_true(equal_tensors(before, m:get_layer("dense"):get_weights()[1]))
  end)

  it("shape mismatches raise, or with skip_mismatch are skipped with both shapes", function()
    local m = dense_model()
    local file = mem_file{ { name = "d", weights = {
      { name = "d/kernel:0", tensor = arange{ 2, 3 } }, { name = "d/bias:0", tensor = arange{ 2 } } } } }
    local rules = { { "^d$", "dense", layer = true } }
    local ok, err = pcall(remap.load, m, file, rules)
    assert.is_false(ok)
    assert.equal("ValueError: Shape mismatch in layer #0 (named dense) for weight dense/kernel:0. Weight " ..
      "expects shape (3, 2). Received saved weight with shape (2, 3) (remap: file weight d/kernel:0 via " ..
      "rule 1 (pattern \"^d$\" -> \"dense\", layer))", err)
    local report = quiet(remap.load, m, file, rules, { skip_mismatch = true })
    assert.equal(1, #report.skipped)
    assert.same({ 3, 2 }, report.skipped[1].expected)
    assert.same({ 2, 3 }, report.skipped[1].received)
    assert.is_true(equal_tensors(arange{ 2 }, m:get_layer("dense"):get_weights()[2]))
    assert.same({ "dense/kernel:0", "out/kernel:0", "out/bias:0" }, report.missing)
    -- the same file through a transform fits
    local r2 = quiet(remap.load, m, file, { { "^d/kernel", "dense/kernel", transform = "torch_linear" },
      { "^d$", "dense", layer = true } })
    assert.equal(1, #r2.converted)
    assert.is_true(equal_tensors(arange{ 2, 3 }:transpose(), m:get_layer("dense"):get_weights()[1]))
  end)

  it("a layer pairing with another weight count is a count mismatch", function()
    local m = dense_model()
    local file = mem_file{ { name = "d", weights = { { name = "d/kernel:0", tensor = arange{ 3, 2 } } } } }
    local ok, err = pcall(remap.load, m, file, { { "^d$", "dense", layer = true } })
    assert.is_false(ok)
    assert.equal("ValueError: Weight count mismatch for layer #0 (named dense). Layer expects 2 weight(s). " ..
      "Received 1 saved weight(s) (remap: file layer d)", err)
    local warnings, report = errors.capture_warnings(remap.load, m, file, { { "^d$", "dense", layer = true } },
      { skip_mismatch = true })
    assert.equal(1, #warnings)
    assert.equal("weight count mismatch", report.skipped[1].reason)
  end)

  it("names the file weight when a transform does not fit", function()
    local m = dense_model()
    local file = mem_file{ { name = "t", weights = { { name = "fc.weight", tensor = arange{ 3 } } } } }
    local ok, err = pcall(remap.load, m, file, { { "^fc%.weight$", "dense/kernel:0", transform = "torch_linear" } })
    assert.is_false(ok)
    assert.equal("ValueError: remap: transform transpose{2, 1} cannot apply to file weight fc.weight (shape " ..
      "(3,)) for model weight dense/kernel:0: axes {2, 1} list 2 axes for a tensor of rank 1", err)
  end)

  it("drops names on request and reports them", function()
    local m = dense_model()
    local file = dense_file("dense", "out")
    local report = quiet(remap.load, m, file, { { "^out/bias", false } })
    assert.equal(1, #report.dropped)
    assert.equal("out/bias:0", report.dropped[1].file)
    assert.same({ "out/bias:0" }, report.missing)
    assert.same({}, report.unused)
  end)

  it("loads a PyTorch-style LSTM and GRU with gate and bias transforms", function()
    local u, n_in = 2, 3
    local m = wk.Sequential{ L.Input{ shape = { 4, n_in } }, L.LSTM{ u, return_sequences = true, name = "lstm" },
      L.GRU{ u, name = "gru" }, L.Dense{ 1, name = "fc" } }
    local sd = {
      { name = "lstm.weight_ih_l0", tensor = arange{ 4 * u, n_in } },
      { name = "lstm.weight_hh_l0", tensor = arange({ 4 * u, u }, 100) },
      { name = "lstm.bias_ih_l0", tensor = arange({ 4 * u }, 200) },
      { name = "lstm.bias_hh_l0", tensor = arange({ 4 * u }, 300) },
      { name = "gru.weight_ih_l0", tensor = arange({ 3 * u, u }, 400) },
      { name = "gru.weight_hh_l0", tensor = arange({ 3 * u, u }, 500) },
      { name = "gru.bias_ih_l0", tensor = arange({ 3 * u }, 600) },
      { name = "gru.bias_hh_l0", tensor = arange({ 3 * u }, 700) },
      { name = "fc.weight", tensor = arange({ 1, u }, 800) },
      { name = "fc.bias", tensor = arange({ 1 }, 900) },
      { name = "bn.num_batches_tracked", tensor = wk.tensor({ 7 }, "int64") },
    }
    local rules = remap.rules{
      { "num_batches_tracked$", false },
      { canonical = {
        { "{l}.weight_ih_l0", "{l}/{l}_cell/kernel:0" },
        { "{l}.weight_hh_l0", "{l}/{l}_cell/recurrent_kernel:0" },
        { "{l}.bias_ih_l0", "{l}/{l}_cell/bias:0" },
        { "{l}.bias_hh_l0", "{l}/{l}_cell/bias:0" },
      } },
      { "^fc%.weight$", "fc/kernel:0", transform = "torch_linear" },
      { "^fc%.bias$", "fc/bias:0" },
    }
    -- the canonical table names targets only: transforms by layer kind through a function rule first
    local T = remap.transforms
    local typed = remap.rules{
      function(name)
        local to, pipe = rules:rename(name)
        if not to then return to end
        if name:match("^lstm%.bias") then return to, "torch_lstm_bias" end
        if name:match("^lstm%.weight") then return to, "torch_linear" end
        if name:match("^gru%.bias") then return to, "torch_gru_bias" end
        if name:match("^gru%.weight") then return to, "torch_gru_kernel" end
        return to, pipe
      end,
      rules,
    }
    local report = quiet(remap.load, m, mem_file{ { name = "state_dict", weights = sd } }, typed)
    assert.same({}, report.errors)
    assert.same({}, report.missing)
    assert.same({}, report.unused)
    assert.equal(1, #report.dropped)
    local lstm = m:get_layer("lstm"):get_weights()
    assert.is_true(equal_tensors(sd[1].tensor:transpose(), lstm[1]))
    assert.is_true(equal_tensors(sd[2].tensor:transpose(), lstm[2]))
    assert.is_true(equal_tensors(sd[3].tensor + sd[4].tensor, lstm[3]))
    local gru = m:get_layer("gru"):get_weights()
    assert.same({ 2, 6 }, gru[3]:shape())
    -- Keras z, r, h <- PyTorch r, z, n
    local reorder = T.gate_reorder("rzn", "zrn")
    assert.is_true(equal_tensors(reorder.apply(sd[5].tensor:transpose()), gru[1]))
    assert.same({ { 602, 603, 600, 601, 604, 605 }, { 702, 703, 700, 701, 704, 705 } }, gru[3]:totable())
    assert.same({ { 800 }, { 801 } }, m:get_layer("fc"):get_weights()[1]:totable())
    assert.matches("lstm/lstm_cell/bias:0 %[bias_sum%]", tostring(report))
  end)
end)

describe("remap.load on a real Keras 2 file", function()
  local path = FIXTURES .. "/k280_lstm3_genre_weights.h5"
  local expected_path = FIXTURES .. "/expected/k280_lstm3_genre_weights.h5.json"

  local function renamed_model()
    return wk.Sequential{
      L.Input{ shape = { wk.None, 33 } },
      L.LSTM{ 128, return_sequences = true, name = "encoder" },
      L.LSTM{ 128, return_sequences = true, name = "encoder_2" },
      L.LSTM{ 32, name = "summary" },
      L.Dense{ 5, activation = "softmax", name = "genre" },
    }
  end

  it("loads k280 into renamed layers and every value equals the file's", function()
    local fh = assert(io.open(expected_path))
    local expected = json(fh:read("a"))
    fh:close()
    local m = renamed_model()
    local file <close> = assert(wk.open(path))
    local rules = {
      { "^lstm/", "encoder/" },                     -- weight rule (the cell suffix is matched loosely)
      { "^lstm_1$", "encoder_2", layer = true },    -- layer rules: positional within the layer
      { "^lstm_2$", "summary", layer = true },
      { "^dense/", "genre/" },
    }
    local dry = quiet(remap.load, m, file, rules, { dry_run = true })
    assert.same({}, dry.errors)
    assert.same({}, dry.missing)
    assert.same({}, dry.unused)
    local report = quiet(remap.load, m, file, rules)
    assert.equal("2.8.0", report.keras_version)
    assert.same({}, report.missing)
    assert.same({}, report.unused)
    assert.equal(11, #report.renamed)
    local targets = { lstm = "encoder", lstm_1 = "encoder_2", lstm_2 = "summary", dense = "genre" }
    local file_of = {} -- model weight -> the file weight the report says fed it
    for _, e in ipairs(report.matched) do
      for _, w in ipairs(e.weights) do file_of[w.name] = w.file end
    end
    local n = 0
    for _, el in ipairs(expected.weights.layers) do
      local got = m:get_layer(targets[el.name]):get_weights()
      for i, ew in ipairs(el.weights) do
        local t = file:get(el.name, ew.name)
        assert.same(ew.shape, got[i]:shape())
        assert.equal(0, t:max_abs_diff(got[i]), el.name .. " " .. ew.name)
        assert.near(ew.sum, got[i]:sum(), 1e-3 * math.max(1, math.abs(ew.sum)))
        assert.equal(ew.name, file_of[m:get_layer(targets[el.name]):trainable_weights()[i].name])
        n = n + 1
      end
    end
    assert.equal(11, n)
  end)

  it("a dry run on the real file suggests the renamed layers and assigns nothing", function()
    local m = renamed_model()
    local before = m:get_layer("genre"):get_weights()[1]:clone()
    local file <close> = assert(wk.open(path))
    local report = quiet(remap.load, m, file, nil, { dry_run = true })
    assert.equal(0, #report.matched)
    assert.equal(11, #report.missing)
    assert.equal(11, #report.unused)
    assert.same({ "dense/kernel:0" }, { report.suggestions["genre/kernel:0"][1] })
    assert.is_true(equal_tensors(before, m:get_layer("genre"):get_weights()[1]))
  end)
end)

describe("wk.remap.flip", function()
  local wk = require "weightkit"
  local conv = require "weightkit.loading.conversions.conv"

  it("reverses every axis but the last two, as Keras's convert_kernel does", function()
    local values = {}
    for i = 1, 24 do values[i] = i - 1 end
    local t = wk.tensor(values, "float32"):reshape{ 2, 3, 2, 2 }
    local got = wk.remap.flip().apply(t)
    assert.are.equal(0, got:max_abs_diff(conv.convert_kernel(t)))
    assert.are.equal(t[1][1][1][1], got[2][3][1][1])
    assert.are.equal(t[2][3][2][2], got[1][1][2][2])
    local ok, err = wk.remap.flip().shape({ 4, 4 })
    assert.is_nil(ok)
    assert.truthy(err:find("rank 3 to 5", 1, true))
  end)

  it("reverses the listed axes only, and checks them", function()
    local t = wk.tensor({ { 0, 1, 2 }, { 3, 4, 5 } }, "float32")
    local got = wk.remap.flip{ -1 }.apply(t)
    assert.are.same({ { 2, 1, 0 }, { 5, 4, 3 } }, got:totable())
    assert.is_nil((wk.remap.flip{ 3 }.shape({ 2, 3 })))
  end)
end)
