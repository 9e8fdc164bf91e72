"""Dumps an HDF5 file as h5py reads it, for spec/editor_spec.lua: JSON with
  "datasets": {path: {"shape": [...], "dtype": str, "sha256": hex of the C-order little-endian bytes}},
  "layer_names": [...] or null (root, else model_weights), "weight_names": {layer: [...]},
  "model_config": bool (a root model_config attribute exists), "keras_version": str or null.
Usage: /usr/bin/python3 editor_h5_dump.py FILE"""
import hashlib
import json
import sys

import h5py
import numpy as np


def text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def main(path):
    out = {"datasets": {}, "weight_names": {}}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = np.asarray(obj[()])
                a = a.astype(a.dtype.newbyteorder("<"))
                out["datasets"][name] = {"shape": list(a.shape), "dtype": str(a.dtype),
                                         "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}
        f.visititems(visit)
        g = f["model_weights"] if "model_weights" in f and "layer_names" not in f.attrs else f
        out["model_config"] = "model_config" in f.attrs
        out["keras_version"] = text(g.attrs["keras_version"]) if "keras_version" in g.attrs else None
        if "layer_names" in g.attrs:
            names = [text(n) for n in g.attrs["layer_names"]]
            out["layer_names"] = names
            for n in names:
                out["weight_names"][n] = [text(w) for w in g[n].attrs["weight_names"]]
        else:
            out["layer_names"] = None
    print(json.dumps(out))


main(sys.argv[1])
