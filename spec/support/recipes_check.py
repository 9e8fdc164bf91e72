"""Independent checks of the recipes in examples/recipes/, for spec/recipes_spec.lua.

Run with Debian's /usr/bin/python3 (h5py + numpy; no torch, no Keras, no weightkit). Each subcommand reads
the files a recipe read and wrote, recomputes with numpy what the recipe should have produced, prints one
"ok <what>" line per check and exits 1 with "FAIL <what>: <why>" at the first difference.

  torch-make OUT.safetensors            write the PyTorch-style state dict the PyTorch recipe converts
  torch IN.safetensors OUT.h5 FLAT      the Keras weights (layouts, sums, gate moves) and the head outputs
                                        FLAT (the space-separated numbers the recipe printed)
  keras1 IN.h5 OUT.h5 FLIP FIRST3       Keras 1 Theano conv net -> Keras 2 file; FLIP 1 when the kernels
                                        were flipped; FIRST3 the kernel values the recipe printed
  renamed IN.h5 OUT.h5 OLD=NEW,...      OUT's layer NEW holds IN's layer OLD's arrays, in order, unchanged
  keras3-h5 IN.h5 OUT.weights.h5 MAP    MAP: JSON {Keras 3 dataset path: Keras 2 weight name}; OUT holds
                                        exactly those datasets, each equal to IN's
  keras3-tf PREFIX FACTS OUT MAP        the same from a TF checkpoint: MAP {path: checkpoint key}, the
                                        values read from the data shard at the offsets the fixture's
                                        expected-facts JSON (FACTS) gives
  prune IN.h5 OUT.h5 CONV BN NEXT K     the K lowest-L1 filters of CONV are gone from CONV, BN and NEXT's
                                        input, the rest equal IN's; every other array unchanged
  transfer IN.h5 OUT.h5 HEAD CLASSES    every non-HEAD array equals IN's; HEAD is (in, CLASSES) with a
                                        Glorot-uniform kernel and a zero bias, not IN's
"""
import hashlib
import json
import struct
import sys

import h5py
import numpy as np


def fail(what, why):
    print("FAIL %s: %s" % (what, why))
    sys.exit(1)


def ok(what):
    print("ok " + what)


def close(what, got, want, tol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        fail(what, "shape %s, expected %s" % (got.shape, want.shape))
    if not np.allclose(got, want, rtol=tol, atol=tol):
        fail(what, "max |diff| %g" % np.max(np.abs(got.astype(np.float64) - want)))
    ok(what)


def same(what, got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype or not np.array_equal(got, want):
        fail(what, "got %s %s, expected %s %s" % (got.dtype, got.shape, want.dtype, want.shape))
    ok(what)


def names(attr):
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in attr]


def keras2_weights(path):
    """{weight name: array} of a Keras 2 save_weights file (layer_names, weight_names), and layer order."""
    out, layers = {}, []
    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        for layer in names(g.attrs["layer_names"]):
            layers.append(layer)
            for w in names(g[layer].attrs["weight_names"]):
                out[w] = np.asarray(g[layer][w])
    return out, layers


def keras3_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = np.asarray(obj)
        f.visititems(visit)
    return out


# ---- PyTorch state dict -----------------------------------------------------------------------------

ST_DTYPE = {"float32": "F32", "int64": "I64"}


def write_safetensors(path, tensors):
    # safetensors: u64 LE header length, JSON header {name: {dtype, shape, data_offsets: [begin, end]}}
    # (offsets relative to the data that follows the header), then the little-endian C-order bytes.
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": ST_DTYPE[a.dtype.name], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)  # the format allows space padding; 8-aligned data as torch writes it
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dt = {v: k for k, v in ST_DTYPE.items()}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=np.dtype(dt[e["dtype"]]).newbyteorder("<")).reshape(e["shape"])
    return out


