"""h5_write3_check.py — checks a Keras 3 weights file written by wk_write_keras3 with h5py.

usage: /usr/bin/python3 spec/c/h5_write3_check.py FILE EXPECT.json FIXTURES_DIR

EXPECT.json (written by spec/c/test_h5_write3.c from the tensors it saved):
  {"objects": [{"path": "layers/dense", "name": "dense" | null, "first": 0,
                "tensors": [{"dtype": "float32", "shape": [3, 4], "values": [...]}]}]}
  (dataset names are first, first + 1, ...)

The reference for every HDF5 type and property is what Keras 3 and h5py write: the real files
k3_dense_adam.weights.h5 (datasets, file creation properties) and the model.weights.h5 member of
k392_hybrid_conv1d_bilstm_bn.keras (the `name` attributes), and, for dtypes those files lack,
h5py writing the same numpy dtype into an in-memory file. Prints one line per problem; exit
status 0 when there is none.
"""
import io
import json
import sys
import zipfile

import h5py
import numpy

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def fcpl_facts(f):
    p = f.id.get_create_plist()
    return {"superblock": p.get_version(), "sizes": p.get_sizes(), "userblock": p.get_userblock(),
            "link_creation_order": p.get_link_creation_order(), "attr_creation_order": p.get_attr_creation_order(),
            "track_times": p.get_obj_track_times(), "file_space": p.get_file_space_strategy()}


def dcpl_facts(d):
    p = d.id.get_create_plist()
    return {"layout": p.get_layout(), "fill_time": p.get_fill_time(), "alloc_time": p.get_alloc_time(),
            "filters": p.get_nfilters(), "fill_value_defined": p.fill_value_defined()}


def gcpl_facts(g):
    return {"creation_order": g.id.get_create_plist().get_link_creation_order()}


def attr_facts(obj, name):
    a = obj.attrs.get_id(name)
    return a.get_type(), a.get_space().get_simple_extent_type()


def h5py_type(dtype, shape):
    """The HDF5 type and dataspace class h5py gives `numpy.zeros(shape, dtype)`."""
    b = io.BytesIO()
    with h5py.File(b, "w") as f:
        d = f.create_dataset("x", data=numpy.zeros(shape, dtype=dtype))
        return d.id.get_type(), d.id.get_space().get_simple_extent_type()


