"""A cheap h5py view of a big Keras 2 weights file, for spec/scale_spec.lua.

Run with Debian's /usr/bin/python3: keras_h5_sample.py FILE [LAYER ...]
Prints the lines of keras_h5_check.py (same encoding) for a subset only:
  A lines for the root group's attributes (layer_names chunks, versions),
  K lines: layer_names read with Keras's chunk-aware loader,
  W lines: Keras's topological read of the LAYERs named on the command line only.
(keras_h5_check.py walks every object and hashes every weight: a minute for 40,000 groups.)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h5py  # noqa: E402
from keras_h5_check import attrs_of, le_sha, load_attributes, out, shape_str  # noqa: E402


def main(path, sample):
    with h5py.File(path, "r") as f:
        attrs_of("", f)
        names = load_attributes(f, "layer_names")
        for i, n in enumerate(names):
            out("K", i, n)
        for n in sample:
            g = f[n]
            for i, wn in enumerate(load_attributes(g, "weight_names")):
                v = np.asarray(g[wn])
                out("W", n, i, wn, v.dtype.str, shape_str(v.shape), le_sha(v))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