def torch_make(path):
    rng = np.random.default_rng(20240607)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    sd = {
        "features.0.weight": f32(8, 3, 3, 3), "features.0.bias": f32(8),
        "features.1.weight": f32(8), "features.1.bias": f32(8),
        "features.1.running_mean": f32(8),
        "features.1.running_var": (rng.random(8) + 0.5).astype(np.float32),
        "features.1.num_batches_tracked": np.array(1234, dtype=np.int64),
        "fc.weight": f32(4, 8), "fc.bias": f32(4),
        "lstm.weight_ih_l0": f32(24, 5), "lstm.weight_hh_l0": f32(24, 6),
        "lstm.bias_ih_l0": f32(24), "lstm.bias_hh_l0": f32(24),
        "gru.weight_ih_l0": f32(21, 6), "gru.weight_hh_l0": f32(21, 7),
        # b_hh before b_ih: the recipe's rule order, not the file's, must decide the GRU bias rows
        "gru.bias_hh_l0": f32(21), "gru.bias_ih_l0": f32(21),
    }
    write_safetensors(path, sd)
    ok("wrote " + path)


def torch_check(st_path, out_path, flat):
    sd = read_safetensors(st_path)
    w, _ = keras2_weights(out_path)
    if any("num_batches_tracked" in k for k in w):
        fail("num_batches_tracked", "kept in the Keras file")
    same("conv kernel = OIHW.transpose(2, 3, 1, 0)", w["conv/kernel:0"],
         sd["features.0.weight"].transpose(2, 3, 1, 0))
    same("conv bias", w["conv/bias:0"], sd["features.0.bias"])
    for torch_name, keras_name in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                   ("running_var", "moving_variance")):
        same("bn %s <- %s" % (keras_name, torch_name), w["bn/%s:0" % keras_name], sd["features.1." + torch_name])
    same("fc kernel = weight.T", w["fc/kernel:0"], sd["fc.weight"].T)
    same("fc bias", w["fc/bias:0"], sd["fc.bias"])
    same("lstm kernel = weight_ih.T", w["lstm/lstm_cell/kernel:0"], sd["lstm.weight_ih_l0"].T)
    same("lstm recurrent_kernel = weight_hh.T", w["lstm/lstm_cell/recurrent_kernel:0"], sd["lstm.weight_hh_l0"].T)
    same("lstm bias = b_ih + b_hh", w["lstm/lstm_cell/bias:0"], sd["lstm.bias_ih_l0"] + sd["lstm.bias_hh_l0"])

    def zrh(a):  # PyTorch gate blocks r, z, n on the last axis -> Keras z, r, h
        r, z, n = np.split(a, 3, axis=-1)
        return np.concatenate([z, r, n], axis=-1)

    same("gru kernel = zrh(weight_ih.T)", w["gru/gru_cell/kernel:0"], zrh(sd["gru.weight_ih_l0"].T))
    same("gru recurrent_kernel = zrh(weight_hh.T)", w["gru/gru_cell/recurrent_kernel:0"],
         zrh(sd["gru.weight_hh_l0"].T))
    same("gru bias = [zrh(b_ih), zrh(b_hh)]", w["gru/gru_cell/bias:0"],
         np.stack([zrh(sd["gru.bias_ih_l0"]), zrh(sd["gru.bias_hh_l0"])]))
    # The head in PyTorch's eval-mode semantics (eps 1e-5), float64.
    x = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5], [0.3, -0.7, 1.1, -1.3, 0.2, 0.9, -0.4, 0.6]])
    g = {k: v.astype(np.float64) for k, v in sd.items() if v.dtype == np.float32}
    bn = (x - g["features.1.running_mean"]) / np.sqrt(g["features.1.running_var"] + 1e-5) \
        * g["features.1.weight"] + g["features.1.bias"]
    y = np.maximum(bn, 0) @ g["fc.weight"].T + g["fc.bias"]
    close("head(x) = fc(relu(bn(x))) as PyTorch computes it", np.array([float(v) for v in flat.split()]),
          y.reshape(-1), tol=1e-5)


# ---- Keras 1 -> Keras 2 ------------------------------------------------------------------------------

