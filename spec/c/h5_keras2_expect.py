"""Expectations for spec/c/test_h5_keras2.c (run by the test with /usr/bin/python3).

Usage: h5_keras2_expect.py FIXTURES_DIR TMP_DIR

Prints one record per line, fields separated by tabs, each field percent-quoted:
  FILE <path> <format or ERR> <error substring or ->     starts a file
  KV <keras_version or ~>   BE <backend or ~>   RKV <root keras_version or ~>
  WARN <substring>                                        open succeeds with a warning
  LAYER <name> <weight count>     then that many W lines
  TOP <count>   (absent: no top_level_model_weights)     then W lines
  OPT <count>   (-1: no optimizer weights)                then W lines
  W <name> <path> <dtype> <dims, comma-separated> <sha256 | -> <zero-copy 1/0>
  ALL <count>   then T <path> <dtype> <dims> lines (every dataset, h5py visititems order)
  RERR <path> <substring>                                 reading that dataset must fail
  END
Real files: names, order, shapes, dtypes and sha256 come from expected/<name>.json; the
dataset listing and the zero-copy expectation come from h5py. Synthetic files are written
into TMP_DIR with h5py (encodings and storage Keras never produced but a reader must take).
"""
import glob, hashlib, json, os, sys
from urllib.parse import quote

import numpy as np
import h5py

fixtures, tmp = sys.argv[1], sys.argv[2]
out = []


def rec(*fields):
    out.append("\t".join(quote(str(f), safe="") for f in fields))


def dims(shape):
    return ",".join(str(d) for d in shape) or "-"


def le_sha(arr):
    a = np.ascontiguousarray(arr)
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def zero_copy(ds):
    """What the reader should do: window on the mapping, or a converting read."""
    if ds.dtype == np.bool_ or ds.dtype.byteorder == ">" or ds.id.get_create_plist().get_layout() != h5py.h5d.CONTIGUOUS:
        return 0
    if ds.dtype.kind not in "iuf":
        return 0
    off = ds.id.get_offset()
    if off is None or ds.id.get_storage_size() < ds.size * ds.dtype.itemsize:
        return 0
    return 1 if off % ds.dtype.itemsize == 0 else 0


def dtype_name(dt):
    return "bool" if dt == np.bool_ else np.dtype(dt).newbyteorder("=").name


def all_datasets(f):
    found = []
    f.visititems(lambda n, o: found.append((n, o)) if isinstance(o, h5py.Dataset) else None)
    rec("ALL", len(found))
    for n, o in found:
        rec("T", n, dtype_name(o.dtype), dims(o.shape))


def attr_str(obj, name):
    if name not in obj.attrs:
        return "~"
    v = obj.attrs[name]
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0]
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


# ---------------------------------------------------------------- real files
for jpath in sorted(glob.glob(os.path.join(fixtures, "expected", "*.h5.json"))):
    e = json.load(open(jpath))
    path = os.path.join(fixtures, e["name"])
    if e["kind"] == "keras_v3_weights_h5":
        continue  # the Keras 3 reader's: spec/c/test_h5_keras3.c
    full = e["kind"] == "keras_h5_full_model"
    sec = e["model_weights"] if full else e["weights"]
    f = h5py.File(path, "r")
    rec("FILE", path, "keras2-h5-model" if full else "keras2-h5", "-")
    rec("KV", sec.get("keras_version") or "~")
    rec("BE", sec.get("backend") or "~")
    rec("RKV", (e["root_attrs"].get("keras_version") or {}).get("value", "~"))
    for layer in sec["layers"]:
        rec("LAYER", layer["name"], len(layer["weights"]))
        for w in layer["weights"]:
            rec("W", w["name"], w["path"], w["dtype"], dims(w["shape"]), w["sha256"], zero_copy(f[w["path"]]))
    for g in sec.get("groups_not_in_layer_names", []):
        if g["name"] == "top_level_model_weights":
            rec("TOP", len(g["weight_names"]))
    opt = e.get("optimizer_weights")
    if opt is None:
        rec("OPT", -1)
    else:
        rec("OPT", len(opt["weights"]))
        for w in opt["weights"]:
            p = "optimizer_weights/" + w["name"]
            rec("W", w["name"], p, w["dtype"], dims(w["shape"]), w["sha256"], zero_copy(f[p]))
    all_datasets(f)
    f.close()
    rec("END")