def main():
    path, expect_path, fixtures = sys.argv[1:4]
    expect = json.load(open(expect_path))
    ref = h5py.File(fixtures + "/k3_dense_adam.weights.h5", "r")
    z = zipfile.ZipFile(fixtures + "/k392_hybrid_conv1d_bilstm_bn.keras")
    ref_named = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    ref_name_type, ref_name_space = attr_facts(ref_named["layers/dense/vars"], "name")
    ref_f32 = ref["layers/dense/vars/0"]
    ref_i64 = ref["optimizer/vars/0"]

    f = h5py.File(path, "r")
    check(fcpl_facts(f) == fcpl_facts(ref), "file creation properties %s, Keras 3 wrote %s"
          % (fcpl_facts(f), fcpl_facts(ref)))
    check(fcpl_facts(f)["superblock"][0] == 0, "superblock version %s, not 0" % (fcpl_facts(f)["superblock"],))
    check(len(f.attrs) == 0, "the root has attributes %s" % list(f.attrs))
    check(gcpl_facts(f) == gcpl_facts(ref), "root group properties %s" % gcpl_facts(f))

    # Every group and dataset of the file, against those the objects imply.
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj))
    want = set()
    for o in expect["objects"]:
        vars_path = (o["path"] + "/vars") if o["path"] else "vars"
        parts = vars_path.split("/")
        for i in range(1, len(parts) + 1):
            want.add("/".join(parts[:i]))
        for k in range(len(o["tensors"])):
            want.add(vars_path + "/" + str(o["first"] + k))
    check(set(found) == want, "objects in the file: extra %s, missing %s"
          % (sorted(set(found) - want), sorted(want - set(found))))

    for name, obj in found.items():
        if isinstance(obj, h5py.Group):
            check(gcpl_facts(obj) == gcpl_facts(ref["layers/dense/vars"]), "%s: group properties %s"
                  % (name, gcpl_facts(obj)))
            if not name.endswith("vars"):
                check(len(obj.attrs) == 0, "%s: an intermediate group with attributes" % name)

    for o in expect["objects"]:
        vars_path = (o["path"] + "/vars") if o["path"] else "vars"
        if not check(vars_path in f, "%s: no group" % vars_path):
            continue
        g = f[vars_path]
        if o["name"] is None:
            check(len(g.attrs) == 0, "%s: attributes %s, none expected" % (vars_path, list(g.attrs)))
        else:
            check(list(g.attrs) == ["name"], "%s: attributes %s" % (vars_path, list(g.attrs)))
            if "name" in g.attrs:
                t, space = attr_facts(g, "name")
                check(t == ref_name_type and space == ref_name_space,
                      "%s: the name attribute's type differs from Keras 3's" % vars_path)
                check(t.is_variable_str() and t.get_cset() == h5py.h5t.CSET_UTF8,
                      "%s: name is not a variable-length UTF-8 string" % vars_path)
                check(g.attrs["name"] == o["name"], "%s: name %r, expected %r" % (vars_path, g.attrs["name"], o["name"]))
        for k, t in enumerate(o["tensors"]):
            dpath = "%s/%d" % (vars_path, o["first"] + k)
            if dpath not in f:
                continue
            d = f[dpath]
            shape = tuple(t["shape"])
            check(d.shape == shape, "%s: shape %s, expected %s" % (dpath, d.shape, shape))
            check(dcpl_facts(d) == dcpl_facts(ref_f32), "%s: dataset properties %s, Keras 3 wrote %s"
                  % (dpath, dcpl_facts(d), dcpl_facts(ref_f32)))
            want_space = h5py.h5s.SCALAR if shape == () else h5py.h5s.SIMPLE
            check(d.id.get_space().get_simple_extent_type() == want_space, "%s: dataspace class" % dpath)
            ftype = d.id.get_type()
            if t["dtype"] == "bfloat16":
                check(ftype.get_class() == h5py.h5t.OPAQUE and ftype.get_size() == 2 and ftype.get_tag() == b"",
                      "%s: bfloat16 is not a 2-byte opaque type with an empty tag" % dpath)
                check(ftype == h5py_type("V2", shape)[0], "%s: not the type h5py writes for numpy V2" % dpath)
                check(list(d.attrs) == ["dtype"], "%s: attributes %s" % (dpath, list(d.attrs)))
                if "dtype" in d.attrs:
                    at, aspace = attr_facts(d, "dtype")
                    check(at == ref_name_type and aspace == ref_name_space,
                          "%s: the dtype attribute is not a scalar vlen UTF-8 string" % dpath)
                    check(d.attrs["dtype"] == "bfloat16", "%s: dtype attribute %r" % (dpath, d.attrs["dtype"]))
                bits = numpy.frombuffer(d[()].tobytes(), dtype="<u2").astype(numpy.uint32) << 16
                got = bits.view("<f4").astype(numpy.float64)
            else:
                check(len(d.attrs) == 0, "%s: attributes %s" % (dpath, list(d.attrs)))
                check(ftype == h5py_type(t["dtype"], shape)[0], "%s: the HDF5 type is not h5py's for %s"
                      % (dpath, t["dtype"]))
                if t["dtype"] == "float32":
                    check(ftype == ref_f32.id.get_type(), "%s: float32 type differs from Keras 3's" % dpath)
                if t["dtype"] == "int64":
                    check(ftype == ref_i64.id.get_type(), "%s: int64 type differs from Keras 3's" % dpath)
                check(d.dtype == numpy.dtype(t["dtype"]), "%s: dtype %s, expected %s" % (dpath, d.dtype, t["dtype"]))
                got = numpy.asarray(d[()]).astype(numpy.float64)
            want_values = numpy.array(t["values"], dtype=numpy.float64)
            check(got.size == want_values.size and numpy.array_equal(got.reshape(-1), want_values),
                  "%s: values differ" % dpath)

    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