def keras1_check(in_path, out_path, flip, first3):
    flip = flip == "1"
    out, _ = keras2_weights(out_path)
    with h5py.File(in_path, "r") as f:
        for layer in names(f.attrs["layer_names"]):
            arrays = [np.asarray(f[layer][w]) for w in names(f[layer].attrs["weight_names"])]
            if not arrays:
                continue
            if layer.startswith("convolution2d"):
                k = arrays[0].transpose(2, 3, 1, 0)  # Keras 1 'th' (out, in, rows, cols) -> (rows, cols, in, out)
                if flip:
                    k = k[::-1, ::-1]  # Theano convolution -> correlation: rows and cols reversed
                same(layer + " kernel", out[layer + "/kernel:0"], k)
                same(layer + " bias", out[layer + "/bias:0"], arrays[1])
            elif layer.startswith("batchnormalization"):
                for a, n in zip(arrays, ("gamma", "beta", "moving_mean", "moving_variance")):
                    same("%s %s" % (layer, n), out["%s/%s:0" % (layer, n)], a)
            elif layer.startswith("dense"):
                same(layer + " kernel", out[layer + "/kernel:0"], arrays[0])
                same(layer + " bias", out[layer + "/bias:0"], arrays[1])
            else:
                fail(layer, "unexpected layer with weights")
        w = np.asarray(f["convolution2d_1"]["convolution2d_1_W"])
    with h5py.File(out_path, "r") as f:
        if "keras_version" not in f.attrs or "backend" not in f.attrs:
            fail("attributes", "a Keras 2 file needs keras_version and backend")
    ok("Keras 2 attributes")
    # printed kernel[0, 0, 0, 0..2] = W[o, 0, r, c] with (r, c) = (0, 0), or (3, 3) when flipped
    r = 3 if flip else 0
    close("printed kernel values", [float(v) for v in first3.split()], w[0:3, 0, r, r], tol=1e-7)


# ---- renamed layers -----------------------------------------------------------------------------------

def layer_arrays(path):
    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        return {layer: [np.asarray(g[layer][w]) for w in names(g[layer].attrs["weight_names"])]
                for layer in names(g.attrs["layer_names"])}


def renamed_check(in_path, out_path, pairs):
    src, dst = layer_arrays(in_path), layer_arrays(out_path)
    moves = [pair.split("=") for pair in pairs.split(",")]
    with_weights = sorted(layer for layer, arrays in dst.items() if arrays)
    if with_weights != sorted(new for _, new in moves):
        fail("layers", "OUT's layers with weights are %s" % with_weights)
    ok("layers with weights: %s" % with_weights)
    for old, new in moves:
        if len(src[old]) != len(dst[new]):
            fail(new, "%d arrays, %s had %d" % (len(dst[new]), old, len(src[old])))
        for i, (a, b) in enumerate(zip(src[old], dst[new])):
            same("%s[%d] = %s[%d]" % (new, i, old, i), b, a)


# ---- Keras 3 .weights.h5 ------------------------------------------------------------------------------

def keras3_compare(out_path, mapping, source):
    got = keras3_datasets(out_path)
    if sorted(got) != sorted(mapping):
        fail("datasets", "OUT has %s, expected %s" % (sorted(got), sorted(mapping)))
    ok("exactly the expected datasets: %d" % len(got))
    for path in sorted(mapping):
        same("%s = %s" % (path, mapping[path]), got[path], source(mapping[path]))


def keras3_h5_check(in_path, out_path, map_json):
    src, _ = keras2_weights(in_path)
    keras3_compare(out_path, json.loads(map_json), lambda name: src[name])


TF_DTYPE = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "int32": "<i4"}