# ---------------------------------------------------------------- synthetic files
def fixed_strings(names, pad=h5py.h5t.STR_NULLPAD, size=None):
    raw = [n.encode("utf8") for n in names]
    size = size or max(1, max(len(r) for r in raw))
    t = h5py.h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    fill = b" " if pad == h5py.h5t.STR_SPACEPAD else b"\0"
    data = np.array([r.ljust(size, fill) for r in raw], dtype="S%d" % size)
    return t, data


def put_attr(obj, name, names, kind="nullpad"):
    """A string-list attribute in a chosen encoding."""
    if kind == "empty":
        obj.attrs.create(name, np.zeros((0,), "f8"))
        return
    if kind == "vlen":
        obj.attrs.create(name, names, dtype=h5py.string_dtype("utf-8"))
        return
    pad = {"nullpad": h5py.h5t.STR_NULLPAD, "nullterm": h5py.h5t.STR_NULLTERM,
           "spacepad": h5py.h5t.STR_SPACEPAD}[kind]
    t, data = fixed_strings(names, pad, None if kind != "nullterm" else max(len(n) for n in names) + 1)
    space = h5py.h5s.create_simple((len(names),))
    a = h5py.h5a.create(obj.id, name.encode(), t, space)
    a.write(data, mtype=t)


def chunked_attr(obj, name, names):
    """Keras's save_attributes_to_hdf5_group (keras-formats.md §1.4)."""
    a = np.asarray([n.encode() for n in names])
    k = 1
    chunks = np.array_split(a, k)
    while any(c.nbytes > 64512 for c in chunks):
        k += 1
        chunks = np.array_split(a, k)
    if k == 1:
        obj.attrs[name] = names
    else:
        for i, c in enumerate(chunks):
            obj.attrs["%s%d" % (name, i)] = c
    return k


def describe_keras2(path, fmt, warn=None):
    """Expectation records from h5py, following Keras's reading rules."""
    f = h5py.File(path, "r")
    full = "layer_names" not in f.attrs and "model_weights" in f
    g = f["model_weights"] if full else f
    prefix = "model_weights/" if full else ""

    def names_of(obj, attr):
        if attr in obj.attrs:
            v = obj.attrs[attr]
            vals = list(v.reshape(-1)) if isinstance(v, np.ndarray) else [v]
        else:
            vals, k = [], 0
            while "%s%d" % (attr, k) in obj.attrs:
                vals += list(obj.attrs["%s%d" % (attr, k)]); k += 1
        out = []
        for x in vals:
            if isinstance(x, bytes):
                x = x.rstrip(b"\0 ").decode("utf8") if True else x
            out.append(str(x) if not isinstance(x, str) else x)
        return [x for x in out] if len(vals) and not isinstance(vals[0], (float, np.floating)) else []

    def weights(group, gpath):
        ws = names_of(group, "weight_names")
        for w in ws:
            ds = group[w]
            rec("W", w, gpath + "/" + w, dtype_name(ds.dtype), dims(ds.shape), le_sha(ds[()]), zero_copy(ds))

    rec("FILE", path, fmt, "-")
    if warn:
        rec("WARN", warn)
    rec("KV", attr_str(g, "keras_version"))
    rec("BE", attr_str(g, "backend"))
    rec("RKV", attr_str(f, "keras_version"))
    for ln in names_of(g, "layer_names"):
        lg = g[ln]
        rec("LAYER", ln, len(names_of(lg, "weight_names")))
        weights(lg, prefix + ln)
    if "top_level_model_weights" in g:
        t = g["top_level_model_weights"]
        rec("TOP", len(names_of(t, "weight_names")))
        weights(t, prefix + "top_level_model_weights")
    if "optimizer_weights" in f and not warn:
        o = f["optimizer_weights"]
        rec("OPT", len(names_of(o, "weight_names")))
        weights(o, "optimizer_weights")
    else:
        rec("OPT", -1)
    all_datasets(f)
    f.close()


