#!/usr/bin/python3
"""Expectations for spec/c/test_h5_keras3.c (run with Debian's /usr/bin/python3: h5py, numpy).

Usage: h5_keras3_expect.py FIXTURES TMPDIR > records

Real files: expected/k3_dense_adam.weights.h5.json, and the `weights_h5` section of
expected/<name>.keras.json for the .keras fixtures, whose weights member is extracted with
zipfile to TMPDIR (the test reads it into memory and opens it with wk_file_open_memory).
Synthetic files are written with h5py into TMPDIR. One record per line, fields separated by
tabs (names may hold backslashes, never tabs):

  FILE path format        open from the path          MEM path format   open from memory
  LAYER name              layers, in the expected order
  W layer name path dtype shape sha256     the weights of the last LAYER, in order
  T path dtype shape sha256                every dataset (wk_file_tensors), any order
  END
  ERR path substring      opening must fail with a message holding substring (and the path)

shape is "3,4", "" for a scalar. The layer order is derived here from the group list alone:
a group's own `vars` first, then its child groups in name (byte) order.
"""
import hashlib
import json
import os
import sys
import zipfile

import h5py
import numpy as np

fixtures, tmp = sys.argv[1], sys.argv[2]
out = sys.stdout


def rec(*fields):
    out.write("\t".join(str(f) for f in fields) + "\n")


def numeric(s):
    return s.isdigit() and (s == "0" or not s.startswith("0"))


def weight_key(name):
    return (0, len(name), name) if numeric(name) else (1, 0, name)


def layer_order(groups):
    """Pre-order over the group tree: own `vars` first, then children by name."""
    children = {}
    for g in groups:
        parent, _, leaf = g.rpartition("/")
        children.setdefault(parent, []).append(leaf)
    order = []

    def visit(path):
        kids = sorted(children.get(path, []), key=lambda s: s.encode())
        if "vars" in kids:
            order.append(path)
        for k in kids:
            if k != "vars":
                visit(path + "/" + k if path else k)

    visit("")
    return order


def shape_str(shape):
    return ",".join(str(d) for d in shape)


def emit_expected(kind, path, fmt, section):
    groups = section["weights"]["groups"]
    variables = section["weights"]["variables"]
    rec(kind, path, fmt)
    for layer in layer_order(groups):
        rec("LAYER", layer)
        vpath = layer + "/vars" if layer else "vars"
        mine = [v for v in variables if v["path"].rpartition("/")[0] == vpath]
        for v in sorted(mine, key=lambda v: weight_key(v["path"].rpartition("/")[2])):
            rec("W", layer, v["path"].rpartition("/")[2], v["path"], v["dtype"], shape_str(v["shape"]), v["sha256"])
    for v in variables:
        rec("T", v["path"], v["dtype"], shape_str(v["shape"]), v["sha256"])
    rec("END")


# ---------------------------------------------------------------- real files
e = json.load(open(os.path.join(fixtures, "expected", "k3_dense_adam.weights.h5.json")))
emit_expected("FILE", os.path.join(fixtures, e["name"]), "keras3-weights-h5", e)

for name in ["k2150_windows_backslash_dense.keras", "k315_nested_container.keras",
             "k392_hybrid_conv1d_bilstm_bn.keras"]:
    e = json.load(open(os.path.join(fixtures, "expected", name + ".json")))
    with zipfile.ZipFile(os.path.join(fixtures, name)) as z:
        member = next(n for n in z.namelist() if n.replace("\\", "/") in ("model.weights.h5", "variables.h5"))
        data = z.read(member)
    assert hashlib.sha256(data).hexdigest() == e["weights_h5_sha256"]
    p = os.path.join(tmp, name + ".weights.h5")
    with open(p, "wb") as f:
        f.write(data)
    emit_expected("MEM", p, "keras3-weights-h5", e["weights_h5"])


# ---------------------------------------------------------------- synthetic files
def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()


def synth(name, layers, build, extra_tensors=()):
    """layers: [(layer, [(weight, dtype, array_or_raw)])]; build(f) writes the file."""
    p = os.path.join(tmp, name)
    with h5py.File(p, "w") as f:
        build(f)
    rec("FILE", p, "keras3-weights-h5")
    tensors = []
    for layer, weights in layers:
        rec("LAYER", layer)
        for w, dtype, a, digest in weights:
            path = (layer + "/vars/" if layer else "vars/") + w
            rec("W", layer, w, path, dtype, shape_str(a.shape), digest)
            tensors.append((path, dtype, a, digest))
    for t in list(tensors) + list(extra_tensors):
        rec("T", t[0], t[1], shape_str(t[2].shape), t[3])
    rec("END")


rng = np.random.default_rng(3)

# bfloat16: a tagged opaque dataset, a tagged uint16 one, and an untagged uint16 one
bf_bits = rng.integers(0, 65536, size=(3, 5), dtype=np.uint16)
bf_raw = bf_bits.astype("<u2").tobytes()
plain_u16 = rng.integers(0, 65536, size=(4,), dtype=np.uint16)
bf_bits2 = rng.integers(0, 65536, size=(2,), dtype=np.uint16)


def b_bf16(f):
    f.create_group("vars")
    v = f.create_group("layers").create_group("dense").create_group("vars")
    d = v.create_dataset("0", data=np.frombuffer(bf_raw, dtype="V2").reshape(3, 5))
    d.attrs["dtype"] = "bfloat16"
    d = v.create_dataset("1", data=bf_bits2)
    d.attrs["dtype"] = "bfloat16"
    v.create_dataset("2", data=plain_u16)