def keras3_tf_check(prefix, facts_path, out_path, map_json):
    with open(facts_path) as f:
        facts = json.load(f)
    ckpt = facts["checkpoints"][0]
    entries = {e["key"]: e for e in ckpt["entries"]}
    nshards = 1 + max(e.get("shard_id", 0) for e in ckpt["entries"])

    def read(key):  # a TF bundle tensor: raw little-endian bytes at (shard, offset, size)
        e = entries[key]
        with open("%s.data-%05d-of-%05d" % (prefix, e["shard_id"], nshards), "rb") as f:
            f.seek(e["offset"])
            raw = f.read(e["size"])
        if e.get("sha256") and hashlib.sha256(raw).hexdigest() != e["sha256"]:
            fail(key, "the data shard does not hold the bytes the facts name")
        return np.frombuffer(raw, dtype=np.dtype(TF_DTYPE[e["dtype"]])).reshape(e["shape"]).astype(e["dtype"])

    keras3_compare(out_path, json.loads(map_json), read)


# ---- pruning --------------------------------------------------------------------------------------------

def prune_check(in_path, out_path, conv, bn, nxt, k):
    k = int(k)
    src, dst = layer_arrays(in_path), layer_arrays(out_path)
    kernel = src[conv][0]
    c = kernel.shape[3]
    l1 = np.abs(kernel.astype(np.float64)).sum(axis=(0, 1, 2))
    pruned = sorted(np.argsort(l1, kind="stable")[:k])
    keep = [i for i in range(c) if i not in pruned]
    ok("%s: prune filters %s (L1 %s)" % (conv, [int(i) for i in pruned], np.round(l1, 4).tolist()))
    touched = {conv, nxt} | ({bn} if bn != "-" else set())
    same(conv + " kernel", dst[conv][0], kernel[..., keep])
    same(conv + " bias", dst[conv][1], src[conv][1][keep])
    if bn != "-":
        for i, a in enumerate(src[bn]):
            same("%s[%d]" % (bn, i), dst[bn][i], a[keep])
    nk = src[nxt][0]
    if nk.ndim == 4:
        same(nxt + " kernel input axis", dst[nxt][0], nk[:, :, keep, :])
    else:  # Dense after Flatten of an (h, w, c) map: row p * c + ch
        rows = [r for r in range(nk.shape[0]) if r % c in keep]
        same(nxt + " kernel rows", dst[nxt][0], nk[rows])
    same(nxt + " bias", dst[nxt][1], src[nxt][1])
    if list(src) != list(dst):
        fail("layers", "layer list changed")
    for layer in src:
        if layer not in touched:
            for i, a in enumerate(src[layer]):
                same("%s[%d] unchanged" % (layer, i), dst[layer][i], a)


# ---- transfer learning ----------------------------------------------------------------------------------

def transfer_check(in_path, out_path, head, classes):
    classes = int(classes)
    src, dst = layer_arrays(in_path), layer_arrays(out_path)
    for layer in src:
        if layer == head or not src[layer]:
            continue
        for i, a in enumerate(src[layer]):
            same("%s[%d] = file" % (layer, i), dst[layer][i], a)
    kernel, bias = dst[head]
    fan_in = src[head][0].shape[0]
    if kernel.shape != (fan_in, classes) or bias.shape != (classes,):
        fail(head, "shapes %s %s, expected (%d, %d) (%d,)" % (kernel.shape, bias.shape, fan_in, classes, classes))
    ok("%s shapes (%d, %d) (%d,)" % (head, fan_in, classes, classes))
    limit = np.sqrt(6.0 / (fan_in + classes))  # glorot_uniform, the Dense default
    if not (np.all(np.abs(kernel) <= limit) and np.std(kernel) > limit / 4):
        fail(head + " kernel", "not a fresh Glorot-uniform draw (limit %g, max %g, std %g)"
             % (limit, np.max(np.abs(kernel)), np.std(kernel)))
    ok(head + " kernel: fresh Glorot-uniform values")
    same(head + " bias: zeros", bias, np.zeros(classes, dtype=bias.dtype))


COMMANDS = {
    "torch-make": torch_make, "torch": torch_check, "keras1": keras1_check, "renamed": renamed_check,
    "keras3-h5": keras3_h5_check, "keras3-tf": keras3_tf_check, "prune": prune_check,
    "transfer": transfer_check,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        fail("usage", "recipes_check.py {%s} ARGS..." % "|".join(sorted(COMMANDS)))
    COMMANDS[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