def new_ds(group, name, data, **kw):
    return group.create_dataset(name, data=data, **kw)


rng = np.random.default_rng(7)

# 1. weights-only file with every encoding and storage a reader must take
p = os.path.join(tmp, "mixed.h5")
with h5py.File(p, "w") as f:
    layers = ["dense_be", "conv_gz", "half", "flags", "ints", "empty", "names_vlen", "names_space",
              "compact", "unwritten"]
    # layer_names split by hand into two fixed-length chunks (no plain layer_names)
    t, data = fixed_strings(layers)
    for i, part in enumerate((data[:4], data[4:])):
        space = h5py.h5s.create_simple((len(part),))
        a = h5py.h5a.create(f.id, b"layer_names%d" % i, t, space)
        a.write(part, mtype=t)
    f.attrs["keras_version"] = np.bytes_(b"2.2.4")           # fixed-length scalar
    f.attrs.create("backend", "tensorflow", dtype=h5py.string_dtype("utf-8"))  # vlen UTF-8 scalar
    g = f.create_group("dense_be"); put_attr(g, "weight_names", ["dense_be/kernel:0", "dense_be/bias:0"], "nullterm")
    new_ds(g, "dense_be/kernel:0", rng.standard_normal((2, 3)).astype(">f4"))
    new_ds(g, "dense_be/bias:0", rng.standard_normal((3,)).astype(">f8"))
    g = f.create_group("conv_gz"); put_attr(g, "weight_names", ["conv_gz/kernel:0"], "nullpad")
    new_ds(g, "conv_gz/kernel:0", rng.standard_normal((4, 3, 2, 5)).astype("<f4"), chunks=(2, 3, 2, 5),
           compression="gzip", shuffle=True)
    g = f.create_group("half"); put_attr(g, "weight_names", ["half/kernel:0", "half/kernel_be:0"], "vlen")
    new_ds(g, "half/kernel:0", rng.standard_normal((3, 5)).astype("<f2"))
    new_ds(g, "half/kernel_be:0", rng.standard_normal((5,)).astype(">f2"))
    g = f.create_group("flags"); put_attr(g, "weight_names", ["flags/mask:0"], "nullpad")
    new_ds(g, "flags/mask:0", np.array([True, False, True, True, False]))
    g = f.create_group("ints"); put_attr(g, "weight_names", ["ints/iter:0", "ints/u8:0", "ints/i16be:0", "ints/u64:0"], "vlen")
    new_ds(g, "ints/iter:0", np.int64(11808))
    new_ds(g, "ints/u8:0", np.array([1, 200, 255], "u1"))
    new_ds(g, "ints/i16be:0", np.array([[1, -2], [300, -32768]], ">i2"))
    new_ds(g, "ints/u64:0", np.array([2**64 - 1, 5], "<u8"))
    g = f.create_group("empty"); put_attr(g, "weight_names", [], "empty")
    g = f.create_group("names_vlen"); put_attr(g, "weight_names", ["d\u00e9nse/\u6838/kernel:0"], "vlen")
    new_ds(g, "d\u00e9nse/\u6838/kernel:0", rng.standard_normal((2, 2)).astype("<f4"))
    g = f.create_group("names_space"); put_attr(g, "weight_names", ["sp/a:0", "sp/bb:0"], "spacepad")
    new_ds(g, "sp/a:0", np.arange(6, dtype="<i4").reshape(2, 3))
    new_ds(g, "sp/bb:0", np.arange(4, dtype="<f8"))
    g = f.create_group("compact"); put_attr(g, "weight_names", ["compact/w:0"], "nullpad")
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE); dcpl.set_layout(h5py.h5d.COMPACT)
    sid = h5py.h5s.create_simple((4,))
    grp = g.create_group("compact")
    d = h5py.h5d.create(grp.id, b"w:0", h5py.h5t.IEEE_F32LE, sid, dcpl=dcpl)
    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([1, 2, 3, 4], "<f4"))
    g = f.create_group("unwritten"); put_attr(g, "weight_names", ["unwritten/w:0"], "nullpad")
    g.create_dataset("unwritten/w:0", shape=(3, 3), dtype="<f4")   # never written: fill value
    t = f.create_group("top_level_model_weights"); put_attr(t, "weight_names", ["scale:0"], "vlen")
    new_ds(t, "scale:0", np.float32(0.5))
