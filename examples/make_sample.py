"""Writes examples/data/iris_mlp.h5, the sample `make demo` loads: the weights of a small tf.keras 2.x
Sequential (Dense 8 relu -> BatchNormalization -> Dense 3 softmax on 4 inputs) in Keras 2's HDF5 layout,
written with h5py as tf.keras does. Values are fixed (NumPy seed 0). Run with Debian's Python:

    /usr/bin/python3 examples/make_sample.py
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from keras2_h5 import write_weights  # noqa: E402

rng = np.random.RandomState(0)


def f32(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


layers = [
    ("dense", [("dense/kernel:0", f32(4, 8)), ("dense/bias:0", f32(8, scale=0.1))]),
    ("batch_normalization", [
        ("batch_normalization/gamma:0", (1 + f32(8, scale=0.1))),
        ("batch_normalization/beta:0", f32(8, scale=0.1)),
        ("batch_normalization/moving_mean:0", f32(8, scale=0.2)),
        ("batch_normalization/moving_variance:0", (1 + np.abs(f32(8, scale=0.3)))),
    ]),
    ("dense_1", [("dense_1/kernel:0", f32(8, 3)), ("dense_1/bias:0", f32(3, scale=0.1))]),
]
out = os.path.join(os.path.dirname(__file__), "data", "iris_mlp.h5")
with h5py.File(out, "w") as f:
    write_weights(f, layers)
print(out)
