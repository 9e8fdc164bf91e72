--[[
weightkit.loading.conversions.conv — kernel fix-ups for Conv1D, Conv2D, Conv3D, Conv2DTranspose and
ConvLSTM2D, any source version (keras-formats.md §3.5 C).

1. Theano flip. Theano's convolution is a true convolution, TensorFlow's (and CNTK's) a correlation, so
   Keras 2.0.9 – 2.3.1 applied `conv_utils.convert_kernel` when the file's `backend` attribute names a
   backend whose convention differs from the running one: reverse every axis except the last two (kernels
   must be 3-D to 5-D, else `ValueError('Invalid kernel shape:', shape)`), to values[1] and, for
   ConvLSTM2D, values[2]. Our convention is TensorFlow's (correlation), so the flip happens exactly when
   the file says `theano`; an absent or unknown backend means no flip. tf.keras / tf-keras dropped this
   step and load Theano-trained kernels flipped (wrong outputs, no error); we do what Keras 2.0.9 – 2.3.1
   did, because that is the only behaviour that gives the trained model back.

2. Transpose (3, 2, 0, 1). When the layer's kernel shape differs from values[1]'s, Keras transposes
   values[1] (and values[2] for ConvLSTM2D) with NumPy axes (3, 2, 0, 1): out[a, b, c, d] =
   w[c, d, b, a], so an (in, filters, cols, rows) array becomes (rows, cols, in, filters). Keras does
   this for ANY mismatch: on a 3-D or 5-D kernel NumPy raises "axes don't match array", on a 4-D one an
   honest mismatch comes out as a shape error with the transposed shape, and both defeat
   `skip_mismatch`. Decision: we transpose only when the value is 4-D and the transposed shape equals
   the layer's kernel shape, i.e. when the transpose is the fix; any other mismatch is left for the
   ordinary shape check (error or skip), which then names the file's real shape.

(Keras 2.2.4's `reshape=True` option is not supported.)
]]
local ops = require "weightkit.loading.ops"
local errors = require "weightkit.errors"
local shape_str = require("weightkit.naming").shape_str

local M = {}

M.CONV_CLASSES = {
  Conv1D = true, Conv2D = true, Conv3D = true, Conv2DTranspose = true, ConvLSTM2D = true,
}

-- Convolution convention per backend, as Keras 2.x `_need_convert_kernel` has it.
local USES_CORRELATION = { tensorflow = true, theano = false, cntk = true }
local CURRENT_USES_CORRELATION = true

function M.need_convert_kernel(original_backend)
  if original_backend == nil then return false end
  local c = USES_CORRELATION[original_backend]
  if c == nil then return false end
  return c ~= CURRENT_USES_CORRELATION
end

-- conv_utils.convert_kernel: reverse every axis but the last two.
function M.convert_kernel(w)
  local r = w:rank()
  if r < 3 or r > 5 then
    -- str() of ValueError('Invalid kernel shape:', shape) is the repr of its args tuple.
    errors.value_error("('Invalid kernel shape:', " .. shape_str(w:shape()) .. ")")
  end
  for axis = 1, r - 2 do w = ops.reverse_axis(w, axis) end
  return w
end

local function expected_kernel_shape(layer)
  local ws = layer:weights()
  if #ws == 0 then return nil end
  return ws[1]:shape()
end

function M.convert(layer, values, ctx, note)
  local cls = layer.class_name
  if not M.CONV_CLASSES[cls] or #values == 0 then return values end
  local n_kernels = (cls == "ConvLSTM2D") and 2 or 1

  if M.need_convert_kernel(ctx.backend) then
    for i = 1, math.min(n_kernels, #values) do
      values[i] = M.convert_kernel(values[i])
    end
    note("theano_kernel_flip", "kernel written by the " .. ctx.backend ..
      " backend: spatial axes reversed (convert_kernel)")
  end

  local want = expected_kernel_shape(layer)
  local got = values[1]:shape()
  if want and not ops.same_shape(want, got) and #got == 4 then
    local t = { got[4], got[3], got[1], got[2] }
    if ops.same_shape(want, t) then
      for i = 1, math.min(n_kernels, #values) do
        if values[i]:rank() == 4 then values[i] = ops.np_transpose(values[i], {3, 2, 0, 1}) end
      end
      note("conv_kernel_transpose", "kernel " .. shape_str(got) .. " transposed (3, 2, 0, 1) -> " ..
        shape_str(want))
    end
  end
  return values
end

return M