describe_keras2(p, "keras2-h5")
rec("END")

# 2. full model: vlen names, optimizer weights, empty top-level group, root-only attributes
p = os.path.join(tmp, "model.h5")
with h5py.File(p, "w") as f:
    f.attrs["keras_version"] = "2.6.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = b'{"class_name": "Sequential", "config": {}}'
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = [b"dense", b"dropout"]
    mw.attrs["keras_version"] = b"2.6.0"
    mw.attrs["backend"] = b"tensorflow"
    g = mw.create_group("dense"); g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
    new_ds(g, "dense/kernel:0", rng.standard_normal((4, 2)).astype("<f4"))
    new_ds(g, "dense/bias:0", np.zeros((2,), "<f4"))
    g = mw.create_group("dropout"); put_attr(g, "weight_names", [], "empty")
    t = mw.create_group("top_level_model_weights"); put_attr(t, "weight_names", [], "empty")
    o = f.create_group("optimizer_weights"); o.attrs["weight_names"] = [b"Adam/iter:0", b"Adam/dense/kernel/m:0"]
    new_ds(o, "Adam/iter:0", np.int64(3))
    new_ds(o, "Adam/dense/kernel/m:0", rng.standard_normal((4, 2)).astype("<f4"))
describe_keras2(p, "keras2-h5-model")
rec("END")

# 3. a user block before the HDF5 data: H5Dget_offset counts from the start of the file
p = os.path.join(tmp, "userblock.h5")
with h5py.File(p, "w", userblock_size=512) as f:
    f.attrs["layer_names"] = [b"d"]
    g = f.create_group("d"); g.attrs["weight_names"] = [b"d/k:0"]
    new_ds(g, "d/k:0", rng.standard_normal((8, 8)).astype("<f4"))
describe_keras2(p, "keras2-h5")
rec("END")

# 3b. libver="latest": version-2 object headers (OHDR), compact attributes, vlen UTF-8 names
p = os.path.join(tmp, "ohdr_v2.h5")
with h5py.File(p, "w", libver="latest") as f:
    f.attrs["layer_names"] = ["d", "e"]
    f.attrs["keras_version"] = "2.15.0"
    g = f.create_group("d"); g.attrs["weight_names"] = ["d/k:0", "d/b:0"]
    new_ds(g, "d/k:0", rng.standard_normal((3, 4)).astype("<f4"))
    new_ds(g, "d/b:0", np.ones((4,), "<f8"))
    put_attr(f.create_group("e"), "weight_names", [], "empty")
describe_keras2(p, "keras2-h5")
rec("END")

# 4. 3000 layers: layer_names chunked exactly as Keras does it
p = os.path.join(tmp, "chunked3000.h5")
with h5py.File(p, "w") as f:
    names = ["a_rather_long_layer_name_%05d" % i for i in range(3000)]
    k = chunked_attr(f, "layer_names", names)
    assert k > 1
    for n in names:
        put_attr(f.create_group(n), "weight_names", [], "empty")
    g = f[names[1234]]
    del g.attrs["weight_names"]
    chunked_attr(g, "weight_names", ["w/%05d:0" % i for i in range(2)])
    new_ds(g, "w/00000:0", np.arange(3, dtype="<f4"))
    new_ds(g, "w/00001:0", np.arange(2, dtype="<i8"))
describe_keras2(p, "keras2-h5")
rec("END")

# 5. a broken optimizer group: the open succeeds with a warning
p = os.path.join(tmp, "badopt.h5")
with h5py.File(p, "w") as f:
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = [b"d"]
    g = mw.create_group("d"); g.attrs["weight_names"] = [b"d/k:0"]
    new_ds(g, "d/k:0", np.ones((2,), "<f4"))
    o = f.create_group("optimizer_weights"); o.attrs["weight_names"] = [b"Adam/iter:0", b"gone:0"]
    new_ds(o, "Adam/iter:0", np.int64(3))
describe_keras2(p, "keras2-h5-model", warn='optimizer_weights: weight "gone:0": dataset not found')
rec("END")

