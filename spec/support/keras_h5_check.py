"""Describes a Keras 2 weights file the way h5py and Keras see it, for spec/save_weights_spec.lua.

Run with Debian's /usr/bin/python3 (h5py 3 + numpy): keras_h5_check.py FILE
Prints tab-separated lines (values percent-encoded: '%', tab and newline):

  A  <object>  <attr>  <type>  <shape>      every attribute; <type> is
        "fixed:<size>:<NULLPAD|NULLTERM|SPACEPAD>:<ASCII|UTF8>", "vlen:<cset>" or the numpy dtype str
        ("<f8"); <shape> a Python tuple ("(0,)", "()")
  D  <path>  <dtype>  <shape>  <layout>  <nfilters>  <h5py_type>  <fill_time>  <alloc_time>
        every dataset; <h5py_type> is 1 when its HDF5 type equals the type h5py itself creates for
        the dataset's numpy dtype (h5t.py_create), i.e. "as h5py writes numpy <dtype>"
  K  <i>  <layer>                       layer_names read with Keras's chunk-aware loader (0-based i)
  W  <layer>  <i>  <weight>  <dtype>  <shape>  <sha256>
        Keras's topological read: for each layer name, weight_names (chunk-aware) then
        np.asarray(group[weight_name]) in that order; sha256 over the little-endian C-order bytes
  T  <i>  <weight>  <dtype>  <shape>  <sha256>      the same for top_level_model_weights
  V  <attr>  <value>                    keras_version / backend decoded like Keras 2.2.4
        (`.decode('utf8')`, which fails on str: the value must be bytes)
"""
import hashlib
import sys

import h5py
import numpy as np


def enc(s):
    if isinstance(s, bytes):
        s = s.decode("utf8", "surrogateescape")
    return str(s).replace("%", "%25").replace("\t", "%09").replace("\n", "%0A")


def out(*fields):
    print("\t".join(enc(f) for f in fields))


PAD = {h5py.h5t.STR_NULLPAD: "NULLPAD", h5py.h5t.STR_NULLTERM: "NULLTERM", h5py.h5t.STR_SPACEPAD: "SPACEPAD"}
CSET = {h5py.h5t.CSET_ASCII: "ASCII", h5py.h5t.CSET_UTF8: "UTF8"}


def type_desc(tid, dtype):
    if isinstance(tid, h5py.h5t.TypeStringID):
        if tid.is_variable_str():
            return "vlen:%s" % CSET[tid.get_cset()]
        return "fixed:%d:%s:%s" % (tid.get_size(), PAD[tid.get_strpad()], CSET[tid.get_cset()])
    return dtype.str


def shape_str(shape):
    if len(shape) == 1:
        return "(%d,)" % shape[0]
    return "(" + ", ".join(str(d) for d in shape) + ")"


def le_sha(a):
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def attrs_of(name, obj):
    for an in sorted(obj.attrs.keys()):
        aid = obj.attrs.get_id(an)
        out("A", "/" + name if name else "/", an, type_desc(aid.get_type(), aid.dtype), shape_str(aid.shape))


def visit(name, obj):
    attrs_of(name, obj)
    if isinstance(obj, h5py.Dataset):
        plist = obj.id.get_create_plist()
        layout = {h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked", h5py.h5d.COMPACT: "compact"}
        same = obj.id.get_type().equal(h5py.h5t.py_create(obj.dtype))
        out("D", name, obj.dtype.str, shape_str(obj.shape), layout[plist.get_layout()], plist.get_nfilters(),
            int(same), plist.get_fill_time(), plist.get_alloc_time())


# Keras 2.2.4 saving.load_attributes_from_hdf5_group (strict decode: values must be bytes).
def load_attributes(group, name):
    if name in group.attrs:
        return [n.decode("utf8") for n in group.attrs[name]]
    data, chunk_id = [], 0
    while "%s%d" % (name, chunk_id) in group.attrs:
        data.extend(n.decode("utf8") for n in group.attrs["%s%d" % (name, chunk_id)])
        chunk_id += 1
    return data


def main(path):
    with h5py.File(path, "r") as f:
        attrs_of("", f)
        f.visititems(visit)
        for key in ("keras_version", "backend"):
            if key in f.attrs:
                out("V", key, f.attrs[key].decode("utf8"))
        names = load_attributes(f, "layer_names")
        for i, n in enumerate(names):
            out("K", i, n)
        for n in names:
            g = f[n]
            for i, wn in enumerate(load_attributes(g, "weight_names")):
                v = np.asarray(g[wn])
                out("W", n, i, wn, v.dtype.str, shape_str(v.shape), le_sha(v))
        if "top_level_model_weights" in f:
            g = f["top_level_model_weights"]
            for i, wn in enumerate(load_attributes(g, "weight_names")):
                v = np.asarray(g[wn])
                out("T", i, wn, v.dtype.str, shape_str(v.shape), le_sha(v))


if __name__ == "__main__":
    main(sys.argv[1])
