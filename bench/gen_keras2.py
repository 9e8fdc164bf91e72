"""Makes the benchmark's weight files with h5py (run with /usr/bin/python3).

usage: gen_keras2.py DIR BIG_MB MANY_LAYERS MID_MB

  DIR/big.h5          ~BIG_MB MiB in ~150 layers (Conv2D, BatchNormalization, Dense in turn)
  DIR/many.h5         MANY_LAYERS small layers (Dense 8x8 + bias; every 4th a BatchNormalization)
  DIR/mid.h5          ~MID_MB MiB in ~300 layers (as big.h5)
  DIR/k3.weights.h5   the layers of mid.h5 in Keras 3's layout (layers/<name>/vars/0, 1, ...; an
                      empty root `vars`, as Keras 3 writes it)
Values are random float32 (seeded), so every file is the same from run to run. DIR/files.json
records each file's name, layers (for Keras 3: `vars` groups), tensors and weight bytes.
"""
import json
import sys

import h5py
import numpy as np

from keras2_h5 import write_weights


class Names:
    """tf.keras auto-names: dense, dense_1, dense_2, ..."""

    def __init__(self):
        self.counts = {}

    def __call__(self, prefix):
        n = self.counts.get(prefix, 0)
        self.counts[prefix] = n + 1
        return prefix if n == 0 else "%s_%d" % (prefix, n)


def rand(rng, shape):
    return rng.standard_normal(shape, dtype=np.float32)


def big_plan(total_bytes, nlayers, rng):
    """~total_bytes of float32 over nlayers layers: Conv2D, BatchNormalization, Dense in turn."""
    names = Names()
    heavy = max(1, (2 * nlayers) // 3)  # Conv2D and Dense layers carry the bytes
    per = max(4096, total_bytes // heavy)
    layers = []
    for i in range(nlayers):
        kind = i % 3
        if kind == 0:
            name, cout = names("conv2d"), 256
            cin = max(1, per // (4 * 9 * cout))
            ws = [("kernel", (3, 3, cin, cout)), ("bias", (cout,))]
        elif kind == 1:
            name, c = names("batch_normalization"), 256
            ws = [(w, (c,)) for w in ("gamma", "beta", "moving_mean", "moving_variance")]
        else:
            name, units = names("dense"), 1024
            rows = max(1, per // (4 * units))
            ws = [("kernel", (rows, units)), ("bias", (units,))]
        layers.append((name, [("%s/%s:0" % (name, w), rand(rng, s)) for w, s in ws]))
    return layers


def many_plan(nlayers, rng):
    names = Names()
    layers = []
    for i in range(nlayers):
        if i % 4 == 3:
            name = names("batch_normalization")
            ws = [(w, (8,)) for w in ("gamma", "beta", "moving_mean", "moving_variance")]
        else:
            name = names("dense")
            ws = [("kernel", (8, 8)), ("bias", (8,))]
        layers.append((name, [("%s/%s:0" % (name, w), rand(rng, s)) for w, s in ws]))
    return layers


def write(path, layers):
    with h5py.File(path, "w") as f:
        write_weights(f, layers)
    nbytes = sum(a.nbytes for _, ws in layers for _, a in ws)
    ntensors = sum(len(ws) for _, ws in layers)
    print("  %-8s %6d layers %7d tensors %10.1f MiB" % (path.rsplit("/", 1)[-1], len(layers),
                                                       ntensors, nbytes / 2**20), flush=True)
    return {"layers": len(layers), "tensors": ntensors, "bytes": nbytes}


def write_keras3(path, layers):
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        for name, ws in layers:
            g = f.create_group("layers/%s/vars" % name)
            for i, (_, a) in enumerate(ws):
                g[str(i)] = a
    nbytes = sum(a.nbytes for _, ws in layers for _, a in ws)
    ntensors = sum(len(ws) for _, ws in layers)
    print("  %-14s %6d objects %7d tensors %10.1f MiB" % (path.rsplit("/", 1)[-1], len(layers), ntensors,
                                                         nbytes / 2**20), flush=True)
    return {"layers": len(layers) + 1, "tensors": ntensors, "bytes": nbytes}


def main():
    out, big_mb, many, mid_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(20240601)
    mid = big_plan(mid_mb << 20, 300, rng)
    files = {
        "big": write(out + "/big.h5", big_plan(big_mb << 20, 150, rng)),
        "many": write(out + "/many.h5", many_plan(many, rng)),
        "mid": write(out + "/mid.h5", mid),
        "k3": write_keras3(out + "/k3.weights.h5", mid),
    }
    for key, name in (("big", "big.h5"), ("many", "many.h5"), ("mid", "mid.h5"), ("k3", "k3.weights.h5")):
        files[key]["file"] = name
    with open(out + "/files.json", "w") as fh:
        json.dump({"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version, "files": files}, fh)


if __name__ == "__main__":
    main()
