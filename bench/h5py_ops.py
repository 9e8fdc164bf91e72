"""The h5py side of the benchmark: one operation per process (run with /usr/bin/python3).

usage: h5py_ops.py load|walk|load3|walk3|write FILE [OUT]

  load   full load as Keras's loader walks the file: layer_names, then per layer weight_names,
         every dataset read into a numpy array and summed
  walk   metadata only: layer_names, weight_names, each dataset's shape and dtype
  load3  a Keras 3 .weights.h5 as Keras 3's loader reads it: every `vars` group (depth-first, an
         object's own `vars` before its children), datasets "0", "1", ... read and summed
  walk3  the same walk, metadata only
  write  reads FILE's tensors into memory (not timed), then writes them to OUT in the same
         Keras 2 layout as Keras's save_weights does (timed: create, write, close; "seconds"),
         then fsyncs OUT (timed too: "seconds_fsync" is create, write, close and fsync, the
         durability weightkit's writer always gives). Keras's h5py save does not fsync, so the
         benchmark's write target compares weightkit with "seconds" (plain h5py) and reports
         "seconds_fsync" beside it.

Prints one JSON line on stderr: {"seconds": time of the operation alone (after imports), "check": ...}
(write adds "seconds_fsync").
"""
import json
import os
import sys
import time

import h5py
import numpy as np

from keras2_h5 import load_attributes, write_weights


def load(path):
    total, n = 0.0, 0
    with h5py.File(path, "r") as f:
        for lname in load_attributes(f, "layer_names"):
            g = f[lname]
            for wname in load_attributes(g, "weight_names"):
                total += float(np.asarray(g[wname][()]).sum())
                n += 1
    return {"tensors": n, "sum": total}


def walk(path):
    n, numel = 0, 0
    with h5py.File(path, "r") as f:
        for lname in load_attributes(f, "layer_names"):
            g = f[lname]
            for wname in load_attributes(g, "weight_names"):
                d = g[wname]
                shape, dtype = d.shape, d.dtype
                numel += int(np.prod(shape)) if dtype.kind == "f" else 0
                n += 1
    return {"tensors": n, "numel": numel}


def keras3_vars(f):
    """Every `vars` group of a Keras 3 file, depth-first, each object's own `vars` first."""
    out = []

    def visit(g):
        if "vars" in g:
            out.append(g["vars"])
        for name in g:
            if name != "vars" and isinstance(g[name], h5py.Group):
                visit(g[name])
    visit(f)
    return out


def load3(path):
    total, n = 0.0, 0
    with h5py.File(path, "r") as f:
        for g in keras3_vars(f):
            for i in range(len(g)):
                total += float(np.asarray(g[str(i)][()]).sum())
                n += 1
    return {"tensors": n, "sum": total}


def walk3(path):
    n, numel = 0, 0
    with h5py.File(path, "r") as f:
        for g in keras3_vars(f):
            for i in range(len(g)):
                d = g[str(i)]
                numel += int(np.prod(d.shape))
                n += 1
    return {"tensors": n, "numel": numel}


def read_all(path):
    with h5py.File(path, "r") as f:
        return [(lname, [(w, f[lname][w][()]) for w in load_attributes(f[lname], "weight_names")])
                for lname in load_attributes(f, "layer_names")]


def main():
    op, path = sys.argv[1], sys.argv[2]
    if op == "write":
        layers = read_all(path)
        out = sys.argv[3]
        t0 = time.perf_counter()
        with h5py.File(out, "w") as f:
            write_weights(f, layers)
        seconds = time.perf_counter() - t0
        fd = os.open(out, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        seconds_fsync = time.perf_counter() - t0
        check = {"bytes": os.path.getsize(out)}
        print(json.dumps({"seconds": seconds, "seconds_fsync": seconds_fsync, "check": check}), file=sys.stderr)
        return
    t0 = time.perf_counter()
    check = {"load": load, "walk": walk, "load3": load3, "walk3": walk3}[op](path)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "check": check}), file=sys.stderr)


if __name__ == "__main__":
    main()