# 6. hostile or broken files: one expected error each
def bad(name, expect, build):
    p = os.path.join(tmp, name)
    with h5py.File(p, "w") as f:
        build(f)
    rec("FILE", p, "ERR", expect)
    rec("END")


def one_layer(f, wnames=(b"dense_1/kernel:0",), layer=b"dense_1"):
    f.attrs["layer_names"] = [layer]
    g = f.create_group(layer.decode())
    g.attrs["weight_names"] = list(wnames)
    return g


def b_missing(f):
    one_layer(f)
bad("missing.h5", 'missing.h5: layer "dense_1": weight "dense_1/kernel:0": dataset not found', b_missing)


def b_soft(f):
    g = one_layer(f)
    new_ds(f, "elsewhere", np.ones(3, "<f4"))
    g["dense_1"] = h5py.SoftLink("/elsewhere")
bad("softlink.h5", '"dense_1" is a soft link (not followed)', b_soft)


def b_ext(f):
    g = one_layer(f)
    g["dense_1"] = h5py.ExternalLink(os.path.join(tmp, "userblock.h5"), "/d")
bad("extlink.h5", '"dense_1" is an external link (not followed)', b_ext)


def b_extds(f):
    g = one_layer(f)
    open(os.path.join(tmp, "raw.bin"), "wb").write(b"\0" * 64)
    g.create_dataset("dense_1/kernel:0", shape=(4,), dtype="<f4", external=[(os.path.join(tmp, "raw.bin"), 0, 16)])
bad("extds.h5", "external dataset refused", b_extds)


def b_rank9(f):
    g = one_layer(f)
    g.create_dataset("dense_1/kernel:0", shape=(1,) * 9, dtype="<f4")
bad("rank9.h5", "rank 9 exceeds the limit of 8", b_rank9)


def b_intnames(f):
    f.attrs["layer_names"] = [b"d"]
    f.create_group("d").attrs["weight_names"] = np.array([1, 2], "i4")
bad("intnames.h5", 'layer "d": attribute "weight_names" is not a list of strings (HDF5 class integer)', b_intnames)


def b_group(f):
    g = one_layer(f)
    g.create_group("dense_1/kernel:0")
bad("groupweight.h5", 'weight "dense_1/kernel:0": not a dataset', b_group)


def b_abs(f):
    g = one_layer(f, wnames=(b"/dense_1/kernel:0",))
bad("absolute.h5", "absolute path refused", b_abs)


def b_ghost(f):
    f.attrs["layer_names"] = [b"ghost"]
bad("ghost.h5", 'layer "ghost": group not found', b_ghost)


def b_legacy(f):
    f.attrs["nb_layers"] = 1
    f.create_group("layer_0").attrs["nb_params"] = 0
bad("legacy0.h5", "Keras 0.x weights layout", b_legacy)


def b_2d(f):
    f.attrs["layer_names"] = np.array([[b"a", b"b"]])
bad("names2d.h5", 'attribute "layer_names" is not a list (rank 2)', b_2d)


def b_dense(f):
    pass
p = os.path.join(tmp, "dense_attrs.h5")
with h5py.File(p, "w", libver="latest") as f:
    f.attrs["layer_names"] = [b"d"]
    for i in range(12):
        f.attrs["extra%d" % i] = i
    put_attr(f.create_group("d"), "weight_names", [], "empty")
rec("FILE", p, "ERR", "dense attribute storage is not supported")
rec("END")


def b_nomw(f):
    f.create_group("model_weights")
bad("nolayers.h5", "not a Keras 1/2 weights file (no layer_names attribute on model_weights)", b_nomw)

# 7. reads that must fail: a huge unallocated dataset (a small file declaring 4 GiB)
p = os.path.join(tmp, "bomb.h5")
with h5py.File(p, "w") as f:
    g = one_layer(f)
    g.create_dataset("dense_1/kernel:0", shape=(1 << 30,), dtype="<f4")
rec("FILE", p, "keras2-h5", "-")
rec("LAYER", "dense_1", 1)
rec("RERR", "dense_1/dense_1/kernel:0", "expansion limit")
rec("END")

sys.stdout.write("\n".join(out) + "\n")
