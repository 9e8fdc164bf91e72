"""Prints, as JSON, what h5py sees in a Keras 3 weights file (spec/keras3_weights_spec.lua).

usage: /usr/bin/python3 keras3_h5_dump.py FILE
FILE is a .weights.h5 file or a .keras zip (its model.weights.h5 member is read from memory).
Output: {"root_attrs": {...}, "groups": [path, ...] (sorted),
         "group_attrs": {path: {name: value}}, "attr_types": {path: {name: "vlen-utf8" | other}},
         "datasets": {path: {"shape": [...], "dtype": str, "sha256": hex of the C-order bytes,
                             "attrs": {...}, "scalar": bool}}}
Written for the specs; uses only h5py and numpy.
"""
import hashlib
import io
import json
import sys
import zipfile

import h5py
import numpy as np


def attr_info(obj):
    values, types = {}, {}
    for k, v in obj.attrs.items():
        if isinstance(v, bytes):
            v = v.decode("utf-8", "surrogateescape")
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        values[k] = v
        t = obj.attrs.get_id(k).get_type()
        if isinstance(t, h5py.h5t.TypeStringID) and t.is_variable_str():
            kind = "vlen-utf8" if t.get_cset() == h5py.h5t.CSET_UTF8 else "vlen-ascii"
        else:
            kind = str(t.__class__.__name__)
        types[k] = kind
    return values, types


def dump(f):
    out = {"groups": [], "group_attrs": {}, "attr_types": {}, "datasets": {}}
    out["root_attrs"], _ = attr_info(f)

    def visit(name, obj):
        if isinstance(obj, h5py.Group):
            out["groups"].append(name)
            values, types = attr_info(obj)
            if values:
                out["group_attrs"][name] = values
                out["attr_types"][name] = types
        else:
            data = obj[()]
            arr = np.ascontiguousarray(np.asarray(data))
            values, _ = attr_info(obj)
            out["datasets"][name] = {
                "shape": list(obj.shape),
                "dtype": str(obj.dtype),
                "sha256": hashlib.sha256(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).hexdigest(),
                "attrs": values,
                "scalar": obj.shape == (),
            }

    f.visititems(visit)
    out["groups"].sort()
    return out


def main():
    path = sys.argv[1]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = z.read("model.weights.h5")
        with h5py.File(io.BytesIO(data), "r") as f:
            print(json.dumps(dump(f)))
    else:
        with h5py.File(path, "r") as f:
            print(json.dumps(dump(f)))


if __name__ == "__main__":
    main()