synth("bf16.weights.h5", [("", []), ("layers/dense", [
    ("0", "bfloat16", bf_bits, hashlib.sha256(bf_raw).hexdigest()),
    ("1", "bfloat16", bf_bits2, sha(bf_bits2)),
    ("2", "uint16", plain_u16, sha(plain_u16))])], b_bf16)

# scalars, empty vars groups, 12+ datasets in numeric order, a non-numeric name, a big-endian one
many = [rng.standard_normal(i + 1).astype(np.float32) for i in range(13)]
scal_i = np.array(37500, dtype=np.int64)
scal_f = np.array(0.001, dtype=np.float32)
be = rng.standard_normal((2, 2)).astype(">f8")
odd = np.arange(3, dtype=np.int32)


def b_many(f):
    f.create_group("vars")
    L = f.create_group("layers")
    L.create_group("input_layer").create_group("vars")
    v = L.create_group("dense").create_group("vars")
    for i, a in enumerate(many):
        v.create_dataset(str(i), data=a)
    v.create_dataset("extra", data=odd)
    v.create_dataset("01", data=odd)
    v.create_group("ignored").create_dataset("0", data=odd)
    o = f.create_group("optimizer").create_group("vars")
    o.create_dataset("0", data=scal_i)
    o.create_dataset("1", data=scal_f)
    o.create_dataset("2", data=be)


dense_w = [(str(i), "float32", a, sha(a)) for i, a in enumerate(many)] + \
          [("01", "int32", odd, sha(odd)), ("extra", "int32", odd, sha(odd))]
synth("many.weights.h5", [("", []), ("layers/dense", dense_w), ("layers/input_layer", []),
                          ("optimizer", [("0", "int64", scal_i, sha(scal_i)), ("1", "float32", scal_f, sha(scal_f)),
                                         ("2", "float64", be, sha(be))])], b_many,
      extra_tensors=[("layers/dense/vars/ignored/0", "int32", odd, sha(odd))])

# deep nesting (Bidirectional LSTM: a layer's own vars before its children), no root vars
k0 = rng.standard_normal((4, 8)).astype(np.float32)
k1 = rng.standard_normal((2, 8)).astype(np.float32)
b0 = rng.standard_normal(8).astype(np.float32)


def b_deep(f):
    bi = f.create_group("layers").create_group("bidirectional")
    bi.create_group("vars")
    for side, arr in (("backward_layer", k1), ("forward_layer", k0)):
        s = bi.create_group(side)
        s.create_group("vars")
        c = s.create_group("cell").create_group("vars")
        c.create_dataset("0", data=arr)
        c.create_dataset("1", data=b0)


synth("deep.weights.h5", [("layers/bidirectional", []), ("layers/bidirectional/backward_layer", []),
                          ("layers/bidirectional/backward_layer/cell", [("0", "float32", k1, sha(k1)),
                                                                        ("1", "float32", b0, sha(b0))]),
                          ("layers/bidirectional/forward_layer", []),
                          ("layers/bidirectional/forward_layer/cell", [("0", "float32", k0, sha(k0)),
                                                                       ("1", "float32", b0, sha(b0))])], b_deep)

# Keras 2.12-2.14: _layer_checkpoint_dependencies instead of layers
d0 = rng.standard_normal((3, 2)).astype(np.float32)


def b_lcd(f):
    f.create_group("vars")
    g = f.create_group("_layer_checkpoint_dependencies")
    g.create_group("dense").create_group("vars").create_dataset("0", data=d0)
    g.create_group("dropout").create_group("vars")


synth("lcd.weights.h5", [("", []), ("_layer_checkpoint_dependencies/dense", [("0", "float32", d0, sha(d0))]),
                         ("_layer_checkpoint_dependencies/dropout", [])], b_lcd)


# ---------------------------------------------------------------- hostile files
def bad(name, want, build):
    p = os.path.join(tmp, name)
    with h5py.File(p, "w") as f:
        build(f)
    rec("ERR", p, want)


def h_soft_vars(f):
    v = f.create_group("layers").create_group("dense").create_group("real")
    v.create_dataset("0", data=d0)
    f["layers/dense/vars"] = h5py.SoftLink("/layers/dense/real")


bad("soft_vars.weights.h5", '"layers/dense/vars" is a soft link (not followed)', h_soft_vars)


def h_ext(f):
    f.create_group("vars")
    f["layers/ext"] = h5py.ExternalLink("elsewhere.h5", "/layers/dense")


bad("external.weights.h5", '"layers/ext" is an external link (not followed)', h_ext)


def h_ext_weight(f):
    f.create_group("vars")
    v = f.create_group("layers").create_group("dense").create_group("vars")
    v.create_dataset("0", data=d0)
    v["1"] = h5py.ExternalLink("elsewhere.h5", "/x")


bad("external_weight.weights.h5", 'layer "layers/dense": weight "1" is an external link (not followed)', h_ext_weight)


def h_vars_dataset(f):
    f.create_group("vars")
    f.create_group("layers").create_group("dense").create_dataset("vars", data=d0)


bad("vars_dataset.weights.h5", '"layers/dense/vars" is a dataset, not a group', h_vars_dataset)


def h_plain(f):
    f.create_group("something").create_dataset("x", data=d0)


bad("plain.h5", "not a Keras weights file", h_plain)
